/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/engine/silences.c, the daemon's silences, on a real SQLite
 * store: the configuration's silences merged with the stored ones and
 * replaced on reload, adding and expiring with their refusals and audit
 * entries, silences bound to an incident ending when it resolves, all of
 * it surviving a restart (expired ones in the store's history), and
 * failed writes leaving the registry as the store is.
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
#include "base/clock.h"
#include "base/strbuf.h"
#include "engine/silences.h"
#include "store/internal.h"
#include "store/store.h"
#include "testutil.h"

#define HOUR_MS (3600 * 1000ll)

struct fixture {
    char dir[64];
    uv_loop_t uv;
    struct config *config;
    struct store *st;
    struct silences *s;
};

static const char *const config_text =
        "silences:\n"
        "  - {match: '{service=\"db\"}', weekly: 'Sun 02:00-04:00', comment: backups}\n"
        "  - {match: '{service=\"web\"}', ends: '2099-01-01T00:00:00Z'}\n";

static struct config *config_of(const char *text)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    if (config_load_buffer("hale.yaml", text, strlen(text), &c, &d) != 0)
        fail_msg("config: %s", d.n ? d.v[0].msg : "?");
    config_diags_fini(&d);
    return c;
}

static int64_t now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

static void registry_open_with(struct fixture *fx, const struct store_backend *backend)
{
    struct store_options o = {.data_dir = fx->dir, .uv = &fx->uv};
    struct err e = {0};
    if (store__open_backend(&o, backend, &fx->st, &e) != 0 ||
        silences_new(fx->st, fx->config, &fx->s, &e) != 0)
        fail_msg("open: %s", e.msg);
}

/* As the daemon stops: the store first (its callbacks reach the registry), then the registry. */
static void registry_close(struct fixture *fx)
{
    store_close(fx->st);
    silences_free(fx->s);
    uv_run(&fx->uv, UV_RUN_DEFAULT);
    fx->st = NULL;
    fx->s = NULL;
}

static int setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/hale-silences-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    assert_int_equal(uv_loop_init(&fx->uv), 0);
    fx->config = config_of(config_text);
    registry_open_with(fx, &store__sqlite);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    registry_close(fx);
    assert_int_equal(uv_loop_close(&fx->uv), 0);
    config_unref(fx->config);
    testutil_rm_rf(fx->dir);
    free(fx);
    return 0;
}

static void flag(int result, void *data)
{
    assert_int_equal(result, 0);
    *(int *)data = 1;
}

/* Runs the loop until every batch submitted so far is durable (they commit in order). */
static void settle(struct fixture *fx)
{
    int done = 0;
    store_submit(fx->st, store_batch_new(), flag, &done);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
}

/* What a done callback heard. */
struct heard {
    int calls;
    int result;
    int64_t id;
    enum silence_state state;
};

static void on_done(int result, const struct silence *sl, void *data)
{
    struct heard *h = data;
    h->calls++;
    h->result = result;
    h->id = sl->id;
    h->state = silence_state(sl, now_ms());
}

/* A silence as the API makes it. */
static struct silence api_silence(const char *matchers, int64_t ends_ms)
{
    struct silence sl;
    silence_init(&sl);
    if (silence_matchers_set(&sl, matchers, NULL) < 0)
        fail_msg("matchers %s", matchers);
    sl.ends_ms = ends_ms;
    free(sl.comment);
    sl.comment = xstrdup("deploy");
    return sl;
}

/* Adds a silence and waits until it is durable; returns its id. */
static int64_t add(struct fixture *fx, const char *matchers, int64_t ends_ms, int64_t incident_id)
{
    struct silence sl = api_silence(matchers, ends_ms);
    sl.incident_id = incident_id;
    struct heard h = {0};
    struct err e = {0};
    if (silences_add(fx->s, &sl, "user:alice", "127.0.0.1", on_done, &h, &e) != 0)
        fail_msg("add: %s", e.msg);
    settle(fx);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.result, 0);
    return h.id;
}

static struct store_silence row_of(struct fixture *fx, int64_t id)
{
    struct store_reader *r;
    struct err e = {0};
    assert_int_equal(store_reader_open(fx->st, &r, &e), 0);
    struct store_silence row = {0};
    assert_int_equal(store_silence_get(r, id, &row), 0);
    store_reader_close(r);
    return row;
}

static bool has_row(struct fixture *fx, int64_t id)
{
    struct store_reader *r;
    struct err e = {0};
    assert_int_equal(store_reader_open(fx->st, &r, &e), 0);
    struct store_silence row = {0};
    int rc = store_silence_get(r, id, &row);
    store_silence_fini(&row);
    store_reader_close(r);
    return rc == 0;
}

/* The audit entries' "ACTION TARGET" lines, in the order written. */
static char *audit_lines(struct fixture *fx)
{
    struct store_reader *r;
    struct err e = {0};
    assert_int_equal(store_reader_open(fx->st, &r, &e), 0);
    struct audit_entry *v = NULL;
    size_t n = 0;
    assert_int_equal(store_audit_list(r, &(struct store_audit_query){0}, &v, &n), 0);
    store_reader_close(r);
    struct strbuf b;
    strbuf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&b, "%s %s %s %s\n", v[i].actor, v[i].action, v[i].target, v[i].origin);
        audit_entry_fini(&v[i]);
    }
    free(v);
    return strbuf_detach(&b, NULL);
}

static size_t view_count(const struct fixture *fx)
{
    size_t n;
    silences_view(fx->s, &n);
    return n;
}

/* ---- the configuration's ---- */

static void test_silences_config_ones_have_negative_ids(void **state)
{
    struct fixture *fx = *state;
    size_t n;
    const struct silence *v = silences_view(fx->s, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, -1);
    assert_int_equal(v[0].source, SILENCE_SOURCE_CONFIG);
    assert_string_equal(v[0].matchers_text, "{service=\"db\"}");
    assert_true(v[0].weekly);
    assert_string_equal(v[0].comment, "backups");
    assert_string_equal(v[0].created_by, "config");
    assert_int_equal(v[1].id, -2);
    assert_ptr_equal(silences_get(fx->s, -2), &v[1]);
    assert_null(silences_get(fx->s, -3));
    assert_null(silences_get(fx->s, 1));

    /* A stored one after them, with the store's id. */
    int64_t id = add(fx, "{service=\"api\"}", now_ms() + HOUR_MS, 0);
    assert_int_equal(id, 1);
    v = silences_view(fx->s, &n);
    assert_int_equal(n, 3);
    assert_int_equal(v[2].id, 1);
    assert_int_equal(v[2].source, SILENCE_SOURCE_API);
}

static void test_silences_reload_replaces_the_config_ones_only(void **state)
{
    struct fixture *fx = *state;
    int64_t id = add(fx, "{service=\"api\"}", now_ms() + HOUR_MS, 0);
    struct config *next =
            config_of("silences:\n  - {match: '{team=\"ops\"}', weekly: 'Sat,Sun 00:00-24:00'}\n");
    silences_set_config(fx->s, next);
    config_unref(fx->config);
    fx->config = next;
    size_t n;
    const struct silence *v = silences_view(fx->s, &n);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, -1);
    assert_string_equal(v[0].matchers_text, "{team=\"ops\"}");
    assert_int_equal(v[1].id, id);
    assert_null(silences_get(fx->s, -2));
    struct err e = {0};
    assert_int_equal(silences_expire(fx->s, -2, "user:a", "x", NULL, NULL, &e), HALE_ENOTFOUND);
}

static void test_silences_config_ones_are_not_expired_by_hand(void **state)
{
    struct fixture *fx = *state;
    struct err e = {0};
    struct heard h = {0};
    assert_int_equal(silences_expire(fx->s, -1, "user:a", "x", on_done, &h, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "comes from the configuration (hale.yaml:2)"));
    assert_int_equal(h.calls, 0);
    assert_int_equal(silence_state(silences_get(fx->s, -2), now_ms()), SILENCE_ACTIVE);
}

/* ---- adding and expiring ---- */

static void test_silences_add_writes_it_and_an_audit_entry(void **state)
{
    struct fixture *fx = *state;
    int64_t before = now_ms();
    struct silence sl = api_silence("{service=\"web\", env=\"prod\"}", before + 2 * HOUR_MS);
    struct heard h = {0};
    struct err e = {0};
    assert_int_equal(silences_add(fx->s, &sl, "user:alice", "10.0.0.1", on_done, &h, &e), 0);
    assert_null(sl.matchers); /* taken */
    /* Held once durable, not before. */
    assert_int_equal(view_count(fx), 2);
    settle(fx);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.result, 0);
    assert_int_equal(h.id, 1);
    assert_int_equal(h.state, SILENCE_ACTIVE);
    assert_int_equal(view_count(fx), 3);
    const struct silence *got = silences_get(fx->s, 1);
    assert_non_null(got);
    assert_true(got->starts_ms >= before); /* no start: from now */
    assert_string_equal(got->created_by, "user:alice");

    struct store_silence row = row_of(fx, 1);
    assert_string_equal(row.source, "api");
    assert_string_equal(row.matchers, "{service=\"web\", env=\"prod\"}");
    assert_int_equal(row.starts_ms, got->starts_ms);
    assert_int_equal(row.ends_ms, before + 2 * HOUR_MS);
    assert_null(row.weekly);
    assert_string_equal(row.comment, "deploy");
    assert_string_equal(row.created_by, "user:alice");
    assert_int_equal(row.ended_ms, 0);
    store_silence_fini(&row);
    char *audit = audit_lines(fx);
    assert_string_equal(audit, "user:alice silence.create silence:1 10.0.0.1\n");
    free(audit);
}

static void test_silences_add_keeps_a_weekly_window_canonical(void **state)
{
    struct fixture *fx = *state;
    struct silence sl = api_silence("{service=\"db\"}", 0);
    struct err e = {0};
    assert_int_equal(weekly_window_parse("sat,mon-fri 22:00-06:00", &sl.window, &e, NULL), 0);
    sl.weekly = true;
    assert_int_equal(silences_add(fx->s, &sl, "user:a", NULL, NULL, NULL, &e), 0);
    settle(fx);
    struct store_silence row = row_of(fx, 1);
    assert_string_equal(row.weekly, "Mon-Sat 22:00-06:00");
    assert_int_equal(row.ends_ms, 0);
    store_silence_fini(&row);
}

static void add_refused(struct fixture *fx, struct silence sl, const char *msg_part)
{
    struct err e = {0};
    struct heard h = {0};
    assert_int_equal(silences_add(fx->s, &sl, "user:a", NULL, on_done, &h, &e), -EINVAL);
    if (!strstr(e.msg, msg_part))
        fail_msg("\"%s\" lacks \"%s\"", e.msg, msg_part);
    settle(fx);
    assert_int_equal(h.calls, 0);
}

static void test_silences_add_refuses_what_makes_no_sense(void **state)
{
    struct fixture *fx = *state;
    int64_t now = now_ms();
    add_refused(fx, api_silence("{env!=\"prod\"}", now + HOUR_MS), "also match an event without");
    add_refused(fx, api_silence("{service=\"web\"}", 0), "a silence needs an end");
    add_refused(fx, api_silence("{service=\"web\"}", now - HOUR_MS), "over already");
    struct silence sl = api_silence("{service=\"web\"}", now + HOUR_MS);
    sl.starts_ms = now + 2 * HOUR_MS;
    add_refused(fx, sl, "must end after it starts");
    sl = api_silence("{service=\"web\"}", now + HOUR_MS);
    sl.source = SILENCE_SOURCE_CONFIG;
    add_refused(fx, sl, "configuration's come with it");
    assert_int_equal(view_count(fx), 2);
    assert_false(has_row(fx, 1));
    /* No id was spent on a refusal. */
    assert_int_equal(add(fx, "{service=\"web\"}", now + HOUR_MS, 0), 1);
}

static void test_silences_expire_ends_it_at_once_and_durably(void **state)
{
    struct fixture *fx = *state;
    int64_t id = add(fx, "{service=\"web\"}", now_ms() + HOUR_MS, 0);
    struct heard h = {0};
    struct err e = {0};
    assert_int_equal(silences_expire(fx->s, id, "user:bob", "10.0.0.2", on_done, &h, &e), 0);
    /* Ended in memory at once: the engine stops holding events back now. */
    assert_int_equal(silence_state(silences_get(fx->s, id), now_ms()), SILENCE_EXPIRED);
    /* A second expiry meanwhile is refused. */
    assert_int_equal(silences_expire(fx->s, id, "user:carol", "x", NULL, NULL, &e), HALE_ESTATE);
    assert_non_null(strstr(e.msg, "expired already"));
    settle(fx);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.result, 0);
    assert_int_equal(h.state, SILENCE_EXPIRED);

    struct store_silence row = row_of(fx, id);
    assert_true(row.ended_ms > 0);
    assert_int_equal(row.ends_ms, row.ended_ms);
    assert_string_equal(row.ended_by, "user:bob");
    store_silence_fini(&row);
    char *audit = audit_lines(fx);
    assert_string_equal(audit, "user:alice silence.create silence:1 127.0.0.1\n"
                               "user:bob silence.expire silence:1 10.0.0.2\n");
    free(audit);
    /* Over and durable: it left memory; the store keeps it. */
    assert_null(silences_get(fx->s, id));
    assert_int_equal(view_count(fx), 2);
    assert_int_equal(silences_expire(fx->s, id, "user:a", "x", NULL, NULL, &e), HALE_ENOTFOUND);
    assert_int_equal(silences_expire(fx->s, 42, "user:a", "x", NULL, NULL, &e), HALE_ENOTFOUND);
    assert_string_equal(e.msg, "there is no silence 42 in force");
}

/* ---- bound to an incident ---- */

static void test_silences_until_resolved_ends_when_the_incident_resolves(void **state)
{
    struct fixture *fx = *state;
    int64_t bound = add(fx, "{service=\"db\"}", 0, 7);
    int64_t other = add(fx, "{service=\"db\"}", 0, 8);
    int64_t timed = add(fx, "{service=\"web\"}", now_ms() + HOUR_MS, 7); /* or its end */
    int64_t now = now_ms();
    assert_int_equal(silence_state(silences_get(fx->s, bound), now), SILENCE_ACTIVE);

    silences_incident_resolved(fx->s, 9, now); /* none bound to it: nothing written */
    silences_incident_resolved(fx->s, 7, now);
    assert_int_equal(silence_state(silences_get(fx->s, bound), now), SILENCE_EXPIRED);
    assert_int_equal(silence_state(silences_get(fx->s, timed), now), SILENCE_EXPIRED);
    assert_int_equal(silence_state(silences_get(fx->s, other), now), SILENCE_ACTIVE);
    settle(fx);

    struct store_silence row = row_of(fx, bound);
    assert_int_equal(row.ends_ms, now);
    assert_int_equal(row.ended_ms, now);
    assert_string_equal(row.ended_by, "hale");
    store_silence_fini(&row);
    row = row_of(fx, timed);
    assert_int_equal(row.ends_ms, now);
    store_silence_fini(&row);
    row = row_of(fx, other);
    assert_int_equal(row.ended_ms, 0);
    store_silence_fini(&row);
    /* Not a person's action: the audit log has the three creations only. */
    char *audit = audit_lines(fx);
    assert_null(strstr(audit, "expire"));
    free(audit);

    /* After a restart it is still over. */
    registry_close(fx);
    registry_open_with(fx, &store__sqlite);
    assert_null(silences_get(fx->s, bound));
    assert_non_null(silences_get(fx->s, other));
}

/* ---- a restart ---- */

static void test_silences_survive_a_restart_expired_ones_in_history(void **state)
{
    struct fixture *fx = *state;
    int64_t now = now_ms();
    int64_t kept = add(fx, "{service=\"web\"}", now + HOUR_MS, 0);
    struct silence weekly = api_silence("{service=\"db\"}", 0);
    assert_int_equal(weekly_window_parse("Mon-Fri 22:00-06:00", &weekly.window, NULL, NULL), 0);
    weekly.weekly = true;
    struct err e = {0};
    assert_int_equal(silences_add(fx->s, &weekly, "user:bob", NULL, NULL, NULL, &e), 0);
    int64_t ended = add(fx, "{service=\"mail\"}", now + HOUR_MS, 0);
    assert_int_equal(silences_expire(fx->s, ended, "user:carol", NULL, NULL, NULL, &e), 0);
    settle(fx);

    registry_close(fx);
    registry_open_with(fx, &store__sqlite);
    size_t n;
    const struct silence *v = silences_view(fx->s, &n);
    assert_int_equal(n, 4); /* two of the configuration's, and the two in force */
    assert_int_equal(v[2].id, kept);
    assert_int_equal(v[2].ends_ms, now + HOUR_MS);
    assert_string_equal(v[2].comment, "deploy");
    assert_int_equal(v[3].id, 2);
    assert_true(v[3].weekly);
    assert_string_equal(v[3].created_by, "user:bob");
    assert_null(silences_get(fx->s, ended));

    /* The expired one is history, in the store. */
    struct store_reader *r;
    assert_int_equal(store_reader_open(fx->st, &r, &e), 0);
    struct store_silence *rows = NULL;
    assert_int_equal(store_silences_list(r, &(struct store_silence_query){0}, &rows, &n), 0);
    store_reader_close(r);
    assert_int_equal(n, 3);
    assert_int_equal(rows[0].id, ended);
    assert_string_equal(rows[0].ended_by, "user:carol");
    for (size_t i = 0; i < n; i++)
        store_silence_fini(&rows[i]);
    free(rows);
    /* Ids go on after the last stored one. */
    assert_int_equal(add(fx, "{service=\"x\"}", now + HOUR_MS, 0), 4);
}

/* ---- failed writes ---- */

/* SQLite's backend, but its commit fails on the calls the test chooses. */
static struct store_backend faulty_backend;
static unsigned faulty_commits, faulty_fail_mask;

static int faulty_commit(struct store_db *db, struct err *e)
{
    unsigned call = faulty_commits++;
    if (call < 32 && (faulty_fail_mask & (1u << call)))
        return err_setf(e, HALE_ESTORE, "injected commit failure %u", call);
    return store__sqlite.commit(db, e);
}

static void count_any(int result, void *data)
{
    (void)result;
    *(int *)data = 1;
}

/* Fails every commit until the writes submitted so far are done, then lets them succeed again. */
static void settle_failing(struct fixture *fx)
{
    int done = 0;
    store_submit(fx->st, store_batch_new(), count_any, &done);
    while (!done)
        uv_run(&fx->uv, UV_RUN_ONCE);
    faulty_fail_mask = 0;
}

static void test_silences_failed_writes_leave_the_registry_as_the_store_is(void **state)
{
    struct fixture *fx = *state;
    registry_close(fx);
    faulty_backend = store__sqlite;
    faulty_backend.commit = faulty_commit;
    faulty_fail_mask = 0;
    registry_open_with(fx, &faulty_backend);

    /* An add that fails is not held, nor stored. */
    faulty_commits = 0;
    faulty_fail_mask = ~0u;
    struct silence sl = api_silence("{service=\"web\"}", now_ms() + HOUR_MS);
    struct heard h = {0};
    struct err e = {0};
    assert_int_equal(silences_add(fx->s, &sl, "user:a", NULL, on_done, &h, &e), 0);
    settle_failing(fx);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.result, HALE_ESTORE);
    assert_int_equal(view_count(fx), 2);
    assert_null(silences_get(fx->s, h.id));
    assert_false(has_row(fx, h.id));
    int64_t id = add(fx, "{service=\"web\"}", now_ms() + HOUR_MS, 3);

    /* An expiry that fails: in force again, as on disk; the retry is accepted. */
    faulty_commits = 0;
    faulty_fail_mask = ~0u;
    h = (struct heard){0};
    assert_int_equal(silences_expire(fx->s, id, "user:b", NULL, on_done, &h, &e), 0);
    settle_failing(fx);
    assert_int_equal(h.calls, 1);
    assert_int_equal(h.result, HALE_ESTORE);
    assert_int_equal(h.state, SILENCE_ACTIVE);
    assert_int_equal(silence_state(silences_get(fx->s, id), now_ms()), SILENCE_ACTIVE);
    struct store_silence row = row_of(fx, id);
    assert_int_equal(row.ended_ms, 0);
    store_silence_fini(&row);

    /* The incident's resolution failing to be written leaves it in force too. */
    faulty_commits = 0;
    faulty_fail_mask = ~0u;
    silences_incident_resolved(fx->s, 3, now_ms());
    settle_failing(fx);
    assert_int_equal(silence_state(silences_get(fx->s, id), now_ms()), SILENCE_ACTIVE);

    assert_int_equal(silences_expire(fx->s, id, "user:b", NULL, NULL, NULL, &e), 0);
    settle(fx);
    row = row_of(fx, id);
    assert_string_equal(row.ended_by, "user:b");
    store_silence_fini(&row);
    assert_null(silences_get(fx->s, id));
}

/* ---- rows ---- */

static void test_silences_rows_round_trip(void **state)
{
    (void)state;
    struct store_silence row = {
            .id = 5,
            .source = (char *)"api",
            .matchers = (char *)"{service=~\"web|api\"}",
            .starts_ms = 10,
            .ends_ms = 20,
            .weekly = (char *)"Sat,Sun 00:00-24:00",
            .incident_id = 9,
            .comment = (char *)"c",
            .created_by = (char *)"user:z",
            .created_ms = 5,
    };
    struct silence sl;
    struct err e = {0};
    assert_int_equal(silences_from_row(&row, &sl, &e), 0);
    struct store_silence back;
    silences_to_row(&sl, &back);
    assert_int_equal(back.id, 5);
    assert_string_equal(back.source, "api");
    assert_string_equal(back.matchers, row.matchers);
    assert_string_equal(back.weekly, "Sat,Sun 00:00-24:00");
    assert_int_equal(back.starts_ms, 10);
    assert_int_equal(back.ends_ms, 20);
    assert_int_equal(back.incident_id, 9);
    assert_string_equal(back.comment, "c");
    assert_string_equal(back.created_by, "user:z");
    assert_int_equal(back.created_ms, 5);
    store_silence_fini(&back);
    silence_fini(&sl);

    row.weekly = (char *)"Mon 25:00-26:00";
    assert_int_equal(silences_from_row(&row, &sl, &e), HALE_EPARSE);
    assert_non_null(strstr(e.msg, "silence 5: "));
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
            TEST(test_silences_config_ones_have_negative_ids),
            TEST(test_silences_reload_replaces_the_config_ones_only),
            TEST(test_silences_config_ones_are_not_expired_by_hand),
            TEST(test_silences_add_writes_it_and_an_audit_entry),
            TEST(test_silences_add_keeps_a_weekly_window_canonical),
            TEST(test_silences_add_refuses_what_makes_no_sense),
            TEST(test_silences_expire_ends_it_at_once_and_durably),
            TEST(test_silences_until_resolved_ends_when_the_incident_resolves),
            TEST(test_silences_survive_a_restart_expired_ones_in_history),
            TEST(test_silences_failed_writes_leave_the_registry_as_the_store_is),
            TEST(test_silences_rows_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
