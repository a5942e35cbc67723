/* SPDX-License-Identifier: MIT */
/*
 * `hale validate`: loads a configuration the way the daemon would and
 * reports every problem as FILE:LINE:COL: error: MESSAGE, so an editor or
 * CI can point at each one. Silent and exit 0 when the file is valid, in the
 * manner of a compiler; --summary prints a one-line count for people who
 * want a confirmation.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/cli.h"
#include "config/config.h"

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: hale validate [-c FILE] [--summary]\n"
            "\n"
            "Checks a configuration file, and every file it includes, and reports every\n"
            "error as FILE:LINE:COL: error: MESSAGE. Prints nothing when it is valid.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE  the configuration (default $HALE_CONFIG, else " CLI_DEFAULT_CONFIG
            ")\n"
            "      --summary      when valid, print what was loaded on one line\n"
            "  -h, --help         show this help\n"
            "\n"
            "Exit status: 0 valid, 2 invalid or unreadable, 64 bad usage.\n");
}

static const char *plural(size_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_summary(const struct config *c)
{
    printf("ok: %zu %s, %zu %s, %zu %s, %zu %s, %zu %s, %zu %s from %zu %s\n", c->n_checks,
           plural(c->n_checks, "check", "checks"), c->n_runbooks,
           plural(c->n_runbooks, "runbook", "runbooks"), c->n_teams,
           plural(c->n_teams, "team", "teams"), c->n_notifiers,
           plural(c->n_notifiers, "notifier", "notifiers"), c->n_services,
           plural(c->n_services, "service", "services"), c->n_routes,
           plural(c->n_routes, "route", "routes"), c->files.n, plural(c->files.n, "file", "files"));
}

enum {
    OPT_SUMMARY = 256
};

static int run(int argc, char **argv)
{
    static const struct option options[] = {
            {"config", required_argument, NULL, 'c'},
            {"summary", no_argument, NULL, OPT_SUMMARY},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *opt_config = NULL;
    bool summary = false;
    optind = 0; /* GNU getopt: start afresh, in case another command parsed before */
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, "+:c:h", options, NULL)) != -1) {
        switch (o) {
        case 'c':
            opt_config = optarg;
            break;
        case OPT_SUMMARY:
            summary = true;
            break;
        case 'h':
            print_help(stdout);
            return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("validate", "option '%s' needs an argument", argv[optind - 1]);
        default:
            return cli_usage_error("validate", "invalid option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("validate", "unexpected argument '%s'", argv[optind]);

    const char *path = cli_config_path(opt_config);
    struct config *c = NULL;
    struct config_diags diags = {0};
    int r = config_load(path, &c, &diags);
    config_diags_print(&diags, stderr);
    config_diags_fini(&diags);
    if (r < 0)
        return CLI_EXIT_INVALID;
    if (summary)
        print_summary(c);
    config_unref(c);
    return CLI_EXIT_OK;
}

const struct cli_command cli_validate = {"validate",
                                         "check a configuration file and report every error", run};
