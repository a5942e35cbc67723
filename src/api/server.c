/* SPDX-License-Identifier: MIT */
/*
 * One HTTP listener: libmicrohttpd with its own polling threads, and the
 * hop of every routed request to the loop.
 *
 * On an HTTP thread a request is authenticated (under /api/), routed,
 * permission-checked and its body read and parsed (or decoded by the
 * route's body decoder); every refusal is answered right there. A request that passes is put on the
 * server's waiting list, its connection suspended, and the request posted to the loop, where the
 * route's handler runs. The handler's reply is installed under the server lock and the connection
 * resumed; libmicrohttpd then calls us again on its thread and the reply is queued.
 *
 * Stopping must resume every suspended connection first (libmicrohttpd
 * refuses to stop with suspended connections), so api_server_stop()
 * answers everything on the waiting list with a 503 and marks it
 * cancelled (then waits up to a second for the 503s to be written);
 * posted work that runs later sees the mark and only drops its
 * reference. The same happens to a request that waited for its handler
 * longer than the request timeout (a busy loop, or a handler that forgot
 * to answer), so no connection waits forever.
 *
 * A live stream (stream.c) is a reply whose body a reader gives as it
 * comes; its connection is suspended whenever it has nothing to send.
 * Quiescing the server ends its streams, so a drain does not wait for
 * them and no stream is left suspended when libmicrohttpd stops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "loop/loop.h"

/* Past the body cap a chunked body is read and dropped for this much longer, then cut. */
#define API_DRAIN_MAX              (1024 * 1024)
/* Open connections per server; more wait in the kernel's backlog. */
#define API_CONNECTIONS_MAX        1024u
/*
 * Open connections per client address, so one client trickling header
 * bytes (slowloris) cannot hold every slot until the request timeout;
 * past it a new connection from that address is accepted and closed.
 * Generous for dashboards and scripts; a reverse proxy in front of hale
 * is one address and shares it.
 */
#define API_CONNECTIONS_PER_IP_MAX 64u
#define API_BACKLOG                511
#define API_DRAIN_TICK_MS          10
/* A longer method is not quoted back in a 405 (the longest real one has 17 characters). */
#define API_METHOD_QUOTE_MAX       64
/*
 * How long api_server_stop() lets the HTTP threads send the 503s it
 * queued before it stops them; it blocks the loop, so it is short.
 */
#define API_STOP_WAIT_MS           1000
/* The most a reader-made body (a live stream) is asked for at once. */
#define API_READER_BLOCK           (16 * 1024)

struct api_server {
    atomic_uint refs; /* the owner's, and one per live request */
    struct api *api;
    struct MHD_Daemon *mhd;
    char *listen; /* as configured, for messages and /api/v1/status */
    uint16_t port;
    _Atomic uint64_t max_body;
    uint64_t wait_max_ns; /* a request waiting longer for its handler is answered 503 */
    uv_timer_t *sweep;    /* looks for such requests; freed by its close callback */
    atomic_bool started;  /* libmicrohttpd is up: its messages are now about clients */
    atomic_bool quiesced;
    atomic_uint inflight;
    bool draining; /* api_server_drain() was called (loop thread only) */
    bool stopped;  /* loop thread only */

    pthread_mutex_t lock;    /* guards stopping, waiting and the requests' hop fields */
    bool stopping;           /* no more hops: answer 503 */
    struct api_req *waiting; /* suspended, waiting for the loop */
};

static struct api_server *server_ref(struct api_server *s)
{
    atomic_fetch_add(&s->refs, 1);
    return s;
}

static void server_unref(struct api_server *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s->listen);
    free(s);
}

/* ---- requests --------------------------------------------------------- */

/* The peer's address in words, for the audit log. */
static void client_address(struct MHD_Connection *con, char *buf, size_t size)
{
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    snprintf(buf, size, "unknown");
    if (sa && sa->sa_family == AF_INET)
        uv_ip4_name((const struct sockaddr_in *)(const void *)sa, buf, size);
    else if (sa && sa->sa_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)(const void *)sa, buf, size);
}

static struct api_req *req_new(struct api_server *s, struct MHD_Connection *con, const char *url,
                               const char *method)
{
    struct api_req *req = xcalloc(1, sizeof(*req));
    atomic_init(&req->refs, 1);
    req->server = server_ref(s);
    req->con = con;
    req->start_ns = clock_mono_ns();
    req->method = xstrdup(method);
    req->path = xstrdup(url);
    client_address(con, req->origin, sizeof(req->origin));
    req->is_api = api__path_is_api(url);
    req->route_label = "other";
    req->max_body = atomic_load(&s->max_body);
    atomic_fetch_add(&s->inflight, 1);
    return req;
}

static void req_unref(struct api_req *req)
{
    if (atomic_fetch_sub(&req->refs, 1) != 1)
        return;
    for (size_t i = 0; i < req->n_params; i++)
        free(req->params[i].value);
    strbuf_fini(&req->body);
    json_decref(req->json);
    if (req->decoded)
        req->route->decoder->free(req->decoded);
    api__reply_fini(&req->reply);
    api__reply_fini(&req->pending);
    free(req->path);
    free(req->method);
    server_unref(req->server);
    free(req);
}

const char *api__req_listen(const struct api_req *req)
{
    return req->server->listen;
}

bool api__req_server_quiesced(const struct api_req *req)
{
    return atomic_load(&req->server->quiesced);
}

/* The response for a reply whose body comes from a reader (a live stream). */
static struct MHD_Response *response_from_reader(struct api_reply *r)
{
    struct MHD_Response *resp = MHD_create_response_from_callback(
            MHD_SIZE_UNKNOWN, API_READER_BLOCK, r->reader, r->reader_data, r->reader_free);
    if (resp)
        r->reader_data = NULL; /* libmicrohttpd frees it when the response goes */
    return resp;
}

/* Queues req->reply on the connection (HTTP thread). */
static enum MHD_Result req_queue(struct api_req *req)
{
    struct api_reply *r = &req->reply;
    struct MHD_Response *resp =
            r->reader ? response_from_reader(r)
                      : MHD_create_response_from_buffer(r->len, r->body ? r->body : (char *)"",
                                                        r->body ? MHD_RESPMEM_MUST_FREE
                                                                : MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    r->body = NULL; /* libmicrohttpd frees it now */
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    for (size_t i = 0; i < r->n_headers; i++)
        MHD_add_response_header(resp, r->headers[i][0], r->headers[i][1]);
    if (req->is_api && !api__reply_has_header(r, MHD_HTTP_HEADER_CACHE_CONTROL))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (atomic_load(&req->server->quiesced))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    req->status = r->status;
    enum MHD_Result ret = MHD_queue_response(req->con, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static const char *header(const struct api_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->con, MHD_HEADER_KIND, name);
}

/*
 * Checks the bearer token of a request under /api/; false after setting a
 * 401 (or a 503 when the tokens file cannot be read).
 */
static bool req_authenticate(struct api_req *req)
{
    struct api_reply *r = &req->reply;
    const char *h = header(req, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h) {
        api__reply_error_set(r, 401, "unauthorized",
                             "this path needs an API token: send 'Authorization: Bearer TOKEN' "
                             "(an admin creates one with 'hale token create NAME --role ROLE')");
    } else {
        h += strspn(h, " \t");
        bool bearer = strncasecmp(h, "Bearer", 6) == 0 && (h[6] == ' ' || h[6] == '\t');
        const char *secret = bearer ? h + 6 + strspn(h + 6, " \t") : "";
        struct err e = {0};
        int v = bearer ? auth_store_verify(req->server->api->deps.tokens, secret, &req->token, &e)
                       : HALE_EAUTH;
        if (v == 0) {
            req->has_token = true;
            return true;
        }
        if (v == HALE_EINTERNAL) {
            /* Not the client's fault: no token works until the file is fixed. */
            api__reply_error_set(r, 503, "unavailable",
                                 "the tokens file cannot be read: %s; fix it and retry", e.msg);
            return false;
        }
        api__reply_error_set(r, 401, "unauthorized",
                             bearer ? "the API token is not valid (mistyped, or revoked): check it "
                                      "with 'hale token list' or create a new one"
                                    : "use the Bearer scheme: 'Authorization: Bearer TOKEN'");
    }
    api__reply_header_add(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"hale\"");
    return false;
}

/* The names of the permissions in mask, for messages: "read, admin". */
static void perm_names(unsigned mask, char *buf, size_t size)
{
    buf[0] = '\0';
    for (unsigned bit = 1; bit && bit <= mask; bit <<= 1) {
        if (!(mask & bit))
            continue;
        size_t len = strlen(buf);
        snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
                 auth_perm_name((enum auth_perm)bit));
    }
}

static bool req_permitted(struct api_req *req)
{
    unsigned need = req->route->perm;
    if (!req->has_token || (auth_role_perms(req->token.role) & need) == need)
        return true;
    char names[64];
    perm_names(need, names, sizeof(names));
    api__reply_error_set(&req->reply, 403, "forbidden",
                         "token '%s' has role %s, which lacks the %s permission this route needs: "
                         "use a token whose role grants it",
                         req->token.name, auth_role_name(req->token.role), names);
    return false;
}

static bool media_type_is_json(const char *ct)
{
    if (!ct)
        return false;
    ct += strspn(ct, " \t");
    size_t n = strlen("application/json");
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* The Content-Length, 0 without one (libmicrohttpd has checked its form). */
static unsigned long long req_content_length(const struct api_req *req)
{
    const char *cl = header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return cl ? strtoull(cl, NULL, 10) : 0;
}

static bool req_body_announced(const struct api_req *req)
{
    return req_content_length(req) > 0 || header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* Refuses a body by its headers, before any of it is read. */
static bool req_body_acceptable(struct api_req *req)
{
    uint64_t max = req->max_body;
    unsigned long long len = req_content_length(req);
    if (len > max) {
        api__reply_error_set(&req->reply, 413, "payload_too_large",
                             "the body has %llu bytes; this server accepts at most %llu "
                             "(server.max_body)",
                             len, (unsigned long long)max);
        return false;
    }
    bool has_body = req_body_announced(req);
    bool body_method = strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
                       strcmp(req->method, "PATCH") == 0;
    if (req->route->raw_body) {
        const char *enc = header(req, MHD_HTTP_HEADER_CONTENT_ENCODING);
        if (has_body && enc && strcasecmp(enc, "identity") != 0) {
            api__reply_error_set(&req->reply, 415, "unsupported_media_type",
                                 "send the body uncompressed, without Content-Encoding (in "
                                 "Telegraf: content_encoding = \"identity\")");
            return false;
        }
    } else if (has_body && body_method && !media_type_is_json(header(req, "Content-Type"))) {
        api__reply_error_set(&req->reply, 415, "unsupported_media_type",
                             "send the body as JSON, with 'Content-Type: application/json'");
        return false;
    }
    req->body_wanted = has_body && body_method;
    return true;
}

/* The checks on a request's head, in the documented order; false when a reply is set. */
static bool req_begin(struct api_req *req)
{
    if (api__path_needs_token(req->path) && !req_authenticate(req))
        return false;
    char allow[64];
    switch (api__route_match(req->server->api, req, allow, sizeof(allow))) {
    case API_MATCH_NONE:
        api__reply_error_set(&req->reply, 404, "not_found",
                             "there is no such resource: check the path against the API "
                             "documentation");
        return false;
    case API_MATCH_METHOD:
        /* The method is the client's: quoted whole when it is of a sensible length. */
        if (strlen(req->method) <= API_METHOD_QUOTE_MAX)
            api__reply_error_set(&req->reply, 405, "method_not_allowed",
                                 "%s is not allowed on this path: use %s", req->method, allow);
        else
            api__reply_error_set(&req->reply, 405, "method_not_allowed",
                                 "this method is not allowed on this path: use %s", allow);
        api__reply_header_add(&req->reply, MHD_HTTP_HEADER_ALLOW, allow);
        return false;
    case API_MATCH_OK:
        break;
    }
    return req_permitted(req) && req_body_acceptable(req);
}

/*
 * Takes one piece of the body. Past the cap nothing more is kept; the
 * rest is read and dropped so the 413 can still be sent once the body
 * ends (libmicrohttpd cannot answer in the middle of a body), up to
 * API_DRAIN_MAX more bytes. Returns false to cut the connection.
 */
static bool req_body_feed(struct api_req *req, const char *data, size_t n)
{
    uint64_t max = req->max_body;
    req->body_seen += n;
    if (req->body_seen > max) {
        req->body_too_large = true;
        strbuf_fini(&req->body);
        return req->body_seen - max <= API_DRAIN_MAX;
    }
    if (!req->body_wanted || req->body_too_large)
        return true;
    if (!req->body.s)
        strbuf_init(&req->body, max);
    if (strbuf_add(&req->body, data, n) < 0) {
        /* Past the buffer's cap, which is max: never parse half a body. */
        req->body_too_large = true;
        strbuf_fini(&req->body);
    }
    return true;
}

/* The route's decoder in place of the JSON parse; false when a reply is set. */
static bool req_body_decode(struct api_req *req)
{
    const struct api_body_decoder *dec = req->route->decoder;
    json_t *error = NULL;
    bool has_body = req->body_wanted && req->body.s;
    unsigned status = dec->decode(has_body ? req->body.s : "", has_body ? req->body.len : 0,
                                  &req->decoded, &error);
    strbuf_fini(&req->body);
    if (status == 0)
        return true;
    api__reply_json_set(&req->reply, status, error);
    return false;
}

/* The body is complete: refuse it, parse it or decode it; false when a reply is set. */
static bool req_body_finish(struct api_req *req)
{
    if (req->body_too_large) {
        api__reply_error_set(&req->reply, 413, "payload_too_large",
                             "the body is larger than the %llu bytes this server accepts "
                             "(server.max_body)",
                             (unsigned long long)req->max_body);
        return false;
    }
    if (req->route->decoder)
        return req_body_decode(req);
    if (!req->body_wanted || req->body.len == 0 || req->route->raw_body)
        return true;
    json_error_t je;
    req->json = json_loadb(req->body.s, req->body.len, JSON_REJECT_DUPLICATES, &je);
    strbuf_fini(&req->body);
    if (!req->json) {
        api__reply_error_set(&req->reply, 400, "invalid_json",
                             "the body is not valid JSON: line %d, column %d: %s", je.line,
                             je.column, je.text);
        return false;
    }
    return true;
}

/* ---- the hop to the loop ---------------------------------------------- */

static void waiting_add(struct api_server *s, struct api_req *req)
{
    req->prev = NULL;
    req->next = s->waiting;
    if (s->waiting)
        s->waiting->prev = req;
    s->waiting = req;
}

static void waiting_remove(struct api_server *s, struct api_req *req)
{
    if (req->prev)
        req->prev->next = req->next;
    else
        s->waiting = req->next;
    if (req->next)
        req->next->prev = req->prev;
    req->prev = req->next = NULL;
}

/*
 * Answers a waiting request with a 503 in place of its handler, whose
 * reply, if it ever comes, is dropped. The caller holds s->lock.
 */
static void req_cancel(struct api_server *s, struct api_req *req, const char *reason)
{
    req->cancelled = true;
    api__reply_error_set(&req->reply, 503, "unavailable", "%s", reason);
    waiting_remove(s, req);
    MHD_resume_connection(req->con);
}

/* Loop thread: runs the handler unless the server was stopped meanwhile. */
static void req_run(void *data)
{
    struct api_req *req = data;
    pthread_mutex_lock(&req->server->lock);
    bool cancelled = req->cancelled;
    pthread_mutex_unlock(&req->server->lock);
    if (cancelled) {
        req_unref(req);
        return;
    }
    req->route->handler(req, req->route->data);
}

void api__req_reply_install(struct api_req *req, struct api_reply *r)
{
    struct api_server *s = req->server;
    pthread_mutex_lock(&s->lock);
    if (req->cancelled) {
        /* Answered 503 already (stop or timeout); libmicrohttpd may be reading req->reply. */
        pthread_mutex_unlock(&s->lock);
        api__reply_fini(r);
    } else {
        req->reply = *r;
        waiting_remove(s, req);
        MHD_resume_connection(req->con);
        pthread_mutex_unlock(&s->lock);
    }
    req_unref(req); /* the hop's reference */
}

/* HTTP thread: suspends the connection and posts the request to the loop. */
static enum MHD_Result req_dispatch(struct api_req *req)
{
    struct api_server *s = req->server;
    pthread_mutex_lock(&s->lock);
    if (s->stopping) {
        pthread_mutex_unlock(&s->lock);
        api__reply_error_set(&req->reply, 503, "unavailable",
                             "the server is shutting down: retry in a moment");
        return req_queue(req);
    }
    waiting_add(s, req);
    req->dispatched = true;
    atomic_fetch_add(&req->refs, 1);
    MHD_suspend_connection(req->con);
    pthread_mutex_unlock(&s->lock);
    loop_post(s->api->deps.loop, req_run, req);
    return MHD_YES;
}

/* ---- libmicrohttpd callbacks ------------------------------------------ */

/*
 * Called once with the head, once per piece of body, once when the body
 * is complete, and once more after a resume. A reply already set is sent
 * at the first call allowed to send it.
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    struct api_req *req = *con_cls;
    if (!req) {
        req = req_new(cls, con, url, method);
        *con_cls = req;
        /*
         * A refusal of a request with a body goes out at once, so the body
         * is never read (libmicrohttpd then closes the connection). One
         * without a body waits for the next call, which keeps the
         * connection open for the client's next request.
         */
        if (req_begin(req) || !req_body_announced(req))
            return MHD_YES;
        return req_queue(req);
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        return req_body_feed(req, upload, n) ? MHD_YES : MHD_NO;
    }
    if (req->reply.status)
        return req_queue(req);
    if (req->dispatched)
        return MHD_YES; /* cannot happen: resumed only with a reply */
    if (!req_body_finish(req))
        return req_queue(req);
    return req_dispatch(req);
}

static void req_record(struct api_req *req)
{
    double secs = (double)(clock_mono_ns() - req->start_ns) / 1e9;
    const struct metrics_daemon *counters = req->server->api->deps.counters;
    if (counters && req->status) {
        char code[12];
        snprintf(code, sizeof(code), "%u", req->status);
        metrics_counter_inc(counters->http_requests, (const char *[]){req->route_label, code});
        metrics_histogram_observe(counters->http_duration, (const char *[]){req->route_label},
                                  secs);
    }
    char kv[AUTH_NAME_MAX + 16] = "";
    if (req->has_token)
        snprintf(kv, sizeof(kv), "token=%s", req->token.name);
    if (req->status >= 500)
        log_warn("api", kv, "%s %s -> %u in %.1f ms", req->method, req->path, req->status,
                 secs * 1000);
    else
        log_debug("api", kv, "%s %s -> %u in %.1f ms", req->method, req->path, req->status,
                  secs * 1000);
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)con;
    (void)toe;
    struct api_server *s = cls;
    struct api_req *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    req_record(req);
    atomic_fetch_sub(&s->inflight, 1);
    req_unref(req);
}

/*
 * libmicrohttpd's own messages are mostly about misbehaving clients, so
 * they are debug; while starting, they explain a refusal, so they are warn.
 */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct api_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (!atomic_load(&s->started))
        log_warn("api", NULL, "libmicrohttpd: %s", msg);
    else
        log_debug("api", NULL, "libmicrohttpd: %s", msg);
}

/* ---- requests that wait too long ------------------------------------- */

static void sweep_closed(uv_handle_t *h)
{
    free(h);
}

/* Loop thread, every second: cancels requests that waited too long for their handler. */
static void sweep_tick(uv_timer_t *t)
{
    struct api_server *s = t->data;
    uint64_t now = clock_mono_ns();
    unsigned n = 0;
    pthread_mutex_lock(&s->lock);
    for (struct api_req *req = s->waiting, *next; req; req = next) {
        next = req->next;
        if (now - req->start_ns < s->wait_max_ns)
            continue;
        req_cancel(s, req, "the daemon did not answer in time (it may be overloaded): retry later");
        n++;
    }
    pthread_mutex_unlock(&s->lock);
    if (n)
        log_warn("api", NULL, "%u requests on %s got no answer within %llu ms; answered 503", n,
                 s->listen, (unsigned long long)(s->wait_max_ns / 1000000));
    api__streams_tick(s->api->streams, s);
}

static void sweep_start(struct api_server *s)
{
    s->sweep = xcalloc(1, sizeof(*s->sweep));
    uv_timer_init(loop_uv(s->api->deps.loop), s->sweep);
    s->sweep->data = s;
    uv_timer_start(s->sweep, sweep_tick, 1000, 1000);
    uv_unref((uv_handle_t *)s->sweep); /* never what keeps the loop running */
}

/* ---- lifecycle -------------------------------------------------------- */

static const char *bind_hint(int err)
{
    switch (err) {
    case EADDRINUSE:
        return " (another process listens there, maybe another hale: stop it or change "
               "server.listen)";
    case EACCES:
        return " (ports below 1024 need privileges: pick a higher port in server.listen)";
    case EADDRNOTAVAIL:
        return " (no interface of this machine has that address: check server.listen)";
    default:
        return "";
    }
}

/* Opens a listening TCP socket on host:port; returns it or -errno. */
static int listen_open(const char *host, uint16_t port, const char *listen_str, int *ret_family,
                       struct err *e)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    char service[8];
    snprintf(service, sizeof(service), "%u", port);
    int g = getaddrinfo(host && *host ? host : NULL, service, &hints, &ai);
    if (g != 0)
        return err_setf(e, -EADDRNOTAVAIL, "cannot listen on %s: %s", listen_str, gai_strerror(g));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int r = fd < 0 ? -errno : 0;
    int one = 1;
    if (r == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
        r = -errno;
    if (r == 0 && bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        r = -errno;
    if (r == 0 && listen(fd, API_BACKLOG) < 0)
        r = -errno;
    *ret_family = ai->ai_family;
    freeaddrinfo(ai);
    if (r < 0) {
        if (fd >= 0)
            close(fd);
        return err_setf(e, r, "cannot listen on %s: %s%s", listen_str, strerror(-r), bind_hint(-r));
    }
    return fd;
}

static uint16_t socket_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Once quiesced, new connections are closed as they come. Not with
 * MHD_quiesce_daemon(): on an epoll daemon it races libmicrohttpd's own
 * thread to take the listening socket out of the epoll set, and the loser
 * aborts the process (an open defect of libmicrohttpd, seen at shutdown).
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addr;
    (void)addrlen;
    const struct api_server *s = cls;
    return atomic_load(&s->quiesced) ? MHD_NO : MHD_YES;
}

static struct MHD_Daemon *mhd_start(struct api_server *s, int fd, int family,
                                    const struct config_server *cfg)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (family == AF_INET6)
        flags |= MHD_USE_IPv6;
    uint64_t timeout_s = (cfg->request_timeout_ms + 999) / 1000;
    unsigned timeout = (unsigned)(timeout_s == 0 ? 1 : timeout_s > 86400 ? 86400 : timeout_s);
    unsigned threads = cfg->http_threads ? cfg->http_threads : 1;
    /* A pool of one is no pool: libmicrohttpd wants the option only for two or more. */
    /* The logger goes first so that libmicrohttpd reports option problems through it. */
    return MHD_start_daemon(
            flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
            MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
            MHD_OPTION_CONNECTION_LIMIT, API_CONNECTIONS_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
            API_CONNECTIONS_PER_IP_MAX, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
            threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, threads, MHD_OPTION_END);
}

int api_server_start(struct api *api, const struct config_server *cfg,
                     struct api_server **ret_server, struct err *e)
{
    const char *listen_str = cfg->listen ? cfg->listen : "";
    int family = AF_UNSPEC;
    int fd = listen_open(cfg->listen_host, cfg->listen_port, listen_str, &family, e);
    if (fd < 0)
        return fd;

    struct api_server *s = xcalloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    atomic_init(&s->inflight, 0);
    atomic_init(&s->quiesced, false);
    atomic_init(&s->started, false);
    pthread_mutex_init(&s->lock, NULL);
    s->api = api;
    s->listen = xstrdup(listen_str);
    s->port = socket_port(fd);
    s->max_body = cfg->max_body;
    uint64_t wait_ms = cfg->request_timeout_ms < 1000 ? 1000 : cfg->request_timeout_ms;
    s->wait_max_ns = wait_ms * 1000000;
    atomic_store(&api->frozen, true);

    s->mhd = mhd_start(s, fd, family, cfg);
    if (!s->mhd) {
        close(fd);
        server_unref(s);
        return err_setf(e, HALE_EINTERNAL,
                        "cannot start the HTTP server on %s: libmicrohttpd refused (see its "
                        "message above)",
                        listen_str);
    }
    atomic_store(&s->started, true);
    sweep_start(s);
    log_info("api", NULL, "listening on %s (port %u)", listen_str, s->port);
    *ret_server = s;
    return 0;
}

uint16_t api_server_port(const struct api_server *s)
{
    return s->port;
}

unsigned api_server_inflight(const struct api_server *s)
{
    return atomic_load(&s->inflight);
}

void api_server_quiesce(struct api_server *s)
{
    if (!s->mhd || atomic_exchange(&s->quiesced, true))
        return;
    /* A stream lasts as long as its connection: it ends here, or a drain would wait for it. */
    api__streams_end(s->api->streams, s);
}

void api_server_stop(struct api_server *s)
{
    if (s->stopped)
        return;
    s->stopped = true;
    uv_timer_stop(s->sweep);
    uv_close((uv_handle_t *)s->sweep, sweep_closed);
    s->sweep = NULL;

    /* First, so the 503s below say "Connection: close"; it ends the live streams too. */
    api_server_quiesce(s);
    pthread_mutex_lock(&s->lock);
    s->stopping = true;
    while (s->waiting)
        req_cancel(s, s->waiting, "the server is shutting down: retry in a moment");
    pthread_mutex_unlock(&s->lock);

    /*
     * The 503s are only queued: libmicrohttpd writes them on its threads,
     * and stopping the daemon now would close their connections unsent.
     */
    uint64_t deadline = clock_mono_ns() + (uint64_t)API_STOP_WAIT_MS * 1000000;
    while (atomic_load(&s->inflight) > 0 && clock_mono_ns() < deadline)
        usleep(API_DRAIN_TICK_MS * 1000);

    MHD_stop_daemon(s->mhd); /* closes the listening socket too */
    s->mhd = NULL;
    log_info("api", NULL, "stopped listening on %s", s->listen);
}

void api_server_free(struct api_server *s)
{
    if (!s)
        return;
    api_server_stop(s);
    server_unref(s);
}

/* ---- drain ------------------------------------------------------------ */

struct api_drain {
    uv_timer_t timer;
    struct api_server *server;
    uint64_t deadline; /* uv_now() milliseconds */
    api_server_drained_fn *cb;
    void *data;
};

static void drain_closed(uv_handle_t *h)
{
    free(h->data);
}

static void drain_tick(uv_timer_t *t)
{
    struct api_drain *d = t->data;
    unsigned inflight = api_server_inflight(d->server);
    if (inflight > 0 && uv_now(t->loop) < d->deadline)
        return;
    if (inflight > 0)
        log_warn("api", NULL, "stopping %s with %u requests still in flight", d->server->listen,
                 inflight);
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, drain_closed);
    api_server_stop(d->server);
    d->cb(d->server, d->data);
}

void api_server_set_max_body(struct api_server *s, uint64_t max_body)
{
    atomic_store(&s->max_body, max_body);
}

void api_server_drain(struct api_server *s, uint64_t timeout_ms, api_server_drained_fn *cb,
                      void *data)
{
    /*
     * A reload during shutdown may ask again; a second timer would stop
     * the server again after the first callback freed it.
     */
    if (s->draining)
        return;
    s->draining = true;
    api_server_quiesce(s);
    struct api_drain *d = xcalloc(1, sizeof(*d));
    uv_loop_t *uv = loop_uv(s->api->deps.loop);
    uv_timer_init(uv, &d->timer);
    d->timer.data = d;
    d->server = s;
    d->deadline = uv_now(uv) + timeout_ms;
    d->cb = cb;
    d->data = data;
    uv_timer_start(&d->timer, drain_tick, 0, API_DRAIN_TICK_MS);
}
