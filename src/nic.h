/*
 * nic.h: bring-up and teardown of the SR-IOV-style NICs of `minivmm run --nic SPEC`.
 *
 * Each --nic makes one NIC: a PF switch (devices/pfswitch.h) with an uplink (sink, or a sink
 * capturing to pcap:FILE), per-VF pcap taps, and one virtio-net device (devices/virtio_net.h)
 * behind a virtio-mmio transport per VF. VFs take the virtio-mmio windows in order across
 * NICs: window w at MEMMAP_VIRTIO_BASE + w * MEMMAP_VIRTIO_STRIDE, IOAPIC pin
 * MEMMAP_VIRTIO_IRQ_BASE + w, bus name "vf<w>"; at most MEMMAP_VIRTIO_MAX VFs in all.
 *
 * notify=ioeventfd (default): each VF's QueueNotify register is a KVM ioeventfd (4 bytes, no
 * datamatch: a kick processes the TX and control queues) and one I/O thread per NIC ("nic<i>-io")
 * polls them. They are registered only when a NIC exists (reference/host-facts.md: each
 * registration costs ~5.5 ms at the next memory-slot update). notify=exit: the vCPU that wrote
 * QueueNotify does the queue work in its MMIO exit. Interrupts: each VF's level line through
 * irqchip_line(); no irqfd.
 */
#ifndef MINIVMM_NIC_H
#define MINIVMM_NIC_H

#include <stddef.h>
#include <stdio.h>

#include "bus.h"
#include "fdt_build.h"
#include "gmem.h"
#include "irqchip.h"

struct nics;

/* Parses and creates the NICs of `specs` (nspecs >= 1), registers their VFs on `bus`, and in
 * ioeventfd mode their ioeventfds on vm_fd and I/O threads. 0 or -errno with one line in err;
 * on failure *out is NULL and the VM must not run (the bus may keep registrations of freed
 * devices). */
int nic_create_all(struct nics **out, const char *const *specs, unsigned nspecs, struct bus *bus,
                   struct irqchip *ic, const struct gmem *gm, int vm_fd, char *err, size_t errlen);
/* Appends " virtio_mmio.device=4K@0x<addr>:<pin>" per VF to the NUL-terminated bootargs.
 * 0 or -E2BIG (bootargs unchanged). */
int nic_append_cmdline(const struct nics *n, char *bootargs, size_t size);
/* Describes the NICs for fdt_build(). */
void nic_fdt(const struct nics *n, struct fdt_machine *m);
/* After the vCPUs stopped: stops the I/O threads, prints one line of per-VF counters to
 * `report` (NULL: none), closes captures and frees. NULL is ignored. 0, or -EIO when a capture
 * failed to write. */
int nic_destroy_all(struct nics *n, FILE *report);

#endif
