/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/engine/engine.c with the incident desk on a real SQLite
 * store: every verdict as the desk applies it (new and routed, duplicate
 * counted once listed, join, symptom, root cause with the downstream
 * incidents adopted, resolve, ignore, silenced), one batch per submit
 * answered once durable, a failed commit leaving the desk as the store is,
 * Alertmanager's repeated deliveries changing nothing, an outage of a
 * thousand events correlated in one submit in either order, a check's
 * flapping note, a runbook in charge (and the executor's calls: charge,
 * timeline entries, heal, escalate), an open incident from before the
 * engine found again by its check, and the events of an incident people
 * resolved or closed no longer held by it.
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
#include <sqlite3.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "engine/fingerprint.h"
#include "engine/silences.h"
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
    struct silences *silences;
    struct engine *engine;
    struct store_reader *reader;
};

#define WEB_SERVICES 20

/* db and twenty web services that need it; routes for db and for deploys; a staging silence. */
static char *config_text(void)
{
    char *services = xstrdup("");
    for (int k = 1; k <= WEB_SERVICES; k++) {
        char *more = xasprintf("%s  - {name: web-%02d, depends_on: [db]}\n", services, k);
        free(services);
        services = more;
    }
    char *text = xasprintf(
            "incidents: {problem_after: 3}\n"
            "teams: [{name: web}, {name: dba}]\n"
            "runbooks:\n"
            "  - {name: restart-web, team: web, steps: [{run: [/bin/true]}]}\n"
            "checks:\n"
            "  - {name: web-health, type: http, url: 'http://127.0.0.1:1/', team: web,\n"
            "     impact: high, labels: {service: web-01}}\n"
            "services:\n"
            "  - {name: db}\n"
            "%s"
            "routes:\n"
            "  - {match: '{service=\"db\"}', team: dba, priority: P2}\n"
            "  - {match: '{alertname=\"Deploy\"}', runbook: restart-web}\n"
            "silences:\n"
            "  - {match: '{env=\"staging\"}', ends: '2999-01-01T00:00:00Z', comment: moving}\n",
            services);
    free(services);
    return text;
}

static void desk_open_with(struct fixture *fx, const struct store_backend *backend)
{
    struct store_options o = {.data_dir = fx->dir, .uv = &fx->uv};
    struct err e = {0};
    if (store__open_backend(&o, backend, &fx->st, &e) != 0 ||
        itsm_new(fx->st, fx->config, &fx->desk, &e) != 0 ||
        silences_new(fx->st, fx->config, &fx->silences, &e) != 0 ||
        store_reader_open(fx->st, &fx->reader, &e) != 0)
        fail_msg("open: %s", e.msg);
    fx->engine = engine_new(fx->config, fx->desk, fx->silences, fx->st);
}

static void desk_close(struct fixture *fx)
{
    itsm_close_reader(fx->desk);
    store_reader_close(fx->reader);
    store_close(fx->st);
    engine_free(fx->engine);
    silences_free(fx->silences);
    itsm_free(fx->desk);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    fx->st = NULL;
    fx->engine = NULL;
    fx->silences = NULL;
    fx->desk = NULL;
    fx->reader = NULL;
}

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/hale-engine-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    char *text = config_text();
    struct config_diags d = {0};
    if (config_load_buffer("hale.yaml", text, strlen(text), &fx->config, &d) != 0)
        fail_msg("config: %s", d.n ? d.v[0].msg : "?");
    config_diags_fini(&d);
    free(text);
    desk_open_with(fx, &store__sqlite);
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

static int64_t now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

/* ---- events ---- */

/* An event from the events API: labels as "name=value" words, then NULL. */
static void event_make(struct event *ev, enum event_status status, enum incident_severity sev, ...)
{
    event_init(ev);
    ev->source = EVENT_SOURCE_API;
    ev->status = status;
    ev->severity = sev;
    ev->sender = xstrdup("user:robot");
    va_list ap;
    va_start(ap, sev);
    for (const char *kv; (kv = va_arg(ap, const char *));) {
        const char *eq = strchr(kv, '=');
        char *name = xstrndup(kv, (size_t)(eq - kv));
        labels_set(&ev->labels, name, eq + 1, NULL);
        free(name);
    }
    va_end(ap);
    free(ev->summary);
    ev->summary = xasprintf("%s is %s", labels_get(&ev->labels, "service") ?: "it",
                            status == EVENT_FIRING ? "down" : "back");
}

/* What a submit's callback heard. */
struct heard {
    int calls;
    int result;
    size_t n;
    enum engine_verdict verdict[8]; /* of the first events */
    int64_t incident[8];
    char reason[8][256];
};

static void heard_cb(int result, const struct engine_outcome *v, size_t n, void *data)
{
    struct heard *h = data;
    h->calls++;
    h->result = result;
    h->n = n;
    for (size_t k = 0; k < n && k < 8; k++) {
        h->verdict[k] = v[k].verdict;
        h->incident[k] = v[k].incident_id;
        snprintf(h->reason[k], sizeof(h->reason[k]), "%s", v[k].reason);
    }
}

/* Submits the n events of v (taken) and runs the loop until the submit is durable. */
static struct heard submit(struct fixture *fx, struct event *v, size_t n)
{
    struct heard h = {0};
    assert_int_equal(engine_submit(fx->engine, v, n, heard_cb, &h), 0);
    assert_int_equal(h.calls, 0); /* not before it is durable */
    while (h.calls == 0)
        uv_run(&fx->uv, UV_RUN_ONCE);
    assert_int_equal(h.calls, 1);
    return h;
}

/* Every outcome of a submit, into arrays the caller sized. */
struct heard_all {
    struct heard h;
    enum engine_verdict *verdict;
    int64_t *incident;
};

static void heard_all_cb(int result, const struct engine_outcome *v, size_t n, void *data)
{
    struct heard_all *a = data;
    heard_cb(result, v, n, &a->h);
    for (size_t k = 0; k < n; k++) {
        a->verdict[k] = v[k].verdict;
        a->incident[k] = v[k].incident_id;
    }
}

/* As submit(), with every event's verdict and incident. */
static struct heard submit_outcomes(struct fixture *fx, struct event *v, size_t n,
                                    enum engine_verdict *ret_verdict, int64_t *ret_incident)
{
    struct heard_all a = {.verdict = ret_verdict, .incident = ret_incident};
    assert_int_equal(engine_submit(fx->engine, v, n, heard_all_cb, &a), 0);
    while (a.h.calls == 0)
        uv_run(&fx->uv, UV_RUN_ONCE);
    assert_int_equal(a.h.calls, 1);
    return a.h;
}

/* One event, as event_make() takes it; its outcome. */
#define SUBMIT_ONE(fx, status, sev, ...)                                \
    ({                                                                  \
        struct event *one_ = xcalloc(1, sizeof(*one_));                 \
        event_make(one_, status, sev, __VA_ARGS__, (const char *)NULL); \
        submit(fx, one_, 1);                                            \
    })

static void get(struct fixture *fx, int64_t id, struct incident *ret)
{
    assert_int_equal(store_incident_get(fx->reader, id, ret), 0);
}

/* Entries of incident id's timeline whose text has `text`. */
static size_t timeline_with(struct fixture *fx, int64_t id, const char *text)
{
    struct timeline_entry *v = NULL;
    size_t n = 0, count = 0;
    assert_int_equal(store_timeline_list(fx->reader, id, &v, &n), 0);
    for (size_t i = 0; i < n; i++) {
        count += strstr(v[i].text, text) != NULL;
        timeline_entry_fini(&v[i]);
    }
    free(v);
    return count;
}

/* Events recorded (of incident id; 0: all). */
static size_t events_recorded(struct fixture *fx, int64_t id, const char *verdict)
{
    struct store_event *v = NULL;
    size_t n = 0, count = 0;
    assert_int_equal(
            store_events_list(fx->reader, &(struct store_event_query){.incident_id = id}, &v, &n),
            0);
    for (size_t i = 0; i < n; i++) {
        count += !verdict || strcmp(v[i].verdict, verdict) == 0;
        store_event_fini(&v[i]);
    }
    free(v);
    return count;
}

/* The events received by incident id (0: all): rows, and the repeats counted on them. */
static int64_t events_counted(struct fixture *fx, int64_t id)
{
    struct store_event *v = NULL;
    size_t n = 0;
    int64_t count = 0;
    assert_int_equal(
            store_events_list(fx->reader, &(struct store_event_query){.incident_id = id}, &v, &n),
            0);
    for (size_t i = 0; i < n; i++) {
        count += 1 + v[i].repeats;
        store_event_fini(&v[i]);
    }
    free(v);
    return count;
}

/* ---- the verdicts ---- */

static void test_engine_new_incident_is_routed_and_recorded(void **state)
{
    struct fixture *fx = *state;
    uint64_t commits = store__commits(fx->st);
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=DbDown",
                                "service=db");
    assert_int_equal(store__commits(fx->st), commits + 1);
    assert_int_equal(h.result, 0);
    assert_int_equal(h.verdict[0], ENGINE_NEW);
    assert_int_equal(h.incident[0], 1);
    struct incident i;
    get(fx, 1, &i);
    assert_string_equal(i.title, "db is down");
    assert_string_equal(i.service, "db");
    assert_string_equal(i.team, "dba");
    assert_int_equal(i.priority, 2); /* the route's */
    assert_null(i.runbook);
    assert_null(i.check);
    assert_int_equal(i.events, 1);
    assert_int_equal(strlen(i.fingerprint), 16);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "firing: db is down"), 1);
    assert_int_equal(timeline_with(fx, 1, "opened as P2 (software); team dba"), 1);

    struct store_event *v = NULL;
    size_t n = 0;
    assert_int_equal(store_events_list(fx->reader, &(struct store_event_query){0}, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].incident_id, 1);
    assert_string_equal(v[0].verdict, "new");
    assert_string_equal(v[0].source, "api");
    assert_string_equal(v[0].sender, "user:robot");
    assert_string_equal(v[0].reason, "new incident");
    store_event_fini(&v[0]);
    free(v);

    /* A route's runbook is kept on the incident for the executor. */
    h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Deploy");
    get(fx, h.incident[0], &i);
    assert_string_equal(i.runbook, "restart-web");
    assert_int_equal(i.priority, 3); /* the matrix: medium impact, warning */
    incident_fini(&i);
}

static void test_engine_repeats_are_counted_not_listed(void **state)
{
    struct fixture *fx = *state;
    for (int k = 0; k < 5; k++) {
        struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING,
                                    "alertname=QueueLong", "queue=mail");
        assert_int_equal(h.verdict[0], k == 0 ? ENGINE_NEW : ENGINE_DUPLICATE);
        assert_int_equal(h.incident[0], 1);
    }
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.events, 5);
    assert_int_equal(i.repeats, 4);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_WARNING);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "repeated"), 1);
    /* The four repeats are counted on the row of the event they repeat. */
    assert_int_equal(events_recorded(fx, 1, "duplicate"), 0);
    assert_int_equal(events_recorded(fx, 1, NULL), 1);
    assert_int_equal(events_counted(fx, 1), 5);

    /* Worse now: the event that opened it sets the severity, on the timeline. */
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=QueueLong", "queue=mail");
    get(fx, 1, &i);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_CRITICAL);
    assert_int_equal(i.priority, 2);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "severity warning -> critical"), 1);
    /* It says something else: a row of its own, which the next repeats count on. */
    assert_int_equal(events_recorded(fx, 1, "duplicate"), 1);
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=QueueLong", "queue=mail");
    assert_int_equal(events_recorded(fx, 1, NULL), 2);
    assert_int_equal(events_counted(fx, 1), 7);
}

/*
 * The event that opened an incident sets its severity, lower too, and the
 * priority its route gives: a duplicate is routed when it changes the
 * severity, only then.
 */
static void test_engine_duplicate_sets_severity_and_priority(void **state)
{
    struct fixture *fx = *state;
    const enum incident_severity sev[] = {INCIDENT_SEVERITY_CRITICAL, INCIDENT_SEVERITY_CRITICAL,
                                          INCIDENT_SEVERITY_WARNING, INCIDENT_SEVERITY_CRITICAL};
    const unsigned priority[] = {2, 2, 3, 2}; /* the matrix: medium impact */
    for (size_t k = 0; k < 4; k++) {
        struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, sev[k], "alertname=QueueLong", "queue=mail");
        assert_int_equal(h.verdict[0], k == 0 ? ENGINE_NEW : ENGINE_DUPLICATE);
        struct incident i;
        get(fx, 1, &i);
        assert_int_equal(i.severity, sev[k]);
        assert_int_equal(i.priority, priority[k]);
        incident_fini(&i);
    }
    assert_int_equal(timeline_with(fx, 1, "severity critical -> warning"), 1);
}

/* Alertmanager sends the same alert again (group_interval, HA pairs, retries): nothing changes. */
/* The events of incident id as stored, newest first, into *ret_v; returns how many. */
static size_t events_of(struct fixture *fx, int64_t id, struct store_event **ret_v)
{
    size_t n = 0;
    assert_int_equal(store_events_list(fx->reader, &(struct store_event_query){.incident_id = id},
                                       ret_v, &n),
                     0);
    return n;
}

static void events_free(struct store_event *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        store_event_fini(&v[k]);
    free(v);
}

/* N repeats in one submit are one row's count (+N in one update), read back as such. */
static void test_engine_repeats_in_a_batch_count_on_one_row(void **state)
{
    struct fixture *fx = *state;
    struct event *v = xcalloc(6, sizeof(*v));
    for (size_t k = 0; k < 6; k++) {
        event_make(&v[k], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong",
                   "queue=mail", (const char *)NULL);
        v[k].received_ms = 1000 + (int64_t)k;
    }
    struct heard h = submit(fx, v, 6);
    assert_int_equal(h.result, 0);
    assert_int_equal(h.verdict[0], ENGINE_NEW);
    for (size_t k = 1; k < 6; k++) {
        assert_int_equal(h.verdict[k], ENGINE_DUPLICATE);
        assert_int_equal(h.incident[k], 1);
    }
    struct store_event *e;
    size_t n = events_of(fx, 1, &e);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].repeats, 5);
    assert_int_equal(e[0].last_ms, 1005);
    assert_int_equal(e[0].received_ms, 1000);
    assert_string_equal(e[0].verdict, "new");
    events_free(e, n);
}

/* Another annotation is another event: a row of its own, and the repeats count on it. */
static void test_engine_changed_event_is_a_new_row(void **state)
{
    struct fixture *fx = *state;
    struct event *v = xcalloc(4, sizeof(*v));
    for (size_t k = 0; k < 4; k++) {
        event_make(&v[k], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong",
                   "queue=mail", (const char *)NULL);
        if (k >= 2)
            labels_set(&v[k].annotations, "value", "42", NULL);
    }
    assert_int_equal(submit(fx, v, 4).result, 0);
    struct store_event *e;
    size_t n = events_of(fx, 1, &e);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].verdict, "duplicate"); /* the newest: the changed one */
    assert_string_equal(labels_get(&e[0].annotations, "value"), "42");
    assert_int_equal(e[0].repeats, 1);
    assert_int_equal(e[1].repeats, 1);
    events_free(e, n);
    /* The first content again is a change too: back to a row of its own. */
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong", "queue=mail");
    n = events_of(fx, 1, &e);
    assert_int_equal(n, 3);
    assert_int_equal(e[0].repeats, 0);
    events_free(e, n);
}

/* Ids and contents survive a restart: the next repeat counts on the same row. */
static void test_engine_repeats_count_on_the_same_row_after_a_restart(void **state)
{
    struct fixture *fx = *state;
    for (int k = 0; k < 3; k++)
        SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong",
                   "queue=mail");
    struct store_event *e;
    size_t n = events_of(fx, 1, &e);
    assert_int_equal(n, 1);
    int64_t row = e[0].id;
    assert_int_equal(e[0].repeats, 2);
    events_free(e, n);

    desk_close(fx);
    desk_open_with(fx, &store__sqlite);
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong",
                                "queue=mail");
    assert_int_equal(h.verdict[0], ENGINE_DUPLICATE);
    /* A new event elsewhere takes the next id, not one handed out before. */
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Other");
    n = events_of(fx, 1, &e);
    assert_int_equal(n, 1);
    assert_int_equal(e[0].id, row);
    assert_int_equal(e[0].repeats, 3);
    events_free(e, n);
    n = events_of(fx, 2, &e);
    assert_int_equal(n, 1);
    assert_true(e[0].id > row);
    events_free(e, n);
}

/*
 * A database from before repeats were counted (schema 9): its rows say
 * nothing of their content, so the first repeat after the upgrade is kept
 * whole, and the repeats after it count on that row.
 */
static void test_engine_repeats_after_an_upgrade_from_schema_9(void **state)
{
    struct fixture *fx = *state;
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong", "queue=mail");
    desk_close(fx);
    char *path = xasprintf("%s/hale.db", fx->dir);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE events DROP COLUMN repeats;"
                                  "ALTER TABLE events DROP COLUMN last_ms;"
                                  "ALTER TABLE events DROP COLUMN content;"
                                  "PRAGMA user_version = 9",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    free(path);

    desk_open_with(fx, &store__sqlite);
    for (int k = 0; k < 3; k++) {
        struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING,
                                    "alertname=QueueLong", "queue=mail");
        assert_int_equal(h.verdict[0], ENGINE_DUPLICATE);
        assert_int_equal(h.incident[0], 1);
    }
    struct store_event *e;
    size_t n = events_of(fx, 1, &e);
    assert_int_equal(n, 2); /* newest first */
    assert_int_equal(e[0].repeats, 2);
    assert_true(e[0].id > e[1].id);
    assert_int_equal(e[1].repeats, 0);
    assert_int_equal(e[1].content, 0);
    events_free(e, n);
}

/* Resolved, then firing again: the refiring is an event of its own, not a repeat. */
static void test_engine_refiring_after_a_resolve_is_a_new_row(void **state)
{
    struct fixture *fx = *state;
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=A", "service=web-01");
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=B", "service=web-01");
    SUBMIT_ONE(fx, EVENT_RESOLVED, INCIDENT_SEVERITY_WARNING, "alertname=A", "service=web-01");
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=A",
                                "service=web-01");
    assert_int_equal(h.incident[0], 1);
    struct store_event *e;
    size_t n = events_of(fx, 1, &e);
    assert_int_equal(n, 4);
    for (size_t k = 0; k < n; k++)
        assert_int_equal(e[k].repeats, 0);
    events_free(e, n);
}

/* n events of fingerprints "alertname=F<k>" for k in [0, n), firing or resolved. */
static struct event *many(size_t n, enum event_status status)
{
    struct event *v = xcalloc(n, sizeof(*v));
    for (size_t k = 0; k < n; k++) {
        char name[32];
        snprintf(name, sizeof(name), "alertname=F%zu", k);
        event_make(&v[k], status, INCIDENT_SEVERITY_WARNING, name, (const char *)NULL);
    }
    return v;
}

/* Thousands of fingerprints held: each is found (and let go) by its own, whatever moves. */
static void test_engine_many_fingerprints_held_are_found_by_hash(void **state)
{
    struct fixture *fx = *state;
    enum {
        N = 3000
    };
    struct outcomes {
        int64_t incident[N];
        enum engine_verdict verdict[N];
    } *first = xcalloc(1, sizeof(*first)), *again = xcalloc(1, sizeof(*again));
    struct heard h = submit_outcomes(fx, many(N, EVENT_FIRING), N, first->verdict, first->incident);
    assert_int_equal(h.result, 0);
    /* The odd ones end: their fingerprints go, the last ones move into their places. */
    struct event *ends = xcalloc(N / 2, sizeof(*ends));
    for (size_t k = 0; k < N / 2; k++) {
        char name[32];
        snprintf(name, sizeof(name), "alertname=F%zu", 2 * k + 1);
        event_make(&ends[k], EVENT_RESOLVED, INCIDENT_SEVERITY_WARNING, name, (const char *)NULL);
    }
    assert_int_equal(submit(fx, ends, N / 2).result, 0);
    h = submit_outcomes(fx, many(N, EVENT_FIRING), N, again->verdict, again->incident);
    assert_int_equal(h.result, 0);
    for (size_t k = 0; k < N; k++) {
        assert_int_equal(first->verdict[k], ENGINE_NEW);
        /* The even ones still fire on their incidents; the odd ones come back on theirs. */
        assert_int_equal(again->verdict[k], k % 2 ? ENGINE_NEW : ENGINE_DUPLICATE);
        assert_int_equal(again->incident[k], first->incident[k]);
    }
    free(first);
    free(again);
}

/* The second event of a submit is decided on the incident the first opened. */
static void test_engine_view_sees_what_the_submit_opened(void **state)
{
    struct fixture *fx = *state;
    struct event *v = xcalloc(3, sizeof(*v));
    event_make(&v[0], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=A", "service=web-01",
               (const char *)NULL);
    event_make(&v[1], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=A", "service=web-01",
               (const char *)NULL);
    event_make(&v[2], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=B", "service=web-01",
               (const char *)NULL);
    struct heard h = submit(fx, v, 3);
    assert_int_equal(h.verdict[0], ENGINE_NEW);
    assert_int_equal(h.verdict[1], ENGINE_DUPLICATE);
    assert_int_equal(h.verdict[2], ENGINE_JOIN);
    assert_int_equal(h.incident[2], h.incident[0]);
}

static void test_engine_alertmanager_redelivery_changes_nothing(void **state)
{
    struct fixture *fx = *state;
    int64_t starts = now_ms() - 60000;
    for (int k = 0; k < 3; k++) {
        struct event *ev = xcalloc(1, sizeof(*ev));
        event_make(ev, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=CertExpiring",
                   "instance=web01:443", (const char *)NULL);
        ev->source = EVENT_SOURCE_ALERTMANAGER;
        ev->starts_ms = starts;
        struct heard h = submit(fx, ev, 1);
        assert_int_equal(h.incident[0], 1);
        if (k > 0)
            assert_non_null(strstr(h.reason[0], "delivered again"));
    }
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.events, 1);
    assert_int_equal(i.repeats, 0);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "repeated"), 0);

    /* Resolved, then resolved again: the second finds it resolved and is ignored. */
    for (int k = 0; k < 2; k++) {
        struct event *ev = xcalloc(1, sizeof(*ev));
        event_make(ev, EVENT_RESOLVED, INCIDENT_SEVERITY_CRITICAL, "alertname=CertExpiring",
                   "instance=web01:443", (const char *)NULL);
        ev->source = EVENT_SOURCE_ALERTMANAGER;
        ev->starts_ms = starts;
        struct heard h = submit(fx, ev, 1);
        assert_int_equal(h.verdict[0], k == 0 ? ENGINE_RESOLVE : ENGINE_IGNORE);
    }
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    assert_string_equal(i.resolved_by, "robot"); /* the token that sent it */
    assert_int_equal(i.events, 2);
    incident_fini(&i);
}

static void test_engine_events_of_one_service_join(void **state)
{
    struct fixture *fx = *state;
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Slow", "service=web-03");
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=Errors",
                                "service=web-03");
    assert_int_equal(h.verdict[0], ENGINE_JOIN);
    assert_int_equal(h.incident[0], 1);
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.events, 2);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_CRITICAL); /* raised */
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "joins incident 1"), 1);

    /* The incident resolves once both events have ended, not before. */
    h = SUBMIT_ONE(fx, EVENT_RESOLVED, INCIDENT_SEVERITY_WARNING, "alertname=Slow",
                   "service=web-03");
    assert_int_equal(h.verdict[0], ENGINE_RESOLVE);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
    SUBMIT_ONE(fx, EVENT_RESOLVED, INCIDENT_SEVERITY_WARNING, "alertname=Errors", "service=web-03");
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    incident_fini(&i);
    h = SUBMIT_ONE(fx, EVENT_RESOLVED, INCIDENT_SEVERITY_WARNING, "alertname=Never");
    assert_int_equal(h.verdict[0], ENGINE_IGNORE);
    assert_int_equal(events_recorded(fx, 0, "ignore"), 1);
}

static void test_engine_silenced_events_open_nothing(void **state)
{
    struct fixture *fx = *state;
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=Down",
                                "env=staging");
    assert_int_equal(h.verdict[0], ENGINE_SILENCED);
    assert_int_equal(h.incident[0], 0);
    struct incident i;
    assert_int_equal(store_incident_get(fx->reader, 1, &i), HALE_ENOTFOUND);
    struct store_event *v = NULL;
    size_t n = 0;
    assert_int_equal(store_events_list(fx->reader, &(struct store_event_query){0}, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].verdict, "silenced");
    assert_int_equal(v[0].silence_id, -1); /* the configuration's first */
    assert_int_equal(v[0].incident_id, 0);
    store_event_fini(&v[0]);
    free(v);
}

/* The upstream fails first: the downstream events are its symptoms. */
static void test_engine_symptoms_of_a_down_upstream(void **state)
{
    struct fixture *fx = *state;
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=DbDown", "service=db");
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Http5xx",
                                "service=web-07");
    assert_int_equal(h.verdict[0], ENGINE_SYMPTOM);
    assert_int_equal(h.incident[0], 1);
    struct incident i;
    get(fx, 1, &i);
    assert_string_equal(i.root_cause, "probable root cause: service db is down");
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "symptom of incident 1: web-07 depends on db"), 1);
}

/* The upstream fails second: it becomes the root cause, the other incidents its symptoms. */
static void test_engine_upstream_second_is_the_root_cause(void **state)
{
    struct fixture *fx = *state;
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Http5xx", "service=web-07");
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Http5xx", "service=web-13");
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=DbDown",
                                "service=db");
    assert_int_equal(h.verdict[0], ENGINE_ROOT_CAUSE);
    assert_int_equal(h.incident[0], 1);
    struct incident i;
    get(fx, 1, &i);
    assert_string_equal(i.service, "db");
    assert_string_equal(i.root_cause, "probable root cause: service db is down");
    assert_string_equal(i.team, "dba"); /* routed again, by its root cause */
    assert_int_equal(i.symptom_of, 0);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_CRITICAL);
    incident_fini(&i);
    get(fx, 2, &i);
    assert_int_equal(i.symptom_of, 1);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 2, "symptom of incident 1"), 1);
    assert_int_equal(timeline_with(fx, 1, "incident 2 (web-13 is down) is a symptom of it"), 1);
}

/* A thousand events of one outage in one submit: one root incident about db, in either order. */
static void outage(struct fixture *fx, bool db_first)
{
    const size_t repeats = 49, n = WEB_SERVICES * repeats + 1;
    struct event *v = xcalloc(n, sizeof(*v));
    size_t at = 0;
    if (db_first)
        event_make(&v[at++], EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=DbDown",
                   "service=db", (const char *)NULL);
    for (size_t r = 0; r < repeats; r++)
        for (int k = 1; k <= WEB_SERVICES; k++) {
            char service[32];
            snprintf(service, sizeof(service), "service=web-%02d", k);
            event_make(&v[at++], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=Http5xx",
                       service, (const char *)NULL);
        }
    if (!db_first)
        event_make(&v[at++], EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=DbDown",
                   "service=db", (const char *)NULL);
    assert_int_equal(at, n);
    uint64_t commits = store__commits(fx->st);
    struct heard h = submit(fx, v, n);
    assert_int_equal(h.result, 0);
    assert_int_equal(h.n, n);
    assert_int_equal(store__commits(fx->st), commits + 1);

    /* One root incident about db; whatever else opened is a symptom of it. */
    struct incident *all = NULL;
    size_t count = 0;
    assert_int_equal(
            store_incidents_list(fx->reader, &(struct store_incident_query){0}, &all, &count), 0);
    size_t roots = 0;
    int64_t root = 0;
    for (size_t k = 0; k < count; k++)
        if (all[k].symptom_of == 0) {
            roots++;
            root = all[k].id;
            assert_string_equal(all[k].service, "db");
            assert_string_equal(all[k].root_cause, "probable root cause: service db is down");
        }
    for (size_t k = 0; k < count; k++) {
        if (all[k].symptom_of)
            assert_int_equal(all[k].symptom_of, root);
        incident_fini(&all[k]);
    }
    free(all);
    assert_int_equal(roots, 1);
    assert_int_equal(count, db_first ? 1 : WEB_SERVICES);
    assert_int_equal(events_counted(fx, 0), (int64_t)n);
}

static void test_engine_outage_db_first(void **state)
{
    outage(*state, true);
}

static void test_engine_outage_db_last(void **state)
{
    outage(*state, false);
}

/* ---- durability ---- */

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

/* A submit whose commit fails is answered so, and leaves the desk as the store is. */
static void test_engine_failed_commit_leaves_the_desk_as_the_store(void **state)
{
    struct fixture *fx = *state;
    desk_close(fx);
    faulty_backend = store__sqlite;
    faulty_backend.commit = faulty_commit;
    faulty_commits = 0;
    faulty_fail_mask = 0;
    desk_open_with(fx, &faulty_backend);
    SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=A", "service=web-01");

    /* A duplicate and a new incident in one submit, lost together. */
    faulty_commits = 0;
    faulty_fail_mask = 1u << 0 | 1u << 1;
    struct event *v = xcalloc(2, sizeof(*v));
    event_make(&v[0], EVENT_FIRING, INCIDENT_SEVERITY_CRITICAL, "alertname=A", "service=web-01",
               (const char *)NULL);
    event_make(&v[1], EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=B", "service=web-02",
               (const char *)NULL);
    struct heard h = submit(fx, v, 2);
    assert_int_equal(h.result, HALE_ESTORE);
    assert_int_equal(h.verdict[1], ENGINE_NEW);
    int64_t lost = h.incident[1];
    faulty_fail_mask = 0;
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.events, 1);
    assert_int_equal(i.severity, INCIDENT_SEVERITY_WARNING);
    incident_fini(&i);
    assert_int_equal(store_incident_get(fx->reader, lost, &i), HALE_ENOTFOUND);

    /* Judged again on what is on disk: B opens anew, A is its first repeat. */
    h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=B", "service=web-02");
    assert_int_equal(h.verdict[0], ENGINE_NEW);
    assert_true(h.incident[0] > lost);
    h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=A", "service=web-01");
    assert_int_equal(h.verdict[0], ENGINE_DUPLICATE);
    get(fx, 1, &i);
    assert_int_equal(i.repeats, 1);
    incident_fini(&i);
    assert_int_equal(events_recorded(fx, 0, NULL), 2);
    assert_int_equal(events_counted(fx, 0), 3);
}

/* ---- checks, runbooks, upgrades ---- */

static void check_event(struct fixture *fx, enum detect_event_kind kind, enum check_status s)
{
    struct detect_event ev = {
            .check = "web-health",
            .kind = kind,
            .new_status = s,
            .hard = true,
            .time_ms = (uint64_t)now_ms(),
            .summary = (char[]){"HTTP 503"},
    };
    engine_check_event(fx->engine, config_check_find(fx->config, "web-health"), &ev);
    submit(fx, NULL, 0); /* durable after what came before: batches commit in order */
}

static void test_engine_check_events_take_the_same_path(void **state)
{
    struct fixture *fx = *state;
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_CRITICAL);
    check_event(fx, DETECT_EVENT_FLAPPING_STARTED, CHECK_STATUS_CRITICAL);
    struct incident i;
    get(fx, 1, &i);
    assert_string_equal(i.title, "web-health is critical");
    assert_string_equal(i.check, "web-health");
    assert_string_equal(i.team, "web"); /* the check's own key */
    assert_int_equal(i.priority, 1);    /* its impact, high, through the matrix */
    assert_int_equal(i.category, INCIDENT_CATEGORY_NETWORK);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "flapping_started"), 1);
    assert_int_equal(events_recorded(fx, 1, NULL), 1); /* the note is not an event */
    struct store_event *v = NULL;
    size_t n = 0;
    assert_int_equal(store_events_list(fx->reader, &(struct store_event_query){0}, &v, &n), 0);
    assert_string_equal(v[0].source, "check");
    assert_string_equal(labels_get(&v[0].labels, "check"), "web-health");
    assert_string_equal(labels_get(&v[0].labels, "service"), "web-01");
    assert_string_equal(v[0].sender, "check:web-health");
    store_event_fini(&v[0]);
    free(v);

    /* A runbook in charge decides: the check's recovery does not resolve it meanwhile. */
    itsm__live_find(fx->desk, 1)->runbook_in_charge = true;
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_OK);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "is in charge and decides"), 1);
    itsm__live_find(fx->desk, 1)->runbook_in_charge = false;
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_CRITICAL);
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_OK);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    assert_string_equal(i.resolved_by, "hale");
    incident_fini(&i);
}

/* An incident a check opened before the engine (fingerprint check:NAME) is found by its check. */
static void test_engine_finds_incidents_from_before_by_their_check(void **state)
{
    struct fixture *fx = *state;
    struct incident old = {
            .id = store_next_incident_id(fx->st),
            .title = xstrdup("web-health is critical"),
            .fingerprint = xstrdup("check:web-health"),
            .severity = INCIDENT_SEVERITY_CRITICAL,
            .priority = 1,
            .check = xstrdup("web-health"),
            .state = INCIDENT_ACKNOWLEDGED,
            .opened_ms = now_ms() - 60000,
    };
    labels_init(&old.labels);
    labels_set(&old.labels, "service", "web-01", NULL);
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, &old);
    store_submit(fx->st, b, NULL, NULL);
    incident_fini(&old);
    desk_close(fx);
    desk_open_with(fx, &store__sqlite);

    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_CRITICAL);
    struct incident i;
    assert_int_equal(store_incident_get(fx->reader, 2, &i), HALE_ENOTFOUND);
    get(fx, 1, &i);
    assert_int_equal(i.repeats, 1); /* the same failure, still there */
    incident_fini(&i);
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_OK);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    assert_int_equal(strlen(i.fingerprint), 16); /* the fingerprint its check has now */
    incident_fini(&i);
}

struct acted {
    int calls;
    int result;
};

static void on_acted(int result, const struct incident *i, void *data)
{
    (void)i;
    struct acted *a = data;
    a->calls++;
    a->result = result;
}

/* alice resolves or closes incident id; back once it is durable. */
static void person(struct fixture *fx, enum itsm_action action, int64_t id)
{
    struct itsm_request rq = {.action = action, .id = id, .actor = "user:alice"};
    struct acted a = {0};
    struct err e = {0};
    if (itsm_act(fx->desk, &rq, on_acted, &a, &e) != 0)
        fail_msg("act: %s", e.msg);
    while (a.calls == 0)
        uv_run(&fx->uv, UV_RUN_ONCE);
    assert_int_equal(a.result, 0);
}

/* An incident people resolved, then closed, holds its events no more: the next is no duplicate. */
static void test_engine_people_resolving_frees_its_events(void **state)
{
    struct fixture *fx = *state;
    for (int k = 0; k < 2; k++) {
        struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING,
                                    "alertname=QueueLong", "queue=mail");
        assert_int_equal(h.verdict[0], k == 0 ? ENGINE_NEW : ENGINE_DUPLICATE);
    }
    person(fx, ITSM_RESOLVE, 1);
    struct heard h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong",
                                "queue=mail");
    assert_int_equal(h.verdict[0], ENGINE_NEW);
    assert_int_equal(h.incident[0], 1); /* reopened: within incidents.reopen_within */
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_int_equal(i.reopened, 1);
    incident_fini(&i);

    person(fx, ITSM_RESOLVE, 1);
    person(fx, ITSM_CLOSE, 1);
    h = SUBMIT_ONE(fx, EVENT_FIRING, INCIDENT_SEVERITY_WARNING, "alertname=QueueLong",
                   "queue=mail");
    assert_int_equal(h.verdict[0], ENGINE_NEW);
    assert_int_equal(h.incident[0], 2);
}

/* Runs the loop until the desk's writes so far are durable. */
static void drain(struct fixture *fx)
{
    submit(fx, NULL, 0); /* batches commit in order: once this one is, so are those before */
}

/*
 * A runbook's hands on the desk: in charge, the events' end waits; letting
 * go resolves it as the events said; an escalation assigns the team and
 * keeps it open; healing resolves it by hale; entries land on the timeline.
 */
static void test_engine_runbook_charge_heal_and_escalate(void **state)
{
    struct fixture *fx = *state;
    struct err e = {0};
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_CRITICAL);
    assert_int_equal(itsm_runbook_charge(fx->desk, 1, true, &e), 0);
    assert_int_equal(itsm_runbook_charge(fx->desk, 99, true, &e), HALE_ENOTFOUND);
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_OK);
    struct incident i;
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    incident_fini(&i);
    /* The run ends without healing: it resolves as the check said. */
    assert_int_equal(itsm_runbook_charge(fx->desk, 1, false, &e), 0);
    drain(fx);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    assert_string_equal(i.resolved_by, "hale");
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "web-health is ok again (its events ended while"), 1);
    assert_int_equal(itsm_runbook_charge(fx->desk, 1, true, &e), HALE_ESTATE);

    /* Back: reopened. A run takes charge, writes, fails and escalates: open, the team's. */
    check_event(fx, DETECT_EVENT_STATE_CHANGE, CHECK_STATUS_CRITICAL);
    assert_int_equal(itsm_runbook_charge(fx->desk, 1, true, &e), 0);
    struct itsm_entry entries[] = {
            {TIMELINE_STEP_STARTED, "step 1/1 restart (remediate, attempt 1): /bin/false", NULL},
            {TIMELINE_STEP_FINISHED, "step 1/1 restart failed: exit 1 in 3 ms", NULL},
    };
    assert_int_equal(itsm_timeline_add(fx->desk, 1, "runbook:fix", entries, 2, NULL, NULL, &e), 0);
    assert_int_equal(itsm_timeline_add(fx->desk, 77, "runbook:fix", entries, 2, NULL, NULL, &e),
                     HALE_ENOTFOUND);
    assert_int_equal(
            itsm_escalate(fx->desk, 1, "runbook:fix", "dba", "step restart failed", NULL, NULL, &e),
            0);
    drain(fx);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_NEW);
    assert_string_equal(i.team, "dba");
    incident_fini(&i);
    assert_false(itsm__live_find(fx->desk, 1)->runbook_in_charge);
    assert_int_equal(timeline_with(fx, 1, "step 1/1 restart failed"), 1);
    assert_int_equal(timeline_with(fx, 1, "escalated to dba: step restart failed"), 1);

    /* Another run heals it: resolved by hale, saying how; not twice. */
    assert_int_equal(itsm_runbook_charge(fx->desk, 1, true, &e), 0);
    assert_int_equal(
            itsm_heal(fx->desk, 1, "runbook:fix", "healed by run 2 of fix", NULL, NULL, &e), 0);
    drain(fx);
    get(fx, 1, &i);
    assert_int_equal(i.state, INCIDENT_RESOLVED);
    assert_string_equal(i.resolved_by, "hale");
    incident_fini(&i);
    assert_int_equal(timeline_with(fx, 1, "-> resolved: healed by run 2 of fix"), 1);
    assert_int_equal(itsm_heal(fx->desk, 1, "runbook:fix", "again", NULL, NULL, &e), HALE_ESTATE);
}

int main(void)
{
#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
            TEST(test_engine_new_incident_is_routed_and_recorded),
            TEST(test_engine_duplicate_sets_severity_and_priority),
            TEST(test_engine_repeats_are_counted_not_listed),
            TEST(test_engine_repeats_in_a_batch_count_on_one_row),
            TEST(test_engine_many_fingerprints_held_are_found_by_hash),
            TEST(test_engine_view_sees_what_the_submit_opened),
            TEST(test_engine_changed_event_is_a_new_row),
            TEST(test_engine_repeats_count_on_the_same_row_after_a_restart),
            TEST(test_engine_repeats_after_an_upgrade_from_schema_9),
            TEST(test_engine_refiring_after_a_resolve_is_a_new_row),
            TEST(test_engine_alertmanager_redelivery_changes_nothing),
            TEST(test_engine_events_of_one_service_join),
            TEST(test_engine_silenced_events_open_nothing),
            TEST(test_engine_symptoms_of_a_down_upstream),
            TEST(test_engine_upstream_second_is_the_root_cause),
            TEST(test_engine_outage_db_first),
            TEST(test_engine_outage_db_last),
            TEST(test_engine_failed_commit_leaves_the_desk_as_the_store),
            TEST(test_engine_check_events_take_the_same_path),
            TEST(test_engine_finds_incidents_from_before_by_their_check),
            TEST(test_engine_people_resolving_frees_its_events),
            TEST(test_engine_runbook_charge_heal_and_escalate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
