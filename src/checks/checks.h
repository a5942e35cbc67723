/* SPDX-License-Identifier: MIT */
/*
 * Checks: hale's tests of a system's state. A check run produces an
 * observation (a status, a one-line summary, optional long output and
 * samples); detect/ turns the stream of observations into events. The same
 * check that finds a broken state later proves it fixed.
 *
 * This header holds the observation model and the Monitoring Plugins
 * output parser, which every check kind and detect/ share. The check kinds
 * and their runner join it as they are built.
 */
#ifndef HALE_CHECKS_CHECKS_H
#define HALE_CHECKS_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/units.h"

/*
 * A check's status, ordered by severity except UNKNOWN, with the
 * Monitoring Plugins exit codes as values. Persisted and sent over the
 * API: append only.
 */
enum check_status {
    CHECK_STATUS_OK = 0,
    CHECK_STATUS_WARNING = 1,
    CHECK_STATUS_CRITICAL = 2,
    CHECK_STATUS_UNKNOWN = 3,
};

/* "ok", "warning", "critical", "unknown". */
const char *check_status_name(enum check_status s);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN", as plugins print them. */
const char *check_status_label(enum check_status s);

/* One measured value: a performance-data item, or a latency a kind measured. */
struct check_sample {
    char *label; /* "time", "/var", "load1" */
    double value;
    char *unit; /* "", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c" */
    bool has_warn, has_crit, has_min, has_max;
    struct units_range warn, crit;
    double min, max;
};

struct check_observation {
    enum check_status status;
    char *summary;     /* the first line, without its perfdata; never NULL */
    char *long_output; /* the following lines, without perfdata; NULL if none */
    struct check_sample *samples;
    size_t n_samples;
    uint64_t started_ms;  /* Unix ms */
    uint64_t duration_us; /* how long the run took */
};

/* Frees what o holds and zeroes it. Accepts a zeroed observation. */
void check_observation_fini(struct check_observation *o);

#endif
