/*
 * cmdline.h: the guest command line: one command and some parameters (abi.h tables).
 */
#ifndef GUEST_CMDLINE_H
#define GUEST_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CMDLINE_MAX_WARNINGS 8
#define CMDLINE_MAX_PARAMS 24

enum cmdline_warning { CMDLINE_UNKNOWN, CMDLINE_EXTRA_COMMAND, CMDLINE_BAD_VALUE };

struct cmdline {
    const char *command; /* a name from MINIVMM_GUEST_COMMANDS; "hello" by default */
    const char *arg;     /* the command's value after '=' (not NUL-terminated), or NULL */
    size_t arg_len;
    bool quiet;
    unsigned int cpus;   /* cpus=N; 0 = no limit */
    struct {             /* every parameter word, in order, for cmdline_param() */
        const char *name; /* the abi.h table's string */
        const char *val;  /* after '=' (not NUL-terminated), or NULL */
        size_t val_len;
    } params[CMDLINE_MAX_PARAMS];
    unsigned int nr_params;
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
/* The last value given for parameter `name` (an abi.h MINIVMM_GUEST_PARAMS name) as an
 * unsigned integer, or `def` when absent. A present but malformed value was already warned
 * about by cmdline_parse and gives `def`. */
uint64_t cmdline_param_u64(const struct cmdline *cl, const char *name, uint64_t def);
/* The last value of parameter `name` (not NUL-terminated; *len set), or NULL when absent. */
const char *cmdline_param(const struct cmdline *cl, const char *name, size_t *len);

#endif
