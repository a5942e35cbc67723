/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's retention on SQLite, with a simulated `now`: a
 * compaction pass deletes exactly what expired of each kind and keeps what
 * people and reports rely on (incidents not closed, those of a problem
 * still open, each incident's first event, each check's last state, the
 * audit log by default); it works in chunks between batches, reports its
 * totals, gives the space back so the file shrinks, and stops cleanly on
 * errors and at close. Also the cap of a stored text, and the migration
 * of a version 1 database to incremental auto-vacuum.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "base/alloc.h"
#include "itsm/incident.h"
#include "store/internal.h"
#include "store/store.h"
#include "testutil.h"

#define DAY       (24ll * 3600 * 1000)
#define NOW       (1000 * DAY) /* the simulated present of every pass */
#define AGO(days) (NOW - (int64_t)((days)*DAY))

/* What the default configuration keeps: see docs/configuration.md. */
static const struct store_retention defaults = {
        .closed_incidents_ms = 400 * DAY,
        .events_ms = 30 * DAY,
        .outputs_ms = 30 * DAY,
        .check_states_ms = 400 * DAY,
        .audit_ms = 0,
};

struct fixture {
    char dir[64];
    char *data_dir;
    char *db_path;
    uv_loop_t uv;
    struct store *st;
};

static int fixture_setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-retention-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->data_dir = xasprintf("%s/data", fx->dir);
    fx->db_path = xasprintf("%s/hale.db", fx->data_dir);
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    *state = fx;
    return 0;
}

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

static void fx_open_with(struct fixture *fx, const struct store_backend *backend, unsigned chunk,
                         size_t output_max)
{
    struct store_options o = {.data_dir = fx->data_dir,
                              .uv = &fx->uv,
                              .compact_chunk = chunk,
                              .output_max = output_max};
    struct err e = {0};
    if (store__open_backend(&o, backend ? backend : &store__sqlite, &fx->st, &e) != 0)
        fail_msg("store_open: %s", e.msg);
}

static void fx_open(struct fixture *fx)
{
    fx_open_with(fx, NULL, 0, 0);
}

static int outcome_seq;

struct outcome {
    int calls, result, order;
};

static void outcome_cb(int result, void *data)
{
    struct outcome *o = data;
    o->calls++;
    o->result = result;
    o->order = outcome_seq++;
}

static void write_batch(struct fixture *fx, struct store_batch *b)
{
    struct outcome o = {0};
    store_submit(fx->st, b, outcome_cb, &o);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.result, 0);
}

/* What a pass's callback heard. */
struct pass {
    int calls, result, order;
    struct store_compaction c;
};

static void pass_cb(int result, const struct store_compaction *c, void *data)
{
    struct pass *p = data;
    p->calls++;
    p->result = result;
    p->c = *c;
    p->order = outcome_seq++;
}

/* Runs one pass at the simulated NOW to its end. */
static struct pass compact(struct fixture *fx, const struct store_retention *r)
{
    struct pass p = {0};
    assert_int_equal(store_compact(fx->st, r, NOW, pass_cb, &p), 0);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    return p;
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

/* ---- records ---------------------------------------------------------- */

static void add_incident(struct store_batch *b, int64_t id, enum incident_state state,
                         int64_t opened_ms, int64_t closed_ms, int64_t problem_id)
{
    struct incident i = {
            .id = id,
            .title = (char *)"disk full",
            .fingerprint = (char *)"check:disk",
            .priority = 3,
            .state = state,
            .opened_ms = opened_ms,
            .resolved_ms = closed_ms,
            .closed_ms = closed_ms,
            .problem_id = problem_id,
    };
    store_batch_incident(b, &i);
}

static void add_entry(struct store_batch *b, int64_t incident_id, int64_t time_ms,
                      enum timeline_kind kind, char *text)
{
    struct timeline_entry t = {.incident_id = incident_id,
                               .time_ms = time_ms,
                               .kind = kind,
                               .actor = (char *)"hale",
                               .text = text};
    store_batch_timeline(b, &t);
}

static void add_problem(struct store_batch *b, int64_t id, enum problem_state state)
{
    struct problem p = {.id = id,
                        .title = (char *)"disk keeps filling",
                        .fingerprint = (char *)"check:disk",
                        .state = state,
                        .opened_ms = AGO(900)};
    store_batch_problem(b, &p);
}

static void add_audit(struct store_batch *b, int64_t time_ms, char *action)
{
    struct audit_entry a = {.time_ms = time_ms, .actor = (char *)"user:alice", .action = action};
    store_batch_audit(b, &a);
}

/* A full timeline, every kind at every age: what a year-old incident has. */
static void add_timeline(struct store_batch *b, int64_t id)
{
    add_entry(b, id, AGO(900), TIMELINE_EVENT, "critical: disk 97% full");
    add_entry(b, id, AGO(900), TIMELINE_STATE, "opened as P3 (hardware)");
    add_entry(b, id, AGO(899), TIMELINE_EVENT, "critical: disk 98% full");
    add_entry(b, id, AGO(898), TIMELINE_NOTE, "looking");
    add_entry(b, id, AGO(898), TIMELINE_STEP_OUTPUT, "deleted 3 GiB of logs");
    add_entry(b, id, AGO(20), TIMELINE_EVENT, "critical: disk 99% full");
    add_entry(b, id, AGO(20), TIMELINE_STEP_OUTPUT, "deleted 1 GiB of logs");
}

static bool incident_exists(struct store_reader *r, int64_t id)
{
    struct incident i;
    int rc = store_incident_get(r, id, &i);
    if (rc == 0)
        incident_fini(&i);
    else
        assert_int_equal(rc, HALE_ENOTFOUND);
    return rc == 0;
}

/* The texts of an incident's timeline, oldest first, joined with '|'. */
static char *timeline_texts(struct store_reader *r, int64_t id)
{
    struct timeline_entry *v;
    size_t n;
    assert_int_equal(store_timeline_list(r, id, &v, &n), 0);
    char *s = xstrdup("");
    for (size_t k = 0; k < n; k++) {
        char *next = xasprintf("%s%s%s", s, k ? "|" : "", v[k].text);
        free(s);
        s = next;
        timeline_entry_fini(&v[k]);
    }
    free(v);
    return s;
}

/* ---- what a pass deletes ---------------------------------------------- */

static void add_event(struct store_batch *b, int64_t incident_id, int64_t received_ms)
{
    struct store_event ev = {.incident_id = incident_id,
                             .received_ms = received_ms,
                             .source = (char *)"api",
                             .status = (char *)"firing",
                             .severity = (char *)"warning",
                             .fingerprint = 42,
                             .summary = (char *)"disk full",
                             .verdict = (char *)(incident_id ? "duplicate" : "silenced")};
    labels_init(&ev.labels);
    labels_init(&ev.annotations);
    store_batch_event(b, &ev);
}

/*
 * Events received expire with the events kind; each incident keeps its
 * first, an open one all of them; a closed one's go with it.
 */
static void test_store_retention_deletes_expired_events_received(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    /* The closed one first: the newest incident is kept whatever its age (its id is the last). */
    add_incident(b, 1, INCIDENT_CLOSED, AGO(900), AGO(500), 0);
    add_incident(b, 2, INCIDENT_RESOLVED, AGO(900), AGO(800), 0);
    add_incident(b, 3, INCIDENT_NEW, AGO(900), 0, 0); /* open: says what still fires */
    for (int64_t id = 1; id <= 3; id++) {
        add_event(b, id, AGO(900));
        add_event(b, id, AGO(899));
        add_event(b, id, AGO(1));
    }
    add_event(b, 0, AGO(900)); /* silenced, long ago */
    add_event(b, 0, AGO(1));
    write_batch(fx, b);

    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.incidents, 1);
    assert_int_equal(p.c.timeline, 3); /* incident 1's events, with it */
    assert_int_equal(p.c.events, 2);   /* incident 2's second and the old silenced one */
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM events"), 6);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM events WHERE incident_id = 3"),
                     3);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM events WHERE incident_id = 2"
                                             " AND received_ms = " /* its first is kept */
                                             "(SELECT MIN(received_ms) FROM events)"),
                     1);
}

/* A row still counting repeats is as old as its latest one: it is not deleted under its counter. */
static void test_store_retention_keeps_an_event_still_repeated(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_RESOLVED, AGO(900), AGO(800), 0);
    add_event(b, 1, AGO(900)); /* the first: kept */
    add_event(b, 1, AGO(899)); /* repeated a day ago */
    add_event(b, 1, AGO(898)); /* repeated long ago */
    add_event(b, 1, AGO(897)); /* never repeated */
    add_event(b, 1, AGO(1));   /* recent */
    write_batch(fx, b);
    b = store_batch_new();
    store_batch_event_repeats(b, 2, 3, AGO(1));
    store_batch_event_repeats(b, 3, 1, AGO(800));
    write_batch(fx, b);

    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.events, 2);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM events WHERE id IN (1, 2, 5)"),
                     3);
    assert_int_equal(
            count_rows(fx->db_path, "SELECT repeats FROM events WHERE id = 2 AND last_ms > 0"), 3);
}

static void test_store_retention_deletes_exactly_what_expired(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    add_problem(b, 1, PROBLEM_OPEN);
    add_problem(b, 2, PROBLEM_RESOLVED);
    /* 1: closed 500 days ago: expired. 2: closed 100 days ago: kept, its timeline trimmed. */
    add_incident(b, 1, INCIDENT_CLOSED, AGO(900), AGO(500), 0);
    add_incident(b, 2, INCIDENT_CLOSED, AGO(900), AGO(100), 0);
    /* 3: open for 900 days, 4: resolved and never closed: not closed, so kept. */
    add_incident(b, 3, INCIDENT_IN_PROGRESS, AGO(900), 0, 0);
    add_incident(b, 4, INCIDENT_RESOLVED, AGO(900), 0, 0);
    /* 5: expired, but evidence of a problem still open; 6: of a resolved one. */
    add_incident(b, 5, INCIDENT_CLOSED, AGO(900), AGO(500), 1);
    add_incident(b, 6, INCIDENT_CLOSED, AGO(900), AGO(500), 2);
    /* 7: closed exactly 400 days ago: not yet older than the retention. */
    add_incident(b, 7, INCIDENT_CLOSED, AGO(900), AGO(400), 0);
    for (int64_t id = 1; id <= 7; id++)
        add_timeline(b, id);
    /* web changed thrice, db once, long ago: db's only state is the one it is in. */
    store_batch_check_state(b, "web", 2, AGO(600));
    store_batch_check_state(b, "web", 0, AGO(500));
    store_batch_check_state(b, "web", 2, AGO(10));
    store_batch_check_state(b, "db", 0, AGO(900));
    add_audit(b, AGO(900), "incident.ack");
    add_audit(b, AGO(1), "incident.note");
    write_batch(fx, b);

    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.incidents, 2);    /* 1 and 6 */
    assert_int_equal(p.c.timeline, 2 * 7); /* their whole timelines */
    assert_int_equal(p.c.events, 5);       /* the second event of the 5 incidents kept */
    assert_int_equal(p.c.outputs, 5);      /* their old outputs */
    assert_int_equal(p.c.check_states, 1); /* web's first */
    assert_int_equal(p.c.audit, 0);        /* kept by default */
    assert_true(p.c.chunks >= 4);
    assert_true(p.c.size_before > 0 && p.c.size_after > 0);

    struct store_reader *r;
    assert_int_equal(store_reader_open(fx->st, &r, NULL), 0);
    static const bool kept[] = {false, false, true, true, true, true, false, true};
    for (int64_t id = 1; id <= 7; id++)
        assert_int_equal(incident_exists(r, id), kept[id]);
    /* Every kept incident keeps its first event, its state changes, notes and what is recent. */
    for (int64_t id = 2; id <= 7; id++) {
        if (!kept[id])
            continue;
        char *texts = timeline_texts(r, id);
        assert_string_equal(texts, "critical: disk 97% full|opened as P3 (hardware)|looking|"
                                   "critical: disk 99% full|deleted 1 GiB of logs");
        free(texts);
    }
    struct store_check_state *cs;
    size_t n;
    assert_int_equal(store_check_states_list(r, NULL, 0, &cs, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(cs[0].check, "db");
    assert_int_equal(cs[0].time_ms, AGO(900));
    assert_string_equal(cs[1].check, "web");
    assert_int_equal(cs[1].time_ms, AGO(500));
    assert_int_equal(cs[2].time_ms, AGO(10));
    for (size_t k = 0; k < n; k++)
        store_check_state_fini(&cs[k]);
    free(cs);
    struct audit_entry *a;
    assert_int_equal(store_audit_list(r, &(struct store_audit_query){0}, &a, &n), 0);
    assert_int_equal(n, 2);
    for (size_t k = 0; k < n; k++)
        audit_entry_fini(&a[k]);
    free(a);
    store_reader_close(r);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM problems"), 2);

    /* A second pass finds nothing more; an audit retention then applies. */
    p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.incidents + p.c.timeline + p.c.events + p.c.outputs + p.c.check_states +
                             p.c.audit,
                     0);
    assert_int_equal(p.c.chunks, 0);
    struct store_retention with_audit = defaults;
    with_audit.audit_ms = 365 * DAY;
    p = compact(fx, &with_audit);
    assert_int_equal(p.c.audit, 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM audit"), 1);
}

static void add_notification(struct store_batch *b, int64_t id, int64_t incident_id)
{
    struct store_notification n = {
            .id = id,
            .incident_id = incident_id,
            .team = (char *)(uintptr_t) "web",
            .notifier = (char *)(uintptr_t) "hook",
            .reason = (char *)(uintptr_t) "escalated",
            .level = 1,
            .state = (char *)(uintptr_t) "delivered",
            .text = (char *)(uintptr_t) "healing failed",
            .attempts = 1,
            .created_ms = AGO(600),
            .due_ms = AGO(600),
            .updated_ms = AGO(600),
    };
    store_batch_notification(b, &n);
}

/* An incident's outbox rows go with it, and keep it until they have gone. */
static void test_store_retention_notifications_go_with_their_incident(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_CLOSED, AGO(900), AGO(500), 0); /* expired */
    add_incident(b, 2, INCIDENT_CLOSED, AGO(900), AGO(100), 0); /* kept */
    add_notification(b, 1, 1);
    add_notification(b, 2, 1);
    add_notification(b, 3, 2);
    write_batch(fx, b);

    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.incidents, 1);
    assert_int_equal(p.c.notifications, 2);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM notifications"), 1);
    assert_int_equal(
            count_rows(fx->db_path, "SELECT COUNT(*) FROM notifications WHERE incident_id = 2"), 1);
    struct store_reader *r;
    assert_int_equal(store_reader_open(fx->st, &r, NULL), 0);
    assert_false(incident_exists(r, 1));
    assert_true(incident_exists(r, 2));
    store_reader_close(r);
}

/* Zero keeps a kind for good, whatever its age. */
static void test_store_retention_zero_keeps_forever(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_CLOSED, AGO(990), AGO(990), 0);
    add_timeline(b, 1);
    store_batch_check_state(b, "web", 2, AGO(990));
    store_batch_check_state(b, "web", 0, AGO(980));
    add_audit(b, AGO(990), "incident.close");
    write_batch(fx, b);
    struct store_retention forever = {0};
    struct pass p = compact(fx, &forever);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.chunks, 0);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM incidents"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM timeline"), 7);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM check_states"), 2);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM audit"), 1);
}

/* An id people saw is never handed out again, even when everything expired. */
static void test_store_retention_never_reuses_an_id(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_CLOSED, AGO(900), AGO(899), 0);
    add_incident(b, 2, INCIDENT_CLOSED, AGO(900), AGO(899), 0);
    add_audit(b, AGO(900), "incident.ack");
    add_audit(b, AGO(899), "incident.close");
    write_batch(fx, b);
    struct store_retention all_expire = defaults;
    all_expire.audit_ms = DAY;
    assert_int_equal(compact(fx, &all_expire).result, 0);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM incidents"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT MAX(id) FROM incidents"), 2);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM audit"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT MAX(id) FROM audit"), 2);
    fx_close(fx);
    fx_open(fx);
    assert_int_equal(store_next_incident_id(fx->st), 3);
}

/* ---- chunks ------------------------------------------------------------ */

enum {
    MANY_INCIDENTS = 57, /* 30 entries each */
    MANY_OUTPUTS = 1234, /* of one incident kept */
    MANY_STATES = 345,   /* of one check */
    SMALL_CHUNK = 10,
};

static void test_store_retention_works_in_chunks_between_batches(void **state)
{
    struct fixture *fx = *state;
    fx_open_with(fx, NULL, SMALL_CHUNK, 0);
    struct store_batch *b = store_batch_new();
    for (int64_t id = 1; id <= MANY_INCIDENTS; id++) {
        add_incident(b, id, INCIDENT_CLOSED, AGO(800), AGO(700), 0);
        for (int k = 0; k < 30; k++)
            add_entry(b, id, AGO(800) + k, TIMELINE_NOTE, "note");
    }
    int64_t kept = MANY_INCIDENTS + 1;
    add_incident(b, kept, INCIDENT_NEW, AGO(800), 0, 0);
    for (int k = 0; k < MANY_OUTPUTS; k++)
        add_entry(b, kept, AGO(700) + k, TIMELINE_STEP_OUTPUT, "output");
    for (int k = 0; k < MANY_STATES; k++)
        store_batch_check_state(b, "web", k % 3, AGO(700) + k);
    write_batch(fx, b);

    /* A batch submitted as the pass starts is written long before the pass ends. */
    struct pass p = {0};
    struct outcome o = {0};
    assert_int_equal(store_compact(fx->st, &defaults, NOW, pass_cb, &p), 0);
    assert_int_equal(store_compact(fx->st, &defaults, NOW, pass_cb, &p), HALE_ESTATE);
    b = store_batch_new();
    add_audit(b, NOW, "incident.note");
    store_submit(fx->st, b, outcome_cb, &o);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(p.calls, 1);
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.result, 0);
    assert_true(o.order < p.order);

    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.incidents, MANY_INCIDENTS);
    assert_int_equal(p.c.timeline, MANY_INCIDENTS * 30);
    assert_int_equal(p.c.outputs, MANY_OUTPUTS);
    assert_int_equal(p.c.check_states, MANY_STATES - 1);
    /* Each chunk deletes at most about SMALL_CHUNK rows (and one incident, here). */
    uint64_t rows = MANY_INCIDENTS * 31 + MANY_OUTPUTS + MANY_STATES - 1;
    assert_true(p.c.chunks >= rows / (SMALL_CHUNK + 1));
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM incidents"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM timeline"), 0);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM check_states"), 1);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM audit"), 1);
}

/* ---- space ------------------------------------------------------------- */

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void test_store_retention_file_shrinks(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    char *output = xmalloc(8001);
    memset(output, 'x', 8000);
    output[8000] = '\0';
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_NEW, AGO(100), 0, 0);
    for (int k = 0; k < 2000; k++) /* 16 MB of old outputs */
        add_entry(b, 1, AGO(100) + k, TIMELINE_STEP_OUTPUT, output);
    add_entry(b, 1, AGO(1), TIMELINE_STEP_OUTPUT, output);
    write_batch(fx, b);
    free(output);
    uint64_t before = store_size(fx->st);
    assert_true(before > 16000000);

    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.outputs, 2000);
    assert_int_equal(p.c.size_before, before);
    assert_true(p.c.freed_bytes > 15000000);
    /* Pages given back and the log folded and emptied: a file that can be copied. */
    assert_true(p.c.size_after < before / 10);
    assert_int_equal(p.c.size_after, store_size(fx->st));
    char *wal = xasprintf("%s-wal", fx->db_path);
    assert_int_equal(file_size(wal), 0);
    free(wal);
    assert_true(file_size(fx->db_path) < 1000000);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM timeline"), 1);
}

/* A database from the first schema gets incremental auto-vacuum, and keeps its rows. */
static void test_store_retention_migrates_a_version_1_database(void **state)
{
    struct fixture *fx = *state;
    fx_open(fx);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_CLOSED, AGO(900), AGO(800), 0);
    add_timeline(b, 1);
    add_incident(b, 2, INCIDENT_NEW, AGO(1), 0, 0); /* the newest: kept whatever its age */
    write_batch(fx, b);
    fx_close(fx);
    /* Back to what version 1 made: no retention indexes, no auto-vacuum. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  TESTUTIL_SCHEMA_BACK_TO_3
                                  "DROP INDEX timeline_by_kind; DROP INDEX incidents_by_closed;"
                                  "DROP TABLE problem_timeline;"
                                  "PRAGMA auto_vacuum = NONE; VACUUM; PRAGMA user_version = 1",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(count_rows(fx->db_path, "PRAGMA auto_vacuum"), 0);

    fx_open(fx);
    assert_int_equal(count_rows(fx->db_path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(count_rows(fx->db_path, "PRAGMA auto_vacuum"), 2); /* incremental */
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM sqlite_master WHERE name IN"
                                             " ('timeline_by_kind', 'incidents_by_closed')"),
                     2);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM timeline"), 7);
    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.c.incidents, 1);
    assert_int_equal(p.c.timeline, 7);
}

/* ---- failures and close ------------------------------------------------ */

static struct store_backend faulty;
static unsigned faulty_calls, faulty_fail_at;

static int faulty_chunk(struct store_db *db, enum store_compact_stage stage, int64_t cutoff_ms,
                        size_t limit, struct store_compact_cursor *cursor,
                        struct store_compaction *c, bool *ret_more, struct err *e)
{
    if (faulty_calls++ == faulty_fail_at)
        return err_setf(e, HALE_ESTORE, "injected failure");
    return store__sqlite.compact_chunk(db, stage, cutoff_ms, limit, cursor, c, ret_more, e);
}

static void test_store_retention_failed_chunk_ends_the_pass_the_next_goes_on(void **state)
{
    struct fixture *fx = *state;
    faulty = store__sqlite;
    faulty.compact_chunk = faulty_chunk;
    faulty_calls = 0;
    faulty_fail_at = 6; /* incidents, events, events received, then the fourth of outputs */
    fx_open_with(fx, &faulty, SMALL_CHUNK, 0);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_NEW, AGO(100), 0, 0);
    for (int k = 0; k < 100; k++)
        add_entry(b, 1, AGO(100) + k, TIMELINE_STEP_OUTPUT, "output");
    write_batch(fx, b);

    struct pass p = compact(fx, &defaults);
    assert_int_equal(p.result, HALE_ESTORE);
    assert_string_equal(p.c.error.msg, "injected failure");
    assert_int_equal(p.c.outputs, 3 * SMALL_CHUNK); /* what the three chunks before did */
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM timeline"), 70);
    p = compact(fx, &defaults);
    assert_int_equal(p.result, 0);
    assert_int_equal(p.c.outputs, 70);
    assert_int_equal(count_rows(fx->db_path, "SELECT COUNT(*) FROM timeline"), 0);
}

static void test_store_retention_close_cancels_a_pass(void **state)
{
    struct fixture *fx = *state;
    fx_open_with(fx, NULL, SMALL_CHUNK, 0);
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_NEW, AGO(100), 0, 0);
    for (int k = 0; k < 5000; k++)
        add_entry(b, 1, AGO(100) + k, TIMELINE_STEP_OUTPUT, "output");
    write_batch(fx, b);
    struct pass p = {0};
    assert_int_equal(store_compact(fx->st, &defaults, NOW, pass_cb, &p), 0);
    store_close(fx->st); /* without running the loop: close calls back */
    fx->st = NULL;
    assert_int_equal(p.calls, 1);
    assert_int_equal(p.result, -ECANCELED);
    assert_true(p.c.outputs < 5000);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
}

/* ---- the cap of a text -------------------------------------------------- */

/* Whether s is well-formed UTF-8 (structure only: lead bytes and their continuations). */
static bool utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int more = *p < 0x80             ? 0
                   : (*p & 0xE0) == 0xC0 ? 1
                   : (*p & 0xF0) == 0xE0 ? 2
                   : (*p & 0xF8) == 0xF0 ? 3
                                         : -1;
        if (more < 0)
            return false;
        p++;
        for (int k = 0; k < more; k++, p++)
            if ((*p & 0xC0) != 0x80)
                return false;
    }
    return true;
}

static void test_store_retention_cap_cuts_on_a_character_and_says_how_much(void **state)
{
    (void)state;
    char *s = xstrdup("short enough");
    assert_int_equal(store_text_cap(&s, 1024), 0);
    assert_string_equal(s, "short enough");
    free(s);
    /* A cap below the smallest is the smallest: a text a little longer than it is kept. */
    s = xcalloc(1, 101);
    memset(s, 'x', 100);
    assert_int_equal(store_text_cap(&s, 10), 0);
    assert_int_equal(strlen(s), 100);
    free(s);

    /* 10,000 digits: the head and tail kept are the text's own, the note counts the rest. */
    s = xmalloc(10001);
    for (int k = 0; k < 10000; k++)
        s[k] = (char)('0' + k % 10);
    s[10000] = '\0';
    char *orig = xstrdup(s);
    size_t cut = store_text_cap(&s, 1024);
    size_t len = strlen(s);
    assert_true(len <= 1024 && len > 900);
    char note[64];
    snprintf(note, sizeof(note), "\n[... %zu bytes cut]\n", cut);
    char *at = strstr(s, note);
    assert_non_null(at);
    size_t head = (size_t)(at - s), tail = len - head - strlen(note);
    assert_int_equal(head + tail + cut, 10000);
    assert_memory_equal(s, orig, head);
    assert_memory_equal(at + strlen(note), orig + 10000 - tail, tail);
    free(s);
    free(orig);

    /* Two-, three- and four-byte characters at every offset: never one split. */
    static const char *const chars[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x94\xa5"};
    for (size_t c = 0; c < 3; c++)
        for (size_t shift = 0; shift < 4; shift++) {
            char *t = xmalloc(5000);
            size_t n = 0;
            for (size_t k = 0; k < shift; k++)
                t[n++] = 'a';
            while (n + 4 < 4990)
                n += (size_t)snprintf(t + n, 5000 - n, "%s", chars[c]);
            t[n] = '\0';
            size_t full = n;
            cut = store_text_cap(&t, 1000 + shift);
            assert_true(strlen(t) <= 1000 + shift);
            assert_true(utf8_ok(t));
            snprintf(note, sizeof(note), "[... %zu bytes cut]", cut);
            assert_non_null(strstr(t, note));
            assert_int_equal(strlen(t) - strlen(note) - 2 + cut, full);
            free(t);
        }
}

/* Through the store: an entry's text is cut when its batch is submitted, and reads back so. */
static void test_store_retention_cap_applies_to_stored_entries(void **state)
{
    struct fixture *fx = *state;
    fx_open_with(fx, NULL, 0, 2048);
    char *big = xmalloc(100001);
    memset(big, 'o', 100000);
    big[100000] = '\0';
    struct store_batch *b = store_batch_new();
    add_incident(b, 1, INCIDENT_NEW, AGO(1), 0, 0);
    add_entry(b, 1, AGO(1), TIMELINE_STEP_OUTPUT, big);
    add_entry(b, 1, AGO(1), TIMELINE_NOTE, "fits");
    write_batch(fx, b);
    store_set_output_max(fx->st, 0); /* the default, 64 KiB, from now on */
    b = store_batch_new();
    add_entry(b, 1, AGO(1), TIMELINE_STEP_OUTPUT, big);
    write_batch(fx, b);
    free(big);

    struct store_reader *r;
    assert_int_equal(store_reader_open(fx->st, &r, NULL), 0);
    struct timeline_entry *v;
    size_t n;
    assert_int_equal(store_timeline_list(r, 1, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_true(strlen(v[0].text) <= 2048);
    assert_non_null(strstr(v[0].text, " bytes cut]"));
    assert_string_equal(v[1].text, "fits");
    assert_true(strlen(v[2].text) <= STORE_OUTPUT_MAX_DEFAULT &&
                strlen(v[2].text) > STORE_OUTPUT_MAX_DEFAULT - 100);
    for (size_t k = 0; k < n; k++)
        timeline_entry_fini(&v[k]);
    free(v);
    store_reader_close(r);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            TEST(test_store_retention_keeps_an_event_still_repeated),
            TEST(test_store_retention_deletes_exactly_what_expired),
            TEST(test_store_retention_zero_keeps_forever),
            TEST(test_store_retention_never_reuses_an_id),
            TEST(test_store_retention_works_in_chunks_between_batches),
            TEST(test_store_retention_notifications_go_with_their_incident),
            TEST(test_store_retention_file_shrinks),
            TEST(test_store_retention_deletes_expired_events_received),
            TEST(test_store_retention_migrates_a_version_1_database),
            TEST(test_store_retention_failed_chunk_ends_the_pass_the_next_goes_on),
            TEST(test_store_retention_close_cancels_a_pass),
            TEST(test_store_retention_cap_cuts_on_a_character_and_says_how_much),
            TEST(test_store_retention_cap_applies_to_stored_entries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
