/*
 * benchio.c: `minivmm bench io`, the same checksummed payload through each guest I/O path.
 *
 * One guest boot per mode:
 *   serial            `serial.tx` (guest/iocmd.c): io.bytes printable bytes written to the
 *                     16550 in --frame-size chunks (`rep outsb`, one exit per byte here); the
 *                     bench takes the payload from the child's stdout, between the guest's
 *                     "serial.tx: payload-start" line and the first CR/LF after it
 *   ne2000            `net.tx net.dev=ne2000` under `--nic vfs=1,uplink=sink,ne2000=on`
 *   virtio-exit       `net.tx` under `--nic vfs=1,uplink=sink,notify=exit,event_idx=off`
 *   virtio-ioeventfd  ... notify=ioeventfd,event_idx=off
 *   virtio-eventidx   ... notify=ioeventfd,event_idx=on
 * and with --vs-qemu the same guest under QEMU microvm: qemu-serial, qemu-ne2000 (ne2k_isa at
 * 0x300, IRQ 9) and qemu-virtio (virtio-net-device), the NICs on `-netdev dgram` to a UDP
 * sink of ours on 127.0.0.1.
 *
 * Verification: the guest prints the byte count and iosum (guest/iocmd.h: Fletcher-style sums
 * mod 2^32, composable) of what it sent; the far end computes its own: the bench over the
 * serial payload, the VMM's sink uplink (the end-of-run nic line's sink-bytes/sink-sum), our
 * UDP sink for QEMU. A mode is verified when both counts equal the payload and the sums agree.
 *
 * Figures for minivmm come from the VMM: wall time between the guest's xfer-start and
 * xfer-done markers and the exits in between (the run summary's phase table), ioeventfd reads
 * (between the markers: the run's "kicks: xfer" line), interrupts delivered through the IOAPIC between the markers (the
 * "minivmm: irqs:" line), VMM CPU time (getrusage of the reaped child). QEMU gives none of the
 * VMM's counters; its wall time is the guest's own TSC report of the transfer.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_sink.h"
#include "benchio.h"
#include "minivmm/errmsg.h"
#include "minivmm/util.h"

#define IO_TIMEOUT_MS 300000
#define CSV_HEADER                                                                                 \
    "mode,frame_bytes,payload_bytes,wall_s,MB/s,pkts/s,user_exits_per_KiB,kicks_per_KiB,"          \
    "irqs_per_KiB,vmm_cpu_s,verified"

enum io_kind { K_SERIAL, K_NET };

static const struct iomode {
    const char *name;
    enum io_kind kind;
    const char *nic; /* --nic for minivmm; NULL under QEMU */
    bool qemu, ne2000;
    unsigned long def_bytes; /* 5-10 s each on our hosts (docs/BENCHMARKS.md) */
} modes[] = {
    {"serial", K_SERIAL, NULL, false, false, 512ul << 10},
    {"ne2000", K_NET, "vfs=1,uplink=sink,ne2000=on", false, true, 1ul << 20},
    {"virtio-exit", K_NET, "vfs=1,uplink=sink,notify=exit,event_idx=off", false, false,
     128ul << 20},
    {"virtio-ioeventfd", K_NET, "vfs=1,uplink=sink,notify=ioeventfd,event_idx=off", false, false,
     128ul << 20},
    {"virtio-eventidx", K_NET, "vfs=1,uplink=sink,notify=ioeventfd,event_idx=on", false, false,
     128ul << 20},
    {"qemu-serial", K_SERIAL, NULL, true, false, 512ul << 10},
    {"qemu-ne2000", K_NET, NULL, true, true, 1ul << 20},
    {"qemu-virtio", K_NET, NULL, true, false, 128ul << 20},
};
#define NMODES (ARRAY_SIZE(modes))
#define NOURS 5 /* modes[0..NOURS) are minivmm's */

struct io_opts {
    unsigned long bytes; /* 0: each mode's default */
    unsigned long frame;
    bool want[NMODES];
    const char *kernel, *qemu, *csv, *json, *plot;
};

struct io_res {
    bool ran, verified, unavailable;
    uint64_t frame, payload;
    double wall_s, mbs, pps, exits_kib, kicks_kib, irqs_kib, cpu_s;
    char why[192];
};

static void io_usage(FILE *f)
{
    fputs(
        "usage: minivmm bench io [--modes LIST] [--bytes N] [--frame-size F] [--vs-qemu]\n"
        "           [--csv FILE] [--json FILE] [--plot FILE.png] [--qemu PATH] [--kernel FILE]\n"
        "\n"
        "Pushes one checksummed payload from the guest through each I/O path, one boot per\n"
        "mode, and verifies count and checksum at the far end.\n"
        "  --modes LIST    of serial, ne2000, virtio-exit, virtio-ioeventfd, virtio-eventidx\n"
        "                  (default: all five), and with QEMU qemu-serial, qemu-ne2000,\n"
        "                  qemu-virtio\n"
        "  --bytes N       payload bytes per mode, rounded up to whole frames (default: serial\n"
        "                  512 KiB, ne2000 1 MiB, virtio 128 MiB: ~40 s for the five here)\n"
        "  --frame-size F  Ethernet frame bytes, 60-1514 (default 1514); serial: bytes per\n"
        "                  uart write, at most 4096\n"
        "  --vs-qemu       add the qemu-* modes (qemu-system-x86_64 from $PATH or --qemu)\n"
        "  --csv FILE, --json FILE  the results; --plot FILE.png  gnuplot chart\n"
        "  --kernel FILE   the guest (default: guest/kernel.elf next to minivmm)\n"
        "Exit status 1 when any mode is not verified (an absent NE2000 counts as not verified).\n",
        f);
}

/* ---- the payload checksum (guest/iocmd.h) ---- */

struct iosum {
    uint32_t s1, s2;
    uint64_t len;
};

static void iosum_add(struct iosum *s, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < n; i++) {
        s->s1 += p[i];
        s->s2 += s->s1;
    }
    s->len += n;
}

static uint64_t iosum_value(const struct iosum *s)
{
    return ((uint64_t)s->s2 << 32) | s->s1;
}

/* ---- a UDP sink with a checksum, for QEMU's -netdev dgram (bench_sink.h) ---- */

static void usink_sum(void *arg, const void *buf, size_t n)
{
    iosum_add(arg, buf, n);
}

static int usink_start(struct bench_sink *s, struct iosum *sum)
{
    /* QEMU's dgram backend has no flow control: with the default 208 KiB receive buffer a
     * 128 MiB burst lost ~30 frames here. 32 MiB (FORCE: beyond rmem_max, as root). */
    return bench_sink_start(s, 32 << 20, usink_sum, sum);
}

/* ---- parsing ---- */

/* The wall time (s) between the xfer markers, from the phase table; NAN if absent. */
static double xfer_wall(const struct bench_child *c)
{
    const char *l = bench_find_line(c->err, "  xfer-done ");
    double at, delta;
    return l && sscanf(l, "  xfer-done %lf %lf", &at, &delta) == 2 ? delta / 1e3 : NAN;
}

/* "minivmm: kicks: xfer N": N, or 0 when the run has no such line (no NIC). */
static double xfer_kicks(const struct bench_child *c)
{
    const char *l = bench_find_line(c->err, "minivmm: kicks: xfer ");
    uint64_t n;
    return l && sscanf(l, "minivmm: kicks: xfer %" SCNu64, &n) == 1 ? (double)n : 0;
}

/* "minivmm: irqs: xfer N": N, or NAN. */
static double xfer_irqs(const struct bench_child *c)
{
    const char *l = bench_find_line(c->err, "minivmm: irqs: xfer ");
    uint64_t n;
    return l && sscanf(l, "minivmm: irqs: xfer %" SCNu64, &n) == 1 ? (double)n : NAN;
}

/* The value after " word " in the line at l (up to its end): 0, or -1. */
static int line_u64(const char *l, const char *word, int base, uint64_t *v)
{
    const char *end = strchr(l, '\n');
    const char *w = strstr(l, word);
    if (!w || (end && w > end))
        return -1;
    char *e;
    errno = 0;
    *v = strtoull(w + strlen(word), &e, base);
    return errno || e == w + strlen(word) ? -1 : 0;
}

/* The signs of a VMM or guest without the NE2000 (until both exist): the reason, or NULL. */
static const char *ne2000_missing(const struct bench_child *c)
{
    if (strstr(c->out, "net.dev=ne2000' ignored") || strstr(c->err, "net.dev=ne2000' ignored"))
        return "the guest has no NE2000 driver (net.dev=ne2000 is unknown to it)";
    if (c->status != 0 && !strstr(c->out, "net.tx: ") && strstr(c->err, "ne2000"))
        return "the VMM refused --nic ...,ne2000=on";
    if (strstr(c->out, "net.tx: no NE2000"))
        return "the guest found no NE2000";
    return NULL;
}

/* ---- one run ---- */

static double cpu_children(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_CHILDREN, &ru) < 0)
        return NAN;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static const char *const qemu_base[] = {
    "-M", "microvm,acpi=off", "-accel", "kvm",
    /* the TSC-rate leaf 0x40000010, which the guest times with (guest/tsc.c); never -cpu host */
    "-cpu", "qemu64,+invtsc,vmware-cpuid-freq=on", "-nodefaults", "-no-user-config", "-nographic",
    "-serial", "stdio", "-device", "isa-debug-exit", NULL};

static const char *io_run(const struct bench_paths *p, const struct io_opts *o,
                          const struct iomode *m, struct bench_child *c, struct io_res *r,
                          const char **argv_out[])
{
    static const char *av[BENCH_MAX_ARGS];
    static char a1[64], a2[64], append[192], netdev[256], dev[96];
    struct bench_sink us = {.fd = -1};
    struct iosum usum = {0}; /* what our UDP sink got: read after its stop */
    bool sink = false;
    size_t n = 0;
    uint64_t count = 0;

    r->frame = o->frame;
    r->payload = o->bytes ? o->bytes : m->def_bytes;
    r->wall_s = r->mbs = r->pps = r->exits_kib = r->kicks_kib = r->irqs_kib = r->cpu_s = NAN;
    if (m->kind == K_NET) {
        count = (r->payload + o->frame - 1) / o->frame;
        r->payload = count * o->frame;
        snprintf(a1, sizeof(a1), "net.count=%" PRIu64, count);
        snprintf(a2, sizeof(a2), "net.size=%lu", o->frame);
    } else {
        snprintf(a1, sizeof(a1), "io.bytes=%" PRIu64, r->payload);
        snprintf(a2, sizeof(a2), "io.chunk=%lu", o->frame);
    }
    const char *cmd = m->kind == K_SERIAL ? "serial.tx" : "net.tx";
    *argv_out = av;
    if (!m->qemu) {
        av[n++] = p->self;
        av[n++] = "run";
        av[n++] = "-k";
        av[n++] = o->kernel;
        if (m->nic) {
            av[n++] = "--nic";
            av[n++] = m->nic;
        }
        av[n++] = "--";
        av[n++] = cmd;
        av[n++] = a1;
        av[n++] = a2;
        if (m->ne2000)
            av[n++] = "net.dev=ne2000";
    } else {
        av[n++] = o->qemu;
        for (size_t i = 0; qemu_base[i]; i++)
            av[n++] = qemu_base[i];
        if (m->kind == K_NET) {
            int lfd;
            uint16_t lport;
            if (usink_start(&us, &usum))
                return "cannot open the UDP sink on 127.0.0.1";
            sink = true;
            /* QEMU binds its own end: take a free port and let it go (loopback only). */
            if (bench_udp_socket(&lfd, &lport)) {
                bench_sink_stop(&us, 0);
                return "cannot find a free UDP port on 127.0.0.1";
            }
            close(lfd);
            snprintf(netdev, sizeof(netdev),
                     "dgram,id=n,local.type=inet,local.host=127.0.0.1,local.port=%u,"
                     "remote.type=inet,remote.host=127.0.0.1,remote.port=%u",
                     lport, us.port);
            if (m->ne2000) {
                snprintf(dev, sizeof(dev), "ne2k_isa,netdev=n,iobase=0x300,irq=9");
            } else {
                av[n++] = "-global";
                av[n++] = "virtio-mmio.force-legacy=false";
                snprintf(dev, sizeof(dev), "virtio-net-device,netdev=n");
            }
            av[n++] = "-device";
            av[n++] = dev;
            av[n++] = "-netdev";
            av[n++] = netdev;
        }
        snprintf(append, sizeof(append), "%s %s %s%s", cmd, a1, a2,
                 m->ne2000 ? " net.dev=ne2000" : "");
        av[n++] = "-kernel";
        av[n++] = o->kernel;
        av[n++] = "-append";
        av[n++] = append;
    }
    av[n] = NULL;

    double cpu0 = cpu_children();
    bench_run_child(av, IO_TIMEOUT_MS, NULL, c);
    r->cpu_s = cpu_children() - cpu0;
    if (sink)
        bench_sink_stop(&us, count);
    r->ran = true;
    if (m->ne2000) {
        const char *why = ne2000_missing(c);
        if (why) {
            r->unavailable = true;
            snprintf(r->why, sizeof(r->why), "ne2000 not available: %s", why);
            return r->why;
        }
    }
    if (c->timed_out)
        return "timed out";
    if (c->status != (m->qemu ? 1 : 0)) /* isa-debug-exit: (0 << 1) | 1 */
        return m->qemu ? "wrong exit status (want 1: guest status 0)" : "non-zero exit status";

    /* What the guest says it sent, what arrived, and the guest's own transfer time. */
    uint64_t gbytes = 0, gsum = 0, gus = 0, gframes = 0;
    struct iosum got = {0};
    if (m->kind == K_SERIAL) {
        const char *s = strstr(c->out, "serial.tx: payload-start");
        if (!s || !(s = strchr(s, '\n')))
            return "no 'serial.tx: payload-start' line from the guest";
        const char *e = ++s;
        while (*e >= 0x21 && *e <= 0x7e)
            e++;
        iosum_add(&got, s, (size_t)(e - s));
        const char *l = bench_find_line(e, "serial.tx: ");
        if (!l || sscanf(l,
                         "serial.tx: %" SCNu64 " bytes in chunks of %*u in %" SCNu64
                         " us, sum 0x%" SCNx64,
                         &gbytes, &gus, &gsum) != 3)
            return "no 'serial.tx: B bytes ... sum' line after the payload";
        gframes = (gbytes + o->frame - 1) / o->frame;
    } else {
        const char *l = bench_find_line(c->out, "net.tx: ");
        uint64_t gb;
        if (!l || sscanf(l, "net.tx: %" SCNu64 " packets, %" SCNu64 " bytes in %" SCNu64 " us",
                         &gframes, &gb, &gus) != 3)
            return "no 'net.tx: P packets, B bytes in U us' line from the guest";
        l = bench_find_line(c->out, "net.tx: payload ");
        if (!l ||
            sscanf(l, "net.tx: payload %" SCNu64 " bytes, sum 0x%" SCNx64, &gbytes, &gsum) != 2)
            return "no 'net.tx: payload B bytes, sum S' line (a guest without checksums?)";
        if (m->qemu) {
            got = usum;
        } else {
            l = bench_find_line(c->err, "minivmm: nic: ");
            uint64_t sb, ss;
            if (!l || line_u64(l, " sink-bytes ", 10, &sb) || line_u64(l, " sink-sum 0x", 16, &ss))
                return "no sink-bytes/sink-sum in the nic line at the end of the run";
            got.len = sb;
            got.s1 = (uint32_t)ss;
            got.s2 = (uint32_t)(ss >> 32);
        }
    }
    double kib = (double)r->payload / 1024;
    r->wall_s = m->qemu ? (double)gus / 1e6 : xfer_wall(c);
    if (r->wall_s > 0) {
        r->mbs = (double)r->payload / r->wall_s / 1e6;
        r->pps = (double)gframes / r->wall_s;
    }
    if (!m->qemu) {
        int64_t exits = bench_xfer_exits(c);
        if (exits >= 0)
            r->exits_kib = (double)exits / kib;
        /* Kicks drained between the xfer markers ("minivmm: kicks: xfer N"); the NE2000 has
         * no ioeventfd (its kicks are exits) and serial no NIC: 0. */
        r->kicks_kib = m->kind == K_NET ? xfer_kicks(c) / kib : 0;
        r->irqs_kib = xfer_irqs(c) / kib;
    }
    if (m->ne2000 && !m->qemu) {
        /* The frames must have left through the NE2000, not vf0: "; ne2000 rx R tx T". */
        const char *l = bench_find_line(c->err, "minivmm: nic: ");
        uint64_t ntx;
        if (!l || line_u64(l, " ne2000 rx ", 10, &ntx)) {
            r->unavailable = true;
            snprintf(r->why, sizeof(r->why), "ne2000 not available: no NE2000 in the nic line");
            return r->why;
        }
        const char *t = strstr(strstr(l, " ne2000 rx "), " tx ");
        if (!t || line_u64(t, " tx ", 10, &ntx) || ntx != gframes) {
            snprintf(r->why, sizeof(r->why), "the frames did not leave through the NE2000");
            return r->why;
        }
    }
    if (gbytes != r->payload)
        snprintf(r->why, sizeof(r->why), "the guest sent %" PRIu64 " bytes, not %" PRIu64, gbytes,
                 r->payload);
    else if (got.len != r->payload)
        snprintf(r->why, sizeof(r->why), "%" PRIu64 " of %" PRIu64 " bytes arrived", got.len,
                 r->payload);
    else if (iosum_value(&got) != gsum)
        snprintf(r->why, sizeof(r->why),
                 "checksum 0x%016" PRIx64 " at the far end, 0x%016" PRIx64 " from the guest",
                 iosum_value(&got), gsum);
    else {
        r->verified = true;
        return NULL;
    }
    return r->why;
}

/* ---- output ---- */

static void fmt_num(char *buf, size_t len, double v, int prec)
{
    if (isnan(v))
        snprintf(buf, len, "%s", "");
    else
        snprintf(buf, len, "%.*f", prec, v);
}

static void print_table(FILE *f, const struct io_res *res, const bool *want)
{
    fprintf(f, "\n%-17s %6s %11s %8s %9s %9s %10s %10s %9s %7s %8s\n", "mode", "frame", "payload B",
            "wall s", "MB/s", "pkts/s", "exits/KiB", "kicks/KiB", "irqs/KiB", "cpu s", "verified");
    for (size_t i = 0; i < NMODES; i++) {
        const struct io_res *r = &res[i];
        char cb[8][32];
        if (!want[i])
            continue;
        fprintf(f, "%-17s %6" PRIu64 " %11" PRIu64 " %8s %9s %9s %10s %10s %9s %7s %8s\n",
                modes[i].name, r->frame, r->payload, bench_cell(cb[0], 32, r->wall_s, 3, false, ""),
                bench_cell(cb[1], 32, r->mbs, 3, false, ""),
                bench_cell(cb[2], 32, r->pps, 0, false, ""),
                bench_cell(cb[3], 32, r->exits_kib, 3, false, ""),
                bench_cell(cb[4], 32, r->kicks_kib, 3, false, ""),
                bench_cell(cb[5], 32, r->irqs_kib, 3, false, ""),
                bench_cell(cb[6], 32, r->cpu_s, 2, false, ""), r->verified ? "yes" : "no");
    }
}

static int write_csv(const char *path, const struct io_res *res, const bool *want)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        errmsg_print("bench", "--csv: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "%s\n", CSV_HEADER);
    for (size_t i = 0; i < NMODES; i++) {
        const struct io_res *r = &res[i];
        char cb[8][32];
        if (!want[i])
            continue;
        fmt_num(cb[0], 32, r->wall_s, 6);
        fmt_num(cb[1], 32, r->mbs, 4);
        fmt_num(cb[2], 32, r->pps, 1);
        fmt_num(cb[3], 32, r->exits_kib, 4);
        fmt_num(cb[4], 32, r->kicks_kib, 4);
        fmt_num(cb[5], 32, r->irqs_kib, 4);
        fmt_num(cb[6], 32, r->cpu_s, 3);
        fprintf(f, "%s,%" PRIu64 ",%" PRIu64 ",%s,%s,%s,%s,%s,%s,%s,%s\n", modes[i].name, r->frame,
                r->payload, cb[0], cb[1], cb[2], cb[3], cb[4], cb[5], cb[6],
                r->verified ? "yes" : "no");
    }
    if (fclose(f)) {
        errmsg_print("bench", "--csv: writing %s failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void json_num(FILE *f, const char *key, double v, int prec)
{
    if (isnan(v))
        fprintf(f, ", \"%s\": null", key);
    else
        fprintf(f, ", \"%s\": %.*f", key, prec, v);
}

static int write_json(const char *path, const struct io_res *res, const bool *want)
{
    FILE *f = fopen(path, "w");
    bool first = true;
    if (!f) {
        errmsg_print("bench", "--json: cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "[\n");
    for (size_t i = 0; i < NMODES; i++) {
        const struct io_res *r = &res[i];
        if (!want[i])
            continue;
        fprintf(f,
                "%s  {\"mode\": \"%s\", \"frame_bytes\": %" PRIu64 ", \"payload_bytes\": %" PRIu64,
                first ? "" : ",\n", modes[i].name, r->frame, r->payload);
        json_num(f, "wall_s", r->wall_s, 6);
        json_num(f, "MB/s", r->mbs, 4);
        json_num(f, "pkts/s", r->pps, 1);
        json_num(f, "user_exits_per_KiB", r->exits_kib, 4);
        json_num(f, "kicks_per_KiB", r->kicks_kib, 4);
        json_num(f, "irqs_per_KiB", r->irqs_kib, 4);
        json_num(f, "vmm_cpu_s", r->cpu_s, 3);
        fprintf(f, ", \"verified\": %s", r->verified ? "true" : "false");
        if (!r->verified && r->why[0]) {
            fprintf(f, ", \"why\": \"");
            for (const char *s = r->why; *s; s++)
                fprintf(f, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
            fprintf(f, "\"");
        }
        fprintf(f, "}");
        first = false;
    }
    fprintf(f, "\n]\n");
    if (fclose(f)) {
        errmsg_print("bench", "--json: writing %s failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Two log-scale bar charts side by side: MB/s and userspace exits per KiB, by mode. */
static int write_plot(const char *path, const char *gnuplot, const struct io_res *res,
                      const bool *want, struct bench_child *c)
{
    char dat[] = "/tmp/minivmm-bench-io-XXXXXX";
    char gp[sizeof(dat) + 4];
    int fd = mkstemp(dat);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    int ret = -1;
    if (!f) {
        errmsg_print("bench", "--plot: cannot create a temporary file: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    for (size_t i = 0; i < NMODES; i++)
        if (want[i] && res[i].ran)
            fprintf(f, "\"%s\" %g %g\n", modes[i].name, isnan(res[i].mbs) ? 0 : res[i].mbs,
                    isnan(res[i].exits_kib) ? 0 : res[i].exits_kib);
    fclose(f);
    snprintf(gp, sizeof(gp), "%s.gp", dat);
    f = fopen(gp, "w");
    if (!f) {
        errmsg_print("bench", "--plot: cannot create %s: %s", gp, strerror(errno));
        goto out_dat;
    }
    fprintf(f,
            "set terminal pngcairo size 1100,480 font ',10'\n"
            "set output '%s'\n"
            "set multiplot layout 1,2 title 'minivmm bench io: one payload per I/O path'\n"
            "set style data histograms\nset style fill solid 0.8 border -1\n"
            "set boxwidth 0.7\nset logscale y\nset format y '%%g'\nset grid ytics\n"
            "set xtics rotate by -30\n"
            "unset key\n"
            "set title 'throughput (MB/s, log scale)'\n"
            "plot '%s' using 2:xtic(1) lc rgb '#3060a0'\n"
            "set title 'userspace exits per KiB (log scale; none for QEMU rows)'\n"
            "plot '%s' using ($3 > 0 ? $3 : 1/0):xtic(1) lc rgb '#a04030'\n"
            "unset multiplot\n",
            path, dat, dat);
    fclose(f);
    const char *av[] = {gnuplot, gp, NULL};
    bench_run_child(av, 30000, NULL, c);
    if (c->status != 0)
        bench_print_failure("gnuplot", av, c, "non-zero exit status");
    else
        ret = 0;
    unlink(gp);
out_dat:
    unlink(dat);
    return ret;
}

static int parse_modes(const char *list, struct io_opts *o)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list);
    memset(o->want, 0, sizeof(o->want));
    for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < NMODES && strcmp(modes[i].name, w) != 0)
            i++;
        if (i == NMODES)
            return bench_usage_error("--modes: unknown mode '%s'", w);
        o->want[i] = true;
    }
    return 0;
}

int benchio_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"modes", required_argument, NULL, 'm'},
        {"bytes", required_argument, NULL, 'b'},
        {"frame-size", required_argument, NULL, 'f'},
        {"vs-qemu", no_argument, NULL, 'Q'},
        {"qemu", required_argument, NULL, 'q'},
        {"csv", required_argument, NULL, 'c'},
        {"json", required_argument, NULL, 'j'},
        {"plot", required_argument, NULL, 'p'},
        {"kernel", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct io_opts o = {.frame = 1514};
    struct bench_paths *p = calloc(1, sizeof(*p));
    struct bench_child *c = calloc(1, sizeof(*c));
    struct io_res res[NMODES];
    char qbuf[PATH_MAX], kbuf[PATH_MAX], gbuf[PATH_MAX];
    const char *gnuplot = NULL;
    bool modes_given = false, vs_qemu = false;
    int status = 1, ch;

    memset(res, 0, sizeof(res));
    for (size_t i = 0; i < NOURS; i++)
        o.want[i] = true;
    if (!p || !c || bench_find_self(p))
        goto out;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":m:b:f:Qq:c:j:p:k:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            if (parse_modes(optarg, &o))
                goto out;
            modes_given = true;
            break;
        case 'b':
            if (bench_count_arg("--bytes", optarg, 1, 1ul << 40, "a number from 1 to 2^40",
                                &o.bytes))
                goto out;
            break;
        case 'f':
            if (bench_count_arg("--frame-size", optarg, 1, 4096, "a size from 1 to 4096", &o.frame))
                goto out;
            break;
        case 'Q':
            vs_qemu = true;
            break;
        case 'q':
            o.qemu = optarg;
            vs_qemu = true;
            break;
        case 'c':
            o.csv = optarg;
            break;
        case 'j':
            o.json = optarg;
            break;
        case 'p':
            o.plot = optarg;
            break;
        case 'k':
            o.kernel = optarg;
            break;
        case 'h':
            io_usage(stdout);
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
    if (vs_qemu && !modes_given)
        for (size_t i = NOURS; i < NMODES; i++)
            o.want[i] = true;
    bool any_net = false, any_qemu = false;
    for (size_t i = 0; i < NMODES; i++) {
        any_net = any_net || (o.want[i] && modes[i].kind == K_NET);
        any_qemu = any_qemu || (o.want[i] && modes[i].qemu);
    }
    if (any_net && (o.frame < 60 || o.frame > 1514)) {
        status = bench_usage_error("--frame-size: %lu is outside 60-1514 (network modes)", o.frame);
        goto out;
    }
    if (!o.kernel) {
        bench_join(kbuf, sizeof(kbuf), p->dir, "guest/kernel.elf");
        o.kernel = kbuf;
    }
    if (bench_need_file(o.kernel, false, "the guest kernel", "--kernel FILE"))
        goto out;
    if (any_qemu && !o.qemu &&
        !(o.qemu = bench_search_path("qemu-system-x86_64", qbuf, sizeof(qbuf)))) {
        errmsg_print("bench", "qemu-system-x86_64 is not on $PATH: install QEMU, give "
                              "--qemu PATH, or leave out --vs-qemu and the qemu-* modes");
        goto out;
    }
    if (any_qemu && bench_need_file(o.qemu, true, "QEMU", "--qemu PATH"))
        goto out;
    if (o.plot && !(gnuplot = bench_search_path("gnuplot", gbuf, sizeof(gbuf)))) {
        errmsg_print("bench", "--plot needs gnuplot on $PATH (apt-get install gnuplot)");
        goto out;
    }

    size_t nwant = 0, k = 0;
    for (size_t i = 0; i < NMODES; i++)
        nwant += o.want[i];
    printf("minivmm bench io: %s, frame %lu B, payload %s\n", o.kernel, o.frame,
           o.bytes ? "--bytes" : "per-mode defaults");
    bench_print_kvm();
    fflush(stdout);
    unsigned failed = 0;
    for (size_t i = 0; i < NMODES; i++) {
        if (!o.want[i])
            continue;
        const char **av;
        uint64_t pay = o.bytes ? o.bytes : modes[i].def_bytes;
        fprintf(stderr, "minivmm bench io: [%zu/%zu] %s: %" PRIu64 " bytes ...\n", ++k, nwant,
                modes[i].name, pay);
        const char *why = io_run(p, &o, &modes[i], c, &res[i], &av);
        if (why) {
            if (res[i].unavailable) {
                errmsg_print("bench", "%s: %s", modes[i].name, why);
            } else {
                char what[96];
                snprintf(what, sizeof(what), "%s (bench io)", modes[i].name);
                bench_print_failure(what, av, c, why);
            }
            if (!res[i].why[0])
                snprintf(res[i].why, sizeof(res[i].why), "%s", why);
            failed++;
            continue;
        }
        char cb[32];
        fprintf(stderr, "minivmm bench io: [%zu/%zu] %s: %s MB/s, verified\n", k, nwant,
                modes[i].name, bench_cell(cb, sizeof(cb), res[i].mbs, 3, false, ""));
    }
    print_table(stdout, res, o.want);
    printf("\nwall s: between the guest's xfer-start and xfer-done markers (VMM clock; QEMU: the\n"
           "guest's TSC); exits: VMM userspace exits between the markers; kicks: ioeventfd reads\n"
           "between the markers; irqs: IOAPIC deliveries between the markers; cpu s: the VMM process\n");
    for (size_t i = 0; i < NMODES; i++)
        if (o.want[i] && !res[i].verified)
            printf("%s: not verified: %s\n", modes[i].name,
                   res[i].why[0] ? res[i].why : "the run failed");
    if ((o.csv && write_csv(o.csv, res, o.want)) || (o.json && write_json(o.json, res, o.want)) ||
        (o.plot && write_plot(o.plot, gnuplot, res, o.want, c)))
        goto out;
    status = failed ? 1 : 0;
out:
    free(c);
    free(p);
    return status;
}
