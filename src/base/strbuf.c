/* SPDX-License-Identifier: MIT */
/* The bounded growable buffer of strbuf.h. */
#include "base/strbuf.h"

#include <stdint.h>
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

int strbuf_add_html(struct strbuf *b, const char *s, size_t len)
{
    int r = 0;
    for (size_t i = 0; i < len && r == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&':
            r = strbuf_adds(b, "&amp;");
            break;
        case '<':
            r = strbuf_adds(b, "&lt;");
            break;
        case '>':
            r = strbuf_adds(b, "&gt;");
            break;
        case '"':
            r = strbuf_adds(b, "&quot;");
            break;
        case '\'':
            r = strbuf_adds(b, "&#39;");
            break;
        default:
            r = strbuf_addc(b, c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? ' ' : (char)c);
        }
    }
    return r;
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

size_t strbuf_utf8_seq_len(const void *at, size_t n)
{
    const unsigned char *p = at;
    unsigned char c = p[0];
    size_t len;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3, cp = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    /* Overlong forms, UTF-16 surrogates and code points past Unicode are not UTF-8. */
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int strbuf_add_utf8(struct strbuf *b, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t len = strbuf_utf8_seq_len(s + i, n - i);
        int r = len ? strbuf_add(b, s + i, len) : strbuf_adds(b, "\xef\xbf\xbd");
        if (r < 0)
            return r;
        i += len ? len : 1;
    }
    return 0;
}

/* The escape in a JSON string of c, a byte below 0x20, '"' or '\\'; in buf if need be. */
static const char *json_escape(unsigned char c, char buf[7])
{
    static const char hex[] = "0123456789ABCDEF";
    switch (c) {
    case '"':
        return "\\\"";
    case '\\':
        return "\\\\";
    case '\b':
        return "\\b";
    case '\f':
        return "\\f";
    case '\n':
        return "\\n";
    case '\r':
        return "\\r";
    case '\t':
        return "\\t";
    default:
        memcpy(buf, "\\u00", 4);
        buf[4] = hex[c >> 4];
        buf[5] = hex[c & 0xf];
        buf[6] = '\0';
        return buf;
    }
}

int strbuf_add_json_string(struct strbuf *b, const char *s)
{
    size_t start = b->len, n = strlen(s), run = 0; /* s[run..i) goes out as it is */
    const unsigned char *u = (const unsigned char *)s;
    int r = strbuf_addc(b, '"');
    for (size_t i = 0; r == 0 && i < n;) {
        if (u[i] >= 0x80) {
            size_t len = strbuf_utf8_seq_len(u + i, n - i);
            if (!len)
                r = HALE_EPARSE;
            i += len;
        } else if (u[i] >= 0x20 && u[i] != '"' && u[i] != '\\') {
            i++;
        } else {
            char buf[7];
            r = strbuf_add(b, s + run, i - run);
            if (r == 0)
                r = strbuf_adds(b, json_escape(u[i], buf));
            run = ++i;
        }
    }
    if (r == 0)
        r = strbuf_add(b, s + run, n - run);
    if (r == 0)
        r = strbuf_addc(b, '"');
    if (r < 0) {
        b->len = start;
        b->s[start] = '\0';
    }
    return r;
}
