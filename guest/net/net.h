/*
 * net.h: the guest's network interfaces (one per virtio-net VF, plus the NE2000 when there
 * is one) and its tiny stack: Ethernet, ARP, IPv4 without fragments, ICMP echo and UDP echo
 * (port 7). The stack reaches a NIC only through its struct netdev_ops.
 *
 * Everything runs on the BSP with interrupts off; the NIC interrupt handler only acknowledges
 * the device, and net_wait() sleeps in `sti; hlt` until an interrupt or its timer fires, then
 * polls the rings (interrupts reach busy emulated code ~1 ms late here).
 */
#ifndef GUEST_NET_H
#define GUEST_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "../cmdline.h"
#include "../virtio/virtio_mmio.h"

#define ETH_ALEN 6
#define ETH_HLEN 14
#define ETH_FRAME_MAX 1514
#define ETH_P_IP 0x0800
#define ETH_P_ARP 0x0806
#define NET_HDR_LEN 12 /* struct virtio_net_hdr_v1 */

struct netdev;

/* What the stack and the net.* commands need from a NIC driver (virtio_net.c, ne2000.c). */
struct netdev_ops {
    /* A free transmit buffer (where the frame starts) and its id in *id, or NULL if none. */
    uint8_t *(*tx_buf)(struct netdev *nd, int *id);
    /* Give back a buffer from tx_buf unsent. */
    void (*tx_put)(struct netdev *nd, int id);
    /* Send the first len bytes of buffer id; kick now or let the caller batch (kick=false). */
    void (*tx)(struct netdev *nd, int id, uint32_t len, bool kick);
    void (*kick)(struct netdev *nd);
    /* The caller's note on what buffer id holds (0 = nothing; net.tx marks its frames). */
    uint32_t *(*tag)(struct netdev *nd, int id);
    /* Handle received frames (net_rx), reclaim sent ones; true if any work was done. */
    bool (*poll)(struct netdev *nd);
    /* Re-arm interrupts before sleeping; true if work arrived meanwhile (poll again). */
    bool (*enable_cb)(struct netdev *nd);
    /* Every frame handed to tx has left the device's buffers. */
    bool (*tx_idle)(struct netdev *nd);
};

struct netdev {
    const struct netdev_ops *ops;
    char name[8];                /* "vf0", "ne2000" */
    struct virtio_mmio_dev mmio; /* virtio-net VFs only */
    struct virtqueue rxq, txq;   /* virtio-net VFs only */
    struct virtqueue ctrlq;      /* with VIRTIO_NET_F_CTRL_VQ (ctrlq.desc != NULL) */
    unsigned int vf;             /* vfN; the NE2000: NET_NE2000_ID (ping ids only) */
    uint8_t mac[ETH_ALEN];
    uint32_t ip; /* host byte order */
    bool has_status, link_up;
    volatile bool config_changed; /* set by the interrupt handler */
    uint64_t rx_packets, tx_packets, tx_bytes, rx_dropped;
};

/* The virtio-net VFs (virtio_net.c), in probe order. */
extern struct netdev netdevs[VIRTIO_MMIO_MAX_DEVS];
extern unsigned int nr_netdevs;

/* Every interface, VFs first (net.c): net_wait polls them all, net.selftest pings among them. */
#define NET_MAX_IFACES (VIRTIO_MMIO_MAX_DEVS + 1)
extern struct netdev *net_ifaces[NET_MAX_IFACES];
extern unsigned int nr_net_ifaces;
void net_register(struct netdev *nd);

static inline uint8_t *netdev_tx_buf(struct netdev *nd, int *id)
{
    return nd->ops->tx_buf(nd, id);
}
static inline void netdev_tx_put(struct netdev *nd, int id)
{
    nd->ops->tx_put(nd, id);
}
static inline void netdev_tx(struct netdev *nd, int id, uint32_t len, bool kick)
{
    nd->ops->tx(nd, id, len, kick);
}
static inline void netdev_kick(struct netdev *nd)
{
    nd->ops->kick(nd);
}
static inline uint32_t *netdev_tag(struct netdev *nd, int id)
{
    return nd->ops->tag(nd, id);
}
static inline bool netdev_tx_idle(struct netdev *nd)
{
    return nd->ops->tx_idle(nd);
}

/* ne2000.c */
#define NET_NE2000_ID VIRTIO_MMIO_MAX_DEVS
/* The NE2000 (NULL when there is none). */
extern struct netdev *net_ne2000;
/* Find the NE2000 (FDT node, else a probe of port 0x300 / IRQ 9), bring it up, register it
 * and print "net: ne2000 mac M ip A". */
void ne2000_init(const void *fdt, uint64_t fdt_size, const struct cmdline *cl);

/* virtio_net.c */
/* Probe virtio-mmio, bring up every virtio-net device, print "net: vfN mac M ip A". */
void virtio_net_init(const void *fdt, uint64_t fdt_size, const struct cmdline *cl);
/* Reset the device (Status 0), free its rings and bring it up again as at boot (the way
 * out of DEVICE_NEEDS_RESET); 0 or -errno. */
int virtio_net_reset(struct netdev *nd);
/* A free transmit buffer: returns the frame's start (after the virtio-net header) and its
 * descriptor in *id, or NULL when all are in flight (reclaims completed ones first). */
uint8_t *virtio_net_tx_buf(struct netdev *nd, int *id);
/* Queue frame `id` of len bytes; kick now or let the caller batch (kick=false). */
void virtio_net_tx(struct netdev *nd, int id, uint32_t len, bool kick);
void virtio_net_kick(struct netdev *nd);
/* Handle received frames (net_rx), reclaim sent ones, report link changes; true if any
 * work was done. */
bool virtio_net_poll(struct netdev *nd);
/* One control command (VIRTIO_NET_CTRL_*, len <= 2046 data bytes), synchronously: the
 * device's ack (VIRTIO_NET_OK / VIRTIO_NET_ERR), or -1 without a control queue or when the
 * device did not answer within 1 s. */
int virtio_net_ctrl(struct netdev *nd, uint8_t cls, uint8_t cmd, const void *data, uint32_t len);
/* Re-arm interrupts on every queue; true if work arrived meanwhile. */
bool virtio_net_enable_cb(struct netdev *nd);
static inline uint32_t *virtio_net_tag(struct netdev *nd, int id)
{
    return &nd->txq.tag[id];
}

/* net.c */
void net_rx(struct netdev *nd, uint8_t *frame, uint32_t len);
/* Poll every device until done(arg) or the TSC passes `deadline` (0: forever); sleeps in
 * `sti; hlt` with a LAPIC one-shot timer as the bound. Returns done(arg). */
bool net_wait(bool (*done)(void *), void *arg, uint64_t deadline);
int net_parse_ip(const char *s, size_t len, uint32_t *ip);
/* net.ip, or 10.0.2.15 when absent or malformed (virtio_net_init warns about it). */
uint32_t net_base_ip(const struct cmdline *cl);
void net_format_ip(char *buf, uint32_t ip); /* buf: 16 bytes */
/* ARP: resolve ip on nd (cache, then up to 3 requests 1 s apart); 0 or -1. */
int net_arp_resolve(struct netdev *nd, uint32_t ip, uint8_t mac[ETH_ALEN]);
/* Drop ip's ARP cache entry (its owner changed MAC). */
void net_arp_forget(uint32_t ip);
/* Send an ICMP echo request (payload 56 bytes) from nd; src_mac overrides the source MAC
 * (spoofing tests) when not NULL. 0 or -1. */
int net_send_ping(struct netdev *nd, const uint8_t dst_mac[ETH_ALEN], uint32_t dst_ip, uint16_t id,
                  uint16_t seq, const uint8_t *src_mac);
/* Fill frame with Ethernet + IPv4 + UDP headers for a frame of `size` bytes; returns size. */
uint32_t net_build_udp(struct netdev *nd, uint8_t *frame, const uint8_t dst_mac[ETH_ALEN],
                       uint32_t dst_ip, uint16_t sport, uint16_t dport, uint32_t size);

/* The last echo reply seen: set by net_rx. */
struct ping_state {
    uint16_t id, seq;
    bool got;
    uint64_t tsc;
    uint32_t from;
};
extern struct ping_state ping_state;

#endif
