/*
 * fuzz_elf_loader.c: libFuzzer harness of the kernel loader: an input is a kernel file as `-k`
 * reads it, recognised by its content (src/loader.c: a Linux bzImage, src/bzimage.c, or a PVH
 * ELF, src/elf_loader.c) and loaded into 16 MiB of guest RAM. A kernel that loads then gets
 * what `minivmm run` gives it: an initrd placed above it (the input's last 4 bytes, scaled,
 * are its size), its boot structures (src/pvh.c or the zero page) and its entry state.
 *
 * Guest RAM is one memfd mapped once; the loader writes it only after validating an image, and
 * nothing here reads it back, so inputs do not depend on each other.
 */
#include <errno.h>
#include <linux/kvm.h>

#include "bzimage.h"
#include "elf_loader.h"
#include "fuzz.h"
#include "loader.h"
#include "minivmm/hw/gmem.h"
#include "minivmm/memmap.h"
#include "pvh.h"

#define RAM_SIZE (16ull << 20)

static struct gmem gm;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    if (gmem_init(&gm, RAM_SIZE)) {
        fprintf(stderr, "fuzz_elf_loader: cannot create guest RAM\n");
        abort();
    }
    return 0;
}

static void boot(const struct kernel_image *k, const uint8_t *data, size_t size)
{
    struct kvm_regs regs = {0};
    struct kvm_sregs sregs = {0};
    uint64_t initrd_size = 0;
    gpa_t initrd = 0;
    const char *cmdline = "console=ttyS0 quiet";

    /* The last 4 bytes pick the initrd size, up to RAM. */
    if (size >= 4) {
        uint32_t v;
        memcpy(&v, data + size - 4, 4);
        initrd_size = v % RAM_SIZE;
    }
    gpa_t limit = k->format == KERNEL_BZIMAGE ? (gpa_t)k->bz.initrd_addr_max + 1 : 0;
    if (!limit)
        limit = MEMMAP_HOLE_START;
    if (!initrd_size || loader_place_initrd(&gm, initrd_size, k->end, limit, &initrd))
        initrd_size = 0;
    else if (gmem_ptr(&gm, initrd, initrd_size) == NULL)
        abort(); /* loader_place_initrd chose a place that is not RAM */

    if (k->format == KERNEL_BZIMAGE) {
        int ret = bzimage_write_boot_params(&gm, &k->bz, cmdline, initrd, initrd_size, 0);
        bzimage_entry_state(k->bz.entry64, &regs, &sregs);
        fuzz_trace("bzimage loaded: version 0x%04x load 0x%llx pm %llu init %u boot_params %d",
                   k->bz.version, (unsigned long long)k->bz.load_addr,
                   (unsigned long long)k->bz.pm_size, k->bz.init_size, ret);
    } else {
        int ret = pvh_write_boot_info(&gm, cmdline, NULL, 0, initrd, initrd_size);
        pvh_entry_state(k->elf.pvh_entry, &regs, &sregs);
        fuzz_trace("pvh loaded: ELF%d entry 0x%x segments %u [0x%llx, 0x%llx) boot_info %d",
                   k->elf.elfclass, k->elf.pvh_entry, k->elf.nsegs,
                   (unsigned long long)k->elf.lowest, (unsigned long long)k->elf.highest, ret);
    }
    if (initrd_size)
        fuzz_trace("initrd %llu bytes at 0x%llx", (unsigned long long)initrd_size,
                   (unsigned long long)initrd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kernel_image k;
    char why[256];

    int ret = loader_load_kernel_buf(data, size, &gm, &k, why, sizeof(why));
    if (ret) {
        fuzz_trace("refused (%d): %s", ret, why);
        return 0;
    }
    /* What every loaded kernel promises: it lies in RAM above the boot structures. */
    if (k.format == KERNEL_PVH_ELF &&
        (k.elf.lowest < MEMMAP_BOOT_END || k.elf.highest > gmem_end(&gm) ||
         k.elf.lowest >= k.elf.highest))
        abort();
    boot(&k, data, size);
    return 0;
}
