/*
 * exitreport_print.c: prints the exits report (exitreport_print(), exitreport.h): the header,
 * then one table per view (reasons, addresses, vCPUs, devices, phases, KVM's counts, the
 * timeline), each through one emitter (minivmm/out.h) that prints the same rows as a table,
 * CSV or JSON, so the formats cannot drift apart; ports and addresses are hex strings
 * ("0x3f8") in all three.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitreport_int.h"
#include "minivmm/util.h"

static double pct(uint64_t part, uint64_t whole)
{
    return whole ? (double)part * 100.0 / (double)whole : 0.0;
}

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
    {"samples", "samples", OUT_U64, NULL},                                                        \
    {"samples_pct", "samples%", OUT_PCT, NULL},                                                   \
    {"time_pct", "time%", OUT_PCT, NULL},                                                         \
    {"total_us", NULL, OUT_US, NULL},                                                             \
    {"min_us", "min(us)", OUT_US, NULL},                                                          \
    {"mean_us", "mean(us)", OUT_US, NULL},                                                        \
    {"max_us", "max(us)", OUT_US, NULL}
/* clang-format on */
#define NTALLY_COLS 7

static void tally_cells(const struct exitreport *r, const struct tally *t, struct out_cell *c)
{
    c[0] = out_u(t->n);
    c[1] = out_d(pct(t->n, r->total.n));
    c[2] = out_d(pct(t->ns, r->total.ns));
    c[3] = out_u(t->ns);
    if (t->n) {
        c[4] = out_u(t->min);
        c[5] = out_u(t->ns / t->n);
        c[6] = out_u(t->max);
    } else {
        c[4] = c[5] = c[6] = OUT_NONE;
    }
}

static void print_log_info(struct out *o, const struct exitreport *r)
{
    static const struct out_col cols[] = {
        {"path", NULL, OUT_STR, NULL},       {"version", NULL, OUT_U64, NULL},
        {"ncpus", NULL, OUT_U64, NULL},      {"records", NULL, OUT_U64, NULL},
        {"skipped", NULL, OUT_U64, NULL},    {"exits", NULL, OUT_U64, NULL},
        {"counted", NULL, OUT_U64, NULL},    {"time_us", NULL, OUT_US, NULL},
        {"first_ms", NULL, OUT_MS, NULL},    {"last_ms", NULL, OUT_MS, NULL},
        {"truncated", NULL, OUT_BOOL, NULL}, {"truncated_offset", NULL, OUT_U64, NULL},
    };
    const struct exitlog_info *in = &r->info;
    struct out_cell c[] = {
        out_s(r->o.path),
        out_u(in->version),
        out_u(in->ncpus),
        out_u(in->nrecords),
        out_u(in->nskipped),
        out_u(r->nexits_log),
        out_u(r->total.n),
        out_u(r->total.ns),
        r->total.n ? out_u(r->first_ns) : OUT_NONE,
        r->total.n ? out_u(r->last_ns) : OUT_NONE,
        out_u(in->truncated),
        in->truncated ? out_u(in->trunc_offset) : OUT_NONE,
    };

    out_begin(o, "log", NULL, cols, ARRAY_SIZE(cols), true);
    out_row(o, c);
    out_end(o);
}

static void print_filters(struct out *o, const struct exitreport *r)
{
    static const struct out_col cols[] = {
        {"vcpu", NULL, OUT_U64, NULL},    {"reason", NULL, OUT_STR, NULL},
        {"device", NULL, OUT_STR, NULL},  {"since_ms", NULL, OUT_MS, NULL},
        {"until_ms", NULL, OUT_MS, NULL}, {"timeline_bucket_us", NULL, OUT_US, NULL},
    };
    const struct exitreport_filter *f = &r->o.filter;
    char reason[32];
    struct out_cell c[] = {
        f->by_vcpu ? out_u(f->vcpu) : OUT_NONE,
        f->by_reason ? out_s(exitreport_reason_label(exitreport_reason_slot(f->reason), reason,
                                                     sizeof(reason)))
                     : OUT_NONE,
        out_s(f->device),
        f->since_ns ? out_u(f->since_ns) : OUT_NONE,
        f->until_ns != UINT64_MAX ? out_u(f->until_ns) : OUT_NONE,
        r->o.timeline_ns ? out_u(r->o.timeline_ns) : OUT_NONE,
    };

    out_begin(o, "filters", NULL, cols, ARRAY_SIZE(cols), true);
    out_row(o, c);
    out_end(o);
}

static void print_reasons(struct out *o, struct exitreport *r)
{
    static const struct out_col cols[] = {
        {"reason", "reason", OUT_STR, NULL},   {"code", NULL, OUT_U64, NULL},
        {"samples", "samples", OUT_U64, NULL}, {"samples_pct", "samples%", OUT_PCT, NULL},
        {"time_pct", "time%", OUT_PCT, NULL},  {"total_us", NULL, OUT_US, NULL},
        {"min_us", "min(us)", OUT_US, NULL},   {"mean_us", "mean(us)", OUT_US, NULL},
        {"p50_us", "p50(us)", OUT_US, NULL},   {"p99_us", "p99(us)", OUT_US, NULL},
        {"max_us", "max(us)", OUT_US, NULL},
    };
    unsigned order[NREASONS + 1];
    unsigned n = exitreport_reason_order(r, order);

    exitreport_sort_times(r);
    out_begin(o, "reasons", "exit reasons (handling: KVM_RUN's return to the next KVM_RUN):", cols,
              ARRAY_SIZE(cols), false);
    for (unsigned k = 0; k < n; k++) {
        const struct reason_stat *rs = &r->reasons[order[k]];
        char name[32];
        struct out_cell t[NTALLY_COLS];

        tally_cells(r, &rs->t, t); /* samples, %, %, total, min, mean, max */
        struct out_cell c[] = {
            out_s(exitreport_reason_label(order[k], name, sizeof(name))),
            order[k] < NREASONS ? out_u(order[k]) : OUT_NONE,
            t[0],
            t[1],
            t[2],
            t[3],
            t[4],
            t[5],
            out_u(exitreport_percentile(rs->ns, rs->len, 50)),
            out_u(exitreport_percentile(rs->ns, rs->len, 99)),
            t[6],
        };
        out_row(o, c);
    }
    out_end(o);
}

static void print_addrs(struct out *o, const struct exitreport *r)
{
    static const struct out_col cols[] = {
        {"address", "address", OUT_HEX, "..."}, {"space", NULL, OUT_STR, NULL},
        {"dir", NULL, OUT_STR, NULL},           {"device", NULL, OUT_STR, NULL},
        {"name", "name", OUT_STR, NULL},        TALLY_COLS,
    };
    const struct exitlog_busmap *map = &r->info.map;
    size_t n;
    const struct tslot **v = tmap_sorted(&r->addrs, &n, tmap_cmp_count);

    if (r->addrs.len && !v) {
        o->err = -ENOMEM;
        return;
    }
    size_t shown =
        o->fmt == OUT_TABLE && n > EXITREPORT_TOP_ADDRS ? EXITREPORT_TOP_ADDRS : n;
    out_begin(o, "addresses", "top ports and MMIO addresses (named from the log's bus map):", cols,
              ARRAY_SIZE(cols), false);
    for (size_t i = 0; i < shown; i++) {
        uint8_t space = (uint8_t)v[i]->k2, dir = (uint8_t)(v[i]->k2 >> 8);
        uint64_t addr = v[i]->k1;
        int d = exitlog_busmap_find(map, space, addr);
        char name[EXITLOG_NAME_MAX + EXITLOG_REGNAME_MAX + 32];
        struct out_cell c[5 + NTALLY_COLS] = {
            out_u(addr),
            out_s(space_name(space)),
            out_s(dir_name(dir)),
            out_s(d >= 0 ? map->devs[d].name : "(none)"),
            out_s(exitlog_busmap_name(map, space, addr, dir, name, sizeof(name))),
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
        struct out_cell c[5 + NTALLY_COLS] = {OUT_NONE, OUT_NONE, OUT_NONE, OUT_NONE, out_s(name)};
        tally_cells(r, &rest, c + 5);
        out_row(o, c);
    }
    out_end(o);
    free(v);
}

static void print_vcpus(struct out *o, const struct exitreport *r)
{
    static const struct out_col cols[] = {{"vcpu", "vcpu", OUT_U64, NULL}, TALLY_COLS};
    size_t n;
    const struct tslot **v = tmap_sorted(&r->vcpus, &n, tmap_cmp_key);

    if (r->vcpus.len && !v) {
        o->err = -ENOMEM;
        return;
    }
    out_begin(o, "vcpus", "vCPUs:", cols, ARRAY_SIZE(cols), false);
    for (size_t i = 0; i < n; i++) {
        struct out_cell c[1 + NTALLY_COLS] = {out_u(v[i]->k1)};

        tally_cells(r, &v[i]->t, c + 1);
        out_row(o, c);
    }
    out_end(o);
    free(v);
}

static void print_devices(struct out *o, const struct exitreport *r)
{
    static const struct out_col cols[] = {
        {"device", "device", OUT_STR, NULL},
        {"space", "space", OUT_STR, NULL},
        {"base", "base", OUT_HEX, NULL},
        {"size", NULL, OUT_HEX, NULL},
        TALLY_COLS,
    };
    const struct exitlog_busmap *map = &r->info.map;

    out_begin(o, "devices",
              "devices (PIO and MMIO exits by the bus-map device at the address):", cols,
              ARRAY_SIZE(cols), false);
    for (unsigned i = 0; i <= map->ndevs; i++) {
        bool none = i == map->ndevs;
        const struct exitlog_dev *d = none ? NULL : &map->devs[i];
        struct out_cell c[4 + NTALLY_COLS] = {
            out_s(none ? "(none)" : d->name),
            none ? OUT_NONE : out_s(space_name(d->space)),
            none ? OUT_NONE : out_u(d->base),
            none ? OUT_NONE : out_u(d->size),
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
    static const struct out_col cols[] = {
        {"phase", "phase", OUT_STR, NULL},
        {"code", NULL, OUT_U64, NULL},
        {"vcpu", NULL, OUT_U64, NULL},
        {"at_ms", "at(ms)", OUT_MS, NULL},
        {"delta_ms", "+ms", OUT_MS, NULL},
        {"exits", "exits", OUT_U64, NULL},
        {"time_us", "handling(us)", OUT_US, NULL},
        {"mean_us", "mean(us)", OUT_US, NULL},
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
        struct out_cell c[] = {
            out_s(name),
            m ? out_u(m->code) : OUT_NONE,
            m ? out_u(m->vcpu) : OUT_NONE,
            m ? out_u(m->t_ns) : OUT_NONE,
            m ? out_u(m->t_ns - prev) : OUT_NONE,
            out_u(t->n),
            out_u(t->ns),
            t->n ? out_u(t->ns / t->n) : OUT_NONE,
        };
        out_row(o, c);
        if (m)
            prev = m->t_ns;
    }
    out_end(o);
}

struct timeline_ctx {
    struct out *o;
    struct out_cell *cells;
    unsigned nreasons;
    uint64_t bucket_ns;
};

static void timeline_cells(void *opaque, uint64_t t_ns, const uint64_t *counts, uint64_t total)
{
    struct timeline_ctx *c = opaque;

    c->cells[0] = out_u(t_ns);
    c->cells[1] = out_u(c->bucket_ns);
    c->cells[2] = out_u(total);
    for (unsigned j = 0; j < c->nreasons; j++)
        c->cells[3 + j] = out_u(counts[j]);
    out_row(c->o, c->cells);
}

static void print_timeline(struct out *o, const struct exitreport *r)
{
    unsigned order[NREASONS + 1];
    unsigned n = exitreport_reason_order(r, order);
    char labels[NREASONS + 1][32], title[128], bucket[32];
    struct out_col cols[3 + NREASONS + 1] = {
        {"t_ms", "t(ms)", OUT_MS, NULL},
        {"bucket_us", NULL, OUT_US, NULL},
        {"total", "total", OUT_U64, NULL},
    };
    struct out_cell cells[3 + NREASONS + 1];

    for (unsigned j = 0; j < n; j++) {
        exitreport_reason_label(order[j], labels[j], sizeof(labels[j]));
        cols[3 + j] = (struct out_col){labels[j], labels[j], OUT_U64, NULL};
    }
    exitreport_fmt_duration(bucket, sizeof(bucket), r->bucket_ns);
    snprintf(title, sizeof(title),
             "timeline (exits per %s bucket by reason; t: bucket start; empty buckets are left "
             "out):",
             bucket);
    out_begin(o, "timeline", title, cols, 3 + n, false);
    struct timeline_ctx ctx = {.o = o, .cells = cells, .nreasons = n, .bucket_ns = r->bucket_ns};
    if (exitreport_timeline_walk(r, order, n, false, timeline_cells, &ctx))
        o->err = -ENOMEM;
    out_end(o);
}

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
            fprintf(f, "%s reason %s", sep,
                    exitreport_reason_label(exitreport_reason_slot(fl->reason), a, sizeof(a)));
            sep = ",";
        }
        if (fl->device) {
            fprintf(f, "%s device %s", sep, fl->device);
            sep = ",";
        }
        if (fl->since_ns) {
            out_fixed(a, sizeof(a), fl->since_ns, NS_PER_MS, 3);
            fprintf(f, "%s since %s ms", sep, a);
            sep = ",";
        }
        if (fl->until_ns != UINT64_MAX) {
            out_fixed(a, sizeof(a), fl->until_ns, NS_PER_MS, 3);
            fprintf(f, "%s until %s ms (exclusive)", sep, a);
        }
        fputc('\n', f);
    }
    out_fixed(a, sizeof(a), r->total.ns, NS_PER_MS, 3);
    fprintf(f, "exits: %" PRIu64 " of %" PRIu64 " in %s ms handling", r->total.n, r->nexits_log, a);
    if (r->total.n) {
        out_fixed(a, sizeof(a), r->first_ns, NS_PER_MS, 3);
        out_fixed(b, sizeof(b), r->last_ns, NS_PER_MS, 3);
        fprintf(f, ", from %s to %s ms", a, b);
    }
    fputc('\n', f);
}

int exitreport_print(struct exitreport *r, FILE *f)
{
    struct out o;

    out_open(&o, f, (enum out_format)r->o.format);
    if (o.fmt == OUT_TABLE) {
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
    exitreport_print_kvm(&o, r);
    if (r->o.timeline_ns)
        print_timeline(&o, r);
    if (o.fmt == OUT_JSON) {
        out_json_key(&o, "truncated");
        fputs(r->info.truncated ? "true" : "false", f);
    }
    int ret = out_close(&o);
    if (ret)
        return ret;
    return fflush(f) != 0 || ferror(f) ? -EIO : 0;
}
