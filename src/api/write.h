/* SPDX-License-Identifier: MIT */
/*
 * The write resource of the HTTP API: samples pushed as InfluxDB line
 * protocol into the series the checks read (docs/api.md, "Writing
 * samples").
 */
#ifndef HALE_API_WRITE_H
#define HALE_API_WRITE_H

#include "api/api.h"

struct series_store;

/*
 * Adds POST /api/v1/write (permission report), which writes into series
 * (borrowed until api_free(); the loop thread's, as its handlers are).
 * Returns 0 or api_routes_add()'s errors.
 */
int api_write_routes_add(struct api *api, struct series_store *series, struct err *e);

#endif
