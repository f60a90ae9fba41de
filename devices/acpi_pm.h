/*
 * acpi_pm.h: the ACPI PM device: hardware-reduced ACPI's sleep control, sleep status and reset
 * registers (MINIVMM_ACPI_PM_PORT, abi.h), through which a guest powers off or resets.
 *
 * The FADT points its SLEEP_CONTROL_REG, SLEEP_STATUS_REG and RESET_REG at these ports and the
 * DSDT's \_S5 gives MINIVMM_ACPI_PM_SLP_TYP_S5 (src/acpi.c). The VMM fills the struct and
 * registers acpi_pm_bus_ops on the ports with the struct as opaque; the callbacks decide what
 * power-off and reset mean (vm_power) and must be thread-safe (any vCPU may write).
 */
#ifndef MINIVMM_ACPI_PM_H
#define MINIVMM_ACPI_PM_H

#include <stdint.h>

#include "minivmm/hw/bus.h"

struct acpi_pm {
    void (*on_power_off)(void *opaque, unsigned vcpu); /* NULL: S5 requests ignored */
    void (*on_reset)(void *opaque, unsigned vcpu);     /* NULL: resets ignored */
    void *opaque;
    uint8_t sleep_status; /* WAK_STS; accessed atomically */
};

/* Byte registers; a wider access reaches the register at its first byte only (the FADT
 * describes them as 8-bit, ACPI 6.5 §4.8.3.7). */
extern const struct bus_dev_ops acpi_pm_bus_ops;
extern const struct bus_reg acpi_pm_regs[];
extern const unsigned acpi_pm_nregs;

#endif
