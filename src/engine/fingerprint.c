/* SPDX-License-Identifier: MIT */
/*
 * Fingerprints of events: Alertmanager's hash over the identifying subset
 * of an event's labels. The label set is kept sorted by name, which is
 * the order Prometheus hashes in, so the walk needs no sorting of its own.
 */
#include "engine/fingerprint.h"

#include <stdbool.h>
#include <string.h>

#define FNV_OFFSET 14695981039346656037u
#define FNV_PRIME  1099511628211u

/* s into h, then Prometheus's separator byte. */
static uint64_t fnv_add(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * FNV_PRIME;
    return (h ^ 0xffu) * FNV_PRIME;
}

static bool is_identifying(const struct config_strv *identifying, const char *name)
{
    for (size_t i = 0; i < identifying->n; i++)
        if (strcmp(identifying->v[i], name) == 0)
            return true;
    return false;
}

uint64_t engine_fingerprint(const struct labels *l, const struct config_strv *identifying)
{
    bool all = !identifying || identifying->n == 0;
    uint64_t h = FNV_OFFSET;
    size_t used = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (!all && !is_identifying(identifying, l->v[i].name))
            continue;
        h = fnv_add(fnv_add(h, l->v[i].name), l->v[i].value);
        used++;
    }
    if (used == 0 && !all && l->n > 0)
        return engine_fingerprint(l, NULL);
    return h;
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
