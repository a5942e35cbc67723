/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/itsm/report*.c: the figures of the summary (counts, MTTA and
 * MTTR with the nearest-rank percentile, healed, top problems, availability
 * from hard state changes) and what the incident report and the summary
 * show in each format, escaping included.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "itsm/report.h"

#define SECOND  1000LL
#define MINUTE  (60 * SECOND)
#define HOUR    (60 * MINUTE)
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))
/* 2026-11-21T19:00:00.000Z */
#define T0      1795287600000LL

static struct incident incident_at(int64_t id, int64_t opened_ms)
{
    struct incident i = {0};
    i.id = id;
    i.title = "web-health is critical";
    i.priority = 3;
    i.opened_ms = opened_ms;
    i.updated_ms = opened_ms;
    return i;
}

static void compute(struct report_summary *s, const struct incident *v, size_t n)
{
    struct report_summary_input in = {
            .since_ms = T0 - 24 * HOUR, .now_ms = T0 + 24 * HOUR, .incidents = v, .n_incidents = n};
    report_summary_compute(&in, s);
}

static void test_report_format_parse_and_content_type(void **state)
{
    (void)state;
    enum report_format f = REPORT_FORMAT_JSON;
    assert_int_equal(report_format_parse("md", &f), 0);
    assert_int_equal(f, REPORT_FORMAT_MD);
    assert_int_equal(report_format_parse("html", &f), 0);
    assert_int_equal(f, REPORT_FORMAT_HTML);
    assert_int_equal(report_format_parse("json", &f), 0);
    assert_int_equal(f, REPORT_FORMAT_JSON);
    f = REPORT_FORMAT_HTML;
    assert_int_equal(report_format_parse("pdf", &f), -EINVAL);
    assert_int_equal(report_format_parse("", &f), -EINVAL);
    assert_int_equal(report_format_parse(NULL, &f), -EINVAL);
    assert_int_equal(f, REPORT_FORMAT_HTML); /* untouched on failure */
    assert_string_equal(report_format_content_type(REPORT_FORMAT_MD),
                        "text/markdown; charset=utf-8");
    assert_string_equal(report_format_content_type(REPORT_FORMAT_HTML), "text/html; charset=utf-8");
    assert_string_equal(report_format_content_type(REPORT_FORMAT_JSON), "application/json");
}

/* Acknowledged after 1, 2, 3, 4 and 10 min; resolved after 10x that. */
static void test_report_summary_mtta_mttr_nearest_rank(void **state)
{
    (void)state;
    static const int64_t ack_min[] = {4, 10, 1, 3, 2}; /* unsorted on purpose */
    struct incident v[7];
    for (size_t i = 0; i < 5; i++) {
        v[i] = incident_at((int64_t)i + 1, T0);
        v[i].acknowledged_ms = T0 + ack_min[i] * MINUTE;
        v[i].resolved_ms = T0 + 10 * ack_min[i] * MINUTE;
        v[i].resolved_by = "user:alice";
        v[i].state = INCIDENT_RESOLVED;
    }
    /* Neither acknowledged nor resolved: left out of both figures. */
    v[5] = incident_at(6, T0);
    v[6] = incident_at(7, T0 + HOUR);
    struct report_summary s;
    compute(&s, v, 7);
    assert_int_equal(s.total, 7);
    assert_int_equal(s.mtta.n, 5);
    assert_int_equal(s.mtta.median_ms, 3 * MINUTE);
    assert_int_equal(s.mtta.p90_ms, 10 * MINUTE); /* rank ceil(0.9 * 5) = 5 */
    assert_int_equal(s.mttr.n, 5);
    assert_int_equal(s.mttr.median_ms, 30 * MINUTE);
    assert_int_equal(s.mttr.p90_ms, 100 * MINUTE);
    assert_int_equal(s.resolved, 5);
    report_summary_fini(&s);
}

static void test_report_summary_percentiles_of_ten_and_four(void **state)
{
    (void)state;
    struct incident v[10];
    for (size_t i = 0; i < 10; i++) {
        v[i] = incident_at((int64_t)i + 1, T0);
        v[i].acknowledged_ms = T0 + (int64_t)(10 - i) * MINUTE; /* 10, 9, ..., 1 min */
    }
    struct report_summary s;
    compute(&s, v, 10);
    assert_int_equal(s.mtta.n, 10);
    assert_int_equal(s.mtta.median_ms, 5 * MINUTE); /* rank 5: the lower middle */
    assert_int_equal(s.mtta.p90_ms, 9 * MINUTE);    /* rank 9 */
    assert_int_equal(s.mttr.n, 0);
    report_summary_fini(&s);

    compute(&s, v + 6, 4); /* 4, 3, 2, 1 min */
    assert_int_equal(s.mtta.median_ms, 2 * MINUTE);
    assert_int_equal(s.mtta.p90_ms, 4 * MINUTE);
    report_summary_fini(&s);
}

static void test_report_summary_empty_period(void **state)
{
    (void)state;
    struct report_summary s;
    compute(&s, NULL, 0);
    assert_int_equal(s.total, 0);
    assert_int_equal(s.mtta.n, 0);
    assert_int_equal(s.mttr.n, 0);
    assert_int_equal(s.resolved, 0);
    assert_int_equal(s.healed, 0);
    assert_int_equal(s.n_teams, 0);
    assert_int_equal(s.n_top_problems, 0);
    assert_int_equal(s.n_availability, 0);
    for (int f = REPORT_FORMAT_MD; f <= REPORT_FORMAT_JSON; f++) {
        char *text = report_summary_render(&s, (enum report_format)f);
        assert_non_null(text);
        free(text);
    }
    report_summary_fini(&s);
    report_summary_fini(&s); /* a finished summary is zeroed */
}

static void test_report_summary_counts_and_teams(void **state)
{
    (void)state;
    struct incident v[7];
    static char *const teams[] = {"web", "db", NULL, "web", "db", "web", "api"};
    for (size_t i = 0; i < 7; i++) {
        v[i] = incident_at((int64_t)i + 1, T0);
        v[i].team = teams[i];
    }
    v[0].state = INCIDENT_RESOLVED;
    v[1].state = INCIDENT_CLOSED;
    v[2].state = INCIDENT_ACKNOWLEDGED;
    v[0].priority = 1;
    v[1].priority = 1;
    v[2].priority = 5;
    v[3].category = INCIDENT_CATEGORY_DATA;
    v[4].category = INCIDENT_CATEGORY_HARDWARE;
    struct report_summary s;
    compute(&s, v, 7);
    assert_int_equal(s.by_state[INCIDENT_NEW], 4);
    assert_int_equal(s.by_state[INCIDENT_ACKNOWLEDGED], 1);
    assert_int_equal(s.by_state[INCIDENT_IN_PROGRESS], 0);
    assert_int_equal(s.by_state[INCIDENT_RESOLVED], 1);
    assert_int_equal(s.by_state[INCIDENT_CLOSED], 1);
    assert_int_equal(s.by_priority[0], 2);
    assert_int_equal(s.by_priority[2], 4);
    assert_int_equal(s.by_priority[4], 1);
    assert_int_equal(s.by_category[INCIDENT_CATEGORY_NETWORK], 5);
    assert_int_equal(s.by_category[INCIDENT_CATEGORY_HARDWARE], 1);
    assert_int_equal(s.by_category[INCIDENT_CATEGORY_DATA], 1);
    /* Most incidents first; equal counts by name. */
    assert_int_equal(s.n_teams, 4);
    assert_string_equal(s.by_team[0].name, "web");
    assert_int_equal(s.by_team[0].n, 3);
    assert_string_equal(s.by_team[1].name, "db");
    assert_int_equal(s.by_team[1].n, 2);
    assert_string_equal(s.by_team[2].name, "(none)");
    assert_int_equal(s.by_team[2].n, 1);
    assert_string_equal(s.by_team[3].name, "api");
    assert_int_equal(s.by_team[3].n, 1);
    report_summary_fini(&s);
}

static void test_report_summary_healed_needs_hale_and_no_ack(void **state)
{
    (void)state;
    struct incident v[5];
    for (size_t i = 0; i < 5; i++)
        v[i] = incident_at((int64_t)i + 1, T0);
    v[0].resolved_ms = T0 + MINUTE; /* healed */
    v[0].resolved_by = "hale";
    v[1].resolved_ms = T0 + 2 * MINUTE; /* healed */
    v[1].resolved_by = "hale";
    v[2].resolved_ms = T0 + 3 * MINUTE; /* by a person */
    v[2].resolved_by = "user:alice";
    v[3].acknowledged_ms = T0 + MINUTE; /* somebody looked first */
    v[3].resolved_ms = T0 + 4 * MINUTE;
    v[3].resolved_by = "hale";
    /* v[4] is still open */
    struct report_summary s;
    compute(&s, v, 5);
    assert_int_equal(s.resolved, 4);
    assert_int_equal(s.healed, 2);
    report_summary_fini(&s);
}

static void test_report_summary_top_problems(void **state)
{
    (void)state;
    struct problem p[12] = {0};
    for (size_t i = 0; i < 12; i++) {
        p[i].id = (int64_t)i + 1;
        p[i].title = "web-health keeps failing";
        p[i].incidents = (unsigned)(i % 6) + 1; /* 1..6, twice */
    }
    struct report_summary_input in = {
            .since_ms = T0, .now_ms = T0 + HOUR, .problems = p, .n_problems = 12};
    struct report_summary s;
    report_summary_compute(&in, &s);
    assert_int_equal(s.n_top_problems, 10);
    assert_int_equal(s.top_problems[0]->id, 6); /* 6 incidents, lower id first */
    assert_int_equal(s.top_problems[1]->id, 12);
    assert_int_equal(s.top_problems[2]->incidents, 5);
    for (size_t i = 1; i < s.n_top_problems; i++)
        assert_true(s.top_problems[i - 1]->incidents >= s.top_problems[i]->incidents);
    assert_int_equal(s.top_problems[9]->incidents, 2);
    report_summary_fini(&s);
}

/* A 10 h period; returns the availability of check name "c" at index 0. */
static struct report_availability availability_of(const struct store_check_state *v, size_t n,
                                                  struct report_summary *s)
{
    static const char *const checks[] = {"c", "silent"};
    struct report_summary_input in = {.since_ms = T0,
                                      .now_ms = T0 + 10 * HOUR,
                                      .check_states = v,
                                      .n_check_states = n,
                                      .checks = checks,
                                      .n_checks = 2};
    report_summary_compute(&in, s);
    assert_int_equal(s->n_availability, 2);
    assert_string_equal(s->availability[0].check, "c");
    /* No change at all for "silent": unknown, never 100 % or 0 %. */
    assert_string_equal(s->availability[1].check, "silent");
    assert_true(s->availability[1].percent < 0);
    return s->availability[0];
}

static void test_report_summary_availability_in_window(void **state)
{
    (void)state;
    struct store_check_state v[] = {
            {"c", 0, T0 - 5 * HOUR}, /* ok before the period */
            {"other", 2, T0},        /* not a configured check */
            {"c", 2, T0 + 4 * HOUR}, /* critical for 1 h */
            {"c", 0, T0 + 5 * HOUR},
    };
    struct report_summary s;
    struct report_availability a = availability_of(v, N_OF(v), &s);
    assert_true(a.percent > 89.999 && a.percent < 90.001);
    assert_int_equal(a.down_ms, HOUR);
    report_summary_fini(&s);
}

/* The state before the period counts: critical since before it, ok 1 h in. */
static void test_report_summary_availability_state_before_window(void **state)
{
    (void)state;
    struct store_check_state v[] = {
            {"c", 0, T0 - 9 * HOUR},
            {"c", 2, T0 - 2 * HOUR},
            {"c", 0, T0 + HOUR},
    };
    struct report_summary s;
    struct report_availability a = availability_of(v, N_OF(v), &s);
    assert_true(a.percent > 89.999 && a.percent < 90.001);
    assert_int_equal(a.down_ms, HOUR);
    report_summary_fini(&s);
}

static void test_report_summary_availability_only_ok_counts(void **state)
{
    (void)state;
    /* Warning 2 h and unknown 3 h are not up; the order given does not matter. */
    struct store_check_state v[] = {
            {"c", 3, T0 + 7 * HOUR},
            {"c", 1, T0},
            {"c", 0, T0 + 2 * HOUR},
    };
    struct report_summary s;
    struct report_availability a = availability_of(v, N_OF(v), &s);
    assert_true(a.percent > 49.999 && a.percent < 50.001);
    assert_int_equal(a.down_ms, 5 * HOUR);
    report_summary_fini(&s);
}

static void test_report_summary_availability_counts_known_time_only(void **state)
{
    (void)state;
    /* First seen 5 h into the period, ok from then on: nothing before is known. */
    struct store_check_state v[] = {{"c", 0, T0 + 5 * HOUR}};
    struct report_summary s;
    struct report_availability a = availability_of(v, N_OF(v), &s);
    assert_true(a.percent > 99.999 && a.percent < 100.001);
    assert_int_equal(a.down_ms, 0);
    report_summary_fini(&s);

    /* Ok since before the period, no change within it: 100 %. */
    struct store_check_state w[] = {{"c", 0, T0 - HOUR}};
    a = availability_of(w, N_OF(w), &s);
    assert_true(a.percent > 99.999);
    report_summary_fini(&s);
}

/* ---- the incident report ---- */

struct fixture {
    struct incident inc;
    struct timeline_entry tl[7];
    struct problem problem;
    struct report_incident_input in;
};

/* Opened T0, acknowledged 4 min 12 s later, healed by a runbook at 12 min 30 s. */
static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    f->inc = incident_at(42, T0);
    f->inc.priority = 2;
    f->inc.severity = INCIDENT_SEVERITY_CRITICAL;
    f->inc.category = INCIDENT_CATEGORY_SOFTWARE;
    f->inc.team = "web";
    f->inc.check = "web-health";
    f->inc.state = INCIDENT_RESOLVED;
    f->inc.acknowledged_ms = T0 + 4 * MINUTE + 12 * SECOND;
    f->inc.resolved_ms = T0 + 12 * MINUTE + 30 * SECOND;
    f->inc.resolved_by = "hale";
    f->inc.root_cause = "nginx worker pool exhausted by a slow upstream";
    f->inc.problem_id = 3;
    static const struct {
        int64_t at;
        enum timeline_kind kind;
        char *actor, *text;
    } e[] = {
            {0, TIMELINE_EVENT, "check:web-health", "critical (hard): HTTP 503"},
            {4 * MINUTE + 12 * SECOND, TIMELINE_STATE, "user:alice", "new -> acknowledged"},
            {5 * MINUTE, TIMELINE_NOTE, "user:alice", "looking at the upstream"},
            {10 * MINUTE, TIMELINE_STEP_STARTED, "hale", "restart nginx"},
            {10 * MINUTE + SECOND, TIMELINE_STEP_OUTPUT, "hale", "Stopping nginx\nStarting nginx"},
            {10 * MINUTE + 2 * SECOND, TIMELINE_STEP_FINISHED, "hale", "ok (exit 0)"},
            {12 * MINUTE + 30 * SECOND, TIMELINE_STATE, "hale", "acknowledged -> resolved"},
    };
    for (size_t i = 0; i < N_OF(e); i++) {
        f->tl[i].id = (int64_t)i + 1;
        f->tl[i].incident_id = 42;
        f->tl[i].time_ms = T0 + e[i].at;
        f->tl[i].kind = e[i].kind;
        f->tl[i].actor = e[i].actor;
        f->tl[i].text = e[i].text;
    }
    f->problem.id = 3;
    f->problem.title = "web-health keeps failing";
    f->problem.state = PROBLEM_OPEN;
    f->problem.incidents = 4;
    f->in = (struct report_incident_input){.incident = &f->inc,
                                           .timeline = f->tl,
                                           .n_timeline = N_OF(e),
                                           .problem = &f->problem,
                                           .now_ms = T0 + 2 * HOUR};
}

/* Asserts each needle is in s, each after the previous one. */
static void assert_in_order(const char *s, const char *const *needles, size_t n)
{
    const char *at = s;
    for (size_t i = 0; i < n; i++) {
        const char *hit = strstr(at, needles[i]);
        if (!hit) {
            print_message("%s\n", s);
            fail_msg("\"%s\" missing (or out of order) in the text above", needles[i]);
        }
        at = hit + strlen(needles[i]);
    }
}

static void assert_contains(const char *s, const char *needle)
{
    if (!strstr(s, needle)) {
        print_message("%s\n", s);
        fail_msg("\"%s\" missing in the text above", needle);
    }
}

static void test_report_incident_md(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    char *md = report_incident(&f.in, REPORT_FORMAT_MD);
    assert_non_null(md);
    assert_true(strncmp(md, "# Incident 42 (P2, resolved): web-health is critical\n", 53) == 0);
    assert_contains(md, "| Time to acknowledge | 4 min 12 s |");
    assert_contains(md, "| Time to resolve | 12 min 30 s |");
    assert_contains(md, "Lasted 12 min 30 s");
    static const char *const order[] = {"critical (hard): HTTP 503",
                                        "new -> acknowledged",
                                        "looking at the upstream",
                                        "restart nginx",
                                        "Stopping nginx\n",
                                        "ok (exit 0)",
                                        "acknowledged -> resolved",
                                        "## Actions taken",
                                        "restart nginx",
                                        "Stopping nginx",
                                        "## Who did what",
                                        "## Root cause",
                                        "nginx worker pool exhausted by a slow upstream"};
    assert_in_order(md, order, N_OF(order));
    /* The step's output is a code block, inside its list item. */
    assert_contains(md, "  ```\n  Stopping nginx\n  Starting nginx\n  ```\n");
    assert_contains(md, "| hale | 4 | state 1, step_started 1, step_output 1, step_finished 1 |");
    assert_contains(md, "| user:alice | 2 | state 1, note 1 |");
    assert_contains(md, "hale: a runbook healed it.");
    assert_contains(md, "Problem 3: web-health keeps failing (open), 4 incidents so far.");
    free(md);
}

/* The follow-up says where the problem stands: its state, root cause and workaround. */
static void test_report_incident_shows_the_problem_worked(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.problem.state = PROBLEM_KNOWN_ERROR;
    f.problem.root_cause = "the pool is too small for the Monday peak";
    f.problem.workaround = "restart web at 08:55";
    char *md = report_incident(&f.in, REPORT_FORMAT_MD);
    static const char *const order[] = {
            "## Follow-ups",
            "Problem 3: web-health keeps failing (known_error), 4 incidents so far.",
            "The problem's root cause: the pool is too small for the Monday peak",
            "Workaround: restart web at 08:55"};
    assert_in_order(md, order, N_OF(order));
    free(md);
}

static void test_report_incident_md_open_and_unrecorded(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.inc.state = INCIDENT_NEW;
    f.inc.acknowledged_ms = f.inc.resolved_ms = 0;
    f.inc.resolved_by = f.inc.root_cause = NULL;
    f.in.problem = NULL;
    f.in.n_timeline = 1;
    f.in.now_ms = T0 + 2 * HOUR + 3 * MINUTE + 9 * SECOND;
    char *md = report_incident(&f.in, REPORT_FORMAT_MD);
    assert_contains(md, "open for 2 h 3 min so far");
    assert_contains(md, "| Time to acknowledge | not acknowledged |");
    assert_contains(md, "| Time to resolve | not resolved |");
    assert_contains(md, "## Root cause\n\nNot recorded.");
    assert_contains(md, "## Follow-ups\n\nNone");
    assert_contains(md, "No runbook step ran.");
    free(md);
}

static void test_report_incident_md_escapes_markup(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.inc.title = "<img src=x> | *bold*";
    f.tl[4].text = "a ``` fence\n";
    char *md = report_incident(&f.in, REPORT_FORMAT_MD);
    assert_contains(md, "\\<img src=x> \\| \\*bold\\*");
    /* No '<' that a renderer could take for the start of a tag. */
    for (const char *lt = strchr(md, '<'); lt; lt = strchr(lt + 1, '<'))
        assert_true(lt > md && lt[-1] == '\\');
    /* A fence longer than any run of backticks in the output. */
    assert_contains(md, "````\n  a ``` fence\n  ````\n");
    free(md);

    /* What would start a heading or a list at the start of a line does not. */
    f.inc.root_cause = "# not a heading\n1. not a list\n- nor this";
    md = report_incident(&f.in, REPORT_FORMAT_MD);
    assert_contains(md, "## Root cause\n\n\\# not a heading\\\n1\\. not a list\\\n\\- nor this\n");
    free(md);
}

static void test_report_incident_html_escapes(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.inc.title = "<script>alert(1)</script>";
    f.tl[4].text = "<script>steal()</script> & \"quoted\"";
    f.inc.team = "o'neil";
    char *html = report_incident(&f.in, REPORT_FORMAT_HTML);
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_null(strstr(html, "<script"));
    assert_contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;");
    assert_contains(html, "<pre><code>&lt;script&gt;steal()&lt;/script&gt; &amp; "
                          "&quot;quoted&quot;</code></pre>");
    assert_contains(html, "o&#39;neil");
    assert_contains(html, "4 min 12 s");
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    assert_contains(html, "</html>\n");
    free(html);
}

static json_t *parse(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("not JSON (%s, line %d):\n%s", e.text, e.line, s);
    return j;
}

static void test_report_incident_json(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    f.tl[5].data = "{\"exit\":0}";
    f.inc.assignee = "bad \xff utf-8";
    char *s = report_incident(&f.in, REPORT_FORMAT_JSON);
    json_t *j = parse(s);
    json_t *inc = json_object_get(j, "incident");
    assert_int_equal(json_integer_value(json_object_get(inc, "id")), 42);
    assert_string_equal(json_string_value(json_object_get(inc, "title")), "web-health is critical");
    assert_string_equal(json_string_value(json_object_get(inc, "priority")), "P2");
    assert_string_equal(json_string_value(json_object_get(inc, "state")), "resolved");
    assert_string_equal(json_string_value(json_object_get(inc, "opened")),
                        "2026-11-21T19:00:00.000Z");
    assert_string_equal(json_string_value(json_object_get(inc, "assignee")),
                        "bad \xef\xbf\xbd utf-8");
    assert_true(json_is_null(json_object_get(inc, "closed")));
    assert_int_equal(json_integer_value(json_object_get(j, "tta_ms")), 4 * MINUTE + 12 * SECOND);
    assert_int_equal(json_integer_value(json_object_get(j, "ttr_ms")), 12 * MINUTE + 30 * SECOND);
    json_t *tl = json_object_get(j, "timeline");
    assert_int_equal(json_array_size(tl), 7);
    assert_string_equal(json_string_value(json_object_get(json_array_get(tl, 4), "kind")),
                        "step_output");
    assert_int_equal(json_integer_value(json_object_get(
                             json_object_get(json_array_get(tl, 5), "data"), "exit")),
                     0);
    json_t *actions = json_object_get(j, "actions");
    assert_int_equal(json_array_size(actions), 1);
    json_t *a = json_array_get(actions, 0);
    assert_string_equal(json_string_value(json_object_get(a, "step")), "restart nginx");
    assert_string_equal(json_string_value(json_object_get(a, "result")), "ok (exit 0)");
    assert_string_equal(json_string_value(json_object_get(a, "output")),
                        "Stopping nginx\nStarting nginx");
    json_t *actors = json_object_get(j, "actors");
    assert_int_equal(json_array_size(actors), 3);
    json_t *hale = json_array_get(actors, 2);
    assert_string_equal(json_string_value(json_object_get(hale, "actor")), "hale");
    assert_int_equal(json_integer_value(json_object_get(hale, "entries")), 4);
    assert_int_equal(
            json_integer_value(json_object_get(json_object_get(hale, "kinds"), "step_output")), 1);
    json_t *p = json_object_get(j, "problem");
    assert_int_equal(json_integer_value(json_object_get(p, "id")), 3);
    assert_string_equal(json_string_value(json_object_get(p, "state")), "open");
    json_decref(j);
    free(s);

    f.in.problem = NULL;
    f.inc.acknowledged_ms = 0;
    s = report_incident(&f.in, REPORT_FORMAT_JSON);
    j = parse(s);
    assert_true(json_is_null(json_object_get(j, "problem")));
    assert_true(json_is_null(json_object_get(j, "tta_ms")));
    json_decref(j);
    free(s);
}

/* ---- rendering the summary ---- */

static void summary_sample(struct report_summary *s, struct incident *v, struct problem *p,
                           struct store_check_state *cs)
{
    static const char *const checks[] = {"web-health", "db"};
    for (size_t i = 0; i < 5; i++) {
        v[i] = incident_at((int64_t)i + 1, T0);
        v[i].team = i < 3 ? "<b>web</b>" : "db";
        v[i].acknowledged_ms = T0 + (int64_t)(i + 1) * MINUTE;
        v[i].resolved_ms = T0 + (int64_t)(i + 1) * 10 * MINUTE;
        v[i].resolved_by = i < 2 ? "hale" : "user:alice";
    }
    v[0].acknowledged_ms = 0;
    p[0] = (struct problem){.id = 3, .title = "web-health keeps failing", .incidents = 4};
    cs[0] = (struct store_check_state){"web-health", 0, T0};
    cs[1] = (struct store_check_state){"web-health", 2, T0 + 9 * HOUR};
    struct report_summary_input in = {.since_ms = T0,
                                      .now_ms = T0 + 10 * HOUR,
                                      .incidents = v,
                                      .n_incidents = 5,
                                      .check_states = cs,
                                      .n_check_states = 2,
                                      .checks = checks,
                                      .n_checks = 2,
                                      .problems = p,
                                      .n_problems = 1};
    report_summary_compute(&in, s);
}

static void test_report_summary_render_md(void **state)
{
    (void)state;
    struct incident v[5];
    struct problem p[1];
    struct store_check_state cs[2];
    struct report_summary s;
    summary_sample(&s, v, p, cs);
    char *md = report_summary_render(&s, REPORT_FORMAT_MD);
    assert_contains(md, "# Summary from 2026-11-21T19:00:00.000Z to 2026-11-22T05:00:00.000Z");
    assert_contains(md, "5 incidents opened in the period; 5 resolved, 1 of them (20.00 %)");
    assert_contains(md, "| MTTA (opened to acknowledged) | 4 | 3 min | 5 min |");
    assert_contains(md, "| MTTR (opened to resolved) | 5 | 30 min | 50 min |");
    assert_contains(md, "| \\<b>web\\</b> | 3 |");
    assert_contains(md, "| 3 | web-health keeps failing | open | 4 |");
    assert_contains(md, "| web-health | 90.00 % | 1 h |");
    assert_contains(md, "| db | unknown | - |");
    free(md);
    report_summary_fini(&s);
}

static void test_report_summary_render_html(void **state)
{
    (void)state;
    struct incident v[5];
    struct problem p[1];
    struct store_check_state cs[2];
    struct report_summary s;
    summary_sample(&s, v, p, cs);
    char *html = report_summary_render(&s, REPORT_FORMAT_HTML);
    assert_contains(html, "<svg");
    assert_null(strstr(html, "<b>web"));
    assert_contains(html, "&lt;b&gt;web&lt;/b&gt;");
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "href="));
    assert_null(strstr(html, "src="));
    assert_contains(html, ">90.00 %</text>");
    assert_contains(html, ">3 min</div>"); /* the MTTA figure */
    free(html);
    report_summary_fini(&s);
}

static void test_report_summary_render_json(void **state)
{
    (void)state;
    struct incident v[5];
    struct problem p[1];
    struct store_check_state cs[2];
    struct report_summary s;
    summary_sample(&s, v, p, cs);
    char *text = report_summary_render(&s, REPORT_FORMAT_JSON);
    json_t *j = parse(text);
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "resolved")), 5);
    assert_int_equal(json_integer_value(json_object_get(j, "healed")), 1);
    json_t *mtta = json_object_get(j, "mtta");
    assert_int_equal(json_integer_value(json_object_get(mtta, "n")), 4);
    assert_int_equal(json_integer_value(json_object_get(mtta, "median_ms")), 3 * MINUTE);
    assert_int_equal(json_integer_value(json_object_get(mtta, "p90_ms")), 5 * MINUTE);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "by_priority"), "P3")),
                     5);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "by_state"), "new")), 5);
    json_t *team = json_array_get(json_object_get(j, "by_team"), 0);
    assert_string_equal(json_string_value(json_object_get(team, "team")), "<b>web</b>");
    assert_int_equal(json_integer_value(json_object_get(team, "incidents")), 3);
    json_t *av = json_object_get(j, "availability");
    assert_int_equal(json_array_size(av), 2);
    double pct = json_real_value(json_object_get(json_array_get(av, 0), "percent"));
    assert_true(pct > 89.999 && pct < 90.001);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(av, 0), "down_ms")), HOUR);
    assert_true(json_is_null(json_object_get(json_array_get(av, 1), "percent")));
    json_t *top = json_array_get(json_object_get(j, "top_problems"), 0);
    assert_int_equal(json_integer_value(json_object_get(top, "incidents")), 4);
    json_decref(j);
    free(text);
    report_summary_fini(&s);
}

/* Two days by the hour: each incident counts in the hour it was opened in. */
static void test_report_summary_buckets_by_hour(void **state)
{
    (void)state;
    struct incident v[3];
    v[0] = incident_at(1, T0 - 23 * HOUR - 30 * MINUTE); /* the first hour of the period */
    v[1] = incident_at(2, T0);
    v[1].acknowledged_ms = T0 + 2 * MINUTE;
    v[1].resolved_ms = T0 + 10 * MINUTE;
    v[1].resolved_by = "user:alice";
    v[2] = incident_at(3, T0 + 59 * MINUTE);
    v[2].resolved_ms = T0 + 61 * MINUTE;
    v[2].resolved_by = "hale";
    struct report_summary s;
    compute(&s, v, 3);
    assert_int_equal(s.step_ms, HOUR);
    assert_int_equal(s.n_buckets, 49);
    assert_int_equal(s.buckets[0].start_ms, T0 - 24 * HOUR);
    assert_int_equal(s.buckets[0].incidents, 1);
    assert_int_equal(s.buckets[0].mtta.n, 0);
    const struct report_bucket *b = &s.buckets[24];
    assert_int_equal(b->start_ms, T0);
    assert_int_equal(b->incidents, 2);
    assert_int_equal(b->resolved, 2);
    assert_int_equal(b->healed, 1);
    assert_int_equal(b->mtta.n, 1);
    assert_int_equal(b->mtta.median_ms, 2 * MINUTE);
    assert_int_equal(b->mttr.n, 2);
    assert_int_equal(b->mttr.median_ms, 2 * MINUTE);
    assert_int_equal(b->mttr.p90_ms, 10 * MINUTE);
    size_t total = 0;
    for (size_t i = 0; i < s.n_buckets; i++)
        total += s.buckets[i].incidents;
    assert_int_equal(total, 3);
    report_summary_fini(&s);
}

/* A week goes by UTC days; a period of years stays a few hundred points. */
static void test_report_summary_buckets_by_day_and_weeks(void **state)
{
    (void)state;
    struct incident v[1] = {incident_at(1, T0)};
    struct report_summary s;
    struct report_summary_input in = {
            .since_ms = T0 - 7 * 24 * HOUR, .now_ms = T0, .incidents = v, .n_incidents = 1};
    report_summary_compute(&in, &s);
    assert_int_equal(s.step_ms, 24 * HOUR);
    assert_int_equal(s.n_buckets, 8);
    assert_int_equal(s.buckets[0].start_ms % (24 * HOUR), 0); /* midnight UTC */
    assert_int_equal(s.buckets[7].incidents, 1);
    char *text = report_summary_render(&s, REPORT_FORMAT_JSON);
    json_t *j = parse(text);
    json_t *ot = json_object_get(j, "over_time");
    assert_int_equal(json_integer_value(json_object_get(ot, "step_ms")), 24 * HOUR);
    json_t *last = json_array_get(json_object_get(ot, "buckets"), 7);
    assert_string_equal(json_string_value(json_object_get(last, "start")),
                        "2026-11-21T00:00:00.000Z");
    assert_int_equal(json_integer_value(json_object_get(last, "incidents")), 1);
    assert_true(json_is_null(json_object_get(json_object_get(last, "mttr"), "median_ms")));
    json_decref(j);
    free(text);
    report_summary_fini(&s);
    in.since_ms = T0 - 3000 * 24 * HOUR;
    report_summary_compute(&in, &s);
    assert_int_equal(s.step_ms % (7 * 24 * HOUR), 0);
    assert_true(s.n_buckets > 100 && s.n_buckets <= 402);
    assert_int_equal(s.buckets[s.n_buckets - 1].incidents, 1);
    report_summary_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_report_format_parse_and_content_type),
            cmocka_unit_test(test_report_summary_mtta_mttr_nearest_rank),
            cmocka_unit_test(test_report_summary_percentiles_of_ten_and_four),
            cmocka_unit_test(test_report_summary_empty_period),
            cmocka_unit_test(test_report_summary_counts_and_teams),
            cmocka_unit_test(test_report_summary_healed_needs_hale_and_no_ack),
            cmocka_unit_test(test_report_summary_top_problems),
            cmocka_unit_test(test_report_summary_availability_in_window),
            cmocka_unit_test(test_report_summary_availability_state_before_window),
            cmocka_unit_test(test_report_summary_availability_only_ok_counts),
            cmocka_unit_test(test_report_summary_availability_counts_known_time_only),
            cmocka_unit_test(test_report_incident_md),
            cmocka_unit_test(test_report_incident_shows_the_problem_worked),
            cmocka_unit_test(test_report_incident_md_open_and_unrecorded),
            cmocka_unit_test(test_report_incident_md_escapes_markup),
            cmocka_unit_test(test_report_incident_html_escapes),
            cmocka_unit_test(test_report_incident_json),
            cmocka_unit_test(test_report_summary_render_md),
            cmocka_unit_test(test_report_summary_render_html),
            cmocka_unit_test(test_report_summary_render_json),
            cmocka_unit_test(test_report_summary_buckets_by_hour),
            cmocka_unit_test(test_report_summary_buckets_by_day_and_weeks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
