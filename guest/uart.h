/*
 * uart.h: the 16550 driver: polled output, interrupt-driven input.
 */
#ifndef GUEST_UART_H
#define GUEST_UART_H

#include <stdint.h>

/* Use the UART at this I/O port (output works at once, without uart_init()). */
void uart_set_base(uint16_t port);
/* Write one character, waiting for THRE; "\n" goes out as "\r\n". */
void uart_putc(char c);
/* Enable the FIFOs and the receive interrupt on ISA `irq`, routed to the BSP. */
void uart_init(uint8_t irq, uint32_t bsp_apic_id);
/* The next received character; idles with `sti; hlt` until one arrives. Returns with IF=0. */
int uart_getc(void);

#endif
