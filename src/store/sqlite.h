/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's writing connection, shared by the two files that
 * use it: sqlite.c (open, schema and migrations, transactions, records)
 * and sqlite_compact.c (retention). Readers (sqlite_read.c) have
 * connections of their own and do not see this.
 */
#ifndef HALE_STORE_SQLITE_H
#define HALE_STORE_SQLITE_H

#include <sqlite3.h>

#include "base/alloc.h"
#include "store/internal.h"

/*
 * SQLite's process-wide settings, once, before the first connection of
 * either kind opens: whatever is set after SQLite started is refused, and
 * the connections work as before.
 */
void store__sqlite_setup(void);

/* How long the writer waits for another connection's lock before giving up. */
#define STORE__BUSY_TIMEOUT_MS 5000

/* sqlite.c's statements, prepared on first use and kept until close. */
enum {
    STMT_BEGIN,
    STMT_COMMIT,
    STMT_ROLLBACK,
    STMT_INCIDENT,
    STMT_TIMELINE,
    STMT_PROBLEM_TIMELINE,
    STMT_AUDIT,
    STMT_PROBLEM,
    STMT_CHECK_STATE,
    STMT_EVENT,
    STMT_EVENT_REPEATS,
    STMT_SILENCE,
    STMT_COUNT,
};

/* sqlite_runs.c's statements, on the writer's connection. */
#define STORE__RUN_STMT_COUNT 3

/* sqlite_compact.c's statements, made on the first compaction. */
struct sqlite_compact;

struct sqlite_db {
    struct store_db base; /* first: store.c sees only this */
    sqlite3 *conn;
    char *path;
    sqlite3_stmt *stmt[STMT_COUNT];
    sqlite3_stmt *run_stmt[STORE__RUN_STMT_COUNT];
    sqlite3_stmt *notification_stmt; /* sqlite_notify.c's */
    struct sqlite_compact *compact;
};

/* Binds v to parameter i: NULL when v is. SQLITE_STATIC: v must outlive the step. */
static inline void store__sqlite_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* Binds id to parameter i; 0 means "none" for links: NULL, so the foreign key is not checked. */
static inline void store__sqlite_bind_id(sqlite3_stmt *s, int i, int64_t id)
{
    if (id)
        sqlite3_bind_int64(s, i, id);
    else
        sqlite3_bind_null(s, i);
}

/* Column i of the current row, copied; NULL when it is. */
static inline char *store__sqlite_col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return v ? xstrdup((const char *)v) : NULL;
}

/* The statement in *slot, prepared from sql on first use and kept until close; NULL: e says. */
sqlite3_stmt *store__sqlite_stmt(struct sqlite_db *db, sqlite3_stmt **slot, const char *sql,
                                 struct err *e);
/* The integer that a one-row statement (a pragma, an aggregate) returns. */
int store__sqlite_query_int64(struct sqlite_db *db, const char *sql, int64_t *ret, struct err *e);
/* Runs a bound write statement to its end and makes it ready for the next. */
int store__sqlite_stmt_run(struct sqlite_db *db, sqlite3_stmt *s, const char *what, struct err *e);

/* The writes of runs, their steps and quarantines (sqlite_runs.c). */
int store__sqlite_run_write(struct sqlite_db *db, const struct store_run *r, struct err *e);
int store__sqlite_run_step_write(struct sqlite_db *db, const struct store_run_step *s,
                                 struct err *e);
int store__sqlite_quarantine_write(struct sqlite_db *db, const struct store_quarantine *q,
                                   struct err *e);
/* The outbox's rows (sqlite_notify.c). */
int store__sqlite_notification_write(struct sqlite_db *db, const struct store_notification *n,
                                     struct err *e);

/*
 * The reading side's generic loops (sqlite_read.c), for the readers of
 * sqlite_runs.c: how one kind of record is read from a row and freed.
 */
typedef int store__row_fn(sqlite3_stmt *s, void *ret_elem);
typedef void store__fini_fn(void *elem);
struct store__row_kind {
    size_t size;
    store__row_fn *row;
    store__fini_fn *fini;
};

/*
 * Statements of sqlite_runs.c's and sqlite_notify.c's readers, kept by
 * each reader: runs take the slots below STORE__NOTIFY_RSTMT_FIRST.
 */
#define STORE__RUN_RSTMT_COUNT    8
#define STORE__NOTIFY_RSTMT_FIRST 6

/* Reader r's statement in slot, prepared from sql on first use; NULL on error. */
sqlite3_stmt *store__sqlite_reader_stmt(struct store_reader *r, int slot, const char *sql);
/* Steps a bound statement to its end, collecting every row; resets it whatever happens. */
int store__sqlite_query_list(sqlite3_stmt *s, const struct store__row_kind *k, void **ret_v,
                             size_t *ret_n);
/* One row: 0, HALE_ENOTFOUND or HALE_ESTORE. */
int store__sqlite_query_one(sqlite3_stmt *s, const struct store__row_kind *k, void *ret);

/* Accepts NULL. */
void store__sqlite_compact_free(struct sqlite_compact *c);

#endif
