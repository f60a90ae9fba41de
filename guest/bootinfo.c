/*
 * bootinfo.c: reads the PVH start info the loader left in %ebx: the kernel command line,
 * the memory map, and the module list, in which the VMM passes its flattened device tree as
 * the module whose command line is MINIVMM_FDT_MODULE_CMDLINE.
 *
 * Every address in the start info comes from the VMM and is checked before use: it must lie in
 * low RAM below the 32-bit MMIO hole (boot.S maps 4 GiB, UC above MEMMAP_HOLE_START), not in
 * the unmapped first page, and must not wrap. QEMU passes start info version 1 with a memory
 * map and no modules.
 */
#include "bootinfo.h"

#include <minivmm/memmap.h>

#include "kernel.h"

/* More entries than this is a corrupt table, not a machine (the VMM writes at most 64). */
#define MEMMAP_MAX_ENTRIES 128

struct bootinfo bootinfo;

/* Is [pa, pa+len) readable RAM in our identity map? */
static bool phys_ok(uint64_t pa, uint64_t len)
{
    return pa >= 0x1000 && len <= MEMMAP_HOLE_START && pa <= MEMMAP_HOLE_START - len;
}

/* A NUL-terminated string at pa of at most max bytes (NUL included), or NULL. */
static const char *phys_string(uint64_t pa, uint64_t max)
{
    const char *s;

    if (!phys_ok(pa, 1))
        return NULL;
    if (max > MEMMAP_HOLE_START - pa)
        max = MEMMAP_HOLE_START - pa;
    s = (const char *)(uintptr_t)pa;
    return strnlen(s, max) < max ? s : NULL;
}

static void find_fdt(const struct hvm_start_info *si)
{
    const struct hvm_modlist_entry *mod;
    uint32_t n = si->nr_modules;

    if (n == 0 || !phys_ok(si->modlist_paddr, (uint64_t)n * sizeof(*mod)))
        return;
    mod = (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
    for (uint32_t i = 0; i < n; i++) {
        const char *name = phys_string(mod[i].cmdline_paddr, 64);

        if (!name || strcmp(name, MINIVMM_FDT_MODULE_CMDLINE) != 0)
            continue;
        if (!phys_ok(mod[i].paddr, mod[i].size))
            return;
        bootinfo.fdt = (const void *)(uintptr_t)mod[i].paddr;
        bootinfo.fdt_size = mod[i].size;
        return;
    }
}

void bootinfo_parse(uint32_t start_info_pa)
{
    const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)start_info_pa;
    const struct hvm_memmap_table_entry *e;
    uint32_t n;

    if (!phys_ok(start_info_pa, sizeof(*si)) || si->magic != HVM_START_MAGIC_VALUE)
        return;
    bootinfo.valid = true;
    bootinfo.version = si->version;
    if (si->cmdline_paddr)
        bootinfo.cmdline = phys_string(si->cmdline_paddr, MEMMAP_CMDLINE_MAX);
    find_fdt(si);

    /* memmap_paddr and memmap_entries exist from version 1 on. */
    n = si->memmap_entries;
    if (si->version < 1 || n == 0 || n > MEMMAP_MAX_ENTRIES ||
        !phys_ok(si->memmap_paddr, (uint64_t)n * sizeof(*e)))
        return;
    e = (const struct hvm_memmap_table_entry *)(uintptr_t)si->memmap_paddr;
    bootinfo.memmap = e;
    bootinfo.nr_memmap = n;
    for (uint32_t i = 0; i < n; i++)
        if (e[i].type == HVM_MEMMAP_TYPE_RAM)
            bootinfo.ram_bytes += e[i].size;
}

static const char *memmap_type_name(uint32_t type)
{
    static const char *const names[] = {"", "ram", "reserved", "acpi", "nvs", "unusable"};

    return type < ARRAY_SIZE(names) && type ? names[type] : "other";
}

void bootinfo_print_memmap(void)
{
    const struct hvm_memmap_table_entry *e = bootinfo.memmap;

    for (uint32_t i = 0; i < bootinfo.nr_memmap; i++) {
        if (e[i].size == 0)
            continue;
        kprintf("memory: [mem 0x%016llx-0x%016llx] %s\n", (unsigned long long)e[i].addr,
                (unsigned long long)(e[i].addr + e[i].size - 1), memmap_type_name(e[i].type));
    }
}
