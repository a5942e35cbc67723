/* SPDX-License-Identifier: MIT */
/*
 * Tests of the live stream (GET /api/v1/stream). First the pure parts: the
 * wire format, the event types, and the replay ring's rules for ids,
 * resuming and resetting. Then the stream over real HTTP: a server on
 * 127.0.0.1 with the loop on its own thread (as in the daemon), clients on
 * raw sockets so a test can read exactly what was sent, or not read at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
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
#include <jansson.h>

#include "api/api.h"
#include "api/internal.h"
#include "api/stream.h"
#include "auth/auth.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/log.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "testutil.h"

/* ---- the event types -------------------------------------------------- */

static void test_stream_types_parse(void **state)
{
    (void)state;
    unsigned mask = 0;
    struct err e = {0};
    assert_int_equal(api__event_types_parse("incident", &mask, &e), 0);
    assert_int_equal(mask, 1u << API__EVENT_INCIDENT);
    assert_int_equal(api__event_types_parse("check,incident", &mask, &e), 0);
    assert_int_equal(mask, 1u << API__EVENT_CHECK | 1u << API__EVENT_INCIDENT);
    assert_int_equal(api__event_types_parse("run,check,incident", &mask, &e), 0);
    assert_int_equal(mask, API__EVENT_ALL);
    assert_int_equal(api__event_types_parse("run", &mask, &e), 0);
    assert_int_equal(mask, 1u << API__EVENT_RUN);
    assert_int_equal(api__event_types_parse("check,check", &mask, &e), 0);
    assert_int_equal(mask, 1u << API__EVENT_CHECK);

    mask = 7;
    assert_int_equal(api__event_types_parse("incident,bogus", &mask, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "\"bogus\""));
    assert_int_equal(mask, 7); /* untouched on error */
    assert_int_equal(api__event_types_parse("", &mask, &e), -EINVAL);
    assert_int_equal(api__event_types_parse("incident,", &mask, &e), -EINVAL);
    assert_int_equal(api__event_types_parse("Incident", &mask, &e), -EINVAL);
    assert_int_equal(api__event_types_parse("incidents", &mask, &e), -EINVAL);
}

/* ---- the ring --------------------------------------------------------- */

static void test_stream_ring_frames_and_ids(void **state)
{
    (void)state;
    struct api__ring r;
    api__ring_init(&r, "0a1b2c3d", 8, 1 << 20);
    const struct api__event *ev = api__ring_push(&r, API__EVENT_CHECK, "{\"check\":\"web\"}");
    assert_int_equal(ev->seq, 1);
    assert_string_equal(ev->frame, "id: 0a1b2c3d-1\nevent: check\ndata: {\"check\":\"web\"}\n\n");
    assert_int_equal(ev->len, strlen(ev->frame));
    ev = api__ring_push(&r, API__EVENT_INCIDENT, "{\"id\":42}");
    assert_int_equal(ev->seq, 2);
    assert_string_equal(ev->frame, "id: 0a1b2c3d-2\nevent: incident\ndata: {\"id\":42}\n\n");
    char id[API__EVENT_ID_MAX];
    api__ring_id(&r, r.seq, id);
    assert_string_equal(id, "0a1b2c3d-2");
    api__ring_fini(&r);
}

static void push_n(struct api__ring *r, int n)
{
    for (int i = 0; i < n; i++)
        api__ring_push(r, i % 2 ? API__EVENT_CHECK : API__EVENT_INCIDENT, "{}");
}

static void test_stream_ring_resume_or_reset(void **state)
{
    (void)state;
    struct api__ring r;
    api__ring_init(&r, "feed", 4, 1 << 20);
    uint64_t after = 99;

    /* Before any message, only "nothing yet" is current. */
    assert_true(api__ring_resumable(&r, "feed-0", &after));
    assert_int_equal(after, 0);
    assert_false(api__ring_resumable(&r, "feed-1", &after)); /* from the future */

    push_n(&r, 6); /* holds 3..6 */
    assert_true(api__ring_resumable(&r, "feed-6", &after));
    assert_int_equal(after, 6);
    assert_true(api__ring_resumable(&r, "feed-2", &after)); /* 3 onwards is all there */
    assert_int_equal(after, 2);
    after = 99;
    assert_false(api__ring_resumable(&r, "feed-1", &after)); /* 2 was dropped */
    assert_false(api__ring_resumable(&r, "feed-0", &after));
    assert_int_equal(after, 99);
    assert_false(api__ring_resumable(&r, "feed-7", &after));

    /* Another run, and ids that are not ours at all. */
    static const char *const foreign[] = {"beef-5",
                                          "fee-5",
                                          "feed5",
                                          "feed-",
                                          "feed-x",
                                          "feed--5",
                                          "feed-5x",
                                          "feed- 5",
                                          "feed-+5",
                                          "",
                                          "feed-99999999999999999999999"};
    for (size_t i = 0; i < ARRAY_SIZE(foreign); i++)
        if (api__ring_resumable(&r, foreign[i], &after))
            fail_msg("\"%s\" was taken for an id of this run", foreign[i]);
    api__ring_fini(&r);
}

static void test_stream_ring_replays_what_was_missed_by_type(void **state)
{
    (void)state;
    struct api__ring r;
    api__ring_init(&r, "ab", 16, 1 << 20);
    push_n(&r, 5); /* 1 incident, 2 check, 3 incident, 4 check, 5 incident */
    struct strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(api__ring_replay(&r, 2, API__EVENT_ALL, &out), 3);
    assert_string_equal(out.s, "id: ab-3\nevent: incident\ndata: {}\n\n"
                               "id: ab-4\nevent: check\ndata: {}\n\n"
                               "id: ab-5\nevent: incident\ndata: {}\n\n");
    strbuf_reset(&out);
    assert_int_equal(api__ring_replay(&r, 0, 1u << API__EVENT_CHECK, &out), 2);
    assert_string_equal(out.s, "id: ab-2\nevent: check\ndata: {}\n\n"
                               "id: ab-4\nevent: check\ndata: {}\n\n");
    strbuf_reset(&out);
    assert_int_equal(api__ring_replay(&r, 5, API__EVENT_ALL, &out), 0);
    assert_int_equal(out.len, 0);
    strbuf_fini(&out);
    api__ring_fini(&r);
}

static void test_stream_ring_bounded_by_bytes(void **state)
{
    (void)state;
    struct api__ring r;
    api__ring_init(&r, "ab", 1000, 200);
    char big[101];
    memset(big, 'x', 100);
    big[100] = '\0';
    for (int i = 0; i < 10; i++)
        api__ring_push(&r, API__EVENT_CHECK, big);
    /* Frames of ~130 bytes: one fits under 200, so only the newest is held. */
    assert_int_equal(r.n, 1);
    assert_true(r.bytes <= 200 || r.n == 1);
    uint64_t after;
    assert_true(api__ring_resumable(&r, "ab-9", &after));
    assert_false(api__ring_resumable(&r, "ab-8", &after));
    /* One message larger than the cap is still kept, alone. */
    char *huge = xcalloc(1, 1001);
    memset(huge, 'y', 1000);
    api__ring_push(&r, API__EVENT_CHECK, huge);
    free(huge);
    assert_int_equal(r.n, 1);
    assert_true(api__ring_resumable(&r, "ab-10", &after));
    api__ring_fini(&r);
}

/* ---- over HTTP: the world --------------------------------------------- */

static struct {
    char dir[64];
    char *tokens_path;
    char viewer[AUTH_SECRET_MAX], reporter[AUTH_SECRET_MAX];
    struct loop *loop;
    pthread_t loop_thread;
    struct auth_store *tokens;
    struct metrics *metrics;
    struct metrics_daemon counters;
    struct api *api;
    struct api_server *server;
    uint16_t port;
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

static struct api_server *server_start(uint64_t timeout_ms)
{
    struct start_args a = {.cfg = {.listen = (char *)"127.0.0.1:0",
                                   .listen_host = (char *)"127.0.0.1",
                                   .max_body = 4096,
                                   .request_timeout_ms = timeout_ms,
                                   .http_threads = 2}};
    run_on_loop(start_on_loop, &a);
    if (a.r != 0)
        fail_msg("start: %s", a.e.msg);
    return a.server;
}

static void server_free_on_loop(void *arg)
{
    api_server_free(arg);
}

static void stop_on_loop(void *arg)
{
    api_server_stop(arg);
}

static void loop_stop_cb(void *arg)
{
    loop_stop(arg);
}

static void make_token(const char *name, enum auth_role role, char *secret)
{
    struct err e = {0};
    if (auth_token_create(w.tokens_path, name, role, secret, &e) != 0)
        fail_msg("token: %s", e.msg);
}

static int world_setup(void **state)
{
    (void)state;
    log_init(LOG_LEVEL_ERROR);
    const char *tmp = getenv("TMPDIR");
    snprintf(w.dir, sizeof(w.dir), "%s/hale-stream-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(w.dir));
    w.tokens_path = xasprintf("%s/tokens", w.dir);
    make_token("dash", AUTH_ROLE_VIEWER, w.viewer);
    make_token("ci", AUTH_ROLE_REPORTER, w.reporter);
    struct err e = {0};
    assert_int_equal(auth_store_new(w.tokens_path, &w.tokens, &e), 0);
    assert_int_equal(loop_new(&w.loop), 0);
    w.metrics = metrics_new();
    metrics_daemon_register(w.metrics, w.loop, clock_real_ms(&clock_system), &w.counters);
    struct api_deps deps = {
            .loop = w.loop,
            .tokens = w.tokens,
            .metrics = w.metrics,
            .counters = &w.counters,
    };
    w.api = api_new(&deps);
    assert_int_equal(pthread_create(&w.loop_thread, NULL, loop_main, NULL), 0);
    w.server = server_start(5000);
    w.port = api_server_port(w.server);
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
    auth_store_free(w.tokens);
    testutil_rm_rf(w.dir);
    free(w.tokens_path);
    return 0;
}

/* ---- over HTTP: publishing and reading -------------------------------- */

struct check_change {
    const char *check;
    enum check_status from, to;
    const char *summary;
};

static void publish_check_on_loop(void *arg)
{
    const struct check_change *c = arg;
    struct detect_event ev = {
            .check = c->check,
            .kind = DETECT_EVENT_STATE_CHANGE,
            .old_status = c->from,
            .new_status = c->to,
            .hard = true,
            .time_ms = 1795280400000,
            .summary = xstrdup(c->summary),
    };
    api_stream_check(w.api, &ev);
    free(ev.summary);
}

static void publish_check(const char *check, enum check_status to, const char *summary)
{
    struct check_change c = {check, CHECK_STATUS_OK, to, summary};
    run_on_loop(publish_check_on_loop, &c);
}

static void publish_incident_on_loop(void *arg)
{
    struct incident i = {.id = 42,
                         .title = (char *)"web is critical",
                         .fingerprint = (char *)"check:web",
                         .severity = INCIDENT_SEVERITY_CRITICAL,
                         .priority = 2,
                         .state = *(enum incident_state *)arg,
                         .opened_ms = 1795280400000,
                         .updated_ms = 1795280400000};
    api_stream_incident(w.api, &i);
}

static void publish_incident(enum incident_state st)
{
    run_on_loop(publish_incident_on_loop, &st);
}

/*
 * A client on a raw socket. buf holds what it read so far, the head as it
 * came and a chunked body decoded, so a test looks for whole messages.
 */
struct conn {
    int fd;
    char *buf;
    size_t len, cap;
    char *raw; /* bytes not yet decoded */
    size_t raw_len, raw_cap;
    bool in_body, chunked, eof;
    bool ended; /* the last chunk came: the response is over, the connection may stay */
};

static void conn_connect(struct conn *c, uint16_t port, int rcvbuf)
{
    *c = (struct conn){.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
    assert_true(c->fd >= 0);
    if (rcvbuf)
        setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct timeval tv = {.tv_usec = 100000};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/*
 * Opens GET path with token and extra header lines ("Name: value\r\n"), on
 * a socket with a receive buffer of rcvbuf bytes (0: the system's).
 */
static void conn_open_with(struct conn *c, uint16_t port, const char *path, const char *token,
                           const char *extra, int rcvbuf)
{
    conn_connect(c, port, rcvbuf);
    char *req = xasprintf("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s\r\n", path,
                          token, extra ? extra : "");
    assert_int_equal(send(c->fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    free(req);
}

static void conn_open(struct conn *c, uint16_t port, const char *path, const char *token,
                      const char *extra)
{
    conn_open_with(c, port, path, token, extra, 0);
}

static void conn_keep(struct conn *c, const char *p, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        c->cap = (c->len + n + 1) * 2;
        c->buf = xrealloc(c->buf, c->cap);
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

/* Moves what can be decoded from raw to buf. */
static void conn_decode(struct conn *c)
{
    size_t used = 0;
    if (!c->in_body) {
        const char *end = memmem(c->raw, c->raw_len, "\r\n\r\n", 4);
        if (!end)
            return;
        used = (size_t)(end + 4 - c->raw);
        conn_keep(c, c->raw, used);
        c->in_body = true;
        c->chunked = strcasestr(c->buf, "\r\nTransfer-Encoding: chunked\r\n") != NULL;
    }
    while (used < c->raw_len) {
        if (!c->chunked) {
            conn_keep(c, c->raw + used, c->raw_len - used);
            used = c->raw_len;
            break;
        }
        const char *p = c->raw + used, *crlf = memmem(p, c->raw_len - used, "\r\n", 2);
        if (!crlf)
            break;
        size_t size = strtoul(p, NULL, 16);
        if (size == 0)
            c->ended = true;
        size_t whole = (size_t)(crlf + 2 - p) + size + 2;
        if (used + whole > c->raw_len)
            break;
        conn_keep(c, crlf + 2, size);
        used += whole;
    }
    memmove(c->raw, c->raw + used, c->raw_len - used);
    c->raw_len -= used;
}

/* Reads until want has arrived (true), the peer closed, or timeout_ms passed. */
static bool conn_until(struct conn *c, const char *want, int timeout_ms)
{
    uint64_t deadline = clock_mono_ms(&clock_system) + (uint64_t)timeout_ms;
    while (!(c->buf && strstr(c->buf, want))) {
        if (c->eof || c->ended || clock_mono_ms(&clock_system) > deadline)
            return false;
        if (c->raw_cap - c->raw_len < 4096) {
            c->raw_cap = c->raw_cap ? c->raw_cap * 2 : 16384;
            c->raw = xrealloc(c->raw, c->raw_cap);
        }
        ssize_t n = recv(c->fd, c->raw + c->raw_len, c->raw_cap - c->raw_len, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
            c->eof = true;
        if (n > 0) {
            c->raw_len += (size_t)n;
            conn_decode(c);
        }
    }
    return true;
}

static void conn_expect(struct conn *c, const char *want)
{
    if (!conn_until(c, want, 10000))
        fail_msg("no \"%s\" in what arrived:\n%s", want, c->buf ? c->buf : "(nothing)");
}

/* Reads until the response ends (or the peer closes); true when it did within timeout_ms. */
static bool conn_closed(struct conn *c, int timeout_ms)
{
    conn_until(c, "\x01never\x01", timeout_ms);
    return c->eof || c->ended;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c->raw);
    *c = (struct conn){.fd = -1};
}

/* The id of the last "hello" the client got ("RUN-SEQ"), from its data. */
static void hello_id(const struct conn *c, char id[API__EVENT_ID_MAX])
{
    const char *p = strstr(c->buf, "event: hello\ndata: ");
    assert_non_null(p);
    json_t *o = json_loadb(p + 19, strcspn(p + 19, "\n"), 0, NULL);
    assert_non_null(o);
    snprintf(id, API__EVENT_ID_MAX, "%s", json_string_value(json_object_get(o, "id")));
    json_decref(o);
}

static char *metrics_text;

static void render_on_loop(void *arg)
{
    (void)arg;
    struct strbuf b;
    strbuf_init(&b, 0);
    metrics_render(w.metrics, &b);
    free(metrics_text);
    metrics_text = strbuf_detach(&b, NULL);
}

/* Whether the metrics show line within timeout_ms. */
static bool metrics_show(const char *line, int timeout_ms)
{
    for (int waited = 0;; waited += 20) {
        run_on_loop(render_on_loop, NULL);
        if (strstr(metrics_text, line))
            return true;
        if (waited >= timeout_ms) {
            const char *at = strstr(metrics_text, "\nhale_api_streams");
            print_error("no%s in the metrics; they have%.*s\n", line, at ? 300 : 0, at);
            return false;
        }
        usleep(20000);
    }
}

/* ---- over HTTP: the tests --------------------------------------------- */

static void test_stream_sends_changes_as_they_happen(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream", w.viewer, NULL);
    conn_expect(&c, "event: hello\n");
    assert_non_null(strstr(c.buf, "HTTP/1.1 200 OK\r\n"));
    assert_non_null(strcasestr(c.buf, "\r\nContent-Type: text/event-stream\r\n"));
    assert_non_null(strcasestr(c.buf, "\r\nCache-Control: no-cache\r\n"));
    assert_non_null(strcasestr(c.buf, "\r\nX-Accel-Buffering: no\r\n"));
    assert_non_null(strstr(c.buf, "\r\n\r\n"));
    assert_non_null(strstr(c.buf, "retry: 3000\n"));
    char id[API__EVENT_ID_MAX];
    hello_id(&c, id);
    /* A fresh client is given the current id at once, before anything happens. */
    char *line = xasprintf("id: %s\nevent: hello\n", id);
    assert_non_null(strstr(c.buf, line));
    free(line);
    assert_true(metrics_show("\nhale_api_streams 1\n", 2000));

    publish_check("web", CHECK_STATUS_CRITICAL, "HTTP 503 \"down\"\nsecond line");
    conn_expect(&c, "event: check\ndata: {\"check\":\"web\",\"status\":\"critical\","
                    "\"previous\":\"ok\",\"time\":\"2026-11-21T17:00:00.000Z\","
                    "\"summary\":\"HTTP 503 \\\"down\\\"\\nsecond line\"}\n\n");
    publish_incident(INCIDENT_ACKNOWLEDGED);
    conn_expect(&c, "\"state\":\"acknowledged\"");
    const char *inc = strstr(c.buf, "event: incident\ndata: {");
    assert_non_null(inc);
    json_t *o = json_loadb(inc + 22, strcspn(inc + 22, "\n"), 0, NULL);
    assert_non_null(o);
    assert_int_equal(json_integer_value(json_object_get(o, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(o, "title")), "web is critical");
    assert_null(json_object_get(o, "timeline"));
    json_decref(o);
    conn_close(&c);
    /* The client left: its stream is dropped without waiting for a keep-alive. */
    assert_true(metrics_show("\nhale_api_streams 0\n", 5000));
}

static void test_stream_filters_by_type(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream?types=incident", w.viewer, NULL);
    conn_expect(&c, "\"types\":[\"incident\"]");
    publish_check("filtered-out", CHECK_STATUS_WARNING, "x");
    publish_incident(INCIDENT_NEW);
    conn_expect(&c, "event: incident\n");
    assert_null(strstr(c.buf, "filtered-out"));
    conn_close(&c);

    conn_open(&c, w.port, "/api/v1/stream?types=bogus", w.viewer, NULL);
    conn_expect(&c, "\"error\":\"bad_request\"");
    assert_non_null(strstr(c.buf, "HTTP/1.1 400"));
    assert_non_null(strstr(c.buf, "\\\"bogus\\\" is not a type of event"));
    conn_close(&c);
}

static void test_stream_needs_a_reading_token(void **state)
{
    (void)state;
    struct conn c;
    conn_connect(&c, w.port, 0);
    static const char req[] = "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n\r\n";
    send(c.fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
    conn_expect(&c, "\"error\":\"unauthorized\"");
    assert_non_null(strstr(c.buf, "HTTP/1.1 401"));
    conn_close(&c);
    conn_open(&c, w.port, "/api/v1/stream", w.reporter, NULL);
    conn_expect(&c, "\"error\":\"forbidden\"");
    conn_close(&c);
}

static void test_stream_reconnect_gets_exactly_what_was_missed(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream", w.viewer, NULL);
    conn_expect(&c, "event: hello\n");
    publish_check("seen", CHECK_STATUS_CRITICAL, "seen");
    conn_expect(&c, "\"seen\"}\n\n");
    const char *p = strstr(c.buf, "event: check");
    while (p > c.buf && strncmp(p, "id: ", 4) != 0)
        p--;
    char last[API__EVENT_ID_MAX];
    snprintf(last, sizeof(last), "%.*s", (int)strcspn(p + 4, "\n"), p + 4);
    conn_close(&c);

    publish_check("missed-1", CHECK_STATUS_CRITICAL, "m1");
    publish_incident(INCIDENT_RESOLVED);
    publish_check("missed-2", CHECK_STATUS_OK, "m2");

    char *hdr = xasprintf("Last-Event-ID: %s\r\n", last);
    conn_open(&c, w.port, "/api/v1/stream", w.viewer, hdr);
    conn_expect(&c, "\"missed-2\"");
    conn_expect(&c, "\n\n");
    assert_null(strstr(c.buf, "\"seen\""));
    assert_non_null(strstr(c.buf, "\"resumed\":true"));
    const char *m1 = strstr(c.buf, "\"missed-1\""), *inc = strstr(c.buf, "\"resolved\"");
    const char *m2 = strstr(c.buf, "\"missed-2\"");
    assert_true(m1 && inc && m2 && m1 < inc && inc < m2);
    /* The hello of a resumed stream has no id: it would move the client's id back. */
    assert_non_null(strstr(c.buf, "retry: 3000\nevent: hello\n"));
    conn_close(&c);
    free(hdr);

    /* The types the client skips are passed over: resuming from an old id with a filter. */
    hdr = xasprintf("Last-Event-ID: %s\r\n", last);
    conn_open(&c, w.port, "/api/v1/stream?types=incident", w.viewer, hdr);
    conn_expect(&c, "\"resolved\"");
    assert_null(strstr(c.buf, "missed-"));
    conn_close(&c);
    free(hdr);
}

/* A replay larger than a stream's cap is not taken for a client that does not read. */
static void test_stream_large_replay_then_live(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream?types=check", w.viewer, NULL);
    conn_expect(&c, "event: hello\n");
    const char *p = strstr(c.buf, "id: ");
    char last[API__EVENT_ID_MAX];
    snprintf(last, sizeof(last), "%.*s", (int)strcspn(p + 4, "\n"), p + 4);
    conn_close(&c);

    size_t n = 100 * 1024;
    char *summary = xcalloc(1, n + 1);
    memset(summary, 'r', n);
    for (int i = 0; i < 38; i++) /* 3.8 MiB: within the ring, past the cap */
        publish_check("replayed", CHECK_STATUS_CRITICAL, summary);
    free(summary);
    char *hdr = xasprintf("Last-Event-ID: %s\r\n", last);
    /* A small window: the replay waits in the stream's queue, not in the kernel. */
    conn_open_with(&c, w.port, "/api/v1/stream?types=check", w.viewer, hdr, 4096);
    free(hdr);
    assert_true(metrics_show("\nhale_api_streams 1\n", 2000)); /* replayed: now live */
    publish_check("live-after-replay", CHECK_STATUS_OK, "");
    conn_expect(&c, "\"live-after-replay\"");
    assert_non_null(strstr(c.buf, "\"resumed\":true"));
    assert_false(c.eof);
    conn_close(&c);
}

static void test_stream_unknown_or_old_id_resets(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream", w.viewer, "Last-Event-ID: 00000000-1\r\n");
    conn_expect(&c, "event: reset\n");
    assert_non_null(strstr(c.buf, "\"resumed\":false"));
    assert_non_null(strstr(c.buf, "restarted"));
    char id[API__EVENT_ID_MAX];
    hello_id(&c, id);
    /* The reset carries the current id, so the next reconnect resumes from it. */
    char *want = xasprintf("id: %s\nevent: reset\n", id);
    assert_non_null(strstr(c.buf, want));
    free(want);
    conn_close(&c);

    /* An id of this run that the ring no longer holds. */
    for (int i = 0; i < API_STREAM_RING_EVENTS + 2; i++)
        publish_check("flood", CHECK_STATUS_OK, "");
    char old[API__EVENT_ID_MAX + 32];
    snprintf(old, sizeof(old), "Last-Event-ID: %.*s-1\r\n", 8, id);
    conn_open(&c, w.port, "/api/v1/stream", w.viewer, old);
    conn_expect(&c, "event: reset\n");
    assert_non_null(strstr(c.buf, "more changes happened since"));
    assert_null(strstr(c.buf, "flood"));
    conn_close(&c);
}

static void test_stream_stop_ends_streams(void **state)
{
    (void)state;
    struct api_server *s = server_start(5000);
    struct conn a, b;
    conn_open(&a, api_server_port(s), "/api/v1/stream", w.viewer, NULL);
    conn_open(&b, api_server_port(s), "/api/v1/stream?types=check", w.viewer, NULL);
    conn_expect(&a, "event: hello\n");
    conn_expect(&b, "event: hello\n");
    /* libmicrohttpd refuses to stop with suspended connections: stop must resume them. */
    run_on_loop(stop_on_loop, s);
    assert_true(conn_closed(&a, 5000));
    assert_true(conn_closed(&b, 5000));
    assert_non_null(strstr(a.buf, ": the server is going away: reconnect\n\n"));
    assert_int_equal(api_server_inflight(s), 0);
    run_on_loop(server_free_on_loop, s);
    conn_close(&a);
    conn_close(&b);
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
    api_server_drain(arg, 60000, on_drained, NULL);
}

static void test_stream_drain_does_not_wait_for_streams(void **state)
{
    (void)state;
    struct api_server *s = server_start(5000);
    struct conn c;
    conn_open(&c, api_server_port(s), "/api/v1/stream", w.viewer, NULL);
    conn_expect(&c, "event: hello\n");
    atomic_store(&drained, false);
    run_on_loop(drain_on_loop, s); /* a minute, unless the stream ends */
    for (int i = 0; i < 500 && !atomic_load(&drained); i++)
        usleep(10000);
    assert_true(atomic_load(&drained));
    assert_true(conn_closed(&c, 5000));
    conn_close(&c);
}

static void test_stream_slow_client_is_cut_not_buffered(void **state)
{
    (void)state;
    struct conn slow, fast;
    /* A small window: the kernel holds little of what the client never reads. */
    conn_connect(&slow, w.port, 4096);
    char *req = xasprintf("GET /api/v1/stream HTTP/1.1\r\nHost: x\r\n"
                          "Authorization: Bearer %s\r\n\r\n",
                          w.viewer);
    send(slow.fd, req, strlen(req), MSG_NOSIGNAL);
    free(req);
    conn_open(&fast, w.port, "/api/v1/stream?types=incident", w.viewer, NULL);
    conn_expect(&fast, "event: hello\n");
    assert_true(metrics_show("\nhale_api_streams 2\n", 2000));

    /* 8 MiB of changes, far past the 1 MiB a stream may have waiting. */
    char *summary = xcalloc(1, 64 * 1024 + 1);
    memset(summary, 's', 64 * 1024);
    for (int i = 0; i < 128; i++)
        publish_check("big", CHECK_STATUS_CRITICAL, summary);
    free(summary);
    assert_true(metrics_show("\nhale_api_streams_cut_total{reason=\"slow\"} 1\n", 5000));
    /* The server closes the connection, if only at its timeout; the other stream lives on. */
    publish_incident(INCIDENT_NEW);
    conn_expect(&fast, "event: incident\n");
    conn_close(&slow);
    conn_close(&fast);
    assert_true(metrics_show("\nhale_api_streams 0\n", 5000));
}

static void test_stream_one_huge_message_still_arrives(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream?types=check", w.viewer, NULL);
    conn_expect(&c, "event: hello\n");
    size_t n = API_STREAM_QUEUE_MAX + API_STREAM_QUEUE_MAX / 2;
    char *summary = xcalloc(1, n + 1);
    memset(summary, 'h', n);
    publish_check("huge", CHECK_STATUS_CRITICAL, summary);
    publish_check("after-huge", CHECK_STATUS_OK, "");
    free(summary);
    conn_expect(&c, "\"after-huge\"");
    assert_non_null(strstr(c.buf, "\"check\":\"huge\""));
    assert_false(c.eof);
    conn_close(&c);
}

static void test_stream_revoked_token_ends_its_streams(void **state)
{
    (void)state;
    char secret[AUTH_SECRET_MAX];
    make_token("temp", AUTH_ROLE_VIEWER, secret);
    struct conn c;
    conn_open(&c, w.port, "/api/v1/stream", secret, NULL);
    conn_expect(&c, "event: hello\n");
    struct err e = {0};
    assert_int_equal(auth_token_revoke(w.tokens_path, "temp", &e), 0);
    conn_expect(&c, ": the token was revoked\n\n");
    assert_true(conn_closed(&c, 5000));
    conn_close(&c);
    assert_true(metrics_show("\nhale_api_streams_cut_total{reason=\"revoked\"} 1\n", 2000));
}

static void test_stream_per_client_limit(void **state)
{
    (void)state;
    struct conn c[API_STREAMS_PER_CLIENT + 1];
    for (unsigned i = 0; i < API_STREAMS_PER_CLIENT; i++) {
        conn_open(&c[i], w.port, "/api/v1/stream", w.viewer, NULL);
        conn_expect(&c[i], "event: hello\n");
    }
    struct conn extra;
    conn_open(&extra, w.port, "/api/v1/stream", w.viewer, NULL);
    conn_expect(&extra, "\"error\":\"unavailable\"");
    assert_non_null(strstr(extra.buf, "HTTP/1.1 503"));
    assert_non_null(strstr(extra.buf, "live streams are open from 127.0.0.1"));
    conn_close(&extra);
    /* Ordinary requests from the same address are still served. */
    conn_open(&extra, w.port, "/healthz", w.viewer, NULL);
    conn_expect(&extra, "\"status\":\"ok\"");
    conn_close(&extra);

    /* A client that leaves frees its place. */
    conn_close(&c[0]);
    bool served = false;
    for (int i = 0; i < 50 && !served; i++) {
        conn_open(&extra, w.port, "/api/v1/stream", w.viewer, NULL);
        served = conn_until(&extra, "event: hello\n", 2000);
        conn_close(&extra);
        if (!served)
            usleep(100000);
    }
    assert_true(served);
    for (unsigned i = 1; i < API_STREAMS_PER_CLIENT; i++)
        conn_close(&c[i]);
    assert_true(metrics_show("\nhale_api_streams 0\n", 5000));
}

static void test_stream_idle_outlives_the_request_timeout(void **state)
{
    (void)state;
    /* Idle connections are closed after a second; an idle stream is not. */
    struct api_server *s = server_start(1000);
    struct conn c;
    conn_open(&c, api_server_port(s), "/api/v1/stream", w.viewer, NULL);
    conn_expect(&c, "event: hello\n");
    if (!conn_until(&c, "\n: keep-alive\n", API_STREAM_KEEPALIVE_MS + 5000))
        fail_msg("no keep-alive after %d ms:\n%s", API_STREAM_KEEPALIVE_MS, c.buf);
    assert_false(c.eof);
    publish_check("after-idle", CHECK_STATUS_WARNING, "");
    conn_expect(&c, "\"after-idle\"");
    conn_close(&c);
    run_on_loop(server_free_on_loop, s);
}

int main(void)
{
    /* One group, so the results make one report; the ring's tests do not need the world. */
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_stream_types_parse),
            cmocka_unit_test(test_stream_ring_frames_and_ids),
            cmocka_unit_test(test_stream_ring_resume_or_reset),
            cmocka_unit_test(test_stream_ring_replays_what_was_missed_by_type),
            cmocka_unit_test(test_stream_ring_bounded_by_bytes),
            cmocka_unit_test(test_stream_sends_changes_as_they_happen),
            cmocka_unit_test(test_stream_filters_by_type),
            cmocka_unit_test(test_stream_needs_a_reading_token),
            cmocka_unit_test(test_stream_reconnect_gets_exactly_what_was_missed),
            cmocka_unit_test(test_stream_large_replay_then_live),
            cmocka_unit_test(test_stream_unknown_or_old_id_resets),
            cmocka_unit_test(test_stream_stop_ends_streams),
            cmocka_unit_test(test_stream_drain_does_not_wait_for_streams),
            cmocka_unit_test(test_stream_slow_client_is_cut_not_buffered),
            cmocka_unit_test(test_stream_one_huge_message_still_arrives),
            cmocka_unit_test(test_stream_revoked_token_ends_its_streams),
            cmocka_unit_test(test_stream_per_client_limit),
            cmocka_unit_test(test_stream_idle_outlives_the_request_timeout),
    };
    return cmocka_run_group_tests(tests, world_setup, world_teardown);
}
