/* SPDX-License-Identifier: MIT */
/*
 * The openings the executor dealt with: per incident, the reopened count
 * a run was started (or refused) for, so a change heard again starts
 * nothing more. Found by incident id through an id index (base/idindex.h);
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

static struct runbook__seen *find(struct runbooks *rbs, int64_t id)
{
    size_t at;
    return idindex_get(&rbs->seen_index, id, &at) ? &rbs->seen[at] : NULL;
}

static void forget(struct runbooks *rbs, struct runbook__seen *s)
{
    size_t at = (size_t)(s - rbs->seen), last = rbs->n_seen - 1;
    idindex_del(&rbs->seen_index, s->incident_id);
    if (at != last) {
        /* The last entry moves into the hole. */
        idindex_put(&rbs->seen_index, rbs->seen[last].incident_id, at);
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
    rbs->seen[rbs->n_seen] = (struct runbook__seen){.incident_id = id, .reopened = reopened};
    idindex_put(&rbs->seen_index, id, rbs->n_seen);
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
    idindex_fini(&rbs->seen_index);
    rbs->seen = NULL;
    rbs->n_seen = rbs->cap_seen = 0;
}
