/* SPDX-License-Identifier: MIT */
/* Events: their clean-up, their content hash and the names of their status and source. */
#include "engine/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"

void event_init(struct event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->status = EVENT_FIRING;
    ev->severity = INCIDENT_SEVERITY_WARNING;
    labels_init(&ev->labels);
    labels_init(&ev->annotations);
    ev->summary = xstrdup("");
}

void event_fini(struct event *ev)
{
    if (!ev)
        return;
    labels_fini(&ev->labels);
    labels_fini(&ev->annotations);
    free(ev->summary);
    free(ev->sender);
    memset(ev, 0, sizeof(*ev));
}

static uint64_t hash_labels(uint64_t h, const struct labels *l)
{
    uint64_t n = l->n; /* so a label never passes for an annotation */
    h = hash_add(h, &n, sizeof(n));
    for (size_t k = 0; k < l->n; k++)
        h = hash_add_str(hash_add_str(h, l->v[k].name), l->v[k].value);
    return h;
}

uint64_t event_content_hash(const struct event *ev)
{
    uint64_t kinds[] = {ev->status, ev->severity, ev->source};
    uint64_t h = hash_add(UINT64_C(0xcbf29ce484222325), kinds, sizeof(kinds));
    h = hash_add_str(h, ev->summary);
    h = hash_labels(h, &ev->labels);
    h = hash_finish(hash_labels(h, &ev->annotations));
    return h ? h : 1;
}

void event_check_labels(const struct config_check *check, struct labels *ret)
{
    labels_init(ret);
    for (size_t k = 0; k < check->labels.n; k++)
        labels_set(ret, check->labels.v[k].name, check->labels.v[k].value, NULL);
    labels_set(ret, EVENT_CHECK_LABEL, check->name, NULL);
}

const char *event_status_name(enum event_status s)
{
    return s == EVENT_RESOLVED ? "resolved" : "firing";
}

int event_status_parse(const char *s, enum event_status *ret)
{
    if (strcmp(s, "firing") == 0)
        *ret = EVENT_FIRING;
    else if (strcmp(s, "resolved") == 0)
        *ret = EVENT_RESOLVED;
    else
        return -EINVAL;
    return 0;
}

const char *event_source_name(enum event_source s)
{
    switch (s) {
    case EVENT_SOURCE_CHECK:
        return "check";
    case EVENT_SOURCE_API:
        return "api";
    case EVENT_SOURCE_ALERTMANAGER:
        break;
    }
    return "alertmanager";
}
