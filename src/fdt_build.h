/*
 * fdt_build.h: the flattened device tree describing the machine to the guest (libfdt).
 */
#ifndef MINIVMM_FDT_BUILD_H
#define MINIVMM_FDT_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"

/* One NIC: its VFs use virtio-mmio windows first..first+nvfs-1 (memmap.h). */
struct fdt_nic {
    unsigned first, nvfs;
};

struct fdt_machine {
    unsigned ncpus;
    const struct gmem *gm;
    const char *bootargs;
    unsigned uart_port, uart_irq;
    unsigned exit_port, phase_port;
    unsigned nnics; /* NICs (0: none) */
    struct fdt_nic nics[MEMMAP_VIRTIO_MAX];
    bool ne2000; /* /isa/ethernet@i<port> (abi.h) */
    unsigned ne2000_port, ne2000_irq;
    unsigned char ne2000_mac[6];
};

/* Builds the tree into buf (at most bufsize bytes): 0 or -ENOSPC/-EINVAL.
 * Layout: / (#address-cells 2, #size-cells 2, compatible "minivmm,pvh"); /chosen (bootargs,
 * stdout-path); /memory@0 (one reg pair per RAM region); /cpus (#address-cells 1,
 * #size-cells 0) with cpu@N (device_type "cpu", reg = APIC ID N); /ioapic@fec00000;
 * /isa (ISA binding: #address-cells 2, #size-cells 1, first cell 1 = I/O space) holding
 * serial@i3f8 (ns16550a), exit-port@i501, phase-port@i80 and with an NE2000 ethernet@i300
 * (MINIVMM_FDT_COMPAT_NE2000, interrupts <irq 3>, local-mac-address); per NIC
 * /pf@<first VF address> ("minivmm,sriov-pf", "simple-bus"; ranges) with virtio_mmio@<addr>
 * children (abi.h). */
int fdt_build(void *buf, size_t bufsize, const struct fdt_machine *m);

#endif
