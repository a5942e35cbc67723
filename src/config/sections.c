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

const char *config__section_noun(enum config__section s, bool plural)
{
    static const char *const one[] = {"team",    "notifier", "check",  "service",
                                      "runbook", "route",    "silence"};
    static const char *const many[] = {"teams",    "notifiers", "checks",  "services",
                                       "runbooks", "routes",    "silences"};
    return plural ? many[s] : one[s];
}

void config__register(struct config__ctx *x, enum config__section s, struct config__file *f,
                      const char *name, void *obj, struct config_loc loc,
                      struct config_loc name_loc)
{
    struct config__names *names = &x->names[s];
    if (names->n == names->cap) {
        names->cap = names->cap ? names->cap * 2 : 16;
        names->v = xreallocarray(names->v, names->cap, sizeof(*names->v));
    }
    names->v[names->n++] = (struct config__named){name, obj, loc, name_loc, f};
}

void config__register_named(const struct config__at *at, enum config__section s, const char *name,
                            void *obj, yaml_node_t *map, const struct config__seen *seen)
{
    yaml_node_t *n = config__seen_get(seen, "name");
    if (name && n)
        config__register(at->x, s, at->f, name, obj, config__loc(at->x, at->f, map),
                         config__loc(at->x, at->f, n));
}

void *config__parse_items(struct config__ctx *x, enum config__section s, size_t size,
                          config__item_fn *fn, size_t *ret_n)
{
    struct config__items *items = &x->items[s];
    char *v = arena_array(&x->c->arena, items->n ? items->n : 1, size);
    for (size_t i = 0; i < items->n; i++) {
        struct config__at at = {.x = x, .f = items->v[i].file};
        at.scope = config__scope(&at, config__section_noun(s, false), items->v[i].node,
                                 items->v[i].index);
        fn(&at, items->v[i].node, v + i * size);
    }
    *ret_n = items->n;
    return v;
}

const struct config__enum config__http_methods[] = {
        {"GET", CONFIG_HTTP_GET},         {"HEAD", CONFIG_HTTP_HEAD},
        {"POST", CONFIG_HTTP_POST},       {"PUT", CONFIG_HTTP_PUT},
        {"DELETE", CONFIG_HTTP_DELETE},   {"PATCH", CONFIG_HTTP_PATCH},
        {"OPTIONS", CONFIG_HTTP_OPTIONS}, {NULL, 0},
};

const struct config__enum config__on_failures[] = {
        {"abort", CONFIG_ON_FAILURE_ABORT},
        {"continue", CONFIG_ON_FAILURE_CONTINUE},
        {"escalate", CONFIG_ON_FAILURE_ESCALATE},
        {NULL, 0},
};

/* ---- notifiers ---- */

static const struct config__enum notifier_types[] = {
        {"webhook", CONFIG_NOTIFIER_WEBHOOK},     {"slack", CONFIG_NOTIFIER_SLACK},
        {"pagerduty", CONFIG_NOTIFIER_PAGERDUTY}, {"email", CONFIG_NOTIFIER_EMAIL},
        {"exec", CONFIG_NOTIFIER_EXEC},           {NULL, 0},
};

#define N(field)  offsetof(struct config_notifier, field)
#define NR(field) offsetof(struct config_notifier_retry, field)

static const struct config__key notifier_retry_keys[] = {
        {.name = "backoff",
         .type = CONFIG__DURATION,
         .offset = NR(backoff_ms),
         .flags = CONFIG__KEEP,
         .min = 100,
         .max = 3600 * 1000},
        {.name = "max",
         .type = CONFIG__DURATION,
         .offset = NR(max_ms),
         .flags = CONFIG__KEEP,
         .min = 100,
         .max = 86400 * 1000},
        {.name = "give_up_after",
         .type = CONFIG__DURATION,
         .offset = NR(give_up_after_ms),
         .flags = CONFIG__KEEP,
         .min = 1000,
         .max = 30 * 86400 * 1000ull},
        {.name = NULL},
};

static const struct config__table notifier_retry_table = {"retry", notifier_retry_keys, NULL};

static const struct config__key notifier_common_keys[] = {
        {.name = "name", .type = CONFIG__NAME, .offset = N(name), .flags = CONFIG__REQUIRED},
        {.name = "type",
         .type = CONFIG__ENUM,
         .offset = N(type),
         .flags = CONFIG__REQUIRED,
         .enums = notifier_types},
        {.name = "description", .type = CONFIG__STRING, .offset = N(description)},
        {.name = "timeout",
         .type = CONFIG__DURATION,
         .offset = N(timeout_ms),
         .def = "10s",
         .min = 100,
         .max = 600 * 1000},
        {.name = "retry",
         .type = CONFIG__SUB,
         .offset = N(retry),
         .flags = CONFIG__KEEP,
         .sub = &notifier_retry_table},
        {.name = "template",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__KEEP,
         .custom = config__parse_template},
        {.name = NULL},
};

static const struct config__key webhook_keys[] = {
        {.name = "url",
         .type = CONFIG__URL,
         .offset = N(url),
         .flags = CONFIG__REQUIRED,
         .schemes = "http https"},
        {.name = "secret", .type = CONFIG__STRING, .offset = N(secret)},
        {.name = NULL},
};

static const struct config__key slack_keys[] = {
        {.name = "url",
         .type = CONFIG__URL,
         .offset = N(url),
         .flags = CONFIG__REQUIRED,
         .schemes = "http https"},
        {.name = NULL},
};

static const struct config__key pagerduty_keys[] = {
        {.name = "routing_key",
         .type = CONFIG__STRING,
         .offset = N(routing_key),
         .flags = CONFIG__REQUIRED},
        {.name = "url",
         .type = CONFIG__URL,
         .offset = N(url),
         .def = "https://events.pagerduty.com/v2/enqueue",
         .schemes = "http https"},
        {.name = NULL},
};

static void email_check(const struct config__at *at, yaml_node_t *map,
                        const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_notifier *n = obj;
    yaml_node_t *to = config__seen_get(seen, "to");
    for (size_t i = 0; i < n->to.n; i++) {
        if (!strchr(n->to.v[i], '@')) {
            yaml_node_t *item = to->type == YAML_SEQUENCE_NODE
                                        ? config__node(at->f, to->data.sequence.items.start[i])
                                        : to;
            config__error(at->x, at->f, item, "expected an email address, got \"%s\"", n->to.v[i]);
        }
    }
}

static const struct config__key email_keys[] = {
        {.name = "smtp",
         .type = CONFIG__URL,
         .offset = N(smtp),
         .flags = CONFIG__REQUIRED,
         .schemes = "smtp smtps"},
        {.name = "from", .type = CONFIG__STRING, .offset = N(from), .def = "hale@localhost"},
        {.name = "to",
         .type = CONFIG__STRV,
         .offset = N(to),
         .flags = CONFIG__REQUIRED | CONFIG__ONE_OK | CONFIG__NONEMPTY},
        {.name = NULL},
};

static const struct config__key exec_keys[] = {
        {.name = "argv",
         .type = CONFIG__ARGV,
         .offset = N(argv),
         .flags = CONFIG__REQUIRED | CONFIG__NONEMPTY},
        {.name = "cwd", .type = CONFIG__PATH, .offset = N(cwd), .flags = CONFIG__KEEP},
        {.name = NULL},
};

static const struct config__table notifier_common = {"a notifier", notifier_common_keys, NULL};
static const struct config__table notifier_kinds[] = {
        {"a webhook notifier", webhook_keys, NULL},
        {"a slack notifier", slack_keys, NULL},
        {"a pagerduty notifier", pagerduty_keys, NULL},
        {"an email notifier", email_keys, email_check},
        {"an exec notifier", exec_keys, NULL},
};
static const struct config__table *const notifier_all_kinds[] = {
        &notifier_kinds[0], &notifier_kinds[1], &notifier_kinds[2],
        &notifier_kinds[3], &notifier_kinds[4], NULL,
};

int config__enum_find(const struct config__enum *e, const yaml_node_t *node)
{
    if (!config__is_scalar(node))
        return -1;
    for (; e->name; e++)
        if (strcmp(e->name, config__scalar(node)) == 0)
            return e->value;
    return -1;
}

static void notifier_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_notifier *n = obj;
    n->cwd = at->x->c->server.data_dir;
    n->retry = (struct config_notifier_retry){
            .backoff_ms = 2000, .max_ms = 300 * 1000, .give_up_after_ms = 86400 * 1000};
    int kind = config__enum_find(notifier_types, config__map_get(at->f, node, "type"));
    const struct config__table *tables[] = {&notifier_common,
                                            kind >= 0 ? &notifier_kinds[kind] : NULL, NULL};
    struct config__seen seen;
    if (!config__parse_map(at, node, tables, notifier_all_kinds, kind < 0, n, &seen))
        return;
    n->loc = config__loc(at->x, at->f, node);
    config__register_named(at, CONFIG__NOTIFIERS, n->name, n, node, &seen);
}

void config__parse_notifiers(struct config__ctx *x)
{
    x->c->notifiers = config__parse_items(x, CONFIG__NOTIFIERS, sizeof(struct config_notifier),
                                          notifier_item, &x->c->n_notifiers);
}

/* ---- services ---- */

/* depends_on: [a, b] (all of them) or {any_of: [a, b]} (at least one). */
static bool parse_depends(const struct config__at *at, const struct config__key *key,
                          yaml_node_t *node, void *obj)
{
    struct config_service *s = obj;
    yaml_node_t *list = node;
    if (node->type == YAML_MAPPING_NODE) {
        yaml_node_t *any = config__map_get(at->f, node, "any_of");
        yaml_node_t *all = config__map_get(at->f, node, "all_of");
        size_t pairs = (size_t)(node->data.mapping.pairs.top - node->data.mapping.pairs.start);
        if (pairs != 1 || (!any && !all)) {
            config__error(
                    at->x, at->f, node,
                    "expected a list of services, or a mapping with one key, any_of or all_of");
            return false;
        }
        s->depends = any ? CONFIG_DEPENDS_ANY : CONFIG_DEPENDS_ALL;
        list = any ? any : all;
    }
    const struct config__key names_key = {
            .name = key->name,
            .type = CONFIG__REFV,
            .offset = offsetof(struct config_service, depends_on),
            .flags = CONFIG__ONE_OK,
            .aux_offset = offsetof(struct config_service, deps),
            .section = CONFIG__SERVICES,
    };
    return config__parse_value(at, &names_key, list, obj);
}

#define SV(field) offsetof(struct config_service, field)

static const struct config__key service_keys[] = {
        {.name = "name", .type = CONFIG__NAME, .offset = SV(name), .flags = CONFIG__REQUIRED},
        {.name = "description", .type = CONFIG__STRING, .offset = SV(description)},
        {.name = "depends_on", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_depends},
        {.name = NULL},
};

static const struct config__table service_table = {"a service", service_keys, NULL};

static void service_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_service *s = obj;
    const struct config__table *tables[] = {&service_table, NULL};
    struct config__seen seen;
    if (!config__parse_map(at, node, tables, NULL, false, s, &seen))
        return;
    s->loc = config__loc(at->x, at->f, node);
    config__register_named(at, CONFIG__SERVICES, s->name, s, node, &seen);
}

void config__parse_services(struct config__ctx *x)
{
    x->c->services = config__parse_items(x, CONFIG__SERVICES, sizeof(struct config_service),
                                         service_item, &x->c->n_services);
}

/* ---- routes ---- */

static const struct config__enum priorities[] = {
        {"P1", 1}, {"P2", 2}, {"P3", 3}, {"P4", 4}, {"P5", 5}, {NULL, 0},
};

#define R(field) offsetof(struct config_route, field)

static const struct config__key route_keys[] = {
        {.name = "match",
         .type = CONFIG__MATCHER,
         .offset = R(match),
         .def = "{}",
         .flags = CONFIG__AUX,
         .aux_offset = R(match_text)},
        {.name = "runbook",
         .type = CONFIG__REF,
         .offset = R(runbook_name),
         .aux_offset = R(runbook),
         .section = CONFIG__RUNBOOKS},
        {.name = "team",
         .type = CONFIG__REF,
         .offset = R(team_name),
         .aux_offset = R(team),
         .section = CONFIG__TEAMS},
        {.name = "priority", .type = CONFIG__ENUM, .offset = R(priority), .enums = priorities},
        {.name = "notifiers",
         .type = CONFIG__REFV,
         .offset = R(notifiers),
         .flags = CONFIG__ONE_OK,
         .aux_offset = R(notifier_refs),
         .section = CONFIG__NOTIFIERS},
        {.name = "continue", .type = CONFIG__BOOL, .offset = R(continue_matching), .def = "false"},
        {.name = NULL},
};

static const struct config__table route_table = {"a route", route_keys, NULL};

static void route_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_route *r = obj;
    const struct config__table *tables[] = {&route_table, NULL};
    struct config__seen seen;
    if (config__parse_map(at, node, tables, NULL, false, r, &seen))
        r->loc = config__loc(at->x, at->f, node);
}

void config__parse_routes(struct config__ctx *x)
{
    x->c->routes = config__parse_items(x, CONFIG__ROUTES, sizeof(struct config_route), route_item,
                                       &x->c->n_routes);
}
