/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's min-heap of entries, keyed by (due_ms, id). Each entry
 * records its own position, so removing or re-keying any entry is
 * O(log n) without a search: what 10,000 checks need on every run. The keys
 * sit in the array beside their entries, so a sift compares without
 * reading entries scattered in memory; but each move still writes the
 * moved entry's position, a cache miss at 10,000 checks. Four children a
 * node make the heap half as deep as two would, and so half the moves.
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

static void heap_set(struct sched__heap *h, size_t i, struct sched__heap_node n)
{
    h->v[i] = n;
    n.e->heap_index = i;
}

static void sift_up(struct sched__heap *h, size_t i)
{
    struct sched__heap_node n = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / HEAP_ARITY;
        if (!node_less(&n, &h->v[parent]))
            break;
        heap_set(h, i, h->v[parent]);
        i = parent;
    }
    heap_set(h, i, n);
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
        heap_set(h, i, h->v[child]);
        i = child;
    }
    heap_set(h, i, n);
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

void sched__heap_push(struct sched__heap *h, struct sched_entry *e)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
    }
    heap_set(h, h->n++, node_of(e));
    sift_up(h, h->n - 1);
}

void sched__heap_remove(struct sched__heap *h, struct sched_entry *e)
{
    size_t i = e->heap_index;
    h->n--;
    if (i == h->n)
        return;
    heap_set(h, i, h->v[h->n]);
    sched__heap_fix(h, h->v[i].e);
}

void sched__heap_fix(struct sched__heap *h, struct sched_entry *e)
{
    size_t i = e->heap_index;
    h->v[i].due_ms = e->due_ms; /* the key may have changed: read it afresh */
    if (i > 0 && node_less(&h->v[i], &h->v[(i - 1) / HEAP_ARITY]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

struct sched_entry *sched__heap_top(const struct sched__heap *h)
{
    return h->n ? h->v[0].e : NULL;
}

bool sched__heap_is_valid(const struct sched__heap *h)
{
    for (size_t i = 0; i < h->n; i++) {
        const struct sched__heap_node *n = &h->v[i];
        if (n->e->heap_index != i || n->due_ms != n->e->due_ms || n->id != n->e->id)
            return false;
        if (i > 0 && node_less(n, &h->v[(i - 1) / HEAP_ARITY]))
            return false;
    }
    return true;
}
