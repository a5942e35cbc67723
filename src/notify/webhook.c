/* SPDX-License-Identifier: MIT */
/*
 * The webhook channel: the message as JSON (the schema documented in
 * docs/notifications.md, version 1, only ever extended), POSTed to the
 * notifier's URL. With a secret, X-Hale-Signature carries the HMAC-SHA256
 * of the exact body, so a receiver that shares the secret can trust it.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "notify/channels.h"

int message__webhook(const struct message *m, const struct config_notifier *nt,
                     struct message_payload *ret, struct err *e)
{
    int r = message__json_payload(m, nt, ret, e);
    if (r < 0)
        return r;
    if (nt->secret) {
        char sig[HASH_SHA256_HEX_LEN + 1];
        hash_hmac_sha256_hex(nt->secret, strlen(nt->secret), ret->body, ret->len, sig);
        ret->headers[0] = xasprintf("X-Hale-Signature: sha256=%s", sig);
    }
    return 0;
}
