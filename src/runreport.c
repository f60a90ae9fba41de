/*
 * runreport.c: what `minivmm run` tells about the run while and after it runs: the live view
 * of exit rates (--exit-stats-interval), KVM's own statistics (into the exit log and beside
 * our counts), and the end-of-run summary.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "exitlog.h"
#include "exitsum.h"
#include "kvmstats.h"
#include "minivmm/util.h"
#include "runreport.h"
#include "vcpu.h"
#include "vm.h"

/* Exits so far, all vCPUs and reasons (relaxed reads of the live counters). */
uint64_t runreport_exits(struct vm *vm, uint64_t *by_reason)
{
    uint64_t total = 0;
    if (by_reason)
        memset(by_reason, 0, (EXITSUM_MAX_REASONS + 1) * sizeof(*by_reason));
    for (unsigned i = 0; i < vm->ncpus; i++)
        for (unsigned r = 0; r <= EXITSUM_MAX_REASONS; r++) {
            uint64_t n = __atomic_load_n(&vm->vcpus[i].live[r], __ATOMIC_RELAXED);
            total += n;
            if (by_reason)
                by_reason[r] += n;
        }
    return total;
}

/* One live-view line: exits per second by reason since the previous line. */
static void live_view(struct vm *vm, uint64_t *prev, uint64_t *prev_ns)
{
    uint64_t now[EXITSUM_MAX_REASONS + 1], t = now_ns();
    uint64_t total = runreport_exits(vm, now), prev_total = 0;
    double dt = (double)(t - *prev_ns) / 1e9;
    char line[512];
    int n = 0;

    for (unsigned r = 0; r <= EXITSUM_MAX_REASONS; r++)
        prev_total += prev[r];
    n += snprintf(line + n, sizeof(line) - (size_t)n, "minivmm: [%8.3fs] %9.0f exits/s",
                  (double)(t - vm->t0_ns) / 1e9, (double)(total - prev_total) / dt);
    for (unsigned r = 0; r <= EXITSUM_MAX_REASONS && n < (int)sizeof(line) - 40; r++) {
        if (now[r] == prev[r])
            continue;
        n += snprintf(line + n, sizeof(line) - (size_t)n, "  %s %.0f",
                      r == EXITSUM_MAX_REASONS ? "other" : exitlog_reason_name(r),
                      (double)(now[r] - prev[r]) / dt);
    }
    fprintf(stderr, "%s\n", line);
    memcpy(prev, now, sizeof(now));
    *prev_ns = t;
}

/* Waits for the VM to stop or for SIGINT/SIGTERM/SIGHUP; prints the live view meanwhile. */
void runreport_wait(struct vm *vm, int sig_fd, double interval)
{
    struct pollfd p[2] = {{.fd = vm->stop_fd, .events = POLLIN}, {.fd = sig_fd, .events = POLLIN}};
    uint64_t prev[EXITSUM_MAX_REASONS + 1] = {0}, prev_ns = vm->t0_ns;
    int timeout_ms = interval > 0 ? (int)(interval * 1000 + 0.5) : -1;
    uint64_t next_ns = vm->t0_ns + (uint64_t)(interval * 1e9);
    for (;;) {
        if (interval > 0) {
            uint64_t t = now_ns();
            if (t >= next_ns) {
                live_view(vm, prev, &prev_ns);
                next_ns += (uint64_t)(interval * 1e9);
                if (next_ns <= t)
                    next_ns = t + (uint64_t)(interval * 1e9);
            }
            /* A line slower than the interval leaves next_ns in the past: wait 0 ms then,
             * never a wrapped (huge or negative, i.e. endless) timeout. */
            uint64_t t_now = now_ns();
            timeout_ms = next_ns > t_now ? (int)((next_ns - t_now) / 1000000) + 1 : 0;
        }
        int r = poll(p, 2, timeout_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            continue;
        if (r < 0 || (p[0].revents & POLLIN))
            return;
        if (p[1].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                if (!vm->quiet)
                    fprintf(stderr, "minivmm: terminating on signal %u\n", si.ssi_signo);
                vm_stop(vm, 128 + (int)si.ssi_signo);
            }
            return;
        }
    }
}

/* KVM's own per-vCPU statistics: into the exit log as stats records, and a few totals for
 * the summary, printed beside our counts. */
static const char *const kvm_stat_names[] = {"exits",      "io_exits",  "mmio_exits",
                                             "halt_exits", "irq_exits", "insn_emulation"};
#define NR_KVM_STATS (ARRAY_SIZE(kvm_stat_names))

_Static_assert(NR_KVM_STATS == RUNREPORT_KVM_STATS, "runreport.h's RUNREPORT_KVM_STATS");

static void on_kvm_stat(void *opaque, const char *name, uint64_t value)
{
    struct kvm_stat_ctx *c = opaque;
    if (c->vm->log) {
        struct exitlog_stat st = {.t_ns = c->t_ns, .vcpu = c->vcpu, .value = value};
        snprintf(st.name, sizeof(st.name), "%s", name);
        exitlog_stat(c->vm->log, &st);
    }
    for (size_t i = 0; i < NR_KVM_STATS; i++)
        if (strcmp(name, kvm_stat_names[i]) == 0) {
            c->totals[i] += value;
            c->seen[i] = true;
        }
}

void runreport_collect_kvm_stats(struct vm *vm, struct kvm_stat_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    c->t_ns = now_ns() - vm->t0_ns;
    if (!vm->kvm.has_stats)
        return;
    for (unsigned i = 0; i < vm->ncpus; i++) {
        c->vcpu = i;
        kvmstats_read(vm->vcpus[i].fd, on_kvm_stat, c);
    }
}

static void print_kvm_stats(const struct kvm_stat_ctx *c, const struct exitsum *ours)
{
    char line[256];
    int n = snprintf(line, sizeof(line), "KVM's counts (all vCPUs):");
    bool any = false;
    for (size_t i = 0; i < NR_KVM_STATS; i++)
        if (c->seen[i]) {
            n += snprintf(line + n, sizeof(line) - (size_t)n, " %s %llu", kvm_stat_names[i],
                          (unsigned long long)c->totals[i]);
            any = true;
        }
    if (!any)
        return;
    fprintf(stderr, "%s\n", line);
    /* KVM's io_exits against our IO count: they differ where KVM does not count PIO exits
     * (PVM hosts) or counts intercepts that never reach us (string PIO, ioeventfd). */
    uint64_t our_io = ours->reasons[KVM_EXIT_IO].n;
    if (c->seen[1] && c->totals[1] != our_io)
        fprintf(stderr, "note: KVM counts %llu PIO exits, minivmm handled %llu%s\n",
                (unsigned long long)c->totals[1], (unsigned long long)our_io,
                c->totals[1] == 0       ? " (on PVM hosts KVM's statistics do not count PIO exits)"
                : c->totals[1] > our_io ? " (" KVMSTATS_IO_EXITS_WHY_MORE ")"
                                        : "");
}

/* "minivmm: irqs: xfer N (pin P n, ...)": IOAPIC deliveries between the xfer markers. */
static void print_xfer_irqs(struct vm *vm)
{
    uint64_t total = 0;
    pthread_mutex_lock(&vm->marker_lock);
    if (vm->ic.mode == KVM_IRQCHIP_SPLIT && vm->xfer_seen[0] && vm->xfer_seen[1]) {
        for (unsigned p = 0; p < IOAPIC_NUM_PINS; p++)
            total += vm->xfer_irqs[1][p] - vm->xfer_irqs[0][p];
        fprintf(stderr, "minivmm: irqs: xfer %" PRIu64, total);
        for (unsigned p = 0, n = 0; p < IOAPIC_NUM_PINS; p++)
            if (vm->xfer_irqs[1][p] != vm->xfer_irqs[0][p])
                fprintf(stderr, "%spin %u %" PRIu64, n++ ? ", " : " (", p,
                        vm->xfer_irqs[1][p] - vm->xfer_irqs[0][p]);
        fprintf(stderr, "%s\n", total ? ")" : "");
    }
    if (vm->nics && vm->xfer_seen[0] && vm->xfer_seen[1])
        fprintf(stderr, "minivmm: kicks: xfer %" PRIu64 "\n",
                vm->xfer_kicks[1] - vm->xfer_kicks[0]);
    pthread_mutex_unlock(&vm->marker_lock);
}

void runreport_summary(struct vm *vm, uint64_t wall_ns, const struct kvm_stat_ctx *kst)
{
    struct exitsum *all = malloc(sizeof(*all));
    if (!all)
        return;
    exitsum_init(all);
    for (unsigned i = 0; i < vm->ncpus; i++)
        exitsum_merge(all, &vm->vcpus[i].sum);
    exitsum_merge(all, &vm->markers);
    exitsum_print(stderr, all, &vm->map, wall_ns);
    print_xfer_irqs(vm);
    print_kvm_stats(kst, all);
    free(all);
}
