/* SPDX-License-Identifier: MIT */
/*
 * `hale problems list|show|update`: what keeps breaking, read and worked
 * through the API (GET /api/v1/problems, /api/v1/problems/{id}, POST
 * /api/v1/problems/{id}). A problem gathers the incidents one fingerprint
 * opened again and again; show lists them with the same table as
 * `hale incidents list`, then the problem's timeline; update moves it
 * through its lifecycle and records its root cause and workaround.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/cleanup.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"
#include "itsm/incident.h"

enum {
    OPT_STATE = CLI__OPT_FIRST_FREE,
    OPT_CAUSE,
    OPT_WORKAROUND,
    OPT_NOTE,
};

enum prob_sub {
    PROB_LIST,
    PROB_SHOW,
    PROB_UPDATE,
};

struct prob_args {
    const char *cmd;
    enum prob_sub sub;
    struct cli__remote remote;
    bool json;
    int64_t id; /* show, update */
    const char *state, *cause, *workaround, *note;
};

static const char *const sub_names[] = {"list", "show", "update"};
static const char *const sub_cmds[] = {"problems list", "problems show", "problems update"};
static const char *const usages[] = {
        "hale problems list [--json]",
        "hale problems show N [--json]",
        "hale problems update N [--state S] [--cause TEXT] [--workaround TEXT] [--note TEXT]\n"
        "                            [--json]",
};
static const char *const abouts[] = {
        "Lists every problem, newest first: ID, STATE, INCIDENTS, AGE, TITLE.\n",
        "Shows problem N: its fields, the table of its incidents, then its timeline.\n",
        "Works problem N: moves it through its lifecycle (open -> known_error ->\n"
        "resolved, open -> resolved, resolved -> open), and records its root cause,\n"
        "its workaround and notes. Say at least one of:\n"
        "\n"
        "      --state S          open (reopen: needs --note saying why), known_error\n"
        "                         (needs a root cause, now or before) or resolved\n"
        "      --cause TEXT       the root cause\n"
        "      --workaround TEXT  what to do when it happens until it is fixed\n"
        "      --note TEXT        a note on the problem's timeline\n",
};
static const char options_help[] = "\n      --json         print the API's JSON\n" CLI__REMOTE_HELP;

static void help_all(FILE *out)
{
    fprintf(out,
            "Usage: %s\n       %s\n       %s\n\n"
            "A problem is what keeps breaking: hale opens one when the same fingerprint\n"
            "opens incidents again and again, and people work it until it is eradicated.\n\n"
            "list: %sshow: %supdate: %s%s",
            usages[0], usages[1], usages[2], abouts[0], abouts[1], abouts[2], options_help);
}

static void help_one(FILE *out, enum prob_sub sub)
{
    fprintf(out, "Usage: %s\n\n%s%s", usages[sub], abouts[sub], options_help);
}

static int option_value(int o, char **argv, struct prob_args *a)
{
    bool update = a->sub == PROB_UPDATE;
    switch (o) {
    case CLI__OPT_URL:
        a->remote.url = optarg;
        return -1;
    case CLI__OPT_TOKEN:
        a->remote.token = optarg;
        return -1;
    case CLI__OPT_JSON:
        a->json = true;
        return -1;
    case OPT_STATE:
        a->state = optarg;
        return update ? -1 : cli_usage_error(a->cmd, "unknown option '--state'");
    case OPT_CAUSE:
        a->cause = optarg;
        return update ? -1 : cli_usage_error(a->cmd, "unknown option '--cause'");
    case OPT_WORKAROUND:
        a->workaround = optarg;
        return update ? -1 : cli_usage_error(a->cmd, "unknown option '--workaround'");
    case OPT_NOTE:
        a->note = optarg;
        return update ? -1 : cli_usage_error(a->cmd, "unknown option '--note'");
    }
    return cli__option_error(a->cmd, argv, o);
}

static int update_check(struct prob_args *a)
{
    enum problem_state st;
    if (a->state && problem_state_parse(a->state, &st) < 0)
        return cli_usage_error(a->cmd, "--state: '%s' is not open, known_error or resolved",
                               a->state);
    if (!a->state && !a->cause && !a->workaround && !a->note)
        return cli_usage_error(a->cmd,
                               "say what to change: --state, --cause, --workaround or --note");
    const char *const texts[][2] = {
            {"--cause", a->cause}, {"--workaround", a->workaround}, {"--note", a->note}};
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++)
        if (texts[i][1] && !*texts[i][1])
            return cli_usage_error(a->cmd, "%s is empty: say something", texts[i][0]);
    return -1;
}

/* Returns -1 to go on, else the exit status. */
static int args_parse(int argc, char **argv, struct prob_args *a)
{
    static const struct option options[] = {
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"state", required_argument, NULL, OPT_STATE},
            {"cause", required_argument, NULL, OPT_CAUSE},
            {"workaround", required_argument, NULL, OPT_WORKAROUND},
            {"note", required_argument, NULL, OPT_NOTE},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (o == 'h') {
            help_one(stdout, a->sub);
            return CLI_EXIT_OK;
        }
        int r = option_value(o, argv, a);
        if (r >= 0)
            return r;
    }
    int want = a->sub == PROB_LIST ? 0 : 1;
    if (argc - optind < want)
        return cli_usage_error(a->cmd, "missing the problem number N");
    if (argc - optind > want)
        return cli_usage_error(a->cmd, "unexpected argument '%s'", argv[optind + want]);
    if (want && cli__id_parse(argv[optind], &a->id) < 0)
        return cli_usage_error(a->cmd, "'%s' is not a problem number (1, 2, ...)", argv[optind]);
    return a->sub == PROB_UPDATE ? update_check(a) : -1;
}

static void print_human(const json_t *answer, enum prob_sub sub)
{
    struct cli__style st;
    cli__style_for(STDOUT_FILENO, &st);
    struct strbuf out;
    strbuf_init(&out, 0);
    const json_t *items = json_object_get(answer, sub == PROB_SHOW ? "incidents" : "problems");
    if (sub == PROB_SHOW) {
        cli__problem_fields(json_object_get(answer, "problem"), st.now_ms, &out);
        strbuf_adds(&out, "\n");
        if (json_array_size(items) > 0)
            cli__incidents_table(items, &st, &out);
        else
            strbuf_adds(&out, "(no incidents linked)\n");
        const json_t *timeline = json_object_get(answer, "timeline");
        if (json_array_size(timeline) > 0) {
            strbuf_adds(&out, "\n");
            cli__timeline_render(timeline, &out);
        }
    } else if (json_array_size(items) > 0) {
        cli__problems_table(items, &st, &out);
    } else {
        fprintf(stderr, "hale: no problems\n");
    }
    fputs(out.s, stdout);
    strbuf_fini(&out);
}

/* The body of an update; NULL after a usage error (a text that is not UTF-8), in *ret_status. */
static json_t *update_body(const struct prob_args *a, int *ret_status)
{
    json_t *body = json_object();
    const char *const fields[][2] = {{"state", a->state},
                                     {"root_cause", a->cause},
                                     {"workaround", a->workaround},
                                     {"note", a->note}};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        if (!fields[i][1])
            continue;
        json_t *s = json_string(fields[i][1]);
        if (!s) {
            json_decref(body);
            *ret_status = cli_usage_error(a->cmd, "the %s is not valid UTF-8", fields[i][0]);
            return NULL;
        }
        json_object_set_new(body, fields[i][0], s);
    }
    return body;
}

static int run_sub(const struct prob_args *a)
{
    char path[64] = "/api/v1/problems";
    if (a->sub != PROB_LIST)
        snprintf(path, sizeof(path), "/api/v1/problems/%lld", (long long)a->id);
    json_t *body = NULL;
    int status = CLI_EXIT_OK;
    if (a->sub == PROB_UPDATE && !(body = update_body(a, &status)))
        return status;
    struct cli_client *c = cli_client_new(a->remote.url, a->remote.token);
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, body ? "POST" : "GET", path, body, &answer, &e);
    cli_client_free(c);
    json_decref(body);
    if (r < 0) {
        fprintf(stderr, "hale %s: %s\n", a->cmd, e.msg);
        return CLI_EXIT_FAILURE;
    }
    if (a->json) {
        cli__json_print(answer, stdout);
    } else if (a->sub == PROB_UPDATE) {
        const json_t *p = json_object_get(answer, "problem");
        const char *state = json_string_value(json_object_get(p, "state"));
        if (a->state)
            printf("problem %lld is %s now\n", (long long)a->id, state ? state : a->state);
        else
            printf("problem %lld updated\n", (long long)a->id);
    } else {
        print_human(answer, a->sub);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("problems", "say what to do: list, show or update");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        help_all(stdout);
        return CLI_EXIT_OK;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(sub_names); i++) {
        if (strcmp(argv[1], sub_names[i]) != 0)
            continue;
        struct prob_args a = {.cmd = sub_cmds[i], .sub = (enum prob_sub)i};
        int r = args_parse(argc - 1, argv + 1, &a);
        return r >= 0 ? r : run_sub(&a);
    }
    return cli_usage_error("problems", "'%s' is not a problems command; use list, show or update",
                           argv[1]);
}

const struct cli_command cli_problems = {
        .name = "problems",
        .summary = "list, show and work problems: what keeps breaking",
        .run = run,
};
