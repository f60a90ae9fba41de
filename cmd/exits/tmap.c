/*
 * tmap.c: the exits report's counters (tmap.h): tallies of handling times, and an
 * open-addressing hash of them keyed by two integers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "tmap.h"

void tally_add(struct tally *t, uint64_t ns)
{
    if (t->n == 0 || ns < t->min)
        t->min = ns;
    if (ns > t->max)
        t->max = ns;
    t->n++;
    t->ns += ns;
}

static size_t tmap_hash(uint64_t k1, uint64_t k2)
{
    uint64_t x = k1 * 0x9e3779b97f4a7c15ull ^ (k2 + 0x632be59bd9b4e019ull);

    x ^= x >> 31; /* splitmix64's finaliser */
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return (size_t)x;
}

static struct tslot *tmap_probe(struct tslot *slots, size_t cap, uint64_t k1, uint64_t k2)
{
    size_t mask = cap - 1;

    for (size_t i = tmap_hash(k1, k2) & mask;; i = (i + 1) & mask)
        if (!slots[i].used || (slots[i].k1 == k1 && slots[i].k2 == k2))
            return &slots[i];
}

static int tmap_grow(struct tmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct tslot *slots = calloc(cap, sizeof(*slots));

    if (!slots)
        return -ENOMEM;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            *tmap_probe(slots, cap, m->slots[i].k1, m->slots[i].k2) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

/* The tally of (k1, k2), created empty on first use; NULL when out of memory. */
struct tally *tmap_get(struct tmap *m, uint64_t k1, uint64_t k2)
{
    if ((m->len + 1) * 2 > m->cap && tmap_grow(m))
        return NULL;
    struct tslot *s = tmap_probe(m->slots, m->cap, k1, k2);
    if (!s->used) {
        s->used = true;
        s->k1 = k1;
        s->k2 = k2;
        m->len++;
    }
    return &s->t;
}

const struct tally *tmap_find(const struct tmap *m, uint64_t k1, uint64_t k2)
{
    if (m->cap == 0)
        return NULL;
    const struct tslot *s = tmap_probe(m->slots, m->cap, k1, k2);
    return s->used ? &s->t : NULL;
}

/* The used slots, sorted by cmp; *n their number. NULL with *n == 0 when empty or no memory. */
const struct tslot **tmap_sorted(const struct tmap *m, size_t *n,
                                        int (*cmp)(const void *, const void *))
{
    const struct tslot **v = m->len ? malloc(m->len * sizeof(*v)) : NULL;

    *n = 0;
    if (!v)
        return NULL;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].used)
            v[(*n)++] = &m->slots[i];
    if (*n > 1)
        qsort(v, *n, sizeof(*v), cmp);
    return v;
}

int tmap_cmp_count(const void *pa, const void *pb)
{
    const struct tslot *a = *(const struct tslot *const *)pa, *b = *(const struct tslot *const *)pb;

    if (a->t.n != b->t.n)
        return a->t.n > b->t.n ? -1 : 1;
    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

int tmap_cmp_key(const void *pa, const void *pb)
{
    const struct tslot *a = *(const struct tslot *const *)pa, *b = *(const struct tslot *const *)pb;

    if (a->k1 != b->k1)
        return a->k1 < b->k1 ? -1 : 1;
    return a->k2 < b->k2 ? -1 : a->k2 > b->k2;
}

void tally_merge(struct tally *dst, const struct tally *src)
{
    if (src->n == 0)
        return;
    if (dst->n == 0 || src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    dst->n += src->n;
    dst->ns += src->ns;
}
