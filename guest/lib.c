/*
 * lib.c: the few libc functions the kernel and the compiler need.
 *
 * gcc may emit calls to memcpy/memset/memmove/memcmp for struct copies and initialisers even
 * in freestanding code, so these four must exist. Plain loops, 8 bytes at a time where that is
 * easy: on PVM every instruction is emulated (~0.3 us, ~0.7 us with a memory operand), and
 * `rep movs/stos` per element, so a byte loop costs ~2 us per byte; keep copies out of hot
 * paths. The build passes
 * -fno-tree-loop-distribute-patterns so gcc does not turn these loops back into calls to
 * themselves.
 */
#include "kernel.h"

typedef uint64_t __attribute__((may_alias, aligned(1))) u64_unaligned;

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    for (; n >= 8; n -= 8, d += 8, s += 8)
        *(u64_unaligned *)d = *(const u64_unaligned *)s;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;

    if (d <= s || d >= s + n)
        return memcpy(dst, src, n);
    while (n--)
        d[n] = s[n];
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    uint64_t v = (unsigned char)c * 0x0101010101010101ull;

    for (; n >= 8; n -= 8, d += 8)
        *(u64_unaligned *)d = v;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;
    size_t i = 0;

    /* Skip equal 8-byte blocks, then find the first difference byte by byte. */
    while (i + 8 <= n && *(const u64_unaligned *)(x + i) == *(const u64_unaligned *)(y + i))
        i += 8;
    for (; i < n; i++)
        if (x[i] != y[i])
            return x[i] - y[i];
    return 0;
}

/* Does this word contain a zero byte? (the classic "haszero" bit trick) */
static inline bool has_zero_byte(uint64_t w)
{
    return (w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    /*
     * Bytes until s+n is 8-aligned, then aligned words: an aligned word never crosses a page
     * boundary, so reading one whole cannot fault even when the string ends inside it.
     */
    while (n < max && ((uintptr_t)(s + n) & 7)) {
        if (!s[n])
            return n;
        n++;
    }
    while (n + 8 <= max && !has_zero_byte(*(const uint64_t *)(s + n)))
        n += 8;
    while (n < max && s[n])
        n++;
    return n;
}

size_t strlen(const char *s)
{
    return strnlen(s, SIZE_MAX);
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            break;
    }
    return 0;
}

int parse_u64(const char *s, size_t len, uint64_t *out)
{
    unsigned base = 10;
    uint64_t v = 0;

    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        len -= 2;
    }
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        unsigned d;
        char c = s[i];

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}
