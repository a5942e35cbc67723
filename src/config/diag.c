/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics of a configuration load: collecting them with their
 * positions, sorting them, printing them, and the "did you mean" helper that
 * turns a typo into a suggestion.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "config/internal.h"

/* Past this many, further problems are only counted. */
#define CONFIG__MAX_DIAGS 500

static void diag_add(struct config__ctx *x, const struct config__file *f, unsigned line,
                     unsigned col, const char *fmt, va_list ap)
        __attribute__((format(printf, 5, 0)));

static void diag_add(struct config__ctx *x, const struct config__file *f, unsigned line,
                     unsigned col, const char *fmt, va_list ap)
{
    if (x->n_diags == x->cap_diags) {
        x->cap_diags = x->cap_diags ? x->cap_diags * 2 : 16;
        x->diags = xreallocarray(x->diags, x->cap_diags, sizeof(*x->diags));
    }
    struct config__diag_entry *e = &x->diags[x->n_diags];
    e->d.file = xstrdup(f->path);
    e->d.line = line;
    e->d.col = col;
    e->d.msg = xvasprintf(fmt, ap);
    e->file_index = f->index;
    e->seq = x->n_diags++;
}

void config__error_at(struct config__ctx *x, const struct config__file *f, unsigned line,
                      unsigned col, const char *fmt, ...)
{
    if (x->n_diags >= CONFIG__MAX_DIAGS) {
        x->n_diags++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    diag_add(x, f, line, col, fmt, ap);
    va_end(ap);
}

void config__error(struct config__ctx *x, const struct config__file *f, const yaml_node_t *node,
                   const char *fmt, ...)
{
    if (x->n_diags >= CONFIG__MAX_DIAGS) {
        x->n_diags++;
        return;
    }
    unsigned line = 0, col = 0;
    if (node) {
        line = (unsigned)node->start_mark.line + 1;
        col = (unsigned)node->start_mark.column + 1;
    }
    va_list ap;
    va_start(ap, fmt);
    diag_add(x, f, line, col, fmt, ap);
    va_end(ap);
}

static size_t utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/*
 * The column of byte `offset` of a scalar's value. Only a scalar on one
 * line whose source is exactly its value (plain) or its value in quotes
 * maps one to one; anything with escapes or folding points at its start.
 */
static unsigned inner_column(const yaml_node_t *n, size_t offset)
{
    unsigned col = (unsigned)n->start_mark.column + 1;
    if (n->type != YAML_SCALAR_NODE || n->start_mark.line != n->end_mark.line)
        return col;
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    size_t span = n->end_mark.index - n->start_mark.index;
    size_t quotes = 0;
    switch (n->data.scalar.style) {
    case YAML_PLAIN_SCALAR_STYLE:
        break;
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        quotes = 1;
        break;
    default:
        return col;
    }
    if (offset > len || span != utf8_chars(v, len) + 2 * quotes)
        return col;
    return col + (unsigned)(quotes + utf8_chars(v, offset));
}

void config__error_in(struct config__ctx *x, const struct config__file *f, const yaml_node_t *node,
                      size_t offset, const char *fmt, ...)
{
    if (x->n_diags >= CONFIG__MAX_DIAGS) {
        x->n_diags++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    diag_add(x, f, (unsigned)node->start_mark.line + 1, inner_column(node, offset), fmt, ap);
    va_end(ap);
}

static int entry_cmp(const void *pa, const void *pb)
{
    const struct config__diag_entry *a = pa, *b = pb;
    if (a->file_index != b->file_index)
        return a->file_index < b->file_index ? -1 : 1;
    if (a->d.line != b->d.line)
        return a->d.line < b->d.line ? -1 : 1;
    if (a->d.col != b->d.col)
        return a->d.col < b->d.col ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

void config__diags_take(struct config__ctx *x, struct config_diags *out)
{
    size_t kept = x->n_diags < CONFIG__MAX_DIAGS ? x->n_diags : CONFIG__MAX_DIAGS;
    if (kept)
        qsort(x->diags, kept, sizeof(*x->diags), entry_cmp);
    size_t n = kept + (x->n_diags > kept);
    out->v = xreallocarray(out->v, out->n + n, sizeof(*out->v));
    for (size_t i = 0; i < kept; i++)
        out->v[out->n++] = x->diags[i].d;
    if (x->n_diags > kept) {
        /* Attributed to the last file listed so it prints at the end. */
        out->v[out->n++] = (struct config_diag){
                .file = xstrdup(kept ? x->diags[kept - 1].d.file : x->files[0]->path),
                .msg = xasprintf("%zu more errors not shown", x->n_diags - kept),
        };
    }
    free(x->diags);
    x->diags = NULL;
    x->n_diags = x->cap_diags = 0;
}

void config_diags_fini(struct config_diags *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].file);
        free(d->v[i].msg);
    }
    free(d->v);
    d->v = NULL;
    d->n = 0;
}

void config_diags_print(const struct config_diags *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct config_diag *g = &d->v[i];
        if (g->line)
            fprintf(out, "%s:%u:%u: error: %s\n", g->file, g->line, g->col, g->msg);
        else
            fprintf(out, "%s: error: %s\n", g->file, g->msg);
    }
}

struct config_loc config__loc(struct config__ctx *x, const struct config__file *f,
                              const yaml_node_t *node)
{
    (void)x;
    return (struct config_loc){
            .file = f->apath,
            .line = (unsigned)node->start_mark.line + 1,
            .col = (unsigned)node->start_mark.column + 1,
    };
}

/* Optimal string alignment distance (edits, with swaps of neighbours), ignoring case. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t d[65][65];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

bool config__diags_full(const struct config__ctx *x)
{
    return x->n_diags >= CONFIG__MAX_DIAGS;
}

const char *config__suggest(const struct config__ctx *x, const char *word, const char *const *cands,
                            size_t n)
{
    /* Past the cap the message is only counted: spare the edit distances. */
    if (config__diags_full(x))
        return NULL;
    size_t len = strlen(word);
    /* Short words allow one edit, longer ones up to three. */
    size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(word, cands[i]);
        if (d <= limit && d < strlen(cands[i]) && d < best_d) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}

void config__join_names(struct strbuf *b, const char *const *names, size_t n, const char *last_sep)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            strbuf_addf(b, "%s", i + 1 == n ? last_sep : ", ");
        strbuf_adds(b, names[i]);
    }
}

void config_diags_add(struct config_diags *d, const char *file, unsigned line, unsigned col,
                      const char *msg)
{
    d->v = xreallocarray(d->v, d->n + 1, sizeof(*d->v));
    d->v[d->n++] = (struct config_diag){
            .file = xstrdup(file),
            .line = line,
            .col = col,
            .msg = xstrdup(msg),
    };
}
