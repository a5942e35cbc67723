/* SPDX-License-Identifier: MIT */
/* The system and manual clocks of clock.h. */
#include "base/clock.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static uint64_t timespec_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t system_mono_ms(const struct clock *c)
{
    (void)c;
    return timespec_ms(CLOCK_MONOTONIC);
}

static uint64_t system_real_ms(const struct clock *c)
{
    (void)c;
    return timespec_ms(CLOCK_REALTIME);
}

const struct clock clock_system = {.mono_ms = system_mono_ms, .real_ms = system_real_ms};

static uint64_t manual_mono_ms(const struct clock *c)
{
    return c->manual_mono_ms;
}

static uint64_t manual_real_ms(const struct clock *c)
{
    return c->manual_real_ms;
}

void clock_manual_init(struct clock *c, uint64_t mono_ms, uint64_t real_ms)
{
    c->mono_ms = manual_mono_ms;
    c->real_ms = manual_real_ms;
    c->manual_mono_ms = mono_ms;
    c->manual_real_ms = real_ms;
}

uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int clock_format_rfc3339(int64_t unix_s, char buf[CLOCK_RFC3339_MAX])
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, CLOCK_RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        memcpy(buf, "-", 2);
        return -EOVERFLOW;
    }
    return 0;
}

int clock_format_rfc3339_ms(uint64_t unix_ms, char buf[CLOCK_RFC3339_MAX])
{
    time_t t = (time_t)(unix_ms / 1000u);
    struct tm tm;
    size_t n;
    /* strftime leaves room for ".mmmZ" only when the year is sane. */
    if (!gmtime_r(&t, &tm) ||
        (n = strftime(buf, CLOCK_RFC3339_MAX - 5, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
        memcpy(buf, "-", 2);
        return -EOVERFLOW;
    }
    unsigned ms = (unsigned)(unix_ms % 1000u);
    buf[n++] = '.';
    buf[n++] = (char)('0' + ms / 100u);
    buf[n++] = (char)('0' + ms / 10u % 10u);
    buf[n++] = (char)('0' + ms % 10u);
    buf[n++] = 'Z';
    buf[n] = '\0';
    return 0;
}
