/* SPDX-License-Identifier: MIT */
/*
 * Templates: text with {{placeholders}}, the language of notification
 * templates (docs/notifications.md). A small subset of Mustache:
 * {{name}} a value; {{#name}}...{{/name}} a section, repeated for each item
 * of a list or shown once when a value is not empty; {{^name}}...{{/name}}
 * shown when it is empty; {{! a comment }}. A section tag or a comment
 * alone on its line takes the line with it, so templates read as the text
 * they make. Which names exist is the caller's vocabulary, checked when
 * the template is parsed: an unknown placeholder is found when the
 * configuration loads, not when a page goes out. Pure; any thread.
 */
#ifndef HALE_BASE_TEMPLATE_H
#define HALE_BASE_TEMPLATE_H

#include <stddef.h>

#include "base/err.h"
#include "base/strbuf.h"

/* A template's text is at most this long. */
#define TEMPLATE_MAX_BYTES (64u * 1024)
/* Sections nest at most this deep. */
#define TEMPLATE_MAX_DEPTH 8

enum template_name {
    TEMPLATE_UNKNOWN,
    TEMPLATE_SCALAR, /* a value: {{name}}, or a section shown when it is not empty */
    TEMPLATE_LIST,   /* items: a section repeated for each, whose names are the item's */
};

/*
 * The vocabulary: what name is inside the items of list (NULL: at the top
 * level). Names are looked up in the innermost list first, then outward.
 */
typedef enum template_name template_known_fn(const char *list, const char *name, void *data);

struct template;

/* Where a parse error is, 1-based; columns count characters, not bytes. */
struct template_pos {
    unsigned line;
    unsigned col;
};

/*
 * Parses len bytes of text, checking every name against known. Returns 0
 * and *ret (free with template_free()); or -EINVAL with e saying what is
 * wrong ("unknown placeholder {{nme}}", "{{#steps}} is never closed") and
 * *ret_pos where (ret_pos may be NULL); HALE_ELIMIT past
 * TEMPLATE_MAX_BYTES or TEMPLATE_MAX_DEPTH. e's message carries no
 * position: callers add the file and *ret_pos.
 */
int template_parse(const char *text, size_t len, template_known_fn *known, void *data,
                   struct template **ret, struct template_pos *ret_pos, struct err *e);
/* Accepts NULL. */
void template_free(struct template *t);

/* Where a name is looked up while rendering: the top level (list NULL) or an item of a list. */
struct template_scope {
    const char *list;
    size_t index;
};

/*
 * The data: appends name's value in scope to value and returns
 * TEMPLATE_SCALAR; or sets *ret_count to the items of list name and
 * returns TEMPLATE_LIST; or returns TEMPLATE_UNKNOWN when scope has no
 * such name (the next scope outward is asked).
 */
typedef enum template_name template_value_fn(const struct template_scope *scope, const char *name,
                                             struct strbuf *value, size_t *ret_count, void *data);

/*
 * Appends len bytes of a value to out as the output's format needs (HTML
 * escapes, Slack's); NULL in template_render(): as they are. Returns 0 or
 * HALE_ELIMIT.
 */
typedef int template_escape_fn(struct strbuf *out, const char *s, size_t len);

/*
 * Appends t rendered with value's data to out; values go through escape,
 * the template's own text does not. Returns 0, or HALE_ELIMIT when out's
 * cap was reached (out then holds a partial text).
 */
int template_render(const struct template *t, template_value_fn *value, template_escape_fn *escape,
                    void *data, struct strbuf *out);

#endif
