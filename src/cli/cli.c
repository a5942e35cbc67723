/* SPDX-License-Identifier: MIT */
/* Helpers shared by the commands. */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/labels.h"
#include "base/units.h"
#include "cli/internal.h"

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

int cli__option_error(const char *cmd, char **argv, int c)
{
    /* An unknown letter inside "-xy" leaves optind on its word: name the letter. */
    if (c == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    if (optopt && optopt < 0x100)
        return cli_usage_error(cmd, "unknown option '-%c'", optopt);
    return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
}

int cli__label_arg(const char *cmd, struct labels *l, const char *opt, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage_error(cmd, "%s '%s': expected NAME=VALUE", opt, arg);
    _cleanup_free_ char *name = xstrndup(arg, (size_t)(eq - arg));
    struct err e = {0};
    if (labels_set(l, name, eq + 1, &e) < 0)
        return cli_usage_error(cmd, "%s '%s': %s", opt, arg, e.msg);
    return 0;
}

int cli__id_parse(const char *s, int64_t *ret_id)
{
    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 1)
        return -EINVAL;
    *ret_id = v;
    return 0;
}

int cli__since_check(const char *cmd, const char *since)
{
    uint64_t ms;
    int64_t t;
    if (units_duration_parse(since, &ms, NULL, NULL) == 0 || clock_parse_rfc3339_ms(since, &t) == 0)
        return 0;
    return cli_usage_error(cmd,
                           "--since '%s' is neither a duration (7d, 12h, 1h30m) nor an RFC 3339 "
                           "time (2026-11-21T19:00:00Z)",
                           since);
}

void cli__json_print(const json_t *value, FILE *out)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fprintf(out, "%s\n", text ? text : "null");
    free(text);
}
