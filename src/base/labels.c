/* SPDX-License-Identifier: MIT */
/*
 * Label sets and matcher lists. The matcher grammar follows Alertmanager's
 * (braces optional, bare values allowed) and the regex semantics follow
 * Prometheus's (anchored at both ends, '.' matches a newline), so a matcher
 * copied from an Alertmanager or Prometheus configuration means the same
 * here.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "base/labels.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "base/alloc.h"
#include "base/cleanup.h"

struct labels_regex {
    pcre2_code *code;
};

void labels_init(struct labels *l)
{
    l->v = NULL;
    l->n = l->cap = 0;
}

void labels_fini(struct labels *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].value);
    }
    free(l->v);
    labels_init(l);
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

bool labels_name_is_valid(const char *name)
{
    if (!is_name_start(name[0]))
        return false;
    for (const char *p = name + 1; *p; p++)
        if (!is_name_char(*p))
            return false;
    return true;
}

/* Index of name in l, or of where it would be inserted (with *found false). */
static size_t labels_find(const struct labels *l, const char *name, bool *found)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(l->v[mid].name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* Inserts a pair at i, where its name keeps the set sorted; takes name and value. */
static void labels_insert(struct labels *l, size_t i, char *name, char *value)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4;
        l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    memmove(l->v + i + 1, l->v + i, (l->n - i) * sizeof(*l->v));
    l->v[i].name = name;
    l->v[i].value = value;
    l->n++;
}

int labels_set(struct labels *l, const char *name, const char *value, struct err *e)
{
    if (!labels_name_is_valid(name))
        return err_setf(e, HALE_EPARSE,
                        "invalid label name \"%s\": use letters, digits and _, not starting "
                        "with a digit",
                        name);
    bool found;
    size_t i = labels_find(l, name, &found);
    if (found) {
        free(l->v[i].value);
        l->v[i].value = xstrdup(value);
        return 0;
    }
    labels_insert(l, i, xstrdup(name), xstrdup(value));
    return 0;
}

/* Where name goes in l: senders mostly list names in order, so the end is checked first. */
static size_t labels_find_from_end(const struct labels *l, const char *name, bool *found)
{
    if (l->n > 0 && strcmp(l->v[l->n - 1].name, name) >= 0)
        return labels_find(l, name, found);
    *found = false;
    return l->n;
}

void labels_take(struct labels *l, char *name, char *value)
{
    assert(labels_name_is_valid(name));
    bool found;
    size_t i = labels_find_from_end(l, name, &found);
    if (found) {
        free(l->v[i].value);
        l->v[i].value = value;
        free(name);
        return;
    }
    labels_insert(l, i, name, value);
}

void labels_put_borrowed(struct labels *l, char *name, char *value)
{
    assert(labels_name_is_valid(name));
    bool found;
    size_t i = labels_find_from_end(l, name, &found);
    if (found)
        l->v[i].value = value;
    else
        labels_insert(l, i, name, value);
}

const char *labels_get(const struct labels *l, const char *name)
{
    bool found;
    size_t i = labels_find(l, name, &found);
    return found ? l->v[i].value : NULL;
}

/* FNV-1a 64 of s into h, then the separator Prometheus uses (0xFF). */
static uint64_t fnv1a_add(uint64_t h, const char *s)
{
    const uint64_t prime = 1099511628211u;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * prime;
    return (h ^ 0xffu) * prime;
}

static bool is_named(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

uint64_t labels_fingerprint_of(const struct labels *l, const char *const *names, size_t n,
                               size_t *ret_used)
{
    /* The set is kept sorted by strcmp, which is the byte order Go sorts
     * strings in, so the walk below is Prometheus's order. */
    uint64_t h = 14695981039346656037u;
    size_t used = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (names && n && !is_named(names, n, l->v[i].name))
            continue;
        h = fnv1a_add(fnv1a_add(h, l->v[i].name), l->v[i].value);
        used++;
    }
    if (ret_used)
        *ret_used = used;
    return h;
}

uint64_t labels_fingerprint(const struct labels *l)
{
    return labels_fingerprint_of(l, NULL, 0, NULL);
}

const char *labels_op_name(enum labels_op op)
{
    switch (op) {
    case LABELS_OP_EQ:
        return "=";
    case LABELS_OP_NE:
        return "!=";
    case LABELS_OP_RE:
        return "=~";
    case LABELS_OP_NRE:
        return "!~";
    }
    return "?";
}

/* --- parsing ------------------------------------------------------------ */

struct mparser {
    const char *s;
    size_t pos;
    struct err *e;
    size_t *ret_offset;
    struct labels_matchers *m;
};

static int mfail(struct mparser *p, size_t offset, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int mfail(struct mparser *p, size_t offset, const char *fmt, ...)
{
    if (p->ret_offset)
        *p->ret_offset = offset;
    if (p->e) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->e->msg, sizeof(p->e->msg), fmt, ap);
        va_end(ap);
        p->e->code = HALE_EPARSE;
    }
    return HALE_EPARSE;
}

static void skip_space(struct mparser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static int parse_op(struct mparser *p, const char *name, enum labels_op *ret_op)
{
    static const struct {
        const char *text;
        enum labels_op op;
    } ops[] = {
            {"=~", LABELS_OP_RE}, {"!~", LABELS_OP_NRE}, {"!=", LABELS_OP_NE}, {"=", LABELS_OP_EQ}};
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        size_t len = strlen(ops[i].text);
        if (strncmp(p->s + p->pos, ops[i].text, len) == 0) {
            p->pos += len;
            *ret_op = ops[i].op;
            return 0;
        }
    }
    return mfail(p, p->pos, "expected =, !=, =~ or !~ after label name \"%s\"", name);
}

/*
 * A double-quoted value. map[i] receives the offset in s of the value's
 * byte i, so a regex error can point into the original text.
 */
static int parse_quoted(struct mparser *p, char **ret_value, size_t **ret_map)
{
    size_t open = p->pos++;
    size_t cap = strlen(p->s + p->pos) + 1;
    _cleanup_free_ char *v = xmalloc(cap);
    _cleanup_free_ size_t *map = xmalloc(cap * sizeof(*map));
    size_t n = 0;
    for (;;) {
        char c = p->s[p->pos];
        if (c == '\0')
            return mfail(p, open, "missing closing quote");
        if (c == '"')
            break;
        map[n] = p->pos;
        if (c == '\\') {
            char x = p->s[p->pos + 1];
            if (x == '"' || x == '\\')
                c = x;
            else if (x == 'n')
                c = '\n';
            else
                return mfail(p, p->pos, "invalid escape; use \\\", \\\\ or \\n");
            p->pos++;
        }
        v[n++] = c;
        p->pos++;
    }
    map[n] = p->pos; /* the closing quote: where "end of pattern" errors point */
    v[n] = '\0';
    p->pos++;
    *ret_value = TAKE_PTR(v);
    *ret_map = TAKE_PTR(map);
    return 0;
}

/* A bare value: everything up to a comma, a brace or the end, trailing spaces dropped. */
static int parse_bare(struct mparser *p, char **ret_value, size_t **ret_map)
{
    size_t start = p->pos;
    while (p->s[p->pos] && !strchr(",{}\"", p->s[p->pos]))
        p->pos++;
    if (p->s[p->pos] == '{' || p->s[p->pos] == '"')
        return mfail(p, p->pos, "unexpected '%c' in a value; put the value in double quotes",
                     p->s[p->pos]);
    size_t end = p->pos;
    while (end > start && strchr(" \t\r\n", p->s[end - 1]))
        end--;
    size_t len = end - start;
    size_t *map = xmalloc((len + 1) * sizeof(*map));
    for (size_t i = 0; i <= len; i++)
        map[i] = start + i;
    *ret_value = xstrndup(p->s + start, len);
    *ret_map = map;
    return 0;
}

static void regex_free(struct labels_regex *re)
{
    if (!re)
        return;
    pcre2_code_free(re->code);
    free(re);
}

static int compile_regex(struct mparser *p, const char *pattern, const size_t *map,
                         struct labels_regex **ret_re)
{
    int code;
    PCRE2_SIZE erroff;
    /* Prometheus anchors as ^(?s:re)$; the options do the same without
     * shifting error offsets. Invalid UTF-8 in a label value must not
     * make matching fail, hence MATCH_INVALID_UTF. */
    uint32_t opts =
            PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
    pcre2_code *c =
            pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &code, &erroff, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        size_t len = strlen(pattern);
        return mfail(p, map[erroff < len ? erroff : len], "invalid regex: %s", (char *)msg);
    }
    /* Without JIT support the interpreter is used: slower, same results. */
    (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
    struct labels_regex *re = xmalloc(sizeof(*re));
    re->code = c;
    *ret_re = re;
    return 0;
}

static int parse_matcher(struct mparser *p, struct labels_matcher *ret)
{
    size_t start = p->pos;
    if (!is_name_start(p->s[p->pos]))
        return mfail(p, p->pos,
                     "expected a label name (letters, digits and _, not starting "
                     "with a digit)");
    while (is_name_char(p->s[p->pos]))
        p->pos++;
    _cleanup_free_ char *name = xstrndup(p->s + start, p->pos - start);
    skip_space(p);
    enum labels_op op = LABELS_OP_EQ;
    int r = parse_op(p, name, &op);
    if (r < 0)
        return r;
    skip_space(p);
    _cleanup_free_ char *value = NULL;
    _cleanup_free_ size_t *map = NULL;
    r = p->s[p->pos] == '"' ? parse_quoted(p, &value, &map) : parse_bare(p, &value, &map);
    if (r < 0)
        return r;
    struct labels_regex *re = NULL;
    if ((op == LABELS_OP_RE || op == LABELS_OP_NRE) && (r = compile_regex(p, value, map, &re)) < 0)
        return r;
    *ret = (struct labels_matcher){
            .name = TAKE_PTR(name),
            .op = op,
            .value = TAKE_PTR(value),
            .re = re,
            .offset = start,
    };
    return 0;
}

static void matchers_append(struct labels_matchers *m, const struct labels_matcher *x)
{
    /* Grows by one: matcher lists are short and parsed rarely. */
    m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
    m->v[m->n++] = *x;
}

/* After a matcher: a comma, or the end of the list. Sets *done at the end. */
static int parse_separator(struct mparser *p, bool braced, bool *done)
{
    skip_space(p);
    char c = p->s[p->pos];
    if (c == ',') {
        p->pos++;
        return 0;
    }
    if ((braced && c == '}') || (!braced && c == '\0')) {
        *done = true;
        return 0;
    }
    if (braced && c == '\0')
        return mfail(p, p->pos, "missing closing '}'");
    return mfail(p, p->pos, braced ? "expected ',' or '}'" : "expected ',' or the end");
}

static int parse_list(struct mparser *p)
{
    skip_space(p);
    bool braced = p->s[p->pos] == '{';
    if (braced)
        p->pos++;
    for (bool done = false; !done;) {
        skip_space(p);
        char c = p->s[p->pos];
        if ((braced && c == '}') || (!braced && c == '\0'))
            break;
        if (braced && c == '\0')
            return mfail(p, p->pos, "missing closing '}'");
        struct labels_matcher x;
        int r = parse_matcher(p, &x);
        if (r < 0)
            return r;
        matchers_append(p->m, &x);
        if ((r = parse_separator(p, braced, &done)) < 0)
            return r;
    }
    if (braced)
        p->pos++; /* the '}' */
    skip_space(p);
    if (p->s[p->pos])
        return mfail(p, p->pos, "unexpected text after '}'");
    return 0;
}

int labels_matchers_parse(const char *s, struct labels_matchers **ret_m, struct err *e,
                          size_t *ret_offset)
{
    struct mparser p = {.s = s, .e = e, .ret_offset = ret_offset};
    p.m = xcalloc(1, sizeof(*p.m));
    int r = parse_list(&p);
    if (r < 0) {
        labels_matchers_free(p.m);
        return r;
    }
    *ret_m = p.m;
    return 0;
}

/* --- matching ----------------------------------------------------------- */

static bool regex_matches(const struct labels_regex *re, const char *value)
{
    /* Match data per call keeps one compiled list usable from many threads. */
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (!md)
        abort();
    int rc = pcre2_match(re->code, (PCRE2_SPTR)value, strlen(value), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static bool matcher_matches(const struct labels_matcher *x, const struct labels *l)
{
    const char *v = labels_get(l, x->name);
    if (!v)
        v = "";
    switch (x->op) {
    case LABELS_OP_EQ:
        return strcmp(v, x->value) == 0;
    case LABELS_OP_NE:
        return strcmp(v, x->value) != 0;
    case LABELS_OP_RE:
        return regex_matches(x->re, v);
    case LABELS_OP_NRE:
        return !regex_matches(x->re, v);
    }
    return false;
}

bool labels_matchers_match(const struct labels_matchers *m, const struct labels *l)
{
    for (size_t i = 0; i < m->n; i++)
        if (!matcher_matches(&m->v[i], l))
            return false;
    return true;
}

int labels_matchers_format(const struct labels_matchers *m, struct strbuf *out)
{
    int r = strbuf_addc(out, '{');
    for (size_t i = 0; i < m->n && r == 0; i++) {
        const struct labels_matcher *x = &m->v[i];
        r = strbuf_addf(out, "%s%s%s\"", i ? ", " : "", x->name, labels_op_name(x->op));
        for (const char *c = x->value; *c && r == 0; c++) {
            if (*c == '"' || *c == '\\')
                r = strbuf_addc(out, '\\');
            if (r == 0)
                r = *c == '\n' ? strbuf_adds(out, "\\n") : strbuf_addc(out, *c);
        }
        if (r == 0)
            r = strbuf_addc(out, '"');
    }
    return r == 0 ? strbuf_addc(out, '}') : r;
}

void labels_matchers_free(struct labels_matchers *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].name);
        free(m->v[i].value);
        regex_free(m->v[i].re);
    }
    free(m->v);
    free(m);
}
