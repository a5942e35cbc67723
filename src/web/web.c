/* SPDX-License-Identifier: MIT */
/*
 * Serves the embedded web UI. Each file becomes one route of its own, so
 * the API's router answers unknown paths, wrong methods and HEAD as it
 * does for every other route. A handler only copies bytes out of the
 * table: it runs on the loop thread like every route and costs a memcpy.
 */
#include "web/web.h"

#include <stdint.h>
#include <string.h>

#include "api/api.h"
#include "api/handler.h"
#include "base/alloc.h"

const char web_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; "
                       "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                       "manifest-src 'self'; base-uri 'none'; form-action 'self'; "
                       "frame-ancestors 'none'";

const struct web_asset *web_asset_find(const char *path)
{
    for (size_t i = 0; i < web_assets_n; i++)
        if (strcmp(web_assets[i].path, path) == 0)
            return &web_assets[i];
    return NULL;
}

bool web_asset_is_fresh(const struct web_asset *a, const char *if_none_match)
{
    if (!if_none_match)
        return false;
    size_t taglen = strlen(a->etag);
    for (const char *p = if_none_match; *p;) {
        p += strspn(p, " \t,");
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t len = strcspn(p, ",");
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == taglen && memcmp(p, a->etag, taglen) == 0)
            return true;
        p += strcspn(p, ",");
    }
    return false;
}

const char *web_asset_cache_control(const struct web_asset *a)
{
    return strncmp(a->path, "/ui/vendor/", 11) == 0 ? "public, max-age=604800" : "no-cache";
}

static void get_asset(struct api_req *req, void *data)
{
    const struct web_asset *a = data;
    api_reply_header(req, "ETag", a->etag);
    api_reply_header(req, "Cache-Control", web_asset_cache_control(a));
    api_reply_header(req, "X-Content-Type-Options", "nosniff");
    api_reply_header(req, "Referrer-Policy", "no-referrer");
    if (strncmp(a->content_type, "text/html", 9) == 0)
        api_reply_header(req, "Content-Security-Policy", web_csp);
    if (web_asset_is_fresh(a, api_req_header(req, "If-None-Match"))) {
        api_reply_raw(req, 304, NULL, NULL, 0);
        return;
    }
    char *body = xmalloc(a->len + 1);
    memcpy(body, a->bytes, a->len);
    api_reply_raw(req, 200, a->content_type, body, a->len);
}

int web_routes_add(struct api *api, struct err *e)
{
    for (size_t i = 0; i < web_assets_n; i++) {
        const struct api_route rt = {"GET", web_assets[i].path, API_PERM_NONE, get_asset};
        /* The table is the build's, read-only: the route keeps a pointer into it. */
        int r = api_routes_add(api, &rt, 1, (void *)(uintptr_t)&web_assets[i], e);
        if (r < 0)
            return r;
    }
    return 0;
}
