/* SPDX-License-Identifier: MIT */
/*
 * Tests of silences and weekly windows: the weekly form's parser (every
 * error with its offset), its canonical form, windows across midnight and
 * across the end of the week, local time, and a silence's states from
 * pending to expired, ended early or by the resolution of its incident.
 * The tests run with TZ=UTC unless they say otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/strbuf.h"
#include "base/weekly.h"
#include "config/config.h"
#include "engine/event.h"
#include "engine/silence.h"

/* ---- weekly windows ---- */

static struct weekly_window window_of(const char *s)
{
    struct weekly_window w;
    struct err e = {0};
    if (weekly_window_parse(s, &w, &e, NULL) < 0)
        fail_msg("\"%s\": %s", s, e.msg);
    return w;
}

static void parse_bad(const char *s, const char *msg, size_t offset)
{
    struct weekly_window w = {0};
    struct err e = {0};
    size_t off = 999;
    assert_int_equal(weekly_window_parse(s, &w, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, msg);
    assert_int_equal(off, offset);
}

static void format_is(const char *s, const char *want)
{
    struct weekly_window w = window_of(s);
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(weekly_window_format(&w, &b), 0);
    assert_string_equal(b.s, want);
    /* The canonical form reads back as the same window. */
    struct weekly_window again = window_of(b.s);
    assert_memory_equal(&w, &again, sizeof(w));
    strbuf_fini(&b);
}

#define DAY(d) (1u << (d)) /* tm_wday: Sunday 0 */

static void test_weekly_parse(void **state)
{
    (void)state;
    struct weekly_window w = window_of("Mon-Fri 22:00-06:00");
    assert_int_equal(w.days, DAY(1) | DAY(2) | DAY(3) | DAY(4) | DAY(5));
    assert_int_equal(w.start_min, 22 * 60);
    assert_int_equal(w.end_min, 6 * 60);
    w = window_of("sat,SUN 00:00-24:00");
    assert_int_equal(w.days, DAY(6) | DAY(0));
    assert_int_equal(w.end_min, 1440);
    /* A range may wrap past Sunday; lists and ranges mix; spaces around ',' and '-'. */
    assert_int_equal(window_of("Fri-Mon 08:00-09:00").days, DAY(5) | DAY(6) | DAY(0) | DAY(1));
    assert_int_equal(window_of("Mon, Wed-Fri 08:00 - 09:30").days,
                     DAY(1) | DAY(3) | DAY(4) | DAY(5));
    assert_int_equal(window_of("Tue-Tue 08:00-09:00").days, DAY(2));
}

static void test_weekly_parse_errors(void **state)
{
    (void)state;
    parse_bad("", "expected a day: Mon, Tue, Wed, Thu, Fri, Sat or Sun", 0);
    parse_bad("Mon-Fir 22:00-06:00", "expected a day: Mon, Tue, Wed, Thu, Fri, Sat or Sun", 4);
    parse_bad("Mon 25:00-06:00", "expected a time from 00:00 to 23:59", 4);
    parse_bad("Mon 24:00-06:00", "expected a time from 00:00 to 23:59", 4);
    parse_bad("Mon 22:00-24:30", "expected a time from 00:00 to 24:00", 10);
    parse_bad("Mon 22:60-23:00", "expected a time from 00:00 to 23:59", 4);
    parse_bad("Mon 9:00-10:00", "expected a time of day such as 22:00", 4);
    parse_bad("Mon 22:00", "expected '-' and the end of the window, as in 22:00-06:00", 9);
    parse_bad("Mon 22:00-06:00 daily", "unexpected text after the window", 16);
    parse_bad("Mon 22:00-22:00",
              "the window is empty: it starts and ends at the same time (write 00:00-24:00 for a "
              "whole day)",
              4);
    parse_bad("22:00-06:00", "expected a day: Mon, Tue, Wed, Thu, Fri, Sat or Sun", 0);
}

static void test_weekly_format(void **state)
{
    (void)state;
    format_is("mon-fri 22:00-06:00", "Mon-Fri 22:00-06:00");
    format_is("Sat,Sun 00:00-24:00", "Sat,Sun 00:00-24:00");
    format_is("Sun-Sat 01:00-02:00", "Mon-Sun 01:00-02:00");
    format_is("Fri-Mon 08:00-09:00", "Mon,Fri-Sun 08:00-09:00");
    format_is("Wed,Mon,Tue 08:00-09:00", "Mon-Wed 08:00-09:00");
}

static struct tm at(int wday, int hour, int min)
{
    struct tm tm = {.tm_wday = wday, .tm_hour = hour, .tm_min = min};
    return tm;
}

static bool in(const struct weekly_window *w, int wday, int hour, int min)
{
    struct tm tm = at(wday, hour, min);
    return weekly_window_contains(w, &tm);
}

static void test_weekly_across_midnight(void **state)
{
    (void)state;
    struct weekly_window w = window_of("Mon-Fri 22:00-06:00");
    assert_false(in(&w, 1, 21, 59)); /* Monday, before */
    assert_true(in(&w, 1, 22, 0));   /* Monday's window opens */
    assert_true(in(&w, 2, 5, 59));   /* Tuesday morning: still Monday's window */
    assert_false(in(&w, 2, 6, 0));   /* the end is not in it */
    assert_true(in(&w, 5, 23, 0));   /* Friday night */
    assert_true(in(&w, 6, 3, 0));    /* Saturday morning: Friday's window */
    assert_false(in(&w, 6, 23, 0));  /* Saturday night: no window starts on Saturday */
    assert_false(in(&w, 1, 3, 0));   /* Monday morning: Sunday started none */
    /* An end at midnight is the end of the day, not a wrap. */
    w = window_of("Sun 22:00-00:00");
    assert_true(in(&w, 0, 23, 59));
    assert_false(in(&w, 1, 0, 0));
}

static void test_weekly_across_the_week(void **state)
{
    (void)state;
    /* Saturday night into Sunday, and Sunday night into Monday: the week wraps. */
    struct weekly_window w = window_of("Sat-Sun 23:00-01:00");
    assert_true(in(&w, 6, 23, 30));
    assert_true(in(&w, 0, 0, 30));
    assert_true(in(&w, 0, 23, 30));
    assert_true(in(&w, 1, 0, 30));
    assert_false(in(&w, 1, 1, 0));
    assert_false(in(&w, 6, 0, 30)); /* Friday started none */
    /* Whole days. */
    w = window_of("Sat,Sun 00:00-24:00");
    assert_true(in(&w, 6, 0, 0));
    assert_true(in(&w, 0, 23, 59));
    assert_false(in(&w, 1, 0, 0));
    assert_false(in(&w, 5, 23, 59));
}

#define T_WED_2030_UTC 1782937800000LL /* 2026-07-01, a Wednesday, 20:30 UTC */

static void test_weekly_is_local_time(void **state)
{
    (void)state;
    struct weekly_window w = window_of("Wed 22:00-23:00");
    assert_false(weekly_window_contains_ms(&w, T_WED_2030_UTC));
    /* In Berlin it is 22:30 then (summer time, UTC+2). */
    setenv("TZ", "Europe/Berlin", 1);
    tzset();
    struct tm tm;
    time_t t = T_WED_2030_UTC / 1000;
    localtime_r(&t, &tm);
    bool zone_known = tm.tm_hour == 22;
    if (zone_known)
        assert_true(weekly_window_contains_ms(&w, T_WED_2030_UTC));
    setenv("TZ", "UTC", 1);
    tzset();
    if (!zone_known)
        print_message("no tz data for Europe/Berlin: local time checked in UTC only\n");
}

/* ---- silences ---- */

#define T0  1800000000000LL /* 2027-01-15T08:00:00Z, a Friday */
#define MIN (60 * 1000LL)

static void silence_of(struct silence *s, const char *matchers)
{
    silence_init(s);
    struct err e = {0};
    if (silence_matchers_set(s, matchers, &e) < 0)
        fail_msg("%s: %s", matchers, e.msg);
}

static void test_silence_one_off(void **state)
{
    (void)state;
    struct silence s;
    silence_of(&s, "{service=\"web\", alertname=~\"Disk.*\"}");
    assert_string_equal(s.matchers_text, "{service=\"web\", alertname=~\"Disk.*\"}");
    s.starts_ms = T0;
    s.ends_ms = T0 + 120 * MIN;
    assert_int_equal(silence_check(&s, NULL), 0);
    assert_int_equal(silence_state(&s, T0 - 1), SILENCE_PENDING);
    assert_int_equal(silence_state(&s, T0), SILENCE_ACTIVE);
    assert_int_equal(silence_state(&s, T0 + 120 * MIN - 1), SILENCE_ACTIVE);
    assert_int_equal(silence_state(&s, T0 + 120 * MIN), SILENCE_EXPIRED);

    struct event ev;
    event_init(&ev);
    labels_set(&ev.labels, "service", "web", NULL);
    labels_set(&ev.labels, "alertname", "DiskFull", NULL);
    assert_true(silence_matches(&s, &ev, T0 + MIN));
    assert_false(silence_matches(&s, &ev, T0 - MIN));
    assert_false(silence_matches(&s, &ev, T0 + 121 * MIN));
    labels_set(&ev.labels, "service", "db", NULL);
    assert_false(silence_matches(&s, &ev, T0 + MIN));
    event_fini(&ev);

    /* Ended early by hand: expired from then on, and ending again changes nothing. */
    silence_end(&s, T0 + 10 * MIN);
    assert_int_equal(s.ends_ms, T0 + 10 * MIN);
    assert_int_equal(silence_state(&s, T0 + 10 * MIN), SILENCE_EXPIRED);
    silence_end(&s, T0 + 20 * MIN);
    assert_int_equal(s.ends_ms, T0 + 10 * MIN);
    silence_fini(&s);

    /* A silence ended before it started is over, never active. */
    silence_of(&s, "service=web");
    s.starts_ms = T0 + 60 * MIN;
    s.ends_ms = T0 + 120 * MIN;
    silence_end(&s, T0);
    assert_int_equal(silence_state(&s, T0 + 90 * MIN), SILENCE_EXPIRED);
    silence_fini(&s);
}

static void test_silence_weekly(void **state)
{
    (void)state;
    struct silence s;
    silence_of(&s, "service=backup");
    s.weekly = true;
    s.window = window_of("Fri-Sat 22:00-02:00");
    s.starts_ms = T0;                   /* Friday 08:00 UTC */
    s.ends_ms = T0 + 8 * 24 * 60 * MIN; /* the Saturday after next */
    assert_int_equal(silence_check(&s, NULL), 0);
    assert_int_equal(silence_state(&s, T0 + 13 * 60 * MIN), SILENCE_PENDING); /* Fri 21:00 */
    assert_int_equal(silence_state(&s, T0 + 14 * 60 * MIN), SILENCE_ACTIVE);  /* Fri 22:00 */
    assert_int_equal(silence_state(&s, T0 + 17 * 60 * MIN), SILENCE_ACTIVE);  /* Sat 01:00 */
    assert_int_equal(silence_state(&s, T0 + 18 * 60 * MIN), SILENCE_PENDING); /* Sat 02:00 */
    assert_int_equal(silence_state(&s, T0 + 38 * 60 * MIN), SILENCE_ACTIVE);  /* Sat 22:00 */
    assert_int_equal(silence_state(&s, T0 + 41 * 60 * MIN), SILENCE_ACTIVE);  /* Sun 01:00 */
    assert_int_equal(silence_state(&s, T0 + 62 * 60 * MIN), SILENCE_PENDING); /* Sun 22:00 */
    /* A week later, the same; past ends, never again. */
    assert_int_equal(silence_state(&s, T0 + (7 * 24 + 14) * 60 * MIN), SILENCE_ACTIVE);
    assert_int_equal(silence_state(&s, T0 + (14 * 24 + 14) * 60 * MIN), SILENCE_EXPIRED);
    /* Before starts, even inside a window (the Friday before). */
    assert_int_equal(silence_state(&s, T0 - (7 * 24 - 14) * 60 * MIN), SILENCE_PENDING);
    /* Without bounds it recurs for ever. */
    s.starts_ms = s.ends_ms = 0;
    assert_int_equal(silence_state(&s, T0 + (700 * 24 + 14) * 60 * MIN), SILENCE_ACTIVE);
    silence_fini(&s);
}

static void test_silence_until_resolved(void **state)
{
    (void)state;
    struct silence v[3];
    silence_of(&v[0], "service=web");
    v[0].starts_ms = T0;
    v[0].incident_id = 42; /* no end: until incident 42 resolves */
    silence_of(&v[1], "service=db");
    v[1].starts_ms = T0;
    v[1].incident_id = 43;
    silence_of(&v[2], "service=web");
    v[2].starts_ms = T0;
    v[2].ends_ms = T0 + 30 * MIN;
    v[2].incident_id = 42; /* both: whichever comes first */
    for (int i = 0; i < 3; i++)
        assert_int_equal(silence_check(&v[i], NULL), 0);
    assert_int_equal(silence_state(&v[0], T0 + 1000 * MIN), SILENCE_ACTIVE);
    /* Incident 42 resolves at +40 min: the first ends, the third had already. */
    silence_end(&v[0], T0 + 40 * MIN);
    silence_end(&v[2], T0 + 40 * MIN);
    assert_int_equal(silence_state(&v[0], T0 + 40 * MIN), SILENCE_EXPIRED);
    assert_int_equal(v[0].ends_ms, T0 + 40 * MIN);
    assert_int_equal(v[2].ends_ms, T0 + 30 * MIN);
    assert_int_equal(silence_state(&v[1], T0 + 40 * MIN), SILENCE_ACTIVE);
    /* Ended twice: the first end stands. */
    silence_end(&v[0], T0 + 50 * MIN);
    assert_int_equal(v[0].ends_ms, T0 + 40 * MIN);
    for (int i = 0; i < 3; i++)
        silence_fini(&v[i]);
}

static void check_refused(const struct silence *s, const char *msg)
{
    struct err e = {0};
    assert_int_equal(silence_check(s, &e), -EINVAL);
    assert_string_equal(e.msg, msg);
}

static void test_silence_check_refuses(void **state)
{
    (void)state;
    struct silence s;
    silence_of(&s, "{}");
    s.ends_ms = T0;
    check_refused(&s, "a silence needs matchers that name what it silences, such as "
                      "{service=\"web\"}");
    silence_fini(&s);

    /* Matchers that accept an event without labels would silence everything. */
    silence_of(&s, "env!=\"prod\", alertname=~\".*\"");
    s.ends_ms = T0;
    check_refused(&s, "the matchers {env!=\"prod\", alertname=~\".*\"} also match an event "
                      "without labels, so the silence would hold back every event; give at least "
                      "one label a value to match, such as service=\"web\"");
    /* One matcher that needs a value is enough. */
    assert_int_equal(silence_matchers_set(&s, "env!=\"prod\", service=\"web\"", NULL), 0);
    assert_int_equal(silence_check(&s, NULL), 0);

    s.ends_ms = 0;
    check_refused(&s, "a silence needs an end: a duration, an end time, a weekly window or an "
                      "incident to last until it resolves");
    s.starts_ms = T0;
    s.ends_ms = T0;
    check_refused(&s, "a silence must end after it starts");
    s.ends_ms = 0;
    s.weekly = true; /* with an empty window */
    check_refused(&s, "the weekly window is empty or out of range");
    s.window = window_of("Mon 08:00-09:00");
    assert_int_equal(silence_check(&s, NULL), 0);
    /* A bad matcher text leaves the silence as it was. */
    struct err e = {0};
    assert_int_equal(silence_matchers_set(&s, "{service=", &e), HALE_EPARSE);
    assert_string_equal(s.matchers_text, "{env!=\"prod\", service=\"web\"}");
    silence_fini(&s);
}

static void test_silence_from_config(void **state)
{
    (void)state;
    static const char yaml[] = "silences:\n"
                               "  - match: '{service=\"backup\"}'\n"
                               "    weekly: Sat-Sun 00:00-24:00\n"
                               "    comment: weekend backups\n"
                               "  - match: service=web\n"
                               "    starts: 2027-01-15T08:00:00Z\n"
                               "    ends: 2027-01-15T10:00:00Z\n";
    struct config *c = NULL;
    struct config_diags d = {0};
    assert_int_equal(config_load_buffer("test.yaml", yaml, strlen(yaml), &c, &d), 0);
    config_diags_fini(&d);
    assert_int_equal(c->n_silences, 2);
    struct silence s;
    silence_from_config(&c->silences[0], T0, &s);
    assert_int_equal(s.source, SILENCE_SOURCE_CONFIG);
    assert_string_equal(silence_source_name(s.source), "config");
    assert_string_equal(s.created_by, "config");
    assert_int_equal(s.created_ms, T0);
    assert_string_equal(s.matchers_text, "{service=\"backup\"}");
    assert_string_equal(s.comment, "weekend backups");
    assert_true(s.weekly);
    assert_int_equal(silence_check(&s, NULL), 0);
    assert_int_equal(silence_state(&s, T0), SILENCE_PENDING);                /* Friday */
    assert_int_equal(silence_state(&s, T0 + 24 * 60 * MIN), SILENCE_ACTIVE); /* Saturday */
    silence_fini(&s);
    silence_from_config(&c->silences[1], T0, &s);
    assert_string_equal(s.comment, "");
    assert_int_equal(s.starts_ms, T0);
    assert_int_equal(s.ends_ms, T0 + 120 * MIN);
    assert_int_equal(silence_state(&s, T0 + 120 * MIN), SILENCE_EXPIRED);
    silence_fini(&s);
    config_unref(c);
}

static void test_silence_names(void **state)
{
    (void)state;
    const char *names[] = {"pending", "active", "expired"};
    for (int i = 0; i < 3; i++) {
        enum silence_state st;
        assert_string_equal(silence_state_name((enum silence_state)i), names[i]);
        assert_int_equal(silence_state_parse(names[i], &st), 0);
        assert_int_equal(st, i);
    }
    enum silence_state st;
    assert_int_equal(silence_state_parse("Active", &st), -EINVAL);
    assert_string_equal(silence_source_name(SILENCE_SOURCE_API), "api");
    silence_fini(NULL);
}

static int utc(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_weekly_parse),
            cmocka_unit_test(test_weekly_parse_errors),
            cmocka_unit_test(test_weekly_format),
            cmocka_unit_test(test_weekly_across_midnight),
            cmocka_unit_test(test_weekly_across_the_week),
            cmocka_unit_test(test_weekly_is_local_time),
            cmocka_unit_test(test_silence_one_off),
            cmocka_unit_test(test_silence_weekly),
            cmocka_unit_test(test_silence_until_resolved),
            cmocka_unit_test(test_silence_check_refuses),
            cmocka_unit_test(test_silence_from_config),
            cmocka_unit_test(test_silence_names),
    };
    return cmocka_run_group_tests(tests, utc, NULL);
}
