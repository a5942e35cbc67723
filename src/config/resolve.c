/* SPDX-License-Identifier: MIT */
/*
 * The third pass of a load: names must be unique within a section (across
 * every included file), every reference must name an object that exists,
 * and the service dependency graph must have no cycle. Runs once all
 * sections are parsed, so a check may name a runbook defined further down
 * or in a pack.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "config/internal.h"

static int named_cmp(const void *pa, const void *pb)
{
    const struct config__named *a = *(const struct config__named *const *)pa;
    const struct config__named *b = *(const struct config__named *const *)pb;
    int c = strcmp(a->name, b->name);
    if (c)
        return c;
    return a < b ? -1 : a > b; /* registration order: the first definition wins */
}

/* The section's objects by name, with later duplicates reported. free() the result. */
static struct config__named **sort_names(struct config__ctx *x, enum config__section s)
{
    struct config__names *names = &x->names[s];
    struct config__named **v = xcalloc(names->n ? names->n : 1, sizeof(*v));
    for (size_t i = 0; i < names->n; i++)
        v[i] = &names->v[i];
    qsort(v, names->n, sizeof(*v), named_cmp);
    size_t first = 0;
    for (size_t i = 1; i < names->n; i++) {
        if (strcmp(v[i]->name, v[first]->name) != 0) {
            first = i;
            continue;
        }
        const struct config_loc *l = &v[first]->loc;
        config__error_at(x, v[i]->file, v[i]->name_loc.line, v[i]->name_loc.col,
                         "duplicate %s name \"%s\"; first defined at %s:%u:%u",
                         config__section_noun(s, false), v[i]->name, l->file, l->line, l->col);
    }
    return v;
}

static const struct config__named *lookup(struct config__named *const *v, size_t n,
                                          const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(v[lo]->name, name) == 0 ? v[lo] : NULL;
}

/* Distinct names of a section, in name order, for suggestions and lists. */
static size_t distinct_names(struct config__named *const *v, size_t n, const char **out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || strcmp(out[m - 1], v[i]->name) != 0)
            out[m++] = v[i]->name;
    return m;
}

static void undefined(struct config__ctx *x, const struct config__ref *r,
                      struct config__named *const *v, size_t n)
{
    if (config__diags_full(x)) {
        config__error_at(x, r->file, r->loc.line, r->loc.col, "undefined"); /* only counted */
        return;
    }
    _cleanup_free_ const char **names = xcalloc(n ? n : 1, sizeof(*names));
    size_t m = distinct_names(v, n, names);
    const char *noun = config__section_noun(r->section, false);
    const char *nouns = config__section_noun(r->section, true);
    const char *hint = config__suggest(x, r->name, names, m);
    struct strbuf b;
    strbuf_init(&b, 0);
    if (hint) {
        strbuf_addf(&b, "; did you mean \"%s\"?", hint);
    } else if (m == 0) {
        strbuf_addf(&b, "; no %s are defined", nouns);
    } else if (m <= 8) {
        strbuf_addf(&b, "; the %s defined are ", nouns);
        config__join_names(&b, names, m, " and ");
    }
    config__error_at(x, r->file, r->loc.line, r->loc.col, "undefined %s \"%s\" %s%s", noun, r->name,
                     r->scope, b.s);
    strbuf_fini(&b);
}

/* ---- service dependency cycles ---- */

struct dfs_frame {
    size_t svc;
    size_t next; /* the next dependency to follow */
};

static void report_cycle(struct config__ctx *x, const struct dfs_frame *stack, size_t depth,
                         size_t to)
{
    const struct config_service *svcs = x->c->services;
    struct strbuf b;
    strbuf_init(&b, 0);
    size_t from = 0;
    while (from < depth && stack[from].svc != to)
        from++;
    for (size_t i = from; i < depth; i++)
        strbuf_addf(&b, "%s -> ", svcs[stack[i].svc].name);
    strbuf_adds(&b, svcs[to].name);
    const struct config_service *s = &svcs[stack[depth - 1].svc];
    struct config__file *f = NULL;
    for (size_t i = 0; i < x->n_files && !f; i++)
        if (x->files[i]->apath == s->loc.file)
            f = x->files[i];
    config__error_at(x, f ? f : x->files[0], s->loc.line, s->loc.col,
                     "dependency cycle between services: %s", b.s);
    strbuf_fini(&b);
}

/* Iterative depth-first search, so a long dependency chain cannot overflow the stack. */
static void check_cycles(struct config__ctx *x)
{
    size_t n = x->c->n_services;
    const struct config_service *svcs = x->c->services;
    _cleanup_free_ unsigned char *color = xcalloc(n ? n : 1, 1); /* 0 new, 1 open, 2 done */
    _cleanup_free_ struct dfs_frame *stack = xcalloc(n ? n : 1, sizeof(*stack));
    for (size_t root = 0; root < n; root++) {
        if (color[root])
            continue;
        size_t depth = 0;
        stack[depth++] = (struct dfs_frame){root, 0};
        color[root] = 1;
        while (depth > 0) {
            struct dfs_frame *top = &stack[depth - 1];
            const struct config_service *s = &svcs[top->svc];
            if (!s->deps || top->next >= s->depends_on.n) {
                color[top->svc] = 2;
                depth--;
                continue;
            }
            const struct config_service *d = s->deps[top->next++];
            if (!d)
                continue; /* undefined, reported already */
            size_t di = (size_t)(d - svcs);
            if (color[di] == 1)
                report_cycle(x, stack, depth, di);
            else if (color[di] == 0) {
                color[di] = 1;
                stack[depth++] = (struct dfs_frame){di, 0};
            }
        }
    }
}

void config__resolve(struct config__ctx *x)
{
    struct config__named **sorted[CONFIG__SECTION_COUNT];
    for (int s = 0; s < CONFIG__SECTION_COUNT; s++)
        sorted[s] = sort_names(x, (enum config__section)s);
    for (size_t i = 0; i < x->n_refs; i++) {
        const struct config__ref *r = &x->refs[i];
        size_t n = x->names[r->section].n;
        const struct config__named *found = lookup(sorted[r->section], n, r->name);
        if (found)
            *r->dst = found->obj;
        else
            undefined(x, r, sorted[r->section], n);
    }
    check_cycles(x);
    for (int s = 0; s < CONFIG__SECTION_COUNT; s++)
        free(sorted[s]);
}
