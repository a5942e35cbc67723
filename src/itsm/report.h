/* SPDX-License-Identifier: MIT */
/*
 * Reports: the final report of one incident, and the summary of a period
 * (counts, MTTA and MTTR, how much hale healed alone, recurring problems,
 * each check's availability). Pure functions of the records they are given:
 * the caller reads them from the store; nothing here does I/O.
 */
#ifndef HALE_ITSM_REPORT_H
#define HALE_ITSM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "itsm/incident.h"
#include "store/store.h"

enum report_format {
    REPORT_FORMAT_MD,
    REPORT_FORMAT_HTML,
    REPORT_FORMAT_JSON,
};

/* "md", "html", "json"; 0, or -EINVAL. */
int report_format_parse(const char *s, enum report_format *ret);
/* "text/markdown; charset=utf-8", "text/html; charset=utf-8", "application/json". */
const char *report_format_content_type(enum report_format f);

struct report_incident_input {
    const struct incident *incident;
    const struct timeline_entry *timeline; /* oldest first */
    size_t n_timeline;
    const struct problem *problem; /* the linked problem, or NULL */
    int64_t now_ms;                /* for durations of what is still open */
};

/*
 * The final report of an incident: summary, impact, timeline, actions
 * taken and their outputs, who did what, root cause, time to acknowledge
 * and to resolve, follow-ups (the open problem). A new string.
 */
char *report_incident(const struct report_incident_input *in, enum report_format f);

struct report_summary_input {
    int64_t since_ms, now_ms;         /* the period */
    const struct incident *incidents; /* opened in the period */
    size_t n_incidents;
    const struct store_check_state *check_states; /* store_check_states_list() for since_ms */
    size_t n_check_states;
    const char *const *checks; /* the configured checks' names, for availability */
    size_t n_checks;
    const struct problem *problems;
    size_t n_problems;
};

/* A duration statistic in ms; n == 0 when there was nothing to measure. */
struct report_stat {
    size_t n;
    int64_t median_ms, p90_ms;
};

struct report_count {
    char *name; /* a team's name, "(none)" for no team */
    size_t n;
};

/*
 * The incidents opened in one step of the period, for charts over time:
 * their count, MTTA, MTTR, resolved and healed as for the whole period.
 */
struct report_bucket {
    int64_t start_ms; /* a multiple of the step since the epoch (UTC) */
    size_t incidents, resolved, healed;
    struct report_stat mtta, mttr;
};

struct report_availability {
    char *check;
    double percent; /* time ok over time known in the period, 0..100; < 0 when unknown */
    int64_t down_ms;
};

struct report_summary {
    int64_t since_ms, now_ms;
    size_t total;
    size_t by_state[INCIDENT_CLOSED + 1];
    size_t by_priority[5]; /* P1..P5 */
    size_t by_category[INCIDENT_CATEGORY_DATA + 1];
    struct report_count *by_team;
    size_t n_teams;
    struct report_stat mtta, mttr;       /* acknowledged - opened; resolved - opened */
    size_t resolved, healed;             /* healed: resolved by hale, acknowledged by nobody */
    const struct problem **top_problems; /* most incidents first, borrowed from the input */
    size_t n_top_problems;
    struct report_availability *availability; /* one per configured check */
    size_t n_availability;
    int64_t step_ms;               /* of the buckets: an hour, a day or weeks */
    struct report_bucket *buckets; /* the period cut in steps, oldest first */
    size_t n_buckets;
};

/* Computes the summary; free it with report_summary_fini(). */
void report_summary_compute(const struct report_summary_input *in, struct report_summary *ret);
void report_summary_fini(struct report_summary *s);
/* Renders it; the HTML has charts (inline SVG). A new string. */
char *report_summary_render(const struct report_summary *s, enum report_format f);

#endif
