/*
 * fdt_build.h: the flattened device tree describing the machine to the guest (libfdt),
 * generated from the machine's device table (machine.h).
 */
#ifndef MINIVMM_FDT_BUILD_H
#define MINIVMM_FDT_BUILD_H

#include <stddef.h>

#include "machine.h"

/* Builds the tree into buf (at most bufsize bytes): 0 or -ENOSPC/-EINVAL.
 * Layout: / (#address-cells 2, #size-cells 2, compatible "minivmm,pvh"); /chosen (bootargs,
 * stdout-path to the row marked stdout_path); /memory@0 (one reg pair per RAM region); /cpus
 * (#address-cells 1, #size-cells 0) with cpu@N (device_type "cpu", reg = APIC ID N); the
 * MACHINE_IOAPIC row as /ioapic@<base>; /isa (ISA binding: #address-cells 2, #size-cells 1,
 * first cell 1 = I/O space) holding the MACHINE_ISA rows in order (serial@i3f8, exit-port@i501,
 * phase-port@i80, an NE2000's ethernet@i300); per group of MACHINE_VIRTIO_MMIO rows (one per
 * NIC) /pf@<first VF address> ("minivmm,sriov-pf", "simple-bus"; ranges) with virtio_mmio@<addr>
 * children (abi.h). */
int fdt_build(void *buf, size_t bufsize, const struct machine *m, const char *bootargs);

#endif
