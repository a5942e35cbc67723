/* SPDX-License-Identifier: MIT */
/*
 * The routes of the incident desk (docs/api.md, "Incidents"): incidents
 * and requests, reports, problems and the audit log.
 */
#ifndef HALE_API_INCIDENTS_H
#define HALE_API_INCIDENTS_H

#include "api/api.h"
#include "itsm/itsm.h"
#include "store/store.h"

/*
 * What the routes use, through pointers the daemon keeps current: the
 * desk and a reader of the loop thread (NULL while there are none: the
 * routes then answer 503).
 */
struct api_incidents {
    struct itsm **itsm;
    struct store_reader **reader;
    struct config **config; /* the running configuration: its checks' availability */
};

/* Adds the routes; d must outlive the api. */
int api_incidents_routes_add(struct api *api, struct api_incidents *d, struct err *e);

#endif
