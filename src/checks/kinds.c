/* SPDX-License-Identifier: MIT */
/* The registry of check kinds: one line per kind file. */
#include <stddef.h>

#include "checks/internal.h"

static const struct check_kind *const kinds[] = {
        NULL, /* keeps the list valid while kinds are added one file at a time */
        &check_kind_tcp,
        &check_kind_http,
};

const struct check_kind *check_kind_find(enum config_check_type type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i] && kinds[i]->type == type)
            return kinds[i];
    return NULL;
}
