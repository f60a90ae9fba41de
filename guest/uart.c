/*
 * uart.c: the 16550 driver (register layout in minivmm/uart16550.h).
 *
 * Output is polled: wait for LSR.THRE, then write up to a FIFO's worth to THR. Each character
 * still costs an exit to the VMM (~7 us on our hosts): fine for a console, slow for data.
 *
 * Input is interrupt-driven: the ISR, on the BSP only (the IOAPIC routes the IRQ there),
 * drains RBR while LSR.DR into a ring; uart_getc() on the BSP consumes it with interrupts off,
 * so producer and consumer never run at the same time and the ring needs no lock. Readers
 * must sleep in `sti; hlt`: on PVM an interrupt reaches busy kernel code only every ~1 ms.
 */
#include "uart.h"

#include <minivmm/uart16550.h>

#include "config.h"
#include "ioapic.h"
#include "kernel.h"
#include "lapic.h"
#include "traps.h"
#include "tsc.h"
#include "x86.h"

/*
 * A power of two. Generous because input typed ahead under QEMU is read before the FIFO is
 * enabled (drain_before_fifo) and must fit: a byte left in RBR then is flushed.
 */
#define RX_RING_SIZE 4096
#define THRE_SPINS 100000 /* a VMM that never sets THRE must not hang the kernel */
#define RX_QUIET_US 2000

static uint16_t uart_base = UART_COM1_BASE;
static size_t tx_fifo = 1;  /* bytes THRE promises room for: 1 without FIFO, 16 with */
static size_t tx_room;      /* bytes we may still write before checking LSR again */
static uint8_t rx_ring[RX_RING_SIZE];
static uint32_t rx_head, rx_tail; /* head: written by the ISR; tail: by uart_getc() */

void uart_set_base(uint16_t port)
{
    uart_base = port;
}

/*
 * Write without translation. LSR.THRE set means the whole transmit FIFO is empty, so after
 * seeing it we may write tx_fifo bytes (1 until uart_init() enables the FIFO) before
 * looking again: one LSR exit per burst instead of one per character. Callers serialize
 * (the console lock).
 */
static void write_raw(const char *s, size_t n)
{
    while (n) {
        size_t chunk;

        if (tx_room == 0) {
            for (int i = 0; i < THRE_SPINS && !(inb(uart_base + UART_LSR) & UART_LSR_THRE); i++)
                cpu_relax();
            tx_room = tx_fifo;
        }
        chunk = n < tx_room ? n : tx_room;
        tx_room -= chunk;
        n -= chunk;
        /* One emulated instruction per byte (and, on bare-metal KVM, one exit per burst). */
        __asm__ volatile("rep outsb"
                         : "+S"(s), "+c"(chunk)
                         : "d"((uint16_t)(uart_base + UART_THR))
                         : "memory");
    }
}

void uart_write(const char *s, size_t n)
{
    while (n) {
        size_t run = 0;

        while (run < n && s[run] != '\n')
            run++;
        write_raw(s, run);
        if (run == n)
            break;
        write_raw("\r\n", 2);
        s += run + 1;
        n -= run + 1;
    }
}

/*
 * Move what the UART holds into the ring, stopping when the ring is full: the rest waits in
 * the UART's FIFO (and the VMM's pipe) instead of being dropped. Interrupts must be off.
 */
static void drain_rx(void)
{
    while (rx_head - rx_tail < RX_RING_SIZE && (inb(uart_base + UART_LSR) & UART_LSR_DR))
        rx_ring[rx_head++ % RX_RING_SIZE] = inb(uart_base + UART_RBR);
}

/*
 * Input may be waiting before we set the UART up: QEMU reads a piped stdin from the start,
 * one byte into RBR at a time, and enabling the FIFO empties the receiver (QEMU flushes on
 * any FCR.FE change, as the data sheet allows). So when a byte is waiting, take bytes until
 * the line has been quiet for RX_QUIET_US: QEMU refills RBR within tens of microseconds of
 * each read. minivmm connects input only once the FIFO or the interrupt is on, so there
 * nothing is waiting and this costs one LSR read.
 */
static void drain_before_fifo(void)
{
    uint64_t quiet_end;

    if (!(inb(uart_base + UART_LSR) & UART_LSR_DR))
        return;
    quiet_end = tsc_deadline_us(RX_QUIET_US);
    while ((int64_t)(rdtsc() - quiet_end) < 0 && rx_head - rx_tail < RX_RING_SIZE) {
        if (inb(uart_base + UART_LSR) & UART_LSR_DR) {
            rx_ring[rx_head++ % RX_RING_SIZE] = inb(uart_base + UART_RBR);
            quiet_end = tsc_deadline_us(RX_QUIET_US);
        }
    }
}

static void uart_isr(void)
{
    drain_rx();
    lapic_eoi();
}

void uart_init(uint8_t irq, uint32_t bsp_apic_id)
{
    uint8_t vector = IRQ_VECTOR_BASE + irq;

    outb(uart_base + UART_IER, 0);
    outb(uart_base + UART_LCR, UART_LCR_DLAB);
    outb(uart_base + UART_DLL, 1); /* 115200 baud: meaningless to a VMM, kept for real UARTs */
    outb(uart_base + UART_DLM, 0);
    outb(uart_base + UART_LCR, 0x03); /* 8N1, DLAB off */
    drain_before_fifo();
    outb(uart_base + UART_FCR, UART_FCR_ENABLE_FIFO); /* trigger level 1 byte */
    tx_fifo = UART_FIFO_SIZE;
    tx_room = 0;
    outb(uart_base + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    irq_set_handler(vector, uart_isr);
    ioapic_route_irq(irq, vector, bsp_apic_id);
    outb(uart_base + UART_IER, UART_IER_RDI);
    drain_rx();
}

int uart_getc(void)
{
    for (;;) {
        local_irq_disable();
        /*
         * The IRQ is edge-triggered and the line stays high while the UART holds data, so
         * data left behind (ring full, or a VMM refilling the FIFO as fast as the ISR reads)
         * would never interrupt again. Looking at LSR.DR before sleeping catches it; and
         * when DR is clear the line is low, so the next byte gives a fresh edge.
         */
        if (rx_tail == rx_head)
            drain_rx();
        if (rx_tail != rx_head)
            return rx_ring[rx_tail++ % RX_RING_SIZE];
        safe_halt();
    }
}
