/* SPDX-License-Identifier: MIT */
/*
 * The runbook executor: runs a runbook's steps for an incident, proves the
 * repair by re-running the check, and records every step on the incident's
 * timeline. A run is a non-blocking state machine on the loop: run and
 * shell steps are children in their own process group (proc.h, killed
 * with their group at their timeout), http steps go through net.h, check
 * and verify steps ask the checks' runner for a run now, approve steps
 * pause until a person decides or the gate expires, wait steps are
 * timers. What it cannot repair it escalates to the runbook's team.
 *
 * The engine routes; the desk opens the incident; once the incident is
 * durable the executor hears of it (runbooks_incident_changed(), fed from
 * the desk's watch) and starts a run when its route named a runbook, unless
 * a hard guard says no: the incident is resolved already, its check is
 * flapping, the runbook's circuit breaker tripped or it is quarantined.
 * Runs, their steps, guard counts, approvals and quarantines live in the
 * store: a restart forgets nothing, and a run cut short by a stop or a
 * crash is found on start-up, marked interrupted and escalated.
 *
 * Loop thread only.
 */
#ifndef HALE_RUNBOOK_RUNBOOK_H
#define HALE_RUNBOOK_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/err.h"
#include "base/labels.h"
#include "config/config.h"
#include "itsm/incident.h"
#include "itsm/itsm.h"
#include "runbook/ledger.h"
#include "store/store.h"

struct runbooks;
struct net_multi;
struct metrics;

/*
 * The checks' side, given by the daemon: a check run now for a check or
 * verify step, and whether a check is flapping (a hard guard). status is
 * CHECK_STATUS_* (0 ok ... 3 unknown), summary its one line (borrowed for
 * the call).
 */
typedef void runbooks_check_done_cb(int status, const char *summary, void *data);
struct runbooks_checks {
    /* Runs check now (out of its schedule); done is called exactly once, later. */
    int (*run_now)(void *ctx, const struct config_check *check, runbooks_check_done_cb *done,
                   void *data, struct err *e);
    bool (*is_flapping)(void *ctx, const char *check);
    void *ctx;
};

/* Why the executor tells a team: the dispatcher pages only for an escalation. */
enum runbooks_notice {
    RUNBOOKS_NOTICE_STEP,     /* a notify step's message; healing goes on */
    RUNBOOKS_NOTICE_USERS,    /* a notify step's message `to: users`: the team's users channel */
    RUNBOOKS_NOTICE_ESCALATE, /* healing failed or was interrupted, a guard tripped, an approval
                                 waits */
};

/*
 * The seam for notify steps and escalations: hands text to the team's
 * notifiers (the notifiers themselves are another module). May be NULL:
 * the timeline entry alone is written.
 */
typedef void runbooks_notify_fn(void *ctx, const struct incident *i, const char *team,
                                enum runbooks_notice kind, const char *text);

/*
 * Hears a run's change once the store has it: started, a step attempt
 * started or ended, waiting at a gate, decided, ended. run is its row as
 * stored, steps_total its runbook's steps, step the attempt written with
 * it (NULL: none). All borrowed for the call. The daemon feeds the live
 * stream with it.
 */
typedef void runbooks_watch_fn(void *ctx, const struct store_run *run, size_t steps_total,
                               const struct store_run_step *step);

struct runbooks_options {
    uv_loop_t *uv;
    struct store *store;
    struct itsm *desk;
    struct net_multi *net;       /* for http steps; NULL: the loop's own, taken when needed */
    const struct config *config; /* borrowed until the next runbooks_set_config() */
    struct runbooks_checks checks;
    runbooks_notify_fn *notify;
    void *notify_ctx;
    runbooks_watch_fn *watch; /* may be NULL */
    void *watch_ctx;
    /* Optional: hale_runs_total, hale_runs_in_flight, hale_run_start_delay_seconds go here. */
    struct metrics *metrics;
};

/*
 * Loads the ledger (runs, guard counts, quarantines) and the runs that
 * were not over through a reader of o->store: those waiting at an
 * approval gate wait on (their gate's deadline still counts), the others
 * are marked interrupted and their incidents escalated. Returns 0, or
 * HALE_ESTORE with e set.
 */
int runbooks_new(const struct runbooks_options *o, struct runbooks **ret, struct err *e);
/*
 * Cancels every run in flight (their children killed with their groups):
 * they are stored interrupted, and their incidents escalated, once the
 * store commits. Runs waiting at an approval gate are left waiting in the
 * store: the next start resumes them. Idempotent. Before store_close(),
 * with the loop still to run (the children's ends come through it).
 */
void runbooks_stop(struct runbooks *rbs);
/*
 * Calls done(data) once no child of a run is left (at once when none is):
 * after runbooks_stop(), the daemon waits for it before it closes the
 * loop, so every group is gone and every handle closed first.
 */
void runbooks_on_idle(struct runbooks *rbs, void (*done)(void *data), void *data);
/* Accepts NULL. After store_close(). */
void runbooks_free(struct runbooks *rbs);
/* After a reload: runs in flight keep the configuration they started with. */
void runbooks_set_config(struct runbooks *rbs, const struct config *config);

/*
 * The desk made i durable (its watch). Starts an automatic run when i was
 * opened or reopened with a runbook and no run has started for that
 * opening; cancels a run before its next remediate step when i resolved
 * by itself; tells the ledger of openings, so relapses are counted.
 */
void runbooks_incident_changed(struct runbooks *rbs, const struct incident *i);

/* What a person asks of `hale run` or POST /api/v1/runbooks/{name}/runs. Borrowed. */
struct runbooks_start {
    const char *runbook;
    const struct labels *labels; /* may be empty */
    int64_t incident_id;         /* 0: none; else the run works on that incident */
    const char *actor;           /* "user:alice" */
    const char *origin;          /* the client's address, for the audit log */
};

/* Hears a person's request taken durably: result 0 or HALE_ESTORE, and the run's id. */
typedef void runbooks_done_cb(int result, int64_t run_id, void *data);

/*
 * Starts a run by hand (audited "run.start"). Refused at once, cb never
 * called: HALE_ENOTFOUND for an unknown runbook or incident, HALE_ESTATE
 * when any run is in flight on that incident, a run of that runbook is in
 * flight on the same target, or the guard trips (e says which and what to
 * do), -ESHUTDOWN once hale is stopping. A quarantined runbook may still be
 * run by hand. Else returns 0, sets *ret_run_id and calls cb once the run
 * is durably started.
 */
int runbooks_start(struct runbooks *rbs, const struct runbooks_start *rq, runbooks_done_cb *cb,
                   void *data, int64_t *ret_run_id, struct err *e);

/*
 * A person's answer at run_id's approval gate (audited "run.approve" or
 * "run.reject", with the comment). Refused at once: HALE_ENOTFOUND for no
 * such run, HALE_ESTATE when it is not waiting at a gate, -ESHUTDOWN once
 * hale is stopping (the gate waits on in the store). Else returns 0
 * and calls cb once the decision is durable; the run goes on (approved) or
 * ends rejected and escalates.
 */
int runbooks_decide(struct runbooks *rbs, int64_t run_id, bool approve, const char *actor,
                    const char *origin, const char *comment, runbooks_done_cb *cb, void *data,
                    struct err *e);

/*
 * A person re-enables a quarantined runbook (audited "runbook.enable").
 * HALE_ENOTFOUND for an unknown runbook, HALE_ESTATE when it is not
 * quarantined, -ESHUTDOWN once hale is stopping. Else 0 and cb once durable (run_id 0).
 */
int runbooks_enable(struct runbooks *rbs, const char *runbook, const char *actor,
                    const char *origin, runbooks_done_cb *cb, void *data, struct err *e);

/* The ledger, for statistics and quarantines; borrowed until the next call into rbs. */
const struct ledger *runbooks_ledger(const struct runbooks *rbs);

/* Runs in flight (running or waiting), for /metrics and the health of the daemon. */
size_t runbooks_in_flight(const struct runbooks *rbs);

#endif
