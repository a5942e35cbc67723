/* SPDX-License-Identifier: MIT */
/*
 * The metric kind: static thresholds over series in the series store,
 * the ones hale ingests (POST /api/v1/write) and its own check samples.
 * Each run picks the series of the configured name whose labels match,
 * leaves out the stale ones, and judges each by its newest point against
 * warn and crit (Monitoring Plugins ranges). With `for`, a level counts
 * only once the points have breached it without a break for that long,
 * measured on the points' own times, so a late run does not shorten the
 * hold. The check reports the worst series, by name, and each series'
 * newest value as a sample.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/labels.h"
#include "base/strbuf.h"
#include "base/units.h"
#include "checks/internal.h"
#include "series/series.h"

/* Without `stale`, a series is stale after this many intervals of the check ... */
#define METRIC_STALE_INTERVALS 3
/* ... and never sooner than this (a pusher's interval and flush delay). */
#define METRIC_STALE_MIN_MS    (60u * 1000u)
/* Longest series name quoted in a summary. */
#define METRIC_NAME_MAX        200

struct metric_state {
    const struct clock *clock;
};

/* One series' verdict. */
struct judged {
    const struct series *series;
    struct series_point last;
    enum check_status level;  /* of the newest point alone */
    uint64_t held_ms;         /* how long the points have stayed at level or worse */
    enum check_status status; /* once `for` is applied: level, or a lower level held long enough */
    uint64_t status_held_ms;  /* how long at status or worse, when it is below level */
};

static int metric_attach(struct check_host *host, struct err *e)
{
    (void)e;
    struct metric_state *s = xcalloc(1, sizeof(*s));
    s->clock = &clock_system;
    host->kind_state = s;
    return 0;
}

static void metric_detach(struct check_host *host)
{
    free(host->kind_state);
    host->kind_state = NULL;
}

void check_metric__set_clock(struct check_host *host, const struct clock *clock)
{
    struct metric_state *s = host->kind_state;
    if (s && host->cfg->type == CONFIG_CHECK_METRIC)
        s->clock = clock;
}

static uint64_t metric_stale_ms(const struct config_check *cfg)
{
    if (cfg->u.metric.stale_ms != CONFIG_UNSET64)
        return cfg->u.metric.stale_ms;
    uint64_t ms = cfg->every_ms * METRIC_STALE_INTERVALS;
    return ms < METRIC_STALE_MIN_MS ? METRIC_STALE_MIN_MS : ms;
}

static enum check_status point_level(const struct config_check_metric *m, double v)
{
    if (m->crit && units_range_alerts(m->crit, v))
        return CHECK_STATUS_CRITICAL;
    if (m->warn && units_range_alerts(m->warn, v))
        return CHECK_STATUS_WARNING;
    return CHECK_STATUS_OK;
}

/*
 * How long the points of s have stayed at each level or worse without a
 * break up to the newest (at time newest): from the first point of that
 * unbroken run to the newest, in one walk from the oldest.
 */
static void holds_measure(const struct config_check_metric *m, const struct series *s,
                          uint64_t newest, uint64_t ret_held[CHECK_STATUS_CRITICAL + 1])
{
    uint64_t since[CHECK_STATUS_CRITICAL + 1] = {0};
    bool running[CHECK_STATUS_CRITICAL + 1] = {false};
    struct series_iter it;
    struct series_point p;
    for (series_iter_init(&it, s); series_next(&it, &p);) {
        enum check_status level = point_level(m, p.value);
        for (enum check_status l = CHECK_STATUS_WARNING; l <= CHECK_STATUS_CRITICAL; l++) {
            if (level >= l && !running[l])
                since[l] = p.time_ms;
            running[l] = level >= l;
        }
    }
    for (enum check_status l = CHECK_STATUS_OK; l <= CHECK_STATUS_CRITICAL; l++)
        ret_held[l] = running[l] && newest > since[l] ? newest - since[l] : 0;
}

/*
 * Judges s by its newest point: the level it breaches and, with `for`,
 * whether that level (or else warn, under crit) has held long enough.
 */
static void series_judge(const struct config_check_metric *m, const struct series *s,
                         struct judged *ret)
{
    *ret = (struct judged){.series = s};
    series_last(s, &ret->last);
    ret->level = point_level(m, ret->last.value);
    if (ret->level == CHECK_STATUS_OK)
        return;
    uint64_t held[CHECK_STATUS_CRITICAL + 1];
    holds_measure(m, s, ret->last.time_ms, held);
    ret->held_ms = held[ret->level];
    if (ret->held_ms >= m->for_ms) {
        ret->status = ret->level;
        return;
    }
    if (ret->level == CHECK_STATUS_CRITICAL && m->warn) {
        ret->status_held_ms = held[CHECK_STATUS_WARNING];
        if (ret->status_held_ms >= m->for_ms)
            ret->status = CHECK_STATUS_WARNING;
    }
}

/* name{label="value", ...}, as Prometheus writes a series. */
static void series_format(const struct series *s, struct strbuf *b)
{
    strbuf_adds(b, series_name(s));
    struct labels l = {0};
    series_labels(s, &l);
    for (size_t i = 0; i < l.n; i++) {
        strbuf_addf(b, "%s%s=\"", i ? "," : "{", l.v[i].name);
        for (const char *p = l.v[i].value; *p; p++) {
            if (*p == '"' || *p == '\\')
                strbuf_addc(b, '\\');
            strbuf_addc(b, *p);
        }
        strbuf_addc(b, '"');
    }
    if (l.n)
        strbuf_addc(b, '}');
    free(l.v);
}

/* "90", "~:10", "@10:20": a range as plugins write it. */
static void range_format(const struct units_range *r, struct strbuf *b)
{
    char n[CHECK__NUMBER_MAX];
    if (r->inside)
        strbuf_addc(b, '@');
    if (r->start == -INFINITY)
        strbuf_adds(b, "~:");
    else if (r->start != 0) {
        check__number_format(r->start, n);
        strbuf_addf(b, "%s:", n);
    }
    if (r->end != INFINITY) {
        check__number_format(r->end, n);
        strbuf_adds(b, n);
    }
}

/* The check's selection, for summaries: node_load1{host=~"web.*"}. */
static void selection_format(const struct config_check_metric *m, struct strbuf *b)
{
    strbuf_adds(b, m->series);
    if (m->match && m->match->n)
        labels_matchers_format(m->match, b);
}

static void sample_add(struct check_run *run, const struct config_check_metric *m,
                       const struct judged *j)
{
    struct strbuf label;
    strbuf_init(&label, CHECK_LABEL_MAX);
    series_format(j->series, &label);
    check_run_sample(run, label.s, j->last.value, "");
    strbuf_fini(&label);
    struct check_sample *s = &run->obs.samples[run->obs.n_samples - 1];
    if (m->warn) {
        s->has_warn = true;
        s->warn = *m->warn;
    }
    if (m->crit) {
        s->has_crit = true;
        s->crit = *m->crit;
    }
}

/* Which of two verdicts the summary names: the worse, then the one held longer. */
static bool judged_is_worse(const struct judged *a, const struct judged *b)
{
    if (a->status != b->status)
        return a->status > b->status;
    if (a->level != b->level)
        return a->level > b->level;
    return a->held_ms > b->held_ms;
}

static void summary_write(const struct config_check_metric *m, const struct judged *worst, size_t n,
                          size_t n_bad, struct strbuf *b)
{
    char v[CHECK__NUMBER_MAX], held[UNITS_DURATION_MAX], hold[UNITS_DURATION_MAX];
    struct strbuf name;
    strbuf_init(&name, METRIC_NAME_MAX);
    series_format(worst->series, &name);
    check__number_format(worst->last.value, v);
    strbuf_addf(b, "%s = %s", name.s, v);
    strbuf_fini(&name);
    units_duration_format(m->for_ms, hold, sizeof(hold));
    if (worst->level != CHECK_STATUS_OK) {
        bool crit = worst->level == CHECK_STATUS_CRITICAL;
        strbuf_addf(b, ", beyond %s ", crit ? "crit" : "warn");
        range_format(crit ? m->crit : m->warn, b);
        units_duration_format(worst->held_ms, held, sizeof(held));
        if (worst->status != worst->level)
            strbuf_addf(b, " for %s of the %s it must hold", held, hold);
        else if (m->for_ms)
            strbuf_addf(b, " for %s", held);
    }
    if (worst->status != worst->level && worst->status != CHECK_STATUS_OK) {
        units_duration_format(worst->status_held_ms, held, sizeof(held));
        strbuf_adds(b, ", beyond warn ");
        range_format(m->warn, b);
        strbuf_addf(b, " for %s", held);
    }
    if (n > 1 && n_bad)
        strbuf_addf(b, "; %zu of %zu series breach", n_bad, n);
    else if (n > 1)
        strbuf_addf(b, "; %zu series, all within", n);
}

/* No series to judge: none yet, or none fresh. */
static void finish_without_data(struct check_run *run, const struct config_check_metric *m,
                                const struct series *newest, uint64_t now, uint64_t stale)
{
    struct strbuf b;
    strbuf_init(&b, 1024);
    if (!newest) {
        strbuf_adds(&b, "no data yet: no series ");
        selection_format(m, &b);
        strbuf_adds(&b, " (hale keeps what POST /api/v1/write sends)");
    } else {
        struct series_point p;
        series_last(newest, &p);
        char age[UNITS_DURATION_MAX], limit[UNITS_DURATION_MAX];
        units_duration_format((now - p.time_ms) / 1000 * 1000, age, sizeof(age));
        units_duration_format(stale, limit, sizeof(limit));
        strbuf_adds(&b, "no fresh data: the newest point of ");
        selection_format(m, &b);
        strbuf_addf(&b, " is %s old (stale after %s)", age, limit);
    }
    check_run_finish_summary(run, CHECK_STATUS_UNKNOWN, strbuf_detach(&b, NULL));
}

static void metric_start(struct check_run *run)
{
    const struct config_check_metric *m = &run->cfg->u.metric;
    const struct series_store *st = run->host->series;
    const struct metric_state *state = run->host->kind_state;
    if (!st) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN,
                         "the series live in the daemon: run this check there "
                         "(POST /api/v1/checks/%s/run)",
                         run->cfg->name);
        return;
    }
    uint64_t now = clock_real_ms(state ? state->clock : &clock_system);
    uint64_t stale = metric_stale_ms(run->cfg);
    const struct series *newest = NULL;
    struct series_point newest_p = {0};
    struct judged worst = {0}, j;
    struct labels labels = {0}; /* views, reused from series to series */
    size_t n = 0, n_bad = 0, dropped = 0;
    for (size_t i = 0; i < series_store_count(st); i++) {
        const struct series *s = series_store_at(st, i);
        struct series_point last;
        if (strcmp(series_name(s), m->series) != 0 || !series_last(s, &last))
            continue;
        if (m->match) {
            series_labels(s, &labels);
            if (!labels_matchers_match(m->match, &labels))
                continue;
        }
        if (!newest || last.time_ms > newest_p.time_ms) {
            newest = s;
            newest_p = last;
        }
        if (now > last.time_ms && now - last.time_ms > stale)
            continue;
        series_judge(m, s, &j);
        if (n == 0 || judged_is_worse(&j, &worst))
            worst = j;
        n++;
        n_bad += j.status != CHECK_STATUS_OK;
        if (run->obs.n_samples < CHECK_SAMPLES_MAX)
            sample_add(run, m, &j);
        else
            dropped++;
    }
    free(labels.v);
    if (n == 0) {
        finish_without_data(run, m, newest, now, stale);
        return;
    }
    if (dropped)
        check__note(&run->obs, "%zu more series not kept as samples (at most %d)", dropped,
                    CHECK_SAMPLES_MAX);
    struct strbuf b;
    strbuf_init(&b, 1024);
    summary_write(m, &worst, n, n_bad, &b);
    check_run_finish_summary(run, worst.status, strbuf_detach(&b, NULL));
}

const struct check_kind check_kind_metric = {
        .type = CONFIG_CHECK_METRIC,
        .attach = metric_attach,
        .detach = metric_detach,
        .start = metric_start,
};
