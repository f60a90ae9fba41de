/*
 * serial16550.h: a 16550A UART (National PC16550D data sheet) for the guest console.
 *
 * The VMM embeds a struct serial16550, registers serial16550_bus_ops on 8 PIO ports (COM1 at
 * 0x3f8) and wires `irq` to the UART's interrupt pin. Guest writes to THR go straight to the
 * tx callback; host input enters through serial16550_receive(), which takes no more than the
 * RX FIFO has room for, so nothing is dropped: a feeder waits with serial16550_wait_room().
 *
 * Locking: every entry point takes `lock`. tx() and the irq line are called with it held, so
 * output order is THR write order; neither may call back into this UART (lock order: UART,
 * then whatever sits behind the irq line, e.g. the IOAPIC).
 */
#ifndef MINIVMM_SERIAL16550_H
#define MINIVMM_SERIAL16550_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minivmm/hw/bus.h"
#include "minivmm/hw/irq.h"
#include "minivmm/uart16550.h"

struct serial16550 {
    pthread_mutex_t lock;
    pthread_cond_t room; /* broadcast when the RX FIFO gains room (CLOCK_MONOTONIC) */

    uint8_t ier; /* low 4 bits */
    uint8_t fcr; /* FE, DMA mode and trigger bits as last programmed (write-only register) */
    uint8_t lcr;
    uint8_t mcr;     /* bits 0-4 */
    uint8_t lsr_err; /* latched LSR error bits (only OE here); DR, THRE, TEMT are computed */
    uint8_t msr;     /* status bits 7:4 and delta bits 3:0 */
    uint8_t scr;
    uint8_t dll, dlm;
    uint8_t rbr;       /* the last byte read from RBR: what an empty RBR reads */
    bool waiters_released; /* serial16550_release_waiters() was called */
    bool rx_connected;   /* host input accepted: the guest has set up the receiver */
    bool thr_ipending; /* THRE interrupt latched (cleared by IIR read or THR write) */
    int irq_level;     /* level last driven on `irq` */

    uint8_t rx_fifo[UART_FIFO_SIZE];
    unsigned rx_head, rx_count;

    struct irq_line irq;
    void (*tx)(void *opaque, uint8_t byte);
    void *tx_opaque;

    uint64_t tx_bytes;    /* bytes handed to tx() */
    uint64_t rx_bytes;    /* bytes the guest read from RBR */
    uint64_t rx_overruns; /* bytes lost to a full RX FIFO: loopback THR writes only */
};

/* Reset state (PC16550D Table IV): IER=0, IIR=0x01, FCR=0 (FIFOs off), LCR=0, MCR=0 (OUT2 low:
 * no interrupts reach the pin until the guest sets it), LSR=0x60, MSR=DCD|DSR|CTS, divisor 12.
 * `irq` is copied (NULL: unconnected); tx may be NULL (output dropped). 0 or -errno. */
int serial16550_init(struct serial16550 *s, const struct irq_line *irq,
                     void (*tx)(void *opaque, uint8_t byte), void *tx_opaque);
/* No thread may be inside any serial16550_* call or waiting in serial16550_wait_room(). */
void serial16550_destroy(struct serial16550 *s);

/* Free RX FIFO slots now: 16 - count with FIFOs on, 1 - count in 16450 mode (FIFOs off),
 * 0 in loopback (the receiver input is disconnected, PC16550D MCR bit 4). */
size_t serial16550_rx_room(struct serial16550 *s);
/* Host-to-guest bytes: takes at most the room, returns how many it took. It never overruns;
 * bytes it did not take are the caller's to retry. */
size_t serial16550_receive(struct serial16550 *s, const uint8_t *buf, size_t len);
/* Blocks until the RX FIFO has room or timeout_ms passes (< 0: no timeout, 0: just poll);
 * returns the room (0 on timeout). The room can shrink again before a later receive() when
 * the guest turns the FIFOs off or enters loopback, so use receive()'s return value. */
size_t serial16550_wait_room(struct serial16550 *s, int timeout_ms);
/* Releases every thread in serial16550_wait_room(), now and later: waits return the current
 * room at once. For shutdown, so that a feeder thread sees its stop flag without delay. */
void serial16550_release_waiters(struct serial16550 *s);

/* Bus callbacks on 8 ports. Accesses of 2, 4 or 8 bytes act as a 1-byte access to the low
 * port (the other bytes read 0xff): a real 16550 sits on an 8-bit bus and x86 drivers use
 * inb/outb only. */
extern const struct bus_dev_ops serial16550_bus_ops;
extern const struct bus_reg serial16550_regs[];
extern const unsigned serial16550_nregs;

#endif
