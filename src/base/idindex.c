/* SPDX-License-Identifier: MIT */
/*
 * The id index (idindex.h). Ids are dense and increasing: a multiplicative
 * hash spreads them over the table.
 */
#include "base/idindex.h"

#include <stdlib.h>

#include "base/alloc.h"

static size_t home_of(int64_t id, size_t n_slots)
{
    return (size_t)(((uint64_t)id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (n_slots - 1);
}

/* The slot that holds id, or the empty slot where it would go. */
static size_t slot_find(const struct idindex *x, int64_t id)
{
    size_t k = home_of(id, x->n_slots);
    while (x->slots[k].pos && x->slots[k].id != id)
        k = (k + 1) & (x->n_slots - 1);
    return k;
}

static void grow(struct idindex *x)
{
    struct idindex_slot *old = x->slots;
    size_t n_old = x->n_slots;
    x->n_slots = n_old ? 2 * n_old : 64;
    x->slots = xcalloc(x->n_slots, sizeof(*x->slots));
    for (size_t i = 0; i < n_old; i++)
        if (old[i].pos)
            x->slots[slot_find(x, old[i].id)] = old[i];
    free(old);
}

void idindex_fini(struct idindex *x)
{
    free(x->slots);
    *x = (struct idindex){0};
}

bool idindex_get(const struct idindex *x, int64_t id, size_t *ret_pos)
{
    if (!x->n)
        return false;
    const struct idindex_slot *s = &x->slots[slot_find(x, id)];
    if (!s->pos)
        return false;
    if (ret_pos)
        *ret_pos = s->pos - 1;
    return true;
}

void idindex_put(struct idindex *x, int64_t id, size_t pos)
{
    if (2 * (x->n + 1) > x->n_slots)
        grow(x);
    struct idindex_slot *s = &x->slots[slot_find(x, id)];
    if (!s->pos)
        x->n++;
    *s = (struct idindex_slot){.id = id, .pos = pos + 1};
}

void idindex_del(struct idindex *x, int64_t id)
{
    if (!x->n)
        return;
    size_t k = slot_find(x, id), mask = x->n_slots - 1;
    if (!x->slots[k].pos)
        return;
    x->slots[k].pos = 0;
    x->n--;
    for (size_t j = (k + 1) & mask; x->slots[j].pos; j = (j + 1) & mask) {
        size_t home = home_of(x->slots[j].id, x->n_slots);
        /* The entry at j stays when its home lies cyclically in (k, j]. */
        if ((j > k) ? (home > k && home <= j) : (home > k || home <= j))
            continue;
        x->slots[k] = x->slots[j];
        x->slots[j].pos = 0;
        k = j;
    }
}
