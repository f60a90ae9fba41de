/*
 * acpi_pm.c: the ACPI PM device (acpi_pm.h, registers in abi.h).
 *
 * Hardware-reduced ACPI has no PM1 blocks: the OS enters a sleep state by writing SLP_TYP and
 * SLP_EN to the sleep control register and watches WAK_STS in the sleep status register
 * (ACPI 6.5 §4.8.3.7, §16.1.7), and resets by writing RESET_VALUE to the reset register
 * (§4.8.3.6). Only S5 (soft off) is offered, so WAK_STS never sets; the guest may still clear
 * it before sleeping, as Linux's acpi_hw_extended_sleep() does.
 */
#include <string.h>

#include "acpi_pm.h"
#include "minivmm/abi.h"
#include "minivmm/util.h"

static void acpi_pm_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    struct acpi_pm *pm = opaque;
    (void)vcpu;
    memset(data, 0, len);
    if (off == MINIVMM_ACPI_PM_SLEEP_STATUS)
        data[0] = __atomic_load_n(&pm->sleep_status, __ATOMIC_RELAXED);
}

static void acpi_pm_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                          unsigned len)
{
    struct acpi_pm *pm = opaque;
    uint8_t v = data[0]; /* little-endian: data[0] is the low byte */

    if (len == 0)
        return;
    switch (off) {
    case MINIVMM_ACPI_PM_SLEEP_CONTROL:
        if ((v & MINIVMM_ACPI_PM_SLP_EN) &&
            ((v & MINIVMM_ACPI_PM_SLP_TYP_MASK) >> MINIVMM_ACPI_PM_SLP_TYP_SHIFT) ==
                MINIVMM_ACPI_PM_SLP_TYP_S5 &&
            pm->on_power_off)
            pm->on_power_off(pm->opaque, vcpu);
        break;
    case MINIVMM_ACPI_PM_SLEEP_STATUS: /* write 1 to clear */
        __atomic_and_fetch(&pm->sleep_status, (uint8_t)~v, __ATOMIC_RELAXED);
        break;
    case MINIVMM_ACPI_PM_RESET:
        if (v == MINIVMM_ACPI_PM_RESET_VALUE && pm->on_reset)
            pm->on_reset(pm->opaque, vcpu);
        break;
    default:
        break;
    }
}

const struct bus_dev_ops acpi_pm_bus_ops = {
    .read = acpi_pm_read,
    .write = acpi_pm_write,
};

const struct bus_reg acpi_pm_regs[] = {
    {MINIVMM_ACPI_PM_SLEEP_CONTROL, "SLEEP_CTL", "SLEEP_CTL"},
    {MINIVMM_ACPI_PM_SLEEP_STATUS, "SLEEP_STS", "SLEEP_STS"},
    {MINIVMM_ACPI_PM_RESET, "RESET", "RESET"},
};
const unsigned acpi_pm_nregs = ARRAY_SIZE(acpi_pm_regs);
