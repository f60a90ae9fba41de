/*
 * test_bzimage.c: the bzImage loader, its zero page and long-mode entry, and the loader that
 * picks a kernel format by content and places the initrd.
 *
 * Images are synthetic: a setup header built field by field (Linux's
 * Documentation/arch/x86/boot.rst offsets) in front of a patterned protected-mode kernel. The
 * good one loads at pref_address with its bytes and a zeroed rest of init_size; each bad one
 * (magic, boot_flag, version, LOADED_HIGH, XLF_KERNEL_64, setup_sects past the file, a file
 * shorter than syssize claims, init_size beyond RAM) gives its error and leaves RAM untouched.
 * The zero page, e820 table, command line, initrd fields, GDT, identity page tables and the
 * registers at the 64-bit entry are read back out of guest RAM.
 */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bzimage.h"
#include "ck_loop.h"
#include "e820.h"
#include "loader.h"
#include "minivmm/abi.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"
#include "minivmm/util.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define N(a) ((int)(ARRAY_SIZE(a)))

#define SETUP_SECTS 4
#define SETUP_BYTES ((SETUP_SECTS + 1) * 512)
#define PM_BYTES 0x3000
#define PREF 0x1000000ull
#define INIT_SIZE 0x800000u

static uint8_t image[SETUP_BYTES + PM_BYTES];
static size_t image_len;
static struct gmem gm;
static char err[512];

static void make_image(void)
{
    memset(image, 0, sizeof(image));
    image[0x1f1] = SETUP_SECTS;
    put_le32(image + 0x1f4, PM_BYTES / 16); /* syssize */
    put_le16(image + 0x1fe, 0xaa55);        /* boot_flag */
    image[0x200] = 0xeb;                    /* jmp */
    image[0x201] = 0x6a;                    /* header ends at 0x26c */
    memcpy(image + 0x202, "HdrS", 4);
    put_le16(image + 0x206, 0x020f);     /* version 2.15 */
    image[0x211] = 0x01;                 /* loadflags: LOADED_HIGH */
    put_le32(image + 0x214, 0x100000);   /* code32_start */
    put_le32(image + 0x22c, 0x7fffffff); /* initrd_addr_max */
    put_le32(image + 0x230, 0x200000);   /* kernel_alignment */
    image[0x234] = 1;                    /* relocatable_kernel */
    put_le16(image + 0x236, 0x0003);     /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
    put_le32(image + 0x238, 2047);       /* cmdline_size */
    put_le64(image + 0x258, PREF);       /* pref_address */
    put_le32(image + 0x260, INIT_SIZE);  /* init_size */
    for (unsigned i = 0; i < PM_BYTES; i++)
        image[SETUP_BYTES + i] = (uint8_t)(i * 7 + 1);
    image_len = sizeof(image);
}

static void setup(void)
{
    ck_assert_int_eq(gmem_init(&gm, 128 * MiB), 0);
    make_image();
    err[0] = '\0';
}

static void teardown(void)
{
    gmem_destroy(&gm);
}

static int load(struct bzimage *img)
{
    return bzimage_load(image, image_len, &gm, img, err, sizeof(err));
}

/* Nothing was written to guest RAM (fresh memfd RAM is zero). */
static void check_ram_untouched(void)
{
    for (gpa_t a = 0; a < gm.size; a += 8) {
        uint64_t v;
        memcpy(&v, gm.host + a, 8);
        LOOP_ASSERT_MSG(v == 0, "RAM written at 0x%llx", (unsigned long long)a);
    }
}

START_TEST(test_good_image_loads)
{
    struct bzimage img;
    ck_assert_msg(bzimage_probe(image, image_len), "probe");
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_uint_eq(img.version, 0x020f);
    ck_assert_uint_eq(img.load_addr, PREF);
    ck_assert_uint_eq(img.entry64, PREF + 0x200);
    ck_assert_uint_eq(img.pm_size, PM_BYTES);
    ck_assert_uint_eq(img.init_size, INIT_SIZE);
    ck_assert_uint_eq(img.initrd_addr_max, 0x7fffffff);
    ck_assert_uint_eq(img.cmdline_size, 2047);
    ck_assert_uint_eq(img.hdr_len, 0x26c - 0x1f1);
    ck_assert_mem_eq(img.hdr, image + 0x1f1, img.hdr_len);
    /* The protected-mode kernel at pref_address, the rest of init_size zero, nothing else. */
    ck_assert_mem_eq(gm.host + PREF, image + SETUP_BYTES, PM_BYTES);
    for (gpa_t a = 0; a < gm.size; a++)
        if (a < PREF || a >= PREF + PM_BYTES)
            LOOP_ASSERT_MSG(gm.host[a] == 0, "byte at 0x%llx", (unsigned long long)a);
}
END_TEST

START_TEST(test_rest_of_init_size_is_zeroed)
{
    struct bzimage img;
    memset(gm.host + PREF, 0xcc, INIT_SIZE + 4096);
    ck_assert_msg(load(&img) == 0, "%s", err);
    for (gpa_t a = PREF + PM_BYTES; a < PREF + INIT_SIZE; a++)
        LOOP_ASSERT_MSG(gm.host[a] == 0, "byte at 0x%llx", (unsigned long long)a);
    ck_assert_uint_eq(gm.host[PREF + INIT_SIZE], 0xcc);
}
END_TEST

START_TEST(test_low_pref_address_loads_at_1mib)
{
    struct bzimage img;
    put_le64(image + 0x258, 0x8000);
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_uint_eq(img.load_addr, MEMMAP_HIMEM_START);
    ck_assert_uint_eq(img.entry64, MEMMAP_HIMEM_START + 0x200);
    ck_assert_mem_eq(gm.host + MEMMAP_HIMEM_START, image + SETUP_BYTES, PM_BYTES);
}
END_TEST

START_TEST(test_setup_sects_zero_means_four)
{
    struct bzimage img;
    image[0x1f1] = 0;
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_mem_eq(gm.host + PREF, image + SETUP_BYTES, PM_BYTES);
}
END_TEST

/* ---- bad images: one reason each, RAM untouched ---- */

static void m_bad_magic(void)
{
    memcpy(image + 0x202, "HdrZ", 4);
}
static void m_bad_boot_flag(void)
{
    put_le16(image + 0x1fe, 0x55aa);
}
static void m_old_version(void)
{
    put_le16(image + 0x206, 0x020b);
}
static void m_not_loaded_high(void)
{
    image[0x211] = 0;
}
static void m_no_kernel64(void)
{
    put_le16(image + 0x236, 0x0002);
}
static void m_setup_sects_overflow(void)
{
    image[0x1f1] = 255;
}
static void m_syssize_too_big(void)
{
    put_le32(image + 0x1f4, PM_BYTES / 16 + 1);
}
static void m_truncated_header(void)
{
    image_len = 0x240;
}
static void m_truncated_file(void)
{
    image_len = SETUP_BYTES + PM_BYTES / 2;
}
static void m_no_entry(void)
{
    image_len = SETUP_BYTES + 0x100;
    put_le32(image + 0x1f4, 0);
}
static void m_init_size_too_big(void)
{
    put_le32(image + 0x260, 0x7001000);
}
static void m_init_size_huge(void)
{
    put_le32(image + 0x260, 0xffffffff);
}
static void m_pref_near_top(void)
{
    put_le64(image + 0x258, 0xffffffffffe00000ull);
}
static void m_pref_in_hole(void)
{
    put_le64(image + 0x258, MEMMAP_HOLE_START);
}
static void m_empty(void)
{
    image_len = 0;
}

static const struct bad {
    const char *name;
    void (*mutate)(void);
    int ret;
    const char *msg;
} bads[] = {
    {"bad magic", m_bad_magic, -ENOEXEC, "not a bzImage"},
    {"bad boot_flag", m_bad_boot_flag, -ENOEXEC, "boot_flag"},
    {"protocol 2.11", m_old_version, -ENOEXEC, "2.11 is too old"},
    {"LOADED_HIGH clear", m_not_loaded_high, -ENOEXEC, "LOADED_HIGH"},
    {"no XLF_KERNEL_64", m_no_kernel64, -ENOEXEC, "XLF_KERNEL_64"},
    {"setup_sects past the file", m_setup_sects_overflow, -ENOEXEC, "setup_sects 255"},
    {"syssize beyond the file", m_syssize_too_big, -ENOEXEC, "truncated"},
    {"file ends in the header", m_truncated_header, -ENOEXEC, "truncated"},
    {"file shorter than it claims", m_truncated_file, -ENOEXEC, "truncated"},
    {"no 64-bit entry", m_no_entry, -ENOEXEC, "no 64-bit entry"},
    {"init_size beyond 128 MiB of RAM", m_init_size_too_big, -EFAULT, "raise -m"},
    {"init_size 4 GiB", m_init_size_huge, -EFAULT, "raise -m"},
    {"pref_address near 2^64", m_pref_near_top, -EFAULT, "above the RAM below 3 GiB"},
    {"pref_address in the hole", m_pref_in_hole, -EFAULT, "above the RAM below 3 GiB"},
    {"empty file", m_empty, -ENOEXEC, "not a bzImage"},
};

START_TEST(test_bad_image)
{
    const struct bad *b = &bads[_i];
    struct bzimage img;
    b->mutate();
    ck_assert_msg(load(&img) == b->ret, "%s: got %d (%s), want %d", b->name, load(&img), err,
                  b->ret);
    ck_assert_msg(strstr(err, b->msg) != NULL, "%s: \"%s\" lacks \"%s\"", b->name, err, b->msg);
    ck_assert_msg(strchr(err, '\n') == NULL, "%s: more than one line", b->name);
    check_ram_untouched();
}
END_TEST

/* ---- the zero page ---- */

static uint32_t zp32(unsigned off)
{
    return get_le32(gm.host + MEMMAP_ZERO_PAGE + off);
}

START_TEST(test_zero_page)
{
    struct bzimage img;
    const char *cmdline = "console=ttyS0 panic=-1";
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, cmdline, 0x4000000, 0x12345, 0), 0);
    const uint8_t *zp = gm.host + MEMMAP_ZERO_PAGE;

    /* The setup header copied from the file, then our fields. */
    ck_assert_uint_eq(zp[0x1f1], SETUP_SECTS);
    ck_assert_mem_eq(zp + 0x202, "HdrS", 4);
    ck_assert_uint_eq(get_le16(zp + 0x206), 0x020f);
    ck_assert_uint_eq(get_le64(zp + 0x258), PREF);
    ck_assert_uint_eq(zp32(0x260), INIT_SIZE);
    ck_assert_uint_eq(zp[0x210], 0xff);              /* type_of_loader */
    ck_assert_uint_eq(get_le16(zp + 0x1fa), 0xffff); /* vid_mode */
    ck_assert_uint_eq(zp32(0x228), MEMMAP_CMDLINE);  /* cmd_line_ptr */
    ck_assert_uint_eq(zp32(0x0c8), 0);               /* ext_cmd_line_ptr */
    ck_assert_uint_eq(zp32(0x218), 0x4000000);       /* ramdisk_image */
    ck_assert_uint_eq(zp32(0x21c), 0x12345);         /* ramdisk_size */
    ck_assert_uint_eq(zp32(0x0c0), 0);
    ck_assert_uint_eq(zp32(0x0c4), 0);
    ck_assert_uint_eq(get_le64(zp + 0x070), 0); /* acpi_rsdp_addr: none */
    ck_assert_uint_eq(zp[0x1ef], 0);            /* sentinel */
    /* Past the header, and the setup code before it, nothing from the file. */
    for (unsigned off = 0x26c; off < 0x2d0; off++)
        LOOP_ASSERT_MSG(zp[off] == 0, "zero page byte 0x%x", off);
    ck_assert_str_eq((const char *)gm.host + MEMMAP_CMDLINE, cmdline);

    /* e820: RAM below the EBDA, the legacy area reserved, RAM from 1 MiB. */
    static const struct {
        uint64_t addr, size;
        uint32_t type;
    } want[] = {
        {0, 0x9fc00, 1},
        {0x9fc00, 0x100000 - 0x9fc00, 2},
        {0x100000, 128 * MiB - 0x100000, 1},
    };
    ck_assert_uint_eq(zp[0x1e8], N(want));
    for (int i = 0; i < N(want); i++) {
        const uint8_t *e = zp + 0x2d0 + i * 20;
        ck_assert_uint_eq(get_le64(e), want[i].addr);
        ck_assert_uint_eq(get_le64(e + 8), want[i].size);
        ck_assert_uint_eq(get_le32(e + 16), want[i].type);
    }
    ck_assert_uint_eq(get_le64(zp + 0x2d0 + N(want) * 20), 0);
}
END_TEST

START_TEST(test_zero_page_rsdp_and_no_initrd)
{
    struct bzimage img;
    ck_assert_msg(load(&img) == 0, "%s", err);
    memset(gm.host + MEMMAP_ZERO_PAGE, 0xee, 4096); /* every byte is written */
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, "", 0x4000000, 0, MEMMAP_ACPI), 0);
    ck_assert_uint_eq(get_le64(gm.host + MEMMAP_ZERO_PAGE + 0x070), MEMMAP_ACPI);
    ck_assert_uint_eq(zp32(0x218), 0);
    ck_assert_uint_eq(zp32(0x21c), 0);
    ck_assert_uint_eq(zp32(0x000), 0);
    ck_assert_uint_eq(zp32(0xffc), 0);
    ck_assert_uint_eq(gm.host[MEMMAP_CMDLINE], 0);
}
END_TEST

START_TEST(test_zero_page_above_4g)
{
    /* 5 GiB laid out, not allocated: only the boot structures are written. */
    struct gmem big;
    struct bzimage img;
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_int_eq(gmem_layout(&big, 5 * GiB), 0);
    big.host = calloc(1, MEMMAP_BOOT_END);
    ck_assert_ptr_nonnull(big.host);
    ck_assert_int_eq(bzimage_write_boot_params(&big, &img, "x", 0, 0, 0), 0);
    const uint8_t *zp = big.host + MEMMAP_ZERO_PAGE;
    ck_assert_uint_eq(zp[0x1e8], 4);
    ck_assert_uint_eq(get_le64(zp + 0x2d0 + 2 * 20 + 8), 3 * GiB - 0x100000);
    ck_assert_uint_eq(get_le64(zp + 0x2d0 + 3 * 20), 4 * GiB);
    ck_assert_uint_eq(get_le64(zp + 0x2d0 + 3 * 20 + 8), 2 * GiB);
    ck_assert_uint_eq(get_le32(zp + 0x2d0 + 3 * 20 + 16), 1);
    free(big.host);
}
END_TEST

START_TEST(test_cmdline_size_limit)
{
    struct bzimage img;
    static char line[MEMMAP_CMDLINE_MAX + 1];
    put_le32(image + 0x238, 10);
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, "0123456789", 0, 0, 0), 0);
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, "0123456789a", 0, 0, 0), -E2BIG);
    img.cmdline_size = 0xffffffff; /* the kernel allows more than our slot holds */
    memset(line, 'c', MEMMAP_CMDLINE_MAX);
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, line, 0, 0, 0), -E2BIG);
    /* An initrd outside RAM is refused. */
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, "", 127 * MiB, 2 * MiB, 0), -EFAULT);
}
END_TEST

/* ---- page tables, GDT and the 64-bit entry ---- */

static uint64_t ram64(gpa_t a)
{
    return get_le64(gm.host + a);
}

START_TEST(test_identity_page_tables)
{
    struct bzimage img;
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, "x", 0, 0, 0), 0);
    const gpa_t pml4 = MEMMAP_PAGE_TABLES, pdpt = pml4 + 0x1000;
    ck_assert_uint_eq(ram64(pml4), pdpt | 3);
    for (unsigned i = 1; i < 512; i++)
        LOOP_ASSERT_MSG(ram64(pml4 + 8 * i) == 0, "PML4[%u]", i);
    for (unsigned g = 0; g < 512; g++) {
        uint64_t want = g < 4 ? (pdpt + 0x1000 * (g + 1)) | 3 : 0;
        LOOP_ASSERT_MSG(ram64(pdpt + 8 * g) == want, "PDPT[%u] = 0x%llx", g,
                        (unsigned long long)ram64(pdpt + 8 * g));
    }
    /* Every 2 MiB page of 4 GiB maps to itself, present, writable, PS. */
    for (unsigned g = 0; g < 4; g++)
        for (unsigned i = 0; i < 512; i++) {
            uint64_t e = ram64(pdpt + 0x1000 * (g + 1) + 8 * i);
            uint64_t va = ((uint64_t)g << 30) | ((uint64_t)i << 21);
            LOOP_ASSERT_MSG(e == (va | 0x83), "PD[%u][%u] = 0x%llx", g, i, (unsigned long long)e);
        }
    ck_assert_uint_le(pdpt + 5 * 0x1000, MEMMAP_BOOT_END);
    ck_assert_uint_ge(MEMMAP_PAGE_TABLES, MEMMAP_ZERO_PAGE + 4096);
}
END_TEST

START_TEST(test_entry_state)
{
    struct bzimage img;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    ck_assert_msg(load(&img) == 0, "%s", err);
    ck_assert_int_eq(bzimage_write_boot_params(&gm, &img, "x", 0, 0, 0), 0);
    memset(&regs, 0xcc, sizeof(regs));
    memset(&sregs, 0xcc, sizeof(sregs));
    sregs.apic_base = 0xfee00900;
    bzimage_entry_state(img.entry64, &regs, &sregs);

    ck_assert_uint_eq(regs.rip, PREF + 0x200);
    ck_assert_uint_eq(regs.rsi, MEMMAP_ZERO_PAGE);
    ck_assert_uint_eq(regs.rflags, 2); /* IF clear */
    ck_assert_uint_eq(regs.rbx | regs.rbp | regs.rdi, 0);
    ck_assert_uint_eq(sregs.cr0, 0x80000011);
    ck_assert_uint_eq(sregs.cr3, MEMMAP_PAGE_TABLES);
    ck_assert_uint_eq(sregs.cr4 & 0x20, 0x20);
    ck_assert_uint_eq(sregs.efer, 0x500);
    ck_assert_uint_eq(sregs.apic_base, 0xfee00900); /* kept */
    ck_assert_uint_eq(sregs.cs.selector, 0x10);
    ck_assert_uint_eq(sregs.cs.l, 1);
    ck_assert_uint_eq(sregs.cs.db, 0);
    ck_assert_uint_eq(sregs.cs.type, 0xb);
    ck_assert_uint_eq(sregs.ds.selector, 0x18);
    ck_assert_uint_eq(sregs.ss.selector, 0x18);
    ck_assert_uint_eq(sregs.ss.type, 0x3);
    ck_assert_uint_eq(sregs.tr.selector, 0x20);
    ck_assert_uint_eq(sregs.tr.type, 0xb);
    ck_assert_uint_eq(sregs.gdt.base, MEMMAP_GDT);
    ck_assert_uint_eq(sregs.gdt.limit, 6 * 8 - 1);
    /* The descriptors behind the selectors (Intel SDM vol. 3 §3.4.5): 64-bit code, data. */
    ck_assert_uint_eq(ram64(MEMMAP_GDT + 0x10), 0x00af9b000000ffffull);
    ck_assert_uint_eq(ram64(MEMMAP_GDT + 0x18), 0x00cf93000000ffffull);
    ck_assert_uint_eq((ram64(MEMMAP_GDT + 0x20) >> 40) & 0xf, 0xb);
}
END_TEST

/* ---- the loader: format by content, initrd placement ---- */

START_TEST(test_place_initrd)
{
    gpa_t a;
    /* 128 MiB: as high as possible, page-aligned. */
    ck_assert_int_eq(loader_place_initrd(&gm, 0x12345, 0x1800000, 0x80000000, &a), 0);
    ck_assert_uint_eq(a, (128 * MiB - 0x12345) & ~0xfffull);
    /* Below the kernel's limit. */
    ck_assert_int_eq(loader_place_initrd(&gm, 0x1000, 0x1800000, 64 * MiB, &a), 0);
    ck_assert_uint_eq(a, 64 * MiB - 0x1000);
    /* Too large for the RAM above the kernel, or a limit below it. */
    ck_assert_int_eq(loader_place_initrd(&gm, 120 * MiB, 16 * MiB, 0x80000000, &a), -ENOSPC);
    ck_assert_int_eq(loader_place_initrd(&gm, 0x1000, 16 * MiB, 8 * MiB, &a), -ENOSPC);
    ck_assert_int_eq(loader_place_initrd(&gm, 0, 16 * MiB, 0x80000000, &a), -EINVAL);
    /* Exactly all of it. */
    ck_assert_int_eq(loader_place_initrd(&gm, 112 * MiB, 16 * MiB, 0x80000000, &a), 0);
    ck_assert_uint_eq(a, 16 * MiB);

    /* 5 GiB: never above the hole, even with a 64-bit limit. */
    struct gmem big;
    ck_assert_int_eq(gmem_layout(&big, 5 * GiB), 0);
    ck_assert_int_eq(loader_place_initrd(&big, 0x2001, 16 * MiB, UINT64_MAX, &a), 0);
    ck_assert_uint_eq(a, (MEMMAP_HOLE_START - 0x2001) & ~0xfffull);
}
END_TEST

static char tmp_path[64];

static void write_tmp(const void *p, size_t n)
{
    strcpy(tmp_path, "/tmp/test_bzimage.XXXXXX");
    int fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
    close(fd);
}

START_TEST(test_kernel_by_content)
{
    struct kernel_image k;
    write_tmp(image, image_len);
    int ret = loader_load_kernel(tmp_path, &gm, &k, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_msg(ret == 0, "%s", err);
    ck_assert_int_eq(k.format, KERNEL_BZIMAGE);
    ck_assert_uint_eq(k.end, PREF + INIT_SIZE);

    write_tmp("hello, world\n", 13);
    ret = loader_load_kernel(tmp_path, &gm, &k, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_int_eq(ret, -ENOEXEC);
    ck_assert_msg(strstr(err, "not an ELF file nor a bzImage") && strstr(err, tmp_path), "%s", err);

    m_old_version();
    write_tmp(image, image_len);
    ret = loader_load_kernel(tmp_path, &gm, &k, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_int_eq(ret, -ENOEXEC);
    ck_assert_msg(strstr(err, "kernel: ") == err && strstr(err, "too old"), "%s", err);
}
END_TEST

START_TEST(test_load_initrd)
{
    static uint8_t data[10000];
    gpa_t a;
    uint64_t n;
    for (unsigned i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i * 13 + 5);
    write_tmp(data, sizeof(data));
    int ret = loader_load_initrd(tmp_path, &gm, 16 * MiB, 0x80000000, &a, &n, err, sizeof(err));
    ck_assert_msg(ret == 0, "%s", err);
    ck_assert_uint_eq(n, sizeof(data));
    ck_assert_uint_eq(a, (128 * MiB - sizeof(data)) & ~0xfffull);
    ck_assert_mem_eq(gm.host + a, data, sizeof(data));
    /* Too large for what lies above the kernel. */
    ret = loader_load_initrd(tmp_path, &gm, 128 * MiB - 8192, 0x80000000, &a, &n, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_int_eq(ret, -EFBIG);
    ck_assert_msg(strstr(err, "--initrd: ") == err && strstr(err, "do not fit"), "%s", err);

    write_tmp("", 0);
    ret = loader_load_initrd(tmp_path, &gm, 16 * MiB, 0x80000000, &a, &n, err, sizeof(err));
    unlink(tmp_path);
    ck_assert_int_eq(ret, -EINVAL);
    ck_assert_msg(strstr(err, "empty"), "%s", err);

    ret = loader_load_initrd("/nonexistent/initrd", &gm, 16 * MiB, 0x80000000, &a, &n, err,
                             sizeof(err));
    ck_assert_int_eq(ret, -ENOENT);
    ck_assert_msg(strstr(err, "--initrd: /nonexistent/initrd: No such file"), "%s", err);
    ret = loader_load_initrd("/tmp", &gm, 16 * MiB, 0x80000000, &a, &n, err, sizeof(err));
    ck_assert_int_eq(ret, -EINVAL);
    ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
}
END_TEST

/* The reset vector's stub (F000:FFF0) writes the ACPI PM reset register, then halts: what
 * Linux's real-mode restart finds there. Decoded by hand: mov al, imm8; mov dx, imm16;
 * out dx, al; cli; hlt; jmp back to the hlt. */
START_TEST(test_reset_vector)
{
    ck_assert_int_eq(loader_write_reset_vector(&gm), 0);
    const uint8_t *p = gmem_ptr(&gm, MEMMAP_RESET_VECTOR, 16);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq(p[0], 0xb0);
    ck_assert_uint_eq(p[1], MINIVMM_ACPI_PM_RESET_VALUE);
    ck_assert_uint_eq(p[2], 0xba);
    ck_assert_uint_eq(get_le16(p + 3), MINIVMM_ACPI_PM_PORT + MINIVMM_ACPI_PM_RESET);
    ck_assert_uint_eq(p[5], 0xee);
    ck_assert_uint_eq(p[6], 0xfa);
    ck_assert_uint_eq(p[7], 0xf4);
    ck_assert_uint_eq(p[8], 0xeb);
    ck_assert_int_eq((int8_t)p[9], -3); /* to offset 7: the hlt */
    ck_assert_uint_le(MEMMAP_RESET_VECTOR + 10, 0x100000);
}
END_TEST

static Suite *bzimage_suite(void)
{
    Suite *s = suite_create("bzimage");
    TCase *tc;

    tc = tcase_create("good images load at pref_address");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_image_loads);
    tcase_add_test(tc, test_rest_of_init_size_is_zeroed);
    tcase_add_test(tc, test_low_pref_address_loads_at_1mib);
    tcase_add_test(tc, test_setup_sects_zero_means_four);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad images give one reason and leave RAM alone");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_bad_image, 0, N(bads));
    suite_add_tcase(s, tc);

    tc = tcase_create("zero page, page tables and 64-bit entry");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_zero_page);
    tcase_add_test(tc, test_zero_page_rsdp_and_no_initrd);
    tcase_add_test(tc, test_zero_page_above_4g);
    tcase_add_test(tc, test_cmdline_size_limit);
    tcase_add_test(tc, test_identity_page_tables);
    tcase_add_test(tc, test_entry_state);
    suite_add_tcase(s, tc);

    tc = tcase_create("kernel format by content, initrd placement");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_place_initrd);
    tcase_add_test(tc, test_kernel_by_content);
    tcase_add_test(tc, test_load_initrd);
    tcase_add_test(tc, test_reset_vector);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bzimage_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
