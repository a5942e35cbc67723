/* SPDX-License-Identifier: MIT */
/*
 * What the dispatcher sends, for now: the content of a notification read
 * from the store (the incident, the runs tried and each step's outcome,
 * the runbook's docs links, the events' advice, links to the incident and
 * to its check's graph) in one plain rendering per channel kind. The
 * channels' renderers (notify/message.h, one file per channel, templates)
 * replace the rendering; the content stays the dispatcher's to gather.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "notify/internal.h"

/* Runs of an incident a message tells of, newest first; steps of each. */
#define RENDER_RUNS_MAX   3
#define RENDER_EVENTS_MAX 20

void notify__payload_fini(struct notify__payload *p)
{
    if (!p)
        return;
    free(p->body);
    free(p->subject);
    memset(p, 0, sizeof(*p));
}

/* What hale knows of one notification's incident. */
struct content {
    const struct store_notification *rec;
    struct incident incident;
    bool have_incident;
    struct store_run *runs;
    size_t n_runs;
    struct store_run_step **steps; /* per run */
    size_t *n_steps;
    char **advice;
    size_t n_advice;
};

static void content_fini(struct content *c)
{
    if (c->have_incident)
        incident_fini(&c->incident);
    for (size_t k = 0; k < c->n_runs; k++) {
        for (size_t j = 0; j < c->n_steps[k]; j++)
            store_run_step_fini(&c->steps[k][j]);
        free(c->steps[k]);
        store_run_fini(&c->runs[k]);
    }
    free(c->runs);
    free(c->steps);
    free(c->n_steps);
    for (size_t k = 0; k < c->n_advice; k++)
        free(c->advice[k]);
    free(c->advice);
}

static int content_read(struct notify *n, const struct store_notification *rec, struct content *c)
{
    *c = (struct content){.rec = rec};
    int r = store_incident_get(n->reader, rec->incident_id, &c->incident);
    if (r == HALE_ENOTFOUND)
        return 0; /* compacted away: the message says what the row says */
    if (r < 0)
        return r;
    c->have_incident = true;
    struct store_run_query q = {.incident_id = rec->incident_id, .limit = RENDER_RUNS_MAX};
    if ((r = store_runs_list(n->reader, &q, &c->runs, &c->n_runs)) < 0)
        return r;
    c->steps = xcalloc(c->n_runs ? c->n_runs : 1, sizeof(*c->steps));
    c->n_steps = xcalloc(c->n_runs ? c->n_runs : 1, sizeof(*c->n_steps));
    for (size_t k = 0; k < c->n_runs; k++)
        if ((r = store_run_steps_list(n->reader, c->runs[k].id, &c->steps[k], &c->n_steps[k])) < 0)
            return r;
    struct store_event_query eq = {.incident_id = rec->incident_id, .limit = RENDER_EVENTS_MAX};
    struct store_event *ev = NULL;
    size_t n_ev = 0;
    if ((r = store_events_list(n->reader, &eq, &ev, &n_ev)) < 0)
        return r;
    c->advice = xcalloc(n_ev ? n_ev : 1, sizeof(*c->advice));
    for (size_t k = 0; k < n_ev; k++) {
        const char *a = labels_get(&ev[k].annotations, "advice");
        bool dup = false;
        for (size_t j = 0; a && j < c->n_advice; j++)
            dup = dup || strcmp(c->advice[j], a) == 0;
        if (a && !dup)
            c->advice[c->n_advice++] = xstrdup(a);
        store_event_fini(&ev[k]);
    }
    free(ev);
    return 0;
}

static const char *base_url(const struct notify *n)
{
    return n->o.base_url ? n->o.base_url : "";
}

static void add_json_str(struct strbuf *b, const char *s)
{
    if (!s)
        strbuf_adds(b, "null");
    else if (strbuf_add_json_string(b, s) < 0)
        strbuf_adds(b, "\"\"");
}

static void add_kv_str(struct strbuf *b, const char *key, const char *v, bool comma)
{
    strbuf_addf(b, "%s\"%s\":", comma ? "," : "", key);
    add_json_str(b, v);
}

/* One notification as JSON: the webhook's and exec's document. */
static void add_json_one(struct notify *n, struct strbuf *b, const struct content *c)
{
    const struct store_notification *r = c->rec;
    const struct incident *i = &c->incident;
    strbuf_addf(b, "{\"id\":%lld", (long long)r->id);
    add_kv_str(b, "reason", r->reason, true);
    strbuf_addf(b, ",\"level\":%u", r->level);
    add_kv_str(b, "text", r->text, true);
    add_kv_str(b, "team", r->team, true);
    add_kv_str(b, "oncall", r->assignee, true);
    strbuf_addf(b, ",\"incident\":{\"id\":%lld", (long long)r->incident_id);
    if (c->have_incident) {
        add_kv_str(b, "title", i->title, true);
        strbuf_addf(b, ",\"priority\":\"P%u\"", i->priority);
        add_kv_str(b, "severity", incident_severity_name(i->severity), true);
        add_kv_str(b, "state", incident_state_name(i->state), true);
        add_kv_str(b, "service", i->service, true);
        add_kv_str(b, "check", i->check, true);
        add_kv_str(b, "runbook", i->runbook, true);
        add_kv_str(b, "assignee", i->assignee, true);
        strbuf_addf(b, ",\"opened_ms\":%lld", (long long)i->opened_ms);
    }
    strbuf_adds(b, "},\"steps\":[");
    bool first = true;
    /* Oldest run first, each run's attempts in order. */
    for (size_t k = c->n_runs; k-- > 0;)
        for (size_t j = 0; j < c->n_steps[k]; j++) {
            const struct store_run_step *s = &c->steps[k][j];
            strbuf_addf(b, "%s{\"run\":%lld", first ? "" : ",", (long long)s->run_id);
            add_kv_str(b, "runbook", c->runs[k].runbook, true);
            add_kv_str(b, "step", s->name, true);
            strbuf_addf(b, ",\"attempt\":%u", s->attempt);
            add_kv_str(b, "outcome", s->outcome, true);
            add_kv_str(b, "detail", s->reason, true);
            strbuf_addc(b, '}');
            first = false;
        }
    strbuf_adds(b, "],\"run_outcome\":");
    add_json_str(b, c->n_runs ? c->runs[0].outcome : NULL);
    strbuf_adds(b, ",\"docs\":[");
    const struct config_runbook *rb =
            c->have_incident && i->runbook ? config_runbook_find(n->config, i->runbook) : NULL;
    for (size_t k = 0; rb && k < rb->docs.n; k++) {
        if (k)
            strbuf_addc(b, ',');
        add_json_str(b, rb->docs.v[k]);
    }
    strbuf_adds(b, "],\"advice\":[");
    for (size_t k = 0; k < c->n_advice; k++) {
        if (k)
            strbuf_addc(b, ',');
        add_json_str(b, c->advice[k]);
    }
    strbuf_addf(b, "],\"links\":{\"incident\":\"%s/incidents/%lld\"", base_url(n),
                (long long)r->incident_id);
    if (c->have_incident && i->check) {
        strbuf_addf(b, ",\"graph\":\"%s/api/v1/checks/", base_url(n));
        strbuf_add_utf8(b, i->check);
        strbuf_adds(b, "/graph.svg\"");
    }
    strbuf_adds(b, "}}");
}

/* One line for people: "[hale] escalated: P2 incident 7: web-health is critical". */
static char *subject_of(const struct content *c)
{
    const struct store_notification *r = c->rec;
    if (c->have_incident)
        return xasprintf("[hale] %s: P%u incident %lld: %s", r->reason, c->incident.priority,
                         (long long)r->incident_id, c->incident.title);
    return xasprintf("[hale] %s: incident %lld", r->reason, (long long)r->incident_id);
}

/* The text for people: the subject, why, what was tried, where to look. */
static void add_text(struct notify *n, struct strbuf *b, const struct content *c)
{
    char *subject = subject_of(c);
    strbuf_addf(b, "%s\n%s\n", subject, c->rec->text);
    free(subject);
    if (c->rec->assignee)
        strbuf_addf(b, "On call: %s\n", c->rec->assignee);
    for (size_t k = c->n_runs; k-- > 0;)
        for (size_t j = 0; j < c->n_steps[k]; j++) {
            const struct store_run_step *s = &c->steps[k][j];
            strbuf_addf(b, "- run %lld %s: %s (attempt %u) %s%s%s\n", (long long)s->run_id,
                        c->runs[k].runbook, s->name, s->attempt, s->outcome, s->reason ? ": " : "",
                        s->reason ? s->reason : "");
        }
    for (size_t k = 0; k < c->n_advice; k++)
        strbuf_addf(b, "Advice: %s\n", c->advice[k]);
    const struct config_runbook *rb = c->have_incident && c->incident.runbook
                                              ? config_runbook_find(n->config, c->incident.runbook)
                                              : NULL;
    for (size_t k = 0; rb && k < rb->docs.n; k++)
        strbuf_addf(b, "Docs: %s\n", rb->docs.v[k]);
    strbuf_addf(b, "Incident: %s/incidents/%lld\n", base_url(n), (long long)c->rec->incident_id);
    if (c->have_incident && c->incident.check)
        strbuf_addf(b, "Graph: %s/api/v1/checks/%s/graph.svg\n", base_url(n), c->incident.check);
}

static void render_json(struct notify *n, struct strbuf *b, const struct content *v, size_t count)
{
    if (count == 1) {
        add_json_one(n, b, &v[0]);
        return;
    }
    strbuf_addf(b, "{\"grouped\":%zu,\"notifications\":[", count);
    for (size_t k = 0; k < count; k++) {
        if (k)
            strbuf_addc(b, ',');
        add_json_one(n, b, &v[k]);
    }
    strbuf_adds(b, "]}");
}

static void render_text(struct notify *n, struct strbuf *b, const struct content *v, size_t count)
{
    if (count > 1)
        strbuf_addf(b, "%zu notifications at once (grouped by the team's rate limit):\n\n", count);
    for (size_t k = 0; k < count; k++) {
        if (k)
            strbuf_addc(b, '\n');
        add_text(n, b, &v[k]);
    }
}

static void render_slack(struct notify *n, struct strbuf *b, const struct content *v, size_t count)
{
    struct strbuf t;
    strbuf_init(&t, 0);
    render_text(n, &t, v, count);
    strbuf_adds(b, "{\"text\":");
    add_json_str(b, t.s);
    strbuf_adds(b, ",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    add_json_str(b, t.s);
    strbuf_adds(b, "}}]}");
    strbuf_fini(&t);
}

static const char *pagerduty_action(const char *reason)
{
    return strcmp(reason, "resolved") == 0 ? "resolve" : "trigger";
}

static void render_pagerduty(struct notify *n, const struct config_notifier *nt, struct strbuf *b,
                             const struct content *c)
{
    char *summary = subject_of(c);
    strbuf_adds(b, "{\"routing_key\":");
    add_json_str(b, nt->routing_key);
    strbuf_addf(b, ",\"event_action\":\"%s\",\"dedup_key\":\"hale-incident-%lld\"",
                pagerduty_action(c->rec->reason), (long long)c->rec->incident_id);
    strbuf_adds(b, ",\"payload\":{\"summary\":");
    add_json_str(b, summary);
    strbuf_adds(b, ",\"source\":\"hale\",\"severity\":");
    add_json_str(b, c->have_incident && c->incident.severity == INCIDENT_SEVERITY_CRITICAL
                            ? "critical"
                            : "warning");
    strbuf_adds(b, ",\"custom_details\":");
    add_json_one(n, b, c);
    strbuf_addf(b,
                "},\"links\":[{\"href\":\"%s/incidents/%lld\",\"text\":\"the incident in hale\"}]}",
                base_url(n), (long long)c->rec->incident_id);
    free(summary);
}

static void render_mail(struct notify *n, const struct config_notifier *nt, struct strbuf *b,
                        const struct content *v, size_t count, const char *subject)
{
    strbuf_addf(b, "From: %s\r\nTo: ", nt->from);
    for (size_t k = 0; k < nt->to.n; k++)
        strbuf_addf(b, "%s%s", k ? ", " : "", nt->to.v[k]);
    strbuf_addf(b,
                "\r\nSubject: %s\r\nMIME-Version: 1.0\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n",
                subject);
    struct strbuf t;
    strbuf_init(&t, 0);
    render_text(n, &t, v, count);
    /* SMTP lines end in CRLF, and a lone "." would end the mail: curl escapes dots. */
    for (const char *p = t.s; *p; p++) {
        if (*p == '\n')
            strbuf_addc(b, '\r');
        strbuf_addc(b, *p);
    }
    strbuf_fini(&t);
}

int notify__render(struct notify *n, const struct config_notifier *nt,
                   struct notify__item *const *items, size_t n_items, struct notify__payload *ret)
{
    struct content *v = xcalloc(n_items, sizeof(*v));
    int r = 0;
    for (size_t k = 0; k < n_items && r == 0; k++)
        r = content_read(n, &items[k]->rec, &v[k]);
    if (r == 0) {
        struct strbuf b;
        strbuf_init(&b, 0);
        char *subject = n_items == 1 ? subject_of(&v[0])
                                     : xasprintf("[hale] %zu notifications for team %s", n_items,
                                                 items[0]->rec.team ? items[0]->rec.team : "-");
        struct notify__payload p = {.content_type = "application/json"};
        switch (nt->type) {
        case CONFIG_NOTIFIER_WEBHOOK:
            render_json(n, &b, v, n_items);
            break;
        case CONFIG_NOTIFIER_EXEC:
            render_json(n, &b, v, n_items);
            p.content_type = NULL;
            break;
        case CONFIG_NOTIFIER_SLACK:
            render_slack(n, &b, v, n_items);
            break;
        case CONFIG_NOTIFIER_PAGERDUTY:
            /* One event per incident: a page follows its incident by dedup_key. */
            render_pagerduty(n, nt, &b, &v[0]);
            break;
        case CONFIG_NOTIFIER_EMAIL:
            render_mail(n, nt, &b, v, n_items, subject);
            p.content_type = NULL;
            break;
        }
        if (nt->type == CONFIG_NOTIFIER_EXEC)
            strbuf_addc(&b, '\n');
        p.body = strbuf_detach(&b, &p.len);
        p.subject = subject;
        *ret = p;
    }
    for (size_t k = 0; k < n_items; k++)
        content_fini(&v[k]);
    free(v);
    return r < 0 ? HALE_ESTORE : 0;
}
