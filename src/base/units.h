/* SPDX-License-Identifier: MIT */
/*
 * The value syntaxes people type: durations ("1h30m"), sizes ("64KiB"),
 * percentages ("80%") and Monitoring-Plugins threshold ranges ("@10:20").
 * The configuration parses them at load time; the CLI and the API reuse the
 * same parsers, so one spelling means one thing everywhere. On failure every
 * parser fills an optional struct err and the byte offset of the problem.
 */
#ifndef HALE_BASE_UNITS_H
#define HALE_BASE_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/*
 * Parses a duration into milliseconds: one or more <digits><unit> parts with
 * units w, d, h, m, s, ms in decreasing order, each at most once ("1h30m",
 * "250ms", "2w"), or "0" alone. Returns 0, or HALE_EPARSE with e (may be
 * NULL) describing the problem and *ret_offset (may be NULL) set to its byte
 * offset in s. Refuses values that do not fit in 64 bits.
 */
int units_duration_parse(const char *s, uint64_t *ret_ms, struct err *e, size_t *ret_offset);

/*
 * Parses a size into bytes: digits with an optional unit, B, decimal KB MB GB
 * TB (powers of 1000) or binary KiB MiB GiB TiB (powers of 1024). Returns 0
 * or HALE_EPARSE as units_duration_parse() does.
 */
int units_size_parse(const char *s, uint64_t *ret_bytes, struct err *e, size_t *ret_offset);

/*
 * Parses a percentage, digits with an optional fraction and a '%' ("80%",
 * "99.5%"), from 0 to 100. Returns 0 or HALE_EPARSE as above.
 */
int units_percent_parse(const char *s, double *ret_percent, struct err *e, size_t *ret_offset);

/*
 * A Monitoring-Plugins threshold range, "[@][start:][end]": without '@' a
 * value outside [start, end] raises an alert, with '@' a value inside it
 * does. Endpoints are included; an open end is +/-INFINITY.
 */
struct units_range {
    double start; /* -INFINITY for "~" */
    double end;   /* INFINITY when omitted ("10:") */
    bool inside;  /* '@': alert when start <= value <= end */
};

/*
 * Parses "10", "10:", "~:10", "10:20", "@10:20" (numbers may be negative
 * and have fractions). Refuses an empty range and start > end. Returns 0 or
 * HALE_EPARSE as above.
 */
int units_range_parse(const char *s, struct units_range *ret_range, struct err *e,
                      size_t *ret_offset);

/* Whether value raises an alert under r (the one rule every check uses). */
bool units_range_alerts(const struct units_range *r, double value);

/*
 * Formats ms the way units_duration_parse() reads it ("1h30m", "250ms",
 * "0") into buf, truncating to size. Returns buf.
 */
char *units_duration_format(uint64_t ms, char *buf, size_t size);

/* Largest text units_duration_format() writes, with its NUL. */
#define UNITS_DURATION_MAX 48

#endif
