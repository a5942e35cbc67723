/* SPDX-License-Identifier: MIT */
/*
 * hale's events body (POST /api/v1/events): one event or an array of
 * them, decoded strictly. Unlike Alertmanager's payload, this body is
 * written for hale, so an unknown field is refused (a misspelt "lables"
 * must not drop the labels), and a batch with one bad event is refused
 * whole, naming the event's index and field.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "ingest/internal.h"

static const char *const event_fields[] = {"labels",  "annotations", "status", "severity",
                                           "summary", "startsAt",    "endsAt", NULL};

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

static int check_fields(const json_t *o, int index, struct ingest_error *e)
{
    const char *key;
    json_t *value;
    char buf[INGEST__EXCERPT_MAX];
    json_object_foreach(ingest__json_mut(o), key, value)
    {
        size_t i = 0;
        while (event_fields[i] && strcmp(event_fields[i], key) != 0)
            i++;
        if (!event_fields[i])
            return ingest__fail(e, HALE_EPARSE, index, ingest__excerpt(key, buf),
                                "\"%s\" is not a field of an event: the fields are labels, "
                                "annotations, status, severity, summary, startsAt and endsAt",
                                ingest__excerpt(key, buf));
    }
    return 0;
}

static int decode_labels(const json_t *o, int index, struct event *ev, struct ingest_error *e)
{
    const json_t *v = json_object_get(o, "labels");
    if (!v || json_is_null(v))
        return ingest__fail(e, HALE_EPARSE, index, "labels",
                            "labels is required: name what the event is about, such as "
                            "{\"alertname\": \"DiskFull\", \"instance\": \"web-01\"}");
    int r = ingest__pairs_add(v, &label_rules, index, &ev->labels, e);
    if (r < 0)
        return r;
    if (ev->labels.n == 0)
        return ingest__fail(e, HALE_EPARSE, index, "labels",
                            "labels is empty: give at least one label, such as \"alertname\"");
    return ingest__pairs_add(json_object_get(o, "annotations"), &annotation_rules, index,
                             &ev->annotations, e);
}

/* status, and severity (the field, else a `severity` label that names one, else warning). */
static int decode_status(const json_t *o, int index, struct event *ev, struct ingest_error *e)
{
    char buf[INGEST__EXCERPT_MAX];
    const json_t *v = json_object_get(o, "status");
    if (v && !json_is_null(v) &&
        (!json_is_string(v) || event_status_parse(json_string_value(v), &ev->status) < 0))
        return ingest__fail(e, HALE_EPARSE, index, "status",
                            "status must be \"firing\" or \"resolved\"%s%s%s",
                            json_is_string(v) ? ", not \"" : "",
                            json_is_string(v) ? ingest__excerpt(json_string_value(v), buf) : "",
                            json_is_string(v) ? "\"" : "");
    v = json_object_get(o, "severity");
    if (v && !json_is_null(v)) {
        const char *s = json_string_value(v);
        if (!s || incident_severity_parse(s, &ev->severity) < 0)
            return ingest__fail(e, HALE_EPARSE, index, "severity",
                                "severity must be \"critical\", \"warning\" or \"info\"%s%s%s",
                                s ? ", not \"" : "", s ? ingest__excerpt(s, buf) : "",
                                s ? "\"" : "");
        return 0;
    }
    const char *label = labels_get(&ev->labels, "severity");
    if (label)
        (void)ingest__severity_of_label(label, &ev->severity);
    return 0;
}

/* startsAt and endsAt; a resolution is read from an endsAt already past when status is left out. */
static int decode_times(const json_t *o, int index, int64_t now_ms, struct event *ev,
                        struct ingest_error *e)
{
    int r = ingest__time(json_object_get(o, "startsAt"), "startsAt", index, false, &ev->starts_ms,
                         e);
    if (r == 0)
        r = ingest__time(json_object_get(o, "endsAt"), "endsAt", index, false, &ev->ends_ms, e);
    if (r < 0)
        return r;
    if (ev->starts_ms && ev->ends_ms && ev->ends_ms < ev->starts_ms)
        return ingest__fail(e, HALE_EPARSE, index, "endsAt",
                            "endsAt is before startsAt: an event cannot end before it starts");
    const json_t *status = json_object_get(o, "status");
    if ((!status || json_is_null(status)) && ev->ends_ms && ev->ends_ms <= now_ms)
        ev->status = EVENT_RESOLVED; /* as Alertmanager reads an alert's endsAt */
    return 0;
}

static int decode_summary(const json_t *o, int index, struct event *ev, struct ingest_error *e)
{
    const json_t *v = json_object_get(o, "summary");
    if (!v || json_is_null(v)) {
        ingest__summary_set(ev, ingest__summary_of(ev));
        return 0;
    }
    if (!json_is_string(v))
        return ingest__fail(e, HALE_EPARSE, index, "summary",
                            "summary must be a string: one line saying what happened");
    size_t len = json_string_length(v);
    if (len > INGEST_SUMMARY_MAX)
        return ingest__fail(e, HALE_ELIMIT, index, "summary",
                            "summary has %zu bytes, more than the %d allowed: keep it to one "
                            "line and put details in annotations.description",
                            len, INGEST_SUMMARY_MAX);
    char *s = ingest__one_line(json_string_value(v));
    if (!*s) {
        free(s);
        return ingest__fail(e, HALE_EPARSE, index, "summary",
                            "summary is empty: say what happened, or leave it out to have one "
                            "made from annotations.summary or the labels");
    }
    ingest__summary_set(ev, s);
    return 0;
}

static int decode_event(const json_t *o, int index, int64_t now_ms, struct event *ev,
                        struct ingest_error *e)
{
    if (!json_is_object(o))
        return ingest__fail(e, HALE_EPARSE, index, "",
                            "each event must be a JSON object with at least \"labels\"");
    int r = check_fields(o, index, e);
    if (r == 0)
        r = decode_labels(o, index, ev, e);
    if (r == 0)
        r = decode_status(o, index, ev, e);
    if (r == 0)
        r = decode_times(o, index, now_ms, ev, e);
    if (r == 0)
        r = decode_summary(o, index, ev, e);
    ev->source = EVENT_SOURCE_API;
    ev->received_ms = now_ms;
    return r;
}

int ingest_events_decode(const json_t *body, int64_t now_ms, struct event **ret_v, size_t *ret_n,
                         struct ingest_error *e)
{
    bool batch = json_is_array(body);
    if (!batch && !json_is_object(body))
        return ingest__fail(e, HALE_EPARSE, -1, "",
                            "the body must be an event (a JSON object with \"labels\") or an "
                            "array of events");
    size_t n = batch ? json_array_size(body) : 1;
    if (n > INGEST_EVENTS_MAX)
        return ingest__fail(e, HALE_ELIMIT, -1, "",
                            "the body has %zu events, more than the %d one request may carry: "
                            "send them in several requests",
                            n, INGEST_EVENTS_MAX);
    struct event *v = n ? xcalloc(n, sizeof(*v)) : NULL;
    for (size_t i = 0; i < n; i++) {
        event_init(&v[i]);
        const json_t *o = batch ? json_array_get(body, i) : body;
        int r = decode_event(o, batch ? (int)i : -1, now_ms, &v[i], e);
        if (r < 0) {
            ingest_events_free(v, i + 1);
            return r;
        }
    }
    *ret_v = v;
    *ret_n = n;
    return 0;
}
