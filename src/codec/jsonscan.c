/* SPDX-License-Identifier: MIT */
/*
 * The strict JSON pull scanner of jsonscan.h. A small state machine over
 * the bytes: the state says what may come next (a value, a name, a
 * separator), a stack of frames says which containers are open. Member
 * names are kept per open object and compared when it closes, so a name
 * given twice costs a sort only in objects with many members.
 */
#include "codec/jsonscan.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/hash.h"

/* Objects with more members are sorted to find duplicates; fewer are compared pairwise. */
#define PAIRWISE_MAX 16

enum state {
    STATE_VALUE,        /* a value: at the top, after ':' or after ',' in an array */
    STATE_ARRAY_FIRST,  /* a value or ']' */
    STATE_OBJECT_FIRST, /* a name or '}' */
    STATE_AFTER,        /* ',' or the container's end; the end of the text at the top */
    STATE_DONE,
    STATE_FAILED,
};

struct codec_jsonscan_name {
    uint32_t hash;
    uint32_t len;
    size_t at;   /* in name_text */
    size_t text; /* offset in the text, for the error */
};

struct codec_jsonscan_frame {
    bool object;
    size_t first_name; /* objects: the first of their names in names */
    size_t name_text;  /* objects: name_text's length when they opened */
};

void codec_jsonscan_init(struct codec_jsonscan *s, const char *text, size_t len)
{
    *s = (struct codec_jsonscan){.text = text, .len = len, .state = STATE_VALUE};
    strbuf_init(&s->str, 0);
    strbuf_init(&s->name_text, 0);
}

void codec_jsonscan_fini(struct codec_jsonscan *s)
{
    strbuf_fini(&s->str);
    strbuf_fini(&s->name_text);
    free(s->frames);
    free(s->names);
    s->frames = NULL;
    s->names = NULL;
}

__attribute__((format(printf, 3, 4))) static int fail(struct codec_jsonscan *s, size_t at,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof(s->error), fmt, ap);
    va_end(ap);
    unsigned line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < at && i < s->len; i++)
        if (s->text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    s->error_line = line;
    s->error_column = (unsigned)(at - line_start + 1);
    s->state = STATE_FAILED;
    return HALE_EPARSE;
}

/* What is at the scanner's position, for an error: "'x'" or "the end of the text". */
static const char *here(const struct codec_jsonscan *s, char buf[8])
{
    if (s->pos >= s->len)
        return "the end of the text";
    unsigned char c = (unsigned char)s->text[s->pos];
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, 8, "'%c'", c);
    else
        snprintf(buf, 8, "0x%02x", c);
    return buf;
}

static void skip_space(struct codec_jsonscan *s)
{
    while (s->pos < s->len) {
        char c = s->text[s->pos];
        if (c != ' ' && c != '\n' && c != '\t' && c != '\r')
            return;
        s->pos++;
    }
}

static int push(struct codec_jsonscan *s, bool object)
{
    if (s->depth == CODEC_JSONSCAN_DEPTH_MAX)
        return fail(s, s->pos, "arrays and objects nested deeper than %d levels",
                    CODEC_JSONSCAN_DEPTH_MAX);
    if (s->depth == s->frames_cap) {
        s->frames_cap = s->frames_cap ? s->frames_cap * 2 : 8;
        s->frames = xreallocarray(s->frames, s->frames_cap, sizeof(*s->frames));
    }
    s->frames[s->depth++] = (struct codec_jsonscan_frame){
            .object = object, .first_name = s->n_names, .name_text = s->name_text.len};
    s->pos++;
    s->state = object ? STATE_OBJECT_FIRST : STATE_ARRAY_FIRST;
    return 0;
}

static bool name_equal(const struct codec_jsonscan *s, const struct codec_jsonscan_name *a,
                       const struct codec_jsonscan_name *b)
{
    return a->hash == b->hash && a->len == b->len &&
           memcmp(s->name_text.s + a->at, s->name_text.s + b->at, a->len) == 0;
}

/* qsort() has no context: the names' text for compare_names(), set just before the sort. */
static _Thread_local const char *sort_text;

static int compare_names(const void *pa, const void *pb)
{
    const struct codec_jsonscan_name *a = pa, *b = pb;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    int c = memcmp(sort_text + a->at, sort_text + b->at, a->len);
    if (c)
        return c;
    return a->text < b->text ? -1 : a->text > b->text;
}

/*
 * The text offset of the second name given twice among v (n of them),
 * the earliest such; SIZE_MAX when every name is unique.
 */
static size_t duplicate_at(const struct codec_jsonscan *s, struct codec_jsonscan_name *v, size_t n)
{
    size_t at = SIZE_MAX;
    if (n <= PAIRWISE_MAX) {
        for (size_t j = 1; j < n && at == SIZE_MAX; j++)
            for (size_t i = 0; i < j; i++)
                if (name_equal(s, &v[i], &v[j])) {
                    at = v[j].text;
                    break;
                }
        return at;
    }
    sort_text = s->name_text.s;
    qsort(v, n, sizeof(*v), compare_names);
    for (size_t i = 1; i < n; i++)
        if (name_equal(s, &v[i - 1], &v[i]) && v[i].text < at)
            at = v[i].text;
    return at;
}

static int pop(struct codec_jsonscan *s, enum codec_jsonscan_token *ret)
{
    struct codec_jsonscan_frame *f = &s->frames[s->depth - 1];
    if (f->object) {
        size_t n = s->n_names - f->first_name;
        size_t at = n > 1 ? duplicate_at(s, s->names + f->first_name, n) : SIZE_MAX;
        if (at != SIZE_MAX)
            return fail(s, at, "a member name is given twice in one object");
        s->n_names = f->first_name;
        s->name_text.len = f->name_text;
    }
    *ret = f->object ? CODEC_JSONSCAN_OBJECT_END : CODEC_JSONSCAN_ARRAY_END;
    s->depth--;
    s->pos++;
    s->state = STATE_AFTER;
    return 0;
}

static int hex4(const struct codec_jsonscan *s, size_t at, uint32_t *ret)
{
    if (s->len - at < 4)
        return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        char c = s->text[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *ret = v;
    return 0;
}

static void add_code_point(struct strbuf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp, n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), u[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
    }
    strbuf_add(b, u, n);
}

/* A \u escape at s->pos (on the backslash), a surrogate pair as one; advances past it. */
static int unicode_escape(struct codec_jsonscan *s, bool name)
{
    size_t at = s->pos;
    uint32_t cp, low;
    if (hex4(s, at + 2, &cp) < 0)
        return fail(s, at, "\\u must be followed by four hex digits");
    s->pos += 6;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return fail(s, at, "\\u%04X is the second half of a surrogate pair without the first",
                    (unsigned)cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (s->len - s->pos < 6 || s->text[s->pos] != '\\' || s->text[s->pos + 1] != 'u' ||
            hex4(s, s->pos + 2, &low) < 0 || low < 0xdc00 || low > 0xdfff)
            return fail(s, at, "\\u%04X is the first half of a surrogate pair without the second",
                        (unsigned)cp);
        s->pos += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if (cp == 0) {
        if (name)
            return fail(s, at, "\\u0000 is not allowed in a member name");
        s->str_nul = true;
    }
    add_code_point(&s->str, cp);
    return 0;
}

static int escape(struct codec_jsonscan *s, bool name)
{
    if (s->pos + 1 >= s->len)
        return fail(s, s->pos, "the text ends inside a string");
    char c = s->text[s->pos + 1], out;
    switch (c) {
    case '"':
    case '\\':
    case '/':
        out = c;
        break;
    case 'b':
        out = '\b';
        break;
    case 'f':
        out = '\f';
        break;
    case 'n':
        out = '\n';
        break;
    case 'r':
        out = '\r';
        break;
    case 't':
        out = '\t';
        break;
    case 'u':
        return unicode_escape(s, name);
    default:
        return fail(s, s->pos,
                    "invalid escape in a string: only \\\" \\\\ \\/ \\b \\f \\n \\r "
                    "\\t and \\uXXXX are JSON");
    }
    strbuf_addc(&s->str, out);
    s->pos += 2;
    return 0;
}

/* The string at s->pos (on its quote) into str; advances past it. */
static int string(struct codec_jsonscan *s, bool name)
{
    size_t start = s->pos;
    const unsigned char *t = (const unsigned char *)s->text;
    strbuf_reset(&s->str);
    s->str_nul = false;
    s->pos++;
    size_t run = s->pos; /* plain bytes since here are copied in one go */
    for (;;) {
        if (s->pos >= s->len)
            return fail(s, start, "a string is not closed: the text ends inside it");
        unsigned char c = t[s->pos];
        if (c == '"' || c == '\\') {
            strbuf_add(&s->str, s->text + run, s->pos - run);
            if (c == '"') {
                s->pos++;
                return 0;
            }
            int r = escape(s, name);
            if (r < 0)
                return r;
            run = s->pos;
        } else if (c < 0x20) {
            return fail(s, s->pos,
                        "control character 0x%02x in a string: write it as an escape (\\n, "
                        "\\u00XX)",
                        c);
        } else if (c < 0x80) {
            s->pos++;
        } else {
            size_t n = strbuf_utf8_seq_len(t + s->pos, s->len - s->pos);
            if (!n)
                return fail(s, s->pos, "a string is not valid UTF-8");
            s->pos += n;
        }
    }
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits from s->pos on; false when there is none. */
static bool digits(struct codec_jsonscan *s)
{
    size_t from = s->pos;
    while (s->pos < s->len && is_digit(s->text[s->pos]))
        s->pos++;
    return s->pos > from;
}

/* Whether an integer's text (sign and digits) is beyond what a 64-bit integer holds. */
static bool integer_overflows(const char *t, size_t n)
{
    bool negative = t[0] == '-';
    t += negative, n -= negative;
    const char *limit = negative ? "9223372036854775808" : "9223372036854775807";
    size_t limit_len = strlen(limit);
    return n > limit_len || (n == limit_len && memcmp(t, limit, n) > 0);
}

/*
 * A number, as the grammar says: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
 * Like jansson, an integer past 64 bits and a real past a double are refused.
 */
static int number(struct codec_jsonscan *s)
{
    size_t start = s->pos;
    if (s->text[s->pos] == '-')
        s->pos++;
    if (s->pos < s->len && s->text[s->pos] == '0')
        s->pos++;
    else if (!digits(s))
        return fail(s, start, "invalid number: a digit must follow '-'");
    bool real = false;
    if (s->pos < s->len && s->text[s->pos] == '.') {
        s->pos++;
        real = true;
        if (!digits(s))
            return fail(s, start, "invalid number: a digit must follow '.'");
    }
    if (s->pos < s->len && (s->text[s->pos] == 'e' || s->text[s->pos] == 'E')) {
        s->pos++;
        real = true;
        if (s->pos < s->len && (s->text[s->pos] == '+' || s->text[s->pos] == '-'))
            s->pos++;
        if (!digits(s))
            return fail(s, start, "invalid number: a digit must follow the exponent's 'e'");
    }
    if (s->pos < s->len && is_digit(s->text[s->pos]))
        return fail(s, start, "invalid number: a number cannot start with 0 and go on");
    strbuf_reset(&s->str);
    strbuf_add(&s->str, s->text + start, s->pos - start);
    if (!real && integer_overflows(s->str.s, s->str.len))
        return fail(s, start, "the integer is too big: it does not fit in 64 bits");
    if (real) {
        errno = 0;
        double d = strtod(s->str.s, NULL);
        if (errno == ERANGE && isinf(d))
            return fail(s, start, "the number is too big for a double");
    }
    return 0;
}

static int literal(struct codec_jsonscan *s, const char *word, enum codec_jsonscan_token tok,
                   enum codec_jsonscan_token *ret)
{
    size_t n = strlen(word);
    if (s->len - s->pos < n || memcmp(s->text + s->pos, word, n) != 0)
        return fail(s, s->pos, "invalid literal: the words of JSON are true, false and null");
    s->pos += n;
    *ret = tok;
    return 0;
}

static int value(struct codec_jsonscan *s, enum codec_jsonscan_token *ret)
{
    char buf[8];
    if (s->pos >= s->len)
        return fail(s, s->pos, "a value is expected, not the end of the text");
    char c = s->text[s->pos];
    s->state = STATE_AFTER;
    switch (c) {
    case '{':
        *ret = CODEC_JSONSCAN_OBJECT;
        return push(s, true);
    case '[':
        *ret = CODEC_JSONSCAN_ARRAY;
        return push(s, false);
    case '"':
        *ret = CODEC_JSONSCAN_STRING;
        return string(s, false);
    case 't':
        return literal(s, "true", CODEC_JSONSCAN_TRUE, ret);
    case 'f':
        return literal(s, "false", CODEC_JSONSCAN_FALSE, ret);
    case 'n':
        return literal(s, "null", CODEC_JSONSCAN_NULL, ret);
    default:
        if (c != '-' && !is_digit(c))
            return fail(s, s->pos, "a value is expected, not %s", here(s, buf));
        *ret = CODEC_JSONSCAN_NUMBER;
        return number(s);
    }
}

/* Only sorts and tells names apart before their bytes are compared: 32 bits are enough. */
static uint32_t name_hash(const char *p, size_t n)
{
    return (uint32_t)hash_finish(hash_add(0, p, n));
}

/* A member name and the ':' after it; the name is remembered for the object's end. */
static int name(struct codec_jsonscan *s, enum codec_jsonscan_token *ret)
{
    char buf[8];
    size_t at = s->pos;
    if (s->pos >= s->len || s->text[s->pos] != '"')
        return fail(s, s->pos, "a member name (a string) is expected, not %s", here(s, buf));
    int r = string(s, true);
    if (r < 0)
        return r;
    skip_space(s);
    if (s->pos >= s->len || s->text[s->pos] != ':')
        return fail(s, s->pos, "':' is expected after a member name, not %s", here(s, buf));
    s->pos++;
    if (s->n_names == s->names_cap) {
        s->names_cap = s->names_cap ? s->names_cap * 2 : 32;
        s->names = xreallocarray(s->names, s->names_cap, sizeof(*s->names));
    }
    s->names[s->n_names++] = (struct codec_jsonscan_name){
            .hash = name_hash(s->str.s, s->str.len),
            .len = (uint32_t)s->str.len,
            .at = s->name_text.len,
            .text = at,
    };
    strbuf_add(&s->name_text, s->str.s, s->str.len);
    s->state = STATE_VALUE;
    *ret = CODEC_JSONSCAN_NAME;
    return 0;
}

/* After a value: ',' (then what follows it), the container's end, or the text's. */
static int after(struct codec_jsonscan *s, enum codec_jsonscan_token *ret)
{
    char buf[8];
    if (s->depth == 0) {
        if (s->pos < s->len)
            return fail(s, s->pos, "the text must end after the value, not go on with %s",
                        here(s, buf));
        s->state = STATE_DONE;
        *ret = CODEC_JSONSCAN_END;
        return 0;
    }
    bool object = s->frames[s->depth - 1].object;
    char c = s->pos < s->len ? s->text[s->pos] : '\0';
    if (c == (object ? '}' : ']'))
        return pop(s, ret);
    if (c != ',')
        return fail(s, s->pos, "',' or '%c' is expected, not %s", object ? '}' : ']', here(s, buf));
    s->pos++;
    skip_space(s);
    if (object)
        return name(s, ret);
    return value(s, ret);
}

int codec_jsonscan_next(struct codec_jsonscan *s, enum codec_jsonscan_token *ret)
{
    skip_space(s);
    switch ((enum state)s->state) {
    case STATE_VALUE:
        return value(s, ret);
    case STATE_ARRAY_FIRST:
        if (s->pos < s->len && s->text[s->pos] == ']')
            return pop(s, ret);
        return value(s, ret);
    case STATE_OBJECT_FIRST:
        if (s->pos < s->len && s->text[s->pos] == '}')
            return pop(s, ret);
        return name(s, ret);
    case STATE_AFTER:
        return after(s, ret);
    case STATE_DONE:
        *ret = CODEC_JSONSCAN_END;
        return 0;
    case STATE_FAILED:
        break;
    }
    return HALE_EPARSE;
}

int codec_jsonscan_skip(struct codec_jsonscan *s, enum codec_jsonscan_token tok)
{
    if (tok != CODEC_JSONSCAN_OBJECT && tok != CODEC_JSONSCAN_ARRAY)
        return 0;
    size_t depth = s->depth - 1;
    while (s->depth > depth) {
        int r = codec_jsonscan_next(s, &tok);
        if (r < 0)
            return r;
    }
    return 0;
}
