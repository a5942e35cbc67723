/* SPDX-License-Identifier: MIT */
/*
 * The daemon's metrics registry and its Prometheus text exposition (format
 * 0.0.4). Modules register families (counter, gauge, histogram) with fixed
 * label names; each distinct set of label values is a child, created on
 * first use up to a per-family cap, so a label fed from outside can never
 * grow memory without bound. Updates are thread-safe (HTTP threads count
 * requests); GET /metrics renders the registry on the loop thread.
 */
#ifndef HALE_METRICS_METRICS_H
#define HALE_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

struct loop;

/* Label names per family, at most. */
#define METRICS_LABELS_MAX   4
/* Children (label sets) per family unless metrics_family_set_max() says otherwise. */
#define METRICS_CHILDREN_MAX 1000
/* The Content-Type a scrape must be answered with (Prometheus 3 insists). */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
};

struct metrics;
struct metrics_family;

/* A value computed when the registry is rendered. */
typedef double metrics_value_fn(void *data);
/* Runs at the start of each render, to refresh labelled gauges and the like. */

/* An empty registry; free with metrics_free(). */
struct metrics *metrics_new(void);
/* Frees the registry and every family in it. Accepts NULL. */
void metrics_free(struct metrics *m);

/*
 * Registration. name must be a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*),
 * unique in the registry; labels is a NULL-terminated list of at most
 * METRICS_LABELS_MAX label names ([a-zA-Z_][a-zA-Z0-9_]*, not starting
 * with "__"), or NULL for a family without labels. help is any text (it
 * is escaped on output). The strings are copied. Breaking these rules is a
 * programmer error (assert). The family belongs to the registry: the
 * pointer stays valid until metrics_free(). Registration may happen while
 * other threads update or render; it may not happen from a write
 * function.
 */
struct metrics_family *metrics_counter_register(struct metrics *m, const char *name,
                                                const char *help, const char *const *labels);
struct metrics_family *metrics_gauge_register(struct metrics *m, const char *name, const char *help,
                                              const char *const *labels);
/*
 * bounds: n_bounds strictly increasing finite upper bounds; the +Inf bucket
 * is implicit. A histogram may not have a label named "le".
 */
struct metrics_family *metrics_histogram_register(struct metrics *m, const char *name,
                                                  const char *help, const char *const *labels,
                                                  const double *bounds, size_t n_bounds);
/*
 * A family without labels whose one value is fn(data), called on the
 * rendering thread at each render (for GET /metrics, the loop thread).
 * data is borrowed until metrics_free().
 */
struct metrics_family *metrics_gauge_fn_register(struct metrics *m, const char *name,
                                                 const char *help, metrics_value_fn *fn,
                                                 void *data);
struct metrics_family *metrics_counter_fn_register(struct metrics *m, const char *name,
                                                   const char *help, metrics_value_fn *fn,
                                                   void *data);
/*
 * A family whose samples its owner writes at each render, straight from its
 * own state, with metrics_write_sample(): for families with one sample per
 * configured object (a check), which would otherwise be copied into the
 * registry and kept between renders. The registry writes HELP and TYPE
 * (only when a sample is written). type is METRICS_GAUGE or
 * METRICS_COUNTER; data is borrowed until metrics_free(). fn runs on the
 * rendering thread.
 */
struct metrics_writer;
typedef void metrics_write_fn(struct metrics_writer *w, void *data);
struct metrics_family *metrics_written_register(struct metrics *m, enum metrics_type type,
                                                const char *name, const char *help,
                                                const char *const *labels, metrics_write_fn *fn,
                                                void *data);
/* Writes one sample of the family being rendered; values as for updates. */
void metrics_write_sample(struct metrics_writer *w, const char *const *values, double v);

/* Caps the number of children of f (default METRICS_CHILDREN_MAX). */
void metrics_family_set_max(struct metrics_family *f, size_t max);
/* How many updates were refused because they would have passed the cap. */
uint64_t metrics_family_refused(struct metrics_family *f);

/*
 * Updates. values holds one value per label name, in the order the names
 * were registered (NULL for a family without labels); they are copied when
 * a child is created. Return 0, or HALE_ELIMIT when values name a new
 * child and the family is at its cap (the update is dropped and counted,
 * and the first refusal is logged). Callable from any thread.
 */
int metrics_counter_add(struct metrics_family *f, const char *const *values, double delta);
int metrics_counter_inc(struct metrics_family *f, const char *const *values);
int metrics_gauge_set(struct metrics_family *f, const char *const *values, double v);
int metrics_gauge_add(struct metrics_family *f, const char *const *values, double delta);
int metrics_histogram_observe(struct metrics_family *f, const char *const *values, double v);

/*
 * Appends the exposition of every family to out: families sorted by name,
 * children by label values, HELP and TYPE first; a labelled family with no
 * child yet is left out. Runs the value and write functions on
 * the calling thread. Returns 0 or HALE_ELIMIT when out is capped and full.
 */
int metrics_render(struct metrics *m, struct strbuf *out);

/*
 * Formats v as the exposition format writes numbers: "+Inf", "-Inf",
 * "NaN", integers without a fraction ("1027"), other values in the
 * shortest form that reads back exactly ("0.25", "1.5e-07"). Always uses
 * '.' whatever the locale. Returns buf.
 */
#define METRICS_NUMBER_MAX 32
const char *metrics_number_format(double v, char buf[METRICS_NUMBER_MAX]);

/*
 * The families every hale daemon exposes, registered by
 * metrics_daemon_register(). The daemon updates the reload pair; the API
 * updates the http and stream families; the rest are computed at render
 * time.
 */
struct metrics_daemon {
    struct metrics_family *http_requests; /* counter {route, code} */
    struct metrics_family *http_duration; /* histogram {route}, seconds */
    struct metrics_family *streams;       /* gauge: live streams open */
    struct metrics_family *stream_events; /* counter: messages published to the streams */
    struct metrics_family *streams_cut;   /* counter {reason}: streams the server ended */
    struct metrics_family *reload_ok;     /* gauge, 1 or 0 */
    struct metrics_family *reload_time;   /* gauge, Unix seconds of the last good load */
    struct loop *loop;                    /* borrowed: loop lag */
    uint64_t started_ms;                  /* Unix ms the daemon started */
};

/*
 * Registers hale_build_info, hale_start_time_seconds, hale_uptime_seconds,
 * hale_http_requests_total, hale_http_request_duration_seconds,
 * hale_api_streams, hale_api_stream_events_total, hale_api_streams_cut_total,
 * hale_loop_lag_seconds, hale_loop_lag_max_seconds (the largest lag since
 * the previous render, which resets it), hale_config_last_reload_*, and
 * the standard process_* families read from /proc/self. Fills d, which the
 * render callbacks borrow: keep d (and loop, which may be NULL to leave
 * the loop families out) alive until metrics_free(m). The reload gauges
 * start as "successful at started_ms", the load that started the daemon.
 */
void metrics_daemon_register(struct metrics *m, struct loop *loop, uint64_t started_ms,
                             struct metrics_daemon *d);
/* Records the outcome of a configuration reload made at now_ms (Unix ms). */
void metrics_daemon_reload_record(const struct metrics_daemon *d, bool ok, uint64_t now_ms);

/* Registers the process_* families (CPU, memory, fds, start time) alone. */
void metrics_process_register(struct metrics *m);

#endif
