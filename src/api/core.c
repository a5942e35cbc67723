/* SPDX-License-Identifier: MIT */
/*
 * The routes every daemon has: liveness (/healthz, answered by the loop so
 * it proves the loop turns), Prometheus metrics, the daemon's status, who
 * the caller is, the token list and configuration reload. Like every
 * route they run on the loop thread.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "api/internal.h"
#include "base/clock.h"
#include "base/log.h"
#include "codec/json.h"
#include "version.h"

/* "2026-11-21T14:59:25Z" */
static json_t *rfc3339_json(int64_t unix_s)
{
    char buf[CLOCK_RFC3339_MAX];
    return clock_format_rfc3339(unix_s, buf) < 0 ? json_null() : json_string(buf);
}

static void get_healthz(struct api_req *req, void *data)
{
    (void)data;
    api_reply_json(req, 200, json_pack("{s:s, s:s}", "status", "ok", "version", HALE_VERSION));
}

static void get_metrics(struct api_req *req, void *data)
{
    struct api *api = data;
    struct strbuf b;
    strbuf_init(&b, 0);
    metrics_render(api->deps.metrics, &b);
    size_t len;
    char *text = strbuf_detach(&b, &len);
    api_reply_raw(req, 200, METRICS_CONTENT_TYPE, text, len);
}

static void get_status(struct api_req *req, void *data)
{
    struct api *api = data;
    uint64_t now = clock_real_ms(&clock_system), started = api->deps.started_ms;
    /* The paths are bytes from the command line and the configuration, not always UTF-8. */
    json_t *o =
            json_pack("{s:s, s:I, s:o, s:I, s:o, s:o}", "version", HALE_VERSION, "pid",
                      (json_int_t)getpid(), "started_at", rfc3339_json((int64_t)(started / 1000)),
                      "uptime_seconds", (json_int_t)(now > started ? (now - started) / 1000 : 0),
                      "config", codec_json_text(api->deps.config_path), "listen",
                      codec_json_text(api__req_listen(req)));
    api_reply_json(req, 200, o);
}

static void get_whoami(struct api_req *req, void *data)
{
    (void)data;
    const struct auth_token_info *t = api_req_token(req);
    json_t *perms = json_array();
    unsigned mask = auth_role_perms(t->role);
    for (unsigned bit = 1; bit && bit <= mask; bit <<= 1)
        if (mask & bit)
            json_array_append_new(perms, json_string(auth_perm_name((enum auth_perm)bit)));
    api_reply_json(req, 200,
                   json_pack("{s:s, s:s, s:o}", "name", t->name, "role", auth_role_name(t->role),
                             "permissions", perms));
}

static void get_tokens(struct api_req *req, void *data)
{
    struct api *api = data;
    struct auth_token_info *v;
    size_t n;
    auth_store_list(api->deps.tokens, &v, &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:o}", "name", v[i].name, "role",
                                              auth_role_name(v[i].role), "created",
                                              rfc3339_json(v[i].created)));
    free(v);
    api_reply_json(req, 200, json_pack("{s:o}", "tokens", list));
}

/* Every diagnostic, none dropped: file names and messages may quote any bytes. */
static json_t *diags_json(const struct config_diags *d)
{
    json_t *list = json_array();
    for (size_t i = 0; i < d->n; i++) {
        const struct config_diag *g = &d->v[i];
        json_t *o = json_object();
        json_object_set_new(o, "file", codec_json_text(g->file));
        json_object_set_new(o, "line", json_integer((json_int_t)g->line));
        json_object_set_new(o, "column", json_integer((json_int_t)g->col));
        json_object_set_new(o, "message", codec_json_text(g->msg));
        json_array_append_new(list, o);
    }
    return list;
}

static void post_reload(struct api_req *req, void *data)
{
    struct api *api = data;
    if (!api->deps.reload) {
        api_reply_error(req, 503, "unavailable", "this daemon cannot reload its configuration");
        return;
    }
    struct config_diags diags = {0};
    int r = api->deps.reload(api->deps.reload_data, &diags);
    if (r == HALE_ESTATE) {
        api_reply_error(req, 503, "unavailable", "hale is stopping");
    } else if (r == 0) {
        log_info("api", NULL, "configuration reloaded at the request of token %s",
                 api_req_token(req)->name);
        api_reply_json(req, 200, json_pack("{s:b}", "reloaded", 1));
    } else if (diags.n > 0 || r == HALE_ECONFIG) {
        json_t *o = api_error_new(422, "invalid_config",
                                  "the new configuration has %zu error%s and was not applied; the "
                                  "daemon keeps running the old one: fix them and reload again",
                                  diags.n, diags.n == 1 ? "" : "s");
        json_object_set_new(o, "errors", diags_json(&diags));
        api_reply_json(req, 422, o);
    } else {
        api_reply_error(req, 500, "internal", "the reload failed: %s; see the daemon's log",
                        hale_strerror(r));
    }
    config_diags_fini(&diags);
}

static const struct api_route core_routes[] = {
        {"GET", "/healthz", API_PERM_NONE, get_healthz},
        {"GET", "/metrics", API_PERM_NONE, get_metrics},
        {"GET", "/api/v1/status", AUTH_PERM_READ, get_status},
        {"GET", "/api/v1/whoami", API_PERM_NONE, get_whoami},
        {"GET", "/api/v1/tokens", AUTH_PERM_ADMIN, get_tokens},
        {"POST", "/api/v1/reload", AUTH_PERM_ADMIN, post_reload},
};

void api__core_routes_add(struct api *api)
{
    int r = api_routes_add(api, core_routes, sizeof(core_routes) / sizeof(core_routes[0]), api,
                           NULL);
    (void)r; /* a fixed table on a fresh api cannot fail */
}
