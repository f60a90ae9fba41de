/*
 * net.h: the guest's network interfaces (one per virtio-net VF) and its tiny stack:
 * Ethernet, ARP, IPv4 without fragments, ICMP echo and UDP echo (port 7).
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

struct netdev {
    struct virtio_mmio_dev mmio;
    struct virtqueue rxq, txq;
    unsigned int vf; /* vfN */
    uint8_t mac[ETH_ALEN];
    uint32_t ip; /* host byte order */
    bool has_status, link_up;
    volatile bool config_changed; /* set by the interrupt handler */
    uint64_t rx_packets, tx_packets, tx_bytes, rx_dropped;
};

extern struct netdev netdevs[VIRTIO_MMIO_MAX_DEVS];
extern unsigned int nr_netdevs;

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
void net_format_ip(char *buf, uint32_t ip); /* buf: 16 bytes */
/* ARP: resolve ip on nd (cache, then up to 3 requests 1 s apart); 0 or -1. */
int net_arp_resolve(struct netdev *nd, uint32_t ip, uint8_t mac[ETH_ALEN]);
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
