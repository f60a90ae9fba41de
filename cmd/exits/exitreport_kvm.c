/*
 * exitreport_kvm.c: KVM's own statistics (the log's stats records, kvmstats.h) beside the
 * counts of the exits report, per vCPU, with a note wherever the two disagree and why they may
 * (exitreport_print_kvm(), exitreport_int.h).
 */
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitreport_int.h"
#include "kvmstats.h"
#include "minivmm/json.h"
#include "minivmm/util.h"

/* KVM's counts are of the whole run: only the vCPU filter can be compared with them. */
static bool filtered_by_time_reason_device(const struct exitreport *r)
{
    const struct exitreport_filter *f = &r->o.filter;

    return f->by_reason || f->device || f->since_ns || f->until_ns != UINT64_MAX;
}

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

void exitreport_print_kvm(struct out *o, const struct exitreport *r)
{
    bool compared = r->nknames && !filtered_by_time_reason_device(r);
    bool per_cpu = o->fmt != OUT_TABLE || r->nkcpus <= TABLE_MAX_STAT_CPUS;
    size_t ncols = 2 + r->nkcpus;
    struct out_col *cols = calloc(ncols, sizeof(*cols));
    struct out_cell *cells = calloc(ncols, sizeof(*cells));
    char(*keys)[24] = calloc(r->nkcpus + 1, sizeof(*keys));
    struct notes *nt = calloc(1, sizeof(*nt));
    size_t zero = 0;

    if (!cols || !cells || !keys || !nt) {
        o->err = -ENOMEM;
        goto out;
    }
    if (o->fmt == OUT_JSON) {
        out_json_key(o, "kvm_stats");
        fprintf(o->f,
                "{\"present\": %s, \"compared\": %s, \"stats\": ", r->nknames ? "true" : "false",
                compared ? "true" : "false");
    }
    if (o->fmt == OUT_TABLE && !r->nknames) {
        fprintf(o->f, "\nKVM's counts: none in this log (no stats records)\n");
        goto out;
    }

    /* KVM's statistics as it named them: the sum over vCPUs, then per vCPU. */
    cols[0] = (struct out_col){"name", "statistic", OUT_STR, NULL};
    cols[1] = (struct out_col){"total", "total", OUT_U64, NULL};
    for (size_t j = 0; j < r->nkcpus; j++) {
        snprintf(keys[j], sizeof(keys[j]), "vcpu%" PRIu32, r->kcpus[j]);
        cols[2 + j] = (struct out_col){keys[j], per_cpu ? keys[j] : NULL, OUT_U64, NULL};
    }
    for (size_t i = 0; i < r->nknames; i++)
        zero += r->knames[i].total == 0;
    char title[128];
    snprintf(title, sizeof(title), "KVM's counts (its binary statistics at the end of the run%s):",
             o->fmt == OUT_TABLE && zero ? "; zero counts left out" : "");
    out_begin(o, o->fmt == OUT_JSON ? NULL : "kvm_stats", title, cols, (unsigned)ncols,
              false);
    for (size_t i = 0; i < r->nknames; i++) {
        const struct kname *kn = &r->knames[i];

        if (o->fmt == OUT_TABLE && kn->total == 0)
            continue;
        cells[0] = out_s(kn->name);
        cells[1] = out_u(kn->total);
        for (size_t j = 0; j < r->nkcpus; j++) {
            const struct kstat *k = exitreport_kstat_find(r, kn, r->kcpus[j]);
            cells[2 + j] = k ? out_u(k->value) : OUT_NONE;
        }
        out_row(o, cells);
    }
    out_end(o);

    /* The statistics that count what we count, side by side. */
    static const struct out_col ccols[] = {
        {"statistic", "statistic", OUT_STR, NULL}, {"reason", "minivmm's reason", OUT_STR, NULL},
        {"vcpu", "vcpu", OUT_U64, "all"},          {"kvm", "KVM", OUT_U64, NULL},
        {"minivmm", "minivmm", OUT_U64, NULL},
    };
    if (o->fmt == OUT_JSON)
        fputs(", \"compare\": ", o->f);
    if (o->fmt == OUT_TABLE && !compared)
        fprintf(o->f, "\nKVM's counts cover the whole run: not compared with counts filtered by "
                      "reason, device or time.\n");
    else
        out_begin(o, o->fmt == OUT_JSON ? NULL : "kvm_compare",
                  "KVM's counts beside minivmm's:", ccols, ARRAY_SIZE(ccols), false);
    for (size_t k = 0; k < NPAIRS && compared; k++) {
        const struct kvm_pair *p = &kvm_pairs[k];
        const struct kname *kn = exitreport_kname_find(r, p->stat);
        uint64_t kvm, mine;

        if (!kn)
            continue;
        pair_totals(r, p, kn, &kvm, &mine);
        struct out_cell c[] = {out_s(p->stat), out_s(reason_of_pair(p)), OUT_NONE, out_u(kvm),
                           out_u(mine)};
        out_row(o, c);
        /* Per vCPU: always in CSV and JSON; in the table only where a vCPU disagrees. */
        bool per_vcpu = kn->n > 1 && (o->fmt != OUT_TABLE || pair_vcpus_differ(r, p, kn));
        for (size_t i = kn->first; i < kn->first + kn->n && per_vcpu; i++) {
            c[2] = out_u(r->stats[i].vcpu);
            c[3] = out_u(r->stats[i].value);
            c[4] = out_u(ours(r, p, r->stats[i].vcpu));
            out_row(o, c);
        }
        pair_notes(r, p, kn, nt);
    }
    if (o->fmt != OUT_TABLE || compared)
        out_end(o);

    /* Where they disagree, in words. */
    static const struct out_col ncol[] = {{"note", NULL, OUT_STR, NULL}};
    if (o->fmt == OUT_JSON) {
        fputs(", \"notes\": [", o->f);
        for (unsigned i = 0; i < nt->n; i++) {
            fputs(i ? ", " : "", o->f);
            json_fput_str(o->f, nt->s[i], JSON_ASCII);
        }
        fputs("]}", o->f);
    } else if (o->fmt == OUT_CSV) {
        out_begin(o, "notes", NULL, ncol, 1, false);
        for (unsigned i = 0; i < nt->n; i++) {
            struct out_cell c = out_s(nt->s[i]);
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
