/* SPDX-License-Identifier: MIT */
/*
 * Parsers for durations, sizes, percentages and threshold ranges. They are
 * strict on purpose: a configuration that says "5 m" or "1.5h" is refused
 * with the offset of the first character that does not fit, rather than
 * being read as something its author did not mean.
 */
#include "base/units.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *name;
    uint64_t factor;
};

/* Largest first: a duration's parts must follow this order. */
static const struct unit duration_units[] = {
        {"w", 7ull * 24 * 3600 * 1000},
        {"d", 24ull * 3600 * 1000},
        {"h", 3600ull * 1000},
        {"m", 60ull * 1000},
        {"s", 1000},
        {"ms", 1},
};

static const struct unit size_units[] = {
        {"", 1},
        {"B", 1},
        {"KB", 1000ull},
        {"MB", 1000ull * 1000},
        {"GB", 1000ull * 1000 * 1000},
        {"TB", 1000ull * 1000 * 1000 * 1000},
        {"KiB", 1ull << 10},
        {"MiB", 1ull << 20},
        {"GiB", 1ull << 30},
        {"TiB", 1ull << 40},
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int fail(struct err *e, size_t *ret_offset, size_t offset, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(struct err *e, size_t *ret_offset, size_t offset, const char *fmt, ...)
{
    if (ret_offset)
        *ret_offset = offset;
    va_list ap;
    va_start(ap, fmt);
    err_vsetf(e, HALE_EPARSE, fmt, ap);
    va_end(ap);
    return HALE_EPARSE;
}

/* Reads decimal digits at s[*pos]; false when the value overflows. */
static bool read_digits(const char *s, size_t *pos, uint64_t *ret_n)
{
    uint64_t n = 0;
    bool ok = true;
    while (is_digit(s[*pos])) {
        unsigned d = (unsigned)(s[*pos] - '0');
        if (n > (UINT64_MAX - d) / 10)
            ok = false;
        else
            n = n * 10 + d;
        (*pos)++;
    }
    *ret_n = n;
    return ok;
}

static const struct unit *find_unit(const struct unit *units, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(units[i].name) == len && memcmp(units[i].name, s, len) == 0)
            return &units[i];
    return NULL;
}

/* One <digits><unit> part of a duration; *last is the rank of the previous unit. */
static int duration_part(const char *s, size_t *pos, int *last, uint64_t *total, struct err *e,
                         size_t *ret_offset)
{
    size_t start = *pos;
    if (!is_digit(s[start]))
        return fail(e, ret_offset, start, "expected a number");
    uint64_t n;
    bool fits = read_digits(s, pos, &n);
    if (s[*pos] == '.')
        return fail(e, ret_offset, *pos, "fractions are not allowed; write 1h30m, not 1.5h");
    size_t u = *pos;
    while (is_letter(s[*pos]))
        (*pos)++;
    if (u == *pos)
        return fail(e, ret_offset, u, "missing unit after %.*s; units are w, d, h, m, s and ms",
                    (int)(u - start), s + start);
    const struct unit *unit =
            find_unit(duration_units, sizeof(duration_units) / sizeof(*unit), s + u, *pos - u);
    if (!unit)
        return fail(e, ret_offset, u, "unknown unit \"%.*s\"; units are w, d, h, m, s and ms",
                    (int)(*pos - u), s + u);
    int rank = (int)(unit - duration_units);
    if (rank == *last)
        return fail(e, ret_offset, u, "unit \"%s\" appears twice", unit->name);
    if (rank < *last)
        return fail(e, ret_offset, u, "units must go from largest to smallest, as in 1h30m");
    *last = rank;
    if (!fits || n > UINT64_MAX / unit->factor || *total > UINT64_MAX - n * unit->factor)
        return fail(e, ret_offset, start, "duration too large");
    *total += n * unit->factor;
    return 0;
}

int units_duration_parse(const char *s, uint64_t *ret_ms, struct err *e, size_t *ret_offset)
{
    if (!*s)
        return fail(e, ret_offset, 0, "empty duration");
    if (strcmp(s, "0") == 0) {
        *ret_ms = 0;
        return 0;
    }
    uint64_t total = 0;
    size_t pos = 0;
    int last = -1;
    while (s[pos]) {
        int r = duration_part(s, &pos, &last, &total, e, ret_offset);
        if (r < 0)
            return r;
    }
    *ret_ms = total;
    return 0;
}

int units_size_parse(const char *s, uint64_t *ret_bytes, struct err *e, size_t *ret_offset)
{
    size_t pos = 0;
    if (!is_digit(s[0]))
        return fail(e, ret_offset, 0, "expected a number");
    uint64_t n;
    bool fits = read_digits(s, &pos, &n);
    if (s[pos] == '.')
        return fail(e, ret_offset, pos, "fractions are not allowed; write 1536KiB, not 1.5MiB");
    const struct unit *unit =
            find_unit(size_units, sizeof(size_units) / sizeof(*unit), s + pos, strlen(s + pos));
    if (!unit)
        return fail(e, ret_offset, pos,
                    "unknown unit \"%s\"; units are B, KB, MB, GB, TB, KiB, MiB, GiB and TiB",
                    s + pos);
    if (!fits || n > UINT64_MAX / unit->factor)
        return fail(e, ret_offset, 0, "size too large");
    *ret_bytes = n * unit->factor;
    return 0;
}

/*
 * Reads [+-]digits[.digits] (or [+-].digits) at s[*pos]; the syntax is
 * checked here because strtod() would also take hex, "inf" and exponents.
 */
static bool read_number(const char *s, size_t *pos, bool sign_ok, double *ret_v)
{
    size_t start = *pos, p = *pos;
    if (sign_ok && (s[p] == '-' || s[p] == '+'))
        p++;
    size_t digits = 0;
    while (is_digit(s[p])) {
        p++;
        digits++;
    }
    if (s[p] == '.') {
        p++;
        while (is_digit(s[p])) {
            p++;
            digits++;
        }
    }
    char buf[128];
    if (digits == 0 || p - start >= sizeof(buf))
        return false;
    memcpy(buf, s + start, p - start);
    buf[p - start] = '\0';
    *ret_v = strtod(buf, NULL);
    *pos = p;
    return true;
}

int units_percent_parse(const char *s, double *ret_percent, struct err *e, size_t *ret_offset)
{
    size_t pos = 0;
    double v;
    if (!read_number(s, &pos, false, &v))
        return fail(e, ret_offset, 0, "expected a number followed by %%, such as 80%%");
    if (s[pos] != '%')
        return fail(e, ret_offset, pos, "expected %% after the number");
    if (s[pos + 1])
        return fail(e, ret_offset, pos + 1, "unexpected text after %%");
    if (v > 100)
        return fail(e, ret_offset, 0, "a percentage must be between 0%% and 100%%");
    *ret_percent = v;
    return 0;
}

/* One endpoint of a range: a number, or "~" where allowed. */
static int range_bound(const char *s, size_t *pos, bool tilde_ok, double *ret_v, struct err *e,
                       size_t *ret_offset)
{
    if (tilde_ok && s[*pos] == '~') {
        (*pos)++;
        *ret_v = -INFINITY;
        return 0;
    }
    if (!read_number(s, pos, true, ret_v))
        return fail(e, ret_offset, *pos, "expected a number%s", tilde_ok ? " or ~" : "");
    return 0;
}

int units_range_parse(const char *s, struct units_range *ret_range, struct err *e,
                      size_t *ret_offset)
{
    struct units_range r = {.start = 0, .end = INFINITY, .inside = false};
    size_t pos = 0;
    if (s[pos] == '@') {
        r.inside = true;
        pos++;
    }
    if (!s[pos])
        return fail(e, ret_offset, pos, "empty range; expected [@][start:][end], such as 10:20");
    const char *colon = strchr(s + pos, ':');
    int ret;
    if (colon) {
        if (s + pos != colon && (ret = range_bound(s, &pos, true, &r.start, e, ret_offset)) < 0)
            return ret;
        if (s + pos != colon)
            return fail(e, ret_offset, pos, "expected \":\" after the start of the range");
        pos++;
    }
    if (s[pos] && (ret = range_bound(s, &pos, false, &r.end, e, ret_offset)) < 0)
        return ret;
    if (s[pos])
        return fail(e, ret_offset, pos, "unexpected text after the range");
    if (r.start > r.end)
        return fail(e, ret_offset, 0, "the start of the range is greater than its end");
    *ret_range = r;
    return 0;
}

bool units_range_alerts(const struct units_range *r, double value)
{
    bool within = value >= r->start && value <= r->end;
    return r->inside ? within : !within;
}

char *units_duration_format(uint64_t ms, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, size, "0");
        return buf;
    }
    size_t len = 0;
    for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
        uint64_t n = ms / duration_units[i].factor;
        if (n == 0)
            continue;
        ms -= n * duration_units[i].factor;
        int w = snprintf(buf + len, size - len, "%llu%s", (unsigned long long)n,
                         duration_units[i].name);
        if (w < 0 || (size_t)w >= size - len)
            break;
        len += (size_t)w;
    }
    return buf;
}
