/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's retention: the statements that delete expired rows
 * a chunk at a time on the writer's connection, the incremental vacuum
 * that gives freed pages back to the file system, the checkpoint that
 * empties the write-ahead log, and the size of the files. Each chunk is
 * one transaction, found and bounded through an index, so it takes
 * milliseconds however large the tables are.
 *
 * The names in the SQL ('closed', 'event', 'step_output', 'resolved') are
 * incident.h's, as the records are stored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "store/sqlite.h"

/* How long the checkpoint waits for readers to move to the last commit. */
#define CHECKPOINT_WAIT_MS 250

enum {
    CS_EVENTS_END,
    CS_EVENTS_DELETE,
    CS_EVENT_ROWS_END,
    CS_EVENT_ROWS_DELETE,
    CS_OUTPUTS_END,
    CS_OUTPUTS_DELETE,
    CS_STATES_END,
    CS_STATES_DELETE,
    CS_AUDIT_END,
    CS_AUDIT_DELETE,
    CS_INCIDENT_TIMELINE,
    CS_INCIDENT_EVENTS,
    CS_INCIDENT_RUN_STEPS,
    CS_INCIDENT_RUNS,
    CS_INCIDENT_NOTIFICATIONS,
    CS_INCIDENTS,
    CS_LONE_RUN_STEPS,
    CS_LONE_RUNS,
    CS_COUNT,
};

/*
 * A stage that goes by (time_ms, id), on an index that starts with them:
 * END finds the row `limit` rows past the cursor (?1 cut-off, ?2 ?3 the
 * cursor, ?4 limit - 1), DELETE deletes the rows after the cursor up to
 * that one (?4 ?5), but those `keep` keeps (?1 the cut-off). DELETE
 * bounds time_ms on both sides in plain terms too, so the index range
 * the planner takes is the chunk's and not everything up to the cut-off.
 */
#define END_SQL_BY(table, t, filter)                          \
    "SELECT " t ", id FROM " table " WHERE " filter t " < ?1" \
    " AND (" t ", id) > (?2, ?3) ORDER BY " t ", id LIMIT 1 OFFSET ?4"
#define DELETE_SQL_BY(table, t, filter, keep)                        \
    "DELETE FROM " table " WHERE " filter t " >= ?2 AND " t " <= ?4" \
    " AND (" t ", id) > (?2, ?3) AND (" t ", id) <= (?4, ?5)" keep
#define END_SQL(table, filter)          END_SQL_BY(table, "time_ms", filter)
#define DELETE_SQL(table, filter, keep) DELETE_SQL_BY(table, "time_ms", filter, keep)

/* Each incident's first event says what opened it: the reports need it. */
#define KEEP_FIRST_EVENT                                                               \
    " AND EXISTS (SELECT 1 FROM timeline f WHERE f.incident_id = timeline.incident_id" \
    " AND f.kind = 'event' AND (f.time_ms, f.id) < (timeline.time_ms, timeline.id))"
/* The first event received of each incident too; those of none go. */
#define KEEP_FIRST_EVENT_ROW                                      \
    " AND (incident_id IS NULL OR EXISTS (SELECT 1 FROM events f" \
    " WHERE f.incident_id = events.incident_id AND f.id < events.id))"
/*
 * The events of an incident still open say which of its events are still
 * firing (the desk reads them back at start): an incident open for longer
 * than the retention keeps them all.
 */
#define KEEP_OPEN_INCIDENTS_EVENTS                               \
    " AND (incident_id IS NULL OR incident_id NOT IN (SELECT id" \
    " FROM incidents WHERE state IN ('new', 'acknowledged', 'in_progress')))"
/*
 * A row counts the repeats of its event: it is as old as its latest
 * repeat, so one still repeated is not deleted under its counter.
 */
#define KEEP_STILL_REPEATED " AND (last_ms IS NULL OR last_ms < ?1)"

/* Each check's last change before the cut-off is the state it was in there. */
#define KEEP_LAST_STATE                                                                      \
    " AND EXISTS (SELECT 1 FROM check_states n WHERE n.check_name = check_states.check_name" \
    " AND n.time_ms < ?1 AND (n.time_ms, n.id) > (check_states.time_ms, check_states.id))"

/*
 * The newest row of a table whose ids people see (incidents, the audit
 * log) is never deleted: the next id is one past the highest row left, so
 * deleting it would hand its id out again after a restart.
 */
#define KEEP_NEWEST(table) " AND id < (SELECT MAX(id) FROM " table ")"

/*
 * Run ids are seen too (hale runs, the API, the timeline): the newest run
 * stays, and so does the incident it belongs to, whole, for the run's row
 * to keep its incident.
 */
#define KEEP_NEWEST_RUNS_INCIDENT \
    " AND id IS NOT (SELECT incident_id FROM runs ORDER BY id DESC LIMIT 1)"

/*
 * Closed before the cut-off (?1), and not linked to a problem still being
 * worked: its incidents are its evidence. ?2 of them, oldest first.
 */
#define EXPIRED_INCIDENTS                                                                         \
    "SELECT id FROM incidents WHERE state = 'closed' AND closed_ms < ?1" KEEP_NEWEST("incidents") \
            KEEP_NEWEST_RUNS_INCIDENT                                                             \
            " AND (problem_id IS NULL OR problem_id NOT IN"                                       \
            " (SELECT id FROM problems WHERE state != 'resolved')) ORDER BY "                     \
            "closed_ms, id LIMIT ?2"

/* ?2 runs with no incident, over before the cut-off (?1), oldest first; never the newest run. */
#define LONE_RUNS                                                                             \
    "SELECT id FROM runs WHERE incident_id IS NULL AND outcome NOT IN ('running', 'waiting')" \
    " AND ended_ms < ?1" KEEP_NEWEST("runs") " ORDER BY id LIMIT ?2"

static const char *const cs_sql[CS_COUNT] = {
        [CS_EVENTS_END] = END_SQL("timeline", "kind = 'event' AND "),
        [CS_EVENTS_DELETE] = DELETE_SQL("timeline", "kind = 'event' AND ", KEEP_FIRST_EVENT),
        [CS_EVENT_ROWS_END] = END_SQL_BY("events", "received_ms", ""),
        [CS_EVENT_ROWS_DELETE] = DELETE_SQL_BY("events", "received_ms", "",
                                               KEEP_FIRST_EVENT_ROW KEEP_OPEN_INCIDENTS_EVENTS
                                                       KEEP_STILL_REPEATED KEEP_NEWEST("events")),
        [CS_OUTPUTS_END] = END_SQL("timeline", "kind = 'step_output' AND "),
        [CS_OUTPUTS_DELETE] = DELETE_SQL("timeline", "kind = 'step_output' AND ", ""),
        [CS_STATES_END] = END_SQL("check_states", ""),
        [CS_STATES_DELETE] = DELETE_SQL("check_states", "", KEEP_LAST_STATE),
        [CS_AUDIT_END] = END_SQL("audit", ""),
        [CS_AUDIT_DELETE] = DELETE_SQL("audit", "", KEEP_NEWEST("audit")),
        /* The timelines first (?3 entries at most): the incidents' rows are their parents. */
        [CS_INCIDENT_TIMELINE] = "DELETE FROM timeline WHERE id IN (SELECT id FROM timeline"
                                 " WHERE incident_id IN (" EXPIRED_INCIDENTS ") LIMIT ?3)",
        [CS_INCIDENT_EVENTS] = "DELETE FROM events WHERE id IN (SELECT id FROM events"
                               " WHERE incident_id IN (" EXPIRED_INCIDENTS ") LIMIT ?3)",
        /* Their runs' steps (?3 at most), then the runs left without any. */
        [CS_INCIDENT_RUN_STEPS] = "DELETE FROM run_steps WHERE rowid IN (SELECT rowid FROM"
                                  " run_steps WHERE run_id IN (SELECT id FROM runs"
                                  " WHERE incident_id IN (" EXPIRED_INCIDENTS ")) LIMIT ?3)",
        [CS_INCIDENT_RUNS] = "DELETE FROM runs WHERE incident_id IN (" EXPIRED_INCIDENTS ")"
                             " AND NOT EXISTS (SELECT 1 FROM run_steps"
                             " WHERE run_steps.run_id = runs.id)",
        /* Their outbox rows (?3 at most): what they were told, settled long ago. */
        [CS_INCIDENT_NOTIFICATIONS] =
                "DELETE FROM notifications WHERE id IN (SELECT id FROM"
                " notifications WHERE incident_id IN (" EXPIRED_INCIDENTS ") LIMIT ?3)",
        [CS_INCIDENTS] =
                "DELETE FROM incidents WHERE id IN (" EXPIRED_INCIDENTS ")"
                " AND NOT EXISTS (SELECT 1 FROM timeline"
                " WHERE timeline.incident_id = incidents.id)"
                " AND NOT EXISTS (SELECT 1 FROM events"
                " WHERE events.incident_id = incidents.id)"
                " AND NOT EXISTS (SELECT 1 FROM runs WHERE runs.incident_id = incidents.id)"
                " AND NOT EXISTS (SELECT 1 FROM notifications"
                " WHERE notifications.incident_id = incidents.id)",
        /*
         * Runs by hand with no incident go by the outputs' retention, once
         * over (?1 the cut-off, ?2 runs at most): their steps, then them.
         */
        [CS_LONE_RUN_STEPS] = "DELETE FROM run_steps WHERE run_id IN (" LONE_RUNS ")",
        [CS_LONE_RUNS] = "DELETE FROM runs WHERE id IN (" LONE_RUNS ")",
};

struct sqlite_compact {
    sqlite3_stmt *stmt[CS_COUNT];
    int64_t page_size;
};

void store__sqlite_compact_free(struct sqlite_compact *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < CS_COUNT; i++)
        sqlite3_finalize(c->stmt[i]);
    free(c);
}

static struct sqlite_db *db_of(struct store_db *base)
{
    return (struct sqlite_db *)base;
}

static int db_error(struct sqlite_db *db, struct err *e, const char *what)
{
    return err_setf(e, HALE_ESTORE, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->conn));
}

static sqlite3_stmt *cs_get(struct sqlite_db *db, int which, struct err *e)
{
    if (!db->compact)
        db->compact = xcalloc(1, sizeof(*db->compact));
    sqlite3_stmt **s = &db->compact->stmt[which];
    if (!*s && sqlite3_prepare_v3(db->conn, cs_sql[which], -1, SQLITE_PREPARE_PERSISTENT, s,
                                  NULL) != SQLITE_OK) {
        db_error(db, e, cs_sql[which]);
        return NULL;
    }
    return *s;
}

/* Runs a bound DELETE to its end; *ret_n the rows it deleted. */
static int delete_run(struct sqlite_db *db, sqlite3_stmt *s, uint64_t *ret_n, struct err *e)
{
    int rc = sqlite3_step(s);
    int r = rc == SQLITE_DONE ? 0 : db_error(db, e, "deleting expired rows");
    sqlite3_reset(s);
    if (r == 0)
        *ret_n = (uint64_t)sqlite3_changes64(db->conn);
    return r;
}

/*
 * The row `limit` rows on from the cursor into *ret_end; or, when fewer
 * are left, the end of what expired and *ret_last: this chunk is the
 * stage's last.
 */
static int chunk_end(struct sqlite_db *db, int which, int64_t cutoff, size_t limit,
                     const struct store_compact_cursor *from, struct store_compact_cursor *ret_end,
                     bool *ret_last, struct err *e)
{
    sqlite3_stmt *s = cs_get(db, which, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_bind_int64(s, 2, from->time_ms);
    sqlite3_bind_int64(s, 3, from->id);
    sqlite3_bind_int64(s, 4, (int64_t)(limit > 0 ? limit - 1 : 0));
    int rc = sqlite3_step(s);
    int r = 0;
    if (rc == SQLITE_ROW) {
        *ret_end = (struct store_compact_cursor){sqlite3_column_int64(s, 0),
                                                 sqlite3_column_int64(s, 1)};
        *ret_last = false;
    } else if (rc == SQLITE_DONE) {
        *ret_end = (struct store_compact_cursor){cutoff - 1, INT64_MAX};
        *ret_last = true;
    } else {
        r = db_error(db, e, "finding expired rows");
    }
    sqlite3_reset(s);
    return r;
}

/* A chunk of a stage that goes by (time_ms, id): see END_SQL and DELETE_SQL. */
static int ranged_chunk(struct sqlite_db *db, enum store_compact_stage stage, int64_t cutoff,
                        size_t limit, struct store_compact_cursor *cursor, uint64_t *ret_n,
                        bool *ret_more, struct err *e)
{
    int end_sql = stage == STORE_COMPACT_EVENTS         ? CS_EVENTS_END
                  : stage == STORE_COMPACT_EVENT_ROWS   ? CS_EVENT_ROWS_END
                  : stage == STORE_COMPACT_OUTPUTS      ? CS_OUTPUTS_END
                  : stage == STORE_COMPACT_CHECK_STATES ? CS_STATES_END
                                                        : CS_AUDIT_END;
    struct store_compact_cursor end = *cursor;
    bool last = true;
    int r = chunk_end(db, end_sql, cutoff, limit, cursor, &end, &last, e);
    sqlite3_stmt *s = r < 0 ? NULL : cs_get(db, end_sql + 1, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, cutoff);
    sqlite3_bind_int64(s, 2, cursor->time_ms);
    sqlite3_bind_int64(s, 3, cursor->id);
    sqlite3_bind_int64(s, 4, end.time_ms);
    sqlite3_bind_int64(s, 5, end.id);
    r = delete_run(db, s, ret_n, e);
    if (r < 0)
        return r;
    *cursor = end;
    *ret_more = !last;
    return 0;
}

/*
 * A chunk of closed incidents: the timeline entries and the events (up to
 * limit each) of the oldest few expired ones, then those of them left
 * without any.
 */
static int incidents_chunk(struct sqlite_db *db, int64_t cutoff, size_t limit,
                           struct store_compaction *c, bool *ret_more, struct err *e)
{
    int64_t few = limit >= 10 ? (int64_t)(limit / 10) : 1;
    sqlite3_stmt *t = cs_get(db, CS_INCIDENT_TIMELINE, e);
    sqlite3_stmt *ev = t ? cs_get(db, CS_INCIDENT_EVENTS, e) : NULL;
    sqlite3_stmt *rs = ev ? cs_get(db, CS_INCIDENT_RUN_STEPS, e) : NULL;
    sqlite3_stmt *nt = rs ? cs_get(db, CS_INCIDENT_NOTIFICATIONS, e) : NULL;
    sqlite3_stmt *runs = nt ? cs_get(db, CS_INCIDENT_RUNS, e) : NULL;
    sqlite3_stmt *i = runs ? cs_get(db, CS_INCIDENTS, e) : NULL;
    if (!i)
        return HALE_ESTORE;
    uint64_t entries = 0, events = 0, steps = 0, notes = 0, nruns = 0, incidents = 0;
    int r = 0;
    sqlite3_stmt *children[] = {t, ev, rs, nt};
    uint64_t *counts[] = {&entries, &events, &steps, &notes};
    for (size_t k = 0; k < ARRAY_SIZE(children) && r == 0; k++) {
        sqlite3_bind_int64(children[k], 1, cutoff);
        sqlite3_bind_int64(children[k], 2, few);
        sqlite3_bind_int64(children[k], 3, (int64_t)limit);
        r = delete_run(db, children[k], counts[k], e);
    }
    if (r < 0)
        return r;
    sqlite3_stmt *parents[] = {runs, i};
    uint64_t *parent_counts[] = {&nruns, &incidents};
    for (size_t k = 0; k < ARRAY_SIZE(parents) && r == 0; k++) {
        sqlite3_bind_int64(parents[k], 1, cutoff);
        sqlite3_bind_int64(parents[k], 2, few);
        r = delete_run(db, parents[k], parent_counts[k], e);
    }
    if (r < 0)
        return r;
    c->timeline += entries + events;
    c->incidents += incidents;
    c->runs += nruns;
    c->notifications += notes;
    /* Fewer than asked for of each: every expired incident is gone. */
    *ret_more = entries >= limit || events >= limit || steps >= limit || notes >= limit ||
                incidents >= (uint64_t)few;
    return 0;
}

/* A chunk of the runs with no incident that are over before the cut-off: *ret_n of them. */
static int lone_runs_chunk(struct sqlite_db *db, int64_t cutoff, size_t limit, uint64_t *ret_n,
                           struct err *e)
{
    int64_t few = limit >= 10 ? (int64_t)(limit / 10) : 1;
    sqlite3_stmt *steps = cs_get(db, CS_LONE_RUN_STEPS, e);
    sqlite3_stmt *runs = steps ? cs_get(db, CS_LONE_RUNS, e) : NULL;
    if (!runs)
        return HALE_ESTORE;
    uint64_t n = 0;
    sqlite3_bind_int64(steps, 1, cutoff);
    sqlite3_bind_int64(steps, 2, few);
    int r = delete_run(db, steps, &n, e);
    if (r < 0)
        return r;
    sqlite3_bind_int64(runs, 1, cutoff);
    sqlite3_bind_int64(runs, 2, few);
    return delete_run(db, runs, ret_n, e);
}

int store__sqlite_compact_chunk(struct store_db *base, enum store_compact_stage stage,
                                int64_t cutoff_ms, size_t limit,
                                struct store_compact_cursor *cursor, struct store_compaction *c,
                                bool *ret_more, struct err *e)
{
    struct sqlite_db *db = db_of(base);
    int r = store__sqlite.begin(base, e);
    if (r < 0)
        return r;
    /* Counted and moved on only once committed. */
    struct store_compaction got = {0};
    struct store_compact_cursor at = *cursor;
    uint64_t n = 0;
    bool more = false;
    if (stage == STORE_COMPACT_INCIDENTS)
        r = incidents_chunk(db, cutoff_ms, limit, &got, &more, e);
    /* The outputs' stage takes the runs with no incident first, a chunk at a time. */
    if (stage == STORE_COMPACT_OUTPUTS)
        r = lone_runs_chunk(db, cutoff_ms, limit, &got.runs, e);
    if (r == 0 && got.runs >= (uint64_t)(limit >= 10 ? limit / 10 : 1) &&
        stage == STORE_COMPACT_OUTPUTS)
        more = true;
    else if (r == 0 && stage != STORE_COMPACT_INCIDENTS)
        r = ranged_chunk(db, stage, cutoff_ms, limit, &at, &n, &more, e);
    if (r == 0)
        r = store__sqlite.commit(base, e);
    if (r < 0) {
        store__sqlite.rollback(base);
        return r;
    }
    c->incidents += got.incidents;
    c->timeline += got.timeline;
    c->runs += got.runs;
    c->notifications += got.notifications;
    if (stage == STORE_COMPACT_EVENTS || stage == STORE_COMPACT_EVENT_ROWS)
        c->events += n;
    else if (stage == STORE_COMPACT_OUTPUTS)
        c->outputs += n;
    else if (stage == STORE_COMPACT_CHECK_STATES)
        c->check_states += n;
    else if (stage == STORE_COMPACT_AUDIT)
        c->audit += n;
    *cursor = at;
    *ret_more = more;
    return 0;
}

int store__sqlite_vacuum_chunk(struct store_db *base, uint64_t max_bytes, uint64_t *ret_freed,
                               bool *ret_more, struct err *e)
{
    struct sqlite_db *db = db_of(base);
    if (!db->compact)
        db->compact = xcalloc(1, sizeof(*db->compact));
    int64_t before = 0, after = 0;
    int r = 0;
    if (!db->compact->page_size)
        r = store__sqlite_query_int64(db, "PRAGMA page_size", &db->compact->page_size, e);
    if (r == 0)
        r = store__sqlite_query_int64(db, "PRAGMA freelist_count", &before, e);
    if (r < 0)
        return r;
    *ret_freed = 0;
    *ret_more = false;
    if (before == 0)
        return 0;
    int64_t pages = (int64_t)(max_bytes / (uint64_t)db->compact->page_size);
    char sql[64];
    snprintf(sql, sizeof(sql), "PRAGMA incremental_vacuum(%lld)", (long long)(pages ? pages : 1));
    /* Its own transaction: sqlite3_exec() steps it until every page asked for is moved. */
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, e, sql);
    if ((r = store__sqlite_query_int64(db, "PRAGMA freelist_count", &after, e)) < 0)
        return r;
    *ret_freed = before > after ? (uint64_t)(before - after) * (uint64_t)db->compact->page_size : 0;
    /* No progress: auto_vacuum is not on (a database not yet migrated); stop rather than spin. */
    *ret_more = after > 0 && after < before;
    return 0;
}

int store__sqlite_checkpoint(struct store_db *base, struct err *e)
{
    struct sqlite_db *db = db_of(base);
    /* Readers may hold an older snapshot a moment: wait that long, not the writer's 5 s. */
    sqlite3_busy_timeout(db->conn, CHECKPOINT_WAIT_MS);
    int rc = sqlite3_wal_checkpoint_v2(db->conn, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    sqlite3_busy_timeout(db->conn, STORE__BUSY_TIMEOUT_MS);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        return err_setf(e, HALE_ESTATE, "%s: readers kept the write-ahead log busy", db->path);
    if (rc != SQLITE_OK)
        return db_error(db, e, "checkpoint");
    return 0;
}

static uint64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

uint64_t store__sqlite_size(const struct store_db *base)
{
    const struct sqlite_db *db = (const struct sqlite_db *)base;
    char wal[4096];
    snprintf(wal, sizeof(wal), "%s-wal", db->path);
    return file_size(db->path) + file_size(wal);
}
