/*
 * pvh.c: PVH boot (Xen docs/misc/pvh.pandoc, "x86/HVM direct boot ABI").
 *
 * Addresses come from memmap.h. The memory map (e820.c) says what the guest may use: RAM
 * below the EBDA, the legacy 0x9fc00-1 MiB area reserved, RAM from 1 MiB to the 3 GiB hole,
 * and RAM above 4 GiB for large VMs. Linux BUG()s on KVM without a version-1 memory map, so it is
 * always given. The boot structures themselves sit in RAM marked usable: the guest must treat
 * [0, MEMMAP_BOOT_END) as reserved until it has read them. rsdp_paddr points at the ACPI
 * tables (pvh_set_rsdp; acpi.c); our guest ignores it and reads the FDT.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "e820.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"
#include "pvh.h"

static const uint64_t gdt[] = {
    0,                    /* null */
    0x00cf9b000000ffffull, /* 0x08: code, 32-bit, base 0, limit 4 GiB */
    0x00cf93000000ffffull, /* 0x10: data, 32-bit, base 0, limit 4 GiB */
    0x00008b0000000067ull, /* 0x18: 32-bit TSS (busy), base 0, limit 0x67 */
};

int pvh_write_boot_info(const struct gmem *gm, const char *cmdline, const void *fdt,
                        size_t fdt_size, gpa_t initrd, uint64_t initrd_size)
{
    struct e820_range r[E820_MAX_RANGES];
    struct hvm_memmap_table_entry e820[E820_MAX_RANGES];
    struct hvm_modlist_entry mods[2];
    struct hvm_start_info si = {
        .magic = HVM_START_MAGIC_VALUE,
        .version = 1,
        .cmdline_paddr = MEMMAP_CMDLINE,
        .memmap_paddr = MEMMAP_E820,
    };
    unsigned n, nmods = 0;
    size_t len = strlen(cmdline) + 1;

    if (len > MEMMAP_CMDLINE_MAX || fdt_size > MEMMAP_FDT_MAX)
        return -E2BIG;
    if (initrd_size && !gmem_ptr(gm, initrd, initrd_size))
        return -EFAULT;
    if (gmem_write(gm, MEMMAP_GDT, gdt, sizeof(gdt)) ||
        gmem_write(gm, MEMMAP_CMDLINE, cmdline, len))
        return -EFAULT;

    n = e820_build(gm, r);
    for (unsigned i = 0; i < n; i++)
        e820[i] = (struct hvm_memmap_table_entry){r[i].addr, r[i].size, r[i].type, 0};
    si.memmap_entries = n;
    if (gmem_write(gm, MEMMAP_E820, e820, n * sizeof(e820[0])))
        return -EFAULT;

    /* Linux takes module 0 as its initrd (arch/x86/platform/pvh/enlighten.c), so the initrd
     * comes first; our guest finds the FDT by its command line wherever it is. */
    if (initrd_size)
        mods[nmods++] = (struct hvm_modlist_entry){.paddr = initrd, .size = initrd_size};
    if (fdt) {
        static const char modcmd[] = MINIVMM_FDT_MODULE_CMDLINE;
        mods[nmods++] = (struct hvm_modlist_entry){
            .paddr = MEMMAP_FDT, .size = fdt_size, .cmdline_paddr = MEMMAP_MODCMDLINE};
        if (gmem_write(gm, MEMMAP_FDT, fdt, fdt_size) ||
            gmem_write(gm, MEMMAP_MODCMDLINE, modcmd, sizeof(modcmd)))
            return -EFAULT;
    }
    if (nmods) {
        if (gmem_write(gm, MEMMAP_MODLIST, mods, nmods * sizeof(mods[0])))
            return -EFAULT;
        si.nr_modules = nmods;
        si.modlist_paddr = MEMMAP_MODLIST;
    }
    return gmem_write(gm, MEMMAP_START_INFO, &si, sizeof(si)) ? -EFAULT : 0;
}

int pvh_set_rsdp(const struct gmem *gm, uint64_t rsdp_paddr)
{
    return gmem_write(gm, MEMMAP_START_INFO + offsetof(struct hvm_start_info, rsdp_paddr),
                      &rsdp_paddr, sizeof(rsdp_paddr))
               ? -EFAULT
               : 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
        .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
    };
}

void pvh_entry_state(uint32_t entry, struct kvm_regs *regs, struct kvm_sregs *sregs)
{
    memset(regs, 0, sizeof(*regs));
    regs->rip = entry;
    regs->rbx = MEMMAP_START_INFO;
    regs->rflags = 2;

    flat_segment(&sregs->cs, PVH_GDT_CODE32, 0xb); /* execute/read, accessed */
    flat_segment(&sregs->ds, PVH_GDT_DATA32, 0x3); /* read/write, accessed */
    sregs->es = sregs->fs = sregs->gs = sregs->ss = sregs->ds;
    sregs->tr = (struct kvm_segment){
        .base = 0, .limit = 0x67, .selector = PVH_GDT_TSS, .type = 0xb, .present = 1, .s = 0};
    sregs->gdt.base = MEMMAP_GDT;
    sregs->gdt.limit = sizeof(gdt) - 1;
    sregs->cr0 = 0x11; /* PE | ET */
    sregs->cr4 = 0;
    sregs->efer = 0;
}
