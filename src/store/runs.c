/* SPDX-License-Identifier: MIT */
/*
 * The records of runbook runs, backend-independent: their copies, their
 * _fini, and their place in a batch. The executor (src/runbook/) writes a
 * run's row and its step rows at every change, and reads them back on
 * start-up; the backends turn them into rows (sqlite_runs.c).
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/internal.h"
#include "store/store.h"

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void store_run_fini(struct store_run *r)
{
    if (!r)
        return;
    free(r->runbook);
    free(r->fingerprint);
    free(r->target);
    labels_fini(&r->labels);
    free(r->actor);
    free(r->outcome);
    free(r->reason);
    free(r->question);
    free(r->decided_by);
    free(r->decision);
    free(r->comment);
    memset(r, 0, sizeof(*r));
}

void store_run_copy(struct store_run *dst, const struct store_run *src)
{
    *dst = *src;
    dst->runbook = dup_or_null(src->runbook);
    dst->fingerprint = dup_or_null(src->fingerprint);
    dst->target = dup_or_null(src->target);
    labels_init(&dst->labels);
    for (size_t k = 0; k < src->labels.n; k++)
        labels_set(&dst->labels, src->labels.v[k].name, src->labels.v[k].value, NULL);
    dst->actor = dup_or_null(src->actor);
    dst->outcome = dup_or_null(src->outcome);
    dst->reason = dup_or_null(src->reason);
    dst->question = dup_or_null(src->question);
    dst->decided_by = dup_or_null(src->decided_by);
    dst->decision = dup_or_null(src->decision);
    dst->comment = dup_or_null(src->comment);
}

void store_run_step_fini(struct store_run_step *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->action);
    free(s->purpose);
    free(s->outcome);
    free(s->output);
    free(s->reason);
    memset(s, 0, sizeof(*s));
}

void store_run_step_copy(struct store_run_step *dst, const struct store_run_step *src)
{
    *dst = *src;
    dst->name = dup_or_null(src->name);
    dst->action = dup_or_null(src->action);
    dst->purpose = dup_or_null(src->purpose);
    dst->outcome = dup_or_null(src->outcome);
    dst->output = dup_or_null(src->output);
    dst->reason = dup_or_null(src->reason);
}

void store_quarantine_fini(struct store_quarantine *q)
{
    if (!q)
        return;
    free(q->runbook);
    free(q->reason);
    free(q->lifted_by);
    memset(q, 0, sizeof(*q));
}

void store_batch_run(struct store_batch *b, const struct store_run *r)
{
    store_run_copy(&store__batch_add(b, STORE_RECORD_RUN)->u.run, r);
}

void store_batch_run_step(struct store_batch *b, const struct store_run_step *s)
{
    store_run_step_copy(&store__batch_add(b, STORE_RECORD_RUN_STEP)->u.run_step, s);
}

void store_batch_quarantine(struct store_batch *b, const struct store_quarantine *q)
{
    struct store_quarantine *d = &store__batch_add(b, STORE_RECORD_QUARANTINE)->u.quarantine;
    *d = *q;
    d->runbook = dup_or_null(q->runbook);
    d->reason = dup_or_null(q->reason);
    d->lifted_by = dup_or_null(q->lifted_by);
}
