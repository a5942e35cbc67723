/* SPDX-License-Identifier: MIT */
/*
 * `hale incidents list|show|open|ack|assign|note|resolve|close|watch`:
 * opening and working incidents and requests from a shell, through the
 * daemon's HTTP API (docs/api.md, "Incidents"). Each subcommand is one
 * request (list with --all is one per page; watch is one live stream, read
 * by watch.c) made by the client in client.c; what people read is drawn by
 * render.c. The command line is checked whole before anything is sent.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/labels.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"
#include "itsm/incident.h"

/* The API refuses longer notes; refusing them here saves sending them. */
#define NOTE_MAX      (64 * 1024)
/* --all stops here: a daemon that never ends its pages must not keep us forever. */
#define ALL_MAX_PAGES 10000
/* The API takes no more labels on an incident opened by hand. */
#define LABELS_MAX    32

enum {
    OPT_STATE = CLI__OPT_FIRST_FREE,
    OPT_TEAM,
    OPT_SINCE,
    OPT_LIMIT,
    OPT_ALL,
    OPT_PRIORITY,
    OPT_SERVICE,
    OPT_TEXT,
    OPT_AS_TEAM,
    OPT_AS_USER,
    OPT_CAUSE,
    OPT_TITLE,
    OPT_REQUEST,
    OPT_OPEN_TEAM,
    OPT_IMPACT,
    OPT_SEVERITY,
    OPT_CATEGORY,
    OPT_LABEL,
    OPT_DESCRIPTION,
};

struct inc_args {
    const char *cmd; /* "incidents ack", for messages */
    struct cli__remote remote;
    bool json;
    struct cli__list_query query;
    bool all;
    bool as_team, as_user;
    const char *cause;
    /* open */
    const char *title, *team, *impact, *severity, *category, *description;
    bool request;
    const char *labels[LABELS_MAX]; /* "name=value" */
    int n_labels;
    int64_t id;
    char **words; /* what follows N */
    int n_words;
};

struct sub {
    const char *name;
    const char *cmd;
    const char *usage; /* the line after "Usage: " */
    const char *about; /* what it does, and its own options */
    const struct option *options;
    bool needs_id;
    int min_words, max_words; /* after N; max -1: no limit */
    const char *words;        /* what they are, for "missing the ..." */
    int (*run)(struct cli_client *c, const struct inc_args *a);
};

/* Each subcommand's own; getopt_long() refuses any other by name. */
static const struct option options_plain[] = {
        {"url", required_argument, NULL, CLI__OPT_URL},
        {"token", required_argument, NULL, CLI__OPT_TOKEN},
        {"json", no_argument, NULL, CLI__OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};
static const struct option options_list[] = {
        {"state", required_argument, NULL, OPT_STATE},
        {"team", required_argument, NULL, OPT_TEAM},
        {"priority", required_argument, NULL, OPT_PRIORITY},
        {"service", required_argument, NULL, OPT_SERVICE},
        {"text", required_argument, NULL, OPT_TEXT},
        {"since", required_argument, NULL, OPT_SINCE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"all", no_argument, NULL, OPT_ALL},
        {"url", required_argument, NULL, CLI__OPT_URL},
        {"token", required_argument, NULL, CLI__OPT_TOKEN},
        {"json", no_argument, NULL, CLI__OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};
/* Here --team and --user say what the word is: they take no value. */
static const struct option options_assign[] = {
        {"team", no_argument, NULL, OPT_AS_TEAM},
        {"user", no_argument, NULL, OPT_AS_USER},
        {"url", required_argument, NULL, CLI__OPT_URL},
        {"token", required_argument, NULL, CLI__OPT_TOKEN},
        {"json", no_argument, NULL, CLI__OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};
static const struct option options_resolve[] = {
        {"cause", required_argument, NULL, OPT_CAUSE},
        {"url", required_argument, NULL, CLI__OPT_URL},
        {"token", required_argument, NULL, CLI__OPT_TOKEN},
        {"json", no_argument, NULL, CLI__OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static const struct option options_open[] = {
        {"title", required_argument, NULL, OPT_TITLE},
        {"request", no_argument, NULL, OPT_REQUEST},
        {"team", required_argument, NULL, OPT_OPEN_TEAM},
        {"impact", required_argument, NULL, OPT_IMPACT},
        {"severity", required_argument, NULL, OPT_SEVERITY},
        {"category", required_argument, NULL, OPT_CATEGORY},
        {"label", required_argument, NULL, OPT_LABEL},
        {"description", required_argument, NULL, OPT_DESCRIPTION},
        {"url", required_argument, NULL, CLI__OPT_URL},
        {"token", required_argument, NULL, CLI__OPT_TOKEN},
        {"json", no_argument, NULL, CLI__OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

void cli__incidents_path(const struct cli__list_query *q, const char *cursor, struct strbuf *out)
{
    strbuf_adds(out, "/api/v1/incidents");
    if (q->state)
        cli_url_query_add(out, "state", q->state);
    if (q->team)
        cli_url_query_add(out, "team", q->team);
    if (q->priority)
        cli_url_query_add(out, "priority", q->priority);
    if (q->service)
        cli_url_query_add(out, "service", q->service);
    if (q->text)
        cli_url_query_add(out, "q", q->text);
    if (q->since)
        cli_url_query_add(out, "since", q->since);
    if (q->limit > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%ld", q->limit);
        cli_url_query_add(out, "limit", n);
    }
    if (cursor)
        cli_url_query_add(out, "cursor", cursor);
}

/* Prints e's sentence as the command's failure; returns CLI_EXIT_FAILURE. */
static int failed(const char *cmd, const struct err *e)
{
    fprintf(stderr, "hale %s: %s\n", cmd, e->msg);
    return CLI_EXIT_FAILURE;
}

static void list_path(const char *cursor, const void *arg, struct strbuf *path)
{
    const struct inc_args *a = arg;
    cli__incidents_path(&a->query, cursor, path);
}

/*
 * The first page, or with --all every page gathered into the first
 * page's answer, whose next_cursor is then null (or where it stopped).
 */
static int list_fetch(struct cli_client *c, const struct inc_args *a, json_t **ret_answer,
                      struct err *e)
{
    int r = cli_client_list(c, "incidents", a->all, ALL_MAX_PAGES, list_path, a, ret_answer, e);
    if (r == 0 && a->all && json_is_string(json_object_get(*ret_answer, "next_cursor")))
        fprintf(stderr, "hale %s: stopped after %d pages\n", a->cmd, ALL_MAX_PAGES);
    return r;
}

static int run_list(struct cli_client *c, const struct inc_args *a)
{
    json_t *answer;
    struct err e = {0};
    if (list_fetch(c, a, &answer, &e) < 0)
        return failed(a->cmd, &e);
    const json_t *items = json_object_get(answer, "incidents");
    if (a->json) {
        cli__json_print(answer, stdout);
    } else if (json_array_size(items) == 0) {
        fprintf(stderr, "hale: no incidents%s\n",
                a->query.state || a->query.team || a->query.since ? " match" : "");
    } else {
        struct cli__style st;
        cli__style_for(STDOUT_FILENO, &st);
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__incidents_table(items, &st, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
        if (!a->all && json_is_string(json_object_get(answer, "next_cursor")))
            fprintf(stderr, "hale: there are more: --all lists every page\n");
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run_show(struct cli_client *c, const struct inc_args *a)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/incidents/%lld", (long long)a->id);
    json_t *answer;
    struct err e = {0};
    if (cli_client_json(c, "GET", path, NULL, &answer, &e) < 0)
        return failed(a->cmd, &e);
    if (a->json) {
        cli__json_print(answer, stdout);
    } else {
        struct cli__style st;
        cli__style_for(STDOUT_FILENO, &st);
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__incident_fields(json_object_get(answer, "incident"), st.now_ms, &out);
        const json_t *timeline = json_object_get(answer, "timeline");
        strbuf_adds(&out, "\n");
        if (json_array_size(timeline) > 0)
            cli__timeline_render(timeline, &out);
        else
            strbuf_adds(&out, "(the timeline is empty)\n");
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run_notifications(struct cli_client *c, const struct inc_args *a)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/incidents/%lld/notifications", (long long)a->id);
    json_t *answer;
    struct err e = {0};
    if (cli_client_json(c, "GET", path, NULL, &answer, &e) < 0)
        return failed(a->cmd, &e);
    if (a->json) {
        cli__json_print(answer, stdout);
    } else {
        const json_t *list = json_object_get(answer, "notifications");
        struct strbuf out;
        strbuf_init(&out, 0);
        if (json_array_size(list) > 0)
            cli__notifications_table(list, &out);
        else
            strbuf_addf(&out, "nobody was notified of incident %lld\n", (long long)a->id);
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

/*
 * POSTs body (taken) to the incident's action and prints done (taken), or
 * the answer with --json.
 */
static int act(struct cli_client *c, const struct inc_args *a, const char *action, json_t *body,
               char *done)
{
    char path[80];
    snprintf(path, sizeof(path), "/api/v1/incidents/%lld/%s", (long long)a->id, action);
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, "POST", path, body, &answer, &e);
    json_decref(body);
    if (r < 0) {
        free(done);
        return failed(a->cmd, &e);
    }
    if (a->json)
        cli__json_print(answer, stdout);
    else
        printf("%s\n", done);
    free(done);
    json_decref(answer);
    return CLI_EXIT_OK;
}

/*
 * Sets key to value in body. JSON strings are UTF-8: other bytes from the
 * command line are refused here, not sent. Returns 0 or the usage error.
 */
static int body_set(json_t *body, const char *key, const char *value, const struct inc_args *a)
{
    json_t *s = json_string(value);
    if (!s)
        return cli_usage_error(a->cmd, "the %s is not valid UTF-8", key);
    json_object_set_new(body, key, s);
    return 0;
}

static int run_ack(struct cli_client *c, const struct inc_args *a)
{
    return act(c, a, "ack", json_object(),
               xasprintf("incident %lld acknowledged", (long long)a->id));
}

static int run_close(struct cli_client *c, const struct inc_args *a)
{
    return act(c, a, "close", json_object(), xasprintf("incident %lld closed", (long long)a->id));
}

static int run_assign(struct cli_client *c, const struct inc_args *a)
{
    bool user = a->as_user;
    const char *who = a->words[0];
    json_t *body = json_object();
    int r = body_set(body, user ? "assignee" : "team", who, a);
    if (r) {
        json_decref(body);
        return r;
    }
    return act(c, a, "assign", body,
               xasprintf("incident %lld assigned to %s%s", (long long)a->id, user ? "" : "team ",
                         who));
}

static int run_resolve(struct cli_client *c, const struct inc_args *a)
{
    json_t *body = json_object();
    if (a->cause) {
        int r = body_set(body, "cause", a->cause, a);
        if (r) {
            json_decref(body);
            return r;
        }
    }
    char *done =
            a->cause ? xasprintf("incident %lld resolved (cause: %s)", (long long)a->id, a->cause)
                     : xasprintf("incident %lld resolved", (long long)a->id);
    return act(c, a, "resolve", body, done);
}

/*
 * Reads a note (what: "note" or "description", for messages) from stdin,
 * at most NOTE_MAX bytes, without its last newlines.
 */
static int note_read(const struct inc_args *a, const char *what, struct strbuf *text)
{
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
        if (strbuf_add(text, buf, n) < 0) {
            fprintf(stderr, "hale %s: the %s is longer than %d KiB, the most an incident takes\n",
                    a->cmd, what, NOTE_MAX / 1024);
            return CLI_EXIT_FAILURE;
        }
    if (ferror(stdin)) {
        fprintf(stderr, "hale %s: cannot read the %s from stdin\n", a->cmd, what);
        return CLI_EXIT_FAILURE;
    }
    while (text->len > 0 && (text->s[text->len - 1] == '\n' || text->s[text->len - 1] == '\r'))
        text->s[--text->len] = '\0';
    return 0;
}

/* The note: the words joined by spaces, or stdin for a lone "-". */
static int note_text(const struct inc_args *a, struct strbuf *text)
{
    if (a->n_words == 1 && strcmp(a->words[0], "-") == 0) {
        int r = note_read(a, "note", text);
        if (r)
            return r;
    } else {
        for (int i = 0; i < a->n_words; i++)
            if ((i && strbuf_addc(text, ' ') < 0) || strbuf_adds(text, a->words[i]) < 0)
                return cli_usage_error(a->cmd, "the note is longer than %d KiB", NOTE_MAX / 1024);
    }
    if (text->len == 0)
        return cli_usage_error(a->cmd, "the note is empty: say something");
    return 0;
}

static int run_note(struct cli_client *c, const struct inc_args *a)
{
    struct strbuf text;
    strbuf_init(&text, NOTE_MAX);
    int r = note_text(a, &text);
    json_t *body = json_object();
    if (r == 0)
        r = body_set(body, "text", text.s, a);
    strbuf_fini(&text);
    if (r) {
        json_decref(body);
        return r;
    }
    return act(c, a, "notes", body, xasprintf("incident %lld: note added", (long long)a->id));
}

/* The body of an opening from the options (checked already); NULL after a usage error. */
static json_t *opening_body(const struct inc_args *a, int *ret_status)
{
    json_t *body = json_object(), *labels = json_object();
    json_object_set_new(body, "type", json_string(a->request ? "request" : "incident"));
    int r = body_set(body, "title", a->title, a);
    const char *const names[][2] = {{"impact", a->impact},
                                    {"severity", a->severity},
                                    {"category", a->category},
                                    {"team", a->team}};
    for (size_t i = 0; r == 0 && i < ARRAY_SIZE(names); i++)
        if (names[i][1])
            r = body_set(body, names[i][0], names[i][1], a);
    for (int i = 0; r == 0 && i < a->n_labels; i++) {
        const char *eq = strchr(a->labels[i], '=');
        _cleanup_free_ char *name = xstrndup(a->labels[i], (size_t)(eq - a->labels[i]));
        r = body_set(labels, name, eq + 1, a);
    }
    json_object_set_new(body, "labels", labels);
    if (r == 0 && a->description && strcmp(a->description, "-") == 0) {
        struct strbuf text;
        strbuf_init(&text, NOTE_MAX);
        r = note_read(a, "description", &text);
        if (r == 0 && text.len == 0)
            r = cli_usage_error(a->cmd, "the description on stdin is empty");
        if (r == 0)
            r = body_set(body, "description", text.s, a);
        strbuf_fini(&text);
    } else if (r == 0 && a->description) {
        r = body_set(body, "description", a->description, a);
    }
    if (r) {
        json_decref(body);
        *ret_status = r;
        return NULL;
    }
    return body;
}

static int run_open(struct cli_client *c, const struct inc_args *a)
{
    int status = 0;
    json_t *body = opening_body(a, &status);
    if (!body)
        return status;
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, "POST", "/api/v1/incidents", body, &answer, &e);
    json_decref(body);
    if (r < 0)
        return failed(a->cmd, &e);
    const json_t *inc = json_object_get(answer, "incident");
    const char *priority = json_string_value(json_object_get(inc, "priority"));
    if (a->json)
        cli__json_print(answer, stdout);
    else
        printf("%s %lld opened (%s)\n", a->request ? "request" : "incident",
               (long long)json_integer_value(json_object_get(inc, "id")),
               priority ? priority : "-");
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run_watch(struct cli_client *c, const struct inc_args *a)
{
    return cli__incidents_watch(c, a->cmd, a->json);
}

static const struct sub subs[] = {
        {"list", "incidents list",
         "hale incidents list [--state S[,S]] [--team T] [--priority P[,P]] [--service S]\n"
         "                           [--text TEXT] [--since 7d] [--limit N] [--all] [--json]",
         "Lists incidents, newest first: ID, PRI, STATE, SEVERITY, TEAM, ASSIGNEE, AGE, TITLE.\n"
         "\n"
         "      --state S[,S]  only these states: new, acknowledged, in_progress, resolved,\n"
         "                     closed, or open (new, acknowledged and in_progress)\n"
         "      --team T       only the incidents of team T\n"
         "      --priority P[,P]\n"
         "                     only these priorities: 1 to 5 or P1 to P5\n"
         "      --service S    only the incidents about service S\n"
         "      --text TEXT    only those whose title has TEXT (any case)\n"
         "      --since WHEN   only those opened since WHEN: a duration back from now (7d,\n"
         "                     12h) or an RFC 3339 time\n"
         "      --limit N      at most N per page, 1 to 500 (default 50)\n"
         "      --all          every page, not only the first\n"
         "      --json         print the API's JSON instead of a table\n",
         options_list, false, 0, 0, NULL, run_list},
        {"show", "incidents show", "hale incidents show N [--json]",
         "Shows incident N: its fields, then its timeline (time, actor, kind, text).\n"
         "\n"
         "      --json         print the API's JSON\n",
         options_plain, true, 0, 0, NULL, run_show},
        {"notifications", "incidents notifications", "hale incidents notifications N [--json]",
         "Shows the notifications of incident N, newest first: when each was queued, its\n"
         "notifier, why (escalated, level, opened, resolved, users, step, acknowledged), its\n"
         "escalation level, its state (pending, delivered, failed, canceled), the attempts\n"
         "made and the last attempt's error.\n"
         "\n"
         "      --json         print the API's JSON\n",
         options_plain, true, 0, 0, NULL, run_notifications},
        {"open", "incidents open",
         "hale incidents open --title TEXT [--request] [--team T] [--impact I] [--severity S]\n"
         "                           [--category C] [--label NAME=VALUE]... [--description "
         "TEXT|-]\n"
         "                           [--json]",
         "Opens an incident by hand (somebody called: \"the payroll export is slow\"), or a\n"
         "request with --request (somebody asks for something). It is worked like any\n"
         "incident; checks never touch it.\n"
         "\n"
         "      --title TEXT        what is wrong or asked for (required; at most 200 bytes)\n"
         "      --request           a request, not an incident\n"
         "      --team T            the team that works it (default: nobody's yet)\n"
         "      --impact I          high, medium or low (default medium)\n"
         "      --severity S        the urgency: critical, warning or info (default warning,\n"
         "                          info for a request); with the impact, the priority\n"
         "      --category C        network, hardware, software or data (default software)\n"
         "      --label NAME=VALUE  a label; repeat for more (at most 32)\n"
         "      --description TEXT  the first note of its timeline; '-' reads it from stdin\n"
         "      --json              print the incident as the API answers it\n",
         options_open, false, 0, 0, NULL, run_open},
        {"ack", "incidents ack", "hale incidents ack N [--json]",
         "Acknowledges incident N: somebody is on it.\n"
         "\n"
         "      --json         print the incident as the API answers it\n",
         options_plain, true, 0, 0, NULL, run_ack},
        {"assign", "incidents assign", "hale incidents assign N TEAM|USER [--team|--user] [--json]",
         "Hands incident N to a team or a person. The word is a team unless --user says\n"
         "it is a person; a new incident becomes acknowledged.\n"
         "\n"
         "      --team         the word is a team (the default)\n"
         "      --user         the word is a person: the incident's assignee\n"
         "      --json         print the incident as the API answers it\n",
         options_assign, true, 1, 1, "TEAM or USER", run_assign},
        {"note", "incidents note", "hale incidents note N TEXT...|- [--json]",
         "Adds a note to incident N's timeline: the words joined by spaces, or stdin\n"
         "when the text is a lone '-' (at most 64 KiB). Put '--' before a text that\n"
         "starts with '-'.\n"
         "\n"
         "      --json         print the incident as the API answers it\n",
         options_plain, true, 1, -1, "TEXT of the note", run_note},
        {"resolve", "incidents resolve", "hale incidents resolve N [--cause TEXT] [--json]",
         "Resolves incident N: what was broken works again.\n"
         "\n"
         "      --cause TEXT   the root cause, kept with the incident and in its report\n"
         "      --json         print the incident as the API answers it\n",
         options_resolve, true, 0, 0, NULL, run_resolve},
        {"close", "incidents close", "hale incidents close N [--json]",
         "Closes resolved incident N: it takes no more changes.\n"
         "\n"
         "      --json         print the incident as the API answers it\n",
         options_plain, true, 0, 0, NULL, run_close},
        {"watch", "incidents watch", "hale incidents watch [--json]",
         "Prints each incident change as it happens, one line each: TIME (of the change),\n"
         "ID, PRI, STATE, SEVERITY, TEAM, ASSIGNEE, TITLE. When the connection drops it\n"
         "reconnects and catches up on what it missed. Ctrl-C stops (exit status 0).\n"
         "Needs a token that may read (viewer or above).\n"
         "\n"
         "      --json         print each incident as the API's JSON, one line each\n",
         options_plain, false, 0, 0, NULL, run_watch},
};

static void help_sub(const struct sub *s, FILE *out)
{
    fprintf(out, "Usage: %s\n\n%s" CLI__REMOTE_HELP, s->usage, s->about);
}

static void help_all(FILE *out)
{
    fprintf(out, "Usage: ");
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
        fprintf(out, "%s%s\n", i ? "       " : "", subs[i].usage);
    fprintf(out, "\n"
                 "Works incidents through hale's API: list and show them, open one by hand,\n"
                 "acknowledge, assign, note, resolve and close them, watch them change. Each\n"
                 "subcommand has --help.\n"
                 "\n"
                 "Options of every subcommand:\n"
                 "      --json         print the API's JSON\n" CLI__REMOTE_HELP);
}

/* Returns -1 when the filters are good, else the usage error's exit status. */
static int list_check(const struct sub *s, struct inc_args *a)
{
    if (a->query.since && cli__since_check(s->cmd, a->query.since) != 0)
        return CLI_EXIT_USAGE;
    if (!a->query.state)
        return -1;
    _cleanup_free_ char *states = xstrdup(a->query.state);
    for (char *p = states, *end; p; p = end ? end + 1 : NULL) {
        enum incident_state st;
        if ((end = strchr(p, ',')))
            *end = '\0';
        if (strcmp(p, "open") != 0 && incident_state_parse(p, &st) < 0)
            return cli_usage_error(s->cmd,
                                   "--state: '%s' is not a state; states are new, acknowledged, "
                                   "in_progress, resolved, closed and open",
                                   p);
    }
    return -1;
}

/* Returns -1 when the options of open are good, else the usage error's exit status. */
static int open_check(const struct sub *s, struct inc_args *a)
{
    static const char *const impacts[] = {"high", "medium", "low"};
    if (!a->title || !*a->title)
        return cli_usage_error(s->cmd, "--title is required: say what is wrong or asked for");
    bool impact_ok = !a->impact;
    for (size_t i = 0; !impact_ok && i < ARRAY_SIZE(impacts); i++)
        impact_ok = strcmp(a->impact, impacts[i]) == 0;
    if (!impact_ok)
        return cli_usage_error(s->cmd, "--impact: '%s' is not high, medium or low", a->impact);
    enum incident_severity sev;
    if (a->severity && incident_severity_parse(a->severity, &sev) < 0)
        return cli_usage_error(s->cmd, "--severity: '%s' is not critical, warning or info",
                               a->severity);
    enum incident_category cat;
    if (a->category && incident_category_parse(a->category, &cat) < 0)
        return cli_usage_error(
                s->cmd, "--category: '%s' is not network, hardware, software or data", a->category);
    for (int i = 0; i < a->n_labels; i++) {
        const char *eq = strchr(a->labels[i], '=');
        _cleanup_free_ char *name = eq ? xstrndup(a->labels[i], (size_t)(eq - a->labels[i])) : NULL;
        if (!name || !labels_name_is_valid(name))
            return cli_usage_error(s->cmd,
                                   "--label '%s' is not NAME=VALUE with a NAME of letters, "
                                   "digits and _",
                                   a->labels[i]);
    }
    return -1;
}

static int option_value(const struct sub *s, int o, char **argv, struct inc_args *a)
{
    char *end;
    switch (o) {
    case CLI__OPT_URL:
        a->remote.url = optarg;
        break;
    case CLI__OPT_TOKEN:
        a->remote.token = optarg;
        break;
    case CLI__OPT_JSON:
        a->json = true;
        break;
    case OPT_STATE:
        a->query.state = optarg;
        break;
    case OPT_TEAM:
        a->query.team = optarg;
        break;
    case OPT_PRIORITY:
        a->query.priority = optarg;
        break;
    case OPT_SERVICE:
        a->query.service = optarg;
        break;
    case OPT_TEXT:
        a->query.text = optarg;
        break;
    case OPT_SINCE:
        a->query.since = optarg;
        break;
    case OPT_LIMIT:
        a->query.limit = strtol(optarg, &end, 10);
        if (*end || end == optarg || a->query.limit < 1 || a->query.limit > 500)
            return cli_usage_error(s->cmd, "--limit '%s' is not a number from 1 to 500", optarg);
        break;
    case OPT_ALL:
        a->all = true;
        break;
    case OPT_AS_TEAM:
        a->as_team = true;
        break;
    case OPT_AS_USER:
        a->as_user = true;
        break;
    case OPT_CAUSE:
        a->cause = optarg;
        break;
    case OPT_TITLE:
        a->title = optarg;
        break;
    case OPT_REQUEST:
        a->request = true;
        break;
    case OPT_OPEN_TEAM:
        a->team = optarg;
        break;
    case OPT_IMPACT:
        a->impact = optarg;
        break;
    case OPT_SEVERITY:
        a->severity = optarg;
        break;
    case OPT_CATEGORY:
        a->category = optarg;
        break;
    case OPT_LABEL:
        if (a->n_labels == LABELS_MAX)
            return cli_usage_error(s->cmd, "at most %d labels", LABELS_MAX);
        a->labels[a->n_labels++] = optarg;
        break;
    case OPT_DESCRIPTION:
        a->description = optarg;
        break;
    default: /* '?' or ':' */
        return cli__option_error(s->cmd, argv, o);
    }
    return -1;
}

static int positional(const struct sub *s, int argc, char **argv, struct inc_args *a)
{
    int i = optind;
    if (s->needs_id) {
        if (i >= argc)
            return cli_usage_error(s->cmd, "missing the incident number N");
        if (cli__id_parse(argv[i], &a->id) < 0)
            return cli_usage_error(s->cmd, "'%s' is not an incident number (1, 2, ...)", argv[i]);
        i++;
    }
    a->words = argv + i;
    a->n_words = argc - i;
    if (a->n_words < s->min_words)
        return cli_usage_error(s->cmd, "missing the %s", s->words);
    if (s->max_words >= 0 && a->n_words > s->max_words)
        return cli_usage_error(s->cmd, "unexpected argument '%s'", a->words[s->max_words]);
    if (a->as_team && a->as_user)
        return cli_usage_error(s->cmd, "--team or --user, not both: the word is one or the other");
    if (s->run == run_open)
        return open_check(s, a);
    return s->run == run_list ? list_check(s, a) : -1;
}

/* Returns -1 to go on, else the exit status (after --help or a usage error). */
static int args_parse(const struct sub *s, int argc, char **argv, struct inc_args *a)
{
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":h", s->options, NULL)) != -1) {
        if (o == 'h') {
            help_sub(s, stdout);
            return CLI_EXIT_OK;
        }
        int r = option_value(s, o, argv, a);
        if (r >= 0)
            return r;
    }
    return positional(s, argc, argv, a);
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error(
                "incidents",
                "say what to do: list, show, open, ack, assign, note, resolve, close or watch");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        help_all(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
        if (strcmp(argv[1], subs[i].name) != 0)
            continue;
        struct inc_args a = {.cmd = subs[i].cmd};
        int r = args_parse(&subs[i], argc - 1, argv + 1, &a);
        if (r >= 0)
            return r;
        struct cli_client *c = cli_client_new(a.remote.url, a.remote.token);
        r = subs[i].run(c, &a);
        cli_client_free(c);
        return r;
    }
    return cli_usage_error("incidents",
                           "'%s' is not an incidents command; use list, show, open, ack, assign, "
                           "note, resolve, close or watch",
                           argv[1]);
}

const struct cli_command cli_incidents = {
        .name = "incidents",
        .summary =
                "list, show, open, acknowledge, assign, note, resolve, close and watch incidents",
        .run = run,
};
