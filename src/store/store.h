/* SPDX-License-Identifier: MIT */
/*
 * The store: everything hale keeps on disk (incidents, their timelines, the
 * audit log, problems, checks' hard state changes, the events received and
 * what the engine decided about each, the silences people created, the
 * runs of runbooks with their steps, quarantines, and the outbox of
 * notifications), behind one
 * interface, so a PostgreSQL backend can follow SQLite's without touching
 * callers.
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
#define STORE_SCHEMA_VERSION 10

/* The cap of one timeline entry's text unless the options say otherwise. */
#define STORE_OUTPUT_MAX_DEFAULT    (64u * 1024)
/* The smallest cap: room for a head, a tail and the note of what was cut between. */
#define STORE_OUTPUT_MAX_MIN        256u
/* Rows a compaction deletes per transaction unless the options say otherwise. */
#define STORE_COMPACT_CHUNK_DEFAULT 500u

struct store_options {
    const char *data_dir;      /* SQLite: the database is <data_dir>/hale.db */
    uv_loop_t *uv;             /* where batch callbacks run */
    unsigned commit_window_ms; /* how long the writer gathers batches; 0: not at all */
    size_t output_max;         /* bytes of a timeline entry's text; 0: STORE_OUTPUT_MAX_DEFAULT */
    unsigned compact_chunk;    /* rows deleted per transaction; 0: STORE_COMPACT_CHUNK_DEFAULT */
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
 * Ids for new incidents, problems and silences, handed out in order on the
 * loop thread before the record is written (so a batch can refer to them).
 */
int64_t store_next_incident_id(struct store *st);
int64_t store_next_problem_id(struct store *st);
int64_t store_next_silence_id(struct store *st);
int64_t store_next_run_id(struct store *st);
int64_t store_next_notification_id(struct store *st);
/*
 * Events received are numbered on the loop thread too: the desk counts
 * the repeats of an event on its row by id, before the row is on disk.
 */
int64_t store_next_event_id(struct store *st);

/*
 * A silence people created (the API, `hale silence`), as the store keeps
 * it: text and numbers only; the engine (engine/silence.h) gives them
 * their meaning. Expired silences are kept: they are history.
 */
struct store_silence {
    int64_t id;
    char *source;        /* "api" */
    char *matchers;      /* canonical: {service="web"} */
    int64_t starts_ms;   /* Unix ms; 0: from its creation */
    int64_t ends_ms;     /* Unix ms; 0: none (weekly, or until its incident resolves) */
    char *weekly;        /* canonical window, "Mon-Fri 22:00-06:00"; NULL: not weekly */
    int64_t incident_id; /* bound: it ends when this incident resolves; 0: none */
    char *comment;       /* "" when none */
    char *created_by;    /* "user:alice" */
    int64_t created_ms;
    int64_t ended_ms; /* ended early (by hand, or its incident resolved): when; 0: not */
    char *ended_by;   /* and by whom ("user:alice", "hale"); NULL when not */
};

/* Frees what s holds and zeroes it. Accepts NULL. */
void store_silence_fini(struct store_silence *s);
/* A deep copy of src into dst. */
void store_silence_copy(struct store_silence *dst, const struct store_silence *src);

/*
 * A run of a runbook as the store keeps it (runbook/runbook.h gives it
 * its meaning): its outcome by the name runbook/ledger.h gives it
 * ("running", "waiting", "healed", ...), so the store need not know the
 * executor. A run is "over" unless its outcome is running or waiting.
 */
struct store_run {
    int64_t id;
    char *runbook;
    int64_t incident_id; /* 0: a run by hand with no incident */
    char *fingerprint;   /* of its incident, for relapses; NULL with none */
    char *target;        /* the guard's key (plan_target()) */
    struct labels labels;
    bool automatic; /* started by the engine; false: by a person */
    char *actor;    /* "hale", "user:alice" */
    char *outcome;  /* "running", "waiting", "healed", ... */
    char *reason;   /* why it ended as it did, for people; NULL while running */
    int step;       /* index of the step it is at (or ended at); -1 before the first */
    int64_t started_ms, ended_ms; /* ended 0 while not over */
    bool relapsed;                /* healed, and its incident came back within the window */
    /* The approval gate it waits at (or last waited at); gate_step -1: none. */
    int gate_step;
    char *question;
    int64_t deadline_ms;
    char *decided_by; /* "user:alice"; "hale" when it expired; NULL while undecided */
    int64_t decided_ms;
    char *decision; /* "approved", "rejected", "expired"; NULL while undecided */
    char *comment;  /* the person's words, or NULL */
};

/* One attempt of one step of a run: a row per attempt, replaced as it moves on. */
struct store_run_step {
    int64_t run_id;
    unsigned seq;  /* 1, 2, ... in the order the attempts started: the row's key with run_id */
    unsigned step; /* index of the step in the runbook */
    char *name;
    char *action;     /* "run", "shell", "http", "check", "verify", "approve", "notify", "wait" */
    char *purpose;    /* "diagnose", "remediate", "verify" */
    unsigned attempt; /* from 1 */
    char *outcome;    /* "running", "succeeded", "failed", "skipped", "canceled" */
    int64_t started_ms, ended_ms;
    int exit_status; /* -1: none (not a process, or killed by a signal) */
    int term_signal; /* 0: none */
    bool timed_out;
    char *output; /* stdout and stderr as they came, cut to the store's cap; NULL: none */
    char *reason; /* for people: "exit 1", "HTTP 503 (expected 200)"; NULL: none */
    /*
     * A run or shell step's child: its pid (which is its process group)
     * and its start time (/proc's starttime, clock ticks after boot), so a
     * start-up after a crash kills the group left behind, and never a
     * process that got the pid since. 0: none.
     */
    int64_t pid;
    uint64_t pid_start;
};

/* A runbook taken out of automatic runs, and when a person put it back. */
struct store_quarantine {
    char *runbook;
    int64_t since_ms; /* with runbook, the row's key */
    char *reason;
    int64_t lifted_ms; /* 0: still quarantined */
    char *lifted_by;   /* "user:alice"; NULL while not lifted */
};

/* Free what the record holds and zero it. Accept NULL. */
void store_run_fini(struct store_run *r);
void store_run_step_fini(struct store_run_step *s);
void store_quarantine_fini(struct store_quarantine *q);
/* Deep copies of src into dst. */
void store_run_copy(struct store_run *dst, const struct store_run *src);
void store_run_step_copy(struct store_run_step *dst, const struct store_run_step *src);

/*
 * A notification in the outbox (notify/notify.h gives it its meaning):
 * one message to one notifier about one incident, with where it stands.
 * Enumerations by name ("escalated", "pending"), so the store need not
 * know the dispatcher. It is "open" while pending.
 */
struct store_notification {
    int64_t id;
    int64_t incident_id;
    char *team;     /* NULL: none */
    char *notifier; /* its name */
    char *reason;   /* "opened", "escalated", "level", "resolved", "users" */
    unsigned level; /* 1 for the team's notifiers, 2... for escalation levels */
    char *state;    /* "pending", "delivered", "failed", "canceled" */
    char *text;     /* why, in a sentence */
    char *assignee; /* who is on call, or NULL */
    unsigned attempts;
    int64_t created_ms;
    int64_t due_ms; /* the next attempt (pending), or when it was settled */
    int64_t updated_ms;
    char *error; /* the last attempt's failure, or NULL */
};

void store_notification_fini(struct store_notification *n);
void store_notification_copy(struct store_notification *dst, const struct store_notification *src);

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
 * Copies t. A text longer than the store's output_max is cut when the
 * batch is submitted (store_text_cap()).
 */
void store_batch_timeline(struct store_batch *b, const struct timeline_entry *t);
/* Appends an audit entry (id ignored). Copies a. */
void store_batch_audit(struct store_batch *b, const struct audit_entry *a);
/* Inserts the problem, or replaces the one with its id. Copies p. */
void store_batch_problem(struct store_batch *b, const struct problem *p);
/* Records that a check's hard status became status (CHECK_STATUS_*) at time_ms. */
void store_batch_check_state(struct store_batch *b, const char *check, int status, int64_t time_ms);
/* Inserts the silence, or replaces the one with its id. Copies s. */
void store_batch_silence(struct store_batch *b, const struct store_silence *s);

/* Inserts the run, or replaces the one with its id. Copies r. */
void store_batch_run(struct store_batch *b, const struct store_run *r);
/*
 * Inserts the step attempt, or replaces the one with its (run_id, seq).
 * Copies s; its output is cut to the store's output_max when the batch is
 * submitted (store_text_cap()).
 */
void store_batch_run_step(struct store_batch *b, const struct store_run_step *s);
/* Inserts the quarantine, or replaces the one with its (runbook, since_ms). Copies q. */
void store_batch_quarantine(struct store_batch *b, const struct store_quarantine *q);
/* Inserts the notification, or replaces the one with its id. Copies n. */
void store_batch_notification(struct store_batch *b, const struct store_notification *n);

/*
 * An event as it came in, with what the engine decided about it: every
 * event received is kept, so people can see what came in, but a repeat
 * (the same event again on its open incident, unchanged) is counted on
 * the row of the event it repeats rather than kept again. Enumerations
 * are kept by the names the engine gives them ("alertmanager", "firing",
 * "critical", "symptom"), so the store need not know the engine.
 */
struct store_event {
    int64_t id;          /* from store_next_event_id() */
    int64_t incident_id; /* the incident it went to; 0: none (silenced, ignored) */
    int64_t received_ms;
    char *source;         /* "check", "api", "alertmanager" */
    char *status;         /* "firing", "resolved" */
    char *severity;       /* "critical", "warning", "info" */
    uint64_t fingerprint; /* stored as 16 lowercase hex digits */
    struct labels labels;
    struct labels annotations;
    char *summary;
    int64_t starts_ms, ends_ms; /* 0: unset */
    char *verdict;              /* "new", "duplicate", "symptom", ... */
    int64_t silence_id;         /* the silence that held it back; 0: none */
    char *sender;               /* "user:NAME" (the token), "check:NAME"; NULL: not known */
    char *reason;               /* the decision's one line */
    /*
     * A hash of what the event says (the desk's: engine-independent to the
     * store), so that a repeat can be told after a restart; 0: not known.
     */
    uint64_t content;
    int64_t repeats; /* the repeats counted on this row; written as 0 */
    int64_t last_ms; /* when the latest repeat was received; 0: none; written as 0 */
};

void store_event_fini(struct store_event *ev);
/*
 * Appends the event with its id (store_next_event_id()); its incident's
 * row must come first in the batch. Copies ev.
 */
void store_batch_event(struct store_batch *b, const struct store_event *ev);
/*
 * Counts n more repeats on the event of id (written earlier, or earlier in
 * b), the latest received at last_ms.
 */
void store_batch_event_repeats(struct store_batch *b, int64_t id, int64_t n, int64_t last_ms);

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

/*
 * Cuts *text (reallocated) to at most max bytes (at least
 * STORE_OUTPUT_MAX_MIN) when it is longer: its head and its tail are kept,
 * each ending or starting on a UTF-8 character boundary, and
 * "\n[... N bytes cut]\n" between them says how much went. Returns N, 0
 * when the text fitted. Any thread.
 */
size_t store_text_cap(char **text, size_t max);

/* A new cap for the texts of batches submitted from now on (0: the default). Loop thread. */
void store_set_output_max(struct store *st, size_t max);

/* ---- retention ---- */

/* How long each kind of record is kept; 0 keeps it forever. */
struct store_retention {
    uint64_t closed_incidents_ms; /* since closing; with their timelines and runs */
    /* Timeline entries of kind event and the events received, but each incident's first. */
    uint64_t events_ms;
    /* Timeline entries of kind step_output; runs with no incident, over since, with their steps. */
    uint64_t outputs_ms;
    uint64_t check_states_ms; /* hard state changes, but each check's last before the cut */
    uint64_t audit_ms;        /* audit entries */
};

/* What a compaction pass did. */
struct store_compaction {
    uint64_t incidents;               /* closed incidents deleted */
    uint64_t timeline;                /* entries of those incidents' timelines */
    uint64_t events;                  /* event entries and events received, of incidents kept */
    uint64_t outputs;                 /* step_output entries of the incidents kept */
    uint64_t runs;                    /* runs deleted (of incidents deleted, or of none) */
    uint64_t notifications;           /* outbox rows of the incidents deleted */
    uint64_t check_states;            /* hard state changes */
    uint64_t audit;                   /* audit entries */
    uint64_t chunks;                  /* transactions that deleted */
    uint64_t freed_bytes;             /* free space given back to the file system */
    uint64_t size_before, size_after; /* bytes of the database's files on disk */
    uint64_t duration_ms;             /* from store_compact() to the callback */
    struct err error;                 /* why it stopped, when it failed */
};

/*
 * Called on the loop thread once a pass ended: result 0; HALE_ESTORE when
 * a step failed (c says what was done before; the next pass goes on from
 * there); or -ECANCELED when the store closed first.
 */
typedef void store_compact_cb(int result, const struct store_compaction *c, void *data);

/*
 * Starts a compaction pass: deletes what r says has expired at now_ms
 * (Unix ms; tests and benchmarks pass a simulated time), gives the freed
 * space back to the file system and folds the write-ahead log into the
 * database. Closed incidents linked to a problem that is not resolved are
 * kept, as is every incident that is not closed. The writer thread does
 * it in chunks of compact_chunk rows, one transaction each, between groups
 * of batches, so a batch waits at most for one chunk. Copies r. Returns 0
 * and calls cb once done, or HALE_ESTATE when a pass is still running (cb
 * is then not called). Loop thread.
 */
int store_compact(struct store *st, const struct store_retention *r, int64_t now_ms,
                  store_compact_cb *cb, void *data);

/* Bytes the database's files take on disk, or 0 when they cannot be read. Any thread. */
uint64_t store_size(const struct store *st);

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
    int64_t problem_id;      /* only those linked to this problem; 0: any */
    unsigned priorities;     /* bit (1u << p) per priority p (1 to 5) wanted; 0: every one */
    const char *service;     /* NULL: any */
    const char *text;        /* in the title, ASCII letters of either case alike; NULL: any */
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

struct store_event_query {
    int64_t incident_id; /* 0: any */
    int64_t since_ms;    /* received at or after; 0: any time */
    int64_t before_id;   /* only ids below (the cursor of the next page); 0: from the newest */
    size_t limit;        /* 0: no limit */
};

/* Events matching q, newest (highest id) first; as for store_incidents_list(). */
int store_events_list(struct store_reader *r, const struct store_event_query *q,
                      struct store_event **ret_v, size_t *ret_n);

/* A fingerprint still firing on an open incident. */
struct store_held_event {
    int64_t incident_id;
    uint64_t fingerprint;
    int64_t starts_ms; /* of its last event */
    int64_t event_id;  /* its last event's row, where repeats count */
    uint64_t content;  /* that event's content hash; 0: not known (before schema 10) */
};

/*
 * The fingerprints still firing on the open incidents (new, acknowledged,
 * in progress), or on incident_id alone when it is not 0: each
 * fingerprint whose last counted event (any verdict but ignore and
 * silenced) on such an incident was firing. In a new array, as for
 * store_incidents_list(); its elements own nothing.
 */
int store_events_held(struct store_reader *r, int64_t incident_id, struct store_held_event **ret_v,
                      size_t *ret_n);
/* Fills *ret (free with store_silence_fini()); HALE_ENOTFOUND when there is no such id. */
int store_silence_get(struct store_reader *r, int64_t id, struct store_silence *ret);

/* Which silences a query wants, by whether they are over at its at_ms. */
enum store_silence_filter {
    STORE_SILENCES_ALL,
    STORE_SILENCES_OVER,     /* an end at or before at_ms: expired then */
    STORE_SILENCES_NOT_OVER, /* no end, or an end after at_ms */
};

struct store_silence_query {
    enum store_silence_filter filter;
    int64_t at_ms;     /* Unix ms the filter judges at */
    int64_t since_ms;  /* created at or after; 0: any time */
    int64_t before_id; /* only ids below (the cursor of the next page); 0: from the newest */
    size_t limit;      /* 0: no limit */
};

/*
 * Silences matching q, newest (highest id) first, in a new array of *ret_n
 * (free each with store_silence_fini(), then the array). Returns 0 or
 * HALE_ESTORE.
 */
int store_silences_list(struct store_reader *r, const struct store_silence_query *q,
                        struct store_silence **ret_v, size_t *ret_n);

/* Fills *ret (free with store_run_fini()); HALE_ENOTFOUND when there is no such id. */
int store_run_get(struct store_reader *r, int64_t id, struct store_run *ret);

struct store_run_query {
    const char *runbook; /* NULL: any */
    int64_t incident_id; /* 0: any */
    const char *outcome; /* a name ("healed"); NULL: any */
    int64_t before_id;   /* only ids below (the cursor of the next page); 0: from the newest */
    size_t limit;        /* 0: no limit */
};

/*
 * Runs matching q, newest (highest id) first, in a new array of *ret_n
 * (free each with store_run_fini(), then the array). Returns 0 or
 * HALE_ESTORE.
 */
int store_runs_list(struct store_reader *r, const struct store_run_query *q,
                    struct store_run **ret_v, size_t *ret_n);
/* A run's step attempts by seq (free each with store_run_step_fini()); as above. */
int store_run_steps_list(struct store_reader *r, int64_t run_id, struct store_run_step **ret_v,
                         size_t *ret_n);
/*
 * What the executor loads on start-up: the runs started at or after
 * since_ms, and every run not over (running or waiting) however old,
 * oldest (lowest id) first; as for store_runs_list().
 */
int store_runs_since(struct store_reader *r, int64_t since_ms, struct store_run **ret_v,
                     size_t *ret_n);
/*
 * Every quarantine, lifted or not, oldest first (free each with
 * store_quarantine_fini()); as for store_runs_list().
 */
int store_quarantines_list(struct store_reader *r, struct store_quarantine **ret_v, size_t *ret_n);

/*
 * Notifications, oldest (lowest id) first, in a new array of *ret_n (free
 * each with store_notification_fini(), then the array): those of incident
 * incident_id, or with incident_id 0 those still pending (the outbox the
 * dispatcher loads on start-up). Returns 0 or HALE_ESTORE.
 */
int store_notifications_list(struct store_reader *r, int64_t incident_id,
                             struct store_notification **ret_v, size_t *ret_n);

#endif
