/* SPDX-License-Identifier: MIT */
/* Result codes to text, and the struct err helpers. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *hale_strerror(int r)
{
    switch (r) {
    case 0:
        return "success";
    case HALE_ECONFIG:
        return "invalid configuration";
    case HALE_ELIMIT:
        return "limit exceeded";
    case HALE_EPARSE:
        return "malformed input";
    case HALE_ENOTFOUND:
        return "not found";
    case HALE_EEXIST:
        return "already exists";
    case HALE_EAUTH:
        return "authentication required";
    case HALE_EDENIED:
        return "permission denied";
    case HALE_EINTERNAL:
        return "internal error";
    case HALE_ESTATE:
        return "not possible in the current state";
    case HALE_ESTORE:
        return "the store failed";
    default:
        return r < 0 && r > HALE_EBASE ? strerror(-r) : "unknown error";
    }
}

int err_vsetf(struct err *e, int r, const char *fmt, va_list ap)
{
    if (!e)
        return r;
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    e->code = r;
    return r;
}

int err_setf(struct err *e, int r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err_vsetf(e, r, fmt, ap);
    va_end(ap);
    return r;
}

int err_prefixf(struct err *e, const char *fmt, ...)
{
    if (!e)
        return 0;
    char prefix[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof(prefix) - 2, fmt, ap);
    va_end(ap);
    size_t plen = n < 0 ? 0 : strlen(prefix);
    memcpy(prefix + plen, ": ", 2);
    plen += 2;
    /* Shift the old message right, dropping its tail if it no longer fits. */
    size_t old = strnlen(e->msg, sizeof(e->msg) - 1);
    if (plen + old > sizeof(e->msg) - 1)
        old = sizeof(e->msg) - 1 - plen;
    memmove(e->msg + plen, e->msg, old);
    memcpy(e->msg, prefix, plen);
    e->msg[plen + old] = '\0';
    return e->code;
}
