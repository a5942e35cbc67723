/* SPDX-License-Identifier: MIT */
/*
 * A region allocator: many small allocations freed together. The loaded
 * configuration lives in one arena, so dropping an old configuration after
 * a reload is a single arena_fini(). Objects that hold outside resources
 * (compiled regexes) register a destructor that runs at arena_fini().
 */
#ifndef HALE_BASE_ARENA_H
#define HALE_BASE_ARENA_H

#include <stddef.h>

struct arena_chunk;
struct arena_dtor;

struct arena {
    struct arena_chunk *chunks;
    struct arena_dtor *dtors;
};

void arena_init(struct arena *a);
/* Runs the destructors (last registered first) and frees every chunk. */
void arena_fini(struct arena *a);

/* Zeroed memory aligned for any type; never NULL. */
void *arena_alloc(struct arena *a, size_t size);
void *arena_array(struct arena *a, size_t n, size_t size);
/* Copies of text, NUL-ended and not aligned; never NULL. */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Calls fn(p) at arena_fini(). */
void arena_defer(struct arena *a, void (*fn)(void *p), void *p);

#endif
