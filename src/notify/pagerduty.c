/* SPDX-License-Identifier: MIT */
/*
 * The pagerduty channel: PagerDuty's Events API v2. The page follows the
 * incident through dedup_key, the incident's id: a trigger while it needs
 * people, an acknowledge once somebody acknowledged it in hale, a resolve
 * when it is resolved. A trigger carries the template's one-line summary
 * and, in custom_details, what hale tried, the advice and the docs; the
 * incident and its docs as links, the check's graph as an image.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "codec/json.h"
#include "notify/channels.h"

/* PagerDuty cuts a summary longer than this. */
#define PAGERDUTY_SUMMARY_MAX 1024

static const char *event_action(const struct message *m)
{
    const struct incident *i = m->incident;
    if (m->reason == NOTIFY_RESOLVED || i->state == INCIDENT_RESOLVED ||
        i->state == INCIDENT_CLOSED)
        return "resolve";
    if (m->reason == NOTIFY_ACKNOWLEDGED || i->state == INCIDENT_ACKNOWLEDGED)
        return "acknowledge";
    return "trigger";
}

static const char *severity(enum incident_severity s)
{
    switch (s) {
    case INCIDENT_SEVERITY_CRITICAL:
        return "critical";
    case INCIDENT_SEVERITY_WARNING:
        return "warning";
    case INCIDENT_SEVERITY_INFO:
        break;
    }
    return "info";
}

static void set_text(json_t *o, const char *key, const char *value)
{
    if (value && *value)
        json_object_set_new(o, key, codec_json_text(value));
}

static json_t *details(const struct message *m)
{
    const struct incident *i = m->incident;
    char p[16];
    snprintf(p, sizeof(p), "P%u", i->priority);
    json_t *d =
            json_pack("{s:I, s:s, s:s, s:s}", "incident", (json_int_t)i->id, "priority", p, "state",
                      incident_state_name(i->state), "reason", notify_reason_name(m->reason));
    set_text(d, "why", m->text);
    set_text(d, "assignee", i->assignee);
    set_text(d, "runbook", i->runbook);
    set_text(d, "run_outcome", m->run_outcome);
    json_t *steps = json_array();
    for (size_t k = 0; k < m->n_steps; k++) {
        const struct message_step *s = &m->steps[k];
        char *line;
        if (s->detail && *s->detail)
            line = xasprintf("%s / %s: %s (%s)", s->runbook ? s->runbook : "-",
                             s->step ? s->step : "-", s->outcome ? s->outcome : "-", s->detail);
        else
            line = xasprintf("%s / %s: %s", s->runbook ? s->runbook : "-", s->step ? s->step : "-",
                             s->outcome ? s->outcome : "-");
        json_array_append_new(steps, codec_json_text(line));
        free(line);
    }
    json_object_set_new(d, "tried", steps);
    json_t *advice = json_array();
    for (size_t k = 0; k < m->n_advice; k++)
        json_array_append_new(advice, codec_json_text(m->advice[k]));
    json_object_set_new(d, "advice", advice);
    json_object_set_new(d, "labels", codec_json_labels(&i->labels));
    set_text(d, "incident_url", m->incident_url);
    return d;
}

static json_t *links(const struct message *m)
{
    json_t *a = json_array();
    if (m->incident_url) {
        char *t = xasprintf("Incident #%" PRId64 " in hale", m->incident->id);
        json_array_append_new(
                a, json_pack("{s:o, s:s}", "href", codec_json_text(m->incident_url), "text", t));
        free(t);
    }
    for (size_t k = 0; k < m->n_docs; k++)
        json_array_append_new(a, json_pack("{s:o, s:s}", "href", codec_json_text(m->docs[k]),
                                           "text", "Runbook docs"));
    return a;
}

static json_t *trigger(const struct message *m, const struct config_notifier *nt,
                       const char *summary)
{
    const struct incident *i = m->incident;
    const char *source = i->service ? i->service : i->check ? i->check : "hale";
    json_t *payload = json_pack("{s:o, s:o, s:s}", "summary",
                                message__json_cut(summary, PAGERDUTY_SUMMARY_MAX), "source",
                                codec_json_text(source), "severity", severity(i->severity));
    if (i->opened_ms > 0)
        json_object_set_new(payload, "timestamp", codec_json_time(i->opened_ms));
    set_text(payload, "component", i->check);
    set_text(payload, "group", i->team);
    json_object_set_new(payload, "class", json_string(incident_category_name(i->category)));
    json_object_set_new(payload, "custom_details", details(m));
    json_t *body = json_pack("{s:o, s:s, s:s}", "routing_key", codec_json_text(nt->routing_key),
                             "event_action", "trigger", "dedup_key", "");
    json_object_set_new(body, "payload", payload);
    json_object_set_new(body, "client", json_string("hale"));
    set_text(body, "client_url", m->incident_url);
    json_object_set_new(body, "links", links(m));
    if (m->graph_url) {
        char *alt = xasprintf("Recent graph of check %s", i->check ? i->check : "");
        json_object_set_new(body, "images",
                            json_pack("[{s:o, s:o, s:o}]", "src", codec_json_text(m->graph_url),
                                      "href", codec_json_text(m->graph_url), "alt",
                                      codec_json_text(alt)));
        free(alt);
    }
    return body;
}

int message__pagerduty(const struct message *m, const struct config_notifier *nt,
                       struct message_payload *ret, struct err *e)
{
    const char *action = event_action(m);
    char dedup[32];
    snprintf(dedup, sizeof(dedup), "%" PRId64, m->incident->id);
    json_t *body;
    if (strcmp(action, "trigger") == 0) {
        struct strbuf text;
        int r = message__text(m, nt, message__default_pagerduty, message__default_users, NULL,
                              &text, e);
        if (r < 0)
            return r;
        for (size_t k = 0; k < text.len; k++) /* a summary is one line */
            if (text.s[k] == '\n' || text.s[k] == '\r' || text.s[k] == '\t')
                text.s[k] = ' ';
        while (text.len > 0 && text.s[text.len - 1] == ' ')
            text.s[--text.len] = '\0';
        body = trigger(m, nt, text.s);
        strbuf_fini(&text);
    } else {
        body = json_pack("{s:o, s:s, s:s}", "routing_key", codec_json_text(nt->routing_key),
                         "dedup_key", dedup, "event_action", action);
    }
    json_object_set_new(body, "dedup_key", json_string(dedup));
    return message__json_body(body, ret, e);
}
