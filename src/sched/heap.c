/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's binary min-heap of entries, keyed by (due_ms, id). Each
 * entry records its own position, so removing or re-keying any entry is
 * O(log n) without a search: what 10,000 checks need on every run.
 */
#include <stdlib.h>

#include "base/alloc.h"
#include "sched/internal.h"

static bool entry_less(const struct sched_entry *a, const struct sched_entry *b)
{
    if (a->due_ms != b->due_ms)
        return a->due_ms < b->due_ms;
    return a->id < b->id;
}

static void heap_set(struct sched__heap *h, size_t i, struct sched_entry *e)
{
    h->v[i] = e;
    e->heap_index = i;
}

static void sift_up(struct sched__heap *h, size_t i)
{
    struct sched_entry *e = h->v[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!entry_less(e, h->v[parent]))
            break;
        heap_set(h, i, h->v[parent]);
        i = parent;
    }
    heap_set(h, i, e);
}

static void sift_down(struct sched__heap *h, size_t i)
{
    struct sched_entry *e = h->v[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->n)
            break;
        if (child + 1 < h->n && entry_less(h->v[child + 1], h->v[child]))
            child++;
        if (!entry_less(h->v[child], e))
            break;
        heap_set(h, i, h->v[child]);
        i = child;
    }
    heap_set(h, i, e);
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
    heap_set(h, h->n++, e);
    sift_up(h, h->n - 1);
}

void sched__heap_remove(struct sched__heap *h, struct sched_entry *e)
{
    size_t i = e->heap_index;
    h->n--;
    if (i == h->n)
        return;
    heap_set(h, i, h->v[h->n]);
    sched__heap_fix(h, h->v[i]);
}

void sched__heap_fix(struct sched__heap *h, struct sched_entry *e)
{
    size_t i = e->heap_index;
    if (i > 0 && entry_less(e, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

struct sched_entry *sched__heap_top(const struct sched__heap *h)
{
    return h->n ? h->v[0] : NULL;
}

bool sched__heap_is_valid(const struct sched__heap *h)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i]->heap_index != i)
            return false;
        if (i > 0 && entry_less(h->v[i], h->v[(i - 1) / 2]))
            return false;
    }
    return true;
}
