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
    store__sqlite_bind_text(s, 3, n->team);
    store__sqlite_bind_text(s, 4, n->notifier);
    store__sqlite_bind_text(s, 5, n->reason);
    sqlite3_bind_int64(s, 6, n->level);
    store__sqlite_bind_text(s, 7, n->state);
    store__sqlite_bind_text(s, 8, n->text ? n->text : "");
    store__sqlite_bind_text(s, 9, n->assignee);
    sqlite3_bind_int64(s, 10, n->attempts);
    sqlite3_bind_int64(s, 11, n->created_ms);
    sqlite3_bind_int64(s, 12, n->due_ms);
    sqlite3_bind_int64(s, 13, n->updated_ms);
    store__sqlite_bind_text(s, 14, n->error);
    return store__sqlite_stmt_run(db, s, "writing a notification", e);
}

static int row_notification(sqlite3_stmt *s, void *ret_elem)
{
    struct store_notification *ret = ret_elem;
    *ret = (struct store_notification){
            .id = sqlite3_column_int64(s, 0),
            .incident_id = sqlite3_column_int64(s, 1),
            .team = store__sqlite_col_str(s, 2),
            .notifier = store__sqlite_col_str(s, 3),
            .reason = store__sqlite_col_str(s, 4),
            .level = (unsigned)sqlite3_column_int64(s, 5),
            .state = store__sqlite_col_str(s, 6),
            .text = store__sqlite_col_str(s, 7),
            .assignee = store__sqlite_col_str(s, 8),
            .attempts = (unsigned)sqlite3_column_int64(s, 9),
            .created_ms = sqlite3_column_int64(s, 10),
            .due_ms = sqlite3_column_int64(s, 11),
            .updated_ms = sqlite3_column_int64(s, 12),
            .error = store__sqlite_col_str(s, 13),
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
