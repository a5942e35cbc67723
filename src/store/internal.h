/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the store's files: the records a batch holds, the
 * backend vtable that store.c drives (only SQLite's exists; PostgreSQL's
 * would be one more `struct store_backend` in its own file), the labels'
 * JSON codec both backends use, and hooks for the tests.
 */
#ifndef HALE_STORE_INTERNAL_H
#define HALE_STORE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/labels.h"
#include "itsm/incident.h"
#include "store/store.h"

enum store_record_kind {
    STORE_RECORD_INCIDENT,
    STORE_RECORD_TIMELINE,
    STORE_RECORD_AUDIT,
    STORE_RECORD_PROBLEM,
    STORE_RECORD_CHECK_STATE,
};

/* One write of a batch: a copy the batch owns. */
struct store_record {
    enum store_record_kind kind;
    union {
        struct incident incident;
        struct timeline_entry timeline;
        struct audit_entry audit;
        struct problem problem;
        struct store_check_state check_state;
    } u;
};

/*
 * A backend's connection for writing; each backend embeds it as the first
 * member of its own struct. Used by the loop thread in store_open(), then
 * by the writer thread only.
 */
struct store_db {
    const struct store_backend *backend;
};

/* A reader as a backend makes it; embedded first in the backend's struct. */
struct store_reader {
    const struct store_backend *backend;
    struct store *store;
};

/*
 * What a backend provides. Every int function returns 0 or HALE_ESTORE
 * (HALE_ENOTFOUND where store.h says so) with e filled when given; none
 * logs above debug.
 */
struct store_backend {
    const char *name;
    /* Opens (creating) the database; refuses one newer than STORE_SCHEMA_VERSION. */
    int (*open)(const struct store_options *o, struct store_db **ret_db, struct err *e);
    /* Brings the schema to STORE_SCHEMA_VERSION, a step per transaction. */
    int (*migrate)(struct store_db *db, struct err *e);
    /* Accepts NULL. */
    void (*close)(struct store_db *db);
    /* Immutable after open, so readers may ask from any thread. */
    const char *(*path)(const struct store_db *db);
    /* The highest incident and problem ids written (0 when none). */
    int (*last_ids)(struct store_db *db, int64_t *ret_incident, int64_t *ret_problem,
                    struct err *e);

    int (*begin)(struct store_db *db, struct err *e);
    int (*apply)(struct store_db *db, const struct store_record *rec, struct err *e);
    int (*commit)(struct store_db *db, struct err *e);
    /* Safe to call when the transaction is already gone (a failed commit). */
    void (*rollback)(struct store_db *db);

    /* Reads only db's immutable parts: any thread, while the writer works. */
    int (*reader_open)(struct store_db *db, struct store_reader **ret_reader, struct err *e);
    void (*reader_close)(struct store_reader *r);
    int (*incident_get)(struct store_reader *r, int64_t id, struct incident *ret);
    int (*incidents_list)(struct store_reader *r, const struct store_incident_query *q,
                          struct incident **ret_v, size_t *ret_n);
    int (*timeline_list)(struct store_reader *r, int64_t incident_id, struct timeline_entry **ret_v,
                         size_t *ret_n);
    int (*problem_timeline_list)(struct store_reader *r, int64_t problem_id,
                                 struct timeline_entry **ret_v, size_t *ret_n);
    int (*audit_list)(struct store_reader *r, const struct store_audit_query *q,
                      struct audit_entry **ret_v, size_t *ret_n);
    int (*problem_get)(struct store_reader *r, int64_t id, struct problem *ret);
    int (*problems_list)(struct store_reader *r, struct problem **ret_v, size_t *ret_n);
    int (*check_states_list)(struct store_reader *r, const char *check, int64_t since_ms,
                             struct store_check_state **ret_v, size_t *ret_n);
};

extern const struct store_backend store__sqlite;

/* SQLite's reading half (sqlite_read.c), for the vtable in sqlite.c. */
int store__sqlite_reader_open(struct store_db *db, struct store_reader **ret_reader, struct err *e);
void store__sqlite_reader_close(struct store_reader *r);
int store__sqlite_incident_get(struct store_reader *r, int64_t id, struct incident *ret);
int store__sqlite_incidents_list(struct store_reader *r, const struct store_incident_query *q,
                                 struct incident **ret_v, size_t *ret_n);
int store__sqlite_timeline_list(struct store_reader *r, int64_t incident_id,
                                struct timeline_entry **ret_v, size_t *ret_n);
int store__sqlite_problem_timeline_list(struct store_reader *r, int64_t problem_id,
                                        struct timeline_entry **ret_v, size_t *ret_n);
int store__sqlite_audit_list(struct store_reader *r, const struct store_audit_query *q,
                             struct audit_entry **ret_v, size_t *ret_n);
int store__sqlite_problem_get(struct store_reader *r, int64_t id, struct problem *ret);
int store__sqlite_problems_list(struct store_reader *r, struct problem **ret_v, size_t *ret_n);
int store__sqlite_check_states_list(struct store_reader *r, const char *check, int64_t since_ms,
                                    struct store_check_state **ret_v, size_t *ret_n);

/*
 * Opens a store on the given backend: what store_open() does with SQLite's.
 * Tests pass a backend that wraps SQLite's and fails on demand.
 */
int store__open_backend(const struct store_options *o, const struct store_backend *backend,
                        struct store **ret_store, struct err *e);

/* Transactions the writer committed so far (groups and lone retries). Any thread. */
uint64_t store__commits(const struct store *st);

/*
 * The labels as a JSON object's text ({"a":"b"}, keys sorted; "{}" when
 * empty) in a new *ret_text (free with free()); and back, filling *ret.
 * Both return 0, or HALE_EPARSE (a value that is not UTF-8, text that is
 * not an object of strings).
 */
int store__labels_to_json(const struct labels *l, char **ret_text);
int store__labels_from_json(const char *text, struct labels *ret);

#endif
