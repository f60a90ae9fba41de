/*
 * memmap.h: the guest-physical memory map, shared by the VMM, the FDT builder and the guest.
 *
 * One table for every fixed address (xv6's memlayout.h). Self-contained C99: <stdint.h> only,
 * and usable from assembly when MEMMAP_ASSEMBLY is defined (no casts, no types).
 *
 *   0x0000_0000 +--------------------------------+
 *               | real-mode IVT / BDA (unused)   |
 *   0x0000_0500 | GDT written by the VMM (flat)  |  4 entries: null, code32, data32, tss
 *   0x0000_6000 | hvm_start_info (PVH)           |  56 bytes
 *   0x0000_6040 | hvm_modlist_entry[]            |  [initrd,] FDT: the initrd is module 0
 *   0x0000_7000 | hvm_memmap_table_entry[]       |  up to 64 entries
 *   0x0000_8000 | AP trampoline (guest-owned)    |  SIPI vector 0x08, 4 KiB
 *   0x0000_9000 | module command lines           |
 *   0x0001_0000 | kernel command line            |  up to 4 KiB, NUL-terminated
 *   0x0002_0000 | flattened device tree          |  up to 64 KiB
 *   0x0003_0000 | zero page (bzImage boot_params)|  4 KiB, Linux boot protocol only
 *   0x0003_1000 | identity page tables           |  PML4, PDPT, 4 PDs: 4 GiB in 2 MiB pages
 *   0x0004_0000 +--------------------------------+  end of boot structures
 *               | free low RAM                   |
 *   0x0009_fc00 | reserved (EBDA, VGA, BIOS)     |  e820 type 2
 *   0x000e_0000 | ACPI tables, RSDP first        |  up to 64 KiB, inside the reserved range
 *   0x000f_fff0 | reset vector (F000:FFF0)       |  a stub that asks the VMM for a reset
 *   0x0010_0000 | kernel image (PVH ELF, bzImage)|  segments must lie at or above 0x40000
 *               | RAM ...                        |
 *               | initrd (--initrd)              |  page-aligned, as high as allowed below 3 GiB
 *   0xc000_0000 +--------------------------------+  32-bit MMIO hole (RAM resumes at 4 GiB)
 *   0xfe00_0000 | bench device (abi.h)           |  4 KiB, only with --bench-device
 *   0xfeb0_0000 | virtio-mmio windows (NIC VFs)  |  4 KiB each, up to 8 (IOAPIC pins 16-23)
 *   0xfec0_0000 | IOAPIC (24 pins)               |  4 KiB
 *   0xfee0_0000 | local APIC (in KVM)            |  4 KiB
 *   0x1_0000_0000 RAM above the hole when -m > 3 GiB
 */
#ifndef MINIVMM_MEMMAP_H
#define MINIVMM_MEMMAP_H

#define MEMMAP_GDT             0x500
#define MEMMAP_START_INFO      0x6000
#define MEMMAP_MODLIST         0x6040
#define MEMMAP_MODLIST_MAX     8
#define MEMMAP_E820            0x7000
#define MEMMAP_E820_MAX        64
#define MEMMAP_AP_TRAMPOLINE   0x8000      /* SIPI vector = MEMMAP_AP_TRAMPOLINE >> 12 */
#define MEMMAP_MODCMDLINE      0x9000
#define MEMMAP_CMDLINE         0x10000
#define MEMMAP_CMDLINE_MAX     4096        /* including the NUL */
#define MEMMAP_FDT             0x20000
#define MEMMAP_FDT_MAX         0x10000
#define MEMMAP_ZERO_PAGE       0x30000     /* struct boot_params of the Linux boot protocol */
#define MEMMAP_PAGE_TABLES     0x31000     /* PML4, PDPT, PD[4]: 6 pages */
#define MEMMAP_BOOT_END        0x40000     /* kernel segments may not start below this */

#define MEMMAP_EBDA_START      0x9fc00     /* e820 reserved up to 1 MiB */
#define MEMMAP_ACPI            0xe0000     /* RSDP (16-byte aligned, where a scan finds it) */
#define MEMMAP_ACPI_MAX        0x10000
#define MEMMAP_RESET_VECTOR    0xffff0     /* where a real-mode restart jumps (F000:FFF0) */
#define MEMMAP_HIMEM_START     0x100000

#define MEMMAP_HOLE_START      0xc0000000  /* RAM above 3 GiB moves above 4 GiB */
#define MEMMAP_HOLE_END        0x100000000

#define MEMMAP_BENCH_BASE      0xfe000000  /* MINIVMM_BENCH_* registers, abi.h */
#define MEMMAP_BENCH_SIZE      0x1000
#define MEMMAP_VIRTIO_BASE     0xfeb00000  /* window n at BASE + n * STRIDE */
#define MEMMAP_VIRTIO_STRIDE   0x1000
#define MEMMAP_VIRTIO_MAX      8
#define MEMMAP_VIRTIO_IRQ_BASE 16          /* window n interrupts on IOAPIC pin 16 + n */
#define MEMMAP_IOAPIC_BASE     0xfec00000
#define MEMMAP_IOAPIC_SIZE     0x1000
#define MEMMAP_LAPIC_BASE      0xfee00000
#define MEMMAP_LAPIC_SIZE      0x1000

#endif
