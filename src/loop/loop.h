/* SPDX-License-Identifier: MIT */
/*
 * The daemon's one event loop. It owns all daemon state; other threads (the
 * HTTP server's, the store writer's) never touch that state directly but
 * hand work over with loop_post(), which is the only thread-safe call here.
 * The loop also watches the signals that drive the daemon (SIGTERM/SIGINT
 * stop, SIGHUP reload) and measures its own lag, the delay between when a
 * timer should have fired and when it did: the first sign of a blocked loop.
 */
#ifndef HALE_LOOP_LOOP_H
#define HALE_LOOP_LOOP_H

#include <stdint.h>

#include <uv.h>

struct loop;

typedef void loop_work_fn(void *data);
typedef void loop_signal_cb(struct loop *l, int signum, void *data);

/* Creates a loop. Free with loop_free() after loop_run() returned. */
int loop_new(struct loop **ret_loop);
/* Closes every handle of the loop and frees it. Accepts NULL. */
void loop_free(struct loop *l);

uv_loop_t *loop_uv(struct loop *l);

/*
 * Runs fn(data) on the loop thread, soon. Safe from any thread and from
 * loop callbacks; posts are run in the order they were made. Posts queued
 * before loop_stop() still run; posting after loop_stop() is a bug, so stop
 * the threads that post (the HTTP server) before stopping the loop.
 */
void loop_post(struct loop *l, loop_work_fn *fn, void *data);

/*
 * Loop thread: runs fn(data) once the posts being run now are done, still
 * in the same wake-up, so work handed over by many posts (requests that
 * arrived together) can be done once for all of them. Outside a run of
 * posts it is a loop_post().
 */
void loop_after_posts(struct loop *l, loop_work_fn *fn, void *data);

/* Calls cb on the loop thread when signum arrives. Call before loop_run(). */
int loop_on_signal(struct loop *l, int signum, loop_signal_cb *cb, void *data);

/* Runs until loop_stop() and until every handle has closed. */
int loop_run(struct loop *l);
/* Asks loop_run() to return once pending posts and closing handles are done. */
void loop_stop(struct loop *l);

/* The largest lag seen since the last call, in milliseconds; resets it. */
double loop_lag_take_max_ms(struct loop *l);
/* The lag at the most recent measurement, in milliseconds. */
double loop_lag_ms(struct loop *l);

#endif
