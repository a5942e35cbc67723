/* SPDX-License-Identifier: MIT */
/*
 * Ingestion: events from outside, decoded into struct event. Two JSON
 * bodies are read here: hale's own events body (POST /api/v1/events, one
 * event or an array) and Alertmanager's webhook payload, version 4 (POST
 * /api/v1/alertmanager). Decoding is pure: it reads the body (the text,
 * or jansson's tree for Alertmanager's) and returns events or one error; the API answers with that
 * error and hands the events to the engine. docs/events.md describes both bodies.
 */
#ifndef HALE_INGEST_INGEST_H
#define HALE_INGEST_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "engine/event.h"

/* Events in one request, on either route. */
#define INGEST_EVENTS_MAX           10000
/* Labels of one event; annotations of one event (Alertmanager's extras aside). */
#define INGEST_LABELS_MAX           64
#define INGEST_ANNOTATIONS_MAX      64
/* Bytes of a label or annotation name, of a label value, of an annotation value. */
#define INGEST_NAME_MAX             128
#define INGEST_LABEL_VALUE_MAX      4096
#define INGEST_ANNOTATION_VALUE_MAX 16384
/* Bytes of an event's summary. */
#define INGEST_SUMMARY_MAX          1024

/*
 * What was wrong with a body, for the API's answer: {"error":
 * "invalid_event", "index": 3, "field": "labels.service", "reason": ...}.
 */
struct ingest_error {
    int index; /* the event's (or alert's) index in its array; -1: the body itself */
    /*
     * Not 0 when the body is not valid JSON (ingest_events_decode()): where
     * (from 1), with reason saying what is wrong there.
     */
    unsigned line, column;
    char field[64];   /* "labels.service", "status"; "" for the whole event or body */
    char reason[256]; /* a sentence saying what is wrong and what to do */
};

/*
 * Decodes hale's events body, len bytes of JSON text: an event object, or
 * an array of them (up to INGEST_EVENTS_MAX; an empty array gives no
 * events). Fields: labels (required), annotations, status, severity,
 * summary, startsAt, endsAt; any other field is refused, so a misspelt one
 * is never silently lost. A batch is decoded whole or not at all. Every
 * event gets source EVENT_SOURCE_API, received_ms = now_ms, its content
 * hash (event_content_hash()) and its labels' fingerprint
 * (labels_fingerprint()); its fingerprint is left 0. The text is read strictly
 * (codec/jsonscan.h): invalid JSON, a name given twice in an object included, is refused with
 * e->line and e->column set; a string value with \u0000 is refused as the
 * field's error.
 *
 * The events' labels, annotations and summaries are in one block that
 * they share (struct event_block, engine/event.h): they are read-only, and
 * the last one finished frees the block, on whatever thread.
 *
 * Returns 0 with a new array in *ret_v (NULL when *ret_n is 0; free with
 * ingest_events_free()); or, with e (may be NULL) filled and the
 * out-parameters untouched, HALE_EPARSE for an invalid body or HALE_ELIMIT
 * for one past a limit above. Pure: any thread.
 */
int ingest_events_decode(const char *text, size_t len, int64_t now_ms, struct event **ret_v,
                         size_t *ret_n, struct ingest_error *e);

/*
 * Decodes Alertmanager's webhook payload ("version": "4"): one event per
 * alert, with the alert's own status, labels and annotations (not the
 * group's), its times (the zero time "0001-01-01T00:00:00Z" as 0), a
 * severity from its `severity` label and a summary from its annotations.
 * Fields of newer Alertmanagers are ignored; Alertmanager's facts about
 * the notification (generatorURL, externalURL, receiver, groupKey,
 * truncatedAlerts) become annotations named alertmanager_*. Every event
 * gets source EVENT_SOURCE_ALERTMANAGER and received_ms = now_ms.
 *
 * Returns and owns as ingest_events_decode() (but reads a parsed body, so
 * e->line stays 0); e->index is then the alert's index in "alerts".
 */
int ingest_alertmanager_decode(const json_t *body, int64_t now_ms, struct event **ret_v,
                               size_t *ret_n, struct ingest_error *e);

/* Finishes each of the n events of v and frees v. Accepts NULL. */
void ingest_events_free(struct event *v, size_t n);

#endif
