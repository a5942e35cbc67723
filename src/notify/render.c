/* SPDX-License-Identifier: MIT */
/*
 * From outbox rows to what is sent: the incident as it is now, read from
 * the store, with what hale knows of it (message_build(), content.c),
 * told for the row's reason and words, the week's on-call person as its
 * assignee when nobody has it, and for a group the incidents of the
 * burst; then the notifier's channel renders it (message_render()).
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "notify/content.h"
#include "notify/internal.h"

enum notify_reason notify__reason_parse(const char *s)
{
    static const enum notify_reason all[] = {NOTIFY_OPENED,      NOTIFY_ESCALATED, NOTIFY_LEVEL,
                                             NOTIFY_RESOLVED,    NOTIFY_USERS,     NOTIFY_STEP,
                                             NOTIFY_ACKNOWLEDGED};
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
        if (strcmp(s, notify_reason_name(all[k])) == 0)
            return all[k];
    return NOTIFY_ESCALATED;
}

/* The row's incident now; one compacted away meanwhile is told by its id alone. */
static int incident_read(struct notify *n, const struct store_notification *rec,
                         struct incident *ret)
{
    int r = store_incident_get(n->reader, rec->incident_id, ret);
    if (r == HALE_ENOTFOUND) {
        *ret = (struct incident){.id = rec->incident_id,
                                 .title = xasprintf("incident %lld", (long long)rec->incident_id),
                                 .priority = 3};
        return 0;
    }
    if (r == 0 && !ret->assignee && rec->assignee)
        ret->assignee = xstrdup(rec->assignee);
    return r;
}

int notify__render(struct notify *n, const struct config_notifier *nt,
                   struct notify__item *const *items, size_t n_items, struct message_payload *ret,
                   struct err *e)
{
    const struct store_notification *first = &items[0]->rec;
    struct incident *v = xcalloc(n_items, sizeof(*v));
    const struct incident **grouped = xcalloc(n_items, sizeof(*grouped));
    size_t read = 0;
    int r = 0;
    for (; read < n_items && r == 0; read++) {
        r = incident_read(n, &items[read]->rec, &v[read]);
        grouped[read] = &v[read];
    }
    if (r < 0) {
        read--;
        r = err_setf(e, HALE_ESTORE, "cannot read incident %lld",
                     (long long)items[read]->rec.incident_id);
    }
    struct message_content c = {0};
    if (r == 0)
        r = message_build(n->reader, n->config, &v[0], n->o.base_url, notify__now_ms(), &c, e);
    if (r == 0) {
        c.m.reason = notify__reason_parse(first->reason);
        c.m.text = first->text;
        if (n_items > 1) {
            c.m.grouped = grouped;
            c.m.n_grouped = n_items;
        }
        r = message_render(&c.m, nt, ret, e);
    }
    message_content_fini(&c);
    for (size_t k = 0; k < read; k++)
        incident_fini(&v[k]);
    free(grouped);
    free(v);
    return r;
}
