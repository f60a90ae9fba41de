/*
 * bzimage.h: loads a Linux bzImage by the x86 boot protocol (Linux's
 * Documentation/arch/x86/boot.rst), builds its zero page and the long-mode state at its
 * 64-bit entry.
 */
#ifndef MINIVMM_BZIMAGE_H
#define MINIVMM_BZIMAGE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/gmem.h"

#define BZIMAGE_MIN_VERSION 0x020c /* 2.12: xloadflags */

/* Selectors of the GDT written at MEMMAP_GDT for the 64-bit entry: boot.rst "64-bit Boot
 * Protocol" wants __BOOT_CS = 0x10 and __BOOT_DS = 0x18. */
#define BZIMAGE_GDT_CODE64 0x10
#define BZIMAGE_GDT_DATA 0x18
#define BZIMAGE_GDT_TSS 0x20

/* The bytes of the setup header (zero page 0x1f1 up to 0x290), as read from the file. */
#define BZIMAGE_HDR_OFFSET 0x1f1
#define BZIMAGE_HDR_MAX (0x290 - BZIMAGE_HDR_OFFSET)

struct bzimage {
    uint16_t version;         /* boot protocol, 0x020c = 2.12 */
    gpa_t load_addr;          /* where the protected-mode kernel was copied */
    uint64_t entry64;         /* load_addr + 0x200 */
    uint64_t pm_size;         /* bytes of protected-mode kernel copied */
    uint32_t init_size;       /* bytes the kernel needs from load_addr */
    uint32_t initrd_addr_max; /* highest address an initrd byte may have */
    uint32_t cmdline_size;    /* longest command line, NUL excluded */
    unsigned hdr_len;         /* bytes of hdr copied from the file */
    uint8_t hdr[BZIMAGE_HDR_MAX];
};

/* Does buf look like a bzImage ("HdrS" at 0x202)? Only then is bzimage_load's verdict the one
 * to report. */
bool bzimage_probe(const uint8_t *buf, size_t len);
/* Validates the image in buf (boot protocol >= 2.12, LOADED_HIGH, XLF_KERNEL_64, sizes within
 * the file) and copies its protected-mode kernel to its pref_address (1 MiB when that is
 * below 1 MiB or misaligned), after checking that init_size bytes from there lie in RAM below
 * the MMIO hole and above the boot structures. 0, or -ENOEXEC/-EFAULT with a one-line reason
 * in err. Guest RAM is only written once the image has been validated. */
int bzimage_load(const uint8_t *buf, size_t len, const struct gmem *gm, struct bzimage *img,
                 char *err, size_t errlen);
/* Writes the zero page (setup header from the file, type_of_loader 0xff, e820 table,
 * cmd_line_ptr = MEMMAP_CMDLINE, ramdisk_image/size when initrd_size != 0, acpi_rsdp_addr when
 * rsdp != 0), the command line, the GDT and the identity page tables (4 GiB in 2 MiB pages at
 * MEMMAP_PAGE_TABLES). 0, -E2BIG (command line longer than the kernel accepts) or -EFAULT. */
int bzimage_write_boot_params(const struct gmem *gm, const struct bzimage *img, const char *cmdline,
                              gpa_t initrd, uint64_t initrd_size, gpa_t rsdp);
/* Registers at the 64-bit entry (boot.rst "64-bit Boot Protocol"): long mode with paging on
 * the identity tables, CS = 0x10 (64-bit), DS/ES/SS/FS/GS = 0x18, TR a 64-bit TSS, IF = 0,
 * RSI = the zero page, RIP = entry. The caller fetched sregs from KVM first. */
void bzimage_entry_state(uint64_t entry, struct kvm_regs *regs, struct kvm_sregs *sregs);

#endif
