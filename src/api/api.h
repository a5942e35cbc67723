/* SPDX-License-Identifier: MIT */
/*
 * The HTTP face of the daemon. A struct api holds the routes and what
 * their handlers share (the loop, the token store, the metrics); a struct
 * api_server is one libmicrohttpd listener serving it. Requests arrive on
 * the server's threads, which authenticate, route and read the body, then
 * suspend the connection and hand the request to the loop with
 * loop_post(): every handler runs on the loop thread, where the daemon's
 * state lives, and its reply resumes the connection.
 *
 * Two servers may serve one api at once, so a reload that changes the
 * listen address starts the new server before draining the old one.
 *
 * Handlers and replies are declared in api/handler.h (which uses jansson;
 * this header does not, so the serve command can include it).
 */
#ifndef HALE_API_API_H
#define HALE_API_API_H

#include <stddef.h>
#include <stdint.h>

#include "auth/auth.h"
#include "base/err.h"
#include "config/config.h"
#include "metrics/metrics.h"

struct loop;
struct api;
struct api_server;
struct api_req;

/*
 * Asks the daemon to reload its configuration (on the loop thread, from
 * POST /api/v1/reload). Returns 0 when the new configuration is in place;
 * HALE_ESTATE when the daemon is stopping and reloads no more (answered
 * 503); otherwise an error, with every problem found in diags, which the
 * api frees with config_diags_fini().
 */
typedef int api_reload_fn(void *data, struct config_diags *diags);

/*
 * What every handler may need; all borrowed and alive until api_free().
 * loop, tokens and metrics are required; the others may be NULL.
 */
struct api_deps {
    struct loop *loop;                     /* handlers run on it */
    struct auth_store *tokens;             /* bearer tokens for /api/ */
    struct metrics *metrics;               /* rendered by GET /metrics */
    const struct metrics_daemon *counters; /* where requests are counted; NULL: nowhere */
    const char *config_path;               /* shown by /api/v1/status (copied) */
    uint64_t started_ms;                   /* Unix ms the daemon started */
    api_reload_fn *reload;                 /* NULL: POST /api/v1/reload answers 503 */
    void *reload_data;
};

/*
 * Creates the api with its core routes (GET /healthz, GET /metrics,
 * GET /api/v1/status, GET /api/v1/whoami, GET /api/v1/tokens,
 * POST /api/v1/reload) and the live stream (GET /api/v1/stream, fed
 * through api/stream.h). Free with api_free() after every server of it is
 * freed and the loop has run the posts they left.
 */
struct api *api_new(const struct api_deps *deps);
/* Accepts NULL. */
void api_free(struct api *api);

/*
 * A handler runs on the loop thread and must answer with exactly one
 * api_reply_*() (api/handler.h), before it returns or later from another
 * loop callback. data is what the route was added with.
 */
typedef void api_handler_fn(struct api_req *req, void *data);

/* A route needs no permission beyond what its path needs (see below). */
#define API_PERM_NONE 0u

/*
 * One route: method ("GET", "POST", ...), a path pattern whose segments
 * are literal or a "{name}" parameter matching one non-empty segment
 * ("/api/v1/incidents/{id}/notes"), and the permission (an enum
 * auth_perm, or API_PERM_NONE) the caller's token must grant. Every path
 * under /api/ needs a valid token whatever its permission, except those
 * under /api/v1/public/ (what end users may read without one); paths
 * outside /api/ are public too. Public routes must use API_PERM_NONE.
 */
struct api_route {
    const char *method;
    const char *pattern;
    unsigned perm;
    api_handler_fn *handler;
};

/*
 * Adds routes (copied; data borrowed until api_free()). Add them before
 * the first server starts: HALE_ESTATE afterwards. -EINVAL for a pattern
 * that does not start with '/' or has more than API_PARAMS_MAX
 * parameters, or a permission on a public path; HALE_EEXIST when the
 * method and pattern are taken. A resource file keeps a static table and
 * calls this once from its registration function.
 */
#define API_PARAMS_MAX 4
int api_routes_add(struct api *api, const struct api_route *routes, size_t n, void *data,
                   struct err *e);
/*
 * As api_routes_add(), for routes whose body is kept as it came, whatever
 * its Content-Type, instead of being parsed as JSON (line protocol). A
 * body with a Content-Encoding other than identity is refused with a 415.
 */
int api_routes_add_raw(struct api *api, const struct api_route *routes, size_t n, void *data,
                       struct err *e);
/*
 * As api_routes_add(), for routes whose JSON body decoder turns into what
 * the handler takes (api_req_decoded_take()) on the HTTP thread, instead
 * of a parse into a jansson tree; its refusal is answered there. decoder
 * is borrowed until api_free(); struct api_body_decoder is in
 * api/handler.h.
 */
struct api_body_decoder;
int api_routes_add_decoded(struct api *api, const struct api_route *routes, size_t n, void *data,
                           const struct api_body_decoder *decoder, struct err *e);

/*
 * Binds server->listen_host:listen_port and starts serving api with
 * http_threads threads; an idle connection is closed after
 * request_timeout_ms (rounded up to seconds), bodies are limited to
 * max_body bytes. The fields of server are copied. Errors: -errno from
 * bind/listen with e saying which address ("cannot listen on
 * 127.0.0.1:8080: Address already in use ..."), HALE_EINTERNAL when
 * libmicrohttpd refuses to start. Call on the loop thread.
 */
int api_server_start(struct api *api, const struct config_server *server,
                     struct api_server **ret_server, struct err *e);
/*
 * Applies a new body cap to requests that start from now on (a reload
 * that changed server.max_body); a request already begun keeps the cap
 * it began with. Any thread.
 */
void api_server_set_max_body(struct api_server *s, uint64_t max_body);
/* The bound port (useful when listen_port was 0). */
uint16_t api_server_port(const struct api_server *s);
/*
 * Stops taking connections (a new one is closed at once); connections
 * already open are still served, each answered with "Connection: close",
 * and live streams end. Idempotent. Loop thread.
 */
void api_server_quiesce(struct api_server *s);
/* Requests begun and not yet completed. Any thread. */
unsigned api_server_inflight(const struct api_server *s);

typedef void api_server_drained_fn(struct api_server *s, void *data);
/*
 * Quiesces s, waits on the loop until no request is in flight or
 * timeout_ms passed, stops s, then calls cb(s, data) on the loop thread
 * (the usual cb frees s). For shutdown and for replacing a server after a
 * listen change. Loop thread; s must not be stopped or freed meanwhile.
 * Draining a server that is already draining does nothing: cb is not
 * called, only the first drain's callback runs (so the caller of a
 * second drain must not free s itself).
 */
void api_server_drain(struct api_server *s, uint64_t timeout_ms, api_server_drained_fn *cb,
                      void *data);
/*
 * Stops serving now: quiesces s, answers 503 to the requests still
 * waiting for a handler and blocks the loop up to one second while those
 * answers (and any other request in flight) are written; then open
 * connections are closed and the server's threads joined. Idempotent.
 * Loop thread.
 */
void api_server_stop(struct api_server *s);
/*
 * Stops s if needed and drops it. Memory that posted work still uses is
 * released when that work has run. Accepts NULL. Loop thread.
 */
void api_server_free(struct api_server *s);

#endif
