/* SPDX-License-Identifier: MIT */
/*
 * The value parsers behind the key tables: one per enum cfg_type. Each
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

const char *cfg_fmt_duration(struct cfg_ctx *x, uint64_t ms)
{
    char buf[UNITS_DURATION_MAX];
    return arena_strdup(&x->c->arena, units_duration_format(ms, buf, sizeof(buf)));
}

/* ---- scalars ---- */

static bool want_scalar(const struct cfg_at *at, yaml_node_t *node, const char *what)
{
    if (!cfg_is_scalar(node) || cfg_is_null(node)) {
        cfg_error(at->x, at->f, node, "expected %s, got %s", what, cfg_describe(at->x, node));
        return false;
    }
    if (strlen(cfg_scalar(node)) != node->data.scalar.length) {
        cfg_error(at->x, at->f, node, "expected %s without NUL characters", what);
        return false;
    }
    return true;
}

bool cfg_string(const struct cfg_at *at, yaml_node_t *node, const char *what, const char **ret)
{
    if (!want_scalar(at, node, what))
        return false;
    *ret = arena_strdup(&at->x->c->arena, cfg_scalar(node));
    return true;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool cfg_check_name(const struct cfg_at *at, yaml_node_t *node, const char *name)
{
    bool ok = is_alnum(name[0]);
    for (const char *p = name; ok && *p; p++)
        ok = is_alnum(*p) || *p == '-' || *p == '_' || *p == '.';
    if (!ok) {
        cfg_error(at->x, at->f, node,
                  "invalid name \"%s\": use letters, digits, '-', '_' and '.', starting with a "
                  "letter or digit",
                  name);
        return false;
    }
    if (strlen(name) > 64) {
        cfg_error(at->x, at->f, node, "name \"%.64s...\" is longer than 64 characters", name);
        return false;
    }
    return true;
}

static bool parse_string(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                         void *obj)
{
    const char *s;
    if (!cfg_string(at, node, "a string", &s))
        return false;
    if (!*s && !(key->flags & CFG_EMPTY_OK)) {
        cfg_error(at->x, at->f, node, "%s must not be empty", key->name);
        return false;
    }
    if (key->type == CFG_NAME && !cfg_check_name(at, node, s))
        return false;
    if (key->type == CFG_PATH) {
        _cleanup_free_ char *abs = cfg_path_join(at->f->dir, s);
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

static const char *url_expectation(struct cfg_ctx *x, const char *schemes)
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
    const char *r = arena_strdup(&x->c->arena, b.s);
    strbuf_fini(&b);
    return r;
}

static bool parse_url(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                      void *obj)
{
    const char *what = url_expectation(at->x, key->schemes);
    if (!want_scalar(at, node, what))
        return false;
    const char *s = cfg_scalar(node);
    if (!url_has_scheme(s, key->schemes)) {
        cfg_error(at->x, at->f, node, "expected %s, got %s", what, cfg_describe(at->x, node));
        return false;
    }
    *OUT(const char *) = arena_strdup(&at->x->c->arena, s);
    return true;
}

static bool parse_bool(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                       void *obj)
{
    static const char *const yes[] = {"true", "True", "TRUE"}, *const no[] = {"false", "False",
                                                                              "FALSE"};
    if (cfg_is_scalar(node) && !cfg_is_null(node)) {
        for (size_t i = 0; i < 3; i++) {
            if (strcmp(cfg_scalar(node), yes[i]) == 0 || strcmp(cfg_scalar(node), no[i]) == 0) {
                *OUT(bool) = strcmp(cfg_scalar(node), yes[i]) == 0;
                return true;
            }
        }
    }
    cfg_error(at->x, at->f, node, "expected true or false, got %s", cfg_describe(at->x, node));
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

static bool check_bounds(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                         uint64_t v, const char *shown, const char *min_s, const char *max_s)
{
    if (key->max && (v < key->min || v > key->max)) {
        cfg_error(at->x, at->f, node, "%s must be between %s and %s, got %s", key->name, min_s,
                  max_s, shown);
        return false;
    }
    if (v < key->min) {
        cfg_error(at->x, at->f, node, "%s must be at least %s, got %s", key->name, min_s, shown);
        return false;
    }
    return true;
}

static bool parse_uint(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                       void *obj)
{
    unsigned v;
    if (!want_scalar(at, node, "an integer"))
        return false;
    if (!read_uint(cfg_scalar(node), &v)) {
        cfg_error(at->x, at->f, node, "expected an integer, got %s", cfg_describe(at->x, node));
        return false;
    }
    char min_s[24], max_s[24];
    snprintf(min_s, sizeof(min_s), "%llu", (unsigned long long)key->min);
    snprintf(max_s, sizeof(max_s), "%llu", (unsigned long long)key->max);
    if (!check_bounds(at, key, node, v, cfg_scalar(node), min_s, max_s))
        return false;
    *OUT(unsigned) = v;
    return true;
}

#define DURATION_EXPECTED "a duration such as 250ms, 10s, 5m or 1h30m"

static bool parse_duration(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                           void *obj)
{
    if (!want_scalar(at, node, DURATION_EXPECTED))
        return false;
    uint64_t ms;
    size_t off = 0;
    if (units_duration_parse(cfg_scalar(node), &ms, NULL, &off) < 0) {
        cfg_error_in(at->x, at->f, node, off, "expected %s, got %s", DURATION_EXPECTED,
                     cfg_describe(at->x, node));
        return false;
    }
    if (!check_bounds(at, key, node, ms, cfg_scalar(node), cfg_fmt_duration(at->x, key->min),
                      cfg_fmt_duration(at->x, key->max)))
        return false;
    *OUT(uint64_t) = ms;
    return true;
}

static const char *fmt_size(struct cfg_ctx *x, uint64_t b)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (u + 1 < sizeof(units) / sizeof(units[0]) && b >= 1024 && b % 1024 == 0) {
        b /= 1024;
        u++;
    }
    return cfg_printf(x, "%llu%s", (unsigned long long)b, units[u]);
}

#define SIZE_EXPECTED "a size such as 512B, 64KiB or 10MB"

static bool parse_size(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                       void *obj)
{
    if (!want_scalar(at, node, SIZE_EXPECTED))
        return false;
    uint64_t b;
    size_t off = 0;
    if (units_size_parse(cfg_scalar(node), &b, NULL, &off) < 0) {
        cfg_error_in(at->x, at->f, node, off, "expected %s, got %s", SIZE_EXPECTED,
                     cfg_describe(at->x, node));
        return false;
    }
    if (!check_bounds(at, key, node, b, cfg_scalar(node), fmt_size(at->x, key->min),
                      fmt_size(at->x, key->max)))
        return false;
    *OUT(uint64_t) = b;
    return true;
}

#define PERCENT_EXPECTED "a percentage such as 80%"

static bool parse_percent(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                          void *obj)
{
    if (!want_scalar(at, node, PERCENT_EXPECTED))
        return false;
    double p;
    size_t off = 0;
    if (units_percent_parse(cfg_scalar(node), &p, NULL, &off) < 0) {
        cfg_error_in(at->x, at->f, node, off, "expected %s, got %s", PERCENT_EXPECTED,
                     cfg_describe(at->x, node));
        return false;
    }
    *OUT(double) = p;
    return true;
}

#define RANGE_EXPECTED "a threshold range such as 10, 10:20 or @10:20"

static bool parse_range(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                        void *obj)
{
    if (!want_scalar(at, node, RANGE_EXPECTED))
        return false;
    struct units_range r;
    struct err e = {0};
    size_t off = 0;
    if (units_range_parse(cfg_scalar(node), &r, &e, &off) < 0) {
        cfg_error_in(at->x, at->f, node, off, "expected %s, got %s: %s", RANGE_EXPECTED,
                     cfg_describe(at->x, node), e.msg);
        return false;
    }
    struct units_range *p = arena_alloc(&at->x->c->arena, sizeof(*p));
    *p = r;
    *OUT(const struct units_range *) = p;
    return true;
}

static bool parse_enum(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                       void *obj)
{
    const char *names[32];
    size_t n = 0;
    for (const struct cfg_enum *e = key->enums; e->name && n < 32; e++)
        names[n++] = e->name;
    struct strbuf b;
    strbuf_init(&b, 0);
    cfg_join_names(&b, names, n, " or ");
    bool ok = false;
    if (!cfg_is_scalar(node) || cfg_is_null(node)) {
        cfg_error(at->x, at->f, node, "expected %s, got %s", b.s, cfg_describe(at->x, node));
    } else {
        const char *v = cfg_scalar(node);
        for (const struct cfg_enum *e = key->enums; e->name && !ok; e++) {
            if (strcmp(e->name, v) == 0) {
                *OUT(int) = e->value;
                ok = true;
            }
        }
        const char *hint = ok ? NULL : cfg_suggest(v, names, n);
        if (hint)
            cfg_error(at->x, at->f, node, "invalid %s \"%s\"; did you mean \"%s\"?", key->name, v,
                      hint);
        else if (!ok)
            cfg_error(at->x, at->f, node, "invalid %s \"%s\"; expected %s", key->name, v, b.s);
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
static bool check_placeholder(const struct cfg_at *at, yaml_node_t *node, const char *s,
                              bool program, const char *whole)
{
    const char *p = strstr(s, PLACEHOLDER);
    if (!p)
        return true;
    size_t off = (size_t)(p - s);
    if (program) {
        cfg_error_in(at->x, at->f, node, off,
                     "the program to run cannot be a ${labels.NAME} placeholder");
        return false;
    }
    const char *close = strchr(p, '}');
    if (off != 0 || !close || close[1]) {
        cfg_error_in(at->x, at->f, node, off,
                     "a ${labels.NAME} placeholder must be %s, not part of \"%s\"", whole, s);
        return false;
    }
    _cleanup_free_ char *name =
            xstrndup(p + strlen(PLACEHOLDER), (size_t)(close - p) - strlen(PLACEHOLDER));
    if (!labels_name_is_valid(name)) {
        cfg_error_in(at->x, at->f, node, strlen(PLACEHOLDER),
                     "invalid label name \"%s\" in placeholder", name);
        return false;
    }
    return true;
}

/* ---- lists ---- */

bool cfg_parse_strv(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                    struct config_strv *out)
{
    bool argv = key->type == CFG_ARGV;
    if (cfg_is_null(node) && !(key->flags & CFG_NONEMPTY))
        return true;
    if (cfg_is_scalar(node) && !cfg_is_null(node) && (key->flags & CFG_ONE_OK)) {
        const char **v = arena_alloc(&at->x->c->arena, sizeof(*v));
        if (!cfg_string(at, node, "a string", &v[0]))
            return false;
        out->v = v;
        out->n = 1;
        return true;
    }
    if (node->type != YAML_SEQUENCE_NODE) {
        cfg_error(at->x, at->f, node, "expected a list%s, got %s",
                  argv ? " of arguments such as [/usr/bin/systemctl, restart, web]" : " of strings",
                  cfg_describe(at->x, node));
        return false;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (n == 0 && (key->flags & CFG_NONEMPTY)) {
        cfg_error(at->x, at->f, node, "%s must not be empty", key->name);
        return false;
    }
    const char **v = arena_array(&at->x->c->arena, n ? n : 1, sizeof(*v));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = cfg_node(at->f, node->data.sequence.items.start[i]);
        if (!cfg_visit(at->x, at->f, item) || !cfg_string(at, item, "a string", &v[i])) {
            ok = false;
            continue;
        }
        if (!*v[i] && (!argv || i == 0)) {
            cfg_error(at->x, at->f, item, "the elements of %s must not be empty", key->name);
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
static bool check_kv(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *k,
                     yaml_node_t *v, const char *value)
{
    const char *name = cfg_scalar(k);
    if (key->type == CFG_HEADERS) {
        bool ok = *name != '\0';
        for (const char *p = name; ok && *p; p++)
            ok = is_header_char(*p);
        if (!ok) {
            cfg_error(at->x, at->f, k, "invalid header name \"%s\"", name);
            return false;
        }
        if (strpbrk(value, "\r\n")) {
            cfg_error(at->x, at->f, v, "a header value cannot contain a line break");
            return false;
        }
        return true;
    }
    if (!labels_name_is_valid(name)) { /* the same syntax: [A-Za-z_][A-Za-z0-9_]* */
        cfg_error(at->x, at->f, k,
                  "invalid environment variable name \"%s\": use letters, digits and _, not "
                  "starting with a digit",
                  name);
        return false;
    }
    return check_placeholder(at, v, value, false, "the whole value");
}

static bool parse_kvs(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                      void *obj)
{
    if (cfg_is_null(node))
        return true;
    if (node->type != YAML_MAPPING_NODE) {
        cfg_error(at->x, at->f, node, "expected a mapping of names to values, got %s",
                  cfg_describe(at->x, node));
        return false;
    }
    _cleanup_free_ bool *skip = cfg_map_dups(at, node);
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start), m = 0;
    struct config_kv *kv = arena_array(&at->x->c->arena, n ? n : 1, sizeof(*kv));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (skip[i])
            continue;
        yaml_node_t *k = cfg_node(at->f, node->data.mapping.pairs.start[i].key);
        yaml_node_t *v = cfg_node(at->f, node->data.mapping.pairs.start[i].value);
        const char *value;
        if (!cfg_visit(at->x, at->f, v) || !cfg_string(at, v, "a string", &value) ||
            !check_kv(at, key, k, v, value)) {
            ok = false;
            continue;
        }
        kv[m++] = (struct config_kv){arena_strdup(&at->x->c->arena, cfg_scalar(k)), value};
    }
    OUT(struct config_kvs)->v = kv;
    OUT(struct config_kvs)->n = m;
    return ok;
}

static void labels_fini_cb(void *p)
{
    labels_fini(p);
}

static bool parse_labels(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                         void *obj)
{
    struct labels *l = OUT(struct labels);
    if (cfg_is_null(node))
        return true;
    if (node->type != YAML_MAPPING_NODE) {
        cfg_error(at->x, at->f, node, "expected a mapping of label names to values, got %s",
                  cfg_describe(at->x, node));
        return false;
    }
    labels_init(l);
    arena_defer(&at->x->c->arena, labels_fini_cb, l);
    _cleanup_free_ bool *skip = cfg_map_dups(at, node);
    size_t n = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        if (skip[i])
            continue;
        yaml_node_t *k = cfg_node(at->f, node->data.mapping.pairs.start[i].key);
        yaml_node_t *v = cfg_node(at->f, node->data.mapping.pairs.start[i].value);
        struct err e = {0};
        if (!cfg_visit(at->x, at->f, v) || !want_scalar(at, v, "a label value")) {
            ok = false;
        } else if (labels_set(l, cfg_scalar(k), cfg_scalar(v), &e) < 0) {
            cfg_error(at->x, at->f, k, "%s", e.msg);
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

const struct labels_matchers *cfg_matcher(const struct cfg_at *at, yaml_node_t *node)
{
    if (!want_scalar(at, node, "a label matcher such as '{service=\"web\"}'"))
        return NULL;
    struct labels_matchers *m;
    struct err e = {0};
    size_t off = 0;
    if (labels_matchers_parse(cfg_scalar(node), &m, &e, &off) < 0) {
        /* "invalid regex: ..." says enough; syntax errors need the word matcher */
        bool regex = strncmp(e.msg, "invalid regex", 13) == 0;
        cfg_error_in(at->x, at->f, node, off, "%s%s", regex ? "" : "invalid matcher: ", e.msg);
        return NULL;
    }
    arena_defer(&at->x->c->arena, matchers_free_cb, m);
    return m;
}

static bool parse_matcher(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                          void *obj)
{
    const struct labels_matchers *m = cfg_matcher(at, node);
    if (!m)
        return false;
    *OUT(const struct labels_matchers *) = m;
    if (key->flags & CFG_AUX)
        *(const char **)((char *)obj + key->aux_offset) =
                arena_strdup(&at->x->c->arena, cfg_scalar(node));
    return true;
}

static void regex_free_cb(void *p)
{
    pcre2_code_free(p);
}

static bool parse_regex(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                        void *obj)
{
    if (!want_scalar(at, node, "a regular expression"))
        return false;
    const char *pattern = cfg_scalar(node);
    int code;
    PCRE2_SIZE off;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!c) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        cfg_error_in(at->x, at->f, node, off, "invalid regex: %s", (char *)msg);
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

static bool one_status(const struct cfg_at *at, yaml_node_t *node, unsigned *ret)
{
    if (!cfg_is_scalar(node) || cfg_is_null(node) || !read_uint(cfg_scalar(node), ret) ||
        *ret < 100 || *ret > 599) {
        cfg_error(at->x, at->f, node, "expected an HTTP status from 100 to 599, got %s",
                  cfg_describe(at->x, node));
        return false;
    }
    return true;
}

static bool parse_status(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                         void *obj)
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
        yaml_node_t *item = cfg_node(at->f, node->data.sequence.items.start[i]);
        if (!cfg_visit(at->x, at->f, item) || !one_status(at, item, &v[i]))
            ok = false;
    }
    out->v = v;
    out->n = n;
    return ok;
}

/* ---- references ---- */

void cfg_ref_add(const struct cfg_at *at, enum cfg_section section, const char *name,
                 const void **dst, yaml_node_t *node)
{
    struct cfg_ctx *x = at->x;
    if (x->n_refs == x->cap_refs) {
        x->cap_refs = x->cap_refs ? x->cap_refs * 2 : 32;
        x->refs = xreallocarray(x->refs, x->cap_refs, sizeof(*x->refs));
    }
    x->refs[x->n_refs++] = (struct cfg_ref){
            .section = section,
            .name = name,
            .dst = dst,
            .scope = at->scope,
            .loc = cfg_loc(x, at->f, node),
            .file = at->f,
    };
}

static bool parse_ref(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                      void *obj)
{
    const char *name;
    if (!cfg_string(at, node, cfg_printf(at->x, "a %s name", cfg_section_noun(key->section, false)),
                    &name))
        return false;
    *OUT(const char *) = name;
    cfg_ref_add(at, key->section, name, (const void **)((char *)obj + key->aux_offset), node);
    return true;
}

static bool parse_refv(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                       void *obj)
{
    struct config_strv *names = OUT(struct config_strv);
    if (!cfg_parse_strv(at, key, node, names))
        return false;
    const void **objs = arena_array(&at->x->c->arena, names->n ? names->n : 1, sizeof(*objs));
    *(const void ***)((char *)obj + key->aux_offset) = objs;
    for (size_t i = 0; i < names->n; i++) {
        yaml_node_t *item = node->type == YAML_SEQUENCE_NODE
                                    ? cfg_node(at->f, node->data.sequence.items.start[i])
                                    : node;
        cfg_ref_add(at, key->section, names->v[i], &objs[i], item);
    }
    return true;
}

/* ---- nested mappings ---- */

static bool parse_sub(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                      void *obj)
{
    const struct cfg_table *tables[] = {key->sub, NULL};
    struct cfg_at sub = *at;
    const char *outer = strncmp(at->scope, "in ", 3) == 0 ? at->scope + 3 : at->scope;
    sub.scope = cfg_printf(at->x, "in %s of %s", key->name, outer);
    struct cfg_seen seen;
    return cfg_parse_map(&sub, node, tables, NULL, false, OUT(void), &seen);
}

bool cfg_parse_value(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                     void *obj)
{
    switch (key->type) {
    case CFG_STRING:
    case CFG_NAME:
    case CFG_PATH:
        return parse_string(at, key, node, obj);
    case CFG_URL:
        return parse_url(at, key, node, obj);
    case CFG_BOOL:
        return parse_bool(at, key, node, obj);
    case CFG_UINT:
        return parse_uint(at, key, node, obj);
    case CFG_DURATION:
        return parse_duration(at, key, node, obj);
    case CFG_SIZE:
        return parse_size(at, key, node, obj);
    case CFG_PERCENT:
        return parse_percent(at, key, node, obj);
    case CFG_RANGE:
        return parse_range(at, key, node, obj);
    case CFG_ENUM:
        return parse_enum(at, key, node, obj);
    case CFG_STRV:
    case CFG_ARGV:
        return cfg_parse_strv(at, key, node, OUT(struct config_strv));
    case CFG_HEADERS:
    case CFG_ENV:
        return parse_kvs(at, key, node, obj);
    case CFG_LABELS:
        return parse_labels(at, key, node, obj);
    case CFG_MATCHER:
        return parse_matcher(at, key, node, obj);
    case CFG_REGEX:
        return parse_regex(at, key, node, obj);
    case CFG_STATUS:
        return parse_status(at, key, node, obj);
    case CFG_REF:
        return parse_ref(at, key, node, obj);
    case CFG_REFV:
        return parse_refv(at, key, node, obj);
    case CFG_SUB:
        return parse_sub(at, key, node, obj);
    case CFG_CUSTOM:
        return key->custom(at, key, node, obj);
    }
    return false;
}
