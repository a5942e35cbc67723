/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the store's files: the records a batch holds, the
 * backend vtable that store.c drives (only SQLite's exists; PostgreSQL's
 * would be one more `struct store_backend` in its own file), the labels'
 * JSON codec both backends use, and hooks for the tests.
 */
#ifndef HALE_STORE_INTERNAL_H
#define HALE_STORE_INTERNAL_H

#include <stdbool.h>
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
    STORE_RECORD_EVENT,
    STORE_RECORD_SILENCE,
    STORE_RECORD_RUN,
    STORE_RECORD_RUN_STEP,
    STORE_RECORD_QUARANTINE,
    STORE_RECORD_NOTIFICATION,
    STORE_RECORD_EVENT_REPEATS,
};

/* Repeats counted on an event's row. */
struct store__event_repeats {
    int64_t id, n, last_ms;
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
        struct store_event event;
        struct store_silence silence;
        struct store_run run;
        struct store_run_step run_step;
        struct store_quarantine quarantine;
        struct store_notification notification;
        struct store__event_repeats event_repeats;
    } u;
};

/*
 * The stages of a compaction pass, in the order it takes them: the kinds of
 * records it deletes (a backend's compact_chunk() does one of these), then
 * giving the free space back and folding the write-ahead log.
 */
enum store_compact_stage {
    STORE_COMPACT_INCIDENTS,  /* closed incidents and their timelines */
    STORE_COMPACT_EVENTS,     /* timeline entries of kind event */
    STORE_COMPACT_EVENT_ROWS, /* events received */
    STORE_COMPACT_OUTPUTS,
    STORE_COMPACT_CHECK_STATES,
    STORE_COMPACT_AUDIT,
    STORE_COMPACT_VACUUM,
    STORE_COMPACT_CHECKPOINT,
    STORE_COMPACT_DONE,
};

/*
 * How far a stage has looked, in the order of (time_ms, id): rows up to
 * here were deleted or are kept, so the next chunk starts after them and
 * never reads a kept row twice. A stage starts at {INT64_MIN, INT64_MIN}.
 */
struct store_compact_cursor {
    int64_t time_ms, id;
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
/* The highest ids written of each kind that the store numbers itself. */
struct store__last_ids {
    int64_t incident, problem, silence, run, notification, event;
};

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
    /* The highest ids written of each kind (0 when none), where the next ones follow. */
    int (*last_ids)(struct store_db *db, struct store__last_ids *ret, struct err *e);

    int (*begin)(struct store_db *db, struct err *e);
    int (*apply)(struct store_db *db, const struct store_record *rec, struct err *e);
    int (*commit)(struct store_db *db, struct err *e);
    /* Safe to call when the transaction is already gone (a failed commit). */
    void (*rollback)(struct store_db *db);

    /*
     * One chunk of a compaction stage (STORE_COMPACT_INCIDENTS to _AUDIT),
     * in its own transaction: deletes at most about `limit` rows of the
     * stage's kind that expired before cutoff_ms, looking on from *cursor
     * (which it moves), as store.h's struct store_retention says. Adds what
     * it deleted to *c. *ret_more is false once the stage has nothing left.
     */
    int (*compact_chunk)(struct store_db *db, enum store_compact_stage stage, int64_t cutoff_ms,
                         size_t limit, struct store_compact_cursor *cursor,
                         struct store_compaction *c, bool *ret_more, struct err *e);
    /*
     * Gives at most about max_bytes of the database's free space back to
     * the file system, in one transaction; *ret_freed says how much, and
     * *ret_more whether there is more to give.
     */
    int (*vacuum_chunk)(struct store_db *db, uint64_t max_bytes, uint64_t *ret_freed,
                        bool *ret_more, struct err *e);
    /*
     * Folds the write-ahead log into the database and empties it. Waits a
     * moment at most for readers; HALE_ESTATE when they kept it busy (the
     * next pass tries again).
     */
    int (*checkpoint)(struct store_db *db, struct err *e);
    /* Bytes the database's files take on disk (0 when unknown); any thread. */
    uint64_t (*size)(const struct store_db *db);

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
    int (*events_list)(struct store_reader *r, const struct store_event_query *q,
                       struct store_event **ret_v, size_t *ret_n);
    int (*events_held)(struct store_reader *r, int64_t incident_id, struct store_held_event **ret_v,
                       size_t *ret_n);
    int (*silence_get)(struct store_reader *r, int64_t id, struct store_silence *ret);
    int (*silences_list)(struct store_reader *r, const struct store_silence_query *q,
                         struct store_silence **ret_v, size_t *ret_n);
    int (*run_get)(struct store_reader *r, int64_t id, struct store_run *ret);
    int (*runs_list)(struct store_reader *r, const struct store_run_query *q,
                     struct store_run **ret_v, size_t *ret_n);
    int (*run_steps_list)(struct store_reader *r, int64_t run_id, struct store_run_step **ret_v,
                          size_t *ret_n);
    int (*runs_since)(struct store_reader *r, int64_t since_ms, struct store_run **ret_v,
                      size_t *ret_n);
    int (*quarantines_list)(struct store_reader *r, struct store_quarantine **ret_v, size_t *ret_n);
    int (*notifications_list)(struct store_reader *r, int64_t incident_id,
                              struct store_notification **ret_v, size_t *ret_n);
};

extern const struct store_backend store__sqlite;

/* A new zeroed record of kind at the end of b, for the batch_ functions of store.c and runs.c. */
struct store_record *store__batch_add(struct store_batch *b, enum store_record_kind kind);

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
int store__sqlite_events_list(struct store_reader *r, const struct store_event_query *q,
                              struct store_event **ret_v, size_t *ret_n);
int store__sqlite_events_held(struct store_reader *r, int64_t incident_id,
                              struct store_held_event **ret_v, size_t *ret_n);
int store__sqlite_silence_get(struct store_reader *r, int64_t id, struct store_silence *ret);
int store__sqlite_silences_list(struct store_reader *r, const struct store_silence_query *q,
                                struct store_silence **ret_v, size_t *ret_n);

/* SQLite's runs (sqlite_runs.c), for the vtable in sqlite.c. */
int store__sqlite_run_get(struct store_reader *r, int64_t id, struct store_run *ret);
int store__sqlite_runs_list(struct store_reader *r, const struct store_run_query *q,
                            struct store_run **ret_v, size_t *ret_n);
int store__sqlite_run_steps_list(struct store_reader *r, int64_t run_id,
                                 struct store_run_step **ret_v, size_t *ret_n);
int store__sqlite_runs_since(struct store_reader *r, int64_t since_ms, struct store_run **ret_v,
                             size_t *ret_n);
int store__sqlite_quarantines_list(struct store_reader *r, struct store_quarantine **ret_v,
                                   size_t *ret_n);

/* SQLite's outbox (sqlite_notify.c), for the vtable in sqlite.c. */
int store__sqlite_notifications_list(struct store_reader *r, int64_t incident_id,
                                     struct store_notification **ret_v, size_t *ret_n);

/* SQLite's retention (sqlite_compact.c), for the vtable in sqlite.c. */
int store__sqlite_compact_chunk(struct store_db *db, enum store_compact_stage stage,
                                int64_t cutoff_ms, size_t limit,
                                struct store_compact_cursor *cursor, struct store_compaction *c,
                                bool *ret_more, struct err *e);
int store__sqlite_vacuum_chunk(struct store_db *db, uint64_t max_bytes, uint64_t *ret_freed,
                               bool *ret_more, struct err *e);
int store__sqlite_checkpoint(struct store_db *db, struct err *e);
uint64_t store__sqlite_size(const struct store_db *db);

/*
 * A compaction pass (retention.c), run by the writer thread one step at a
 * time between groups of batches. The loop thread makes it and, once the
 * writer says it is over, calls cb and frees it; in between only the
 * writer touches it.
 */
struct store__compact_job {
    struct store_retention retention;
    int64_t now_ms;
    size_t chunk; /* rows a chunk deletes */
    store_compact_cb *cb;
    void *data;
    uint64_t start_ns; /* CLOCK_MONOTONIC */
    enum store_compact_stage stage;
    struct store_compact_cursor cursor;
    bool sized; /* size_before was read */
    int result;
    struct store_compaction done;
};

struct store__compact_job *store__compact_job_new(const struct store_retention *r, int64_t now_ms,
                                                  size_t chunk, store_compact_cb *cb, void *data);
/*
 * Runs the job's next step (a chunk of deletes, of vacuum, or the
 * checkpoint) on db. Returns true once the job is over, its result and
 * counts final. With stopping, ends it at once as cancelled. Writer thread.
 */
bool store__compact_step(struct store__compact_job *j, const struct store_backend *be,
                         struct store_db *db, bool stopping);

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

/* A fingerprint as it is stored: 16 lowercase hex digits, and back (false: not that). */
#define STORE__FINGERPRINT_MAX 17
void store__fingerprint_format(uint64_t fp, char buf[STORE__FINGERPRINT_MAX]);
bool store__fingerprint_parse(const char *s, uint64_t *ret);

#endif
