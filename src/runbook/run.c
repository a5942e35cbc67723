/* SPDX-License-Identifier: MIT */
/*
 * A run's state machine: its steps in order, each one's when: first (a
 * step whose condition says no is skipped), then its attempts (steps.c
 * does the work), retries after an exponential backoff, and its
 * on_failure once the retries are spent. A remediate step takes charge of
 * the incident first, and a run whose incident resolved by itself before
 * one is cancelled. The run ends healed (a verify step passed: the
 * incident is resolved by hale), completed, failed (escalated or aborted),
 * rejected or expired at a gate, or cancelled; every change is stored as
 * it happens, and what the run did is on the incident's timeline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"
#include "runbook/internal.h"

static void on_handle_closed(uv_handle_t *h)
{
    free(h);
}

static uv_timer_t *timer_new(uv_loop_t *uv, struct run *run)
{
    uv_timer_t *t = xcalloc(1, sizeof(*t));
    uv_timer_init(uv, t);
    t->data = run;
    return t;
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v ? xstrdup(v) : NULL;
}

struct run *runbook__run_new(struct runbooks *rbs, struct config *config,
                             const struct config_runbook *rb)
{
    struct run *run = xcalloc(1, sizeof(*run));
    run->rbs = rbs;
    run->config = config_ref(config);
    run->rb = rb;
    run->outcomes = xcalloc(rb->n_steps ? rb->n_steps : 1, sizeof(*run->outcomes));
    run->rec.runbook = xstrdup(rb->name);
    run->rec.outcome = xstrdup(run_outcome_name(RUN_RUNNING));
    run->rec.step = -1;
    run->rec.gate_step = -1;
    labels_init(&run->rec.labels);
    run->cur.exit_status = -1;
    run->timer = timer_new(rbs->o.uv, run);
    run->deadline = timer_new(rbs->o.uv, run);
    return run;
}

void runbook__run_free(struct run *run)
{
    if (!run)
        return;
    uv_close((uv_handle_t *)run->timer, on_handle_closed);
    uv_close((uv_handle_t *)run->deadline, on_handle_closed);
    config_unref(run->config);
    store_run_fini(&run->rec);
    store_run_step_fini(&run->cur);
    free(run->outcomes);
    free(run->check);
    free(run->verify_words);
    free(run->check_summary);
    free(run->http_body);
    free(run);
}

/* ---- the end ---- */

static const char *failure_words(enum run_outcome o)
{
    return o == RUN_CANCELED ? "was cancelled" : "ended";
}

/* What the end of run does to its incident. */
static void incident_after(struct run *run, bool escalate, const char *reason)
{
    struct runbooks *rbs = run->rbs;
    int64_t id = run->rec.incident_id;
    char actor[160];
    runbook__actor(run, actor, sizeof(actor));
    struct err e = {0};
    if (run->outcome == RUN_HEALED) {
        char *text = xasprintf("healed by run %lld of %s: %s", (long long)run->rec.id,
                               run->rb->name, run->verify_words ? run->verify_words : "verified");
        int r = itsm_heal(rbs->o.desk, id, actor, text, NULL, NULL, &e);
        free(text);
        if (r == 0)
            return;
        /* Resolved by a person meanwhile, or gone: it only says so. */
        runbook__note(run, TIMELINE_NOTE, "run %lld of %s healed it (%s)", (long long)run->rec.id,
                      run->rb->name, e.msg);
    } else if (escalate) {
        char *why = xasprintf("run %lld of %s %s %s: %s", (long long)run->rec.id, run->rb->name,
                              failure_words(run->outcome), run_outcome_name(run->outcome), reason);
        if (itsm_escalate(rbs->o.desk, id, actor, run->rb->team_name, why, NULL, NULL, &e) < 0)
            log_warn("runbook", NULL, "run %lld: incident %lld not escalated: %s",
                     (long long)run->rec.id, (long long)id, e.msg);
        else
            runbook__notify(run, RUNBOOKS_NOTICE_ESCALATE, why);
        free(why);
        run->in_charge = false; /* escalating lets go */
    } else {
        runbook__note(run, TIMELINE_NOTE, "run %lld of %s %s %s: %s", (long long)run->rec.id,
                      run->rb->name, failure_words(run->outcome), run_outcome_name(run->outcome),
                      reason);
    }
    if (run->in_charge)
        itsm_runbook_charge(rbs->o.desk, id, false, NULL);
    run->in_charge = false;
}

void runbook__run_end(struct run *run, enum run_outcome outcome, bool escalate, const char *reason)
{
    if (run->phase == RUN_PHASE_OVER)
        return;
    struct runbooks *rbs = run->rbs;
    runbook__step_abort(run);
    int64_t now = runbook__now_ms();
    bool step_open = run->cur.outcome && strcmp(run->cur.outcome, "running") == 0;
    if (step_open) {
        set_str(&run->cur.outcome, "canceled");
        run->cur.ended_ms = now;
        set_str(&run->cur.reason, reason);
        runbook__note(run, TIMELINE_STEP_FINISHED, "step %zu/%zu %s canceled: %s", run->step + 1,
                      run->rb->n_steps, run->cur.name, reason);
    }
    run->phase = RUN_PHASE_OVER;
    uv_timer_stop(run->timer);
    uv_timer_stop(run->deadline);
    run->outcome = outcome;
    set_str(&run->rec.outcome, run_outcome_name(outcome));
    set_str(&run->rec.reason, reason);
    run->rec.ended_ms = now;
    runbook__save(run, step_open, NULL, NULL);
    runbook__ledger_put(rbs, &run->rec, run->outcome);
    if (rbs->m_runs)
        metrics_counter_inc(rbs->m_runs,
                            (const char *[]){run->rb->name, run_outcome_name(outcome)});
    if (outcome == RUN_HEALED || outcome == RUN_COMPLETED)
        log_info("runbook", NULL, "run %lld of %s %s: %s", (long long)run->rec.id, run->rb->name,
                 run_outcome_name(outcome), reason);
    else
        log_warn("runbook", NULL, "run %lld of %s %s: %s", (long long)run->rec.id, run->rb->name,
                 run_outcome_name(outcome), reason);
    if (run->rec.incident_id)
        incident_after(run, escalate, reason);
    runbook__unlink(rbs, run);
    runbook__queue_kick(rbs); /* its target is free */
    if (!run->proc)
        runbook__run_free(run);
    /* Else its child's callback frees it, once its group is gone. */
}

/*
 * Every step done: healed when something was repaired (a run, shell or
 * http step of purpose remediate succeeded) and the last verify step
 * proved it; else completed (a verify alone proves no repair of hale's).
 */
static void finish(struct run *run)
{
    if (run->verified && run->remediated) {
        runbook__run_end(run, RUN_HEALED, false,
                         run->verify_words ? run->verify_words : "verify passed");
        return;
    }
    const char *why = !run->rec.incident_id ? "every step done"
                      : run->verified       ? "every step done; nothing was repaired by it, so "
                                              "its events decide"
                                            : "every step done; no verify proved a repair: its "
                                              "events decide";
    runbook__run_end(run, RUN_COMPLETED, false, why);
}

/* ---- steps ---- */

static void attempt_begin(struct run *run);
static void step_enter(struct run *run);

/* A new row in run->cur for the current step: its attempt (0: skipped), started now. */
static void row_begin(struct run *run, unsigned attempt, const char *outcome)
{
    const struct config_step *s = &run->rb->steps[run->step];
    store_run_step_fini(&run->cur);
    run->cur = (struct store_run_step){
            .run_id = run->rec.id,
            .seq = ++run->seq,
            .step = (unsigned)run->step,
            .name = xstrdup(s->name),
            .action = xstrdup(config_step_action_name(s->action)),
            .purpose = xstrdup(config_step_purpose_name(s->purpose)),
            .attempt = attempt,
            .outcome = xstrdup(outcome),
            .started_ms = runbook__now_ms(),
            .exit_status = -1,
    };
}

/* Writes a skipped row for the current step (reason: why), and moves past it. */
static void step_skip(struct run *run, const char *reason)
{
    const struct config_step *s = &run->rb->steps[run->step];
    run->outcomes[run->step] = PLAN_SKIPPED;
    row_begin(run, 0, "skipped");
    run->cur.ended_ms = run->cur.started_ms;
    run->cur.reason = xstrdup(reason);
    runbook__save(run, true, NULL, NULL);
    runbook__note(run, TIMELINE_STEP_FINISHED, "step %zu/%zu %s skipped: %s", run->step + 1,
                  run->rb->n_steps, s->name, reason);
    run->step++;
}

/*
 * Whether the incident no longer needs remediating (why says so): a
 * person resolved it (or its events did, before the run took charge), or
 * its events all ended while the run was in charge, before any verify of
 * the run passed.
 */
static bool remediation_moot(struct run *run, char *why, size_t size)
{
    int64_t id = run->rec.incident_id;
    if (!id)
        return false;
    if (run->incident_resolved)
        snprintf(why, size, "incident %lld resolved", (long long)id);
    /* Once a verify passed, the events ended because of the run: nothing is moot. */
    else if (run->in_charge && !run->verified && itsm_runbook_events_ended(run->rbs->o.desk, id))
        snprintf(why, size, "the events of incident %lld all ended", (long long)id);
    else
        return false;
    return true;
}

/*
 * The incident needs no more remediating (why): the steps up to the next
 * verify step are skipped, and the verify proves the state of things; with
 * no verify step left there is nothing to prove, and the run is cancelled.
 * Returns whether the run goes on (at that verify step).
 */
static bool skip_to_verify(struct run *run, const char *why)
{
    const struct config_runbook *rb = run->rb;
    size_t verify = run->step;
    while (verify < rb->n_steps && rb->steps[verify].action != CONFIG_STEP_VERIFY)
        verify++;
    if (verify == rb->n_steps) {
        _cleanup_free_ char *reason = xasprintf("%s before remediate step %s: no verify step is "
                                                "left to prove it, so the run stops",
                                                why, rb->steps[run->step].name);
        runbook__run_end(run, RUN_CANCELED, false, reason);
        return false;
    }
    _cleanup_free_ char *reason =
            xasprintf("%s: its remediation is skipped, verify step %s proves it", why,
                      rb->steps[verify].name);
    log_info("runbook", NULL, "run %lld of %s: %s", (long long)run->rec.id, rb->name, reason);
    while (run->step < verify)
        step_skip(run, reason);
    return true;
}

/*
 * A remediate step is about to run (each attempt): the incident must still
 * need it, and the run takes charge of it (so the events' end waits for
 * its verify). Returns false when the run went elsewhere (a verify step
 * further on, or its end).
 */
static bool remediate_allowed(struct run *run, const struct config_step *s)
{
    int64_t id = run->rec.incident_id;
    if (!id)
        return true;
    char why[1400];
    if (remediation_moot(run, why, sizeof(why))) {
        if (skip_to_verify(run, why))
            step_enter(run);
        return false;
    }
    if (run->in_charge)
        return true;
    struct err e = {0};
    int r = itsm_runbook_charge(run->rbs->o.desk, id, true, &e);
    if (r == 0) {
        run->in_charge = true;
        return true;
    }
    /* A person's run may repair what is resolved; hale's own never does. */
    if (!run->rec.automatic && r == HALE_ENOTFOUND)
        return true;
    snprintf(why, sizeof(why), "before remediate step %s: %s", s->name, e.msg);
    runbook__run_end(run, RUN_CANCELED, false, why);
    return false;
}

/* Enters run->step, skipping the steps whose when: says no; finishes after the last. */
static void step_enter(struct run *run)
{
    const struct config_runbook *rb = run->rb;
    while (run->step < rb->n_steps &&
           !plan_step_runs(&rb->steps[run->step], &run->rec.labels, run->outcomes))
        step_skip(run, "its when: does not hold");
    if (run->step == rb->n_steps) {
        finish(run);
        return;
    }
    const struct config_step *s = &rb->steps[run->step];
    if (s->purpose == CONFIG_PURPOSE_REMEDIATE && !remediate_allowed(run, s))
        return;
    run->attempt = 1;
    attempt_begin(run);
}

static void attempt_begin(struct run *run)
{
    row_begin(run, run->attempt, "running");
    run->rec.step = (int)run->step;
    runbook__save(run, true, NULL, NULL);
    runbook__step_begin(run);
}

static void on_retry_timer(uv_timer_t *t)
{
    struct run *run = t->data;
    const struct config_step *s = &run->rb->steps[run->step];
    run->phase = RUN_PHASE_IDLE;
    if (s->purpose == CONFIG_PURPOSE_REMEDIATE && !remediate_allowed(run, s))
        return;
    attempt_begin(run);
}

/* The words of how an attempt ended, for its step_finished entry. */
static void finished_note(struct run *run, bool ok, const char *then)
{
    if (!run->rec.incident_id)
        return;
    const struct config_step *s = &run->rb->steps[run->step];
    char took[32];
    runbook__duration((uint64_t)(run->cur.ended_ms - run->cur.started_ms), took, sizeof(took));
    _cleanup_free_ char *text = xasprintf("step %zu/%zu %s %s: %s in %s%s", run->step + 1,
                                          run->rb->n_steps, s->name, ok ? "succeeded" : "failed",
                                          run->cur.reason ? run->cur.reason : "", took, then);
    /* The output and the end in one write to the timeline. */
    struct itsm_entry v[2];
    size_t n = 0;
    if (run->cur.output && *run->cur.output)
        v[n++] = (struct itsm_entry){.kind = TIMELINE_STEP_OUTPUT, .text = run->cur.output};
    v[n++] = (struct itsm_entry){.kind = TIMELINE_STEP_FINISHED, .text = text};
    runbook__notes(run, v, n);
}

void runbook__attempt_done(struct run *run, bool ok)
{
    const struct config_step *s = &run->rb->steps[run->step];
    run->phase = RUN_PHASE_IDLE;
    uv_timer_stop(run->timer);
    set_str(&run->cur.outcome, ok ? "succeeded" : "failed");
    run->cur.ended_ms = runbook__now_ms();
    runbook__save(run, true, NULL, NULL);
    if (ok) {
        finished_note(run, true, "");
        run->outcomes[run->step] = PLAN_SUCCEEDED;
        if (s->action == CONFIG_STEP_VERIFY)
            run->verified = true;
        else if (s->purpose == CONFIG_PURPOSE_REMEDIATE &&
                 (s->action == CONFIG_STEP_RUN || s->action == CONFIG_STEP_SHELL ||
                  s->action == CONFIG_STEP_HTTP))
            run->remediated = true;
        run->step++;
        step_enter(run);
        return;
    }
    if (run->attempt <= s->retry.times) {
        uint64_t delay = plan_retry_delay_ms(s, run->attempt);
        char wait[32], then[96];
        runbook__duration(delay, wait, sizeof(wait));
        snprintf(then, sizeof(then), "; retry %u of %u in %s", run->attempt, s->retry.times, wait);
        finished_note(run, false, then);
        run->attempt++;
        run->phase = RUN_PHASE_PAUSE;
        uv_timer_start(run->timer, on_retry_timer, delay, 0);
        return;
    }
    run->outcomes[run->step] = PLAN_FAILED;
    if (s->action == CONFIG_STEP_VERIFY)
        run->verified = false; /* a later verify may still prove it */
    const char *then = s->on_failure == CONFIG_ON_FAILURE_CONTINUE ? "; the run goes on"
                       : s->on_failure == CONFIG_ON_FAILURE_ABORT  ? "; the run stops"
                                                                   : "; the run escalates";
    finished_note(run, false, then);
    if (s->on_failure == CONFIG_ON_FAILURE_CONTINUE) {
        run->step++;
        step_enter(run);
        return;
    }
    char why[512];
    snprintf(why, sizeof(why), "step %s failed%s%s%s", s->name,
             s->retry.times ? " after its retries" : "", run->cur.reason ? ": " : "",
             run->cur.reason ? run->cur.reason : "");
    runbook__run_end(run, RUN_FAILED, s->on_failure == CONFIG_ON_FAILURE_ESCALATE, why);
}

/* ---- the run's own time ---- */

static void timed_out(struct run *run)
{
    char took[32], why[96];
    runbook__duration(run->rb->timeout_ms, took, sizeof(took));
    snprintf(why, sizeof(why), "the run timed out after %s", took);
    runbook__run_end(run, RUN_FAILED, true, why);
}

static void on_deadline(uv_timer_t *t)
{
    timed_out(t->data);
}

/* The run's clock runs again (it stops at a gate: the gate has its own time). */
static void deadline_start(struct run *run)
{
    uint64_t left = run->rb->timeout_ms > run->spent_ms ? run->rb->timeout_ms - run->spent_ms : 0;
    run->active_since_ms = runbook__now_ms();
    if (run->rb->timeout_ms)
        uv_timer_start(run->deadline, on_deadline, left, 0);
}

void runbook__deadline_pause(struct run *run)
{
    int64_t now = runbook__now_ms();
    /* A run found at its gate on start-up had its clock stopped already. */
    if (run->active_since_ms && now > run->active_since_ms)
        run->spent_ms += (uint64_t)(now - run->active_since_ms);
    run->active_since_ms = 0;
    uv_timer_stop(run->deadline);
}

void runbook__run_start(struct run *run, store_done_cb *cb, void *data)
{
    struct runbooks *rbs = run->rbs;
    run->next = rbs->runs;
    rbs->runs = run;
    rbs->n_runs++;
    runbook__save(run, false, cb, data);
    runbook__ledger_put(rbs, &run->rec, run->outcome);
    char who[160];
    snprintf(who, sizeof(who), "%s", run->rec.automatic ? "automatically" : "by ");
    runbook__note(run, TIMELINE_NOTE, "run %lld of %s started %s%s on target %s (%zu step%s)",
                  (long long)run->rec.id, run->rb->name, who,
                  run->rec.automatic ? "" : run->rec.actor, run->rec.target, run->rb->n_steps,
                  run->rb->n_steps == 1 ? "" : "s");
    log_info("runbook", NULL, "run %lld of %s started %s%s (incident %lld, target %s)",
             (long long)run->rec.id, run->rb->name, who, run->rec.automatic ? "" : run->rec.actor,
             (long long)run->rec.incident_id, run->rec.target);
    deadline_start(run);
    run->step = 0;
    step_enter(run);
}

/* ---- the approval gate ---- */

void runbook__gate_decided(struct run *run, bool approve)
{
    char why[512];
    snprintf(why, sizeof(why), "%s by %s%s%s", approve ? "approved" : "rejected",
             run->rec.decided_by, run->rec.comment ? ": " : "",
             run->rec.comment ? run->rec.comment : "");
    runbook__note(run, TIMELINE_APPROVAL, "%s", why);
    set_str(&run->cur.reason, why);
    set_str(&run->rec.outcome, run_outcome_name(RUN_RUNNING));
    run->outcome = RUN_RUNNING;
    if (!approve) {
        set_str(&run->cur.outcome, "failed");
        run->cur.ended_ms = runbook__now_ms();
        runbook__save(run, true, NULL, NULL);
        run->outcomes[run->step] = PLAN_FAILED;
        runbook__run_end(run, RUN_REJECTED, true, why);
        return;
    }
    if (run->rb->timeout_ms && run->spent_ms >= run->rb->timeout_ms) {
        /* Its time was spent before the gate (a restart remembers it): nothing more runs. */
        set_str(&run->cur.outcome, "succeeded");
        run->cur.ended_ms = runbook__now_ms();
        runbook__save(run, true, NULL, NULL);
        run->outcomes[run->step] = PLAN_SUCCEEDED;
        timed_out(run);
        return;
    }
    deadline_start(run);
    runbook__attempt_done(run, true);
}

void runbook__run_resume_gate(struct run *run)
{
    struct runbooks *rbs = run->rbs;
    run->next = rbs->runs;
    rbs->runs = run;
    rbs->n_runs++;
    runbook__ledger_put(rbs, &run->rec, run->outcome);
    runbook__gate_open(run);
}
