/* SPDX-License-Identifier: MIT */
/*
 * The TCP connection of a tcp or http run (internal.h): the host resolved
 * on libuv's thread pool, or not at all when it is an address (a thread
 * pool round trip a run saved), each address tried in turn, and the socket
 * closed with a reset. With more than one address, each gets its share of
 * the time left: a name whose first address is silent (an IPv6 route that
 * goes nowhere) still reaches the next before the run's timeout.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "base/alloc.h"
#include "checks/internal.h"

static void conn_try(struct check_conn *c);

/* Tells the owner the connection is over once nothing of it is pending. */
static void conn_maybe_closed(struct check_conn *c)
{
    if (!c->resolving && !c->tcp && !c->timer)
        c->on_closed(c);
}

static void conn_timer_closed(uv_handle_t *h)
{
    struct check_conn *c = h->data;
    free(h);
    c->timer = NULL;
    conn_maybe_closed(c);
}

static void conn_on_closed(uv_handle_t *h)
{
    struct check_conn *c = h->data;
    free(h);
    c->tcp = NULL;
    c->closing = false;
    if (c->ending) {
        conn_maybe_closed(c);
        return;
    }
    /* Connecting failed: the next address, if any. */
    c->addr = c->addr->ai_next;
    conn_try(c);
}

/*
 * A probe closes first, so a plain close leaves its side in TIME_WAIT for a
 * minute: at 1,000 probes a second that is more sockets than there are
 * ephemeral ports. Closing with a reset leaves nothing behind, as health
 * checkers do.
 */
static void conn_close_socket(struct check_conn *c)
{
    if (!c->tcp || c->closing)
        return;
    c->closing = true;
    uv_os_fd_t fd;
    struct linger no_linger = {.l_onoff = 1, .l_linger = 0};
    if (uv_fileno((uv_handle_t *)c->tcp, &fd) == 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &no_linger, sizeof(no_linger));
    uv_read_stop((uv_stream_t *)c->tcp);
    uv_close((uv_handle_t *)c->tcp, conn_on_closed);
}

static void conn_on_connect(uv_connect_t *req, int status)
{
    struct check_conn *c = req->data;
    if (c->timer)
        uv_timer_stop(c->timer);
    if (c->ending || c->closing) /* canceled: by the end, or by the address' deadline */
        return;
    if (status < 0) {
        c->error = status;
        conn_close_socket(c); /* conn_on_closed tries the next address */
        return;
    }
    c->on_connect(c, 0);
}

/* An address that stays silent gives way to the next at its share of the time left. */
static void conn_on_deadline(uv_timer_t *t)
{
    struct check_conn *c = t->data;
    if (c->ending || !c->tcp || c->closing)
        return;
    c->error = UV_ETIMEDOUT;
    conn_close_socket(c); /* conn_on_closed tries the next address */
}

static void conn_arm_deadline(struct check_conn *c)
{
    uint64_t now = uv_now(c->uv), end = c->started_ms + c->timeout_ms;
    unsigned left = 0;
    for (const struct addrinfo *a = c->addr; a; a = a->ai_next)
        left++;
    if (!c->timer) {
        c->timer = xmalloc(sizeof(*c->timer));
        uv_timer_init(c->uv, c->timer);
        c->timer->data = c;
    }
    uv_timer_start(c->timer, conn_on_deadline, end > now ? (end - now) / left : 0, 0);
}

static void conn_try(struct check_conn *c)
{
    if (!c->addr) {
        c->on_connect(c, c->error);
        return;
    }
    c->tried = c->addr;
    c->tcp = xmalloc(sizeof(*c->tcp));
    uv_tcp_init(c->uv, c->tcp);
    c->tcp->data = c;
    /* As libcurl: a request or a send larger than a segment goes out whole, not after an ACK. */
    uv_tcp_nodelay(c->tcp, 1);
    c->connect.data = c;
    int r = uv_tcp_connect(&c->connect, c->tcp, c->addr->ai_addr, conn_on_connect);
    if (r < 0) {
        c->error = r;
        conn_close_socket(c);
    } else if (c->addr->ai_next && c->timeout_ms) {
        conn_arm_deadline(c);
    }
}

static void conn_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct check_conn *c = req->data;
    c->resolving = false;
    if (c->ending) {
        uv_freeaddrinfo(res);
        conn_maybe_closed(c);
        return;
    }
    if (status < 0) {
        c->error = status;
        c->unresolved = true;
        c->on_connect(c, status);
        return;
    }
    c->addrs = c->addr = res;
    conn_try(c);
}

/* Fills c->literal when the host is an IPv4 or IPv6 address. */
static bool conn_literal(struct check_conn *c)
{
    int port = (int)c->port;
    if (uv_ip4_addr(c->host, port, &c->literal_sa.v4) == 0)
        c->literal.ai_addrlen = sizeof(c->literal_sa.v4);
    else if (uv_ip6_addr(c->host, port, &c->literal_sa.v6) == 0)
        c->literal.ai_addrlen = sizeof(c->literal_sa.v6);
    else
        return false;
    c->literal.ai_family = c->literal_sa.sa.sa_family;
    c->literal.ai_socktype = SOCK_STREAM;
    c->literal.ai_addr = &c->literal_sa.sa;
    return true;
}

void check_conn_start(struct check_conn *c)
{
    uv_update_time(c->uv);
    c->started_ms = uv_now(c->uv);
    if (conn_literal(c)) {
        c->addr = &c->literal;
        conn_try(c);
        return;
    }
    char port[8];
    snprintf(port, sizeof(port), "%u", c->port);
    struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    c->gai.data = c;
    c->resolving = true;
    int r = uv_getaddrinfo(c->uv, &c->gai, conn_on_resolved, c->host, port, &hints);
    if (r < 0) {
        c->resolving = false;
        c->error = r;
        c->unresolved = true;
        c->on_connect(c, r);
    }
}

const char *check_conn_where(const struct check_conn *c, char *buf, size_t size)
{
    if (!c->tried) {
        snprintf(buf, size, "%s port %u", c->host, c->port);
        return buf;
    }
    char ip[INET6_ADDRSTRLEN] = "?";
    const struct sockaddr *sa = c->tried->ai_addr;
    if (sa->sa_family == AF_INET6)
        uv_ip6_name((const struct sockaddr_in6 *)sa, ip, sizeof(ip));
    else
        uv_ip4_name((const struct sockaddr_in *)sa, ip, sizeof(ip));
    snprintf(buf, size, "%s port %u", ip, c->port);
    return buf;
}

void check_conn_end(struct check_conn *c)
{
    if (c->ending)
        return;
    c->ending = true;
    conn_close_socket(c);
    if (c->timer)
        uv_close((uv_handle_t *)c->timer, conn_timer_closed);
    if (c->resolving)
        uv_cancel((uv_req_t *)&c->gai); /* the callback still comes, with UV_EAI_CANCELED */
    conn_maybe_closed(c);
}

void check_conn_fini(struct check_conn *c)
{
    if (c->addrs)
        uv_freeaddrinfo(c->addrs);
    c->addrs = NULL;
}
