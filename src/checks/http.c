/* SPDX-License-Identifier: MIT */
/*
 * The http check kind: one request on the loop, judged the way Monitoring
 * Plugins' check_http judges it: the status against the expected set (any
 * 2xx or 3xx by default), the body against a pattern, the response time
 * and the TLS certificate's days left against their thresholds. Redirects
 * are not followed: a 3xx is an answer. Each run opens a fresh connection,
 * so the time measured includes it, and ends it with a reset once the
 * answer is in. Plain http:// requests are made by http_wire.c; the rest
 * (TLS, proxies, credentials) through libcurl's multi interface (src/net/).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <curl/curl.h>
#include <pcre2.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "checks/internal.h"
#include "net/net.h"
#include "version.h"

/* Slack after the run's timeout for curl's own, a backstop only. */
#define HTTP_BACKSTOP_MS 1000

/* A run through libcurl. */
struct http_probe {
    struct check_run *run;
    const struct config_check_http *cfg;
    struct net_multi *m;
    CURL *easy;
    struct http_answer answer;
    char errbuf[CURL_ERROR_SIZE];
};

/* What a check keeps between runs (its host's kind_state): one client or the other. */
struct http_host {
    struct http_wire_target *wire; /* plain http, without libcurl; or NULL */
    struct net_multi *m;
    struct curl_slist *headers; /* the request's, built once */
};

static int http_header_add(struct http_host *h, const char *line)
{
    struct curl_slist *l = curl_slist_append(h->headers, line);
    if (!l)
        return -ENOMEM;
    h->headers = l;
    return 0;
}

static void http_probe_free(struct http_probe *p)
{
    net_easy_put(p->m, p->easy);
    net_multi_unref(p->m);
    free(p->answer.failure);
    free(p->answer.body.data);
    free(p);
}

bool http_body_add(struct http_body *b, const char *data, size_t n)
{
    size_t room = HTTP_BODY_MAX - b->len;
    size_t take = n < room ? n : room;
    if (take && b->keep) {
        if (b->len + take > b->cap) {
            size_t cap = b->cap ? b->cap : 4096;
            while (cap < b->len + take)
                cap *= 2;
            b->cap = cap < HTTP_BODY_MAX ? cap : HTTP_BODY_MAX;
            b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, data, take);
    }
    b->len += take;
    if (take < n)
        b->cut = true;
    return take == n;
}

static size_t http_on_body(char *data, size_t size, size_t n, void *userp)
{
    struct http_probe *p = userp;
    /* Short of size * n, curl stops the transfer with CURLE_WRITE_ERROR. */
    return http_body_add(&p->answer.body, data, size * n) ? size * n : 0;
}

static size_t http_on_header(char *data, size_t size, size_t n, void *userp)
{
    struct http_probe *p = userp;
    char *line = p->answer.status_line;
    size_t len = size * n;
    /* Each response's status line (after a 100 Continue, the final one). */
    if (len > 5 && memcmp(data, "HTTP/", 5) == 0) {
        while (len && (data[len - 1] == '\r' || data[len - 1] == '\n'))
            len--;
        if (len >= sizeof(p->answer.status_line))
            len = sizeof(p->answer.status_line) - 1;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)data[i];
            line[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        line[len] = '\0';
    }
    return size * n;
}

static bool http_status_is_expected(const struct config_check_http *cfg, long code)
{
    const struct config_uintv *v = &cfg->expect.status;
    if (v->n == 0)
        return code >= 200 && code < 400;
    for (size_t i = 0; i < v->n; i++)
        if (v->v[i] == (unsigned long)code)
            return true;
    return false;
}

static void http_expected_statuses(const struct config_check_http *cfg, struct strbuf *b)
{
    const struct config_uintv *v = &cfg->expect.status;
    if (v->n == 0) {
        strbuf_adds(b, "2xx or 3xx");
        return;
    }
    for (size_t i = 0; i < v->n; i++)
        strbuf_addf(b, "%s%u", i ? ", " : "", v->v[i]);
}

/* A sample's alert range "0:limit": above limit alerts. */
static struct units_range http_range_above(double limit)
{
    return (struct units_range){.start = 0, .end = limit, .inside = false};
}

/* A range "limit:": below limit alerts. */
static struct units_range http_range_below(double limit)
{
    return (struct units_range){.start = limit, .end = INFINITY, .inside = false};
}

/* Raises *status to s (UNKNOWN is not worse than CRITICAL here). */
static void http_raise(enum check_status *status, enum check_status s)
{
    if (s > *status && s != CHECK_STATUS_UNKNOWN)
        *status = s;
}

/* Sets the thresholds of the sample added last. */
static void http_sample_limits(struct check_run *run, bool has_warn, struct units_range warn,
                               bool has_crit, struct units_range crit)
{
    struct check_sample *s = &run->obs.samples[run->obs.n_samples - 1];
    s->has_warn = has_warn;
    s->warn = warn;
    s->has_crit = has_crit;
    s->crit = crit;
}

/* Why a transfer failed, in words people search for. */
static char *http_describe_failure(struct http_probe *p, CURLcode result)
{
    long os_errno = 0;
    curl_easy_getinfo(p->easy, CURLINFO_OS_ERRNO, &os_errno);
    switch (result) {
    case CURLE_COULDNT_CONNECT:
        return xasprintf("%s: %s", p->cfg->url,
                         os_errno ? uv_strerror(-(int)os_errno) : "cannot connect");
    case CURLE_COULDNT_RESOLVE_HOST:
        return xasprintf("%s: cannot resolve the host", p->cfg->url);
    case CURLE_OPERATION_TIMEDOUT:
        return xasprintf("%s: no answer in time", p->cfg->url);
    default:
        return xasprintf("%s: %s", p->cfg->url,
                         p->errbuf[0] ? p->errbuf : curl_easy_strerror(result));
    }
}

/* What curl got, as an answer to judge. */
static void http_probe_answer(struct http_probe *p, CURLcode result)
{
    struct http_answer *a = &p->answer;
    if (result != CURLE_OK && !(result == CURLE_WRITE_ERROR && a->body.cut)) {
        a->failure = http_describe_failure(p, result);
        return;
    }
    curl_off_t total_us = 0, size = 0;
    curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &a->code);
    curl_easy_getinfo(p->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    curl_easy_getinfo(p->easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    a->seconds = (double)total_us / 1e6;
    a->size = (double)size;
    const struct config_check_http *cfg = p->cfg;
    if (cfg->cert_days_warn != CONFIG_UNSET || cfg->cert_days_crit != CONFIG_UNSET)
        a->has_cert = net_tls_cert_days_left(p->easy, &a->cert_days) == 0;
}

static void http_judge(struct check_run *run, const struct http_answer *a)
{
    const struct config_check_http *cfg = &run->cfg->u.http;
    if (a->failure) {
        check_run_finish_summary(run, CHECK_STATUS_CRITICAL, xstrdup(a->failure));
        return;
    }
    struct strbuf issues, b;
    strbuf_init(&issues, 0);
    strbuf_init(&b, 0);
    enum check_status status = CHECK_STATUS_OK;
    long code = a->code;
    double took = a->seconds;

    check_run_sample(run, "time", took, "s");
    bool lw = cfg->latency_warn_ms != CONFIG_UNSET64, lc = cfg->latency_crit_ms != CONFIG_UNSET64;
    struct units_range rw = http_range_above(lw ? (double)cfg->latency_warn_ms / 1000 : 0);
    struct units_range rc = http_range_above(lc ? (double)cfg->latency_crit_ms / 1000 : 0);
    http_sample_limits(run, lw, rw, lc, rc);
    /* Facts of the answer, not a trend: no history series (only `time` has one). */
    check_run_sample_no_history(run, "size", a->size, "B");
    check_run_sample_no_history(run, "status", (double)code, "");

    if (!http_status_is_expected(cfg, code)) {
        status = CHECK_STATUS_CRITICAL;
        strbuf_addf(&issues, "HTTP %ld (expected ", code);
        http_expected_statuses(cfg, &issues);
        strbuf_adds(&issues, "); ");
    } else if (cfg->expect.body) {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(cfg->expect.body->code, NULL);
        if (!md)
            abort();
        const char *body = a->body.data ? a->body.data : "";
        int rc_match =
                pcre2_match(cfg->expect.body->code, (PCRE2_SPTR)body, a->body.len, 0, 0, md, NULL);
        pcre2_match_data_free(md);
        if (rc_match < 0) {
            status = CHECK_STATUS_CRITICAL;
            strbuf_addf(&issues, "body does not match /%s/%s; ", cfg->expect.body->pattern,
                        a->body.cut ? " in its first 1 MiB" : "");
        }
    }

    if (lc && units_range_alerts(&rc, took)) {
        http_raise(&status, CHECK_STATUS_CRITICAL);
        strbuf_addf(&issues, "response time %.3f s over %.3f s; ", took, rc.end);
    } else if (lw && units_range_alerts(&rw, took)) {
        http_raise(&status, CHECK_STATUS_WARNING);
        strbuf_addf(&issues, "response time %.3f s over %.3f s; ", took, rw.end);
    }

    bool cw = cfg->cert_days_warn != CONFIG_UNSET, cc = cfg->cert_days_crit != CONFIG_UNSET;
    if (cw || cc) {
        double days = a->cert_days;
        struct units_range dw = http_range_below(cw ? cfg->cert_days_warn : 0);
        struct units_range dc = http_range_below(cc ? cfg->cert_days_crit : 0);
        if (!a->has_cert) {
            http_raise(&status, CHECK_STATUS_CRITICAL);
            strbuf_adds(&issues, "no TLS certificate to check; ");
        } else {
            check_run_sample_no_history(run, "cert_days", floor(days), "");
            http_sample_limits(run, cw, dw, cc, dc);
            if (days < 0) {
                http_raise(&status, CHECK_STATUS_CRITICAL);
                strbuf_addf(&issues, "certificate expired %.0f days ago; ", floor(-days));
            } else if ((cc && units_range_alerts(&dc, days)) ||
                       (cw && units_range_alerts(&dw, days))) {
                http_raise(&status, cc && units_range_alerts(&dc, days) ? CHECK_STATUS_CRITICAL
                                                                        : CHECK_STATUS_WARNING);
                strbuf_addf(&issues, "certificate expires in %.0f days; ", floor(days));
            }
        }
    }

    if (a->body.cut)
        check__note(&run->obs, "body cut at %d bytes", HTTP_BODY_MAX);
    strbuf_add(&b, issues.s, issues.len);
    strbuf_addf(&b, "%s - %.0f bytes in %.3f s", a->status_line[0] ? a->status_line : "HTTP",
                a->size, took);
    strbuf_fini(&issues);
    check_run_finish_summary(run, status, strbuf_detach(&b, NULL));
}

/* The run's end, either client's; an aborted run ends so once its socket is closed. */
static void http_finish(struct check_run *run, const struct http_answer *a)
{
    run->kind_data = NULL;
    if (run->aborted)
        check_run_finish(run, CHECK_STATUS_CRITICAL, "aborted");
    else
        http_judge(run, a);
}

static void http_on_done(CURL *easy, CURLcode result, void *data)
{
    (void)easy;
    struct http_probe *p = data;
    http_probe_answer(p, result);
    http_finish(p->run, &p->answer);
    http_probe_free(p);
}

static void http_on_wire_done(const struct http_answer *a, void *data)
{
    http_finish(data, a);
}

/*
 * Once the answer is in, the connection ends with a reset, as the tcp kind
 * ends its own: no FIN exchange and no TIME_WAIT left on either side, at
 * one connection per check and run.
 */
static int http_on_socket(void *data, curl_socket_t fd, curlsocktype purpose)
{
    (void)data;
    (void)purpose;
    struct linger no_linger = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
    return CURL_SOCKOPT_OK;
}

static void http_setup(struct http_probe *p, const struct curl_slist *headers)
{
    const struct config_check_http *cfg = p->cfg;
    CURL *c = p->easy;
    curl_easy_setopt(c, CURLOPT_URL, cfg->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    /* A full handshake every run, certificate included, as a new client sees it. */
    curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(p->run->cfg->timeout_ms + HTTP_BACKSTOP_MS));
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hale/" HALE_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, p);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, p);
    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION, http_on_socket);
    if (cfg->cert_days_warn != CONFIG_UNSET || cfg->cert_days_crit != CONFIG_UNSET)
        curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);

    switch (cfg->method) {
    case CONFIG_HTTP_GET:
        break;
    case CONFIG_HTTP_HEAD:
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        break;
    case CONFIG_HTTP_POST:
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        break;
    default:
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, config_http_method_name(cfg->method));
        break;
    }
    if (cfg->body || cfg->method == CONFIG_HTTP_POST) {
        const char *body = cfg->body ? cfg->body : "";
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (cfg->method == CONFIG_HTTP_GET)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "GET");
    }
    if (headers)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
}

/* run->kind_data: the run's struct http_wire, or its struct http_probe for libcurl. */
static bool http_run_is_wire(const struct check_run *run)
{
    const struct http_host *h = run->host->kind_state;
    return h->wire != NULL;
}

static void http_start_wire(struct check_run *run, const struct http_wire_target *t)
{
    struct http_wire *w =
            http_wire_new(run->uv, t, run->cfg->timeout_ms, run->cfg->u.http.expect.body != NULL,
                          http_on_wire_done, run);
    run->kind_data = w;
    http_wire_start(w); /* may finish the run at once */
}

static void http_start(struct check_run *run)
{
    const struct http_host *h = run->host->kind_state;
    if (h->wire) {
        http_start_wire(run, h->wire);
        return;
    }
    struct http_probe *p = xcalloc(1, sizeof(*p));
    struct err e = {0};
    p->run = run;
    p->cfg = &run->cfg->u.http;
    p->answer.body.keep = p->cfg->expect.body != NULL;
    p->m = net_multi_ref(run->uv);
    p->easy = net_easy_get(p->m);
    if (!p->easy) {
        http_probe_free(p);
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "out of memory for a curl handle");
        return;
    }
    http_setup(p, h->headers);
    if (net_transfer_start(p->m, p->easy, http_on_done, p, &e) < 0) {
        http_probe_free(p);
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "%s", e.msg);
        return;
    }
    run->kind_data = p;
}

static void http_abort(struct check_run *run)
{
    if (!run->kind_data)
        return;
    char progress[256];
    free(run->obs.long_output);
    if (http_run_is_wire(run)) {
        struct http_wire *w = run->kind_data;
        run->obs.long_output = xstrdup(http_wire_progress(w, progress, sizeof(progress)));
        http_wire_abort(w); /* the run ends once the socket is closed */
        return;
    }
    struct http_probe *p = run->kind_data;
    run->obs.long_output = p->answer.status_line[0]
                                   ? xasprintf("%s; %zu bytes of body so far",
                                               p->answer.status_line, p->answer.body.len)
                                   : xasprintf("no answer from %s yet", p->cfg->url);
    net_transfer_cancel(p->easy);
    http_probe_free(p);
    run->kind_data = NULL;
    check_run_finish(run, CHECK_STATUS_CRITICAL, "aborted");
}

static void http_detach(struct check_host *host)
{
    struct http_host *h = host->kind_state;
    if (!h)
        return;
    http_wire_target_free(h->wire);
    net_multi_unref(h->m);
    curl_slist_free_all(h->headers);
    free(h);
    host->kind_state = NULL;
}

/*
 * Builds the request once for every run: whole, for a plain http:// URL
 * (http_wire.c); otherwise its headers for libcurl, and holds the loop's
 * multi handle between runs, so runs share its resolver cache.
 */
static int http_attach(struct check_host *host, struct err *e)
{
    const struct config_check_http *cfg = &host->cfg->u.http;
    struct http_host *h = xcalloc(1, sizeof(*h));
    host->kind_state = h;
    h->wire = http_wire_target_new(cfg);
    if (h->wire)
        return 0;
    h->m = net_multi_ref(host->uv);
    /* The server need not keep the connection for a next request. */
    bool own_connection = false;
    for (size_t i = 0; i < cfg->headers.n; i++)
        own_connection |= strcasecmp(cfg->headers.v[i].name, "Connection") == 0;
    if (!own_connection && http_header_add(h, "Connection: close") < 0)
        goto oom;
    for (size_t i = 0; i < cfg->headers.n; i++) {
        const struct config_kv *kv = &cfg->headers.v[i];
        /* "Name;" is curl's way to send a header with an empty value. */
        char *line =
                *kv->value ? xasprintf("%s: %s", kv->name, kv->value) : xasprintf("%s;", kv->name);
        int r = http_header_add(h, line);
        free(line);
        if (r < 0)
            goto oom;
    }
    return 0;
oom:
    http_detach(host);
    return err_setf(e, -ENOMEM, "out of memory for the request headers");
}

const struct check_kind check_kind_http = {
        .type = CONFIG_CHECK_HTTP,
        .attach = http_attach,
        .detach = http_detach,
        .start = http_start,
        .abort = http_abort,
};
