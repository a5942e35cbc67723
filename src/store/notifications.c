/* SPDX-License-Identifier: MIT */
/*
 * The records of the outbox, backend-independent: their copies, their
 * _fini, and their place in a batch. The dispatcher (src/notify/) writes a
 * notification's row when it is queued and at every attempt, and reads the
 * pending ones back on start-up; the backends turn them into rows
 * (sqlite_notify.c).
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

void store_notification_fini(struct store_notification *n)
{
    if (!n)
        return;
    free(n->team);
    free(n->notifier);
    free(n->reason);
    free(n->state);
    free(n->text);
    free(n->assignee);
    free(n->error);
    memset(n, 0, sizeof(*n));
}

void store_notification_copy(struct store_notification *dst, const struct store_notification *src)
{
    *dst = *src;
    dst->team = dup_or_null(src->team);
    dst->notifier = dup_or_null(src->notifier);
    dst->reason = dup_or_null(src->reason);
    dst->state = dup_or_null(src->state);
    dst->text = dup_or_null(src->text);
    dst->assignee = dup_or_null(src->assignee);
    dst->error = dup_or_null(src->error);
}

void store_batch_notification(struct store_batch *b, const struct store_notification *n)
{
    store_notification_copy(&store__batch_add(b, STORE_RECORD_NOTIFICATION)->u.notification, n);
}
