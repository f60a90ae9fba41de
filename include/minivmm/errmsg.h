/*
 * errmsg.h: one-line error messages into a caller's buffer, the way every module reports
 * "what failed: detail" to main.c, which prints it.
 */
#ifndef MINIVMM_ERRMSG_H
#define MINIVMM_ERRMSG_H

#include <stddef.h>

/* Formats into err (nothing when err is NULL or errlen 0). */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, returning ret (a -errno), for `return errmsg_fail(err, len, -EINVAL, ...)`. */
int errmsg_fail(char *err, size_t errlen, int ret, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
