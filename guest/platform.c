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
 * One pass over the tokens, not one lookup per property: on our hosts each guest instruction
 * is emulated (~1 us), and per-property lookups from the root made this step cost 10 ms.
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

/* The properties we read. */
enum prop_kind {
    PROP_OTHER,
    PROP_COMPATIBLE,
    PROP_DEVICE_TYPE,
    PROP_REG,
    PROP_INTERRUPTS,
    PROP_BOOTARGS,
    PROP_STATUS,
    PROP_ADDRESS_CELLS,
    PROP_SIZE_CELLS,
    NR_PROP_KINDS
};

/* Names with their NULs: prop_kind() compares len + 1 bytes, so no strlen at run time. */
#define NAME(s) {s, sizeof(s)}
static const struct {
    const char *s;
    uint32_t size;
} prop_names[NR_PROP_KINDS] = {
    [PROP_COMPATIBLE] = NAME("compatible"),
    [PROP_DEVICE_TYPE] = NAME("device_type"),
    [PROP_REG] = NAME("reg"),
    [PROP_INTERRUPTS] = NAME("interrupts"),
    [PROP_BOOTARGS] = NAME("bootargs"),
    [PROP_STATUS] = NAME("status"),
    [PROP_ADDRESS_CELLS] = NAME("#address-cells"),
    [PROP_SIZE_CELLS] = NAME("#size-cells"),
};

/*
 * Property kind by name offset: FDT writers (libfdt, dtc) store each name once, so after the
 * first "reg" every other "reg" is one table load instead of a string compare. An entry is
 * valid for the probe whose generation it carries, so nothing needs clearing between blobs.
 */
#define KIND_TABLE_SIZE 1024
static struct {
    uint8_t gen, kind;
} kind_cache[KIND_TABLE_SIZE];
static uint8_t kind_gen;

/*
 * Classify a property name: pick the one candidate by its first character, then compare it
 * including its NUL, inside the strings block. Names that are not ours are never scanned.
 */
static enum prop_kind prop_kind(const struct fdt *fdt, uint32_t nameoff)
{
    const char *name;
    enum prop_kind k;

    if (nameoff >= fdt->size_strings)
        return PROP_OTHER;
    if (nameoff < KIND_TABLE_SIZE && kind_cache[nameoff].gen == kind_gen)
        return (enum prop_kind)kind_cache[nameoff].kind;
    name = fdt->strings + nameoff;
    switch (name[0]) {
    case 'c':
        k = PROP_COMPATIBLE;
        break;
    case 'd':
        k = PROP_DEVICE_TYPE;
        break;
    case 'r':
        k = PROP_REG;
        break;
    case 'i':
        k = PROP_INTERRUPTS;
        break;
    case 'b':
        k = PROP_BOOTARGS;
        break;
    case 's':
        k = PROP_STATUS;
        break;
    case '#':
        k = PROP_ADDRESS_CELLS;
        if (nameoff + 1 < fdt->size_strings && name[1] == 's')
            k = PROP_SIZE_CELLS;
        break;
    default:
        k = PROP_OTHER;
        break;
    }
    if (k != PROP_OTHER && (prop_names[k].size > fdt->size_strings - nameoff ||
                            memcmp(name, prop_names[k].s, prop_names[k].size) != 0))
        k = PROP_OTHER;
    if (nameoff < KIND_TABLE_SIZE) {
        kind_cache[nameoff].gen = kind_gen;
        kind_cache[nameoff].kind = (uint8_t)k;
    }
    return k;
}

struct prop_val {
    const uint8_t *data; /* NULL when absent */
    uint32_t len;
};

/*
 * One node on the walk's stack: its name, the properties we read, and its child cells.
 * prop[k] is valid only if bit k of `seen` is set (cheaper than clearing the array per node).
 */
struct node {
    const char *name;
    uint32_t seen;
    struct prop_val prop[NR_PROP_KINDS];
    unsigned ac, sc; /* #address-cells / #size-cells for its children */
};

static const struct prop_val *get(const struct node *n, enum prop_kind k)
{
    static const struct prop_val absent;

    return n->seen & (1u << k) ? &n->prop[k] : &absent;
}

/* Is the property the single string `lit`? Length first: most mismatches cost no compare. */
#define prop_is(v, lit) prop_equals((v), (lit), sizeof(lit) - 1)

static bool prop_equals(const struct prop_val *v, const char *s, uint32_t n)
{
    return v->data && v->len == n + 1 && v->data[n] == '\0' && memcmp(v->data, s, n) == 0;
}

/* The compatible strings we look for, with their lengths for a cheap first test. */
enum { COMPAT_UART, COMPAT_IOAPIC, COMPAT_EXIT, NR_COMPATS };

#define COMPAT(s) {s, sizeof(s) - 1}
static const struct {
    const char *s;
    uint32_t len;
} compats[NR_COMPATS] = {
    [COMPAT_UART] = COMPAT(MINIVMM_FDT_COMPAT_UART),
    [COMPAT_IOAPIC] = COMPAT(MINIVMM_FDT_COMPAT_IOAPIC),
    [COMPAT_EXIT] = COMPAT(MINIVMM_FDT_COMPAT_EXIT),
};

/*
 * Which of `compats` a "compatible" string list names, as a bit mask. Each item is compared
 * with its NUL, so a match needs no length scan; only skipping an item does.
 */
static unsigned int compat_mask(const struct prop_val *v)
{
    const char *p = (const char *)v->data;
    uint32_t left = v->data ? v->len : 0;
    unsigned int mask = 0;

    while (left) {
        uint32_t l;

        for (unsigned int i = 0; i < NR_COMPATS; i++)
            if (compats[i].len < left && memcmp(p, compats[i].s, compats[i].len + 1) == 0)
                mask |= 1u << i;
        l = (uint32_t)strnlen(p, left);
        if (l + 1 >= left)
            break;
        p += l + 1;
        left -= l + 1;
    }
    return mask;
}

/* Entry `index` of the node's reg, decoded with the parent's cells; 0 or -1. */
static int reg_entry(const struct node *n, const struct node *parent, unsigned index,
                     uint64_t *addr, uint64_t *size)
{
    const struct prop_val *reg = get(n, PROP_REG);
    unsigned ac = parent->ac, sc = parent->sc;
    uint32_t entry = 4 * (ac + sc);

    if (!reg->data || ac == 0 || ac > 4 || sc > 4 || index >= reg->len / entry)
        return -1;
    *addr = fdt_read_cells(reg->data + index * entry, ac);
    *size = fdt_read_cells(reg->data + index * entry + 4 * ac, sc);
    return 0;
}

/* An I/O port from reg entry 0: the low 32 bits of the address must fit 16 bits. */
static int reg_port(const struct node *n, const struct node *parent, const char *what,
                    uint16_t *port)
{
    uint64_t addr, size;

    if (reg_entry(n, parent, 0, &addr, &size) || (uint32_t)addr > 0xffff) {
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

static void add_cpu(const struct node *n, const struct node *parent)
{
    uint64_t id, size;

    if (reg_entry(n, parent, 0, &id, &size)) {
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

struct probe {
    bool uart_found, ioapic_found, exit_found;
};

/* A node is complete (its FDT_END_NODE): use it. Its parent's cells are on the stack. */
static void node_done(struct probe *pr, const struct node *n, const struct node *parent,
                      int depth)
{
    const struct prop_val *intr = get(n, PROP_INTERRUPTS);
    const struct prop_val *args = get(n, PROP_BOOTARGS);
    const struct prop_val *status = get(n, PROP_STATUS);
    const struct prop_val *type = get(n, PROP_DEVICE_TYPE);
    unsigned int compat;
    uint64_t addr, size;

    if (status->data && !prop_is(status, "okay") && !prop_is(status, "ok"))
        return;
    if (depth == 1 && name_is(n->name, "chosen") && args->data &&
        strnlen((const char *)args->data, args->len) < args->len)
        platform.bootargs = (const char *)args->data;
    if (prop_is(type, "memory"))
        for (unsigned i = 0; reg_entry(n, parent, i, &addr, &size) == 0; i++)
            platform.ram_bytes += size;
    if (depth == 2 && prop_is(type, "cpu") && name_is(parent->name, "cpus"))
        add_cpu(n, parent);
    compat = compat_mask(get(n, PROP_COMPATIBLE));
    if (!compat)
        return;
    if (!pr->uart_found && (compat & (1u << COMPAT_UART))) {
        pr->uart_found = true;
        reg_port(n, parent, "uart", &platform.uart_port);
        if (intr->len >= 4 && fdt_read_cells(intr->data, 1) < 16)
            platform.uart_irq = (uint8_t)fdt_read_cells(intr->data, 1);
        else
            note("device tree: uart: bad interrupts, using IRQ %u\n", platform.uart_irq);
    } else if (!pr->ioapic_found && (compat & (1u << COMPAT_IOAPIC))) {
        pr->ioapic_found = true;
        if (reg_entry(n, parent, 0, &addr, &size) == 0 && addr >= MEMMAP_HOLE_START &&
            addr < MEMMAP_HOLE_END - MEMMAP_IOAPIC_SIZE && addr % 16 == 0)
            platform.ioapic_base = addr;
        else
            note("device tree: ioapic: bad reg, using 0x%llx\n",
                 (unsigned long long)platform.ioapic_base);
    } else if (!pr->exit_found && (compat & (1u << COMPAT_EXIT))) {
        pr->exit_found = true;
        reg_port(n, parent, "exit port", &platform.exit_port);
    }
}

/*
 * One pass over the tokens. A node is used when it closes: by then all its properties have
 * been seen, and its ancestors (with the cell sizes its reg needs) are still on the stack.
 */
static void probe_fdt(const struct fdt *fdt)
{
    struct node stack[SCAN_DEPTH];
    struct probe pr = {0};
    struct fdt_token tok;
    int depth = -1, off = 0, r;

    /* A new generation invalidates kind_cache; generation 0 never matches (bss is zero). */
    if (++kind_gen == 0) {
        memset(kind_cache, 0, sizeof(kind_cache));
        kind_gen = 1;
    }

    while ((r = fdt_next_token(fdt, &off, &tok)) > 0) {
        struct node *n = depth >= 0 && depth < SCAN_DEPTH ? &stack[depth] : NULL;

        switch (tok.type) {
        case FDT_TOKEN_BEGIN_NODE:
            if (++depth < SCAN_DEPTH) {
                n = &stack[depth];
                n->seen = 0;
                n->name = tok.name;
                n->ac = 2; /* DTSpec 2.3.5 defaults */
                n->sc = 1;
            }
            break;
        case FDT_TOKEN_PROP: {
            enum prop_kind k;

            if (!n)
                break;
            k = prop_kind(fdt, tok.nameoff);
            n->seen |= 1u << k;
            n->prop[k].data = tok.data;
            n->prop[k].len = tok.len;
            if (k == PROP_ADDRESS_CELLS && tok.len == 4)
                n->ac = (unsigned)fdt_read_cells(tok.data, 1);
            else if (k == PROP_SIZE_CELLS && tok.len == 4)
                n->sc = (unsigned)fdt_read_cells(tok.data, 1);
            break;
        }
        case FDT_TOKEN_END_NODE:
            if (n && depth > 0)
                node_done(&pr, n, &stack[depth - 1], depth);
            depth--;
            break;
        }
        if (depth < 0)
            break; /* the root closed */
    }
    if (r < 0)
        note("device tree: malformed structure block, the rest ignored\n");
    if (!pr.uart_found)
        note("device tree: no %s node, using COM1\n", MINIVMM_FDT_COMPAT_UART);
    if (!pr.ioapic_found)
        note("device tree: no %s node, using 0x%x\n", MINIVMM_FDT_COMPAT_IOAPIC,
             MEMMAP_IOAPIC_BASE);
    if (!pr.exit_found)
        note("device tree: no %s node, using port 0x%x\n", MINIVMM_FDT_COMPAT_EXIT,
             MINIVMM_EXIT_PORT);
}

void platform_probe(const void *blob, uint64_t size)
{
    struct fdt fdt;

    notes_len = 0;
    platform.have_fdt = false;
    platform.nr_cpus = 0;
    platform.bootargs = NULL;
    platform.ram_bytes = 0;
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
