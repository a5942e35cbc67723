/* SPDX-License-Identifier: MIT */
/*
 * Fingerprints of events: Alertmanager's hash over the identifying subset
 * of an event's labels. The label set is kept sorted by name, which is
 * the order Prometheus hashes in, so the walk needs no sorting of its own.
 */
#include "engine/fingerprint.h"

uint64_t engine_fingerprint(const struct labels *l, const struct config_strv *identifying)
{
    size_t used;
    uint64_t h = labels_fingerprint_of(l, identifying ? identifying->v : NULL,
                                       identifying ? identifying->n : 0, &used);
    /* None of the identifying labels: the event is known by all of its own. */
    return used == 0 && l->n > 0 ? labels_fingerprint(l) : h;
}

uint64_t engine_event_fingerprint(const struct event *ev, const struct config_strv *identifying)
{
    if (!ev->labels_fingerprint)
        return engine_fingerprint(&ev->labels, identifying);
    if (!identifying || identifying->n == 0)
        return ev->labels_fingerprint;
    size_t used;
    uint64_t h = labels_fingerprint_of(&ev->labels, identifying->v, identifying->n, &used);
    return used == 0 && ev->labels.n > 0 ? ev->labels_fingerprint : h;
}

/* By hand: it runs for every event, and snprintf() would parse its format each time. */
const char *engine_fingerprint_format(uint64_t fp, char buf[ENGINE_FINGERPRINT_MAX])
{
    static const char hex[] = "0123456789abcdef";
    for (int k = 15; k >= 0; k--, fp >>= 4)
        buf[k] = hex[fp & 0xf];
    buf[16] = '\0';
    return buf;
}
