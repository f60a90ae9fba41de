/*
 * benchdev.h: the bench device behind `minivmm run --bench-device[=ioeventfd]`, the VMM half
 * of `minivmm bench exits` (registers in abi.h MINIVMM_BENCH_*, address in memmap.h).
 *
 * Never part of a normal run: the VMM creates it only when asked, and puts benchdev_bus_ops on
 * the bench PIO ports and MMIO page (src/board.c); EXIT writes are counted and otherwise ignored, so a guest
 * loop of them measures the bare exit-and-dispatch path. In ioeventfd mode the KICK
 * registers become KVM ioeventfds (datamatch-free, 4 bytes) drained by one thread, so KICK
 * writes do not return to userspace at all. Registering them has a one-off cost on our
 * hosts (docs/host-notes.md: ~5.5 ms at the next memory-slot update, ~14 ms at the
 * teardown of a VM younger than ~15 ms), which is why they are not registered otherwise.
 */
#ifndef MINIVMM_BENCHDEV_H
#define MINIVMM_BENCHDEV_H

#include <stddef.h>
#include <stdio.h>

#include "minivmm/hw/bus.h"

enum benchdev_mode {
    BENCHDEV_OFF = 0,   /* no device (normal runs) */
    BENCHDEV_EXITS,     /* --bench-device: EXIT and KICK both exit to the VMM */
    BENCHDEV_IOEVENTFD, /* --bench-device=ioeventfd: KICK writes go to ioeventfds */
};

/* The drain thread's name (also barekvm's): `minivmm bench exits` places it by this name. */
#define BENCHDEV_THREAD_NAME "bench-drain"

struct benchdev;

/* Creates the device (before the vCPUs start) and, in ioeventfd mode, the ioeventfds on vm_fd
 * and the thread draining them. 0 or -errno with a reason in err; *out is NULL on failure. */
int benchdev_create(struct benchdev **out, int vm_fd, enum benchdev_mode mode, char *err,
                    size_t errlen);
/* After the vCPUs have stopped: stops the thread and frees the device (NULL is ignored).
 * With `report`, prints one line of counts there. */
void benchdev_destroy(struct benchdev *d, FILE *report);

/* The device's registers, on both windows (offsets MINIVMM_BENCH_EXIT and _KICK). */
extern const struct bus_dev_ops benchdev_bus_ops;
extern const struct bus_reg benchdev_regs[];
extern const unsigned benchdev_nregs;

#endif
