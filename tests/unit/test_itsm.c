/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/itsm/itsm.c: the lifecycle rules, the priority matrix and
 * categories, and the desk on a real SQLite store: incidents opened,
 * updated, resolved and reopened by check events (which reach the desk as
 * every event does, through the engine), people's actions with
 * their refusals and audit entries, incidents and requests opened by
 * hand, problems from recurring incidents and worked by people through
 * their lifecycle, and the desk picking up open incidents after a restart.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "engine/fingerprint.h"
#include "itsm/internal.h"
#include "itsm/itsm.h"
#include "store/internal.h"
#include "store/store.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    uv_loop_t uv;
    struct config *config;
    struct store *st;
    struct itsm *desk;
    struct engine *engine;
    struct store_reader *reader;
};

static const char *const config_text =
        "incidents: {problem_after: 3}\n"
        "teams: [{name: web}]\n"
        "checks:\n"
        "  - {name: web-health, type: http, url: 'http://127.0.0.1:1/', team: web,\n"
        "     impact: high, labels: {service: web}}\n"
        "  - {name: root-disk, type: disk, path: /, impact: low}\n";

static void desk_open(struct fixture *fx)
{
    struct store_options o = {.data_dir = fx->dir, .uv = &fx->uv};
    struct err e = {0};
    if (store_open(&o, &fx->st, &e) != 0 || itsm_new(fx->st, fx->config, &fx->desk, &e) != 0 ||
        store_reader_open(fx->st, &fx->reader, &e) != 0)
        fail_msg("open: %s", e.msg);
    fx->engine = engine_new(fx->config, fx->desk, NULL, fx->st);
}

static void desk_close(struct fixture *fx)
{
    itsm_close_reader(fx->desk);
    store_reader_close(fx->reader);
    store_close(fx->st);
    engine_free(fx->engine);
    itsm_free(fx->desk);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    fx->st = NULL;
    fx->engine = NULL;
    fx->desk = NULL;
    fx->reader = NULL;
}

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/hale-itsm-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    struct config_diags d = {0};
    assert_int_equal(
            config_load_buffer("hale.yaml", config_text, strlen(config_text), &fx->config, &d), 0);
    config_diags_fini(&d);
    desk_open(fx);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    desk_close(fx);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    config_unref(fx->config);
    testutil_rm_rf(fx->dir);
    free(fx);
    return 0;
}

static void flag_any(int result, void *data)
{
    (void)result;
    *(int *)data = 1;
}

/*
 * Runs the loop until every batch submitted so far is written or refused
 * (they commit in order). Its own empty batch may be refused where a test
 * injects commit failures: whether it shares a group with the batch before
 * it depends on when the writer wakes.
 */
static void settle(struct fixture *fx)
{
    int done = 0;
    store_submit(fx->st, store_batch_new(), flag_any, &done);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
}

static const struct config_check *check(struct fixture *fx, const char *name)
{
    return config_check_find(fx->config, name);
}

/* A hard state change of a check, as the runner reports it, through the engine's seam. */
static void event(struct fixture *fx, const char *name, enum check_status s, int64_t time_ms)
{
    struct detect_event ev = {
            .check = name,
            .kind = DETECT_EVENT_STATE_CHANGE,
            .new_status = s,
            .hard = true,
            .time_ms = (uint64_t)time_ms,
            .summary = (char[]){"HTTP 503"},
    };
    engine_check_event(fx->engine, check(fx, name), &ev);
    settle(fx);
}

/* The fingerprint a check's events have: its labels and check=NAME. */
static const char *check_fp(struct fixture *fx, const char *name, char buf[ENGINE_FINGERPRINT_MAX])
{
    struct labels l;
    event_check_labels(check(fx, name), &l);
    engine_fingerprint_format(engine_fingerprint(&l, NULL), buf);
    labels_fini(&l);
    return buf;
}

static void get(struct fixture *fx, int64_t id, struct incident *ret)
{
    assert_int_equal(store_incident_get(fx->reader, id, ret), 0);
}

static size_t timeline_count(struct fixture *fx, int64_t id, enum timeline_kind kind)
{
    struct timeline_entry *v = NULL;
    size_t n = 0, count = 0;
    assert_int_equal(store_timeline_list(fx->reader, id, &v, &n), 0);
    for (size_t i = 0; i < n; i++) {
        count += v[i].kind == kind;
        timeline_entry_fini(&v[i]);
    }
    free(v);
    return count;
}

static int64_t now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

/* ---- rules ---- */

static void expect_refusal(enum incident_state from, enum incident_state to, const char *text)
{
    struct incident i = {.id = 42, .state = from};
    struct err e = {0};
    assert_int_equal(itsm_transition_check(&i, to, &e), HALE_ESTATE);
    if (!strstr(e.msg, text))
        fail_msg("%s -> %s: \"%s\" lacks \"%s\"", incident_state_name(from),
                 incident_state_name(to), e.msg, text);
}

/*
 * The incidents held are found by id through an index that must follow
 * every removal (the last incident moves into the hole) and every growth
 * of the table: with thousands held, each one is still found, as itself,
 * and those gone are not.
 */
static void test_itsm_held_incidents_found_by_id(void **state)
{
    struct fixture *fx = *state;
    struct itsm *x = fx->desk;
    enum {
        N = 3000
    };
    int64_t base = 1000000; /* clear of any id the desk holds already */
    size_t before = x->n_live;
    for (int64_t k = 0; k < N; k++) {
        struct incident i = {.id = base + k * 7, .state = INCIDENT_NEW};
        i.fingerprint = xasprintf("index-%lld", (long long)k);
        labels_init(&i.labels);
        /* Every third resolved long ago: the next prune lets it go. */
        if (k % 3 == 0) {
            i.state = INCIDENT_RESOLVED;
            i.resolved_ms = 1;
        }
        itsm__live_add(x, &i);
    }
    itsm__live_prune(x, now_ms());
    assert_int_equal(x->n_live, before + N - N / 3);
    for (int64_t k = 0; k < N; k++) {
        struct incident *held = itsm__live_find(x, base + k * 7);
        if (k % 3 == 0) {
            assert_null(held);
            continue;
        }
        assert_non_null(held);
        assert_int_equal(held->id, base + k * 7);
        assert_true(held >= x->live && held < x->live + x->n_live); /* itself, not a stale copy */
    }
    assert_null(itsm__live_find(x, base + 1)); /* never held */
}

static void test_itsm_lifecycle_rules(void **state)
{
    (void)state;
    struct incident i = {.id = 42};
    const struct {
        enum incident_state from, to;
    } allowed[] = {
            {INCIDENT_NEW, INCIDENT_ACKNOWLEDGED},         {INCIDENT_NEW, INCIDENT_IN_PROGRESS},
            {INCIDENT_ACKNOWLEDGED, INCIDENT_IN_PROGRESS}, {INCIDENT_NEW, INCIDENT_RESOLVED},
            {INCIDENT_IN_PROGRESS, INCIDENT_RESOLVED},     {INCIDENT_RESOLVED, INCIDENT_CLOSED},
    };
    for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++) {
        i.state = allowed[k].from;
        assert_int_equal(itsm_transition_check(&i, allowed[k].to, NULL), 0);
    }
    expect_refusal(INCIDENT_CLOSED, INCIDENT_RESOLVED, "incident 42 is closed");
    expect_refusal(INCIDENT_ACKNOWLEDGED, INCIDENT_ACKNOWLEDGED, "already acknowledged");
    expect_refusal(INCIDENT_RESOLVED, INCIDENT_ACKNOWLEDGED, "open a new one");
    /* One a check opened comes back by itself. */
    struct incident by_check = {.id = 42, .state = INCIDENT_RESOLVED, .check = (char *)"web"};
    struct err e = {0};
    assert_int_equal(itsm_transition_check(&by_check, INCIDENT_ACKNOWLEDGED, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "reopens by itself"));
    /* So does one any other event opened. */
    struct incident by_event = {
            .id = 42, .state = INCIDENT_RESOLVED, .fingerprint = (char *)"8df5785e55293561"};
    assert_int_equal(itsm_transition_check(&by_event, INCIDENT_ACKNOWLEDGED, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "reopens by itself"));
    expect_refusal(INCIDENT_NEW, INCIDENT_CLOSED, "resolve it before closing it");
    expect_refusal(INCIDENT_IN_PROGRESS, INCIDENT_CLOSED, "resolve it before closing it");
    expect_refusal(INCIDENT_RESOLVED, INCIDENT_RESOLVED, "already resolved");
    expect_refusal(INCIDENT_RESOLVED, INCIDENT_NEW, "cannot become new by hand");
}

static void test_itsm_priority_and_category(void **state)
{
    struct fixture *fx = *state;
    const struct config_incidents *c = &fx->config->incidents;
    assert_int_equal(itsm_priority(c, CONFIG_IMPACT_HIGH, INCIDENT_SEVERITY_CRITICAL), 1);
    assert_int_equal(itsm_priority(c, CONFIG_IMPACT_HIGH, INCIDENT_SEVERITY_WARNING), 2);
    assert_int_equal(itsm_priority(c, CONFIG_IMPACT_MEDIUM, INCIDENT_SEVERITY_CRITICAL), 2);
    assert_int_equal(itsm_priority(c, CONFIG_IMPACT_LOW, INCIDENT_SEVERITY_INFO), 5);
    assert_int_equal(itsm_category_of(check(fx, "web-health")), INCIDENT_CATEGORY_NETWORK);
    assert_int_equal(itsm_category_of(check(fx, "root-disk")), INCIDENT_CATEGORY_HARDWARE);
    struct config_check named = *check(fx, "root-disk");
    named.category = "data";
    assert_int_equal(itsm_category_of(&named), INCIDENT_CATEGORY_DATA);
    named.category = "billing"; /* free text: the kind decides */
    assert_int_equal(itsm_category_of(&named), INCIDENT_CATEGORY_HARDWARE);
}

/* ---- problems ---- */

static void expect_problem_refusal(enum problem_state from, struct itsm_problem_change c, int code,
                                   const char *text)
{
    struct problem p = {.id = 7, .state = from};
    struct err e = {0};
    assert_int_equal(itsm_problem_change_check(&p, &c, &e), code);
    if (!strstr(e.msg, text))
        fail_msg("%s: \"%s\" lacks \"%s\"", problem_state_name(from), e.msg, text);
}

static void test_itsm_problem_lifecycle_rules(void **state)
{
    (void)state;
    struct problem p = {.id = 7};
    const struct {
        enum problem_state from, to;
    } allowed[] = {
            {PROBLEM_OPEN, PROBLEM_KNOWN_ERROR},
            {PROBLEM_OPEN, PROBLEM_RESOLVED},
            {PROBLEM_KNOWN_ERROR, PROBLEM_RESOLVED},
            {PROBLEM_RESOLVED, PROBLEM_OPEN},
    };
    for (size_t k = 0; k < sizeof(allowed) / sizeof(allowed[0]); k++) {
        p.state = allowed[k].from;
        struct itsm_problem_change c = {.has_state = true,
                                        .state = allowed[k].to,
                                        .root_cause = "pool too small",
                                        .note = "back on Monday"};
        assert_int_equal(itsm_problem_change_check(&p, &c, NULL), 0);
    }
    /* A root cause given before is enough for a known error. */
    p.state = PROBLEM_OPEN;
    p.root_cause = (char *)"pool too small";
    assert_int_equal(
            itsm_problem_change_check(
                    &p,
                    &(struct itsm_problem_change){.has_state = true, .state = PROBLEM_KNOWN_ERROR},
                    NULL),
            0);
    /* Texts alone, on a problem that is not resolved; a note on a resolved one. */
    assert_int_equal(itsm_problem_change_check(
                             &p, &(struct itsm_problem_change){.workaround = "restart"}, NULL),
                     0);
    p.state = PROBLEM_RESOLVED;
    assert_int_equal(itsm_problem_change_check(
                             &p, &(struct itsm_problem_change){.note = "post-mortem"}, NULL),
                     0);

    struct itsm_problem_change to_known = {.has_state = true, .state = PROBLEM_KNOWN_ERROR};
    struct itsm_problem_change to_open = {.has_state = true, .state = PROBLEM_OPEN};
    struct itsm_problem_change to_resolved = {.has_state = true, .state = PROBLEM_RESOLVED};
    expect_problem_refusal(PROBLEM_OPEN, (struct itsm_problem_change){0}, -EINVAL,
                           "say what to change");
    expect_problem_refusal(PROBLEM_OPEN, to_known, -EINVAL, "root_cause: a known error");
    expect_problem_refusal(PROBLEM_OPEN, to_open, HALE_ESTATE, "problem 7 is already open");
    expect_problem_refusal(PROBLEM_KNOWN_ERROR, to_open, HALE_ESTATE, "not back to open");
    expect_problem_refusal(PROBLEM_RESOLVED, to_open, -EINVAL, "note: reopening problem 7");
    expect_problem_refusal(PROBLEM_RESOLVED, to_resolved, HALE_ESTATE, "already resolved");
    expect_problem_refusal(PROBLEM_RESOLVED, to_known, HALE_ESTATE, "reopen it");
    expect_problem_refusal(PROBLEM_RESOLVED, (struct itsm_problem_change){.root_cause = "x"},
                           HALE_ESTATE, "problem 7 is resolved: reopen it");
    expect_problem_refusal(PROBLEM_OPEN, (struct itsm_problem_change){.note = ""}, -EINVAL,
                           "note is empty");
    expect_problem_refusal(PROBLEM_OPEN, (struct itsm_problem_change){.workaround = ""}, -EINVAL,
                           "workaround is empty");
}

/* ---- the desk ---- */

static void test_itsm_check_opens_updates_resolves_reopens(void **state)
{
    struct fixture *fx = *state;
    int64_t t = now_ms();
    event(fx, "web-health", CHECK_STATUS_WARNING, t);
    struct incident i;
    get(fx, 1, &i);
    char fp[ENGINE_FINGERPRINT_MAX];
    assert_string_equal(i.title, "web-health is warning");
    assert_string_equal(i.fingerprint, check_fp(fx, "web-health", fp));
    assert_string_equal(i.check, "web-health");
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_WARNING);
    assert_int_equal(i.priority, 2); /* high impact, medium urgency */
    assert_int_equal(i.category, INCIDENT_CATEGORY_NETWORK);
    assert_string_equal(i.team, "web");
    assert_string_equal(labels_get(&i.labels, "service"), "web");
    assert_string_equal(labels_get(&i.labels, "check"), "web-health");
    assert_string_equal(i.service, "web");
    assert_int_equal(i.opened_ms, t);
    assert_int_equal(i.events, 1);
    incident_fini(&i);

    /* Worse now: the same incident, more urgent. */
    event(fx, "web-health", CHECK_STATUS_CRITICAL, t + 1000);
    get(fx, 1, &i);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_CRITICAL);
    assert_int_equal(i.priority, 1);
    incident_fini(&i);
    assert_int_equal(timeline_count(fx, 1, TIMELINE_EVENT), 2);

    event(fx, "web-health", CHECK_STATUS_OK, t + 2000);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    assert_string_equal(i.resolved_by, "hale");
    assert_int_equal(i.resolved_ms, t + 2000);
    incident_fini(&i);

    /* Back within the reopen window: reopened, not a new incident. */
    event(fx, "web-health", CHECK_STATUS_CRITICAL, t + 3000);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_int_equal(i.reopened, 1);
    assert_null(i.resolved_by);
    assert_int_equal(i.resolved_ms, 0);
    incident_fini(&i);
    assert_int_equal(store_incident_get(fx->reader, 2, &i), HALE_ENOTFOUND);

    /* Resolved longer ago than the window: the next failure is a new incident. */
    int64_t old = now_ms() - 2 * 3600 * 1000;
    event(fx, "web-health", CHECK_STATUS_OK, old);
    event(fx, "web-health", CHECK_STATUS_CRITICAL, now_ms());
    get(fx, 2, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_int_equal(i.reopened, 0);
    incident_fini(&i);

    /* The hard state changes are kept for availability. */
    struct store_check_state *cs = NULL;
    size_t n = 0;
    assert_int_equal(store_check_states_list(fx->reader, "web-health", 0, &cs, &n), 0);
    assert_int_equal(n, 6);
    for (size_t k = 0; k < n; k++)
        store_check_state_fini(&cs[k]);
    free(cs);
}

struct acted {
    int calls;
    int result;
    enum incident_state state;
};

static void on_acted(int result, const struct incident *i, void *data)
{
    struct acted *a = data;
    a->calls++;
    a->result = result;
    a->state = i->state;
}

/* Acts and waits until it is durable; returns what itsm_act() returned. */
static int act(struct fixture *fx, struct itsm_request rq, struct err *e)
{
    struct acted a = {0};
    rq.actor = "user:alice";
    rq.origin = "127.0.0.1";
    int r = itsm_act(fx->desk, &rq, on_acted, &a, e);
    if (r < 0) {
        settle(fx);
        assert_int_equal(a.calls, 0); /* a refusal never calls back */
        return r;
    }
    settle(fx);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, 0);
    return 0;
}

static void test_itsm_people_work_an_incident(void **state)
{
    struct fixture *fx = *state;
    event(fx, "root-disk", CHECK_STATUS_CRITICAL, now_ms());
    struct err e = {0};
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_CLOSE, .id = 1}, &e),
                     HALE_ESTATE);
    assert_non_null(strstr(e.msg, "resolve it before closing it"));
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ACK, .id = 1}, &e), 0);
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ACK, .id = 1}, &e), HALE_ESTATE);
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_NOTE, .id = 1, .text = ""}, &e),
                     -EINVAL);
    assert_int_equal(
            act(fx, (struct itsm_request){.action = ITSM_NOTE, .id = 1, .text = "disk full"}, &e),
            0);
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ASSIGN, .id = 1}, &e), -EINVAL);
    assert_int_equal(act(fx,
                         (struct itsm_request){
                                 .action = ITSM_ASSIGN, .id = 1, .team = "web", .assignee = "bob"},
                         &e),
                     0);
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_IN_PROGRESS);
    assert_string_equal(i.team, "web");
    assert_string_equal(i.assignee, "bob");
    assert_true(i.acknowledged_ms > 0);
    incident_fini(&i);
    assert_int_equal(
            act(fx,
                (struct itsm_request){.action = ITSM_RESOLVE, .id = 1, .cause = "logs not rotated"},
                &e),
            0);
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_CLOSE, .id = 1}, &e), 0);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_CLOSED);
    assert_string_equal(i.resolved_by, "alice");
    assert_string_equal(i.root_cause, "logs not rotated");
    assert_true(i.closed_ms >= i.resolved_ms);
    incident_fini(&i);
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_NOTE, .id = 1, .text = "x"}, &e),
                     HALE_ESTATE);
    assert_non_null(strstr(e.msg, "incident 1 is closed"));
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ACK, .id = 99}, &e),
                     HALE_ENOTFOUND);
    assert_string_equal(e.msg, "no incident 99");
    assert_int_equal(timeline_count(fx, 1, TIMELINE_NOTE), 1);
    assert_int_equal(timeline_count(fx, 1, TIMELINE_ASSIGNMENT), 1);

    /* Every accepted action is in the audit log, with who and from where. */
    struct audit_entry *a = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(fx->reader, &(struct store_audit_query){0}, &a, &n), 0);
    assert_int_equal(n, 5);
    const char *actions[] = {"incident.ack", "incident.note", "incident.assign", "incident.resolve",
                             "incident.close"};
    for (size_t k = 0; k < n; k++) {
        assert_string_equal(a[k].action, actions[k]);
        assert_string_equal(a[k].actor, "user:alice");
        assert_string_equal(a[k].target, "incident:1");
        assert_string_equal(a[k].origin, "127.0.0.1");
        audit_entry_fini(&a[k]);
    }
    free(a);

    /* Closed: the check failing again opens a new incident. */
    event(fx, "root-disk", CHECK_STATUS_OK, now_ms());
    event(fx, "root-disk", CHECK_STATUS_CRITICAL, now_ms());
    get(fx, 2, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
}

/* Two actions in one loop turn: the second is judged on the first, not on the store. */
static void test_itsm_actions_see_changes_not_yet_on_disk(void **state)
{
    struct fixture *fx = *state;
    event(fx, "root-disk", CHECK_STATUS_CRITICAL, now_ms());
    struct err e = {0};
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_RESOLVE, .id = 1}, &e), 0);
    struct acted closed = {0}, noted = {0};
    struct itsm_request close = {.action = ITSM_CLOSE, .id = 1, .actor = "user:a", .origin = "x"};
    struct itsm_request note = {
            .action = ITSM_NOTE, .id = 1, .text = "late", .actor = "user:b", .origin = "x"};
    assert_int_equal(itsm_act(fx->desk, &close, on_acted, &closed, &e), 0);
    assert_int_equal(itsm_act(fx->desk, &note, on_acted, &noted, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "is closed"));
    assert_int_equal(itsm_act(fx->desk, &close, on_acted, &noted, &e), HALE_ESTATE);
    settle(fx);
    assert_int_equal(closed.calls, 1);
    assert_int_equal(noted.calls, 0);
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_CLOSED);
    incident_fini(&i);
    assert_int_equal(timeline_count(fx, 1, TIMELINE_NOTE), 0);
}

/* SQLite's backend, but its commit fails on the calls the test chooses. */
static struct store_backend faulty_backend;
static unsigned faulty_commits, faulty_fail_mask;

static int faulty_commit(struct store_db *db, struct err *e)
{
    unsigned call = faulty_commits++;
    if (call < 32 && (faulty_fail_mask & (1u << call)))
        return err_setf(e, HALE_ESTORE, "injected commit failure %u", call);
    return store__sqlite.commit(db, e);
}

/* A write that fails leaves the desk as the store is, so a retry is judged on what is on disk. */
static void test_itsm_failed_writes_take_the_stores_copy_back(void **state)
{
    struct fixture *fx = *state;
    desk_close(fx);
    faulty_backend = store__sqlite;
    faulty_backend.commit = faulty_commit;
    faulty_commits = 0;
    faulty_fail_mask = 0;
    struct store_options o = {.data_dir = fx->dir, .uv = &fx->uv};
    struct err e = {0};
    assert_int_equal(store__open_backend(&o, &faulty_backend, &fx->st, &e), 0);
    assert_int_equal(itsm_new(fx->st, fx->config, &fx->desk, &e), 0);
    assert_int_equal(store_reader_open(fx->st, &fx->reader, &e), 0);
    fx->engine = engine_new(fx->config, fx->desk, NULL, fx->st);

    /*
     * The opening fails (the group of the check's state and its event, then
     * each alone): there is no incident 1.
     */
    faulty_commits = 0;
    faulty_fail_mask = 1u << 0 | 1u << 1 | 1u << 2;
    event(fx, "root-disk", CHECK_STATUS_CRITICAL, now_ms());
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ACK, .id = 1}, &e),
                     HALE_ENOTFOUND);

    /* The next failure opens it for real. */
    faulty_fail_mask = 0;
    event(fx, "root-disk", CHECK_STATUS_CRITICAL, now_ms());
    struct incident i;
    get(fx, 2, &i);
    incident_fini(&i);

    /* An ack that fails is not acknowledged: the retry is accepted. */
    faulty_commits = 0;
    faulty_fail_mask = 1u << 0 | 1u << 1;
    struct acted a = {0};
    struct itsm_request ack = {.action = ITSM_ACK, .id = 2, .actor = "user:a", .origin = "x"};
    assert_int_equal(itsm_act(fx->desk, &ack, on_acted, &a, &e), 0);
    settle(fx);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, HALE_ESTORE);
    faulty_fail_mask = 0;
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ACK, .id = 2}, &e), 0);
    get(fx, 2, &i);
    assert_int_equal(i.state, INCIDENT_ACKNOWLEDGED);
    incident_fini(&i);
}

static void test_itsm_recurring_incidents_open_a_problem(void **state)
{
    struct fixture *fx = *state;
    int64_t t = now_ms() - 3 * 3600 * 1000; /* each resolution older than the reopen window */
    for (int k = 0; k < 4; k++) {
        event(fx, "web-health", CHECK_STATUS_CRITICAL, t + k * 2000);
        event(fx, "web-health", CHECK_STATUS_OK, t + k * 2000 + 1000);
    }
    struct problem *p = NULL;
    size_t n = 0;
    assert_int_equal(store_problems_list(fx->reader, &p, &n), 0);
    assert_int_equal(n, 1);
    char fp[ENGINE_FINGERPRINT_MAX];
    assert_string_equal(p[0].fingerprint, check_fp(fx, "web-health", fp));
    assert_string_equal(p[0].title, "web-health keeps recurring");
    assert_int_equal(p[0].state, PROBLEM_OPEN);
    assert_int_equal(p[0].incidents, 4);
    int64_t pid = p[0].id;
    problem_fini(&p[0]);
    free(p);
    struct incident i;
    for (int64_t id = 1; id <= 4; id++) {
        get(fx, id, &i);
        assert_int_equal(i.problem_id, pid); /* the first two linked when it opened */
        incident_fini(&i);
    }
}

/* Four failures of web-health, each resolved long ago: problem 1 links them (problem_after 3). */
static void recur(struct fixture *fx, int times, int64_t t)
{
    for (int k = 0; k < times; k++) {
        event(fx, "web-health", CHECK_STATUS_CRITICAL, t + k * 2000);
        event(fx, "web-health", CHECK_STATUS_OK, t + k * 2000 + 1000);
    }
}

static void get_problem(struct fixture *fx, int64_t id, struct problem *ret)
{
    assert_int_equal(store_problem_get(fx->reader, id, ret), 0);
}

struct problem_acted {
    int calls;
    int result;
    enum problem_state state;
};

static void on_problem_done(int result, const struct problem *p, void *data)
{
    struct problem_acted *a = data;
    a->calls++;
    a->result = result;
    a->state = p->state;
}

/* Changes problem id and waits until it is durable; returns what itsm_problem_update() did. */
static int change(struct fixture *fx, int64_t id, struct itsm_problem_change c, struct err *e)
{
    struct itsm_problem_request rq = {
            .id = id, .actor = "user:alice", .origin = "127.0.0.1", .change = c};
    struct problem_acted a = {0};
    int r = itsm_problem_update(fx->desk, &rq, on_problem_done, &a, e);
    settle(fx);
    if (r < 0) {
        assert_int_equal(a.calls, 0); /* a refusal never calls back */
        return r;
    }
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, 0);
    return 0;
}

static size_t problem_entries(struct fixture *fx, int64_t id, enum timeline_kind kind,
                              const char *text)
{
    struct timeline_entry *v = NULL;
    size_t n = 0, count = 0;
    assert_int_equal(store_problem_timeline_list(fx->reader, id, &v, &n), 0);
    for (size_t i = 0; i < n; i++) {
        count += v[i].kind == kind && (!text || strstr(v[i].text, text));
        timeline_entry_fini(&v[i]);
    }
    free(v);
    return count;
}

/* The audit actions on target, in order, joined by spaces. */
static char *audit_actions(struct fixture *fx, const char *target)
{
    struct audit_entry *a = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(fx->reader, &(struct store_audit_query){0}, &a, &n), 0);
    char *out = xstrdup("");
    for (size_t k = 0; k < n; k++) {
        if (strcmp(a[k].target, target) == 0) {
            char *more = xasprintf("%s%s%s", out, *out ? " " : "", a[k].action);
            free(out);
            out = more;
            assert_string_equal(a[k].actor, "user:alice");
            assert_string_equal(a[k].origin, "127.0.0.1");
        }
        audit_entry_fini(&a[k]);
    }
    free(a);
    return out;
}

static void test_itsm_people_work_a_problem(void **state)
{
    struct fixture *fx = *state;
    recur(fx, 3, now_ms() - 3 * 3600 * 1000);
    struct err e = {0};
    assert_int_equal(change(fx, 9, (struct itsm_problem_change){.note = "x"}, &e), HALE_ENOTFOUND);
    assert_string_equal(e.msg, "no problem 9");
    struct itsm_problem_change known = {.has_state = true, .state = PROBLEM_KNOWN_ERROR};
    assert_int_equal(change(fx, 1, known, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "root_cause"));
    known.root_cause = "the pool is too small for the Monday peak";
    known.workaround = "restart web at 08:55";
    assert_int_equal(change(fx, 1, known, &e), 0);
    struct problem p;
    get_problem(fx, 1, &p);
    assert_int_equal(p.state, PROBLEM_KNOWN_ERROR);
    assert_string_equal(p.root_cause, "the pool is too small for the Monday peak");
    assert_string_equal(p.workaround, "restart web at 08:55");
    assert_int_equal(p.resolved_ms, 0);
    problem_fini(&p);

    /* Resolved, then back: a reopening says why. */
    assert_int_equal(
            change(fx, 1,
                   (struct itsm_problem_change){.has_state = true, .state = PROBLEM_RESOLVED}, &e),
            0);
    get_problem(fx, 1, &p);
    assert_int_equal(p.state, PROBLEM_RESOLVED);
    assert_true(p.resolved_ms > 0);
    problem_fini(&p);
    struct itsm_problem_change reopen = {.has_state = true, .state = PROBLEM_OPEN};
    assert_int_equal(change(fx, 1, reopen, &e), -EINVAL);
    reopen.note = "the new pool size did not hold";
    assert_int_equal(change(fx, 1, reopen, &e), 0);
    get_problem(fx, 1, &p);
    assert_int_equal(p.state, PROBLEM_OPEN);
    assert_int_equal(p.resolved_ms, 0);
    problem_fini(&p);

    /* Its timeline says what happened, and the audit log who did it from where. */
    assert_int_equal(problem_entries(fx, 1, TIMELINE_STATE, "opened: 3 incidents"), 1);
    assert_int_equal(problem_entries(fx, 1, TIMELINE_STATE, "open -> known_error"), 1);
    assert_int_equal(problem_entries(fx, 1, TIMELINE_STATE, "known_error -> resolved"), 1);
    assert_int_equal(problem_entries(fx, 1, TIMELINE_STATE, "resolved -> open"), 1);
    assert_int_equal(problem_entries(fx, 1, TIMELINE_NOTE, "root cause: the pool"), 1);
    assert_int_equal(problem_entries(fx, 1, TIMELINE_NOTE, "the new pool size did not hold"), 1);
    char *actions = audit_actions(fx, "problem:1");
    assert_string_equal(actions, "problem.root_cause problem.workaround problem.known_error "
                                 "problem.resolve problem.reopen problem.note");
    free(actions);
}

/* A resolved problem collects nothing more; the fingerprint's next recurrences make a new one. */
static void test_itsm_resolved_problem_stops_collecting(void **state)
{
    struct fixture *fx = *state;
    int64_t t = now_ms() - 3 * 3600 * 1000;
    recur(fx, 3, t);
    struct err e = {0};
    assert_int_equal(
            change(fx, 1,
                   (struct itsm_problem_change){.has_state = true, .state = PROBLEM_RESOLVED}, &e),
            0);
    /* Two more within the window: too few on their own, and not the resolved problem's. */
    recur(fx, 2, t + 10000);
    struct incident i;
    get(fx, 5, &i);
    assert_int_equal(i.problem_id, 0);
    incident_fini(&i);
    struct problem p;
    get_problem(fx, 1, &p);
    assert_int_equal(p.incidents, 3);
    problem_fini(&p);
    assert_int_equal(store_problem_get(fx->reader, 2, &p), HALE_ENOTFOUND);

    /* The third after the resolution opens problem 2 with those three only. */
    recur(fx, 1, t + 20000);
    get_problem(fx, 2, &p);
    assert_int_equal(p.state, PROBLEM_OPEN);
    assert_int_equal(p.incidents, 3);
    problem_fini(&p);
    for (int64_t id = 1; id <= 6; id++) {
        get(fx, id, &i);
        assert_int_equal(i.problem_id, id <= 3 ? 1 : 2);
        incident_fini(&i);
    }
    /* Problem 1 cannot come back while problem 2 collects its incidents. */
    assert_int_equal(change(fx, 1,
                            (struct itsm_problem_change){
                                    .has_state = true, .state = PROBLEM_OPEN, .note = "again"},
                            &e),
                     HALE_ESTATE);
    assert_non_null(strstr(e.msg, "problem 2 collects"));
}

struct opened {
    int calls;
    int result;
    int64_t id;
};

static void on_opened(int result, const struct incident *i, void *data)
{
    struct opened *o = data;
    o->calls++;
    o->result = result;
    o->id = i->id;
}

/* Opens by hand as alice and waits until it is durable; the new incident's id. */
static int64_t open_by_hand(struct fixture *fx, struct itsm_opening o)
{
    o.actor = "user:alice";
    o.origin = "127.0.0.1";
    struct opened got = {0};
    struct err e = {0};
    assert_int_equal(itsm_open(fx->desk, &o, on_opened, &got, &e), 0);
    settle(fx);
    assert_int_equal(got.calls, 1);
    assert_int_equal(got.result, 0);
    return got.id;
}

static void test_itsm_people_open_incidents_and_requests(void **state)
{
    struct fixture *fx = *state;
    struct labels l;
    labels_init(&l);
    labels_set(&l, "service", "payroll", NULL);
    int64_t id = open_by_hand(fx, (struct itsm_opening){.type = INCIDENT_TYPE_REQUEST,
                                                        .title = "  Reset the VPN  token ",
                                                        .description = "for bob, lost his phone",
                                                        .team = "web",
                                                        .impact = CONFIG_IMPACT_LOW,
                                                        .severity = INCIDENT_SEVERITY_INFO,
                                                        .category = INCIDENT_CATEGORY_DATA,
                                                        .labels = &l});
    labels_fini(&l);
    struct incident i;
    get(fx, id, &i);
    assert_int_equal(i.type, INCIDENT_TYPE_REQUEST);
    assert_string_equal(i.title, "  Reset the VPN  token ");
    assert_string_equal(i.fingerprint, "manual:request:reset the vpn token");
    assert_int_equal(i.priority, 5); /* low impact, low urgency */
    assert_int_equal(i.category, INCIDENT_CATEGORY_DATA);
    assert_string_equal(i.team, "web");
    assert_string_equal(labels_get(&i.labels, "service"), "payroll");
    assert_null(i.check);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
    assert_int_equal(timeline_count(fx, id, TIMELINE_STATE), 1);
    assert_int_equal(timeline_count(fx, id, TIMELINE_NOTE), 1);
    char *target = xasprintf("incident:%lld", (long long)id);
    char *actions = audit_actions(fx, target);
    assert_string_equal(actions, "request.open");
    free(actions);
    free(target);

    /* An empty title is refused, naming the field. */
    struct err e = {0};
    struct itsm_opening blank = {.title = " ", .actor = "user:alice"};
    assert_int_equal(itsm_open(fx->desk, &blank, on_opened, NULL, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "title"));

    /* It works like any incident, resolved by the person. */
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_RESOLVE, .id = id}, &e), 0);
    get(fx, id, &i);
    assert_string_equal(i.resolved_by, "alice");
    incident_fini(&i);
}

/* A check's events never touch what people opened, even under the same words. */
static void test_itsm_checks_never_touch_hand_opened_incidents(void **state)
{
    struct fixture *fx = *state;
    int64_t id = open_by_hand(fx, (struct itsm_opening){.type = INCIDENT_TYPE_INCIDENT,
                                                        .title = "web-health",
                                                        .impact = CONFIG_IMPACT_HIGH,
                                                        .severity = INCIDENT_SEVERITY_CRITICAL});
    event(fx, "web-health", CHECK_STATUS_CRITICAL, now_ms());
    event(fx, "web-health", CHECK_STATUS_OK, now_ms());
    struct incident i;
    get(fx, id, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_int_equal(i.priority, 1);
    incident_fini(&i);
    get(fx, id + 1, &i);
    char fp[ENGINE_FINGERPRINT_MAX];
    assert_string_equal(i.fingerprint, check_fp(fx, "web-health", fp));
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    incident_fini(&i);
}

/* The same trouble reported by hand again and again is a problem too. */
static void test_itsm_recurring_reports_open_a_problem(void **state)
{
    struct fixture *fx = *state;
    const char *titles[] = {"The payroll export is slow", "the payroll export  is slow",
                            "THE PAYROLL EXPORT IS SLOW"};
    for (int k = 0; k < 3; k++)
        open_by_hand(fx, (struct itsm_opening){.title = titles[k]});
    struct problem p;
    get_problem(fx, 1, &p);
    assert_string_equal(p.fingerprint, "manual:incident:the payroll export is slow");
    assert_string_equal(p.title, "THE PAYROLL EXPORT IS SLOW keeps recurring");
    assert_int_equal(p.incidents, 3);
    problem_fini(&p);
    /* Requests recur by nature: the same request three times is no problem. */
    for (int k = 0; k < 3; k++)
        open_by_hand(fx, (struct itsm_opening){.type = INCIDENT_TYPE_REQUEST,
                                               .title = "a VPN token for a newcomer"});
    assert_int_equal(store_problem_get(fx->reader, 2, &p), HALE_ENOTFOUND);
}

static void test_itsm_restart_keeps_open_incidents(void **state)
{
    struct fixture *fx = *state;
    event(fx, "web-health", CHECK_STATUS_CRITICAL, now_ms());
    desk_close(fx);
    desk_open(fx);
    event(fx, "web-health", CHECK_STATUS_CRITICAL, now_ms());
    struct incident i;
    assert_int_equal(store_incident_get(fx->reader, 2, &i), HALE_ENOTFOUND);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
    assert_int_equal(timeline_count(fx, 1, TIMELINE_EVENT), 2);
    event(fx, "web-health", CHECK_STATUS_OK, now_ms());
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    incident_fini(&i);
}

/* A problem change or an opening that fails leaves nothing behind: a retry is judged on disk. */
static void test_itsm_failed_problem_and_opening_writes(void **state)
{
    struct fixture *fx = *state;
    recur(fx, 3, now_ms() - 3 * 3600 * 1000);
    desk_close(fx);
    faulty_backend = store__sqlite;
    faulty_backend.commit = faulty_commit;
    faulty_commits = 0;
    faulty_fail_mask = 0;
    struct store_options o = {.data_dir = fx->dir, .uv = &fx->uv};
    struct err e = {0};
    assert_int_equal(store__open_backend(&o, &faulty_backend, &fx->st, &e), 0);
    assert_int_equal(itsm_new(fx->st, fx->config, &fx->desk, &e), 0);
    assert_int_equal(store_reader_open(fx->st, &fx->reader, &e), 0);
    fx->engine = engine_new(fx->config, fx->desk, NULL, fx->st);

    /* A resolution that fails: the problem is still open, and still collects. */
    faulty_commits = 0;
    faulty_fail_mask = 1u << 0 | 1u << 1;
    struct problem_acted a = {0};
    struct itsm_problem_request rq = {
            .id = 1,
            .actor = "user:alice",
            .origin = "127.0.0.1",
            .change = {.has_state = true, .state = PROBLEM_RESOLVED},
    };
    assert_int_equal(itsm_problem_update(fx->desk, &rq, on_problem_done, &a, &e), 0);
    settle(fx);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.result, HALE_ESTORE);
    faulty_fail_mask = 0;
    struct problem p;
    get_problem(fx, 1, &p);
    assert_int_equal(p.state, PROBLEM_OPEN);
    problem_fini(&p);
    recur(fx, 1, now_ms() - 2 * 3600 * 1000);
    get_problem(fx, 1, &p);
    assert_int_equal(p.incidents, 4);
    problem_fini(&p);
    char *actions = audit_actions(fx, "problem:1");
    assert_string_equal(actions, ""); /* nothing of the failed change */
    free(actions);
    /* The retry is accepted. */
    assert_int_equal(change(fx, 1, rq.change, &e), 0);

    /* An opening that fails leaves no incident; the next one is whole. */
    faulty_commits = 0;
    faulty_fail_mask = 1u << 0 | 1u << 1;
    struct opened got = {0};
    struct itsm_opening op = {.title = "printer on fire", .actor = "user:alice", .origin = "x"};
    assert_int_equal(itsm_open(fx->desk, &op, on_opened, &got, &e), 0);
    settle(fx);
    assert_int_equal(got.result, HALE_ESTORE);
    struct incident i;
    assert_int_equal(store_incident_get(fx->reader, got.id, &i), HALE_ENOTFOUND);
    assert_int_equal(act(fx, (struct itsm_request){.action = ITSM_ACK, .id = got.id}, &e),
                     HALE_ENOTFOUND);
    faulty_fail_mask = 0;
    int64_t id = open_by_hand(fx, (struct itsm_opening){.title = "printer on fire"});
    get(fx, id, &i);
    assert_string_equal(i.title, "printer on fire");
    incident_fini(&i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_itsm_lifecycle_rules),
            cmocka_unit_test(test_itsm_problem_lifecycle_rules),
            cmocka_unit_test_setup_teardown(test_itsm_priority_and_category, setup, teardown),
            cmocka_unit_test_setup_teardown(test_itsm_check_opens_updates_resolves_reopens, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_people_work_an_incident, setup, teardown),
            cmocka_unit_test_setup_teardown(test_itsm_actions_see_changes_not_yet_on_disk, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_failed_writes_take_the_stores_copy_back,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_itsm_recurring_incidents_open_a_problem, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_people_work_a_problem, setup, teardown),
            cmocka_unit_test_setup_teardown(test_itsm_resolved_problem_stops_collecting, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_people_open_incidents_and_requests, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_checks_never_touch_hand_opened_incidents,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_itsm_recurring_reports_open_a_problem, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_failed_problem_and_opening_writes, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_itsm_held_incidents_found_by_id, setup, teardown),
            cmocka_unit_test_setup_teardown(test_itsm_restart_keeps_open_incidents, setup,
                                            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
