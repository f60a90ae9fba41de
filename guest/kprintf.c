/*
 * kprintf.c: printf-style formatting for the console and for buffers.
 *
 * Supports %d %i %u %x %X %o %p %s %c %% with the flags '-' and '0', a field width and a
 * precision for %s (either may be '*'), and the length modifiers h, hh, l, ll, z. Unknown conversions
 * are printed literally. No floating point: the kernel is built without SSE/x87, and
 * either would kill the VM in KVM's emulator anyway.
 */
#include "console.h"
#include "kernel.h"

struct sink {
    void (*put)(struct sink *s, char c);
    char *buf;
    size_t size, len; /* for buffers: capacity and characters produced so far */
};

static void put_repeat(struct sink *s, char c, int n)
{
    while (n-- > 0)
        s->put(s, c);
}

static void put_number(struct sink *s, unsigned long long v, bool negative, unsigned base,
                       bool upper, int width, bool left, char pad, const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0, plen = prefix ? (int)strlen(prefix) : 0;

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    width -= n + plen + (negative ? 1 : 0);
    if (!left && pad == ' ')
        put_repeat(s, ' ', width);
    if (negative)
        s->put(s, '-');
    while (plen-- > 0)
        s->put(s, *prefix++);
    if (!left && pad == '0')
        put_repeat(s, '0', width);
    while (n)
        s->put(s, tmp[--n]);
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
            s->put(s, *fmt);
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
            s->put(s, (char)va_arg(ap, int));
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
                s->put(s, str[i]);
            if (left)
                put_repeat(s, ' ', width - n);
            break;
        }
        case '%':
            s->put(s, '%');
            break;
        default:
            /* Unknown conversion (or a lone '%' at the end): print it as written. */
            while (start < fmt)
                s->put(s, *start++);
            if (!*fmt)
                return;
            s->put(s, *fmt);
            break;
        }
    }
}

static void put_console(struct sink *s, char c)
{
    (void)s;
    console_putc(c);
}

void vkprintf(const char *fmt, va_list ap)
{
    struct sink s = {.put = put_console};

    console_lock();
    format(&s, fmt, ap);
    console_unlock();
}

void kprintf(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vkprintf(fmt, ap);
    va_end(ap);
}

static void put_buf(struct sink *s, char c)
{
    if (s->len + 1 < s->size)
        s->buf[s->len] = c;
    s->len++;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sink s = {.put = put_buf, .buf = buf, .size = size};

    format(&s, fmt, ap);
    if (size)
        buf[s.len < size ? s.len : size - 1] = '\0';
    return (int)s.len;
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
