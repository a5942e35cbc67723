/* SPDX-License-Identifier: MIT */
/*
 * The slack channel: a Slack incoming-webhook body, `text` (the whole
 * message, what notifications and Mattermost's compatible webhook show)
 * and `blocks` (the text as a mrkdwn section, then the incident's facts as
 * fields). Values are escaped as Slack asks (&, < and >), the template's
 * own text is not, so a template may write Slack links: <URL|label>.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "notify/channels.h"

/* Slack's limits: a section's text, a field's text, fields per section. */
#define SLACK_SECTION_MAX 3000
#define SLACK_FIELD_MAX   2000
#define SLACK_FIELDS_MAX  10

static int slack_escape(struct strbuf *out, const char *s, size_t len)
{
    int r = 0;
    for (size_t i = 0; i < len && r == 0; i++) {
        switch (s[i]) {
        case '&':
            r = strbuf_adds(out, "&amp;");
            break;
        case '<':
            r = strbuf_adds(out, "&lt;");
            break;
        case '>':
            r = strbuf_adds(out, "&gt;");
            break;
        default:
            r = strbuf_addc(out, s[i]);
        }
    }
    return r;
}

static void field_add(json_t *fields, const char *name, const char *value)
{
    if (!value || !*value || json_array_size(fields) >= SLACK_FIELDS_MAX)
        return;
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "*%s*\n", name);
    slack_escape(&b, value, strlen(value));
    json_array_append_new(fields, json_pack("{s:s, s:o}", "type", "mrkdwn", "text",
                                            message__json_cut(b.s, SLACK_FIELD_MAX)));
    strbuf_fini(&b);
}

static json_t *facts(const struct message *m)
{
    const struct incident *i = m->incident;
    char buf[64];
    json_t *fields = json_array();
    snprintf(buf, sizeof(buf), "P%u", i->priority);
    field_add(fields, "Priority", buf);
    field_add(fields, "State", incident_state_name(i->state));
    field_add(fields, "Severity", incident_severity_name(i->severity));
    field_add(fields, "Service", i->service);
    field_add(fields, "Team", i->team);
    field_add(fields, "On call", i->assignee);
    field_add(fields, "Check", i->check);
    field_add(fields, "Runbook", i->runbook);
    field_add(fields, "Last run", m->run_outcome);
    return json_pack("{s:s, s:o}", "type", "section", "fields", fields);
}

int message__slack(const struct message *m, const struct config_notifier *nt,
                   struct message_payload *ret, struct err *e)
{
    struct strbuf text;
    int r = message__text(m, nt, message__default_slack, message__default_users, slack_escape,
                          &text, e);
    if (r < 0)
        return r;
    while (text.len > 0 && text.s[text.len - 1] == '\n')
        text.s[--text.len] = '\0';
    json_t *section = json_pack("{s:s, s:{s:s, s:o}}", "type", "section", "text", "type", "mrkdwn",
                                "text", message__json_cut(text.s, SLACK_SECTION_MAX));
    json_t *blocks = json_pack("[o]", section);
    if (m->reason != NOTIFY_USERS)
        json_array_append_new(blocks, facts(m));
    json_t *body = json_pack("{s:s, s:o}", "text", text.s, "blocks", blocks);
    strbuf_fini(&text);
    return message__json_body(body, ret, e);
}
