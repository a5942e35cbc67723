/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of src/detect: soft and hard states with failures and
 * recoveries, severity changes while hard, UNKNOWN, flapping start, stop
 * and suppression, and the snapshot a restart resumes from.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "detect/detect.h"

#define OK   CHECK_STATUS_OK
#define WARN CHECK_STATUS_WARNING
#define CRIT CHECK_STATUS_CRITICAL
#define UNKN CHECK_STATUS_UNKNOWN

#define MAX_EVENTS 256

struct seen {
    struct detect_event v[MAX_EVENTS];
    size_t n;
};

static void collect(struct detect_event *ev, void *data)
{
    struct seen *s = data;
    assert_true(s->n < MAX_EVENTS);
    s->v[s->n] = *ev;
    s->v[s->n].summary = ev->summary; /* taken: the test frees it */
    ev->summary = NULL;
    s->n++;
}

static void seen_clear(struct seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i].summary);
    s->n = 0;
}

static size_t seen_count(const struct seen *s, enum detect_event_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->v[i].kind == k;
    return n;
}

/* The new status of the last state change seen. */
static enum check_status last_reported(const struct seen *s)
{
    enum check_status r = OK;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].kind == DETECT_EVENT_STATE_CHANGE && s->v[i].hard)
            r = s->v[i].new_status;
    return r;
}

struct fixture {
    struct detect det, *d;
    struct seen seen;
    uint64_t t;
};

static struct fixture *fixture_new(unsigned failures, unsigned recoveries)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    struct detect_params p;
    detect_params_init(&p);
    p.failures = failures;
    p.recoveries = recoveries;
    f->d = &f->det;
    assert_int_equal(detect_init(f->d, "web-health", &p, collect, &f->seen), 0);
    f->t = 1000;
    return f;
}

static void fixture_free(struct fixture *f)
{
    seen_clear(&f->seen);
    free(f);
}

/* Feeds one result a second later than the last; returns the events it caused. */
static int feed(struct fixture *f, enum check_status s)
{
    char summary[64];
    static const char *const labels[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    snprintf(summary, sizeof(summary), "%s at %llu", labels[s], (unsigned long long)f->t);
    int r = detect_feed(f->d, s, summary, f->t);
    f->t += 1000;
    return r;
}

static void assert_change(const struct detect_event *ev, enum check_status from,
                          enum check_status to)
{
    assert_int_equal(ev->kind, DETECT_EVENT_STATE_CHANGE);
    assert_int_equal(ev->old_status, from);
    assert_int_equal(ev->new_status, to);
    assert_true(ev->hard);
    assert_string_equal(ev->check, "web-health");
}

static void test_detect_failures_one_is_hard_at_once(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 1);
    assert_int_equal(feed(f, OK), 0);
    assert_int_equal(detect_hard_status(f->d), OK);
    assert_int_equal(feed(f, CRIT), 1);
    assert_change(&f->seen.v[0], OK, CRIT);
    assert_int_equal(f->seen.v[0].time_ms, 2000);
    assert_string_equal(f->seen.v[0].summary, "CRITICAL at 2000");
    assert_true(detect_is_hard(f->d));
    assert_int_equal(feed(f, CRIT), 0);
    assert_int_equal(feed(f, OK), 1);
    assert_change(&f->seen.v[1], CRIT, OK);
    fixture_free(f);
}

static void test_detect_failures_three_stays_soft_until_the_third(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 1);
    assert_int_equal(feed(f, CRIT), 0);
    assert_false(detect_is_hard(f->d));
    assert_int_equal(detect_status(f->d), CRIT);
    assert_int_equal(detect_hard_status(f->d), OK);
    assert_int_equal(detect_count(f->d), 1);
    assert_int_equal(feed(f, CRIT), 0);
    assert_int_equal(detect_count(f->d), 2);
    assert_int_equal(feed(f, CRIT), 1);
    assert_true(detect_is_hard(f->d));
    assert_change(&f->seen.v[0], OK, CRIT);
    assert_int_equal(f->seen.v[0].time_ms, 3000);
    fixture_free(f);
}

static void test_detect_ok_between_failures_resets_the_count(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 1);
    feed(f, CRIT);
    feed(f, CRIT);
    assert_int_equal(feed(f, OK), 0);
    assert_true(detect_is_hard(f->d));
    assert_int_equal(detect_count(f->d), 0);
    feed(f, CRIT);
    feed(f, CRIT);
    assert_int_equal(f->seen.n, 0);
    assert_int_equal(feed(f, CRIT), 1);
    fixture_free(f);
}

static void test_detect_mixed_bad_results_count_together(void **state)
{
    (void)state;
    /* warning, critical, warning: three non-ok results; the last decides. */
    struct fixture *f = fixture_new(3, 1);
    feed(f, WARN);
    feed(f, CRIT);
    assert_int_equal(feed(f, WARN), 1);
    assert_change(&f->seen.v[0], OK, WARN);
    fixture_free(f);
}

static void test_detect_recoveries_need_consecutive_ok(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 3);
    feed(f, CRIT);
    assert_int_equal(feed(f, OK), 0);
    assert_false(detect_is_hard(f->d));
    assert_int_equal(detect_status(f->d), OK);
    assert_int_equal(detect_hard_status(f->d), CRIT);
    assert_int_equal(feed(f, OK), 0);
    /* A bad result restarts the recovery count and is hard (same status). */
    assert_int_equal(feed(f, CRIT), 0);
    assert_true(detect_is_hard(f->d));
    feed(f, OK);
    feed(f, OK);
    assert_int_equal(f->seen.n, 1);
    assert_int_equal(feed(f, OK), 1);
    assert_change(&f->seen.v[1], CRIT, OK);
    assert_true(detect_is_hard(f->d));
    fixture_free(f);
}

static void test_detect_warning_critical_changes_at_once_while_hard(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 2);
    feed(f, WARN);
    feed(f, WARN);
    assert_int_equal(feed(f, WARN), 1);
    assert_change(&f->seen.v[0], OK, WARN);
    /* Already confirmed bad: a new severity is reported on its first result. */
    assert_int_equal(feed(f, CRIT), 1);
    assert_change(&f->seen.v[1], WARN, CRIT);
    assert_int_equal(feed(f, WARN), 1);
    assert_change(&f->seen.v[2], CRIT, WARN);
    /* During a soft recovery too: the soft ok is dropped, warning to critical at once. */
    assert_int_equal(feed(f, OK), 0);
    assert_int_equal(feed(f, CRIT), 1);
    assert_change(&f->seen.v[3], WARN, CRIT);
    fixture_free(f);
}

static void test_detect_unknown_is_a_bad_status_of_its_own(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(2, 1);
    assert_int_equal(feed(f, UNKN), 0);
    assert_false(detect_is_hard(f->d));
    assert_int_equal(feed(f, UNKN), 1);
    assert_change(&f->seen.v[0], OK, UNKN);
    assert_int_equal(feed(f, CRIT), 1);
    assert_change(&f->seen.v[1], UNKN, CRIT);
    assert_int_equal(feed(f, UNKN), 1);
    assert_change(&f->seen.v[2], CRIT, UNKN);
    assert_int_equal(feed(f, OK), 1);
    assert_change(&f->seen.v[3], UNKN, OK);
    /* An unknown counts toward failures with the other bad statuses. */
    feed(f, UNKN);
    assert_int_equal(feed(f, CRIT), 1);
    assert_change(&f->seen.v[4], OK, CRIT);
    fixture_free(f);
}

static void test_detect_rejects_bad_input(void **state)
{
    (void)state;
    struct detect_params p;
    struct detect det, *d = &det;
    detect_params_init(&p);
    p.failures = 0;
    assert_int_equal(detect_init(d, "x", &p, NULL, NULL), -EINVAL);
    detect_params_init(&p);
    p.flap_low = 60;
    assert_int_equal(detect_init(d, "x", &p, NULL, NULL), -EINVAL);
    detect_params_init(&p);
    p.flap_high = 101;
    assert_int_equal(detect_init(d, "x", &p, NULL, NULL), -EINVAL);
    detect_params_init(&p);
    assert_int_equal(detect_init(d, "x", &p, NULL, NULL), 0);
    assert_int_equal(detect_feed(d, (enum check_status)7, "x", 1), -EINVAL);
    assert_int_equal(detect_feed(d, CRIT, NULL, 1), 1); /* counted, with no callback to call */
    assert_int_equal(detect_hard_status(d), CRIT);
}

static void test_detect_params_from_check(void **state)
{
    (void)state;
    struct config_check c = {.name = "db", .failures = 4, .recoveries = 2};
    struct detect_params p;
    detect_params_from_check(&p, &c);
    assert_int_equal(p.failures, 4);
    assert_int_equal(p.recoveries, 2);
    assert_true(p.flap_detection);
    assert_true(p.flap_high == DETECT_FLAP_HIGH_DEFAULT);
    assert_true(p.flap_low == DETECT_FLAP_LOW_DEFAULT);
}

static void test_detect_soft_events_when_asked(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct detect_params p;
    struct detect det, *d = &det;
    detect_params_init(&p);
    p.failures = 3;
    p.soft_events = true;
    assert_int_equal(detect_init(d, "db", &p, collect, &seen), 0);
    assert_int_equal(detect_feed(d, WARN, "w", 1), 1);
    assert_false(seen.v[0].hard);
    assert_int_equal(seen.v[0].new_status, WARN);
    assert_int_equal(detect_feed(d, WARN, "w", 2), 0); /* no change, no event */
    assert_int_equal(detect_feed(d, CRIT, "c", 3), 1); /* the hard change */
    assert_true(seen.v[1].hard);
    assert_int_equal(seen.v[1].old_status, OK);
    assert_int_equal(seen.v[1].new_status, CRIT);
    seen_clear(&seen);
}

static void test_detect_flap_percent_weights(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 1);
    assert_true(detect_flap_percent(f->d) == 0.0);
    feed(f, OK);
    feed(f, CRIT); /* one change, the newest: weight 1.25 of 20 */
    assert_float_equal(detect_flap_percent(f->d), 1.25 * 100 / 20, 1e-9);
    for (int i = 0; i < 19; i++)
        feed(f, CRIT);
    /* The change is now the oldest of the window: weight 0.75. */
    assert_float_equal(detect_flap_percent(f->d), 0.75 * 100 / 20, 1e-9);
    feed(f, CRIT);
    assert_true(detect_flap_percent(f->d) == 0.0);
    fixture_free(f);
}

static void test_detect_flapping_starts_once_on_alternation(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 1);
    /*
     * critical, ok, critical, ...: after result k there are k-1 changes, the
     * newest weighted most. Eight changes weigh 9.26 (46 %), nine 10.30
     * (51.5 %): flapping starts on the tenth result.
     */
    for (int i = 1; i <= 9; i++) {
        assert_int_equal(feed(f, i % 2 ? CRIT : OK), 1);
        assert_false(detect_is_flapping(f->d));
    }
    assert_int_equal(seen_count(&f->seen, DETECT_EVENT_STATE_CHANGE), 9);
    assert_int_equal(feed(f, OK), 1);
    assert_true(detect_is_flapping(f->d));
    assert_int_equal(f->seen.v[9].kind, DETECT_EVENT_FLAPPING_STARTED);
    assert_int_equal(f->seen.v[9].new_status, OK);
    assert_true(detect_flap_percent(f->d) >= 50.0);
    /* More alternation: no further events at all. */
    for (int i = 0; i < 40; i++)
        assert_int_equal(feed(f, i % 2 ? OK : CRIT), 0);
    assert_int_equal(f->seen.n, 10);
    assert_int_equal(seen_count(&f->seen, DETECT_EVENT_FLAPPING_STARTED), 1);
    fixture_free(f);
}

static void test_detect_flapping_stops_and_reports_the_hard_state_once(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 1);
    for (int i = 0; i < 30; i++)
        feed(f, i % 2 ? OK : CRIT);
    assert_true(detect_is_flapping(f->d));
    size_t before = f->seen.n;
    /* The ninth result, critical, was the last reported; the tenth started flapping. */
    assert_int_equal(last_reported(&f->seen), CRIT);

    /* Settles ok: the percent falls as the changes age out. */
    int results = 0;
    while (detect_is_flapping(f->d)) {
        int r = feed(f, OK);
        results++;
        assert_true(results <= DETECT_HISTORY);
        if (detect_is_flapping(f->d))
            assert_int_equal(r, 0);
        else
            assert_int_equal(r, 2);
    }
    assert_true(detect_flap_percent(f->d) < 25.0);
    assert_int_equal(f->seen.n, before + 2);
    assert_int_equal(f->seen.v[before].kind, DETECT_EVENT_FLAPPING_STOPPED);
    assert_change(&f->seen.v[before + 1], CRIT, OK);
    assert_int_equal(feed(f, OK), 0);
    assert_int_equal(seen_count(&f->seen, DETECT_EVENT_FLAPPING_STOPPED), 1);
    fixture_free(f);
}

static void test_detect_flapping_stop_without_change_reports_nothing_more(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(1, 1);
    for (int i = 0; i < 30; i++)
        feed(f, i % 2 ? CRIT : OK);
    assert_true(detect_is_flapping(f->d));
    size_t before = f->seen.n;
    enum check_status reported = last_reported(&f->seen);
    while (detect_is_flapping(f->d))
        feed(f, reported);
    assert_int_equal(f->seen.n, before + 1);
    assert_int_equal(f->seen.v[before].kind, DETECT_EVENT_FLAPPING_STOPPED);
    fixture_free(f);
}

static void test_detect_flapping_thresholds_are_configurable(void **state)
{
    (void)state;
    struct seen seen = {0};
    struct detect_params p;
    struct detect det, *d = &det;
    detect_params_init(&p);
    p.flap_high = 90;
    p.flap_low = 80;
    assert_int_equal(detect_init(d, "db", &p, collect, &seen), 0);
    /* Nine changes (51.5 %) would flap with the defaults; not at 90 %. */
    for (int i = 0; i < 10; i++)
        detect_feed(d, i % 2 ? OK : CRIT, "", (uint64_t)i);
    assert_false(detect_is_flapping(d));
    for (int i = 10; i < 21; i++)
        detect_feed(d, i % 2 ? OK : CRIT, "", (uint64_t)i);
    assert_true(detect_is_flapping(d)); /* 20 changes: 100 % */
    seen_clear(&seen);

    detect_params_init(&p);
    p.flap_detection = false;
    assert_int_equal(detect_init(d, "db", &p, collect, &seen), 0);
    for (int i = 0; i < 42; i++)
        assert_int_equal(detect_feed(d, i % 2 ? OK : CRIT, "", (uint64_t)i), 1);
    assert_false(detect_is_flapping(d));
    seen_clear(&seen);
}

/* Feeds the same sequence to two machines and checks they emit the same events. */
static void assert_same_future(struct fixture *a, struct fixture *b, const enum check_status *seq,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t na = a->seen.n, nb = b->seen.n;
        assert_int_equal(feed(a, seq[i]), feed(b, seq[i]));
        assert_int_equal(a->seen.n - na, b->seen.n - nb);
        for (size_t j = 0; j < a->seen.n - na; j++) {
            const struct detect_event *x = &a->seen.v[na + j], *y = &b->seen.v[nb + j];
            assert_int_equal(x->kind, y->kind);
            assert_int_equal(x->old_status, y->old_status);
            assert_int_equal(x->new_status, y->new_status);
            assert_int_equal(x->hard, y->hard);
        }
        assert_int_equal(detect_status(a->d), detect_status(b->d));
        assert_int_equal(detect_hard_status(a->d), detect_hard_status(b->d));
        assert_int_equal(detect_count(a->d), detect_count(b->d));
        assert_true(detect_flap_percent(a->d) == detect_flap_percent(b->d));
    }
}

static void test_detect_snapshot_round_trip(void **state)
{
    (void)state;
    static const enum check_status prefixes[][30] = {
            {CRIT, CRIT},                                        /* soft critical 2/3 */
            {CRIT, CRIT, CRIT, OK},                              /* soft recovery */
            {CRIT, OK, CRIT, OK, CRIT, OK,   CRIT, OK, CRIT, OK, /* flapping */
             CRIT, OK, CRIT, OK, CRIT, OK,   CRIT, OK, CRIT, OK,
             CRIT, OK, CRIT, OK, CRIT, WARN, WARN},
    };
    static const size_t n_prefix[] = {2, 4, 27};
    static const enum check_status future[] = {CRIT, OK, OK, WARN, WARN, WARN, OK,   OK,
                                               OK,   OK, OK, OK,   OK,   OK,   OK,   OK,
                                               OK,   OK, OK, OK,   OK,   UNKN, UNKN, UNKN};
    for (size_t k = 0; k < 3; k++) {
        struct fixture *a = fixture_new(3, 2);
        for (size_t i = 0; i < n_prefix[k]; i++)
            feed(a, prefixes[k][i]);
        struct detect_snapshot snap;
        detect_snapshot_take(a->d, &snap);
        assert_int_equal(snap.n_history,
                         n_prefix[k] < DETECT_HISTORY ? n_prefix[k] : DETECT_HISTORY);
        assert_int_equal(snap.history[snap.n_history - 1], prefixes[k][n_prefix[k] - 1]);

        struct fixture *b = fixture_new(3, 2);
        assert_int_equal(detect_snapshot_restore(b->d, &snap), 0);
        b->t = a->t;
        struct detect_snapshot again;
        detect_snapshot_take(b->d, &again);
        assert_memory_equal(&snap, &again, sizeof(snap));
        assert_int_equal(detect_is_flapping(b->d), k == 2);
        assert_same_future(a, b, future, sizeof(future) / sizeof(future[0]));
        fixture_free(a);
        fixture_free(b);
    }
}

static void test_detect_snapshot_flapping_ends_when_detection_is_off(void **state)
{
    (void)state;
    struct fixture *a = fixture_new(1, 1);
    for (int i = 0; i < 12; i++)
        feed(a, i % 2 ? OK : CRIT);
    assert_true(detect_is_flapping(a->d));
    struct detect_snapshot snap;
    detect_snapshot_take(a->d, &snap);

    struct seen seen = {0};
    struct detect_params p;
    struct detect det, *d = &det;
    detect_params_init(&p);
    p.flap_detection = false;
    assert_int_equal(detect_init(d, "web-health", &p, collect, &seen), 0);
    assert_int_equal(detect_snapshot_restore(d, &snap), 0);
    assert_true(detect_is_flapping(d));
    /* Last reported critical (the ninth result); now ok: stopped, then the change. */
    assert_int_equal(detect_feed(d, OK, "ok", 99), 2);
    assert_false(detect_is_flapping(d));
    assert_int_equal(seen.v[0].kind, DETECT_EVENT_FLAPPING_STOPPED);
    assert_change(&seen.v[1], CRIT, OK);
    seen_clear(&seen);
    fixture_free(a);
}

static void test_detect_snapshot_restore_rejects_nonsense(void **state)
{
    (void)state;
    struct fixture *f = fixture_new(3, 1);
    feed(f, CRIT);
    struct detect_snapshot good, bad;
    detect_snapshot_take(f->d, &good);
    bad = good;
    bad.status = 9;
    assert_int_equal(detect_snapshot_restore(f->d, &bad), -EINVAL);
    bad = good;
    bad.n_history = DETECT_HISTORY + 1;
    assert_int_equal(detect_snapshot_restore(f->d, &bad), -EINVAL);
    bad = good;
    bad.history[0] = 4;
    assert_int_equal(detect_snapshot_restore(f->d, &bad), -EINVAL);
    bad = good;
    bad.status = bad.hard_status; /* soft, yet at the hard status */
    assert_int_equal(detect_snapshot_restore(f->d, &bad), -EINVAL);
    /* Unchanged by the refusals. */
    assert_int_equal(detect_status(f->d), CRIT);
    assert_int_equal(detect_count(f->d), 1);
    fixture_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_detect_failures_one_is_hard_at_once),
            cmocka_unit_test(test_detect_failures_three_stays_soft_until_the_third),
            cmocka_unit_test(test_detect_ok_between_failures_resets_the_count),
            cmocka_unit_test(test_detect_mixed_bad_results_count_together),
            cmocka_unit_test(test_detect_recoveries_need_consecutive_ok),
            cmocka_unit_test(test_detect_warning_critical_changes_at_once_while_hard),
            cmocka_unit_test(test_detect_unknown_is_a_bad_status_of_its_own),
            cmocka_unit_test(test_detect_rejects_bad_input),
            cmocka_unit_test(test_detect_params_from_check),
            cmocka_unit_test(test_detect_soft_events_when_asked),
            cmocka_unit_test(test_detect_flap_percent_weights),
            cmocka_unit_test(test_detect_flapping_starts_once_on_alternation),
            cmocka_unit_test(test_detect_flapping_stops_and_reports_the_hard_state_once),
            cmocka_unit_test(test_detect_flapping_stop_without_change_reports_nothing_more),
            cmocka_unit_test(test_detect_flapping_thresholds_are_configurable),
            cmocka_unit_test(test_detect_snapshot_round_trip),
            cmocka_unit_test(test_detect_snapshot_flapping_ends_when_detection_is_off),
            cmocka_unit_test(test_detect_snapshot_restore_rejects_nonsense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
