/* SPDX-License-Identifier: MIT */
/*
 * The final report of one incident, for whoever reads it after the fact
 * (an ITIL post-incident report): what happened and when, how long it
 * lasted, how fast people answered, what was done and by whom, the root
 * cause and what follows. The facts are computed once from the records the
 * caller read from the store, then written as Markdown, HTML or JSON.
 * The summary of a period is in report_summary.c.
 */
#include "itsm/report.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "itsm/report_internal.h"

int report_format_parse(const char *s, enum report_format *ret)
{
    static const char *const names[] = {"md", "html", "json"};
    for (size_t i = 0; s && i < ARRAY_SIZE(names); i++)
        if (strcmp(s, names[i]) == 0) {
            *ret = (enum report_format)i;
            return 0;
        }
    return -EINVAL;
}

const char *report_format_content_type(enum report_format f)
{
    switch (f) {
    case REPORT_FORMAT_MD:
        return "text/markdown; charset=utf-8";
    case REPORT_FORMAT_HTML:
        return "text/html; charset=utf-8";
    case REPORT_FORMAT_JSON:
        return "application/json";
    }
    return "application/octet-stream";
}

#define N_KINDS (TIMELINE_NOTIFICATION + 1)

/*
 * One runbook step as the timeline tells it: the step_started entry, the
 * outputs that followed it and its step_finished entry. Either end may be
 * missing from the records (a step still running, a timeline cut short).
 */
struct action {
    const struct timeline_entry *started, *finished;
    const char *actor;
    struct strbuf output;
    bool has_output;
};

/* What one actor (a check, hale, a person) added to the timeline. */
struct actor_tally {
    const char *actor;
    size_t n;
    size_t kinds[N_KINDS];
};

/* Everything the report shows that is not a field of a record. */
struct facts {
    int64_t tta_ms, ttr_ms; /* -1: not acknowledged, not resolved */
    int64_t impact_ms;      /* opened -> resolved, or -> now while open */
    struct action *actions;
    size_t n_actions;
    struct actor_tally *actors; /* in the order they first appear */
    size_t n_actors;
};

static const char *actor_of(const struct timeline_entry *t)
{
    return t->actor ? t->actor : "(unknown)";
}

static struct action *action_new(struct facts *x, const struct timeline_entry *t)
{
    x->actions = xreallocarray(x->actions, x->n_actions + 1, sizeof(*x->actions));
    struct action *a = &x->actions[x->n_actions++];
    memset(a, 0, sizeof(*a));
    strbuf_init(&a->output, 0);
    a->actor = actor_of(t);
    return a;
}

/* Groups the step entries into actions; cur is the step last started. */
static void actions_collect(struct facts *x, const struct report_incident_input *in)
{
    struct action *cur = NULL;
    for (size_t i = 0; i < in->n_timeline; i++) {
        const struct timeline_entry *t = &in->timeline[i];
        if (t->kind == TIMELINE_STEP_STARTED) {
            cur = action_new(x, t);
            cur->started = t;
        } else if (t->kind == TIMELINE_STEP_OUTPUT) {
            if (!cur)
                cur = action_new(x, t);
            if (cur->has_output &&
                (cur->output.len == 0 || cur->output.s[cur->output.len - 1] != '\n'))
                strbuf_addc(&cur->output, '\n');
            strbuf_adds(&cur->output, t->text ? t->text : "");
            cur->has_output = true;
        } else if (t->kind == TIMELINE_STEP_FINISHED) {
            if (!cur || cur->finished)
                cur = action_new(x, t);
            cur->finished = t;
        }
    }
}

static void actors_collect(struct facts *x, const struct report_incident_input *in)
{
    for (size_t i = 0; i < in->n_timeline; i++) {
        const struct timeline_entry *t = &in->timeline[i];
        const char *name = actor_of(t);
        size_t j = 0;
        while (j < x->n_actors && strcmp(x->actors[j].actor, name) != 0)
            j++;
        if (j == x->n_actors) {
            x->actors = xreallocarray(x->actors, x->n_actors + 1, sizeof(*x->actors));
            memset(&x->actors[j], 0, sizeof(x->actors[j]));
            x->actors[j].actor = name;
            x->n_actors++;
        }
        x->actors[j].n++;
        if ((unsigned)t->kind < N_KINDS)
            x->actors[j].kinds[t->kind]++;
    }
}

static void facts_compute(const struct report_incident_input *in, struct facts *x)
{
    const struct incident *inc = in->incident;
    memset(x, 0, sizeof(*x));
    x->tta_ms = inc->acknowledged_ms ? inc->acknowledged_ms - inc->opened_ms : -1;
    x->ttr_ms = inc->resolved_ms ? inc->resolved_ms - inc->opened_ms : -1;
    x->impact_ms = (inc->resolved_ms ? inc->resolved_ms : in->now_ms) - inc->opened_ms;
    if (x->impact_ms < 0)
        x->impact_ms = 0;
    actions_collect(x, in);
    actors_collect(x, in);
}

static void facts_fini(struct facts *x)
{
    for (size_t i = 0; i < x->n_actions; i++)
        strbuf_fini(&x->actions[i].output);
    free(x->actions);
    free(x->actors);
}

/* "step_started 2, step_output 2, step_finished 1". */
static char *kinds_text(const struct actor_tally *a)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    for (unsigned k = 0; k < N_KINDS; k++)
        if (a->kinds[k])
            strbuf_addf(&b, "%s%s %zu", b.len ? ", " : "",
                        timeline_kind_name((enum timeline_kind)k), a->kinds[k]);
    return strbuf_detach(&b, NULL);
}

static const char *text_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

/* ---- Markdown and HTML ---- */

static void doc_kv(struct report_doc *d, const char *k, const char *v)
{
    const char *cells[] = {k, v};
    report__doc_table_row(d, cells, 2);
}

static char *labels_text(const struct labels *l)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    for (size_t i = 0; i < l->n; i++)
        strbuf_addf(&b, "%s%s=%s", i ? ", " : "", l->v[i].name, l->v[i].value);
    return strbuf_detach(&b, NULL);
}

static void doc_summary(struct report_doc *d, const struct incident *inc)
{
    char t[CLOCK_RFC3339_MAX], reopened[32];
    _cleanup_free_ char *labels = labels_text(&inc->labels);
    report__doc_heading(d, 2, "Summary");
    static const char *const head[] = {"field", "value"};
    report__doc_table_begin(d, head, 2);
    doc_kv(d, "What", text_or(inc->title, ""));
    doc_kv(d, "Type", incident_type_name(inc->type));
    doc_kv(d, "Opened", report__time_format(inc->opened_ms, t));
    doc_kv(d, "Acknowledged", report__time_format(inc->acknowledged_ms, t));
    doc_kv(d, "Resolved", report__time_format(inc->resolved_ms, t));
    doc_kv(d, "Closed", report__time_format(inc->closed_ms, t));
    doc_kv(d, "Severity", incident_severity_name(inc->severity));
    doc_kv(d, "Category", incident_category_name(inc->category));
    doc_kv(d, "Team", text_or(inc->team, "none"));
    doc_kv(d, "Assignee", text_or(inc->assignee, "unassigned"));
    doc_kv(d, "Check", text_or(inc->check, "none"));
    doc_kv(d, "Labels", labels[0] ? labels : "none");
    snprintf(reopened, sizeof(reopened), "%u", inc->reopened);
    doc_kv(d, "Reopened", reopened);
    report__doc_table_end(d);
}

static void doc_impact(struct report_doc *d, const struct report_incident_input *in,
                       const struct facts *x)
{
    const struct incident *inc = in->incident;
    char dur[REPORT_DURATION_MAX], from[CLOCK_RFC3339_MAX], to[CLOCK_RFC3339_MAX];
    report__doc_heading(d, 2, "Impact");
    report__duration_format(x->impact_ms, dur);
    report__time_format(inc->opened_ms, from);
    if (inc->resolved_ms)
        report__doc_paraf(d, "Lasted %s, from %s to %s.", dur, from,
                          report__time_format(inc->resolved_ms, to));
    else
        report__doc_paraf(d, "Still open: open for %s so far (since %s, as of %s).", dur, from,
                          report__time_format(in->now_ms, to));
}

static void doc_response(struct report_doc *d, const struct facts *x)
{
    char tta[REPORT_DURATION_MAX], ttr[REPORT_DURATION_MAX];
    report__doc_heading(d, 2, "Response");
    static const char *const head[] = {"measure", "time"};
    report__doc_table_begin(d, head, 2);
    doc_kv(d, "Time to acknowledge",
           x->tta_ms >= 0 ? report__duration_format(x->tta_ms, tta) : "not acknowledged");
    doc_kv(d, "Time to resolve",
           x->ttr_ms >= 0 ? report__duration_format(x->ttr_ms, ttr) : "not resolved");
    report__doc_table_end(d);
}

static void doc_timeline(struct report_doc *d, const struct report_incident_input *in)
{
    report__doc_heading(d, 2, "Timeline");
    if (in->n_timeline == 0) {
        report__doc_para(d, "No entries.");
        return;
    }
    report__doc_list_begin(d, false);
    for (size_t i = 0; i < in->n_timeline; i++) {
        const struct timeline_entry *t = &in->timeline[i];
        char when[CLOCK_RFC3339_MAX];
        _cleanup_free_ char *lead =
                xasprintf("%s \xc2\xb7 %s \xc2\xb7 %s", report__time_format(t->time_ms, when),
                          actor_of(t), timeline_kind_name(t->kind));
        bool output = t->kind == TIMELINE_STEP_OUTPUT;
        report__doc_item_begin(d, lead, output ? "" : text_or(t->text, ""));
        if (output)
            report__doc_code(d, t->text);
        report__doc_item_end(d);
    }
    report__doc_list_end(d);
}

static void doc_action(struct report_doc *d, const struct action *a)
{
    char t1[CLOCK_RFC3339_MAX], t2[CLOCK_RFC3339_MAX];
    const char *step = a->started ? text_or(a->started->text, "a step") : "a step";
    _cleanup_free_ char *s =
            xasprintf("by %s, started %s, finished %s%s%s", a->actor,
                      a->started ? report__time_format(a->started->time_ms, t1) : "-",
                      a->finished ? report__time_format(a->finished->time_ms, t2) : "not recorded",
                      a->finished ? ": " : "", a->finished ? text_or(a->finished->text, "") : "");
    report__doc_item_begin(d, step, s);
    if (a->has_output)
        report__doc_code(d, a->output.s);
    report__doc_item_end(d);
}

static void doc_actions(struct report_doc *d, const struct facts *x)
{
    report__doc_heading(d, 2, "Actions taken");
    if (x->n_actions == 0) {
        report__doc_para(d, "No runbook step ran.");
        return;
    }
    report__doc_list_begin(d, true);
    for (size_t i = 0; i < x->n_actions; i++)
        doc_action(d, &x->actions[i]);
    report__doc_list_end(d);
}

static void doc_actors(struct report_doc *d, const struct facts *x)
{
    report__doc_heading(d, 2, "Who did what");
    if (x->n_actors == 0) {
        report__doc_para(d, "Nobody: the timeline is empty.");
        return;
    }
    static const char *const head[] = {"actor", "entries", "kinds"};
    report__doc_table_begin(d, head, 3);
    for (size_t i = 0; i < x->n_actors; i++) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", x->actors[i].n);
        _cleanup_free_ char *kinds = kinds_text(&x->actors[i]);
        const char *cells[] = {x->actors[i].actor, n, kinds};
        report__doc_table_row(d, cells, 3);
    }
    report__doc_table_end(d);
}

static void doc_outcome(struct report_doc *d, const struct report_incident_input *in)
{
    const struct incident *inc = in->incident;
    const struct problem *p = in->problem;
    report__doc_heading(d, 2, "Root cause");
    report__doc_para(d, text_or(inc->root_cause, "Not recorded."));
    report__doc_heading(d, 2, "Resolved by");
    if (!inc->resolved_by)
        report__doc_para(d, "Not resolved.");
    else if (strcmp(inc->resolved_by, "hale") == 0)
        report__doc_para(d, "hale: a runbook healed it.");
    else
        report__doc_para(d, inc->resolved_by);
    report__doc_heading(d, 2, "Follow-ups");
    if (!p) {
        report__doc_para(d, "None: no problem is linked.");
        return;
    }
    report__doc_paraf(d, "Problem %lld: %s (%s), %u incidents so far.", (long long)p->id,
                      text_or(p->title, ""), problem_state_name(p->state), p->incidents);
    if (p->root_cause)
        report__doc_paraf(d, "The problem's root cause: %s", p->root_cause);
    if (p->workaround)
        report__doc_paraf(d, "Workaround: %s", p->workaround);
}

static char *incident_doc(const struct report_incident_input *in, const struct facts *x,
                          enum report_format f)
{
    const struct incident *inc = in->incident;
    struct report_doc d;
    _cleanup_free_ char *title =
            xasprintf("Incident %lld (P%u, %s): %s", (long long)inc->id, inc->priority,
                      incident_state_name(inc->state), text_or(inc->title, ""));
    report__doc_begin(&d, f, title);
    report__doc_heading(&d, 1, title);
    doc_summary(&d, inc);
    doc_impact(&d, in, x);
    doc_response(&d, x);
    doc_timeline(&d, in);
    doc_actions(&d, x);
    doc_actors(&d, x);
    doc_outcome(&d, in);
    return report__doc_end(&d);
}

/* ---- JSON ---- */

static json_t *json_ms(int64_t ms)
{
    return ms >= 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *timeline_json(const struct report_incident_input *in)
{
    json_t *a = json_array();
    for (size_t i = 0; i < in->n_timeline; i++)
        json_array_append_new(a, codec_json_timeline_entry(&in->timeline[i]));
    return a;
}

static json_t *actions_json(const struct facts *x)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < x->n_actions; i++) {
        const struct action *a = &x->actions[i];
        json_t *o = json_object();
        json_object_set_new(o, "actor", codec_json_text(a->actor));
        json_object_set_new(o, "step", codec_json_text(a->started ? a->started->text : NULL));
        json_object_set_new(o, "started", codec_json_time(a->started ? a->started->time_ms : 0));
        json_object_set_new(o, "finished", codec_json_time(a->finished ? a->finished->time_ms : 0));
        json_object_set_new(o, "result", codec_json_text(a->finished ? a->finished->text : NULL));
        json_object_set_new(o, "output", codec_json_text(a->has_output ? a->output.s : NULL));
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *actors_json(const struct facts *x)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < x->n_actors; i++) {
        json_t *kinds = json_object();
        for (unsigned k = 0; k < N_KINDS; k++)
            if (x->actors[i].kinds[k])
                json_object_set_new(kinds, timeline_kind_name((enum timeline_kind)k),
                                    json_integer((json_int_t)x->actors[i].kinds[k]));
        json_array_append_new(arr, json_pack("{s:o, s:I, s:o}", "actor",
                                             codec_json_text(x->actors[i].actor), "entries",
                                             (json_int_t)x->actors[i].n, "kinds", kinds));
    }
    return arr;
}

static char *incident_json_report(const struct report_incident_input *in, const struct facts *x)
{
    json_t *o = json_object();
    json_object_set_new(o, "incident", codec_json_incident(in->incident));
    json_object_set_new(o, "timeline", timeline_json(in));
    json_object_set_new(o, "tta_ms", json_ms(x->tta_ms));
    json_object_set_new(o, "ttr_ms", json_ms(x->ttr_ms));
    json_object_set_new(o, "impact_ms", json_ms(x->impact_ms));
    json_object_set_new(o, "actions", actions_json(x));
    json_object_set_new(o, "actors", actors_json(x));
    json_object_set_new(o, "problem", codec_json_problem(in->problem));
    json_object_set_new(o, "generated", codec_json_time(in->now_ms));
    return report__json_dump(o);
}

char *report_incident(const struct report_incident_input *in, enum report_format f)
{
    assert(in && in->incident);
    struct facts x;
    facts_compute(in, &x);
    char *s = f == REPORT_FORMAT_JSON ? incident_json_report(in, &x) : incident_doc(in, &x, f);
    facts_fini(&x);
    return s;
}
