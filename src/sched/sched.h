/* SPDX-License-Identifier: MIT */
/*
 * The check scheduler: decides when each check runs. Each entry has an
 * interval and a phase derived from a hash of its name, so thousands of
 * checks with one interval spread evenly over it, and a restart keeps every
 * check at the same offset of the wall clock. An entry never overlaps
 * itself, entries that spawn a child process share a global concurrency
 * limit (the rest wait in due order), and "run now" requests run an entry at
 * once without moving its phase.
 *
 * The scheduler is pure logic over a struct clock: sched_tick() starts what
 * is due, the runner reports the end of each run with sched_run_done(). A
 * thin driver (sched_driver_new) calls sched_tick() from one libuv timer
 * armed for the earliest due entry. Everything here runs on the loop thread.
 */
#ifndef HALE_SCHED_SCHED_H
#define HALE_SCHED_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/clock.h"
#include "loop/loop.h"

struct sched;
struct sched_entry;

enum sched_entry_kind {
    SCHED_ENTRY_LOOP = 0,  /* runs on the loop (tcp, http, file...): no limit */
    SCHED_ENTRY_CHILD = 1, /* spawns a child process: counts toward the limit */
};

/* What the runner is told about one run. Times are the clock's monotonic ms. */
struct sched_run {
    uint64_t due_ms;        /* the slot this run is for; the request time for run-now */
    uint64_t start_ms;      /* when it was started */
    uint64_t lateness_ms;   /* start_ms - due_ms: loop delay plus queue wait */
    uint64_t queue_wait_ms; /* time spent waiting for the concurrency limit */
    bool now;               /* asked for by sched_entry_run_now() */
};

/*
 * Starts a run of e. The runner must call sched_run_done(s, e) exactly once
 * when the run ends, from this callback or later. The callback may add,
 * remove and run-now entries, but must not free the scheduler.
 */
typedef void sched_run_cb(struct sched *s, struct sched_entry *e, const struct sched_run *run,
                          void *data);

struct sched_entry_stats {
    uint64_t runs;    /* runs started */
    uint64_t skipped; /* slots that came while a run was still going or waiting */
    uint64_t missed;  /* slots passed over because the scheduler itself was late */
    uint64_t last_lateness_ms, max_lateness_ms;
    uint64_t last_queue_wait_ms, max_queue_wait_ms;
};

/*
 * Creates a scheduler reading time from clock (borrowed; it must outlive
 * the scheduler) that starts runs through cb. max_children bounds the
 * SCHED_ENTRY_CHILD runs going at once. Returns 0, or -EINVAL when
 * max_children is 0 or cb is NULL. Free with sched_free().
 */
int sched_new(const struct clock *clock, unsigned max_children, sched_run_cb *cb,
              struct sched **ret_sched);
/*
 * Frees the scheduler and every entry, running or not: the runner must not
 * call sched_run_done() for them afterwards. Free the driver first. Accepts
 * NULL. Not from a run callback.
 */
void sched_free(struct sched *s);

/*
 * Adds an entry that runs every every_ms milliseconds at the phase
 * sched_phase_ms(name, every_ms); name is not kept. data is borrowed and
 * passed back to the run callback. The first run is at the entry's next
 * slot, which may be now. Returns 0 and the entry (owned by s), or -EINVAL
 * when every_ms is 0 or name is empty.
 */
int sched_entry_add(struct sched *s, const char *name, uint64_t every_ms,
                    enum sched_entry_kind kind, void *data, struct sched_entry **ret_entry);
/*
 * Makes room for n entries in all, so that adding up to that many grows
 * nothing: a runner that knows how many checks it schedules asks for no
 * more room than they take.
 */
void sched_reserve(struct sched *s, size_t n);
/*
 * Removes an entry. An entry that is running is freed when its
 * sched_run_done() comes; one that is waiting is dropped from the queue.
 * May be called from a run callback.
 */
void sched_entry_remove(struct sched *s, struct sched_entry *e);

/*
 * Runs e as soon as possible without moving its slots: at once if it is
 * idle (or at the head of the queue if the concurrency limit is reached),
 * at the head of the queue if it is waiting, and once more right after the
 * current run if it is running. Returns 0. May be called from a run callback.
 */
int sched_entry_run_now(struct sched *s, struct sched_entry *e);

/* Ends the run of e started by the run callback. May be called from it. */
void sched_run_done(struct sched *s, struct sched_entry *e);

/*
 * Starts every run due by the clock's now, in due order (the order of
 * adding among equal times), and as many waiting runs as the limit allows.
 * Returns the number of runs started.
 */
unsigned sched_tick(struct sched *s);

/* The earliest slot of any entry (monotonic ms), or UINT64_MAX when empty. */
uint64_t sched_next_due_ms(const struct sched *s);
/* SCHED_ENTRY_CHILD runs going now. */
unsigned sched_children(const struct sched *s);
/* Runs waiting for the concurrency limit. */
size_t sched_queued(const struct sched *s);
size_t sched_entries(const struct sched *s);

/* Accessors; everything returned is borrowed from the entry. */
void *sched_entry_data(const struct sched_entry *e);
uint64_t sched_entry_every_ms(const struct sched_entry *e);
/* The entry's next slot (monotonic ms). */
uint64_t sched_entry_due_ms(const struct sched_entry *e);
bool sched_entry_is_running(const struct sched_entry *e);
bool sched_entry_is_queued(const struct sched_entry *e);
void sched_entry_stats(const struct sched_entry *e, struct sched_entry_stats *ret_stats);

/*
 * The phase of a name for an interval: a hash of the name modulo every_ms.
 * An entry's slots are the wall-clock times t (Unix ms) with
 * t % every_ms == phase, so the phase survives restarts.
 */
uint64_t sched_phase_ms(const char *name, uint64_t every_ms);

/* ---- the libuv driver ---- */

struct sched_driver;

/*
 * Drives s on loop l with one timer armed for the earliest slot, re-armed
 * after each tick and each change to s. The clock given to sched_new() must
 * be the system clock (or one that moves with it). Returns 0 or -errno.
 * Free with sched_driver_free() before loop_stop().
 */
int sched_driver_new(struct sched *s, struct loop *l, struct sched_driver **ret_driver);
/*
 * Stops driving and closes the timer; the memory goes in the close callback.
 * The scheduler may be freed right after. Accepts NULL.
 */
void sched_driver_free(struct sched_driver *d);

#endif
