/* SPDX-License-Identifier: MIT */
/*
 * Tests of the runbook executor (src/runbook/) against real child
 * processes, with the engine, the desk and SQLite as the daemon has them
 * and a checks' side the test drives: a transfer retried with backoff
 * then its fallback (healed, or escalated when both fail), a step that
 * forks killed with its group at its timeout, a hostile label reaching
 * argv and the environment as inert data, the guard tripping, the
 * flapping guard, a run cancelled before its remediate step when its
 * incident resolved by itself, approval gates (approved, rejected), and
 * what a restart finds (a run running: interrupted and escalated; a run
 * waiting: still waiting).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "detect/detect.h"
#include "engine/engine.h"
#include "engine/silences.h"
#include "itsm/itsm.h"
#include "proc/proc.h"
#include "runbook/internal.h"
#include "runbook/runbook.h"
#include "store/store.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    uv_loop_t uv;
    struct config *config;
    struct store *st;
    struct itsm *desk;
    struct silences *silences;
    struct engine *engine;
    struct runbooks *rbs;
    struct store_reader *reader;
    int check_status; /* what the next check run says */
    unsigned check_runs;
    bool flapping;
    /* The executor's notices: how many, and the last one's kind and incident's team. */
    unsigned notices;
    enum runbooks_notice notice_kind;
    bool notice_had_incident;
    char notice_team[32];
};

static int run_now(void *ctx, const struct config_check *check, runbooks_check_done_cb *done,
                   void *data, struct err *e)
{
    (void)e;
    struct fixture *fx = ctx;
    fx->check_runs++;
    done(fx->check_status, check->name, data); /* at once: the executor must cope */
    return 0;
}

static bool is_flapping(void *ctx, const char *check)
{
    (void)check;
    return ((struct fixture *)ctx)->flapping;
}

static void on_notice(void *ctx, const struct incident *i, const char *team,
                      enum runbooks_notice kind, const char *text)
{
    (void)team;
    (void)text;
    struct fixture *fx = ctx;
    fx->notices++;
    fx->notice_kind = kind;
    fx->notice_had_incident = i != NULL;
    snprintf(fx->notice_team, sizeof(fx->notice_team), "%s", i && i->team ? i->team : "");
}

static void on_changed(const struct incident *i, void *data)
{
    struct fixture *fx = data;
    if (fx->rbs)
        runbooks_incident_changed(fx->rbs, i);
}

static char *config_text(const char *dir)
{
    return xasprintf("server: {data_dir: %s}\n"
                     "teams: [{name: net}, {name: ops}]\n"
                     "checks:\n"
                     "  - {name: flag, type: file, path: %s/flag, labels: {service: flag}}\n"
                     "runbooks:\n"
                     "  - name: transfer\n"
                     "    team: net\n"
                     "    steps:\n"
                     "      - name: primary\n"
                     "        run: [/bin/sh, -c, 'echo try >> primary.log; exit 1']\n"
                     "        retry: {times: 3, backoff: 10ms, max_backoff: 20ms}\n"
                     "        on_failure: continue\n"
                     "      - name: fallback\n"
                     "        when: {failed: primary}\n"
                     "        run: [/bin/sh, -c, 'echo fb >> fallback.log; exit \"$1\"', sh,"
                     " '${labels.rc}']\n"
                     "      - {name: prove, verify: flag, within: 1s}\n"
                     "  - name: hang\n"
                     "    steps:\n"
                     "      - {name: stuck, timeout: 300ms,\n"
                     "         run: [/bin/sh, -c, 'sleep 30 & echo $! > child.pid; wait']}\n"
                     "  - name: long\n"
                     "    steps:\n"
                     "      - {name: stuck, timeout: 1m,\n"
                     "         run: [/bin/sh, -c, 'sleep 30 & echo $! > child.pid; wait']}\n"
                     "  - name: inert\n"
                     "    steps:\n"
                     "      - name: show\n"
                     "        run: [/bin/sh, -c, 'printf %%s \"$HALE_LABEL_EVIL\" > env.txt;"
                     " printf %%s \"$1\" > arg.txt', sh, '${labels.evil}']\n"
                     "  - name: guarded\n"
                     "    guard: {max_runs: 2, per: 1h}\n"
                     "    team: ops\n"
                     "    steps: [{run: [/bin/true]}]\n"
                     "  - name: careful\n"
                     "    steps:\n"
                     "      - {name: look, purpose: diagnose, wait: 300ms}\n"
                     "      - {name: fix, run: [/usr/bin/touch, fixed]}\n"
                     "  - name: gated\n"
                     "    team: ops\n"
                     "    steps:\n"
                     "      - {name: ask, approve: 'restart it?', timeout: 1h}\n"
                     "      - {name: fix, run: [/usr/bin/touch, gated-fixed]}\n"
                     "  - name: proofs\n"
                     "    steps:\n"
                     "      - {name: first, verify: flag, within: 1s, on_failure: continue}\n"
                     "      - {name: fix, run: [/usr/bin/touch, proofs-fixed], when: {labels: "
                     "'{fix=\"yes\"}'}}\n"
                     "      - {name: last, verify: flag, within: 1s, on_failure: continue}\n"
                     "  - name: hasty\n"
                     "    team: ops\n"
                     "    steps: [{name: ask, approve: 'now?', timeout: 100ms}]\n"
                     "  - name: persistent\n"
                     "    steps:\n"
                     "      - name: fix\n"
                     "        run: [/bin/sh, -c, 'echo x >> fix-$HALE_INCIDENT_ID.log; exit 1']\n"
                     "        retry: {times: 5, backoff: 300ms}\n"
                     "        on_failure: continue\n"
                     "      - {name: more, run: [/usr/bin/touch, more-fixed]}\n"
                     "      - {name: prove, verify: flag, within: 1s}\n"
                     "routes:\n"
                     "  - {match: '{alertname=\"Transfer\"}', runbook: transfer}\n"
                     "  - {match: '{alertname=\"Hang\"}', runbook: hang}\n"
                     "  - {match: '{alertname=\"Inert\"}', runbook: inert}\n"
                     "  - {match: '{alertname=\"Long\"}', runbook: long}\n"
                     "  - {match: '{alertname=~\"Guard.*\"}', runbook: guarded}\n"
                     "  - {match: '{alertname=\"Careful\"}', runbook: careful}\n"
                     "  - {match: '{alertname=\"Gated\"}', runbook: gated}\n"
                     "  - {match: '{alertname=\"Persistent\"}', runbook: persistent}\n"
                     "  - {match: '{alertname=\"Hasty\"}', runbook: hasty}\n"
                     "  - {match: '{alertname=\"Proofs\"}', runbook: proofs}\n"
                     "  - {match: '{service=\"flag\"}', runbook: careful}\n",
                     dir, dir);
}

static void runbooks_open(struct fixture *fx)
{
    struct runbooks_options o = {
            .uv = &fx->uv,
            .store = fx->st,
            .desk = fx->desk,
            .config = fx->config,
            .checks = {.run_now = run_now, .is_flapping = is_flapping, .ctx = fx},
            .notify = on_notice,
            .notify_ctx = fx,
    };
    struct err e = {0};
    if (runbooks_new(&o, &fx->rbs, &e) != 0)
        fail_msg("runbooks_new: %s", e.msg);
}

static void open_all(struct fixture *fx)
{
    struct store_options o = {.data_dir = fx->dir, .uv = &fx->uv};
    struct err e = {0};
    if (store_open(&o, &fx->st, &e) != 0 || itsm_new(fx->st, fx->config, &fx->desk, &e) != 0 ||
        silences_new(fx->st, fx->config, &fx->silences, &e) != 0 ||
        store_reader_open(fx->st, &fx->reader, &e) != 0)
        fail_msg("open: %s", e.msg);
    fx->engine = engine_new(fx->config, fx->desk, fx->silences, fx->st);
    itsm_watch(fx->desk, on_changed, fx);
    runbooks_open(fx);
}

/* Closes everything as hale does. */
static void close_all(struct fixture *fx)
{
    runbooks_stop(fx->rbs);
    uv_run(&fx->uv, UV_RUN_NOWAIT);
    itsm_unwatch(fx->desk, on_changed, fx);
    itsm_close_reader(fx->desk);
    store_reader_close(fx->reader);
    store_close(fx->st);
    runbooks_free(fx->rbs);
    engine_free(fx->engine);
    silences_free(fx->silences);
    itsm_free(fx->desk);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    fx->rbs = NULL;
}

static int setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/hale-runbook-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    char *text = config_text(fx->dir);
    struct config_diags d = {0};
    if (config_load_buffer("hale.yaml", text, strlen(text), &fx->config, &d) != 0)
        fail_msg("config: %s", d.n ? d.v[0].msg : "?");
    config_diags_fini(&d);
    free(text);
    open_all(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    close_all(fx);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    config_unref(fx->config);
    testutil_rm_rf(fx->dir);
    free(fx);
    return 0;
}

/* ---- helpers ---- */

static void heard_cb(int result, const struct engine_outcome *v, size_t n, void *data)
{
    (void)v;
    (void)n;
    *(int *)data = result + 1000;
}

/* An event from the API with "name=value" labels, then NULL; back once durable. */
static void fire(struct fixture *fx, enum event_status status, ...)
{
    struct event *ev = xcalloc(1, sizeof(*ev));
    event_init(ev);
    ev->source = EVENT_SOURCE_API;
    ev->status = status;
    ev->severity = INCIDENT_SEVERITY_CRITICAL;
    ev->sender = xstrdup("user:robot");
    free(ev->summary); /* event_init()'s "" */
    ev->summary = xstrdup("trouble");
    va_list ap;
    va_start(ap, status);
    for (const char *kv; (kv = va_arg(ap, const char *));) {
        const char *eq = strchr(kv, '=');
        char *name = xstrndup(kv, (size_t)(eq - kv));
        labels_set(&ev->labels, name, eq + 1, NULL);
        free(name);
    }
    va_end(ap);
    int heard = 0;
    assert_int_equal(engine_submit(fx->engine, ev, 1, heard_cb, &heard), 0);
    while (!heard)
        uv_run(&fx->uv, UV_RUN_ONCE);
    assert_int_equal(heard, 1000);
}

static int64_t mono_ms(void)
{
    return (int64_t)clock_mono_ms(&clock_system);
}

static void drained_cb(int result, void *data)
{
    (void)result;
    *(bool *)data = true;
}

/* Runs the loop until every write submitted so far is durable (batches commit in order). */
static void drain(struct fixture *fx)
{
    bool done = false;
    store_submit(fx->st, store_batch_new(), drained_cb, &done);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
}

/* Runs the loop until incident id is in state (what the run did to it is durable). */
static void incident_wait(struct fixture *fx, int64_t id, enum incident_state state,
                          struct incident *ret)
{
    int64_t end = mono_ms() + 20000;
    for (;;) {
        uv_run(&fx->uv, UV_RUN_NOWAIT);
        assert_int_equal(store_incident_get(fx->reader, id, ret), 0);
        if (ret->state == state)
            return;
        incident_fini(ret);
        if (mono_ms() > end)
            fail_msg("incident %lld did not become %s", (long long)id, incident_state_name(state));
        uv_run(&fx->uv, UV_RUN_ONCE);
    }
}

/* The run's row; runs the loop until its outcome is final (20 s at most). */
static void run_wait(struct fixture *fx, int64_t id, const char *until, struct store_run *ret)
{
    int64_t end = mono_ms() + 20000;
    for (;;) {
        uv_run(&fx->uv, UV_RUN_NOWAIT);
        struct store_run r;
        if (store_run_get(fx->reader, id, &r) == 0) {
            bool done =
                    until ? strcmp(r.outcome, until) == 0
                          : strcmp(r.outcome, "running") != 0 && strcmp(r.outcome, "waiting") != 0;
            if (done) {
                drain(fx); /* what the run's end wrote after its row */
                *ret = r;
                return;
            }
            store_run_fini(&r);
        }
        if (mono_ms() > end)
            fail_msg("run %lld did not reach %s", (long long)id, until ? until : "its end");
        uv_run(&fx->uv, UV_RUN_ONCE);
    }
}

static size_t timeline_with(struct fixture *fx, int64_t id, const char *text)
{
    struct timeline_entry *v = NULL;
    size_t n = 0, count = 0;
    assert_int_equal(store_timeline_list(fx->reader, id, &v, &n), 0);
    for (size_t k = 0; k < n; k++) {
        count += strstr(v[k].text, text) != NULL;
        timeline_entry_fini(&v[k]);
    }
    free(v);
    return count;
}

static void incident_get(struct fixture *fx, int64_t id, struct incident *ret)
{
    assert_int_equal(store_incident_get(fx->reader, id, ret), 0);
}

static size_t lines_of(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    free(path);
    if (!f)
        return 0;
    size_t n = 0;
    for (int c; (c = fgetc(f)) != EOF;)
        n += c == '\n';
    fclose(f);
    return n;
}

static char *read_file(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    free(path);
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return xstrdup(buf);
}

static bool exists(const char *dir, const char *name)
{
    char *path = xasprintf("%s/%s", dir, name);
    struct stat st;
    bool r = stat(path, &st) == 0;
    free(path);
    return r;
}

static size_t steps_with(struct fixture *fx, int64_t run_id, const char *name, const char *outcome)
{
    struct store_run_step *v = NULL;
    size_t n = 0, count = 0;
    assert_int_equal(store_run_steps_list(fx->reader, run_id, &v, &n), 0);
    for (size_t k = 0; k < n; k++) {
        count += strcmp(v[k].name, name) == 0 && (!outcome || strcmp(v[k].outcome, outcome) == 0);
        store_run_step_fini(&v[k]);
    }
    free(v);
    return count;
}

/* ---- tests ---- */

/*
 * The transfer fails; it is retried 3 times with backoff, then the
 * fallback runs and succeeds, verify passes: healed, resolved by hale.
 */
static void test_runbook_retry_then_fallback_heals(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Transfer", "rc=0", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "healed");
    assert_int_equal(r.incident_id, 1);
    assert_true(r.automatic);
    store_run_fini(&r);
    assert_int_equal(lines_of(fx->dir, "primary.log"), 4); /* 1 + 3 retries */
    assert_int_equal(steps_with(fx, 1, "primary", "failed"), 4);
    assert_int_equal(lines_of(fx->dir, "fallback.log"), 1);
    assert_int_equal(steps_with(fx, 1, "fallback", "succeeded"), 1);
    assert_int_equal(fx->check_runs, 1);
    struct incident i;
    incident_wait(fx, 1, INCIDENT_RESOLVED, &i);
    assert_string_equal(i.resolved_by, "hale");
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "retry 1 of 3 in 10 ms"), 1);
    assert_int_equal(timeline_with(fx, 1, "retry 2 of 3 in 20 ms"), 1); /* doubled */
    assert_int_equal(timeline_with(fx, 1, "retry 3 of 3 in 20 ms"), 1); /* capped */
    assert_int_equal(timeline_with(fx, 1, "healed by run 1 of transfer"), 1);
}

/* Both fail: the run fails, the incident stays open and goes to the runbook's team. */
static void test_runbook_fallback_failing_escalates(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Transfer", "rc=3", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "failed");
    assert_non_null(strstr(r.reason, "step fallback failed: exit 3"));
    store_run_fini(&r);
    assert_int_equal(fx->check_runs, 0); /* verify never ran */
    struct incident i;
    incident_get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_string_equal(i.team, "net");
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "escalated to net"), 1);
    /* The team heard of it with the incident as the desk has it: escalated to net already. */
    assert_int_equal(fx->notices, 1);
    assert_int_equal(fx->notice_kind, RUNBOOKS_NOTICE_ESCALATE);
    assert_true(fx->notice_had_incident);
    assert_string_equal(fx->notice_team, "net");
}

/* A step that hangs and forks is killed at its timeout, its child with it. */
static void test_runbook_timeout_kills_the_group(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Hang", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "failed");
    store_run_fini(&r);
    char *pid_text = read_file(fx->dir, "child.pid");
    pid_t pid = (pid_t)strtol(pid_text, NULL, 10);
    free(pid_text);
    assert_true(pid > 1);
    /* The grandchild is gone (a zombie waiting for init to reap it is gone too). */
    struct proc_stat st;
    int rc = proc_stat_read(pid, &st);
    assert_true(rc == -ENOENT || (rc == 0 && st.state == 'Z'));
    assert_int_equal(
            timeline_with(
                    fx, 1,
                    "step 1/1 stuck failed: timed out after 300 ms, its process group killed"),
            1);
}

/* A hostile label reaches the step as data, in argv and in the environment. */
static void test_runbook_label_is_inert(void **state)
{
    struct fixture *fx = *state;
    char *evil = xasprintf("$(touch %s/pwned); rm -rf x", fx->dir);
    char *label = xasprintf("evil=%s", evil);
    fire(fx, EVENT_FIRING, "alertname=Inert", label, (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "completed");
    store_run_fini(&r);
    char *env = read_file(fx->dir, "env.txt"), *arg = read_file(fx->dir, "arg.txt");
    assert_string_equal(env, evil);
    assert_string_equal(arg, evil);
    assert_false(exists(fx->dir, "pwned"));
    free(env);
    free(arg);
    free(evil);
    free(label);
}

/* After max_runs runs on a target within the window, the next is suspended and escalated. */
static void test_runbook_guard_trips(void **state)
{
    struct fixture *fx = *state;
    struct store_run r;
    for (int k = 1; k <= 3; k++) {
        char *name = xasprintf("alertname=Guard%d", k);
        fire(fx, EVENT_FIRING, name, (const char *)NULL);
        free(name);
        run_wait(fx, k, NULL, &r);
        assert_string_equal(r.outcome, k < 3 ? "completed" : "suspended");
        store_run_fini(&r);
    }
    assert_int_equal(timeline_with(fx, 3, "the guard tripped: 2 runs of guarded"), 1);
    struct incident i;
    incident_get(fx, 3, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_string_equal(i.team, "ops");
    incident_fini(&i);
    /* By hand too: refused at once, saying why. */
    struct runbooks_start rq = {.runbook = "guarded", .actor = "user:alice"};
    int64_t id = 0;
    struct err e = {0};
    assert_int_equal(runbooks_start(fx->rbs, &rq, NULL, NULL, &id, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "the guard tripped"));
}

/* A flapping check: no automatic run; the incident goes to people. */
static void test_runbook_flapping_check_starts_nothing(void **state)
{
    struct fixture *fx = *state;
    fx->flapping = true;
    struct detect_event ev = {
            .check = "flag",
            .kind = DETECT_EVENT_STATE_CHANGE,
            .new_status = CHECK_STATUS_CRITICAL,
            .hard = true,
            .time_ms = clock_real_ms(&clock_system),
            .summary = (char[]){"no flag"},
    };
    engine_check_event(fx->engine, config_check_find(fx->config, "flag"), &ev);
    fire(fx, EVENT_FIRING, "alertname=Other", (const char *)NULL); /* flushes the writes */
    uv_run(&fx->uv, UV_RUN_NOWAIT);
    fire(fx, EVENT_FIRING, "alertname=Other2", (const char *)NULL);
    struct store_run r;
    assert_int_equal(store_run_get(fx->reader, 1, &r), HALE_ENOTFOUND);
    assert_int_equal(timeline_with(fx, 1, "runbook careful not started: check flag is flapping"),
                     1);
    assert_false(exists(fx->dir, "fixed"));
}

/* Resolved by itself during the diagnosis: cancelled before the remediate step. */
static void test_runbook_cancel_before_remediate(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Careful", (const char *)NULL);
    fire(fx, EVENT_RESOLVED, "alertname=Careful", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "canceled");
    store_run_fini(&r);
    assert_false(exists(fx->dir, "fixed"));
    assert_int_equal(steps_with(fx, 1, "fix", NULL), 0);
}

/* A gate: approved, the run goes on; rejected, it ends and escalates. */
static void test_runbook_approval(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Gated", "host=a", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    assert_string_equal(r.question, "restart it?");
    assert_true(r.deadline_ms > 0);
    store_run_fini(&r);
    struct err e = {0};
    assert_int_equal(runbooks_decide(fx->rbs, 99, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     HALE_ENOTFOUND);
    assert_int_equal(
            runbooks_decide(fx->rbs, 1, true, "user:alice", "127.0.0.1", "go", NULL, NULL, &e), 0);
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "completed");
    assert_string_equal(r.decided_by, "user:alice");
    assert_string_equal(r.decision, "approved");
    store_run_fini(&r);
    assert_true(exists(fx->dir, "gated-fixed"));
    assert_int_equal(timeline_with(fx, 1, "step 1/2 ask succeeded: approved by user:alice: go"), 1);
    assert_int_equal(runbooks_decide(fx->rbs, 1, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     HALE_ESTATE);

    fire(fx, EVENT_FIRING, "alertname=Gated", "host=b", (const char *)NULL);
    run_wait(fx, 2, "waiting", &r);
    store_run_fini(&r);
    assert_int_equal(
            runbooks_decide(fx->rbs, 2, false, "user:bob", NULL, "not now", NULL, NULL, &e), 0);
    run_wait(fx, 2, NULL, &r);
    assert_string_equal(r.outcome, "rejected");
    store_run_fini(&r);
    struct incident i;
    incident_get(fx, 2, &i);
    assert_string_equal(i.team, "ops");
    incident_fini(&i);
}

/* The pid of the running attempt of step name of run_id once it is stored, else 0. */
static pid_t running_pid(struct fixture *fx, int64_t run_id, const char *name)
{
    struct store_run_step *v = NULL;
    size_t n = 0;
    pid_t pid = 0;
    if (store_run_steps_list(fx->reader, run_id, &v, &n) < 0)
        return 0;
    for (size_t k = 0; k < n; k++) {
        if (strcmp(v[k].name, name) == 0 && strcmp(v[k].outcome, "running") == 0)
            pid = (pid_t)v[k].pid;
        store_run_step_fini(&v[k]);
    }
    free(v);
    return pid;
}

/* Runs the loop until no process of group pgid is left (20 s at most). */
static bool group_gone(struct fixture *fx, pid_t pgid)
{
    int64_t end = mono_ms() + 20000;
    while (proc_group_is_alive(pgid)) {
        if (mono_ms() > end)
            return false;
        uv_run(&fx->uv, UV_RUN_NOWAIT);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

/*
 * A crash mid-run: the restart marks it interrupted and escalates, and
 * kills the process group the step left; a waiting run waits on.
 */
static void test_runbook_restart_interrupts_and_keeps_gates(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Gated", "host=a", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    store_run_fini(&r);
    close_all(fx); /* a stop: the gate waits on in the store */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* A hale that dies by SIGKILL while a step runs (its pid stored). */
        uv_loop_init(&fx->uv);
        open_all(fx);
        fire(fx, EVENT_FIRING, "alertname=Long", (const char *)NULL);
        int64_t end = mono_ms() + 10000;
        while ((running_pid(fx, 2, "stuck") == 0 || !exists(fx->dir, "child.pid")) &&
               mono_ms() < end)
            uv_run(&fx->uv, UV_RUN_NOWAIT);
        kill(getpid(), SIGKILL);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    char *pid_text = read_file(fx->dir, "child.pid");
    pid_t child = (pid_t)strtol(pid_text, NULL, 10);
    free(pid_text);
    pid_t group = child > 1 ? getpgid(child) : -1;
    assert_true(group > 1 && group != getpgrp());
    assert_true(proc_group_is_alive(group)); /* the step outlived its hale */

    open_all(fx);
    assert_int_equal(runbooks_in_flight(fx->rbs), 1); /* the gate */
    /* The next start kills what the step left: its shell and the shell's child. */
    assert_true(group_gone(fx, group));
    char *words = xasprintf("step 1/1 stuck: its process group (pid %d), left by the stop, was "
                            "killed",
                            (int)group);
    int64_t end = mono_ms() + 20000;
    while (timeline_with(fx, 2, words) == 0 && mono_ms() < end) {
        uv_run(&fx->uv, UV_RUN_ONCE); /* the executor looks at the group again */
        drain(fx);
    }
    assert_int_equal(timeline_with(fx, 2, words), 1);
    free(words);
    fire(fx, EVENT_FIRING, "alertname=Other", (const char *)NULL); /* flushes the writes */
    run_wait(fx, 2, NULL, &r);
    assert_string_equal(r.outcome, "interrupted");
    store_run_fini(&r);
    assert_int_equal(steps_with(fx, 2, "stuck", "canceled"), 1);
    assert_int_equal(timeline_with(fx, 2, "was interrupted"), 1);
    struct incident i;
    incident_get(fx, 2, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
    run_wait(fx, 1, "waiting", &r);
    store_run_fini(&r);
    struct err e = {0};
    assert_int_equal(runbooks_decide(fx->rbs, 1, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     0);
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "completed");
    store_run_fini(&r);
}

static void restart(struct fixture *fx);

/* A pid found on start-up that another process has now (another start time) is left alone. */
static void test_runbook_restart_spares_a_reused_pid(void **state)
{
    struct fixture *fx = *state;
    pid_t other = fork();
    assert_true(other >= 0);
    if (other == 0) {
        setpgid(0, 0);
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    setpgid(other, other); /* either side may win the race: both ask the same */
    struct proc_stat st;
    while (proc_stat_read(other, &st) < 0 || st.pgrp != other)
        ;
    /* A run that was running when hale died, its step's pid now another process's. */
    struct store_run run = {.id = 1,
                            .runbook = "long",
                            .target = "long",
                            .actor = "hale",
                            .outcome = "running",
                            .step = 0,
                            .gate_step = -1,
                            .started_ms = 1000};
    labels_init(&run.labels);
    struct store_run_step step = {.run_id = 1,
                                  .seq = 1,
                                  .name = "stuck",
                                  .action = "run",
                                  .purpose = "remediate",
                                  .attempt = 1,
                                  .outcome = "running",
                                  .started_ms = 1000,
                                  .exit_status = -1,
                                  .pid = other,
                                  .pid_start = st.starttime + 1};
    struct store_batch *b = store_batch_new();
    store_batch_run(b, &run);
    store_batch_run_step(b, &step);
    store_submit(fx->st, b, NULL, NULL);
    drain(fx);
    restart(fx);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "interrupted");
    store_run_fini(&r);
    struct timespec ts = {0, (long)(PROC_KILL_GRACE_MS / 4) * 1000 * 1000};
    nanosleep(&ts, NULL); /* a SIGTERM would have come by now */
    int status = 0;
    assert_int_equal(waitpid(other, &status, WNOHANG), 0); /* still running */
    kill(other, SIGKILL);
    assert_int_equal(waitpid(other, &status, 0), other);
}

/* Restarts hale as a stop and a start do: what was durable is all the next start knows. */
static void restart(struct fixture *fx)
{
    close_all(fx); /* the loop runs until nothing is left on it, and serves again */
    open_all(fx);
    fire(fx, EVENT_FIRING, "alertname=Other", (const char *)NULL); /* runs the loop a while */
    drain(fx);
}

/* An incident opened while the executor stopped gets its run at the next start, once. */
static void test_runbook_opening_missed_at_stop_runs_at_start(void **state)
{
    struct fixture *fx = *state;
    runbooks_stop(fx->rbs); /* as a stop does: the checks and the API still feed the desk */
    fire(fx, EVENT_FIRING, "alertname=Careful", (const char *)NULL);
    drain(fx);
    restart(fx);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "completed");
    assert_int_equal(r.incident_id, 1);
    store_run_fini(&r);
    assert_true(exists(fx->dir, "fixed"));
    assert_int_equal(timeline_with(fx, 1, "hale restarted before its run started: it starts now"),
                     1);
    /* Its opening had its run: the next start starts nothing more. */
    restart(fx);
    assert_int_equal(store_run_get(fx->reader, 2, &r), HALE_ENOTFOUND);
}

static void act_done(int result, const struct incident *i, void *data)
{
    (void)i;
    *(int *)data = result + 1000;
}

/* Missed, and a person took it meanwhile: no run behind their back, it is escalated saying so. */
static void test_runbook_opening_missed_taken_by_a_person_escalates(void **state)
{
    struct fixture *fx = *state;
    runbooks_stop(fx->rbs);
    fire(fx, EVENT_FIRING, "alertname=Careful", (const char *)NULL);
    struct itsm_request rq = {.action = ITSM_ACK, .id = 1, .actor = "user:alice"};
    int done = 0;
    struct err e = {0};
    assert_int_equal(itsm_act(fx->desk, &rq, act_done, &done, &e), 0);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
    restart(fx);
    struct store_run r;
    assert_int_equal(store_run_get(fx->reader, 1, &r), HALE_ENOTFOUND);
    assert_int_equal(timeline_with(fx, 1,
                                   "hale restarted before its run started, and a person has "
                                   "taken the incident (acknowledged) since"),
                     1);
    assert_false(exists(fx->dir, "fixed"));
}

/* A second incident on a busy target waits for the run in flight, then gets its own. */
static void test_runbook_busy_target_queues(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Hang", "host=a", (const char *)NULL);
    fire(fx, EVENT_FIRING, "alertname=Hang", "host=b", (const char *)NULL);
    drain(fx);
    assert_int_equal(timeline_with(fx, 2, "runbook hang queued: run 1 of hang is in flight"), 1);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_int_equal(r.incident_id, 1);
    store_run_fini(&r);
    run_wait(fx, 2, NULL, &r);
    assert_string_equal(r.outcome, "failed");
    assert_int_equal(r.incident_id, 2);
    store_run_fini(&r);
    /* Resolved while it waited: no run. */
    fire(fx, EVENT_FIRING, "alertname=Hang", "host=c", (const char *)NULL);
    fire(fx, EVENT_FIRING, "alertname=Hang", "host=d", (const char *)NULL);
    fire(fx, EVENT_RESOLVED, "alertname=Hang", "host=d", (const char *)NULL);
    run_wait(fx, 3, NULL, &r);
    assert_int_equal(r.incident_id, 3);
    store_run_fini(&r);
    drain(fx);
    drain(fx);
    assert_int_equal(store_run_get(fx->reader, 4, &r), HALE_ENOTFOUND);
    assert_int_equal(runbooks_in_flight(fx->rbs), 0);
}

/* Two runs never work on one incident: a second is refused, whichever its runbook. */
static void test_runbook_one_run_per_incident(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Gated", "host=a", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    store_run_fini(&r);
    struct runbooks_start rq = {.runbook = "careful", .incident_id = 1, .actor = "user:alice"};
    int64_t id = 0;
    struct err e = {0};
    assert_int_equal(runbooks_start(fx->rbs, &rq, NULL, NULL, &id, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "run 1 is in flight on incident 1"));
    assert_int_equal(runbooks_in_flight(fx->rbs), 1);
    assert_false(exists(fx->dir, "fixed"));
}

/* Runs the loop until run id has n attempts of step name that failed. */
static void attempts_wait(struct fixture *fx, int64_t id, const char *name, size_t n)
{
    int64_t end = mono_ms() + 20000;
    while (steps_with(fx, id, name, "failed") < n) {
        if (mono_ms() > end)
            fail_msg("run %lld: step %s did not fail %zu times", (long long)id, name, n);
        uv_run(&fx->uv, UV_RUN_ONCE);
    }
}

/*
 * Fixed meanwhile (resolved by a person, or its events all ended while the
 * run was in charge): no more remediation, not even a retry; the verify
 * step proves the state of things.
 */
static void test_runbook_fixed_meanwhile_skips_to_verify(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Persistent", "host=a", (const char *)NULL);
    attempts_wait(fx, 1, "fix", 1);
    struct itsm_request rq = {.action = ITSM_RESOLVE, .id = 1, .actor = "user:alice"};
    int done = 0;
    struct err e = {0};
    assert_int_equal(itsm_act(fx->desk, &rq, act_done, &done, &e), 0);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    store_run_fini(&r);
    assert_true(lines_of(fx->dir, "fix-1.log") < 6);
    assert_int_equal(steps_with(fx, 1, "more", "skipped"), 1);
    assert_false(exists(fx->dir, "more-fixed"));
    assert_int_equal(fx->check_runs, 1);
    assert_int_equal(timeline_with(fx, 1,
                                   "incident 1 resolved: its remediation is skipped, verify "
                                   "step prove proves it"),
                     2);

    fire(fx, EVENT_FIRING, "alertname=Persistent", "host=b", (const char *)NULL);
    attempts_wait(fx, 2, "fix", 1);
    fire(fx, EVENT_RESOLVED, "alertname=Persistent", "host=b", (const char *)NULL);
    run_wait(fx, 2, NULL, &r);
    store_run_fini(&r);
    assert_true(lines_of(fx->dir, "fix-2.log") < 6);
    assert_int_equal(steps_with(fx, 2, "more", "skipped"), 1);
    assert_false(exists(fx->dir, "more-fixed"));
    assert_int_equal(fx->check_runs, 2);
    assert_int_equal(timeline_with(fx, 2, "the events of incident 2 all ended"), 2);
}

/* A gate that just expired says so, before its row is durable and after. */
static void test_runbook_answer_after_expiry_says_so(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Hasty", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    store_run_fini(&r);
    int64_t end = mono_ms() + 20000;
    while (runbooks_in_flight(fx->rbs) > 0 && mono_ms() < end)
        uv_run(&fx->uv, UV_RUN_ONCE);
    struct err e = {0};
    assert_int_equal(runbooks_decide(fx->rbs, 1, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     HALE_ESTATE);
    assert_non_null(strstr(e.msg, "run 1 no longer waits for approval"));
    assert_null(strstr(e.msg, "waiting"));
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "expired");
    store_run_fini(&r);
    assert_int_equal(runbooks_decide(fx->rbs, 1, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     HALE_ESTATE);
    assert_non_null(strstr(e.msg, "nobody answered its gate in time, so it expired"));
}

/* A stopping executor takes no request: the API answers 503, not a conflict. */
static void test_runbook_requests_while_stopping(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Gated", "host=a", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    store_run_fini(&r);
    runbooks_stop(fx->rbs);
    struct err e = {0};
    assert_int_equal(runbooks_decide(fx->rbs, 1, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     -ESHUTDOWN);
    struct runbooks_start rq = {.runbook = "careful", .actor = "user:alice"};
    int64_t id = 0;
    assert_int_equal(runbooks_start(fx->rbs, &rq, NULL, NULL, &id, &e), -ESHUTDOWN);
    assert_int_equal(runbooks_enable(fx->rbs, "careful", "user:alice", NULL, NULL, NULL, &e),
                     -ESHUTDOWN);
}

/* Resolved and reopened before the remediation: the run goes on for the new opening, alone. */
static void test_runbook_reopen_before_remediation_goes_on(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Careful", (const char *)NULL);
    fire(fx, EVENT_RESOLVED, "alertname=Careful", (const char *)NULL);
    fire(fx, EVENT_FIRING, "alertname=Careful", (const char *)NULL);
    struct incident i;
    incident_get(fx, 1, &i);
    assert_int_equal(i.reopened, 1);
    incident_fini(&i);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "completed");
    store_run_fini(&r);
    assert_true(exists(fx->dir, "fixed"));
    drain(fx);
    assert_int_equal(store_run_get(fx->reader, 2, &r), HALE_ENOTFOUND);
}

/* Reopened while the run was at work: the new opening gets its run when that one ends. */
static void test_runbook_reopen_during_remediation_runs_after(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Hang", (const char *)NULL);
    int64_t end = mono_ms() + 20000;
    while (steps_with(fx, 1, "stuck", "running") == 0 && mono_ms() < end)
        uv_run(&fx->uv, UV_RUN_ONCE);
    struct itsm_request rq = {.action = ITSM_RESOLVE, .id = 1, .actor = "user:alice"};
    int done = 0;
    struct err e = {0};
    assert_int_equal(itsm_act(fx->desk, &rq, act_done, &done, &e), 0);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
    fire(fx, EVENT_FIRING, "alertname=Hang", (const char *)NULL);
    struct incident i;
    incident_get(fx, 1, &i);
    assert_int_equal(i.reopened, 1);
    incident_fini(&i);
    struct store_run r;
    run_wait(fx, 1, NULL, &r);
    store_run_fini(&r);
    run_wait(fx, 2, NULL, &r);
    assert_int_equal(r.incident_id, 1);
    store_run_fini(&r);
    assert_int_equal(timeline_with(fx, 1, "reopened while run 1 of hang was at work"), 1);
    drain(fx);
    assert_int_equal(store_run_get(fx->reader, 3, &r), HALE_ENOTFOUND);
}

/* Healed only when the last verify passed after a repair: a verify alone proves no repair. */
static void test_runbook_healed_needs_repair_and_last_verify(void **state)
{
    struct fixture *fx = *state;
    struct store_run r;
    fire(fx, EVENT_FIRING, "alertname=Proofs", "host=a", "fix=no", (const char *)NULL);
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "completed"); /* nothing was repaired */
    store_run_fini(&r);
    assert_int_equal(timeline_with(fx, 1, "healed by"), 0);
    struct incident i;
    incident_get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
}

/* A gate whose incident was resolved while hale was down is cancelled at the start, saying so. */
static void test_runbook_gate_resolved_while_down_is_canceled(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Gated", "host=a", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    store_run_fini(&r);
    runbooks_stop(fx->rbs); /* hale goes down; the events still resolve the incident */
    fire(fx, EVENT_RESOLVED, "alertname=Gated", "host=a", (const char *)NULL);
    drain(fx);
    restart(fx); /* its end is durable by then: nothing of it waits on */
    assert_int_equal(store_run_get(fx->reader, 1, &r), 0);
    assert_string_equal(r.outcome, "canceled");
    store_run_fini(&r);
    assert_int_equal(steps_with(fx, 1, "ask", "canceled"), 1);
    assert_int_equal(timeline_with(fx, 1, "resolved while hale was down"), 2);
    assert_int_equal(runbooks_in_flight(fx->rbs), 0);
    assert_false(exists(fx->dir, "gated-fixed"));
}

/* The time a run spent before its gate still counts after a restart. */
static void test_runbook_time_spent_survives_a_restart(void **state)
{
    struct fixture *fx = *state;
    fire(fx, EVENT_FIRING, "alertname=Gated", "host=a", (const char *)NULL);
    struct store_run r;
    run_wait(fx, 1, "waiting", &r);
    runbooks_stop(fx->rbs);
    /* As if its steps before the gate took a day: its 15 min timeout is spent. */
    r.started_ms -= 24ll * 3600 * 1000;
    struct store_batch *b = store_batch_new();
    store_batch_run(b, &r);
    store_submit(fx->st, b, NULL, NULL);
    store_run_fini(&r);
    drain(fx);
    restart(fx);
    struct err e = {0};
    assert_int_equal(runbooks_decide(fx->rbs, 1, true, "user:alice", NULL, NULL, NULL, NULL, &e),
                     0);
    run_wait(fx, 1, NULL, &r);
    assert_string_equal(r.outcome, "failed");
    assert_string_equal(r.reason, "the run timed out after 15 min");
    store_run_fini(&r);
    assert_false(exists(fx->dir, "gated-fixed"));
}

/* Incidents dealt with are found by id, and forgotten once they cannot open again. */
static void test_runbook_seen_is_bounded_and_indexed(void **state)
{
    struct fixture *fx = *state;
    size_t before = runbook__seen_count(fx->rbs);
    fire(fx, EVENT_FIRING, "alertname=Other1", (const char *)NULL);
    fire(fx, EVENT_FIRING, "alertname=Other2", (const char *)NULL);
    drain(fx);
    assert_int_equal(runbook__seen_count(fx->rbs), before + 2);
    /* Closed: forgotten at once. */
    fire(fx, EVENT_RESOLVED, "alertname=Other1", (const char *)NULL);
    struct itsm_request rq = {.action = ITSM_CLOSE, .id = 1, .actor = "user:alice"};
    int done = 0;
    struct err e = {0};
    assert_int_equal(itsm_act(fx->desk, &rq, act_done, &done, &e), 0);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
    assert_int_equal(done, 1000);
    assert_int_equal(runbook__seen_count(fx->rbs), before + 1);
    /* Resolved: kept while it may reopen, forgotten past the window. */
    fire(fx, EVENT_RESOLVED, "alertname=Other2", (const char *)NULL);
    drain(fx);
    runbook__seen_sweep(fx->rbs, runbook__now_ms());
    assert_int_equal(runbook__seen_count(fx->rbs), before + 1);
    runbook__seen_sweep(fx->rbs,
                        runbook__now_ms() + (int64_t)fx->config->incidents.reopen_within_ms + 1000);
    assert_int_equal(runbook__seen_count(fx->rbs), before);

    /* Many: each found by its id, as forgetting some moves others in the index. */
    for (int64_t id = 100; id < 5100; id++)
        assert_false(runbook__seen(fx->rbs, id, 0));
    for (int64_t id = 100; id < 5100; id += 3) {
        struct incident gone = {.id = id, .state = INCIDENT_CLOSED};
        runbook__seen_update(fx->rbs, &gone);
    }
    for (int64_t id = 100; id < 5100; id++)
        if ((id - 100) % 3)
            assert_true(runbook__seen(fx->rbs, id, 0));
    for (int64_t id = 100; id < 5100; id += 3)
        assert_false(runbook__seen(fx->rbs, id, 0)); /* forgotten: new again */
    assert_true(runbook__seen(fx->rbs, 101, 0));
    assert_false(runbook__seen(fx->rbs, 101, 1)); /* its reopening is a new opening */
}

int main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
            TEST(test_runbook_retry_then_fallback_heals),
            TEST(test_runbook_fallback_failing_escalates),
            TEST(test_runbook_timeout_kills_the_group),
            TEST(test_runbook_label_is_inert),
            TEST(test_runbook_guard_trips),
            TEST(test_runbook_flapping_check_starts_nothing),
            TEST(test_runbook_cancel_before_remediate),
            TEST(test_runbook_approval),
            TEST(test_runbook_restart_interrupts_and_keeps_gates),
            TEST(test_runbook_restart_spares_a_reused_pid),
            TEST(test_runbook_opening_missed_at_stop_runs_at_start),
            TEST(test_runbook_opening_missed_taken_by_a_person_escalates),
            TEST(test_runbook_busy_target_queues),
            TEST(test_runbook_one_run_per_incident),
            TEST(test_runbook_fixed_meanwhile_skips_to_verify),
            TEST(test_runbook_answer_after_expiry_says_so),
            TEST(test_runbook_requests_while_stopping),
            TEST(test_runbook_reopen_before_remediation_goes_on),
            TEST(test_runbook_reopen_during_remediation_runs_after),
            TEST(test_runbook_healed_needs_repair_and_last_verify),
            TEST(test_runbook_gate_resolved_while_down_is_canceled),
            TEST(test_runbook_time_spent_survives_a_restart),
            TEST(test_runbook_seen_is_bounded_and_indexed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
