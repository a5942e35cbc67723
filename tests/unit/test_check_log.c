/* SPDX-License-Identifier: MIT */
/*
 * Tests of the log check kind (src/checks/log.c) on a real libuv loop with
 * real files in a temporary directory: matches counted over a sliding
 * window (driven by a manual clock), rotation, truncation, a missing file,
 * the offset and window kept across a restart, and bounded reads.
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
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "checks/checks.h"
#include "checks/internal.h"
#include "config/config.h"
#include "testutil.h"

#define T0_MS 1800000000000ull /* 2027-01-15, any fixed time */

struct fixture {
    char dir[64];
    char *path;     /* the followed log file */
    char *data_dir; /* the hosts' data_dir */
    struct config *config;
    const struct config_check *check;
    uv_loop_t loop;
    struct clock clock;
    struct check_host host;
};

/* ---- helpers ---- */

static void load_config(struct fixture *f, const char *extra)
{
    char *yaml = xasprintf("checks:\n"
                           "  - name: app-log\n"
                           "    type: log\n"
                           "    path: %s\n"
                           "    match: 'ERROR|FATAL'\n"
                           "    window: 1m\n"
                           "%s",
                           f->path, extra);
    struct config_diags d = {0};
    int r = config_load_buffer("test.yaml", yaml, strlen(yaml), &f->config, &d);
    if (r != 0)
        config_diags_print(&d, stderr);
    assert_int_equal(r, 0);
    config_diags_fini(&d);
    free(yaml);
    f->check = config_check_find(f->config, "app-log");
    assert_non_null(f->check);
}

static void host_attach(struct fixture *f)
{
    memset(&f->host, 0, sizeof(f->host));
    f->host.uv = &f->loop;
    f->host.cfg = f->check;
    f->host.data_dir = f->data_dir;
    struct err e = {0};
    assert_int_equal(check_kind_log.attach(&f->host, &e), 0);
    check_log__set_clock(&f->host, &f->clock);
}

static void host_detach(struct fixture *f)
{
    check_kind_log.detach(&f->host);
    assert_null(f->host.kind_state);
}

static int setup_with(void **state, const char *extra)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/hale-test-log-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/app.log", f->dir);
    f->data_dir = xasprintf("%s/data", f->dir);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    clock_manual_init(&f->clock, 1000, T0_MS);
    load_config(f, extra);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, "");
}

static int setup_warn(void **state)
{
    return setup_with(state, "    warn: 2\n    crit: 4\n");
}

static int setup_warn_only(void **state)
{
    return setup_with(state, "    warn: 2\n");
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
    free(f->path);
    free(f->data_dir);
    free(f);
    return 0;
}

static void append(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
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

/* Runs the check once on the real loop and returns its observation. */
static void run_check(struct fixture *f, struct check_observation *ret)
{
    struct result res = {0};
    assert_int_equal(check_run_start(&f->host, on_done, &res), 0);
    while (!res.done)
        uv_run(&f->loop, UV_RUN_ONCE);
    *ret = res.obs;
}

static double sample(const struct check_observation *o, const char *label)
{
    for (size_t i = 0; i < o->n_samples; i++)
        if (strcmp(o->samples[i].label, label) == 0)
            return o->samples[i].value;
    fail_msg("no sample \"%s\" in \"%s\"", label, o->summary);
    return -1;
}

static void expect(struct fixture *f, enum check_status status, double matches, double lines,
                   const char *summary_has)
{
    struct check_observation o;
    run_check(f, &o);
    if (o.status != status || sample(&o, "matches") != matches || sample(&o, "lines") != lines ||
        (summary_has && !strstr(o.summary, summary_has)))
        fail_msg("got %s, %g matches, %g lines: \"%s\"; expected %s, %g, %g, \"%s\"",
                 check_status_name(o.status), sample(&o, "matches"), sample(&o, "lines"), o.summary,
                 check_status_name(status), matches, lines, summary_has ? summary_has : "");
    check_observation_fini(&o);
}

static void advance(struct fixture *f, uint64_t ms)
{
    f->clock.manual_real_ms += ms;
    f->clock.manual_mono_ms += ms;
}

/* ---- tests ---- */

static void test_check_log_counts_matches(void **state)
{
    struct fixture *f = *state;
    append(f->path, "ERROR before hale watched\nok\n");
    host_attach(f);
    /* What the file held before the first run is history. */
    expect(f, CHECK_STATUS_OK, 0, 0, "starting at its end");
    append(f->path, "all fine\nERROR disk full\nFATAL gone\n");
    expect(f, CHECK_STATUS_WARNING, 2, 3, "2 matching lines in the last 1m");
    append(f->path, "ERROR again\n");
    expect(f, CHECK_STATUS_WARNING, 3, 1, NULL);
    append(f->path, "FATAL x\r\nnothing\n");
    expect(f, CHECK_STATUS_CRITICAL, 4, 2, NULL);
}

static void test_check_log_warn_alone_never_goes_critical(void **state)
{
    struct fixture *f = *state;
    append(f->path, "");
    host_attach(f);
    expect(f, CHECK_STATUS_OK, 0, 0, NULL);
    append(f->path, "ERROR a\nERROR b\nERROR c\nERROR d\nERROR e\nERROR f\n");
    expect(f, CHECK_STATUS_WARNING, 6, 6, NULL);
}

static void test_check_log_partial_line_waits(void **state)
{
    struct fixture *f = *state;
    host_attach(f);
    expect(f, CHECK_STATUS_UNKNOWN, 0, 0, "No such file");
    /* Created after the first run: read from its beginning. */
    append(f->path, "ERROR one\nERR");
    expect(f, CHECK_STATUS_CRITICAL, 1, 1, NULL);
    append(f->path, "OR two, now whole\n");
    expect(f, CHECK_STATUS_CRITICAL, 2, 1, NULL);
}

static void test_check_log_window_slides(void **state)
{
    struct fixture *f = *state;
    host_attach(f);
    expect(f, CHECK_STATUS_UNKNOWN, 0, 0, NULL);
    append(f->path, "ERROR a\nERROR b\n");
    expect(f, CHECK_STATUS_WARNING, 2, 2, NULL);
    advance(f, 40000);
    append(f->path, "ERROR c\n");
    expect(f, CHECK_STATUS_WARNING, 3, 1, NULL);
    /* 61 s after the first two: only the third is in the 1 m window. */
    advance(f, 21000);
    expect(f, CHECK_STATUS_OK, 1, 0, "1 matching line in the last 1m");
    advance(f, 40000);
    expect(f, CHECK_STATUS_OK, 0, 0, "0 matching lines");
}

static void test_check_log_rotation(void **state)
{
    struct fixture *f = *state;
    append(f->path, "old history\n");
    host_attach(f);
    expect(f, CHECK_STATUS_OK, 0, 0, NULL);
    append(f->path, "ERROR 1\n");
    expect(f, CHECK_STATUS_OK, 1, 1, NULL);
    /* Written to the old file, then rotated by rename + create. */
    append(f->path, "ERROR 2, last words of the old file\nfine");
    char *old = xasprintf("%s.1", f->path);
    assert_int_equal(rename(f->path, old), 0);
    append(f->path, "ERROR 3\nERROR 4\nfine\n");
    expect(f, CHECK_STATUS_CRITICAL, 4, 5, "rotated");
    /* The new file is followed from where it was left. */
    append(f->path, "ERROR 5\n");
    append(old, "ERROR ignored: the old file is done\n");
    expect(f, CHECK_STATUS_CRITICAL, 5, 1, NULL);

    /* Rotated, and a run between the rename and the create. */
    append(f->path, "ERROR 6\n");
    assert_int_equal(rename(f->path, old), 0);
    expect(f, CHECK_STATUS_CRITICAL, 6, 1, "waiting for a new");
    append(f->path, "ERROR 7\n");
    expect(f, CHECK_STATUS_CRITICAL, 7, 1, NULL);
    free(old);
}

static void test_check_log_truncation(void **state)
{
    struct fixture *f = *state;
    host_attach(f);
    expect(f, CHECK_STATUS_UNKNOWN, 0, 0, NULL);
    append(f->path, "a long line that is not a match at all\nERROR one\nanother line\n");
    expect(f, CHECK_STATUS_OK, 1, 3, NULL);
    /* copytruncate: the same file, emptied, then written again. */
    assert_int_equal(truncate(f->path, 0), 0);
    append(f->path, "ERROR two\n");
    expect(f, CHECK_STATUS_WARNING, 2, 1, "truncated");
    append(f->path, "ok\n");
    expect(f, CHECK_STATUS_WARNING, 2, 1, NULL);
}

static void test_check_log_offset_survives_restart(void **state)
{
    struct fixture *f = *state;
    append(f->path, "history\n");
    host_attach(f);
    expect(f, CHECK_STATUS_OK, 0, 0, NULL);
    append(f->path, "ERROR seen before the restart\n");
    expect(f, CHECK_STATUS_OK, 1, 1, NULL);
    host_detach(f);

    /* Lines written while hale is down are counted once, by the new host. */
    append(f->path, "ERROR while down\nfine\n");
    advance(f, 10000);
    host_attach(f);
    expect(f, CHECK_STATUS_WARNING, 2, 2, NULL);
    expect(f, CHECK_STATUS_WARNING, 2, 0, NULL);
    host_detach(f);

    /* Rotated while hale was down: the new file is read from its start. */
    char *old = xasprintf("%s.1", f->path);
    assert_int_equal(rename(f->path, old), 0);
    append(f->path, "ERROR in the new file\n");
    host_attach(f);
    expect(f, CHECK_STATUS_WARNING, 3, 1, NULL);
    host_detach(f);

    /* The state file is replaced whole, never left half-written. */
    char *state_file = xasprintf("%s/state/log-app-log.state", f->data_dir);
    char *tmp = xasprintf("%s.tmp", state_file);
    struct stat st;
    assert_int_equal(stat(state_file, &st), 0);
    assert_int_equal(stat(tmp, &st), -1);
    free(tmp);
    free(state_file);
    free(old);
}

static void test_check_log_state_for_another_file_ignored(void **state)
{
    struct fixture *f = *state;
    append(f->path, "history\n");
    host_attach(f);
    expect(f, CHECK_STATUS_OK, 0, 0, NULL);
    append(f->path, "ERROR x\n");
    expect(f, CHECK_STATUS_OK, 1, 1, NULL);
    host_detach(f);

    /* The same check now follows another file: a fresh start there. */
    config_unref(f->config);
    free(f->path);
    f->path = xasprintf("%s/other.log", f->dir);
    append(f->path, "ERROR history of the other file\n");
    load_config(f, "");
    host_attach(f);
    expect(f, CHECK_STATUS_OK, 0, 0, "starting at its end");
}

static void test_check_log_huge_append_bounded(void **state)
{
    struct fixture *f = *state;
    host_attach(f);
    expect(f, CHECK_STATUS_UNKNOWN, 0, 0, NULL);
    /* 10 MiB at once, more than one run reads. */
    const char *line = "ERROR 0123456789012345678901234567890123456789012345678901234567\n";
    size_t len = strlen(line), n = (10u << 20) / len;
    char *big = xmalloc(n * len + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(big + i * len, line, len);
    big[n * len] = '\0';
    append(f->path, big);
    free(big);

    struct check_observation o;
    run_check(f, &o);
    double lines = sample(&o, "lines");
    assert_true(lines > 0);
    assert_true(lines * (double)len <= (double)(4u << 20));
    assert_true(lines < (double)n);
    assert_non_null(strstr(o.summary, "skipped"));
    assert_int_equal(sample(&o, "matches"), lines);
    check_observation_fini(&o);
    /* Past the skip the file is followed from its end. */
    append(f->path, "ERROR next\n");
    expect(f, CHECK_STATUS_CRITICAL, lines + 1, 1, NULL);
}

static void test_check_log_long_line(void **state)
{
    struct fixture *f = *state;
    host_attach(f);
    expect(f, CHECK_STATUS_UNKNOWN, 0, 0, NULL);
    /* 20 000 bytes: matched on its first 8 KiB only. */
    char *longl = xmalloc(20002);
    memset(longl, 'x', 20000);
    memcpy(longl, "ERROR", 5);
    memcpy(longl + 19990, "FATAL", 5);
    longl[20000] = '\n';
    longl[20001] = '\0';
    append(f->path, longl);
    memcpy(longl, "xxxxx", 5);
    append(f->path, longl);
    free(longl);
    struct check_observation o;
    run_check(f, &o);
    assert_int_equal(sample(&o, "matches"), 1);
    assert_int_equal(sample(&o, "lines"), 2);
    assert_non_null(o.notes);
    assert_non_null(strstr(o.notes, "longer than"));
    check_observation_fini(&o);
}

static void test_check_log_not_a_file(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->path, 0755), 0);
    host_attach(f);
    expect(f, CHECK_STATUS_UNKNOWN, 0, 0, "not a regular file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_check_log_counts_matches, setup_warn, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_warn_alone_never_goes_critical,
                                            setup_warn_only, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_partial_line_waits, setup, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_window_slides, setup_warn, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_rotation, setup_warn, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_truncation, setup_warn, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_offset_survives_restart, setup_warn,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_check_log_state_for_another_file_ignored,
                                            setup_warn, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_huge_append_bounded, setup_warn,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_check_log_long_line, setup, teardown),
            cmocka_unit_test_setup_teardown(test_check_log_not_a_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
