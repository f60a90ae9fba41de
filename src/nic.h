/*
 * nic.h: bring-up and teardown of the SR-IOV-style NICs of `minivmm run --nic SPEC`.
 *
 * Each --nic makes one NIC: a PF switch (devices/pfswitch.h) with an uplink (sink, pcap:FILE,
 * dgram:L:R on 127.0.0.1, tap:NAME, tap-fd:N: devices/uplink.h; docs/nic.md), per-VF pcap
 * taps, and one virtio-net device (devices/virtio_net.h) behind a virtio-mmio transport per VF. VFs
 * take the virtio-mmio windows in order across NICs: window w at MEMMAP_VIRTIO_BASE + w *
 * MEMMAP_VIRTIO_STRIDE, IOAPIC pin MEMMAP_VIRTIO_IRQ_BASE + w, bus name "vf<w>"; at most
 * MEMMAP_VIRTIO_MAX VFs in all.
 *
 * notify=ioeventfd (default): each VF's QueueNotify register is a KVM ioeventfd (4 bytes, no
 * datamatch: a kick processes the TX and control queues) and one I/O thread per NIC ("nic<i>-io")
 * polls them. They are registered only when a NIC exists (docs/host-notes.md: each
 * registration costs ~5.5 ms at the next memory-slot update). notify=exit: the vCPU that wrote
 * QueueNotify does the queue work in its MMIO exit. Interrupts: each VF's level line through
 * irqchip_line() into our IOAPIC model, which delivers through an irqfd bound to the pin's MSI
 * route (irqchip_enable_irqfd; split irqchip) — an eventfd write from the I/O thread.
 */
#ifndef MINIVMM_NIC_H
#define MINIVMM_NIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "irqchip.h"
#include "machine.h"
#include "minivmm/hw/gmem.h"

struct nics;

#define NIC_DROP_NR 8 /* = PFSWITCH_DROP_NR (checked in nic.c) */

/* Parses and creates the NICs of `specs` (nspecs >= 1), adds their devices to the machine
 * description (each VF a MACHINE_VIRTIO_MMIO row, grouped by NIC; an NE2000 a MACHINE_ISA
 * row), which registers them on its bus, and in ioeventfd mode their ioeventfds on vm_fd and
 * I/O threads. 0 or -errno with one line in err; on failure *out is NULL and the VM must not
 * run (the machine and bus may keep rows of freed devices). */
int nic_create_all(struct nics **out, const char *const *specs, unsigned nspecs,
                   struct machine *mach, struct irqchip *ic, const struct gmem *gm, int vm_fd,
                   char *err, size_t errlen);
/* The machine-description rows of one VF (virtio-mmio window *window, bus name `name`, PF
 * group `nic`, its transport as the bus opaque) and of an NE2000 (ISA port and IRQ, its MAC
 * for the node): what nic_create_all() adds. A VF row is also a DSDT device (_HID LNRO0005,
 * \_SB.VR0<window>), how Linux's virtio_mmio finds it on x86. `window` and `mac` must outlive the machine. */
void nic_vf_row(struct machine_dev *d, const char *name, const unsigned *window, unsigned nic,
                void *transport);
void nic_ne2000_row(struct machine_dev *d, unsigned port, unsigned irq, void *dev,
                    const uint8_t *mac);

/* ---- Run-time control of the VFs (`minivmm ctl`, `ip link set DEV vf N ...`) ----
 *
 * VFs are numbered as in the end-of-run line: across all NICs in --nic order, VF w of the VM is
 * virtio-mmio window w (nic_vf_info() says which NIC and which vfK of it). Every function below
 * may be called from any thread while the VM runs (the switch and the devices take their own
 * locks; a per-NIC control mutex serialises setters), but not concurrently with
 * nic_destroy_all(). A NULL `n` counts as no VFs. */

/* `vfK.state`: IFLA_VF_LINK_STATE_* order. */
enum nic_vf_state { NIC_VF_STATE_AUTO, NIC_VF_STATE_ENABLE, NIC_VF_STATE_DISABLE };

struct nic_vf_info {
    unsigned nic;   /* which --nic (0-based) */
    unsigned index; /* K of vfK within that NIC */
    uint8_t mac[6];
    unsigned vlan; /* 0 = none */
    bool spoofchk, trust;
    enum nic_vf_state state;
    const char *state_name; /* "auto", "enable", "disable" (static) */
    bool link_up;           /* effective: what the guest's VIRTIO_NET_S_LINK_UP says */
    unsigned max_tx_rate;   /* Mbit/s, 0 = unlimited */
    /* Seen from the guest (as `ip -s link` shows a VF): tx = frames it sent (dropped ones
     * included), rx = frames delivered to it. */
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
    /* Drops by reason, indexed by enum pfswitch_drop; names from nic_drop_name(). */
    uint64_t tx_drops[NIC_DROP_NR]; /* frames the VF sent, dropped by the switch */
    uint64_t rx_drops[NIC_DROP_NR]; /* frames toward the VF, dropped */
    uint64_t rate_waits;            /* times the VF's TX paused for max_tx_rate (no drops) */
    uint64_t rate_wait_us;          /* total length of those pauses */
};

/* Number of VFs of all NICs. */
int nic_vf_count(const struct nics *n);
/* ioeventfd kicks drained so far by the NICs' I/O threads, all VFs (0 for NULL): sampled at
 * the guest's xfer markers so that `bench io` counts kicks of the transfer only. */
uint64_t nic_kicks_total(const struct nics *n);
/* VF `vf` (0 .. nic_vf_count() - 1): 0 or -EINVAL (no such VF). */
int nic_vf_info(const struct nics *n, unsigned vf, struct nic_vf_info *out);
/* Sets one control of VF `vf` at run time. key: mac, vlan, spoofchk, trust, state, max_tx_rate,
 * with the value syntax of the --nic keys vfK.<key> (mac xx:xx:xx:xx:xx:xx, vlan 0-4094,
 * spoofchk/trust on|off, state auto|enable|disable, max_tx_rate Mbit/s with 0 = unlimited).
 * 0, or -EINVAL (bad VF, key or value), -EADDRINUSE (MAC taken in that VLAN) with one line
 * (no newline) in err. A state change that changes the effective link raises a
 * config-change interrupt in the guest; a new MAC is written to the VF's config space. */
int nic_vf_set(struct nics *n, unsigned vf, const char *key, const char *value, char *err,
               size_t errlen);
/* The carrier of NIC `nic`'s uplink (our uplinks start up): VFs in state auto follow it, and
 * their guests get a config-change interrupt when their link changes. 0 or -EINVAL. */
int nic_uplink_set_link(struct nics *n, unsigned nic, bool up);
/* "spoof", "vlan", "no-buffer", "runt", "oversize", "link-down", "filter", "error"; NULL for
 * r >= NIC_DROP_NR. */
const char *nic_drop_name(unsigned r);

/* After the vCPUs stopped: stops the I/O threads, prints one line of per-VF counters to
 * `report` (NULL: none), closes captures and frees. NULL is ignored. 0, or -EIO when a capture
 * failed to write. */
int nic_destroy_all(struct nics *n, FILE *report);

#endif
