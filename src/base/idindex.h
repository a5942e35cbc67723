/* SPDX-License-Identifier: MIT */
/*
 * An index from ids (incident ids, mostly) to positions in an array its
 * owner keeps: open addressing with linear probing over a power-of-two
 * table at most half full, deletion by moving back the entries that
 * probed past (no tombstones). For arrays searched by id at every event
 * or step, where a scan would cost more than the work itself.
 */
#ifndef HALE_BASE_IDINDEX_H
#define HALE_BASE_IDINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct idindex_slot {
    int64_t id;
    size_t pos; /* + 1; 0: empty */
};

/* Zeroed: empty. */
struct idindex {
    struct idindex_slot *slots;
    size_t n_slots, n;
};

/* Frees the table and zeroes x. Accepts a zeroed index. */
void idindex_fini(struct idindex *x);
/* Whether id is in x; its position in *ret_pos (may be NULL). */
bool idindex_get(const struct idindex *x, int64_t id, size_t *ret_pos);
/* id is at pos now (added, or moved). */
void idindex_put(struct idindex *x, int64_t id, size_t pos);
/* id is gone; nothing when it was not there. */
void idindex_del(struct idindex *x, int64_t id);

#endif
