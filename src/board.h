/*
 * board.h: the rows of the machine description (machine.h) for the devices the VMM itself
 * places: the ones every VM has (COM1's 16550A, the exit and phase ports, the IOAPIC, the
 * CMOS RTC, the i8042 and the ACPI PM registers) and the
 * bench device of `minivmm bench exits`. The NICs add their own rows (nic.c).
 */
#ifndef MINIVMM_BOARD_H
#define MINIVMM_BOARD_H

#include <stddef.h>

#include "machine.h"

struct serial16550;
struct exitport;
struct phaseport;
struct ioapic;
struct benchdev;
struct rtc_cmos;
struct i8042;
struct acpi_pm;

struct board_devs {
    struct serial16550 *uart;
    struct exitport *exitp;
    struct phaseport *phasep;
    struct ioapic *ioapic; /* NULL: KVM's own (--irqchip=kernel), described but not on our bus */
    struct rtc_cmos *rtc;
    struct i8042 *i8042;
    struct acpi_pm *pm;    /* the ACPI sleep and reset registers */
};

/* Adds the fixed devices' rows (and registers them on the machine's bus): 0 or -errno with
 * one line in err. */
int board_add(struct machine *m, const struct board_devs *b, char *err, size_t errlen);
/* Adds the bench device's PIO and MMIO windows (not described to the guest: it knows them
 * from abi.h and memmap.h). */
int board_add_bench(struct machine *m, struct benchdev *d, char *err, size_t errlen);

#endif
