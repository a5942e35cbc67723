/* SPDX-License-Identifier: MIT */
/*
 * Events: their clean-up, the blocks that a decoded batch's events share,
 * their content hash and the names of their status and source.
 */
#include "engine/event.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/hash.h"

struct event_block {
    struct arena arena;
    atomic_uint refs;
};

struct event_block *event_block_new(void)
{
    struct event_block *b = xmalloc(sizeof(*b));
    arena_init(&b->arena);
    atomic_init(&b->refs, 1);
    return b;
}

void event_block_ref(struct event_block *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
}

void event_block_unref(struct event_block *b)
{
    /* The events of a block may be finished on another thread than the one that made them. */
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) {
        arena_fini(&b->arena);
        free(b);
    }
}

void *event_block_alloc(struct event_block *b, size_t size)
{
    return arena_alloc(&b->arena, size);
}

char *event_block_strndup(struct event_block *b, const char *s, size_t len)
{
    char *p = arena_alloc(&b->arena, len + 1); /* zeroed: the NUL is there */
    memcpy(p, s, len);
    return p;
}

void event_init(struct event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->status = EVENT_FIRING;
    ev->severity = INCIDENT_SEVERITY_WARNING;
    labels_init(&ev->labels);
    labels_init(&ev->annotations);
    ev->summary = xstrdup("");
}

void event_init_shared(struct event *ev, struct event_block *block)
{
    memset(ev, 0, sizeof(*ev));
    ev->status = EVENT_FIRING;
    ev->severity = INCIDENT_SEVERITY_WARNING;
    labels_init(&ev->labels);
    labels_init(&ev->annotations);
    ev->summary = event_block_alloc(block, 1);
    event_block_ref(block);
    ev->block = block;
}

void event_fini(struct event *ev)
{
    if (!ev)
        return;
    if (ev->block) {
        event_block_unref(ev->block);
    } else {
        labels_fini(&ev->labels);
        labels_fini(&ev->annotations);
        free(ev->summary);
    }
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
