/*
 * console.c: the serial console's host side.
 *
 * Output: a vCPU must never block on stdout (it holds the UART lock, and a vCPU stuck in
 * write(2) to a pipe nobody reads cannot be stopped). console_tx() queues each byte the guest
 * writes to THR in a bounded ring (out_buf) and returns; the output thread writes the ring to
 * stdout in order, as soon as bytes are queued, with write(2) (no stdio buffer). When the ring
 * is full the byte is dropped and counted, as Firecracker's serial does with its non-blocking
 * stdout (firecracker PRs #2381, #2461); console_stop() reports the count on stderr. We do not
 * set O_NONBLOCK on stdout: the open file description is shared with the shell and whoever
 * else holds that terminal or pipe. The output thread instead polls for POLLOUT, together
 * with an eventfd for stop, and then writes at most PIPE_BUF bytes, which a writable pipe
 * takes without blocking. At stop the output thread drains the ring and exits; it gives up
 * (and counts the rest as dropped) when stdout takes nothing for CONSOLE_FLUSH_STALL_MS, or
 * at once when stdout failed for good (EPIPE: the reader is gone).
 *
 * Lock order: the UART lock, then out_lock (console_tx runs under the UART lock). The output
 * thread never takes the UART lock and does not hold out_lock across poll or write.
 *
 * Input: stdin is read only while
 * the UART's RX FIFO has room, so a pipe on stdin loses nothing; the FIFO drains as the
 * guest reads RBR. When stdin is a terminal it is put in raw mode (restored on every exit
 * path: teardown, atexit, and fatal signals, which skip atexit); Ctrl-A x quits and Ctrl-A Ctrl-A sends a Ctrl-A, as in QEMU.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "console.h"
#include "minivmm/hw/thread.h"
#include "minivmm/util.h"

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

/* A fatal signal (a crash, an abort, `kill -ABRT`) skips atexit: put the terminal back first,
 * then let the signal do what it did before (the default action, or a sanitizer's report).
 * tcsetattr is async-signal-safe. */
static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
static struct sigaction fatal_old[ARRAY_SIZE(fatal_signals)];

static void on_fatal_signal(int sig)
{
    int e = errno;
    if (saved_tty_fd >= 0)
        tcsetattr(saved_tty_fd, TCSANOW, &saved_tty);
    for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
        if (fatal_signals[i] == sig)
            sigaction(sig, &fatal_old[i], NULL);
    errno = e;
    raise(sig); /* blocked until we return (no SA_NODEFER), then taken with the old action */
}

static void catch_fatal_signals(void)
{
    struct sigaction sa = {.sa_handler = on_fatal_signal};
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < ARRAY_SIZE(fatal_signals); i++)
        sigaction(fatal_signals[i], &sa, &fatal_old[i]);
}

void console_tx(void *opaque, uint8_t byte)
{
    struct console *c = opaque;
    pthread_mutex_lock(&c->out_lock);
    if (c->out_gone || c->out_count == CONSOLE_OUT_SIZE) {
        c->out_dropped++; /* nobody reads stdout: the guest must not stall on it */
    } else {
        c->out_buf[(c->out_head + c->out_count) % CONSOLE_OUT_SIZE] = byte;
        c->out_count++;
        if (c->out_idle) {
            c->out_idle = false;
            pthread_cond_signal(&c->out_cond);
        }
    }
    pthread_mutex_unlock(&c->out_lock);
}

static uint64_t mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* Drops what is queued (under out_lock). */
static void drop_queued(struct console *c)
{
    c->out_dropped += c->out_count;
    c->out_head = (c->out_head + c->out_count) % CONSOLE_OUT_SIZE;
    c->out_count = 0;
}

/* Writes the ring to out_fd until it is empty and out_stop is set. Runs on the output thread,
 * or on the caller of console_stop() when the thread never started (wake_fd < 0 then). */
static void drain(struct console *c, int wake_fd)
{
    uint64_t progress_ms = 0; /* when out_fd last took a byte, once stopping */

    pthread_mutex_lock(&c->out_lock);
    for (;;) {
        while (c->out_count == 0 && !c->out_stop) {
            c->out_idle = true;
            pthread_cond_wait(&c->out_cond, &c->out_lock);
        }
        c->out_idle = false;
        if (c->out_count == 0 || c->out_gone)
            break;
        bool stopping = c->out_stop;
        size_t head = c->out_head;
        size_t n = c->out_count;
        pthread_mutex_unlock(&c->out_lock);

        if (stopping && progress_ms == 0)
            progress_ms = mono_ms();
        if (n > CONSOLE_OUT_SIZE - head)
            n = CONSOLE_OUT_SIZE - head; /* up to the ring's end; the rest next time */
        if (n > PIPE_BUF)
            n = PIPE_BUF; /* a pipe that polls writable takes PIPE_BUF bytes without blocking */
        int timeout = -1;
        if (stopping) {
            uint64_t waited = mono_ms() - progress_ms;
            timeout = waited >= CONSOLE_FLUSH_STALL_MS ? 0 : (int)(CONSOLE_FLUSH_STALL_MS - waited);
        }
        struct pollfd p[2] = {{.fd = c->out_fd, .events = POLLOUT},
                              {.fd = wake_fd, .events = POLLIN}};
        int r = poll(p, wake_fd >= 0 ? 2 : 1, timeout);
        ssize_t w = 0;
        int err = 0;
        if (r > 0 && p[0].revents) {
            /* POLLERR/POLLHUP: write(2) says what happened. */
            w = write(c->out_fd, c->out_buf + head, n);
            err = w < 0 ? errno : 0;
        } else if (r < 0) {
            err = errno;
        }

        pthread_mutex_lock(&c->out_lock);
        if (w > 0) {
            c->out_head = (head + (size_t)w) % CONSOLE_OUT_SIZE;
            c->out_count -= (size_t)w;
            if (stopping)
                progress_ms = mono_ms();
            continue;
        }
        if (err == EAGAIN || err == EWOULDBLOCK) {
            /* Someone set O_NONBLOCK on the shared description and the room went to another
             * writer: wait a little rather than spin. */
            pthread_mutex_unlock(&c->out_lock);
            poll(p + 1, wake_fd >= 0 ? 1 : 0, 10);
            pthread_mutex_lock(&c->out_lock);
        } else if (err && err != EINTR) {
            c->out_gone = true; /* EPIPE, EBADF, EIO, ENOSPC: the reader is gone */
            c->out_errno = err;
            drop_queued(c);
        } else if (c->out_stop && progress_ms &&
                   mono_ms() - progress_ms >= CONSOLE_FLUSH_STALL_MS) {
            drop_queued(c); /* stopping, and stdout has taken nothing for a while */
        }
        if (wake_fd >= 0 && (p[1].revents & POLLIN)) {
            uint64_t v;
            if (read(wake_fd, &v, sizeof(v)) < 0) {
                /* EAGAIN only: nothing to consume */
            }
        }
    }
    if (c->out_gone)
        drop_queued(c);
    pthread_mutex_unlock(&c->out_lock);
}

static void *output_thread(void *arg)
{
    struct console *c = arg;
    hw_thread_enter(HW_THREAD_CONSOLE_OUT);
    drain(c, c->out_wake_fd);
    return NULL;
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

    hw_thread_enter(HW_THREAD_CONSOLE_IN);
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
    c->out_wake_fd = -1;
    pthread_mutex_init(&c->out_lock, NULL);
    pthread_cond_init(&c->out_cond, NULL);
}

static int start_output(struct console *c)
{
    c->out_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->out_wake_fd < 0)
        return -errno;
    int ret = pthread_create(&c->out_thread, NULL, output_thread, c);
    if (ret) {
        close(c->out_wake_fd);
        c->out_wake_fd = -1;
        return -ret;
    }
    c->out_started = true;
    return 0;
}

/* Joins the output thread. It can only be stuck inside write(2) itself when another writer
 * took the room poll saw (our own stderr on the same pipe) or stdout is a terminal stopped
 * with Ctrl-S: then interrupt the write with SIGUSR1, the vCPU kick signal (vcpu.c), whose
 * handler does nothing on other threads and is installed without SA_RESTART. Without such a
 * handler (unit tests) the join waits. */
static void join_output(struct console *c)
{
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += CONSOLE_FLUSH_STALL_MS / 1000 + 1;
        if (pthread_timedjoin_np(c->out_thread, NULL, &until) == 0)
            return;
        struct sigaction sa;
        if (sigaction(SIGUSR1, NULL, &sa) < 0 || (sa.sa_flags & (SA_SIGINFO | SA_RESTART)) ||
            sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN)
            break;
        pthread_kill(c->out_thread, SIGUSR1);
    }
    pthread_join(c->out_thread, NULL);
}

/* Ends the output thread once it has flushed, or given up on, the queued output. */
static void stop_output(struct console *c)
{
    pthread_mutex_lock(&c->out_lock);
    bool first = !c->out_stop;
    c->out_stop = true;
    pthread_cond_signal(&c->out_cond);
    pthread_mutex_unlock(&c->out_lock);
    if (!first)
        return;
    if (c->out_started) {
        uint64_t one = 1;
        if (write(c->out_wake_fd, &one, sizeof(one)) < 0) {
            /* cannot fail for a fresh eventfd; the poll would still time out */
        }
        join_output(c);
        c->out_started = false;
        close(c->out_wake_fd);
        c->out_wake_fd = -1;
    } else {
        drain(c, -1); /* never started: flush here, on the same terms */
    }
    if (c->out_dropped)
        fprintf(stderr, "minivmm: console: %" PRIu64 " bytes of guest output dropped (%s%s)\n",
                c->out_dropped, c->out_errno ? "stdout: " : "stdout not reading",
                c->out_errno ? strerror(c->out_errno) : "");
}

int console_start(struct console *c, struct serial16550 *uart, void (*quit)(void *),
                  void *opaque)
{
    int in_fd = c->in_fd;
    int ret;
    c->uart = uart;
    c->quit = quit;
    c->opaque = opaque;
    if (!c->out_started && !c->out_stop) {
        ret = start_output(c);
        if (ret)
            return ret;
    }
    if (in_fd < 0)
        return 0;
    c->wake_fd = eventfd(0, EFD_CLOEXEC);
    if (c->wake_fd < 0) {
        ret = -errno;
        goto err_stop_output;
    }
    if (isatty(in_fd) && tcgetattr(in_fd, &c->saved) == 0) {
        struct termios raw = c->saved;
        saved_tty = c->saved;
        saved_tty_fd = in_fd;
        atexit(console_restore_tty);
        catch_fatal_signals();
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST | ONLCR; /* keep our own messages readable */
        if (tcsetattr(in_fd, TCSANOW, &raw) == 0)
            c->raw = true;
    }
    ret = pthread_create(&c->thread, NULL, console_thread, c);
    if (ret) {
        ret = -ret;
        goto err_close_wake;
    }
    c->started = true;
    return 0;

err_close_wake:
    console_restore_tty();
    close(c->wake_fd);
    c->wake_fd = -1;
err_stop_output:
    stop_output(c); /* flushes what is queued; the caller will not call console_stop() */
    return ret;
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
    stop_output(c);
    console_restore_tty();
}
