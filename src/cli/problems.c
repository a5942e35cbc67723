/* SPDX-License-Identifier: MIT */
/*
 * `hale problems list|show`: what keeps breaking, read through the API
 * (GET /api/v1/problems, /api/v1/problems/{id}). A problem gathers the
 * incidents one fingerprint opened again and again; show lists them
 * with the same table as `hale incidents list`.
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

struct prob_args {
    const char *cmd;
    struct cli__remote remote;
    bool json;
    int64_t id; /* show */
};

static const char usage_list[] = "hale problems list [--json]";
static const char usage_show[] = "hale problems show N [--json]";
static const char about_list[] = "Lists every problem, newest first: ID, STATE, INCIDENTS, AGE, "
                                 "TITLE.\n";
static const char about_show[] = "Shows problem N: its fields, then the table of its incidents.\n";
static const char options_help[] = "\n      --json         print the API's JSON\n" CLI__REMOTE_HELP;

static void help_all(FILE *out)
{
    fprintf(out,
            "Usage: %s\n       %s\n\n"
            "A problem is what keeps breaking: hale opens one when the same fingerprint\n"
            "opens incidents again and again.\n\n"
            "list: %sshow: %s%s",
            usage_list, usage_show, about_list, about_show, options_help);
}

static void help_one(FILE *out, bool show)
{
    fprintf(out, "Usage: %s\n\n%s%s", show ? usage_show : usage_list,
            show ? about_show : about_list, options_help);
}

/* Returns -1 to go on, else the exit status. */
static int args_parse(int argc, char **argv, bool show, struct prob_args *a)
{
    static const struct option options[] = {
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (o == 'h') {
            help_one(stdout, show);
            return CLI_EXIT_OK;
        } else if (o == CLI__OPT_URL) {
            a->remote.url = optarg;
        } else if (o == CLI__OPT_TOKEN) {
            a->remote.token = optarg;
        } else if (o == CLI__OPT_JSON) {
            a->json = true;
        } else {
            return cli__option_error(a->cmd, argv, o);
        }
    }
    int want = show ? 1 : 0;
    if (argc - optind < want)
        return cli_usage_error(a->cmd, "missing the problem number N");
    if (argc - optind > want)
        return cli_usage_error(a->cmd, "unexpected argument '%s'", argv[optind + want]);
    if (show && cli__id_parse(argv[optind], &a->id) < 0)
        return cli_usage_error(a->cmd, "'%s' is not a problem number (1, 2, ...)", argv[optind]);
    return -1;
}

static void print_human(const json_t *answer, bool show)
{
    struct cli__style st;
    cli__style_for(STDOUT_FILENO, &st);
    struct strbuf out;
    strbuf_init(&out, 0);
    const json_t *items = json_object_get(answer, show ? "incidents" : "problems");
    if (show) {
        cli__problem_fields(json_object_get(answer, "problem"), st.now_ms, &out);
        strbuf_adds(&out, "\n");
        if (json_array_size(items) > 0)
            cli__incidents_table(items, &st, &out);
        else
            strbuf_adds(&out, "(no incidents linked)\n");
    } else if (json_array_size(items) > 0) {
        cli__problems_table(items, &st, &out);
    } else {
        fprintf(stderr, "hale: no problems\n");
    }
    fputs(out.s, stdout);
    strbuf_fini(&out);
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("problems", "say what to do: list or show");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        help_all(stdout);
        return CLI_EXIT_OK;
    }
    bool show = strcmp(argv[1], "show") == 0;
    if (!show && strcmp(argv[1], "list") != 0)
        return cli_usage_error("problems", "'%s' is not a problems command; use list or show",
                               argv[1]);
    struct prob_args a = {.cmd = show ? "problems show" : "problems list"};
    int r = args_parse(argc - 1, argv + 1, show, &a);
    if (r >= 0)
        return r;
    char path[64] = "/api/v1/problems";
    if (show)
        snprintf(path, sizeof(path), "/api/v1/problems/%lld", (long long)a.id);
    struct cli_client *c = cli_client_new(a.remote.url, a.remote.token);
    json_t *answer = NULL;
    struct err e = {0};
    r = cli_client_json(c, "GET", path, NULL, &answer, &e);
    cli_client_free(c);
    if (r < 0) {
        fprintf(stderr, "hale %s: %s\n", a.cmd, e.msg);
        return CLI_EXIT_FAILURE;
    }
    if (a.json)
        cli__json_print(answer, stdout);
    else
        print_human(answer, show);
    json_decref(answer);
    return CLI_EXIT_OK;
}

const struct cli_command cli_problems = {
        .name = "problems",
        .summary = "list and show problems: what keeps breaking",
        .run = run,
};
