/* SPDX-License-Identifier: MIT */
/*
 * Tests of the HTTP API over real HTTP: the server listens on 127.0.0.1 on
 * an ephemeral port, the loop runs on a thread of its own (as in the
 * daemon, handlers run there), and libcurl plays the client. Every refusal
 * is checked for its status, headers and JSON error shape, and the server
 * must keep answering after each one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "api/api.h"
#include "api/handler.h"
#include "auth/auth.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/log.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "testutil.h"

#define MAX_BODY 4096

/* ---- the world: loop thread, tokens, metrics, api, server ------------- */

static struct {
    char dir[64];
    char *tokens_path;
    char admin[AUTH_SECRET_MAX], viewer[AUTH_SECRET_MAX], reporter[AUTH_SECRET_MAX];
    struct loop *loop;
    pthread_t loop_thread;
    struct auth_store *store;
    struct metrics *metrics;
    struct metrics_daemon counters;
    struct api *api;
    struct api_server *server;
    char base[64]; /* http://127.0.0.1:PORT */
    int reload_result;
    atomic_int reloads;
    struct api_req *_Atomic held; /* a request the slow route keeps unanswered */
} w;

struct on_loop {
    void (*fn)(void *arg);
    void *arg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
};

static void on_loop_run(void *data)
{
    struct on_loop *o = data;
    o->fn(o->arg);
    pthread_mutex_lock(&o->lock);
    o->done = true;
    pthread_cond_signal(&o->cond);
    pthread_mutex_unlock(&o->lock);
}

/* Runs fn(arg) on the loop thread and waits for it. */
static void run_on_loop(void (*fn)(void *arg), void *arg)
{
    struct on_loop o = {fn, arg, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    loop_post(w.loop, on_loop_run, &o);
    pthread_mutex_lock(&o.lock);
    while (!o.done)
        pthread_cond_wait(&o.cond, &o.lock);
    pthread_mutex_unlock(&o.lock);
}

static void *loop_main(void *arg)
{
    (void)arg;
    loop_run(w.loop);
    return NULL;
}

static int reload_cb(void *data, struct config_diags *diags)
{
    (void)data;
    atomic_fetch_add(&w.reloads, 1);
    if (w.reload_result != HALE_ECONFIG)
        return w.reload_result;
    diags->v = xcalloc(3, sizeof(*diags->v));
    diags->v[0] =
            (struct config_diag){xstrdup("hale.yaml"), 12, 5,
                                 xstrdup("unknown key \"timout\"; did you mean \"timeout\"?")};
    diags->v[1] = (struct config_diag){xstrdup("packs/web.yaml"), 0, 0, xstrdup("file not found")};
    /* A file name and a message quoting bytes that are not UTF-8. */
    diags->v[2] = (struct config_diag){xstrdup("packs/caf\xe9.yaml"), 3, 1,
                                       xstrdup("unknown key \"\xff\xfe\" in check; "
                                               "\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xc3\xa9")};
    diags->n = 3;
    return w.reload_result;
}

/* Test routes: a path parameter and query echo, and a route that answers only when told. */
static void get_item(struct api_req *req, void *data)
{
    (void)data;
    const char *x = api_req_query(req, "x");
    api_reply_json(req, 201,
                   json_pack("{s:s, s:s?, s:s?}", "id", api_req_param(req, "id"), "x", x, "other",
                             api_req_param(req, "nope")));
}

static void get_special(struct api_req *req, void *data)
{
    (void)data;
    api_reply_json(req, 200, json_pack("{s:b}", "special", 1));
}

static void get_slow(struct api_req *req, void *data)
{
    (void)data;
    atomic_store(&w.held, req);
}

static void get_unencodable(struct api_req *req, void *data)
{
    (void)data;
    /* json_pack() refuses the bytes and gives NULL, as a handler that forgot to check would. */
    api_reply_json(req, 200, json_pack("{s:s}", "x", "\xff"));
}

static void post_echo(struct api_req *req, void *data)
{
    (void)data;
    json_t *body = api_req_body(req);
    api_reply_header(req, "X-Echo", "yes");
    api_reply_json(req, 200, json_pack("{s:O?}", "body", body));
}

/* A raw body: its length and whether it holds a NUL, and the bytes before any. */
static void post_raw(struct api_req *req, void *data)
{
    (void)data;
    size_t len;
    const char *body = api_req_raw_body(req, &len);
    api_reply_json(req, 200,
                   json_pack("{s:I, s:b, s:s}", "len", (json_int_t)len, "nul",
                             memchr(body, '\0', len) != NULL, "text", body));
}

/*
 * A body decoder: "refuse" is refused with 422, anything else becomes a
 * copy of its text. live counts what it made and has not freed yet.
 */
static atomic_int decoded_live, decoded_handled;

static unsigned decode_text(const char *body, size_t len, void **ret, json_t **ret_error)
{
    if (strcmp(body, "refuse") == 0) {
        *ret_error = api_error_new(422, "refused", "the decoder refuses this body: send another");
        return 422;
    }
    *ret = xstrndup(body, len);
    atomic_fetch_add(&decoded_live, 1);
    return 0;
}

static void decoded_text_free(void *p)
{
    free(p);
    atomic_fetch_sub(&decoded_live, 1);
}

static const struct api_body_decoder text_decoder = {.decode = decode_text,
                                                     .free = decoded_text_free};

/* Replies with the decoded text; with ?leave, leaves it for the request to free. */
static void post_decoded(struct api_req *req, void *data)
{
    (void)data;
    atomic_fetch_add(&decoded_handled, 1);
    if (api_req_query(req, "leave")) {
        api_reply_json(req, 200, json_pack("{s:s}", "text", "left"));
        return;
    }
    char *text = api_req_decoded_take(req);
    assert_null(api_req_decoded_take(req)); /* handed over once */
    api_reply_json(req, 200, json_pack("{s:s}", "text", text));
    decoded_text_free(text);
}

static const struct api_route decoded_routes[] = {
        {"POST", "/api/v1/test/decoded", AUTH_PERM_REPORT, post_decoded},
};

static const struct api_route raw_routes[] = {
        {"POST", "/api/v1/test/raw", AUTH_PERM_REPORT, post_raw},
};

static const struct api_route test_routes[] = {
        {"GET", "/api/v1/test/items/{id}", AUTH_PERM_READ, get_item},
        {"GET", "/api/v1/test/items/special", AUTH_PERM_READ, get_special},
        {"GET", "/api/v1/test/slow", API_PERM_NONE, get_slow},
        {"GET", "/api/v1/test/unencodable", API_PERM_NONE, get_unencodable},
        {"POST", "/api/v1/test/echo", AUTH_PERM_REPORT, post_echo},
        {"PUT", "/api/v1/test/echo", AUTH_PERM_REPORT, post_echo},
};

struct start_args {
    struct config_server cfg;
    struct api_server *server;
    int r;
    struct err e;
};

static void start_on_loop(void *arg)
{
    struct start_args *a = arg;
    a->r = api_server_start(w.api, &a->cfg, &a->server, &a->e);
}

static struct api_server *server_start_threads(uint64_t timeout_ms, unsigned threads)
{
    struct start_args a = {.cfg = {.listen = (char *)"127.0.0.1:0",
                                   .listen_host = (char *)"127.0.0.1",
                                   .listen_port = 0,
                                   .max_body = MAX_BODY,
                                   .request_timeout_ms = timeout_ms,
                                   .http_threads = threads}};
    run_on_loop(start_on_loop, &a);
    if (a.r != 0)
        fail_msg("start: %s", a.e.msg);
    return a.server;
}

static struct api_server *server_start_timeout(uint64_t timeout_ms)
{
    return server_start_threads(timeout_ms, 2);
}

static struct api_server *server_start(void)
{
    return server_start_timeout(5000);
}

static void server_free_on_loop(void *arg)
{
    api_server_free(arg);
}

static void make_token(const char *name, enum auth_role role, char *secret)
{
    struct err e = {0};
    if (auth_token_create(w.tokens_path, name, role, secret, &e) != 0)
        fail_msg("token: %s", e.msg);
}

static void loop_stop_cb(void *arg)
{
    loop_stop(arg);
}

static int world_setup(void **state)
{
    (void)state;
    log_init(LOG_LEVEL_WARN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const char *tmp = getenv("TMPDIR");
    snprintf(w.dir, sizeof(w.dir), "%s/hale-api-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(w.dir));
    w.tokens_path = xasprintf("%s/tokens", w.dir);
    make_token("ops", AUTH_ROLE_ADMIN, w.admin);
    make_token("dash", AUTH_ROLE_VIEWER, w.viewer);
    make_token("ci", AUTH_ROLE_REPORTER, w.reporter);
    struct err e = {0};
    assert_int_equal(auth_store_new(w.tokens_path, &w.store, &e), 0);

    assert_int_equal(loop_new(&w.loop), 0);
    w.metrics = metrics_new();
    metrics_daemon_register(w.metrics, w.loop, clock_real_ms(&clock_system), &w.counters);
    struct api_deps deps = {
            .loop = w.loop,
            .tokens = w.store,
            .metrics = w.metrics,
            .counters = &w.counters,
            .config_path = "/etc/hale/hale.yaml",
            .started_ms = clock_real_ms(&clock_system) - 5000,
            .reload = reload_cb,
    };
    w.api = api_new(&deps);
    assert_int_equal(api_routes_add(w.api, test_routes, ARRAY_SIZE(test_routes), NULL, &e), 0);
    assert_int_equal(api_routes_add_raw(w.api, raw_routes, ARRAY_SIZE(raw_routes), NULL, &e), 0);
    assert_int_equal(api_routes_add_decoded(w.api, decoded_routes, ARRAY_SIZE(decoded_routes), NULL,
                                            &text_decoder, &e),
                     0);
    assert_int_equal(pthread_create(&w.loop_thread, NULL, loop_main, NULL), 0);
    w.server = server_start();
    snprintf(w.base, sizeof(w.base), "http://127.0.0.1:%u", api_server_port(w.server));
    return 0;
}

static int world_teardown(void **state)
{
    (void)state;
    run_on_loop(server_free_on_loop, w.server);
    loop_post(w.loop, loop_stop_cb, w.loop);
    pthread_join(w.loop_thread, NULL);
    loop_free(w.loop);
    api_free(w.api);
    metrics_free(w.metrics);
    auth_store_free(w.store);
    testutil_rm_rf(w.dir);
    free(w.tokens_path);
    curl_global_cleanup();
    return 0;
}

/* ---- the client ------------------------------------------------------- */

struct resp {
    long status;
    CURLcode rc;
    char *body;
    size_t len;
    char headers[4096];
    json_t *json;
};

struct upload {
    const char *data;
    size_t len, pos;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    r->body = xrealloc(r->body, r->len + size * n + 1);
    memcpy(r->body + r->len, p, size * n);
    r->len += size * n;
    r->body[r->len] = '\0';
    return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct resp *r = arg;
    size_t used = strlen(r->headers), len = size * n;
    if (used + len < sizeof(r->headers)) {
        memcpy(r->headers + used, p, len);
        r->headers[used + len] = '\0';
    }
    return len;
}

static size_t on_read(char *p, size_t size, size_t n, void *arg)
{
    struct upload *u = arg;
    size_t left = u->len - u->pos, want = size * n;
    if (want > left)
        want = left;
    if (want > 1000) /* several chunks */
        want = 1000;
    memcpy(p, u->data + u->pos, want);
    u->pos += want;
    return want;
}

struct req_opts {
    const char *base; /* NULL: the main server */
    const char *token;
    const char *auth; /* a whole Authorization header, instead of token */
    const char *ctype;
    const char *header; /* one more header line */
    const char *body;
    size_t body_len;
    bool chunked;
};

static void http(const char *method, const char *path, const struct req_opts *o, struct resp *r)
{
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    char *url = xasprintf("%s%s", o->base ? o->base : w.base, path);
    struct curl_slist *h = NULL;
    char *auth = NULL, *ctype = NULL;
    if (o->token)
        h = curl_slist_append(h, auth = xasprintf("Authorization: Bearer %s", o->token));
    if (o->auth)
        h = curl_slist_append(h, auth = xasprintf("Authorization: %s", o->auth));
    if (o->ctype)
        h = curl_slist_append(h, ctype = xasprintf("Content-Type: %s", o->ctype));
    if (o->header)
        h = curl_slist_append(h, o->header);
    struct upload up = {o->body, o->body ? (o->body_len ? o->body_len : strlen(o->body)) : 0, 0};
    if (o->chunked) {
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, &up);
    } else if (o->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, o->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)up.len);
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    r->rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->body)
        r->json = json_loads(r->body, 0, NULL);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(url);
    free(auth);
    free(ctype);
}

static void resp_fini(struct resp *r)
{
    free(r->body);
    json_decref(r->json);
}

static void assert_header(const struct resp *r, const char *line)
{
    if (!strcasestr(r->headers, line))
        fail_msg("no header \"%s\" in:\n%s", line, r->headers);
}

/* Checks the error shape: {"status": N, "error": code, "reason": "..."} */
static void assert_error(const struct resp *r, long status, const char *error)
{
    if (r->status != status)
        fail_msg("want %ld, got %ld (curl: %s): %s", status, r->status, curl_easy_strerror(r->rc),
                 r->body ? r->body : "");
    assert_non_null(r->json);
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_string_equal(json_string_value(json_object_get(r->json, "error")), error);
    const char *reason = json_string_value(json_object_get(r->json, "reason"));
    assert_non_null(reason);
    assert_true(strlen(reason) > 20);
    assert_header(r, "Content-Type: application/json");
}

static void assert_alive(void)
{
    struct resp r;
    http("GET", "/healthz", &(struct req_opts){0}, &r);
    assert_int_equal(r.status, 200);
    resp_fini(&r);
}

/* ---- tests ------------------------------------------------------------ */

static void test_api_healthz_answers_from_loop(void **state)
{
    (void)state;
    struct resp r;
    http("GET", "/healthz", &(struct req_opts){0}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type: application/json");
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    assert_non_null(json_string_value(json_object_get(r.json, "version")));
    resp_fini(&r);

    http("HEAD", "/healthz", &(struct req_opts){0}, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.len, 0);
    resp_fini(&r);
}

static void test_api_no_token_401_on_any_api_path(void **state)
{
    (void)state;
    static const char *const paths[] = {"/api/v1/status", "/api/v1/no/such/thing",
                                        "/api/v1",        "/api",
                                        "/api/v2/status", "/api/v1/reload"};
    static const char *const methods[] = {"GET", "DELETE", "POST"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
            struct resp r;
            http(methods[m], paths[i], &(struct req_opts){0}, &r);
            assert_error(&r, 401, "unauthorized");
            assert_header(&r, "WWW-Authenticate: Bearer realm=\"hale\"");
            assert_non_null(strstr(json_string_value(json_object_get(r.json, "reason")),
                                   "Authorization: Bearer"));
            resp_fini(&r);
        }
    }
    assert_alive();
}

static void test_api_invalid_token_401(void **state)
{
    (void)state;
    char wrong[AUTH_SECRET_MAX];
    memcpy(wrong, w.admin, sizeof(wrong));
    wrong[7] = wrong[7] == 'A' ? 'B' : 'A';
    const struct req_opts cases[] = {
            {.token = wrong},
            {.token = "hale_short"},
            {.auth = "Basic b3BzOnNlY3JldA=="},
            {.auth = "Bearer"},
            {.auth = "bearer  ", .token = NULL},
    };
    static const char *const paths[] = {"/api/v1/status", "/api/v1/does-not-exist"};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (size_t p = 0; p < 2; p++) {
            struct resp r;
            http("GET", paths[p], &cases[i], &r);
            assert_error(&r, 401, "unauthorized");
            assert_header(&r, "WWW-Authenticate: Bearer realm=\"hale\"");
            resp_fini(&r);
        }
    }
    /* The scheme is case-insensitive. */
    struct resp r;
    char *auth = xasprintf("bearer %s", w.viewer);
    http("GET", "/api/v1/whoami", &(struct req_opts){.auth = auth}, &r);
    assert_int_equal(r.status, 200);
    resp_fini(&r);
    free(auth);
    assert_alive();
}

static void test_api_unreadable_tokens_file_503(void **state)
{
    (void)state;
    char *good = NULL;
    size_t len = 0;
    FILE *f = fopen(w.tokens_path, "r");
    assert_non_null(f);
    assert_true(getdelim(&good, &len, '\0', f) > 0);
    fclose(f);
    f = fopen(w.tokens_path, "a");
    fputs("garbage\n", f);
    fclose(f);

    /* A token the store does not know makes it look at the file at once. */
    char wrong[AUTH_SECRET_MAX];
    memcpy(wrong, w.admin, sizeof(wrong));
    wrong[7] = wrong[7] == 'A' ? 'B' : 'A';
    const char *const tokens[] = {wrong, w.admin};
    for (size_t i = 0; i < ARRAY_SIZE(tokens); i++) {
        struct resp r;
        http("GET", "/api/v1/whoami", &(struct req_opts){.token = tokens[i]}, &r);
        assert_error(&r, 503, "unavailable");
        const char *reason = json_string_value(json_object_get(r.json, "reason"));
        char *want = xasprintf("the tokens file cannot be read: %s:6: expected 4 fields (NAME ROLE "
                               "SHA256 CREATED), found 1; fix it and retry",
                               w.tokens_path);
        assert_string_equal(reason, want);
        free(want);
        assert_null(strstr(reason, "revoked"));
        resp_fini(&r);
    }

    f = fopen(w.tokens_path, "w");
    fputs(good, f);
    fclose(f);
    free(good);
    struct resp r;
    http("GET", "/api/v1/whoami", &(struct req_opts){.token = w.admin}, &r);
    assert_int_equal(r.status, 200);
    resp_fini(&r);
}

static void test_api_unknown_route_404(void **state)
{
    (void)state;
    struct resp r;
    http("GET", "/api/v1/nope", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 404, "not_found");
    resp_fini(&r);
    http("GET", "/api/v1/status/", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 404, "not_found");
    resp_fini(&r);
    http("GET", "/nope", &(struct req_opts){0}, &r);
    assert_error(&r, 404, "not_found");
    /* A refused request without a body leaves the connection open. */
    assert_null(strcasestr(r.headers, "Connection: close"));
    resp_fini(&r);
    http("GET", "/api/v1/test/items/", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 404, "not_found");
    resp_fini(&r);
    assert_alive();
}

static void test_api_wrong_method_405_with_allow(void **state)
{
    (void)state;
    struct resp r;
    http("DELETE", "/api/v1/status", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 405, "method_not_allowed");
    assert_header(&r, "Allow: GET, HEAD\r\n");
    resp_fini(&r);
    http("GET", "/api/v1/reload", &(struct req_opts){.token = w.admin}, &r);
    assert_error(&r, 405, "method_not_allowed");
    assert_header(&r, "Allow: POST\r\n");
    resp_fini(&r);
    http("GET", "/api/v1/test/echo", &(struct req_opts){.token = w.admin}, &r);
    assert_error(&r, 405, "method_not_allowed");
    assert_header(&r, "Allow: POST, PUT\r\n");
    resp_fini(&r);
    http("POST", "/metrics", &(struct req_opts){0}, &r);
    assert_error(&r, 405, "method_not_allowed");
    resp_fini(&r);
    /* A long method is quoted whole, not cut at 15 characters; a huge one not at all. */
    http("BASELINE-CONTROL", "/healthz", &(struct req_opts){0}, &r);
    assert_error(&r, 405, "method_not_allowed");
    assert_string_equal(json_string_value(json_object_get(r.json, "reason")),
                        "BASELINE-CONTROL is not allowed on this path: use GET, HEAD");
    resp_fini(&r);
    char method[101];
    memset(method, 'X', 100);
    method[100] = '\0';
    http(method, "/healthz", &(struct req_opts){0}, &r);
    assert_error(&r, 405, "method_not_allowed");
    assert_string_equal(json_string_value(json_object_get(r.json, "reason")),
                        "this method is not allowed on this path: use GET, HEAD");
    resp_fini(&r);
    assert_alive();
}

static void test_api_role_lacking_permission_403(void **state)
{
    (void)state;
    struct resp r;
    http("POST", "/api/v1/reload", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 403, "forbidden");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "reason")),
                           "role viewer, which lacks the admin permission"));
    resp_fini(&r);
    http("GET", "/api/v1/tokens", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 403, "forbidden");
    resp_fini(&r);
    http("GET", "/api/v1/status", &(struct req_opts){.token = w.reporter}, &r);
    assert_error(&r, 403, "forbidden");
    resp_fini(&r);
    assert_int_equal(atomic_load(&w.reloads), 0);
    assert_alive();
}

static char *big_json(size_t len)
{
    char *s = xmalloc(len + 1);
    memset(s, ' ', len);
    s[0] = '[';
    s[len - 1] = ']';
    s[len] = '\0';
    return s;
}

static void test_api_body_too_large_413_content_length(void **state)
{
    (void)state;
    char *body = big_json(2 * MAX_BODY);
    struct resp r;
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){.token = w.reporter, .ctype = "application/json", .body = body}, &r);
    assert_error(&r, 413, "payload_too_large");
    resp_fini(&r);
    free(body);

    /* Exactly at the cap is fine. */
    body = big_json(MAX_BODY);
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){.token = w.reporter, .ctype = "application/json", .body = body}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "X-Echo: yes");
    resp_fini(&r);
    free(body);
    assert_alive();
}

static void test_api_body_too_large_413_chunked(void **state)
{
    (void)state;
    char *body = big_json(4 * MAX_BODY);
    struct resp r;
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .token = w.reporter, .ctype = "application/json", .body = body, .chunked = true},
         &r);
    assert_error(&r, 413, "payload_too_large");
    resp_fini(&r);
    free(body);

    /* A small chunked body goes through. */
    http("PUT", "/api/v1/test/echo",
         &(struct req_opts){.token = w.reporter,
                            .ctype = "application/json; charset=utf-8",
                            .body = "{\"a\": [1, 2]}",
                            .chunked = true},
         &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"body\":{\"a\":[1,2]}}\n");
    resp_fini(&r);

    /* A body that never ends is cut after a bounded drain; nothing breaks. */
    size_t huge = MAX_BODY + 3 * 1024 * 1024;
    body = big_json(huge);
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .token = w.reporter, .ctype = "application/json", .body = body, .chunked = true},
         &r);
    assert_true(r.rc != CURLE_OK || r.status == 413);
    resp_fini(&r);
    free(body);
    assert_alive();
}

static void test_api_bad_json_400(void **state)
{
    (void)state;
    struct resp r;
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .token = w.reporter, .ctype = "application/json", .body = "{\"a\": 1,\n \"b\": }"},
         &r);
    assert_error(&r, 400, "invalid_json");
    const char *reason = json_string_value(json_object_get(r.json, "reason"));
    if (!strstr(reason, "line 2, column"))
        fail_msg("reason: %s", reason);
    resp_fini(&r);
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .token = w.reporter, .ctype = "application/json", .body = "{\"a\": 1, \"a\": 2}"},
         &r);
    assert_error(&r, 400, "invalid_json");
    resp_fini(&r);
    /* Bytes that are not UTF-8 at all. */
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .token = w.reporter, .ctype = "application/json", .body = "{\"\xff\xfe\": 1}"},
         &r);
    assert_error(&r, 400, "invalid_json");
    resp_fini(&r);
    assert_alive();
}

static void test_api_wrong_content_type_415(void **state)
{
    (void)state;
    struct resp r;
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){.token = w.reporter, .ctype = "text/plain", .body = "{}"}, &r);
    assert_error(&r, 415, "unsupported_media_type");
    resp_fini(&r);
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .token = w.reporter, .ctype = "application/jsonp", .body = "{}", .chunked = true},
         &r);
    assert_error(&r, 415, "unsupported_media_type");
    resp_fini(&r);
    /* No body, no content type needed. */
    http("POST", "/api/v1/test/echo", &(struct req_opts){.token = w.reporter}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"body\":null}\n");
    resp_fini(&r);
    assert_alive();
}

static void test_api_raw_body_route_takes_any_bytes(void **state)
{
    (void)state;
    struct resp r;
    /* Whatever the Content-Type (curl sends a form type by default), the bytes come as sent. */
    const char *types[] = {"text/plain; charset=utf-8", "application/octet-stream",
                           "application/x-www-form-urlencoded", NULL};
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        http("POST", "/api/v1/test/raw",
             &(struct req_opts){.token = w.reporter, .ctype = types[i], .body = "cpu v=1\n"}, &r);
        assert_int_equal(r.status, 200);
        assert_string_equal(r.body, "{\"len\":8,\"nul\":false,\"text\":\"cpu v=1\\n\"}\n");
        resp_fini(&r);
    }
    http("POST", "/api/v1/test/raw",
         &(struct req_opts){.token = w.reporter, .body = "a\0b", .body_len = 3, .chunked = true},
         &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"len\":3,\"nul\":true,\"text\":\"a\"}\n");
    resp_fini(&r);
    /* No body: empty. */
    http("POST", "/api/v1/test/raw", &(struct req_opts){.token = w.reporter}, &r);
    assert_string_equal(r.body, "{\"len\":0,\"nul\":false,\"text\":\"\"}\n");
    resp_fini(&r);
    /* Compressed bodies are refused, by their header; identity is no compression. */
    http("POST", "/api/v1/test/raw",
         &(struct req_opts){
                 .token = w.reporter, .header = "Content-Encoding: gzip", .body = "\x1f\x8b"},
         &r);
    assert_error(&r, 415, "unsupported_media_type");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "reason")), "identity"));
    resp_fini(&r);
    http("POST", "/api/v1/test/raw",
         &(struct req_opts){
                 .token = w.reporter, .header = "Content-Encoding: identity", .body = "x"},
         &r);
    assert_int_equal(r.status, 200);
    resp_fini(&r);
    /* The body cap holds as for JSON. */
    char *big = big_json(2 * MAX_BODY);
    http("POST", "/api/v1/test/raw", &(struct req_opts){.token = w.reporter, .body = big}, &r);
    assert_error(&r, 413, "payload_too_large");
    resp_fini(&r);
    free(big);
    assert_alive();
}

/* Whether what the decoder made is all freed, waiting a while for the requests to end. */
static bool decoded_all_freed(void)
{
    for (int i = 0; i < 500 && atomic_load(&decoded_live); i++)
        usleep(10 * 1000);
    return atomic_load(&decoded_live) == 0;
}

static void test_api_decoded_route_gets_the_decoders_work(void **state)
{
    (void)state;
    struct resp r;
    const char *json = "application/json";
    atomic_store(&decoded_handled, 0);
    /* The decoder's work is handed to the handler. */
    http("POST", "/api/v1/test/decoded",
         &(struct req_opts){.token = w.reporter, .ctype = json, .body = "[1, 2"}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "text")), "[1, 2");
    resp_fini(&r);
    /* No body: the decoder sees an empty text. */
    http("POST", "/api/v1/test/decoded", &(struct req_opts){.token = w.reporter, .ctype = json},
         &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "text")), "");
    resp_fini(&r);
    assert_int_equal(atomic_load(&decoded_handled), 2);
    /* Its refusal is the answer, and the handler never runs. */
    http("POST", "/api/v1/test/decoded",
         &(struct req_opts){.token = w.reporter, .ctype = json, .body = "refuse"}, &r);
    assert_error(&r, 422, "refused");
    resp_fini(&r);
    assert_int_equal(atomic_load(&decoded_handled), 2);
    /* A body past the cap is refused before the decoder; the JSON content type is required. */
    char *big = big_json(2 * MAX_BODY);
    http("POST", "/api/v1/test/decoded",
         &(struct req_opts){.token = w.reporter, .ctype = json, .body = big}, &r);
    assert_error(&r, 413, "payload_too_large");
    resp_fini(&r);
    free(big);
    http("POST", "/api/v1/test/decoded",
         &(struct req_opts){.token = w.reporter, .ctype = "text/plain", .body = "x"}, &r);
    assert_error(&r, 415, "unsupported_media_type");
    resp_fini(&r);
    /* What the handler leaves is freed with the request. */
    http("POST", "/api/v1/test/decoded?leave=1",
         &(struct req_opts){.token = w.reporter, .ctype = json, .body = "leave"}, &r);
    assert_int_equal(r.status, 200);
    resp_fini(&r);
    assert_int_equal(atomic_load(&decoded_handled), 3);
    assert_true(decoded_all_freed());
    assert_alive();
}

static void test_api_status_and_whoami(void **state)
{
    (void)state;
    struct resp r;
    http("GET", "/api/v1/status", &(struct req_opts){.token = w.viewer}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Cache-Control: no-store");
    assert_int_equal(json_integer_value(json_object_get(r.json, "pid")), getpid());
    assert_string_equal(json_string_value(json_object_get(r.json, "config")),
                        "/etc/hale/hale.yaml");
    assert_string_equal(json_string_value(json_object_get(r.json, "listen")), "127.0.0.1:0");
    assert_true(json_integer_value(json_object_get(r.json, "uptime_seconds")) >= 5);
    const char *started = json_string_value(json_object_get(r.json, "started_at"));
    assert_non_null(started);
    regex_t re;
    assert_int_equal(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regexec(&re, started, 0, NULL, 0), 0);
    regfree(&re);
    assert_non_null(json_string_value(json_object_get(r.json, "version")));
    resp_fini(&r);

    http("GET", "/api/v1/whoami", &(struct req_opts){.token = w.viewer}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body,
                        "{\"name\":\"dash\",\"role\":\"viewer\",\"permissions\":[\"read\"]}\n");
    resp_fini(&r);
    http("GET", "/api/v1/whoami", &(struct req_opts){.token = w.admin}, &r);
    assert_string_equal(r.body, "{\"name\":\"ops\",\"role\":\"admin\",\"permissions\":"
                                "[\"read\",\"act\",\"admin\",\"report\",\"chat\"]}\n");
    resp_fini(&r);
}

static void test_api_tokens_listed_without_secrets(void **state)
{
    (void)state;
    struct resp r;
    http("GET", "/api/v1/tokens", &(struct req_opts){.token = w.admin}, &r);
    assert_int_equal(r.status, 200);
    json_t *list = json_object_get(r.json, "tokens");
    assert_int_equal(json_array_size(list), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")), "ops");
    assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "role")),
                        "viewer");
    assert_non_null(json_string_value(json_object_get(json_array_get(list, 2), "created")));
    assert_null(strstr(r.body, w.admin + 5));
    assert_null(strstr(r.body, "hale_"));
    resp_fini(&r);
}

static void test_api_reload_ok_and_invalid(void **state)
{
    (void)state;
    struct resp r;
    w.reload_result = 0;
    http("POST", "/api/v1/reload", &(struct req_opts){.token = w.admin}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"reloaded\":true}\n");
    resp_fini(&r);

    w.reload_result = HALE_ECONFIG;
    http("POST", "/api/v1/reload", &(struct req_opts){.token = w.admin}, &r);
    assert_error(&r, 422, "invalid_config");
    json_t *errors = json_object_get(r.json, "errors");
    assert_int_equal(json_array_size(errors), 3);
    json_t *e2 = json_array_get(errors, 2);
    assert_string_equal(json_string_value(json_object_get(e2, "file")), "packs/caf\uFFFD.yaml");
    assert_string_equal(json_string_value(json_object_get(e2, "message")),
                        "unknown key \"\uFFFD\uFFFD\" in check; "
                        "\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD\u00e9");
    json_t *e0 = json_array_get(errors, 0);
    assert_string_equal(json_string_value(json_object_get(e0, "file")), "hale.yaml");
    assert_int_equal(json_integer_value(json_object_get(e0, "line")), 12);
    assert_int_equal(json_integer_value(json_object_get(e0, "column")), 5);
    assert_string_equal(json_string_value(json_object_get(e0, "message")),
                        "unknown key \"timout\"; did you mean \"timeout\"?");
    resp_fini(&r);
    w.reload_result = 0;
    assert_int_equal(atomic_load(&w.reloads), 2);
}

static void test_api_reload_while_stopping_503(void **state)
{
    (void)state;
    struct resp r;
    w.reload_result = HALE_ESTATE; /* what serve returns once it is stopping */
    http("POST", "/api/v1/reload", &(struct req_opts){.token = w.admin}, &r);
    w.reload_result = 0;
    assert_int_equal(r.status, 503);
    assert_string_equal(
            r.body, "{\"status\":503,\"error\":\"unavailable\",\"reason\":\"hale is stopping\"}\n");
    resp_fini(&r);
    assert_alive();
}

struct api_start_args {
    struct api *api;
    struct start_args a;
};

static void api_start_on_loop(void *arg)
{
    struct api_start_args *x = arg;
    x->a.r = api_server_start(x->api, &x->a.cfg, &x->a.server, &x->a.e);
}

static void test_api_reply_never_invalid_utf8(void **state)
{
    (void)state;
    struct resp r;
    /* A reply that cannot be encoded is a 500, never the status meant for it. */
    http("GET", "/api/v1/test/unencodable", &(struct req_opts){.token = w.viewer}, &r);
    assert_error(&r, 500, "internal");
    resp_fini(&r);

    /* A configuration path that is not UTF-8 is shown with U+FFFD. */
    struct api_deps deps = {.loop = w.loop,
                            .tokens = w.store,
                            .metrics = w.metrics,
                            .config_path = "/tmp/d5-\xe9/hale.yaml"};
    struct api_start_args x = {.api = api_new(&deps),
                               .a = {.cfg = {.listen = (char *)"127.0.0.1:0",
                                             .listen_host = (char *)"127.0.0.1",
                                             .max_body = MAX_BODY,
                                             .request_timeout_ms = 5000,
                                             .http_threads = 1}}};
    run_on_loop(api_start_on_loop, &x);
    assert_int_equal(x.a.r, 0);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", api_server_port(x.a.server));
    http("GET", "/api/v1/status", &(struct req_opts){.base = base, .token = w.viewer}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "config")),
                        "/tmp/d5-\uFFFD/hale.yaml");
    resp_fini(&r);
    run_on_loop(server_free_on_loop, x.a.server);
    run_on_loop(server_free_on_loop, NULL); /* the posts the server left have run */
    api_free(x.api);
}

static void test_api_params_and_query(void **state)
{
    (void)state;
    struct resp r;
    http("GET", "/api/v1/test/items/42?x=y%20z", &(struct req_opts){.token = w.viewer}, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "{\"id\":\"42\",\"x\":\"y z\",\"other\":null}\n");
    resp_fini(&r);
    http("GET", "/api/v1/test/items/a%20b", &(struct req_opts){.token = w.viewer}, &r);
    assert_int_equal(r.status, 201);
    assert_string_equal(json_string_value(json_object_get(r.json, "id")), "a b");
    resp_fini(&r);
    /* A literal segment beats a parameter, though the parameter route was added first. */
    http("GET", "/api/v1/test/items/special", &(struct req_opts){.token = w.viewer}, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "{\"special\":true}\n");
    resp_fini(&r);
}

/* Each sample line: NAME[{LABELS}] VALUE; comments are HELP or TYPE; a final newline. */
static void assert_exposition(const char *text)
{
    regex_t sample, meta;
    assert_int_equal(regcomp(&sample,
                             "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|"
                             "\\\\[\\\\\"n])*\",?)*\\})? ([-+]?[0-9.e+-]+|[+-]Inf|NaN)$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(regcomp(&meta,
                             "^# (HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*|TYPE [a-zA-Z_:][a-zA-Z0-9_:]* "
                             "(counter|gauge|histogram))$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    assert_int_equal(text[strlen(text) - 1], '\n');
    char *copy = xstrdup(text);
    for (char *line = copy, *next; *line; line = next) {
        next = line + strcspn(line, "\n");
        *next++ = '\0';
        regex_t *re = line[0] == '#' ? &meta : &sample;
        if (regexec(re, line, 0, NULL, 0) != 0)
            fail_msg("not an exposition line: %s", line);
    }
    free(copy);
    regfree(&sample);
    regfree(&meta);
}

static void test_api_metrics_parseable_and_counting(void **state)
{
    (void)state;
    assert_alive();
    struct resp r;
    http("GET", "/api/v1/status", &(struct req_opts){0}, &r); /* a 401 */
    resp_fini(&r);
    http("GET", "/metrics", &(struct req_opts){0}, &r);
    assert_int_equal(r.status, 200);
    assert_header(&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n");
    assert_exposition(r.body);
    assert_non_null(strstr(r.body, "\nhale_http_requests_total{route=\"/healthz\",code=\"200\"} "));
    assert_non_null(strstr(r.body, "\nhale_http_requests_total{route=\"other\",code=\"401\"} "));
    assert_non_null(
            strstr(r.body, "\nhale_http_request_duration_seconds_count{route=\"/healthz\"}"));
    assert_non_null(strstr(r.body, "\nhale_loop_lag_seconds "));
    assert_non_null(strstr(r.body, "\nprocess_open_fds "));
    /* Unknown paths cannot grow the label set. */
    assert_null(strstr(r.body, "route=\"/api/v1/no/such/thing\""));
    resp_fini(&r);
}

/* ---- lifecycle -------------------------------------------------------- */

struct client {
    pthread_t thread;
    char base[64];
    const char *path;
    struct resp r;
};

static void *client_run(void *arg)
{
    struct client *c = arg;
    http("GET", c->path, &(struct req_opts){.base = c->base, .token = w.viewer}, &c->r);
    return NULL;
}

static void client_start(struct client *c, struct api_server *s, const char *path)
{
    snprintf(c->base, sizeof(c->base), "http://127.0.0.1:%u", api_server_port(s));
    c->path = path;
    assert_int_equal(pthread_create(&c->thread, NULL, client_run, c), 0);
}

static struct api_req *wait_held(void)
{
    for (int i = 0; i < 500 && !atomic_load(&w.held); i++)
        usleep(10000);
    struct api_req *req = atomic_exchange(&w.held, NULL);
    assert_non_null(req);
    return req;
}

static void reply_held(void *arg)
{
    api_reply_json(arg, 200, json_pack("{s:b}", "late", 1));
}

static void quiesce_on_loop(void *arg)
{
    api_server_quiesce(arg);
}

static void stop_on_loop(void *arg)
{
    api_server_stop(arg);
}

static void test_api_stop_answers_waiting_requests(void **state)
{
    (void)state;
    /* A second server beside the first, as when a reload changes the listen address. */
    struct api_server *s = server_start();
    assert_int_not_equal(api_server_port(s), api_server_port(w.server));
    struct client c;
    client_start(&c, s, "/api/v1/test/slow");
    struct api_req *held = wait_held();
    assert_int_equal(api_server_inflight(s), 1);
    run_on_loop(stop_on_loop, s);
    pthread_join(c.thread, NULL);
    /* The 503 is written before the connection closes. */
    assert_error(&c.r, 503, "unavailable");
    assert_header(&c.r, "Connection: close");
    resp_fini(&c.r);
    /* The handler answers late: the reply is dropped, nothing is freed twice. */
    run_on_loop(reply_held, held);
    run_on_loop(server_free_on_loop, s);
    assert_alive();
}

static void test_api_unanswered_request_times_out_503(void **state)
{
    (void)state;
    struct api_server *s = server_start_timeout(1000);
    struct client c;
    uint64_t t0 = clock_mono_ms(&clock_system);
    client_start(&c, s, "/api/v1/test/slow");
    struct api_req *held = wait_held();
    pthread_join(c.thread, NULL);
    uint64_t waited = clock_mono_ms(&clock_system) - t0;
    assert_error(&c.r, 503, "unavailable");
    assert_true(waited >= 1000 && waited < 4000);
    resp_fini(&c.r);
    /* The completion callback may run just after the client has the answer. */
    for (int i = 0; i < 100 && api_server_inflight(s) > 0; i++)
        usleep(10000);
    assert_int_equal(api_server_inflight(s), 0);
    run_on_loop(reply_held, held); /* too late: dropped */
    run_on_loop(server_free_on_loop, s);
    assert_alive();
}

static atomic_bool drained;

static void on_drained(struct api_server *s, void *data)
{
    (void)data;
    api_server_free(s);
    atomic_store(&drained, true);
}

static void drain_on_loop(void *arg)
{
    api_server_drain(arg, 5000, on_drained, NULL);
}

static atomic_int drained_calls;

static void on_drained_count(struct api_server *s, void *data)
{
    (void)data;
    atomic_fetch_add(&drained_calls, 1);
    api_server_free(s);
}

static void drain_twice_on_loop(void *arg)
{
    api_server_drain(arg, 5000, on_drained_count, NULL);
    api_server_drain(arg, 5000, on_drained_count, NULL); /* a reload during shutdown */
}

static void test_api_drain_twice_is_one_drain(void **state)
{
    (void)state;
    struct api_server *s = server_start();
    atomic_store(&drained_calls, 0);
    run_on_loop(drain_twice_on_loop, s);
    for (int i = 0; i < 500 && atomic_load(&drained_calls) == 0; i++)
        usleep(10000);
    usleep(100000); /* a second timer, if there were one, would have fired by now */
    assert_int_equal(atomic_load(&drained_calls), 1);
    assert_alive();
}

static void test_api_drain_waits_for_inflight(void **state)
{
    (void)state;
    struct api_server *s = server_start();
    uint16_t port = api_server_port(s);
    struct client c;
    client_start(&c, s, "/api/v1/test/slow");
    struct api_req *held = wait_held();
    atomic_store(&drained, false);
    run_on_loop(drain_on_loop, s);
    usleep(100000);
    assert_false(atomic_load(&drained)); /* still waiting for the held request */

    /* No new connection is served once quiesced: closed at once, without an answer. */
    struct resp r;
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
    http("GET", "/healthz", &(struct req_opts){.base = base}, &r);
    assert_int_not_equal(r.rc, CURLE_OK);
    assert_int_not_equal(r.rc, CURLE_OPERATION_TIMEDOUT);
    assert_int_equal(r.status, 0);
    resp_fini(&r);

    run_on_loop(reply_held, held);
    pthread_join(c.thread, NULL);
    assert_int_equal(c.r.status, 200);
    assert_header(&c.r, "Connection: close");
    resp_fini(&c.r);
    for (int i = 0; i < 500 && !atomic_load(&drained); i++)
        usleep(10000);
    assert_true(atomic_load(&drained));
    assert_alive();
}

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_all(int fd, const char *text)
{
    assert_int_equal(send(fd, text, strlen(text), MSG_NOSIGNAL), (ssize_t)strlen(text));
}

/* Reads from fd until want appears or the peer stops; returns what was read (free()). */
static char *recv_until(int fd, const char *want)
{
    size_t len = 0;
    char *buf = xcalloc(1, 8192);
    while (len < 8191 && !strstr(buf, want)) {
        ssize_t n = recv(fd, buf + len, 8191 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
    }
    return buf;
}

static void test_api_max_body_change_spares_requests_in_progress(void **state)
{
    (void)state;
    struct api_server *s = server_start();
    char *body = big_json(3000);
    char *head = xasprintf("POST /api/v1/test/echo HTTP/1.1\r\nHost: x\r\n"
                           "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
                           "Content-Length: 3000\r\nExpect: 100-continue\r\n\r\n",
                           w.reporter);
    int fd = tcp_connect(api_server_port(s));
    send_all(fd, head);
    /* The 100 Continue says the request has begun, under the cap of 4096. */
    char *got = recv_until(fd, "\r\n\r\n");
    if (!strstr(got, "100 Continue"))
        fail_msg("no 100 Continue: %s", got);
    free(got);
    api_server_set_max_body(s, 1024); /* a reload lowers the cap meanwhile */
    send_all(fd, body);
    got = recv_until(fd, "}\n");
    if (strncmp(got, "HTTP/1.1 200", 12) != 0)
        fail_msg("the request in progress was refused: %s", got);
    free(got);
    close(fd);

    /* The next request has the new cap. */
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", api_server_port(s));
    struct resp r;
    http("POST", "/api/v1/test/echo",
         &(struct req_opts){
                 .base = base, .token = w.reporter, .ctype = "application/json", .body = body},
         &r);
    assert_error(&r, 413, "payload_too_large");
    resp_fini(&r);
    free(head);
    free(body);
    run_on_loop(server_free_on_loop, s);
}

static void test_api_connections_per_client_bounded(void **state)
{
    (void)state;
    /* One HTTP thread: connections are accepted in the order they were made. */
    struct api_server *s = server_start_threads(30000, 1);
    uint16_t port = api_server_port(s);
    int slow[64];
    for (size_t i = 0; i < ARRAY_SIZE(slow); i++) {
        slow[i] = tcp_connect(port);
        send_all(slow[i], "GET /healthz HTTP/1.1\r\nHost: x\r\n"); /* and never the end */
    }
    /* One more from the same address is closed without an answer. */
    int extra = tcp_connect(port);
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    send(extra, get, sizeof(get) - 1, MSG_NOSIGNAL); /* may fail: the server closes it */
    char buf[256];
    ssize_t n = recv(extra, buf, sizeof(buf), 0);
    if (n > 0)
        fail_msg("answered past the per-client limit: %.*s", (int)n, buf);
    assert_true(n == 0 || errno == ECONNRESET);
    close(extra);

    /* Once the trickling connections are gone, a fresh one is served. */
    for (size_t i = 0; i < ARRAY_SIZE(slow); i++)
        close(slow[i]);
    char base[64];
    snprintf(base, sizeof(base), "http://127.0.0.1:%u", port);
    struct resp r = {0};
    for (int i = 0; i < 100; i++) { /* until libmicrohttpd has seen the closes */
        http("GET", "/healthz", &(struct req_opts){.base = base}, &r);
        if (r.status == 200)
            break;
        resp_fini(&r);
        usleep(10000);
    }
    assert_int_equal(r.status, 200);
    resp_fini(&r);
    run_on_loop(server_free_on_loop, s);
}

/* Open descriptors; connections of earlier tests may still be closing, so run early. */
static int count_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void test_api_servers_leave_no_fds(void **state)
{
    (void)state;
    int before = count_fds();
    for (int i = 0; i < 3; i++) {
        struct api_server *s = server_start();
        char base[64];
        snprintf(base, sizeof(base), "http://127.0.0.1:%u", api_server_port(s));
        struct resp r;
        http("GET", "/healthz", &(struct req_opts){.base = base}, &r);
        assert_int_equal(r.status, 200);
        resp_fini(&r);
        if (i == 1)
            run_on_loop(quiesce_on_loop, s); /* the quiesced socket is closed at stop */
        run_on_loop(server_free_on_loop, s);
    }
    assert_int_equal(count_fds(), before);
}

static void test_api_bind_error_names_address(void **state)
{
    (void)state;
    int before = count_fds();
    struct start_args a = {.cfg = {.listen = w.base + 7, /* "127.0.0.1:PORT", taken */
                                   .listen_host = (char *)"127.0.0.1",
                                   .listen_port = api_server_port(w.server),
                                   .max_body = MAX_BODY,
                                   .request_timeout_ms = 1000,
                                   .http_threads = 1}};
    run_on_loop(start_on_loop, &a);
    assert_int_equal(a.r, -EADDRINUSE);
    char *want = xasprintf("cannot listen on %s: Address already in use", w.base + 7);
    if (strncmp(a.e.msg, want, strlen(want)) != 0)
        fail_msg("message: %s", a.e.msg);
    free(want);
    assert_int_equal(count_fds(), before);

    struct err e = {0};
    static const struct api_route late[] = {{"GET", "/late", API_PERM_NONE, get_item}};
    assert_int_equal(api_routes_add(w.api, late, 1, NULL, &e), HALE_ESTATE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            /* First, while no connection of another test is still closing. */
            cmocka_unit_test(test_api_servers_leave_no_fds),
            cmocka_unit_test(test_api_bind_error_names_address),
            cmocka_unit_test(test_api_healthz_answers_from_loop),
            cmocka_unit_test(test_api_no_token_401_on_any_api_path),
            cmocka_unit_test(test_api_invalid_token_401),
            cmocka_unit_test(test_api_unreadable_tokens_file_503),
            cmocka_unit_test(test_api_unknown_route_404),
            cmocka_unit_test(test_api_wrong_method_405_with_allow),
            cmocka_unit_test(test_api_role_lacking_permission_403),
            cmocka_unit_test(test_api_body_too_large_413_content_length),
            cmocka_unit_test(test_api_body_too_large_413_chunked),
            cmocka_unit_test(test_api_bad_json_400),
            cmocka_unit_test(test_api_wrong_content_type_415),
            cmocka_unit_test(test_api_raw_body_route_takes_any_bytes),
            cmocka_unit_test(test_api_decoded_route_gets_the_decoders_work),
            cmocka_unit_test(test_api_status_and_whoami),
            cmocka_unit_test(test_api_tokens_listed_without_secrets),
            cmocka_unit_test(test_api_reload_ok_and_invalid),
            cmocka_unit_test(test_api_reload_while_stopping_503),
            cmocka_unit_test(test_api_reply_never_invalid_utf8),
            cmocka_unit_test(test_api_params_and_query),
            cmocka_unit_test(test_api_metrics_parseable_and_counting),
            cmocka_unit_test(test_api_stop_answers_waiting_requests),
            cmocka_unit_test(test_api_drain_waits_for_inflight),
            cmocka_unit_test(test_api_drain_twice_is_one_drain),
            cmocka_unit_test(test_api_connections_per_client_bounded),
            cmocka_unit_test(test_api_max_body_change_spares_requests_in_progress),
            cmocka_unit_test(test_api_unanswered_request_times_out_503),
    };
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
