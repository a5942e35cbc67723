/* SPDX-License-Identifier: MIT */
/*
 * The summary of a period, for the people who answer for the service:
 * how many incidents, how fast they were acknowledged and resolved (MTTA,
 * MTTR), how many hale healed alone, which problems keep coming back, and
 * how available each check was. Computed from the records the caller read
 * from the store, then written as Markdown, JSON, or an HTML page whose
 * charts are inline SVG (no script, nothing fetched).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "itsm/report.h"
#include "itsm/report_internal.h"

#define TOP_PROBLEMS_MAX 10
#define NO_TEAM          "(none)"
#define HOUR_MS          (3600ll * 1000)
#define DAY_MS           (24 * HOUR_MS)
/* Points enough for a chart of a year by day; longer periods take wider steps. */
#define BUCKETS_MAX      400

/* ---- computing ---- */

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/*
 * The nearest-rank percentile: the value at rank ceil(p/100 * n) (1-based)
 * of the sorted values. It is always one of the measured durations, never
 * an interpolation between two; the median of an even count is the lower
 * of the two middle values.
 */
static int64_t percentile(const int64_t *sorted, size_t n, unsigned p)
{
    size_t rank = (p * n + 99) / 100;
    return sorted[rank ? rank - 1 : 0];
}

/* Sorts v in place and fills s; v may be empty. */
static void stat_compute(int64_t *v, size_t n, struct report_stat *s)
{
    memset(s, 0, sizeof(*s));
    if (n == 0)
        return;
    qsort(v, n, sizeof(*v), cmp_int64);
    s->n = n;
    s->median_ms = percentile(v, n, 50);
    s->p90_ms = percentile(v, n, 90);
}

static bool is_healed(const struct incident *inc)
{
    return inc->resolved_ms && inc->resolved_by && strcmp(inc->resolved_by, "hale") == 0 &&
           inc->acknowledged_ms == 0;
}

/*
 * The figures of a set of incidents gathered one at a time: their count,
 * MTTA, MTTR, resolved and healed, added to b (zeroed). Room for most
 * incidents; figures_end() computes the times and frees.
 */
struct figures {
    struct report_bucket *b;
    int64_t *tta, *ttr;
    size_t n_tta, n_ttr;
};

static void figures_begin(struct figures *f, struct report_bucket *b, size_t most)
{
    *f = (struct figures){.b = b};
    f->tta = xreallocarray(NULL, most + 1, sizeof(*f->tta));
    f->ttr = xreallocarray(NULL, most + 1, sizeof(*f->ttr));
}

static void figures_add(struct figures *f, const struct incident *inc)
{
    f->b->incidents++;
    /* A clock that went back would make a negative time: count it as 0. */
    if (inc->acknowledged_ms)
        f->tta[f->n_tta++] =
                inc->acknowledged_ms > inc->opened_ms ? inc->acknowledged_ms - inc->opened_ms : 0;
    if (inc->resolved_ms) {
        f->ttr[f->n_ttr++] =
                inc->resolved_ms > inc->opened_ms ? inc->resolved_ms - inc->opened_ms : 0;
        f->b->resolved++;
    }
    if (is_healed(inc))
        f->b->healed++;
}

static void figures_end(struct figures *f)
{
    stat_compute(f->tta, f->n_tta, &f->b->mtta);
    stat_compute(f->ttr, f->n_ttr, &f->b->mttr);
    free(f->tta);
    free(f->ttr);
}

/* Counts by state, priority and category, and the figures of the whole period: one pass. */
static void incidents_count(const struct report_summary_input *in, struct report_summary *s)
{
    struct report_bucket all = {0};
    struct figures f;
    figures_begin(&f, &all, in->n_incidents);
    for (size_t i = 0; i < in->n_incidents; i++) {
        const struct incident *inc = &in->incidents[i];
        if ((unsigned)inc->state < ARRAY_SIZE(s->by_state))
            s->by_state[inc->state]++;
        if (inc->priority >= 1 && inc->priority <= ARRAY_SIZE(s->by_priority))
            s->by_priority[inc->priority - 1]++;
        if ((unsigned)inc->category < ARRAY_SIZE(s->by_category))
            s->by_category[inc->category]++;
        figures_add(&f, inc);
    }
    figures_end(&f);
    s->total = all.incidents;
    s->resolved = all.resolved;
    s->healed = all.healed;
    s->mtta = all.mtta;
    s->mttr = all.mttr;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_count(const void *a, const void *b)
{
    const struct report_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->name, y->name);
}

/* Sorting the names puts each team's incidents side by side to count. */
static void teams_count(const struct report_summary_input *in, struct report_summary *s)
{
    const char **names = xreallocarray(NULL, in->n_incidents + 1, sizeof(*names));
    for (size_t i = 0; i < in->n_incidents; i++)
        names[i] = in->incidents[i].team ? in->incidents[i].team : NO_TEAM;
    qsort(names, in->n_incidents, sizeof(*names), cmp_str);
    s->by_team = xreallocarray(NULL, in->n_incidents + 1, sizeof(*s->by_team));
    for (size_t i = 0; i < in->n_incidents; i++) {
        if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
            s->by_team[s->n_teams++] = (struct report_count){xstrdup(names[i]), 0};
        s->by_team[s->n_teams - 1].n++;
    }
    qsort(s->by_team, s->n_teams, sizeof(*s->by_team), cmp_count);
    free(names);
}

static int cmp_problem(const void *a, const void *b)
{
    const struct problem *x = *(const struct problem *const *)a;
    const struct problem *y = *(const struct problem *const *)b;
    if (x->incidents != y->incidents)
        return x->incidents < y->incidents ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

static void problems_rank(const struct report_summary_input *in, struct report_summary *s)
{
    s->top_problems = xreallocarray(NULL, in->n_problems + 1, sizeof(*s->top_problems));
    for (size_t i = 0; i < in->n_problems; i++)
        s->top_problems[i] = &in->problems[i];
    qsort(s->top_problems, in->n_problems, sizeof(*s->top_problems), cmp_problem);
    s->n_top_problems = in->n_problems < TOP_PROBLEMS_MAX ? in->n_problems : TOP_PROBLEMS_MAX;
}

static int cmp_change(const void *a, const void *b)
{
    const struct store_check_state *x = *(const struct store_check_state *const *)a;
    const struct store_check_state *y = *(const struct store_check_state *const *)b;
    int r = strcmp(x->check, y->check);
    if (r)
        return r;
    return (x->time_ms > y->time_ms) - (x->time_ms < y->time_ms);
}

/* The first change of check in v (sorted by check), or n when it has none. */
static size_t changes_find(const struct store_check_state *const *v, size_t n, const char *check)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid]->check, check) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(v[lo]->check, check) == 0 ? lo : n;
}

/*
 * Walks one check's changes, oldest first, over [since, now]: the last
 * change at or before since gives the state the period starts in; before
 * any change the state is not known and that time is left out.
 */
static void availability_walk(const struct store_check_state *const *v, size_t n, size_t first,
                              const struct report_summary_input *in,
                              struct report_availability *ret)
{
    int64_t t = in->since_ms, known = 0, up = 0;
    int status = -1;
    for (size_t i = first; i < n && strcmp(v[i]->check, ret->check) == 0; i++) {
        int64_t at = v[i]->time_ms;
        if (at >= in->now_ms)
            break;
        if (at > t) {
            if (status >= 0)
                known += at - t;
            if (status == 0)
                up += at - t;
            t = at;
        }
        status = v[i]->status;
    }
    if (status >= 0 && in->now_ms > t) {
        known += in->now_ms - t;
        if (status == 0)
            up += in->now_ms - t;
    }
    ret->percent = known > 0 ? 100.0 * (double)up / (double)known : -1.0;
    ret->down_ms = known - up;
}

static void availability_compute(const struct report_summary_input *in, struct report_summary *s)
{
    const struct store_check_state **v = xreallocarray(NULL, in->n_check_states + 1, sizeof(*v));
    size_t n = 0;
    for (size_t i = 0; i < in->n_check_states; i++)
        if (in->check_states[i].check)
            v[n++] = &in->check_states[i];
    qsort(v, n, sizeof(*v), cmp_change);
    s->availability = xcalloc(in->n_checks + 1, sizeof(*s->availability));
    for (size_t i = 0; i < in->n_checks; i++) {
        struct report_availability *a = &s->availability[s->n_availability++];
        a->check = xstrdup(in->checks[i]);
        availability_walk(v, n, changes_find(v, n, a->check), in, a);
    }
    free(v);
}

/*
 * The step of the charts over time: an hour up to two days, a day up to
 * BUCKETS_MAX days, else as many weeks as keep the points under
 * BUCKETS_MAX.
 */
static int64_t bucket_step(int64_t since_ms, int64_t now_ms)
{
    int64_t span = now_ms > since_ms ? now_ms - since_ms : 0;
    if (span <= 2 * DAY_MS)
        return HOUR_MS;
    if (span < BUCKETS_MAX * DAY_MS)
        return DAY_MS;
    int64_t weeks = span / (7 * DAY_MS * (BUCKETS_MAX - 1)) + 1;
    return weeks * 7 * DAY_MS;
}

static int64_t floor_to(int64_t t, int64_t step)
{
    int64_t q = t / step;
    return (q - (t % step < 0)) * step;
}

/* The figures of one bucket's incidents, v[0..n). */
static void bucket_fill(const struct incident *const *v, size_t n, struct report_bucket *b)
{
    struct figures f;
    figures_begin(&f, b, n);
    for (size_t i = 0; i < n; i++)
        figures_add(&f, v[i]);
    figures_end(&f);
}

static int cmp_opened(const void *a, const void *b)
{
    const struct incident *x = *(const struct incident *const *)a;
    const struct incident *y = *(const struct incident *const *)b;
    return (x->opened_ms > y->opened_ms) - (x->opened_ms < y->opened_ms);
}

/*
 * The period cut in steps aligned on the epoch (so a day is a UTC day),
 * the first holding since, the last now; each incident counts in the step
 * it was opened in. Incidents are sorted by opening to walk the steps once.
 */
static void buckets_compute(const struct report_summary_input *in, struct report_summary *s)
{
    int64_t now = in->now_ms > in->since_ms ? in->now_ms : in->since_ms;
    s->step_ms = bucket_step(in->since_ms, now);
    int64_t first = floor_to(in->since_ms, s->step_ms);
    s->n_buckets = (size_t)((floor_to(now, s->step_ms) - first) / s->step_ms) + 1;
    s->buckets = xcalloc(s->n_buckets, sizeof(*s->buckets));
    const struct incident **v = xreallocarray(NULL, in->n_incidents + 1, sizeof(*v));
    for (size_t i = 0; i < in->n_incidents; i++)
        v[i] = &in->incidents[i];
    qsort(v, in->n_incidents, sizeof(*v), cmp_opened);
    size_t i = 0;
    for (size_t k = 0; k < s->n_buckets; k++) {
        struct report_bucket *b = &s->buckets[k];
        b->start_ms = first + (int64_t)k * s->step_ms;
        int64_t end = b->start_ms + s->step_ms;
        /* Before the period: the store's query should leave none. */
        while (i < in->n_incidents && v[i]->opened_ms < b->start_ms)
            i++;
        size_t j = i;
        while (j < in->n_incidents && (v[j]->opened_ms < end || k + 1 == s->n_buckets))
            j++;
        bucket_fill(v + i, j - i, b);
        i = j;
    }
    free(v);
}

void report_summary_compute(const struct report_summary_input *in, struct report_summary *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->since_ms = in->since_ms;
    ret->now_ms = in->now_ms;
    incidents_count(in, ret);
    teams_count(in, ret);
    problems_rank(in, ret);
    availability_compute(in, ret);
    buckets_compute(in, ret);
}

void report_summary_fini(struct report_summary *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_teams; i++)
        free(s->by_team[i].name);
    free(s->by_team);
    free(s->top_problems);
    for (size_t i = 0; i < s->n_availability; i++)
        free(s->availability[i].check);
    free(s->availability);
    free(s->buckets);
    memset(s, 0, sizeof(*s));
}

/* ---- figures as text ---- */

static const char *stat_text(const struct report_stat *st, int64_t ms,
                             char buf[REPORT_DURATION_MAX])
{
    return st->n ? report__duration_format(ms, buf) : "-";
}

static char *percent_text(double p, char *buf, size_t size)
{
    if (p < 0)
        snprintf(buf, size, "unknown");
    else if (p >= 100.0)
        snprintf(buf, size, "100 %%");
    else
        /*
         * Two decimals, since 99.95 % and 99.5 % are different promises;
         * rounded down, so that downtime never shows as 100 %.
         */
        snprintf(buf, size, "%.2f %%", floor(p * 100.0) / 100.0);
    return buf;
}

static double healed_percent(const struct report_summary *s)
{
    return s->resolved ? 100.0 * (double)s->healed / (double)s->resolved : -1.0;
}

static char *period_title(const struct report_summary *s)
{
    char from[CLOCK_RFC3339_MAX], to[CLOCK_RFC3339_MAX];
    return xasprintf("Summary from %s to %s", report__time_format(s->since_ms, from),
                     report__time_format(s->now_ms, to));
}

static char *overview_text(const struct report_summary *s)
{
    char pct[32];
    const char *noun = s->total == 1 ? "incident" : "incidents";
    if (s->resolved == 0)
        return xasprintf("%zu %s opened in the period; none resolved.", s->total, noun);
    return xasprintf("%zu %s opened in the period; %zu resolved, %zu of them (%s) healed "
                     "by hale with nobody acknowledging them.",
                     s->total, noun, s->resolved, s->healed,
                     percent_text(healed_percent(s), pct, sizeof(pct)));
}

/* ---- Markdown (and the tables of the HTML page) ---- */

static void count_row(struct report_doc *d, const char *name, size_t n)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%zu", n);
    const char *cells[] = {name, buf};
    report__doc_table_row(d, cells, 2);
}

static void doc_response(struct report_doc *d, const struct report_summary *s)
{
    static const char *const head[] = {"measure", "incidents", "median", "p90"};
    const struct report_stat *st[] = {&s->mtta, &s->mttr};
    const char *names[] = {"MTTA (opened to acknowledged)", "MTTR (opened to resolved)"};
    report__doc_heading(d, 2, "Response times");
    report__doc_table_begin(d, head, 4);
    for (size_t i = 0; i < 2; i++) {
        char n[32], med[REPORT_DURATION_MAX], p90[REPORT_DURATION_MAX];
        snprintf(n, sizeof(n), "%zu", st[i]->n);
        const char *cells[] = {names[i], n, stat_text(st[i], st[i]->median_ms, med),
                               stat_text(st[i], st[i]->p90_ms, p90)};
        report__doc_table_row(d, cells, 4);
    }
    report__doc_table_end(d);
}

static void doc_counts(struct report_doc *d, const struct report_summary *s)
{
    static const char *const h_state[] = {"state", "incidents"};
    static const char *const h_prio[] = {"priority", "incidents"};
    static const char *const h_cat[] = {"category", "incidents"};
    static const char *const h_team[] = {"team", "incidents"};
    report__doc_heading(d, 2, "Incidents by state");
    report__doc_table_begin(d, h_state, 2);
    for (size_t i = 0; i < ARRAY_SIZE(s->by_state); i++)
        count_row(d, incident_state_name((enum incident_state)i), s->by_state[i]);
    report__doc_table_end(d);
    report__doc_heading(d, 2, "Incidents by priority");
    report__doc_table_begin(d, h_prio, 2);
    for (size_t i = 0; i < ARRAY_SIZE(s->by_priority); i++) {
        char p[8];
        snprintf(p, sizeof(p), "P%zu", i + 1);
        count_row(d, p, s->by_priority[i]);
    }
    report__doc_table_end(d);
    report__doc_heading(d, 2, "Incidents by category");
    report__doc_table_begin(d, h_cat, 2);
    for (size_t i = 0; i < ARRAY_SIZE(s->by_category); i++)
        count_row(d, incident_category_name((enum incident_category)i), s->by_category[i]);
    report__doc_table_end(d);
    report__doc_heading(d, 2, "Incidents by team");
    if (s->n_teams == 0) {
        report__doc_para(d, "No incidents.");
        return;
    }
    report__doc_table_begin(d, h_team, 2);
    for (size_t i = 0; i < s->n_teams; i++)
        count_row(d, s->by_team[i].name, s->by_team[i].n);
    report__doc_table_end(d);
}

static void doc_problems(struct report_doc *d, const struct report_summary *s)
{
    static const char *const head[] = {"problem", "title", "state", "incidents"};
    report__doc_heading(d, 2, "Top problems");
    if (s->n_top_problems == 0) {
        report__doc_para(d, "No problems recorded.");
        return;
    }
    report__doc_table_begin(d, head, 4);
    for (size_t i = 0; i < s->n_top_problems; i++) {
        const struct problem *p = s->top_problems[i];
        char id[32], n[32];
        snprintf(id, sizeof(id), "%lld", (long long)p->id);
        snprintf(n, sizeof(n), "%u", p->incidents);
        const char *cells[] = {id, p->title ? p->title : "", problem_state_name(p->state), n};
        report__doc_table_row(d, cells, 4);
    }
    report__doc_table_end(d);
}

static void doc_availability(struct report_doc *d, const struct report_summary *s)
{
    static const char *const head[] = {"check", "availability", "down"};
    report__doc_heading(d, 2, "Availability");
    if (s->n_availability == 0) {
        report__doc_para(d, "No checks configured.");
        return;
    }
    report__doc_table_begin(d, head, 3);
    for (size_t i = 0; i < s->n_availability; i++) {
        const struct report_availability *a = &s->availability[i];
        char pct[32], down[REPORT_DURATION_MAX];
        const char *cells[] = {a->check, percent_text(a->percent, pct, sizeof(pct)),
                               a->percent < 0 ? "-" : report__duration_format(a->down_ms, down)};
        report__doc_table_row(d, cells, 3);
    }
    report__doc_table_end(d);
}

static char *summary_md(const struct report_summary *s)
{
    struct report_doc d;
    _cleanup_free_ char *title = period_title(s);
    _cleanup_free_ char *overview = overview_text(s);
    report__doc_begin(&d, REPORT_FORMAT_MD, title);
    report__doc_heading(&d, 1, title);
    report__doc_para(&d, overview);
    doc_response(&d, s);
    doc_counts(&d, s);
    doc_problems(&d, s);
    doc_availability(&d, s);
    return report__doc_end(&d);
}

/* ---- HTML: figures and charts ---- */

struct bar {
    const char *label;
    double value;
    char text[32];     /* the value as shown at the end of the bar */
    const char *color; /* NULL: the chart's */
};

#define CHART_WIDTH     640
#define CHART_LABEL_W   170 /* the label column, right-aligned against the bars */
#define CHART_BAR_W     380
#define CHART_ROW_H     22
#define CHART_LABEL_MAX 26 /* bytes of a label shown; the whole one is the tooltip */

/* A label cut to fit its column, at a UTF-8 character boundary. */
static void chart_label(struct strbuf *b, const char *label)
{
    size_t n = strlen(label);
    if (n <= CHART_LABEL_MAX) {
        report__html_escape(b, label);
        return;
    }
    n = CHART_LABEL_MAX - 1;
    while (n > 0 && ((unsigned char)label[n] & 0xc0) == 0x80)
        n--;
    _cleanup_free_ char *cut = xstrndup(label, n);
    report__html_escape(b, cut);
    strbuf_adds(b, "\xe2\x80\xa6"); /* U+2026 HORIZONTAL ELLIPSIS */
}

/*
 * The one chart of the page: horizontal bars, one row per bar, label on
 * the left, bar length value / max, the value's text after the bar.
 */
static void svg_bar_chart(struct strbuf *b, const char *title, const struct bar *bars, size_t n,
                          double max, const char *color)
{
    int height = (int)n * CHART_ROW_H + 6;
    strbuf_addf(b,
                "<svg width=\"%d\" height=\"%d\" "
                "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
                CHART_WIDTH, height, CHART_WIDTH, height);
    report__html_escape(b, title);
    strbuf_adds(b, "\">\n");
    for (size_t i = 0; i < n; i++) {
        int y = (int)i * CHART_ROW_H + 3;
        double frac = max > 0 && bars[i].value > 0 ? bars[i].value / max : 0;
        int w = (int)lround((frac > 1 ? 1 : frac) * CHART_BAR_W);
        if (w == 0 && bars[i].value > 0)
            w = 1; /* something is not nothing */
        strbuf_adds(b, "<g><title>");
        report__html_escape(b, bars[i].label);
        strbuf_addf(b, ": %s</title><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", bars[i].text,
                    CHART_LABEL_W - 8, y + 13);
        chart_label(b, bars[i].label);
        /* A pale track under each bar shows the whole scale. */
        strbuf_addf(b,
                    "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"#eef0f3\"/>"
                    "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" fill=\"%s\"/>"
                    "<text x=\"%d\" y=\"%d\">%s</text></g>\n",
                    CHART_LABEL_W, y, CHART_BAR_W, CHART_LABEL_W, y, w,
                    bars[i].color ? bars[i].color : color, CHART_LABEL_W + CHART_BAR_W + 8, y + 13,
                    bars[i].text);
    }
    strbuf_adds(b, "</svg>\n");
}

static void count_bar(struct bar *bar, const char *label, size_t n)
{
    bar->label = label;
    bar->value = (double)n;
    bar->color = NULL;
    snprintf(bar->text, sizeof(bar->text), "%zu", n);
}

static double bars_max(const struct bar *bars, size_t n)
{
    double max = 0;
    for (size_t i = 0; i < n; i++)
        if (bars[i].value > max)
            max = bars[i].value;
    return max;
}

/* A heading, then the chart, or a sentence when there is nothing to draw. */
static void html_chart(struct report_doc *d, const char *title, const struct bar *bars, size_t n,
                       double max, const char *color)
{
    report__doc_heading(d, 2, title);
    if (n == 0) {
        report__doc_para(d, "Nothing to show.");
        return;
    }
    svg_bar_chart(&d->b, title, bars, n, max ? max : bars_max(bars, n), color);
}

static void html_figure(struct report_doc *d, const char *value, const char *key)
{
    strbuf_adds(&d->b, "<div class=\"figure\"><div class=\"v\">");
    report__html_escape(&d->b, value);
    strbuf_adds(&d->b, "</div><div class=\"k\">");
    report__html_escape(&d->b, key);
    strbuf_adds(&d->b, "</div></div>\n");
}

static void html_stat_figure(struct report_doc *d, const char *name, const struct report_stat *st)
{
    char med[REPORT_DURATION_MAX], p90[REPORT_DURATION_MAX];
    _cleanup_free_ char *key = xasprintf("%s, median (p90 %s, %zu incidents)", name,
                                         stat_text(st, st->p90_ms, p90), st->n);
    html_figure(d, stat_text(st, st->median_ms, med), key);
}

static void html_figures(struct report_doc *d, const struct report_summary *s)
{
    char n[32], pct[32];
    strbuf_adds(&d->b, "<div class=\"figures\">\n");
    snprintf(n, sizeof(n), "%zu", s->total);
    html_figure(d, n, "incidents");
    html_stat_figure(d, "MTTA", &s->mtta);
    html_stat_figure(d, "MTTR", &s->mttr);
    _cleanup_free_ char *healed =
            xasprintf("healed by hale alone (%zu of %zu resolved)", s->healed, s->resolved);
    html_figure(d, percent_text(healed_percent(s), pct, sizeof(pct)), healed);
    strbuf_adds(&d->b, "</div>\n");
}

/* Bars enough for each fixed enumeration: states, priorities, categories. */
#define COUNT_BARS 8
_Static_assert(INCIDENT_CLOSED < COUNT_BARS && INCIDENT_CATEGORY_DATA < COUNT_BARS,
               "a chart has a bar per state and per category");

static void html_count_charts(struct report_doc *d, const struct report_summary *s)
{
    struct bar bars[COUNT_BARS];
    char prio[ARRAY_SIZE(s->by_priority)][8];
    for (size_t i = 0; i < ARRAY_SIZE(s->by_priority); i++) {
        snprintf(prio[i], sizeof(prio[i]), "P%zu", i + 1);
        count_bar(&bars[i], prio[i], s->by_priority[i]);
    }
    html_chart(d, "Incidents by priority", bars, ARRAY_SIZE(s->by_priority), 0, "#c2410c");
    for (size_t i = 0; i < ARRAY_SIZE(s->by_category); i++)
        count_bar(&bars[i], incident_category_name((enum incident_category)i), s->by_category[i]);
    html_chart(d, "Incidents by category", bars, ARRAY_SIZE(s->by_category), 0, "#2563eb");
    for (size_t i = 0; i < ARRAY_SIZE(s->by_state); i++)
        count_bar(&bars[i], incident_state_name((enum incident_state)i), s->by_state[i]);
    html_chart(d, "Incidents by state", bars, ARRAY_SIZE(s->by_state), 0, "#6b7280");
    struct bar *teams = xreallocarray(NULL, s->n_teams + 1, sizeof(*teams));
    for (size_t i = 0; i < s->n_teams; i++)
        count_bar(&teams[i], s->by_team[i].name, s->by_team[i].n);
    html_chart(d, "Incidents by team", teams, s->n_teams, 0, "#7c3aed");
    free(teams);
}

/* Green at 99.9 % and over, amber from 99 %, red below; grey when unknown. */
static const char *availability_color(double p)
{
    return p < 0 ? "#9ca3af" : p >= 99.9 ? "#16a34a" : p >= 99.0 ? "#d97706" : "#dc2626";
}

static void html_availability(struct report_doc *d, const struct report_summary *s)
{
    struct bar *bars = xreallocarray(NULL, s->n_availability + 1, sizeof(*bars));
    for (size_t i = 0; i < s->n_availability; i++) {
        const struct report_availability *a = &s->availability[i];
        bars[i].label = a->check;
        bars[i].value = a->percent < 0 ? 0 : a->percent;
        bars[i].color = availability_color(a->percent);
        percent_text(a->percent, bars[i].text, sizeof(bars[i].text));
    }
    html_chart(d, "Availability", bars, s->n_availability, 100.0, NULL);
    free(bars);
}

static char *summary_html(const struct report_summary *s)
{
    struct report_doc d;
    _cleanup_free_ char *title = period_title(s);
    _cleanup_free_ char *overview = overview_text(s);
    report__doc_begin(&d, REPORT_FORMAT_HTML, title);
    report__doc_heading(&d, 1, title);
    html_figures(&d, s);
    report__doc_para(&d, overview);
    html_count_charts(&d, s);
    html_availability(&d, s);
    doc_problems(&d, s);
    doc_response(&d, s);
    return report__doc_end(&d);
}

/* ---- JSON ---- */

static json_t *stat_json(const struct report_stat *st)
{
    return json_pack("{s:I, s:o, s:o}", "n", (json_int_t)st->n, "median_ms",
                     st->n ? json_integer((json_int_t)st->median_ms) : json_null(), "p90_ms",
                     st->n ? json_integer((json_int_t)st->p90_ms) : json_null());
}

static void counts_json(json_t *o, const struct report_summary *s)
{
    json_t *state = json_object(), *prio = json_object(), *cat = json_object();
    for (size_t i = 0; i < ARRAY_SIZE(s->by_state); i++)
        json_object_set_new(state, incident_state_name((enum incident_state)i),
                            json_integer((json_int_t)s->by_state[i]));
    for (size_t i = 0; i < ARRAY_SIZE(s->by_priority); i++) {
        char p[8];
        snprintf(p, sizeof(p), "P%zu", i + 1);
        json_object_set_new(prio, p, json_integer((json_int_t)s->by_priority[i]));
    }
    for (size_t i = 0; i < ARRAY_SIZE(s->by_category); i++)
        json_object_set_new(cat, incident_category_name((enum incident_category)i),
                            json_integer((json_int_t)s->by_category[i]));
    json_t *teams = json_array();
    for (size_t i = 0; i < s->n_teams; i++)
        json_array_append_new(teams,
                              json_pack("{s:o, s:I}", "team", codec_json_text(s->by_team[i].name),
                                        "incidents", (json_int_t)s->by_team[i].n));
    json_object_set_new(o, "by_state", state);
    json_object_set_new(o, "by_priority", prio);
    json_object_set_new(o, "by_category", cat);
    json_object_set_new(o, "by_team", teams);
}

static json_t *availability_json(const struct report_summary *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_availability; i++) {
        const struct report_availability *v = &s->availability[i];
        bool known = v->percent >= 0;
        json_array_append_new(
                a, json_pack("{s:o, s:o, s:o}", "check", codec_json_text(v->check), "percent",
                             known ? json_real(v->percent) : json_null(), "down_ms",
                             known ? json_integer((json_int_t)v->down_ms) : json_null()));
    }
    return a;
}

static json_t *over_time_json(const struct report_summary *s)
{
    json_t *a = json_array();
    for (size_t i = 0; i < s->n_buckets; i++) {
        const struct report_bucket *b = &s->buckets[i];
        json_array_append_new(
                a, json_pack("{s:o, s:I, s:I, s:I, s:o, s:o}", "start",
                             codec_json_time(b->start_ms), "incidents", (json_int_t)b->incidents,
                             "resolved", (json_int_t)b->resolved, "healed", (json_int_t)b->healed,
                             "mtta", stat_json(&b->mtta), "mttr", stat_json(&b->mttr)));
    }
    return json_pack("{s:I, s:o}", "step_ms", (json_int_t)s->step_ms, "buckets", a);
}

static char *summary_json(const struct report_summary *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "since", codec_json_time(s->since_ms));
    json_object_set_new(o, "until", codec_json_time(s->now_ms));
    json_object_set_new(o, "total", json_integer((json_int_t)s->total));
    counts_json(o, s);
    json_object_set_new(o, "mtta", stat_json(&s->mtta));
    json_object_set_new(o, "mttr", stat_json(&s->mttr));
    json_object_set_new(o, "resolved", json_integer((json_int_t)s->resolved));
    json_object_set_new(o, "healed", json_integer((json_int_t)s->healed));
    json_t *problems = json_array();
    for (size_t i = 0; i < s->n_top_problems; i++)
        json_array_append_new(problems, codec_json_problem(s->top_problems[i]));
    json_object_set_new(o, "top_problems", problems);
    json_object_set_new(o, "availability", availability_json(s));
    json_object_set_new(o, "over_time", over_time_json(s));
    return report__json_dump(o);
}

char *report_summary_render(const struct report_summary *s, enum report_format f)
{
    switch (f) {
    case REPORT_FORMAT_MD:
        return summary_md(s);
    case REPORT_FORMAT_HTML:
        return summary_html(s);
    case REPORT_FORMAT_JSON:
        return summary_json(s);
    }
    return NULL;
}
