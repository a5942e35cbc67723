/* SPDX-License-Identifier: MIT */
/*
 * The engine's decisions applied by the desk (itsm.h, docs/engine.md):
 * each event of a submit changes the incidents held in memory at once, so
 * the next event of the same submit is decided on them, and puts the
 * changed rows, their timeline entries and the event's own record into
 * the submit's one store batch. The fingerprints firing on open incidents
 * are held here too: they are the engine's view of what is open.
 *
 * Whatever the event's source (a check, the events API, Alertmanager), it
 * takes this one path; a check's flapping note is the one exception, a
 * line on the timeline of the incident that holds its fingerprint.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/idindex.h"
#include "base/log.h"
#include "engine/fingerprint.h"
#include "itsm/internal.h"

struct itsm_batch {
    struct store_batch *sb;
    int64_t *touched; /* incidents changed, each once, in the order first changed */
    size_t n_touched, cap_touched;
    struct itsm__linked linked; /* problems opened or joined, and the incidents they linked */
    int64_t *problems;
    size_t n_problems;
    /*
     * Repeats counted on event rows, an entry a row, with where each is by
     * row id: a batch of a thousand repeats of one event is one update.
     */
    struct batch_repeats *repeats;
    size_t n_repeats, cap_repeats;
    struct idindex repeat_index;
};

struct batch_repeats {
    int64_t event_id, n, last_ms;
};

/* ---- the fingerprints held ---- */

#define HELD_NONE SIZE_MAX

/* The index is by id: a fingerprint is one, bit for bit. */
static int64_t held_key(uint64_t fp)
{
    return (int64_t)fp;
}

/* Where fp is in the fingerprints held, or HELD_NONE. */
static size_t held_find(const struct itsm *x, uint64_t fp)
{
    size_t k;
    return idindex_get(&x->held_index, held_key(fp), &k) ? k : HELD_NONE;
}

/* fp fires on incident_id; its last event's row, when known, is row (NULL: none yet). */
static size_t held_set(struct itsm *x, uint64_t fp, int64_t incident_id,
                       const struct itsm__held_row *row)
{
    size_t k = held_find(x, fp);
    if (k == HELD_NONE) {
        if (x->n_held == x->cap_held) {
            x->cap_held = x->cap_held ? x->cap_held * 2 : 32;
            x->held = xreallocarray(x->held, x->cap_held, sizeof(*x->held));
            x->held_rows = xreallocarray(x->held_rows, x->cap_held, sizeof(*x->held_rows));
        }
        k = x->n_held++;
        idindex_put(&x->held_index, held_key(fp), k);
        x->held_rows[k] = (struct itsm__held_row){0};
    }
    x->held[k] = (struct engine_open_event){.fingerprint = fp, .incident_id = incident_id};
    if (row)
        x->held_rows[k] = *row;
    return k;
}

static void held_remove(struct itsm *x, size_t k)
{
    idindex_del(&x->held_index, held_key(x->held[k].fingerprint));
    x->n_held--;
    if (k != x->n_held) {
        x->held[k] = x->held[x->n_held];
        x->held_rows[k] = x->held_rows[x->n_held];
        idindex_put(&x->held_index, held_key(x->held[k].fingerprint), k);
    }
}

/* Forgets the fingerprints of incident id (0: all), then reads the store's. */
static int held_reload(struct itsm *x, int64_t id)
{
    for (size_t k = x->n_held; k-- > 0;)
        if (!id || x->held[k].incident_id == id)
            held_remove(x, k);
    struct store_held_event *v = NULL;
    size_t n = 0;
    int r = x->reader ? store_events_held(x->reader, id, &v, &n) : 0;
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        const struct incident *in = itsm__live_find(x, v[i].incident_id);
        struct itsm__held_row row = {
                .starts_ms = v[i].starts_ms, .event_id = v[i].event_id, .content = v[i].content};
        if (in && in->state != INCIDENT_RESOLVED && in->state != INCIDENT_CLOSED)
            held_set(x, v[i].fingerprint, v[i].incident_id, &row);
    }
    free(v);
    return 0;
}

static char *fingerprint_text(uint64_t fp)
{
    char buf[ENGINE_FINGERPRINT_MAX];
    return xstrdup(engine_fingerprint_format(fp, buf));
}

/*
 * An incident a check opened before the engine existed has the
 * fingerprint "check:NAME" and no events: it takes the fingerprint its
 * check's events have now, so the check's next event finds it.
 */
static void upgrade_check_incident(struct itsm *x, struct incident *i)
{
    const char *name = i->fingerprint + strlen("check:");
    const struct config_check *check = config_check_find(x->config, name);
    if (!check)
        return;
    struct labels l;
    event_check_labels(check, &l);
    uint64_t fp = engine_fingerprint(&l, &x->config->engine.fingerprint_labels);
    labels_fini(&l);
    free(i->fingerprint);
    i->fingerprint = fingerprint_text(fp);
    if (!i->service && labels_get(&i->labels, ENGINE_SERVICE_LABEL))
        i->service = xstrdup(labels_get(&i->labels, ENGINE_SERVICE_LABEL));
    itsm__incidents_changed(x);
    if (i->state != INCIDENT_RESOLVED && held_find(x, fp) == HELD_NONE)
        held_set(x, fp, i->id, NULL);
}

int itsm__held_load(struct itsm *x)
{
    int r = held_reload(x, 0);
    if (r < 0)
        return r;
    for (size_t k = 0; k < x->n_live; k++)
        if (x->live[k].fingerprint && strncmp(x->live[k].fingerprint, "check:", 6) == 0)
            upgrade_check_incident(x, &x->live[k]);
    return 0;
}

/* ---- the view ---- */

static bool is_open(const struct incident *i)
{
    return i && i->state != INCIDENT_RESOLVED && i->state != INCIDENT_CLOSED;
}

/* The open incidents as the engine sees them, again. */
static void view_incidents_build(struct itsm *x)
{
    if (x->cap_view_incidents < x->n_live) {
        x->cap_view_incidents = x->n_live;
        x->view_incidents =
                xreallocarray(x->view_incidents, x->cap_view_incidents, sizeof(*x->view_incidents));
    }
    size_t n = 0;
    for (size_t k = 0; k < x->n_live; k++) {
        const struct incident *i = &x->live[k];
        if (is_open(i))
            x->view_incidents[n++] = (struct engine_open_incident){.id = i->id,
                                                                   .service = i->service,
                                                                   .opened_ms = i->opened_ms,
                                                                   .symptom_of = i->symptom_of};
    }
    x->n_view_incidents = n;
    x->view_gen = x->incidents_gen;
}

void itsm_engine_view(struct itsm *x, struct engine_view *ret)
{
    if (x->view_gen != x->incidents_gen)
        view_incidents_build(x);
    /*
     * An incident people resolved or closed holds nothing any more. Only
     * after such a change: looking for one at every event of a batch would
     * cost the fingerprints held times the incidents, each time.
     */
    if (x->held_stale) {
        for (size_t k = x->n_held; k-- > 0;)
            if (!is_open(itsm__live_find(x, x->held[k].incident_id)))
                held_remove(x, k);
        x->held_stale = false;
    }
    *ret = (struct engine_view){
            .incidents = x->view_incidents,
            .n_incidents = x->n_view_incidents,
            .events = x->held,
            .n_events = x->n_held,
            .event_index = &x->held_index,
    };
}

/* ---- the batch ---- */

struct itsm_batch *itsm_batch_new(struct itsm *x)
{
    /* Before anything of the batch: an incident it changes is never pruned under it. */
    itsm__live_prune(x, (int64_t)clock_real_ms(&clock_system));
    struct itsm_batch *b = xcalloc(1, sizeof(*b));
    b->sb = store_batch_new();
    return b;
}

static void batch_free(struct itsm_batch *b)
{
    store_batch_free(b->sb);
    free(b->touched);
    free(b->linked.incidents);
    free(b->problems);
    free(b->repeats);
    idindex_fini(&b->repeat_index);
    free(b);
}

/*
 * i changes in this batch: its row goes first, as the timeline entries and
 * events that follow refer to it and its opening may not be on disk yet
 * (queued, or failed). The submit puts it again as it ends up.
 */
static void touch(struct itsm_batch *b, const struct incident *i)
{
    for (size_t k = 0; k < b->n_touched; k++)
        if (b->touched[k] == i->id)
            return;
    if (b->n_touched == b->cap_touched) {
        b->cap_touched = b->cap_touched ? b->cap_touched * 2 : 8;
        b->touched = xreallocarray(b->touched, b->cap_touched, sizeof(*b->touched));
    }
    b->touched[b->n_touched++] = i->id;
    store_batch_incident(b->sb, i);
}

static void linked_take(struct itsm_batch *b, struct itsm__linked *l)
{
    if (l->problem_id) {
        b->problems = xreallocarray(b->problems, b->n_problems + 1, sizeof(*b->problems));
        b->problems[b->n_problems++] = l->problem_id;
    }
    for (size_t k = 0; k < l->n_incidents; k++) {
        b->linked.incidents = xreallocarray(b->linked.incidents, b->linked.n_incidents + 1,
                                            sizeof(*b->linked.incidents));
        b->linked.incidents[b->linked.n_incidents++] = l->incidents[k];
    }
    free(l->incidents);
    *l = (struct itsm__linked){0};
}

struct batch_done {
    struct itsm *x;
    struct incident *after; /* the incidents as the batch left them, for the watchers */
    size_t n_after;
    int64_t *reload; /* incidents to take back from the store when it failed */
    size_t n_reload;
    int64_t *problems;
    size_t n_problems;
    itsm_batch_done_cb *cb;
    void *data;
};

static void batch_done(int result, void *data)
{
    struct batch_done *c = data;
    struct itsm *x = c->x;
    if (result == 0) {
        for (size_t k = 0; k < c->n_after; k++)
            itsm__watchers_tell(x, &c->after[k]);
    } else {
        log_error("itsm", NULL, "%zu events' changes were not saved: %s", c->n_reload,
                  hale_strerror(result));
        for (size_t k = 0; k < c->n_reload; k++) {
            itsm__live_reload(x, c->reload[k]);
            if (held_reload(x, c->reload[k]) < 0)
                log_error("itsm", NULL, "incident %lld: cannot read its events back",
                          (long long)c->reload[k]);
        }
        for (size_t k = 0; k < c->n_problems; k++)
            itsm__problem_reload(x, c->problems[k]);
    }
    if (c->cb)
        c->cb(result, c->data);
    for (size_t k = 0; k < c->n_after; k++)
        incident_fini(&c->after[k]);
    free(c->after);
    free(c->reload);
    free(c->problems);
    free(c);
}

void itsm_batch_submit(struct itsm *x, struct itsm_batch *b, itsm_batch_done_cb *cb, void *data)
{
    struct batch_done *c = xcalloc(1, sizeof(*c));
    c->x = x;
    c->cb = cb;
    c->data = data;
    c->after = xcalloc(b->n_touched ? b->n_touched : 1, sizeof(*c->after));
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    for (size_t k = 0; k < b->n_touched; k++) {
        struct incident *i = itsm__live_find(x, b->touched[k]);
        if (!i)
            continue;
        i->updated_ms = now;
        store_batch_incident(b->sb, i);
        incident_copy(&c->after[c->n_after++], i);
    }
    c->n_reload = b->n_touched + b->linked.n_incidents;
    c->reload = xcalloc(c->n_reload ? c->n_reload : 1, sizeof(*c->reload));
    for (size_t k = 0; k < b->n_touched; k++)
        c->reload[k] = b->touched[k];
    for (size_t k = 0; k < b->linked.n_incidents; k++)
        c->reload[b->n_touched + k] = b->linked.incidents[k];
    c->problems = b->problems;
    c->n_problems = b->n_problems;
    b->problems = NULL;
    /* After every row of the batch: a repeat may count on a row the batch inserts. */
    for (size_t k = 0; k < b->n_repeats; k++)
        store_batch_event_repeats(b->sb, b->repeats[k].event_id, b->repeats[k].n,
                                  b->repeats[k].last_ms);
    store_submit(x->st, b->sb, batch_done, c);
    b->sb = NULL;
    batch_free(b);
}

/* ---- what an event says ---- */

/* The check a check's event is of, or NULL. */
static const struct config_check *check_of(const struct itsm *x, const struct event *ev)
{
    if (ev->source != EVENT_SOURCE_CHECK)
        return NULL;
    const char *name = labels_get(&ev->labels, EVENT_CHECK_LABEL);
    return name ? config_check_find(x->config, name) : NULL;
}

/* Who the timeline says reported it: "check:NAME", "source:api", "source:alertmanager". */
static void actor_of(const struct event *ev, char *buf, size_t size)
{
    if (ev->source == EVENT_SOURCE_CHECK && ev->sender)
        snprintf(buf, size, "%s", ev->sender);
    else
        snprintf(buf, size, "source:%s", event_source_name(ev->source));
}

/* A check's status word ("critical", "unknown", "ok"), else "firing" or "resolved". */
static const char *status_word(const struct event *ev)
{
    const char *s = labels_get(&ev->annotations, "check_status");
    return ev->source == EVENT_SOURCE_CHECK && s ? s : event_status_name(ev->status);
}

/* The event's line on a timeline: "critical: HTTP 503", with the decision's reason. */
static void event_entry(struct store_batch *sb, const struct incident *i, const struct event *ev,
                        const char *reason)
{
    char actor[300];
    actor_of(ev, actor, sizeof(actor));
    if (reason)
        itsm__timeline_add(sb, i, TIMELINE_EVENT, actor, "%s: %s (%s)", status_word(ev),
                           ev->summary, reason);
    else
        itsm__timeline_add(sb, i, TIMELINE_EVENT, actor, "%s: %s", status_word(ev), ev->summary);
}

/*
 * A hash of what an event says, but when it came and started: two events
 * with the same one are the same event again. What the event itself says
 * is hashed once, mostly ahead of the loop (event.h); who sent it is
 * added here, as the sender is set last. Never 0, which means "not known"
 * to the store.
 */
static uint64_t content_of(const struct event *ev)
{
    uint64_t h = ev->content ? ev->content : event_content_hash(ev);
    h = hash_finish(hash_add_str(h, ev->sender));
    return h ? h : 1;
}

/* One more repeat on row event_id, received at time_ms, in b. */
static void repeat_add(struct itsm_batch *b, int64_t event_id, int64_t time_ms)
{
    size_t k;
    if (!idindex_get(&b->repeat_index, event_id, &k)) {
        if (b->n_repeats == b->cap_repeats) {
            b->cap_repeats = b->cap_repeats ? b->cap_repeats * 2 : 8;
            b->repeats = xreallocarray(b->repeats, b->cap_repeats, sizeof(*b->repeats));
        }
        k = b->n_repeats++;
        b->repeats[k] = (struct batch_repeats){.event_id = event_id};
        idindex_put(&b->repeat_index, event_id, k);
    }
    b->repeats[k].n++;
    if (time_ms > b->repeats[k].last_ms)
        b->repeats[k].last_ms = time_ms;
}

/*
 * A static name where a record wants its own text: store_batch_event()
 * copies it and writes through no pointer, so the copy it would make of a
 * copy, at every event, is saved.
 */
static char *name_lent(const char *name)
{
    union {
        const char *lent;
        char *as;
    } u = {.lent = name};
    return u.as;
}

/*
 * The event's own record, with its verdict: every event received is kept,
 * but a repeat, which is counted on the row of the event it repeats. A
 * firing duplicate repeats the last event kept of its fingerprint on its
 * incident when it says the same; one that says something else is kept,
 * and the next repeats count on it.
 */
static void record(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                   const struct engine_decision *d, int64_t incident_id)
{
    uint64_t content = content_of(ev);
    size_t h = incident_id && ev->status == EVENT_FIRING ? held_find(x, d->fingerprint) : HELD_NONE;
    struct itsm__held_row *row =
            h != HELD_NONE && x->held[h].incident_id == incident_id ? &x->held_rows[h] : NULL;
    if (row && d->verdict == ENGINE_DUPLICATE && row->event_id && row->content == content) {
        repeat_add(b, row->event_id, ev->received_ms);
        return;
    }
    struct store_event r = {
            .id = store_next_event_id(x->st),
            .incident_id = incident_id,
            .received_ms = ev->received_ms,
            .source = name_lent(event_source_name(ev->source)),
            .status = name_lent(event_status_name(ev->status)),
            .severity = name_lent(incident_severity_name(ev->severity)),
            .fingerprint = d->fingerprint,
            .labels = ev->labels,
            .annotations = ev->annotations,
            .summary = ev->summary,
            .starts_ms = ev->starts_ms,
            .ends_ms = ev->ends_ms,
            .verdict = name_lent(engine_verdict_name(d->verdict)),
            .silence_id = d->silence_id,
            .sender = ev->sender,
            .reason = d->reason,
            .content = content,
    };
    store_batch_event(b->sb, &r);
    if (row) {
        row->event_id = r.id;
        row->content = content;
    }
}

static void reason_set(struct engine_decision *d, char *reason)
{
    free(d->reason);
    d->reason = reason;
}

/* The incident's probable root cause, in words, once it is known to have symptoms. */
static void root_cause_name(struct incident *i)
{
    if (i->root_cause || !i->service)
        return;
    i->root_cause = xasprintf("probable root cause: service %s is down", i->service);
}

/* A more severe event raises the incident's severity, and its priority with it. */
static void severity_raise(struct incident *i, const struct event *ev,
                           const struct engine_decision *d)
{
    if (ev->severity <= i->severity)
        return;
    i->severity = ev->severity;
    if (d->route.priority && d->route.priority < i->priority)
        i->priority = d->route.priority;
}

/* ---- the verdicts ---- */

/* The incidents of d->adopt become symptoms of incident root_id. */
static void adopt(struct itsm *x, struct itsm_batch *b, int64_t root_id,
                  const struct engine_decision *d)
{
    for (size_t k = 0; k < d->n_adopt; k++) {
        struct incident *a = itsm__live_find(x, d->adopt[k]);
        if (!a || a->id == root_id || !is_open(a))
            continue;
        touch(b, a);
        a->symptom_of = root_id;
        itsm__incidents_changed(x);
        struct incident *root = itsm__live_find(x, root_id);
        itsm__timeline_add(b->sb, a, TIMELINE_STATE, "hale", "symptom of incident %lld: %s",
                           (long long)root_id, root ? root->root_cause : "its root cause is down");
        if (root)
            itsm__timeline_add(b->sb, root, TIMELINE_EVENT, "hale",
                               "incident %lld (%s) is a symptom of it", (long long)a->id, a->title);
    }
}

/* NEW: a fingerprint that recently resolved comes back on its incident. */
static struct incident *reopen(struct itsm *x, struct itsm_batch *b, struct incident *i,
                               const struct event *ev, const struct engine_decision *d)
{
    touch(b, i);
    i->state = INCIDENT_NEW;
    itsm__incidents_changed(x);
    i->reopened++;
    i->resolved_ms = 0;
    i->acknowledged_ms = 0;
    free(i->resolved_by);
    i->resolved_by = NULL;
    i->severity = ev->severity;
    i->priority = d->route.priority;
    event_entry(b->sb, i, ev, NULL);
    itsm__timeline_add(b->sb, i, TIMELINE_STATE, "hale", "resolved -> new: reopened, it came back");
    log_warn("itsm", NULL, "incident %lld reopened: %s", (long long)i->id, i->title);
    return i;
}

static char *title_of(const struct config_check *check, const struct event *ev)
{
    if (check)
        return xasprintf("%s is %s", check->name, status_word(ev));
    return xstrdup(*ev->summary ? ev->summary : "an event came in");
}

/* NEW: a new incident, routed. */
static struct incident *open_new(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                                 const struct engine_decision *d)
{
    const struct config_check *check = check_of(x, ev);
    const char *service = labels_get(&ev->labels, ENGINE_SERVICE_LABEL);
    const struct engine_route_result *rt = &d->route;
    struct incident in = {
            .id = store_next_incident_id(x->st),
            .type = INCIDENT_TYPE_INCIDENT,
            .title = title_of(check, ev),
            .fingerprint = fingerprint_text(d->fingerprint),
            .severity = ev->severity,
            .priority = rt->priority ? rt->priority : 3,
            .category = check ? itsm_category_of(check) : INCIDENT_CATEGORY_SOFTWARE,
            .team = rt->team ? xstrdup(rt->team->name) : NULL,
            .check = check ? xstrdup(check->name) : NULL,
            .state = INCIDENT_NEW,
            .opened_ms = ev->received_ms,
            .service = service ? xstrdup(service) : NULL,
            .runbook = rt->runbook ? xstrdup(rt->runbook->name) : NULL,
    };
    labels_init(&in.labels);
    for (size_t k = 0; k < ev->labels.n; k++)
        labels_set(&in.labels, ev->labels.v[k].name, ev->labels.v[k].value, NULL);
    touch(b, &in);
    event_entry(b->sb, &in, ev, NULL);
    itsm__timeline_add(b->sb, &in, TIMELINE_STATE, "hale", "opened as P%u (%s)%s%s%s%s",
                       in.priority, incident_category_name(in.category), in.team ? "; team " : "",
                       in.team ? in.team : "", in.runbook ? "; runbook " : "",
                       in.runbook ? in.runbook : "");
    struct itsm__linked linked;
    itsm__problem_note(x, b->sb, &in, &linked);
    linked_take(b, &linked);
    log_warn("itsm", NULL, "incident %lld opened: %s", (long long)in.id, in.title);
    return itsm__live_add(x, &in);
}

static void apply_new(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                      struct engine_decision *d)
{
    char fp[ENGINE_FINGERPRINT_MAX];
    struct incident *i =
            itsm__live_by_fingerprint(x, engine_fingerprint_format(d->fingerprint, fp));
    if (i && i->state == INCIDENT_RESOLVED)
        i = reopen(x, b, i, ev, d);
    else if (i && is_open(i)) {
        /* Its fingerprint ended on the incident it opened, which is still open: back on it. */
        touch(b, i);
        reason_set(d, xasprintf("back on incident %lld, which it opened", (long long)i->id));
        event_entry(b->sb, i, ev, d->reason);
        severity_raise(i, ev, d);
    } else {
        i = open_new(x, b, ev, d);
    }
    i->events++;
    int64_t id = i->id;
    d->incident_id = id;
    size_t h = held_set(x, d->fingerprint, id, NULL);
    x->held_rows[h].starts_ms = ev->starts_ms;
    if (d->n_adopt > 0) {
        root_cause_name(i);
        adopt(x, b, id, d);
    }
}

/*
 * Whether duplicate ev (fingerprint fp) changes the severity of its
 * incident i: the event that opened the incident sets it, another only
 * raises it.
 */
static bool duplicate_changes_severity(const struct incident *i, const struct event *ev,
                                       uint64_t fp)
{
    if (ev->severity == i->severity)
        return false;
    if (ev->severity > i->severity)
        return true;
    char own[ENGINE_FINGERPRINT_MAX];
    return strcmp(engine_fingerprint_format(fp, own), i->fingerprint) == 0;
}

bool itsm_duplicate_needs_route(struct itsm *x, const struct event *ev,
                                const struct engine_decision *d)
{
    const struct incident *i = itsm__live_find(x, d->incident_id);
    return i && duplicate_changes_severity(i, ev, d->fingerprint);
}

static void apply_duplicate(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                            struct engine_decision *d, struct incident *i)
{
    size_t h = held_find(x, d->fingerprint);
    /* Alertmanager repeats a notification (group_interval, HA peers, retries): the same alert. */
    if (ev->source == EVENT_SOURCE_ALERTMANAGER && h != HELD_NONE && ev->starts_ms &&
        x->held_rows[h].starts_ms && x->held_rows[h].starts_ms == ev->starts_ms) {
        reason_set(d, xasprintf("delivered again: the same alert is firing on incident %lld "
                                "already; nothing changed",
                                (long long)i->id));
        return;
    }
    touch(b, i);
    if (h != HELD_NONE)
        x->held_rows[h].starts_ms = ev->starts_ms;
    i->events++;
    if (duplicate_changes_severity(i, ev, d->fingerprint)) {
        itsm__timeline_add(b->sb, i, TIMELINE_STATE, "hale", "severity %s -> %s",
                           incident_severity_name(i->severity),
                           incident_severity_name(ev->severity));
        i->severity = ev->severity;
        if (d->route.priority)
            i->priority = d->route.priority;
        event_entry(b->sb, i, ev, NULL);
    } else if (i->repeats == 0) {
        event_entry(b->sb, i, ev,
                    "repeated; further repeats are counted on the incident, not listed here");
    }
    i->repeats++;
}

static void apply_resolve(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                          const struct engine_decision *d, struct incident *i)
{
    size_t h = held_find(x, d->fingerprint);
    if (h != HELD_NONE)
        held_remove(x, h);
    touch(b, i);
    i->events++;
    event_entry(b->sb, i, ev, d->resolves_incident ? NULL : d->reason);
    if (!d->resolves_incident || !is_open(i))
        return;
    const struct config_check *check = check_of(x, ev);
    char why[300];
    if (check)
        snprintf(why, sizeof(why), "%s is ok again", check->name);
    else
        snprintf(why, sizeof(why), "none of its events is firing any more");
    const char *by = ev->source == EVENT_SOURCE_CHECK || !ev->sender ? "hale" : ev->sender;
    if (i->runbook_in_charge) {
        itsm__timeline_add(b->sb, i, TIMELINE_EVENT, "hale",
                           "its events have ended; runbook %s is in charge and decides",
                           i->runbook ? i->runbook : "");
        itsm__ended_in_charge(x, i, ev->received_ms, by, why);
        return;
    }
    itsm__timeline_add(b->sb, i, TIMELINE_STATE, "hale", "%s -> resolved: %s",
                       incident_state_name(i->state), why);
    i->state = INCIDENT_RESOLVED;
    itsm__incidents_changed(x);
    i->resolved_ms = ev->received_ms;
    free(i->resolved_by);
    i->resolved_by = xstrdup(strncmp(by, "user:", 5) == 0 ? by + 5 : by);
    log_info("itsm", NULL, "incident %lld resolved: %s", (long long)i->id, why);
}

/* JOIN, SYMPTOM, ROOT_CAUSE: the event is added to the incident. */
static void apply_added(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                        struct engine_decision *d, struct incident *i)
{
    touch(b, i);
    i->events++;
    size_t h = held_set(x, d->fingerprint, i->id, NULL);
    x->held_rows[h].starts_ms = ev->starts_ms;
    event_entry(b->sb, i, ev, d->reason);
    severity_raise(i, ev, d);
    if (d->verdict == ENGINE_SYMPTOM) {
        root_cause_name(i);
        return;
    }
    if (d->verdict != ENGINE_ROOT_CAUSE)
        return;
    const char *service = labels_get(&ev->labels, ENGINE_SERVICE_LABEL);
    free(i->service);
    i->service = service ? xstrdup(service) : NULL;
    itsm__incidents_changed(x);
    free(i->root_cause);
    i->root_cause = NULL;
    root_cause_name(i);
    /* Routed again: the root cause decides who takes it. */
    if (d->route.runbook) {
        free(i->runbook);
        i->runbook = xstrdup(d->route.runbook->name);
    }
    if (d->route.team) {
        free(i->team);
        i->team = xstrdup(d->route.team->name);
    }
    if (d->route.priority && d->route.priority < i->priority)
        i->priority = d->route.priority;
    itsm__timeline_add(b->sb, i, TIMELINE_STATE, "hale", "%s", i->root_cause);
    adopt(x, b, i->id, d);
}

/* A check's flapping note, on the open incident that holds its fingerprint. */
static void apply_note(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                       const struct engine_decision *d)
{
    size_t h = held_find(x, d->fingerprint);
    struct incident *i = h != HELD_NONE ? itsm__live_find(x, x->held[h].incident_id) : NULL;
    if (!is_open(i))
        return;
    touch(b, i);
    itsm__timeline_add(b->sb, i, TIMELINE_EVENT, "hale", "%s",
                       ev->note == EVENT_NOTE_FLAPPING_STARTED ? "flapping_started"
                                                               : "flapping_stopped");
}

void itsm_apply(struct itsm *x, struct itsm_batch *b, const struct event *ev,
                struct engine_decision *d)
{
    if (ev->note != EVENT_NOTE_NONE) {
        apply_note(x, b, ev, d);
        return;
    }
    struct incident *i = d->incident_id ? itsm__live_find(x, d->incident_id) : NULL;
    switch (d->verdict) {
    case ENGINE_NEW:
        apply_new(x, b, ev, d);
        break;
    case ENGINE_DUPLICATE:
        if (i)
            apply_duplicate(x, b, ev, d, i);
        break;
    case ENGINE_JOIN:
    case ENGINE_SYMPTOM:
    case ENGINE_ROOT_CAUSE:
        if (i)
            apply_added(x, b, ev, d, i);
        break;
    case ENGINE_RESOLVE:
        if (i)
            apply_resolve(x, b, ev, d, i);
        break;
    case ENGINE_IGNORE:
    case ENGINE_SILENCED:
        break;
    }
    /* The view never names an incident the desk does not hold, but a record must not lie. */
    if (d->incident_id && !itsm__live_find(x, d->incident_id))
        d->incident_id = 0;
    record(x, b, ev, d, d->incident_id);
}
