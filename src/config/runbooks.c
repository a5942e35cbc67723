/* SPDX-License-Identifier: MIT */
/*
 * The runbooks section: a runbook's own keys, its guard, and its steps.
 * Each step does exactly one thing (run, shell, http, check, verify,
 * approve, notify or wait), may be retried, may depend on an earlier step
 * or on the event's labels, and inherits the runbook's on_failure.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "config/internal.h"

/* ---- step parts ---- */

#define RT(field) offsetof(struct config_retry, field)

static void retry_check(const struct config__at *at, yaml_node_t *map,
                        const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_retry *r = obj;
    if (r->backoff_ms > r->max_backoff_ms)
        config__error(at->x, at->f,
                      config__seen_get(seen, "backoff") ? config__seen_get(seen, "backoff") : map,
                      "backoff must not be greater than max_backoff (%s)",
                      config__fmt_duration(at->x, r->max_backoff_ms));
}

static const struct config__key retry_keys[] = {
        {.name = "times", .type = CONFIG__UINT, .offset = RT(times), .def = "1", .max = 100},
        {.name = "backoff",
         .type = CONFIG__DURATION,
         .offset = RT(backoff_ms),
         .def = "1s",
         .max = 86400 * 1000},
        {.name = "max_backoff",
         .type = CONFIG__DURATION,
         .offset = RT(max_backoff_ms),
         .def = "5m",
         .max = 86400 * 1000},
        {.name = NULL},
};

static const struct config__table retry_table = {"retry", retry_keys, retry_check};

#define W(field) offsetof(struct config_when, field)

static void when_check(const struct config__at *at, yaml_node_t *map,
                       const struct config__seen *seen, void *obj)
{
    struct config_when *w = obj;
    static const char *const conds[] = {"failed", "succeeded", "labels"};
    static const enum config_when_kind kinds[] = {CONFIG_WHEN_FAILED, CONFIG_WHEN_SUCCEEDED,
                                                  CONFIG_WHEN_LABELS};
    size_t given = 0;
    for (size_t i = 0; i < 3; i++) {
        if (!config__seen_key(seen, conds[i]))
            continue;
        if (++given == 2)
            config__error(at->x, at->f, config__seen_key(seen, conds[i]),
                          "when takes one condition: failed, succeeded or labels");
        w->kind = kinds[i];
    }
    if (given == 0)
        config__error(at->x, at->f, map, "when needs a condition: failed, succeeded or labels");
}

static const struct config__key when_keys[] = {
        {.name = "failed", .type = CONFIG__STRING, .offset = W(step_name), .flags = CONFIG__KEEP},
        {.name = "succeeded",
         .type = CONFIG__STRING,
         .offset = W(step_name),
         .flags = CONFIG__KEEP},
        {.name = "labels", .type = CONFIG__MATCHER, .offset = W(labels)},
        {.name = NULL},
};

static const struct config__table when_table = {"when", when_keys, when_check};

#define SH(field) offsetof(struct config_step_http, field)

static const struct config__key step_http_keys[] = {
        {.name = "url",
         .type = CONFIG__URL,
         .offset = SH(url),
         .flags = CONFIG__REQUIRED,
         .schemes = "http https"},
        {.name = "method",
         .type = CONFIG__ENUM,
         .offset = SH(method),
         .def = "GET",
         .enums = config__http_methods},
        {.name = "headers", .type = CONFIG__HEADERS, .offset = SH(headers)},
        {.name = "body", .type = CONFIG__STRING, .offset = SH(body), .flags = CONFIG__EMPTY_OK},
        {.name = "expect_status", .type = CONFIG__STATUS, .offset = SH(expect_status)},
        {.name = NULL},
};

static const struct config__table step_http_table = {"http", step_http_keys, NULL};

/* shell: a script for /bin/sh, which must never see a label's value inline. */
static bool parse_shell(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, void *obj)
{
    (void)key;
    const char *s;
    if (!config__string(at, node, "a shell script", &s))
        return false;
    if (!*s) {
        config__error(at->x, at->f, node, "shell must not be empty");
        return false;
    }
    const char *p = strstr(s, "${labels.");
    if (p) {
        config__error_in(at->x, at->f, node, (size_t)(p - s),
                         "placeholders are not allowed in shell scripts; pass labels as "
                         "environment variables, as in env: {HOST: \"${labels.host}\"}");
        return false;
    }
    ((struct config_step *)obj)->shell = s;
    return true;
}

/* ---- steps ---- */

static const char *const actions[] = {"run",    "shell",   "http",   "check",
                                      "verify", "approve", "notify", "wait"};

static const struct config__enum purposes[] = {
        {"remediate", CONFIG_PURPOSE_REMEDIATE},
        {"diagnose", CONFIG_PURPOSE_DIAGNOSE},
        {NULL, 0},
};

static const struct config__enum notify_tos[] = {
        {"team", CONFIG_NOTIFY_TO_TEAM},
        {"users", CONFIG_NOTIFY_TO_USERS},
        {NULL, 0},
};

#define ST(field) offsetof(struct config_step, field)

static const struct config__key step_keys[] = {
        {.name = "name", .type = CONFIG__NAME, .offset = ST(name)},
        {.name = "purpose",
         .type = CONFIG__ENUM,
         .offset = ST(purpose),
         .flags = CONFIG__KEEP,
         .enums = purposes},
        {.name = "timeout",
         .type = CONFIG__DURATION,
         .offset = ST(timeout_ms),
         .min = 1,
         .max = 86400 * 1000},
        {.name = "retry",
         .type = CONFIG__SUB,
         .offset = ST(retry),
         .flags = CONFIG__KEEP,
         .sub = &retry_table},
        {.name = "when",
         .type = CONFIG__SUB,
         .offset = ST(when),
         .flags = CONFIG__KEEP,
         .sub = &when_table},
        {.name = "on_failure",
         .type = CONFIG__ENUM,
         .offset = ST(on_failure),
         .flags = CONFIG__KEEP,
         .enums = config__on_failures},
        {.name = "env", .type = CONFIG__ENV, .offset = ST(env)},
        {.name = "cwd", .type = CONFIG__PATH, .offset = ST(cwd), .flags = CONFIG__KEEP},
        {.name = "run", .type = CONFIG__ARGV, .offset = ST(run), .flags = CONFIG__NONEMPTY},
        {.name = "shell", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_shell},
        {.name = "http",
         .type = CONFIG__SUB,
         .offset = ST(http),
         .flags = CONFIG__KEEP,
         .sub = &step_http_table},
        {.name = "check",
         .type = CONFIG__REF,
         .offset = ST(check_name),
         .aux_offset = ST(check),
         .section = CONFIG__CHECKS},
        {.name = "verify",
         .type = CONFIG__REF,
         .offset = ST(check_name),
         .aux_offset = ST(check),
         .section = CONFIG__CHECKS},
        {.name = "within",
         .type = CONFIG__DURATION,
         .offset = ST(within_ms),
         .min = 1000,
         .max = 86400 * 1000},
        {.name = "approve", .type = CONFIG__STRING, .offset = ST(approve)},
        {.name = "notify", .type = CONFIG__STRING, .offset = ST(notify)},
        {.name = "to",
         .type = CONFIG__ENUM,
         .offset = ST(notify_to),
         .def = "team",
         .enums = notify_tos},
        {.name = "wait",
         .type = CONFIG__DURATION,
         .offset = ST(wait_ms),
         .min = 1,
         .max = 86400 * 1000},
        {.name = NULL},
};

/* Keys that only some actions take. */
static void check_only_for(const struct config__at *at, const struct config__seen *seen,
                           const char *key, bool allowed, const char *which)
{
    yaml_node_t *k = config__seen_key(seen, key);
    if (k && !allowed)
        config__error(at->x, at->f, k, "%s applies only to %s steps", key, which);
}

/* The one action of a step; false (reported) when there is none or more than one. */
static bool find_action(const struct config__at *at, yaml_node_t *map,
                        const struct config__seen *seen, enum config_step_action *ret)
{
    size_t given = 0;
    const char *first = NULL;
    for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
        yaml_node_t *k = config__seen_key(seen, actions[i]);
        if (!k)
            continue;
        if (++given == 1) {
            first = actions[i];
            *ret = (enum config_step_action)i;
        } else {
            config__error(at->x, at->f, k,
                          "a step does one thing, but this one has both %s and %s; split it into "
                          "two steps",
                          first, actions[i]);
        }
    }
    if (given == 0)
        config__error(at->x, at->f, map,
                      "a step needs one action: run, shell, http, check, verify, approve, notify "
                      "or wait");
    return given == 1;
}

static void step_defaults(struct config_step *s, const struct config__seen *seen)
{
    /* Only what changes things remediates by default: a run takes charge there. */
    if (s->action == CONFIG_STEP_VERIFY)
        s->purpose = CONFIG_PURPOSE_VERIFY;
    else if (!config__seen_get(seen, "purpose"))
        s->purpose = s->action == CONFIG_STEP_RUN || s->action == CONFIG_STEP_SHELL ||
                                     s->action == CONFIG_STEP_HTTP
                             ? CONFIG_PURPOSE_REMEDIATE
                             : CONFIG_PURPOSE_DIAGNOSE;
    if (s->within_ms == CONFIG_UNSET64)
        s->within_ms = s->action == CONFIG_STEP_VERIFY ? 60 * 1000 : 0;
    if (s->wait_ms == CONFIG_UNSET64)
        s->wait_ms = 0;
    if (s->action == CONFIG_STEP_VERIFY)
        s->timeout_ms = s->within_ms; /* the verify step lasts as long as it may retry */
    else if (s->action == CONFIG_STEP_WAIT)
        s->timeout_ms = s->wait_ms;
    else if (s->timeout_ms == CONFIG_UNSET64)
        s->timeout_ms = s->action == CONFIG_STEP_APPROVE ? 3600 * 1000 : 60 * 1000;
}

static void step_check(const struct config__at *at, yaml_node_t *map,
                       const struct config__seen *seen, void *obj)
{
    struct config_step *s = obj;
    if (!find_action(at, map, seen, &s->action))
        return;
    bool process = s->action == CONFIG_STEP_RUN || s->action == CONFIG_STEP_SHELL;
    check_only_for(at, seen, "within", s->action == CONFIG_STEP_VERIFY, "verify");
    /* A verify step proves; it neither diagnoses nor remediates. */
    check_only_for(at, seen, "purpose", s->action != CONFIG_STEP_VERIFY,
                   "run, shell, http, check, approve, notify and wait");
    check_only_for(at, seen, "env", process, "run and shell");
    check_only_for(at, seen, "cwd", process, "run and shell");
    check_only_for(at, seen, "to", s->action == CONFIG_STEP_NOTIFY, "notify");
    check_only_for(at, seen, "timeout",
                   s->action != CONFIG_STEP_VERIFY && s->action != CONFIG_STEP_WAIT,
                   "run, shell, http, check, approve and notify");
    step_defaults(s, seen);
}

static const struct config__table step_table = {"a step", step_keys, step_check};

/* when: failed/succeeded must name a step that comes earlier in the same runbook. */
static void resolve_when(const struct config__at *at, yaml_node_t *step_node,
                         struct config_step *steps, size_t i)
{
    struct config_when *w = &steps[i].when;
    if ((w->kind != CONFIG_WHEN_FAILED && w->kind != CONFIG_WHEN_SUCCEEDED) || !w->step_name)
        return; /* no condition on a step, or one already reported as invalid */
    for (size_t j = 0; j < i; j++) {
        if (strcmp(steps[j].name, w->step_name) == 0) {
            w->step = j;
            return;
        }
    }
    yaml_node_t *when = config__map_get(at->f, step_node, "when");
    yaml_node_t *ref =
            config__map_get(at->f, when, w->kind == CONFIG_WHEN_FAILED ? "failed" : "succeeded");
    _cleanup_free_ const char **earlier = xcalloc(i ? i : 1, sizeof(*earlier));
    for (size_t j = 0; j < i; j++)
        earlier[j] = steps[j].name;
    const char *hint = config__suggest(at->x, w->step_name, earlier, i);
    config__error(at->x, at->f, ref ? ref : step_node,
                  "when refers to step \"%s\", which is not an earlier step of this runbook%s%s%s",
                  w->step_name, hint ? "; did you mean \"" : "", hint ? hint : "",
                  hint ? "\"?" : "");
}

struct step_name_ref {
    const char *name;
    size_t index;
};

static int step_name_cmp(const void *pa, const void *pb)
{
    const struct step_name_ref *a = pa, *b = pb;
    int c = strcmp(a->name, b->name);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

static void check_step_names(const struct config__at *at, yaml_node_t *list,
                             struct config_step *steps, size_t n)
{
    _cleanup_free_ struct step_name_ref *refs = xcalloc(n ? n : 1, sizeof(*refs));
    for (size_t i = 0; i < n; i++)
        refs[i] = (struct step_name_ref){steps[i].name, i};
    qsort(refs, n, sizeof(*refs), step_name_cmp);
    for (size_t i = 1; i < n; i++) {
        if (!*refs[i].name || strcmp(refs[i].name, refs[i - 1].name) != 0)
            continue;
        size_t first = i - 1;
        while (first > 0 && strcmp(refs[first - 1].name, refs[i].name) == 0)
            first--;
        yaml_node_t *item = config__node(at->f, list->data.sequence.items.start[refs[i].index]);
        yaml_node_t *name = config__map_get(at->f, item, "name");
        const struct config_loc *l = &steps[refs[first].index].loc;
        config__error(at->x, at->f, name ? name : item,
                      "duplicate step name \"%s\" %s; first defined at %s:%u:%u", refs[i].name,
                      at->scope, l->file, l->line, l->col);
    }
}

static void parse_step(const struct config__at *at, const struct config_runbook *rb,
                       yaml_node_t *node, size_t i, struct config_step *s)
{
    const char *outer = at->scope + 3; /* "runbook \"x\"" without "in " */
    struct config__at sat = *at;
    sat.scope = config__scratchf(at->x, "%s of %s", config__scope(at, "step", node, i + 1), outer);
    /* What an absent key inherits, or what the action's default will replace. */
    s->on_failure = rb->on_failure;
    s->cwd = at->x->c->server.data_dir;
    s->retry = (struct config_retry){.times = 0, .backoff_ms = 1000, .max_backoff_ms = 300000};
    const struct config__table *tables[] = {&step_table, NULL};
    struct config__seen seen;
    if (!config__parse_map(&sat, node, tables, NULL, false, s, &seen))
        return;
    s->loc = config__loc(at->x, at->f, node);
    if (!s->name)
        s->name = config__printf(at->x, "step-%zu", i + 1);
}

static bool parse_steps(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_runbook *rb = obj;
    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top == node->data.sequence.items.start) {
        config__error(at->x, at->f, node, "expected a list of steps, got %s",
                      config__describe(at->x, node));
        return false;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    /* Paid before allocating: aliases could make many runbooks share one long list. */
    if (!config__charge(at->x, at->f, node, n))
        return false;
    struct config_step *steps = arena_array(&at->x->c->arena, n, sizeof(*steps));
    for (size_t i = 0; i < n; i++)
        parse_step(at, rb, config__node(at->f, node->data.sequence.items.start[i]), i, &steps[i]);
    for (size_t i = 0; i < n; i++)
        if (!steps[i].name)
            steps[i].name = ""; /* a step that was not a mapping, already reported */
    for (size_t i = 0; i < n; i++)
        resolve_when(at, config__node(at->f, node->data.sequence.items.start[i]), steps, i);
    check_step_names(at, node, steps, n);
    rb->steps = steps;
    rb->n_steps = n;
    return true;
}

/* ---- runbooks ---- */

#define G(field) offsetof(struct config_guard, field)

static void guard_check(const struct config__at *at, yaml_node_t *map,
                        const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_guard *g = obj;
    if (g->key && !labels_name_is_valid(g->key))
        config__error(at->x, at->f, config__seen_get(seen, "key"),
                      "invalid label name \"%s\": use letters, digits and _, not starting with a "
                      "digit",
                      g->key);
}

static const struct config__key guard_keys[] = {
        {.name = "max_runs",
         .type = CONFIG__UINT,
         .offset = G(max_runs),
         .flags = CONFIG__REQUIRED,
         .min = 1,
         .max = 10000},
        {.name = "per",
         .type = CONFIG__DURATION,
         .offset = G(per_ms),
         .flags = CONFIG__REQUIRED,
         .min = 1000,
         .max = 366 * 86400 * 1000ull},
        {.name = "key", .type = CONFIG__STRING, .offset = G(key)},
        {.name = NULL},
};

static const struct config__table guard_table = {"guard", guard_keys, guard_check};

#define RL(field) offsetof(struct config_relapse, field)

static const struct config__key relapse_keys[] = {
        {.name = "within",
         .type = CONFIG__DURATION,
         .offset = RL(within_ms),
         .def = "24h",
         .min = 60 * 1000,
         .max = 366 * 86400 * 1000ull},
        {.name = "quarantine_above",
         .type = CONFIG__PERCENT,
         .offset = RL(quarantine_above),
         .def = "50%"},
        {.name = "min_healed",
         .type = CONFIG__UINT,
         .offset = RL(min_healed),
         .def = "3",
         .min = 1,
         .max = 10000},
        {.name = NULL},
};

static const struct config__table relapse_table = {"relapse", relapse_keys, NULL};

#define RB(field) offsetof(struct config_runbook, field)

/* on_failure comes before steps: keys are parsed in table order, and steps inherit it. */
static const struct config__key runbook_keys[] = {
        {.name = "name", .type = CONFIG__NAME, .offset = RB(name), .flags = CONFIG__REQUIRED},
        {.name = "description", .type = CONFIG__STRING, .offset = RB(description)},
        {.name = "team",
         .type = CONFIG__REF,
         .offset = RB(team_name),
         .aux_offset = RB(team),
         .section = CONFIG__TEAMS},
        {.name = "docs", .type = CONFIG__STRV, .offset = RB(docs), .flags = CONFIG__ONE_OK},
        {.name = "timeout",
         .type = CONFIG__DURATION,
         .offset = RB(timeout_ms),
         .def = "15m",
         .min = 1000,
         .max = 86400 * 1000},
        {.name = "guard",
         .type = CONFIG__SUB,
         .offset = RB(guard),
         .flags = CONFIG__KEEP,
         .sub = &guard_table},
        {.name = "relapse",
         .type = CONFIG__SUB,
         .offset = RB(relapse),
         .flags = CONFIG__KEEP,
         .sub = &relapse_table},
        {.name = "on_failure",
         .type = CONFIG__ENUM,
         .offset = RB(on_failure),
         .def = "escalate",
         .enums = config__on_failures},
        {.name = "steps",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__REQUIRED,
         .custom = parse_steps},
        {.name = NULL},
};

static const struct config__table runbook_table = {"a runbook", runbook_keys, NULL};

static void runbook_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_runbook *rb = obj;
    /* What a runbook without relapse: gets; the keys' defaults when it has one. */
    rb->relapse = (struct config_relapse){
            .within_ms = 86400 * 1000, .quarantine_above = 50.0, .min_healed = 3};
    const struct config__table *tables[] = {&runbook_table, NULL};
    struct config__seen seen;
    if (!config__parse_map(at, node, tables, NULL, false, rb, &seen))
        return;
    rb->loc = config__loc(at->x, at->f, node);
    config__register_named(at, CONFIG__RUNBOOKS, rb->name, rb, node, &seen);
}

void config__parse_runbooks(struct config__ctx *x)
{
    x->c->runbooks = config__parse_items(x, CONFIG__RUNBOOKS, sizeof(struct config_runbook),
                                         runbook_item, &x->c->n_runbooks);
}

const char *config_step_action_name(enum config_step_action a)
{
    return (size_t)a < sizeof(actions) / sizeof(actions[0]) ? actions[a] : "unknown";
}

const char *config_step_purpose_name(enum config_step_purpose p)
{
    switch (p) {
    case CONFIG_PURPOSE_REMEDIATE:
        return "remediate";
    case CONFIG_PURPOSE_DIAGNOSE:
        return "diagnose";
    case CONFIG_PURPOSE_VERIFY:
        return "verify";
    }
    return "unknown";
}
