/* SPDX-License-Identifier: MIT */
/*
 * Tests of the heartbeat check kind (src/checks/heartbeat.c): flows that
 * report every interval or by a daily deadline, with a calendar, volume
 * bounds, failure reports, reports by touching a file, and the reports
 * kept across a restart. Time comes from a manual clock, in UTC; runs go
 * through the real run lifecycle on a real loop.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "checks/checks.h"
#include "checks/internal.h"
#include "config/config.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    char *data_dir;
    struct config *config;
    const struct config_check *check;
    uv_loop_t loop;
    struct clock clock;
    struct check_host host;
    unsigned runs_asked;
};

/* ---- helpers ---- */

/* Unix ms of a UTC date and time (the tests run with TZ=UTC). */
static uint64_t at(int year, int month, int day, int hour, int minute)
{
    struct tm t = {.tm_year = year - 1900,
                   .tm_mon = month - 1,
                   .tm_mday = day,
                   .tm_hour = hour,
                   .tm_min = minute};
    return (uint64_t)timegm(&t) * 1000u;
}

static void set_now(struct fixture *f, uint64_t ms)
{
    f->clock.manual_real_ms = ms;
    f->clock.manual_mono_ms = ms;
}

static void on_run_now(struct check_host *host)
{
    struct fixture *f = host->runner_data;
    f->runs_asked++;
}

static void host_attach(struct fixture *f)
{
    memset(&f->host, 0, sizeof(f->host));
    f->host.uv = &f->loop;
    f->host.cfg = f->check;
    f->host.data_dir = f->data_dir;
    f->host.run_now = on_run_now;
    f->host.runner_data = f;
    struct err e = {0};
    assert_int_equal(check_kind_heartbeat.attach(&f->host, &e), 0);
    check_heartbeat__set_clock(&f->host, &f->clock);
}

static void host_detach(struct fixture *f)
{
    check_kind_heartbeat.detach(&f->host);
    assert_null(f->host.kind_state);
}

/* Loads a config whose check "flow" has the given keys; attaches a host to it. */
static void setup_flow(struct fixture *f, const char *keys)
{
    char *yaml = xasprintf("checks:\n"
                           "  - name: flow\n"
                           "    type: heartbeat\n"
                           "%s"
                           "  - name: app-log\n"
                           "    type: log\n"
                           "    path: /nonexistent/app.log\n"
                           "    match: ERROR\n",
                           keys);
    struct config_diags d = {0};
    int r = config_load_buffer("test.yaml", yaml, strlen(yaml), &f->config, &d);
    if (r != 0)
        config_diags_print(&d, stderr);
    assert_int_equal(r, 0);
    config_diags_fini(&d);
    free(yaml);
    f->check = config_check_find(f->config, "flow");
    assert_non_null(f->check);
    host_attach(f);
}

static int setup(void **state)
{
    setenv("TZ", "UTC", 1);
    tzset();
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hale-test-heartbeat-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->data_dir = xasprintf("%s/data", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    clock_manual_init(&f->clock, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->host.kind_state)
        host_detach(f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    config_unref(f->config);
    testutil_rm_rf(f->dir);
    free(f->data_dir);
    free(f);
    return 0;
}

static void report(struct fixture *f, uint64_t time_ms, bool ok, bool has_count, uint64_t count,
                   const char *message)
{
    struct check_heartbeat_report r = {.time_ms = time_ms,
                                       .ok = ok,
                                       .has_count = has_count,
                                       .count = count,
                                       .message = message};
    assert_int_equal(check_heartbeat_report(&f->host, &r), 0);
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

/* Runs the check at now_ms; fails unless it ends with status and a summary holding text. */
static void expect_at(struct fixture *f, uint64_t now_ms, enum check_status status,
                      const char *text)
{
    set_now(f, now_ms);
    struct result res = {0};
    assert_int_equal(check_run_start(&f->host, on_done, &res), 0);
    while (!res.done)
        uv_run(&f->loop, UV_RUN_ONCE);
    if (res.obs.status != status || !strstr(res.obs.summary, text))
        fail_msg("got %s \"%s\"; expected %s \"...%s...\"", check_status_name(res.obs.status),
                 res.obs.summary, check_status_name(status), text);
    check_observation_fini(&res.obs);
}

/* ---- every interval ---- */

static void test_check_heartbeat_reported_in_time_ok(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    every: 1h\n");
    set_now(f, at(2026, 11, 16, 10, 0));
    report(f, 0, true, true, 5, "5 files sent");
    assert_int_equal(f->runs_asked, 1);
    expect_at(f, at(2026, 11, 16, 10, 20), CHECK_STATUS_OK,
              "arrived (today 10:00, 5 items): 5 files sent");
    expect_at(f, at(2026, 11, 16, 10, 59), CHECK_STATUS_OK, "arrived");
}

static void test_check_heartbeat_late_then_missing(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    every: 1h\n");
    /* Nothing reported yet: due an interval after the check began. */
    expect_at(f, at(2026, 11, 16, 9, 30), CHECK_STATUS_OK, "the next report is due today 10:30");
    report(f, at(2026, 11, 16, 10, 0), true, false, 0, NULL);
    expect_at(f, at(2026, 11, 16, 11, 10), CHECK_STATUS_WARNING,
              "late: no report for 1h10m, expected every 1h (last report today 10:00)");
    expect_at(f, at(2026, 11, 16, 11, 31), CHECK_STATUS_CRITICAL,
              "missing: no report for 1h31m, expected every 1h (last report today 10:00)");
    report(f, at(2026, 11, 16, 11, 40), true, false, 0, NULL);
    expect_at(f, at(2026, 11, 16, 11, 41), CHECK_STATUS_OK, "arrived (today 11:40)");
}

static void test_check_heartbeat_never_reported_missing(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    every: 1h\n");
    expect_at(f, at(2026, 11, 16, 9, 0), CHECK_STATUS_OK, "due today 10:00");
    expect_at(f, at(2026, 11, 16, 11, 0), CHECK_STATUS_CRITICAL, "(no report yet)");
}

/* ---- a daily deadline ---- */

static void test_check_heartbeat_missing_at_deadline(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n");
    /* The check began before today's deadline: yesterday's is not held against it. */
    expect_at(f, at(2026, 11, 16, 5, 0), CHECK_STATUS_OK,
              "waiting for the 06:00 report, due today 06:00");
    expect_at(f, at(2026, 11, 16, 6, 0), CHECK_STATUS_CRITICAL,
              "the 06:00 report has not arrived (no report yet)");
    /* Within the grace after the deadline: it answers today's, late. */
    report(f, at(2026, 11, 16, 6, 2), true, false, 0, NULL);
    expect_at(f, at(2026, 11, 16, 6, 3), CHECK_STATUS_WARNING,
              "the 06:00 report arrived late (today 06:02, due 06:00)");
    expect_at(f, at(2026, 11, 17, 5, 59), CHECK_STATUS_WARNING, "arrived late (yesterday 06:02");
    expect_at(f, at(2026, 11, 17, 6, 0), CHECK_STATUS_CRITICAL,
              "the 06:00 report has not arrived (last report yesterday 06:02)");
    /* In time for the next day's deadline. */
    report(f, at(2026, 11, 18, 5, 40), true, false, 0, NULL);
    expect_at(f, at(2026, 11, 18, 5, 41), CHECK_STATUS_OK,
              "the 06:00 report arrived (today 05:40)");
    expect_at(f, at(2026, 11, 18, 23, 0), CHECK_STATUS_OK, "arrived (today 05:40)");
}

static void test_check_heartbeat_deadline_across_midnight(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"00:30\"\n");
    expect_at(f, at(2026, 11, 16, 20, 0), CHECK_STATUS_OK, "due tomorrow 00:30");
    /* Before midnight, for the deadline after it. */
    report(f, at(2026, 11, 16, 23, 50), true, false, 0, NULL);
    expect_at(f, at(2026, 11, 17, 0, 20), CHECK_STATUS_OK,
              "the 00:30 report arrived (yesterday 23:50)");
    expect_at(f, at(2026, 11, 17, 0, 30), CHECK_STATUS_OK, "arrived (yesterday 23:50)");
    expect_at(f, at(2026, 11, 17, 23, 59), CHECK_STATUS_OK, "arrived (yesterday 23:50)");
    expect_at(f, at(2026, 11, 18, 0, 30), CHECK_STATUS_CRITICAL,
              "the 00:30 report has not arrived (last report Mon 2026-11-16 23:50)");
}

static void test_check_heartbeat_weekend_excluded(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n    days: [mon, tue, wed, thu, fri]\n");
    expect_at(f, at(2026, 11, 20, 4, 0), CHECK_STATUS_OK, "waiting"); /* a Friday */
    report(f, at(2026, 11, 20, 5, 0), true, false, 0, NULL);
    /* Saturday and Sunday pass without a report. */
    expect_at(f, at(2026, 11, 21, 7, 0), CHECK_STATUS_OK,
              "arrived (yesterday 05:00); no report expected today (Saturday)");
    expect_at(f, at(2026, 11, 22, 12, 0), CHECK_STATUS_OK, "(Sunday)");
    expect_at(f, at(2026, 11, 23, 5, 59), CHECK_STATUS_OK, "arrived (Fri 2026-11-20 05:00)");
    expect_at(f, at(2026, 11, 23, 6, 0), CHECK_STATUS_CRITICAL,
              "has not arrived (last report Fri 2026-11-20 05:00)");
}

static void test_check_heartbeat_weekend_excluded_interval(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    every: 1h\n    days: [mon, tue, wed, thu, fri]\n");
    report(f, at(2026, 11, 20, 23, 30), true, false, 0, NULL);
    /* The flow resumes on Monday: due an interval after Monday begins. */
    expect_at(f, at(2026, 11, 21, 12, 0), CHECK_STATUS_OK,
              "the next report is due Mon 2026-11-23 01:00 (every 1h); no report expected today "
              "(Saturday)");
    expect_at(f, at(2026, 11, 23, 0, 59), CHECK_STATUS_OK, "due today 01:00");
    expect_at(f, at(2026, 11, 23, 1, 10), CHECK_STATUS_WARNING, "late");
}

static void test_check_heartbeat_excluded_date(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n    exclude: [2026-12-25]\n");
    expect_at(f, at(2026, 12, 24, 4, 0), CHECK_STATUS_OK, "waiting");
    report(f, at(2026, 12, 24, 5, 0), true, false, 0, NULL);
    expect_at(f, at(2026, 12, 25, 9, 0), CHECK_STATUS_OK,
              "arrived (yesterday 05:00); no report expected today (an excluded date)");
    expect_at(f, at(2026, 12, 26, 6, 0), CHECK_STATUS_CRITICAL,
              "has not arrived (last report Thu 2026-12-24 05:00)");
}

/* ---- what a report says ---- */

static void test_check_heartbeat_volume_short(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n    min_count: 100\n    max_count: 1000\n");
    expect_at(f, at(2026, 11, 16, 4, 0), CHECK_STATUS_OK, "waiting");
    report(f, at(2026, 11, 16, 5, 0), true, true, 12, NULL);
    expect_at(f, at(2026, 11, 16, 5, 1), CHECK_STATUS_WARNING,
              "the 06:00 report is short: 12 items, expected at least 100 (today 05:00)");
    /* The volumes of one deadline's reports add up. */
    report(f, at(2026, 11, 16, 5, 10), true, true, 90, NULL);
    expect_at(f, at(2026, 11, 16, 6, 30), CHECK_STATUS_OK, "arrived (today 05:10, 90 items)");

    report(f, at(2026, 11, 17, 5, 0), true, true, 0, NULL);
    expect_at(f, at(2026, 11, 17, 6, 0), CHECK_STATUS_CRITICAL, "short: 0 items");
    report(f, at(2026, 11, 18, 5, 0), true, true, 5000, NULL);
    expect_at(f, at(2026, 11, 18, 6, 0), CHECK_STATUS_WARNING,
              "short: 5000 items, expected at most 1000");
}

static void test_check_heartbeat_failure_report(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n");
    expect_at(f, at(2026, 11, 16, 4, 0), CHECK_STATUS_OK, "waiting");
    report(f, at(2026, 11, 16, 5, 10), false, false, 0, "sftp: connection\nrefused");
    expect_at(f, at(2026, 11, 16, 5, 11), CHECK_STATUS_CRITICAL,
              "the 06:00 report says the flow failed (today 05:10): sftp: connection refused");
    /* A retry that worked, before the deadline. */
    report(f, at(2026, 11, 16, 5, 30), true, false, 0, "sent on retry");
    expect_at(f, at(2026, 11, 16, 6, 0), CHECK_STATUS_OK, "arrived (today 05:30): sent on retry");
}

static void test_check_heartbeat_file_touch_reports(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n");
    char *path = xasprintf("%s/flow.done", f->dir);
    check_heartbeat__set_path(&f->host, path);
    expect_at(f, at(2026, 11, 16, 4, 0), CHECK_STATUS_OK, "waiting");

    /* The flow touches its file: the modification time is the report. */
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    close(fd);
    struct timespec times[2] = {{.tv_sec = (time_t)(at(2026, 11, 16, 5, 30) / 1000)},
                                {.tv_sec = (time_t)(at(2026, 11, 16, 5, 30) / 1000)}};
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    expect_at(f, at(2026, 11, 16, 5, 45), CHECK_STATUS_OK, "arrived (today 05:30)");
    expect_at(f, at(2026, 11, 17, 6, 0), CHECK_STATUS_CRITICAL,
              "has not arrived (last report yesterday 05:30)");

    times[0].tv_sec = times[1].tv_sec = (time_t)(at(2026, 11, 17, 6, 10) / 1000);
    assert_int_equal(utimensat(AT_FDCWD, path, times, 0), 0);
    expect_at(f, at(2026, 11, 17, 6, 15), CHECK_STATUS_WARNING, "arrived late (today 06:10");
    free(path);
}

/* ---- across restarts ---- */

static void test_check_heartbeat_state_persisted(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    deadline: \"06:00\"\n");
    expect_at(f, at(2026, 11, 16, 5, 0), CHECK_STATUS_OK, "waiting");
    report(f, at(2026, 11, 16, 5, 20), true, true, 42, "42 orders");
    host_detach(f);

    /* A new host reads what the last one kept. */
    host_attach(f);
    expect_at(f, at(2026, 11, 16, 7, 0), CHECK_STATUS_OK,
              "the 06:00 report arrived (today 05:20, 42 items): 42 orders");
    expect_at(f, at(2026, 11, 17, 6, 0), CHECK_STATUS_CRITICAL,
              "has not arrived (last report yesterday 05:20)");
    host_detach(f);

    /* When the check began is kept too: a deadline missed while hale was down counts. */
    char *state_file = xasprintf("%s/state/heartbeat-flow.state", f->data_dir);
    struct stat st;
    assert_int_equal(stat(state_file, &st), 0);
    free(state_file);
    host_attach(f);
    expect_at(f, at(2026, 11, 18, 6, 30), CHECK_STATUS_CRITICAL, "has not arrived");
}

static void test_check_heartbeat_report_needs_heartbeat(void **state)
{
    struct fixture *f = *state;
    setup_flow(f, "    every: 1h\n");
    struct check_heartbeat_report r = {.ok = true};
    struct check_host other = {.uv = &f->loop, .cfg = config_check_find(f->config, "app-log")};
    assert_int_equal(check_heartbeat_report(&other, &r), HALE_ESTATE);
    struct check_host unattached = {.uv = &f->loop, .cfg = f->check};
    assert_int_equal(check_heartbeat_report(&unattached, &r), HALE_ESTATE);
    assert_int_equal(check_heartbeat_report(&f->host, &r), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(test_check_heartbeat_reported_in_time_ok),
            T(test_check_heartbeat_late_then_missing),
            T(test_check_heartbeat_never_reported_missing),
            T(test_check_heartbeat_missing_at_deadline),
            T(test_check_heartbeat_deadline_across_midnight),
            T(test_check_heartbeat_weekend_excluded),
            T(test_check_heartbeat_weekend_excluded_interval),
            T(test_check_heartbeat_excluded_date),
            T(test_check_heartbeat_volume_short),
            T(test_check_heartbeat_failure_report),
            T(test_check_heartbeat_file_touch_reports),
            T(test_check_heartbeat_state_persisted),
            T(test_check_heartbeat_report_needs_heartbeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
