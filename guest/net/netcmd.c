/*
 * netcmd.c: the net.* commands over net.c and virtio_net.c (the devices were brought up by
 * main.c's virtio_net_init()).
 *
 *   net.ping=IP    vf0 pings IP net.count times (default 3), 1 s apart at most
 *   net.echo       answer ARP, ICMP echo and UDP echo on every VF, forever
 *   net.tx         vf0 sends net.count UDP frames (default 1000) of exactly net.size bytes; the
 *                  timed part (TSC; phases xfer-start/xfer-done) starts after the frames are
 *                  built and ends when the device has taken them all
 *   net.selftest   every VF resolves and pings every other VF; net.spoof=1 adds a forged-MAC
 *                  ping from vf1 to vf0 that the switch must drop (no reply expected)
 */
#include "netcmd.h"

#include <minivmm/abi.h>

#include "../kernel.h"
#include "../machine.h"
#include "../tsc.h"
#include "../x86.h"
#include "net.h"

#define PING_TIMEOUT_US 1000000
#define SPOOF_TIMEOUT_US 100000 /* a reply within ~1.4 ms was seen: 100 ms is ample */
#define TX_TAG 0x7478u          /* "tx": the buffer holds net.tx's frame */
#define TX_BATCH 16

static bool have_vf0(const char *cmd)
{
    if (nr_netdevs)
        return true;
    kprintf("%s: no virtio-net device (minivmm: --nic; QEMU: -device virtio-net-device and "
            "-global virtio-mmio.force-legacy=false)\n",
            cmd);
    return false;
}

static uint64_t tsc_to_us(uint64_t ticks)
{
    return ticks * 1000000 / tsc_hz();
}

static bool ping_done(void *arg)
{
    (void)arg;
    return ping_state.got;
}

/* One echo request from nd; the RTT in us, or -1 on timeout. */
static int64_t ping_once(struct netdev *nd, const uint8_t *mac, uint32_t ip, uint16_t seq,
                         const uint8_t *src_mac, uint64_t timeout_us)
{
    uint64_t t0;

    ping_state.id = (uint16_t)(0x6d00 + nd->vf);
    ping_state.seq = seq;
    ping_state.got = false;
    t0 = rdtsc();
    if (net_send_ping(nd, mac, ip, ping_state.id, seq, src_mac))
        return -1;
    if (!net_wait(ping_done, NULL, tsc_deadline_us(timeout_us)))
        return -1;
    return (int64_t)tsc_to_us(ping_state.tsc - t0);
}

int cmd_net_ping(const struct cmdline *cl)
{
    uint64_t count = cmdline_param_u64(cl, "net.count", 3), received = 0;
    uint64_t min = ~0ull, max = 0, sum = 0;
    uint8_t mac[ETH_ALEN];
    uint32_t ip;
    char ipbuf[16];

    if (!have_vf0("net.ping"))
        return MINIVMM_STATUS_FAIL;
    if (!cl->arg || net_parse_ip(cl->arg, cl->arg_len, &ip)) {
        kprintf("net.ping: usage: net.ping=A.B.C.D [net.count=N]\n");
        return MINIVMM_STATUS_FAIL;
    }
    net_format_ip(ipbuf, ip);
    if (net_arp_resolve(&netdevs[0], ip, mac)) {
        kprintf("net.ping: %s: no ARP reply\n", ipbuf);
        kprintf("net.ping: %s: %llu sent, 0 received\n", ipbuf, (unsigned long long)count);
        return MINIVMM_STATUS_FAIL;
    }
    kprintf("net.ping: %s is at %02x:%02x:%02x:%02x:%02x:%02x\n", ipbuf, mac[0], mac[1], mac[2],
            mac[3], mac[4], mac[5]);
    for (uint64_t seq = 1; seq <= count; seq++) {
        int64_t rtt = ping_once(&netdevs[0], mac, ip, (uint16_t)seq, NULL, PING_TIMEOUT_US);

        if (rtt < 0) {
            kprintf("net.ping: %s: icmp_seq=%llu timeout\n", ipbuf, (unsigned long long)seq);
            continue;
        }
        kprintf("net.ping: %u bytes from %s: icmp_seq=%llu time=%lld us\n", 64, ipbuf,
                (unsigned long long)seq, (long long)rtt);
        received++;
        sum += (uint64_t)rtt;
        min = (uint64_t)rtt < min ? (uint64_t)rtt : min;
        max = (uint64_t)rtt > max ? (uint64_t)rtt : max;
    }
    kprintf("net.ping: %s: %llu sent, %llu received", ipbuf, (unsigned long long)count,
            (unsigned long long)received);
    if (received)
        kprintf(", rtt min/avg/max %llu/%llu/%llu us", (unsigned long long)min,
                (unsigned long long)(sum / received), (unsigned long long)max);
    kprintf("\n");
    return received == count ? MINIVMM_STATUS_OK : MINIVMM_STATUS_FAIL;
}

int cmd_net_echo(const struct cmdline *cl)
{
    (void)cl;
    if (!have_vf0("net.echo"))
        return MINIVMM_STATUS_FAIL;
    kprintf("net.echo: answering ARP, ping and UDP port 7 on %u VF%s\n", nr_netdevs,
            nr_netdevs == 1 ? "" : "s");
    net_wait(NULL, NULL, 0);
    return MINIVMM_STATUS_OK; /* not reached */
}

static bool tx_idle(void *arg)
{
    struct netdev *nd = arg;
    return nd->txq.nr_free == nd->txq.num;
}

int cmd_net_tx(const struct cmdline *cl)
{
    uint64_t count = cmdline_param_u64(cl, "net.count", 1000);
    uint64_t size = cmdline_param_u64(cl, "net.size", 64);
    struct netdev *nd = &netdevs[0];
    uint8_t mac[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint32_t ip = 0xffffffffu;
    uint64_t sent = 0, t0, t1, us, pkts0, bytes0;
    size_t len;
    const char *dst = cmdline_param(cl, "net.dst", &len);
    unsigned int batch = 0, nfilled = 0;
    int filled[VQ_MAX_NUM];

    if (!have_vf0("net.tx"))
        return MINIVMM_STATUS_FAIL;
    if (size < 60 || size > ETH_FRAME_MAX) {
        kprintf("net.tx: net.size=%llu outside 60-1514\n", (unsigned long long)size);
        return MINIVMM_STATUS_FAIL;
    }
    if (dst && (net_parse_ip(dst, len, &ip) || net_arp_resolve(nd, ip, mac))) {
        kprintf("net.tx: net.dst=%.*s: bad address or no ARP reply\n", (int)len, dst);
        return MINIVMM_STATUS_FAIL;
    }
    /* Build every free buffer's frame before the clock starts: a 1514-byte frame is ~1500
     * emulated stores here (milliseconds), the timed loop below only resubmits. */
    for (uint8_t *f; nfilled < VQ_MAX_NUM && (f = virtio_net_tx_buf(nd, &filled[nfilled]));) {
        net_build_udp(nd, f, mac, ip, 9, 9, (uint32_t)size); /* port 9: discard */
        *virtio_net_tag(nd, filled[nfilled++]) = TX_TAG;
    }
    while (nfilled)
        virtqueue_put_free(&nd->txq, (unsigned int)filled[--nfilled]);
    pkts0 = nd->tx_packets;
    bytes0 = nd->tx_bytes;
    machine_phase(MINIVMM_PHASE_XFER_START);
    t0 = rdtsc();
    /* Each buffer is filled once (TX_TAG) and then only resubmitted: no per-frame copy. */
    while (sent < count) {
        int id;
        uint8_t *f = virtio_net_tx_buf(nd, &id);

        if (!f) {
            virtio_net_kick(nd);
            batch = 0;
            net_wait(NULL, NULL, tsc_deadline_us(1000)); /* until a completion (or 1 ms) */
            continue;
        }
        if (*virtio_net_tag(nd, id) != TX_TAG) {
            net_build_udp(nd, f, mac, ip, 9, 9, (uint32_t)size); /* port 9: discard */
            *virtio_net_tag(nd, id) = TX_TAG;
        }
        virtio_net_tx(nd, id, (uint32_t)size, false);
        sent++;
        if (++batch == TX_BATCH) {
            virtio_net_kick(nd);
            batch = 0;
        }
    }
    virtio_net_kick(nd);
    /* Done when the device has taken every frame (an I/O thread may still be at work). */
    net_wait(tx_idle, nd, tsc_deadline_us(1000000));
    t1 = rdtsc();
    machine_phase(MINIVMM_PHASE_XFER_DONE);
    us = tsc_to_us(t1 - t0);
    kprintf("net.tx: %llu packets, %llu bytes in %llu us (%llu packets/s)\n",
            (unsigned long long)(nd->tx_packets - pkts0),
            (unsigned long long)(nd->tx_bytes - bytes0), (unsigned long long)us,
            (unsigned long long)(us ? sent * 1000000 / us : 0));
    return MINIVMM_STATUS_OK;
}

static bool check(bool ok, bool *all)
{
    if (!ok)
        *all = false;
    return ok;
}

int cmd_net_selftest(const struct cmdline *cl)
{
    bool all = true;
    uint64_t spoof = cmdline_param_u64(cl, "net.spoof", 0);
    uint64_t spoof_count = cmdline_param_u64(cl, "net.count", 3);
    uint8_t mac[ETH_ALEN];
    char ipbuf[16];

    if (nr_netdevs < 2) {
        kprintf("net.selftest: %u VF%s: needs at least two (minivmm run --nic vfs=2)\n", nr_netdevs,
                nr_netdevs == 1 ? "" : "s");
        kprintf("FAIL\n");
        return MINIVMM_STATUS_FAIL;
    }
    for (unsigned int i = 0; i < nr_netdevs; i++)
        for (unsigned int j = 0; j < nr_netdevs; j++) {
            struct netdev *a = &netdevs[i], *b = &netdevs[j];
            int64_t rtt;
            bool ok;

            if (i == j)
                continue;
            net_format_ip(ipbuf, b->ip);
            ok = net_arp_resolve(a, b->ip, mac) == 0 && memcmp(mac, b->mac, ETH_ALEN) == 0;
            kprintf("net.selftest: vf%u arp %s -> vf%u: %s\n", a->vf, ipbuf, b->vf,
                    check(ok, &all) ? "ok" : "FAILED");
            if (!ok)
                continue;
            rtt = ping_once(a, mac, b->ip, 1, NULL, PING_TIMEOUT_US);
            if (check(rtt >= 0, &all))
                kprintf("net.selftest: vf%u ping vf%u: ok (%lld us)\n", a->vf, b->vf,
                        (long long)rtt);
            else
                kprintf("net.selftest: vf%u ping vf%u: FAILED (no reply)\n", a->vf, b->vf);
        }
    if (spoof) {
        /* vf1 claims a MAC that is not its own: the PF's switch must drop these frames. */
        static const uint8_t forged[ETH_ALEN] = {0x02, 0xba, 0xdb, 0xad, 0xba, 0xd0};
        struct netdev *a = &netdevs[1], *b = &netdevs[0];
        unsigned int replies = 0;

        for (uint64_t s = 1; s <= spoof_count; s++)
            if (ping_once(a, b->mac, b->ip, (uint16_t)(100 + s), forged, SPOOF_TIMEOUT_US) >= 0)
                replies++;
        kprintf("net.selftest: vf1 spoofed-MAC pings to vf0: %llu sent, %u answered: %s\n",
                (unsigned long long)spoof_count, replies,
                check(replies == 0, &all) ? "ok (dropped)" : "FAILED (not dropped)");
    }
    for (unsigned int i = 0; i < nr_netdevs; i++)
        kprintf("net.selftest: vf%u rx %llu tx %llu dropped %llu\n", netdevs[i].vf,
                (unsigned long long)netdevs[i].rx_packets,
                (unsigned long long)netdevs[i].tx_packets,
                (unsigned long long)netdevs[i].rx_dropped);
    kprintf("%s\n", all ? "SUCCESS" : "FAIL");
    return all ? MINIVMM_STATUS_OK : MINIVMM_STATUS_FAIL;
}
