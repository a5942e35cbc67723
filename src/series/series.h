/* SPDX-License-Identifier: MIT */
/*
 * Series: the recent history of measured values, kept in memory. A store
 * holds named series with labels ("time"{check="web"}), each a fixed-size
 * ring of (time, value) points: appending is O(1) and overwrites the
 * oldest point, so memory is bounded by the number of series times the
 * ring size, and the number of series is capped too. The check runner
 * feeds it every sample; graphs and baselines read it. Loop thread only.
 */
#ifndef HALE_SERIES_SERIES_H
#define HALE_SERIES_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/labels.h"

/* Points per series unless said otherwise: an hour at one point every 5 s. */
#define SERIES_POINTS_DEFAULT 720
/* Series per store unless said otherwise (at most about 46 MB at 720 points; rings grow as points
 * arrive). */
#define SERIES_MAX_DEFAULT    4096

struct series_point {
    uint64_t time_ms; /* Unix ms */
    double value;
};

struct series_store;
struct series;

/*
 * Creates an empty store whose series keep `points` points each and which
 * holds at most max_series series (0 for either: the default). Free with
 * series_store_free().
 */
struct series_store *series_store_new(size_t points, size_t max_series);
/* Frees the store and every series in it. Accepts NULL. */
void series_store_free(struct series_store *st);

/*
 * The series named name with exactly these labels (NULL: none), created
 * empty when missing (name and labels are copied). Returns 0 and the
 * series (owned by the store, valid until removed or the store is freed),
 * or HALE_ELIMIT when the store is full, -EINVAL for an empty name.
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

/* Appends a point, dropping the oldest when the ring is full. O(1). */
void series_append(struct series *s, uint64_t time_ms, double value);
/* Points held, up to the ring's size. */
size_t series_len(const struct series *s);
/* The ring's size. */
size_t series_capacity(const struct series *s);
/* The i-th point held, 0 the oldest; false when i >= series_len(). */
bool series_point(const struct series *s, size_t i, struct series_point *ret_point);
/* The newest point; false when the series is empty. */
bool series_last(const struct series *s, struct series_point *ret_point);

/* Borrowed from the series. */
const char *series_name(const struct series *s);
const struct labels *series_labels(const struct series *s);

#endif
