/*
 * console.h: the kernel console on the 16550: serialized output and a line reader.
 */
#ifndef GUEST_CONSOLE_H
#define GUEST_CONSOLE_H

#include <stddef.h>

/*
 * The console lock keeps one CPU's message whole. It is recursive on the owning CPU, so a
 * fault or interrupt in the middle of a kprintf can still print its report.
 */
void console_lock(void);
void console_unlock(void);

/*
 * Read one line (ended by \r, \n or \r\n) into buf, NUL-terminated, dropping what does not
 * fit. Backspace and DEL remove the last character. Sleeps with `sti; hlt` while no input is
 * pending; returns with interrupts disabled. Returns the line length.
 */
size_t console_read_line(char *buf, size_t size);

#endif
