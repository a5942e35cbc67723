/* SPDX-License-Identifier: MIT */
/*
 * The series store: a hash table of series keyed by name and labels
 * (separate chaining, grown as series are added), a dense array for
 * iteration, and per series a ring of points allocated once at creation.
 */
#include "series/series.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

/* Points a new series has room for before its ring first grows. */
#define SERIES_FIRST_POINTS 16

struct series {
    char *name;
    struct labels labels;
    char *key; /* name NUL label NUL value NUL ...: unambiguous, names hold no NUL */
    size_t key_len;
    uint64_t hash;
    struct series *next; /* in its bucket */
    size_t index;        /* in the store's array */
    struct series_point *ring;
    size_t cap;  /* points allocated in ring: grows, doubling, up to max */
    size_t max;  /* points the series keeps */
    size_t head; /* where the next point goes */
    size_t len;
};

struct series_store {
    size_t points, max;
    struct series **buckets;
    size_t n_buckets; /* a power of two */
    struct series **all;
    size_t n, cap;
    uint64_t generation; /* removals so far */
};

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

/*
 * Eight bytes at a time, each word mixed in with a multiply, then a final
 * avalanche so the low bits (the bucket) depend on every byte: keys are
 * tens of bytes, and a byte at a time was a fifth of an ingested sample's
 * cost.
 */
static uint64_t key_hash(const char *key, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        memcpy(&w, key + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, key + i, len - i);
    h = (h ^ w) * 0xff51afd7ed558ccdu;
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 32);
}

struct series_store *series_store_new(size_t points, size_t max_series)
{
    struct series_store *st = xcalloc(1, sizeof(*st));
    st->points = points ? points : SERIES_POINTS_DEFAULT;
    st->max = max_series ? max_series : SERIES_MAX_DEFAULT;
    st->n_buckets = 64;
    st->buckets = xcalloc(st->n_buckets, sizeof(*st->buckets));
    return st;
}

static void series_free(struct series *s)
{
    free(s->name);
    labels_fini(&s->labels);
    free(s->key);
    free(s->ring);
    free(s);
}

void series_store_free(struct series_store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++)
        series_free(st->all[i]);
    free(st->all);
    free(st->buckets);
    free(st);
}

static struct series *lookup(const struct series_store *st, const char *key, size_t len,
                             uint64_t hash)
{
    for (struct series *s = st->buckets[hash & (st->n_buckets - 1)]; s; s = s->next)
        if (s->hash == hash && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    return NULL;
}

static void grow(struct series_store *st)
{
    size_t n = st->n_buckets * 2;
    struct series **b = xcalloc(n, sizeof(*b));
    for (size_t i = 0; i < st->n; i++) {
        struct series *s = st->all[i];
        size_t k = s->hash & (n - 1);
        s->next = b[k];
        b[k] = s;
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
    if (s || st->n >= st->max) {
        key_free(key, buf);
        if (!s)
            return HALE_ELIMIT;
        *ret_series = s;
        return 0;
    }
    if (key == buf) {
        key = xmalloc(len);
        memcpy(key, buf, len);
    }
    s = xcalloc(1, sizeof(*s));
    s->name = xstrdup(name);
    labels_init(&s->labels);
    for (size_t i = 0; labels && i < labels->n; i++)
        labels_set(&s->labels, labels->v[i].name, labels->v[i].value, NULL);
    s->key = key;
    s->key_len = len;
    s->hash = hash;
    /* Rings start small: most series of a large site are young or sparse. */
    s->max = st->points;
    s->cap = s->max < SERIES_FIRST_POINTS ? s->max : SERIES_FIRST_POINTS;
    s->ring = xcalloc(s->cap, sizeof(*s->ring));
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 16;
        st->all = xreallocarray(st->all, st->cap, sizeof(*st->all));
    }
    s->index = st->n;
    st->all[st->n++] = s;
    if (st->n > st->n_buckets)
        grow(st);
    else {
        size_t k = hash & (st->n_buckets - 1);
        s->next = st->buckets[k];
        st->buckets[k] = s;
    }
    *ret_series = s;
    return 0;
}

void series_store_remove(struct series_store *st, struct series *s)
{
    struct series **pp = &st->buckets[s->hash & (st->n_buckets - 1)];
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    struct series *last = st->all[--st->n];
    st->all[s->index] = last;
    last->index = s->index;
    series_free(s);
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

/* A full ring below its maximum doubles, its points laid out oldest first. */
static void series_grow(struct series *s)
{
    size_t cap = s->cap * 2 < s->max ? s->cap * 2 : s->max;
    struct series_point *ring = xcalloc(cap, sizeof(*ring));
    for (size_t i = 0; i < s->len; i++)
        ring[i] = s->ring[(s->head + i) % s->cap];
    free(s->ring);
    s->ring = ring;
    s->head = s->len;
    s->cap = cap;
}

void series_append(struct series *s, uint64_t time_ms, double value)
{
    if (s->len == s->cap && s->cap < s->max)
        series_grow(s);
    s->ring[s->head] = (struct series_point){.time_ms = time_ms, .value = value};
    s->head = (s->head + 1) % s->cap;
    if (s->len < s->cap)
        s->len++;
}

size_t series_len(const struct series *s)
{
    return s->len;
}

size_t series_capacity(const struct series *s)
{
    return s->max;
}

bool series_point(const struct series *s, size_t i, struct series_point *ret_point)
{
    if (i >= s->len)
        return false;
    size_t oldest = (s->head + s->cap - s->len) % s->cap;
    *ret_point = s->ring[(oldest + i) % s->cap];
    return true;
}

bool series_last(const struct series *s, struct series_point *ret_point)
{
    return s->len && series_point(s, s->len - 1, ret_point);
}

const char *series_name(const struct series *s)
{
    return s->name;
}

const struct labels *series_labels(const struct series *s)
{
    return &s->labels;
}
