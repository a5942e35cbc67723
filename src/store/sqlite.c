/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's writing half: <data_dir>/hale.db in WAL mode with
 * full fsync on commit, its schema and numbered migrations, and the
 * statements the writer thread runs. Readers are in sqlite_read.c.
 *
 * Enumerations are stored by name (incident.h's names, the engine's for
 * events), labels as a JSON object, fingerprints as 16 hex digits, absent
 * strings as NULL, absent links (problem, incident, silence) as NULL.
 */
#include "store/sqlite.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/fs.h"

/*
 * The schema, one step per version: step i takes a database from version
 * i to i + 1. Append steps; never edit one that has shipped.
 */
struct migration {
    const char *sql; /* run in the step's transaction */
    /*
     * Then, outside it (VACUUM cannot run in a transaction): turn on
     * incremental auto-vacuum and rebuild the file. The step's SQL must be
     * idempotent, as a crash before the version is set runs it again.
     */
    bool vacuum;
};

static const struct migration migrations[] = {
        /* 1: incidents, their timelines, the audit log, problems, checks' hard states. */
        {.sql = "CREATE TABLE problems ("
                " id INTEGER PRIMARY KEY,"
                " title TEXT NOT NULL,"
                " fingerprint TEXT NOT NULL,"
                " state TEXT NOT NULL,"
                " root_cause TEXT,"
                " workaround TEXT,"
                " opened_ms INTEGER NOT NULL,"
                " resolved_ms INTEGER NOT NULL,"
                " updated_ms INTEGER NOT NULL,"
                " incidents INTEGER NOT NULL);"
                "CREATE INDEX problems_by_fingerprint ON problems (fingerprint);"
                "CREATE TABLE incidents ("
                " id INTEGER PRIMARY KEY,"
                " type TEXT NOT NULL,"
                " title TEXT NOT NULL,"
                " fingerprint TEXT NOT NULL,"
                " labels TEXT NOT NULL," /* a JSON object */
                " severity TEXT NOT NULL,"
                " priority INTEGER NOT NULL,"
                " category TEXT NOT NULL,"
                " team TEXT,"
                " assignee TEXT,"
                " check_name TEXT,"
                " state TEXT NOT NULL,"
                " opened_ms INTEGER NOT NULL,"
                " acknowledged_ms INTEGER NOT NULL,"
                " resolved_ms INTEGER NOT NULL,"
                " closed_ms INTEGER NOT NULL,"
                " resolved_by TEXT,"
                " root_cause TEXT,"
                " reopened INTEGER NOT NULL,"
                " problem_id INTEGER REFERENCES problems (id),"
                " updated_ms INTEGER NOT NULL);"
                "CREATE INDEX incidents_by_state ON incidents (state, id);"
                "CREATE INDEX incidents_by_team ON incidents (team, id);"
                "CREATE INDEX incidents_by_fingerprint ON incidents (fingerprint, id);"
                "CREATE INDEX incidents_by_opened ON incidents (opened_ms);"
                "CREATE INDEX incidents_by_problem ON incidents (problem_id);"
                "CREATE TABLE timeline ("
                " id INTEGER PRIMARY KEY,"
                " incident_id INTEGER NOT NULL REFERENCES incidents (id),"
                " time_ms INTEGER NOT NULL,"
                " kind TEXT NOT NULL,"
                " actor TEXT NOT NULL,"
                " text TEXT NOT NULL,"
                " data TEXT);"
                "CREATE INDEX timeline_by_incident ON timeline (incident_id, time_ms, id);"
                "CREATE TABLE audit ("
                " id INTEGER PRIMARY KEY,"
                " time_ms INTEGER NOT NULL,"
                " actor TEXT NOT NULL,"
                " action TEXT NOT NULL,"
                " target TEXT,"
                " origin TEXT,"
                " detail TEXT);"
                "CREATE INDEX audit_by_time ON audit (time_ms, id);"
                "CREATE TABLE check_states ("
                " id INTEGER PRIMARY KEY,"
                " check_name TEXT NOT NULL,"
                " status INTEGER NOT NULL,"
                " time_ms INTEGER NOT NULL);"
                "CREATE INDEX check_states_by_check ON check_states (check_name, time_ms);"
                "CREATE INDEX check_states_by_time ON check_states (time_ms);"},
        /* 2: problems get a timeline of their own (state changes, notes, incidents linked). */
        {.sql = "CREATE TABLE problem_timeline ("
                " id INTEGER PRIMARY KEY,"
                " problem_id INTEGER NOT NULL REFERENCES problems (id),"
                " time_ms INTEGER NOT NULL,"
                " kind TEXT NOT NULL,"
                " actor TEXT NOT NULL,"
                " text TEXT NOT NULL,"
                " data TEXT);"
                "CREATE INDEX problem_timeline_by_problem"
                " ON problem_timeline (problem_id, time_ms, id);"},
        /*
         * 3: retention. The indexes compaction finds expired rows by, and
         * pages freed by deletes given back to the file system in chunks
         * (auto_vacuum = INCREMENTAL, which only a VACUUM turns on in a
         * database that has tables).
         */
        {.sql = "CREATE INDEX IF NOT EXISTS timeline_by_kind ON timeline (kind, time_ms);"
                "CREATE INDEX IF NOT EXISTS incidents_by_closed ON incidents (state, closed_ms);",
         .vacuum = true},
        /*
         * 4: the silences people create, kept after they expire (history).
         * No foreign key to incidents: compaction deletes closed incidents,
         * and a silence bound to one outlives it.
         */
        {.sql = "CREATE TABLE silences ("
                " id INTEGER PRIMARY KEY,"
                " source TEXT NOT NULL,"
                " matchers TEXT NOT NULL,"
                " starts_ms INTEGER NOT NULL,"
                " ends_ms INTEGER NOT NULL,"
                " weekly TEXT,"
                " incident_id INTEGER,"
                " comment TEXT NOT NULL,"
                " created_by TEXT NOT NULL,"
                " created_ms INTEGER NOT NULL,"
                " ended_ms INTEGER NOT NULL,"
                " ended_by TEXT);"
                "CREATE INDEX silences_by_ends ON silences (ends_ms);"},
        /*
         * 5: the engine. Every event received, with what was decided about
         * it; what incidents know of the engine (their service, the root
         * cause they are a symptom of, their runbook, what they counted).
         */
        {.sql = "ALTER TABLE incidents ADD COLUMN service TEXT;"
                "ALTER TABLE incidents ADD COLUMN symptom_of INTEGER;"
                "ALTER TABLE incidents ADD COLUMN runbook TEXT;"
                "ALTER TABLE incidents ADD COLUMN events INTEGER NOT NULL DEFAULT 0;"
                "ALTER TABLE incidents ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;"
                "CREATE TABLE events ("
                " id INTEGER PRIMARY KEY,"
                " incident_id INTEGER REFERENCES incidents (id),"
                " received_ms INTEGER NOT NULL,"
                " source TEXT NOT NULL,"
                " status TEXT NOT NULL,"
                " severity TEXT NOT NULL,"
                " fingerprint TEXT NOT NULL,"
                " labels TEXT NOT NULL,"      /* a JSON object */
                " annotations TEXT NOT NULL," /* a JSON object */
                " summary TEXT NOT NULL,"
                " starts_ms INTEGER NOT NULL,"
                " ends_ms INTEGER NOT NULL,"
                " verdict TEXT NOT NULL,"
                " silence_id INTEGER,"
                " sender TEXT,"
                " reason TEXT NOT NULL);"
                "CREATE INDEX events_by_incident ON events (incident_id, id);"
                "CREATE INDEX events_by_received ON events (received_ms, id);"},
        /*
         * 6: runbooks. Runs with their approval gate, a row per attempt of
         * each step, and quarantines. No foreign key from runs to
         * incidents: compaction deletes a closed incident's runs first, and
         * a run by hand has none.
         */
        {.sql = "CREATE TABLE runs ("
                " id INTEGER PRIMARY KEY,"
                " runbook TEXT NOT NULL,"
                " incident_id INTEGER,"
                " fingerprint TEXT,"
                " target TEXT NOT NULL,"
                " labels TEXT NOT NULL," /* a JSON object */
                " automatic INTEGER NOT NULL,"
                " actor TEXT NOT NULL,"
                " outcome TEXT NOT NULL,"
                " reason TEXT,"
                " step INTEGER NOT NULL,"
                " started_ms INTEGER NOT NULL,"
                " ended_ms INTEGER NOT NULL,"
                " relapsed INTEGER NOT NULL,"
                " gate_step INTEGER NOT NULL,"
                " question TEXT,"
                " deadline_ms INTEGER NOT NULL,"
                " decided_by TEXT,"
                " decided_ms INTEGER NOT NULL,"
                " decision TEXT,"
                " comment TEXT);"
                "CREATE INDEX runs_by_runbook ON runs (runbook, id);"
                "CREATE INDEX runs_by_incident ON runs (incident_id, id);"
                "CREATE INDEX runs_by_outcome ON runs (outcome, id);"
                "CREATE INDEX runs_by_started ON runs (started_ms, id);"
                "CREATE TABLE run_steps ("
                " run_id INTEGER NOT NULL REFERENCES runs (id),"
                " seq INTEGER NOT NULL,"
                " step INTEGER NOT NULL,"
                " name TEXT NOT NULL,"
                " action TEXT NOT NULL,"
                " purpose TEXT NOT NULL,"
                " attempt INTEGER NOT NULL,"
                " outcome TEXT NOT NULL,"
                " started_ms INTEGER NOT NULL,"
                " ended_ms INTEGER NOT NULL,"
                " exit_status INTEGER NOT NULL,"
                " term_signal INTEGER NOT NULL,"
                " timed_out INTEGER NOT NULL,"
                " output TEXT,"
                " reason TEXT,"
                " PRIMARY KEY (run_id, seq));"
                "CREATE TABLE quarantines ("
                " runbook TEXT NOT NULL,"
                " since_ms INTEGER NOT NULL,"
                " reason TEXT NOT NULL,"
                " lifted_ms INTEGER NOT NULL,"
                " lifted_by TEXT,"
                " PRIMARY KEY (runbook, since_ms));"},
        /*
         * 7: the outbox of notifications: a row per message to a notifier,
         * rewritten at each attempt; the pending ones are what a restart
         * goes on delivering.
         */
        {.sql = "CREATE TABLE IF NOT EXISTS notifications ("
                " id INTEGER PRIMARY KEY,"
                " incident_id INTEGER NOT NULL,"
                " team TEXT,"
                " notifier TEXT NOT NULL,"
                " reason TEXT NOT NULL,"
                " level INTEGER NOT NULL,"
                " state TEXT NOT NULL,"
                " text TEXT NOT NULL,"
                " assignee TEXT,"
                " attempts INTEGER NOT NULL,"
                " created_ms INTEGER NOT NULL,"
                " due_ms INTEGER NOT NULL,"
                " updated_ms INTEGER NOT NULL,"
                " error TEXT);"
                "CREATE INDEX IF NOT EXISTS notifications_by_incident ON notifications "
                "(incident_id, id);"
                "CREATE INDEX IF NOT EXISTS notifications_by_state ON notifications (state, id);"},
        /*
         * 8: a running step's child (its pid, its process group too, and
         * its start time), for the start-up after a crash to kill the group.
         */
        {.sql = "ALTER TABLE run_steps ADD COLUMN pid INTEGER NOT NULL DEFAULT 0;"
                "ALTER TABLE run_steps ADD COLUMN pid_start INTEGER NOT NULL DEFAULT 0;"},
        /*
         * 9: incidents listed by service (the web UI's and the API's filter),
         * newest first like the other incident indexes.
         */
        {.sql = "CREATE INDEX IF NOT EXISTS incidents_by_service ON incidents (service, id);"},
        /*
         * 10: an event that repeats the last one of its fingerprint on its
         * open incident is counted on that row, not kept again: how many,
         * the latest's time, and a hash of what the row says, so that a
         * restart can still tell a repeat (NULL in older rows: the next
         * event after the upgrade is kept whole, and repeats count on it).
         */
        {.sql = "ALTER TABLE events ADD COLUMN repeats INTEGER NOT NULL DEFAULT 0;"
                "ALTER TABLE events ADD COLUMN last_ms INTEGER;"
                "ALTER TABLE events ADD COLUMN content INTEGER;"},
};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION,
               "STORE_SCHEMA_VERSION is the number of migration steps");

static const char *const stmt_sql[STMT_COUNT] = {
        [STMT_BEGIN] = "BEGIN IMMEDIATE",
        [STMT_COMMIT] = "COMMIT",
        [STMT_ROLLBACK] = "ROLLBACK",
        [STMT_INCIDENT] =
                "INSERT INTO incidents (id, type, title, fingerprint, labels, severity, priority,"
                " category, team, assignee, check_name, state, opened_ms, acknowledged_ms,"
                " resolved_ms, closed_ms, resolved_by, root_cause, reopened, problem_id,"
                " updated_ms, service, symptom_of, runbook, events, repeats)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
                " ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
                " ON CONFLICT (id) DO UPDATE SET type = excluded.type, title = excluded.title,"
                " fingerprint = excluded.fingerprint, labels = excluded.labels,"
                " severity = excluded.severity, priority = excluded.priority,"
                " category = excluded.category, team = excluded.team,"
                " assignee = excluded.assignee, check_name = excluded.check_name,"
                " state = excluded.state, opened_ms = excluded.opened_ms,"
                " acknowledged_ms = excluded.acknowledged_ms, resolved_ms = excluded.resolved_ms,"
                " closed_ms = excluded.closed_ms, resolved_by = excluded.resolved_by,"
                " root_cause = excluded.root_cause, reopened = excluded.reopened,"
                " problem_id = excluded.problem_id, updated_ms = excluded.updated_ms,"
                " service = excluded.service, symptom_of = excluded.symptom_of,"
                " runbook = excluded.runbook, events = excluded.events,"
                " repeats = excluded.repeats",
        [STMT_TIMELINE] = "INSERT INTO timeline (incident_id, time_ms, kind, actor, text, data)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [STMT_PROBLEM_TIMELINE] = "INSERT INTO problem_timeline (problem_id, time_ms, kind, actor,"
                                  " text, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [STMT_AUDIT] = "INSERT INTO audit (time_ms, actor, action, target, origin, detail)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        [STMT_PROBLEM] =
                "INSERT INTO problems (id, title, fingerprint, state, root_cause, workaround,"
                " opened_ms, resolved_ms, updated_ms, incidents)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                " ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
                " fingerprint = excluded.fingerprint, state = excluded.state,"
                " root_cause = excluded.root_cause, workaround = excluded.workaround,"
                " opened_ms = excluded.opened_ms, resolved_ms = excluded.resolved_ms,"
                " updated_ms = excluded.updated_ms, incidents = excluded.incidents",
        [STMT_CHECK_STATE] = "INSERT INTO check_states (check_name, status, time_ms)"
                             " VALUES (?1, ?2, ?3)",
        [STMT_EVENT] = "INSERT INTO events (incident_id, received_ms, source, status, severity,"
                       " fingerprint, labels, annotations, summary, starts_ms, ends_ms, verdict,"
                       " silence_id, sender, reason, id, content)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                       " ?16, ?17)",
        [STMT_EVENT_REPEATS] =
                "UPDATE events SET repeats = repeats + ?2, last_ms = ?3 WHERE id = ?1",
        [STMT_SILENCE] = "INSERT INTO silences (id, source, matchers, starts_ms, ends_ms, weekly,"
                         " incident_id, comment, created_by, created_ms, ended_ms, ended_by)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                         " ON CONFLICT (id) DO UPDATE SET source = excluded.source,"
                         " matchers = excluded.matchers, starts_ms = excluded.starts_ms,"
                         " ends_ms = excluded.ends_ms, weekly = excluded.weekly,"
                         " incident_id = excluded.incident_id, comment = excluded.comment,"
                         " created_by = excluded.created_by, created_ms = excluded.created_ms,"
                         " ended_ms = excluded.ended_ms, ended_by = excluded.ended_by",
};

static struct sqlite_db *db_of(struct store_db *base)
{
    return (struct sqlite_db *)base;
}

static int db_error(struct sqlite_db *db, struct err *e, const char *what)
{
    return err_setf(e, HALE_ESTORE, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->conn));
}

static int exec(struct sqlite_db *db, const char *sql, struct err *e)
{
    if (sqlite3_exec(db->conn, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_error(db, e, sql);
    return 0;
}

int store__sqlite_query_int64(struct sqlite_db *db, const char *sql, int64_t *ret, struct err *e)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->conn, sql, -1, &s, NULL) != SQLITE_OK)
        return db_error(db, e, sql);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        int r = db_error(db, e, sql);
        sqlite3_finalize(s);
        return r;
    }
    *ret = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return 0;
}

sqlite3_stmt *store__sqlite_stmt(struct sqlite_db *db, sqlite3_stmt **slot, const char *sql,
                                 struct err *e)
{
    if (!*slot &&
        sqlite3_prepare_v3(db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL) != SQLITE_OK) {
        db_error(db, e, sql);
        return NULL;
    }
    return *slot;
}

static sqlite3_stmt *stmt_get(struct sqlite_db *db, int which, struct err *e)
{
    return store__sqlite_stmt(db, &db->stmt[which], stmt_sql[which], e);
}

/* Runs a bound write statement to its end and makes it ready for the next. */
static int stmt_run(struct sqlite_db *db, sqlite3_stmt *s, const char *what, struct err *e)
{
    int rc = sqlite3_step(s);
    int r = rc == SQLITE_DONE ? 0 : db_error(db, e, what);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s); /* bound text is the batch's, freed after the commit */
    return r;
}

int store__sqlite_stmt_run(struct sqlite_db *db, sqlite3_stmt *s, const char *what, struct err *e)
{
    return stmt_run(db, s, what, e);
}

/* ---- open, refuse, migrate -------------------------------------------- */

/* A newer hale may have changed anything: touch nothing, say what to do. */
static int version_check(struct sqlite_db *db, struct err *e)
{
    int64_t version;
    int r = store__sqlite_query_int64(db, "PRAGMA user_version", &version, e);
    if (r < 0)
        return r;
    if (version > STORE_SCHEMA_VERSION)
        return err_setf(e, HALE_ESTORE,
                        "%s was written by a newer hale (schema version %lld; this hale knows up "
                        "to %d): run that hale, or restore a backup made with this one",
                        db->path, (long long)version, STORE_SCHEMA_VERSION);
    return 0;
}

static int pragmas_set(struct sqlite_db *db, struct err *e)
{
    sqlite3_busy_timeout(db->conn, STORE__BUSY_TIMEOUT_MS);
    /* Readers never block the writer, and a commit is one append and one fsync. */
    char mode[16] = "";
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->conn, "PRAGMA journal_mode = WAL", -1, &s, NULL) != SQLITE_OK)
        return db_error(db, e, "PRAGMA journal_mode = WAL");
    if (sqlite3_step(s) == SQLITE_ROW)
        snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    if (strcmp(mode, "wal") != 0)
        return err_setf(e, HALE_ESTORE,
                        "%s: cannot use write-ahead logging (journal mode \"%s\"); is the data "
                        "directory on a network file system?",
                        db->path, mode);
    /* FULL: a commit acknowledged is on disk, through a power cut, not only a crash. */
    return exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", e);
}

static void sqlite_close(struct store_db *base)
{
    if (!base)
        return;
    struct sqlite_db *db = db_of(base);
    for (size_t i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(db->stmt[i]);
    for (size_t i = 0; i < STORE__RUN_STMT_COUNT; i++)
        sqlite3_finalize(db->run_stmt[i]);
    sqlite3_finalize(db->notification_stmt);
    store__sqlite_compact_free(db->compact);
    sqlite3_close(db->conn);
    free(db->path);
    free(db);
}

static void setup_once(void)
{
    /*
     * No count of the memory SQLite holds: hale never asks for it, and
     * keeping it takes a process-wide mutex at every allocation, some
     * tenth of the writer's time when it counts the repeats of a batch.
     */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    /*
     * No page cache starts with room for 20 pages (87 KiB, kept for the
     * connection's life): pages are allocated as they are read. A daemon
     * holds five connections, and its readers read a few pages at a time.
     */
    (void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
}

void store__sqlite_setup(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, setup_once);
}

static int sqlite_open(const struct store_options *o, struct store_db **ret_db, struct err *e)
{
    store__sqlite_setup();
    int r = fs_mkdir_p(o->data_dir, 0700);
    if (r < 0)
        return err_setf(e, HALE_ESTORE, "cannot create the data directory %s: %s", o->data_dir,
                        strerror(-r));
    struct sqlite_db *db = xcalloc(1, sizeof(*db));
    db->base.backend = &store__sqlite;
    db->path = xasprintf("%s/hale.db", o->data_dir);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(db->path, &db->conn, flags, NULL) != SQLITE_OK) {
        r = db->conn ? db_error(db, e, "cannot open")
                     : err_setf(e, HALE_ESTORE, "%s: cannot open: out of memory", db->path);
        sqlite_close(&db->base);
        return r;
    }
    r = version_check(db, e);
    if (r == 0)
        r = pragmas_set(db, e);
    if (r < 0) {
        sqlite_close(&db->base);
        return r;
    }
    *ret_db = &db->base;
    return 0;
}

static int version_set(struct sqlite_db *db, int64_t version, struct err *e)
{
    char sql[48];
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)version);
    return exec(db, sql, e);
}

/*
 * Turns on incremental auto-vacuum and rebuilds the file so it takes
 * effect, then checks that it did: compaction relies on it to shrink the
 * file. Rebuilding copies the whole database once.
 */
static int vacuum_incremental(struct sqlite_db *db, struct err *e)
{
    int r = exec(db, "PRAGMA auto_vacuum = INCREMENTAL", e);
    if (r == 0)
        r = exec(db, "VACUUM", e);
    int64_t mode = 0;
    if (r == 0)
        r = store__sqlite_query_int64(db, "PRAGMA auto_vacuum", &mode, e);
    if (r == 0 && mode != 2)
        r = err_setf(e, HALE_ESTORE, "%s: auto_vacuum is %lld after VACUUM, not incremental (2)",
                     db->path, (long long)mode);
    return r;
}

/* Runs the step that follows the version found; *ret_done when none. */
static int migrate_step(struct sqlite_db *db, bool *ret_done, struct err *e)
{
    /* IMMEDIATE: a second hale on the same file waits rather than migrating too. */
    int r = exec(db, "BEGIN IMMEDIATE", e);
    if (r < 0)
        return r;
    int64_t version = -1;
    r = store__sqlite_query_int64(db, "PRAGMA user_version", &version, e);
    const struct migration *m =
            r == 0 && version >= 0 && version < STORE_SCHEMA_VERSION ? &migrations[version] : NULL;
    if (m)
        r = exec(db, m->sql, e);
    /* A step that vacuums sets its version after the VACUUM, outside the transaction. */
    if (r == 0 && m && !m->vacuum)
        r = version_set(db, version + 1, e);
    if (r == 0)
        r = exec(db, "COMMIT", e);
    if (r == 0 && m && m->vacuum) {
        r = vacuum_incremental(db, e);
        if (r == 0)
            r = version_set(db, version + 1, e);
    }
    if (r < 0) {
        if (!sqlite3_get_autocommit(db->conn))
            sqlite3_exec(db->conn, "ROLLBACK", NULL, NULL, NULL);
        if (version >= 0)
            err_prefixf(e, "migrating to schema version %lld", (long long)version + 1);
        return r;
    }
    *ret_done = version >= STORE_SCHEMA_VERSION;
    return 0;
}

static int sqlite_migrate(struct store_db *base, struct err *e)
{
    struct sqlite_db *db = db_of(base);
    bool done = false;
    while (!done) {
        int r = migrate_step(db, &done, e);
        if (r < 0)
            return r;
    }
    return 0;
}

static const char *sqlite_path(const struct store_db *base)
{
    return ((const struct sqlite_db *)base)->path;
}

static int sqlite_last_ids(struct store_db *base, struct store__last_ids *ret, struct err *e)
{
    struct sqlite_db *db = db_of(base);
    struct store__last_ids last;
    int r = store__sqlite_query_int64(db, "SELECT COALESCE(MAX(id), 0) FROM incidents",
                                      &last.incident, e);
    if (r == 0)
        r = store__sqlite_query_int64(db, "SELECT COALESCE(MAX(id), 0) FROM problems",
                                      &last.problem, e);
    if (r == 0)
        r = store__sqlite_query_int64(db, "SELECT COALESCE(MAX(id), 0) FROM silences",
                                      &last.silence, e);
    if (r == 0)
        r = store__sqlite_query_int64(db, "SELECT COALESCE(MAX(id), 0) FROM runs", &last.run, e);
    if (r == 0)
        r = store__sqlite_query_int64(db, "SELECT COALESCE(MAX(id), 0) FROM notifications",
                                      &last.notification, e);
    if (r == 0)
        r = store__sqlite_query_int64(db, "SELECT COALESCE(MAX(id), 0) FROM events", &last.event,
                                      e);
    if (r < 0)
        return r;
    *ret = last;
    return 0;
}

/* ---- transactions ----------------------------------------------------- */

static int run_simple(struct sqlite_db *db, int which, struct err *e)
{
    sqlite3_stmt *s = stmt_get(db, which, e);
    return s ? stmt_run(db, s, stmt_sql[which], e) : HALE_ESTORE;
}

static int sqlite_begin(struct store_db *base, struct err *e)
{
    return run_simple(db_of(base), STMT_BEGIN, e);
}

static int sqlite_commit(struct store_db *base, struct err *e)
{
    return run_simple(db_of(base), STMT_COMMIT, e);
}

static void sqlite_rollback(struct store_db *base)
{
    struct sqlite_db *db = db_of(base);
    /* Some errors (a full disk, I/O) have rolled the transaction back already. */
    if (!sqlite3_get_autocommit(db->conn))
        run_simple(db, STMT_ROLLBACK, NULL);
}

/* ---- records ---------------------------------------------------------- */

/* A name of "unknown" is an enumeration value out of range: refuse it rather than store it. */
static int names_check(const char *const *names, size_t n, const char *record, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], "unknown") == 0)
            return err_setf(e, HALE_ESTORE, "%s: an enumeration is out of range", record);
    return 0;
}

static int incident_write(struct sqlite_db *db, const struct incident *i, struct err *e)
{
    const char *names[] = {incident_type_name(i->type), incident_severity_name(i->severity),
                           incident_category_name(i->category), incident_state_name(i->state)};
    int r = names_check(names, ARRAY_SIZE(names), "incident", e);
    if (r < 0)
        return r;
    _cleanup_free_ char *labels = NULL;
    if (store__labels_to_json(&i->labels, &labels) < 0)
        return err_setf(e, HALE_ESTORE, "incident %lld: a label value is not UTF-8",
                        (long long)i->id);
    sqlite3_stmt *s = stmt_get(db, STMT_INCIDENT, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, i->id);
    store__sqlite_bind_text(s, 2, names[0]);
    store__sqlite_bind_text(s, 3, i->title);
    store__sqlite_bind_text(s, 4, i->fingerprint);
    store__sqlite_bind_text(s, 5, labels);
    store__sqlite_bind_text(s, 6, names[1]);
    sqlite3_bind_int64(s, 7, i->priority);
    store__sqlite_bind_text(s, 8, names[2]);
    store__sqlite_bind_text(s, 9, i->team);
    store__sqlite_bind_text(s, 10, i->assignee);
    store__sqlite_bind_text(s, 11, i->check);
    store__sqlite_bind_text(s, 12, names[3]);
    sqlite3_bind_int64(s, 13, i->opened_ms);
    sqlite3_bind_int64(s, 14, i->acknowledged_ms);
    sqlite3_bind_int64(s, 15, i->resolved_ms);
    sqlite3_bind_int64(s, 16, i->closed_ms);
    store__sqlite_bind_text(s, 17, i->resolved_by);
    store__sqlite_bind_text(s, 18, i->root_cause);
    sqlite3_bind_int64(s, 19, i->reopened);
    store__sqlite_bind_id(s, 20, i->problem_id);
    sqlite3_bind_int64(s, 21, i->updated_ms);
    store__sqlite_bind_text(s, 22, i->service);
    store__sqlite_bind_id(s, 23, i->symptom_of);
    store__sqlite_bind_text(s, 24, i->runbook);
    sqlite3_bind_int64(s, 25, i->events);
    sqlite3_bind_int64(s, 26, i->repeats);
    return stmt_run(db, s, "writing an incident", e);
}

static int timeline_write(struct sqlite_db *db, const struct timeline_entry *t, struct err *e)
{
    const char *kind = timeline_kind_name(t->kind);
    int r = names_check(&kind, 1, "timeline entry", e);
    sqlite3_stmt *s =
            r < 0 ? NULL : stmt_get(db, t->problem_id ? STMT_PROBLEM_TIMELINE : STMT_TIMELINE, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, t->problem_id ? t->problem_id : t->incident_id);
    sqlite3_bind_int64(s, 2, t->time_ms);
    store__sqlite_bind_text(s, 3, kind);
    store__sqlite_bind_text(s, 4, t->actor);
    store__sqlite_bind_text(s, 5, t->text);
    store__sqlite_bind_text(s, 6, t->data);
    return stmt_run(db, s, "writing a timeline entry", e);
}

static int audit_write(struct sqlite_db *db, const struct audit_entry *a, struct err *e)
{
    sqlite3_stmt *s = stmt_get(db, STMT_AUDIT, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, a->time_ms);
    store__sqlite_bind_text(s, 2, a->actor);
    store__sqlite_bind_text(s, 3, a->action);
    store__sqlite_bind_text(s, 4, a->target);
    store__sqlite_bind_text(s, 5, a->origin);
    store__sqlite_bind_text(s, 6, a->detail);
    return stmt_run(db, s, "writing an audit entry", e);
}

static int problem_write(struct sqlite_db *db, const struct problem *p, struct err *e)
{
    const char *state = problem_state_name(p->state);
    int r = names_check(&state, 1, "problem", e);
    sqlite3_stmt *s = r < 0 ? NULL : stmt_get(db, STMT_PROBLEM, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, p->id);
    store__sqlite_bind_text(s, 2, p->title);
    store__sqlite_bind_text(s, 3, p->fingerprint);
    store__sqlite_bind_text(s, 4, state);
    store__sqlite_bind_text(s, 5, p->root_cause);
    store__sqlite_bind_text(s, 6, p->workaround);
    sqlite3_bind_int64(s, 7, p->opened_ms);
    sqlite3_bind_int64(s, 8, p->resolved_ms);
    sqlite3_bind_int64(s, 9, p->updated_ms);
    sqlite3_bind_int64(s, 10, p->incidents);
    return stmt_run(db, s, "writing a problem", e);
}

static int check_state_write(struct sqlite_db *db, const struct store_check_state *c, struct err *e)
{
    sqlite3_stmt *s = stmt_get(db, STMT_CHECK_STATE, e);
    if (!s)
        return HALE_ESTORE;
    store__sqlite_bind_text(s, 1, c->check);
    sqlite3_bind_int(s, 2, c->status);
    sqlite3_bind_int64(s, 3, c->time_ms);
    return stmt_run(db, s, "writing a check state", e);
}

static int event_write(struct sqlite_db *db, const struct store_event *ev, struct err *e)
{
    _cleanup_free_ char *labels = NULL, *annotations = NULL;
    if (store__labels_to_json(&ev->labels, &labels) < 0 ||
        store__labels_to_json(&ev->annotations, &annotations) < 0)
        return err_setf(e, HALE_ESTORE, "event: a label or annotation value is not UTF-8");
    if (!ev->source || !ev->status || !ev->severity || !ev->verdict)
        return err_setf(e, HALE_ESTORE, "event: its source, status, severity or verdict is unset");
    sqlite3_stmt *s = stmt_get(db, STMT_EVENT, e);
    if (!s)
        return HALE_ESTORE;
    char fp[STORE__FINGERPRINT_MAX];
    store__fingerprint_format(ev->fingerprint, fp);
    store__sqlite_bind_id(s, 1, ev->incident_id);
    sqlite3_bind_int64(s, 2, ev->received_ms);
    store__sqlite_bind_text(s, 3, ev->source);
    store__sqlite_bind_text(s, 4, ev->status);
    store__sqlite_bind_text(s, 5, ev->severity);
    store__sqlite_bind_text(s, 6, fp);
    store__sqlite_bind_text(s, 7, labels);
    store__sqlite_bind_text(s, 8, annotations);
    store__sqlite_bind_text(s, 9, ev->summary ? ev->summary : "");
    sqlite3_bind_int64(s, 10, ev->starts_ms);
    sqlite3_bind_int64(s, 11, ev->ends_ms);
    store__sqlite_bind_text(s, 12, ev->verdict);
    store__sqlite_bind_id(s, 13, ev->silence_id);
    store__sqlite_bind_text(s, 14, ev->sender);
    store__sqlite_bind_text(s, 15, ev->reason ? ev->reason : "");
    /* 0: numbered by SQLite, for writers that do not count repeats (tests). */
    store__sqlite_bind_id(s, 16, ev->id);
    store__sqlite_bind_id(s, 17, (int64_t)ev->content);
    return stmt_run(db, s, "writing an event", e);
}

static int event_repeats_write(struct sqlite_db *db, const struct store__event_repeats *v,
                               struct err *e)
{
    sqlite3_stmt *s = stmt_get(db, STMT_EVENT_REPEATS, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, v->id);
    sqlite3_bind_int64(s, 2, v->n);
    sqlite3_bind_int64(s, 3, v->last_ms);
    return stmt_run(db, s, "counting an event's repeats", e);
}

static int silence_write(struct sqlite_db *db, const struct store_silence *v, struct err *e)
{
    sqlite3_stmt *s = stmt_get(db, STMT_SILENCE, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, v->id);
    store__sqlite_bind_text(s, 2, v->source ? v->source : "api");
    store__sqlite_bind_text(s, 3, v->matchers ? v->matchers : "");
    sqlite3_bind_int64(s, 4, v->starts_ms);
    sqlite3_bind_int64(s, 5, v->ends_ms);
    store__sqlite_bind_text(s, 6, v->weekly);
    store__sqlite_bind_id(s, 7, v->incident_id);
    store__sqlite_bind_text(s, 8, v->comment ? v->comment : "");
    store__sqlite_bind_text(s, 9, v->created_by ? v->created_by : "");
    sqlite3_bind_int64(s, 10, v->created_ms);
    sqlite3_bind_int64(s, 11, v->ended_ms);
    store__sqlite_bind_text(s, 12, v->ended_by);
    return stmt_run(db, s, "writing a silence", e);
}

static int sqlite_apply(struct store_db *base, const struct store_record *rec, struct err *e)
{
    struct sqlite_db *db = db_of(base);
    switch (rec->kind) {
    case STORE_RECORD_INCIDENT:
        return incident_write(db, &rec->u.incident, e);
    case STORE_RECORD_TIMELINE:
        return timeline_write(db, &rec->u.timeline, e);
    case STORE_RECORD_AUDIT:
        return audit_write(db, &rec->u.audit, e);
    case STORE_RECORD_PROBLEM:
        return problem_write(db, &rec->u.problem, e);
    case STORE_RECORD_CHECK_STATE:
        return check_state_write(db, &rec->u.check_state, e);
    case STORE_RECORD_EVENT:
        return event_write(db, &rec->u.event, e);
    case STORE_RECORD_SILENCE:
        return silence_write(db, &rec->u.silence, e);
    case STORE_RECORD_RUN:
        return store__sqlite_run_write(db, &rec->u.run, e);
    case STORE_RECORD_RUN_STEP:
        return store__sqlite_run_step_write(db, &rec->u.run_step, e);
    case STORE_RECORD_QUARANTINE:
        return store__sqlite_quarantine_write(db, &rec->u.quarantine, e);
    case STORE_RECORD_NOTIFICATION:
        return store__sqlite_notification_write(db, &rec->u.notification, e);
    case STORE_RECORD_EVENT_REPEATS:
        return event_repeats_write(db, &rec->u.event_repeats, e);
    }
    return err_setf(e, HALE_EINTERNAL, "unknown record kind %d", (int)rec->kind);
}

const struct store_backend store__sqlite = {
        .name = "sqlite",
        .open = sqlite_open,
        .migrate = sqlite_migrate,
        .close = sqlite_close,
        .path = sqlite_path,
        .last_ids = sqlite_last_ids,
        .begin = sqlite_begin,
        .apply = sqlite_apply,
        .commit = sqlite_commit,
        .rollback = sqlite_rollback,
        .compact_chunk = store__sqlite_compact_chunk,
        .vacuum_chunk = store__sqlite_vacuum_chunk,
        .checkpoint = store__sqlite_checkpoint,
        .size = store__sqlite_size,
        .reader_open = store__sqlite_reader_open,
        .reader_close = store__sqlite_reader_close,
        .incident_get = store__sqlite_incident_get,
        .incidents_list = store__sqlite_incidents_list,
        .timeline_list = store__sqlite_timeline_list,
        .problem_timeline_list = store__sqlite_problem_timeline_list,
        .audit_list = store__sqlite_audit_list,
        .problem_get = store__sqlite_problem_get,
        .problems_list = store__sqlite_problems_list,
        .check_states_list = store__sqlite_check_states_list,
        .events_list = store__sqlite_events_list,
        .events_held = store__sqlite_events_held,
        .silence_get = store__sqlite_silence_get,
        .silences_list = store__sqlite_silences_list,
        .run_get = store__sqlite_run_get,
        .runs_list = store__sqlite_runs_list,
        .run_steps_list = store__sqlite_run_steps_list,
        .runs_since = store__sqlite_runs_since,
        .quarantines_list = store__sqlite_quarantines_list,
        .notifications_list = store__sqlite_notifications_list,
};
