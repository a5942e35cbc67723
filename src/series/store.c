/* SPDX-License-Identifier: MIT */
/*
 * The series store: a dense array of series, for iteration, a hash table
 * over it keyed by name and labels (separate chaining through 32-bit
 * indexes into the array, grown as series are added), and the counts the
 * budget is kept by. A series is one allocation: its state and its key,
 * from which its labels are read when asked for; its points live in
 * chunks (series.c). So a check's series takes about 120 bytes of heap,
 * its slots in the two tables included.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"
#include "metrics/metrics.h"
#include "series/internal.h"

/* Bytes of a key built on the stack: lookups of ordinary series allocate nothing. */
#define SERIES_KEY_STACK 512

/*
 * Builds the key of name and labels into buf (size bytes) when it fits,
 * else into a new allocation; the caller frees the result unless it is buf.
 */
static char *key_build(const char *name, const struct labels *labels, char *buf, size_t size,
                       size_t *ret_len)
{
    size_t len = strlen(name) + 1;
    for (size_t i = 0; labels && i < labels->n; i++)
        len += strlen(labels->v[i].name) + 1 + strlen(labels->v[i].value) + 1;
    char *key = len <= size ? buf : xmalloc(len), *p = key;
    size_t l = strlen(name) + 1;
    memcpy(p, name, l);
    p += l;
    for (size_t i = 0; labels && i < labels->n; i++) {
        l = strlen(labels->v[i].name) + 1;
        memcpy(p, labels->v[i].name, l);
        p += l;
        l = strlen(labels->v[i].value) + 1;
        memcpy(p, labels->v[i].value, l);
        p += l;
    }
    *ret_len = len;
    return key;
}

static void key_free(char *key, const char *buf)
{
    if (key != buf)
        free(key);
}

/* The bucket comes from the low bits: hash_finish() makes them depend on every byte. */
static uint64_t key_hash(const char *key, size_t len)
{
    return hash_finish(hash_add(0x9e3779b97f4a7c15u, key, len));
}

static size_t series_size(size_t key_len)
{
    return offsetof(struct series, key) + key_len;
}

static size_t tables_heap(const struct series_store *st)
{
    return series__heap_size(st->n_buckets * sizeof(*st->buckets)) +
           (st->cap ? series__heap_size(st->cap * sizeof(*st->all)) : 0);
}

static void limits_set(struct series_store *st, const struct series_limits *limits)
{
    st->limits.points = limits && limits->points ? limits->points : SERIES_POINTS_DEFAULT;
    st->limits.memory = limits && limits->memory ? limits->memory : SERIES_MEMORY_DEFAULT;
    st->limits.max_series = limits && limits->max_series ? limits->max_series : SERIES_MAX_DEFAULT;
    if (st->limits.max_series > UINT32_MAX)
        st->limits.max_series = UINT32_MAX;
    if (st->limits.points > UINT32_MAX / 2) /* what a series holds past it fits its len too */
        st->limits.points = UINT32_MAX / 2;
}

struct series_store *series_store_new(const struct series_limits *limits)
{
    struct series_store *st = xcalloc(1, sizeof(*st));
    limits_set(st, limits);
    st->n_buckets = 64;
    st->buckets = xcalloc(st->n_buckets, sizeof(*st->buckets));
    return st;
}

void series_store_set_limits(struct series_store *st, const struct series_limits *limits)
{
    limits_set(st, limits);
    /* Lower limits now: a series no longer written would keep its memory until removed. */
    series__trim(st);
}

static void series_free(struct series_store *st, struct series *s)
{
    series__chunks_free(st, s);
    st->metadata_bytes -= series__heap_size(series_size(s->key_len));
    free(s);
}

void series_store_free(struct series_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        series_free(st, st->all[i]);
    free(st->all);
    free(st->buckets);
    free(st);
}

/* The link to the series at index + 1 == target in the chain of hash: a bucket's head or a next. */
static uint32_t *link_to(const struct series_store *st, uint64_t hash, uint32_t target)
{
    uint32_t *link = &st->buckets[hash & (st->n_buckets - 1)];
    while (*link != target)
        link = &st->all[*link - 1]->next;
    return link;
}

static struct series *lookup(const struct series_store *st, const char *key, size_t len,
                             uint64_t hash)
{
    for (uint32_t i = st->buckets[hash & (st->n_buckets - 1)]; i; i = st->all[i - 1]->next) {
        struct series *s = st->all[i - 1];
        if (s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
    return NULL;
}

static void grow(struct series_store *st)
{
    size_t n = st->n_buckets * 2;
    uint32_t *b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < st->n; i++) {
        struct series *s = st->all[i];
        size_t k = key_hash(s->key, s->key_len) & (n - 1);
        s->next = b[k];
        b[k] = (uint32_t)i + 1;
    }
    free(st->buckets);
    st->buckets = b;
    st->n_buckets = n;
}

struct series *series_store_find(const struct series_store *st, const char *name,
                                 const struct labels *labels)
{
    char buf[SERIES_KEY_STACK];
    size_t len;
    char *key = key_build(name, labels, buf, sizeof(buf), &len);
    struct series *s = lookup(st, key, len, key_hash(key, len));
    key_free(key, buf);
    return s;
}

int series_store_get(struct series_store *st, const char *name, const struct labels *labels,
                     struct series **ret_series)
{
    if (!name || !*name)
        return -EINVAL;
    char buf[SERIES_KEY_STACK];
    size_t len;
    char *key = key_build(name, labels, buf, sizeof(buf), &len);
    uint64_t hash = key_hash(key, len);
    struct series *s = lookup(st, key, len, hash);
    if (s || st->n >= st->limits.max_series) {
        key_free(key, buf);
        if (!s)
            return HALE_ELIMIT;
        *ret_series = s;
        return 0;
    }
    if (len > SERIES_KEY_MAX) {
        key_free(key, buf);
        return -E2BIG;
    }
    s = xcalloc(1, series_size(len));
    memcpy(s->key, key, len);
    s->key_len = (uint16_t)len;
    key_free(key, buf);
    st->metadata_bytes += series__heap_size(series_size(len));
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap + st->cap / 2 : 16;
        st->all = xreallocarray(st->all, st->cap, sizeof(*st->all));
    }
    st->all[st->n++] = s;
    if (st->n > st->n_buckets)
        grow(st);
    else {
        size_t k = hash & (st->n_buckets - 1);
        s->next = st->buckets[k];
        st->buckets[k] = (uint32_t)st->n;
    }
    *ret_series = s;
    return 0;
}

void series_store_remove(struct series_store *st, struct series *s)
{
    /* Unlinked from its chain, then the last series takes its place in the array. */
    uint64_t hash = key_hash(s->key, s->key_len);
    uint32_t *link = &st->buckets[hash & (st->n_buckets - 1)];
    while (st->all[*link - 1] != s)
        link = &st->all[*link - 1]->next;
    uint32_t index = *link;
    *link = s->next;
    struct series *last = st->all[st->n - 1];
    if (last != s) {
        *link_to(st, key_hash(last->key, last->key_len), (uint32_t)st->n) = index;
        st->all[index - 1] = last;
    }
    st->n--;
    series_free(st, s);
    st->generation++;
}

void series_store_retain(struct series_store *st, series_keep_fn *keep, void *data)
{
    for (size_t i = st->n; i-- > 0;)
        if (i < st->n && !keep(st->all[i], data))
            series_store_remove(st, st->all[i]);
}

uint64_t series_store_generation(const struct series_store *st)
{
    return st->generation;
}

size_t series_store_count(const struct series_store *st)
{
    return st->n;
}

struct series *series_store_at(const struct series_store *st, size_t i)
{
    return i < st->n ? st->all[i] : NULL;
}

void series_store_stats(const struct series_store *st, struct series_stats *ret)
{
    *ret = (struct series_stats){
            .series = st->n,
            .points = st->points,
            .bytes = st->chunk_bytes,
            .metadata_bytes = st->metadata_bytes + tables_heap(st),
            .budget = st->limits.memory,
            .dropped_points = st->dropped,
    };
}

const char *series_name(const struct series *s)
{
    return s->key;
}

/* The first label's name in s's key; the key's end when it has none. */
static const char *labels_begin(const struct series *s)
{
    return s->key + strlen(s->key) + 1;
}

const char *series_label(const struct series *s, const char *name)
{
    const char *end = s->key + s->key_len;
    for (const char *p = labels_begin(s); p < end;) {
        const char *value = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

void series_labels(const struct series *s, struct labels *ret)
{
    const char *end = s->key + s->key_len;
    ret->n = 0;
    /* struct label's strings are not const; the caller only reads them. */
    for (char *p = (char *)(uintptr_t)labels_begin(s); p < end; ret->n++) {
        if (ret->n == ret->cap) {
            ret->cap = ret->cap ? ret->cap * 2 : 4;
            ret->v = xreallocarray(ret->v, ret->cap, sizeof(*ret->v));
        }
        ret->v[ret->n].name = p;
        p += strlen(p) + 1;
        ret->v[ret->n].value = p;
        p += strlen(p) + 1;
    }
}

/* ---- metrics ---- */

static double stat_series(void *data)
{
    return (double)series_store_count(data);
}

static double stat_points(void *data)
{
    return (double)((const struct series_store *)data)->points;
}

static double stat_bytes(void *data)
{
    return (double)((const struct series_store *)data)->chunk_bytes;
}

static double stat_metadata(void *data)
{
    struct series_stats s;
    series_store_stats(data, &s);
    return (double)s.metadata_bytes;
}

static double stat_budget(void *data)
{
    return (double)((const struct series_store *)data)->limits.memory;
}

static double stat_dropped(void *data)
{
    return (double)((const struct series_store *)data)->dropped;
}

void series_store_metrics_register(struct series_store *st, struct metrics *m)
{
    metrics_gauge_fn_register(m, "hale_series",
                              "Series held in memory: checks' history and what POST /api/v1/write "
                              "sent.",
                              stat_series, st);
    metrics_gauge_fn_register(m, "hale_series_points", "Points the series hold.", stat_points, st);
    metrics_gauge_fn_register(m, "hale_series_bytes",
                              "Bytes of memory the series' points take (their chunks): what "
                              "history.memory bounds.",
                              stat_bytes, st);
    metrics_gauge_fn_register(m, "hale_series_metadata_bytes",
                              "Bytes of memory the series themselves take: names, labels, state "
                              "and the tables that find them.",
                              stat_metadata, st);
    metrics_gauge_fn_register(m, "hale_series_budget_bytes",
                              "The budget of the series' points: history.memory.", stat_budget, st);
    metrics_counter_fn_register(m, "hale_series_dropped_points_total",
                                "Points dropped before their series held history.points, to stay "
                                "within history.memory.",
                                stat_dropped, st);
}
