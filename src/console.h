/*
 * console.h: the host side of the serial console: guest output to stdout, stdin to the UART.
 */
#ifndef MINIVMM_CONSOLE_H
#define MINIVMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "serial16550.h"

struct console {
    struct serial16550 *uart;
    void (*quit)(void *opaque); /* Ctrl-A x */
    void *opaque;
    int in_fd, out_fd;
    int wake_fd;                /* eventfd: wakes the input thread's poll at stop */
    bool raw;                   /* stdin is a terminal we switched to raw mode */
    struct termios saved;
    pthread_t thread;
    bool started;
    bool stop;                  /* atomic */
    bool escape;                /* previous byte was Ctrl-A */
    uint64_t out_errors;
};

/* UART transmit callback: writes the byte to out_fd with write(2) at once (never buffered). */
void console_tx(void *opaque, uint8_t byte);
/* Sets the file descriptors (in_fd < 0: no input). Output works from here on. */
void console_init(struct console *c, int in_fd, int out_fd);
/* Starts reading in_fd into the UART (raw mode when it is a terminal). 0 or -errno. */
int console_start(struct console *c, struct serial16550 *uart, void (*quit)(void *),
                  void *opaque);
/* Stops the input thread and restores the terminal. Safe to call twice. */
void console_stop(struct console *c);
/* Restores the terminal only (for exit paths that cannot join threads). */
void console_restore_tty(void);

#endif
