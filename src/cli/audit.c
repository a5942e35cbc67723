/* SPDX-License-Identifier: MIT */
/*
 * `hale audit`: who did what, when, from where, read through the API
 * (GET /api/v1/audit, an admin's token). Oldest first, as a log reads;
 * a page at a time, or every page with --all.
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

/* --all stops here: a daemon that never ends its pages must not keep us forever. */
#define ALL_MAX_PAGES 10000
/* What `hale audit` shows unless --since says otherwise. */
#define SINCE_DEFAULT "7d"

enum {
    OPT_SINCE = CLI__OPT_FIRST_FREE,
    OPT_LIMIT,
    OPT_ALL,
};

struct audit_args {
    struct cli__remote remote;
    bool json, all;
    const char *since;
    long limit; /* 0: the API's default */
};

static void help(FILE *out)
{
    fprintf(out,
            "Usage: hale audit [--since WHEN] [--limit N] [--all] [--json]\n"
            "\n"
            "Shows the audit log, oldest first: TIME, ACTOR, ACTION, TARGET, ORIGIN. Every\n"
            "person's action is there (user:NAME, the token's name, from the client's\n"
            "address), and every change of the tokens file (actor tokens-file). Needs an\n"
            "admin token.\n"
            "\n"
            "      --since WHEN   only entries since WHEN: a duration back from now (7d, 12h)\n"
            "                     or an RFC 3339 time (default %s)\n"
            "      --limit N      at most N per page, 1 to 1000 (default 100)\n"
            "      --all          every page, not only the first\n"
            "      --json         print the API's JSON instead of a table\n" CLI__REMOTE_HELP,
            SINCE_DEFAULT);
}

static int args_parse(int argc, char **argv, struct audit_args *a)
{
    static const struct option options[] = {
            {"since", required_argument, NULL, OPT_SINCE},
            {"limit", required_argument, NULL, OPT_LIMIT},
            {"all", no_argument, NULL, OPT_ALL},
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    int o;
    char *end;
    while ((o = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        switch (o) {
        case 'h':
            help(stdout);
            return CLI_EXIT_OK;
        case OPT_SINCE:
            a->since = optarg;
            break;
        case OPT_LIMIT:
            a->limit = strtol(optarg, &end, 10);
            if (*end || end == optarg || a->limit < 1 || a->limit > 1000)
                return cli_usage_error("audit", "--limit '%s' is not a number from 1 to 1000",
                                       optarg);
            break;
        case OPT_ALL:
            a->all = true;
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
            return cli__option_error("audit", argv, o);
        }
    }
    if (optind < argc)
        return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
    if (cli__since_check("audit", a->since) != 0)
        return CLI_EXIT_USAGE;
    return -1;
}

/* The path of one page of the log. */
static void audit_path(const char *cursor, const void *arg, struct strbuf *path)
{
    const struct audit_args *a = arg;
    strbuf_adds(path, "/api/v1/audit");
    cli_url_query_add(path, "since", a->since);
    if (a->limit > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%ld", a->limit);
        cli_url_query_add(path, "limit", n);
    }
    if (cursor)
        cli_url_query_add(path, "cursor", cursor);
}

static int run(int argc, char **argv)
{
    struct audit_args a = {.since = SINCE_DEFAULT};
    int r = args_parse(argc, argv, &a);
    if (r >= 0)
        return r;
    struct cli_client *c = cli_client_new(a.remote.url, a.remote.token);
    json_t *answer = NULL;
    struct err e = {0};
    r = cli_client_list(c, "audit", a.all, ALL_MAX_PAGES, audit_path, &a, &answer, &e);
    cli_client_free(c);
    if (r < 0) {
        fprintf(stderr, "hale audit: %s\n", e.msg);
        return CLI_EXIT_FAILURE;
    }
    const json_t *entries = json_object_get(answer, "audit");
    bool more = json_is_string(json_object_get(answer, "next_cursor"));
    if (a.json) {
        cli__json_print(answer, stdout);
    } else if (json_array_size(entries) == 0) {
        fprintf(stderr, "hale: the audit log has nothing since %s\n", a.since);
    } else {
        struct cli__style st;
        cli__style_for(STDOUT_FILENO, &st);
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__audit_table(entries, &st, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
        if (more)
            fprintf(stderr, "hale: there are more: --all lists every page\n");
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

const struct cli_command cli_audit = {
        .name = "audit",
        .summary = "show the audit log: who did what, when, from where",
        .run = run,
};
