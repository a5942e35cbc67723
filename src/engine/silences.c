/* SPDX-License-Identifier: MIT */
/*
 * The daemon's silences (silences.h): the configuration's, numbered -1,
 * -2, ..., and the stored ones that are not over, loaded at start and
 * kept as people add and expire them and as incidents resolve. The engine
 * reads them all through one array (the view), rebuilt after each change
 * from the two lists; the API reads history from the store.
 */
#include "engine/silences.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "base/weekly.h"

/* Who ends the silences bound to an incident that resolved. */
#define SILENCES_ACTOR_HALE "hale"

/* A stored silence held in memory, with what only the store's row says. */
struct stored {
    struct silence sl;
    int64_t ended_ms; /* ended early: when; 0: not */
    char *ended_by;   /* and by whom */
    bool ending;      /* an end of it is being written */
};

struct silences {
    struct store *st;
    const struct config *config;
    struct silence *config_v; /* config_v[i] has id -(i + 1) */
    size_t n_config;
    struct stored *stored; /* by ascending id */
    size_t n_stored, cap_stored;
    struct silence *view; /* shallow copies: the configuration's, then the stored ones */
    size_t n_view, cap_view;
};

static int64_t now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

/* ---- rows ---- */

int silences_from_row(const struct store_silence *row, struct silence *ret, struct err *e)
{
    struct silence sl;
    silence_init(&sl);
    int r = silence_matchers_set(&sl, row->matchers ? row->matchers : "", e);
    if (r == 0 && row->weekly && (r = weekly_window_parse(row->weekly, &sl.window, e, NULL)) == 0)
        sl.weekly = true;
    if (r < 0) {
        silence_fini(&sl);
        return err_prefixf(e, "silence %lld", (long long)row->id);
    }
    sl.id = row->id;
    sl.source = row->source && strcmp(row->source, "config") == 0 ? SILENCE_SOURCE_CONFIG
                                                                  : SILENCE_SOURCE_API;
    sl.starts_ms = row->starts_ms;
    sl.ends_ms = row->ends_ms;
    sl.incident_id = row->incident_id;
    free(sl.comment);
    sl.comment = xstrdup(row->comment ? row->comment : "");
    free(sl.created_by);
    sl.created_by = xstrdup(row->created_by ? row->created_by : "");
    sl.created_ms = row->created_ms;
    *ret = sl;
    return 0;
}

void silences_to_row(const struct silence *sl, struct store_silence *ret)
{
    char *weekly = NULL;
    if (sl->weekly) {
        struct strbuf b;
        strbuf_init(&b, 0);
        weekly_window_format(&sl->window, &b);
        weekly = strbuf_detach(&b, NULL);
    }
    *ret = (struct store_silence){
            .id = sl->id,
            .source = xstrdup(silence_source_name(sl->source)),
            .matchers = xstrdup(sl->matchers_text ? sl->matchers_text : ""),
            .starts_ms = sl->starts_ms,
            .ends_ms = sl->ends_ms,
            .weekly = weekly,
            .incident_id = sl->incident_id,
            .comment = xstrdup(sl->comment ? sl->comment : ""),
            .created_by = xstrdup(sl->created_by ? sl->created_by : ""),
            .created_ms = sl->created_ms,
    };
}

static void stored_row(const struct stored *en, struct store_silence *ret)
{
    silences_to_row(&en->sl, ret);
    ret->ended_ms = en->ended_ms;
    ret->ended_by = en->ended_by ? xstrdup(en->ended_by) : NULL;
}

/* ---- what is held ---- */

static struct stored *stored_find(const struct silences *s, int64_t id)
{
    for (size_t i = 0; i < s->n_stored; i++)
        if (s->stored[i].sl.id == id)
            return &s->stored[i];
    return NULL;
}

/* Takes sl (moved into the list); ids come in ascending order, so it goes last. */
static void stored_add(struct silences *s, struct silence *sl, int64_t ended_ms, char *ended_by)
{
    if (s->n_stored == s->cap_stored) {
        s->cap_stored = s->cap_stored ? s->cap_stored * 2 : 8;
        s->stored = xreallocarray(s->stored, s->cap_stored, sizeof(*s->stored));
    }
    s->stored[s->n_stored++] =
            (struct stored){.sl = *sl, .ended_ms = ended_ms, .ended_by = ended_by};
    memset(sl, 0, sizeof(*sl));
}

static void stored_fini(struct stored *en)
{
    silence_fini(&en->sl);
    free(en->ended_by);
}

/* Stored silences that are over leave memory (the store keeps them), unless a write is in flight.
 */
static void stored_prune(struct silences *s, int64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->n_stored; i++) {
        struct stored *en = &s->stored[i];
        if (!en->ending && silence_state(&en->sl, now) == SILENCE_EXPIRED) {
            stored_fini(en);
            continue;
        }
        s->stored[kept++] = *en;
    }
    s->n_stored = kept;
}

static void view_rebuild(struct silences *s)
{
    size_t n = s->n_config + s->n_stored;
    if (n > s->cap_view) {
        s->cap_view = n;
        s->view = xreallocarray(s->view, s->cap_view, sizeof(*s->view));
    }
    for (size_t i = 0; i < s->n_config; i++)
        s->view[i] = s->config_v[i];
    for (size_t i = 0; i < s->n_stored; i++)
        s->view[s->n_config + i] = s->stored[i].sl;
    s->n_view = n;
}

static void config_free(struct silences *s)
{
    for (size_t i = 0; i < s->n_config; i++)
        silence_fini(&s->config_v[i]);
    free(s->config_v);
    s->config_v = NULL;
    s->n_config = 0;
}

static void config_take(struct silences *s, const struct config *config)
{
    config_free(s);
    s->config = config;
    s->n_config = config->n_silences;
    s->config_v = xcalloc(s->n_config ? s->n_config : 1, sizeof(*s->config_v));
    int64_t now = now_ms();
    for (size_t i = 0; i < s->n_config; i++) {
        silence_from_config(&config->silences[i], now, &s->config_v[i]);
        s->config_v[i].id = -(int64_t)(i + 1);
    }
}

/* ---- start and stop ---- */

static int load(struct silences *s, struct err *e)
{
    struct store_reader *reader;
    int r = store_reader_open(s->st, &reader, e);
    if (r < 0)
        return r;
    struct store_silence_query q = {.filter = STORE_SILENCES_NOT_OVER, .at_ms = now_ms()};
    struct store_silence *v = NULL;
    size_t n = 0;
    r = store_silences_list(reader, &q, &v, &n);
    /* Closed at once: store_close() wants every reader closed, and memory has what it needs. */
    store_reader_close(reader);
    if (r < 0)
        return err_setf(e, r, "cannot read the silences");
    /* Newest first from the store: held oldest first. */
    for (size_t i = n; i-- > 0;) {
        struct silence sl;
        struct err pe = {0};
        if (silences_from_row(&v[i], &sl, &pe) < 0)
            log_warn("silences", NULL, "%s; it is left out", pe.msg);
        else
            stored_add(s, &sl, v[i].ended_ms, v[i].ended_by ? xstrdup(v[i].ended_by) : NULL);
        store_silence_fini(&v[i]);
    }
    free(v);
    return 0;
}

int silences_new(struct store *st, const struct config *config, struct silences **ret,
                 struct err *e)
{
    struct silences *s = xcalloc(1, sizeof(*s));
    s->st = st;
    int r = load(s, e);
    if (r < 0) {
        silences_free(s);
        return r;
    }
    config_take(s, config);
    view_rebuild(s);
    *ret = s;
    return 0;
}

void silences_free(struct silences *s)
{
    if (!s)
        return;
    config_free(s);
    for (size_t i = 0; i < s->n_stored; i++)
        stored_fini(&s->stored[i]);
    free(s->stored);
    free(s->view);
    free(s);
}

void silences_set_config(struct silences *s, const struct config *config)
{
    config_take(s, config);
    stored_prune(s, now_ms());
    view_rebuild(s);
}

const struct silence *silences_view(const struct silences *s, size_t *ret_n)
{
    *ret_n = s->n_view;
    return s->view;
}

const struct silence *silences_get(const struct silences *s, int64_t id)
{
    for (size_t i = 0; i < s->n_view; i++)
        if (s->view[i].id == id)
            return &s->view[i];
    return NULL;
}

/* ---- adding ---- */

struct adding {
    struct silences *s;
    struct silence sl;
    silences_done_cb *cb;
    void *data;
};

static void audit_add(struct store_batch *b, const char *actor, const char *origin,
                      const char *action, int64_t id, int64_t time_ms)
{
    struct audit_entry a = {
            .time_ms = time_ms,
            .actor = xstrdup(actor),
            .action = xstrdup(action),
            .target = xasprintf("silence:%lld", (long long)id),
            .origin = origin ? xstrdup(origin) : NULL,
    };
    store_batch_audit(b, &a);
    audit_entry_fini(&a);
}

static void add_done(int result, void *data)
{
    struct adding *a = data;
    struct silences *s = a->s;
    int64_t id = a->sl.id;
    if (result < 0) {
        log_error("silences", NULL, "silence %lld %s was not saved: %s", (long long)id,
                  a->sl.matchers_text, hale_strerror(result));
        if (a->cb)
            a->cb(result, &a->sl, a->data);
        silence_fini(&a->sl);
        free(a);
        return;
    }
    log_info("silences", NULL, "silence %lld %s added by %s", (long long)id, a->sl.matchers_text,
             a->sl.created_by);
    stored_add(s, &a->sl, 0, NULL);
    view_rebuild(s);
    if (a->cb)
        a->cb(0, &stored_find(s, id)->sl, a->data);
    free(a);
    stored_prune(s, now_ms());
    view_rebuild(s);
}

int silences_add(struct silences *s, struct silence *taken, const char *actor, const char *origin,
                 silences_done_cb *cb, void *data, struct err *e)
{
    struct silence sl = *taken;
    memset(taken, 0, sizeof(*taken));
    int64_t now = now_ms();
    int r = 0;
    if (sl.source != SILENCE_SOURCE_API)
        r = err_setf(e, -EINVAL,
                     "only silences people make are added; the configuration's come with it");
    if (r == 0)
        r = silence_check(&sl, e);
    if (r == 0 && sl.ends_ms && sl.ends_ms <= now)
        r = err_setf(e, -EINVAL, "the silence would be over already: its end is in the past");
    if (r < 0) {
        silence_fini(&sl);
        return r;
    }
    if (sl.starts_ms == 0)
        sl.starts_ms = now;
    sl.id = store_next_silence_id(s->st);
    sl.created_ms = now;
    free(sl.created_by);
    sl.created_by = xstrdup(actor);

    struct store_batch *b = store_batch_new();
    struct store_silence row;
    silences_to_row(&sl, &row);
    store_batch_silence(b, &row);
    store_silence_fini(&row);
    audit_add(b, actor, origin, "silence.create", sl.id, now);
    struct adding *a = xcalloc(1, sizeof(*a));
    *a = (struct adding){.s = s, .sl = sl, .cb = cb, .data = data};
    store_submit(s->st, b, add_done, a);
    return 0;
}

/* ---- ending ---- */

/* What an end changed on one silence, to take back if it is not written. */
struct before {
    int64_t id;
    int64_t starts_ms, ends_ms;
};

struct ending {
    struct silences *s;
    struct before *v;
    size_t n;
    silences_done_cb *cb; /* about v[0] */
    void *data;
};

/* Ends en at now by actor, in memory, and puts its row into b; *ret_before says what it was. */
static void stored_end(struct stored *en, int64_t now, const char *actor, struct store_batch *b,
                       struct before *ret_before)
{
    *ret_before = (struct before){
            .id = en->sl.id, .starts_ms = en->sl.starts_ms, .ends_ms = en->sl.ends_ms};
    silence_end(&en->sl, now);
    en->ended_ms = now;
    free(en->ended_by);
    en->ended_by = xstrdup(actor);
    en->ending = true;
    struct store_silence row;
    stored_row(en, &row);
    store_batch_silence(b, &row);
    store_silence_fini(&row);
}

static void end_done(int result, void *data)
{
    struct ending *c = data;
    struct silences *s = c->s;
    for (size_t i = 0; i < c->n; i++) {
        struct stored *en = stored_find(s, c->v[i].id);
        if (!en)
            continue;
        en->ending = false;
        if (result == 0)
            continue;
        log_error("silences", NULL, "silence %lld: its end was not saved, it stays in force: %s",
                  (long long)c->v[i].id, hale_strerror(result));
        en->sl.starts_ms = c->v[i].starts_ms;
        en->sl.ends_ms = c->v[i].ends_ms;
        en->ended_ms = 0;
        free(en->ended_by);
        en->ended_by = NULL;
    }
    view_rebuild(s);
    /* Held while its end was in flight (stored_prune() spares it), so still there. */
    const struct stored *first = stored_find(s, c->v[0].id);
    if (c->cb && first)
        c->cb(result, &first->sl, c->data);
    stored_prune(s, now_ms());
    view_rebuild(s);
    free(c->v);
    free(c);
}

static struct ending *ending_new(struct silences *s, size_t n, silences_done_cb *cb, void *data)
{
    struct ending *c = xcalloc(1, sizeof(*c));
    *c = (struct ending){.s = s, .v = xcalloc(n, sizeof(*c->v)), .cb = cb, .data = data};
    return c;
}

int silences_expire(struct silences *s, int64_t id, const char *actor, const char *origin,
                    silences_done_cb *cb, void *data, struct err *e)
{
    if (id < 0 && (uint64_t)-id <= s->n_config) {
        const struct config_loc *loc = &s->config->silences[-id - 1].loc;
        return err_setf(e, HALE_ESTATE,
                        "silence %lld comes from the configuration (%s:%u): remove it there and "
                        "reload to end it",
                        (long long)id, loc->file ? loc->file : "?", loc->line);
    }
    struct stored *en = id > 0 ? stored_find(s, id) : NULL;
    if (!en)
        return err_setf(e, HALE_ENOTFOUND, "there is no silence %lld in force", (long long)id);
    int64_t now = now_ms();
    if (en->ending || silence_state(&en->sl, now) == SILENCE_EXPIRED)
        return err_setf(e, HALE_ESTATE, "silence %lld has expired already", (long long)id);

    struct store_batch *b = store_batch_new();
    struct ending *c = ending_new(s, 1, cb, data);
    c->n = 1;
    stored_end(en, now, actor, b, &c->v[0]);
    audit_add(b, actor, origin, "silence.expire", id, now);
    log_info("silences", NULL, "silence %lld %s expired by %s", (long long)id, en->sl.matchers_text,
             actor);
    view_rebuild(s);
    store_submit(s->st, b, end_done, c);
    return 0;
}

void silences_incident_resolved(struct silences *s, int64_t incident_id, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; incident_id && i < s->n_stored; i++) {
        const struct stored *en = &s->stored[i];
        if (en->sl.incident_id == incident_id && !en->ending &&
            silence_state(&en->sl, now_ms) != SILENCE_EXPIRED)
            n++;
    }
    if (n == 0)
        return;
    struct store_batch *b = store_batch_new();
    struct ending *c = ending_new(s, n, NULL, NULL);
    for (size_t i = 0; i < s->n_stored; i++) {
        struct stored *en = &s->stored[i];
        if (en->sl.incident_id != incident_id || en->ending ||
            silence_state(&en->sl, now_ms) == SILENCE_EXPIRED)
            continue;
        stored_end(en, now_ms, SILENCES_ACTOR_HALE, b, &c->v[c->n++]);
        log_info("silences", NULL, "silence %lld %s ended: incident %lld resolved",
                 (long long)en->sl.id, en->sl.matchers_text, (long long)incident_id);
    }
    view_rebuild(s);
    store_submit(s->st, b, end_done, c);
}
