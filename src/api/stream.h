/* SPDX-License-Identifier: MIT */
/*
 * The live stream of the HTTP API: GET /api/v1/stream sends every incident
 * change, every check's hard state change and every run's change as
 * server-sent events, so a
 * viewer (the web UI, `hale incidents watch`, curl -N) watches the daemon
 * live (docs/api.md, "Live stream"). Every api has the route; the daemon
 * feeds it through the functions below, from where it hears of the
 * changes (the incident desk's watch, the checks' event callback, the
 * runbook executor's watch).
 */
#ifndef HALE_API_STREAM_H
#define HALE_API_STREAM_H

#include "api/api.h"
#include "detect/detect.h"
#include "itsm/incident.h"
#include "store/store.h"

/* Each stream gets a comment line after this long without anything else. */
#define API_STREAM_KEEPALIVE_MS 15000
/* Messages kept for clients that reconnect with Last-Event-ID, and their bytes at most. */
#define API_STREAM_RING_EVENTS  1024
#define API_STREAM_RING_BYTES   (4u * 1024 * 1024)
/* Bytes a stream may have waiting for its client; past it the client is disconnected. */
#define API_STREAM_QUEUE_MAX    (1024u * 1024)
/* Open streams at once, all clients together and per client address. */
#define API_STREAMS_MAX         256u
#define API_STREAMS_PER_CLIENT  32u

/*
 * Sends an incident after a change (encoded as GET /api/v1/incidents/{id}
 * shows it, without the timeline) to every stream, and keeps it for
 * replay. i is borrowed for the call. Loop thread; an itsm_watch_cb
 * calls it.
 */
void api_stream_incident(struct api *api, const struct incident *i);

/*
 * Sends a check's hard state change ({check, status, previous, time,
 * summary}) to every stream, and keeps it for replay; other events
 * (flapping, soft changes) are not sent. ev is borrowed for the call.
 * Loop thread.
 */
void api_stream_check(struct api *api, const struct detect_event *ev);

/*
 * Sends a run after a durable change ({run, step}: the run as GET
 * /api/v1/runs/{id} shows it, and the step attempt written with the
 * change or null) to every stream, and keeps it for replay. Borrowed for
 * the call. Loop thread; a runbooks_watch_fn calls it.
 */
void api_stream_run(struct api *api, const struct store_run *run, size_t steps_total,
                    const struct store_run_step *step);

#endif
