/* SPDX-License-Identifier: MIT */
/*
 * The template language (base/template.h): a parser that turns the text
 * into a flat list of nodes (literal text, values, sections that know
 * where they end), checking each name against the caller's vocabulary on
 * the way, and a renderer that walks the nodes with a stack of scopes.
 */
#include "base/template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

enum node_kind {
    NODE_TEXT,
    NODE_VALUE,
    NODE_SECTION,  /* {{#name}} */
    NODE_INVERTED, /* {{^name}} */
};

struct node {
    enum node_kind kind;
    const char *text; /* NODE_TEXT: into the template's copy; else the name (NUL-terminated) */
    size_t len;
    size_t end; /* sections: the index of the node after the section's last */
    bool list;  /* sections: over a list, whose items are the scope inside */
};

struct template
{
    char *text; /* a copy: literal nodes point into it */
    struct node *v;
    size_t n, cap;
};

/* A section being parsed. */
struct open {
    size_t node;
    const char *name;
    struct template_pos pos;
};

struct parser {
    const char *s;
    size_t len, i;
    template_known_fn *known;
    void *data;
    struct template *t;
    struct open open[TEMPLATE_MAX_DEPTH];
    size_t depth;
    const char *lists[TEMPLATE_MAX_DEPTH]; /* list sections enclosing i, outermost first */
    size_t n_lists;
    struct template_pos err_pos;
};

static struct template_pos pos_at(const char *s, size_t off)
{
    struct template_pos p = {1, 1};
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            p.line++;
            p.col = 1;
        } else if (((unsigned char)s[i] & 0xC0) != 0x80) {
            p.col++;
        }
    }
    return p;
}

static int fail(struct parser *p, size_t off, struct err *e, int r, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

static int fail(struct parser *p, size_t off, struct err *e, int r, const char *fmt, ...)
{
    p->err_pos = pos_at(p->s, off);
    va_list ap;
    va_start(ap, fmt);
    err_vsetf(e, r, fmt, ap);
    va_end(ap);
    return r;
}

static struct node *node_add(struct template *t, enum node_kind kind, const char *text, size_t len)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
    }
    struct node *n = &t->v[t->n++];
    *n = (struct node){.kind = kind, .text = text, .len = len};
    return n;
}

static void text_add(struct parser *p, size_t from, size_t to)
{
    if (to > from)
        node_add(p->t, NODE_TEXT, p->t->text + from, to - from);
}

static bool is_name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
}

static bool is_sigil(char c)
{
    return c == '#' || c == '^' || c == '/' || c == '!';
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* What name is where the parser stands: the innermost list that knows it, then outward. */
static enum template_name lookup(struct parser *p, const char *name)
{
    for (size_t k = p->n_lists; k > 0; k--) {
        enum template_name r = p->known(p->lists[k - 1], name, p->data);
        if (r != TEMPLATE_UNKNOWN)
            return r;
    }
    return p->known(NULL, name, p->data);
}

/*
 * Whether the tag spanning [start, end) stands alone on its line: only
 * blanks before it since the line began and after it until the line ends.
 * Sets *ret_line_start and *ret_next (past the line's end) when it does.
 */
static bool standalone(const struct parser *p, size_t start, size_t end, size_t *ret_line_start,
                       size_t *ret_next)
{
    size_t a = start;
    while (a > 0 && is_blank(p->s[a - 1]))
        a--;
    if (a > 0 && p->s[a - 1] != '\n')
        return false;
    size_t b = end;
    while (b < p->len && is_blank(p->s[b]))
        b++;
    if (b < p->len && p->s[b] == '\r' && b + 1 < p->len && p->s[b + 1] == '\n')
        b++;
    if (b < p->len && p->s[b] != '\n')
        return false;
    *ret_line_start = a;
    *ret_next = b < p->len ? b + 1 : b;
    return true;
}

static int open_section(struct parser *p, char sigil, const char *name, size_t at, struct err *e)
{
    enum template_name what = lookup(p, name);
    if (what == TEMPLATE_UNKNOWN)
        return fail(p, at, e, -EINVAL, "unknown placeholder {{%c%s}}", sigil, name);
    if (p->depth == TEMPLATE_MAX_DEPTH)
        return fail(p, at, e, HALE_ELIMIT, "sections nest deeper than %d", TEMPLATE_MAX_DEPTH);
    struct node *n = node_add(p->t, sigil == '#' ? NODE_SECTION : NODE_INVERTED, xstrdup(name), 0);
    n->list = what == TEMPLATE_LIST;
    p->open[p->depth++] = (struct open){p->t->n - 1, n->text, pos_at(p->s, at)};
    if (n->list && sigil == '#')
        p->lists[p->n_lists++] = n->text;
    return 0;
}

static int close_section(struct parser *p, const char *name, size_t at, struct err *e)
{
    if (p->depth == 0)
        return fail(p, at, e, -EINVAL, "{{/%s}} closes no section", name);
    struct open *o = &p->open[p->depth - 1];
    if (strcmp(o->name, name) != 0)
        return fail(p, at, e, -EINVAL, "{{/%s}} closes {{%c%s}} opened at %u:%u", name,
                    p->t->v[o->node].kind == NODE_SECTION ? '#' : '^', o->name, o->pos.line,
                    o->pos.col);
    struct node *n = &p->t->v[o->node];
    if (n->list && n->kind == NODE_SECTION)
        p->n_lists--;
    n->end = p->t->n;
    p->depth--;
    return 0;
}

/* Parses the tag at p->i ("{{"), appending its node; the literal before it is already added. */
static int tag(struct parser *p, char *name_buf, size_t name_size, size_t *ret_lit_end,
               struct err *e)
{
    size_t start = p->i, i = start + 2;
    char sigil = i < p->len && is_sigil(p->s[i]) ? p->s[i++] : 0;
    const char *close = NULL;
    for (size_t k = i; k + 1 < p->len; k++) {
        if (p->s[k] == '}' && p->s[k + 1] == '}') {
            close = p->s + k;
            break;
        }
        if (p->s[k] == '\n' && sigil != '!')
            break;
    }
    if (!close)
        return fail(p, start, e, -EINVAL, "{{ is not closed by }} on its line");
    size_t end = (size_t)(close - p->s) + 2;
    size_t line_start, next;
    bool alone = sigil && standalone(p, start, end, &line_start, &next);
    *ret_lit_end = alone ? line_start : start;
    p->i = alone ? next : end;
    if (sigil == '!')
        return 0;
    while (i < p->len && is_blank(p->s[i]))
        i++;
    size_t a = i;
    while (i < p->len && is_name_char(p->s[i]))
        i++;
    size_t b = i;
    while (i < p->len && is_blank(p->s[i]))
        i++;
    if (a == b || p->s + i != close)
        return fail(p, start, e, -EINVAL,
                    "expected a placeholder name such as {{title}} between {{ and }}");
    if (b - a >= name_size)
        return fail(p, start, e, -EINVAL, "a placeholder name is at most %zu characters",
                    name_size - 1);
    memcpy(name_buf, p->s + a, b - a);
    name_buf[b - a] = '\0';
    return 0;
}

static int parse(struct parser *p, struct err *e)
{
    char name[128];
    size_t lit = 0;
    while (p->i < p->len) {
        const char *open = memmem(p->s + p->i, p->len - p->i, "{{", 2);
        if (!open)
            break;
        p->i = (size_t)(open - p->s);
        size_t at = p->i, lit_end = at;
        char sigil = at + 2 < p->len && is_sigil(p->s[at + 2]) ? p->s[at + 2] : 0;
        int r = tag(p, name, sizeof(name), &lit_end, e);
        if (r < 0)
            return r;
        text_add(p, lit, lit_end);
        lit = p->i;
        if (sigil == '!')
            continue;
        if (sigil == '#' || sigil == '^') {
            r = open_section(p, sigil, name, at, e);
        } else if (sigil == '/') {
            r = close_section(p, name, at, e);
        } else {
            enum template_name what = lookup(p, name);
            if (what == TEMPLATE_UNKNOWN)
                return fail(p, at, e, -EINVAL, "unknown placeholder {{%s}}", name);
            if (what == TEMPLATE_LIST)
                return fail(p, at, e, -EINVAL,
                            "{{%s}} is a list: write {{#%s}}...{{/%s}} to show each of its items",
                            name, name, name);
            node_add(p->t, NODE_VALUE, xstrdup(name), 0);
        }
        if (r < 0)
            return r;
    }
    text_add(p, lit, p->len);
    if (p->depth > 0) {
        struct open *o = &p->open[p->depth - 1];
        p->err_pos = o->pos;
        if (e)
            err_setf(e, -EINVAL, "{{%c%s}} is never closed: end it with {{/%s}}",
                     p->t->v[o->node].kind == NODE_SECTION ? '#' : '^', o->name, o->name);
        return -EINVAL;
    }
    return 0;
}

int template_parse(const char *text, size_t len, template_known_fn *known, void *data,
                   struct template **ret, struct template_pos *ret_pos, struct err *e)
{
    if (len > TEMPLATE_MAX_BYTES) {
        if (ret_pos)
            *ret_pos = (struct template_pos){0, 0};
        return err_setf(e, HALE_ELIMIT, "a template is at most %u bytes, this one has %zu",
                        TEMPLATE_MAX_BYTES, len);
    }
    struct template *t = xcalloc(1, sizeof(*t));
    t->text = xmalloc(len + 1);
    memcpy(t->text, text, len);
    t->text[len] = '\0';
    struct parser p = {.s = t->text, .len = len, .known = known, .data = data, .t = t};
    int r = parse(&p, e);
    if (r < 0) {
        if (ret_pos)
            *ret_pos = p.err_pos;
        template_free(t);
        return r;
    }
    *ret = t;
    return 0;
}

void template_free(struct template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].kind != NODE_TEXT)
            free((char *)(uintptr_t)t->v[i].text);
    free(t->v);
    free(t->text);
    free(t);
}

/* ---- rendering ---- */

struct render {
    const struct template *t;
    template_value_fn *value;
    template_escape_fn *escape;
    void *data;
    struct template_scope scopes[TEMPLATE_MAX_DEPTH + 1];
    size_t depth; /* scopes in use, the top level included */
    struct strbuf scratch;
};

/* Looks name up from the innermost scope outward; the value lands in r->scratch. */
static enum template_name resolve(struct render *r, const char *name, size_t *ret_count)
{
    for (size_t k = r->depth; k > 0; k--) {
        strbuf_reset(&r->scratch);
        enum template_name what =
                r->value(&r->scopes[k - 1], name, &r->scratch, ret_count, r->data);
        if (what != TEMPLATE_UNKNOWN)
            return what;
    }
    return TEMPLATE_UNKNOWN;
}

static int render_range(struct render *r, size_t from, size_t to, struct strbuf *out)
{
    for (size_t i = from; i < to;) {
        const struct node *n = &r->t->v[i];
        size_t count = 0;
        int rc = 0;
        switch (n->kind) {
        case NODE_TEXT:
            rc = strbuf_add(out, n->text, n->len);
            i++;
            break;
        case NODE_VALUE:
            if (resolve(r, n->text, &count) == TEMPLATE_SCALAR)
                rc = r->escape ? r->escape(out, r->scratch.s, r->scratch.len)
                               : strbuf_add(out, r->scratch.s, r->scratch.len);
            i++;
            break;
        case NODE_SECTION:
        case NODE_INVERTED: {
            enum template_name what = resolve(r, n->text, &count);
            bool empty = what == TEMPLATE_UNKNOWN || (what == TEMPLATE_SCALAR && !r->scratch.len) ||
                         (what == TEMPLATE_LIST && count == 0);
            if (n->kind == NODE_INVERTED) {
                if (empty)
                    rc = render_range(r, i + 1, n->end, out);
            } else if (what == TEMPLATE_LIST && r->depth <= TEMPLATE_MAX_DEPTH) {
                for (size_t k = 0; k < count && rc == 0; k++) {
                    r->scopes[r->depth++] = (struct template_scope){n->text, k};
                    rc = render_range(r, i + 1, n->end, out);
                    r->depth--;
                }
            } else if (!empty) {
                rc = render_range(r, i + 1, n->end, out);
            }
            i = n->end;
            break;
        }
        }
        if (rc < 0)
            return rc;
    }
    return 0;
}

int template_render(const struct template *t, template_value_fn *value, template_escape_fn *escape,
                    void *data, struct strbuf *out)
{
    struct render r = {.t = t, .value = value, .escape = escape, .data = data, .depth = 1};
    r.scopes[0] = (struct template_scope){NULL, 0};
    strbuf_init(&r.scratch, TEMPLATE_MAX_BYTES);
    int rc = render_range(&r, 0, t->n, out);
    strbuf_fini(&r.scratch);
    return rc;
}
