/*
 * virtio_net.c: the virtio-net device of one VF (virtio_net.h), spec §5.1.
 *
 * Invariants: every byte the guest supplies is copied into host memory (tx_buf, ctrl_buf, the
 * header) before it is looked at, through vq_chain_read() on a chain the virtqueue checked;
 * nothing reads guest memory twice. A popped chain is always either returned (pushed) or, for
 * RX buffers that do not fit a frame or could not be written, given back to the ring
 * (virtio_mmio_unpop), unless a reset made it stale.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "virtio_net.h"
#include "minivmm/util.h"

#define F(b) VIRTIO_BIT(b)
#define NET_FEATURES                                                                               \
    (F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MRG_RXBUF) |                    \
     F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_CTRL_RX) | F(VIRTIO_NET_F_CTRL_MAC_ADDR))
#define RING_FEATURES (F(VIRTIO_F_EVENT_IDX) | F(VIRTIO_F_INDIRECT_DESC))

static uint64_t negotiated(struct virtio_net *vn)
{
    pthread_mutex_lock(&vn->cfg_lock);
    uint64_t f = vn->negotiated;
    pthread_mutex_unlock(&vn->cfg_lock);
    return f;
}

/* ---- config space ---- */

static void config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
    struct virtio_net *vn = dev;
    uint8_t raw[sizeof(struct virtio_net_config)] = {0};

    pthread_mutex_lock(&vn->cfg_lock);
    memcpy(raw, vn->cfg.mac, 6);
    raw[6] = (uint8_t)vn->cfg.status;
    raw[7] = (uint8_t)(vn->cfg.status >> 8);
    pthread_mutex_unlock(&vn->cfg_lock);
    memcpy(data, raw + off, len); /* the transport checked off + len <= config_size */
}

void virtio_net_set_mac(struct virtio_net *vn, const uint8_t mac[6])
{
    pthread_mutex_lock(&vn->cfg_lock);
    memcpy(vn->cfg.mac, mac, 6);
    pthread_mutex_unlock(&vn->cfg_lock);
    virtio_mmio_config_changed(&vn->t);
}

void virtio_net_set_link(struct virtio_net *vn, bool up)
{
    pthread_mutex_lock(&vn->cfg_lock);
    uint16_t old = vn->cfg.status;
    if (up)
        vn->cfg.status |= VIRTIO_NET_S_LINK_UP;
    else
        vn->cfg.status &= (uint16_t)~VIRTIO_NET_S_LINK_UP;
    bool changed = old != vn->cfg.status;
    pthread_mutex_unlock(&vn->cfg_lock);
    if (changed)
        virtio_mmio_config_changed(&vn->t); /* §5.1.4.2: config-change interrupt */
}

/* ---- TX ---- */

/* The chain is hostile: mark the device broken (the queue may be fine, the contents not). */
static void hostile(struct virtio_net *vn)
{
    vn->stats.resets++;
    virtio_mmio_needs_reset(&vn->t);
}

/* One TX chain. Returns false when the device must stop (NEEDS_RESET). */
static bool tx_one(struct virtio_net *vn, struct vq_chain *c)
{
    if (c->out_len < VIRTIO_NET_HDR_LEN) {
        hostile(vn); /* §5.1.6.2: every packet has a header */
        return false;
    }
    if (c->out_len > sizeof(vn->tx_buf)) {
        vn->stats.tx_oversize++;
    } else if (vq_chain_read(vn->gm, c, 0, vn->tx_buf, c->out_len) != 0) {
        hostile(vn);
        return false;
    } else if (vn->tx_buf[1] != VIRTIO_NET_HDR_GSO_NONE ||
               (vn->tx_buf[0] & VIRTIO_NET_HDR_F_NEEDS_CSUM)) {
        vn->stats.tx_bad_hdr++; /* neither CSUM nor HOST_TSO* was offered */
    } else {
        vn->stats.tx_frames++;
        vn->port.ops->transmit(&vn->port, vn->tx_buf + VIRTIO_NET_HDR_LEN,
                               c->out_len - VIRTIO_NET_HDR_LEN);
    }
    virtio_mmio_push(&vn->t, VIRTIO_NET_TXQ, c, 0);
    return true;
}

/* ---- control queue ---- */

static uint8_t ctrl_mac(struct virtio_net *vn, uint8_t cmd, const uint8_t *d, uint64_t len)
{
    if (cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        if (len != 6 || !(negotiated(vn) & F(VIRTIO_NET_F_CTRL_MAC_ADDR)))
            return VIRTIO_NET_ERR;
        if (vn->port.ops->set_mac(&vn->port, d) != 0)
            return VIRTIO_NET_ERR; /* untrusted VF, or the MAC is in use */
        virtio_net_set_mac(vn, d); /* §5.1.6.5.2: before the command completes */
        return VIRTIO_NET_OK;
    }
    if (cmd != VIRTIO_NET_CTRL_MAC_TABLE_SET)
        return VIRTIO_NET_ERR;
    /* Two tables, unicast then multicast: le32 entries; u8 macs[entries][6]. */
    if (len < 4)
        return VIRTIO_NET_ERR;
    uint64_t n_uc = get_le32(d);
    if (n_uc > (len - 4) / 6 || len - 4 - n_uc * 6 < 4)
        return VIRTIO_NET_ERR;
    const uint8_t *mc_hdr = d + 4 + n_uc * 6;
    uint64_t n_mc = get_le32(mc_hdr);
    uint64_t rest = len - 8 - n_uc * 6;
    if (n_mc > rest / 6 || n_mc * 6 != rest)
        return VIRTIO_NET_ERR;
    int r = vn->port.ops->set_mac_filter(&vn->port, (const uint8_t(*)[6])(const void *)(d + 4),
                                         (unsigned)n_uc,
                                         (const uint8_t(*)[6])(const void *)(mc_hdr + 4),
                                         (unsigned)n_mc);
    return r == 0 ? VIRTIO_NET_OK : VIRTIO_NET_ERR;
}

static uint8_t ctrl_cmd(struct virtio_net *vn, uint8_t cls, uint8_t cmd, const uint8_t *d,
                        uint64_t len)
{
    switch (cls) {
    case VIRTIO_NET_CTRL_RX:
        if (len != 1 || !(negotiated(vn) & F(VIRTIO_NET_F_CTRL_RX)))
            return VIRTIO_NET_ERR;
        if (cmd == VIRTIO_NET_CTRL_RX_PROMISC)
            return vn->port.ops->set_promisc(&vn->port, d[0] != 0) ? VIRTIO_NET_ERR
                                                                   : VIRTIO_NET_OK;
        if (cmd == VIRTIO_NET_CTRL_RX_ALLMULTI)
            return vn->port.ops->set_allmulti(&vn->port, d[0] != 0) ? VIRTIO_NET_ERR
                                                                    : VIRTIO_NET_OK;
        return VIRTIO_NET_ERR;
    case VIRTIO_NET_CTRL_MAC:
        if (!(negotiated(vn) & F(VIRTIO_NET_F_CTRL_RX)) && cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET)
            return VIRTIO_NET_ERR;
        return ctrl_mac(vn, cmd, d, len);
    default:
        return VIRTIO_NET_ERR;
    }
}

/* One command: readable {u8 class; u8 command; data}, writable {u8 ack} (§5.1.6.5). */
static bool ctrl_one(struct virtio_net *vn, struct vq_chain *c)
{
    if (c->in_len < 1) {
        hostile(vn); /* nowhere to put the ack */
        return false;
    }
    uint8_t ack = VIRTIO_NET_ERR;
    uint8_t hdr[2];
    if (c->out_len >= 2 && c->out_len - 2 <= sizeof(vn->ctrl_buf)) {
        uint64_t dlen = c->out_len - 2;
        if (vq_chain_read(vn->gm, c, 0, hdr, 2) != 0 ||
            vq_chain_read(vn->gm, c, 2, vn->ctrl_buf, dlen) != 0) {
            hostile(vn);
            return false;
        }
        ack = ctrl_cmd(vn, hdr[0], hdr[1], vn->ctrl_buf, dlen);
    }
    if (ack == VIRTIO_NET_OK)
        vn->stats.ctrl_ok++;
    else
        vn->stats.ctrl_err++;
    /* The ack is the last writable byte (Linux gives it a descriptor of its own). */
    if (vq_chain_write(vn->gm, c, c->in_len - 1, &ack, 1) != 0) {
        hostile(vn);
        return false;
    }
    virtio_mmio_push(&vn->t, VIRTIO_NET_CTRLQ, c, 1);
    return true;
}

/* Drains queue q with `one`, re-checking after re-enabling kicks (§2.7.14). */
static void drain(struct virtio_net *vn, unsigned q,
                  bool (*one)(struct virtio_net *, struct vq_chain *))
{
    static __thread struct vq_chain c; /* 4 KiB: off the stack; per thread */
    bool pushed = false;
    for (;;) {
        virtio_mmio_disable_notify(&vn->t, q);
        int r;
        while ((r = virtio_mmio_pop(&vn->t, q, &c)) == 0) {
            pushed = true;
            if (!one(vn, &c))
                goto out;
        }
        if (r != -EAGAIN)
            goto out; /* -ENODEV: not live; -EINVAL: the transport set NEEDS_RESET */
        if (!virtio_mmio_enable_notify(&vn->t, q))
            break;
    }
out:
    if (pushed)
        virtio_mmio_signal_used(&vn->t, q);
}

void virtio_net_process(struct virtio_net *vn)
{
    pthread_mutex_lock(&vn->tx_lock);
    drain(vn, VIRTIO_NET_TXQ, tx_one);
    drain(vn, VIRTIO_NET_CTRLQ, ctrl_one);
    pthread_mutex_unlock(&vn->tx_lock);
}

/* A QueueNotify that exited to the VMM (notify=exit; with an ioeventfd on the register the
 * kick never gets here). */
static void queue_notify(void *dev, unsigned q)
{
    struct virtio_net *vn = dev;
    if (q == VIRTIO_NET_TXQ || q == VIRTIO_NET_CTRLQ)
        virtio_net_process(vn);
    /* RX kicks: buffers are used when frames arrive; nothing is queued. */
}

static void driver_ok(void *dev, uint64_t features)
{
    struct virtio_net *vn = dev;
    pthread_mutex_lock(&vn->cfg_lock);
    vn->negotiated = features;
    pthread_mutex_unlock(&vn->cfg_lock);
}

static void dev_reset(void *dev)
{
    struct virtio_net *vn = dev;
    /* Wait for the queue work in progress; its pushes then fail with -ESTALE. */
    pthread_mutex_lock(&vn->tx_lock);
    pthread_mutex_lock(&vn->cfg_lock);
    vn->negotiated = 0;
    pthread_mutex_unlock(&vn->cfg_lock);
    pthread_mutex_unlock(&vn->tx_lock);
    /* No stale state for the next driver: the port forgets the guest's MAC and RX mode, and
     * config space shows the assigned MAC again (read at the driver's next probe; no
     * configuration-change interrupt while the device is reset). */
    struct netport_info info;
    if (vn->port.ops->reset && vn->port.ops->reset(&vn->port) == 0 &&
        vn->port.ops->info(&vn->port, &info) == 0) {
        pthread_mutex_lock(&vn->cfg_lock);
        memcpy(vn->cfg.mac, info.mac, 6);
        pthread_mutex_unlock(&vn->cfg_lock);
    }
}

#define OPS(feat)                                                                                  \
    {                                                                                              \
        .device_id = VIRTIO_ID_NET, .features = (feat), .num_queues = VIRTIO_NET_NUM_QUEUES,       \
        .queue_max = VIRTIO_NET_QUEUE_MAX, .config_size = 8, .config_read = config_read,           \
        .config_write = NULL, .queue_notify = queue_notify, .driver_ok = driver_ok,                \
        .reset = dev_reset,                                                                        \
    }

/* [event_idx] */
static const struct virtio_dev_ops net_ops[2] = {OPS(NET_FEATURES),
                                                 OPS(NET_FEATURES | RING_FEATURES)};

/* ---- RX (the port's deliver, the port's lock held) ---- */

/* Gives back the last n popped RX buffers, `first` the oldest: only this device pops the RX
 * queue, under the port's lock, so nothing was popped after them. A reset meanwhile made them
 * stale (nothing to give back); a queue that broke stays dead until the next reset. */
static void rx_unpop(struct virtio_net *vn, const struct vq_chain *first, unsigned n)
{
    if (n)
        virtio_mmio_unpop(&vn->t, VIRTIO_NET_RXQ, first, n);
}

struct rx_used {
    uint16_t head;
    uint32_t len;
};

static int deliver(void *opaque, const void *frame, size_t len)
{
    struct virtio_net *vn = opaque;
    /* Serialised by the port's lock (one port per device). */
    static __thread struct vq_chain first, cur;
    static __thread struct rx_used used[VIRTIO_NET_QUEUE_MAX];
    bool mrg = negotiated(vn) & F(VIRTIO_NET_F_MRG_RXBUF);
    unsigned n = 0;
    uint64_t done = 0, total = VIRTIO_NET_HDR_LEN + (uint64_t)len;
    int r;

    while (done < total) {
        struct vq_chain *c = n == 0 ? &first : &cur;
        r = virtio_mmio_pop(&vn->t, VIRTIO_NET_RXQ, c);
        if (r != 0 || n == VIRTIO_NET_QUEUE_MAX) {
            if (r == 0)
                n++;
            rx_unpop(vn, &first, n);
            return r == -EINVAL ? -EIO : -ENOBUFS;
        }
        if (c->in_len < (n == 0 ? VIRTIO_NET_HDR_LEN : 1) || (!mrg && c->in_len < total)) {
            rx_unpop(vn, &first, n + 1);
            vn->stats.rx_small++;
            return -EMSGSIZE;
        }
        uint64_t room = c->in_len, off = 0;
        if (n == 0) {
            struct virtio_net_hdr_v1 h = {.num_buffers = 1}; /* fixed below with MRG */
            if (vq_chain_write(vn->gm, c, 0, &h, VIRTIO_NET_HDR_LEN)) {
                rx_unpop(vn, &first, 1);
                return -EIO;
            }
            off = VIRTIO_NET_HDR_LEN;
            done = VIRTIO_NET_HDR_LEN;
        }
        uint64_t chunk = total - done < room - off ? total - done : room - off;
        if (chunk && vq_chain_write(vn->gm, c, off,
                                    (const uint8_t *)frame + (done - VIRTIO_NET_HDR_LEN), chunk)) {
            rx_unpop(vn, &first, n + 1);
            return -EIO;
        }
        done += chunk;
        used[n].head = c->head;
        used[n].len = (uint32_t)(off + chunk);
        n++;
    }
    if (n > 1) {
        uint8_t nb[2] = {(uint8_t)n, (uint8_t)(n >> 8)};
        if (vq_chain_write(vn->gm, &first, offsetof(struct virtio_net_hdr_v1, num_buffers), nb,
                           2)) {
            rx_unpop(vn, &first, n);
            return -EIO;
        }
    }
    /* Push in pop order; the first push publishes nothing the driver reads before idx. */
    for (unsigned i = 0; i < n; i++) {
        struct vq_chain *p = &cur;
        if (i == 0) {
            p = &first;
        } else {
            cur.head = used[i].head;
            cur.epoch = first.epoch;
            cur.in_len = used[i].len;
        }
        r = virtio_mmio_push(&vn->t, VIRTIO_NET_RXQ, p, used[i].len);
        if (r) {
            /* The buffers not pushed yet are the newest popped: give them back (nothing to
             * give back after a reset, -ESTALE, or on a dead queue, -ENODEV). */
            if (i)
                virtio_mmio_signal_used(&vn->t, VIRTIO_NET_RXQ);
            rx_unpop(vn, &first, n - i);
            return r == -ESTALE ? -ENOBUFS : -EIO;
        }
    }
    vn->stats.rx_frames++;
    virtio_mmio_signal_used(&vn->t, VIRTIO_NET_RXQ);
    return 0;
}

/* ---- life cycle ---- */

int virtio_net_init(struct virtio_net *vn, const struct gmem *gm, const struct irq_line *irq,
                    const struct netport *port, bool event_idx)
{
    struct netport_info info;
    int ret = port->ops->info(port, &info);
    if (ret)
        return ret;
    memset(vn, 0, sizeof(*vn));
    vn->gm = gm;
    vn->port = *port;
    memcpy(vn->cfg.mac, info.mac, 6);
    vn->cfg.status = info.link_up ? VIRTIO_NET_S_LINK_UP : 0;
    ret = -pthread_mutex_init(&vn->tx_lock, NULL);
    if (ret)
        return ret;
    ret = -pthread_mutex_init(&vn->cfg_lock, NULL);
    if (ret)
        goto err_tx_lock;
    ret = virtio_mmio_init(&vn->t, &net_ops[event_idx], vn, gm, irq);
    if (ret)
        goto err_cfg_lock;
    return 0;

err_cfg_lock:
    pthread_mutex_destroy(&vn->cfg_lock);
err_tx_lock:
    pthread_mutex_destroy(&vn->tx_lock);
    return ret;
}

int virtio_net_attach(struct virtio_net *vn)
{
    return vn->port.ops->attach(&vn->port, deliver, vn);
}

void virtio_net_detach(struct virtio_net *vn)
{
    vn->port.ops->attach(&vn->port, NULL, NULL);
}

void virtio_net_destroy(struct virtio_net *vn)
{
    virtio_mmio_destroy(&vn->t);
    pthread_mutex_destroy(&vn->cfg_lock);
    pthread_mutex_destroy(&vn->tx_lock);
}

void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st)
{
    pthread_mutex_lock(&vn->tx_lock);
    *st = vn->stats;
    pthread_mutex_unlock(&vn->tx_lock);
    /* Every violation that set NEEDS_RESET: the ring checks in virtqueue_pop() and the
     * transport's as well as hostile() here (which goes through virtio_mmio_needs_reset()). */
    struct virtio_mmio_stats ts;
    virtio_mmio_get_stats(&vn->t, &ts);
    st->resets = ts.guest_errors;
}
