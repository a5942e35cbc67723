/* SPDX-License-Identifier: MIT */
/*
 * Problems (itsm.h): opened when one fingerprint keeps opening incidents,
 * then worked by people through their lifecycle (open -> known_error ->
 * resolved, reopened with a reason) until what keeps breaking is
 * eradicated. The desk holds the problems that are not resolved, to link
 * new incidents to them; a resolved one collects nothing more. Every
 * change goes on the problem's own timeline, and people's into the audit
 * log, in one batch, as for incidents.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "itsm/internal.h"

/* ---- the problems held in memory ---- */

struct problem *itsm__problem_add(struct itsm *x, struct problem *p)
{
    if (x->n_problems == x->cap_problems) {
        x->cap_problems = x->cap_problems ? x->cap_problems * 2 : 8;
        x->problems = xreallocarray(x->problems, x->cap_problems, sizeof(*x->problems));
    }
    x->problems[x->n_problems] = *p;
    memset(p, 0, sizeof(*p));
    return &x->problems[x->n_problems++];
}

static void problem_remove(struct itsm *x, struct problem *p)
{
    problem_fini(p);
    *p = x->problems[--x->n_problems];
}

static struct problem *problem_find(struct itsm *x, int64_t id)
{
    for (size_t i = 0; i < x->n_problems; i++)
        if (x->problems[i].id == id)
            return &x->problems[i];
    return NULL;
}

/* The problem that collects fingerprint fp's incidents: not resolved. */
static struct problem *problem_collecting(struct itsm *x, const char *fp)
{
    for (size_t i = 0; i < x->n_problems; i++)
        if (x->problems[i].state != PROBLEM_RESOLVED && strcmp(x->problems[i].fingerprint, fp) == 0)
            return &x->problems[i];
    return NULL;
}

void itsm__problem_reload(struct itsm *x, int64_t id)
{
    struct problem *held = problem_find(x, id);
    if (!held || !x->reader)
        return;
    struct problem fresh = {0};
    int r = store_problem_get(x->reader, id, &fresh);
    if (r == 0 && fresh.state != PROBLEM_RESOLVED) {
        problem_fini(held);
        *held = fresh;
        return;
    }
    problem_fini(&fresh);
    /* Resolved on disk, or its opening never reached it: it collects nothing. */
    if (r == 0 || r == HALE_ENOTFOUND)
        problem_remove(x, held);
}

/* ---- detection ---- */

static void linked_push(struct itsm__linked *l, int64_t id)
{
    l->incidents = xreallocarray(l->incidents, l->n_incidents + 1, sizeof(*l->incidents));
    l->incidents[l->n_incidents++] = id;
}

/*
 * The incidents of earlier that belong to no problem: those of a resolved
 * problem stay with it, so a recurrence after the resolution counts anew.
 * An incident held in memory is judged on the desk's copy.
 */
static size_t unlinked_count(struct itsm *x, const struct incident *earlier, size_t n)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++) {
        const struct incident *held = itsm__live_find(x, earlier[k].id);
        count += (held ? held->problem_id : earlier[k].problem_id) == 0;
    }
    return count;
}

static void problem_open(struct itsm *x, struct store_batch *b, struct incident *i,
                         struct incident *earlier, size_t n, size_t unlinked,
                         struct itsm__linked *linked)
{
    struct problem opened = {
            .id = store_next_problem_id(x->st),
            .title = xasprintf("%s keeps recurring", i->check ? i->check : i->title),
            .fingerprint = xstrdup(i->fingerprint),
            .state = PROBLEM_OPEN,
            .opened_ms = i->opened_ms,
            .updated_ms = i->opened_ms,
            .incidents = (unsigned)unlinked + 1,
    };
    struct problem *p = itsm__problem_add(x, &opened);
    store_batch_problem(b, p);
    linked->problem_id = p->id;
    i->problem_id = p->id;
    for (size_t k = 0; k < n; k++) {
        struct incident *held = itsm__live_find(x, earlier[k].id);
        struct incident *e = held ? held : &earlier[k];
        if (e->problem_id)
            continue;
        e->problem_id = p->id;
        store_batch_incident(b, e);
        linked_push(linked, e->id);
    }
    itsm__timeline_add(b, i, TIMELINE_EVENT, "hale",
                       "problem %lld opened: %u incidents of %s within the problem window",
                       (long long)p->id, p->incidents, i->fingerprint);
    itsm__problem_entry_add(b, p, TIMELINE_STATE, "hale",
                            "opened: %u incidents of %s within the problem window (the last: "
                            "incident %lld)",
                            p->incidents, i->fingerprint, (long long)i->id);
    log_warn("itsm", NULL, "problem %lld opened: %s", (long long)p->id, p->title);
}

void itsm__problem_note(struct itsm *x, struct store_batch *b, struct incident *i,
                        struct itsm__linked *ret_linked)
{
    *ret_linked = (struct itsm__linked){0};
    const struct config_incidents *c = &x->config->incidents;
    struct problem *p = problem_collecting(x, i->fingerprint);
    if (p) {
        p->incidents++;
        p->updated_ms = i->opened_ms;
        i->problem_id = p->id;
        ret_linked->problem_id = p->id;
        store_batch_problem(b, p);
        itsm__problem_entry_add(b, p, TIMELINE_EVENT, "hale", "incident %lld linked",
                                (long long)i->id);
        return;
    }
    struct store_incident_query q = {
            .fingerprint = i->fingerprint,
            .since_ms = i->opened_ms - (int64_t)c->problem_within_ms,
    };
    struct incident *earlier = NULL;
    size_t n = 0;
    if (!x->reader || store_incidents_list(x->reader, &q, &earlier, &n) < 0)
        return; /* no problem this time; the next incident tries again */
    size_t unlinked = unlinked_count(x, earlier, n);
    if (unlinked + 1 >= c->problem_after)
        problem_open(x, b, i, earlier, n, unlinked, ret_linked);
    for (size_t k = 0; k < n; k++)
        incident_fini(&earlier[k]);
    free(earlier);
}

/* ---- the lifecycle, pure ---- */

/* A text a person gives: absent, or something to keep. */
static int text_check(const char *text, const char *field, struct err *e)
{
    if (text && !*text)
        return err_setf(e, -EINVAL, "%s is empty: leave it out, or say something", field);
    return 0;
}

/* The move to state c->state, from p's. */
static int move_check(const struct problem *p, const struct itsm_problem_change *c, struct err *e)
{
    long long id = (long long)p->id;
    enum problem_state from = p->state, to = c->state;
    if (from == to)
        return err_setf(e, HALE_ESTATE, "problem %lld is already %s", id, problem_state_name(to));
    switch (to) {
    case PROBLEM_OPEN:
        if (from == PROBLEM_KNOWN_ERROR)
            return err_setf(e, HALE_ESTATE,
                            "problem %lld is a known error: it goes on to resolved, not back to "
                            "open (change its root cause or workaround instead)",
                            id);
        if (!c->note)
            return err_setf(e, -EINVAL,
                            "note: reopening problem %lld needs a note saying why it is back", id);
        return 0;
    case PROBLEM_KNOWN_ERROR:
        if (from == PROBLEM_RESOLVED)
            return err_setf(e, HALE_ESTATE,
                            "problem %lld is resolved: reopen it (state open, with a note) first",
                            id);
        if (!c->root_cause && !p->root_cause)
            return err_setf(e, -EINVAL, "root_cause: a known error needs its root cause: give it");
        return 0;
    case PROBLEM_RESOLVED:
        return 0;
    }
    return err_setf(e, -EINVAL, "state: unknown state");
}

int itsm_problem_change_check(const struct problem *p, const struct itsm_problem_change *c,
                              struct err *e)
{
    if (!c->has_state && !c->root_cause && !c->workaround && !c->note)
        return err_setf(e, -EINVAL, "say what to change: state, root_cause, workaround or note");
    int r;
    if ((r = text_check(c->root_cause, "root_cause", e)) < 0 ||
        (r = text_check(c->workaround, "workaround", e)) < 0 ||
        (r = text_check(c->note, "note", e)) < 0)
        return r;
    if (c->has_state && (r = move_check(p, c, e)) < 0)
        return r;
    bool reopened = c->has_state && c->state == PROBLEM_OPEN;
    if (p->state == PROBLEM_RESOLVED && !reopened && (c->root_cause || c->workaround))
        return err_setf(e, HALE_ESTATE,
                        "problem %lld is resolved: reopen it (state open, with a note) to change "
                        "its root cause or workaround",
                        (long long)p->id);
    return 0;
}

/* ---- people's changes ---- */

struct problem_change {
    struct itsm *x;
    struct problem after;
    itsm_problem_done_cb *cb;
    void *data;
};

static void problem_change_done(int result, void *data)
{
    struct problem_change *c = data;
    struct itsm *x = c->x;
    if (result == 0) {
        /* Resolved and on disk: it collects nothing more (unless reopened meanwhile). */
        struct problem *held = problem_find(x, c->after.id);
        if (held && held->state == PROBLEM_RESOLVED)
            problem_remove(x, held);
    } else {
        log_error("itsm", NULL, "problem %lld: the change was not saved: %s",
                  (long long)c->after.id, hale_strerror(result));
        itsm__problem_reload(x, c->after.id);
    }
    if (c->cb)
        c->cb(result, &c->after, c->data);
    problem_fini(&c->after);
    free(c);
}

/* The problem id names: held in memory, else read into *spare. */
static struct problem *find_for_change(struct itsm *x, int64_t id, struct problem *spare,
                                       struct err *e)
{
    struct problem *p = problem_find(x, id);
    if (p)
        return p;
    int r = x->reader ? store_problem_get(x->reader, id, spare) : HALE_ESTATE;
    if (r == HALE_ENOTFOUND) {
        err_setf(e, r, "no problem %lld", (long long)id);
        return NULL;
    }
    if (r < 0) {
        err_setf(e, r, "cannot read problem %lld", (long long)id);
        return NULL;
    }
    return spare;
}

/* Replaces *field with a copy of text. */
static void text_set(char **field, const char *text)
{
    free(*field);
    *field = xstrdup(text);
}

/* Applies the checked change c to p in b, with its timeline entries and audit entries. */
static void change_apply(struct store_batch *b, struct problem *p,
                         const struct itsm_problem_request *rq)
{
    const struct itsm_problem_change *c = &rq->change;
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    if (c->root_cause) {
        text_set(&p->root_cause, c->root_cause);
        itsm__problem_entry_add(b, p, TIMELINE_NOTE, rq->actor, "root cause: %s", c->root_cause);
        itsm__audit_add(b, rq->actor, rq->origin, "problem.root_cause", "problem", p->id);
    }
    if (c->workaround) {
        text_set(&p->workaround, c->workaround);
        itsm__problem_entry_add(b, p, TIMELINE_NOTE, rq->actor, "workaround: %s", c->workaround);
        itsm__audit_add(b, rq->actor, rq->origin, "problem.workaround", "problem", p->id);
    }
    if (c->has_state) {
        static const char *const actions[] = {
                [PROBLEM_OPEN] = "problem.reopen",
                [PROBLEM_KNOWN_ERROR] = "problem.known_error",
                [PROBLEM_RESOLVED] = "problem.resolve",
        };
        itsm__problem_entry_add(b, p, TIMELINE_STATE, rq->actor, "%s -> %s",
                                problem_state_name(p->state), problem_state_name(c->state));
        itsm__audit_add(b, rq->actor, rq->origin, actions[c->state], "problem", p->id);
        p->state = c->state;
        p->resolved_ms = c->state == PROBLEM_RESOLVED ? now : 0;
    }
    if (c->note) {
        itsm__problem_entry_add(b, p, TIMELINE_NOTE, rq->actor, "%s", c->note);
        itsm__audit_add(b, rq->actor, rq->origin, "problem.note", "problem", p->id);
    }
    p->updated_ms = now;
}

int itsm_problem_update(struct itsm *x, const struct itsm_problem_request *rq,
                        itsm_problem_done_cb *cb, void *data, struct err *e)
{
    struct problem spare = {0};
    struct problem *p = find_for_change(x, rq->id, &spare, e);
    if (!p)
        return e->code;
    int r = itsm_problem_change_check(p, &rq->change, e);
    const struct problem *other = problem_collecting(x, p->fingerprint);
    if (r == 0 && rq->change.has_state && rq->change.state == PROBLEM_OPEN && other && other != p)
        r = err_setf(e, HALE_ESTATE,
                     "problem %lld collects the incidents of %s now: work on that one instead",
                     (long long)other->id, p->fingerprint);
    if (r < 0) {
        problem_fini(&spare);
        return r;
    }
    /* Held in memory until the change is on disk, so the next change is judged on it. */
    if (p == &spare)
        p = itsm__problem_add(x, &spare);
    struct store_batch *b = store_batch_new();
    store_batch_problem(b, p); /* the row first: its timeline entries refer to it */
    change_apply(b, p, rq);
    store_batch_problem(b, p);
    log_info("itsm", NULL, "problem %lld changed by %s, now %s", (long long)p->id, rq->actor,
             problem_state_name(p->state));
    struct problem_change *c = xcalloc(1, sizeof(*c));
    c->x = x;
    problem_copy(&c->after, p);
    c->cb = cb;
    c->data = data;
    store_submit(x->st, b, problem_change_done, c);
    return 0;
}
