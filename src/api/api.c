/* SPDX-License-Identifier: MIT */
/*
 * The api object and its route table. Routes are added while the daemon
 * wires itself up and frozen when the first server starts, so the HTTP
 * threads read the table without a lock. Matching is a linear walk over
 * path segments with no allocation except the copies of the parameters
 * of the route that matched; a few dozen routes cost less than the
 * request's own parsing.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handler.h"
#include "api/internal.h"
#include "base/alloc.h"

/* Whether path is prefix itself or below it. */
static bool path_is_under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool api__path_is_api(const char *path)
{
    return path_is_under(path, API_PREFIX);
}

bool api__path_needs_token(const char *path)
{
    return api__path_is_api(path) && !path_is_under(path, API_PUBLIC_PREFIX);
}

struct api *api_new(const struct api_deps *deps)
{
    assert(deps->loop && deps->tokens && deps->metrics);
    struct api *api = xcalloc(1, sizeof(*api));
    api->deps = *deps;
    api->config_path = xstrdup(deps->config_path ? deps->config_path : "");
    api->deps.config_path = api->config_path;
    atomic_init(&api->frozen, false);
    api__core_routes_add(api);
    api->streams = api__streams_new(api);
    return api;
}

void api_free(struct api *api)
{
    if (!api)
        return;
    api__streams_free(api->streams);
    for (size_t i = 0; i < api->n_routes; i++) {
        free(api->routes[i].method);
        free(api->routes[i].pattern);
    }
    free(api->routes);
    free(api->config_path);
    free(api);
}

/* Counts "{name}" segments; -1 when a brace is not a whole segment. */
static int pattern_params(const char *pattern)
{
    int n = 0;
    for (const char *p = pattern; *p == '/';) {
        p++;
        size_t len = strcspn(p, "/");
        bool param = len >= 3 && p[0] == '{' && p[len - 1] == '}';
        if (memchr(p + param, '{', len - 2 * param) || memchr(p + param, '}', len - 2 * param))
            return -1;
        n += param;
        p += len;
    }
    return n;
}

static int route_check(const struct api *api, const struct api_route *rt, struct err *e)
{
    if (!rt->method || !*rt->method || !rt->handler || rt->pattern[0] != '/')
        return err_setf(e, -EINVAL, "route %s %s: needs a method, a handler and a path", rt->method,
                        rt->pattern);
    int n = pattern_params(rt->pattern);
    if (n < 0 || n > API_PARAMS_MAX)
        return err_setf(e, -EINVAL, "route %s %s: malformed pattern or more than %d parameters",
                        rt->method, rt->pattern, API_PARAMS_MAX);
    if (rt->perm != API_PERM_NONE && !api__path_needs_token(rt->pattern))
        return err_setf(e, -EINVAL, "route %s %s: a public path cannot need a permission",
                        rt->method, rt->pattern);
    for (size_t i = 0; i < api->n_routes; i++)
        if (strcmp(api->routes[i].method, rt->method) == 0 &&
            strcmp(api->routes[i].pattern, rt->pattern) == 0)
            return err_setf(e, HALE_EEXIST, "route %s %s: added twice", rt->method, rt->pattern);
    return 0;
}

static int routes_add(struct api *api, const struct api_route *routes, size_t n, void *data,
                      bool raw_body, const struct api_body_decoder *decoder, struct err *e)
{
    if (atomic_load(&api->frozen))
        return err_setf(e, HALE_ESTATE, "routes must be added before a server starts");
    for (size_t i = 0; i < n; i++) {
        int r = route_check(api, &routes[i], e);
        if (r < 0)
            return r;
        api->routes = xreallocarray(api->routes, api->n_routes + 1, sizeof(*api->routes));
        api->routes[api->n_routes++] = (struct api_route_entry){
                .method = xstrdup(routes[i].method),
                .pattern = xstrdup(routes[i].pattern),
                .n_params = pattern_params(routes[i].pattern),
                .perm = routes[i].perm,
                .handler = routes[i].handler,
                .raw_body = raw_body,
                .decoder = decoder,
                .data = data,
        };
    }
    return 0;
}

int api_routes_add(struct api *api, const struct api_route *routes, size_t n, void *data,
                   struct err *e)
{
    return routes_add(api, routes, n, data, false, NULL, e);
}

int api_routes_add_raw(struct api *api, const struct api_route *routes, size_t n, void *data,
                       struct err *e)
{
    return routes_add(api, routes, n, data, true, NULL, e);
}

int api_routes_add_decoded(struct api *api, const struct api_route *routes, size_t n, void *data,
                           const struct api_body_decoder *decoder, struct err *e)
{
    assert(decoder && decoder->decode && decoder->free);
    return routes_add(api, routes, n, data, false, decoder, e);
}

/*
 * Walks pattern and path segment by segment. With req, records the
 * parameters (the caller knows they fit: patterns are checked on add).
 */
static bool pattern_match(const char *pattern, const char *path, struct api_req *req)
{
    const char *p = pattern, *s = path;
    while (*p == '/' && *s == '/') {
        p++;
        s++;
        size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");
        if (plen >= 3 && p[0] == '{' && p[plen - 1] == '}') {
            if (slen == 0)
                return false;
            if (req)
                req->params[req->n_params++] = (struct api_param){
                        .name = p + 1, .name_len = plen - 2, .value = xstrndup(s, slen)};
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    return *p == '\0' && *s == '\0';
}

static bool method_matches(const char *route_method, const char *method)
{
    /* HEAD is GET without the body, which libmicrohttpd leaves out by itself. */
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

static bool allow_has(const char *allow, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *a = allow; (a = strstr(a, method)); a += mlen)
        if ((a == allow || a[-1] == ' ') && (a[mlen] == ',' || a[mlen] == '\0'))
            return true;
    return false;
}

/* Appends ", METHOD" to allow unless it is there already. */
static void allow_add(char *allow, size_t size, const char *method)
{
    if (allow_has(allow, method))
        return;
    size_t len = strlen(allow);
    snprintf(allow + len, size - len, "%s%s", len ? ", " : "", method);
}

/*
 * When several routes match, the one with the fewest parameters wins, so
 * "/incidents/stats" beats "/incidents/{id}" whatever the order they were
 * added in; among equals, the first added.
 */
enum api_match api__route_match(const struct api *api, struct api_req *req, char *allow,
                                size_t allow_size)
{
    const struct api_route_entry *best = NULL, *path_match = NULL;
    allow[0] = '\0';
    for (size_t i = 0; i < api->n_routes; i++) {
        const struct api_route_entry *rt = &api->routes[i];
        if (!pattern_match(rt->pattern, req->path, NULL))
            continue;
        path_match = rt;
        allow_add(allow, allow_size, rt->method);
        if (strcmp(rt->method, "GET") == 0)
            allow_add(allow, allow_size, "HEAD");
        if (method_matches(rt->method, req->method) && (!best || rt->n_params < best->n_params))
            best = rt;
    }
    if (!best) {
        req->route_label = path_match ? path_match->pattern : "other";
        return path_match ? API_MATCH_METHOD : API_MATCH_NONE;
    }
    pattern_match(best->pattern, req->path, req);
    req->route = best;
    req->route_label = best->pattern;
    return API_MATCH_OK;
}
