/* SPDX-License-Identifier: MIT */
/*
 * Alertmanager's webhook payload, version 4, decoded into one event per
 * alert. The payload is read as Alertmanager writes it and tolerantly:
 * fields newer Alertmanagers add are ignored, and facts about the
 * notification that are only informative are dropped when malformed
 * rather than refusing the notification, because Alertmanager never
 * retries a 4xx answer: a refused notification is lost.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"
#include "ingest/internal.h"

/* Alertmanager's labels may be "" (Prometheus drops those, a hand-made
 * alert may not), and keeping them keeps the fingerprint Alertmanager's. */
static const struct ingest__pairs_rules label_rules = {
        .field = "labels",
        .count_max = INGEST_LABELS_MAX,
        .value_max = INGEST_LABEL_VALUE_MAX,
        .empty_values_ok = true,
        .tolerant = true,
};

/* Annotations only describe, so a long one is cut rather than refused. */
static const struct ingest__pairs_rules annotation_rules = {
        .field = "annotations",
        .count_max = INGEST_ANNOTATIONS_MAX,
        .value_max = INGEST_ANNOTATION_VALUE_MAX,
        .empty_values_ok = true,
        .cut_long = true,
        .tolerant = true,
};

/* What the notification says of all its alerts. Strings borrowed from the body. */
struct group {
    bool resolved;            /* "status": "resolved": every alert is */
    const char *external_url; /* NULL when absent or not a string */
    const char *receiver;
    const char *group_key;
    long long truncated; /* alerts dropped for max_alerts; 0 when absent */
};

static int check_version(const json_t *body, struct ingest_error *e)
{
    const json_t *v = json_object_get(body, "version");
    char buf[INGEST__EXCERPT_MAX];
    if (!v)
        return ingest__fail(e, HALE_EPARSE, -1, "version",
                            "version is missing: this is not an Alertmanager webhook payload; "
                            "point an Alertmanager webhook_config at this URL, or post hale's "
                            "own events to /api/v1/events");
    if (!json_is_string(v) || strcmp(json_string_value(v), "4") != 0)
        return ingest__fail(e, HALE_EPARSE, -1, "version",
                            "version %s%s%s is not supported: hale reads Alertmanager's webhook "
                            "payload version \"4\"",
                            json_is_string(v) ? "\"" : "",
                            json_is_string(v) ? ingest__excerpt(json_string_value(v), buf)
                                              : "(not a string)",
                            json_is_string(v) ? "\"" : "");
    return 0;
}

/* A string field of the body that is not empty, else NULL. */
static const char *text_of(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

static void read_group(const json_t *body, struct group *g)
{
    const char *status = text_of(body, "status");
    g->resolved = status && strcmp(status, "resolved") == 0;
    g->external_url = text_of(body, "externalURL");
    g->receiver = text_of(body, "receiver");
    g->group_key = text_of(body, "groupKey");
    const json_t *t = json_object_get(body, "truncatedAlerts");
    g->truncated = json_is_integer(t) && json_integer_value(t) > 0 ? json_integer_value(t) : 0;
}

/* Sets annotation name to value, cut to the annotation limit. */
static void annotate(struct event *ev, const char *name, const char *value)
{
    if (!value)
        return;
    char *s = ingest__cut(value, strlen(value), INGEST_ANNOTATION_VALUE_MAX);
    labels_set(&ev->annotations, name, s, NULL);
    free(s);
}

/*
 * Where the alert came from and where to act on it, for the responder:
 * the graph of the rule's expression, the Alertmanager to silence it in,
 * the receiver and group that sent it, and how many alerts the group
 * lost to max_alerts. hale's names win over an alert's own.
 */
static void annotate_origin(const json_t *alert, const struct group *g, struct event *ev)
{
    annotate(ev, "alertmanager_generator_url", text_of(alert, "generatorURL"));
    annotate(ev, "alertmanager_external_url", g->external_url);
    annotate(ev, "alertmanager_receiver", g->receiver);
    annotate(ev, "alertmanager_group_key", g->group_key);
    if (g->truncated > 0) {
        char n[32];
        snprintf(n, sizeof(n), "%lld", g->truncated);
        annotate(ev, "alertmanager_truncated_alerts", n);
    }
}

/*
 * The alert's own status; an alert without one (hand-made payloads of old)
 * is resolved when the whole group is, or when its endsAt has passed, as
 * Alertmanager itself decides.
 */
static int decode_status(const json_t *alert, const struct group *g, int index, int64_t now_ms,
                         struct event *ev, struct ingest_error *e)
{
    const json_t *v = json_object_get(alert, "status");
    char buf[INGEST__EXCERPT_MAX];
    if (!v || json_is_null(v)) {
        bool ended = ev->ends_ms && ev->ends_ms <= now_ms;
        ev->status = g->resolved || ended ? EVENT_RESOLVED : EVENT_FIRING;
        return 0;
    }
    if (!json_is_string(v) || event_status_parse(json_string_value(v), &ev->status) < 0)
        return ingest__fail(e, HALE_EPARSE, index, "status",
                            "status must be \"firing\" or \"resolved\"%s%s%s",
                            json_is_string(v) ? ", not \"" : "",
                            json_is_string(v) ? ingest__excerpt(json_string_value(v), buf) : "",
                            json_is_string(v) ? "\"" : "");
    return 0;
}

static int decode_alert(const json_t *alert, const struct group *g, int index, int64_t now_ms,
                        struct event *ev, struct ingest_error *e)
{
    ev->source = EVENT_SOURCE_ALERTMANAGER;
    ev->received_ms = now_ms;
    if (!json_is_object(alert))
        return ingest__fail(e, HALE_EPARSE, index, "",
                            "each alert must be a JSON object with \"labels\"");
    const json_t *labels = json_object_get(alert, "labels");
    if (!labels || json_is_null(labels))
        return ingest__fail(e, HALE_EPARSE, index, "labels",
                            "labels is missing: an alert is known by its labels");
    int r = ingest__pairs_add(labels, &label_rules, index, &ev->labels, e);
    if (r == 0 && ev->labels.n == 0)
        r = ingest__fail(e, HALE_EPARSE, index, "labels",
                         "labels is empty: an alert is known by its labels");
    if (r == 0)
        r = ingest__pairs_add(json_object_get(alert, "annotations"), &annotation_rules, index,
                              &ev->annotations, e);
    if (r == 0)
        r = ingest__time(json_object_get(alert, "startsAt"), "startsAt", index, true,
                         &ev->starts_ms, e);
    if (r == 0)
        r = ingest__time(json_object_get(alert, "endsAt"), "endsAt", index, true, &ev->ends_ms, e);
    if (r == 0)
        r = decode_status(alert, g, index, now_ms, ev, e);
    if (r < 0)
        return r;
    const char *severity = labels_get(&ev->labels, "severity");
    if (severity)
        (void)ingest__severity_of_label(severity, &ev->severity);
    ingest__summary_set(ev, ingest__summary_of(ev));
    annotate_origin(alert, g, ev);
    return 0;
}

int ingest_alertmanager_decode(const json_t *body, int64_t now_ms, struct event **ret_v,
                               size_t *ret_n, struct ingest_error *e)
{
    if (!json_is_object(body))
        return ingest__fail(e, HALE_EPARSE, -1, "",
                            "the body must be Alertmanager's webhook payload: a JSON object "
                            "with \"version\": \"4\" and \"alerts\"");
    int r = check_version(body, e);
    if (r < 0)
        return r;
    const json_t *alerts = json_object_get(body, "alerts");
    if (!json_is_array(alerts))
        return ingest__fail(e, HALE_EPARSE, -1, "alerts",
                            "alerts must be an array of alerts: this is not an Alertmanager "
                            "webhook payload");
    size_t n = json_array_size(alerts);
    if (n > INGEST_EVENTS_MAX)
        return ingest__fail(e, HALE_ELIMIT, -1, "alerts",
                            "the payload has %zu alerts, more than the %d one request may "
                            "carry: set max_alerts in the webhook_config",
                            n, INGEST_EVENTS_MAX);
    struct group g;
    read_group(body, &g);
    /*
     * Alertmanager never resends a notification refused with a 4xx: an
     * alert hale cannot read is left out (and logged) rather than refusing
     * the others with it. Only when none can be read is the body refused.
     */
    struct event *v = n ? xcalloc(n, sizeof(*v)) : NULL;
    size_t kept = 0;
    struct ingest_error first = {0};
    int first_r = 0;
    for (size_t i = 0; i < n; i++) {
        event_init(&v[kept]);
        struct ingest_error why = {0};
        r = decode_alert(json_array_get(alerts, i), &g, (int)i, now_ms, &v[kept], &why);
        if (r == 0) {
            kept++;
            continue;
        }
        event_fini(&v[kept]);
        if (!first_r) {
            first = why;
            first_r = r;
        }
        log_warn("ingest", NULL, "alert %zu of %s left out: %s%s%s", i,
                 g.group_key ? g.group_key : "a notification", why.field, why.field[0] ? ": " : "",
                 why.reason);
    }
    if (n > 0 && kept == 0) {
        free(v);
        *e = first;
        return first_r;
    }
    *ret_v = v;
    *ret_n = kept;
    return 0;
}
