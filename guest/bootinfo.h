/*
 * bootinfo.h: what the PVH start info (hvm_start_info, see abi.h) told us at boot.
 */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <minivmm/abi.h>
#include <stdbool.h>
#include <stdint.h>

struct bootinfo {
    bool valid;                                  /* magic matched */
    uint32_t version;
    const char *cmdline;                         /* NULL when none */
    const struct hvm_memmap_table_entry *memmap; /* NULL when version 0 or none */
    uint32_t nr_memmap;
    uint64_t ram_bytes;                          /* sum of RAM entries */
    const void *fdt;                             /* the "minivmm,fdt" module, or NULL */
    uint64_t fdt_size;
};

extern struct bootinfo bootinfo;

void bootinfo_parse(uint32_t start_info_pa);
void bootinfo_print_memmap(void);

#endif
