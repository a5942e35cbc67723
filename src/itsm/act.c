/* SPDX-License-Identifier: MIT */
/*
 * People's actions on incidents (itsm.h): ack, assign, note, resolve and
 * close under the lifecycle, and incidents and requests opened by hand.
 * Each is judged on the incident held in memory (a change not yet on disk
 * counts), written with its audit entry in one batch, and answered once
 * durable.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "itsm/internal.h"

/* ---- people's actions ---- */

struct incident *itsm__find(struct itsm *x, int64_t id, struct incident *spare, struct err *e)
{
    struct incident *i = itsm__live_find(x, id);
    if (i)
        return i;
    int r = x->reader ? store_incident_get(x->reader, id, spare) : HALE_ESTATE;
    if (r == HALE_ENOTFOUND) {
        err_setf(e, r, "no incident %lld", (long long)id);
        return NULL;
    }
    if (r < 0) {
        err_setf(e, r, "cannot read incident %lld", (long long)id);
        return NULL;
    }
    return spare;
}

/* Moves i to state `to`, on its timeline; the check was done. */
static void move(struct store_batch *b, struct incident *i, enum incident_state to,
                 const char *actor)
{
    itsm__timeline_add(b, i, TIMELINE_STATE, actor, "%s -> %s", incident_state_name(i->state),
                       incident_state_name(to));
    i->state = to;
}

static int act_assign(struct store_batch *b, struct incident *i, const struct itsm_request *rq,
                      struct err *e)
{
    if (!rq->team && !rq->assignee)
        return err_setf(e, -EINVAL, "say whom to assign it to: a team, an assignee, or both");
    if (i->state == INCIDENT_RESOLVED || i->state == INCIDENT_CLOSED)
        return itsm_transition_check(i, INCIDENT_IN_PROGRESS, e);
    if (rq->team) {
        free(i->team);
        i->team = xstrdup(rq->team);
    }
    if (rq->assignee) {
        free(i->assignee);
        i->assignee = xstrdup(rq->assignee);
    }
    itsm__timeline_add(b, i, TIMELINE_ASSIGNMENT, rq->actor, "assigned to %s%s%s",
                       rq->team ? rq->team : "", rq->team && rq->assignee ? ", " : "",
                       rq->assignee ? rq->assignee : "");
    /* Somebody works on it now. */
    if (rq->assignee && i->state != INCIDENT_IN_PROGRESS) {
        if (!i->acknowledged_ms)
            i->acknowledged_ms = (int64_t)clock_real_ms(&clock_system);
        move(b, i, INCIDENT_IN_PROGRESS, rq->actor);
    }
    return 0;
}

/* Applies rq to i in b; 0, or a refusal with e set. */
static int act_on(struct store_batch *b, struct incident *i, const struct itsm_request *rq,
                  struct err *e)
{
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    int r;
    switch (rq->action) {
    case ITSM_ACK:
        if ((r = itsm_transition_check(i, INCIDENT_ACKNOWLEDGED, e)) < 0)
            return r;
        i->acknowledged_ms = now;
        move(b, i, INCIDENT_ACKNOWLEDGED, rq->actor);
        return 0;
    case ITSM_ASSIGN:
        return act_assign(b, i, rq, e);
    case ITSM_NOTE:
        if (!rq->text || !*rq->text)
            return err_setf(e, -EINVAL, "a note needs a text");
        if (i->state == INCIDENT_CLOSED)
            return itsm_transition_check(i, INCIDENT_RESOLVED, e);
        itsm__timeline_add(b, i, TIMELINE_NOTE, rq->actor, "%s", rq->text);
        return 0;
    case ITSM_RESOLVE:
        if ((r = itsm_transition_check(i, INCIDENT_RESOLVED, e)) < 0)
            return r;
        i->resolved_ms = now;
        free(i->resolved_by);
        i->resolved_by = xstrdup(strncmp(rq->actor, "user:", 5) == 0 ? rq->actor + 5 : rq->actor);
        if (rq->cause && *rq->cause) {
            free(i->root_cause);
            i->root_cause = xstrdup(rq->cause);
        }
        move(b, i, INCIDENT_RESOLVED, rq->actor);
        return 0;
    case ITSM_CLOSE:
        if ((r = itsm_transition_check(i, INCIDENT_CLOSED, e)) < 0)
            return r;
        i->closed_ms = now;
        move(b, i, INCIDENT_CLOSED, rq->actor);
        return 0;
    }
    return err_setf(e, -EINVAL, "unknown action");
}

static const char *const action_names[] = {"incident.ack", "incident.assign", "incident.note",
                                           "incident.resolve", "incident.close"};

int itsm_act(struct itsm *x, const struct itsm_request *rq, itsm_done_cb *cb, void *data,
             struct err *e)
{
    struct incident spare = {0};
    struct incident *i = itsm__find(x, rq->id, &spare, e);
    if (!i)
        return e->code;
    struct store_batch *b = itsm__batch_for(i);
    int r = act_on(b, i, rq, e);
    if (r < 0) {
        store_batch_free(b);
        incident_fini(&spare);
        return r;
    }
    /*
     * Held in memory until the change is on disk, so the next action is
     * judged on it, not on the store's older copy.
     */
    if (i == &spare)
        i = itsm__live_add(x, &spare);
    itsm__audit_add(b, rq->actor, rq->origin, action_names[rq->action], "incident", rq->id);
    itsm__commit(x, b, i, NULL, cb, data);
    return 0;
}

/* ---- opened by hand ---- */

char *itsm_manual_fingerprint(enum incident_type type, const char *title)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "manual:%s:", incident_type_name(type));
    bool started = false, gap = false;
    for (const char *p = title; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isspace(ch)) {
            gap = started; /* none before the first word */
            continue;
        }
        if (gap)
            strbuf_addc(&b, ' ');
        gap = false;
        started = true;
        strbuf_addc(&b, (char)tolower(ch));
    }
    return strbuf_detach(&b, NULL);
}

static bool is_blank(const char *s)
{
    for (; s && *s; s++)
        if (!isspace((unsigned char)*s))
            return false;
    return true;
}

int itsm_open(struct itsm *x, const struct itsm_opening *o, itsm_done_cb *cb, void *data,
              struct err *e)
{
    if (is_blank(o->title))
        return err_setf(e, -EINVAL, "title: say what is wrong or what is asked for");
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    struct incident in = {
            .id = store_next_incident_id(x->st),
            .type = o->type,
            .title = xstrdup(o->title),
            .fingerprint = itsm_manual_fingerprint(o->type, o->title),
            .severity = o->severity,
            .priority = itsm_priority(&x->config->incidents, o->impact, o->severity),
            .category = o->category,
            .team = o->team ? xstrdup(o->team) : NULL,
            .state = INCIDENT_NEW,
            .opened_ms = now,
    };
    labels_init(&in.labels);
    for (size_t k = 0; o->labels && k < o->labels->n; k++)
        labels_set(&in.labels, o->labels->v[k].name, o->labels->v[k].value, NULL);
    struct store_batch *b = itsm__batch_for(&in);
    itsm__timeline_add(b, &in, TIMELINE_STATE, o->actor, "opened by %s as P%u (%s)", o->actor,
                       in.priority, incident_category_name(in.category));
    if (o->description && *o->description)
        itsm__timeline_add(b, &in, TIMELINE_NOTE, o->actor, "%s", o->description);
    /* Requests recur by nature ("a VPN token for Bob"): only incidents make problems. */
    struct itsm__linked linked = {0};
    if (o->type != INCIDENT_TYPE_REQUEST)
        itsm__problem_note(x, b, &in, &linked);
    itsm__audit_add(b, o->actor, o->origin,
                    o->type == INCIDENT_TYPE_REQUEST ? "request.open" : "incident.open", "incident",
                    in.id);
    log_info("itsm", NULL, "%s %lld opened by %s: %s", incident_type_name(in.type),
             (long long)in.id, o->actor, in.title);
    itsm__commit(x, b, itsm__live_add(x, &in), &linked, cb, data);
    return 0;
}
