/* SPDX-License-Identifier: MIT */
/*
 * Correlation and the whole decision about an event. The service graph is
 * walked in dependency order (each service after the ones it depends on)
 * to find, for every service, the open incident that its upstreams being
 * down points to; a firing event whose service has one is a symptom of
 * it. The same walk with the event's own service counted as down tells
 * which open downstream incidents the event explains (the upstream failed
 * second), which then become symptoms of it.
 */
#include "engine/correlate.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "engine/fingerprint.h"

#define NONE SIZE_MAX

/* ---- the view ---- */

static const struct engine_open_incident *incident_find(const struct engine_view *v, int64_t id)
{
    for (size_t i = 0; i < v->n_incidents; i++)
        if (v->incidents[i].id == id)
            return &v->incidents[i];
    return NULL;
}

/* The root cause an incident is a symptom of, itself when it is one. */
static const struct engine_open_incident *root_of(const struct engine_view *v,
                                                  const struct engine_open_incident *inc)
{
    /* Bounded by the number of incidents, so a loop in the view cannot hang us. */
    for (size_t steps = 0; inc->symptom_of && steps < v->n_incidents; steps++) {
        const struct engine_open_incident *up = incident_find(v, inc->symptom_of);
        if (!up)
            break;
        inc = up;
    }
    return inc;
}

/* Whether a opened before b (ids break ties, so the choice never depends on order). */
static bool earlier(const struct engine_open_incident *a, const struct engine_open_incident *b)
{
    if (!b)
        return true;
    return a->opened_ms != b->opened_ms ? a->opened_ms < b->opened_ms : a->id < b->id;
}

static bool within_window(const struct config *c, const struct engine_open_incident *inc,
                          int64_t now_ms)
{
    return now_ms - inc->opened_ms < (int64_t)c->engine.group_window_ms;
}

/* ---- the service graph ---- */

struct graph {
    const struct config *c;
    const struct engine_view *view;
    size_t n;
    size_t *order; /* every service after the ones it depends on */
    /* Per service: the root of its earliest open incident, or NULL. */
    const struct engine_open_incident **down;
    /* Per service: the root incident its upstreams being down points to, or NULL. */
    const struct engine_open_incident **cause;
    size_t *via; /* per service with a cause: the upstream it came through */
};

static size_t service_index(const struct config *c, const char *name)
{
    const struct config_service *s = name ? config_service_find(c, name) : NULL;
    return s ? (size_t)(s - c->services) : NONE;
}

static size_t dep_index(const struct config *c, const struct config_service *s, size_t k)
{
    return s->deps && s->deps[k] ? (size_t)(s->deps[k] - c->services) : NONE;
}

/* Depth-first, iteratively: a long dependency chain cannot overflow the stack. */
static void graph_order(struct graph *g)
{
    const struct config *c = g->c;
    unsigned char *seen = xcalloc(g->n ? g->n : 1, 1);
    size_t *stack = xcalloc(g->n ? g->n : 1, sizeof(*stack));
    size_t *next = xcalloc(g->n ? g->n : 1, sizeof(*next));
    size_t n_order = 0;
    for (size_t root = 0; root < g->n; root++) {
        if (seen[root])
            continue;
        size_t depth = 0;
        stack[depth++] = root;
        seen[root] = 1;
        while (depth > 0) {
            size_t top = stack[depth - 1];
            const struct config_service *s = &c->services[top];
            if (next[top] >= s->depends_on.n) {
                g->order[n_order++] = top;
                depth--;
                continue;
            }
            size_t d = dep_index(c, s, next[top]++);
            if (d != NONE && !seen[d]) { /* the config has no cycles: seen means done or above */
                seen[d] = 1;
                stack[depth++] = d;
            }
        }
    }
    free(seen);
    free(stack);
    free(next);
}

static void graph_init(struct graph *g, const struct config *c, const struct engine_view *view)
{
    g->c = c;
    g->view = view;
    g->n = c->n_services;
    size_t n = g->n ? g->n : 1;
    g->order = xcalloc(n, sizeof(*g->order));
    g->down = xcalloc(n, sizeof(*g->down));
    g->cause = xcalloc(n, sizeof(*g->cause));
    g->via = xcalloc(n, sizeof(*g->via));
    graph_order(g);
    for (size_t i = 0; i < view->n_incidents; i++) {
        const struct engine_open_incident *inc = &view->incidents[i];
        size_t s = service_index(c, inc->service);
        if (s == NONE)
            continue;
        const struct engine_open_incident *r = root_of(view, inc);
        if (earlier(r, g->down[s]))
            g->down[s] = r;
    }
}

static void graph_fini(struct graph *g)
{
    free(g->order);
    free(g->down);
    free(g->cause);
    free(g->via);
}

/*
 * Fills cause and via from down, in dependency order. A service that
 * needs all of its upstreams is impacted when any one is down or
 * impacted; one that needs any of them only when every one is. The cause
 * chosen is the earliest incident among those that qualify.
 */
static void graph_causes(struct graph *g)
{
    const struct config *c = g->c;
    for (size_t k = 0; k < g->n; k++) {
        size_t i = g->order[k];
        const struct config_service *s = &c->services[i];
        const struct engine_open_incident *best = NULL;
        size_t via = NONE;
        bool every = s->depends_on.n > 0;
        for (size_t j = 0; j < s->depends_on.n; j++) {
            size_t d = dep_index(c, s, j);
            const struct engine_open_incident *e =
                    d == NONE ? NULL : (g->down[d] ? g->down[d] : g->cause[d]);
            if (!e) {
                every = false;
                continue;
            }
            if (earlier(e, best)) {
                best = e;
                via = d;
            }
        }
        bool impacted = s->depends == CONFIG_DEPENDS_ANY ? every : best != NULL;
        g->cause[i] = impacted ? best : NULL;
        g->via[i] = impacted ? via : NONE;
    }
}

/* ---- reasons ---- */

static void add_ids(struct strbuf *b, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        strbuf_addf(b, "%s%lld", i == 0 ? "" : i + 1 == n ? " and " : ", ", (long long)ids[i]);
}

/* "web depends on db, which is down", with the services in between. */
static void symptom_reason(const struct graph *g, size_t s, struct strbuf *b)
{
    const struct config *c = g->c;
    const struct config_service *svc = &c->services[s];
    strbuf_addf(b, "symptom of incident %lld: ", (long long)g->cause[s]->id);
    if (svc->depends == CONFIG_DEPENDS_ANY && svc->depends_on.n > 1) {
        strbuf_addf(b, "%s needs one of ", svc->name);
        for (size_t j = 0; j < svc->depends_on.n; j++)
            strbuf_addf(b, "%s%s", j ? ", " : "", svc->depends_on.v[j]);
        strbuf_adds(b, " and none of them is up");
        return;
    }
    /* Follow the chain to the service whose own incident it is. */
    size_t cur = s, hops = 0;
    while (!g->down[g->via[cur]] && g->via[g->via[cur]] != NONE && hops++ < g->n)
        cur = g->via[cur];
    size_t end = g->via[cur];
    strbuf_addf(b, "%s depends on %s", svc->name, c->services[end].name);
    if (end != g->via[s]) {
        strbuf_adds(b, " (");
        for (size_t at = s, n = 0; at != end && n <= g->n; at = g->via[at], n++)
            strbuf_addf(b, "%s -> ", c->services[at].name);
        strbuf_addf(b, "%s)", c->services[end].name);
    }
    strbuf_addf(b, ", which is down");
}

/* ---- adoption: the upstream failed second ---- */

struct adoption {
    const struct engine_open_incident **roots; /* downstream roots the event explains */
    size_t n_roots;
};

static int incident_cmp(const void *pa, const void *pb)
{
    const struct engine_open_incident *a = *(const struct engine_open_incident *const *)pa;
    const struct engine_open_incident *b = *(const struct engine_open_incident *const *)pb;
    return a == b ? 0 : earlier(a, b) ? -1 : 1;
}

/*
 * The open root incidents of other services that service s being down
 * explains and nothing explained before: the cause walk, again, with s
 * counted as down.
 */
static void find_downstream(struct graph *g, size_t s, int64_t now_ms, struct adoption *ret)
{
    size_t n = g->n ? g->n : 1;
    const struct engine_open_incident **before = xcalloc(n, sizeof(*before));
    size_t *before_via = xcalloc(n, sizeof(*before_via));
    memcpy(before, g->cause, g->n * sizeof(*before));
    memcpy(before_via, g->via, g->n * sizeof(*before_via));
    struct engine_open_incident self = {
            .id = 0, .service = g->c->services[s].name, .opened_ms = now_ms};
    const struct engine_open_incident *was = g->down[s];
    if (!was)
        g->down[s] = &self;
    graph_causes(g);
    const struct engine_view *v = g->view;
    ret->roots = xcalloc(v->n_incidents ? v->n_incidents : 1, sizeof(*ret->roots));
    ret->n_roots = 0;
    for (size_t i = 0; i < v->n_incidents; i++) {
        const struct engine_open_incident *inc = &v->incidents[i];
        size_t t = service_index(g->c, inc->service);
        if (inc->symptom_of || t == NONE || t == s)
            continue;
        if (g->cause[t] && !before[t])
            ret->roots[ret->n_roots++] = inc;
    }
    qsort(ret->roots, ret->n_roots, sizeof(*ret->roots), incident_cmp);
    g->down[s] = was; /* as it was: the caller may walk again */
    memcpy(g->cause, before, g->n * sizeof(*before));
    memcpy(g->via, before_via, g->n * sizeof(*before_via));
    free(before);
    free(before_via);
}

static bool is_adopted(const struct adoption *a, size_t skip, const struct engine_open_incident *r)
{
    for (size_t i = 0; i < a->n_roots; i++)
        if (i != skip && a->roots[i] == r)
            return true;
    return false;
}

/* The roots but the one at index skip (NONE: all), then every symptom of theirs. */
static void adopt_list(const struct engine_view *v, const struct adoption *a, size_t skip,
                       struct engine_decision *ret)
{
    ret->adopt = xcalloc(v->n_incidents ? v->n_incidents : 1, sizeof(*ret->adopt));
    for (size_t i = 0; i < a->n_roots; i++)
        if (i != skip)
            ret->adopt[ret->n_adopt++] = a->roots[i]->id;
    for (size_t i = 0; i < v->n_incidents; i++) {
        const struct engine_open_incident *inc = &v->incidents[i];
        if (inc->symptom_of && is_adopted(a, skip, root_of(v, inc)))
            ret->adopt[ret->n_adopt++] = inc->id;
    }
}

/* ---- the decision ---- */

static const struct engine_open_event *event_find(const struct engine_view *v, uint64_t fp)
{
    size_t at;
    if (v->event_index)
        return idindex_get(v->event_index, (int64_t)fp, &at) ? &v->events[at] : NULL;
    for (size_t i = 0; i < v->n_events; i++)
        if (v->events[i].fingerprint == fp)
            return &v->events[i];
    return NULL;
}

static void decide_resolved(const struct engine_view *v, const struct engine_open_event *held,
                            struct engine_decision *ret, struct strbuf *why)
{
    if (!held) {
        char fp[ENGINE_FINGERPRINT_MAX];
        ret->verdict = ENGINE_IGNORE;
        strbuf_addf(why, "resolved, and no open incident holds fingerprint %s",
                    engine_fingerprint_format(ret->fingerprint, fp));
        return;
    }
    ret->verdict = ENGINE_RESOLVE;
    ret->incident_id = held->incident_id;
    size_t firing = 0;
    for (size_t i = 0; i < v->n_events; i++)
        if (v->events[i].incident_id == held->incident_id && &v->events[i] != held)
            firing++;
    ret->resolves_incident = firing == 0;
    if (firing == 0)
        strbuf_addf(why, "resolves incident %lld: none of its events is firing any more",
                    (long long)held->incident_id);
    else
        strbuf_addf(why, "resolved on incident %lld; %zu of its events %s still firing",
                    (long long)held->incident_id, firing, firing == 1 ? "is" : "are");
}

static const struct silence *silence_find(const struct engine_view *v, const struct event *ev,
                                          int64_t now_ms)
{
    for (size_t i = 0; i < v->n_silences; i++) {
        const struct silence *s = &v->silences[i];
        /*
         * Bound to an incident: in force only while it is open, whatever
         * the store says of the silence yet (its end may still be on the
         * way, or may have failed to be written).
         */
        if (s->incident_id && !incident_find(v, s->incident_id))
            continue;
        if (silence_matches(s, ev, now_ms))
            return s;
    }
    return NULL;
}

/* The incident of this service opened latest within the group window, or NULL. */
static const struct engine_open_incident *join_target(const struct config *c,
                                                      const struct engine_view *v,
                                                      const char *service, int64_t now_ms)
{
    const struct engine_open_incident *best = NULL;
    for (size_t i = 0; service && i < v->n_incidents; i++) {
        const struct engine_open_incident *inc = &v->incidents[i];
        if (inc->service && strcmp(inc->service, service) == 0 && within_window(c, inc, now_ms) &&
            (!best || earlier(best, inc)))
            best = inc;
    }
    return best;
}

/* NEW or ROOT_CAUSE, with the downstream incidents the event explains. */
static void decide_opening(struct graph *g, size_t s, const struct event *ev, int64_t now_ms,
                           struct engine_decision *ret, struct strbuf *why)
{
    struct adoption a = {0};
    size_t target = NONE;
    if (s != NONE) {
        find_downstream(g, s, now_ms, &a);
        for (size_t i = 0; i < a.n_roots && target == NONE; i++)
            if (within_window(g->c, a.roots[i], now_ms))
                target = i; /* the roots are in order of opening: the earliest */
    }
    const char *name = s != NONE ? g->c->services[s].name : NULL;
    if (target != NONE) {
        ret->verdict = ENGINE_ROOT_CAUSE;
        ret->incident_id = a.roots[target]->id;
        ret->service = a.roots[target]->service ? xstrdup(a.roots[target]->service) : NULL;
        strbuf_addf(why,
                    "probable root cause of incident %lld: %s depends on %s, which failed within "
                    "the group window",
                    (long long)ret->incident_id, ret->service, name);
    } else {
        ret->verdict = ENGINE_NEW;
        strbuf_adds(why, "new incident");
    }
    adopt_list(g->view, &a, target, ret);
    if (ret->n_adopt > 0) {
        strbuf_addf(why, "; incident%s ", ret->n_adopt == 1 ? "" : "s");
        add_ids(why, ret->adopt, ret->n_adopt);
        strbuf_addf(why, " of services that depend on %s become%s its symptoms", name,
                    ret->n_adopt == 1 ? "s" : "");
    }
    free(a.roots);
    engine_route(g->c, ev, &ret->route);
}

/* Puts the decimal digits of v at p; returns where they end. */
static char *put_decimal(char *p, int64_t v)
{
    char digits[24];
    size_t n = 0;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *p++ = '-';
    while (n)
        *p++ = digits[--n];
    return p;
}

/*
 * "duplicate: fingerprint F is firing on incident N already", put
 * together by hand: it is the reason of nearly every event of a sender
 * that repeats its alerts, and vsnprintf() would parse the format and
 * grow a buffer for each.
 */
static char *duplicate_reason(uint64_t fp, int64_t id)
{
    static const char head[] = "duplicate: fingerprint ", mid[] = " is firing on incident ",
                      tail[] = " already";
    char buf[sizeof(head) + ENGINE_FINGERPRINT_MAX + sizeof(mid) + 24 + sizeof(tail)];
    char *p = buf;
    memcpy(p, head, sizeof(head) - 1);
    p += sizeof(head) - 1;
    engine_fingerprint_format(fp, p);
    p += ENGINE_FINGERPRINT_MAX - 1;
    memcpy(p, mid, sizeof(mid) - 1);
    p = put_decimal(p + sizeof(mid) - 1, id);
    memcpy(p, tail, sizeof(tail)); /* with its NUL */
    return xstrndup(buf, (size_t)(p - buf) + sizeof(tail) - 1);
}

static void decide_firing(const struct config *c, const struct event *ev,
                          const struct engine_view *v, const struct engine_open_event *held,
                          int64_t now_ms, struct engine_decision *ret, struct strbuf *why)
{
    if (held) {
        ret->verdict = ENGINE_DUPLICATE;
        ret->incident_id = held->incident_id;
        ret->reason = duplicate_reason(ret->fingerprint, held->incident_id);
        return;
    }
    const struct silence *sil = silence_find(v, ev, now_ms);
    if (sil) {
        ret->verdict = ENGINE_SILENCED;
        ret->silence_id = sil->id;
        strbuf_addf(why, "silenced by silence %lld %s", (long long)sil->id,
                    sil->matchers_text ? sil->matchers_text : "");
        if (sil->comment && *sil->comment)
            strbuf_addf(why, ": %s", sil->comment);
        return;
    }
    const char *service = labels_get(&ev->labels, ENGINE_SERVICE_LABEL);
    struct graph g;
    graph_init(&g, c, v);
    graph_causes(&g);
    size_t s = service_index(c, service);
    const struct engine_open_incident *join = join_target(c, v, service, now_ms);
    if (s != NONE && g.cause[s]) {
        ret->verdict = ENGINE_SYMPTOM;
        ret->incident_id = g.cause[s]->id;
        ret->service = g.cause[s]->service ? xstrdup(g.cause[s]->service) : NULL;
        symptom_reason(&g, s, why);
    } else if (join) {
        ret->verdict = ENGINE_JOIN;
        ret->incident_id = join->id;
        char buf[UNITS_DURATION_MAX];
        strbuf_addf(why, "joins incident %lld: service %s opened it within the %s group window",
                    (long long)join->id, service,
                    units_duration_format(c->engine.group_window_ms, buf, sizeof(buf)));
    } else {
        decide_opening(&g, s, ev, now_ms, ret, why);
    }
    graph_fini(&g);
}

void engine_decide(const struct config *c, const struct event *ev, const struct engine_view *view,
                   int64_t now_ms, struct engine_decision *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->fingerprint = engine_event_fingerprint(ev, &c->engine.fingerprint_labels);
    const struct engine_open_event *held = event_find(view, ret->fingerprint);
    struct strbuf why;
    strbuf_init(&why, 0);
    if (ev->status == EVENT_RESOLVED)
        decide_resolved(view, held, ret, &why);
    else
        decide_firing(c, ev, view, held, now_ms, ret, &why);
    /* A reason put together by hand is set already; the others were written into why. */
    if (ret->reason)
        strbuf_fini(&why);
    else
        ret->reason = strbuf_detach(&why, NULL);
}

void engine_decision_fini(struct engine_decision *d)
{
    if (!d)
        return;
    free(d->adopt);
    free(d->service);
    engine_route_result_fini(&d->route);
    free(d->reason);
    memset(d, 0, sizeof(*d));
}

const char *engine_verdict_name(enum engine_verdict v)
{
    static const char *const names[] = {"new",        "duplicate", "join",   "symptom",
                                        "root_cause", "resolve",   "ignore", "silenced"};
    return (size_t)v < sizeof(names) / sizeof(names[0]) ? names[v] : "new";
}
