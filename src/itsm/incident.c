/* SPDX-License-Identifier: MIT */
/*
 * The ITSM records' names and clean-up. The names are part of hale's
 * interface (JSON, CLI, database): change none of them.
 */
#include "itsm/incident.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

static const char *const type_names[] = {"incident", "request", NULL};
static const char *const state_names[] = {"new",      "acknowledged", "in_progress",
                                          "resolved", "closed",       NULL};
static const char *const severity_names[] = {"info", "warning", "critical", NULL};
static const char *const category_names[] = {"network", "hardware", "software", "data", NULL};
static const char *const timeline_names[] = {
        "event",       "state",         "assignment", "note",         "step_started",
        "step_output", "step_finished", "approval",   "notification", NULL};
static const char *const problem_names[] = {"open", "known_error", "resolved", NULL};

static const char *name_of(const char *const *names, size_t n, unsigned v)
{
    return v < n ? names[v] : "unknown";
}

static int parse_name(const char *const *names, const char *s, unsigned *ret)
{
    for (unsigned i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0) {
            *ret = i;
            return 0;
        }
    return -EINVAL;
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]) - 1)

#define NAME_FUNCS(prefix, type, names)                   \
    const char *prefix##_name(type v)                     \
    {                                                     \
        return name_of(names, COUNT(names), (unsigned)v); \
    }                                                     \
    int prefix##_parse(const char *s, type *ret)          \
    {                                                     \
        unsigned v;                                       \
        int r = parse_name(names, s, &v);                 \
        if (r == 0)                                       \
            *ret = (type)v;                               \
        return r;                                         \
    }

NAME_FUNCS(incident_type, enum incident_type, type_names)
NAME_FUNCS(incident_state, enum incident_state, state_names)
NAME_FUNCS(incident_severity, enum incident_severity, severity_names)
NAME_FUNCS(incident_category, enum incident_category, category_names)
NAME_FUNCS(timeline_kind, enum timeline_kind, timeline_names)
NAME_FUNCS(problem_state, enum problem_state, problem_names)

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void incident_copy(struct incident *dst, const struct incident *src)
{
    *dst = *src;
    dst->title = dup_or_null(src->title);
    dst->fingerprint = dup_or_null(src->fingerprint);
    labels_init(&dst->labels);
    for (size_t k = 0; k < src->labels.n; k++)
        labels_set(&dst->labels, src->labels.v[k].name, src->labels.v[k].value, NULL);
    dst->team = dup_or_null(src->team);
    dst->assignee = dup_or_null(src->assignee);
    dst->check = dup_or_null(src->check);
    dst->resolved_by = dup_or_null(src->resolved_by);
    dst->root_cause = dup_or_null(src->root_cause);
    dst->service = dup_or_null(src->service);
    dst->runbook = dup_or_null(src->runbook);
}

void problem_copy(struct problem *dst, const struct problem *src)
{
    *dst = *src;
    dst->title = dup_or_null(src->title);
    dst->fingerprint = dup_or_null(src->fingerprint);
    dst->root_cause = dup_or_null(src->root_cause);
    dst->workaround = dup_or_null(src->workaround);
}

void incident_fini(struct incident *i)
{
    if (!i)
        return;
    free(i->title);
    free(i->fingerprint);
    labels_fini(&i->labels);
    free(i->team);
    free(i->assignee);
    free(i->check);
    free(i->resolved_by);
    free(i->root_cause);
    free(i->service);
    free(i->runbook);
    memset(i, 0, sizeof(*i));
}

void timeline_entry_fini(struct timeline_entry *t)
{
    if (!t)
        return;
    free(t->actor);
    free(t->text);
    free(t->data);
    memset(t, 0, sizeof(*t));
}

void audit_entry_fini(struct audit_entry *a)
{
    if (!a)
        return;
    free(a->actor);
    free(a->action);
    free(a->target);
    free(a->origin);
    free(a->detail);
    memset(a, 0, sizeof(*a));
}

void problem_fini(struct problem *p)
{
    if (!p)
        return;
    free(p->title);
    free(p->fingerprint);
    free(p->root_cause);
    free(p->workaround);
    memset(p, 0, sizeof(*p));
}
