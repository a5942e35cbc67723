/* SPDX-License-Identifier: MIT */
/*
 * What a notification says, and how each channel says it. A message is
 * built from an incident and what hale knows of it (the runs tried and
 * each step's outcome, the runbook's docs links, the events' `advice`
 * annotations, links to the incident and to the failing check's graph);
 * each channel (one file per type: webhook, slack, pagerduty, email,
 * exec) renders it into what is sent, from its template (a file of text
 * with placeholders, or the default shipped). Pure: no I/O, no loop.
 */
#ifndef HALE_NOTIFY_MESSAGE_H
#define HALE_NOTIFY_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "itsm/incident.h"
#include "notify/notify.h"

/* One step hale tried, as a message tells it. Strings borrowed. */
struct message_step {
    int64_t run_id;
    const char *runbook;
    const char *step;    /* its name */
    const char *outcome; /* "succeeded", "failed", "skipped", ... */
    const char *detail;  /* "exit 1 in 120 ms", "timed out after 10 s" */
};

/* A notification's content. Every pointer borrowed for the call that takes it. */
struct message {
    enum notify_reason reason;
    const struct incident *incident;
    const char *text;                 /* why now, in a sentence ("healing failed: ...") */
    const struct message_step *steps; /* what hale tried, oldest first */
    size_t n_steps;
    const char *run_outcome; /* of the last run, or NULL */
    const char *const *docs; /* the runbook's docs links */
    size_t n_docs;
    const char *const *advice; /* the events' `advice` annotations */
    size_t n_advice;
    const char *incident_url; /* the incident in the web UI */
    const char *graph_url;    /* GET /api/v1/checks/{name}/graph.svg, or NULL without a check */
    const struct incident *const *grouped; /* a grouped message: the incidents of the burst */
    size_t n_grouped;
    /* server.public_url, for the links of grouped incidents; NULL: they have none */
    const char *base_url;
    int64_t now_ms;
};

/* The text a template makes is cut at this many bytes; a payload is at most four times it. */
#define MESSAGE_MAX_BYTES (256u * 1024)

/* What a channel sends: an HTTP body, a mail, or a program's stdin. */
struct message_payload {
    char *body; /* the HTTP body, the whole mail (headers, MIME parts), or the stdin */
    size_t len;
    const char *content_type; /* static: "application/json", ... ; NULL for email and exec */
    char *headers[4];         /* extra HTTP headers, "X-Hale-Signature: sha256=..."; NULL ends */
    char *subject;            /* email: also in body; else NULL */
};

/* Frees what p holds and zeroes it. Accepts NULL. */
void message_payload_fini(struct message_payload *p);

/*
 * Renders m for notifier nt into ret (free with message_payload_fini()):
 * its template's text (nt->template, or the default of nt's type), then
 * the channel's shape: webhook (the documented JSON schema, signed with
 * HMAC-SHA256 in X-Hale-Signature when nt has a secret), slack (text +
 * blocks, also Mattermost's), pagerduty (Events API v2, dedup_key the
 * incident's id: resolve for a resolved message or incident, acknowledge
 * while the incident is acknowledged, else trigger), email (the whole
 * mail: the text's first line is the subject, the rest the plain text
 * part, and an HTML part of the same text), exec (the webhook's JSON).
 * Returns 0, or HALE_EPARSE with e saying what failed (text that is not
 * UTF-8 cannot go into JSON), HALE_ELIMIT past MESSAGE_MAX_BYTES. Any
 * thread.
 */
int message_render(const struct message *m, const struct config_notifier *nt,
                   struct message_payload *ret, struct err *e);

/*
 * Whether a template's text uses only known placeholders: 0, or -EINVAL
 * with e naming the unknown one and its line and column in the text (the
 * configuration adds the file). The placeholders are documented in
 * docs/notifications.md.
 */
int message_template_check(const char *text, struct err *e);

/* The text of the default template of notifiers of type t (docs/notifications.md); static. */
const char *message_template_default(enum config_notifier_type t);

#endif
