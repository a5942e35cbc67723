/* SPDX-License-Identifier: MIT */
/*
 * The silences resource (api/silences.h). Stored silences are read from
 * the store, so history (expired ones) pages like incidents; the
 * configuration's come from the registry and follow the stored ones
 * (their ids are -1, -2, ..., below every stored id, so "newest first" by
 * id puts them last). A silence's state is computed at the request.
 * Shapes in docs/api.md, "Silences".
 */
#include "api/silences.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/units.h"
#include "base/weekly.h"
#include "codec/json.h"

/* Silences per page: default and most. */
#define PAGE_DEFAULT 50
#define PAGE_MAX     500
/* Bytes of the matchers' text, of a comment. */
#define MATCHERS_MAX 4096
#define COMMENT_MAX  4096

static struct api_silences *deps(struct api_req *req, void *data)
{
    struct api_silences *d = data;
    if (!d->silences || !*d->silences || !d->reader || !*d->reader) {
        api_reply_error(req, 503, "unavailable", "silences are not available now: retry later");
        return NULL;
    }
    return d;
}

static int64_t now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

/* ---- the JSON of a silence ---- */

static json_t *weekly_json(const struct silence *sl)
{
    if (!sl->weekly)
        return json_null();
    struct strbuf b;
    strbuf_init(&b, 0);
    weekly_window_format(&sl->window, &b);
    json_t *j = json_string(b.s);
    strbuf_fini(&b);
    return j;
}

/* ended_ms and ended_by: the store's, when it ended early (0 and NULL otherwise). */
static json_t *silence_json(const struct silence *sl, int64_t ended_ms, const char *ended_by,
                            int64_t now)
{
    return json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                     (json_int_t)sl->id, "source", silence_source_name(sl->source), "state",
                     silence_state_name(silence_state(sl, now)), "matchers",
                     codec_json_text(sl->matchers_text), "starts", codec_json_time(sl->starts_ms),
                     "ends", codec_json_time(sl->ends_ms), "weekly", weekly_json(sl), "incident",
                     sl->incident_id ? json_integer(sl->incident_id) : json_null(), "comment",
                     codec_json_text(sl->comment), "created_by", codec_json_text(sl->created_by),
                     "created", codec_json_time(sl->created_ms), "ended", codec_json_time(ended_ms),
                     "ended_by", codec_json_text(ended_by));
}

/* A stored row as JSON; NULL (logged) for a row that does not parse. */
static json_t *row_json(const struct store_silence *row, int64_t now, enum silence_state *ret_state)
{
    struct silence sl;
    struct err e = {0};
    if (silences_from_row(row, &sl, &e) < 0) {
        log_warn("api", NULL, "%s: left out of the answer", e.msg);
        return NULL;
    }
    *ret_state = silence_state(&sl, now);
    json_t *j = silence_json(&sl, row->ended_ms, row->ended_by, now);
    silence_fini(&sl);
    return j;
}

/* ---- GET /api/v1/silences ---- */

struct list_query {
    unsigned states; /* bit (1u << SILENCE_*) per state wanted */
    int64_t since_ms;
    int64_t cursor; /* only ids below; 0: from the newest */
    size_t limit;
};

static bool states_parse(const char *s, unsigned *ret)
{
    *ret = 0;
    struct strbuf b;
    strbuf_init(&b, 0);
    bool ok = true;
    for (const char *p = s; ok; p++) {
        if (*p && *p != ',') {
            strbuf_addc(&b, *p);
            continue;
        }
        enum silence_state st;
        ok = silence_state_parse(b.s ? b.s : "", &st) == 0;
        if (ok)
            *ret |= 1u << st;
        strbuf_reset(&b);
        if (!*p)
            break;
    }
    strbuf_fini(&b);
    return ok;
}

static bool cursor_parse(const char *s, int64_t *ret)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v == 0)
        return false;
    *ret = v;
    return true;
}

static bool list_query(struct api_req *req, struct list_query *q)
{
    const char *state = api_req_query(req, "state"), *since = api_req_query(req, "since");
    const char *limit = api_req_query(req, "limit"), *cursor = api_req_query(req, "cursor");
    long long v;
    q->states = 1u << SILENCE_PENDING | 1u << SILENCE_ACTIVE | 1u << SILENCE_EXPIRED;
    q->limit = PAGE_DEFAULT;
    if (state && !states_parse(state, &q->states)) {
        api_reply_error(req, 400, "bad_request",
                        "state: expected active, pending or expired (several separated by "
                        "commas), got \"%s\"",
                        state);
        return false;
    }
    if (since && !api__since_parse(since, &q->since_ms)) {
        api_reply_error(req, 400, "bad_request",
                        "since: expected a duration such as 7d or an RFC 3339 time, got \"%s\"",
                        since);
        return false;
    }
    if (limit) {
        if (!api__positive_parse(limit, PAGE_MAX, &v)) {
            api_reply_error(req, 400, "bad_request",
                            "limit: expected a whole number from 1 to %d, got \"%s\"", PAGE_MAX,
                            limit);
            return false;
        }
        q->limit = (size_t)v;
    }
    if (cursor && !cursor_parse(cursor, &q->cursor)) {
        api_reply_error(req, 400, "bad_request",
                        "cursor: expected the next_cursor of the previous page, got \"%s\"",
                        cursor);
        return false;
    }
    return true;
}

/* A page being filled: one match past the limit says a next page exists. */
struct page {
    json_t *list;
    size_t want;
    int64_t last_id;
    bool more;
};

/* Adds j (taken) about silence id; false once the page is full (j then dropped). */
static bool page_add(struct page *p, json_t *j, int64_t id)
{
    if (json_array_size(p->list) == p->want) {
        p->more = true;
        json_decref(j);
        return false;
    }
    json_array_append_new(p->list, j);
    p->last_id = id;
    return true;
}

/* Which stored rows can match: the store tells over from not over, not active from pending. */
static enum store_silence_filter filter_of(unsigned states)
{
    unsigned over = 1u << SILENCE_EXPIRED;
    if (states == over)
        return STORE_SILENCES_OVER;
    if (!(states & over))
        return STORE_SILENCES_NOT_OVER;
    return STORE_SILENCES_ALL;
}

/* The stored silences of the page, newest first, read a page's worth at a time. */
static int stored_fill(struct store_reader *reader, const struct list_query *q, int64_t now,
                       struct page *p)
{
    struct store_silence_query sq = {
            .filter = filter_of(q->states),
            .at_ms = now,
            .since_ms = q->since_ms,
            .before_id = q->cursor,
            .limit = p->want + 1,
    };
    bool full = false;
    while (!full) {
        struct store_silence *v = NULL;
        size_t n = 0;
        int r = store_silences_list(reader, &sq, &v, &n);
        if (r < 0)
            return r;
        for (size_t i = 0; i < n; i++) {
            enum silence_state st = SILENCE_EXPIRED;
            json_t *j = !full ? row_json(&v[i], now, &st) : NULL;
            if (j && (q->states & (1u << st)))
                full = !page_add(p, j, v[i].id);
            else
                json_decref(j);
            sq.before_id = v[i].id;
            store_silence_fini(&v[i]);
        }
        free(v);
        if (n < sq.limit)
            break;
    }
    return 0;
}

/* Then the configuration's: -1, -2, ... */
static void config_fill(const struct silences *s, const struct list_query *q, int64_t now,
                        struct page *p)
{
    size_t n;
    const struct silence *v = silences_view(s, &n);
    for (size_t i = 0; i < n; i++) {
        const struct silence *sl = &v[i];
        if (sl->source != SILENCE_SOURCE_CONFIG || (q->cursor < 0 && sl->id >= q->cursor) ||
            sl->created_ms < q->since_ms || !(q->states & (1u << silence_state(sl, now))))
            continue;
        if (!page_add(p, silence_json(sl, 0, NULL, now), sl->id))
            return;
    }
}

static void get_silences(struct api_req *req, void *data)
{
    struct api_silences *d = deps(req, data);
    struct list_query q = {0};
    if (!d || !list_query(req, &q))
        return;
    int64_t now = now_ms();
    struct page p = {.list = json_array(), .want = q.limit};
    int r = q.cursor >= 0 ? stored_fill(*d->reader, &q, now, &p) : 0;
    if (r < 0) {
        json_decref(p.list);
        api_reply_error(req, 500, "internal", "cannot read the silences: %s", hale_strerror(r));
        return;
    }
    if (!p.more)
        config_fill(*d->silences, &q, now, &p);
    api__reply_page(req, "silences", p.list, p.more, p.last_id);
}

/* ---- GET /api/v1/silences/{id} ---- */

/* The id of the path: a whole number, negative for the configuration's; false with a 404 sent. */
static bool path_id(struct api_req *req, int64_t *ret)
{
    const char *s = api_req_param(req, "id");
    if (!cursor_parse(s, ret)) {
        api_reply_error(req, 404, "not_found",
                        "there is no silence \"%s\": ids are whole numbers (negative for the "
                        "configuration's)",
                        s);
        return false;
    }
    return true;
}

static void reply_not_found(struct api_req *req, int64_t id)
{
    api_reply_error(req, 404, "not_found",
                    "there is no silence %" PRId64 "; GET /api/v1/silences lists them", id);
}

static void get_silence(struct api_req *req, void *data)
{
    struct api_silences *d = deps(req, data);
    int64_t id;
    if (!d || !path_id(req, &id))
        return;
    int64_t now = now_ms();
    if (id < 0) {
        const struct silence *sl = silences_get(*d->silences, id);
        if (!sl) {
            reply_not_found(req, id);
            return;
        }
        api__reply_ok(req, json_pack("{s:o}", "silence", silence_json(sl, 0, NULL, now)));
        return;
    }
    struct store_silence row = {0};
    int r = store_silence_get(*d->reader, id, &row);
    enum silence_state st;
    json_t *j = r == 0 ? row_json(&row, now, &st) : NULL;
    store_silence_fini(&row);
    if (r == HALE_ENOTFOUND)
        reply_not_found(req, id);
    else if (!j)
        api_reply_error(req, 500, "internal", "cannot read silence %" PRId64 ": %s", id,
                        r < 0 ? hale_strerror(r) : "it does not parse");
    else
        api__reply_ok(req, json_pack("{s:o}", "silence", j));
}

/* ---- POST /api/v1/silences ---- */

static const char *const create_fields[] = {"matchers", "starts",  "ends",     "for",
                                            "weekly",   "comment", "incident", NULL};

/* A 400 for a field whose text is wrong at a byte offset: "offset" says where, for machines. */
static void reply_bad_at(struct api_req *req, const char *field, const char *text, size_t offset,
                         const char *msg)
{
    json_t *o = api_error_new(400, "bad_request", "%s: %s (at byte %zu of \"%s\")", field, msg,
                              offset, text);
    json_object_set_new(o, "field", json_string(field));
    json_object_set_new(o, "offset", json_integer((json_int_t)offset));
    api_reply_json(req, 400, o);
}

/* An RFC 3339 time member; *ret unchanged when absent. False with a 400 sent otherwise. */
static bool body_time(struct api_req *req, json_t *body, const char *key, int64_t *ret)
{
    const char *s;
    if (!api__body_string(req, body, key, 64, &s))
        return false;
    if (s && clock_parse_rfc3339_ms(s, ret) < 0) {
        api__reply_bad_field(req, key,
                             "%s: expected an RFC 3339 time such as 2026-12-24T22:00:00Z, got "
                             "\"%s\"",
                             key, s);
        return false;
    }
    return true;
}

static bool body_matchers(struct api_req *req, json_t *body, struct silence *sl)
{
    const char *text;
    if (!api__body_string(req, body, "matchers", MATCHERS_MAX, &text))
        return false;
    if (!text) {
        api__reply_bad_field(req, "matchers",
                             "matchers is required: the labels of the events to hold back, such "
                             "as {service=\"web\"}");
        return false;
    }
    struct labels_matchers *m;
    struct err e = {0};
    size_t offset = 0;
    if (labels_matchers_parse(text, &m, &e, &offset) < 0) {
        reply_bad_at(req, "matchers", text, offset, e.msg);
        return false;
    }
    labels_matchers_free(m);
    /* Parsed once already: it cannot fail now. */
    return silence_matchers_set(sl, text, NULL) == 0;
}

static bool body_weekly(struct api_req *req, json_t *body, struct silence *sl)
{
    const char *text;
    if (!api__body_string(req, body, "weekly", 64, &text))
        return false;
    if (!text)
        return true;
    struct err e = {0};
    size_t offset = 0;
    if (weekly_window_parse(text, &sl->window, &e, &offset) < 0) {
        reply_bad_at(req, "weekly", text, offset, e.msg);
        return false;
    }
    sl->weekly = true;
    return true;
}

/* for: a duration; *ret_ms 0 when absent. */
static bool body_for(struct api_req *req, json_t *body, uint64_t *ret_ms)
{
    const char *text;
    *ret_ms = 0;
    if (!api__body_string(req, body, "for", 64, &text))
        return false;
    if (!text)
        return true;
    if (units_duration_parse(text, ret_ms, NULL, NULL) < 0 || *ret_ms == 0) {
        api__reply_bad_field(req, "for",
                             "for: expected a duration longer than 0 such as 2h or 30m, got "
                             "\"%s\"",
                             text);
        return false;
    }
    return true;
}

static bool body_incident(struct api_req *req, json_t *body, int64_t *ret)
{
    json_t *v = json_object_get(body, "incident");
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        api__reply_bad_field(req, "incident",
                             "incident: expected the number of an open incident, such as 42");
        return false;
    }
    *ret = json_integer_value(v);
    return true;
}

/* The end, from ends or for; false with a 400 sent when they say nothing sensible. */
static bool span_check(struct api_req *req, struct silence *sl, uint64_t for_ms, bool has_ends,
                       int64_t now)
{
    if (for_ms && has_ends) {
        api__reply_bad_field(req, "for", "for: give for or ends, not both");
        return false;
    }
    /* One now for both ends: a silence "for 2h" lasts exactly two hours. */
    if (!sl->starts_ms && for_ms)
        sl->starts_ms = now;
    int64_t from = sl->starts_ms ? sl->starts_ms : now;
    if (for_ms)
        sl->ends_ms = from + (int64_t)for_ms;
    if (!sl->ends_ms && !sl->weekly && !sl->incident_id) {
        api__reply_bad_field(req, "ends",
                             "a silence needs an end: ends (a time), for (a duration such as "
                             "2h), weekly (a window such as \"Mon-Fri 22:00-06:00\") or incident "
                             "(it ends when that incident resolves)");
        return false;
    }
    if (sl->ends_ms && sl->ends_ms <= now) {
        api__reply_bad_field(req, has_ends ? "ends" : "for",
                             "%s: the silence would be over already; give an end in the future",
                             has_ends ? "ends" : "for");
        return false;
    }
    if (sl->ends_ms && sl->ends_ms <= sl->starts_ms) {
        api__reply_bad_field(req, "ends", "ends must come after starts");
        return false;
    }
    return true;
}

/* The incident a silence is bound to must be open: one resolved has nothing left to end it. */
static bool incident_check(struct api_req *req, struct store_reader *reader, int64_t id)
{
    struct incident i = {0};
    int r = store_incident_get(reader, id, &i);
    enum incident_state st = i.state;
    incident_fini(&i);
    if (r == HALE_ENOTFOUND) {
        api__reply_bad_field(
                req, "incident",
                "incident: there is no incident %" PRId64 "; GET /api/v1/incidents lists them", id);
        return false;
    }
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read incident %" PRId64 ": %s", id,
                        hale_strerror(r));
        return false;
    }
    if (st == INCIDENT_RESOLVED || st == INCIDENT_CLOSED) {
        api_reply_error(req, 409, "conflict",
                        "incident %" PRId64 " is %s already: a silence until it resolves would "
                        "never end; give ends or for instead",
                        id, incident_state_name(st));
        return false;
    }
    return true;
}

/* The silence the body asks for; false with a 4xx sent, naming the field. */
static bool silence_from_body(struct api_req *req, struct store_reader *reader, struct silence *sl)
{
    json_t *body;
    if (!api__body_object(req, create_fields, &body))
        return false;
    const char *comment;
    uint64_t for_ms;
    int64_t ends = 0;
    if (!body_matchers(req, body, sl) || !body_time(req, body, "starts", &sl->starts_ms) ||
        !body_time(req, body, "ends", &ends) || !body_for(req, body, &for_ms) ||
        !body_weekly(req, body, sl) || !body_incident(req, body, &sl->incident_id) ||
        !api__body_string(req, body, "comment", COMMENT_MAX, &comment))
        return false;
    sl->ends_ms = ends;
    bool has_ends = json_object_get(body, "ends") && !json_is_null(json_object_get(body, "ends"));
    if (!span_check(req, sl, for_ms, has_ends, now_ms()))
        return false;
    struct err e = {0};
    if (silence_check(sl, &e) < 0) {
        api__reply_bad_field(req, "matchers", "matchers: %s", e.msg);
        return false;
    }
    if (sl->incident_id && !incident_check(req, reader, sl->incident_id))
        return false;
    if (comment) {
        free(sl->comment);
        sl->comment = xstrdup(comment);
    }
    return true;
}

static void on_added(int result, const struct silence *sl, void *data)
{
    struct api_req *req = data;
    if (result < 0) {
        api_reply_error(req, 503, "unavailable",
                        "the silence was not saved (%s): nothing changed; send it again",
                        hale_strerror(result));
        return;
    }
    char location[64];
    snprintf(location, sizeof(location), "/api/v1/silences/%" PRId64, sl->id);
    api_reply_header(req, "Location", location);
    json_t *o = silence_json(sl, 0, NULL, now_ms());
    if (o)
        api_reply_json(req, 201, json_pack("{s:o}", "silence", o));
    else
        api_reply_error(req, 500, "internal", "the answer cannot be encoded as JSON");
}

static void post_silence(struct api_req *req, void *data)
{
    struct api_silences *d = deps(req, data);
    if (!d)
        return;
    struct silence sl;
    silence_init(&sl);
    if (!silence_from_body(req, *d->reader, &sl)) {
        silence_fini(&sl);
        return;
    }
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct err e = {0};
    int r = silences_add(*d->silences, &sl, actor, api_req_origin(req), on_added, req, &e);
    if (r == -EINVAL)
        api_reply_error(req, 400, "bad_request", "%s", e.msg);
    else if (r < 0)
        api_reply_error(req, 500, "internal", "%s", e.msg[0] ? e.msg : hale_strerror(r));
}

/* ---- DELETE /api/v1/silences/{id} ---- */

static void on_expired(int result, const struct silence *sl, void *data)
{
    struct api_req *req = data;
    if (result < 0) {
        api_reply_error(req, 503, "unavailable",
                        "the expiry was not saved (%s): nothing changed; send it again",
                        hale_strerror(result));
        return;
    }
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    api__reply_ok(req,
                  json_pack("{s:o}", "silence", silence_json(sl, sl->ends_ms, actor, now_ms())));
}

/* A stored silence that is over is history: say since when, rather than "not found". */
static bool stored_in_force(struct api_req *req, struct store_reader *reader, int64_t id)
{
    struct store_silence row = {0};
    int r = store_silence_get(reader, id, &row);
    int64_t ends = row.ends_ms;
    store_silence_fini(&row);
    if (r == HALE_ENOTFOUND) {
        reply_not_found(req, id);
        return false;
    }
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read silence %" PRId64 ": %s", id,
                        hale_strerror(r));
        return false;
    }
    if (ends && ends <= now_ms()) {
        char when[CLOCK_RFC3339_MAX];
        clock_format_rfc3339_ms((uint64_t)ends, when);
        api_reply_error(req, 409, "conflict", "silence %" PRId64 " expired already, at %s", id,
                        when);
        return false;
    }
    return true;
}

static void delete_silence(struct api_req *req, void *data)
{
    struct api_silences *d = deps(req, data);
    int64_t id;
    if (!d || !path_id(req, &id))
        return;
    if (id > 0 && !stored_in_force(req, *d->reader, id))
        return;
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct err e = {0};
    int r = silences_expire(*d->silences, id, actor, api_req_origin(req), on_expired, req, &e);
    if (r == HALE_ENOTFOUND && id < 0)
        reply_not_found(req, id);
    else if (r == HALE_ENOTFOUND || r == HALE_ESTATE)
        api_reply_error(req, 409, "conflict", "%s", e.msg); /* over since the store was read */
    else if (r < 0)
        api_reply_error(req, 500, "internal", "%s", e.msg[0] ? e.msg : hale_strerror(r));
}

static const struct api_route silence_routes[] = {
        {"GET", "/api/v1/silences", AUTH_PERM_READ, get_silences},
        {"POST", "/api/v1/silences", AUTH_PERM_ACT, post_silence},
        {"GET", "/api/v1/silences/{id}", AUTH_PERM_READ, get_silence},
        {"DELETE", "/api/v1/silences/{id}", AUTH_PERM_ACT, delete_silence},
};

int api_silences_routes_add(struct api *api, struct api_silences *d, struct err *e)
{
    return api_routes_add(api, silence_routes, sizeof(silence_routes) / sizeof(silence_routes[0]),
                          d, e);
}
