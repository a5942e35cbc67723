/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for line protocol: parse any bytes. An error must point
 * into the text. A text that parses is written back as line protocol
 * (escaping each part as its context needs) and must parse to the same
 * points; and written into a small series store, it must be stored
 * whole, or, refused, leave the store as it was.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "ingest/lineproto.h"
#include "series/series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    struct strbuf render; /* the points, unambiguously */
    struct strbuf again;  /* the points as line protocol */
    bool exact;           /* every part can be written back */
};

static void put(struct strbuf *b, const struct ingest_lineproto_text *t)
{
    strbuf_add(b, t->s, t->len);
}

/* Writes t escaping the bytes of esc; false when it ends in a backslash (ambiguous). */
static bool put_escaped(struct strbuf *b, const struct ingest_lineproto_text *t, const char *esc)
{
    for (size_t i = 0; i < t->len; i++) {
        if (strchr(esc, t->s[i]) && t->s[i])
            strbuf_addc(b, '\\');
        strbuf_addc(b, t->s[i]);
    }
    return t->len == 0 || t->s[t->len - 1] != '\\';
}

static int on_point(const struct ingest_lineproto_point *p, void *data,
                    struct ingest_lineproto_error *e)
{
    (void)e;
    struct seen *s = data;
    struct strbuf *r = &s->render, *a = &s->again;
    if (p->measurement.len == 0 || p->n_fields == 0)
        abort();
    strbuf_addf(r, "%zu:", p->measurement.len);
    put(r, &p->measurement);
    s->exact &= put_escaped(a, &p->measurement, ", ");
    for (size_t i = 0; i < p->n_tags; i++) {
        const struct ingest_lineproto_tag *t = &p->tags[i];
        if (t->key.len == 0 || t->value.len == 0)
            abort();
        strbuf_addf(r, ",%zu:", t->key.len);
        put(r, &t->key);
        strbuf_addf(r, "=%zu:", t->value.len);
        put(r, &t->value);
        strbuf_addc(a, ',');
        s->exact &= put_escaped(a, &t->key, ",= ");
        strbuf_addc(a, '=');
        s->exact &= put_escaped(a, &t->value, ",= ");
    }
    for (size_t i = 0; i < p->n_fields; i++) {
        const struct ingest_lineproto_field *f = &p->fields[i];
        strbuf_addf(r, " %zu:", f->key.len);
        put(r, &f->key);
        strbuf_addc(a, i ? ',' : ' ');
        s->exact &= put_escaped(a, &f->key, ",= ");
        switch (f->type) {
        case INGEST_LINEPROTO_FLOAT:
            strbuf_addf(r, "=f%.17g", f->v.f);
            strbuf_addf(a, "=%.17g", f->v.f);
            break;
        case INGEST_LINEPROTO_INT:
            strbuf_addf(r, "=i%" PRId64, f->v.i);
            strbuf_addf(a, "=%" PRId64 "i", f->v.i);
            break;
        case INGEST_LINEPROTO_UINT:
            strbuf_addf(r, "=u%" PRIu64, f->v.u);
            strbuf_addf(a, "=%" PRIu64 "u", f->v.u);
            break;
        case INGEST_LINEPROTO_BOOL:
            strbuf_addf(r, "=b%d", f->v.b);
            strbuf_adds(a, f->v.b ? "=true" : "=false");
            break;
        case INGEST_LINEPROTO_STRING:
            strbuf_addf(r, "=s%zu:", f->v.s.len);
            put(r, &f->v.s);
            strbuf_adds(a, "=\"");
            put_escaped(a, &f->v.s, "\"\\");
            strbuf_addc(a, '"');
            break;
        }
    }
    if (p->has_time) {
        strbuf_addf(r, " @%" PRId64, p->time_ns);
        strbuf_addf(a, " %" PRId64, p->time_ns);
    }
    strbuf_addc(r, '\n');
    strbuf_addc(a, '\n');
    return 0;
}

/* The store takes the whole text or none of it. */
static void write_whole_or_nothing(const char *text, size_t len)
{
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 4, .max_series = 8});
    struct series *pre;
    if (series_store_get(st, "pre", NULL, &pre) < 0)
        abort();
    series_append(st, pre, 1, 1);
    struct ingest_lineproto_writer *w = ingest_lineproto_writer_new();
    struct ingest_lineproto_result res;
    struct ingest_lineproto_error e;
    int r = ingest_lineproto_write(w, st, text, len, INGEST_LINEPROTO_NS, 5, &res, &e);
    if (r < 0 && (series_store_count(st) != 1 || series_len(pre) != 1))
        abort();
    if (r == 0 && series_store_count(st) != 1 + res.created)
        abort();
    ingest_lineproto_writer_free(w);
    series_store_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct ingest_lineproto_parser *p = ingest_lineproto_parser_new();
    struct seen s = {.exact = true};
    strbuf_init(&s.render, 0);
    strbuf_init(&s.again, 0);
    struct ingest_lineproto_error e = {0};
    int r = ingest_lineproto_parse(p, text, size, INGEST_LINEPROTO_NS, on_point, &s, &e);
    if (r < 0) {
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (r != HALE_EPARSE || e.line < 1 || e.line > lines || e.column < 1 ||
            e.column > size + 1 || !e.msg[0])
            abort();
    } else if (s.exact) {
        struct seen again = {.exact = true};
        strbuf_init(&again.render, 0);
        strbuf_init(&again.again, 0);
        if (ingest_lineproto_parse(p, s.again.s, s.again.len, INGEST_LINEPROTO_NS, on_point, &again,
                                   NULL) < 0 ||
            again.render.len != s.render.len ||
            memcmp(again.render.s, s.render.s, s.render.len) != 0)
            abort();
        strbuf_fini(&again.render);
        strbuf_fini(&again.again);
    }
    strbuf_fini(&s.render);
    strbuf_fini(&s.again);
    ingest_lineproto_parser_free(p);
    write_whole_or_nothing(text, size);
    return 0;
}
