/* SPDX-License-Identifier: MIT */
/*
 * The loop of loop.h: a libuv loop plus a cross-thread work queue (a mutex,
 * a FIFO and a uv_async_t: libuv coalesces wake-ups, so one wake-up may run
 * many posts), the signal watchers, and a lag probe: a repeating timer whose
 * late firings are the loop's lag.
 */
#include "loop/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/clock.h"

#define LOOP_LAG_PERIOD_MS 500
#define LOOP_MAX_SIGNALS   8

struct loop_post {
    struct loop_post *next;
    loop_work_fn *fn;
    void *data;
};

struct loop_signal {
    uv_signal_t handle;
    struct loop *loop;
    loop_signal_cb *cb;
    void *data;
};

struct loop {
    uv_loop_t uv;
    uv_async_t wake;
    uv_timer_t lag_timer;
    uint64_t lag_expected_ns;
    double lag_ms, lag_max_ms;
    pthread_mutex_t lock; /* guards head/tail and lag_max_ms */
    struct loop_post *head, *tail;
    /* Loop thread only: whether posts are being run, and what runs after them. */
    bool running_posts;
    struct loop_post *after_head, *after_tail;
    struct loop_signal signals[LOOP_MAX_SIGNALS];
    size_t n_signals;
    bool stopping;
};

static void loop_run_posts(uv_async_t *h)
{
    struct loop *l = h->data;
    pthread_mutex_lock(&l->lock);
    struct loop_post *p = l->head;
    l->head = l->tail = NULL;
    pthread_mutex_unlock(&l->lock);

    l->running_posts = true;
    while (p) {
        struct loop_post *next = p->next;
        p->fn(p->data);
        free(p);
        p = next;
    }
    /* Work done after the posts may ask for more of the same: it runs too. */
    while ((p = l->after_head)) {
        l->after_head = p->next;
        if (!l->after_head)
            l->after_tail = NULL;
        p->fn(p->data);
        free(p);
    }
    l->running_posts = false;
}

static void loop_lag_tick(uv_timer_t *t)
{
    struct loop *l = t->data;
    uint64_t now = clock_mono_ns();
    double lag = now > l->lag_expected_ns ? (double)(now - l->lag_expected_ns) / 1e6 : 0.0;
    l->lag_expected_ns = now + (uint64_t)LOOP_LAG_PERIOD_MS * 1000000u;
    pthread_mutex_lock(&l->lock);
    l->lag_ms = lag;
    if (lag > l->lag_max_ms)
        l->lag_max_ms = lag;
    pthread_mutex_unlock(&l->lock);
}

int loop_new(struct loop **ret_loop)
{
    struct loop *l = xcalloc(1, sizeof(*l));
    int r = uv_loop_init(&l->uv);
    if (r < 0) {
        free(l);
        return r;
    }
    pthread_mutex_init(&l->lock, NULL);
    uv_async_init(&l->uv, &l->wake, loop_run_posts);
    l->wake.data = l;
    uv_timer_init(&l->uv, &l->lag_timer);
    l->lag_timer.data = l;
    l->lag_expected_ns = clock_mono_ns() + (uint64_t)LOOP_LAG_PERIOD_MS * 1000000u;
    uv_timer_start(&l->lag_timer, loop_lag_tick, LOOP_LAG_PERIOD_MS, LOOP_LAG_PERIOD_MS);
    *ret_loop = l;
    return 0;
}

uv_loop_t *loop_uv(struct loop *l)
{
    return &l->uv;
}

void loop_post(struct loop *l, loop_work_fn *fn, void *data)
{
    struct loop_post *p = xmalloc(sizeof(*p));
    p->fn = fn;
    p->data = data;
    p->next = NULL;
    pthread_mutex_lock(&l->lock);
    if (l->tail)
        l->tail->next = p;
    else
        l->head = p;
    l->tail = p;
    pthread_mutex_unlock(&l->lock);
    uv_async_send(&l->wake);
}

void loop_after_posts(struct loop *l, loop_work_fn *fn, void *data)
{
    if (!l->running_posts) {
        loop_post(l, fn, data);
        return;
    }
    struct loop_post *p = xmalloc(sizeof(*p));
    *p = (struct loop_post){.fn = fn, .data = data};
    if (l->after_tail)
        l->after_tail->next = p;
    else
        l->after_head = p;
    l->after_tail = p;
}

static void loop_signal_fire(uv_signal_t *h, int signum)
{
    struct loop_signal *s = h->data;
    s->cb(s->loop, signum, s->data);
}

int loop_on_signal(struct loop *l, int signum, loop_signal_cb *cb, void *data)
{
    if (l->n_signals == LOOP_MAX_SIGNALS)
        return -ENOSPC;
    struct loop_signal *s = &l->signals[l->n_signals];
    int r = uv_signal_init(&l->uv, &s->handle);
    if (r < 0)
        return r;
    s->handle.data = s;
    s->loop = l;
    s->cb = cb;
    s->data = data;
    r = uv_signal_start(&s->handle, loop_signal_fire, signum);
    if (r < 0) {
        uv_close((uv_handle_t *)&s->handle, NULL);
        return r;
    }
    l->n_signals++;
    return 0;
}

int loop_run(struct loop *l)
{
    return uv_run(&l->uv, UV_RUN_DEFAULT);
}

/*
 * Stopping closes the loop's own handles, so uv_run() returns once the
 * daemon's modules have closed theirs. Callers stop every other thread that
 * posts (the HTTP server) first; posts already queued still run, in the
 * wake handle's close callback at the latest.
 */
static void loop_wake_closed(uv_handle_t *h)
{
    loop_run_posts((uv_async_t *)h);
}

void loop_stop(struct loop *l)
{
    if (l->stopping)
        return;
    l->stopping = true;
    for (size_t i = 0; i < l->n_signals; i++)
        uv_close((uv_handle_t *)&l->signals[i].handle, NULL);
    l->n_signals = 0;
    uv_close((uv_handle_t *)&l->lag_timer, NULL);
    uv_close((uv_handle_t *)&l->wake, loop_wake_closed);
}

static void loop_walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    if (!l->stopping)
        loop_stop(l);
    uv_walk(&l->uv, loop_walk_close, NULL);
    uv_run(&l->uv, UV_RUN_DEFAULT);
    uv_loop_close(&l->uv);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

double loop_lag_ms(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    double lag = l->lag_ms;
    pthread_mutex_unlock(&l->lock);
    return lag;
}

double loop_lag_take_max_ms(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    double lag = l->lag_max_ms;
    l->lag_max_ms = 0;
    pthread_mutex_unlock(&l->lock);
    return lag;
}
