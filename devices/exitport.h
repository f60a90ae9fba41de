/*
 * exitport.h: the guest's exit port (MINIVMM_EXIT_PORT, 0x501, abi.h).
 *
 * The guest writes one status byte; the VMM's on_exit callback decides what stopping means
 * (vm_stop with that status). The VMM fills the struct and registers exitport_bus_ops on the
 * port with the struct as opaque. Stateless here, so no lock: on_exit must be thread-safe
 * (any vCPU may write the port).
 */
#ifndef MINIVMM_EXITPORT_H
#define MINIVMM_EXITPORT_H

#include <stdint.h>

#include "minivmm/hw/bus.h"

struct exitport {
    void (*on_exit)(void *opaque, unsigned vcpu, uint8_t status); /* NULL: writes ignored */
    void *opaque;
};

/* A write of any width at offset 0: its low byte is the status (QEMU's isa-debug-exit also
 * takes the written value; minivmm exits with it unchanged, see abi.h). Writes at other
 * offsets of a wider registration are ignored; reads return all-ones. */
extern const struct bus_dev_ops exitport_bus_ops;
extern const struct bus_reg exitport_regs[];
extern const unsigned exitport_nregs;

#endif
