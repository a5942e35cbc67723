/* SPDX-License-Identifier: MIT */
/*
 * Tests of tokens and roles: the tokens file's create/list/revoke cycle in
 * a temporary directory, what is (and is never) written to it, concurrent
 * writers in forked processes, located errors for malformed lines, and the
 * daemon's store: verification, the role matrix and re-reading on change.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth/auth.h"
#include "auth/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "testutil.h"

struct fixture {
    char dir[64];
    char *path; /* DIR/sub/tokens: the sub-directory does not exist yet */
};

static int fixture_setup(void **state)
{
    struct fixture *fx = xcalloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-auth-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(fx->dir));
    fx->path = xasprintf("%s/sub/tokens", fx->dir);
    *state = fx;
    return 0;
}

static int fixture_teardown(void **state)
{
    struct fixture *fx = *state;
    testutil_rm_rf(fx->dir);
    free(fx->path);
    free(fx);
    return 0;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = xcalloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void spit(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void create_ok(const char *path, const char *name, enum auth_role role,
                      char secret[AUTH_SECRET_MAX])
{
    struct err e = {0};
    int r = auth_token_create(path, name, role, secret, &e);
    if (r != 0)
        fail_msg("create %s: %s", name, e.msg);
}

static void test_auth_role_permissions_matrix(void **state)
{
    (void)state;
    static const struct {
        enum auth_role role;
        bool read, act, admin, report, chat;
    } want[] = {
            {AUTH_ROLE_VIEWER, true, false, false, false, false},
            {AUTH_ROLE_RESPONDER, true, true, false, false, false},
            {AUTH_ROLE_ADMIN, true, true, true, true, true},
            {AUTH_ROLE_REPORTER, false, false, false, true, false},
            {AUTH_ROLE_REQUESTER, false, false, false, false, true},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        enum auth_role r = want[i].role;
        assert_int_equal(auth_role_can(r, AUTH_PERM_READ), want[i].read);
        assert_int_equal(auth_role_can(r, AUTH_PERM_ACT), want[i].act);
        assert_int_equal(auth_role_can(r, AUTH_PERM_ADMIN), want[i].admin);
        assert_int_equal(auth_role_can(r, AUTH_PERM_REPORT), want[i].report);
        assert_int_equal(auth_role_can(r, AUTH_PERM_CHAT), want[i].chat);
        enum auth_role parsed;
        assert_int_equal(auth_role_parse(auth_role_name(r), &parsed), 0);
        assert_int_equal(parsed, r);
    }
    enum auth_role parsed;
    assert_int_equal(auth_role_parse("root", &parsed), HALE_ENOTFOUND);
    assert_string_equal(auth_perm_name(AUTH_PERM_ADMIN), "admin");
}

static void test_auth_create_list_revoke(void **state)
{
    struct fixture *fx = *state;
    char s1[AUTH_SECRET_MAX], s2[AUTH_SECRET_MAX];
    create_ok(fx->path, "ops", AUTH_ROLE_ADMIN, s1);
    create_ok(fx->path, "grafana.ro", AUTH_ROLE_VIEWER, s2);
    assert_string_not_equal(s1, s2);

    struct auth_token_info *t;
    size_t n;
    struct err e = {0};
    assert_int_equal(auth_token_list(fx->path, &t, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].name, "ops");
    assert_int_equal(t[0].role, AUTH_ROLE_ADMIN);
    assert_string_equal(t[1].name, "grafana.ro");
    assert_int_equal(t[1].role, AUTH_ROLE_VIEWER);
    assert_true(t[1].created > 1700000000);
    free(t);

    assert_int_equal(auth_token_revoke(fx->path, "ops", &e), 0);
    assert_int_equal(auth_token_revoke(fx->path, "ops", &e), HALE_ENOTFOUND);
    assert_int_equal(auth_token_list(fx->path, &t, &n, &e), 0);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].name, "grafana.ro");
    free(t);
}

static void test_auth_secret_never_in_file(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    create_ok(fx->path, "ci", AUTH_ROLE_REPORTER, secret);

    /* "hale_" and 43 base64url characters of 32 random bytes. */
    assert_int_equal(strlen(secret), 48);
    assert_memory_equal(secret, "hale_", 5);
    assert_int_equal(strspn(secret + 5, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_"),
                     43);

    char *text = slurp(fx->path);
    assert_null(strstr(text, secret));
    assert_null(strstr(text, secret + 5));
    char hash[HASH_SHA256_HEX_LEN + 1];
    hash_sha256_hex(secret, strlen(secret), hash);
    char *line = xasprintf("\nci reporter %s ", hash);
    assert_non_null(strstr(text, line));
    free(line);
    free(text);

    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_auth_name_taken_or_invalid(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    struct err e = {0};
    create_ok(fx->path, "ops", AUTH_ROLE_ADMIN, secret);
    assert_int_equal(auth_token_create(fx->path, "ops", AUTH_ROLE_VIEWER, secret, &e), HALE_EEXIST);
    assert_string_equal(e.msg, "a token named \"ops\" exists already");
    assert_int_equal(auth_token_create(fx->path, "has space", AUTH_ROLE_VIEWER, secret, &e),
                     HALE_EPARSE);
    assert_int_equal(auth_token_create(fx->path, "", AUTH_ROLE_VIEWER, secret, &e), HALE_EPARSE);
    char long_name[AUTH_NAME_MAX + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    assert_int_equal(auth_token_create(fx->path, long_name, AUTH_ROLE_VIEWER, secret, &e),
                     HALE_EPARSE);
    long_name[AUTH_NAME_MAX] = '\0';
    create_ok(fx->path, long_name, AUTH_ROLE_VIEWER, secret);
}

static void test_auth_missing_file_is_empty(void **state)
{
    struct fixture *fx = *state;
    struct auth_token_info *t = (void *)1;
    size_t n = 99;
    struct err e = {0};
    assert_int_equal(auth_token_list(fx->path, &t, &n, &e), 0);
    assert_int_equal(n, 0);
    assert_null(t);

    struct auth_store *s;
    assert_int_equal(auth_store_new(fx->path, &s, &e), 0);
    assert_int_equal(auth_store_count(s), 0);
    struct auth_token_info info;
    assert_int_equal(auth_store_verify(s, "hale_anything", &info, NULL), HALE_EAUTH);
    auth_store_free(s);
}

static void test_auth_store_verifies_hash(void **state)
{
    struct fixture *fx = *state;
    char admin[AUTH_SECRET_MAX], viewer[AUTH_SECRET_MAX];
    create_ok(fx->path, "ops", AUTH_ROLE_ADMIN, admin);
    create_ok(fx->path, "dash", AUTH_ROLE_VIEWER, viewer);

    struct auth_store *s;
    struct err e = {0};
    assert_int_equal(auth_store_new(fx->path, &s, &e), 0);
    assert_int_equal(auth_store_count(s), 2);
    struct auth_token_info info;
    assert_int_equal(auth_store_verify(s, viewer, &info, NULL), 0);
    assert_string_equal(info.name, "dash");
    assert_int_equal(info.role, AUTH_ROLE_VIEWER);
    assert_int_equal(auth_store_verify(s, admin, &info, NULL), 0);
    assert_string_equal(info.name, "ops");

    admin[10] ^= 1;
    assert_int_equal(auth_store_verify(s, admin, &info, NULL), HALE_EAUTH);
    assert_int_equal(auth_store_verify(s, "", &info, NULL), HALE_EAUTH);
    assert_int_equal(auth_store_verify(s, NULL, &info, NULL), HALE_EAUTH);
    char huge[4096];
    memset(huge, 'x', sizeof(huge) - 1);
    huge[sizeof(huge) - 1] = '\0';
    assert_int_equal(auth_store_verify(s, huge, &info, NULL), HALE_EAUTH);

    /* The hash of a secret is not itself a secret. */
    char hash[HASH_SHA256_HEX_LEN + 1];
    hash_sha256_hex(viewer, strlen(viewer), hash);
    assert_int_equal(auth_store_verify(s, hash, &info, NULL), HALE_EAUTH);
    auth_store_free(s);
}

static void test_auth_store_rereads_after_change(void **state)
{
    struct fixture *fx = *state;
    char s1[AUTH_SECRET_MAX], s2[AUTH_SECRET_MAX];
    create_ok(fx->path, "first", AUTH_ROLE_VIEWER, s1);

    struct auth_store *s;
    struct err e = {0};
    assert_int_equal(auth_store_new(fx->path, &s, &e), 0);
    struct clock clock;
    clock_manual_init(&clock, 1000, 0);
    auth__store_set_clock(s, &clock);

    struct auth_token_info info;
    /* A revocation is seen at the next look at the file, within a second. */
    assert_int_equal(auth_token_revoke(fx->path, "first", &e), 0);
    clock.manual_mono_ms += 999;
    assert_int_equal(auth_store_verify(s, s1, &info, NULL), 0);
    clock.manual_mono_ms += 1;
    assert_int_equal(auth_store_verify(s, s1, &info, NULL), HALE_EAUTH);

    /* A token created a moment ago works at once: a miss looks again. */
    create_ok(fx->path, "second", AUTH_ROLE_RESPONDER, s2);
    assert_int_equal(auth_store_verify(s, s2, &info, NULL), 0);
    assert_string_equal(info.name, "second");
    assert_int_equal(info.role, AUTH_ROLE_RESPONDER);

    /* A file broken by hand refuses everything (fails closed) ... */
    char *text = slurp(fx->path);
    char *broken = xasprintf("%sgarbage\n", text);
    spit(fx->path, broken);
    clock.manual_mono_ms += 1000;
    e = (struct err){0};
    assert_int_equal(auth_store_verify(s, s2, &info, &e), HALE_EINTERNAL);
    char *want = xasprintf("%s:4: expected 4 fields (NAME ROLE SHA256 CREATED), found 1", fx->path);
    assert_string_equal(e.msg, want);
    free(want);
    assert_int_equal(auth_store_count(s), 0);
    /* ... until it is fixed. */
    spit(fx->path, text);
    clock.manual_mono_ms += 1000;
    assert_int_equal(auth_store_verify(s, s2, &info, NULL), 0);

    /* A removed file means no tokens. */
    assert_int_equal(unlink(fx->path), 0);
    clock.manual_mono_ms += 1000;
    assert_int_equal(auth_store_verify(s, s2, &info, NULL), HALE_EAUTH);
    free(broken);
    free(text);
    auth_store_free(s);
}

/* What the store's change listener heard, as "+name:role -name:role ..." per call. */
struct heard {
    char text[512];
    char path[256];
    int calls;
};

static void on_change(const struct auth_change *v, size_t n, const char *path, void *data)
{
    struct heard *h = data;
    h->calls++;
    snprintf(h->path, sizeof(h->path), "%s", path);
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(h->text);
        snprintf(h->text + len, sizeof(h->text) - len, "%s%c%s:%s", len ? " " : "",
                 v[i].added ? '+' : '-', v[i].info.name, auth_role_name(v[i].info.role));
    }
}

static void test_auth_changes_by_name_role_and_secret(void **state)
{
    (void)state;
    struct auth_entry old[3] = {
            {.info = {.name = "kept", .role = AUTH_ROLE_VIEWER}, .hash = "aa"},
            {.info = {.name = "gone", .role = AUTH_ROLE_ADMIN}, .hash = "bb"},
            {.info = {.name = "promoted", .role = AUTH_ROLE_VIEWER}, .hash = "cc"},
    };
    struct auth_entry now[4] = {
            {.info = {.name = "new", .role = AUTH_ROLE_REPORTER}, .hash = "dd"},
            {.info = {.name = "kept", .role = AUTH_ROLE_VIEWER}, .hash = "aa"},
            {.info = {.name = "promoted", .role = AUTH_ROLE_ADMIN}, .hash = "cc"},
            {.info = {.name = "gone", .role = AUTH_ROLE_ADMIN}, .hash = "ee"}, /* a new secret */
    };
    struct auth_change *v;
    size_t n;
    auth__changes(old, 3, now, 4, &v, &n);
    assert_int_equal(n, 5);
    const struct {
        bool added;
        const char *name;
    } want[] = {{false, "gone"},
                {false, "promoted"},
                {true, "new"},
                {true, "promoted"},
                {true, "gone"}};
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(v[i].added, want[i].added);
        assert_string_equal(v[i].info.name, want[i].name);
    }
    free(v);
    auth__changes(old, 3, old, 3, &v, &n);
    assert_int_equal(n, 0);
    assert_null(v);
}

static void test_auth_store_tells_what_changed(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    create_ok(fx->path, "first", AUTH_ROLE_VIEWER, secret);
    struct auth_store *s;
    struct err e = {0};
    assert_int_equal(auth_store_new(fx->path, &s, &e), 0);
    struct clock clock;
    clock_manual_init(&clock, 1000, 0);
    auth__store_set_clock(s, &clock);
    struct heard h = {0};
    auth_store_on_change(s, on_change, &h);

    /* Nothing changed: nothing heard, however often it looks. */
    clock.manual_mono_ms += 1000;
    auth_store_refresh(s);
    assert_int_equal(h.calls, 0);

    create_ok(fx->path, "second", AUTH_ROLE_RESPONDER, secret);
    assert_int_equal(auth_token_revoke(fx->path, "first", &e), 0);
    clock.manual_mono_ms += 1000;
    auth_store_refresh(s);
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.text, "-first:viewer +second:responder");
    assert_string_equal(h.path, fx->path);
    assert_null(strstr(h.text, secret));

    /* A broken version is no version: fixed, it is told against the last good one. */
    char *text = slurp(fx->path);
    char *broken = xasprintf("%sgarbage\n", text);
    spit(fx->path, broken);
    clock.manual_mono_ms += 1000;
    auth_store_refresh(s);
    assert_int_equal(h.calls, 1);
    spit(fx->path, text);
    clock.manual_mono_ms += 1000;
    auth_store_refresh(s);
    assert_int_equal(h.calls, 1);
    free(broken);
    free(text);

    /* The file gone: every token revoked. */
    h.text[0] = '\0';
    assert_int_equal(unlink(fx->path), 0);
    clock.manual_mono_ms += 1000;
    auth_store_refresh(s);
    assert_int_equal(h.calls, 2);
    assert_string_equal(h.text, "-second:responder");
    auth_store_free(s);
}

static void test_auth_rewrite_keeps_owner_and_mode(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    create_ok(fx->path, "first", AUTH_ROLE_VIEWER, secret);
    struct stat st;
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* a new file */

    /* A daemon running as another user reads the file through its group. */
    assert_int_equal(chmod(fx->path, 0640), 0);
    uid_t uid = geteuid() == 0 ? 65534 : geteuid();
    gid_t gid = geteuid() == 0 ? 65534 : getegid();
    if (geteuid() == 0)
        assert_int_equal(chown(fx->path, uid, gid), 0);
    create_ok(fx->path, "second", AUTH_ROLE_ADMIN, secret);
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(st.st_uid, uid);
    assert_int_equal(st.st_gid, gid);

    struct err e = {0};
    assert_int_equal(auth_token_revoke(fx->path, "first", &e), 0);
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    assert_int_equal(st.st_uid, uid);

    /* Write permission for others is not carried over. */
    assert_int_equal(chmod(fx->path, 0666), 0);
    create_ok(fx->path, "third", AUTH_ROLE_VIEWER, secret);
    assert_int_equal(stat(fx->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_auth_store_refuses_writable_file(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    create_ok(fx->path, "first", AUTH_ROLE_VIEWER, secret);
    char *want =
            xasprintf("tokens file %s is writable by group or others (mode 0666): run chmod 600 %s",
                      fx->path, fx->path);
    assert_int_equal(chmod(fx->path, 0666), 0);
    struct auth_store *s;
    struct err e = {0};
    assert_int_equal(auth_store_new(fx->path, &s, &e), -EPERM);
    assert_string_equal(e.msg, want);
    free(want);

    assert_int_equal(chmod(fx->path, 0640), 0); /* readable by the group is fine */
    assert_int_equal(auth_store_new(fx->path, &s, &e), 0);
    struct clock clock;
    clock_manual_init(&clock, 1000, 0);
    auth__store_set_clock(s, &clock);
    struct auth_token_info info;
    assert_int_equal(auth_store_verify(s, secret, &info, NULL), 0);

    /* A running store fails closed ... */
    assert_int_equal(chmod(fx->path, 0620), 0);
    clock.manual_mono_ms += 1000;
    e = (struct err){0};
    assert_int_equal(auth_store_verify(s, secret, &info, &e), HALE_EINTERNAL);
    want = xasprintf("tokens file %s is writable by group or others (mode 0620): run chmod 600 %s",
                     fx->path, fx->path);
    assert_string_equal(e.msg, want);
    free(want);
    /* ... until the mode is fixed. */
    assert_int_equal(chmod(fx->path, 0600), 0);
    clock.manual_mono_ms += 1000;
    assert_int_equal(auth_store_verify(s, secret, &info, NULL), 0);
    auth_store_free(s);
}

static void test_auth_store_retries_after_transient_error(void **state)
{
    struct fixture *fx = *state;
    char s1[AUTH_SECRET_MAX], s2[AUTH_SECRET_MAX];
    create_ok(fx->path, "first", AUTH_ROLE_VIEWER, s1);
    struct auth_store *s;
    struct err e = {0};
    assert_int_equal(auth_store_new(fx->path, &s, &e), 0);
    struct clock clock;
    clock_manual_init(&clock, 1000, 0);
    auth__store_set_clock(s, &clock);
    create_ok(fx->path, "second", AUTH_ROLE_VIEWER, s2);

    /* The file changed, and the store's next read finds no descriptor left (EMFILE). */
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    struct rlimit low = {64, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fds[64], n = 0;
    while (n < 64 && (fds[n] = dup(0)) >= 0)
        n++;
    struct auth_token_info info;
    e = (struct err){0};
    int r = auth_store_verify(s, s2, &info, &e);
    while (n > 0)
        close(fds[--n]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
    assert_int_equal(r, HALE_EINTERNAL);
    assert_non_null(strstr(e.msg, "Too many open files"));

    /* Within the second, nothing is read again, even for a miss ... */
    clock.manual_mono_ms += 999;
    assert_int_equal(auth_store_verify(s, s2, &info, NULL), HALE_EINTERNAL);
    /* ... then the same version of the file is read again, and it is fine. */
    clock.manual_mono_ms += 1;
    assert_int_equal(auth_store_verify(s, s2, &info, NULL), 0);
    assert_string_equal(info.name, "second");
    assert_int_equal(auth_store_verify(s, s1, &info, NULL), 0);
    auth_store_free(s);
}

static void expect_parse_error(const char *path, const char *text, const char *want_suffix)
{
    spit(path, text);
    struct auth_token_info *t;
    size_t n;
    struct err e = {0};
    assert_int_equal(auth_token_list(path, &t, &n, &e), HALE_EPARSE);
    char *want = xasprintf("%s:%s", path, want_suffix);
    assert_string_equal(e.msg, want);
    free(want);
    struct auth_store *s;
    assert_int_equal(auth_store_new(path, &s, &e), HALE_EPARSE);
}

static void test_auth_malformed_line_reported(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    create_ok(fx->path, "ok", AUTH_ROLE_VIEWER, secret); /* creates the directory */
    static const char hash[] = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    char *text;

    text = xasprintf("# comment\n\nops admin %s 1700000000\nbad line\n", hash);
    expect_parse_error(fx->path, text, "4: expected 4 fields (NAME ROLE SHA256 CREATED), found 2");
    free(text);
    text = xasprintf("ops root %s 1700000000\n", hash);
    expect_parse_error(fx->path, text,
                       "1: unknown role \"root\" (roles: viewer, responder, admin, reporter, "
                       "requester)");
    free(text);
    expect_parse_error(fx->path, "ops admin 1234 1700000000\n",
                       "1: the hash must be 64 lowercase hex digits (a SHA-256)");
    text = xasprintf("ops admin %s yesterday\n", hash);
    expect_parse_error(fx->path, text, "1: the creation time must be Unix seconds");
    free(text);
    text = xasprintf("ops admin %s 1\n  # indented comment\nops viewer %s 2\n", hash, hash);
    expect_parse_error(fx->path, text, "3: token \"ops\" is already defined on line 1");
    free(text);
    text = xasprintf("o/ps admin %s 1\n", hash);
    expect_parse_error(fx->path, text,
                       "1: token name \"o/ps\" is not 1-63 characters of A-Z a-z 0-9 . _ -");
    free(text);

    /* A writer refuses to rewrite a malformed file rather than lose lines. */
    struct err e = {0};
    assert_int_equal(auth_token_create(fx->path, "new", AUTH_ROLE_VIEWER, secret, &e), HALE_EPARSE);
    assert_non_null(strstr(e.msg, "refusing to rewrite a malformed tokens file: "));
}

static void test_auth_comments_kept_on_rewrite(void **state)
{
    struct fixture *fx = *state;
    char secret[AUTH_SECRET_MAX];
    create_ok(fx->path, "a", AUTH_ROLE_VIEWER, secret);
    char *text = slurp(fx->path);
    assert_memory_equal(text, "# hale API tokens", 17);
    char *edited = xasprintf("%s# the b token is for grafana\n", text);
    spit(fx->path, edited);
    create_ok(fx->path, "b", AUTH_ROLE_VIEWER, secret);
    struct err e = {0};
    assert_int_equal(auth_token_revoke(fx->path, "a", &e), 0);
    char *after = slurp(fx->path);
    assert_non_null(strstr(after, "# NAME ROLE SHA256-OF-SECRET CREATED-UNIX-SECONDS\n"));
    assert_non_null(strstr(after, "\n# the b token is for grafana\nb viewer "));
    assert_null(strstr(after, "\na viewer "));
    free(after);
    free(edited);
    free(text);
}

#define WRITERS    6
#define PER_WRITER 8

static void test_auth_concurrent_creates_lose_nothing(void **state)
{
    struct fixture *fx = *state;
    pid_t pids[WRITERS];
    for (int w = 0; w < WRITERS; w++) {
        pids[w] = fork();
        assert_true(pids[w] >= 0);
        if (pids[w] == 0) {
            int bad = 0;
            for (int i = 0; i < PER_WRITER; i++) {
                char name[32], secret[AUTH_SECRET_MAX];
                snprintf(name, sizeof(name), "w%d-%d", w, i);
                struct err e = {0};
                if (auth_token_create(fx->path, name, AUTH_ROLE_VIEWER, secret, &e) != 0)
                    bad++;
            }
            _exit(bad);
        }
    }
    for (int w = 0; w < WRITERS; w++) {
        int status;
        assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    struct auth_token_info *t;
    size_t n;
    struct err e = {0};
    assert_int_equal(auth_token_list(fx->path, &t, &n, &e), 0);
    assert_int_equal(n, WRITERS * PER_WRITER);
    for (int w = 0; w < WRITERS; w++) {
        for (int i = 0; i < PER_WRITER; i++) {
            char name[32];
            snprintf(name, sizeof(name), "w%d-%d", w, i);
            size_t k = 0;
            while (k < n && strcmp(t[k].name, name) != 0)
                k++;
            if (k == n)
                fail_msg("token %s was lost", name);
        }
    }
    free(t);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)

int main(void)
{
    umask(077); /* files written by the tests are the owner's, as the daemon wants */
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_auth_role_permissions_matrix),
            TEST(test_auth_create_list_revoke),
            TEST(test_auth_secret_never_in_file),
            TEST(test_auth_name_taken_or_invalid),
            TEST(test_auth_missing_file_is_empty),
            TEST(test_auth_store_verifies_hash),
            TEST(test_auth_store_rereads_after_change),
            cmocka_unit_test(test_auth_changes_by_name_role_and_secret),
            TEST(test_auth_store_tells_what_changed),
            TEST(test_auth_rewrite_keeps_owner_and_mode),
            TEST(test_auth_store_refuses_writable_file),
            TEST(test_auth_store_retries_after_transient_error),
            TEST(test_auth_malformed_line_reported),
            TEST(test_auth_comments_kept_on_rewrite),
            TEST(test_auth_concurrent_creates_lose_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
