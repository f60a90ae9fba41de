/*
 * fdt.c: a small, bounds-checked flattened-device-tree reader (DTSpec v0.4, chapter 5).
 *
 * The blob comes from the VMM and is not trusted: every token is read through next_tag() (or
 * its hot-path twin fdt_next_token(), which must keep the same checks): alignment, the token
 * and its payload inside the structure block, names NUL-terminated inside their block,
 * lengths that cannot overflow. Anything odd ends the walk with -1 instead of reading past
 * the blob. Offsets are ints, so fdt_init() refuses blobs of 2 GiB or more.
 *
 * Cost note: every instruction here is emulated on our hosts (0.3-0.7 us each): a lookup by
 * path or property name walks the blob from the start, so boot code should make one pass with
 * fdt_next_token() instead (platform.c does), and this file reads words, not bytes.
 */
#include "fdt.h"

#include "kernel.h"

#define FDT_BEGIN_NODE 0x1
#define FDT_END_NODE 0x2
#define FDT_PROP 0x3
#define FDT_NOP 0x4
#define FDT_END 0x9

#define FDT_MAX_DEPTH 32

/* Big-endian load: one mov and one bswap (the blob is 4-byte aligned, checked by fdt_init). */
static inline uint32_t rd32(const void *p)
{
    uint32_t v;

    __builtin_memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

/*
 * Length of the NUL-terminated string at p, where p is 4-byte aligned and room is a
 * multiple of 4; returns room if there is no NUL. A word at a time (node names are padded
 * to 4 bytes, so the words read never leave the block): on PVM each instruction counts.
 */
static uint32_t strnlen_aligned(const uint8_t *p, uint32_t room)
{
    for (uint32_t i = 0; i < room; i += 4) {
        uint32_t w;

        __builtin_memcpy(&w, p + i, 4);
        if ((w - 0x01010101u) & ~w & 0x80808080u) {
            while (p[i])
                i++;
            return i;
        }
    }
    return room;
}

int fdt_init(struct fdt *fdt, const void *blob, uint64_t max_size)
{
    const uint8_t *h = blob;
    uint32_t totalsize, off_struct, off_strings, version, size_struct, size_strings;

    if (!blob || (uintptr_t)blob % 4 || max_size < FDT_HEADER_SIZE || rd32(h) != FDT_MAGIC)
        return -1;
    totalsize = rd32(h + 4);
    off_struct = rd32(h + 8);
    off_strings = rd32(h + 12);
    version = rd32(h + 20);
    size_strings = rd32(h + 32);
    if (totalsize < FDT_HEADER_SIZE || totalsize > max_size || totalsize > INT32_MAX ||
        version < 16)
        return -1;
    /* size_dt_struct appeared in version 17; before that the block runs to the end. */
    size_struct = version >= 17 ? rd32(h + 36) : totalsize - off_struct;
    if (off_struct < FDT_HEADER_SIZE || off_struct > totalsize || off_struct % 4 ||
        size_struct > totalsize - off_struct)
        return -1;
    if (off_strings > totalsize || size_strings > totalsize - off_strings)
        return -1;
    fdt->blob = h;
    fdt->totalsize = totalsize;
    fdt->structs = h + off_struct;
    fdt->size_struct = size_struct & ~3u;
    if (fdt->size_struct < 4)
        return -1;
    fdt->strings = (const char *)h + off_strings;
    fdt->size_strings = size_strings;
    return 0;
}

/*
 * Decode the token at `off`: its tag, and the offset just past it (and its payload).
 * Returns 0, or -1 if the token or its payload does not fit in the structure block.
 */
static int next_tag(const struct fdt *fdt, int off, uint32_t *tag, int *next)
{
    uint32_t o = (uint32_t)off, room, len;

    if (off < 0 || o % 4 || fdt->size_struct < 4 || o > fdt->size_struct - 4)
        return -1;
    *tag = rd32(fdt->structs + o);
    o += 4;
    room = fdt->size_struct - o;
    switch (*tag) {
    case FDT_BEGIN_NODE:
        len = strnlen_aligned(fdt->structs + o, room);
        if (len == room)
            return -1; /* name not terminated inside the block */
        o += (len + 1 + 3) & ~3u;
        break;
    case FDT_PROP:
        if (room < 8)
            return -1;
        len = rd32(fdt->structs + o);
        if (len > room - 8)
            return -1;
        o += 8 + ((len + 3) & ~3u);
        break;
    case FDT_END_NODE:
    case FDT_NOP:
    case FDT_END:
        break;
    default:
        return -1;
    }
    if (o > fdt->size_struct)
        return -1;
    *next = (int)o;
    return 0;
}

int fdt_next_node(const struct fdt *fdt, int node, int *depth)
{
    uint32_t tag;
    int off = node < 0 ? 0 : node, next;

    if (node < 0) {
        /* The root: skip leading NOPs, expect FDT_BEGIN_NODE. */
        for (;;) {
            if (next_tag(fdt, off, &tag, &next))
                return -1;
            if (tag == FDT_BEGIN_NODE) {
                *depth = 0;
                return off;
            }
            if (tag != FDT_NOP)
                return -1;
            off = next;
        }
    }
    if (next_tag(fdt, off, &tag, &next) || tag != FDT_BEGIN_NODE)
        return -1;
    for (off = next;; off = next) {
        if (next_tag(fdt, off, &tag, &next))
            return -1;
        switch (tag) {
        case FDT_BEGIN_NODE:
            ++*depth;
            return off;
        case FDT_END_NODE:
            --*depth;
            break;
        case FDT_END:
            return -1;
        default:
            break;
        }
    }
}

/*
 * The same checks as next_tag(), written out for the hot path of a one-pass walk: each token
 * is read once and costs about 25 instructions (a PROP) instead of twice that.
 */
int fdt_next_token(const struct fdt *fdt, int *offp, struct fdt_token *tok)
{
    const uint8_t *base = fdt->structs;
    uint32_t end = fdt->size_struct; /* a multiple of 4, at least 4 (fdt_init) */
    uint32_t off = (uint32_t)*offp, room, len;

    for (;;) {
        if (off % 4 || off > end - 4) /* a negative *offp is caught here too */
            return -1;
        switch (rd32(base + off)) {
        case FDT_PROP:
            off += 4;
            room = end - off;
            if (room < 8)
                return -1;
            len = rd32(base + off);
            if (len > room - 8)
                return -1;
            tok->type = FDT_TOKEN_PROP;
            tok->len = len;
            tok->nameoff = rd32(base + off + 4);
            tok->data = base + off + 8;
            /* room is a multiple of 4, so rounding len up stays inside the block */
            *offp = (int)(off + 8 + ((len + 3) & ~3u));
            return 1;
        case FDT_BEGIN_NODE:
            off += 4;
            room = end - off;
            len = strnlen_aligned(base + off, room);
            if (len == room)
                return -1;
            tok->type = FDT_TOKEN_BEGIN_NODE;
            tok->name = (const char *)base + off;
            *offp = (int)(off + ((len + 4) & ~3u));
            return 1;
        case FDT_END_NODE:
            tok->type = FDT_TOKEN_END_NODE;
            *offp = (int)(off + 4);
            return 1;
        case FDT_NOP:
            off += 4;
            continue;
        case FDT_END:
            return 0;
        default:
            return -1;
        }
    }
}

const char *fdt_string(const struct fdt *fdt, uint32_t nameoff)
{
    if (nameoff >= fdt->size_strings ||
        strnlen(fdt->strings + nameoff, fdt->size_strings - nameoff) ==
            fdt->size_strings - nameoff)
        return NULL;
    return fdt->strings + nameoff;
}

const char *fdt_get_name(const struct fdt *fdt, int node)
{
    uint32_t tag;
    int next;

    if (next_tag(fdt, node, &tag, &next) || tag != FDT_BEGIN_NODE)
        return NULL;
    return (const char *)fdt->structs + node + 4;
}

/* The next FDT_PROP from `off` on, before any subnode or end of the node; or -1. */
static int scan_property(const struct fdt *fdt, int off)
{
    uint32_t tag;
    int next;

    for (;; off = next) {
        if (next_tag(fdt, off, &tag, &next))
            return -1;
        if (tag == FDT_PROP)
            return off;
        if (tag != FDT_NOP)
            return -1;
    }
}

int fdt_first_property(const struct fdt *fdt, int node)
{
    uint32_t tag;
    int next;

    if (next_tag(fdt, node, &tag, &next) || tag != FDT_BEGIN_NODE)
        return -1;
    return scan_property(fdt, next);
}

int fdt_next_property(const struct fdt *fdt, int prop)
{
    uint32_t tag;
    int next;

    if (next_tag(fdt, prop, &tag, &next) || tag != FDT_PROP)
        return -1;
    return scan_property(fdt, next);
}

int fdt_get_property(const struct fdt *fdt, int prop, struct fdt_prop *out)
{
    uint32_t tag;
    int next;

    if (next_tag(fdt, prop, &tag, &next) || tag != FDT_PROP)
        return -1;
    out->name = fdt_string(fdt, rd32(fdt->structs + prop + 8));
    if (!out->name)
        return -1;
    out->len = rd32(fdt->structs + prop + 4);
    out->data = fdt->structs + prop + 12;
    return 0;
}

const void *fdt_getprop(const struct fdt *fdt, int node, const char *name, uint32_t *lenp)
{
    struct fdt_prop p;
    int prop;

    fdt_for_each_property(fdt, prop, node) {
        if (fdt_get_property(fdt, prop, &p) == 0 && strcmp(p.name, name) == 0) {
            if (lenp)
                *lenp = p.len;
            return p.data;
        }
    }
    return NULL;
}

/* Does a node name ("cpu@0") match `name`? A name without '@' also matches any unit address. */
static bool name_matches(const char *node_name, const char *name)
{
    size_t n = 0;
    bool has_unit = false;

    for (; name[n]; n++)
        has_unit |= name[n] == '@';
    if (strncmp(node_name, name, n))
        return false;
    return node_name[n] == '\0' || (node_name[n] == '@' && !has_unit);
}

int fdt_subnode(const struct fdt *fdt, int parent, const char *name)
{
    int depth = 0, node = parent;
    const char *nn;

    while ((node = fdt_next_node(fdt, node, &depth)) >= 0 && depth > 0) {
        if (depth != 1)
            continue;
        nn = fdt_get_name(fdt, node);
        if (nn && name_matches(nn, name))
            return node;
    }
    return -1;
}

int fdt_path(const struct fdt *fdt, const char *path)
{
    char comp[64];
    int depth, node = fdt_next_node(fdt, -1, &depth);

    if (path[0] != '/')
        return -1;
    while (node >= 0 && *path) {
        size_t n = 0;

        while (*path == '/')
            path++;
        while (path[n] && path[n] != '/')
            n++;
        if (n == 0)
            break;
        if (n >= sizeof(comp))
            return -1;
        memcpy(comp, path, n);
        comp[n] = '\0';
        node = fdt_subnode(fdt, node, comp);
        path += n;
    }
    return node;
}

int fdt_parent(const struct fdt *fdt, int node)
{
    int stack[FDT_MAX_DEPTH];
    int depth = 0, off = fdt_next_node(fdt, -1, &depth);

    while (off >= 0 && depth >= 0 && depth < FDT_MAX_DEPTH) {
        stack[depth] = off;
        if (off == node)
            return depth > 0 ? stack[depth - 1] : -1;
        off = fdt_next_node(fdt, off, &depth);
    }
    return -1;
}

bool fdt_stringlist_contains(const char *list, uint32_t len, const char *str)
{
    size_t n = strlen(str);

    while (len > n) {
        size_t l = strnlen(list, len);

        if (l == n && memcmp(list, str, n) == 0)
            return true;
        if (l >= len)
            break;
        list += l + 1;
        len -= l + 1;
    }
    return false;
}

int fdt_find_compatible(const struct fdt *fdt, int start, const char *compat)
{
    int depth = 0, node = start;
    const char *val;
    uint32_t len;

    while ((node = fdt_next_node(fdt, node, &depth)) >= 0) {
        val = fdt_getprop(fdt, node, "compatible", &len);
        if (val && fdt_stringlist_contains(val, len, compat))
            return node;
    }
    return -1;
}

uint64_t fdt_read_cells(const void *p, unsigned n)
{
    const uint8_t *b = p;

    if (n == 0)
        return 0;
    if (n == 1)
        return rd32(b);
    b += 4 * (n - 2);
    return ((uint64_t)rd32(b) << 32) | rd32(b + 4);
}

void fdt_child_cells(const struct fdt *fdt, int node, unsigned *ac, unsigned *sc)
{
    const void *p;
    uint32_t len;

    *ac = 2; /* DTSpec 2.3.5: defaults when the property is absent */
    *sc = 1;
    p = fdt_getprop(fdt, node, "#address-cells", &len);
    if (p && len == 4)
        *ac = rd32(p);
    p = fdt_getprop(fdt, node, "#size-cells", &len);
    if (p && len == 4)
        *sc = rd32(p);
}

int fdt_read_reg(const struct fdt *fdt, int node, unsigned index, uint64_t *addr,
                 uint64_t *size)
{
    unsigned ac, sc;
    uint32_t len, entry;
    const uint8_t *reg;
    int parent = fdt_parent(fdt, node);

    if (parent < 0)
        return -1;
    fdt_child_cells(fdt, parent, &ac, &sc);
    if (ac == 0 || ac > 4 || sc > 4)
        return -1;
    reg = fdt_getprop(fdt, node, "reg", &len);
    entry = 4 * (ac + sc);
    if (!reg || index >= len / entry)
        return -1;
    reg += index * entry;
    *addr = fdt_read_cells(reg, ac);
    *size = fdt_read_cells(reg + 4 * ac, sc);
    return 0;
}
