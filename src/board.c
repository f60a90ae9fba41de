/*
 * board.c: the rows of the devices the VMM places itself (board.h).
 */
#include <libfdt.h>

#include "acpi_pm.h"
#include "benchdev.h"
#include "board.h"
#include "exitport.h"
#include "i8042.h"
#include "ioapic.h"
#include "minivmm/abi.h"
#include "minivmm/memmap.h"
#include "minivmm/uart16550.h"
#include "minivmm/util.h"
#include "phaseport.h"
#include "rtc_cmos.h"
#include "serial16550.h"

/* Linux's of_serial refuses a UART without clock-frequency. */
static int uart_fdt_props(void *fdt, const struct machine_dev *d)
{
    (void)d;
    return fdt_property_u32(fdt, "clock-frequency", UART_CLOCK_HZ);
}

int board_add(struct machine *m, const struct board_devs *b, char *err, size_t errlen)
{
    const struct machine_dev rows[] = {
        {.bus = {"serial", BUS_PIO, UART_COM1_BASE, 8, &serial16550_bus_ops, b->uart,
                 serial16550_regs, serial16550_nregs},
         .kind = MACHINE_ISA,
         .compat = MINIVMM_FDT_COMPAT_UART,
         .irq = UART_COM1_IRQ,
         .stdout_path = true,
         .acpi_hid = "PNP0501",
         .acpi_name = "COM1",
         .fdt_props = uart_fdt_props},
        {.bus = {"exit", BUS_PIO, MINIVMM_EXIT_PORT, 1, &exitport_bus_ops, b->exitp, exitport_regs,
                 exitport_nregs},
         .kind = MACHINE_ISA,
         .node = "exit-port",
         .compat = MINIVMM_FDT_COMPAT_EXIT,
         .irq = -1},
        {.bus = {"phase", BUS_PIO, MINIVMM_PHASE_PORT, 1, &phaseport_bus_ops, b->phasep,
                 phaseport_regs, phaseport_nregs},
         .kind = MACHINE_ISA,
         .node = "phase-port",
         .compat = MINIVMM_FDT_COMPAT_PHASE,
         .irq = -1},
        /* With KVM's full irqchip the IOAPIC lives in KVM: described, not on our bus. */
        {.bus = {"ioapic", BUS_MMIO, MEMMAP_IOAPIC_BASE, MEMMAP_IOAPIC_SIZE,
                 b->ioapic ? &ioapic_bus_ops : NULL, b->ioapic, ioapic_regs, ioapic_nregs},
         .kind = MACHINE_IOAPIC,
         .compat = MINIVMM_FDT_COMPAT_IOAPIC,
         .irq = -1},
        /* IRQ 8 is described (Linux's rtc-cmos and the DSDT expect it) but never raised: the
         * model has no interrupts (rtc_cmos.h). */
        {.bus = {"rtc", BUS_PIO, RTC_CMOS_PORT, 2, &rtc_cmos_bus_ops, b->rtc, rtc_cmos_regs,
                 rtc_cmos_nregs},
         .kind = MACHINE_ISA,
         .compat = "motorola,mc146818",
         .irq = RTC_CMOS_IRQ,
         .acpi_hid = "PNP0B00",
         .acpi_name = "RTC_"},
        /* Linux probes the i8042 at its fixed ports whether or not it is described, and its
         * reboot uses it: on the bus, not in the device tree or the DSDT (i8042.h). */
        {.bus = {"i8042", BUS_PIO, I8042_DATA_PORT, 1, &i8042_bus_ops_data, b->i8042,
                 i8042_data_regs, i8042_data_nregs},
         .kind = MACHINE_HIDDEN,
         .irq = -1},
        {.bus = {"i8042", BUS_PIO, I8042_STATUS_PORT, 1, &i8042_bus_ops_status, b->i8042,
                 i8042_status_regs, i8042_status_nregs},
         .kind = MACHINE_HIDDEN,
         .irq = -1},
        /* Described by the FADT, not the device tree (acpi.c). */
        {.bus = {"acpi-pm", BUS_PIO, MINIVMM_ACPI_PM_PORT, MINIVMM_ACPI_PM_PORT_SIZE,
                 &acpi_pm_bus_ops, b->pm, acpi_pm_regs, acpi_pm_nregs},
         .kind = MACHINE_ACPI_PM,
         .irq = -1},
    };
    return machine_add_all(m, rows, ARRAY_SIZE(rows), err, errlen);
}

int board_add_bench(struct machine *m, struct benchdev *d, char *err, size_t errlen)
{
    const struct machine_dev rows[] = {
        {.bus = {"bench", BUS_PIO, MINIVMM_BENCH_PORT, MINIVMM_BENCH_PORT_SIZE, &benchdev_bus_ops,
                 d, benchdev_regs, benchdev_nregs},
         .kind = MACHINE_HIDDEN,
         .irq = -1},
        {.bus = {"bench", BUS_MMIO, MEMMAP_BENCH_BASE, MEMMAP_BENCH_SIZE, &benchdev_bus_ops, d,
                 benchdev_regs, benchdev_nregs},
         .kind = MACHINE_HIDDEN,
         .irq = -1},
    };
    return machine_add_all(m, rows, ARRAY_SIZE(rows), err, errlen);
}
