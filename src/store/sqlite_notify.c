/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend's outbox: a row per notification, written by the
 * writer thread (an upsert at every attempt) and read back by readers for
 * the dispatcher's start-up and for the incident's notifications.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/sqlite.h"

#define NOTIFICATION_COLUMNS                                                           \
    "id, incident_id, team, notifier, reason, level, state, text, assignee, attempts," \
    " created_ms, due_ms, updated_ms, error"

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

int store__sqlite_notification_write(struct sqlite_db *db, const struct store_notification *n,
                                     struct err *e)
{
    if (!n->notifier || !n->reason || !n->state)
        return err_setf(e, HALE_ESTORE, "notification %lld: its notifier, reason or state is unset",
                        (long long)n->id);
    sqlite3_stmt *s = store__sqlite_stmt(
            db, &db->notification_stmt,
            "INSERT OR REPLACE INTO notifications (" NOTIFICATION_COLUMNS ")"
            " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            e);
    if (!s)
        return HALE_ESTORE;
    sqlite3_bind_int64(s, 1, n->id);
    sqlite3_bind_int64(s, 2, n->incident_id);
    bind_text(s, 3, n->team);
    bind_text(s, 4, n->notifier);
    bind_text(s, 5, n->reason);
    sqlite3_bind_int64(s, 6, n->level);
    bind_text(s, 7, n->state);
    bind_text(s, 8, n->text ? n->text : "");
    bind_text(s, 9, n->assignee);
    sqlite3_bind_int64(s, 10, n->attempts);
    sqlite3_bind_int64(s, 11, n->created_ms);
    sqlite3_bind_int64(s, 12, n->due_ms);
    sqlite3_bind_int64(s, 13, n->updated_ms);
    bind_text(s, 14, n->error);
    return store__sqlite_stmt_run(db, s, "writing a notification", e);
}

int store__sqlite_last_notification_id(struct store_db *base, int64_t *ret, struct err *e)
{
    struct sqlite_db *db = (struct sqlite_db *)base;
    sqlite3_stmt *s;
    const char *sql = "SELECT COALESCE(MAX(id), 0) FROM notifications";
    if (sqlite3_prepare_v2(db->conn, sql, -1, &s, NULL) != SQLITE_OK)
        return err_setf(e, HALE_ESTORE, "%s: %s: %s", db->path, sql, sqlite3_errmsg(db->conn));
    int r = 0;
    if (sqlite3_step(s) == SQLITE_ROW)
        *ret = sqlite3_column_int64(s, 0);
    else
        r = err_setf(e, HALE_ESTORE, "%s: %s: %s", db->path, sql, sqlite3_errmsg(db->conn));
    sqlite3_finalize(s);
    return r;
}

static char *col_str(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);
    return v ? xstrdup((const char *)v) : NULL;
}

static int row_notification(sqlite3_stmt *s, void *ret_elem)
{
    struct store_notification *ret = ret_elem;
    *ret = (struct store_notification){
            .id = sqlite3_column_int64(s, 0),
            .incident_id = sqlite3_column_int64(s, 1),
            .team = col_str(s, 2),
            .notifier = col_str(s, 3),
            .reason = col_str(s, 4),
            .level = (unsigned)sqlite3_column_int64(s, 5),
            .state = col_str(s, 6),
            .text = col_str(s, 7),
            .assignee = col_str(s, 8),
            .attempts = (unsigned)sqlite3_column_int64(s, 9),
            .created_ms = sqlite3_column_int64(s, 10),
            .due_ms = sqlite3_column_int64(s, 11),
            .updated_ms = sqlite3_column_int64(s, 12),
            .error = col_str(s, 13),
    };
    return 0;
}

static void notification_fini_v(void *elem)
{
    store_notification_fini(elem);
}

static const struct store__row_kind notification_kind = {sizeof(struct store_notification),
                                                         row_notification, notification_fini_v};

int store__sqlite_notifications_list(struct store_reader *r, int64_t incident_id,
                                     struct store_notification **ret_v, size_t *ret_n)
{
    sqlite3_stmt *s =
            incident_id ? store__sqlite_reader_stmt(r, STORE__NOTIFY_RSTMT_FIRST,
                                                    "SELECT " NOTIFICATION_COLUMNS
                                                    " FROM notifications WHERE incident_id = ?1"
                                                    " ORDER BY id")
                        : store__sqlite_reader_stmt(r, STORE__NOTIFY_RSTMT_FIRST + 1,
                                                    "SELECT " NOTIFICATION_COLUMNS
                                                    " FROM notifications WHERE state = 'pending'"
                                                    " ORDER BY id");
    if (!s)
        return HALE_ESTORE;
    if (incident_id)
        sqlite3_bind_int64(s, 1, incident_id);
    return store__sqlite_query_list(s, &notification_kind, (void **)ret_v, ret_n);
}
