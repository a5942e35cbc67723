/* SPDX-License-Identifier: MIT */
/*
 * `hale check`: runs checks once, now, without a daemon, and prints each
 * result the way a Monitoring Plugin prints it (or as JSON). The exit
 * status is the worst status found, so hale's checks can be used from
 * Nagios, Icinga or a shell script.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/checks.h"
#include "base/alloc.h"
#include "base/fs.h"
#include "base/strbuf.h"
#include "checks/checks.h"
#include "cli/cli.h"
#include "config/config.h"

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: hale check [-c FILE] [--json] [NAME...]\n"
            "\n"
            "Runs the named checks (every check when none is named) once, now and\n"
            "concurrently, without a daemon, and prints one line per check as a\n"
            "Monitoring Plugin would:  NAME STATUS - summary | perfdata\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE  the configuration (default $HALE_CONFIG, else " CLI_DEFAULT_CONFIG
            ")\n"
            "      --json         print a JSON array of the observations instead\n"
            "  -h, --help         show this help\n"
            "\n"
            "Exit status: the worst status found, as plugins exit: 0 ok, 1 warning,\n"
            "2 critical, 3 unknown (critical is worse than warning, warning than\n"
            "unknown); 3 when the configuration is invalid; 64 bad usage or an\n"
            "unknown check.\n");
}

/* Edit distance, ignoring case, for "did you mean"; capped for long names. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best =
                    diag + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static int unknown_check(const struct config *c, const char *name)
{
    const char *hint = NULL;
    size_t best = strlen(name) <= 4 ? 2 : 4;
    struct strbuf known;
    strbuf_init(&known, 4096);
    for (size_t i = 0; i < c->n_checks; i++) {
        size_t d = distance(name, c->checks[i].name);
        if (d < best) {
            best = d;
            hint = c->checks[i].name;
        }
        strbuf_addf(&known, "%s%s", i ? ", " : "", c->checks[i].name);
    }
    char did[300] = "";
    if (hint)
        snprintf(did, sizeof(did), "; did you mean \"%s\"?", hint);
    int r = cli_usage_error("check", "no check named \"%s\"%s (known: %s)", name, did,
                            c->n_checks ? known.s : "none");
    strbuf_fini(&known);
    return r;
}

/* Critical, then warning, then unknown, then ok. */
static int severity(enum check_status s)
{
    static const int rank[] = {0, 2, 3, 1};
    return (unsigned)s < 4 ? rank[s] : 1;
}

static void print_plain(const struct config_check *const *which,
                        const struct check_observation *obs, size_t n)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    for (size_t i = 0; i < n; i++) {
        strbuf_reset(&b);
        check_observation_format(&obs[i], 0, &b);
        printf("%s %s\n", which[i]->name, b.s);
    }
    strbuf_fini(&b);
}

static void print_json(const struct config_check *const *which, const struct check_observation *obs,
                       size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = api_check_observation_json(&obs[i]);
        if (!o)
            o = json_pack("{s:s, s:s}", "status", check_status_name(obs[i].status), "summary",
                          "(not valid UTF-8)");
        json_t *item = json_pack("{s:s}", "check", which[i]->name); /* the name first */
        json_object_update(item, o);
        json_decref(o);
        json_array_append_new(list, item);
    }
    char *text = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    printf("%s\n", text ? text : "[]");
    free(text);
    json_decref(list);
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {
            {"config", required_argument, NULL, 'c'},
            {"json", no_argument, NULL, 'j'},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *opt_config = NULL;
    bool json = false;
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":c:h", options, NULL)) != -1) {
        switch (o) {
        case 'c':
            opt_config = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            print_help(stdout);
            return CLI_EXIT_OK;
        case ':':
            return cli_usage_error("check", "option '%s' needs an argument", argv[optind - 1]);
        default:
            return cli_usage_error("check", "invalid option '%s'", argv[optind - 1]);
        }
    }

    const char *path = cli_config_path(opt_config);
    struct config *c = NULL;
    struct config_diags diags = {0};
    int r = config_load(path, &c, &diags);
    config_diags_print(&diags, stderr);
    config_diags_fini(&diags);
    if (r < 0)
        return CHECK_STATUS_UNKNOWN;

    size_t n = optind < argc ? (size_t)(argc - optind) : c->n_checks;
    const struct config_check **which = xcalloc(n ? n : 1, sizeof(*which));
    for (size_t i = 0; i < n; i++) {
        which[i] = optind < argc ? config_check_find(c, argv[optind + (int)i]) : &c->checks[i];
        if (!which[i]) {
            int status = unknown_check(c, argv[optind + (int)i]);
            free(which);
            config_unref(c);
            return status;
        }
    }
    struct check_observation *obs = xcalloc(n ? n : 1, sizeof(*obs));
    struct err e = {0};
    int status = CHECK_STATUS_OK;
    /* Commands run in the data dir, as under the daemon: it must exist. */
    const char *data_dir = config_server(c)->data_dir;
    if ((r = fs_mkdir_p(data_dir, 0750)) < 0)
        err_setf(&e, r, "data directory %s: %s", data_dir, hale_strerror(r));
    else
        r = checks_run_once(c, which, n, obs, &e);
    if (r < 0) {
        fprintf(stderr, "hale check: %s\n", e.msg);
        status = CHECK_STATUS_UNKNOWN;
    } else {
        if (json)
            print_json(which, obs, n);
        else
            print_plain(which, obs, n);
        for (size_t i = 0; i < n; i++)
            if (severity(obs[i].status) > severity((enum check_status)status))
                status = (int)obs[i].status;
    }
    for (size_t i = 0; i < n; i++)
        check_observation_fini(&obs[i]);
    free(obs);
    free(which);
    config_unref(c);
    return status;
}

const struct cli_command cli_check = {
        .name = "check",
        .summary = "run checks once, now, and print them as monitoring plugins do",
        .run = run,
};
