/* SPDX-License-Identifier: MIT */
/*
 * Tests of the engine's decisions: fingerprints (against Alertmanager's
 * own, captured), routing with every matcher operator, continue and the
 * default, and engine_decide() over a small desk simulated here, which
 * applies each decision as the real desk will (new incidents, symptoms,
 * root causes moving upstream, resolutions). The scenario tests replay a
 * thousand events of one outage in random orders and assert it stays one
 * incident with the upstream as its root cause.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "engine/correlate.h"
#include "engine/event.h"
#include "engine/fingerprint.h"
#include "engine/route.h"
#include "engine/silence.h"

/* ---- helpers ---- */

static struct config *load(const char *yaml)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    int r = config_load_buffer("test.yaml", yaml, strlen(yaml), &c, &d);
    for (size_t i = 0; i < d.n; i++)
        print_message("%s:%u:%u: %s\n", d.v[i].file, d.v[i].line, d.v[i].col, d.v[i].msg);
    config_diags_fini(&d);
    assert_int_equal(r, 0);
    return c;
}

static void set_labels(struct labels *l, const char *const *kv)
{
    for (size_t i = 0; kv[i]; i += 2)
        assert_int_equal(labels_set(l, kv[i], kv[i + 1], NULL), 0);
}

/* A firing event with the labels kv (NULL-terminated name, value pairs). */
static void event_of(struct event *ev, const char *const *kv)
{
    event_init(ev);
    ev->source = EVENT_SOURCE_API;
    set_labels(&ev->labels, kv);
}

#define EV(ev, ...) event_of((ev), (const char *const[]){__VA_ARGS__, NULL})

static uint64_t fp_of(const char *const *kv, const struct config_strv *identifying)
{
    struct labels l;
    labels_init(&l);
    set_labels(&l, kv);
    uint64_t fp = engine_fingerprint(&l, identifying);
    labels_fini(&l);
    return fp;
}

#define FP(identifying, ...) fp_of((const char *const[]){__VA_ARGS__, NULL}, (identifying))

/* ---- fingerprints ---- */

static void fingerprints_of_fixture(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", HALE_FIXTURES_DIR, name);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        print_message("%s: %s\n", path, jerr.text);
    assert_non_null(root);
    json_t *alerts = json_object_get(root, "alerts");
    assert_true(json_array_size(alerts) > 0);
    size_t i;
    json_t *alert;
    json_array_foreach(alerts, i, alert)
    {
        struct labels l;
        labels_init(&l);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(alert, "labels"), k, v)
        {
            assert_int_equal(labels_set(&l, k, json_string_value(v), NULL), 0);
        }
        char got[ENGINE_FINGERPRINT_MAX];
        engine_fingerprint_format(engine_fingerprint(&l, NULL), got);
        assert_string_equal(got, json_string_value(json_object_get(alert, "fingerprint")));
        labels_fini(&l);
    }
    json_decref(root);
}

static void test_engine_fingerprint_is_alertmanagers(void **state)
{
    (void)state;
    /* Alertmanager 0.25 put these fingerprints in its webhooks. */
    fingerprints_of_fixture("alertmanager-webhook-mixed-status-captured-am0.25.json");
    fingerprints_of_fixture("alertmanager-webhook-resolved-captured-am0.25.json");
    /* No labels at all: FNV-1a's offset basis, as in Prometheus. */
    struct labels none = {0};
    char buf[ENGINE_FINGERPRINT_MAX];
    assert_string_equal(engine_fingerprint_format(engine_fingerprint(&none, NULL), buf),
                        "cbf29ce484222325");
}

static void test_engine_fingerprint_ignores_order(void **state)
{
    (void)state;
    uint64_t a = FP(NULL, "service", "web", "alertname", "Down", "instance", "web-01");
    uint64_t b = FP(NULL, "instance", "web-01", "service", "web", "alertname", "Down");
    assert_true(a == b);
    /* The separator keeps {a="bc"} and {ab="c"} apart; a value change changes it. */
    assert_true(FP(NULL, "a", "bc") != FP(NULL, "ab", "c"));
    assert_true(a != FP(NULL, "service", "web", "alertname", "Down", "instance", "web-02"));
}

static void test_engine_fingerprint_of_a_subset(void **state)
{
    (void)state;
    const char *const ids[] = {"instance", "alertname"};
    const struct config_strv identifying = {ids, 2};
    /* Only the identifying labels count: the subset's own fingerprint. */
    uint64_t sub = FP(&identifying, "alertname", "Down", "instance", "web-01", "pod", "x-1");
    assert_true(sub == FP(NULL, "alertname", "Down", "instance", "web-01"));
    assert_true(sub == FP(&identifying, "alertname", "Down", "instance", "web-01", "pod", "x-2"));
    assert_true(sub != FP(&identifying, "alertname", "Down", "instance", "web-02", "pod", "x-1"));
    /* The order of the list does not matter. */
    const char *const rev[] = {"alertname", "instance"};
    const struct config_strv reversed = {rev, 2};
    assert_true(sub == FP(&reversed, "pod", "x-9", "instance", "web-01", "alertname", "Down"));
    /* Missing identifying labels are left out... */
    assert_true(FP(&identifying, "alertname", "Down", "pod", "x") == FP(NULL, "alertname", "Down"));
    /* ... and an event with none of them is fingerprinted by all of its labels. */
    assert_true(FP(&identifying, "job", "backup", "host", "a") ==
                FP(NULL, "job", "backup", "host", "a"));
    assert_true(FP(&identifying, "job", "backup") != FP(&identifying, "job", "restore"));
    /* An empty list means every label, as NULL does. */
    const struct config_strv empty = {NULL, 0};
    assert_true(FP(&empty, "a", "1", "b", "2") == FP(NULL, "a", "1", "b", "2"));
}

/*
 * An event's labels fingerprinted ahead (by the decoder) give the same
 * fingerprint; the value carried is taken only where every label counts.
 */
static void test_engine_event_fingerprint_takes_the_one_computed_ahead(void **state)
{
    (void)state;
    const char *const ids[] = {"instance", "alertname"};
    const struct config_strv identifying = {ids, 2};
    struct event ev;
    EV(&ev, "alertname", "Down", "instance", "web-01", "pod", "x-1");
    uint64_t all = FP(NULL, "alertname", "Down", "instance", "web-01", "pod", "x-1");
    uint64_t sub = FP(&identifying, "alertname", "Down", "instance", "web-01", "pod", "x-1");
    /* not computed ahead: computed now */
    assert_true(engine_event_fingerprint(&ev, NULL) == all);
    assert_true(engine_event_fingerprint(&ev, &identifying) == sub);
    ev.labels_fingerprint = labels_fingerprint(&ev.labels);
    assert_true(engine_event_fingerprint(&ev, NULL) == all);
    assert_true(engine_event_fingerprint(&ev, &identifying) == sub);
    /* A marked value shows where it is taken rather than computed again. */
    ev.labels_fingerprint = 42;
    assert_true(engine_event_fingerprint(&ev, NULL) == 42);
    assert_true(engine_event_fingerprint(&ev, &identifying) == sub);
    const char *const other[] = {"job"};
    const struct config_strv none_of_them = {other, 1};
    assert_true(engine_event_fingerprint(&ev, &none_of_them) == 42);
    event_fini(&ev);
}

/* ---- routes ---- */

static const char routes_yaml[] =
        "notifiers:\n"
        "  - { name: log, type: exec, argv: [/bin/true] }\n"
        "  - { name: pager, type: exec, argv: [/bin/true] }\n"
        "  - { name: chat, type: exec, argv: [/bin/true] }\n"
        "teams:\n"
        "  - { name: web, notify: [chat] }\n"
        "  - { name: ops, notify: [log] }\n"
        "  - { name: dba }\n"
        "runbooks:\n"
        "  - { name: clean-tmp, steps: [{ run: [/bin/true] }] }\n"
        "  - { name: restart-web, steps: [{ run: [/bin/true] }] }\n"
        "routes:\n"
        "  - { match: '{severity=\"critical\"}', priority: P1, notifiers: [pager], continue: true "
        "}\n"
        "  - { match: '{alertname=~\"Disk.*\", env!=\"dev\"}', runbook: clean-tmp, team: ops, "
        "priority: P2 }\n"
        "  - { match: '{service=\"web\", instance!~\"test-.*\"}', runbook: restart-web, team: "
        "web, notifiers: [log, pager] }\n"
        "  - { match: '{service=\"db\"}', team: dba, priority: P4 }\n";

static void route_of(const struct config *c, const struct event *ev,
                     struct engine_route_result *res)
{
    engine_route(c, ev, res);
    assert_int_equal(res->n_tries, c->n_routes);
}

/* The outcome of each route, as a string: "m" matched, "-" no match, "." not tried. */
static void expect_outcomes(const struct engine_route_result *res, const char *want)
{
    char got[16] = "";
    for (size_t i = 0; i < res->n_tries && i < sizeof(got) - 1; i++)
        got[i] = res->tries[i].outcome == ENGINE_ROUTE_MATCHED    ? 'm'
                 : res->tries[i].outcome == ENGINE_ROUTE_NO_MATCH ? '-'
                                                                  : '.';
    assert_string_equal(got, want);
}

static void test_engine_route_matcher_operators(void **state)
{
    (void)state;
    struct config *c = load(routes_yaml);
    struct engine_route_result res;
    struct event ev;

    /* =~ is anchored: "Disk.*" matches DiskFull, not MyDiskFull; != accepts a missing env. */
    EV(&ev, "alertname", "DiskFull");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "-m..");
    assert_string_equal(res.runbook->name, "clean-tmp");
    engine_route_result_fini(&res);
    event_fini(&ev);

    EV(&ev, "alertname", "MyDiskFull");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "----");
    assert_string_equal(res.tries[1].why,
                        "alertname=\"MyDiskFull\" does not match alertname=~\"Disk.*\"");
    engine_route_result_fini(&res);
    event_fini(&ev);

    /* != refuses the value it names. */
    EV(&ev, "alertname", "DiskFull", "env", "dev");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "----");
    assert_string_equal(res.tries[1].why, "env=\"dev\" does not match env!=\"dev\"");
    engine_route_result_fini(&res);
    event_fini(&ev);

    /* !~ is anchored too: test-1 is refused, my-test-1 is not. */
    EV(&ev, "service", "web", "instance", "test-1");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "----");
    assert_string_equal(res.tries[2].why,
                        "instance=\"test-1\" does not match instance!~\"test-.*\"");
    engine_route_result_fini(&res);
    event_fini(&ev);

    EV(&ev, "service", "web", "instance", "my-test-1");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "--m.");
    engine_route_result_fini(&res);
    event_fini(&ev);

    /* = with a missing label, and every refusing matcher named. */
    EV(&ev, "service", "db");
    route_of(c, &ev, &res);
    assert_string_equal(res.tries[0].why,
                        "severity (not set) does not match severity=\"critical\"");
    assert_string_equal(res.tries[1].why,
                        "alertname (not set) does not match alertname=~\"Disk.*\"");
    assert_string_equal(res.tries[2].why, "service=\"db\" does not match service=\"web\"");
    assert_string_equal(res.tries[3].why, "matches");
    engine_route_result_fini(&res);
    event_fini(&ev);

    EV(&ev, "service", "api", "alertname", "Oops");
    route_of(c, &ev, &res);
    assert_string_equal(res.tries[1].why,
                        "alertname=\"Oops\" does not match alertname=~\"Disk.*\"");
    engine_route_result_fini(&res);
    event_fini(&ev);
    config_unref(c);
}

static void test_engine_route_first_match_wins(void **state)
{
    (void)state;
    struct config *c = load(routes_yaml);
    struct engine_route_result res;
    struct event ev;
    /* A web disk alert matches routes 2 and 3: the first one takes it, 3 is not tried. */
    EV(&ev, "service", "web", "alertname", "DiskFull", "instance", "web-01");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "-m..");
    assert_true(res.matched);
    assert_string_equal(res.runbook->name, "clean-tmp");
    assert_int_equal(res.runbook_route, 2);
    assert_string_equal(res.team->name, "ops");
    assert_int_equal(res.priority, 2);
    assert_int_equal(res.priority_route, 2);
    assert_int_equal(res.n_notifiers, 0);
    assert_string_equal(res.tries[2].why, "not tried: an earlier route matched without continue");
    engine_route_result_fini(&res);
    event_fini(&ev);
    config_unref(c);
}

static void test_engine_route_continue_adds_and_fills(void **state)
{
    (void)state;
    struct config *c = load(routes_yaml);
    struct engine_route_result res;
    struct event ev;
    /* Route 1 (continue) sets P1 and pager; route 3 fills runbook and team, adds log. */
    EV(&ev, "service", "web", "severity", "critical", "instance", "web-01");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "m-m.");
    assert_string_equal(res.tries[0].why, "matches; continue: the routes after it are tried too");
    assert_int_equal(res.priority, 1);
    assert_int_equal(res.priority_route, 1);
    assert_string_equal(res.runbook->name, "restart-web");
    assert_int_equal(res.runbook_route, 3);
    assert_string_equal(res.team->name, "web");
    assert_int_equal(res.team_route, 3);
    /* pager from route 1, then log from route 3; route 3's pager is not listed twice. */
    assert_int_equal(res.n_notifiers, 2);
    assert_string_equal(res.notifiers[0]->name, "pager");
    assert_string_equal(res.notifiers[1]->name, "log");
    engine_route_result_fini(&res);
    event_fini(&ev);

    /* Route 1 alone: the rest do not match, yet the event matched a route. */
    EV(&ev, "severity", "critical", "service", "mail");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "m---");
    assert_true(res.matched);
    assert_null(res.runbook);
    assert_null(res.team);
    assert_int_equal(res.priority, 1);
    engine_route_result_fini(&res);
    event_fini(&ev);
    config_unref(c);
}

static void test_engine_route_default(void **state)
{
    (void)state;
    struct config *c = load(routes_yaml);
    struct engine_route_result res;
    struct event ev;
    /* Nothing matches: no runbook, team or notifiers; the matrix (medium impact) decides. */
    EV(&ev, "service", "mail");
    route_of(c, &ev, &res);
    expect_outcomes(&res, "----");
    assert_false(res.matched);
    assert_null(res.runbook);
    assert_null(res.team);
    assert_int_equal(res.n_notifiers, 0);
    assert_int_equal(res.priority_route, 0);
    assert_int_equal(res.priority, 3); /* medium impact, warning: medium urgency */
    engine_route_result_fini(&res);
    ev.severity = INCIDENT_SEVERITY_CRITICAL;
    route_of(c, &ev, &res);
    assert_int_equal(res.priority, 2);
    engine_route_result_fini(&res);
    event_fini(&ev);

    /* A route that sets no priority leaves it to the matrix, which may be the config's own. */
    EV(&ev, "service", "web", "instance", "web-01");
    route_of(c, &ev, &res);
    assert_true(res.matched);
    assert_int_equal(res.priority_route, 0);
    assert_int_equal(res.priority, 3);
    engine_route_result_fini(&res);
    event_fini(&ev);
    config_unref(c);

    c = load("incidents: { priority: { medium: [P1, P1, P5] } }\n");
    assert_int_equal(c->n_routes, 0);
    EV(&ev, "service", "web");
    route_of(c, &ev, &res);
    assert_false(res.matched);
    assert_int_equal(res.priority, 1);
    engine_route_result_fini(&res);
    ev.severity = INCIDENT_SEVERITY_INFO;
    route_of(c, &ev, &res);
    assert_int_equal(res.priority, 5);
    engine_route_result_fini(&res);
    event_fini(&ev);
    config_unref(c);
}

/* ---- a desk, simulated: applies decisions as the real one will ---- */

#define DESK_MAX 64

struct desk {
    const struct config *c;
    struct engine_open_incident inc[DESK_MAX];
    char service[DESK_MAX][32];
    size_t n_inc;
    struct engine_open_event ev[DESK_MAX * 4];
    size_t n_ev;
    struct silence *silences;
    size_t n_silences;
    int64_t next_id;
    unsigned count[ENGINE_SILENCED + 1];
    unsigned resolved; /* incidents resolved */
};

static void desk_init(struct desk *d, const struct config *c)
{
    memset(d, 0, sizeof(*d));
    d->c = c;
    d->next_id = 1;
}

static struct engine_open_incident *desk_incident(struct desk *d, int64_t id)
{
    for (size_t i = 0; i < d->n_inc; i++)
        if (d->inc[i].id == id)
            return &d->inc[i];
    fail_msg("incident %lld is not open", (long long)id);
    return NULL;
}

static void desk_set_service(struct desk *d, struct engine_open_incident *inc, const char *s)
{
    size_t i = (size_t)(inc - d->inc);
    snprintf(d->service[i], sizeof(d->service[i]), "%s", s ? s : "");
    inc->service = s ? d->service[i] : NULL;
}

static void desk_hold(struct desk *d, uint64_t fp, int64_t id)
{
    assert_true(d->n_ev < DESK_MAX * 4);
    d->ev[d->n_ev++] = (struct engine_open_event){.fingerprint = fp, .incident_id = id};
}

static void desk_adopt(struct desk *d, const struct engine_decision *dec, int64_t root)
{
    for (size_t i = 0; i < dec->n_adopt; i++) {
        assert_true(dec->adopt[i] != root);
        desk_incident(d, dec->adopt[i])->symptom_of = root;
    }
}

static void desk_resolve(struct desk *d, const struct engine_decision *dec)
{
    for (size_t i = 0; i < d->n_ev; i++) {
        if (d->ev[i].fingerprint == dec->fingerprint) {
            d->ev[i] = d->ev[--d->n_ev];
            break;
        }
    }
    if (!dec->resolves_incident)
        return;
    struct engine_open_incident *inc = desk_incident(d, dec->incident_id);
    size_t at = (size_t)(inc - d->inc);
    for (size_t i = 0; i < d->n_inc; i++) /* its symptoms stand alone again */
        if (d->inc[i].symptom_of == inc->id)
            d->inc[i].symptom_of = 0;
    d->inc[at] = d->inc[d->n_inc - 1];
    memcpy(d->service[at], d->service[d->n_inc - 1], sizeof(d->service[at]));
    if (d->inc[at].service)
        d->inc[at].service = d->service[at];
    d->n_inc--;
    d->resolved++;
}

static void desk_apply(struct desk *d, const struct event *ev, const struct engine_decision *dec,
                       int64_t now_ms)
{
    const char *service = labels_get(&ev->labels, ENGINE_SERVICE_LABEL);
    d->count[dec->verdict]++;
    switch (dec->verdict) {
    case ENGINE_NEW: {
        assert_true(d->n_inc < DESK_MAX);
        struct engine_open_incident *inc = &d->inc[d->n_inc++];
        *inc = (struct engine_open_incident){.id = d->next_id++, .opened_ms = now_ms};
        desk_set_service(d, inc, service);
        desk_hold(d, dec->fingerprint, inc->id);
        desk_adopt(d, dec, inc->id);
        break;
    }
    case ENGINE_JOIN:
    case ENGINE_SYMPTOM:
        desk_hold(d, dec->fingerprint, dec->incident_id);
        break;
    case ENGINE_ROOT_CAUSE:
        desk_hold(d, dec->fingerprint, dec->incident_id);
        desk_set_service(d, desk_incident(d, dec->incident_id), service);
        desk_adopt(d, dec, dec->incident_id);
        break;
    case ENGINE_RESOLVE:
        desk_resolve(d, dec);
        break;
    case ENGINE_DUPLICATE:
    case ENGINE_IGNORE:
    case ENGINE_SILENCED:
        break;
    }
}

static void desk_view(const struct desk *d, struct engine_view *v)
{
    *v = (struct engine_view){d->inc, d->n_inc, d->ev, d->n_ev, d->silences, d->n_silences, NULL};
}

/* Decides ev at now_ms against the desk, applies it, returns the decision (fini it). */
static void desk_event(struct desk *d, const struct event *ev, int64_t now_ms,
                       struct engine_decision *ret)
{
    struct engine_view v;
    desk_view(d, &v);
    engine_decide(d->c, ev, &v, now_ms, ret);
    assert_non_null(ret->reason);
    desk_apply(d, ev, ret, now_ms);
}

/* Sends labels kv (firing, or resolved when resolved is set) and checks the verdict. */
static int64_t send(struct desk *d, int64_t now_ms, bool resolved, enum engine_verdict want,
                    const char *reason, const char *const *kv)
{
    struct event ev;
    event_of(&ev, kv);
    if (resolved)
        ev.status = EVENT_RESOLVED;
    struct engine_decision dec;
    desk_event(d, &ev, now_ms, &dec);
    if (dec.verdict != want)
        print_message("got %s (%s), want %s\n", engine_verdict_name(dec.verdict), dec.reason,
                      engine_verdict_name(want));
    assert_int_equal(dec.verdict, want);
    if (reason)
        assert_string_equal(dec.reason, reason);
    int64_t id = dec.verdict == ENGINE_NEW ? d->next_id - 1 : dec.incident_id;
    engine_decision_fini(&dec);
    event_fini(&ev);
    return id;
}

#define FIRE(d, t, want, reason, ...) \
    send((d), (t), false, (want), (reason), (const char *const[]){__VA_ARGS__, NULL})
#define RESOLVE(d, t, want, reason, ...) \
    send((d), (t), true, (want), (reason), (const char *const[]){__VA_ARGS__, NULL})

static const char graph_yaml[] = "engine: { group_window: 5m }\n"
                                 "services:\n"
                                 "  - { name: db }\n"
                                 "  - { name: api, depends_on: [db] }\n"
                                 "  - { name: web, depends_on: [api] }\n"
                                 "  - { name: admin, depends_on: [db] }\n"
                                 "  - { name: cache-a }\n"
                                 "  - { name: cache-b }\n"
                                 "  - { name: shop, depends_on: { any_of: [cache-a, cache-b] } }\n"
                                 "  - { name: report, depends_on: [shop] }\n";

#define T0  1800000000000LL /* 2027-01-15 */
#define SEC 1000LL
#define MIN (60 * SEC)

/* ---- dedup and resolution ---- */

static void test_engine_decide_dedup(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t id = FIRE(&d, T0, ENGINE_NEW, "new incident", "alertname", "Down", "service", "mail");
    char fp[ENGINE_FINGERPRINT_MAX];
    engine_fingerprint_format(FP(NULL, "alertname", "Down", "service", "mail"), fp);
    char want[128];
    snprintf(want, sizeof(want), "duplicate: fingerprint %s is firing on incident %lld already", fp,
             (long long)id);
    /* The same labels in another order, an hour later: still the same event. */
    assert_int_equal(
            FIRE(&d, T0 + 60 * MIN, ENGINE_DUPLICATE, want, "service", "mail", "alertname", "Down"),
            id);
    /* Annotations do not change what an event is. */
    struct event ev;
    EV(&ev, "alertname", "Down", "service", "mail");
    labels_set(&ev.annotations, "summary", "different words", NULL);
    struct engine_decision dec;
    desk_event(&d, &ev, T0 + 61 * MIN, &dec);
    assert_int_equal(dec.verdict, ENGINE_DUPLICATE);
    engine_decision_fini(&dec);
    event_fini(&ev);
    assert_int_equal(d.n_inc, 1);
    assert_int_equal(d.count[ENGINE_DUPLICATE], 2);
    config_unref(c);
}

static void test_engine_decide_resolve(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t id = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "service", "mail");
    FIRE(&d, T0 + SEC, ENGINE_JOIN, NULL, "alertname", "Slow", "service", "mail");
    /* One of two events over: the incident stays open. */
    char want[128];
    snprintf(want, sizeof(want), "resolved on incident %lld; 1 of its events is still firing",
             (long long)id);
    RESOLVE(&d, T0 + 2 * SEC, ENGINE_RESOLVE, want, "alertname", "Down", "service", "mail");
    assert_int_equal(d.resolved, 0);
    snprintf(want, sizeof(want), "resolves incident %lld: none of its events is firing any more",
             (long long)id);
    RESOLVE(&d, T0 + 3 * SEC, ENGINE_RESOLVE, want, "alertname", "Slow", "service", "mail");
    assert_int_equal(d.resolved, 1);
    assert_int_equal(d.n_inc, 0);
    /* Resolved again, or never seen: nothing to do. */
    RESOLVE(&d, T0 + 4 * SEC, ENGINE_IGNORE, NULL, "alertname", "Slow", "service", "mail");
    RESOLVE(&d, T0 + 4 * SEC, ENGINE_IGNORE, NULL, "alertname", "Never", "service", "mail");
    /* After the resolution the same event opens a new incident. */
    assert_true(FIRE(&d, T0 + 5 * SEC, ENGINE_NEW, NULL, "alertname", "Down", "service", "mail") !=
                id);
    config_unref(c);
}

static void test_engine_decide_fingerprint_labels(void **state)
{
    (void)state;
    struct config *c = load("engine: { fingerprint_labels: [alertname, instance] }\n");
    struct desk d;
    desk_init(&d, c);
    int64_t id = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "instance", "a", "pod", "p-1");
    /* Another pod is the same event: pod does not identify it. */
    assert_int_equal(FIRE(&d, T0 + SEC, ENGINE_DUPLICATE, NULL, "alertname", "Down", "instance",
                          "a", "pod", "p-2"),
                     id);
    FIRE(&d, T0 + SEC, ENGINE_NEW, NULL, "alertname", "Down", "instance", "b", "pod", "p-1");
    RESOLVE(&d, T0 + 2 * SEC, ENGINE_RESOLVE, NULL, "alertname", "Down", "instance", "a", "pod",
            "p-3");
    config_unref(c);
}

/* ---- silences ---- */

static void test_engine_decide_silenced(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    struct silence s[2];
    silence_init(&s[0]);
    s[0].id = 7;
    assert_int_equal(silence_matchers_set(&s[0], "service=mail", NULL), 0);
    s[0].starts_ms = T0;
    s[0].ends_ms = T0 + 60 * MIN;
    free(s[0].comment);
    s[0].comment = strdup("mail server upgrade");
    silence_init(&s[1]);
    s[1].id = 8;
    assert_int_equal(silence_matchers_set(&s[1], "service=db", NULL), 0);
    s[1].ends_ms = T0 - MIN; /* expired */
    d.silences = s;
    d.n_silences = 2;

    /* Already open before the silence: its duplicates are still counted on it. */
    int64_t id = FIRE(&d, T0 - SEC, ENGINE_NEW, NULL, "alertname", "Down", "service", "mail");
    assert_int_equal(
            FIRE(&d, T0 + SEC, ENGINE_DUPLICATE, NULL, "alertname", "Down", "service", "mail"), id);
    /* A new event of the silenced service opens nothing, joins nothing. */
    FIRE(&d, T0 + SEC, ENGINE_SILENCED,
         "silenced by silence 7 {service=\"mail\"}: mail server upgrade", "alertname", "Queue",
         "service", "mail");
    assert_int_equal(d.n_inc, 1);
    assert_int_equal(d.n_ev, 1);
    /* A resolution is never held back. */
    RESOLVE(&d, T0 + 2 * SEC, ENGINE_RESOLVE, NULL, "alertname", "Down", "service", "mail");
    /* The expired silence holds nothing back; neither does the first once it ends. */
    FIRE(&d, T0 + 3 * SEC, ENGINE_NEW, NULL, "alertname", "Down", "service", "db");
    FIRE(&d, T0 + 60 * MIN, ENGINE_NEW, NULL, "alertname", "Queue", "service", "mail");
    silence_fini(&s[0]);
    silence_fini(&s[1]);
    config_unref(c);
}

/* A silence bound to an incident holds events back only while the incident is open. */
static void test_engine_decide_bound_silence_lasts_while_its_incident_is_open(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t id = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "service", "cache-a");
    struct silence s;
    silence_init(&s);
    s.id = 9;
    assert_int_equal(silence_matchers_set(&s, "service=mail", NULL), 0);
    s.incident_id = id; /* no end of its own: nothing but the incident ends it */
    d.silences = &s;
    d.n_silences = 1;
    FIRE(&d, T0 + SEC, ENGINE_SILENCED, NULL, "alertname", "Queue", "service", "mail");
    RESOLVE(&d, T0 + 2 * SEC, ENGINE_RESOLVE, NULL, "alertname", "Down", "service", "cache-a");
    /* Nobody recorded its end (a write still on the way, or failed): it holds nothing back. */
    FIRE(&d, T0 + 3 * SEC, ENGINE_NEW, NULL, "alertname", "Queue", "service", "mail");
    silence_fini(&s);
    config_unref(c);
}

/* ---- correlation ---- */

static void test_engine_decide_group_window_joins(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t id = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "service", "mail", "instance",
                      "m1");
    char want[128];
    snprintf(want, sizeof(want),
             "joins incident %lld: service mail opened it within the 5m group window",
             (long long)id);
    assert_int_equal(FIRE(&d, T0 + 4 * MIN, ENGINE_JOIN, want, "alertname", "Down", "service",
                          "mail", "instance", "m2"),
                     id);
    /* Past the window: a new incident; the joined event is still a duplicate. */
    int64_t id2 = FIRE(&d, T0 + 5 * MIN, ENGINE_NEW, NULL, "alertname", "Down", "service", "mail",
                       "instance", "m3");
    assert_int_equal(FIRE(&d, T0 + 9 * MIN, ENGINE_DUPLICATE, NULL, "alertname", "Down", "service",
                          "mail", "instance", "m2"),
                     id);
    /* Within the second one's window, the latest incident of the service takes it. */
    assert_int_equal(FIRE(&d, T0 + 6 * MIN, ENGINE_JOIN, NULL, "alertname", "Down", "service",
                          "mail", "instance", "m4"),
                     id2);
    /* No service label: never joined. */
    FIRE(&d, T0 + 6 * MIN, ENGINE_NEW, NULL, "alertname", "Down");
    FIRE(&d, T0 + 6 * MIN, ENGINE_NEW, NULL, "alertname", "Up");
    config_unref(c);

    /* A group window of 0 joins nothing. */
    c = load("engine: { group_window: 0 }\n");
    desk_init(&d, c);
    FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "A", "service", "mail");
    FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "B", "service", "mail");
    config_unref(c);
}

static void test_engine_decide_symptom_upstream_first(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t db = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "service", "db");
    char want[160];
    /* Transitively: web depends on api, which depends on db; api has no incident. */
    snprintf(want, sizeof(want),
             "symptom of incident %lld: web depends on db (web -> api -> db), which is down",
             (long long)db);
    assert_int_equal(
            FIRE(&d, T0 + 10 * MIN, ENGINE_SYMPTOM, want, "alertname", "5xx", "service", "web"),
            db);
    snprintf(want, sizeof(want), "symptom of incident %lld: admin depends on db, which is down",
             (long long)db);
    FIRE(&d, T0 + 11 * MIN, ENGINE_SYMPTOM, want, "alertname", "Slow", "service", "admin");
    assert_int_equal(d.n_inc, 1);
    /* The symptom again is a duplicate on the same incident. */
    assert_int_equal(
            FIRE(&d, T0 + 12 * MIN, ENGINE_DUPLICATE, NULL, "alertname", "5xx", "service", "web"),
            db);
    /* A symptom recovering does not resolve the root cause's incident... */
    RESOLVE(&d, T0 + 13 * MIN, ENGINE_RESOLVE, NULL, "alertname", "5xx", "service", "web");
    assert_int_equal(d.resolved, 0);
    /* ... nor does the root cause while a symptom still fires: nothing is forgotten. */
    RESOLVE(&d, T0 + 14 * MIN, ENGINE_RESOLVE, NULL, "alertname", "Down", "service", "db");
    assert_int_equal(d.resolved, 0);
    RESOLVE(&d, T0 + 15 * MIN, ENGINE_RESOLVE, NULL, "alertname", "Slow", "service", "admin");
    assert_int_equal(d.resolved, 1);
    /* With db up, web's failure is its own; cache-a's has nothing to do with it. */
    int64_t web = FIRE(&d, T0 + 16 * MIN, ENGINE_NEW, NULL, "alertname", "5xx", "service", "web");
    FIRE(&d, T0 + 16 * MIN, ENGINE_NEW, NULL, "alertname", "Down", "service", "cache-a");
    /* db failing right after web names db as web's root cause; cache-a's stays apart. */
    assert_int_equal(
            FIRE(&d, T0 + 17 * MIN, ENGINE_ROOT_CAUSE, NULL, "alertname", "Down", "service", "db"),
            web);
    assert_int_equal(d.n_inc, 2);
    config_unref(c);
}

static void test_engine_decide_root_cause_downstream_first(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t web = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "5xx", "service", "web");
    int64_t admin = FIRE(&d, T0 + SEC, ENGINE_NEW, NULL, "alertname", "Slow", "service", "admin");
    char want[200];
    /* db fails second: the first downstream incident names it as root cause, the other
     * downstream incident becomes a symptom of that one. */
    snprintf(want, sizeof(want),
             "probable root cause of incident %lld: web depends on db, which failed within the "
             "group window; incident %lld of services that depend on db becomes its symptoms",
             (long long)web, (long long)admin);
    struct event ev;
    EV(&ev, "alertname", "Down", "service", "db");
    struct engine_decision dec;
    desk_event(&d, &ev, T0 + 2 * SEC, &dec);
    assert_int_equal(dec.verdict, ENGINE_ROOT_CAUSE);
    assert_string_equal(dec.reason, want);
    assert_int_equal(dec.incident_id, web);
    assert_string_equal(dec.service, "web");
    assert_int_equal(dec.n_adopt, 1);
    assert_int_equal(dec.adopt[0], admin);
    assert_int_equal(dec.route.n_tries, 0); /* routed: this config has no routes */
    engine_decision_fini(&dec);
    event_fini(&ev);
    assert_string_equal(desk_incident(&d, web)->service, "db");
    assert_int_equal(desk_incident(&d, admin)->symptom_of, web);
    /* From now on, api's failure is a symptom of that incident, db's repeat a duplicate. */
    FIRE(&d, T0 + 3 * SEC, ENGINE_SYMPTOM, NULL, "alertname", "Err", "service", "api");
    assert_int_equal(
            FIRE(&d, T0 + 4 * SEC, ENGINE_DUPLICATE, NULL, "alertname", "Down", "service", "db"),
            web);
    assert_int_equal(d.count[ENGINE_NEW], 2);
    config_unref(c);
}

static void test_engine_decide_upstream_adopts_older_incidents(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t web = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "5xx", "service", "web");
    int64_t admin = FIRE(&d, T0 + MIN, ENGINE_NEW, NULL, "alertname", "Slow", "service", "admin");
    int64_t other = FIRE(&d, T0 + MIN, ENGINE_NEW, NULL, "alertname", "Down", "service", "cache-a");
    /* Past the group window db opens its own incident, and the open downstream ones
     * become its symptoms: the root cause moves upstream. */
    struct event ev;
    EV(&ev, "alertname", "Down", "service", "db");
    struct engine_decision dec;
    desk_event(&d, &ev, T0 + 30 * MIN, &dec);
    assert_int_equal(dec.verdict, ENGINE_NEW);
    assert_int_equal(dec.n_adopt, 2);
    assert_int_equal(dec.adopt[0], web);
    assert_int_equal(dec.adopt[1], admin);
    engine_decision_fini(&dec);
    event_fini(&ev);
    int64_t db = d.next_id - 1;
    assert_int_equal(desk_incident(&d, web)->symptom_of, db);
    assert_int_equal(desk_incident(&d, admin)->symptom_of, db);
    assert_int_equal(desk_incident(&d, other)->symptom_of, 0);
    config_unref(c);
}

static void test_engine_decide_symptoms_follow_the_root(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    /* web opens; api, its upstream, fails later: web's incident becomes api's symptom. */
    int64_t web = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "5xx", "service", "web");
    int64_t api = FIRE(&d, T0 + 10 * MIN, ENGINE_NEW, NULL, "alertname", "Err", "service", "api");
    assert_int_equal(desk_incident(&d, web)->symptom_of, api);
    /* Then db: both move under db's incident, the symptom with its root (one level). */
    struct event ev;
    EV(&ev, "alertname", "Down", "service", "db");
    struct engine_decision dec;
    desk_event(&d, &ev, T0 + 30 * MIN, &dec);
    assert_int_equal(dec.verdict, ENGINE_NEW);
    assert_int_equal(dec.n_adopt, 2);
    assert_int_equal(dec.adopt[0], api);
    assert_int_equal(dec.adopt[1], web);
    engine_decision_fini(&dec);
    event_fini(&ev);
    /* An event of web, whose upstream api has an incident that is db's symptom: db's. */
    int64_t db = d.next_id - 1;
    assert_int_equal(
            FIRE(&d, T0 + 31 * MIN, ENGINE_SYMPTOM, NULL, "alertname", "Slow", "service", "web"),
            db);
    config_unref(c);
}

static void test_engine_decide_any_of_parents(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    int64_t a = FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "service", "cache-a");
    /* One redundant parent down: shop has another, so its failure is its own. */
    int64_t shop =
            FIRE(&d, T0 + 10 * MIN, ENGINE_NEW, NULL, "alertname", "Slow", "service", "shop");
    RESOLVE(&d, T0 + 11 * MIN, ENGINE_RESOLVE, NULL, "alertname", "Slow", "service", "shop");
    (void)shop;
    int64_t b =
            FIRE(&d, T0 + 20 * MIN, ENGINE_NEW, NULL, "alertname", "Down", "service", "cache-b");
    assert_true(b != a);
    /* Both down: shop is a symptom, of the earlier incident. */
    char want[160];
    snprintf(want, sizeof(want),
             "symptom of incident %lld: shop needs one of cache-a, cache-b and none of them is up",
             (long long)a);
    assert_int_equal(
            FIRE(&d, T0 + 21 * MIN, ENGINE_SYMPTOM, want, "alertname", "Slow", "service", "shop"),
            a);
    /* Transitively: report needs shop, which needs any cache. */
    snprintf(want, sizeof(want),
             "symptom of incident %lld: report depends on cache-a (report -> shop -> cache-a), "
             "which is down",
             (long long)a);
    FIRE(&d, T0 + 22 * MIN, ENGINE_SYMPTOM, want, "alertname", "Late", "service", "report");
    /* cache-a recovers: report and shop alert again as their own. */
    RESOLVE(&d, T0 + 23 * MIN, ENGINE_RESOLVE, NULL, "alertname", "Down", "service", "cache-a");
    RESOLVE(&d, T0 + 23 * MIN, ENGINE_RESOLVE, NULL, "alertname", "Slow", "service", "shop");
    RESOLVE(&d, T0 + 23 * MIN, ENGINE_RESOLVE, NULL, "alertname", "Late", "service", "report");
    FIRE(&d, T0 + 24 * MIN, ENGINE_NEW, NULL, "alertname", "Late", "service", "report");
    config_unref(c);
}

static void test_engine_decide_any_of_second_parent_takes_over(void **state)
{
    (void)state;
    struct config *c = load(graph_yaml);
    struct desk d;
    desk_init(&d, c);
    FIRE(&d, T0, ENGINE_NEW, NULL, "alertname", "Down", "service", "cache-a");
    int64_t shop =
            FIRE(&d, T0 + 10 * MIN, ENGINE_NEW, NULL, "alertname", "Slow", "service", "shop");
    /* cache-b fails right after shop: now shop has no parent up, cache-b is its cause. */
    assert_int_equal(FIRE(&d, T0 + 11 * MIN, ENGINE_ROOT_CAUSE, NULL, "alertname", "Down",
                          "service", "cache-b"),
                     shop);
    config_unref(c);
}

/* ---- scenarios: one outage, a thousand events in random orders ---- */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: reproducible orders from a seed */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

#define N_DEPENDENTS 20
#define N_EVENTS     1000

struct outage {
    char names[N_DEPENDENTS + 1][3][24]; /* alertname, instance, service per source */
};

/* Source 0 is db; sources 1..20 are the dependents, as one service or twenty. */
static void outage_init(struct outage *o, bool one_service)
{
    snprintf(o->names[0][0], 24, "DbDown");
    snprintf(o->names[0][1], 24, "db-1");
    snprintf(o->names[0][2], 24, "db");
    for (int i = 1; i <= N_DEPENDENTS; i++) {
        snprintf(o->names[i][0], 24, "Http5xx");
        snprintf(o->names[i][1], 24, "web-%02d", i);
        if (one_service)
            snprintf(o->names[i][2], 24, "web");
        else
            snprintf(o->names[i][2], 24, "web-%02d", i);
    }
}

/* A random order of N_EVENTS events in which each source fires at least once. */
static void outage_order(uint64_t seed, int *order)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < N_EVENTS; i++)
        order[i] = i <= N_DEPENDENTS ? i : (int)(rng_next(&s) % (N_DEPENDENTS + 1));
    for (int i = N_EVENTS - 1; i > 0; i--) {
        int j = (int)(rng_next(&s) % (uint64_t)(i + 1));
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void outage_replay(struct desk *d, const struct outage *o, const int *order,
                          int *ret_first_db)
{
    bool seen[N_DEPENDENTS + 1] = {false};
    *ret_first_db = -1;
    for (int i = 0; i < N_EVENTS; i++) {
        const int src = order[i];
        struct event ev;
        EV(&ev, "alertname", o->names[src][0], "instance", o->names[src][1], "service",
           o->names[src][2]);
        struct engine_decision dec;
        /* 100 ms apart: the whole outage fits in the 5m group window */
        desk_event(d, &ev, T0 + i * 100, &dec);
        /* What a repeat must be, whatever the order: a duplicate. */
        if (seen[src] && dec.verdict != ENGINE_DUPLICATE)
            fail_msg("event %d (%s) seen before, got %s: %s", i, o->names[src][1],
                     engine_verdict_name(dec.verdict), dec.reason);
        if (src == 0 && *ret_first_db < 0)
            *ret_first_db = i;
        seen[src] = true;
        engine_decision_fini(&dec);
        event_fini(&ev);
    }
}

/* The outage is one root incident, about db, holding every source's event. */
static void outage_check_one_root(const struct desk *d)
{
    const struct engine_open_incident *root = NULL;
    for (size_t i = 0; i < d->n_inc; i++) {
        if (d->inc[i].symptom_of)
            continue;
        assert_null(root);
        root = &d->inc[i];
    }
    assert_non_null(root);
    assert_string_equal(root->service, "db");
    for (size_t i = 0; i < d->n_inc; i++)
        if (d->inc[i].symptom_of)
            assert_int_equal(d->inc[i].symptom_of, root->id);
    assert_int_equal(d->n_ev, N_DEPENDENTS + 1);
}

static void test_engine_scenario_one_upstream_twenty_instances(void **state)
{
    (void)state;
    struct config *c = load("services:\n"
                            "  - { name: db }\n"
                            "  - { name: web, depends_on: [db] }\n");
    struct outage o;
    outage_init(&o, true);
    int order[N_EVENTS];
    unsigned db_first = 0, db_later = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        outage_order(seed, order);
        struct desk d;
        desk_init(&d, c);
        int first_db;
        outage_replay(&d, &o, order, &first_db);
        /* Exactly one incident opened: db's, or the first web one, re-rooted on db. */
        assert_int_equal(d.count[ENGINE_NEW], 1);
        assert_int_equal(d.n_inc, 1);
        assert_int_equal(d.count[ENGINE_ROOT_CAUSE], first_db == 0 ? 0 : 1);
        assert_int_equal(d.count[ENGINE_NEW] + d.count[ENGINE_ROOT_CAUSE] + d.count[ENGINE_JOIN] +
                                 d.count[ENGINE_SYMPTOM] + d.count[ENGINE_DUPLICATE],
                         N_EVENTS);
        assert_int_equal(d.count[ENGINE_DUPLICATE], N_EVENTS - (N_DEPENDENTS + 1));
        outage_check_one_root(&d);
        if (first_db == 0)
            db_first++;
        else
            db_later++;
    }
    assert_true(db_later > 0); /* the orders covered the hard case */
    config_unref(c);
}

static void test_engine_scenario_one_upstream_twenty_services(void **state)
{
    (void)state;
    struct strbuf y;
    strbuf_init(&y, 0);
    strbuf_adds(&y, "services:\n  - { name: db }\n");
    for (int i = 1; i <= N_DEPENDENTS; i++)
        strbuf_addf(&y, "  - { name: web-%02d, depends_on: [db] }\n", i);
    struct config *c = load(y.s);
    strbuf_fini(&y);
    struct outage o;
    outage_init(&o, false);
    int order[N_EVENTS];
    bool db_first_seen = false;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        outage_order(seed, order);
        struct desk d;
        desk_init(&d, c);
        int first_db;
        outage_replay(&d, &o, order, &first_db);
        /* Dependents that failed before db was heard of opened their own incident each; the
         * first of them then took db as root cause and the others became its symptoms.
         * Those after db were symptoms at once. */
        bool before[N_DEPENDENTS + 1] = {false};
        unsigned n_before = 0;
        for (int i = 0; i < first_db; i++) {
            n_before += !before[order[i]];
            before[order[i]] = true;
        }
        assert_int_equal(d.count[ENGINE_NEW], n_before == 0 ? 1 : n_before);
        assert_int_equal(d.count[ENGINE_ROOT_CAUSE], n_before == 0 ? 0 : 1);
        assert_int_equal(d.count[ENGINE_SYMPTOM], N_DEPENDENTS - n_before);
        assert_int_equal(d.n_inc, n_before == 0 ? 1 : n_before);
        outage_check_one_root(&d);
        db_first_seen |= first_db == 0;
    }
    config_unref(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_engine_fingerprint_is_alertmanagers),
            cmocka_unit_test(test_engine_fingerprint_ignores_order),
            cmocka_unit_test(test_engine_fingerprint_of_a_subset),
            cmocka_unit_test(test_engine_event_fingerprint_takes_the_one_computed_ahead),
            cmocka_unit_test(test_engine_route_matcher_operators),
            cmocka_unit_test(test_engine_route_first_match_wins),
            cmocka_unit_test(test_engine_route_continue_adds_and_fills),
            cmocka_unit_test(test_engine_route_default),
            cmocka_unit_test(test_engine_decide_dedup),
            cmocka_unit_test(test_engine_decide_resolve),
            cmocka_unit_test(test_engine_decide_fingerprint_labels),
            cmocka_unit_test(test_engine_decide_silenced),
            cmocka_unit_test(test_engine_decide_bound_silence_lasts_while_its_incident_is_open),
            cmocka_unit_test(test_engine_decide_group_window_joins),
            cmocka_unit_test(test_engine_decide_symptom_upstream_first),
            cmocka_unit_test(test_engine_decide_root_cause_downstream_first),
            cmocka_unit_test(test_engine_decide_upstream_adopts_older_incidents),
            cmocka_unit_test(test_engine_decide_symptoms_follow_the_root),
            cmocka_unit_test(test_engine_decide_any_of_parents),
            cmocka_unit_test(test_engine_decide_any_of_second_parent_takes_over),
            cmocka_unit_test(test_engine_scenario_one_upstream_twenty_instances),
            cmocka_unit_test(test_engine_scenario_one_upstream_twenty_services),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
