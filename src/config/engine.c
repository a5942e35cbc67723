/* SPDX-License-Identifier: MIT */
/*
 * What the engine reads from the configuration: the engine section (which
 * labels identify an event, how long a service's events keep joining its
 * incident) and the silences section (maintenance windows, once or every
 * week). The engine itself lives in src/engine/; this file only turns the
 * YAML into checked values.
 */
#include <string.h>

#include "base/clock.h"
#include "base/labels.h"
#include "base/weekly.h"
#include "config/internal.h"

/* ---- the engine section ---- */

static bool parse_fingerprint_labels(const struct config__at *at, const struct config__key *key,
                                     yaml_node_t *node, void *obj)
{
    struct config_engine *en = obj;
    const struct config__key list = {.name = key->name, .type = CONFIG__STRV};
    struct config_strv v = {0};
    if (!config__parse_strv(at, &list, node, &v))
        return false;
    bool ok = true;
    for (size_t i = 0; i < v.n; i++) {
        if (labels_name_is_valid(v.v[i]))
            continue;
        yaml_node_t *item = config__node(at->f, node->data.sequence.items.start[i]);
        config__error(at->x, at->f, item,
                      "invalid label name \"%s\": use letters, digits and '_', not starting with "
                      "a digit",
                      v.v[i]);
        ok = false;
    }
    if (ok)
        en->fingerprint_labels = v;
    return ok;
}

#define EN(field) offsetof(struct config_engine, field)

static const struct config__key engine_keys[] = {
        {.name = "fingerprint_labels",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .custom = parse_fingerprint_labels},
        {.name = "group_window",
         .type = CONFIG__DURATION,
         .offset = EN(group_window_ms),
         .def = "5m",
         .max = 24ull * 3600 * 1000},
        {.name = NULL},
};

static const struct config__table engine_table = {"the engine section", engine_keys, NULL};

void config__parse_engine(struct config__ctx *x)
{
    config__parse_single(x, CONFIG__ENGINE, &engine_table, &x->c->engine);
}

/* ---- silences ---- */

#define S(field) offsetof(struct config_silence, field)

#define TIME_EXPECTED "an RFC 3339 time such as 2026-12-24T22:00:00Z"

static bool parse_time(const struct config__at *at, yaml_node_t *node, int64_t *ret)
{
    const char *s = config__is_scalar(node) && !config__is_null(node) ? config__scalar(node) : NULL;
    int64_t ms;
    if (!s || clock_parse_rfc3339_ms(s, &ms) < 0 || ms <= 0) {
        config__error(at->x, at->f, node, "expected " TIME_EXPECTED ", got %s",
                      config__describe(at->x, node));
        return false;
    }
    *ret = ms;
    return true;
}

static bool parse_starts(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    (void)key;
    return parse_time(at, node, &((struct config_silence *)obj)->starts_ms);
}

static bool parse_ends(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    (void)key;
    return parse_time(at, node, &((struct config_silence *)obj)->ends_ms);
}

static bool parse_weekly(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_silence *s = obj;
    if (!config__is_scalar(node) || config__is_null(node)) {
        config__error(at->x, at->f, node,
                      "expected a weekly window such as \"Mon-Fri 22:00-06:00\", got %s",
                      config__describe(at->x, node));
        return false;
    }
    struct err e = {0};
    size_t off = 0;
    if (weekly_window_parse(config__scalar(node), &s->window, &e, &off) < 0) {
        config__error_in(at->x, at->f, node, off, "invalid weekly window: %s", e.msg);
        return false;
    }
    s->weekly = true;
    return true;
}

/* Cross-key rules: an end or a week, an end after the start, a matcher that selects. */
static void silence_check(const struct config__at *at, yaml_node_t *map,
                          const struct config__seen *seen, void *obj)
{
    const struct config_silence *s = obj;
    yaml_node_t *starts = config__seen_get(seen, "starts");
    yaml_node_t *ends = config__seen_get(seen, "ends");
    if (!ends && !config__seen_get(seen, "weekly"))
        config__error(at->x, at->f, map,
                      "a silence needs \"ends\" (a time) or \"weekly\" (a window such as "
                      "\"Sat-Sun 00:00-24:00\") %s",
                      at->scope);
    if (s->starts_ms && s->ends_ms && s->ends_ms <= s->starts_ms)
        config__error(at->x, at->f, ends ? ends : starts, "ends must be later than starts %s",
                      at->scope);
    struct labels none = {0};
    if (s->match && labels_matchers_match(s->match, &none))
        config__error(at->x, at->f, config__seen_get(seen, "match"),
                      "the matcher %s also matches an event without labels, so the silence would "
                      "hold back every event; give at least one label a value to match, such as "
                      "service=\"web\"",
                      s->match_text);
}

static const struct config__key silence_keys[] = {
        {.name = "match",
         .type = CONFIG__MATCHER,
         .offset = S(match),
         .flags = CONFIG__REQUIRED | CONFIG__AUX,
         .aux_offset = S(match_text)},
        {.name = "comment", .type = CONFIG__STRING, .offset = S(comment)},
        {.name = "starts", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_starts},
        {.name = "ends", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_ends},
        {.name = "weekly", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_weekly},
        {.name = NULL},
};

static const struct config__table silence_table = {"a silence", silence_keys, silence_check};

static void silence_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_silence *s = obj;
    const struct config__table *tables[] = {&silence_table, NULL};
    struct config__seen seen;
    if (config__parse_map(at, node, tables, NULL, false, s, &seen))
        s->loc = config__loc(at->x, at->f, node);
}

void config__parse_silences(struct config__ctx *x)
{
    x->c->silences = config__parse_items(x, CONFIG__SILENCES, sizeof(struct config_silence),
                                         silence_item, &x->c->n_silences);
}
