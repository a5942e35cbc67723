/* SPDX-License-Identifier: MIT */
/*
 * The engine at work (engine.h): events in, in order; for each the desk's
 * view, the silences, the decision and the check's own routing keys; then
 * the desk applies it into the submit's one batch. This file holds no
 * state of its own but where to find the configuration, the desk and the
 * silences.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "engine/fingerprint.h"

struct engine {
    const struct config *config;
    struct itsm *itsm;
    struct silences *silences; /* NULL: none */
    struct store *st;
};

struct engine *engine_new(const struct config *config, struct itsm *itsm, struct silences *silences,
                          struct store *st)
{
    struct engine *g = xcalloc(1, sizeof(*g));
    g->config = config;
    g->itsm = itsm;
    g->silences = silences;
    g->st = st;
    return g;
}

void engine_free(struct engine *g)
{
    free(g);
}

void engine_set_config(struct engine *g, const struct config *config)
{
    g->config = config;
}

/* ---- deciding ---- */

/*
 * A check's own `runbook` and `team` keys act as an implicit first route
 * for its events: they win over the routes; what the check leaves unset
 * the routes decide. Without a route's priority, the check's impact sets
 * it through the matrix.
 */
static void route_check(const struct config *c, const struct event *ev,
                        struct engine_route_result *r)
{
    if (ev->source != EVENT_SOURCE_CHECK)
        return;
    const char *name = labels_get(&ev->labels, EVENT_CHECK_LABEL);
    const struct config_check *check = name ? config_check_find(c, name) : NULL;
    if (!check)
        return;
    if (check->runbook) {
        r->runbook = check->runbook;
        r->runbook_route = 0;
    }
    const struct config_team *team = check->team      ? check->team
                                     : check->runbook ? check->runbook->team
                                                      : NULL;
    if (team) {
        r->team = team;
        r->team_route = 0;
    }
    if (r->priority_route == 0)
        r->priority = itsm_priority(&c->incidents, check->impact, ev->severity);
}

/*
 * What the engine decided, with a route for the firing events the desk
 * may re-prioritise on (a join, a symptom, a duplicate that changes its
 * incident's severity), and the check's routing keys.
 */
static void decide(struct engine *g, const struct event *ev, struct engine_decision *d)
{
    const struct config *c = g->config;
    if (ev->note != EVENT_NOTE_NONE) {
        memset(d, 0, sizeof(*d));
        d->fingerprint = engine_event_fingerprint(ev, &c->engine.fingerprint_labels);
        d->reason = xstrdup("");
        return;
    }
    struct engine_view view;
    itsm_engine_view(g->itsm, &view);
    if (g->silences)
        view.silences = silences_view(g->silences, &view.n_silences);
    engine_decide(c, ev, &view, ev->received_ms, d);
    if (ev->status == EVENT_FIRING && d->verdict != ENGINE_NEW && d->verdict != ENGINE_ROOT_CAUSE &&
        d->verdict != ENGINE_SILENCED &&
        (d->verdict != ENGINE_DUPLICATE || itsm_duplicate_needs_route(g->itsm, ev, d)))
        engine_route(c, ev, &d->route);
    route_check(c, ev, &d->route);
}

struct submit {
    struct engine_outcome *v;
    size_t n;
    engine_done_cb *cb;
    void *data;
};

static void submit_done(int result, void *data)
{
    struct submit *s = data;
    if (s->cb)
        s->cb(result, s->v, s->n, s->data);
    for (size_t k = 0; k < s->n; k++)
        free(s->v[k].reason);
    free(s->v);
    free(s);
}

int engine_submit(struct engine *g, struct event *v, size_t n, engine_done_cb *cb, void *data)
{
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    struct itsm_batch *b = itsm_batch_new(g->itsm);
    struct submit *s = xcalloc(1, sizeof(*s));
    s->v = xcalloc(n ? n : 1, sizeof(*s->v));
    s->n = n;
    s->cb = cb;
    s->data = data;
    for (size_t k = 0; k < n; k++) {
        struct event *ev = &v[k];
        if (!ev->received_ms)
            ev->received_ms = now;
        struct engine_decision d;
        decide(g, ev, &d);
        itsm_apply(g->itsm, b, ev, &d);
        s->v[k] = (struct engine_outcome){.verdict = d.verdict,
                                          .fingerprint = d.fingerprint,
                                          .incident_id = d.incident_id,
                                          .reason = d.reason};
        d.reason = NULL;
        engine_decision_fini(&d);
        event_fini(ev);
    }
    free(v);
    itsm_batch_submit(g->itsm, b, submit_done, s);
    return 0;
}

/* ---- the checks ---- */

void engine_event_from_check(const struct config_check *check, const struct detect_event *ev,
                             struct event *ret)
{
    event_init(ret);
    ret->source = EVENT_SOURCE_CHECK;
    ret->note = ev->kind == DETECT_EVENT_FLAPPING_STARTED   ? EVENT_NOTE_FLAPPING_STARTED
                : ev->kind == DETECT_EVENT_FLAPPING_STOPPED ? EVENT_NOTE_FLAPPING_STOPPED
                                                            : EVENT_NOTE_NONE;
    labels_fini(&ret->labels);
    event_check_labels(check, &ret->labels);
    labels_set(&ret->annotations, "check_status", check_status_name(ev->new_status), NULL);
    bool ok = ev->new_status == CHECK_STATUS_OK;
    ret->status = ok && ret->note == EVENT_NOTE_NONE ? EVENT_RESOLVED : EVENT_FIRING;
    /* Unknown is not worse than warning: the check cannot tell. */
    ret->severity = ev->new_status == CHECK_STATUS_CRITICAL ? INCIDENT_SEVERITY_CRITICAL
                    : ok                                    ? INCIDENT_SEVERITY_INFO
                                                            : INCIDENT_SEVERITY_WARNING;
    free(ret->summary);
    ret->summary = xstrdup(ev->summary ? ev->summary : "");
    ret->received_ms = (int64_t)ev->time_ms;
    if (ret->status == EVENT_FIRING)
        ret->starts_ms = (int64_t)ev->time_ms;
    else
        ret->ends_ms = (int64_t)ev->time_ms;
    ret->sender = xasprintf("check:%s", check->name);
}

void engine_check_event(struct engine *g, const struct config_check *check,
                        const struct detect_event *ev)
{
    if (ev->kind == DETECT_EVENT_STATE_CHANGE && !ev->hard)
        return;
    if (ev->kind == DETECT_EVENT_STATE_CHANGE) {
        /* For availability: the state history is the check's, whatever the incidents do. */
        struct store_batch *b = store_batch_new();
        store_batch_check_state(b, check->name, (int)ev->new_status, (int64_t)ev->time_ms);
        store_submit(g->st, b, NULL, NULL);
    }
    struct event *v = xcalloc(1, sizeof(*v));
    engine_event_from_check(check, ev, v);
    engine_submit(g, v, 1, NULL, NULL);
}
