/*
 * cmdline.c: argument values (sizes, counts) and the guest command line.
 *
 * The guest receives exactly --cmdline followed by the words after `--`; nothing is added.
 * Everything here is pure and unit-tested; main.c turns errors into messages.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"

int cmdline_parse_size(const char *s, uint64_t *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE)
        return -ERANGE;
    unsigned shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && (end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
        end += 2;
    else if (shift && (end[0] == 'B' || end[0] == 'b'))
        end++;
    if (*end)
        return -EINVAL;
    if (v == 0)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -ERANGE;
    *out = (uint64_t)v << shift;
    return 0;
}

int cmdline_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (*end)
        return -EINVAL;
    if (errno == ERANGE || v < min || v > max)
        return -ERANGE;
    *out = (unsigned)v;
    return 0;
}

static int word_ok(const char *w)
{
    if (!*w)
        return 0;
    for (; *w; w++)
        if ((unsigned char)*w < 0x20 || *w == 0x7f)
            return 0;
    return 1;
}

int cmdline_build(char *out, size_t outlen, const char *base, char *const words[], int nwords)
{
    size_t len = 0;
    if (outlen == 0)
        return -E2BIG;
    out[0] = '\0';
    if (base && *base) {
        for (const char *c = base; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                return -EINVAL;
        len = strlen(base);
        if (len >= outlen)
            return -E2BIG;
        memcpy(out, base, len + 1);
    }
    for (int i = 0; i < nwords; i++) {
        if (!word_ok(words[i]))
            return -EINVAL;
        size_t wl = strlen(words[i]);
        size_t need = len + (len ? 1 : 0) + wl;
        if (need >= outlen)
            return -E2BIG;
        if (len)
            out[len++] = ' ';
        memcpy(out + len, words[i], wl + 1);
        len += wl;
    }
    return (int)len;
}
