/* SPDX-License-Identifier: MIT */
/*
 * The teams section: who a team's notifiers are, when the team is told
 * (notify_on), the escalation levels used when nobody acknowledges, the
 * weekly on-call rotation, the end users' channel and the rate limit that
 * groups a burst. The dispatcher (src/notify/) gives these their meaning.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "config/internal.h"

#define T(field)  offsetof(struct config_team, field)
#define L(field)  offsetof(struct config_escalation_level, field)
#define OC(field) offsetof(struct config_oncall, field)
#define U(field)  offsetof(struct config_team_users, field)

static const struct config__enum notify_on_words[] = {
        {"opened", CONFIG_NOTIFY_ON_OPENED},
        {"escalated", CONFIG_NOTIFY_ON_ESCALATED},
        {"resolved", CONFIG_NOTIFY_ON_RESOLVED},
        {NULL, 0},
};

/* A list of "opened", "escalated", "resolved" (or one of them) into bits at key->offset. */
static bool parse_on(const struct config__at *at, const struct config__key *key, yaml_node_t *node,
                     void *obj)
{
    unsigned *bits = (unsigned *)((char *)obj + key->offset);
    size_t n = node->type == YAML_SEQUENCE_NODE
                       ? (size_t)(node->data.sequence.items.top - node->data.sequence.items.start)
                       : 1;
    unsigned v = 0;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = node->type == YAML_SEQUENCE_NODE
                                    ? config__node(at->f, node->data.sequence.items.start[i])
                                    : node;
        int w = config__enum_find(notify_on_words, item);
        if (w < 0) {
            config__error(at->x, at->f, item, "expected opened, escalated or resolved %s, got %s",
                          at->scope, config__describe(at->x, item));
            ok = false;
            continue;
        }
        v |= (unsigned)w;
    }
    if (ok)
        *bits = v;
    return ok;
}

/* ---- escalation levels ---- */

static const struct config__key level_keys[] = {
        {.name = "after",
         .type = CONFIG__DURATION,
         .offset = L(after_ms),
         .flags = CONFIG__REQUIRED,
         .min = 1000,
         .max = 7 * 86400 * 1000ull},
        {.name = "notify",
         .type = CONFIG__REFV,
         .offset = L(notify),
         .flags = CONFIG__REQUIRED | CONFIG__ONE_OK | CONFIG__NONEMPTY,
         .aux_offset = L(notifiers),
         .section = CONFIG__NOTIFIERS},
        {.name = NULL},
};

static const struct config__table level_table = {"an escalation level", level_keys, NULL};

static bool parse_levels(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_team *t = obj;
    if (node->type != YAML_SEQUENCE_NODE) {
        config__error(at->x, at->f, node,
                      "expected a list of levels such as [{after: 15m, notify: [pager]}] %s, "
                      "got %s",
                      at->scope, config__describe(at->x, node));
        return false;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    if (!config__charge(at->x, at->f, node, n))
        return false;
    struct config_escalation_level *v = arena_array(&at->x->c->arena, n ? n : 1, sizeof(*v));
    struct config__at sub = *at;
    sub.scope = config__scratchf(at->x, "in escalation of %s",
                                 strncmp(at->scope, "in ", 3) == 0 ? at->scope + 3 : at->scope);
    const struct config__table *tables[] = {&level_table, NULL};
    uint64_t last = 0;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *item = config__node(at->f, node->data.sequence.items.start[i]);
        struct config__seen seen;
        if (!config__parse_map(&sub, item, tables, NULL, false, &v[i], &seen))
            continue;
        v[i].loc = config__loc(at->x, at->f, item);
        /* Levels follow one another: each later than the one before. */
        if (v[i].after_ms <= last && config__seen_get(&seen, "after"))
            config__error(at->x, at->f, config__seen_get(&seen, "after"),
                          "each escalation level's \"after\" must be later than the one before "
                          "it %s",
                          sub.scope);
        last = v[i].after_ms;
    }
    t->levels = v;
    t->n_levels = n;
    return true;
}

/* ---- on call ---- */

static const char *const wdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

/* "Mon 09:00": a day of the week and a time of day. */
static bool parse_handover(const struct config__at *at, const struct config__key *key,
                           yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_oncall *o = obj;
    const char *s = config__is_scalar(node) ? config__scalar(node) : NULL;
    char day[4] = {0};
    unsigned h = 0, m = 0;
    int used = 0;
    int wday = -1;
    if (s && sscanf(s, "%3s %2u:%2u%n", day, &h, &m, &used) == 3 && s[used] == '\0' && h < 24 &&
        m < 60) {
        for (int i = 0; i < 7; i++)
            if (strcasecmp(day, wdays[i]) == 0)
                wday = i;
    }
    if (wday < 0) {
        config__error(at->x, at->f, node,
                      "expected a day and a time such as \"Mon 09:00\" %s, got %s", at->scope,
                      config__describe(at->x, node));
        return false;
    }
    o->handover_wday = (unsigned)wday;
    o->handover_min = h * 60 + m;
    return true;
}

static const struct config__key oncall_keys[] = {
        {.name = "people",
         .type = CONFIG__STRV,
         .offset = OC(people),
         .flags = CONFIG__REQUIRED | CONFIG__ONE_OK | CONFIG__NONEMPTY},
        {.name = "handover", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_handover},
        {.name = NULL},
};

static const struct config__table oncall_table = {"oncall", oncall_keys, NULL};

const char *config_oncall_person(const struct config_oncall *o, int64_t now_ms)
{
    if (!o->people.n)
        return NULL;
    time_t now = (time_t)(now_ms / 1000);
    struct tm tm;
    localtime_r(&now, &tm);
    /* Back to the last hand-over at or before now, in local time. */
    int mins_now = tm.tm_wday * 1440 + tm.tm_hour * 60 + tm.tm_min;
    int mins_ho = (int)(o->handover_wday * 1440 + o->handover_min);
    int back = (mins_now - mins_ho + 7 * 1440) % (7 * 1440);
    struct tm ho = tm;
    ho.tm_min -= back;
    ho.tm_sec = 0;
    ho.tm_isdst = -1;
    time_t t = mktime(&ho);
    /* Weeks since 1970 by local calendar days, so summer time moves nothing. */
    struct tm day;
    localtime_r(&t, &day);
    int64_t days = (int64_t)(timegm(&(struct tm){.tm_year = day.tm_year,
                                                 .tm_mon = day.tm_mon,
                                                 .tm_mday = day.tm_mday}) /
                             86400);
    int64_t week = days >= 0 ? days / 7 : (days - 6) / 7;
    return o->people.v[(size_t)(week % (int64_t)o->people.n)];
}

/* ---- users ---- */

static const struct config__key users_keys[] = {
        {.name = "notify",
         .type = CONFIG__REFV,
         .offset = U(notify),
         .flags = CONFIG__REQUIRED | CONFIG__ONE_OK | CONFIG__NONEMPTY,
         .aux_offset = U(notifiers),
         .section = CONFIG__NOTIFIERS},
        {.name = "on", .type = CONFIG__CUSTOM, .offset = U(on), .custom = parse_on},
        {.name = NULL},
};

static const struct config__table users_table = {"users", users_keys, NULL};

/* ---- the team ---- */

static const struct config__key team_keys[] = {
        {.name = "name", .type = CONFIG__NAME, .offset = T(name), .flags = CONFIG__REQUIRED},
        {.name = "description", .type = CONFIG__STRING, .offset = T(description)},
        {.name = "notify",
         .type = CONFIG__REFV,
         .offset = T(notify),
         .flags = CONFIG__ONE_OK,
         .aux_offset = T(notifiers),
         .section = CONFIG__NOTIFIERS},
        {.name = "notify_on", .type = CONFIG__CUSTOM, .offset = T(notify_on), .custom = parse_on},
        {.name = "escalation", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_levels},
        {.name = "oncall",
         .type = CONFIG__SUB,
         .offset = T(oncall),
         .flags = CONFIG__KEEP,
         .sub = &oncall_table},
        {.name = "users",
         .type = CONFIG__SUB,
         .offset = T(users),
         .flags = CONFIG__KEEP,
         .sub = &users_table},
        {.name = "rate_limit",
         .type = CONFIG__DURATION,
         .offset = T(rate_limit_ms),
         .def = "1m",
         .max = 3600 * 1000},
        {.name = NULL},
};

static const struct config__table team_table = {"a team", team_keys, NULL};

static void team_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_team *t = obj;
    t->notify_on = CONFIG_NOTIFY_ON_ESCALATED;
    t->oncall.handover_wday = 1;
    t->oncall.handover_min = 9 * 60;
    const struct config__table *tables[] = {&team_table, NULL};
    struct config__seen seen;
    if (!config__parse_map(at, node, tables, NULL, false, t, &seen))
        return;
    t->loc = config__loc(at->x, at->f, node);
    config__register_named(at, CONFIG__TEAMS, t->name, t, node, &seen);
}

void config__parse_teams(struct config__ctx *x)
{
    x->c->teams = config__parse_items(x, CONFIG__TEAMS, sizeof(struct config_team), team_item,
                                      &x->c->n_teams);
}
