/* SPDX-License-Identifier: MIT */
/* Unit tests of src/base: buffers, errors, arena, hashing, logging, sd_notify. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/alloc.h"
#include "base/arena.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/hash.h"
#include "base/idindex.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "base/strbuf.h"

static void test_strbuf_grows_and_stays_terminated(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(strbuf_addf(&b, "%d,", i), 0);
    assert_int_equal(b.len, strlen(b.s));
    assert_memory_equal(b.s, "0,1,2,", 6);
    assert_string_equal(b.s + b.len - 4, "999,");
    strbuf_fini(&b);
}

/* What jansson writes for s, a JSON string; the reference the hand-written one must equal. */
static char *jansson_text(const char *s)
{
    json_t *v = json_string(s);
    assert_non_null(v);
    char *text = json_dumps(v, JSON_ENCODE_ANY);
    json_decref(v);
    return text;
}

static void test_strbuf_json_string_as_jansson_writes_it(void **state)
{
    (void)state;
    const char *cases[] = {
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "\b\f\n\r\t and \x01\x1f\x7f",
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5",
            "\"\"\\\\\n",
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct strbuf b;
        strbuf_init(&b, 0);
        strbuf_adds(&b, "x");
        assert_int_equal(strbuf_add_json_string(&b, cases[k]), 0);
        char *want = jansson_text(cases[k]);
        assert_string_equal(b.s + 1, want);
        free(want);
        strbuf_fini(&b);
    }
    /* Every byte below 0x80 alone. */
    for (int c = 1; c < 0x80; c++) {
        char s[2] = {(char)c, '\0'};
        struct strbuf b;
        strbuf_init(&b, 0);
        assert_int_equal(strbuf_add_json_string(&b, s), 0);
        char *want = jansson_text(s);
        assert_string_equal(b.s, want);
        free(want);
        strbuf_fini(&b);
    }
}

/* Text from anywhere becomes inert HTML and well-formed XML; its length is taken as given. */
static void test_strbuf_html_escapes_and_drops_controls(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 0);
    const char in[] = "<a href=\"x\">Tom & 'Jerry'</a>\x01\tok\n\0hidden";
    assert_int_equal(strbuf_add_html(&b, in, sizeof(in) - 1), 0);
    assert_memory_equal(
            b.s, "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; \tok\n hidden",
            b.len);
    assert_int_equal(b.len,
                     strlen("&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt; "
                            "\tok\n hidden"));
    strbuf_fini(&b);
}

/* Ids found at their positions through growth, moves and deletions in any order. */
static void test_idindex_follows_puts_and_deletions(void **state)
{
    (void)state;
    struct idindex x = {0};
    enum {
        N = 5000
    };
    for (size_t k = 0; k < N; k++)
        idindex_put(&x, (int64_t)(k * 13 + 1), k);
    for (size_t k = 0; k < N; k += 3)
        idindex_del(&x, (int64_t)(k * 13 + 1));
    idindex_put(&x, 14, 77); /* moved */
    idindex_del(&x, 999999); /* never there */
    assert_int_equal(x.n, N - (N + 2) / 3);
    for (size_t k = 0; k < N; k++) {
        size_t pos = SIZE_MAX;
        bool there = idindex_get(&x, (int64_t)(k * 13 + 1), &pos);
        assert_int_equal(there, k % 3 != 0);
        if (there)
            assert_int_equal(pos, k == 1 ? 77 : k);
    }
    idindex_fini(&x);
    assert_false(idindex_get(&x, 14, NULL));
}

static void test_strbuf_json_string_refuses_what_is_not_utf8(void **state)
{
    (void)state;
    const char *bad[] = {"\xff", "ok \xc3", "\xc0\xaf", "\xed\xa0\x80", "a\"b\xf5\x80\x80\x80"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        struct strbuf b;
        strbuf_init(&b, 0);
        strbuf_adds(&b, "kept");
        assert_int_equal(strbuf_add_json_string(&b, bad[k]), HALE_EPARSE);
        assert_string_equal(b.s, "kept"); /* as it was */
        assert_int_equal(b.len, 4);
        strbuf_fini(&b);
    }
    /* Past the cap: nothing of it either. */
    struct strbuf b;
    strbuf_init(&b, 6);
    assert_int_equal(strbuf_add_json_string(&b, "a\nbc"), HALE_ELIMIT); /* 7 bytes written */
    assert_int_equal(b.len, 0);
    strbuf_fini(&b);
}

static void test_strbuf_refuses_past_its_cap(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 8);
    assert_int_equal(strbuf_adds(&b, "12345"), 0);
    assert_int_equal(strbuf_adds(&b, "6789"), HALE_ELIMIT);
    assert_string_equal(b.s, "12345"); /* nothing partial was appended */
    assert_int_equal(strbuf_addf(&b, "%s", "abcdef"), HALE_ELIMIT);
    assert_string_equal(b.s, "12345");
    assert_int_equal(strbuf_adds(&b, "678"), 0);
    assert_int_equal(b.len, 8);
    size_t len;
    char *s = strbuf_detach(&b, &len);
    assert_int_equal(len, 8);
    assert_string_equal(s, "12345678");
    free(s);
    strbuf_fini(&b);
}

static void test_err_carries_code_and_context(void **state)
{
    (void)state;
    struct err e = {0};
    assert_false(err_is_set(&e));
    assert_int_equal(err_setf(&e, -ENOENT, "open %s", "/x"), -ENOENT);
    assert_int_equal(err_prefixf(&e, "tokens file"), -ENOENT);
    assert_string_equal(e.msg, "tokens file: open /x");
    assert_true(err_is_set(&e));
    assert_int_equal(err_setf(NULL, HALE_ELIMIT, "ignored"), HALE_ELIMIT);
    assert_string_equal(hale_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(hale_strerror(HALE_ECONFIG), "invalid configuration");
}

static void test_err_prefix_truncates_without_overflow(void **state)
{
    (void)state;
    struct err e = {0};
    char big[2 * ERR_MSG_MAX];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    err_setf(&e, HALE_EPARSE, "%s", big);
    err_prefixf(&e, "%s", big);
    assert_int_equal(strlen(e.msg), ERR_MSG_MAX - 1);
}

static int destroyed;
static void count_destroy(void *p)
{
    destroyed += *(int *)p;
}

static void test_arena_allocates_zeroed_aligned_and_runs_destructors(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    for (int i = 0; i < 5000; i++) {
        char *p = arena_alloc(&a, (size_t)(i % 37) + 1);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        assert_int_equal(p[0], 0);
        p[0] = 'x';
    }
    void *big = arena_alloc(&a, 100000);
    assert_non_null(big);
    assert_string_equal(arena_strdup(&a, "hale"), "hale");
    assert_string_equal(arena_strndup(&a, "hale", 2), "ha");
    int *v = arena_alloc(&a, sizeof(int));
    *v = 7;
    destroyed = 0;
    arena_defer(&a, count_destroy, v);
    arena_fini(&a);
    assert_int_equal(destroyed, 7);
}

static void test_arena_packs_text_and_keeps_objects_aligned(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    /* Text takes its length and NUL, no padding: a config holds thousands of short names. */
    char *first = arena_strdup(&a, "c-1");
    char *second = arena_strndup(&a, "web-01", 3);
    assert_ptr_equal(second, first + 4);
    assert_string_equal(first, "c-1");
    assert_string_equal(second, "web");
    /* Text across many chunks stays whole, and objects between it stay aligned and zeroed. */
    for (int i = 0; i < 5000; i++) {
        char name[40];
        snprintf(name, sizeof(name), "check-%d-%.*s", i, i % 17, "abcdefghijklmnopq");
        assert_string_equal(arena_strdup(&a, name), name);
        long double *d = arena_alloc(&a, sizeof(*d) * 3);
        assert_int_equal((uintptr_t)d % _Alignof(max_align_t), 0);
        assert_true(d[0] == 0 && d[2] == 0);
        d[2] = 1;
    }
    arena_fini(&a);
}

static void test_hash_sha256_matches_known_vectors(void **state)
{
    (void)state;
    char hex[HASH_SHA256_HEX_LEN + 1];
    hash_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    hash_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* Every byte of every length counts, and so do the boundaries between texts. */
static void test_hash_add_tells_texts_apart(void **state)
{
    (void)state;
    const uint64_t seed = 42;
    assert_int_not_equal(hash_add_str(hash_add_str(seed, "ab"), "c"),
                         hash_add_str(hash_add_str(seed, "a"), "bc"));
    assert_int_not_equal(hash_add_str(seed, NULL), hash_add_str(seed, ""));
    assert_int_equal(hash_add_str(seed, "same"), hash_add(seed, "same", 4));
    char text[40];
    for (size_t len = 0; len <= 24; len++) {
        for (size_t i = 0; i < len; i++)
            text[i] = (char)('a' + i);
        uint64_t h = hash_finish(hash_add(seed, text, len));
        assert_int_equal(h, hash_finish(hash_add(seed, text, len)));
        /* one byte more, even a NUL, is another text */
        text[len] = '\0';
        assert_int_not_equal(h, hash_finish(hash_add(seed, text, len + 1)));
        for (size_t i = 0; i < len; i++) {
            text[i] ^= 1;
            assert_int_not_equal(h, hash_finish(hash_add(seed, text, len)));
            text[i] ^= 1;
        }
    }
}

static void test_hash_random_and_secret_compare(void **state)
{
    (void)state;
    unsigned char a[32] = {0}, b[32] = {0};
    assert_int_equal(hash_random_bytes(a, sizeof(a)), 0);
    assert_int_equal(hash_random_bytes(b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_true(hash_equal_secret("hale_abc", "hale_abc"));
    assert_false(hash_equal_secret("hale_abc", "hale_abd"));
    assert_false(hash_equal_secret("hale_abc", "hale_ab"));
}

static void test_clock_manual_moves_only_when_told(void **state)
{
    (void)state;
    struct clock c;
    clock_manual_init(&c, 1000, 1700000000000ull);
    assert_int_equal(clock_mono_ms(&c), 1000);
    c.manual_mono_ms += 250;
    assert_int_equal(clock_mono_ms(&c), 1250);
    assert_int_equal(clock_real_ms(&c), 1700000000000ull);
    assert_true(clock_mono_ms(&clock_system) > 0);
}

static void test_clock_formats_rfc3339(void **state)
{
    (void)state;
    char buf[CLOCK_RFC3339_MAX];
    assert_int_equal(clock_format_rfc3339(1795273165, buf), 0);
    assert_string_equal(buf, "2026-11-21T14:59:25Z");
    assert_int_equal(clock_format_rfc3339(0, buf), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(clock_format_rfc3339_ms(1795273165042ull, buf), 0);
    assert_string_equal(buf, "2026-11-21T14:59:25.042Z");
    assert_int_equal(clock_format_rfc3339(INT64_MAX, buf), -EOVERFLOW);
    assert_string_equal(buf, "-");
}

/* Runs fn with stderr redirected into a buffer; returns what was written. */
static char *capture_stderr(void (*fn)(void))
{
    char path[] = "/tmp/hale-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t size = lseek(fd, 0, SEEK_END);
    char *out = xcalloc(1, (size_t)size + 1);
    assert_int_equal(pread(fd, out, (size_t)size, 0), size);
    close(fd);
    return out;
}

static void log_some_lines(void)
{
    log_init(LOG_LEVEL_INFO);
    log_warn("sched", "check=db1", "timeout after %d ms", 5000);
    log_info("api", NULL, "said \"hi\"\nthen left");
    log_debug("api", NULL, "not shown at info");
}

static void test_log_writes_logfmt_lines(void **state)
{
    (void)state;
    unsetenv("JOURNAL_STREAM");
    char *out = capture_stderr(log_some_lines);
    assert_string_equal(out, "level=warn mod=sched check=db1 msg=\"timeout after 5000 ms\"\n"
                             "level=info mod=api msg=\"said \\\"hi\\\"\\nthen left\"\n");
    free(out);
}

static void log_with_journal(void)
{
    struct stat st;
    fstat(STDERR_FILENO, &st);
    char js[64];
    snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    log_init(LOG_LEVEL_INFO);
    log_error("serve", NULL, "bind failed");
    log_info("serve", NULL, "ready");
    unsetenv("JOURNAL_STREAM");
    log_init(LOG_LEVEL_INFO);
}

static void test_log_prefixes_priority_for_journald(void **state)
{
    (void)state;
    char *out = capture_stderr(log_with_journal);
    assert_string_equal(out, "<3>level=error mod=serve msg=\"bind failed\"\n"
                             "<6>level=info mod=serve msg=\"ready\"\n");
    free(out);
}

static void log_a_storm(void)
{
    log_init(LOG_LEVEL_INFO);
    for (int i = 0; i < 500; i++)
        log_warn("engine", NULL, "storm %d", i);
}

static void test_log_rate_limits_a_storm(void **state)
{
    (void)state;
    char *out = capture_stderr(log_a_storm);
    size_t lines = 0;
    for (char *p = out; *p; p++)
        lines += *p == '\n';
    /* 500 lines in (at most) a couple of seconds: bounded, not 500. */
    assert_true(lines >= 20);
    assert_true(lines <= 61);
    free(out);
}

static void *log_level_reader(void *arg)
{
    unsigned *seen = arg;
    for (int i = 0; i < 100000; i++)
        *seen += log_is_enabled(LOG_LEVEL_DEBUG);
    return NULL;
}

/* HTTP threads ask for the level while a reload sets it (run under TSan to see a race). */
static void test_log_level_set_while_read(void **state)
{
    (void)state;
    pthread_t t;
    unsigned seen = 0;
    assert_int_equal(pthread_create(&t, NULL, log_level_reader, &seen), 0);
    for (int i = 0; i < 100000; i++)
        log_set_level(i % 2 ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
    pthread_join(t, NULL);
    log_set_level(LOG_LEVEL_DEBUG);
    assert_true(log_is_enabled(LOG_LEVEL_DEBUG));
    log_set_level(LOG_LEVEL_WARN);
    assert_false(log_is_enabled(LOG_LEVEL_INFO));
    assert_true(log_is_enabled(LOG_LEVEL_ERROR));
    assert_true(seen <= 100000);
}

static void test_log_level_parse(void **state)
{
    (void)state;
    enum log_level l;
    assert_int_equal(log_level_parse("debug", &l), 0);
    assert_int_equal(l, LOG_LEVEL_DEBUG);
    assert_int_equal(log_level_parse("loud", &l), HALE_EPARSE);
}

/* Binds a datagram socket at name (path, or abstract when it starts with '@'). */
static int bind_notify_socket(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    memcpy(addr.sun_path, name, len);
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    assert_int_equal(bind(fd, (struct sockaddr *)&addr,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                     0);
    return fd;
}

static void expect_datagram(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_string_equal(buf, want);
}

static void test_sdnotify_reaches_path_and_abstract_sockets(void **state)
{
    (void)state;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/hale-test-notify-%d", (int)getpid());
    unlink(path);
    int fd = bind_notify_socket(path);
    setenv("NOTIFY_SOCKET", path, 1);
    assert_int_equal(sdnotify_send("READY=1"), 0);
    expect_datagram(fd, "READY=1");
    close(fd);
    unlink(path);

    char abstract[64];
    snprintf(abstract, sizeof(abstract), "@hale-test-notify-%d", (int)getpid());
    fd = bind_notify_socket(abstract);
    setenv("NOTIFY_SOCKET", abstract, 1);
    assert_int_equal(sdnotify_send("STOPPING=1"), 0);
    expect_datagram(fd, "STOPPING=1");
    assert_int_equal(sdnotify_reloading(), 0);
    char buf[128];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_memory_equal(buf, "RELOADING=1\nMONOTONIC_USEC=", 27);
    close(fd);

    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(sdnotify_send("READY=1"), 0); /* not under systemd: a no-op */
}

static void test_sdnotify_watchdog_interval(void **state)
{
    (void)state;
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(sdnotify_watchdog_interval_ms(), 0);
    setenv("WATCHDOG_USEC", "20000000", 1);
    assert_int_equal(sdnotify_watchdog_interval_ms(), 10000);
    setenv("WATCHDOG_PID", "1", 1); /* meant for another process */
    assert_int_equal(sdnotify_watchdog_interval_ms(), 0);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(sdnotify_watchdog_interval_ms(), 10000);
    unsetenv("WATCHDOG_PID");
    unsetenv("WATCHDOG_USEC");
}

static void test_fs_mkdir_p_creates_parents_and_refuses_files(void **state)
{
    (void)state;
    char root[] = "/tmp/hale-test-fs-XXXXXX";
    assert_non_null(mkdtemp(root));
    char deep[256], file[256], under_file[300];
    snprintf(deep, sizeof(deep), "%s/a/b/c", root);
    assert_int_equal(fs_mkdir_p(deep, 0700), 0);
    assert_int_equal(fs_mkdir_p(deep, 0700), 0); /* already there: fine */
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(file, sizeof(file), "%s/f", root);
    close(open(file, O_CREAT | O_WRONLY, 0600));
    assert_int_equal(fs_mkdir_p(file, 0700), -ENOTDIR);
    snprintf(under_file, sizeof(under_file), "%s/x", file);
    assert_int_equal(fs_mkdir_p(under_file, 0700), -ENOTDIR);
    unlink(file);
    for (int i = 0; i < 3; i++) {
        rmdir(deep);
        *strrchr(deep, '/') = '\0';
    }
    rmdir(root);
}

static void test_clock_parses_rfc3339(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(clock_parse_rfc3339_ms("1970-01-01T00:00:01.250Z", &t), 0);
    assert_int_equal(t, 1250);
    assert_int_equal(clock_parse_rfc3339_ms("1970-01-01T02:00:00+02:00", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(clock_parse_rfc3339_ms("2026-11-21t19:00:00z", &t), 0);
    static const char *const bad[] = {"",   "2026-11-21",           "2026-11-21T19:00:00",
                                      "7d", "2026-13-01T00:00:00Z", "2026-11-21T19:00:00Zjunk",
                                      NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(clock_parse_rfc3339_ms(bad[i], &t), -EINVAL);
    assert_int_equal(clock_parse_rfc3339_ms(NULL, &t), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_strbuf_grows_and_stays_terminated),
            cmocka_unit_test(test_strbuf_refuses_past_its_cap),
            cmocka_unit_test(test_strbuf_json_string_as_jansson_writes_it),
            cmocka_unit_test(test_idindex_follows_puts_and_deletions),
            cmocka_unit_test(test_strbuf_html_escapes_and_drops_controls),
            cmocka_unit_test(test_strbuf_json_string_refuses_what_is_not_utf8),
            cmocka_unit_test(test_err_carries_code_and_context),
            cmocka_unit_test(test_err_prefix_truncates_without_overflow),
            cmocka_unit_test(test_arena_allocates_zeroed_aligned_and_runs_destructors),
            cmocka_unit_test(test_arena_packs_text_and_keeps_objects_aligned),
            cmocka_unit_test(test_hash_add_tells_texts_apart),
            cmocka_unit_test(test_hash_sha256_matches_known_vectors),
            cmocka_unit_test(test_hash_random_and_secret_compare),
            cmocka_unit_test(test_clock_manual_moves_only_when_told),
            cmocka_unit_test(test_clock_formats_rfc3339),
            cmocka_unit_test(test_clock_parses_rfc3339),
            cmocka_unit_test(test_log_writes_logfmt_lines),
            cmocka_unit_test(test_log_prefixes_priority_for_journald),
            cmocka_unit_test(test_log_rate_limits_a_storm),
            cmocka_unit_test(test_log_level_parse),
            cmocka_unit_test(test_log_level_set_while_read),
            cmocka_unit_test(test_sdnotify_reaches_path_and_abstract_sockets),
            cmocka_unit_test(test_sdnotify_watchdog_interval),
            cmocka_unit_test(test_fs_mkdir_p_creates_parents_and_refuses_files),
    };
    return cmocka_run_group_tests_name("base", tests, NULL, NULL);
}
