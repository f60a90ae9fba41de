/*
 * iocmd.c: serial.tx, a payload pushed through the 16550 for `minivmm bench io`, and the
 * payload checksum (iosum) that serial.tx and net.tx print and the VMM's sink computes too.
 *
 *   serial.tx  io.bytes bytes (default 65536) written to the UART in io.chunk-byte chunks
 *              (default 1514, at most 4096), each chunk by uart_write's `rep outsb` to THR
 *              in FIFO-sized bursts (one LSR read per burst, one exit per byte on our hosts).
 *
 * The console shows "serial.tx: payload-start", then exactly io.bytes printable bytes
 * (0x21-0x7e: no space, no control character, so the first CR or LF ends the payload), then a
 * new line and "serial.tx: B bytes in chunks of F in U us, sum 0x...". The xfer-start and
 * xfer-done phase markers bracket the payload alone.
 */
#include "iocmd.h"

#include <minivmm/abi.h>

#include "console.h"
#include "kernel.h"
#include "machine.h"
#include "tsc.h"
#include "uart.h"
#include "x86.h"

#define CHUNK_MAX 4096

static uint8_t chunk_buf[CHUNK_MAX];

void iosum_of(struct iosum *s, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    uint32_t s1 = 0, s2 = 0;

    for (size_t i = 0; i < n; i++) {
        s1 += p[i];
        s2 += s1;
    }
    s->s1 = s1;
    s->s2 = s2;
    s->len = n;
}

void iosum_cat(struct iosum *a, const struct iosum *b)
{
    /* Each of b's running s1 values grows by a->s1: b->len times. */
    a->s2 += b->s2 + (uint32_t)b->len * a->s1;
    a->s1 += b->s1;
    a->len += b->len;
}

int cmd_serial_tx(const struct cmdline *cl)
{
    uint64_t bytes = cmdline_param_u64(cl, "io.bytes", 65536);
    uint64_t chunk = cmdline_param_u64(cl, "io.chunk", 1514);
    struct iosum total = {0}, whole, tail;
    uint64_t t0, t1, left;

    if (chunk < 1 || chunk > CHUNK_MAX) {
        kprintf("serial.tx: io.chunk=%llu outside 1-%d\n", (unsigned long long)chunk, CHUNK_MAX);
        return MINIVMM_STATUS_FAIL;
    }
    /* Built and summed once before the clock: the loop below only writes. */
    for (uint64_t i = 0; i < chunk; i++)
        chunk_buf[i] = (uint8_t)(0x21 + i % 94);
    iosum_of(&whole, chunk_buf, (size_t)chunk);
    iosum_of(&tail, chunk_buf, (size_t)(bytes % chunk));
    for (uint64_t i = 0; i < bytes / chunk; i++)
        iosum_cat(&total, &whole);
    iosum_cat(&total, &tail);

    kprintf("serial.tx: payload-start\n");
    console_lock();
    machine_phase(MINIVMM_PHASE_XFER_START);
    t0 = rdtsc();
    for (left = bytes; left;) {
        size_t n = (size_t)(left < chunk ? left : chunk);

        uart_write((const char *)chunk_buf, n);
        left -= n;
    }
    t1 = rdtsc();
    machine_phase(MINIVMM_PHASE_XFER_DONE);
    console_unlock();
    kprintf("\nserial.tx: %llu bytes in chunks of %llu in %llu us, sum 0x%016llx\n",
            (unsigned long long)bytes, (unsigned long long)chunk,
            (unsigned long long)((t1 - t0) * 1000000 / tsc_hz()),
            (unsigned long long)iosum_value(&total));
    return MINIVMM_STATUS_OK;
}
