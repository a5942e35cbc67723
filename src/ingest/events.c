/* SPDX-License-Identifier: MIT */
/*
 * hale's events body (POST /api/v1/events): one event or an array of
 * them, decoded strictly. Unlike Alertmanager's payload, this body is
 * written for hale, so an unknown field is refused (a misspelt "lables"
 * must not drop the labels), and a batch with one bad event is refused
 * whole, naming the event's index and field.
 *
 * The text is read token by token (codec/jsonscan.h) straight into the
 * events, with no JSON tree in between: label names and values are
 * copied once, into the block the batch's events share (engine/event.h),
 * which the loop frees at once after the last of them. The answers are those of a
 * decoder that parses the whole body first and then checks each event's
 * fields in a fixed order: invalid JSON anywhere wins over any refusal of
 * an event, too many events over a bad one, and within an event the
 * checks run in the order of decode_event() whatever the order of the
 * fields in the text. So a refusal is kept while the rest of the text is
 * still checked, and an event's values that are checked late are kept
 * aside until its object ends.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "codec/jsonscan.h"
#include "ingest/internal.h"

static const struct ingest__pairs_rules label_rules = {
        .field = "labels",
        .count_max = INGEST_LABELS_MAX,
        .value_max = INGEST_LABEL_VALUE_MAX,
};

static const struct ingest__pairs_rules annotation_rules = {
        .field = "annotations",
        .count_max = INGEST_ANNOTATIONS_MAX,
        .value_max = INGEST_ANNOTATION_VALUE_MAX,
        .empty_values_ok = true,
};

enum field {
    FIELD_LABELS,
    FIELD_ANNOTATIONS,
    FIELD_STATUS,
    FIELD_SEVERITY,
    FIELD_SUMMARY,
    FIELD_STARTS_AT,
    FIELD_ENDS_AT,
    FIELDS,
};

static const char *const field_names[FIELDS] = {
        "labels", "annotations", "status", "severity", "summary", "startsAt", "endsAt",
};

/* How a field was given. */
enum given {
    GIVEN_NOT,    /* absent */
    GIVEN_NULL,   /* null: as absent */
    GIVEN_STRING, /* a string (for labels and annotations: an object) */
    GIVEN_OTHER,  /* anything else */
};

struct value {
    enum given given;
    size_t at, len; /* a string's bytes in the decoder's scratch */
    bool nul;       /* the string holds \u0000 */
};

/*
 * A refusal found while an event's object is read, ranked by when the
 * checks of decode_event() would have found it: a lower rank wins, and
 * among equals the first found.
 */
enum rank {
    RANK_FIELDS,      /* a field that is not one */
    RANK_LABELS,      /* labels not an object, or too many */
    RANK_LABEL,       /* one label */
    RANK_ANNOTATIONS, /* annotations not an object, or too many */
    RANK_ANNOTATION,  /* one annotation */
    RANK_NONE,
};

struct decoder {
    struct codec_jsonscan scan;
    int64_t now_ms;
    struct strbuf scratch;     /* the strings of the event being read, each NUL-terminated */
    struct event_block *block; /* where the events' strings go: see ingest_events_decode() */
    /* The pairs of the event being read, borrowing their strings from block. */
    struct labels labels, annotations;

    /* The event being read. */
    struct value fields[FIELDS];
    enum rank rank;
    int code;
    struct ingest_error pending;

    size_t seen; /* elements of the batch, decoded or not */
    /* The body's first refusal: 0, HALE_EPARSE or HALE_ELIMIT. */
    int refused;
    struct ingest_error e;
};

static enum field field_of(const char *name, size_t len)
{
    for (int f = 0; f < FIELDS; f++)
        if (strlen(field_names[f]) == len && memcmp(field_names[f], name, len) == 0)
            return (enum field)f;
    return FIELDS;
}

/* Keeps a refusal of the event being read unless one of a lower rank was found first. */
static void pend(struct decoder *d, enum rank rank, int code, const struct ingest_error *e)
{
    if (rank >= d->rank)
        return;
    d->rank = rank;
    d->code = code;
    d->pending = *e;
}

/* Keeps the refusal of an event unless an earlier event was refused. */
static int refuse(struct decoder *d, int code)
{
    if (!d->refused)
        d->refused = code;
    return code;
}

/*
 * The members of a labels or annotations object (its '{' read) into out.
 * Returns 0, or the scanner's HALE_EPARSE; refusals are pended.
 */
static int read_pairs(struct decoder *d, const struct ingest__pairs_rules *rules, enum rank rank,
                      int index, struct labels *out)
{
    struct ingest_error e;
    enum codec_jsonscan_token tok;
    size_t n = 0;
    for (;;) {
        int r = codec_jsonscan_next(&d->scan, &tok);
        if (r < 0)
            return r;
        if (tok == CODEC_JSONSCAN_OBJECT_END)
            break;
        n++;
        /* A pair is worth decoding only while no refusal that wins over its own is known. */
        char escaped[INGEST_NAME_MAX + 2];
        const char *label = NULL;
        char *name = NULL;
        bool wanted = d->rank > rank + 1;
        if (wanted) {
            int c = ingest__pair_name(d->scan.str.s, d->scan.str.len, rules, index, escaped, &label,
                                      &e);
            if (c < 0)
                pend(d, rank + 1, c, &e);
            else
                name = event_block_strndup(d->block, label, strlen(label));
        }
        r = codec_jsonscan_next(&d->scan, &tok);
        if (r < 0)
            return r;
        char *value = NULL;
        int c = 0;
        if (name && tok == CODEC_JSONSCAN_STRING)
            c = ingest__pair_value(d->scan.str.s, d->scan.str.len, rules, index, name, d->block,
                                   &value, &e);
        else if (name)
            c = ingest__pair_not_string(rules, index, name, &e);
        if (c < 0)
            pend(d, rank + 1, c, &e);
        else if (name)
            labels_put_borrowed(out, name, value);
        r = codec_jsonscan_skip(&d->scan, tok);
        if (r < 0)
            return r;
    }
    if (ingest__pairs_count(n, rules, index, &e) < 0)
        pend(d, rank, HALE_ELIMIT, &e);
    return 0;
}

/* A labels or annotations member: the pairs of an object, or its kind. */
static int read_pairs_member(struct decoder *d, enum field f, enum codec_jsonscan_token tok,
                             int index)
{
    bool labels = f == FIELD_LABELS;
    const struct ingest__pairs_rules *rules = labels ? &label_rules : &annotation_rules;
    enum rank rank = labels ? RANK_LABELS : RANK_ANNOTATIONS;
    struct ingest_error e;
    if (tok == CODEC_JSONSCAN_NULL) {
        d->fields[f].given = GIVEN_NULL;
        return 0;
    }
    if (tok == CODEC_JSONSCAN_OBJECT) {
        d->fields[f].given = GIVEN_STRING;
        return read_pairs(d, rules, rank, index, labels ? &d->labels : &d->annotations);
    }
    d->fields[f].given = GIVEN_OTHER;
    pend(d, rank, ingest__pairs_not_object(rules, index, &e), &e);
    return codec_jsonscan_skip(&d->scan, tok);
}

/* A field checked once the object ends: its string kept in scratch, or its kind. */
static int read_later(struct decoder *d, enum field f, enum codec_jsonscan_token tok)
{
    struct value *v = &d->fields[f];
    if (tok == CODEC_JSONSCAN_STRING) {
        *v = (struct value){.given = GIVEN_STRING,
                            .at = d->scratch.len,
                            .len = d->scan.str.len,
                            .nul = d->scan.str_nul};
        strbuf_add(&d->scratch, d->scan.str.s, d->scan.str.len + 1);
        return 0;
    }
    v->given = tok == CODEC_JSONSCAN_NULL ? GIVEN_NULL : GIVEN_OTHER;
    return codec_jsonscan_skip(&d->scan, tok);
}

/* The members of an event's object (its '{' read), each to where it is checked. */
static int read_event(struct decoder *d, int index)
{
    enum codec_jsonscan_token tok;
    for (;;) {
        int r = codec_jsonscan_next(&d->scan, &tok);
        if (r < 0 || tok == CODEC_JSONSCAN_OBJECT_END)
            return r;
        enum field f = field_of(d->scan.str.s, d->scan.str.len);
        if (f == FIELDS && d->rank > RANK_FIELDS) {
            char buf[INGEST__EXCERPT_MAX];
            struct ingest_error e;
            const char *key = ingest__excerpt(d->scan.str.s, buf);
            int c = ingest__fail(&e, HALE_EPARSE, index, key,
                                 "\"%s\" is not a field of an event: the fields are labels, "
                                 "annotations, status, severity, summary, startsAt and endsAt",
                                 key);
            pend(d, RANK_FIELDS, c, &e);
        }
        /* A field given twice is refused by the scanner when the object ends. */
        bool skip = f == FIELDS || d->fields[f].given != GIVEN_NOT;
        r = codec_jsonscan_next(&d->scan, &tok);
        if (r == 0 && skip)
            r = codec_jsonscan_skip(&d->scan, tok);
        else if (r == 0 && (f == FIELD_LABELS || f == FIELD_ANNOTATIONS))
            r = read_pairs_member(d, f, tok, index);
        else if (r == 0)
            r = read_later(d, f, tok);
        if (r < 0)
            return r;
    }
}

/* The pairs read into one of the decoder's sets, into the event's own, in the block. */
static void pairs_settle(struct decoder *d, struct labels *read, struct labels *out)
{
    out->n = out->cap = read->n;
    if (read->n) {
        out->v = event_block_alloc(d->block, read->n * sizeof(*out->v));
        memcpy(out->v, read->v, read->n * sizeof(*out->v));
    }
    read->n = 0;
}

static const char *string_of(const struct decoder *d, enum field f)
{
    return d->scratch.s + d->fields[f].at;
}

static bool given(const struct decoder *d, enum field f)
{
    return d->fields[f].given == GIVEN_STRING || d->fields[f].given == GIVEN_OTHER;
}

static int check_labels(struct decoder *d, int index, struct event *ev, struct ingest_error *e)
{
    if (d->rank == RANK_FIELDS) {
        *e = d->pending;
        return d->code;
    }
    if (!given(d, FIELD_LABELS))
        return ingest__fail(e, HALE_EPARSE, index, "labels",
                            "labels is required: name what the event is about, such as "
                            "{\"alertname\": \"DiskFull\", \"instance\": \"web-01\"}");
    if (d->rank <= RANK_LABEL) {
        *e = d->pending;
        return d->code;
    }
    if (ev->labels.n == 0)
        return ingest__fail(e, HALE_EPARSE, index, "labels",
                            "labels is empty: give at least one label, such as \"alertname\"");
    if (d->rank != RANK_NONE) {
        *e = d->pending;
        return d->code;
    }
    return 0;
}

/* status, and severity (the field, else a `severity` label that names one, else warning). */
static int check_status(struct decoder *d, int index, struct event *ev, struct ingest_error *e)
{
    char buf[INGEST__EXCERPT_MAX];
    const struct value *v = &d->fields[FIELD_STATUS];
    bool s = v->given == GIVEN_STRING;
    if (given(d, FIELD_STATUS) &&
        (!s || v->nul || event_status_parse(string_of(d, FIELD_STATUS), &ev->status) < 0))
        return ingest__fail(e, HALE_EPARSE, index, "status",
                            "status must be \"firing\" or \"resolved\"%s%s%s", s ? ", not \"" : "",
                            s ? ingest__excerpt(string_of(d, FIELD_STATUS), buf) : "",
                            s ? "\"" : "");
    v = &d->fields[FIELD_SEVERITY];
    s = v->given == GIVEN_STRING;
    if (given(d, FIELD_SEVERITY)) {
        if (!s || v->nul ||
            incident_severity_parse(string_of(d, FIELD_SEVERITY), &ev->severity) < 0)
            return ingest__fail(e, HALE_EPARSE, index, "severity",
                                "severity must be \"critical\", \"warning\" or \"info\"%s%s%s",
                                s ? ", not \"" : "",
                                s ? ingest__excerpt(string_of(d, FIELD_SEVERITY), buf) : "",
                                s ? "\"" : "");
        return 0;
    }
    const char *label = labels_get(&ev->labels, "severity");
    if (label)
        (void)ingest__severity_of_label(label, &ev->severity);
    return 0;
}

static int check_time(struct decoder *d, enum field f, int index, int64_t *ret_ms,
                      struct ingest_error *e)
{
    const struct value *v = &d->fields[f];
    *ret_ms = 0;
    if (v->given == GIVEN_OTHER)
        return ingest__time_not_string(field_names[f], index, e);
    if (v->given == GIVEN_STRING)
        return ingest__time_text(string_of(d, f), v->len, field_names[f], index, false, ret_ms, e);
    return 0;
}

/* startsAt and endsAt; a resolution is read from an endsAt already past when status is left out. */
static int check_times(struct decoder *d, int index, struct event *ev, struct ingest_error *e)
{
    int r = check_time(d, FIELD_STARTS_AT, index, &ev->starts_ms, e);
    if (r == 0)
        r = check_time(d, FIELD_ENDS_AT, index, &ev->ends_ms, e);
    if (r < 0)
        return r;
    if (ev->starts_ms && ev->ends_ms && ev->ends_ms < ev->starts_ms)
        return ingest__fail(e, HALE_EPARSE, index, "endsAt",
                            "endsAt is before startsAt: an event cannot end before it starts");
    if (!given(d, FIELD_STATUS) && ev->ends_ms && ev->ends_ms <= d->now_ms)
        ev->status = EVENT_RESOLVED; /* as Alertmanager reads an alert's endsAt */
    return 0;
}

static int check_summary(struct decoder *d, int index, struct event *ev, struct ingest_error *e)
{
    const struct value *v = &d->fields[FIELD_SUMMARY];
    if (!given(d, FIELD_SUMMARY)) {
        ingest__summary_set(ev, ingest__summary_of(ev));
        return 0;
    }
    if (v->given != GIVEN_STRING)
        return ingest__fail(e, HALE_EPARSE, index, "summary",
                            "summary must be a string: one line saying what happened");
    if (v->len > INGEST_SUMMARY_MAX)
        return ingest__fail(e, HALE_ELIMIT, index, "summary",
                            "summary has %zu bytes, more than the %d allowed: keep it to one "
                            "line and put details in annotations.description",
                            v->len, INGEST_SUMMARY_MAX);
    if (v->nul)
        return ingest__fail(e, HALE_EPARSE, index, "summary",
                            "summary contains a NUL character (\\u0000): remove it");
    char *s = ingest__one_line(string_of(d, FIELD_SUMMARY));
    if (!*s) {
        free(s);
        return ingest__fail(e, HALE_EPARSE, index, "summary",
                            "summary is empty: say what happened, or leave it out to have one "
                            "made from annotations.summary or the labels");
    }
    ingest__summary_set(ev, s);
    return 0;
}

/*
 * One event (its '{' read) into ev. Returns the scanner's HALE_EPARSE for
 * invalid JSON; a refusal of the event is kept in d.
 */
static int decode_event(struct decoder *d, int index, struct event *ev)
{
    for (int f = 0; f < FIELDS; f++)
        d->fields[f].given = GIVEN_NOT;
    d->rank = RANK_NONE;
    strbuf_reset(&d->scratch);
    d->labels.n = d->annotations.n = 0;
    int r = read_event(d, index);
    if (r < 0)
        return r;
    pairs_settle(d, &d->labels, &ev->labels);
    pairs_settle(d, &d->annotations, &ev->annotations);
    ev->source = EVENT_SOURCE_API;
    ev->received_ms = d->now_ms;
    struct ingest_error e;
    int c = check_labels(d, index, ev, &e);
    if (c == 0)
        c = check_status(d, index, ev, &e);
    if (c == 0)
        c = check_times(d, index, ev, &e);
    if (c == 0)
        c = check_summary(d, index, ev, &e);
    if (c < 0 && !d->refused) {
        d->refused = c;
        d->e = e;
    }
    /* Here, where they cost the loop nothing: the engine and the desk need both for every event. */
    if (c == 0) {
        ev->content = event_content_hash(ev);
        ev->labels_fingerprint = labels_fingerprint(&ev->labels);
    }
    return 0;
}

static int not_an_event(struct decoder *d, int index)
{
    return ingest__fail(&d->e, refuse(d, HALE_EPARSE), index, "",
                        index < 0 ? "the body must be an event (a JSON object with \"labels\") or "
                                    "an array of events"
                                  : "each event must be a JSON object with at least \"labels\"");
}

/* The events of the array whose '[' was read; *v grows as they come. */
static int decode_batch(struct decoder *d, struct event **v, size_t *n)
{
    enum codec_jsonscan_token tok;
    size_t cap = 0;
    for (size_t i = 0;; i++) {
        int r = codec_jsonscan_next(&d->scan, &tok);
        if (r < 0 || tok == CODEC_JSONSCAN_ARRAY_END)
            return r;
        d->seen = i + 1;
        /* Past the first refusal or the limit, the rest is only checked as JSON. */
        if (d->refused || i >= INGEST_EVENTS_MAX) {
            r = codec_jsonscan_skip(&d->scan, tok);
            if (r < 0)
                return r;
            continue;
        }
        if (tok != CODEC_JSONSCAN_OBJECT) {
            not_an_event(d, (int)i);
            r = codec_jsonscan_skip(&d->scan, tok);
            if (r < 0)
                return r;
            continue;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            *v = xreallocarray(*v, cap, sizeof(**v));
        }
        event_init_shared(&(*v)[*n], d->block);
        (*n)++;
        r = decode_event(d, (int)i, &(*v)[*n - 1]);
        if (r < 0)
            return r;
    }
}

static int decode_body(struct decoder *d, struct event **v, size_t *n)
{
    enum codec_jsonscan_token tok;
    int r = codec_jsonscan_next(&d->scan, &tok);
    if (r == 0 && tok == CODEC_JSONSCAN_ARRAY) {
        r = decode_batch(d, v, n);
    } else if (r == 0 && tok == CODEC_JSONSCAN_OBJECT) {
        *v = xcalloc(1, sizeof(**v));
        event_init_shared(*v, d->block);
        *n = 1;
        r = decode_event(d, -1, *v);
    } else if (r == 0) {
        not_an_event(d, -1);
        r = codec_jsonscan_skip(&d->scan, tok);
    }
    if (r == 0)
        r = codec_jsonscan_next(&d->scan, &tok); /* only white space may follow */
    return r;
}

int ingest_events_decode(const char *text, size_t len, int64_t now_ms, struct event **ret_v,
                         size_t *ret_n, struct ingest_error *e)
{
    struct decoder d = {.now_ms = now_ms, .block = event_block_new()};
    struct event *v = NULL;
    size_t n = 0;
    int r = 0;
    codec_jsonscan_init(&d.scan, text, len);
    strbuf_init(&d.scratch, 0);
    if (len == 0)
        not_an_event(&d, -1); /* no body at all */
    else
        r = decode_body(&d, &v, &n);
    if (r < 0) {
        r = ingest__fail(e, HALE_EPARSE, -1, "", "%s", d.scan.error);
        if (e) {
            e->line = d.scan.error_line;
            e->column = d.scan.error_column;
        }
    } else if (d.seen > INGEST_EVENTS_MAX) {
        r = ingest__fail(e, HALE_ELIMIT, -1, "",
                         "the body has %zu events, more than the %d one request may carry: "
                         "send them in several requests",
                         d.seen, INGEST_EVENTS_MAX);
    } else if (d.refused) {
        r = d.refused;
        if (e)
            *e = d.e;
    }
    codec_jsonscan_fini(&d.scan);
    strbuf_fini(&d.scratch);
    /* The sets borrowed their strings from the block; the events hold it now. */
    free(d.labels.v);
    free(d.annotations.v);
    event_block_unref(d.block);
    if (r < 0) {
        ingest_events_free(v, n);
        return r;
    }
    if (n == 0) {
        free(v);
        v = NULL;
    }
    *ret_v = v;
    *ret_n = n;
    return 0;
}
