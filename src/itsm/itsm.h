/* SPDX-License-Identifier: MIT */
/*
 * The incident desk: applies the engine's decisions about events (opens,
 * reopens, joins, links symptoms, names root causes, counts repeats,
 * resolves), lets people open incidents and requests by hand and work
 * them (ack, assign, note, resolve, close) under the ITIL lifecycle,
 * records every change on the incident's timeline and every human action
 * in the audit log, opens a problem when one fingerprint keeps opening
 * incidents, and lets people work problems (root cause, workaround,
 * known error, resolved).
 *
 * It keeps the incidents that are not closed in memory (few, and needed at
 * every event), with the fingerprints of the events firing on them, and
 * writes every change through the store; reads of everything else go to
 * the store. The engine's event, view and decision (engine/correlate.h)
 * are plain data it takes, as the store takes its records. Loop thread
 * only.
 */
#ifndef HALE_ITSM_ITSM_H
#define HALE_ITSM_ITSM_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "engine/correlate.h"
#include "itsm/incident.h"
#include "store/store.h"

struct itsm;

/* ---- the rules, pure ---- */

/*
 * Whether an incident in state `from` may move to `to` by a person's
 * action. Returns 0, or HALE_ESTATE with e saying why in words for the
 * person ("incident 42 is closed: a closed incident takes no more changes").
 */
int itsm_transition_check(const struct incident *i, enum incident_state to, struct err *e);

/* P1..P5 from the matrix, by the check's impact and the urgency a severity implies. */
unsigned itsm_priority(const struct config_incidents *c, enum config_impact impact,
                       enum incident_severity severity);

/* The category a check's incident gets: its `category` key when it names one, else by kind. */
enum incident_category itsm_category_of(const struct config_check *check);

/* ---- the desk ---- */

/*
 * Creates the desk on st, loading the incidents and problems that are not
 * closed (resolved). config is borrowed until the next itsm_set_config().
 * Returns 0, or HALE_ESTORE with e set.
 */
int itsm_new(struct store *st, const struct config *config, struct itsm **ret_itsm, struct err *e);
/*
 * Closes the desk's reader, before store_close(), which needs every reader
 * closed; the desk still hears of the changes store_close() commits.
 */
void itsm_close_reader(struct itsm *x);
/* Accepts NULL. After store_close(): writes still queued call back into the desk. */
void itsm_free(struct itsm *x);
/* After a reload: the new configuration, borrowed. */
void itsm_set_config(struct itsm *x, const struct config *config);

/* ---- the engine's decisions ---- */

/*
 * The desk's part of one submit of the engine: everything its events
 * change, in one store batch, durable at once.
 */
struct itsm_batch;

/* Starts a batch. Then itsm_apply() each event, then itsm_batch_submit(). */
struct itsm_batch *itsm_batch_new(struct itsm *x);

/*
 * What is open now, for engine_decide(): the incidents that are not
 * resolved (with their service, opening time and root cause) and the
 * fingerprints of the events firing on them. It includes what the events
 * applied so far changed, even before their batch is durable. Borrowed:
 * valid until the next call into the desk.
 */
void itsm_engine_view(struct itsm *x, struct engine_view *ret);

/*
 * Applies the engine's decision d about ev in b (docs/engine.md):
 *
 *   NEW         opens an incident (routed: team, runbook, priority from
 *               d->route) or reopens the one of its fingerprint resolved
 *               within reopen_within; links the incidents in d->adopt as
 *               its symptoms;
 *   DUPLICATE   counts it on its incident: a timeline entry for the
 *               first repeat and when the severity changes, else only
 *               the count. Alertmanager delivering the same alert again
 *               (same fingerprint and startsAt) changes nothing;
 *   JOIN, SYMPTOM
 *               adds it to the incident, which holds its fingerprint now;
 *   ROOT_CAUSE  adds it and names its service as the incident's probable
 *               root cause; links d->adopt;
 *   RESOLVE     ends its fingerprint on the incident, and resolves the
 *               incident when d->resolves_incident and no runbook is in
 *               charge (resolved_by hale for a check, else the sender);
 *   SILENCED, IGNORE
 *               records it only.
 *
 * Every event is recorded (GET /api/v1/events) with its verdict and
 * reason. d->incident_id becomes the incident the event went to (the one
 * opened or reopened for NEW); d->reason says what the desk did when it
 * differs from the engine's words (a repeated delivery). A flapping note
 * (ev->note) goes on the timeline of d->incident_id when it is open, and
 * is not recorded.
 */
void itsm_apply(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                struct engine_decision *d);

/* result 0, or HALE_ESTORE when nothing of the batch was written. */
typedef void itsm_batch_done_cb(int result, void *data);

/*
 * Submits b (and takes it): cb (may be NULL) hears once everything it
 * holds is durable, and the watchers hear of each incident it changed.
 * When the write fails the desk takes the store's copy of what b touched
 * back, so what comes next is judged on what is on disk.
 */
void itsm_batch_submit(struct itsm *x, struct itsm_batch *b, itsm_batch_done_cb *cb, void *data);

enum itsm_action {
    ITSM_ACK,
    ITSM_ASSIGN,
    ITSM_NOTE,
    ITSM_RESOLVE,
    ITSM_CLOSE,
};

struct itsm_request {
    enum itsm_action action;
    int64_t id;
    const char *actor;    /* "user:alice" */
    const char *origin;   /* the client's address */
    const char *team;     /* ASSIGN; NULL: unchanged */
    const char *assignee; /* ASSIGN; NULL: unchanged */
    const char *text;     /* NOTE */
    const char *cause;    /* RESOLVE; NULL: none given */
};

/* i is the incident after the change (borrowed for the call); result 0 or HALE_ESTORE. */
typedef void itsm_done_cb(int result, const struct incident *i, void *data);

/*
 * Applies a person's action. Refused at once, with e saying why and cb
 * never called: HALE_ENOTFOUND for an unknown id, HALE_ESTATE when the
 * lifecycle forbids it, -EINVAL for a missing text or team. Else returns 0
 * and calls cb once the change is durable.
 */
int itsm_act(struct itsm *x, const struct itsm_request *rq, itsm_done_cb *cb, void *data,
             struct err *e);

/*
 * An incident or a request a person opens by hand (a user called the help
 * desk). Strings are borrowed for the call.
 */
struct itsm_opening {
    enum incident_type type;
    const char *title;       /* required, not empty */
    const char *description; /* NULL: none; else the first note of its timeline */
    const char *team;        /* NULL: nobody's yet */
    enum config_impact impact;
    enum incident_severity severity; /* the urgency: critical high, warning medium, info low */
    enum incident_category category;
    const struct labels *labels; /* NULL: none */
    const char *actor;           /* "user:alice" */
    const char *origin;          /* the client's address */
};

/*
 * The fingerprint of an incident opened by hand: "manual:TYPE:TITLE", the
 * title in lower case with its runs of white space made one space, so the
 * same trouble reported twice has the same fingerprint (and may become a
 * problem) and never an event's (16 hex digits), which events resolve. A
 * new string.
 */
char *itsm_manual_fingerprint(enum incident_type type, const char *title);

/*
 * Opens an incident by hand: priority from the matrix, fingerprint from
 * itsm_manual_fingerprint(), "opened by" on its timeline, the action in
 * the audit log. Each call opens a new incident (people mean it), though
 * it may join or open a problem. Refused at once with -EINVAL (e names the
 * field) for an empty title; else returns 0 and calls cb once the
 * incident is durable. Events never touch it: it holds no event's
 * fingerprint and has no service to join.
 */
int itsm_open(struct itsm *x, const struct itsm_opening *o, itsm_done_cb *cb, void *data,
              struct err *e);

/* ---- the runbook executor's hands on incidents ---- */

/*
 * A run of a runbook takes charge of incident id (in_charge true) or lets
 * go of it (false), in memory only: while in charge, the end of its events
 * does not resolve it (the run proves the repair). Letting go of an
 * incident whose events all ended meanwhile resolves it as the events
 * said, so nothing stays open for good (a state entry says so; watchers
 * hear once durable). Returns 0; HALE_ENOTFOUND when the desk does not
 * hold id (closed, or resolved long ago); HALE_ESTATE when taking charge
 * of an incident that is resolved.
 */
int itsm_runbook_charge(struct itsm *x, int64_t id, bool in_charge, struct err *e);

/*
 * A copy of incident id as the desk holds it now, changes not yet durable
 * included (free with incident_fini()): the executor decides on what is
 * true now, not on what the store has caught up with. HALE_ENOTFOUND, or
 * HALE_ESTORE when the store cannot be read.
 */
int itsm_incident_get(struct itsm *x, int64_t id, struct incident *ret);

/*
 * Whether the desk, applying d (a DUPLICATE) of ev, would re-prioritise
 * its incident by d's route: only when ev changes the incident's
 * severity. The engine routes a duplicate only then: routing every one
 * was most of what a duplicate cost. By id, without a copy.
 */
bool itsm_duplicate_needs_route(struct itsm *x, const struct event *ev,
                                const struct engine_decision *d);

/*
 * Whether the events of incident id all ended while a run was in charge
 * of it (and none came back): the trouble is over by its own account, and
 * the incident resolves as they said once the run lets go.
 */
bool itsm_runbook_events_ended(const struct itsm *x, int64_t id);

/* One timeline entry of a run; borrowed for the call. */
struct itsm_entry {
    enum timeline_kind kind;
    const char *text;
    const char *data; /* a JSON object for machines, or NULL */
};

/*
 * Appends the n entries to incident id's timeline, by actor
 * ("runbook:restart-nginx"), in one batch: cb (may be NULL) hears once
 * durable, and the watchers. Refused at once (cb never called):
 * HALE_ENOTFOUND for no such incident.
 */
int itsm_timeline_add(struct itsm *x, int64_t id, const char *actor, const struct itsm_entry *v,
                      size_t n, itsm_done_cb *cb, void *data, struct err *e);

/*
 * A run healed incident id: it is resolved by "hale", with a state entry
 * by actor saying how (text: "healed by run 7 of restart-nginx: verify
 * nginx-http ok after 2 tries"), and the runbook is no longer in charge.
 * Refused at once (cb never called): HALE_ENOTFOUND; HALE_ESTATE when it
 * is resolved or closed already.
 */
int itsm_heal(struct itsm *x, int64_t id, const char *actor, const char *text, itsm_done_cb *cb,
              void *data, struct err *e);

/*
 * A run could not heal incident id, or may not: it is assigned to team
 * (NULL: it keeps its own), a notification entry by actor says why, and
 * the runbook is no longer in charge. It stays open, unless its events all
 * ended meanwhile: then it resolves as they said. A resolved or closed
 * incident only gets the entry. Refused at once (cb never called):
 * HALE_ENOTFOUND.
 */
int itsm_escalate(struct itsm *x, int64_t id, const char *actor, const char *team, const char *why,
                  itsm_done_cb *cb, void *data, struct err *e);

/*
 * The on-call person of team takes incident id (the notifications'
 * weekly rotation, at escalation): its assignee becomes person, with an
 * assignment entry by "hale" ("assigned to bob, on call for ops this
 * week"), WITHOUT acknowledging it: its state stays, so the escalation
 * levels still wait for a person's acknowledgement. A person's own
 * assignment is never overwritten: an incident with an assignee already,
 * or not open, is left as it is (returns 0, nothing written; *assigned
 * false). Refused at once (cb never called): HALE_ENOTFOUND. assigned may
 * be NULL; cb (may be NULL) hears once durable, and the watchers.
 */
int itsm_assign_oncall(struct itsm *x, int64_t id, const char *person, const char *team,
                       bool *assigned, itsm_done_cb *cb, void *data, struct err *e);

/* Hears every durable incident change, for live views. One listener per (cb, data). */
typedef void itsm_watch_cb(const struct incident *i, void *data);
void itsm_watch(struct itsm *x, itsm_watch_cb *cb, void *data);
void itsm_unwatch(struct itsm *x, itsm_watch_cb *cb, void *data);

/* ---- problems ---- */

/* What a person changes on a problem; false or NULL: unchanged. Strings borrowed. */
struct itsm_problem_change {
    bool has_state;
    enum problem_state state;
    const char *root_cause;
    const char *workaround;
    const char *note; /* on the problem's timeline; required to reopen it */
};

/*
 * Whether change c may be applied to problem p, by the problem lifecycle:
 * open -> known_error -> resolved, open -> resolved, resolved -> open
 * (reopened, with a note saying why). A known error has a root cause
 * (given now or before); a resolved problem takes a note or a reopening,
 * nothing else. Returns 0; HALE_ESTATE with e saying why for a move the
 * lifecycle forbids; -EINVAL with e naming the field for a change that
 * lacks something (nothing to change, an empty text, a known error without
 * a root cause, a reopening without a note).
 */
int itsm_problem_change_check(const struct problem *p, const struct itsm_problem_change *c,
                              struct err *e);

struct itsm_problem_request {
    int64_t id;
    const char *actor;  /* "user:alice" */
    const char *origin; /* the client's address */
    struct itsm_problem_change change;
};

/* p is the problem after the change (borrowed for the call); result 0 or HALE_ESTORE. */
typedef void itsm_problem_done_cb(int result, const struct problem *p, void *data);

/*
 * Applies a person's change to a problem: its timeline says what changed,
 * the audit log who did it from where. Refused at once, with e saying why
 * and cb never called: HALE_ENOTFOUND for an unknown id, HALE_ESTATE or
 * -EINVAL as itsm_problem_change_check() says, HALE_ESTATE too for
 * reopening a problem whose fingerprint has another open problem by now.
 * Else returns 0 and calls cb once the change is durable. A resolved
 * problem collects no more incidents: the next ones of its fingerprint
 * open a new problem once they are problem_after again.
 */
int itsm_problem_update(struct itsm *x, const struct itsm_problem_request *rq,
                        itsm_problem_done_cb *cb, void *data, struct err *e);

#endif
