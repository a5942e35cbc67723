/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/base/units.c: durations, sizes, percentages and threshold
 * ranges, including the Monitoring-Plugins cases from
 * fixtures/nagios-threshold-range-examples.txt.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "base/units.h"

static uint64_t duration_ok(const char *s)
{
    uint64_t ms = 12345;
    struct err e = {0};
    int r = units_duration_parse(s, &ms, &e, NULL);
    if (r != 0)
        fail_msg("\"%s\": %s", s, e.msg);
    return ms;
}

/* Parses s expecting a failure; checks the message and the offset. */
static void duration_bad(const char *s, const char *msg, size_t offset)
{
    uint64_t ms = 777;
    struct err e = {0};
    size_t off = 999;
    assert_int_equal(units_duration_parse(s, &ms, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, msg);
    assert_int_equal(off, offset);
    assert_int_equal(ms, 777); /* out-parameters are written only on success */
}

static void test_units_duration_parses_each_unit(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("250ms"), 250);
    assert_int_equal(duration_ok("10s"), 10000);
    assert_int_equal(duration_ok("5m"), 300000);
    assert_int_equal(duration_ok("2h"), 7200000);
    assert_int_equal(duration_ok("7d"), 7ull * 86400000);
    assert_int_equal(duration_ok("2w"), 14ull * 86400000);
    assert_int_equal(duration_ok("0"), 0);
    assert_int_equal(duration_ok("0s"), 0);
}

static void test_units_duration_composes_in_decreasing_order(void **state)
{
    (void)state;
    assert_int_equal(duration_ok("1h30m"), 5400000);
    assert_int_equal(duration_ok("1m30s500ms"), 90500);
    assert_int_equal(duration_ok("1w1d1h1m1s1ms"), 694861001ull);
    assert_int_equal(duration_ok("90s"), 90000);
}

static void test_units_duration_refuses_bad_text(void **state)
{
    (void)state;
    duration_bad("", "empty duration", 0);
    duration_bad("10x", "unknown unit \"x\"; units are w, d, h, m, s and ms", 2);
    duration_bad("10", "missing unit after 10; units are w, d, h, m, s and ms", 2);
    duration_bad("1.5h", "fractions are not allowed; write 1h30m, not 1.5h", 1);
    duration_bad("30m1h", "units must go from largest to smallest, as in 1h30m", 4);
    duration_bad("1m1m", "unit \"m\" appears twice", 3);
    duration_bad("-5s", "expected a number", 0);
    duration_bad("5 s", "missing unit after 5; units are w, d, h, m, s and ms", 1);
    duration_bad("1hx", "unknown unit \"hx\"; units are w, d, h, m, s and ms", 1);
}

static void test_units_duration_refuses_overflow(void **state)
{
    (void)state;
    /* 2^64 ms is about 30 million weeks. */
    duration_bad("40000000000w", "duration too large", 0);
    duration_bad("99999999999999999999ms", "duration too large", 0);
    duration_bad("1w18446744073709551615ms", "duration too large", 2);
    duration_bad("18446744073709551615ms1ms", "unit \"ms\" appears twice", 23);
    assert_int_equal(duration_ok("18446744073709551615ms"), UINT64_MAX);
    duration_bad("30000000w18446744073709551615ms", "duration too large", 9);
}

static void test_units_duration_format_round_trips(void **state)
{
    (void)state;
    char buf[UNITS_DURATION_MAX];
    assert_string_equal(units_duration_format(0, buf, sizeof(buf)), "0");
    assert_string_equal(units_duration_format(250, buf, sizeof(buf)), "250ms");
    assert_string_equal(units_duration_format(5400000, buf, sizeof(buf)), "1h30m");
    assert_string_equal(units_duration_format(694861001ull, buf, sizeof(buf)), "1w1d1h1m1s1ms");
    units_duration_format(UINT64_MAX, buf, sizeof(buf));
    assert_int_equal(duration_ok(buf), UINT64_MAX);
}

static uint64_t size_ok(const char *s)
{
    uint64_t b = 0;
    struct err e = {0};
    if (units_size_parse(s, &b, &e, NULL) != 0)
        fail_msg("\"%s\": %s", s, e.msg);
    return b;
}

static void test_units_size_parses_decimal_and_binary(void **state)
{
    (void)state;
    assert_int_equal(size_ok("512"), 512);
    assert_int_equal(size_ok("512B"), 512);
    assert_int_equal(size_ok("64KiB"), 65536);
    assert_int_equal(size_ok("1MiB"), 1048576);
    assert_int_equal(size_ok("1GiB"), 1073741824ull);
    assert_int_equal(size_ok("2TiB"), 2ull << 40);
    assert_int_equal(size_ok("10KB"), 10000);
    assert_int_equal(size_ok("10MB"), 10000000);
    assert_int_equal(size_ok("3GB"), 3000000000ull);
    assert_int_equal(size_ok("1TB"), 1000000000000ull);
}

static void test_units_size_refuses_bad_text(void **state)
{
    (void)state;
    uint64_t b = 5;
    struct err e = {0};
    size_t off = 0;
    assert_int_equal(units_size_parse("10kb", &b, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg,
                        "unknown unit \"kb\"; units are B, KB, MB, GB, TB, KiB, MiB, GiB and TiB");
    assert_int_equal(off, 2);
    assert_int_equal(units_size_parse("MiB", &b, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, "expected a number");
    assert_int_equal(off, 0);
    assert_int_equal(units_size_parse("1.5MiB", &b, &e, &off), HALE_EPARSE);
    assert_int_equal(off, 1);
    assert_int_equal(units_size_parse("16777216TiB", &b, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, "size too large");
    assert_int_equal(b, 5);
}

static void test_units_percent_parses_and_bounds(void **state)
{
    (void)state;
    double p = -1;
    assert_int_equal(units_percent_parse("80%", &p, NULL, NULL), 0);
    assert_true(p == 80.0);
    assert_int_equal(units_percent_parse("99.5%", &p, NULL, NULL), 0);
    assert_true(p == 99.5);
    assert_int_equal(units_percent_parse("0%", &p, NULL, NULL), 0);
    assert_true(p == 0.0);
    assert_int_equal(units_percent_parse("100%", &p, NULL, NULL), 0);
    assert_true(p == 100.0);

    struct err e = {0};
    size_t off = 0;
    assert_int_equal(units_percent_parse("80", &p, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, "expected % after the number");
    assert_int_equal(off, 2);
    assert_int_equal(units_percent_parse("101%", &p, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, "a percentage must be between 0% and 100%");
    assert_int_equal(units_percent_parse("-1%", &p, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, "expected a number followed by %, such as 80%");
    assert_int_equal(units_percent_parse("5%%", &p, &e, &off), HALE_EPARSE);
    assert_int_equal(off, 2);
    assert_int_equal(units_percent_parse("0x10%", &p, &e, &off), HALE_EPARSE);
    assert_true(p == 100.0);
}

static struct units_range range_ok(const char *s)
{
    struct units_range r;
    struct err e = {0};
    if (units_range_parse(s, &r, &e, NULL) != 0)
        fail_msg("\"%s\": %s", s, e.msg);
    return r;
}

/* The table of monitoring-plugin-guidelines' range expressions. */
static void test_units_range_guideline_examples(void **state)
{
    (void)state;
    struct units_range r = range_ok("10");
    assert_true(units_range_alerts(&r, -1));
    assert_false(units_range_alerts(&r, 0));
    assert_false(units_range_alerts(&r, 10));
    assert_true(units_range_alerts(&r, 10.5));

    r = range_ok("10:");
    assert_true(units_range_alerts(&r, 9.99));
    assert_false(units_range_alerts(&r, 10));
    assert_false(units_range_alerts(&r, 1e300));

    r = range_ok("~:10");
    assert_false(units_range_alerts(&r, -1e300));
    assert_false(units_range_alerts(&r, 10));
    assert_true(units_range_alerts(&r, 11));

    r = range_ok("10:20");
    assert_true(units_range_alerts(&r, 9));
    assert_false(units_range_alerts(&r, 15));
    assert_true(units_range_alerts(&r, 21));

    r = range_ok("@10:20");
    assert_true(r.inside);
    assert_true(units_range_alerts(&r, 10));
    assert_true(units_range_alerts(&r, 20));
    assert_false(units_range_alerts(&r, 9.5));
    assert_false(units_range_alerts(&r, 20.5));
}

/* monitoring-plugins lib/tests/test_utils.c, parse_range_string() and check_range(). */
static void test_units_range_monitoring_plugins_cases(void **state)
{
    (void)state;
    struct units_range r = range_ok("6");
    assert_true(r.start == 0 && r.end == 6);
    r = range_ok("-7:23");
    assert_true(r.start == -7 && r.end == 23);
    r = range_ok(":5.75");
    assert_true(r.start == 0 && r.end == 5.75);
    r = range_ok("~:-95.99");
    assert_true(isinf(r.start) && r.start < 0 && r.end == -95.99);

    r = range_ok("12345678901234567890:");
    double temp = 12345678901234567890.0;
    assert_true(units_range_alerts(&r, temp / 1.1));
    assert_false(units_range_alerts(&r, temp));
    assert_false(units_range_alerts(&r, temp * 2));

    r = range_ok("~:0");
    assert_false(r.inside);
    assert_true(units_range_alerts(&r, 0.5));
    assert_false(units_range_alerts(&r, -10));
    assert_false(units_range_alerts(&r, 0));

    r = range_ok("@0:657.8210567");
    assert_true(r.inside);
    assert_true(units_range_alerts(&r, 32.88));
    assert_false(units_range_alerts(&r, -2));
    assert_true(units_range_alerts(&r, 657.8210567));
    assert_true(units_range_alerts(&r, 0));

    r = range_ok("@1:1");
    assert_false(units_range_alerts(&r, 0.5));
    assert_true(units_range_alerts(&r, 1));
    assert_false(units_range_alerts(&r, 5.2));

    r = range_ok("1:1");
    assert_true(units_range_alerts(&r, 0.5));
    assert_false(units_range_alerts(&r, 1));
    assert_true(units_range_alerts(&r, 5.2));
}

static void range_bad(const char *s, const char *msg, size_t offset)
{
    struct units_range r;
    struct err e = {0};
    size_t off = 999;
    assert_int_equal(units_range_parse(s, &r, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, msg);
    assert_int_equal(off, offset);
}

static void test_units_range_refuses_bad_text(void **state)
{
    (void)state;
    range_bad("2:1", "the start of the range is greater than its end", 0);
    range_bad("", "empty range; expected [@][start:][end], such as 10:20", 0);
    range_bad("@", "empty range; expected [@][start:][end], such as 10:20", 1);
    range_bad("~", "expected a number", 0);
    range_bad("1:12%", "unexpected text after the range", 4);
    range_bad("a:b", "expected a number or ~", 0);
    range_bad("10:x", "expected a number", 3);
    range_bad("1:2:3", "unexpected text after the range", 3);
    range_bad("inf", "expected a number", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_units_duration_parses_each_unit),
            cmocka_unit_test(test_units_duration_composes_in_decreasing_order),
            cmocka_unit_test(test_units_duration_refuses_bad_text),
            cmocka_unit_test(test_units_duration_refuses_overflow),
            cmocka_unit_test(test_units_duration_format_round_trips),
            cmocka_unit_test(test_units_size_parses_decimal_and_binary),
            cmocka_unit_test(test_units_size_refuses_bad_text),
            cmocka_unit_test(test_units_percent_parses_and_bounds),
            cmocka_unit_test(test_units_range_guideline_examples),
            cmocka_unit_test(test_units_range_monitoring_plugins_cases),
            cmocka_unit_test(test_units_range_refuses_bad_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
