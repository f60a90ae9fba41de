/*
 * virtio_net.c: the virtio-net front end (virtio 1.x §5.1) over virtio_mmio.c.
 *
 * Negotiated: VERSION_1 (required), MAC, STATUS, EVENT_IDX, CTRL_VQ with CTRL_RX and
 * CTRL_MAC_ADDR. Not negotiated: MRG_RXBUF, offloads, MQ; so every receive buffer must hold a
 * 12-byte header plus a 1514-byte frame, and each of our 2 KiB buffers does, as one
 * device-writable descriptor. Queues: 0 receive, 1 transmit, up to VQ_MAX_NUM entries each;
 * 2 control (when offered), 2 entries: one request at a time, buffer 0 the readable
 * {class, command, data} and buffer 1 the writable ack, chained (virtio_net_ctrl()).
 *
 * Copies are expensive here (`rep movsb` ~1 us/byte): frames are built in place in the
 * transmit buffers, which are reused, and received frames are handled in their buffer, which
 * goes straight back to the receive ring.
 *
 * Interrupts: level-triggered IOAPIC pins; the handler reads InterruptStatus, acknowledges it
 * (dropping the line) and sends the LAPIC EOI (our VMM's IOAPIC resamples the line on EOI);
 * ring work happens in virtio_net_poll(), called with interrupts off.
 */
#include "net.h"

#include <minivmm/virtio.h>

#include "../config.h"
#include "../ioapic.h"
#include "../kernel.h"
#include "../lapic.h"
#include "../traps.h"
#include "../tsc.h"
#include "../x86.h"

#define NET_FEATURES                                                                               \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_NET_F_MAC) |                               \
     VIRTIO_BIT(VIRTIO_NET_F_STATUS) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX) |                            \
     VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |                         \
     VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR))
#define CTRL_TIMEOUT_US 1000000
#define DEFAULT_IP 0x0a00020fu /* 10.0.2.15 */

struct netdev netdevs[VIRTIO_MMIO_MAX_DEVS];
unsigned int nr_netdevs;

static const struct netdev_ops virtio_net_ops;

static uint16_t read_status(struct netdev *nd)
{
    /* status is at config offset 6: a 16-bit field, read as part of the aligned word at 4 */
    return (uint16_t)(virtio_mmio_read(&nd->mmio, VIRTIO_MMIO_CONFIG + 4) >> 16);
}

static void virtio_net_isr(void)
{
    for (unsigned int i = 0; i < nr_netdevs; i++)
        if (virtio_mmio_ack_irq(&netdevs[i].mmio) & VIRTIO_MMIO_INT_CONFIG)
            netdevs[i].config_changed = true;
    lapic_eoi();
}

static int netdev_setup(struct netdev *nd)
{
    struct virtio_mmio_dev *d = &nd->mmio;
    int err;

    err = virtio_mmio_negotiate(d, NET_FEATURES, VIRTIO_BIT(VIRTIO_F_VERSION_1));
    if (err)
        return err;
    err = virtio_mmio_setup_vq(d, &nd->rxq, VIRTIO_NET_RXQ, VQ_MAX_NUM);
    if (!err)
        err = virtio_mmio_setup_vq(d, &nd->txq, VIRTIO_NET_TXQ, VQ_MAX_NUM);
    if (!err && (d->features & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)))
        err = virtio_mmio_setup_vq(d, &nd->ctrlq, VIRTIO_NET_CTRLQ, 2);
    if (err) {
        kprintf("net: vf%u: queue set-up failed (%d)\n", nd->vf, err);
        virtio_mmio_fail(d);
        return err;
    }
    if (d->features & VIRTIO_BIT(VIRTIO_NET_F_MAC)) {
        uint32_t lo = virtio_mmio_read(d, VIRTIO_MMIO_CONFIG);
        uint32_t hi = virtio_mmio_read(d, VIRTIO_MMIO_CONFIG + 4);

        for (int i = 0; i < 4; i++)
            nd->mac[i] = (uint8_t)(lo >> (8 * i));
        nd->mac[4] = (uint8_t)hi;
        nd->mac[5] = (uint8_t)(hi >> 8);
    } else {
        /* Locally administered, unique per VF. */
        const uint8_t mac[ETH_ALEN] = {0x02, 0x6d, 0x76, 0x6d, 0x00, (uint8_t)nd->vf};
        memcpy(nd->mac, mac, ETH_ALEN);
    }
    nd->has_status = (d->features & VIRTIO_BIT(VIRTIO_NET_F_STATUS)) != 0;
    nd->link_up = nd->has_status ? (read_status(nd) & VIRTIO_NET_S_LINK_UP) != 0 : true;
    /* Every receive buffer to the device before DRIVER_OK; the notification after it. */
    for (int id; (id = virtqueue_get_free(&nd->rxq)) >= 0;)
        virtqueue_add(&nd->rxq, (unsigned int)id, VQ_BUF_SIZE, true);
    virtqueue_enable_cb(&nd->rxq);
    virtqueue_enable_cb(&nd->txq);
    irq_set_handler((uint8_t)(IRQ_VECTOR_BASE + d->irq), virtio_net_isr);
    ioapic_route_pin(d->irq, (uint8_t)(IRQ_VECTOR_BASE + d->irq), lapic_id(), true);
    virtio_mmio_driver_ok(d);
    if (virtqueue_kick_prepare(&nd->rxq))
        virtio_mmio_notify(d, VIRTIO_NET_RXQ);
    return 0;
}

void virtio_net_init(const void *fdt, uint64_t fdt_size, const struct cmdline *cl)
{
    struct virtio_mmio_dev devs[VIRTIO_MMIO_MAX_DEVS];
    unsigned int n = virtio_mmio_probe(fdt, fdt_size, cl, devs, VIRTIO_MMIO_MAX_DEVS);
    uint32_t base_ip = DEFAULT_IP;
    size_t len;
    const char *ip = cmdline_param(cl, "net.ip", &len);

    if (ip && net_parse_ip(ip, len, &base_ip)) {
        kprintf("net: bad net.ip '%.*s', using 10.0.2.15\n", (int)len, ip);
        base_ip = DEFAULT_IP;
    }
    for (unsigned int i = 0; i < n; i++) {
        struct netdev *nd = &netdevs[nr_netdevs];
        char ipbuf[16];

        if (devs[i].device_id != VIRTIO_ID_NET)
            continue;
        memset(nd, 0, sizeof(*nd));
        nd->ops = &virtio_net_ops;
        nd->mmio = devs[i];
        nd->vf = (unsigned int)devs[i].vf_index;
        ksnprintf(nd->name, sizeof(nd->name), "vf%u", nd->vf);
        nd->ip = base_ip + nd->vf;
        if (devs[i].irq >= 24 || netdev_setup(nd))
            continue;
        nr_netdevs++;
        net_register(nd);
        net_format_ip(ipbuf, nd->ip);
        kprintf("net: vf%u mac %02x:%02x:%02x:%02x:%02x:%02x ip %s\n", nd->vf, nd->mac[0],
                nd->mac[1], nd->mac[2], nd->mac[3], nd->mac[4], nd->mac[5], ipbuf);
    }
}

int virtio_net_reset(struct netdev *nd)
{
    /* Status 0 first: the device forgets the rings before their memory is freed. */
    virtio_mmio_write(&nd->mmio, VIRTIO_MMIO_STATUS, 0);
    vring_destroy(&nd->rxq);
    vring_destroy(&nd->txq);
    vring_destroy(&nd->ctrlq);
    nd->config_changed = false;
    return netdev_setup(nd);
}

static void reclaim_tx(struct netdev *nd)
{
    uint32_t len;
    int id;

    while ((id = virtqueue_get_buf(&nd->txq, &len)) >= 0)
        virtqueue_put_free(&nd->txq, (unsigned int)id);
}

uint8_t *virtio_net_tx_buf(struct netdev *nd, int *id)
{
    struct virtio_net_hdr_v1 *h;

    *id = virtqueue_get_free(&nd->txq);
    if (*id < 0) {
        reclaim_tx(nd);
        *id = virtqueue_get_free(&nd->txq);
        if (*id < 0)
            return NULL;
    }
    h = (struct virtio_net_hdr_v1 *)nd->txq.buf[*id];
    h->flags = 0;
    h->gso_type = VIRTIO_NET_HDR_GSO_NONE;
    h->hdr_len = 0;
    h->gso_size = 0;
    h->csum_start = 0;
    h->csum_offset = 0;
    h->num_buffers = 0;
    return nd->txq.buf[*id] + NET_HDR_LEN;
}

void virtio_net_kick(struct netdev *nd)
{
    if (virtqueue_kick_prepare(&nd->txq))
        virtio_mmio_notify(&nd->mmio, VIRTIO_NET_TXQ);
}

void virtio_net_tx(struct netdev *nd, int id, uint32_t len, bool kick)
{
    virtqueue_add(&nd->txq, (unsigned int)id, NET_HDR_LEN + len, false);
    nd->tx_packets++;
    nd->tx_bytes += len;
    if (kick)
        virtio_net_kick(nd);
}

bool virtio_net_poll(struct netdev *nd)
{
    bool work = false, refilled = false;
    uint32_t len;
    int id;

    if (nd->config_changed) {
        nd->config_changed = false;
        if (nd->has_status) {
            bool up = (read_status(nd) & VIRTIO_NET_S_LINK_UP) != 0;

            if (up != nd->link_up)
                kprintf("net: vf%u link %s\n", nd->vf, up ? "up" : "down");
            nd->link_up = up;
        }
    }
    while ((id = virtqueue_get_buf(&nd->rxq, &len)) >= 0) {
        work = true;
        if (len > NET_HDR_LEN && len <= VQ_BUF_SIZE) {
            nd->rx_packets++;
            net_rx(nd, nd->rxq.buf[id] + NET_HDR_LEN, len - NET_HDR_LEN);
        } else {
            nd->rx_dropped++;
        }
        virtqueue_add(&nd->rxq, (unsigned int)id, VQ_BUF_SIZE, true);
        refilled = true;
    }
    if (refilled && virtqueue_kick_prepare(&nd->rxq))
        virtio_mmio_notify(&nd->mmio, VIRTIO_NET_RXQ);
    reclaim_tx(nd);
    return work;
}

static bool ctrl_done(void *arg)
{
    struct virtqueue *vq = arg;

    return READ_ONCE(vq->used->idx) != vq->last_used_idx;
}

int virtio_net_ctrl(struct netdev *nd, uint8_t cls, uint8_t cmd, const void *data, uint32_t len)
{
    struct virtqueue *vq = &nd->ctrlq;
    volatile uint8_t *ack;
    uint32_t used_len;

    if (!vq->desc || vq->num < 2 || len > VQ_BUF_SIZE - 2)
        return -1;
    ack = vq->buf[1];
    vq->buf[0][0] = cls;
    vq->buf[0][1] = cmd;
    memcpy(vq->buf[0] + 2, data, len);
    *ack = 0xff;
    virtqueue_add_pair(vq, 0, 2 + len, 1, 1);
    virtqueue_enable_cb(vq); /* an interrupt for the answer ends net_wait's sleep */
    if (virtqueue_kick_prepare(vq))
        virtio_mmio_notify(&nd->mmio, VIRTIO_NET_CTRLQ);
    /* Frames keep being handled meanwhile; sleeps in `sti; hlt`, bounded by the timer. */
    if (!net_wait(ctrl_done, vq, tsc_deadline_us(CTRL_TIMEOUT_US))) {
        kprintf("net: vf%u: control command %u/%u: no answer\n", nd->vf, cls, cmd);
        return -1;
    }
    if (virtqueue_get_buf(vq, &used_len) != 0)
        return -1;
    return *ack;
}

bool virtio_net_enable_cb(struct netdev *nd)
{
    bool rx = virtqueue_enable_cb(&nd->rxq);
    bool tx = virtqueue_enable_cb(&nd->txq);

    return rx || tx || nd->config_changed;
}

static void virtio_net_tx_put(struct netdev *nd, int id)
{
    virtqueue_put_free(&nd->txq, (unsigned int)id);
}

static bool virtio_net_tx_idle(struct netdev *nd)
{
    return nd->txq.nr_free == nd->txq.num;
}

static const struct netdev_ops virtio_net_ops = {
    .tx_buf = virtio_net_tx_buf,
    .tx_put = virtio_net_tx_put,
    .tx = virtio_net_tx,
    .kick = virtio_net_kick,
    .tag = virtio_net_tag,
    .poll = virtio_net_poll,
    .enable_cb = virtio_net_enable_cb,
    .tx_idle = virtio_net_tx_idle,
};
