/*
 * bench.c: `minivmm bench`, the benchmark harness: runs `bench exits` and `bench boot` itself
 * and hands `bench net` to benchnet.c and `bench io` to benchio.c; the helpers they all use
 * are in bench_common.c, the UDP sink of the QEMU runs in bench_sink.c.
 *
 * Every measurement is a child process: minivmm itself (/proc/self/exe), or a bare-KVM
 * reference program from the build tree (tools/barekvm, tools/pvhboot), or QEMU. Variants
 * are interleaved round by round, with the order rotated each round, so that drift on the
 * host (other tenants, frequency, page cache) spreads over all of them; each result is the
 * median over rounds.
 *
 *   exits  the guest kernel's `bench.exits` loops (guest/bench.c), one VM per mode and
 *          variant, under barekvm, under `minivmm run --bench-device` and the same with
 *          --exit-log. The guest times its own loops with the TSC, in batches, and prints
 *          them; the harness takes the median batch from that line, so boot, teardown and
 *          stalls of a shared host are not in the figures. ioeventfd runs get their drain
 *          thread a CPU of its own (struct bench_placement).
 *   boot   whole-process wall time, spawn to reaped, for build/guest/trivial.elf (print a
 *          line, write the exit port) under pvhboot, `minivmm run -q` and QEMU microvm. A run
 *          that fails, times out or prints the wrong thing is a failure, not a time.
 *
 * Paths: build/minivmm finds build/guest/{kernel,trivial}.elf and the programs in
 * build/tools next to itself (--kernel and --tools override). Exit status 1 when any run
 * failed; missed targets are reported, not failed: the figures are noisy on shared hosts
 * and the reading is a human's (docs/BENCHMARKS.md).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_common.h"
#include "benchlinux.h"
#include "benchio.h"
#include "benchnet.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

#define EXITS_TIMEOUT_MS 120000
#define BOOT_TIMEOUT_MS 20000

#define EXITS_TARGET_PCT 5.0 /* dispatch overhead, exit log off */
#define EXITS_LOG_TARGET_PCT 20.0
#define BOOT_TARGET_RATIO 1.3 /* minivmm / bare-KVM */
#define BOOT_QEMU_TARGET 10.0 /* QEMU / minivmm */

static const char *tool_path(struct bench_paths *p, const char *name)
{
    return bench_join(p->tool, sizeof(p->tool), p->tools, name);
}

/* Median absolute deviation relative to the median, in percent. */
static double spread_pct(const double *v, size_t n)
{
    double m = bench_median(v, n), d[n > 0 ? n : 1];
    for (size_t i = 0; i < n; i++)
        d[i] = v[i] == v[i] ? __builtin_fabs(v[i] - m) : v[i];
    return 100.0 * bench_median(d, n) / m;
}

static double minmax(const double *v, size_t n, bool max)
{
    double r = __builtin_nan("");
    for (size_t i = 0; i < n; i++)
        if (v[i] == v[i] && (r != r || (max ? v[i] > r : v[i] < r)))
            r = v[i];
    return r;
}

/* ---- bench exits ---- */

enum { XV_BARE, XV_MINI, XV_LOG, XV_N };
static const char *const xv_names[XV_N] = {"bare-KVM", "minivmm", "minivmm+log"};

/* Only the pio and mmio loops exit to the VMM's userspace each round trip, so only they are
 * judged against the dispatch targets; in the others minivmm's code is not on the path and a
 * difference is noise (shown, marked "n/a"). */
static const struct xmode {
    const char *name;
    unsigned bit; /* bench.mode */
    bool ioeventfd;
    bool timer;
    bool dispatch; /* each round trip is dispatched by the VMM */
} xmodes[] = {
    {"pio", 1, false, false, true},           {"mmio", 2, false, false, true},
    {"pio-ioeventfd", 4, true, false, false}, {"mmio-ioeventfd", 8, true, false, false},
    {"timer", 16, false, true, false},
};
#define XMODES (ARRAY_SIZE(xmodes))

struct exits_opts {
    unsigned long iters, wakes, rounds, delta_us;
    bool mode_on[XMODES];
    bool verbose;
    bool no_pin;
    const char *kernel;
};

static void exits_usage(FILE *f)
{
    static const char text[] =
        "usage: minivmm bench exits [--iters N] [--wakes N] [--rounds R] [--mode LIST]\n"
        "           [--delta-us N] [--no-pin] [--kernel FILE] [--tools DIR] [-v]\n"
        "\n"
        "Times guest loops of VM exits (guest command bench.exits) under the bare-KVM\n"
        "reference (tools/barekvm), under minivmm with its bench device, and the same with\n"
        "--exit-log: one VM per mode and variant, variants interleaved, order rotated each\n"
        "round; medians over rounds.\n"
        "  --iters N     round trips per exit loop (default 4000; rounded up to whole batches)\n"
        "  --wakes N     timer wake-ups per timer loop (default 400)\n"
        "  --rounds R    rounds (default 7)\n"
        "  --mode LIST   some of pio,mmio,pio-ioeventfd,mmio-ioeventfd,timer (default all)\n"
        "  --delta-us N  timer deadline this far ahead (default 20)\n"
        "  --no-pin      let the scheduler place the ioeventfd drain thread (default: the\n"
        "                VM on the first CPU we may use, the drain thread alone on the next)\n"
        "  --kernel FILE the guest kernel (default: guest/kernel.elf next to minivmm)\n"
        "  --tools DIR   where barekvm is (default: tools/ next to minivmm)\n"
        "  -v            print every run's figure\n";
    fputs(text, f);
    fprintf(f,
            "Targets: minivmm within %.0f%% of bare KVM with the exit log off, %.0f%% with it "
            "on.\n",
            EXITS_TARGET_PCT, EXITS_LOG_TARGET_PCT);
}

static int parse_modes(const char *list, bool *on)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list);
    memset(on, 0, XMODES * sizeof(*on));
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        size_t i;
        for (i = 0; i < XMODES && strcmp(w, xmodes[i].name) != 0; i++)
            ;
        if (i == XMODES)
            return bench_usage_error("--mode: unknown mode '%s'", w);
        on[i] = true;
    }
    for (size_t i = 0; i < XMODES; i++)
        if (on[i])
            return 0;
    return bench_usage_error("--mode: no mode given");
}

/* argv for one run; strings live in `buf` (each 64 bytes). */
static void exits_argv(const struct bench_paths *p, const struct exits_opts *o,
                       const struct xmode *m, int variant, const char *logpath, const char *barekvm,
                       const char *argv[], char buf[][64])
{
    int n = 0;
    snprintf(buf[0], 64, "bench.mode=%u", m->bit);
    snprintf(buf[1], 64, "bench.iters=%lu", m->timer ? o->wakes : o->iters);
    snprintf(buf[2], 64, "bench.delta_us=%lu", o->delta_us);
    if (variant == XV_BARE) {
        argv[n++] = barekvm;
        if (m->timer) { /* a LAPIC for the timer, in KVM; nothing otherwise */
            argv[n++] = "--irqchip";
            argv[n++] = "split";
        }
        if (m->ioeventfd)
            argv[n++] = "--ioeventfd";
        argv[n++] = o->kernel;
    } else {
        argv[n++] = p->self;
        argv[n++] = "run";
        argv[n++] = "-k";
        argv[n++] = o->kernel;
        argv[n++] = "-q";
        argv[n++] = m->ioeventfd ? "--bench-device=ioeventfd" : "--bench-device";
        if (variant == XV_LOG) {
            argv[n++] = "--exit-log";
            argv[n++] = logpath;
        }
        argv[n++] = "--";
    }
    argv[n++] = "bench.exits";
    argv[n++] = buf[0];
    argv[n++] = buf[1];
    if (m->timer)
        argv[n++] = buf[2];
    argv[n++] = "quiet";
    argv[n] = NULL;
}

/* The ns per round trip from the guest's "bench: mode=NAME ..." line (guest/bench.c): the
 * median of its batches, which a stalled vCPU thread moves less than the mean. NAN with *why
 * when the line is missing or says the run did not measure what was asked. */
static double parse_result(const struct bench_child *c, const struct xmode *m, const char **why)
{
    char key[64];
    int klen = snprintf(key, sizeof(key), "bench: mode=%s ", m->name);
    for (const char *l = c->out; (l = strstr(l, key)) != NULL; l += klen) {
        if (l != c->out && l[-1] != '\n')
            continue;
        uint64_t iters, khz, total, med;
        int dev, iofd;
        if (sscanf(l + klen,
                   "iters=%" SCNu64 " dev=%d ioeventfd=%d tsc_khz=%" SCNu64 " tsc_total=%" SCNu64
                   " median_tsc_per_iter=%" SCNu64,
                   &iters, &dev, &iofd, &khz, &total, &med) != 6 ||
            iters == 0 || khz == 0) {
            *why = "the guest's result line is malformed or lacks the TSC rate";
            return __builtin_nan("");
        }
        if (!dev) {
            *why = "the guest saw no bench device";
            return __builtin_nan("");
        }
        if (iofd != (int)m->ioeventfd) {
            *why = m->ioeventfd ? "the VMM registered no ioeventfd" : "unexpected ioeventfd";
            return __builtin_nan("");
        }
        return (double)med * 1e6 / (double)khz;
    }
    *why = "no result line from the guest";
    return __builtin_nan("");
}

static void print_targets(unsigned missed, unsigned unjudged)
{
    if (missed)
        printf("targets: MISSED (see docs/BENCHMARKS.md for the reading)\n");
    else if (unjudged)
        printf("targets: not all judged (no figures where runs failed)\n");
    else
        printf("targets: met\n");
}

static const char *verdict(double v, double limit)
{
    return v != v ? "n/a" : v <= limit ? "ok" : "MISSED";
}

static int cmd_bench_exits(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"iters", required_argument, NULL, 'i'},
        {"wakes", required_argument, NULL, 'w'},
        {"rounds", required_argument, NULL, 'r'},
        {"mode", required_argument, NULL, 'm'},
        {"delta-us", required_argument, NULL, 'd'},
        {"kernel", required_argument, NULL, 'k'},
        {"tools", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"no-pin", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct exits_opts o = {.iters = 4000, .wakes = 400, .rounds = 7, .delta_us = 20};
    struct bench_paths *p = calloc(1, sizeof(*p));
    struct bench_child *c = calloc(1, sizeof(*c));
    double *res = NULL;
    char logpath[PATH_MAX];
    int logfd = -1, status = 1, ch;

    for (size_t i = 0; i < XMODES; i++)
        o.mode_on[i] = true;
    if (!p || !c || bench_find_self(p))
        goto out;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":i:w:r:m:d:k:t:vPh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'i':
            if (bench_count_arg("--iters", optarg, 8, 100000000, "a number from 8 to 10^8",
                                &o.iters))
                goto out;
            break;
        case 'w':
            if (bench_count_arg("--wakes", optarg, 1, 10000000, "a number from 1 to 10^7",
                                &o.wakes))
                goto out;
            break;
        case 'r':
            if (bench_count_arg("--rounds", optarg, 1, 1000, "a number from 1 to 1000", &o.rounds))
                goto out;
            break;
        case 'd':
            if (bench_count_arg("--delta-us", optarg, 1, 1000000, "a number from 1 to 10^6",
                                &o.delta_us))
                goto out;
            break;
        case 'm':
            if (parse_modes(optarg, o.mode_on))
                goto out;
            break;
        case 'k':
            o.kernel = optarg;
            break;
        case 't':
            snprintf(p->tools, sizeof(p->tools), "%s", optarg);
            break;
        case 'v':
            o.verbose = true;
            break;
        case 'P':
            o.no_pin = true;
            break;
        case 'h':
            exits_usage(stdout);
            status = 0;
            goto out;
        case ':':
        default:
            status = bench_option_error(ch, argv);
            goto out;
        }
    }
    if (optind < argc) {
        status = bench_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    char kernel[PATH_MAX];
    if (!o.kernel) {
        bench_join(kernel, sizeof(kernel), p->dir, "guest/kernel.elf");
        o.kernel = kernel;
    }
    char barekvm[PATH_MAX];
    snprintf(barekvm, sizeof(barekvm), "%s", tool_path(p, "barekvm"));
    if (bench_need_file(o.kernel, false, "the guest kernel", "--kernel FILE") ||
        bench_need_file(barekvm, true, "the bare-KVM reference (barekvm)", "--tools DIR"))
        goto out;
    const char *tmp = getenv("TMPDIR");
    snprintf(logpath, sizeof(logpath), "%s/minivmm-bench-XXXXXX.log", tmp && *tmp ? tmp : "/tmp");
    logfd = mkstemps(logpath, 4);
    if (logfd < 0) {
        errmsg_print("bench", "cannot create a temporary exit log: %s", strerror(errno));
        goto out;
    }
    close(logfd);

    res = malloc(sizeof(double) * XMODES * XV_N * o.rounds);
    if (!res)
        goto out;
#define RES(m, v, r) res[((m)*XV_N + (v)) * o.rounds + (r)]
    for (size_t i = 0; i < XMODES * XV_N * o.rounds; i++)
        res[i] = __builtin_nan("");

    printf("minivmm bench exits: %lu round trips per exit loop, %lu timer wake-ups %lu us "
           "ahead, %lu round%s\n",
           o.iters, o.wakes, o.delta_us, o.rounds, o.rounds == 1 ? "" : "s");
    bench_print_kvm();
    struct bench_placement pl;
    bool pin = !o.no_pin && bench_two_cpus(&pl);
    if (pin)
        printf("ioeventfd runs: the VM's threads on CPU %d, its drain thread alone on CPU %d\n",
               pl.main_cpu, pl.drain_cpu);
    else
        printf("ioeventfd runs: threads placed by the scheduler%s\n",
               o.no_pin ? " (--no-pin)" : " (only one CPU allowed)");
    fflush(stdout);
    unsigned failed = 0;
    for (unsigned long r = 0; r < o.rounds; r++) {
        for (size_t m = 0; m < XMODES; m++) {
            if (!o.mode_on[m])
                continue;
            for (int k = 0; k < XV_N; k++) {
                int v = (int)((k + r + m) % XV_N);
                const char *av[BENCH_MAX_ARGS];
                char buf[3][64];
                const char *why = NULL;
                exits_argv(p, &o, &xmodes[m], v, logpath, barekvm, av, buf);
                bool place = pin && xmodes[m].ioeventfd;
                bench_run_child(av, EXITS_TIMEOUT_MS, place ? &pl : NULL, c);
                double ns = __builtin_nan("");
                if (c->timed_out || c->status != 0)
                    why = c->timed_out ? "timed out" : "non-zero exit status";
                else if (place && !c->placed)
                    why = "its ioeventfd thread (\"bench-drain\") was never seen to place";
                else
                    ns = parse_result(c, &xmodes[m], &why);
                if (ns != ns) {
                    char what[96];
                    snprintf(what, sizeof(what), "%s under %s (round %lu)", xmodes[m].name,
                             xv_names[v], r + 1);
                    bench_print_failure(what, av, c, why);
                    failed++;
                }
                RES(m, v, r) = ns;
                if (o.verbose)
                    printf("  round %lu %-15s %-12s %10.1f ns\n", r + 1, xmodes[m].name,
                           xv_names[v], ns);
            }
        }
    }

    printf("\nns per round trip (timer: from the deadline to the guest's interrupt handler): the\n"
           "median over %lu round%s of each run's median batch; spread = median absolute\n"
           "deviation / median over the rounds, worst variant\n\n",
           o.rounds, o.rounds == 1 ? "" : "s");
    printf("%-15s %10s %10s %12s %7s  %-20s %-20s\n", "mode", xv_names[0], xv_names[1], xv_names[2],
           "spread", "overhead (<=5%)", "log on (<=20%)");
    unsigned missed = 0, unjudged = 0;
    bool nodispatch = false;
    for (size_t m = 0; m < XMODES; m++) {
        if (!o.mode_on[m])
            continue;
        double med[XV_N], spread = 0;
        for (int v = 0; v < XV_N; v++) {
            med[v] = bench_median(&RES(m, v, 0), o.rounds);
            double s = spread_pct(&RES(m, v, 0), o.rounds);
            if (s > spread || s != s)
                spread = s;
        }
        double ovh = 100.0 * (med[XV_MINI] / med[XV_BARE] - 1);
        double ovl = 100.0 * (med[XV_LOG] / med[XV_BARE] - 1);
        bool judged = xmodes[m].dispatch;
        char cb[6][32], a[48], b[48];
        snprintf(a, sizeof(a), "%s %s", bench_cell(cb[4], 32, ovh, 1, true, "%"),
                 judged ? verdict(ovh, EXITS_TARGET_PCT) : "n/a");
        snprintf(b, sizeof(b), "%s %s", bench_cell(cb[5], 32, ovl, 1, true, "%"),
                 judged ? verdict(ovl, EXITS_LOG_TARGET_PCT) : "n/a");
        if (judged) {
            missed += (ovh > EXITS_TARGET_PCT) + (ovl > EXITS_LOG_TARGET_PCT);
            unjudged += (ovh != ovh) + (ovl != ovl);
        } else {
            nodispatch = true;
        }
        printf("%-15s %10s %10s %12s %7s  %-20s %-20s\n", xmodes[m].name,
               bench_cell(cb[0], 32, med[0], 1, false, ""),
               bench_cell(cb[1], 32, med[1], 1, false, ""),
               bench_cell(cb[2], 32, med[2], 1, false, ""),
               bench_cell(cb[3], 32, spread, 1, false, "%"), a, b);
    }
    printf("\n");
    if (nodispatch)
        printf("n/a: no exit reaches the VMM in that loop (ioeventfd, or the timer in KVM's\n"
               "LAPIC), so minivmm's code is not on the path and a difference is noise\n");
    if (failed)
        printf("%u run%s failed (see above)\n", failed, failed == 1 ? "" : "s");
    print_targets(missed, unjudged);
    status = failed ? 1 : 0;
#undef RES
out:
    if (logfd >= 0)
        unlink(logpath);
    free(res);
    free(c);
    free(p);
    return status;
}

/* ---- bench boot ---- */

enum { BV_BARE, BV_MINI, BV_QEMU, BV_N };
static const char *const bv_names[BV_N] = {"bare-KVM (pvhboot)", "minivmm run -q", "QEMU microvm"};
static const int bv_status[BV_N] = {0, 0, 1}; /* isa-debug-exit: (0 << 1) | 1 */

#define TRIVIAL_OUTPUT "trivial: hello"

static void boot_usage(FILE *f)
{
    static const char text[] =
        "usage: minivmm bench boot [--runs N] [--qemu PATH | --no-qemu] [--kernel FILE]\n"
        "           [--tools DIR] [-v]\n"
        "       minivmm bench boot --linux KERNEL --initrd FILE [--mark TEXT] [-c N]\n"
        "           [--runs N] [--qemu PATH | --no-qemu] [-v]\n"
        "\n"
        "Whole-process wall time (spawn to reaped) of booting the trivial PVH guest (print\n"
        "one line, write 0 to port 0x501) under the bare-KVM reference (tools/pvhboot),\n"
        "minivmm run -q and QEMU microvm; interleaved, order rotated each round, after one\n"
        "untimed warm-up round.\n"
        "  --runs N      timed runs of each (default 21)\n"
        "  --qemu PATH   qemu-system-x86_64 to compare with (default: from $PATH, if any)\n"
        "  --no-qemu     leave QEMU out\n"
        "  --kernel FILE the guest (default: guest/trivial.elf next to minivmm)\n"
        "  --tools DIR   where pvhboot is (default: tools/ next to minivmm)\n"
        "  -v            print every run's time\n"
        "With --linux: a Linux kernel (bzImage or PVH vmlinux) and an initramfs that prints\n"
        "TEXT first (default 'check: init started', as tools/linux-guest --init check makes)\n"
        "and powers off, under minivmm and QEMU microvm (ACPI on), -m 512M, -c N vCPUs\n"
        "(default 1): spawn to the first line and to exit, medians (default 5 runs).\n";
    fputs(text, f);
    fprintf(f,
            "Targets: minivmm at most %.1fx the bare-KVM reference, and %.0fx faster than "
            "QEMU.\n",
            BOOT_TARGET_RATIO, BOOT_QEMU_TARGET);
}

static int cmd_bench_boot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"runs", required_argument, NULL, 'n'},  {"qemu", required_argument, NULL, 'q'},
        {"no-qemu", no_argument, NULL, 'Q'},     {"kernel", required_argument, NULL, 'k'},
        {"tools", required_argument, NULL, 't'}, {"verbose", no_argument, NULL, 'v'},
        {"linux", required_argument, NULL, 'L'}, {"initrd", required_argument, NULL, 'i'},
        {"mark", required_argument, NULL, 'M'},  {"cpus", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0},
    };
    unsigned long runs = 0, ncpus = 1;
    struct benchlinux_opts lo = {.mark = "check: init started"};
    const char *qemu = NULL, *kernel = NULL;
    bool no_qemu = false, verbose = false;
    struct bench_paths *p = calloc(1, sizeof(*p));
    struct bench_child *c = calloc(1, sizeof(*c));
    double *res = NULL;
    char qbuf[PATH_MAX], kbuf[PATH_MAX], pvhboot[PATH_MAX];
    int status = 1, ch;

    if (!p || !c || bench_find_self(p))
        goto out;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":n:q:Qk:t:vc:i:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'L':
            lo.kernel = optarg;
            break;
        case 'i':
            lo.initrd = optarg;
            break;
        case 'M':
            if (!*optarg) {
                status = bench_usage_error("--mark: empty text");
                goto out;
            }
            lo.mark = optarg;
            break;
        case 'c':
            if (bench_count_arg("--cpus", optarg, 1, 64, "a number from 1 to 64", &ncpus))
                goto out;
            break;
        case 'n':
            if (bench_count_arg("--runs", optarg, 1, 100000, "a number from 1 to 100000", &runs))
                goto out;
            break;
        case 'q':
            qemu = optarg;
            break;
        case 'Q':
            no_qemu = true;
            break;
        case 'k':
            kernel = optarg;
            break;
        case 't':
            snprintf(p->tools, sizeof(p->tools), "%s", optarg);
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            boot_usage(stdout);
            status = 0;
            goto out;
        case ':':
        default:
            status = bench_option_error(ch, argv);
            goto out;
        }
    }
    if (optind < argc || (qemu && no_qemu)) {
        status = optind < argc ? bench_usage_error("unexpected argument '%s'", argv[optind])
                               : bench_usage_error("--qemu and --no-qemu together");
        goto out;
    }
    if (!lo.kernel != !lo.initrd || (lo.kernel && kernel)) {
        status = bench_usage_error(lo.kernel && kernel ? "--linux and --kernel together"
                                                       : "--linux and --initrd go together");
        goto out;
    }
    if (lo.kernel) {
        if (bench_need_file(lo.kernel, false, "the Linux kernel", "--linux KERNEL") ||
            bench_need_file(lo.initrd, false, "the initramfs", "--initrd FILE") ||
            (qemu && bench_need_file(qemu, true, "QEMU", "--qemu PATH or --no-qemu")))
            goto out;
        if (!qemu && !no_qemu)
            qemu = bench_search_path("qemu-system-x86_64", qbuf, sizeof(qbuf));
        lo.qemu = no_qemu ? NULL : qemu;
        lo.runs = runs ? runs : 5;
        lo.cpus = (unsigned)ncpus;
        lo.verbose = verbose;
        status = benchlinux_run(p, &lo);
        goto out;
    }
    if (!runs)
        runs = 21;
    if (!kernel) {
        bench_join(kbuf, sizeof(kbuf), p->dir, "guest/trivial.elf");
        kernel = kbuf;
    }
    snprintf(pvhboot, sizeof(pvhboot), "%s", tool_path(p, "pvhboot"));
    if (bench_need_file(kernel, false, "the trivial guest", "--kernel FILE") ||
        bench_need_file(pvhboot, true, "the bare-KVM reference (pvhboot)", "--tools DIR") ||
        (qemu && bench_need_file(qemu, true, "QEMU", "--qemu PATH or --no-qemu")))
        goto out;
    if (!qemu && !no_qemu)
        qemu = bench_search_path("qemu-system-x86_64", qbuf, sizeof(qbuf));
    int nv = qemu && !no_qemu ? BV_N : BV_QEMU;

    const char *av[BV_N][BENCH_MAX_ARGS] = {
        {pvhboot, kernel, NULL},
        {p->self, "run", "-k", kernel, "-q", NULL},
        {qemu, "-M", "microvm,acpi=off", "-accel", "kvm", "-nodefaults", "-no-user-config",
         "-nographic", "-serial", "stdio", "-device", "isa-debug-exit", "-kernel", kernel, NULL},
    };
    res = malloc(sizeof(double) * BV_N * runs);
    if (!res)
        goto out;
    for (size_t i = 0; i < BV_N * runs; i++)
        res[i] = __builtin_nan("");

    printf("minivmm bench boot: %s, %lu timed run%s each%s\n", kernel, runs, runs == 1 ? "" : "s",
           nv == BV_N ? "" : " (QEMU left out: not found or --no-qemu)");
    bench_print_kvm();
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    printf("warning: this minivmm is built with sanitizers; its times are not the default "
           "build's\n");
#endif
    fflush(stdout);
    unsigned failed = 0;
    for (unsigned long r = 0; r <= runs; r++) { /* round 0: warm-up, not counted */
        for (int k = 0; k < nv; k++) {
            int v = (int)((k + r) % (unsigned long)nv);
            const char *why = NULL;
            bench_run_child(av[v], BOOT_TIMEOUT_MS, NULL, c);
            if (c->timed_out)
                why = "timed out";
            else if (c->status != bv_status[v])
                why = "wrong exit status";
            else if (!strstr(c->out, TRIVIAL_OUTPUT))
                why = "the guest's line '" TRIVIAL_OUTPUT "' is missing";
            if (why) {
                char what[96];
                snprintf(what, sizeof(what), "%s (%s)", bv_names[v], r ? "timed run" : "warm-up");
                bench_print_failure(what, av[v], c, why);
                failed++;
                continue;
            }
            if (r == 0)
                continue;
            res[(size_t)v * runs + r - 1] = (double)c->ns / 1e6;
            if (verbose)
                printf("  run %lu %-20s %8.3f ms\n", r, bv_names[v], (double)c->ns / 1e6);
        }
    }

    printf("\nwhole-process wall time, spawn to exit reaped: medians over %lu run%s\n\n", runs,
           runs == 1 ? "" : "s");
    printf("%-20s %10s %8s %8s %10s  %s\n", "variant", "median ms", "min", "max", "vs bare",
           "target");
    double med[BV_N];
    unsigned missed = 0, unjudged = 0;
    for (int v = 0; v < nv; v++) {
        const double *x = res + (size_t)v * runs;
        med[v] = bench_median(x, runs);
        char target[96] = "";
        double ratio = med[v] / med[BV_BARE];
        if (v == BV_MINI) {
            snprintf(target, sizeof(target), "<= %.1fx bare-KVM: %s", BOOT_TARGET_RATIO,
                     verdict(ratio, BOOT_TARGET_RATIO));
            missed += ratio > BOOT_TARGET_RATIO;
            unjudged += ratio != ratio;
        } else if (v == BV_QEMU) {
            double speedup = med[BV_QEMU] / med[BV_MINI];
            snprintf(target, sizeof(target), "minivmm %.1fx faster (>= %.0fx: %s)", speedup,
                     BOOT_QEMU_TARGET, verdict(-speedup, -BOOT_QEMU_TARGET));
            missed += speedup < BOOT_QEMU_TARGET;
            unjudged += speedup != speedup;
        }
        char cb[4][32];
        printf("%-20s %10s %8s %8s %10s  %s\n", bv_names[v],
               bench_cell(cb[0], 32, med[v], 2, false, ""),
               bench_cell(cb[1], 32, minmax(x, runs, false), 2, false, ""),
               bench_cell(cb[2], 32, minmax(x, runs, true), 2, false, ""),
               bench_cell(cb[3], 32, ratio, 2, false, "x"), target);
    }
    printf("\n");
    if (failed)
        printf("%u run%s failed (see above)\n", failed, failed == 1 ? "" : "s");
    print_targets(missed, unjudged);
    status = failed ? 1 : 0;
out:
    free(res);
    free(c);
    free(p);
    return status;
}

static void bench_usage(FILE *f)
{
    fputs("usage: minivmm bench exits [options]  VM-exit round trips, minivmm vs bare KVM\n"
          "       minivmm bench boot [options]   trivial guest boot: vs bare KVM and QEMU\n"
          "       minivmm bench net [options]    virtio-net TX throughput and VF ping; vs QEMU\n"
          "       minivmm bench io [options]     one payload via serial, NE2000, virtio modes\n"
          "       minivmm bench exits|boot|net|io --help\n"
          "Results and how to read them: docs/BENCHMARKS.md\n",
          f);
}

int bench_main(int argc, char **argv)
{
    if (argc < 2) {
        bench_usage(stderr);
        return 1;
    }
    if (strcmp(argv[1], "exits") == 0)
        return cmd_bench_exits(argc - 1, argv + 1);
    if (strcmp(argv[1], "boot") == 0)
        return cmd_bench_boot(argc - 1, argv + 1);
    if (strcmp(argv[1], "net") == 0)
        return benchnet_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "io") == 0)
        return benchio_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        bench_usage(stdout);
        return 0;
    }
    return bench_usage_error("unknown benchmark '%s'", argv[1]);
}
