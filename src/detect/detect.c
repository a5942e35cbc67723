/* SPDX-License-Identifier: MIT */
/*
 * The per-check state machine of detect.h: soft and hard states, the
 * failures/recoveries counts, and Nagios-style flapping detection over the
 * last DETECT_HISTORY results. Pure logic: time arrives with each result,
 * events leave through the callback, nothing here touches the loop.
 */
#include "detect/detect.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/*
 * Flapping weights: the oldest of the 20 possible changes counts 0.75, the
 * newest 1.25, linearly between (the curve Nagios uses), so a check that
 * has just started changing is caught sooner than one that has just settled.
 */
#define FLAP_WEIGHT_OLDEST 0.75
#define FLAP_WEIGHT_NEWEST 1.25
#define FLAP_CHANGES       (DETECT_HISTORY - 1)

const char *detect_event_kind_name(enum detect_event_kind k)
{
    switch (k) {
    case DETECT_EVENT_STATE_CHANGE:
        return "state_change";
    case DETECT_EVENT_FLAPPING_STARTED:
        return "flapping_started";
    case DETECT_EVENT_FLAPPING_STOPPED:
        return "flapping_stopped";
    }
    return "?";
}

void detect_params_init(struct detect_params *p)
{
    *p = (struct detect_params){
            .failures = 1,
            .recoveries = 1,
            .flap_detection = true,
            .flap_high = DETECT_FLAP_HIGH_DEFAULT,
            .flap_low = DETECT_FLAP_LOW_DEFAULT,
            .soft_events = false,
    };
}

void detect_params_from_check(struct detect_params *p, const struct config_check *c)
{
    detect_params_init(p);
    /* The config validates these as >= 1; guard anyway so a 0 cannot disarm the count. */
    p->failures = c->failures ? c->failures : 1;
    p->recoveries = c->recoveries ? c->recoveries : 1;
}

static bool params_are_valid(const struct detect_params *p)
{
    if (p->failures == 0 || p->recoveries == 0)
        return false;
    if (!(p->flap_low >= 0.0 && p->flap_high <= 100.0 && p->flap_low <= p->flap_high))
        return false;
    return true;
}

static bool status_is_valid(unsigned s)
{
    return s <= CHECK_STATUS_UNKNOWN;
}

int detect_init(struct detect *d, const char *name, const struct detect_params *p,
                detect_event_cb *cb, void *data)
{
    if (!params_are_valid(p))
        return -EINVAL;
    *d = (struct detect){
            .name = name,
            .cb = cb,
            .data = data,
            .params = *p,
            .status = CHECK_STATUS_OK,
            .hard_status = CHECK_STATUS_OK,
            .reported = CHECK_STATUS_OK,
            .hard = true,
    };
    return 0;
}

static uint8_t history_at(const struct detect *d, unsigned i)
{
    return d->history[(d->first + i) % DETECT_HISTORY];
}

static void history_push(struct detect *d, enum check_status s)
{
    if (d->n < DETECT_HISTORY) {
        d->history[(d->first + d->n) % DETECT_HISTORY] = (uint8_t)s;
        d->n++;
    } else {
        d->history[d->first] = (uint8_t)s;
        d->first = (uint8_t)((d->first + 1) % DETECT_HISTORY);
    }
}

double detect_flap_percent(const struct detect *d)
{
    /*
     * A short history is read as if the missing older results had not
     * changed, so a new check cannot flap on its first few results.
     */
    double changes = 0.0;
    for (unsigned i = 1; i < d->n; i++) {
        if (history_at(d, i) == history_at(d, i - 1))
            continue;
        unsigned pos = FLAP_CHANGES - (d->n - i); /* 0 oldest .. 19 newest */
        changes += FLAP_WEIGHT_OLDEST +
                   (FLAP_WEIGHT_NEWEST - FLAP_WEIGHT_OLDEST) * pos / (FLAP_CHANGES - 1);
    }
    return changes * 100.0 / FLAP_CHANGES;
}

static void emit(struct detect *d, enum detect_event_kind kind, enum check_status old_status,
                 enum check_status new_status, bool hard, const char *summary, uint64_t time_ms)
{
    if (!d->cb)
        return;
    struct detect_event ev = {
            .check = d->name,
            .kind = kind,
            .old_status = old_status,
            .new_status = new_status,
            .hard = hard,
            .time_ms = time_ms,
            .summary = xstrdup(summary),
    };
    d->cb(&ev, d->data);
    free(ev.summary);
}

/* Moves status, hard_status and count for one result. */
static void state_step(struct detect *d, enum check_status s)
{
    d->status = (uint8_t)s;
    if (d->hard_status == CHECK_STATUS_OK) {
        if (s == CHECK_STATUS_OK) {
            d->count = 0;
            d->hard = true;
        } else if (++d->count >= d->params.failures) {
            d->hard_status = (uint8_t)s;
            d->count = 0;
            d->hard = true;
        } else {
            d->hard = false;
        }
    } else if (s == CHECK_STATUS_OK) {
        if (++d->count >= d->params.recoveries) {
            d->hard_status = (uint8_t)s;
            d->count = 0;
            d->hard = true;
        } else {
            d->hard = false;
        }
    } else {
        /* Already confirmed bad: a new severity is hard at once. */
        d->hard_status = (uint8_t)s;
        d->count = 0;
        d->hard = true;
    }
}

int detect_feed(struct detect *d, enum check_status status, const char *summary, uint64_t time_ms)
{
    if (!status_is_valid((unsigned)status))
        return -EINVAL;
    if (!summary)
        summary = "";

    enum check_status old_status = d->status;
    enum check_status old_hard = d->hard_status;
    int n_events = 0;

    history_push(d, status);
    state_step(d, status);
    if (d->hard_status != old_hard)
        d->last_change_ms = time_ms;

    if (d->params.flap_detection || d->flapping) {
        /* With detection off (a snapshot restored under new parameters), flapping just stops. */
        double pct = d->params.flap_detection ? detect_flap_percent(d) : 0.0;
        if (!d->flapping && pct >= d->params.flap_high) {
            d->flapping = true;
            emit(d, DETECT_EVENT_FLAPPING_STARTED, d->hard_status, d->hard_status, d->hard, summary,
                 time_ms);
            return 1;
        }
        if (d->flapping && pct < d->params.flap_low) {
            d->flapping = false;
            emit(d, DETECT_EVENT_FLAPPING_STOPPED, d->hard_status, d->hard_status, d->hard, summary,
                 time_ms);
            n_events++;
        }
    }
    if (d->flapping)
        return n_events;

    if (d->hard_status != d->reported) {
        /* From the status last reported: after flapping it may differ from old_hard. */
        emit(d, DETECT_EVENT_STATE_CHANGE, d->reported, d->hard_status, true, summary, time_ms);
        d->reported = d->hard_status;
        n_events++;
    } else if (d->params.soft_events && !d->hard && status != old_status) {
        emit(d, DETECT_EVENT_STATE_CHANGE, old_status, status, false, summary, time_ms);
        n_events++;
    }
    return n_events;
}

int detect_feed_observation(struct detect *d, const struct check_observation *o)
{
    return detect_feed(d, o->status, o->summary, o->started_ms);
}

enum check_status detect_status(const struct detect *d)
{
    return d->status;
}

enum check_status detect_hard_status(const struct detect *d)
{
    return d->hard_status;
}

bool detect_is_hard(const struct detect *d)
{
    return d->hard;
}

bool detect_is_flapping(const struct detect *d)
{
    return d->flapping;
}

unsigned detect_count(const struct detect *d)
{
    return d->count;
}

void detect_snapshot_take(const struct detect *d, struct detect_snapshot *ret_snapshot)
{
    struct detect_snapshot s;
    memset(&s, 0, sizeof(s));
    s.last_change_ms = d->last_change_ms;
    s.count = d->count;
    s.n_history = d->n;
    s.status = (uint8_t)d->status;
    s.hard_status = (uint8_t)d->hard_status;
    s.reported = (uint8_t)d->reported;
    s.hard = d->hard;
    s.flapping = d->flapping;
    for (unsigned i = 0; i < d->n; i++)
        s.history[i] = history_at(d, i);
    *ret_snapshot = s;
}

int detect_snapshot_restore(struct detect *d, const struct detect_snapshot *s)
{
    if (!status_is_valid(s->status) || !status_is_valid(s->hard_status) ||
        !status_is_valid(s->reported) || s->n_history > DETECT_HISTORY || s->hard > 1 ||
        s->flapping > 1)
        return -EINVAL;
    for (unsigned i = 0; i < s->n_history; i++)
        if (!status_is_valid(s->history[i]))
            return -EINVAL;
    /* A soft state means a count is running toward a change of the hard state. */
    if (!s->hard && s->status == s->hard_status)
        return -EINVAL;

    d->status = s->status;
    d->hard_status = s->hard_status;
    d->reported = s->reported;
    d->hard = s->hard == 1;
    d->flapping = s->flapping == 1;
    d->count = s->count;
    d->last_change_ms = s->last_change_ms;
    d->first = 0;
    d->n = (uint8_t)s->n_history;
    memcpy(d->history, s->history, s->n_history);
    return 0;
}
