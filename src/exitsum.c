/*
 * exitsum.c: the exit summary: counts and handling time by exit reason, port/address, vCPU,
 * and the boot phases between markers, built from live exits or from a log, and printed.
 *
 * Invariants: a summary is owned by one thread (`minivmm run` keeps one per vCPU and merges them
 * after the vCPUs stopped), so nothing here locks. total.n is the sum of reasons[].n; every exit
 * with a PIO or MMIO space is counted in exactly one of addrs[0..naddrs) (distinct by space,
 * addr, dir) or other_addrs. addrs[] is kept unsorted but nudged towards hot entries (a found
 * entry swaps with its predecessor), so the handful of ports a guest hammers are found in a
 * few compares. markers[0..nmarkers) are sorted by t_ns (stable), marker_exits[] moves with
 * them. first_ns is UINT64_MAX until an exit or marker is seen (see exitsum_init).
 */
#include "exitsum.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define TOP_ADDRS 10
#define CPUS_PER_LINE 8

void exitsum_init(struct exitsum *s)
{
    memset(s, 0, sizeof(*s));
    s->first_ns = UINT64_MAX;
}

static void count_add(struct exitsum_count *c, uint64_t n, uint64_t ns)
{
    c->n += n;
    c->ns += ns;
}

static void span(struct exitsum *s, uint64_t first, uint64_t last)
{
    if (first < s->first_ns)
        s->first_ns = first;
    if (last > s->last_ns)
        s->last_ns = last;
}

static struct exitsum_addr *addr_slot(struct exitsum *s, uint8_t space, uint64_t addr, uint8_t dir)
{
    for (unsigned i = 0; i < s->naddrs; i++) {
        struct exitsum_addr *a = &s->addrs[i];

        if (a->addr != addr || a->space != space || a->dir != dir)
            continue;
        if (i > 0) {
            struct exitsum_addr tmp = s->addrs[i - 1];

            s->addrs[i - 1] = *a;
            *a = tmp;
            a = &s->addrs[i - 1];
        }
        return a;
    }
    if (s->naddrs >= EXITSUM_MAX_ADDRS)
        return NULL;
    struct exitsum_addr *a = &s->addrs[s->naddrs++];
    memset(a, 0, sizeof(*a));
    a->space = space;
    a->dir = dir;
    a->addr = addr;
    return a;
}

static void add_addr(struct exitsum *s, uint8_t space, uint64_t addr, uint8_t dir, uint64_t n,
                     uint64_t ns)
{
    struct exitsum_addr *a = addr_slot(s, space, addr, dir);

    count_add(a ? &a->c : &s->other_addrs, n, ns);
}

void exitsum_add_exit(struct exitsum *s, const struct exitlog_exit *rec)
{
    uint32_t reason = rec->reason < EXITSUM_MAX_REASONS ? rec->reason : EXITSUM_MAX_REASONS;

    count_add(&s->total, 1, rec->handle_ns);
    count_add(&s->reasons[reason], 1, rec->handle_ns);
    if (rec->space == EXITLOG_SPACE_PIO || rec->space == EXITLOG_SPACE_MMIO)
        add_addr(s, rec->space, rec->addr, rec->dir, 1, rec->handle_ns);
    if (rec->vcpu < EXITSUM_MAX_CPUS) {
        count_add(&s->cpus[rec->vcpu], 1, rec->handle_ns);
        if (rec->vcpu + 1 > s->ncpus)
            s->ncpus = rec->vcpu + 1;
    }
    if (rec->flags & EXITLOG_F_UNCLAIMED)
        s->unclaimed++;
    span(s, rec->t_ns, rec->t_ns);
}

/* Inserts after every marker with t_ns <= rec's (stable); drops the latest when full. */
static void insert_marker(struct exitsum *s, const struct exitlog_marker *rec, uint64_t exits)
{
    unsigned i = s->nmarkers < EXITSUM_MAX_MARKERS ? s->nmarkers : EXITSUM_MAX_MARKERS;

    while (i > 0 && s->markers[i - 1].t_ns > rec->t_ns)
        i--;
    if (i >= EXITSUM_MAX_MARKERS)
        return;
    unsigned n = s->nmarkers < EXITSUM_MAX_MARKERS ? s->nmarkers : EXITSUM_MAX_MARKERS - 1;
    memmove(&s->markers[i + 1], &s->markers[i], (n - i) * sizeof(s->markers[0]));
    memmove(&s->marker_exits[i + 1], &s->marker_exits[i], (n - i) * sizeof(s->marker_exits[0]));
    s->markers[i] = *rec;
    s->marker_exits[i] = exits;
    s->nmarkers = n + 1;
}

void exitsum_add_marker(struct exitsum *s, const struct exitlog_marker *rec, uint64_t exits_before)
{
    insert_marker(s, rec, exits_before);
    span(s, rec->t_ns, rec->t_ns);
}

void exitsum_merge(struct exitsum *dst, const struct exitsum *src)
{
    if (src->total.n == 0 && src->nmarkers == 0)
        return;
    count_add(&dst->total, src->total.n, src->total.ns);
    for (unsigned i = 0; i <= EXITSUM_MAX_REASONS; i++)
        count_add(&dst->reasons[i], src->reasons[i].n, src->reasons[i].ns);
    unsigned naddrs = src->naddrs < EXITSUM_MAX_ADDRS ? src->naddrs : EXITSUM_MAX_ADDRS;
    for (unsigned i = 0; i < naddrs; i++) {
        const struct exitsum_addr *a = &src->addrs[i];

        add_addr(dst, a->space, a->addr, a->dir, a->c.n, a->c.ns);
    }
    count_add(&dst->other_addrs, src->other_addrs.n, src->other_addrs.ns);
    unsigned ncpus = src->ncpus < EXITSUM_MAX_CPUS ? src->ncpus : EXITSUM_MAX_CPUS;
    for (unsigned i = 0; i < ncpus; i++)
        count_add(&dst->cpus[i], src->cpus[i].n, src->cpus[i].ns);
    if (ncpus > dst->ncpus)
        dst->ncpus = ncpus;
    dst->unclaimed += src->unclaimed;
    unsigned nmarkers = src->nmarkers < EXITSUM_MAX_MARKERS ? src->nmarkers : EXITSUM_MAX_MARKERS;
    for (unsigned i = 0; i < nmarkers; i++)
        insert_marker(dst, &src->markers[i], src->marker_exits[i]);
    span(dst, src->first_ns, src->last_ns);
}

/* ---- printing ---- */

/* "8.1" style fixed-point of ns in the given unit, without floating-point surprises on huge
 * values: the integer part is exact, the fraction has `digits` digits. */
static void fmt_fixed(char *buf, size_t len, uint64_t ns, uint64_t unit, unsigned digits)
{
    uint64_t scale = 1;

    for (unsigned i = 0; i < digits; i++)
        scale *= 10;
    /* Round to the nearest last digit; unit / scale is >= 1 for the units used here. */
    uint64_t step = unit / scale;
    uint64_t q = ns / step + (ns % step >= (step + 1) / 2);
    if (digits)
        snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64, q / scale, (int)digits, q % scale);
    else
        snprintf(buf, len, "%" PRIu64, q);
}

/* Percentage of part in whole with one decimal ("97.2"). */
static void fmt_pct(char *buf, size_t len, uint64_t part, uint64_t whole)
{
    if (whole == 0) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%.1f", (double)part * 100.0 / (double)whole);
}

static void print_count_cols(FILE *f, const struct exitsum_count *c)
{
    char ms[32], us[32];

    fmt_fixed(ms, sizeof(ms), c->ns, 1000000, 3);
    fmt_fixed(us, sizeof(us), c->n ? c->ns / c->n : 0, 1000, 1);
    fprintf(f, " %10s %9s\n", ms, us);
}

static int cmp_reason(const void *pa, const void *pb)
{
    const struct exitsum_count *a = *(const struct exitsum_count *const *)pa;
    const struct exitsum_count *b = *(const struct exitsum_count *const *)pb;

    if (a->n != b->n)
        return a->n > b->n ? -1 : 1;
    return a < b ? -1 : a > b; /* same count: by reason number */
}

static void print_reasons(FILE *f, const struct exitsum *s)
{
    const struct exitsum_count *order[EXITSUM_MAX_REASONS + 1];
    unsigned n = 0;

    for (unsigned i = 0; i <= EXITSUM_MAX_REASONS; i++)
        if (s->reasons[i].n)
            order[n++] = &s->reasons[i];
    qsort(order, n, sizeof(order[0]), cmp_reason);
    fprintf(f, "  %-16s %9s %6s %10s %9s\n", "reason", "count", "%", "time(ms)", "mean(us)");
    for (unsigned k = 0; k < n; k++) {
        const struct exitsum_count *c = order[k];
        unsigned i = (unsigned)(c - s->reasons);
        char name[32], pct[16];

        const char *rn = exitlog_reason_name(i);
        if (i == EXITSUM_MAX_REASONS)
            snprintf(name, sizeof(name), "(other)");
        else if (i != 0 && strcmp(rn, "UNKNOWN") == 0)
            snprintf(name, sizeof(name), "reason %u", i);
        else
            snprintf(name, sizeof(name), "%s", rn);
        fmt_pct(pct, sizeof(pct), c->n, s->total.n);
        fprintf(f, "  %-16s %9" PRIu64 " %6s", name, c->n, pct);
        print_count_cols(f, c);
    }
}

static int cmp_addr(const void *pa, const void *pb)
{
    const struct exitsum_addr *a = *(const struct exitsum_addr *const *)pa;
    const struct exitsum_addr *b = *(const struct exitsum_addr *const *)pb;

    if (a->c.n != b->c.n)
        return a->c.n > b->c.n ? -1 : 1;
    if (a->space != b->space)
        return a->space < b->space ? -1 : 1;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    return a->dir < b->dir ? -1 : a->dir > b->dir;
}

static void print_addrs(FILE *f, const struct exitsum *s, const struct exitlog_busmap *map)
{
    const struct exitsum_addr *order[EXITSUM_MAX_ADDRS];
    unsigned n = 0;

    for (unsigned i = 0; i < s->naddrs && i < EXITSUM_MAX_ADDRS; i++)
        if (s->addrs[i].c.n)
            order[n++] = &s->addrs[i];
    if (n == 0 && s->other_addrs.n == 0)
        return;
    qsort(order, n, sizeof(order[0]), cmp_addr);
    fprintf(f, "top ports/addresses:%31s %10s %9s\n", "count", "time(ms)", "mean(us)");
    for (unsigned i = 0; i < n && i < TOP_ADDRS; i++) {
        const struct exitsum_addr *a = order[i];
        char addr[24], name[EXITLOG_NAME_MAX + EXITLOG_REGNAME_MAX + 32];

        snprintf(addr, sizeof(addr), "0x%" PRIx64, a->addr);
        exitlog_busmap_name(map, a->space, a->addr, a->dir, name, sizeof(name));
        fprintf(f, "  %-10s %-28s %9" PRIu64, addr, name, a->c.n);
        print_count_cols(f, &a->c);
    }
    /* Everything below the top ten, and what did not fit in the table, in one line. */
    struct exitsum_count rest = s->other_addrs;
    for (unsigned i = TOP_ADDRS; i < n; i++)
        count_add(&rest, order[i]->c.n, order[i]->c.ns);
    if (rest.n) {
        fprintf(f, "  %-10s %-28s %9" PRIu64, "...", "(other addresses)", rest.n);
        print_count_cols(f, &rest);
    }
}

static void print_cpus(FILE *f, const struct exitsum *s)
{
    unsigned shown = 0;

    for (unsigned i = 0; i < s->ncpus && i < EXITSUM_MAX_CPUS; i++) {
        if (s->cpus[i].n == 0)
            continue;
        if (shown % CPUS_PER_LINE == 0)
            fprintf(f, "%s", shown ? "\n       " : "vcpus:");
        else
            fprintf(f, ",");
        fprintf(f, " %u: %" PRIu64 " exits", i, s->cpus[i].n);
        shown++;
    }
    if (shown)
        fprintf(f, "\n");
}

static void print_phases(FILE *f, const struct exitsum *s)
{
    unsigned n = s->nmarkers < EXITSUM_MAX_MARKERS ? s->nmarkers : EXITSUM_MAX_MARKERS;
    uint64_t first = s->first_ns == UINT64_MAX ? 0 : s->first_ns;
    uint64_t prev_t = first, prev_exits = 0;

    if (n == 0)
        return;
    fprintf(f, "boot phases:%30s %9s %9s\n", "at(ms)", "+ms", "exits");
    for (unsigned i = 0; i < n; i++) {
        const struct exitlog_marker *m = &s->markers[i];
        const char *pn = exitlog_phase_name(m->code);
        char name[32], at[32], delta[32];

        if (pn)
            snprintf(name, sizeof(name), "%s", pn);
        else
            snprintf(name, sizeof(name), "phase %" PRIu32, m->code);
        fmt_fixed(at, sizeof(at), m->t_ns > first ? m->t_ns - first : 0, 1000000, 3);
        fmt_fixed(delta, sizeof(delta), m->t_ns > prev_t ? m->t_ns - prev_t : 0, 1000000, 3);
        /* Counts from different vCPUs' summaries need not be monotonic after sorting by time. */
        uint64_t exits = s->marker_exits[i] > prev_exits ? s->marker_exits[i] - prev_exits : 0;
        fprintf(f, "  %-26s %13s %9s %9" PRIu64 "\n", name, at, delta, exits);
        prev_t = m->t_ns;
        if (s->marker_exits[i] > prev_exits)
            prev_exits = s->marker_exits[i];
    }
}

void exitsum_print(FILE *f, const struct exitsum *s, const struct exitlog_busmap *map,
                   uint64_t wall_ns)
{
    char ms[32];

    fmt_fixed(ms, sizeof(ms), s->total.ns, 1000000, 1);
    fprintf(f, "exits: %" PRIu64 " in %s ms handling", s->total.n, ms);
    if (wall_ns) {
        char pct[16], wall[32];

        fmt_pct(pct, sizeof(pct), s->total.ns, wall_ns);
        fmt_fixed(wall, sizeof(wall), wall_ns, 1000000, 1);
        fprintf(f, " (%s%% of %s ms wall)", pct, wall);
    }
    fprintf(f, "\n");
    if (s->total.n) {
        print_reasons(f, s);
        print_addrs(f, s, map);
    }
    if (s->unclaimed)
        fprintf(f, "unclaimed accesses: %" PRIu64 " (no device at that port/address)\n",
                s->unclaimed);
    print_cpus(f, s);
    print_phases(f, s);
}
