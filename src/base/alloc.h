/* SPDX-License-Identifier: MIT */
/*
 * Allocation that never returns NULL. hale cannot do anything useful once
 * memory is exhausted, so the x* wrappers abort with a message instead of
 * making every caller test for NULL (Redis and h2o do the same).
 */
#ifndef HALE_BASE_ALLOC_H
#define HALE_BASE_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
/* Grows or shrinks; aborts on overflow of n * size. */
void *xreallocarray(void *p, size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
/* Copies at most n bytes of s and always terminates the copy. */
char *xstrndup(const char *s, size_t n);
/* Formats into a new string; free with free(). */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
