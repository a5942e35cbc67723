/* SPDX-License-Identifier: MIT */
/*
 * bench/store: how many timeline entries per second the store makes
 * durable with group commit, and how long a caller waits for its
 * callback. Writers keep --in-flight batches of --entries timeline entries
 * each submitted, as ingest requests would; each callback that says
 * durable counts its entries and submits the next batch. Prints the
 * command, the machine and the figures, then checks the count on disk.
 *
 *   build/release/bench_store [--seconds 10] [--in-flight 256] [--entries 4]
 *                             [--window-ms 0] [--dir DIR]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "bench_util.h"
#include "itsm/incident.h"
#include "store/internal.h"
#include "store/store.h"

struct bench {
    struct store *st;
    int64_t incident_id;
    unsigned entries;
    bool stopping;
    uint64_t durable_entries, failed_batches;
    uint64_t *waits_us; /* one per finished batch */
    size_t n_waits, cap_waits;
};

struct slot {
    struct bench *bench;
    uint64_t submit_ns;
};

static void slot_submit(struct slot *s);

static void slot_done(int result, void *data)
{
    struct slot *s = data;
    struct bench *b = s->bench;
    if (b->n_waits == b->cap_waits) {
        b->cap_waits = b->cap_waits ? b->cap_waits * 2 : 65536;
        b->waits_us = xreallocarray(b->waits_us, b->cap_waits, sizeof(*b->waits_us));
    }
    b->waits_us[b->n_waits++] = (clock_mono_ns() - s->submit_ns) / 1000;
    if (result == 0)
        b->durable_entries += b->entries;
    else
        b->failed_batches++;
    if (!b->stopping)
        slot_submit(s);
}

static void slot_submit(struct slot *s)
{
    struct bench *b = s->bench;
    struct store_batch *batch = store_batch_new();
    for (unsigned k = 0; k < b->entries; k++) {
        struct timeline_entry t = {.incident_id = b->incident_id,
                                   .time_ms = (int64_t)(clock_mono_ns() / 1000000),
                                   .kind = TIMELINE_EVENT,
                                   .actor = (char *)"check:bench",
                                   .text = (char *)"critical (hard): HTTP 503 from /healthz"};
        store_batch_timeline(batch, &t);
    }
    s->submit_ns = clock_mono_ns();
    store_submit(b->st, batch, slot_done, s);
}

static void on_done_setup(int result, void *data)
{
    *(int *)data = result;
}

static void on_time_up(uv_timer_t *t)
{
    struct bench *b = t->data;
    b->stopping = true;
    uv_close((uv_handle_t *)t, NULL);
}

static int64_t timeline_rows(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int64_t n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM timeline", -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            n = sqlite3_column_int64(s, 0);
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

struct options {
    unsigned seconds, in_flight, entries, window_ms;
    const char *dir;
};

static void options_parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seconds = 10, .in_flight = 256, .entries = 4, .window_ms = 0};
    const struct bench_option opts[] = {{.name = "--seconds", .u = &o->seconds, .max = 1000000},
                                        {.name = "--in-flight", .u = &o->in_flight, .max = 1000000},
                                        {.name = "--entries", .u = &o->entries, .max = 1000000},
                                        {.name = "--window-ms", .u = &o->window_ms, .max = 1000000},
                                        {.name = "--dir", .s = &o->dir},
                                        {.name = NULL}};
    bench_options("bench_store", argc, argv, 1, opts);
}

/* Opens the store in dir and writes the incident the entries belong to. */
static void bench_open(struct bench *b, uv_loop_t *uv, const struct options *o, char *dir)
{
    struct store_options so = {.data_dir = dir, .uv = uv, .commit_window_ms = o->window_ms};
    struct err e = {0};
    if (store_open(&so, &b->st, &e) < 0) {
        fprintf(stderr, "bench_store: %s\n", e.msg);
        exit(1);
    }
    struct incident i = {.id = store_next_incident_id(b->st),
                         .title = (char *)"bench",
                         .fingerprint = (char *)"bench",
                         .priority = 3,
                         .opened_ms = 1};
    struct store_batch *batch = store_batch_new();
    store_batch_incident(batch, &i);
    int result = -1;
    store_submit(b->st, batch, on_done_setup, &result);
    uv_run(uv, UV_RUN_DEFAULT);
    if (result != 0) {
        fprintf(stderr, "bench_store: cannot write the incident\n");
        exit(1);
    }
    b->incident_id = i.id;
}

int main(int argc, char **argv)
{
    struct options o;
    options_parse(argc, argv, &o);
    char *dir = bench_scratch_dir("bench-store", o.dir);

    bench_print_command(argc, argv, false);
    bench_machine_print(dir);

    uv_loop_t uv;
    uv_loop_init(&uv);
    struct bench b = {.entries = o.entries};
    bench_open(&b, &uv, &o, dir);
    uint64_t commits0 = store__commits(b.st);

    struct slot *slots = xcalloc(o.in_flight, sizeof(*slots));
    uv_timer_t timer;
    uv_timer_init(&uv, &timer);
    timer.data = &b;
    uv_timer_start(&timer, on_time_up, (uint64_t)o.seconds * 1000, 0);
    uint64_t start = clock_mono_ns();
    for (unsigned k = 0; k < o.in_flight; k++) {
        slots[k].bench = &b;
        slot_submit(&slots[k]);
    }
    uv_run(&uv, UV_RUN_DEFAULT); /* until the time is up and the last callback ran */
    double elapsed = (double)(clock_mono_ns() - start) / 1e9;
    uint64_t commits = store__commits(b.st) - commits0;
    char *path = xstrdup(store_path(b.st));
    store_close(b.st);
    uv_run(&uv, UV_RUN_DEFAULT);
    uv_loop_close(&uv);

    qsort(b.waits_us, b.n_waits, sizeof(*b.waits_us), bench_cmp_u64);
    int64_t rows = timeline_rows(path);
    printf("settings: %u batches in flight, %u timeline entries a batch, window %u ms, %u s\n",
           o.in_flight, o.entries, o.window_ms, o.seconds);
    printf("durable: %" PRIu64 " entries in %.2f s = %.0f entries/s (%" PRIu64
           " batches failed); %" PRIu64 " transactions, %.1f batches each\n",
           b.durable_entries, elapsed, (double)b.durable_entries / elapsed, b.failed_batches,
           commits, commits ? (double)b.n_waits / (double)commits : 0.0);
    printf("commit wait (submit to callback): p50 %.2f ms, p99 %.2f ms, max %.2f ms over %zu "
           "batches\n",
           bench_percentile_ms(b.waits_us, b.n_waits, 0.50),
           bench_percentile_ms(b.waits_us, b.n_waits, 0.99),
           bench_percentile_ms(b.waits_us, b.n_waits, 1.0), b.n_waits);
    printf("on disk: %" PRId64 " timeline entries (%s)\n", rows,
           rows == (int64_t)b.durable_entries ? "as acknowledged" : "MISMATCH");

    free(path);
    bench_scratch_remove(dir);
    free(slots);
    free(b.waits_us);
    return rows == (int64_t)b.durable_entries ? 0 : 1;
}
