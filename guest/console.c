/*
 * console.c: the kernel console: output serialized between CPUs, and a line reader on top
 * of the UART's interrupt-fed receive ring.
 *
 * Locking: console_owner holds the number of the CPU printing (or -1). Taking it is a
 * `lock cmpxchg`; the owner may take it again (depth counts), which is what lets the
 * exception handler report a fault that happened inside kprintf instead of deadlocking.
 */
#include "console.h"

#include "kernel.h"
#include "smp.h"
#include "uart.h"
#include "x86.h"

static int console_owner = -1;
static unsigned int console_depth;

void console_lock(void)
{
    int me = (int)smp_processor_id();
    int expected;

    if (READ_ONCE(console_owner) == me) {
        console_depth++;
        return;
    }
    for (;;) {
        expected = -1;
        if (__atomic_compare_exchange_n(&console_owner, &expected, me, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        while (READ_ONCE(console_owner) != -1)
            cpu_relax();
    }
    console_depth = 1;
}

void console_unlock(void)
{
    if (--console_depth == 0)
        __atomic_store_n(&console_owner, -1, __ATOMIC_RELEASE);
}

size_t console_read_line(char *buf, size_t size)
{
    static bool last_was_cr;
    size_t len = 0;

    for (;;) {
        int c = uart_getc();

        /* A \r\n pair ends one line, not two. */
        if (c == '\n' && last_was_cr) {
            last_was_cr = false;
            continue;
        }
        last_was_cr = c == '\r';
        if (c == '\r' || c == '\n')
            break;
        if (c == '\b' || c == 0x7f) {
            if (len)
                len--;
            continue;
        }
        if (len + 1 < size)
            buf[len++] = (char)c;
    }
    if (size)
        buf[len < size ? len : size - 1] = '\0';
    return len;
}
