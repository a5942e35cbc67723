/* SPDX-License-Identifier: MIT */
/*
 * `hale runbooks [list]`, `hale runbooks stats [NAME]`, `hale runbooks
 * enable NAME`: the runbooks the daemon runs, how well each heals (runs,
 * healed, failed, relapsed, median time to heal, per target), and putting
 * a quarantined one back into automatic runs. Through the API
 * (docs/api.md, "Runbooks and runs"); drawn by render_runs.c.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

struct rb_args {
    const char *cmd;
    struct cli__remote remote;
    bool json;
    const char *name;
};

static void help(FILE *out)
{
    fprintf(out, "Usage: hale runbooks [list] [--json]\n"
                 "       hale runbooks stats [NAME] [--json]\n"
                 "       hale runbooks enable NAME [--json]\n"
                 "\n"
                 "list: every runbook of the running configuration: team, steps, guard,\n"
                 "whether it is quarantined, and its runs, healed and relapsed runs.\n"
                 "stats: how well each runbook (or NAME) heals, in total and per target:\n"
                 "runs, healed, completed, failed, suspended (the guard tripped), relapsed\n"
                 "(healed, and the incident came back within the runbook's relapse window)\n"
                 "and the median time from a run's start to its healing.\n"
                 "enable: puts a quarantined runbook back into automatic runs (needs a\n"
                 "responder's token); the runs before no longer count towards quarantine.\n"
                 "\n"
                 "      --json         print the API's JSON\n" CLI__REMOTE_HELP);
}

static int failed(const char *cmd, const struct err *e)
{
    fprintf(stderr, "hale %s: %s\n", cmd, e->msg);
    return CLI_EXIT_FAILURE;
}

/* Returns -1 to go on, else the exit status. */
static int args_parse(struct rb_args *a, int argc, char **argv, int min_words, int max_words)
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
        switch (o) {
        case 'h':
            help(stdout);
            return CLI_EXIT_OK;
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
    }
    int words = argc - optind;
    if (words < min_words)
        return cli_usage_error(a->cmd, "name the runbook");
    if (words > max_words)
        return cli_usage_error(a->cmd, "unexpected argument '%s'", argv[optind + max_words]);
    a->name = words ? argv[optind] : NULL;
    return -1;
}

/* GET /api/v1/runbooks, only NAME's when a->name; prints with draw. */
static int show(struct cli_client *c, const struct rb_args *a, bool stats)
{
    json_t *answer;
    struct err e = {0};
    if (cli_client_json(c, "GET", "/api/v1/runbooks", NULL, &answer, &e) < 0)
        return failed(a->cmd, &e);
    json_t *all = json_object_get(answer, "runbooks");
    if (a->name) {
        json_t *one = json_array();
        size_t i;
        json_t *rb;
        json_array_foreach(all, i, rb)
        {
            if (strcmp(json_string_value(json_object_get(rb, "name")) ?: "", a->name) == 0)
                json_array_append(one, rb);
        }
        json_object_set_new(answer, "runbooks", one);
        all = one;
        if (json_array_size(one) == 0) {
            fprintf(stderr, "hale %s: there is no runbook \"%s\"; 'hale runbooks' lists them\n",
                    a->cmd, a->name);
            json_decref(answer);
            return CLI_EXIT_FAILURE;
        }
    }
    if (a->json) {
        cli__json_print(answer, stdout);
    } else if (json_array_size(all) == 0) {
        fprintf(stderr, "hale: no runbooks are configured\n");
    } else {
        struct cli__style st;
        cli__style_for(STDOUT_FILENO, &st);
        struct strbuf out;
        strbuf_init(&out, 0);
        if (stats)
            cli__runbook_stats_table(all, &out);
        else
            cli__runbooks_table(all, &st, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int enable(struct cli_client *c, const struct rb_args *a)
{
    struct strbuf path;
    strbuf_init(&path, 0);
    strbuf_adds(&path, "/api/v1/runbooks/");
    cli_url_path_add(&path, a->name);
    strbuf_adds(&path, "/enable");
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, "POST", path.s, NULL, &answer, &e);
    strbuf_fini(&path);
    if (r < 0)
        return failed(a->cmd, &e);
    if (a->json)
        cli__json_print(answer, stdout);
    else
        printf("runbook %s enabled: it runs by itself again\n", a->name);
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    const char *sub = argc >= 2 && argv[1][0] != '-' ? argv[1] : "list";
    bool explicit = argc >= 2 && argv[1][0] != '-';
    struct rb_args a = {0};
    int min = 0, max = 0;
    if (strcmp(sub, "list") == 0) {
        a.cmd = "runbooks list";
    } else if (strcmp(sub, "stats") == 0) {
        a.cmd = "runbooks stats";
        max = 1;
    } else if (strcmp(sub, "enable") == 0) {
        a.cmd = "runbooks enable";
        min = max = 1;
    } else {
        return cli_usage_error("runbooks",
                               "'%s' is not a runbooks command; use list, stats or "
                               "enable",
                               sub);
    }
    int r = explicit ? args_parse(&a, argc - 1, argv + 1, min, max)
                     : args_parse(&a, argc, argv, min, max);
    if (r >= 0)
        return r;
    struct cli_client *c = cli_client_new(a.remote.url, a.remote.token);
    if (strcmp(sub, "enable") == 0)
        r = enable(c, &a);
    else
        r = show(c, &a, strcmp(sub, "stats") == 0);
    cli_client_free(c);
    return r;
}

const struct cli_command cli_runbooks = {
        .name = "runbooks",
        .summary = "list runbooks, show how well they heal, re-enable a quarantined one",
        .run = run,
};
