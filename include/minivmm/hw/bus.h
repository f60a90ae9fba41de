/*
 * bus.h: the PIO and MMIO buses between the vCPU loop and the device models.
 *
 * Devices claim [base, base+size) ranges in one of two address spaces before any vCPU starts;
 * overlapping claims are refused. After start-up the bus is read-only, so dispatch takes no
 * lock; each device serialises its own state. The vCPU loop knows no device by name.
 * Register names (struct bus_reg) feed the exit log's bus map and the exit summaries.
 */
#ifndef MINIVMM_BUS_H
#define MINIVMM_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bus_space { BUS_PIO = 0, BUS_MMIO = 1 };

#define BUS_MAX_DEVS 32
#define BUS_NAME_MAX 24

/* A named register: offset from the device base, and its names for reads and writes
 * (NULL when that direction has no register, e.g. a write-only port). */
struct bus_reg {
    uint32_t off;
    const char *rd;
    const char *wr;
};

/* Device callbacks. `vcpu` is the index of the vCPU making the access. `len` is 1, 2, 4 or 8.
 * A read fills data[0..len); bytes it leaves alone read as 0xff. */
struct bus_dev_ops {
    void (*read)(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len);
    void (*write)(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data, unsigned len);
};

struct bus_dev {
    const char *name; /* short, e.g. "serial"; at most BUS_NAME_MAX-1 chars */
    enum bus_space space;
    uint64_t base;
    uint64_t size;
    const struct bus_dev_ops *ops;
    void *opaque;
    const struct bus_reg *regs; /* may be NULL */
    unsigned nregs;
};

struct bus {
    struct bus_dev devs[BUS_MAX_DEVS];
    unsigned ndevs;
};

void bus_init(struct bus *bus);
/* 0, or -EINVAL (empty/wrapping range, bad name, no ops), -EEXIST (overlap), -ENOSPC. */
int bus_register(struct bus *bus, const struct bus_dev *dev);
/* The device whose range holds all of [addr, addr+len), or NULL. */
const struct bus_dev *bus_find(const struct bus *bus, enum bus_space space, uint64_t addr,
                               unsigned len);
/* Dispatch one access. Returns the device index, or -ENOENT when no device claims the whole
 * access: then a read returns all-ones and a write is ignored (the caller logs it). */
int bus_access(const struct bus *bus, enum bus_space space, unsigned vcpu, uint64_t addr,
               uint8_t *data, unsigned len, bool is_write);
/* The register name at `off` for that direction, or NULL. */
const char *bus_reg_name(const struct bus_dev *dev, uint64_t off, bool is_write);

#endif
