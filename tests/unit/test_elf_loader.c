/*
 * test_elf_loader.c: loading PVH kernels from ELF images, good and hostile.
 *
 * The images are built in memory by a small builder (struct elfimg): an ELF64 or ELF32 header,
 * program headers, a PT_NOTE holding a GNU note followed by the Xen PVH entry note (descsz 4 or
 * 8), a text segment with a bss tail and a data segment. Good images must land at p_paddr with
 * the bss zeroed over pre-filled junk and the entry taken from the note (low 32 bits of an
 * 8-byte descriptor), not from e_entry. Each malformed image breaks one thing and must fail with
 * its own return code and message, leaving guest RAM byte-for-byte as it was. The file wrapper
 * is checked for a missing path, a directory, an empty file and a good file.
 */
#include <check.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_loader.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"
#include "minivmm/util.h"

#define RAM_SIZE (16ull << 20)
#define JUNK 0xa5

/* Default image layout (file offsets and guest addresses). */
#define NOTE_OFF 0x200
#define TEXT_OFF 0x400
#define TEXT_FILESZ 0x300
#define TEXT_MEMSZ 0x1000
#define TEXT_PADDR 0x100000
#define DATA_OFF 0x800
#define DATA_SZ 0x100
#define DATA_PADDR 0x200000
#define IMG_LEN 0x900
#define ENTRY 0x100010u
#define IMG_MAX 0x4000
#define MAX_SEGS 8

/* ---- the in-memory ELF builder ---- */

struct eb_seg {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

struct elfimg {
    /* e_ident */
    uint8_t magic0, ei_class, ei_data, ei_version;
    /* header */
    uint16_t machine, type;
    uint64_t entry; /* e_entry: deliberately not the PVH entry */
    uint64_t phoff;
    uint16_t phentsize;
    int phnum; /* -1: nsegs */
    unsigned nsegs;
    struct eb_seg seg[MAX_SEGS];
    /* contents; eb_emit() writes the headers over the start */
    uint8_t b[IMG_MAX];
    size_t len;
    size_t note_len; /* bytes of notes at NOTE_OFF */
    size_t xen_note; /* offset of the Xen note header in b */
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Appends one note at NOTE_OFF + note_len; returns its offset. */
static size_t eb_note(struct elfimg *im, const char *name, uint32_t namesz, uint32_t type,
                      const void *desc, uint32_t descsz)
{
    size_t off = NOTE_OFF + im->note_len;
    uint8_t *p = im->b + off;
    put32(p, namesz);
    put32(p + 4, descsz);
    put32(p + 8, type);
    size_t npad = (namesz + 3u) & ~3u, dpad = (descsz + 3u) & ~3u;
    memcpy(p + 12, name, namesz);
    memcpy(p + 12 + npad, desc, descsz);
    im->note_len += 12 + npad + dpad;
    return off;
}

/* A good image: ELF64 x86-64 or ELF32 i386, PVH note descriptor of desc8 ? 8 : 4 bytes.
 * Program headers: [0] PT_NOTE, [1] text PT_LOAD, [2] data PT_LOAD, [3] PT_GNU_STACK. */
static void eb_default(struct elfimg *im, int cls, int desc8)
{
    memset(im, 0, sizeof(*im));
    im->magic0 = ELFMAG0;
    im->ei_class = cls == 64 ? ELFCLASS64 : ELFCLASS32;
    im->ei_data = ELFDATA2LSB;
    im->ei_version = EV_CURRENT;
    im->machine = cls == 64 ? EM_X86_64 : EM_386;
    im->type = ET_EXEC;
    im->entry = cls == 64 ? 0xffffffff81000000ull : 0xc1000000u;
    im->phoff = cls == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    im->phentsize = cls == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    im->phnum = -1;

    static const uint8_t build_id[20] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                         11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
    eb_note(im, "GNU", 4, NT_GNU_BUILD_ID, build_id, sizeof(build_id));
    uint8_t desc[8];
    put32(desc, ENTRY);
    put32(desc + 4, 0xdeadbeef); /* high half of an 8-byte descriptor: must be ignored */
    im->xen_note = eb_note(im, "Xen", 4, XEN_ELFNOTE_PHYS32_ENTRY, desc, desc8 ? 8 : 4);

    for (unsigned i = 0; i < TEXT_FILESZ; i++)
        im->b[TEXT_OFF + i] = (uint8_t)(i * 13 + 1);
    for (unsigned i = 0; i < DATA_SZ; i++)
        im->b[DATA_OFF + i] = (uint8_t)(0x80 | i);
    im->len = IMG_LEN;

    im->seg[0] = (struct eb_seg){PT_NOTE, NOTE_OFF, 0, im->note_len, im->note_len};
    im->seg[1] = (struct eb_seg){PT_LOAD, TEXT_OFF, TEXT_PADDR, TEXT_FILESZ, TEXT_MEMSZ};
    im->seg[2] = (struct eb_seg){PT_LOAD, DATA_OFF, DATA_PADDR, DATA_SZ, DATA_SZ};
    im->seg[3] = (struct eb_seg){PT_GNU_STACK, 0, 0, 0, 0};
    im->nsegs = 4;
}

/* Writes the ELF header and program headers into b. */
static void eb_emit(struct elfimg *im)
{
    unsigned phnum = im->phnum < 0 ? im->nsegs : (unsigned)im->phnum;
    unsigned char ident[EI_NIDENT] = {im->magic0,   ELFMAG1,     ELFMAG2,        ELFMAG3,
                                      im->ei_class, im->ei_data, im->ei_version, ELFOSABI_NONE};
    if (im->ei_class == ELFCLASS32 || (im->ei_class != ELFCLASS64 && im->phentsize == 32)) {
        Elf32_Ehdr eh = {0};
        memcpy(eh.e_ident, ident, EI_NIDENT);
        eh.e_type = im->type;
        eh.e_machine = im->machine;
        eh.e_version = EV_CURRENT;
        eh.e_entry = (Elf32_Addr)im->entry;
        eh.e_phoff = (Elf32_Off)im->phoff;
        eh.e_ehsize = sizeof(eh);
        eh.e_phentsize = im->phentsize;
        eh.e_phnum = (Elf32_Half)phnum;
        memcpy(im->b, &eh, sizeof(eh));
        for (unsigned i = 0; i < im->nsegs; i++) {
            Elf32_Phdr ph = {
                .p_type = im->seg[i].type,
                .p_offset = (Elf32_Off)im->seg[i].offset,
                .p_vaddr = (Elf32_Addr)im->seg[i].paddr + 0xc0000000u,
                .p_paddr = (Elf32_Addr)im->seg[i].paddr,
                .p_filesz = (Elf32_Word)im->seg[i].filesz,
                .p_memsz = (Elf32_Word)im->seg[i].memsz,
                .p_flags = PF_R | PF_X,
                .p_align = 0x1000,
            };
            uint64_t at = im->phoff + (uint64_t)i * sizeof(ph);
            if (im->phoff < IMG_MAX && at < IMG_MAX && IMG_MAX - at >= sizeof(ph))
                memcpy(im->b + at, &ph, sizeof(ph));
        }
    } else {
        Elf64_Ehdr eh = {0};
        memcpy(eh.e_ident, ident, EI_NIDENT);
        eh.e_type = im->type;
        eh.e_machine = im->machine;
        eh.e_version = EV_CURRENT;
        eh.e_entry = im->entry;
        eh.e_phoff = im->phoff;
        eh.e_ehsize = sizeof(eh);
        eh.e_phentsize = im->phentsize;
        eh.e_phnum = (Elf64_Half)phnum;
        memcpy(im->b, &eh, sizeof(eh));
        for (unsigned i = 0; i < im->nsegs; i++) {
            Elf64_Phdr ph = {
                .p_type = im->seg[i].type,
                .p_offset = im->seg[i].offset,
                .p_vaddr = im->seg[i].paddr + 0xffffffff80000000ull,
                .p_paddr = im->seg[i].paddr,
                .p_filesz = im->seg[i].filesz,
                .p_memsz = im->seg[i].memsz,
                .p_flags = PF_R | PF_X,
                .p_align = 0x1000,
            };
            uint64_t at = im->phoff + (uint64_t)i * sizeof(ph);
            if (im->phoff < IMG_MAX && at < IMG_MAX && IMG_MAX - at >= sizeof(ph))
                memcpy(im->b + at, &ph, sizeof(ph));
        }
    }
}

/* Overwrites the PVH entry in the Xen note's descriptor. */
static void set_entry(struct elfimg *im, uint32_t entry)
{
    put32(im->b + im->xen_note + 16, entry);
}

/* ---- guest RAM fixture ---- */

static struct gmem gm;

/* RAM full of JUNK, written through the memfd rather than the mapping: a memset faulted in
 * 4096 pages one write fault at a time (~60 ms a test here, the bulk of this suite's time);
 * reading them back later maps them 16 at a time (fault-around). */
static void ram_setup(void)
{
    static uint8_t junk[1 << 20];

    ck_assert_int_eq(gmem_init(&gm, RAM_SIZE), 0);
    memset(junk, JUNK, sizeof(junk));
    for (uint64_t off = 0; off < RAM_SIZE; off += sizeof(junk))
        ck_assert_int_eq(pwrite(gm.fd, junk, sizeof(junk), (off_t)off), (ssize_t)sizeof(junk));
}

static void ram_teardown(void)
{
    gmem_destroy(&gm);
}

/* The first guest address whose byte is not JUNK, or UINT64_MAX. memcmp a page at a time:
 * a loop over words was half of this suite's time. */
static uint64_t ram_first_change(void)
{
    static uint8_t junk[4096];

    memset(junk, JUNK, sizeof(junk));
    for (uint64_t i = 0; i < RAM_SIZE; i += sizeof(junk))
        if (memcmp(gm.host + i, junk, sizeof(junk)) != 0)
            for (uint64_t j = i; j < i + sizeof(junk); j++)
                if (gm.host[j] != JUNK)
                    return j;
    return UINT64_MAX;
}

static int load(struct elfimg *im, struct elf_image *img, char *err, size_t errlen)
{
    eb_emit(im);
    /* An exact-size heap copy, so ASan sees any read past the end of the file. */
    uint8_t *copy = malloc(im->len ? im->len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, im->b, im->len);
    int ret = elf_load_pvh(copy, im->len, &gm, img, err, errlen);
    free(copy);
    return ret;
}

/* ---- good images ---- */

/* _i: bit 0 = ELF32, bit 1 = 8-byte descriptor. */
START_TEST(test_good_image)
{
    int cls = (_i & 1) ? 32 : 64, desc8 = (_i & 2) != 0;
    struct elfimg im;
    eb_default(&im, cls, desc8);
    struct elf_image img;
    memset(&img, 0xee, sizeof(img));
    char err[200] = "";
    int ret = load(&im, &img, err, sizeof(err));
    ck_assert_msg(ret == 0, "ELF%d desc %d: %d (%s)", cls, desc8 ? 8 : 4, ret, err);

    ck_assert_uint_eq(img.pvh_entry, ENTRY);
    ck_assert_uint_eq(img.lowest, TEXT_PADDR);
    ck_assert_uint_eq(img.highest, DATA_PADDR + DATA_SZ);
    ck_assert_uint_eq(img.nsegs, 2);
    ck_assert_int_eq(img.elfclass, cls);

    /* Text: file bytes, then zeroed bss; data: file bytes. */
    ck_assert_mem_eq(gm.host + TEXT_PADDR, im.b + TEXT_OFF, TEXT_FILESZ);
    for (unsigned i = TEXT_FILESZ; i < TEXT_MEMSZ; i++)
        ck_assert_msg(gm.host[TEXT_PADDR + i] == 0, "bss byte 0x%x = 0x%02x", i,
                      gm.host[TEXT_PADDR + i]);
    ck_assert_mem_eq(gm.host + DATA_PADDR, im.b + DATA_OFF, DATA_SZ);

    /* Nothing else was written. */
    ck_assert_uint_eq(gm.host[TEXT_PADDR - 1], JUNK);
    ck_assert_uint_eq(gm.host[TEXT_PADDR + TEXT_MEMSZ], JUNK);
    ck_assert_uint_eq(gm.host[DATA_PADDR - 1], JUNK);
    ck_assert_uint_eq(gm.host[DATA_PADDR + DATA_SZ], JUNK);
    memset(gm.host + TEXT_PADDR, JUNK, TEXT_MEMSZ);
    memset(gm.host + DATA_PADDR, JUNK, DATA_SZ);
    ck_assert_uint_eq(ram_first_change(), UINT64_MAX);
}
END_TEST

START_TEST(test_note_after_loads)
{
    /* PT_NOTE last, as Linux lays it out. */
    struct elfimg im;
    eb_default(&im, 64, 0);
    struct eb_seg note = im.seg[0];
    im.seg[0] = im.seg[1];
    im.seg[1] = im.seg[2];
    im.seg[2] = note;
    struct elf_image img;
    char err[200] = "";
    ck_assert_msg(load(&im, &img, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(img.pvh_entry, ENTRY);
    ck_assert_uint_eq(img.nsegs, 2);
}
END_TEST

START_TEST(test_second_note_segment)
{
    /* The first PT_NOTE holds only the GNU note; the PVH note is in a second one. */
    struct elfimg im;
    eb_default(&im, 64, 0);
    im.seg[0].filesz = im.seg[0].memsz = im.xen_note - NOTE_OFF;
    im.seg[3] = (struct eb_seg){PT_NOTE, im.xen_note, 0, NOTE_OFF + im.note_len - im.xen_note, 0};
    struct elf_image img;
    char err[200] = "";
    ck_assert_msg(load(&im, &img, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(img.pvh_entry, ENTRY);
}
END_TEST

START_TEST(test_empty_segments_ignored)
{
    /* A PT_LOAD with memsz 0 is skipped whatever its address. */
    struct elfimg im;
    eb_default(&im, 64, 0);
    im.seg[4] = (struct eb_seg){PT_LOAD, 0, 0, 0, 0};
    im.seg[5] = (struct eb_seg){PT_LOAD, 0, UINT64_MAX, 0, 0};
    im.nsegs = 6;
    struct elf_image img;
    char err[200] = "";
    ck_assert_msg(load(&im, &img, err, sizeof(err)) == 0, "%s", err);
    ck_assert_uint_eq(img.nsegs, 2);
    ck_assert_uint_eq(img.lowest, TEXT_PADDR);
}
END_TEST

/* Boundaries that are legal. _i selects the case. */
START_TEST(test_good_boundaries)
{
    struct elfimg im;
    eb_default(&im, 64, 0);
    const char *what = "";
    switch (_i) {
    case 0:
        what = "data segment ending at the last byte of RAM";
        im.seg[2].paddr = RAM_SIZE - DATA_SZ;
        break;
    case 1:
        what = "text segment starting at MEMMAP_BOOT_END";
        im.seg[1].paddr = MEMMAP_BOOT_END;
        set_entry(&im, MEMMAP_BOOT_END);
        break;
    case 2:
        what = "entry on the last byte of the highest segment";
        set_entry(&im, DATA_PADDR + DATA_SZ - 1);
        break;
    case 3:
        what = "entry on the first byte of the lowest segment";
        set_entry(&im, TEXT_PADDR);
        break;
    case 4:
        what = "entry in the bss";
        set_entry(&im, TEXT_PADDR + TEXT_MEMSZ - 1);
        break;
    case 5:
        what = "segments touching";
        im.seg[2].paddr = TEXT_PADDR + TEXT_MEMSZ;
        break;
    case 6:
        what = "filesz 0 (all bss)";
        im.seg[2].filesz = 0;
        break;
    case 7:
        what = "phdrs ending at the last byte of the file";
        im.phoff = IMG_LEN;
        im.len = IMG_LEN + 4 * sizeof(Elf64_Phdr);
        break;
    }
    struct elf_image img;
    char err[200] = "";
    int ret = load(&im, &img, err, sizeof(err));
    ck_assert_msg(ret == 0, "%s: %d (%s)", what, ret, err);
    ck_assert_uint_eq(img.nsegs, 2);
    if (_i == 0)
        ck_assert_uint_eq(img.highest, RAM_SIZE);
    if (_i == 6)
        for (unsigned i = 0; i < DATA_SZ; i++)
            ck_assert_uint_eq(gm.host[DATA_PADDR + i], 0);
}
END_TEST

/* ---- malformed images ---- */

static void m_bad_magic(struct elfimg *im)
{
    im->magic0 = 0x7e;
}
static void m_short(struct elfimg *im)
{
    im->len = 10;
}
static void m_empty(struct elfimg *im)
{
    im->len = 0;
}
static void m_trunc_hdr(struct elfimg *im)
{
    im->len = 40;
}
static void m_trunc_hdr_by_one(struct elfimg *im)
{
    im->len = im->ei_class == ELFCLASS64 ? sizeof(Elf64_Ehdr) - 1 : sizeof(Elf32_Ehdr) - 1;
}
static void m_big_endian(struct elfimg *im)
{
    im->ei_data = ELFDATA2MSB;
}
static void m_bad_class(struct elfimg *im)
{
    im->ei_class = 3;
}
static void m_bad_version(struct elfimg *im)
{
    im->ei_version = 0;
}
static void m_machine_386(struct elfimg *im)
{
    im->machine = EM_386;
}
static void m_machine_x86_64(struct elfimg *im)
{
    im->machine = EM_X86_64;
}
static void m_machine_arm(struct elfimg *im)
{
    im->machine = EM_AARCH64;
}
static void m_dyn(struct elfimg *im)
{
    im->type = ET_DYN;
}
static void m_rel(struct elfimg *im)
{
    im->type = ET_REL;
}
static void m_no_phdrs(struct elfimg *im)
{
    im->phnum = 0;
}
static void m_phoff_end(struct elfimg *im)
{
    im->phoff = IMG_LEN - 10;
}
static void m_phoff_huge(struct elfimg *im)
{
    im->phoff = im->ei_class == ELFCLASS64 ? UINT64_MAX - 0x20 : 0xffffffe0u;
}
static void m_phoff_last_short(struct elfimg *im)
{
    /* the last header lacks one byte */
    im->phoff = IMG_LEN - (uint64_t)im->nsegs * im->phentsize + 1;
}
static void m_phentsize_big(struct elfimg *im)
{
    im->phentsize += 8;
}
static void m_phentsize_small(struct elfimg *im)
{
    im->phentsize -= 4;
}
static void m_phentsize_other(struct elfimg *im)
{
    im->phentsize = im->ei_class == ELFCLASS64 ? sizeof(Elf32_Phdr) : sizeof(Elf64_Phdr);
}
static void m_too_many(struct elfimg *im)
{
    im->phnum = 65;
    im->len = IMG_MAX;
}
static void m_xnum(struct elfimg *im)
{
    im->phnum = 0xffff;
    im->len = IMG_MAX;
}
static void m_seg_beyond_file(struct elfimg *im)
{
    im->seg[1].offset = IMG_LEN - 0x100;
}
static void m_seg_one_byte_beyond(struct elfimg *im)
{
    im->seg[2].filesz = im->seg[2].memsz = IMG_LEN - DATA_OFF + 1;
}
static void m_seg_offset_huge(struct elfimg *im)
{
    im->seg[1].offset = im->ei_class == ELFCLASS64 ? UINT64_MAX - 0xff : 0xffffff00u;
}
static void m_filesz_gt_memsz(struct elfimg *im)
{
    im->seg[2].memsz = DATA_SZ - 1;
}
static void m_outside_ram(struct elfimg *im)
{
    im->seg[2].paddr = 2 * RAM_SIZE;
}
static void m_past_ram_end(struct elfimg *im)
{
    im->seg[2].paddr = RAM_SIZE - DATA_SZ + 1;
}
static void m_in_hole(struct elfimg *im)
{
    im->seg[2].paddr = MEMMAP_HOLE_START;
}
static void m_huge_memsz(struct elfimg *im)
{
    im->seg[1].memsz = 0xfffff000u;
}
static void m_wrap64(struct elfimg *im)
{
    im->seg[2].paddr = UINT64_MAX - 0xff;
    im->seg[2].memsz = 0x200;
}
static void m_wrap64_memsz(struct elfimg *im)
{
    im->seg[2].memsz = UINT64_MAX - 0x100;
}
static void m_below_boot_end(struct elfimg *im)
{
    im->seg[1].paddr = MEMMAP_BOOT_END - 1;
}
static void m_at_zero(struct elfimg *im)
{
    im->seg[1].paddr = 0;
}
static void m_over_start_info(struct elfimg *im)
{
    im->seg[2].paddr = MEMMAP_START_INFO;
}
static void m_overlap(struct elfimg *im)
{
    im->seg[2].paddr = TEXT_PADDR + TEXT_MEMSZ - 1;
}
static void m_overlap_same(struct elfimg *im)
{
    im->seg[2].paddr = TEXT_PADDR;
}
static void m_overlap_containing(struct elfimg *im)
{
    im->seg[2].paddr = TEXT_PADDR - 0x10;
    im->seg[2].memsz = TEXT_MEMSZ + 0x20;
}
static void m_overlap_in_bss(struct elfimg *im)
{
    im->seg[2].paddr = TEXT_PADDR + 0x800;
}
static void m_no_note_seg(struct elfimg *im)
{
    im->seg[0].type = PT_NULL;
}
static void m_note_wrong_type(struct elfimg *im)
{
    put32(im->b + im->xen_note + 8, 17);
}
static void m_note_wrong_name(struct elfimg *im)
{
    memcpy(im->b + im->xen_note + 12, "Xem", 4);
}
static void m_note_namesz_3(struct elfimg *im)
{
    put32(im->b + im->xen_note, 3);
}
static void m_note_cut(struct elfimg *im)
{
    im->seg[0].filesz = im->xen_note - NOTE_OFF + 11;
}
static void m_note_namesz_big(struct elfimg *im)
{
    put32(im->b + im->xen_note, 0x1000);
}
static void m_note_descsz_big(struct elfimg *im)
{
    put32(im->b + im->xen_note + 4, 0x1000);
}
static void m_note_descsz_max(struct elfimg *im)
{
    put32(im->b + im->xen_note + 4, UINT32_MAX);
}
static void m_note_namesz_max(struct elfimg *im)
{
    put32(im->b + NOTE_OFF, UINT32_MAX - 2);
}
static void m_note_desc_cut(struct elfimg *im)
{
    im->seg[0].filesz -= 1;
}
static void m_descsz_2(struct elfimg *im)
{
    put32(im->b + im->xen_note + 4, 2);
}
static void m_descsz_0(struct elfimg *im)
{
    put32(im->b + im->xen_note + 4, 0);
}
static void m_descsz_12(struct elfimg *im)
{
    put32(im->b + im->xen_note + 4, 12);
    im->seg[0].filesz = im->seg[0].memsz = im->note_len + 8;
}
static void m_note_outside_file(struct elfimg *im)
{
    im->seg[0].offset = IMG_LEN - 8;
}
static void m_entry_above(struct elfimg *im)
{
    set_entry(im, DATA_PADDR + DATA_SZ);
}
static void m_entry_below(struct elfimg *im)
{
    set_entry(im, TEXT_PADDR - 1);
}
static void m_entry_zero(struct elfimg *im)
{
    set_entry(im, 0);
}
static void m_entry_in_gap(struct elfimg *im)
{
    /* Between the text segment's end (0x101000) and the data segment (0x200000): inside the
     * span of the segments but in no segment. */
    set_entry(im, 0x150000);
}
static void m_no_loads(struct elfimg *im)
{
    im->seg[1].type = PT_NULL;
    im->seg[2].type = PT_NULL;
}

#define C64 1
#define C32 2
#define CBOTH 3

static const struct bad_case {
    const char *what;
    unsigned classes;
    void (*mutate)(struct elfimg *);
    int ret;
    const char *msg;
} bad_cases[] = {
    {"bad magic", CBOTH, m_bad_magic, -ENOEXEC, "not an ELF file"},
    {"10-byte file", CBOTH, m_short, -ENOEXEC, "not an ELF file"},
    {"empty buffer", C64, m_empty, -ENOEXEC, "not an ELF file"},
    {"truncated header", CBOTH, m_trunc_hdr, -ENOEXEC, "truncated ELF header"},
    {"header short by one byte", CBOTH, m_trunc_hdr_by_one, -ENOEXEC, "truncated ELF header"},
    {"big-endian", CBOTH, m_big_endian, -ENOEXEC, "little-endian"},
    {"unknown class", C64, m_bad_class, -ENOEXEC, "ELF class 3"},
    {"bad EI_VERSION", CBOTH, m_bad_version, -ENOEXEC, "ELF version 0"},
    {"ELF64 for i386", C64, m_machine_386, -ENOEXEC, "not for x86-64"},
    {"ELF32 for x86-64", C32, m_machine_x86_64, -ENOEXEC, "not for i386"},
    {"for aarch64", CBOTH, m_machine_arm, -ENOEXEC, "e_machine 183"},
    {"ET_DYN", CBOTH, m_dyn, -ENOEXEC, "not an executable"},
    {"ET_REL", CBOTH, m_rel, -ENOEXEC, "e_type 1"},
    {"no program headers", CBOTH, m_no_phdrs, -ENOEXEC, "no program headers"},
    {"phoff near the end", CBOTH, m_phoff_end, -ENOEXEC, "program headers lie outside"},
    {"phoff wrapping", CBOTH, m_phoff_huge, -ENOEXEC, "program headers lie outside"},
    {"last phdr one byte short", CBOTH, m_phoff_last_short, -ENOEXEC,
     "program headers lie outside"},
    {"phentsize too big", CBOTH, m_phentsize_big, -ENOEXEC, "bad program header size"},
    {"phentsize too small", CBOTH, m_phentsize_small, -ENOEXEC, "bad program header size"},
    {"phentsize of the other class", CBOTH, m_phentsize_other, -ENOEXEC, "bad program header size"},
    {"65 program headers", CBOTH, m_too_many, -ENOEXEC, "too many program headers (65"},
    {"PN_XNUM program headers", C64, m_xnum, -ENOEXEC, "too many program headers"},
    {"segment beyond the file", CBOTH, m_seg_beyond_file, -ENOEXEC,
     "segment 1 lies outside the file"},
    {"segment one byte beyond the file", CBOTH, m_seg_one_byte_beyond, -ENOEXEC,
     "segment 2 lies outside the file"},
    {"segment offset wrapping", CBOTH, m_seg_offset_huge, -ENOEXEC,
     "segment 1 lies outside the file"},
    {"filesz > memsz", CBOTH, m_filesz_gt_memsz, -ENOEXEC, "file size exceeds memory size"},
    {"segment outside RAM", CBOTH, m_outside_ram, -EFAULT, "outside guest RAM"},
    {"segment past the end of RAM by one byte", CBOTH, m_past_ram_end, -EFAULT,
     "outside guest RAM"},
    {"segment in the MMIO hole", CBOTH, m_in_hole, -EFAULT, "outside guest RAM"},
    {"huge memsz", CBOTH, m_huge_memsz, -EFAULT, "outside guest RAM"},
    {"segment wrapping 64-bit", C64, m_wrap64, -EFAULT, "outside guest RAM"},
    {"memsz wrapping 64-bit", C64, m_wrap64_memsz, -EFAULT, "outside guest RAM"},
    {"segment just below MEMMAP_BOOT_END", CBOTH, m_below_boot_end, -EFAULT,
     "overlaps the boot structures"},
    {"segment at 0", CBOTH, m_at_zero, -EFAULT, "overlaps the boot structures"},
    {"segment over the start info", CBOTH, m_over_start_info, -EFAULT, "boot structures"},
    {"overlapping segments (one byte)", CBOTH, m_overlap, -ENOEXEC, "segments 1 and 2 overlap"},
    {"overlapping segments (same address)", CBOTH, m_overlap_same, -ENOEXEC,
     "segments 1 and 2 overlap"},
    {"overlapping segments (containing)", CBOTH, m_overlap_containing, -ENOEXEC,
     "segments 1 and 2 overlap"},
    {"segment over another's bss", CBOTH, m_overlap_in_bss, -ENOEXEC, "overlap"},
    {"no PT_NOTE", CBOTH, m_no_note_seg, -ENOEXEC, "no PVH entry note"},
    {"Xen note of another type", CBOTH, m_note_wrong_type, -ENOEXEC, "no PVH entry note"},
    {"note named Xem", CBOTH, m_note_wrong_name, -ENOEXEC, "no PVH entry note"},
    {"note with namesz 3", C64, m_note_namesz_3, -ENOEXEC, "no PVH entry note"},
    {"note header cut short", CBOTH, m_note_cut, -ENOEXEC, "no PVH entry note"},
    {"namesz past the segment", CBOTH, m_note_namesz_big, -ENOEXEC, "malformed ELF note"},
    {"descsz past the segment", CBOTH, m_note_descsz_big, -ENOEXEC, "malformed ELF note"},
    {"descsz 0xffffffff", CBOTH, m_note_descsz_max, -ENOEXEC, "malformed ELF note"},
    {"first note's namesz near 4G", CBOTH, m_note_namesz_max, -ENOEXEC, "malformed ELF note"},
    {"descriptor cut by one byte", CBOTH, m_note_desc_cut, -ENOEXEC, "malformed ELF note"},
    {"descsz 2", CBOTH, m_descsz_2, -ENOEXEC, "size 2 (want 4 or 8)"},
    {"descsz 0", C64, m_descsz_0, -ENOEXEC, "size 0 (want 4 or 8)"},
    {"descsz 12", C64, m_descsz_12, -ENOEXEC, "size 12 (want 4 or 8)"},
    {"note segment outside the file", CBOTH, m_note_outside_file, -ENOEXEC,
     "note segment lies outside the file"},
    {"entry just above the segments", CBOTH, m_entry_above, -ENOEXEC,
     "PVH entry 0x200100 lies outside"},
    {"entry just below the segments", CBOTH, m_entry_below, -ENOEXEC,
     "PVH entry 0xfffff lies outside"},
    {"entry 0", CBOTH, m_entry_zero, -ENOEXEC, "PVH entry 0x0 lies outside"},
    {"entry between two segments", CBOTH, m_entry_in_gap, -ENOEXEC,
     "PVH entry 0x150000 lies outside"},
    {"no PT_LOAD", CBOTH, m_no_loads, -ENOEXEC, "no loadable segments"},
};

#define NBAD ((int)(ARRAY_SIZE(bad_cases)))

/* The (case, class) pairs to run, filled in before the suite starts. */
static struct {
    const struct bad_case *c;
    int cls;
} bad_runs[2 * NBAD];
static int nbad_runs;

static void plan_bad_runs(void)
{
    nbad_runs = 0;
    for (int i = 0; i < NBAD; i++) {
        if (bad_cases[i].classes & C64)
            bad_runs[nbad_runs++] = (typeof(bad_runs[0])){&bad_cases[i], 64};
        if (bad_cases[i].classes & C32)
            bad_runs[nbad_runs++] = (typeof(bad_runs[0])){&bad_cases[i], 32};
    }
}

START_TEST(test_bad_image)
{
    const struct bad_case *c = bad_runs[_i].c;
    int cls = bad_runs[_i].cls;
    struct elfimg im;
    eb_default(&im, cls, 0);
    c->mutate(&im);
    struct elf_image img;
    char err[200];
    memset(err, 'x', sizeof(err));
    int ret = load(&im, &img, err, sizeof(err));
    ck_assert_msg(ret == c->ret, "ELF%d %s: got %d, want %d", cls, c->what, ret, c->ret);
    ck_assert_msg(memchr(err, 0, sizeof(err)) != NULL, "ELF%d %s: err not terminated", cls,
                  c->what);
    ck_assert_msg(strstr(err, c->msg) != NULL, "ELF%d %s: message \"%s\" lacks \"%s\"", cls,
                  c->what, err, c->msg);
    uint64_t changed = ram_first_change();
    ck_assert_msg(changed == UINT64_MAX, "ELF%d %s: guest RAM written at 0x%llx", cls, c->what,
                  (unsigned long long)changed);
}
END_TEST

START_TEST(test_error_buffer)
{
    struct elfimg im;
    eb_default(&im, 64, 0);
    m_bad_magic(&im);
    struct elf_image img;

    /* A short buffer is truncated and terminated (ASan checks nothing is written past it). */
    char *small = malloc(8);
    ck_assert_ptr_nonnull(small);
    ck_assert_int_eq(load(&im, &img, small, 8), -ENOEXEC);
    ck_assert_str_eq(small, "not an ");
    free(small);

    /* No buffer at all. */
    ck_assert_int_eq(load(&im, &img, NULL, 0), -ENOEXEC);
    char one = 'x';
    ck_assert_int_eq(load(&im, &img, &one, 0), -ENOEXEC);
    ck_assert_int_eq(one, 'x');
}
END_TEST

/* ---- the file wrapper ---- */

static char tmpdir[64];

static void tmp_setup(void)
{
    ram_setup();
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_elf_loader.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/kernel", tmpdir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/sub", tmpdir);
    rmdir(path);
    rmdir(tmpdir);
    ram_teardown();
}

static void write_file(const char *path, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
}

START_TEST(test_file_missing)
{
    char path[128], err[256] = "";
    struct elf_image img;
    snprintf(path, sizeof(path), "%s/no-such-kernel", tmpdir);
    ck_assert_int_eq(elf_load_pvh_file(path, &gm, &img, err, sizeof(err)), -ENOENT);
    ck_assert_msg(strstr(err, path) != NULL, "\"%s\" lacks the path", err);
    ck_assert_msg(strstr(err, "No such file") != NULL, "\"%s\"", err);
}
END_TEST

START_TEST(test_file_directory)
{
    char path[128], err[256] = "";
    struct elf_image img;
    snprintf(path, sizeof(path), "%s/sub", tmpdir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    ck_assert_int_eq(elf_load_pvh_file(path, &gm, &img, err, sizeof(err)), -EINVAL);
    ck_assert_msg(strstr(err, path) != NULL, "\"%s\" lacks the path", err);
    ck_assert_msg(strstr(err, "not a regular file") != NULL, "\"%s\"", err);
}
END_TEST

START_TEST(test_file_empty)
{
    char path[128], err[256] = "";
    struct elf_image img;
    snprintf(path, sizeof(path), "%s/kernel", tmpdir);
    write_file(path, "", 0);
    ck_assert_int_eq(elf_load_pvh_file(path, &gm, &img, err, sizeof(err)), -ENOEXEC);
    ck_assert_msg(strstr(err, path) != NULL, "\"%s\" lacks the path", err);
    ck_assert_msg(strstr(err, "not an ELF file") != NULL, "\"%s\"", err);
    ck_assert_uint_eq(ram_first_change(), UINT64_MAX);
}
END_TEST

START_TEST(test_file_bad_image_names_path)
{
    char path[128], err[256] = "";
    struct elf_image img;
    struct elfimg im;
    eb_default(&im, 64, 0);
    m_entry_above(&im);
    eb_emit(&im);
    snprintf(path, sizeof(path), "%s/kernel", tmpdir);
    write_file(path, im.b, im.len);
    ck_assert_int_eq(elf_load_pvh_file(path, &gm, &img, err, sizeof(err)), -ENOEXEC);
    ck_assert_msg(strstr(err, path) != NULL, "\"%s\" lacks the path", err);
    ck_assert_msg(strstr(err, "lies outside the loaded segments") != NULL, "\"%s\"", err);
}
END_TEST

START_TEST(test_file_good)
{
    char path[128], err[256] = "";
    struct elf_image img;
    struct elfimg im;
    eb_default(&im, 32, 1);
    eb_emit(&im);
    snprintf(path, sizeof(path), "%s/kernel", tmpdir);
    write_file(path, im.b, im.len);
    int ret = elf_load_pvh_file(path, &gm, &img, err, sizeof(err));
    ck_assert_msg(ret == 0, "%d: %s", ret, err);
    ck_assert_uint_eq(img.pvh_entry, ENTRY);
    ck_assert_int_eq(img.elfclass, 32);
    ck_assert_mem_eq(gm.host + TEXT_PADDR, im.b + TEXT_OFF, TEXT_FILESZ);
    ck_assert_uint_eq(gm.host[TEXT_PADDR + TEXT_FILESZ], 0);
}
END_TEST

static Suite *elf_loader_suite(void)
{
    Suite *s = suite_create("elf_loader");
    TCase *tc;

    tc = tcase_create("good images load at p_paddr with the note's entry");
    tcase_add_checked_fixture(tc, ram_setup, ram_teardown);
    tcase_add_loop_test(tc, test_good_image, 0, 4);
    tcase_add_test(tc, test_note_after_loads);
    tcase_add_test(tc, test_second_note_segment);
    tcase_add_test(tc, test_empty_segments_ignored);
    tcase_add_loop_test(tc, test_good_boundaries, 0, 8);
    suite_add_tcase(s, tc);

    tc = tcase_create("malformed images fail and leave RAM untouched");
    tcase_add_checked_fixture(tc, ram_setup, ram_teardown);
    plan_bad_runs();
    tcase_add_loop_test(tc, test_bad_image, 0, nbad_runs);
    tcase_add_test(tc, test_error_buffer);
    suite_add_tcase(s, tc);

    tc = tcase_create("file errors name the path");
    tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
    tcase_add_test(tc, test_file_missing);
    tcase_add_test(tc, test_file_directory);
    tcase_add_test(tc, test_file_empty);
    tcase_add_test(tc, test_file_bad_image_names_path);
    tcase_add_test(tc, test_file_good);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(elf_loader_suite());
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
