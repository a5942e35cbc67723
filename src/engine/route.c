/* SPDX-License-Identifier: MIT */
/*
 * Routing an event: each route's matchers are tried one by one, so that
 * a route that does not match can say which of its matchers refused the
 * event and what the event had instead.
 */
#include "engine/route.h"

#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "itsm/itsm.h"

/* A value as the matcher syntax quotes it: "a \"b\"". */
static void add_quoted(struct strbuf *b, const char *s)
{
    strbuf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            strbuf_addc(b, '\\');
        if (*s == '\n')
            strbuf_adds(b, "\\n");
        else
            strbuf_addc(b, *s);
    }
    strbuf_addc(b, '"');
}

static bool matcher_accepts(struct labels_matcher *m, const struct labels *l)
{
    const struct labels_matchers one = {.v = m, .n = 1};
    return labels_matchers_match(&one, l);
}

/* "service=\"db\" does not match service=\"web\"" for each matcher that refuses l. */
static bool explain(const struct labels_matchers *m, const struct labels *l, struct strbuf *why)
{
    bool ok = true;
    for (size_t i = 0; i < m->n; i++) {
        struct labels_matcher *x = &m->v[i];
        if (matcher_accepts(x, l))
            continue;
        const char *value = labels_get(l, x->name);
        strbuf_adds(why, ok ? "" : "; ");
        strbuf_adds(why, x->name);
        if (value) {
            strbuf_addc(why, '=');
            add_quoted(why, value);
        } else {
            strbuf_adds(why, " (not set)");
        }
        strbuf_addf(why, " does not match %s%s", x->name, labels_op_name(x->op));
        add_quoted(why, x->value);
        ok = false;
    }
    return ok;
}

static void add_notifiers(struct engine_route_result *ret, const struct config_route *r)
{
    for (size_t i = 0; i < r->notifiers.n; i++) {
        const struct config_notifier *n = r->notifier_refs ? r->notifier_refs[i] : NULL;
        bool seen = !n;
        for (size_t k = 0; !seen && k < ret->n_notifiers; k++)
            seen = ret->notifiers[k] == n;
        if (seen)
            continue;
        ret->notifiers =
                xreallocarray(ret->notifiers, ret->n_notifiers + 1, sizeof(*ret->notifiers));
        ret->notifiers[ret->n_notifiers++] = n;
    }
}

/* A matched route sets what no route before it set. */
static void apply(struct engine_route_result *ret, const struct config_route *r, size_t number)
{
    if (!ret->runbook && r->runbook) {
        ret->runbook = r->runbook;
        ret->runbook_route = number;
    }
    if (!ret->team && r->team) {
        ret->team = r->team;
        ret->team_route = number;
    }
    if (!ret->priority_route && r->priority) {
        ret->priority = r->priority;
        ret->priority_route = number;
    }
    add_notifiers(ret, r);
    ret->matched = true;
}

void engine_route(const struct config *c, const struct event *ev, struct engine_route_result *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->n_tries = c->n_routes;
    ret->tries = xcalloc(c->n_routes ? c->n_routes : 1, sizeof(*ret->tries));
    bool stopped = false;
    for (size_t i = 0; i < c->n_routes; i++) {
        const struct config_route *r = &c->routes[i];
        struct engine_route_try *t = &ret->tries[i];
        t->route = r;
        t->number = i + 1;
        struct strbuf why;
        strbuf_init(&why, 0);
        if (stopped) {
            t->outcome = ENGINE_ROUTE_NOT_TRIED;
            strbuf_adds(&why, "not tried: an earlier route matched without continue");
        } else if (!r->match || explain(r->match, &ev->labels, &why)) {
            t->outcome = ENGINE_ROUTE_MATCHED;
            strbuf_adds(&why, r->continue_matching ? "matches; continue: the routes after it are "
                                                     "tried too"
                                                   : "matches");
            apply(ret, r, i + 1);
            stopped = !r->continue_matching;
        } else {
            t->outcome = ENGINE_ROUTE_NO_MATCH;
        }
        t->why = strbuf_detach(&why, NULL);
    }
    if (!ret->priority_route)
        ret->priority = itsm_priority(&c->incidents, CONFIG_IMPACT_MEDIUM, ev->severity);
}

void engine_route_result_fini(struct engine_route_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_tries; i++)
        free(r->tries[i].why);
    free(r->tries);
    free(r->notifiers);
    memset(r, 0, sizeof(*r));
}

const char *engine_route_outcome_name(enum engine_route_outcome o)
{
    switch (o) {
    case ENGINE_ROUTE_MATCHED:
        return "matched";
    case ENGINE_ROUTE_NO_MATCH:
        return "no_match";
    case ENGINE_ROUTE_NOT_TRIED:
        break;
    }
    return "not_tried";
}
