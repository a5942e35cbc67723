/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's runs on SQLite (schemas 6 and 7): a run, its step
 * attempts and quarantines through a batch and back, replacement as a run
 * moves on, the cap of a step's output, the run query's filters and
 * cursor, what the executor loads on start-up, run ids across a restart,
 * and retention (runs go with their incident, a run with no incident by
 * the outputs' retention, a run not over never, the newest run never, so
 * its id is not handed out again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "itsm/incident.h"
#include "store/internal.h"
#include "store/store.h"
#include "testutil.h"

#define DAY (24ll * 3600 * 1000)
#define NOW (1000 * DAY)

struct fixture {
    char dir[64];
    char *data_dir;
    uv_loop_t uv;
    struct store *st;
    struct store_reader *rd;
};

static void fx_open(struct fixture *fx, size_t output_max)
{
    struct store_options o = {.data_dir = fx->data_dir, .uv = &fx->uv, .output_max = output_max};
    struct err e = {0};
    if (store_open(&o, &fx->st, &e) != 0)
        fail_msg("store_open: %s", e.msg);
    if (store_reader_open(fx->st, &fx->rd, &e) != 0)
        fail_msg("store_reader_open: %s", e.msg);
}

static void fx_close(struct fixture *fx)
{
    store_reader_close(fx->rd);
    fx->rd = NULL;
    store_close(fx->st);
    fx->st = NULL;
    uv_run(&fx->uv, UV_RUN_DEFAULT);
}

static int fixture_setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-runs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->data_dir = xasprintf("%s/data", fx->dir);
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    fx_open(fx, 0);
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    fx_close(fx);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    testutil_rm_rf(fx->dir);
    free(fx->data_dir);
    free(fx);
    return 0;
}

static void done_cb(int result, void *data)
{
    *(int *)data = result;
}

static void write_batch(struct fixture *fx, struct store_batch *b)
{
    int result = 1;
    store_submit(fx->st, b, done_cb, &result);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(result, 0);
}

/* A run with every field set, waiting at a gate. */
static void run_full(struct store_run *r, int64_t id)
{
    *r = (struct store_run){
            .id = id,
            .runbook = "restart-nginx",
            .incident_id = 42,
            .fingerprint = "fp-web",
            .target = "web-01",
            .automatic = true,
            .actor = "hale",
            .outcome = "waiting",
            .reason = NULL,
            .step = 2,
            .started_ms = NOW - 5000,
            .gate_step = 2,
            .question = "restart nginx on web-01?",
            .deadline_ms = NOW + 60000,
    };
    labels_init(&r->labels);
    labels_set(&r->labels, "host", "web-01", NULL);
    labels_set(&r->labels, "evil", "$(touch /tmp/x); rm -rf x", NULL);
}

static void write_run(struct fixture *fx, int64_t id, char *runbook, int64_t incident,
                      char *outcome, int64_t started_ms, int64_t ended_ms)
{
    struct store_run r = {
            .id = id,
            .runbook = runbook,
            .incident_id = incident,
            .target = runbook,
            .actor = "hale",
            .outcome = outcome,
            .step = -1,
            .gate_step = -1,
            .started_ms = started_ms,
            .ended_ms = ended_ms,
    };
    struct store_run_step s = {.run_id = id,
                               .seq = 1,
                               .name = "restart",
                               .action = "run",
                               .purpose = "remediate",
                               .attempt = 1,
                               .outcome = "succeeded",
                               .exit_status = 0,
                               .output = "ok\n"};
    struct store_batch *b = store_batch_new();
    store_batch_run(b, &r);
    store_batch_run_step(b, &s);
    write_batch(fx, b);
}

static void runs_free(struct store_run *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        store_run_fini(&v[k]);
    free(v);
}

static void test_store_runs_round_trip_and_replace(void **state)
{
    struct fixture *fx = *state;
    struct store_run r;
    run_full(&r, store_next_run_id(fx->st));
    assert_int_equal(r.id, 1);
    struct store_run_step s = {.run_id = 1,
                               .seq = 1,
                               .step = 0,
                               .name = "look",
                               .action = "shell",
                               .purpose = "diagnose",
                               .attempt = 1,
                               .outcome = "failed",
                               .started_ms = NOW - 4000,
                               .ended_ms = NOW - 3000,
                               .exit_status = -1,
                               .term_signal = 9,
                               .timed_out = true,
                               .output = "partial",
                               .reason = "timed out after 1 s",
                               .pid = 4242,
                               .pid_start = UINT64_C(123456789012)};
    struct store_quarantine q = {.runbook = "restart-nginx", .since_ms = NOW, .reason = "relapses"};
    struct store_batch *b = store_batch_new();
    store_batch_run(b, &r);
    store_batch_run_step(b, &s);
    store_batch_quarantine(b, &q);
    write_batch(fx, b);

    struct store_run got;
    assert_int_equal(store_run_get(fx->rd, 1, &got), 0);
    assert_string_equal(got.runbook, "restart-nginx");
    assert_int_equal(got.incident_id, 42);
    assert_string_equal(got.fingerprint, "fp-web");
    assert_string_equal(got.target, "web-01");
    assert_string_equal(labels_get(&got.labels, "evil"), "$(touch /tmp/x); rm -rf x");
    assert_true(got.automatic);
    assert_string_equal(got.outcome, "waiting");
    assert_null(got.reason);
    assert_int_equal(got.step, 2);
    assert_int_equal(got.gate_step, 2);
    assert_string_equal(got.question, "restart nginx on web-01?");
    assert_int_equal(got.deadline_ms, NOW + 60000);
    assert_null(got.decision);
    store_run_fini(&got);

    /* The person decides, the run goes on and ends: the same row, replaced. */
    r.outcome = "healed";
    r.reason = "verify ok";
    r.decided_by = "user:alice";
    r.decided_ms = NOW + 1;
    r.decision = "approved";
    r.comment = "go";
    r.ended_ms = NOW + 2;
    r.relapsed = true;
    s.outcome = "succeeded";
    b = store_batch_new();
    store_batch_run(b, &r);
    store_batch_run_step(b, &s);
    write_batch(fx, b);
    labels_fini(&r.labels);

    assert_int_equal(store_run_get(fx->rd, 1, &got), 0);
    assert_string_equal(got.outcome, "healed");
    assert_string_equal(got.decided_by, "user:alice");
    assert_string_equal(got.decision, "approved");
    assert_string_equal(got.comment, "go");
    assert_int_equal(got.ended_ms, NOW + 2);
    assert_true(got.relapsed);
    store_run_fini(&got);
    assert_int_equal(store_run_get(fx->rd, 2, &got), HALE_ENOTFOUND);

    struct store_run_step *steps;
    size_t n;
    assert_int_equal(store_run_steps_list(fx->rd, 1, &steps, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(steps[0].outcome, "succeeded");
    assert_string_equal(steps[0].action, "shell");
    assert_int_equal(steps[0].term_signal, 9);
    assert_int_equal(steps[0].exit_status, -1);
    assert_true(steps[0].timed_out);
    assert_string_equal(steps[0].output, "partial");
    assert_string_equal(steps[0].reason, "timed out after 1 s");
    assert_int_equal(steps[0].pid, 4242); /* its child, to be found after a crash */
    assert_true(steps[0].pid_start == UINT64_C(123456789012));
    store_run_step_fini(&steps[0]);
    free(steps);

    struct store_quarantine *qv;
    assert_int_equal(store_quarantines_list(fx->rd, &qv, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(qv[0].runbook, "restart-nginx");
    assert_int_equal(qv[0].lifted_ms, 0);
    assert_null(qv[0].lifted_by);
    store_quarantine_fini(&qv[0]);
    free(qv);

    /* Lifted: the same row, by its runbook and since. */
    q.lifted_ms = NOW + 10;
    q.lifted_by = "user:bob";
    b = store_batch_new();
    store_batch_quarantine(b, &q);
    write_batch(fx, b);
    assert_int_equal(store_quarantines_list(fx->rd, &qv, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(qv[0].lifted_ms, NOW + 10);
    assert_string_equal(qv[0].lifted_by, "user:bob");
    store_quarantine_fini(&qv[0]);
    free(qv);
}

static void test_store_runs_step_output_is_capped(void **state)
{
    struct fixture *fx = *state;
    fx_close(fx);
    fx_open(fx, 1024);
    write_run(fx, 1, "a", 0, "failed", NOW, NOW + 1);
    char *big = xmalloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';
    struct store_run_step s = {.run_id = 1,
                               .seq = 2,
                               .name = "loud",
                               .action = "run",
                               .purpose = "diagnose",
                               .attempt = 1,
                               .outcome = "succeeded",
                               .output = big};
    struct store_batch *b = store_batch_new();
    store_batch_run_step(b, &s);
    write_batch(fx, b);
    free(big);
    struct store_run_step *steps;
    size_t n;
    assert_int_equal(store_run_steps_list(fx->rd, 1, &steps, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(steps[1].seq, 2);
    assert_true(strlen(steps[1].output) <= 1024);
    assert_non_null(strstr(steps[1].output, "bytes cut]"));
    for (size_t k = 0; k < n; k++)
        store_run_step_fini(&steps[k]);
    free(steps);
}

static void test_store_runs_query_filters_and_cursor(void **state)
{
    struct fixture *fx = *state;
    write_run(fx, 1, "a", 7, "healed", NOW, NOW + 1);
    write_run(fx, 2, "b", 7, "failed", NOW, NOW + 1);
    write_run(fx, 3, "a", 8, "failed", NOW, NOW + 1);
    write_run(fx, 4, "a", 0, "running", NOW, 0);

    struct store_run *v;
    size_t n;
    assert_int_equal(store_runs_list(fx->rd, &(struct store_run_query){0}, &v, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(v[0].id, 4); /* newest first */
    assert_int_equal(v[3].id, 1);
    runs_free(v, n);

    assert_int_equal(store_runs_list(fx->rd, &(struct store_run_query){.runbook = "a"}, &v, &n), 0);
    assert_int_equal(n, 3);
    runs_free(v, n);
    assert_int_equal(store_runs_list(fx->rd, &(struct store_run_query){.incident_id = 7}, &v, &n),
                     0);
    assert_int_equal(n, 2);
    runs_free(v, n);
    assert_int_equal(store_runs_list(fx->rd,
                                     &(struct store_run_query){.runbook = "a", .outcome = "failed"},
                                     &v, &n),
                     0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, 3);
    runs_free(v, n);
    assert_int_equal(
            store_runs_list(fx->rd, &(struct store_run_query){.before_id = 4, .limit = 2}, &v, &n),
            0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, 3);
    assert_int_equal(v[1].id, 2);
    runs_free(v, n);
}

/* The ledger's load: recent runs, and every run not over however old. */
static void test_store_runs_since_takes_every_run_not_over(void **state)
{
    struct fixture *fx = *state;
    write_run(fx, 1, "a", 1, "healed", NOW - 10 * DAY, NOW - 10 * DAY);
    write_run(fx, 2, "a", 2, "waiting", NOW - 9 * DAY, 0);
    write_run(fx, 3, "a", 3, "running", NOW - 8 * DAY, 0);
    write_run(fx, 4, "a", 4, "failed", NOW - DAY, NOW - DAY);
    struct store_run *v;
    size_t n;
    assert_int_equal(store_runs_since(fx->rd, NOW - 2 * DAY, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].id, 2); /* oldest first */
    assert_int_equal(v[1].id, 3);
    assert_int_equal(v[2].id, 4);
    runs_free(v, n);
}

static void test_store_runs_ids_continue_after_reopen(void **state)
{
    struct fixture *fx = *state;
    int64_t id = store_next_run_id(fx->st);
    write_run(fx, id, "a", 0, "healed", NOW, NOW);
    write_run(fx, store_next_run_id(fx->st), "a", 0, "healed", NOW, NOW);
    fx_close(fx);
    fx_open(fx, 0);
    assert_int_equal(store_next_run_id(fx->st), 3);
}

static void pass_cb(int result, const struct store_compaction *c, void *data)
{
    struct store_compaction *ret = data;
    assert_int_equal(result, 0);
    *ret = *c;
}

static size_t runs_count(struct fixture *fx)
{
    struct store_run *v;
    size_t n;
    assert_int_equal(store_runs_list(fx->rd, &(struct store_run_query){0}, &v, &n), 0);
    runs_free(v, n);
    return n;
}

static bool run_exists(struct fixture *fx, int64_t id)
{
    struct store_run r;
    int rc = store_run_get(fx->rd, id, &r);
    if (rc == 0)
        store_run_fini(&r);
    return rc == 0;
}

/* Runs go with their closed incident; those of none by the outputs' retention, once over. */
static void test_store_runs_retention(void **state)
{
    struct fixture *fx = *state;
    struct incident old = {.id = 1,
                           .title = "old",
                           .fingerprint = "f",
                           .priority = 3,
                           .state = INCIDENT_CLOSED,
                           .opened_ms = NOW - 500 * DAY,
                           .closed_ms = NOW - 450 * DAY};
    struct incident open = old;
    open.id = 2;
    open.state = INCIDENT_NEW;
    open.closed_ms = 0;
    labels_init(&old.labels);
    labels_init(&open.labels);
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, &old);
    store_batch_incident(b, &open);
    write_batch(fx, b);
    write_run(fx, 1, "a", 1, "healed", NOW - 500 * DAY, NOW - 500 * DAY);
    write_run(fx, 2, "a", 2, "failed", NOW - 500 * DAY, NOW - 500 * DAY);
    write_run(fx, 3, "a", 0, "completed", NOW - 60 * DAY, NOW - 60 * DAY);
    write_run(fx, 4, "a", 0, "completed", NOW - DAY, NOW - DAY);
    write_run(fx, 5, "a", 0, "running", NOW - 60 * DAY, 0);

    struct store_retention keep = {.closed_incidents_ms = 400 * DAY, .outputs_ms = 30 * DAY};
    struct store_compaction c = {0};
    assert_int_equal(store_compact(fx->st, &keep, NOW, pass_cb, &c), 0);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(c.incidents, 1);
    assert_int_equal(c.runs, 2);
    assert_false(run_exists(fx, 1)); /* its incident went */
    assert_true(run_exists(fx, 2));  /* its incident is open */
    assert_false(run_exists(fx, 3)); /* no incident, over long ago */
    assert_true(run_exists(fx, 4));
    assert_true(run_exists(fx, 5)); /* not over */
    assert_int_equal(runs_count(fx), 3);
    struct store_run_step *steps;
    size_t n;
    assert_int_equal(store_run_steps_list(fx->rd, 1, &steps, &n), 0);
    assert_int_equal(n, 0);
    free(steps);
    struct incident got;
    assert_int_equal(store_incident_get(fx->rd, 1, &got), HALE_ENOTFOUND);
}

/* A run id people saw is never handed out again, even when every run expired. */
static void test_store_runs_retention_never_reuses_a_run_id(void **state)
{
    struct fixture *fx = *state;
    struct incident i = {.title = "old",
                         .fingerprint = "f",
                         .priority = 3,
                         .state = INCIDENT_CLOSED,
                         .opened_ms = NOW - 500 * DAY,
                         .closed_ms = NOW - 450 * DAY};
    labels_init(&i.labels);
    struct store_batch *b = store_batch_new();
    for (i.id = 1; i.id <= 2; i.id++)
        store_batch_incident(b, &i);
    write_batch(fx, b);
    write_run(fx, 1, "a", 0, "completed", NOW - 500 * DAY, NOW - 500 * DAY);
    write_run(fx, 2, "a", 1, "healed", NOW - 500 * DAY, NOW - 500 * DAY);
    struct store_retention keep = {.closed_incidents_ms = 400 * DAY, .outputs_ms = 30 * DAY};
    struct store_compaction c = {0};
    assert_int_equal(store_compact(fx->st, &keep, NOW, pass_cb, &c), 0);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    /* The newest run stays with its incident; the newest incident stays too. */
    assert_false(run_exists(fx, 1));
    assert_true(run_exists(fx, 2));
    struct incident got;
    assert_int_equal(store_incident_get(fx->rd, 1, &got), 0);
    incident_fini(&got);
    fx_close(fx);
    fx_open(fx, 0);
    assert_int_equal(store_next_run_id(fx->st), 3);

    /* A newer run by hand, expired too: the older one goes with its incident, it stays. */
    write_run(fx, 3, "a", 0, "completed", NOW - 60 * DAY, NOW - 60 * DAY);
    assert_int_equal(store_compact(fx->st, &keep, NOW, pass_cb, &c), 0);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_false(run_exists(fx, 2));
    assert_true(run_exists(fx, 3));
    assert_int_equal(store_incident_get(fx->rd, 1, &got), HALE_ENOTFOUND);
    fx_close(fx);
    fx_open(fx, 0);
    assert_int_equal(store_next_run_id(fx->st), 4);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            TEST(test_store_runs_round_trip_and_replace),
            TEST(test_store_runs_step_output_is_capped),
            TEST(test_store_runs_query_filters_and_cursor),
            TEST(test_store_runs_since_takes_every_run_not_over),
            TEST(test_store_runs_ids_continue_after_reopen),
            TEST(test_store_runs_retention),
            TEST(test_store_runs_retention_never_reuses_a_run_id),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
