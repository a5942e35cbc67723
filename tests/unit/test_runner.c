/* SPDX-License-Identifier: MIT */
/*
 * Tests of the check runner (src/checks/runner.c) on a real loop, with
 * file and disk checks in a temporary directory: states through failures
 * and recoveries, run-now, stop with runs in flight, the metrics, the
 * sample history, and states carried over to a new runner. Runs are asked
 * for with run-now (the shortest interval a config allows is a second), and
 * nothing asserts timing.
 */
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

#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "checks/checks.h"
#include "cli/internal.h"
#include "config/config.h"
#include "detect/detect.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "series/series.h"
#include "testutil.h"

/* Generous: a loaded machine may be slow, never this slow. */
#define WAIT_MS 20000

struct fixture {
    char dir[64];
    char path[128];
    struct loop *loop;
    struct config *config;
    struct checks *checks;
    /* events seen */
    enum check_status ev_status[16];
    bool ev_hard[16];
    size_t n_events;
    /* the last run-now answer */
    bool answered;
    enum check_status status;
    char summary[512];
    size_t n_samples;
    bool stopped;
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct config *load(struct fixture *fx, const char *yaml_fmt)
{
    /* "%s" is the directory, the file, the directory again; "%%" a percent sign. */
    const char *args[] = {fx->dir, fx->path, fx->dir};
    size_t next = 0;
    struct strbuf b;
    strbuf_init(&b, 0);
    for (const char *p = yaml_fmt; *p; p++) {
        if (p[0] == '%' && p[1] == 's' && next < 3) {
            strbuf_adds(&b, args[next++]);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            strbuf_addc(&b, '%');
            p++;
        } else {
            strbuf_addc(&b, *p);
        }
    }
    char *yaml = strbuf_detach(&b, NULL);
    struct config_diags diags = {0};
    struct config *c = NULL;
    int r = config_load_buffer("test.yaml", yaml, strlen(yaml), &c, &diags);
    if (r < 0)
        config_diags_print(&diags, stderr);
    assert_int_equal(r, 0);
    config_diags_fini(&diags);
    free(yaml);
    return c;
}

static void on_event(const struct config_check *check, struct detect_event *ev, void *data)
{
    (void)check;
    struct fixture *fx = data;
    if (ev->kind == DETECT_EVENT_STATE_CHANGE && fx->n_events < 16) {
        fx->ev_status[fx->n_events] = ev->new_status;
        fx->ev_hard[fx->n_events] = ev->hard;
        fx->n_events++;
    }
}

static const char *const base_yaml = "server: {data_dir: %s}\n"
                                     "checks:\n"
                                     "  - name: f\n"
                                     "    type: file\n"
                                     "    path: %s\n"
                                     "    every: 1h\n"
                                     "    failures: 2\n"
                                     "    recoveries: 2\n"
                                     "    content: hello\n"
                                     "  - name: d\n"
                                     "    type: disk\n"
                                     "    path: %s\n"
                                     "    every: 1h\n";

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/hale-runner-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->path, sizeof(fx->path), "%s/flag", fx->dir);
    write_file(fx->path, "hello world\n");
    assert_int_equal(loop_new(&fx->loop), 0);
    fx->config = load(fx, base_yaml);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    checks_free(fx->checks);
    loop_free(fx->loop);
    config_unref(fx->config);
    testutil_rm_rf(fx->dir);
    free(fx);
    return 0;
}

static struct checks *start(struct fixture *fx, struct config *config, struct checks_metrics *cm,
                            const struct checks *carry)
{
    struct checks_options o = {
            .loop = fx->loop,
            .config = config,
            .metrics = cm,
            .carry = carry,
            .on_event = on_event,
            .event_data = fx,
    };
    struct checks *c = NULL;
    struct err e = {0};
    assert_int_equal(checks_new(&o, &c, &e), 0);
    return c;
}

/* Turns the loop until *flag or WAIT_MS passed. */
static void spin_until(struct fixture *fx, const bool *flag)
{
    uint64_t deadline = clock_mono_ms(&clock_system) + WAIT_MS;
    while (!*flag && clock_mono_ms(&clock_system) < deadline)
        uv_run(loop_uv(fx->loop), UV_RUN_ONCE);
    assert_true(*flag);
}

static void on_answer(const struct config_check *check, const struct check_observation *o,
                      void *data)
{
    (void)check;
    struct fixture *fx = data;
    fx->answered = true;
    fx->status = o->status;
    snprintf(fx->summary, sizeof(fx->summary), "%s", o->summary);
    fx->n_samples = o->n_samples;
}

static enum check_status run_now(struct fixture *fx, struct checks *c, const char *name)
{
    fx->answered = false;
    assert_int_equal(checks_run_now(c, name, on_answer, fx), 0);
    spin_until(fx, &fx->answered);
    return fx->status;
}

static void on_stopped(void *data)
{
    struct fixture *fx = data;
    fx->stopped = true;
}

static void stop(struct fixture *fx, struct checks *c)
{
    fx->stopped = false;
    checks_stop(c, on_stopped, fx);
    spin_until(fx, &fx->stopped);
}

static struct checks_state state_of(struct checks *c, const char *name)
{
    struct checks_state s;
    assert_true(checks_state_find(c, name, &s));
    return s;
}

static void test_runner_file_check_goes_critical_and_recovers(void **state)
{
    struct fixture *fx = *state;
    fx->checks = start(fx, fx->config, NULL, NULL);
    assert_int_equal(checks_count(fx->checks), 2);

    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_OK);
    assert_non_null(strstr(fx->summary, "bytes"));
    assert_int_equal(fx->n_samples, 2);

    assert_int_equal(unlink(fx->path), 0);
    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(fx->summary, "does not exist"));
    struct checks_state s = state_of(fx->checks, "f");
    assert_int_equal(s.status, CHECK_STATUS_CRITICAL);
    assert_int_equal(s.hard_status, CHECK_STATUS_OK); /* one failure of two: soft */
    assert_false(s.hard);
    assert_int_equal(fx->n_events, 0);

    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_CRITICAL);
    s = state_of(fx->checks, "f");
    assert_int_equal(s.hard_status, CHECK_STATUS_CRITICAL);
    assert_int_equal(fx->n_events, 1);
    assert_int_equal(fx->ev_status[0], CHECK_STATUS_CRITICAL);
    assert_true(fx->ev_hard[0]);

    write_file(fx->path, "no greeting here\n");
    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(fx->summary, "content does not match"));

    write_file(fx->path, "hello again\n");
    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_OK);
    assert_int_equal(state_of(fx->checks, "f").hard_status, CHECK_STATUS_CRITICAL);
    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_OK);
    s = state_of(fx->checks, "f");
    assert_int_equal(s.hard_status, CHECK_STATUS_OK);
    assert_true(s.hard);
    assert_int_equal(fx->n_events, 2);
    assert_int_equal(fx->ev_status[1], CHECK_STATUS_OK);
    assert_true(s.has_last);
    assert_int_equal(s.status, CHECK_STATUS_OK);
    struct check_observation last;
    assert_true(checks_last_observation(fx->checks, "f", &last));
    assert_int_equal(last.status, CHECK_STATUS_OK);
    assert_string_equal(last.summary, s.summary);
    assert_int_equal(last.started_ms, s.last_run_ms);
    assert_int_equal(last.duration_us, s.duration_us);
    assert_int_equal(last.n_samples, fx->n_samples);
    check_observation_fini(&last);
    assert_true(s.runs >= 6);
    assert_true(s.next_due_ms > 0);

    assert_int_equal(checks_run_now(fx->checks, "nope", on_answer, fx), HALE_ENOTFOUND);
    stop(fx, fx->checks);
}

static void test_runner_disk_check_measures_the_filesystem(void **state)
{
    struct fixture *fx = *state;
    fx->checks = start(fx, fx->config, NULL, NULL);
    enum check_status st = run_now(fx, fx->checks, "d");
    assert_true(st == CHECK_STATUS_OK || st == CHECK_STATUS_WARNING || st == CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(fx->summary, "% used"));
    struct check_observation last;
    assert_true(checks_last_observation(fx->checks, "d", &last));
    const struct check_observation *o = &last;
    bool pct = false, used = false;
    for (size_t i = 0; i < o->n_samples; i++) {
        if (strcmp(o->samples[i].label, "used_pct") == 0) {
            pct = true;
            assert_string_equal(o->samples[i].unit, "%");
            assert_true(o->samples[i].has_warn && o->samples[i].has_crit);
            assert_true(o->samples[i].value >= 0 && o->samples[i].value <= 100);
        }
        if (strcmp(o->samples[i].label, "used") == 0) {
            used = true;
            assert_string_equal(o->samples[i].unit, "B");
        }
    }
    assert_true(pct && used);
    check_observation_fini(&last);
    stop(fx, fx->checks);

    /* Anything used is over 0%: critical. */
    struct config *full = load(fx, "server: {data_dir: %s}\n"
                                   "checks:\n"
                                   "  - {name: d, type: disk, path: %s, warn: 0%%, crit: 0%%}\n");
    struct checks *c = start(fx, full, NULL, NULL);
    assert_int_equal(run_now(fx, c, "d"), CHECK_STATUS_CRITICAL);
    stop(fx, c);
    checks_free(c);
    config_unref(full);
}

static void test_runner_stop_aborts_runs_in_flight(void **state)
{
    struct fixture *fx = *state;
    fx->checks = start(fx, fx->config, NULL, NULL);
    assert_int_equal(run_now(fx, fx->checks, "f"), CHECK_STATUS_OK);
    uint64_t runs = state_of(fx->checks, "f").runs;

    /* Started at once, its work queued on the thread pool: in flight when the stop comes. */
    fx->answered = false;
    assert_int_equal(checks_run_now(fx->checks, "f", on_answer, fx), 0);
    assert_false(fx->answered);
    assert_true(state_of(fx->checks, "f").running);
    assert_int_equal(unlink(fx->path), 0); /* were the run fed, it would be critical */

    fx->stopped = false;
    checks_stop(fx->checks, on_stopped, fx);
    checks_stop(fx->checks, on_stopped, fx); /* idempotent */
    assert_true(fx->answered);               /* aborted at once */
    assert_int_equal(fx->status, CHECK_STATUS_UNKNOWN);
    assert_non_null(strstr(fx->summary, "stopping"));
    assert_int_equal(checks_run_now(fx->checks, "f", on_answer, fx), HALE_ESTATE);
    spin_until(fx, &fx->stopped);

    struct checks_state s = state_of(fx->checks, "f");
    assert_false(s.running);
    assert_int_equal(s.runs, runs); /* the aborted run was not fed */
    assert_int_equal(s.status, CHECK_STATUS_OK);
    assert_int_equal(fx->n_events, 0);
}

static bool has(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        print_message("missing %s in:\n%s\n", needle, text);
        return false;
    }
    return true;
}

struct hist {
    size_t n;
    bool status, used_bytes;
    size_t status_points;
};

static void on_series(const char *label, const char *unit, const struct series *s, void *data)
{
    struct hist *h = data;
    h->n++;
    if (strcmp(label, "status") == 0) {
        h->status = true;
        h->status_points = series_len(s);
    }
    if (strcmp(label, "used") == 0 && strcmp(unit, "B") == 0 && series_len(s) == 1)
        h->used_bytes = true;
}

static void test_runner_metrics_and_history(void **state)
{
    struct fixture *fx = *state;
    struct metrics *m = metrics_new();
    struct checks_metrics *cm = checks_metrics_new(m);
    fx->checks = start(fx, fx->config, cm, NULL);
    assert_int_equal(unlink(fx->path), 0);
    run_now(fx, fx->checks, "f");
    run_now(fx, fx->checks, "f");
    run_now(fx, fx->checks, "d");

    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(metrics_render(m, &b), 0);
    assert_true(has(b.s, "hale_check_status{check=\"f\",type=\"file\"} 2"));
    assert_true(has(b.s, "hale_check_soft_status{check=\"f\",type=\"file\"} 2"));
    assert_true(has(b.s, "hale_check_status{check=\"d\",type=\"disk\"}"));
    assert_true(has(b.s, "hale_check_runs_total{check=\"f\",status=\"critical\"} 2"));
    assert_true(has(b.s, "hale_check_duration_seconds{check=\"d\"}"));
    assert_true(has(b.s, "hale_check_lateness_seconds_bucket"));
    assert_true(has(b.s, "hale_check_flapping{check=\"f\"} 0"));
    assert_true(has(b.s, "hale_check_sample{check=\"d\",label=\"used\",unit=\"B\"}"));
    assert_true(has(b.s, "hale_check_sample{check=\"d\",label=\"used_pct\",unit=\"%\"}"));
    assert_true(has(b.s, "# TYPE hale_check_skipped_runs_total counter"));
    strbuf_fini(&b);

    struct hist h = {0};
    checks_series_each(fx->checks, "d", on_series, &h);
    assert_true(h.status);
    assert_true(h.used_bytes);
    assert_true(h.n >= 4);
    memset(&h, 0, sizeof(h));
    checks_series_each(fx->checks, "f", on_series, &h);
    assert_true(h.status);
    assert_int_equal(h.status_points, 2);

    stop(fx, fx->checks);
    checks_free(fx->checks);
    fx->checks = NULL;
    /* The gauges follow the current runner: none now. */
    strbuf_init(&b, 0);
    metrics_render(m, &b);
    assert_null(strstr(b.s, "hale_check_status{"));
    strbuf_fini(&b);
    metrics_free(m);
    checks_metrics_free(cm);
}

static void test_runner_carries_states_to_a_new_runner(void **state)
{
    struct fixture *fx = *state;
    struct config *once = load(fx, "server: {data_dir: %s}\n"
                                   "checks:\n"
                                   "  - {name: f, type: file, path: %s, every: 1h}\n"
                                   "  - {name: d, type: disk, path: %s, every: 1h}\n");
    struct series_store *series = series_store_new(NULL);
    struct checks_options o = {.loop = fx->loop, .config = once, .series = series};
    struct checks *old = NULL;
    assert_int_equal(checks_new(&o, &old, NULL), 0);
    assert_int_equal(unlink(fx->path), 0);
    assert_int_equal(run_now(fx, old, "f"), CHECK_STATUS_CRITICAL);
    assert_int_equal(state_of(old, "f").hard_status, CHECK_STATUS_CRITICAL);

    /* The new config keeps f (same type) and turns d into a file check. */
    struct config *next = load(fx, "server: {data_dir: %s}\n"
                                   "checks:\n"
                                   "  - {name: f, type: file, path: %s, every: 1h}\n"
                                   "  - {name: d, type: file, path: %s, every: 1h}\n");
    o.config = next;
    o.carry = old;
    struct checks *c = NULL;
    assert_int_equal(checks_new(&o, &c, NULL), 0);
    stop(fx, old);
    checks_free(old);

    struct checks_state s = state_of(c, "f");
    assert_int_equal(s.hard_status, CHECK_STATUS_CRITICAL);
    assert_true(s.hard);
    assert_true(s.has_last);
    assert_non_null(strstr(s.summary, "does not exist"));
    s = state_of(c, "d");
    assert_false(s.has_last);
    assert_null(s.summary);
    struct check_observation last;
    assert_false(checks_last_observation(c, "d", &last));
    assert_false(checks_last_observation(c, "nope", &last));
    assert_int_equal(s.hard_status, CHECK_STATUS_OK);

    /* The history of f survived in the shared store. */
    assert_true(series_store_count(series) >= 1);
    assert_int_equal(run_now(fx, c, "f"), CHECK_STATUS_CRITICAL);
    stop(fx, c);
    checks_free(c);
    series_store_free(series);
    config_unref(once);
    config_unref(next);
}

/*
 * Series other than the checks' come and go in a shared store (a refused
 * line protocol batch removes the series it created): a check whose
 * history is still empty, and one whose history is cached, both keep
 * recording into the right series.
 */
static void test_runner_history_across_removals_in_the_store(void **state)
{
    struct fixture *fx = *state;
    struct series_store *series = series_store_new(NULL);
    struct checks_options o = {.loop = fx->loop, .config = fx->config, .series = series};
    assert_int_equal(checks_new(&o, &fx->checks, NULL), 0);
    struct series *other;
    assert_int_equal(series_store_get(series, "ingested", NULL, &other), 0);
    series_store_remove(series, other); /* before any run: no history yet */
    assert_int_equal(run_now(fx, fx->checks, "d"), CHECK_STATUS_OK);
    assert_int_equal(series_store_get(series, "ingested", NULL, &other), 0);
    series_store_remove(series, other); /* the history's cached series stay valid */
    assert_int_equal(run_now(fx, fx->checks, "d"), CHECK_STATUS_OK);
    struct hist h = {0};
    checks_series_each(fx->checks, "d", on_series, &h);
    assert_true(h.status);
    assert_int_equal(h.status_points, 2);
    stop(fx, fx->checks);
    checks_free(fx->checks);
    fx->checks = NULL;
    series_store_free(series);
}

/* What the runbook executor's seam heard. */
struct seam_answer {
    unsigned calls;
    int status;
    char summary[256];
};

static void on_seam_answer(int status, const char *summary, void *data)
{
    struct seam_answer *a = data;
    a->calls++;
    a->status = status;
    snprintf(a->summary, sizeof(a->summary), "%s", summary);
}

/*
 * A verify step waits on the runner when a reload replaces it (`hale
 * serve`'s order: the new runner in place, then the old one stopped): the
 * step hears the check's result from the new runner, never the old one's
 * "stopping".
 */
static void test_runner_reload_moves_runbook_waiters(void **state)
{
    struct fixture *fx = *state;
    struct checks *current = start(fx, fx->config, NULL, NULL);
    struct runbooks_checks seam = cli__runbooks_checks(&current);
    struct seam_answer a = {0};
    struct err e = {0};
    assert_int_equal(
            seam.run_now(seam.ctx, config_check_find(fx->config, "f"), on_seam_answer, &a, &e), 0);
    assert_int_equal(a.calls, 0); /* a file check runs off the loop thread */
    struct checks *old = current;
    current = start(fx, fx->config, NULL, old);
    stop(fx, old);
    checks_free(old);
    uint64_t deadline = clock_mono_ms(&clock_system) + WAIT_MS;
    while (a.calls == 0 && clock_mono_ms(&clock_system) < deadline)
        uv_run(loop_uv(fx->loop), UV_RUN_ONCE);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.status, CHECK_STATUS_OK);
    assert_null(strstr(a.summary, "stopping"));
    fx->checks = current;
    stop(fx, current);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_runner_file_check_goes_critical_and_recovers,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_runner_disk_check_measures_the_filesystem, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_runner_stop_aborts_runs_in_flight, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_runner_metrics_and_history, setup, teardown),
            cmocka_unit_test_setup_teardown(test_runner_reload_moves_runbook_waiters, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_runner_carries_states_to_a_new_runner, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_runner_history_across_removals_in_the_store, setup,
                                            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
