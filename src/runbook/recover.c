/* SPDX-License-Identifier: MIT */
/*
 * The executor's start-up: what the store kept is loaded back, so a
 * restart forgets nothing. The recent runs feed the ledger (guard counts,
 * statistics, relapses), quarantines are set again (or stay lifted), a run
 * found waiting at an approval gate waits on with its deadline, and a run
 * found running was cut short by a stop or a crash: it is marked
 * interrupted and its incident escalated, never silently forgotten, and
 * the process group a crash left of its step is killed (when its leader
 * is still the process the step started, by its start time).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "runbook/internal.h"

#define DAY_MS        (24ll * 3600 * 1000)
/* How often a group being killed is looked at again. */
#define REAP_EVERY_MS 50u

/*
 * The run's time spent before it stopped at its gate (the last row), as
 * its clock counted it: from its start to the gate, less the time it
 * waited at earlier gates (a gate's time is its own).
 */
static uint64_t spent_of(const struct run *run, const struct store_run_step *v, size_t n)
{
    if (!n || v[n - 1].started_ms <= run->rec.started_ms)
        return 0;
    int64_t spent = v[n - 1].started_ms - run->rec.started_ms;
    for (size_t k = 0; k + 1 < n; k++)
        if (strcmp(v[k].action, "approve") == 0 && v[k].ended_ms > v[k].started_ms)
            spent -= v[k].ended_ms - v[k].started_ms;
    return spent > 0 ? (uint64_t)spent : 0;
}

/* The step rows of a run: the outcome each step got, the last row and the highest seq. */
static int steps_load(struct runbooks *rbs, struct run *run)
{
    struct store_run_step *v = NULL;
    size_t n = 0;
    int r = store_run_steps_list(rbs->reader, run->rec.id, &v, &n);
    if (r < 0)
        return r;
    run->spent_ms = spent_of(run, v, n);
    for (size_t k = 0; k < n; k++) {
        if (v[k].step < run->rb->n_steps) {
            enum plan_outcome o = strcmp(v[k].outcome, "succeeded") == 0 ? PLAN_SUCCEEDED
                                  : strcmp(v[k].outcome, "skipped") == 0 ? PLAN_SKIPPED
                                  : strcmp(v[k].outcome, "failed") == 0  ? PLAN_FAILED
                                                                         : PLAN_PENDING;
            run->outcomes[v[k].step] = o;
        }
        if (v[k].seq > run->seq)
            run->seq = v[k].seq;
    }
    if (n) {
        store_run_step_fini(&run->cur);
        run->cur = v[n - 1];
        n--;
    }
    for (size_t k = 0; k < n; k++)
        store_run_step_fini(&v[k]);
    free(v);
    return 0;
}

/* A run found at its gate waits on, when its runbook still has that gate. */
static bool resume(struct runbooks *rbs, const struct store_run *row)
{
    const struct config_runbook *rb = config_runbook_find(rbs->config, row->runbook);
    if (!rb || row->gate_step < 0 || (size_t)row->gate_step >= rb->n_steps ||
        rb->steps[row->gate_step].action != CONFIG_STEP_APPROVE)
        return false;
    struct run *run = runbook__run_new(rbs, rbs->config, rb);
    store_run_fini(&run->rec);
    store_run_copy(&run->rec, row);
    run->outcome = RUN_WAITING;
    run->step = (size_t)row->gate_step;
    if (steps_load(rbs, run) < 0) {
        runbook__run_free(run);
        return false;
    }
    run->attempt = run->cur.attempt ? run->cur.attempt : 1;
    struct incident i = {0};
    if (row->incident_id && store_incident_get(rbs->reader, row->incident_id, &i) == 0) {
        run->check = i.check ? xstrdup(i.check) : NULL;
        run->opening = i.reopened;
        bool open = i.state != INCIDENT_RESOLVED && i.state != INCIDENT_CLOSED;
        run->incident_resolved = !open;
        /* It had taken charge when a remediate step came before the gate. */
        for (size_t k = 0; open && k < run->step; k++)
            if (rb->steps[k].purpose == CONFIG_PURPOSE_REMEDIATE &&
                run->outcomes[k] != PLAN_SKIPPED && run->outcomes[k] != PLAN_PENDING)
                run->in_charge = itsm_runbook_charge(rbs->o.desk, i.id, true, NULL) == 0;
        incident_fini(&i);
    }
    if (run->incident_resolved) {
        /* The question at its gate is moot: as when it resolves while hale runs. */
        runbook__run_resume_gate(run);
        runbook__run_end(run, RUN_CANCELED, false,
                         "its incident was resolved while hale was down and the run waited for "
                         "approval");
        return true;
    }
    log_info("runbook", NULL, "run %lld of %s waits on for approval (found on start-up)",
             (long long)row->id, row->runbook);
    runbook__run_resume_gate(run);
    return true;
}

/* ---- the process groups a crash left ---- */

static int64_t mono_ms(void)
{
    return (int64_t)clock_mono_ms(&clock_system);
}

/* Whether pid is still the process the step started: its own group, and born when it was. */
static bool still_the_step(pid_t pid, uint64_t start)
{
    struct proc_stat st;
    return pid > 1 && start && proc_stat_read(pid, &st) == 0 && st.state != 'Z' && st.pgrp == pid &&
           st.starttime == start;
}

static void reap_closed(uv_handle_t *h)
{
    struct runbook__reap *rp = (struct runbook__reap *)h; /* the timer is its first member */
    free(rp->actor);
    free(rp->step_words);
    free(rp);
}

static void reap_unlink(struct runbook__reap *rp)
{
    for (struct runbook__reap **pp = &rp->rbs->reaps; *pp; pp = &(*pp)->next)
        if (*pp == rp) {
            *pp = rp->next;
            break;
        }
    uv_close((uv_handle_t *)&rp->timer, reap_closed);
}

/* The group is gone (or survived SIGKILL: gone says which): the incident hears of it. */
static void reap_done(struct runbook__reap *rp, bool gone)
{
    struct runbooks *rbs = rp->rbs;
    char *text = gone ? xasprintf("%s: its process group (pid %d), left by the stop, was killed",
                                  rp->step_words, (int)rp->pgid)
                      : xasprintf("%s: its process group (pid %d), left by the stop, survived "
                                  "SIGKILL (a process stuck in the kernel): look at it on the host",
                                  rp->step_words, (int)rp->pgid);
    if (gone)
        log_info("runbook", NULL, "%s", text);
    else
        log_warn("runbook", NULL, "%s", text);
    struct itsm_entry entry = {.kind = TIMELINE_NOTE, .text = text};
    struct err e = {0};
    if (rp->incident_id &&
        itsm_timeline_add(rbs->o.desk, rp->incident_id, rp->actor, &entry, 1, NULL, NULL, &e) < 0)
        log_warn("runbook", NULL, "incident %lld: %s", (long long)rp->incident_id, e.msg);
    free(text);
    reap_unlink(rp);
}

static void on_reap_timer(uv_timer_t *t)
{
    struct runbook__reap *rp = (struct runbook__reap *)t;
    if (!proc_group_is_alive(rp->pgid)) {
        reap_done(rp, true);
        return;
    }
    int64_t since = mono_ms() - rp->term_ms;
    if (!rp->killed && since >= (int64_t)PROC_KILL_GRACE_MS) {
        kill(-rp->pgid, SIGKILL);
        rp->killed = true;
    } else if (rp->killed && since >= (int64_t)(PROC_KILL_GRACE_MS + PROC_PROBE_MS)) {
        reap_done(rp, false);
        return;
    }
    uv_timer_start(&rp->timer, on_reap_timer, REAP_EVERY_MS, 0);
}

/*
 * Step row s of run row was running when hale died: its process group,
 * when its leader is still the process the step started, gets SIGTERM
 * now and SIGKILL after the grace, as at a step's timeout.
 */
static void reap_start(struct runbooks *rbs, const struct store_run *row,
                       const struct store_run_step *s)
{
    pid_t pid = (pid_t)s->pid;
    if (s->pid <= 1 || !still_the_step(pid, s->pid_start))
        return; /* gone with hale, or its pid is another process's now */
    if (kill(-pid, SIGTERM) < 0 && errno == ESRCH)
        return;
    const struct config_runbook *rb = config_runbook_find(rbs->config, row->runbook);
    struct runbook__reap *rp = xcalloc(1, sizeof(*rp));
    rp->rbs = rbs;
    rp->pgid = pid;
    rp->incident_id = row->incident_id;
    rp->actor = xasprintf("runbook:%s", row->runbook);
    rp->step_words = rb && s->step < rb->n_steps
                             ? xasprintf("step %u/%zu %s", s->step + 1, rb->n_steps, s->name)
                             : xasprintf("step %s", s->name);
    rp->term_ms = mono_ms();
    uv_timer_init(rbs->o.uv, &rp->timer);
    rp->next = rbs->reaps;
    rbs->reaps = rp;
    log_warn("runbook", NULL, "run %lld: %s outlived hale (pid %d): its process group is killed",
             (long long)row->id, rp->step_words, (int)pid);
    uv_timer_start(&rp->timer, on_reap_timer, REAP_EVERY_MS, 0);
}

void runbook__reaps_stop(struct runbooks *rbs)
{
    while (rbs->reaps) {
        struct runbook__reap *rp = rbs->reaps;
        kill(-rp->pgid, SIGKILL); /* hale stops: no group of a step may outlive it */
        reap_unlink(rp);
    }
}

/* A run found running: cut short by a stop or a crash. */
static void interrupt(struct runbooks *rbs, struct store_run *row)
{
    int64_t now = runbook__now_ms();
    const char *why = "hale stopped while it ran (found on start-up)";
    free(row->outcome);
    row->outcome = xstrdup(run_outcome_name(RUN_INTERRUPTED));
    free(row->reason);
    row->reason = xstrdup(why);
    row->ended_ms = now;
    struct store_batch *b = store_batch_new();
    store_batch_run(b, row);
    struct store_run_step *v = NULL;
    size_t n = 0;
    if (store_run_steps_list(rbs->reader, row->id, &v, &n) == 0) {
        for (size_t k = 0; k < n; k++) {
            if (strcmp(v[k].outcome, "running") == 0) {
                reap_start(rbs, row, &v[k]);
                free(v[k].outcome);
                v[k].outcome = xstrdup("canceled");
                v[k].ended_ms = now;
                free(v[k].reason);
                v[k].reason = xstrdup(why);
                store_batch_run_step(b, &v[k]);
            }
            store_run_step_fini(&v[k]);
        }
        free(v);
    }
    store_submit(rbs->o.store, b, NULL, NULL);
    runbook__ledger_put(rbs, row, RUN_INTERRUPTED);
    if (rbs->m_runs)
        metrics_counter_inc(rbs->m_runs,
                            (const char *[]){row->runbook, run_outcome_name(RUN_INTERRUPTED)});
    log_warn("runbook", NULL, "run %lld of %s was interrupted: %s", (long long)row->id,
             row->runbook, why);
    if (!row->incident_id)
        return;
    const struct config_runbook *rb = config_runbook_find(rbs->config, row->runbook);
    char actor[160];
    snprintf(actor, sizeof(actor), "runbook:%s", row->runbook);
    char *text =
            xasprintf("run %lld of %s was interrupted: %s", (long long)row->id, row->runbook, why);
    struct err e = {0};
    if (itsm_escalate(rbs->o.desk, row->incident_id, actor, rb ? rb->team_name : NULL, text, NULL,
                      NULL, &e) < 0)
        log_warn("runbook", NULL, "run %lld: incident %lld not escalated: %s", (long long)row->id,
                 (long long)row->incident_id, e.msg);
    else
        runbook__notify_incident(rbs, row->incident_id, rb ? rb->team_name : NULL,
                                 RUNBOOKS_NOTICE_ESCALATE, text);
    free(text);
}

static int runs_load(struct runbooks *rbs, struct err *e)
{
    struct store_run *v = NULL;
    size_t n = 0;
    int64_t since = runbook__now_ms() - RUNBOOK_LEDGER_DAYS * DAY_MS;
    int r = store_runs_since(rbs->reader, since, &v, &n);
    if (r < 0)
        return err_setf(e, r, "cannot read the runs of runbooks");
    for (size_t k = 0; k < n; k++) {
        enum run_outcome o;
        if (run_outcome_parse(v[k].outcome, &o) < 0)
            o = RUN_INTERRUPTED;
        if (run_outcome_is_final(o))
            runbook__ledger_put(rbs, &v[k], o);
        else if (o != RUN_WAITING || !resume(rbs, &v[k]))
            interrupt(rbs, &v[k]);
        store_run_fini(&v[k]);
    }
    free(v);
    return 0;
}

static int quarantines_load(struct runbooks *rbs, struct err *e)
{
    struct store_quarantine *v = NULL;
    size_t n = 0;
    int r = store_quarantines_list(rbs->reader, &v, &n);
    if (r < 0)
        return err_setf(e, r, "cannot read the quarantines of runbooks");
    for (size_t k = 0; k < n; k++) {
        if (v[k].lifted_ms)
            ledger_quarantine_lift(rbs->ledger, v[k].runbook, v[k].lifted_ms);
        else
            ledger_quarantine_set(rbs->ledger, v[k].runbook, v[k].since_ms, v[k].reason);
        store_quarantine_fini(&v[k]);
    }
    free(v);
    return 0;
}

/* The words that begin the desk's state entry of a reopening (itsm/apply.c's reopen()). */
#define REOPEN_WORDS "resolved -> new"

/* Whether the newest run of incident id started at or after since. */
static int run_since(struct runbooks *rbs, int64_t id, int64_t since, bool *ret)
{
    struct store_run_query q = {.incident_id = id, .limit = 1};
    struct store_run *runs = NULL;
    size_t m = 0;
    int r = store_runs_list(rbs->reader, &q, &runs, &m);
    if (r < 0)
        return r;
    *ret = m > 0 && runs[0].started_ms >= since;
    for (size_t k = 0; k < m; k++)
        store_run_fini(&runs[k]);
    free(runs);
    return 0;
}

/*
 * Whether the current opening of i (its opening, or its last reopening)
 * was dealt with: a run of i started since, or the executor escalated it
 * (a refusal: flapping, quarantine, guard, a runbook gone). The timeline
 * says when the opening was; the runs say whether one started since.
 */
static int opening_dealt(struct runbooks *rbs, const struct incident *i, bool *ret)
{
    /* Never reopened, it opened at opened_ms: a run since says so without reading its timeline. */
    bool checked = false;
    int r;
    if (!i->reopened) {
        if ((r = run_since(rbs, i->id, i->opened_ms, ret)) < 0 || *ret)
            return r;
        checked = true;
    }
    struct timeline_entry *v = NULL;
    size_t n = 0;
    if ((r = store_timeline_list(rbs->reader, i->id, &v, &n)) < 0)
        return r;
    int64_t since = i->opened_ms;
    bool escalated = false;
    for (size_t k = 0; k < n; k++) {
        if (v[k].kind == TIMELINE_STATE && v[k].text &&
            strncmp(v[k].text, REOPEN_WORDS, strlen(REOPEN_WORDS)) == 0) {
            since = v[k].time_ms;
            escalated = false;
        } else if (v[k].kind == TIMELINE_NOTIFICATION && v[k].actor &&
                   strncmp(v[k].actor, "runbook:", 8) == 0) {
            escalated = true;
        }
        timeline_entry_fini(&v[k]);
    }
    free(v);
    if (escalated) {
        *ret = true;
        return 0;
    }
    if (checked && since == i->opened_ms)
        return 0; /* *ret: no run since, as read above */
    return run_since(rbs, i->id, since, ret);
}

static void late_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void on_late_timer(uv_timer_t *t)
{
    struct runbooks *rbs = t->data;
    uv_close((uv_handle_t *)t, late_timer_closed);
    rbs->late_timer = NULL;
    runbook__late_openings(rbs);
}

/*
 * The incidents open now: an opening dealt with before starts nothing
 * more; one with a runbook that got neither a run nor a refusal (hale
 * stopped, or died, between the incident and its run) is handled on the
 * loop's first turn, when the checks' runner is up.
 */
static int openings_load(struct runbooks *rbs, struct err *e)
{
    struct store_incident_query q = {
            .states = 1u << INCIDENT_NEW | 1u << INCIDENT_ACKNOWLEDGED | 1u << INCIDENT_IN_PROGRESS,
    };
    struct incident *v = NULL;
    size_t n = 0;
    int r = store_incidents_list(rbs->reader, &q, &v, &n);
    if (r < 0)
        return err_setf(e, r, "cannot read the open incidents");
    for (size_t k = 0; k < n; k++) {
        bool dealt = true;
        if (r == 0 && v[k].runbook && (r = opening_dealt(rbs, &v[k], &dealt)) < 0)
            err_setf(e, r, "cannot read what incident %lld had", (long long)v[k].id);
        if (dealt) {
            runbook__seen_mark(rbs, v[k].id, v[k].reopened);
        } else {
            rbs->late = xreallocarray(rbs->late, rbs->n_late + 1, sizeof(*rbs->late));
            rbs->late[rbs->n_late++] = v[k].id;
        }
        incident_fini(&v[k]);
    }
    free(v);
    if (r == 0 && rbs->n_late) {
        rbs->late_timer = xcalloc(1, sizeof(*rbs->late_timer));
        uv_timer_init(rbs->o.uv, rbs->late_timer);
        rbs->late_timer->data = rbs;
        uv_timer_start(rbs->late_timer, on_late_timer, 0, 0);
    }
    return r;
}

int runbook__recover(struct runbooks *rbs, struct err *e)
{
    int r = openings_load(rbs, e);
    if (r == 0)
        r = quarantines_load(rbs, e);
    if (r == 0)
        r = runs_load(rbs, e);
    return r;
}
