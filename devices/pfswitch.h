/*
 * pfswitch.h: the physical function's embedded switch (a software VEB as in
 * the Intel 82576 datasheet §7.10.3)
 * between the guest-facing ports (the VFs, later an emulated NE2000) and one uplink.
 *
 * A plain data structure with no KVM dependency: NIC models reach a guest port only through
 * the struct netport that pfswitch_netport() gives them (minivmm/hw/netport.h: transmit is
 * pfswitch_tx_from_vf(), the guest's RX-mode requests are the setters with from_guest), the
 * uplink back-end hands it frames with pfswitch_rx_from_uplink(), and the switch hands frames
 * out through each port's `deliver` callback. Per-port controls follow `ip link set DEV vf
 * N mac/vlan/spoofchk/trust/state` (§4.2); promisc/allmulti and the MAC filter table follow
 * virtio-net's CTRL_RX / CTRL_MAC commands (§1.6).
 *
 * Ports: guest ports 0..nports-1 (VF n is port n; pfswitch_add_port() appends more) and the
 * uplink, PFSWITCH_UPLINK. Inside the switch a frame is (VLAN, untagged frame): the 802.1Q tag
 * is added toward the uplink and stripped toward guest ports.
 *
 * Locking: every entry point takes the switch mutex (error-checking: re-entry aborts). deliver()
 * and tap() are called WITH it held, so frames reach each port in switch order and a port's
 * configuration cannot change under a delivery. Lock order: [a device's TX-side lock] -> switch
 * -> [a device's RX-side lock, an uplink's or a capture's lock]. Hence (1) deliver()/tap() must
 * not call any pfswitch_* function, and (2) a device must not hold a lock its own deliver()
 * takes while it calls pfswitch_tx_from_vf() or a setter (two VFs transmitting to each other
 * would deadlock).
 *
 * Counting (the invariant the tests check): every frame handed to the switch is counted once as
 * `offered` (tx_packets of the sending port). It is then either dropped at ingress (one
 * tx_drops[reason] of the sender) or replicated to k >= 1 destinations (k-1 counted as
 * `replicas`); each copy is either delivered (rx_packets of the destination) or dropped at
 * egress (one rx_drops[reason] of the destination). So offered + replicas = delivered + dropped.
 */
#ifndef MINIVMM_PFSWITCH_H
#define MINIVMM_PFSWITCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/netport.h"

#define PFSWITCH_MAX_VFS 8
#define PFSWITCH_MAX_PORTS (PFSWITCH_MAX_VFS + 1) /* the VFs and one emulated NIC */
#define PFSWITCH_UPLINK 0xffu                     /* the uplink's port number */
#define PFSWITCH_FILTER_MAX 64                    /* MAC filter entries per list (QEMU's 64) */
#define PFSWITCH_MTU_DEFAULT 1500
#define PFSWITCH_MTU_MIN 68
#define PFSWITCH_MTU_MAX 9000
#define PFSWITCH_ETH_HLEN 14   /* dst, src, ethertype: shorter frames are runts */
#define PFSWITCH_VLAN_HLEN 4   /* 802.1Q tag: TPID 0x8100, TCI */
#define PFSWITCH_VLAN_MAX 4094 /* 0 = no port VLAN; 4095 is reserved */
#define PFSWITCH_MAX_FRAME (PFSWITCH_MTU_MAX + PFSWITCH_ETH_HLEN + PFSWITCH_VLAN_HLEN)

enum pfswitch_drop {
    PFSWITCH_DROP_SPOOF,    /* source MAC is not the VF's (spoofchk on) */
    PFSWITCH_DROP_VLAN,     /* tagged frame from a VF, reserved VID, no port in that VLAN */
    PFSWITCH_DROP_NOBUF,    /* deliver() said -ENOBUFS: the guest posted no RX buffer */
    PFSWITCH_DROP_RUNT,     /* shorter than the Ethernet header (or the 802.1Q one) */
    PFSWITCH_DROP_OVERSIZE, /* longer than MTU + header */
    PFSWITCH_DROP_LINK,     /* link down (state disable, auto with the uplink down, no device) */
    PFSWITCH_DROP_FILTER,   /* refused by the RX filter, no destination, or addressed to itself */
    PFSWITCH_DROP_ERROR,    /* deliver() failed with another error */
    PFSWITCH_DROP_NR
};

/* `ip link set ... vf N state` (IFLA_VF_LINK_STATE_*): auto follows the uplink. */
enum pfswitch_link_state { PFSWITCH_LINK_AUTO, PFSWITCH_LINK_ENABLE, PFSWITCH_LINK_DISABLE };

/* Seen from the endpoint attached to the port (the guest for a VF, the network for the uplink):
 * tx = frames it handed to the switch, rx = frames the switch handed to it. */
struct pfswitch_port_stats {
    uint64_t tx_packets, tx_bytes;       /* offered: dropped frames included */
    uint64_t rx_packets, rx_bytes;       /* delivered (deliver() returned 0), as delivered */
    uint64_t rx_broadcast, rx_multicast; /* of rx_packets */
    uint64_t tx_drops[PFSWITCH_DROP_NR]; /* frames this port sent, dropped at ingress */
    uint64_t rx_drops[PFSWITCH_DROP_NR]; /* copies toward this port, dropped at egress */
    uint64_t refused;      /* guest requests refused with -EPERM (MAC change, promisc, uc filter) */
    uint64_t rate_waits;   /* frames that waited for max_tx_rate tokens (never dropped) */
    uint64_t rate_wait_ns; /* total wait */
    uint64_t tx_first_ns, tx_last_ns; /* CLOCK_MONOTONIC of the first and last offered frame */
};

/* A token bucket for `max_tx_rate` (IFLA_VF_RATE): tokens are frame bytes (Ethernet header to
 * payload, as handed to the switch; no preamble, FCS or gap), kept in byte-nanoseconds so that
 * integer arithmetic loses nothing. It starts full; its depth is PFSWITCH_RATE_BURST_MS of
 * traffic but at least two maximum-size frames, so bytes taken over any interval T stay below
 * depth + rate * T. */
#define PFSWITCH_RATE_MAX 1000000 /* Mbit/s (1 Tbit/s) */
#define PFSWITCH_RATE_BURST_MS 1
struct pfswitch_bucket {
    uint64_t rate;   /* bytes per second, 0 = unlimited */
    uint64_t depth;  /* byte-ns */
    uint64_t tokens; /* byte-ns, <= depth */
    uint64_t last_ns;
};

/* (Re)configure: mbit 0 = unlimited; the bucket is refilled. */
void pfswitch_bucket_set(struct pfswitch_bucket *b, unsigned mbit, unsigned max_frame,
                         uint64_t now_ns);
/* Take `len` bytes at time now_ns: 0 when taken, else the nanoseconds to wait before trying
 * again (nothing taken). */
uint64_t pfswitch_bucket_take(struct pfswitch_bucket *b, uint64_t now_ns, size_t len);

struct pfswitch_totals {
    uint64_t offered, replicas, delivered, dropped;
};

struct pfswitch_port_ops {
    /* Copy the frame to the endpoint before returning. Called with the switch lock held (see
     * above). 0, -ENOBUFS (no RX buffer: a NOBUF drop) or another -errno (an ERROR drop). */
    netport_deliver_fn deliver;
};

/* A capture hook: every frame the endpoint offers (before any check, as sent) and every frame
 * delivered to it (as delivered), in the port's wire format. Called with the switch lock held. */
typedef void (*pfswitch_tap_fn)(void *opaque, const void *frame, size_t len);

struct pfswitch_port_info {
    uint8_t mac[6];
    uint16_t vlan;
    bool spoofchk, trust, promisc, allmulti;
    enum pfswitch_link_state link_state;
    bool link_up;         /* effective */
    unsigned max_tx_rate; /* Mbit/s, 0 = unlimited */
};

struct pfswitch_port {
    netport_deliver_fn deliver; /* NULL: no device (copies toward it: LINK drops) */
    void *opaque;
    pfswitch_tap_fn tap;
    void *tap_opaque;
    uint8_t mac[6]; /* forwarding and anti-spoof MAC; all-zero = none yet */
    uint8_t assigned_mac[6]; /* the last MAC the VMM set (not the guest): a reset returns to it */
    uint16_t vlan;  /* port VLAN, 0 = untagged */
    bool spoofchk, trust, promisc, allmulti;
    bool mc_overflow; /* the guest's multicast list did not fit: accept all multicast */
    enum pfswitch_link_state link_state;
    unsigned n_uc, n_mc;
    unsigned max_tx_rate; /* Mbit/s */
    struct pfswitch_bucket bucket;
    uint8_t uc[PFSWITCH_FILTER_MAX][6], mc[PFSWITCH_FILTER_MAX][6];
    struct pfswitch_port_stats stats;
};

struct pfswitch {
    pthread_mutex_t lock;
    unsigned nports; /* guest ports in use */
    unsigned mtu;
    bool uplink_up;
    struct pfswitch_port port[PFSWITCH_MAX_PORTS];
    struct pfswitch_port uplink; /* only ops/opaque/tap/stats are used */
    struct pfswitch_totals totals;
    uint8_t in_buf[PFSWITCH_MAX_FRAME];  /* an uplink frame with its tag removed */
    uint8_t out_buf[PFSWITCH_MAX_FRAME]; /* a frame toward the uplink with its tag added */
};

/* nvfs guest ports (1..PFSWITCH_MAX_VFS), each with no MAC, VLAN 0, spoofchk on, trust off,
 * link auto, no device; uplink up with no device; MTU 1500. 0 or -EINVAL. */
int pfswitch_init(struct pfswitch *sw, unsigned nvfs);
/* No thread may be inside a pfswitch_* call. */
void pfswitch_destroy(struct pfswitch *sw);
/* Append a guest port (the emulated NIC) with the defaults above; its number in *port.
 * 0 or -ENOSPC. */
int pfswitch_add_port(struct pfswitch *sw, unsigned *port);

/* Connect a device to a guest port or to PFSWITCH_UPLINK (ops NULL disconnects). 0/-EINVAL. */
int pfswitch_attach(struct pfswitch *sw, unsigned port, const struct pfswitch_port_ops *ops,
                    void *opaque);
/* The NIC's view of guest port `port` (minivmm/hw/netport.h): attach, transmit
 * (pfswitch_tx_from_vf), info (MAC, effective link) and the guest's requests (from_guest
 * true: MAC changes, promisc and a unicast filter need trust). 0 or -EINVAL (no such port). */
int pfswitch_netport(struct pfswitch *sw, unsigned port, struct netport *np);
int pfswitch_set_tap(struct pfswitch *sw, unsigned port, pfswitch_tap_fn tap, void *opaque);

/* Frames: 0 when the switch took the frame (whatever became of it: see the counters), -EINVAL
 * for a bad port or a NULL frame with len > 0 (a caller bug, not counted). The frame must be
 * in host memory the guest cannot write: it is read more than once (checks, then copies).
 * pfswitch_tx_from_vf() may sleep for the port's max_tx_rate (see pfswitch_set_max_tx_rate). */
int pfswitch_tx_from_vf(struct pfswitch *sw, unsigned port, const void *frame, size_t len);
int pfswitch_rx_from_uplink(struct pfswitch *sw, const void *frame, size_t len);

/* The port's MAC: unicast, not all-zero (-EINVAL), not used by another port of the same VLAN
 * (-EADDRINUSE). from_guest (virtio-net MAC_ADDR_SET): only a trusted port may change it
 * (-EPERM, counted in `refused`; setting the current MAC is always allowed). */
int pfswitch_set_mac(struct pfswitch *sw, unsigned port, const uint8_t mac[6], bool from_guest);
/* The port's device was reset by its driver (virtio status 0): forget what the guest asked for.
 * The MAC returns to the one the VMM assigned (unless another port of the VLAN took it
 * meanwhile: -EADDRINUSE, the MAC stays), promiscuous, all-multicast, the multicast overflow and
 * both filter lists are off. Link state, VLAN, trust, spoofchk, rate and counters are the
 * VMM's and stay. 0 or -EINVAL. */
int pfswitch_reset_guest_state(struct pfswitch *sw, unsigned port);
/* 0..4094 (-EINVAL); -EADDRINUSE when the port's MAC is taken in that VLAN. */
int pfswitch_set_vlan(struct pfswitch *sw, unsigned port, unsigned vlan);
int pfswitch_set_spoofchk(struct pfswitch *sw, unsigned port, bool on);
/* Revoking trust also turns promiscuous mode off and empties the unicast filter list. */
int pfswitch_set_trust(struct pfswitch *sw, unsigned port, bool on);
int pfswitch_set_link_state(struct pfswitch *sw, unsigned port, enum pfswitch_link_state st);
/* `max_tx_rate` in Mbit/s (0 = unlimited, at most PFSWITCH_RATE_MAX: -EINVAL). Frames over the
 * rate are not dropped: pfswitch_tx_from_vf() sleeps (without the switch lock) until the
 * bucket holds them, so the VF's TX processing pauses as a real NIC's does. Counted in
 * rate_waits/rate_wait_ns of the port. */
int pfswitch_set_max_tx_rate(struct pfswitch *sw, unsigned port, unsigned mbit);
/* The uplink's carrier, which ports in link state auto follow. */
int pfswitch_set_uplink_link(struct pfswitch *sw, bool up);
/* PFSWITCH_MTU_MIN..PFSWITCH_MTU_MAX, for every port. 0 or -EINVAL. */
int pfswitch_set_mtu(struct pfswitch *sw, unsigned mtu);

/* virtio-net CTRL_RX PROMISC: promiscuous ports also get unknown unicast of their VLAN. From the
 * guest, turning it on needs trust (-EPERM, counted). */
int pfswitch_set_promisc(struct pfswitch *sw, unsigned port, bool on, bool from_guest);
/* virtio-net CTRL_RX ALLMULTI: every multicast frame of the VLAN. */
int pfswitch_set_allmulti(struct pfswitch *sw, unsigned port, bool on);
/* virtio-net MAC_TABLE_SET, replacing both lists: extra unicast addresses the port receives (a
 * guest needs trust for a non-empty list: -EPERM, counted) and the multicast addresses it
 * accepts when neither promisc nor allmulti. A unicast list longer than PFSWITCH_FILTER_MAX is
 * -E2BIG; a longer multicast list means "all multicast" (QEMU's multi_overflow). -EINVAL for a
 * multicast entry in uc or a unicast one in mc. On error nothing changes. */
int pfswitch_set_mac_filter(struct pfswitch *sw, unsigned port, const uint8_t (*uc)[6],
                            unsigned n_uc, const uint8_t (*mc)[6], unsigned n_mc, bool from_guest);

int pfswitch_port_info(struct pfswitch *sw, unsigned port, struct pfswitch_port_info *info);
int pfswitch_stats(struct pfswitch *sw, unsigned port, struct pfswitch_port_stats *st);
void pfswitch_get_totals(struct pfswitch *sw, struct pfswitch_totals *t);
/* "spoof", "vlan", "no-buffer", ...; "?" out of range. */
const char *pfswitch_drop_name(enum pfswitch_drop reason);

#endif
