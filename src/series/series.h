/* SPDX-License-Identifier: MIT */
/*
 * Series: the recent history of measured values, kept in memory. A store
 * holds named series with labels ("time"{check="web"}); each keeps its
 * points compressed in a short list of small chunks (a check's status
 * takes about a byte a point, a latency about 3.3) and drops its oldest
 * chunk to make room. Memory is bounded in bytes: the chunks of all the
 * series share a budget, and once it is spent a series holding more than
 * its share gives up its oldest chunk instead of taking a new one. The
 * check runner feeds it every sample; graphs and the metric check read
 * it. Loop thread only.
 */
#ifndef HALE_SERIES_SERIES_H
#define HALE_SERIES_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/labels.h"

/* Points a series keeps unless said otherwise: an hour at one point every 5 s. */
#define SERIES_POINTS_DEFAULT 720
/* Bytes of points (chunks) a store holds unless said otherwise. */
#define SERIES_MEMORY_DEFAULT (4u << 20)
/* Series per store unless said otherwise: a guard on their names and labels, not on points. */
#define SERIES_MAX_DEFAULT    100000
/* Bytes a series' name and labels take at most, each name and value with a NUL. */
#define SERIES_KEY_MAX        65535

struct series_point {
    uint64_t time_ms; /* Unix ms */
    double value;
};

struct series_store;
struct series;
struct series_chunk;
struct metrics;

/* What a store may hold. */
struct series_limits {
    size_t points; /* a series drops its oldest chunk once the rest hold this many; 0: default */
    size_t memory; /* bytes of chunks in the whole store, the budget; 0: default */
    size_t max_series; /* 0: SERIES_MAX_DEFAULT */
};

/*
 * Creates an empty store with these limits (NULL: the defaults). Free with
 * series_store_free().
 */
struct series_store *series_store_new(const struct series_limits *limits);
/* Frees the store and every series in it. Accepts NULL. */
void series_store_free(struct series_store *st);
/*
 * Changes the limits (a reload). Lower points and memory apply at once:
 * each series gives up its oldest chunks down to them (keeping its newest
 * chunk); series past a lower max_series stay.
 */
void series_store_set_limits(struct series_store *st, const struct series_limits *limits);

/*
 * The series named name with exactly these labels (NULL: none), created
 * empty when missing (name and labels are copied). Returns 0 and the
 * series (owned by the store, valid until removed or the store is freed),
 * or HALE_ELIMIT when the store holds max_series series, -EINVAL for an
 * empty name, -E2BIG for a name and labels past SERIES_KEY_MAX.
 */
int series_store_get(struct series_store *st, const char *name, const struct labels *labels,
                     struct series **ret_series);
/* As series_store_get() without creating: NULL when missing. */
struct series *series_store_find(const struct series_store *st, const char *name,
                                 const struct labels *labels);
/* Removes and frees s. */
void series_store_remove(struct series_store *st, struct series *s);

/* Decides whether a series stays (series_store_retain()). */
typedef bool series_keep_fn(const struct series *s, void *data);
/* Removes every series for which keep returns false. */
void series_store_retain(struct series_store *st, series_keep_fn *keep, void *data);

/*
 * Changes whenever a series is removed from st, so a caller may keep series
 * pointers (and the knowledge that st was full) while it stays the same.
 */
uint64_t series_store_generation(const struct series_store *st);

size_t series_store_count(const struct series_store *st);
/* The i-th series, 0 <= i < series_store_count(); the order changes on removal. */
struct series *series_store_at(const struct series_store *st, size_t i);

/* What a store holds, for /metrics and benchmarks. */
struct series_stats {
    size_t series;
    uint64_t points;         /* held by every series */
    size_t bytes;            /* of chunks: what the budget bounds */
    size_t metadata_bytes;   /* of the series themselves (names, labels, state) and their tables */
    size_t budget;           /* the limits' memory */
    uint64_t dropped_points; /* dropped before their series held `points`, for the budget */
};
void series_store_stats(const struct series_store *st, struct series_stats *ret);

/*
 * Registers hale_series, hale_series_points, hale_series_bytes,
 * hale_series_metadata_bytes, hale_series_budget_bytes and
 * hale_series_dropped_points_total, read from st at each render: st is
 * borrowed until metrics_free(m).
 */
void series_store_metrics_register(struct series_store *st, struct metrics *m);

/*
 * Appends a point (times may go backwards and jump; every double, NaN
 * payloads and -0.0 included, reads back bit for bit). When the newest
 * chunk is full the series takes a new one, dropping its oldest first
 * when the others hold the store's `points`, or when the store is past
 * its budget and s holds more than its share: it always keeps the chunk
 * that was the newest. O(1) but for that rare drop.
 */
void series_append(struct series_store *st, struct series *s, uint64_t time_ms, double value);
/* Points held: the store's `points`, up to a chunk more, or fewer when memory is short. */
size_t series_len(const struct series *s);
/* The newest point; false when the series is empty. O(1). */
bool series_last(const struct series *s, struct series_point *ret_point);

/* The codec's state after a point; private to src/series/, here for series_iter's size. */
struct series_state {
    uint64_t time; /* of the point */
    uint64_t bits; /* of its value */
    int32_t delta; /* its time minus the one before, clamped to 32 bits */
    uint8_t scale; /* decimal digits of the value, or SERIES__NOT_DECIMAL */
    uint8_t lead;  /* the window of the last XOR written: zero bits before it ... */
    uint8_t width; /* ... and its width; 0 before any */
};

/*
 * A walk over a series' points, oldest first:
 *
 *     struct series_iter it;
 *     struct series_point p;
 *     for (series_iter_init(&it, s); series_next(&it, &p);)
 *         ...
 *
 * The series must not change during the walk. Fields are private.
 */
struct series_iter {
    const struct series_chunk *chunk; /* being read; NULL once done */
    const struct series_chunk *head;  /* the series' newest, where the walk ends */
    uint32_t pos;                     /* bits read of chunk */
    uint32_t done;                    /* points read of chunk */
    struct series_state state;
};

void series_iter_init(struct series_iter *it, const struct series *s);
/* The next point into *ret_point; false when there is none left. */
bool series_next(struct series_iter *it, struct series_point *ret_point);
/* Steps over the next n points (all when fewer), decoding only the chunk where the walk resumes. */
void series_iter_skip(struct series_iter *it, size_t n);

/* Borrowed from the series. */
const char *series_name(const struct series *s);
/* The value of the label name, or NULL when s has none. Borrowed from the series. */
const char *series_label(const struct series *s, const char *name);
/*
 * Fills *ret with the labels of s, sorted by name: views into the series
 * (valid while it is), not copies, read from its key (a series keeps no
 * label array). ret->v is grown as needed, so one set serves a walk over
 * many series: start from a zeroed set, and free ret->v alone when done
 * (never labels_fini(), which would free the strings).
 */
void series_labels(const struct series *s, struct labels *ret);

#endif
