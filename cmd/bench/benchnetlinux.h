/*
 * benchnetlinux.h: `minivmm bench net --linux KERNEL --initrd FILE` (benchnetlinux.c).
 */
#ifndef MINIVMM_BENCHNETLINUX_H
#define MINIVMM_BENCHNETLINUX_H

#include <stdbool.h>

struct bench_paths;

#define BENCHNETLINUX_MAX_SIZES 4

struct benchnetlinux_opts {
    const char *kernel; /* a bzImage or a PVH vmlinux */
    const char *initrd; /* tools/linux-guest --init netsend */
    const char *qemu;   /* NULL: minivmm alone */
    unsigned long count, runs;
    unsigned long sizes[BENCHNETLINUX_MAX_SIZES];
    unsigned nsizes;
    bool verbose;
};

/* Linux sends o->count UDP frames of each size through minivmm's VF and QEMU's
 * virtio-net-device to a sink on 127.0.0.1, interleaved; prints medians of frames/s, MB/s,
 * exits and interrupts per KiB and minivmm over QEMU. The exit status of `minivmm bench net`. */
int benchnetlinux_run(const struct bench_paths *p, const struct benchnetlinux_opts *o);

#endif
