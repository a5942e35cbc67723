/* SPDX-License-Identifier: MIT */
/*
 * Routing: which runbook, team, priority and notifiers take an event. The
 * configuration's routes are tried in order; the first whose matchers
 * accept the event's labels applies, and with `continue: true` the routes
 * after it are tried too. When none matches, the built-in default
 * applies: no runbook, no team, no notifiers, the priority from the
 * incidents matrix.
 *
 * Every route tried is explained in words ("route 2 {service=\"web\"}:
 * service=\"db\" does not match service=\"web\""), for `hale routes test`
 * and for the incident's timeline. Pure: (config, event) in, result out.
 */
#ifndef HALE_ENGINE_ROUTE_H
#define HALE_ENGINE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "engine/event.h"

enum engine_route_outcome {
    ENGINE_ROUTE_MATCHED,
    ENGINE_ROUTE_NO_MATCH,
    ENGINE_ROUTE_NOT_TRIED, /* an earlier route matched without continue */
};

/* One route of the configuration and what became of it. */
struct engine_route_try {
    const struct config_route *route; /* borrowed from the config */
    size_t number;                    /* 1-based position in routes, as people count */
    enum engine_route_outcome outcome;
    char *why; /* "matches", "service=\"db\" does not match service=\"web\"", ... */
};

struct engine_route_result {
    bool matched; /* false: no route matched, the built-in default applies */
    /* What applies, borrowed from the config; each with the number of the route it came from. */
    const struct config_runbook *runbook; /* NULL: none */
    size_t runbook_route;                 /* 0: none */
    const struct config_team *team;       /* NULL: none */
    size_t team_route;
    unsigned priority;     /* 1 (P1) to 5 */
    size_t priority_route; /* 0: from the incidents matrix */
    /* The matched routes' own notifiers, each once, in route order (the team's come on top). */
    const struct config_notifier **notifiers;
    size_t n_notifiers;
    struct engine_route_try *tries; /* one per route of the config, in order */
    size_t n_tries;
};

/*
 * Routes ev through c's routes into ret (free with
 * engine_route_result_fini()). The first matching route sets runbook,
 * team and priority; a route reached through `continue` adds its
 * notifiers and sets only what the routes before it left unset. A
 * priority no matched route sets comes from the matrix, with the impact
 * medium and the urgency of ev's severity. ret borrows from c: keep a
 * reference to c while ret is in use.
 */
void engine_route(const struct config *c, const struct event *ev, struct engine_route_result *ret);

/* Frees what r holds and zeroes it. Accepts NULL and a zeroed result. */
void engine_route_result_fini(struct engine_route_result *r);

/* "matched", "no_match", "not_tried". Static storage. */
const char *engine_route_outcome_name(enum engine_route_outcome o);

#endif
