/* SPDX-License-Identifier: MIT */
/* Events: their clean-up and the names of their status and source. */
#include "engine/event.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

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
