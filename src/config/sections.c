/* SPDX-License-Identifier: MIT */
/*
 * The smaller sections: notifiers, teams, services and routes, each a list
 * of mappings parsed against its key table. Also the loop shared by every
 * section, which allocates the section's array in the arena and parses each
 * collected item into it.
 */
#include <string.h>

#include "base/alloc.h"
#include "config/internal.h"

const char *cfg_section_noun(enum cfg_section s, bool plural)
{
    static const char *const one[] = {"team", "notifier", "check", "service", "runbook", "route"};
    static const char *const many[] = {"teams",    "notifiers", "checks",
                                       "services", "runbooks",  "routes"};
    return plural ? many[s] : one[s];
}

void cfg_register(struct cfg_ctx *x, enum cfg_section s, struct cfg_file *f, const char *name,
                  void *obj, struct config_loc loc, struct config_loc name_loc)
{
    struct cfg_names *names = &x->names[s];
    if (names->n == names->cap) {
        names->cap = names->cap ? names->cap * 2 : 16;
        names->v = xreallocarray(names->v, names->cap, sizeof(*names->v));
    }
    names->v[names->n++] = (struct cfg_named){name, obj, loc, name_loc, f};
}

void cfg_register_named(const struct cfg_at *at, enum cfg_section s, const char *name, void *obj,
                        yaml_node_t *map, const struct cfg_seen *seen)
{
    yaml_node_t *n = cfg_seen_get(seen, "name");
    if (name && n)
        cfg_register(at->x, s, at->f, name, obj, cfg_loc(at->x, at->f, map),
                     cfg_loc(at->x, at->f, n));
}

void *cfg_parse_items(struct cfg_ctx *x, enum cfg_section s, size_t size, cfg_item_fn *fn,
                      size_t *ret_n)
{
    struct cfg_items *items = &x->items[s];
    char *v = arena_array(&x->c->arena, items->n ? items->n : 1, size);
    for (size_t i = 0; i < items->n; i++) {
        struct cfg_at at = {.x = x, .f = items->v[i].file};
        at.scope = cfg_scope(&at, cfg_section_noun(s, false), items->v[i].node, items->v[i].index);
        fn(&at, items->v[i].node, v + i * size);
    }
    *ret_n = items->n;
    return v;
}

const struct cfg_enum cfg_http_methods[] = {
        {"GET", CONFIG_HTTP_GET},         {"HEAD", CONFIG_HTTP_HEAD},
        {"POST", CONFIG_HTTP_POST},       {"PUT", CONFIG_HTTP_PUT},
        {"DELETE", CONFIG_HTTP_DELETE},   {"PATCH", CONFIG_HTTP_PATCH},
        {"OPTIONS", CONFIG_HTTP_OPTIONS}, {NULL, 0},
};

const struct cfg_enum cfg_on_failures[] = {
        {"abort", CONFIG_ON_FAILURE_ABORT},
        {"continue", CONFIG_ON_FAILURE_CONTINUE},
        {"escalate", CONFIG_ON_FAILURE_ESCALATE},
        {NULL, 0},
};

/* ---- notifiers ---- */

static const struct cfg_enum notifier_types[] = {
        {"webhook", CONFIG_NOTIFIER_WEBHOOK},     {"slack", CONFIG_NOTIFIER_SLACK},
        {"pagerduty", CONFIG_NOTIFIER_PAGERDUTY}, {"email", CONFIG_NOTIFIER_EMAIL},
        {"exec", CONFIG_NOTIFIER_EXEC},           {NULL, 0},
};

#define N(field) offsetof(struct config_notifier, field)

static const struct cfg_key notifier_common_keys[] = {
        {.name = "name", .type = CFG_NAME, .offset = N(name), .flags = CFG_REQUIRED},
        {.name = "type",
         .type = CFG_ENUM,
         .offset = N(type),
         .flags = CFG_REQUIRED,
         .enums = notifier_types},
        {.name = "description", .type = CFG_STRING, .offset = N(description)},
        {.name = "timeout",
         .type = CFG_DURATION,
         .offset = N(timeout_ms),
         .def = "10s",
         .min = 100,
         .max = 600 * 1000},
        {.name = NULL},
};

static const struct cfg_key webhook_keys[] = {
        {.name = "url",
         .type = CFG_URL,
         .offset = N(url),
         .flags = CFG_REQUIRED,
         .schemes = "http https"},
        {.name = "secret", .type = CFG_STRING, .offset = N(secret)},
        {.name = NULL},
};

static const struct cfg_key slack_keys[] = {
        {.name = "url",
         .type = CFG_URL,
         .offset = N(url),
         .flags = CFG_REQUIRED,
         .schemes = "http https"},
        {.name = NULL},
};

static const struct cfg_key pagerduty_keys[] = {
        {.name = "routing_key",
         .type = CFG_STRING,
         .offset = N(routing_key),
         .flags = CFG_REQUIRED},
        {.name = "url",
         .type = CFG_URL,
         .offset = N(url),
         .def = "https://events.pagerduty.com/v2/enqueue",
         .schemes = "http https"},
        {.name = NULL},
};

static void email_check(const struct cfg_at *at, yaml_node_t *map, const struct cfg_seen *seen,
                        void *obj)
{
    (void)map;
    const struct config_notifier *n = obj;
    yaml_node_t *to = cfg_seen_get(seen, "to");
    for (size_t i = 0; i < n->to.n; i++) {
        if (!strchr(n->to.v[i], '@')) {
            yaml_node_t *item = to->type == YAML_SEQUENCE_NODE
                                        ? cfg_node(at->f, to->data.sequence.items.start[i])
                                        : to;
            cfg_error(at->x, at->f, item, "expected an email address, got \"%s\"", n->to.v[i]);
        }
    }
}

static const struct cfg_key email_keys[] = {
        {.name = "smtp",
         .type = CFG_URL,
         .offset = N(smtp),
         .flags = CFG_REQUIRED,
         .schemes = "smtp smtps"},
        {.name = "from", .type = CFG_STRING, .offset = N(from), .def = "hale@localhost"},
        {.name = "to",
         .type = CFG_STRV,
         .offset = N(to),
         .flags = CFG_REQUIRED | CFG_ONE_OK | CFG_NONEMPTY},
        {.name = NULL},
};

static const struct cfg_key exec_keys[] = {
        {.name = "argv", .type = CFG_ARGV, .offset = N(argv), .flags = CFG_REQUIRED | CFG_NONEMPTY},
        {.name = "cwd", .type = CFG_PATH, .offset = N(cwd), .flags = CFG_KEEP},
        {.name = NULL},
};

static const struct cfg_table notifier_common = {"a notifier", notifier_common_keys, NULL};
static const struct cfg_table notifier_kinds[] = {
        {"a webhook notifier", webhook_keys, NULL},
        {"a slack notifier", slack_keys, NULL},
        {"a pagerduty notifier", pagerduty_keys, NULL},
        {"an email notifier", email_keys, email_check},
        {"an exec notifier", exec_keys, NULL},
};
static const struct cfg_table *const notifier_all_kinds[] = {
        &notifier_kinds[0], &notifier_kinds[1], &notifier_kinds[2],
        &notifier_kinds[3], &notifier_kinds[4], NULL,
};

int cfg_enum_find(const struct cfg_enum *e, const yaml_node_t *node)
{
    if (!cfg_is_scalar(node))
        return -1;
    for (; e->name; e++)
        if (strcmp(e->name, cfg_scalar(node)) == 0)
            return e->value;
    return -1;
}

static void notifier_item(const struct cfg_at *at, yaml_node_t *node, void *obj)
{
    struct config_notifier *n = obj;
    n->cwd = at->x->c->server.data_dir;
    int kind = cfg_enum_find(notifier_types, cfg_map_get(at->f, node, "type"));
    const struct cfg_table *tables[] = {&notifier_common, kind >= 0 ? &notifier_kinds[kind] : NULL,
                                        NULL};
    struct cfg_seen seen;
    if (!cfg_parse_map(at, node, tables, notifier_all_kinds, kind < 0, n, &seen))
        return;
    n->loc = cfg_loc(at->x, at->f, node);
    cfg_register_named(at, CFG_NOTIFIERS, n->name, n, node, &seen);
}

void cfg_parse_notifiers(struct cfg_ctx *x)
{
    x->c->notifiers = cfg_parse_items(x, CFG_NOTIFIERS, sizeof(struct config_notifier),
                                      notifier_item, &x->c->n_notifiers);
}

/* ---- teams ---- */

#define T(field) offsetof(struct config_team, field)

static const struct cfg_key team_keys[] = {
        {.name = "name", .type = CFG_NAME, .offset = T(name), .flags = CFG_REQUIRED},
        {.name = "description", .type = CFG_STRING, .offset = T(description)},
        {.name = "notify",
         .type = CFG_REFV,
         .offset = T(notify),
         .flags = CFG_ONE_OK,
         .aux_offset = T(notifiers),
         .section = CFG_NOTIFIERS},
        {.name = NULL},
};

static const struct cfg_table team_table = {"a team", team_keys, NULL};

static void team_item(const struct cfg_at *at, yaml_node_t *node, void *obj)
{
    struct config_team *t = obj;
    const struct cfg_table *tables[] = {&team_table, NULL};
    struct cfg_seen seen;
    if (!cfg_parse_map(at, node, tables, NULL, false, t, &seen))
        return;
    t->loc = cfg_loc(at->x, at->f, node);
    cfg_register_named(at, CFG_TEAMS, t->name, t, node, &seen);
}

void cfg_parse_teams(struct cfg_ctx *x)
{
    x->c->teams =
            cfg_parse_items(x, CFG_TEAMS, sizeof(struct config_team), team_item, &x->c->n_teams);
}

/* ---- services ---- */

/* depends_on: [a, b] (all of them) or {any_of: [a, b]} (at least one). */
static bool parse_depends(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                          void *obj)
{
    struct config_service *s = obj;
    yaml_node_t *list = node;
    if (node->type == YAML_MAPPING_NODE) {
        yaml_node_t *any = cfg_map_get(at->f, node, "any_of");
        yaml_node_t *all = cfg_map_get(at->f, node, "all_of");
        size_t pairs = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
        if (pairs != 1 || (!any && !all)) {
            cfg_error(at->x, at->f, node,
                      "expected a list of services, or a mapping with one key, any_of or all_of");
            return false;
        }
        s->depends = any ? CONFIG_DEPENDS_ANY : CONFIG_DEPENDS_ALL;
        list = any ? any : all;
    }
    const struct cfg_key names_key = {
            .name = key->name,
            .type = CFG_REFV,
            .offset = offsetof(struct config_service, depends_on),
            .flags = CFG_ONE_OK,
            .aux_offset = offsetof(struct config_service, deps),
            .section = CFG_SERVICES,
    };
    return cfg_parse_value(at, &names_key, list, obj);
}

#define SV(field) offsetof(struct config_service, field)

static const struct cfg_key service_keys[] = {
        {.name = "name", .type = CFG_NAME, .offset = SV(name), .flags = CFG_REQUIRED},
        {.name = "description", .type = CFG_STRING, .offset = SV(description)},
        {.name = "depends_on", .type = CFG_CUSTOM, .offset = 0, .custom = parse_depends},
        {.name = NULL},
};

static const struct cfg_table service_table = {"a service", service_keys, NULL};

static void service_item(const struct cfg_at *at, yaml_node_t *node, void *obj)
{
    struct config_service *s = obj;
    const struct cfg_table *tables[] = {&service_table, NULL};
    struct cfg_seen seen;
    if (!cfg_parse_map(at, node, tables, NULL, false, s, &seen))
        return;
    s->loc = cfg_loc(at->x, at->f, node);
    cfg_register_named(at, CFG_SERVICES, s->name, s, node, &seen);
}

void cfg_parse_services(struct cfg_ctx *x)
{
    x->c->services = cfg_parse_items(x, CFG_SERVICES, sizeof(struct config_service), service_item,
                                     &x->c->n_services);
}

/* ---- routes ---- */

static const struct cfg_enum priorities[] = {
        {"P1", 1}, {"P2", 2}, {"P3", 3}, {"P4", 4}, {"P5", 5}, {NULL, 0},
};

#define R(field) offsetof(struct config_route, field)

static const struct cfg_key route_keys[] = {
        {.name = "match",
         .type = CFG_MATCHER,
         .offset = R(match),
         .def = "{}",
         .flags = CFG_AUX,
         .aux_offset = R(match_text)},
        {.name = "runbook",
         .type = CFG_REF,
         .offset = R(runbook_name),
         .aux_offset = R(runbook),
         .section = CFG_RUNBOOKS},
        {.name = "team",
         .type = CFG_REF,
         .offset = R(team_name),
         .aux_offset = R(team),
         .section = CFG_TEAMS},
        {.name = "priority",
         .type = CFG_ENUM,
         .offset = R(priority),
         .def = "P3",
         .enums = priorities},
        {.name = "notifiers",
         .type = CFG_REFV,
         .offset = R(notifiers),
         .flags = CFG_ONE_OK,
         .aux_offset = R(notifier_refs),
         .section = CFG_NOTIFIERS},
        {.name = "continue", .type = CFG_BOOL, .offset = R(continue_matching), .def = "false"},
        {.name = NULL},
};

static const struct cfg_table route_table = {"a route", route_keys, NULL};

static void route_item(const struct cfg_at *at, yaml_node_t *node, void *obj)
{
    struct config_route *r = obj;
    const struct cfg_table *tables[] = {&route_table, NULL};
    struct cfg_seen seen;
    if (cfg_parse_map(at, node, tables, NULL, false, r, &seen))
        r->loc = cfg_loc(at->x, at->f, node);
}

void cfg_parse_routes(struct cfg_ctx *x)
{
    x->c->routes = cfg_parse_items(x, CFG_ROUTES, sizeof(struct config_route), route_item,
                                   &x->c->n_routes);
}
