/* SPDX-License-Identifier: MIT */
/*
 * The engine's decision about one event, whole: given the configuration
 * (the service graph, the group window, the routes), the event, what is
 * open now (incidents, the events they hold, the silences) and the time,
 * engine_decide() says what the event means:
 *
 *   firing:   DUPLICATE of the open incident that holds its fingerprint,
 *             else SILENCED by an active silence,
 *             else SYMPTOM of the incident of an upstream service that is
 *               down (transitively; with any_of, only when every parent is),
 *             else JOIN the incident its service opened within the group
 *               window,
 *             else ROOT_CAUSE of an incident a downstream service opened
 *               within the group window (the upstream failed second: the
 *               incident now names it as probable root cause),
 *             else NEW;
 *   resolved: RESOLVE the open incident that holds its fingerprint, else
 *             IGNORE.
 *
 * NEW and ROOT_CAUSE also list the open incidents of downstream services
 * that become symptoms of the incident, and carry the event's route.
 *
 * Pure: plain structs in, a decision out; no I/O, no clock, no state kept
 * between calls. The desk applies the decision: it counts duplicates,
 * links symptoms, moves root causes, and checks that no runbook is in
 * charge before a RESOLVE resolves.
 */
#ifndef HALE_ENGINE_CORRELATE_H
#define HALE_ENGINE_CORRELATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/idindex.h"
#include "config/config.h"
#include "engine/event.h"
#include "engine/route.h"
#include "engine/silence.h"

/* The label that ties an event to a service of the `services` section. */
#define ENGINE_SERVICE_LABEL "service"

/* An incident that is open (not resolved, not closed), as the desk knows it. */
struct engine_open_incident {
    int64_t id;
    /*
     * The service it is about: the `service` label of the event that
     * opened it, or of the upstream event that became its root cause
     * (ROOT_CAUSE). NULL: none.
     */
    const char *service;
    int64_t opened_ms;  /* Unix ms */
    int64_t symptom_of; /* 0: a root cause; else the open incident it is a symptom of */
};

/*
 * An event still firing on an open incident, by fingerprint: the one that
 * opened it, and each one that joined it, came as its symptom or became
 * its root cause since. One entry per fingerprint.
 */
struct engine_open_event {
    uint64_t fingerprint;
    int64_t incident_id;
};

/* What is open now. Everything is borrowed for the call. */
struct engine_view {
    const struct engine_open_incident *incidents;
    size_t n_incidents;
    const struct engine_open_event *events;
    size_t n_events;
    const struct silence *silences; /* every silence; the inactive ones are skipped */
    size_t n_silences;
    /*
     * Where each fingerprint is in events, by the fingerprint's bits as an
     * id; NULL: none, events is searched. The desk keeps one: an event's
     * lookup costs the same with a thousand alerts firing as with one.
     */
    const struct idindex *event_index;
};

/* Sent over the API and kept on timelines: append only. */
enum engine_verdict {
    ENGINE_NEW,        /* open a new incident */
    ENGINE_DUPLICATE,  /* the same event again: count it on incident_id */
    ENGINE_JOIN,       /* another event of the incident's service: add it to incident_id */
    ENGINE_SYMPTOM,    /* an upstream is down: add it to incident_id as a symptom */
    ENGINE_ROOT_CAUSE, /* incident_id now has this event's service as probable root cause */
    ENGINE_RESOLVE,    /* the event is over on incident_id */
    ENGINE_IGNORE,     /* a resolved event no open incident holds */
    ENGINE_SILENCED,   /* recorded; opens nothing, pages no one */
};

struct engine_decision {
    enum engine_verdict verdict;
    uint64_t fingerprint; /* of the event, by engine.fingerprint_labels */
    int64_t incident_id;  /* DUPLICATE, JOIN, SYMPTOM, ROOT_CAUSE, RESOLVE; else 0 */
    /* RESOLVE: no other event of the incident is still firing, so the incident may resolve. */
    bool resolves_incident;
    int64_t silence_id; /* SILENCED: the first active silence that matched */
    /* SYMPTOM: the down upstream service; ROOT_CAUSE: the incident's service until now. */
    char *service; /* or NULL */
    /*
     * NEW, ROOT_CAUSE: open incidents that become symptoms of the incident
     * (the new one, or incident_id), in order of opening: incidents of
     * downstream services that this event's service being down explains,
     * and the symptoms they had.
     */
    int64_t *adopt;
    size_t n_adopt;
    struct engine_route_result route; /* NEW, ROOT_CAUSE: who takes it; else zeroed */
    char *reason;                     /* one line for the timeline, never NULL */
};

/*
 * Decides what ev means at now_ms (see the top of this file). The
 * fingerprint is computed here from ev's labels and c's
 * engine.fingerprint_labels (engine_event_fingerprint(); ev->fingerprint
 * is not read). ret is
 * initialised here; free it with engine_decision_fini(). Its route
 * borrows from c: keep a reference to c while it is in use; nothing in it
 * points into view, which may change as soon as this returns. Loop thread
 * or any other: it touches nothing shared.
 */
void engine_decide(const struct config *c, const struct event *ev, const struct engine_view *view,
                   int64_t now_ms, struct engine_decision *ret);

/* Frees what d holds and zeroes it. Accepts NULL and a zeroed decision. */
void engine_decision_fini(struct engine_decision *d);

/* "new", "duplicate", "join", "symptom", "root_cause", "resolve", "ignore", "silenced". */
const char *engine_verdict_name(enum engine_verdict v);

#endif
