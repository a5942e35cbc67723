/* SPDX-License-Identifier: MIT */
/*
 * Error codes and error detail. Functions return 0 on success, -errno for a
 * system cause, or one of the HALE_E* codes below (a reserved negative range
 * that never collides with errno). Human detail travels in an optional
 * struct err filled by err_setf(); callers add context with err_prefixf()
 * rather than logging again.
 */
#ifndef HALE_BASE_ERR_H
#define HALE_BASE_ERR_H

#include <stdarg.h>
#include <stdbool.h>

enum {
    HALE_EBASE = -10000,
    HALE_ECONFIG = HALE_EBASE, /* the configuration is invalid */
    HALE_ELIMIT = -10001,      /* a bound (size, count, time) was exceeded */
    HALE_EPARSE = -10002,      /* input is not in the expected format */
    HALE_ENOTFOUND = -10003,   /* a named thing does not exist */
    HALE_EEXIST = -10004,      /* a named thing exists already */
    HALE_EAUTH = -10005,       /* missing or invalid credentials */
    HALE_EDENIED = -10006,     /* the credentials lack the permission */
    HALE_EINTERNAL = -10007,   /* a bug or an unexpected library failure */
    HALE_ESTATE = -10008,      /* not possible in the current state */
    HALE_ESTORE = -10009,      /* the store (database) failed or refused */
};

#define ERR_MSG_MAX 1024

struct err {
    int code;
    char msg[ERR_MSG_MAX];
};

/* A message for any result code: strerror() for -errno, ours for HALE_E*. */
const char *hale_strerror(int r);

/*
 * Records r and a formatted message in e (e may be NULL) and returns r, so
 * `return err_setf(e, -ENOENT, "open %s", path);` is the usual form.
 */
int err_setf(struct err *e, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same with a va_list, for a helper that records more than the message. */
int err_vsetf(struct err *e, int r, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Prepends "context: " to the message already in e; returns e->code. */
int err_prefixf(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline bool err_is_set(const struct err *e)
{
    return e && e->code != 0;
}

#endif
