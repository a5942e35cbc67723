/* SPDX-License-Identifier: MIT */
/*
 * bench/store: retention, in two scenarios.
 *
 * compact: fills a store with --rows expired step outputs, then keeps
 * --in-flight batches of 4 timeline entries submitted, as ingest would:
 * first alone for --seconds, then while one compaction pass deletes every
 * expired row. Prints the commit wait (submit to callback) of both
 * stretches and what the pass did: the cost a pass puts on writers.
 *
 * year: writes --days simulated days of a busy site, with a compaction
 * pass at the end of each day at the default retention (--keep-all: none),
 * and prints the database's size on disk as the days go. The clock is
 * simulated, so a year takes seconds. A day of the busy site:
 *   - 50 incidents, each with 40 timeline entries: the event that opened
 *     it, opened, assigned, acknowledged, 2 notes, a notification, a
 *     runbook of 10 steps (started, output, finished: 1 KiB of output a
 *     step, 10 KiB an incident), the ok event, resolved, closed (a day
 *     after it opened), plus 10 repeats of its event (500 a day);
 *   - 5 audit entries an incident (ack, 2 notes, resolve, close);
 *   - 200 hard state changes of 100 checks.
 *
 *   build/release/bench_retention compact [--rows 1000000] [--seconds 10]
 *                                         [--in-flight 64] [--chunk 500] [--dir DIR]
 *   build/release/bench_retention year [--days 365] [--keep-all] [--dir DIR]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "bench_util.h"
#include "itsm/incident.h"
#include "store/store.h"

#define DAY_MS (24ll * 3600 * 1000)
#define PROG   "bench_retention"

/* As the default configuration (docs/configuration.md, retention). */
static const struct store_retention default_retention = {
        .closed_incidents_ms = 400 * DAY_MS,
        .events_ms = 30 * DAY_MS,
        .outputs_ms = 30 * DAY_MS,
        .check_states_ms = 400 * DAY_MS,
        .audit_ms = 0,
};

struct options {
    const char *scenario;
    unsigned rows, seconds, in_flight, days, chunk;
    bool keep_all;
    const char *dir;
};

static void options_parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.rows = 1000000, .seconds = 10, .in_flight = 64, .days = 365};
    if (argc < 2 || (strcmp(argv[1], "compact") != 0 && strcmp(argv[1], "year") != 0)) {
        fprintf(stderr, "usage: " PROG " compact|year [options] (see the top of %s)\n", __FILE__);
        exit(2);
    }
    o->scenario = argv[1];
    const struct bench_option opts[] = {{.name = "--rows", .u = &o->rows, .max = 100000000},
                                        {.name = "--seconds", .u = &o->seconds, .max = 3600},
                                        {.name = "--in-flight", .u = &o->in_flight, .max = 100000},
                                        {.name = "--chunk", .u = &o->chunk, .max = 1000000},
                                        {.name = "--days", .u = &o->days, .max = 36500},
                                        {.name = "--dir", .s = &o->dir},
                                        {.name = "--keep-all", .flag = &o->keep_all},
                                        {.name = NULL}};
    bench_options(PROG, argc, argv, 2, opts);
}

static struct store *bench_open(uv_loop_t *uv, const char *dir, unsigned chunk)
{
    struct store_options so = {.data_dir = dir, .uv = uv, .compact_chunk = chunk};
    struct store *st;
    struct err e = {0};
    if (store_open(&so, &st, &e) < 0) {
        fprintf(stderr, PROG ": %s\n", e.msg);
        exit(1);
    }
    return st;
}

static void on_written(int result, void *data)
{
    if (result != 0) {
        fprintf(stderr, PROG ": a batch was not written: %s\n", hale_strerror(result));
        exit(1);
    }
    (void)data;
}

struct pass {
    bool over;
    int result;
    struct store_compaction c;
};

static void on_compacted(int result, const struct store_compaction *c, void *data)
{
    struct pass *p = data;
    p->over = true;
    p->result = result;
    p->c = *c;
    if (result != 0) {
        fprintf(stderr, PROG ": compaction failed: %s\n", c->error.msg);
        exit(1);
    }
}

static void incident_put(struct store_batch *b, int64_t id, enum incident_state state,
                         int64_t opened_ms, int64_t closed_ms)
{
    struct incident i = {.id = id,
                         .title = (char *)"web-health is critical",
                         .fingerprint = (char *)"check:web-health",
                         .priority = 2,
                         .check = (char *)"web-health",
                         .team = (char *)"web",
                         .state = state,
                         .opened_ms = opened_ms,
                         .acknowledged_ms = state == INCIDENT_CLOSED ? opened_ms + 60000 : 0,
                         .resolved_ms = closed_ms ? closed_ms - 3600000 : 0,
                         .closed_ms = closed_ms,
                         .resolved_by = state == INCIDENT_CLOSED ? (char *)"user:alice" : NULL,
                         .updated_ms = closed_ms ? closed_ms : opened_ms};
    store_batch_incident(b, &i);
}

static void entry_put(struct store_batch *b, int64_t incident_id, int64_t time_ms,
                      enum timeline_kind kind, char *actor, char *text)
{
    struct timeline_entry t = {.incident_id = incident_id,
                               .time_ms = time_ms,
                               .kind = kind,
                               .actor = actor,
                               .text = text};
    store_batch_timeline(b, &t);
}

static void run_pass(uv_loop_t *uv, struct store *st, const struct store_retention *r,
                     int64_t now_ms, struct pass *p)
{
    *p = (struct pass){0};
    if (store_compact(st, r, now_ms, on_compacted, p) != 0) {
        fprintf(stderr, PROG ": a pass is already running\n");
        exit(1);
    }
    uv_run(uv, UV_RUN_DEFAULT);
}

/* ---- compact ----------------------------------------------------------- */

/* The load: in-flight batches, each resubmitted as soon as it is durable. */
struct load {
    struct store *st;
    int64_t incident_id;
    bool stopping;
    bool during; /* a pass runs: waits go to the second list */
    struct waits {
        uint64_t *us;
        size_t n, cap;
    } alone, with_pass;
};

struct slot {
    struct load *load;
    uint64_t submit_ns;
    bool during;
};

static void waits_add(struct waits *w, uint64_t us)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 65536;
        w->us = xreallocarray(w->us, w->cap, sizeof(*w->us));
    }
    w->us[w->n++] = us;
}

static void slot_submit(struct slot *s);

static void slot_done(int result, void *data)
{
    struct slot *s = data;
    on_written(result, NULL);
    struct load *l = s->load;
    waits_add(s->during ? &l->with_pass : &l->alone, (clock_mono_ns() - s->submit_ns) / 1000);
    if (!l->stopping)
        slot_submit(s);
}

static void slot_submit(struct slot *s)
{
    struct load *l = s->load;
    struct store_batch *b = store_batch_new();
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    for (int k = 0; k < 4; k++)
        entry_put(b, l->incident_id, now, TIMELINE_NOTE, "user:bench", "on it, restarting web");
    s->submit_ns = clock_mono_ns();
    s->during = l->during;
    store_submit(l->st, b, slot_done, s);
}

static void on_time_up(uv_timer_t *t)
{
    struct load *l = t->data;
    l->stopping = true;
    uv_close((uv_handle_t *)t, NULL);
}

static void load_start(struct load *l, struct slot *slots, unsigned n)
{
    l->stopping = false;
    for (unsigned k = 0; k < n; k++) {
        slots[k].load = l;
        slot_submit(&slots[k]);
    }
}

/* Expired step outputs of one incident, written in large batches. */
static void prefill(uv_loop_t *uv, struct store *st, int64_t incident, unsigned rows, int64_t t0)
{
    uint64_t start = clock_mono_ns();
    unsigned written = 0;
    while (written < rows) {
        struct store_batch *b = store_batch_new();
        for (unsigned k = 0; k < 16384 && written < rows; k++, written++)
            entry_put(b, incident, t0 + written, TIMELINE_STEP_OUTPUT, "hale",
                      "restarting web.service ... Job for web.service failed because the control "
                      "process exited with error code");
        store_submit(st, b, on_written, NULL);
    }
    uv_run(uv, UV_RUN_DEFAULT);
    printf("prefill: %u expired step outputs in %.1f s; database %.1f MiB\n", rows,
           (double)(clock_mono_ns() - start) / 1e9, (double)store_size(st) / 1048576);
}

static void waits_print(const char *what, struct waits *w)
{
    qsort(w->us, w->n, sizeof(*w->us), bench_cmp_u64);
    printf("commit wait %s: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %zu batches\n", what,
           bench_percentile_ms(w->us, w->n, 0.50), bench_percentile_ms(w->us, w->n, 0.99),
           bench_percentile_ms(w->us, w->n, 1.0), w->n);
}

static void on_load_pass(int result, const struct store_compaction *c, void *data)
{
    struct load *l = ((void **)data)[0];
    on_compacted(result, c, ((void **)data)[1]);
    l->stopping = true;
}

static int scenario_compact(const struct options *o, uv_loop_t *uv, const char *dir)
{
    struct store *st = bench_open(uv, dir, o->chunk);
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    struct load l = {.st = st, .incident_id = store_next_incident_id(st)};
    struct store_batch *b = store_batch_new();
    incident_put(b, l.incident_id, INCIDENT_IN_PROGRESS, now - 100 * DAY_MS, 0);
    store_submit(st, b, on_written, NULL);
    prefill(uv, st, l.incident_id, o->rows, now - 100 * DAY_MS);

    struct slot *slots = xcalloc(o->in_flight, sizeof(*slots));
    uv_timer_t timer;
    uv_timer_init(uv, &timer);
    timer.data = &l;
    uv_timer_start(&timer, on_time_up, (uint64_t)o->seconds * 1000, 0);
    load_start(&l, slots, o->in_flight);
    uv_run(uv, UV_RUN_DEFAULT);

    struct pass p = {0};
    void *both[2] = {&l, &p};
    l.during = true;
    if (store_compact(st, &default_retention, now, on_load_pass, both) != 0)
        return 1;
    load_start(&l, slots, o->in_flight);
    uv_run(uv, UV_RUN_DEFAULT);

    printf("settings: %u batches of 4 entries in flight, %u s alone, then during one pass; "
           "chunks of %u rows\n",
           o->in_flight, o->seconds, o->chunk ? o->chunk : STORE_COMPACT_CHUNK_DEFAULT);
    waits_print("alone", &l.alone);
    waits_print("during the pass", &l.with_pass);
    printf("pass: %" PRIu64 " rows deleted in %" PRIu64 " chunks, %.1f s (%.0f rows/s); "
           "%.1f MiB given back; database %.1f MiB -> %.1f MiB\n",
           p.c.outputs, p.c.chunks, (double)p.c.duration_ms / 1000,
           p.c.duration_ms ? (double)p.c.outputs * 1000 / (double)p.c.duration_ms : 0.0,
           (double)p.c.freed_bytes / 1048576, (double)p.c.size_before / 1048576,
           (double)p.c.size_after / 1048576);
    store_close(st);
    uv_run(uv, UV_RUN_DEFAULT);
    free(slots);
    free(l.alone.us);
    free(l.with_pass.us);
    return p.c.outputs == o->rows ? 0 : 1;
}

/* ---- year -------------------------------------------------------------- */

#define INCIDENTS_A_DAY 50
#define STEPS           10
#define OUTPUT_BYTES    1024
#define REPEATS         10
#define CHECKS          100
#define CHANGES_A_DAY   200

static void audit_put(struct store_batch *b, int64_t time_ms, char *action, int64_t id)
{
    char target[32];
    snprintf(target, sizeof(target), "incident:%lld", (long long)id);
    struct audit_entry a = {.time_ms = time_ms,
                            .actor = (char *)"user:alice",
                            .action = action,
                            .target = target,
                            .origin = (char *)"10.0.0.7"};
    store_batch_audit(b, &a);
}

/* One incident of the busy site, opened at t and closed a day later: 40 entries and 10 repeats. */
static void incident_day(struct store *st, int64_t t, char *output)
{
    int64_t id = store_next_incident_id(st);
    struct store_batch *b = store_batch_new();
    int64_t closed = t + DAY_MS;
    incident_put(b, id, INCIDENT_CLOSED, t, closed);
    char *check = (char *)"check:web-health";
    entry_put(b, id, t, TIMELINE_EVENT, check, "critical (hard): HTTP 503 from /healthz");
    entry_put(b, id, t, TIMELINE_STATE, "hale", "opened as P2 (network)");
    entry_put(b, id, t + 1000, TIMELINE_ASSIGNMENT, "hale", "assigned to web");
    entry_put(b, id, t + 2000, TIMELINE_NOTIFICATION, "hale", "web-slack: sent");
    for (int s = 0; s < STEPS; s++) {
        int64_t at = t + 10000 + s * 5000;
        entry_put(b, id, at, TIMELINE_STEP_STARTED, "hale", "restart-web: step restart started");
        entry_put(b, id, at + 1000, TIMELINE_STEP_OUTPUT, "hale", output);
        entry_put(b, id, at + 2000, TIMELINE_STEP_FINISHED, "hale", "exit 1 after 2.1 s");
    }
    for (int k = 0; k < REPEATS; k++)
        entry_put(b, id, t + 60000 + k * 30000, TIMELINE_EVENT, check,
                  "critical (hard): HTTP 503 from /healthz");
    entry_put(b, id, t + 600000, TIMELINE_STATE, "user:alice", "new -> acknowledged");
    entry_put(b, id, t + 700000, TIMELINE_NOTE, "user:alice", "looking at the load balancer");
    entry_put(b, id, t + 800000, TIMELINE_NOTE, "user:alice", "the pool lost two backends");
    entry_put(b, id, t + 900000, TIMELINE_EVENT, check, "ok: HTTP 200 in 12 ms");
    entry_put(b, id, closed - 3600000, TIMELINE_STATE, "user:alice", "in_progress -> resolved");
    entry_put(b, id, closed, TIMELINE_STATE, "user:alice", "resolved -> closed");
    static char *const actions[] = {"incident.ack", "incident.note", "incident.note",
                                    "incident.resolve", "incident.close"};
    for (size_t k = 0; k < 5; k++)
        audit_put(b, t + 600000 + (int64_t)k * 100000, actions[k], id);
    store_submit(st, b, on_written, NULL);
}

static void checks_day(struct store *st, int64_t day, unsigned *seq)
{
    struct store_batch *b = store_batch_new();
    for (unsigned k = 0; k < CHANGES_A_DAY; k++, (*seq)++) {
        char name[32];
        snprintf(name, sizeof(name), "check-%u", *seq % CHECKS);
        store_batch_check_state(b, name, (int)(*seq / CHECKS % 2) * 2,
                                day + (int64_t)k * (DAY_MS / CHANGES_A_DAY));
    }
    store_submit(st, b, on_written, NULL);
}

static int scenario_year(const struct options *o, uv_loop_t *uv, const char *dir)
{
    struct store *st = bench_open(uv, dir, o->chunk);
    const int64_t t0 = 1767225600000; /* 2026-01-01T00:00:00Z */
    char *output = xmalloc(OUTPUT_BYTES + 1);
    for (int k = 0; k < OUTPUT_BYTES; k++)
        output[k] = k % 64 == 63 ? '\n' : (char)('a' + k % 26);
    output[OUTPUT_BYTES] = '\0';
    struct store_retention none = {0};
    const struct store_retention *r = o->keep_all ? &none : &default_retention;
    printf("settings: %u days, %s; a day: %d incidents of %d entries (+%d repeats, %d KiB of "
           "output), %d audit entries, %d check state changes\n",
           o->days, o->keep_all ? "no retention" : "the default retention", INCIDENTS_A_DAY, 40,
           REPEATS, STEPS * OUTPUT_BYTES / 1024, INCIDENTS_A_DAY * 5, CHANGES_A_DAY);
    uint64_t start = clock_mono_ns(), deleted = 0;
    unsigned seq = 0;
    struct pass p = {0};
    for (unsigned d = 0; d < o->days; d++) {
        int64_t day = t0 + (int64_t)d * DAY_MS;
        for (int k = 0; k < INCIDENTS_A_DAY; k++)
            incident_day(st, day + k * (DAY_MS / INCIDENTS_A_DAY), output);
        checks_day(st, day, &seq);
        uv_run(uv, UV_RUN_DEFAULT);
        run_pass(uv, st, r, day + DAY_MS, &p);
        deleted += p.c.incidents + p.c.timeline + p.c.events + p.c.outputs + p.c.check_states +
                   p.c.audit;
        unsigned n = d + 1;
        if (n == 30 || n == 90 || n % 365 == 0 || n == o->days)
            printf("day %4u: database %.1f MiB (%.1f s so far, %" PRIu64 " rows deleted)\n", n,
                   (double)p.c.size_after / 1048576, (double)(clock_mono_ns() - start) / 1e9,
                   deleted);
    }
    store_close(st);
    uv_run(uv, UV_RUN_DEFAULT);
    free(output);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    options_parse(argc, argv, &o);
    char *dir = bench_scratch_dir("bench-retention", o.dir);
    bench_print_command(argc, argv, false);
    bench_machine_print(dir);
    fflush(stdout);

    uv_loop_t uv;
    uv_loop_init(&uv);
    int status = strcmp(o.scenario, "compact") == 0 ? scenario_compact(&o, &uv, dir)
                                                    : scenario_year(&o, &uv, dir);
    uv_loop_close(&uv);
    bench_scratch_remove(dir);
    return status;
}
