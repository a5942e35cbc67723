/* SPDX-License-Identifier: MIT */
/*
 * Entry points of the configuration module: a load runs the three passes
 * (read files, parse sections, resolve names) over one context, hands the
 * diagnostics to the caller, and returns the config only when there were
 * none. Also the reference count and the lookups by name.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "config/internal.h"

static struct config *config_new(const char *path)
{
    struct config *c = xcalloc(1, sizeof(*c));
    arena_init(&c->arena);
    c->path = arena_strdup(&c->arena, path);
    atomic_init(&c->refs, 1);
    return c;
}

static void config_free(struct config *c)
{
    if (!c)
        return;
    arena_fini(&c->arena); /* runs the destructors of labels, matchers and regexes */
    free(c);
}

static void ctx_fini(struct config__ctx *x)
{
    for (int s = 0; s < CONFIG__SECTION_COUNT; s++) {
        free(x->items[s].v);
        free(x->names[s].v);
    }
    free(x->refs);
    config__files_free(x);
    arena_fini(&x->scratch);
}

/* Passes two and three; the order lets later sections use earlier ones' values. */
static void parse_all(struct config__ctx *x)
{
    config__parse_server(x); /* data_dir is the default working directory of children */
    config__parse_incidents(x);
    config__parse_retention(x);
    config__parse_history(x);
    config__parse_engine(x);
    config__parse_notifiers(x);
    config__parse_teams(x);
    config__parse_checks(x);
    config__parse_services(x);
    config__parse_runbooks(x);
    config__parse_routes(x);
    config__parse_silences(x);
    config__resolve(x);
}

static void record_files(struct config__ctx *x)
{
    const char **v = arena_array(&x->c->arena, x->n_files + 1, sizeof(*v)); /* NULL-ended */
    for (size_t i = 0; i < x->n_files; i++)
        v[i] = x->files[i]->apath;
    x->c->files = (struct config_strv){v, x->n_files};
}

static int finish(struct config__ctx *x, struct config **ret_config, struct config_diags *diags)
{
    if (x->read_error == 0)
        parse_all(x);
    record_files(x);
    bool failed = x->n_diags > 0;
    int r = x->read_error ? x->read_error : HALE_ECONFIG;
    config__diags_take(x, diags);
    ctx_fini(x);
    if (failed) {
        config_free(x->c);
        return r;
    }
    *ret_config = x->c;
    return 0;
}

int config_load(const char *path, struct config **ret_config, struct config_diags *diags)
{
    struct config__ctx x = {.c = config_new(path), .budget = config__node_budget()};
    config__read_main(&x, path);
    return finish(&x, ret_config, diags);
}

int config_load_buffer(const char *name, const void *data, size_t len, struct config **ret_config,
                       struct config_diags *diags)
{
    struct config__ctx x = {
            .c = config_new(name), .budget = config__node_budget(), .from_buffer = true};
    config__read_buffer(&x, name, data, len);
    return finish(&x, ret_config, diags);
}

struct config *config_ref(struct config *c)
{
    atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
    return c;
}

void config_unref(struct config *c)
{
    if (!c)
        return;
    /* acq_rel: the last owner must see every other owner's reads completed */
    if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
        config_free(c);
}

const struct config_server *config_server(const struct config *c)
{
    return &c->server;
}

const char *config_path(const struct config *c)
{
    return c->path;
}

#define FIND(array, n, key)                           \
    do {                                              \
        for (size_t i_ = 0; i_ < (n); i_++)           \
            if (strcmp((array)[i_].name, (key)) == 0) \
                return &(array)[i_];                  \
        return NULL;                                  \
    } while (0)

const struct config_check *config_check_find(const struct config *c, const char *name)
{
    FIND(c->checks, c->n_checks, name);
}

const struct config_runbook *config_runbook_find(const struct config *c, const char *name)
{
    FIND(c->runbooks, c->n_runbooks, name);
}

const struct config_team *config_team_find(const struct config *c, const char *name)
{
    FIND(c->teams, c->n_teams, name);
}

const struct config_notifier *config_notifier_find(const struct config *c, const char *name)
{
    FIND(c->notifiers, c->n_notifiers, name);
}

const struct config_service *config_service_find(const struct config *c, const char *name)
{
    FIND(c->services, c->n_services, name);
}

const char *config_http_method_name(enum config_http_method m)
{
    for (const struct config__enum *e = config__http_methods; e->name; e++)
        if (e->value == (int)m)
            return e->name;
    return "GET";
}

const char *config_notifier_type_name(enum config_notifier_type t)
{
    static const char *const names[] = {"webhook", "slack", "pagerduty", "email", "exec"};
    return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}
