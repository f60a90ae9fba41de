/*
 * console.c: the serial console's host side.
 *
 * Output: each byte the guest writes to THR goes to stdout with write(2) as it comes, so
 * nothing is stuck in a stdio buffer when stdout is a pipe. Input: stdin is read only while
 * the UART's RX FIFO has room, so a pipe on stdin loses nothing; the FIFO drains as the
 * guest reads RBR. When stdin is a terminal it is put in raw mode (restored on every exit
 * path, atexit included); Ctrl-A x quits and Ctrl-A Ctrl-A sends a Ctrl-A, as in QEMU.
 */
#include <errno.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "console.h"

#define CTRL_A 0x01

static struct termios saved_tty;
static int saved_tty_fd = -1;

void console_restore_tty(void)
{
    if (saved_tty_fd >= 0) {
        tcsetattr(saved_tty_fd, TCSANOW, &saved_tty);
        saved_tty_fd = -1;
    }
}

void console_tx(void *opaque, uint8_t byte)
{
    struct console *c = opaque;
    for (;;) {
        ssize_t n = write(c->out_fd, &byte, 1);
        if (n == 1)
            return;
        if (n < 0 && errno == EINTR)
            continue;
        c->out_errors++; /* stdout closed or full: the guest must not stall on it */
        return;
    }
}

/* Feeds bytes to the UART, handling the Ctrl-A escape. Returns false on Ctrl-A x. */
static bool feed(struct console *c, const uint8_t *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = buf[i];
        if (c->raw) {
            if (c->escape) {
                c->escape = false;
                if (b == 'x' || b == 'X') {
                    c->quit(c->opaque);
                    return false;
                }
                if (b != CTRL_A)
                    continue; /* unknown escape: dropped, as QEMU does */
            } else if (b == CTRL_A) {
                c->escape = true;
                continue;
            }
        }
        /* Room can shrink between wait_room and here (the guest switched the FIFOs off or
         * entered loopback): wait for it rather than lose the byte. */
        while (serial16550_receive(c->uart, &b, 1) == 0) {
            if (__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE))
                return false;
            serial16550_wait_room(c->uart, 100);
        }
    }
    return true;
}

static void *console_thread(void *arg)
{
    struct console *c = arg;
    uint8_t buf[UART_FIFO_SIZE];

    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        size_t room = serial16550_wait_room(c->uart, 100);
        if (room == 0)
            continue;
        struct pollfd p[2] = {{.fd = c->in_fd, .events = POLLIN},
                              {.fd = c->wake_fd, .events = POLLIN}};
        int r = poll(p, 2, -1);
        if (r < 0 && errno != EINTR)
            break;
        if (r <= 0 || !(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (room > sizeof(buf))
            room = sizeof(buf);
        ssize_t n = read(c->in_fd, buf, room);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break; /* EOF: the guest simply gets no more input */
        if (!feed(c, buf, (size_t)n))
            break;
    }
    return NULL;
}

void console_init(struct console *c, int in_fd, int out_fd)
{
    memset(c, 0, sizeof(*c));
    c->in_fd = in_fd;
    c->out_fd = out_fd;
    c->wake_fd = -1;
}

int console_start(struct console *c, struct serial16550 *uart, void (*quit)(void *),
                  void *opaque)
{
    int in_fd = c->in_fd;
    c->uart = uart;
    c->quit = quit;
    c->opaque = opaque;
    if (in_fd < 0)
        return 0;
    c->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (c->wake_fd < 0)
        return -errno;
    if (isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
        struct termios raw = c->saved;
        saved_tty = c->saved;
        saved_tty_fd = in_fd;
        atexit(console_restore_tty);
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* keep our own messages readable */
        if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
            c->raw = true;
    }
    int ret = pthread_create(&c->thread, NULL, console_thread, c);
    if (ret) {
        console_restore_tty();
        close(c->wake_fd);
        c->wake_fd = -1;
        return -ret;
    }
    c->started = true;
    return 0;
}

void console_stop(struct console *c)
{
    __atomic_store_n(&c->stop, true, __ATOMIC_RELEASE);
    if (c->started) {
        uint64_t one = 1;
        serial16550_release_waiters(c->uart);
        if (write(c->wake_fd, &one, sizeof(one)) < 0) {
            /* cannot fail for a fresh eventfd; the thread would still stop on input */
        }
        pthread_join(c->thread, NULL);
    }
    c->started = false;
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    c->wake_fd = -1;
    console_restore_tty();
}
