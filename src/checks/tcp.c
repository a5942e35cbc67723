/* SPDX-License-Identifier: MIT */
/*
 * The tcp check kind: resolve the host (IPv4 and IPv6, each address tried
 * in turn), connect, optionally send a string and read the answer until it
 * matches the expected pattern. Everything runs on the loop; the runner's
 * timeout bounds the time and TCP_READ_MAX the bytes read. A check only
 * observes: it reports what it saw and closes its socket.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "checks/internal.h"

/* Bytes of answer read at most, as check_tcp's default buffer. */
#define TCP_READ_MAX  4096
/* Bytes of a wrong answer quoted in the summary. */
#define TCP_QUOTE_MAX 64

struct tcp_probe {
    struct check_run *run;
    const struct config_check_tcp *cfg;
    struct check_conn conn;
    char where[CHECK_CONN_WHERE_MAX]; /* the address, once connecting ended */
    uv_write_t write;
    pcre2_match_data *md;
    uint64_t started_ns, connected_ns; /* connected_ns 0 until connected */
    size_t len;
    bool ending;
    enum check_status status;
    char *summary;
    char buf[TCP_READ_MAX];
};

static double seconds_since(uint64_t from_ns)
{
    return (double)(clock_mono_ns() - from_ns) / 1e9;
}

/* The first bytes of what the peer sent, printable, for a summary. */
static char *tcp_quote(const struct tcp_probe *p)
{
    char out[TCP_QUOTE_MAX + 4];
    size_t n = p->len < TCP_QUOTE_MAX ? p->len : TCP_QUOTE_MAX;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p->buf[i];
        out[i] = c >= 0x20 && c < 0x7f ? (char)c : '.';
    }
    out[n] = '\0';
    if (n < p->len)
        memcpy(out + n, "...", 4);
    return xstrdup(out);
}

static void tcp_probe_free(struct tcp_probe *p)
{
    check_conn_fini(&p->conn);
    pcre2_match_data_free(p->md);
    free(p->summary);
    free(p);
}

/* Finishes the run once the connection is over. */
static void tcp_on_closed(struct check_conn *c)
{
    struct tcp_probe *p = c->data;
    struct check_run *run = p->run;
    if (p->connected_ns) {
        check_run_sample(run, "time", seconds_since(p->started_ns), "s");
        /* A part of `time`: no history series of its own. */
        check_run_sample_no_history(run, "connect", (double)(p->connected_ns - p->started_ns) / 1e9,
                                    "s");
    }
    enum check_status status = p->status;
    char *summary = p->summary;
    p->summary = NULL;
    run->kind_data = NULL;
    tcp_probe_free(p);
    check_run_finish_summary(run, status, summary);
}

/* Records the verdict (the first one wins) and winds the probe down. */
static void tcp_end(struct tcp_probe *p, enum check_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void tcp_end(struct tcp_probe *p, enum check_status status, const char *fmt, ...)
{
    if (p->ending)
        return;
    p->ending = true;
    p->status = status;
    va_list ap;
    va_start(ap, fmt);
    p->summary = xvasprintf(fmt, ap);
    va_end(ap);
    check_conn_end(&p->conn);
}

static void tcp_end_ok(struct tcp_probe *p)
{
    double took = seconds_since(p->started_ns);
    if (p->cfg->expect)
        tcp_end(p, CHECK_STATUS_OK, "answer matching /%s/ from %s in %.3f s",
                p->cfg->expect->pattern, p->where, took);
    else
        tcp_end(p, CHECK_STATUS_OK, "connected to %s in %.3f s", p->where, took);
}

static bool tcp_answer_matches(struct tcp_probe *p)
{
    int rc = pcre2_match(p->cfg->expect->code, (PCRE2_SPTR)p->buf, p->len, 0, 0, p->md, NULL);
    return rc >= 0;
}

static void tcp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    const struct check_conn *c = h->data;
    struct tcp_probe *p = c->data;
    *buf = uv_buf_init(p->buf + p->len, (unsigned)(TCP_READ_MAX - p->len));
}

static void tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    const struct check_conn *c = s->data;
    struct tcp_probe *p = c->data;
    if (p->ending || nread == 0)
        return;
    if (nread > 0) {
        p->len += (size_t)nread;
        if (tcp_answer_matches(p)) {
            tcp_end_ok(p);
            return;
        }
        if (p->len < TCP_READ_MAX)
            return;
    }
    char *got = tcp_quote(p);
    if (nread > 0)
        tcp_end(p, CHECK_STATUS_CRITICAL,
                "no answer matching /%s/ in the first %d bytes from %s (got \"%s\")",
                p->cfg->expect->pattern, TCP_READ_MAX, p->where, got);
    else if (nread == UV_EOF)
        tcp_end(p, CHECK_STATUS_CRITICAL,
                "no answer matching /%s/ before %s closed the connection (got \"%s\")",
                p->cfg->expect->pattern, p->where, got);
    else
        tcp_end(p, CHECK_STATUS_CRITICAL, "read from %s: %s", p->where, uv_strerror((int)nread));
    free(got);
}

static void tcp_on_written(uv_write_t *req, int status)
{
    struct tcp_probe *p = req->data;
    if (p->ending)
        return;
    if (status < 0)
        tcp_end(p, CHECK_STATUS_CRITICAL, "send to %s: %s", p->where, uv_strerror(status));
    else if (!p->cfg->expect)
        tcp_end_ok(p);
}

static void tcp_on_connect(struct check_conn *c, int status)
{
    struct tcp_probe *p = c->data;
    check_conn_where(c, p->where, sizeof(p->where));
    if (status < 0) {
        if (c->unresolved)
            tcp_end(p, CHECK_STATUS_CRITICAL, "cannot resolve %s: %s", p->cfg->host,
                    uv_strerror(status));
        else
            tcp_end(p, CHECK_STATUS_CRITICAL, "connect to %s: %s", p->where, uv_strerror(status));
        return;
    }
    p->connected_ns = clock_mono_ns();
    const char *send = p->cfg->send;
    uv_stream_t *stream = (uv_stream_t *)c->tcp;
    if (send && *send) {
        uv_buf_t b = uv_buf_init((char *)(uintptr_t)send, (unsigned)strlen(send));
        p->write.data = p;
        int r = uv_write(&p->write, stream, &b, 1, tcp_on_written);
        if (r < 0) {
            tcp_end(p, CHECK_STATUS_CRITICAL, "send to %s: %s", p->where, uv_strerror(r));
            return;
        }
    }
    if (p->cfg->expect) {
        int r = uv_read_start(stream, tcp_on_alloc, tcp_on_read);
        if (r < 0)
            tcp_end(p, CHECK_STATUS_CRITICAL, "read from %s: %s", p->where, uv_strerror(r));
    } else if (!send || !*send) {
        tcp_end_ok(p);
    }
}

static void tcp_start(struct check_run *run)
{
    struct tcp_probe *p = xcalloc(1, sizeof(*p));
    p->run = run;
    p->cfg = &run->cfg->u.tcp;
    p->started_ns = clock_mono_ns();
    run->kind_data = p;
    if (p->cfg->expect) {
        p->md = pcre2_match_data_create_from_pattern(p->cfg->expect->code, NULL);
        if (!p->md)
            abort(); /* out of memory, as x-allocators do */
    }
    p->conn = (struct check_conn){.uv = run->uv,
                                  .data = p,
                                  .host = p->cfg->host,
                                  .port = p->cfg->port,
                                  .timeout_ms = run->cfg->timeout_ms,
                                  .on_connect = tcp_on_connect,
                                  .on_closed = tcp_on_closed};
    check_conn_start(&p->conn);
}

static void tcp_abort(struct check_run *run)
{
    struct tcp_probe *p = run->kind_data;
    if (!p)
        return;
    /* The runner writes the summary ("timed out after 2s"); say where it stood. */
    check_conn_where(&p->conn, p->where, sizeof(p->where));
    free(run->obs.long_output);
    if (p->conn.resolving) {
        run->obs.long_output = xasprintf("still resolving %s", p->cfg->host);
    } else if (!p->connected_ns) {
        run->obs.long_output = xasprintf("no connection to %s yet", p->where);
    } else if (p->cfg->expect) {
        char *got = tcp_quote(p);
        run->obs.long_output = xasprintf(
                "connected to %s in %.3f s; no answer matching /%s/ (got %zu bytes: \"%s\")",
                p->where, (double)(p->connected_ns - p->started_ns) / 1e9, p->cfg->expect->pattern,
                p->len, got);
        free(got);
    } else {
        run->obs.long_output = xasprintf("connected to %s; sending did not finish", p->where);
    }
    tcp_end(p, CHECK_STATUS_CRITICAL, "aborted");
}

const struct check_kind check_kind_tcp = {
        .type = CONFIG_CHECK_TCP,
        .start = tcp_start,
        .abort = tcp_abort,
};
