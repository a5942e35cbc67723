/* SPDX-License-Identifier: MIT */
/*
 * `hale run RUNBOOK`: runs a runbook by hand. With --dry-run it reads the
 * configuration and prints the plan (runbook/plan.h: every step, the argv
 * and environment a process step would get), offline, starting nothing.
 * Otherwise it asks the daemon (POST /api/v1/runbooks/{name}/runs) and
 * follows the run, printing each step as it ends, until the run is over.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/labels.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"
#include "config/config.h"
#include "runbook/plan.h"

#define CMD        "run"
/* How often a followed run is asked after. */
#define POLL_MS    250
/* The API takes no more labels on a run by hand. */
#define LABELS_MAX 32

enum {
    OPT_LABEL = CLI__OPT_FIRST_FREE,
    OPT_INCIDENT,
    OPT_DRY_RUN,
    OPT_NO_WAIT,
};

struct run_args {
    struct cli__remote remote;
    const char *config;
    const char *runbook;
    struct labels labels;
    int64_t incident;
    bool dry_run, no_wait, json;
};

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: hale run RUNBOOK [--label NAME=VALUE]... [--incident N] [--no-wait] [--json]\n"
            "       hale run RUNBOOK --dry-run [-c FILE] [--label NAME=VALUE]... [--incident N]\n"
            "\n"
            "Runs a runbook by hand, through the daemon: the run is started (audited as\n"
            "yours), then followed, each step printed as it ends, until it is over. A run\n"
            "waiting at an approval gate waits for 'hale approve RUN'. The labels stand\n"
            "for the event's: they fill ${labels.NAME} and the HALE_LABEL_* variables.\n"
            "Refused when the runbook's guard trips or a run of it is in flight on the\n"
            "same target. A quarantined runbook may still be run by hand.\n"
            "\n"
            "With --dry-run nothing is started and no daemon is needed: the plan is\n"
            "printed from the configuration, each step with its argv and environment\n"
            "as substituted, and a step that could not run (a missing label) says so.\n"
            "\n"
            "Options:\n"
            "  -l, --label NAME=VALUE  a label of the event; repeat for each (at most 32)\n"
            "      --incident N        the run works on incident N\n"
            "      --dry-run           print the plan only\n"
            "  -c, --config FILE       with --dry-run: the configuration (default\n"
            "                          $HALE_CONFIG, else " CLI_DEFAULT_CONFIG ")\n"
            "      --no-wait           print the run's number and return at once\n"
            "      --json              print the run as the API answers it when it is over\n"
            "      --url URL           hale's address (default $HALE_URL, else\n"
            "                          http://127.0.0.1:8080)\n"
            "      --token TOKEN       the API token (default $HALE_TOKEN)\n"
            "  -h, --help              show this help\n"
            "\n"
            "Exit status: 0 the run healed or completed (with --no-wait: it started; with\n"
            "--dry-run: the plan was printed); 1 any other outcome, or hale refused or\n"
            "cannot be reached; 2 the configuration is invalid; 64 bad usage.\n");
}

/* "name=value" into l; a usage error (returned) when it is not that, else -1. */
static int args_parse(int argc, char **argv, struct run_args *a)
{
    static const struct option options[] = {
            {"label", required_argument, NULL, 'l'},
            {"incident", required_argument, NULL, OPT_INCIDENT},
            {"dry-run", no_argument, NULL, OPT_DRY_RUN},
            {"config", required_argument, NULL, 'c'},
            {"no-wait", no_argument, NULL, OPT_NO_WAIT},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    int o, r;
    while ((o = getopt_long(argc, argv, ":c:l:h", options, NULL)) != -1) {
        switch (o) {
        case 'l':
            if (a->labels.n == LABELS_MAX)
                return cli_usage_error(CMD, "at most %d labels", LABELS_MAX);
            if ((r = cli__label_arg(CMD, &a->labels, "--label", optarg)) != 0)
                return r;
            break;
        case OPT_INCIDENT:
            if (cli__id_parse(optarg, &a->incident) < 0)
                return cli_usage_error(CMD, "--incident '%s' is not an incident number", optarg);
            break;
        case OPT_DRY_RUN:
            a->dry_run = true;
            break;
        case 'c':
            a->config = optarg;
            break;
        case OPT_NO_WAIT:
            a->no_wait = true;
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
        case 'h':
            print_help(stdout);
            return CLI_EXIT_OK;
        default:
            return cli__option_error(CMD, argv, o);
        }
    }
    if (optind >= argc)
        return cli_usage_error(CMD, "name the runbook to run");
    a->runbook = argv[optind++];
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (a->config && !a->dry_run)
        return cli_usage_error(CMD, "--config is for --dry-run; the daemon runs its own");
    if (a->dry_run && (a->no_wait || a->json))
        return cli_usage_error(CMD, "--dry-run starts nothing: --no-wait and --json do not apply");
    return -1;
}

/* ---- --dry-run ---- */

static int dry_run(const struct run_args *a)
{
    struct config *c = NULL;
    struct config_diags diags = {0};
    int r = config_load(cli_config_path(a->config), &c, &diags);
    config_diags_print(&diags, stderr);
    config_diags_fini(&diags);
    if (r < 0)
        return CLI_EXIT_INVALID;
    const struct config_runbook *rb = config_runbook_find(c, a->runbook);
    if (!rb) {
        fprintf(stderr, "hale run: there is no runbook \"%s\" in %s (%zu runbook%s)\n", a->runbook,
                cli_config_path(a->config), c->n_runbooks, c->n_runbooks == 1 ? "" : "s");
        config_unref(c);
        return CLI_EXIT_FAILURE;
    }
    struct plan_input in = {
            .runbook = rb,
            .labels = &a->labels,
            .incident_id = a->incident,
            .data_dir = config_server(c)->data_dir,
    };
    char *text = plan_describe(&in);
    fputs(text, stdout);
    printf("\ndry run: nothing was started\n");
    free(text);
    config_unref(c);
    return CLI_EXIT_OK;
}

/* ---- a run through the daemon ---- */

static int failed(const struct err *e)
{
    fprintf(stderr, "hale run: %s\n", e->msg);
    return CLI_EXIT_FAILURE;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};
    while (nanosleep(&ts, &ts) < 0)
        ;
}

static bool outcome_is_over(const char *outcome)
{
    return outcome && strcmp(outcome, "running") != 0 && strcmp(outcome, "waiting") != 0;
}

/* Prints the attempts that ended since the last look; *printed counts those seen over. */
static void print_new_steps(const json_t *answer, size_t *printed)
{
    const json_t *steps = json_object_get(answer, "steps");
    long total = (long)json_integer_value(
            json_object_get(json_object_get(answer, "run"), "steps_total"));
    for (size_t i = *printed; i < json_array_size(steps); i++) {
        const json_t *step = json_array_get(steps, i);
        const char *outcome = json_string_value(json_object_get(step, "outcome"));
        if (outcome && strcmp(outcome, "running") == 0)
            break; /* attempts end in order: the rest are later */
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__run_step_line(step, total, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
        *printed = i + 1;
    }
    fflush(stdout);
}

static void print_gate(const json_t *run, int64_t id)
{
    const json_t *gate = json_object_get(run, "approval");
    char *q = cli__sanitise(json_string_value(json_object_get(gate, "question")), false);
    printf("waiting for approval: %s (until %s); 'hale approve %lld' or 'hale approve %lld "
           "--reject'\n",
           q, json_string_value(json_object_get(gate, "deadline")), (long long)id, (long long)id);
    fflush(stdout);
    free(q);
}

/* Asks after run id until it is over; returns the exit status. */
static int follow(struct cli_client *c, const struct run_args *a, int64_t id)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/runs/%lld", (long long)id);
    size_t printed = 0;
    bool gate_shown = false;
    for (;;) {
        json_t *answer;
        struct err e = {0};
        if (cli_client_json(c, "GET", path, NULL, &answer, &e) < 0)
            return failed(&e);
        const json_t *run = json_object_get(answer, "run");
        const char *outcome = json_string_value(json_object_get(run, "outcome"));
        if (!a->json)
            print_new_steps(answer, &printed);
        bool waiting = outcome && strcmp(outcome, "waiting") == 0;
        if (waiting && !gate_shown && !a->json)
            print_gate(run, id);
        gate_shown = waiting;
        if (outcome_is_over(outcome)) {
            bool good = strcmp(outcome, "healed") == 0 || strcmp(outcome, "completed") == 0;
            if (a->json) {
                cli__json_print(answer, stdout);
            } else {
                const char *reason = json_string_value(json_object_get(run, "reason"));
                char *clean = cli__sanitise(reason, false);
                printf("run %lld %s%s%s\n", (long long)id, outcome, reason ? ": " : "",
                       reason ? clean : "");
                free(clean);
            }
            json_decref(answer);
            return good ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
        }
        json_decref(answer);
        sleep_ms(POLL_MS);
    }
}

static int start(const struct run_args *a)
{
    json_t *labels = json_object();
    for (size_t i = 0; i < a->labels.n; i++) {
        json_t *v = json_string(a->labels.v[i].value);
        if (!v) {
            json_decref(labels);
            return cli_usage_error(CMD, "--label %s: the value is not UTF-8", a->labels.v[i].name);
        }
        json_object_set_new(labels, a->labels.v[i].name, v);
    }
    json_t *body = json_pack("{s:o}", "labels", labels);
    if (a->incident)
        json_object_set_new(body, "incident", json_integer(a->incident));
    struct strbuf path;
    strbuf_init(&path, 0);
    strbuf_adds(&path, "/api/v1/runbooks/");
    cli_url_path_add(&path, a->runbook);
    strbuf_adds(&path, "/runs");
    struct cli_client *c = cli_client_new(a->remote.url, a->remote.token);
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, "POST", path.s, body, &answer, &e);
    json_decref(body);
    strbuf_fini(&path);
    if (r < 0) {
        cli_client_free(c);
        return failed(&e);
    }
    int64_t id = json_integer_value(json_object_get(answer, "run"));
    json_decref(answer);
    int status = CLI_EXIT_OK;
    if (a->no_wait) {
        printf("%lld\n", (long long)id);
    } else {
        if (!a->json) {
            printf("run %lld of %s started\n", (long long)id, a->runbook);
            fflush(stdout);
        }
        status = follow(c, a, id);
    }
    cli_client_free(c);
    return status;
}

static int run(int argc, char **argv)
{
    struct run_args a = {0};
    labels_init(&a.labels);
    int r = args_parse(argc, argv, &a);
    if (r < 0)
        r = a.dry_run ? dry_run(&a) : start(&a);
    labels_fini(&a.labels);
    return r;
}

const struct cli_command cli_run = {
        .name = "run",
        .summary = "run a runbook by hand, or print its plan with --dry-run",
        .run = run,
};
