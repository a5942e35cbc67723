/* SPDX-License-Identifier: MIT */
/*
 * What the desk's files share: the desk itself, and the one way every
 * change is written. itsm.c holds the incidents in memory and writes
 * changes; apply.c applies the engine's decisions about events; act.c
 * applies people's actions to incidents and opens incidents by hand;
 * charge.c is the runbook executor's hands on incidents;
 * problem.c detects problems and lets people work them. Loop thread only,
 * like the desk.
 */
#ifndef HALE_ITSM_INTERNAL_H
#define HALE_ITSM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "base/idindex.h"
#include "itsm/itsm.h"

struct itsm__watcher {
    itsm_watch_cb *cb;
    void *data;
    struct itsm__watcher *next;
};

/* An incident's events ended while a runbook was in charge: when, and who said so. */
struct itsm__ended {
    int64_t incident_id;
    int64_t time_ms;
    char *by;  /* "hale" for a check, else the sender */
    char *why; /* "web-health is ok again" */
};

struct itsm {
    struct store *st;
    struct store_reader *reader;
    const struct config *config;
    struct incident *live; /* not closed: new, acknowledged, in_progress, recently resolved */
    size_t n_live, cap_live;
    /*
     * Where each incident held is in live, by id: every event and every
     * run step finds incidents by id, and with thousands open a scan would
     * cost more than the rest.
     */
    struct idindex live_index;
    /* Not resolved, and those whose resolution is not on disk yet. */
    struct problem *problems;
    size_t n_problems, cap_problems;
    struct itsm__watcher *watchers;
    /*
     * The fingerprints firing on open incidents: the engine's view of them,
     * handed to it as is (no copy for each event), and in step with it
     * what the desk knows of each one's last event (held_rows). Found by
     * fingerprint through held_index, which the view hands on too: every
     * event looks its fingerprint up, whatever the number of open alerts.
     */
    struct engine_open_event *held;
    struct itsm__held_row *held_rows;
    size_t n_held, cap_held;
    struct idindex held_index;
    /*
     * An incident may have stopped being open (people resolved or closed
     * it, it left memory, the store's copy came back) since the last view:
     * the next view forgets the fingerprints it held. Events resolve an
     * incident only once it holds none.
     */
    bool held_stale;
    /*
     * Incidents whose events all ended while a runbook was in charge
     * (charge.c): when the run ends without healing, they resolve as the
     * events said.
     */
    struct itsm__ended *ended;
    size_t n_ended, cap_ended;
    /*
     * The last itsm_engine_view()'s open incidents, rebuilt only when the
     * incidents changed in a way the engine sees (view_gen behind
     * incidents_gen): a batch of duplicates does not copy them at each
     * event.
     */
    struct engine_open_incident *view_incidents;
    size_t n_view_incidents, cap_view_incidents;
    uint64_t incidents_gen, view_gen;
};

/*
 * The last event kept of a fingerprint held: when it started (a delivery
 * again has the same), its row, and a hash of what it said. The same
 * event again is a repeat: counted on that row, not kept again.
 */
struct itsm__held_row {
    int64_t starts_ms;
    int64_t event_id; /* 0: none known */
    uint64_t content; /* 0: not known */
};

/*
 * An incident was added, removed, reloaded, changed state, service or
 * root cause: the next view rebuilds its incidents. Pointers into the
 * incidents held (a service's text) must not outlive such a change.
 */
static inline void itsm__incidents_changed(struct itsm *x)
{
    x->incidents_gen++;
}

/* ---- itsm.c: the incidents held in memory, and writing ---- */

/*
 * Pointers into the array of incidents held are good until the next
 * itsm__live_add(), itsm__live_reload() or prune: find again by id after.
 */
struct incident *itsm__live_find(struct itsm *x, int64_t id);
/* The incident of fingerprint fp held, or NULL. */
struct incident *itsm__live_by_fingerprint(struct itsm *x, const char *fp);
/* Takes i (its fields move into the array); returns where it is now. */
struct incident *itsm__live_add(struct itsm *x, struct incident *i);
/* Resolved incidents past the reopen window will not reopen: dropped. */
void itsm__live_prune(struct itsm *x, int64_t now_ms);
/*
 * A change that failed to commit: the store's copy of incident id is held
 * again (or an incident whose opening never reached it is forgotten).
 */
void itsm__live_reload(struct itsm *x, int64_t id);
/* Tells the watchers that i changed durably. */
void itsm__watchers_tell(struct itsm *x, const struct incident *i);

/*
 * What a batch changed besides its incident: a problem opened or joined,
 * and earlier incidents linked to it. If the batch fails, they take the
 * store's copy back too.
 */
struct itsm__linked {
    int64_t problem_id; /* 0: none */
    int64_t *incidents; /* malloc()ed */
    size_t n_incidents;
};

/*
 * A batch for a change of i, with i's row first: the timeline entries that
 * follow refer to it, and the row may not be on disk yet (its opening
 * batch may still be queued, or may have failed). itsm__commit() puts it
 * again, whole.
 */
struct store_batch *itsm__batch_for(const struct incident *i);

/*
 * Puts i into b and submits b; cb (may be NULL) hears when it is durable,
 * and the watchers when it succeeded. linked (may be NULL) is taken.
 */
void itsm__commit(struct itsm *x, struct store_batch *b, struct incident *i,
                  struct itsm__linked *linked, itsm_done_cb *cb, void *data);

/* Appends an entry to i's timeline, or p's, in b. */
void itsm__timeline_add(struct store_batch *b, const struct incident *i, enum timeline_kind kind,
                        const char *actor, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void itsm__problem_entry_add(struct store_batch *b, const struct problem *p,
                             enum timeline_kind kind, const char *actor, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

/* Appends the audit entry of a person's action on "KIND:ID" ("incident:42"). */
void itsm__audit_add(struct store_batch *b, const char *actor, const char *origin,
                     const char *action, const char *kind, int64_t id);

/* ---- act.c ---- */

/* The incident id names: held in memory, else read into *spare; NULL with e set. */
struct incident *itsm__find(struct itsm *x, int64_t id, struct incident *spare, struct err *e);

/* ---- charge.c ---- */

/* i's events all ended while a runbook was in charge (by, why: as for a resolution). */
void itsm__ended_in_charge(struct itsm *x, const struct incident *i, int64_t time_ms,
                           const char *by, const char *why);
/* Accepts NULL. */
void itsm__ended_free(struct itsm *x);

/* ---- apply.c ---- */

/*
 * Loads the fingerprints firing on the open incidents; an open incident
 * from before the engine (fingerprint "check:NAME") gets the fingerprint
 * its check's events have now. Returns 0 or HALE_ESTORE.
 */
int itsm__held_load(struct itsm *x);

/* ---- problem.c ---- */

/* Takes p (its fields move into the array); returns where it is now. */
struct problem *itsm__problem_add(struct itsm *x, struct problem *p);

/*
 * A fingerprint that opened problem_after incidents within problem_within
 * gets a problem (or its open one gets one more incident). i is the new
 * incident, not yet in the store; b its batch. What it linked goes into
 * *ret_linked (zeroed first).
 */
void itsm__problem_note(struct itsm *x, struct store_batch *b, struct incident *i,
                        struct itsm__linked *ret_linked);

/* A write that touched problem id failed: hold the store's copy again. */
void itsm__problem_reload(struct itsm *x, int64_t id);

#endif
