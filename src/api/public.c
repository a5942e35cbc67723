/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/public/status: what the public status page tells end users,
 * without a token. Open incidents (not requests) are folded into the
 * services they are about, each said in plain words: down or degraded,
 * since when, and whether somebody (or hale itself) is working on it.
 * Titles, labels, hosts and people stay out: this page is for outsiders.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler.h"
#include "api/incidents.h"
#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "codec/json.h"
#include "store/store.h"

/* Open incidents read at most: a status page names services, not every incident. */
#define PUBLIC_INCIDENTS_MAX 1000

/* How far along the fix of a service is, best first: the order a service shows the best of. */
enum public_progress {
    PUBLIC_FIXING,        /* a person took it (in progress) */
    PUBLIC_IDENTIFIED,    /* a person acknowledged it */
    PUBLIC_REPAIRING,     /* hale runs a runbook on it */
    PUBLIC_INVESTIGATING, /* reported, nobody on it yet */
};

static const char *const progress_names[] = {"fixing", "identified", "repairing", "investigating"};
static const char *const progress_words[] = {
        "An engineer is fixing it.",
        "Our team knows about it and is looking into it.",
        "hale is repairing it automatically.",
        "We are looking into it.",
};

struct public_service {
    const char *name; /* borrowed from the incidents */
    bool outage;      /* some incident on it is critical */
    enum public_progress progress;
    int64_t since_ms; /* the oldest incident's opening */
    unsigned incidents;
};

static enum public_progress incident_progress(const struct incident *i)
{
    if (i->state == INCIDENT_IN_PROGRESS)
        return PUBLIC_FIXING;
    if (i->state == INCIDENT_ACKNOWLEDGED)
        return PUBLIC_IDENTIFIED;
    return i->runbook ? PUBLIC_REPAIRING : PUBLIC_INVESTIGATING;
}

static const char *incident_service(const struct incident *i)
{
    if (i->service && *i->service)
        return i->service;
    return i->check && *i->check ? i->check : "other";
}

/* Folds v into services (room for n), returns how many. */
static size_t services_fold(const struct incident *v, size_t n, struct public_service *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type != INCIDENT_TYPE_INCIDENT)
            continue;
        const char *name = incident_service(&v[i]);
        struct public_service *s = NULL;
        for (size_t j = 0; j < k && !s; j++)
            if (strcmp(out[j].name, name) == 0)
                s = &out[j];
        if (!s) {
            s = &out[k++];
            *s = (struct public_service){
                    .name = name, .progress = PUBLIC_INVESTIGATING, .since_ms = v[i].opened_ms};
        }
        enum public_progress p = incident_progress(&v[i]);
        if (p < s->progress)
            s->progress = p;
        if (v[i].opened_ms < s->since_ms)
            s->since_ms = v[i].opened_ms;
        s->outage |= v[i].severity == INCIDENT_SEVERITY_CRITICAL;
        s->incidents++;
    }
    return k;
}

static int service_cmp(const void *a, const void *b)
{
    const struct public_service *x = a, *y = b;
    if (x->outage != y->outage)
        return x->outage ? -1 : 1;
    return strcmp(x->name, y->name);
}

static json_t *service_json(const struct public_service *s)
{
    char words[512];
    snprintf(words, sizeof(words), "%.200s %s. %s", s->name,
             s->outage ? "is down" : "is not working as it should", progress_words[s->progress]);
    json_t *o = json_object();
    json_object_set_new(o, "name", codec_json_text(s->name));
    json_object_set_new(o, "state", json_string(s->outage ? "outage" : "degraded"));
    json_object_set_new(o, "progress", json_string(progress_names[s->progress]));
    json_object_set_new(o, "being_fixed", json_boolean(s->progress != PUBLIC_INVESTIGATING));
    json_object_set_new(o, "since", codec_json_time(s->since_ms));
    json_object_set_new(o, "incidents", json_integer(s->incidents));
    json_object_set_new(o, "message", codec_json_text(words));
    return o;
}

static json_t *status_json(struct public_service *s, size_t n)
{
    qsort(s, n, sizeof(*s), service_cmp);
    bool outage = n > 0 && s[0].outage;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, service_json(&s[i]));
    char words[128];
    if (n == 0)
        snprintf(words, sizeof(words), "All services are working.");
    else
        snprintf(words, sizeof(words), "%zu service%s %s a problem.", n, n == 1 ? "" : "s",
                 n == 1 ? "has" : "have");
    json_t *o = json_object();
    json_object_set_new(o, "state",
                        json_string(n == 0   ? "operational"
                                    : outage ? "outage"
                                             : "degraded"));
    json_object_set_new(o, "summary", json_string(words));
    json_object_set_new(o, "updated_at", codec_json_time((int64_t)clock_real_ms(&clock_system)));
    json_object_set_new(o, "services", list);
    return o;
}

static void get_public_status(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    if (!d)
        return;
    struct store_incident_query q = {
            .states = 1u << INCIDENT_NEW | 1u << INCIDENT_ACKNOWLEDGED | 1u << INCIDENT_IN_PROGRESS,
            .limit = PUBLIC_INCIDENTS_MAX,
    };
    struct incident *v = NULL;
    size_t n = 0;
    int r = store_incidents_list(*d->reader, &q, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the incidents: %s; retry later",
                        hale_strerror(r));
        return;
    }
    struct public_service *s = xcalloc(n ? n : 1, sizeof(*s));
    json_t *o = status_json(s, services_fold(v, n, s));
    free(s);
    for (size_t i = 0; i < n; i++)
        incident_fini(&v[i]);
    free(v);
    api_reply_header(req, "Access-Control-Allow-Origin", "*");
    api__reply_ok(req, o);
}

static const struct api_route public_routes[] = {
        {"GET", "/api/v1/public/status", API_PERM_NONE, get_public_status},
};

int api__public_routes_add(struct api *api, struct api_incidents *d, struct err *e)
{
    return api_routes_add(api, public_routes, sizeof(public_routes) / sizeof(public_routes[0]), d,
                          e);
}
