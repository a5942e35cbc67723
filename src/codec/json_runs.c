/* SPDX-License-Identifier: MIT */
/*
 * The runs of runbooks as JSON (codec/json.h): a run with its approval
 * gate, one attempt of a step, and a runbook with its guard, relapse
 * rules, quarantine and effectiveness (docs/api.md, "Runbooks and runs").
 */
#include <stdio.h>

#include "base/units.h"
#include "codec/json.h"

#define TEXT(s)  codec_json_text(s)
#define TIME(ms) codec_json_time(ms)

static json_t *id_or_null(int64_t id)
{
    return id > 0 ? json_integer((json_int_t)id) : json_null();
}

static json_t *duration(uint64_t ms)
{
    char buf[32];
    return json_string(units_duration_format(ms, buf, sizeof(buf)));
}

/* The approval gate a run waits at, or last waited at; null when it met none. */
static json_t *approval(const struct store_run *r)
{
    if (r->gate_step < 0)
        return json_null();
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "step", r->gate_step, "question",
                     TEXT(r->question), "deadline", TIME(r->deadline_ms), "decision",
                     TEXT(r->decision), "decided_by", TEXT(r->decided_by), "decided",
                     TIME(r->decided_ms), "comment", TEXT(r->comment));
}

json_t *codec_json_run(const struct store_run *r, size_t steps_total)
{
    return json_pack("{s:I, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:o}",
                     "id", (json_int_t)r->id, "runbook", TEXT(r->runbook), "incident",
                     id_or_null(r->incident_id), "target", TEXT(r->target ? r->target : ""),
                     "labels", codec_json_labels(&r->labels), "automatic", r->automatic, "actor",
                     TEXT(r->actor), "outcome", TEXT(r->outcome), "reason", TEXT(r->reason), "step",
                     r->step >= 0 ? json_integer(r->step) : json_null(), "steps_total",
                     steps_total ? json_integer((json_int_t)steps_total) : json_null(), "started",
                     TIME(r->started_ms), "ended", TIME(r->ended_ms), "relapsed", r->relapsed,
                     "approval", approval(r));
}

json_t *codec_json_run_step(const struct store_run_step *s)
{
    return json_pack("{s:I, s:I, s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
                     "seq", (json_int_t)s->seq, "step", (json_int_t)s->step, "name", TEXT(s->name),
                     "action", TEXT(s->action), "purpose", TEXT(s->purpose), "attempt",
                     (json_int_t)s->attempt, "outcome", TEXT(s->outcome), "started",
                     TIME(s->started_ms), "ended", TIME(s->ended_ms), "exit_status",
                     s->exit_status >= 0 ? json_integer(s->exit_status) : json_null(), "signal",
                     s->term_signal > 0 ? json_integer(s->term_signal) : json_null(), "timed_out",
                     s->timed_out, "output", TEXT(s->output), "reason", TEXT(s->reason), "pid",
                     s->pid > 0 ? json_integer((json_int_t)s->pid) : json_null());
}

json_t *codec_json_runbook_stats(const struct ledger_stats *s)
{
    json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "runs",
                          (json_int_t)s->runs, "healed", (json_int_t)s->healed, "completed",
                          (json_int_t)s->completed, "failed", (json_int_t)s->failed, "suspended",
                          (json_int_t)s->suspended, "relapsed", (json_int_t)s->relapsed, "canceled",
                          (json_int_t)s->canceled, "other", (json_int_t)s->other, "median_heal_ms",
                          (json_int_t)s->median_heal_ms);
    if (o && s->target)
        json_object_set_new(o, "target", TEXT(s->target));
    return o;
}

static json_t *steps_of(const struct config_runbook *rb)
{
    json_t *v = json_array();
    for (size_t i = 0; i < rb->n_steps; i++) {
        const struct config_step *s = &rb->steps[i];
        json_array_append_new(v, json_pack("{s:o, s:s, s:s}", "name", TEXT(s->name), "action",
                                           config_step_action_name(s->action), "purpose",
                                           config_step_purpose_name(s->purpose)));
    }
    return v;
}

json_t *codec_json_runbook(const struct config_runbook *rb, const struct ledger_quarantine *q,
                           const struct ledger_stats *stats, size_t n_stats)
{
    const struct config_guard *g = &rb->guard;
    json_t *guard = g->max_runs ? json_pack("{s:I, s:o, s:o}", "max_runs", (json_int_t)g->max_runs,
                                            "per", duration(g->per_ms), "key", TEXT(g->key))
                                : json_null();
    json_t *relapse = json_pack("{s:o, s:f, s:I}", "within", duration(rb->relapse.within_ms),
                                "quarantine_above", rb->relapse.quarantine_above, "min_healed",
                                (json_int_t)rb->relapse.min_healed);
    json_t *quarantine =
            q ? json_pack("{s:o, s:o}", "since", TIME(q->since_ms), "reason", TEXT(q->reason))
              : json_null();
    struct ledger_stats none = {.runbook = rb->name};
    json_t *targets = json_array();
    const struct ledger_stats *total = &none;
    for (size_t i = 0; i < n_stats; i++) {
        if (!stats[i].target)
            total = &stats[i];
        else
            json_array_append_new(targets, codec_json_runbook_stats(&stats[i]));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name", TEXT(rb->name),
                     "team", TEXT(rb->team_name), "description", TEXT(rb->description), "timeout",
                     duration(rb->timeout_ms), "steps", steps_of(rb), "guard", guard, "relapse",
                     relapse, "quarantine", quarantine, "stats", codec_json_runbook_stats(total),
                     "targets", targets);
}
