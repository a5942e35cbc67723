/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/ingest/: Alertmanager's webhook payloads (every
 * alertmanager-webhook-*.json of the shared fixtures, read at test time,
 * and variants of them) and hale's events body, with every error, limit
 * and default a sender relies on.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "ingest/ingest.h"

/* 2026-11-21T15:00:00Z: after every time in the fixtures. */
#define NOW 1795273200000LL

/* ---- helpers ---- */

static char *read_fixture(const char *name)
{
    char path[4096];
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
    return strbuf_detach(&b, NULL);
}

/* JSON text parsed as the API parses a body, but with NUL and scalars allowed, to test their
 * refusal. */
static json_t *parse(const char *text)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("test JSON line %d: %s", je.line, je.text);
    return j;
}

static json_t *parse_fixture(const char *name)
{
    char *text = read_fixture(name);
    json_t *j = parse(text);
    free(text);
    return j;
}

typedef int decode_fn(const json_t *body, int64_t now_ms, struct event **ret_v, size_t *ret_n,
                      struct ingest_error *e);

/* The events of body, which must decode; their number must be want_n. */
static struct event *decode_json(decode_fn *decode, const json_t *body, size_t want_n)
{
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {0};
    int r = decode(body, NOW, &v, &n, &e);
    if (r != 0)
        fail_msg("decode: %s (index %d, field \"%s\"): %s", hale_strerror(r), e.index, e.field,
                 e.reason);
    assert_int_equal(n, want_n);
    if (n == 0)
        assert_null(v);
    return v;
}

static struct event *decode_text(decode_fn *decode, const char *text, size_t want_n)
{
    json_t *body = parse(text);
    struct event *v = decode_json(decode, body, want_n);
    json_decref(body);
    return v;
}

/*
 * text must be refused with code, at index and field, for a reason
 * containing want (all of it, when want is NULL: no check). The
 * out-parameters must stay untouched.
 */
static void refused(decode_fn *decode, const char *text, int code, int index, const char *field,
                    const char *want)
{
    json_t *body = parse(text);
    static struct event sentinel; /* the decoder must not replace it */
    struct event *v = &sentinel;
    size_t n = 12345;
    struct ingest_error e = {.index = 99};
    int r = decode(body, NOW, &v, &n, &e);
    json_decref(body);
    if (r != code)
        fail_msg("%s: got %d (%s), want %d", text, r, e.reason, code);
    assert_ptr_equal(v, &sentinel);
    assert_int_equal(n, 12345);
    assert_int_equal(e.index, index);
    assert_string_equal(e.field, field);
    if (want && !strstr(e.reason, want))
        fail_msg("reason \"%s\" lacks \"%s\"", e.reason, want);
    assert_true(strlen(e.reason) > 20); /* a sentence, not a code */
}

/* The events of the events body text, which must decode; their number must be want_n. */
static struct event *events_text(const char *text, size_t want_n)
{
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {0};
    int r = ingest_events_decode(text, strlen(text), NOW, &v, &n, &e);
    if (r != 0)
        fail_msg("decode: %s (index %d, field \"%s\", line %u): %s", hale_strerror(r), e.index,
                 e.field, e.line, e.reason);
    assert_int_equal(n, want_n);
    if (n == 0)
        assert_null(v);
    return v;
}

/* As refused(), for the events body: text must be valid JSON refused by the decoder. */
static void events_refused(const char *text, int code, int index, const char *field,
                           const char *want)
{
    static struct event sentinel; /* the decoder must not replace it */
    struct event *v = &sentinel;
    size_t n = 12345;
    struct ingest_error e = {.index = 99};
    int r = ingest_events_decode(text, strlen(text), NOW, &v, &n, &e);
    if (r != code)
        fail_msg("%s: got %d (%s), want %d", text, r, e.reason, code);
    assert_ptr_equal(v, &sentinel);
    assert_int_equal(n, 12345);
    if (e.line)
        fail_msg("%s: refused as invalid JSON at %u:%u: %s", text, e.line, e.column, e.reason);
    assert_int_equal(e.index, index);
    assert_string_equal(e.field, field);
    if (want && !strstr(e.reason, want))
        fail_msg("reason \"%s\" lacks \"%s\"", e.reason, want);
    assert_true(strlen(e.reason) > 20); /* a sentence, not a code */
}

static void assert_label(const struct labels *l, const char *name, const char *value)
{
    const char *got = labels_get(l, name);
    if (!got)
        fail_msg("no %s", name);
    assert_string_equal(got, value);
}

/* ---- Alertmanager: the fixtures ---- */

static void test_ingest_am_firing_fixture(void **state)
{
    (void)state;
    json_t *body = parse_fixture("alertmanager-webhook-firing.json");
    struct event *v = decode_json(ingest_alertmanager_decode, body, 1);
    json_decref(body);
    struct event *ev = &v[0];
    assert_int_equal(ev->source, EVENT_SOURCE_ALERTMANAGER);
    assert_int_equal(ev->status, EVENT_FIRING);
    assert_int_equal(ev->severity, INCIDENT_SEVERITY_CRITICAL);
    assert_int_equal(ev->labels.n, 5);
    assert_label(&ev->labels, "alertname", "ProbeFailure");
    assert_label(&ev->labels, "instance", "https://server.example.org");
    assert_label(&ev->labels, "severity", "critical");
    /* the alert's labels only: the group's and the common ones add nothing */
    assert_null(labels_get(&ev->labels, "receiver"));
    assert_string_equal(ev->summary, "BlackBox Probe Failure: https://server.example.org");
    assert_label(&ev->annotations, "description",
                 "Instance https://server.example.org has been down for over 5m. Job: "
                 "http_checks");
    /* this third-party sample double-escaped its '&': kept as sent */
    assert_label(&ev->annotations, "alertmanager_generator_url",
                 "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0"
                 "\\u0026g0.tab=1");
    assert_label(&ev->annotations, "alertmanager_external_url",
                 "http://prometheus.example.org:9093");
    assert_label(&ev->annotations, "alertmanager_receiver", "sms");
    assert_label(&ev->annotations, "alertmanager_group_key",
                 "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}");
    assert_null(labels_get(&ev->annotations, "alertmanager_truncated_alerts")); /* 0 */
    assert_int_equal(ev->starts_ms, 1675688925828LL);
    assert_int_equal(ev->ends_ms, 0); /* the zero time */
    assert_int_equal(ev->received_ms, NOW);
    assert_int_equal(ev->fingerprint, 0); /* the engine's to compute */
    ingest_events_free(v, 1);
}

static void test_ingest_am_truncated_fixture(void **state)
{
    (void)state;
    json_t *body = parse_fixture("alertmanager-webhook-firing-truncated-captured-am0.25.json");
    struct event *v = decode_json(ingest_alertmanager_decode, body, 2);
    json_decref(body);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(v[i].status, EVENT_FIRING);
        assert_int_equal(v[i].severity, INCIDENT_SEVERITY_CRITICAL);
        assert_int_equal(v[i].starts_ms, 1795273165000LL);
        assert_int_equal(v[i].ends_ms, 0);
        /* one alert of the group did not fit max_alerts: each event says so */
        assert_label(&v[i].annotations, "alertmanager_truncated_alerts", "1");
        assert_label(&v[i].annotations, "alertmanager_external_url", "http://vm:19093");
        assert_label(&v[i].annotations, "alertmanager_receiver", "hook");
        assert_label(&v[i].annotations, "alertmanager_group_key",
                     "{}:{alertname=\"DiskRunningFull\"}");
        assert_label(&v[i].annotations, "alertmanager_generator_url",
                     "http://prometheus.example.com:9090/graph?g0.expr=disk_used%3E0.95&g0.tab=1");
    }
    assert_label(&v[0].labels, "dev", "sda1");
    assert_label(&v[1].labels, "dev", "sda2");
    assert_string_equal(v[0].summary, "Disk \"sda1\" on example1 is 97% full");
    assert_string_equal(v[1].summary, "Disk \"sda2\" on example1 is 96% full");
    assert_label(&v[0].annotations, "runbook_url",
                 "https://runbooks.example.com/disk?dev=sda1&host=example1");
    ingest_events_free(v, 2);
}

static void test_ingest_am_resolved_fixture(void **state)
{
    (void)state;
    json_t *body = parse_fixture("alertmanager-webhook-resolved-captured-am0.25.json");
    struct event *v = decode_json(ingest_alertmanager_decode, body, 2);
    json_decref(body);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(v[i].status, EVENT_RESOLVED);
        assert_int_equal(v[i].starts_ms, 1795273165000LL);
        assert_int_equal(v[i].ends_ms, 1795273172000LL);
    }
    ingest_events_free(v, 2);
}

static void test_ingest_am_mixed_group_keeps_each_status(void **state)
{
    (void)state;
    /* The group says "firing"; its second alert is resolved all the same. */
    json_t *body = parse_fixture("alertmanager-webhook-mixed-status-captured-am0.25.json");
    struct event *v = decode_json(ingest_alertmanager_decode, body, 2);
    json_decref(body);
    assert_label(&v[0].labels, "instance", "web01");
    assert_int_equal(v[0].status, EVENT_FIRING);
    assert_int_equal(v[0].ends_ms, 0);
    assert_label(&v[1].labels, "instance", "web02");
    assert_int_equal(v[1].status, EVENT_RESOLVED);
    assert_int_equal(v[1].starts_ms, 1795273185000LL);
    assert_int_equal(v[1].ends_ms, 1795273187000LL);
    assert_string_equal(v[1].summary, "nginx down on web02");
    /* no severity label: the default; an empty generatorURL: no annotation */
    assert_int_equal(v[1].severity, INCIDENT_SEVERITY_WARNING);
    assert_null(labels_get(&v[1].annotations, "alertmanager_generator_url"));
    assert_null(labels_get(&v[1].annotations, "alertmanager_truncated_alerts"));
    ingest_events_free(v, 2);
}

static void test_ingest_am_legacy_payload_without_status(void **state)
{
    (void)state;
    /* No per-alert status, fingerprint or generatorURL; nanoseconds and -05:00. */
    json_t *body =
            parse_fixture("alertmanager-webhook-firing-2alerts-legacy-prometheus-msteams.json");
    struct event *v = decode_json(ingest_alertmanager_decode, body, 2);
    json_decref(body);
    assert_label(&v[0].labels, "alertname", "high_memory_load");
    assert_label(&v[1].labels, "alertname", "high_memory_load2");
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(v[i].status, EVENT_FIRING);
        assert_int_equal(v[i].labels.n, 1); /* commonLabels' severity is not the alert's */
        assert_int_equal(v[i].severity, INCIDENT_SEVERITY_WARNING);
        assert_int_equal(v[i].starts_ms, 1520422401873LL);
        assert_int_equal(v[i].ends_ms, 0);
        assert_string_equal(v[i].summary, "Server High Memory usage");
        assert_label(&v[i].annotations, "alertmanager_receiver", "teams_proxy");
        assert_null(labels_get(&v[i].annotations, "alertmanager_generator_url"));
    }
    ingest_events_free(v, 2);
}

static int is_webhook_fixture(const struct dirent *d)
{
    return fnmatch("alertmanager-webhook-*.json", d->d_name, 0) == 0;
}

static void test_ingest_am_every_fixture_decodes_with_its_fingerprints(void **state)
{
    (void)state;
    /* Every payload fixture (the captured request headers are not one)
     * decodes, and hale's fingerprint of each captured alert's labels is
     * the one Alertmanager sent, so the two sides can be lined up. */
    struct dirent **names;
    int n = scandir(HALE_FIXTURES_DIR, &names, is_webhook_fixture, alphasort);
    assert_true(n >= 5);
    size_t checked = 0;
    for (int i = 0; i < n; i++) {
        json_t *body = parse_fixture(names[i]->d_name);
        json_t *alerts = json_object_get(body, "alerts");
        struct event *v = decode_json(ingest_alertmanager_decode, body, json_array_size(alerts));
        bool captured = strstr(names[i]->d_name, "-captured-") != NULL;
        for (size_t k = 0; captured && k < json_array_size(alerts); k++) {
            const char *want =
                    json_string_value(json_object_get(json_array_get(alerts, k), "fingerprint"));
            char got[17];
            snprintf(got, sizeof(got), "%016llx",
                     (unsigned long long)labels_fingerprint(&v[k].labels));
            assert_non_null(want);
            assert_string_equal(got, want);
            checked++;
        }
        ingest_events_free(v, json_array_size(alerts));
        json_decref(body);
        free(names[i]);
    }
    free(names);
    assert_true(checked >= 6);
}

/* ---- Alertmanager: variants ---- */

/* The truncated capture with s inserted after its first '{' (a top-level field). */
static char *with_top_field(const char *s)
{
    char *text = read_fixture("alertmanager-webhook-firing-truncated-captured-am0.25.json");
    char *r = xasprintf("{%s,%s", s, text + 1);
    free(text);
    return r;
}

static void test_ingest_am_ignores_fields_of_newer_versions(void **state)
{
    (void)state;
    char *text = with_top_field(
            "\"notification_reason\":\"repeat interval elapsed\","
            "\"routeLabels\":{\"team\":\"db\"},\"futureField\":{\"nested\":[1,2,{}]}");
    /* and an unknown field in an alert */
    char *p = strstr(text, "\"fingerprint\":\"ed32");
    assert_non_null(p);
    char *full = xasprintf("%.*s\"silencedBy\":[\"x\"],\"score\":0.5,%s", (int)(p - text), text, p);
    struct event *v = decode_text(ingest_alertmanager_decode, full, 2);
    assert_int_equal(v[0].status, EVENT_FIRING);
    assert_label(&v[0].labels, "dev", "sda1");
    assert_null(labels_get(&v[0].annotations, "notification_reason"));
    ingest_events_free(v, 2);
    free(full);
    free(text);
}

static void test_ingest_am_version_must_be_4(void **state)
{
    (void)state;
    refused(ingest_alertmanager_decode, "{\"version\":\"3\",\"alerts\":[]}", HALE_EPARSE, -1,
            "version", "version \"3\" is not supported");
    refused(ingest_alertmanager_decode, "{\"version\":4,\"alerts\":[]}", HALE_EPARSE, -1, "version",
            "version \"4\"");
    refused(ingest_alertmanager_decode, "{\"alerts\":[]}", HALE_EPARSE, -1, "version",
            "/api/v1/events");
    refused(ingest_alertmanager_decode, "[{\"version\":\"4\"}]", HALE_EPARSE, -1, "",
            "JSON object");
    refused(ingest_alertmanager_decode, "{\"version\":\"4\"}", HALE_EPARSE, -1, "alerts", NULL);
    refused(ingest_alertmanager_decode, "{\"version\":\"4\",\"alerts\":{}}", HALE_EPARSE, -1,
            "alerts", NULL);
}

static void test_ingest_am_alert_errors_name_the_alert(void **state)
{
    (void)state;
#define AM(alerts) "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[" alerts "]}"
#define OK_ALERT   "{\"status\":\"firing\",\"labels\":{\"alertname\":\"A\"}}"
    /* Alertmanager never resends a refused body: an alert it cannot read is left out alone. */
    const char *const partly[] = {
            AM(OK_ALERT ",{\"labels\":{\"alertname\":\"B\",\"n\":1}}"),
            AM(OK_ALERT ",{\"labels\":{}}"),
            AM(OK_ALERT "," OK_ALERT ",42"),
    };
    for (size_t k = 0; k < sizeof(partly) / sizeof(partly[0]); k++) {
        struct event *v = decode_text(ingest_alertmanager_decode, partly[k], k == 2 ? 2 : 1);
        assert_string_equal(labels_get(&v[0].labels, "alertname"), "A");
        ingest_events_free(v, k == 2 ? 2 : 1);
    }
    /* None readable: refused, naming the first. */
    refused(ingest_alertmanager_decode, AM("{\"annotations\":{}}"), HALE_EPARSE, 0, "labels",
            "missing");
    refused(ingest_alertmanager_decode, AM("{\"labels\":{}},42"), HALE_EPARSE, 0, "labels",
            "empty");
    refused(ingest_alertmanager_decode,
            AM("{\"status\":\"pending\",\"labels\":{\"alertname\":\"A\"}}"), HALE_EPARSE, 0,
            "status", "not \"pending\"");
    refused(ingest_alertmanager_decode,
            AM("{\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"2026-11-21 14:59:25\"}"),
            HALE_EPARSE, 0, "startsAt", "RFC 3339");
    refused(ingest_alertmanager_decode,
            AM("{\"labels\":{\"alertname\":\"A\"},\"annotations\":[\"x\"]}"), HALE_EPARSE, 0,
            "annotations", NULL);
}

/* What newer senders put in an alert is taken as near as a label can hold it. */
static void test_ingest_am_tolerates_names_and_nul(void **state)
{
    (void)state;
    struct event *v = decode_text(
            ingest_alertmanager_decode,
            AM("{\"labels\":{\"service.name\":\"web\",\"9lives\":\"x\",\"alertname\":\"A\"},"
               "\"annotations\":{\"summary\":\"disk\\u0000 full\"}}"),
            1);
    assert_string_equal(labels_get(&v[0].labels, "service_name"), "web");
    assert_string_equal(labels_get(&v[0].labels, "_9lives"), "x");
    assert_string_equal(labels_get(&v[0].annotations, "summary"), "disk full");
    ingest_events_free(v, 1);
    /* The events API is strict: it says what to change. */
    events_refused("{\"labels\":{\"service.name\":\"web\"}}", HALE_EPARSE, -1, "labels",
                   "\"service.name\" is not a valid name");
}

/* A name of the most bytes that starts with a digit would be one byte more once escaped. */
static void test_ingest_am_escaped_name_keeps_the_limit(void **state)
{
    (void)state;
    char name[INGEST_NAME_MAX + 1];
    memset(name, 'x', INGEST_NAME_MAX);
    name[0] = '9';
    name[INGEST_NAME_MAX] = '\0';
    char *body = xasprintf(AM(OK_ALERT ",{\"labels\":{\"alertname\":\"B\",\"%s\":\"v\"}}"), name);
    struct event *v = decode_text(ingest_alertmanager_decode, body, 1);
    assert_string_equal(labels_get(&v[0].labels, "alertname"), "A"); /* B is left out */
    ingest_events_free(v, 1);
    free(body);
    name[0] = 'a'; /* as long, and valid: taken */
    body = xasprintf(AM("{\"labels\":{\"alertname\":\"B\",\"%s\":\"v\"}}"), name);
    v = decode_text(ingest_alertmanager_decode, body, 1);
    assert_string_equal(labels_get(&v[0].labels, name), "v");
    ingest_events_free(v, 1);
    free(body);
}

static void test_ingest_am_status_without_one(void **state)
{
    (void)state;
    /* A group that is resolved resolves alerts that do not say. */
    struct event *v = decode_text(ingest_alertmanager_decode,
                                  "{\"version\":\"4\",\"status\":\"resolved\",\"alerts\":[{"
                                  "\"labels\":{\"alertname\":\"A\"}}]}",
                                  1);
    assert_int_equal(v[0].status, EVENT_RESOLVED);
    ingest_events_free(v, 1);
    /* In a firing group, an endsAt already past resolves; one ahead does not. */
    v = decode_text(ingest_alertmanager_decode,
                    "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":["
                    "{\"labels\":{\"alertname\":\"A\"},\"endsAt\":\"2026-11-21T14:00:00Z\"},"
                    "{\"labels\":{\"alertname\":\"B\"},\"endsAt\":\"2026-11-21T16:00:00Z\"}]}",
                    2);
    assert_int_equal(v[0].status, EVENT_RESOLVED);
    assert_int_equal(v[1].status, EVENT_FIRING);
    assert_int_equal(v[1].ends_ms, NOW + 3600000);
    ingest_events_free(v, 2);
}

static void test_ingest_am_severity_from_label(void **state)
{
    (void)state;
    static const struct {
        const char *label;
        enum incident_severity want;
    } cases[] = {
            {"critical", INCIDENT_SEVERITY_CRITICAL}, {"Critical", INCIDENT_SEVERITY_CRITICAL},
            {"error", INCIDENT_SEVERITY_CRITICAL},    {"page", INCIDENT_SEVERITY_CRITICAL},
            {"warning", INCIDENT_SEVERITY_WARNING},   {"warn", INCIDENT_SEVERITY_WARNING},
            {"info", INCIDENT_SEVERITY_INFO},         {"none", INCIDENT_SEVERITY_INFO},
            {"sev3", INCIDENT_SEVERITY_WARNING}, /* no idea: the default */
            {"", INCIDENT_SEVERITY_WARNING},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = xasprintf("{\"version\":\"4\",\"alerts\":[{\"labels\":{\"alertname\":\"A\","
                               "\"severity\":\"%s\"}}]}",
                               cases[i].label);
        struct event *v = decode_text(ingest_alertmanager_decode, text, 1);
        if (v[0].severity != cases[i].want)
            fail_msg("severity=\"%s\": got %d", cases[i].label, v[0].severity);
        assert_label(&v[0].labels, "severity", cases[i].label); /* the label stays */
        ingest_events_free(v, 1);
        free(text);
    }
}

static void test_ingest_am_summary_fallbacks(void **state)
{
    (void)state;
    struct event *v = decode_text(
            ingest_alertmanager_decode,
            "{\"version\":\"4\",\"alerts\":["
            "{\"labels\":{\"alertname\":\"A\"},\"annotations\":{\"description\":\"Line one.\\n"
            "  Line two.\\n\"}},"
            "{\"labels\":{\"instance\":\"db1\",\"alertname\":\"PgDown\",\"job\":\"pg\"}},"
            "{\"labels\":{\"job\":\"pg\"},\"annotations\":{\"summary\":\"\",\"description\":\"d\"}}"
            "]}",
            3);
    assert_string_equal(v[0].summary, "Line one. Line two.");
    assert_string_equal(v[1].summary, "PgDown: instance=db1, job=pg");
    assert_string_equal(v[2].summary, "d");
    ingest_events_free(v, 3);
    /* Found by the fuzzer: an empty alertname gave an empty summary. Blank
     * annotations are passed over too. */
    v = decode_text(ingest_alertmanager_decode,
                    "{\"version\":\"4\",\"alerts\":["
                    "{\"labels\":{\"alertname\":\"\"}},"
                    "{\"labels\":{\"alertname\":\" \\n\",\"job\":\"pg\"},"
                    "\"annotations\":{\"summary\":\" \",\"description\":\"\\t\"}}]}",
                    2);
    assert_string_equal(v[0].summary, "alertname=");
    assert_string_equal(v[1].summary, "alertname= , job=pg");
    ingest_events_free(v, 2);
}

static void test_ingest_am_times(void **state)
{
    (void)state;
    struct event *v = decode_text(
            ingest_alertmanager_decode,
            "{\"version\":\"4\",\"alerts\":[{\"status\":\"resolved\",\"labels\":{\"a\":\"1\"},"
            "\"startsAt\":\"2026-11-21T15:59:25.123456789+01:00\","
            "\"endsAt\":\"1969-12-31T23:59:59Z\"},"
            "{\"status\":\"firing\",\"labels\":{\"a\":\"2\"},\"startsAt\":null,"
            "\"endsAt\":\"0001-01-01T00:00:00Z\"}]}",
            2);
    assert_int_equal(v[0].starts_ms, 1795273165123LL);
    assert_int_equal(v[0].ends_ms, 0); /* before 1970: unset, not refused */
    assert_int_equal(v[1].starts_ms, 0);
    assert_int_equal(v[1].ends_ms, 0);
    ingest_events_free(v, 2);
}

static void test_ingest_am_long_annotation_is_cut(void **state)
{
    (void)state;
    /* 20,000 bytes of "é": cut on a character boundary, not refused. */
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_adds(&b, "{\"version\":\"4\",\"alerts\":[{\"labels\":{\"alertname\":\"A\"},"
                    "\"annotations\":{\"summary\":\"");
    for (int i = 0; i < 10000; i++)
        strbuf_adds(&b, "\xc3\xa9");
    strbuf_adds(&b, "\"}}]}");
    struct event *v = decode_text(ingest_alertmanager_decode, b.s, 1);
    const char *s = labels_get(&v[0].annotations, "summary");
    size_t len = strlen(s);
    assert_true(len <= INGEST_ANNOTATION_VALUE_MAX);
    assert_true(len > INGEST_ANNOTATION_VALUE_MAX - 8);
    assert_string_equal(s + len - 3, "...");
    assert_true((len - 3) % 2 == 0); /* whole characters only */
    len = strlen(v[0].summary);
    assert_true(len <= INGEST_SUMMARY_MAX);
    assert_string_equal(v[0].summary + len - 3, "...");
    assert_true((len - 3) % 2 == 0);
    ingest_events_free(v, 1);
    strbuf_fini(&b);
}

static void test_ingest_am_empty_alerts(void **state)
{
    (void)state;
    struct event *v = decode_text(ingest_alertmanager_decode,
                                  "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]}", 0);
    assert_null(v);
}

/* ---- events body ---- */

static void test_ingest_events_single(void **state)
{
    (void)state;
    struct event *v = events_text(
            "{\"labels\":{\"service\":\"web\",\"alertname\":\"DiskFull\",\"instance\":\"web-01\"},"
            "\"annotations\":{\"summary\":\"Disk / on web-01 is 97% full\","
            "\"runbook_url\":\"https://runbooks.example.com/disk\"}}",
            1);
    assert_int_equal(v[0].source, EVENT_SOURCE_API);
    assert_int_equal(v[0].status, EVENT_FIRING);
    assert_int_equal(v[0].severity, INCIDENT_SEVERITY_WARNING);
    assert_int_equal(v[0].labels.n, 3);
    assert_string_equal(v[0].labels.v[0].name, "alertname"); /* sorted */
    assert_string_equal(v[0].summary, "Disk / on web-01 is 97% full");
    assert_int_equal(v[0].annotations.n, 2);
    assert_int_equal(v[0].starts_ms, 0);
    assert_int_equal(v[0].ends_ms, 0);
    assert_int_equal(v[0].received_ms, NOW);
    ingest_events_free(v, 1);
}

static void test_ingest_events_array(void **state)
{
    (void)state;
    struct event *v = events_text(
            "[{\"labels\":{\"alertname\":\"DiskFull\",\"instance\":\"web-01\",\"service\":\"web\"}}"
            ","
            "{\"labels\":{\"alertname\":\"DiskFull\"},\"status\":\"resolved\",\"severity\":"
            "\"critical\",\"summary\":\"  Disk   fine\\nagain \",\"startsAt\":"
            "\"2026-11-21T14:59:25Z\",\"endsAt\":\"2026-11-21T15:59:25.123+01:00\"},"
            "{\"labels\":{\"job\":\"backup\"},\"status\":null,\"annotations\":null}]",
            3);
    assert_string_equal(v[0].summary, "DiskFull: instance=web-01, service=web");
    assert_int_equal(v[1].status, EVENT_RESOLVED);
    assert_int_equal(v[1].severity, INCIDENT_SEVERITY_CRITICAL);
    assert_string_equal(v[1].summary, "Disk fine again");
    assert_int_equal(v[1].starts_ms, 1795273165000LL);
    assert_int_equal(v[1].ends_ms, 1795273165123LL);
    assert_string_equal(v[2].summary, "job=backup");
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(v[i].source, EVENT_SOURCE_API);
        assert_int_equal(v[i].received_ms, NOW);
    }
    ingest_events_free(v, 3);
    /* an empty batch is no events, not an error */
    assert_null(events_text("[]", 0));
}

/*
 * The decoder hashes what each event says, and fingerprints its labels,
 * ahead of the loop: the values the engine and the desk would compute
 * themselves, for an event of any source that says the same, and another
 * content hash as soon as anything it says differs.
 */
static void test_ingest_events_content_hash_as_the_desk_computes_it(void **state)
{
    (void)state;
    struct event *v = events_text(
            "[{\"labels\":{\"service\":\"web\",\"alertname\":\"Down\"},\"summary\":\"web is down\","
            "\"annotations\":{\"runbook_url\":\"https://r.example.com\"}},"
            "{\"labels\":{\"alertname\":\"Down\",\"service\":\"web\"},\"summary\":\"web is down\","
            "\"annotations\":{\"runbook_url\":\"https://r.example.com\"},"
            "\"startsAt\":\"2026-11-21T14:59:25Z\"},"
            "{\"labels\":{\"alertname\":\"Down\",\"service\":\"web\"},\"summary\":\"web is down\","
            "\"annotations\":{\"runbook_url\":\"https://r.example.com/2\"}},"
            "{\"labels\":{\"alertname\":\"Down\",\"service\":\"web\"},\"summary\":\"web is down\","
            "\"annotations\":{\"runbook_url\":\"https://"
            "r.example.com\"},\"severity\":\"critical\"}]",
            4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_not_equal(v[i].content, 0);
        assert_int_equal(v[i].content, event_content_hash(&v[i]));
        assert_int_equal(v[i].labels_fingerprint, labels_fingerprint(&v[i].labels));
    }
    assert_int_equal(v[0].content, v[1].content); /* the order of the labels, a start: the same */
    assert_int_not_equal(v[0].content, v[2].content); /* an annotation differs */
    assert_int_not_equal(v[0].content, v[3].content); /* the severity differs */

    struct event ev;
    event_init(&ev);
    ev.source = EVENT_SOURCE_API;
    labels_set(&ev.labels, "alertname", "Down", NULL);
    labels_set(&ev.labels, "service", "web", NULL);
    labels_set(&ev.annotations, "runbook_url", "https://r.example.com", NULL);
    free(ev.summary);
    ev.summary = xstrdup("web is down");
    assert_int_equal(event_content_hash(&ev), v[0].content);
    ev.source = EVENT_SOURCE_ALERTMANAGER;
    assert_int_not_equal(event_content_hash(&ev), v[0].content);
    event_fini(&ev);
    ingest_events_free(v, 4);
}

/*
 * A batch's events share one block for their strings: each stays whole
 * until it is finished itself, in whatever order they are finished, and
 * the last one finished frees the block (ASan: nothing read after it is
 * freed, nothing leaked).
 */
static void test_ingest_events_share_a_block_until_the_last(void **state)
{
    (void)state;
    struct event *v = events_text(
            "[{\"labels\":{\"service\":\"web\",\"alertname\":\"Down\"},\"summary\":\"web down\"},"
            "{\"labels\":{\"service\":\"db\"},\"annotations\":{\"summary\":\"db  down\"}},"
            "{\"labels\":{\"service\":\"mail\"}}]",
            3);
    for (size_t i = 0; i < 3; i++) {
        assert_non_null(v[i].block);
        assert_ptr_equal(v[i].block, v[0].block);
    }
    event_fini(&v[1]);
    assert_string_equal(labels_get(&v[0].labels, "alertname"), "Down");
    assert_string_equal(v[0].summary, "web down");
    event_fini(&v[0]);
    assert_string_equal(labels_get(&v[2].labels, "service"), "mail");
    assert_string_equal(v[2].summary, "service=mail");
    /* the sender, set after decoding, is the event's own */
    v[2].sender = xstrdup("user:bench");
    ingest_events_free(v, 3);

    /* refused whole: what was decoded goes with the block */
    struct event *none = NULL;
    size_t n = 0;
    const char *bad = "[{\"labels\":{\"a\":\"1\"}},{\"labels\":{\"b\":\"\"}}]";
    assert_int_equal(ingest_events_decode(bad, strlen(bad), NOW, &none, &n, NULL), HALE_EPARSE);
    assert_null(none);
}

static void test_ingest_events_severity(void **state)
{
    (void)state;
    struct event *v = events_text(
            "[{\"labels\":{\"a\":\"1\",\"severity\":\"critical\"}},"
            "{\"labels\":{\"a\":\"2\",\"severity\":\"page\"}},"
            "{\"labels\":{\"a\":\"3\",\"severity\":\"critical\"},\"severity\":\"info\"},"
            "{\"labels\":{\"a\":\"4\",\"severity\":\"sev1\"}}]",
            4);
    assert_int_equal(v[0].severity, INCIDENT_SEVERITY_CRITICAL); /* from the label */
    assert_int_equal(v[1].severity, INCIDENT_SEVERITY_CRITICAL);
    assert_int_equal(v[2].severity, INCIDENT_SEVERITY_INFO); /* the field wins */
    assert_int_equal(v[3].severity, INCIDENT_SEVERITY_WARNING);
    ingest_events_free(v, 4);
}

static void test_ingest_events_times(void **state)
{
    (void)state;
    struct event *v = events_text(
            "[{\"labels\":{\"a\":\"1\"},\"endsAt\":\"2026-11-21T14:00:00Z\"},"
            "{\"labels\":{\"a\":\"2\"},\"endsAt\":\"2026-11-21T14:00:00Z\",\"status\":\"firing\"},"
            "{\"labels\":{\"a\":\"3\"},\"endsAt\":\"2026-11-21T16:00:00Z\"},"
            "{\"labels\":{\"a\":\"4\"},\"endsAt\":\"0001-01-01T00:00:00Z\","
            "\"startsAt\":\"2026-11-21T14:59:25.5-00:30\"}]",
            4);
    /* an endsAt already past resolves an event that gives no status */
    assert_int_equal(v[0].status, EVENT_RESOLVED);
    assert_int_equal(v[1].status, EVENT_FIRING); /* a status given is kept */
    assert_int_equal(v[2].status, EVENT_FIRING);
    assert_int_equal(v[3].ends_ms, 0);
    assert_int_equal(v[3].starts_ms, 1795273165000LL + 1800000 + 500);
    ingest_events_free(v, 4);
}

static void test_ingest_events_errors_name_index_and_field(void **state)
{
    (void)state;
#define GOOD "{\"labels\":{\"alertname\":\"A\"}}"
    /* a misspelt field is refused, never dropped; the batch is refused whole */
    events_refused("[" GOOD "," GOOD ",{\"lables\":{\"a\":\"b\"}}]", HALE_EPARSE, 2, "lables",
                   "\"lables\" is not a field of an event");
    events_refused("{\"labels\":{\"a\":\"b\"},\"generatorURL\":\"x\"}", HALE_EPARSE, -1,
                   "generatorURL", "the fields are labels");
    events_refused("{\"summary\":\"x\"}", HALE_EPARSE, -1, "labels", "labels is required");
    events_refused("{\"labels\":null}", HALE_EPARSE, -1, "labels", "required");
    events_refused("{\"labels\":{}}", HALE_EPARSE, -1, "labels", "empty");
    events_refused("{\"labels\":[\"a\"]}", HALE_EPARSE, -1, "labels", "must be an object");
    events_refused("{\"labels\":{\"9x\":\"a\"}}", HALE_EPARSE, -1, "labels",
                   "\"9x\" is not a valid name");
    events_refused("{\"labels\":{\"\":\"a\"}}", HALE_EPARSE, -1, "labels", "not a valid name");
    events_refused("[" GOOD ",{\"labels\":{\"port\":8080}}]", HALE_EPARSE, 1, "labels.port",
                   "must be a string");
    events_refused("{\"labels\":{\"service\":\"\"}}", HALE_EPARSE, -1, "labels.service", "empty");
    events_refused("{\"labels\":{\"service\":\"w\\u0000b\"}}", HALE_EPARSE, -1, "labels.service",
                   "NUL");
    events_refused("{\"labels\":{\"a\":\"b\"},\"annotations\":\"x\"}", HALE_EPARSE, -1,
                   "annotations", "must be an object");
    events_refused("{\"labels\":{\"a\":\"b\"},\"annotations\":{\"n\":[1]}}", HALE_EPARSE, -1,
                   "annotations.n", "must be a string");
    events_refused("{\"labels\":{\"a\":\"b\"},\"status\":\"fire\"}", HALE_EPARSE, -1, "status",
                   "\"firing\" or \"resolved\", not \"fire\"");
    events_refused("{\"labels\":{\"a\":\"b\"},\"status\":true}", HALE_EPARSE, -1, "status",
                   "\"firing\" or \"resolved\"");
    events_refused("{\"labels\":{\"a\":\"b\"},\"severity\":\"page\"}", HALE_EPARSE, -1, "severity",
                   "\"critical\", \"warning\" or \"info\", not \"page\"");
    events_refused("{\"labels\":{\"a\":\"b\"},\"summary\":42}", HALE_EPARSE, -1, "summary",
                   "must be a string");
    events_refused("{\"labels\":{\"a\":\"b\"},\"summary\":\" \\n \"}", HALE_EPARSE, -1, "summary",
                   "empty");
    events_refused("{\"labels\":{\"a\":\"b\"},\"startsAt\":\"yesterday\"}", HALE_EPARSE, -1,
                   "startsAt", "not \"yesterday\"");
    events_refused("{\"labels\":{\"a\":\"b\"},\"startsAt\":1795273165}", HALE_EPARSE, -1,
                   "startsAt", "must be a string");
    events_refused("{\"labels\":{\"a\":\"b\"},\"endsAt\":\"2026-11-21T14:59:25\"}", HALE_EPARSE, -1,
                   "endsAt", "RFC 3339");
    events_refused("{\"labels\":{\"a\":\"b\"},\"startsAt\":\"1960-01-01T00:00:00Z\"}", HALE_EPARSE,
                   -1, "startsAt", "not after 1970");
    events_refused("{\"labels\":{\"a\":\"b\"},\"startsAt\":\"2026-11-21T15:00:00Z\","
                   "\"endsAt\":\"2026-11-21T14:00:00Z\"}",
                   HALE_EPARSE, -1, "endsAt", "before startsAt");
    events_refused("[" GOOD ",\"x\"]", HALE_EPARSE, 1, "", "JSON object");
    events_refused("\"an event\"", HALE_EPARSE, -1, "", "array of events");
    events_refused("42", HALE_EPARSE, -1, "", NULL);
}

/* text is refused as invalid JSON at line:column, for a reason containing want. */
static void events_invalid_json(const char *text, unsigned line, unsigned column, const char *want)
{
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {0};
    int r = ingest_events_decode(text, strlen(text), NOW, &v, &n, &e);
    if (r != HALE_EPARSE || e.line != line || e.column != column)
        fail_msg("%s: got %d at %u:%u (%s), want invalid JSON at %u:%u", text, r, e.line, e.column,
                 e.reason, line, column);
    assert_int_equal(e.index, -1);
    assert_string_equal(e.field, "");
    if (!strstr(e.reason, want))
        fail_msg("reason \"%s\" lacks \"%s\"", e.reason, want);
}

/*
 * The text is read in one pass, but answers as if parsed whole first and
 * then checked: invalid JSON anywhere wins over a bad event, too many
 * events over a bad one, the first bad event over later ones, and within
 * an event the checks keep their order whatever the order of the fields.
 */
static void test_ingest_events_refusals_keep_their_order(void **state)
{
    (void)state;
    events_invalid_json("[{\"lables\":{}},\n {\"labels\":{\"a\":\"b\"}},]", 2, 23,
                        "a value is expected");
    events_invalid_json("{\"labels\":{\"a\":1},\"labels\":{\"a\":\"b\"}}", 1, 19, "given twice");
    events_invalid_json("{\"labels\":{\"a\":\"b\",\"a\":\"c\"}}", 1, 20, "given twice");
    events_invalid_json("{\"labels\":{\"a\":\"b\"},\"x\":{\"y\":1,\"y\":2}}", 1, 32, "given twice");
    events_invalid_json("{\"labels\":{\"a\":\"b\"}} {}", 1, 22, "must end");
    events_invalid_json("{\"labels\":{\"a\\u0000\":\"b\"}}", 1, 14, "member name");
    events_invalid_json("  ", 1, 3, "end of the text");
    /* no body at all is no event */
    struct ingest_error e = {0};
    struct event *v = NULL;
    size_t n = 0;
    assert_int_equal(ingest_events_decode("", 0, NOW, &v, &n, &e), HALE_EPARSE);
    assert_int_equal(e.line, 0);
    assert_non_null(strstr(e.reason, "array of events"));

    /* a field that is not one wins over the labels, wherever it is */
    events_refused("{\"labels\":{\"a\":1},\"lables\":{}}", HALE_EPARSE, -1, "lables",
                   "not a field");
    /* labels before annotations, status, times and summary, whatever the order */
    events_refused("{\"summary\":1,\"startsAt\":2,\"status\":3,\"annotations\":4,"
                   "\"labels\":{\"a\":1}}",
                   HALE_EPARSE, -1, "labels.a", "must be a string");
    events_refused("{\"annotations\":{\"n\":1},\"labels\":{}}", HALE_EPARSE, -1, "labels", "empty");
    events_refused("{\"summary\":1,\"annotations\":{\"n\":1},\"labels\":{\"a\":\"b\"}}",
                   HALE_EPARSE, -1, "annotations.n", "must be a string");
    events_refused("{\"endsAt\":1,\"severity\":\"x\",\"labels\":{\"a\":\"b\"}}", HALE_EPARSE, -1,
                   "severity", "not \"x\"");
    /* the count of labels wins over a bad label before it */
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_adds(&b, "{\"labels\":{\"bad\":1");
    for (int i = 0; i < INGEST_LABELS_MAX; i++)
        strbuf_addf(&b, ",\"l%d\":\"v\"", i);
    strbuf_adds(&b, "}}");
    events_refused(b.s, HALE_ELIMIT, -1, "labels", "more than the 64 allowed");
    strbuf_fini(&b);
    /* the first bad event, not a later one */
    events_refused("[{\"labels\":{\"a\":\"b\"}},{\"labels\":{}},{\"x\":1}]", HALE_EPARSE, 1,
                   "labels", "empty");
    /* a NUL in a value is refused as the field's error */
    events_refused("{\"labels\":{\"a\":\"b\"},\"summary\":\"x\\u0000y\"}", HALE_EPARSE, -1,
                   "summary", "NUL");
    events_refused("{\"labels\":{\"a\":\"b\"},\"status\":\"firing\\u0000\"}", HALE_EPARSE, -1,
                   "status", "\"firing\" or \"resolved\"");
    events_refused("{\"labels\":{\"a\":\"b\"},\"startsAt\":\"2026-11-21T14:59:25Z\\u0000\"}",
                   HALE_EPARSE, -1, "startsAt", "RFC 3339");
}

/* Alertmanager's API v2 bodies are arrays of events too, with generatorURL, which hale's refuses.
 */
static void test_ingest_events_alertmanager_api_fixtures(void **state)
{
    (void)state;
    static const char *const names[] = {
            "alertmanager-apiv2-post-alerts-body-used-for-capture.json",
            "alertmanager-apiv2-post-alerts-resolve-body-used-for-capture.json",
    };
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        char *text = read_fixture(names[k]);
        events_refused(text, HALE_EPARSE, 0, "generatorURL", "not a field of an event");
        /* without it, each alert is an event */
        json_t *body = parse(text);
        size_t i;
        json_t *alert;
        json_array_foreach(body, i, alert) json_object_del(alert, "generatorURL");
        char *again = json_dumps(body, JSON_INDENT(2));
        struct event *v = events_text(again, json_array_size(body));
        for (i = 0; i < json_array_size(body); i++) {
            json_t *alert_i = json_array_get(body, i);
            const char *name;
            json_t *value;
            json_object_foreach(json_object_get(alert_i, "labels"), name, value)
                    assert_label(&v[i].labels, name, json_string_value(value));
            json_t *summary = json_object_get(json_object_get(alert_i, "annotations"), "summary");
            if (summary)
                assert_string_equal(v[i].summary, json_string_value(summary));
            assert_true(v[i].starts_ms > 0);
        }
        ingest_events_free(v, json_array_size(body));
        free(again);
        json_decref(body);
        free(text);
    }
}

/* An events body whose first event has count labels (or annotations) with values of len bytes. */
static char *event_with(const char *what, size_t count, size_t len)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "{\"labels\":{\"alertname\":\"A\"%s", strcmp(what, "labels") ? "}," : ",");
    if (strcmp(what, "labels") != 0)
        strbuf_addf(&b, "\"%s\":{", what);
    for (size_t i = 0; i < count; i++) {
        strbuf_addf(&b, "%s\"l%zu\":\"", i ? "," : "", i);
        for (size_t k = 0; k < len; k++)
            strbuf_addc(&b, 'v');
        strbuf_addc(&b, '"');
    }
    strbuf_adds(&b, "}}");
    return strbuf_detach(&b, NULL);
}

static void test_ingest_events_limits(void **state)
{
    (void)state;
    /* labels: 64 in all, 4 KiB a value */
    char *t = event_with("labels", INGEST_LABELS_MAX - 1, INGEST_LABEL_VALUE_MAX);
    ingest_events_free(events_text(t, 1), 1);
    free(t);
    t = event_with("labels", INGEST_LABELS_MAX, 1);
    events_refused(t, HALE_ELIMIT, -1, "labels", "more than the 64 allowed");
    free(t);
    t = event_with("labels", 1, INGEST_LABEL_VALUE_MAX + 1);
    events_refused(t, HALE_ELIMIT, -1, "labels.l0", "more than the 4096 allowed");
    free(t);
    /* annotations: 64, 16 KiB a value */
    t = event_with("annotations", INGEST_ANNOTATIONS_MAX, INGEST_ANNOTATION_VALUE_MAX);
    ingest_events_free(events_text(t, 1), 1);
    free(t);
    t = event_with("annotations", INGEST_ANNOTATIONS_MAX + 1, 1);
    events_refused(t, HALE_ELIMIT, -1, "annotations", NULL);
    free(t);
    t = event_with("annotations", 1, INGEST_ANNOTATION_VALUE_MAX + 1);
    events_refused(t, HALE_ELIMIT, -1, "annotations.l0", NULL);
    free(t);
    /* a name of 129 bytes */
    char name[INGEST_NAME_MAX + 2];
    memset(name, 'n', INGEST_NAME_MAX + 1);
    name[INGEST_NAME_MAX + 1] = '\0';
    t = xasprintf("{\"labels\":{\"%s\":\"v\"}}", name);
    events_refused(t, HALE_ELIMIT, -1, "labels", "longer than 128 bytes");
    free(t);
    name[INGEST_NAME_MAX] = '\0';
    t = xasprintf("{\"labels\":{\"%s\":\"v\"}}", name);
    ingest_events_free(events_text(t, 1), 1);
    free(t);
    /* a summary of 1 KiB, and one byte more */
    char summary[INGEST_SUMMARY_MAX + 2];
    memset(summary, 's', INGEST_SUMMARY_MAX + 1);
    summary[INGEST_SUMMARY_MAX + 1] = '\0';
    t = xasprintf("{\"labels\":{\"a\":\"b\"},\"summary\":\"%s\"}", summary);
    events_refused(t, HALE_ELIMIT, -1, "summary", "more than the 1024 allowed");
    free(t);
    summary[INGEST_SUMMARY_MAX] = '\0';
    t = xasprintf("{\"labels\":{\"a\":\"b\"},\"summary\":\"%s\"}", summary);
    struct event *v = events_text(t, 1);
    assert_string_equal(v[0].summary, summary);
    ingest_events_free(v, 1);
    free(t);
}

/* A batch of n events with the label n numbered, as numbers or as strings. */
static char *batch_of(int n, bool strings)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addc(&b, '[');
    for (int i = 0; i < n; i++)
        strbuf_addf(&b, strings ? "%s{\"labels\":{\"n\":\"%d\"}}" : "%s{\"labels\":{\"n\":%d}}",
                    i ? "," : "", i);
    strbuf_addc(&b, ']');
    return strbuf_detach(&b, NULL);
}

static void test_ingest_events_batch_limit(void **state)
{
    (void)state;
    /* the values are numbers: the last one names its index */
    char *t = batch_of(INGEST_EVENTS_MAX, false);
    struct ingest_error e = {0};
    struct event *v = NULL;
    size_t n = 0;
    assert_int_equal(ingest_events_decode(t, strlen(t), NOW, &v, &n, &e), HALE_EPARSE);
    assert_int_equal(e.index, 0);
    free(t);
    t = batch_of(INGEST_EVENTS_MAX, true);
    v = events_text(t, INGEST_EVENTS_MAX);
    assert_label(&v[INGEST_EVENTS_MAX - 1].labels, "n", "9999");
    ingest_events_free(v, INGEST_EVENTS_MAX);
    free(t);
    t = batch_of(INGEST_EVENTS_MAX + 1, true);
    assert_int_equal(ingest_events_decode(t, strlen(t), NOW, &v, &n, &e), HALE_ELIMIT);
    assert_int_equal(e.index, -1);
    assert_non_null(strstr(e.reason, "more than the 10000"));
    free(t);
}

static void test_ingest_events_error_may_be_null(void **state)
{
    (void)state;
    const char *text = "{\"labels\":{}}";
    json_t *body = parse(text);
    struct event *v = NULL;
    size_t n = 0;
    assert_int_equal(ingest_events_decode(text, strlen(text), NOW, &v, &n, NULL), HALE_EPARSE);
    assert_int_equal(ingest_alertmanager_decode(body, NOW, &v, &n, NULL), HALE_EPARSE);
    json_decref(body);
    ingest_events_free(NULL, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ingest_am_firing_fixture),
            cmocka_unit_test(test_ingest_am_truncated_fixture),
            cmocka_unit_test(test_ingest_am_resolved_fixture),
            cmocka_unit_test(test_ingest_am_mixed_group_keeps_each_status),
            cmocka_unit_test(test_ingest_am_legacy_payload_without_status),
            cmocka_unit_test(test_ingest_am_every_fixture_decodes_with_its_fingerprints),
            cmocka_unit_test(test_ingest_am_ignores_fields_of_newer_versions),
            cmocka_unit_test(test_ingest_am_version_must_be_4),
            cmocka_unit_test(test_ingest_am_alert_errors_name_the_alert),
            cmocka_unit_test(test_ingest_am_tolerates_names_and_nul),
            cmocka_unit_test(test_ingest_am_escaped_name_keeps_the_limit),
            cmocka_unit_test(test_ingest_am_status_without_one),
            cmocka_unit_test(test_ingest_am_severity_from_label),
            cmocka_unit_test(test_ingest_am_summary_fallbacks),
            cmocka_unit_test(test_ingest_am_times),
            cmocka_unit_test(test_ingest_am_long_annotation_is_cut),
            cmocka_unit_test(test_ingest_am_empty_alerts),
            cmocka_unit_test(test_ingest_events_single),
            cmocka_unit_test(test_ingest_events_array),
            cmocka_unit_test(test_ingest_events_content_hash_as_the_desk_computes_it),
            cmocka_unit_test(test_ingest_events_share_a_block_until_the_last),
            cmocka_unit_test(test_ingest_events_severity),
            cmocka_unit_test(test_ingest_events_times),
            cmocka_unit_test(test_ingest_events_errors_name_index_and_field),
            cmocka_unit_test(test_ingest_events_limits),
            cmocka_unit_test(test_ingest_events_batch_limit),
            cmocka_unit_test(test_ingest_events_refusals_keep_their_order),
            cmocka_unit_test(test_ingest_events_alertmanager_api_fixtures),
            cmocka_unit_test(test_ingest_events_error_may_be_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
