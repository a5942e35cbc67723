/* SPDX-License-Identifier: MIT */
/*
 * The runbooks and their runs in the HTTP API (docs/api.md, "Runbooks and
 * runs"): runs listed and shown step by step from the store, a run started
 * by hand, an approval gate answered and a quarantine lifted through the
 * executor (runbook/runbook.h), each answered once the change is durable,
 * and every runbook of the configuration with its effectiveness.
 */
#ifndef HALE_API_RUNS_H
#define HALE_API_RUNS_H

#include "api/api.h"
#include "runbook/runbook.h"
#include "store/store.h"

/*
 * What the routes use, through pointers the daemon keeps current: the
 * executor, a reader of the loop thread and the running configuration
 * (NULL while there are none: the routes then answer 503).
 */
struct api_runs {
    struct runbooks **runbooks;
    struct store_reader **reader;
    struct config **config;
};

/*
 * Adds GET /api/v1/runs, GET /api/v1/runs/{id}, POST
 * /api/v1/runs/{id}/approve and /reject, GET /api/v1/runbooks, POST
 * /api/v1/runbooks/{name}/runs and POST /api/v1/runbooks/{name}/enable;
 * d must outlive the api.
 */
int api_runs_routes_add(struct api *api, struct api_runs *d, struct err *e);

#endif
