/* SPDX-License-Identifier: MIT */
/* Helpers shared by the commands. */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>

const char *cli_config_path(const char *opt)
{
    if (opt)
        return opt;
    const char *env = getenv("HALE_CONFIG");
    return env && *env ? env : CLI_DEFAULT_CONFIG;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "hale %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'hale %s --help'.\n", command);
    return CLI_EXIT_USAGE;
}
