/* SPDX-License-Identifier: MIT */
/*
 * The live stream's wire format (server-sent events) and the ring of the
 * last messages a reconnecting client may have missed. Pure: no threads,
 * no I/O, so the rules for ids, replay and reset are tested alone
 * (tests/unit/test_stream.c). stream.c owns one ring on the loop thread.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/alloc.h"

static const char *const event_type_names[API__EVENT_TYPES] = {
        [API__EVENT_INCIDENT] = "incident",
        [API__EVENT_CHECK] = "check",
        [API__EVENT_RUN] = "run",
};

const char *api__event_type_name(enum api__event_type t)
{
    return (unsigned)t < API__EVENT_TYPES ? event_type_names[t] : "unknown";
}

int api__event_types_parse(const char *s, unsigned *ret_mask, struct err *e)
{
    unsigned mask = 0;
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");
        unsigned bit = 0;
        for (unsigned t = 0; t < API__EVENT_TYPES && !bit; t++)
            if (len == strlen(event_type_names[t]) && memcmp(p, event_type_names[t], len) == 0)
                bit = 1u << t;
        if (!bit)
            return err_setf(e, -EINVAL, "\"%.*s\" is not a type of event",
                            (int)(len > 64 ? 64 : len), p);
        mask |= bit;
        p += len;
        if (*p == '\0')
            break;
    }
    *ret_mask = mask;
    return 0;
}

void api__ring_init(struct api__ring *r, const char *run, size_t max_events, size_t max_bytes)
{
    assert(max_events > 0 && strlen(run) < API__RUN_MAX);
    *r = (struct api__ring){.cap = max_events, .max_bytes = max_bytes};
    snprintf(r->run, sizeof(r->run), "%s", run);
    r->v = xcalloc(max_events, sizeof(*r->v));
}

void api__ring_fini(struct api__ring *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->v[(r->head + i) % r->cap].frame);
    free(r->v);
    *r = (struct api__ring){0};
}

void api__ring_id(const struct api__ring *r, uint64_t seq, char buf[API__EVENT_ID_MAX])
{
    snprintf(buf, API__EVENT_ID_MAX, "%s-%" PRIu64, r->run, seq);
}

static void drop_oldest(struct api__ring *r)
{
    struct api__event *old = &r->v[r->head];
    r->bytes -= old->len;
    free(old->frame);
    *old = (struct api__event){0};
    r->head = (r->head + 1) % r->cap;
    r->n--;
}

const struct api__event *api__ring_push(struct api__ring *r, enum api__event_type type,
                                        const char *json)
{
    /* A second line would end the data field early: the encoder never makes one. */
    assert(!strpbrk(json, "\r\n"));
    char id[API__EVENT_ID_MAX];
    api__ring_id(r, ++r->seq, id);
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "id: %s\nevent: %s\ndata: %s\n\n", id, api__event_type_name(type), json);
    size_t len;
    char *frame = strbuf_detach(&b, &len);

    while (r->n > 0 && (r->n == r->cap || r->bytes + len > r->max_bytes))
        drop_oldest(r);
    struct api__event *ev = &r->v[(r->head + r->n) % r->cap];
    *ev = (struct api__event){.seq = r->seq, .type = type, .frame = frame, .len = len};
    r->n++;
    r->bytes += len;
    return ev;
}

/* The sequence number of an id of this run; false for anything else. */
static bool id_parse(const struct api__ring *r, const char *id, uint64_t *ret_seq)
{
    size_t run_len = strlen(r->run);
    if (strncmp(id, r->run, run_len) != 0 || id[run_len] != '-')
        return false;
    const char *digits = id + run_len + 1;
    if (*digits < '0' || *digits > '9' || strlen(digits) > 20)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, 10);
    if (errno || *end)
        return false;
    *ret_seq = v;
    return true;
}

bool api__ring_resumable(const struct api__ring *r, const char *last_id, uint64_t *ret_after)
{
    uint64_t seq;
    if (!id_parse(r, last_id, &seq) || seq > r->seq)
        return false;
    /* Every message after seq must still be held: the oldest held is seq + 1 or earlier. */
    uint64_t oldest = r->n ? r->v[r->head].seq : r->seq + 1;
    if (seq + 1 < oldest)
        return false;
    *ret_after = seq;
    return true;
}

size_t api__ring_replay(const struct api__ring *r, uint64_t after, unsigned mask,
                        struct strbuf *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) {
        const struct api__event *ev = &r->v[(r->head + i) % r->cap];
        if (ev->seq <= after || !(mask & (1u << ev->type)))
            continue;
        strbuf_add(out, ev->frame, ev->len);
        n++;
    }
    return n;
}
