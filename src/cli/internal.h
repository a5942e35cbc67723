/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the commands that speak to the API (incidents,
 * problems, report) and their tests: turning the API's JSON into what
 * people read (tables, ages, timelines, colours) and the small pieces of
 * argument handling they have in common. The rendering functions take a
 * jansson value and write to a strbuf, so they are tested without a
 * daemon; none of them does I/O but cli__style_for() and cli__json_print().
 */
#ifndef HALE_CLI_INTERNAL_H
#define HALE_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/labels.h"
#include "base/strbuf.h"
#include "metrics/metrics.h"
#include "runbook/runbook.h"

/* How tables are drawn. */
struct cli__style {
    int width;      /* terminal columns the last column is cut to; 0: never cut */
    bool colour;    /* ANSI colours */
    int64_t now_ms; /* Unix ms the ages are counted to */
};

/*
 * The style for output to fd: the terminal's width and colour when fd is
 * a terminal (no colour when $NO_COLOR is set and not empty), neither
 * otherwise; now_ms the current time.
 */
void cli__style_for(int fd, struct cli__style *ret);

/* Whether colour suits fd: a terminal, and $NO_COLOR unset or empty. */
bool cli__colour_wanted(int fd);

/* ANSI sequences used for rows; CLI__RESET ends each. */
#define CLI__RED    "\033[31m"
#define CLI__YELLOW "\033[33m"
#define CLI__DIM    "\033[2m"
#define CLI__RESET  "\033[0m"

/*
 * The colour of an incident's row: dim once resolved or closed, else red
 * for critical and yellow for warning; NULL for none.
 */
const char *cli__incident_colour(const json_t *incident);

/* The narrowest a cut column gets, however narrow the terminal. */
#define CLI__MIN_CUT 10

#define CLI__AGE_MAX 24
/* An age in its largest whole unit: "45s", "3m", "2h", "5d"; "0s" when negative. */
void cli__age_format(int64_t ms, char buf[CLI__AGE_MAX]);

/*
 * Appends the table of incidents (a JSON array of the API's incidents):
 * ID PRI STATE SEVERITY TEAM ASSIGNEE AGE TITLE, each column as wide as
 * its widest cell, TITLE cut to st->width, rows coloured when st->colour.
 * Control characters from the API are shown as '?', never sent to the
 * terminal.
 */
void cli__incidents_table(const json_t *incidents, const struct cli__style *st, struct strbuf *out);

/* Appends one incident's fields, one "name  value" line each. */
void cli__incident_fields(const json_t *incident, int64_t now_ms, struct strbuf *out);

/*
 * Appends a timeline (a JSON array of entries, oldest first): TIME ACTOR
 * KIND TEXT, a text of several lines indented under TEXT.
 */
void cli__timeline_render(const json_t *timeline, struct strbuf *out);
/* CREATED NOTIFIER REASON LEVEL STATE ATTEMPTS ERROR, newest first as the API lists them. */
void cli__notifications_table(const json_t *notifications, struct strbuf *out);

/* The table of problems: ID STATE INCIDENTS AGE TITLE, as the incidents' table. */
void cli__problems_table(const json_t *problems, const struct cli__style *st, struct strbuf *out);

/* Appends one problem's fields. */
void cli__problem_fields(const json_t *problem, int64_t now_ms, struct strbuf *out);

/*
 * Appends the table of audit entries (a JSON array of the API's, oldest
 * first): TIME ACTOR ACTION TARGET ORIGIN, ORIGIN cut to st->width.
 */
void cli__audit_table(const json_t *entries, const struct cli__style *st, struct strbuf *out);

/*
 * One line for an incident as it changes, for `hale incidents watch`:
 * TIME ID PRI STATE SEVERITY TEAM ASSIGNEE TITLE, TIME its last change
 * ("2026-11-21T19:00:00Z"), columns padded to their usual widths,
 * coloured as in the table when colour. Control characters are shown
 * as '?'.
 */
void cli__incident_line(const json_t *incident, bool colour, struct strbuf *out);

/*
 * When a silence (the API's JSON) holds events back, in a few words, at
 * now_ms: "ends in 1h59m", "starts in 3h, ends in 5h", "Mon-Fri 22:00-06:00",
 * "until incident 42 resolves", "ended 5m ago".
 */
void cli__silence_when(const json_t *silence, int64_t now_ms, struct strbuf *out);

/*
 * Appends the table of silences: ID STATE MATCHERS WHEN COMMENT CREATED_BY,
 * expired rows dim and active ones yellow when st->colour.
 */
void cli__silences_table(const json_t *silences, const struct cli__style *st, struct strbuf *out);

/* Appends one silence's fields. */
void cli__silence_fields(const json_t *silence, int64_t now_ms, struct strbuf *out);

/* Writes value as the API's JSON pretty-printed (two spaces), with a newline. */
void cli__json_print(const json_t *value, FILE *out);

/*
 * Adds arg, "NAME=VALUE" given to option opt ("--label") of command cmd,
 * to l. Returns 0, or the usage exit status after saying what is wrong.
 */
int cli__label_arg(const char *cmd, struct labels *l, const char *opt, const char *arg);
/*
 * Parses an incident or problem number: digits only, 1 or more. Returns 0,
 * or -EINVAL.
 */
int cli__id_parse(const char *s, int64_t *ret_id);

/*
 * The usage error for what getopt_long() returned as c ('?' or ':') after
 * the argument at argv[optind - 1]: names the option. Returns CLI_EXIT_USAGE.
 */
int cli__option_error(const char *cmd, char **argv, int c);

/*
 * Checks a --since value: a duration ("7d", "1h30m") or an RFC 3339 time.
 * Returns 0, or a usage error naming it (CLI_EXIT_USAGE).
 */
int cli__since_check(const char *cmd, const char *since);

/* The filters of `hale incidents list`, as the API's query parameters. */
struct cli__list_query {
    const char *state;    /* "new,acknowledged", "open"; NULL: any */
    const char *team;     /* NULL: any */
    const char *since;    /* "7d" or an RFC 3339 time; NULL: all time */
    const char *priority; /* "1", "P1,P2"; NULL: any */
    const char *service;  /* NULL: any */
    const char *text;     /* in the title; NULL: any */
    long limit;           /* 1 to 500; 0: the API's default */
};

/*
 * Appends "/api/v1/incidents" and the query for q and cursor (NULL: the
 * first page) to out, each value percent-encoded.
 */
void cli__incidents_path(const struct cli__list_query *q, const char *cursor, struct strbuf *out);

/* ---- render.c: the pieces every table and field list is drawn with ---- */

#define CLI__TABLE_MAX_COLS 9

struct cli__table_row {
    char *cell[CLI__TABLE_MAX_COLS]; /* owned, sanitised */
    const char *colour;              /* NULL: none */
};

/* Rows of cells; the last column is the free text (a title, a text). */
struct cli__table {
    size_t n_cols;
    struct cli__table_row *rows;
    size_t n_rows, cap;
    bool multiline; /* the last column keeps its newlines */
};

void cli__table_init(struct cli__table *t, size_t n_cols, bool multiline);
void cli__table_fini(struct cli__table *t);
/* Adds a row of t->n_cols cells (copied, sanitised; NULL shows as "-"). */
void cli__table_add(struct cli__table *t, const char *colour, const char *const *cells);
/* Each column as wide as its widest cell, the last cut to st->width (st may be NULL). */
void cli__table_render(const struct cli__table *t, const struct cli__style *st, struct strbuf *out);

/*
 * A copy of s (NULL: "-") with control characters made '?' (tabs and line
 * breaks spaces, unless keep_newlines), so nothing reaches the terminal as
 * an escape sequence. Free it.
 */
char *cli__sanitise(const char *s, bool keep_newlines);
/* One "name  value" line; a value of several lines is indented under the first. */
void cli__field_add(struct strbuf *out, const char *name, const char *value);
/* A time field with how long ago it was, "2026-11-21T19:00:00.000Z (3m ago)", or "(in 2h)". */
void cli__time_field_add(struct strbuf *out, const char *name, const json_t *o, const char *key,
                         int64_t now_ms);
/* "a=b, c=d" of a JSON object of strings (only read). */
void cli__labels_field_add(struct strbuf *out, json_t *labels);

/* ---- render_runs.c: runs and runbooks ---- */

/* The colour of a run's row by its outcome: none when it healed or completed. */
const char *cli__run_colour(const char *outcome);
/* ID RUNBOOK TARGET INCIDENT ACTOR OUTCOME AGE REASON, newest first as the API lists them. */
void cli__runs_table(const json_t *runs, const struct cli__style *st, struct strbuf *out);
/*
 * One line of a step attempt (the API's JSON) as it ended: "step 2/3
 * restart (remediate, attempt 1) succeeded: exit 0 in 120 ms"; steps_total
 * 0 when unknown.
 */
void cli__run_step_line(const json_t *step, long steps_total, struct strbuf *out);
/* A run ({"run":..., "steps": [...]}): its fields, then each attempt with its output. */
void cli__run_render(const json_t *answer, int64_t now_ms, struct strbuf *out);
/* NAME TEAM STEPS GUARD STATE RUNS HEALED RELAPSED DESCRIPTION. */
void cli__runbooks_table(const json_t *runbooks, const struct cli__style *st, struct strbuf *out);
/* Each runbook's effectiveness, its total then per target, and its quarantine. */
void cli__runbook_stats_table(const json_t *runbooks, struct strbuf *out);

/* ---- watch.c: reading a live stream ---- */

/* The longest line of a stream taken; a longer one ends the stream. */
#define CLI__SSE_LINE_MAX (16u * 1024 * 1024)
#define CLI__SSE_ID_MAX   128

/* One message: its event type ("message" when it names none) and its data. */
typedef void cli__sse_event_fn(const char *event, const char *data, void *arg);

/*
 * A reader of server-sent events (the WHATWG format): fed bytes in pieces
 * of any size, it calls back once per complete message with data, and
 * keeps the last id seen for a reconnect. Lines may end in LF or CRLF;
 * comments and unknown fields are skipped. Embedded:
 * cli__sse_init()/cli__sse_fini().
 */
struct cli__sse {
    struct strbuf line;            /* the line being read */
    struct strbuf data;            /* of the message being read */
    char event[64];                /* of the message being read */
    char id[CLI__SSE_ID_MAX];      /* the last id: survives messages and reconnects */
    char next_id[CLI__SSE_ID_MAX]; /* the message being read named this id */
    bool has_next_id;
    unsigned retry_ms; /* the server's retry field; 0 when it sent none */
    cli__sse_event_fn *cb;
    void *arg;
};

void cli__sse_init(struct cli__sse *p, cli__sse_event_fn *cb, void *arg);
void cli__sse_fini(struct cli__sse *p);
/* Forgets a half-read line and message (the connection dropped); keeps the id. */
void cli__sse_reset(struct cli__sse *p);
/* Reads n bytes. Returns 0, or HALE_ELIMIT for a line over CLI__SSE_LINE_MAX. */
int cli__sse_feed(struct cli__sse *p, const char *bytes, size_t n);

struct cli_client;
/*
 * `hale incidents watch`: prints each incident change from the daemon's
 * live stream as it arrives (a line, or the JSON with json), reconnecting
 * with the last id when the connection drops, until SIGINT or SIGTERM.
 * Returns the exit status: 0 when interrupted, 1 when the daemon refuses
 * the stream or cannot be reached at first.
 */
int cli__incidents_watch(struct cli_client *c, const char *cmd, bool json);

/* Options every command that speaks to the API takes. */
struct cli__remote {
    const char *url;   /* --url, NULL: $HALE_URL or the default */
    const char *token; /* --token, NULL: $HALE_TOKEN */
};

/* getopt_long() values of --url and --token, above any character. */
enum {
    CLI__OPT_URL = 0x1000,
    CLI__OPT_TOKEN,
    CLI__OPT_JSON,
    CLI__OPT_FIRST_FREE, /* a command numbers its own long options from here */
};

/* The lines every such command's --help ends with. */
#define CLI__REMOTE_HELP                                                                    \
    "      --url URL      hale's address (default $HALE_URL, else http://127.0.0.1:8080)\n" \
    "      --token TOKEN  the API token (default $HALE_TOKEN)\n"                            \
    "  -h, --help         show this help\n"                                                 \
    "\n"                                                                                    \
    "Exit status: 0 done; 1 failed (hale refused, or cannot be reached); 64 bad usage.\n"

/*
 * The store's compaction for `hale serve` (serve_store.c): a pass every
 * retention.every, its results in the log and the hale_store_* metrics.
 * Embedded in the daemon, which outlives the passes' callbacks.
 */
struct cli__compaction {
    uv_loop_t *uv;
    struct store *store;
    struct store_retention retention; /* of the configuration in force */
    struct metrics_family *passes;    /* counter {result} */
    struct metrics_family *deleted;   /* counter {kind} */
    struct metrics_family *freed;     /* counter, bytes */
    struct metrics_family *duration;  /* gauge, seconds of the last pass */
    uv_timer_t timer;
    bool timer_on;
    uint64_t every_ms; /* the timer's repeat */
};
/* Registers the store's metric families on m. Loop thread, before any schedule. */
void cli__compaction_init(struct cli__compaction *c, uv_loop_t *uv, struct store *st,
                          struct metrics *m);
/*
 * Takes cr as the retention in force (at start and at each reload); the
 * timer is (re)armed when retention.every changed, the first pass within a
 * minute of start.
 */
void cli__compaction_schedule(struct cli__compaction *c, const struct config_retention *cr);
/* No more passes (one running ends with the store). Idempotent. */
void cli__compaction_close(struct cli__compaction *c);

/*
 * The checks' side of the runbook executor for `hale serve` (serve_runbooks.c):
 * runs now and flapping asked of *checks, the daemon's current runner (NULL
 * once stopping), looked up at each call.
 */
struct checks;
struct runbooks_checks cli__runbooks_checks(struct checks *const *checks);
/* The executor's notify seam (runbooks_notify_fn), ctx the daemon's struct notify. */
void cli__runbooks_notify(void *ctx, const struct incident *i, const char *team,
                          enum runbooks_notice kind, const char *text);

#endif
