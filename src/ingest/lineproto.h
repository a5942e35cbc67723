/* SPDX-License-Identifier: MIT */
/*
 * InfluxDB line protocol: samples pushed by Telegraf, scripts and
 * anything else that speaks it, one point a line:
 *
 *   measurement[,tag=value...] field=value[,field=value...] [timestamp]
 *
 * The parser streams: it calls back once per point with views into the
 * text (unescaped copies only for the parts that had escapes) and keeps
 * its buffers from one parse to the next, so a batch costs no allocation
 * per point once they have grown. The writer turns the numeric fields of
 * a batch into points of the series store the checks read, the whole
 * batch or nothing. Both run on one thread at a time; the writer on the
 * loop thread, as the series store does.
 */
#ifndef HALE_INGEST_LINEPROTO_H
#define HALE_INGEST_LINEPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The unit of the timestamps of a batch: the write API's precision parameter. */
enum ingest_lineproto_precision {
    INGEST_LINEPROTO_NS,
    INGEST_LINEPROTO_US,
    INGEST_LINEPROTO_MS,
    INGEST_LINEPROTO_S,
};

/* "ns", "us", "ms" or "s" into *ret; false for anything else. */
bool ingest_lineproto_precision_parse(const char *s, enum ingest_lineproto_precision *ret);

enum ingest_lineproto_type {
    INGEST_LINEPROTO_FLOAT,  /* 1, 1.5, -1.2e+3 */
    INGEST_LINEPROTO_INT,    /* 42i */
    INGEST_LINEPROTO_UINT,   /* 42u */
    INGEST_LINEPROTO_BOOL,   /* t, true, F, FALSE, ... */
    INGEST_LINEPROTO_STRING, /* "text" */
};

/* Text of a point: not NUL-terminated, unescaped, borrowed for the callback. */
struct ingest_lineproto_text {
    const char *s;
    size_t len;
};

struct ingest_lineproto_tag {
    struct ingest_lineproto_text key, value; /* both non-empty */
    unsigned column;                         /* of the key */
};

struct ingest_lineproto_field {
    struct ingest_lineproto_text key; /* non-empty */
    unsigned column;                  /* of the key */
    enum ingest_lineproto_type type;
    union {
        double f;
        int64_t i;
        uint64_t u;
        bool b;
        struct ingest_lineproto_text s; /* may hold any byte, NUL and newlines included */
    } v;
};

/* One point, as the callback sees it. Columns count bytes from 1. */
struct ingest_lineproto_point {
    unsigned line, column; /* where the measurement starts */
    struct ingest_lineproto_text measurement;
    const struct ingest_lineproto_tag *tags; /* sorted by key (bytes), keys unique */
    size_t n_tags;
    const struct ingest_lineproto_field *fields; /* as written; at least one */
    size_t n_fields;
    bool has_time;
    int64_t time_ns; /* the timestamp in nanoseconds, whatever the precision */
    unsigned time_column;
};

/* Where a batch is wrong, and how. */
#define INGEST_LINEPROTO_MSG_MAX 256
struct ingest_lineproto_error {
    unsigned line, column; /* from 1; column counts bytes */
    /* What was wrong and what was expected, without the position. */
    char msg[INGEST_LINEPROTO_MSG_MAX];
};

/*
 * Called once per point, in order. Returns 0 to go on; a negative value
 * stops the parse, which returns it (the callback fills the error itself).
 */
typedef int ingest_lineproto_point_fn(const struct ingest_lineproto_point *p, void *data,
                                      struct ingest_lineproto_error *e);

struct ingest_lineproto_parser;

/* A parser with empty buffers. Free with ingest_lineproto_parser_free(). */
struct ingest_lineproto_parser *ingest_lineproto_parser_new(void);
/* Accepts NULL. */
void ingest_lineproto_parser_free(struct ingest_lineproto_parser *p);

/*
 * Parses len bytes of line protocol (need not be NUL-terminated) and calls
 * fn for each point, timestamps read in precision. Blank lines and
 * comments (a first non-blank '#') are skipped; lines end in "\n" or
 * "\r\n". Escapes: a backslash before a comma or space in a measurement,
 * before a comma, '=' or space in a tag key, tag value or field key, and
 * before '"', '\', n, r or t in a string value; any other backslash is
 * itself. A string value may hold raw newlines. Control bytes elsewhere
 * are refused.
 *
 * Returns 0 after the last point; HALE_EPARSE at the first error, with e
 * (may be NULL) saying where and what was expected (the callback has then
 * seen every point before the bad line); or the negative value fn
 * returned. Never logs.
 */
int ingest_lineproto_parse(struct ingest_lineproto_parser *p, const char *text, size_t len,
                           enum ingest_lineproto_precision precision, ingest_lineproto_point_fn *fn,
                           void *data, struct ingest_lineproto_error *e);

/* ---- into the series store ---- */

struct series_store;

/* What a write stored. */
struct ingest_lineproto_result {
    size_t points;  /* lines with a point */
    size_t samples; /* numeric fields appended to series */
    size_t strings; /* string fields: valid, but not numbers, so not kept */
    size_t created; /* series that did not exist before */
};

struct ingest_lineproto_writer;

/* A writer (and its parser) with empty buffers. Free with ingest_lineproto_writer_free(). */
struct ingest_lineproto_writer *ingest_lineproto_writer_new(void);
/* Accepts NULL. */
void ingest_lineproto_writer_free(struct ingest_lineproto_writer *w);

/*
 * Parses a batch and appends each numeric field of each point to the
 * series measurement_field (the measurement alone for a field named
 * "value"), labelled with the point's tags, at the point's time, or at
 * now_ms for a point without one. Names become Prometheus names: a byte
 * other than a letter, digit, '_' (or ':' in a series name) becomes '_',
 * and a name starting with a digit gets a '_' in front. Integers and
 * unsigned integers become doubles, booleans 1 and 0; strings are
 * counted and left out.
 *
 * All or nothing: returns 0 with *ret (may be NULL) filled once every
 * sample is appended; otherwise nothing is appended and no series is
 * left created, and e says where: HALE_EPARSE for a syntax error, a time
 * before 1970, a series name starting with "hale_" (hale's own), or two
 * tags that become the same label; HALE_ELIMIT when st cannot hold the
 * new series. Loop thread (the store's).
 */
int ingest_lineproto_write(struct ingest_lineproto_writer *w, struct series_store *st,
                           const char *text, size_t len, enum ingest_lineproto_precision precision,
                           uint64_t now_ms, struct ingest_lineproto_result *ret,
                           struct ingest_lineproto_error *e);

#endif
