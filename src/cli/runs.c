/* SPDX-License-Identifier: MIT */
/*
 * `hale runs [list]`, `hale runs show ID` and `hale approve RUN`: the runs
 * of runbooks through the daemon's API (docs/api.md, "Runbooks and runs"),
 * listed, shown step by step with their output, and answered at their
 * approval gates. Drawn by render_runs.c.
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
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

/* The API refuses longer comments; refusing them here saves sending them. */
#define COMMENT_MAX (64 * 1024)

enum {
    OPT_RUNBOOK = CLI__OPT_FIRST_FREE,
    OPT_INCIDENT,
    OPT_OUTCOME,
    OPT_LIMIT,
    OPT_REJECT,
    OPT_COMMENT,
};

struct runs_args {
    const char *cmd;
    struct cli__remote remote;
    bool json;
    const char *runbook, *outcome;
    int64_t incident;
    long limit;
    bool reject;
    const char *comment;
    int64_t id;
};

static const struct option options[] = {
        {"runbook", required_argument, NULL, OPT_RUNBOOK},
        {"incident", required_argument, NULL, OPT_INCIDENT},
        {"outcome", required_argument, NULL, OPT_OUTCOME},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"reject", no_argument, NULL, OPT_REJECT},
        {"comment", required_argument, NULL, OPT_COMMENT},
        {"url", required_argument, NULL, CLI__OPT_URL},
        {"token", required_argument, NULL, CLI__OPT_TOKEN},
        {"json", no_argument, NULL, CLI__OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

static void help_runs(FILE *out)
{
    fprintf(out,
            "Usage: hale runs [list] [--runbook NAME] [--incident N] [--outcome O] [--limit N]\n"
            "                 [--json]\n"
            "       hale runs show ID [--json]\n"
            "\n"
            "Lists the runs of runbooks, newest first: ID, RUNBOOK, TARGET, INCIDENT, ACTOR\n"
            "(hale for automatic runs), OUTCOME, AGE and why it ended so. 'show' prints one\n"
            "run step by step: every attempt of every step, how it ended, and its output.\n"
            "\n"
            "      --runbook NAME  only the runs of this runbook\n"
            "      --incident N    only the runs for incident N\n"
            "      --outcome O     only runs with this outcome: running, waiting, healed,\n"
            "                      completed, failed, suspended, rejected, expired,\n"
            "                      canceled or interrupted\n"
            "      --limit N       at most N, 1 to 500 (default 50)\n"
            "      --json          print the API's JSON\n" CLI__REMOTE_HELP);
}

static void help_approve(FILE *out)
{
    fprintf(out, "Usage: hale approve RUN [--reject] [--comment TEXT] [--json]\n"
                 "\n"
                 "Answers the approval gate run RUN waits at: the run goes on, or with\n"
                 "--reject it ends rejected and its incident escalates to the team. Who\n"
                 "decided, and the comment, go to the incident's timeline and the audit\n"
                 "log. Needs a responder's token. Refused (1) when the run is not waiting.\n"
                 "\n"
                 "      --reject        say no\n"
                 "      --comment TEXT  why, for the timeline\n"
                 "      --json          print the run as the API answers it\n" CLI__REMOTE_HELP);
}

static int failed(const char *cmd, const struct err *e)
{
    fprintf(stderr, "hale %s: %s\n", cmd, e->msg);
    return CLI_EXIT_FAILURE;
}

/* Returns -1 to go on, else the exit status. */
static int option_value(struct runs_args *a, int o, char **argv)
{
    char *end;
    switch (o) {
    case OPT_RUNBOOK:
        a->runbook = optarg;
        break;
    case OPT_INCIDENT:
        if (cli__id_parse(optarg, &a->incident) < 0)
            return cli_usage_error(a->cmd, "--incident '%s' is not an incident number", optarg);
        break;
    case OPT_OUTCOME:
        a->outcome = optarg;
        break;
    case OPT_LIMIT:
        a->limit = strtol(optarg, &end, 10);
        if (*end || end == optarg || a->limit < 1 || a->limit > 500)
            return cli_usage_error(a->cmd, "--limit '%s' is not a number from 1 to 500", optarg);
        break;
    case OPT_REJECT:
        a->reject = true;
        break;
    case OPT_COMMENT:
        if (strlen(optarg) > COMMENT_MAX)
            return cli_usage_error(a->cmd, "--comment: at most %d bytes", COMMENT_MAX);
        a->comment = optarg;
        break;
    case CLI__OPT_URL:
        a->remote.url = optarg;
        break;
    case CLI__OPT_TOKEN:
        a->remote.token = optarg;
        break;
    case CLI__OPT_JSON:
        a->json = true;
        break;
    default:
        return cli__option_error(a->cmd, argv, o);
    }
    return -1;
}

/* Options, then the words left in *ret_words; returns -1 to go on, else the exit status. */
static int args_parse(struct runs_args *a, int argc, char **argv, void (*help)(FILE *))
{
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (o == 'h') {
            help(stdout);
            return CLI_EXIT_OK;
        }
        int r = option_value(a, o, argv);
        if (r >= 0)
            return r;
    }
    return -1;
}

/* Only the options that apply to what is asked; a stray one is a usage error. */
static int only(const struct runs_args *a, bool filters, bool decision)
{
    if (!filters && (a->runbook || a->incident || a->outcome || a->limit))
        return cli_usage_error(a->cmd, "--runbook, --incident, --outcome and --limit are for "
                                       "'hale runs list'");
    if (!decision && (a->reject || a->comment))
        return cli_usage_error(a->cmd, "--reject and --comment are for 'hale approve'");
    return -1;
}

static int positional_id(struct runs_args *a, int argc, char **argv)
{
    if (optind >= argc)
        return cli_usage_error(a->cmd, "missing the run's number");
    if (cli__id_parse(argv[optind], &a->id) < 0)
        return cli_usage_error(a->cmd, "'%s' is not a run number (1, 2, ...)", argv[optind]);
    if (optind + 1 < argc)
        return cli_usage_error(a->cmd, "unexpected argument '%s'", argv[optind + 1]);
    return -1;
}

static int runs_list(struct cli_client *c, const struct runs_args *a)
{
    struct strbuf path;
    strbuf_init(&path, 0);
    strbuf_adds(&path, "/api/v1/runs");
    if (a->runbook)
        cli_url_query_add(&path, "runbook", a->runbook);
    if (a->outcome)
        cli_url_query_add(&path, "outcome", a->outcome);
    char n[24];
    if (a->incident) {
        snprintf(n, sizeof(n), "%lld", (long long)a->incident);
        cli_url_query_add(&path, "incident", n);
    }
    if (a->limit) {
        snprintf(n, sizeof(n), "%ld", a->limit);
        cli_url_query_add(&path, "limit", n);
    }
    json_t *answer;
    struct err e = {0};
    int r = cli_client_json(c, "GET", path.s, NULL, &answer, &e);
    strbuf_fini(&path);
    if (r < 0)
        return failed(a->cmd, &e);
    const json_t *runs = json_object_get(answer, "runs");
    if (a->json) {
        cli__json_print(answer, stdout);
    } else if (json_array_size(runs) == 0) {
        fprintf(stderr, "hale: no runs%s\n",
                a->runbook || a->incident || a->outcome ? " match" : " yet");
    } else {
        struct cli__style st;
        cli__style_for(STDOUT_FILENO, &st);
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__runs_table(runs, &st, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
        if (json_is_integer(json_object_get(answer, "next_cursor")) ||
            json_is_string(json_object_get(answer, "next_cursor")))
            fprintf(stderr, "hale: there are more: --limit shows up to 500\n");
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int runs_show(struct cli_client *c, const struct runs_args *a)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)a->id);
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
        cli__run_render(answer, st.now_ms, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int with_client(const struct runs_args *a,
                       int (*fn)(struct cli_client *, const struct runs_args *))
{
    struct cli_client *c = cli_client_new(a->remote.url, a->remote.token);
    int r = fn(c, a);
    cli_client_free(c);
    return r;
}

static int run_runs(int argc, char **argv)
{
    bool show = argc >= 2 && strcmp(argv[1], "show") == 0;
    bool list = argc >= 2 && strcmp(argv[1], "list") == 0;
    struct runs_args a = {.cmd = show ? "runs show" : "runs"};
    if (show || list) {
        argc--;
        argv++;
    }
    int r = args_parse(&a, argc, argv, help_runs);
    if (r >= 0)
        return r;
    if ((r = only(&a, !show, false)) >= 0)
        return r;
    if (show) {
        if ((r = positional_id(&a, argc, argv)) >= 0)
            return r;
        return with_client(&a, runs_show);
    }
    if (optind < argc)
        return cli_usage_error(a.cmd, "'%s' is not a runs command; use list or show", argv[optind]);
    return with_client(&a, runs_list);
}

static int decide(struct cli_client *c, const struct runs_args *a)
{
    char path[80];
    snprintf(path, sizeof(path), "/api/v1/runs/%lld/%s", (long long)a->id,
             a->reject ? "reject" : "approve");
    json_t *body = json_object();
    if (a->comment) {
        json_t *v = json_string(a->comment);
        if (!v) {
            json_decref(body);
            return cli_usage_error(a->cmd, "--comment is not UTF-8");
        }
        json_object_set_new(body, "comment", v);
    }
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, "POST", path, body, &answer, &e);
    json_decref(body);
    if (r < 0)
        return failed(a->cmd, &e);
    if (a->json)
        cli__json_print(answer, stdout);
    else
        printf("run %lld %s\n", (long long)a->id, a->reject ? "rejected" : "approved: it goes on");
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run_approve(int argc, char **argv)
{
    struct runs_args a = {.cmd = "approve"};
    int r = args_parse(&a, argc, argv, help_approve);
    if (r >= 0)
        return r;
    if ((r = only(&a, false, true)) >= 0 || (r = positional_id(&a, argc, argv)) >= 0)
        return r;
    return with_client(&a, decide);
}

const struct cli_command cli_runs = {
        .name = "runs",
        .summary = "list the runs of runbooks, show one step by step",
        .run = run_runs,
};

const struct cli_command cli_approve = {
        .name = "approve",
        .summary = "approve (or --reject) a run waiting at an approval gate",
        .run = run_approve,
};
