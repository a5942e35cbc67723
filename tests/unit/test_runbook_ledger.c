/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/runbook/ledger.c: the circuit breaker's count per target
 * and window, relapses within the window only, statistics per runbook and
 * per target, and quarantines: due, lifted, not due again at once.
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

#include "runbook/ledger.h"

#define MIN  (60 * 1000LL)
#define HOUR (60 * MIN)

static const struct config_runbook fix_web = {
        .name = "fix-web",
        .guard = {.max_runs = 3, .per_ms = HOUR, .key = "host"},
        .relapse = {.within_ms = 24 * HOUR, .quarantine_above = 50.0, .min_healed = 3},
};

static const struct config_runbook fix_db = {
        .name = "fix-db",
        .relapse = {.within_ms = HOUR, .quarantine_above = 50.0, .min_healed = 2},
};

static const struct config_runbook book_list[] = {fix_web, fix_db};
static const struct config config = {.runbooks = book_list, .n_runbooks = 2};

static void put(struct ledger *l, int64_t id, const char *runbook, const char *target,
                const char *fp, int64_t started, int64_t ended, enum run_outcome o)
{
    struct ledger_run r = {.id = id,
                           .runbook = runbook,
                           .target = target,
                           .fingerprint = fp,
                           .automatic = true,
                           .started_ms = started,
                           .ended_ms = ended,
                           .outcome = o};
    ledger_run_put(l, &r);
}

static void test_ledger_outcome_names(void **state)
{
    (void)state;
    enum run_outcome o;
    assert_string_equal(run_outcome_name(RUN_INTERRUPTED), "interrupted");
    assert_int_equal(run_outcome_parse("healed", &o), 0);
    assert_int_equal(o, RUN_HEALED);
    assert_int_equal(run_outcome_parse("cured", &o), -EINVAL);
    assert_false(run_outcome_is_final(RUN_WAITING));
    assert_false(run_outcome_is_final(RUN_RUNNING));
    assert_true(run_outcome_is_final(RUN_CANCELED));
}

static void test_ledger_guard_counts_per_target_in_window(void **state)
{
    (void)state;
    struct ledger *l = ledger_new();
    int64_t now = 100 * HOUR;
    unsigned count;
    assert_false(ledger_guard_trips(l, &fix_web, "web1", now, &count));
    assert_int_equal(count, 0);
    put(l, 1, "fix-web", "web1", "f", now - 2 * HOUR, now - 2 * HOUR + 5, RUN_HEALED); /* old */
    put(l, 2, "fix-web", "web1", "f", now - 50 * MIN, now - 49 * MIN, RUN_HEALED);
    put(l, 3, "fix-web", "web1", "f", now - 40 * MIN, now - 39 * MIN, RUN_SUSPENDED);
    put(l, 4, "fix-web", "web2", "g", now - 30 * MIN, now - 29 * MIN, RUN_FAILED);
    put(l, 5, "fix-db", "web1", "h", now - 20 * MIN, 0, RUN_RUNNING);
    put(l, 6, "fix-web", "web1", "f", now - 10 * MIN, 0, RUN_WAITING);
    assert_false(ledger_guard_trips(l, &fix_web, "web1", now, &count));
    assert_int_equal(count, 2); /* 2 and 6: not the old one, the suspended one, others' */
    put(l, 7, "fix-web", "web1", NULL, now - MIN, now, RUN_FAILED); /* by hand counts too */
    assert_true(ledger_guard_trips(l, &fix_web, "web1", now, &count));
    assert_int_equal(count, 3);
    assert_false(ledger_guard_trips(l, &fix_web, "web2", now, &count));
    assert_int_equal(count, 1);
    /* an hour after run 2 started, it leaves the window */
    assert_false(ledger_guard_trips(l, &fix_web, "web1", now + 10 * MIN, &count));
    assert_int_equal(count, 2);
    /* a runbook without a guard never trips */
    for (int64_t id = 10; id < 20; id++)
        put(l, id, "fix-db", "fix-db", NULL, now, now, RUN_FAILED);
    assert_false(ledger_guard_trips(l, &fix_db, "fix-db", now, NULL));
    ledger_free(l);
}

static void test_ledger_put_replaces_by_id(void **state)
{
    (void)state;
    struct ledger *l = ledger_new();
    put(l, 9, "fix-web", "web1", "f", 1000, 0, RUN_RUNNING);
    put(l, 3, "fix-web", "web1", "f", 500, 600, RUN_FAILED); /* out of order */
    put(l, 9, "fix-web", "web1", "f", 1000, 3000, RUN_HEALED);
    struct ledger_stats *v;
    size_t n;
    ledger_stats_list(l, NULL, &v, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].runs, 2);
    assert_int_equal(v[0].healed, 1);
    assert_int_equal(v[0].failed, 1);
    assert_int_equal(v[0].other, 0);
    free(v);
    ledger_free(l);
}

static void test_ledger_relapse_within_window_only(void **state)
{
    (void)state;
    struct ledger *l = ledger_new();
    int64_t t = 10 * HOUR;
    put(l, 1, "fix-web", "web1", "fp-a", t, t + 2000, RUN_HEALED);
    put(l, 2, "fix-web", "web1", "fp-b", t, t + 2000, RUN_HEALED);
    put(l, 3, "fix-db", "db1", "fp-c", t, t + 2000, RUN_HEALED);
    put(l, 4, "fix-web", "web1", "fp-d", t, t + 2000, RUN_FAILED);

    /* within 24 h: a relapse, counted once */
    assert_int_equal(ledger_incident_opened(l, &config, "fp-a", t + 23 * HOUR), 1);
    assert_int_equal(ledger_incident_opened(l, &config, "fp-a", t + 23 * HOUR + 1), 0);
    /* after the window: not a relapse */
    assert_int_equal(ledger_incident_opened(l, &config, "fp-b", t + 2000 + 24 * HOUR + 1), 0);
    /* the window is the runbook's own: fix-db's is an hour */
    assert_int_equal(ledger_incident_opened(l, &config, "fp-c", t + 2 * HOUR), 0);
    /* a failed run cannot relapse, nor an unknown fingerprint, nor a run by hand */
    assert_int_equal(ledger_incident_opened(l, &config, "fp-d", t + HOUR), 0);
    assert_int_equal(ledger_incident_opened(l, &config, "fp-x", t + HOUR), 0);
    assert_int_equal(ledger_incident_opened(l, &config, NULL, t + HOUR), 0);
    /* an incident opened before the run healed is not a relapse of it */
    put(l, 5, "fix-web", "web1", "fp-e", t, t + HOUR, RUN_HEALED);
    assert_int_equal(ledger_incident_opened(l, &config, "fp-e", t + 10), 0);
    /* the last healing run is the one that relapses */
    put(l, 6, "fix-web", "web1", "fp-e", t + 2 * HOUR, t + 3 * HOUR, RUN_HEALED);
    assert_int_equal(ledger_incident_opened(l, &config, "fp-e", t + 4 * HOUR), 6);

    struct ledger_stats *v;
    size_t n;
    ledger_stats_list(l, "fix-web", &v, &n);
    assert_int_equal(n, 2); /* the total, and web1 */
    assert_int_equal(v[0].relapsed, 2);
    free(v);
    ledger_free(l);
}

static void test_ledger_stats_per_runbook_and_target(void **state)
{
    (void)state;
    struct ledger *l = ledger_new();
    put(l, 1, "fix-web", "web2", "f", 0, 100, RUN_HEALED);
    put(l, 2, "fix-web", "web1", "f", 0, 300, RUN_HEALED);
    put(l, 3, "fix-web", "web1", "f", 0, 200, RUN_HEALED);
    put(l, 4, "fix-web", "web1", "f", 0, 900, RUN_HEALED);
    put(l, 5, "fix-web", "web1", "f", 0, 50, RUN_FAILED);
    put(l, 6, "fix-web", "web1", "f", 0, 0, RUN_SUSPENDED);
    put(l, 7, "fix-web", "web2", "f", 0, 0, RUN_EXPIRED);
    put(l, 8, "fix-db", "fix-db", NULL, 0, 10, RUN_COMPLETED);
    put(l, 9, "fix-db", "fix-db", NULL, 0, 10, RUN_CANCELED);
    struct ledger_stats *v;
    size_t n;
    ledger_stats_list(l, NULL, &v, &n);
    assert_int_equal(n, 5);
    /* fix-db first (name order), then its one target */
    assert_string_equal(v[0].runbook, "fix-db");
    assert_null(v[0].target);
    assert_int_equal(v[0].runs, 2);
    assert_int_equal(v[0].completed, 1);
    assert_int_equal(v[0].canceled, 1);
    assert_int_equal(v[0].median_heal_ms, 0); /* none healed */
    assert_string_equal(v[1].target, "fix-db");
    assert_string_equal(v[2].runbook, "fix-web");
    assert_null(v[2].target);
    assert_int_equal(v[2].runs, 7);
    assert_int_equal(v[2].healed, 4);
    assert_int_equal(v[2].failed, 1);
    assert_int_equal(v[2].suspended, 1);
    assert_int_equal(v[2].other, 1);
    assert_int_equal(v[2].median_heal_ms, 250); /* 100 200 300 900 */
    assert_string_equal(v[3].target, "web1");
    assert_int_equal(v[3].runs, 5);
    assert_int_equal(v[3].healed, 3);
    assert_int_equal(v[3].median_heal_ms, 300); /* 200 300 900 */
    assert_string_equal(v[4].target, "web2");
    assert_int_equal(v[4].runs, 2);
    assert_int_equal(v[4].median_heal_ms, 100);
    free(v);

    ledger_stats_list(l, "fix-db", &v, &n);
    assert_int_equal(n, 2);
    free(v);
    ledger_stats_list(l, "nothing", &v, &n);
    assert_int_equal(n, 0);
    free(v);
    ledger_free(l);
}

static void test_ledger_quarantine_due_lift_not_again(void **state)
{
    (void)state;
    struct ledger *l = ledger_new();
    char *reason = NULL;
    int64_t t = HOUR;
    /* 2 healed, both relapsed: under min_healed (3), not yet */
    put(l, 1, "fix-web", "web1", "f1", t, t + 10, RUN_HEALED);
    put(l, 2, "fix-web", "web1", "f2", t, t + 10, RUN_HEALED);
    assert_int_equal(ledger_incident_opened(l, &config, "f1", t + MIN), 1);
    assert_int_equal(ledger_incident_opened(l, &config, "f2", t + MIN), 2);
    assert_false(ledger_quarantine_due(l, &fix_web, &reason));
    /* 4 healed, 2 relapsed: 50% is not above 50% */
    put(l, 3, "fix-web", "web1", "f3", t, t + 10, RUN_HEALED);
    put(l, 4, "fix-web", "web1", "f4", t, t + 10, RUN_HEALED);
    assert_false(ledger_quarantine_due(l, &fix_web, &reason));
    /* 3 of 4 */
    assert_int_equal(ledger_incident_opened(l, &config, "f3", t + MIN), 3);
    assert_true(ledger_quarantine_due(l, &fix_web, &reason));
    assert_string_equal(reason, "relapse rate 3 of 4 healed runs (75%) over 50%");
    assert_null(ledger_quarantine_get(l, "fix-web"));
    ledger_quarantine_set(l, "fix-web", t + 2 * MIN, reason);
    free(reason);
    const struct ledger_quarantine *q = ledger_quarantine_get(l, "fix-web");
    assert_non_null(q);
    assert_string_equal(q->runbook, "fix-web");
    assert_int_equal(q->since_ms, t + 2 * MIN);
    assert_string_equal(q->reason, "relapse rate 3 of 4 healed runs (75%) over 50%");
    assert_null(ledger_quarantine_get(l, "fix-db"));
    /* never due while quarantined */
    reason = NULL;
    assert_false(ledger_quarantine_due(l, &fix_web, &reason));
    assert_null(reason);

    /* lifted: the runs before do not count again */
    ledger_quarantine_lift(l, "fix-web", t + HOUR);
    assert_null(ledger_quarantine_get(l, "fix-web"));
    assert_false(ledger_quarantine_due(l, &fix_web, &reason));
    /* new runs after the lift count from zero */
    for (int64_t id = 10; id < 13; id++) {
        char fp[8];
        snprintf(fp, sizeof(fp), "g%d", (int)id);
        put(l, id, "fix-web", "web1", fp, t + 2 * HOUR, t + 2 * HOUR + 10, RUN_HEALED);
    }
    assert_false(ledger_quarantine_due(l, &fix_web, &reason));
    assert_int_equal(ledger_incident_opened(l, &config, "g10", t + 3 * HOUR), 10);
    assert_int_equal(ledger_incident_opened(l, &config, "g11", t + 3 * HOUR), 11);
    assert_true(ledger_quarantine_due(l, &fix_web, &reason));
    assert_string_equal(reason, "relapse rate 2 of 3 healed runs (67%) over 50%");
    free(reason);
    ledger_free(l);
}

static void test_ledger_bounded_keeps_runs_in_flight(void **state)
{
    (void)state;
    struct ledger *l = ledger_new();
    put(l, 1, "fix-web", "web1", "f", 0, 0, RUN_WAITING);
    for (int64_t id = 2; id <= 100001; id++)
        put(l, id, "fix-web", "web1", "f", id, id + 1, RUN_FAILED);
    struct ledger_stats *v;
    size_t n;
    ledger_stats_list(l, "fix-web", &v, &n);
    assert_int_equal(n, 2);
    assert_true(v[0].runs <= 100000);
    assert_true(v[0].runs >= 75000);
    assert_int_equal(v[0].other, 1); /* the waiting run stayed */
    free(v);
    /* the newest stayed too */
    unsigned count;
    struct config_runbook rb = fix_web;
    rb.guard.per_ms = 10;
    ledger_guard_trips(l, &rb, "web1", 100001, &count);
    assert_int_equal(count, 10);
    ledger_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_ledger_outcome_names),
            cmocka_unit_test(test_ledger_guard_counts_per_target_in_window),
            cmocka_unit_test(test_ledger_put_replaces_by_id),
            cmocka_unit_test(test_ledger_relapse_within_window_only),
            cmocka_unit_test(test_ledger_stats_per_runbook_and_target),
            cmocka_unit_test(test_ledger_quarantine_due_lift_not_again),
            cmocka_unit_test(test_ledger_bounded_keeps_runs_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
