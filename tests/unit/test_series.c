/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/series/: points that come back bit for bit whatever their
 * values and times, in order, across chunks; the points bound; the memory
 * budget and its fairness; lookup by name and labels, the cap on series,
 * removal and retention.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/err.h"
#include "series/series.h"

/* A store that keeps everything appended in these tests. */
static struct series_store *store_roomy(void)
{
    return series_store_new(&(struct series_limits){.points = 1000000, .memory = 1u << 30});
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static double double_of(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

/* xorshift64*: the same "random" points on every run. */
static uint64_t next_random(uint64_t *x)
{
    *x ^= *x >> 12;
    *x ^= *x << 25;
    *x ^= *x >> 27;
    return *x * 0x2545f4914f6cdd1du;
}

/* Appends the n points to a new series of st and checks they all come back, bit for bit. */
static void round_trip(struct series_store *st, const char *name, const uint64_t *times,
                       const double *values, size_t n)
{
    struct series *s;
    assert_int_equal(series_store_get(st, name, NULL, &s), 0);
    for (size_t i = 0; i < n; i++)
        series_append(st, s, times[i], values[i]);
    assert_int_equal(series_len(s), n);
    struct series_iter it;
    struct series_point p;
    size_t i = 0;
    for (series_iter_init(&it, s); series_next(&it, &p); i++) {
        assert_true(i < n);
        if (p.time_ms != times[i] || bits_of(p.value) != bits_of(values[i]))
            fail_msg("%s: point %zu is (%llu, %016llx), appended (%llu, %016llx)", name, i,
                     (unsigned long long)p.time_ms, (unsigned long long)bits_of(p.value),
                     (unsigned long long)times[i], (unsigned long long)bits_of(values[i]));
    }
    assert_int_equal(i, n);
    assert_false(series_next(&it, &p)); /* and stays done */
    assert_true(series_last(s, &p));
    assert_int_equal(p.time_ms, times[n - 1]);
    assert_int_equal(bits_of(p.value), bits_of(values[n - 1]));
}

static void test_series_round_trip_of_edge_values_and_times(void **state)
{
    (void)state;
    const double values[] = {
            0.0,
            -0.0,
            0.0,
            INFINITY,
            -INFINITY,
            NAN,
            -NAN,
            double_of(0x7ff0000000000001u), /* a signalling NaN */
            double_of(0x7ff8dead0000beefu), /* a NaN with a payload */
            double_of(0xfff0000000000123u),
            0.1 + 0.2,
            0.1,
            0.3,
            1e300,
            -1e300,
            5e-324, /* the smallest subnormal */
            2.2250738585072014e-308,
            1.7976931348623157e308,
            9007199254740993.0, /* past 2^53 */
            1125899906842624.0, /* 2^50: just past the decimals */
            1125899906842623.0,
            -1125899906842623.0,
            0.000345,
            0.000346,
            12345.678901234,
            123456789012.5,
            3.0,
            -3.0,
            0.000000000000001,
            0.0000000000000001,
            1.0 / 3.0,
            2.0 / 3.0,
            42.0,
            42.0,
            -0.0,
            -0.0,
            97.50626566416,
            97.50626566417,
            1e-320,
    };
    /* Forward, backward, still, huge gaps, the ends of the range and 2^44 around. */
    const uint64_t times[] = {
            1795280139417,
            1795280149417,
            1795280149417,
            1795280139000,
            0,
            UINT64_MAX,
            1,
            (uint64_t)1 << 44,
            ((uint64_t)1 << 44) - 1,
            1795280139417,
            1795280139417 + 100ull * 365 * 24 * 3600 * 1000,
            1795280139417,
            1795280139417 - 30ull * 365 * 24 * 3600 * 1000,
            1795280139418,
            1795280139419,
            1795280139420,
            UINT64_MAX - 1,
            UINT64_MAX,
            0,
            1795280149417 + 2147483647u,
            1795280149417 + 2147483647u + 2147483648u,
            1795280149417,
            1795280159417,
            1795280169417,
            1795280179418,
            1795280189416,
            1795280199417,
            1795280209417,
            1795280219417,
            1795280229417,
            1795280239417,
            1795280249417,
            1795280259417,
            1795280269417,
            1795280279417,
            1795280289417,
            1795280299417,
            1795280309417,
            1795280319417,
    };
    _Static_assert(sizeof(values) / sizeof(values[0]) == sizeof(times) / sizeof(times[0]),
                   "a time per value");
    struct series_store *st = store_roomy();
    round_trip(st, "edges", times, values, sizeof(values) / sizeof(values[0]));
    /* Each value alone, as the first point of a series. */
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        char name[16];
        snprintf(name, sizeof(name), "one%zu", i);
        round_trip(st, name, &times[i], &values[i], 1);
    }
    series_store_free(st);
}

/* Random points of several kinds: the codec's every form, many chunks of each. */
static void test_series_round_trip_of_random_points(void **state)
{
    (void)state;
    enum {
        N = 20000
    };
    uint64_t *times = xcalloc(N, sizeof(*times)), x = 0x9e3779b97f4a7c15u;
    double *values = xcalloc(N, sizeof(*values));
    struct series_store *st = store_roomy();
    for (int kind = 0; kind < 6; kind++) {
        uint64_t t = 1795280139417;
        for (size_t i = 0; i < N; i++) {
            uint64_t r = next_random(&x);
            switch (kind) {
            case 0: /* any bits, any times */
                times[i] = next_random(&x);
                values[i] = double_of(r);
                break;
            case 1: /* latency in µs as seconds, every 10 s with jitter */
                t += 10000 + r % 7 - 3;
                times[i] = t;
                values[i] = (double)(200 + (r >> 8) % 50000) / 1e6;
                break;
            case 2: /* a status that changes now and then */
                t += 5000;
                times[i] = t;
                values[i] = (r >> 16) % 20 == 0 ? (double)((r >> 8) % 4) : (i ? values[i - 1] : 0);
                break;
            case 3: /* decimals of every scale, mixed with non-decimals */
                t += r % 3 == 0 ? 0 : 1000;
                times[i] = t;
                values[i] = r % 5 == 0 ? sqrt((double)(r >> 12))
                                       : (double)(int64_t)((r >> 4) % 2000000 - 1000000) /
                                                 pow(10, (double)((r >> 40) % 16));
                break;
            case 4: /* a counter of bytes */
                t += 10000;
                times[i] = t;
                values[i] = (double)(i * 1500 + r % 1000);
                break;
            default: /* times back and forth by up to years */
                t += (r % 2 ? 1 : -1) * (int64_t)((r >> 1) % (1ull << ((r >> 56) % 48)));
                times[i] = t;
                values[i] = (double)(r % 100) / 10;
                break;
            }
        }
        char name[16];
        snprintf(name, sizeof(name), "random%d", kind);
        round_trip(st, name, times, values, N);
    }
    free(times);
    free(values);
    series_store_free(st);
}

static void test_series_iterator_over_empty_and_one_point(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(NULL);
    struct series *s;
    assert_int_equal(series_store_get(st, "time", NULL, &s), 0);
    struct series_iter it;
    struct series_point p;
    series_iter_init(&it, s);
    assert_false(series_next(&it, &p));
    assert_false(series_last(s, &p));
    assert_int_equal(series_len(s), 0);
    series_append(st, s, 1000, 0.25);
    series_iter_init(&it, s);
    assert_true(series_next(&it, &p));
    assert_int_equal(p.time_ms, 1000);
    assert_true(p.value == 0.25);
    assert_false(series_next(&it, &p));
    assert_int_equal(series_len(s), 1);
    series_store_free(st);
}

/* Skipping n points, whole chunks at a time, lands where reading n would. */
static void test_series_iterator_skips_as_reading_would(void **state)
{
    (void)state;
    struct series_store *st = store_roomy();
    struct series *s;
    assert_int_equal(series_store_get(st, "time", NULL, &s), 0);
    uint64_t x = 7;
    for (uint64_t i = 0; i < 3000; i++)
        series_append(st, s, 1000 * i, (double)(next_random(&x) % 1000) / 8);
    size_t n = series_len(s);
    for (size_t skip = 0; skip <= n + 1; skip += skip < 300 ? 1 : 97) {
        struct series_iter read, jump;
        struct series_point a, b;
        series_iter_init(&read, s);
        for (size_t i = 0; i < skip && series_next(&read, &a); i++)
            ;
        series_iter_init(&jump, s);
        series_iter_skip(&jump, skip);
        bool more = series_next(&read, &a);
        assert_int_equal(series_next(&jump, &b), more);
        if (more) {
            assert_int_equal(a.time_ms, b.time_ms);
            assert_int_equal(bits_of(a.value), bits_of(b.value));
            assert_int_equal(a.time_ms, 1000 * skip);
        }
    }
    series_store_free(st);
}

/*
 * Past the points bound a series drops whole chunks, its oldest: it keeps
 * the newest points, at least `points` of them and less than a chunk more.
 */
static void test_series_points_bound_drops_the_oldest_chunks(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(&(struct series_limits){.points = 100});
    struct series *s;
    assert_int_equal(series_store_get(st, "time", NULL, &s), 0);
    size_t most = 0;
    for (uint64_t i = 0; i < 5000; i++) {
        series_append(st, s, 1000 * i, (double)(i % 37) / 8);
        if (i >= 100) {
            assert_true(series_len(s) >= 100);
            most = series_len(s) > most ? series_len(s) : most;
        }
        if (i % 500 == 499) { /* the points held are the newest, in order */
            struct series_iter it;
            struct series_point p;
            uint64_t expect = i + 1 - series_len(s);
            for (series_iter_init(&it, s); series_next(&it, &p); expect++) {
                assert_int_equal(p.time_ms, 1000 * expect);
                assert_true(p.value == (double)(expect % 37) / 8);
            }
            assert_int_equal(expect, i + 1);
        }
    }
    assert_true(most > 100); /* whole chunks go: more are held between drops */
    assert_true(most < 400);
    struct series_stats stats;
    series_store_stats(st, &stats);
    assert_int_equal(stats.points, series_len(s));
    assert_int_equal(stats.dropped_points, 0); /* the bound, not the budget */
    assert_true(stats.bytes <= 4 * 256);
    series_store_free(st);
}

/* 10 s apart with a few ms of jitter. */
static uint64_t jittered(uint64_t i, uint64_t *x)
{
    return 1795280139417 + i * 10000 + next_random(x) % 7;
}

/* What a site relies on the budget for: small points, and memory bounded by bytes. */
static void test_series_points_are_small(void **state)
{
    (void)state;
    struct series_store *st = store_roomy();
    struct series *status, *latency;
    assert_int_equal(series_store_get(st, "status", NULL, &status), 0);
    assert_int_equal(series_store_get(st, "latency", NULL, &latency), 0);
    uint64_t x = 42;
    for (uint64_t i = 0; i < 720; i++) {
        uint64_t t = jittered(i, &x);
        series_append(st, status, t, i % 100 < 95 ? 0 : 2);
        series_append(st, latency, t, (double)(300 + next_random(&x) % 400) / 1e6);
    }
    struct series_stats stats;
    series_store_stats(st, &stats);
    /* About a byte a status and three a latency, the chunks' headers included. */
    assert_true(stats.bytes < 720 * (2 + 4));
    struct series *alone;
    struct series_store *one = store_roomy();
    assert_int_equal(series_store_get(one, "status", NULL, &alone), 0);
    x = 42;
    for (uint64_t i = 0; i < 720; i++)
        series_append(one, alone, jittered(i, &x), 0);
    series_store_stats(one, &stats);
    assert_true(stats.bytes <= 2 * 720);
    series_store_free(one);
    series_store_free(st);
}

static void points_add(struct series_store *st, struct series *s, uint64_t from, uint64_t n)
{
    for (uint64_t i = from; i < from + n; i++)
        series_append(st, s, 1000 * i, (double)(i % 1000) / 1000);
}

/*
 * Once the store is past its budget a series past its share gives up its
 * oldest chunks instead of growing, and the newest points of every series
 * stay; the points dropped are counted.
 */
static void test_series_budget_is_shared_fairly(void **state)
{
    (void)state;
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 1000000, .memory = 64u << 10});
    struct series *greedy;
    assert_int_equal(series_store_get(st, "greedy", NULL, &greedy), 0);
    points_add(st, greedy, 0, 100000); /* alone, it takes what there is */
    struct series_stats stats;
    series_store_stats(st, &stats);
    assert_true(stats.bytes > (48u << 10));
    assert_true(stats.bytes <= (64u << 10) + 256);
    size_t greedy_len = series_len(greedy);
    assert_int_equal(stats.dropped_points, 100000 - greedy_len);

    /* 100 more series come, each a share of 640 bytes: the greedy one shrinks as it goes on. */
    struct series *others[100];
    for (int k = 0; k < 100; k++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", k);
        assert_int_equal(series_store_get(st, name, NULL, &others[k]), 0);
    }
    for (int round = 0; round < 40; round++) {
        for (int k = 0; k < 100; k++)
            points_add(st, others[k], (uint64_t)round * 100, 100);
        points_add(st, greedy, 100000 + (uint64_t)round * 100, 100);
    }
    series_store_stats(st, &stats);
    assert_true(series_len(greedy) < greedy_len / 10);
    /* Within the budget, give or take a chunk a series. */
    assert_true(stats.bytes <= (64u << 10) + 101 * 128);
    size_t least = SIZE_MAX, most = 0;
    for (int k = 0; k < 100; k++) {
        struct series_point p;
        assert_true(series_last(others[k], &p));
        assert_int_equal(p.time_ms, 1000 * (40 * 100 - 1)); /* the newest point stays */
        least = series_len(others[k]) < least ? series_len(others[k]) : least;
        most = series_len(others[k]) > most ? series_len(others[k]) : most;
    }
    assert_true(least > 0);
    assert_true(most < 2 * least); /* alike series hold alike */
    assert_true(stats.dropped_points > 0);

    /* A bigger budget (a reload): they grow again. */
    series_store_set_limits(st, &(struct series_limits){.points = 1000000, .memory = 16u << 20});
    for (int k = 0; k < 100; k++)
        points_add(st, others[k], 4000, 2000);
    series_store_stats(st, &stats);
    for (int k = 0; k < 100; k++)
        assert_true(series_len(others[k]) >= 2000);
    assert_int_equal(stats.budget, 16u << 20);
    series_store_free(st);
}

/*
 * Lower limits (a reload) apply at once, to series no longer written too:
 * each keeps its newest points, the drops for the budget are counted.
 */
static void test_series_lower_limits_apply_at_once(void **state)
{
    (void)state;
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 100000, .memory = 1u << 20});
    struct series *v[50];
    for (int k = 0; k < 50; k++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", k);
        assert_int_equal(series_store_get(st, name, NULL, &v[k]), 0);
        points_add(st, v[k], 0, 2000);
    }
    struct series_stats before, after;
    series_store_stats(st, &before);
    assert_true(before.bytes > (64u << 10));
    assert_int_equal(before.dropped_points, 0);

    series_store_set_limits(st, &(struct series_limits){.points = 100000, .memory = 64u << 10});
    series_store_stats(st, &after);
    assert_true(after.bytes <= (64u << 10));
    assert_int_equal(after.dropped_points, before.points - after.points);
    for (int k = 0; k < 50; k++) {
        struct series_point p;
        assert_true(series_last(v[k], &p));
        assert_int_equal(p.time_ms, 1000 * 1999); /* the newest stays */
        assert_true(series_len(v[k]) > 0);
    }

    /* Fewer points: each holds at least them; not a drop for the budget. */
    series_store_set_limits(st, &(struct series_limits){.points = 10, .memory = 64u << 10});
    struct series_stats fewer;
    series_store_stats(st, &fewer);
    assert_int_equal(fewer.dropped_points, after.dropped_points);
    assert_true(fewer.points < after.points);
    for (int k = 0; k < 50; k++) {
        assert_true(series_len(v[k]) >= 10);
        struct series_point p;
        assert_true(series_last(v[k], &p));
        assert_int_equal(p.time_ms, 1000 * 1999);
    }
    series_store_free(st);
}

/* However many series, each keeps its newest points: the budget bends, a little. */
static void test_series_budget_keeps_every_series_newest_points(void **state)
{
    (void)state;
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 720, .memory = 64u << 10});
    enum {
        N = 2000
    }; /* 32 bytes of budget each */
    struct series **v = xcalloc(N, sizeof(*v));
    for (int k = 0; k < N; k++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", k);
        assert_int_equal(series_store_get(st, name, NULL, &v[k]), 0);
    }
    for (uint64_t i = 0; i < 200; i++)
        for (int k = 0; k < N; k++)
            series_append(st, v[k], 1795280139417 + i * 10000, (double)(i * 7 % 1000) / 1e4);
    struct series_stats stats;
    series_store_stats(st, &stats);
    for (int k = 0; k < N; k++) {
        assert_true(series_len(v[k]) >= 1);
        struct series_point p;
        assert_true(series_last(v[k], &p));
        assert_int_equal(p.time_ms, 1795280139417 + 199 * 10000);
    }
    assert_true(stats.bytes <= (size_t)N * 2 * 64); /* two of the smallest chunks each */
    free(v);
    series_store_free(st);
}

static void test_series_lookup_by_name_and_labels(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(NULL);
    struct labels a, b;
    labels_init(&a);
    labels_init(&b);
    labels_set(&a, "check", "web", NULL);
    labels_set(&a, "unit", "s", NULL);
    labels_set(&b, "check", "db", NULL);
    struct series *sa, *sb, *again, *bare;
    assert_int_equal(series_store_get(st, "time", &a, &sa), 0);
    assert_int_equal(series_store_get(st, "time", &b, &sb), 0);
    assert_int_equal(series_store_get(st, "time", NULL, &bare), 0);
    assert_ptr_not_equal(sa, sb);
    assert_ptr_not_equal(sa, bare);
    assert_int_equal(series_store_get(st, "time", &a, &again), 0);
    assert_ptr_equal(sa, again);
    assert_ptr_equal(series_store_find(st, "time", &b), sb);
    assert_null(series_store_find(st, "size", &b));
    struct labels l = {0};
    series_labels(sa, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.v[0].name, "check");
    assert_string_equal(labels_get(&l, "check"), "web");
    assert_string_equal(labels_get(&l, "unit"), "s");
    assert_null(labels_get(&l, "label"));
    series_labels(bare, &l); /* the same set, reused */
    assert_int_equal(l.n, 0);
    free(l.v);
    assert_string_equal(series_label(sa, "unit"), "s");
    assert_string_equal(series_label(sb, "check"), "db");
    assert_null(series_label(sb, "unit"));
    assert_null(series_label(bare, "check"));
    assert_null(series_label(sa, "time")); /* the name is no label */
    assert_string_equal(series_name(sb), "time");
    assert_int_equal(series_store_count(st), 3);
    assert_int_equal(series_store_get(st, "", NULL, &again), -EINVAL);
    labels_fini(&a);
    labels_fini(&b);
    struct series_stats stats;
    series_store_stats(st, &stats);
    assert_int_equal(stats.series, 3);
    assert_true(stats.metadata_bytes > 0);
    assert_int_equal(stats.bytes, 0); /* no point yet: no chunk */
    series_store_free(st);
}

/* Keeps "sN" for even N ("one-more" goes). */
static bool keep_even(const struct series *s, void *data)
{
    (void)data;
    const char *name = series_name(s);
    if (name[0] != 's')
        return false;
    return strtoul(name + 1, NULL, 10) % 2 == 0;
}

static void test_series_cap_removal_and_retention(void **state)
{
    (void)state;
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 2, .max_series = 300});
    struct series *s;
    char name[16];
    for (unsigned i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "s%u", i);
        assert_int_equal(series_store_get(st, name, NULL, &s), 0);
        series_append(st, s, i, (double)i);
    }
    uint64_t generation = series_store_generation(st);
    assert_int_equal(series_store_get(st, "one-more", NULL, &s), HALE_ELIMIT);
    assert_int_equal(series_store_get(st, "s42", NULL, &s), 0); /* existing: still found */
    assert_int_equal(series_store_generation(st), generation);
    series_store_remove(st, s);
    assert_true(series_store_generation(st) != generation);
    assert_null(series_store_find(st, "s42", NULL));
    assert_int_equal(series_store_get(st, "one-more", NULL, &s), 0);
    series_store_retain(st, keep_even, NULL);
    for (unsigned i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "s%u", i);
        s = series_store_find(st, name, NULL);
        if (i % 2 == 0 && i != 42) {
            assert_non_null(s);
            struct series_point p;
            assert_true(series_last(s, &p));
            assert_true(p.value == (double)i);
        } else {
            assert_null(s);
        }
    }
    assert_int_equal(series_store_count(st), 149);
    /* Every series left is found again: the moves kept the table's chains right. */
    for (size_t i = 0; i < series_store_count(st); i++) {
        s = series_store_at(st, i);
        assert_non_null(s);
        assert_ptr_equal(series_store_find(st, series_name(s), NULL), s);
    }
    /* What the removed series held is off the counts. */
    struct series_stats stats;
    series_store_stats(st, &stats);
    assert_int_equal(stats.points, 149);
    assert_int_equal(stats.series, 149);
    series_store_free(st);
}

/*
 * 10,000 checks' status and latency series, as the runner names them:
 * their metadata (the series and the tables that find them) stays near
 * 120 bytes a series, which with this many checks costs more than the
 * points.
 */
static void test_series_metadata_per_check_series(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(NULL);
    char name[32];
    for (unsigned i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "c-%u", i);
        struct labels l;
        labels_init(&l);
        labels_set(&l, "check", name, NULL);
        struct series *s;
        assert_int_equal(series_store_get(st, "hale_check_status", &l, &s), 0);
        labels_set(&l, "label", "time", NULL);
        labels_set(&l, "unit", "s", NULL);
        assert_int_equal(series_store_get(st, "hale_check_sample", &l, &s), 0);
        assert_string_equal(series_label(s, "check"), name);
        labels_fini(&l);
    }
    struct series_stats stats;
    series_store_stats(st, &stats);
    assert_int_equal(stats.series, 20000);
    print_message("metadata: %zu bytes a series\n", stats.metadata_bytes / stats.series);
    assert_true(stats.metadata_bytes / stats.series <= 120);
    series_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_series_round_trip_of_edge_values_and_times),
            cmocka_unit_test(test_series_round_trip_of_random_points),
            cmocka_unit_test(test_series_iterator_over_empty_and_one_point),
            cmocka_unit_test(test_series_iterator_skips_as_reading_would),
            cmocka_unit_test(test_series_points_bound_drops_the_oldest_chunks),
            cmocka_unit_test(test_series_points_are_small),
            cmocka_unit_test(test_series_budget_is_shared_fairly),
            cmocka_unit_test(test_series_lower_limits_apply_at_once),
            cmocka_unit_test(test_series_budget_keeps_every_series_newest_points),
            cmocka_unit_test(test_series_lookup_by_name_and_labels),
            cmocka_unit_test(test_series_cap_removal_and_retention),
            cmocka_unit_test(test_series_metadata_per_check_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
