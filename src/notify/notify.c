/* SPDX-License-Identifier: MIT */
/*
 * The dispatcher's policy: who is told of an incident, and when. It
 * hears every durable change of an incident (the desk's watch) and every
 * heal that failed (the runbook executor's seam), decides from the team's
 * policy which notifications go out (escalated by default, opened and
 * resolved when the team asks, escalation levels until somebody
 * acknowledges, the end users' channel), and queues them in the outbox
 * (outbox.c), which delivers them.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "engine/event.h"
#include "engine/route.h"
#include "metrics/metrics.h"
#include "net/net.h"
#include "notify/internal.h"

const char *notify_reason_name(enum notify_reason r)
{
    switch (r) {
    case NOTIFY_OPENED:
        return "opened";
    case NOTIFY_ESCALATED:
        return "escalated";
    case NOTIFY_LEVEL:
        return "level";
    case NOTIFY_RESOLVED:
        return "resolved";
    case NOTIFY_USERS:
        return "users";
    case NOTIFY_STEP:
        return "step";
    case NOTIFY_ACKNOWLEDGED:
        return "acknowledged";
    }
    return "unknown";
}

/* ---- what the policy remembers of incidents ---- */

static struct notify__incident *incident_find(struct notify *n, int64_t id)
{
    for (size_t k = 0; k < n->n_incidents; k++)
        if (n->incidents[k].id == id)
            return &n->incidents[k];
    return NULL;
}

/* Forgets the incidents settled longest ago when full: they take no more pages. */
static struct notify__incident *incident_add(struct notify *n, const struct incident *i)
{
    if (n->n_incidents == NOTIFY__INCIDENTS_MAX) {
        size_t drop = 0;
        while (drop < n->n_incidents && n->incidents[drop].state < INCIDENT_RESOLVED)
            drop++;
        if (drop == n->n_incidents)
            drop = 0;
        memmove(&n->incidents[drop], &n->incidents[drop + 1],
                (n->n_incidents - drop - 1) * sizeof(*n->incidents));
        n->n_incidents--;
    }
    if (n->n_incidents == n->cap_incidents) {
        n->cap_incidents = n->cap_incidents ? n->cap_incidents * 2 : 64;
        n->incidents = xreallocarray(n->incidents, n->cap_incidents, sizeof(*n->incidents));
    }
    struct notify__incident *s = &n->incidents[n->n_incidents++];
    *s = (struct notify__incident){.id = i->id, .reopened = i->reopened, .state = i->state};
    return s;
}

static bool is_open(enum incident_state s)
{
    return s < INCIDENT_RESOLVED;
}

/* What was told of the incidents still open, from the outbox's rows: a restart forgets nothing. */
static int incidents_load(struct notify *n, struct err *e)
{
    struct store_incident_query q = {.states = (1u << INCIDENT_NEW) |
                                               (1u << INCIDENT_ACKNOWLEDGED) |
                                               (1u << INCIDENT_IN_PROGRESS)};
    struct incident *v = NULL;
    size_t count = 0;
    if (store_incidents_list(n->reader, &q, &v, &count) < 0)
        return err_setf(e, HALE_ESTORE, "cannot read the open incidents");
    int r = 0;
    for (size_t k = 0; k < count; k++) {
        struct notify__incident *s = incident_add(n, &v[k]);
        struct store_notification *nv = NULL;
        size_t nn = 0;
        if (r == 0 && store_notifications_list(n->reader, v[k].id, &nv, &nn) < 0)
            r = err_setf(e, HALE_ESTORE, "cannot read the notifications of incident %lld",
                         (long long)v[k].id);
        for (size_t j = 0; j < nn; j++) {
            /* Only what was said of this opening: after the last reopening. */
            if (nv[j].created_ms >= v[k].opened_ms || v[k].reopened == 0) {
                if (strcmp(nv[j].reason, "escalated") == 0)
                    s->escalated = true;
                if (strcmp(nv[j].reason, "users") == 0)
                    s->users_told = true;
                else
                    s->told = true;
            }
            store_notification_fini(&nv[j]);
        }
        free(nv);
        incident_fini(&v[k]);
    }
    free(v);
    return r;
}

/* ---- queueing ---- */

static void queue(struct notify *n, const struct incident *i, const char *team,
                  const struct config_notifier *nt, enum notify_reason reason, unsigned level,
                  const char *text, const char *assignee, int64_t due_ms)
{
    struct store_notification rec = {
            .incident_id = i->id,
            .team = (char *)(uintptr_t)team,
            .notifier = (char *)(uintptr_t)nt->name,
            .reason = (char *)(uintptr_t)notify_reason_name(reason),
            .level = level,
            .text = (char *)(uintptr_t)(text ? text : ""),
            .assignee = (char *)(uintptr_t)assignee,
            .due_ms = due_ms,
    };
    notify__outbox_add(n, &rec);
}

static void queue_all(struct notify *n, const struct incident *i, const struct config_team *t,
                      const struct config_notifier *const *v, size_t count,
                      enum notify_reason reason, unsigned level, const char *text,
                      const char *assignee, int64_t due_ms)
{
    for (size_t k = 0; k < count; k++)
        queue(n, i, t->name, v[k], reason, level, text, assignee, due_ms);
}

static const char *users_text(const struct incident *i, enum notify_reason reason)
{
    (void)i;
    return reason == NOTIFY_RESOLVED ? "The problem is fixed: the service works normally again."
                                     : "We know of a problem affecting the service and are "
                                       "working on it. We will tell you when it is fixed.";
}

static void tell_users(struct notify *n, const struct incident *i, const struct config_team *t,
                       struct notify__incident *s, enum notify_reason why, const char *text)
{
    if (!t->users.notify.n)
        return;
    queue_all(n, i, t, t->users.notifiers, t->users.notify.n, NOTIFY_USERS, 1,
              text ? text : users_text(i, why), NULL, 0);
    s->users_told = true;
}

static const struct config_team *team_of(struct notify *n, const struct incident *i,
                                         const char *team)
{
    const char *name = team ? team : i->team;
    return name ? config_team_find(n->config, name) : NULL;
}

static bool listed(const struct config_notifier *const *v, size_t count,
                   const struct config_notifier *nt)
{
    for (size_t k = 0; k < count; k++)
        if (v[k] == nt)
            return true;
    return false;
}

/*
 * The notifiers of the routes i's labels match now (engine_route(), pure),
 * that its team does not page already: they hear its escalation beside the
 * team's. Free *ret; returns their count.
 */
static size_t route_notifiers(struct notify *n, const struct incident *i,
                              const struct config_team *t, const struct config_notifier ***ret)
{
    *ret = NULL;
    if (!i->labels.n)
        return 0;
    struct event ev;
    event_init(&ev);
    ev.severity = i->severity;
    for (size_t k = 0; k < i->labels.n; k++)
        labels_set(&ev.labels, i->labels.v[k].name, i->labels.v[k].value, NULL);
    struct engine_route_result rr = {0};
    engine_route(n->config, &ev, &rr);
    size_t count = 0;
    for (size_t k = 0; k < rr.n_notifiers; k++) {
        if (listed(t->notifiers, t->notify.n, rr.notifiers[k]))
            continue;
        if (!count)
            *ret = xreallocarray(NULL, rr.n_notifiers, sizeof(**ret));
        (*ret)[count++] = rr.notifiers[k];
    }
    engine_route_result_fini(&rr);
    event_fini(&ev);
    return count;
}

/* The pages of an escalation: level 1 now, the next levels later unless acknowledged. */
static void escalate(struct notify *n, const struct incident *i, struct notify__incident *s,
                     const char *team, const char *text)
{
    const struct config_team *t = team_of(n, i, team);
    const struct config_notifier **routed = NULL;
    size_t n_routed = t ? route_notifiers(n, i, t, &routed) : 0;
    /* Nobody to page: the escalation's own timeline entry (the desk's) says it all. */
    if (!t || !(t->notify_on & CONFIG_NOTIFY_ON_ESCALATED) ||
        (!t->notify.n && !n_routed && !t->n_levels && !t->users.notify.n)) {
        free(routed);
        log_debug("notify", NULL, "incident %lld: escalated, nobody to page (%s)", (long long)i->id,
                  t ? "its team has no notifiers" : "no team");
        return;
    }
    if (s->escalated) {
        /* One page per opening: the people paged are on it already. */
        notify__timeline(n, i->id, "hale", "not paged again (team %s was paged for it): %s",
                         t->name, text);
        free(routed);
        return;
    }
    s->escalated = true;
    s->told = true;
    int64_t now = notify__now_ms();
    const char *oncall = config_oncall_person(&t->oncall, now);
    /* The week's on-call person takes it, unless a person did: no acknowledgement, levels go on. */
    if (oncall && n->o.desk && (!i->assignee || !*i->assignee))
        itsm_assign_oncall(n->o.desk, i->id, oncall, t->name, NULL, NULL, NULL, NULL);
    queue_all(n, i, t, t->notifiers, t->notify.n, NOTIFY_ESCALATED, 1, text, oncall, now);
    queue_all(n, i, t, routed, n_routed, NOTIFY_ESCALATED, 1, text, oncall, now);
    free(routed);
    /* Levels wait for an acknowledgement: one given meanwhile cancels them. */
    if (i->state == INCIDENT_NEW)
        for (size_t k = 0; k < t->n_levels; k++) {
            const struct config_escalation_level *l = &t->levels[k];
            queue_all(n, i, t, l->notifiers, l->notify.n, NOTIFY_LEVEL, (unsigned)k + 2, text,
                      oncall, now + (int64_t)l->after_ms);
        }
    if (t->users.on & CONFIG_NOTIFY_ON_ESCALATED)
        tell_users(n, i, t, s, NOTIFY_ESCALATED, NULL);
}

static void opened(struct notify *n, const struct incident *i, struct notify__incident *s)
{
    const struct config_team *t = team_of(n, i, NULL);
    if (t && (t->notify_on & CONFIG_NOTIFY_ON_OPENED)) {
        char *text = xasprintf("opened: %s", i->title);
        queue_all(n, i, t, t->notifiers, t->notify.n, NOTIFY_OPENED, 1, text,
                  config_oncall_person(&t->oncall, notify__now_ms()), 0);
        free(text);
        s->told = true;
    }
    if (t && (t->users.on & CONFIG_NOTIFY_ON_OPENED))
        tell_users(n, i, t, s, NOTIFY_OPENED, NULL);
    /* Nothing will try to heal it: people must. */
    if (!i->runbook && i->type == INCIDENT_TYPE_INCIDENT)
        escalate(n, i, s, NULL, "no runbook heals it");
}

static void resolved(struct notify *n, const struct incident *i, struct notify__incident *s)
{
    notify__outbox_cancel_levels(n, i->id, "resolved");
    const struct config_team *t = team_of(n, i, NULL);
    /* Healed before anybody was told: nobody needs to hear of it. */
    if (t && s->told && (t->notify_on & CONFIG_NOTIFY_ON_RESOLVED)) {
        char *text = xasprintf("resolved by %s", i->resolved_by ? i->resolved_by : "somebody");
        queue_all(n, i, t, t->notifiers, t->notify.n, NOTIFY_RESOLVED, 1, text, i->assignee, 0);
        free(text);
    }
    if (t && s->users_told && (t->users.on & CONFIG_NOTIFY_ON_RESOLVED))
        tell_users(n, i, t, s, NOTIFY_RESOLVED, NULL);
}

/*
 * While hale stops, the policy still decides and queues (what the last
 * commits say, the runs interrupted by the stop escalating): the rows are
 * durable and the next start delivers them. Only delivery has stopped.
 */
static bool is_page(const char *reason)
{
    return strcmp(reason, "escalated") == 0 || strcmp(reason, "level") == 0 ||
           strcmp(reason, "opened") == 0;
}

static bool named(const char *const *v, size_t count, const char *name)
{
    for (size_t k = 0; k < count; k++)
        if (strcmp(v[k], name) == 0)
            return true;
    return false;
}

/*
 * A page follows its incident (PagerDuty's dedup_key): each PagerDuty
 * notifier that was sent, or is about to be sent, a page of this opening
 * hears it was acknowledged. Its lane keeps the order: never before the
 * trigger.
 */
static void acknowledge_pages(struct notify *n, const struct incident *i)
{
    /* Only PagerDuty's pages follow their incident: without one, no outbox or store to look at. */
    bool pagerduty = false;
    for (size_t k = 0; k < n->config->n_notifiers && !pagerduty; k++)
        pagerduty = n->config->notifiers[k].type == CONFIG_NOTIFIER_PAGERDUTY;
    if (!pagerduty)
        return;
    const char *paged[16];
    const char *team[16];
    size_t count = 0;
    for (size_t k = 0; k < n->n_items && count < 16; k++) {
        const struct store_notification *r = &n->items[k]->rec;
        if (r->incident_id == i->id && is_page(r->reason) && !named(paged, count, r->notifier)) {
            team[count] = r->team;
            paged[count++] = r->notifier;
        }
    }
    struct store_notification *v = NULL;
    size_t nv = 0;
    if (n->reader && store_notifications_list(n->reader, i->id, &v, &nv) < 0)
        nv = 0;
    for (size_t k = 0; k < nv && count < 16; k++)
        if ((v[k].created_ms >= i->opened_ms || i->reopened == 0) &&
            strcmp(v[k].state, "delivered") == 0 && is_page(v[k].reason) &&
            !named(paged, count, v[k].notifier)) {
            team[count] = v[k].team;
            paged[count++] = v[k].notifier;
        }
    for (size_t k = 0; k < count; k++) {
        const struct config_notifier *nt = config_notifier_find(n->config, paged[k]);
        if (nt && nt->type == CONFIG_NOTIFIER_PAGERDUTY)
            queue(n, i, team[k], nt, NOTIFY_ACKNOWLEDGED, 1, "acknowledged", NULL, 0);
    }
    for (size_t k = 0; k < nv; k++)
        store_notification_fini(&v[k]);
    free(v);
}

void notify_incident_changed(struct notify *n, const struct incident *i)
{
    struct notify__incident *s = incident_find(n, i->id);
    bool opening = false;
    enum incident_state before = INCIDENT_NEW;
    if (!s) {
        /* Not seen since the start, and not open then: new, unless it is settled. */
        s = incident_add(n, i);
        opening = is_open(i->state);
        before = opening ? INCIDENT_NEW : i->state;
    } else {
        before = s->state;
        if (i->reopened > s->reopened) {
            opening = true;
            *s = (struct notify__incident){.id = i->id, .reopened = i->reopened};
            notify__outbox_cancel_levels(n, i->id, "reopened");
        }
    }
    s->state = i->state;
    if (opening)
        opened(n, i, s);
    if (before == INCIDENT_NEW && i->state != INCIDENT_NEW && is_open(i->state)) {
        size_t k = notify__outbox_cancel_levels(n, i->id, "acknowledged");
        if (k)
            notify__timeline(n, i->id, "hale",
                             "escalation stopped: acknowledged; %zu later page%s canceled", k,
                             k == 1 ? "" : "s");
        acknowledge_pages(n, i);
    }
    if (is_open(before) && !is_open(i->state))
        resolved(n, i, s);
    notify__outbox_kick(n);
}

void notify_escalate(struct notify *n, const struct incident *i, const char *team, const char *text)
{
    if (!i)
        return;
    struct notify__incident *s = incident_find(n, i->id);
    if (!s)
        s = incident_add(n, i);
    escalate(n, i, s, team, text ? text : "hale could not heal it");
    notify__outbox_kick(n);
}

void notify_step(struct notify *n, const struct incident *i, const char *team, const char *text)
{
    if (!i)
        return;
    const struct config_team *t = team_of(n, i, team);
    if (!t || !t->notify.n)
        return; /* the step's timeline entry says whom it was for */
    struct notify__incident *s = incident_find(n, i->id);
    if (!s)
        s = incident_add(n, i);
    for (size_t k = 0; k < t->notify.n; k++)
        if (t->notifiers[k]->type != CONFIG_NOTIFIER_PAGERDUTY) /* words, not a page */
            queue(n, i, t->name, t->notifiers[k], NOTIFY_STEP, 1, text, NULL, 0);
    s->told = true;
    notify__outbox_kick(n);
}

void notify_users(struct notify *n, const struct incident *i, const char *team, const char *text)
{
    if (!i)
        return;
    const struct config_team *t = team_of(n, i, team);
    struct notify__incident *s = incident_find(n, i->id);
    if (!s)
        s = incident_add(n, i);
    if (!t || !t->users.notify.n) {
        notify__timeline(n, i->id, "hale", "no users channel (team %s has no users notifiers)",
                         t ? t->name : "none");
        return;
    }
    tell_users(n, i, t, s, NOTIFY_USERS, text);
    notify__outbox_kick(n);
}

size_t notify_pending(const struct notify *n)
{
    return n->n_items;
}

static double pending_value(void *data)
{
    return (double)notify_pending(data);
}

static void metrics_setup(struct notify *n)
{
    if (!n->o.metrics)
        return;
    n->m_sent = metrics_counter_register(
            n->o.metrics, "hale_notifications_total",
            "Notification attempts by notifier and result (delivered, retried, failed)",
            (const char *[]){"notifier", "result", NULL});
    metrics_gauge_fn_register(n->o.metrics, "hale_notifications_pending",
                              "Notifications in the outbox, not yet delivered nor given up on",
                              pending_value, n);
}

int notify_new(const struct notify_options *o, struct notify **ret, struct err *e)
{
    struct notify *n = xcalloc(1, sizeof(*n));
    n->o = *o;
    n->config = o->config;
    int r = store_reader_open(o->store, &n->reader, e);
    if (r == 0)
        r = incidents_load(n, e);
    if (r == 0)
        r = notify__outbox_load(n, e);
    if (r < 0) {
        notify_stop(n);
        notify_free(n);
        return r;
    }
    metrics_setup(n);
    n->net = net_multi_ref(o->uv);
    n->timer = xcalloc(1, sizeof(*n->timer));
    uv_timer_init(o->uv, n->timer);
    n->timer->data = n;
    notify__outbox_kick(n);
    *ret = n;
    return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void quiet_fire(struct notify *n)
{
    void (*cb)(void *) = n->quiet_cb;
    n->quiet_cb = NULL;
    if (cb)
        cb(n->quiet_data);
}

static void on_quiet_timeout(uv_timer_t *t)
{
    quiet_fire(t->data);
}

void notify__quiet_check(struct notify *n)
{
    if (n->quiescing && n->n_flying == 0)
        quiet_fire(n);
}

void notify_quiesce(struct notify *n, uint64_t timeout_ms, void (*cb)(void *data), void *data)
{
    if (!n || n->stopping || !n->timer) {
        cb(data);
        return;
    }
    n->quiescing = true;
    n->quiet_cb = cb;
    n->quiet_data = data;
    uv_timer_stop(n->timer);
    if (n->n_flying == 0) {
        quiet_fire(n);
        return;
    }
    uv_timer_start(n->timer, on_quiet_timeout, timeout_ms, 0);
}

void notify_stop(struct notify *n)
{
    if (!n || n->stopping)
        return;
    n->stopping = true;
    notify__outbox_stop(n);
    if (n->timer) {
        uv_close((uv_handle_t *)n->timer, on_timer_closed);
        n->timer = NULL;
    }
    net_multi_unref(n->net);
    n->net = NULL;
    store_reader_close(n->reader);
    n->reader = NULL;
}

void notify_free(struct notify *n)
{
    if (!n)
        return;
    notify_stop(n);
    notify__outbox_free(n);
    free(n->incidents);
    free(n);
}

void notify_set_config(struct notify *n, const struct config *config)
{
    n->config = config;
}
