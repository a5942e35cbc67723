/* SPDX-License-Identifier: MIT */
/*
 * What the executor's files share: the executor and its runs.
 * runbook.c holds the executor (what starts a run, a person's requests,
 * the ledger, persistence); run.c is a run's state machine (steps in
 * order, attempts, retries, when:, on_failure, the end and what it does
 * to the incident); steps.c starts and ends each kind of step; recover.c
 * loads what the store kept on start-up. Loop thread only.
 */
#ifndef HALE_RUNBOOK_INTERNAL_H
#define HALE_RUNBOOK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "base/idindex.h"
#include "metrics/metrics.h"
#include "proc/proc.h"
#include "runbook/ledger.h"
#include "runbook/plan.h"
#include "runbook/runbook.h"

/* Bytes of a step's output kept (stdout, and stderr, each), and of an HTTP body. */
#define RUNBOOK_OUTPUT_MAX      (64u * 1024u)
#define RUNBOOK_HTTP_BODY_MAX   (4u * 1024u)
/* The longest pause between two tries of a verify step. */
#define RUNBOOK_VERIFY_EVERY_MS 1000u
/* Incidents waiting for a target busy with another run of their runbook, at most. */
#define RUNBOOK_QUEUE_MAX       256
/* How far back the ledger is loaded on start-up: the longest window worth counting. */
#define RUNBOOK_LEDGER_DAYS     30

/* What a run is doing now, and so which handle of it is busy. */
enum run_phase {
    RUN_PHASE_IDLE,  /* between steps (or a deferred move is due on its timer) */
    RUN_PHASE_PROC,  /* a run or shell step's child runs */
    RUN_PHASE_HTTP,  /* an http step's transfer runs */
    RUN_PHASE_CHECK, /* a check or verify step waits for its check */
    RUN_PHASE_PAUSE, /* a retry's backoff, a verify's pause between tries, a wait step */
    RUN_PHASE_GATE,  /* an approval gate */
    RUN_PHASE_OVER,  /* ended; freed once its child is gone */
};

/* A check run asked for, which may answer after its run ended (then run is NULL). */
struct runbook__check_wait {
    struct run *run;
};

struct run {
    struct runbooks *rbs;
    struct run *next;      /* rbs->runs: in flight */
    struct config *config; /* a reference: the run keeps the configuration it started with */
    const struct config_runbook *rb;
    struct store_run rec; /* its row, kept as it is now */
    char *check;          /* the check that opened its incident, or NULL */
    enum run_outcome outcome;
    enum plan_outcome *outcomes; /* one per step */
    size_t step;                 /* the step it is at */
    unsigned seq;                /* step rows written */
    unsigned attempt;            /* of that step, from 1 */
    struct store_run_step cur;   /* the row of the attempt in flight */
    enum run_phase phase;
    bool in_charge;         /* it took charge of its incident (itsm_runbook_charge()) */
    bool incident_resolved; /* its incident resolved (by itself, or a person) meanwhile */
    unsigned opening;       /* its incident's reopened count it works for */
    bool verified;          /* the last verify step that ran passed */
    bool remediated;        /* a run, shell or http step of purpose remediate succeeded */
    char *verify_words;     /* "verify nginx-http ok after 2 tries" */
    /* A verify step's tries, and when it gives up (Unix ms). */
    unsigned tries;
    int64_t verify_until_ms;
    /* Deferred: the result of a check, heard possibly within run_now(). */
    int check_status;
    char *check_summary;
    uv_timer_t *timer;    /* the step's: timeout, pause, gate expiry, deferred moves */
    uv_timer_t *deadline; /* the whole run's timeout */
    uint64_t spent_ms;    /* of the run's timeout, before active_since_ms (gates do not count) */
    int64_t active_since_ms;
    struct proc *proc;
    CURL *easy;
    struct curl_slist *http_headers;
    struct runbook__check_wait *wait;
    char *http_body; /* what an http step's response said, capped */
    size_t http_len;
    int64_t first_event_ms; /* received: the start delay is measured from it; 0: none */
    bool first_spawned;     /* the start delay was recorded */
};

/*
 * The process group of a step that a crash left running, found on
 * start-up: SIGTERM, then SIGKILL after the grace, then a word on the
 * incident's timeline once it is gone.
 */
struct runbook__reap {
    uv_timer_t timer; /* first: its close callback frees the whole */
    struct runbooks *rbs;
    struct runbook__reap *next;
    pid_t pgid;
    int64_t incident_id; /* 0: none */
    char *actor;         /* "runbook:NAME" */
    char *step_words;    /* "step 1/3 restart" */
    int64_t term_ms;     /* when SIGTERM went (monotonic) */
    bool killed;         /* SIGKILL went too */
};

struct runbooks {
    struct runbooks_options o;
    struct config *config; /* a reference: runs started now take it */
    struct store_reader *reader;
    struct ledger *ledger;
    struct net_multi *net;
    struct run *runs; /* in flight: running or waiting */
    size_t n_runs;
    /*
     * Incidents whose opening (by their reopened count) a run was started
     * for, or refused (seen.c): found by id through seen_index, forgotten
     * once they cannot open again.
     */
    struct runbook__seen {
        int64_t incident_id;
        unsigned reopened;
        int64_t resolved_ms; /* 0: open */
    } * seen;
    size_t n_seen, cap_seen;
    struct idindex seen_index;
    size_t seen_sweep_at; /* entries at which the next insert sweeps first */
    /*
     * Open incidents found on start-up whose opening got neither a run nor
     * a refusal (hale stopped or died first): handled from the loop's
     * first turn (late), once the checks' runner is up.
     */
    int64_t *late;
    size_t n_late;
    uv_timer_t *late_timer;
    /*
     * Incidents whose run waits for their target (one run per target),
     * oldest first: each starts, guards applied again, once the run on its
     * target ended. Not stored: a restart finds them without a run (late).
     */
    struct runbook__queued {
        int64_t incident_id;
        char *runbook;
        char *target;
    } * queue;
    size_t n_queue;
    uv_timer_t *queue_timer; /* its next turn, after a run ended */
    bool stopping;
    size_t children;             /* runs' children not yet gone */
    struct runbook__reap *reaps; /* groups left by a crash, being killed */
    void (*idle_cb)(void *data);
    void *idle_data;
    /* Metrics; NULL when not given. */
    struct metrics_family *m_runs, *m_delay;
};

/* ---- runbook.c ---- */

int64_t runbook__now_ms(void);
/* Writes run's row (and its current step's when with_step) through the store; cb may be NULL. */
void runbook__save(struct run *run, bool with_step, store_done_cb *cb, void *data);
/* Appends entries to run's incident's timeline (none when it has no incident). */
void runbook__note(struct run *run, enum timeline_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void runbook__notes(struct run *run, const struct itsm_entry *v, size_t n);
/* Tells the ledger of a run: row as it is now (a run's rec, or a row found on start-up). */
void runbook__ledger_put(struct runbooks *rbs, const struct store_run *row,
                         enum run_outcome outcome);
/* ---- seen.c ---- */

/*
 * Whether incident id's opening (by its reopened count) was dealt with;
 * it is from now on (no automatic run for it).
 */
bool runbook__seen(struct runbooks *rbs, int64_t id, unsigned reopened);
/* Incident id's opening (by its reopened count) is dealt with: no automatic run for it. */
void runbook__seen_mark(struct runbooks *rbs, int64_t id, unsigned reopened);
/* i changed: closed, it is forgotten; resolved, it is once past the reopen window. */
void runbook__seen_update(struct runbooks *rbs, const struct incident *i);
/* Forgets the incidents resolved longer than the reopen window before now_ms. */
void runbook__seen_sweep(struct runbooks *rbs, int64_t now_ms);
size_t runbook__seen_count(const struct runbooks *rbs);
void runbook__seen_free(struct runbooks *rbs);

/* ---- runbook.c, again ---- */

/* A run ended: the incidents queued for a target now free start on the loop's next turn. */
void runbook__queue_kick(struct runbooks *rbs);
/* Incident i (open) waits for the run in flight on target to end; false when the queue is full. */
bool runbook__queue_add(struct runbooks *rbs, const struct incident *i, const char *runbook,
                        const char *target);
/* The run of incident id in flight, or NULL. */
struct run *runbook__run_of_incident(struct runbooks *rbs, int64_t id);
/* Takes run out of the runs in flight. */
void runbook__unlink(struct runbooks *rbs, struct run *run);
/* Hands text about run's incident to its team's notifiers (the seam), when there is one. */
void runbook__notify(struct run *run, enum runbooks_notice kind, const char *text);
/*
 * The same for incident_id without a run (a run not started, a run found
 * interrupted on start-up), to team (may be NULL: the incident's).
 */
void runbook__notify_incident(struct runbooks *rbs, int64_t incident_id, const char *team,
                              enum runbooks_notice kind, const char *text);
/* A run's "runbook:NAME" actor, into buf. */
const char *runbook__actor(const struct run *run, char *buf, size_t size);

/* A run's child is gone: tells the one waiting for none to be left. */
void runbook__child_gone(struct runbooks *rbs);

/* ---- run.c ---- */

/*
 * A new run of rb (config referenced) with its row filled but for id
 * (the caller's) and outcome running. Not yet in flight.
 */
struct run *runbook__run_new(struct runbooks *rbs, struct config *config,
                             const struct config_runbook *rb);
/* Frees run; its handles must be closed or never opened. */
void runbook__run_free(struct run *run);
/*
 * Puts run in flight and starts its first step; its row is written first,
 * and cb (may be NULL) hears when that is durable.
 */
void runbook__run_start(struct run *run, store_done_cb *cb, void *data);
/* Resumes a run found waiting at a gate on start-up. */
void runbook__run_resume_gate(struct run *run);
/*
 * Ends run with outcome (final) and reason: its handles stopped, its row
 * written, the ledger told, the incident healed, escalated or let go, and
 * run freed once its child is gone. escalate: hand the incident to the team.
 */
void runbook__run_end(struct run *run, enum run_outcome outcome, bool escalate, const char *reason);
/* A step's attempt ended (steps.c): ok, and the row's fields filled by the caller. */
void runbook__attempt_done(struct run *run, bool ok);
/* A person decided at run's gate. */
void runbook__gate_decided(struct run *run, bool approve);
/* The run's timeout stops counting (it waits at a gate). */
void runbook__deadline_pause(struct run *run);

/* ---- steps.c ---- */

/*
 * Starts the current attempt's work for its kind. Ends by calling
 * runbook__attempt_done() (later, from a callback or a timer; never from
 * within this call).
 */
void runbook__step_begin(struct run *run);
/*
 * Opens (or, on start-up, opens again) the approval gate of the current
 * step: the run waits, its row says so, and the gate expires at
 * rec.deadline_ms.
 */
void runbook__gate_open(struct run *run);
/* Stops the work in flight (a child is cancelled; its callback still comes). */
void runbook__step_abort(struct run *run);
/* The words of a duration for people: "120 ms", "10 s", "2 min". */
void runbook__duration(uint64_t ms, char *buf, size_t size);

/*
 * The openings found on start-up without a run or a refusal (rbs->late):
 * each gets its run now, hard guards applied, or is escalated saying why
 * it cannot. Called from the loop.
 */
void runbook__late_openings(struct runbooks *rbs);

/* ---- recover.c ---- */

/*
 * Loads the ledger, the quarantines and the runs not over from the store,
 * and finds the openings that got no run (rbs->late).
 */
int runbook__recover(struct runbooks *rbs, struct err *e);
/* At a stop: the groups left by a crash still being killed get SIGKILL now. */
void runbook__reaps_stop(struct runbooks *rbs);

#endif
