/*
 * errmsg.h: one-line error messages: into a caller's buffer, the way every module reports
 * "what failed: detail" to its caller, and onto stderr, where the commands print them.
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

/* "minivmm: <message>" (cmd NULL) or "minivmm CMD: <message>" and a newline on stderr;
 * returns 1, the exit status of bad input and VMM errors (VM_STATUS_ERROR), for
 * `return errmsg_print(NULL, "...")` in main.c and the subcommands (cmd/). */
int errmsg_print(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
