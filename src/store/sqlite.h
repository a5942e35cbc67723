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

#include "store/internal.h"

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
    STMT_SILENCE,
    STMT_COUNT,
};

/* sqlite_compact.c's statements, made on the first compaction. */
struct sqlite_compact;

struct sqlite_db {
    struct store_db base; /* first: store.c sees only this */
    sqlite3 *conn;
    char *path;
    sqlite3_stmt *stmt[STMT_COUNT];
    struct sqlite_compact *compact;
};

/* Accepts NULL. */
void store__sqlite_compact_free(struct sqlite_compact *c);

#endif
