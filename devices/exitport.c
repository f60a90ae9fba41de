/*
 * exitport.c: the exit port: a status byte written by the guest ends the VM.
 *
 * The port has no state and no side effect other than the callback; the VMM's callback
 * makes the first status win (vm_stop), so a guest writing twice, or from two vCPUs at once,
 * is the VMM's to arbitrate.
 */
#include <string.h>

#include "exitport.h"
#include "minivmm/util.h"

static void exitport_read(void *opaque, unsigned vcpu, uint64_t off, uint8_t *data, unsigned len)
{
    (void)opaque;
    (void)vcpu;
    (void)off;
    memset(data, 0xff, len);
}

static void exitport_write(void *opaque, unsigned vcpu, uint64_t off, const uint8_t *data,
                           unsigned len)
{
    const struct exitport *p = opaque;
    if (off != 0 || len == 0 || !p->on_exit)
        return;
    p->on_exit(p->opaque, vcpu, data[0]); /* little-endian: data[0] is the low byte */
}

const struct bus_dev_ops exitport_bus_ops = {
    .read = exitport_read,
    .write = exitport_write,
};

const struct bus_reg exitport_regs[] = {
    {0, NULL, "STATUS"},
};
const unsigned exitport_nregs = ARRAY_SIZE(exitport_regs);
