/*
 * elf_loader.h: loads a PVH kernel (ELF64 x86-64, or ELF32 i386 as QEMU accepts) into guest RAM.
 */
#ifndef MINIVMM_ELF_LOADER_H
#define MINIVMM_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/gmem.h"

#define ELF_LOADER_MAX_FILE (512ull << 20)

struct elf_image {
    uint32_t pvh_entry; /* XEN_ELFNOTE_PHYS32_ENTRY */
    gpa_t lowest;       /* lowest loaded address */
    gpa_t highest;      /* end of the highest segment (exclusive) */
    unsigned nsegs;     /* PT_LOAD segments loaded */
    int elfclass;       /* 32 or 64 */
};

/* Validates the ELF image in buf and copies its PT_LOAD segments to their physical addresses
 * (p_paddr), zero-filling up to p_memsz. Segments must lie in RAM at or above
 * MEMMAP_BOOT_END. 0, or -ENOEXEC/-EINVAL/-EFAULT with a one-line reason in err. Guest RAM is
 * only written once the whole image has been validated. */
int elf_load_pvh(const uint8_t *buf, size_t len, const struct gmem *gm, struct elf_image *img,
                 char *err, size_t errlen);
/* Reads the file and calls elf_load_pvh; err names the path. */
int elf_load_pvh_file(const char *path, const struct gmem *gm, struct elf_image *img, char *err,
                      size_t errlen);

#endif
