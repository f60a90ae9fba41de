/*
 * benchlinux.h: `minivmm bench boot --linux KERNEL --initrd FILE` (benchlinux.c).
 */
#ifndef MINIVMM_BENCHLINUX_H
#define MINIVMM_BENCHLINUX_H

#include <stdbool.h>

struct bench_paths;

struct benchlinux_opts {
    const char *kernel; /* a bzImage or a PVH vmlinux */
    const char *initrd;
    const char *mark; /* the initramfs's first console line (default "check: init started") */
    const char *qemu; /* NULL: minivmm alone */
    unsigned long runs;
    unsigned cpus;
    bool verbose;
};

/* Boots Linux with the initramfs under minivmm and QEMU microvm (ACPI on), interleaved, and
 * prints medians of spawn → the mark on the console and spawn → exit (the initramfs powers
 * off), and QEMU's time over minivmm's. The exit status of `minivmm bench boot`. */
int benchlinux_run(const struct bench_paths *p, const struct benchlinux_opts *o);

#endif
