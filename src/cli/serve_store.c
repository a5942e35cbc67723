/* SPDX-License-Identifier: MIT */
/*
 * The store's compaction for `hale serve`: a pass every retention.every
 * (the first soon after start), with what each pass deleted and gave back
 * in the log and in the hale_store_* metrics, and the database's size as a
 * gauge. The passes themselves are the store's (store_compact()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "base/clock.h"
#include "base/log.h"
#include "cli/internal.h"

/* The first compaction: soon after start, once starting is over. */
#define FIRST_COMPACTION_MS 60000

static const char *const deleted_kinds[] = {"incident",    "timeline", "event", "step_output",
                                            "check_state", "audit",    "run",   "notification"};

static double store_size_bytes(void *data)
{
    return (double)store_size(data);
}

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

void cli__compaction_init(struct cli__compaction *c, uv_loop_t *uv, struct store *st,
                          struct metrics *m)
{
    *c = (struct cli__compaction){.uv = uv, .store = st};
    metrics_gauge_fn_register(
            m, "hale_store_size_bytes",
            "Bytes the database's files take on disk, its write-ahead log included.",
            store_size_bytes, st);
    c->passes = metrics_counter_register(m, "hale_store_compactions_total",
                                         "Compaction passes of the store, by result (ok, failed).",
                                         (const char *[]){"result", NULL});
    c->deleted = metrics_counter_register(
            m, "hale_store_deleted_rows_total",
            "Rows compaction deleted because their retention expired, by kind (incident, "
            "timeline: the entries of those incidents, event, step_output, check_state, audit, "
            "run, notification).",
            (const char *[]){"kind", NULL});
    c->freed = metrics_counter_register(
            m, "hale_store_freed_bytes_total",
            "Bytes of free space compaction gave back to the file system.", NULL);
    c->duration = metrics_gauge_register(m, "hale_store_last_compaction_duration_seconds",
                                         "How long the last compaction pass took.", NULL);
    /* Every series from the start, at zero, so a rate() has a first point. */
    metrics_counter_add(c->passes, (const char *[]){"ok"}, 0);
    metrics_counter_add(c->passes, (const char *[]){"failed"}, 0);
    for (size_t i = 0; i < sizeof(deleted_kinds) / sizeof(deleted_kinds[0]); i++)
        metrics_counter_add(c->deleted, (const char *[]){deleted_kinds[i]}, 0);
    metrics_counter_add(c->freed, NULL, 0);
}

static void on_compacted(int result, const struct store_compaction *sc, void *data)
{
    struct cli__compaction *c = data;
    if (result == -ECANCELED) {
        log_debug("store", NULL, "compaction stopped: hale is stopping");
        return;
    }
    metrics_counter_inc(c->passes, (const char *[]){result == 0 ? "ok" : "failed"});
    const uint64_t n[] = {sc->incidents,    sc->timeline, sc->events, sc->outputs,
                          sc->check_states, sc->audit,    sc->runs,   sc->notifications};
    _Static_assert(sizeof(n) / sizeof(n[0]) == sizeof(deleted_kinds) / sizeof(deleted_kinds[0]),
                   "a count per kind");
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++)
        metrics_counter_add(c->deleted, (const char *[]){deleted_kinds[i]}, (double)n[i]);
    metrics_counter_add(c->freed, NULL, (double)sc->freed_bytes);
    metrics_gauge_set(c->duration, NULL, (double)sc->duration_ms / 1000);
    char what[600];
    snprintf(what, sizeof(what),
             "%" PRIu64 " closed incidents (%" PRIu64 " timeline entries, %" PRIu64
             " notifications), %" PRIu64 " events, %" PRIu64 " step outputs, %" PRIu64
             " check states, %" PRIu64 " audit entries and %" PRIu64 " runs deleted in %" PRIu64
             " chunks, %.1f MiB given back",
             sc->incidents, sc->timeline, sc->notifications, sc->events, sc->outputs,
             sc->check_states, sc->audit, sc->runs, sc->chunks, mib(sc->freed_bytes));
    if (result < 0)
        log_warn("store", NULL, "compaction stopped after %s: %s; the next pass goes on", what,
                 sc->error.msg);
    else
        log_info("store", NULL,
                 "compaction: %s; the database takes %.1f MiB (was %.1f MiB); %" PRIu64 " ms", what,
                 mib(sc->size_after), mib(sc->size_before), sc->duration_ms);
}

static void on_timer(uv_timer_t *t)
{
    struct cli__compaction *c = t->data;
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    if (store_compact(c->store, &c->retention, now, on_compacted, c) == HALE_ESTATE)
        log_info("store", NULL, "compaction skipped: the previous pass is still running");
}

void cli__compaction_schedule(struct cli__compaction *c, const struct config_retention *cr)
{
    c->retention = (struct store_retention){
            .closed_incidents_ms = cr->closed_incidents_ms,
            .events_ms = cr->events_ms,
            .outputs_ms = cr->outputs_ms,
            .check_states_ms = cr->check_states_ms,
            .audit_ms = cr->audit_ms,
    };
    if (c->timer_on && c->every_ms == cr->every_ms)
        return;
    uint64_t first = cr->every_ms;
    if (!c->timer_on) {
        uv_timer_init(c->uv, &c->timer);
        c->timer.data = c;
        c->timer_on = true;
        if (first > FIRST_COMPACTION_MS)
            first = FIRST_COMPACTION_MS;
    }
    c->every_ms = cr->every_ms;
    uv_timer_start(&c->timer, on_timer, first, cr->every_ms);
}

void cli__compaction_close(struct cli__compaction *c)
{
    if (c->timer_on)
        uv_close((uv_handle_t *)&c->timer, NULL);
    c->timer_on = false;
}
