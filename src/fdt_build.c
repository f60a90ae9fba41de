/*
 * fdt_build.c: builds the device tree with libfdt's sequential-write API.
 *
 * x86 has no standard device-tree binding for a whole PC, so we follow the nearest ones:
 * the CE4100 IOAPIC binding ("intel,ce4100-ioapic", 2 interrupt cells), the ISA bus binding
 * for port-I/O devices (first address cell 1 = I/O space), ns16550a for the UART with
 * clock-frequency (Linux's of_serial refuses a UART without one).
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>

#include "fdt_build.h"
#include "minivmm/abi.h"
#include "minivmm/ioapic_regs.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"

#define PHANDLE_IOAPIC 1

#define TRY(x)                                                                                    \
    do {                                                                                          \
        int r_ = (x);                                                                             \
        if (r_ < 0)                                                                               \
            return r_ == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL;                                    \
    } while (0)

static int isa_node(void *fdt, const char *name, const char *compat, unsigned port,
                    unsigned size, int irq)
{
    char node[48];
    snprintf(node, sizeof(node), "%s@i%x", name, port);
    TRY(fdt_begin_node(fdt, node));
    TRY(fdt_property_string(fdt, "compatible", compat));
    uint32_t reg[3] = {cpu_to_fdt32(1), cpu_to_fdt32(port), cpu_to_fdt32(size)};
    TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
    if (irq >= 0) {
        /* CE4100 IOAPIC cells: pin, type. Linux's of_ioapic_type[3] is edge, active high,
         * as ISA interrupts are (type 0 would be edge, active low). */
        uint32_t intr[2] = {cpu_to_fdt32((uint32_t)irq), cpu_to_fdt32(3)};
        TRY(fdt_property(fdt, "interrupts", intr, sizeof(intr)));
        TRY(fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ));
    }
    TRY(fdt_end_node(fdt));
    return 0;
}

/* abi.h: /isa/ethernet@i300, edge-triggered active-high like every ISA interrupt. */
static int ne2000_node(void *fdt, const struct fdt_machine *m)
{
    char node[32];
    snprintf(node, sizeof(node), "ethernet@i%x", m->ne2000_port);
    TRY(fdt_begin_node(fdt, node));
    TRY(fdt_property_string(fdt, "compatible", MINIVMM_FDT_COMPAT_NE2000));
    uint32_t reg[3] = {cpu_to_fdt32(1), cpu_to_fdt32(m->ne2000_port),
                       cpu_to_fdt32(MINIVMM_NE2000_PORT_SIZE)};
    TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
    uint32_t intr[2] = {cpu_to_fdt32(m->ne2000_irq), cpu_to_fdt32(3)};
    TRY(fdt_property(fdt, "interrupts", intr, sizeof(intr)));
    TRY(fdt_property(fdt, "local-mac-address", m->ne2000_mac, 6));
    TRY(fdt_end_node(fdt));
    return 0;
}

/* abi.h: /pf@<base> with one virtio_mmio@<addr> child per VF, level-high IOAPIC pins. */
static int pf_node(void *fdt, const struct fdt_nic *nic)
{
    char name[48];
    uint64_t base = MEMMAP_VIRTIO_BASE + (uint64_t)nic->first * MEMMAP_VIRTIO_STRIDE;
    const char compat[] = MINIVMM_FDT_COMPAT_PF "\0simple-bus";

    if (nic->nvfs == 0 || nic->first + nic->nvfs > MEMMAP_VIRTIO_MAX)
        return -EINVAL;
    snprintf(name, sizeof(name), "pf@%llx", (unsigned long long)base);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 2));
    TRY(fdt_property(fdt, "ranges", NULL, 0));
    TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IOAPIC));
    for (unsigned k = 0; k < nic->nvfs; k++) {
        unsigned w = nic->first + k;
        uint64_t addr = MEMMAP_VIRTIO_BASE + (uint64_t)w * MEMMAP_VIRTIO_STRIDE;
        snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)addr);
        TRY(fdt_begin_node(fdt, name));
        TRY(fdt_property_string(fdt, "compatible", MINIVMM_FDT_COMPAT_VIRTIO));
        uint32_t reg[4] = {cpu_to_fdt32((uint32_t)(addr >> 32)), cpu_to_fdt32((uint32_t)addr), 0,
                           cpu_to_fdt32(MEMMAP_VIRTIO_STRIDE)};
        TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
        /* CE4100 IOAPIC cells: pin, type 1 = level, active high. */
        uint32_t intr[2] = {cpu_to_fdt32(MEMMAP_VIRTIO_IRQ_BASE + w), cpu_to_fdt32(1)};
        TRY(fdt_property(fdt, "interrupts", intr, sizeof(intr)));
        /* abi.h's n: the window's number across all NICs, as the VMM names the VF ("vf<n>"). */
        TRY(fdt_property_u32(fdt, MINIVMM_FDT_VF_INDEX, w));
        TRY(fdt_end_node(fdt));
    }
    TRY(fdt_end_node(fdt));
    return 0;
}

int fdt_build(void *buf, size_t bufsize, const struct fdt_machine *m)
{
    void *fdt = buf;
    char name[48];

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
    TRY(fdt_property_string(fdt, "bootargs", m->bootargs ? m->bootargs : ""));
    snprintf(name, sizeof(name), "/isa/serial@i%x", m->uart_port);
    TRY(fdt_property_string(fdt, "stdout-path", name));
    TRY(fdt_end_node(fdt));

    TRY(fdt_begin_node(fdt, "memory@0"));
    TRY(fdt_property_string(fdt, "device_type", "memory"));
    uint32_t reg[GMEM_MAX_REGIONS * 4];
    for (unsigned i = 0; i < m->gm->nregions; i++) {
        const struct gmem_region *r = &m->gm->regions[i];
        reg[i * 4 + 0] = cpu_to_fdt32((uint32_t)(r->gpa >> 32));
        reg[i * 4 + 1] = cpu_to_fdt32((uint32_t)r->gpa);
        reg[i * 4 + 2] = cpu_to_fdt32((uint32_t)(r->size >> 32));
        reg[i * 4 + 3] = cpu_to_fdt32((uint32_t)r->size);
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

    snprintf(name, sizeof(name), "ioapic@%x", MEMMAP_IOAPIC_BASE);
    TRY(fdt_begin_node(fdt, name));
    TRY(fdt_property_string(fdt, "compatible", MINIVMM_FDT_COMPAT_IOAPIC));
    uint32_t ioreg[4] = {0, cpu_to_fdt32(MEMMAP_IOAPIC_BASE), 0,
                         cpu_to_fdt32(MEMMAP_IOAPIC_SIZE)};
    TRY(fdt_property(fdt, "reg", ioreg, sizeof(ioreg)));
    TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
    TRY(fdt_property_u32(fdt, "#interrupt-cells", 2));
    TRY(fdt_property_u32(fdt, "phandle", PHANDLE_IOAPIC));
    TRY(fdt_end_node(fdt));

    TRY(fdt_begin_node(fdt, "isa"));
    TRY(fdt_property_string(fdt, "compatible", "isa"));
    TRY(fdt_property_u32(fdt, "#address-cells", 2));
    TRY(fdt_property_u32(fdt, "#size-cells", 1));
    TRY(fdt_property_u32(fdt, "interrupt-parent", PHANDLE_IOAPIC));
    int r = isa_node(fdt, "serial", MINIVMM_FDT_COMPAT_UART, m->uart_port, 8, (int)m->uart_irq);
    if (!r)
        r = isa_node(fdt, "exit-port", MINIVMM_FDT_COMPAT_EXIT, m->exit_port, 1, -1);
    if (!r)
        r = isa_node(fdt, "phase-port", MINIVMM_FDT_COMPAT_PHASE, m->phase_port, 1, -1);
    if (!r && m->ne2000)
        r = ne2000_node(fdt, m);
    if (r)
        return r; /* already -errno */
    TRY(fdt_end_node(fdt));

    if (m->nnics > MEMMAP_VIRTIO_MAX)
        return -EINVAL;
    for (unsigned i = 0; i < m->nnics; i++) {
        r = pf_node(fdt, &m->nics[i]);
        if (r)
            return r;
    }

    TRY(fdt_end_node(fdt));
    TRY(fdt_finish(fdt));

    return 0;
}
