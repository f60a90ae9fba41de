/*
 * errmsg.c: one-line error messages into a caller's buffer, and printed on stderr.
 */
#include <stdarg.h>
#include <stdio.h>

#include "minivmm/errmsg.h"

static void vset(char *err, size_t errlen, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
static void vset(char *err, size_t errlen, const char *fmt, va_list ap)
{
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
}

void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, errlen, fmt, ap);
    va_end(ap);
}

int errmsg_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(err, errlen, fmt, ap);
    va_end(ap);
    return ret;
}

int errmsg_print(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (cmd)
        fprintf(stderr, "minivmm %s: ", cmd);
    else
        fputs("minivmm: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}
