/* SPDX-License-Identifier: MIT */
/*
 * The check runner: every check of a configuration, scheduled on the loop.
 * Each check gets a host (the kind's state across runs), a scheduler entry
 * and a detect state machine. When the scheduler starts a run, the runner
 * starts the kind through run.c; when the run finishes, its observation is
 * fed to detect (whose events go to the engine's callback and the log),
 * kept as the check's last observation, appended to the sample history and
 * counted in the metrics. The runner observes and reports; it never acts.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "checks/internal.h"
#include "detect/detect.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "sched/sched.h"
#include "series/series.h"

#define CHECKS_MAX_CHILDREN_DEFAULT 64
#define SERIES_SAMPLE               "hale_check_sample"
#define SERIES_STATUS               "hale_check_status"

/*
 * The hale_check_* families. All but the lateness histogram are written at
 * each render straight from the current runner's items: one sample per
 * check, nothing copied into the registry and kept between scrapes.
 */
struct checks_metrics {
    struct metrics_family *lateness;
    struct checks *current; /* the runner whose checks the families show, or NULL */
};

/* A run-now caller waiting for the next run to finish. */
struct waiter {
    checks_run_cb *cb;
    void *data;
    uint64_t after; /* answered by a run numbered above this */
    struct waiter *next;
};

/*
 * A series of a check's history remembered between runs, by position (the
 * status first, then each sample): most checks report the same samples
 * every run, so a run finds its series without building and hashing a key.
 * key_hash says which label and unit it was found for (0: nothing yet);
 * series is NULL when the store was full then.
 */
struct history_slot {
    struct series *series;
    uint64_t key_hash;
};

struct item {
    struct checks *c;
    const struct config_check *cfg;
    const struct check_kind *kind;
    struct check_host host;
    bool attached;
    bool running;
    char *attach_error; /* NULL, or why attach() failed: every run is then UNKNOWN */
    struct sched_entry *entry;
    struct detect detect;       /* embedded: one per check */
    struct check__packed *last; /* NULL before the first run */
    uint64_t started;           /* runs started; the number of the one in flight */
    uint64_t finished;          /* runs finished and fed */
    uint64_t runs[4];           /* runs finished, by the status found (CHECK_STATUS_*) */
    uint64_t skipped_before;    /* slots skipped under the runners this one replaced */
    struct waiter *waiters;
    struct history_slot *history;
    size_t n_history;
    uint64_t history_generation; /* of the store, when history was filled */
};

struct checks {
    struct loop *loop;
    struct config *config;
    struct checks_metrics *metrics;
    struct series_store *series;
    bool own_series;
    checks_event_cb *on_event;
    void *event_data;
    struct sched *sched;
    struct sched_driver *driver;
    struct item *items;
    size_t n;
    unsigned in_flight;
    bool stopping;
    void (*done)(void *data);
    void *done_data;
    uv_timer_t closer; /* closed twice in a row to outlast every close before it */
};

/* ---- logging and events ---- */

static void on_detect_event(struct detect_event *ev, void *data)
{
    struct item *it = data;
    char kv[300];
    snprintf(kv, sizeof(kv), "check=%s", it->cfg->name);
    const char *status = check_status_name(ev->new_status);
    switch (ev->kind) {
    case DETECT_EVENT_STATE_CHANGE:
        log_write(ev->new_status == CHECK_STATUS_OK ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "checks", kv,
                  "%s (%s): %s", status, ev->hard ? "hard" : "soft", ev->summary);
        break;
    case DETECT_EVENT_FLAPPING_STARTED:
        log_warn("checks", kv, "flapping started (%s): %s", status, ev->summary);
        break;
    case DETECT_EVENT_FLAPPING_STOPPED:
        log_info("checks", kv, "flapping stopped (%s): %s", status, ev->summary);
        break;
    }
    if (it->c->on_event)
        it->c->on_event(it->cfg, ev, it->c->event_data);
}

/* ---- history ---- */

/* FNV-1a over label NUL unit, never 0. */
static uint64_t history_key_hash(const char *label, const char *unit)
{
    uint64_t h = 14695981039346656037u;
    for (const char *p = label;; p++) {
        h = (h ^ (unsigned char)*p) * 1099511628211u;
        if (!*p)
            break;
    }
    for (const char *p = unit; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return h | 1;
}

static bool history_slot_matches(const struct history_slot *slot, uint64_t key_hash,
                                 const char *label, const char *unit)
{
    if (slot->key_hash != key_hash)
        return false;
    if (!slot->series || !*label) /* full then, or the status series */
        return true;
    return strcmp(series_label(slot->series, "label"), label) == 0 &&
           strcmp(series_label(slot->series, "unit"), unit) == 0;
}

/*
 * The series at position i of it's history: the status series for an
 * empty label, else the sample's. NULL when the store is full.
 */
static struct series *history_series(struct item *it, size_t i, const char *label, const char *unit)
{
    struct series_store *st = it->c->series;
    if (it->history_generation != series_store_generation(st)) {
        if (it->history) /* none before the first run */
            memset(it->history, 0, it->n_history * sizeof(*it->history));
        it->history_generation = series_store_generation(st);
    }
    if (i >= it->n_history) {
        it->history = xreallocarray(it->history, i + 1, sizeof(*it->history));
        memset(it->history + it->n_history, 0, (i + 1 - it->n_history) * sizeof(*it->history));
        it->n_history = i + 1;
    }
    struct history_slot *slot = &it->history[i];
    uint64_t key_hash = history_key_hash(label, unit);
    if (history_slot_matches(slot, key_hash, label, unit))
        return slot->series;
    struct labels l;
    labels_init(&l);
    labels_set(&l, "check", it->cfg->name, NULL);
    if (*label) {
        labels_set(&l, "label", label, NULL);
        labels_set(&l, "unit", unit, NULL);
    }
    struct series *s = NULL;
    series_store_get(st, *label ? SERIES_SAMPLE : SERIES_STATUS, &l, &s);
    labels_fini(&l);
    *slot = (struct history_slot){.series = s, .key_hash = key_hash};
    return s;
}

static void history_record(struct item *it, const struct check_observation *o)
{
    struct series *s = history_series(it, 0, "", "");
    if (s)
        series_append(it->c->series, s, o->started_ms, (double)o->status);
    for (size_t i = 0; i < o->n_samples; i++) {
        const struct check_sample *sample = &o->samples[i];
        if (!sample->has_value || !*sample->label || sample->no_history)
            continue;
        double factor;
        const char *base;
        check_unit_scale(sample->unit, &factor, &base);
        if ((s = history_series(it, i + 1, sample->label, base)))
            series_append(it->c->series, s, o->started_ms, sample->value * factor);
    }
}

static bool series_keep(const struct series *s, void *data)
{
    const struct config *config = data;
    const char *check = series_label(s, "check");
    if (strcmp(series_name(s), SERIES_SAMPLE) != 0 && strcmp(series_name(s), SERIES_STATUS) != 0)
        return true; /* not ours */
    return check && config_check_find(config, check);
}

void checks_series_each(const struct checks *c, const char *name, checks_series_fn *fn, void *data)
{
    for (size_t i = 0; i < series_store_count(c->series); i++) {
        const struct series *s = series_store_at(c->series, i);
        const char *check = series_label(s, "check");
        if (!check || strcmp(check, name) != 0)
            continue;
        if (strcmp(series_name(s), SERIES_STATUS) == 0)
            fn("status", "", s, data);
        else if (strcmp(series_name(s), SERIES_SAMPLE) == 0)
            fn(series_label(s, "label"), series_label(s, "unit"), s, data);
    }
}

/* ---- runs ---- */

static void waiters_answer(struct item *it, const struct check_observation *o, uint64_t number)
{
    struct waiter **pp = &it->waiters;
    while (*pp) {
        struct waiter *w = *pp;
        if (w->after < number) {
            *pp = w->next;
            w->cb(it->cfg, o, w->data);
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void stop_finish(struct checks *c);

/*
 * A run ended with o (which this takes). fed is false for a run the
 * stop cut short: it says nothing about the check.
 */
static void item_complete(struct item *it, struct check_observation *o, bool fed)
{
    struct checks *c = it->c;
    c->in_flight--;
    it->running = false;
    uint64_t number = it->started;
    if (fed) {
        it->finished++;
        detect_feed_observation(&it->detect, o);
        history_record(it, o);
        if ((unsigned)o->status < 4)
            it->runs[o->status]++;
        /* Kept packed, at a fraction of an observation's size: every check keeps one. */
        it->last = check__pack(o, it->last);
    }
    waiters_answer(it, o, number);
    check_observation_fini(o);
    if (!c->stopping)
        sched_run_done(c->sched, it->entry);
    else if (c->in_flight == 0)
        stop_finish(c);
}

static void on_run_done(struct check_run *run, void *data)
{
    struct item *it = data;
    struct check_observation o = run->obs;
    memset(&run->obs, 0, sizeof(run->obs));
    item_complete(it, &o, !(run->aborted && !run->timed_out));
}

static void item_fail_now(struct item *it, const char *msg)
{
    struct check_observation o = {
            .status = CHECK_STATUS_UNKNOWN,
            .summary = xstrdup(msg),
            .started_ms = clock_real_ms(&clock_system),
    };
    item_complete(it, &o, true);
}

static void on_sched_run(struct sched *s, struct sched_entry *e, const struct sched_run *run,
                         void *data)
{
    (void)s;
    (void)data;
    struct item *it = sched_entry_data(e);
    struct checks *c = it->c;
    if (c->metrics)
        metrics_histogram_observe(c->metrics->lateness, NULL, (double)run->lateness_ms / 1000.0);
    it->started++;
    it->running = true;
    c->in_flight++;
    if (it->attach_error) {
        item_fail_now(it, it->attach_error);
        return;
    }
    int r = check_run_start(&it->host, on_run_done, it);
    if (r < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "cannot start: %s", hale_strerror(r));
        item_fail_now(it, msg);
    }
}

static void host_run_now(struct check_host *host)
{
    struct item *it = host->runner_data;
    if (!it->c->stopping)
        sched_entry_run_now(it->c->sched, it->entry);
}

/* ---- metrics ---- */

/* Calls fn for each check of the current runner, with its name and type as labels. */
#define EACH_ITEM(cm, it)                                               \
    for (struct item *it = (cm)->current ? (cm)->current->items : NULL; \
         it && it < (cm)->current->items + (cm)->current->n; it++)

static void write_status(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        const char *v[] = {it->cfg->name, config_check_type_name(it->cfg->type), NULL};
        metrics_write_sample(w, v, (double)detect_hard_status(&it->detect));
    }
}

static void write_soft_status(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        const char *v[] = {it->cfg->name, config_check_type_name(it->cfg->type), NULL};
        metrics_write_sample(w, v, (double)detect_status(&it->detect));
    }
}

static void write_flapping(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        const char *v[] = {it->cfg->name, NULL};
        metrics_write_sample(w, v, detect_is_flapping(&it->detect) ? 1 : 0);
    }
}

static void write_duration(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        const char *v[] = {it->cfg->name, NULL};
        if (it->last)
            metrics_write_sample(w, v, (double)it->last->duration_us / 1e6);
    }
}

static void write_runs(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        for (unsigned st = 0; st < 4; st++) {
            const char *v[] = {it->cfg->name, check_status_name((enum check_status)st), NULL};
            if (it->runs[st])
                metrics_write_sample(w, v, (double)it->runs[st]);
        }
    }
}

static void write_skipped(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        struct sched_entry_stats st = {0};
        if (it->entry)
            sched_entry_stats(it->entry, &st);
        const char *v[] = {it->cfg->name, NULL};
        metrics_write_sample(w, v, (double)(it->skipped_before + st.skipped));
    }
}

static void write_samples(struct metrics_writer *w, void *data)
{
    EACH_ITEM((struct checks_metrics *)data, it)
    {
        const char *at = it->last ? it->last->data : NULL;
        for (size_t j = 0; it->last && j < it->last->n_samples; j++) {
            struct check_sample s;
            const char *label;
            at = check__packed_sample(at, &s, &label);
            double factor;
            const char *base;
            if (!s.has_value)
                continue;
            check_unit_scale(s.unit, &factor, &base);
            const char *v[] = {it->cfg->name, label, base, NULL};
            metrics_write_sample(w, v, s.value * factor);
        }
    }
}

struct checks_metrics *checks_metrics_new(struct metrics *m)
{
    static const char *const by_check_type[] = {"check", "type", NULL};
    static const char *const by_check[] = {"check", NULL};
    static const char *const by_check_status[] = {"check", "status", NULL};
    static const char *const by_sample[] = {"check", "label", "unit", NULL};
    static const double lateness[] = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60};
    struct checks_metrics *cm = xcalloc(1, sizeof(*cm));
    metrics_written_register(
            m, METRICS_GAUGE, "hale_check_status",
            "The hard (confirmed) status of each check: 0 ok, 1 warning, 2 critical, 3 unknown.",
            by_check_type, write_status, cm);
    metrics_written_register(
            m, METRICS_GAUGE, "hale_check_soft_status",
            "The status of each check's last run: 0 ok, 1 warning, 2 critical, 3 unknown.",
            by_check_type, write_soft_status, cm);
    metrics_written_register(m, METRICS_GAUGE, "hale_check_duration_seconds",
                             "How long each check's last run took.", by_check, write_duration, cm);
    metrics_written_register(m, METRICS_COUNTER, "hale_check_runs_total",
                             "Check runs finished, by the status they found.", by_check_status,
                             write_runs, cm);
    metrics_written_register(
            m, METRICS_COUNTER, "hale_check_skipped_runs_total",
            "Scheduled runs skipped because the previous run of the check was still going.",
            by_check, write_skipped, cm);
    cm->lateness = metrics_histogram_register(
            m, "hale_check_lateness_seconds",
            "How late check runs started after their scheduled time (loop delay and queueing).",
            NULL, lateness, sizeof(lateness) / sizeof(lateness[0]));
    metrics_written_register(m, METRICS_GAUGE, "hale_check_flapping",
                             "1 while a check is flapping, else 0.", by_check, write_flapping, cm);
    metrics_written_register(
            m, METRICS_GAUGE, "hale_check_sample",
            "The values each check's last run measured (perfdata), in base units where known.",
            by_sample, write_samples, cm);
    return cm;
}

void checks_metrics_free(struct checks_metrics *cm)
{
    free(cm);
}

/* ---- the runner ---- */

static struct item *item_find(const struct checks *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->items[i].cfg->name, name) == 0)
            return &c->items[i];
    return NULL;
}

/* The same check in the runner being replaced: most reloads keep the order. */
static const struct item *item_previous(const struct checks *old, const struct item *it, size_t i)
{
    if (!old)
        return NULL;
    if (i < old->n && strcmp(old->items[i].cfg->name, it->cfg->name) == 0)
        return &old->items[i];
    return item_find(old, it->cfg->name);
}

static void item_carry(struct item *it, size_t i, const struct checks *old)
{
    const struct item *prev = item_previous(old, it, i);
    if (!prev || prev->cfg->type != it->cfg->type)
        return;
    struct detect_snapshot snap;
    detect_snapshot_take(&prev->detect, &snap);
    detect_snapshot_restore(&it->detect, &snap);
    /* Counters go on counting: a reload is not a restart. */
    memcpy(it->runs, prev->runs, sizeof(it->runs));
    struct sched_entry_stats st = {0};
    if (prev->entry)
        sched_entry_stats(prev->entry, &st);
    it->skipped_before = prev->skipped_before + st.skipped;
    if (prev->last)
        it->last = check__packed_copy(prev->last);
}

/* Starts it's detection from the hard status it last had, as o says. */
static void item_resume(struct item *it, const struct checks_options *o)
{
    int last = o->last_status ? o->last_status(it->cfg->name, o->last_status_data) : -1;
    if (last <= CHECK_STATUS_OK || last > CHECK_STATUS_UNKNOWN)
        return;
    struct detect_snapshot snap;
    detect_snapshot_take(&it->detect, &snap);
    snap.status = snap.hard_status = snap.reported = (uint8_t)last;
    snap.hard = 1;
    detect_snapshot_restore(&it->detect, &snap);
}

static int item_init(struct checks *c, struct item *it, const struct config_check *cfg,
                     const struct checks_options *o, struct err *e)
{
    it->c = c;
    it->cfg = cfg;
    it->kind = check_kind_find(cfg->type);
    it->host = (struct check_host){
            .uv = loop_uv(c->loop),
            .cfg = cfg,
            .data_dir = config_server(c->config)->data_dir,
            .run_now = host_run_now,
            .runner_data = it,
            .series = c->series,
    };
    struct detect_params p;
    detect_params_from_check(&p, cfg);
    int r = detect_init(&it->detect, cfg->name, &p, on_detect_event, it);
    if (r < 0)
        return err_setf(e, r, "check %s: %s", cfg->name, hale_strerror(r));
    if (!item_previous(o->carry, it, (size_t)(it - c->items)))
        item_resume(it, o);
    item_carry(it, (size_t)(it - c->items), o->carry);
    if (!it->kind) {
        it->attach_error =
                xasprintf("hale cannot run %s checks yet", config_check_type_name(cfg->type));
    } else if (it->kind->attach) {
        struct err ae = {0};
        r = it->kind->attach(&it->host, &ae);
        if (r < 0)
            it->attach_error = xstrdup(ae.msg[0] ? ae.msg : hale_strerror(r));
        else
            it->attached = true;
    } else {
        it->attached = true;
    }
    enum sched_entry_kind kind =
            it->kind && it->kind->spawns ? SCHED_ENTRY_CHILD : SCHED_ENTRY_LOOP;
    r = sched_entry_add(c->sched, cfg->name, cfg->every_ms, kind, it, &it->entry);
    if (r < 0)
        return err_setf(e, r, "check %s: cannot schedule: %s", cfg->name, hale_strerror(r));
    return 0;
}

static void items_detach(struct checks *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct item *it = &c->items[i];
        if (it->attached && it->kind->detach)
            it->kind->detach(&it->host);
        it->attached = false;
    }
}

int checks_new(const struct checks_options *o, struct checks **ret_checks, struct err *e)
{
    struct checks *c = xcalloc(1, sizeof(*c));
    c->loop = o->loop;
    c->config = config_ref(o->config);
    c->metrics = o->metrics;
    c->on_event = o->on_event;
    c->event_data = o->event_data;
    if (o->series) {
        c->series = o->series;
        series_store_retain(c->series, series_keep, c->config);
    } else {
        c->series = series_store_new(NULL);
        c->own_series = true;
    }
    unsigned max = o->max_children ? o->max_children : CHECKS_MAX_CHILDREN_DEFAULT;
    int r = sched_new(&clock_system, max, on_sched_run, &c->sched);
    if (r < 0) {
        err_setf(e, r, "scheduler: %s", hale_strerror(r));
        goto fail;
    }
    c->n = c->config->n_checks;
    c->items = xcalloc(c->n ? c->n : 1, sizeof(*c->items));
    sched_reserve(c->sched, c->n);
    for (size_t i = 0; i < c->n; i++)
        if ((r = item_init(c, &c->items[i], &c->config->checks[i], o, e)) < 0)
            goto fail;
    /* Last: the driver may start runs at once. */
    if ((r = sched_driver_new(c->sched, c->loop, &c->driver)) < 0) {
        err_setf(e, r, "scheduler timer: %s", hale_strerror(r));
        goto fail;
    }
    if (c->metrics)
        c->metrics->current = c;
    *ret_checks = c;
    return 0;
fail:
    items_detach(c);
    checks_free(c);
    return r;
}

static void on_closer_second(uv_handle_t *h)
{
    struct checks *c = h->data;
    if (c->done)
        c->done(c->done_data);
}

static void on_closer_first(uv_handle_t *h)
{
    /*
     * Every handle closed before the first close was processed in the same
     * pass; one more close runs after that whole pass.
     */
    struct checks *c = h->data;
    uv_timer_init(loop_uv(c->loop), &c->closer);
    c->closer.data = c;
    uv_close((uv_handle_t *)&c->closer, on_closer_second);
}

static void stop_finish(struct checks *c)
{
    items_detach(c);
    uv_timer_init(loop_uv(c->loop), &c->closer);
    c->closer.data = c;
    uv_close((uv_handle_t *)&c->closer, on_closer_first);
}

void checks_stop(struct checks *c, void (*done)(void *data), void *data)
{
    if (c->stopping)
        return;
    c->stopping = true;
    c->done = done;
    c->done_data = data;
    sched_driver_free(c->driver);
    c->driver = NULL;
    sched_free(c->sched);
    c->sched = NULL;
    for (size_t i = 0; i < c->n; i++)
        c->items[i].entry = NULL;
    /* Keep one count while aborting, so a run ending synchronously cannot finish the stop. */
    c->in_flight++;
    char stopping[] = "not run: hale is stopping";
    for (size_t i = 0; i < c->n; i++) {
        struct item *it = &c->items[i];
        if (it->host.run)
            check_run_abort(it->host.run);
        if (!it->running && it->waiters) {
            struct check_observation o = {
                    .status = CHECK_STATUS_UNKNOWN,
                    .summary = stopping,
                    .started_ms = clock_real_ms(&clock_system),
            };
            waiters_answer(it, &o, UINT64_MAX);
        }
    }
    if (--c->in_flight == 0)
        stop_finish(c);
}

void checks_free(struct checks *c)
{
    if (!c)
        return;
    if (c->metrics && c->metrics->current == c)
        c->metrics->current = NULL;
    sched_driver_free(c->driver);
    sched_free(c->sched);
    for (size_t i = 0; i < c->n; i++) {
        struct item *it = &c->items[i];
        free(it->last);
        free(it->attach_error);
        free(it->history);
        while (it->waiters) {
            struct waiter *w = it->waiters;
            it->waiters = w->next;
            free(w);
        }
    }
    free(c->items);
    if (c->own_series)
        series_store_free(c->series);
    config_unref(c->config);
    free(c);
}

int checks_run_now(struct checks *c, const char *name, checks_run_cb *cb, void *data)
{
    struct item *it = item_find(c, name);
    if (!it)
        return HALE_ENOTFOUND;
    if (c->stopping)
        return HALE_ESTATE;
    struct waiter *w = xcalloc(1, sizeof(*w));
    w->cb = cb;
    w->data = data;
    w->after = it->started;
    w->next = it->waiters;
    it->waiters = w;
    return sched_entry_run_now(c->sched, it->entry);
}

int checks_heartbeat_report(struct checks *c, const char *name,
                            const struct check_heartbeat_report *r)
{
    struct item *it = item_find(c, name);
    if (!it)
        return HALE_ENOTFOUND;
    if (it->cfg->type != CONFIG_CHECK_HEARTBEAT || !it->attached)
        return HALE_ESTATE;
    return check_heartbeat_report(&it->host, r);
}

/* ---- reading state ---- */

size_t checks_count(const struct checks *c)
{
    return c->n;
}

static void state_fill(const struct checks *c, const struct item *it, struct checks_state *s)
{
    *s = (struct checks_state){
            .cfg = it->cfg,
            .status = detect_status(&it->detect),
            .hard_status = detect_hard_status(&it->detect),
            .hard = detect_is_hard(&it->detect),
            .flapping = detect_is_flapping(&it->detect),
            .attempt = detect_count(&it->detect),
            .has_last = it->last != NULL,
            .summary = it->last ? check__packed_summary(it->last) : NULL,
            .last_run_ms = it->last ? it->last->started_ms : 0,
            .duration_us = it->last ? it->last->duration_us : 0,
            .running = it->running,
            .runs = it->finished,
    };
    if (c->sched && it->entry) {
        uint64_t due = sched_entry_due_ms(it->entry), now = clock_mono_ms(&clock_system);
        uint64_t real = clock_real_ms(&clock_system);
        s->next_due_ms = due > now ? real + (due - now) : real;
        struct sched_entry_stats st;
        sched_entry_stats(it->entry, &st);
        s->skipped = st.skipped;
    }
}

bool checks_state_at(const struct checks *c, size_t i, struct checks_state *ret_state)
{
    if (i >= c->n)
        return false;
    state_fill(c, &c->items[i], ret_state);
    return true;
}

bool checks_state_find(const struct checks *c, const char *name, struct checks_state *ret_state)
{
    const struct item *it = item_find(c, name);
    if (!it)
        return false;
    state_fill(c, it, ret_state);
    return true;
}

bool checks_last_observation(const struct checks *c, const char *name,
                             struct check_observation *ret)
{
    const struct item *it = item_find(c, name);
    if (!it || !it->last)
        return false;
    check__unpack(it->last, ret);
    return true;
}
