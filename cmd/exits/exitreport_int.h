/*
 * exitreport_int.h: what the files of the exits report share (exitreport.h is the API):
 * exitreport.c builds the report, exitreport_print.c prints its tables through the emitter
 * (minivmm/out.h), exitreport_kvm.c sets KVM's statistics beside our counts, exitreport_plot.c
 * draws it with gnuplot, exitreport_args.c parses the command line.
 *
 * Invariants: total.n is the sum of reasons[].t.n and of phases[0..nmarkers]; every counted
 * exit with a PIO or MMIO space is in exactly one addrs entry and one devs[] slot (devs[ndevs]
 * is "no device").
 */
#ifndef MINIVMM_EXITREPORT_INT_H
#define MINIVMM_EXITREPORT_INT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "exitreport.h"
#include "exitsum.h"
#include "minivmm/out.h"
#include "tmap.h"
#include "minivmm/util.h"

#define NREASONS EXITSUM_MAX_REASONS /* reasons[NREASONS] holds reasons beyond the table */
#define TABLE_MAX_STAT_CPUS 8        /* per-vCPU columns of KVM's counts in the table format */
#define PLOT_BUCKETS 100             /* the plot's timeline aims at about this many buckets */
/* Device numbers besides the bus-map indices: a device filter's "any" (also: an exit that
 * accessed no address) and "none" (an address no device claims). */
enum { DEV_ANY = -2, DEV_NONE = -1 };
#define NS_PER_US UINT64_C(1000)
#define NS_PER_MS UINT64_C(1000000)
#define NS_PER_S UINT64_C(1000000000)

struct reason_stat {
    struct tally t;
    uint64_t *ns; /* handling times of the counted exits; sorted once before printing */
    size_t len, cap;
};

struct marker {
    struct exitlog_marker m;
    uint64_t seq; /* file order, so that sorting by time is stable */
};

struct kstat {
    uint32_t vcpu;
    uint64_t value;
    uint64_t seq;
    char name[EXITLOG_STATNAME_MAX];
};

/* One KVM statistic: its records (one per vCPU, the last written wins) in stats[first..+n). */
struct kname {
    const char *name;
    size_t first, n;
    uint64_t seq; /* first appearance, for KVM's own order */
    uint64_t total;
};

struct exitreport {
    struct exitreport_opts o;
    struct exitlog_info info;
    int dev_filter;     /* DEV_ANY, DEV_NONE ("none") or a device index */
    uint64_t bucket_ns; /* timeline (printed or plotted); 0: none */
    uint64_t nexits_log, log_first_ns, log_last_ns; /* every exit in the log */
    uint64_t first_ns, last_ns;                     /* the counted exits */
    struct tally total;
    struct reason_stat reasons[NREASONS + 1];
    struct tally devs[EXITLOG_MAX_DEVS + 1];
    struct tmap addrs;    /* (addr, space | dir << 8) */
    struct tmap vcpus;    /* (vcpu, 0) */
    struct tmap vreasons; /* (vcpu, reason slot) */
    struct tmap timeline; /* (bucket, reason slot) */
    struct marker *markers;
    size_t nmarkers, cap_markers;
    struct tally *phases; /* [i < nmarkers]: the span ending at markers[i]; [nmarkers]: after */
    struct kstat *stats;
    size_t nstats, cap_stats;
    struct kname *knames;
    size_t nknames;
    uint32_t *kcpus; /* vCPUs with statistics, ascending */
    size_t nkcpus;
    bool sorted;
    int err; /* -ENOMEM met inside a visitor */
};

/* qsort that accepts an empty (possibly NULL) array. */
static inline void sort(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(v, n, sz, cmp);
}


/* exitreport.c */
/* The reasons[] slot of a KVM exit reason: itself, or NREASONS beyond the table. */
unsigned exitreport_reason_slot(uint32_t reason);
/* Sorts every reason's handling times, once (for the percentiles). */
void exitreport_sort_times(struct exitreport *r);
/* The reason slots with counted exits, most samples first; returns how many. */
unsigned exitreport_reason_order(const struct exitreport *r, unsigned *order);
/* "IO", "(other)" for NREASONS, "reason N" for numbers without a name; returns buf. */
const char *exitreport_reason_label(unsigned slot, char *buf, size_t len);
/* A KVM statistic by name, and its record of one vCPU; NULL when absent. */
const struct kname *exitreport_kname_find(const struct exitreport *r, const char *name);
const struct kstat *exitreport_kstat_find(const struct exitreport *r, const struct kname *kn,
                                          uint32_t vcpu);
/* Calls row() for every bucket with counted exits, in time order (and, with `empty`, for every
 * bucket between the first and the last of them, as the plot's steps need), with the counts of
 * the reasons in order[0..nreasons); 0 or -ENOMEM. */
int exitreport_timeline_walk(const struct exitreport *r, const unsigned *order, unsigned nreasons,
                             bool empty,
                             void (*row)(void *ctx, uint64_t t_ns, const uint64_t *counts,
                                         uint64_t total),
                             void *ctx);
/* "5 ms", "500 us", "1 s", "250 ns": ns in the largest unit that divides it. */
void exitreport_fmt_duration(char *buf, size_t len, uint64_t ns);

/* exitreport_kvm.c */
/* KVM's statistics, beside ours where they count the same events, with notes where the two
 * disagree (the kvm_stats, kvm_compare and notes tables). */
void exitreport_print_kvm(struct out *o, const struct exitreport *r);

#endif
