/* SPDX-License-Identifier: MIT */
/*
 * An event: something happened that may need an incident. Events come from
 * hale's own checks (a hard state change, flapping) and from outside (the
 * events API, Alertmanager's webhook), and all take the same path through
 * the engine: fingerprint, dedup, silences, correlation, routing.
 *
 * Labels identify what the event is about ({alertname="DiskFull",
 * instance="web-01", service="web"}); annotations describe it (summary,
 * description, runbook_url) and never change its identity.
 */
#ifndef HALE_ENGINE_EVENT_H
#define HALE_ENGINE_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/labels.h"
#include "config/config.h"
#include "itsm/incident.h"

enum event_status {
    EVENT_FIRING,
    EVENT_RESOLVED,
};

enum event_source {
    EVENT_SOURCE_CHECK,        /* one of hale's checks */
    EVENT_SOURCE_API,          /* POST /api/v1/events, `hale send-event` */
    EVENT_SOURCE_ALERTMANAGER, /* POST /api/v1/alertmanager */
};

/*
 * What a check's event says besides a state: nothing, or that the check
 * started or stopped flapping. A flapping note is not a failure of its
 * own: the engine decides nothing about it and does not record it; it
 * goes on the timeline of the open incident that holds its fingerprint,
 * if one does.
 */
enum event_note {
    EVENT_NOTE_NONE,
    EVENT_NOTE_FLAPPING_STARTED,
    EVENT_NOTE_FLAPPING_STOPPED,
};

/*
 * Memory that the events of one decoded batch share: their labels and
 * annotations (arrays and strings) and their summaries, allocated in one
 * arena by the thread that decodes them and freed at once when the last
 * of the events is finished. The loop finishes a thousand events of a
 * batch by freeing a few chunks, not some twenty strings each that
 * another thread allocated. Reference-counted: each event of the block
 * holds one, and its maker one until it lets go.
 */
struct event_block;

/* A new, empty block, with one reference for the caller. */
struct event_block *event_block_new(void);
/* Takes a reference to b. */
void event_block_ref(struct event_block *b);
/* Drops a reference to b, freeing it and all it holds with the last. Accepts NULL. */
void event_block_unref(struct event_block *b);
/* size bytes in b, zeroed and aligned for any type, freed with b. */
void *event_block_alloc(struct event_block *b, size_t size);
/* A copy of the len bytes of s, NUL-terminated, in b. */
char *event_block_strndup(struct event_block *b, const char *s, size_t len);

/*
 * Who owns what: an event owns its sender, and its labels, annotations and
 * summary too unless block is set; then those live in the block, and the
 * event is read-only in them (labels_set() or a new summary would free or
 * grow what the block owns). event_fini() frees what the event owns and
 * drops its reference to the block.
 */
struct event {
    enum event_source source;
    enum event_note note;
    enum event_status status;
    enum incident_severity severity; /* default warning */
    struct labels labels;            /* the identity; never empty */
    struct labels annotations;
    char *summary;             /* one line for people; never NULL ("" at worst) */
    struct event_block *block; /* NULL: the event owns its labels, annotations and summary */
    int64_t starts_ms;         /* Unix ms; 0: unset (the time it was received) */
    int64_t ends_ms;           /* Unix ms; 0: unset */
    int64_t received_ms;       /* Unix ms, stamped on arrival */
    uint64_t fingerprint;      /* of the identifying labels; 0 until computed */
    /*
     * event_content_hash() of the event, computed ahead by whoever made it
     * where that costs the loop nothing (the events decoder, on the HTTP
     * thread); 0: not computed, the desk computes it. Whoever changes what
     * the event says after computing it sets it back to 0.
     */
    uint64_t content;
    /*
     * labels_fingerprint() of labels (every label), computed ahead as
     * content is; 0: not computed. The event's fingerprint depends on the
     * configuration (engine.fingerprint_labels), so the engine makes it,
     * from this one when every label counts (engine_event_fingerprint()).
     */
    uint64_t labels_fingerprint;
    /*
     * Who sent it: "user:NAME" for the token of an API request,
     * "check:NAME" for a check; NULL when not known. Resolutions by a
     * sender are resolved_by it.
     */
    char *sender;
};

/* A zeroed, firing, warning event with empty labels and summary "". */
void event_init(struct event *ev);
/* The same, its summary in block, of which it takes a reference (see struct event). */
void event_init_shared(struct event *ev, struct event_block *block);
/* Frees what ev holds and zeroes it. Accepts NULL and a zeroed event. */
void event_fini(struct event *ev);

/*
 * A hash of what ev says: its status, severity, source, summary, labels
 * and annotations; not when it came or started, nor who sent it (the
 * desk adds the sender). Two events with the same content hash say the
 * same thing, so the later one is a repeat. Never 0. The one function for
 * every source, so the same event gets the same value wherever it was
 * computed. Pure; any thread.
 */
uint64_t event_content_hash(const struct event *ev);

/* The label a check's events carry its name in, beside the check's own labels. */
#define EVENT_CHECK_LABEL "check"

/*
 * The labels of a check's events, into ret (initialised here): the check's
 * labels plus check=NAME, so that two checks with the same labels never
 * share a fingerprint.
 */
void event_check_labels(const struct config_check *check, struct labels *ret);

/* "firing", "resolved"; "check", "api", "alertmanager". Static storage. */
const char *event_status_name(enum event_status s);
int event_status_parse(const char *s, enum event_status *ret);
const char *event_source_name(enum event_source s);

#endif
