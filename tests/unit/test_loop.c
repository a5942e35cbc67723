/* SPDX-License-Identifier: MIT */
/* Unit tests of src/loop: cross-thread posts, signals, stop, lag. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop/loop.h"

#define POSTS_PER_THREAD 5000
#define THREADS          4

struct counter {
    struct loop *loop;
    pthread_t loop_thread;
    int seen[THREADS];
    int out_of_order;
    int total;
    int wrong_thread;
};

struct post {
    struct counter *c;
    int thread;
    int seq;
};

static void count_post(void *data)
{
    struct post *p = data;
    struct counter *c = p->c;
    if (!pthread_equal(pthread_self(), c->loop_thread))
        c->wrong_thread++;
    if (p->seq != c->seen[p->thread])
        c->out_of_order++;
    c->seen[p->thread] = p->seq + 1;
    if (++c->total == THREADS * POSTS_PER_THREAD)
        loop_stop(c->loop);
}

static struct post posts[THREADS][POSTS_PER_THREAD];

static void *poster(void *arg)
{
    struct post *mine = arg;
    for (int i = 0; i < POSTS_PER_THREAD; i++)
        loop_post(mine[i].c->loop, count_post, &mine[i]);
    return NULL;
}

static void test_loop_runs_posts_from_threads_in_order_on_the_loop(void **state)
{
    (void)state;
    struct counter c = {0};
    assert_int_equal(loop_new(&c.loop), 0);
    c.loop_thread = pthread_self();
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < POSTS_PER_THREAD; i++)
            posts[t][i] = (struct post){.c = &c, .thread = t, .seq = i};
        pthread_create(&threads[t], NULL, poster, posts[t]);
    }
    assert_int_equal(loop_run(c.loop), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    assert_int_equal(c.total, THREADS * POSTS_PER_THREAD);
    assert_int_equal(c.out_of_order, 0);
    assert_int_equal(c.wrong_thread, 0);
    loop_free(c.loop);
}

static int ran;
static void mark_ran(void *data)
{
    (void)data;
    ran++;
}

static void stop_then_post(void *data)
{
    struct loop *l = data;
    loop_post(l, mark_ran, NULL); /* queued before the stop: must still run */
    loop_stop(l);
}

static void test_loop_stop_still_runs_queued_posts(void **state)
{
    (void)state;
    struct loop *l;
    assert_int_equal(loop_new(&l), 0);
    ran = 0;
    loop_post(l, stop_then_post, l);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(ran, 1);
    loop_free(l);
}

static char order[16];
static struct loop *order_loop;

static void note(char c)
{
    size_t n = strlen(order);
    if (n + 1 < sizeof(order))
        order[n] = c;
}

static void note_d_then_stop(void *data)
{
    (void)data;
    note('D');
    loop_stop(order_loop);
}

static void note_flush(void *data)
{
    (void)data;
    note('F');
}

static void note_a(void *data)
{
    (void)data;
    note('A');
    loop_after_posts(order_loop, note_flush, NULL);
    loop_post(order_loop, note_d_then_stop, NULL); /* a later wake-up */
}

static void note_b(void *data)
{
    (void)data;
    note('B');
}

/* Work put after the posts runs once they are all done, before anything posted meanwhile. */
static void test_loop_after_posts_runs_after_the_wake_ups_posts(void **state)
{
    (void)state;
    memset(order, 0, sizeof(order));
    assert_int_equal(loop_new(&order_loop), 0);
    loop_post(order_loop, note_a, NULL);
    loop_post(order_loop, note_b, NULL);
    assert_int_equal(loop_run(order_loop), 0);
    assert_string_equal(order, "ABFD");
    loop_free(order_loop);
}

static int got_signal;
static void on_signal(struct loop *l, int signum, void *data)
{
    (void)data;
    got_signal = signum;
    loop_stop(l);
}

static void raise_usr1(void *data)
{
    (void)data;
    raise(SIGUSR1);
}

static void test_loop_delivers_signals_on_the_loop(void **state)
{
    (void)state;
    struct loop *l;
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(loop_on_signal(l, SIGUSR1, on_signal, NULL), 0);
    loop_post(l, raise_usr1, NULL);
    got_signal = 0;
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(got_signal, SIGUSR1);
    loop_free(l);
}

static void block_loop(uv_timer_t *t)
{
    (void)t;
    usleep(300 * 1000); /* a callback that blocks the loop across the probe's tick */
}

static void stop_loop(uv_timer_t *t)
{
    loop_stop(t->data);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_loop_lag_sees_a_blocked_loop(void **state)
{
    (void)state;
    struct loop *l;
    assert_int_equal(loop_new(&l), 0);
    uv_timer_t block, stop;
    uv_timer_init(loop_uv(l), &block);
    uv_timer_init(loop_uv(l), &stop);
    stop.data = l;
    /* The lag probe ticks every 500 ms; blocking from 450 ms to 750 ms makes
       its first tick about 250 ms late. */
    uv_timer_start(&block, block_loop, 450, 0);
    uv_timer_start(&stop, stop_loop, 1100, 0);
    assert_int_equal(loop_run(l), 0);
    uv_close((uv_handle_t *)&block, NULL);
    double lag = loop_lag_take_max_ms(l);
    assert_true(lag >= 150.0);
    assert_true(loop_lag_take_max_ms(l) == 0.0); /* taking the max resets it */
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_loop_runs_posts_from_threads_in_order_on_the_loop),
            cmocka_unit_test(test_loop_stop_still_runs_queued_posts),
            cmocka_unit_test(test_loop_after_posts_runs_after_the_wake_ups_posts),
            cmocka_unit_test(test_loop_delivers_signals_on_the_loop),
            cmocka_unit_test(test_loop_lag_sees_a_blocked_loop),
    };
    return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
