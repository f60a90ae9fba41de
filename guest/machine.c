/*
 * machine.c: the guest's side of minivmm's two control ports (abi.h): boot-phase markers
 * on MINIVMM_PHASE_PORT and the status byte on the exit port.
 *
 * Under QEMU the exit port is isa-debug-exit, which exits with (status << 1) | 1; port 0x80
 * writes are ignored there.
 */
#include "machine.h"

#include <minivmm/abi.h>

#include "x86.h"

static uint16_t exit_port = MINIVMM_EXIT_PORT;

void machine_phase(uint8_t phase)
{
    outb(MINIVMM_PHASE_PORT, phase);
}

void machine_set_exit_port(uint16_t port)
{
    exit_port = port;
}

void machine_halt(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" : : : "memory");
}

void machine_exit(uint8_t status)
{
    machine_phase(MINIVMM_PHASE_DONE);
    outb(exit_port, status);
    machine_halt();
}
