/*
 * fdt.h: a small, bounds-checked reader for flattened device trees (DTSpec v0.4, chapter 5).
 *
 * Nodes and properties are named by the offset of their FDT_BEGIN_NODE / FDT_PROP token in
 * the structure block; -1 means "none" (end of tree, not found, or malformed blob). Every
 * offset, length and string is checked against the header's block sizes, so a hostile blob
 * can make lookups fail but cannot make the reader touch memory outside it.
 */
#ifndef GUEST_FDT_H
#define GUEST_FDT_H

#include <stdbool.h>
#include <stdint.h>

#define FDT_MAGIC 0xd00dfeedu
#define FDT_HEADER_SIZE 40

struct fdt {
    const uint8_t *blob;
    uint32_t totalsize;
    const uint8_t *structs; /* structure block */
    uint32_t size_struct;
    const char *strings; /* strings block */
    uint32_t size_strings;
};

struct fdt_prop {
    const char *name;
    const void *data;
    uint32_t len;
};

/* Check the header of the blob at `blob` (4-byte aligned, at most max_size bytes): 0 or -1. */
int fdt_init(struct fdt *fdt, const void *blob, uint64_t max_size);

/* One token of the structure block; NOPs are skipped. */
enum fdt_token_type { FDT_TOKEN_BEGIN_NODE, FDT_TOKEN_PROP, FDT_TOKEN_END_NODE };

struct fdt_token {
    enum fdt_token_type type;
    const char *name;   /* BEGIN_NODE: the node's name ("" for the root) */
    uint32_t nameoff;   /* PROP: the name's offset in the strings block, see fdt_string() */
    const void *data;   /* PROP: value and length, inside the blob */
    uint32_t len;
};

/*
 * The cheapest walk: token after token, each visited once. Start with *off = 0. Returns 1
 * with *tok filled in and *off advanced, 0 at FDT_END, -1 on a malformed structure block.
 */
int fdt_next_token(const struct fdt *fdt, int *off, struct fdt_token *tok);
/* The checked, NUL-terminated string at `nameoff` in the strings block, or NULL. */
const char *fdt_string(const struct fdt *fdt, uint32_t nameoff);

/*
 * Depth-first walk: node -1 gives the root (depth 0). From a node, returns the next node in
 * document order and adds to *depth the levels descended (+1 per child, -1 per closed node).
 * Returns -1 at the end of the tree or on a malformed structure block.
 */
int fdt_next_node(const struct fdt *fdt, int node, int *depth);
const char *fdt_get_name(const struct fdt *fdt, int node);

/* Properties of one node, in order (they precede its subnodes in the blob). */
int fdt_first_property(const struct fdt *fdt, int node);
int fdt_next_property(const struct fdt *fdt, int prop);
int fdt_get_property(const struct fdt *fdt, int prop, struct fdt_prop *out);
#define fdt_for_each_property(fdt, prop, node)                                                 \
    for ((prop) = fdt_first_property((fdt), (node)); (prop) >= 0;                              \
         (prop) = fdt_next_property((fdt), (prop)))

/* Value of the named property of a node, or NULL; *lenp (if not NULL) gets its length. */
const void *fdt_getprop(const struct fdt *fdt, int node, const char *name, uint32_t *lenp);

/* The child of `parent` named `name` ("cpu@0"; "cpu" also matches "cpu@0"), or -1. */
int fdt_subnode(const struct fdt *fdt, int parent, const char *name);
/* The node at an absolute path such as "/cpus" or "/", or -1. */
int fdt_path(const struct fdt *fdt, const char *path);
int fdt_parent(const struct fdt *fdt, int node);

/* Is `str` one of the NUL-separated strings in list[0..len)? */
bool fdt_stringlist_contains(const char *list, uint32_t len, const char *str);
/* The first node after `start` (-1: from the root) whose "compatible" lists `compat`, or -1. */
int fdt_find_compatible(const struct fdt *fdt, int start, const char *compat);

/* Big-endian cells: n = 1 or 2 cells give a 32- or 64-bit value; more cells keep the last 2. */
uint64_t fdt_read_cells(const void *p, unsigned n);
/* #address-cells / #size-cells a node declares for its children (defaults 2 and 1). */
void fdt_child_cells(const struct fdt *fdt, int node, unsigned *ac, unsigned *sc);
/*
 * Entry `index` of a node's "reg", decoded with its parent's cell sizes. The address is the
 * last (up to two) address cells, so an ISA child's <1 0x3f8 8> gives address 0x1000003f8,
 * whose low 32 bits are the port. 0, or -1 if there is no such entry.
 */
int fdt_read_reg(const struct fdt *fdt, int node, unsigned index, uint64_t *addr,
                 uint64_t *size);

#endif
