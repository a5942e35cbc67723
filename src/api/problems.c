/* SPDX-License-Identifier: MIT */
/*
 * The problems resource: what keeps breaking, read from the store (a
 * problem with its incidents and its timeline) and worked by people
 * through the incident desk (itsm_problem_update()), answered once the
 * change is durable. Shapes in docs/api.md, "Problems".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/incidents.h"
#include "api/internal.h"
#include "codec/json.h"

/* Bytes a root cause, a workaround or a note may have. */
#define TEXT_MAX (64 * 1024)

static void get_problems(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    if (!d)
        return;
    struct problem *v = NULL;
    size_t n = 0;
    int r = store_problems_list(*d->reader, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the problems: %s", hale_strerror(r));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, codec_json_problem(&v[i]));
        problem_fini(&v[i]);
    }
    free(v);
    api__reply_ok(req, json_pack("{s:o}", "problems", list));
}

/* The newest incidents linked to problem id: the evidence, not a year of it. */
#define PROBLEM_INCIDENTS_MAX 100

static int linked_incidents(struct store_reader *reader, const struct problem *p, json_t *ret_list)
{
    struct store_incident_query q = {.problem_id = p->id, .limit = PROBLEM_INCIDENTS_MAX};
    struct incident *v = NULL;
    size_t n = 0;
    int r = store_incidents_list(reader, &q, &v, &n);
    if (r < 0)
        return r;
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(ret_list, codec_json_incident(&v[i]));
        incident_fini(&v[i]);
    }
    free(v);
    return 0;
}

static int problem_timeline(struct store_reader *reader, int64_t id, json_t *ret_list)
{
    struct timeline_entry *t = NULL;
    size_t n = 0;
    int r = store_problem_timeline_list(reader, id, &t, &n);
    if (r < 0)
        return r;
    for (size_t k = 0; k < n; k++) {
        json_array_append_new(ret_list, codec_json_timeline_entry(&t[k]));
        timeline_entry_fini(&t[k]);
    }
    free(t);
    return 0;
}

static void get_problem(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    int64_t id;
    if (!d || !api__path_id(req, "problem", &id))
        return;
    struct problem p = {0};
    int r = store_problem_get(*d->reader, id, &p);
    if (r == HALE_ENOTFOUND) {
        api_reply_error(req, 404, "not_found",
                        "there is no problem %lld; GET /api/v1/problems lists them", (long long)id);
        return;
    }
    json_t *incidents = json_array(), *timeline = json_array();
    if (r == 0)
        r = linked_incidents(*d->reader, &p, incidents);
    if (r == 0)
        r = problem_timeline(*d->reader, id, timeline);
    json_t *o = r == 0 ? codec_json_problem(&p) : NULL;
    problem_fini(&p);
    if (!o) {
        json_decref(incidents);
        json_decref(timeline);
    }
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read problem %lld: %s", (long long)id,
                        hale_strerror(r));
        return;
    }
    api__reply_ok(req, o ? json_pack("{s:o, s:o, s:o}", "problem", o, "incidents", incidents,
                                     "timeline", timeline)
                         : NULL);
}

/* ---- POST /api/v1/problems/{id} ---- */

static const char *const change_fields[] = {"state", "root_cause", "workaround", "note", NULL};
static const char *const state_names[] = {"open", "known_error", "resolved", NULL};

/* The change the body asks for; false with a 4xx sent, naming the field. */
static bool change_from_body(struct api_req *req, struct itsm_problem_change *c)
{
    json_t *body;
    if (!api__body_object(req, change_fields, &body))
        return false;
    unsigned state = 0;
    json_t *s = json_object_get(body, "state");
    c->has_state = s && !json_is_null(s);
    if (!api__body_name(req, body, "state", state_names, &state) ||
        !api__body_string(req, body, "root_cause", TEXT_MAX, &c->root_cause) ||
        !api__body_string(req, body, "workaround", TEXT_MAX, &c->workaround) ||
        !api__body_string(req, body, "note", TEXT_MAX, &c->note))
        return false;
    c->state = (enum problem_state)state;
    return true;
}

static void on_changed(int result, const struct problem *p, void *data)
{
    struct api_req *req = data;
    if (result < 0)
        api_reply_error(req, 503, "unavailable",
                        "the change was not saved (%s): nothing changed; send it again",
                        hale_strerror(result));
    else
        api__reply_ok(req, json_pack("{s:o}", "problem", codec_json_problem(p)));
}

/* The field a refusal of itsm_problem_change_check() names: the word before its colon. */
static const char *refused_field(const char *msg)
{
    for (size_t i = 0; change_fields[i]; i++) {
        size_t n = strlen(change_fields[i]);
        if (strncmp(msg, change_fields[i], n) == 0 && (msg[n] == ':' || msg[n] == ' '))
            return change_fields[i];
    }
    return NULL;
}

static void post_problem(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    int64_t id;
    if (!d || !api__path_id(req, "problem", &id))
        return;
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct itsm_problem_request rq = {.id = id, .actor = actor, .origin = api_req_origin(req)};
    if (!change_from_body(req, &rq.change))
        return;
    struct err e = {0};
    int r = itsm_problem_update(*d->itsm, &rq, on_changed, req, &e);
    const char *field = r == -EINVAL ? refused_field(e.msg) : NULL;
    if (r == HALE_ENOTFOUND)
        api_reply_error(req, 404, "not_found", "%s; GET /api/v1/problems lists them", e.msg);
    else if (r == HALE_ESTATE)
        api_reply_error(req, 409, "conflict", "%s", e.msg);
    else if (r == -EINVAL && field)
        api__reply_bad_field(req, field, "%s", e.msg);
    else if (r == -EINVAL)
        api_reply_error(req, 400, "bad_request", "%s", e.msg);
    else if (r < 0)
        api_reply_error(req, 500, "internal", "%s", e.msg[0] ? e.msg : hale_strerror(r));
}

static const struct api_route problem_routes[] = {
        {"GET", "/api/v1/problems", AUTH_PERM_READ, get_problems},
        {"GET", "/api/v1/problems/{id}", AUTH_PERM_READ, get_problem},
        {"POST", "/api/v1/problems/{id}", AUTH_PERM_ACT, post_problem},
};

int api__problems_routes_add(struct api *api, struct api_incidents *d, struct err *e)
{
    return api_routes_add(api, problem_routes, sizeof(problem_routes) / sizeof(problem_routes[0]),
                          d, e);
}
