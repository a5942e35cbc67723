/* SPDX-License-Identifier: MIT */
/*
 * `hale routes test`: which route an event would take, and why. Reads
 * the configuration, builds the event from --label and --annotation, and
 * routes it through the engine's own routing code, offline: no daemon is
 * needed, so a change to the routes can be tried before it is deployed.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/internal.h"
#include "codec/json.h"
#include "config/config.h"
#include "engine/event.h"
#include "engine/fingerprint.h"
#include "engine/route.h"

#define CMD "routes test"

static void print_help(FILE *out)
{
    fprintf(out,
            "Usage: hale routes test [-c FILE] --label NAME=VALUE... [--annotation NAME=VALUE...]\n"
            "                        [--severity S] [--json]\n"
            "\n"
            "Shows which route an event with these labels would take, and why: each\n"
            "route in order, whether its matchers accept the event (and which of them\n"
            "refuse it, with the event's value), then the runbook, team, priority and\n"
            "notifiers that apply. The first matching route applies, and the routes\n"
            "after it too when it says continue: true; when none matches, the default\n"
            "applies: no runbook, no team, the priority from the incidents matrix.\n"
            "Reads the configuration only; no daemon is needed.\n"
            "\n"
            "Options:\n"
            "  -c, --config FILE         the configuration (default $HALE_CONFIG, else\n"
            "                            " CLI_DEFAULT_CONFIG ")\n"
            "  -l, --label NAME=VALUE    a label of the event; repeat for each (at least one)\n"
            "  -a, --annotation NAME=VALUE\n"
            "                            an annotation of the event (does not change routing)\n"
            "  -s, --severity S          critical, warning or info: the urgency the incidents\n"
            "                            matrix uses when no route sets a priority (default:\n"
            "                            the severity label when it is one of these, else\n"
            "                            warning)\n"
            "      --json                print the result as JSON\n"
            "  -h, --help                show this help\n"
            "\n"
            "Exit status: 0 a route matched; 1 no route matched (the default applies);\n"
            "2 the configuration is invalid; 64 bad usage.\n");
}

static void routes_help(FILE *out)
{
    fprintf(out, "Usage: hale routes test [-c FILE] --label NAME=VALUE... [--json]\n"
                 "\n"
                 "Commands:\n"
                 "  test   show which route an event with these labels would take, and why\n"
                 "\n"
                 "Run 'hale routes test --help' for its options.\n");
}

/* "name=value" into l; a usage error (returned) when it is not that. */
static const char *route_ref(size_t number, char buf[32])
{
    snprintf(buf, 32, "route %zu", number);
    return buf;
}

/* {a="b", c="d"}, quoted as matchers are, control characters shown as '?'. */
static void add_labels(struct strbuf *out, const struct labels *l)
{
    strbuf_addc(out, '{');
    for (size_t i = 0; i < l->n; i++) {
        strbuf_addf(out, "%s%s=\"", i ? ", " : "", l->v[i].name);
        for (const unsigned char *p = (const unsigned char *)l->v[i].value; *p; p++) {
            if (*p == '"' || *p == '\\')
                strbuf_addc(out, '\\');
            if (*p == '\n')
                strbuf_adds(out, "\\n");
            else
                strbuf_addc(out, *p < 0x20 || *p == 0x7f ? '?' : (char)*p);
        }
        strbuf_addc(out, '"');
    }
    strbuf_addc(out, '}');
}

/* Whether a route named notifier name already. */
static bool listed(const struct engine_route_result *res, const char *name)
{
    for (size_t i = 0; i < res->n_notifiers; i++)
        if (strcmp(res->notifiers[i]->name, name) == 0)
            return true;
    return false;
}

static void render_text(const struct config *c, const struct event *ev,
                        const struct engine_route_result *res, struct strbuf *out)
{
    char fp[ENGINE_FINGERPRINT_MAX], ref[32];
    strbuf_adds(out, "event ");
    add_labels(out, &ev->labels);
    strbuf_addf(out, ", %s, fingerprint %s\n\n", incident_severity_name(ev->severity),
                engine_fingerprint_format(
                        engine_fingerprint(&ev->labels, &c->engine.fingerprint_labels), fp));
    if (res->n_tries == 0)
        strbuf_adds(out, "no routes are configured\n");
    for (size_t i = 0; i < res->n_tries; i++) {
        const struct engine_route_try *t = &res->tries[i];
        strbuf_addf(out, "route %zu %s: %s\n", t->number, t->route->match_text, t->why);
    }
    strbuf_adds(out, "\n");
    if (!res->matched)
        strbuf_adds(out, "no route matched: the default applies\n");
    strbuf_addf(out, "runbook    %s", res->runbook ? res->runbook->name : "none");
    strbuf_addf(out, "%s%s%s\n", res->runbook ? "  (" : "",
                res->runbook ? route_ref(res->runbook_route, ref) : "", res->runbook ? ")" : "");
    strbuf_addf(out, "team       %s", res->team ? res->team->name : "none");
    strbuf_addf(out, "%s%s%s\n", res->team ? "  (" : "",
                res->team ? route_ref(res->team_route, ref) : "", res->team ? ")" : "");
    strbuf_addf(out, "priority   P%u  (%s)\n", res->priority,
                res->priority_route ? route_ref(res->priority_route, ref)
                                    : "the incidents matrix: impact medium, urgency of the "
                                      "severity");
    strbuf_adds(out, "notifiers  ");
    size_t shown = 0;
    for (size_t i = 0; i < res->n_notifiers; i++, shown++)
        strbuf_addf(out, "%s%s", shown ? ", " : "", res->notifiers[i]->name);
    for (size_t i = 0; res->team && i < res->team->notify.n; i++) {
        if (listed(res, res->team->notify.v[i]))
            continue;
        strbuf_addf(out, "%s%s (team %s)", shown++ ? ", " : "", res->team->notify.v[i],
                    res->team->name);
    }
    strbuf_adds(out, shown ? "\n" : "none\n");
}

static json_t *json_route_number(size_t number)
{
    return number ? json_integer((json_int_t)number) : json_null();
}

static json_t *render_json(const struct config *c, const struct event *ev,
                           const struct engine_route_result *res)
{
    char fp[ENGINE_FINGERPRINT_MAX], prio[4];
    json_t *routes = json_array();
    for (size_t i = 0; i < res->n_tries; i++) {
        const struct engine_route_try *t = &res->tries[i];
        json_array_append_new(routes,
                              json_pack("{s:I, s:o, s:s, s:o}", "route", (json_int_t)t->number,
                                        "match", codec_json_text(t->route->match_text), "outcome",
                                        engine_route_outcome_name(t->outcome), "why",
                                        codec_json_text(t->why)));
    }
    json_t *notifiers = json_array();
    for (size_t i = 0; i < res->n_notifiers; i++)
        json_array_append_new(notifiers, json_string(res->notifiers[i]->name));
    json_t *team_notifiers = json_array();
    for (size_t i = 0; res->team && i < res->team->notify.n; i++)
        json_array_append_new(team_notifiers, json_string(res->team->notify.v[i]));
    snprintf(prio, sizeof(prio), "P%u", res->priority);
    return json_pack("{s:o, s:o, s:s, s:s, s:o, s:b, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o}",
                     "labels", codec_json_labels(&ev->labels), "annotations",
                     codec_json_labels(&ev->annotations), "severity",
                     incident_severity_name(ev->severity), "fingerprint",
                     engine_fingerprint_format(
                             engine_fingerprint(&ev->labels, &c->engine.fingerprint_labels), fp),
                     "routes", routes, "matched", res->matched, "runbook",
                     res->runbook ? json_string(res->runbook->name) : json_null(), "runbook_route",
                     json_route_number(res->runbook_route), "team",
                     res->team ? json_string(res->team->name) : json_null(), "team_route",
                     json_route_number(res->team_route), "priority", prio, "priority_route",
                     json_route_number(res->priority_route), "notifiers", notifiers,
                     "team_notifiers", team_notifiers);
}

struct test_args {
    const char *config;
    bool json;
    struct event ev;
};

static int args_parse(int argc, char **argv, struct test_args *a)
{
    static const struct option options[] = {
            {"config", required_argument, NULL, 'c'},
            {"label", required_argument, NULL, 'l'},
            {"annotation", required_argument, NULL, 'a'},
            {"severity", required_argument, NULL, 's'},
            {"json", no_argument, NULL, CLI__OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    optind = 0;
    opterr = 0;
    bool severity_given = false;
    int o, r;
    while ((o = getopt_long(argc, argv, "+:c:l:a:s:h", options, NULL)) != -1) {
        switch (o) {
        case 'c':
            a->config = optarg;
            break;
        case 'l':
            if ((r = cli__label_arg(CMD, &a->ev.labels, "--label", optarg)) != 0)
                return r;
            break;
        case 'a':
            if ((r = cli__label_arg(CMD, &a->ev.annotations, "--annotation", optarg)) != 0)
                return r;
            break;
        case 's':
            if (incident_severity_parse(optarg, &a->ev.severity) < 0)
                return cli_usage_error(CMD, "--severity '%s': use critical, warning or info",
                                       optarg);
            severity_given = true;
            break;
        case CLI__OPT_JSON:
            a->json = true;
            break;
        case 'h':
            print_help(stdout);
            return CLI_EXIT_OK;
        default:
            return cli__option_error(CMD, argv, o);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (a->ev.labels.n == 0)
        return cli_usage_error(CMD, "give the event at least one --label NAME=VALUE");
    const char *sev = labels_get(&a->ev.labels, "severity");
    if (!severity_given && sev)
        (void)incident_severity_parse(sev, &a->ev.severity); /* else warning stays */
    return -1;
}

static int run_test(int argc, char **argv)
{
    struct test_args a = {0};
    event_init(&a.ev);
    a.ev.source = EVENT_SOURCE_API;
    int r = args_parse(argc, argv, &a);
    if (r >= 0) {
        event_fini(&a.ev);
        return r;
    }
    struct config *c = NULL;
    struct config_diags diags = {0};
    r = config_load(cli_config_path(a.config), &c, &diags);
    config_diags_print(&diags, stderr);
    config_diags_fini(&diags);
    if (r < 0) {
        event_fini(&a.ev);
        return CLI_EXIT_INVALID;
    }
    struct engine_route_result res;
    engine_route(c, &a.ev, &res);
    if (a.json) {
        json_t *j = render_json(c, &a.ev, &res);
        cli__json_print(j, stdout);
        json_decref(j);
    } else {
        struct strbuf out;
        strbuf_init(&out, 0);
        render_text(c, &a.ev, &res, &out);
        fputs(out.s, stdout);
        strbuf_fini(&out);
    }
    int status = res.matched ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
    engine_route_result_fini(&res);
    config_unref(c);
    event_fini(&a.ev);
    return status;
}

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("routes", "say what to do: test");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        routes_help(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "test") == 0)
        return run_test(argc - 1, argv + 1);
    return cli_usage_error("routes", "'%s' is not a routes command; use test", argv[1]);
}

const struct cli_command cli_routes = {
        .name = "routes",
        .summary = "show which route an event would take, and why",
        .run = run,
};
