/* SPDX-License-Identifier: MIT */
/*
 * The incidents resource and the reports: reads from the store through
 * the loop's reader, openings and actions through the incident desk
 * (itsm.h), answered once the change is durable. The problems and the
 * audit log are in problems.c and audit.c, added with these. The JSON
 * shapes are documented in docs/api.md.
 */
#include "api/incidents.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler.h"
#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/units.h"
#include "codec/json.h"
#include "itsm/report.h"

/* Incidents per page: default and most. */
#define PAGE_DEFAULT    50
#define PAGE_MAX        500
/* Bytes a note (or a description) may have. */
#define NOTE_MAX        (64 * 1024)
/* Bytes of a title, of a team's name. */
#define TITLE_MAX       200
#define TEAM_MAX        128
/* Labels an incident opened by hand may have, and the bytes of a value. */
#define LABELS_MAX      32
#define LABEL_VALUE_MAX 1024

/* ---- GET /api/v1/incidents ---- */

static bool parse_states(const char *s, unsigned *ret)
{
    *ret = 0;
    char *copy = xstrdup(s), *save = NULL;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        enum incident_state st;
        if (strcmp(tok, "open") == 0)
            *ret |= 1u << INCIDENT_NEW | 1u << INCIDENT_ACKNOWLEDGED | 1u << INCIDENT_IN_PROGRESS;
        else if ((ok = incident_state_parse(tok, &st) == 0))
            *ret |= 1u << st;
    }
    free(copy);
    return ok && *ret;
}

/* "2", "P1,p2", "1,2,3": bit (1u << p) per priority p in *ret. */
static bool parse_priorities(const char *s, unsigned *ret)
{
    *ret = 0;
    for (const char *p = s;; p++) {
        if (*p == 'P' || *p == 'p')
            p++;
        if (*p < '1' || *p > '5')
            return false;
        *ret |= 1u << (*p - '0');
        p++;
        if (*p == '\0')
            return true;
        if (*p != ',')
            return false;
    }
}

/* Bytes of a service's name, of the text looked for in titles. */
#define SERVICE_MAX 128
#define TEXT_MAX    200

static bool list_query(struct api_req *req, struct store_incident_query *q)
{
    const char *state = api_req_query(req, "state");
    const char *priority = api_req_query(req, "priority");
    struct api__page page;
    if (state && !parse_states(state, &q->states)) {
        api_reply_error(req, 400, "bad_request",
                        "state: expected open or states (new, acknowledged, in_progress, "
                        "resolved, closed) separated by commas, got \"%s\"",
                        state);
        return false;
    }
    if (priority && !parse_priorities(priority, &q->priorities)) {
        api_reply_error(req, 400, "bad_request",
                        "priority: expected priorities 1 to 5 (or P1 to P5) separated by "
                        "commas, got \"%s\"",
                        priority);
        return false;
    }
    if (q->service && strlen(q->service) > SERVICE_MAX) {
        api_reply_error(req, 400, "bad_request", "service: at most %d bytes", SERVICE_MAX);
        return false;
    }
    if (q->text && strlen(q->text) > TEXT_MAX) {
        api_reply_error(req, 400, "bad_request", "q: at most %d bytes of text to look for",
                        TEXT_MAX);
        return false;
    }
    if (!api__page_parse(req, PAGE_DEFAULT, PAGE_MAX, &page))
        return false;
    q->since_ms = page.since_ms;
    q->limit = page.limit;
    q->before_id = page.cursor;
    return true;
}

/* Answers the page of incidents q asks for. */
static void reply_incidents(struct api_req *req, struct api_incidents *d,
                            struct store_incident_query *q)
{
    size_t want = q->limit;
    q->limit = want + 1; /* one more says whether a next page exists */
    struct incident *v = NULL;
    size_t n = 0;
    int r = store_incidents_list(*d->reader, q, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the incidents: %s", hale_strerror(r));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < want; i++)
        json_array_append_new(list, codec_json_incident(&v[i]));
    bool more = n > want;
    int64_t last_id = more ? v[want - 1].id : 0;
    for (size_t i = 0; i < n; i++)
        incident_fini(&v[i]);
    free(v);
    api__reply_page(req, "incidents", list, more, last_id);
}

static void get_incidents(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    if (!d)
        return;
    /* Borrowed from the connection: the read is done within the handler's call. */
    const char *text = api_req_query(req, "q");
    struct store_incident_query q = {
            .team = api_req_query(req, "team"),
            .service = api_req_query(req, "service"),
            .text = text && *text ? text : NULL,
    };
    if (list_query(req, &q))
        reply_incidents(req, d, &q);
}

/* ---- GET /api/v1/incidents/{id} ---- */

/*
 * Reads incident id into *ret (zeroed by the caller), or answers 404
 * (none such) or 500 and returns false, *ret freed.
 */
static bool incident_read(struct api_req *req, struct api_incidents *d, int64_t id,
                          struct incident *ret)
{
    int r = store_incident_get(*d->reader, id, ret);
    if (r == HALE_ENOTFOUND)
        api_reply_error(req, 404, "not_found",
                        "there is no incident %lld; GET /api/v1/incidents lists them",
                        (long long)id);
    else if (r < 0)
        api_reply_error(req, 500, "internal", "cannot read incident %lld: %s", (long long)id,
                        hale_strerror(r));
    if (r < 0)
        incident_fini(ret);
    return r == 0;
}

static void get_incident(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    int64_t id;
    if (!d || !api__path_id(req, "incident", &id))
        return;
    struct incident i = {0};
    if (!incident_read(req, d, id, &i))
        return;
    struct timeline_entry *t = NULL;
    size_t n = 0;
    int r = store_timeline_list(*d->reader, id, &t, &n);
    if (r < 0) {
        incident_fini(&i);
        api_reply_error(req, 500, "internal", "cannot read incident %lld: %s", (long long)id,
                        hale_strerror(r));
        return;
    }
    json_t *timeline = json_array();
    for (size_t k = 0; k < n; k++) {
        json_array_append_new(timeline, codec_json_timeline_entry(&t[k]));
        timeline_entry_fini(&t[k]);
    }
    free(t);
    json_t *o = codec_json_incident(&i);
    incident_fini(&i);
    api__reply_ok(req, o ? json_pack("{s:o, s:o}", "incident", o, "timeline", timeline) : NULL);
}

/* ---- GET /api/v1/incidents/{id}/notifications ---- */

static json_t *notification_json(const struct store_notification *n)
{
    bool pending = strcmp(n->state, "pending") == 0;
    return json_pack(
            "{s:I, s:o, s:s, s:s, s:i, s:s, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o}", "id",
            (json_int_t)n->id, "team", codec_json_text(n->team), "notifier", n->notifier, "reason",
            n->reason, "level", (int)n->level, "state", n->state, "text", codec_json_text(n->text),
            "assignee", codec_json_text(n->assignee), "attempts", (int)n->attempts, "created",
            codec_json_time(n->created_ms), "updated", codec_json_time(n->updated_ms),
            "next_attempt", pending ? codec_json_time(n->due_ms) : json_null(), "settled",
            pending ? json_null() : codec_json_time(n->due_ms), "error", codec_json_text(n->error));
}

static void get_incident_notifications(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    int64_t id;
    if (!d || !api__path_id(req, "incident", &id))
        return;
    struct incident i = {0};
    if (!incident_read(req, d, id, &i))
        return;
    incident_fini(&i);
    struct store_notification *v = NULL;
    size_t n = 0;
    int r = store_notifications_list(*d->reader, id, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the notifications of incident %lld: %s",
                        (long long)id, hale_strerror(r));
        return;
    }
    json_t *list = json_array();
    /* Newest first: what happened last is what people look for. */
    for (size_t k = n; k-- > 0;) {
        json_array_append_new(list, notification_json(&v[k]));
        store_notification_fini(&v[k]);
    }
    free(v);
    api__reply_ok(req, json_pack("{s:o}", "notifications", list));
}

/* ---- POST /api/v1/incidents/{id}/ACTION ---- */

static void on_acted(int result, const struct incident *i, void *data)
{
    struct api_req *req = data;
    if (result < 0)
        api_reply_error(req, 503, "unavailable",
                        "the change was not saved (%s): nothing changed; send it again",
                        hale_strerror(result));
    else
        api__reply_ok(req, json_pack("{s:o}", "incident", codec_json_incident(i)));
}

/* The body's fields an action takes: any other is refused, so a misspelt one is not lost. */
static const char *const *action_fields(enum itsm_action action)
{
    static const char *const none[] = {NULL}, *const assign[] = {"team", "assignee", NULL},
                             *const note[] = {"text", NULL}, *const resolve[] = {"cause", NULL};
    switch (action) {
    case ITSM_ASSIGN:
        return assign;
    case ITSM_NOTE:
        return note;
    case ITSM_RESOLVE:
        return resolve;
    case ITSM_ACK:
    case ITSM_CLOSE:
        break;
    }
    return none;
}

static bool request_from_body(struct api_req *req, struct itsm_request *rq)
{
    json_t *body;
    return api__body_object(req, action_fields(rq->action), &body) &&
           api__body_string(req, body, "team", TEAM_MAX, &rq->team) &&
           api__body_string(req, body, "assignee", TEAM_MAX, &rq->assignee) &&
           api__body_string(req, body, "text", NOTE_MAX, &rq->text) &&
           api__body_string(req, body, "cause", NOTE_MAX, &rq->cause);
}

static void act(struct api_req *req, void *data, enum itsm_action action)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    int64_t id;
    if (!d || !api__path_id(req, "incident", &id))
        return;
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct itsm_request rq = {
            .action = action,
            .id = id,
            .actor = actor,
            .origin = api_req_origin(req),
    };
    if (!request_from_body(req, &rq))
        return;
    struct err e = {0};
    int r = itsm_act(*d->itsm, &rq, on_acted, req, &e);
    if (r == HALE_ENOTFOUND)
        api_reply_error(req, 404, "not_found", "%s; GET /api/v1/incidents lists them", e.msg);
    else if (r == HALE_ESTATE)
        api_reply_error(req, 409, "conflict", "%s", e.msg);
    else if (r == -EINVAL)
        api_reply_error(req, 400, "bad_request", "%s", e.msg);
    else if (r < 0)
        api_reply_error(req, 500, "internal", "%s", e.msg[0] ? e.msg : hale_strerror(r));
}

static void post_ack(struct api_req *req, void *data)
{
    act(req, data, ITSM_ACK);
}

static void post_assign(struct api_req *req, void *data)
{
    act(req, data, ITSM_ASSIGN);
}

static void post_note(struct api_req *req, void *data)
{
    act(req, data, ITSM_NOTE);
}

static void post_resolve(struct api_req *req, void *data)
{
    act(req, data, ITSM_RESOLVE);
}

static void post_close(struct api_req *req, void *data)
{
    act(req, data, ITSM_CLOSE);
}

/* ---- POST /api/v1/incidents ---- */

static const char *const open_fields[] = {"title",    "type",   "team",        "impact", "severity",
                                          "category", "labels", "description", NULL};
static const char *const type_names[] = {"incident", "request", NULL};
static const char *const impact_names[] = {"high", "medium", "low", NULL};
static const char *const severity_names[] = {"info", "warning", "critical", NULL};
static const char *const category_names[] = {"network", "hardware", "software", "data", NULL};

/* labels: an object of strings, each name a label name. False with a 400 sent otherwise. */
static bool body_labels(struct api_req *req, json_t *body, struct labels *ret)
{
    json_t *v = json_object_get(body, "labels");
    if (!v || json_is_null(v))
        return true;
    if (!json_is_object(v)) {
        api__reply_bad_field(req, "labels", "labels must be an object of strings");
        return false;
    }
    if (json_object_size(v) > LABELS_MAX) {
        api__reply_bad_field(req, "labels", "labels: at most %d", LABELS_MAX);
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(v, key, value)
    {
        if (!labels_name_is_valid(key)) {
            api__reply_bad_field(req, "labels",
                                 "labels: \"%s\" is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)",
                                 key);
            return false;
        }
        if (!json_is_string(value) || json_string_length(value) > LABEL_VALUE_MAX) {
            api__reply_bad_field(req, "labels", "labels: %s must be a string of at most %d bytes",
                                 key, LABEL_VALUE_MAX);
            return false;
        }
        labels_set(ret, key, json_string_value(value), NULL);
    }
    return true;
}

/* Whether s has something besides white space. */
static bool has_text(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return true;
    return false;
}

/* The opening the body asks for; false with a 4xx sent, naming the field. */
static bool opening_from_body(struct api_req *req, struct itsm_opening *o, struct labels *labels)
{
    json_t *body;
    if (!api__body_object(req, open_fields, &body))
        return false;
    unsigned type = INCIDENT_TYPE_INCIDENT, impact = CONFIG_IMPACT_MEDIUM, severity,
             category = INCIDENT_CATEGORY_SOFTWARE;
    if (!api__body_string(req, body, "title", TITLE_MAX, &o->title) ||
        !api__body_name(req, body, "type", type_names, &type))
        return false;
    if (!o->title || !has_text(o->title)) {
        api__reply_bad_field(req, "title", "title is required: say what is wrong or asked for");
        return false;
    }
    /* A request is seldom urgent; something broken is, somewhat. */
    severity = type == INCIDENT_TYPE_REQUEST ? INCIDENT_SEVERITY_INFO : INCIDENT_SEVERITY_WARNING;
    if (!api__body_string(req, body, "team", TEAM_MAX, &o->team) ||
        !api__body_name(req, body, "impact", impact_names, &impact) ||
        !api__body_name(req, body, "severity", severity_names, &severity) ||
        !api__body_name(req, body, "category", category_names, &category) ||
        !api__body_string(req, body, "description", NOTE_MAX, &o->description) ||
        !body_labels(req, body, labels))
        return false;
    o->type = (enum incident_type)type;
    o->impact = (enum config_impact)impact;
    o->severity = (enum incident_severity)severity;
    o->category = (enum incident_category)category;
    o->labels = labels;
    return true;
}

static void on_opened(int result, const struct incident *i, void *data)
{
    struct api_req *req = data;
    if (result < 0) {
        api_reply_error(req, 503, "unavailable",
                        "the incident was not saved (%s): nothing changed; send it again",
                        hale_strerror(result));
        return;
    }
    char location[64];
    snprintf(location, sizeof(location), "/api/v1/incidents/%lld", (long long)i->id);
    api_reply_header(req, "Location", location);
    json_t *o = codec_json_incident(i);
    if (o)
        api_reply_json(req, 201, json_pack("{s:o}", "incident", o));
    else
        api_reply_error(req, 500, "internal", "the answer cannot be encoded as JSON");
}

static void post_incident(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    if (!d)
        return;
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct itsm_opening o = {.actor = actor, .origin = api_req_origin(req)};
    struct labels labels;
    labels_init(&labels);
    struct err e = {0};
    int r = 0;
    if (opening_from_body(req, &o, &labels))
        r = itsm_open(*d->itsm, &o, on_opened, req, &e);
    labels_fini(&labels);
    if (r == -EINVAL)
        api__reply_bad_field(req, "title", "%s", e.msg);
    else if (r < 0)
        api_reply_error(req, 500, "internal", "%s", e.msg[0] ? e.msg : hale_strerror(r));
}

/* ---- reports ---- */

/* The format query parameter (default md); false when a 400 was sent. */
static bool report_format(struct api_req *req, enum report_format *ret)
{
    const char *f = api_req_query(req, "format");
    *ret = REPORT_FORMAT_MD;
    if (f && report_format_parse(f, ret) < 0) {
        api_reply_error(req, 400, "bad_request", "format: expected md, html or json, got \"%s\"",
                        f);
        return false;
    }
    return true;
}

static void reply_report(struct api_req *req, enum report_format f, char *text)
{
    if (!text) {
        api_reply_error(req, 500, "internal", "the report could not be written");
        return;
    }
    api_reply_raw(req, 200, report_format_content_type(f), text, strlen(text));
}

static void get_incident_report(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    int64_t id;
    enum report_format f;
    if (!d || !api__path_id(req, "incident", &id) || !report_format(req, &f))
        return;
    struct incident i = {0};
    if (!incident_read(req, d, id, &i))
        return;
    struct timeline_entry *t = NULL;
    size_t n = 0;
    struct problem p = {0};
    bool has_problem = false;
    int r = store_timeline_list(*d->reader, id, &t, &n);
    if (r == 0 && i.problem_id)
        has_problem = store_problem_get(*d->reader, i.problem_id, &p) == 0;
    if (r < 0) {
        incident_fini(&i);
        api_reply_error(req, 500, "internal", "cannot read incident %lld: %s", (long long)id,
                        hale_strerror(r));
        return;
    }
    struct report_incident_input in = {
            .incident = &i,
            .timeline = t,
            .n_timeline = n,
            .problem = has_problem ? &p : NULL,
            .now_ms = (int64_t)clock_real_ms(&clock_system),
    };
    reply_report(req, f, report_incident(&in, f));
    for (size_t k = 0; k < n; k++)
        timeline_entry_fini(&t[k]);
    free(t);
    problem_fini(&p);
    incident_fini(&i);
}

/* What the summary of a period is made of, read from the store. */
struct summary_data {
    struct incident *incidents;
    size_t n_incidents;
    struct store_check_state *states;
    size_t n_states;
    struct problem *problems;
    size_t n_problems;
    const char **checks;
};

static void summary_data_fini(struct summary_data *s)
{
    for (size_t i = 0; i < s->n_incidents; i++)
        incident_fini(&s->incidents[i]);
    free(s->incidents);
    for (size_t i = 0; i < s->n_states; i++)
        store_check_state_fini(&s->states[i]);
    free(s->states);
    for (size_t i = 0; i < s->n_problems; i++)
        problem_fini(&s->problems[i]);
    free(s->problems);
    free(s->checks);
}

static void get_summary(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    enum report_format f;
    if (!d || !report_format(req, &f))
        return;
    const char *since = api_req_query(req, "since");
    int64_t now = (int64_t)clock_real_ms(&clock_system), from = now - 7ll * 24 * 3600 * 1000;
    if (since && !api__since_parse(since, &from)) {
        api_reply_error(req, 400, "bad_request",
                        "since: expected a duration such as 7d or an RFC 3339 time, got \"%s\"",
                        since);
        return;
    }
    struct summary_data s = {0};
    struct store_incident_query q = {.since_ms = from};
    int r = store_incidents_list(*d->reader, &q, &s.incidents, &s.n_incidents);
    if (r == 0)
        r = store_check_states_list(*d->reader, NULL, from, &s.states, &s.n_states);
    if (r == 0)
        r = store_problems_list(*d->reader, &s.problems, &s.n_problems);
    if (r < 0) {
        summary_data_fini(&s);
        api_reply_error(req, 500, "internal", "cannot read the period: %s", hale_strerror(r));
        return;
    }
    const struct config *config = *d->config;
    s.checks = xcalloc(config->n_checks ? config->n_checks : 1, sizeof(*s.checks));
    for (size_t i = 0; i < config->n_checks; i++)
        s.checks[i] = config->checks[i].name;
    struct report_summary_input in = {
            .since_ms = from,
            .now_ms = now,
            .incidents = s.incidents,
            .n_incidents = s.n_incidents,
            .check_states = s.states,
            .n_check_states = s.n_states,
            .checks = s.checks,
            .n_checks = config->n_checks,
            .problems = s.problems,
            .n_problems = s.n_problems,
    };
    struct report_summary sum;
    report_summary_compute(&in, &sum);
    reply_report(req, f, report_summary_render(&sum, f));
    report_summary_fini(&sum);
    summary_data_fini(&s);
}

static const struct api_route incident_routes[] = {
        {"GET", "/api/v1/incidents", AUTH_PERM_READ, get_incidents},
        {"POST", "/api/v1/incidents", AUTH_PERM_ACT, post_incident},
        {"GET", "/api/v1/incidents/{id}", AUTH_PERM_READ, get_incident},
        {"POST", "/api/v1/incidents/{id}/ack", AUTH_PERM_ACT, post_ack},
        {"POST", "/api/v1/incidents/{id}/assign", AUTH_PERM_ACT, post_assign},
        {"POST", "/api/v1/incidents/{id}/notes", AUTH_PERM_ACT, post_note},
        {"POST", "/api/v1/incidents/{id}/resolve", AUTH_PERM_ACT, post_resolve},
        {"POST", "/api/v1/incidents/{id}/close", AUTH_PERM_ACT, post_close},
        {"GET", "/api/v1/incidents/{id}/report", AUTH_PERM_READ, get_incident_report},
        {"GET", "/api/v1/incidents/{id}/notifications", AUTH_PERM_READ, get_incident_notifications},
        {"GET", "/api/v1/reports/summary", AUTH_PERM_READ, get_summary},
};

int api_incidents_routes_add(struct api *api, struct api_incidents *d, struct err *e)
{
    int r = api_routes_add(api, incident_routes,
                           sizeof(incident_routes) / sizeof(incident_routes[0]), d, e);
    if (r == 0)
        r = api__problems_routes_add(api, d, e);
    if (r == 0)
        r = api__audit_routes_add(api, d, e);
    if (r == 0)
        r = api__public_routes_add(api, d, e);
    return r;
}
