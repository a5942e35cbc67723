/* SPDX-License-Identifier: MIT */
/*
 * Tests of the store's outbox on SQLite (schema 7, the outbox): a notification
 * through a batch and back, replaced as its attempts go on, the pending
 * ones (what the dispatcher loads on start-up) apart from an incident's
 * all, and notification ids across a reopen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "store/store.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    char *data_dir;
    uv_loop_t uv;
    struct store *st;
    struct store_reader *rd;
};

static void fx_open(struct fixture *fx)
{
    struct store_options o = {.data_dir = fx->data_dir, .uv = &fx->uv};
    struct err e = {0};
    if (store_open(&o, &fx->st, &e) != 0)
        fail_msg("store_open: %s", e.msg);
    if (store_reader_open(fx->st, &fx->rd, &e) != 0)
        fail_msg("store_reader_open: %s", e.msg);
}

static void fx_close(struct fixture *fx)
{
    store_reader_close(fx->rd);
    fx->rd = NULL;
    store_close(fx->st);
    fx->st = NULL;
    uv_run(&fx->uv, UV_RUN_DEFAULT);
}

static int fixture_setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-outbox-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->data_dir = xasprintf("%s/data", fx->dir);
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    fx_open(fx);
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    fx_close(fx);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    testutil_rm_rf(fx->dir);
    free(fx->data_dir);
    free(fx);
    return 0;
}

static void done_cb(int result, void *data)
{
    *(int *)data = result;
}

static void write_one(struct fixture *fx, const struct store_notification *n)
{
    struct store_batch *b = store_batch_new();
    store_batch_notification(b, n);
    int result = 1;
    store_submit(fx->st, b, done_cb, &result);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    assert_int_equal(result, 0);
}

static struct store_notification pending(int64_t id, int64_t incident, const char *reason)
{
    return (struct store_notification){
            .id = id,
            .incident_id = incident,
            .team = "web",
            .notifier = "chat",
            .reason = (char *)(uintptr_t)reason,
            .level = 1,
            .state = "pending",
            .text = "healing failed",
            .assignee = "alice",
            .created_ms = 1000,
            .due_ms = 1000,
            .updated_ms = 1000,
    };
}

static void free_all(struct store_notification *v, size_t n)
{
    for (size_t k = 0; k < n; k++)
        store_notification_fini(&v[k]);
    free(v);
}

static void test_store_notify_round_trip_and_replace(void **state)
{
    struct fixture *fx = *state;
    int64_t id = store_next_notification_id(fx->st);
    assert_int_equal(id, 1);
    struct store_notification n = pending(id, 7, "escalated");
    write_one(fx, &n);

    /* An attempt failed: the same row, rewritten. */
    n.attempts = 1;
    n.due_ms = 3000;
    n.error = "HTTP 503";
    write_one(fx, &n);
    struct store_notification *v = NULL;
    size_t count = 0;
    assert_int_equal(store_notifications_list(fx->rd, 7, &v, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(v[0].id, id);
    assert_string_equal(v[0].team, "web");
    assert_string_equal(v[0].notifier, "chat");
    assert_string_equal(v[0].reason, "escalated");
    assert_string_equal(v[0].state, "pending");
    assert_string_equal(v[0].text, "healing failed");
    assert_string_equal(v[0].assignee, "alice");
    assert_string_equal(v[0].error, "HTTP 503");
    assert_int_equal(v[0].attempts, 1);
    assert_int_equal(v[0].due_ms, 3000);
    free_all(v, count);
}

static void test_store_notify_pending_apart_from_settled(void **state)
{
    struct fixture *fx = *state;
    struct store_notification a = pending(store_next_notification_id(fx->st), 7, "escalated");
    struct store_notification b = pending(store_next_notification_id(fx->st), 8, "opened");
    struct store_notification c = pending(store_next_notification_id(fx->st), 7, "level");
    b.team = NULL;
    b.assignee = NULL;
    write_one(fx, &a);
    write_one(fx, &b);
    write_one(fx, &c);
    a.state = "delivered";
    write_one(fx, &a);
    c.state = "canceled";
    write_one(fx, &c);

    struct store_notification *v = NULL;
    size_t count = 0;
    assert_int_equal(store_notifications_list(fx->rd, 0, &v, &count), 0);
    assert_int_equal(count, 1);
    assert_int_equal(v[0].id, b.id);
    assert_null(v[0].team);
    assert_null(v[0].assignee);
    free_all(v, count);

    /* An incident's: all of them, oldest first, whatever their state. */
    assert_int_equal(store_notifications_list(fx->rd, 7, &v, &count), 0);
    assert_int_equal(count, 2);
    assert_int_equal(v[0].id, a.id);
    assert_string_equal(v[0].state, "delivered");
    assert_string_equal(v[1].state, "canceled");
    free_all(v, count);
}

static void test_store_notify_ids_continue_after_reopen(void **state)
{
    struct fixture *fx = *state;
    struct store_notification a = pending(store_next_notification_id(fx->st), 1, "escalated");
    struct store_notification b = pending(store_next_notification_id(fx->st), 1, "resolved");
    write_one(fx, &a);
    write_one(fx, &b);
    fx_close(fx);
    fx_open(fx);
    assert_int_equal(store_next_notification_id(fx->st), b.id + 1);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
            TEST(test_store_notify_round_trip_and_replace),
            TEST(test_store_notify_pending_apart_from_settled),
            TEST(test_store_notify_ids_continue_after_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
