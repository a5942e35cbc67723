/* SPDX-License-Identifier: MIT */
/*
 * What the channel files of src/notify/ share (message.c renders the text
 * of a message from its template; each channel file shapes it): private
 * to the messages and their channels, not the dispatcher's business.
 */
#ifndef HALE_NOTIFY_CHANNELS_H
#define HALE_NOTIFY_CHANNELS_H

#include <jansson.h>

#include "base/strbuf.h"
#include "base/template.h"
#include "notify/message.h"

/*
 * Makes m's text into out (initialised here; strbuf_fini() it after a
 * success): from nt's template, or when nt has none from the channel's
 * default, def_users for a message to end users and def for any other,
 * values through escape (may be NULL). The text is made UTF-8 (bytes that
 * are not replaced by U+FFFD). Returns 0, or HALE_ELIMIT past
 * MESSAGE_MAX_BYTES.
 */
int message__text(const struct message *m, const struct config_notifier *nt, const char *def,
                  const char *def_users, template_escape_fn *escape, struct strbuf *out,
                  struct err *e);

/* Moves body, serialised compactly, into ret; takes the reference. HALE_EPARSE when it cannot. */
int message__json_body(json_t *body, struct message_payload *ret, struct err *e);

/*
 * m as the webhook's JSON, its text from nt's template
 * or the default for m's reason, serialised into ret: the webhook's and
 * the exec channel's body.
 */
int message__json_payload(const struct message *m, const struct config_notifier *nt,
                          struct message_payload *ret, struct err *e);

/* A string of at most max bytes of s, cut on a UTF-8 boundary with "…" when longer. */
json_t *message__json_cut(const char *s, size_t max);

int message__webhook(const struct message *m, const struct config_notifier *nt,
                     struct message_payload *ret, struct err *e);
int message__slack(const struct message *m, const struct config_notifier *nt,
                   struct message_payload *ret, struct err *e);
int message__pagerduty(const struct message *m, const struct config_notifier *nt,
                       struct message_payload *ret, struct err *e);
int message__email(const struct message *m, const struct config_notifier *nt,
                   struct message_payload *ret, struct err *e);
int message__exec(const struct message *m, const struct config_notifier *nt,
                  struct message_payload *ret, struct err *e);

/* The default templates (message.c). */
extern const char message__default_text[];
extern const char message__default_users[];
extern const char message__default_slack[];
extern const char message__default_pagerduty[];
extern const char message__default_email[];
extern const char message__default_email_users[];

#endif
