/*
 * hostile.c: net.hostile, a guest that breaks the virtio rules on purpose to test the VMM's
 * device model (devices/virtqueue.c, devices/virtio_mmio.c, devices/virtio_net.c).
 *
 * On vf0's transmit queue it posts one hostile chain, chosen by net.case=N:
 *   1  a descriptor whose buffer lies outside guest RAM
 *   2  a descriptor whose address + length overflows 64 bits (a naive end check wraps)
 *   3  a descriptor loop: a -> b -> a, all with NEXT
 *   4  avail->idx moved by more than the queue size
 * and kicks the queue. The device must then set DEVICE_NEEDS_RESET (0x40) in Status and raise
 * a configuration-change interrupt (virtio 1.x §2.1.2), and touch nothing else: the other VFs
 * keep working (vf1 pings vf2 with 3+ VFs; with 2, vf1 sends one UDP broadcast for the
 * uplink capture). Last, vf0 is reset (Status 0), brought up again and pings vf1: a reset is
 * the way out of NEEDS_RESET. Prints one line per check and SUCCESS or FAIL.
 */
#include "netcmd.h"

#include <minivmm/abi.h>
#include <minivmm/virtio.h>

#include "../kernel.h"
#include "../tsc.h"
#include "../x86.h"
#include "net.h"

#define HOSTILE_ADDR_OUTSIDE 0x00007f0000000000ull /* far beyond any guest RAM */
#define HOSTILE_ADDR_WRAP 0xfffffffffffff000ull    /* + 0x2000 wraps to 0x1000 */
#define NEEDS_RESET_TIMEOUT_US 1000000
#define PING_TIMEOUT_US 1000000

static bool check(bool ok, bool *all)
{
    if (!ok)
        *all = false;
    return ok;
}

/* Publish descriptor id in the available ring as is (no flag or length rewrite). */
static void publish(struct virtqueue *vq, unsigned int id)
{
    vq->avail->ring[vq->avail_idx & (vq->num - 1)] = (uint16_t)id;
    barrier();
    vq->avail_idx++;
    WRITE_ONCE(vq->avail->idx, vq->avail_idx);
}

/* Post case c's chain on nd's transmit queue and kick; false for an unknown case. */
static bool post_hostile(struct netdev *nd, uint64_t c)
{
    struct virtqueue *vq = &nd->txq;
    int a = virtqueue_get_free(vq), b = virtqueue_get_free(vq);

    if (a < 0 || b < 0)
        return false;
    switch (c) {
    case 1:
        vq->desc[a].addr = HOSTILE_ADDR_OUTSIDE;
        vq->desc[a].len = 64;
        vq->desc[a].flags = 0;
        publish(vq, (unsigned int)a);
        break;
    case 2:
        vq->desc[a].addr = HOSTILE_ADDR_WRAP;
        vq->desc[a].len = 0x2000;
        vq->desc[a].flags = 0;
        publish(vq, (unsigned int)a);
        break;
    case 3:
        /* Valid buffers (header-sized and up), but the chain never ends. */
        vq->desc[a].len = NET_HDR_LEN;
        vq->desc[a].flags = VIRTQ_DESC_F_NEXT;
        vq->desc[a].next = (uint16_t)b;
        vq->desc[b].len = 64;
        vq->desc[b].flags = VIRTQ_DESC_F_NEXT;
        vq->desc[b].next = (uint16_t)a;
        publish(vq, (unsigned int)a);
        break;
    case 4:
        /* A well-formed entry, then the index jumps num + 1 further. */
        vq->desc[a].len = NET_HDR_LEN + 60;
        vq->desc[a].flags = 0;
        vq->avail->ring[vq->avail_idx & (vq->num - 1)] = (uint16_t)a;
        barrier();
        vq->avail_idx = (uint16_t)(vq->avail_idx + vq->num + 1);
        WRITE_ONCE(vq->avail->idx, vq->avail_idx);
        break;
    default:
        return false;
    }
    virt_mb();
    virtio_mmio_notify(&nd->mmio, VIRTIO_NET_TXQ); /* always: ignore suppression */
    return true;
}

static uint32_t status_of(const struct netdev *nd)
{
    return virtio_mmio_read(&nd->mmio, VIRTIO_MMIO_STATUS);
}

/* Poll Status until NEEDS_RESET (the kick may be handled by a VMM thread, asynchronously). */
static uint32_t wait_needs_reset(const struct netdev *nd)
{
    uint64_t deadline = tsc_deadline_us(NEEDS_RESET_TIMEOUT_US);
    uint32_t st;

    while (!((st = status_of(nd)) & VIRTIO_CONFIG_S_NEEDS_RESET) && rdtsc() < deadline)
        cpu_relax();
    return st;
}

static bool ping_done(void *arg)
{
    (void)arg;
    return ping_state.got;
}

/* a resolves and pings b once. */
static bool ping_vf(struct netdev *a, struct netdev *b, uint16_t seq)
{
    uint8_t mac[ETH_ALEN];

    if (net_arp_resolve(a, b->ip, mac) || memcmp(mac, b->mac, ETH_ALEN) != 0)
        return false;
    ping_state.id = (uint16_t)(0x6800 + a->vf);
    ping_state.seq = seq;
    ping_state.got = false;
    if (net_send_ping(a, mac, b->ip, ping_state.id, seq, NULL))
        return false;
    return net_wait(ping_done, NULL, tsc_deadline_us(PING_TIMEOUT_US));
}

/* One UDP broadcast (port 9) from nd, for the uplink capture. */
static bool send_broadcast(struct netdev *nd)
{
    static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    int id;
    uint8_t *f = virtio_net_tx_buf(nd, &id);

    if (!f)
        return false;
    net_build_udp(nd, f, bcast, 0xffffffffu, 9, 9, 64);
    virtio_net_tx(nd, id, 64, false);
    virtio_net_kick(nd);
    return true;
}

int cmd_net_hostile(const struct cmdline *cl)
{
    uint64_t c = cmdline_param_u64(cl, "net.case", 0);
    struct netdev *nd = &netdevs[0];
    bool all = true, ok;
    uint32_t st, isr;

    if (c < 1 || c > 4) {
        kprintf("net.hostile: usage: net.hostile net.case=1|2|3|4\n");
        kprintf("FAIL\n");
        return MINIVMM_STATUS_FAIL;
    }
    if (nr_netdevs < 2) {
        kprintf("net.hostile: %u VF%s: needs at least two (minivmm run --nic vfs=3)\n", nr_netdevs,
                nr_netdevs == 1 ? "" : "s");
        kprintf("FAIL\n");
        return MINIVMM_STATUS_FAIL;
    }
    st = status_of(nd);
    if ((st & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) !=
        VIRTIO_CONFIG_S_DRIVER_OK) {
        kprintf("net.hostile: vf0 status 0x%x before the test: not live\nFAIL\n", st);
        return MINIVMM_STATUS_FAIL;
    }
    if (!post_hostile(nd, c)) {
        kprintf("net.hostile: case %llu: no free descriptors\nFAIL\n", (unsigned long long)c);
        return MINIVMM_STATUS_FAIL;
    }
    st = wait_needs_reset(nd);
    kprintf("net.hostile: case %llu: NEEDS_RESET set: %s (status 0x%x)\n", (unsigned long long)c,
            check(st & VIRTIO_CONFIG_S_NEEDS_RESET, &all) ? "ok" : "FAIL", st);
    /* Interrupts are off here, so the config interrupt is still pending in InterruptStatus
     * (unless an earlier interrupt window let the handler take it: config_changed). */
    isr = virtio_mmio_read(&nd->mmio, VIRTIO_MMIO_INTERRUPT_STATUS);
    ok = (isr & VIRTIO_MMIO_INT_CONFIG) || nd->config_changed;
    kprintf("net.hostile: case %llu: config interrupt: %s (interrupt status 0x%x)\n",
            (unsigned long long)c, check(ok, &all) ? "ok" : "FAIL", isr);
    for (unsigned int i = 1; i < nr_netdevs; i++) {
        uint32_t s = status_of(&netdevs[i]);

        ok = (s & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
             VIRTIO_CONFIG_S_DRIVER_OK;
        kprintf("net.hostile: vf%u status 0x%x: %s\n", netdevs[i].vf, s,
                check(ok, &all) ? "ok (live)" : "FAIL (not live)");
    }
    /* vf0 is dead until reset: the other VFs are not. */
    if (nr_netdevs >= 3) {
        ok = ping_vf(&netdevs[1], &netdevs[2], 1);
        kprintf("net.hostile: vf%u ping vf%u: %s\n", netdevs[1].vf, netdevs[2].vf,
                check(ok, &all) ? "ok" : "FAIL");
    } else {
        ok = send_broadcast(&netdevs[1]);
        kprintf("net.hostile: vf%u sent a broadcast to the uplink: %s\n", netdevs[1].vf,
                check(ok, &all) ? "ok" : "FAIL");
    }
    /* Reset and re-initialise vf0: NEEDS_RESET must go and the device must work again. */
    ok = virtio_net_reset(nd) == 0;
    st = status_of(nd);
    ok = ok && (st & (VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_NEEDS_RESET)) ==
                   VIRTIO_CONFIG_S_DRIVER_OK;
    kprintf("net.hostile: vf0 reset: %s (status 0x%x)\n", check(ok, &all) ? "ok" : "FAIL", st);
    if (ok) {
        ok = ping_vf(nd, &netdevs[1], 2);
        kprintf("net.hostile: vf0 ping vf%u after reset: %s\n", netdevs[1].vf,
                check(ok, &all) ? "ok" : "FAIL");
    }
    kprintf("%s\n", all ? "SUCCESS" : "FAIL");
    return all ? MINIVMM_STATUS_OK : MINIVMM_STATUS_FAIL;
}
