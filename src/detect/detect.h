/* SPDX-License-Identifier: MIT */
/*
 * Detect: the per-check state machine between checks and the engine. Each
 * observation's status is fed in with its time; detect keeps the check's
 * state (soft until `failures` bad or `recoveries` ok results confirm it,
 * then hard), watches for flapping, and turns confirmed changes into events
 * handed to a callback. It never acts: the engine decides what an event means.
 *
 * Rules (docs/detect.md explains them for users):
 * - A check starts hard OK. Leaving OK takes `failures` consecutive non-ok
 *   results (warning, critical and unknown all count); the hard state becomes
 *   the status of the result that completes the count.
 * - While hard non-ok, a result with another non-ok status (warning <->
 *   critical <-> unknown) changes the hard state at once: the problem is
 *   already confirmed, only its severity moved.
 * - Returning to OK takes `recoveries` consecutive ok results.
 * - UNKNOWN (the check could not tell) is a non-ok status of its own: it
 *   counts toward `failures` and is reported like warning and critical.
 * - Flapping, Nagios style: the weighted percent of state changes over the
 *   last 21 results; at or above flap_high it starts (one event), and
 *   state-change events are held back until it falls below flap_low (one
 *   event), after which the hard state is reported once if it differs from
 *   the one last reported.
 */
#ifndef HALE_DETECT_DETECT_H
#define HALE_DETECT_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "checks/checks.h"
#include "config/config.h"

/* Results kept for flapping: 21 results give 20 possible changes. */
#define DETECT_HISTORY 21

#define DETECT_FLAP_HIGH_DEFAULT 50.0
#define DETECT_FLAP_LOW_DEFAULT  25.0

/* Persisted and sent over the API: append only. */
enum detect_event_kind {
    DETECT_EVENT_STATE_CHANGE = 0,
    DETECT_EVENT_FLAPPING_STARTED = 1,
    DETECT_EVENT_FLAPPING_STOPPED = 2,
};

/* "state_change", "flapping_started", "flapping_stopped"; static storage. */
const char *detect_event_kind_name(enum detect_event_kind k);

struct detect_params {
    unsigned failures;   /* consecutive non-ok results before leaving ok; >= 1 */
    unsigned recoveries; /* consecutive ok results before ok again; >= 1 */
    double flap_high;    /* percent; flapping starts at or above it; default 50 */
    double flap_low;     /* percent; flapping stops below it; default 25 */
    bool flap_detection; /* default true */
    bool soft_events;    /* also emit soft state changes (hard = false); default false */
};

/* Fills p with the defaults: failures 1, recoveries 1, flapping on at 50/25 %. */
void detect_params_init(struct detect_params *p);
/* Defaults, with failures and recoveries taken from a check's configuration. */
void detect_params_from_check(struct detect_params *p, const struct config_check *c);

struct detect_event {
    const char *check; /* borrowed: the name given to detect_init() */
    enum detect_event_kind kind;
    /*
     * STATE_CHANGE: the status last reported and the new one. FLAPPING_*:
     * both are the hard status at that moment.
     */
    enum check_status old_status, new_status;
    bool hard;        /* the new status is hard (always true unless soft_events) */
    uint64_t time_ms; /* the time of the triggering observation */
    char *summary;    /* a copy of the triggering observation's summary; never NULL */
};

/*
 * Receives each event. ev and ev->summary are valid until the callback
 * returns; to keep the summary, take it (ev->summary = NULL) and free() it
 * later. The callback must not feed the same struct detect.
 */
typedef void detect_event_cb(struct detect_event *ev, void *data);

/*
 * What a restart needs to resume a check's state: a plain struct of
 * integers without padding, so the store can keep it as columns or as a
 * blob (host byte order). Taken with
 * detect_snapshot_take(), given back with detect_snapshot_restore().
 */
struct detect_snapshot {
    uint64_t last_change_ms;         /* time of the last hard change, 0 if none */
    uint32_t count;                  /* consecutive results counted toward the next change */
    uint32_t n_history;              /* results in history, 0..DETECT_HISTORY */
    uint8_t status;                  /* enum check_status of the last result */
    uint8_t hard_status;             /* enum check_status of the hard state */
    uint8_t reported;                /* enum check_status last reported in a state change */
    uint8_t hard;                    /* 1: the last result's status is the hard state */
    uint8_t flapping;                /* 1: flapping started and not stopped */
    uint8_t history[DETECT_HISTORY]; /* enum check_status, oldest first */
    uint8_t reserved[6];             /* zero; makes the size 48 with no padding */
};

/*
 * The state machine of one check. Declared here so that an owner with many
 * checks (the runner) can embed it; its fields are detect.c's alone: use
 * the functions below. Small on purpose: one per check, all the time.
 */
struct detect {
    const char *name;
    detect_event_cb *cb;
    void *data;
    struct detect_params params;
    uint64_t last_change_ms;
    unsigned count;
    uint8_t status;      /* enum check_status of the last result */
    uint8_t hard_status; /* confirmed */
    uint8_t reported;    /* last hard status sent in a state change */
    bool hard;
    bool flapping;
    /* Ring of the last results: history[(first + i) % DETECT_HISTORY], i < n. */
    uint8_t first, n;
    uint8_t history[DETECT_HISTORY];
};

/*
 * Sets up d as the state machine of one check, in hard OK. name is borrowed
 * and must outlive d (events carry it); p is copied. cb may be NULL.
 * Returns 0, or -EINVAL when p is out of range (failures or recoveries 0,
 * thresholds outside 0..100 or low above high). d holds nothing to release.
 */
int detect_init(struct detect *d, const char *name, const struct detect_params *p,
                detect_event_cb *cb, void *data);

/*
 * Feeds one result: its status, its summary (copied into any event; NULL
 * reads as "") and its time. Calls the callback for each event it causes
 * (zero, one or two: a flapping stop may be followed by a state change)
 * before returning. Returns the number of events, or -EINVAL for a status
 * outside enum check_status (the state is then unchanged).
 */
int detect_feed(struct detect *d, enum check_status status, const char *summary, uint64_t time_ms);
/* detect_feed() with an observation's status, summary and started_ms. */
int detect_feed_observation(struct detect *d, const struct check_observation *o);

/* The last result's status; it is hard when detect_is_hard(). */
enum check_status detect_status(const struct detect *d);
/* The confirmed (hard) status. */
enum check_status detect_hard_status(const struct detect *d);
bool detect_is_hard(const struct detect *d);
bool detect_is_flapping(const struct detect *d);
/* Consecutive results counted toward the next change (the "attempt"). */
unsigned detect_count(const struct detect *d);
/* The weighted percent of state changes over the history, 0..100. */
double detect_flap_percent(const struct detect *d);

void detect_snapshot_take(const struct detect *d, struct detect_snapshot *ret_snapshot);
/*
 * Replaces d's state with a snapshot's (the parameters stay d's own).
 * Returns 0, or -EINVAL when a field is out of range (d is then unchanged).
 * Emits no event.
 */
int detect_snapshot_restore(struct detect *d, const struct detect_snapshot *s);

#endif
