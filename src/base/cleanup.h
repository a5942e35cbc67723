/* SPDX-License-Identifier: MIT */
/*
 * Scope-bound cleanup for locals (systemd style): a variable declared
 * `_cleanup_free_ char *s = NULL;` is freed when it leaves scope. Use
 * TAKE_PTR(p) to hand ownership on and keep the cleanup from firing.
 */
#ifndef HALE_BASE_CLEANUP_H
#define HALE_BASE_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)     __attribute__((cleanup(f)))
#define _cleanup_free_   _cleanup_(freep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_close_  _cleanup_(closep)

static inline void freep(void *p)
{
    free(*(void **)p);
}

static inline void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}

static inline void closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}

/* Returns p and sets the variable to NULL, so its cleanup does nothing. */
#define TAKE_PTR(p)                        \
    ({                                     \
        __typeof__(p) take_ptr_tmp_ = (p); \
        (p) = NULL;                        \
        take_ptr_tmp_;                     \
    })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
