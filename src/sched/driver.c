/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's libuv driver: one timer, armed for the earliest slot of
 * any entry. When it fires it ticks the scheduler and re-arms; any change to
 * the scheduler (an entry added, a run done) re-arms it too. One timer for
 * 10,000 checks, not one each.
 */
#include <errno.h>
#include <stdlib.h>

#include <uv.h>

#include "base/alloc.h"
#include "sched/internal.h"

/*
 * Wake-ups land on a grid of this many milliseconds: runs due within one
 * slot of it start together, so 10,000 checks cost a hundred wake-ups a
 * second instead of a thousand, and their I/O completes in batches too. A
 * run starts at most this late; a run asked for now does not wait for it.
 */
#define SCHED_DRIVER_GRID_MS 10

struct sched_driver {
    uv_timer_t timer; /* first: the close callback frees through it */
    struct sched *sched;
};

static void driver_fire(uv_timer_t *t);

static void driver_arm(void *data)
{
    struct sched_driver *d = data;
    uint64_t due = sched_next_due_ms(d->sched);
    if (due == UINT64_MAX) {
        uv_timer_stop(&d->timer);
        return;
    }
    uint64_t now = clock_mono_ms(d->sched->clock);
    uint64_t at = (due + SCHED_DRIVER_GRID_MS - 1) / SCHED_DRIVER_GRID_MS * SCHED_DRIVER_GRID_MS;
    /* Refresh libuv's cached time, or the timer would be measured from a stale now. */
    uv_update_time(d->timer.loop);
    uv_timer_start(&d->timer, driver_fire, at > now ? at - now : 0, 0);
}

static void driver_fire(uv_timer_t *t)
{
    struct sched_driver *d = (struct sched_driver *)t;
    /* sched_tick() re-arms through on_change when it is done. */
    sched_tick(d->sched);
}

int sched_driver_new(struct sched *s, struct loop *l, struct sched_driver **ret_driver)
{
    struct sched_driver *d = xcalloc(1, sizeof(*d));
    int r = uv_timer_init(loop_uv(l), &d->timer);
    if (r < 0) {
        free(d);
        return r;
    }
    d->sched = s;
    s->on_change = driver_arm;
    s->on_change_data = d;
    driver_arm(d);
    *ret_driver = d;
    return 0;
}

static void driver_closed(uv_handle_t *h)
{
    free(h);
}

void sched_driver_free(struct sched_driver *d)
{
    if (!d)
        return;
    if (d->sched->on_change_data == d) {
        d->sched->on_change = NULL;
        d->sched->on_change_data = NULL;
    }
    uv_close((uv_handle_t *)&d->timer, driver_closed);
}
