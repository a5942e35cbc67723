/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the dispatcher's files: notify.c (the policy:
 * who is told of what, and when), outbox.c (the durable queue: delivery,
 * retries, grouping, the timeline) and render.c (from rows to what the
 * channels' renderers send).
 */
#ifndef HALE_NOTIFY_INTERNAL_H
#define HALE_NOTIFY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/message.h"
#include "notify/notify.h"

struct net_multi;
struct metrics_family;

/* How often the outbox looks for what is due, at most. */
#define NOTIFY__TICK_MS       250
/* Notifications one grouped message carries at most. */
#define NOTIFY__GROUP_MAX     50
/* Bytes of a receiver's answer kept for the timeline. */
#define NOTIFY__ANSWER_MAX    512
/* Notifications the outbox holds at most: more are refused (logged, counted). */
#define NOTIFY__OUTBOX_MAX    10000
/* Incidents whose notifications the policy remembers (the open ones, mostly). */
#define NOTIFY__INCIDENTS_MAX 20000

/* A notification of the outbox, in memory while pending. */
struct notify__item {
    struct store_notification rec;
    bool busy;    /* an attempt is in flight */
    bool durable; /* its row is in the store, after what its incident's content was written */
};

/* What the policy remembers of an incident. */
struct notify__incident {
    int64_t id;
    unsigned reopened;
    enum incident_state state;
    bool escalated; /* its chain runs: pages went out for this opening */
    bool told;      /* some notifier was told of this opening */
    bool users_told;
};

/* The last message a team's notifier was sent, for the rate limit. */
struct notify__window {
    char *team;
    char *notifier;
    int64_t sent_ms;
};

struct notify {
    struct notify_options o;
    const struct config *config;
    struct store_reader *reader;
    struct net_multi *net;
    uv_timer_t *timer; /* freed by its close callback */
    bool stopping;
    /* notify_quiesce(): no attempt starts; cb once none is in flight (or at the timer) */
    bool quiescing;
    void (*quiet_cb)(void *data);
    void *quiet_data;

    struct notify__item **items; /* pending, by id */
    size_t n_items, cap_items;
    struct notify__incident *incidents;
    size_t n_incidents, cap_incidents;
    struct notify__window *windows;
    size_t n_windows, cap_windows;
    struct notify__delivery **flying; /* attempts in flight */
    size_t n_flying, cap_flying;

    struct metrics_family *m_sent;    /* counter {notifier, result} */
    struct metrics_family *m_pending; /* gauge */
};

/* One attempt: the items it carries (1, or a group), its transfer or child. */
struct notify__delivery;

/* ---- outbox.c ---- */

/* Loads the pending notifications from the store. */
int notify__outbox_load(struct notify *n, struct err *e);
/* Queues a new notification (rec copied; id, state, times set here) and writes it. */
void notify__outbox_add(struct notify *n, const struct store_notification *rec);
/* Cancels the pending notifications of incident id that are escalation levels. */
size_t notify__outbox_cancel_levels(struct notify *n, int64_t id, const char *why);
/* Looks for what is due now and starts it. */
void notify__outbox_kick(struct notify *n);
/* Cuts every attempt in flight: they stay pending for the next start. */
void notify__outbox_stop(struct notify *n);
/* An attempt ended: while quiescing, the last one ends the wait. */
void notify__quiet_check(struct notify *n);
void notify__outbox_free(struct notify *n);
int64_t notify__now_ms(void);

/*
 * A timeline entry on incident id by actor: through the desk when it holds
 * the incident (its watchers hear), else straight to the store.
 */
void notify__timeline(struct notify *n, int64_t id, const char *actor, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- render.c ---- */

/* The reason a row names ("level"); NOTIFY_ESCALATED for a name this hale does not know. */
enum notify_reason notify__reason_parse(const char *s);

/*
 * Renders the n_items notifications (one, or a group for one team's
 * notifier: the first one's incident, with the others as its burst) for
 * notifier nt, reading what hale knows of their incidents through n's
 * reader. Returns 0, or HALE_ESTORE, HALE_EPARSE or HALE_ELIMIT with e
 * set.
 */
int notify__render(struct notify *n, const struct config_notifier *nt,
                   struct notify__item *const *items, size_t n_items, struct message_payload *ret,
                   struct err *e);

#endif
