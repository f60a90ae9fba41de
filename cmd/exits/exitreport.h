/*
 * exitreport.h: the full `minivmm exits FILE` report, in the manner of `perf kvm stat report`:
 * per exit reason samples, shares and handling-time percentiles; the top ports and MMIO
 * addresses named from the log's bus map; per vCPU; per device; boot phases; KVM's own
 * statistics beside ours; an optional timeline of exits per time bucket; as a table, CSV or
 * JSON, and as a PNG drawn by gnuplot.
 *
 * The short summary that `minivmm run` prints at its end stays in exitsum.h.
 */
#ifndef MINIVMM_EXITREPORT_H
#define MINIVMM_EXITREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "exitlog.h"
#include "minivmm/out.h"

/* The emitter's formats (minivmm/out.h), under the report's names. */
enum exitreport_format {
    EXITREPORT_TABLE = OUT_TABLE,
    EXITREPORT_CSV = OUT_CSV,
    EXITREPORT_JSON = OUT_JSON
};

/* Which exits the report counts. An exit is counted when it passes every filter that is set. */
struct exitreport_filter {
    bool by_vcpu;
    uint32_t vcpu;
    bool by_reason;
    uint32_t reason;    /* KVM_EXIT_*, below EXITSUM_MAX_REASONS */
    const char *device; /* NULL: any exit; a bus-map device name; "none": PIO/MMIO accesses
                         * that no device in the map claims. Exits without an address (HLT,
                         * SHUTDOWN, ...) belong to no device and match only when NULL. */
    uint64_t since_ns;  /* counted: since_ns <= t_ns < until_ns (ns since the vCPUs started) */
    uint64_t until_ns;  /* UINT64_MAX: no upper bound */
};

struct exitreport_opts {
    const char *path; /* the log */
    struct exitreport_filter filter;
    enum exitreport_format format;
    uint64_t timeline_ns; /* bucket of the printed timeline; 0: no timeline */
    const char *plot;     /* PNG to draw with gnuplot, or NULL */
};

#define EXITREPORT_TOP_ADDRS 20        /* rows of the address table (table format) */
#define EXITREPORT_MAX_BUCKETS 1000000 /* timeline rows, first to last bucket with exits */

/* Parses `minivmm exits` arguments (argv[0] is "exits"; options may follow FILE) with
 * getopt_long. 0: *o filled; 1: --help was asked; -EINVAL: bad usage, a one-line reason in
 * err. o->filter.until_ns is UINT64_MAX unless --until was given. */
int exitreport_parse_args(int argc, char **argv, struct exitreport_opts *o, char *err,
                          size_t errlen);
/* "1.5" (seconds), "10ms", "500us", "0.01s", "250ns": 0 and *ns, or -EINVAL (junk, empty,
 * negative) / -ERANGE (more than 2^64 ns). Digits beyond the nanosecond are dropped. */
int exitreport_parse_duration(const char *s, uint64_t *ns);
/* A KVM exit reason as exitlog_reason_name() spells it, any case, with or without KVM_EXIT_
 * ("io", "MMIO", "kvm_exit_hlt", "ioapic_eoi"), or its number: 0 or -EINVAL. */
int exitreport_parse_reason(const char *s, uint32_t *reason);
/* Nearest-rank percentile of n sorted values: the value at rank ceil(pct/100 * n) (1-based;
 * rank 1 for pct 0). 0 for n == 0. */
uint64_t exitreport_percentile(const uint64_t *sorted, size_t n, unsigned pct);

struct exitreport;

/* Reads the log at o->path twice (markers and KVM statistics first, then the exits, filed into
 * the boot phases by time), keeping per reason the handling times of the counted exits
 * (8 bytes an exit) and per address, vCPU, device, phase and time bucket a few counters.
 * 0, or -errno with a one-line reason in err: the log's own errors (exitlog_read), -EINVAL for
 * a filter the log cannot satisfy (--vcpu beyond its vCPUs, --device not in its bus map),
 * -E2BIG for a timeline of more than EXITREPORT_MAX_BUCKETS buckets, -ENOMEM. The report
 * keeps a copy of o, not its strings: they must outlive it. */
int exitreport_build(struct exitreport **out, const struct exitreport_opts *o, char *err,
                     size_t errlen);
/* The header and bus map of the log, truncation included. */
const struct exitlog_info *exitreport_info(const struct exitreport *r);
/* Prints the report in o->format. 0, or -EIO when writing to f failed. */
int exitreport_print(struct exitreport *r, FILE *f);
/* Draws a PNG at `png`: exits per time bucket per reason (the --timeline bucket, or about a
 * hundredth of the time span) above a histogram of handling times (power-of-two bins), by
 * running `gnuplot` (found in PATH, or the program given) with a script on its stdin and the
 * data in a temporary file. 0, or -errno with a one-line reason in err: -ENOENT when gnuplot is
 * missing, -EIO when it failed. */
int exitreport_plot(struct exitreport *r, const char *png, const char *gnuplot, char *err,
                    size_t errlen);
void exitreport_free(struct exitreport *r);

#endif
