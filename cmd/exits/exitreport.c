/*
 * exitreport.c: `minivmm exits FILE`, the full exit report (exitreport.h): builds it. Reads an
 * exit log (exitlog.h), filters its exits (vCPU, reason, device, time window) and counts them
 * per reason with their handling times, per port/address, per vCPU, per device, per boot phase
 * and per time bucket, and keeps KVM's own statistics from the log. The other exitreport_*.c
 * print, compare and plot what it built (exitreport_int.h).
 *
 * Memory: the log is streamed twice (markers and statistics first, so that the second pass can
 * file each exit into its boot phase by time). What stays is 8 bytes per counted exit (its
 * handling time, kept per reason and sorted once, for the percentiles) and one hash entry per
 * distinct (address, direction), vCPU, (vCPU, reason) and (time bucket, reason).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exitreport_int.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

const struct exitlog_info *exitreport_info(const struct exitreport *r)
{
    return &r->info;
}

unsigned exitreport_reason_slot(uint32_t reason)
{
    return reason < NREASONS ? reason : NREASONS;
}

/* Pass 1: markers, KVM statistics, and the time span of all exits. */
static void pass1_exit(void *opaque, const struct exitlog_exit *e)
{
    struct exitreport *r = opaque;

    if (r->nexits_log == 0 || e->t_ns < r->log_first_ns)
        r->log_first_ns = e->t_ns;
    if (e->t_ns > r->log_last_ns)
        r->log_last_ns = e->t_ns;
    r->nexits_log++;
}

static void pass1_marker(void *opaque, const struct exitlog_marker *m)
{
    struct exitreport *r = opaque;

    if (r->err ||
        array_grow((void **)&r->markers, &r->cap_markers, r->nmarkers, sizeof(*r->markers), 16)) {
        r->err = -ENOMEM;
        return;
    }
    r->markers[r->nmarkers] = (struct marker){.m = *m, .seq = r->nmarkers};
    r->nmarkers++;
}

static void pass1_stat(void *opaque, const struct exitlog_stat *s)
{
    struct exitreport *r = opaque;

    if (r->o.filter.by_vcpu && s->vcpu != r->o.filter.vcpu)
        return;
    if (r->err || array_grow((void **)&r->stats, &r->cap_stats, r->nstats, sizeof(*r->stats), 64)) {
        r->err = -ENOMEM;
        return;
    }
    struct kstat *k = &r->stats[r->nstats];
    k->vcpu = s->vcpu;
    k->value = s->value;
    k->seq = r->nstats;
    memcpy(k->name, s->name, sizeof(k->name));
    k->name[sizeof(k->name) - 1] = '\0';
    r->nstats++;
}

/* Pass 2: the exits. */

/* The bus-map device an exit accessed: its index, DEV_NONE, or DEV_ANY for an exit that is no
 * PIO/MMIO access (HLT, SHUTDOWN, ...). */
static int device_of(const struct exitreport *r, const struct exitlog_exit *e)
{
    if (e->space != EXITLOG_SPACE_PIO && e->space != EXITLOG_SPACE_MMIO)
        return DEV_ANY;
    return exitlog_busmap_find(&r->info.map, e->space, e->addr);
}

static bool counted(const struct exitreport *r, const struct exitlog_exit *e, int dev)
{
    const struct exitreport_filter *f = &r->o.filter;

    if (f->by_vcpu && e->vcpu != f->vcpu)
        return false;
    if (f->by_reason && e->reason != f->reason)
        return false;
    if (e->t_ns < f->since_ns || e->t_ns >= f->until_ns)
        return false;
    return r->dev_filter == DEV_ANY || (dev != DEV_ANY && dev == r->dev_filter);
}

/* The phase an exit at t belongs to: the number of markers before t (markers sorted). */
static size_t phase_of(const struct exitreport *r, uint64_t t)
{
    size_t lo = 0, hi = r->nmarkers;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (r->markers[mid].m.t_ns < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void pass2_exit(void *opaque, const struct exitlog_exit *e)
{
    struct exitreport *r = opaque;
    int dev = device_of(r, e);

    if (r->err || !counted(r, e, dev))
        return;
    unsigned slot = exitreport_reason_slot(e->reason);
    struct reason_stat *rs = &r->reasons[slot];
    if (array_grow((void **)&rs->ns, &rs->cap, rs->len, sizeof(*rs->ns), 256)) {
        r->err = -ENOMEM;
        return;
    }
    rs->ns[rs->len++] = e->handle_ns;
    tally_add(&rs->t, e->handle_ns);
    tally_add(&r->total, e->handle_ns);
    if (dev != DEV_ANY) {
        struct tally *a = tmap_get(&r->addrs, e->addr, e->space | (uint64_t)e->dir << 8);
        if (!a) {
            r->err = -ENOMEM;
            return;
        }
        tally_add(a, e->handle_ns);
        tally_add(&r->devs[dev >= 0 ? (unsigned)dev : r->info.map.ndevs], e->handle_ns);
    }
    struct tally *v = tmap_get(&r->vcpus, e->vcpu, 0);
    struct tally *vr = tmap_get(&r->vreasons, e->vcpu, slot);
    struct tally *b = r->bucket_ns ? tmap_get(&r->timeline, e->t_ns / r->bucket_ns, slot) : NULL;
    if (!v || !vr || (r->bucket_ns && !b)) {
        r->err = -ENOMEM;
        return;
    }
    tally_add(v, e->handle_ns);
    tally_add(vr, e->handle_ns);
    if (b)
        tally_add(b, e->handle_ns);
    tally_add(&r->phases[phase_of(r, e->t_ns)], e->handle_ns);
    if (r->total.n == 1 || e->t_ns < r->first_ns)
        r->first_ns = e->t_ns;
    if (e->t_ns > r->last_ns)
        r->last_ns = e->t_ns;
}

static int cmp_marker(const void *pa, const void *pb)
{
    const struct marker *a = pa, *b = pb;

    if (a->m.t_ns != b->m.t_ns)
        return a->m.t_ns < b->m.t_ns ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_kstat(const void *pa, const void *pb)
{
    const struct kstat *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);

    if (c)
        return c;
    if (a->vcpu != b->vcpu)
        return a->vcpu < b->vcpu ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_kname(const void *pa, const void *pb)
{
    const struct kname *a = pa, *b = pb;

    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

    return a < b ? -1 : a > b;
}

/* Keeps the last record per (name, vCPU), groups them by name in KVM's order, and lists the
 * vCPUs that have statistics. */
static int index_stats(struct exitreport *r)
{
    size_t n = 0;

    sort(r->stats, r->nstats, sizeof(*r->stats), cmp_kstat);
    for (size_t i = 0; i < r->nstats; i++) {
        struct kstat k = r->stats[i];
        bool same =
            n && strcmp(r->stats[n - 1].name, k.name) == 0 && r->stats[n - 1].vcpu == k.vcpu;
        if (same) {
            k.seq = r->stats[n - 1].seq < k.seq ? r->stats[n - 1].seq : k.seq;
            r->stats[n - 1] = k; /* a later record of the same counter replaces it */
        } else {
            r->stats[n++] = k;
        }
    }
    r->nstats = n;
    r->knames = n ? calloc(n, sizeof(*r->knames)) : NULL;
    r->kcpus = n ? calloc(n, sizeof(*r->kcpus)) : NULL;
    if (n && (!r->knames || !r->kcpus))
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        struct kname *kn = r->nknames ? &r->knames[r->nknames - 1] : NULL;

        if (!kn || strcmp(kn->name, r->stats[i].name) != 0) {
            kn = &r->knames[r->nknames++];
            *kn = (struct kname){.name = r->stats[i].name, .first = i, .seq = r->stats[i].seq};
        }
        kn->n++;
        kn->total += r->stats[i].value;
        if (r->stats[i].seq < kn->seq)
            kn->seq = r->stats[i].seq;
        r->kcpus[i] = r->stats[i].vcpu;
    }
    sort(r->knames, r->nknames, sizeof(*r->knames), cmp_kname);
    sort(r->kcpus, n, sizeof(*r->kcpus), cmp_u32);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || r->kcpus[m - 1] != r->kcpus[i])
            r->kcpus[m++] = r->kcpus[i];
    r->nkcpus = m;
    return 0;
}

const struct kname *exitreport_kname_find(const struct exitreport *r, const char *name)
{
    for (size_t i = 0; i < r->nknames; i++)
        if (strcmp(r->knames[i].name, name) == 0)
            return &r->knames[i];
    return NULL;
}

const struct kstat *exitreport_kstat_find(const struct exitreport *r, const struct kname *kn,
                                      uint32_t vcpu)
{
    for (size_t i = kn->first; i < kn->first + kn->n; i++)
        if (r->stats[i].vcpu == vcpu)
            return &r->stats[i];
    return NULL;
}

/* 1, 2 or 5 times a power of ten ns, at least 1 us, near span / PLOT_BUCKETS. */
static uint64_t nice_bucket(uint64_t span)
{
    uint64_t want = span / PLOT_BUCKETS;

    for (uint64_t p = NS_PER_US; p <= UINT64_MAX / 10; p *= 10)
        for (unsigned m = 1; m <= 5; m += m == 1 ? 1 : 3)
            if (p * m >= want)
                return p * m;
    return want;
}

static int resolve_device(struct exitreport *r, char *err, size_t errlen)
{
    const struct exitlog_busmap *map = &r->info.map;
    const char *name = r->o.filter.device;
    char list[EXITLOG_MAX_DEVS * (EXITLOG_NAME_MAX + 2) + 16] = "";
    size_t len = 0;

    r->dev_filter = DEV_ANY;
    if (!name)
        return 0;
    if (strcasecmp(name, "none") == 0) {
        r->dev_filter = DEV_NONE;
        return 0;
    }
    for (unsigned i = 0; i < map->ndevs; i++) {
        if (strcasecmp(map->devs[i].name, name) == 0) {
            r->dev_filter = (int)i;
            return 0;
        }
        int w = snprintf(list + len, sizeof(list) - len, "%s, ", map->devs[i].name);
        if (w > 0 && (size_t)w < sizeof(list) - len)
            len += (size_t)w;
    }
    errmsg_set(err, errlen, "--device: '%s' is not in the log's bus map (%snone)", name, list);
    return -EINVAL;
}

int exitreport_build(struct exitreport **out, const struct exitreport_opts *o, char *err,
                     size_t errlen)
{
    const struct exitlog_visitor v1 = {
        .exit = pass1_exit, .marker = pass1_marker, .stat = pass1_stat};
    const struct exitlog_visitor v2 = {.exit = pass2_exit};
    struct exitreport *r;
    int ret;

    *out = NULL;
    errmsg_set(err, errlen, "%s", "");
    r = calloc(1, sizeof(*r));
    if (!r) {
        errmsg_set(err, errlen, "out of memory");
        return -ENOMEM;
    }
    r->o = *o;
    ret = exitlog_read(o->path, &r->info, &v1, r, err, errlen);
    if (ret)
        goto err_free;
    if (r->err)
        goto err_nomem;
    const struct exitreport_filter *f = &o->filter;
    if (f->by_vcpu && r->info.ncpus && f->vcpu >= r->info.ncpus) {
        errmsg_set(err, errlen, "--vcpu: %" PRIu32 " is not a vCPU of this log (it has %u: 0 to %u)",
               f->vcpu, r->info.ncpus, r->info.ncpus - 1);
        ret = -EINVAL;
        goto err_free;
    }
    ret = resolve_device(r, err, errlen);
    if (ret)
        goto err_free;
    sort(r->markers, r->nmarkers, sizeof(*r->markers), cmp_marker);
    r->phases = calloc(r->nmarkers + 1, sizeof(*r->phases));
    if (!r->phases || index_stats(r))
        goto err_nomem;
    if (o->timeline_ns) {
        r->bucket_ns = o->timeline_ns;
    } else if (o->plot) {
        uint64_t lo = r->log_first_ns > f->since_ns ? r->log_first_ns : f->since_ns;
        uint64_t hi = r->log_last_ns < f->until_ns ? r->log_last_ns : f->until_ns;
        r->bucket_ns = nice_bucket(hi > lo ? hi - lo : 0);
    }

    ret = exitlog_read(o->path, &r->info, &v2, r, err, errlen);
    if (ret)
        goto err_free;
    if (r->err)
        goto err_nomem;
    if (r->bucket_ns && r->total.n) {
        uint64_t nb = r->last_ns / r->bucket_ns - r->first_ns / r->bucket_ns + 1;
        if (nb > EXITREPORT_MAX_BUCKETS) {
            errmsg_set(err, errlen,
                   "--timeline: %" PRIu64 " buckets from the first exit to the last, at most %d: "
                   "give a longer bucket",
                   nb, EXITREPORT_MAX_BUCKETS);
            ret = -E2BIG;
            goto err_free;
        }
    }
    *out = r;
    return 0;

err_nomem:
    errmsg_set(err, errlen, "%s: out of memory", o->path);
    ret = -ENOMEM;
err_free:
    exitreport_free(r);
    return ret;
}

void exitreport_free(struct exitreport *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i <= NREASONS; i++)
        free(r->reasons[i].ns);
    free(r->addrs.slots);
    free(r->vcpus.slots);
    free(r->vreasons.slots);
    free(r->timeline.slots);
    free(r->markers);
    free(r->phases);
    free(r->stats);
    free(r->knames);
    free(r->kcpus);
    free(r);
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

    return a < b ? -1 : a > b;
}

void exitreport_sort_times(struct exitreport *r)
{
    if (r->sorted)
        return;
    for (unsigned i = 0; i <= NREASONS; i++)
        sort(r->reasons[i].ns, r->reasons[i].len, sizeof(uint64_t), cmp_u64);
    r->sorted = true;
}

/* The reason slots with counted exits, most samples first; returns how many. */
unsigned exitreport_reason_order(const struct exitreport *r, unsigned *order)
{
    unsigned n = 0;

    for (unsigned i = 0; i <= NREASONS; i++) {
        if (r->reasons[i].t.n == 0)
            continue;
        unsigned k = n++; /* insertion sort: stable, so equal counts stay by reason number */
        while (k > 0 && r->reasons[order[k - 1]].t.n < r->reasons[i].t.n) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    return n;
}

const char *exitreport_reason_label(unsigned slot, char *buf, size_t len)
{
    const char *name = exitlog_reason_name(slot);

    if (slot == NREASONS)
        snprintf(buf, len, "(other)");
    else if (slot != KVM_EXIT_UNKNOWN && strcmp(name, "UNKNOWN") == 0)
        snprintf(buf, len, "reason %u", slot);
    else
        snprintf(buf, len, "%s", name);
    return buf;
}

/* Calls row() for every bucket with counted exits (and, with `empty`, every bucket between them
 * too), with the counts of the reasons in order[0..nreasons); 0 or -ENOMEM. */
int exitreport_timeline_walk(const struct exitreport *r, const unsigned *order, unsigned nreasons,
                             bool empty,
                             void (*row)(void *ctx, uint64_t t_ns, const uint64_t *counts,
                                         uint64_t total),
                             void *ctx)
{
    int col_of[NREASONS + 1];
    size_t n, k = 0;
    const struct tslot **v = tmap_sorted(&r->timeline, &n, tmap_cmp_key);
    uint64_t *counts = calloc(nreasons + 1, sizeof(*counts));

    if ((r->timeline.len && !v) || !counts) {
        free(v);
        free(counts);
        return -ENOMEM;
    }
    for (unsigned i = 0; i <= NREASONS; i++)
        col_of[i] = -1;
    for (unsigned j = 0; j < nreasons; j++)
        col_of[order[j]] = (int)j;
    for (uint64_t b = r->first_ns / r->bucket_ns; n && b <= r->last_ns / r->bucket_ns; b++) {
        uint64_t total = 0;

        if (!empty && k < n && v[k]->k1 > b)
            b = v[k]->k1; /* skip to the next bucket with exits */

        memset(counts, 0, nreasons * sizeof(*counts));
        for (; k < n && v[k]->k1 == b; k++) {
            if (col_of[v[k]->k2] >= 0)
                counts[col_of[v[k]->k2]] += v[k]->t.n;
            total += v[k]->t.n;
        }
        row(ctx, b * r->bucket_ns, counts, total);
    }
    free(v);
    free(counts);
    return 0;
}

void exitreport_fmt_duration(char *buf, size_t len, uint64_t ns)
{
    if (ns % NS_PER_S == 0)
        snprintf(buf, len, "%" PRIu64 " s", ns / NS_PER_S);
    else if (ns % NS_PER_MS == 0)
        snprintf(buf, len, "%" PRIu64 " ms", ns / NS_PER_MS);
    else if (ns % NS_PER_US == 0)
        snprintf(buf, len, "%" PRIu64 " us", ns / NS_PER_US);
    else
        snprintf(buf, len, "%" PRIu64 " ns", ns);
}
