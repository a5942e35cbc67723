/* SPDX-License-Identifier: MIT */
/*
 * A message's content, read from the store: what hale tried for an
 * incident (its runs, oldest first, and each step attempt with its
 * outcome), the runbooks' docs links, the `advice` annotations of the
 * events it received, and the links to the incident in the web UI and to
 * its check's graph. The dispatcher builds one per notification, sets why
 * (reason, text, the grouped incidents), then renders it for each notifier
 * with message_render().
 */
#ifndef HALE_NOTIFY_CONTENT_H
#define HALE_NOTIFY_CONTENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "itsm/incident.h"
#include "notify/message.h"
#include "store/store.h"

/* Step attempts a message tells at most: the newest, when a run retried for long. */
#define MESSAGE_STEPS_MAX  50
/* Runs read per incident at most: the newest. */
#define MESSAGE_RUNS_MAX   10
/* Distinct advice annotations a message carries at most, and events read for them. */
#define MESSAGE_ADVICE_MAX 10
#define MESSAGE_EVENTS_MAX 200

/* A message and everything it points to. Embedded: message_build()/message_content_fini(). */
struct message_content {
    struct message m; /* reason NOTIFY_ESCALATED, text and grouped NULL: the caller sets them */
    /* private: what m points to */
    struct incident incident;
    struct message_step *steps;
    char **strings; /* every string the steps, docs and advice point to */
    size_t n_strings;
    char **docs, **advice;
    char *run_outcome, *incident_url, *graph_url, *base_url;
};

/*
 * Fills *ret for incident i (copied) from what reader r reads (its runs and
 * their steps, its events) and config (the runbooks' docs; borrowed for
 * the call only: ret keeps copies), with links made from base_url (the
 * server's public_url) and m.now_ms set to now_ms. Returns 0, or
 * HALE_ESTORE with e set (*ret untouched). Any thread that owns r.
 */
int message_build(struct store_reader *r, const struct config *config, const struct incident *i,
                  const char *base_url, int64_t now_ms, struct message_content *ret, struct err *e);
/* Accepts NULL and a zeroed struct. */
void message_content_fini(struct message_content *c);

/* "BASE/api/v1/checks/NAME/graph.svg", the name percent-encoded; free(). */
char *message_graph_url(const char *base_url, const char *check);
/* "BASE/#/incidents/ID", the incident's page in the web UI; free(). */
char *message_incident_url(const char *base_url, int64_t id);

#endif
