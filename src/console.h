/*
 * console.h: the host side of the serial console: guest output to stdout, stdin to the UART.
 *
 * Output never blocks the vCPU: console_tx() queues the byte in a bounded buffer that the
 * output thread writes to out_fd; when the buffer is full (nobody reads stdout) bytes are
 * dropped and counted, and console_stop() reports the count on stderr.
 */
#ifndef MINIVMM_CONSOLE_H
#define MINIVMM_CONSOLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <termios.h>

#include "serial16550.h"

/* Guest output queued for out_fd: 256 KiB is ~0.25 s of the fastest guest output we see. */
#define CONSOLE_OUT_SIZE (256 * 1024)
/* At stop, give up on the rest of the output once out_fd took nothing for this long. */
#define CONSOLE_FLUSH_STALL_MS 1000

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

    /* Output: a ring of out_count bytes from out_head, filled by console_tx (any thread),
     * emptied by the output thread. All out_* fields below are under out_lock, except that
     * the output thread reads the bytes it owns ([out_head, +out_count)) without it. */
    pthread_mutex_t out_lock;
    pthread_cond_t out_cond;    /* data queued or stop requested, for an idle output thread */
    size_t out_head, out_count;
    bool out_idle;              /* the output thread waits on out_cond */
    bool out_stop;              /* drain what is queued, then exit */
    bool out_gone;              /* out_fd failed for good (reader gone): drop everything */
    int out_errno;              /* that failure */
    int out_wake_fd;            /* eventfd: wakes the output thread's poll at stop */
    pthread_t out_thread;
    bool out_started;
    uint64_t out_dropped;       /* bytes the guest wrote that never reached out_fd */
    uint8_t out_buf[CONSOLE_OUT_SIZE];
};

/* UART transmit callback: queues the byte for out_fd and returns at once, never blocking
 * (the caller holds the UART lock on a vCPU thread); a byte that does not fit is dropped and
 * counted in out_dropped. */
void console_tx(void *opaque, uint8_t byte);
/* Sets the file descriptors (in_fd < 0: no input). Output is queued from here on; it reaches
 * out_fd once console_start() runs the output thread, or at console_stop(). */
void console_init(struct console *c, int in_fd, int out_fd);
/* Starts the output thread, and the input thread reading in_fd into the UART (raw mode when
 * it is a terminal). 0 or -errno. */
int console_start(struct console *c, struct serial16550 *uart, void (*quit)(void *),
                  void *opaque);
/* Stops the input thread, flushes the queued output (giving up once out_fd takes nothing for
 * CONSOLE_FLUSH_STALL_MS), reports dropped output on stderr and restores the terminal. Safe
 * to call twice; console_init() must have run. */
void console_stop(struct console *c);
/* Restores the terminal only (for exit paths that cannot join threads). */
void console_restore_tty(void);

#endif
