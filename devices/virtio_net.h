/*
 * virtio_net.h: a virtio-net device (virtio 1.x spec §5.1) behind the virtio-mmio transport, on
 * one network port (minivmm/hw/netport.h; in the VMM a VF of the PF switch): the guest's frames
 * go to the port's transmit(), the port's deliver callback fills the guest's RX buffers, and
 * CTRL_RX / CTRL_MAC commands become the port's set_promisc/set_allmulti/set_mac_filter/set_mac.
 *
 * Offered: VERSION_1, MAC, STATUS, MRG_RXBUF, CTRL_VQ, CTRL_RX, CTRL_MAC_ADDR, and with
 * `event_idx` INDIRECT_DESC and EVENT_IDX. Queues: 0 receiveq, 1 transmitq, 2 controlq. The
 * header is the 12-byte struct virtio_net_hdr_v1 on both queues (no checksum or GSO offloads:
 * a TX header asking for them is dropped and counted).
 *
 * Who runs what:
 *  - TX and control queue work: virtio_net_process(), from the transport's queue_notify (a
 *    vCPU thread, notify=exit) or from a virtio worker thread (notify=ioeventfd,
 *    virtio_worker.h). `tx_lock` serialises it per device (several vCPUs may kick at once).
 *  - RX: the port's deliver callback, with the provider's lock held (so RX pops of one device
 *    are serialised by it); a kick on the RX queue needs no work (no backlog is kept: a frame
 *    that finds no buffer is dropped, -ENOBUFS, counted by the switch).
 *  - Lock order: tx_lock -> switch -> transport -> cfg_lock. TX copies the frame into
 *    host memory (tx_buf) before calling the port, and never holds the transport lock
 *    across a port call, so two VFs sending to each other cannot deadlock.
 * Hostile input (a broken ring, a TX header shorter than 12 bytes, a control command with no
 * room for its ack) sets the transport's DEVICE_NEEDS_RESET; other VFs keep working.
 */
#ifndef MINIVMM_VIRTIO_NET_H
#define MINIVMM_VIRTIO_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "minivmm/hw/gmem.h"
#include "minivmm/hw/irq.h"
#include "minivmm/hw/netport.h"
#include "virtio_mmio.h"

#define VIRTIO_NET_QUEUE_MAX 256 /* = VQ_CHAIN_MAX_SEGS: every legal chain fits */
#define VIRTIO_NET_NUM_QUEUES 3  /* rx, tx, ctrl */
#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_MAX_FRAME 1514 /* TX: longer frames are dropped (tx_oversize) */
#define VIRTIO_NET_CTRL_MAX 4096  /* control command data bytes accepted */

/* TX/ctrl counters change under tx_lock, RX ones under the port's lock; read them when the
 * device is quiet (the summary at teardown, tests). */
struct virtio_net_stats {
    uint64_t tx_frames;   /* handed to the switch */
    uint64_t tx_oversize; /* frame longer than VIRTIO_NET_MAX_FRAME: dropped */
    uint64_t tx_bad_hdr;  /* GSO/unknown header requests: dropped */
    uint64_t rx_frames;   /* written into RX buffers */
    uint64_t rx_small;    /* RX buffers too small for the frame (no MRG_RXBUF): dropped */
    uint64_t ctrl_ok, ctrl_err;
    uint64_t resets; /* violations that set NEEDS_RESET: rings, queue set-up, TX/ctrl input */
};

struct virtio_net {
    struct virtio_mmio t; /* the transport; register &t with virtio_mmio_bus_ops */
    const struct gmem *gm;
    struct netport port;

    pthread_mutex_t tx_lock;  /* TX and control queue processing, tx_buf, stats.tx/ctrl */
    pthread_mutex_t cfg_lock; /* cfg, negotiated */
    struct virtio_net_config cfg;
    uint64_t negotiated; /* at DRIVER_OK */
    struct virtio_net_stats stats;
    uint8_t tx_buf[VIRTIO_NET_HDR_LEN + VIRTIO_NET_MAX_FRAME];
    uint8_t ctrl_buf[VIRTIO_NET_CTRL_MAX];
};

/* Initialises the device and its transport on network port `port` (copied; not attached yet:
 * see virtio_net_attach). A QueueNotify that reaches the transport runs the queue work on that
 * vCPU (notify=exit); with an ioeventfd on the register, a virtio worker calls
 * virtio_net_process() instead. The MAC and link state are read from the port (info).
 * 0 or -errno. */
int virtio_net_init(struct virtio_net *vn, const struct gmem *gm, const struct irq_line *irq,
                    const struct netport *port, bool event_idx);
/* Connects the device's deliver callback to its port. 0 or -errno. */
int virtio_net_attach(struct virtio_net *vn);
/* Disconnects it (the port delivers nothing more once this returns). */
void virtio_net_detach(struct virtio_net *vn);
/* Detach first; no thread may be inside the device. */
void virtio_net_destroy(struct virtio_net *vn);

/* Processes the TX and control queues (the I/O thread's work after a kick). */
void virtio_net_process(struct virtio_net *vn);
/* Link status bit in config space; a change sends a config-change interrupt. */
void virtio_net_set_link(struct virtio_net *vn, bool up);
/* The MAC in config space, after the port's MAC changed from the host side (the driver reads it
 * at probe or after the config-change interrupt this sends). */
void virtio_net_set_mac(struct virtio_net *vn, const uint8_t mac[6]);
void virtio_net_get_stats(struct virtio_net *vn, struct virtio_net_stats *st);

#endif
