/* SPDX-License-Identifier: MIT */
/* Chunked bump allocation for struct arena. */
#include "base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define ARENA_CHUNK 16384

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    alignas(max_align_t) unsigned char data[];
};

struct arena_dtor {
    struct arena_dtor *next;
    void (*fn)(void *p);
    void *p;
};

void arena_init(struct arena *a)
{
    a->chunks = NULL;
    a->dtors = NULL;
}

void arena_fini(struct arena *a)
{
    if (!a)
        return;
    for (struct arena_dtor *d = a->dtors; d; d = d->next)
        d->fn(d->p);
    a->dtors = NULL;
    while (a->chunks) {
        struct arena_chunk *next = a->chunks->next;
        free(a->chunks);
        a->chunks = next;
    }
}

/* size bytes at align (a power of two) in the newest chunk, or in a new one. */
static void *bump(struct arena *a, size_t size, size_t align)
{
    struct arena_chunk *c = a->chunks;
    size_t at = c ? (c->used + align - 1) & ~(align - 1) : 0;
    if (!c || at > c->size || c->size - at < size) {
        size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
        c = xmalloc(sizeof(*c) + cap);
        c->size = cap;
        c->next = a->chunks;
        a->chunks = c;
        at = 0;
    }
    c->used = at + size;
    return c->data + at;
}

void *arena_alloc(struct arena *a, size_t size)
{
    void *p = bump(a, size, alignof(max_align_t));
    memset(p, 0, size);
    return p;
}

void *arena_array(struct arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        abort();
    return arena_alloc(a, n * size);
}

/* Text needs no alignment: packed, a check's name and address take what they hold. */
static char *text_copy(struct arena *a, const char *s, size_t len)
{
    char *p = bump(a, len + 1, 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    return text_copy(a, s, strnlen(s, n));
}

char *arena_strdup(struct arena *a, const char *s)
{
    return text_copy(a, s, strlen(s));
}

void arena_defer(struct arena *a, void (*fn)(void *p), void *p)
{
    struct arena_dtor *d = arena_alloc(a, sizeof(*d));
    d->fn = fn;
    d->p = p;
    d->next = a->dtors;
    a->dtors = d;
}
