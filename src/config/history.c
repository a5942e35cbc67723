/* SPDX-License-Identifier: MIT */
/*
 * The history section: how many points each series of the in-memory
 * history keeps, and the memory all their points may take together
 * (src/series/). The defaults keep two hours of a check run every 10 s on
 * a small site, and what 4 MiB allows on a large one.
 */
#include "config/internal.h"

#define H(field) offsetof(struct config_history, field)

static const struct config__key history_keys[] = {
        {.name = "points",
         .type = CONFIG__UINT,
         .offset = H(points),
         .def = "720",
         .min = 1,
         .max = 1000000},
        {.name = "memory",
         .type = CONFIG__SIZE,
         .offset = H(memory),
         .def = "4MiB",
         .min = 64u << 10,
         .max = 16ull << 30},
        {.name = NULL},
};

static const struct config__table history_table = {"the history section", history_keys, NULL};

void config__parse_history(struct config__ctx *x)
{
    config__parse_single(x, CONFIG__HISTORY, &history_table, &x->c->history);
}
