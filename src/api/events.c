/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/events and POST /api/v1/alertmanager: a body decoded whole
 * (src/ingest/) or refused whole, naming the event and field at fault;
 * the events handed to the engine in one submit, which answers once they
 * are durable, with what became of each. hale's own events body is
 * decoded from its text on the HTTP thread (the route's body decoder), so
 * the loop only hands the events on and writes the answer. GET /api/v1/events: the events
 * received, newest first, a page at a time. Shapes in docs/api.md,
 * "Events".
 */
#include "api/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler.h"
#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "codec/json.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
#include "loop/loop.h"
#include "store/store.h"

/* Events per page: default and most. */
#define PAGE_DEFAULT 100
#define PAGE_MAX     1000

static struct api_events *events_deps(struct api_req *req, void *data)
{
    struct api_events *d = data;
    if (!*d->engine || !*d->reader) {
        api_reply_error(req, 503, "unavailable", "events are not taken now: retry later");
        return NULL;
    }
    return d;
}

/* ---- POST: events in ---- */

/* The refusal of a body: 400 invalid_event or 413 payload_too_large, naming the event and field. */
static unsigned refusal(int r, const struct ingest_error *e, json_t **ret)
{
    unsigned status = r == HALE_ELIMIT ? 413 : 400;
    json_t *o = api_error_new(status, status == 413 ? "payload_too_large" : "invalid_event", "%s%s",
                              e->reason, " (nothing of the request was taken)");
    json_object_set_new(o, "index", json_integer(e->index));
    json_object_set_new(o, "field", codec_json_text(e->field));
    *ret = o;
    return status;
}

static void reply_refused(struct api_req *req, int r, const struct ingest_error *e)
{
    json_t *o;
    unsigned status = refusal(r, e, &o);
    api_reply_json(req, status, o);
}

/* Appends s as a JSON string, its bytes that are not UTF-8 as U+FFFD; NULL as null. */
static void add_text(struct strbuf *b, const char *s)
{
    if (!s) {
        strbuf_adds(b, "null");
        return;
    }
    if (strbuf_add_json_string(b, s) == 0)
        return;
    struct strbuf u;
    strbuf_init(&u, 0);
    strbuf_add_utf8(&u, s);
    strbuf_add_json_string(b, u.s);
    strbuf_fini(&u);
}

/*
 * The submit is durable (or not): what became of each event, in order,
 * written as jansson would write it (compact, a final newline), without
 * building the tree first.
 */
static void on_applied(int result, const struct engine_outcome *v, size_t n, void *data)
{
    struct api_req *req = data;
    if (result < 0) {
        api_reply_error(req, 503, "unavailable",
                        "the events were not saved (%s): nothing of the request was taken; "
                        "send it again",
                        hale_strerror(result));
        return;
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "{\"accepted\":%zu,\"events\":[", n);
    for (size_t k = 0; k < n; k++) {
        strbuf_addf(&b, "%s{\"index\":%zu,\"fingerprint\":\"%016llx\",\"verdict\":", k ? "," : "",
                    k, (unsigned long long)v[k].fingerprint);
        add_text(&b, engine_verdict_name(v[k].verdict));
        if (v[k].incident_id)
            strbuf_addf(&b, ",\"incident\":%lld,\"reason\":", (long long)v[k].incident_id);
        else
            strbuf_adds(&b, ",\"incident\":null,\"reason\":");
        add_text(&b, v[k].reason);
        strbuf_addc(&b, '}');
    }
    strbuf_adds(&b, "]}\n");
    size_t len;
    char *body = strbuf_detach(&b, &len);
    api_reply_raw(req, 200, "application/json", body, len);
}

/*
 * The requests that one wake-up of the loop brought, submitted to the
 * engine together once the wake-up's posts are done: the desk's and the
 * store's work of a submit (one batch, each incident's row written once,
 * one live-stream message an incident) is then shared by all of them,
 * instead of being done again for each single-event request. Each request
 * is answered with its own events' outcomes.
 */
struct api__gather {
    struct event *v;
    size_t n_events, cap_events;
    struct api_req **reqs;
    size_t *ends; /* request k's events are v[ends[k-1]] up to v[ends[k]] */
    size_t n, cap;
};

/* Past this many events gathered, a request's events go in the next submit. */
#define GATHER_EVENTS_MAX 1000

/* Frees g but its events, which the engine took (or which were freed). */
static void gather_free(struct api__gather *g)
{
    free(g->reqs);
    free(g->ends);
    free(g);
}

static void on_gather_applied(int result, const struct engine_outcome *v, size_t n, void *data)
{
    struct api__gather *g = data;
    (void)n;
    for (size_t k = 0, start = 0; k < g->n; start = g->ends[k++])
        on_applied(result, v + start, g->ends[k] - start, g->reqs[k]);
    gather_free(g);
}

static void gather_submit(void *data)
{
    struct api_events *d = data;
    struct api__gather *g = d->gather;
    d->gather = NULL;
    if (!g)
        return;
    if (!*d->engine) {
        for (size_t k = 0; k < g->n; k++)
            api_reply_error(g->reqs[k], 503, "unavailable",
                            "events are not taken now: retry later");
        ingest_events_free(g->v, g->n_events);
        gather_free(g);
        return;
    }
    engine_submit(*d->engine, g->v, g->n_events, on_gather_applied, g);
}

static void gather_add(struct api_events *d, struct api_req *req, struct event *v, size_t n)
{
    if (d->gather && d->gather->n_events + n > GATHER_EVENTS_MAX)
        gather_submit(d);
    struct api__gather *g = d->gather;
    if (!g) {
        g = d->gather = xcalloc(1, sizeof(*g));
        loop_after_posts(d->loop, gather_submit, d);
    }
    if (g->n_events + n > g->cap_events) {
        g->cap_events = g->n_events + n > 2 * g->cap_events ? g->n_events + n : 2 * g->cap_events;
        g->v = xreallocarray(g->v, g->cap_events, sizeof(*g->v));
    }
    if (n)
        memcpy(g->v + g->n_events, v, n * sizeof(*v));
    g->n_events += n;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 8;
        g->reqs = xreallocarray(g->reqs, g->cap, sizeof(*g->reqs));
        g->ends = xreallocarray(g->ends, g->cap, sizeof(*g->ends));
    }
    g->reqs[g->n] = req;
    g->ends[g->n++] = g->n_events;
    free(v); /* the events moved; their strings with them */
}

/* Hands the events to the engine, each with who sent them: a resolution is resolved by them. */
static void submit(struct api_req *req, struct api_events *d, struct event *v, size_t n)
{
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    for (size_t k = 0; k < n; k++)
        v[k].sender = xstrdup(actor);
    if (d->loop)
        gather_add(d, req, v, n);
    else
        engine_submit(*d->engine, v, n, on_applied, req);
}

/* The events of a body, as the decoder hands them to the handler. */
struct decoded_events {
    struct event *v;
    size_t n;
};

static void decoded_events_free(void *p)
{
    struct decoded_events *b = p;
    ingest_events_free(b->v, b->n);
    free(b);
}

/* HTTP thread: the body's text straight into events, or the refusal of it. */
static unsigned decode_events(const char *body, size_t len, void **ret, json_t **ret_error)
{
    struct ingest_error e = {0};
    struct decoded_events b = {0};
    int r = ingest_events_decode(body, len, (int64_t)clock_real_ms(&clock_system), &b.v, &b.n, &e);
    if (r < 0 && e.line) {
        *ret_error = api_error_new(400, "invalid_json",
                                   "the body is not valid JSON: line %u, column %u: %s", e.line,
                                   e.column, e.reason);
        return 400;
    }
    if (r < 0)
        return refusal(r, &e, ret_error);
    struct decoded_events *p = xmalloc(sizeof(*p));
    *p = b;
    *ret = p;
    return 0;
}

static const struct api_body_decoder events_decoder = {
        .decode = decode_events,
        .free = decoded_events_free,
};

static void post_events(struct api_req *req, void *data)
{
    struct api_events *d = events_deps(req, data);
    if (!d)
        return;
    struct decoded_events *b = api_req_decoded_take(req);
    submit(req, d, b->v, b->n);
    free(b);
}

static void post_alertmanager(struct api_req *req, void *data)
{
    struct api_events *d = events_deps(req, data);
    if (!d)
        return;
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {0};
    int r = ingest_alertmanager_decode(api_req_body(req), (int64_t)clock_real_ms(&clock_system), &v,
                                       &n, &e);
    if (r < 0) {
        reply_refused(req, r, &e);
        return;
    }
    submit(req, d, v, n);
}

/* ---- GET: the events received ---- */

static bool positive_query(struct api_req *req, const char *key, long long max, const char *what,
                           long long *ret)
{
    const char *s = api_req_query(req, key);
    if (!s)
        return true;
    if (!api__positive_parse(s, max, ret)) {
        api_reply_error(req, 400, "bad_request", "%s: expected %s, got \"%s\"", key, what, s);
        return false;
    }
    return true;
}

/* The query of the page asked for; false with a 400 sent, naming the parameter. */
static bool events_query(struct api_req *req, struct store_event_query *q)
{
    long long incident = 0;
    struct api__page page;
    if (!api__page_parse(req, PAGE_DEFAULT, PAGE_MAX, &page) ||
        !positive_query(req, "incident", INT64_MAX, "an incident's id", &incident))
        return false;
    q->since_ms = page.since_ms;
    q->incident_id = incident;
    q->limit = page.limit;
    q->before_id = page.cursor;
    return true;
}

static void get_events(struct api_req *req, void *data)
{
    struct api_events *d = events_deps(req, data);
    struct store_event_query q = {0};
    if (!d || !events_query(req, &q))
        return;
    size_t want = q.limit;
    q.limit = want + 1; /* one more says whether a next page exists */
    struct store_event *v = NULL;
    size_t n = 0;
    int r = store_events_list(*d->reader, &q, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the events: %s", hale_strerror(r));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < want; i++)
        json_array_append_new(list, codec_json_event(&v[i]));
    bool more = n > want;
    int64_t last_id = more ? v[want - 1].id : 0;
    for (size_t i = 0; i < n; i++)
        store_event_fini(&v[i]);
    free(v);
    api__reply_page(req, "events", list, more, last_id);
}

static const struct api_route event_routes[] = {
        {"POST", "/api/v1/alertmanager", AUTH_PERM_REPORT, post_alertmanager},
        {"GET", "/api/v1/events", AUTH_PERM_READ, get_events},
};

static const struct api_route decoded_routes[] = {
        {"POST", "/api/v1/events", AUTH_PERM_REPORT, post_events},
};

int api_events_routes_add(struct api *api, struct api_events *d, struct err *e)
{
    int r = api_routes_add_decoded(api, decoded_routes, 1, d, &events_decoder, e);
    if (r == 0)
        r = api_routes_add(api, event_routes, sizeof(event_routes) / sizeof(event_routes[0]), d, e);
    return r;
}
