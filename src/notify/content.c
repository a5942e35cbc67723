/* SPDX-License-Identifier: MIT */
/*
 * message_build(): what a message says of an incident, gathered from the
 * store and the configuration (notify/content.h). Everything is copied,
 * so the content outlives the reader's rows and a reload of the
 * configuration.
 */
#include "notify/content.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"

static char *keep(struct message_content *c, char *s)
{
    if (!s)
        return NULL;
    c->strings = xreallocarray(c->strings, c->n_strings + 1, sizeof(*c->strings));
    c->strings[c->n_strings++] = s;
    return s;
}

static bool contains(char *const *v, size_t n, const char *s)
{
    for (size_t k = 0; k < n; k++)
        if (strcmp(v[k], s) == 0)
            return true;
    return false;
}

static char *trimmed_base(const char *base)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return xstrndup(base, n);
}

char *message_incident_url(const char *base_url, int64_t id)
{
    char *base = trimmed_base(base_url);
    /* The web UI routes by the fragment: the server sends the shell, the shell the page. */
    char *url = xasprintf("%s/#/incidents/%" PRId64, base, id);
    free(base);
    return url;
}

char *message_graph_url(const char *base_url, const char *check)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    char *base = trimmed_base(base_url);
    strbuf_addf(&b, "%s/api/v1/checks/", base);
    free(base);
    for (const unsigned char *p = (const unsigned char *)check; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~", *p))
            strbuf_addc(&b, (char)*p);
        else
            strbuf_addf(&b, "%%%02X", *p);
    }
    strbuf_adds(&b, "/graph.svg");
    return strbuf_detach(&b, NULL);
}

/* "exit 1, attempt 2, 120 ms": what people want to know of an attempt. */
static char *step_detail(const struct store_run_step *s)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    if (s->reason && *s->reason)
        strbuf_adds(&b, s->reason);
    else if (s->timed_out)
        strbuf_adds(&b, "timed out");
    else if (s->term_signal)
        strbuf_addf(&b, "killed by signal %d", s->term_signal);
    else if (s->exit_status > 0)
        strbuf_addf(&b, "exit %d", s->exit_status);
    if (s->attempt > 1)
        strbuf_addf(&b, "%sattempt %u", b.len ? ", " : "", s->attempt);
    if (s->ended_ms > s->started_ms && s->started_ms > 0) {
        int64_t ms = s->ended_ms - s->started_ms;
        if (ms < 10000)
            strbuf_addf(&b, "%s%" PRId64 " ms", b.len ? ", " : "", ms);
        else
            strbuf_addf(&b, "%s%" PRId64 " s", b.len ? ", " : "", ms / 1000);
    }
    if (!b.len) {
        strbuf_fini(&b);
        return NULL;
    }
    return strbuf_detach(&b, NULL);
}

static void add_docs(struct message_content *c, size_t *n, const struct config *config,
                     const char *runbook)
{
    const struct config_runbook *rb = runbook ? config_runbook_find(config, runbook) : NULL;
    for (size_t k = 0; rb && k < rb->docs.n; k++) {
        if (contains(c->docs, *n, rb->docs.v[k]))
            continue;
        c->docs = xreallocarray(c->docs, *n + 1, sizeof(*c->docs));
        c->docs[(*n)++] = keep(c, xstrdup(rb->docs.v[k]));
    }
}

/* The runs (oldest first) and their step attempts: the newest MESSAGE_STEPS_MAX of them. */
static int add_runs(struct message_content *c, struct store_reader *r, const struct config *config,
                    size_t *n_docs, struct err *e)
{
    struct store_run *runs = NULL;
    size_t n_runs = 0;
    struct store_run_query q = {.incident_id = c->incident.id, .limit = MESSAGE_RUNS_MAX};
    int rc = store_runs_list(r, &q, &runs, &n_runs);
    if (rc < 0)
        return err_setf(e, rc, "the runs of incident %" PRId64 " cannot be read", c->incident.id);
    size_t n = 0;
    for (size_t k = n_runs; k-- > 0 && rc == 0;) { /* newest first: oldest is last */
        const struct store_run *run = &runs[k];
        add_docs(c, n_docs, config, run->runbook);
        if (k == 0)
            c->run_outcome = xstrdup(run->outcome);
        struct store_run_step *steps = NULL;
        size_t n_steps = 0;
        rc = store_run_steps_list(r, run->id, &steps, &n_steps);
        if (rc < 0) {
            err_setf(e, rc, "the steps of run %" PRId64 " cannot be read", run->id);
            break;
        }
        c->steps = xreallocarray(c->steps, n + n_steps + 1, sizeof(*c->steps));
        for (size_t s = 0; s < n_steps; s++) {
            c->steps[n++] = (struct message_step){
                    .run_id = run->id,
                    .runbook = keep(c, xstrdup(run->runbook)),
                    .step = keep(c, xstrdup(steps[s].name ? steps[s].name : "")),
                    .outcome = keep(c, xstrdup(steps[s].outcome ? steps[s].outcome : "")),
                    .detail = keep(c, step_detail(&steps[s])),
            };
            store_run_step_fini(&steps[s]);
        }
        free(steps);
    }
    for (size_t k = 0; k < n_runs; k++)
        store_run_fini(&runs[k]);
    free(runs);
    if (rc < 0)
        return rc;
    if (n > MESSAGE_STEPS_MAX) {
        memmove(c->steps, c->steps + (n - MESSAGE_STEPS_MAX),
                MESSAGE_STEPS_MAX * sizeof(*c->steps));
        n = MESSAGE_STEPS_MAX;
    }
    c->m.steps = c->steps;
    c->m.n_steps = n;
    return 0;
}

/* The distinct `advice` annotations of the incident's events, in the order they first came. */
static int add_advice(struct message_content *c, struct store_reader *r, struct err *e)
{
    struct store_event *events = NULL;
    size_t n_events = 0, n = 0;
    struct store_event_query q = {.incident_id = c->incident.id, .limit = MESSAGE_EVENTS_MAX};
    int rc = store_events_list(r, &q, &events, &n_events);
    if (rc < 0)
        return err_setf(e, rc, "the events of incident %" PRId64 " cannot be read", c->incident.id);
    for (size_t k = n_events; k-- > 0;) { /* newest first: oldest is last */
        const char *a = labels_get(&events[k].annotations, "advice");
        if (a && *a && n < MESSAGE_ADVICE_MAX && !contains(c->advice, n, a)) {
            c->advice = xreallocarray(c->advice, n + 1, sizeof(*c->advice));
            c->advice[n++] = keep(c, xstrdup(a));
        }
    }
    for (size_t k = 0; k < n_events; k++)
        store_event_fini(&events[k]);
    free(events);
    c->m.advice = (const char *const *)c->advice;
    c->m.n_advice = n;
    return 0;
}

int message_build(struct store_reader *r, const struct config *config, const struct incident *i,
                  const char *base_url, int64_t now_ms, struct message_content *ret, struct err *e)
{
    struct message_content c = {0};
    incident_copy(&c.incident, i);
    size_t n_docs = 0;
    add_docs(&c, &n_docs, config, i->runbook);
    int rc = add_runs(&c, r, config, &n_docs, e);
    if (rc == 0)
        rc = add_advice(&c, r, e);
    if (rc < 0) {
        message_content_fini(&c);
        return rc;
    }
    c.base_url = base_url ? trimmed_base(base_url) : NULL;
    if (c.base_url) {
        c.incident_url = message_incident_url(c.base_url, i->id);
        if (i->check)
            c.graph_url = message_graph_url(c.base_url, i->check);
    }
    c.m.reason = NOTIFY_ESCALATED;
    c.m.incident = &c.incident;
    c.m.run_outcome = c.run_outcome;
    c.m.docs = (const char *const *)c.docs;
    c.m.n_docs = n_docs;
    c.m.incident_url = c.incident_url;
    c.m.graph_url = c.graph_url;
    c.m.base_url = c.base_url;
    c.m.now_ms = now_ms;
    *ret = c;
    /* m points into c, which moved */
    ret->m.incident = &ret->incident;
    return 0;
}

void message_content_fini(struct message_content *c)
{
    if (!c)
        return;
    incident_fini(&c->incident);
    for (size_t k = 0; k < c->n_strings; k++)
        free(c->strings[k]);
    free(c->strings);
    free(c->steps);
    free(c->docs);
    free(c->advice);
    free(c->run_outcome);
    free(c->incident_url);
    free(c->graph_url);
    free(c->base_url);
    memset(c, 0, sizeof(*c));
}
