/* SPDX-License-Identifier: MIT */
/*
 * The tcp check kind: resolve the host (IPv4 and IPv6, each address tried
 * in turn), connect, optionally send a string and read the answer until it
 * matches the expected pattern. Everything runs on the loop; the runner's
 * timeout bounds the time and TCP_READ_MAX the bytes read. A check only
 * observes: it reports what it saw and closes its socket.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
    uv_getaddrinfo_t gai;
    bool resolving;
    struct addrinfo *addrs, *addr; /* all of them, the one tried now */
    struct addrinfo literal;       /* the host was an address: no resolver needed */
    struct sockaddr_storage literal_sa;
    uv_tcp_t *tcp; /* NULL when closed; freed by its close callback */
    bool closing;
    uv_connect_t connect;
    uv_write_t write;
    int last_error; /* of the last address tried */
    char where[INET6_ADDRSTRLEN + 16];
    pcre2_match_data *md;
    uint64_t started_ns, connected_ns; /* connected_ns 0 until connected */
    size_t len;
    bool ending;
    enum check_status status;
    char *summary;
    char buf[TCP_READ_MAX];
};

static void tcp_try_connect(struct tcp_probe *p);

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
    if (p->addrs)
        uv_freeaddrinfo(p->addrs);
    pcre2_match_data_free(p->md);
    free(p->summary);
    free(p);
}

/* Finishes the run once nothing of the probe is pending any more. */
static void tcp_maybe_finish(struct tcp_probe *p)
{
    if (p->resolving || p->tcp)
        return;
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

static void tcp_on_closed(uv_handle_t *h)
{
    struct tcp_probe *p = h->data;
    free(h);
    p->tcp = NULL;
    p->closing = false;
    if (p->ending) {
        tcp_maybe_finish(p);
        return;
    }
    /* Connecting failed: the next address, if any. */
    p->addr = p->addr->ai_next;
    tcp_try_connect(p);
}

/*
 * A probe closes first, so a plain close leaves its side in TIME_WAIT for a
 * minute: at 1,000 probes a second that is more sockets than there are
 * ephemeral ports. Closing with a reset leaves nothing behind, as health
 * checkers do.
 */
static void tcp_close_without_linger(uv_tcp_t *tcp)
{
    uv_os_fd_t fd;
    struct linger no_linger = {.l_onoff = 1, .l_linger = 0};
    if (uv_fileno((uv_handle_t *)tcp, &fd) == 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
}

static void tcp_close(struct tcp_probe *p)
{
    if (!p->tcp || p->closing)
        return;
    p->closing = true;
    uv_read_stop((uv_stream_t *)p->tcp);
    tcp_close_without_linger(p->tcp);
    uv_close((uv_handle_t *)p->tcp, tcp_on_closed);
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
    tcp_close(p);
    if (p->resolving)
        uv_cancel((uv_req_t *)&p->gai); /* the callback still comes, with UV_EAI_CANCELED */
    tcp_maybe_finish(p);
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
    struct tcp_probe *p = h->data;
    *buf = uv_buf_init(p->buf + p->len, (unsigned)(TCP_READ_MAX - p->len));
}

static void tcp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct tcp_probe *p = s->data;
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

static void tcp_on_connect(uv_connect_t *req, int status)
{
    struct tcp_probe *p = req->data;
    if (p->ending)
        return;
    if (status < 0) {
        p->last_error = status;
        tcp_close(p); /* tcp_on_closed tries the next address */
        return;
    }
    p->connected_ns = clock_mono_ns();
    const char *send = p->cfg->send;
    if (send && *send) {
        uv_buf_t b = uv_buf_init((char *)(uintptr_t)send, (unsigned)strlen(send));
        p->write.data = p;
        int r = uv_write(&p->write, (uv_stream_t *)p->tcp, &b, 1, tcp_on_written);
        if (r < 0) {
            tcp_end(p, CHECK_STATUS_CRITICAL, "send to %s: %s", p->where, uv_strerror(r));
            return;
        }
    }
    if (p->cfg->expect) {
        int r = uv_read_start((uv_stream_t *)p->tcp, tcp_on_alloc, tcp_on_read);
        if (r < 0)
            tcp_end(p, CHECK_STATUS_CRITICAL, "read from %s: %s", p->where, uv_strerror(r));
    } else if (!send || !*send) {
        tcp_end_ok(p);
    }
}

/* Names an address the way people read it: "127.0.0.1 port 80", "::1 port 80". */
static void tcp_describe(struct tcp_probe *p, const struct sockaddr *sa)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof(ip));
    else
        uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof(ip));
    snprintf(p->where, sizeof(p->where), "%s port %u", ip, p->cfg->port);
}

static void tcp_try_connect(struct tcp_probe *p)
{
    if (!p->addr) {
        tcp_end(p, CHECK_STATUS_CRITICAL, "connect to %s: %s", p->where,
                uv_strerror(p->last_error));
        return;
    }
    tcp_describe(p, p->addr->ai_addr);
    p->tcp = xmalloc(sizeof(*p->tcp));
    uv_tcp_init(p->run->uv, p->tcp);
    p->tcp->data = p;
    p->connect.data = p;
    int r = uv_tcp_connect(&p->connect, p->tcp, p->addr->ai_addr, tcp_on_connect);
    if (r < 0) {
        p->last_error = r;
        tcp_close(p);
    }
}

static void tcp_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct tcp_probe *p = req->data;
    p->resolving = false;
    if (p->ending) {
        uv_freeaddrinfo(res);
        tcp_maybe_finish(p);
        return;
    }
    if (status < 0) {
        tcp_end(p, CHECK_STATUS_CRITICAL, "cannot resolve %s: %s", p->cfg->host,
                uv_strerror(status));
        return;
    }
    p->addrs = p->addr = res;
    tcp_try_connect(p);
}

/* Fills p->literal when the configured host is an IPv4 or IPv6 address. */
static bool tcp_literal_address(struct tcp_probe *p)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)&p->literal_sa;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&p->literal_sa;
    int port = (int)p->cfg->port;
    if (uv_ip4_addr(p->cfg->host, port, v4) == 0)
        p->literal.ai_addrlen = sizeof(*v4);
    else if (uv_ip6_addr(p->cfg->host, port, v6) == 0)
        p->literal.ai_addrlen = sizeof(*v6);
    else
        return false;
    p->literal.ai_family = p->literal_sa.ss_family;
    p->literal.ai_socktype = SOCK_STREAM;
    p->literal.ai_addr = (struct sockaddr *)&p->literal_sa;
    return true;
}

static void tcp_start(struct check_run *run)
{
    struct tcp_probe *p = xcalloc(1, sizeof(*p));
    p->run = run;
    p->cfg = &run->cfg->u.tcp;
    p->started_ns = clock_mono_ns();
    run->kind_data = p;
    snprintf(p->where, sizeof(p->where), "%s port %u", p->cfg->host, p->cfg->port);
    if (p->cfg->expect) {
        p->md = pcre2_match_data_create_from_pattern(p->cfg->expect->code, NULL);
        if (!p->md)
            abort(); /* out of memory, as x-allocators do */
    }

    /* A literal address skips the resolver, a thread-pool round trip per run. */
    if (tcp_literal_address(p)) {
        p->addr = &p->literal;
        tcp_try_connect(p);
        return;
    }
    char port[8];
    snprintf(port, sizeof(port), "%u", p->cfg->port);
    struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    p->gai.data = p;
    p->resolving = true;
    int r = uv_getaddrinfo(run->uv, &p->gai, tcp_on_resolved, p->cfg->host, port, &hints);
    if (r < 0) {
        p->resolving = false;
        tcp_end(p, CHECK_STATUS_CRITICAL, "cannot resolve %s: %s", p->cfg->host, uv_strerror(r));
    }
}

static void tcp_abort(struct check_run *run)
{
    struct tcp_probe *p = run->kind_data;
    if (!p)
        return;
    /* The runner writes the summary ("timed out after 2s"); say where it stood. */
    free(run->obs.long_output);
    if (p->resolving) {
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
