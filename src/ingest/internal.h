/* SPDX-License-Identifier: MIT */
/*
 * What the two decoders (events.c, alertmanager.c) share, in decode.c:
 * errors, label-like objects, times, summaries and severities.
 */
#ifndef HALE_INGEST_INTERNAL_H
#define HALE_INGEST_INTERNAL_H

#include <stdbool.h>

#include "ingest/ingest.h"

/* Room for a value quoted in a reason: its first bytes, "..." and the NUL. */
#define INGEST__EXCERPT_MAX 48

/*
 * Fills e (may be NULL) with index, field and the reason, and returns code
 * (HALE_EPARSE or HALE_ELIMIT).
 */
int ingest__fail(struct ingest_error *e, int code, int index, const char *field, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));

/* s, or its first bytes and "...", for a reason. Returns buf. */
const char *ingest__excerpt(const char *s, char buf[INGEST__EXCERPT_MAX]);

/* A new copy of s (len bytes) cut to at most max bytes at a character boundary, ending "..." when
 * cut. */
char *ingest__cut(const char *s, size_t len, size_t max);

/*
 * jansson's object iterators take json_t * although they only read; the
 * decoders iterate over a body they promise not to change.
 */
json_t *ingest__json_mut(const json_t *j);

/* How a label-like object ({"name": "value", ...}) is read. */
struct ingest__pairs_rules {
    const char *field;    /* "labels" or "annotations": the error's field prefix */
    size_t count_max;     /* more pairs are refused (HALE_ELIMIT) */
    size_t value_max;     /* longer values are refused, or cut when cut_long */
    bool empty_values_ok; /* whether "" is a value */
    bool cut_long;        /* cut a long value (with "...") instead of refusing it */
    /*
     * Tolerate what a sender that never resends a refused body may send: a
     * name that is not a Prometheus name (Prometheus 3 allows any UTF-8,
     * "service.name") is escaped, every byte that may not be in one
     * becoming '_'; a NUL in a value is dropped.
     */
    bool tolerant;
};

/*
 * Adds the pairs of the object v to out, under rules; index is the
 * event's, for errors. A missing or null v adds nothing. Returns 0,
 * HALE_EPARSE or HALE_ELIMIT with e filled.
 */
int ingest__pairs_add(const json_t *v, const struct ingest__pairs_rules *rules, int index,
                      struct labels *out, struct ingest_error *e);

/*
 * The rules of ingest__pairs_add() one at a time, for a decoder that reads
 * the text itself (events.c); each returns 0, or HALE_EPARSE or
 * HALE_ELIMIT with e filled.
 */
/* An object of n pairs: more than rules->count_max are refused. */
int ingest__pairs_count(size_t n, const struct ingest__pairs_rules *rules, int index,
                        struct ingest_error *e);
/* Refuses the pairs' value for not being an object. */
int ingest__pairs_not_object(const struct ingest__pairs_rules *rules, int index,
                             struct ingest_error *e);
/*
 * A pair's name (len bytes, no NUL): too long, or not a label name (escaped
 * into escaped first when rules->tolerant), is refused; the label to set in
 * *ret (name itself or escaped).
 */
int ingest__pair_name(const char *name, size_t len, const struct ingest__pairs_rules *rules,
                      int index, char escaped[INGEST_NAME_MAX + 2], const char **ret,
                      struct ingest_error *e);
/*
 * The value of the pair label: len bytes of s (NULs refused, or dropped
 * when rules->tolerant), checked under rules; a new string in *ret, in
 * block (engine/event.h) when block is not NULL.
 */
int ingest__pair_value(const char *s, size_t len, const struct ingest__pairs_rules *rules,
                       int index, const char *label, struct event_block *block, char **ret,
                       struct ingest_error *e);
/* Refuses the value of the pair label for not being a string. */
int ingest__pair_not_string(const struct ingest__pairs_rules *rules, int index, const char *label,
                            struct ingest_error *e);

/*
 * An RFC 3339 time string into Unix ms; a missing or null v is 0 (unset),
 * and so is Go's zero time, "0001-01-01T00:00:00Z", the "unset" that
 * Alertmanager writes. With early_unset, any other time not after 1970 is
 * also 0; without, it is refused. Returns 0 or HALE_EPARSE with e filled.
 */
int ingest__time(const json_t *v, const char *field, int index, bool early_unset, int64_t *ret_ms,
                 struct ingest_error *e);
/* The same for the string s of len bytes (a time was given; one with a NUL is refused). */
int ingest__time_text(const char *s, size_t len, const char *field, int index, bool early_unset,
                      int64_t *ret_ms, struct ingest_error *e);
/* Refuses a time that is not a string. */
int ingest__time_not_string(const char *field, int index, struct ingest_error *e);

/*
 * s as one line for people: every run of white space and control
 * characters becomes one space, the ends are trimmed, and text past
 * INGEST_SUMMARY_MAX bytes is cut at a character boundary, ending "...".
 * New string; free().
 */
char *ingest__one_line(const char *s);

/* "DiskFull: instance=web-01, service=web" (alertname first, if any), cut like ingest__one_line().
 */
char *ingest__summary_of_labels(const struct labels *l);

/*
 * The severity a label value names, in any case: critical, warning or
 * info, and the usual other words for them (error, page, warn, none, ...).
 * False when it names none of them.
 */
bool ingest__severity_of_label(const char *value, enum incident_severity *ret);

/*
 * The summary made for an event that brings none: its annotation summary,
 * else its description, as one line, else ingest__summary_of_labels().
 */
char *ingest__summary_of(const struct event *ev);

/*
 * Replaces ev's summary with s, taking ownership of s; for an event whose
 * strings are in a block, its maker's, s is copied into the block (and
 * freed).
 */
void ingest__summary_set(struct event *ev, char *s);

#endif
