/*
 * netcmd.c: the net.* commands over net.c and the NIC drivers behind struct netdev_ops
 * (brought up by main.c: virtio_net_init(), ne2000_init()). net.ping and net.tx use one NIC:
 * net.dev=virtio (vf0, the default when there are VFs) or net.dev=ne2000 (the default without).
 *
 *   net.ping=IP    vf0 pings IP net.count times (default 3), 1 s apart at most; with
 *                  net.interval_ms=N each request is sent N ms after the previous one was
 *                  (or right after its reply or timeout, if that came later)
 *   net.echo       answer ARP, ICMP echo and UDP echo on every interface, forever
 *   net.tx         vf0 sends net.count UDP frames (default 1000) of exactly net.size bytes; the
 *                  timed part (TSC; phases xfer-start/xfer-done) starts after the frames are
 *                  built and ends when the device has taken them all
 *   net.selftest   every interface (VFs, NE2000) resolves and pings every other one;
 *                  net.spoof=1 adds a forged-MAC ping from vf1 to vf0 that the switch must
 *                  drop (no reply expected)
 *   net.setmac     vfN (net.vf, default 1) asks the device for a new MAC (its own with the
 *                  last byte xor 0x80) by VIRTIO_NET_CTRL_MAC_ADDR_SET; then vf0 resolves and
 *                  pings vfN, which must be at the new MAC (accepted) or the old one (refused),
 *                  the other one unanswered, and vfN pings vf0; exit 0 when the outcome is
 *                  net.expect (1 accepted, the default; 0 refused) and the checks pass
 */
#include "netcmd.h"

#include <minivmm/abi.h>
#include <minivmm/virtio.h>

#include "../iocmd.h"
#include "../kernel.h"
#include "../machine.h"
#include "../tsc.h"
#include "../x86.h"
#include "net.h"

#define PING_TIMEOUT_US 1000000
#define SPOOF_TIMEOUT_US 100000 /* a reply within ~1.4 ms was seen: 100 ms is ample */
#define TX_TAG 0x7478u          /* "tx": the buffer holds net.tx's frame */
#define TX_BATCH 16

/* The NIC net.dev names (default: vf0, else the NE2000), or NULL after saying why. */
static struct netdev *pick_dev(const struct cmdline *cl, const char *cmd)
{
    size_t len;
    const char *dev = cmdline_param(cl, "net.dev", &len);
    bool virtio = !dev ? nr_netdevs > 0 : len == 6 && memcmp(dev, "virtio", 6) == 0;

    if (dev && !virtio && !(len == 6 && memcmp(dev, "ne2000", 6) == 0)) {
        kprintf("%s: net.dev=%.*s: want ne2000 or virtio\n", cmd, (int)len, dev);
        return NULL;
    }
    if (virtio && nr_netdevs)
        return &netdevs[0];
    if (!virtio && net_ne2000)
        return net_ne2000;
    if (virtio || !dev)
        kprintf("%s: no virtio-net device (minivmm: --nic; QEMU: -device virtio-net-device and "
                "-global virtio-mmio.force-legacy=false)\n",
                cmd);
    else
        kprintf("%s: no NE2000 (minivmm: --nic ...,ne2000=on; QEMU: -device "
                "ne2k_isa,iobase=0x300,irq=9)\n",
                cmd);
    return NULL;
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
    uint64_t interval_ms = cmdline_param_u64(cl, "net.interval_ms", 0);
    uint64_t min = ~0ull, max = 0, sum = 0;
    uint8_t mac[ETH_ALEN];
    uint32_t ip;
    char ipbuf[16];
    struct netdev *nd = pick_dev(cl, "net.ping");

    if (!nd)
        return MINIVMM_STATUS_FAIL;
    if (!cl->arg || net_parse_ip(cl->arg, cl->arg_len, &ip)) {
        kprintf("net.ping: usage: net.ping=A.B.C.D [net.count=N] [net.interval_ms=N]\n");
        return MINIVMM_STATUS_FAIL;
    }
    net_format_ip(ipbuf, ip);
    if (net_arp_resolve(nd, ip, mac)) {
        kprintf("net.ping: %s: no ARP reply\n", ipbuf);
        kprintf("net.ping: %s: %llu sent, 0 received\n", ipbuf, (unsigned long long)count);
        return MINIVMM_STATUS_FAIL;
    }
    kprintf("net.ping: %s is at %02x:%02x:%02x:%02x:%02x:%02x\n", ipbuf, mac[0], mac[1], mac[2],
            mac[3], mac[4], mac[5]);
    if (interval_ms > 60000)
        interval_ms = 60000;
    for (uint64_t seq = 1, next = 0; seq <= count; seq++) {
        int64_t rtt;

        /* Keep answering and reporting link changes until this request is due. */
        if (next && (int64_t)(rdtsc() - next) < 0)
            net_wait(NULL, NULL, next);
        next = interval_ms ? tsc_deadline_us(interval_ms * 1000) : 0;
        rtt = ping_once(nd, mac, ip, (uint16_t)seq, NULL, PING_TIMEOUT_US);

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
    if (!pick_dev(cl, "net.echo"))
        return MINIVMM_STATUS_FAIL;
    kprintf("net.echo: answering ARP, ping and UDP port 7 on %u VF%s%s\n", nr_netdevs,
            nr_netdevs == 1 ? "" : "s", net_ne2000 ? " and the NE2000" : "");
    net_wait(NULL, NULL, 0);
    return MINIVMM_STATUS_OK; /* not reached */
}

static bool tx_idle(void *arg)
{
    return netdev_tx_idle(arg);
}

/*
 * The iosum of one net_build_udp frame: only the 42 header bytes (the IP id differs per
 * buffer) are summed per buffer; the UDP payload is the same in every frame, summed once.
 */
static void tx_frame_sum(const uint8_t *f, uint32_t size, struct iosum *s)
{
    static struct iosum payload;
    static uint32_t payload_size;
    const uint32_t hdr = ETH_HLEN + 20 + 8;

    if (payload_size != size) {
        iosum_of(&payload, f + hdr, size - hdr);
        payload_size = size;
    }
    iosum_of(s, f, hdr);
    iosum_cat(s, &payload);
}

int cmd_net_tx(const struct cmdline *cl)
{
    static struct iosum fsum[VQ_MAX_NUM];
    struct iosum total = {0};
    uint64_t count = cmdline_param_u64(cl, "net.count", 1000);
    uint64_t size = cmdline_param_u64(cl, "net.size", 64);
    struct netdev *nd = pick_dev(cl, "net.tx");
    uint8_t mac[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint32_t ip = 0xffffffffu;
    uint64_t sent = 0, t0, t1, us, pkts0, bytes0;
    size_t len;
    const char *dst = cmdline_param(cl, "net.dst", &len);
    unsigned int batch = 0, nfilled = 0;
    int filled[VQ_MAX_NUM];

    if (!nd)
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
    for (uint8_t *f; nfilled < VQ_MAX_NUM && (f = netdev_tx_buf(nd, &filled[nfilled]));) {
        net_build_udp(nd, f, mac, ip, 9, 9, (uint32_t)size); /* port 9: discard */
        tx_frame_sum(f, (uint32_t)size, &fsum[filled[nfilled]]);
        *netdev_tag(nd, filled[nfilled++]) = TX_TAG;
    }
    while (nfilled)
        netdev_tx_put(nd, filled[--nfilled]);
    pkts0 = nd->tx_packets;
    bytes0 = nd->tx_bytes;
    machine_phase(MINIVMM_PHASE_XFER_START);
    t0 = rdtsc();
    /* Each buffer is filled once (TX_TAG) and then only resubmitted: no per-frame copy. */
    while (sent < count) {
        int id;
        uint8_t *f = netdev_tx_buf(nd, &id);

        if (!f) {
            netdev_kick(nd);
            batch = 0;
            net_wait(NULL, NULL, tsc_deadline_us(1000)); /* until a completion (or 1 ms) */
            continue;
        }
        if (*netdev_tag(nd, id) != TX_TAG) {
            net_build_udp(nd, f, mac, ip, 9, 9, (uint32_t)size); /* port 9: discard */
            tx_frame_sum(f, (uint32_t)size, &fsum[id]);
            *netdev_tag(nd, id) = TX_TAG;
        }
        netdev_tx(nd, id, (uint32_t)size, false);
        iosum_cat(&total, &fsum[id]); /* the device takes the ring in order */
        sent++;
        if (++batch == TX_BATCH) {
            netdev_kick(nd);
            batch = 0;
        }
    }
    netdev_kick(nd);
    /* Done when the device has taken every frame (an I/O thread may still be at work). */
    net_wait(tx_idle, nd, tsc_deadline_us(1000000));
    t1 = rdtsc();
    machine_phase(MINIVMM_PHASE_XFER_DONE);
    us = tsc_to_us(t1 - t0);
    kprintf("net.tx: %llu packets, %llu bytes in %llu us (%llu packets/s)\n",
            (unsigned long long)(nd->tx_packets - pkts0),
            (unsigned long long)(nd->tx_bytes - bytes0), (unsigned long long)us,
            (unsigned long long)(us ? sent * 1000000 / us : 0));
    /* `minivmm bench io` compares this with the sink's sum (the nic line's uplink part). */
    kprintf("net.tx: payload %llu bytes, sum 0x%016llx\n", (unsigned long long)total.len,
            (unsigned long long)iosum_value(&total));
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

    if (nr_net_ifaces < 2) {
        kprintf("net.selftest: %u interface%s: needs at least two (minivmm run --nic vfs=2, or "
                "vfs=1,ne2000=on)\n",
                nr_net_ifaces, nr_net_ifaces == 1 ? "" : "s");
        kprintf("FAIL\n");
        return MINIVMM_STATUS_FAIL;
    }
    for (unsigned int i = 0; i < nr_net_ifaces; i++)
        for (unsigned int j = 0; j < nr_net_ifaces; j++) {
            struct netdev *a = net_ifaces[i], *b = net_ifaces[j];
            int64_t rtt;
            bool ok;

            if (i == j)
                continue;
            net_format_ip(ipbuf, b->ip);
            ok = net_arp_resolve(a, b->ip, mac) == 0 && memcmp(mac, b->mac, ETH_ALEN) == 0;
            kprintf("net.selftest: %s arp %s -> %s: %s\n", a->name, ipbuf, b->name,
                    check(ok, &all) ? "ok" : "FAILED");
            if (!ok)
                continue;
            rtt = ping_once(a, mac, b->ip, 1, NULL, PING_TIMEOUT_US);
            if (check(rtt >= 0, &all))
                kprintf("net.selftest: %s ping %s: ok (%lld us)\n", a->name, b->name,
                        (long long)rtt);
            else
                kprintf("net.selftest: %s ping %s: FAILED (no reply)\n", a->name, b->name);
        }
    if (spoof && nr_netdevs < 2) {
        kprintf("net.selftest: net.spoof=1 needs two VFs: FAILED\n");
        all = false;
    } else if (spoof) {
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
    for (unsigned int i = 0; i < nr_net_ifaces; i++)
        kprintf("net.selftest: %s rx %llu tx %llu dropped %llu\n", net_ifaces[i]->name,
                (unsigned long long)net_ifaces[i]->rx_packets,
                (unsigned long long)net_ifaces[i]->tx_packets,
                (unsigned long long)net_ifaces[i]->rx_dropped);
    kprintf("%s\n", all ? "SUCCESS" : "FAIL");
    return all ? MINIVMM_STATUS_OK : MINIVMM_STATUS_FAIL;
}

static void format_mac(char *buf, const uint8_t *m)
{
    ksnprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

int cmd_net_setmac(const struct cmdline *cl)
{
    uint64_t vf = cmdline_param_u64(cl, "net.vf", 1);
    uint64_t expect = cmdline_param_u64(cl, "net.expect", 1);
    struct netdev *a, *b = NULL;
    uint8_t old[ETH_ALEN], new_mac[ETH_ALEN], mac[ETH_ALEN];
    char oldbuf[18], newbuf[18], ipbuf[16];
    bool all = true, accepted;
    int ack;

    for (unsigned int i = 0; i < nr_netdevs; i++)
        if (netdevs[i].vf == vf)
            b = &netdevs[i];
    if (nr_netdevs < 2 || netdevs[0].vf != 0 || vf == 0 || !b) {
        kprintf("net.setmac: needs vf0 and vf%llu (net.vf=N, N >= 1; minivmm run --nic vfs=2)\n",
                (unsigned long long)vf);
        kprintf("FAIL\n");
        return MINIVMM_STATUS_FAIL;
    }
    a = &netdevs[0];
    memcpy(old, b->mac, ETH_ALEN);
    memcpy(new_mac, old, ETH_ALEN);
    new_mac[5] ^= 0x80;
    format_mac(oldbuf, old);
    format_mac(newbuf, new_mac);
    ack = virtio_net_ctrl(b, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, new_mac, ETH_ALEN);
    accepted = ack == VIRTIO_NET_OK;
    kprintf("net.setmac: vf%u mac %s -> %s: %s\n", b->vf, oldbuf, newbuf,
            accepted  ? "ok"
            : ack < 0 ? "no control queue or no answer"
                      : "refused");
    if (accepted)
        memcpy(b->mac, new_mac, ETH_ALEN);
    if (ack < 0 || accepted != (expect != 0)) {
        kprintf("net.setmac: expected %s: FAILED\n", expect ? "ok" : "refused");
        all = false;
    }
    /* vf0 learns vfN's MAC afresh: the current one must answer, the other one must not. */
    net_arp_forget(b->ip);
    net_format_ip(ipbuf, b->ip);
    if (net_arp_resolve(a, b->ip, mac) == 0) {
        format_mac(newbuf, mac);
        kprintf("net.setmac: vf0 arp %s -> %s: %s\n", ipbuf, newbuf,
                check(memcmp(mac, b->mac, ETH_ALEN) == 0, &all) ? "ok" : "FAILED");
    } else {
        kprintf("net.setmac: vf0 arp %s: FAILED (no reply)\n", ipbuf);
        all = false;
    }
    kprintf("net.setmac: vf0 ping vf%u at its mac: %s\n", b->vf,
            check(ping_once(a, b->mac, b->ip, 1, NULL, PING_TIMEOUT_US) >= 0, &all) ? "ok"
                                                                                    : "FAILED");
    kprintf(
        "net.setmac: vf0 ping vf%u at %s: %s\n", b->vf, accepted ? "the old mac" : "the new mac",
        check(ping_once(a, accepted ? old : new_mac, b->ip, 2, NULL, SPOOF_TIMEOUT_US) < 0, &all)
            ? "ok (no reply)"
            : "FAILED (answered)");
    kprintf("net.setmac: vf%u ping vf0: %s\n", b->vf,
            check(net_arp_resolve(b, a->ip, mac) == 0 &&
                      ping_once(b, mac, a->ip, 3, NULL, PING_TIMEOUT_US) >= 0,
                  &all)
                ? "ok"
                : "FAILED");
    kprintf("%s\n", all ? "SUCCESS" : "FAIL");
    return all ? MINIVMM_STATUS_OK : MINIVMM_STATUS_FAIL;
}
