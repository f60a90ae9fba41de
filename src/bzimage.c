/*
 * bzimage.c: Linux x86 boot protocol (Linux's Documentation/arch/x86/boot.rst, "The Real-Mode
 * Kernel Header", "Loading The Rest of The Kernel", "64-bit Boot Protocol"; the zero page
 * layout is Documentation/arch/x86/zero-page.rst).
 *
 * A bzImage is a real-mode setup part of (setup_sects + 1) * 512 bytes, whose sector 1 holds
 * the setup header at 0x1f1, followed by the protected-mode kernel (a self-decompressor). We
 * never run the real-mode part: the protected-mode kernel is copied to its load address and
 * entered at its 64-bit entry (load address + 0x200, boot protocol 2.12's XLF_KERNEL_64) in
 * long mode with the zero page (struct boot_params) in RSI.
 *
 * The file is untrusted: every header field is checked against the file and guest RAM before
 * anything is copied, and each failure is one line naming the field. The kernel needs
 * init_size bytes from its load address to decompress; a relocatable kernel moves itself to
 * pref_address when loaded lower, so loading it there keeps that range where we checked it.
 */
#include <errno.h>
#include <string.h>

#include "bzimage.h"
#include "e820.h"
#include "minivmm/errmsg.h"
#include "minivmm/memmap.h"
#include "minivmm/util.h"

/* Setup header fields: offsets in the file and in the zero page alike (boot.rst). */
#define HDR_SETUP_SECTS 0x1f1      /* u8: 0 means 4 */
#define HDR_SYSSIZE 0x1f4          /* u32: protected-mode size in 16-byte units */
#define HDR_VID_MODE 0x1fa         /* u16 */
#define HDR_BOOT_FLAG 0x1fe        /* u16: 0xaa55 */
#define HDR_JUMP 0x200             /* the header ends at 0x202 + the byte at 0x201 */
#define HDR_HEADER 0x202           /* u32: "HdrS" */
#define HDR_VERSION 0x206          /* u16 */
#define HDR_TYPE_OF_LOADER 0x210   /* u8 */
#define HDR_LOADFLAGS 0x211        /* u8 */
#define HDR_RAMDISK_IMAGE 0x218    /* u32 */
#define HDR_RAMDISK_SIZE 0x21c     /* u32 */
#define HDR_CMD_LINE_PTR 0x228     /* u32 */
#define HDR_INITRD_ADDR_MAX 0x22c  /* u32 */
#define HDR_KERNEL_ALIGNMENT 0x230 /* u32 */
#define HDR_XLOADFLAGS 0x236       /* u16 */
#define HDR_CMDLINE_SIZE 0x238     /* u32 */
#define HDR_PREF_ADDRESS 0x258     /* u64 */
#define HDR_INIT_SIZE 0x260        /* u32 */
#define HDR_END_2_12 0x264         /* every field we read ends below this */

#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define BOOT_FLAG_MAGIC 0xaa55
#define LOADED_HIGH 0x01
#define XLF_KERNEL_64 0x0001
#define TYPE_OF_LOADER_UNDEFINED 0xff
#define VID_MODE_NORMAL 0xffff
#define ENTRY64_OFFSET 0x200

/* Zero page fields outside the setup header (zero-page.rst). */
#define ZP_ACPI_RSDP_ADDR 0x070    /* u64 */
#define ZP_EXT_RAMDISK_IMAGE 0x0c0 /* u32: high 32 bits */
#define ZP_EXT_RAMDISK_SIZE 0x0c4  /* u32 */
#define ZP_EXT_CMD_LINE_PTR 0x0c8  /* u32 */
#define ZP_E820_ENTRIES 0x1e8      /* u8 */
#define ZP_E820_TABLE 0x2d0        /* struct boot_e820_entry[128], 20 bytes each, packed */
#define ZP_E820_MAX 128
_Static_assert(E820_MAX_RANGES <= ZP_E820_MAX, "e820 ranges beyond the zero page's table");
#define ZP_SIZE 4096

/* Identity page tables at MEMMAP_PAGE_TABLES: PML4, PDPT, then one PD per GiB. */
#define PT_PML4 MEMMAP_PAGE_TABLES
#define PT_PDPT (MEMMAP_PAGE_TABLES + 0x1000)
#define PT_PD(i) (MEMMAP_PAGE_TABLES + 0x2000 + (i)*0x1000)
#define PT_GIB 4
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80

static const uint64_t gdt[] = {
    0,                     /* null */
    0,                     /* 0x08: unused */
    0x00af9b000000ffffull, /* 0x10: __BOOT_CS, 64-bit code (L=1), execute/read */
    0x00cf93000000ffffull, /* 0x18: __BOOT_DS, data, read/write, 4 GiB */
    0x00008b0000000067ull, /* 0x20: 64-bit TSS (busy), base 0, limit 0x67 ... */
    0,                     /*       ... and its upper half (base 63:32) */
};

bool bzimage_probe(const uint8_t *buf, size_t len)
{
    return len >= HDR_HEADER + 4 && get_le32(buf + HDR_HEADER) == HDRS_MAGIC;
}

int bzimage_load(const uint8_t *buf, size_t len, const struct gmem *gm, struct bzimage *img,
                 char *err, size_t errlen)
{
    memset(img, 0, sizeof(*img));
    if (!bzimage_probe(buf, len))
        return errmsg_fail(err, errlen, -ENOEXEC, "not a bzImage (no \"HdrS\" at 0x202)");
    if (len < HDR_END_2_12)
        return errmsg_fail(err, errlen, -ENOEXEC, "bzImage truncated in its setup header");
    if (get_le16(buf + HDR_BOOT_FLAG) != BOOT_FLAG_MAGIC)
        return errmsg_fail(err, errlen, -ENOEXEC, "bzImage: boot_flag is 0x%04x, not 0xaa55",
                           get_le16(buf + HDR_BOOT_FLAG));
    img->version = get_le16(buf + HDR_VERSION);
    if (img->version < BZIMAGE_MIN_VERSION)
        return errmsg_fail(err, errlen, -ENOEXEC,
                           "bzImage: boot protocol %u.%02u is too old (need 2.12 or later)",
                           img->version >> 8, img->version & 0xff);
    if (!(buf[HDR_LOADFLAGS] & LOADED_HIGH))
        return errmsg_fail(err, errlen, -ENOEXEC,
                           "bzImage: not loaded high (a zImage: LOADED_HIGH clear)");
    if (!(get_le16(buf + HDR_XLOADFLAGS) & XLF_KERNEL_64))
        return errmsg_fail(err, errlen, -ENOEXEC,
                           "bzImage: no 64-bit entry (XLF_KERNEL_64 clear in xloadflags)");

    unsigned sects = buf[HDR_SETUP_SECTS] ? buf[HDR_SETUP_SECTS] : 4;
    uint64_t setup = (uint64_t)(sects + 1) * 512;
    if (setup >= len)
        return errmsg_fail(err, errlen, -ENOEXEC,
                           "bzImage: setup_sects %u puts the kernel at 0x%llx, past the end of "
                           "the file (%zu bytes)",
                           sects, (unsigned long long)setup, len);
    img->pm_size = len - setup;
    uint64_t syssize = (uint64_t)get_le32(buf + HDR_SYSSIZE) * 16;
    if (syssize > img->pm_size)
        return errmsg_fail(
            err, errlen, -ENOEXEC,
            "bzImage truncated: syssize says %llu bytes of kernel, the file has %llu",
            (unsigned long long)syssize, (unsigned long long)img->pm_size);
    if (img->pm_size <= ENTRY64_OFFSET)
        return errmsg_fail(err, errlen, -ENOEXEC, "bzImage truncated: no 64-bit entry at +0x200");

    img->init_size = get_le32(buf + HDR_INIT_SIZE);
    img->initrd_addr_max = get_le32(buf + HDR_INITRD_ADDR_MAX);
    img->cmdline_size = get_le32(buf + HDR_CMDLINE_SIZE);
    uint64_t pref = get_le64(buf + HDR_PREF_ADDRESS);
    uint32_t align = get_le32(buf + HDR_KERNEL_ALIGNMENT);
    if (pref < MEMMAP_HIMEM_START || (pref & 0xfff) ||
        (align && !(align & (align - 1)) && (pref & (align - 1))))
        pref = MEMMAP_HIMEM_START; /* boot.rst: the default load address */
    _Static_assert(MEMMAP_HIMEM_START >= MEMMAP_BOOT_END, "kernel over the boot structures");
    img->load_addr = pref;
    img->entry64 = pref + ENTRY64_OFFSET;

    if (pref >= MEMMAP_HOLE_START)
        return errmsg_fail(err, errlen, -EFAULT,
                           "bzImage: pref_address 0x%llx lies above the RAM below 3 GiB",
                           (unsigned long long)pref);
    uint64_t need = img->init_size > img->pm_size ? img->init_size : img->pm_size;
    uint64_t end = img->load_addr + need;
    if (end > MEMMAP_HOLE_START || !gmem_ptr(gm, img->load_addr, need))
        return errmsg_fail(err, errlen, -EFAULT,
                           "bzImage needs %llu MiB of RAM from 0x%llx (init_size 0x%x), more "
                           "than guest RAM (%llu MiB) has there; raise -m",
                           (unsigned long long)((end - img->load_addr + (1 << 20) - 1) >> 20),
                           (unsigned long long)img->load_addr, img->init_size,
                           (unsigned long long)(gm->size >> 20));

    /* The setup header: from 0x1f1 to its end (0x202 + the jump's offset byte), never past
     * the zero page's hdr field or the file. */
    uint64_t hdr_end = HDR_JUMP + 2 + (uint64_t)buf[HDR_JUMP + 1];
    if (hdr_end > BZIMAGE_HDR_OFFSET + BZIMAGE_HDR_MAX)
        hdr_end = BZIMAGE_HDR_OFFSET + BZIMAGE_HDR_MAX;
    if (hdr_end < HDR_END_2_12)
        hdr_end = HDR_END_2_12; /* 2.12 has these fields, whatever the jump says */
    img->hdr_len = (unsigned)(hdr_end - BZIMAGE_HDR_OFFSET);
    memcpy(img->hdr, buf + BZIMAGE_HDR_OFFSET, img->hdr_len);

    /* Everything checked: copy, and zero the rest of init_size (the kernel's bss). */
    uint8_t *dst = gmem_ptr(gm, img->load_addr, need);
    memcpy(dst, buf + setup, img->pm_size);
    memset(dst + img->pm_size, 0, need - img->pm_size);
    return 0;
}

/* A 32-bit header field in the zero page. */
static void zp_put32(uint8_t *zp, unsigned off, uint32_t v)
{
    put_le32(zp + off, v);
}

static int write_page_tables(const struct gmem *gm)
{
    uint64_t pml4[512] = {0}, pdpt[512] = {0}, pd[512];

    pml4[0] = PT_PDPT | PTE_P | PTE_RW;
    if (gmem_write(gm, PT_PML4, pml4, sizeof(pml4)))
        return -EFAULT;
    for (unsigned g = 0; g < PT_GIB; g++) {
        pdpt[g] = PT_PD(g) | PTE_P | PTE_RW;
        for (unsigned i = 0; i < 512; i++)
            pd[i] = ((uint64_t)g << 30) + ((uint64_t)i << 21) + (PTE_P | PTE_RW | PTE_PS);
        if (gmem_write(gm, PT_PD(g), pd, sizeof(pd)))
            return -EFAULT;
    }
    return gmem_write(gm, PT_PDPT, pdpt, sizeof(pdpt)) ? -EFAULT : 0;
}

int bzimage_write_boot_params(const struct gmem *gm, const struct bzimage *img, const char *cmdline,
                              gpa_t initrd, uint64_t initrd_size, gpa_t rsdp)
{
    uint8_t zp[ZP_SIZE] = {0};
    struct e820_range r[E820_MAX_RANGES];
    size_t len = strlen(cmdline);

    if (len + 1 > MEMMAP_CMDLINE_MAX || len > img->cmdline_size)
        return -E2BIG;
    if (initrd_size && !gmem_ptr(gm, initrd, initrd_size))
        return -EFAULT;

    memcpy(zp + BZIMAGE_HDR_OFFSET, img->hdr, img->hdr_len);
    zp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEFINED;
    put_le16(zp + HDR_VID_MODE, VID_MODE_NORMAL);
    zp_put32(zp, HDR_CMD_LINE_PTR, MEMMAP_CMDLINE);
    zp_put32(zp, ZP_EXT_CMD_LINE_PTR, 0);
    if (!initrd_size)
        initrd = 0;
    zp_put32(zp, HDR_RAMDISK_IMAGE, (uint32_t)initrd);
    zp_put32(zp, ZP_EXT_RAMDISK_IMAGE, (uint32_t)(initrd >> 32));
    zp_put32(zp, HDR_RAMDISK_SIZE, (uint32_t)initrd_size);
    zp_put32(zp, ZP_EXT_RAMDISK_SIZE, (uint32_t)(initrd_size >> 32));
    put_le64(zp + ZP_ACPI_RSDP_ADDR, rsdp);

    unsigned n = e820_build(gm, r);
    for (unsigned i = 0; i < n; i++) {
        uint8_t *e = zp + ZP_E820_TABLE + i * 20;
        put_le64(e, r[i].addr);
        put_le64(e + 8, r[i].size);
        put_le32(e + 16, r[i].type);
    }
    zp[ZP_E820_ENTRIES] = (uint8_t)n;

    if (gmem_write(gm, MEMMAP_ZERO_PAGE, zp, sizeof(zp)) ||
        gmem_write(gm, MEMMAP_CMDLINE, cmdline, len + 1) ||
        gmem_write(gm, MEMMAP_GDT, gdt, sizeof(gdt)))
        return -EFAULT;
    return write_page_tables(gm);
}

void bzimage_entry_state(uint64_t entry, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    memset(regs, 0, sizeof(*regs));
    regs->rip = entry;
    regs->rsi = MEMMAP_ZERO_PAGE;
    regs->rflags = 2; /* IF = 0 */

    sregs->cs = (struct kvm_segment){.base = 0,
                                     .limit = 0xffffffff,
                                     .selector = BZIMAGE_GDT_CODE64,
                                     .type = 0xb,
                                     .present = 1,
                                     .dpl = 0,
                                     .db = 0,
                                     .s = 1,
                                     .l = 1,
                                     .g = 1};
    sregs->ds = (struct kvm_segment){.base = 0,
                                     .limit = 0xffffffff,
                                     .selector = BZIMAGE_GDT_DATA,
                                     .type = 0x3,
                                     .present = 1,
                                     .dpl = 0,
                                     .db = 1,
                                     .s = 1,
                                     .l = 0,
                                     .g = 1};
    sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
    sregs->tr = (struct kvm_segment){
        .base = 0, .limit = 0x67, .selector = BZIMAGE_GDT_TSS, .type = 0xb, .present = 1, .s = 0};
    sregs->gdt.base = MEMMAP_GDT;
    sregs->gdt.limit = sizeof(gdt) - 1;
    sregs->cr3 = PT_PML4;
    sregs->cr4 = 0x20;       /* PAE */
    sregs->cr0 = 0x80000011; /* PG | ET | PE */
    sregs->efer = 0x500;     /* LMA | LME */
}
