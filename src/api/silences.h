/* SPDX-License-Identifier: MIT */
/*
 * The silences resource of the HTTP API (docs/api.md, "Silences"): list
 * and show silences with their state now, create one (from the API or
 * `hale silence add`) and expire one early. Reads the stored ones, expired
 * ones too, from the store; creates and expires them through the daemon's
 * registry (engine/silences.h), answered once the change is durable.
 */
#ifndef HALE_API_SILENCES_H
#define HALE_API_SILENCES_H

#include "api/api.h"
#include "engine/silences.h"
#include "store/store.h"

/*
 * What the routes use, through pointers the daemon keeps current: the
 * registry and a reader of the loop thread (NULL while there are none:
 * the routes then answer 503).
 */
struct api_silences {
    struct silences **silences;
    struct store_reader **reader;
};

/*
 * Adds GET and POST /api/v1/silences, GET and DELETE
 * /api/v1/silences/{id}; d must outlive the api.
 */
int api_silences_routes_add(struct api *api, struct api_silences *d, struct err *e);

#endif
