/*
 * exitreport_args.c: the command line of `minivmm exits` (exitreport.h): options and filters,
 * durations and exit reasons in the forms people type; and the percentile the tables use.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "exitreport_int.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

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
