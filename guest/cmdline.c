/*
 * cmdline.c: splits the command line into words and sorts them into the command, its
 * argument and parameters, using abi.h's MINIVMM_GUEST_COMMANDS / MINIVMM_GUEST_PARAMS as
 * the only list of names (the VMM's --help prints the same tables).
 *
 * Rules (abi.h): words are separated by spaces; a word's key is the text before '='. The first
 * word whose key is a command selects it and its value is the argument; a word whose key is a
 * parameter sets it; anything else is reported and ignored. The line is never modified: words
 * are (pointer, length) pairs into it.
 */
#include "cmdline.h"

#include <minivmm/abi.h>

#include "kernel.h"

#define DEFAULT_COMMAND "hello"

#define NAME_OF(name, value, help) name,
static const char *const command_names[] = {MINIVMM_GUEST_COMMANDS(NAME_OF)};
static const char *const param_names[] = {MINIVMM_GUEST_PARAMS(NAME_OF)};
#undef NAME_OF

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The table entry equal to key[0..len), or NULL. */
static const char *lookup(const char *const *names, size_t n, const char *key, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strncmp(names[i], key, len) == 0 && names[i][len] == '\0')
            return names[i];
    return NULL;
}

static void warn(struct cmdline *cl, const char *word, size_t len, enum cmdline_warning why)
{
    if (cl->nr_warnings == CMDLINE_MAX_WARNINGS)
        return;
    cl->warnings[cl->nr_warnings].word = word;
    cl->warnings[cl->nr_warnings].len = len;
    cl->warnings[cl->nr_warnings].why = why;
    cl->nr_warnings++;
}

/* Parameters whose values are not numbers. */
static bool is_string_param(const char *name)
{
    return strcmp(name, "net.ip") == 0 || strcmp(name, "net.dst") == 0 ||
           strcmp(name, "net.dev") == 0 || strcmp(name, "virtio_mmio.device") == 0;
}

/* Apply parameter `name`; false if its value is unusable. */
static bool set_param(struct cmdline *cl, const char *name, const char *val, size_t val_len)
{
    uint64_t n;

    if (strcmp(name, "quiet") == 0) {
        cl->quiet = true;
        return true;
    }
    if (strcmp(name, "cpus") == 0) {
        if (!val || parse_u64(val, val_len, &n) || n == 0 || n > 0xffffffffu)
            return false;
        cl->cpus = (unsigned int)n;
        return true;
    }
    /*
     * Other parameters are numbers read by their command through cmdline_param_u64, except
     * those whose values are text (addresses), kept raw for cmdline_param(). A word such as
     * virtio_mmio.device may repeat: every occurrence is kept, in order.
     */
    if (!val || (!is_string_param(name) && parse_u64(val, val_len, &n)))
        return false;
    if (cl->nr_params == CMDLINE_MAX_PARAMS)
        return false;
    cl->params[cl->nr_params].name = name;
    cl->params[cl->nr_params].val = val;
    cl->params[cl->nr_params].val_len = val_len;
    cl->nr_params++;
    return true;
}

const char *cmdline_param(const struct cmdline *cl, const char *name, size_t *len)
{
    for (unsigned int i = cl->nr_params; i-- > 0;)
        if (strcmp(cl->params[i].name, name) == 0) {
            *len = cl->params[i].val_len;
            return cl->params[i].val;
        }
    return NULL;
}

uint64_t cmdline_param_u64(const struct cmdline *cl, const char *name, uint64_t def)
{
    size_t len;
    uint64_t n;
    const char *v = cmdline_param(cl, name, &len);
    if (!v || parse_u64(v, len, &n))
        return def;
    return n;
}

void cmdline_parse(const char *s, struct cmdline *cl)
{
    bool have_command = false;

    memset(cl, 0, sizeof(*cl));
    cl->command = lookup(command_names, ARRAY_SIZE(command_names), DEFAULT_COMMAND,
                         strlen(DEFAULT_COMMAND));

    if (!s)
        return;
    while (*s) {
        const char *word, *val = NULL, *name;
        size_t len = 0, key_len, val_len = 0;

        while (is_space(*s))
            s++;
        if (!*s)
            break;
        word = s;
        while (word[len] && !is_space(word[len]))
            len++;
        s += len;
        for (key_len = 0; key_len < len && word[key_len] != '='; key_len++)
            ;
        if (key_len < len) {
            val = word + key_len + 1;
            val_len = len - key_len - 1;
        }

        name = lookup(command_names, ARRAY_SIZE(command_names), word, key_len);
        if (name) {
            if (have_command) {
                warn(cl, word, len, CMDLINE_EXTRA_COMMAND);
                continue;
            }
            have_command = true;
            cl->command = name;
            cl->arg = val;
            cl->arg_len = val_len;
            continue;
        }
        name = lookup(param_names, ARRAY_SIZE(param_names), word, key_len);
        if (!name)
            warn(cl, word, len, CMDLINE_UNKNOWN);
        else if (!set_param(cl, name, val, val_len))
            warn(cl, word, len, CMDLINE_BAD_VALUE);
    }
}

void cmdline_print_warnings(const struct cmdline *cl)
{
    static const char *const what[] = {
        [CMDLINE_UNKNOWN] = "unknown word",
        [CMDLINE_EXTRA_COMMAND] = "second command",
        [CMDLINE_BAD_VALUE] = "bad value in",
    };

    for (unsigned int i = 0; i < cl->nr_warnings; i++)
        kprintf("warning: %s '%.*s' ignored\n", what[cl->warnings[i].why],
                (int)cl->warnings[i].len, cl->warnings[i].word);
}
