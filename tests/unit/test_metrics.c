/* SPDX-License-Identifier: MIT */
/*
 * Tests of the metrics registry: the exact exposition text for each family
 * type (with labels, escapes and number forms), the per-family cap on
 * label sets, render-time values, and concurrent updates.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "metrics/metrics.h"

static char *render(struct metrics *m)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(metrics_render(m, &b), 0);
    return strbuf_detach(&b, NULL);
}

static void assert_render(struct metrics *m, const char *want)
{
    char *got = render(m);
    assert_string_equal(got, want);
    free(got);
}

static void test_metrics_number_forms(void **state)
{
    (void)state;
    char buf[METRICS_NUMBER_MAX];
    assert_string_equal(metrics_number_format(0, buf), "0");
    assert_string_equal(metrics_number_format(-0.0, buf), "0");
    assert_string_equal(metrics_number_format(1027, buf), "1027");
    assert_string_equal(metrics_number_format(-3, buf), "-3");
    assert_string_equal(metrics_number_format(1458255915, buf), "1458255915");
    assert_string_equal(metrics_number_format(0.25, buf), "0.25");
    assert_string_equal(metrics_number_format(0.1, buf), "0.1");
    assert_string_equal(metrics_number_format(0.1 + 0.2, buf), "0.30000000000000004");
    assert_string_equal(metrics_number_format(1.5e-7, buf), "1.5e-07");
    assert_string_equal(metrics_number_format(1e300, buf), "1e+300");
    assert_string_equal(metrics_number_format(INFINITY, buf), "+Inf");
    assert_string_equal(metrics_number_format(-INFINITY, buf), "-Inf");
    assert_string_equal(metrics_number_format(NAN, buf), "NaN");
}

static void test_metrics_counter_with_labels_and_escapes(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_family *f = metrics_counter_register(
            m, "http_requests_total", "The total number of HTTP requests.\nWith \\ too.",
            (const char *[]){"method", "code", NULL});
    metrics_counter_add(f, (const char *[]){"post", "200"}, 1027);
    metrics_counter_add(f, (const char *[]){"post", "400"}, 3);
    metrics_counter_inc(f, (const char *[]){"get", "C:\\DIR \"x\"\nend"});
    metrics_counter_add(f, (const char *[]){"post", "400"}, -5); /* ignored: counters only rise */
    assert_render(m, "# HELP http_requests_total The total number of HTTP requests.\\nWith \\\\ "
                     "too.\n"
                     "# TYPE http_requests_total counter\n"
                     "http_requests_total{method=\"get\",code=\"C:\\\\DIR \\\"x\\\"\\nend\"} 1\n"
                     "http_requests_total{method=\"post\",code=\"200\"} 1027\n"
                     "http_requests_total{method=\"post\",code=\"400\"} 3\n");
    metrics_free(m);
}

static void test_metrics_many_label_sets_update_their_own_child(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    const char *labels[] = {"check", NULL};
    struct metrics_family *f = metrics_counter_register(m, "runs_total", "Runs.", labels);
    metrics_family_set_max(f, 5000);
    char name[32];
    for (int round = 1; round <= 2; round++) {
        for (int i = 0; i < 5000; i++) {
            snprintf(name, sizeof(name), "c%d", i);
            const char *v[] = {name, NULL};
            assert_int_equal(metrics_counter_add(f, v, (double)i), 0);
        }
    }
    char *text = render(m);
    for (int i = 0; i < 5000; i += 499) {
        char want[64];
        snprintf(want, sizeof(want), "runs_total{check=\"c%d\"} %d\n", i, 2 * i);
        assert_non_null(strstr(text, want));
    }
    free(text);
    metrics_free(m);
}

static int written_rows;

static void write_rows(struct metrics_writer *w, void *data)
{
    (void)data;
    char value[16];
    for (int i = 0; i < written_rows; i++) {
        snprintf(value, sizeof(value), "c%d", i);
        metrics_write_sample(w, (const char *[]){value, "a \"b\"", NULL}, i * 1.5);
    }
}

static void test_metrics_written_family_comes_from_its_owner(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    metrics_written_register(m, METRICS_GAUGE, "check_up", "Up.",
                             (const char *[]){"check", "x", NULL}, write_rows, NULL);
    written_rows = 0;
    assert_render(m, ""); /* nothing written: no HELP or TYPE either */
    written_rows = 2;
    assert_render(m, "# HELP check_up Up.\n"
                     "# TYPE check_up gauge\n"
                     "check_up{check=\"c0\",x=\"a \\\"b\\\"\"} 0\n"
                     "check_up{check=\"c1\",x=\"a \\\"b\\\"\"} 1.5\n");
    metrics_free(m);
}

static void test_metrics_gauges_sorted_by_name(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_family *z = metrics_gauge_register(m, "z_gauge", "Last.", NULL);
    struct metrics_family *a = metrics_gauge_register(m, "a_gauge", "First \"quoted\".", NULL);
    metrics_gauge_set(z, NULL, 0.5);
    metrics_gauge_set(a, NULL, 12.47);
    metrics_gauge_add(a, NULL, 1);
    /* A labelled family with no child yet is left out entirely. */
    metrics_gauge_register(m, "m_empty", "Nothing yet.", (const char *[]){"x", NULL});
    assert_render(m, "# HELP a_gauge First \"quoted\".\n"
                     "# TYPE a_gauge gauge\n"
                     "a_gauge 13.47\n"
                     "# HELP z_gauge Last.\n"
                     "# TYPE z_gauge gauge\n"
                     "z_gauge 0.5\n");
    metrics_free(m);
}

static void test_metrics_histogram_buckets_sum_count(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    static const double bounds[] = {0.0625, 0.125, 1};
    struct metrics_family *h = metrics_histogram_register(
            m, "req_seconds", "Request time.", (const char *[]){"route", NULL}, bounds, 3);
    const char *const status[] = {"/status"};
    metrics_histogram_observe(h, status, 0.03125);
    metrics_histogram_observe(h, status, 0.0625); /* le is inclusive */
    metrics_histogram_observe(h, status, 0.5);
    metrics_histogram_observe(h, status, 7);
    metrics_histogram_observe(h, (const char *[]){"/healthz"}, 0.09375);
    assert_render(m, "# HELP req_seconds Request time.\n"
                     "# TYPE req_seconds histogram\n"
                     "req_seconds_bucket{route=\"/healthz\",le=\"0.0625\"} 0\n"
                     "req_seconds_bucket{route=\"/healthz\",le=\"0.125\"} 1\n"
                     "req_seconds_bucket{route=\"/healthz\",le=\"1\"} 1\n"
                     "req_seconds_bucket{route=\"/healthz\",le=\"+Inf\"} 1\n"
                     "req_seconds_sum{route=\"/healthz\"} 0.09375\n"
                     "req_seconds_count{route=\"/healthz\"} 1\n"
                     "req_seconds_bucket{route=\"/status\",le=\"0.0625\"} 2\n"
                     "req_seconds_bucket{route=\"/status\",le=\"0.125\"} 2\n"
                     "req_seconds_bucket{route=\"/status\",le=\"1\"} 3\n"
                     "req_seconds_bucket{route=\"/status\",le=\"+Inf\"} 4\n"
                     "req_seconds_sum{route=\"/status\"} 7.59375\n"
                     "req_seconds_count{route=\"/status\"} 4\n");
    metrics_free(m);
}

static void test_metrics_histogram_without_labels(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    static const double bounds[] = {1};
    struct metrics_family *h = metrics_histogram_register(m, "h", "H.", NULL, bounds, 1);
    metrics_histogram_observe(h, NULL, INFINITY);
    assert_render(m, "# HELP h H.\n"
                     "# TYPE h histogram\n"
                     "h_bucket{le=\"1\"} 0\n"
                     "h_bucket{le=\"+Inf\"} 1\n"
                     "h_sum +Inf\n"
                     "h_count 1\n");
    metrics_free(m);
}

static void test_metrics_cap_refuses_new_label_sets(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_family *f =
            metrics_counter_register(m, "c_total", "C.", (const char *[]){"k", NULL});
    metrics_family_set_max(f, 2);
    assert_int_equal(metrics_counter_inc(f, (const char *[]){"a"}), 0);
    assert_int_equal(metrics_counter_inc(f, (const char *[]){"b"}), 0);
    assert_int_equal(metrics_counter_inc(f, (const char *[]){"c"}), HALE_ELIMIT);
    assert_int_equal(metrics_counter_inc(f, (const char *[]){"d"}), HALE_ELIMIT);
    /* Existing label sets keep counting. */
    assert_int_equal(metrics_counter_inc(f, (const char *[]){"a"}), 0);
    assert_int_equal(metrics_family_refused(f), 2);
    assert_render(m, "# HELP c_total C.\n"
                     "# TYPE c_total counter\n"
                     "c_total{k=\"a\"} 2\n"
                     "c_total{k=\"b\"} 1\n");
    metrics_free(m);
}

static double answer(void *data)
{
    return *(double *)data;
}

static void test_metrics_values_computed_at_render(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    double v = 1.5;
    metrics_gauge_fn_register(m, "fn_gauge", "From a callback.", answer, &v);
    metrics_counter_fn_register(m, "fn_total", "Counter from a callback.", answer, &v);
    v = 42;
    assert_render(m, "# HELP fn_gauge From a callback.\n"
                     "# TYPE fn_gauge gauge\n"
                     "fn_gauge 42\n"
                     "# HELP fn_total Counter from a callback.\n"
                     "# TYPE fn_total counter\n"
                     "fn_total 42\n");
    metrics_free(m);
}

static void test_metrics_render_stops_at_capped_buffer(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_family *f = metrics_gauge_register(m, "g", "G.", NULL);
    metrics_gauge_set(f, NULL, 1);
    struct strbuf b;
    strbuf_init(&b, 10);
    assert_int_equal(metrics_render(m, &b), HALE_ELIMIT);
    strbuf_fini(&b);
    metrics_free(m);
}

struct hammer {
    struct metrics_family *f;
    const char *code;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 10000; i++)
        metrics_counter_inc(h->f, (const char *[]){"/x", h->code});
    return NULL;
}

static void test_metrics_concurrent_increments_add_up(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_family *f =
            metrics_counter_register(m, "r_total", "R.", (const char *[]){"route", "code", NULL});
    pthread_t t[4];
    struct hammer h[4] = {{f, "200"}, {f, "200"}, {f, "404"}, {f, "200"}};
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, hammer_run, &h[i]);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    assert_render(m, "# HELP r_total R.\n"
                     "# TYPE r_total counter\n"
                     "r_total{route=\"/x\",code=\"200\"} 30000\n"
                     "r_total{route=\"/x\",code=\"404\"} 10000\n");
    metrics_free(m);
}

static void test_metrics_daemon_families_present(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_daemon d;
    metrics_daemon_register(m, NULL, 1700000000000u, &d);
    metrics_counter_inc(d.http_requests, (const char *[]){"/healthz", "200"});
    metrics_histogram_observe(d.http_duration, (const char *[]){"/healthz"}, 0.002);
    metrics_daemon_reload_record(&d, false, 1700000001000u);
    char *text = render(m);
    static const char *const want[] = {
            "\nhale_build_info{version=\"",
            "\nhale_start_time_seconds 1700000000\n",
            "\n# TYPE hale_uptime_seconds gauge\n",
            "\nhale_http_requests_total{route=\"/healthz\",code=\"200\"} 1\n",
            "\nhale_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.0025\"} 1\n",
            "\nhale_config_last_reload_successful 0\n",
            "\nhale_config_last_reload_success_timestamp_seconds 1700000000\n",
            "\n# TYPE process_cpu_seconds_total counter\n",
            "\n# TYPE process_resident_memory_bytes gauge\n",
            "\n# TYPE process_virtual_memory_bytes gauge\n",
            "\n# TYPE process_open_fds gauge\n",
            "\n# TYPE process_max_fds gauge\n",
            "\n# TYPE process_start_time_seconds gauge\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (!strstr(text, want[i]))
            fail_msg("missing %s in:\n%s", want[i], text);
    }
    assert_null(strstr(text, "NaN")); /* /proc readings worked */
    assert_int_equal(text[strlen(text) - 1], '\n');
    free(text);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_metrics_number_forms),
            cmocka_unit_test(test_metrics_counter_with_labels_and_escapes),
            cmocka_unit_test(test_metrics_many_label_sets_update_their_own_child),
            cmocka_unit_test(test_metrics_written_family_comes_from_its_owner),
            cmocka_unit_test(test_metrics_gauges_sorted_by_name),
            cmocka_unit_test(test_metrics_histogram_buckets_sum_count),
            cmocka_unit_test(test_metrics_histogram_without_labels),
            cmocka_unit_test(test_metrics_cap_refuses_new_label_sets),
            cmocka_unit_test(test_metrics_values_computed_at_render),
            cmocka_unit_test(test_metrics_render_stops_at_capped_buffer),
            cmocka_unit_test(test_metrics_concurrent_increments_add_up),
            cmocka_unit_test(test_metrics_daemon_families_present),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
