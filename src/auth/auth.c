/* SPDX-License-Identifier: MIT */
/*
 * Roles, permissions and the daemon's token store. HTTP threads call
 * auth_store_verify() for every API request, so the secret is hashed
 * outside the lock and the lock covers only a stat() at most once a
 * second and a scan of the (small) token array; the file is re-read only
 * when its identity changed, which a writer's rename always does.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/internal.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/log.h"

#define AUTH_RECHECK_MS 1000

static const struct {
    const char *name;
    unsigned perms;
} roles[AUTH_ROLE_COUNT] = {
        [AUTH_ROLE_VIEWER] = {"viewer", AUTH_PERM_READ},
        [AUTH_ROLE_RESPONDER] = {"responder", AUTH_PERM_READ | AUTH_PERM_ACT},
        [AUTH_ROLE_ADMIN] = {"admin", AUTH_PERM_READ | AUTH_PERM_ACT | AUTH_PERM_ADMIN |
                                              AUTH_PERM_REPORT | AUTH_PERM_CHAT},
        [AUTH_ROLE_REPORTER] = {"reporter", AUTH_PERM_REPORT},
        [AUTH_ROLE_REQUESTER] = {"requester", AUTH_PERM_CHAT},
};

const char *auth_role_name(enum auth_role role)
{
    return (unsigned)role < AUTH_ROLE_COUNT ? roles[role].name : "unknown";
}

int auth_role_parse(const char *name, enum auth_role *ret_role)
{
    for (unsigned i = 0; i < AUTH_ROLE_COUNT; i++) {
        if (strcmp(roles[i].name, name) == 0) {
            *ret_role = (enum auth_role)i;
            return 0;
        }
    }
    return HALE_ENOTFOUND;
}

const char *auth_role_names(void)
{
    return "viewer, responder, admin, reporter, requester";
}

unsigned auth_role_perms(enum auth_role role)
{
    return (unsigned)role < AUTH_ROLE_COUNT ? roles[role].perms : 0;
}

bool auth_role_can(enum auth_role role, enum auth_perm perm)
{
    return (auth_role_perms(role) & (unsigned)perm) == (unsigned)perm;
}

const char *auth_perm_name(enum auth_perm perm)
{
    switch (perm) {
    case AUTH_PERM_READ:
        return "read";
    case AUTH_PERM_ACT:
        return "act";
    case AUTH_PERM_ADMIN:
        return "admin";
    case AUTH_PERM_REPORT:
        return "report";
    case AUTH_PERM_CHAT:
        return "chat";
    }
    return "unknown";
}

/* ---- the store -------------------------------------------------------- */

struct auth_store {
    char *path;
    const struct clock *clock;
    pthread_mutex_t lock; /* guards everything below */
    struct auth_entry *v;
    size_t n;
    struct auth_file_id id; /* of the version v was read from */
    uint64_t checked_ms;    /* monotonic time of the last stat() */
    struct err fail;        /* why every token is refused (code 0: they are not) */
    bool fail_transient;    /* fail will not last: the file is read again at the next look */
    /* The last version read whole: a change is told against it, not against a failure. */
    struct auth_entry *good;
    size_t n_good;
    auth_change_cb *on_change;
    void *change_data;
};

/* ---- what changed ------------------------------------------------------ */

static const struct auth_entry *entry_named(const struct auth_entry *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].info.name, name) == 0)
            return &v[i];
    return NULL;
}

/* Whether e is in v as it is: the same name with the same role and secret. */
static bool entry_kept(const struct auth_entry *e, const struct auth_entry *v, size_t n)
{
    const struct auth_entry *same = entry_named(v, n, e->info.name);
    return same && same->info.role == e->info.role && strcmp(same->hash, e->hash) == 0;
}

void auth__changes(const struct auth_entry *old, size_t n_old, const struct auth_entry *now,
                   size_t n_now, struct auth_change **ret_v, size_t *ret_n)
{
    struct auth_change *v = NULL;
    size_t n = 0;
    for (size_t i = 0; i < n_old + n_now; i++) {
        bool added = i >= n_old;
        const struct auth_entry *e = added ? &now[i - n_old] : &old[i];
        if (added ? entry_kept(e, old, n_old) : entry_kept(e, now, n_now))
            continue;
        v = xreallocarray(v, n + 1, sizeof(*v));
        v[n++] = (struct auth_change){.added = added, .info = e->info};
    }
    *ret_v = v;
    *ret_n = n;
}

static struct auth_entry *entries_copy(const struct auth_entry *v, size_t n)
{
    if (n == 0)
        return NULL;
    struct auth_entry *copy = xreallocarray(NULL, n, sizeof(*copy));
    memcpy(copy, v, n * sizeof(*copy));
    return copy;
}

/*
 * A version of path was read whole into v: tells the listener what changed
 * since the last one, which v becomes. The caller holds s->lock (or owns s).
 */
static void store_good_set(struct auth_store *s, const char *path, const struct auth_entry *v,
                           size_t n)
{
    struct auth_change *changes = NULL;
    size_t n_changes = 0;
    if (s->on_change)
        auth__changes(s->good, s->n_good, v, n, &changes, &n_changes);
    if (n_changes > 0)
        s->on_change(changes, n_changes, path, s->change_data);
    free(changes);
    free(s->good);
    s->good = entries_copy(v, n);
    s->n_good = n;
}

int auth_store_new(const char *path, struct auth_store **ret_store, struct err *e)
{
    struct auth_entry *v;
    size_t n;
    struct auth_file_id id;
    int r = auth__file_read(path, true, &v, &n, &id, e);
    if (r < 0)
        return r;
    struct auth_store *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(path);
    s->clock = &clock_system;
    pthread_mutex_init(&s->lock, NULL);
    s->v = v;
    s->n = n;
    s->id = id;
    s->checked_ms = clock_mono_ms(s->clock);
    store_good_set(s, path, v, n);
    *ret_store = s;
    return 0;
}

void auth_store_free(struct auth_store *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s->v);
    free(s->good);
    free(s->path);
    free(s);
}

int auth_store_reopen(struct auth_store *s, const char *path, struct err *e)
{
    struct auth_entry *v;
    size_t n;
    struct auth_file_id id;
    int r = auth__file_read(path, true, &v, &n, &id, e);
    if (r < 0)
        return r;
    char *copy = xstrdup(path);
    pthread_mutex_lock(&s->lock);
    free(s->v);
    free(s->path);
    s->path = copy;
    s->v = v;
    s->n = n;
    s->id = id;
    s->fail = (struct err){0};
    s->checked_ms = clock_mono_ms(s->clock);
    store_good_set(s, s->path, v, n);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

void auth__store_set_clock(struct auth_store *s, const struct clock *c)
{
    pthread_mutex_lock(&s->lock);
    s->clock = c;
    s->checked_ms = clock_mono_ms(c);
    pthread_mutex_unlock(&s->lock);
}

/*
 * Whether a failed read says something about this version of the file,
 * which stays true until the file changes; anything else (EMFILE, ENOMEM,
 * EIO, a file that grew while read) may pass, and the next look retries.
 */
static bool read_error_lasts(int r)
{
    return r == HALE_EPARSE || r == HALE_ELIMIT || r == -EPERM || r == -EACCES;
}

/*
 * Re-reads the file if it changed; the caller holds s->lock. Unless forced,
 * the file is looked at no more than once a second; after a transient
 * failure, forced looks wait the second too, so a miss does not re-read
 * the file on every request.
 */
static void store_refresh(struct auth_store *s, bool force)
{
    uint64_t now = clock_mono_ms(s->clock);
    if ((!force || s->fail_transient) && now - s->checked_ms < AUTH_RECHECK_MS)
        return;
    s->checked_ms = now;

    struct auth_file_id id;
    if (auth__file_stat(s->path, &id) < 0 || auth__file_id_equal(&id, &s->id))
        return; /* unchanged, or unreadable just now: keep what we have */

    struct auth_entry *v = NULL;
    size_t n = 0;
    struct err e = {0};
    int r = auth__file_read(s->path, true, &v, &n, &id, &e);
    bool lasts = r == 0 || read_error_lasts(r);
    if (r < 0) {
        /* Fail closed: a half-edited file must not keep a revoked token alive. */
        log_warn("auth", NULL, "%s; every API token is refused until the file %s", e.msg,
                 lasts ? "is fixed" : "can be read (retrying)");
        v = NULL;
        n = 0;
        s->fail = e;
    } else {
        log_info("auth", NULL, "tokens file %s changed: %zu tokens", s->path, n);
        s->fail = (struct err){0};
        store_good_set(s, s->path, v, n);
    }
    free(s->v);
    s->v = v;
    s->n = n;
    s->fail_transient = !lasts;
    /* A version that could not be read because of a passing error is not settled. */
    if (lasts)
        s->id = id;
}

size_t auth_store_count(struct auth_store *s)
{
    pthread_mutex_lock(&s->lock);
    store_refresh(s, false);
    size_t n = s->n;
    pthread_mutex_unlock(&s->lock);
    return n;
}

/* Looks at every entry, so the time taken does not tell where a match was. */
static const struct auth_entry *store_find(const struct auth_store *s, const char *hash)
{
    const struct auth_entry *match = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (hash_equal_secret(hash, s->v[i].hash))
            match = &s->v[i];
    return match;
}

int auth_store_verify(struct auth_store *s, const char *secret, struct auth_token_info *ret_info,
                      struct err *e)
{
    if (!secret || strnlen(secret, AUTH_SECRET_MAX) >= AUTH_SECRET_MAX)
        return HALE_EAUTH;
    char hash[HASH_SHA256_HEX_LEN + 1];
    hash_sha256_hex(secret, strlen(secret), hash);

    pthread_mutex_lock(&s->lock);
    store_refresh(s, false);
    const struct auth_entry *match = store_find(s, hash);
    if (!match) {
        /* A token created a moment ago must work at once: look again now. */
        store_refresh(s, true);
        match = store_find(s, hash);
    }
    int r = 0;
    if (match)
        *ret_info = match->info;
    else if (s->fail.code != 0)
        r = err_setf(e, HALE_EINTERNAL, "%s", s->fail.msg);
    else
        r = HALE_EAUTH;
    pthread_mutex_unlock(&s->lock);
    return r;
}

int auth_store_list(struct auth_store *s, struct auth_token_info **ret_tokens, size_t *ret_n)
{
    pthread_mutex_lock(&s->lock);
    store_refresh(s, false);
    size_t n = s->n;
    struct auth_token_info *out = n ? xreallocarray(NULL, n, sizeof(*out)) : NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = s->v[i].info;
    pthread_mutex_unlock(&s->lock);
    *ret_tokens = out;
    *ret_n = n;
    return 0;
}

void auth_store_refresh(struct auth_store *s)
{
    pthread_mutex_lock(&s->lock);
    store_refresh(s, false);
    pthread_mutex_unlock(&s->lock);
}

void auth_store_on_change(struct auth_store *s, auth_change_cb *cb, void *data)
{
    pthread_mutex_lock(&s->lock);
    s->on_change = cb;
    s->change_data = data;
    pthread_mutex_unlock(&s->lock);
}
