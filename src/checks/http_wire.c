/* SPDX-License-Identifier: MIT */
/*
 * The http kind's own client for plain http:// URLs: one HTTP/1.1 request
 * on a libuv TCP handle, its answer read by Debian's http-parser. libcurl
 * spends more per transfer (parsing the URL, setting up a connection
 * object, storing every header, some fifty allocations) than a whole check
 * may cost at 1,000 checks a second (docs/benchmarks.md); here the request
 * is built once per check and a run is a connect, a write and the reads.
 * What needs more than that stays with libcurl (http_wire_target_new()
 * says): TLS, a proxy from the environment, credentials in the URL, a body
 * sent in chunks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <http_parser.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "checks/internal.h"
#include "version.h"

struct http_wire_target {
    const char *url; /* the check's, for messages */
    char *host;      /* as in the URL, without an IPv6 address' brackets */
    unsigned port;
    char *request; /* the whole request, body included */
    size_t request_len;
    bool head; /* a HEAD request: the answer has no body */
};

struct http_wire {
    const struct http_wire_target *t;
    http_wire_cb *cb;
    void *data;
    struct check_conn conn;
    uv_write_t write;
    struct http_reader reader;
    struct http_answer answer;
    bool ending;
    uint64_t started_ns;
};

/*
 * What a read brings, until the reader has taken it: one buffer for every
 * exchange of the thread (loop), not 16 KiB for each one in flight.
 */
static _Thread_local char wire_read_buf[16384];

/* ---- the target, once per check ---- */

static bool field_has(const struct http_parser_url *u, enum http_parser_url_fields f)
{
    return u->field_set & (1u << f);
}

static const char *field_at(const char *url, const struct http_parser_url *u,
                            enum http_parser_url_fields f, size_t *len)
{
    *len = field_has(u, f) ? u->field_data[f].len : 0;
    return url + u->field_data[f].off;
}

/* Visible ASCII only: anything else goes to libcurl, which encodes or refuses it. */
static bool is_plain(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return false;
    return true;
}

/* A proxy libcurl would use for an http:// URL (it alone knows no_proxy). */
static bool proxy_in_environment(void)
{
    static const char *const names[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return true;
    }
    return false;
}

static bool has_header(const struct config_check_http *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->headers.n; i++)
        if (strcasecmp(cfg->headers.v[i].name, name) == 0)
            return true;
    return false;
}

/* The request libcurl would send for cfg: its headers, then the check's, which replace them. */
static void build_request(struct http_wire_target *t, const struct config_check_http *cfg,
                          const char *target, size_t target_len, bool bracket)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "%s %.*s HTTP/1.1\r\n", config_http_method_name(cfg->method), (int)target_len,
                target);
    if (!has_header(cfg, "Host")) {
        strbuf_addf(&b, bracket ? "Host: [%s]" : "Host: %s", t->host);
        if (t->port != 80)
            strbuf_addf(&b, ":%u", t->port);
        strbuf_adds(&b, "\r\n");
    }
    if (!has_header(cfg, "User-Agent"))
        strbuf_adds(&b, "User-Agent: hale/" HALE_VERSION "\r\n");
    if (!has_header(cfg, "Accept"))
        strbuf_adds(&b, "Accept: */*\r\n");
    if (!has_header(cfg, "Connection"))
        strbuf_adds(&b, "Connection: close\r\n");
    /* As libcurl: a HEAD goes without the body configured. */
    bool body = !t->head && (cfg->body || cfg->method == CONFIG_HTTP_POST);
    if (body) {
        if (!has_header(cfg, "Content-Length"))
            strbuf_addf(&b, "Content-Length: %zu\r\n", cfg->body ? strlen(cfg->body) : 0);
        if (!has_header(cfg, "Content-Type"))
            strbuf_adds(&b, "Content-Type: application/x-www-form-urlencoded\r\n");
    }
    for (size_t i = 0; i < cfg->headers.n; i++) {
        const struct config_kv *kv = &cfg->headers.v[i];
        strbuf_addf(&b, "%s:%s%s\r\n", kv->name, *kv->value ? " " : "", kv->value);
    }
    strbuf_adds(&b, "\r\n");
    if (body && cfg->body)
        strbuf_adds(&b, cfg->body);
    t->request = strbuf_detach(&b, &t->request_len);
}

struct http_wire_target *http_wire_target_new(const struct config_check_http *cfg)
{
    const char *url = cfg->url;
    struct http_parser_url u;
    http_parser_url_init(&u);
    /* A Transfer-Encoding asked for: libcurl sends the body in chunks. */
    if (strncasecmp(url, "http://", 7) != 0 || proxy_in_environment() ||
        has_header(cfg, "Transfer-Encoding") ||
        http_parser_parse_url(url, strlen(url), 0, &u) != 0 || field_has(&u, UF_USERINFO) ||
        !field_has(&u, UF_HOST) || (field_has(&u, UF_PORT) && u.port == 0))
        return NULL;
    size_t host_len, path_len, query_len;
    const char *host = field_at(url, &u, UF_HOST, &host_len);
    const char *path = field_at(url, &u, UF_PATH, &path_len);
    const char *query = field_at(url, &u, UF_QUERY, &query_len);
    /* A scope (fe80::1%eth0) or odd bytes: libcurl's to handle. */
    if (!host_len || !is_plain(host, host_len) || memchr(host, '%', host_len) ||
        !is_plain(path, path_len) || !is_plain(query, query_len))
        return NULL;

    struct http_wire_target *t = xcalloc(1, sizeof(*t));
    t->url = url;
    t->host = xstrndup(host, host_len);
    t->port = field_has(&u, UF_PORT) ? u.port : 80;
    t->head = cfg->method == CONFIG_HTTP_HEAD;
    struct strbuf target;
    strbuf_init(&target, 0);
    if (path_len)
        strbuf_add(&target, path, path_len);
    else
        strbuf_adds(&target, "/");
    if (field_has(&u, UF_QUERY)) {
        strbuf_adds(&target, "?");
        strbuf_add(&target, query, query_len);
    }
    build_request(t, cfg, target.s, target.len, host > url && host[-1] == '[');
    strbuf_fini(&target);
    return t;
}

void http_wire_target_free(struct http_wire_target *t)
{
    if (!t)
        return;
    free(t->host);
    free(t->request);
    free(t);
}

/* ---- the answer, as it arrives ---- */

static int on_status(http_parser *hp, const char *at, size_t len)
{
    struct http_reader *r = hp->data;
    char *line = r->answer->status_line;
    size_t have = strlen(line), room = sizeof(r->answer->status_line) - 1;
    if (!have) /* the reason may come in pieces: the start once */
        have = (size_t)snprintf(line, room + 1, "HTTP/%u.%u %u ", hp->http_major, hp->http_minor,
                                hp->status_code);
    for (size_t i = 0; i < len && have < room; i++) {
        unsigned char c = (unsigned char)at[i];
        line[have++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    line[have] = '\0';
    return 0;
}

static int on_headers_complete(http_parser *hp)
{
    struct http_reader *r = hp->data;
    r->answer->code = hp->status_code;
    char *line = r->answer->status_line;
    if (!line[0]) /* no reason phrase at all */
        on_status(hp, "", 0);
    size_t len = strlen(line);
    while (len && line[len - 1] == ' ')
        line[--len] = '\0';
    /* These answers have no body, whatever Content-Length says. */
    unsigned code = hp->status_code;
    return r->head || code / 100 == 1 || code == 204 || code == 304 ? 1 : 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
    struct http_reader *r = hp->data;
    return http_body_add(&r->answer->body, at, len) ? 0 : -1;
}

static int on_message_complete(http_parser *hp)
{
    struct http_reader *r = hp->data;
    /* Interim answers (100 Continue, 103 Early Hints) come before the final one; 101 ends it all.
     */
    if (hp->status_code / 100 != 1 || hp->status_code == 101) {
        r->complete = true;
        return -1; /* stops the parser: nothing after the answer matters */
    }
    r->answer->status_line[0] = '\0';
    r->answer->body.len = 0;
    return 0;
}

static const http_parser_settings reader_settings = {
        .on_status = on_status,
        .on_headers_complete = on_headers_complete,
        .on_body = on_body,
        .on_message_complete = on_message_complete,
};

void http_reader_init(struct http_reader *r, struct http_answer *a, bool head)
{
    *r = (struct http_reader){.answer = a, .head = head};
    http_parser_init(&r->parser, HTTP_RESPONSE);
    r->parser.data = r;
    /* What libcurl takes too: a length beside chunks (chunks win), odd bytes in a header value. */
    r->parser.allow_chunked_length = 1;
    r->parser.lenient_http_headers = 1;
}

int http_reader_feed(struct http_reader *r, const char *data, size_t len, char *why,
                     size_t why_size)
{
    size_t used = http_parser_execute(&r->parser, &reader_settings, data, len);
    if (r->complete || r->answer->body.cut)
        return 1;
    enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
    if (len == 0 && (r->parser.nread || r->answer->status_line[0]))
        snprintf(why, why_size, "the server closed the connection before the end of its answer");
    else if (len == 0)
        snprintf(why, why_size, "the server closed the connection without answering");
    else if (e != HPE_OK)
        snprintf(why, why_size, "invalid HTTP answer: %s", http_errno_description(e));
    else if (used < len)
        snprintf(why, why_size, "invalid HTTP answer");
    else
        return 0;
    return -1;
}

/* ---- one exchange ---- */

static void wire_on_closed(struct check_conn *c)
{
    struct http_wire *w = c->data;
    w->cb(&w->answer, w->data);
    check_conn_fini(&w->conn);
    free(w->answer.failure);
    free(w->answer.body.data);
    free(w);
}

/* Ends the exchange: with failure NULL the answer is whole (or cut at the body limit). */
static void wire_end(struct http_wire *w, const char *failure)
{
    if (w->ending)
        return;
    w->ending = true;
    /* In microseconds, as libcurl measures. */
    w->answer.seconds = (double)((clock_mono_ns() - w->started_ns) / 1000) / 1e6;
    w->answer.size = (double)w->answer.body.len;
    if (failure)
        w->answer.failure = xasprintf("%s: %s", w->t->url, failure);
    check_conn_end(&w->conn);
}

static void wire_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    (void)h;
    *buf = uv_buf_init(wire_read_buf, sizeof(wire_read_buf));
}

static void wire_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    const struct check_conn *c = s->data;
    struct http_wire *w = c->data;
    if (w->ending || nread == 0)
        return;
    if (nread < 0 && nread != UV_EOF) {
        wire_end(w, uv_strerror((int)nread));
        return;
    }
    char why[160];
    int r = http_reader_feed(&w->reader, nread > 0 ? buf->base : NULL,
                             nread > 0 ? (size_t)nread : 0, why, sizeof(why));
    if (r != 0)
        wire_end(w, r > 0 ? NULL : why);
}

static void wire_on_written(uv_write_t *req, int status)
{
    struct http_wire *w = req->data;
    if (!w->ending && status < 0)
        wire_end(w, uv_strerror(status));
}

static void wire_on_connect(struct check_conn *c, int status)
{
    struct http_wire *w = c->data;
    if (status < 0) {
        wire_end(w, c->unresolved ? "cannot resolve the host" : uv_strerror(status));
        return;
    }
    uv_buf_t b = uv_buf_init(w->t->request, (unsigned)w->t->request_len);
    w->write.data = w;
    int r = uv_write(&w->write, (uv_stream_t *)c->tcp, &b, 1, wire_on_written);
    if (r == 0)
        r = uv_read_start((uv_stream_t *)c->tcp, wire_on_alloc, wire_on_read);
    if (r < 0)
        wire_end(w, uv_strerror(r));
}

struct http_wire *http_wire_new(uv_loop_t *uv, const struct http_wire_target *t,
                                uint64_t timeout_ms, bool keep_body, http_wire_cb *cb, void *data)
{
    struct http_wire *w = xcalloc(1, sizeof(*w));
    w->t = t;
    w->cb = cb;
    w->data = data;
    w->answer.body.keep = keep_body;
    http_reader_init(&w->reader, &w->answer, t->head);
    w->conn = (struct check_conn){.uv = uv,
                                  .data = w,
                                  .host = t->host,
                                  .port = t->port,
                                  .timeout_ms = timeout_ms,
                                  .on_connect = wire_on_connect,
                                  .on_closed = wire_on_closed};
    return w;
}

void http_wire_start(struct http_wire *w)
{
    w->started_ns = clock_mono_ns();
    check_conn_start(&w->conn);
}

void http_wire_abort(struct http_wire *w)
{
    wire_end(w, "aborted");
}

const char *http_wire_progress(const struct http_wire *w, char *buf, size_t size)
{
    if (w->conn.resolving)
        snprintf(buf, size, "still resolving %s", w->t->host);
    else if (!w->reader.parser.nread && !w->answer.status_line[0])
        snprintf(buf, size, "no answer from %s yet", w->t->url);
    else
        snprintf(buf, size, "%s; %zu bytes of body so far",
                 w->answer.status_line[0] ? w->answer.status_line : "an answer begun",
                 w->answer.body.len);
    return buf;
}
