/* SPDX-License-Identifier: MIT */
/*
 * The checks resource of the HTTP API: the state of every check, running a
 * check now, and heartbeat reports (docs/api.md). Also the JSON shape of an
 * observation, which `hale check --json` prints too, so both faces say the
 * same thing the same way.
 */
#ifndef HALE_API_CHECKS_H
#define HALE_API_CHECKS_H

#include <jansson.h>

#include "api/api.h"
#include "checks/checks.h"

/*
 * Adds GET /api/v1/checks, GET /api/v1/checks/{name}, GET
 * /api/v1/checks/{name}/graph.svg (its recent history as an SVG image,
 * series/graph.h), POST /api/v1/checks/{name}/run and POST
 * /api/v1/heartbeats/{name}.
 * current points to the daemon's runner (borrowed until api_free()); it is
 * read at each request, so a reload may replace the runner, and NULL (the
 * daemon stops) answers 503. Returns 0 or api_routes_add()'s errors.
 */
int api_checks_routes_add(struct api *api, struct checks **current, struct err *e);

/*
 * An observation as JSON: {status, summary, long_output, duration_ms,
 * started, samples: [{label, value, unit, warn, crit, min, max}], notes,
 * truncated}; ranges as Monitoring Plugins write them ("~:80"), absent
 * fields as null. A new reference.
 */
json_t *api_check_observation_json(const struct check_observation *o);

#endif
