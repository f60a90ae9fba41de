/*
 * kvmstats.h: reading a vCPU's (or VM's) KVM binary statistics (KVM_GET_STATS_FD).
 */
#ifndef MINIVMM_KVMSTATS_H
#define MINIVMM_KVMSTATS_H

#include <stdint.h>

/* Calls cb(opaque, name, value) for every single-valued statistic of the object behind `fd`
 * (a vCPU or VM fd). Histograms (size > 1) are skipped. Returns the number of statistics
 * reported, or -errno (-ENOTTY when the kernel has no binary statistics). */
int kvmstats_read(int fd, void (*cb)(void *opaque, const char *name, uint64_t value),
                  void *opaque);

#endif
