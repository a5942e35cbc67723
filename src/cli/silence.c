/* SPDX-License-Identifier: MIT */
/*
 * `hale silence add|list|show|expire`: silences and maintenance windows
 * through the API (POST and GET /api/v1/silences, GET and DELETE
 * /api/v1/silences/{id}). A silence holds back the events its matchers
 * accept while it is active: they are recorded but open nothing and page
 * no one. The configuration's silences have negative ids (-1, -2, ...),
 * which are taken as ids here, not as options.
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
#include "base/clock.h"
#include "base/strbuf.h"
#include "base/units.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

/* Silences per page when listing; every page is read. */
#define LIST_PAGE      "500"
/* A list stops after this many pages (a quarter of a million silences). */
#define LIST_MAX_PAGES 500

enum {
    OPT_FOR = CLI__OPT_FIRST_FREE,
    OPT_UNTIL,
    OPT_WEEKLY,
    OPT_UNTIL_RESOLVED,
    OPT_FROM,
    OPT_COMMENT,
    OPT_STATE,
    OPT_ALL,
};

enum sil_sub {
    SIL_ADD,
    SIL_LIST,
    SIL_SHOW,
    SIL_EXPIRE,
};

struct sil_args {
    const char *cmd;
    enum sil_sub sub;
    struct cli__remote remote;
    bool json;
    const char *matchers;                           /* add */
    const char *dur, *until, *weekly, *from, *text; /* add */
    int64_t incident;                               /* add --until-resolved */
    const char *state;                              /* list */
    bool all;                                       /* list */
    int64_t id;                                     /* show, expire */
};

static const char *const sub_names[] = {"add", "list", "show", "expire"};
static const char *const sub_cmds[] = {"silence add", "silence list", "silence show",
                                       "silence expire"};
static const char *const usages[] = {
        "hale silence add MATCHERS (--for DUR | --until TIME | --weekly SPEC |\n"
        "                           --until-resolved N) [--from TIME] [--comment TEXT] [--json]",
        "hale silence list [--state S[,S]] [--all] [--json]",
        "hale silence show N [--json]",
        "hale silence expire N [--json]",
};
static const char *const abouts[] = {
        "Silences the events MATCHERS accept ({service=\"web\"}, the label matchers of\n"
        "routes): while the silence is active they are recorded but open nothing and\n"
        "page no one. Say how long with one of:\n"
        "\n"
        "      --for DUR           from now (or --from) for a duration: 2h, 30m, 1h30m\n"
        "      --until TIME        until an RFC 3339 time: 2026-12-25T06:00:00Z\n"
        "      --weekly SPEC       every week inside a window: \"Mon-Fri 22:00-06:00\" (the\n"
        "                          daemon's local time); with --for or --until it stops then\n"
        "      --until-resolved N  until incident N resolves; with --for or --until, at most\n"
        "                          until then\n"
        "      --from TIME         start at an RFC 3339 time instead of now\n"
        "      --comment TEXT      why: it shows in lists and on incidents' timelines\n"
        "      --json              print the silence as the API answers it\n",
        "Lists silences, newest first, then the configuration's (negative ids): ID,\n"
        "STATE, MATCHERS, WHEN, COMMENT, CREATED_BY. Expired ones are history, left out\n"
        "unless asked for.\n"
        "\n"
        "      --state S[,S]  only these states: active, pending, expired\n"
        "      --all          every silence, expired ones too\n"
        "      --json         print the API's JSON instead of a table\n",
        "Shows silence N: its matchers, state, when it holds events back, who made it\n"
        "and why, and how it ended. N is negative for the configuration's.\n"
        "\n"
        "      --json         print the API's JSON\n",
        "Ends silence N now: the events it held back open incidents again. The\n"
        "configuration's silences are ended by editing the configuration.\n"
        "\n"
        "      --json         print the silence as the API answers it\n",
};

static void help_all(FILE *out)
{
    fprintf(out,
            "Usage: %s\n       %s\n       %s\n       %s\n\n"
            "A silence holds back the events its matchers accept while it is active: a\n"
            "deploy, a maintenance window, a failure already being worked. Held-back\n"
            "events are recorded but open nothing and page no one. Silences live in\n"
            "hale's store and survive restarts; expired ones stay in the history.\n\n"
            "add: %s\nlist: %s\nshow: %s\nexpire: %s\n%s",
            usages[0], usages[1], usages[2], usages[3], abouts[0], abouts[1], abouts[2], abouts[3],
            CLI__REMOTE_HELP);
}

static void help_one(FILE *out, enum sil_sub sub)
{
    fprintf(out, "Usage: %s\n\n%s%s", usages[sub], abouts[sub], CLI__REMOTE_HELP);
}

/* Whether s is a negative whole number: an id of the configuration's, not an option. */
static bool is_negative_id(const char *s)
{
    if (s[0] != '-' || !s[1])
        return false;
    for (const char *p = s + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

static int id_parse(const struct sil_args *a, const char *s, int64_t *ret)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (*end || end == s || v == 0 || (*s != '-' && (*s < '0' || *s > '9')))
        return cli_usage_error(a->cmd,
                               "'%s' is not a silence number (1, 2, ...; -1, -2, ... for the "
                               "configuration's)",
                               s);
    *ret = v;
    return -1;
}

static int time_check(const struct sil_args *a, const char *opt, const char *s)
{
    int64_t t;
    if (clock_parse_rfc3339_ms(s, &t) == 0)
        return -1;
    return cli_usage_error(a->cmd, "%s '%s' is not an RFC 3339 time (2026-12-25T06:00:00Z)", opt,
                           s);
}

static int add_option(int o, struct sil_args *a)
{
    uint64_t ms;
    switch (o) {
    case OPT_FOR:
        if (units_duration_parse(optarg, &ms, NULL, NULL) < 0 || ms == 0)
            return cli_usage_error(a->cmd, "--for '%s' is not a duration longer than 0 (2h, 30m)",
                                   optarg);
        a->dur = optarg;
        return -1;
    case OPT_UNTIL:
        a->until = optarg;
        return time_check(a, "--until", optarg);
    case OPT_FROM:
        a->from = optarg;
        return time_check(a, "--from", optarg);
    case OPT_WEEKLY:
        a->weekly = optarg;
        return -1;
    case OPT_UNTIL_RESOLVED:
        if (cli__id_parse(optarg, &a->incident) < 0)
            return cli_usage_error(a->cmd, "--until-resolved '%s' is not an incident number",
                                   optarg);
        return -1;
    case OPT_COMMENT:
        a->text = optarg;
        return -1;
    }
    return -1;
}

/* Returns -1 to go on, else the exit status. */
static int option_value(int o, char **argv, struct sil_args *a)
{
    switch (o) {
    case CLI__OPT_URL:
        a->remote.url = optarg;
        return -1;
    case CLI__OPT_TOKEN:
        a->remote.token = optarg;
        return -1;
    case CLI__OPT_JSON:
        a->json = true;
        return -1;
    case OPT_STATE:
        a->state = optarg;
        return a->sub == SIL_LIST ? -1 : cli_usage_error(a->cmd, "unknown option '--state'");
    case OPT_ALL:
        a->all = true;
        return a->sub == SIL_LIST ? -1 : cli_usage_error(a->cmd, "unknown option '--all'");
    }
    if (o >= OPT_FOR && o <= OPT_COMMENT) {
        static const char *const add_only[] = {"--for",  "--until",  "--weekly", "--until-resolved",
                                               "--from", "--comment"};
        if (a->sub != SIL_ADD)
            return cli_usage_error(a->cmd, "unknown option '%s'", add_only[o - OPT_FOR]);
        return add_option(o, a);
    }
    return cli__option_error(a->cmd, argv, o);
}

static int add_check(struct sil_args *a)
{
    if (!a->dur && !a->until && !a->weekly && !a->incident)
        return cli_usage_error(a->cmd,
                               "say how long: --for, --until, --weekly or --until-resolved");
    if (a->dur && a->until)
        return cli_usage_error(a->cmd, "--for and --until both say when it ends: give one");
    if (a->text && !*a->text)
        return cli_usage_error(a->cmd, "--comment is empty: say why, or leave it out");
    if (!*a->matchers)
        return cli_usage_error(a->cmd, "MATCHERS is empty: say what to silence, such as "
                                       "'{service=\"web\"}'");
    return -1;
}

static int state_check(const struct sil_args *a)
{
    _cleanup_free_ char *copy = xstrdup(a->state);
    char *save = NULL;
    bool any = false;
    for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        if (strcmp(w, "active") != 0 && strcmp(w, "pending") != 0 && strcmp(w, "expired") != 0)
            return cli_usage_error(a->cmd, "--state: '%s' is not active, pending or expired", w);
        any = true;
    }
    return any ? -1 : cli_usage_error(a->cmd, "--state is empty: active, pending or expired");
}

/*
 * Takes the negative ids out of argv (getopt would read "-1" as an
 * option) into *ret_id_arg; argv keeps the rest, in order.
 */
static int negative_ids_take(int *argc, char **argv, const struct sil_args *a,
                             const char **ret_id_arg)
{
    int kept = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < *argc)
                argv[kept++] = argv[i++];
            break;
        }
        if (!is_negative_id(argv[i])) {
            argv[kept++] = argv[i];
            continue;
        }
        if (a->sub != SIL_SHOW && a->sub != SIL_EXPIRE)
            return cli_usage_error(a->cmd, "unknown option '%s'", argv[i]);
        if (*ret_id_arg)
            return cli_usage_error(a->cmd, "unexpected argument '%s'", argv[i]);
        *ret_id_arg = argv[i];
    }
    *argc = kept;
    return -1;
}

/* The positional argument: MATCHERS for add, N for show and expire. */
static int positional(int argc, char **argv, struct sil_args *a, const char *id_arg)
{
    int want = a->sub == SIL_LIST ? 0 : 1;
    int have = argc - optind + (id_arg ? 1 : 0);
    const char *what =
            a->sub == SIL_ADD ? "MATCHERS, such as '{service=\"web\"}'" : "the silence number N";
    if (have < want)
        return cli_usage_error(a->cmd, "missing %s", what);
    if (have > want)
        return cli_usage_error(a->cmd, "unexpected argument '%s'",
                               id_arg ? argv[optind] : argv[optind + want]);
    if (a->sub == SIL_ADD) {
        a->matchers = argv[optind];
        return add_check(a);
    }
    if (a->sub == SIL_LIST)
        return a->state ? state_check(a) : -1;
    return id_parse(a, id_arg ? id_arg : argv[optind], &a->id);
}

/* Returns -1 to go on, else the exit status. */
static int args_parse(int argc, char **argv, struct sil_args *a)
{
    static const struct option options[] = {
            {"url", required_argument, NULL, CLI__OPT_URL},
            {"token", required_argument, NULL, CLI__OPT_TOKEN},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"for", required_argument, NULL, OPT_FOR},
            {"until", required_argument, NULL, OPT_UNTIL},
            {"weekly", required_argument, NULL, OPT_WEEKLY},
            {"until-resolved", required_argument, NULL, OPT_UNTIL_RESOLVED},
            {"from", required_argument, NULL, OPT_FROM},
            {"comment", required_argument, NULL, OPT_COMMENT},
            {"state", required_argument, NULL, OPT_STATE},
            {"all", no_argument, NULL, OPT_ALL},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    const char *id_arg = NULL;
    int r = negative_ids_take(&argc, argv, a, &id_arg);
    if (r >= 0)
        return r;
    optind = 0;
    opterr = 0;
    int o;
    while ((o = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
        if (o == 'h') {
            help_one(stdout, a->sub);
            return CLI_EXIT_OK;
        }
        if ((r = option_value(o, argv, a)) >= 0)
            return r;
    }
    return positional(argc, argv, a, id_arg);
}

/* ---- the requests ---- */

static int failed(const struct sil_args *a, const struct err *e)
{
    fprintf(stderr, "hale %s: %s\n", a->cmd, e->msg);
    return CLI_EXIT_FAILURE;
}

/* The body of an add; NULL after a usage error (a text that is not UTF-8), in *ret_status. */
static json_t *add_body(const struct sil_args *a, int *ret_status)
{
    json_t *body = json_object();
    const char *const fields[][3] = {
            {"matchers", a->matchers, "MATCHERS"}, {"for", a->dur, "--for"},
            {"ends", a->until, "--until"},         {"starts", a->from, "--from"},
            {"weekly", a->weekly, "--weekly"},     {"comment", a->text, "--comment"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        if (!fields[i][1])
            continue;
        json_t *s = json_string(fields[i][1]);
        if (!s) {
            json_decref(body);
            *ret_status = cli_usage_error(a->cmd, "%s is not valid UTF-8", fields[i][2]);
            return NULL;
        }
        json_object_set_new(body, fields[i][0], s);
    }
    if (a->incident)
        json_object_set_new(body, "incident", json_integer(a->incident));
    return body;
}

/* "silence 3 {service="web"} added: active, ends in 1h", "silence 3 {service="web"} expired" */
static void say(const char *verb, const json_t *silence)
{
    const char *matchers = json_string_value(json_object_get(silence, "matchers"));
    printf("silence %lld %s %s", (long long)json_integer_value(json_object_get(silence, "id")),
           matchers ? matchers : "-", verb);
    const char *state = json_string_value(json_object_get(silence, "state"));
    if (state && strcmp(state, "expired") != 0) {
        struct strbuf when;
        strbuf_init(&when, 0);
        cli__silence_when(silence, (int64_t)clock_real_ms(&clock_system), &when);
        printf(": %s, %s", state, when.s);
        strbuf_fini(&when);
    }
    printf("\n");
}

static int run_add(struct cli_client *c, const struct sil_args *a)
{
    int status = CLI_EXIT_OK;
    json_t *body = add_body(a, &status);
    if (!body)
        return status;
    json_t *answer = NULL;
    struct err e = {0};
    int r = cli_client_json(c, "POST", "/api/v1/silences", body, &answer, &e);
    json_decref(body);
    if (r < 0)
        return failed(a, &e);
    if (a->json)
        cli__json_print(answer, stdout);
    else
        say("added", json_object_get(answer, "silence"));
    json_decref(answer);
    return CLI_EXIT_OK;
}

static void list_path(const char *cursor, const void *arg, struct strbuf *out)
{
    const struct sil_args *a = arg;
    strbuf_adds(out, "/api/v1/silences");
    if (a->state)
        cli_url_query_add(out, "state", a->state);
    else if (!a->all)
        cli_url_query_add(out, "state", "active,pending");
    cli_url_query_add(out, "limit", LIST_PAGE);
    if (cursor)
        cli_url_query_add(out, "cursor", cursor);
}

static int run_list(struct cli_client *c, const struct sil_args *a)
{
    json_t *answer;
    struct err e = {0};
    if (cli_client_list(c, "silences", true, LIST_MAX_PAGES, list_path, a, &answer, &e) < 0)
        return failed(a, &e);
    const json_t *items = json_object_get(answer, "silences");
    if (a->json) {
        cli__json_print(answer, stdout);
    } else if (json_array_size(items) == 0) {
        fprintf(stderr, "hale: no silences%s\n",
                a->state ? " match"
                : a->all ? ""
                         : " in force (--all shows expired ones)");
    } else {
        struct cli__style st;
        cli__style_for(STDOUT_FILENO, &st);
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__silences_table(items, &st, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run_one(struct cli_client *c, const struct sil_args *a)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/silences/%lld", (long long)a->id);
    json_t *answer;
    struct err e = {0};
    if (cli_client_json(c, a->sub == SIL_EXPIRE ? "DELETE" : "GET", path, NULL, &answer, &e) < 0)
        return failed(a, &e);
    const json_t *sl = json_object_get(answer, "silence");
    if (a->json) {
        cli__json_print(answer, stdout);
    } else if (a->sub == SIL_EXPIRE) {
        say("expired", sl);
    } else {
        struct strbuf out;
        strbuf_init(&out, 0);
        cli__silence_fields(sl, (int64_t)clock_real_ms(&clock_system), &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    json_decref(answer);
    return CLI_EXIT_OK;
}

static int run_sub(const struct sil_args *a)
{
    struct cli_client *c = cli_client_new(a->remote.url, a->remote.token);
    int status = a->sub == SIL_ADD    ? run_add(c, a)
                 : a->sub == SIL_LIST ? run_list(c, a)
                                      : run_one(c, a);
    cli_client_free(c);
    return status;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("silence", "say what to do: add, list, show or expire");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        help_all(stdout);
        return CLI_EXIT_OK;
    }
    for (unsigned i = 0; i < ARRAY_SIZE(sub_names); i++) {
        if (strcmp(argv[1], sub_names[i]) != 0)
            continue;
        struct sil_args a = {.cmd = sub_cmds[i], .sub = (enum sil_sub)i};
        int r = args_parse(argc - 1, argv + 1, &a);
        return r >= 0 ? r : run_sub(&a);
    }
    return cli_usage_error("silence",
                           "'%s' is not a silence command; use add, list, show or expire", argv[1]);
}

const struct cli_command cli_silence = {
        .name = "silence",
        .summary = "add, list, show and expire silences: maintenance windows",
        .run = run,
};
