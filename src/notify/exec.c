/* SPDX-License-Identifier: MIT */
/*
 * The exec channel: the program gets the webhook's JSON on its standard
 * input (one line, so a script can append it to a log as it is).
 */
#include <string.h>

#include "base/alloc.h"
#include "notify/channels.h"

int message__exec(const struct message *m, const struct config_notifier *nt,
                  struct message_payload *ret, struct err *e)
{
    int r = message__json_payload(m, nt, ret, e);
    if (r < 0)
        return r;
    ret->body = xrealloc(ret->body, ret->len + 2);
    ret->body[ret->len++] = '\n';
    ret->body[ret->len] = '\0';
    ret->content_type = NULL;
    return 0;
}
