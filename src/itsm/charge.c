/* SPDX-License-Identifier: MIT */
/*
 * The runbook executor's hands on incidents (itsm.h): a run takes charge
 * of its incident (so the end of its events does not resolve it while the
 * run proves the repair), writes its steps on the incident's timeline,
 * and ends by healing it (resolved by hale) or escalating it to its team.
 * An incident whose events all ended while a run was in charge resolves
 * as the events said once the run lets go without healing it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "itsm/internal.h"

/* ---- events that ended while a run was in charge ---- */

static size_t ended_find(const struct itsm *x, int64_t id)
{
    for (size_t k = 0; k < x->n_ended; k++)
        if (x->ended[k].incident_id == id)
            return k;
    return SIZE_MAX;
}

static void ended_remove(struct itsm *x, size_t k)
{
    free(x->ended[k].by);
    free(x->ended[k].why);
    x->ended[k] = x->ended[--x->n_ended];
}

void itsm__ended_in_charge(struct itsm *x, const struct incident *i, int64_t time_ms,
                           const char *by, const char *why)
{
    size_t k = ended_find(x, i->id);
    if (k == SIZE_MAX) {
        if (x->n_ended == x->cap_ended) {
            x->cap_ended = x->cap_ended ? x->cap_ended * 2 : 8;
            x->ended = xreallocarray(x->ended, x->cap_ended, sizeof(*x->ended));
        }
        k = x->n_ended++;
    } else {
        free(x->ended[k].by);
        free(x->ended[k].why);
    }
    x->ended[k] = (struct itsm__ended){
            .incident_id = i->id, .time_ms = time_ms, .by = xstrdup(by), .why = xstrdup(why)};
}

void itsm__ended_free(struct itsm *x)
{
    while (x->n_ended)
        ended_remove(x, x->n_ended - 1);
    free(x->ended);
    x->ended = NULL;
    x->cap_ended = 0;
}

static bool is_open(const struct incident *i)
{
    return i->state != INCIDENT_RESOLVED && i->state != INCIDENT_CLOSED;
}

/* Whether an event still fires on i (an event may have come back after the end was noted). */
static bool holds_events(const struct itsm *x, int64_t id)
{
    for (size_t k = 0; k < x->n_held; k++)
        if (x->held[k].incident_id == id)
            return true;
    return false;
}

/*
 * The run lets go of i: when its events ended meanwhile (and none came
 * back), it resolves in b as they said. Returns whether it did.
 */
static bool release(struct itsm *x, struct store_batch *b, struct incident *i)
{
    i->runbook_in_charge = false;
    size_t k = ended_find(x, i->id);
    if (k == SIZE_MAX)
        return false;
    struct itsm__ended end = x->ended[k];
    bool resolve = is_open(i) && !holds_events(x, i->id);
    if (resolve) {
        itsm__timeline_add(b, i, TIMELINE_STATE, "hale",
                           "%s -> resolved: %s (its events ended "
                           "while runbook %s ran)",
                           incident_state_name(i->state), end.why, i->runbook ? i->runbook : "");
        i->state = INCIDENT_RESOLVED;
        i->resolved_ms = end.time_ms;
        free(i->resolved_by);
        i->resolved_by = xstrdup(strncmp(end.by, "user:", 5) == 0 ? end.by + 5 : end.by);
        log_info("itsm", NULL, "incident %lld resolved: %s", (long long)i->id, end.why);
    }
    ended_remove(x, k);
    return resolve;
}

/* ---- the executor's calls ---- */

int itsm_incident_get(struct itsm *x, int64_t id, struct incident *ret)
{
    struct incident spare = {0};
    struct err e = {0};
    struct incident *i = itsm__find(x, id, &spare, &e);
    if (!i)
        return e.code;
    if (i == &spare)
        *ret = spare;
    else
        incident_copy(ret, i);
    return 0;
}

bool itsm_runbook_events_ended(const struct itsm *x, int64_t id)
{
    return ended_find(x, id) != SIZE_MAX && !holds_events(x, id);
}

int itsm_runbook_charge(struct itsm *x, int64_t id, bool in_charge, struct err *e)
{
    struct incident *i = itsm__live_find(x, id);
    if (!i)
        return err_setf(e, HALE_ENOTFOUND, "incident %lld is not open", (long long)id);
    if (in_charge) {
        if (!is_open(i))
            return err_setf(e, HALE_ESTATE, "incident %lld is %s", (long long)id,
                            incident_state_name(i->state));
        i->runbook_in_charge = true;
        return 0;
    }
    struct store_batch *b = itsm__batch_for(i);
    if (release(x, b, i))
        itsm__commit(x, b, i, NULL, NULL, NULL);
    else
        store_batch_free(b);
    return 0;
}

int itsm_timeline_add(struct itsm *x, int64_t id, const char *actor, const struct itsm_entry *v,
                      size_t n, itsm_done_cb *cb, void *data, struct err *e)
{
    struct err local = {0};
    e = e ? e : &local;
    struct incident spare = {0};
    struct incident *i = itsm__find(x, id, &spare, e);
    if (!i)
        return e->code;
    struct store_batch *b = itsm__batch_for(i);
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    for (size_t k = 0; k < n; k++) {
        struct timeline_entry t = {
                .incident_id = id,
                .time_ms = now,
                .kind = v[k].kind,
                .actor = (char *)(uintptr_t)actor,
                .text = (char *)(uintptr_t)v[k].text,
                .data = (char *)(uintptr_t)v[k].data,
        };
        store_batch_timeline(b, &t); /* copies */
    }
    if (i == &spare)
        i = itsm__live_add(x, &spare);
    itsm__commit(x, b, i, NULL, cb, data);
    return 0;
}

int itsm_heal(struct itsm *x, int64_t id, const char *actor, const char *text, itsm_done_cb *cb,
              void *data, struct err *e)
{
    struct err local = {0};
    e = e ? e : &local;
    struct incident spare = {0};
    struct incident *i = itsm__find(x, id, &spare, e);
    if (!i)
        return e->code;
    if (!is_open(i)) {
        int r = err_setf(e, HALE_ESTATE, "incident %lld is %s already", (long long)id,
                         incident_state_name(i->state));
        incident_fini(&spare);
        return r;
    }
    struct store_batch *b = itsm__batch_for(i);
    i->runbook_in_charge = false;
    size_t k = ended_find(x, id);
    if (k != SIZE_MAX)
        ended_remove(x, k);
    itsm__timeline_add(b, i, TIMELINE_STATE, actor, "%s -> resolved: %s",
                       incident_state_name(i->state), text);
    i->state = INCIDENT_RESOLVED;
    i->resolved_ms = (int64_t)clock_real_ms(&clock_system);
    free(i->resolved_by);
    i->resolved_by = xstrdup("hale");
    log_info("itsm", NULL, "incident %lld resolved: %s", (long long)id, text);
    if (i == &spare)
        i = itsm__live_add(x, &spare);
    itsm__commit(x, b, i, NULL, cb, data);
    return 0;
}

int itsm_escalate(struct itsm *x, int64_t id, const char *actor, const char *team, const char *why,
                  itsm_done_cb *cb, void *data, struct err *e)
{
    struct err local = {0};
    e = e ? e : &local;
    struct incident spare = {0};
    struct incident *i = itsm__find(x, id, &spare, e);
    if (!i)
        return e->code;
    struct store_batch *b = itsm__batch_for(i);
    bool open = is_open(i);
    if (open && team && (!i->team || strcmp(i->team, team) != 0)) {
        free(i->team);
        i->team = xstrdup(team);
        itsm__timeline_add(b, i, TIMELINE_ASSIGNMENT, actor, "assigned to %s", team);
    }
    itsm__timeline_add(b, i, TIMELINE_NOTIFICATION, actor, "escalated%s%s: %s",
                       open && i->team ? " to " : "", open && i->team ? i->team : "", why);
    if (open)
        log_info("itsm", NULL, "incident %lld escalated to %s: %s", (long long)id,
                 i->team ? i->team : "nobody's team", why);
    release(x, b, i);
    if (i == &spare)
        i = itsm__live_add(x, &spare);
    itsm__commit(x, b, i, NULL, cb, data);
    return 0;
}

int itsm_assign_oncall(struct itsm *x, int64_t id, const char *person, const char *team,
                       bool *assigned, itsm_done_cb *cb, void *data, struct err *e)
{
    struct err local = {0};
    e = e ? e : &local;
    if (assigned)
        *assigned = false;
    struct incident spare = {0};
    struct incident *i = itsm__find(x, id, &spare, e);
    if (!i)
        return e->code;
    /* Somebody took it, or it is over: the rotation has no say. */
    if (!person || !*person || (i->assignee && *i->assignee) || !is_open(i)) {
        incident_fini(&spare);
        return 0;
    }
    struct store_batch *b = itsm__batch_for(i);
    free(i->assignee);
    i->assignee = xstrdup(person);
    itsm__timeline_add(b, i, TIMELINE_ASSIGNMENT, "hale",
                       "assigned to %s, on call for %s this week", person,
                       team ? team : "its team");
    log_info("itsm", NULL, "incident %lld assigned to %s (on call for %s)", (long long)id, person,
             team ? team : "its team");
    if (i == &spare)
        i = itsm__live_add(x, &spare);
    itsm__commit(x, b, i, NULL, cb, data);
    if (assigned)
        *assigned = true;
    return 0;
}
