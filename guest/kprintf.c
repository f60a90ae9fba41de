/*
 * kprintf.c: printf-style formatting for the console and for buffers.
 *
 * Supports %d %i %u %x %X %o %p %s %c %% with the flags '-' and '0', a field width and a
 * precision for %s (either may be '*'), and the length modifiers h, hh, l, ll, z. Unknown
 * conversions are printed literally. No floating point: the kernel is built without SSE/x87,
 * and either would kill the VM in KVM's emulator anyway.
 */
#include "console.h"
#include "kernel.h"
#include "uart.h"

/*
 * Output goes through a buffer: console messages leave in bursts (uart_write), and the
 * per-character path is a compare and a store, not a call, since every instruction is
 * emulated on our hosts.
 */
struct sink {
    char *buf;
    size_t cap, len;                 /* buffer size and bytes in it */
    size_t dropped;                  /* buffers: characters that did not fit */
    void (*flush)(struct sink *s);   /* console: write out and empty; NULL for buffers */
};

static inline void put(struct sink *s, char c)
{
    if (s->len == s->cap) {
        if (!s->flush) {
            s->dropped++;
            return;
        }
        s->flush(s);
    }
    s->buf[s->len++] = c;
}

static void put_repeat(struct sink *s, char c, int n)
{
    while (n-- > 0)
        put(s, c);
}

static void put_number(struct sink *s, unsigned long long v, bool negative, unsigned base,
                       bool upper, int width, bool left, char pad, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0, plen = prefix ? (int)strlen(prefix) : 0;

    /* Shifts for hex and octal, a constant divisor (a multiply) for decimal: no div. */
    if (base == 16) {
        do {
            tmp[n++] = digits[v & 15];
            v >>= 4;
        } while (v);
    } else if (base == 8) {
        do {
            tmp[n++] = (char)('0' + (v & 7));
            v >>= 3;
        } while (v);
    } else {
        do {
            tmp[n++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
    }
    width -= n + plen + (negative ? 1 : 0);
    if (!left && pad == ' ')
        put_repeat(s, ' ', width);
    if (negative)
        put(s, '-');
    while (plen-- > 0)
        put(s, *prefix++);
    if (!left && pad == '0')
        put_repeat(s, '0', width);
    while (n)
        put(s, tmp[--n]);
    if (left)
        put_repeat(s, ' ', width);
}

static void format(struct sink *s, const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        bool left = false, upper = false;
        char pad = ' ';
        int width = 0, prec = -1, lmod = 0;
        const char *start = fmt;

        if (*fmt != '%') {
            put(s, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        if (*fmt == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = true;
                width = -width;
            }
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == '.') {
            prec = 0;
            if (*++fmt == '*') {
                prec = va_arg(ap, int);
                fmt++;
            }
            for (; *fmt >= '0' && *fmt <= '9'; fmt++)
                prec = prec * 10 + (*fmt - '0');
        }
        for (;; fmt++) {
            if (*fmt == 'l')
                lmod++;
            else if (*fmt == 'z')
                lmod = 2;
            else if (*fmt != 'h')
                break;
        }
        if (left)
            pad = ' ';

        switch (*fmt) {
        case 'd':
        case 'i': {
            long long v = lmod >= 2 ? va_arg(ap, long long)
                          : lmod == 1 ? va_arg(ap, long)
                                      : va_arg(ap, int);
            unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;

            put_number(s, u, v < 0, 10, false, width, left, pad, NULL);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v = lmod >= 2 ? va_arg(ap, unsigned long long)
                                   : lmod == 1 ? va_arg(ap, unsigned long)
                                               : va_arg(ap, unsigned int);
            unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;

            upper = *fmt == 'X';
            put_number(s, v, false, base, upper, width, left, pad, NULL);
            break;
        }
        case 'p':
            put_number(s, (uintptr_t)va_arg(ap, void *), false, 16, false, width, left, pad,
                       "0x");
            break;
        case 'c':
            if (!left)
                put_repeat(s, ' ', width - 1);
            put(s, (char)va_arg(ap, int));
            if (left)
                put_repeat(s, ' ', width - 1);
            break;
        case 's': {
            const char *str = va_arg(ap, const char *);
            int n;

            if (!str)
                str = "(null)";
            n = (int)strnlen(str, prec >= 0 ? (size_t)prec : SIZE_MAX);
            if (!left)
                put_repeat(s, ' ', width - n);
            for (int i = 0; i < n; i++)
                put(s, str[i]);
            if (left)
                put_repeat(s, ' ', width - n);
            break;
        }
        case '%':
            put(s, '%');
            break;
        default:
            /* Unknown conversion (or a lone '%' at the end): print it as written. */
            while (start < fmt)
                put(s, *start++);
            if (!*fmt)
                return;
            put(s, *fmt);
            break;
        }
    }
}

#define CONSOLE_CHUNK 128

static void flush_console(struct sink *s)
{
    uart_write(s->buf, s->len);
    s->len = 0;
}

void vkprintf(const char *fmt, va_list ap)
{
    char buf[CONSOLE_CHUNK];
    struct sink s = {.buf = buf, .cap = sizeof(buf), .flush = flush_console};

    console_lock();
    format(&s, fmt, ap);
    flush_console(&s);
    console_unlock();
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = {.buf = buf, .cap = size ? size - 1 : 0};

    format(&s, fmt, ap);
    if (size)
        buf[s.len] = '\0';
    return (int)(s.len + s.dropped);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
