/* SPDX-License-Identifier: MIT */
/*
 * The executor (runbook.h): what starts a run (an incident opened with a
 * runbook, unless a hard guard says no; a person's request), a person's
 * answer at a gate and re-enabling a quarantined runbook, the ledger and
 * relapses, and the one way a run's rows and timeline entries are
 * written. A run's own course is run.c's; its steps, steps.c's.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "net/net.h"
#include "runbook/internal.h"

int64_t runbook__now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

/* ---- writing ---- */

/* A run's change on its way to the store, for the watch once it is durable. */
struct saved {
    struct runbooks *rbs;
    struct store_run rec;
    struct store_run_step step; /* name NULL: none written */
    size_t steps_total;
    store_done_cb *cb; /* NULL: a failure is logged */
    void *data;
};

static void on_saved(int result, void *data)
{
    struct saved *sv = data;
    if (result < 0 && !sv->cb)
        log_error("runbook", NULL, "run %lld: a change was not saved: %s", (long long)sv->rec.id,
                  hale_strerror(result));
    const struct runbooks_options *o = &sv->rbs->o;
    if (result == 0 && o->watch)
        o->watch(o->watch_ctx, &sv->rec, sv->steps_total, sv->step.name ? &sv->step : NULL);
    if (sv->cb)
        sv->cb(result, sv->data);
    store_run_fini(&sv->rec);
    store_run_step_fini(&sv->step);
    free(sv);
}

void runbook__save(struct run *run, bool with_step, store_done_cb *cb, void *data)
{
    struct store_batch *b = store_batch_new();
    store_batch_run(b, &run->rec);
    with_step = with_step && run->cur.name;
    if (with_step)
        store_batch_run_step(b, &run->cur);
    struct saved *sv = xcalloc(1, sizeof(*sv));
    *sv = (struct saved){.rbs = run->rbs, .steps_total = run->rb->n_steps, .cb = cb, .data = data};
    store_run_copy(&sv->rec, &run->rec);
    if (with_step)
        store_run_step_copy(&sv->step, &run->cur);
    store_submit(run->rbs->o.store, b, on_saved, sv);
}

const char *runbook__actor(const struct run *run, char *buf, size_t size)
{
    snprintf(buf, size, "runbook:%s", run->rb->name);
    return buf;
}

void runbook__notes(struct run *run, const struct itsm_entry *v, size_t n)
{
    if (!run->rec.incident_id)
        return;
    char actor[160];
    struct err e = {0};
    if (itsm_timeline_add(run->rbs->o.desk, run->rec.incident_id,
                          runbook__actor(run, actor, sizeof(actor)), v, n, NULL, NULL, &e) < 0)
        log_warn("runbook", NULL, "run %lld: its timeline entry was not written: %s",
                 (long long)run->rec.id, e.msg);
}

void runbook__note(struct run *run, enum timeline_kind kind, const char *fmt, ...)
{
    if (!run->rec.incident_id)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    struct itsm_entry entry = {.kind = kind, .text = text};
    runbook__notes(run, &entry, 1);
    free(text);
}

void runbook__notify_incident(struct runbooks *rbs, int64_t incident_id, const char *team,
                              enum runbooks_notice kind, const char *text)
{
    if (!rbs->o.notify)
        return;
    /* The desk's copy: what a notice says is the incident as it is now, with no store read. */
    struct incident i = {0};
    bool have = incident_id && itsm_incident_get(rbs->o.desk, incident_id, &i) == 0;
    rbs->o.notify(rbs->o.notify_ctx, have ? &i : NULL, team, kind, text);
    if (have)
        incident_fini(&i);
}

void runbook__notify(struct run *run, enum runbooks_notice kind, const char *text)
{
    runbook__notify_incident(run->rbs, run->rec.incident_id, run->rb->team_name, kind, text);
}

static void audit_add(struct runbooks *rbs, const char *actor, const char *origin,
                      const char *action, const char *target, const char *comment)
{
    struct audit_entry a = {
            .time_ms = runbook__now_ms(),
            .actor = (char *)(uintptr_t)actor,
            .action = (char *)(uintptr_t)action,
            .target = (char *)(uintptr_t)target,
            .origin = (char *)(uintptr_t)origin,
    };
    struct strbuf d;
    strbuf_init(&d, 0);
    if (comment && *comment) {
        strbuf_adds(&d, "{\"comment\":");
        if (strbuf_add_json_string(&d, comment) < 0)
            strbuf_adds(&d, "\"\"");
        strbuf_addc(&d, '}');
        a.detail = d.s;
    }
    struct store_batch *b = store_batch_new();
    store_batch_audit(b, &a);
    strbuf_fini(&d);
    store_submit(rbs->o.store, b, NULL, NULL);
}

/* ---- the runs in flight, and the ledger ---- */

struct run *runbook__run_of_incident(struct runbooks *rbs, int64_t id)
{
    for (struct run *r = rbs->runs; r; r = r->next)
        if (r->rec.incident_id == id)
            return r;
    return NULL;
}

static struct run *run_by_id(struct runbooks *rbs, int64_t id)
{
    for (struct run *r = rbs->runs; r; r = r->next)
        if (r->rec.id == id)
            return r;
    return NULL;
}

static struct run *run_on_target(struct runbooks *rbs, const char *runbook, const char *target)
{
    for (struct run *r = rbs->runs; r; r = r->next)
        if (strcmp(r->rb->name, runbook) == 0 && strcmp(r->rec.target, target) == 0)
            return r;
    return NULL;
}

void runbook__unlink(struct runbooks *rbs, struct run *run)
{
    for (struct run **pp = &rbs->runs; *pp; pp = &(*pp)->next)
        if (*pp == run) {
            *pp = run->next;
            run->next = NULL;
            rbs->n_runs--;
            return;
        }
}

void runbook__ledger_put(struct runbooks *rbs, const struct store_run *row,
                         enum run_outcome outcome)
{
    struct ledger_run lr = {
            .id = row->id,
            .runbook = row->runbook,
            .target = row->target,
            .fingerprint = row->fingerprint,
            .incident_id = row->incident_id,
            .automatic = row->automatic,
            .started_ms = row->started_ms,
            .ended_ms = row->ended_ms,
            .outcome = outcome,
            .relapsed = row->relapsed,
    };
    ledger_run_put(rbs->ledger, &lr);
}

const struct ledger *runbooks_ledger(const struct runbooks *rbs)
{
    return rbs->ledger;
}

size_t runbooks_in_flight(const struct runbooks *rbs)
{
    return rbs->n_runs;
}

static double in_flight_value(void *data)
{
    return (double)runbooks_in_flight(data);
}

/* ---- a new run ---- */

static struct config *config_mut(const struct config *c)
{
    return (struct config *)(uintptr_t)c; /* its reference count is not its content */
}

/* A run of rb for incident i (NULL: none) on labels; not yet started, its id given when it is. */
static struct run *run_make(struct runbooks *rbs, const struct config_runbook *rb,
                            const struct incident *i, const struct labels *labels, bool automatic,
                            const char *actor)
{
    struct run *run = runbook__run_new(rbs, rbs->config, rb);
    struct store_run *r = &run->rec;
    r->incident_id = i ? i->id : 0;
    run->opening = i ? i->reopened : 0;
    r->fingerprint = i && i->fingerprint ? xstrdup(i->fingerprint) : NULL;
    for (size_t k = 0; i && k < i->labels.n; k++)
        labels_set(&r->labels, i->labels.v[k].name, i->labels.v[k].value, NULL);
    for (size_t k = 0; labels && k < labels->n; k++)
        labels_set(&r->labels, labels->v[k].name, labels->v[k].value, NULL);
    run->check = i && i->check ? xstrdup(i->check) : NULL;
    struct plan_input in = {.runbook = rb, .labels = &r->labels};
    r->target = xstrdup(plan_target(&in));
    r->automatic = automatic;
    r->actor = xstrdup(actor);
    r->started_ms = runbook__now_ms();
    return run;
}

/* A run that may not go on: recorded suspended, its incident escalated. */
static void suspend(struct run *run, const char *why)
{
    struct runbooks *rbs = run->rbs;
    run->rec.id = store_next_run_id(rbs->o.store);
    run->next = rbs->runs;
    rbs->runs = run;
    rbs->n_runs++;
    runbook__run_end(run, RUN_SUSPENDED, true, why);
}

static void guard_words(const struct config_runbook *rb, const char *target, unsigned count,
                        char *buf, size_t size)
{
    char per[32];
    runbook__duration(rb->guard.per_ms, per, sizeof(per));
    snprintf(buf, size,
             "the guard tripped: %u runs of %s on %s within %s (max_runs %u); hale stops healing "
             "%s and hands it to the team",
             count, rb->name, target, per, rb->guard.max_runs, target);
}

/* ---- incidents ---- */

/* A healed run's incident came back: it relapsed; too many relapses quarantine its runbook. */
static void relapse(struct runbooks *rbs, int64_t run_id)
{
    struct store_run row;
    if (!rbs->reader || store_run_get(rbs->reader, run_id, &row) < 0)
        return;
    row.relapsed = true;
    struct store_batch *b = store_batch_new();
    store_batch_run(b, &row);
    const struct config_runbook *rb = config_runbook_find(rbs->config, row.runbook);
    char *reason = NULL;
    if (rb && ledger_quarantine_due(rbs->ledger, rb, &reason)) {
        int64_t now = runbook__now_ms();
        ledger_quarantine_set(rbs->ledger, rb->name, now, reason);
        struct store_quarantine q = {
                .runbook = (char *)(uintptr_t)rb->name, .since_ms = now, .reason = reason};
        store_batch_quarantine(b, &q);
        log_warn("runbook", NULL,
                 "runbook %s quarantined: %s; its incidents escalate until a person runs "
                 "hale runbooks enable %s",
                 rb->name, reason, rb->name);
    }
    log_info("runbook", NULL, "run %lld of %s relapsed: its incident came back", (long long)run_id,
             row.runbook);
    store_submit(rbs->o.store, b, NULL, NULL);
    free(reason);
    store_run_fini(&row);
}

/* Escalates incident i without a run of runbook (team: the runbook's, may be NULL). */
static void escalate_unrun(struct runbooks *rbs, const char *runbook, const char *team,
                           const struct incident *i, const char *why)
{
    char actor[160];
    snprintf(actor, sizeof(actor), "runbook:%s", runbook);
    char *text = xasprintf("runbook %s not started: %s", runbook, why);
    struct err e = {0};
    if (itsm_escalate(rbs->o.desk, i->id, actor, team, text, NULL, NULL, &e) < 0)
        log_warn("runbook", NULL, "incident %lld: %s", (long long)i->id, e.msg);
    else
        runbook__notify_incident(rbs, i->id, team, RUNBOOKS_NOTICE_ESCALATE, text);
    log_warn("runbook", NULL, "incident %lld: %s", (long long)i->id, text);
    free(text);
}

/* Writes text on incident id's timeline, by runbook, without a run. */
static void note_unrun(struct runbooks *rbs, const char *runbook, int64_t id, const char *text)
{
    char actor[160];
    snprintf(actor, sizeof(actor), "runbook:%s", runbook);
    struct itsm_entry entry = {.kind = TIMELINE_NOTE, .text = text};
    struct err e = {0};
    if (itsm_timeline_add(rbs->o.desk, id, actor, &entry, 1, NULL, NULL, &e) < 0)
        log_warn("runbook", NULL, "incident %lld: %s", (long long)id, e.msg);
    log_info("runbook", NULL, "incident %lld: %s", (long long)id, text);
}

/* Escalates incident i without a run: a hard guard said no. */
static void refuse(struct runbooks *rbs, const struct config_runbook *rb, const struct incident *i,
                   const char *why)
{
    escalate_unrun(rbs, rb->name, rb->team_name, i, why);
}

static bool is_open(const struct incident *i)
{
    return i->state != INCIDENT_RESOLVED && i->state != INCIDENT_CLOSED;
}

/*
 * i was opened or reopened with a runbook (late: found on start-up, its
 * run not started before hale stopped): start it, unless a hard guard says
 * no.
 */
static void start_automatic(struct runbooks *rbs, const struct incident *i, bool late)
{
    const struct config_runbook *rb = config_runbook_find(rbs->config, i->runbook);
    if (!rb) {
        escalate_unrun(rbs, i->runbook, NULL, i, "the configuration has no runbook of that name");
        return;
    }
    const struct runbooks_checks *c = &rbs->o.checks;
    if (i->check && c->is_flapping && c->is_flapping(c->ctx, i->check)) {
        char why[256];
        snprintf(why, sizeof(why), "check %s is flapping: a repair cannot be proved on it",
                 i->check);
        refuse(rbs, rb, i, why);
        return;
    }
    struct run *run = run_make(rbs, rb, i, NULL, true, "hale");
    /* A late start's delay is hale's downtime, not the executor's. */
    run->first_event_ms = late ? 0 : i->reopened ? i->updated_ms : i->opened_ms;
    const struct ledger_quarantine *q = ledger_quarantine_get(rbs->ledger, rb->name);
    unsigned count = 0;
    char why[512];
    if (q) {
        snprintf(why, sizeof(why),
                 "runbook %s is quarantined (%s): hale runbooks enable %s puts it back", rb->name,
                 q->reason, rb->name);
        suspend(run, why);
        return;
    }
    if (ledger_guard_trips(rbs->ledger, rb, run->rec.target, run->rec.started_ms, &count)) {
        guard_words(rb, run->rec.target, count, why, sizeof(why));
        suspend(run, why);
        return;
    }
    struct run *other = run_on_target(rbs, rb->name, run->rec.target);
    if (other) {
        /* One run per target: this incident's waits for that one to end. */
        snprintf(why, sizeof(why), "run %lld of %s is in flight on target %s",
                 (long long)other->rec.id, rb->name, run->rec.target);
        if (runbook__queue_add(rbs, i, rb->name, run->rec.target)) {
            char *text = xasprintf("runbook %s queued: %s; this incident's run starts when it "
                                   "ends",
                                   rb->name, why);
            note_unrun(rbs, rb->name, i->id, text);
            free(text);
        } else {
            size_t len = strlen(why);
            snprintf(why + len, sizeof(why) - len, ", and %u incidents wait for their runs already",
                     RUNBOOK_QUEUE_MAX);
            refuse(rbs, rb, i, why);
        }
        runbook__run_free(run);
        return;
    }
    run->rec.id = store_next_run_id(rbs->o.store);
    runbook__run_start(run, NULL, NULL);
}

/* ---- incidents waiting for their target ---- */

bool runbook__queue_add(struct runbooks *rbs, const struct incident *i, const char *runbook,
                        const char *target)
{
    for (size_t k = 0; k < rbs->n_queue; k++)
        if (rbs->queue[k].incident_id == i->id)
            return true;
    if (rbs->n_queue == RUNBOOK_QUEUE_MAX)
        return false;
    rbs->queue = xreallocarray(rbs->queue, rbs->n_queue + 1, sizeof(*rbs->queue));
    rbs->queue[rbs->n_queue++] = (struct runbook__queued){
            .incident_id = i->id, .runbook = xstrdup(runbook), .target = xstrdup(target)};
    return true;
}

static void queued_remove(struct runbooks *rbs, size_t k)
{
    free(rbs->queue[k].runbook);
    free(rbs->queue[k].target);
    memmove(&rbs->queue[k], &rbs->queue[k + 1], (rbs->n_queue - k - 1) * sizeof(*rbs->queue));
    rbs->n_queue--;
}

/* The queued incidents whose target is free start, oldest first, as the desk has them now. */
static void on_queue_turn(uv_timer_t *t)
{
    struct runbooks *rbs = t->data;
    for (size_t k = 0; k < rbs->n_queue && !rbs->stopping;) {
        struct runbook__queued *q = &rbs->queue[k];
        if (run_on_target(rbs, q->runbook, q->target)) {
            k++;
            continue;
        }
        int64_t id = q->incident_id;
        queued_remove(rbs, k);
        struct incident i = {0};
        if (itsm_incident_get(rbs->o.desk, id, &i) < 0)
            continue;
        runbook__seen(rbs, i.id, i.reopened); /* this opening is dealt with here */
        if (!is_open(&i) || !i.runbook)
            log_info("runbook", NULL, "incident %lld resolved while its run waited: none starts",
                     (long long)id);
        else if (runbook__run_of_incident(rbs, id))
            log_info("runbook", NULL, "incident %lld has a run in flight already: none starts",
                     (long long)id);
        else
            start_automatic(rbs, &i, false);
        incident_fini(&i);
    }
}

void runbook__queue_kick(struct runbooks *rbs)
{
    if (rbs->n_queue && rbs->queue_timer && !rbs->stopping)
        uv_timer_start(rbs->queue_timer, on_queue_turn, 0, 0);
}

/*
 * i reopened while run works on it. Before its remediation the run goes on
 * for the new opening; once it has taken charge (it repairs what was),
 * the new opening gets its run when this one ends, if i is open then.
 */
static void reopened_during(struct runbooks *rbs, struct run *run, const struct incident *i)
{
    run->incident_resolved = false;
    run->opening = i->reopened;
    runbook__seen(rbs, i->id, i->reopened);
    if (!run->in_charge)
        return;
    char *text;
    if (runbook__queue_add(rbs, i, run->rb->name, run->rec.target))
        text = xasprintf("reopened while run %lld of %s was at work: its run starts when run "
                         "%lld ends, if it is still open then",
                         (long long)run->rec.id, run->rb->name, (long long)run->rec.id);
    else
        text = xasprintf("reopened while run %lld of %s was at work, and %u incidents wait for "
                         "their runs already: none starts for this opening",
                         (long long)run->rec.id, run->rb->name, RUNBOOK_QUEUE_MAX);
    note_unrun(rbs, run->rb->name, i->id, text);
    free(text);
}

void runbooks_incident_changed(struct runbooks *rbs, const struct incident *i)
{
    if (rbs->stopping)
        return;
    runbook__seen_update(rbs, i);
    struct run *run = runbook__run_of_incident(rbs, i->id);
    if (run) {
        if (!is_open(i) && !run->incident_resolved) {
            run->incident_resolved = true;
            /* The question at the gate is moot now. */
            if (run->phase == RUN_PHASE_GATE)
                runbook__run_end(run, RUN_CANCELED, false,
                                 "its incident resolved while it waited for approval");
        } else if (is_open(i) && i->reopened != run->opening) {
            reopened_during(rbs, run, i);
        }
        return;
    }
    if (i->state != INCIDENT_NEW || runbook__seen(rbs, i->id, i->reopened))
        return;
    int64_t relapsed = ledger_incident_opened(rbs->ledger, rbs->config, i->fingerprint,
                                              i->reopened ? i->updated_ms : i->opened_ms);
    if (relapsed)
        relapse(rbs, relapsed);
    if (i->runbook)
        start_automatic(rbs, i, false);
}

/* An opening found on start-up without its run: it starts now, or is escalated saying why not. */
static void late_opening(struct runbooks *rbs, const struct incident *i)
{
    const char *late = "hale restarted before its run started";
    if (i->state != INCIDENT_NEW) {
        char why[512];
        snprintf(why, sizeof(why),
                 "%s, and a person has taken the incident (%s) since: hale run %s --incident %lld "
                 "runs it by hand",
                 late, incident_state_name(i->state), i->runbook, (long long)i->id);
        const struct config_runbook *rb = config_runbook_find(rbs->config, i->runbook);
        escalate_unrun(rbs, i->runbook, rb ? rb->team_name : NULL, i, why);
        return;
    }
    if (!config_runbook_find(rbs->config, i->runbook)) {
        char why[256];
        snprintf(why, sizeof(why), "%s, and the configuration has no runbook of that name now",
                 late);
        escalate_unrun(rbs, i->runbook, NULL, i, why);
        return;
    }
    char *text = xasprintf("%s: it starts now", late);
    note_unrun(rbs, i->runbook, i->id, text);
    free(text);
    start_automatic(rbs, i, true);
}

void runbook__late_openings(struct runbooks *rbs)
{
    for (size_t k = 0; k < rbs->n_late && !rbs->stopping; k++) {
        struct incident i = {0};
        if (itsm_incident_get(rbs->o.desk, rbs->late[k], &i) < 0)
            continue;
        /* Its change since the start may have dealt with it already. */
        if (is_open(&i) && i.runbook && !runbook__run_of_incident(rbs, i.id) &&
            !runbook__seen(rbs, i.id, i.reopened)) {
            int64_t relapsed = ledger_incident_opened(rbs->ledger, rbs->config, i.fingerprint,
                                                      i.reopened ? i.updated_ms : i.opened_ms);
            if (relapsed)
                relapse(rbs, relapsed);
            late_opening(rbs, &i);
        }
        incident_fini(&i);
    }
    free(rbs->late);
    rbs->late = NULL;
    rbs->n_late = 0;
}

/* ---- people's requests ---- */

struct request {
    runbooks_done_cb *cb;
    void *data;
    int64_t run_id;
};

static void on_request_durable(int result, void *data)
{
    struct request *rq = data;
    if (result < 0)
        log_error("runbook", NULL, "run %lld: a change was not saved: %s", (long long)rq->run_id,
                  hale_strerror(result));
    if (rq->cb)
        rq->cb(result, rq->run_id, rq->data);
    free(rq);
}

static struct request *request_new(runbooks_done_cb *cb, void *data, int64_t run_id)
{
    struct request *rq = xcalloc(1, sizeof(*rq));
    *rq = (struct request){cb, data, run_id};
    return rq;
}

int runbooks_start(struct runbooks *rbs, const struct runbooks_start *rq, runbooks_done_cb *cb,
                   void *data, int64_t *ret_run_id, struct err *e)
{
    if (rbs->stopping)
        return err_setf(e, -ESHUTDOWN, "hale is stopping: start the run once it is back");
    const struct config_runbook *rb = config_runbook_find(rbs->config, rq->runbook);
    if (!rb)
        return err_setf(e, HALE_ENOTFOUND,
                        "no runbook %s: hale runbooks list shows those there are", rq->runbook);
    struct incident i = {0};
    if (rq->incident_id) {
        /* One run at a time on an incident: two would race to repair, heal and escalate it. */
        struct run *busy = runbook__run_of_incident(rbs, rq->incident_id);
        if (busy)
            return err_setf(e, HALE_ESTATE,
                            "run %lld is in flight on incident %lld: follow it with hale runs "
                            "show %lld, or wait for it to end",
                            (long long)busy->rec.id, (long long)rq->incident_id,
                            (long long)busy->rec.id);
        int r = itsm_incident_get(rbs->o.desk, rq->incident_id, &i);
        if (r == HALE_ENOTFOUND)
            return err_setf(e, r, "no incident %lld", (long long)rq->incident_id);
        if (r < 0)
            return err_setf(e, r, "cannot read incident %lld", (long long)rq->incident_id);
    }
    char *actor = xstrdup(rq->actor ? rq->actor : "user:unknown");
    struct run *run = run_make(rbs, rb, rq->incident_id ? &i : NULL, rq->labels, false, actor);
    incident_fini(&i);
    struct run *other = run_on_target(rbs, rb->name, run->rec.target);
    unsigned count = 0;
    int r = 0;
    if (other)
        r = err_setf(e, HALE_ESTATE,
                     "run %lld of %s is in flight on target %s: follow it with hale runs show "
                     "%lld, or wait for it to end",
                     (long long)other->rec.id, rb->name, run->rec.target, (long long)other->rec.id);
    else if (ledger_guard_trips(rbs->ledger, rb, run->rec.target, run->rec.started_ms, &count)) {
        char why[512];
        guard_words(rb, run->rec.target, count, why, sizeof(why));
        r = err_setf(e, HALE_ESTATE, "%s; run it again once the window has passed", why);
    }
    if (r < 0) {
        runbook__run_free(run);
        free(actor);
        return r;
    }
    run->rec.id = store_next_run_id(rbs->o.store);
    /* A person's run deals with the opening a queued run waited for. */
    for (size_t k = 0; rq->incident_id && k < rbs->n_queue; k++)
        if (rbs->queue[k].incident_id == rq->incident_id)
            queued_remove(rbs, k);
    char target[48];
    snprintf(target, sizeof(target), "run:%lld", (long long)run->rec.id);
    audit_add(rbs, actor, rq->origin, "run.start", target, NULL);
    free(actor);
    *ret_run_id = run->rec.id;
    runbook__run_start(run, on_request_durable, request_new(cb, data, run->rec.id));
    return 0;
}

int runbooks_decide(struct runbooks *rbs, int64_t run_id, bool approve, const char *actor,
                    const char *origin, const char *comment, runbooks_done_cb *cb, void *data,
                    struct err *e)
{
    if (rbs->stopping)
        return err_setf(e, -ESHUTDOWN,
                        "hale is stopping: run %lld's gate waits on in the store; answer it once "
                        "hale is back",
                        (long long)run_id);
    struct run *run = run_by_id(rbs, run_id);
    if (!run) {
        struct store_run row;
        int r = rbs->reader ? store_run_get(rbs->reader, run_id, &row) : HALE_ENOTFOUND;
        if (r == HALE_ENOTFOUND)
            return err_setf(e, r, "no run %lld", (long long)run_id);
        if (r < 0)
            return err_setf(e, r, "cannot read run %lld", (long long)run_id);
        enum run_outcome o;
        if (run_outcome_parse(row.outcome, &o) < 0 || !run_outcome_is_final(o))
            /* It ended just now (its gate expired, or was answered); its row is on its way. */
            r = err_setf(e, HALE_ESTATE,
                         "run %lld no longer waits for approval: its gate closed just now; GET "
                         "/api/v1/runs/%lld shows how it ended",
                         (long long)run_id, (long long)run_id);
        else if (o == RUN_EXPIRED)
            r = err_setf(e, HALE_ESTATE,
                         "run %lld no longer waits for approval: nobody answered its gate in "
                         "time, so it expired and its incident went to the team",
                         (long long)run_id);
        else
            r = err_setf(e, HALE_ESTATE, "run %lld ended %s: it no longer waits for approval",
                         (long long)run_id, row.outcome);
        store_run_fini(&row);
        return r;
    }
    if (run->phase != RUN_PHASE_GATE)
        return err_setf(e, HALE_ESTATE, "run %lld is %s: it does not wait for approval",
                        (long long)run_id, run_outcome_name(run->outcome));
    free(run->rec.decided_by);
    run->rec.decided_by = xstrdup(actor ? actor : "user:unknown");
    run->rec.decided_ms = runbook__now_ms();
    free(run->rec.decision);
    run->rec.decision = xstrdup(approve ? "approved" : "rejected");
    free(run->rec.comment);
    run->rec.comment = comment && *comment ? xstrdup(comment) : NULL;
    char target[48];
    snprintf(target, sizeof(target), "run:%lld", (long long)run_id);
    audit_add(rbs, run->rec.decided_by, origin, approve ? "run.approve" : "run.reject", target,
              comment);
    runbook__save(run, false, on_request_durable, request_new(cb, data, run_id));
    runbook__gate_decided(run, approve);
    return 0;
}

int runbooks_enable(struct runbooks *rbs, const char *runbook, const char *actor,
                    const char *origin, runbooks_done_cb *cb, void *data, struct err *e)
{
    if (rbs->stopping)
        return err_setf(e, -ESHUTDOWN, "hale is stopping: enable runbook %s once it is back",
                        runbook);
    const struct config_runbook *rb = config_runbook_find(rbs->config, runbook);
    if (!rb)
        return err_setf(e, HALE_ENOTFOUND, "no runbook %s", runbook);
    const struct ledger_quarantine *q = ledger_quarantine_get(rbs->ledger, rb->name);
    if (!q)
        return err_setf(e, HALE_ESTATE, "runbook %s is not quarantined", rb->name);
    int64_t now = runbook__now_ms();
    struct store_quarantine row = {.runbook = xstrdup(rb->name),
                                   .since_ms = q->since_ms,
                                   .reason = xstrdup(q->reason),
                                   .lifted_ms = now,
                                   .lifted_by = xstrdup(actor ? actor : "user:unknown")};
    ledger_quarantine_lift(rbs->ledger, rb->name, now);
    char target[300];
    snprintf(target, sizeof(target), "runbook:%s", rb->name);
    audit_add(rbs, row.lifted_by, origin, "runbook.enable", target, NULL);
    struct store_batch *b = store_batch_new();
    store_batch_quarantine(b, &row);
    store_submit(rbs->o.store, b, on_request_durable, request_new(cb, data, 0));
    log_info("runbook", NULL, "runbook %s enabled again by %s", rb->name, row.lifted_by);
    store_quarantine_fini(&row);
    return 0;
}

/* ---- the executor ---- */

static const double delay_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                      0.25,  0.5,    1,     2.5,  5,     10};

static void metrics_register(struct runbooks *rbs, struct metrics *m)
{
    rbs->m_runs = metrics_counter_register(m, "hale_runs_total",
                                           "Runbook runs ended, by runbook and outcome.",
                                           (const char *[]){"runbook", "outcome", NULL});
    metrics_gauge_fn_register(m, "hale_runs_in_flight",
                              "Runbook runs running or waiting at an approval gate.",
                              in_flight_value, rbs);
    rbs->m_delay = metrics_histogram_register(
            m, "hale_run_start_delay_seconds",
            "From the event that opened an incident received to its run's first step started "
            "(its process spawned).",
            NULL, delay_bounds, sizeof(delay_bounds) / sizeof(delay_bounds[0]));
}

int runbooks_new(const struct runbooks_options *o, struct runbooks **ret, struct err *e)
{
    struct runbooks *rbs = xcalloc(1, sizeof(*rbs));
    rbs->o = *o;
    rbs->config = config_ref(config_mut(o->config));
    rbs->net = o->net;
    rbs->ledger = ledger_new();
    rbs->queue_timer = xcalloc(1, sizeof(*rbs->queue_timer));
    uv_timer_init(o->uv, rbs->queue_timer);
    rbs->queue_timer->data = rbs;
    if (o->metrics)
        metrics_register(rbs, o->metrics);
    int r = store_reader_open(o->store, &rbs->reader, e);
    if (r == 0)
        r = runbook__recover(rbs, e);
    if (r < 0) {
        runbooks_stop(rbs);
        runbooks_free(rbs);
        return r;
    }
    *ret = rbs;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

void runbooks_stop(struct runbooks *rbs)
{
    if (!rbs || rbs->stopping)
        return;
    rbs->stopping = true;
    if (rbs->late_timer) {
        uv_close((uv_handle_t *)rbs->late_timer, on_timer_closed);
        rbs->late_timer = NULL;
    }
    if (rbs->queue_timer) {
        uv_close((uv_handle_t *)rbs->queue_timer, on_timer_closed);
        rbs->queue_timer = NULL;
    }
    while (rbs->runs) {
        struct run *run = rbs->runs;
        if (run->phase == RUN_PHASE_GATE) {
            /* It waits on in the store; the next start resumes it. */
            runbook__unlink(rbs, run);
            runbook__step_abort(run);
            runbook__run_free(run);
            continue;
        }
        runbook__run_end(run, RUN_INTERRUPTED, true, "hale stopped while it ran");
    }
    runbook__reaps_stop(rbs);
    store_reader_close(rbs->reader);
    rbs->reader = NULL;
}

void runbook__child_gone(struct runbooks *rbs)
{
    rbs->children--;
    if (rbs->children == 0 && rbs->idle_cb) {
        void (*cb)(void *) = rbs->idle_cb;
        rbs->idle_cb = NULL;
        cb(rbs->idle_data);
    }
}

void runbooks_on_idle(struct runbooks *rbs, void (*done)(void *data), void *data)
{
    if (!rbs || rbs->children == 0) {
        done(data);
        return;
    }
    rbs->idle_cb = done;
    rbs->idle_data = data;
}

void runbooks_free(struct runbooks *rbs)
{
    if (!rbs)
        return;
    runbooks_stop(rbs);
    if (!rbs->o.net)
        net_multi_unref(rbs->net);
    ledger_free(rbs->ledger);
    config_unref(rbs->config);
    runbook__seen_free(rbs);
    free(rbs->late);
    while (rbs->n_queue)
        queued_remove(rbs, rbs->n_queue - 1);
    free(rbs->queue);
    free(rbs);
}

void runbooks_set_config(struct runbooks *rbs, const struct config *config)
{
    struct config *old = rbs->config;
    rbs->config = config_ref(config_mut(config));
    config_unref(old);
}
