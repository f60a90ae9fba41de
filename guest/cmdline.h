/*
 * cmdline.h: the guest command line: one command and some parameters (abi.h tables).
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX_WARNINGS 8

enum cmdline_warning { CMDLINE_UNKNOWN, CMDLINE_EXTRA_COMMAND, CMDLINE_BAD_VALUE };

struct cmdline {
    const char *command; /* a name from MINIVMM_GUEST_COMMANDS; "hello" by default */
    const char *arg;     /* the command's value after '=' (not NUL-terminated), or NULL */
    size_t arg_len;
    bool quiet;
    unsigned int cpus;   /* cpus=N; 0 = no limit */
    struct {
        const char *word;
        size_t len;
        enum cmdline_warning why;
    } warnings[CMDLINE_MAX_WARNINGS];
    unsigned int nr_warnings;
};

/* Parse s (NULL is an empty line). Prints nothing: problems go to cl->warnings. */
void cmdline_parse(const char *s, struct cmdline *cl);
void cmdline_print_warnings(const struct cmdline *cl);

#endif
