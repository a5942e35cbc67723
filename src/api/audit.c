/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/audit: who did what, when, from where. Admins only, since
 * it names every token's actions and the addresses they came from. Read
 * from the store in the order written, a page at a time. Shape in
 * docs/api.md, "Audit log".
 */
#include <stdio.h>
#include <stdlib.h>

#include "api/incidents.h"
#include "api/internal.h"
#include "codec/json.h"

/* Entries per page: default and most. */
#define PAGE_DEFAULT 100
#define PAGE_MAX     1000

/* The query of the page asked for; false with a 400 sent, naming the parameter. */
static bool audit_query(struct api_req *req, struct store_audit_query *q)
{
    const char *since = api_req_query(req, "since"), *limit = api_req_query(req, "limit");
    const char *cursor = api_req_query(req, "cursor");
    long long v;
    q->limit = PAGE_DEFAULT;
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
    if (cursor) {
        if (!api__positive_parse(cursor, INT64_MAX, &v)) {
            api_reply_error(req, 400, "bad_request",
                            "cursor: expected the next_cursor of the previous page, got \"%s\"",
                            cursor);
            return false;
        }
        q->after_id = v;
    }
    return true;
}

static void get_audit(struct api_req *req, void *data)
{
    struct api_incidents *d = api__incidents_deps(req, data);
    struct store_audit_query q = {0};
    if (!d || !audit_query(req, &q))
        return;
    size_t want = q.limit;
    q.limit = want + 1; /* one more says whether a next page exists */
    struct audit_entry *v = NULL;
    size_t n = 0;
    int r = store_audit_list(*d->reader, &q, &v, &n);
    if (r < 0) {
        api_reply_error(req, 500, "internal", "cannot read the audit log: %s", hale_strerror(r));
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < n && i < want; i++)
        json_array_append_new(list, codec_json_audit_entry(&v[i]));
    json_t *next = json_null();
    if (n > want) {
        char c[32];
        snprintf(c, sizeof(c), "%lld", (long long)v[want - 1].id);
        next = json_string(c);
    }
    for (size_t i = 0; i < n; i++)
        audit_entry_fini(&v[i]);
    free(v);
    api__reply_ok(req, json_pack("{s:o, s:o}", "audit", list, "next_cursor", next));
}

static const struct api_route audit_routes[] = {
        {"GET", "/api/v1/audit", AUTH_PERM_ADMIN, get_audit},
};

int api__audit_routes_add(struct api *api, struct api_incidents *d, struct err *e)
{
    return api_routes_add(api, audit_routes, sizeof(audit_routes) / sizeof(audit_routes[0]), d, e);
}
