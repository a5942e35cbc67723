/* SPDX-License-Identifier: MIT */
/*
 * Notifications: telling people what hale could not fix. The dispatcher
 * decides who hears of an incident and when (each team's policy: escalated
 * by default, opened and resolved when asked; escalation levels until
 * somebody acknowledges; the week's on-call person), puts every
 * notification in a durable outbox in the store, and delivers it through
 * its notifier's channel (notify/message.h renders it), retrying with
 * backoff while the receiver fails, across restarts, with every attempt on
 * the incident's timeline. A burst of incidents for one team within a
 * minute is sent as one grouped message.
 *
 * It hears of incidents from the desk's watch and of failed heals from the
 * runbook executor's notify seam; an incident healed by hale pages no one.
 * Loop thread only.
 */
#ifndef HALE_NOTIFY_NOTIFY_H
#define HALE_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "base/err.h"
#include "config/config.h"
#include "itsm/incident.h"
#include "itsm/itsm.h"
#include "store/store.h"

struct notify;
struct metrics;

/* Why a notification goes out: the policy's words, stored with it. */
enum notify_reason {
    NOTIFY_OPENED,       /* an incident opened (only when the team asks) */
    NOTIFY_ESCALATED,    /* healing failed, no runbook, a guard tripped, an approval waits */
    NOTIFY_LEVEL,        /* not acknowledged in time: the next escalation level */
    NOTIFY_RESOLVED,     /* resolved, to those who were told of it */
    NOTIFY_USERS,        /* a plain-language message to end users (a step, a policy) */
    NOTIFY_STEP,         /* a runbook's notify step: its words to the team, no page */
    NOTIFY_ACKNOWLEDGED, /* somebody acknowledged it: a page that follows the incident says so */
};

/* "opened", "escalated", "level", "resolved", "users", "step", "acknowledged"; static. */
const char *notify_reason_name(enum notify_reason r);

struct notify_options {
    uv_loop_t *uv;
    struct store *store;
    struct itsm *desk;
    const struct config *config; /* borrowed until the next notify_set_config() */
    struct metrics *metrics;     /* hale_notifications_* families; may be NULL */
    /* The daemon's address as people reach it, for links ("http://127.0.0.1:8080"). */
    const char *base_url;
};

/*
 * Loads the outbox (notifications not yet delivered or given up on) and
 * the escalation chains in progress through a reader of o->store, and
 * goes on delivering them. Returns 0, or HALE_ESTORE with e set.
 */
int notify_new(const struct notify_options *o, struct notify **ret, struct err *e);
/*
 * Before a stop: starts no attempt any more, lets those in flight end (and
 * their outcome be written) for at most timeout_ms, then calls cb(data) on
 * the loop; at once when none is in flight. An attempt cut in flight may
 * have reached its receiver, and would go out again after the restart: a
 * stop should not page twice. n may be NULL.
 */
void notify_quiesce(struct notify *n, uint64_t timeout_ms, void (*cb)(void *data), void *data);

/*
 * Stops delivering: attempts in flight are cut and retried after a restart.
 * The policy goes on hearing until store_close(): what it queues meanwhile
 * (the escalations of the runs a stop interrupts, the changes the last
 * commits make) is written to the outbox and delivered after the restart.
 */
void notify_stop(struct notify *n);
/* Accepts NULL. After store_close(). */
void notify_free(struct notify *n);
void notify_set_config(struct notify *n, const struct config *config);

/*
 * The desk made i durable (its watch): opened (the team's policy; an
 * incident with no runbook escalates at once), acknowledged (its
 * escalation chain stops), resolved (those told of it hear it ended).
 */
void notify_incident_changed(struct notify *n, const struct incident *i);

/*
 * hale could not heal i (the runbook executor's seam: healing failed, a
 * guard tripped, an approval waits): escalate to team (NULL: i's team)
 * with text saying why.
 */
void notify_escalate(struct notify *n, const struct incident *i, const char *team,
                     const char *text);

/*
 * A runbook's notify step (the executor's seam): text to team's (NULL:
 * i's team) notifiers, whatever its notify_on; no escalation chain, and it
 * does not stand for a page (a later escalation still pages).
 */
void notify_step(struct notify *n, const struct incident *i, const char *team, const char *text);

/*
 * A plain-language message for end users, to team's (NULL: i's team)
 * `users` notifiers (a runbook's notify step `to: users`, a policy).
 */
void notify_users(struct notify *n, const struct incident *i, const char *team, const char *text);

/* Notifications waiting in the outbox (not delivered, not given up on). */
size_t notify_pending(const struct notify *n);

#endif
