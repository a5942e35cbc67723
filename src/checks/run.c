/* SPDX-License-Identifier: MIT */
/*
 * One run of a check: start the kind, arm the timeout, and when the kind
 * finishes, stamp the observation (time taken, a timeout's verdict) and
 * hand it to whoever started the run. A run that overruns its timeout is
 * aborted and recorded as critical: a service that does not answer in time
 * is not healthy, as the Monitoring Plugins treat a timeout by default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/units.h"
#include "checks/internal.h"

static void run_closed(uv_handle_t *h)
{
    free(h->data);
}

static void run_on_timeout(uv_timer_t *t)
{
    struct check_run *run = t->data;
    run->timed_out = true;
    check_run_abort(run);
}

int check_run_start(struct check_host *host, void (*done)(struct check_run *run, void *data),
                    void *data)
{
    const struct check_kind *kind = check_kind_find(host->cfg->type);
    struct check_run *run = xcalloc(1, sizeof(*run));
    run->host = host;
    run->cfg = host->cfg;
    run->uv = host->uv;
    run->done = done;
    run->done_data = data;
    run->started_ns = clock_mono_ns();
    run->obs.started_ms = clock_real_ms(&clock_system);

    uv_timer_init(host->uv, &run->timer);
    run->timer.data = run;
    uv_timer_start(&run->timer, run_on_timeout, host->cfg->timeout_ms, 0);
    host->run = run;

    if (!kind)
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "hale cannot run %s checks",
                         config_check_type_name(host->cfg->type));
    else
        kind->start(run);
    return 0;
}

void check_run_abort(struct check_run *run)
{
    if (run->aborted || run->finished)
        return;
    run->aborted = true;
    const struct check_kind *kind = check_kind_find(run->cfg->type);
    if (kind && kind->abort)
        kind->abort(run);
}

/* Replaces the kind's verdict when the run was cut short. */
static void run_stamp_abort(struct check_run *run)
{
    char took[UNITS_DURATION_MAX];
    free(run->obs.summary);
    if (run->timed_out) {
        run->obs.status = CHECK_STATUS_CRITICAL;
        units_duration_format(run->cfg->timeout_ms, took, sizeof(took));
        run->obs.summary = xasprintf("timed out after %s", took);
    } else {
        run->obs.status = CHECK_STATUS_UNKNOWN;
        run->obs.summary = xstrdup("stopped before it finished (hale is stopping)");
    }
}

static void run_complete(struct check_run *run)
{
    if (run->finished)
        abort(); /* a kind finished twice: a bug that would free the run twice */
    run->finished = true;
    run->obs.duration_us = (clock_mono_ns() - run->started_ns) / 1000u;
    if (run->aborted)
        run_stamp_abort(run);
    uv_timer_stop(&run->timer);
    if (run->host->run == run)
        run->host->run = NULL;
    run->done(run, run->done_data);
    check_observation_fini(&run->obs);
    uv_close((uv_handle_t *)&run->timer, run_closed);
}

void check_run_finish_summary(struct check_run *run, enum check_status status, char *summary)
{
    run->obs.status = status;
    free(run->obs.summary);
    run->obs.summary = summary;
    run_complete(run);
}

void check_run_vfinish(struct check_run *run, enum check_status status, const char *fmt, va_list ap)
{
    check_run_finish_summary(run, status, xvasprintf(fmt, ap));
}

void check_run_finish(struct check_run *run, enum check_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_run_vfinish(run, status, fmt, ap);
    va_end(ap);
}

void check_run_finish_observation(struct check_run *run, struct check_observation *o)
{
    struct check_observation *dst = &run->obs;
    free(dst->summary);
    free(dst->long_output);
    dst->status = o->status;
    dst->summary = o->summary ? o->summary : xstrdup("");
    dst->long_output = o->long_output;
    /* Samples the kind added itself (a latency) come after the parsed ones. */
    if (dst->n_samples) {
        o->samples = xreallocarray(o->samples, check__samples_room(o->n_samples + dst->n_samples),
                                   sizeof(*o->samples));
        memcpy(o->samples + o->n_samples, dst->samples, dst->n_samples * sizeof(*o->samples));
        o->n_samples += dst->n_samples;
        free(dst->samples);
    }
    dst->samples = o->samples;
    dst->n_samples = o->n_samples;
    memset(o, 0, sizeof(*o));
    run_complete(run);
}

void check_run_sample(struct check_run *run, const char *label, double value, const char *unit)
{
    /*
     * Room for four at once: a kind adds two to four, and the array lives
     * only as long as the run (the runner keeps its result packed).
     */
    struct check_sample *s = check__sample_append(&run->obs);
    s->label = xstrdup(label);
    s->value = value;
    if (unit)
        memcpy(s->unit, unit, strnlen(unit, CHECK_UNIT_MAX)); /* zeroed: stays terminated */
    s->has_value = true;
    run->obs.n_samples++;
}

void check_run_sample_no_history(struct check_run *run, const char *label, double value,
                                 const char *unit)
{
    check_run_sample(run, label, value, unit);
    run->obs.samples[run->obs.n_samples - 1].no_history = true;
}

void check__pool_abort(struct check_run *run)
{
    struct check__pool_work *w = run->kind_data;
    if (w) {
        /* Cancelled if still queued; else it runs on and its result is dropped. */
        w->run = NULL;
        run->kind_data = NULL;
        uv_cancel((uv_req_t *)&w->req);
    }
    check_run_finish(run, CHECK_STATUS_UNKNOWN, "aborted");
}
