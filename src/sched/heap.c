/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's min-heap of entries, keyed by (due_ms, id). The keys
 * sit in the array beside their entries, so a sift touches nothing but the
 * array: with 10,000 checks, reading or writing an entry is a cache miss.
 * Four children a node make the heap half as deep as two would.
 *
 * Entries do not record their position (that write per move was the heap's
 * main cost). A tick re-keys the top, found at once; re-keying or removing
 * any other entry searches the array, O(n), which only removal does, and
 * removal is rare (a runner frees its scheduler whole).
 */
#include <stdlib.h>

#include "base/alloc.h"
#include "sched/internal.h"

#define HEAP_ARITY 4

static bool node_less(const struct sched__heap_node *a, const struct sched__heap_node *b)
{
    if (a->due_ms != b->due_ms)
        return a->due_ms < b->due_ms;
    return a->id < b->id;
}

static void sift_up(struct sched__heap *h, size_t i)
{
    struct sched__heap_node n = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / HEAP_ARITY;
        if (!node_less(&n, &h->v[parent]))
            break;
        h->v[i] = h->v[parent];
        i = parent;
    }
    h->v[i] = n;
}

static void sift_down(struct sched__heap *h, size_t i)
{
    struct sched__heap_node n = h->v[i];
    for (;;) {
        size_t first = HEAP_ARITY * i + 1, child = first;
        if (first >= h->n)
            break;
        for (size_t c = first + 1; c < first + HEAP_ARITY && c < h->n; c++)
            if (node_less(&h->v[c], &h->v[child]))
                child = c;
        if (!node_less(&h->v[child], &n))
            break;
        h->v[i] = h->v[child];
        i = child;
    }
    h->v[i] = n;
}

static struct sched__heap_node node_of(struct sched_entry *e)
{
    return (struct sched__heap_node){.due_ms = e->due_ms, .id = e->id, .e = e};
}

void sched__heap_fini(struct sched__heap *h)
{
    free(h->v);
    *h = (struct sched__heap){0};
}

void sched__heap_reserve(struct sched__heap *h, size_t n)
{
    if (n <= h->cap)
        return;
    h->v = xreallocarray(h->v, n, sizeof(*h->v));
    h->cap = n;
}

void sched__heap_push(struct sched__heap *h, struct sched_entry *e)
{
    if (h->n == h->cap)
        sched__heap_reserve(h, h->cap ? 2 * h->cap : 64);
    h->v[h->n++] = node_of(e);
    sift_up(h, h->n - 1);
}

static size_t heap_find(const struct sched__heap *h, const struct sched_entry *e)
{
    size_t i = 0;
    while (h->v[i].e != e)
        i++;
    return i;
}

/* Restores order around position i, whose key may have changed. */
static void heap_fix_at(struct sched__heap *h, size_t i)
{
    h->v[i].due_ms = h->v[i].e->due_ms;
    if (i > 0 && node_less(&h->v[i], &h->v[(i - 1) / HEAP_ARITY]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

void sched__heap_remove(struct sched__heap *h, struct sched_entry *e)
{
    size_t i = heap_find(h, e);
    h->n--;
    if (i == h->n)
        return;
    h->v[i] = h->v[h->n];
    heap_fix_at(h, i);
}

void sched__heap_fix(struct sched__heap *h, struct sched_entry *e)
{
    heap_fix_at(h, heap_find(h, e));
}

struct sched_entry *sched__heap_top(const struct sched__heap *h)
{
    return h->n ? h->v[0].e : NULL;
}

bool sched__heap_is_valid(const struct sched__heap *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct sched__heap_node *n = &h->v[i];
        if (n->due_ms != n->e->due_ms || n->id != n->e->id)
            return false;
        if (i > 0 && node_less(n, &h->v[(i - 1) / HEAP_ARITY]))
            return false;
    }
    return true;
}
