/* SPDX-License-Identifier: MIT */
/*
 * bench/series: what the series store's points cost, in memory and CPU.
 * Appends twice --points points to each series of --checks checks the
 * way the runner does (a status series and a latency series a check,
 * every 10 s with a few ms of scheduling jitter), and to as many series of
 * each kind of what line protocol brings (gauges with a few decimals,
 * gauges at full precision, byte counters), then prints for each kind the
 * bytes a point takes (its chunks' heap over the points they hold), the
 * nanoseconds an append and a read take, the heap of the check series with every point kept against
 * the fixed rings of 16-byte points they had before, and what the checks
 * keep under the default budget.
 *
 *   build/release/bench_series [--checks 10000] [--points 720]
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/labels.h"
#include "series/series.h"

#define T0        1795280139417u
#define PERIOD_MS 10000u

struct options {
    unsigned checks, points;
};

static void options_parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.checks = 10000, .points = SERIES_POINTS_DEFAULT};
    const struct bench_option opts[] = {{.name = "--checks", .u = &o->checks, .max = 1000000},
                                        {.name = "--points", .u = &o->points, .max = 1000000},
                                        {.name = NULL}};
    bench_options("bench_series", argc, argv, 1, opts);
}

/* xorshift64*: the same data on every run. */
static uint64_t next_random(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1du;
}

/* A uniform double in [0, 1). */
static double uniform(uint64_t *x)
{
    return (double)(next_random(x) >> 11) / 9007199254740992.0;
}

enum kind {
    KIND_STATUS,  /* a check's status: ok, now and then a few failures */
    KIND_LATENCY, /* a check's time: seconds from microseconds, around its own typical value */
    KIND_GAUGE,   /* line protocol, a few decimals: disk used_percent=71.42 */
    KIND_FLOAT,   /* line protocol at full precision: usage_idle=97.50626566416 */
    KIND_COUNTER, /* line protocol, an integer that grows: bytes_recv=12345678i */
    KIND_COUNT,
};

static const char *const kind_names[KIND_COUNT] = {"check status", "check latency (s, from µs)",
                                                   "gauge, 2 decimals", "gauge, full precision",
                                                   "counter (bytes)"};

/* What a series of a kind needs to make its next value. */
struct source {
    double base, level;
    uint64_t count;
    int down; /* points of failure left */
};

static void source_init(struct source *src, enum kind k, uint64_t *x)
{
    *src = (struct source){0};
    /* typical latencies from 200 µs to 50 ms, log-uniform */
    src->base = k == KIND_LATENCY ? 200e-6 * pow(250.0, uniform(x)) : 100 * uniform(x);
    src->level = src->base;
    src->count = next_random(x) % 1000000000;
}

static double source_next(struct source *src, enum kind k, uint64_t *x)
{
    switch (k) {
    case KIND_STATUS:
        if (src->down == 0 && next_random(x) % 500 == 0)
            src->down = 1 + (int)(next_random(x) % 6);
        if (src->down > 0) {
            src->down--;
            return 2;
        }
        return 0;
    case KIND_LATENCY: {
        double us = src->base * 1e6 * (0.8 + 0.4 * uniform(x));
        return (double)(int64_t)us / 1e6; /* as the http check computes it */
    }
    case KIND_GAUGE:
        src->level += (uniform(x) - 0.5) * 0.2;
        return round(src->level * 100) / 100;
    case KIND_FLOAT:
        src->level += (uniform(x) - 0.5) * 2;
        return src->level / 3.0 + 1.0 / 7.0;
    default:
        src->count += 1000 + next_random(x) % 100000;
        return (double)src->count;
    }
}

struct measured {
    uint64_t points;
    size_t bytes;
    double append_ns, read_ns;
};

/*
 * Fills a store of n series of kind k with twice `points` points each,
 * time-major, as they come: the series then hold `points` and some more,
 * their oldest chunks dropped, as they do for good after a while.
 */
static void kind_measure(enum kind k, unsigned n, unsigned points, struct measured *ret)
{
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = points, .memory = (size_t)16 << 30});
    struct series **v = xcalloc(n, sizeof(*v));
    struct source *src = xcalloc(n, sizeof(*src));
    uint64_t x = 0x9e3779b97f4a7c15u + k;
    for (unsigned i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "s%u", i);
        if (series_store_get(st, name, NULL, &v[i]) < 0)
            abort();
        source_init(&src[i], k, &x);
    }
    /* Each tick's values first, so the timing is the store's alone. */
    double *values = xcalloc(n, sizeof(*values));
    uint64_t *times = xcalloc(n, sizeof(*times)), appended = 0;
    for (unsigned p = 0; p < 2 * points; p++) {
        for (unsigned i = 0; i < n; i++) {
            values[i] = source_next(&src[i], k, &x);
            times[i] = T0 + (uint64_t)i * 1000 % PERIOD_MS + (uint64_t)p * PERIOD_MS +
                       next_random(&x) % 7;
        }
        uint64_t start = clock_mono_ns();
        for (unsigned i = 0; i < n; i++)
            series_append(st, v[i], times[i], values[i]);
        appended += clock_mono_ns() - start;
    }
    double sum = 0;
    uint64_t read = 0;
    uint64_t start = clock_mono_ns();
    for (unsigned i = 0; i < n; i++) {
        struct series_iter it;
        struct series_point pt;
        for (series_iter_init(&it, v[i]); series_next(&it, &pt); read++)
            sum += pt.value;
    }
    uint64_t walked = clock_mono_ns() - start;
    if (sum == 42.4242)
        printf("(sum %g)\n", sum); /* keeps the walk */
    struct series_stats s;
    series_store_stats(st, &s);
    *ret = (struct measured){.points = s.points,
                             .bytes = s.bytes,
                             .append_ns = (double)appended / ((double)n * 2 * points),
                             .read_ns = (double)walked / (double)read};
    free(values);
    free(times);
    free(src);
    free(v);
    series_store_free(st);
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void check_labels(struct labels *l, unsigned check, bool status)
{
    char name[32];
    snprintf(name, sizeof(name), "c-%u", check);
    labels_init(l);
    labels_set(l, "check", name, NULL);
    if (!status) {
        labels_set(l, "label", "time", NULL);
        labels_set(l, "unit", "s", NULL);
    }
}

/*
 * The heap the check series took as they were laid out before: a struct of
 * 112 bytes, the name, the labels (an array of four and a copy of each
 * string), the key, and a ring of 16-byte points grown to `points`.
 */
static size_t old_layout_heap(unsigned checks, unsigned points)
{
    size_t before = heap_in_use();
    void **blocks = xcalloc((size_t)checks * 2 * 12, sizeof(*blocks));
    size_t n = 0;
    for (unsigned c = 0; c < checks; c++)
        for (int status = 0; status < 2; status++) {
            struct labels l;
            check_labels(&l, c, status);
            blocks[n++] = xcalloc(1, 112);
            blocks[n++] = xstrdup(status ? "hale_check_status" : "hale_check_sample");
            size_t key = 18;
            blocks[n++] = xcalloc(4, sizeof(struct label));
            for (size_t i = 0; i < l.n; i++) {
                blocks[n++] = xstrdup(l.v[i].name);
                blocks[n++] = xstrdup(l.v[i].value);
                key += strlen(l.v[i].name) + strlen(l.v[i].value) + 2;
            }
            blocks[n++] = xmalloc(key);
            blocks[n++] = xcalloc(points, 16);
            labels_fini(&l);
        }
    size_t heap = heap_in_use() - before;
    for (size_t i = 0; i < n; i++)
        free(blocks[i]);
    free(blocks);
    return heap;
}

/* The check series of `checks` checks, `points` ticks of them, in a store with these limits. */
static struct series_store *checks_fill(unsigned checks, unsigned points,
                                        const struct series_limits *limits, size_t *ret_heap)
{
    size_t before = heap_in_use();
    struct series_store *st = series_store_new(limits);
    struct series **v = xcalloc((size_t)checks * 2, sizeof(*v));
    struct source *src = xcalloc((size_t)checks * 2, sizeof(*src));
    uint64_t x = 7;
    for (unsigned c = 0; c < checks; c++)
        for (int status = 0; status < 2; status++) {
            struct labels l;
            check_labels(&l, c, status);
            if (series_store_get(st, status ? "hale_check_status" : "hale_check_sample", &l,
                                 &v[c * 2 + status]) < 0)
                abort();
            labels_fini(&l);
            source_init(&src[c * 2 + status], status ? KIND_STATUS : KIND_LATENCY, &x);
        }
    for (unsigned p = 0; p < points; p++)
        for (unsigned c = 0; c < checks; c++) {
            uint64_t t = T0 + (uint64_t)c * 1000 % PERIOD_MS + (uint64_t)p * PERIOD_MS +
                         next_random(&x) % 7;
            series_append(st, v[c * 2 + 1], t, source_next(&src[c * 2 + 1], KIND_STATUS, &x));
            series_append(st, v[c * 2], t, source_next(&src[c * 2], KIND_LATENCY, &x));
        }
    free(v);
    free(src);
    *ret_heap = heap_in_use() - before;
    return st;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* The least, the median and the most points the series of one name hold. */
static void held_print(const struct series_store *st, const char *name)
{
    size_t n = 0, *v = xcalloc(series_store_count(st), sizeof(*v));
    for (size_t i = 0; i < series_store_count(st); i++)
        if (strcmp(series_name(series_store_at(st, i)), name) == 0)
            v[n++] = series_len(series_store_at(st, i));
    qsort(v, n, sizeof(*v), cmp_size);
    if (n)
        printf("  %s: %zu series holding %zu / %zu / %zu points (least / median / most)\n", name, n,
               v[0], v[n / 2], v[n - 1]);
    free(v);
}

int main(int argc, char **argv)
{
    struct options o;
    options_parse(argc, argv, &o);
    bench_print_command(argc, argv, true);

    printf("\n%u series of each kind, each keeping %u points of twice as many appended, 10 s "
           "apart with 0-6 ms of jitter:\n",
           o.checks, o.points);
    for (enum kind k = 0; k < KIND_COUNT; k++) {
        struct measured m;
        kind_measure(k, o.checks, o.points, &m);
        printf("  %-28s %5.2f bytes a point, append %5.1f ns, read %5.1f ns a point\n",
               kind_names[k], (double)m.bytes / (double)m.points, m.append_ns, m.read_ns);
    }

    printf("\n%u checks (%u series: status and latency), %u points each, all kept:\n", o.checks,
           o.checks * 2, o.points);
    size_t heap;
    struct series_limits all = {.points = o.points, .memory = (size_t)16 << 30};
    struct series_store *st = checks_fill(o.checks, o.points, &all, &heap);
    struct series_stats s;
    series_store_stats(st, &s);
    printf("  now:    %.1f MB of heap (%.1f MB of points, %.1f MB of series: %.0f bytes a "
           "series)\n",
           (double)heap / 1e6, (double)s.bytes / 1e6, (double)s.metadata_bytes / 1e6,
           (double)s.metadata_bytes / (double)s.series);
    series_store_free(st);
    size_t old = old_layout_heap(o.checks, o.points);
    printf("  before: %.1f MB of heap (rings of 16-byte points, %.0f bytes a series)\n",
           (double)old / 1e6, (double)old / (o.checks * 2.0));

    printf("\n%u checks under the default budget (%u MiB), after %u points:\n", o.checks,
           SERIES_MEMORY_DEFAULT >> 20, o.points);
    struct series_limits def = {.points = o.points};
    st = checks_fill(o.checks, o.points, &def, &heap);
    series_store_stats(st, &s);
    printf("  %.1f MB of heap: %.2f MB of points (budget %.2f MB), %.1f MB of series; %" PRIu64
           " points dropped for the budget\n",
           (double)heap / 1e6, (double)s.bytes / 1e6, (double)s.budget / 1e6,
           (double)s.metadata_bytes / 1e6, s.dropped_points);
    held_print(st, "hale_check_status");
    held_print(st, "hale_check_sample");
    series_store_free(st);
    return 0;
}
