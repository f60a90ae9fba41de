/*
 * phaseport.h: the boot-phase port (MINIVMM_PHASE_PORT, 0x80, the PC POST-code port; abi.h).
 *
 * The guest writes one MINIVMM_PHASE_* byte as it passes each boot phase; the VMM's on_phase
 * callback records it as a marker in the exit log. The VMM fills the struct and registers
 * phaseport_bus_ops on the port with the struct as opaque. Stateless here, so no lock:
 * on_phase must be thread-safe (any vCPU may write the port).
 */
#ifndef MINIVMM_PHASEPORT_H
#define MINIVMM_PHASEPORT_H

#include <stdint.h>

#include "minivmm/hw/bus.h"

struct phaseport {
    void (*on_phase)(void *opaque, unsigned vcpu, uint8_t code); /* NULL: writes ignored */
    void *opaque;
};

/* A write of any width at offset 0: its low byte is the code, passed on unchecked (codes
 * above MINIVMM_PHASE_MAX are the callback's to judge; port 0x80 is also the classic I/O
 * delay port, so stray writes happen). Writes at other offsets of a wider registration are
 * ignored; reads return all-ones. */
extern const struct bus_dev_ops phaseport_bus_ops;
extern const struct bus_reg phaseport_regs[];
extern const unsigned phaseport_nregs;

#endif
