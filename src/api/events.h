/* SPDX-License-Identifier: MIT */
/*
 * The events resource of the HTTP API (docs/api.md, "Events"): events
 * pushed in (hale's events body and Alertmanager's webhook) handed to the
 * engine and answered once durable, and the events received read back.
 */
#ifndef HALE_API_EVENTS_H
#define HALE_API_EVENTS_H

#include "api/api.h"

struct engine;
struct event;
struct loop;
struct store_reader;

/*
 * What the routes use, through pointers the daemon keeps current: the
 * engine and a reader of the loop thread (NULL while there are none: the
 * routes then answer 503); and the loop, at the end of whose wake-up the
 * events of the requests it brought are submitted together (NULL: each
 * request alone).
 */
struct api_events {
    struct engine **engine;
    struct store_reader **reader;
    struct loop *loop;
    struct api__gather *gather; /* the routes' own: the requests gathered now */
};

/*
 * Adds POST /api/v1/events and POST /api/v1/alertmanager (permission
 * report) and GET /api/v1/events (read); d must outlive the api. Returns
 * 0 or api_routes_add()'s errors.
 */
int api_events_routes_add(struct api *api, struct api_events *d, struct err *e);

#endif
