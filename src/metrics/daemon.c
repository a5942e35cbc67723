/* SPDX-License-Identifier: MIT */
/*
 * The families of hale itself: build, uptime, HTTP traffic, loop lag and
 * configuration reloads. One function registers them all so the daemon's
 * /metrics has the same shape whatever modules are enabled; modules that
 * come later (checks, runbooks) register their own next to these.
 */
#include "base/clock.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "version.h"

/* Request durations in seconds: from a cached answer to a slow reload. */
static const double http_duration_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                              0.1,    0.25,  0.5,    1,     2.5,  5,     10};

static double uptime_seconds(void *data)
{
    const struct metrics_daemon *d = data;
    uint64_t now = clock_real_ms(&clock_system);
    return now > d->started_ms ? (double)(now - d->started_ms) / 1000 : 0;
}

static double loop_lag_seconds(void *data)
{
    const struct metrics_daemon *d = data;
    return loop_lag_ms(d->loop) / 1000;
}

static double loop_lag_max_seconds(void *data)
{
    const struct metrics_daemon *d = data;
    return loop_lag_take_max_ms(d->loop) / 1000;
}

static void register_http(struct metrics *m, struct metrics_daemon *d)
{
    d->http_requests = metrics_counter_register(
            m, "hale_http_requests_total",
            "HTTP requests answered, by route pattern (\"other\" when no route matched) and "
            "status code.",
            (const char *[]){"route", "code", NULL});
    /* Routes are a fixed table and codes a short list: the cap only guards against a bug. */
    metrics_family_set_max(d->http_requests, 4000);
    d->http_duration = metrics_histogram_register(
            m, "hale_http_request_duration_seconds",
            "Time from the start of an HTTP request to its completion, by route pattern.",
            (const char *[]){"route", NULL}, http_duration_bounds,
            sizeof(http_duration_bounds) / sizeof(http_duration_bounds[0]));
    d->streams = metrics_gauge_register(m, "hale_api_streams",
                                        "Live streams (GET /api/v1/stream) open now.", NULL);
    metrics_gauge_set(d->streams, NULL, 0);
    d->stream_events = metrics_counter_register(
            m, "hale_api_stream_events_total",
            "Messages (incident, check and run changes) published to the live streams.", NULL);
    metrics_counter_add(d->stream_events, NULL, 0);
    d->streams_cut = metrics_counter_register(
            m, "hale_api_streams_cut_total",
            "Live streams the server ended: \"slow\", the client fell too far behind; "
            "\"revoked\", its token was revoked.",
            (const char *[]){"reason", NULL});
    metrics_family_set_max(d->streams_cut, 8);
}

static void register_loop(struct metrics *m, struct metrics_daemon *d)
{
    metrics_gauge_fn_register(m, "hale_loop_lag_seconds",
                              "How late the event loop ran its lag probe timer, at the last probe.",
                              loop_lag_seconds, d);
    metrics_gauge_fn_register(m, "hale_loop_lag_max_seconds",
                              "The largest event loop lag seen since the previous scrape.",
                              loop_lag_max_seconds, d);
}

void metrics_daemon_register(struct metrics *m, struct loop *loop, uint64_t started_ms,
                             struct metrics_daemon *d)
{
    *d = (struct metrics_daemon){.loop = loop, .started_ms = started_ms};

    struct metrics_family *build = metrics_gauge_register(
            m, "hale_build_info", "Always 1; the version label says which hale this is.",
            (const char *[]){"version", NULL});
    metrics_gauge_set(build, (const char *[]){HALE_VERSION}, 1);
    struct metrics_family *start = metrics_gauge_register(
            m, "hale_start_time_seconds", "When the daemon started, in Unix seconds.", NULL);
    metrics_gauge_set(start, NULL, (double)started_ms / 1000);
    metrics_gauge_fn_register(m, "hale_uptime_seconds", "Seconds since the daemon started.",
                              uptime_seconds, d);
    register_http(m, d);
    if (loop)
        register_loop(m, d);
    d->reload_ok = metrics_gauge_register(
            m, "hale_config_last_reload_successful",
            "1 if the last configuration load or reload succeeded, 0 if it was refused.", NULL);
    d->reload_time = metrics_gauge_register(
            m, "hale_config_last_reload_success_timestamp_seconds",
            "When the configuration was last loaded successfully, in Unix seconds.", NULL);
    metrics_daemon_reload_record(d, true, started_ms);
    metrics_process_register(m);
}

void metrics_daemon_reload_record(const struct metrics_daemon *d, bool ok, uint64_t now_ms)
{
    metrics_gauge_set(d->reload_ok, NULL, ok ? 1 : 0);
    if (ok)
        metrics_gauge_set(d->reload_time, NULL, (double)now_ms / 1000);
}
