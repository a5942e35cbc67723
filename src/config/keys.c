/* SPDX-License-Identifier: MIT */
/*
 * The key-table walker (nginx and h2o style): a section describes its keys
 * once, name, type, offset, default and flags, and this file parses any
 * YAML mapping against such tables. It reports unknown keys (with the
 * closest known one), duplicate keys and missing required keys, applies the
 * defaults, and dispatches each value to the parser of its type. Keys are
 * parsed in table order, so a key may rely on one listed before it.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "config/internal.h"

static const char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

static const char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
    _cleanup_free_ char *s = xvasprintf(fmt, ap);
    return arena_strdup(a, s);
}

const char *config__printf(struct config__ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = arena_vprintf(&x->c->arena, fmt, ap);
    va_end(ap);
    return s;
}

const char *config__scratchf(struct config__ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = arena_vprintf(&x->scratch, fmt, ap);
    va_end(ap);
    return s;
}

const char *config__scope(const struct config__at *at, const char *what, yaml_node_t *map,
                          size_t index)
{
    yaml_node_t *name = config__map_get(at->f, map, "name");
    if (config__is_scalar(name) && !config__is_null(name) && strlen(config__scalar(name)) <= 64)
        return config__scratchf(at->x, "in %s \"%s\"", what, config__scalar(name));
    return config__scratchf(at->x, "in %s #%zu", what, index);
}

/* ---- duplicate and unknown keys ---- */

struct pair_ref {
    const char *key;
    size_t pos;
};

static int pair_ref_cmp(const void *pa, const void *pb)
{
    const struct pair_ref *a = pa, *b = pb;
    int c = strcmp(a->key, b->key);
    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

bool *config__map_dups(const struct config__at *at, yaml_node_t *map)
{
    size_t n = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    bool *skip = xcalloc(n ? n : 1, sizeof(*skip));
    _cleanup_free_ struct pair_ref *refs = xcalloc(n ? n : 1, sizeof(*refs));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *k = config__node(at->f, map->data.mapping.pairs.start[i].key);
        if (!config__visit(at->x, at->f, k)) {
            skip[i] = true;
            continue;
        }
        if (!config__is_scalar(k) || config__is_null(k)) {
            config__error(at->x, at->f, k, "expected a key name, got %s",
                          config__describe(at->x, k));
            skip[i] = true;
            continue;
        }
        refs[m++] = (struct pair_ref){.key = config__scalar(k), .pos = i};
    }
    /* Sorting keeps this linear-logarithmic even for a huge hostile mapping. */
    qsort(refs, m, sizeof(*refs), pair_ref_cmp);
    for (size_t i = 1; i < m; i++) {
        if (strcmp(refs[i].key, refs[i - 1].key) != 0)
            continue;
        size_t first = i - 1;
        while (first > 0 && strcmp(refs[first - 1].key, refs[i].key) == 0)
            first--;
        yaml_node_t *k0 = config__node(at->f, map->data.mapping.pairs.start[refs[first].pos].key);
        yaml_node_t *k = config__node(at->f, map->data.mapping.pairs.start[refs[i].pos].key);
        config__error(at->x, at->f, k, "duplicate key \"%s\" %s; first given on line %zu",
                      refs[i].key, at->scope, k0->start_mark.line + 1);
        skip[refs[i].pos] = true;
    }
    return skip;
}

static const struct config__key *table_find(const struct config__table *const *tables,
                                            const char *name)
{
    for (; tables && *tables; tables++)
        for (const struct config__key *k = (*tables)->keys; k->name; k++)
            if (strcmp(k->name, name) == 0)
                return k;
    return NULL;
}

static void unknown_key(const struct config__at *at, yaml_node_t *key,
                        const struct config__table *const *tables)
{
    if (config__diags_full(at->x)) {
        config__error(at->x, at->f, key, "unknown key"); /* only counted */
        return;
    }
    const char *names[64];
    size_t n = 0;
    for (const struct config__table *const *t = tables; *t; t++)
        for (const struct config__key *k = (*t)->keys; k->name && n < 64; k++)
            names[n++] = k->name;
    const char *name = config__scalar(key);
    const char *hint = config__suggest(at->x, name, names, n);
    if (hint) {
        config__error(at->x, at->f, key, "unknown key \"%s\" %s; did you mean \"%s\"?", name,
                      at->scope, hint);
        return;
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    config__join_names(&b, names, n, " and ");
    config__error(at->x, at->f, key, "unknown key \"%s\" %s; valid keys are %s", name, at->scope,
                  b.s);
    strbuf_fini(&b);
}

/* ---- defaults ---- */

static void apply_default(const struct config__at *at, const struct config__key *key,
                          yaml_node_t *map, void *obj)
{
    char buf[256];
    size_t len = strlen(key->def);
    if (len >= sizeof(buf))
        abort(); /* defaults are short literals in the tables */
    memcpy(buf, key->def, len + 1);
    /* A default is parsed like the same text written in the file, at the mapping. */
    yaml_node_t fake = {
            .type = YAML_SCALAR_NODE, .start_mark = map->start_mark, .end_mark = map->start_mark};
    fake.data.scalar.value = (yaml_char_t *)buf;
    fake.data.scalar.length = len;
    fake.data.scalar.style = YAML_PLAIN_SCALAR_STYLE;
    size_t before = at->x->n_diags;
    config__parse_value(at, key, &fake, obj);
    if (at->x->n_diags != before)
        abort(); /* a default that does not parse is a bug in a table */
}

static void apply_unset(const struct config__key *key, void *obj)
{
    void *dst = (char *)obj + key->offset;
    switch (key->type) {
    case CONFIG__UINT:
        *(unsigned *)dst = CONFIG_UNSET;
        break;
    case CONFIG__DURATION:
    case CONFIG__SIZE:
        *(uint64_t *)dst = CONFIG_UNSET64;
        break;
    case CONFIG__PERCENT:
        *(double *)dst = CONFIG_PERCENT_UNSET;
        break;
    default:
        break; /* the arena handed out zeroes: NULL, empty, false */
    }
}

static void missing_key(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *map, void *obj)
{
    if (key->flags & CONFIG__REQUIRED)
        config__error(at->x, at->f, map, "missing required key \"%s\" %s", key->name, at->scope);
    else if (key->flags & CONFIG__KEEP)
        return;
    else if (key->def)
        apply_default(at, key, map, obj);
    else
        apply_unset(key, obj);
}

/* ---- the walker ---- */

static yaml_node_t *find_pair(const struct config__at *at, yaml_node_t *map, const bool *skip,
                              const char *name, yaml_node_t **ret_key)
{
    size_t i = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++, i++) {
        if (skip[i])
            continue;
        yaml_node_t *k = config__node(at->f, p->key);
        if (strcmp(config__scalar(k), name) == 0) {
            *ret_key = k;
            return config__node(at->f, p->value);
        }
    }
    return NULL;
}

static void report_unknown(const struct config__at *at, yaml_node_t *map, const bool *skip,
                           const struct config__table *const *tables,
                           const struct config__table *const *others, bool lenient)
{
    size_t i = 0;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++, i++) {
        if (skip[i])
            continue;
        yaml_node_t *k = config__node(at->f, p->key);
        if (table_find(tables, config__scalar(k)))
            continue;
        if (lenient && table_find(others, config__scalar(k)))
            continue;
        unknown_key(at, k, tables);
    }
}

bool config__parse_map(const struct config__at *at, yaml_node_t *node,
                       const struct config__table *const *tables,
                       const struct config__table *const *others, bool lenient, void *obj,
                       struct config__seen *seen)
{
    seen->n = 0;
    if (at->x->budget == 0)
        return false; /* over budget: reported once, everything after would be noise */
    if (node->type != YAML_MAPPING_NODE) {
        config__error(at->x, at->f, node, "expected %s as a mapping, got %s", tables[0]->what,
                      config__describe(at->x, node));
        return false;
    }
    _cleanup_free_ bool *skip = config__map_dups(at, node);
    report_unknown(at, node, skip, tables, others, lenient);
    for (const struct config__table *const *t = tables; *t; t++) {
        for (const struct config__key *key = (*t)->keys; key->name; key++) {
            yaml_node_t *k = NULL;
            yaml_node_t *v = find_pair(at, node, skip, key->name, &k);
            if (seen->n == sizeof(seen->keys) / sizeof(seen->keys[0]))
                abort(); /* a table grew past what config__seen holds */
            seen->keys[seen->n] = key;
            seen->key_nodes[seen->n] = k;
            seen->values[seen->n++] = v;
            if (!v)
                missing_key(at, key, node, obj);
            else if (config__visit(at->x, at->f, v))
                config__parse_value(at, key, v, obj);
        }
    }
    for (const struct config__table *const *t = tables; *t; t++)
        if ((*t)->check)
            (*t)->check(at, node, seen, obj);
    return true;
}

yaml_node_t *config__seen_get(const struct config__seen *seen, const char *name)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->keys[i]->name, name) == 0)
            return seen->values[i];
    return NULL;
}

yaml_node_t *config__seen_key(const struct config__seen *seen, const char *name)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->keys[i]->name, name) == 0)
            return seen->key_nodes[i];
    return NULL;
}
