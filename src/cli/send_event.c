/* SPDX-License-Identifier: MIT */
/*
 * `hale send-event`: one event from a script, as `amtool alert add` sends
 * one to Alertmanager: labels, annotations, severity and summary from the
 * command line, POSTed to /api/v1/events with a reporter's token. The
 * daemon validates it (one place decides what an event is) and answers
 * once it is durable, with what the engine made of it.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

#define CMD "send-event"

enum {
    OPT_SUMMARY = CLI__OPT_FIRST_FREE,
    OPT_RESOLVE,
};

static void print_help(FILE *out)
{
    fprintf(out, "Usage: hale send-event --label NAME=VALUE... [--annotation NAME=VALUE...]\n"
                 "                       [--severity S] [--summary TEXT] [--resolve] [--json]\n"
                 "\n"
                 "Sends one event to hale (POST /api/v1/events), as a script or a cron job\n"
                 "reports that something broke, and later that it is fixed. The labels say\n"
                 "what it is about: the same labels again are the same event, counted on its\n"
                 "incident; --resolve with the same labels ends it. Prints what hale made of\n"
                 "it: a new incident, a repeat, a symptom of another incident, ...\n"
                 "\n"
                 "Options:\n"
                 "  -l, --label NAME=VALUE       a label; repeat for each (at least one)\n"
                 "  -a, --annotation NAME=VALUE  an annotation (description, runbook_url, ...)\n"
                 "  -s, --severity S             critical, warning or info (default: the\n"
                 "                               severity label when it names one, else warning)\n"
                 "      --summary TEXT           one line for people (default: the summary or\n"
                 "                               description annotation, else the labels)\n"
                 "      --resolve                the event is over (status resolved)\n"
                 "      --json                   print the API's JSON\n" CLI__REMOTE_HELP "\n"
                 "The token needs the report permission (role reporter or admin).\n"
                 "Example:\n"
                 "  hale send-event -l alertname=BackupLate -l job=nightly -s critical \\\n"
                 "      --summary 'The nightly backup has not finished'\n"
                 "  hale send-event -l alertname=BackupLate -l job=nightly --resolve\n");
}

struct send_args {
    struct cli__remote remote;
    json_t *labels, *annotations;
    const char *severity, *summary;
    bool resolve, json;
};

/* "name=value" into o; a usage error (returned) when it is not that, else -1. */
static int add_pair(json_t *o, const char *opt, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage_error(CMD, "%s '%s': expected NAME=VALUE", opt, arg);
    json_t *v = json_string(eq + 1);
    if (!v)
        return cli_usage_error(CMD, "%s '%s': the value is not valid UTF-8", opt, arg);
    char *name = xstrndup(arg, (size_t)(eq - arg));
    json_object_set_new(o, name, v);
    free(name);
    return -1;
}

/* Returns -1 to go on, else the exit status. */
static int args_parse(int argc, char **argv, struct send_args *a)
{
    static const struct option options[] = {
            {"label", required_argument, NULL, 'l'},
            {"annotation", required_argument, NULL, 'a'},
            {"severity", required_argument, NULL, 's'},
            {"summary", required_argument, NULL, OPT_SUMMARY},
            {"resolve", no_argument, NULL, OPT_RESOLVE},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    int o, r = -1;
    while (r < 0 && (o = getopt_long(argc, argv, ":hl:a:s:", options, NULL)) != -1) {
        switch (o) {
        case 'h':
            print_help(stdout);
            return CLI_EXIT_OK;
        case 'l':
            r = add_pair(a->labels, "--label", optarg);
            break;
        case 'a':
            r = add_pair(a->annotations, "--annotation", optarg);
            break;
        case 's':
            a->severity = optarg;
            break;
        case OPT_SUMMARY:
            a->summary = optarg;
            break;
        case OPT_RESOLVE:
            a->resolve = true;
            break;
        case CLI__OPT_JSON:
            a->json = true;
            break;
        case CLI__OPT_URL:
            a->remote.url = optarg;
            break;
        case CLI__OPT_TOKEN:
            a->remote.token = optarg;
            break;
        default:
            return cli__option_error(CMD, argv, o);
        }
    }
    if (r >= 0)
        return r;
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (json_object_size(a->labels) == 0)
        return cli_usage_error(CMD, "give the event at least one --label NAME=VALUE");
    json_t *summary = a->summary ? json_string(a->summary) : NULL;
    if (a->summary && !summary)
        return cli_usage_error(CMD, "--summary is not valid UTF-8");
    json_decref(summary);
    return -1;
}

static json_t *event_body(const struct send_args *a)
{
    json_t *ev = json_pack("{s:O}", "labels", a->labels);
    if (json_object_size(a->annotations) > 0)
        json_object_set(ev, "annotations", a->annotations);
    if (a->severity)
        json_object_set_new(ev, "severity", json_string(a->severity));
    if (a->summary)
        json_object_set_new(ev, "summary", json_string(a->summary));
    if (a->resolve)
        json_object_set_new(ev, "status", json_string("resolved"));
    return ev;
}

/* "new: incident 3 (new incident)", a line per event of the answer. */
static void print_outcome(const json_t *answer)
{
    size_t i;
    const json_t *ev;
    json_array_foreach(json_object_get(answer, "events"), i, ev)
    {
        const char *verdict = json_string_value(json_object_get(ev, "verdict"));
        const char *reason = json_string_value(json_object_get(ev, "reason"));
        json_int_t incident = json_integer_value(json_object_get(ev, "incident"));
        printf("%s: ", verdict ? verdict : "?");
        if (incident)
            printf("incident %lld", (long long)incident);
        else
            printf("no incident");
        printf(" (%s)\n", reason ? reason : "");
    }
}

static int run(int argc, char **argv)
{
    struct send_args a = {.labels = json_object(), .annotations = json_object()};
    int status = args_parse(argc, argv, &a);
    if (status < 0) {
        json_t *body = event_body(&a);
        struct cli_client *c = cli_client_new(a.remote.url, a.remote.token);
        json_t *answer = NULL;
        struct err e = {0};
        int r = cli_client_json(c, "POST", "/api/v1/events", body, &answer, &e);
        cli_client_free(c);
        json_decref(body);
        if (r < 0) {
            fprintf(stderr, "hale %s: %s\n", CMD, e.msg);
            status = CLI_EXIT_FAILURE;
        } else {
            if (a.json)
                cli__json_print(answer, stdout);
            else
                print_outcome(answer);
            json_decref(answer);
            status = CLI_EXIT_OK;
        }
    }
    json_decref(a.labels);
    json_decref(a.annotations);
    return status;
}

const struct cli_command cli_send_event = {
        .name = "send-event",
        .summary = "send an event to hale, as a script reports trouble",
        .run = run,
};
