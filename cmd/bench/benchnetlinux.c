/*
 * benchnetlinux.c: `minivmm bench net --linux KERNEL --initrd FILE`: Linux's own virtio_net
 * sending UDP through minivmm's VF and through QEMU's virtio-net-device, the same kernel and
 * initramfs (tools/linux-guest --init netsend) in both.
 *
 * The initramfs's /init brings eth0 up, sends netsend.count frames of netsend.size bytes to
 * 10.0.2.2 (a static neighbour entry) with tools/netsend, which times the transfer itself
 * (CLOCK_MONOTONIC, first send to the socket's queue drained: the device took every frame)
 * and writes minivmm's xfer-start/xfer-done phase markers around it; /init then prints the
 * virtio interrupts Linux took and powers off. Both VMMs send the frames over a dgram uplink
 * to a UDP sink of ours on 127.0.0.1, which must count every one:
 *   minivmm  run --nic vfs=1,uplink=dgram:L:SINK (notify=ioeventfd, event_idx=on: defaults)
 *   QEMU     -M microvm,acpi=on, -device virtio-net-device, -netdev dgram to the sink
 * (Linux finds both through the DSDT: LNRO0005.) Per run: frames/s and MB/s (10^6 bytes of
 * frames per second of the guest's timing), virtio interrupts per KiB (the guest's
 * /proc/interrupts), and for minivmm the userspace exits between the phase markers per KiB.
 * Sizes and VMMs interleaved, order rotated each round, after one untimed warm-up round of
 * each; medians over rounds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_common.h"
#include "bench_sink.h"
#include "benchnetlinux.h"

#define LINUX_NET_TIMEOUT_MS 300000
#define LINUX_NET_CMDLINE "console=ttyS0 quiet pci=off"

enum { LN_MINI, LN_QEMU, LN_N };
static const char *const ln_names[LN_N] = {"minivmm", "QEMU microvm"};
enum { LM_PPS, LM_MBS, LM_EXITS, LM_IRQS, LM_N };

/* "netsend: udp C frames B bytes NS ns" and "netsend: irqs N" from the console. */
static const char *parse_run(const struct bench_child *c, unsigned long count, unsigned long size,
                             double m[LM_N])
{
    uint64_t frames, bytes, ns;
    int64_t irqs;
    const char *l = bench_find_line(c->out, "netsend: udp ");
    if (!l || sscanf(l, "netsend: udp %" SCNu64 " frames %" SCNu64 " bytes %" SCNu64 " ns",
                     &frames, &bytes, &ns) != 3 || ns == 0)
        return "no 'netsend: udp ... ns' line on the console (an initramfs of "
               "tools/linux-guest --init netsend?)";
    if (frames != count || bytes != (uint64_t)count * size)
        return "netsend sent other than netsend.count frames of netsend.size bytes";
    l = bench_find_line(c->out, "netsend: irqs ");
    if (!l || sscanf(l, "netsend: irqs %" SCNd64, &irqs) != 1)
        return "no 'netsend: irqs N' line on the console";
    double kib = (double)bytes / 1024;
    m[LM_PPS] = (double)frames * 1e9 / (double)ns;
    m[LM_MBS] = (double)bytes * 1e3 / (double)ns; /* 10^6 bytes per second */
    m[LM_IRQS] = (double)irqs / kib;
    return NULL;
}

static const char *one_run(const struct bench_paths *p, const struct benchnetlinux_opts *o, int v,
                           unsigned long size, struct bench_child *c, double m[LM_N],
                           const char **argv_out[])
{
    static const char *av[BENCH_MAX_ARGS];
    static char nic[96], append[192], netdev[256];
    struct bench_sink s = {.fd = -1};
    int lfd;
    uint16_t lport;

    for (int i = 0; i < LM_N; i++)
        m[i] = __builtin_nan("");
    *argv_out = av;
    /* A receive buffer for the whole run: the sink must not be what drops frames. */
    if (bench_sink_start(&s, 64 << 20, NULL, NULL))
        return "cannot open the UDP sink on 127.0.0.1";
    if (bench_udp_socket(&lfd, &lport)) { /* the VMM binds its own end: a free port */
        bench_sink_stop(&s, 0);
        return "cannot find a free UDP port on 127.0.0.1";
    }
    close(lfd);
    snprintf(append, sizeof(append), "%s netsend.size=%lu netsend.count=%lu", LINUX_NET_CMDLINE,
             size, o->count);
    if (v == LN_MINI) {
        snprintf(nic, sizeof(nic), "vfs=1,uplink=dgram:%u:%u", lport, s.port);
        const char *a[] = {p->self,  "run",     "-k",   o->kernel, "-i", o->initrd,
                           "-m",     "512M",    "--nic", nic,      "--cmdline", append, NULL};
        memcpy(av, a, sizeof(a));
    } else {
        snprintf(netdev, sizeof(netdev),
                 "dgram,id=n,local.type=inet,local.host=127.0.0.1,local.port=%u,"
                 "remote.type=inet,remote.host=127.0.0.1,remote.port=%u",
                 lport, s.port);
        const char *a[] = {o->qemu, "-M", "microvm,acpi=on", "-accel", "kvm", "-cpu", "host",
                           "-m", "512M", "-nodefaults", "-no-user-config", "-nographic",
                           "-serial", "stdio", "-no-reboot",
                           "-global", "virtio-mmio.force-legacy=false",
                           "-device", "virtio-net-device,netdev=n", "-netdev", netdev,
                           "-kernel", o->kernel, "-initrd", o->initrd, "-append", append, NULL};
        memcpy(av, a, sizeof(a));
    }
    bench_run_child(av, LINUX_NET_TIMEOUT_MS, NULL, c);
    bench_sink_stop(&s, o->count);
    if (c->timed_out || c->status != 0)
        return c->timed_out ? "timed out" : "exit status not 0 (the initramfs must power off)";
    const char *why = parse_run(c, o->count, size, m);
    if (why)
        return why;
    /* Linux may send a frame of its own (a gratuitous packet) besides ours: at least count. */
    if (s.frames < o->count)
        return "the UDP sink did not get every frame";
    if (v == LN_MINI) {
        int64_t exits = bench_xfer_exits(c);
        if (exits < 0)
            return "no xfer-done row in the run summary's phase table";
        m[LM_EXITS] = (double)exits / ((double)o->count * (double)size / 1024);
    }
    return NULL;
}

int benchnetlinux_run(const struct bench_paths *p, const struct benchnetlinux_opts *o)
{
    int nv = o->qemu ? LN_N : 1;
    size_t per = o->runs; /* results per (size, VMM) */
    double *res = calloc((size_t)o->nsizes * LN_N * LM_N * per, sizeof(double));
    struct bench_child *c = calloc(1, sizeof(*c));
    unsigned failed = 0;
    int status = 1;

    if (!res || !c)
        goto out;
    for (size_t i = 0; i < (size_t)o->nsizes * LN_N * LM_N * per; i++)
        res[i] = __builtin_nan("");
    printf("minivmm bench net --linux: %s, initrd %s, %lu frames per run, %lu timed run%s each%s\n",
           o->kernel, o->initrd, o->count, o->runs, o->runs == 1 ? "" : "s",
           o->qemu ? "" : " (QEMU left out: not found or --no-qemu)");
    bench_print_kvm();
    fflush(stdout);
    for (unsigned long r = 0; r <= o->runs; r++) { /* round 0: warm-up */
        for (unsigned k = 0; k < o->nsizes * (unsigned)nv; k++) {
            unsigned idx = (unsigned)((k + r) % (o->nsizes * (unsigned)nv));
            unsigned si = idx / (unsigned)nv;
            int v = (int)(idx % (unsigned)nv);
            double m[LM_N];
            const char **av;
            const char *why = one_run(p, o, v, o->sizes[si], c, m, &av);
            if (why) {
                char what[96];
                snprintf(what, sizeof(what), "%s, %lu-byte frames (%s)", ln_names[v],
                         o->sizes[si], r ? "timed run" : "warm-up");
                bench_print_failure(what, av, c, why);
                failed++;
                continue;
            }
            if (o->verbose) {
                char ex[32];
                printf("  run %lu %-13s %5lu B: %10.0f frames/s %8.2f MB/s %8s exits/KiB "
                       "%8.3f irqs/KiB\n",
                       r, ln_names[v], o->sizes[si], m[LM_PPS], m[LM_MBS],
                       bench_cell(ex, sizeof(ex), m[LM_EXITS], 3, false, ""), m[LM_IRQS]);
                fflush(stdout); /* a pipe (tools/kvmbox) would hold the lines to the end */
            }
            if (r == 0)
                continue;
            for (int q = 0; q < LM_N; q++)
                res[(((size_t)si * LN_N + (size_t)v) * LM_N + (size_t)q) * per + r - 1] = m[q];
        }
    }
    printf("\nmedians over %lu run%s; MB/s = 10^6 bytes of frames per second of the guest's own\n"
           "timing (netsend: first send to queue drained); exits/KiB: minivmm's userspace exits\n"
           "between the guest's xfer markers; irqs/KiB: virtio interrupts in Linux's\n"
           "/proc/interrupts; vs QEMU: minivmm's MB/s over QEMU's\n\n",
           o->runs, o->runs == 1 ? "" : "s");
    printf("%6s %-13s %12s %10s %10s %10s %9s\n", "size", "VMM", "frames/s", "MB/s", "exits/KiB",
           "irqs/KiB", "vs QEMU");
    for (unsigned si = 0; si < o->nsizes; si++) {
        double med[LN_N][LM_N];
        for (int v = 0; v < LN_N; v++)
            for (int q = 0; q < LM_N; q++)
                med[v][q] = bench_median(
                    res + (((size_t)si * LN_N + (size_t)v) * LM_N + (size_t)q) * per, per);
        for (int v = 0; v < nv; v++) {
            char cb[5][32];
            printf("%6lu %-13s %12s %10s %10s %10s %9s\n", o->sizes[si], ln_names[v],
                   bench_cell(cb[0], 32, med[v][LM_PPS], 0, false, ""),
                   bench_cell(cb[1], 32, med[v][LM_MBS], 2, false, ""),
                   bench_cell(cb[2], 32, med[v][LM_EXITS], 3, false, ""),
                   bench_cell(cb[3], 32, med[v][LM_IRQS], 3, false, ""),
                   v == LN_MINI && nv == LN_N
                       ? bench_cell(cb[4], 32, med[LN_MINI][LM_MBS] / med[LN_QEMU][LM_MBS], 2,
                                    false, "x")
                       : "");
        }
    }
    printf("\n");
    if (failed)
        printf("%u run%s failed (see above)\n", failed, failed == 1 ? "" : "s");
    status = failed ? 1 : 0;
out:
    free(c);
    free(res);
    return status;
}
