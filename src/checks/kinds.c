/* SPDX-License-Identifier: MIT */
/* The registry of check kinds: one line per kind file. */
#include <stddef.h>

#include "checks/internal.h"

static const struct check_kind *const kinds[] = {
        &check_kind_process,   &check_kind_tcp,     &check_kind_http,    &check_kind_file,
        &check_kind_disk,      &check_kind_command, &check_kind_systemd, &check_kind_log,
        &check_kind_heartbeat, &check_kind_metric,
};

const struct check_kind *check_kind_find(enum config_check_type type)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i]->type == type)
            return kinds[i];
    return NULL;
}
