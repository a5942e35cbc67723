/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/events and POST /api/v1/alertmanager: a body decoded whole
 * (src/ingest/) or refused whole, naming the event and field at fault;
 * the events handed to the engine in one submit, which answers once they
 * are durable, with what became of each. GET /api/v1/events: the events
 * received, newest first, a page at a time. Shapes in docs/api.md,
 * "Events".
 */
#include "api/events.h"

#include <stdio.h>
#include <stdlib.h>

#include "api/handler.h"
#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "codec/json.h"
#include "engine/engine.h"
#include "ingest/ingest.h"
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

static void reply_refused(struct api_req *req, int r, const struct ingest_error *e)
{
    unsigned status = r == HALE_ELIMIT ? 413 : 400;
    json_t *o = api_error_new(status, status == 413 ? "payload_too_large" : "invalid_event", "%s%s",
                              e->reason, " (nothing of the request was taken)");
    json_object_set_new(o, "index", json_integer(e->index));
    json_object_set_new(o, "field", codec_json_text(e->field));
    api_reply_json(req, status, o);
}

/* The submit is durable (or not): what became of each event, in order. */
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
    json_t *list = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(
                list, json_pack("{s:I, s:o, s:s, s:o, s:o}", "index", (json_int_t)k, "fingerprint",
                                codec_json_fingerprint(v[k].fingerprint), "verdict",
                                engine_verdict_name(v[k].verdict), "incident",
                                v[k].incident_id ? json_integer(v[k].incident_id) : json_null(),
                                "reason", codec_json_text(v[k].reason)));
    api__reply_ok(req, json_pack("{s:I, s:o}", "accepted", (json_int_t)n, "events", list));
}

typedef int decode_fn(const json_t *body, int64_t now_ms, struct event **ret_v, size_t *ret_n,
                      struct ingest_error *e);

static void post_with(struct api_req *req, void *data, decode_fn *decode)
{
    struct api_events *d = events_deps(req, data);
    if (!d)
        return;
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {0};
    int r = decode(api_req_body(req), (int64_t)clock_real_ms(&clock_system), &v, &n, &e);
    if (r < 0) {
        reply_refused(req, r, &e);
        return;
    }
    /* Who sent them: a resolution is resolved by them. */
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    for (size_t k = 0; k < n; k++)
        v[k].sender = xstrdup(actor);
    engine_submit(*d->engine, v, n, on_applied, req);
}

static void post_events(struct api_req *req, void *data)
{
    post_with(req, data, ingest_events_decode);
}

static void post_alertmanager(struct api_req *req, void *data)
{
    post_with(req, data, ingest_alertmanager_decode);
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
        {"POST", "/api/v1/events", AUTH_PERM_REPORT, post_events},
        {"POST", "/api/v1/alertmanager", AUTH_PERM_REPORT, post_alertmanager},
        {"GET", "/api/v1/events", AUTH_PERM_READ, get_events},
};

int api_events_routes_add(struct api *api, struct api_events *d, struct err *e)
{
    return api_routes_add(api, event_routes, sizeof(event_routes) / sizeof(event_routes[0]), d, e);
}
