/* SPDX-License-Identifier: MIT */
/*
 * Talking to systemd when it runs us as a Type=notify service: READY=1 once
 * the listeners are bound, RELOADING=1 / STOPPING=1 around reloads and
 * shutdown, STATUS= lines, and watchdog pings. Without NOTIFY_SOCKET every
 * call is a no-op, so callers never need to know how they were started.
 */
#ifndef HALE_BASE_SDNOTIFY_H
#define HALE_BASE_SDNOTIFY_H

#include <stdint.h>

/*
 * Sends msg ("READY=1\nSTATUS=serving") as one datagram to $NOTIFY_SOCKET,
 * a filesystem path or an abstract name starting with '@'. Returns 0 (also
 * when NOTIFY_SOCKET is unset) or -errno; failures are for the caller to
 * ignore or log, never to retry in a loop.
 */
int sdnotify_send(const char *msg);

/* "RELOADING=1\nMONOTONIC_USEC=<now>", as Type=notify-reload requires. */
int sdnotify_reloading(void);

/*
 * The interval at which to send "WATCHDOG=1": half of $WATCHDOG_USEC, in
 * milliseconds, when the watchdog is enabled for this process; else 0.
 */
uint64_t sdnotify_watchdog_interval_ms(void);

#endif
