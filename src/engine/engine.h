/* SPDX-License-Identifier: MIT */
/*
 * The engine at work in the daemon: one pipeline for every event,
 * whatever its source. A submit takes events in order; for each it stamps
 * the time received, asks the incident desk what is open (itsm.h), adds
 * the silences, decides (engine_decide(), correlate.h) and hands event
 * and decision to the desk, which puts everything the submit changed in
 * one store batch. The submit's callback runs once that batch is durable:
 * the API answers then, so an acknowledged event is never lost.
 *
 * The events of one submit are decided one after the other, each on what
 * the ones before it did: a batch of a thousand events of one outage
 * correlates among itself.
 *
 * A check's hard state change enters the same way, as an event
 * (engine_check_event()). Loop thread only.
 */
#ifndef HALE_ENGINE_ENGINE_H
#define HALE_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "detect/detect.h"
#include "engine/correlate.h"
#include "engine/event.h"
#include "engine/silences.h"
#include "itsm/itsm.h"
#include "store/store.h"

struct engine;

/*
 * An engine that applies its decisions through itsm, asks silences (NULL:
 * none) and records checks' hard states in st. All borrowed until
 * engine_free(); config until the next engine_set_config().
 */
struct engine *engine_new(const struct config *config, struct itsm *itsm, struct silences *silences,
                          struct store *st);
/* Accepts NULL. Submits still in flight call back afterwards: free after store_close(). */
void engine_free(struct engine *g);
/* After a reload: the new configuration, borrowed. */
void engine_set_config(struct engine *g, const struct config *config);

/* What became of one event of a submit. */
struct engine_outcome {
    enum engine_verdict verdict;
    uint64_t fingerprint;
    int64_t incident_id; /* the incident it went to; 0: none */
    char *reason;        /* the decision's line, as the desk applied it */
};

/*
 * The submit is durable (result 0) or was not saved (HALE_ESTORE: nothing
 * of it was, and the desk is as the store is). v holds the outcome of each
 * event, in order, borrowed for the call.
 */
typedef void engine_done_cb(int result, const struct engine_outcome *v, size_t n, void *data);

/*
 * Decides and applies the n events of v, in order, and takes v (a
 * malloc()ed array; each event is finished with event_fini() and the
 * array freed). An event's received_ms is stamped now when 0. cb (may be
 * NULL) runs once, after everything the submit changed is durable; n may
 * be 0. Returns 0.
 */
int engine_submit(struct engine *g, struct event *v, size_t n, engine_done_cb *cb, void *data);

/*
 * The seam from the checks: a hard state change of check becomes an event
 * (source check, the check's labels plus check=NAME, severity from the
 * status, summary from the observation, firing for warning, critical and
 * unknown, resolved for ok) and is submitted; its hard state is recorded
 * for availability. A flapping start or stop becomes a note for the open
 * incident of the check. Soft changes are left out.
 */
void engine_check_event(struct engine *g, const struct config_check *check,
                        const struct detect_event *ev);

/* The event engine_check_event() makes of ev, into ret (initialised here). */
void engine_event_from_check(const struct config_check *check, const struct detect_event *ev,
                             struct event *ret);

#endif
