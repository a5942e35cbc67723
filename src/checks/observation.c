/* SPDX-License-Identifier: MIT */
/*
 * The observation model: status names, freeing, units, and the formatter
 * that prints an observation the way a Monitoring Plugin would, which
 * `hale check` uses for its one line of output. The parser that reads the
 * same text is in plugin.c and perfdata.c; the two are tested as a pair.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "checks/checks.h"
#include "checks/internal.h"

const char *check_status_name(enum check_status s)
{
    switch (s) {
    case CHECK_STATUS_OK:
        return "ok";
    case CHECK_STATUS_WARNING:
        return "warning";
    case CHECK_STATUS_CRITICAL:
        return "critical";
    case CHECK_STATUS_UNKNOWN:
        break;
    }
    return "unknown";
}

const char *check_status_label(enum check_status s)
{
    switch (s) {
    case CHECK_STATUS_OK:
        return "OK";
    case CHECK_STATUS_WARNING:
        return "WARNING";
    case CHECK_STATUS_CRITICAL:
        return "CRITICAL";
    case CHECK_STATUS_UNKNOWN:
        break;
    }
    return "UNKNOWN";
}

void check_observation_fini(struct check_observation *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n_samples; i++)
        free(o->samples[i].label);
    free(o->samples);
    free(o->summary);
    free(o->long_output);
    free(o->notes);
    memset(o, 0, sizeof(*o));
}

void check__note(struct check_observation *o, const char *fmt, ...)
{
    static const char full[] = "(more notes dropped)";
    size_t len = o->notes ? strlen(o->notes) : 0;
    if (len >= sizeof(full) - 1 && strcmp(o->notes + len - (sizeof(full) - 1), full) == 0)
        return; /* already full */
    va_list ap;
    va_start(ap, fmt);
    char *line = xvasprintf(fmt, ap);
    va_end(ap);
    size_t n = strlen(line);
    /* Room for "\n" + line now, and for "\n" + full + NUL later. */
    if (len + 1 + n + 1 + sizeof(full) > CHECK_NOTES_MAX) {
        free(line);
        line = xstrdup(full);
        n = strlen(line);
    }
    o->notes = xrealloc(o->notes, len + 1 + n + 1);
    if (len > 0)
        o->notes[len++] = '\n';
    memcpy(o->notes + len, line, n + 1);
    free(line);
}

static bool same_double(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static bool same_range(const struct units_range *a, const struct units_range *b)
{
    return a->inside == b->inside && same_double(a->start, b->start) && same_double(a->end, b->end);
}

bool check_sample_is_equal(const struct check_sample *a, const struct check_sample *b)
{
    return strcmp(a->label, b->label) == 0 && strcmp(a->unit, b->unit) == 0 &&
           a->has_value == b->has_value && (!a->has_value || same_double(a->value, b->value)) &&
           a->has_warn == b->has_warn && (!a->has_warn || same_range(&a->warn, &b->warn)) &&
           a->has_crit == b->has_crit && (!a->has_crit || same_range(&a->crit, &b->crit)) &&
           a->has_min == b->has_min && (!a->has_min || same_double(a->min, b->min)) &&
           a->has_max == b->has_max && (!a->has_max || same_double(a->max, b->max));
}

bool check_unit_scale(const char *unit, double *ret_factor, const char **ret_base)
{
    static const struct {
        const char *unit, *base;
        double factor;
    } units[] = {
            {"s", "s", 1},
            {"ms", "s", 1e-3},
            {"us", "s", 1e-6},
            {"B", "B", 1},
            {"KB", "B", 1e3},
            {"MB", "B", 1e6},
            {"GB", "B", 1e9},
            {"TB", "B", 1e12},
            {"KiB", "B", 1024.0},
            {"MiB", "B", 1024.0 * 1024},
            {"GiB", "B", 1024.0 * 1024 * 1024},
            {"TiB", "B", 1024.0 * 1024 * 1024 * 1024},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(unit, units[i].unit) == 0) {
            if (ret_factor)
                *ret_factor = units[i].factor;
            if (ret_base)
                *ret_base = units[i].base;
            return true;
        }
    }
    if (ret_factor)
        *ret_factor = 1;
    if (ret_base)
        *ret_base = unit;
    return false;
}

void check__number_format(double v, char buf[static CHECK__NUMBER_MAX])
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, CHECK__NUMBER_MAX, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
        return;
    }
    if (v == 0) {
        snprintf(buf, CHECK__NUMBER_MAX, "0");
        return;
    }
    /* The fewest significant digits that read back as v, in %e form. */
    char e[64];
    for (int prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* Split "-d.ddde+XX" into sign, digits and exponent, then place the point. */
    const char *p = e;
    bool negative = *p == '-';
    if (negative)
        p++;
    char digits[32];
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < sizeof(digits))
            digits[nd++] = *p;
    long exp = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;

    size_t n = 0;
    if (negative)
        buf[n++] = '-';
    if (exp < 0) {
        buf[n++] = '0';
        buf[n++] = '.';
        for (long i = -1; i > exp; i--)
            buf[n++] = '0';
        memcpy(buf + n, digits, nd);
        n += nd;
    } else {
        size_t whole = (size_t)exp + 1;
        for (size_t i = 0; i < whole; i++)
            buf[n++] = i < nd ? digits[i] : '0';
        if (nd > whole) {
            buf[n++] = '.';
            memcpy(buf + n, digits + whole, nd - whole);
            n += nd - whole;
        }
    }
    buf[n] = '\0';
}

static int add_number(struct strbuf *b, double v)
{
    char num[CHECK__NUMBER_MAX];
    check__number_format(v, num);
    return strbuf_adds(b, num);
}

/* Whether a label must be quoted to read back as itself. */
static bool label_needs_quotes(const char *label)
{
    for (const char *p = label; *p; p++)
        if (strchr(" \t\n\r\v\f'=|;", *p))
            return true;
    return false;
}

static int add_label(struct strbuf *b, const char *label)
{
    if (!label_needs_quotes(label))
        return strbuf_adds(b, label);
    int r = strbuf_addc(b, '\'');
    for (const char *p = label; *p && r == 0; p++) {
        if (*p == '\'')
            r = strbuf_adds(b, "''");
        else if (*p == '\n' || *p == '\r')
            r = strbuf_addc(b, ' ');
        else
            r = strbuf_addc(b, *p);
    }
    return r < 0 ? r : strbuf_addc(b, '\'');
}

static bool range_is_writable(const struct units_range *r)
{
    return !isnan(r->start) && !isnan(r->end) && r->start <= r->end && r->start != INFINITY &&
           r->end != -INFINITY;
}

/* "10", "10:", "~:10", "10:20", "@10:20"; "0:" for [0, inf). */
static int add_range(struct strbuf *b, const struct units_range *r)
{
    int ret = 0;
    if (r->inside)
        ret = strbuf_addc(b, '@');
    if (ret == 0 && (r->start != 0 || r->end == INFINITY)) {
        if (r->start == -INFINITY)
            ret = strbuf_addc(b, '~');
        else
            ret = add_number(b, r->start);
        if (ret == 0)
            ret = strbuf_addc(b, ':');
    }
    if (ret == 0 && r->end != INFINITY)
        ret = add_number(b, r->end);
    return ret;
}

static int add_unit(struct strbuf *b, const char *unit)
{
    int r = 0;
    for (const char *p = unit; *p && r == 0; p++)
        r = strbuf_addc(b, strchr(" \t\n\r\v\f;|", *p) ? '_' : *p);
    return r;
}

static int add_sample(struct strbuf *b, const struct check_sample *s)
{
    int r = add_label(b, s->label);
    if (r == 0)
        r = strbuf_addc(b, '=');
    if (r == 0)
        r = s->has_value ? add_number(b, s->value) : strbuf_addc(b, 'U');
    if (r == 0)
        r = add_unit(b, s->unit);

    bool warn = s->has_warn && range_is_writable(&s->warn);
    bool crit = s->has_crit && range_is_writable(&s->crit);
    bool min = s->has_min && isfinite(s->min);
    bool max = s->has_max && isfinite(s->max);
    /* Fields up to the last one present; empty ones before it stay as ";;". */
    int last = max ? 4 : min ? 3 : crit ? 2 : warn ? 1 : 0;
    for (int f = 1; f <= last && r == 0; f++) {
        r = strbuf_addc(b, ';');
        if (r < 0)
            break;
        if (f == 1 && warn)
            r = add_range(b, &s->warn);
        else if (f == 2 && crit)
            r = add_range(b, &s->crit);
        else if (f == 3 && min)
            r = add_number(b, s->min);
        else if (f == 4 && max)
            r = add_number(b, s->max);
    }
    return r;
}

int check_perfdata_format(const struct check_sample *samples, size_t n, struct strbuf *b)
{
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!samples[i].label || !samples[i].label[0])
            continue;
        int r = first ? 0 : strbuf_addc(b, ' ');
        if (r == 0)
            r = add_sample(b, &samples[i]);
        if (r < 0)
            return r;
        first = false;
    }
    return 0;
}

static bool is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether word appears in s as a whole word. */
static bool names_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = strstr(s, word); p; p = strstr(p + 1, word))
        if ((p == s || !is_word_char(p[-1])) && !is_word_char(p[n]))
            return true;
    return false;
}

/* Text on one plugin line: '|' would start perfdata, a line break a new line. */
static int add_line_text(struct strbuf *b, const char *s, bool one_line)
{
    int r = 0;
    for (const char *p = s; *p && r == 0; p++) {
        char c = *p;
        if (c == '|')
            c = '/';
        else if (one_line && (c == '\n' || c == '\r'))
            c = ' ';
        r = strbuf_addc(b, c);
    }
    return r;
}

int check_observation_format(const struct check_observation *o, unsigned flags, struct strbuf *b)
{
    const char *label = check_status_label(o->status);
    const char *summary = o->summary ? o->summary : "";
    int r = 0;
    if (!names_word(summary, label)) {
        r = strbuf_adds(b, label);
        if (r == 0 && summary[0])
            r = strbuf_adds(b, " - ");
    }
    if (r == 0)
        r = add_line_text(b, summary, true);
    bool any = false;
    for (size_t i = 0; i < o->n_samples && !any; i++)
        any = o->samples[i].label && o->samples[i].label[0];
    if (r == 0 && any) {
        r = strbuf_adds(b, " | ");
        if (r == 0)
            r = check_perfdata_format(o->samples, o->n_samples, b);
    }
    if (r == 0 && (flags & CHECK_FORMAT_LONG_OUTPUT) && o->long_output) {
        r = strbuf_addc(b, '\n');
        if (r == 0)
            r = add_line_text(b, o->long_output, false);
    }
    return r;
}
