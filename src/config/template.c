/* SPDX-License-Identifier: MIT */
/*
 * Notifiers' templates: the `template: FILE` key, which reads the file
 * (relative to the configuration file) and parses it against the
 * placeholders messages have, so a typo in a template is reported as
 * FILE:LINE:COL when the configuration loads, like any other mistake.
 */
#include <errno.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/labels.h"
#include "base/strbuf.h"
#include "config/internal.h"

static bool in(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return true;
    return false;
}

enum template_name config_template_known(const char *list, const char *name, void *data)
{
    (void)data;
    static const char *const top[] = {
            "id",       "title",        "priority",  "severity", "state", "type",
            "category", "service",      "team",      "assignee", "check", "runbook",
            "opened",   "fingerprint",  "reason",    "text",     "count", "run_outcome",
            "now",      "incident_url", "graph_url", NULL,
    };
    static const char *const top_lists[] = {"steps", "docs", "advice", "grouped", "labels", NULL};
    static const char *const steps[] = {"run", "runbook", "step", "outcome", "detail", NULL};
    static const char *const docs[] = {"url", NULL};
    static const char *const advice[] = {"text", NULL};
    static const char *const grouped[] = {"id",    "title",   "priority", "severity",     "state",
                                          "check", "service", "team",     "incident_url", NULL};
    static const char *const labels[] = {"name", "value", NULL};
    if (!list) {
        if (in(name, top))
            return TEMPLATE_SCALAR;
        if (in(name, top_lists))
            return TEMPLATE_LIST;
        if (strncmp(name, "labels.", 7) == 0 && labels_name_is_valid(name + 7))
            return TEMPLATE_SCALAR;
        return TEMPLATE_UNKNOWN;
    }
    const char *const *items = strcmp(list, "steps") == 0     ? steps
                               : strcmp(list, "docs") == 0    ? docs
                               : strcmp(list, "advice") == 0  ? advice
                               : strcmp(list, "grouped") == 0 ? grouped
                               : strcmp(list, "labels") == 0  ? labels
                                                              : NULL;
    return items && in(name, items) ? TEMPLATE_SCALAR : TEMPLATE_UNKNOWN;
}

/* How many bytes of s are valid UTF-8 without NUL bytes, from the start. */
static size_t utf8_valid_prefix(const char *s, size_t len)
{
    size_t i = 0, n;
    while (i < len && s[i] != '\0' && (n = strbuf_utf8_seq_len(s + i, len - i)) > 0)
        i += n;
    return i;
}

/* The template's path for messages: as the configuration file's path was named. */
static char *message_path(const struct config__file *f, const char *rel)
{
    const char *slash = strrchr(f->path, '/');
    if (rel[0] == '/' || !slash)
        return xstrdup(rel);
    _cleanup_free_ char *dir = xstrndup(f->path, (size_t)(slash - f->path) + 1);
    return config__path_join(dir, rel);
}

static void template_free_cb(void *p)
{
    template_free(p);
}

bool config__parse_template(const struct config__at *at, const struct config__key *key,
                            yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_notifier *n = obj;
    const char *rel;
    if (!config__string(at, node, "the path of a template file", &rel))
        return false;
    _cleanup_free_ char *path = config__path_join(at->f->dir, rel);
    _cleanup_free_ char *text = NULL;
    size_t len = 0;
    int r = config__read_file(path, TEMPLATE_MAX_BYTES, &text, &len);
    if (r < 0) {
        config__error(at->x, at->f, node, "cannot read template %s: %s", path,
                      r == -EFBIG    ? "larger than 64 KiB"
                      : r == -EINVAL ? "not a regular file"
                                     : strerror(-r));
        return false;
    }
    /* the template's own problems are reported in the template's file */
    _cleanup_free_ char *shown = message_path(at->f, rel);
    struct config__file tf = {.path = shown, .index = at->f->index};
    size_t bad = utf8_valid_prefix(text, len);
    if (bad < len) {
        unsigned line = 1, col = 1;
        for (size_t i = 0; i < bad; i++) {
            if (text[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
                col++;
            }
        }
        config__error_at(at->x, &tf, line, col,
                         "a template must be UTF-8 text without NUL bytes (%s)", at->scope);
        return false;
    }
    struct template *t;
    struct template_pos pos;
    struct err e = {0};
    r = template_parse(text, len, config_template_known, NULL, &t, &pos, &e);
    if (r < 0) {
        config__error_at(at->x, &tf, pos.line, pos.col, "%s (%s)", e.msg, at->scope);
        return false;
    }
    arena_defer(&at->x->c->arena, template_free_cb, t);
    n->template = t;
    n->template_path = arena_strdup(&at->x->c->arena, path);
    return true;
}
