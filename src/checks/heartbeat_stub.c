/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for check_heartbeat_report() until the heartbeat kind
 * (heartbeat.c) lands: weak, so heartbeat.c's definition replaces it at
 * link time. Delete this file once heartbeat.c is in.
 */
#include "checks/internal.h"

__attribute__((weak)) int check_heartbeat_report(struct check_host *host,
                                                 const struct check_heartbeat_report *r)
{
    (void)host;
    (void)r;
    return HALE_ESTATE;
}
