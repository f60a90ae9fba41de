/*
 * list.h: circular doubly linked lists with Linux's names (include/linux/list.h, reduced),
 * for the free areas, the per-CPU page lists and the slab partial lists.
 */
#ifndef MM_LIST_H
#define MM_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "mm.h"

static inline void list_init(struct list_head *h)
{
    h->next = h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
    return h->next == h;
}

/* Insert n right after h. */
static inline void list_add(struct list_head *n, struct list_head *h)
{
    n->next = h->next;
    n->prev = h;
    h->next->prev = n;
    h->next = n;
}

/* Unlink n; its pointers are cleared so that a second del faults rather than corrupts. */
static inline void list_del(struct list_head *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = NULL;
}

#endif
