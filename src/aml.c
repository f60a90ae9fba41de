/*
 * aml.c: the AML and resource-descriptor encoder (aml.h).
 *
 * Section numbers are the ACPI 6.5 specification's. Open objects do not reserve room for
 * their PkgLength: aml_end() measures the body, encodes the PkgLength (and a Buffer's size)
 * and moves the body up to make room, so every object gets the shortest encoding.
 */
#include <errno.h>
#include <string.h>

#include "aml.h"

/* §20.2 opcodes */
#define AML_ZERO 0x00
#define AML_ONE 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_ONES 0xff
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_ROOT_CHAR '\\'
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f

/* Open objects whose aml_end() also writes a Buffer's size. */
#define OPEN_BUFFER ((size_t)1 << (sizeof(size_t) * 8 - 1))

void aml_init(struct aml *a, void *buf, size_t cap)
{
    memset(a, 0, sizeof(*a));
    a->buf = buf;
    a->cap = cap;
}

long aml_finish(const struct aml *a)
{
    if (a->err)
        return a->err;
    return a->depth ? -EINVAL : (long)a->len;
}

static void fail(struct aml *a, int err)
{
    if (!a->err)
        a->err = err;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (a->err)
        return;
    if (n > a->cap - a->len) {
        fail(a, -ENOSPC);
        return;
    }
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void byte(struct aml *a, uint8_t b)
{
    aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        byte(a, (uint8_t)(v >> (8 * i)));
}

static bool lead_char(char c)
{
    return (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
    return lead_char(c) || (c >= '0' && c <= '9');
}

bool aml_valid_nameseg(const char *s)
{
    if (!s || !lead_char(s[0]))
        return false;
    for (int i = 1; i < 4; i++)
        if (!name_char(s[i]))
            return false;
    return s[4] == '\0';
}

/* One NameSeg of 1-4 characters from s (up to '.' or NUL), padded with '_' (§20.2.2). */
static const char *name_seg(const char *s, char seg[4])
{
    unsigned n = 0;
    if (!lead_char(*s))
        return NULL;
    while (*s && *s != '.') {
        if (n == 4 || !name_char(*s))
            return NULL;
        seg[n++] = *s++;
    }
    while (n < 4)
        seg[n++] = '_';
    return *s == '.' ? s + 1 : s;
}

void aml_name_string(struct aml *a, const char *name)
{
    char segs[4][4];
    unsigned n = 0;
    const char *s = name;

    if (*s == AML_ROOT_CHAR) {
        byte(a, AML_ROOT_CHAR);
        s++;
    }
    while (*s) {
        if (n == 4 || !(s = name_seg(s, segs[n++]))) {
            fail(a, -EINVAL);
            return;
        }
    }
    if (n == 0) {
        byte(a, AML_ZERO); /* NullName: only the root "\\" */
        return;
    }
    if (n == 2)
        byte(a, AML_DUAL_NAME_PREFIX);
    else if (n > 2) {
        byte(a, AML_MULTI_NAME_PREFIX);
        byte(a, (uint8_t)n);
    }
    aml_bytes(a, segs, 4 * n);
}

/* The shortest integer encoding of v (§20.2.3) into out: its length. */
static size_t encode_integer(uint64_t v, uint8_t out[9])
{
    size_t n;
    if (v == 0 || v == 1) {
        out[0] = (uint8_t)v; /* ZeroOp, OneOp */
        return 1;
    }
    if (v == UINT64_MAX) {
        out[0] = AML_ONES; /* 64-bit integers: the DSDT's revision is 2 */
        return 1;
    }
    if (v <= 0xff) {
        out[0] = AML_BYTE_PREFIX;
        n = 1;
    } else if (v <= 0xffff) {
        out[0] = AML_WORD_PREFIX;
        n = 2;
    } else if (v <= 0xffffffff) {
        out[0] = AML_DWORD_PREFIX;
        n = 4;
    } else {
        out[0] = AML_QWORD_PREFIX;
        n = 8;
    }
    for (size_t i = 0; i < n; i++)
        out[1 + i] = (uint8_t)(v >> (8 * i));
    return 1 + n;
}

void aml_integer(struct aml *a, uint64_t v)
{
    uint8_t b[9];
    aml_bytes(a, b, encode_integer(v, b));
}

void aml_string(struct aml *a, const char *s)
{
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p > 0x7f)
            fail(a, -EINVAL); /* AsciiCharList: 0x01-0x7f */
    byte(a, AML_STRING_PREFIX);
    aml_bytes(a, s, strlen(s) + 1);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool aml_is_eisaid(const char *id)
{
    if (!id || strlen(id) != 7)
        return false;
    for (int i = 0; i < 3; i++)
        if (id[i] < 'A' || id[i] > 'Z')
            return false;
    for (int i = 3; i < 7; i++)
        if (hexval(id[i]) < 0)
            return false;
    return true;
}

/* §6.1.5 (_HID): three 5-bit letters (A = 1) and four hex digits, stored big-endian: the
 * integer's low byte holds the first letter's bits. */
uint32_t aml_eisaid(const char *id)
{
    if (!aml_is_eisaid(id))
        return 0xffffffffu;
    uint32_t c1 = (uint32_t)(id[0] - '@'), c2 = (uint32_t)(id[1] - '@'),
             c3 = (uint32_t)(id[2] - '@');
    uint32_t b0 = (c1 << 2) | (c2 >> 3);
    uint32_t b1 = ((c2 & 7) << 5) | c3;
    uint32_t b2 = (uint32_t)(hexval(id[3]) << 4 | hexval(id[4]));
    uint32_t b3 = (uint32_t)(hexval(id[5]) << 4 | hexval(id[6]));
    return b0 | b1 << 8 | b2 << 16 | b3 << 24;
}

void aml_name(struct aml *a, const char *name)
{
    byte(a, AML_NAME_OP);
    aml_name_string(a, name);
}

static void open_obj(struct aml *a, size_t tag)
{
    if (a->err)
        return;
    if (a->depth == AML_MAX_DEPTH) {
        fail(a, -EINVAL);
        return;
    }
    a->open[a->depth++] = a->len | tag;
}

void aml_scope_begin(struct aml *a, const char *name)
{
    byte(a, AML_SCOPE_OP);
    open_obj(a, 0);
    aml_name_string(a, name);
}

void aml_device_begin(struct aml *a, const char *name)
{
    byte(a, AML_EXT_OP_PREFIX);
    byte(a, AML_DEVICE_OP);
    open_obj(a, 0);
    aml_name_string(a, name);
}

void aml_package_begin(struct aml *a, unsigned n)
{
    if (n > 255) {
        fail(a, -EINVAL); /* NumElements is a byte; VarPackageOp is not needed here */
        return;
    }
    byte(a, AML_PACKAGE_OP);
    open_obj(a, 0);
    byte(a, (uint8_t)n);
}

void aml_buffer_begin(struct aml *a)
{
    byte(a, AML_BUFFER_OP);
    open_obj(a, OPEN_BUFFER);
}

/* §20.2.4: PkgLength counts itself. One byte holds up to 63; otherwise bits 7:6 of the lead
 * byte give the number (1-3) of following bytes, its bits 3:0 the low nibble, and each
 * following byte 8 more bits. */
static size_t encode_pkglength(size_t body, uint8_t out[4])
{
    size_t total;
    unsigned extra;
    if (body + 1 <= 0x3f) {
        out[0] = (uint8_t)(body + 1);
        return 1;
    }
    for (extra = 1; extra <= 3; extra++) {
        total = body + 1 + extra;
        if (total < ((size_t)1 << (4 + 8 * extra)))
            break;
    }
    if (extra > 3)
        return 0;
    out[0] = (uint8_t)((extra << 6) | (total & 0xf));
    for (unsigned i = 0; i < extra; i++)
        out[1 + i] = (uint8_t)(total >> (4 + 8 * i));
    return 1 + extra;
}

void aml_end(struct aml *a)
{
    uint8_t hdr[4 + 9], size[9];
    size_t n = 0, hlen;

    if (a->err)
        return;
    if (a->depth == 0) {
        fail(a, -EINVAL);
        return;
    }
    size_t start = a->open[--a->depth];
    bool is_buffer = start & OPEN_BUFFER;
    start &= ~OPEN_BUFFER;
    size_t body = a->len - start;
    if (is_buffer)
        n = encode_integer(body, size);
    hlen = encode_pkglength(body + n, hdr);
    if (hlen == 0) {
        fail(a, -ENOSPC);
        return;
    }
    memcpy(hdr + hlen, size, n);
    hlen += n;
    if (hlen > a->cap - a->len) {
        fail(a, -ENOSPC);
        return;
    }
    memmove(a->buf + start + hlen, a->buf + start, body);
    memcpy(a->buf + start, hdr, hlen);
    a->len += hlen;
}

/* ---- resource descriptors (§6.4) ---- */

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
    byte(a, 0x47); /* small item 0x08, length 7 */
    byte(a, 0x01); /* decodes 16 bits */
    le(a, base, 2); /* minimum */
    le(a, base, 2); /* maximum */
    byte(a, 1);     /* alignment */
    byte(a, len);
}

void aml_res_mem32_fixed(struct aml *a, uint32_t base, uint32_t len)
{
    byte(a, 0x86); /* large item 0x06 */
    le(a, 9, 2);
    byte(a, 0x01); /* read/write */
    le(a, base, 4);
    le(a, len, 4);
}

void aml_res_interrupt(struct aml *a, uint32_t gsi, bool edge, bool active_low)
{
    byte(a, 0x89); /* large item 0x09 */
    le(a, 6, 2);   /* flags, count and one interrupt, no resource source */
    /* bit 0 consumer, bit 1 edge (0 level), bit 2 active low, bit 3 shared (0 exclusive) */
    byte(a, (uint8_t)(0x01 | (edge ? 0x02 : 0) | (active_low ? 0x04 : 0)));
    byte(a, 1);
    le(a, gsi, 4);
}

void aml_res_end(struct aml *a)
{
    byte(a, 0x79); /* small item 0x0f, length 1 */
    byte(a, 0x00);
}
