/*
 * kvmstats.h: reading a vCPU's (or VM's) KVM binary statistics (KVM_GET_STATS_FD).
 */
#ifndef MINIVMM_KVMSTATS_H
#define MINIVMM_KVMSTATS_H

#include <stdint.h>

/* Calls cb(opaque, name, value) for every single-valued statistic of the object behind `fd`
 * (a vCPU or VM fd). Histograms (size > 1) are skipped. Returns the number of statistics
 * reported, or -errno (-ENOTTY when the kernel has no binary statistics). */
/* Why KVM's io_exits can exceed the PIO exits minivmm handles (measured in tools/kvmbox, SVM,
 * with KVM's kvm_exit/kvm_pio tracepoints: 290 intercepts of the guest's `rep outsb` for 264
 * bytes in 27 instructions): KVM re-enters the guest after each element of a string PIO
 * instruction, and the instruction then traps once more with its count done, doing no I/O;
 * port writes to an ioeventfd also end in the kernel. Neither reaches the VMM. */
#define KVMSTATS_IO_EXITS_WHY_MORE                                                         \
    "KVM also counts one intercept per rep ins/outs that does no I/O (the re-execution "   \
    "that finds its count done) and port writes to ioeventfds; neither reaches minivmm"

int kvmstats_read(int fd, void (*cb)(void *opaque, const char *name, uint64_t value),
                  void *opaque);

#endif
