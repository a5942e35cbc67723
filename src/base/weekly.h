/* SPDX-License-Identifier: MIT */
/*
 * A weekly window: the times of the week a recurring maintenance window
 * covers, written as people say it, "Mon-Fri 22:00-06:00". Silences use it
 * for maintenance that comes back every week; the configuration parses it
 * at load time and the API will parse the same text, so one spelling means
 * one thing everywhere.
 *
 * Times are wall-clock times in the daemon's local time zone (TZ), as
 * heartbeat deadlines are: "22:00" is ten at night where hale runs,
 * summer time or not.
 */
#ifndef HALE_BASE_WEEKLY_H
#define HALE_BASE_WEEKLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/err.h"
#include "base/strbuf.h"

struct weekly_window {
    unsigned days;      /* bit (1u << tm_wday) for each day a window starts on; Sunday is 0 */
    unsigned start_min; /* minutes after local midnight, 0 to 1439 */
    unsigned end_min;   /* 0 to 1440; at or before start_min: the window ends the next day */
};

/*
 * Parses "DAYS HH:MM-HH:MM". DAYS is a comma-separated list of days and
 * day ranges, "Mon-Fri", "Sat,Sun", "Mon,Wed-Fri", "Fri-Mon" (a range may
 * wrap past Sunday); day names are the first three letters, in any case.
 * The end may be 24:00. An end at or before the start means the window
 * crosses midnight: "Fri 22:00-06:00" covers Friday 22:00 to Saturday
 * 06:00, and the days name the day each window starts. A start equal to
 * the end is refused (write 00:00-24:00 for a whole day).
 *
 * Returns 0, or HALE_EPARSE with e (may be NULL) saying what was expected
 * and *ret_offset (may be NULL) set to the byte offset of the problem.
 */
int weekly_window_parse(const char *s, struct weekly_window *ret, struct err *e,
                        size_t *ret_offset);

/*
 * Appends w in canonical form, "Mon-Fri 22:00-06:00": days from Monday,
 * runs of three or more days as ranges. Returns 0 or HALE_ELIMIT.
 */
int weekly_window_format(const struct weekly_window *w, struct strbuf *out);

/* Whether the local time tm (tm_wday, tm_hour, tm_min) falls inside one of w's windows. */
bool weekly_window_contains(const struct weekly_window *w, const struct tm *tm);

/* Whether Unix time now_ms, in the local time zone, falls inside one of w's windows. */
bool weekly_window_contains_ms(const struct weekly_window *w, int64_t now_ms);

#endif
