/*
 * fdt_build.c: builds the device tree with libfdt's sequential-write API.
 *
 * The tree is generated from the machine's device table (machine.h): one node per row, by its
 * kind. x86 has no standard device-tree binding for a whole PC, so we follow the nearest ones:
 * the CE4100 IOAPIC binding ("intel,ce4100-ioapic", 2 interrupt cells), the ISA bus binding
 * for port-I/O devices (first address cell 1 = I/O space), ns16550a for the UART with
 * clock-frequency (Linux's of_serial refuses a UART without one; the UART's row adds it).
 */
#include <errno.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdbool.h>
#include <stdio.h>

#include "fdt_build.h"
#include "minivmm/abi.h"

#define PHANDLE_IOAPIC 1

#define TRY(x)                                                                                     \
    do {                                                                                           \
        int r_ = (x);                                                                              \
        if (r_ < 0)                                                                                \
            return r_ == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;                                     \
    } while (0)

/* CE4100 IOAPIC cells: pin, type (MACHINE_IRQ_*). A libfdt status, like fdt_props. */
static int interrupts(void *fdt, const struct machine_dev *d, unsigned dflt)
{
    if (d->irq < 0)
        return 0;
    uint32_t intr[2] = {cpu_to_fdt32((uint32_t)d->irq),
                        cpu_to_fdt32(d->trigger ? d->trigger : dflt)};
    return fdt_property(fdt, "interrupts", intr, sizeof(intr));
}

static const char *node_name(const struct machine_dev *d)
{
    return d->node ? d->node : d->bus.name;
}

/* /isa/<node>@i<port>: the ISA binding's first address cell 1 is I/O space; ISA interrupts
 * are edge-triggered, active high (Linux's of_ioapic_type[3]; type 0 would be active low). */
static int isa_node(void *fdt, const struct machine_dev *d)
{
    char node[48];
    snprintf(node, sizeof(node), "%s@i%" PRIx64, node_name(d), d->bus.base);
    TRY(fdt_begin_node(fdt, node));
    TRY(fdt_property_string(fdt, "compatible", d->compat));
    uint32_t reg[3] = {cpu_to_fdt32(1), cpu_to_fdt32((uint32_t)d->bus.base),
                       cpu_to_fdt32((uint32_t)d->bus.size)};
    TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
    TRY(interrupts(fdt, d, MACHINE_IRQ_EDGE_HIGH));
    if (d->fdt_props)
        TRY(d->fdt_props(fdt, d));
    TRY(fdt_end_node(fdt));
    return 0;
}

static int ioapic_node(void *fdt, const struct machine_dev *d)
{
    char name[48];
    snprintf(name, sizeof(name), "%s@%" PRIx64, node_name(d), d->bus.base);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "compatible", d->compat));
    uint32_t reg[4] = {cpu_to_fdt32((uint32_t)(d->bus.base >> 32)),
                       cpu_to_fdt32((uint32_t)d->bus.base), 0, cpu_to_fdt32((uint32_t)d->bus.size)};
    TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    TRY(fdt_property_u32(fdt, "#interrupt-cells", 2));
    TRY(fdt_property_u32(fdt, "phandle", PHANDLE_IOAPIC));
    if (d->fdt_props)
        TRY(d->fdt_props(fdt, d));
    TRY(fdt_end_node(fdt));
    return 0;
}

/* abi.h: /pf@<base of its first VF> with one virtio_mmio@<addr> child per VF of `group`,
 * level-high IOAPIC pins. */
static int pf_node(void *fdt, const struct machine *m, unsigned first)
{
    char name[48];
    const char compat[] = MINIVMM_FDT_COMPAT_PF "\0simple-bus";
    unsigned group = m->devs[first].group;

    snprintf(name, sizeof(name), "pf@%" PRIx64, m->devs[first].bus.base);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property(fdt, "ranges", NULL, 0));
    TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IOAPIC));
    for (unsigned i = first; i < m->ndevs; i++) {
        const struct machine_dev *d = &m->devs[i];
        if (d->kind != MACHINE_VIRTIO_MMIO || d->group != group)
            continue;
        uint64_t addr = d->bus.base;
        snprintf(name, sizeof(name), "%s@%" PRIx64, d->node ? d->node : "virtio_mmio", addr);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_string(fdt, "compatible", d->compat));
        uint32_t reg[4] = {cpu_to_fdt32((uint32_t)(addr >> 32)), cpu_to_fdt32((uint32_t)addr),
                           cpu_to_fdt32((uint32_t)(d->bus.size >> 32)),
                           cpu_to_fdt32((uint32_t)d->bus.size)};
        TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
        TRY(interrupts(fdt, d, MACHINE_IRQ_LEVEL_HIGH));
        if (d->fdt_props)
            TRY(d->fdt_props(fdt, d));
        TRY(fdt_end_node(fdt));
    }
    TRY(fdt_end_node(fdt));
    return 0;
}

/* Is row i the first virtio-mmio row of its group? */
static bool first_of_group(const struct machine *m, unsigned i)
{
    if (m->devs[i].kind != MACHINE_VIRTIO_MMIO)
        return false;
    for (unsigned j = 0; j < i; j++)
        if (m->devs[j].kind == MACHINE_VIRTIO_MMIO && m->devs[j].group == m->devs[i].group)
            return false;
    return true;
}

int fdt_build(void *buf, size_t bufsize, const struct machine *m, const char *bootargs)
{
    void *fdt = buf;
    char name[48];
    int r;

    if (m->ncpus == 0 || !m->gm || bufsize > INT32_MAX)
        return -EINVAL;
    TRY(fdt_create(fdt, (int)bufsize));
    TRY(fdt_finish_reservemap(fdt));
    TRY(fdt_begin_node(fdt, ""));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property_string(fdt, "compatible", "minivmm,pvh"));
    TRY(fdt_property_string(fdt, "model", "minivmm"));
    TRY(fdt_property_u32(fdt, "minivmm,abi-version", MINIVMM_ABI_VERSION));

    TRY(fdt_begin_node(fdt, "chosen"));
    TRY(fdt_property_string(fdt, "bootargs", bootargs ? bootargs : ""));
    for (unsigned i = 0; i < m->ndevs; i++) {
        const struct machine_dev *d = &m->devs[i];
        if (!d->stdout_path || d->kind != MACHINE_ISA)
            continue;
        snprintf(name, sizeof(name), "/isa/%s@i%" PRIx64, node_name(d), d->bus.base);
        TRY(fdt_property_string(fdt, "stdout-path", name));
        break;
    }
    TRY(fdt_end_node(fdt));

    TRY(fdt_begin_node(fdt, "memory@0"));
    TRY(fdt_property_string(fdt, "device_type", "memory"));
    uint32_t reg[GMEM_MAX_REGIONS * 4];
    for (unsigned i = 0; i < m->gm->nregions; i++) {
        const struct gmem_region *rg = &m->gm->regions[i];
        reg[i * 4 + 0] = cpu_to_fdt32((uint32_t)(rg->gpa >> 32));
        reg[i * 4 + 1] = cpu_to_fdt32((uint32_t)rg->gpa);
        reg[i * 4 + 2] = cpu_to_fdt32((uint32_t)(rg->size >> 32));
        reg[i * 4 + 3] = cpu_to_fdt32((uint32_t)rg->size);
    }
    TRY(fdt_property(fdt, "reg", reg, (int)(m->gm->nregions * 4 * sizeof(uint32_t))));
    TRY(fdt_end_node(fdt));

    TRY(fdt_begin_node(fdt, "cpus"));
    TRY(fdt_property_u32(fdt, "#address-cells", 1));
    TRY(fdt_property_u32(fdt, "#size-cells", 0));
    for (unsigned i = 0; i < m->ncpus; i++) {
        snprintf(name, sizeof(name), "cpu@%x", i);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_string(fdt, "device_type", "cpu"));
        TRY(fdt_property_u32(fdt, "reg", i)); /* APIC ID */
        TRY(fdt_property_string(fdt, "enable-method", "x86,init-sipi"));
        TRY(fdt_end_node(fdt));
    }
    TRY(fdt_end_node(fdt));

    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].kind == MACHINE_IOAPIC && (r = ioapic_node(fdt, &m->devs[i])) != 0)
            return r;

    TRY(fdt_begin_node(fdt, "isa"));
    TRY(fdt_property_string(fdt, "compatible", "isa"));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 1));
    TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IOAPIC));
    for (unsigned i = 0; i < m->ndevs; i++)
        if (m->devs[i].kind == MACHINE_ISA && (r = isa_node(fdt, &m->devs[i])) != 0)
            return r;
    TRY(fdt_end_node(fdt));

    for (unsigned i = 0; i < m->ndevs; i++)
        if (first_of_group(m, i) && (r = pf_node(fdt, m, i)) != 0)
            return r;

    TRY(fdt_end_node(fdt));
    TRY(fdt_finish(fdt));

    return 0;
}
