/*
 * exitsum.h: the exit summary: counts and handling time by exit reason, by port/address, by
 * vCPU, and boot phases. `minivmm run` keeps one per vCPU (no locking), merges them at the end
 * and prints the short summary with exitsum_print. `minivmm exits FILE` prints the full report
 * of a log instead (exitreport.h).
 */
#ifndef MINIVMM_EXITSUM_H
#define MINIVMM_EXITSUM_H

#include <stdint.h>
#include <stdio.h>

#include "exitlog.h"

#define EXITSUM_MAX_REASONS 128 /* KVM_EXIT_* values below this; others count as UNKNOWN */
#define EXITSUM_MAX_ADDRS 256   /* distinct (space, addr, dir); more go to "other" */
#define EXITSUM_MAX_CPUS 256
#define EXITSUM_MAX_MARKERS 64

struct exitsum_count {
    uint64_t n;
    uint64_t ns;
};

struct exitsum_addr {
    uint8_t space;
    uint8_t dir;
    uint64_t addr;
    struct exitsum_count c;
};

struct exitsum {
    struct exitsum_count total;
    struct exitsum_count reasons[EXITSUM_MAX_REASONS + 1]; /* last: unknown reasons */
    struct exitsum_addr addrs[EXITSUM_MAX_ADDRS];
    unsigned naddrs;
    struct exitsum_count other_addrs;
    struct exitsum_count cpus[EXITSUM_MAX_CPUS];
    unsigned ncpus; /* highest vCPU seen + 1 */
    uint64_t unclaimed;
    struct exitlog_marker markers[EXITSUM_MAX_MARKERS];
    uint64_t marker_exits[EXITSUM_MAX_MARKERS]; /* exits seen (all vCPUs) before each marker */
    unsigned nmarkers;
    uint64_t first_ns, last_ns; /* time span of the exits and markers seen */
};

void exitsum_init(struct exitsum *s);
void exitsum_add_exit(struct exitsum *s, const struct exitlog_exit *rec);
/* Records a boot-phase marker; `exits_before` is the number of exits (all vCPUs) that came
 * before it, so the report can say how many exits each phase took. */
void exitsum_add_marker(struct exitsum *s, const struct exitlog_marker *rec, uint64_t exits_before);
void exitsum_merge(struct exitsum *dst, const struct exitsum *src);
/* Prints the short summary: exits by reason, top ports/addresses named from the map (ports and
 * addresses in hex), per vCPU, boot phases with time and exits between markers, time in the
 * VMM. `wall_ns` (0 = unknown) is the run's length, for the share of time in the VMM. */
void exitsum_print(FILE *f, const struct exitsum *s, const struct exitlog_busmap *map,
                   uint64_t wall_ns);

#endif
