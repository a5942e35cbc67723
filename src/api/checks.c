/* SPDX-License-Identifier: MIT */
/*
 * The checks resource: what the runner knows of each check (hard and soft
 * status, flapping, the last observation, the recent history of its
 * samples), a run on demand answered once it finished, and the reports
 * heartbeat checks wait for. Handlers run on the loop thread, where the
 * runner lives; the runner is looked up at each request, so a reload that
 * replaces it is seen at once.
 */
#include "api/checks.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "api/handler.h"
#include "api/internal.h"
#include "base/clock.h"
#include "codec/json.h"
#include "config/config.h"
#include "series/graph.h"
#include "series/series.h"

/* Points of history sent per series unless ?points= asks otherwise: the newest. */
#define API_CHECKS_HISTORY_DEFAULT SERIES_POINTS_DEFAULT
/* The most ?points= may ask for: history.points' own bound. */
#define API_CHECKS_HISTORY_MAX     1000000

static json_t *number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* "10", "10:", "~:10", "10:20", "@10:20": as a plugin writes a range. */
static json_t *range_json(bool has, const struct units_range *r)
{
    if (!has)
        return json_null();
    char start[64] = "", end[64] = "", buf[160];
    if (r->start == -INFINITY)
        snprintf(start, sizeof(start), "~:");
    else if (r->start != 0)
        snprintf(start, sizeof(start), "%.17g:", r->start);
    if (r->end != INFINITY)
        snprintf(end, sizeof(end), "%.17g", r->end);
    snprintf(buf, sizeof(buf), "%s%s%s", r->inside ? "@" : "", start, end);
    return json_string(buf);
}

json_t *api_check_observation_json(const struct check_observation *o)
{
    json_t *samples = json_array();
    for (size_t i = 0; i < o->n_samples; i++) {
        const struct check_sample *s = &o->samples[i];
        json_array_append_new(samples,
                              json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o}", "label", s->label,
                                        "value", s->has_value ? number(s->value) : json_null(),
                                        "unit", s->unit, "warn", range_json(s->has_warn, &s->warn),
                                        "crit", range_json(s->has_crit, &s->crit), "min",
                                        s->has_min ? number(s->min) : json_null(), "max",
                                        s->has_max ? number(s->max) : json_null()));
    }
    return json_pack("{s:s, s:s, s:s?, s:f, s:o, s:o, s:s?, s:b}", "status",
                     check_status_name(o->status), "summary", o->summary ? o->summary : "",
                     "long_output", o->long_output, "duration_ms", (double)o->duration_us / 1000.0,
                     "started", codec_json_time((int64_t)o->started_ms), "samples", samples,
                     "notes", o->notes, "truncated", o->truncated);
}

static json_t *state_json(const struct checks_state *s)
{
    return json_pack("{s:s, s:s, s:s?, s:o, s:s, s:s, s:b, s:b, s:I, s:s?, s:o, s:o, s:o, s:b}",
                     "name", s->cfg->name, "type", config_check_type_name(s->cfg->type),
                     "description", s->cfg->description, "labels",
                     codec_json_labels(&s->cfg->labels), "status",
                     check_status_name(s->hard_status), "soft_status", check_status_name(s->status),
                     "hard", s->hard, "flapping", s->flapping, "attempt", (json_int_t)s->attempt,
                     "summary", s->summary, "last_run",
                     s->has_last ? codec_json_time((int64_t)s->last_run_ms) : json_null(),
                     "next_due", codec_json_time((int64_t)s->next_due_ms), "duration_ms",
                     s->has_last ? json_real((double)s->duration_us / 1000.0) : json_null(),
                     "running", s->running);
}

/* Replies with body, or 500 when it could not be built (text that is not UTF-8). */
static void reply(struct api_req *req, json_t *body)
{
    if (body)
        api_reply_json(req, 200, body);
    else
        api_reply_error(req, 500, "internal", "the answer cannot be encoded as JSON");
}

static struct checks *runner(struct api_req *req, void *data)
{
    struct checks *c = *(struct checks *const *)data;
    if (!c)
        api_reply_error(req, 503, "unavailable",
                        "checks are not running (the daemon is stopping): retry in a moment");
    return c;
}

static void get_checks(struct api_req *req, void *data)
{
    struct checks *c = runner(req, data);
    if (!c)
        return;
    json_t *list = json_array();
    struct checks_state s;
    for (size_t i = 0; checks_state_at(c, i, &s); i++)
        json_array_append_new(list, state_json(&s));
    api_reply_json(req, 200, json_pack("{s:o}", "checks", list));
}

struct history_json {
    json_t *series;
    size_t points; /* per series at most, the newest */
};

static void add_series(const char *label, const char *unit, const struct series *s, void *data)
{
    struct history_json *h = data;
    json_t *points = json_array();
    size_t n = series_len(s);
    struct series_iter it;
    struct series_point p;
    series_iter_init(&it, s);
    series_iter_skip(&it, n > h->points ? n - h->points : 0);
    while (series_next(&it, &p))
        json_array_append_new(points, json_pack("[I, o]", (json_int_t)p.time_ms, number(p.value)));
    json_array_append_new(h->series, json_pack("{s:s, s:s, s:o}", "label", label, "unit", unit,
                                               "points", points));
}

/* A size query argument: its value, def when absent, 0 when it is not a whole number in range. */
static unsigned size_arg(struct api_req *req, const char *key, unsigned def, unsigned min,
                         unsigned max)
{
    const char *v = api_req_query(req, key);
    if (!v)
        return def;
    long long n;
    return api__positive_parse(v, max, &n) && n >= min ? (unsigned)n : 0;
}

static void not_found(struct api_req *req, const char *name)
{
    api_reply_error(req, 404, "not_found",
                    "there is no check named \"%s\"; GET /api/v1/checks lists them", name);
}

static void get_check(struct api_req *req, void *data)
{
    struct checks *c = runner(req, data);
    if (!c)
        return;
    const char *name = api_req_param(req, "name");
    struct checks_state s;
    if (!checks_state_find(c, name, &s)) {
        not_found(req, name);
        return;
    }
    struct history_json h = {
            .points =
                    size_arg(req, "points", API_CHECKS_HISTORY_DEFAULT, 1, API_CHECKS_HISTORY_MAX),
    };
    if (!h.points) {
        api_reply_error(req, 400, "bad_request",
                        "points must be a whole number from 1 to %d (the newest points of each "
                        "series), or left out for %d",
                        API_CHECKS_HISTORY_MAX, API_CHECKS_HISTORY_DEFAULT);
        return;
    }
    json_t *o = state_json(&s);
    if (!o) {
        reply(req, NULL);
        return;
    }
    struct check_observation last;
    if (checks_last_observation(c, name, &last)) {
        json_object_set_new(o, "observation", api_check_observation_json(&last));
        check_observation_fini(&last);
    } else {
        json_object_set_new(o, "observation", json_null());
    }
    h.series = json_array();
    checks_series_each(c, name, add_series, &h);
    json_object_set_new(o, "history", h.series);
    reply(req, o);
}

/* The series of a check, gathered for its graph. */
struct graph_lines {
    struct series_graph_line v[1 + SERIES_GRAPH_LINES_MAX];
    size_t n;
};

static void add_graph_line(const char *label, const char *unit, const struct series *s, void *data)
{
    struct graph_lines *g = data;
    bool status = strcmp(label, "status") == 0 && !*unit;
    if (g->n < sizeof(g->v) / sizeof(g->v[0]))
        g->v[g->n++] = (struct series_graph_line){label, unit, s, status};
}

static void get_graph(struct api_req *req, void *data)
{
    struct checks *c = runner(req, data);
    if (!c)
        return;
    const char *name = api_req_param(req, "name");
    struct checks_state s;
    if (!checks_state_find(c, name, &s)) {
        not_found(req, name);
        return;
    }
    unsigned width = size_arg(req, "width", 600, 200, 2000);
    unsigned height = size_arg(req, "height", 240, 120, 1000);
    if (!width || !height) {
        api_reply_error(req, 400, "bad_request",
                        "width must be a whole number from 200 to 2000 and height from 120 to "
                        "1000 (pixels), or left out");
        return;
    }
    struct graph_lines g = {.n = 0};
    checks_series_each(c, name, add_graph_line, &g);
    struct series_graph_options o = {.title = name, .width = width, .height = height};
    struct strbuf b;
    strbuf_init(&b, 0);
    series_graph_svg(g.v, g.n, &o, &b);
    size_t len;
    char *body = strbuf_detach(&b, &len);
    api_reply_header(req, "Cache-Control", "no-store");
    api_reply_raw(req, 200, "image/svg+xml", body, len);
}

static void on_run_answer(const struct config_check *check, const struct check_observation *o,
                          void *data)
{
    struct api_req *req = data;
    json_t *body = json_pack("{s:s, s:o?}", "check", check->name, "observation",
                             api_check_observation_json(o));
    reply(req, body);
}

static void post_run(struct api_req *req, void *data)
{
    struct checks *c = runner(req, data);
    if (!c)
        return;
    const char *name = api_req_param(req, "name");
    int r = checks_run_now(c, name, on_run_answer, req);
    if (r == HALE_ENOTFOUND)
        not_found(req, name);
    else if (r < 0)
        api_reply_error(req, 503, "unavailable", "the check cannot run now: %s", hale_strerror(r));
}

static void post_heartbeat(struct api_req *req, void *data)
{
    struct checks *c = runner(req, data);
    if (!c)
        return;
    const char *name = api_req_param(req, "name");
    json_t *body = api_req_body(req);
    struct check_heartbeat_report r = {.time_ms = clock_real_ms(&clock_system), .ok = true};
    if (body && !json_is_object(body)) {
        api_reply_error(req, 400, "bad_request",
                        "the body must be a JSON object such as {\"status\": \"ok\"}");
        return;
    }
    json_t *status = body ? json_object_get(body, "status") : NULL;
    json_t *count = body ? json_object_get(body, "count") : NULL;
    json_t *message = body ? json_object_get(body, "message") : NULL;
    if (status && !json_is_null(status)) {
        const char *v = json_string_value(status);
        if (!v || (strcmp(v, "ok") != 0 && strcmp(v, "failed") != 0)) {
            api_reply_error(req, 400, "bad_request", "status must be \"ok\" or \"failed\"");
            return;
        }
        r.ok = strcmp(v, "ok") == 0;
    }
    if (count && !json_is_null(count)) {
        if (!json_is_integer(count) || json_integer_value(count) < 0) {
            api_reply_error(req, 400, "bad_request", "count must be a whole number, 0 or more");
            return;
        }
        r.has_count = true;
        r.count = (uint64_t)json_integer_value(count);
    }
    if (message && !json_is_null(message)) {
        if (!json_is_string(message)) {
            api_reply_error(req, 400, "bad_request", "message must be a string");
            return;
        }
        r.message = json_string_value(message);
    }
    int rc = checks_heartbeat_report(c, name, &r);
    if (rc == HALE_ENOTFOUND)
        not_found(req, name);
    else if (rc == HALE_ESTATE)
        api_reply_error(req, 409, "conflict",
                        "check \"%s\" is not a heartbeat check: only those take reports", name);
    else if (rc < 0)
        api_reply_error(req, 500, "internal", "the report was not taken: %s", hale_strerror(rc));
    else
        api_reply_json(req, 200, json_pack("{s:s, s:b}", "check", name, "accepted", 1));
}

static const struct api_route check_routes[] = {
        {"GET", "/api/v1/checks", AUTH_PERM_READ, get_checks},
        {"GET", "/api/v1/checks/{name}", AUTH_PERM_READ, get_check},
        {"GET", "/api/v1/checks/{name}/graph.svg", AUTH_PERM_READ, get_graph},
        {"POST", "/api/v1/checks/{name}/run", AUTH_PERM_ACT, post_run},
        {"POST", "/api/v1/heartbeats/{name}", AUTH_PERM_REPORT, post_heartbeat},
};

int api_checks_routes_add(struct api *api, struct checks **current, struct err *e)
{
    return api_routes_add(api, check_routes, sizeof(check_routes) / sizeof(check_routes[0]),
                          current, e);
}
