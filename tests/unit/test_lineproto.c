/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/ingest/lineproto.c and lineproto_write.c: the decode cases
 * of influxdata/line-protocol's corpus, the documentation's examples and
 * real Telegraf output (../shared/fixtures), escapes, types, precisions,
 * errors with their line and column, and batches written into a series
 * store whole or not at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/labels.h"
#include "base/strbuf.h"
#include "ingest/lineproto.h"
#include "series/series.h"

/* ---- helpers ---- */

static char *fixture_read(const char *name, size_t *ret_len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", HALE_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct strbuf b;
    strbuf_init(&b, 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&b, buf, n);
    fclose(f);
    return strbuf_detach(&b, ret_len);
}

/* Every point of a parse, one line of text each: name,tags fields [@time]. */
struct record {
    struct strbuf out;
    size_t points;
    int64_t default_time; /* shown for a point without a timestamp */
};

static void put_text(struct strbuf *b, const struct ingest_lineproto_text *t)
{
    strbuf_add(b, t->s, t->len);
}

static int on_record(const struct ingest_lineproto_point *p, void *data,
                     struct ingest_lineproto_error *e)
{
    (void)e;
    struct record *r = data;
    struct strbuf *b = &r->out;
    put_text(b, &p->measurement);
    for (size_t i = 0; i < p->n_tags; i++) {
        strbuf_addc(b, ',');
        put_text(b, &p->tags[i].key);
        strbuf_addc(b, '=');
        put_text(b, &p->tags[i].value);
    }
    for (size_t i = 0; i < p->n_fields; i++) {
        const struct ingest_lineproto_field *f = &p->fields[i];
        strbuf_addc(b, i ? ',' : ' ');
        put_text(b, &f->key);
        switch (f->type) {
        case INGEST_LINEPROTO_FLOAT:
            strbuf_addf(b, "=f:%.17g", f->v.f);
            break;
        case INGEST_LINEPROTO_INT:
            strbuf_addf(b, "=i:%" PRId64, f->v.i);
            break;
        case INGEST_LINEPROTO_UINT:
            strbuf_addf(b, "=u:%" PRIu64, f->v.u);
            break;
        case INGEST_LINEPROTO_BOOL:
            strbuf_addf(b, "=b:%d", f->v.b);
            break;
        case INGEST_LINEPROTO_STRING:
            strbuf_adds(b, "=s:\"");
            put_text(b, &f->v.s);
            strbuf_addc(b, '"');
            break;
        }
    }
    strbuf_addf(b, " @%" PRId64 "\n", p->has_time ? p->time_ns : r->default_time);
    r->points++;
    return 0;
}

static struct ingest_lineproto_parser *parser;

static int setup(void **state)
{
    (void)state;
    parser = ingest_lineproto_parser_new();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ingest_lineproto_parser_free(parser);
    parser = NULL;
    return 0;
}

/* Parses text; returns the record (free its out) and the result in *ret_r. */
static struct record parse_text(const char *text, size_t len,
                                enum ingest_lineproto_precision precision, int64_t default_time,
                                int *ret_r, struct ingest_lineproto_error *e)
{
    struct record r = {.default_time = default_time};
    strbuf_init(&r.out, 0);
    *ret_r = ingest_lineproto_parse(parser, text, len, precision, on_record, &r, e);
    return r;
}

/* Parses text, which must be valid, and compares the points with want. */
static void expect_points(const char *text, const char *want)
{
    struct ingest_lineproto_error e = {0};
    int r;
    struct record rec = parse_text(text, strlen(text), INGEST_LINEPROTO_NS, -1, &r, &e);
    if (r != 0)
        fail_msg("\"%s\": %u:%u: %s", text, e.line, e.column, e.msg);
    if (strcmp(rec.out.s, want) != 0)
        fail_msg("\"%s\":\n got  %s\n want %s", text, rec.out.s, want);
    strbuf_fini(&rec.out);
}

/* Parses text, which must fail at line:column with a message holding what. */
static void expect_error(const char *text, unsigned line, unsigned column, const char *what)
{
    struct ingest_lineproto_error e = {0};
    int r;
    struct record rec = parse_text(text, strlen(text), INGEST_LINEPROTO_NS, -1, &r, &e);
    strbuf_fini(&rec.out);
    if (r != HALE_EPARSE)
        fail_msg("\"%s\" parsed (%d); expected an error at %u:%u", text, r, line, column);
    if (e.line != line || e.column != column || !strstr(e.msg, what))
        fail_msg("\"%s\": got %u:%u: %s\n expected %u:%u: ...%s...", text, e.line, e.column, e.msg,
                 line, column, what);
}

/* ---- the fixtures ---- */

/* A corpus case's expected result in the form on_record() writes. */
static void corpus_want(json_t *result, int64_t default_time, struct strbuf *b)
{
    size_t i;
    json_t *pt;
    json_array_foreach(result, i, pt)
    {
        strbuf_adds(b, json_string_value(json_object_get(pt, "name")));
        /* Tags sorted by key, as the parser hands them. */
        json_t *tags = json_object_get(pt, "tags");
        size_t n = json_array_size(tags);
        json_t **sorted = xcalloc(n ? n : 1, sizeof(*sorted));
        for (size_t k = 0; k < n; k++)
            sorted[k] = json_array_get(tags, k);
        for (size_t a = 1; a < n; a++)
            for (size_t k = a;
                 k > 0 && strcmp(json_string_value(json_object_get(sorted[k - 1], "key")),
                                 json_string_value(json_object_get(sorted[k], "key"))) > 0;
                 k--) {
                json_t *t = sorted[k];
                sorted[k] = sorted[k - 1];
                sorted[k - 1] = t;
            }
        for (size_t k = 0; k < n; k++)
            strbuf_addf(b, ",%s=%s", json_string_value(json_object_get(sorted[k], "key")),
                        json_string_value(json_object_get(sorted[k], "value")));
        free(sorted);
        size_t j;
        json_t *f;
        json_array_foreach(json_object_get(pt, "fields"), j, f)
        {
            strbuf_addf(b, "%c%s=", j ? ',' : ' ', json_string_value(json_object_get(f, "key")));
            json_t *v = json_object_get(f, "value"), *x;
            if ((x = json_object_get(v, "float")))
                strbuf_addf(b, "f:%.17g", json_number_value(x));
            else if ((x = json_object_get(v, "int")))
                strbuf_addf(b, "i:%" PRId64, (int64_t)json_integer_value(x));
            else if ((x = json_object_get(v, "uint")))
                strbuf_addf(b, "u:%s", json_string_value(x));
            else if ((x = json_object_get(v, "bool")))
                strbuf_addf(b, "b:%d", json_is_true(x));
            else if ((x = json_object_get(v, "string")))
                strbuf_addf(b, "s:\"%s\"", json_string_value(x));
            else
                fail_msg("unknown value type in the corpus");
        }
        json_t *time = json_object_get(pt, "time");
        strbuf_addf(b, " @%" PRId64 "\n", time ? (int64_t)json_integer_value(time) : default_time);
    }
}

/*
 * The corpus, with its one number too large for jansson's integers (an
 * unsigned 2^64-1) turned into a string first.
 */
static json_t *corpus_load(void)
{
    size_t len;
    char *raw = fixture_read("influx-line-protocol-corpus-subset.json", &len);
    struct strbuf b;
    strbuf_init(&b, 0);
    const char *key = "\"uint\": ";
    for (const char *p = raw, *q; *p; p = q) {
        q = strstr(p, key);
        if (!q) {
            strbuf_adds(&b, p);
            break;
        }
        q += strlen(key);
        strbuf_add(&b, p, (size_t)(q - p));
        size_t digits = strspn(q, "0123456789");
        strbuf_addc(&b, '"');
        strbuf_add(&b, q, digits);
        strbuf_addc(&b, '"');
        q += digits;
    }
    json_error_t je;
    json_t *corpus = json_loadb(b.s, b.len, 0, &je);
    if (!corpus)
        fail_msg("corpus: %d:%d: %s", je.line, je.column, je.text);
    strbuf_fini(&b);
    free(raw);
    return corpus;
}

static void test_lineproto_corpus_cases_decode_as_upstream(void **state)
{
    (void)state;
    json_t *corpus = corpus_load();
    const char *name;
    json_t *c;
    size_t valid = 0, invalid = 0;
    json_object_foreach(json_object_get(corpus, "decode"), name, c)
    {
        json_t *in = json_object_get(c, "input"), *out = json_object_get(c, "output");
        const char *text = json_string_value(json_object_get(in, "text"));
        int64_t def = (int64_t)json_integer_value(json_object_get(in, "defaultTime"));
        assert_string_equal(json_string_value(json_object_get(in, "precision")), "1ns");
        struct ingest_lineproto_error e = {0};
        int r;
        struct record rec = parse_text(text, strlen(text), INGEST_LINEPROTO_NS, def, &r, &e);
        json_t *result = json_object_get(out, "result");
        if (result) {
            if (r != 0)
                fail_msg("case %s \"%s\" must parse: %u:%u: %s", name, text, e.line, e.column,
                         e.msg);
            struct strbuf want;
            strbuf_init(&want, 0);
            corpus_want(result, def, &want);
            if (strcmp(rec.out.s, want.s) != 0)
                fail_msg("case %s \"%s\":\n got  %s want %s", name, text, rec.out.s, want.s);
            strbuf_fini(&want);
            valid++;
        } else {
            if (r != HALE_EPARSE)
                fail_msg("case %s \"%s\" must be refused", name, text);
            /* Where upstream names a position ("at line 1:25"), it is the same. */
            const char *err = json_string_value(json_object_get(out, "error"));
            const char *at = strstr(err, "at line ");
            unsigned line, col;
            if (at && sscanf(at, "at line %u:%u", &line, &col) == 2 &&
                (e.line != line || e.column != col))
                fail_msg("case %s \"%s\": error at %u:%u (%s), upstream says %u:%u", name, text,
                         e.line, e.column, e.msg, line, col);
            assert_true(e.msg[0] != '\0');
            invalid++;
        }
        strbuf_fini(&rec.out);
    }
    assert_int_equal(valid, 42);
    assert_int_equal(invalid, 18);
    json_decref(corpus);
}

/*
 * The documentation's examples: every line that is line protocol (not
 * the "//" notes nor the <placeholder> syntax) parses, as one batch.
 */
static void test_lineproto_documentation_examples_parse(void **state)
{
    (void)state;
    size_t len;
    char *raw = fixture_read("influx-line-protocol-examples.txt", &len);
    struct strbuf text;
    strbuf_init(&text, 0);
    for (char *line = raw, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (strncmp(line, "//", 2) != 0 && line[0] != '<') {
            strbuf_adds(&text, line);
            strbuf_addc(&text, '\n');
        }
    }
    struct ingest_lineproto_error e = {0};
    int r;
    struct record rec = parse_text(text.s, text.len, INGEST_LINEPROTO_NS, -1, &r, &e);
    if (r != 0)
        fail_msg("%u:%u: %s", e.line, e.column, e.msg);
    if (rec.points != 23)
        fail_msg("%zu points:\n%s", rec.points, rec.out.s);
    const char *want[] = {
            "myMeasurement,tag1=value1,tag2=value2 fieldKey=s:\"fieldValue\" "
            "@1556813561098000000\n",
            "myMeasurement fieldKey=f:-1.234456e+78 @-1\n",
            "myMeasurement fieldKey=i:-12485903 @-1\n",
            "myMeasurement fieldKey=u:12485903 @-1\n",
            "myMeasurement fieldKey=b:1 @-1\nmyMeasurement fieldKey=b:0 @-1\n"
            "myMeasurement fieldKey=b:1 @-1\nmyMeasurement fieldKey=b:0 @-1\n"
            "myMeasurement fieldKey=b:1 @-1\nmyMeasurement fieldKey=b:0 @-1\n",
            "my Measurement fieldKey=s:\"string value\" @-1\n",
            "myMeasurement fieldKey=s:\"\"string\" within a string\" @-1\n",
            "myMeasurement,tag Key1=tag Value1,tag Key2=tag Value2 fieldKey=f:100 @-1\n",
            "myMeasurement,tagKey=\xf0\x9f\x8d\xad fieldKey=s:\"Launch \xf0\x9f\x9a\x80\" "
            "@1556813561098000000\n",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!strstr(rec.out.s, want[i]))
            fail_msg("missing:\n%s\nin:\n%s", want[i], rec.out.s);
    strbuf_fini(&rec.out);
    strbuf_fini(&text);
    free(raw);
}

static void test_lineproto_telegraf_output_parses(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture_read("influx-line-protocol-telegraf-systemd_units-output.txt", &len);
    struct ingest_lineproto_error e = {0};
    int r;
    struct record rec = parse_text(text, len, INGEST_LINEPROTO_NS, -1, &r, &e);
    if (r != 0)
        fail_msg("%u:%u: %s", e.line, e.column, e.msg);
    assert_int_equal(rec.points, 6);
    assert_non_null(strstr(rec.out.s, "systemd_units,active=failed,host=host1.example.com,"
                                      "load=loaded,name=networking.service,sub=failed "
                                      "load_code=i:0,active_code=i:3,sub_code=i:12 "
                                      "@1533730725000000000\n"));
    assert_non_null(strstr(rec.out.s, "mem_avail=i:6470856704,"));
    strbuf_fini(&rec.out);
    free(text);
}

/* ---- syntax ---- */

static void test_lineproto_escapes_by_part(void **state)
{
    (void)state;
    /* Measurement: comma and space; '=' stays escaped as written. */
    expect_points("c\\,p\\ u\\= v=1", "c,p u\\= v=f:1 @-1\n");
    /* Tag keys and values, field keys: comma, '=' and space. */
    expect_points("m,k\\ e\\=y=v\\,a\\=l\\ ue f\\,i\\=e\\ ld=1",
                  "m,k e=y=v,a=l ue f,i=e ld=f:1 @-1\n");
    /* A backslash before anything else is itself, a second backslash included. */
    expect_points("m,k=a\\b\\\\\\ c v=1", "m,k=a\\b\\\\ c v=f:1 @-1\n");
    expect_points("m,k=a\\\\ t v=1", "m,k=a\\ t v=f:1 @-1\n");
    /* Strings: quote, backslash, n r t; other backslashes are themselves. */
    expect_points("m s=\"q\\\" b\\\\ n\\n x\\y\"", "m s=s:\"q\" b\\ n\n x\\y\" @-1\n");
    expect_points("m s=\"a,b=c d\",v=1", "m s=s:\"a,b=c d\",v=f:1 @-1\n");
}

static void test_lineproto_types_and_ranges(void **state)
{
    (void)state;
    expect_points("m a=1,b=-1.5,c=.5,d=1.,e=1e3,f=-2E-2,g=0.000001,h=12345678901234567890",
                  "m a=f:1,b=f:-1.5,c=f:0.5,d=f:1,e=f:1000,f=f:-0.02,g=f:9.9999999999999995e-07,"
                  "h=f:1.2345678901234567e+19 @-1\n");
    /* Past the fast path, strtod() rounds: the result is the nearest double all the same. */
    expect_points("m a=0.1,b=3.141592653589793238,c=1e300,d=1e-300",
                  "m a=f:0.10000000000000001,b=f:3.1415926535897931,c=f:1.0000000000000001e+300,"
                  "d=f:1e-300 @-1\n");
    expect_points("m a=-9223372036854775808i,b=9223372036854775807i,c=0u,d=18446744073709551615u",
                  "m a=i:-9223372036854775808,b=i:9223372036854775807,c=u:0,"
                  "d=u:18446744073709551615 @-1\n");
    expect_points("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE",
                  "m a=b:1,b=b:1,c=b:1,d=b:1,e=b:1,f=b:0,g=b:0,h=b:0,i=b:0,j=b:0 @-1\n");
    expect_error("m a=1e999", 1, 5, "too large");
    expect_error("m a=tRUE", 1, 5, "not a boolean");
    expect_error("m a=1.5.2", 1, 5, "not a number");
    expect_error("m a=1e", 1, 5, "not a number");
    expect_error("m a=-", 1, 5, "not a number");
    expect_error("m a=0x10", 1, 5, "not a number");
    expect_error("m a=12ii", 1, 5, "not an integer");
    expect_error("m a=abc", 1, 5, "expected a value");
    expect_error("m a=\"open", 1, 5, "no closing double quote");
}

static void test_lineproto_lines_comments_and_blanks(void **state)
{
    (void)state;
    expect_points("# a comment\n\n   \n  m v=1 10  \r\n# another\nn,t=x v=2i\n",
                  "m v=f:1 @10\nn,t=x v=i:2 @-1\n");
    expect_points("m v=1", "m v=f:1 @-1\n");
    expect_points("", "");
    /* Tags come sorted by key. */
    expect_points("m,b=2,a=1,c=3 v=1", "m,a=1,b=2,c=3 v=f:1 @-1\n");
    /* A raw newline in a string is part of it, and the lines after are counted past it. */
    expect_points("m s=\"a\nb\" 5\nn v=1", "m s=s:\"a\nb\" @5\nn v=f:1 @-1\n");
    expect_error("m s=\"a\nb\" 5\nn v=x", 3, 5, "expected a value");
}

static void test_lineproto_errors_name_line_and_column(void **state)
{
    (void)state;
    expect_error("m v=1\nm v=2\ncpu,host=a", 3, 11, "expected a space and the fields");
    expect_error("m v=1\n\ncpu", 3, 4, "expected a space and the fields");
    expect_error("cpu,host value=1", 1, 9, "expected '=' after tag key \"host\"");
    expect_error("cpu,host= value=1", 1, 10, "expected a value for tag \"host\"");
    expect_error("cpu,=a value=1", 1, 5, "expected a tag key");
    expect_error("cpu,a=b=c value=1", 1, 8, "must be escaped");
    expect_error("cpu,a=1,b=2,a=3 v=1", 1, 13, "tag \"a\" is given twice");
    expect_error("cpu value", 1, 10, "expected '=' after field key \"value\"");
    expect_error("cpu value=1,", 1, 13, "expected a field key after ','");
    expect_error("cpu  =1", 1, 6, "expected a field key");
    expect_error(",a=b v=1", 1, 1, "expected a measurement name");
    expect_error("cpu value=1 12x", 1, 13, "expected a timestamp");
    expect_error("cpu value=1 12 13", 1, 16, "expected the end of the line");
    expect_error("cpu value=\"a\"x", 1, 14, "expected ',', a space or the end of the line");
    expect_error("cpu value=1\rx", 1, 11, "not a number");
    expect_error("\rcpu value=1", 1, 1, "carriage return");
    expect_error("c\x01pu value=1", 1, 2, "control byte 0x01 in the measurement");
    expect_error("cpu,t=a\tb value=1", 1, 8, "control byte 0x09 in a tag value");
    /* A NUL in the text is a control byte like any other. */
    struct ingest_lineproto_error e = {0};
    int r;
    struct record rec = parse_text("m v=1\nm\0 v=1", 13, INGEST_LINEPROTO_NS, 0, &r, &e);
    assert_int_equal(r, HALE_EPARSE);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 2);
    /* The points before the bad line were seen, the ones after not. */
    assert_int_equal(rec.points, 1);
    strbuf_fini(&rec.out);
}

static void test_lineproto_precision_scales_timestamps(void **state)
{
    (void)state;
    static const struct {
        enum ingest_lineproto_precision p;
        const char *text;
        int64_t want;
    } cases[] = {
            {INGEST_LINEPROTO_NS, "m v=1 1700000000123456789", 1700000000123456789},
            {INGEST_LINEPROTO_US, "m v=1 1700000000123456", 1700000000123456000},
            {INGEST_LINEPROTO_MS, "m v=1 1700000000123", 1700000000123000000},
            {INGEST_LINEPROTO_S, "m v=1 1700000000", 1700000000000000000},
            {INGEST_LINEPROTO_S, "m v=1 -5", -5000000000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct ingest_lineproto_error e = {0};
        int r;
        struct record rec = parse_text(cases[i].text, strlen(cases[i].text), cases[i].p, 0, &r, &e);
        assert_int_equal(r, 0);
        char want[64];
        snprintf(want, sizeof(want), "m v=f:1 @%" PRId64 "\n", cases[i].want);
        assert_string_equal(rec.out.s, want);
        strbuf_fini(&rec.out);
    }
    /* 10^10 seconds is past what int64 nanoseconds hold (year 2262). */
    struct ingest_lineproto_error e = {0};
    int r;
    const char *text = "m v=1 10000000000";
    struct record rec = parse_text(text, strlen(text), INGEST_LINEPROTO_S, 0, &r, &e);
    assert_int_equal(r, HALE_EPARSE);
    assert_int_equal(e.column, 7);
    assert_non_null(strstr(e.msg, "out of range"));
    strbuf_fini(&rec.out);

    enum ingest_lineproto_precision p;
    assert_true(ingest_lineproto_precision_parse("us", &p));
    assert_int_equal(p, INGEST_LINEPROTO_US);
    assert_true(ingest_lineproto_precision_parse("s", &p));
    assert_int_equal(p, INGEST_LINEPROTO_S);
    assert_false(ingest_lineproto_precision_parse("n", &p));
    assert_false(ingest_lineproto_precision_parse("h", &p));
}

/* ---- into the series store ---- */

static double last_value(struct series_store *st, const char *name, const char *const *kv)
{
    struct labels l;
    labels_init(&l);
    for (; kv && kv[0]; kv += 2)
        labels_set(&l, kv[0], kv[1], NULL);
    struct series *s = series_store_find(st, name, &l);
    labels_fini(&l);
    if (!s)
        fail_msg("no series %s", name);
    struct series_point p;
    assert_true(series_last(s, &p));
    return p.value;
}

static int write_text(struct series_store *st, const char *text,
                      enum ingest_lineproto_precision precision, uint64_t now_ms,
                      struct ingest_lineproto_result *ret, struct ingest_lineproto_error *e)
{
    struct ingest_lineproto_writer *w = ingest_lineproto_writer_new();
    int r = ingest_lineproto_write(w, st, text, strlen(text), precision, now_ms, ret, e);
    ingest_lineproto_writer_free(w);
    return r;
}

static void test_lineproto_write_names_series_as_telegraf_does(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(&(struct series_limits){.points = 16});
    struct ingest_lineproto_result res;
    struct ingest_lineproto_error e = {0};
    const char *text = "cpu,host=a usage_idle=99.5,usage_user=0.5 1700000000000\n"
                       "load,host=a value=3i,ok=true,up=f,note=\"fine\" 1700000001000\n"
                       "disk.io,dev-name=sd\\ a,2nd=x read\\ bytes=7u\n";
    assert_int_equal(write_text(st, text, INGEST_LINEPROTO_MS, 1700000002000, &res, &e), 0);
    assert_int_equal(res.points, 3);
    assert_int_equal(res.samples, 6);
    assert_int_equal(res.strings, 1);
    assert_int_equal(res.created, 6);
    const char *host_a[] = {"host", "a", NULL};
    assert_true(last_value(st, "cpu_usage_idle", host_a) == 99.5);
    assert_true(last_value(st, "cpu_usage_user", host_a) == 0.5);
    assert_true(last_value(st, "load", host_a) == 3.0); /* the field "value": the measurement */
    assert_true(last_value(st, "load_ok", host_a) == 1.0);
    assert_true(last_value(st, "load_up", host_a) == 0.0);
    const char *dev[] = {"_2nd", "x", "dev_name", "sd a", NULL};
    assert_true(last_value(st, "disk_io_read_bytes", dev) == 7.0);
    assert_null(series_store_find(st, "load_note", NULL));

    /* Times: the point's, in ms; a point without one takes the time of receipt. */
    struct labels l;
    labels_init(&l);
    labels_set(&l, "host", "a", NULL);
    struct series_point p;
    assert_true(series_last(series_store_find(st, "cpu_usage_idle", &l), &p));
    assert_int_equal(p.time_ms, 1700000000000);
    labels_fini(&l);
    labels_init(&l);
    labels_set(&l, "dev_name", "sd a", NULL);
    labels_set(&l, "_2nd", "x", NULL);
    assert_true(series_last(series_store_find(st, "disk_io_read_bytes", &l), &p));
    assert_int_equal(p.time_ms, 1700000002000);
    labels_fini(&l);

    /* The same series again: appended to, not created. */
    assert_int_equal(
            write_text(st, "cpu,host=a usage_idle=12 1700000003", INGEST_LINEPROTO_S, 0, &res, &e),
            0);
    assert_int_equal(res.created, 0);
    assert_true(last_value(st, "cpu_usage_idle", host_a) == 12.0);
    series_store_free(st);
}

static void test_lineproto_write_one_bad_line_stores_nothing(void **state)
{
    (void)state;
    struct series_store *st = series_store_new(&(struct series_limits){.points = 16});
    struct ingest_lineproto_error e = {0};
    assert_int_equal(write_text(st, "old value=1 1000", INGEST_LINEPROTO_MS, 0, NULL, &e), 0);
    assert_int_equal(series_store_count(st), 1);
    const char *text = "old value=2 2000\n"
                       "new,host=a value=1 2000\n"
                       "new,host=b value=oops 2000\n"
                       "later value=3 2000\n";
    assert_int_equal(write_text(st, text, INGEST_LINEPROTO_MS, 0, NULL, &e), HALE_EPARSE);
    assert_int_equal(e.line, 3);
    assert_int_equal(e.column, 18);
    /* Nothing appended, nothing created. */
    assert_int_equal(series_store_count(st), 1);
    struct series *s = series_store_find(st, "old", NULL);
    assert_int_equal(series_len(s), 1);
    assert_true(last_value(st, "old", NULL) == 1.0);
    series_store_free(st);
}

static void test_lineproto_write_refuses_what_cannot_be_kept(void **state)
{
    (void)state;
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 16, .max_series = 3});
    struct ingest_lineproto_error e = {0};
    /* A time before 1970. */
    assert_int_equal(write_text(st, "m v=1 1\nm v=1 -1", INGEST_LINEPROTO_S, 0, NULL, &e),
                     HALE_EPARSE);
    assert_int_equal(e.line, 2);
    assert_int_equal(e.column, 7);
    /* hale's own names. */
    assert_int_equal(write_text(st, "hale_check_sample v=1", INGEST_LINEPROTO_NS, 0, NULL, &e),
                     HALE_EPARSE);
    assert_non_null(strstr(e.msg, "hale's own"));
    assert_int_equal(write_text(st, "hale check_status=1", INGEST_LINEPROTO_NS, 0, NULL, &e),
                     HALE_EPARSE);
    assert_int_equal(write_text(st, "hale value=1", INGEST_LINEPROTO_NS, 0, NULL, &e), 0);
    /* Two tags that become one label. */
    assert_int_equal(write_text(st, "m,a-b=1,a.b=2 v=1", INGEST_LINEPROTO_NS, 0, NULL, &e),
                     HALE_EPARSE);
    assert_non_null(strstr(e.msg, "label \"a_b\""));
    /* Tags past what a series' name and labels may take. */
    size_t big = SERIES_KEY_MAX + 16;
    char *line = xmalloc(big + 32);
    int n = snprintf(line, 32, "m,t=");
    memset(line + n, 'x', big);
    memcpy(line + n + big, " v=1", sizeof(" v=1"));
    assert_int_equal(write_text(st, line, INGEST_LINEPROTO_NS, 0, NULL, &e), -E2BIG);
    assert_non_null(strstr(e.msg, "more than 65535 bytes"));
    free(line);
    /* The store full: the batch is refused whole, the series it created removed. */
    assert_int_equal(series_store_count(st), 1);
    assert_int_equal(write_text(st, "m a=1,b=2,c=3", INGEST_LINEPROTO_NS, 0, NULL, &e),
                     HALE_ELIMIT);
    assert_int_equal(e.line, 1);
    assert_int_equal(e.column, 11);
    assert_non_null(strstr(e.msg, "m_c"));
    assert_int_equal(series_store_count(st), 1);
    assert_int_equal(write_text(st, "m a=1,b=2", INGEST_LINEPROTO_NS, 0, NULL, &e), 0);
    assert_int_equal(series_store_count(st), 3);
    series_store_free(st);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(test_lineproto_corpus_cases_decode_as_upstream),
            T(test_lineproto_documentation_examples_parse),
            T(test_lineproto_telegraf_output_parses),
            T(test_lineproto_escapes_by_part),
            T(test_lineproto_types_and_ranges),
            T(test_lineproto_lines_comments_and_blanks),
            T(test_lineproto_errors_name_line_and_column),
            T(test_lineproto_precision_scales_timestamps),
            T(test_lineproto_write_names_series_as_telegraf_does),
            T(test_lineproto_write_one_bad_line_stores_nothing),
            T(test_lineproto_write_refuses_what_cannot_be_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
