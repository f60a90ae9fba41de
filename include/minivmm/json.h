/*
 * json.h: a small strict JSON reader for flat objects and a JSON string writer (lib/json.c),
 * shared by the control socket (cmd/ctl/apisock.h), `minivmm ctl` and the exits report's JSON
 * output.
 */
#ifndef MINIVMM_JSON_H
#define MINIVMM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- The reader ---- */

#define JSON_MAX_MEMBERS 48
#define JSON_MAX_TEXT 4096 /* an input this long always fits the decoded text buffer */

enum json_type { JSON_STRING, JSON_INT, JSON_BOOL, JSON_ARRAY };

struct json_member {
    const char *key; /* NUL-terminated, in the object's text buffer */
    enum json_type type;
    const char *str; /* STRING: decoded, NUL-terminated (no NUL inside: \u0000 is refused) */
    int64_t num;     /* INT: the value, INT64_MAX for those above it (see unum) */
    uint64_t unum;   /* INT: the value when not negative, up to UINT64_MAX (u64 counters); 0
                      * for negative ones */
    bool b;          /* BOOL */
    const char *arr; /* ARRAY: the raw text from '[' to its ']', into the parsed input */
    size_t arrlen;
};

struct json {
    unsigned n;
    struct json_member m[JSON_MAX_MEMBERS];
    char text[JSON_MAX_TEXT + 1]; /* decoded keys and strings */
};

/* Parses s[0..len) as one JSON object (RFC 8259) whose members are strings, integers (no
 * fraction or exponent, from INT64_MIN to UINT64_MAX: the control socket prints u64
 * counters) or booleans; with allow_arrays also arrays of such flat
 * objects (replies of `vf list`; their elements are read with json_array_next()).
 * Surrounding whitespace is allowed; duplicate keys, null, nesting and trailing bytes are not.
 * Decoded keys and strings (NULs included) beyond the text buffer are refused ("strings too
 * long"); an input of at most JSON_MAX_TEXT bytes always fits. 0, or -EINVAL with one line
 * in err. */
int json_parse(const char *s, size_t len, bool allow_arrays, struct json *o, char *err,
               size_t errlen);
/* The member `key`, or NULL. */
const struct json_member *json_get(const struct json *o, const char *key);
/* Walks an ARRAY member: *pos starts at 0; parses the next element into *o. 1 = an element,
 * 0 = end, -EINVAL with err. */
int json_array_next(const struct json_member *arr, size_t *pos, struct json *o, char *err,
                    size_t errlen);

/* ---- The writer ---- */

/* Escape every byte from 0x80 too (\u00XX, one a byte), so that the output is ASCII whatever
 * the input's encoding; without it UTF-8 passes through. */
#define JSON_ASCII 1u

/* Appends `s` as a JSON string (quotes and escapes) at buf + *n; never overflows: *n grows
 * by the full length, buf holds what fits, NUL-terminated. */
void json_str(char *buf, size_t size, size_t *n, const char *s, unsigned flags);
/* Writes `s` as a JSON string to f. */
void json_fput_str(FILE *f, const char *s, unsigned flags);

#endif
