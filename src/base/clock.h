/* SPDX-License-Identifier: MIT */
/*
 * Time. Durations are uint64_t milliseconds everywhere past the config
 * boundary. Code that schedules or measures windows reads time through a
 * struct clock so tests can drive it by hand (clock_manual).
 */
#ifndef HALE_BASE_CLOCK_H
#define HALE_BASE_CLOCK_H

#include <stdint.h>

struct clock {
    uint64_t (*mono_ms)(const struct clock *c); /* monotonic, for intervals */
    uint64_t (*real_ms)(const struct clock *c); /* Unix epoch, for records */
    uint64_t manual_mono_ms;                    /* used by clock_manual only */
    uint64_t manual_real_ms;
};

/* The system clock. */
extern const struct clock clock_system;

/* A clock that moves only when the test sets manual_*_ms. */
void clock_manual_init(struct clock *c, uint64_t mono_ms, uint64_t real_ms);

static inline uint64_t clock_mono_ms(const struct clock *c)
{
    return c->mono_ms(c);
}

static inline uint64_t clock_real_ms(const struct clock *c)
{
    return c->real_ms(c);
}

#define CLOCK_RFC3339_MAX 32
/*
 * Writes Unix seconds as UTC RFC 3339, "2026-11-21T14:59:25Z", into buf.
 * Returns 0, or -EOVERFLOW (buf then holds "-") for a time that cannot be shown.
 */
int clock_format_rfc3339(int64_t unix_s, char buf[CLOCK_RFC3339_MAX]);

/* The same with milliseconds, "2026-11-21T14:59:25.123Z", from Unix ms. */
int clock_format_rfc3339_ms(uint64_t unix_ms, char buf[CLOCK_RFC3339_MAX]);

/*
 * Parses an RFC 3339 time ("2026-11-21T19:00:00.000Z", "...+02:00") into
 * Unix ms. Returns 0, or -EINVAL for anything else.
 */
int clock_parse_rfc3339_ms(const char *s, int64_t *ret_ms);

/* Monotonic nanoseconds from the system clock, for fine measurements. */
uint64_t clock_mono_ns(void);

#endif
