/* SPDX-License-Identifier: MIT */
/*
 * The hale binary: finds the command named by the first argument and runs
 * it. Everything else lives in the commands (src/cli/) and the library.
 */
#include <stdio.h>
#include <string.h>

#include "base/cleanup.h"
#include "cli/cli.h"
#include "version.h"

static const struct cli_command *const commands[] = {
        &cli_serve,    &cli_validate, &cli_token, &cli_check,   &cli_incidents,
        &cli_problems, &cli_report,   &cli_audit, &cli_routes,  &cli_send_event,
        &cli_silence,  &cli_run,      &cli_runs,  &cli_approve, &cli_runbooks,
};

static void print_help(FILE *out)
{
    fprintf(out, "Usage: hale COMMAND [OPTIONS]\n"
                 "\n"
                 "hale watches systems with checks, repairs what it can with runbooks, proves\n"
                 "each repair by re-running the check, and records everything as incidents.\n"
                 "\n"
                 "Commands:\n");
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(out, "  %-11s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\n"
                 "Options:\n"
                 "  -h, --help     show this help\n"
                 "  -V, --version  show the version\n"
                 "\n"
                 "Run 'hale COMMAND --help' for a command's options.\n");
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_help(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *arg = argv[1];
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0 ||
        (strcmp(arg, "help") == 0 && argc == 2)) {
        print_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
        printf("hale %s\n", HALE_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(arg, "help") == 0 && argc > 2) {
        const struct cli_command *cmd = find_command(argv[2]);
        if (cmd) {
            char *help_argv[] = {argv[2], (char *)"--help", NULL};
            return cmd->run(2, help_argv);
        }
        arg = argv[2];
    }
    const struct cli_command *cmd = find_command(arg);
    if (!cmd) {
        fprintf(stderr, "hale: '%s' is not a command. See 'hale --help'.\n", arg);
        return CLI_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}
