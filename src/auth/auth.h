/* SPDX-License-Identifier: MIT */
/*
 * API tokens and roles. Tokens live in a tokens file, one per line, stored
 * only as SHA-256 hashes: the plain token is shown once, when it is created,
 * and never written anywhere. A role grants a set of permissions; an API
 * route asks for one permission. The daemon keeps a token set in memory and
 * re-reads the file when it changes, so `hale token create|revoke` takes
 * effect at once without a reload.
 */
#ifndef HALE_AUTH_AUTH_H
#define HALE_AUTH_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"

/* Persisted in the tokens file by name: append only. */
enum auth_role {
    AUTH_ROLE_VIEWER,    /* read everything */
    AUTH_ROLE_RESPONDER, /* read; ack, note, resolve, approve, run */
    AUTH_ROLE_ADMIN,     /* everything: tokens, reload */
    AUTH_ROLE_REPORTER,  /* push events and metrics, nothing else */
    AUTH_ROLE_REQUESTER, /* the self-service chat only */
    AUTH_ROLE_COUNT,
};

enum auth_perm {
    AUTH_PERM_READ = 1u << 0,
    AUTH_PERM_ACT = 1u << 1,
    AUTH_PERM_ADMIN = 1u << 2,
    AUTH_PERM_REPORT = 1u << 3,
    AUTH_PERM_CHAT = 1u << 4,
};

/* "viewer", "responder", ...; "unknown" outside the enum. */
const char *auth_role_name(enum auth_role role);
/* Returns 0 and sets *ret_role, or HALE_ENOTFOUND for an unknown name. */
int auth_role_parse(const char *name, enum auth_role *ret_role);
/* The role names, comma-separated, for messages: "viewer, responder, ...". */
const char *auth_role_names(void);
/* The permissions a role grants (a mask of enum auth_perm). */
unsigned auth_role_perms(enum auth_role role);
bool auth_role_can(enum auth_role role, enum auth_perm perm);
/* "read", "act", "admin", "report", "chat" (as the API lists them). */
const char *auth_perm_name(enum auth_perm perm);

/* One token as the tokens file lists it (never the secret itself). */
#define AUTH_NAME_MAX 63
struct auth_token_info {
    char name[AUTH_NAME_MAX + 1];
    enum auth_role role;
    int64_t created; /* Unix seconds */
};

/*
 * The tokens file: text, mode 0600, one token per line as
 *   NAME ROLE SHA256-OF-SECRET CREATED-UNIX-SECONDS
 * with blank lines and '#' comments allowed (and kept on rewrite). A
 * secret is "hale_" and 43 base64url characters (32 random bytes); only
 * its SHA-256 is stored. Writers hold an flock on PATH.lock and replace
 * the file atomically (temporary file, fsync, rename), so concurrent
 * `hale token` runs never lose each other's changes and a reader never
 * sees half a file. The new file keeps the old one's owner, group and
 * mode (less group and other write permission), so a daemon running as
 * another user keeps reading it; -EPERM when the writer may not give it
 * that owner. A malformed line fails the whole read with HALE_EPARSE and
 * "PATH:LINE: what is wrong" in e.
 */

/*
 * Creates a token NAME with ROLE in the tokens file at path (created with
 * mode 0600, its directory (0700) too if missing) and writes the new
 * secret into ret_secret (a NUL-terminated string; show it once, then
 * forget it). Names are 1-63 characters of [A-Za-z0-9._-]: HALE_EPARSE
 * otherwise. HALE_EEXIST if the name is taken; -errno for I/O errors.
 */
#define AUTH_SECRET_MAX 80
int auth_token_create(const char *path, const char *name, enum auth_role role,
                      char ret_secret[AUTH_SECRET_MAX], struct err *e);
/* Removes token NAME; HALE_ENOTFOUND if there is none. */
int auth_token_revoke(const char *path, const char *name, struct err *e);
/*
 * Reads every token's info, in file order; *ret_tokens is an array of
 * *ret_n entries (NULL when 0), free with free(). A missing file is an
 * empty list.
 */
int auth_token_list(const char *path, struct auth_token_info **ret_tokens, size_t *ret_n,
                    struct err *e);

/*
 * The daemon's view of the tokens file: thread-safe, re-read when the
 * file's (device, inode, size, mtime, ctime) changes, checked at most once
 * a second, and at once when a secret matches no token (so a token just
 * created works immediately). A missing file means no tokens. If a changed file is
 * malformed, the store refuses every token (fails closed) and logs the
 * error until the file is fixed.
 */
struct auth_store;
/*
 * Reads path (borrowed only during the call). A malformed file is an
 * error here (HALE_EPARSE), so the daemon refuses to start with it; so is
 * a file writable by group or others (-EPERM, "tokens file PATH is
 * writable by group or others (mode 0666): run chmod 600 PATH"). A running
 * store that finds either fails closed and logs the same message.
 */
int auth_store_new(const char *path, struct auth_store **ret_store, struct err *e);
/* Accepts NULL. No other thread may be using s. */
void auth_store_free(struct auth_store *s);
/*
 * Points the store at another tokens file (a reload that changed
 * server.tokens_file). The new file is read first: on error the store
 * keeps its old file and tokens. Callable while other threads verify.
 */
int auth_store_reopen(struct auth_store *s, const char *path, struct err *e);
/* Number of tokens currently known (for a start-up hint when it is 0). */
size_t auth_store_count(struct auth_store *s);
/*
 * Checks a bearer secret. Returns 0 and fills *ret_info for a valid token;
 * HALE_EINTERNAL when the store fails closed because the tokens file
 * cannot be read (unreadable, malformed), with the reason in e (e may be
 * NULL); HALE_EAUTH for any other secret. Callable from any thread; may
 * re-read the file.
 */
int auth_store_verify(struct auth_store *s, const char *secret, struct auth_token_info *ret_info,
                      struct err *e);
/*
 * The tokens currently known, in file order, as auth_token_list() gives
 * them (free *ret_tokens with free()). Callable from any thread.
 */
int auth_store_list(struct auth_store *s, struct auth_token_info **ret_tokens, size_t *ret_n);

/*
 * Looks at the tokens file now (at most once a second, as every request
 * does) and reads it again if it changed, so a change is noticed, and
 * reported to the change listener, even while no request comes. Any thread.
 */
void auth_store_refresh(struct auth_store *s);

/* One token the tokens file gained or lost between two versions of it. */
struct auth_change {
    bool added; /* false: revoked (gone from the file) */
    struct auth_token_info info;
};

/*
 * Hears of the tokens each new version of the file added and revoked
 * (read whole: a malformed version is not one, and the version after it
 * is compared with the last good one), and the path of the file. A token
 * whose role or secret changed under the same name is revoked and added.
 * Never the secrets nor their hashes. It runs on whichever thread noticed
 * (an HTTP thread verifying a token, the caller of auth_store_refresh()
 * or auth_store_reopen()) with the store's lock held: it must not call
 * the store; it copies what it needs and returns. v and path are borrowed
 * for the call. One listener; NULL removes it.
 */
typedef void auth_change_cb(const struct auth_change *v, size_t n, const char *path, void *data);
void auth_store_on_change(struct auth_store *s, auth_change_cb *cb, void *data);

#endif
