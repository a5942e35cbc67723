/* SPDX-License-Identifier: MIT */
/*
 * The curl multi handle of a loop, driven by libuv: libcurl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
 * (CURLMOPT_TIMERFUNCTION); we call curl_multi_socket_action() when they are
 * ready or the timer fires, then hand finished transfers to their owners.
 * Nothing here blocks: name lookups run on libcurl's resolver threads,
 * everything else on the loop thread.
 *
 * curl's sockets sit in an epoll set of our own, itself watched by one
 * uv_poll_t. Each socket is short-lived (one per check run), and a uv_poll_t
 * per socket would cost four system calls to set up and two to take down;
 * here a socket costs one epoll_ctl() per change of what curl waits for.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>
#include <uv.h>

#include "base/alloc.h"
#include "net/net.h"

/* Ready sockets handled per wake-up; the rest wait for the next one. */
#define NET_EVENTS_MAX 64
/* Idle easy handles kept for reuse (each holds curl's 16 KiB buffer). */
#define NET_IDLE_MAX   32

struct net_multi {
    uv_loop_t *uv;
    CURLM *multi;
    uv_timer_t *timer; /* freed by its close callback */
    uv_poll_t *poll;   /* on epfd; frees itself and closes epfd on close */
    int epfd;          /* curl's sockets */
    CURL *idle[NET_IDLE_MAX];
    size_t n_idle;
    unsigned refs;
    unsigned transfers;     /* in flight: only they keep the loop running */
    struct net_multi *next; /* in the registry */
};

/* One transfer in flight; CURLOPT_PRIVATE of its easy handle. */
struct net_transfer {
    struct net_multi *m;
    net_transfer_cb *cb;
    void *data;
};

/*
 * One multi per loop. Loops may live on different threads (tests), so the
 * registry is locked; each multi itself is only touched by its loop thread.
 */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct net_multi *registry;

static void multi_hold(struct net_multi *m)
{
    pthread_mutex_lock(&registry_lock);
    m->refs++;
    pthread_mutex_unlock(&registry_lock);
}

/*
 * The epoll set's watch holds the loop only while a transfer is in flight:
 * a loop run until it has nothing left to do (`hale check`) must end once
 * its transfers have, though the multi lives on until its owners let go.
 */
static void transfers_add(struct net_multi *m, int delta)
{
    m->transfers = (unsigned)((int)m->transfers + delta);
    if (m->transfers == 0)
        uv_unref((uv_handle_t *)m->poll);
    else if (delta > 0 && m->transfers == 1)
        uv_ref((uv_handle_t *)m->poll);
}

static void multi_check_done(struct net_multi *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode result = msg->data.result;
        struct net_transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(m->multi, easy);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        net_transfer_cb *cb = t->cb;
        void *data = t->data;
        free(t);
        transfers_add(m, -1);
        cb(easy, result, data);
        net_multi_unref(m); /* the transfer's */
    }
}

static void multi_on_timer(uv_timer_t *t)
{
    struct net_multi *m = t->data;
    int running;
    /* A callback below may drop the last outside reference: keep m alive. */
    multi_hold(m);
    curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    multi_check_done(m);
    net_multi_unref(m);
}

/*
 * An epoll event's data: the socket and what curl waits for on it, so an
 * error or hang-up wakes curl for what it waits for, as libuv would.
 */
static uint64_t watch_data(curl_socket_t fd, int what)
{
    return (uint32_t)fd | (uint64_t)(uint32_t)what << 32;
}

static int watch_flags(const struct epoll_event *ev)
{
    int what = (int)(ev->data.u64 >> 32), flags = 0;
    if (ev->events & (EPOLLERR | EPOLLHUP)) {
        if (what & CURL_POLL_IN)
            flags |= CURL_CSELECT_IN;
        if (what & CURL_POLL_OUT)
            flags |= CURL_CSELECT_OUT;
    }
    if (ev->events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (ev->events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    return flags;
}

static void multi_on_ready(uv_poll_t *p, int status, int events)
{
    (void)status; /* an error on the set itself: its sockets still say what is wrong */
    (void)events;
    struct net_multi *m = p->data;
    struct epoll_event ev[NET_EVENTS_MAX];
    int n = epoll_wait(m->epfd, ev, NET_EVENTS_MAX, 0), running;
    multi_hold(m);
    /*
     * A socket closed while handling an earlier one may come back under the
     * same number before its stale event here: curl then checks that socket
     * once for nothing, which it is built to take.
     */
    for (int i = 0; i < n; i++)
        curl_multi_socket_action(m->multi, (curl_socket_t)(uint32_t)ev[i].data.u64,
                                 watch_flags(&ev[i]), &running);
    multi_check_done(m);
    net_multi_unref(m);
}

static int multi_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct net_multi *m = userp;
    if (what == CURL_POLL_REMOVE) {
        if (socketp) {
            epoll_ctl(m->epfd, EPOLL_CTL_DEL, fd, NULL);
            curl_multi_assign(m->multi, fd, NULL);
        }
        return 0;
    }
    struct epoll_event ev = {.data.u64 = watch_data(fd, what)};
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    /* socketp marks a socket in the set; try the other way if the kernel disagrees. */
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(m->epfd, op, fd, &ev) < 0 &&
        epoll_ctl(m->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0)
        return -1; /* curl fails the transfer */
    if (!socketp)
        curl_multi_assign(m->multi, fd, m);
    return 0;
}

static int multi_on_timeout_change(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct net_multi *m = userp;
    if (timeout_ms < 0)
        uv_timer_stop(m->timer);
    else /* 0 too: libcurl must not be called back from inside this callback */
        uv_timer_start(m->timer, multi_on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

static void poll_closed(uv_handle_t *h)
{
    struct net_multi *m = h->data;
    close(m->epfd);
    free(h);
    free(m);
}

static struct net_multi *multi_new(uv_loop_t *uv)
{
    struct net_multi *m = xcalloc(1, sizeof(*m));
    m->uv = uv;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        abort(); /* out of memory or a broken TLS library: nothing works then */
    m->multi = curl_multi_init();
    if (!m->multi)
        abort();
    m->timer = xmalloc(sizeof(*m->timer));
    uv_timer_init(uv, m->timer);
    m->timer->data = m;
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    m->poll = xmalloc(sizeof(*m->poll));
    if (m->epfd < 0 || uv_poll_init(uv, m->poll, m->epfd) < 0)
        abort(); /* out of file descriptors at start-up */
    m->poll->data = m;
    uv_poll_start(m->poll, UV_READABLE, multi_on_ready);
    uv_unref((uv_handle_t *)m->poll); /* no transfer yet */
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, multi_on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, multi_on_timeout_change);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

static void multi_free(struct net_multi *m)
{
    while (m->n_idle)
        curl_easy_cleanup(m->idle[--m->n_idle]);
    curl_multi_cleanup(m->multi);
    curl_global_cleanup();
    uv_timer_stop(m->timer);
    uv_close((uv_handle_t *)m->timer, timer_closed);
    uv_close((uv_handle_t *)m->poll, poll_closed); /* frees m */
}

struct net_multi *net_multi_ref(uv_loop_t *uv)
{
    pthread_mutex_lock(&registry_lock);
    struct net_multi *m = registry;
    while (m && m->uv != uv)
        m = m->next;
    if (!m) {
        m = multi_new(uv);
        m->next = registry;
        registry = m;
    }
    m->refs++;
    pthread_mutex_unlock(&registry_lock);
    return m;
}

void net_multi_unref(struct net_multi *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&registry_lock);
    bool last = --m->refs == 0;
    if (last) {
        struct net_multi **pp = &registry;
        while (*pp != m)
            pp = &(*pp)->next;
        *pp = m->next;
    }
    pthread_mutex_unlock(&registry_lock);
    if (last)
        multi_free(m);
}

CURL *net_easy_get(struct net_multi *m)
{
    return m->n_idle ? m->idle[--m->n_idle] : curl_easy_init();
}

void net_easy_put(struct net_multi *m, CURL *easy)
{
    if (!easy)
        return;
    if (m->n_idle == NET_IDLE_MAX) {
        curl_easy_cleanup(easy);
        return;
    }
    curl_easy_reset(easy);
    m->idle[m->n_idle++] = easy;
}

/*
 * curl's own socket() leaves the descriptor open across exec: a command
 * check spawned meanwhile would hold the connection open after curl closed
 * it. Non-blocking from the start, too (curl sets that again anyway).
 */
static curl_socket_t net_open_socket(void *data, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)data;
    (void)purpose;
    int fd = socket(a->family, a->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->protocol);
    return fd < 0 ? CURL_SOCKET_BAD : fd;
}

int net_transfer_start(struct net_multi *m, CURL *easy, net_transfer_cb *cb, void *data,
                       struct err *e)
{
    struct net_transfer *t = xmalloc(sizeof(*t));
    *t = (struct net_transfer){.m = m, .cb = cb, .data = data};
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, net_open_socket);
    CURLMcode rc = curl_multi_add_handle(m->multi, easy);
    if (rc != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
        return err_setf(e, HALE_EINTERNAL, "curl_multi_add_handle: %s", curl_multi_strerror(rc));
    }
    multi_hold(m);
    transfers_add(m, 1);
    return 0;
}

void net_transfer_cancel(CURL *easy)
{
    struct net_transfer *t = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    if (!t)
        return;
    struct net_multi *m = t->m;
    curl_multi_remove_handle(m->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    free(t);
    transfers_add(m, -1);
    net_multi_unref(m);
}
