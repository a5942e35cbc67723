/* SPDX-License-Identifier: MIT */
/*
 * Tests of the metric check kind (src/checks/metric.c): thresholds on the
 * newest point of a series, `for` held on the points' own times, several
 * series with the worst named, label matchers, staleness and no data.
 * Series are filled by hand in a real store; time comes from a manual
 * clock; runs go through the real run lifecycle on a real loop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/labels.h"
#include "checks/checks.h"
#include "checks/internal.h"
#include "config/config.h"
#include "series/series.h"

#define T0 1700000000000u /* Unix ms */
#define S  1000u

struct fixture {
    struct config *config;
    uv_loop_t loop;
    struct clock clock;
    struct series_store *st;
    struct check_host host;
};

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    clock_manual_init(&f->clock, T0, T0);
    f->st = series_store_new(&(struct series_limits){.points = 32});
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->host.kind_state)
        check_kind_metric.detach(&f->host);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    config_unref(f->config);
    series_store_free(f->st);
    free(f);
    return 0;
}

/* Loads a config whose metric check "m" has the given keys, and attaches a host to it. */
static void setup_check(struct fixture *f, const char *keys)
{
    char *yaml = xasprintf("checks:\n"
                           "  - name: m\n"
                           "    type: metric\n"
                           "%s",
                           keys);
    struct config_diags d = {0};
    int r = config_load_buffer("test.yaml", yaml, strlen(yaml), &f->config, &d);
    if (r != 0)
        config_diags_print(&d, stderr);
    assert_int_equal(r, 0);
    config_diags_fini(&d);
    free(yaml);
    f->host = (struct check_host){
            .uv = &f->loop,
            .cfg = config_check_find(f->config, "m"),
            .series = f->st,
    };
    struct err e = {0};
    assert_int_equal(check_kind_metric.attach(&f->host, &e), 0);
    check_metric__set_clock(&f->host, &f->clock);
}

/* Appends value at time_ms to the series name{k=v} (labels: NULL-terminated pairs). */
static void point(struct fixture *f, const char *name, const char *const *kv, uint64_t time_ms,
                  double value)
{
    struct labels l;
    labels_init(&l);
    for (; kv && kv[0]; kv += 2)
        labels_set(&l, kv[0], kv[1], NULL);
    struct series *s;
    assert_int_equal(series_store_get(f->st, name, &l, &s), 0);
    labels_fini(&l);
    series_append(f->st, s, time_ms, value);
}

struct result {
    bool done;
    struct check_observation obs;
};

static void on_done(struct check_run *run, void *data)
{
    struct result *res = data;
    res->obs = run->obs;
    memset(&run->obs, 0, sizeof(run->obs));
    res->done = true;
}

/* Runs the check at now_ms; the caller frees *ret with check_observation_fini(). */
static void run_at(struct fixture *f, uint64_t now_ms, struct check_observation *ret)
{
    f->clock.manual_real_ms = f->clock.manual_mono_ms = now_ms;
    struct result res = {0};
    assert_int_equal(check_run_start(&f->host, on_done, &res), 0);
    while (!res.done)
        uv_run(&f->loop, UV_RUN_ONCE);
    *ret = res.obs;
}

/* Runs the check at now_ms; fails unless it ends with status and a summary holding text. */
static void expect_at(struct fixture *f, uint64_t now_ms, enum check_status status,
                      const char *text)
{
    struct check_observation o;
    run_at(f, now_ms, &o);
    if (o.status != status || !strstr(o.summary, text))
        fail_msg("got %s \"%s\"; expected %s \"...%s...\"", check_status_name(o.status), o.summary,
                 check_status_name(status), text);
    check_observation_fini(&o);
}

static const char *const host_a[] = {"host", "a", NULL};
static const char *const host_b[] = {"host", "b", NULL};
static const char *const host_c[] = {"host", "c", NULL};

/* ---- thresholds ---- */

static void test_check_metric_thresholds_on_the_newest_point(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: cpu_usage\n    warn: \"80\"\n    crit: \"90\"\n");
    point(f, "cpu_usage", host_a, T0, 95);
    point(f, "cpu_usage", host_a, T0 + 1 * S, 50);
    expect_at(f, T0 + 2 * S, CHECK_STATUS_OK, "cpu_usage{host=\"a\"} = 50");
    point(f, "cpu_usage", host_a, T0 + 3 * S, 85);
    expect_at(f, T0 + 4 * S, CHECK_STATUS_WARNING, "cpu_usage{host=\"a\"} = 85, beyond warn 80");
    point(f, "cpu_usage", host_a, T0 + 5 * S, 90.5);
    expect_at(f, T0 + 6 * S, CHECK_STATUS_CRITICAL, "cpu_usage{host=\"a\"} = 90.5, beyond crit 90");
    /* Ranges as plugins write them: below 10 is critical, inside 20:30 a warning. */
    point(f, "free_pct", NULL, T0, 5);
    config_unref(f->config);
    check_kind_metric.detach(&f->host);
    setup_check(f, "    series: free_pct\n    warn: \"@20:30\"\n    crit: \"10:\"\n");
    expect_at(f, T0 + S, CHECK_STATUS_CRITICAL, "free_pct = 5, beyond crit 10:");
    point(f, "free_pct", NULL, T0 + S, 25);
    expect_at(f, T0 + S, CHECK_STATUS_WARNING, "free_pct = 25, beyond warn @20:30");
    point(f, "free_pct", NULL, T0 + 2 * S, 31);
    expect_at(f, T0 + 2 * S, CHECK_STATUS_OK, "free_pct = 31");
}

/* ---- for: the breach must hold, on the points' times ---- */

static void test_check_metric_for_holds_on_point_times(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: load\n    crit: \"4\"\n    for: 30s\n");
    point(f, "load", NULL, T0, 1);
    point(f, "load", NULL, T0 + 10 * S, 5);
    point(f, "load", NULL, T0 + 20 * S, 6);
    /* However late the run, only the points' times count: 10s of 30s. */
    expect_at(f, T0 + 35 * S, CHECK_STATUS_OK, "load = 6, beyond crit 4 for 10s of the 30s");
    point(f, "load", NULL, T0 + 30 * S, 5);
    expect_at(f, T0 + 36 * S, CHECK_STATUS_OK, "for 20s of the 30s it must hold");
    point(f, "load", NULL, T0 + 40 * S, 7);
    expect_at(f, T0 + 41 * S, CHECK_STATUS_CRITICAL, "load = 7, beyond crit 4 for 30s");
    /* One point back within starts the hold again. */
    point(f, "load", NULL, T0 + 50 * S, 2);
    expect_at(f, T0 + 51 * S, CHECK_STATUS_OK, "load = 2");
    point(f, "load", NULL, T0 + 60 * S, 9);
    expect_at(f, T0 + 61 * S, CHECK_STATUS_OK, "for 0 of the 30s");
}

static void test_check_metric_for_warn_holds_under_a_young_crit(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: load\n    warn: \"4\"\n    crit: \"8\"\n    for: 1m\n");
    point(f, "load", NULL, T0, 5);
    point(f, "load", NULL, T0 + 30 * S, 6);
    point(f, "load", NULL, T0 + 60 * S, 9);
    /* Critical for 0 s, but beyond warn (crit included) for a minute. */
    expect_at(f, T0 + 61 * S, CHECK_STATUS_WARNING,
              "load = 9, beyond crit 8 for 0 of the 1m it must hold, beyond warn 4 for 1m");
    point(f, "load", NULL, T0 + 120 * S, 9);
    expect_at(f, T0 + 121 * S, CHECK_STATUS_CRITICAL, "beyond crit 8 for 1m");
}

/* Both holds measured over a series of many chunks, a break in it. */
static void test_check_metric_for_holds_across_chunks(void **state)
{
    struct fixture *f = *state;
    series_store_set_limits(f->st, &(struct series_limits){.points = 5000});
    setup_check(f, "    series: load\n    warn: \"4\"\n    crit: \"8\"\n    for: 10m\n");
    /* A point a second: 20 min beyond crit, one back within, 10 min beyond warn, 5 beyond crit. */
    uint64_t t = T0;
    for (int i = 0; i < 1200; i++)
        point(f, "load", NULL, t += S, 9);
    point(f, "load", NULL, t += S, 1);
    for (int i = 0; i < 600; i++)
        point(f, "load", NULL, t += S, 5 + i % 7 * 0.5);
    for (int i = 0; i < 300; i++)
        point(f, "load", NULL, t += S, 9 + i % 3 * 0.25);
    expect_at(f, t + S, CHECK_STATUS_WARNING,
              "load = 9.5, beyond crit 8 for 4m59s of the 10m it must hold, beyond warn 4 for "
              "14m59s");
}

/* ---- several series ---- */

static void test_check_metric_names_the_worst_series(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: cpu_usage\n    warn: \"80\"\n    crit: \"90\"\n");
    point(f, "cpu_usage", host_a, T0, 10);
    point(f, "cpu_usage", host_b, T0, 95);
    point(f, "cpu_usage", host_c, T0, 85);
    point(f, "mem_usage", host_a, T0, 99); /* another name: not selected */
    struct check_observation o;
    run_at(f, T0 + S, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_string_equal(o.summary,
                        "cpu_usage{host=\"b\"} = 95, beyond crit 90; 2 of 3 series breach");
    /* Each series' newest value is a sample, with the thresholds. */
    assert_int_equal(o.n_samples, 3);
    bool seen_b = false;
    for (size_t i = 0; i < o.n_samples; i++) {
        assert_true(o.samples[i].has_warn && o.samples[i].has_crit);
        if (strcmp(o.samples[i].label, "cpu_usage{host=\"b\"}") == 0) {
            seen_b = true;
            assert_true(o.samples[i].value == 95.0);
            assert_true(o.samples[i].crit.end == 90.0);
        }
    }
    assert_true(seen_b);
    check_observation_fini(&o);
    point(f, "cpu_usage", host_b, T0 + S, 20);
    point(f, "cpu_usage", host_c, T0 + S, 30);
    expect_at(f, T0 + 2 * S, CHECK_STATUS_OK, "; 3 series, all within");
}

static void test_check_metric_match_selects_by_labels(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: cpu_usage\n    match: '{host=~\"a|c\"}'\n    crit: \"90\"\n");
    point(f, "cpu_usage", host_a, T0, 10);
    point(f, "cpu_usage", host_b, T0, 95);
    point(f, "cpu_usage", host_c, T0, 20);
    struct check_observation o;
    run_at(f, T0 + S, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_int_equal(o.n_samples, 2);
    assert_non_null(strstr(o.summary, "2 series, all within"));
    check_observation_fini(&o);
}

/* ---- no data ---- */

static void test_check_metric_unknown_without_data(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: cpu_usage\n    match: '{host=\"a\"}'\n    crit: \"90\"\n");
    expect_at(f, T0, CHECK_STATUS_UNKNOWN, "no data yet: no series cpu_usage{host=\"a\"}");
    point(f, "cpu_usage", host_b, T0, 10);
    expect_at(f, T0, CHECK_STATUS_UNKNOWN, "no data yet");
}

static void test_check_metric_stale_series_are_left_out(void **state)
{
    struct fixture *f = *state;
    /* every 30s: stale after 3 intervals, 1m30s. */
    setup_check(f, "    series: cpu_usage\n    crit: \"90\"\n    every: 30s\n");
    point(f, "cpu_usage", host_a, T0, 95);
    point(f, "cpu_usage", host_b, T0 + 60 * S, 10);
    expect_at(f, T0 + 90 * S, CHECK_STATUS_CRITICAL, "cpu_usage{host=\"a\"} = 95");
    /* host a goes stale: its breach no longer counts. */
    expect_at(f, T0 + 91 * S, CHECK_STATUS_OK, "cpu_usage{host=\"b\"} = 10");
    expect_at(f, T0 + 151 * S, CHECK_STATUS_UNKNOWN,
              "no fresh data: the newest point of cpu_usage is 1m31s old (stale after 1m30s)");
    config_unref(f->config);
    check_kind_metric.detach(&f->host);
    /* A short interval still waits a minute; `stale` says otherwise. */
    setup_check(f, "    series: cpu_usage\n    crit: \"90\"\n    every: 5s\n");
    expect_at(f, T0 + 120 * S, CHECK_STATUS_OK, "= 10");
    expect_at(f, T0 + 121 * S, CHECK_STATUS_UNKNOWN, "stale after 1m)");
    config_unref(f->config);
    check_kind_metric.detach(&f->host);
    setup_check(f, "    series: cpu_usage\n    crit: \"90\"\n    stale: 10m\n");
    expect_at(f, T0 + 600 * S, CHECK_STATUS_CRITICAL, "= 95");
}

static void test_check_metric_needs_the_daemon(void **state)
{
    struct fixture *f = *state;
    setup_check(f, "    series: cpu_usage\n    crit: \"90\"\n");
    f->host.series = NULL; /* as in `hale check` */
    expect_at(f, T0, CHECK_STATUS_UNKNOWN, "POST /api/v1/checks/m/run");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(test_check_metric_thresholds_on_the_newest_point),
            T(test_check_metric_for_holds_on_point_times),
            T(test_check_metric_for_warn_holds_under_a_young_crit),
            T(test_check_metric_for_holds_across_chunks),
            T(test_check_metric_names_the_worst_series),
            T(test_check_metric_match_selects_by_labels),
            T(test_check_metric_unknown_without_data),
            T(test_check_metric_stale_series_are_left_out),
            T(test_check_metric_needs_the_daemon),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
