/*
 * iocmd.h: serial.tx (abi.h MINIVMM_GUEST_COMMANDS) and the payload checksum it shares with
 * net.tx; `minivmm bench io` (src/benchio.c) checks the same sum at the far end.
 */
#ifndef GUEST_IOCMD_H
#define GUEST_IOCMD_H

#include <stddef.h>
#include <stdint.h>

#include "cmdline.h"

/* Fletcher-style sums mod 2^32 over a byte stream; composable, so a buffer sent N times costs
 * one pass over its bytes, not N (every guest instruction is emulated on our hosts). */
struct iosum {
    uint32_t s1, s2;
    uint64_t len;
};

/* The sums of buf[0..n). */
void iosum_of(struct iosum *s, const void *buf, size_t n);
/* a := a followed by b. */
void iosum_cat(struct iosum *a, const struct iosum *b);
/* The printed form: s2 in the high half, s1 in the low half. */
static inline uint64_t iosum_value(const struct iosum *s)
{
    return ((uint64_t)s->s2 << 32) | s->s1;
}

int cmd_serial_tx(const struct cmdline *cl);

#endif
