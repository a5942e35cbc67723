/* SPDX-License-Identifier: MIT */
/*
 * The web UI: the files of web/, embedded into the binary at build time
 * (cmake/embed-web.cmake writes the table below) and served from the API
 * server on public routes: the app at /, its assets under /ui/, the
 * public status page at /status. Every byte of data the pages show comes
 * from /api/v1/ with the user's token; nothing here reads daemon state.
 */
#ifndef HALE_WEB_WEB_H
#define HALE_WEB_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

struct api;

/* One embedded file. */
struct web_asset {
    const char *path;         /* where it is served: "/", "/status", "/ui/js/app.js" */
    const char *content_type; /* "text/javascript; charset=utf-8" */
    const unsigned char *bytes;
    size_t len;
    const char *etag; /* a strong validator, quoted: "\"9f86d081884c7d659a2f\"" */
};

/* The table the build generated, sorted by nothing in particular; read-only. */
extern const struct web_asset web_assets[];
extern const size_t web_assets_n;

/* The asset served at path, or NULL. */
const struct web_asset *web_asset_find(const char *path);

/*
 * Whether a request carrying the If-None-Match header value if_none_match
 * (NULL when absent) already has asset a, so a 304 is the answer: true
 * for "*" and for a list naming a's ETag, weak ("W/...") or not (RFC 9110
 * compares weakly for If-None-Match).
 */
bool web_asset_is_fresh(const struct web_asset *a, const char *if_none_match);

/*
 * The Cache-Control of a: HTML and the UI's own files are revalidated on
 * every use (cheap: a 304), so an upgraded daemon is seen at once;
 * third-party files under /ui/vendor/ change only with the build and are
 * kept a week.
 */
const char *web_asset_cache_control(const struct web_asset *a);

/*
 * The Content-Security-Policy every page is served with: scripts, styles
 * and connections only from the daemon itself, no inline script, no
 * framing.
 */
extern const char web_csp[];

/*
 * Adds a public GET route (API_PERM_NONE) for every embedded file. Before
 * the first server starts; errors as api_routes_add().
 */
int web_routes_add(struct api *api, struct err *e);

#endif
