/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the series store share: the store and its
 * series (store.c: names, labels, lookup, the budget's bookkeeping) and
 * the chunks of compressed points (series.c: the codec, appending,
 * walking).
 */
#ifndef HALE_SERIES_INTERNAL_H
#define HALE_SERIES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/labels.h"
#include "series/series.h"

/* series_state.scale of a value that is not a short decimal. */
#define SERIES__NOT_DECIMAL 0xff

/*
 * Chunk sizes, in bytes of heap each takes (the allocator's header
 * included): the smallest when memory is short, the largest when it is
 * plenty, so that a series' share of the budget holds two.
 */
#define SERIES__CHUNK_MIN 64u
#define SERIES__CHUNK_MAX 256u

/*
 * A run of points, each delta-encoded on the one before, the first on
 * nothing: a chunk reads alone, so the oldest can be dropped.
 */
struct series_chunk {
    struct series_chunk *next; /* the next newer; the newest's is the oldest (a ring) */
    uint16_t n;                /* points */
    uint16_t bits;             /* of data, used */
    uint16_t size;             /* bytes of data */
    uint8_t data[];
};

/*
 * One allocation a series, its key included; its labels are read from
 * the key when asked for (series_label(), series_labels()), not kept as
 * views: with 10,000 checks these headers outweigh their points.
 */
struct series {
    struct series_chunk *head; /* the newest chunk; NULL while empty */
    struct series_state state; /* after the newest point */
    /* points held: counted over the chunks at each new one, an append took up to 4 times as long */
    uint32_t len;
    uint32_t next;    /* the next in its bucket: its index in the store's array + 1; 0 ends */
    uint16_t key_len; /* bytes of key, the last NUL included; at most SERIES_KEY_MAX */
    /* name NUL label NUL value NUL ...: names hold no NUL, labels sorted by name */
    char key[];
};

struct series_store {
    struct series_limits limits;
    uint32_t *buckets; /* the first series of each: its index in all + 1; 0 when none */
    size_t n_buckets;  /* a power of two */
    struct series **all;
    size_t n, cap;
    uint64_t generation;   /* removals so far */
    size_t chunk_bytes;    /* heap held by every chunk */
    size_t metadata_bytes; /* heap held by every series */
    uint64_t points;       /* held by every series */
    uint64_t dropped;      /* points dropped early for the budget */
    bool shared;           /* each series is held to its share (series.c) */
};

/* The heap a block of size bytes takes: glibc's header, 16-byte steps, 32 at least. */
static inline size_t series__heap_size(size_t size)
{
    size_t n = (size + 8 + 15) & ~(size_t)15;
    return n < 32 ? 32 : n;
}

/*
 * Holds every series to the store's limits at once, as a new chunk would:
 * each keeps its newest chunk, at least `points` points when it has them,
 * and its share of the budget when the store is past it.
 */
void series__trim(struct series_store *st);

/* Frees every chunk of s, taking them off the store's counts. */
void series__chunks_free(struct series_store *st, struct series *s);

#endif
