/* SPDX-License-Identifier: MIT */
/*
 * The value parsers behind the key tables: one per enum config__type. Each
 * takes a YAML node, reports what it expected when the node does not fit,
 * and otherwise writes the typed value into the object being built. Whatever
 * holds memory outside the arena (label sets, matchers, regexes) is
 * registered with arena_defer() so the config's arena frees it.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <pcre2.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "config/internal.h"

#define OUT(type) ((type *)((char *)obj + key->offset))

const char *config__fmt_duration(struct config__ctx *x, uint64_t ms)
{
    char buf[UNITS_DURATION_MAX];
    return arena_strdup(&x->scratch, units_duration_format(ms, buf, sizeof(buf)));
}

/* ---- scalars ---- */

/* A scalar that is not null and holds no NUL character. */
static bool is_text(const yaml_node_t *node)
{
    return config__is_scalar(node) && !config__is_null(node) &&
           strlen(config__scalar(node)) == node->data.scalar.length;
}

static bool want_scalar(const struct config__at *at, yaml_node_t *node, const char *what)
{
    if (!config__is_scalar(node) || config__is_null(node)) {
        config__error(at->x, at->f, node, "expected %s, got %s", what,
                      config__describe(at->x, node));
        return false;
    }
    if (strlen(config__scalar(node)) != node->data.scalar.length) {
        config__error(at->x, at->f, node, "expected %s without NUL characters", what);
        return false;
    }
    return true;
}

bool config__string(const struct config__at *at, yaml_node_t *node, const char *what,
                    const char **ret)
{
    if (!want_scalar(at, node, what))
        return false;
    *ret = arena_strdup(&at->x->c->arena, config__scalar(node));
    return true;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool config__check_name(const struct config__at *at, yaml_node_t *node, const char *name)
{
    bool ok = is_alnum(name[0]);
    for (const char *p = name; ok && *p; p++)
        ok = is_alnum(*p) || *p == '-' || *p == '_' || *p == '.';
    if (!ok) {
        config__error(at->x, at->f, node,
                      "invalid name \"%s\": use letters, digits, '-', '_' and '.', starting with a "
                      "letter or digit",
                      name);
        return false;
    }
    if (strlen(name) > 64) {
        config__error(at->x, at->f, node, "name \"%.64s...\" is longer than 64 characters", name);
        return false;
    }
    return true;
}

static bool parse_string(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    const char *s;
    if (!config__string(at, node, "a string", &s))
        return false;
    if (!*s && !(key->flags & CONFIG__EMPTY_OK)) {
        config__error(at->x, at->f, node, "%s must not be empty", key->name);
        return false;
    }
    if (key->type == CONFIG__NAME && !config__check_name(at, node, s))
        return false;
    if (key->type == CONFIG__PATH) {
        _cleanup_free_ char *abs = config__path_join(at->f->dir, s);
        s = arena_strdup(&at->x->c->arena, abs);
    }
    *OUT(const char *) = s;
    return true;
}

static bool url_has_scheme(const char *url, const char *schemes)
{
    const char *sep = strstr(url, "://");
    if (!sep || !sep[3] || sep[3] == '/' || strpbrk(url, " \t\r\n"))
        return false;
    size_t len = (size_t)(sep - url);
    for (const char *s = schemes; *s;) {
        size_t n = strcspn(s, " ");
        if (n == len && strncasecmp(s, url, len) == 0)
            return true;
        s += n;
        s += *s == ' ';
    }
    return false;
}

static const char *url_expectation(struct config__ctx *x, const char *schemes)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_adds(&b, "a URL starting with ");
    for (const char *s = schemes; *s;) {
        size_t n = strcspn(s, " ");
        strbuf_addf(&b, "%.*s://", (int)n, s);
        s += n;
        if (*s == ' ') {
            s++;
            strbuf_adds(&b, strchr(s, ' ') ? ", " : " or ");
        }
    }
    const char *r = arena_strdup(&x->scratch, b.s);
    strbuf_fini(&b);
    return r;
}

static bool parse_url(const struct config__at *at, const struct config__key *key, yaml_node_t *node,
                      void *obj)
{
    if (is_text(node) && url_has_scheme(config__scalar(node), key->schemes)) {
        *OUT(const char *) = arena_strdup(&at->x->c->arena, config__scalar(node));
        return true;
    }
    /* The expectation is spelled out only for the message. */
    const char *what = url_expectation(at->x, key->schemes);
    if (want_scalar(at, node, what))
        config__error(at->x, at->f, node, "expected %s, got %s", what,
                      config__describe(at->x, node));
    return false;
}

static bool parse_bool(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};
    if (config__is_scalar(node) && !config__is_null(node)) {
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(config__scalar(node), yes[i]) == 0 ||
                strcmp(config__scalar(node), no[i]) == 0) {
                *OUT(bool) = strcmp(config__scalar(node), yes[i]) == 0;
                return true;
            }
        }
    }
    config__error(at->x, at->f, node, "expected true or false, got %s",
                  config__describe(at->x, node));
    return false;
}

/* Plain decimal digits, below UINT_MAX (which means "unset"). */
static bool read_uint(const char *s, unsigned *ret)
{
    if (!*s || strlen(s) > 10)
        return false;
    unsigned long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v >= UINT_MAX)
        return false;
    *ret = (unsigned)v;
    return true;
}

/* How a bound is written in a message ("5m", "64KiB", "3"). */
typedef const char *bound_fmt_fn(struct config__ctx *x, uint64_t v);

/* The bounds are formatted only for a message: most values are within them. */
static bool check_bounds(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, uint64_t v, const char *shown, bound_fmt_fn *fmt)
{
    if (key->max && (v < key->min || v > key->max)) {
        config__error(at->x, at->f, node, "%s must be between %s and %s, got %s", key->name,
                      fmt(at->x, key->min), fmt(at->x, key->max), shown);
        return false;
    }
    if (v < key->min) {
        config__error(at->x, at->f, node, "%s must be at least %s, got %s", key->name,
                      fmt(at->x, key->min), shown);
        return false;
    }
    return true;
}

static const char *fmt_uint(struct config__ctx *x, uint64_t v)
{
    return config__scratchf(x, "%llu", (unsigned long long)v);
}

static bool parse_uint(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    unsigned v;
    if (!want_scalar(at, node, "an integer"))
        return false;
    if (!read_uint(config__scalar(node), &v)) {
        config__error(at->x, at->f, node, "expected an integer, got %s",
                      config__describe(at->x, node));
        return false;
    }
    if (!check_bounds(at, key, node, v, config__scalar(node), fmt_uint))
        return false;
    *OUT(unsigned) = v;
    return true;
}

#define DURATION_EXPECTED "a duration such as 250ms, 10s, 5m or 1h30m"

static bool parse_duration(const struct config__at *at, const struct config__key *key,
                           yaml_node_t *node, void *obj)
{
    if (!want_scalar(at, node, DURATION_EXPECTED))
        return false;
    uint64_t ms;
    size_t off = 0;
    if (units_duration_parse(config__scalar(node), &ms, NULL, &off) < 0) {
        config__error_in(at->x, at->f, node, off, "expected %s, got %s", DURATION_EXPECTED,
                         config__describe(at->x, node));
        return false;
    }
    if (!check_bounds(at, key, node, ms, config__scalar(node), config__fmt_duration))
        return false;
    *OUT(uint64_t) = ms;
    return true;
}

static const char *fmt_size(struct config__ctx *x, uint64_t b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && b >= 1024 && b % 1024 == 0) {
        b /= 1024;
        u++;
    }
    return config__scratchf(x, "%llu%s", (unsigned long long)b, units[u]);
}

#define SIZE_EXPECTED "a size such as 512B, 64KiB or 10MB"

static bool parse_size(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    if (!want_scalar(at, node, SIZE_EXPECTED))
        return false;
    uint64_t b;
    size_t off = 0;
    if (units_size_parse(config__scalar(node), &b, NULL, &off) < 0) {
        config__error_in(at->x, at->f, node, off, "expected %s, got %s", SIZE_EXPECTED,
                         config__describe(at->x, node));
        return false;
    }
    if (!check_bounds(at, key, node, b, config__scalar(node), fmt_size))
        return false;
    *OUT(uint64_t) = b;
    return true;
}

#define PERCENT_EXPECTED "a percentage such as 80%"

static bool parse_percent(const struct config__at *at, const struct config__key *key,
                          yaml_node_t *node, void *obj)
{
    if (!want_scalar(at, node, PERCENT_EXPECTED))
        return false;
    double p;
    size_t off = 0;
    if (units_percent_parse(config__scalar(node), &p, NULL, &off) < 0) {
        config__error_in(at->x, at->f, node, off, "expected %s, got %s", PERCENT_EXPECTED,
                         config__describe(at->x, node));
        return false;
    }
    *OUT(double) = p;
    return true;
}

#define RANGE_EXPECTED "a threshold range such as 10, 10:20 or @10:20"

static bool parse_range(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, void *obj)
{
    if (!want_scalar(at, node, RANGE_EXPECTED))
        return false;
    struct units_range r;
    struct err e = {0};
    size_t off = 0;
    if (units_range_parse(config__scalar(node), &r, &e, &off) < 0) {
        config__error_in(at->x, at->f, node, off, "expected %s, got %s: %s", RANGE_EXPECTED,
                         config__describe(at->x, node), e.msg);
        return false;
    }
    struct units_range *p = arena_alloc(&at->x->c->arena, sizeof(*p));
    *p = r;
    *OUT(const struct units_range *) = p;
    return true;
}

static bool parse_enum(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    const char *names[32];
    size_t n = 0;
    for (const struct config__enum *e = key->enums; e->name && n < 32; e++)
        names[n++] = e->name;
    struct strbuf b;
    strbuf_init(&b, 0);
    config__join_names(&b, names, n, " or ");
    bool ok = false;
    if (!config__is_scalar(node) || config__is_null(node)) {
        config__error(at->x, at->f, node, "expected %s, got %s", b.s,
                      config__describe(at->x, node));
    } else {
        const char *v = config__scalar(node);
        for (const struct config__enum *e = key->enums; e->name && !ok; e++) {
            if (strcmp(e->name, v) == 0) {
                *OUT(int) = e->value;
                ok = true;
            }
        }
        const char *hint = ok ? NULL : config__suggest(at->x, v, names, n);
        if (hint)
            config__error(at->x, at->f, node, "invalid %s \"%s\"; did you mean \"%s\"?", key->name,
                          v, hint);
        else if (!ok)
            config__error(at->x, at->f, node, "invalid %s \"%s\"; expected %s", key->name, v, b.s);
    }
    strbuf_fini(&b);
    return ok;
}

/* ---- placeholders ---- */

#define PLACEHOLDER "${labels."

/*
 * An argv element or env value may be exactly "${labels.NAME}" and nothing
 * else: then the executor replaces the whole string, and a label's value
 * can never become part of a larger argument or of a shell command.
 */
static bool check_placeholder(const struct config__at *at, yaml_node_t *node, const char *s,
                              bool program, const char *whole)
{
    const char *p = strstr(s, PLACEHOLDER);
    if (!p)
        return true;
    size_t off = (size_t)(p - s);
    if (program) {
        config__error_in(at->x, at->f, node, off,
                         "the program to run cannot be a ${labels.NAME} placeholder");
        return false;
    }
    const char *close = strchr(p, '}');
    if (off != 0 || !close || close[1]) {
        config__error_in(at->x, at->f, node, off,
                         "a ${labels.NAME} placeholder must be %s, not part of \"%s\"", whole, s);
        return false;
    }
    _cleanup_free_ char *name =
            xstrndup(p + strlen(PLACEHOLDER), (size_t)(close - p) - strlen(PLACEHOLDER));
    if (!labels_name_is_valid(name)) {
        config__error_in(at->x, at->f, node, strlen(PLACEHOLDER),
                         "invalid label name \"%s\" in placeholder", name);
        return false;
    }
    return true;
}

/* ---- lists ---- */

bool config__parse_strv(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, struct config_strv *out)
{
    bool argv = key->type == CONFIG__ARGV;
    if (config__is_null(node) && !(key->flags & CONFIG__NONEMPTY))
        return true;
    if (config__is_scalar(node) && !config__is_null(node) && (key->flags & CONFIG__ONE_OK)) {
        const char **v = arena_array(&at->x->c->arena, 2, sizeof(*v)); /* NULL-ended */
        if (!config__string(at, node, "a string", &v[0]))
            return false;
        out->v = v;
        out->n = 1;
        return true;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        config__error(at->x, at->f, node, "expected a list%s, got %s",
                      argv ? " of arguments such as [/usr/bin/systemctl, restart, web]"
                           : " of strings",
                      config__describe(at->x, node));
        return false;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (n == 0 && (key->flags & CONFIG__NONEMPTY)) {
        config__error(at->x, at->f, node, "%s must not be empty", key->name);
        return false;
    }
    const char **v = arena_array(&at->x->c->arena, n + 1, sizeof(*v)); /* NULL-ended */
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = config__node(at->f, node->data.sequence.items.start[i]);
        if (!config__visit(at->x, at->f, item) || !config__string(at, item, "a string", &v[i])) {
            ok = false;
            continue;
        }
        if (!*v[i] && (!argv || i == 0)) {
            config__error(at->x, at->f, item, "the elements of %s must not be empty", key->name);
            ok = false;
        } else if (argv && !check_placeholder(at, item, v[i], i == 0, "a whole argument")) {
            ok = false;
        }
    }
    if (ok) /* a list with a bad element stays empty: no NULL for later rules to trip on */
        *out = (struct config_strv){v, n};
    return ok;
}

static bool is_header_char(char c)
{
    return is_alnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* One name: value pair of headers or env; false when reported. */
static bool check_kv(const struct config__at *at, const struct config__key *key, yaml_node_t *k,
                     yaml_node_t *v, const char *value)
{
    const char *name = config__scalar(k);
    if (key->type == CONFIG__HEADERS) {
        bool ok = *name != '\0';
        for (const char *p = name; ok && *p; p++)
            ok = is_header_char(*p);
        if (!ok) {
            config__error(at->x, at->f, k, "invalid header name \"%s\"", name);
            return false;
        }
        if (strpbrk(value, "\r\n")) {
            config__error(at->x, at->f, v, "a header value cannot contain a line break");
            return false;
        }
        return true;
    }
    if (!labels_name_is_valid(name)) { /* the same syntax: [A-Za-z_][A-Za-z0-9_]* */
        config__error(at->x, at->f, k,
                      "invalid environment variable name \"%s\": use letters, digits and _, not "
                      "starting with a digit",
                      name);
        return false;
    }
    return check_placeholder(at, v, value, false, "the whole value");
}

static bool parse_kvs(const struct config__at *at, const struct config__key *key, yaml_node_t *node,
                      void *obj)
{
    if (config__is_null(node))
        return true;
    if (node->type != YAML_MAPPING_NODE) {
        config__error(at->x, at->f, node, "expected a mapping of names to values, got %s",
                      config__describe(at->x, node));
        return false;
    }
    _cleanup_free_ bool *skip = config__map_dups(at, node);
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start), m = 0;
    struct config_kv *kv = arena_array(&at->x->c->arena, n ? n : 1, sizeof(*kv));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (skip[i])
            continue;
        yaml_node_t *k = config__node(at->f, node->data.mapping.pairs.start[i].key);
        yaml_node_t *v = config__node(at->f, node->data.mapping.pairs.start[i].value);
        const char *value;
        if (!config__visit(at->x, at->f, v) || !config__string(at, v, "a string", &value) ||
            !check_kv(at, key, k, v, value)) {
            ok = false;
            continue;
        }
        kv[m++] = (struct config_kv){arena_strdup(&at->x->c->arena, config__scalar(k)), value};
    }
    OUT(struct config_kvs)->v = kv;
    OUT(struct config_kvs)->n = m;
    return ok;
}

static void labels_fini_cb(void *p)
{
    labels_fini(p);
}

static bool parse_labels(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    struct labels *l = OUT(struct labels);
    if (config__is_null(node))
        return true;
    if (node->type != YAML_MAPPING_NODE) {
        config__error(at->x, at->f, node, "expected a mapping of label names to values, got %s",
                      config__describe(at->x, node));
        return false;
    }
    labels_init(l);
    arena_defer(&at->x->c->arena, labels_fini_cb, l);
    _cleanup_free_ bool *skip = config__map_dups(at, node);
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (skip[i])
            continue;
        yaml_node_t *k = config__node(at->f, node->data.mapping.pairs.start[i].key);
        yaml_node_t *v = config__node(at->f, node->data.mapping.pairs.start[i].value);
        struct err e = {0};
        if (!config__visit(at->x, at->f, v) || !want_scalar(at, v, "a label value")) {
            ok = false;
        } else if (labels_set(l, config__scalar(k), config__scalar(v), &e) < 0) {
            config__error(at->x, at->f, k, "%s", e.msg);
            ok = false;
        }
    }
    return ok;
}

/* ---- matchers and regexes ---- */

static void matchers_free_cb(void *p)
{
    labels_matchers_free(p);
}

const struct labels_matchers *config__matcher(const struct config__at *at, yaml_node_t *node)
{
    if (!want_scalar(at, node, "a label matcher such as '{service=\"web\"}'"))
        return NULL;
    struct labels_matchers *m;
    struct err e = {0};
    size_t off = 0;
    if (labels_matchers_parse(config__scalar(node), &m, &e, &off) < 0) {
        /* "invalid regex: ..." says enough; syntax errors need the word matcher */
        bool regex = strncmp(e.msg, "invalid regex", 13) == 0;
        config__error_in(at->x, at->f, node, off, "%s%s", regex ? "" : "invalid matcher: ", e.msg);
        return NULL;
    }
    arena_defer(&at->x->c->arena, matchers_free_cb, m);
    return m;
}

static bool parse_matcher(const struct config__at *at, const struct config__key *key,
                          yaml_node_t *node, void *obj)
{
    const struct labels_matchers *m = config__matcher(at, node);
    if (!m)
        return false;
    *OUT(const struct labels_matchers *) = m;
    if (key->flags & CONFIG__AUX)
        *(const char **)((char *)obj + key->aux_offset) =
                arena_strdup(&at->x->c->arena, config__scalar(node));
    return true;
}

static void regex_free_cb(void *p)
{
    pcre2_code_free(p);
}

static bool parse_regex(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, void *obj)
{
    if (!want_scalar(at, node, "a regular expression"))
        return false;
    const char *pattern = config__scalar(node);
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        config__error_in(at->x, at->f, node, off, "invalid regex: %s", (char *)msg);
        return false;
    }
    (void)pcre2_jit_compile(c, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    arena_defer(&at->x->c->arena, regex_free_cb, c);
    struct config_regex *re = arena_alloc(&at->x->c->arena, sizeof(*re));
    re->pattern = arena_strdup(&at->x->c->arena, pattern);
    re->code = c;
    *OUT(const struct config_regex *) = re;
    return true;
}

/* ---- HTTP statuses ---- */

static bool one_status(const struct config__at *at, yaml_node_t *node, unsigned *ret)
{
    if (!config__is_scalar(node) || config__is_null(node) ||
        !read_uint(config__scalar(node), ret) || *ret < 100 || *ret > 599) {
        config__error(at->x, at->f, node, "expected an HTTP status from 100 to 599, got %s",
                      config__describe(at->x, node));
        return false;
    }
    return true;
}

static bool parse_status(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    struct config_uintv *out = OUT(struct config_uintv);
    if (node->type != YAML_SEQUENCE_NODE) {
        unsigned *v = arena_alloc(&at->x->c->arena, sizeof(*v));
        if (!one_status(at, node, v))
            return false;
        out->v = v;
        out->n = 1;
        return true;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    unsigned *v = arena_array(&at->x->c->arena, n ? n : 1, sizeof(*v));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = config__node(at->f, node->data.sequence.items.start[i]);
        if (!config__visit(at->x, at->f, item) || !one_status(at, item, &v[i]))
            ok = false;
    }
    out->v = v;
    out->n = n;
    return ok;
}

/* ---- references ---- */

void config__ref_add(const struct config__at *at, enum config__section section, const char *name,
                     const void **dst, yaml_node_t *node)
{
    struct config__ctx *x = at->x;
    if (x->n_refs == x->cap_refs) {
        x->cap_refs = x->cap_refs ? x->cap_refs * 2 : 32;
        x->refs = xreallocarray(x->refs, x->cap_refs, sizeof(*x->refs));
    }
    x->refs[x->n_refs++] = (struct config__ref){
            .section = section,
            .name = name,
            .dst = dst,
            .scope = at->scope,
            .loc = config__loc(x, at->f, node),
            .file = at->f,
    };
}

static bool parse_ref(const struct config__at *at, const struct config__key *key, yaml_node_t *node,
                      void *obj)
{
    const char *name;
    if (!config__string(
                at, node,
                config__scratchf(at->x, "a %s name", config__section_noun(key->section, false)),
                &name))
        return false;
    *OUT(const char *) = name;
    config__ref_add(at, key->section, name, (const void **)((char *)obj + key->aux_offset), node);
    return true;
}

static bool parse_refv(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    struct config_strv *names = OUT(struct config_strv);
    if (!config__parse_strv(at, key, node, names))
        return false;
    const void **objs = arena_array(&at->x->c->arena, names->n ? names->n : 1, sizeof(*objs));
    *(const void ***)((char *)obj + key->aux_offset) = objs;
    for (size_t i = 0; i < names->n; i++) {
        yaml_node_t *item = node->type == YAML_SEQUENCE_NODE
                                    ? config__node(at->f, node->data.sequence.items.start[i])
                                    : node;
        config__ref_add(at, key->section, names->v[i], &objs[i], item);
    }
    return true;
}

/* ---- nested mappings ---- */

static bool parse_sub(const struct config__at *at, const struct config__key *key, yaml_node_t *node,
                      void *obj)
{
    const struct config__table *tables[] = {key->sub, NULL};
    struct config__at sub = *at;
    const char *outer = strncmp(at->scope, "in ", 3) == 0 ? at->scope + 3 : at->scope;
    sub.scope = config__scratchf(at->x, "in %s of %s", key->name, outer);
    struct config__seen seen;
    return config__parse_map(&sub, node, tables, NULL, false, OUT(void), &seen);
}

bool config__parse_value(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    switch (key->type) {
    case CONFIG__STRING:
    case CONFIG__NAME:
    case CONFIG__PATH:
        return parse_string(at, key, node, obj);
    case CONFIG__URL:
        return parse_url(at, key, node, obj);
    case CONFIG__BOOL:
        return parse_bool(at, key, node, obj);
    case CONFIG__UINT:
        return parse_uint(at, key, node, obj);
    case CONFIG__DURATION:
        return parse_duration(at, key, node, obj);
    case CONFIG__SIZE:
        return parse_size(at, key, node, obj);
    case CONFIG__PERCENT:
        return parse_percent(at, key, node, obj);
    case CONFIG__RANGE:
        return parse_range(at, key, node, obj);
    case CONFIG__ENUM:
        return parse_enum(at, key, node, obj);
    case CONFIG__STRV:
    case CONFIG__ARGV:
        return config__parse_strv(at, key, node, OUT(struct config_strv));
    case CONFIG__HEADERS:
    case CONFIG__ENV:
        return parse_kvs(at, key, node, obj);
    case CONFIG__LABELS:
        return parse_labels(at, key, node, obj);
    case CONFIG__MATCHER:
        return parse_matcher(at, key, node, obj);
    case CONFIG__REGEX:
        return parse_regex(at, key, node, obj);
    case CONFIG__STATUS:
        return parse_status(at, key, node, obj);
    case CONFIG__REF:
        return parse_ref(at, key, node, obj);
    case CONFIG__REFV:
        return parse_refv(at, key, node, obj);
    case CONFIG__SUB:
        return parse_sub(at, key, node, obj);
    case CONFIG__CUSTOM:
        return key->custom(at, key, node, obj);
    }
    return false;
}
