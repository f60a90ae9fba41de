/*
 * exitreport.c: `minivmm exits FILE`, the full exit report. Reads an exit log (exitlog.h),
 * filters its exits (vCPU, reason, device, time window) and reports them per reason with
 * handling-time percentiles, per port/address named from the log's bus map, per vCPU, per
 * device and per boot phase, sets KVM's own statistics beside our counts and says where the
 * two disagree, optionally adds a timeline of exits per time bucket, and prints all that as a
 * table, CSV or JSON; exitreport_plot() draws it with gnuplot.
 *
 * Memory: the log is streamed twice (markers and statistics first, so that the second pass can
 * file each exit into its boot phase by time). What stays is 8 bytes per counted exit (its
 * handling time, kept per reason and sorted once, for the percentiles) and one hash entry per
 * distinct (address, direction), vCPU, (vCPU, reason) and (time bucket, reason).
 *
 * Invariants: total.n is the sum of reasons[].t.n and of phases[0..nmarkers]; every counted
 * exit with a PIO or MMIO space is in exactly one addrs entry and one devs[] slot (devs[ndevs]
 * is "no device"). Every table goes through one emitter (struct out) that prints the same rows
 * as a table, CSV or JSON, so the formats cannot drift apart; ports and addresses are hex
 * strings ("0x3f8") in all three.
 */
#include "minivmm/errmsg.h"
#include "exitreport.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmdline.h"
#include "exitsum.h"
#include "kvmstats.h"
#include "minivmm/json.h"
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

extern char **environ;


/* ---- parsing ---- */

int exitreport_parse_duration(const char *s, uint64_t *ns)
{
    uint64_t ip = 0, frac = 0, fscale = 1, unit;
    bool digits = false, overflow = false;
    const char *p = s;

    if (!s || !ns)
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        digits = true;
        if (ip > (UINT64_MAX - d) / 10)
            overflow = true;
        else
            ip = ip * 10 + d;
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++) {
            digits = true;
            if (fscale < NS_PER_S) { /* finer than a nanosecond: dropped */
                frac = frac * 10 + (uint64_t)(*p - '0');
                fscale *= 10;
            }
        }
    }
    if (!digits)
        return -EINVAL;
    if (*p == '\0' || strcmp(p, "s") == 0)
        unit = NS_PER_S;
    else if (strcmp(p, "ms") == 0)
        unit = NS_PER_MS;
    else if (strcmp(p, "us") == 0)
        unit = NS_PER_US;
    else if (strcmp(p, "ns") == 0)
        unit = 1;
    else
        return -EINVAL;
    if (overflow || ip > UINT64_MAX / unit)
        return -ERANGE;
    uint64_t whole = ip * unit;
    uint64_t part = frac * unit / fscale; /* frac < 10^9 and unit <= 10^9: no overflow */
    if (whole > UINT64_MAX - part)
        return -ERANGE;
    *ns = whole + part;
    return 0;
}

int exitreport_parse_reason(const char *s, uint32_t *reason)
{
    unsigned n;

    if (!s || !reason)
        return -EINVAL;
    if (strncasecmp(s, "KVM_EXIT_", 9) == 0)
        s += 9;
    if (*s >= '0' && *s <= '9') {
        if (cmdline_parse_uint(s, 0, NREASONS - 1, &n))
            return -EINVAL;
        *reason = n;
        return 0;
    }
    for (uint32_t i = 0; i < NREASONS; i++) {
        const char *name = exitlog_reason_name(i);

        if (i != KVM_EXIT_UNKNOWN && strcmp(name, "UNKNOWN") == 0)
            continue;
        if (strcasecmp(name, s) == 0) {
            *reason = i;
            return 0;
        }
    }
    return -EINVAL;
}

enum {
    OPT_VCPU = 256,
    OPT_REASON,
    OPT_DEVICE,
    OPT_SINCE,
    OPT_UNTIL,
    OPT_FORMAT,
    OPT_TIMELINE,
    OPT_PLOT,
};

int exitreport_parse_args(int argc, char **argv, struct exitreport_opts *o, char *err,
                          size_t errlen)
{
    static const struct option longopts[] = {
        {"vcpu", required_argument, NULL, OPT_VCPU},
        {"reason", required_argument, NULL, OPT_REASON},
        {"device", required_argument, NULL, OPT_DEVICE},
        {"since", required_argument, NULL, OPT_SINCE},
        {"until", required_argument, NULL, OPT_UNTIL},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"timeline", required_argument, NULL, OPT_TIMELINE},
        {"plot", required_argument, NULL, OPT_PLOT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct exitreport_filter *f = &o->filter;
    bool has_since = false, has_until = false;
    unsigned v;
    int c;

    *o = (struct exitreport_opts){.filter.until_ns = UINT64_MAX};
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_VCPU:
            if (cmdline_parse_uint(optarg, 0, UINT32_MAX, &v)) {
                errmsg_set(err, errlen, "--vcpu: '%s' is not a vCPU number (0, 1, ...)", optarg);
                return -EINVAL;
            }
            f->by_vcpu = true;
            f->vcpu = v;
            break;
        case OPT_REASON:
            if (exitreport_parse_reason(optarg, &f->reason)) {
                errmsg_set(err, errlen,
                       "--reason: '%s' is not a KVM exit reason (e.g. io, mmio, hlt, shutdown, "
                       "ioapic_eoi)",
                       optarg);
                return -EINVAL;
            }
            f->by_reason = true;
            break;
        case OPT_DEVICE:
            f->device = optarg;
            break;
        case OPT_SINCE:
        case OPT_UNTIL: {
            uint64_t *t = c == OPT_SINCE ? &f->since_ns : &f->until_ns;

            if (exitreport_parse_duration(optarg, t)) {
                errmsg_set(err, errlen,
                       "%s: '%s' is not a time since the start (seconds, e.g. 0.5, or 20ms, "
                       "500us)",
                       c == OPT_SINCE ? "--since" : "--until", optarg);
                return -EINVAL;
            }
            *(c == OPT_SINCE ? &has_since : &has_until) = true;
            break;
        }
        case OPT_FORMAT:
            if (strcmp(optarg, "table") == 0)
                o->format = EXITREPORT_TABLE;
            else if (strcmp(optarg, "csv") == 0)
                o->format = EXITREPORT_CSV;
            else if (strcmp(optarg, "json") == 0)
                o->format = EXITREPORT_JSON;
            else {
                errmsg_set(err, errlen, "--format: '%s' is not table, csv or json", optarg);
                return -EINVAL;
            }
            break;
        case OPT_TIMELINE:
            if (exitreport_parse_duration(optarg, &o->timeline_ns) || o->timeline_ns == 0) {
                errmsg_set(err, errlen,
                       "--timeline: '%s' is not a bucket length above zero (e.g. 1ms, 500us, "
                       "0.01s)",
                       optarg);
                return -EINVAL;
            }
            break;
        case OPT_PLOT:
            o->plot = optarg;
            break;
        case 'h':
            return 1;
        case ':':
            errmsg_set(err, errlen, "option '%s' needs a value (see minivmm --help)", argv[optind - 1]);
            return -EINVAL;
        default:
            errmsg_set(err, errlen, "unknown option '%s' (see minivmm --help)", argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind >= argc) {
        errmsg_set(err, errlen, "exits: no log file given (minivmm exits FILE [options])");
        return -EINVAL;
    }
    if (optind + 1 < argc) {
        errmsg_set(err, errlen, "exits: unexpected argument '%s' (one log file at a time)",
               argv[optind + 1]);
        return -EINVAL;
    }
    o->path = argv[optind];
    if (has_since && has_until && f->since_ns >= f->until_ns) {
        errmsg_set(err, errlen, "--since must be before --until");
        return -EINVAL;
    }
    return 0;
}

uint64_t exitreport_percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
    if (n == 0)
        return 0;
    if (pct > 100)
        pct = 100;
    /* rank = ceil(pct * n / 100), in 128 bits so that n near 2^64 cannot overflow. */
    unsigned __int128 rank = ((unsigned __int128)pct * n + 99) / 100;
    if (rank < 1)
        rank = 1;
    return sorted[(size_t)rank - 1];
}

/* ---- containers ---- */

/* qsort that accepts an empty (possibly NULL) array. */
static void sort(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(v, n, sz, cmp);
}

struct tally {
    uint64_t n, ns, min, max;
};

static void tally_add(struct tally *t, uint64_t ns)
{
    if (t->n == 0 || ns < t->min)
        t->min = ns;
    if (ns > t->max)
        t->max = ns;
    t->n++;
    t->ns += ns;
}

/* Open-addressing hash of tallies keyed by two integers; grows at half full. */
struct tslot {
    uint64_t k1, k2;
    struct tally t;
    bool used;
};

struct tmap {
    struct tslot *slots;
    size_t cap, len;
};

static size_t tmap_hash(uint64_t k1, uint64_t k2)
{
    uint64_t x = k1 * 0x9e3779b97f4a7c15ull ^ (k2 + 0x632be59bd9b4e019ull);

    x ^= x >> 31; /* splitmix64's finaliser */
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (size_t)x;
}

static struct tslot *tmap_probe(struct tslot *slots, size_t cap, uint64_t k1, uint64_t k2)
{
    size_t mask = cap - 1;

    for (size_t i = tmap_hash(k1, k2) & mask;; i = (i + 1) & mask)
        if (!slots[i].used || (slots[i].k1 == k1 && slots[i].k2 == k2))
            return &slots[i];
}

static int tmap_grow(struct tmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct tslot *slots = calloc(cap, sizeof(*slots));

    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            *tmap_probe(slots, cap, m->slots[i].k1, m->slots[i].k2) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* The tally of (k1, k2), created empty on first use; NULL when out of memory. */
static struct tally *tmap_get(struct tmap *m, uint64_t k1, uint64_t k2)
{
    if ((m->len + 1) * 2 > m->cap && tmap_grow(m))
        return NULL;
    struct tslot *s = tmap_probe(m->slots, m->cap, k1, k2);
    if (!s->used) {
        s->used = true;
        s->k1 = k1;
        s->k2 = k2;
        m->len++;
    }
    return &s->t;
}

static const struct tally *tmap_find(const struct tmap *m, uint64_t k1, uint64_t k2)
{
    if (m->cap == 0)
        return NULL;
    const struct tslot *s = tmap_probe(m->slots, m->cap, k1, k2);
    return s->used ? &s->t : NULL;
}

/* The used slots, sorted by cmp; *n their number. NULL with *n == 0 when empty or no memory. */
static const struct tslot **tmap_sorted(const struct tmap *m, size_t *n,
                                        int (*cmp)(const void *, const void *))
{
    const struct tslot **v = m->len ? malloc(m->len * sizeof(*v)) : NULL;

    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            v[(*n)++] = &m->slots[i];
    sort(v, *n, sizeof(*v), cmp);
    return v;
}

static int cmp_slot_count(const void *pa, const void *pb)
{
    const struct tslot *a = *(const struct tslot *const *)pa, *b = *(const struct tslot *const *)pb;

    if (a->t.n != b->t.n)
        return a->t.n > b->t.n ? -1 : 1;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

static int cmp_slot_key(const void *pa, const void *pb)
{
    const struct tslot *a = *(const struct tslot *const *)pa, *b = *(const struct tslot *const *)pb;

    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

/* Grows *v (elements of size sz) to hold one more than *len; 0 or -ENOMEM. */
static int grow(void **v, size_t *cap, size_t len, size_t sz, size_t first)
{
    if (len < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : first;
    void *p = ncap > SIZE_MAX / sz ? NULL : realloc(*v, ncap * sz);
    if (!p)
        return -ENOMEM;
    *v = p;
    *cap = ncap;
    return 0;
}

/* ---- the report ---- */

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

const struct exitlog_info *exitreport_info(const struct exitreport *r)
{
    return &r->info;
}

static unsigned reason_slot(uint32_t reason)
{
    return reason < NREASONS ? reason : NREASONS;
}

static bool filtered_by_time_reason_device(const struct exitreport *r)
{
    const struct exitreport_filter *f = &r->o.filter;

    return f->by_reason || f->device || f->since_ns || f->until_ns != UINT64_MAX;
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
        grow((void **)&r->markers, &r->cap_markers, r->nmarkers, sizeof(*r->markers), 16)) {
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
    if (r->err || grow((void **)&r->stats, &r->cap_stats, r->nstats, sizeof(*r->stats), 64)) {
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
    unsigned slot = reason_slot(e->reason);
    struct reason_stat *rs = &r->reasons[slot];
    if (grow((void **)&rs->ns, &rs->cap, rs->len, sizeof(*rs->ns), 256)) {
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

static const struct kname *kname_find(const struct exitreport *r, const char *name)
{
    for (size_t i = 0; i < r->nknames; i++)
        if (strcmp(r->knames[i].name, name) == 0)
            return &r->knames[i];
    return NULL;
}

static const struct kstat *kstat_find(const struct exitreport *r, const struct kname *kn,
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

static void sort_times(struct exitreport *r)
{
    if (r->sorted)
        return;
    for (unsigned i = 0; i <= NREASONS; i++)
        sort(r->reasons[i].ns, r->reasons[i].len, sizeof(uint64_t), cmp_u64);
    r->sorted = true;
}

/* The reason slots with counted exits, most samples first; returns how many. */
static unsigned reason_order(const struct exitreport *r, unsigned *order)
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

static const char *reason_label(unsigned slot, char *buf, size_t len)
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

/* ---- the emitter: one table, three formats ---- */

enum col_kind { COL_STR, COL_HEX, COL_U64, COL_US, COL_MS, COL_PCT, COL_BOOL };

struct col {
    const char *key;  /* CSV heading and JSON member */
    const char *head; /* table heading; NULL: CSV and JSON only */
    enum col_kind kind;
    const char *none; /* table text for a missing value; NULL: "-" */
};

struct cell {
    bool none; /* no value: the column's `none` in tables, empty in CSV, null in JSON */
    const char *s;
    uint64_t u; /* COL_HEX, COL_U64; ns for COL_US and COL_MS */
    double d;   /* COL_PCT */
};

static struct cell cell_s(const char *s) /* NULL: no value */
{
    return (struct cell){.s = s, .none = !s};
}

static struct cell cell_u(uint64_t u)
{
    return (struct cell){.u = u};
}

static struct cell cell_d(double d)
{
    return (struct cell){.d = d};
}

#define CELL_NONE ((struct cell){.none = true})

struct out {
    FILE *f;
    enum exitreport_format fmt;
    unsigned nkeys;     /* JSON: members of the top-level object so far */
    unsigned nsections; /* CSV: sections so far */
    const char *name;
    const struct col *cols;
    unsigned ncols;
    bool one; /* JSON: a single object instead of an array of rows */
    uint64_t nrows;
    char **cells; /* table format: formatted cells, row-major, printed by out_end */
    size_t ncells, cap;
    int err;
};

/* ns in `unit` with `digits` decimals, rounded, in integer arithmetic. */
static void fmt_fixed(char *buf, size_t len, uint64_t ns, uint64_t unit, unsigned digits)
{
    uint64_t scale = 1;

    for (unsigned i = 0; i < digits; i++)
        scale *= 10;
    uint64_t step = unit / scale; /* >= 1 for the units and digits used here */
    uint64_t q = ns / step + (ns % step >= (step + 1) / 2);
    if (digits)
        snprintf(buf, len, "%" PRIu64 ".%0*" PRIu64, q / scale, (int)digits, q % scale);
    else
        snprintf(buf, len, "%" PRIu64, q);
}

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

static void csv_str(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

/* A number or hex cell as text; `table` picks the table's shorter decimals. */
static void fmt_num(char *buf, size_t len, enum col_kind kind, const struct cell *c, bool table)
{
    switch (kind) {
    case COL_HEX:
        snprintf(buf, len, "0x%" PRIx64, c->u);
        break;
    case COL_U64:
        snprintf(buf, len, "%" PRIu64, c->u);
        break;
    case COL_US:
        fmt_fixed(buf, len, c->u, NS_PER_US, table ? 2 : 3);
        break;
    case COL_MS:
        fmt_fixed(buf, len, c->u, NS_PER_MS, table ? 3 : 6);
        break;
    case COL_PCT:
        snprintf(buf, len, "%.2f", c->d);
        break;
    case COL_BOOL:
        snprintf(buf, len, "%s", c->u ? "true" : "false");
        break;
    case COL_STR:
        snprintf(buf, len, "%s", c->s);
        break;
    }
}

static void json_key(struct out *o, const char *key)
{
    fprintf(o->f, "%s\n  ", o->nkeys++ ? "," : "");
    json_fput_str(o->f, key, JSON_ASCII);
    fputs(": ", o->f);
}

static void out_open(struct out *o, FILE *f, enum exitreport_format fmt)
{
    *o = (struct out){.f = f, .fmt = fmt};
    if (fmt == EXITREPORT_JSON)
        fputc('{', f);
}

static void out_close(struct out *o)
{
    if (o->fmt == EXITREPORT_JSON)
        fputs("\n}\n", o->f);
}

/* Starts a table. name: CSV table name and JSON member (NULL in JSON: the caller wrote the
 * member name); title: the table format's heading line (NULL: none). */
static void out_begin(struct out *o, const char *name, const char *title, const struct col *cols,
                      unsigned ncols, bool one)
{
    o->name = name;
    o->cols = cols;
    o->ncols = ncols;
    o->one = one;
    o->nrows = 0;
    switch (o->fmt) {
    case EXITREPORT_TABLE:
        if (title)
            fprintf(o->f, "\n%s\n", title);
        break;
    case EXITREPORT_CSV:
        if (o->nsections++)
            fputc('\n', o->f);
        fputs("table", o->f);
        for (unsigned i = 0; i < ncols; i++) {
            fputc(',', o->f);
            csv_str(o->f, cols[i].key);
        }
        fputc('\n', o->f);
        break;
    case EXITREPORT_JSON:
        if (name)
            json_key(o, name);
        if (!one)
            fputc('[', o->f);
        break;
    }
}

static void out_row(struct out *o, const struct cell *cells)
{
    char buf[64];

    if (o->fmt == EXITREPORT_TABLE) {
        for (unsigned i = 0; i < o->ncols; i++) {
            const struct col *c = &o->cols[i];
            const struct cell *v = &cells[i];
            char *s;

            if (!c->head)
                continue;
            if (grow((void **)&o->cells, &o->cap, o->ncells, sizeof(*o->cells), 64)) {
                o->err = -ENOMEM;
                return;
            }
            if (v->none) {
                s = strdup(c->none ? c->none : "-");
            } else if (c->kind == COL_STR) {
                s = strdup(v->s);
                for (char *p = s; p && *p; p++) /* names from a file: no terminal controls */
                    if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
            } else {
                fmt_num(buf, sizeof(buf), c->kind, v, true);
                s = strdup(buf);
            }
            if (!s) {
                o->err = -ENOMEM;
                return;
            }
            o->cells[o->ncells++] = s;
        }
    } else if (o->fmt == EXITREPORT_CSV) {
        csv_str(o->f, o->name);
        for (unsigned i = 0; i < o->ncols; i++) {
            fputc(',', o->f);
            if (cells[i].none)
                continue;
            if (o->cols[i].kind == COL_STR) {
                csv_str(o->f, cells[i].s);
            } else {
                fmt_num(buf, sizeof(buf), o->cols[i].kind, &cells[i], false);
                fputs(buf, o->f);
            }
        }
        fputc('\n', o->f);
    } else {
        fputs(o->one ? "{" : o->nrows ? ",\n    {" : "\n    {", o->f);
        for (unsigned i = 0; i < o->ncols; i++) {
            const struct col *c = &o->cols[i];

            if (i)
                fputs(", ", o->f);
            json_fput_str(o->f, c->key, JSON_ASCII);
            fputs(": ", o->f);
            if (cells[i].none) {
                fputs("null", o->f);
            } else if (c->kind == COL_STR) {
                json_fput_str(o->f, cells[i].s, JSON_ASCII);
            } else {
                fmt_num(buf, sizeof(buf), c->kind, &cells[i], false);
                if (c->kind == COL_HEX)
                    json_fput_str(o->f, buf, JSON_ASCII);
                else
                    fputs(buf, o->f);
            }
        }
        fputc('}', o->f);
    }
    o->nrows++;
}

/* Prints a buffered table: two-space indent, columns two spaces apart, text left-aligned,
 * numbers right-aligned, no trailing blanks. */
static void print_cells(struct out *o)
{
    unsigned nshown = 0, *map = calloc(o->ncols, sizeof(*map));
    size_t *width = calloc(o->ncols, sizeof(*width));

    if (!map || !width) {
        o->err = -ENOMEM;
        goto out;
    }
    for (unsigned i = 0; i < o->ncols; i++)
        if (o->cols[i].head) {
            map[nshown] = i;
            width[nshown++] = strlen(o->cols[i].head);
        }
    if (nshown == 0)
        goto out;
    for (size_t k = 0; k < o->ncells; k++) {
        size_t w = strlen(o->cells[k]);

        if (w > width[k % nshown])
            width[k % nshown] = w;
    }
    size_t nrows = o->ncells / nshown;
    for (size_t row = 0; row <= nrows; row++) {
        fputs("  ", o->f);
        for (unsigned j = 0; j < nshown; j++) {
            const struct col *c = &o->cols[map[j]];
            const char *s = row == 0 ? c->head : o->cells[(row - 1) * nshown + j];
            bool left = c->kind == COL_STR || c->kind == COL_HEX;
            bool last = j + 1 == nshown;

            if (left && last)
                fputs(s, o->f);
            else
                fprintf(o->f, left ? "%-*s" : "%*s", (int)width[j], s);
            if (!last)
                fputs("  ", o->f);
        }
        fputc('\n', o->f);
    }
out:
    free(map);
    free(width);
}

static void out_end(struct out *o)
{
    switch (o->fmt) {
    case EXITREPORT_TABLE:
        if (o->ncells)
            print_cells(o);
        else
            fputs("  (none)\n", o->f);
        for (size_t i = 0; i < o->ncells; i++)
            free(o->cells[i]);
        o->ncells = 0;
        break;
    case EXITREPORT_CSV:
        break;
    case EXITREPORT_JSON:
        if (!o->one)
            fputs(o->nrows ? "\n  ]" : "]", o->f);
        break;
    }
}

/* ---- the report's tables ---- */

static const char *space_name(uint8_t space)
{
    return space == EXITLOG_SPACE_PIO ? "pio" : space == EXITLOG_SPACE_MMIO ? "mmio" : "none";
}

static const char *dir_name(uint8_t dir)
{
    return dir == EXITLOG_DIR_READ ? "read" : dir == EXITLOG_DIR_WRITE ? "write" : "none";
}

/* Samples, shares and min/mean/max of one tally: the columns most tables end with. */
/* clang-format off */
#define TALLY_COLS                                                                                \
    {"samples", "samples", COL_U64, NULL},                                                        \
    {"samples_pct", "samples%", COL_PCT, NULL},                                                   \
    {"time_pct", "time%", COL_PCT, NULL},                                                         \
    {"total_us", NULL, COL_US, NULL},                                                             \
    {"min_us", "min(us)", COL_US, NULL},                                                          \
    {"mean_us", "mean(us)", COL_US, NULL},                                                        \
    {"max_us", "max(us)", COL_US, NULL}
/* clang-format on */
#define NTALLY_COLS 7

static void tally_cells(const struct exitreport *r, const struct tally *t, struct cell *c)
{
    c[0] = cell_u(t->n);
    c[1] = cell_d(pct(t->n, r->total.n));
    c[2] = cell_d(pct(t->ns, r->total.ns));
    c[3] = cell_u(t->ns);
    if (t->n) {
        c[4] = cell_u(t->min);
        c[5] = cell_u(t->ns / t->n);
        c[6] = cell_u(t->max);
    } else {
        c[4] = c[5] = c[6] = CELL_NONE;
    }
}

static void print_log_info(struct out *o, const struct exitreport *r)
{
    static const struct col cols[] = {
        {"path", NULL, COL_STR, NULL},       {"version", NULL, COL_U64, NULL},
        {"ncpus", NULL, COL_U64, NULL},      {"records", NULL, COL_U64, NULL},
        {"skipped", NULL, COL_U64, NULL},    {"exits", NULL, COL_U64, NULL},
        {"counted", NULL, COL_U64, NULL},    {"time_us", NULL, COL_US, NULL},
        {"first_ms", NULL, COL_MS, NULL},    {"last_ms", NULL, COL_MS, NULL},
        {"truncated", NULL, COL_BOOL, NULL}, {"truncated_offset", NULL, COL_U64, NULL},
    };
    const struct exitlog_info *in = &r->info;
    struct cell c[] = {
        cell_s(r->o.path),
        cell_u(in->version),
        cell_u(in->ncpus),
        cell_u(in->nrecords),
        cell_u(in->nskipped),
        cell_u(r->nexits_log),
        cell_u(r->total.n),
        cell_u(r->total.ns),
        r->total.n ? cell_u(r->first_ns) : CELL_NONE,
        r->total.n ? cell_u(r->last_ns) : CELL_NONE,
        cell_u(in->truncated),
        in->truncated ? cell_u(in->trunc_offset) : CELL_NONE,
    };

    out_begin(o, "log", NULL, cols, ARRAY_SIZE(cols), true);
    out_row(o, c);
    out_end(o);
}

static void print_filters(struct out *o, const struct exitreport *r)
{
    static const struct col cols[] = {
        {"vcpu", NULL, COL_U64, NULL},    {"reason", NULL, COL_STR, NULL},
        {"device", NULL, COL_STR, NULL},  {"since_ms", NULL, COL_MS, NULL},
        {"until_ms", NULL, COL_MS, NULL}, {"timeline_bucket_us", NULL, COL_US, NULL},
    };
    const struct exitreport_filter *f = &r->o.filter;
    char reason[32];
    struct cell c[] = {
        f->by_vcpu ? cell_u(f->vcpu) : CELL_NONE,
        f->by_reason ? cell_s(reason_label(reason_slot(f->reason), reason, sizeof(reason)))
                     : CELL_NONE,
        cell_s(f->device),
        f->since_ns ? cell_u(f->since_ns) : CELL_NONE,
        f->until_ns != UINT64_MAX ? cell_u(f->until_ns) : CELL_NONE,
        r->o.timeline_ns ? cell_u(r->o.timeline_ns) : CELL_NONE,
    };

    out_begin(o, "filters", NULL, cols, ARRAY_SIZE(cols), true);
    out_row(o, c);
    out_end(o);
}

static void print_reasons(struct out *o, struct exitreport *r)
{
    static const struct col cols[] = {
        {"reason", "reason", COL_STR, NULL},   {"code", NULL, COL_U64, NULL},
        {"samples", "samples", COL_U64, NULL}, {"samples_pct", "samples%", COL_PCT, NULL},
        {"time_pct", "time%", COL_PCT, NULL},  {"total_us", NULL, COL_US, NULL},
        {"min_us", "min(us)", COL_US, NULL},   {"mean_us", "mean(us)", COL_US, NULL},
        {"p50_us", "p50(us)", COL_US, NULL},   {"p99_us", "p99(us)", COL_US, NULL},
        {"max_us", "max(us)", COL_US, NULL},
    };
    unsigned order[NREASONS + 1];
    unsigned n = reason_order(r, order);

    sort_times(r);
    out_begin(o, "reasons", "exit reasons (handling: KVM_RUN's return to the next KVM_RUN):", cols,
              ARRAY_SIZE(cols), false);
    for (unsigned k = 0; k < n; k++) {
        const struct reason_stat *rs = &r->reasons[order[k]];
        char name[32];
        struct cell t[NTALLY_COLS];

        tally_cells(r, &rs->t, t); /* samples, %, %, total, min, mean, max */
        struct cell c[] = {
            cell_s(reason_label(order[k], name, sizeof(name))),
            order[k] < NREASONS ? cell_u(order[k]) : CELL_NONE,
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            t[5],
            cell_u(exitreport_percentile(rs->ns, rs->len, 50)),
            cell_u(exitreport_percentile(rs->ns, rs->len, 99)),
            t[6],
        };
        out_row(o, c);
    }
    out_end(o);
}

static void tally_merge(struct tally *dst, const struct tally *src)
{
    if (src->n == 0)
        return;
    if (dst->n == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->n += src->n;
    dst->ns += src->ns;
}

static void print_addrs(struct out *o, const struct exitreport *r)
{
    static const struct col cols[] = {
        {"address", "address", COL_HEX, "..."}, {"space", NULL, COL_STR, NULL},
        {"dir", NULL, COL_STR, NULL},           {"device", NULL, COL_STR, NULL},
        {"name", "name", COL_STR, NULL},        TALLY_COLS,
    };
    const struct exitlog_busmap *map = &r->info.map;
    size_t n;
    const struct tslot **v = tmap_sorted(&r->addrs, &n, cmp_slot_count);

    if (r->addrs.len && !v) {
        o->err = -ENOMEM;
        return;
    }
    size_t shown =
        o->fmt == EXITREPORT_TABLE && n > EXITREPORT_TOP_ADDRS ? EXITREPORT_TOP_ADDRS : n;
    out_begin(o, "addresses", "top ports and MMIO addresses (named from the log's bus map):", cols,
              ARRAY_SIZE(cols), false);
    for (size_t i = 0; i < shown; i++) {
        uint8_t space = (uint8_t)v[i]->k2, dir = (uint8_t)(v[i]->k2 >> 8);
        uint64_t addr = v[i]->k1;
        int d = exitlog_busmap_find(map, space, addr);
        char name[EXITLOG_NAME_MAX + EXITLOG_REGNAME_MAX + 32];
        struct cell c[5 + NTALLY_COLS] = {
            cell_u(addr),
            cell_s(space_name(space)),
            cell_s(dir_name(dir)),
            cell_s(d >= 0 ? map->devs[d].name : "(none)"),
            cell_s(exitlog_busmap_name(map, space, addr, dir, name, sizeof(name))),
        };

        tally_cells(r, &v[i]->t, c + 5);
        out_row(o, c);
    }
    if (shown < n) {
        struct tally rest = {0};
        char name[48];

        for (size_t i = shown; i < n; i++)
            tally_merge(&rest, &v[i]->t);
        snprintf(name, sizeof(name), "(%zu other addresses)", n - shown);
        struct cell c[5 + NTALLY_COLS] = {CELL_NONE, CELL_NONE, CELL_NONE, CELL_NONE, cell_s(name)};
        tally_cells(r, &rest, c + 5);
        out_row(o, c);
    }
    out_end(o);
    free(v);
}

static void print_vcpus(struct out *o, const struct exitreport *r)
{
    static const struct col cols[] = {{"vcpu", "vcpu", COL_U64, NULL}, TALLY_COLS};
    size_t n;
    const struct tslot **v = tmap_sorted(&r->vcpus, &n, cmp_slot_key);

    if (r->vcpus.len && !v) {
        o->err = -ENOMEM;
        return;
    }
    out_begin(o, "vcpus", "vCPUs:", cols, ARRAY_SIZE(cols), false);
    for (size_t i = 0; i < n; i++) {
        struct cell c[1 + NTALLY_COLS] = {cell_u(v[i]->k1)};

        tally_cells(r, &v[i]->t, c + 1);
        out_row(o, c);
    }
    out_end(o);
    free(v);
}

static void print_devices(struct out *o, const struct exitreport *r)
{
    static const struct col cols[] = {
        {"device", "device", COL_STR, NULL},
        {"space", "space", COL_STR, NULL},
        {"base", "base", COL_HEX, NULL},
        {"size", NULL, COL_HEX, NULL},
        TALLY_COLS,
    };
    const struct exitlog_busmap *map = &r->info.map;

    out_begin(o, "devices",
              "devices (PIO and MMIO exits by the bus-map device at the address):", cols,
              ARRAY_SIZE(cols), false);
    for (unsigned i = 0; i <= map->ndevs; i++) {
        bool none = i == map->ndevs;
        const struct exitlog_dev *d = none ? NULL : &map->devs[i];
        struct cell c[4 + NTALLY_COLS] = {
            cell_s(none ? "(none)" : d->name),
            none ? CELL_NONE : cell_s(space_name(d->space)),
            none ? CELL_NONE : cell_u(d->base),
            none ? CELL_NONE : cell_u(d->size),
        };

        /* With --device only that device; "(none)" only when something hit no device. */
        if (r->dev_filter != DEV_ANY && r->dev_filter != (none ? DEV_NONE : (int)i))
            continue;
        if (none && r->devs[i].n == 0 && r->dev_filter != -1)
            continue;
        tally_cells(r, &r->devs[i], c + 4);
        out_row(o, c);
    }
    out_end(o);
}

static void print_phases(struct out *o, const struct exitreport *r)
{
    static const struct col cols[] = {
        {"phase", "phase", COL_STR, NULL},
        {"code", NULL, COL_U64, NULL},
        {"vcpu", NULL, COL_U64, NULL},
        {"at_ms", "at(ms)", COL_MS, NULL},
        {"delta_ms", "+ms", COL_MS, NULL},
        {"exits", "exits", COL_U64, NULL},
        {"time_us", "handling(us)", COL_US, NULL},
        {"mean_us", "mean(us)", COL_US, NULL},
    };
    uint64_t prev = 0;

    out_begin(o, "phases",
              "boot phases (each row: from the previous marker to this one; times since the "
              "vCPUs started):",
              cols, ARRAY_SIZE(cols), false);
    for (size_t i = 0; i <= r->nmarkers && r->nmarkers; i++) {
        const struct tally *t = &r->phases[i];
        const struct exitlog_marker *m = i < r->nmarkers ? &r->markers[i].m : NULL;
        const struct exitlog_marker *last = &r->markers[r->nmarkers - 1].m;
        const char *pn = exitlog_phase_name(m ? m->code : last->code);
        char name[48];

        if (m && pn)
            snprintf(name, sizeof(name), "%s", pn);
        else if (m)
            snprintf(name, sizeof(name), "phase %" PRIu32, m->code);
        else if (pn)
            snprintf(name, sizeof(name), "(after %s)", pn);
        else
            snprintf(name, sizeof(name), "(after phase %" PRIu32 ")", last->code);
        struct cell c[] = {
            cell_s(name),
            m ? cell_u(m->code) : CELL_NONE,
            m ? cell_u(m->vcpu) : CELL_NONE,
            m ? cell_u(m->t_ns) : CELL_NONE,
            m ? cell_u(m->t_ns - prev) : CELL_NONE,
            cell_u(t->n),
            cell_u(t->ns),
            t->n ? cell_u(t->ns / t->n) : CELL_NONE,
        };
        out_row(o, c);
        if (m)
            prev = m->t_ns;
    }
    out_end(o);
}

/* ---- KVM's counts beside ours ---- */

/* A KVM statistic and the exit reason of ours that counts the same events. */
static const struct kvm_pair {
    const char *stat;
    int reason;           /* KVM_EXIT_*; -1: every exit */
    const char *what;     /* for the notes */
    const char *why_zero; /* why KVM may count none while we log some, or NULL */
    const char *why_more; /* why KVM may count more than we log, or NULL */
} kvm_pairs[] = {
    {"exits", -1, "exits", NULL,
     "KVM also counts the exits it handles itself, which never reach minivmm"},
    /* PVM's KVM leaves io_exits at 0 (seen on our hosts; its mmio_exits do count). */
    {"io_exits", KVM_EXIT_IO, "PIO exits", "on PVM hosts KVM's statistics do not count PIO exits",
     KVMSTATS_IO_EXITS_WHY_MORE},
    {"mmio_exits", KVM_EXIT_MMIO, "MMIO exits", NULL, NULL},
    {"halt_exits", KVM_EXIT_HLT, "HLT exits", NULL,
     "KVM handles HLT itself when the local APIC is in the kernel (it is, with either "
     "--irqchip)"},
    /* vcpu.c: a KVM_RUN that a signal interrupts returns EINTR and is not logged. */
    {"signal_exits", KVM_EXIT_INTR, "signal exits", NULL,
     "a KVM_RUN interrupted by a signal (such as the kick that stops a vCPU) returns EINTR, "
     "which minivmm does not log"},
    {"request_irq_exits", KVM_EXIT_IRQ_WINDOW_OPEN, "IRQ-window exits", NULL, NULL},
};
#define NPAIRS (ARRAY_SIZE(kvm_pairs))
#define MAX_NOTES (2 * NPAIRS)
#define NOTE_LEN 512

struct notes {
    unsigned n;
    char s[MAX_NOTES][NOTE_LEN];
};

static uint64_t ours(const struct exitreport *r, const struct kvm_pair *p, uint32_t vcpu)
{
    const struct tally *t = p->reason < 0 ? tmap_find(&r->vcpus, vcpu, 0)
                                          : tmap_find(&r->vreasons, vcpu, (uint64_t)p->reason);
    return t ? t->n : 0;
}

static const char *reason_of_pair(const struct kvm_pair *p)
{
    return p->reason < 0 ? "all reasons" : exitlog_reason_name((uint32_t)p->reason);
}

/* Sums KVM's count and ours over the vCPUs that have the statistic. */
static void pair_totals(const struct exitreport *r, const struct kvm_pair *p,
                        const struct kname *kn, uint64_t *kvm, uint64_t *mine)
{
    *kvm = *mine = 0;
    for (size_t i = kn->first; i < kn->first + kn->n; i++) {
        *kvm += r->stats[i].value;
        *mine += ours(r, p, r->stats[i].vcpu);
    }
}

static bool pair_vcpus_differ(const struct exitreport *r, const struct kvm_pair *p,
                              const struct kname *kn)
{
    for (size_t i = kn->first; i < kn->first + kn->n; i++)
        if (ours(r, p, r->stats[i].vcpu) != r->stats[i].value)
            return true;
    return false;
}

static void pair_notes(const struct exitreport *r, const struct kvm_pair *p, const struct kname *kn,
                       struct notes *nt)
{
    uint64_t kvm, mine;
    char *s = nt->s[nt->n];
    int len;

    pair_totals(r, p, kn, &kvm, &mine);
    if (kvm != mine) {
        len =
            snprintf(s, NOTE_LEN, "KVM counts %" PRIu64 " %s (%s), minivmm logged %" PRIu64 " (%s)",
                     kvm, p->what, p->stat, mine, reason_of_pair(p));
        if (kvm == 0 && p->why_zero)
            len += snprintf(s + len, NOTE_LEN - (size_t)len, ": %s", p->why_zero);
        else if (kvm == 0)
            len += snprintf(s + len, NOTE_LEN - (size_t)len,
                            ": KVM's statistics count none of them on this host");
        else if (kvm > mine && p->why_more)
            len += snprintf(s + len, NOTE_LEN - (size_t)len, ": %s", p->why_more);
        else
            len += snprintf(s + len, NOTE_LEN - (size_t)len, ": %" PRIu64 " %s in KVM's count",
                            kvm > mine ? kvm - mine : mine - kvm, kvm > mine ? "more" : "fewer");
        if (r->info.truncated && len < NOTE_LEN)
            snprintf(s + len, NOTE_LEN - (size_t)len,
                     " (the log is truncated: minivmm's count misses its end)");
        nt->n++;
        return;
    }
    if (kn->n < 2)
        return;
    /* Equal in total, yet attributed to other vCPUs: list where they differ. */
    len = snprintf(s, NOTE_LEN, "%s agree in total (%" PRIu64 ") but not per vCPU:", p->what, kvm);
    bool differ = false;
    for (size_t i = kn->first; i < kn->first + kn->n && len < NOTE_LEN; i++) {
        uint64_t m = ours(r, p, r->stats[i].vcpu);

        if (m == r->stats[i].value)
            continue;
        len += snprintf(s + len, NOTE_LEN - (size_t)len,
                        "%s vCPU %" PRIu32 " KVM %" PRIu64 ", minivmm %" PRIu64, differ ? ";" : "",
                        r->stats[i].vcpu, r->stats[i].value, m);
        differ = true;
    }
    if (differ)
        nt->n++;
}

static void print_kvm(struct out *o, const struct exitreport *r)
{
    bool compared = r->nknames && !filtered_by_time_reason_device(r);
    bool per_cpu = o->fmt != EXITREPORT_TABLE || r->nkcpus <= TABLE_MAX_STAT_CPUS;
    size_t ncols = 2 + r->nkcpus;
    struct col *cols = calloc(ncols, sizeof(*cols));
    struct cell *cells = calloc(ncols, sizeof(*cells));
    char(*keys)[24] = calloc(r->nkcpus + 1, sizeof(*keys));
    struct notes *nt = calloc(1, sizeof(*nt));
    size_t zero = 0;

    if (!cols || !cells || !keys || !nt) {
        o->err = -ENOMEM;
        goto out;
    }
    if (o->fmt == EXITREPORT_JSON) {
        json_key(o, "kvm_stats");
        fprintf(o->f,
                "{\"present\": %s, \"compared\": %s, \"stats\": ", r->nknames ? "true" : "false",
                compared ? "true" : "false");
    }
    if (o->fmt == EXITREPORT_TABLE && !r->nknames) {
        fprintf(o->f, "\nKVM's counts: none in this log (no stats records)\n");
        goto out;
    }

    /* KVM's statistics as it named them: the sum over vCPUs, then per vCPU. */
    cols[0] = (struct col){"name", "statistic", COL_STR, NULL};
    cols[1] = (struct col){"total", "total", COL_U64, NULL};
    for (size_t j = 0; j < r->nkcpus; j++) {
        snprintf(keys[j], sizeof(keys[j]), "vcpu%" PRIu32, r->kcpus[j]);
        cols[2 + j] = (struct col){keys[j], per_cpu ? keys[j] : NULL, COL_U64, NULL};
    }
    for (size_t i = 0; i < r->nknames; i++)
        zero += r->knames[i].total == 0;
    char title[128];
    snprintf(title, sizeof(title), "KVM's counts (its binary statistics at the end of the run%s):",
             o->fmt == EXITREPORT_TABLE && zero ? "; zero counts left out" : "");
    out_begin(o, o->fmt == EXITREPORT_JSON ? NULL : "kvm_stats", title, cols, (unsigned)ncols,
              false);
    for (size_t i = 0; i < r->nknames; i++) {
        const struct kname *kn = &r->knames[i];

        if (o->fmt == EXITREPORT_TABLE && kn->total == 0)
            continue;
        cells[0] = cell_s(kn->name);
        cells[1] = cell_u(kn->total);
        for (size_t j = 0; j < r->nkcpus; j++) {
            const struct kstat *k = kstat_find(r, kn, r->kcpus[j]);
            cells[2 + j] = k ? cell_u(k->value) : CELL_NONE;
        }
        out_row(o, cells);
    }
    out_end(o);

    /* The statistics that count what we count, side by side. */
    static const struct col ccols[] = {
        {"statistic", "statistic", COL_STR, NULL}, {"reason", "minivmm's reason", COL_STR, NULL},
        {"vcpu", "vcpu", COL_U64, "all"},          {"kvm", "KVM", COL_U64, NULL},
        {"minivmm", "minivmm", COL_U64, NULL},
    };
    if (o->fmt == EXITREPORT_JSON)
        fputs(", \"compare\": ", o->f);
    if (o->fmt == EXITREPORT_TABLE && !compared)
        fprintf(o->f, "\nKVM's counts cover the whole run: not compared with counts filtered by "
                      "reason, device or time.\n");
    else
        out_begin(o, o->fmt == EXITREPORT_JSON ? NULL : "kvm_compare",
                  "KVM's counts beside minivmm's:", ccols, ARRAY_SIZE(ccols), false);
    for (size_t k = 0; k < NPAIRS && compared; k++) {
        const struct kvm_pair *p = &kvm_pairs[k];
        const struct kname *kn = kname_find(r, p->stat);
        uint64_t kvm, mine;

        if (!kn)
            continue;
        pair_totals(r, p, kn, &kvm, &mine);
        struct cell c[] = {cell_s(p->stat), cell_s(reason_of_pair(p)), CELL_NONE, cell_u(kvm),
                           cell_u(mine)};
        out_row(o, c);
        /* Per vCPU: always in CSV and JSON; in the table only where a vCPU disagrees. */
        bool per_vcpu = kn->n > 1 && (o->fmt != EXITREPORT_TABLE || pair_vcpus_differ(r, p, kn));
        for (size_t i = kn->first; i < kn->first + kn->n && per_vcpu; i++) {
            c[2] = cell_u(r->stats[i].vcpu);
            c[3] = cell_u(r->stats[i].value);
            c[4] = cell_u(ours(r, p, r->stats[i].vcpu));
            out_row(o, c);
        }
        pair_notes(r, p, kn, nt);
    }
    if (o->fmt != EXITREPORT_TABLE || compared)
        out_end(o);

    /* Where they disagree, in words. */
    static const struct col ncol[] = {{"note", NULL, COL_STR, NULL}};
    if (o->fmt == EXITREPORT_JSON) {
        fputs(", \"notes\": [", o->f);
        for (unsigned i = 0; i < nt->n; i++) {
            fputs(i ? ", " : "", o->f);
            json_fput_str(o->f, nt->s[i], JSON_ASCII);
        }
        fputs("]}", o->f);
    } else if (o->fmt == EXITREPORT_CSV) {
        out_begin(o, "notes", NULL, ncol, 1, false);
        for (unsigned i = 0; i < nt->n; i++) {
            struct cell c = cell_s(nt->s[i]);
            out_row(o, &c);
        }
        out_end(o);
    } else {
        for (unsigned i = 0; i < nt->n; i++)
            fprintf(o->f, "note: %s\n", nt->s[i]);
    }
out:
    free(cols);
    free(cells);
    free(keys);
    free(nt);
}

/* ---- timeline ---- */

/* Calls row() for every bucket from the first counted exit's to the last's, with the counts of
 * the reasons in order[0..nreasons); 0 or -ENOMEM. */
static int timeline_walk(const struct exitreport *r, const unsigned *order, unsigned nreasons,
                         void (*row)(void *ctx, uint64_t t_ns, const uint64_t *counts,
                                     uint64_t total),
                         void *ctx)
{
    int col_of[NREASONS + 1];
    size_t n, k = 0;
    const struct tslot **v = tmap_sorted(&r->timeline, &n, cmp_slot_key);
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

struct timeline_ctx {
    struct out *o;
    struct cell *cells;
    unsigned nreasons;
    uint64_t bucket_ns;
};

static void timeline_cells(void *opaque, uint64_t t_ns, const uint64_t *counts, uint64_t total)
{
    struct timeline_ctx *c = opaque;

    c->cells[0] = cell_u(t_ns);
    c->cells[1] = cell_u(c->bucket_ns);
    c->cells[2] = cell_u(total);
    for (unsigned j = 0; j < c->nreasons; j++)
        c->cells[3 + j] = cell_u(counts[j]);
    out_row(c->o, c->cells);
}

static void fmt_duration(char *buf, size_t len, uint64_t ns)
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

static void print_timeline(struct out *o, const struct exitreport *r)
{
    unsigned order[NREASONS + 1];
    unsigned n = reason_order(r, order);
    char labels[NREASONS + 1][32], title[128], bucket[32];
    struct col cols[3 + NREASONS + 1] = {
        {"t_ms", "t(ms)", COL_MS, NULL},
        {"bucket_us", NULL, COL_US, NULL},
        {"total", "total", COL_U64, NULL},
    };
    struct cell cells[3 + NREASONS + 1];

    for (unsigned j = 0; j < n; j++) {
        reason_label(order[j], labels[j], sizeof(labels[j]));
        cols[3 + j] = (struct col){labels[j], labels[j], COL_U64, NULL};
    }
    fmt_duration(bucket, sizeof(bucket), r->bucket_ns);
    snprintf(title, sizeof(title),
             "timeline (exits per %s bucket by reason; t: bucket start):", bucket);
    out_begin(o, "timeline", title, cols, 3 + n, false);
    struct timeline_ctx ctx = {.o = o, .cells = cells, .nreasons = n, .bucket_ns = r->bucket_ns};
    if (timeline_walk(r, order, n, timeline_cells, &ctx))
        o->err = -ENOMEM;
    out_end(o);
}

/* ---- printing ---- */

static void print_header(FILE *f, const struct exitreport *r)
{
    const struct exitlog_info *in = &r->info;
    const struct exitreport_filter *fl = &r->o.filter;
    char a[32], b[32];

    fprintf(f, "exit log %s: version %" PRIu32 ", %u vCPU%s, %" PRIu64 " records\n", r->o.path,
            in->version, in->ncpus, in->ncpus == 1 ? "" : "s", in->nrecords);
    if (in->truncated)
        fprintf(f,
                "note: the log is truncated at offset %" PRIu64 " (the run did not finish "
                "writing it); the %" PRIu64 " records before it are used\n",
                in->trunc_offset, in->nrecords);
    if (fl->by_vcpu || fl->by_reason || fl->device || fl->since_ns || fl->until_ns != UINT64_MAX) {
        fputs("filters:", f);
        const char *sep = "";

        if (fl->by_vcpu) {
            fprintf(f, " vcpu %" PRIu32, fl->vcpu);
            sep = ",";
        }
        if (fl->by_reason) {
            fprintf(f, "%s reason %s", sep, reason_label(reason_slot(fl->reason), a, sizeof(a)));
            sep = ",";
        }
        if (fl->device) {
            fprintf(f, "%s device %s", sep, fl->device);
            sep = ",";
        }
        if (fl->since_ns) {
            fmt_fixed(a, sizeof(a), fl->since_ns, NS_PER_MS, 3);
            fprintf(f, "%s since %s ms", sep, a);
            sep = ",";
        }
        if (fl->until_ns != UINT64_MAX) {
            fmt_fixed(a, sizeof(a), fl->until_ns, NS_PER_MS, 3);
            fprintf(f, "%s until %s ms (exclusive)", sep, a);
        }
        fputc('\n', f);
    }
    fmt_fixed(a, sizeof(a), r->total.ns, NS_PER_MS, 3);
    fprintf(f, "exits: %" PRIu64 " of %" PRIu64 " in %s ms handling", r->total.n, r->nexits_log, a);
    if (r->total.n) {
        fmt_fixed(a, sizeof(a), r->first_ns, NS_PER_MS, 3);
        fmt_fixed(b, sizeof(b), r->last_ns, NS_PER_MS, 3);
        fprintf(f, ", from %s to %s ms", a, b);
    }
    fputc('\n', f);
}

int exitreport_print(struct exitreport *r, FILE *f)
{
    struct out o;

    out_open(&o, f, r->o.format);
    if (o.fmt == EXITREPORT_TABLE) {
        print_header(f, r);
    } else {
        print_log_info(&o, r);
        print_filters(&o, r);
    }
    print_reasons(&o, r);
    print_addrs(&o, r);
    print_vcpus(&o, r);
    print_devices(&o, r);
    print_phases(&o, r);
    print_kvm(&o, r);
    if (r->o.timeline_ns)
        print_timeline(&o, r);
    if (o.fmt == EXITREPORT_JSON) {
        json_key(&o, "truncated");
        fputs(r->info.truncated ? "true" : "false", f);
    }
    out_close(&o);
    free(o.cells);
    if (o.err)
        return o.err;
    return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}

/* ---- plot ---- */

/* A gnuplot single-quoted string: quotes doubled, nothing else is special. */
static void gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

struct plot_ctx {
    FILE *f;
    unsigned nreasons;
    uint64_t bucket_ns;
    uint64_t last_t;
};

static void plot_row(void *opaque, uint64_t t_ns, const uint64_t *counts, uint64_t total)
{
    struct plot_ctx *c = opaque;
    char t[32];

    fmt_fixed(t, sizeof(t), t_ns, NS_PER_MS, 6);
    fprintf(c->f, "%s %" PRIu64, t, total);
    for (unsigned j = 0; j < c->nreasons; j++)
        fprintf(c->f, " %" PRIu64, counts[j]);
    fputc('\n', c->f);
    c->last_t = t_ns;
}

/* Power-of-two bin of a handling time: 0 for 0 ns, k for [2^(k-1), 2^k). */
static unsigned log2_bin(uint64_t ns)
{
    return ns ? 64u - (unsigned)__builtin_clzll(ns) : 0;
}

static void bin_label(char *buf, size_t len, unsigned k)
{
    uint64_t lo = k ? 1ull << (k - 1) : 0;

    if (lo < NS_PER_US)
        snprintf(buf, len, "%" PRIu64 "ns", lo);
    else if (lo < NS_PER_MS)
        snprintf(buf, len, "%.3gus", (double)lo / NS_PER_US);
    else if (lo < NS_PER_S)
        snprintf(buf, len, "%.3gms", (double)lo / NS_PER_MS);
    else
        snprintf(buf, len, "%.3gs", (double)lo / NS_PER_S);
}

/* The data file: index 0 the timeline (t_ms total per-reason...), index 1 the histogram (bin
 * label, per-reason counts). 0 or -errno. */
static int write_plot_data(struct exitreport *r, FILE *f, const unsigned *order, unsigned n)
{
    uint64_t(*hist)[NREASONS + 1] = calloc(65, sizeof(*hist));
    unsigned lo = 64, hi = 0;
    char label[32];

    if (!hist)
        return -ENOMEM;
    fputs("# t_ms total", f);
    for (unsigned j = 0; j < n; j++)
        fprintf(f, " %s", reason_label(order[j], label, sizeof(label)));
    fputc('\n', f);
    struct plot_ctx ctx = {.f = f, .nreasons = n, .bucket_ns = r->bucket_ns};
    if (timeline_walk(r, order, n, plot_row, &ctx)) {
        free(hist);
        return -ENOMEM;
    }
    /* A closing empty bucket, so that `with steps` draws the last one. */
    uint64_t zero[NREASONS + 1] = {0};
    plot_row(&ctx, ctx.last_t + r->bucket_ns, zero, 0);

    fputs("\n\n# bin", f);
    for (unsigned j = 0; j < n; j++) {
        const struct reason_stat *rs = &r->reasons[order[j]];

        fprintf(f, " %s", reason_label(order[j], label, sizeof(label)));
        for (size_t i = 0; i < rs->len; i++) {
            unsigned k = log2_bin(rs->ns[i]);

            hist[k][j]++;
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    fputc('\n', f);
    for (unsigned k = lo; k <= hi; k++) {
        bin_label(label, sizeof(label), k);
        fprintf(f, "\"%s\"", label);
        for (unsigned j = 0; j < n; j++)
            fprintf(f, " %" PRIu64, hist[k][j]);
        fputc('\n', f);
    }
    free(hist);
    return ferror(f) ? -EIO : 0;
}

static void write_plot_script(const struct exitreport *r, FILE *f, const char *png,
                              const char *data, const unsigned *order, unsigned n)
{
    char label[32], bucket[32], title[512];

    fputs("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
          "  set terminal pngcairo size 1000,800 noenhanced font ',10'\n"
          "} else {\n"
          "  set terminal png size 1000,800 noenhanced\n"
          "}\n"
          "set output ",
          f);
    gp_str(f, png);
    snprintf(title, sizeof(title), "minivmm exits: %s (%" PRIu64 " exits)", r->o.path, r->total.n);
    fputs("\nset multiplot layout 2,1 title ", f);
    gp_str(f, title);
    fmt_duration(bucket, sizeof(bucket), r->bucket_ns);
    fprintf(f,
            "\nset title 'exits per %s bucket, by reason'\n"
            "set xlabel 'time since the vCPUs started (ms)'\n"
            "set ylabel 'exits'\n"
            "set grid ytics\n"
            "set key top right\n"
            "plot ",
            bucket);
    for (unsigned j = 0; j < n; j++) {
        fputs(j ? ", '' " : "", f);
        if (j == 0)
            gp_str(f, data);
        fprintf(f, " index 0 using 1:%u with steps lw 2 title ", 3 + j);
        gp_str(f, reason_label(order[j], label, sizeof(label)));
    }
    fputs("\nset title 'handling time (power-of-two bins, labelled by their start), by reason'\n"
          "set xlabel 'handling time'\n"
          "set ylabel 'exits (log scale)'\n"
          "set logscale y\n"
          "set yrange [0.8:*]\n"
          "set style data histograms\n"
          "set style histogram clustered gap 1\n"
          "set style fill solid 0.8 border -1\n"
          "set boxwidth 0.8\n"
          "set xtics rotate by -45 scale 0\n"
          "plot ",
          f);
    for (unsigned j = 0; j < n; j++) {
        fputs(j ? ", '' " : "", f);
        if (j == 0)
            gp_str(f, data);
        fprintf(f, " index 1 using %u%s title ", 2 + j, j == 0 ? ":xtic(1)" : "");
        gp_str(f, reason_label(order[j], label, sizeof(label)));
    }
    fputs("\nunset multiplot\nset output\n", f);
}

static int not_found(const char *prog, char *err, size_t errlen)
{
    return errmsg_fail(err, errlen, -ENOENT,
                       "--plot: %s not found (install gnuplot, e.g. apt-get install gnuplot-nox)",
                       prog);
}

/* Runs gnuplot with the script on its stdin (its stdout goes to our stderr, so that a report on
 * our stdout stays clean); 0, -ENOENT when it is missing, -EIO when it failed. */
static int run_gnuplot(const char *prog, const char *script, size_t len, char *err, size_t errlen)
{
    posix_spawn_file_actions_t fa;
    char *argv[] = {(char *)prog, NULL};
    sigset_t pipe_set, old;
    int p[2], status, ret;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--plot: cannot create a pipe: %s", strerror(errno));
        return ret;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
    ret = -posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[0]);
    if (ret) {
        close(p[1]);
        if (ret == -ENOENT)
            return not_found(prog, err, errlen);
        errmsg_set(err, errlen, "--plot: cannot run %s: %s", prog, strerror(-ret));
        return ret;
    }
    /* If gnuplot dies early, the write fails with EPIPE instead of killing us. */
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    ret = write_all(p[1], script, len);
    if (ret == -EPIPE) {
        struct timespec zero = {0, 0};
        sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(p[1]);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            errmsg_set(err, errlen, "--plot: waiting for %s: %s", prog, strerror(errno));
            return -errno;
        }
    }
    /* 127: the exec failed in the child. posix_spawnp returns that error itself only where the
     * child shares the parent's memory (glibc's clone(CLONE_VM)); where that is emulated with a
     * plain fork (valgrind, qemu-user) the spawn succeeds and the child exits 127. */
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return not_found(prog, err, errlen);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        errmsg_set(err, errlen, "--plot: %s failed (%s %d; its messages are above)", prog,
               WIFEXITED(status) ? "exit status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -EIO;
    }
    if (ret) {
        errmsg_set(err, errlen, "--plot: writing the script to %s: %s", prog, strerror(-ret));
        return ret;
    }
    return 0;
}

int exitreport_plot(struct exitreport *r, const char *png, const char *gnuplot, char *err,
                    size_t errlen)
{
    unsigned order[NREASONS + 1];
    unsigned n = reason_order(r, order);
    const char *tmpdir = getenv("TMPDIR");
    char data[PATH_MAX];
    char *script = NULL;
    size_t script_len = 0;
    int fd, ret;

    if (!gnuplot)
        gnuplot = "gnuplot";
    if (!r->bucket_ns) {
        errmsg_set(err, errlen, "--plot: the report was built without a timeline");
        return -EINVAL;
    }
    if (r->total.n == 0) {
        errmsg_set(err, errlen, "--plot: no exits to plot (the filters leave none)");
        return -EINVAL;
    }
    /* Create the PNG ourselves first, for a plain error when its directory is wrong. */
    fd = open(png, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--plot: %s: cannot create: %s", png, strerror(errno));
        return ret;
    }
    close(fd);

    snprintf(data, sizeof(data), "%s/minivmm-plot.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    fd = mkstemp(data);
    if (fd < 0) {
        ret = -errno;
        errmsg_set(err, errlen, "--plot: cannot create a temporary file in %s: %s",
               tmpdir && *tmpdir ? tmpdir : "/tmp", strerror(errno));
        goto err_png;
    }
    FILE *df = fdopen(fd, "w");
    if (!df) {
        ret = -errno;
        close(fd);
        errmsg_set(err, errlen, "--plot: %s: %s", data, strerror(-ret));
        goto err_data;
    }
    sort_times(r);
    ret = write_plot_data(r, df, order, n);
    if (fclose(df) != 0 && ret == 0)
        ret = -errno;
    if (ret) {
        errmsg_set(err, errlen, "--plot: cannot write %s: %s", data, strerror(-ret));
        goto err_data;
    }
    FILE *sf = open_memstream(&script, &script_len);
    if (!sf) {
        ret = -ENOMEM;
        errmsg_set(err, errlen, "--plot: out of memory");
        goto err_data;
    }
    write_plot_script(r, sf, png, data, order, n);
    if (fclose(sf) != 0) {
        ret = -ENOMEM;
        errmsg_set(err, errlen, "--plot: out of memory");
        goto err_data;
    }
    ret = run_gnuplot(gnuplot, script, script_len, err, errlen);
    if (ret)
        goto err_data;
    free(script);
    unlink(data);
    return 0;

err_data:
    free(script);
    unlink(data);
err_png:
    unlink(png);
    return ret;
}
