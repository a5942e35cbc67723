/* SPDX-License-Identifier: MIT */
/*
 * The retention section: how long the store keeps each kind of record
 * (closed incidents, event entries, step outputs, checks' state history,
 * the audit log), the cap of one stored text, and how often the store is
 * compacted. The defaults keep a year of a busy site in a small file.
 */
#include <string.h>

#include "config/internal.h"

/* About a century: longer is a typo, and keeps the cut-off time far from overflowing. */
#define KEEP_MAX_MS (5200ull * 7 * 24 * 3600 * 1000)

#define KEEP_EXPECTED "a duration such as 30d or 400d, or forever (or 0) to keep it for good"

/* A duration, or "forever" (the same as 0): that kind of record is never deleted. */
static bool parse_keep(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    const char *s = config__is_scalar(node) && !config__is_null(node) ? config__scalar(node) : NULL;
    if (!s || strlen(s) != node->data.scalar.length) {
        config__error(at->x, at->f, node, "expected %s, got %s", KEEP_EXPECTED,
                      config__describe(at->x, node));
        return false;
    }
    uint64_t ms = 0;
    size_t off = 0;
    if (strcmp(s, "forever") != 0 && units_duration_parse(s, &ms, NULL, &off) < 0) {
        config__error_in(at->x, at->f, node, off, "expected %s, got %s", KEEP_EXPECTED,
                         config__describe(at->x, node));
        return false;
    }
    if (ms > KEEP_MAX_MS) {
        config__error(at->x, at->f, node, "%s must be at most %s (about a century), got %s",
                      key->name, config__fmt_duration(at->x, KEEP_MAX_MS), s);
        return false;
    }
    *(uint64_t *)((char *)obj + key->offset) = ms;
    return true;
}

#define R(field) offsetof(struct config_retention, field)
#define KEEP(key, field, dflt)                                                                     \
    {                                                                                              \
        .name = key, .type = CONFIG__CUSTOM, .offset = R(field), .def = dflt, .custom = parse_keep \
    }

static const struct config__key retention_keys[] = {
        KEEP("closed_incidents", closed_incidents_ms, "400d"),
        KEEP("events", events_ms, "30d"),
        KEEP("outputs", outputs_ms, "30d"),
        KEEP("check_states", check_states_ms, "400d"),
        KEEP("audit", audit_ms, "forever"),
        {.name = "output_max",
         .type = CONFIG__SIZE,
         .offset = R(output_max),
         .def = "64KiB",
         .min = 1024,
         .max = 16u << 20},
        {.name = "every",
         .type = CONFIG__DURATION,
         .offset = R(every_ms),
         .def = "1h",
         .min = 1000,
         .max = 7ull * 24 * 3600 * 1000},
        {.name = NULL},
};

static const struct config__table retention_table = {"the retention section", retention_keys, NULL};

void config__parse_retention(struct config__ctx *x)
{
    config__parse_single(x, CONFIG__RETENTION, &retention_table, &x->c->retention);
}
