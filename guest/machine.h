/*
 * machine.h: talking to the VMM: boot-phase markers and the exit port (see abi.h).
 */
#ifndef GUEST_MACHINE_H
#define GUEST_MACHINE_H

#include <stdint.h>

#include "kernel.h"

/* Record boot phase MINIVMM_PHASE_* on the phase port. */
void machine_phase(uint8_t phase);
/* Send exit-port writes to this port from now on (default MINIVMM_EXIT_PORT). */
void machine_set_exit_port(uint16_t port);
/* Phase DONE, then `status` to the exit port; halts forever if the VMM carries on. */
void machine_exit(uint8_t status) __noreturn;
/* cli; hlt forever on this CPU. */
void machine_halt(void) __noreturn;

#endif
