/*
 * bus.c: PIO and MMIO address decoding between the vCPU loop and the devices.
 *
 * Registration happens during bring-up on the main thread; afterwards the table is only read,
 * by every vCPU thread at once, so lookups take no lock. A dozen devices at most: a linear
 * scan costs less than one cache miss of a fancier structure.
 */
#include <errno.h>
#include <string.h>

#include "minivmm/hw/bus.h"

void bus_init(struct bus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    /* Both ranges are non-empty and do not wrap (checked at registration). */
    return a < b + blen && b < a + alen;
}

int bus_register(struct bus *bus, const struct bus_dev *dev)
{
    if (!dev->name || !dev->name[0] || strlen(dev->name) >= BUS_NAME_MAX || !dev->ops ||
        dev->size == 0 || dev->base + dev->size < dev->base ||
        (dev->space != BUS_PIO && dev->space != BUS_MMIO))
        return -EINVAL;
    if (dev->space == BUS_PIO && dev->base + dev->size > 0x10000)
        return -EINVAL;
    if (dev->nregs && !dev->regs)
        return -EINVAL;
    for (unsigned i = 0; i < bus->ndevs; i++) {
        const struct bus_dev *d = &bus->devs[i];
        if (d->space == dev->space && ranges_overlap(d->base, d->size, dev->base, dev->size))
            return -EEXIST;
    }
    if (bus->ndevs == BUS_MAX_DEVS)
        return -ENOSPC;
    bus->devs[bus->ndevs++] = *dev;
    return 0;
}

static int bus_find_index(const struct bus *bus, enum bus_space space, uint64_t addr,
                          unsigned len)
{
    if (len == 0 || addr + len < addr)
        return -1;
    for (unsigned i = 0; i < bus->ndevs; i++) {
        const struct bus_dev *d = &bus->devs[i];
        if (d->space == space && addr >= d->base && addr - d->base < d->size &&
            len <= d->size - (addr - d->base))
            return (int)i;
    }
    return -1;
}

const struct bus_dev *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr,
                               unsigned len)
{
    int i = bus_find_index(bus, space, addr, len);
    return i < 0 ? NULL : &bus->devs[i];
}

int bus_access(const struct bus *bus, enum bus_space space, unsigned vcpu, uint64_t addr,
               uint8_t *data, unsigned len, bool is_write)
{
    int i = bus_find_index(bus, space, addr, len);
    if (i < 0) {
        if (!is_write)
            memset(data, 0xff, len);
        return -ENOENT;
    }
    const struct bus_dev *d = &bus->devs[i];
    if (is_write) {
        if (d->ops->write)
            d->ops->write(d->opaque, vcpu, addr - d->base, data, len);
    } else {
        memset(data, 0xff, len);
        if (d->ops->read)
            d->ops->read(d->opaque, vcpu, addr - d->base, data, len);
    }
    return i;
}

const char *bus_reg_name(const struct bus_dev *dev, uint64_t off, bool is_write)
{
    for (unsigned i = 0; i < dev->nregs; i++)
        if (dev->regs[i].off == off)
            return is_write ? dev->regs[i].wr : dev->regs[i].rd;
    return NULL;
}
