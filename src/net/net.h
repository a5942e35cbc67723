/* SPDX-License-Identifier: MIT */
/*
 * libcurl on the daemon's libuv loop. Each loop has one shared curl multi
 * handle whose sockets are watched by one epoll set on the loop and whose
 * timeout is one uv_timer_t, so any number of HTTP transfers (http checks, runbook http
 * steps, notifiers) run at once on the loop thread without blocking it and
 * without a thread of their own. Callers build an easy handle, hand it to
 * net_transfer_start(), and hear once when it ends.
 */
#ifndef HALE_NET_NET_H
#define HALE_NET_NET_H

#include <stdbool.h>

#include <curl/curl.h>
#include <uv.h>

#include "base/err.h"

/* The curl multi handle of one libuv loop. Loop thread only. */
struct net_multi;

/*
 * Called on the loop thread once a transfer ended, with curl's result
 * (CURLE_OK when a response arrived, whatever its status). The easy handle
 * is out of the multi by then and belongs to the caller again: read its
 * CURLINFO_* and clean it up. The callback may start or cancel transfers
 * and drop references.
 */
typedef void net_transfer_cb(CURL *easy, CURLcode result, void *data);

/*
 * Returns uv's shared multi handle, creating it on first use, with one more
 * reference for the caller; drop it with net_multi_unref(). Thread: the
 * loop's, and not from inside a libcurl callback.
 */
struct net_multi *net_multi_ref(uv_loop_t *uv);

/*
 * Drops a reference. The last one cleans the multi handle up and closes its
 * libuv handles (freed by their close callbacks, so run the loop once more
 * before closing it). Only once the caller's transfers have ended or were
 * cancelled. Accepts NULL; not from inside a libcurl callback.
 */
void net_multi_unref(struct net_multi *m);

/*
 * An easy handle with curl's default options, for a transfer on m: one of
 * m's idle handles when it has one (a reused handle keeps its buffers, so a
 * transfer allocates less), else a new one. NULL when out of memory. Hand
 * it back with net_easy_put() rather than curl_easy_cleanup().
 */
CURL *net_easy_get(struct net_multi *m);

/*
 * Gives easy, got from net_easy_get() on m and no longer in a transfer,
 * back to m: reset to curl's defaults and kept idle, or cleaned up when m
 * keeps enough. Accepts NULL.
 */
void net_easy_put(struct net_multi *m, CURL *easy);

/*
 * Adds easy (configured by the caller, who keeps owning it; CURLOPT_PRIVATE
 * is net's, and CURLOPT_NOSIGNAL is set here) to m and starts the transfer;
 * cb(easy, result, data) is called exactly once when it ends, unless it is
 * cancelled first. Holds a reference to m until then. Returns 0, or
 * HALE_EINTERNAL with e set when curl refuses the handle (cb is then never
 * called). Not from inside a libcurl callback.
 */
int net_transfer_start(struct net_multi *m, CURL *easy, net_transfer_cb *cb, void *data,
                       struct err *e);

/*
 * Stops a transfer started with net_transfer_start() that has not ended yet:
 * its connection is closed and its callback never called. easy is the
 * caller's again. Not from inside a libcurl callback (abort those by
 * returning an error from the callback).
 */
void net_transfer_cancel(CURL *easy);

/*
 * Days (with a fraction) until the TLS certificate of the server that
 * answered easy expires, negative once expired. Needs CURLOPT_CERTINFO set
 * on easy before the transfer, and a finished transfer over TLS. Returns 0,
 * or HALE_ENOTFOUND when curl kept no certificate (not TLS, or the
 * handshake failed), or HALE_EPARSE when the certificate cannot be read.
 */
int net_tls_cert_days_left(CURL *easy, double *ret_days);

#endif
