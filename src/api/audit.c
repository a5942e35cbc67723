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
    struct api__page page;
    if (!api__page_parse(req, PAGE_DEFAULT, PAGE_MAX, &page))
        return false;
    *q = (struct store_audit_query){
            .since_ms = page.since_ms, .limit = page.limit, .after_id = page.cursor};
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
    bool more = n > want;
    int64_t last_id = more ? v[want - 1].id : 0;
    for (size_t i = 0; i < n; i++)
        audit_entry_fini(&v[i]);
    free(v);
    api__reply_page(req, "audit", list, more, last_id);
}

static const struct api_route audit_routes[] = {
        {"GET", "/api/v1/audit", AUTH_PERM_ADMIN, get_audit},
};

int api__audit_routes_add(struct api *api, struct api_incidents *d, struct err *e)
{
    return api_routes_add(api, audit_routes, sizeof(audit_routes) / sizeof(audit_routes[0]), d, e);
}
