/* SPDX-License-Identifier: MIT */
/*
 * The performance-data half of the Monitoring Plugins format:
 *   'label'=value[UOM];[warn];[crit];[min];[max] ...
 * read into check samples. Real plugins bend the grammar (trailing ';',
 * blanks around items, a blank before '=', locale commas, units nobody
 * listed), so the reader is lenient item by item: a malformed item is
 * skipped with a note and the rest are kept. It is strict about memory:
 * labels, units, numbers and the number of items are all bounded.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "checks/checks.h"
#include "checks/internal.h"

#define CHECK__STR_(x) #x
#define CHECK__STR(x)  CHECK__STR_(x)

/* Bytes of a malformed item quoted in its note. */
#define ITEM_EXCERPT 40

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Items are separated by blanks; '|' also separates, as it does in Nagios' own joins. */
static bool is_separator(char c)
{
    return is_blank(c) || c == '|';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static size_t next_separator(const char *s, size_t len, size_t pos)
{
    while (pos < len && !is_separator(s[pos]))
        pos++;
    return pos;
}

/* One item's text, for the notes that mention it. */
struct item {
    const char *s;
    size_t len;
};

static void note_item(struct check_observation *o, const struct item *it, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* How much of s[0..len) a note quotes: at most ITEM_EXCERPT bytes, never half a character. */
static size_t excerpt_len(const char *s, size_t len)
{
    if (len <= ITEM_EXCERPT)
        return len;
    size_t n = ITEM_EXCERPT;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

static void note_item(struct check_observation *o, const struct item *it, const char *fmt, ...)
{
    size_t n = excerpt_len(it->s, it->len);
    bool cut = n < it->len;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    check__note(o, "perfdata item \"%.*s%s\": %s", (int)n, it->s, cut ? "..." : "", msg);
    free(msg);
}

/*
 * Scans a decimal number at the start of s[0..len): [+-]digits[.digits]
 * with an optional exponent, or ',' for '.' between digits (the locale
 * comma some plugins print). Returns the bytes scanned, 0 when there is
 * no number or it is too long to be one.
 */
static size_t scan_number(const char *s, size_t len, double *ret_v)
{
    size_t p = 0, digits = 0;
    if (p < len && (s[p] == '+' || s[p] == '-'))
        p++;
    while (p < len && is_digit(s[p])) {
        p++;
        digits++;
    }
    bool comma_ok = digits > 0 && p + 1 < len && is_digit(s[p + 1]);
    if (p < len && (s[p] == '.' || (s[p] == ',' && comma_ok))) {
        p++;
        while (p < len && is_digit(s[p])) {
            p++;
            digits++;
        }
    }
    if (digits == 0)
        return 0;
    if (p < len && (s[p] == 'e' || s[p] == 'E')) {
        size_t q = p + 1;
        if (q < len && (s[q] == '+' || s[q] == '-'))
            q++;
        if (q < len && is_digit(s[q])) {
            while (q < len && is_digit(s[q]))
                q++;
            p = q;
        }
    }
    char buf[CHECK__NUMBER_MAX];
    if (p >= sizeof(buf))
        return 0;
    for (size_t i = 0; i < p; i++)
        buf[i] = s[i] == ',' ? '.' : s[i];
    buf[p] = '\0';
    *ret_v = strtod(buf, NULL);
    return p;
}

/*
 * Whether u[0..len) can be the unit after a number: not more of a number
 * ("1800,600,300" or "5e3e3"), which the formatter could not write back.
 */
static bool unit_can_follow(const char *u, size_t len)
{
    if (len == 0)
        return true;
    if (strchr("0123456789.,+-", u[0]))
        return false;
    if (u[0] == 'e' || u[0] == 'E') {
        size_t i = 1;
        if (i < len && (u[i] == '+' || u[i] == '-'))
            i++;
        return !(i < len && is_digit(u[i]));
    }
    return true;
}

/* A field, less a copy of the value's unit that some plugins repeat ("90%"). */
static size_t without_unit(const char *f, size_t len, const char *unit)
{
    size_t u = strlen(unit);
    if (u > 0 && len > u && memcmp(f + len - u, unit, u) == 0)
        return len - u;
    return len;
}

/* min or max: a number and nothing else. */
static bool parse_plain(const char *f, size_t len, double *ret_v)
{
    double v;
    if (len == 0 || scan_number(f, len, &v) != len || !isfinite(v))
        return false;
    *ret_v = v;
    return true;
}

/* warn or crit: a range, read by the one range parser hale has. */
static bool parse_range(const char *f, size_t len, struct units_range *ret_r)
{
    char buf[128];
    if (len == 0 || len >= sizeof(buf) || memchr(f, '\0', len))
        return false;
    memcpy(buf, f, len);
    buf[len] = '\0';
    if (!memchr(buf, '.', len)) /* locale commas: "100,200" means 100.2 */
        for (size_t i = 0; i < len; i++)
            if (buf[i] == ',')
                buf[i] = '.';
    return units_range_parse(buf, ret_r, NULL, NULL) == 0;
}

static const char *const field_names[] = {"value", "warn", "crit", "min", "max"};

/*
 * Reads the part after '=' into s (label already set). Returns false when
 * the item is unusable; a bad threshold or limit only drops that field.
 */
static bool parse_fields(struct check_observation *o, const struct item *it, const char *d,
                         size_t len, struct check_sample *s)
{
    const char *f[5] = {0};
    size_t flen[5] = {0};
    size_t nf = 0, start = 0;
    bool extra = false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && d[i] != ';')
            continue;
        if (nf < 5) {
            f[nf] = d + start;
            flen[nf] = i - start;
            nf++;
        } else if (i > start) {
            extra = true;
        }
        start = i + 1;
    }

    if (flen[0] == 1 && f[0][0] == 'U') {
        s->has_value = false;
        s->value = NAN;
    } else {
        size_t n = scan_number(f[0], flen[0], &s->value);
        if (n == 0 || !unit_can_follow(f[0] + n, flen[0] - n)) {
            note_item(o, it, "the value is not a number; skipped");
            return false;
        }
        if (!isfinite(s->value)) {
            note_item(o, it, "the value is out of range; skipped");
            return false;
        }
        if (flen[0] - n > CHECK_UNIT_MAX) {
            note_item(o, it, "the unit is longer than %d bytes; skipped", CHECK_UNIT_MAX);
            return false;
        }
        s->has_value = true;
        memcpy(s->unit, f[0] + n, flen[0] - n);
        s->unit[flen[0] - n] = '\0';
    }

    for (size_t i = 1; i < nf; i++) {
        if (flen[i] == 0)
            continue;
        size_t n = without_unit(f[i], flen[i], s->unit);
        bool ok;
        if (i == 1)
            ok = s->has_warn = parse_range(f[i], n, &s->warn);
        else if (i == 2)
            ok = s->has_crit = parse_range(f[i], n, &s->crit);
        else if (i == 3)
            ok = s->has_min = parse_plain(f[i], n, &s->min);
        else
            ok = s->has_max = parse_plain(f[i], n, &s->max);
        if (!ok)
            note_item(o, it, "%s \"%.*s\" is not a %s; ignored", field_names[i],
                      (int)excerpt_len(f[i], flen[i]), f[i], i <= 2 ? "range" : "number");
    }
    if (extra)
        note_item(o, it, "fields after max ignored");
    return true;
}

/*
 * Reads a label at s[*pos]: 'quoted, with '' for a quote' or bare up to
 * '=' or a separator. Leaves *pos after it. Returns 0, or a negative value
 * with *why set when the item must be skipped.
 */
static int parse_label(const char *s, size_t len, size_t *pos, struct strbuf *label,
                       const char **why)
{
    size_t p = *pos;
    int r = 0;
    if (s[p] == '\'') {
        /* Find the closing quote first, so that a label too long to keep is still skipped whole. */
        size_t q = ++p;
        while (q < len && s[q] != '\n' && s[q] != '\r') {
            if (s[q] == '\'' && !(q + 1 < len && s[q + 1] == '\''))
                break;
            q += s[q] == '\'' ? 2 : 1;
        }
        if (q >= len || s[q] != '\'') {
            *why = "the quoted label has no closing quote";
            return HALE_EPARSE; /* *pos stays: the item is skipped to the next separator */
        }
        while (p < q && r == 0) {
            r = strbuf_addc(label, s[p]);
            p += s[p] == '\'' ? 2 : 1;
        }
        p = q + 1;
    } else {
        while (p < len && s[p] != '=' && !is_separator(s[p]) && r == 0) {
            if (s[p] == '\'') {
                *why = "a quote in an unquoted label";
                *pos = p;
                return HALE_EPARSE;
            }
            r = strbuf_addc(label, s[p++]);
        }
    }
    *pos = p;
    if (r < 0) {
        *why = "the label is longer than " CHECK__STR(CHECK_LABEL_MAX) " bytes";
        return r;
    }
    if (label->len == 0 || memchr(label->s, '\0', label->len)) {
        *why = label->len == 0 ? "the label is empty" : "the label holds a NUL byte";
        return HALE_EPARSE;
    }
    return 0;
}

size_t check__samples_room(size_t n)
{
    size_t room = 4;
    while (room < n)
        room *= 2;
    return room;
}

struct check_sample *check__sample_append(struct check_observation *o)
{
    /* The room for n is check__samples_room(n): full exactly when n is that (or 0). */
    size_t n = o->n_samples;
    if (n == 0 || n == check__samples_room(n))
        o->samples = xreallocarray(o->samples, check__samples_room(n + 1), sizeof(*o->samples));
    struct check_sample *s = &o->samples[n];
    memset(s, 0, sizeof(*s));
    return s;
}

void check_perfdata_parse(struct check_observation *o, const char *text, size_t len)
{
    size_t pos = 0;
    for (;;) {
        while (pos < len && is_separator(text[pos]))
            pos++;
        if (pos >= len)
            return;
        if (o->n_samples >= CHECK_SAMPLES_MAX) {
            check__note(o, "more than %d perfdata items; the rest are dropped", CHECK_SAMPLES_MAX);
            return;
        }
        struct item it = {.s = text + pos};
        struct strbuf label;
        strbuf_init(&label, CHECK_LABEL_MAX);
        const char *why = NULL;
        if (parse_label(text, len, &pos, &label, &why) == 0) {
            size_t eq = pos;
            while (eq < len && (text[eq] == ' ' || text[eq] == '\t'))
                eq++;
            if (eq < len && text[eq] == '=')
                pos = eq + 1;
            else
                why = "no '=' after the label";
        }
        /* The data runs to the next separator; a skipped item ends there too. */
        size_t end = next_separator(text, len, pos);
        it.len = end - (size_t)(it.s - text);
        if (why) {
            note_item(o, &it, "%s; skipped", why);
            strbuf_fini(&label);
            pos = end;
            continue;
        }
        struct check_sample *s = check__sample_append(o);
        if (parse_fields(o, &it, text + pos, end - pos, s)) {
            s->label = strbuf_detach(&label, NULL);
            o->n_samples++;
        }
        strbuf_fini(&label);
        pos = end;
    }
}
