/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's runs: the rows of runbook runs, of each attempt of
 * their steps, and of quarantines, written by the writer thread (upserts:
 * a run's row is written again at every change) and read back by readers
 * for the API and for the executor's start-up. Outcomes are kept by the
 * names the executor gives them; a run is over unless its outcome is
 * 'running' or 'waiting'.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "store/sqlite.h"

#define RUN_COLUMNS                                                                             \
    "id, runbook, incident_id, fingerprint, target, labels, automatic, actor, outcome, reason," \
    " step, started_ms, ended_ms, relapsed, gate_step, question, deadline_ms, decided_by,"      \
    " decided_ms, decision, comment"
#define RUN_STEP_COLUMNS                                                                \
    "run_id, seq, step, name, action, purpose, attempt, outcome, started_ms, ended_ms," \
    " exit_status, term_signal, timed_out, output, reason, pid, pid_start"
#define QUARANTINE_COLUMNS "runbook, since_ms, reason, lifted_ms, lifted_by"

/* ---- writes ----------------------------------------------------------- */

enum {
    WSTMT_RUN,
    WSTMT_RUN_STEP,
    WSTMT_QUARANTINE,
};

static const char *const wstmt_sql[STORE__RUN_STMT_COUNT] = {
        /* An upsert, not a replace: a replace deletes the row its steps refer to. */
        [WSTMT_RUN] = "INSERT INTO runs (" RUN_COLUMNS ")"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,"
                      " ?16, ?17, ?18, ?19, ?20, ?21) ON CONFLICT (id) DO UPDATE SET"
                      " runbook = excluded.runbook, incident_id = excluded.incident_id,"
                      " fingerprint = excluded.fingerprint, target = excluded.target,"
                      " labels = excluded.labels, automatic = excluded.automatic,"
                      " actor = excluded.actor, outcome = excluded.outcome,"
                      " reason = excluded.reason, step = excluded.step,"
                      " started_ms = excluded.started_ms, ended_ms = excluded.ended_ms,"
                      " relapsed = excluded.relapsed, gate_step = excluded.gate_step,"
                      " question = excluded.question, deadline_ms = excluded.deadline_ms,"
                      " decided_by = excluded.decided_by, decided_ms = excluded.decided_ms,"
                      " decision = excluded.decision, comment = excluded.comment",
        [WSTMT_RUN_STEP] = "INSERT OR REPLACE INTO run_steps (" RUN_STEP_COLUMNS ")"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
                           " ?15, ?16, ?17)",
        [WSTMT_QUARANTINE] = "INSERT OR REPLACE INTO quarantines (" QUARANTINE_COLUMNS ")"
                             " VALUES (?1, ?2, ?3, ?4, ?5)",
};

static sqlite3_stmt *wstmt(struct sqlite_db *db, int which, struct err *e)
{
    return store__sqlite_stmt(db, &db->run_stmt[which], wstmt_sql[which], e);
}

int store__sqlite_run_write(struct sqlite_db *db, const struct store_run *r, struct err *e)
{
    if (!r->runbook || !r->outcome)
        return err_setf(e, HALE_ESTORE, "run %lld: its runbook or outcome is unset",
                        (long long)r->id);
    _cleanup_free_ char *labels = NULL;
    if (store__labels_to_json(&r->labels, &labels) < 0)
        return err_setf(e, HALE_ESTORE, "run %lld: a label value is not UTF-8", (long long)r->id);
    sqlite3_stmt *s = wstmt(db, WSTMT_RUN, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, r->id);
    store__sqlite_bind_text(s, 2, r->runbook);
    store__sqlite_bind_id(s, 3, r->incident_id);
    store__sqlite_bind_text(s, 4, r->fingerprint);
    store__sqlite_bind_text(s, 5, r->target ? r->target : "");
    store__sqlite_bind_text(s, 6, labels);
    sqlite3_bind_int(s, 7, r->automatic);
    store__sqlite_bind_text(s, 8, r->actor ? r->actor : "hale");
    store__sqlite_bind_text(s, 9, r->outcome);
    store__sqlite_bind_text(s, 10, r->reason);
    sqlite3_bind_int(s, 11, r->step);
    sqlite3_bind_int64(s, 12, r->started_ms);
    sqlite3_bind_int64(s, 13, r->ended_ms);
    sqlite3_bind_int(s, 14, r->relapsed);
    sqlite3_bind_int(s, 15, r->gate_step);
    store__sqlite_bind_text(s, 16, r->question);
    sqlite3_bind_int64(s, 17, r->deadline_ms);
    store__sqlite_bind_text(s, 18, r->decided_by);
    sqlite3_bind_int64(s, 19, r->decided_ms);
    store__sqlite_bind_text(s, 20, r->decision);
    store__sqlite_bind_text(s, 21, r->comment);
    return store__sqlite_stmt_run(db, s, "writing a run", e);
}

int store__sqlite_run_step_write(struct sqlite_db *db, const struct store_run_step *st,
                                 struct err *e)
{
    if (!st->name || !st->action || !st->purpose || !st->outcome)
        return err_setf(e, HALE_ESTORE,
                        "run %lld step %u: its name, action, purpose or outcome "
                        "is unset",
                        (long long)st->run_id, st->seq);
    sqlite3_stmt *s = wstmt(db, WSTMT_RUN_STEP, e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, st->run_id);
    sqlite3_bind_int64(s, 2, st->seq);
    sqlite3_bind_int64(s, 3, st->step);
    store__sqlite_bind_text(s, 4, st->name);
    store__sqlite_bind_text(s, 5, st->action);
    store__sqlite_bind_text(s, 6, st->purpose);
    sqlite3_bind_int64(s, 7, st->attempt);
    store__sqlite_bind_text(s, 8, st->outcome);
    sqlite3_bind_int64(s, 9, st->started_ms);
    sqlite3_bind_int64(s, 10, st->ended_ms);
    sqlite3_bind_int(s, 11, st->exit_status);
    sqlite3_bind_int(s, 12, st->term_signal);
    sqlite3_bind_int(s, 13, st->timed_out);
    store__sqlite_bind_text(s, 14, st->output);
    store__sqlite_bind_text(s, 15, st->reason);
    sqlite3_bind_int64(s, 16, st->pid);
    sqlite3_bind_int64(s, 17, (int64_t)st->pid_start);
    return store__sqlite_stmt_run(db, s, "writing a run step", e);
}

int store__sqlite_quarantine_write(struct sqlite_db *db, const struct store_quarantine *q,
                                   struct err *e)
{
    if (!q->runbook)
        return err_setf(e, HALE_ESTORE, "quarantine: its runbook is unset");
    sqlite3_stmt *s = wstmt(db, WSTMT_QUARANTINE, e);
    if (!s)
        return HALE_ESTORE;
    store__sqlite_bind_text(s, 1, q->runbook);
    sqlite3_bind_int64(s, 2, q->since_ms);
    store__sqlite_bind_text(s, 3, q->reason ? q->reason : "");
    sqlite3_bind_int64(s, 4, q->lifted_ms);
    store__sqlite_bind_text(s, 5, q->lifted_by);
    return store__sqlite_stmt_run(db, s, "writing a quarantine", e);
}

/* ---- reads ------------------------------------------------------------ */

enum {
    RSTMT_RUN,
    RSTMT_RUNS,
    RSTMT_STEPS,
    RSTMT_SINCE,
    RSTMT_QUARANTINES,
};

static const char *const rstmt_sql[STORE__RUN_RSTMT_COUNT] = {
        [RSTMT_RUN] = "SELECT " RUN_COLUMNS " FROM runs WHERE id = ?1",
        /* Few rows next to incidents: one statement, its unused filters off by their parameter. */
        [RSTMT_RUNS] = "SELECT " RUN_COLUMNS " FROM runs"
                       " WHERE (?1 IS NULL OR runbook = ?1) AND (?2 = 0 OR incident_id = ?2)"
                       " AND (?3 IS NULL OR outcome = ?3) AND (?4 = 0 OR id < ?4)"
                       " ORDER BY id DESC LIMIT ?5",
        [RSTMT_STEPS] = "SELECT " RUN_STEP_COLUMNS " FROM run_steps WHERE run_id = ?1"
                        " ORDER BY seq",
        [RSTMT_SINCE] = "SELECT " RUN_COLUMNS " FROM runs WHERE started_ms >= ?1"
                        " UNION SELECT " RUN_COLUMNS " FROM runs"
                        " WHERE outcome IN ('running', 'waiting') ORDER BY id",
        [RSTMT_QUARANTINES] = "SELECT " QUARANTINE_COLUMNS " FROM quarantines"
                              " ORDER BY since_ms, runbook",
};

static int row_run(sqlite3_stmt *s, void *ret_elem)
{
    struct store_run *ret = ret_elem;
    struct store_run r = {0};
    labels_init(&r.labels);
    const unsigned char *labels = sqlite3_column_text(s, 5);
    if (store__labels_from_json(labels ? (const char *)labels : "{}", &r.labels) < 0) {
        labels_fini(&r.labels);
        return HALE_ESTORE;
    }
    r.id = sqlite3_column_int64(s, 0);
    r.runbook = store__sqlite_col_str(s, 1);
    r.incident_id = sqlite3_column_int64(s, 2); /* NULL reads as 0: none */
    r.fingerprint = store__sqlite_col_str(s, 3);
    r.target = store__sqlite_col_str(s, 4);
    r.automatic = sqlite3_column_int(s, 6) != 0;
    r.actor = store__sqlite_col_str(s, 7);
    r.outcome = store__sqlite_col_str(s, 8);
    r.reason = store__sqlite_col_str(s, 9);
    r.step = sqlite3_column_int(s, 10);
    r.started_ms = sqlite3_column_int64(s, 11);
    r.ended_ms = sqlite3_column_int64(s, 12);
    r.relapsed = sqlite3_column_int(s, 13) != 0;
    r.gate_step = sqlite3_column_int(s, 14);
    r.question = store__sqlite_col_str(s, 15);
    r.deadline_ms = sqlite3_column_int64(s, 16);
    r.decided_by = store__sqlite_col_str(s, 17);
    r.decided_ms = sqlite3_column_int64(s, 18);
    r.decision = store__sqlite_col_str(s, 19);
    r.comment = store__sqlite_col_str(s, 20);
    *ret = r;
    return 0;
}

static int row_run_step(sqlite3_stmt *s, void *ret_elem)
{
    struct store_run_step *ret = ret_elem;
    *ret = (struct store_run_step){
            .run_id = sqlite3_column_int64(s, 0),
            .seq = (unsigned)sqlite3_column_int64(s, 1),
            .step = (unsigned)sqlite3_column_int64(s, 2),
            .name = store__sqlite_col_str(s, 3),
            .action = store__sqlite_col_str(s, 4),
            .purpose = store__sqlite_col_str(s, 5),
            .attempt = (unsigned)sqlite3_column_int64(s, 6),
            .outcome = store__sqlite_col_str(s, 7),
            .started_ms = sqlite3_column_int64(s, 8),
            .ended_ms = sqlite3_column_int64(s, 9),
            .exit_status = sqlite3_column_int(s, 10),
            .term_signal = sqlite3_column_int(s, 11),
            .timed_out = sqlite3_column_int(s, 12) != 0,
            .output = store__sqlite_col_str(s, 13),
            .reason = store__sqlite_col_str(s, 14),
            .pid = sqlite3_column_int64(s, 15),
            .pid_start = (uint64_t)sqlite3_column_int64(s, 16),
    };
    return 0;
}

static int row_quarantine(sqlite3_stmt *s, void *ret_elem)
{
    struct store_quarantine *ret = ret_elem;
    *ret = (struct store_quarantine){
            .runbook = store__sqlite_col_str(s, 0),
            .since_ms = sqlite3_column_int64(s, 1),
            .reason = store__sqlite_col_str(s, 2),
            .lifted_ms = sqlite3_column_int64(s, 3),
            .lifted_by = store__sqlite_col_str(s, 4),
    };
    return 0;
}

static void run_fini_v(void *elem)
{
    store_run_fini(elem);
}

static void run_step_fini_v(void *elem)
{
    store_run_step_fini(elem);
}

static void quarantine_fini_v(void *elem)
{
    store_quarantine_fini(elem);
}

static const struct store__row_kind run_kind = {sizeof(struct store_run), row_run, run_fini_v};
static const struct store__row_kind run_step_kind = {sizeof(struct store_run_step), row_run_step,
                                                     run_step_fini_v};
static const struct store__row_kind quarantine_kind = {sizeof(struct store_quarantine),
                                                       row_quarantine, quarantine_fini_v};

static sqlite3_stmt *rstmt(struct store_reader *r, int which)
{
    return store__sqlite_reader_stmt(r, which, rstmt_sql[which]);
}

int store__sqlite_run_get(struct store_reader *r, int64_t id, struct store_run *ret)
{
    sqlite3_stmt *s = rstmt(r, RSTMT_RUN);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, id);
    return store__sqlite_query_one(s, &run_kind, ret);
}

int store__sqlite_runs_list(struct store_reader *r, const struct store_run_query *q,
                            struct store_run **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(r, RSTMT_RUNS);
    if (!s)
        return HALE_ESTORE;
    store__sqlite_bind_text(s, 1, q->runbook);
    sqlite3_bind_int64(s, 2, q->incident_id);
    store__sqlite_bind_text(s, 3, q->outcome);
    sqlite3_bind_int64(s, 4, q->before_id);
    sqlite3_bind_int64(s, 5, q->limit ? (int64_t)q->limit : -1);
    return store__sqlite_query_list(s, &run_kind, (void **)ret_v, ret_n);
}

int store__sqlite_run_steps_list(struct store_reader *r, int64_t run_id,
                                 struct store_run_step **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(r, RSTMT_STEPS);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, run_id);
    return store__sqlite_query_list(s, &run_step_kind, (void **)ret_v, ret_n);
}

int store__sqlite_runs_since(struct store_reader *r, int64_t since_ms, struct store_run **ret_v,
                             size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(r, RSTMT_SINCE);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, since_ms);
    return store__sqlite_query_list(s, &run_kind, (void **)ret_v, ret_n);
}

int store__sqlite_quarantines_list(struct store_reader *r, struct store_quarantine **ret_v,
                                   size_t *ret_n)
{
    sqlite3_stmt *s = rstmt(r, RSTMT_QUARANTINES);
    if (!s)
        return HALE_ESTORE;
    return store__sqlite_query_list(s, &quarantine_kind, (void **)ret_v, ret_n);
}
