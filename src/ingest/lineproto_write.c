/* SPDX-License-Identifier: MIT */
/*
 * A batch of line protocol into the series store, whole or not at all.
 * The parser's callback resolves each numeric field's series (creating
 * the missing ones, and remembering which) and stages (series, time,
 * value); only when the whole text parsed are the staged points
 * appended. A batch that fails removes the series it created, so the
 * store is left as it was found.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/labels.h"
#include "ingest/lineproto.h"
#include "series/series.h"

/* Series names hale writes itself (hale_check_sample, ...): ingestion may not. */
#define WRITE_RESERVED_PREFIX "hale_"

struct staged {
    struct series *series;
    uint64_t time_ms;
    double value;
};

struct ingest_lineproto_writer {
    struct ingest_lineproto_parser *parser;
    /* This batch: */
    struct series_store *st;
    uint64_t now_ms;
    struct ingest_lineproto_result res;
    struct staged *staged;
    size_t n_staged, staged_cap;
    struct series **created;
    size_t n_created, created_cap;
    /* This point: its labels, and the text they and the series name point into. */
    struct label *labels;
    size_t labels_cap;
    char *text;
    size_t text_cap;
};

struct ingest_lineproto_writer *ingest_lineproto_writer_new(void)
{
    struct ingest_lineproto_writer *w = xcalloc(1, sizeof(*w));
    w->parser = ingest_lineproto_parser_new();
    return w;
}

void ingest_lineproto_writer_free(struct ingest_lineproto_writer *w)
{
    if (!w)
        return;
    ingest_lineproto_parser_free(w->parser);
    free(w->staged);
    free(w->created);
    free(w->labels);
    free(w->text);
    free(w);
}

__attribute__((format(printf, 5, 6))) static int write_fail(struct ingest_lineproto_error *e, int r,
                                                            unsigned line, unsigned column,
                                                            const char *fmt, ...)
{
    if (e) {
        e->line = line;
        e->column = column;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
    }
    return r;
}

/*
 * Appends t to p as a Prometheus name: bytes other than letters, digits,
 * '_' (and ':' when colon) become '_'; a leading digit gets a '_' before
 * it. Returns the end of what was written.
 */
static char *name_put(char *p, const struct ingest_lineproto_text *t, bool colon, bool first)
{
    for (size_t i = 0; i < t->len; i++) {
        unsigned char c = (unsigned char)t->s[i];
        bool digit = c >= '0' && c <= '9';
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colon && c == ':') || digit;
        if (first && i == 0 && digit)
            *p++ = '_';
        *p++ = ok ? (char)c : '_';
    }
    return p;
}

static int label_compare(const void *a, const void *b)
{
    return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

/*
 * Builds w->labels from the point's tags (names made Prometheus names,
 * values copied, all in w->text) and returns where the text is free for
 * the series name. NULL with e filled when two tags become one label.
 */
static char *labels_build(struct ingest_lineproto_writer *w,
                          const struct ingest_lineproto_point *pt, size_t *ret_n,
                          struct ingest_lineproto_error *e)
{
    /* Room for every tag (a '_' more each, two NULs) and the longest series name. */
    size_t need = 0, longest = 0;
    for (size_t i = 0; i < pt->n_tags; i++)
        need += pt->tags[i].key.len + pt->tags[i].value.len + 3;
    for (size_t i = 0; i < pt->n_fields; i++)
        if (pt->fields[i].key.len > longest)
            longest = pt->fields[i].key.len;
    need += pt->measurement.len + longest + 4;
    if (need > w->text_cap) {
        free(w->text);
        w->text_cap = need * 2;
        w->text = xmalloc(w->text_cap);
    }
    if (pt->n_tags > w->labels_cap) {
        w->labels_cap = pt->n_tags * 2;
        w->labels = xreallocarray(w->labels, w->labels_cap, sizeof(*w->labels));
    }
    char *p = w->text;
    bool sorted = true;
    for (size_t i = 0; i < pt->n_tags; i++) {
        const struct ingest_lineproto_tag *t = &pt->tags[i];
        w->labels[i].name = p;
        p = name_put(p, &t->key, false, true);
        *p++ = '\0';
        w->labels[i].value = p;
        memcpy(p, t->value.s, t->value.len);
        p += t->value.len;
        *p++ = '\0';
        if (i > 0 && strcmp(w->labels[i - 1].name, w->labels[i].name) >= 0)
            sorted = false;
    }
    /* The tags come sorted; only names that had other bytes can fall out of order or collide. */
    if (!sorted) {
        qsort(w->labels, pt->n_tags, sizeof(*w->labels), label_compare);
        for (size_t i = 1; i < pt->n_tags; i++)
            if (strcmp(w->labels[i - 1].name, w->labels[i].name) == 0) {
                write_fail(e, HALE_EPARSE, pt->line, pt->column,
                           "two tags of the point become label \"%.64s\" (names keep letters, "
                           "digits and '_'): rename one",
                           w->labels[i].name);
                return NULL;
            }
    }
    *ret_n = pt->n_tags;
    return p;
}

static bool text_is(const struct ingest_lineproto_text *t, const char *s)
{
    return t->len == strlen(s) && memcmp(t->s, s, t->len) == 0;
}

static double field_value(const struct ingest_lineproto_field *f)
{
    switch (f->type) {
    case INGEST_LINEPROTO_INT:
        return (double)f->v.i;
    case INGEST_LINEPROTO_UINT:
        return (double)f->v.u;
    case INGEST_LINEPROTO_BOOL:
        return f->v.b ? 1.0 : 0.0;
    default:
        return f->v.f;
    }
}

static void stage(struct ingest_lineproto_writer *w, struct series *s, uint64_t time_ms, double v)
{
    if (w->n_staged == w->staged_cap) {
        w->staged_cap = w->staged_cap ? w->staged_cap * 2 : 256;
        w->staged = xreallocarray(w->staged, w->staged_cap, sizeof(*w->staged));
    }
    w->staged[w->n_staged++] = (struct staged){.series = s, .time_ms = time_ms, .value = v};
}

/* The series name and labels: a missing one is created and remembered. */
static int series_resolve(struct ingest_lineproto_writer *w, const char *name,
                          const struct labels *labels, const struct ingest_lineproto_point *pt,
                          const struct ingest_lineproto_field *f, struct series **ret,
                          struct ingest_lineproto_error *e)
{
    size_t before = series_store_count(w->st);
    int r = series_store_get(w->st, name, labels, ret);
    if (r == HALE_ELIMIT)
        return write_fail(e, r, pt->line, f->column,
                          "series %.100s cannot be added: hale keeps at most %zu series and has "
                          "no room left; nothing of the batch was stored",
                          name, before);
    if (r == -E2BIG)
        return write_fail(e, r, pt->line, f->column,
                          "series %.100s cannot be added: its name and tags take more than %d "
                          "bytes; nothing of the batch was stored",
                          name, SERIES_KEY_MAX);
    if (r < 0)
        return write_fail(e, r, pt->line, f->column, "series %.100s: %s", name, hale_strerror(r));
    if (series_store_count(w->st) > before) {
        if (w->n_created == w->created_cap) {
            w->created_cap = w->created_cap ? w->created_cap * 2 : 16;
            w->created = xreallocarray(w->created, w->created_cap, sizeof(*w->created));
        }
        w->created[w->n_created++] = *ret;
    }
    return 0;
}

static int on_point(const struct ingest_lineproto_point *pt, void *data,
                    struct ingest_lineproto_error *e)
{
    struct ingest_lineproto_writer *w = data;
    uint64_t time_ms = w->now_ms;
    if (pt->has_time) {
        if (pt->time_ns < 0)
            return write_fail(e, HALE_EPARSE, pt->line, pt->time_column,
                              "the timestamp is before 1970, which hale cannot keep");
        time_ms = (uint64_t)pt->time_ns / 1000000u;
    }
    size_t n_labels;
    char *name = labels_build(w, pt, &n_labels, e);
    if (!name)
        return HALE_EPARSE;
    struct labels labels = {.v = w->labels, .n = n_labels, .cap = n_labels};
    /* The measurement starts every field's name: written once, each key after it. */
    char *key_at = name_put(name, &pt->measurement, true, true);
    size_t prefix = strlen(WRITE_RESERVED_PREFIX), mlen = (size_t)(key_at - name);
    bool reserved = mlen >= prefix && memcmp(name, WRITE_RESERVED_PREFIX, prefix) == 0;
    /* "hale" and a field other than value: "hale_field". */
    bool reserved_with_key = mlen == prefix - 1 && memcmp(name, WRITE_RESERVED_PREFIX, mlen) == 0;
    for (size_t i = 0; i < pt->n_fields; i++) {
        const struct ingest_lineproto_field *f = &pt->fields[i];
        if (f->type == INGEST_LINEPROTO_STRING) {
            w->res.strings++;
            continue;
        }
        char *end = key_at;
        bool with_key = !text_is(&f->key, "value");
        if (with_key) {
            *end++ = '_';
            end = name_put(end, &f->key, true, false);
        }
        *end = '\0';
        if (reserved || (reserved_with_key && with_key))
            return write_fail(e, HALE_EPARSE, pt->line, pt->column,
                              "series %.100s: names starting with \"" WRITE_RESERVED_PREFIX
                              "\" are hale's own: rename the measurement",
                              name);
        struct series *s;
        int r = series_resolve(w, name, &labels, pt, f, &s, e);
        if (r < 0)
            return r;
        stage(w, s, time_ms, field_value(f));
        w->res.samples++;
    }
    w->res.points++;
    return 0;
}

int ingest_lineproto_write(struct ingest_lineproto_writer *w, struct series_store *st,
                           const char *text, size_t len, enum ingest_lineproto_precision precision,
                           uint64_t now_ms, struct ingest_lineproto_result *ret,
                           struct ingest_lineproto_error *e)
{
    w->st = st;
    w->now_ms = now_ms;
    w->res = (struct ingest_lineproto_result){0};
    w->n_staged = w->n_created = 0;
    int r = ingest_lineproto_parse(w->parser, text, len, precision, on_point, w, e);
    if (r < 0) {
        for (size_t i = w->n_created; i-- > 0;)
            series_store_remove(st, w->created[i]);
        w->n_created = 0;
        return r;
    }
    for (size_t i = 0; i < w->n_staged; i++)
        series_append(st, w->staged[i].series, w->staged[i].time_ms, w->staged[i].value);
    w->res.created = w->n_created;
    if (ret)
        *ret = w->res;
    return 0;
}
