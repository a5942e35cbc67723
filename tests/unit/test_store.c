/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/store/ on SQLite in a temporary directory: every record
 * through a batch and back through a reader, replacement by id, the
 * incident query's filters and cursor, group commit (counted), ordering,
 * a bad batch failing alone, ids across a restart, silences kept and
 * queried by whether they are over, the refusal of a newer
 * schema, readers beside the writer, and SIGKILLed writers losing nothing
 * they acknowledged.
 */
#include <errno.h>
#include <fcntl.h>
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
#include <sqlite3.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "itsm/incident.h"
#include "store/internal.h"
#include "store/store.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    char *data_dir; /* DIR/data: missing until the store creates it */
    char *db_path;
    uv_loop_t uv;
    struct store *st;
};

static int fixture_setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->data_dir = xasprintf("%s/data", fx->dir);
    fx->db_path = xasprintf("%s/hale.db", fx->data_dir);
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    *state = fx;
    return 0;
}

/* Closes the store and lets the loop release its handle, as a daemon's loop would. */
static void fx_close(struct fixture *fx)
{
    store_close(fx->st);
    fx->st = NULL;
    uv_run(&fx->uv, UV_RUN_DEFAULT);
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    fx_close(fx);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    testutil_rm_rf(fx->dir);
    free(fx->data_dir);
    free(fx->db_path);
    free(fx);
    return 0;
}

static void fx_open_window(struct fixture *fx, unsigned window_ms)
{
    struct store_options o = {
            .data_dir = fx->data_dir, .uv = &fx->uv, .commit_window_ms = window_ms};
    struct err e = {0};
    if (store_open(&o, &fx->st, &e) != 0)
        fail_msg("store_open: %s", e.msg);
}

static void fx_open(struct fixture *fx)
{
    fx_open_window(fx, 0);
}

static struct store_reader *reader_open(struct fixture *fx)
{
    struct store_reader *r;
    struct err e = {0};
    if (store_reader_open(fx->st, &r, &e) != 0)
        fail_msg("store_reader_open: %s", e.msg);
    return r;
}

/* What a batch's callback heard: how often, with what, in which order. */
struct outcome {
    int calls;
    int result;
    int order;
};

static int outcome_seq;

static void outcome_cb(int result, void *data)
{
    struct outcome *o = data;
    o->calls++;
    o->result = result;
    o->order = outcome_seq++;
}

/* Submits b and runs the loop until its callback ran; returns its result. */
static int write_batch(struct fixture *fx, struct store_batch *b)
{
    struct outcome o = {0};
    store_submit(fx->st, b, outcome_cb, &o);
    uv_run(&fx->uv, UV_RUN_DEFAULT); /* returns once nothing is in flight */
    assert_int_equal(o.calls, 1);
    return o.result;
}

/* ---- records ---------------------------------------------------------- */

/* An incident with every field set to something other than its zero. */
static void incident_full(struct incident *i, int64_t id)
{
    *i = (struct incident){
            .id = id,
            .type = INCIDENT_TYPE_REQUEST,
            .title = xstrdup("disk full on db-01"),
            .fingerprint = xstrdup("fp-disk-db-01"),
            .severity = INCIDENT_SEVERITY_CRITICAL,
            .priority = 2,
            .category = INCIDENT_CATEGORY_HARDWARE,
            .team = xstrdup("dba"),
            .assignee = xstrdup("alice"),
            .check = xstrdup("db-disk"),
            .state = INCIDENT_RESOLVED,
            .opened_ms = 1700000000001,
            .acknowledged_ms = 1700000000002,
            .resolved_ms = 1700000000003,
            .closed_ms = 1700000000004,
            .resolved_by = xstrdup("hale"),
            .root_cause = xstrdup("log rotation stopped"),
            .reopened = 3,
            .problem_id = 0,
            .updated_ms = 1700000000005,
            .service = xstrdup("db"),
            .symptom_of = 0,
            .runbook = xstrdup("clean-disk"),
            .events = 12,
            .repeats = 9,
    };
    labels_init(&i->labels);
    assert_int_equal(labels_set(&i->labels, "service", "db", NULL), 0);
    assert_int_equal(labels_set(&i->labels, "env", "prod \"eu\" é", NULL), 0);
}

/* The smallest incident: optional strings NULL, no labels. */
static void incident_bare(struct incident *i, int64_t id, const char *team, const char *fp,
                          enum incident_state state, int64_t opened_ms)
{
    *i = (struct incident){
            .id = id,
            .title = xasprintf("incident %lld", (long long)id),
            .fingerprint = xstrdup(fp),
            .priority = 3,
            .team = team ? xstrdup(team) : NULL,
            .state = state,
            .opened_ms = opened_ms,
    };
    labels_init(&i->labels);
}

static void assert_str_or_null_equal(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_incident_equal(const struct incident *a, const struct incident *b)
{
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->type, b->type);
    assert_str_or_null_equal(a->title, b->title);
    assert_str_or_null_equal(a->fingerprint, b->fingerprint);
    assert_int_equal(a->labels.n, b->labels.n);
    for (size_t k = 0; k < a->labels.n; k++) {
        assert_string_equal(a->labels.v[k].name, b->labels.v[k].name);
        assert_string_equal(a->labels.v[k].value, b->labels.v[k].value);
    }
    assert_int_equal(a->severity, b->severity);
    assert_int_equal(a->priority, b->priority);
    assert_int_equal(a->category, b->category);
    assert_str_or_null_equal(a->team, b->team);
    assert_str_or_null_equal(a->assignee, b->assignee);
    assert_str_or_null_equal(a->check, b->check);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->opened_ms, b->opened_ms);
    assert_int_equal(a->acknowledged_ms, b->acknowledged_ms);
    assert_int_equal(a->resolved_ms, b->resolved_ms);
    assert_int_equal(a->closed_ms, b->closed_ms);
    assert_str_or_null_equal(a->resolved_by, b->resolved_by);
    assert_str_or_null_equal(a->root_cause, b->root_cause);
    assert_int_equal(a->reopened, b->reopened);
    assert_int_equal(a->problem_id, b->problem_id);
    assert_int_equal(a->updated_ms, b->updated_ms);
    assert_str_or_null_equal(a->service, b->service);
    assert_int_equal(a->symptom_of, b->symptom_of);
    assert_str_or_null_equal(a->runbook, b->runbook);
    assert_int_equal(a->events, b->events);
    assert_int_equal(a->repeats, b->repeats);
}

static void assert_problem_equal(const struct problem *a, const struct problem *b)
{
    assert_int_equal(a->id, b->id);
    assert_str_or_null_equal(a->title, b->title);
    assert_str_or_null_equal(a->fingerprint, b->fingerprint);
    assert_int_equal(a->state, b->state);
    assert_str_or_null_equal(a->root_cause, b->root_cause);
    assert_str_or_null_equal(a->workaround, b->workaround);
    assert_int_equal(a->opened_ms, b->opened_ms);
    assert_int_equal(a->resolved_ms, b->resolved_ms);
    assert_int_equal(a->updated_ms, b->updated_ms);
    assert_int_equal(a->incidents, b->incidents);
}

static void incidents_free(struct incident *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        incident_fini(&v[k]);
    free(v);
}

/* ---- tests ------------------------------------------------------------ */

static void test_store_open_creates_a_wal_database(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    assert_string_equal(store_path(fx->st), fx->db_path);
    struct stat sb;
    assert_int_equal(stat(fx->data_dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);

    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(fx->db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), STORE_SCHEMA_VERSION);
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_store_round_trip_of_every_record(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct problem p1 = {.id = store_next_problem_id(fx->st),
                         .title = xstrdup("db disks fill up"),
                         .fingerprint = xstrdup("fp-disk-db-01"),
                         .state = PROBLEM_KNOWN_ERROR,
                         .root_cause = xstrdup("rotation"),
                         .workaround = xstrdup("delete old logs"),
                         .opened_ms = 11,
                         .resolved_ms = 12,
                         .updated_ms = 13,
                         .incidents = 4};
    struct problem p2 = {.id = store_next_problem_id(fx->st),
                         .title = xstrdup("flaps"),
                         .fingerprint = xstrdup("fp-flap"),
                         .state = PROBLEM_OPEN,
                         .opened_ms = 21};
    struct incident full, bare;
    incident_full(&full, store_next_incident_id(fx->st));
    full.problem_id = p1.id;
    incident_bare(&bare, store_next_incident_id(fx->st), NULL, "fp-b", INCIDENT_NEW, 5);
    struct timeline_entry t1 = {.incident_id = full.id,
                                .time_ms = 100,
                                .kind = TIMELINE_STEP_OUTPUT,
                                .actor = xstrdup("hale"),
                                .text = xstrdup("rm: 3 files"),
                                .data = xstrdup("{\"exit\":0}")};
    struct timeline_entry t2 = {.incident_id = full.id,
                                .time_ms = 200,
                                .kind = TIMELINE_NOTE,
                                .actor = xstrdup("user:alice"),
                                .text = xstrdup("looking")};
    struct audit_entry a1 = {.time_ms = 300,
                             .actor = xstrdup("user:alice"),
                             .action = xstrdup("incident.ack"),
                             .target = xstrdup("incident:1"),
                             .origin = xstrdup("127.0.0.1"),
                             .detail = xstrdup("{\"why\":\"mine\"}")};
    struct audit_entry a2 = {
            .time_ms = 301, .actor = xstrdup("user:bob"), .action = xstrdup("token.create")};

    struct store_batch *b = store_batch_new();
    store_batch_problem(b, &p1); /* before the incident that links to it */
    store_batch_problem(b, &p2);
    store_batch_incident(b, &full);
    store_batch_incident(b, &bare);
    store_batch_timeline(b, &t1);
    store_batch_timeline(b, &t2);
    store_batch_audit(b, &a1);
    store_batch_audit(b, &a2);
    store_batch_check_state(b, "db-disk", 2, 400);
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    struct incident got;
    assert_int_equal(store_incident_get(r, full.id, &got), 0);
    assert_incident_equal(&got, &full);
    incident_fini(&got);
    assert_int_equal(store_incident_get(r, bare.id, &got), 0);
    assert_incident_equal(&got, &bare);
    assert_null(got.team);
    assert_null(got.assignee);
    assert_null(got.check);
    assert_null(got.resolved_by);
    assert_null(got.root_cause);
    assert_int_equal(got.labels.n, 0);
    incident_fini(&got);
    assert_int_equal(store_incident_get(r, 999, &got), HALE_ENOTFOUND);

    struct problem gp;
    assert_int_equal(store_problem_get(r, p1.id, &gp), 0);
    assert_problem_equal(&gp, &p1);
    problem_fini(&gp);
    assert_int_equal(store_problem_get(r, 999, &gp), HALE_ENOTFOUND);
    struct problem *pv;
    size_t n;
    assert_int_equal(store_problems_list(r, &pv, &n), 0);
    assert_int_equal(n, 2);
    assert_problem_equal(&pv[0], &p2); /* newest first */
    assert_null(pv[0].root_cause);
    assert_null(pv[0].workaround);
    assert_problem_equal(&pv[1], &p1);
    for (size_t k = 0; k < n; k++)
        problem_fini(&pv[k]);
    free(pv);

    struct timeline_entry *tv;
    assert_int_equal(store_timeline_list(r, full.id, &tv, &n), 0);
    assert_int_equal(n, 2);
    assert_true(tv[0].id > 0 && tv[1].id > tv[0].id);
    assert_int_equal(tv[0].incident_id, full.id);
    assert_int_equal(tv[0].time_ms, 100);
    assert_int_equal(tv[0].kind, TIMELINE_STEP_OUTPUT);
    assert_string_equal(tv[0].actor, "hale");
    assert_string_equal(tv[0].text, "rm: 3 files");
    assert_string_equal(tv[0].data, "{\"exit\":0}");
    assert_int_equal(tv[1].kind, TIMELINE_NOTE);
    assert_null(tv[1].data);
    for (size_t k = 0; k < n; k++)
        timeline_entry_fini(&tv[k]);
    free(tv);

    struct audit_entry *av;
    assert_int_equal(store_audit_list(r, &(struct store_audit_query){0}, &av, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(av[0].time_ms, 300);
    assert_string_equal(av[0].actor, "user:alice");
    assert_string_equal(av[0].action, "incident.ack");
    assert_string_equal(av[0].target, "incident:1");
    assert_string_equal(av[0].origin, "127.0.0.1");
    assert_string_equal(av[0].detail, "{\"why\":\"mine\"}");
    assert_string_equal(av[1].action, "token.create");
    assert_null(av[1].target);
    assert_null(av[1].origin);
    assert_null(av[1].detail);
    for (size_t k = 0; k < n; k++)
        audit_entry_fini(&av[k]);
    free(av);

    struct store_check_state *cv;
    assert_int_equal(store_check_states_list(r, NULL, 0, &cv, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(cv[0].check, "db-disk");
    assert_int_equal(cv[0].status, 2);
    assert_int_equal(cv[0].time_ms, 400);
    store_check_state_fini(&cv[0]);
    free(cv);
    store_reader_close(r);

    incident_fini(&full);
    incident_fini(&bare);
    problem_fini(&p1);
    problem_fini(&p2);
    timeline_entry_fini(&t1);
    timeline_entry_fini(&t2);
    audit_entry_fini(&a1);
    audit_entry_fini(&a2);
}

static void test_store_replaces_incidents_and_problems_by_id(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct problem p = {.id = store_next_problem_id(fx->st),
                        .title = xstrdup("v1"),
                        .fingerprint = xstrdup("fp"),
                        .state = PROBLEM_OPEN,
                        .incidents = 1};
    struct incident i;
    incident_full(&i, store_next_incident_id(fx->st));
    struct store_batch *b = store_batch_new();
    store_batch_problem(b, &p);
    store_batch_incident(b, &i);
    assert_int_equal(write_batch(fx, b), 0);

    /* The same ids again, changed: an acknowledgement, a new label, a known error. */
    free(p.title);
    p.title = xstrdup("v2");
    p.state = PROBLEM_KNOWN_ERROR;
    p.root_cause = xstrdup("found");
    p.incidents = 2;
    i.state = INCIDENT_ACKNOWLEDGED;
    free(i.assignee);
    i.assignee = NULL;
    i.problem_id = p.id;
    assert_int_equal(labels_set(&i.labels, "zone", "b", NULL), 0);
    b = store_batch_new();
    store_batch_problem(b, &p);
    store_batch_incident(b, &i);
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    struct incident *v;
    size_t n;
    assert_int_equal(store_incidents_list(r, &(struct store_incident_query){0}, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_incident_equal(&v[0], &i);
    assert_null(v[0].assignee);
    assert_int_equal(v[0].labels.n, 3);
    incidents_free(v, n);
    struct problem *pv;
    assert_int_equal(store_problems_list(r, &pv, &n), 0);
    assert_int_equal(n, 1);
    assert_problem_equal(&pv[0], &p);
    problem_fini(&pv[0]);
    free(pv);
    store_reader_close(r);
    incident_fini(&i);
    problem_fini(&p);
}

/* Ids of the list, in its order, as "5 4 1". */
static char *ids_of(struct store_reader *r, const struct store_incident_query *q)
{
    struct incident *v;
    size_t n;
    assert_int_equal(store_incidents_list(r, q, &v, &n), 0);
    char *s = xstrdup("");
    for (size_t k = 0; k < n; k++) {
        char *t = xasprintf("%s%s%lld", s, k ? " " : "", (long long)v[k].id);
        free(s);
        s = t;
    }
    incidents_free(v, n);
    return s;
}

static void assert_ids(struct store_reader *r, const struct store_incident_query *q,
                       const char *want)
{
    char *got = ids_of(r, q);
    assert_string_equal(got, want);
    free(got);
}

static void test_store_incident_query_filters_and_cursor(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    static const struct {
        const char *team, *fp;
        enum incident_state state;
        int64_t opened_ms;
    } rows[] = {
            {"web", "fp-a", INCIDENT_NEW, 1000},          /* 1 */
            {"web", "fp-b", INCIDENT_ACKNOWLEDGED, 2000}, /* 2 */
            {"dba", "fp-a", INCIDENT_RESOLVED, 3000},     /* 3 */
            {NULL, "fp-c", INCIDENT_NEW, 4000},           /* 4 */
            {"dba", "fp-a", INCIDENT_CLOSED, 5000},       /* 5 */
            {"web", "fp-a", INCIDENT_IN_PROGRESS, 6000},  /* 6 */
            {"web", "fp-b", INCIDENT_NEW, 7000},          /* 7 */
    };
    struct store_batch *b = store_batch_new();
    struct problem p = {.id = store_next_problem_id(fx->st),
                        .title = (char *)"fp-a recurs",
                        .fingerprint = (char *)"fp-a",
                        .opened_ms = 3000};
    store_batch_problem(b, &p);
    for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
        struct incident i;
        incident_bare(&i, store_next_incident_id(fx->st), rows[k].team, rows[k].fp, rows[k].state,
                      rows[k].opened_ms);
        if (k == 2 || k == 4)
            i.problem_id = p.id; /* incidents 3 and 5 */
        store_batch_incident(b, &i);
        incident_fini(&i);
    }
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    assert_ids(r, &(struct store_incident_query){0}, "7 6 5 4 3 2 1");
    assert_ids(r, &(struct store_incident_query){.states = 1u << INCIDENT_NEW}, "7 4 1");
    unsigned open =
            (1u << INCIDENT_NEW) | (1u << INCIDENT_ACKNOWLEDGED) | (1u << INCIDENT_IN_PROGRESS);
    assert_ids(r, &(struct store_incident_query){.states = open}, "7 6 4 2 1");
    assert_ids(r, &(struct store_incident_query){.states = 0x1f}, "7 6 5 4 3 2 1");
    assert_ids(r, &(struct store_incident_query){.team = "dba"}, "5 3");
    assert_ids(r, &(struct store_incident_query){.fingerprint = "fp-a"}, "6 5 3 1");
    assert_ids(r, &(struct store_incident_query){.problem_id = p.id}, "5 3");
    assert_ids(r, &(struct store_incident_query){.problem_id = p.id, .limit = 1}, "5");
    assert_ids(r, &(struct store_incident_query){.since_ms = 5000}, "7 6 5");
    assert_ids(r, &(struct store_incident_query){.before_id = 4}, "3 2 1");
    assert_ids(r, &(struct store_incident_query){.limit = 2}, "7 6");
    assert_ids(r,
               &(struct store_incident_query){
                       .team = "web", .fingerprint = "fp-a", .states = open, .since_ms = 1000},
               "6 1");
    assert_ids(r, &(struct store_incident_query){.team = "ops"}, "");

    /* Paging with the cursor: every incident once, newest first. */
    struct store_incident_query q = {.limit = 3};
    char *pages = xstrdup("");
    for (int page = 0; page < 5; page++) {
        struct incident *v;
        size_t n;
        assert_int_equal(store_incidents_list(r, &q, &v, &n), 0);
        if (n == 0)
            break;
        char *ids = ids_of(r, &q);
        char *t = xasprintf("%s[%s]", pages, ids);
        free(pages);
        free(ids);
        pages = t;
        q.before_id = v[n - 1].id;
        incidents_free(v, n);
    }
    assert_string_equal(pages, "[7 6 5][4 3 2][1]");
    free(pages);
    store_reader_close(r);
}

static void add_timeline(struct store_batch *b, int64_t incident_id, int64_t time_ms, char *text)
{
    struct timeline_entry t = {.incident_id = incident_id,
                               .time_ms = time_ms,
                               .kind = TIMELINE_EVENT,
                               .actor = (char *)"check:web",
                               .text = text};
    store_batch_timeline(b, &t);
}

static void test_store_timeline_oldest_first(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct incident i1, i2;
    incident_bare(&i1, store_next_incident_id(fx->st), NULL, "fp", INCIDENT_NEW, 1);
    incident_bare(&i2, store_next_incident_id(fx->st), NULL, "fp", INCIDENT_NEW, 1);
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, &i1);
    store_batch_incident(b, &i2);
    /* Appended out of time order (a source's own timestamps); equal times keep their order. */
    add_timeline(b, i1.id, 300, "c");
    add_timeline(b, i1.id, 100, "a");
    add_timeline(b, i2.id, 150, "other");
    add_timeline(b, i1.id, 200, "b1");
    add_timeline(b, i1.id, 200, "b2");
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    struct timeline_entry *v;
    size_t n;
    assert_int_equal(store_timeline_list(r, i1.id, &v, &n), 0);
    const char *want[] = {"a", "b1", "b2", "c"};
    assert_int_equal(n, ARRAY_SIZE(want));
    for (size_t k = 0; k < n; k++) {
        assert_string_equal(v[k].text, want[k]);
        timeline_entry_fini(&v[k]);
    }
    free(v);
    assert_int_equal(store_timeline_list(r, 999, &v, &n), 0);
    assert_int_equal(n, 0);
    free(v);
    store_reader_close(r);
    incident_fini(&i1);
    incident_fini(&i2);
}

static char *check_states_text(struct store_reader *r, const char *check, int64_t since_ms)
{
    struct store_check_state *v;
    size_t n;
    assert_int_equal(store_check_states_list(r, check, since_ms, &v, &n), 0);
    char *s = xstrdup("");
    for (size_t k = 0; k < n; k++) {
        char *t = xasprintf("%s%s%s=%d@%lld", s, k ? " " : "", v[k].check, v[k].status,
                            (long long)v[k].time_ms);
        free(s);
        s = t;
        store_check_state_fini(&v[k]);
    }
    free(v);
    return s;
}

static void test_store_check_states_window_with_the_state_before_it(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    store_batch_check_state(b, "a", 2, 100);
    store_batch_check_state(b, "b", 1, 50);
    store_batch_check_state(b, "a", 0, 200);
    store_batch_check_state(b, "a", 2, 300);
    store_batch_check_state(b, "c", 2, 350);
    store_batch_check_state(b, "b", 0, 400);
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    char *s = check_states_text(r, NULL, 250);
    assert_string_equal(s, "b=1@50 a=0@200 a=2@300 c=2@350 b=0@400");
    free(s);
    s = check_states_text(r, "a", 250);
    assert_string_equal(s, "a=0@200 a=2@300");
    free(s);
    s = check_states_text(r, "c", 1000); /* nothing in the window: the state it is in */
    assert_string_equal(s, "c=2@350");
    free(s);
    s = check_states_text(r, "a", 0);
    assert_string_equal(s, "a=2@100 a=0@200 a=2@300");
    free(s);
    store_reader_close(r);
}

static void test_store_audit_since_and_limit(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    for (int k = 0; k < 5; k++) {
        char action[16];
        snprintf(action, sizeof(action), "a%d", k);
        struct audit_entry a = {
                .time_ms = 100 * (k + 1), .actor = (char *)"user:alice", .action = action};
        store_batch_audit(b, &a);
    }
    assert_int_equal(write_batch(fx, b), 0);
    struct store_reader *r = reader_open(fx);
    struct audit_entry *v;
    size_t n;
    struct store_audit_query q = {.since_ms = 250, .limit = 2};
    assert_int_equal(store_audit_list(r, &q, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].action, "a2");
    assert_string_equal(v[1].action, "a3");
    /* The next page starts after the last id of this one. */
    q.after_id = v[1].id;
    for (size_t k = 0; k < n; k++)
        audit_entry_fini(&v[k]);
    free(v);
    assert_int_equal(store_audit_list(r, &q, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].action, "a4");
    audit_entry_fini(&v[0]);
    free(v);
    store_reader_close(r);
}

/* Written in the order of the writes, whatever the clock said: a clock set back reorders nothing.
 */
static void test_store_audit_in_the_order_written(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    const int64_t times[] = {500, 100, 300};
    for (int k = 0; k < 3; k++) {
        char action[16];
        snprintf(action, sizeof(action), "a%d", k);
        struct audit_entry a = {.time_ms = times[k], .actor = (char *)"hale", .action = action};
        store_batch_audit(b, &a);
    }
    assert_int_equal(write_batch(fx, b), 0);
    struct store_reader *r = reader_open(fx);
    struct audit_entry *v;
    size_t n;
    assert_int_equal(store_audit_list(r, &(struct store_audit_query){0}, &v, &n), 0);
    assert_int_equal(n, 3);
    for (size_t k = 0; k < n; k++) {
        char want[32];
        snprintf(want, sizeof(want), "a%zu", k);
        assert_string_equal(v[k].action, want);
        audit_entry_fini(&v[k]);
    }
    free(v);
    store_reader_close(r);
}

/* A problem's timeline is its own: entries on it are not on any incident's, and back. */
static void test_store_problem_timeline(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct problem p = {.id = store_next_problem_id(fx->st),
                        .title = (char *)"flaps",
                        .fingerprint = (char *)"fp",
                        .state = PROBLEM_OPEN,
                        .opened_ms = 1};
    struct incident i;
    incident_bare(&i, store_next_incident_id(fx->st), NULL, "fp", INCIDENT_NEW, 1);
    struct store_batch *b = store_batch_new();
    store_batch_problem(b, &p);
    store_batch_incident(b, &i);
    struct timeline_entry on_problem = {.problem_id = p.id,
                                        .time_ms = 20,
                                        .kind = TIMELINE_NOTE,
                                        .actor = (char *)"user:alice",
                                        .text = (char *)"the pool again"};
    struct timeline_entry earlier = on_problem;
    earlier.time_ms = 10;
    earlier.kind = TIMELINE_STATE;
    earlier.text = (char *)"open -> known_error";
    store_batch_timeline(b, &on_problem);
    store_batch_timeline(b, &earlier);
    add_timeline(b, i.id, 5, (char *)"opened");
    assert_int_equal(write_batch(fx, b), 0);
    struct store_reader *r = reader_open(fx);
    struct timeline_entry *v;
    size_t n;
    assert_int_equal(store_problem_timeline_list(r, p.id, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].problem_id, p.id);
    assert_int_equal(v[0].incident_id, 0);
    assert_int_equal(v[0].kind, TIMELINE_STATE); /* oldest first */
    assert_string_equal(v[1].text, "the pool again");
    assert_string_equal(v[1].actor, "user:alice");
    for (size_t k = 0; k < n; k++)
        timeline_entry_fini(&v[k]);
    free(v);
    assert_int_equal(store_timeline_list(r, i.id, &v, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].text, "opened");
    timeline_entry_fini(&v[0]);
    free(v);
    incident_fini(&i);
    store_reader_close(r);
}

static int64_t count_rows(const char *db_path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

#define GROUP_BATCHES 1000

static void test_store_group_commit_groups_batches(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx); /* the default window */
    static struct outcome o[GROUP_BATCHES];
    memset(o, 0, sizeof(o));
    uint64_t before = store__commits(fx->st);
    for (int k = 0; k < GROUP_BATCHES; k++) {
        struct store_batch *b = store_batch_new();
        store_batch_check_state(b, "web", k % 4, k);
        store_submit(fx->st, b, outcome_cb, &o[k]);
    }
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    uint64_t commits = store__commits(fx->st) - before;
    for (int k = 0; k < GROUP_BATCHES; k++) {
        assert_int_equal(o[k].calls, 1);
        assert_int_equal(o[k].result, 0);
    }
    print_message("%d batches in %llu transactions\n", GROUP_BATCHES, (unsigned long long)commits);
    assert_true(commits >= 1);
    assert_true(commits <= GROUP_BATCHES / 20);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM check_states"), GROUP_BATCHES);
}

static void test_store_batches_commit_in_submission_order(void **state)
{
    struct fixture *fx = *state;
    fx_open_window(fx, 1);
    enum {
        N = 300
    };
    static struct outcome o[N];
    memset(o, 0, sizeof(o));
    outcome_seq = 0;
    int64_t id = store_next_incident_id(fx->st);
    for (int k = 0; k < N; k++) {
        struct incident i;
        incident_bare(&i, id, NULL, "fp", INCIDENT_NEW, 1);
        free(i.title);
        i.title = xasprintf("v%d", k);
        struct store_batch *b = store_batch_new();
        store_batch_incident(b, &i);
        struct audit_entry a = {.time_ms = 1, .actor = (char *)"hale", .action = i.title};
        store_batch_audit(b, &a);
        store_submit(fx->st, b, outcome_cb, &o[k]);
        incident_fini(&i);
        if (k % 50 == 0)
            uv_run(&fx->uv, UV_RUN_NOWAIT); /* let some groups finish in between */
    }
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    for (int k = 0; k < N; k++) {
        assert_int_equal(o[k].result, 0);
        assert_int_equal(o[k].order, k);
    }
    struct store_reader *r = reader_open(fx);
    struct incident got;
    assert_int_equal(store_incident_get(r, id, &got), 0);
    assert_string_equal(got.title, "v299"); /* the last replacement won */
    incident_fini(&got);
    struct audit_entry *v;
    size_t n;
    assert_int_equal(store_audit_list(r, &(struct store_audit_query){0}, &v, &n), 0);
    assert_int_equal(n, N);
    for (size_t k = 0; k < n; k++) {
        char want[32];
        snprintf(want, sizeof(want), "v%zu", k);
        assert_string_equal(v[k].action, want);
        audit_entry_fini(&v[k]);
    }
    free(v);
    store_reader_close(r);
}

/* Three batches in one group; the middle one has a timeline entry for no incident. */
static void submit_good_bad_good(struct fixture *fx, struct outcome o[3], int64_t ids[2])
{
    for (int k = 0; k < 3; k++) {
        struct store_batch *b = store_batch_new();
        char action[16];
        snprintf(action, sizeof(action), "batch%d", k);
        struct audit_entry a = {.time_ms = k, .actor = (char *)"hale", .action = action};
        store_batch_audit(b, &a);
        if (k == 1) {
            add_timeline(b, 424242, 1, "for an incident that does not exist");
        } else {
            struct incident i;
            ids[k / 2] = store_next_incident_id(fx->st);
            incident_bare(&i, ids[k / 2], NULL, "fp", INCIDENT_NEW, 1);
            store_batch_incident(b, &i);
            add_timeline(b, i.id, 1, "opened");
            incident_fini(&i);
        }
        store_submit(fx->st, b, outcome_cb, &o[k]);
    }
    uv_run(&fx->uv, UV_RUN_DEFAULT);
}

static void assert_good_bad_good_written(struct fixture *fx, const struct outcome o[3],
                                         const int64_t ids[2])
{
    assert_int_equal(o[0].result, 0);
    assert_int_equal(o[1].result, HALE_ESTORE);
    assert_int_equal(o[2].result, 0);
    for (int k = 0; k < 3; k++)
        assert_int_equal(o[k].calls, 1);
    struct store_reader *r = reader_open(fx);
    struct incident got;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(store_incident_get(r, ids[k], &got), 0);
        incident_fini(&got);
    }
    struct audit_entry *v;
    size_t n;
    assert_int_equal(store_audit_list(r, &(struct store_audit_query){0}, &v, &n), 0);
    assert_int_equal(n, 2); /* nothing of the failed batch */
    assert_string_equal(v[0].action, "batch0");
    assert_string_equal(v[1].action, "batch2");
    for (size_t k = 0; k < n; k++)
        audit_entry_fini(&v[k]);
    free(v);
    store_reader_close(r);
}

static void test_store_bad_batch_fails_alone(void **state)
{
    struct fixture *fx = *state;
    fx_open_window(fx, 200); /* wide enough that the three surely share a group */
    struct outcome o[3] = {0};
    int64_t ids[2];
    uint64_t before = store__commits(fx->st);
    submit_good_bad_good(fx, o, ids);
    assert_good_bad_good_written(fx, o, ids);
    assert_int_equal(store__commits(fx->st) - before, 2); /* the two good ones, alone */
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

static void test_store_failed_commit_retries_each_batch_alone(void **state)
{
    struct fixture *fx = *state;
    faulty_backend = store__sqlite;
    faulty_backend.commit = faulty_commit;
    struct store_options opts = {.data_dir = fx->data_dir, .uv = &fx->uv, .commit_window_ms = 200};
    struct err e = {0};
    assert_int_equal(store__open_backend(&opts, &faulty_backend, &fx->st, &e), 0);

    /* Commit 0 (the group) and 2 (the middle batch alone) fail: a disk error, say. */
    faulty_commits = 0;
    faulty_fail_mask = (1u << 0) | (1u << 2);
    struct outcome o[3] = {0};
    int64_t ids[2];
    for (int k = 0; k < 3; k++) {
        struct store_batch *b = store_batch_new();
        char action[16];
        snprintf(action, sizeof(action), "batch%d", k);
        struct audit_entry a = {.time_ms = k, .actor = (char *)"hale", .action = action};
        store_batch_audit(b, &a);
        if (k != 1) {
            struct incident i;
            ids[k / 2] = store_next_incident_id(fx->st);
            incident_bare(&i, ids[k / 2], NULL, "fp", INCIDENT_NEW, 1);
            store_batch_incident(b, &i);
            incident_fini(&i);
        }
        store_submit(fx->st, b, outcome_cb, &o[k]);
    }
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(faulty_commits, 4);
    assert_good_bad_good_written(fx, o, ids);
}

static void test_store_ids_continue_after_reopen(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    for (int k = 0; k < 3; k++) {
        struct incident i;
        incident_bare(&i, store_next_incident_id(fx->st), NULL, "fp", INCIDENT_NEW, 1);
        store_batch_incident(b, &i);
        incident_fini(&i);
    }
    struct problem p = {
            .id = store_next_problem_id(fx->st), .title = (char *)"p", .fingerprint = (char *)"fp"};
    assert_int_equal(p.id, 1);
    store_batch_problem(b, &p);
    assert_int_equal(write_batch(fx, b), 0);
    fx_close(fx);

    fx_open(fx);
    assert_int_equal(store_next_incident_id(fx->st), 4);
    assert_int_equal(store_next_incident_id(fx->st), 5);
    assert_int_equal(store_next_problem_id(fx->st), 2);
}

/* ---- silences ----------------------------------------------------------- */

/* A silence people created, with its times and an end chosen by the test. */
static struct store_silence silence_row(int64_t id, int64_t created_ms, int64_t ends_ms)
{
    return (struct store_silence){
            .id = id,
            .source = (char *)"api",
            .matchers = (char *)"{service=\"web\"}",
            .starts_ms = created_ms,
            .ends_ms = ends_ms,
            .comment = (char *)"deploy",
            .created_by = (char *)"user:alice",
            .created_ms = created_ms,
    };
}

static void test_store_silences_round_trip_and_replace(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_silence full = {
            .id = store_next_silence_id(fx->st),
            .source = (char *)"api",
            .matchers = (char *)"{env=\"prod\", service=~\"db.*\"}",
            .starts_ms = 1000,
            .ends_ms = 0,
            .weekly = (char *)"Mon-Fri 22:00-06:00",
            .incident_id = 42, /* no such incident: a silence outlives its incident */
            .comment = (char *)"nightly batch",
            .created_by = (char *)"user:bob",
            .created_ms = 900,
    };
    assert_int_equal(full.id, 1);
    struct store_batch *b = store_batch_new();
    store_batch_silence(b, &full);
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    struct store_silence got = {0};
    assert_int_equal(store_silence_get(r, 1, &got), 0);
    assert_string_equal(got.source, "api");
    assert_string_equal(got.matchers, full.matchers);
    assert_int_equal(got.starts_ms, 1000);
    assert_int_equal(got.ends_ms, 0);
    assert_string_equal(got.weekly, "Mon-Fri 22:00-06:00");
    assert_int_equal(got.incident_id, 42);
    assert_string_equal(got.comment, "nightly batch");
    assert_string_equal(got.created_by, "user:bob");
    assert_int_equal(got.created_ms, 900);
    assert_int_equal(got.ended_ms, 0);
    assert_null(got.ended_by);
    store_silence_fini(&got);

    /* Ended early: the same id, replaced whole. */
    full.ends_ms = 5000;
    full.ended_ms = 5000;
    full.ended_by = (char *)"user:carol";
    full.weekly = NULL;
    full.incident_id = 0;
    b = store_batch_new();
    store_batch_silence(b, &full);
    assert_int_equal(write_batch(fx, b), 0);
    assert_int_equal(store_silence_get(r, 1, &got), 0);
    assert_int_equal(got.ends_ms, 5000);
    assert_int_equal(got.ended_ms, 5000);
    assert_string_equal(got.ended_by, "user:carol");
    assert_null(got.weekly);
    assert_int_equal(got.incident_id, 0);
    store_silence_fini(&got);
    assert_int_equal(store_silence_get(r, 2, &got), HALE_ENOTFOUND);
    store_reader_close(r);
}

static void list_ids_are(struct store_reader *r, const struct store_silence_query *q,
                         const int64_t *want, size_t n_want)
{
    struct store_silence *v = NULL;
    size_t n = 0;
    assert_int_equal(store_silences_list(r, q, &v, &n), 0);
    assert_int_equal(n, n_want);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i].id, want[i]);
        store_silence_fini(&v[i]);
    }
    free(v);
}

static void test_store_silences_query_over_since_and_cursor(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    /* 1 ended at 2000, 2 ends at 5000, 3 has no end, 4 ended at 3000 (exactly "now" below). */
    const int64_t ends[] = {2000, 5000, 0, 3000};
    struct store_batch *b = store_batch_new();
    for (int k = 0; k < 4; k++) {
        struct store_silence s = silence_row(store_next_silence_id(fx->st), 100 * (k + 1), ends[k]);
        store_batch_silence(b, &s);
    }
    assert_int_equal(write_batch(fx, b), 0);
    struct store_reader *r = reader_open(fx);

    list_ids_are(r, &(struct store_silence_query){0}, (int64_t[]){4, 3, 2, 1}, 4);
    list_ids_are(r, &(struct store_silence_query){.filter = STORE_SILENCES_OVER, .at_ms = 3000},
                 (int64_t[]){4, 1}, 2);
    list_ids_are(r, &(struct store_silence_query){.filter = STORE_SILENCES_NOT_OVER, .at_ms = 3000},
                 (int64_t[]){3, 2}, 2);
    list_ids_are(r, &(struct store_silence_query){.since_ms = 300}, (int64_t[]){4, 3}, 2);
    list_ids_are(r, &(struct store_silence_query){.before_id = 4, .limit = 2}, (int64_t[]){3, 2},
                 2);
    list_ids_are(r, &(struct store_silence_query){.before_id = 2}, (int64_t[]){1}, 1);
    store_reader_close(r);

    /* Ids go on after a restart, as incidents' do. */
    fx_close(fx);
    fx_open(fx);
    assert_int_equal(store_next_silence_id(fx->st), 5);
}

static void test_store_close_drains_the_queue(void **state)
{
    struct fixture *fx = *state;
    fx_open_window(fx, 50);
    enum {
        N = 200
    };
    static struct outcome o[N];
    memset(o, 0, sizeof(o));
    for (int k = 0; k < N; k++) {
        struct store_batch *b = store_batch_new();
        store_batch_check_state(b, "web", 0, k);
        store_submit(fx->st, b, outcome_cb, &o[k]);
    }
    store_close(fx->st); /* without running the loop: close itself calls back */
    fx->st = NULL;
    for (int k = 0; k < N; k++) {
        assert_int_equal(o[k].calls, 1);
        assert_int_equal(o[k].result, 0);
    }
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM check_states"), N);
}

static char *file_read(const char *path, size_t *ret_len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = xmalloc(1 << 20);
    *ret_len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static void test_store_refuses_a_newer_schema(void **state)
{
    struct fixture *fx = *state;
    assert_int_equal(mkdir(fx->data_dir, 0700), 0);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE future (x); INSERT INTO future VALUES (1);"
                                  "PRAGMA user_version = 99",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    size_t len_before, len_after;
    char *before = file_read(fx->db_path, &len_before);

    struct store_options o = {.data_dir = fx->data_dir, .uv = &fx->uv};
    struct err e = {0};
    struct store *st = NULL;
    assert_int_equal(store_open(&o, &st, &e), HALE_ESTORE);
    assert_null(st);
    char *want = xasprintf("%s was written by a newer hale (schema version 99; this hale knows "
                           "up to %d): run that hale, or restore a backup made with this one",
                           fx->db_path, STORE_SCHEMA_VERSION);
    assert_string_equal(e.msg, want);
    free(want);

    char *after = file_read(fx->db_path, &len_after);
    assert_int_equal(len_after, len_before);
    assert_memory_equal(after, before, len_before);
    free(before);
    free(after);
    assert_int_equal(count_rows(fx->db_path, "PRAGMA user_version"), 99);
}

/* A database of schema 1 (the first hale) is brought to the current schema, its rows kept. */
static void test_store_migrates_a_version_1_database(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    struct problem p = {
            .id = store_next_problem_id(fx->st), .title = (char *)"p", .fingerprint = (char *)"fp"};
    store_batch_problem(b, &p);
    assert_int_equal(write_batch(fx, b), 0);
    fx_close(fx);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  TESTUTIL_SCHEMA_BACK_TO_3
                                  "DROP TABLE problem_timeline; PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);

    fx_open(fx);
    b = store_batch_new();
    struct timeline_entry t = {.problem_id = p.id,
                               .time_ms = 1,
                               .kind = TIMELINE_NOTE,
                               .actor = (char *)"user:alice",
                               .text = (char *)"after the upgrade"};
    store_batch_timeline(b, &t);
    assert_int_equal(write_batch(fx, b), 0);
    fx_close(fx);
    assert_int_equal(count_rows(fx->db_path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM problems"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM problem_timeline"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM silences"), 0);
}

/* An event as the engine records it; fp and verdict vary, the rest is fixed. */
static void event_make(struct store_event *ev, int64_t incident_id, uint64_t fp, const char *status,
                       const char *verdict, int64_t received_ms)
{
    *ev = (struct store_event){
            .incident_id = incident_id,
            .received_ms = received_ms,
            .source = xstrdup("alertmanager"),
            .status = xstrdup(status),
            .severity = xstrdup("critical"),
            .fingerprint = fp,
            .summary = xstrdup("Disk / on db-01 is 97% full"),
            .starts_ms = received_ms - 5,
            .verdict = xstrdup(verdict),
            .sender = xstrdup("user:am"),
            .reason = xstrdup("new incident"),
    };
    labels_init(&ev->labels);
    labels_init(&ev->annotations);
    labels_set(&ev->labels, "alertname", "DiskFull", NULL);
    labels_set(&ev->annotations, "runbook_url", "", NULL);
}

static void events_free(struct store_event *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        store_event_fini(&v[k]);
    free(v);
}

/* Events come back whole, newest first, by incident, time and page; held ones are found. */
static void test_store_events_round_trip_and_held(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct incident open, done;
    incident_bare(&open, store_next_incident_id(fx->st), NULL, "fp-a", INCIDENT_NEW, 1);
    incident_bare(&done, store_next_incident_id(fx->st), NULL, "fp-b", INCIDENT_RESOLVED, 1);
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, &open);
    store_batch_incident(b, &done);
    struct store_event ev;
    /* On the open incident: a still firing (repeated), b resolved, c silenced. */
    const struct {
        int64_t incident;
        uint64_t fp;
        const char *status, *verdict;
    } rows[] = {
            {open.id, 0xa, "firing", "new"},
            {open.id, 0xb, "firing", "join"},
            {open.id, 0xa, "firing", "duplicate"},
            {open.id, 0xb, "resolved", "resolve"},
            {0, 0xc, "firing", "silenced"},
            {done.id, 0xd, "firing", "new"},
            {open.id, 0xfedcba9876543210, "firing", "symptom"},
    };
    for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
        event_make(&ev, rows[k].incident, rows[k].fp, rows[k].status, rows[k].verdict,
                   1000 + (int64_t)k);
        store_batch_event(b, &ev);
        store_event_fini(&ev);
    }
    assert_int_equal(write_batch(fx, b), 0);

    struct store_reader *r = reader_open(fx);
    struct store_event *v;
    size_t n;
    assert_int_equal(store_events_list(r, &(struct store_event_query){0}, &v, &n), 0);
    assert_int_equal(n, 7);
    assert_true(v[0].id > v[1].id);
    assert_int_equal(v[0].fingerprint, 0xfedcba9876543210);
    assert_int_equal(v[0].incident_id, open.id);
    assert_int_equal(v[0].received_ms, 1006);
    assert_string_equal(v[0].source, "alertmanager");
    assert_string_equal(v[0].status, "firing");
    assert_string_equal(v[0].severity, "critical");
    assert_string_equal(v[0].verdict, "symptom");
    assert_string_equal(v[0].summary, "Disk / on db-01 is 97% full");
    assert_string_equal(v[0].sender, "user:am");
    assert_string_equal(v[0].reason, "new incident");
    assert_int_equal(v[0].starts_ms, 1001);
    assert_int_equal(v[0].ends_ms, 0);
    assert_string_equal(labels_get(&v[0].labels, "alertname"), "DiskFull");
    assert_string_equal(labels_get(&v[0].annotations, "runbook_url"), "");
    assert_int_equal(v[2].incident_id, 0); /* silenced: no incident */
    int64_t cursor = v[3].id;
    events_free(v, n);

    assert_int_equal(
            store_events_list(r, &(struct store_event_query){.incident_id = open.id}, &v, &n), 0);
    assert_int_equal(n, 5);
    events_free(v, n);
    assert_int_equal(store_events_list(r,
                                       &(struct store_event_query){.incident_id = open.id,
                                                                   .before_id = cursor,
                                                                   .limit = 2},
                                       &v, &n),
                     0);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].verdict, "duplicate");
    assert_string_equal(v[1].verdict, "join");
    events_free(v, n);
    assert_int_equal(store_events_list(r, &(struct store_event_query){.since_ms = 1005}, &v, &n),
                     0);
    assert_int_equal(n, 2);
    events_free(v, n);

    /* Held: what still fires on open incidents (a, and the symptom); not b, c or d. */
    struct store_held_event *h;
    assert_int_equal(store_events_held(r, 0, &h, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(h[0].incident_id, open.id);
    assert_int_equal(h[0].fingerprint, 0xa);
    assert_int_equal(h[0].starts_ms, 997); /* of its last event, the repeat */
    assert_int_equal(h[1].fingerprint, 0xfedcba9876543210);
    free(h);
    assert_int_equal(store_events_held(r, done.id, &h, &n), 0);
    assert_int_equal(n, 1); /* asked for by id, a resolved incident's too */
    free(h);
    store_reader_close(r);
    incident_fini(&open);
    incident_fini(&done);
}

/* A database of schema version 3 keeps its incidents; the engine's fields start empty. */
static void test_store_migrates_a_version_3_database(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    fx_close(fx);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->db_path, &db), SQLITE_OK);
    assert_int_equal(
            sqlite3_exec(db,
                         TESTUTIL_SCHEMA_BACK_TO_3
                         "INSERT INTO incidents (id, type, title, fingerprint, labels, severity,"
                         " priority, category, check_name, state, opened_ms, acknowledged_ms,"
                         " resolved_ms, closed_ms, reopened, updated_ms) VALUES (1, 'incident',"
                         " 'web is critical', 'check:web', '{}', 'critical', 2, 'network',"
                         " 'web', 'new', 5, 0, 0, 0, 0, 5); PRAGMA user_version = 3",
                         NULL, NULL, NULL),
            SQLITE_OK);
    sqlite3_close(db);
    fx_open(fx);
    struct store_reader *r = reader_open(fx);
    struct incident i;
    assert_int_equal(store_incident_get(r, 1, &i), 0);
    assert_string_equal(i.fingerprint, "check:web");
    assert_null(i.service);
    assert_null(i.runbook);
    assert_int_equal(i.symptom_of, 0);
    assert_int_equal(i.events, 0);
    incident_fini(&i);
    store_reader_close(r);
    assert_int_equal(count_rows(fx->db_path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
}

static void test_store_open_says_what_is_wrong(void **state)
{
    struct fixture *fx = *state;
    struct store_options o = {.data_dir = fx->data_dir, .uv = &fx->uv};
    struct err e = {0};
    struct store *st = NULL;

    FILE *f = fopen(fx->data_dir, "w"); /* a file where the directory should be */
    assert_non_null(f);
    fclose(f);
    assert_int_equal(store_open(&o, &st, &e), HALE_ESTORE);
    assert_non_null(strstr(e.msg, "cannot create the data directory"));
    assert_non_null(strstr(e.msg, fx->data_dir));
    assert_int_equal(unlink(fx->data_dir), 0);

    assert_int_equal(mkdir(fx->data_dir, 0700), 0);
    f = fopen(fx->db_path, "w");
    assert_non_null(f);
    fputs("these are not the pages of a database, but they are long enough to look at\n", f);
    fclose(f);
    e = (struct err){0};
    assert_int_equal(store_open(&o, &st, &e), HALE_ESTORE);
    assert_null(st);
    assert_non_null(strstr(e.msg, fx->db_path));
    assert_non_null(strstr(e.msg, "not a database"));
}

static void test_store_reader_sees_commits_and_never_blocks_the_writer(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_reader *r = reader_open(fx);
    struct incident i;
    incident_bare(&i, store_next_incident_id(fx->st), NULL, "fp", INCIDENT_NEW, 1);
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, &i);
    assert_int_equal(write_batch(fx, b), 0);
    struct incident got;
    assert_int_equal(store_incident_get(r, i.id, &got), 0); /* an acknowledged write is visible */
    incident_fini(&got);

    /* Another connection holds a read transaction open over the writes below. */
    sqlite3 *held;
    assert_int_equal(sqlite3_open_v2(fx->db_path, &held, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_exec(held, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(held, "SELECT COUNT(*) FROM incidents", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    sqlite3_reset(s);

    enum {
        N = 50
    };
    struct outcome o[N] = {0};
    for (int k = 0; k < N; k++) {
        incident_fini(&i);
        incident_bare(&i, store_next_incident_id(fx->st), NULL, "fp", INCIDENT_NEW, 1);
        b = store_batch_new();
        store_batch_incident(b, &i);
        store_submit(fx->st, b, outcome_cb, &o[k]);
        if (k % 10 == 0)
            uv_run(&fx->uv, UV_RUN_DEFAULT); /* several commits, each under the held snapshot */
    }
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    for (int k = 0; k < N; k++)
        assert_int_equal(o[k].result, 0);

    /* The held transaction still sees its snapshot; the store's reader sees everything. */
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(s, 0), 1);
    sqlite3_finalize(s);
    sqlite3_exec(held, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(held);
    struct incident *v;
    size_t n;
    assert_int_equal(store_incidents_list(r, &(struct store_incident_query){0}, &v, &n), 0);
    assert_int_equal(n, N + 1);
    incidents_free(v, n);
    store_reader_close(r);
    incident_fini(&i);
}

/* ---- crashes ---------------------------------------------------------- */

#define CRASH_ROUNDS    5
#define CRASH_IN_FLIGHT 32

struct crash_child {
    struct store *st;
    int fd;
};

struct crash_write {
    struct crash_child *child;
    int64_t id;
};

static void crash_submit(struct crash_child *c);

/* Acknowledges a durable incident to the parent, then writes the next. */
static void crash_done(int result, void *data)
{
    struct crash_write *w = data;
    if (result == 0 && write(w->child->fd, &w->id, sizeof(w->id)) != sizeof(w->id))
        _exit(3);
    crash_submit(w->child);
    free(w);
}

static void crash_submit(struct crash_child *c)
{
    struct crash_write *w = xcalloc(1, sizeof(*w));
    w->child = c;
    w->id = store_next_incident_id(c->st);
    struct incident i;
    incident_bare(&i, w->id, "web", "fp-crash", INCIDENT_NEW, w->id);
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, &i);
    add_timeline(b, i.id, 1, "opened");
    store_submit(c->st, b, crash_done, w);
    incident_fini(&i);
}

/* The child: writes incidents forever, CRASH_IN_FLIGHT at a time, until killed. */
static void crash_child_run(const char *data_dir, int fd)
{
    uv_loop_t uv;
    if (uv_loop_init(&uv) < 0)
        _exit(2);
    struct crash_child c = {.fd = fd};
    struct store_options o = {.data_dir = data_dir, .uv = &uv};
    if (store_open(&o, &c.st, NULL) < 0)
        _exit(2);
    for (int k = 0; k < CRASH_IN_FLIGHT; k++)
        crash_submit(&c);
    uv_run(&uv, UV_RUN_DEFAULT);
    _exit(4);
}

/* Kills a writer after `after` acknowledgements; returns every id it acknowledged. */
static int64_t *crash_round(const char *data_dir, size_t after, size_t *ret_n)
{
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        crash_child_run(data_dir, p[1]);
    }
    close(p[1]);
    size_t n = 0, cap = after + 4096;
    int64_t *ids = xmalloc(cap * sizeof(*ids));
    bool killed = false;
    for (;;) {
        ssize_t got = read(p[0], &ids[n], sizeof(ids[n]));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        assert_int_equal(got, sizeof(ids[n]));
        if (++n == cap)
            ids = xreallocarray(ids, cap *= 2, sizeof(*ids));
        if (n >= after && !killed) {
            kill(pid, SIGKILL); /* the pipe still holds what was acknowledged before */
            killed = true;
        }
    }
    close(p[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    *ret_n = n;
    return ids;
}

static void assert_intact_with(const char *db_path, const int64_t *ids, size_t n)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "ok");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT COUNT(*) FROM incidents i JOIN timeline t"
                                        " ON t.incident_id = i.id WHERE i.id = ?1",
                                        -1, &s, NULL),
                     SQLITE_OK);
    for (size_t k = 0; k < n; k++) {
        sqlite3_bind_int64(s, 1, ids[k]);
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        if (sqlite3_column_int(s, 0) != 1)
            fail_msg("incident %lld was acknowledged and is lost", (long long)ids[k]);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static void test_store_sigkill_loses_nothing_acknowledged(void **state)
{
    struct fixture *fx = *state;
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    int64_t highest = 0;
    for (int round = 0; round < CRASH_ROUNDS; round++) {
        size_t after = 200 + (size_t)(rand() % 800), n;
        int64_t *ids = crash_round(fx->data_dir, after, &n);
        assert_true(n >= after);
        assert_intact_with(fx->db_path, ids, n);
        for (size_t k = 0; k < n; k++)
            if (ids[k] > highest)
                highest = ids[k];
        free(ids);
        /* The store opens the crashed database, and its ids go on past what was acknowledged. */
        fx_open(fx);
        assert_true(store_next_incident_id(fx->st) > highest);
        fx_close(fx);
    }
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

/* Labels as the column keeps them: sorted keys, JSON's escapes, the same text back. */
static void test_store_labels_json_text(void **state)
{
    (void)state;
    struct labels l;
    labels_init(&l);
    labels_set(&l, "summary", "disk \"/\" at 97%\n\tcaf\xc3\xa9 \x01", NULL);
    labels_set(&l, "alertname", "DiskFull", NULL);
    labels_set(&l, "Zone", "a\\b", NULL);
    char *text = NULL;
    assert_int_equal(store__labels_to_json(&l, &text), 0);
    assert_string_equal(text, "{\"Zone\":\"a\\\\b\",\"alertname\":\"DiskFull\","
                              "\"summary\":\"disk \\\"/\\\" at 97%\\n\\tcaf\xc3\xa9 \\u0001\"}");
    struct labels back;
    assert_int_equal(store__labels_from_json(text, &back), 0);
    assert_int_equal(back.n, 3);
    assert_string_equal(labels_get(&back, "summary"), labels_get(&l, "summary"));
    labels_fini(&back);
    free(text);

    labels_set(&l, "bad", "\xc3(", NULL); /* not UTF-8 */
    text = NULL;
    assert_int_equal(store__labels_to_json(&l, &text), HALE_EPARSE);
    assert_null(text);
    labels_fini(&l);

    labels_init(&l);
    assert_int_equal(store__labels_to_json(&l, &text), 0);
    assert_string_equal(text, "{}");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            TEST(test_store_open_creates_a_wal_database),
            TEST(test_store_round_trip_of_every_record),
            TEST(test_store_replaces_incidents_and_problems_by_id),
            TEST(test_store_incident_query_filters_and_cursor),
            TEST(test_store_timeline_oldest_first),
            TEST(test_store_check_states_window_with_the_state_before_it),
            TEST(test_store_audit_since_and_limit),
            TEST(test_store_audit_in_the_order_written),
            TEST(test_store_problem_timeline),
            TEST(test_store_group_commit_groups_batches),
            TEST(test_store_batches_commit_in_submission_order),
            TEST(test_store_bad_batch_fails_alone),
            TEST(test_store_failed_commit_retries_each_batch_alone),
            TEST(test_store_ids_continue_after_reopen),
            TEST(test_store_silences_round_trip_and_replace),
            TEST(test_store_silences_query_over_since_and_cursor),
            TEST(test_store_close_drains_the_queue),
            TEST(test_store_refuses_a_newer_schema),
            TEST(test_store_migrates_a_version_1_database),
            TEST(test_store_events_round_trip_and_held),
            TEST(test_store_migrates_a_version_3_database),
            TEST(test_store_open_says_what_is_wrong),
            TEST(test_store_reader_sees_commits_and_never_blocks_the_writer),
            TEST(test_store_sigkill_loses_nothing_acknowledged),
            cmocka_unit_test(test_store_labels_json_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
