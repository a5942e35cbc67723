/* SPDX-License-Identifier: MIT */
/*
 * The runs of runbooks and the runbooks themselves (api/runs.h): reads
 * from the store through the loop's reader and from the executor's ledger,
 * requests of people (a run by hand, an answer at an approval gate, a
 * quarantine lifted) through the executor, answered once durable. The
 * JSON shapes are codec/json_runs.c's, documented in docs/api.md.
 */
#include "api/runs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler.h"
#include "api/internal.h"
#include "base/alloc.h"
#include "codec/json.h"

/* Runs per page: default and most. */
#define PAGE_DEFAULT    50
#define PAGE_MAX        500
/* Bytes of a comment at an approval gate. */
#define COMMENT_MAX     (64 * 1024)
/* Labels of a run by hand, and the bytes of a value. */
#define LABELS_MAX      32
#define LABEL_VALUE_MAX 1024

static struct api_runs *deps(struct api_req *req, void *data)
{
    struct api_runs *d = data;
    if (!d->runbooks || !*d->runbooks || !d->reader || !*d->reader || !d->config || !*d->config) {
        api_reply_error(req, 503, "unavailable", "runbooks are not available now: retry later");
        return NULL;
    }
    return d;
}

/* The steps the runbook has in the running configuration; 0 when it is gone. */
static size_t steps_total(const struct api_runs *d, const char *runbook)
{
    const struct config_runbook *rb = config_runbook_find(*d->config, runbook);
    return rb ? rb->n_steps : 0;
}

/* ---- GET /api/v1/runs ---- */

static bool list_query(struct api_req *req, struct store_run_query *q)
{
    struct api__page page;
    if (!api__page_parse(req, PAGE_DEFAULT, PAGE_MAX, &page))
        return false;
    q->limit = page.limit;
    q->before_id = page.cursor;
    const char *before = api_req_query(req, "before"), *incident = api_req_query(req, "incident");
    const char *outcome = api_req_query(req, "outcome");
    long long v;
    if (before && !api__positive_parse(before, INT64_MAX, &v)) {
        api_reply_error(req, 400, "bad_request", "before: expected a run id, got \"%s\"", before);
        return false;
    }
    if (before)
        q->before_id = v;
    if (incident && !api__positive_parse(incident, INT64_MAX, &v)) {
        api_reply_error(req, 400, "bad_request", "incident: expected an incident id, got \"%s\"",
                        incident);
        return false;
    }
    if (incident)
        q->incident_id = v;
    enum run_outcome o;
    if (outcome && run_outcome_parse(outcome, &o) < 0) {
        api_reply_error(req, 400, "bad_request",
                        "outcome: expected running, waiting, healed, completed, failed, "
                        "suspended, rejected, expired, canceled or interrupted, got \"%s\"",
                        outcome);
        return false;
    }
    /* Borrowed from the connection: the read below is done within the handler's call. */
    q->outcome = outcome;
    q->runbook = api_req_query(req, "runbook");
    return true;
}

static void get_runs(struct api_req *req, void *data)
{
    struct api_runs *d = deps(req, data);
    struct store_run_query q = {0};
    if (!d || !list_query(req, &q))
        return;
    size_t want = q.limit;
    q.limit = want + 1; /* one more says whether a next page exists */
    struct store_run *v = NULL;
    size_t n = 0;
    int r = store_runs_list(*d->reader, &q, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the runs: %s", hale_strerror(r));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < want; i++)
        json_array_append_new(list, codec_json_run(&v[i], steps_total(d, v[i].runbook)));
    bool more = n > want;
    int64_t last_id = more ? v[want - 1].id : 0;
    for (size_t i = 0; i < n; i++)
        store_run_fini(&v[i]);
    free(v);
    api__reply_page(req, "runs", list, more, last_id);
}

/* ---- GET /api/v1/runs/{id} ---- */

/* {"run": ..., "steps": [...]} of id, or NULL with the error replied. */
static json_t *run_read(struct api_req *req, const struct api_runs *d, int64_t id)
{
    struct store_run run = {0};
    int r = store_run_get(*d->reader, id, &run);
    if (r == HALE_ENOTFOUND) {
        api_reply_error(req, 404, "not_found", "there is no run %lld; GET /api/v1/runs lists them",
                        (long long)id);
        return NULL;
    }
    struct store_run_step *steps = NULL;
    size_t n = 0;
    if (r == 0)
        r = store_run_steps_list(*d->reader, id, &steps, &n);
    if (r < 0) {
        store_run_fini(&run);
        api_reply_error(req, 500, "internal", "cannot read run %lld: %s", (long long)id,
                        hale_strerror(r));
        return NULL;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(list, codec_json_run_step(&steps[i]));
        store_run_step_fini(&steps[i]);
    }
    free(steps);
    json_t *o = json_pack("{s:o, s:o}", "run", codec_json_run(&run, steps_total(d, run.runbook)),
                          "steps", list);
    store_run_fini(&run);
    return o;
}

static void get_run(struct api_req *req, void *data)
{
    struct api_runs *d = deps(req, data);
    int64_t id;
    if (!d || !api__path_id(req, "run", &id))
        return;
    json_t *o = run_read(req, d, id);
    if (o)
        api__reply_ok(req, o);
}

/* ---- POST /api/v1/runs/{id}/approve|reject ---- */

/* What a decision's callback needs: the request, and where to read the run back. */
struct pending {
    struct api_req *req;
    struct api_runs *d;
    int64_t id;
    unsigned status;
    const char *taken; /* what the executor did already, for a write that failed */
};

static void on_done(int result, int64_t run_id, void *data)
{
    struct pending *p = data;
    struct api_req *req = p->req;
    int64_t id = run_id ? run_id : p->id;
    unsigned status = p->status;
    struct api_runs *d = p->d;
    const char *taken = p->taken;
    free(p);
    if (result < 0) {
        /* The executor acted already: sending it again would not undo it, nor do it twice. */
        api_reply_error(req, 500, "internal",
                        "run %lld %s, but the store did not record it (%s): a restart of hale "
                        "may not remember it; GET /api/v1/runs/%lld shows the run meanwhile",
                        (long long)id, taken, hale_strerror(result), (long long)id);
        return;
    }
    if (status == 201 || !*d->reader) {
        /* A start answers the new run's id: GET /api/v1/runs/{id} follows it. */
        api_reply_json(req, status, json_pack("{s:I}", "run", (json_int_t)id));
        return;
    }
    json_t *o = run_read(req, d, id);
    if (o)
        api_reply_json(req, status, o);
}

static struct pending *pending_new(struct api_req *req, struct api_runs *d, int64_t id,
                                   unsigned status, const char *taken)
{
    struct pending *p = xcalloc(1, sizeof(*p));
    *p = (struct pending){.req = req, .d = d, .id = id, .status = status, .taken = taken};
    return p;
}

/* A refusal of the executor as the API's answer. */
static void refused(struct api_req *req, int r, const struct err *e, const char *list_path)
{
    if (r == HALE_ENOTFOUND)
        api_reply_error(req, 404, "not_found", "%s; GET %s lists them", e->msg, list_path);
    else if (r == HALE_ESTATE)
        api_reply_error(req, 409, "conflict", "%s", e->msg);
    else if (r == -EINVAL)
        api_reply_error(req, 400, "bad_request", "%s", e->msg);
    else if (r == -ESHUTDOWN)
        api_reply_error(req, 503, "unavailable", "%s", e->msg);
    else
        api_reply_error(req, 500, "internal", "%s", e->msg[0] ? e->msg : hale_strerror(r));
}

static void decide(struct api_req *req, void *data, bool approve)
{
    static const char *const fields[] = {"comment", NULL};
    struct api_runs *d = deps(req, data);
    int64_t id;
    json_t *body;
    const char *comment = NULL;
    if (!d || !api__path_id(req, "run", &id) || !api__body_object(req, fields, &body) ||
        !api__body_string(req, body, "comment", COMMENT_MAX, &comment))
        return;
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct pending *p = pending_new(
            req, d, id, 200, approve ? "was approved and goes on" : "was rejected and ended");
    struct err e = {0};
    int r = runbooks_decide(*d->runbooks, id, approve, actor, api_req_origin(req), comment, on_done,
                            p, &e);
    if (r < 0) {
        free(p);
        refused(req, r, &e, "/api/v1/runs");
    }
}

static void post_approve(struct api_req *req, void *data)
{
    decide(req, data, true);
}

static void post_reject(struct api_req *req, void *data)
{
    decide(req, data, false);
}

/* ---- POST /api/v1/runbooks/{name}/runs ---- */

/* labels: an object of strings. False with a 400 sent, naming the field, otherwise. */
static bool body_labels(struct api_req *req, json_t *body, struct labels *ret)
{
    json_t *v = json_object_get(body, "labels");
    if (!v || json_is_null(v))
        return true;
    if (!json_is_object(v) || json_object_size(v) > LABELS_MAX) {
        api__reply_bad_field(req, "labels", "labels must be an object of at most %d strings",
                             LABELS_MAX);
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
        if (!json_is_string(value) || json_string_length(value) > LABEL_VALUE_MAX ||
            strlen(json_string_value(value)) != json_string_length(value)) {
            api__reply_bad_field(req, "labels",
                                 "labels: %s must be a string of at most %d bytes, without NUL",
                                 key, LABEL_VALUE_MAX);
            return false;
        }
        labels_set(ret, key, json_string_value(value), NULL);
    }
    return true;
}

static bool body_incident(struct api_req *req, json_t *body, int64_t *ret)
{
    json_t *v = json_object_get(body, "incident");
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        api__reply_bad_field(req, "incident", "incident must be an incident id (a whole number)");
        return false;
    }
    *ret = json_integer_value(v);
    return true;
}

static void post_start(struct api_req *req, void *data)
{
    static const char *const fields[] = {"labels", "incident", NULL};
    struct api_runs *d = deps(req, data);
    json_t *body;
    if (!d || !api__body_object(req, fields, &body))
        return;
    struct labels labels;
    labels_init(&labels);
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct runbooks_start rq = {
            .runbook = api_req_param(req, "name"),
            .labels = &labels,
            .actor = actor,
            .origin = api_req_origin(req),
    };
    if (!body_labels(req, body, &labels) || !body_incident(req, body, &rq.incident_id)) {
        labels_fini(&labels);
        return;
    }
    struct pending *p = pending_new(req, d, 0, 201, "started");
    int64_t id = 0;
    struct err e = {0};
    int r = runbooks_start(*d->runbooks, &rq, on_done, p, &id, &e);
    labels_fini(&labels);
    if (r < 0) {
        free(p);
        refused(req, r, &e, "/api/v1/runbooks");
    }
}

/* ---- GET /api/v1/runbooks, POST /api/v1/runbooks/{name}/enable ---- */

static json_t *runbook_json(const struct api_runs *d, const struct config_runbook *rb)
{
    const struct ledger *l = runbooks_ledger(*d->runbooks);
    struct ledger_stats *stats;
    size_t n;
    ledger_stats_list(l, rb->name, &stats, &n);
    json_t *o = codec_json_runbook(rb, ledger_quarantine_get(l, rb->name), stats, n);
    free(stats);
    return o;
}

static void get_runbooks(struct api_req *req, void *data)
{
    struct api_runs *d = deps(req, data);
    if (!d)
        return;
    const struct config *c = *d->config;
    json_t *list = json_array();
    for (size_t i = 0; i < c->n_runbooks; i++)
        json_array_append_new(list, runbook_json(d, &c->runbooks[i]));
    api__reply_ok(req, json_pack("{s:o}", "runbooks", list));
}

/* What enabling's callback needs: the request and the runbook's name. */
struct enabling {
    struct api_req *req;
    struct api_runs *d;
    char *name;
};

static void on_enabled(int result, int64_t run_id, void *data)
{
    (void)run_id;
    struct enabling *p = data;
    struct api_req *req = p->req;
    if (result < 0) {
        api_reply_error(req, 500, "internal",
                        "runbook %s is enabled now, but the store did not record it (%s): after "
                        "a restart of hale it would be quarantined again; enable it again then",
                        p->name, hale_strerror(result));
    } else {
        const struct config_runbook *rb =
                *p->d->config ? config_runbook_find(*p->d->config, p->name) : NULL;
        api__reply_ok(req, rb && *p->d->runbooks
                                   ? json_pack("{s:o}", "runbook", runbook_json(p->d, rb))
                                   : json_pack("{s:s}", "runbook", p->name));
    }
    free(p->name);
    free(p);
}

static void post_enable(struct api_req *req, void *data)
{
    struct api_runs *d = deps(req, data);
    if (!d)
        return;
    char actor[API_ACTOR_MAX];
    api__actor(req, actor);
    struct enabling *p = xcalloc(1, sizeof(*p));
    *p = (struct enabling){.req = req, .d = d, .name = xstrdup(api_req_param(req, "name"))};
    struct err e = {0};
    int r = runbooks_enable(*d->runbooks, p->name, actor, api_req_origin(req), on_enabled, p, &e);
    if (r < 0) {
        free(p->name);
        free(p);
        refused(req, r, &e, "/api/v1/runbooks");
    }
}

static const struct api_route run_routes[] = {
        {"GET", "/api/v1/runs", AUTH_PERM_READ, get_runs},
        {"GET", "/api/v1/runs/{id}", AUTH_PERM_READ, get_run},
        {"POST", "/api/v1/runs/{id}/approve", AUTH_PERM_ACT, post_approve},
        {"POST", "/api/v1/runs/{id}/reject", AUTH_PERM_ACT, post_reject},
        {"GET", "/api/v1/runbooks", AUTH_PERM_READ, get_runbooks},
        {"POST", "/api/v1/runbooks/{name}/runs", AUTH_PERM_ACT, post_start},
        {"POST", "/api/v1/runbooks/{name}/enable", AUTH_PERM_ACT, post_enable},
};

int api_runs_routes_add(struct api *api, struct api_runs *d, struct err *e)
{
    return api_routes_add(api, run_routes, sizeof(run_routes) / sizeof(run_routes[0]), d, e);
}
