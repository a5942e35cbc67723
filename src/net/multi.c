/* SPDX-License-Identifier: MIT */
/*
 * The curl multi handle of a loop, driven by libuv: libcurl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to wake it
 * (CURLMOPT_TIMERFUNCTION); we watch them with uv_poll_t and one uv_timer_t
 * and call curl_multi_socket_action() when they fire, then hand finished
 * transfers to their owners. Nothing here blocks: name lookups run on
 * libcurl's resolver threads, everything else on the loop thread.
 */
#include <pthread.h>
#include <stdlib.h>

#include <curl/curl.h>
#include <uv.h>

#include "base/alloc.h"
#include "net/net.h"

struct net_sock;

struct net_multi {
    uv_loop_t *uv;
    CURLM *multi;
    uv_timer_t *timer; /* freed by its close callback */
    unsigned refs;
    struct net_sock *socks; /* watched sockets, to close what curl leaves behind */
    struct net_multi *next; /* in the registry */
};

/* A socket libcurl asked us to watch; freed by its close callback. */
struct net_sock {
    uv_poll_t poll;
    struct net_multi *m;
    curl_socket_t fd;
    struct net_sock *prev, *next;
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
        cb(easy, result, data);
        net_multi_unref(m); /* the transfer's */
    }
}

static void multi_act(struct net_multi *m, curl_socket_t fd, int flags)
{
    int running;
    /* A callback below may drop the last outside reference: keep m alive. */
    multi_hold(m);
    curl_multi_socket_action(m->multi, fd, flags, &running);
    multi_check_done(m);
    net_multi_unref(m);
}

static void multi_on_timer(uv_timer_t *t)
{
    multi_act(t->data, CURL_SOCKET_TIMEOUT, 0);
}

static void multi_on_poll(uv_poll_t *p, int status, int events)
{
    struct net_sock *s = p->data;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    multi_act(s->m, s->fd, flags);
}

static void sock_closed(uv_handle_t *h)
{
    free(h->data);
}

static void sock_close(struct net_sock *s)
{
    struct net_multi *m = s->m;
    if (s->prev)
        s->prev->next = s->next;
    else
        m->socks = s->next;
    if (s->next)
        s->next->prev = s->prev;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static int multi_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    struct net_multi *m = userp;
    struct net_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(m->multi, fd, NULL);
            sock_close(s);
        }
        return 0;
    }
    if (!s) {
        s = xcalloc(1, sizeof(*s));
        if (uv_poll_init_socket(m->uv, &s->poll, fd) < 0) {
            free(s);
            return -1; /* curl fails the transfer */
        }
        s->m = m;
        s->fd = fd;
        s->poll.data = s;
        s->next = m->socks;
        if (s->next)
            s->next->prev = s;
        m->socks = s;
        curl_multi_assign(m->multi, fd, s);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, multi_on_poll);
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
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, multi_on_socket);
    curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, multi_on_timeout_change);
    curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
    return m;
}

static void multi_free(struct net_multi *m)
{
    curl_multi_cleanup(m->multi);
    curl_global_cleanup();
    while (m->socks)
        sock_close(m->socks);
    uv_timer_stop(m->timer);
    uv_close((uv_handle_t *)m->timer, timer_closed);
    free(m);
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

int net_transfer_start(struct net_multi *m, CURL *easy, net_transfer_cb *cb, void *data,
                       struct err *e)
{
    struct net_transfer *t = xmalloc(sizeof(*t));
    *t = (struct net_transfer){.m = m, .cb = cb, .data = data};
    curl_easy_setopt(easy, CURLOPT_PRIVATE, t);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    CURLMcode rc = curl_multi_add_handle(m->multi, easy);
    if (rc != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
        return err_setf(e, HALE_EINTERNAL, "curl_multi_add_handle: %s", curl_multi_strerror(rc));
    }
    multi_hold(m);
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
    net_multi_unref(m);
}
