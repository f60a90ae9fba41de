/*
 * phaseport.c: the boot-phase port: the guest's progress markers (abi.h MINIVMM_PHASE_*).
 *
 * Hazard: port 0x80 is where PC code traditionally writes to waste an I/O cycle
 * (outb_p/io_delay in Linux); such writes arrive here too, as ordinary codes.
 */
#include <string.h>

#include "phaseport.h"
#include "minivmm/util.h"

static void phaseport_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    (void)opaque;
    (void)vcpu;
    (void)off;
    memset(data, 0xff, len);
}

static void phaseport_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                            unsigned len)
{
    const struct phaseport *p = opaque;
    if (off != 0 || len == 0 || !p->on_phase)
        return;
    p->on_phase(p->opaque, vcpu, data[0]); /* little-endian: data[0] is the low byte */
}

const struct bus_dev_ops phaseport_bus_ops = {
    .read = phaseport_read,
    .write = phaseport_write,
};

const struct bus_reg phaseport_regs[] = {
    {0, NULL, "PHASE"},
};
const unsigned phaseport_nregs = ARRAY_SIZE(phaseport_regs);
