/*
 * machine.c: the machine's device table (machine.h), and what is generated from it besides
 * the device tree (fdt_build.c): the bus registrations and the guest command-line words.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "aml.h"
#include "machine.h"
#include "minivmm/errmsg.h"

void machine_init(struct machine *m, unsigned ncpus, const struct gmem *gm, struct bus *bus)
{
    memset(m, 0, sizeof(*m));
    m->ncpus = ncpus;
    m->gm = gm;
    m->bus = bus;
}

int machine_add(struct machine *m, const struct machine_dev *d, char *err, size_t errlen)
{
    const char *name = d->bus.name ? d->bus.name : "?";

    if (m->ndevs >= MACHINE_MAX_DEVS)
        return errmsg_fail(err, errlen, -ENOSPC, "machine: more than %d devices at %s",
                           MACHINE_MAX_DEVS, name);
    if (!d->bus.name || d->bus.size == 0 ||
        (d->kind != MACHINE_HIDDEN && d->kind != MACHINE_ACPI_PM && !d->compat) ||
        (d->acpi_hid && !aml_valid_nameseg(d->acpi_name)) ||
        ((d->kind == MACHINE_ISA || d->kind == MACHINE_ACPI_PM) && d->bus.space != BUS_PIO) ||
        ((d->kind == MACHINE_IOAPIC || d->kind == MACHINE_VIRTIO_MMIO) &&
         d->bus.space != BUS_MMIO) ||
        (d->kind == MACHINE_VIRTIO_MMIO && (d->bus.size & 0x3ff || d->irq < 0)))
        return errmsg_fail(err, errlen, -EINVAL, "machine: bad description of device %s", name);
    if (m->bus && d->bus.ops) {
        int ret = bus_register(m->bus, &d->bus);
        if (ret)
            return errmsg_fail(err, errlen, ret, "bus: cannot register %s at 0x%" PRIx64 ": %s",
                               name, d->bus.base, strerror(-ret));
    }
    m->devs[m->ndevs++] = *d;
    return 0;
}

int machine_add_all(struct machine *m, const struct machine_dev *rows, size_t n, char *err,
                    size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        int ret = machine_add(m, &rows[i], err, errlen);
        if (ret)
            return ret;
    }
    return 0;
}

int machine_cmdline(const struct machine *m, char *bootargs, size_t size)
{
    size_t len = strlen(bootargs), at = len;

    for (unsigned i = 0; i < m->ndevs; i++) {
        const struct machine_dev *d = &m->devs[i];
        if (d->kind != MACHINE_VIRTIO_MMIO)
            continue;
        int r =
            snprintf(bootargs + at, size - at, "%svirtio_mmio.device=%" PRIu64 "K@0x%" PRIx64 ":%d",
                     at ? " " : "", d->bus.size >> 10, d->bus.base, d->irq);
        if (r < 0 || (size_t)r >= size - at) {
            bootargs[len] = '\0';
            return -E2BIG;
        }
        at += (size_t)r;
    }
    return 0;
}
