/* SPDX-License-Identifier: MIT */
/*
 * The openings the executor dealt with: per incident, the reopened count
 * a run was started (or refused) for, so a change heard again starts
 * nothing more. Found by incident id through an open-addressing index;
 * bounded: an incident is forgotten once it is closed, or resolved for
 * longer than the reopen window (it will not open again; a new incident
 * would take its place).
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "runbook/internal.h"

/* The first sweep comes at this many incidents; the next at twice those kept. */
#define SEEN_SWEEP_MIN 64u

static size_t slot_of(int64_t id, size_t n_slots)
{
    /* Ids are dense and increasing: a multiplicative hash spreads them over the table. */
    return (size_t)(((uint64_t)id * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (n_slots - 1);
}

/* The slot that holds id, or the empty slot where it would go. */
static size_t slot_find(const struct runbooks *rbs, int64_t id)
{
    size_t k = slot_of(id, rbs->n_seen_slots);
    while (rbs->seen_slots[k] && rbs->seen[rbs->seen_slots[k] - 1].incident_id != id)
        k = (k + 1) & (rbs->n_seen_slots - 1);
    return k;
}

static void slots_rebuild(struct runbooks *rbs, size_t n_slots)
{
    free(rbs->seen_slots);
    rbs->seen_slots = xcalloc(n_slots, sizeof(*rbs->seen_slots));
    rbs->n_seen_slots = n_slots;
    for (size_t i = 0; i < rbs->n_seen; i++)
        rbs->seen_slots[slot_find(rbs, rbs->seen[i].incident_id)] = (uint32_t)(i + 1);
}

/* Empties slot k, moving back the entries after it that probed past it (no tombstones). */
static void slot_clear(struct runbooks *rbs, size_t k)
{
    size_t mask = rbs->n_seen_slots - 1;
    rbs->seen_slots[k] = 0;
    for (size_t j = (k + 1) & mask; rbs->seen_slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(rbs->seen[rbs->seen_slots[j] - 1].incident_id, rbs->n_seen_slots);
        /* The entry at j stays when its home lies cyclically in (k, j]. */
        if ((j > k) ? (home > k && home <= j) : (home > k || home <= j))
            continue;
        rbs->seen_slots[k] = rbs->seen_slots[j];
        rbs->seen_slots[j] = 0;
        k = j;
    }
}

static struct runbook__seen *find(struct runbooks *rbs, int64_t id)
{
    if (!rbs->n_seen)
        return NULL;
    uint32_t at = rbs->seen_slots[slot_find(rbs, id)];
    return at ? &rbs->seen[at - 1] : NULL;
}

static void forget(struct runbooks *rbs, struct runbook__seen *s)
{
    size_t at = (size_t)(s - rbs->seen), last = rbs->n_seen - 1;
    slot_clear(rbs, slot_find(rbs, s->incident_id));
    if (at != last) {
        /* The last entry moves into the hole: its slot must say where. */
        rbs->seen_slots[slot_find(rbs, rbs->seen[last].incident_id)] = (uint32_t)(at + 1);
        *s = rbs->seen[last];
    }
    rbs->n_seen--;
}

void runbook__seen_sweep(struct runbooks *rbs, int64_t now_ms)
{
    int64_t window = (int64_t)rbs->config->incidents.reopen_within_ms;
    for (size_t k = rbs->n_seen; k-- > 0;)
        if (rbs->seen[k].resolved_ms && rbs->seen[k].resolved_ms + window < now_ms)
            forget(rbs, &rbs->seen[k]);
    rbs->seen_sweep_at = rbs->n_seen * 2 > SEEN_SWEEP_MIN ? rbs->n_seen * 2 : SEEN_SWEEP_MIN;
}

bool runbook__seen(struct runbooks *rbs, int64_t id, unsigned reopened)
{
    struct runbook__seen *s = find(rbs, id);
    if (s) {
        if (s->reopened == reopened)
            return true;
        s->reopened = reopened;
        s->resolved_ms = 0;
        return false;
    }
    if (rbs->n_seen >= rbs->seen_sweep_at)
        runbook__seen_sweep(rbs, runbook__now_ms());
    if (rbs->n_seen == rbs->cap_seen) {
        rbs->cap_seen = rbs->cap_seen ? rbs->cap_seen * 2 : 64;
        rbs->seen = xreallocarray(rbs->seen, rbs->cap_seen, sizeof(*rbs->seen));
    }
    /* At most half full, so that probes stay short. */
    if (2 * (rbs->n_seen + 1) > rbs->n_seen_slots)
        slots_rebuild(rbs, rbs->n_seen_slots ? 2 * rbs->n_seen_slots : 128);
    rbs->seen[rbs->n_seen] = (struct runbook__seen){.incident_id = id, .reopened = reopened};
    rbs->seen_slots[slot_find(rbs, id)] = (uint32_t)(rbs->n_seen + 1);
    rbs->n_seen++;
    return false;
}

void runbook__seen_mark(struct runbooks *rbs, int64_t id, unsigned reopened)
{
    runbook__seen(rbs, id, reopened);
}

void runbook__seen_update(struct runbooks *rbs, const struct incident *i)
{
    struct runbook__seen *s = find(rbs, i->id);
    if (!s)
        return;
    if (i->state == INCIDENT_CLOSED)
        forget(rbs, s); /* it never opens again */
    else if (i->state == INCIDENT_RESOLVED)
        s->resolved_ms = i->resolved_ms ? i->resolved_ms : runbook__now_ms();
    else
        s->resolved_ms = 0;
}

size_t runbook__seen_count(const struct runbooks *rbs)
{
    return rbs->n_seen;
}

void runbook__seen_free(struct runbooks *rbs)
{
    free(rbs->seen);
    free(rbs->seen_slots);
    rbs->seen = NULL;
    rbs->seen_slots = NULL;
    rbs->n_seen = rbs->cap_seen = rbs->n_seen_slots = 0;
}
