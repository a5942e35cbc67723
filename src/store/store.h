/* SPDX-License-Identifier: MIT */
/*
 * The store: everything hale keeps on disk (incidents, their timelines, the
 * audit log, problems, checks' hard state changes), behind one interface,
 * so a PostgreSQL backend can follow SQLite's without touching callers.
 *
 * Writes are batches handed to one writer thread. It commits every batch
 * queued within a few milliseconds of the first in one transaction (group
 * commit), and only then calls each batch's callback, on the loop thread:
 * a caller that must not lose a write (an ingest request) answers when its
 * callback says the write is durable. A crash at any moment loses nothing
 * whose callback said so.
 *
 * Reads go through a reader: a connection of its own, used by one thread
 * at a time, that sees the last committed state and never blocks the
 * writer (SQLite in WAL mode).
 */
#ifndef HALE_STORE_STORE_H
#define HALE_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/err.h"
#include "itsm/incident.h"

struct store;
struct store_batch;
struct store_reader;

/* The schema version this hale writes; a database with a higher one is refused. */
#define STORE_SCHEMA_VERSION 2

struct store_options {
    const char *data_dir;      /* SQLite: the database is <data_dir>/hale.db */
    uv_loop_t *uv;             /* where batch callbacks run */
    unsigned commit_window_ms; /* how long the writer gathers batches; 0: 2 ms */
};

/*
 * Opens (creating when missing) the database, migrates its schema to
 * STORE_SCHEMA_VERSION and starts the writer thread. Returns 0, or
 * HALE_ESTORE with e saying why (a database from a newer hale: which
 * version it has, which this hale knows, and what to do). Loop thread.
 */
int store_open(const struct store_options *o, struct store **ret_store, struct err *e);

/*
 * Commits every batch submitted so far, calls their callbacks, stops the
 * writer and closes the database. Readers must be closed first. Accepts
 * NULL. Loop thread (it runs the loop's pending callbacks itself); not from
 * a batch callback, and the callbacks it runs must not submit. The store's
 * uv handle is closed, not yet freed: the owner's loop frees it the next
 * time it runs, as for any closed handle.
 */
void store_close(struct store *st);

/* Where the database lives ("/var/lib/hale/hale.db"); borrowed. */
const char *store_path(const struct store *st);

/*
 * Ids for new incidents and problems, handed out in order on the loop
 * thread before the record is written (so a batch can refer to them).
 */
int64_t store_next_incident_id(struct store *st);
int64_t store_next_problem_id(struct store *st);

/* ---- writes ---- */

/* An empty batch. Add records to it, then submit it (which frees it). */
struct store_batch *store_batch_new(void);
/* Discards a batch that will not be submitted. Accepts NULL. */
void store_batch_free(struct store_batch *b);

/* Inserts the incident, or replaces the one with its id. Copies i. */
void store_batch_incident(struct store_batch *b, const struct incident *i);
/*
 * Appends a timeline entry to the incident's timeline, or to the problem's
 * when t->problem_id is set (its id is the database's; t->id is ignored).
 * Copies t.
 */
void store_batch_timeline(struct store_batch *b, const struct timeline_entry *t);
/* Appends an audit entry (id ignored). Copies a. */
void store_batch_audit(struct store_batch *b, const struct audit_entry *a);
/* Inserts the problem, or replaces the one with its id. Copies p. */
void store_batch_problem(struct store_batch *b, const struct problem *p);
/* Records that a check's hard status became status (CHECK_STATUS_*) at time_ms. */
void store_batch_check_state(struct store_batch *b, const char *check, int status, int64_t time_ms);

/*
 * Called on the loop thread once the batch's transaction committed
 * (result 0) or failed (HALE_ESTORE; nothing of the batch was written).
 */
typedef void store_done_cb(int result, void *data);

/*
 * Queues b for the writer and takes it. cb (may be NULL) hears when it is
 * durable. Batches commit in the order submitted. Loop thread. While any
 * batch is in flight the store keeps the loop running. When the writer is
 * far behind (a quarter of a million records queued) this waits for room:
 * a disk that cannot keep up slows the loop rather than filling memory.
 */
void store_submit(struct store *st, struct store_batch *b, store_done_cb *cb, void *data);

/* ---- reads ---- */

/*
 * A connection for reading, for one thread at a time. Returns 0, or
 * HALE_ESTORE with e set.
 */
int store_reader_open(struct store *st, struct store_reader **ret_reader, struct err *e);
void store_reader_close(struct store_reader *r);

/* Fills *ret (to free with incident_fini()); HALE_ENOTFOUND when there is no such id. */
int store_incident_get(struct store_reader *r, int64_t id, struct incident *ret);

struct store_incident_query {
    unsigned states;         /* bit (1u << INCIDENT_*) per state wanted; 0: every state */
    const char *team;        /* NULL: any */
    const char *fingerprint; /* NULL: any */
    int64_t since_ms;        /* opened at or after; 0: any time */
    int64_t before_id;       /* only ids below (the cursor of the next page); 0: from the newest */
    size_t limit;            /* 0: no limit */
};

/*
 * Incidents matching q, newest (highest id) first, in a new array of *ret_n
 * (free each with incident_fini(), then the array). Returns 0 or HALE_ESTORE.
 */
int store_incidents_list(struct store_reader *r, const struct store_incident_query *q,
                         struct incident **ret_v, size_t *ret_n);

/* An incident's timeline, oldest first; as for store_incidents_list(). */
int store_timeline_list(struct store_reader *r, int64_t incident_id, struct timeline_entry **ret_v,
                        size_t *ret_n);

struct store_audit_query {
    int64_t since_ms; /* written at or after; 0: any time */
    int64_t after_id; /* only ids above (the cursor of the next page); 0: from the oldest */
    size_t limit;     /* 0: no limit */
};

/*
 * Audit entries matching q in the order they were written (oldest first,
 * by id); as for store_incidents_list().
 */
int store_audit_list(struct store_reader *r, const struct store_audit_query *q,
                     struct audit_entry **ret_v, size_t *ret_n);

int store_problem_get(struct store_reader *r, int64_t id, struct problem *ret);
/* Problems, newest first. */
int store_problems_list(struct store_reader *r, struct problem **ret_v, size_t *ret_n);
/* A problem's timeline, oldest first; as for store_timeline_list(). */
int store_problem_timeline_list(struct store_reader *r, int64_t problem_id,
                                struct timeline_entry **ret_v, size_t *ret_n);

/* One hard state change of a check. */
struct store_check_state {
    char *check;
    int status;
    int64_t time_ms;
};

/*
 * Hard state changes at or after since_ms, of one check (NULL: all), oldest
 * first, plus the last change before since_ms of each check (so a caller
 * knows the state the window started in).
 */
int store_check_states_list(struct store_reader *r, const char *check, int64_t since_ms,
                            struct store_check_state **ret_v, size_t *ret_n);
void store_check_state_fini(struct store_check_state *s);

#endif
