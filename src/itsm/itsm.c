/* SPDX-License-Identifier: MIT */
/*
 * The incident desk (itsm.h): the incidents held in memory, the one way
 * every change is written, and loading at start. Every change follows the
 * same path: change the incident held in memory, put the incident, its
 * timeline entries and (for people) the audit entry in one store batch,
 * and tell the caller and the watchers once the batch is durable. The
 * engine's decisions are applied in apply.c, people's actions in act.c,
 * problems in problem.c.
 */
#include "itsm/itsm.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "itsm/internal.h"

/* ---- the rules ---- */

int itsm_transition_check(const struct incident *i, enum incident_state to, struct err *e)
{
    enum incident_state from = i->state;
    long long id = (long long)i->id;
    if (from == INCIDENT_CLOSED)
        return err_setf(e, HALE_ESTATE,
                        "incident %lld is closed: a closed incident takes no more changes", id);
    switch (to) {
    case INCIDENT_ACKNOWLEDGED:
        if (from == INCIDENT_NEW)
            return 0;
        /* What events opened reopens when they come back; what people opened does not. */
        if (from == INCIDENT_RESOLVED &&
            (i->check || (i->fingerprint && strncmp(i->fingerprint, "manual:", 7) != 0)))
            return err_setf(e, HALE_ESTATE,
                            "incident %lld is resolved: it reopens by itself if the trouble "
                            "comes back",
                            id);
        if (from == INCIDENT_RESOLVED)
            return err_setf(e, HALE_ESTATE,
                            "incident %lld is resolved: close it, or open a new one if the "
                            "trouble is back",
                            id);
        return err_setf(e, HALE_ESTATE, "incident %lld is already %s", id,
                        from == INCIDENT_ACKNOWLEDGED ? "acknowledged" : "in progress");
    case INCIDENT_IN_PROGRESS:
        if (from == INCIDENT_NEW || from == INCIDENT_ACKNOWLEDGED || from == INCIDENT_IN_PROGRESS)
            return 0;
        return err_setf(e, HALE_ESTATE, "incident %lld is resolved: nobody works on it any more",
                        id);
    case INCIDENT_RESOLVED:
        if (from != INCIDENT_RESOLVED)
            return 0;
        return err_setf(e, HALE_ESTATE, "incident %lld is already resolved", id);
    case INCIDENT_CLOSED:
        if (from == INCIDENT_RESOLVED)
            return 0;
        return err_setf(e, HALE_ESTATE, "incident %lld is %s: resolve it before closing it", id,
                        incident_state_name(from));
    case INCIDENT_NEW:
        break;
    }
    return err_setf(e, HALE_ESTATE, "incident %lld cannot become %s by hand", id,
                    incident_state_name(to));
}

unsigned itsm_priority(const struct config_incidents *c, enum config_impact impact,
                       enum incident_severity severity)
{
    /* Urgency: how fast it hurts. Critical is high, warning medium, info low. */
    unsigned urgency = severity == INCIDENT_SEVERITY_CRITICAL  ? 0
                       : severity == INCIDENT_SEVERITY_WARNING ? 1
                                                               : 2;
    unsigned p = c->priority[impact][urgency];
    return p >= 1 && p <= 5 ? p : 3;
}

enum incident_category itsm_category_of(const struct config_check *check)
{
    enum incident_category c;
    if (check->category && incident_category_parse(check->category, &c) == 0)
        return c;
    switch (check->type) {
    case CONFIG_CHECK_TCP:
    case CONFIG_CHECK_HTTP:
        return INCIDENT_CATEGORY_NETWORK;
    case CONFIG_CHECK_DISK:
        return INCIDENT_CATEGORY_HARDWARE;
    case CONFIG_CHECK_FILE:
    case CONFIG_CHECK_LOG:
    case CONFIG_CHECK_HEARTBEAT:
        return INCIDENT_CATEGORY_DATA;
    default:
        return INCIDENT_CATEGORY_SOFTWARE;
    }
}

/* ---- the incidents held in memory ---- */

struct incident *itsm__live_find(struct itsm *x, int64_t id)
{
    size_t at;
    return idindex_get(&x->live_index, id, &at) ? &x->live[at] : NULL;
}

struct incident *itsm__live_by_fingerprint(struct itsm *x, const char *fp)
{
    for (size_t i = 0; i < x->n_live; i++)
        if (strcmp(x->live[i].fingerprint, fp) == 0)
            return &x->live[i];
    return NULL;
}

struct incident *itsm__live_add(struct itsm *x, struct incident *i)
{
    if (x->n_live == x->cap_live) {
        x->cap_live = x->cap_live ? x->cap_live * 2 : 16;
        x->live = xreallocarray(x->live, x->cap_live, sizeof(*x->live));
    }
    x->live[x->n_live] = *i;
    memset(i, 0, sizeof(*i));
    idindex_put(&x->live_index, x->live[x->n_live].id, x->n_live);
    itsm__incidents_changed(x);
    return &x->live[x->n_live++];
}

static void live_remove(struct itsm *x, struct incident *i)
{
    size_t at = (size_t)(i - x->live), last = x->n_live - 1;
    idindex_del(&x->live_index, i->id);
    incident_fini(i);
    if (at != last) {
        /* The last incident moves into the hole. */
        idindex_put(&x->live_index, x->live[last].id, at);
        *i = x->live[last];
    }
    x->n_live--;
    x->held_stale = true;
    itsm__incidents_changed(x);
}

void itsm__live_prune(struct itsm *x, int64_t now)
{
    for (size_t i = x->n_live; i-- > 0;) {
        const struct incident *in = &x->live[i];
        if (in->state == INCIDENT_RESOLVED &&
            in->resolved_ms + (int64_t)x->config->incidents.reopen_within_ms < now)
            live_remove(x, &x->live[i]);
    }
}

/* ---- writing ---- */

struct change {
    struct itsm *x;
    struct incident after;
    struct itsm__linked linked;
    itsm_done_cb *cb;
    void *data;
};

/*
 * A change that failed to commit left the incident held in memory ahead of
 * the store: take the store's copy back (or forget an incident whose
 * opening never reached it), so a retry is judged on what is on disk.
 */
void itsm__live_reload(struct itsm *x, int64_t id)
{
    struct incident *held = itsm__live_find(x, id);
    if (!held || !x->reader)
        return;
    x->held_stale = true;
    itsm__incidents_changed(x);
    struct incident fresh = {0};
    int r = store_incident_get(x->reader, id, &fresh);
    if (r == 0) {
        bool in_charge = held->runbook_in_charge;
        incident_fini(held);
        *held = fresh;
        /* The store does not keep what is in memory only; that has not changed. */
        held->runbook_in_charge = in_charge;
    } else if (r == HALE_ENOTFOUND) {
        live_remove(x, held);
    }
}

static void change_done(int result, void *data)
{
    struct change *c = data;
    struct itsm *x = c->x;
    if (result == 0) {
        /* Closed and on disk: nothing will change it any more. */
        struct incident *held = itsm__live_find(x, c->after.id);
        if (held && held->state == INCIDENT_CLOSED)
            live_remove(x, held);
        itsm__watchers_tell(x, &c->after);
    } else {
        log_error("itsm", NULL, "incident %lld: the change was not saved: %s",
                  (long long)c->after.id, hale_strerror(result));
        itsm__live_reload(x, c->after.id);
        for (size_t k = 0; k < c->linked.n_incidents; k++)
            itsm__live_reload(x, c->linked.incidents[k]);
        if (c->linked.problem_id)
            itsm__problem_reload(x, c->linked.problem_id);
    }
    if (c->cb)
        c->cb(result, &c->after, c->data);
    incident_fini(&c->after);
    free(c->linked.incidents);
    free(c);
}

void itsm__watchers_tell(struct itsm *x, const struct incident *i)
{
    for (struct itsm__watcher *w = x->watchers; w; w = w->next)
        w->cb(i, w->data);
}

struct store_batch *itsm__batch_for(const struct incident *i)
{
    struct store_batch *b = store_batch_new();
    store_batch_incident(b, i);
    return b;
}

void itsm__commit(struct itsm *x, struct store_batch *b, struct incident *i,
                  struct itsm__linked *linked, itsm_done_cb *cb, void *data)
{
    i->updated_ms = (int64_t)clock_real_ms(&clock_system);
    store_batch_incident(b, i);
    /* People's actions and the runbooks' are few: whatever changed, the view is rebuilt. */
    itsm__incidents_changed(x);
    /* Only an incident no longer open lets go of the fingerprints it holds. */
    if (i->state == INCIDENT_RESOLVED || i->state == INCIDENT_CLOSED)
        x->held_stale = true;
    struct change *c = xcalloc(1, sizeof(*c));
    c->x = x;
    incident_copy(&c->after, i);
    if (linked) {
        c->linked = *linked;
        *linked = (struct itsm__linked){0};
    }
    c->cb = cb;
    c->data = data;
    store_submit(x->st, b, change_done, c);
}

static void entry_add(struct store_batch *b, int64_t incident_id, int64_t problem_id,
                      enum timeline_kind kind, const char *actor, const char *fmt, va_list ap)
        __attribute__((format(printf, 6, 0)));

static void entry_add(struct store_batch *b, int64_t incident_id, int64_t problem_id,
                      enum timeline_kind kind, const char *actor, const char *fmt, va_list ap)
{
    struct timeline_entry t = {
            .incident_id = incident_id,
            .problem_id = problem_id,
            .time_ms = (int64_t)clock_real_ms(&clock_system),
            .kind = kind,
            .actor = xstrdup(actor),
            .text = xvasprintf(fmt, ap),
    };
    store_batch_timeline(b, &t);
    timeline_entry_fini(&t);
}

void itsm__timeline_add(struct store_batch *b, const struct incident *i, enum timeline_kind kind,
                        const char *actor, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    entry_add(b, i->id, 0, kind, actor, fmt, ap);
    va_end(ap);
}

void itsm__problem_entry_add(struct store_batch *b, const struct problem *p,
                             enum timeline_kind kind, const char *actor, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    entry_add(b, 0, p->id, kind, actor, fmt, ap);
    va_end(ap);
}

void itsm__audit_add(struct store_batch *b, const char *actor, const char *origin,
                     const char *action, const char *kind, int64_t id)
{
    struct audit_entry a = {
            .time_ms = (int64_t)clock_real_ms(&clock_system),
            .actor = xstrdup(actor),
            .action = xstrdup(action),
            .target = xasprintf("%s:%lld", kind, (long long)id),
            .origin = origin ? xstrdup(origin) : NULL,
    };
    store_batch_audit(b, &a);
    audit_entry_fini(&a);
}

/* ---- loading ---- */

static int load(struct itsm *x, struct err *e)
{
    struct store_incident_query q = {
            .states = 1u << INCIDENT_NEW | 1u << INCIDENT_ACKNOWLEDGED |
                      1u << INCIDENT_IN_PROGRESS | 1u << INCIDENT_RESOLVED,
    };
    struct incident *v = NULL;
    size_t n = 0;
    int r = store_incidents_list(x->reader, &q, &v, &n);
    if (r < 0)
        return err_setf(e, r, "cannot read the open incidents");
    for (size_t i = 0; i < n; i++)
        itsm__live_add(x, &v[i]);
    free(v);
    struct problem *p = NULL;
    r = store_problems_list(x->reader, &p, &n);
    if (r < 0)
        return err_setf(e, r, "cannot read the problems");
    for (size_t i = 0; i < n; i++) {
        if (p[i].state == PROBLEM_RESOLVED) {
            problem_fini(&p[i]);
            continue;
        }
        itsm__problem_add(x, &p[i]);
    }
    free(p);
    if (itsm__held_load(x) < 0)
        return err_setf(e, HALE_ESTORE, "cannot read the events firing on the open incidents");
    return 0;
}

int itsm_new(struct store *st, const struct config *config, struct itsm **ret_itsm, struct err *e)
{
    struct itsm *x = xcalloc(1, sizeof(*x));
    x->incidents_gen = 1; /* ahead of view_gen: the first view is built */
    x->st = st;
    x->config = config;
    int r = store_reader_open(st, &x->reader, e);
    if (r == 0)
        r = load(x, e);
    if (r < 0) {
        itsm_free(x);
        return r;
    }
    *ret_itsm = x;
    return 0;
}

void itsm_free(struct itsm *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->n_live; i++)
        incident_fini(&x->live[i]);
    free(x->live);
    idindex_fini(&x->live_index);
    for (size_t i = 0; i < x->n_problems; i++)
        problem_fini(&x->problems[i]);
    free(x->problems);
    free(x->held);
    free(x->view_incidents);
    free(x->held_rows);
    idindex_fini(&x->held_index);
    itsm__ended_free(x);
    while (x->watchers) {
        struct itsm__watcher *w = x->watchers;
        x->watchers = w->next;
        free(w);
    }
    store_reader_close(x->reader);
    free(x);
}

void itsm_close_reader(struct itsm *x)
{
    if (!x)
        return;
    store_reader_close(x->reader);
    x->reader = NULL;
}

void itsm_set_config(struct itsm *x, const struct config *config)
{
    x->config = config;
}

void itsm_watch(struct itsm *x, itsm_watch_cb *cb, void *data)
{
    struct itsm__watcher *w = xcalloc(1, sizeof(*w));
    w->cb = cb;
    w->data = data;
    w->next = x->watchers;
    x->watchers = w;
}

void itsm_unwatch(struct itsm *x, itsm_watch_cb *cb, void *data)
{
    for (struct itsm__watcher **pp = &x->watchers; *pp; pp = &(*pp)->next)
        if ((*pp)->cb == cb && (*pp)->data == data) {
            struct itsm__watcher *w = *pp;
            *pp = w->next;
            free(w);
            return;
        }
}
