/* SPDX-License-Identifier: MIT */
/*
 * The scheduler's logic (sched.h): slots from a per-name phase, the heap of
 * next slots, skipping a slot while an entry is still busy, the queue of
 * child runs waiting for the concurrency limit, and run-now. No loop here:
 * time comes from the struct clock and runs leave through the callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "sched/internal.h"

/* FNV-1a, then a 64-bit finaliser so close names land far apart. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53u;
    h ^= h >> 33;
    return h;
}

uint64_t sched_phase_ms(const char *name, uint64_t every_ms)
{
    return every_ms ? name_hash(name) % every_ms : 0;
}

static void notify_change(struct sched *s)
{
    if (!s->busy && s->on_change)
        s->on_change(s->on_change_data);
}

int sched_new(const struct clock *clock, unsigned max_children, sched_run_cb *cb,
              struct sched **ret_sched)
{
    if (max_children == 0 || !cb)
        return -EINVAL;
    struct sched *s = xcalloc(1, sizeof(*s));
    s->clock = clock;
    s->cb = cb;
    s->max_children = max_children;
    uint64_t mono = clock_mono_ms(clock), real = clock_real_ms(clock);
    /* A wall clock behind the monotonic one is nonsense; fall back to monotonic slots. */
    s->real_offset_ms = real >= mono ? real - mono : 0;
    *ret_sched = s;
    return 0;
}

static void entry_free(struct sched_entry *e)
{
    free(e);
}

/* Entries removed while running wait here (on their queue links) for their run to end. */
static void zombie_push(struct sched *s, struct sched_entry *e)
{
    e->q_prev = NULL;
    e->q_next = s->zombies;
    if (s->zombies)
        s->zombies->q_prev = e;
    s->zombies = e;
}

static void zombie_unlink(struct sched *s, struct sched_entry *e)
{
    if (e->q_prev)
        e->q_prev->q_next = e->q_next;
    else
        s->zombies = e->q_next;
    if (e->q_next)
        e->q_next->q_prev = e->q_prev;
    e->q_prev = e->q_next = NULL;
}

void sched_free(struct sched *s)
{
    if (!s)
        return;
    /* Every entry is in the heap, queued or not, or a zombie. */
    for (size_t i = 0; i < s->heap.n; i++)
        entry_free(s->heap.v[i].e);
    while (s->zombies) {
        struct sched_entry *e = s->zombies;
        zombie_unlink(s, e);
        entry_free(e);
    }
    sched__heap_fini(&s->heap);
    free(s);
}

/* The first slot of phase at or after mono time now. */
static uint64_t first_slot(const struct sched *s, const struct sched_entry *e, uint64_t phase_ms,
                           uint64_t now)
{
    uint64_t at = (now + s->real_offset_ms) % e->every_ms;
    uint64_t wait = (phase_ms + e->every_ms - at) % e->every_ms;
    return now + wait;
}

int sched_entry_add(struct sched *s, const char *name, uint64_t every_ms,
                    enum sched_entry_kind kind, void *data, struct sched_entry **ret_entry)
{
    if (every_ms == 0 || !name || !*name)
        return -EINVAL;
    struct sched_entry *e = xcalloc(1, sizeof(*e));
    e->every_ms = every_ms;
    e->kind = kind;
    e->data = data;
    e->id = s->next_id++;
    e->state = SCHED__IDLE;
    e->due_ms = first_slot(s, e, sched_phase_ms(name, every_ms), clock_mono_ms(s->clock));
    sched__heap_push(&s->heap, e);
    notify_change(s);
    *ret_entry = e;
    return 0;
}

void sched_reserve(struct sched *s, size_t n)
{
    sched__heap_reserve(&s->heap, n);
}

static void queue_unlink(struct sched *s, struct sched_entry *e)
{
    if (e->q_prev)
        e->q_prev->q_next = e->q_next;
    else
        s->q_head = e->q_next;
    if (e->q_next)
        e->q_next->q_prev = e->q_prev;
    else
        s->q_tail = e->q_prev;
    e->q_prev = e->q_next = NULL;
    s->n_queued--;
}

static void queue_insert_after(struct sched *s, struct sched_entry *after, struct sched_entry *e)
{
    e->q_prev = after;
    e->q_next = after ? after->q_next : s->q_head;
    if (e->q_next)
        e->q_next->q_prev = e;
    else
        s->q_tail = e;
    if (after)
        after->q_next = e;
    else
        s->q_head = e;
    s->n_queued++;
}

/*
 * Makes e wait for the limit. Run-now requests go to the head (a person or
 * a repair is waiting on them); slots keep due order, which is mostly
 * arrival order, so the scan from the tail is short.
 */
static void queue_push(struct sched *s, struct sched_entry *e, uint64_t due, bool now_request,
                       uint64_t now)
{
    e->state = SCHED__QUEUED;
    e->q_due_ms = due;
    e->q_enq_ms = now;
    e->q_now = now_request;
    if (now_request) {
        struct sched_entry *after = NULL;
        for (struct sched_entry *q = s->q_head; q && q->q_now; q = q->q_next)
            after = q;
        queue_insert_after(s, after, e);
        return;
    }
    struct sched_entry *after = s->q_tail;
    while (after && !after->q_now && after->q_due_ms > due)
        after = after->q_prev;
    queue_insert_after(s, after, e);
}

static void start(struct sched *s, struct sched_entry *e, uint64_t due, uint64_t enq,
                  bool now_request)
{
    uint64_t now = clock_mono_ms(s->clock);
    e->state = SCHED__RUNNING;
    if (e->kind == SCHED_ENTRY_CHILD)
        s->children++;
    struct sched_run run = {
            .due_ms = due,
            .start_ms = now,
            .lateness_ms = now > due ? now - due : 0,
            .queue_wait_ms = now > enq ? now - enq : 0,
            .now = now_request,
    };
    struct sched_entry_stats *st = &e->stats;
    st->runs++;
    st->last_lateness_ms = run.lateness_ms;
    if (run.lateness_ms > st->max_lateness_ms)
        st->max_lateness_ms = run.lateness_ms;
    st->last_queue_wait_ms = run.queue_wait_ms;
    if (run.queue_wait_ms > st->max_queue_wait_ms)
        st->max_queue_wait_ms = run.queue_wait_ms;
    /* e may be gone once the callback returns (done, then remove). */
    s->cb(s, e, &run, e->data);
}

static bool has_room(const struct sched *s, const struct sched_entry *e)
{
    return e->kind != SCHED_ENTRY_CHILD || s->children < s->max_children;
}

/* Starts waiting runs while the limit allows; returns how many. */
static unsigned drain(struct sched *s)
{
    unsigned started = 0;
    while (s->q_head && s->children < s->max_children) {
        struct sched_entry *e = s->q_head;
        queue_unlink(s, e);
        start(s, e, e->q_due_ms, e->q_enq_ms, e->q_now);
        started++;
    }
    return started;
}

unsigned sched_tick(struct sched *s)
{
    uint64_t now = clock_mono_ms(s->clock);
    unsigned started = 0;
    bool was_busy = s->busy;
    s->busy = true;
    struct sched_entry *e;
    while ((e = sched__heap_top(&s->heap)) && e->due_ms <= now) {
        uint64_t due = e->due_ms;
        /* The next slot after now; slots the scheduler itself overslept are missed. */
        uint64_t behind = (now - due) / e->every_ms;
        e->stats.missed += behind;
        e->due_ms = due + (behind + 1) * e->every_ms;
        sched__heap_fix(&s->heap, e);

        if (e->state != SCHED__IDLE) {
            e->stats.skipped++;
        } else if (e->kind == SCHED_ENTRY_CHILD && (!has_room(s, e) || s->q_head)) {
            /* Waiting runs go first: they are older. */
            queue_push(s, e, due, false, now);
        } else {
            start(s, e, due, now, false);
            started++;
        }
    }
    started += drain(s);
    s->busy = was_busy;
    notify_change(s);
    return started;
}

void sched_run_done(struct sched *s, struct sched_entry *e)
{
    if (e->state != SCHED__RUNNING)
        return;
    e->state = SCHED__IDLE;
    if (e->kind == SCHED_ENTRY_CHILD)
        s->children--;
    if (e->removed) {
        zombie_unlink(s, e);
        entry_free(e);
    } else if (e->rerun) {
        /* Cleared first, so a runner that ends runs synchronously recurses once at most. */
        e->rerun = false;
        uint64_t now = clock_mono_ms(s->clock);
        if (e->kind == SCHED_ENTRY_LOOP || (has_room(s, e) && !s->q_head))
            start(s, e, now, now, true);
        else
            queue_push(s, e, now, true, now);
    }
    if (!s->busy) {
        s->busy = true;
        drain(s);
        s->busy = false;
        notify_change(s);
    }
}

void sched_entry_remove(struct sched *s, struct sched_entry *e)
{
    if (!e || e->removed)
        return;
    sched__heap_remove(&s->heap, e);
    if (e->state == SCHED__QUEUED)
        queue_unlink(s, e);
    if (e->state == SCHED__RUNNING) {
        e->removed = true;
        e->rerun = false;
        zombie_push(s, e);
    } else {
        entry_free(e);
    }
    notify_change(s);
}

int sched_entry_run_now(struct sched *s, struct sched_entry *e)
{
    uint64_t now = clock_mono_ms(s->clock);
    switch (e->state) {
    case SCHED__RUNNING:
        e->rerun = true;
        return 0;
    case SCHED__QUEUED:
        queue_unlink(s, e);
        queue_push(s, e, now, true, e->q_enq_ms);
        return 0;
    case SCHED__IDLE:
        break;
    }
    if (!has_room(s, e)) {
        queue_push(s, e, now, true, now);
        return 0;
    }
    bool was_busy = s->busy;
    s->busy = true;
    start(s, e, now, now, true);
    drain(s);
    s->busy = was_busy;
    notify_change(s);
    return 0;
}

uint64_t sched_next_due_ms(const struct sched *s)
{
    const struct sched_entry *e = sched__heap_top(&s->heap);
    return e ? e->due_ms : UINT64_MAX;
}

unsigned sched_children(const struct sched *s)
{
    return s->children;
}

size_t sched_queued(const struct sched *s)
{
    return s->n_queued;
}

size_t sched_entries(const struct sched *s)
{
    return s->heap.n;
}

void *sched_entry_data(const struct sched_entry *e)
{
    return e->data;
}

uint64_t sched_entry_every_ms(const struct sched_entry *e)
{
    return e->every_ms;
}

uint64_t sched_entry_due_ms(const struct sched_entry *e)
{
    return e->due_ms;
}

bool sched_entry_is_running(const struct sched_entry *e)
{
    return e->state == SCHED__RUNNING;
}

bool sched_entry_is_queued(const struct sched_entry *e)
{
    return e->state == SCHED__QUEUED;
}

void sched_entry_stats(const struct sched_entry *e, struct sched_entry_stats *ret_stats)
{
    *ret_stats = e->stats;
}
