/*
 * json.c: the small strict JSON reader and the string writer (json.h) that the control
 * socket (cmd/ctl/apisock.c), its client (cmd/ctl/ctl.c) and the exits report's JSON output
 * (cmd/exits/) share.
 *
 * Hazards. Every byte read may be untrusted (the control socket's requests): the reader bounds
 * every loop by the end of its input, decodes strings into a buffer no smaller than the input
 * it accepts (JSON_MAX_TEXT; a decoded string is never longer than its encoding) and refuses
 * what it does not know instead of guessing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "minivmm/errmsg.h"
#include "minivmm/json.h"

/* ---- The reader (RFC 8259, restricted to flat objects) ---- */

struct jp {
    const char *s, *p, *end;
    struct json *o; /* NULL: check the syntax only */
    size_t t;       /* used bytes of o->text */
    bool allow_arrays;
    char *err;
    size_t errlen;
};

static int jfail(struct jp *j, const char *what)
{
    errmsg_set(j->err, j->errlen, "bad JSON at byte %zu: %s", (size_t)(j->p - j->s), what);
    return -EINVAL;
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int put_byte(struct jp *j, char c)
{
    if (!j->o)
        return 0;
    if (j->t >= sizeof(j->o->text))
        return jfail(j, "strings too long");
    j->o->text[j->t++] = c;
    return 0;
}

static int put_utf8(struct jp *j, uint32_t cp)
{
    char b[4];
    int n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (char)(0xf0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    for (int i = 0; i < n; i++)
        if (put_byte(j, b[i]))
            return -EINVAL;
    return 0;
}

static int hex4(struct jp *j, uint32_t *out)
{
    uint32_t v = 0;
    if (j->end - j->p < 4)
        return jfail(j, "short \\u escape");
    for (int i = 0; i < 4; i++) {
        char c = *j->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return jfail(j, "bad \\u escape");
    }
    *out = v;
    return 0;
}

/* One raw UTF-8 sequence starting at j->p (lead byte >= 0x80): copied when well-formed
 * (no overlongs, surrogates or code points above U+10FFFF). */
static int utf8_seq(struct jp *j)
{
    const unsigned char *u = (const unsigned char *)j->p;
    size_t left = (size_t)(j->end - j->p);
    uint32_t cp, min;
    int n;
    if ((u[0] & 0xe0) == 0xc0)
        n = 2, cp = u[0] & 0x1f, min = 0x80;
    else if ((u[0] & 0xf0) == 0xe0)
        n = 3, cp = u[0] & 0x0f, min = 0x800;
    else if ((u[0] & 0xf8) == 0xf0)
        n = 4, cp = u[0] & 0x07, min = 0x10000;
    else
        return jfail(j, "invalid UTF-8");
    if (left < (size_t)n)
        return jfail(j, "invalid UTF-8");
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xc0) != 0x80)
            return jfail(j, "invalid UTF-8");
        cp = (cp << 6) | (u[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return jfail(j, "invalid UTF-8");
    for (int i = 0; i < n; i++)
        if (put_byte(j, (char)u[i]))
            return -EINVAL;
    j->p += n;
    return 0;
}

/* A string at j->p ('"'); *out points at its decoded, NUL-terminated copy (NULL when o is). */
static int parse_string(struct jp *j, const char **out)
{
    size_t start = j->t;
    j->p++; /* '"' */
    for (;;) {
        if (j->p >= j->end)
            return jfail(j, "unterminated string");
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20)
            return jfail(j, "control character in string");
        if (c >= 0x80) {
            if (utf8_seq(j))
                return -EINVAL;
            continue;
        }
        if (c != '\\') {
            j->p++;
            if (put_byte(j, (char)c))
                return -EINVAL;
            continue;
        }
        if (++j->p >= j->end)
            return jfail(j, "unterminated string");
        char e = *j->p++;
        const char *esc = strchr("\"\\/bfnrt", e);
        if (e && esc) {
            static const char dec[] = "\"\\/\b\f\n\r\t";
            if (put_byte(j, dec[esc - "\"\\/bfnrt"]))
                return -EINVAL;
            continue;
        }
        if (e != 'u')
            return jfail(j, "bad escape");
        uint32_t cp, lo;
        if (hex4(j, &cp))
            return -EINVAL;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return jfail(j, "lone low surrogate");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u')
                return jfail(j, "lone high surrogate");
            j->p += 2;
            if (hex4(j, &lo))
                return -EINVAL;
            if (lo < 0xdc00 || lo > 0xdfff)
                return jfail(j, "bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0)
            return jfail(j, "\\u0000 in string");
        if (put_utf8(j, cp))
            return -EINVAL;
    }
    if (put_byte(j, '\0'))
        return -EINVAL;
    *out = j->o ? j->o->text + start : NULL;
    return 0;
}

/* An integer from INT64_MIN to UINT64_MAX: *out saturates at INT64_MAX, *uout holds the
 * non-negative ones whole (0 for negative). */
static int parse_int(struct jp *j, int64_t *out, uint64_t *uout)
{
    bool neg = false;
    uint64_t v = 0, lim;
    if (*j->p == '-') {
        neg = true;
        j->p++;
    }
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
        return jfail(j, "bad number");
    if (*j->p == '0' && j->end - j->p > 1 && j->p[1] >= '0' && j->p[1] <= '9')
        return jfail(j, "leading zero in number");
    lim = neg ? (uint64_t)INT64_MAX + 1 : UINT64_MAX;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        unsigned d = (unsigned)(*j->p - '0');
        if (v > (lim - d) / 10)
            return jfail(j, "integer out of range");
        v = v * 10 + d;
        j->p++;
    }
    if (j->p < j->end && (*j->p == '.' || *j->p == 'e' || *j->p == 'E'))
        return jfail(j, "numbers must be integers");
    *out = neg ? (int64_t)(0 - v) : v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
    *uout = neg ? 0 : v;
    return 0;
}

static bool literal(struct jp *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return false;
    j->p += n;
    return true;
}

static int parse_object(struct jp *j);

static int parse_array(struct jp *j, struct json_member *m)
{
    const char *start = j->p;
    struct jp sub = *j;
    sub.o = NULL; /* elements are checked here and read by json_array_next() */
    sub.allow_arrays = false;
    sub.p++; /* '[' */
    skip_ws(&sub);
    if (sub.p < sub.end && *sub.p == ']') {
        sub.p++;
    } else {
        for (;;) {
            skip_ws(&sub);
            if (sub.p >= sub.end || *sub.p != '{')
                return jfail(&sub, "arrays hold objects only");
            if (parse_object(&sub))
                return -EINVAL;
            skip_ws(&sub);
            if (sub.p < sub.end && *sub.p == ',') {
                sub.p++;
                continue;
            }
            if (sub.p < sub.end && *sub.p == ']') {
                sub.p++;
                break;
            }
            return jfail(&sub, "expected ',' or ']'");
        }
    }
    j->p = sub.p;
    if (m) {
        m->arr = start;
        m->arrlen = (size_t)(j->p - start);
    }
    return 0;
}

static int parse_value(struct jp *j, struct json_member *m)
{
    struct json_member dummy;
    if (!m)
        m = &dummy;
    if (j->p >= j->end)
        return jfail(j, "expected a value");
    switch (*j->p) {
    case '"':
        m->type = JSON_STRING;
        return parse_string(j, &m->str);
    case 't':
    case 'f':
        m->type = JSON_BOOL;
        m->b = *j->p == 't';
        if (!literal(j, m->b ? "true" : "false"))
            return jfail(j, "bad literal");
        return 0;
    case 'n':
        return jfail(j, "null is not allowed");
    case '{':
        return jfail(j, "nested objects are not allowed");
    case '[':
        if (!j->allow_arrays)
            return jfail(j, "arrays are not allowed");
        m->type = JSON_ARRAY;
        return parse_array(j, m);
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
            m->type = JSON_INT;
            return parse_int(j, &m->num, &m->unum);
        }
        return jfail(j, "expected a value");
    }
}

/* An object at j->p ('{'): its members into j->o (when set). */
static int parse_object(struct jp *j)
{
    j->p++; /* '{' */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return 0;
    }
    for (;;) {
        struct json_member *m = NULL;
        const char *key;
        skip_ws(j);
        if (j->p >= j->end || *j->p != '"')
            return jfail(j, "expected a member name");
        if (j->o) {
            if (j->o->n == JSON_MAX_MEMBERS)
                return jfail(j, "too many members");
            m = &j->o->m[j->o->n];
            memset(m, 0, sizeof(*m));
        }
        if (parse_string(j, &key))
            return -EINVAL;
        if (m) {
            if (json_get(j->o, key))
                return jfail(j, "duplicate member name");
            m->key = key;
        }
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return jfail(j, "expected ':'");
        j->p++;
        skip_ws(j);
        if (parse_value(j, m))
            return -EINVAL;
        if (j->o)
            j->o->n++;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return 0;
        }
        return jfail(j, "expected ',' or '}'");
    }
}

int json_parse(const char *s, size_t len, bool allow_arrays, struct json *o, char *err,
               size_t errlen)
{
    struct jp j = {.s = s,
                   .p = s,
                   .end = s + len,
                   .o = o,
                   .allow_arrays = allow_arrays,
                   .err = err,
                   .errlen = errlen};
    o->n = 0;
    skip_ws(&j);
    if (j.p >= j.end || *j.p != '{')
        return jfail(&j, "expected an object");
    if (parse_object(&j))
        return -EINVAL;
    skip_ws(&j);
    if (j.p != j.end)
        return jfail(&j, "trailing bytes after the object");
    return 0;
}

const struct json_member *json_get(const struct json *o, const char *key)
{
    for (unsigned i = 0; i < o->n; i++)
        if (strcmp(o->m[i].key, key) == 0)
            return &o->m[i];
    return NULL;
}

int json_array_next(const struct json_member *arr, size_t *pos, struct json *o, char *err,
                    size_t errlen)
{
    const char *s = arr->arr, *end = arr->arr + arr->arrlen;
    const char *p = s + (*pos ? *pos : 1); /* skip '[' */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ','))
        p++;
    if (p >= end || *p == ']')
        return 0;
    struct jp j = {.s = s, .p = p, .end = end, .o = o, .err = err, .errlen = errlen};
    o->n = 0;
    if (*p != '{')
        return jfail(&j, "arrays hold objects only");
    if (parse_object(&j))
        return -EINVAL;
    *pos = (size_t)(j.p - s);
    return 1;
}

/* ---- The writer ---- */

/* The text that stands for byte c inside a JSON string: c itself, or an escape (RFC 8259
 * section 7). Quote and backslash get a backslash; control characters and DEL \u00XX; with
 * JSON_ASCII every byte from 0x80 too, one escape a byte. Its length; out holds 7 bytes. */
static size_t escape(unsigned char c, unsigned flags, char *out)
{
    if (c == '"' || c == '\\') {
        out[0] = '\\';
        out[1] = (char)c;
        return 2;
    }
    if (c < 0x20 || c == 0x7f || (c >= 0x80 && (flags & JSON_ASCII)))
        return (size_t)snprintf(out, 7, "\\u%04x", c);
    out[0] = (char)c;
    return 1;
}

void json_str(char *buf, size_t size, size_t *n, const char *s, unsigned flags)
{
    size_t k = *n;
    char e[7];
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (k + 1 < size)                                                                          \
            buf[k] = (c);                                                                          \
        k++;                                                                                       \
    } while (0)
    PUT('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        size_t len = escape(*p, flags, e);
        for (size_t i = 0; i < len; i++)
            PUT(e[i]);
    }
    PUT('"');
#undef PUT
    if (size)
        buf[k < size ? k : size - 1] = '\0';
    *n = k;
}

void json_fput_str(FILE *f, const char *s, unsigned flags)
{
    char e[7];
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        fwrite(e, 1, escape(*p, flags, e), f);
    fputc('"', f);
}
