/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the auth module's files: the tokens file reader
 * (file.c) that both the `hale token` functions and the daemon's store
 * (auth.c) use, and the store's test hook for time.
 */
#ifndef HALE_AUTH_INTERNAL_H
#define HALE_AUTH_INTERNAL_H

#include <stddef.h>
#include <sys/stat.h>

#include "auth/auth.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/hash.h"

/* A line longer than this is malformed (a real one is about 100 bytes). */
#define AUTH_LINE_MAX 512
/* A tokens file larger than this is refused (HALE_ELIMIT), about 10,000 tokens. */
#define AUTH_FILE_MAX (1024 * 1024)

/* One token as stored: its info and the hex SHA-256 of its secret. */
struct auth_entry {
    struct auth_token_info info;
    char hash[HASH_SHA256_HEX_LEN + 1];
    unsigned line; /* 1-based line in the file, for revoke and duplicate errors */
};

/* What identifies one version of the file, to notice a change cheaply. */
struct auth_file_id {
    bool exists;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
};

/*
 * Reads and parses the tokens file at path. On success returns 0, the
 * entries in *ret_entries (free with free(); NULL when there are none),
 * and the file's identity in *ret_id (ret_id may be NULL). A missing file
 * is success with no entries. With strict (the daemon's reads), a file
 * writable by group or others is refused with -EPERM, as ssh refuses such
 * a key. Errors: HALE_EPARSE ("PATH:LINE: ..."), HALE_ELIMIT (file too
 * large), -EPERM, -EAGAIN (the file grew while it was read: read again),
 * -errno.
 */
int auth__file_read(const char *path, bool strict, struct auth_entry **ret_entries, size_t *ret_n,
                    struct auth_file_id *ret_id, struct err *e);
/* Stats path into *ret_id (exists == false when missing); returns 0 or -errno. */
int auth__file_stat(const char *path, struct auth_file_id *ret_id);
bool auth__file_id_equal(const struct auth_file_id *a, const struct auth_file_id *b);
/* True for 1-63 characters of [A-Za-z0-9._-]. */
bool auth__name_is_valid(const char *name);

/*
 * What changed from the tokens in old to those in now: the revoked first
 * (file order of old), then the added (file order of now), in a new array
 * of *ret_n (NULL when nothing changed; free with free()).
 */
void auth__changes(const struct auth_entry *old, size_t n_old, const struct auth_entry *now,
                   size_t n_now, struct auth_change **ret_v, size_t *ret_n);

/* Makes the store read time from c (a test's manual clock); c is borrowed. */
void auth__store_set_clock(struct auth_store *s, const struct clock *c);

#endif
