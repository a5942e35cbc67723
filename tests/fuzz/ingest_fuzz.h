/* SPDX-License-Identifier: MIT */
/*
 * What the ingest fuzz targets (fuzz_events.c, fuzz_alertmanager.c) check
 * of a decoder: any JSON text (scalars and \u0000 too, which the API
 * refuses before decoding, so the decoder is tried on every json_t) either
 * decodes into events that keep every limit and hold valid UTF-8, or is
 * refused with an error that names a real index and says why. The events
 * decoder reads the text itself, so it gets every input as it is.
 */
#ifndef HALE_TESTS_INGEST_FUZZ_H
#define HALE_TESTS_INGEST_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "ingest/ingest.h"

/* 2026-11-21T15:00:00Z */
#define INGEST_FUZZ_NOW 1795273200000LL

typedef int ingest_fuzz_decode_fn(const json_t *body, int64_t now_ms, struct event **ret_v,
                                  size_t *ret_n, struct ingest_error *e);

static void ingest_fuzz_require(bool ok)
{
    if (!ok)
        abort();
}

static bool ingest_fuzz_is_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        if (*u >= 0x80 && (*u < 0xC2 || *u > 0xF4))
            return false;
        for (size_t i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80)
                return false;
        u += n;
    }
    return true;
}

static void ingest_fuzz_check_pairs(const struct labels *l, size_t count_max, size_t value_max)
{
    ingest_fuzz_require(l->n <= count_max);
    for (size_t i = 0; i < l->n; i++) {
        ingest_fuzz_require(labels_name_is_valid(l->v[i].name));
        ingest_fuzz_require(strlen(l->v[i].name) <= INGEST_NAME_MAX);
        ingest_fuzz_require(strlen(l->v[i].value) <= value_max);
        ingest_fuzz_require(ingest_fuzz_is_utf8(l->v[i].value));
        if (i > 0)
            ingest_fuzz_require(strcmp(l->v[i - 1].name, l->v[i].name) < 0);
    }
}

static void ingest_fuzz_check_event(const struct event *ev, enum event_source source,
                                    size_t extra_annotations)
{
    ingest_fuzz_require(ev->source == source);
    ingest_fuzz_require(ev->status == EVENT_FIRING || ev->status == EVENT_RESOLVED);
    ingest_fuzz_require(ev->severity <= INCIDENT_SEVERITY_CRITICAL);
    ingest_fuzz_require(ev->labels.n >= 1);
    ingest_fuzz_check_pairs(&ev->labels, INGEST_LABELS_MAX, INGEST_LABEL_VALUE_MAX);
    ingest_fuzz_check_pairs(&ev->annotations, INGEST_ANNOTATIONS_MAX + extra_annotations,
                            INGEST_ANNOTATION_VALUE_MAX);
    /* one line, trimmed, never empty */
    size_t len = strlen(ev->summary);
    ingest_fuzz_require(len >= 1 && len <= INGEST_SUMMARY_MAX);
    ingest_fuzz_require(ingest_fuzz_is_utf8(ev->summary));
    ingest_fuzz_require(ev->summary[0] != ' ' && ev->summary[len - 1] != ' ');
    for (const unsigned char *p = (const unsigned char *)ev->summary; *p; p++)
        ingest_fuzz_require(*p >= ' ' && *p != 0x7f);
    ingest_fuzz_require(ev->starts_ms >= 0 && ev->ends_ms >= 0);
    ingest_fuzz_require(ev->received_ms == INGEST_FUZZ_NOW);
}

/*
 * Checks what a decoder gave for one input: r and its events (freed
 * here), or its error.
 */
static inline void ingest_fuzz_check_result(int r, struct event *v, size_t n,
                                            const struct ingest_error *e, enum event_source source,
                                            size_t extra_annotations)
{
    if (r == 0) {
        ingest_fuzz_require(n <= INGEST_EVENTS_MAX && (n == 0) == (v == NULL));
        for (size_t i = 0; i < n; i++)
            ingest_fuzz_check_event(&v[i], source, extra_annotations);
        ingest_events_free(v, n);
    } else {
        ingest_fuzz_require(r == HALE_EPARSE || r == HALE_ELIMIT);
        ingest_fuzz_require(e->index >= -1 && e->index < INGEST_EVENTS_MAX);
        ingest_fuzz_require(e->reason[0] && ingest_fuzz_is_utf8(e->reason));
        ingest_fuzz_require(ingest_fuzz_is_utf8(e->field));
        /* invalid JSON is the body's fault, at a place */
        ingest_fuzz_require(!e->line || (e->index == -1 && e->column >= 1 && r == HALE_EPARSE));
    }
}

/*
 * Decodes data with decode; source and extra_annotations (annotations a
 * decoder may add beyond the body's) say what its events must look like.
 */
static inline int ingest_fuzz_one(ingest_fuzz_decode_fn *decode, enum event_source source,
                                  size_t extra_annotations, const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size,
                              JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!body)
        return 0;
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {.index = -2};
    int r = decode(body, INGEST_FUZZ_NOW, &v, &n, &e);
    ingest_fuzz_check_result(r, v, n, &e, source, extra_annotations);
    json_decref(body);
    return 0;
}

#endif
