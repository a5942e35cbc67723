/* SPDX-License-Identifier: MIT */
/*
 * A message's text and the shapes shared by its channels: the value of
 * each template placeholder (the vocabulary is config_template_known()'s),
 * the default templates hale ships, the incident and the message as the
 * webhook's JSON says them, and message_render(), which hands a message to
 * its notifier's channel file (webhook.c, slack.c, pagerduty.c, email.c,
 * exec.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "codec/json.h"
#include "notify/channels.h"
#include "notify/content.h"

/* ---- the default templates ---- */

/* The body every channel but Slack and PagerDuty starts from: plain text, links in full. */
#define BODY                                                                               \
    "{{text}}\n"                                                                           \
    "\n"                                                                                   \
    "Incident #{{id}} · {{priority}} · {{severity}} · {{state}}"                        \
    "{{#service}} · service {{service}}{{/service}}{{#team}} · team {{team}}{{/team}}\n" \
    "{{#assignee}}\n"                                                                      \
    "On call: {{assignee}}\n"                                                              \
    "{{/assignee}}\n"                                                                      \
    "Opened {{opened}}\n"                                                                  \
    "{{#count}}\n"                                                                         \
    "\n"                                                                                   \
    "{{count}} incidents within a minute:\n"                                               \
    "{{#grouped}}\n"                                                                       \
    "- #{{id}} {{priority}} {{title}} ({{state}}){{#incident_url}} {{incident_url}}"       \
    "{{/incident_url}}\n"                                                                  \
    "{{/grouped}}\n"                                                                       \
    "{{/count}}\n"                                                                         \
    "\n"                                                                                   \
    "What hale tried:\n"                                                                   \
    "{{#steps}}\n"                                                                         \
    "- {{runbook}} / {{step}}: {{outcome}}{{#detail}} ({{detail}}){{/detail}}\n"           \
    "{{/steps}}\n"                                                                         \
    "{{^steps}}\n"                                                                         \
    "- nothing: no runbook ran for this incident\n"                                        \
    "{{/steps}}\n"                                                                         \
    "{{#run_outcome}}\n"                                                                   \
    "Last run: {{run_outcome}}\n"                                                          \
    "{{/run_outcome}}\n"                                                                   \
    "{{#advice}}\n"                                                                        \
    "\n"                                                                                   \
    "Advice: {{text}}\n"                                                                   \
    "{{/advice}}\n"                                                                        \
    "{{#docs}}\n"                                                                          \
    "{{#url}}Docs: {{url}}{{/url}}\n"                                                      \
    "{{/docs}}\n"                                                                          \
    "\n"                                                                                   \
    "Incident: {{incident_url}}\n"                                                         \
    "{{#graph_url}}\n"                                                                     \
    "Graph of check {{check}}: {{graph_url}}\n"                                            \
    "{{/graph_url}}\n"

const char message__default_text[] = "[{{priority}}] {{title}}\n" BODY;

const char message__default_email[] =
        "[hale] {{priority}} {{reason}}: {{title}} (incident #{{id}})\n"
        "\n" BODY;

const char message__default_users[] = "{{text}}\n";

const char message__default_email_users[] = "{{title}}\n"
                                            "\n"
                                            "{{text}}\n";

const char message__default_slack[] =
        "*{{priority}} {{reason}}: <{{incident_url}}|{{title}}>*\n"
        "{{text}}\n"
        "{{#count}}\n"
        "*{{count}} incidents within a minute:*\n"
        "{{#grouped}}\n"
        "• <{{incident_url}}|#{{id}}> {{priority}} {{title}} ({{state}})\n"
        "{{/grouped}}\n"
        "{{/count}}\n"
        "*What hale tried:*\n"
        "{{#steps}}\n"
        "• {{runbook}} / {{step}}: *{{outcome}}*{{#detail}} ({{detail}}){{/detail}}\n"
        "{{/steps}}\n"
        "{{^steps}}\n"
        "• nothing: no runbook ran for this incident\n"
        "{{/steps}}\n"
        "{{#advice}}\n"
        "> {{text}}\n"
        "{{/advice}}\n"
        "{{#docs}}\n"
        "<{{url}}|Docs>\n"
        "{{/docs}}\n"
        "{{#graph_url}}\n"
        "<{{graph_url}}|Graph of check {{check}}>\n"
        "{{/graph_url}}\n";

const char message__default_pagerduty[] =
        "[{{priority}}] {{title}}{{#service}} ({{service}}){{/service}}: {{text}}";

const char *message_template_default(enum config_notifier_type t)
{
    switch (t) {
    case CONFIG_NOTIFIER_SLACK:
        return message__default_slack;
    case CONFIG_NOTIFIER_PAGERDUTY:
        return message__default_pagerduty;
    case CONFIG_NOTIFIER_EMAIL:
        return message__default_email;
    case CONFIG_NOTIFIER_WEBHOOK:
    case CONFIG_NOTIFIER_EXEC:
        break;
    }
    return message__default_text;
}

/* ---- the placeholders' values ---- */

static void add_time(struct strbuf *b, int64_t ms)
{
    char buf[CLOCK_RFC3339_MAX];
    if (ms > 0 && clock_format_rfc3339(ms / 1000, buf) == 0)
        strbuf_adds(b, buf);
}

/* A value of the incident i shared by the top level and the grouped items; false: no such name. */
static bool incident_value(const struct incident *i, const char *name, struct strbuf *v)
{
    const char *s = NULL;
    if (strcmp(name, "id") == 0)
        strbuf_addf(v, "%" PRId64, i->id);
    else if (strcmp(name, "priority") == 0)
        strbuf_addf(v, "P%u", i->priority);
    else if (strcmp(name, "title") == 0)
        s = i->title;
    else if (strcmp(name, "severity") == 0)
        s = incident_severity_name(i->severity);
    else if (strcmp(name, "state") == 0)
        s = incident_state_name(i->state);
    else if (strcmp(name, "service") == 0)
        s = i->service;
    else if (strcmp(name, "team") == 0)
        s = i->team;
    else if (strcmp(name, "check") == 0)
        s = i->check;
    else
        return false;
    if (s)
        strbuf_adds(v, s);
    return true;
}

static enum template_name top_value(const struct message *m, const char *name, struct strbuf *v,
                                    size_t *ret_count)
{
    const struct incident *i = m->incident;
    const char *s = NULL;
    if (incident_value(i, name, v))
        return TEMPLATE_SCALAR;
    if (strcmp(name, "steps") == 0)
        *ret_count = m->n_steps;
    else if (strcmp(name, "docs") == 0)
        *ret_count = m->n_docs;
    else if (strcmp(name, "advice") == 0)
        *ret_count = m->n_advice;
    else if (strcmp(name, "grouped") == 0)
        *ret_count = m->n_grouped;
    else if (strcmp(name, "labels") == 0)
        *ret_count = i->labels.n;
    else
        goto scalar;
    return TEMPLATE_LIST;
scalar:
    if (strcmp(name, "type") == 0)
        s = incident_type_name(i->type);
    else if (strcmp(name, "category") == 0)
        s = incident_category_name(i->category);
    else if (strcmp(name, "assignee") == 0)
        s = i->assignee;
    else if (strcmp(name, "runbook") == 0)
        s = i->runbook;
    else if (strcmp(name, "fingerprint") == 0)
        s = i->fingerprint;
    else if (strcmp(name, "opened") == 0)
        add_time(v, i->opened_ms);
    else if (strcmp(name, "now") == 0)
        add_time(v, m->now_ms);
    else if (strcmp(name, "reason") == 0)
        s = notify_reason_name(m->reason);
    else if (strcmp(name, "text") == 0)
        s = m->text;
    else if (strcmp(name, "count") == 0) {
        if (m->n_grouped)
            strbuf_addf(v, "%zu", m->n_grouped);
    } else if (strcmp(name, "run_outcome") == 0)
        s = m->run_outcome;
    else if (strcmp(name, "incident_url") == 0)
        s = m->incident_url;
    else if (strcmp(name, "graph_url") == 0)
        s = m->graph_url;
    else if (strncmp(name, "labels.", 7) == 0)
        s = labels_get(&i->labels, name + 7);
    else
        return TEMPLATE_UNKNOWN;
    if (s)
        strbuf_adds(v, s);
    return TEMPLATE_SCALAR;
}

static enum template_name item_value(const struct message *m, const struct template_scope *scope,
                                     const char *name, struct strbuf *v)
{
    const char *l = scope->list, *s = NULL;
    size_t k = scope->index;
    if (strcmp(l, "steps") == 0) {
        const struct message_step *st = &m->steps[k];
        if (strcmp(name, "run") == 0)
            strbuf_addf(v, "%" PRId64, st->run_id);
        else if (strcmp(name, "runbook") == 0)
            s = st->runbook;
        else if (strcmp(name, "step") == 0)
            s = st->step;
        else if (strcmp(name, "outcome") == 0)
            s = st->outcome;
        else if (strcmp(name, "detail") == 0)
            s = st->detail;
        else
            return TEMPLATE_UNKNOWN;
    } else if (strcmp(l, "docs") == 0 && strcmp(name, "url") == 0) {
        s = m->docs[k];
    } else if (strcmp(l, "advice") == 0 && strcmp(name, "text") == 0) {
        s = m->advice[k];
    } else if (strcmp(l, "labels") == 0 && strcmp(name, "name") == 0) {
        s = m->incident->labels.v[k].name;
    } else if (strcmp(l, "labels") == 0 && strcmp(name, "value") == 0) {
        s = m->incident->labels.v[k].value;
    } else if (strcmp(l, "grouped") == 0) {
        const struct incident *g = m->grouped[k];
        if (strcmp(name, "incident_url") == 0) {
            if (m->base_url) {
                char *url = message_incident_url(m->base_url, g->id);
                strbuf_adds(v, url);
                free(url);
            }
        } else if (!incident_value(g, name, v)) {
            return TEMPLATE_UNKNOWN;
        }
    } else {
        return TEMPLATE_UNKNOWN;
    }
    if (s)
        strbuf_adds(v, s);
    return TEMPLATE_SCALAR;
}

static enum template_name value_of(const struct template_scope *scope, const char *name,
                                   struct strbuf *v, size_t *ret_count, void *data)
{
    const struct message *m = data;
    return scope->list ? item_value(m, scope, name, v) : top_value(m, name, v, ret_count);
}

int message__text(const struct message *m, const struct config_notifier *nt, const char *def,
                  const char *def_users, template_escape_fn *escape, struct strbuf *out,
                  struct err *e)
{
    struct template *parsed = NULL;
    const struct template *t = nt->template;
    if (!t) {
        const char *text = m->reason == NOTIFY_USERS ? def_users : def;
        /* the defaults are ours: a failure here is a bug the unit tests catch */
        int r = template_parse(text, strlen(text), config_template_known, NULL, &parsed, NULL, e);
        if (r < 0)
            return err_prefixf(e, "the default template of %s notifiers",
                               config_notifier_type_name(nt->type));
        t = parsed;
    }
    struct strbuf raw;
    strbuf_init(&raw, MESSAGE_MAX_BYTES);
    int r = template_render(t, value_of, escape, (void *)(uintptr_t)m, &raw);
    template_free(parsed);
    if (r < 0) {
        strbuf_fini(&raw);
        return err_setf(e, r, "the text of notifier \"%s\" is longer than %u bytes", nt->name,
                        MESSAGE_MAX_BYTES);
    }
    /* values come from outside (a command's output, an event): every channel needs UTF-8 */
    strbuf_init(out, 0);
    strbuf_add_utf8(out, raw.s);
    strbuf_fini(&raw);
    return 0;
}

int message_template_check(const char *text, struct err *e)
{
    struct template *t;
    struct template_pos pos;
    int r = template_parse(text, strlen(text), config_template_known, NULL, &t, &pos, e);
    if (r < 0) {
        if (e && pos.line)
            err_prefixf(e, "line %u, column %u", pos.line, pos.col);
        return r == HALE_ELIMIT ? r : -EINVAL;
    }
    template_free(t);
    return 0;
}

/* ---- the JSON every JSON channel starts from ---- */

json_t *message__json_cut(const char *s, size_t max)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_add_utf8(&b, s);
    if (b.len > max) {
        static const char more[] = "…";
        size_t cut = max > sizeof(more) - 1 ? max - (sizeof(more) - 1) : 0;
        while (cut > 0 && ((unsigned char)b.s[cut] & 0xC0) == 0x80)
            cut--;
        b.len = cut;
        b.s[cut] = '\0';
        strbuf_adds(&b, more);
    }
    json_t *j = json_stringn(b.s, b.len);
    strbuf_fini(&b);
    return j;
}

/* The incident as the webhook's JSON says it (also each grouped one): a new reference. */
static json_t *incident_json(const struct incident *i, const char *url)
{
    json_t *o = json_pack("{s:I, s:o, s:I, s:s, s:s, s:s}", "id", (json_int_t)i->id, "title",
                          codec_json_text(i->title), "priority", (json_int_t)i->priority,
                          "severity", incident_severity_name(i->severity), "state",
                          incident_state_name(i->state), "type", incident_type_name(i->type));
    json_object_set_new(o, "service", codec_json_text(i->service));
    json_object_set_new(o, "team", codec_json_text(i->team));
    json_object_set_new(o, "assignee", codec_json_text(i->assignee));
    json_object_set_new(o, "check", codec_json_text(i->check));
    json_object_set_new(o, "runbook", codec_json_text(i->runbook));
    json_object_set_new(o, "labels", codec_json_labels(&i->labels));
    json_object_set_new(o, "opened", codec_json_time(i->opened_ms));
    json_object_set_new(o, "url", codec_json_text(url));
    return o;
}

static json_t *strings_json(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t k = 0; k < n; k++)
        json_array_append_new(a, codec_json_text(v[k]));
    return a;
}

/* m as the webhook's JSON says it, with text: a new reference (bytes that are not UTF-8 replaced).
 */
static json_t *message_json(const struct message *m, const char *text)
{
    json_t *steps = json_array();
    for (size_t k = 0; k < m->n_steps; k++) {
        const struct message_step *s = &m->steps[k];
        json_t *o = json_pack("{s:I}", "run", (json_int_t)s->run_id);
        json_object_set_new(o, "runbook", codec_json_text(s->runbook));
        json_object_set_new(o, "step", codec_json_text(s->step));
        json_object_set_new(o, "outcome", codec_json_text(s->outcome));
        json_object_set_new(o, "detail", codec_json_text(s->detail));
        json_array_append_new(steps, o);
    }
    json_t *grouped = json_array();
    for (size_t k = 0; k < m->n_grouped; k++) {
        char *url = m->base_url ? message_incident_url(m->base_url, m->grouped[k]->id) : NULL;
        json_array_append_new(grouped, incident_json(m->grouped[k], url));
        free(url);
    }
    json_t *o = json_pack("{s:i, s:s}", "version", 1, "reason", notify_reason_name(m->reason));
    json_object_set_new(o, "summary", codec_json_text(m->text));
    json_object_set_new(o, "text", codec_json_text(text));
    json_object_set_new(o, "incident", incident_json(m->incident, m->incident_url));
    json_object_set_new(o, "steps", steps);
    json_object_set_new(o, "run_outcome", codec_json_text(m->run_outcome));
    json_object_set_new(o, "docs", strings_json(m->docs, m->n_docs));
    json_object_set_new(o, "advice", strings_json(m->advice, m->n_advice));
    json_object_set_new(o, "graph_url", codec_json_text(m->graph_url));
    json_object_set_new(o, "grouped", grouped);
    json_object_set_new(o, "sent", codec_json_time(m->now_ms));
    return o;
}

int message__json_body(json_t *body, struct message_payload *ret, struct err *e)
{
    if (!body)
        return err_setf(e, HALE_EPARSE, "the message cannot be encoded as JSON (not UTF-8)");
    char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!s)
        return err_setf(e, HALE_EPARSE, "the message cannot be encoded as JSON");
    size_t len = strlen(s);
    if (len > 4 * (size_t)MESSAGE_MAX_BYTES) {
        free(s);
        return err_setf(e, HALE_ELIMIT, "the message is larger than %u bytes",
                        4 * MESSAGE_MAX_BYTES);
    }
    ret->body = s;
    ret->len = len;
    ret->content_type = "application/json";
    return 0;
}

int message__json_payload(const struct message *m, const struct config_notifier *nt,
                          struct message_payload *ret, struct err *e)
{
    struct strbuf text;
    int r = message__text(m, nt, message__default_text, message__default_users, NULL, &text, e);
    if (r < 0)
        return r;
    r = message__json_body(message_json(m, text.s), ret, e);
    strbuf_fini(&text);
    return r;
}

/* ---- rendering ---- */

void message_payload_fini(struct message_payload *p)
{
    if (!p)
        return;
    free(p->body);
    for (size_t i = 0; i < sizeof(p->headers) / sizeof(p->headers[0]); i++)
        free(p->headers[i]);
    free(p->subject);
    memset(p, 0, sizeof(*p));
}

int message_render(const struct message *m, const struct config_notifier *nt,
                   struct message_payload *ret, struct err *e)
{
    struct message_payload p = {0};
    int r = 0;
    switch (nt->type) {
    case CONFIG_NOTIFIER_WEBHOOK:
        r = message__webhook(m, nt, &p, e);
        break;
    case CONFIG_NOTIFIER_SLACK:
        r = message__slack(m, nt, &p, e);
        break;
    case CONFIG_NOTIFIER_PAGERDUTY:
        r = message__pagerduty(m, nt, &p, e);
        break;
    case CONFIG_NOTIFIER_EMAIL:
        r = message__email(m, nt, &p, e);
        break;
    case CONFIG_NOTIFIER_EXEC:
        r = message__exec(m, nt, &p, e);
        break;
    }
    if (r < 0) {
        message_payload_fini(&p);
        return err_prefixf(e, "notifier \"%s\"", nt->name);
    }
    *ret = p;
    return 0;
}
