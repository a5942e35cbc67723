/* SPDX-License-Identifier: MIT */
/*
 * Tests of the dispatcher's policy (src/notify/notify.c) on a real SQLite
 * store in a temporary directory, with the desk it writes timelines
 * through: who is told of an incident opened, escalated and resolved by
 * each team's policy, a heal that pages no one, the escalation levels'
 * timing and an acknowledgement that stops them, what a stop still
 * queues for the next start, and (delivered to an exec sink, a shell that
 * appends each message, a line of JSON, to a file) a burst grouped within the rate limit.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "itsm/itsm.h"
#include "notify/notify.h"
#include "store/store.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    char *sink; /* the file the exec notifier appends each message to */
    uv_loop_t uv;
    struct config *config;
    struct store *st;
    struct store_reader *rd;
    struct itsm *desk;
    struct notify *n;
};

#define CONFIG_FMT                                                                      \
    "notifiers:\n"                                                                      \
    "  - {name: hook, type: exec, argv: [/bin/sh, -c, 'cat >> sink', hook], cwd: %s}\n" \
    "  - {name: pager, type: exec, argv: [/bin/true], cwd: /}\n"                        \
    "  - {name: news, type: exec, argv: [/bin/true], cwd: /}\n"                         \
    "  - {name: slowhook, type: exec, cwd: %s, argv: [/bin/sh, -c, "                    \
    "'touch started; sleep 1; cat >> sink']}\n"                                         \
    "  - {name: stuck, type: exec, cwd: %s, argv: [/bin/sh, -c, 'touch started; "       \
    "exec sleep 60']}\n"                                                                \
    "teams:\n"                                                                          \
    "  - name: web\n"                                                                   \
    "    notify: [hook]\n"                                                              \
    "    rate_limit: 0s\n"                                                              \
    "    escalation: [{after: 5m, notify: [pager]}]\n"                                  \
    "    users: {notify: [news], on: [escalated, resolved]}\n"                          \
    "  - {name: loud, notify: [hook], rate_limit: 0s, notify_on: [opened, escalated, "  \
    "resolved]}\n"                                                                      \
    "  - {name: burst, notify: [hook], rate_limit: 1s}\n"                               \
    "  - {name: ops, notify: [hook], rate_limit: 0s, oncall: {people: [bob]}}\n"        \
    "  - {name: slow, notify: [slowhook], rate_limit: 0s}\n"                            \
    "  - {name: stuck, notify: [stuck], rate_limit: 0s}\n"                              \
    "routes:\n"                                                                         \
    "  - {match: '{service=\"db\"}', notifiers: [pager, hook], continue: true}\n"

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-notify-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->sink = xasprintf("%s/sink", fx->dir);
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    char *text = xasprintf(CONFIG_FMT, fx->dir, fx->dir, fx->dir);
    struct config_diags d = {0};
    if (config_load_buffer("hale.yaml", text, strlen(text), &fx->config, &d) < 0)
        fail_msg("config: %s", d.n ? d.v[0].msg : "?");
    config_diags_fini(&d);
    free(text);
    char *data = xasprintf("%s/data", fx->dir);
    struct store_options so = {.data_dir = data, .uv = &fx->uv};
    struct err e = {0};
    if (store_open(&so, &fx->st, &e) < 0 || itsm_new(fx->st, fx->config, &fx->desk, &e) < 0 ||
        store_reader_open(fx->st, &fx->rd, &e) < 0)
        fail_msg("open: %s", e.msg);
    free(data);
    struct notify_options no = {.uv = &fx->uv,
                                .store = fx->st,
                                .desk = fx->desk,
                                .config = fx->config,
                                .base_url = "http://127.0.0.1:1"};
    if (notify_new(&no, &fx->n, &e) < 0)
        fail_msg("notify_new: %s", e.msg);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    notify_stop(fx->n);
    itsm_close_reader(fx->desk);
    store_reader_close(fx->rd);
    store_close(fx->st);
    notify_free(fx->n);
    itsm_free(fx->desk);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    config_unref(fx->config);
    testutil_rm_rf(fx->dir);
    free(fx->sink);
    free(fx);
    return 0;
}

static void flag(int result, void *data)
{
    assert_int_equal(result, 0);
    *(int *)data = 1;
}

/* Runs the loop until every batch submitted so far is durable. */
static void settle(struct fixture *fx)
{
    int done = 0;
    store_submit(fx->st, store_batch_new(), flag, &done);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
}

/* An incident as the desk hands it to the dispatcher (strings borrowed). */
static struct incident incident(int64_t id, const char *team, const char *runbook)
{
    return (struct incident){
            .id = id,
            .type = INCIDENT_TYPE_INCIDENT,
            .title = (char *)(uintptr_t) "disk full on db1",
            .team = (char *)(uintptr_t)team,
            .runbook = (char *)(uintptr_t)runbook,
            .state = INCIDENT_NEW,
            .severity = INCIDENT_SEVERITY_CRITICAL,
            .priority = 2,
            .opened_ms = 1,
    };
}

/*
 * The notifications of incident id in the store, one "reason:notifier" each
 * (":canceled" added to those canceled), comma separated, in the order
 * they were queued. Free the string.
 */
static char *told(struct fixture *fx, int64_t id)
{
    settle(fx);
    struct store_notification *v = NULL;
    size_t count = 0;
    assert_int_equal(store_notifications_list(fx->rd, id, &v, &count), 0);
    struct strbuf b;
    strbuf_init(&b, 0);
    for (size_t k = 0; k < count; k++) {
        /* Pending or delivered: the loop's timing decides, the policy does not. */
        bool canceled = strcmp(v[k].state, "canceled") == 0;
        strbuf_addf(&b, "%s%s:%s%s", k ? "," : "", v[k].reason, v[k].notifier,
                    canceled ? ":canceled" : "");
        store_notification_fini(&v[k]);
    }
    free(v);
    return b.s ? b.s : xstrdup("");
}

static void assert_told(struct fixture *fx, int64_t id, const char *want)
{
    char *got = told(fx, id);
    assert_string_equal(got, want);
    free(got);
}

static void test_notify_a_heal_pages_no_one(void **state)
{
    struct fixture *fx = *state;
    struct incident i = incident(1, "web", "fix-disk");
    notify_incident_changed(fx->n, &i);
    i.state = INCIDENT_RESOLVED;
    i.resolved_by = (char *)(uintptr_t) "hale";
    notify_incident_changed(fx->n, &i);
    assert_told(fx, 1, "");
}

static void test_notify_escalated_pages_the_team_then_the_levels(void **state)
{
    struct fixture *fx = *state;
    struct incident i = incident(1, "web", "fix-disk");
    notify_incident_changed(fx->n, &i); /* opened: not by web's policy */
    assert_told(fx, 1, "");
    notify_escalate(fx->n, &i, NULL, "run 1 of fix-disk ended failed");
    assert_told(fx, 1, "escalated:hook,level:pager,users:news");

    /* Level 2 falls due its delay after the page. */
    struct store_notification *v = NULL;
    size_t count = 0;
    assert_int_equal(store_notifications_list(fx->rd, 1, &v, &count), 0);
    assert_int_equal(count, 3);
    assert_int_equal(v[1].level, 2);
    assert_int_equal(v[1].due_ms - v[0].due_ms, 5 * 60 * 1000);
    for (size_t k = 0; k < count; k++)
        store_notification_fini(&v[k]);
    free(v);

    /* A second escalation of the same opening pages nobody again. */
    notify_escalate(fx->n, &i, NULL, "still failing");
    assert_told(fx, 1, "escalated:hook,level:pager,users:news");
}

static void test_notify_ack_stops_the_chain(void **state)
{
    struct fixture *fx = *state;
    struct incident i = incident(1, "web", NULL); /* no runbook: escalated at once */
    notify_incident_changed(fx->n, &i);
    assert_told(fx, 1, "escalated:hook,level:pager,users:news");
    i.state = INCIDENT_ACKNOWLEDGED;
    notify_incident_changed(fx->n, &i);
    assert_told(fx, 1, "escalated:hook,level:pager:canceled,users:news");
    /* Resolved: the team told of it hears it ended, and so do the users. */
    i.state = INCIDENT_RESOLVED;
    i.resolved_by = (char *)(uintptr_t) "user:alice";
    notify_incident_changed(fx->n, &i);
    char *got = told(fx, 1);
    assert_non_null(strstr(got, "level:pager:canceled"));
    assert_non_null(strstr(got, "users:news,users:news"));
    assert_null(strstr(got, "resolved:hook")); /* web does not ask to hear of ends */
    free(got);
}

static void test_notify_opened_and_resolved_by_policy(void **state)
{
    struct fixture *fx = *state;
    struct incident i = incident(1, "loud", "fix-disk");
    notify_incident_changed(fx->n, &i);
    assert_told(fx, 1, "opened:hook");
    i.state = INCIDENT_RESOLVED;
    i.resolved_by = (char *)(uintptr_t) "hale";
    notify_incident_changed(fx->n, &i);
    assert_told(fx, 1, "opened:hook,resolved:hook");

    /* web does not ask for resolved, nor for opened: nothing. */
    struct incident j = incident(2, "web", "fix-disk");
    notify_incident_changed(fx->n, &j);
    j.state = INCIDENT_RESOLVED;
    notify_incident_changed(fx->n, &j);
    assert_told(fx, 2, "");
}

/* Runs that a stop interrupts escalate after notify_stop(): the page waits in the outbox. */
static void test_notify_a_stop_still_queues_for_the_next_start(void **state)
{
    struct fixture *fx = *state;
    notify_stop(fx->n);
    struct incident i = incident(1, "web", "fix-disk");
    notify_escalate(fx->n, &i, NULL, "run 1 of fix-disk ended interrupted: hale stopped");
    struct incident j = incident(2, "web", NULL);
    notify_incident_changed(fx->n, &j); /* opened as hale stops, with no runbook */
    assert_told(fx, 1, "escalated:hook,level:pager,users:news");
    assert_told(fx, 2, "escalated:hook,level:pager,users:news");
    struct store_notification *v = NULL;
    size_t count = 0;
    assert_int_equal(store_notifications_list(fx->rd, 0, &v, &count), 0);
    assert_int_equal(count, 6); /* the outbox the next start loads */
    for (size_t k = 0; k < count; k++)
        store_notification_fini(&v[k]);
    free(v);
}

struct opened {
    struct notify *n;
    int count;
};

static void on_opened(int result, const struct incident *i, void *data)
{
    struct opened *o = data;
    assert_int_equal(result, 0);
    notify_incident_changed(o->n, i); /* as the desk's watch does */
    o->count++;
}

/* The messages the exec sink took: one JSON document a line. */
static size_t messages_in(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t count = 0;
    char line[8192];
    bool start = true;
    while (fgets(line, sizeof(line), f)) {
        if (start && strncmp(line, "{\"version\":", 11) == 0)
            count++;
        start = strchr(line, '\n') != NULL;
    }
    fclose(f);
    return count;
}

static void test_notify_a_burst_is_grouped_within_the_rate_limit(void **state)
{
    struct fixture *fx = *state;
    struct opened o = {.n = fx->n};
    for (int k = 0; k < 4; k++) {
        char title[32];
        snprintf(title, sizeof(title), "down %d", k);
        struct itsm_opening op = {.type = INCIDENT_TYPE_INCIDENT,
                                  .title = title,
                                  .team = "burst",
                                  .severity = INCIDENT_SEVERITY_CRITICAL,
                                  .actor = "user:alice"};
        assert_int_equal(itsm_open(fx->desk, &op, on_opened, &o, NULL), 0);
    }
    while (o.count < 4)
        uv_run(&fx->uv, UV_RUN_ONCE);
    /* Every one delivered (the exec sink's timer drives the loop meanwhile). */
    while (notify_pending(fx->n) > 0)
        uv_run(&fx->uv, UV_RUN_ONCE);
    for (int64_t id = 1; id <= 4; id++)
        assert_told(fx, id, "escalated:hook");
    /* Fewer messages than incidents: those due within the window went as one. */
    size_t messages = messages_in(fx->sink);
    assert_true(messages >= 1 && messages < 4);
}

static void on_done(int result, const struct incident *i, void *data)
{
    assert_int_equal(result, 0);
    *(int64_t *)data = i->id;
}

/* Opens an incident of team through the desk and returns its id, durable. */
static int64_t desk_open(struct fixture *fx, const char *team)
{
    int64_t id = 0;
    struct itsm_opening op = {.type = INCIDENT_TYPE_INCIDENT,
                              .title = "queue stuck",
                              .team = team,
                              .severity = INCIDENT_SEVERITY_CRITICAL,
                              .actor = "user:alice"};
    assert_int_equal(itsm_open(fx->desk, &op, on_done, &id, NULL), 0);
    settle(fx);
    assert_true(id > 0);
    return id;
}

static void test_notify_oncall_becomes_the_assignee_without_ack(void **state)
{
    struct fixture *fx = *state;
    int64_t id = desk_open(fx, "ops");
    struct incident i = {0};
    assert_int_equal(itsm_incident_get(fx->desk, id, &i), 0);
    notify_escalate(fx->n, &i, NULL, "run 1 of fix-queue ended failed");
    incident_fini(&i);
    settle(fx);
    assert_int_equal(itsm_incident_get(fx->desk, id, &i), 0);
    assert_non_null(i.assignee);
    assert_string_equal(i.assignee, "bob");
    assert_int_equal(i.state, INCIDENT_NEW); /* not acknowledged: the levels still wait */
    assert_int_equal(i.acknowledged_ms, 0);
    incident_fini(&i);
    struct timeline_entry *v = NULL;
    size_t count = 0;
    assert_int_equal(store_timeline_list(fx->rd, id, &v, &count), 0);
    bool said = false;
    for (size_t k = 0; k < count; k++) {
        if (v[k].kind == TIMELINE_ASSIGNMENT &&
            strcmp(v[k].text, "assigned to bob, on call for ops this week") == 0)
            said = true;
        timeline_entry_fini(&v[k]);
    }
    free(v);
    assert_true(said);
}

static void test_notify_oncall_never_overwrites_a_persons_assignment(void **state)
{
    struct fixture *fx = *state;
    int64_t id = desk_open(fx, "ops");
    int64_t done = 0;
    struct itsm_request rq = {
            .action = ITSM_ASSIGN, .id = id, .actor = "user:carol", .assignee = "carol"};
    assert_int_equal(itsm_act(fx->desk, &rq, on_done, &done, NULL), 0);
    settle(fx);
    struct incident i = {0};
    assert_int_equal(itsm_incident_get(fx->desk, id, &i), 0);
    notify_escalate(fx->n, &i, NULL, "run 1 of fix-queue ended failed");
    incident_fini(&i);
    settle(fx);
    assert_int_equal(itsm_incident_get(fx->desk, id, &i), 0);
    assert_string_equal(i.assignee, "carol");
    incident_fini(&i);
}

/* A route's notifiers hear the escalation beside the team's, each once; other labels, only the
 * team. */
static void test_notify_route_notifiers_join_the_team(void **state)
{
    struct fixture *fx = *state;
    struct incident i = incident(1, "loud", "fix-disk");
    i.state = INCIDENT_IN_PROGRESS; /* no levels, nor opened page, in the way */
    labels_init(&i.labels);
    labels_set(&i.labels, "service", "db", NULL);
    notify_escalate(fx->n, &i, NULL, "run 1 of fix-disk ended failed");
    labels_fini(&i.labels);
    assert_told(fx, 1, "escalated:hook,escalated:pager");

    struct incident j = incident(2, "loud", "fix-disk");
    labels_init(&j.labels);
    labels_set(&j.labels, "service", "web", NULL);
    notify_escalate(fx->n, &j, NULL, "run 2 of fix-disk ended failed");
    labels_fini(&j.labels);
    assert_told(fx, 2, "escalated:hook");
}

/* Opens an incident of team through the desk, handed to the dispatcher as the desk's watch does. */
static void desk_open_told(struct fixture *fx, const char *team)
{
    struct opened o = {.n = fx->n};
    struct itsm_opening op = {.type = INCIDENT_TYPE_INCIDENT,
                              .title = "queue stuck",
                              .team = team,
                              .severity = INCIDENT_SEVERITY_CRITICAL,
                              .actor = "user:alice"};
    assert_int_equal(itsm_open(fx->desk, &op, on_opened, &o, NULL), 0);
    while (o.count < 1)
        uv_run(&fx->uv, UV_RUN_ONCE);
}

/* Runs the loop until the notifier's program has started: its delivery is in flight. */
static void until_started(struct fixture *fx)
{
    char *started = xasprintf("%s/started", fx->dir);
    while (access(started, F_OK) != 0) {
        uv_run(&fx->uv, UV_RUN_NOWAIT);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    free(started);
}

/* The state of the one notification of incident id, in the store. Free the string. */
static char *state_of(struct fixture *fx, int64_t id)
{
    settle(fx);
    struct store_notification *v = NULL;
    size_t count = 0;
    assert_int_equal(store_notifications_list(fx->rd, id, &v, &count), 0);
    assert_int_equal(count, 1);
    char *state = xstrdup(v[0].state);
    store_notification_fini(&v[0]);
    free(v);
    return state;
}

static void on_quiet(void *data)
{
    (*(int *)data)++;
}

/* A stop waits for the page in flight: it is answered and recorded delivered, not sent again. */
static void test_notify_quiesce_waits_for_the_delivery_in_flight(void **state)
{
    struct fixture *fx = *state;
    desk_open_told(fx, "slow");
    until_started(fx);
    int quiet = 0;
    notify_quiesce(fx->n, 30000, on_quiet, &quiet);
    while (!quiet)
        uv_run(&fx->uv, UV_RUN_ONCE);
    assert_int_equal(quiet, 1);
    notify_stop(fx->n);
    assert_int_equal(messages_in(fx->sink), 1);
    char *got = state_of(fx, 1);
    assert_string_equal(got, "delivered");
    free(got);
}

/* A receiver that does not answer holds a stop no longer than the timeout: cut, tried again later.
 */
static void test_notify_quiesce_gives_up_at_its_timeout(void **state)
{
    struct fixture *fx = *state;
    desk_open_told(fx, "stuck");
    until_started(fx);
    int quiet = 0;
    notify_quiesce(fx->n, 50, on_quiet, &quiet);
    while (!quiet)
        uv_run(&fx->uv, UV_RUN_ONCE);
    notify_stop(fx->n);
    /* The cut attempt's end, later, does not call back again. */
    uv_run(&fx->uv, UV_RUN_NOWAIT);
    assert_int_equal(quiet, 1);
    char *got = state_of(fx, 1);
    assert_string_equal(got, "pending");
    free(got);
}

int main(void)
{
    /* As hale serve: a notifier's program that exits before reading its stdin is no crash. */
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_notify_a_heal_pages_no_one, setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_escalated_pages_the_team_then_the_levels,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_ack_stops_the_chain, setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_opened_and_resolved_by_policy, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_notify_a_stop_still_queues_for_the_next_start,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_oncall_becomes_the_assignee_without_ack,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(
                    test_notify_oncall_never_overwrites_a_persons_assignment, setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_route_notifiers_join_the_team, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_notify_a_burst_is_grouped_within_the_rate_limit,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_quiesce_waits_for_the_delivery_in_flight,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_notify_quiesce_gives_up_at_its_timeout, setup,
                                            teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
