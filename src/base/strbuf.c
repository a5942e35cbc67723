/* SPDX-License-Identifier: MIT */
/* The bounded growable buffer of strbuf.h. */
#include "base/strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"

void strbuf_init(struct strbuf *b, size_t max)
{
    b->cap = 64;
    b->s = xmalloc(b->cap);
    b->s[0] = '\0';
    b->len = 0;
    b->max = max;
}

void strbuf_fini(struct strbuf *b)
{
    if (!b)
        return;
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

void strbuf_reset(struct strbuf *b)
{
    b->len = 0;
    b->s[0] = '\0';
}

static int strbuf_reserve(struct strbuf *b, size_t extra)
{
    if (b->max && (extra > b->max || b->len > b->max - extra))
        return HALE_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap;
    while (cap < need)
        cap = cap < 4096 ? cap * 2 : cap + cap / 2;
    b->s = xrealloc(b->s, cap);
    b->cap = cap;
    return 0;
}

int strbuf_add(struct strbuf *b, const void *data, size_t len)
{
    int r = strbuf_reserve(b, len);
    if (r < 0)
        return r;
    memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = '\0';
    return 0;
}

int strbuf_adds(struct strbuf *b, const char *s)
{
    return strbuf_add(b, s, strlen(s));
}

int strbuf_addc(struct strbuf *b, char c)
{
    return strbuf_add(b, &c, 1);
}

int strbuf_vaddf(struct strbuf *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, copy);
    va_end(copy);
    if (n < 0)
        return HALE_EINTERNAL;
    if ((size_t)n >= b->cap - b->len) {
        int r = strbuf_reserve(b, (size_t)n);
        if (r < 0) {
            b->s[b->len] = '\0';
            return r;
        }
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
    } else if (b->max && b->len + (size_t)n > b->max) {
        b->s[b->len] = '\0';
        return HALE_ELIMIT;
    }
    b->len += (size_t)n;
    return 0;
}

int strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = strbuf_vaddf(b, fmt, ap);
    va_end(ap);
    return r;
}

char *strbuf_detach(struct strbuf *b, size_t *ret_len)
{
    char *s = b->s;
    if (ret_len)
        *ret_len = b->len;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}
