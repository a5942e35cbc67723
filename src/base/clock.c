/* SPDX-License-Identifier: MIT */
/* The system and manual clocks of clock.h. */
#include "base/clock.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
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

/* Reads exactly n digits at *p into ret and moves *p past them. */
static bool digits(const char **p, int n, int *ret)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (**p < '0' || **p > '9')
            return false;
        v = v * 10 + (**p - '0');
    }
    *ret = v;
    return true;
}

/* Moves *p past c (either case) if it is there. */
static bool expect(const char **p, char c)
{
    if (tolower((unsigned char)**p) != tolower((unsigned char)c))
        return false;
    (*p)++;
    return true;
}

/* The zone: "Z", or "+HH:MM" / "-HH:MM"; its offset from UTC in seconds. */
static bool zone_parse(const char *p, long *ret_offset)
{
    int hh, mm;
    if (expect(&p, 'Z') && *p == '\0') {
        *ret_offset = 0;
        return true;
    }
    if (*p != '+' && *p != '-')
        return false;
    int sign = *p++ == '-' ? -1 : 1;
    if (!digits(&p, 2, &hh) || !expect(&p, ':') || !digits(&p, 2, &mm) || *p || hh > 23 || mm > 59)
        return false;
    *ret_offset = sign * (hh * 3600L + mm * 60L);
    return true;
}

/* The milliseconds of an optional fraction ".123456"; moves *p past it. */
static int fraction_ms(const char **p)
{
    int ms = 0;
    if (!expect(p, '.'))
        return 0;
    for (int scale = 100; **p >= '0' && **p <= '9'; (*p)++, scale /= 10)
        ms += (**p - '0') * scale;
    return ms;
}

int clock_parse_rfc3339_ms(const char *s, int64_t *ret_ms)
{
    struct tm tm = {0};
    const char *p = s;
    long offset;
    if (!s || !digits(&p, 4, &tm.tm_year) || !expect(&p, '-') || !digits(&p, 2, &tm.tm_mon) ||
        !expect(&p, '-') || !digits(&p, 2, &tm.tm_mday) || !expect(&p, 'T') ||
        !digits(&p, 2, &tm.tm_hour) || !expect(&p, ':') || !digits(&p, 2, &tm.tm_min) ||
        !expect(&p, ':') || !digits(&p, 2, &tm.tm_sec))
        return -EINVAL;
    int ms = fraction_ms(&p);
    if (!zone_parse(p, &offset) || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 ||
        tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -EINVAL;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *ret_ms = ((int64_t)timegm(&tm) - offset) * 1000 + ms;
    return 0;
}
