/*
 * elf_loader.c: PVH kernel loading (Xen "x86/HVM direct boot ABI", docs/misc/pvh.pandoc).
 *
 * The file is untrusted: every header field, offset and size is checked for overflow and
 * against the file and guest RAM before anything is copied. ELF64 (EM_X86_64) and ELF32
 * (EM_386) are both accepted, as QEMU does. The entry comes from the XEN_ELFNOTE_PHYS32_ENTRY
 * note in a PT_NOTE segment; its descriptor is 4 bytes in newer Linux and 8 (`_ASM_PTR`) in
 * older ones, so n_descsz is honoured and only the low 32 bits are used.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf_loader.h"
#include "loader.h"
#include "minivmm/errmsg.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"

#define MAX_PHDRS 64

/* A program header, whatever the class. */
struct phdr {
    uint32_t type;
    uint64_t offset, paddr, filesz, memsz;
};

/* [off, off+n) inside a buffer of len bytes, without overflow. */
static int in_file(uint64_t off, uint64_t n, size_t len)
{
    return off <= len && n <= len - off;
}

static int read_phdrs(const uint8_t *buf, size_t len, struct phdr *ph, unsigned *nph, int *elfclass,
                      uint64_t *entry, char *err, size_t errlen)
{
    if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
        return errmsg_fail(err, errlen, -ENOEXEC, "not an ELF file");
    if (buf[EI_DATA] != ELFDATA2LSB)
        return errmsg_fail(err, errlen, -ENOEXEC, "not a little-endian ELF file");
    if (buf[EI_VERSION] != EV_CURRENT)
        return errmsg_fail(err, errlen, -ENOEXEC, "unsupported ELF version %u", buf[EI_VERSION]);

    uint64_t phoff, phentsize_need;
    unsigned phnum, phentsize;
    /* e_type and e_machine sit at the same offsets (16, 18) in both classes. */
    uint16_t e_type, e_machine;
    int cls = buf[EI_CLASS] == ELFCLASS64 ? 64 : buf[EI_CLASS] == ELFCLASS32 ? 32 : 0;
    if (!cls)
        return errmsg_fail(err, errlen, -ENOEXEC, "unknown ELF class %u", buf[EI_CLASS]);
    if (len < (cls == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr)))
        return errmsg_fail(err, errlen, -ENOEXEC, "truncated ELF header");
    memcpy(&e_type, buf + EI_NIDENT, 2);
    memcpy(&e_machine, buf + EI_NIDENT + 2, 2);
    if (e_machine != (cls == 64 ? EM_X86_64 : EM_386))
        return errmsg_fail(err, errlen, -ENOEXEC, "ELF%d file is not for %s (e_machine %u)", cls,
                           cls == 64 ? "x86-64" : "i386", e_machine);
    if (e_type != ET_EXEC)
        return errmsg_fail(err, errlen, -ENOEXEC, "not an executable ELF file (e_type %u)", e_type);
    *elfclass = cls;
    if (cls == 64) {
        Elf64_Ehdr eh;
        memcpy(&eh, buf, sizeof(eh));
        phoff = eh.e_phoff;
        phnum = eh.e_phnum;
        phentsize = eh.e_phentsize;
        phentsize_need = sizeof(Elf64_Phdr);
        *entry = eh.e_entry;
    } else {
        Elf32_Ehdr eh;
        memcpy(&eh, buf, sizeof(eh));
        phoff = eh.e_phoff;
        phnum = eh.e_phnum;
        phentsize = eh.e_phentsize;
        phentsize_need = sizeof(Elf32_Phdr);
        *entry = eh.e_entry;
    }

    if (phnum == 0)
        return errmsg_fail(err, errlen, -ENOEXEC, "ELF file has no program headers");
    if (phnum > MAX_PHDRS)
        return errmsg_fail(err, errlen, -ENOEXEC, "too many program headers (%u, at most %u)",
                           phnum, MAX_PHDRS);
    if (phentsize != phentsize_need)
        return errmsg_fail(err, errlen, -ENOEXEC, "bad program header size %u", phentsize);
    if (!in_file(phoff, (uint64_t)phnum * phentsize, len))
        return errmsg_fail(err, errlen, -ENOEXEC, "program headers lie outside the file");

    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *p = buf + phoff + (uint64_t)i * phentsize;
        if (*elfclass == 64) {
            Elf64_Phdr h;
            memcpy(&h, p, sizeof(h));
            ph[i] = (struct phdr){h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz};
        } else {
            Elf32_Phdr h;
            memcpy(&h, p, sizeof(h));
            ph[i] = (struct phdr){h.p_type, h.p_offset, h.p_paddr, h.p_filesz, h.p_memsz};
        }
    }
    *nph = phnum;
    return 0;
}

/* Walks the notes of one PT_NOTE segment; 1 with *entry set when the PVH note is found. */
static int find_pvh_note(const uint8_t *p, uint64_t n, uint32_t *entry, char *err, size_t errlen)
{
    uint64_t off = 0;
    while (n - off >= 12) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        off += 12;
        uint64_t name_pad = ((uint64_t)namesz + 3) & ~3ull;
        uint64_t desc_pad = ((uint64_t)descsz + 3) & ~3ull;
        if (name_pad > n - off || desc_pad > n - off - name_pad)
            return errmsg_fail(err, errlen, -ENOEXEC, "malformed ELF note");
        const uint8_t *name = p + off;
        const uint8_t *desc = p + off + name_pad;
        off += name_pad + desc_pad;
        if (namesz == 4 && memcmp(name, "Xen", 4) == 0 && type == XEN_ELFNOTE_PHYS32_ENTRY) {
            if (descsz != 4 && descsz != 8)
                return errmsg_fail(err, errlen, -ENOEXEC,
                                   "PVH entry note has size %u (want 4 or 8)", descsz);
            memcpy(entry, desc, 4); /* low 32 bits, little-endian */
            return 1;
        }
    }
    return 0;
}

int elf_load_pvh(const uint8_t *buf, size_t len, const struct gmem *gm, struct elf_image *img,
                 char *err, size_t errlen)
{
    struct phdr ph[MAX_PHDRS];
    unsigned nph = 0;
    uint64_t e_entry = 0;
    int elfclass = 0;
    int ret = read_phdrs(buf, len, ph, &nph, &elfclass, &e_entry, err, errlen);
    if (ret)
        return ret;

    memset(img, 0, sizeof(*img));
    img->elfclass = elfclass;
    img->lowest = UINT64_MAX;
    int found = 0;
    for (unsigned i = 0; i < nph; i++) {
        if (ph[i].type == PT_NOTE && !found) {
            if (!in_file(ph[i].offset, ph[i].filesz, len))
                return errmsg_fail(err, errlen, -ENOEXEC, "note segment lies outside the file");
            found = find_pvh_note(buf + ph[i].offset, ph[i].filesz, &img->pvh_entry, err, errlen);
            if (found < 0)
                return found;
        }
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
            continue;
        if (ph[i].filesz > ph[i].memsz)
            return errmsg_fail(err, errlen, -ENOEXEC, "segment %u: file size exceeds memory size",
                               i);
        if (!in_file(ph[i].offset, ph[i].filesz, len))
            return errmsg_fail(err, errlen, -ENOEXEC, "segment %u lies outside the file", i);
        uint64_t start = ph[i].paddr, end = start + ph[i].memsz;
        if (end < start || !gmem_ptr(gm, start, ph[i].memsz))
            return errmsg_fail(err, errlen, -EFAULT,
                               "segment %u [0x%llx, 0x%llx) lies outside guest RAM (%llu MiB)", i,
                               (unsigned long long)start, (unsigned long long)(start + ph[i].memsz),
                               (unsigned long long)(gm->size >> 20));
        if (start < MEMMAP_BOOT_END)
            return errmsg_fail(
                err, errlen, -EFAULT,
                "segment %u [0x%llx, 0x%llx) overlaps the boot structures below 0x%x", i,
                (unsigned long long)start, (unsigned long long)end, MEMMAP_BOOT_END);
        for (unsigned j = 0; j < i; j++) {
            if (ph[j].type == PT_LOAD && ph[j].memsz && start < ph[j].paddr + ph[j].memsz &&
                ph[j].paddr < end)
                return errmsg_fail(err, errlen, -ENOEXEC, "segments %u and %u overlap", j, i);
        }
        if (start < img->lowest)
            img->lowest = start;
        if (end > img->highest)
            img->highest = end;
        img->nsegs++;
    }
    if (!found)
        return errmsg_fail(err, errlen, -ENOEXEC, "no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
    if (img->nsegs == 0)
        return errmsg_fail(err, errlen, -ENOEXEC, "no loadable segments");
    bool entry_ok = false;
    for (unsigned i = 0; i < nph; i++)
        if (ph[i].type == PT_LOAD && ph[i].memsz && img->pvh_entry >= ph[i].paddr &&
            img->pvh_entry - ph[i].paddr < ph[i].memsz)
            entry_ok = true;
    if (!entry_ok)
        return errmsg_fail(err, errlen, -ENOEXEC, "PVH entry 0x%x lies outside the loaded segments",
                           img->pvh_entry);

    /* Everything checked: copy. */
    for (unsigned i = 0; i < nph; i++) {
        if (ph[i].type != PT_LOAD || ph[i].memsz == 0)
            continue;
        uint8_t *dst = gmem_ptr(gm, ph[i].paddr, ph[i].memsz);
        memcpy(dst, buf + ph[i].offset, ph[i].filesz);
        memset(dst + ph[i].filesz, 0, ph[i].memsz - ph[i].filesz);
    }
    return 0;
}

int elf_load_pvh_file(const char *path, const struct gmem *gm, struct elf_image *img, char *err,
                      size_t errlen)
{
    char why[200];
    uint8_t *buf;
    size_t len;
    int ret = loader_read_file("kernel", path, ELF_LOADER_MAX_FILE, &buf, &len, err, errlen);
    if (ret)
        return ret;
    ret = elf_load_pvh(buf, len, gm, img, why, sizeof(why));
    if (ret)
        errmsg_fail(err, errlen, ret, "kernel: %s: %s", path, why);
    free(buf);
    return ret;
}
