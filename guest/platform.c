/*
 * platform.c: learns the machine from the VMM's flattened device tree in one walk.
 *
 * What is read (the contract with the VMM's FDT builder):
 *   /cpus/<any> with device_type "cpu": reg (with /cpus' #address-cells) = local APIC ID;
 *       logical CPU numbers follow document order, the BSP moved to 0 if needed;
 *   compatible MINIVMM_FDT_COMPAT_UART ("ns16550a"), first such node: reg entry 0 = I/O port
 *       (low 32 bits of the address, so an ISA <1 0x3f8 8> works), interrupts cell 0 = ISA IRQ;
 *   compatible MINIVMM_FDT_COMPAT_IOAPIC: reg entry 0 = MMIO base;
 *   compatible MINIVMM_FDT_COMPAT_EXIT: reg entry 0 = I/O port (low 32 bits);
 *   device_type "memory": reg sizes summed (only used when the PVH memory map is missing);
 *   /chosen bootargs: the command line when PVH passed none.
 * "reg" is decoded with the parent's #address-cells/#size-cells (defaults 2/1, DTSpec 2.3.5).
 * Nodes whose status is neither "okay" nor "ok" are skipped.
 *
 * One walk, not one lookup per property: each byte of the tree costs emulated instructions.
 */
#include "platform.h"

#include <minivmm/abi.h>
#include <minivmm/memmap.h>
#include <minivmm/uart16550.h>

#include "fdt.h"
#include "kernel.h"

#define SCAN_DEPTH 16

struct platform platform;

static char notes[512];
static size_t notes_len;

static void __printf(1, 2) note(const char *fmt, ...)
{
    va_list ap;
    int n;

    if (notes_len >= sizeof(notes) - 1)
        return;
    va_start(ap, fmt);
    n = kvsnprintf(notes + notes_len, sizeof(notes) - notes_len, fmt, ap);
    va_end(ap);
    notes_len += (size_t)n;
    if (notes_len > sizeof(notes) - 1)
        notes_len = sizeof(notes) - 1;
}

/* One node's interesting properties, gathered in a single pass over its property list. */
struct node_props {
    const char *compat;
    uint32_t compat_len;
    const char *device_type;
    uint32_t device_type_len;
    const uint8_t *reg;
    uint32_t reg_len;
    const uint8_t *interrupts;
    uint32_t interrupts_len;
    const char *bootargs;
    uint32_t bootargs_len;
    unsigned ac, sc; /* cells this node declares for its children */
    bool disabled;
};

struct level {
    const char *name;
    unsigned ac, sc;
};

static bool str_prop_is(const char *p, uint32_t len, const char *s)
{
    return p && fdt_stringlist_contains(p, len, s);
}

static void gather(const struct fdt *fdt, int node, struct node_props *np)
{
    struct fdt_prop p;
    int prop;

    memset(np, 0, sizeof(*np));
    np->ac = 2;
    np->sc = 1;
    fdt_for_each_property(fdt, prop, node) {
        if (fdt_get_property(fdt, prop, &p))
            break;
        /* Dispatch on the first character before paying for strcmp. */
        switch (p.name[0]) {
        case 'c':
            if (!strcmp(p.name, "compatible")) {
                np->compat = p.data;
                np->compat_len = p.len;
            }
            break;
        case 'd':
            if (!strcmp(p.name, "device_type")) {
                np->device_type = p.data;
                np->device_type_len = p.len;
            }
            break;
        case 'r':
            if (!strcmp(p.name, "reg")) {
                np->reg = p.data;
                np->reg_len = p.len;
            }
            break;
        case 'i':
            if (!strcmp(p.name, "interrupts")) {
                np->interrupts = p.data;
                np->interrupts_len = p.len;
            }
            break;
        case 'b':
            if (!strcmp(p.name, "bootargs")) {
                np->bootargs = p.data;
                np->bootargs_len = p.len;
            }
            break;
        case 's':
            if (!strcmp(p.name, "status"))
                np->disabled = !str_prop_is(p.data, p.len, "okay") &&
                               !str_prop_is(p.data, p.len, "ok");
            break;
        case '#':
            if (p.len == 4 && !strcmp(p.name, "#address-cells"))
                np->ac = (unsigned)fdt_read_cells(p.data, 1);
            else if (p.len == 4 && !strcmp(p.name, "#size-cells"))
                np->sc = (unsigned)fdt_read_cells(p.data, 1);
            break;
        }
    }
}

/* Entry `index` of the node's reg, decoded with the parent's cells; 0 or -1. */
static int reg_entry(const struct node_props *np, const struct level *parent, unsigned index,
                     uint64_t *addr, uint64_t *size)
{
    unsigned ac = parent->ac, sc = parent->sc;
    uint32_t entry = 4 * (ac + sc);

    if (!np->reg || ac == 0 || ac > 4 || sc > 4 || index >= np->reg_len / entry)
        return -1;
    *addr = fdt_read_cells(np->reg + index * entry, ac);
    *size = fdt_read_cells(np->reg + index * entry + 4 * ac, sc);
    return 0;
}

/* An I/O port from reg entry 0: the low 32 bits of the address must fit 16 bits. */
static int reg_port(const struct node_props *np, const struct level *parent, const char *what,
                    uint16_t *port)
{
    uint64_t addr, size;

    if (reg_entry(np, parent, 0, &addr, &size) || (uint32_t)addr > 0xffff) {
        note("device tree: %s: bad reg, using port 0x%x\n", what, *port);
        return -1;
    }
    *port = (uint16_t)addr;
    return 0;
}

static bool name_is(const char *name, const char *base)
{
    size_t n = strlen(base);

    return name && !strncmp(name, base, n) && (name[n] == '\0' || name[n] == '@');
}

static void add_cpu(const struct node_props *np, const struct level *parent)
{
    uint64_t id, size;

    if (reg_entry(np, parent, 0, &id, &size)) {
        note("device tree: cpu node without a usable reg ignored\n");
        return;
    }
    if (id >= NR_CPUS) {
        note("device tree: cpu with APIC ID %llu ignored (limit %d)\n", (unsigned long long)id,
             NR_CPUS);
        return;
    }
    if (platform.nr_cpus == NR_CPUS) {
        note("device tree: more than %d cpus, the rest ignored\n", NR_CPUS);
        return;
    }
    platform.apic_ids[platform.nr_cpus++] = (uint32_t)id;
}

static void probe_fdt(const struct fdt *fdt)
{
    struct level lv[SCAN_DEPTH];
    struct node_props np;
    bool uart_found = false, ioapic_found = false, exit_found = false;
    int depth = 0, node;
    uint64_t addr, size;

    for (node = fdt_next_node(fdt, -1, &depth); node >= 0;
         node = fdt_next_node(fdt, node, &depth)) {
        const struct level *parent;

        if (depth < 0 || depth >= SCAN_DEPTH)
            continue;
        gather(fdt, node, &np);
        lv[depth].name = fdt_get_name(fdt, node);
        lv[depth].ac = np.ac;
        lv[depth].sc = np.sc;
        if (depth == 0 || np.disabled)
            continue;
        parent = &lv[depth - 1];

        if (depth == 1 && name_is(lv[1].name, "chosen") && np.bootargs &&
            strnlen(np.bootargs, np.bootargs_len) < np.bootargs_len)
            platform.bootargs = np.bootargs;
        if (str_prop_is(np.device_type, np.device_type_len, "memory"))
            for (unsigned i = 0; reg_entry(&np, parent, i, &addr, &size) == 0; i++)
                platform.ram_bytes += size;
        if (depth == 2 && name_is(lv[1].name, "cpus") &&
            str_prop_is(np.device_type, np.device_type_len, "cpu"))
            add_cpu(&np, parent);
        if (!np.compat)
            continue;
        if (!uart_found && str_prop_is(np.compat, np.compat_len, MINIVMM_FDT_COMPAT_UART)) {
            uart_found = true;
            reg_port(&np, parent, "uart", &platform.uart_port);
            if (np.interrupts_len >= 4 && fdt_read_cells(np.interrupts, 1) < 16)
                platform.uart_irq = (uint8_t)fdt_read_cells(np.interrupts, 1);
            else
                note("device tree: uart: bad interrupts, using IRQ %u\n", platform.uart_irq);
        } else if (!ioapic_found &&
                   str_prop_is(np.compat, np.compat_len, MINIVMM_FDT_COMPAT_IOAPIC)) {
            ioapic_found = true;
            if (reg_entry(&np, parent, 0, &addr, &size) == 0 && addr >= MEMMAP_HOLE_START &&
                addr < MEMMAP_HOLE_END - MEMMAP_IOAPIC_SIZE && addr % 16 == 0)
                platform.ioapic_base = addr;
            else
                note("device tree: ioapic: bad reg, using 0x%llx\n",
                     (unsigned long long)platform.ioapic_base);
        } else if (!exit_found &&
                   str_prop_is(np.compat, np.compat_len, MINIVMM_FDT_COMPAT_EXIT)) {
            exit_found = true;
            reg_port(&np, parent, "exit port", &platform.exit_port);
        }
    }
    if (!uart_found)
        note("device tree: no %s node, using COM1\n", MINIVMM_FDT_COMPAT_UART);
    if (!ioapic_found)
        note("device tree: no %s node, using 0x%x\n", MINIVMM_FDT_COMPAT_IOAPIC,
             MEMMAP_IOAPIC_BASE);
    if (!exit_found)
        note("device tree: no %s node, using port 0x%x\n", MINIVMM_FDT_COMPAT_EXIT,
             MINIVMM_EXIT_PORT);
}

void platform_probe(const void *blob, uint64_t size)
{
    struct fdt fdt;

    platform.nr_cpus = 0;
    platform.uart_port = UART_COM1_BASE;
    platform.uart_irq = UART_COM1_IRQ;
    platform.ioapic_base = MEMMAP_IOAPIC_BASE;
    platform.exit_port = MINIVMM_EXIT_PORT;

    if (blob && fdt_init(&fdt, blob, size) == 0) {
        platform.have_fdt = true;
        probe_fdt(&fdt);
        if (platform.nr_cpus == 0)
            note("device tree: no cpu nodes under /cpus, starting 1 cpu\n");
    } else if (blob) {
        note("device tree: module '%s' is not a valid FDT, ignored\n",
             MINIVMM_FDT_MODULE_CMDLINE);
    }
    if (platform.nr_cpus == 0)
        platform.nr_cpus = 1; /* the BSP; its APIC ID is read at SMP bring-up */
}

void platform_print_notes(void)
{
    if (!platform.have_fdt)
        kprintf("no device tree: using defaults (1 cpu, COM1, exit port 0x%x)\n",
                MINIVMM_EXIT_PORT);
    if (notes_len)
        kprintf("%s", notes);
}
