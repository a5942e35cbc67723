/* SPDX-License-Identifier: MIT */
/*
 * The incident desk (itsm.h): the incidents held in memory, the one way
 * every change is written, loading at start and the seam from the checks.
 * Every change follows the same path: change the incident held in memory,
 * put the incident, its timeline entries and (for people) the audit entry
 * in one store batch, and tell the caller and the watchers once the batch
 * is durable. People's actions are in act.c, problems in problem.c.
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
        if (from == INCIDENT_RESOLVED && i->check)
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
    for (size_t i = 0; i < x->n_live; i++)
        if (x->live[i].id == id)
            return &x->live[i];
    return NULL;
}

static struct incident *live_by_fingerprint(struct itsm *x, const char *fp)
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
    return &x->live[x->n_live++];
}

static void live_remove(struct itsm *x, struct incident *i)
{
    incident_fini(i);
    *i = x->live[--x->n_live];
}

/* Resolved incidents past the reopen window will not reopen: drop them. */
static void live_prune(struct itsm *x, int64_t now)
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
static void live_reload(struct itsm *x, int64_t id)
{
    struct incident *held = itsm__live_find(x, id);
    if (!held || !x->reader)
        return;
    struct incident fresh = {0};
    int r = store_incident_get(x->reader, id, &fresh);
    if (r == 0) {
        incident_fini(held);
        *held = fresh;
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
        for (struct itsm__watcher *w = x->watchers; w; w = w->next)
            w->cb(&c->after, w->data);
    } else {
        log_error("itsm", NULL, "incident %lld: the change was not saved: %s",
                  (long long)c->after.id, hale_strerror(result));
        live_reload(x, c->after.id);
        for (size_t k = 0; k < c->linked.n_incidents; k++)
            live_reload(x, c->linked.incidents[k]);
        if (c->linked.problem_id)
            itsm__problem_reload(x, c->linked.problem_id);
    }
    if (c->cb)
        c->cb(result, &c->after, c->data);
    incident_fini(&c->after);
    free(c->linked.incidents);
    free(c);
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
    return 0;
}

int itsm_new(struct store *st, const struct config *config, struct itsm **ret_itsm, struct err *e)
{
    struct itsm *x = xcalloc(1, sizeof(*x));
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
    for (size_t i = 0; i < x->n_problems; i++)
        problem_fini(&x->problems[i]);
    free(x->problems);
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

/* ---- from the checks ---- */

static enum incident_severity severity_of(enum check_status s)
{
    return s == CHECK_STATUS_CRITICAL ? INCIDENT_SEVERITY_CRITICAL : INCIDENT_SEVERITY_WARNING;
}

static void check_open(struct itsm *x, const struct config_check *check,
                       const struct detect_event *ev, const char *fp)
{
    int64_t now = (int64_t)ev->time_ms;
    struct store_batch *b = store_batch_new();
    store_batch_check_state(b, check->name, (int)ev->new_status, now);
    char actor[300];
    snprintf(actor, sizeof(actor), "check:%s", check->name);
    const char *status = check_status_name(ev->new_status);
    struct incident *i = live_by_fingerprint(x, fp);
    if (i)
        store_batch_incident(b, i); /* the row first, as itsm__batch_for() does */
    if (i && i->state != INCIDENT_RESOLVED) {
        /* Still broken, now in another way: the same incident. */
        enum incident_severity sev = severity_of(ev->new_status);
        itsm__timeline_add(b, i, TIMELINE_EVENT, actor, "%s: %s", status, ev->summary);
        if (sev != i->severity) {
            i->severity = sev;
            i->priority = itsm_priority(&x->config->incidents, check->impact, sev);
        }
        itsm__commit(x, b, i, NULL, NULL, NULL);
        return;
    }
    if (i) {
        /* A recurrence soon after resolving: the same trouble, reopened. */
        i->state = INCIDENT_NEW;
        i->reopened++;
        i->resolved_ms = 0;
        i->acknowledged_ms = 0;
        free(i->resolved_by);
        i->resolved_by = NULL;
        i->severity = severity_of(ev->new_status);
        i->priority = itsm_priority(&x->config->incidents, check->impact, i->severity);
        itsm__timeline_add(b, i, TIMELINE_EVENT, actor, "%s: %s", status, ev->summary);
        itsm__timeline_add(b, i, TIMELINE_STATE, "hale", "resolved -> new: reopened, it came back");
        log_warn("itsm", NULL, "incident %lld reopened: %s", (long long)i->id, i->title);
        itsm__commit(x, b, i, NULL, NULL, NULL);
        return;
    }
    struct incident in = {
            .id = store_next_incident_id(x->st),
            .type = INCIDENT_TYPE_INCIDENT,
            .title = xasprintf("%s is %s", check->name, status),
            .fingerprint = xstrdup(fp),
            .severity = severity_of(ev->new_status),
            .category = itsm_category_of(check),
            .check = xstrdup(check->name),
            .state = INCIDENT_NEW,
            .opened_ms = now,
    };
    in.priority = itsm_priority(&x->config->incidents, check->impact, in.severity);
    labels_init(&in.labels);
    for (size_t k = 0; k < check->labels.n; k++)
        labels_set(&in.labels, check->labels.v[k].name, check->labels.v[k].value, NULL);
    const char *team = check->team_name                              ? check->team_name
                       : check->runbook && check->runbook->team_name ? check->runbook->team_name
                                                                     : NULL;
    in.team = team ? xstrdup(team) : NULL;
    store_batch_incident(b, &in); /* the row first, as itsm__batch_for() does */
    itsm__timeline_add(b, &in, TIMELINE_EVENT, actor, "%s: %s", status, ev->summary);
    itsm__timeline_add(b, &in, TIMELINE_STATE, "hale", "opened as P%u (%s)", in.priority,
                       incident_category_name(in.category));
    struct itsm__linked linked;
    itsm__problem_note(x, b, &in, &linked);
    log_warn("itsm", NULL, "incident %lld opened: %s", (long long)in.id, in.title);
    itsm__commit(x, b, itsm__live_add(x, &in), &linked, NULL, NULL);
}

static void check_recovered(struct itsm *x, const struct config_check *check,
                            const struct detect_event *ev, const char *fp)
{
    int64_t now = (int64_t)ev->time_ms;
    struct store_batch *b = store_batch_new();
    store_batch_check_state(b, check->name, (int)ev->new_status, now);
    struct incident *i = live_by_fingerprint(x, fp);
    if (!i || i->state == INCIDENT_RESOLVED) {
        store_submit(x->st, b, NULL, NULL);
        return;
    }
    store_batch_incident(b, i); /* the row first, as itsm__batch_for() does */
    char actor[300];
    snprintf(actor, sizeof(actor), "check:%s", check->name);
    itsm__timeline_add(b, i, TIMELINE_EVENT, actor, "ok: %s", ev->summary);
    itsm__timeline_add(b, i, TIMELINE_STATE, "hale", "%s -> resolved: %s is ok again",
                       incident_state_name(i->state), check->name);
    i->state = INCIDENT_RESOLVED;
    i->resolved_ms = now;
    free(i->resolved_by);
    i->resolved_by = xstrdup("hale");
    log_info("itsm", NULL, "incident %lld resolved: %s is ok again", (long long)i->id, check->name);
    itsm__commit(x, b, i, NULL, NULL, NULL);
}

void itsm_check_event(struct itsm *x, const struct config_check *check,
                      const struct detect_event *ev)
{
    char fp[300];
    snprintf(fp, sizeof(fp), "check:%s", check->name);
    live_prune(x, (int64_t)clock_real_ms(&clock_system));
    if (ev->kind != DETECT_EVENT_STATE_CHANGE) {
        struct incident *i = live_by_fingerprint(x, fp);
        if (i && i->state != INCIDENT_RESOLVED) {
            struct store_batch *b = itsm__batch_for(i);
            itsm__timeline_add(b, i, TIMELINE_EVENT, "hale", "%s",
                               detect_event_kind_name(ev->kind));
            itsm__commit(x, b, i, NULL, NULL, NULL);
        }
        return;
    }
    if (!ev->hard)
        return;
    if (ev->new_status == CHECK_STATUS_OK)
        check_recovered(x, check, ev, fp);
    else
        check_open(x, check, ev, fp);
}
