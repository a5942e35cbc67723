/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of src/sched: phase spread and stability, no overlap, the
 * child concurrency limit and its queue, run-now, missed slots, removal
 * while running, the heap against a brute-force model, and the libuv
 * driver on a real loop. All but the last run on a manual clock.
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
#include "loop/loop.h"
#include "sched/internal.h"
#include "sched/sched.h"

#define REAL0 1700000000000u /* 2023-11-14T22:13:20Z: a multiple of 10 s */

#define MAX_RUNS 1024

struct ran {
    struct sched_entry *e;
    struct sched_run run;
};

static struct {
    struct ran v[MAX_RUNS];
    size_t n;
    bool done_at_once; /* the callback ends each run before returning */
} runs;

static void on_run(struct sched *s, struct sched_entry *e, const struct sched_run *run, void *data)
{
    (void)data;
    assert_true(runs.n < MAX_RUNS);
    runs.v[runs.n++] = (struct ran){.e = e, .run = *run};
    if (runs.done_at_once)
        sched_run_done(s, e);
}

static void runs_reset(bool done_at_once)
{
    runs.n = 0;
    runs.done_at_once = done_at_once;
}

/* Moves the manual clock (both faces) to mono ms t and ticks. */
static unsigned tick_at(struct sched *s, struct clock *c, uint64_t t)
{
    c->manual_real_ms += t - c->manual_mono_ms;
    c->manual_mono_ms = t;
    return sched_tick(s);
}

static void test_sched_phase_spreads_10000_entries(void **state)
{
    (void)state;
    enum {
        N = 10000,
        EVERY = 10000,
        BUCKET = 100,
        BUCKETS = EVERY / BUCKET
    };
    struct clock c;
    clock_manual_init(&c, 5000, REAL0);
    struct sched *s;
    runs_reset(true);
    assert_int_equal(sched_new(&c, 8, on_run, &s), 0);
    sched_reserve(s, N);
    unsigned load[BUCKETS] = {0};
    for (int i = 0; i < N; i++) {
        char name[32]; /* gone after the call: an entry keeps no name */
        snprintf(name, sizeof(name), "check-%05d", i);
        struct sched_entry *e;
        assert_int_equal(sched_entry_add(s, name, EVERY, SCHED_ENTRY_LOOP, NULL, &e), 0);
        uint64_t due = sched_entry_due_ms(e);
        assert_true(due >= 5000 && due < 5000 + EVERY);
        load[(due - 5000) / BUCKET]++;
    }
    assert_true(sched__heap_is_valid(&s->heap));
    assert_int_equal(s->heap.cap, N); /* reserved: no room to spare */
    unsigned max = 0, min = N;
    for (int b = 0; b < BUCKETS; b++) {
        max = load[b] > max ? load[b] : max;
        min = load[b] < min ? load[b] : min;
    }
    /* The mean is 100 per 100 ms; a uniform spread stays well inside 1.5x. */
    print_message("phase spread: min %u max %u per %d ms (mean %d)\n", min, max, BUCKET,
                  N / BUCKETS);
    assert_true(max <= 150);
    assert_true(min >= 50);

    /* Every entry runs exactly once over one interval. */
    size_t total = 0;
    for (uint64_t t = 5000; t < 5000 + EVERY; t += BUCKET) {
        runs.n = 0;
        total += tick_at(s, &c, t + BUCKET - 1);
    }
    assert_int_equal(total, N);
    sched_free(s);
}

static void test_sched_phase_is_stable_across_a_rebuild(void **state)
{
    (void)state;
    static const char *const names[] = {"web-health", "db", "root-disk", "smtp", "web-port"};
    static const uint64_t every[] = {10000, 60000, 30000, 60000, 5000};
    uint64_t wall_slot[5];
    struct clock c;
    struct sched *s;
    runs_reset(true);

    clock_manual_init(&c, 1234, REAL0 + 777);
    assert_int_equal(sched_new(&c, 4, on_run, &s), 0);
    for (int i = 0; i < 5; i++) {
        struct sched_entry *e;
        assert_int_equal(sched_entry_add(s, names[i], every[i], SCHED_ENTRY_CHILD, NULL, &e), 0);
        uint64_t real_due = sched_entry_due_ms(e) - c.manual_mono_ms + c.manual_real_ms;
        wall_slot[i] = real_due % every[i];
        assert_int_equal(wall_slot[i], sched_phase_ms(names[i], every[i]));
    }
    sched_free(s);

    /* A restart later, and a reboot (the monotonic clock starts over). */
    static const uint64_t monos[] = {9876543, 17};
    static const uint64_t reals[] = {REAL0 + 9876543 - 1234 + 777, REAL0 + 86400000 + 4321};
    for (int k = 0; k < 2; k++) {
        clock_manual_init(&c, monos[k], reals[k]);
        assert_int_equal(sched_new(&c, 4, on_run, &s), 0);
        for (int i = 4; i >= 0; i--) { /* another order of adding */
            struct sched_entry *e;
            assert_int_equal(sched_entry_add(s, names[i], every[i], SCHED_ENTRY_CHILD, NULL, &e),
                             0);
            uint64_t real_due = sched_entry_due_ms(e) - c.manual_mono_ms + c.manual_real_ms;
            assert_int_equal(real_due % every[i], wall_slot[i]);
        }
        sched_free(s);
    }
}

static void test_sched_entry_never_overlaps_itself(void **state)
{
    (void)state;
    struct clock c;
    struct sched *s;
    struct sched_entry *e;
    runs_reset(false);
    clock_manual_init(&c, 0, REAL0);
    assert_int_equal(sched_new(&c, 4, on_run, &s), 0);
    assert_int_equal(sched_entry_add(s, "slow", 1000, SCHED_ENTRY_CHILD, NULL, &e), 0);
    uint64_t due = sched_entry_due_ms(e);
    assert_int_equal(tick_at(s, &c, due), 1);
    assert_true(sched_entry_is_running(e));
    assert_int_equal(runs.v[0].run.lateness_ms, 0);
    /* Two slots pass while the run is going: skipped, not stacked. */
    assert_int_equal(tick_at(s, &c, due + 1000), 0);
    assert_int_equal(tick_at(s, &c, due + 2000), 0);
    assert_int_equal(runs.n, 1);
    struct sched_entry_stats st;
    sched_entry_stats(e, &st);
    assert_int_equal(st.skipped, 2);
    assert_int_equal(st.missed, 0);
    sched_run_done(s, e);
    assert_false(sched_entry_is_running(e));
    assert_int_equal(sched_children(s), 0);
    /* The next slot is on the phase, as if nothing had happened. */
    assert_int_equal(sched_entry_due_ms(e), due + 3000);
    assert_int_equal(tick_at(s, &c, due + 3005), 1);
    assert_int_equal(runs.v[1].run.due_ms, due + 3000);
    assert_int_equal(runs.v[1].run.lateness_ms, 5);
    sched_run_done(s, e);
    sched_free(s);
}

static void test_sched_counts_slots_missed_by_a_late_scheduler(void **state)
{
    (void)state;
    struct clock c;
    struct sched *s;
    struct sched_entry *e;
    runs_reset(true);
    clock_manual_init(&c, 0, REAL0);
    assert_int_equal(sched_new(&c, 4, on_run, &s), 0);
    assert_int_equal(sched_entry_add(s, "x", 1000, SCHED_ENTRY_LOOP, NULL, &e), 0);
    uint64_t due = sched_entry_due_ms(e);
    /* The loop was blocked for four and a half intervals: one run, late, three missed. */
    assert_int_equal(tick_at(s, &c, due + 3500), 1);
    assert_int_equal(runs.v[0].run.due_ms, due);
    assert_int_equal(runs.v[0].run.lateness_ms, 3500);
    struct sched_entry_stats st;
    sched_entry_stats(e, &st);
    assert_int_equal(st.missed, 3);
    assert_int_equal(st.max_lateness_ms, 3500);
    assert_int_equal(sched_entry_due_ms(e), due + 4000);
    sched_free(s);
}

/* Adds an entry whose first slot is at mono offset `at` of a scheduler created at mono 0. */
static struct sched_entry *add_at(struct sched *s, const char *prefix, uint64_t every, uint64_t at,
                                  enum sched_entry_kind kind)
{
    /* Names are found, not chosen: try suffixes until the hash lands on the slot. */
    for (unsigned i = 0; i < 1000000; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s-%u", prefix, i);
        if ((REAL0 + at) % every == sched_phase_ms(name, every)) {
            struct sched_entry *e;
            assert_int_equal(sched_entry_add(s, name, every, kind, NULL, &e), 0);
            assert_int_equal(sched_entry_due_ms(e), at);
            return e;
        }
    }
    fail_msg("no name for slot %llu", (unsigned long long)at);
    return NULL;
}

static void test_sched_limit_queues_children_in_due_order(void **state)
{
    (void)state;
    struct clock c;
    struct sched *s;
    runs_reset(false);
    clock_manual_init(&c, 0, REAL0);
    assert_int_equal(sched_new(&c, 2, on_run, &s), 0);
    struct sched_entry *e[5];
    static const uint64_t at[5] = {50, 10, 40, 20, 30};
    for (int i = 0; i < 5; i++)
        e[i] = add_at(s, "child", 1000, at[i], SCHED_ENTRY_CHILD);
    struct sched_entry *inproc = add_at(s, "tcp", 1000, 45, SCHED_ENTRY_LOOP);

    /* All due at once: the two earliest start, the rest wait in due order. */
    assert_int_equal(tick_at(s, &c, 60), 3);
    assert_ptr_equal(runs.v[0].e, e[1]);   /* 10 */
    assert_ptr_equal(runs.v[1].e, e[3]);   /* 20 */
    assert_ptr_equal(runs.v[2].e, inproc); /* not limited: runs although children wait */
    assert_int_equal(sched_children(s), 2);
    assert_int_equal(sched_queued(s), 3);
    assert_true(sched_entry_is_queued(e[4]));

    c.manual_mono_ms = 75;
    sched_run_done(s, e[3]);
    assert_ptr_equal(runs.v[3].e, e[4]); /* 30 */
    assert_int_equal(runs.v[3].run.due_ms, 30);
    assert_int_equal(runs.v[3].run.lateness_ms, 45);
    assert_int_equal(runs.v[3].run.queue_wait_ms, 15);
    sched_run_done(s, inproc); /* a loop run ending frees no child slot */
    assert_int_equal(runs.n, 4);
    sched_run_done(s, e[1]);
    assert_ptr_equal(runs.v[4].e, e[2]); /* 40 */
    sched_run_done(s, e[4]);
    assert_ptr_equal(runs.v[5].e, e[0]); /* 50 */
    assert_int_equal(sched_queued(s), 0);
    assert_true(sched_children(s) <= 2);

    /* A waiting run whose next slot comes is not queued twice. */
    sched_run_done(s, e[2]);
    sched_run_done(s, e[0]);
    runs.n = 0;
    assert_int_equal(tick_at(s, &c, 1060), 3);
    assert_int_equal(sched_queued(s), 3);
    assert_int_equal(tick_at(s, &c, 2060), 0); /* two running, three waiting: all skipped */
    assert_int_equal(sched_queued(s), 3);
    struct sched_entry_stats st;
    sched_entry_stats(e[0], &st);
    assert_int_equal(st.skipped, 1);
    sched_free(s);
}

static void test_sched_run_now_keeps_the_phase(void **state)
{
    (void)state;
    struct clock c;
    struct sched *s;
    runs_reset(false);
    clock_manual_init(&c, 0, REAL0);
    assert_int_equal(sched_new(&c, 1, on_run, &s), 0);
    struct sched_entry *a = add_at(s, "a", 1000, 500, SCHED_ENTRY_CHILD);
    struct sched_entry *b = add_at(s, "b", 1000, 600, SCHED_ENTRY_CHILD);

    /* Idle: runs at once, the slot stays where it was. */
    c.manual_mono_ms = 100;
    assert_int_equal(sched_entry_run_now(s, a), 0);
    assert_int_equal(runs.n, 1);
    assert_true(runs.v[0].run.now);
    assert_int_equal(runs.v[0].run.due_ms, 100);
    assert_int_equal(sched_entry_due_ms(a), 500);

    /* Running: once more right after the current run. */
    assert_int_equal(sched_entry_run_now(s, a), 0);
    assert_int_equal(runs.n, 1);
    c.manual_mono_ms = 200;
    sched_run_done(s, a);
    assert_int_equal(runs.n, 2);
    assert_true(runs.v[1].run.now);
    assert_int_equal(runs.v[1].run.start_ms, 200);

    /* The limit is full: b waits at the head of the queue, before slot runs. */
    assert_int_equal(tick_at(s, &c, 550), 0); /* a's slot: a is running, skipped */
    assert_int_equal(sched_entry_run_now(s, b), 0);
    assert_true(sched_entry_is_queued(b));
    c.manual_mono_ms = 560;
    sched_run_done(s, a);
    assert_int_equal(runs.n, 3);
    assert_ptr_equal(runs.v[2].e, b);
    assert_true(runs.v[2].run.now);
    assert_int_equal(runs.v[2].run.queue_wait_ms, 10);
    assert_int_equal(sched_entry_due_ms(b), 600);
    /* b's own slot comes while it runs: skipped, and a is not disturbed. */
    assert_int_equal(tick_at(s, &c, 600), 0);
    sched_run_done(s, b);
    assert_int_equal(sched_entry_due_ms(a), 1500);
    assert_int_equal(sched_entry_due_ms(b), 1600);
    assert_int_equal(tick_at(s, &c, 1500), 1);
    assert_ptr_equal(runs.v[3].e, a);
    assert_false(runs.v[3].run.now);
    sched_run_done(s, a);
    sched_free(s);
}

static void test_sched_remove_while_running_or_queued(void **state)
{
    (void)state;
    struct clock c;
    struct sched *s;
    runs_reset(false);
    clock_manual_init(&c, 0, REAL0);
    assert_int_equal(sched_new(&c, 1, on_run, &s), 0);
    struct sched_entry *a = add_at(s, "a", 1000, 10, SCHED_ENTRY_CHILD);
    struct sched_entry *b = add_at(s, "b", 1000, 20, SCHED_ENTRY_CHILD);
    struct sched_entry *c3 = add_at(s, "c", 1000, 30, SCHED_ENTRY_CHILD);
    assert_int_equal(tick_at(s, &c, 40), 1);
    assert_int_equal(sched_queued(s), 2);
    sched_entry_remove(s, b); /* waiting: dropped from the queue */
    assert_int_equal(sched_queued(s), 1);
    sched_entry_remove(s, a); /* running: freed when its run ends */
    assert_int_equal(sched_entries(s), 1);
    assert_int_equal(sched_children(s), 1);
    sched_run_done(s, a);
    assert_int_equal(runs.n, 2);
    assert_ptr_equal(runs.v[1].e, c3);
    /* Removed while running and never done: sched_free() still frees it. */
    sched_entry_remove(s, c3);
    assert_int_equal(sched_entries(s), 0);
    assert_int_equal(sched_next_due_ms(s), UINT64_MAX);
    sched_free(s);
}

static void test_sched_rejects_bad_input(void **state)
{
    (void)state;
    struct clock c;
    struct sched *s = NULL;
    struct sched_entry *e = NULL;
    clock_manual_init(&c, 0, REAL0);
    assert_int_equal(sched_new(&c, 0, on_run, &s), -EINVAL);
    assert_int_equal(sched_new(&c, 1, NULL, &s), -EINVAL);
    assert_null(s);
    assert_int_equal(sched_new(&c, 1, on_run, &s), 0);
    assert_int_equal(sched_entry_add(s, "x", 0, SCHED_ENTRY_LOOP, NULL, &e), -EINVAL);
    assert_int_equal(sched_entry_add(s, "", 10, SCHED_ENTRY_LOOP, NULL, &e), -EINVAL);
    assert_null(e);
    sched_free(s);
    sched_free(NULL);
}

/* ---- the heap against a brute-force model ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_sched_heap_matches_a_brute_force_model(void **state)
{
    (void)state;
    enum {
        POOL = 2000,
        STEPS = 50000
    };
    struct sched_entry *pool = xcalloc(POOL, sizeof(*pool));
    bool *in = xcalloc(POOL, sizeof(*in));
    struct sched__heap h = {0};
    size_t n = 0;
    for (size_t i = 0; i < POOL; i++)
        pool[i].id = i;
    for (int step = 0; step < STEPS; step++) {
        size_t i = rng() % POOL;
        unsigned op = (unsigned)(rng() % 4);
        if (!in[i]) {
            pool[i].due_ms = rng() % 5000; /* a small range: many equal keys */
            sched__heap_push(&h, &pool[i]);
            in[i] = true;
            n++;
        } else if (op == 0) {
            sched__heap_remove(&h, &pool[i]);
            in[i] = false;
            n--;
        } else if (op == 1) {
            pool[i].due_ms = rng() % 5000;
            sched__heap_fix(&h, &pool[i]);
        } else if (op == 2 && n) {
            /* Pop the top, as a tick does, and check it is the model's minimum. */
            struct sched_entry *top = sched__heap_top(&h);
            size_t best = POOL;
            for (size_t j = 0; j < POOL; j++)
                if (in[j] && (best == POOL || pool[j].due_ms < pool[best].due_ms ||
                              (pool[j].due_ms == pool[best].due_ms && j < best)))
                    best = j;
            assert_ptr_equal(top, &pool[best]);
            sched__heap_remove(&h, top);
            in[best] = false;
            n--;
        }
        assert_int_equal(h.n, n);
        if (step % 97 == 0)
            assert_true(sched__heap_is_valid(&h));
    }
    assert_true(sched__heap_is_valid(&h));
    /* Draining gives the model's order. */
    uint64_t last_due = 0, last_id = 0;
    bool first = true;
    while (h.n) {
        struct sched_entry *top = sched__heap_top(&h);
        assert_true(first || top->due_ms > last_due ||
                    (top->due_ms == last_due && top->id > last_id));
        first = false;
        last_due = top->due_ms;
        last_id = top->id;
        sched__heap_remove(&h, top);
    }
    sched__heap_fini(&h);
    free(in);
    free(pool);
}

/* ---- the driver on a real loop ---- */

struct smoke {
    struct loop *loop;
    struct sched *sched;
    struct sched_driver *driver;
    uv_timer_t stop_timer;
    unsigned count[3];
    uint64_t last_start[3];
    uint64_t min_gap[3];
    unsigned overlaps;
};

static struct smoke smoke;

static void smoke_run(struct sched *s, struct sched_entry *e, const struct sched_run *run,
                      void *data)
{
    (void)run;
    unsigned i = (unsigned)(uintptr_t)data;
    if (sched_entry_is_running(e) == false)
        smoke.overlaps++;
    uint64_t now = clock_mono_ms(&clock_system);
    if (smoke.count[i] && now - smoke.last_start[i] < smoke.min_gap[i])
        smoke.min_gap[i] = now - smoke.last_start[i];
    smoke.last_start[i] = now;
    smoke.count[i]++;
    sched_run_done(s, e);
}

static void smoke_stop(uv_timer_t *t)
{
    (void)t;
    sched_driver_free(smoke.driver);
    uv_close((uv_handle_t *)&smoke.stop_timer, NULL);
    loop_stop(smoke.loop);
}

static void test_sched_driver_runs_entries_on_a_real_loop(void **state)
{
    (void)state;
    static const uint64_t every[3] = {20, 30, 50};
    memset(&smoke, 0, sizeof(smoke));
    assert_int_equal(loop_new(&smoke.loop), 0);
    assert_int_equal(sched_new(&clock_system, 2, smoke_run, &smoke.sched), 0);
    assert_int_equal(sched_driver_new(smoke.sched, smoke.loop, &smoke.driver), 0);
    for (unsigned i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof(name), "smoke-%u", i);
        struct sched_entry *e;
        smoke.min_gap[i] = UINT64_MAX;
        assert_int_equal(sched_entry_add(smoke.sched, name, every[i],
                                         i ? SCHED_ENTRY_CHILD : SCHED_ENTRY_LOOP,
                                         (void *)(uintptr_t)i, &e),
                         0);
    }
    uv_timer_init(loop_uv(smoke.loop), &smoke.stop_timer);
    uv_timer_start(&smoke.stop_timer, smoke_stop, 500, 0);
    assert_int_equal(loop_run(smoke.loop), 0);
    for (unsigned i = 0; i < 3; i++) {
        unsigned expect = (unsigned)(500 / every[i]);
        print_message("every %llu ms: %u runs in 500 ms (expected about %u), min gap %llu ms\n",
                      (unsigned long long)every[i], smoke.count[i], expect,
                      (unsigned long long)smoke.min_gap[i]);
        /* A loaded CI machine may run late, never more often than the slots. */
        assert_true(smoke.count[i] >= expect / 2);
        assert_true(smoke.count[i] <= expect + 2);
    }
    assert_int_equal(smoke.overlaps, 0);
    sched_free(smoke.sched);
    loop_free(smoke.loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_sched_phase_spreads_10000_entries),
            cmocka_unit_test(test_sched_phase_is_stable_across_a_rebuild),
            cmocka_unit_test(test_sched_entry_never_overlaps_itself),
            cmocka_unit_test(test_sched_counts_slots_missed_by_a_late_scheduler),
            cmocka_unit_test(test_sched_limit_queues_children_in_due_order),
            cmocka_unit_test(test_sched_run_now_keeps_the_phase),
            cmocka_unit_test(test_sched_remove_while_running_or_queued),
            cmocka_unit_test(test_sched_rejects_bad_input),
            cmocka_unit_test(test_sched_heap_matches_a_brute_force_model),
            cmocka_unit_test(test_sched_driver_runs_entries_on_a_real_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
