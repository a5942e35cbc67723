/* SPDX-License-Identifier: MIT */
/*
 * The line protocol parser: one pass over the text, byte by byte, with
 * the grammar of influxdata/line-protocol (line-protocol.ebnf) and the
 * unescaping of its reference decoder. A part of a line without a
 * backslash is handed on as a view into the text; one with escapes is
 * unescaped into the scratch buffer, which is sized once per line for the
 * rest of the text, so views taken earlier in the line stay valid.
 */
#include "ingest/lineproto.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

/* A number longer than this is copied to the heap for strtod(). */
#define LP_NUMBER_STACK 128
/* Bytes of the text quoted in an error. */
#define LP_QUOTE_MAX    64

struct ingest_lineproto_parser {
    char *scratch; /* unescaped parts of the current line */
    size_t scratch_len, scratch_cap;
    struct ingest_lineproto_tag *tags;
    size_t tags_cap;
    struct ingest_lineproto_field *fields;
    size_t fields_cap;
};

/* One parse: where it is in the text. */
struct lp {
    struct ingest_lineproto_parser *p;
    const char *s;
    size_t len, pos;
    size_t line_start; /* offset of the current line's first byte */
    unsigned line;
    int64_t time_factor; /* nanoseconds per unit of the precision */
    struct ingest_lineproto_error *e;
};

bool ingest_lineproto_precision_parse(const char *s, enum ingest_lineproto_precision *ret)
{
    static const char *const names[] = {"ns", "us", "ms", "s"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i]) == 0) {
            *ret = (enum ingest_lineproto_precision)i;
            return true;
        }
    return false;
}

struct ingest_lineproto_parser *ingest_lineproto_parser_new(void)
{
    return xcalloc(1, sizeof(struct ingest_lineproto_parser));
}

void ingest_lineproto_parser_free(struct ingest_lineproto_parser *p)
{
    if (!p)
        return;
    free(p->scratch);
    free(p->tags);
    free(p->fields);
    free(p);
}

/* ---- errors ---- */

static unsigned lp_column(const struct lp *x, size_t pos)
{
    size_t col = pos - x->line_start + 1;
    return col > UINT32_MAX ? UINT32_MAX : (unsigned)col;
}

__attribute__((format(printf, 3, 4))) static int lp_fail(struct lp *x, size_t pos, const char *fmt,
                                                         ...)
{
    if (x->e) {
        x->e->line = x->line;
        x->e->column = lp_column(x, pos);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(x->e->msg, sizeof(x->e->msg), fmt, ap);
        va_end(ap);
    }
    return HALE_EPARSE;
}

/* What is at pos, in words, for "found ..." in errors. */
static const char *lp_found(const struct lp *x, size_t pos, char *buf, size_t size)
{
    if (pos >= x->len)
        return "the end of the text";
    unsigned char c = (unsigned char)x->s[pos];
    if (c == '\n' || (c == '\r' && pos + 1 < x->len && x->s[pos + 1] == '\n'))
        return "the end of the line";
    if (c == ' ')
        return "a space";
    if (c < 0x20 || c == 0x7f)
        snprintf(buf, size, "control byte 0x%02x", c);
    else
        snprintf(buf, size, "'%c'", c);
    return buf;
}

/* A part of the text for an error message: at most LP_QUOTE_MAX bytes of it. */
#define LP_QUOTE(t) (int)((t).len < LP_QUOTE_MAX ? (t).len : LP_QUOTE_MAX), (t).s

/* ---- bytes ---- */

/* At a line end ("\n" or "\r\n") or the end of the text. */
static bool at_eol(const struct lp *x, size_t pos)
{
    return pos >= x->len || x->s[pos] == '\n' ||
           (x->s[pos] == '\r' && pos + 1 < x->len && x->s[pos + 1] == '\n');
}

static void skip_spaces(struct lp *x)
{
    while (x->pos < x->len && x->s[x->pos] == ' ')
        x->pos++;
}

/* Steps over the line end at x->pos (the caller knows there is one). */
static void next_line(struct lp *x)
{
    if (x->pos < x->len)
        x->pos += x->s[x->pos] == '\r' ? 2 : 1;
    x->line++;
    x->line_start = x->pos;
}

/*
 * Room for the unescaped parts of the line that starts at from: they are
 * never longer than the rest of the text, so nothing moves until the next
 * line.
 */
static void scratch_reserve(struct lp *x, size_t from)
{
    struct ingest_lineproto_parser *p = x->p;
    size_t need = x->len - from;
    if (p->scratch_cap < need) {
        free(p->scratch);
        p->scratch_cap = need < 256 ? 256 : need;
        p->scratch = xmalloc(p->scratch_cap);
    }
    p->scratch_len = 0;
}

/* ---- names: measurement, tag keys and values, field keys ---- */

/* What a byte means in a name, looked up once per byte. */
enum {
    LP_ENDS_MEASUREMENT = 1, /* ',' ' ': ends a measurement; escaped by a backslash */
    LP_ENDS_KEY = 2,         /* ',' '=' ' ': ends a tag key, tag value or field key */
    LP_CONTROL = 4,
    LP_BACKSLASH = 8,
};

static const unsigned char lp_class[256] = {
        [0 ... 0x1f] = LP_CONTROL,
        [0x7f] = LP_CONTROL,
        [','] = LP_ENDS_MEASUREMENT | LP_ENDS_KEY,
        [' '] = LP_ENDS_MEASUREMENT | LP_ENDS_KEY,
        ['='] = LP_ENDS_KEY,
        ['\\'] = LP_BACKSLASH,
};

/*
 * Reads a name at x->pos up to an unescaped byte of class ends (or a line
 * end); a backslash before such a byte escapes it, before any other byte
 * it is itself. Returns 0 with the name in *ret (empty when an ending
 * byte comes first), or HALE_EPARSE for a control byte in it; what names
 * it in the error.
 */
static int lp_name(struct lp *x, unsigned ends, const char *what, struct ingest_lineproto_text *ret)
{
    const unsigned char *s = (const unsigned char *)x->s;
    size_t start = x->pos, pos = x->pos;
    bool escaped = false;
    while (pos < x->len) {
        unsigned k = lp_class[s[pos]] & (ends | LP_CONTROL | LP_BACKSLASH);
        if (!k) {
            pos++;
            continue;
        }
        if (k & LP_BACKSLASH) {
            if (pos + 1 < x->len && (lp_class[s[pos + 1]] & ends)) {
                escaped = true;
                pos += 2;
            } else {
                pos++;
            }
            continue;
        }
        if (k & ends)
            break;
        if (at_eol(x, pos))
            break;
        return lp_fail(x, pos, "control byte 0x%02x in %s: line protocol cannot carry it", s[pos],
                       what);
    }
    x->pos = pos;
    if (!escaped) {
        *ret = (struct ingest_lineproto_text){x->s + start, pos - start};
        return 0;
    }
    struct ingest_lineproto_parser *p = x->p;
    char *out = p->scratch + p->scratch_len, *o = out;
    for (size_t i = start; i < pos; i++) {
        if (s[i] == '\\' && i + 1 < pos && (lp_class[s[i + 1]] & ends))
            i++;
        *o++ = (char)s[i];
    }
    p->scratch_len += (size_t)(o - out);
    *ret = (struct ingest_lineproto_text){out, (size_t)(o - out)};
    return 0;
}

/* ---- field values ---- */

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Whether t is a float of the grammar: [-] then digits [. [digits]] [exp],
 * or . digits [exp], where exp is e|E [+|-] digits. When it is, and its
 * digits fit in a double exactly with a power of ten that does too,
 * *ret_fast is its value and *ret_has_fast true (Clinger's fast path:
 * one correctly rounded operation); otherwise strtod() decides.
 */
static bool float_scan(const char *t, size_t n, double *ret_fast, bool *ret_has_fast)
{
    size_t i = 0;
    bool neg = n > 0 && t[0] == '-';
    i += neg;
    uint64_t m = 0;
    unsigned digits = 0, int_digits = 0, frac_digits = 0;
    while (i < n && is_digit(t[i])) {
        if (m || t[i] != '0')
            digits++;
        m = digits <= 19 ? m * 10 + (uint64_t)(t[i] - '0') : m;
        int_digits++;
        i++;
    }
    if (i < n && t[i] == '.') {
        i++;
        while (i < n && is_digit(t[i])) {
            if (m || t[i] != '0')
                digits++;
            m = digits <= 19 ? m * 10 + (uint64_t)(t[i] - '0') : m;
            frac_digits++;
            i++;
        }
    }
    if (int_digits + frac_digits == 0)
        return false;
    long exp = 0;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        bool eneg = i < n && t[i] == '-';
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        if (i == n || !is_digit(t[i]))
            return false;
        while (i < n && is_digit(t[i])) {
            if (exp < 100000)
                exp = exp * 10 + (t[i] - '0');
            i++;
        }
        exp = eneg ? -exp : exp;
    }
    if (i != n)
        return false;
    long k = exp - (long)frac_digits;
    *ret_has_fast = digits <= 15 && k >= -22 && k <= 22;
    if (*ret_has_fast) {
        double v = (double)m;
        v = k >= 0 ? v * pow10_exact[k] : v / pow10_exact[-k];
        *ret_fast = neg ? -v : v;
    }
    return true;
}

/* Reads the digits of t (n > 0, digits only) into *ret; false past max. */
static bool digits_value(const char *t, size_t n, uint64_t max, uint64_t *ret)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(t[i]))
            return false;
        unsigned d = (unsigned)(t[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *ret = v;
    return true;
}

static bool all_digits(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(t[i]))
            return false;
    return n > 0;
}

/* A number token (from '-', '.' or a digit to the next ',', space or line end). */
static int lp_number(struct lp *x, const struct ingest_lineproto_text *key,
                     struct ingest_lineproto_field *f)
{
    size_t start = x->pos, pos = x->pos;
    while (pos < x->len && x->s[pos] != ',' && x->s[pos] != ' ' && !at_eol(x, pos))
        pos++;
    const char *t = x->s + start;
    size_t n = pos - start;
    x->pos = pos;
    char last = t[n - 1];
    if (last == 'i') {
        bool neg = t[0] == '-';
        uint64_t v;
        if (!all_digits(t + neg, n - 1 - neg))
            return lp_fail(x, start, "field \"%.*s\": \"%.*s\" is not an integer (such as 42i)",
                           LP_QUOTE(*key), (int)(n < LP_QUOTE_MAX ? n : LP_QUOTE_MAX), t);
        if (!digits_value(t + neg, n - 1 - neg, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v))
            return lp_fail(x, start,
                           "field \"%.*s\": integer out of range (-9223372036854775808 to "
                           "9223372036854775807)",
                           LP_QUOTE(*key));
        f->type = INGEST_LINEPROTO_INT;
        f->v.i = neg ? (int64_t)(0 - v) : (int64_t)v;
        return 0;
    }
    if (last == 'u') {
        uint64_t v;
        if (!all_digits(t, n - 1))
            return lp_fail(x, start,
                           "field \"%.*s\": \"%.*s\" is not an unsigned integer (such as 42u)",
                           LP_QUOTE(*key), (int)(n < LP_QUOTE_MAX ? n : LP_QUOTE_MAX), t);
        if (!digits_value(t, n - 1, UINT64_MAX, &v))
            return lp_fail(x, start,
                           "field \"%.*s\": unsigned integer out of range (0 to "
                           "18446744073709551615)",
                           LP_QUOTE(*key));
        f->type = INGEST_LINEPROTO_UINT;
        f->v.u = v;
        return 0;
    }
    double fast = 0;
    bool has_fast = false;
    if (!float_scan(t, n, &fast, &has_fast))
        return lp_fail(x, start,
                       "field \"%.*s\": \"%.*s\" is not a number (such as 1, -1.5 or 2e-3; an "
                       "integer is written 42i)",
                       LP_QUOTE(*key), (int)(n < LP_QUOTE_MAX ? n : LP_QUOTE_MAX), t);
    f->type = INGEST_LINEPROTO_FLOAT;
    if (has_fast) {
        f->v.f = fast;
        return 0;
    }
    /* Rare: many digits or a large exponent. strtod() wants a terminated copy. */
    char stack[LP_NUMBER_STACK];
    char *copy = n < sizeof(stack) ? stack : xmalloc(n + 1);
    memcpy(copy, t, n);
    copy[n] = '\0';
    errno = 0;
    double v = strtod(copy, NULL);
    bool overflow = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
    if (copy != stack)
        free(copy);
    if (overflow)
        return lp_fail(x, start, "field \"%.*s\": the number is too large for a double",
                       LP_QUOTE(*key));
    f->v.f = v;
    return 0;
}

static int lp_bool(struct lp *x, const struct ingest_lineproto_text *key,
                   struct ingest_lineproto_field *f)
{
    static const char *const spellings[] = {"t", "T", "true",  "True",  "TRUE",
                                            "f", "F", "false", "False", "FALSE"};
    size_t start = x->pos, pos = x->pos;
    while (pos < x->len && x->s[pos] != ',' && x->s[pos] != ' ' && !at_eol(x, pos))
        pos++;
    size_t n = pos - start;
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++)
        if (strlen(spellings[i]) == n && memcmp(spellings[i], x->s + start, n) == 0) {
            f->type = INGEST_LINEPROTO_BOOL;
            f->v.b = i < 5;
            x->pos = pos;
            return 0;
        }
    return lp_fail(x, start,
                   "field \"%.*s\": \"%.*s\" is not a boolean (true or false; a string is "
                   "written in double quotes)",
                   LP_QUOTE(*key), (int)(n < LP_QUOTE_MAX ? n : LP_QUOTE_MAX), x->s + start);
}

/* The byte a backslash before c stands for in a string, or 0 when the backslash is itself. */
static char string_escape(char c)
{
    switch (c) {
    case '"':
    case '\\':
        return c;
    case 'n':
        return '\n';
    case 'r':
        return '\r';
    case 't':
        return '\t';
    default:
        return 0;
    }
}

static int lp_string(struct lp *x, const struct ingest_lineproto_text *key,
                     struct ingest_lineproto_field *f)
{
    const char *s = x->s;
    size_t open = x->pos, pos = x->pos + 1;
    unsigned open_line = x->line;
    size_t open_line_start = x->line_start;
    bool escaped = false;
    while (pos < x->len && s[pos] != '"') {
        if (s[pos] == '\\' && pos + 1 < x->len) {
            escaped = true;
            pos += s[pos + 1] == '\n' ? 1 : 2;
            continue;
        }
        if (s[pos] == '\n') { /* a raw newline is part of the string */
            x->line++;
            x->line_start = pos + 1;
        }
        pos++;
    }
    if (pos >= x->len) {
        x->line = open_line;
        x->line_start = open_line_start;
        return lp_fail(x, open, "field \"%.*s\": the string has no closing double quote",
                       LP_QUOTE(*key));
    }
    f->type = INGEST_LINEPROTO_STRING;
    x->pos = pos + 1;
    if (!escaped) {
        f->v.s = (struct ingest_lineproto_text){s + open + 1, pos - open - 1};
        return 0;
    }
    struct ingest_lineproto_parser *p = x->p;
    char *out = p->scratch + p->scratch_len, *o = out;
    for (size_t i = open + 1; i < pos; i++) {
        char e = s[i] == '\\' && i + 1 < pos ? string_escape(s[i + 1]) : 0;
        if (e)
            i++;
        *o++ = e ? e : s[i];
    }
    p->scratch_len += (size_t)(o - out);
    f->v.s = (struct ingest_lineproto_text){out, (size_t)(o - out)};
    return 0;
}

static int lp_value(struct lp *x, const struct ingest_lineproto_text *key,
                    struct ingest_lineproto_field *f)
{
    char c = x->pos < x->len ? x->s[x->pos] : '\0';
    if (c == '"')
        return lp_string(x, key, f);
    if (c == 't' || c == 'T' || c == 'f' || c == 'F')
        return lp_bool(x, key, f);
    if (c == '-' || c == '.' || is_digit(c))
        return lp_number(x, key, f);
    char buf[32];
    return lp_fail(x, x->pos,
                   "field \"%.*s\": expected a value after '=', found %s (a number such as 1.5, "
                   "an integer 42i, an unsigned 42u, true or false, or a \"string\")",
                   LP_QUOTE(*key), lp_found(x, x->pos, buf, sizeof(buf)));
}

/* ---- a point ---- */

static int tag_compare(const void *a, const void *b)
{
    const struct ingest_lineproto_text *x = &((const struct ingest_lineproto_tag *)a)->key;
    const struct ingest_lineproto_text *y = &((const struct ingest_lineproto_tag *)b)->key;
    int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Sorts the tags by key (Telegraf sends them sorted already) and refuses a key given twice. */
static int tags_settle(struct lp *x, struct ingest_lineproto_tag *tags, size_t n)
{
    bool sorted = true;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = tag_compare(&tags[i - 1], &tags[i]) < 0;
    if (sorted)
        return 0;
    qsort(tags, n, sizeof(*tags), tag_compare);
    for (size_t i = 1; i < n; i++)
        if (tag_compare(&tags[i - 1], &tags[i]) == 0) {
            unsigned col =
                    tags[i - 1].column > tags[i].column ? tags[i - 1].column : tags[i].column;
            x->pos = x->line_start + col - 1;
            return lp_fail(x, x->pos, "tag \"%.*s\" is given twice in the point",
                           LP_QUOTE(tags[i].key));
        }
    return 0;
}

static int lp_tags(struct lp *x, size_t *ret_n)
{
    struct ingest_lineproto_parser *p = x->p;
    size_t n = 0;
    char buf[32];
    while (x->pos < x->len && x->s[x->pos] == ',') {
        x->pos++;
        if (n == p->tags_cap) {
            p->tags_cap = p->tags_cap ? p->tags_cap * 2 : 16;
            p->tags = xreallocarray(p->tags, p->tags_cap, sizeof(*p->tags));
        }
        struct ingest_lineproto_tag *t = &p->tags[n];
        t->column = lp_column(x, x->pos);
        int r = lp_name(x, LP_ENDS_KEY, "a tag key", &t->key);
        if (r < 0)
            return r;
        if (t->key.len == 0)
            return lp_fail(x, x->pos, "expected a tag key after ',', found %s",
                           lp_found(x, x->pos, buf, sizeof(buf)));
        if (x->pos >= x->len || x->s[x->pos] != '=')
            return lp_fail(x, x->pos, "expected '=' after tag key \"%.*s\", found %s",
                           LP_QUOTE(t->key), lp_found(x, x->pos, buf, sizeof(buf)));
        x->pos++;
        if ((r = lp_name(x, LP_ENDS_KEY, "a tag value", &t->value)) < 0)
            return r;
        if (t->value.len == 0)
            return lp_fail(x, x->pos,
                           "expected a value for tag \"%.*s\", found %s (a tag cannot be empty: "
                           "leave it out)",
                           LP_QUOTE(t->key), lp_found(x, x->pos, buf, sizeof(buf)));
        if (x->pos < x->len && x->s[x->pos] == '=')
            return lp_fail(x, x->pos,
                           "tag \"%.*s\": '=' in a value must be escaped as '\\=' (or a space is "
                           "missing before the fields)",
                           LP_QUOTE(t->key));
        n++;
    }
    *ret_n = n;
    return tags_settle(x, p->tags, n);
}

static int lp_fields(struct lp *x, size_t *ret_n)
{
    struct ingest_lineproto_parser *p = x->p;
    size_t n = 0;
    char buf[32];
    for (;;) {
        if (n == p->fields_cap) {
            p->fields_cap = p->fields_cap ? p->fields_cap * 2 : 16;
            p->fields = xreallocarray(p->fields, p->fields_cap, sizeof(*p->fields));
        }
        struct ingest_lineproto_field *f = &p->fields[n];
        f->column = lp_column(x, x->pos);
        int r = lp_name(x, LP_ENDS_KEY, "a field key", &f->key);
        if (r < 0)
            return r;
        if (f->key.len == 0)
            return lp_fail(x, x->pos, "expected a field key%s, found %s", n ? " after ','" : "",
                           lp_found(x, x->pos, buf, sizeof(buf)));
        if (x->pos >= x->len || x->s[x->pos] != '=')
            return lp_fail(x, x->pos,
                           "expected '=' after field key \"%.*s\", found %s (a point needs at "
                           "least one field, such as value=1)",
                           LP_QUOTE(f->key), lp_found(x, x->pos, buf, sizeof(buf)));
        x->pos++;
        if ((r = lp_value(x, &f->key, f)) < 0)
            return r;
        n++;
        if (x->pos < x->len && x->s[x->pos] == ',') {
            x->pos++;
            continue;
        }
        if (x->pos < x->len && x->s[x->pos] != ' ' && !at_eol(x, x->pos))
            return lp_fail(x, x->pos,
                           "expected ',', a space or the end of the line after field \"%.*s\", "
                           "found %s",
                           LP_QUOTE(f->key), lp_found(x, x->pos, buf, sizeof(buf)));
        *ret_n = n;
        return 0;
    }
}

static int lp_time(struct lp *x, struct ingest_lineproto_point *pt)
{
    size_t start = x->pos, pos = x->pos;
    while (pos < x->len && x->s[pos] != ' ' && !at_eol(x, pos))
        pos++;
    const char *t = x->s + start;
    size_t n = pos - start;
    bool neg = t[0] == '-';
    uint64_t v;
    if (!all_digits(t + neg, n - neg))
        return lp_fail(x, start,
                       "expected a timestamp (a whole number) or the end of the line after the "
                       "fields, found \"%.*s\"",
                       (int)(n < LP_QUOTE_MAX ? n : LP_QUOTE_MAX), t);
    uint64_t max = (uint64_t)(INT64_MAX / x->time_factor);
    if (!digits_value(t + neg, n - neg, max, &v))
        return lp_fail(x, start,
                       "the timestamp is out of range: at most 9223372036854775807 nanoseconds "
                       "from 1970 (check the precision parameter)");
    pt->has_time = true;
    pt->time_ns = (neg ? -(int64_t)v : (int64_t)v) * x->time_factor;
    pt->time_column = lp_column(x, start);
    x->pos = pos;
    return 0;
}

static int lp_point(struct lp *x, ingest_lineproto_point_fn *fn, void *data)
{
    struct ingest_lineproto_point pt = {.line = x->line, .column = lp_column(x, x->pos)};
    char buf[32];
    scratch_reserve(x, x->line_start);
    int r = lp_name(x, LP_ENDS_MEASUREMENT, "the measurement", &pt.measurement);
    if (r < 0)
        return r;
    if (pt.measurement.len == 0)
        return lp_fail(x, x->pos, "expected a measurement name, found %s",
                       lp_found(x, x->pos, buf, sizeof(buf)));
    if ((r = lp_tags(x, &pt.n_tags)) < 0)
        return r;
    if (x->pos >= x->len || x->s[x->pos] != ' ')
        return lp_fail(x, x->pos,
                       "expected a space and the fields after \"%.*s\", found %s (a point is "
                       "measurement[,tag=value] field=value [timestamp])",
                       LP_QUOTE(pt.measurement), lp_found(x, x->pos, buf, sizeof(buf)));
    skip_spaces(x);
    if ((r = lp_fields(x, &pt.n_fields)) < 0)
        return r;
    skip_spaces(x);
    if (!at_eol(x, x->pos)) {
        if ((r = lp_time(x, &pt)) < 0)
            return r;
        skip_spaces(x);
        if (!at_eol(x, x->pos))
            return lp_fail(x, x->pos, "expected the end of the line after the timestamp, found %s",
                           lp_found(x, x->pos, buf, sizeof(buf)));
    }
    pt.tags = x->p->tags;
    pt.fields = x->p->fields;
    return fn(&pt, data, x->e);
}

int ingest_lineproto_parse(struct ingest_lineproto_parser *p, const char *text, size_t len,
                           enum ingest_lineproto_precision precision, ingest_lineproto_point_fn *fn,
                           void *data, struct ingest_lineproto_error *e)
{
    static const int64_t factors[] = {1, 1000, 1000000, 1000000000};
    struct lp x = {
            .p = p,
            .s = text,
            .len = len,
            .line = 1,
            .time_factor = factors[precision],
            .e = e,
    };
    while (x.pos < x.len) {
        skip_spaces(&x);
        if (at_eol(&x, x.pos)) {
            next_line(&x);
            continue;
        }
        char c = x.s[x.pos];
        if (c == '#') {
            while (!at_eol(&x, x.pos))
                x.pos++;
            next_line(&x);
            continue;
        }
        if (c == '\r')
            return lp_fail(&x, x.pos, "a carriage return must be followed by a line feed");
        int r = lp_point(&x, fn, data);
        if (r < 0)
            return r;
        next_line(&x); /* lp_point() ends at a line end */
    }
    return 0;
}
