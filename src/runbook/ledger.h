/* SPDX-License-Identifier: MIT */
/*
 * The runbooks' ledger: what the runs of each runbook did, on each target,
 * as plain data in memory and pure decisions over it. The circuit breaker
 * (a runbook's guard: at most max_runs runs on one target within `per`),
 * the effectiveness of each runbook (runs, healed, failed, relapsed,
 * median time to heal) and its quarantine (a runbook whose incidents keep
 * coming back stops running by itself until a person re-enables it).
 *
 * The executor tells the ledger of every run as it starts and ends, and
 * of every incident opened, so a relapse is seen; the store keeps the runs
 * and the quarantines, and the ledger is loaded from them on start-up, so
 * a restart resets nothing. No I/O, no loop: times are passed in.
 */
#ifndef HALE_RUNBOOK_LEDGER_H
#define HALE_RUNBOOK_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* How a run ended, or that it has not yet. */
enum run_outcome {
    RUN_RUNNING,     /* not ended */
    RUN_WAITING,     /* paused at an approval gate */
    RUN_HEALED,      /* verify passed: hale resolved the incident */
    RUN_COMPLETED,   /* every step done, no verify to prove a repair: the events decide */
    RUN_FAILED,      /* a step failed and the run escalated or aborted */
    RUN_SUSPENDED,   /* the guard tripped, or the runbook is quarantined: not run */
    RUN_REJECTED,    /* a person said no at an approval gate */
    RUN_EXPIRED,     /* nobody answered an approval gate in time */
    RUN_CANCELED,    /* its incident resolved by itself before a remediate step */
    RUN_INTERRUPTED, /* hale stopped (or crashed) while it ran; found on start-up */
};

/* "running", "waiting", "healed", ...; static storage. */
const char *run_outcome_name(enum run_outcome o);
/* 0, or -EINVAL for an unknown name. */
int run_outcome_parse(const char *s, enum run_outcome *ret);
/* Whether o is an end (every outcome but running and waiting). */
bool run_outcome_is_final(enum run_outcome o);

/* One run as the ledger sees it. Strings are copied by the ledger. */
struct ledger_run {
    int64_t id;
    const char *runbook;
    const char *target;           /* plan_target() */
    const char *fingerprint;      /* of its incident; NULL: a run by hand with no incident */
    int64_t incident_id;          /* 0: none */
    bool automatic;               /* started by the engine (false: by hand, `hale run`) */
    int64_t started_ms, ended_ms; /* ended 0 while not final */
    enum run_outcome outcome;
    bool relapsed; /* healed, and its fingerprint opened an incident again within the window */
};

/* A runbook taken out of automatic runs. Strings owned by the ledger. */
struct ledger_quarantine {
    const char *runbook;
    int64_t since_ms;
    const char *reason; /* "relapse rate 3 of 4 healed runs (75%) over 50%" */
};

struct ledger;

struct ledger *ledger_new(void);
/* Accepts NULL. */
void ledger_free(struct ledger *l);

/*
 * Adds a run, or replaces the one with its id (a run that moved on). The
 * ledger keeps the last 100,000 runs it is told of: past that, the oldest
 * ended runs are dropped (and leave the statistics).
 */
void ledger_run_put(struct ledger *l, const struct ledger_run *r);

/*
 * The guard of rb on target at now_ms: the number of runs (automatic or
 * by hand, suspended ones not counted) started within guard.per_ms before
 * now, into *ret_count (may be NULL). Returns true when one more would
 * pass guard.max_runs (the breaker trips); always false with no guard.
 */
bool ledger_guard_trips(const struct ledger *l, const struct config_runbook *rb, const char *target,
                        int64_t now_ms, unsigned *ret_count);

/*
 * An incident with fingerprint opened (or reopened) at opened_ms: the run
 * that healed the last incident of that fingerprint within
 * its runbook's relapse.within_ms before is marked relapsed. Returns its id (the
 * caller stores the mark), or 0 when none relapsed.
 */
int64_t ledger_incident_opened(struct ledger *l, const struct config *c, const char *fingerprint,
                               int64_t opened_ms);

/* A runbook's effectiveness, over every run the ledger holds. */
struct ledger_stats {
    const char *runbook; /* borrowed */
    const char *target;  /* borrowed; NULL in a runbook's total */
    unsigned runs, healed, completed, failed, suspended, relapsed, canceled, other;
    uint64_t median_heal_ms; /* started to ended, of healed runs; 0: none healed */
};

/*
 * Statistics of every runbook (target NULL) followed by those of each of
 * its targets, runbooks in name order, into a new array of *ret_n (free
 * the array; the strings are borrowed from l until it changes). runbook
 * non-NULL: only that one.
 */
void ledger_stats_list(const struct ledger *l, const char *runbook, struct ledger_stats **ret_v,
                       size_t *ret_n);

/*
 * Whether rb must be quarantined now: among its runs started since it was
 * last re-enabled (ledger_quarantine_lift()), at least
 * rb->relapse.min_healed healed and a relapse rate (relapsed / healed, in
 * percent) above rb->relapse.quarantine_above. Writes the reason in words into *ret_reason
 * (a new string) when so. Never while it is quarantined already.
 */
bool ledger_quarantine_due(const struct ledger *l, const struct config_runbook *rb,
                           char **ret_reason);

/*
 * Quarantines: set one (copies), lift one (a person re-enabled it at
 * now_ms; on start-up, the time the store says it was lifted, so the
 * runs before do not count again), and look.
 */
void ledger_quarantine_set(struct ledger *l, const char *runbook, int64_t since_ms,
                           const char *reason);
void ledger_quarantine_lift(struct ledger *l, const char *runbook, int64_t now_ms);
const struct ledger_quarantine *ledger_quarantine_get(const struct ledger *l, const char *runbook);

#endif
