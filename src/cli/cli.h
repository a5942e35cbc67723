/* SPDX-License-Identifier: MIT */
/*
 * The commands of the hale binary, git style: `hale COMMAND [OPTIONS]`.
 * Each command lives in its own file and exports one struct cli_command;
 * main.c lists them. A command parses its own options (and --help), does
 * its work, and returns the process exit status.
 */
#ifndef HALE_CLI_CLI_H
#define HALE_CLI_CLI_H

#include <stdio.h>

/* Exit statuses shared by the commands. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_INVALID = 2, /* the configuration (or input) is invalid */
    CLI_EXIT_USAGE = 64,  /* bad command line, as sysexits.h's EX_USAGE */
};

struct cli_command {
    const char *name;
    const char *summary; /* one line for `hale --help` */
    /* argv[0] is the command's name; returns an exit status. */
    int (*run)(int argc, char **argv);
};

extern const struct cli_command cli_serve;
extern const struct cli_command cli_validate;
extern const struct cli_command cli_token;
extern const struct cli_command cli_check;
extern const struct cli_command cli_incidents;
extern const struct cli_command cli_problems;
extern const struct cli_command cli_report;
extern const struct cli_command cli_audit;
extern const struct cli_command cli_routes;
extern const struct cli_command cli_send_event;
extern const struct cli_command cli_silence;
extern const struct cli_command cli_run;
extern const struct cli_command cli_runs;
extern const struct cli_command cli_approve;
extern const struct cli_command cli_runbooks;

/* Where the configuration is when -c is not given: $HALE_CONFIG, else this. */
#define CLI_DEFAULT_CONFIG "/etc/hale/hale.yaml"

/* The configuration path to use: opt if set, else $HALE_CONFIG, else the default. */
const char *cli_config_path(const char *opt);

/*
 * Prints "hale COMMAND: unknown option ..." style usage errors to stderr
 * with a pointer to --help; returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const char *command, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#endif
