/*
 * pvh.h: the PVH boot structures in guest RAM and the vCPU state at the PVH entry.
 */
#ifndef MINIVMM_PVH_H
#define MINIVMM_PVH_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/gmem.h"

/* Selectors of the flat GDT the VMM writes at MEMMAP_GDT. */
#define PVH_GDT_CODE32 0x08
#define PVH_GDT_DATA32 0x10
#define PVH_GDT_TSS 0x18

/* Writes the GDT, hvm_start_info (version 1), memory map, command line and the modules: with
 * initrd_size != 0, the initrd already in guest RAM at [initrd, +initrd_size) as module 0 (no
 * command line; Linux takes module 0 as its initrd); when fdt is not NULL, the FDT as the next
 * module (module 1 with an initrd, else 0), command line MINIVMM_FDT_MODULE_CMDLINE.
 * 0 or -E2BIG/-EFAULT. */
int pvh_write_boot_info(const struct gmem *gm, const char *cmdline, const void *fdt,
                        size_t fdt_size, gpa_t initrd, uint64_t initrd_size);
/* Points hvm_start_info.rsdp_paddr (written by pvh_write_boot_info) at the ACPI RSDP.
 * 0 or -EFAULT. */
int pvh_set_rsdp(const struct gmem *gm, uint64_t rsdp_paddr);
/* Registers and segments at the PVH entry (pvh.pandoc): flat 32-bit CS/DS/ES/SS/FS/GS, TR a
 * 32-bit TSS, CR0 = PE|ET, CR4 = 0, EFLAGS = 2, EBX = start info, EIP = entry. The caller
 * fetched sregs from KVM first so that the fields we do not set keep KVM's values. */
void pvh_entry_state(uint32_t entry, struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
