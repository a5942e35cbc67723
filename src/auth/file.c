/* SPDX-License-Identifier: MIT */
/*
 * The tokens file: reading and checking it line by line, and the
 * read-modify-write cycle behind `hale token create|revoke`. A writer
 * holds an exclusive flock on PATH.lock for the whole cycle (the tokens
 * file itself is replaced by rename, so a lock on it would lock the old
 * inode), writes the new text to a temporary file in the same directory,
 * fsyncs it and renames it over the old one. Lines the writer does not
 * change, comments included, are copied as they are.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "auth/internal.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/fs.h"
#include "base/strbuf.h"

#define AUTH_SECRET_PREFIX "hale_"
#define AUTH_SECRET_BYTES  32

static const char file_header[] =
        "# hale API tokens, managed by 'hale token'. One token per line:\n"
        "# NAME ROLE SHA256-OF-SECRET CREATED-UNIX-SECONDS\n";

bool auth__name_is_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > AUTH_NAME_MAX)
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* ---- reading ---------------------------------------------------------- */

int auth__file_stat(const char *path, struct auth_file_id *ret_id)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        if (errno != ENOENT)
            return -errno;
        *ret_id = (struct auth_file_id){.exists = false};
        return 0;
    }
    *ret_id = (struct auth_file_id){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};
    return 0;
}

bool auth__file_id_equal(const struct auth_file_id *a, const struct auth_file_id *b)
{
    if (a->exists != b->exists)
        return false;
    if (!a->exists)
        return true;
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/*
 * Reads the whole file (at most AUTH_FILE_MAX bytes) into *ret_text,
 * NUL-terminated; with strict, refuses a file others may write.
 */
static int file_slurp(const char *path, bool strict, char **ret_text, size_t *ret_len,
                      struct auth_file_id *id, struct err *e)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *id = (struct auth_file_id){.exists = false};
            *ret_text = xstrdup("");
            *ret_len = 0;
            return 0;
        }
        return err_setf(e, -errno, "%s: cannot open: %s", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_setf(e, -errno, "%s: %s", path, strerror(errno));
    /* Whoever can write it can make a token of their own. */
    if (strict && (st.st_mode & 022))
        return err_setf(
                e, -EPERM,
                "tokens file %s is writable by group or others (mode %04o): run chmod 600 %s", path,
                (unsigned)(st.st_mode & 07777), path);
    if (st.st_size > AUTH_FILE_MAX)
        return err_setf(e, HALE_ELIMIT, "%s: larger than %d bytes; is it really a tokens file?",
                        path, AUTH_FILE_MAX);
    *id = (struct auth_file_id){true, st.st_dev, st.st_ino, st.st_size, st.st_mtim, st.st_ctim};

    size_t cap = (size_t)st.st_size + 1, len = 0;
    _cleanup_free_ char *text = xmalloc(cap + 1);
    for (;;) {
        ssize_t n = read(fd, text + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_setf(e, -errno, "%s: cannot read: %s", path, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
        if (len == cap) /* the file grew since fstat(): nobody should write it in place */
            return err_setf(e, -EAGAIN, "%s: changed while being read", path);
    }
    text[len] = '\0';
    *ret_text = TAKE_PTR(text);
    *ret_len = len;
    return 0;
}

/* Splits off the next run of non-blank characters of *p; NULL at the end of the line. */
static char *next_field(char **p)
{
    char *s = *p + strspn(*p, " \t");
    if (!*s)
        return NULL;
    char *end = s + strcspn(s, " \t");
    if (*end)
        *end++ = '\0';
    *p = end;
    return s;
}

static bool is_lower_hex(const char *s, size_t n)
{
    return strlen(s) == n && strspn(s, "0123456789abcdef") == n;
}

/* Parses one non-comment line into *ent; returns 0 or HALE_EPARSE. */
static int line_parse(char *line, struct auth_entry *ent, const char *path, unsigned lineno,
                      struct err *e)
{
    char *p = line, *f[4], *field;
    size_t n = 0;
    while ((field = next_field(&p))) {
        if (n < 4)
            f[n] = field;
        n++;
    }
    if (n != 4)
        return err_setf(e, HALE_EPARSE,
                        "%s:%u: expected 4 fields (NAME ROLE SHA256 CREATED), found %zu", path,
                        lineno, n);
    if (!auth__name_is_valid(f[0]))
        return err_setf(e, HALE_EPARSE,
                        "%s:%u: token name \"%.80s\" is not 1-63 characters of A-Z a-z 0-9 . _ -",
                        path, lineno, f[0]);
    if (auth_role_parse(f[1], &ent->info.role) < 0)
        return err_setf(e, HALE_EPARSE, "%s:%u: unknown role \"%.40s\" (roles: %s)", path, lineno,
                        f[1], auth_role_names());
    if (!is_lower_hex(f[2], HASH_SHA256_HEX_LEN))
        return err_setf(e, HALE_EPARSE,
                        "%s:%u: the hash must be 64 lowercase hex digits (a SHA-256)", path,
                        lineno);
    char *end;
    errno = 0;
    long long created = strtoll(f[3], &end, 10);
    if (errno || *end || end == f[3] || created < 0)
        return err_setf(e, HALE_EPARSE, "%s:%u: the creation time must be Unix seconds", path,
                        lineno);
    memcpy(ent->info.name, f[0], strlen(f[0]) + 1);
    memcpy(ent->hash, f[2], HASH_SHA256_HEX_LEN + 1);
    ent->info.created = created;
    ent->line = lineno;
    return 0;
}

static int entries_check_unique(const struct auth_entry *v, size_t n, const struct auth_entry *ent,
                                const char *path, struct err *e)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].info.name, ent->info.name) == 0)
            return err_setf(e, HALE_EPARSE, "%s:%u: token \"%s\" is already defined on line %u",
                            path, ent->line, ent->info.name, v[i].line);
    return 0;
}

static int text_parse(const char *path, const char *text, struct auth_entry **ret_entries,
                      size_t *ret_n, struct err *e)
{
    _cleanup_free_ struct auth_entry *v = NULL;
    size_t n = 0;
    unsigned lineno = 0;
    for (const char *s = text; *s;) {
        size_t len = strcspn(s, "\n");
        lineno++;
        if (len > AUTH_LINE_MAX)
            return err_setf(e, HALE_EPARSE, "%s:%u: line longer than %d bytes", path, lineno,
                            AUTH_LINE_MAX);
        char line[AUTH_LINE_MAX + 1];
        memcpy(line, s, len);
        line[len] = '\0';
        line[strcspn(line, "\r")] = '\0';
        s += len + (s[len] == '\n');

        const char *first = line + strspn(line, " \t");
        if (*first == '\0' || *first == '#')
            continue;
        struct auth_entry ent = {0};
        int r = line_parse(line, &ent, path, lineno, e);
        if (r < 0)
            return r;
        r = entries_check_unique(v, n, &ent, path, e);
        if (r < 0)
            return r;
        v = xreallocarray(v, n + 1, sizeof(*v));
        v[n++] = ent;
    }
    *ret_entries = TAKE_PTR(v);
    *ret_n = n;
    return 0;
}

int auth__file_read(const char *path, bool strict, struct auth_entry **ret_entries, size_t *ret_n,
                    struct auth_file_id *ret_id, struct err *e)
{
    _cleanup_free_ char *text = NULL;
    size_t len;
    struct auth_file_id id;
    int r = file_slurp(path, strict, &text, &len, &id, e);
    if (r < 0)
        return r;
    if (memchr(text, '\0', len))
        return err_setf(e, HALE_EPARSE, "%s: contains a NUL byte; it is not a tokens file", path);
    r = text_parse(path, text, ret_entries, ret_n, e);
    if (r < 0)
        return r;
    if (ret_id)
        *ret_id = id;
    return 0;
}

int auth_token_list(const char *path, struct auth_token_info **ret_tokens, size_t *ret_n,
                    struct err *e)
{
    _cleanup_free_ struct auth_entry *v = NULL;
    size_t n;
    int r = auth__file_read(path, false, &v, &n, NULL, e);
    if (r < 0)
        return r;
    struct auth_token_info *out = n ? xreallocarray(NULL, n, sizeof(*out)) : NULL;
    for (size_t i = 0; i < n; i++)
        out[i] = v[i].info;
    *ret_tokens = out;
    *ret_n = n;
    return 0;
}

/* ---- writing ---------------------------------------------------------- */

/* Creates the directories above path that are missing, mode 0700. */
static int mkdir_parents(const char *path, struct err *e)
{
    _cleanup_free_ char *dir = xstrdup(path);
    for (char *p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
            return err_setf(e, -errno, "cannot create directory %s: %s", dir, strerror(errno));
        *p = '/';
    }
    return 0;
}

/* Opens and exclusively locks PATH.lock; returns the descriptor or -errno. */
static int file_lock(const char *path, struct err *e)
{
    int r = mkdir_parents(path, e);
    if (r < 0)
        return r;
    _cleanup_free_ char *lock_path = xasprintf("%s.lock", path);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return err_setf(e, -errno, "cannot open lock file %s: %s", lock_path, strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            r = -errno;
            close(fd);
            return err_setf(e, r, "cannot lock %s: %s", lock_path, strerror(-r));
        }
    }
    return fd;
}

/* The directory part of path, for fsync after rename. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/*
 * Gives the new file fd the owner, group and mode of the file it replaces,
 * so a daemon running as another user can still read it; group and other
 * write permission is dropped, since the daemon refuses a file with it.
 */
static int file_attrs_copy(int fd, const struct stat *old, const char *path, struct err *e)
{
    if (fchown(fd, old->st_uid, old->st_gid) < 0)
        return err_setf(e, -errno,
                        "cannot give the new %s the owner of the old one (uid %u, gid %u): %s; "
                        "run this as that user or as root",
                        path, (unsigned)old->st_uid, (unsigned)old->st_gid, strerror(errno));
    if (fchmod(fd, old->st_mode & 0755) < 0)
        return err_setf(e, -errno, "cannot set the mode of the new %s: %s", path, strerror(errno));
    return 0;
}

/*
 * Replaces path with text: temporary file (with the old file's owner and
 * mode, 0600 for a new file), fsync, rename, fsync of the directory.
 */
static int file_replace(const char *path, const char *text, size_t len, struct err *e)
{
    struct stat old;
    bool had_old = stat(path, &old) == 0;
    if (!had_old && errno != ENOENT)
        return err_setf(e, -errno, "%s: %s", path, strerror(errno));
    _cleanup_free_ char *tmp = xasprintf("%s.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC); /* mode 0600 */
    if (fd < 0)
        return err_setf(e, -errno, "cannot create a file next to %s: %s", path, strerror(errno));
    int r = had_old ? file_attrs_copy(fd, &old, path, e) : 0;
    if (r < 0) {
        close(fd);
        unlink(tmp);
        return r;
    }
    r = fs_write_all(fd, text, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0) {
        unlink(tmp);
        return err_setf(e, r, "cannot write %s: %s", path, strerror(-r));
    }
    _cleanup_free_ char *dir = dir_of(path);
    _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0)
        fsync(dfd); /* best effort: the rename is done either way */
    return 0;
}

/*
 * The new text of the file: the old lines except line skip (0: none), then
 * append if not NULL. A new file starts with the explanatory header.
 */
static void text_edit(struct strbuf *out, const char *old, size_t old_len, unsigned skip,
                      const char *append)
{
    if (old_len == 0)
        strbuf_adds(out, file_header);
    unsigned lineno = 0;
    for (const char *s = old; *s;) {
        size_t len = strcspn(s, "\n");
        if (++lineno != skip) {
            strbuf_add(out, s, len);
            strbuf_addc(out, '\n');
        }
        s += len + (s[len] == '\n');
    }
    if (append)
        strbuf_adds(out, append);
}

static const struct auth_entry *entries_find(const struct auth_entry *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].info.name, name) == 0)
            return &v[i];
    return NULL;
}

/*
 * The locked read-modify-write cycle. With append == NULL it revokes name;
 * otherwise it adds the line append for a new token name.
 */
static int file_update(const char *path, const char *name, const char *append, struct err *e)
{
    _cleanup_close_ int lock = file_lock(path, e);
    if (lock < 0)
        return lock;
    _cleanup_free_ char *old = NULL;
    size_t old_len;
    struct auth_file_id id;
    int r = file_slurp(path, false, &old, &old_len, &id, e);
    if (r < 0)
        return r;
    _cleanup_free_ struct auth_entry *v = NULL;
    size_t n;
    r = text_parse(path, old, &v, &n, e);
    if (r < 0)
        return err_prefixf(e, "refusing to rewrite a malformed tokens file");
    const struct auth_entry *found = entries_find(v, n, name);
    if (append && found)
        return err_setf(e, HALE_EEXIST, "a token named \"%s\" exists already", name);
    if (!append && !found)
        return err_setf(e, HALE_ENOTFOUND, "there is no token named \"%s\" in %s", name, path);

    struct strbuf text;
    strbuf_init(&text, 0);
    text_edit(&text, old, old_len, append ? 0 : found->line, append);
    r = file_replace(path, text.s, text.len, e);
    strbuf_fini(&text);
    return r;
}

/* base64url without padding, as RFC 4648 section 5. */
static void base64url(const unsigned char *in, size_t n, char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = abc[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = abc[v & 63];
    }
    out[o] = '\0';
}

static int secret_new(char secret[AUTH_SECRET_MAX], struct err *e)
{
    unsigned char raw[AUTH_SECRET_BYTES];
    int r = hash_random_bytes(raw, sizeof(raw));
    if (r < 0)
        return err_setf(e, r, "cannot get random bytes: %s", strerror(-r));
    memcpy(secret, AUTH_SECRET_PREFIX, sizeof(AUTH_SECRET_PREFIX) - 1);
    base64url(raw, sizeof(raw), secret + sizeof(AUTH_SECRET_PREFIX) - 1);
    explicit_bzero(raw, sizeof(raw));
    return 0;
}

int auth_token_create(const char *path, const char *name, enum auth_role role,
                      char ret_secret[AUTH_SECRET_MAX], struct err *e)
{
    if (!auth__name_is_valid(name))
        return err_setf(e, HALE_EPARSE,
                        "token name \"%.80s\" is not 1-63 characters of A-Z a-z 0-9 . _ -", name);
    if ((unsigned)role >= AUTH_ROLE_COUNT)
        return err_setf(e, -EINVAL, "unknown role %d", (int)role);
    char secret[AUTH_SECRET_MAX];
    int r = secret_new(secret, e);
    if (r < 0)
        return r;
    char hash[HASH_SHA256_HEX_LEN + 1];
    hash_sha256_hex(secret, strlen(secret), hash);
    _cleanup_free_ char *line =
            xasprintf("%s %s %s %lld\n", name, auth_role_name(role), hash, (long long)time(NULL));
    r = file_update(path, name, line, e);
    if (r == 0)
        memcpy(ret_secret, secret, strlen(secret) + 1);
    explicit_bzero(secret, sizeof(secret));
    return r;
}

int auth_token_revoke(const char *path, const char *name, struct err *e)
{
    return file_update(path, name, NULL, e);
}
