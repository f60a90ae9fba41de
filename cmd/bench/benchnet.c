/*
 * benchnet.c: `minivmm bench net`, guest -> uplink throughput and VF -> VF ping round trips.
 *
 * tx    the guest's `net.tx` (guest/net/netcmd.c) sends net.count UDP frames of exactly
 *       net.size bytes from vf0 as fast as it can, under `minivmm run --nic vfs=1,uplink=sink`
 *       with notify=exit|ioeventfd and event_idx=on|off, and under QEMU microvm with a
 *       virtio-net-device on a `-netdev dgram` socket whose far end is a UDP sink of ours on
 *       127.0.0.1 (a thread counting datagrams; QEMU gets `-cpu qemu64,+invtsc,
 *       vmware-cpuid-freq=on` so that the guest learns the TSC rate as it does from minivmm). The
 * time is the guest's own TSC report for the transfer (frames are built before its clock starts; it
 * stops when the device has taken every frame), not boot. Per run: packets/s, MB/s (10^6 bytes of
 * frames), and for minivmm the userspace exits between the guest's xfer-start and xfer-done phase
 *       markers (the run summary's phase table) and the NIC I/O thread's eventfd reads (the
 *       end-of-run `nic:` line; whole run, so one rx-queue notify of start-up is included),
 *       both per KiB sent.
 *   ping  `net.ping` from vf0 to vf1 of one VM (`--nic vfs=2`: through the PF's switch), the
 *       guest's RTTs, for the four minivmm variants; then the same guest pinging across a
 *       `dgram` uplink on 127.0.0.1 (net.ping=10.0.2.20) a minivmm process of ours that runs
 *       `net.echo net.ip=10.0.2.20` for the whole bench: the pinger under minivmm
 *       (`--nic vfs=1,uplink=dgram:PB:PA`) and under QEMU microvm (`-netdev dgram`, the
 *       same ports), so that the two VMMs are compared on the same path.
 *
 * Variants and sizes are interleaved round by round with the order rotated each round; each
 * figure is the median over rounds (ping: over every reply of every round). A run that fails,
 * times out, loses frames or prints no result is reported and makes the exit status 1.
 * bench_common.c supplies the children, paths, statistics and output parsers, bench_sink.c
 * the UDP sink.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_sink.h"
#include "benchnet.h"
#include "benchnetlinux.h"
#include "pfswitch.h"

#define NET_TIMEOUT_MS 120000
#define MAX_SIZES 4
#define VF1_IP "10.0.2.16" /* the guest's default: 10.0.2.15 + VF index */
#define ECHO_IP "10.0.2.20"
#define ECHO_START_MS 20000

extern char **environ;

enum { NV_EXIT_ON, NV_EXIT_OFF, NV_IOFD_ON, NV_IOFD_OFF, NV_QEMU, NV_N };

static const struct nvariant {
    const char *name;
    const char *nic; /* --nic keys after vfs=N */
    bool ioeventfd;
} nvariants[NV_N] = {
    {"notify=exit,event_idx=on", "notify=exit,event_idx=on", false},
    {"notify=exit,event_idx=off", "notify=exit,event_idx=off", false},
    {"notify=ioeventfd,event_idx=on", "notify=ioeventfd,event_idx=on", true},
    {"notify=ioeventfd,event_idx=off", "notify=ioeventfd,event_idx=off", true},
    {"QEMU microvm, -netdev dgram", NULL, false},
};

enum { M_PPS, M_MBS, M_EXITS, M_READS, M_N };

/* Ping variants: the four notify/event_idx ones in one VM (vf0 -> vf1), then across a dgram
 * uplink to the net.echo VM. */
enum { PV_DGRAM = NV_QEMU, PV_QEMU, PV_N };
static const char *const pv_names[PV_N] = {
    "notify=exit,event_idx=on",      "notify=exit,event_idx=off",
    "notify=ioeventfd,event_idx=on", "notify=ioeventfd,event_idx=off",
    "minivmm -> dgram -> minivmm",   "QEMU -> dgram -> minivmm",
};

struct net_opts {
    unsigned long count, rounds, pings;
    unsigned long sizes[MAX_SIZES];
    unsigned nsizes;
    bool verbose, no_qemu;
    const char *qemu, *kernel;
    const char *linux_kernel, *initrd; /* --linux, --initrd: benchnetlinux.c */
};

static void net_usage(FILE *f)
{
    fputs("usage: minivmm bench net [--count N] [--sizes LIST] [--rounds R] [--pings N]\n"
          "           [--qemu PATH | --no-qemu] [--kernel FILE] [-v]\n"
          "       minivmm bench net --linux KERNEL --initrd FILE [--count N] [--sizes LIST]\n"
          "           [--rounds R] [--qemu PATH | --no-qemu] [-v]\n"
          "\n"
          "Guest -> uplink throughput of the guest's net.tx (vf0, uplink=sink) under minivmm\n"
          "with notify=exit|ioeventfd and event_idx=on|off, and under QEMU microvm with\n"
          "-netdev dgram to a UDP sink on 127.0.0.1; then net.ping vf0 -> vf1 through the PF\n"
          "switch, and net.ping from minivmm and from QEMU across a dgram uplink on 127.0.0.1\n"
          "to a minivmm running net.echo. Variants interleaved, order rotated each round;\n"
          "medians over rounds.\n"
          "  --count N     frames per run (default 2000)\n"
          "  --sizes LIST  frame sizes in bytes, 60-1514, at most 4 (default 64,1514)\n"
          "  --rounds R    rounds (default 5)\n"
          "  --pings N     echo requests per ping run (default 50; 0: no ping runs)\n"
          "  --qemu PATH   qemu-system-x86_64 to compare with (default: from $PATH, if any)\n"
          "  --no-qemu     leave QEMU out\n"
          "  --kernel FILE the guest (default: guest/kernel.elf next to minivmm)\n"
          "  -v            print every run's figures\n"
          "Time is the guest's TSC report of the transfer, not boot; exits/KiB counts the\n"
          "VMM's userspace exits between the guest's xfer-start and xfer-done markers.\n"
          "\n"
          "With --linux: Linux (a bzImage or PVH vmlinux) with an initramfs of\n"
          "`tools/linux-guest --init netsend` sends N UDP frames of each size with its own\n"
          "virtio_net, through minivmm's VF and through QEMU microvm's virtio-net-device\n"
          "(acpi=on; both over -netdev/uplink dgram to a UDP sink on 127.0.0.1), after one\n"
          "warm-up round; frames/s, MB/s, exits/KiB (minivmm), virtio irqs/KiB, ratio to QEMU.\n",
          f);
}

static int parse_sizes(const char *list, struct net_opts *o)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", list);
    o->nsizes = 0;
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (o->nsizes == MAX_SIZES)
            return bench_usage_error("--sizes: at most %d sizes", MAX_SIZES);
        if (bench_parse_count(w, 60, 1514, &o->sizes[o->nsizes]))
            return bench_usage_error("--sizes: '%s' is not a frame size from 60 to 1514", w);
        o->nsizes++;
    }
    return o->nsizes ? 0 : bench_usage_error("--sizes: no size given");
}

/* ---- parsing a run's output ---- */

/* "net.tx: P packets, B bytes in U us": 0, or -1. */
static int parse_tx(const struct bench_child *c, uint64_t *pkts, uint64_t *bytes, uint64_t *us)
{
    const char *l = bench_find_line(c->out, "net.tx: ");
    if (!l)
        return -1;
    return sscanf(l, "net.tx: %" SCNu64 " packets, %" SCNu64 " bytes in %" SCNu64 " us", pkts,
                  bytes, us) == 3
               ? 0
               : -1;
}

/* ---- QEMU's command line ---- */

/* argv for QEMU microvm booting the guest with `append`, its virtio-net-device on a
 * `-netdev dgram` from 127.0.0.1:local to 127.0.0.1:remote (the -netdev value written into
 * netdev). -cpu: QEMU's default qemu64 plus the TSC-rate leaf 0x40000010, which the guest
 * times with (guest/tsc.c); without it the guest assumes 3 GHz and QEMU's figures come out too
 * fast. (-cpu host aborts on our hosts.) */
static void qemu_dgram_argv(const struct net_opts *o, unsigned local, unsigned remote, char *netdev,
                            size_t len, const char *append, const char *av[])
{
    snprintf(netdev, len,
             "dgram,id=n,local.type=inet,local.host=127.0.0.1,local.port=%u,"
             "remote.type=inet,remote.host=127.0.0.1,remote.port=%u",
             local, remote);
    const char *a[] = {o->qemu,
                       "-M",
                       "microvm,acpi=off",
                       "-accel",
                       "kvm",
                       "-cpu",
                       "qemu64,+invtsc,vmware-cpuid-freq=on",
                       "-nodefaults",
                       "-no-user-config",
                       "-nographic",
                       "-serial",
                       "stdio",
                       "-device",
                       "isa-debug-exit",
                       "-global",
                       "virtio-mmio.force-legacy=false",
                       "-device",
                       "virtio-net-device,netdev=n",
                       "-netdev",
                       netdev,
                       "-kernel",
                       o->kernel,
                       "-append",
                       append,
                       NULL};
    memcpy(av, a, sizeof(a));
}

/* ---- one throughput run ---- */

struct tx_run {
    double m[M_N];
};

static const char *tx_run(const struct bench_paths *p, const struct net_opts *o, int v,
                          unsigned long size, struct bench_child *c, struct tx_run *r,
                          const char **argv_out[])
{
    static const char *av[BENCH_MAX_ARGS];
    static char nic[96], cnt[48], sz[48], netdev[256];
    struct bench_sink s = {.fd = -1};
    uint64_t pkts, bytes, us;

    for (int i = 0; i < M_N; i++)
        r->m[i] = __builtin_nan("");
    snprintf(cnt, sizeof(cnt), "net.count=%lu", o->count);
    snprintf(sz, sizeof(sz), "net.size=%lu", size);
    *argv_out = av;
    if (v != NV_QEMU) {
        snprintf(nic, sizeof(nic), "vfs=1,uplink=sink,%s", nvariants[v].nic);
        const char *a[] = {p->self, "run",    "-k", o->kernel, "--nic", nic,
                           "--",    "net.tx", cnt,  sz,        NULL};
        memcpy(av, a, sizeof(a));
        bench_run_child(av, NET_TIMEOUT_MS, NULL, c);
        if (c->timed_out || c->status != 0)
            return c->timed_out ? "timed out" : "non-zero exit status";
    } else {
        int lfd;
        uint16_t lport;
        /* A receive buffer that holds the whole run (as bench io's): on a slow or busy
         * machine (tools/kvmbox) a default-sized one overflowed and the run failed. */
        int ret = bench_sink_start(&s, 32 << 20, NULL, NULL);
        if (ret)
            return "cannot open the UDP sink on 127.0.0.1";
        /* QEMU binds its own end: take a free port and let it go (loopback only). */
        if (bench_udp_socket(&lfd, &lport)) {
            bench_sink_stop(&s, 0);
            return "cannot find a free UDP port on 127.0.0.1";
        }
        close(lfd);
        static char append[160];
        snprintf(append, sizeof(append), "net.tx %s %s", cnt, sz);
        qemu_dgram_argv(o, lport, s.port, netdev, sizeof(netdev), append, av);
        bench_run_child(av, NET_TIMEOUT_MS, NULL, c);
        bench_sink_stop(&s, o->count);
        if (c->timed_out || c->status != 1) /* isa-debug-exit: (0 << 1) | 1 */
            return c->timed_out ? "timed out" : "wrong exit status (want 1: guest status 0)";
    }
    if (parse_tx(c, &pkts, &bytes, &us) || us == 0)
        return "no 'net.tx: ... packets, ... bytes in ... us' line from the guest";
    if (pkts != o->count || bytes != o->count * size)
        return "the guest sent other than net.count frames of net.size bytes";
    double kib = (double)bytes / 1024;
    r->m[M_PPS] = (double)pkts * 1e6 / (double)us;
    r->m[M_MBS] = (double)bytes / (double)us; /* bytes per us = 10^6 bytes per s */
    if (v == NV_QEMU) {
        if (s.frames != pkts || s.bytes != bytes)
            return "the UDP sink did not get every frame";
        return NULL;
    }
    uint64_t tx;
    bool drops;
    int64_t reads, exits = bench_xfer_exits(c);
    if (bench_parse_nic(c, &tx, &drops, &reads))
        return "no 'minivmm: nic: vf0 ...' line at the end of the run";
    if (tx < pkts || drops)
        return "the switch did not pass every frame to the uplink";
    if (exits < 0)
        return "no xfer-done row in the run summary's phase table (an older guest?)";
    if (nvariants[v].ioeventfd && reads < 0)
        return "no ioeventfd-reads count in the nic line";
    r->m[M_EXITS] = (double)exits / kib;
    if (reads >= 0)
        r->m[M_READS] = (double)reads / kib;
    return NULL;
}

/* ---- the far end of the dgram pings: our guest's net.echo under minivmm ---- */

struct echo_vm {
    pid_t pid;
    uint16_t port, peer; /* its uplink's local port; the pinger's */
    char out[64];        /* its console, a temporary file */
};

static void echo_stop(struct echo_vm *e)
{
    if (e->pid > 0) {
        kill(e->pid, SIGKILL);
        waitpid(e->pid, NULL, 0);
    }
    e->pid = 0;
    if (e->out[0])
        unlink(e->out);
    e->out[0] = '\0';
}

/* Starts `minivmm run --nic vfs=1,uplink=dgram:PA:PB -- net.echo net.ip=ECHO_IP` and waits
 * for its "net.echo: answering" line; NULL, or why not. */
static const char *echo_start(const struct bench_paths *p, const struct net_opts *o,
                              struct echo_vm *e)
{
    static char nic[96];
    int fa, fb, fd;
    posix_spawn_file_actions_t fact;

    memset(e, 0, sizeof(*e));
    if (bench_udp_socket(&fa, &e->port))
        return "cannot find a free UDP port on 127.0.0.1";
    if (bench_udp_socket(&fb, &e->peer)) {
        close(fa);
        return "cannot find a free UDP port on 127.0.0.1";
    }
    close(fa); /* both ends bind their own: loopback only */
    close(fb);
    snprintf(nic, sizeof(nic), "vfs=1,uplink=dgram:%u:%u", e->port, e->peer);
    snprintf(e->out, sizeof(e->out), "/tmp/minivmm-bench-echo.XXXXXX");
    if ((fd = mkstemp(e->out)) < 0) {
        e->out[0] = '\0';
        return "cannot create a temporary file in /tmp";
    }
    const char *av[] = {p->self, "run", "-k",       o->kernel,         "--nic",
                        nic,     "--",  "net.echo", "net.ip=" ECHO_IP, NULL};
    posix_spawn_file_actions_init(&fact);
    posix_spawn_file_actions_addopen(&fact, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fact, fd, STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fact, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    int r = posix_spawn(&e->pid, av[0], &fact, NULL, (char *const *)av, environ);
    posix_spawn_file_actions_destroy(&fact);
    if (r) {
        close(fd);
        e->pid = 0;
        echo_stop(e);
        return "cannot start minivmm";
    }
    for (int ms = 0; ms < ECHO_START_MS; ms += 20) {
        char buf[4096];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        if (strstr(buf, "net.echo: answering")) {
            close(fd);
            return NULL;
        }
        if (waitpid(e->pid, NULL, WNOHANG) == e->pid) {
            e->pid = 0;
            break;
        }
        nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
    }
    close(fd);
    echo_stop(e);
    return "the net.echo VM did not start";
}

/* ---- one ping run: the RTTs into rtt[*n] ---- */

static const char *ping_run(const struct bench_paths *p, const struct net_opts *o, int v,
                            const struct echo_vm *e, struct bench_child *c, double *rtt, size_t *n,
                            const char **argv_out[])
{
    static const char *av[BENCH_MAX_ARGS];
    static char nic[96], cnt[48], netdev[256], append[96];
    int want = 0;
    snprintf(cnt, sizeof(cnt), "net.count=%lu", o->pings);
    *argv_out = av;
    if (v < PV_DGRAM) {
        snprintf(nic, sizeof(nic), "vfs=2,uplink=sink,%s", nvariants[v].nic);
        const char *a[] = {
            p->self, "run", "-q", "-k", o->kernel, "--nic", nic, "--", "net.ping=" VF1_IP,
            cnt,     NULL};
        memcpy(av, a, sizeof(a));
    } else if (v == PV_DGRAM) {
        snprintf(nic, sizeof(nic), "vfs=1,uplink=dgram:%u:%u", e->peer, e->port);
        const char *a[] = {
            p->self, "run", "-q", "-k", o->kernel, "--nic", nic, "--", "net.ping=" ECHO_IP,
            cnt,     NULL};
        memcpy(av, a, sizeof(a));
    } else {
        snprintf(append, sizeof(append), "net.ping=" ECHO_IP " %s", cnt);
        qemu_dgram_argv(o, e->peer, e->port, netdev, sizeof(netdev), append, av);
        want = 1; /* isa-debug-exit: (0 << 1) | 1 */
    }
    bench_run_child(av, NET_TIMEOUT_MS, NULL, c);
    if (c->timed_out || c->status != want)
        return c->timed_out ? "timed out" : "wrong exit status (a reply missing?)";
    size_t got = 0;
    for (const char *l = c->out; (l = strstr(l, " time=")) != NULL; l++) {
        unsigned long long us;
        if (sscanf(l, " time=%llu us", &us) == 1 && got < o->pings)
            rtt[(*n) + got++] = (double)us;
    }
    if (got != o->pings)
        return "fewer 'time=N us' lines than pings";
    *n += got;
    return NULL;
}

/* ---- the command ---- */

static void tx_table(const struct net_opts *o, int nv, const double *res)
{
#define RES(m, v, s, r) res[((((size_t)(m)*NV_N + (v)) * MAX_SIZES + (s)) * o->rounds) + (r)]
    printf("\nnet.tx, guest -> uplink: medians over %lu round%s of %lu frames; time from the "
           "guest's TSC\n(transfer only); exits = VMM userspace exits between the guest's "
           "xfer-start and\nxfer-done markers; efd reads = NIC I/O thread eventfd reads (whole "
           "run)\n\n",
           o->rounds, o->rounds == 1 ? "" : "s", o->count);
    printf("%-30s %5s %10s %8s %9s %10s %11s %7s\n", "variant (minivmm: --nic)", "size",
           "packets/s", "MB/s", "us/frame", "exits/KiB", "efdrd/KiB", "spread");
    for (unsigned s = 0; s < o->nsizes; s++)
        for (int v = 0; v < nv; v++) {
            double med[M_N];
            char cb[M_N + 2][32];
            for (int m = 0; m < M_N; m++)
                med[m] = bench_median(&RES(m, v, s, 0), o->rounds);
            /* spread: median absolute deviation of packets/s over the rounds */
            double dev[o->rounds];
            for (unsigned long r = 0; r < o->rounds; r++)
                dev[r] = __builtin_fabs(RES(M_PPS, v, s, r) - med[M_PPS]);
            double spread = 100.0 * bench_median(dev, o->rounds) / med[M_PPS];
            printf("%-30s %5lu %10s %8s %9s %10s %11s %7s\n", nvariants[v].name, o->sizes[s],
                   bench_cell(cb[0], 32, med[M_PPS], 0, false, ""),
                   bench_cell(cb[1], 32, med[M_MBS], 3, false, ""),
                   bench_cell(cb[2], 32, 1e6 / med[M_PPS], 1, false, ""),
                   bench_cell(cb[3], 32, med[M_EXITS], 4, false, ""),
                   bench_cell(cb[4], 32, med[M_READS], 4, false, ""),
                   bench_cell(cb[5], 32, spread, 1, false, "%"));
        }
#undef RES
}

/* --linux KERNEL --initrd FILE: the options that apply, checked, to benchnetlinux.c. */
static int run_linux(const struct bench_paths *p, const struct net_opts *o, char *qbuf,
                     size_t qlen)
{
    struct benchnetlinux_opts lo = {.kernel = o->linux_kernel, .initrd = o->initrd,
                                    .qemu = o->qemu, .count = o->count, .runs = o->rounds,
                                    .nsizes = o->nsizes, .verbose = o->verbose};

    if (!o->linux_kernel || !o->initrd)
        return bench_usage_error("--linux and --initrd go together");
    if (o->kernel)
        return bench_usage_error("--linux and --kernel together");
    _Static_assert(BENCHNETLINUX_MAX_SIZES >= MAX_SIZES, "sizes fit");
    memcpy(lo.sizes, o->sizes, sizeof(o->sizes));
    if (bench_need_file(lo.kernel, false, "the Linux kernel", "--linux KERNEL") ||
        bench_need_file(lo.initrd, false, "the initramfs", "--initrd FILE") ||
        (lo.qemu && bench_need_file(lo.qemu, true, "QEMU", "--qemu PATH or --no-qemu")))
        return 1;
    if (!lo.qemu && !o->no_qemu)
        lo.qemu = bench_search_path("qemu-system-x86_64", qbuf, qlen);
    return benchnetlinux_run(p, &lo);
}

int benchnet_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"count", required_argument, NULL, 'n'},  {"sizes", required_argument, NULL, 's'},
        {"rounds", required_argument, NULL, 'r'}, {"pings", required_argument, NULL, 'p'},
        {"qemu", required_argument, NULL, 'q'},   {"no-qemu", no_argument, NULL, 'Q'},
        {"kernel", required_argument, NULL, 'k'}, {"verbose", no_argument, NULL, 'v'},
        {"linux", required_argument, NULL, 'L'},  {"initrd", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    struct net_opts o = {.count = 2000, .rounds = 5, .pings = 50, .nsizes = 2, .sizes = {64, 1514}};
    struct bench_paths *p = calloc(1, sizeof(*p));
    struct bench_child *c = calloc(1, sizeof(*c));
    double *res = NULL, *rtt[PV_N] = {NULL};
    size_t nrtt[PV_N] = {0};
    struct echo_vm echo = {0};
    char qbuf[PATH_MAX], kbuf[PATH_MAX];
    int status = 1, ch;

    if (!p || !c || bench_find_self(p))
        goto out;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":n:s:r:p:q:Qk:L:i:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'n':
            if (bench_count_arg("--count", optarg, 1, 10000000, "a number from 1 to 10^7",
                                &o.count))
                goto out;
            break;
        case 's':
            if (parse_sizes(optarg, &o))
                goto out;
            break;
        case 'r':
            if (bench_count_arg("--rounds", optarg, 1, 1000, "a number from 1 to 1000", &o.rounds))
                goto out;
            break;
        case 'p':
            if (bench_count_arg("--pings", optarg, 0, 100000, "a number from 0 to 100000",
                                &o.pings))
                goto out;
            break;
        case 'q':
            o.qemu = optarg;
            break;
        case 'Q':
            o.no_qemu = true;
            break;
        case 'k':
            o.kernel = optarg;
            break;
        case 'L':
            o.linux_kernel = optarg;
            break;
        case 'i':
            o.initrd = optarg;
            break;
        case 'v':
            o.verbose = true;
            break;
        case 'h':
            net_usage(stdout);
            status = 0;
            goto out;
        case ':':
        default:
            status = bench_option_error(ch, argv);
            goto out;
        }
    }
    if (optind < argc || (o.qemu && o.no_qemu)) {
        status = optind < argc ? bench_usage_error("unexpected argument '%s'", argv[optind])
                               : bench_usage_error("--qemu and --no-qemu together");
        goto out;
    }
    if (o.linux_kernel || o.initrd) {
        status = run_linux(p, &o, qbuf, sizeof(qbuf));
        goto out;
    }
    if (!o.kernel) {
        bench_join(kbuf, sizeof(kbuf), p->dir, "guest/kernel.elf");
        o.kernel = kbuf;
    }
    if (bench_need_file(o.kernel, false, "the guest kernel", "--kernel FILE") ||
        (o.qemu && bench_need_file(o.qemu, true, "QEMU", "--qemu PATH or --no-qemu")))
        goto out;
    if (!o.qemu && !o.no_qemu)
        o.qemu = bench_search_path("qemu-system-x86_64", qbuf, sizeof(qbuf));
    int nv = o.qemu && !o.no_qemu ? NV_N : NV_QEMU;

    size_t nres = (size_t)M_N * NV_N * MAX_SIZES * o.rounds;
    res = malloc(sizeof(double) * nres);
    int npv = nv == NV_N ? PV_N : PV_QEMU;
    for (int v = 0; v < PV_N && o.pings; v++)
        rtt[v] = malloc(sizeof(double) * o.pings * o.rounds);
    if (!res)
        goto out;
    for (int v = 0; v < PV_N && o.pings; v++)
        if (!rtt[v])
            goto out;
    for (size_t i = 0; i < nres; i++)
        res[i] = __builtin_nan("");
#define RES(m, v, s, r) res[((((size_t)(m)*NV_N + (v)) * MAX_SIZES + (s)) * o.rounds) + (r)]

    printf("minivmm bench net: %s, %lu frame%s per run, %lu round%s, %lu ping%s per run%s\n",
           o.kernel, o.count, o.count == 1 ? "" : "s", o.rounds, o.rounds == 1 ? "" : "s", o.pings,
           o.pings == 1 ? "" : "s", nv == NV_N ? "" : " (QEMU left out: not found or --no-qemu)");
    bench_print_kvm();
    fflush(stdout);
    unsigned failed = 0;
    if (o.pings) {
        const char *why = echo_start(p, &o, &echo);
        if (why) {
            static const char *const none[] = {"(minivmm run -- net.echo)", NULL};
            c->outlen = c->errlen = 0;
            c->out[0] = c->err[0] = '\0';
            bench_print_failure("the net.echo VM for the dgram pings", none, c, why);
            failed++;
            npv = PV_DGRAM;
        }
    }
    size_t ncombo = (size_t)nv * o.nsizes;
    for (unsigned long r = 0; r < o.rounds; r++) {
        for (size_t k = 0; k < ncombo; k++) {
            size_t i = (k + r) % ncombo;
            int v = (int)(i % (size_t)nv);
            unsigned s = (unsigned)(i / (size_t)nv);
            struct tx_run tr;
            const char **av;
            const char *why = tx_run(p, &o, v, o.sizes[s], c, &tr, &av);
            if (why) {
                char what[128];
                snprintf(what, sizeof(what), "net.tx %lu B under %s (round %lu)", o.sizes[s],
                         nvariants[v].name, r + 1);
                bench_print_failure(what, av, c, why);
                failed++;
                continue;
            }
            for (int m = 0; m < M_N; m++)
                RES(m, v, s, r) = tr.m[m];
            if (o.verbose)
                printf("  round %lu %-30s %5lu B %9.0f packets/s %8.3f MB/s\n", r + 1,
                       nvariants[v].name, o.sizes[s], tr.m[M_PPS], tr.m[M_MBS]);
        }
        for (int k = 0; o.pings && k < npv; k++) {
            int v = (int)((k + r) % (unsigned long)npv);
            const char **av;
            const char *why = ping_run(p, &o, v, &echo, c, rtt[v], &nrtt[v], &av);
            if (why) {
                char what[128];
                snprintf(what, sizeof(what), "net.ping %s under %s (round %lu)",
                         v < PV_DGRAM ? "vf0 -> vf1" : "to the net.echo VM", pv_names[v], r + 1);
                bench_print_failure(what, av, c, why);
                failed++;
            }
        }
    }
    echo_stop(&echo);
    tx_table(&o, nv, res);
    if (o.pings) {
        printf(
            "\nnet.ping: the guest's RTTs over all replies of all rounds; vf0 -> vf1 (" VF1_IP
            ")\nthrough the PF switch of one VM (minivmm: --nic), then across a dgram uplink on\n"
            "127.0.0.1 to " ECHO_IP ", our guest's net.echo in a second minivmm\n\n");
        printf("%-30s %8s %8s %8s %8s\n", "variant", "replies", "min us", "median", "max us");
        for (int v = 0; v < npv; v++) {
            double lo = __builtin_nan(""), hi = __builtin_nan("");
            for (size_t i = 0; i < nrtt[v]; i++) {
                if (lo != lo || rtt[v][i] < lo)
                    lo = rtt[v][i];
                if (hi != hi || rtt[v][i] > hi)
                    hi = rtt[v][i];
            }
            char cb[3][32];
            printf("%-30s %8zu %8s %8s %8s\n", pv_names[v], nrtt[v],
                   bench_cell(cb[0], 32, lo, 0, false, ""),
                   bench_cell(cb[1], 32, bench_median(rtt[v], nrtt[v]), 0, false, ""),
                   bench_cell(cb[2], 32, hi, 0, false, ""));
        }
    }
    printf("\n");
    if (failed)
        printf("%u run%s failed (see above)\n", failed, failed == 1 ? "" : "s");
    status = failed ? 1 : 0;
#undef RES
out:
    echo_stop(&echo);
    for (int v = 0; v < PV_N; v++)
        free(rtt[v]);
    free(res);
    free(c);
    free(p);
    return status;
}
