/*
 * netport.h: a NIC model's port on the network, the interface every NIC (devices/virtio_net.c,
 * devices/ne2000.c) consumes and the PF switch (devices/pfswitch.c) provides: kvmtool's
 * `net_dev_operations`, and our guest's `struct netdev_ops` (guest/net/net.h) seen from the
 * device side.
 *
 * A NIC is handed a struct netport at init (by value: const ops, the provider and a port number)
 * and never sees what sits behind it. Both directions:
 *  - NIC -> network: transmit() a frame; set_mac(), set_promisc(), set_allmulti() and
 *    set_mac_filter() pass on what the guest's driver asked for (virtio-net CTRL_MAC / CTRL_RX,
 *    spec §5.1.6.5), so the provider may refuse them (-EPERM for an untrusted VF); info() reads
 *    the port's MAC and effective link, e.g. for config space at init.
 *  - network -> NIC: attach() connects the NIC's deliver callback (NULL disconnects); the
 *    provider hands every frame for the port to it.
 *
 * Hazards (the PF switch's locking, pfswitch.h): deliver runs with the provider's lock held, so
 * it must not call any netport op, and a NIC must not hold a lock its own deliver takes while it
 * calls transmit() or a setter (two NICs sending to each other would deadlock). transmit() may
 * sleep (a VF's max_tx_rate) and reads the frame more than once, so the frame must be a copy in
 * host memory the guest cannot write.
 */
#ifndef MINIVMM_HW_NETPORT_H
#define MINIVMM_HW_NETPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct netport;

/* The NIC's receive path: copy the frame into the NIC before returning. 0, -ENOBUFS (no room:
 * the provider counts a no-buffer drop) or another -errno (an error drop). */
typedef int (*netport_deliver_fn)(void *nic, const void *frame, size_t len);

struct netport_info {
    uint8_t mac[6]; /* all-zero: none assigned */
    bool link_up;   /* effective carrier of the port */
};

/* Every op returns 0 or -errno; -EINVAL for a bad port or argument. */
struct netport_ops {
    /* Connect `deliver` (opaque `nic`) to the port; deliver NULL disconnects. */
    int (*attach)(const struct netport *np, netport_deliver_fn deliver, void *nic);
    /* One Ethernet frame (header to payload, no FCS). 0 whatever became of it (the provider
     * counts its drops). */
    int (*transmit)(const struct netport *np, const void *frame, size_t len);
    int (*info)(const struct netport *np, struct netport_info *info);
    /* The guest's requests: its own MAC, promiscuous mode, all multicast, and the unicast and
     * multicast addresses it wants besides its own (replacing both lists; a multicast list
     * too long for the provider means all multicast). -EPERM when the port may not. */
    int (*set_mac)(const struct netport *np, const uint8_t mac[6]);
    int (*set_promisc)(const struct netport *np, bool on);
    int (*set_allmulti)(const struct netport *np, bool on);
    int (*set_mac_filter)(const struct netport *np, const uint8_t (*uc)[6], unsigned n_uc,
                          const uint8_t (*mc)[6], unsigned n_mc);
    /* The guest's driver reset the NIC: the provider forgets what the guest asked for above
     * (the MAC returns to the one the VMM assigned; promiscuous, all-multicast and the lists
     * off), as QEMU's virtio-net reset does; info() then gives the MAC. May be NULL. */
    int (*reset)(const struct netport *np);
};

struct netport {
    const struct netport_ops *ops;
    void *provider; /* the provider's state (a struct pfswitch) */
    unsigned port;  /* which of its ports */
};

#endif
