/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/series/: rings that keep the newest points in order, lookup
 * by name and labels, the cap on series, removal and retention.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "base/err.h"
#include "series/series.h"

static void test_series_ring_keeps_the_newest_points_in_order(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(4, 0);
    struct series *s;
    assert_int_equal(series_store_get(st, "time", NULL, &s), 0);
    struct series_point p;
    assert_false(series_last(s, &p));
    assert_false(series_point(s, 0, &p));
    for (uint64_t t = 1; t <= 3; t++)
        series_append(s, t * 1000, (double)t);
    assert_int_equal(series_len(s), 3);
    assert_true(series_point(s, 0, &p));
    assert_int_equal(p.time_ms, 1000);
    for (uint64_t t = 4; t <= 10; t++)
        series_append(s, t * 1000, (double)t);
    assert_int_equal(series_len(s), 4);
    assert_int_equal(series_capacity(s), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_true(series_point(s, i, &p));
        assert_int_equal(p.time_ms, (7 + i) * 1000);
        assert_true(p.value == (double)(7 + i));
    }
    assert_false(series_point(s, 4, &p));
    assert_true(series_last(s, &p));
    assert_true(p.value == 10.0);
    series_store_free(st);
}

static void test_series_ring_grows_in_order_up_to_its_bound(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(720, 0);
    struct series *s;
    assert_int_equal(series_store_get(st, "time", NULL, &s), 0);
    struct series_point p;
    for (uint64_t i = 0; i < 1000; i++) {
        series_append(s, i, (double)i);
        /* Through every doubling the oldest kept point stays first. */
        assert_true(series_point(s, 0, &p));
        assert_int_equal(p.time_ms, i < 720 ? 0 : i - 719);
        assert_true(series_last(s, &p));
        assert_int_equal(p.time_ms, i);
    }
    assert_int_equal(series_len(s), 720);
    assert_int_equal(series_capacity(s), 720);
    for (size_t i = 0; i < 720; i++) {
        assert_true(series_point(s, i, &p));
        assert_true(p.value == (double)(280 + i));
    }
    series_store_free(st);
}

static void test_series_lookup_by_name_and_labels(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(0, 0);
    struct labels a, b;
    labels_init(&a);
    labels_init(&b);
    labels_set(&a, "check", "web", NULL);
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
    assert_string_equal(labels_get(series_labels(sa), "check"), "web");
    assert_string_equal(series_name(sb), "time");
    assert_int_equal(series_capacity(sa), SERIES_POINTS_DEFAULT);
    assert_int_equal(series_store_count(st), 3);
    assert_int_equal(series_store_get(st, "", NULL, &again), -EINVAL);
    labels_fini(&a);
    labels_fini(&b);
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
    struct series_store *st = series_store_new(2, 300);
    struct series *s;
    char name[16];
    for (unsigned i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "s%u", i);
        assert_int_equal(series_store_get(st, name, NULL, &s), 0);
        series_append(s, i, (double)i);
    }
    assert_int_equal(series_store_get(st, "one-more", NULL, &s), HALE_ELIMIT);
    assert_int_equal(series_store_get(st, "s42", NULL, &s), 0); /* existing: still found */
    series_store_remove(st, s);
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
    for (size_t i = 0; i < series_store_count(st); i++)
        assert_non_null(series_store_at(st, i));
    series_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_series_ring_keeps_the_newest_points_in_order),
            cmocka_unit_test(test_series_ring_grows_in_order_up_to_its_bound),
            cmocka_unit_test(test_series_lookup_by_name_and_labels),
            cmocka_unit_test(test_series_cap_removal_and_retention),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
