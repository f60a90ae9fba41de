/*
 * tmap.h: the exits report's counters: a tally (count, total, min and max of handling times)
 * and a map of tallies keyed by two integers (open addressing, grows at half full), e.g.
 * (address, space | dir << 8) or (time bucket, reason).
 */
#ifndef MINIVMM_TMAP_H
#define MINIVMM_TMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tally {
    uint64_t n, ns, min, max;
};

/* Open-addressing hash of tallies keyed by two integers; grows at half full. */
struct tslot {
    uint64_t k1, k2;
    struct tally t;
    bool used;
};

struct tmap {
    struct tslot *slots;
    size_t cap, len;
};

void tally_add(struct tally *t, uint64_t ns);
/* dst += src (counts, totals, the extremes). */
void tally_merge(struct tally *dst, const struct tally *src);

/* The tally of (k1, k2), created empty on first use; NULL when out of memory. */
struct tally *tmap_get(struct tmap *m, uint64_t k1, uint64_t k2);
/* The tally of (k1, k2), or NULL. */
const struct tally *tmap_find(const struct tmap *m, uint64_t k1, uint64_t k2);
/* The used slots, sorted by cmp; *n their number. NULL with *n == 0 when empty or no memory;
 * the caller frees the array. */
const struct tslot **tmap_sorted(const struct tmap *m, size_t *n,
                                 int (*cmp)(const void *, const void *));
/* Orders for tmap_sorted(): most counted first (then by key); by (k1, k2). */
int tmap_cmp_count(const void *pa, const void *pb);
int tmap_cmp_key(const void *pa, const void *pb);

#endif
