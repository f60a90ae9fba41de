/*
 * pfswitch.c: the PF's embedded switch (software VEB): forwarding by (VLAN, destination MAC)
 * between guest ports and the uplink, port VLAN tagging, anti-spoofing, RX filters, counters.
 *
 * Forwarding (the Intel 82576 datasheet §7.10.3 VEB model, as QEMU's hw/net/igb_core.c
 * reproduces it):
 *   - broadcast/multicast: every guest port of the VLAN except the source, plus the uplink
 *     unless the frame came from it; each guest copy passes the port's RX filter (broadcast
 *     always; multicast if promisc, allmulti, overflowed or listed) or is a FILTER drop.
 *   - unicast to a MAC some guest port of the VLAN owns (its MAC or a unicast filter entry):
 *     those ports only, never the uplink. To itself: a FILTER drop (no hairpin).
 *   - unknown unicast: the promiscuous guest ports of the VLAN, plus the uplink unless the frame
 *     came from it.
 * A frame with no destination at all (only possible from the uplink) is a VLAN drop when no
 * guest port is in its VLAN or its destination MAC lives in another VLAN, else a FILTER drop.
 * VLANs: a guest port's frames belong to its port VLAN and must be untagged (an 802.1Q or 802.1ad
 * tagged frame from a guest is a VLAN drop: a VF cannot reach another VLAN, nor send QinQ). Toward
 * the uplink a port VLAN != 0 inserts TPID 0x8100 + TCI(VID, PCP 0). From the uplink, a 0x8100 tag
 * selects the VLAN (VID 0 = priority tag = VLAN 0; 4095 is a VLAN drop) and is stripped; untagged
 * frames are VLAN 0. Anything else (0x88a8 ...) is an untagged frame of VLAN 0. Sizes (no FCS):
 * runt below 14 bytes (18 for a tagged uplink frame); oversize above MTU + 14 untagged, MTU + 18
 * tagged. Ingress checks, in order: runt, link, VLAN (tagged from a guest), oversize, spoof. A
 * guest port's link is up when its state is enable, or auto with the uplink up; frames toward a
 * port whose link is down, or with no device attached, are LINK drops at egress.
 *
 * Invariants: a frame never goes back to its source port; a guest port only ever sees frames of
 * its own VLAN, without the port VLAN's tag (an inner tag from the network stays: QinQ); every
 * offered frame is accounted for exactly as pfswitch.h describes (count_ingress_drop(),
 * count_egress_drop() and egress() are the only places that count outcomes); no port's MAC
 * appears twice in one VLAN. The tag insertion/removal buffers live in struct pfswitch and are
 * used under the lock only. Locking: pfswitch.h (one mutex, callbacks called with it held).
 * The one place that drops the lock mid-call is the max_tx_rate wait in pfswitch_tx_from_vf():
 * it sleeps unlocked and re-takes the bucket decision after waking (the rate may have changed);
 * ports are never removed, so the port pointer stays valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pfswitch.h"
#include "minivmm/util.h"

#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8 /* S-tag (QinQ) */

static const char *const drop_names[PFSWITCH_DROP_NR] = {
    [PFSWITCH_DROP_SPOOF] = "spoof",       [PFSWITCH_DROP_VLAN] = "vlan",
    [PFSWITCH_DROP_NOBUF] = "no-buffer",   [PFSWITCH_DROP_RUNT] = "runt",
    [PFSWITCH_DROP_OVERSIZE] = "oversize", [PFSWITCH_DROP_LINK] = "link-down",
    [PFSWITCH_DROP_FILTER] = "filter",     [PFSWITCH_DROP_ERROR] = "error",
};

const char *pfswitch_drop_name(enum pfswitch_drop reason)
{
    return (unsigned)reason < PFSWITCH_DROP_NR ? drop_names[reason] : "?";
}

/* An error-checking mutex: locking it twice from one thread (a deliver() calling back in) is a
 * bug we want to see at once rather than as a hang. */
static void sw_lock(struct pfswitch *sw)
{
    int r = pthread_mutex_lock(&sw->lock);
    if (r) {
        fprintf(stderr, "pfswitch: lock failed (%s): a callback re-entered the switch?\n",
                strerror(r));
        abort();
    }
}

static void sw_unlock(struct pfswitch *sw)
{
    pthread_mutex_unlock(&sw->lock);
}

static bool is_multicast(const uint8_t *mac)
{
    return mac[0] & 1;
}

static bool is_zero(const uint8_t *mac)
{
    static const uint8_t zero[6];
    return memcmp(mac, zero, 6) == 0;
}

static bool is_broadcast(const uint8_t *mac)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return memcmp(mac, bcast, 6) == 0;
}

static unsigned ethertype(const uint8_t *frame)
{
    return (unsigned)frame[12] << 8 | frame[13];
}

/* A C-tag or an S-tag: what a guest port may not send (§4.3: with spoofchk on, Intel VFs cannot
 * send 802.1Q/802.1ad tagged frames; we refuse them always, or port VLANs would leak). */
static bool is_tagged(const uint8_t *frame)
{
    return ethertype(frame) == ETH_P_8021Q || ethertype(frame) == ETH_P_8021AD;
}

static void port_defaults(struct pfswitch_port *p)
{
    memset(p, 0, sizeof(*p));
    p->spoofchk = true;
    p->link_state = PFSWITCH_LINK_AUTO;
}

int pfswitch_init(struct pfswitch *sw, unsigned nvfs)
{
    pthread_mutexattr_t a;
    int r;

    if (nvfs < 1 || nvfs > PFSWITCH_MAX_VFS)
        return -EINVAL;
    memset(sw, 0, sizeof(*sw));
    r = pthread_mutexattr_init(&a);
    if (r)
        return -r;
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    r = pthread_mutex_init(&sw->lock, &a);
    pthread_mutexattr_destroy(&a);
    if (r)
        return -r;
    for (unsigned i = 0; i < PFSWITCH_MAX_PORTS; i++)
        port_defaults(&sw->port[i]);
    port_defaults(&sw->uplink);
    sw->nports = nvfs;
    sw->mtu = PFSWITCH_MTU_DEFAULT;
    sw->uplink_up = true;
    return 0;
}

void pfswitch_destroy(struct pfswitch *sw)
{
    pthread_mutex_destroy(&sw->lock);
}

int pfswitch_add_port(struct pfswitch *sw, unsigned *port)
{
    int r = -ENOSPC;

    sw_lock(sw);
    if (sw->nports < PFSWITCH_MAX_PORTS) {
        *port = sw->nports++;
        r = 0;
    }
    sw_unlock(sw);
    return r;
}

/* Any port, the uplink included; NULL if out of range. Caller holds the lock. */
static struct pfswitch_port *any_port(struct pfswitch *sw, unsigned port)
{
    if (port == PFSWITCH_UPLINK)
        return &sw->uplink;
    return port < sw->nports ? &sw->port[port] : NULL;
}

static struct pfswitch_port *guest_port(struct pfswitch *sw, unsigned port)
{
    return port < sw->nports ? &sw->port[port] : NULL;
}

static bool port_link_up(const struct pfswitch *sw, const struct pfswitch_port *p)
{
    if (p == &sw->uplink)
        return sw->uplink_up;
    return p->link_state == PFSWITCH_LINK_ENABLE ||
           (p->link_state == PFSWITCH_LINK_AUTO && sw->uplink_up);
}

static int attach_deliver(struct pfswitch *sw, unsigned port, netport_deliver_fn deliver,
                          void *opaque)
{
    struct pfswitch_port *p;
    int r = -EINVAL;

    sw_lock(sw);
    if ((p = any_port(sw, port))) {
        p->deliver = deliver;
        p->opaque = deliver ? opaque : NULL;
        r = 0;
    }
    sw_unlock(sw);
    return r;
}

int pfswitch_attach(struct pfswitch *sw, unsigned port, const struct pfswitch_port_ops *ops,
                    void *opaque)
{
    if (ops && !ops->deliver)
        return -EINVAL;
    return attach_deliver(sw, port, ops ? ops->deliver : NULL, opaque);
}

int pfswitch_set_tap(struct pfswitch *sw, unsigned port, pfswitch_tap_fn tap, void *opaque)
{
    struct pfswitch_port *p;
    int r = -EINVAL;

    sw_lock(sw);
    if ((p = any_port(sw, port))) {
        p->tap = tap;
        p->tap_opaque = tap ? opaque : NULL;
        r = 0;
    }
    sw_unlock(sw);
    return r;
}

/* ---- the data path (lock held) ---- */

static void count_ingress_drop(struct pfswitch *sw, struct pfswitch_port *src,
                               enum pfswitch_drop why)
{
    src->stats.tx_drops[why]++;
    sw->totals.dropped++;
}

static void count_egress_drop(struct pfswitch *sw, struct pfswitch_port *dst,
                              enum pfswitch_drop why)
{
    dst->stats.rx_drops[why]++;
    sw->totals.dropped++;
}

static bool mac_in(const uint8_t (*list)[6], unsigned n, const uint8_t *mac)
{
    for (unsigned i = 0; i < n; i++)
        if (memcmp(list[i], mac, 6) == 0)
            return true;
    return false;
}

/* The RX filter of a guest port for a multicast/broadcast destination. */
static bool accepts_multicast(const struct pfswitch_port *p, const uint8_t *dst)
{
    return is_broadcast(dst) || p->promisc || p->allmulti || p->mc_overflow ||
           mac_in((const uint8_t(*)[6])p->mc, p->n_mc, dst);
}

static bool owns_unicast(const struct pfswitch_port *p, const uint8_t *dst)
{
    return (!is_zero(p->mac) && memcmp(p->mac, dst, 6) == 0) ||
           mac_in((const uint8_t(*)[6])p->uc, p->n_uc, dst);
}

/* One copy toward `dst` (a guest port: `frame` untagged; the uplink: tagged here if vlan != 0).
 * Counts exactly one outcome. */
static void egress(struct pfswitch *sw, struct pfswitch_port *dst, uint16_t vlan,
                   const uint8_t *frame, size_t len)
{
    const uint8_t *out = frame;
    size_t outlen = len;
    int r;

    if (!dst->deliver || !port_link_up(sw, dst)) {
        count_egress_drop(sw, dst, PFSWITCH_DROP_LINK);
        return;
    }
    if (dst == &sw->uplink && vlan) {
        /* len <= mtu + 14 was checked at ingress, so this fits PFSWITCH_MAX_FRAME. */
        memcpy(sw->out_buf, frame, 12);
        sw->out_buf[12] = ETH_P_8021Q >> 8;
        sw->out_buf[13] = ETH_P_8021Q & 0xff;
        sw->out_buf[14] = vlan >> 8; /* PCP 0, DEI 0 */
        sw->out_buf[15] = vlan & 0xff;
        memcpy(sw->out_buf + 16, frame + 12, len - 12);
        out = sw->out_buf;
        outlen = len + PFSWITCH_VLAN_HLEN;
    }
    r = dst->deliver(dst->opaque, out, outlen);
    if (r == -ENOBUFS) {
        count_egress_drop(sw, dst, PFSWITCH_DROP_NOBUF);
        return;
    }
    if (r) {
        count_egress_drop(sw, dst, PFSWITCH_DROP_ERROR);
        return;
    }
    dst->stats.rx_packets++;
    dst->stats.rx_bytes += outlen;
    if (is_broadcast(out))
        dst->stats.rx_broadcast++;
    else if (is_multicast(out))
        dst->stats.rx_multicast++;
    sw->totals.delivered++;
    if (dst->tap)
        dst->tap(dst->tap_opaque, out, outlen);
}

/* Switch one untagged frame of `vlan` that passed the ingress checks of `src`. */
static void forward(struct pfswitch *sw, struct pfswitch_port *src, uint16_t vlan,
                    const uint8_t *frame, size_t len)
{
    const uint8_t *dmac = frame;
    struct pfswitch_port *dests[PFSWITCH_MAX_PORTS + 1];
    bool accept[PFSWITCH_MAX_PORTS + 1];
    unsigned n = 0;
    bool to_self = false, other_vlan = false, vlan_used = false;

    for (unsigned i = 0; i < sw->nports; i++)
        vlan_used |= sw->port[i].vlan == vlan;

    if (is_multicast(dmac)) {
        for (unsigned i = 0; i < sw->nports; i++) {
            struct pfswitch_port *p = &sw->port[i];
            if (p == src || p->vlan != vlan)
                continue;
            accept[n] = accepts_multicast(p, dmac);
            dests[n++] = p;
        }
    } else {
        for (unsigned i = 0; i < sw->nports; i++) {
            struct pfswitch_port *p = &sw->port[i];
            if (!owns_unicast(p, dmac))
                continue;
            if (p->vlan != vlan) {
                other_vlan = true;
                continue;
            }
            if (p == src) {
                to_self = true;
                continue;
            }
            accept[n] = true;
            dests[n++] = p;
        }
        if (n == 0 && to_self) {
            count_ingress_drop(sw, src, PFSWITCH_DROP_FILTER);
            return;
        }
        if (n == 0) { /* unknown unicast */
            for (unsigned i = 0; i < sw->nports; i++) {
                struct pfswitch_port *p = &sw->port[i];
                if (p != src && p->vlan == vlan && p->promisc) {
                    accept[n] = true;
                    dests[n++] = p;
                }
            }
            if (src != &sw->uplink) {
                accept[n] = true;
                dests[n++] = &sw->uplink;
            }
        }
    }
    if (is_multicast(dmac) && src != &sw->uplink) {
        accept[n] = true;
        dests[n++] = &sw->uplink;
    }
    if (n == 0) {
        count_ingress_drop(sw, src,
                           !vlan_used || other_vlan ? PFSWITCH_DROP_VLAN : PFSWITCH_DROP_FILTER);
        return;
    }
    sw->totals.replicas += n - 1;
    for (unsigned i = 0; i < n; i++) {
        if (accept[i])
            egress(sw, dests[i], vlan, frame, len);
        else
            count_egress_drop(sw, dests[i], PFSWITCH_DROP_FILTER);
    }
}

static void count_offered(struct pfswitch *sw, struct pfswitch_port *src, const void *frame,
                          size_t len)
{
    src->stats.tx_packets++;
    src->stats.tx_bytes += len;
    sw->totals.offered++;
    if (src->tap)
        src->tap(src->tap_opaque, frame, len);
}

void pfswitch_bucket_set(struct pfswitch_bucket *b, unsigned mbit, unsigned max_frame, uint64_t now)
{
    uint64_t depth;

    b->rate = (uint64_t)mbit * 125000u;
    depth = b->rate * PFSWITCH_RATE_BURST_MS / 1000;
    if (depth < 2 * (uint64_t)max_frame)
        depth = 2 * (uint64_t)max_frame;
    b->depth = depth * 1000000000u; /* <= 1.25e17 at PFSWITCH_RATE_MAX: no overflow */
    b->tokens = b->depth;
    b->last_ns = now;
}

uint64_t pfswitch_bucket_take(struct pfswitch_bucket *b, uint64_t now, size_t len)
{
    uint64_t need = (uint64_t)len * 1000000000u;

    if (!b->rate)
        return 0;
    if (now > b->last_ns) {
        uint64_t dt = now - b->last_ns, room = b->depth - b->tokens;
        /* dt * rate could overflow for long idle times: compare against the time to fill. */
        b->tokens = dt > room / b->rate ? b->depth : b->tokens + dt * b->rate;
        b->last_ns = now;
    }
    if (need > b->depth)
        need = b->depth; /* a frame larger than the bucket: wait for a full bucket */
    if (b->tokens >= need) {
        b->tokens -= need;
        return 0;
    }
    return (need - b->tokens + b->rate - 1) / b->rate;
}

/* max_tx_rate: wait (lock dropped) until the port's bucket holds the frame. */
static void rate_wait(struct pfswitch *sw, struct pfswitch_port *src, size_t len)
{
    bool counted = false;
    uint64_t wait;

    while ((wait = pfswitch_bucket_take(&src->bucket, now_ns(), len)) != 0) {
        struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
        if (!counted)
            src->stats.rate_waits++;
        counted = true;
        src->stats.rate_wait_ns += wait;
        sw_unlock(sw);
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        sw_lock(sw);
    }
}

int pfswitch_tx_from_vf(struct pfswitch *sw, unsigned port, const void *frame, size_t len)
{
    const uint8_t *f = frame;
    struct pfswitch_port *src;

    if (!frame && len)
        return -EINVAL;
    sw_lock(sw);
    if (!(src = guest_port(sw, port))) {
        sw_unlock(sw);
        return -EINVAL;
    }
    if (src->bucket.rate)
        rate_wait(sw, src, len);
    src->stats.tx_last_ns = now_ns();
    if (!src->stats.tx_first_ns)
        src->stats.tx_first_ns = src->stats.tx_last_ns;
    count_offered(sw, src, frame, len);
    if (len < PFSWITCH_ETH_HLEN)
        count_ingress_drop(sw, src, PFSWITCH_DROP_RUNT);
    else if (!port_link_up(sw, src))
        count_ingress_drop(sw, src, PFSWITCH_DROP_LINK);
    else if (is_tagged(f))
        count_ingress_drop(sw, src, PFSWITCH_DROP_VLAN);
    else if (len > sw->mtu + PFSWITCH_ETH_HLEN)
        count_ingress_drop(sw, src, PFSWITCH_DROP_OVERSIZE);
    else if (src->spoofchk && (is_zero(src->mac) || memcmp(f + 6, src->mac, 6) != 0))
        count_ingress_drop(sw, src, PFSWITCH_DROP_SPOOF);
    else
        forward(sw, src, src->vlan, f, len);
    sw_unlock(sw);
    return 0;
}

int pfswitch_rx_from_uplink(struct pfswitch *sw, const void *frame, size_t len)
{
    const uint8_t *f = frame;
    struct pfswitch_port *src = &sw->uplink;

    if (!frame && len)
        return -EINVAL;
    sw_lock(sw);
    count_offered(sw, src, frame, len);
    if (len < PFSWITCH_ETH_HLEN) {
        count_ingress_drop(sw, src, PFSWITCH_DROP_RUNT);
    } else if (!sw->uplink_up) {
        count_ingress_drop(sw, src, PFSWITCH_DROP_LINK);
    } else if (ethertype(f) == ETH_P_8021Q) {
        uint16_t vid;
        if (len < PFSWITCH_ETH_HLEN + PFSWITCH_VLAN_HLEN) {
            count_ingress_drop(sw, src, PFSWITCH_DROP_RUNT);
        } else if (len > sw->mtu + PFSWITCH_ETH_HLEN + PFSWITCH_VLAN_HLEN) {
            count_ingress_drop(sw, src, PFSWITCH_DROP_OVERSIZE);
        } else if ((vid = ((unsigned)f[14] << 8 | f[15]) & 0xfff) > PFSWITCH_VLAN_MAX) {
            count_ingress_drop(sw, src, PFSWITCH_DROP_VLAN);
        } else {
            memcpy(sw->in_buf, f, 12);
            memcpy(sw->in_buf + 12, f + 16, len - 16);
            forward(sw, src, vid, sw->in_buf, len - PFSWITCH_VLAN_HLEN);
        }
    } else if (len > sw->mtu + PFSWITCH_ETH_HLEN) {
        count_ingress_drop(sw, src, PFSWITCH_DROP_OVERSIZE);
    } else {
        forward(sw, src, 0, f, len);
    }
    sw_unlock(sw);
    return 0;
}

/* ---- configuration ---- */

/* Is `mac` used by a guest port other than `self` in `vlan`? Lock held. */
static bool mac_taken(const struct pfswitch *sw, const struct pfswitch_port *self,
                      const uint8_t *mac, unsigned vlan)
{
    for (unsigned i = 0; i < sw->nports; i++) {
        const struct pfswitch_port *p = &sw->port[i];
        if (p != self && p->vlan == vlan && memcmp(p->mac, mac, 6) == 0)
            return true;
    }
    return false;
}

int pfswitch_set_mac(struct pfswitch *sw, unsigned port, const uint8_t mac[6], bool from_guest)
{
    struct pfswitch_port *p;
    int r = 0;

    if (is_multicast(mac) || is_zero(mac))
        return -EINVAL;
    sw_lock(sw);
    if (!(p = guest_port(sw, port))) {
        r = -EINVAL;
    } else if (memcmp(p->mac, mac, 6) == 0) {
        r = 0;
        if (!from_guest)
            memcpy(p->assigned_mac, mac, 6);
    } else if (from_guest && !p->trust) {
        p->stats.refused++;
        r = -EPERM;
    } else if (mac_taken(sw, p, mac, p->vlan)) {
        r = -EADDRINUSE;
    } else {
        memcpy(p->mac, mac, 6);
        if (!from_guest)
            memcpy(p->assigned_mac, mac, 6);
    }
    sw_unlock(sw);
    return r;
}

int pfswitch_reset_guest_state(struct pfswitch *sw, unsigned port)
{
    struct pfswitch_port *p;
    int r = 0;

    sw_lock(sw);
    if (!(p = guest_port(sw, port))) {
        r = -EINVAL;
    } else {
        p->promisc = p->allmulti = p->mc_overflow = false;
        p->n_uc = p->n_mc = 0;
        if (!is_zero(p->assigned_mac) && memcmp(p->mac, p->assigned_mac, 6) != 0) {
            if (mac_taken(sw, p, p->assigned_mac, p->vlan))
                r = -EADDRINUSE;
            else
                memcpy(p->mac, p->assigned_mac, 6);
        }
    }
    sw_unlock(sw);
    return r;
}

int pfswitch_set_vlan(struct pfswitch *sw, unsigned port, unsigned vlan)
{
    struct pfswitch_port *p;
    int r = 0;

    if (vlan > PFSWITCH_VLAN_MAX)
        return -EINVAL;
    sw_lock(sw);
    if (!(p = guest_port(sw, port)))
        r = -EINVAL;
    else if (!is_zero(p->mac) && mac_taken(sw, p, p->mac, vlan))
        r = -EADDRINUSE;
    else
        p->vlan = vlan;
    sw_unlock(sw);
    return r;
}

/* Lock, find a guest port, apply fn, unlock: for the simple flag setters. */
#define WITH_GUEST_PORT(sw, port, stmt)                                                            \
    do {                                                                                           \
        struct pfswitch_port *p;                                                                   \
        int r_ = -EINVAL;                                                                          \
        sw_lock(sw);                                                                               \
        if ((p = guest_port(sw, port))) {                                                          \
            stmt;                                                                                  \
            r_ = 0;                                                                                \
        }                                                                                          \
        sw_unlock(sw);                                                                             \
        return r_;                                                                                 \
    } while (0)

int pfswitch_set_spoofchk(struct pfswitch *sw, unsigned port, bool on)
{
    WITH_GUEST_PORT(sw, port, p->spoofchk = on);
}

int pfswitch_set_trust(struct pfswitch *sw, unsigned port, bool on)
{
    WITH_GUEST_PORT(sw, port, {
        p->trust = on;
        if (!on) {
            p->promisc = false;
            p->n_uc = 0;
        }
    });
}

int pfswitch_set_link_state(struct pfswitch *sw, unsigned port, enum pfswitch_link_state st)
{
    if ((unsigned)st > PFSWITCH_LINK_DISABLE)
        return -EINVAL;
    WITH_GUEST_PORT(sw, port, p->link_state = st);
}

int pfswitch_set_max_tx_rate(struct pfswitch *sw, unsigned port, unsigned mbit)
{
    if (mbit > PFSWITCH_RATE_MAX)
        return -EINVAL;
    WITH_GUEST_PORT(sw, port, {
        p->max_tx_rate = mbit;
        pfswitch_bucket_set(&p->bucket, mbit, sw->mtu + PFSWITCH_ETH_HLEN, now_ns());
    });
}

int pfswitch_set_allmulti(struct pfswitch *sw, unsigned port, bool on)
{
    WITH_GUEST_PORT(sw, port, p->allmulti = on);
}

int pfswitch_set_uplink_link(struct pfswitch *sw, bool up)
{
    sw_lock(sw);
    sw->uplink_up = up;
    sw_unlock(sw);
    return 0;
}

int pfswitch_set_mtu(struct pfswitch *sw, unsigned mtu)
{
    if (mtu < PFSWITCH_MTU_MIN || mtu > PFSWITCH_MTU_MAX)
        return -EINVAL;
    sw_lock(sw);
    sw->mtu = mtu;
    sw_unlock(sw);
    return 0;
}

int pfswitch_set_promisc(struct pfswitch *sw, unsigned port, bool on, bool from_guest)
{
    struct pfswitch_port *p;
    int r = 0;

    sw_lock(sw);
    if (!(p = guest_port(sw, port))) {
        r = -EINVAL;
    } else if (on && from_guest && !p->trust) {
        p->stats.refused++;
        r = -EPERM;
    } else {
        p->promisc = on;
    }
    sw_unlock(sw);
    return r;
}

int pfswitch_set_mac_filter(struct pfswitch *sw, unsigned port, const uint8_t (*uc)[6],
                            unsigned n_uc, const uint8_t (*mc)[6], unsigned n_mc, bool from_guest)
{
    struct pfswitch_port *p;
    int r = 0;

    if ((n_uc && !uc) || (n_mc && !mc) || n_uc > PFSWITCH_FILTER_MAX)
        return n_uc > PFSWITCH_FILTER_MAX ? -E2BIG : -EINVAL;
    for (unsigned i = 0; i < n_uc; i++)
        if (is_multicast(uc[i]) || is_zero(uc[i]))
            return -EINVAL;
    for (unsigned i = 0; i < n_mc; i++)
        if (!is_multicast(mc[i]))
            return -EINVAL;
    sw_lock(sw);
    if (!(p = guest_port(sw, port))) {
        r = -EINVAL;
    } else if (n_uc && from_guest && !p->trust) {
        p->stats.refused++;
        r = -EPERM;
    } else {
        if (n_uc)
            memcpy(p->uc, uc, (size_t)n_uc * 6);
        p->n_uc = n_uc;
        p->mc_overflow = n_mc > PFSWITCH_FILTER_MAX;
        p->n_mc = p->mc_overflow ? 0 : n_mc;
        if (p->n_mc)
            memcpy(p->mc, mc, (size_t)p->n_mc * 6);
    }
    sw_unlock(sw);
    return r;
}

int pfswitch_port_info(struct pfswitch *sw, unsigned port, struct pfswitch_port_info *info)
{
    WITH_GUEST_PORT(sw, port, {
        memcpy(info->mac, p->mac, 6);
        info->vlan = p->vlan;
        info->spoofchk = p->spoofchk;
        info->trust = p->trust;
        info->promisc = p->promisc;
        info->allmulti = p->allmulti;
        info->link_state = p->link_state;
        info->link_up = port_link_up(sw, p);
        info->max_tx_rate = p->max_tx_rate;
    });
}

int pfswitch_stats(struct pfswitch *sw, unsigned port, struct pfswitch_port_stats *st)
{
    struct pfswitch_port *p;
    int r = -EINVAL;

    sw_lock(sw);
    if ((p = any_port(sw, port))) {
        *st = p->stats;
        r = 0;
    }
    sw_unlock(sw);
    return r;
}

void pfswitch_get_totals(struct pfswitch *sw, struct pfswitch_totals *t)
{
    sw_lock(sw);
    *t = sw->totals;
    sw_unlock(sw);
}

/* ---- the NIC's side: minivmm/hw/netport.h ---- */

static int np_attach(const struct netport *np, netport_deliver_fn deliver, void *nic)
{
    if (np->port == PFSWITCH_UPLINK)
        return -EINVAL; /* a NIC sits on a guest port */
    return attach_deliver(np->provider, np->port, deliver, nic);
}

static int np_transmit(const struct netport *np, const void *frame, size_t len)
{
    return pfswitch_tx_from_vf(np->provider, np->port, frame, len);
}

static int np_info(const struct netport *np, struct netport_info *info)
{
    struct pfswitch_port_info pi;
    int r = pfswitch_port_info(np->provider, np->port, &pi);
    if (r)
        return r;
    memcpy(info->mac, pi.mac, 6);
    info->link_up = pi.link_up;
    return 0;
}

static int np_set_mac(const struct netport *np, const uint8_t mac[6])
{
    return pfswitch_set_mac(np->provider, np->port, mac, true);
}

static int np_set_promisc(const struct netport *np, bool on)
{
    return pfswitch_set_promisc(np->provider, np->port, on, true);
}

static int np_set_allmulti(const struct netport *np, bool on)
{
    return pfswitch_set_allmulti(np->provider, np->port, on);
}

static int np_set_mac_filter(const struct netport *np, const uint8_t (*uc)[6], unsigned n_uc,
                             const uint8_t (*mc)[6], unsigned n_mc)
{
    return pfswitch_set_mac_filter(np->provider, np->port, uc, n_uc, mc, n_mc, true);
}

static int np_reset(const struct netport *np)
{
    return pfswitch_reset_guest_state(np->provider, np->port);
}

static const struct netport_ops pfswitch_netport_ops = {
    .attach = np_attach,
    .transmit = np_transmit,
    .info = np_info,
    .set_mac = np_set_mac,
    .set_promisc = np_set_promisc,
    .set_allmulti = np_set_allmulti,
    .set_mac_filter = np_set_mac_filter,
    .reset = np_reset,
};

int pfswitch_netport(struct pfswitch *sw, unsigned port, struct netport *np)
{
    sw_lock(sw);
    bool ok = guest_port(sw, port) != NULL;
    sw_unlock(sw);
    if (!ok)
        return -EINVAL;
    *np = (struct netport){.ops = &pfswitch_netport_ops, .provider = sw, .port = port};
    return 0;
}
