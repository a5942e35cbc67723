/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's reading half: a read-only connection per reader,
 * its statements prepared once, and rows turned back into records. In WAL
 * mode each statement sees the last commit made before it started, and no
 * reader ever makes the writer wait.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "store/sqlite.h"

#define READER_BUSY_TIMEOUT_MS 5000
/*
 * A reader's page cache: 512 KiB (SQLite's default is 2 MiB a connection).
 * Its pages are dropped whenever the writer has committed since the
 * reader's last read, which a running daemon does every few seconds: a
 * large cache would mostly hold memory, not hits.
 */
#define READER_CACHE_SQL       "PRAGMA cache_size = -512"

#define INCIDENT_COLUMNS                                                                   \
    "id, type, title, fingerprint, labels, severity, priority, category, team, assignee,"  \
    " check_name, state, opened_ms, acknowledged_ms, resolved_ms, closed_ms, resolved_by," \
    " root_cause, reopened, problem_id, updated_ms, service, symptom_of, runbook, events," \
    " repeats"
#define TIMELINE_COLUMNS         "id, incident_id, time_ms, kind, actor, text, data"
#define PROBLEM_TIMELINE_COLUMNS "id, problem_id, time_ms, kind, actor, text, data"
#define AUDIT_COLUMNS            "id, time_ms, actor, action, target, origin, detail"
#define EVENT_COLUMNS                                                                           \
    "id, incident_id, received_ms, source, status, severity, fingerprint, labels, annotations," \
    " summary, starts_ms, ends_ms, verdict, silence_id, sender, reason, content, repeats,"      \
    " last_ms"
#define PROBLEM_COLUMNS                                                                          \
    "id, title, fingerprint, state, root_cause, workaround, opened_ms, resolved_ms, updated_ms," \
    " incidents"
#define SILENCE_COLUMNS                                                                   \
    "id, source, matchers, starts_ms, ends_ms, weekly, incident_id, comment, created_by," \
    " created_ms, ended_ms, ended_by"

/* The last change before the window of each check, then the changes in it. */
#define CHECK_STATES_SQL(filter)                                                              \
    "SELECT check_name, status, MAX(time_ms), id FROM check_states"                           \
    " WHERE " filter "time_ms < ?2 GROUP BY check_name"                                       \
    " UNION ALL"                                                                              \
    " SELECT check_name, status, time_ms, id FROM check_states WHERE " filter "time_ms >= ?2" \
    " ORDER BY 3, 4"

/*
 * Per fingerprint, the last counted event on the incidents the filter
 * names, kept when it was firing: the fingerprints those incidents hold.
 */
#define EVENTS_HELD_SQL(filter)                                                              \
    "SELECT incident_id, fingerprint, starts_ms, id, content FROM events WHERE id IN"        \
    " (SELECT MAX(id) FROM events WHERE incident_id " filter                                 \
    " AND verdict NOT IN ('ignore', 'silenced') GROUP BY fingerprint) AND status = 'firing'" \
    " ORDER BY id"

enum {
    RSTMT_INCIDENT,
    RSTMT_TIMELINE,
    RSTMT_PROBLEM_TIMELINE,
    RSTMT_AUDIT,
    RSTMT_PROBLEM,
    RSTMT_PROBLEMS,
    RSTMT_CHECK_STATES_ONE,
    RSTMT_CHECK_STATES_ALL,
    RSTMT_EVENTS_HELD,
    RSTMT_EVENTS_HELD_ONE,
    RSTMT_SILENCE,
    RSTMT_SILENCES,
    RSTMT_COUNT,
};

static const char *const rstmt_sql[RSTMT_COUNT] = {
        [RSTMT_INCIDENT] = "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?1",
        [RSTMT_TIMELINE] = "SELECT " TIMELINE_COLUMNS " FROM timeline WHERE incident_id = ?1"
                           " ORDER BY time_ms, id",
        [RSTMT_PROBLEM_TIMELINE] = "SELECT " PROBLEM_TIMELINE_COLUMNS " FROM problem_timeline"
                                   " WHERE problem_id = ?1 ORDER BY time_ms, id",
        /*
         * By id: the order of the writes, which a clock set back does not
         * change. The lowest id at or after since is found on the time
         * index and is the one bound of the id range (the planner takes
         * one), so a page of the last week does not walk the years before.
         */
        [RSTMT_AUDIT] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE time_ms >= ?1"
                        " AND id > MAX(?2, COALESCE((SELECT MIN(id) FROM audit"
                        " INDEXED BY audit_by_time WHERE time_ms >= ?1),"
                        " 9223372036854775807) - 1)"
                        " ORDER BY id LIMIT ?3",
        [RSTMT_PROBLEM] = "SELECT " PROBLEM_COLUMNS " FROM problems WHERE id = ?1",
        [RSTMT_PROBLEMS] = "SELECT " PROBLEM_COLUMNS " FROM problems ORDER BY id DESC",
        [RSTMT_CHECK_STATES_ONE] = CHECK_STATES_SQL("check_name = ?1 AND "),
        [RSTMT_CHECK_STATES_ALL] = CHECK_STATES_SQL(""),
        [RSTMT_EVENTS_HELD] = EVENTS_HELD_SQL("IN (SELECT id FROM incidents WHERE state IN"
                                              " ('new', 'acknowledged', 'in_progress'))"),
        [RSTMT_EVENTS_HELD_ONE] = EVENTS_HELD_SQL("= ?1"),
        [RSTMT_SILENCE] = "SELECT " SILENCE_COLUMNS " FROM silences WHERE id = ?1",
        /* Few rows, so one statement whose unused filters are switched off by their parameter. */
        [RSTMT_SILENCES] = "SELECT " SILENCE_COLUMNS " FROM silences"
                           " WHERE created_ms >= ?1 AND (?2 = 0 OR id < ?2)"
                           " AND (?3 != 1 OR (ends_ms != 0 AND ends_ms <= ?4))"
                           " AND (?3 != 2 OR ends_ms = 0 OR ends_ms > ?4)"
                           " ORDER BY id DESC LIMIT ?5",
};

/*
 * The filters of an incident query that are set: each combination is its
 * own statement, so SQLite plans each with the index that fits it.
 */
enum {
    SHAPE_STATES = 1 << 0,
    SHAPE_TEAM = 1 << 1,
    SHAPE_FINGERPRINT = 1 << 2,
    SHAPE_SINCE = 1 << 3,
    SHAPE_BEFORE = 1 << 4,
    SHAPE_PROBLEM = 1 << 5,
    SHAPE_PRIORITY = 1 << 6,
    SHAPE_SERVICE = 1 << 7,
    SHAPE_TEXT = 1 << 8,
    SHAPE_COUNT = 1 << 9,
};

#define INCIDENT_STATES 5 /* INCIDENT_NEW .. INCIDENT_CLOSED */

struct sqlite_reader {
    struct store_reader base; /* first: store.c sees only this */
    sqlite3 *conn;
    sqlite3_stmt *stmt[RSTMT_COUNT];
    sqlite3_stmt *shape[SHAPE_COUNT]; /* prepared on first use */
    sqlite3_stmt *events_one, *events_all;
    sqlite3_stmt *runs[STORE__RUN_RSTMT_COUNT]; /* sqlite_runs.c's */
};

static struct sqlite_reader *reader_of(struct store_reader *base)
{
    return (struct sqlite_reader *)base;
}

void store__sqlite_reader_close(struct store_reader *base)
{
    if (!base)
        return;
    struct sqlite_reader *r = reader_of(base);
    for (size_t i = 0; i < RSTMT_COUNT; i++)
        sqlite3_finalize(r->stmt[i]);
    for (size_t i = 0; i < SHAPE_COUNT; i++)
        sqlite3_finalize(r->shape[i]);
    sqlite3_finalize(r->events_one);
    sqlite3_finalize(r->events_all);
    for (size_t i = 0; i < STORE__RUN_RSTMT_COUNT; i++)
        sqlite3_finalize(r->runs[i]);
    sqlite3_close(r->conn);
    free(r);
}

int store__sqlite_reader_open(struct store_db *db, struct store_reader **ret_reader, struct err *e)
{
    const char *path = db->backend->path(db);
    struct sqlite_reader *r = xcalloc(1, sizeof(*r));
    store__sqlite_setup();
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &r->conn, flags, NULL) != SQLITE_OK) {
        int rc = err_setf(e, HALE_ESTORE, "%s: cannot open a reader: %s", path,
                          r->conn ? sqlite3_errmsg(r->conn) : "out of memory");
        store__sqlite_reader_close(&r->base);
        return rc;
    }
    /* A checkpoint may hold a lock for a moment; wait rather than fail. */
    sqlite3_busy_timeout(r->conn, READER_BUSY_TIMEOUT_MS);
    (void)sqlite3_exec(r->conn, READER_CACHE_SQL, NULL, NULL, NULL); /* if not, the default */
    *ret_reader = &r->base;
    return 0;
}

static sqlite3_stmt *prepare(struct sqlite_reader *r, sqlite3_stmt **slot, const char *sql)
{
    if (!*slot &&
        sqlite3_prepare_v3(r->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK)
        return NULL;
    return *slot;
}

static sqlite3_stmt *rstmt(struct sqlite_reader *r, int which)
{
    return prepare(r, &r->stmt[which], rstmt_sql[which]);
}

sqlite3_stmt *store__sqlite_reader_stmt(struct store_reader *base, int slot, const char *sql)
{
    return prepare(reader_of(base), &reader_of(base)->runs[slot], sql);
}

static void stmt_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* ---- rows to records -------------------------------------------------- */

static const char *col_name(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return v ? (const char *)v : "";
}

static unsigned col_unsigned(sqlite3_stmt *s, int i)
{
    return (unsigned)sqlite3_column_int64(s, i);
}

static int row_incident(sqlite3_stmt *s, void *ret_elem)
{
    struct incident *ret = ret_elem;
    struct incident i = {0};
    labels_init(&i.labels);
    if (incident_type_parse(col_name(s, 1), &i.type) < 0 ||
        incident_severity_parse(col_name(s, 5), &i.severity) < 0 ||
        incident_category_parse(col_name(s, 7), &i.category) < 0 ||
        incident_state_parse(col_name(s, 11), &i.state) < 0 ||
        store__labels_from_json(col_name(s, 4), &i.labels) < 0)
        return HALE_ESTORE;
    i.id = sqlite3_column_int64(s, 0);
    i.title = store__sqlite_col_str(s, 2);
    i.fingerprint = store__sqlite_col_str(s, 3);
    i.priority = col_unsigned(s, 6);
    i.team = store__sqlite_col_str(s, 8);
    i.assignee = store__sqlite_col_str(s, 9);
    i.check = store__sqlite_col_str(s, 10);
    i.opened_ms = sqlite3_column_int64(s, 12);
    i.acknowledged_ms = sqlite3_column_int64(s, 13);
    i.resolved_ms = sqlite3_column_int64(s, 14);
    i.closed_ms = sqlite3_column_int64(s, 15);
    i.resolved_by = store__sqlite_col_str(s, 16);
    i.root_cause = store__sqlite_col_str(s, 17);
    i.reopened = col_unsigned(s, 18);
    i.problem_id = sqlite3_column_int64(s, 19); /* NULL reads as 0: no problem */
    i.updated_ms = sqlite3_column_int64(s, 20);
    i.service = store__sqlite_col_str(s, 21);
    i.symptom_of = sqlite3_column_int64(s, 22);
    i.runbook = store__sqlite_col_str(s, 23);
    i.events = col_unsigned(s, 24);
    i.repeats = col_unsigned(s, 25);
    *ret = i;
    return 0;
}

static int row_event(sqlite3_stmt *s, void *ret_elem)
{
    struct store_event *ret = ret_elem;
    struct store_event ev = {0};
    labels_init(&ev.labels);
    labels_init(&ev.annotations);
    if (!store__fingerprint_parse(col_name(s, 6), &ev.fingerprint) ||
        store__labels_from_json(col_name(s, 7), &ev.labels) < 0 ||
        store__labels_from_json(col_name(s, 8), &ev.annotations) < 0) {
        store_event_fini(&ev);
        return HALE_ESTORE;
    }
    ev.id = sqlite3_column_int64(s, 0);
    ev.incident_id = sqlite3_column_int64(s, 1);
    ev.received_ms = sqlite3_column_int64(s, 2);
    ev.source = store__sqlite_col_str(s, 3);
    ev.status = store__sqlite_col_str(s, 4);
    ev.severity = store__sqlite_col_str(s, 5);
    ev.summary = store__sqlite_col_str(s, 9);
    ev.starts_ms = sqlite3_column_int64(s, 10);
    ev.ends_ms = sqlite3_column_int64(s, 11);
    ev.verdict = store__sqlite_col_str(s, 12);
    ev.silence_id = sqlite3_column_int64(s, 13);
    ev.sender = store__sqlite_col_str(s, 14);
    ev.reason = store__sqlite_col_str(s, 15);
    ev.content = (uint64_t)sqlite3_column_int64(s, 16);
    ev.repeats = sqlite3_column_int64(s, 17);
    ev.last_ms = sqlite3_column_int64(s, 18);
    *ret = ev;
    return 0;
}

static int row_held(sqlite3_stmt *s, void *ret_elem)
{
    struct store_held_event *ret = ret_elem;
    struct store_held_event h = {
            .incident_id = sqlite3_column_int64(s, 0),
            .starts_ms = sqlite3_column_int64(s, 2),
            .event_id = sqlite3_column_int64(s, 3),
            .content = (uint64_t)sqlite3_column_int64(s, 4),
    };
    if (!store__fingerprint_parse(col_name(s, 1), &h.fingerprint))
        return HALE_ESTORE;
    *ret = h;
    return 0;
}

static int row_timeline(sqlite3_stmt *s, void *ret_elem)
{
    struct timeline_entry *ret = ret_elem;
    struct timeline_entry t = {0};
    if (timeline_kind_parse(col_name(s, 3), &t.kind) < 0)
        return HALE_ESTORE;
    t.id = sqlite3_column_int64(s, 0);
    t.incident_id = sqlite3_column_int64(s, 1);
    t.time_ms = sqlite3_column_int64(s, 2);
    t.actor = store__sqlite_col_str(s, 4);
    t.text = store__sqlite_col_str(s, 5);
    t.data = store__sqlite_col_str(s, 6);
    *ret = t;
    return 0;
}

/* A problem's entry: the same columns, the owner's id in problem_id. */
static int row_problem_timeline(sqlite3_stmt *s, void *ret_elem)
{
    struct timeline_entry *ret = ret_elem;
    int r = row_timeline(s, ret_elem);
    if (r == 0) {
        ret->problem_id = ret->incident_id;
        ret->incident_id = 0;
    }
    return r;
}

static int row_audit(sqlite3_stmt *s, void *ret_elem)
{
    struct audit_entry *ret = ret_elem;
    *ret = (struct audit_entry){
            .id = sqlite3_column_int64(s, 0),
            .time_ms = sqlite3_column_int64(s, 1),
            .actor = store__sqlite_col_str(s, 2),
            .action = store__sqlite_col_str(s, 3),
            .target = store__sqlite_col_str(s, 4),
            .origin = store__sqlite_col_str(s, 5),
            .detail = store__sqlite_col_str(s, 6),
    };
    return 0;
}

static int row_problem(sqlite3_stmt *s, void *ret_elem)
{
    struct problem *ret = ret_elem;
    struct problem p = {0};
    if (problem_state_parse(col_name(s, 3), &p.state) < 0)
        return HALE_ESTORE;
    p.id = sqlite3_column_int64(s, 0);
    p.title = store__sqlite_col_str(s, 1);
    p.fingerprint = store__sqlite_col_str(s, 2);
    p.root_cause = store__sqlite_col_str(s, 4);
    p.workaround = store__sqlite_col_str(s, 5);
    p.opened_ms = sqlite3_column_int64(s, 6);
    p.resolved_ms = sqlite3_column_int64(s, 7);
    p.updated_ms = sqlite3_column_int64(s, 8);
    p.incidents = col_unsigned(s, 9);
    *ret = p;
    return 0;
}

static int row_check_state(sqlite3_stmt *s, void *ret_elem)
{
    struct store_check_state *ret = ret_elem;
    *ret = (struct store_check_state){
            .check = store__sqlite_col_str(s, 0),
            .status = sqlite3_column_int(s, 1),
            .time_ms = sqlite3_column_int64(s, 2),
    };
    return 0;
}

static int row_silence(sqlite3_stmt *s, void *ret_elem)
{
    struct store_silence *ret = ret_elem;
    *ret = (struct store_silence){
            .id = sqlite3_column_int64(s, 0),
            .source = store__sqlite_col_str(s, 1),
            .matchers = store__sqlite_col_str(s, 2),
            .starts_ms = sqlite3_column_int64(s, 3),
            .ends_ms = sqlite3_column_int64(s, 4),
            .weekly = store__sqlite_col_str(s, 5),
            .incident_id = sqlite3_column_int64(s, 6), /* NULL reads as 0: none */
            .comment = store__sqlite_col_str(s, 7),
            .created_by = store__sqlite_col_str(s, 8),
            .created_ms = sqlite3_column_int64(s, 9),
            .ended_ms = sqlite3_column_int64(s, 10),
            .ended_by = store__sqlite_col_str(s, 11),
    };
    return 0;
}

/* ---- running queries -------------------------------------------------- */

static void incident_fini_v(void *elem)
{
    incident_fini(elem);
}

static void timeline_fini_v(void *elem)
{
    timeline_entry_fini(elem);
}

static void audit_fini_v(void *elem)
{
    audit_entry_fini(elem);
}

static void problem_fini_v(void *elem)
{
    problem_fini(elem);
}

static void check_state_fini_v(void *elem)
{
    store_check_state_fini(elem);
}

static void event_fini_v(void *elem)
{
    store_event_fini(elem);
}

static void nothing_fini_v(void *elem)
{
    (void)elem;
}

static void silence_fini_v(void *elem)
{
    store_silence_fini(elem);
}

static const struct store__row_kind incident_kind = {sizeof(struct incident), row_incident,
                                                     incident_fini_v};
static const struct store__row_kind timeline_kind = {sizeof(struct timeline_entry), row_timeline,
                                                     timeline_fini_v};
static const struct store__row_kind problem_timeline_kind = {sizeof(struct timeline_entry),
                                                             row_problem_timeline, timeline_fini_v};
static const struct store__row_kind audit_kind = {sizeof(struct audit_entry), row_audit,
                                                  audit_fini_v};
static const struct store__row_kind problem_kind = {sizeof(struct problem), row_problem,
                                                    problem_fini_v};
static const struct store__row_kind check_state_kind = {sizeof(struct store_check_state),
                                                        row_check_state, check_state_fini_v};
static const struct store__row_kind event_kind = {sizeof(struct store_event), row_event,
                                                  event_fini_v};
static const struct store__row_kind held_kind = {sizeof(struct store_held_event), row_held,
                                                 nothing_fini_v};
static const struct store__row_kind silence_kind = {sizeof(struct store_silence), row_silence,
                                                    silence_fini_v};

int store__sqlite_query_list(sqlite3_stmt *s, const struct store__row_kind *k, void **ret_v,
                             size_t *ret_n)
{
    char *v = NULL;
    size_t n = 0, cap = 0;
    int rc, r = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = xreallocarray(v, cap, k->size);
        }
        if ((r = k->row(s, v + n * k->size)) < 0)
            break;
        n++;
    }
    if (r == 0 && rc != SQLITE_DONE)
        r = HALE_ESTORE;
    stmt_done(s);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            k->fini(v + i * k->size);
        free(v);
        return r;
    }
    *ret_v = v;
    *ret_n = n;
    return 0;
}

int store__sqlite_query_one(sqlite3_stmt *s, const struct store__row_kind *k, void *ret)
{
    int rc = sqlite3_step(s);
    int r = rc == SQLITE_ROW ? k->row(s, ret) : rc == SQLITE_DONE ? HALE_ENOTFOUND : HALE_ESTORE;
    stmt_done(s);
    return r;
}

int store__sqlite_incident_get(struct store_reader *base, int64_t id, struct incident *ret)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_INCIDENT);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    return store__sqlite_query_one(s, &incident_kind, ret);
}

int store__sqlite_problem_get(struct store_reader *base, int64_t id, struct problem *ret)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_PROBLEM);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    return store__sqlite_query_one(s, &problem_kind, ret);
}

int store__sqlite_problems_list(struct store_reader *base, struct problem **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_PROBLEMS);
    if (!s)
        return HALE_ESTORE;
    return store__sqlite_query_list(s, &problem_kind, (void **)ret_v, ret_n);
}

int store__sqlite_timeline_list(struct store_reader *base, int64_t incident_id,
                                struct timeline_entry **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_TIMELINE);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, incident_id);
    return store__sqlite_query_list(s, &timeline_kind, (void **)ret_v, ret_n);
}

int store__sqlite_problem_timeline_list(struct store_reader *base, int64_t problem_id,
                                        struct timeline_entry **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_PROBLEM_TIMELINE);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, problem_id);
    return store__sqlite_query_list(s, &problem_timeline_kind, (void **)ret_v, ret_n);
}

/* SQLite's LIMIT -1: no limit. */
static int64_t limit_of(size_t limit)
{
    return limit ? (int64_t)limit : -1;
}

int store__sqlite_audit_list(struct store_reader *base, const struct store_audit_query *q,
                             struct audit_entry **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_AUDIT);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, q->since_ms);
    sqlite3_bind_int64(s, 2, q->after_id);
    sqlite3_bind_int64(s, 3, limit_of(q->limit));
    return store__sqlite_query_list(s, &audit_kind, (void **)ret_v, ret_n);
}

int store__sqlite_check_states_list(struct store_reader *base, const char *check, int64_t since_ms,
                                    struct store_check_state **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s =
            rstmt(reader_of(base), check ? RSTMT_CHECK_STATES_ONE : RSTMT_CHECK_STATES_ALL);
    if (!s)
        return HALE_ESTORE;
    if (check)
        sqlite3_bind_text(s, 1, check, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, since_ms);
    return store__sqlite_query_list(s, &check_state_kind, (void **)ret_v, ret_n);
}

int store__sqlite_silence_get(struct store_reader *base, int64_t id, struct store_silence *ret)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_SILENCE);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    return store__sqlite_query_one(s, &silence_kind, ret);
}

int store__sqlite_silences_list(struct store_reader *base, const struct store_silence_query *q,
                                struct store_silence **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(reader_of(base), RSTMT_SILENCES);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, q->since_ms);
    sqlite3_bind_int64(s, 2, q->before_id);
    sqlite3_bind_int(s, 3, (int)q->filter);
    sqlite3_bind_int64(s, 4, q->at_ms);
    sqlite3_bind_int64(s, 5, limit_of(q->limit));
    return store__sqlite_query_list(s, &silence_kind, (void **)ret_v, ret_n);
}

/* ---- incident queries ------------------------------------------------- */

static unsigned states_mask_all(void)
{
    return (1u << INCIDENT_STATES) - 1;
}

/* Bits 1 to 5 of store_incident_query.priorities. */
#define PRIORITIES_ALL 0x3eu

static unsigned shape_of(const struct store_incident_query *q)
{
    unsigned shape = 0;
    if (q->states && (q->states & states_mask_all()) != states_mask_all())
        shape |= SHAPE_STATES;
    if (q->team)
        shape |= SHAPE_TEAM;
    if (q->fingerprint)
        shape |= SHAPE_FINGERPRINT;
    if (q->since_ms)
        shape |= SHAPE_SINCE;
    if (q->before_id)
        shape |= SHAPE_BEFORE;
    if (q->problem_id)
        shape |= SHAPE_PROBLEM;
    if (q->priorities & PRIORITIES_ALL && (q->priorities & PRIORITIES_ALL) != PRIORITIES_ALL)
        shape |= SHAPE_PRIORITY;
    if (q->service)
        shape |= SHAPE_SERVICE;
    if (q->text && *q->text)
        shape |= SHAPE_TEXT;
    return shape;
}

/* Parameters keep their numbers in every shape, so binding does not depend on it. */
static void shape_sql(unsigned shape, struct strbuf *sb)
{
    strbuf_adds(sb, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE 1");
    if (shape & SHAPE_STATES)
        strbuf_adds(sb, " AND state IN (?1, ?2, ?3, ?4, ?5)");
    if (shape & SHAPE_TEAM)
        strbuf_adds(sb, " AND team = ?6");
    if (shape & SHAPE_FINGERPRINT)
        strbuf_adds(sb, " AND fingerprint = ?7");
    if (shape & SHAPE_SINCE)
        strbuf_adds(sb, " AND opened_ms >= ?8");
    if (shape & SHAPE_BEFORE)
        strbuf_adds(sb, " AND id < ?9");
    if (shape & SHAPE_PROBLEM)
        strbuf_adds(sb, " AND problem_id = ?11");
    if (shape & SHAPE_PRIORITY)
        strbuf_adds(sb, " AND priority IN (?12, ?13, ?14, ?15, ?16)");
    if (shape & SHAPE_SERVICE)
        strbuf_adds(sb, " AND service = ?17");
    /* lower() folds ASCII only; a title is short, and the page's limit ends the scan. */
    if (shape & SHAPE_TEXT)
        strbuf_adds(sb, " AND instr(lower(title), lower(?18)) > 0");
    strbuf_adds(sb, " ORDER BY id DESC LIMIT ?10");
}

int store__sqlite_incidents_list(struct store_reader *base, const struct store_incident_query *q,
                                 struct incident **ret_v, size_t *ret_n)
{
    struct sqlite_reader *r = reader_of(base);
    unsigned shape = shape_of(q);
    if (!r->shape[shape]) {
        struct strbuf sql;
        strbuf_init(&sql, 0);
        shape_sql(shape, &sql);
        prepare(r, &r->shape[shape], sql.s);
        strbuf_fini(&sql);
    }
    sqlite3_stmt *s = r->shape[shape];
    if (!s)
        return HALE_ESTORE;
    for (int st = 0; st < INCIDENT_STATES; st++)
        if (q->states & (1u << st))
            sqlite3_bind_text(s, st + 1, incident_state_name((enum incident_state)st), -1,
                              SQLITE_STATIC);
    if (q->team)
        sqlite3_bind_text(s, 6, q->team, -1, SQLITE_STATIC);
    if (q->fingerprint)
        sqlite3_bind_text(s, 7, q->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, q->since_ms);
    sqlite3_bind_int64(s, 9, q->before_id);
    sqlite3_bind_int64(s, 10, limit_of(q->limit));
    sqlite3_bind_int64(s, 11, q->problem_id);
    for (int p = 1; p <= 5; p++)
        if (q->priorities & (1u << p))
            sqlite3_bind_int(s, 11 + p, p);
    if (q->service)
        sqlite3_bind_text(s, 17, q->service, -1, SQLITE_STATIC);
    if (q->text)
        sqlite3_bind_text(s, 18, q->text, -1, SQLITE_STATIC);
    return store__sqlite_query_list(s, &incident_kind, (void **)ret_v, ret_n);
}

/* ---- events ----------------------------------------------------------- */

int store__sqlite_events_list(struct store_reader *base, const struct store_event_query *q,
                              struct store_event **ret_v, size_t *ret_n)
{
    struct sqlite_reader *r = reader_of(base);
    /* Two shapes: by incident, on its index; or everything by time. */
    sqlite3_stmt **slot = q->incident_id ? &r->events_one : &r->events_all;
    const char *sql = q->incident_id
                              ? "SELECT " EVENT_COLUMNS " FROM events WHERE incident_id = ?1"
                                " AND received_ms >= ?2 AND id < ?3 ORDER BY id DESC LIMIT ?4"
                              /* The window's lowest id bounds the scan from below. */
                              : "SELECT " EVENT_COLUMNS " FROM events WHERE received_ms >= ?2"
                                " AND id < ?3 AND id >= COALESCE((SELECT MIN(id) FROM events"
                                " INDEXED BY events_by_received WHERE received_ms >= ?2),"
                                " 9223372036854775807) ORDER BY id DESC LIMIT ?4";
    sqlite3_stmt *s = prepare(r, slot, sql);
    if (!s)
        return HALE_ESTORE;
    if (q->incident_id)
        sqlite3_bind_int64(s, 1, q->incident_id);
    sqlite3_bind_int64(s, 2, q->since_ms);
    sqlite3_bind_int64(s, 3, q->before_id ? q->before_id : INT64_MAX);
    sqlite3_bind_int64(s, 4, limit_of(q->limit));
    return store__sqlite_query_list(s, &event_kind, (void **)ret_v, ret_n);
}

int store__sqlite_events_held(struct store_reader *base, int64_t incident_id,
                              struct store_held_event **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s =
            rstmt(reader_of(base), incident_id ? RSTMT_EVENTS_HELD_ONE : RSTMT_EVENTS_HELD);
    if (!s)
        return HALE_ESTORE;
    if (incident_id)
        sqlite3_bind_int64(s, 1, incident_id);
    return store__sqlite_query_list(s, &held_kind, (void **)ret_v, ret_n);
}
