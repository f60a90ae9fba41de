/*
 * runreport.h: what `minivmm run` reports about a run (runreport.c): live exit rates, KVM's
 * statistics, the summary at the end. All of it on stderr.
 */
#ifndef MINIVMM_RUNREPORT_H
#define MINIVMM_RUNREPORT_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

#define RUNREPORT_KVM_STATS 6

/* KVM's per-vCPU statistics read at the end of a run: totals of the few the summary shows. */
struct kvm_stat_ctx {
    struct vm *vm;
    unsigned vcpu;
    uint64_t t_ns;
    uint64_t totals[RUNREPORT_KVM_STATS];
    bool seen[RUNREPORT_KVM_STATS];
};

/* Exits so far, all vCPUs; by_reason (EXITSUM_MAX_REASONS + 1 entries, or NULL) per reason.
 * Relaxed reads of the vCPUs' live counters: callable while they run. */
uint64_t runreport_exits(struct vm *vm, uint64_t *by_reason);
/* Waits for the VM to stop or for SIGINT/SIGTERM/SIGHUP on sig_fd (then stops it with
 * 128 + signal); every `interval` seconds (0: never) prints a live-view line. */
void runreport_wait(struct vm *vm, int sig_fd, double interval);
/* Reads KVM's statistics of every vCPU into c, and into the exit log as stats records. */
void runreport_collect_kvm_stats(struct vm *vm, struct kvm_stat_ctx *c);
/* The end-of-run summary: exits by reason, phases, IOAPIC deliveries of the xfer, KVM's
 * counts beside ours. */
void runreport_summary(struct vm *vm, uint64_t wall_ns, const struct kvm_stat_ctx *kst);

#endif
