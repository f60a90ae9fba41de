/*
 * uart.h: the 16550 driver: polled output, interrupt-driven input.
 */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <stddef.h>
#include <stdint.h>

/* Use the UART at this I/O port (output works at once, without uart_init()). */
void uart_set_base(uint16_t port);
/* Write n characters, "\n" as "\r\n", in bursts of up to a FIFO's worth per THRE. */
void uart_write(const char *s, size_t n);
/* Enable the FIFOs and the receive interrupt on ISA `irq`, routed to the BSP. */
void uart_init(uint8_t irq, uint32_t bsp_apic_id);
/* The next received character; idles with `sti; hlt` until one arrives. Returns with IF=0. */
int uart_getc(void);

#endif
