/* SPDX-License-Identifier: MIT */
/*
 * `hale report incident N` and `hale report summary`: fetches a report
 * the daemon renders (GET /api/v1/incidents/{id}/report and
 * /api/v1/reports/summary) and writes its body, as it came, to stdout or
 * a file. The file is written only once the whole report has arrived, so
 * a failed request never leaves half a report behind.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

enum {
    OPT_FORMAT = CLI__OPT_FIRST_FREE,
    OPT_SINCE,
};

struct report_args {
    const char *cmd;
    struct cli__remote remote;
    const char *format; /* md, html or json */
    const char *since;  /* summary */
    const char *output; /* NULL: stdout */
    int64_t id;         /* incident */
};

static const char usage_incident[] = "hale report incident N [--format md|html|json] [-o FILE]";
static const char usage_summary[] =
        "hale report summary [--since 7d] [--format md|html|json] [-o FILE]";
static const char about_incident[] =
        "The final report of incident N: summary, impact, timeline, actions taken, who\n"
        "did what, root cause, time to acknowledge and to resolve.\n";
static const char about_summary[] =
        "The summary of a period: incidents by state, priority, category and team,\n"
        "MTTA and MTTR, how much hale healed alone, recurring problems, availability.\n"
        "\n"
        "      --since WHEN   the period's start: a duration back from now (default 7d)\n"
        "                     or an RFC 3339 time\n";
static const char options_help[] =
        "      --format F     md (Markdown, the default), html or json\n"
        "  -o, --output FILE  write the report to FILE instead of stdout\n" CLI__REMOTE_HELP;

static void help_all(FILE *out)
{
    fprintf(out,
            "Usage: %s\n       %s\n\n"
            "Reports, rendered by the daemon and written as they come.\n\n"
            "incident: %s\nsummary: %s\n%s",
            usage_incident, usage_summary, about_incident, about_summary, options_help);
}

static void help_one(FILE *out, bool summary)
{
    fprintf(out, "Usage: %s\n\n%s\n%s", summary ? usage_summary : usage_incident,
            summary ? about_summary : about_incident, options_help);
}

static int option_value(int o, char **argv, struct report_args *a)
{
    switch (o) {
    case CLI__OPT_URL:
        a->remote.url = optarg;
        break;
    case CLI__OPT_TOKEN:
        a->remote.token = optarg;
        break;
    case OPT_FORMAT:
        if (strcmp(optarg, "md") != 0 && strcmp(optarg, "html") != 0 && strcmp(optarg, "json") != 0)
            return cli_usage_error(a->cmd, "--format '%s': use md, html or json", optarg);
        a->format = optarg;
        break;
    case OPT_SINCE:
        a->since = optarg;
        return cli__since_check(a->cmd, optarg) == 0 ? -1 : CLI_EXIT_USAGE;
    case 'o':
        a->output = optarg;
        break;
    default:
        return cli__option_error(a->cmd, argv, o);
    }
    return -1;
}

/* Returns -1 to go on, else the exit status. */
static int args_parse(int argc, char **argv, bool summary, struct report_args *a)
{
    static const struct option options_incident[] = {
            {"format", required_argument, NULL, OPT_FORMAT},
            {"output", required_argument, NULL, 'o'},
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    static const struct option options_summary[] = {
            {"since", required_argument, NULL, OPT_SINCE},
            {"format", required_argument, NULL, OPT_FORMAT},
            {"output", required_argument, NULL, 'o'},
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":ho:", summary ? options_summary : options_incident,
                            NULL)) != -1) {
        if (o == 'h') {
            help_one(stdout, summary);
            return CLI_EXIT_OK;
        }
        int r = option_value(o, argv, a);
        if (r >= 0)
            return r;
    }
    int want = summary ? 0 : 1;
    if (argc - optind < want)
        return cli_usage_error(a->cmd, "missing the incident number N");
    if (argc - optind > want)
        return cli_usage_error(a->cmd, "unexpected argument '%s'", argv[optind + want]);
    if (!summary && cli__id_parse(argv[optind], &a->id) < 0)
        return cli_usage_error(a->cmd, "'%s' is not an incident number (1, 2, ...)", argv[optind]);
    return -1;
}

static int write_out(const struct report_args *a, const struct strbuf *body)
{
    FILE *f = a->output ? fopen(a->output, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "hale %s: cannot write %s: %s\n", a->cmd, a->output, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    bool ok = fwrite(body->s, 1, body->len, f) == body->len;
    ok = (a->output ? fclose(f) : fflush(f)) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "hale %s: cannot write %s: %s\n", a->cmd,
                a->output ? a->output : "to stdout", strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

static int fetch(const struct report_args *a, bool summary)
{
    struct strbuf path, body;
    strbuf_init(&path, 0);
    strbuf_init(&body, 0);
    if (summary) {
        strbuf_adds(&path, "/api/v1/reports/summary");
        cli_url_query_add(&path, "since", a->since);
    } else {
        strbuf_addf(&path, "/api/v1/incidents/%lld/report", (long long)a->id);
    }
    cli_url_query_add(&path, "format", a->format);
    struct cli_client *c = cli_client_new(a->remote.url, a->remote.token);
    struct err e = {0};
    int r = cli_client_request(c, "GET", path.s, NULL, &body, &e);
    cli_client_free(c);
    if (r < 0) {
        fprintf(stderr, "hale %s: %s\n", a->cmd, e.msg);
        r = CLI_EXIT_FAILURE;
    } else {
        r = write_out(a, &body);
    }
    strbuf_fini(&path);
    strbuf_fini(&body);
    return r;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("report", "say which: incident N or summary");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        help_all(stdout);
        return CLI_EXIT_OK;
    }
    bool summary = strcmp(argv[1], "summary") == 0;
    if (!summary && strcmp(argv[1], "incident") != 0)
        return cli_usage_error("report", "'%s' is not a report; use incident N or summary",
                               argv[1]);
    struct report_args a = {
            .cmd = summary ? "report summary" : "report incident",
            .format = "md",
            .since = "7d",
    };
    int r = args_parse(argc - 1, argv + 1, summary, &a);
    return r >= 0 ? r : fetch(&a, summary);
}

const struct cli_command cli_report = {
        .name = "report",
        .summary = "write an incident's final report, or the summary of a period",
        .run = run,
};
