/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/proc/: real children on a real loop. Output capture and
 * caps, exit codes and signals, programs that cannot start, timeouts that
 * must take a whole process group down (and leave nothing behind), a
 * grandchild that keeps the pipes open, and environment values that must
 * arrive as data.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/err.h"
#include "proc/proc.h"
#include "testutil.h"

/* ---- helpers ---- */

struct outcome {
    bool done;
    int calls;
    struct proc_result res;
    char *out, *err;
};

static void on_done(struct proc *p, const struct proc_result *res, void *data)
{
    (void)p;
    struct outcome *oc = data;
    oc->calls++;
    oc->done = true;
    oc->res = *res;
    oc->out = xstrndup(res->out, res->out_len);
    oc->err = xstrndup(res->err, res->err_len);
    oc->res.out = oc->res.err = NULL;
}

static void outcome_fini(struct outcome *oc)
{
    free(oc->out);
    free(oc->err);
}

static void guard_fired(uv_timer_t *t)
{
    (void)t;
    fail_msg("the child was not reported within the test's guard time");
}

static void guard_closed(uv_handle_t *h)
{
    (void)h;
}

/* Runs uv until oc is done (failing after 30 s), then until every handle closed. */
static void run_until_done(uv_loop_t *uv, struct outcome *oc)
{
    uv_timer_t guard;
    uv_timer_init(uv, &guard);
    uv_timer_start(&guard, guard_fired, 30000, 0);
    while (!oc->done)
        uv_run(uv, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, guard_closed);
    uv_run(uv, UV_RUN_DEFAULT);
    assert_int_equal(oc->calls, 1);
}

static void loop_fini(uv_loop_t *uv)
{
    uv_run(uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(uv), 0); /* no handle left open */
}

/* Spawns argv with o (argv filled in) and runs it to its end. */
static void run(uv_loop_t *uv, struct proc_options *o, struct outcome *oc)
{
    struct err e = {0};
    memset(oc, 0, sizeof(*oc));
    int r = proc_spawn(uv, o, on_done, oc, NULL, &e);
    if (r < 0)
        fail_msg("proc_spawn: %s", e.msg);
    run_until_done(uv, oc);
}

/*
 * Independent of proc_group_is_alive(): a process of group pgid that is not
 * a zombie, found by reading every /proc/PID/stat.
 */
static bool group_has_live_member(pid_t pgid)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    bool found = false;
    struct dirent *de;
    while ((de = readdir(d))) {
        char path[300], buf[1024];
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *close = strrchr(buf, ')');
        char state;
        int ppid, pgrp;
        if (close && sscanf(close + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 && pgrp == pgid &&
            state != 'Z' && state != 'X')
            found = true;
    }
    closedir(d);
    return found;
}

/* ---- tests ---- */

static void test_proc_captures_output_and_exit_code(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    const char *argv[] = {"/bin/sh", "-c", "printf 'hello\\nworld'; printf oops >&2; exit 3", NULL};
    struct proc_options o = {.argv = argv};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.exit_status, 3);
    assert_int_equal(oc.res.term_signal, 0);
    assert_string_equal(oc.out, "hello\nworld");
    assert_string_equal(oc.err, "oops");
    assert_false(oc.res.out_truncated);
    assert_false(oc.res.timed_out);
    assert_false(oc.res.pipes_cut);
    assert_true(oc.res.pid > 0);
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_caps_output_and_drains_the_rest(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    /* 4 MB on each stream: far more than a pipe holds, so a child left unread would block. */
    const char *argv[] = {"/bin/sh", "-c",
                          "head -c 4000000 /dev/zero | tr '\\0' a; "
                          "head -c 4000000 /dev/zero | tr '\\0' b >&2; echo end >&2",
                          NULL};
    struct proc_options o = {.argv = argv, .stdout_max = 1000, .stderr_max = 10};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.exit_status, 0);
    assert_int_equal(oc.res.out_len, 1000);
    assert_true(oc.res.out_truncated);
    assert_int_equal(strspn(oc.out, "a"), 1000);
    assert_string_equal(oc.err, "bbbbbbbbbb");
    assert_true(oc.res.err_truncated);
    assert_false(oc.res.timed_out);
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_reports_the_terminating_signal(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    const char *argv[] = {"/bin/sh", "-c", "echo before; kill -KILL $$", NULL};
    struct proc_options o = {.argv = argv};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.term_signal, SIGKILL);
    assert_string_equal(oc.out, "before\n");
    assert_false(oc.res.timed_out);
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_refuses_missing_and_unexecutable_programs(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    struct outcome oc = {0};
    struct err e = {0};

    const char *missing[] = {"/nonexistent/hale-no-such-program", "x", NULL};
    struct proc_options o = {.argv = missing};
    assert_int_equal(proc_spawn(&uv, &o, on_done, &oc, NULL, &e), -ENOENT);
    assert_non_null(strstr(e.msg, "hale-no-such-program"));

    const char *in_path[] = {"hale-no-such-program-in-path", NULL};
    o.argv = in_path;
    assert_int_equal(proc_spawn(&uv, &o, on_done, &oc, NULL, &e), -ENOENT);

    char dir[] = "/tmp/hale-test-proc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = xasprintf("%s/not-executable", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\necho no\n", f);
    fclose(f);
    chmod(path, 0644);
    const char *noexec[] = {path, NULL};
    o.argv = noexec;
    int r = proc_spawn(&uv, &o, on_done, &oc, NULL, &e);
    assert_int_equal(r, -EACCES); /* root too needs an execute bit to exec */
    assert_non_null(strstr(e.msg, "not-executable"));

    loop_fini(&uv); /* the failed spawns closed their handles */
    assert_int_equal(oc.calls, 0);
    free(path);
    testutil_rm_rf(dir);
}

static void test_proc_timeout_kills_the_whole_group(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    const char *argv[] = {"/bin/sh", "-c", "sleep 60 & sleep 60 & wait", NULL};
    struct proc_options o = {.argv = argv, .timeout_ms = 300, .kill_grace_ms = 1000};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_true(oc.res.timed_out);
    assert_int_equal(oc.res.term_signal, SIGTERM);
    assert_false(oc.res.orphans_left);
    assert_false(group_has_live_member(oc.res.pid));
    assert_false(proc_group_is_alive(oc.res.pid));
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_kills_after_grace_when_term_is_ignored(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    const char *argv[] = {"/bin/sh", "-c", "trap '' TERM; sleep 60 & sleep 60; wait", NULL};
    struct proc_options o = {.argv = argv, .timeout_ms = 200, .kill_grace_ms = 300};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_true(oc.res.timed_out);
    assert_int_equal(oc.res.term_signal, SIGKILL);
    assert_false(oc.res.orphans_left);
    assert_false(group_has_live_member(oc.res.pid));
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_grandchild_holding_stdout_does_not_hang(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    /* The shell exits at once; its background sleep keeps stdout and stderr open. */
    const char *argv[] = {"/bin/sh", "-c", "sleep 60 & echo hi", NULL};
    struct proc_options o = {.argv = argv};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.exit_status, 0);
    assert_int_equal(oc.res.term_signal, 0);
    assert_string_equal(oc.out, "hi\n");
    assert_true(oc.res.pipes_cut);
    assert_true(oc.res.leftovers_killed);
    assert_false(oc.res.timed_out);
    assert_false(group_has_live_member(oc.res.pid));
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_environment_and_cwd_are_data(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    char dir[] = "/tmp/hale-test-proc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *marker = xasprintf("%s/x", dir);
    char *value = xasprintf("$(touch %s); rm -rf y `touch %s` \"'", marker, marker);
    setenv("HALE_TEST_INHERITED", "kept", 1);
    setenv("HALE_TEST_VALUE", "replaced", 1);
    struct proc_env_var env[] = {{"HALE_TEST_VALUE", value}, {"HALE_TEST_OTHER", "2"}};
    const char *argv[] = {"/usr/bin/env", NULL};
    struct proc_options o = {.argv = argv, .env = env, .n_env = 2, .cwd = dir};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.exit_status, 0);
    char *line = xasprintf("\nHALE_TEST_VALUE=%s\n", value);
    assert_non_null(strstr(oc.out, line));
    assert_null(strstr(oc.out, "HALE_TEST_VALUE=replaced"));
    assert_non_null(strstr(oc.out, "\nHALE_TEST_INHERITED=kept\n"));
    assert_non_null(strstr(oc.out, "\nHALE_TEST_OTHER=2\n"));
    outcome_fini(&oc);

    const char *argv_pwd[] = {"/bin/pwd", "-P", NULL};
    struct proc_options o2 = {.argv = argv_pwd, .cwd = dir};
    run(&uv, &o2, &oc);
    char *want = xasprintf("%s\n", dir);
    assert_string_equal(oc.out, want);
    outcome_fini(&oc);

    struct stat st;
    assert_int_equal(stat(marker, &st), -1); /* nothing ran the value */
    unsetenv("HALE_TEST_INHERITED");
    unsetenv("HALE_TEST_VALUE");
    free(want);
    free(line);
    free(value);
    free(marker);
    testutil_rm_rf(dir);
    loop_fini(&uv);
}

static void test_proc_feeds_stdin(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    const char *argv[] = {"/bin/cat", NULL};
    struct proc_options o = {.argv = argv, .stdin_data = "line one\nline two\n", .stdin_len = 18};
    struct outcome oc;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.exit_status, 0);
    assert_string_equal(oc.out, "line one\nline two\n");
    outcome_fini(&oc);

    /* Empty input: cat sees EOF at once. */
    o.stdin_data = "";
    o.stdin_len = 0;
    run(&uv, &o, &oc);
    assert_int_equal(oc.res.exit_status, 0);
    assert_string_equal(oc.out, "");
    outcome_fini(&oc);
    loop_fini(&uv);
}

struct cancel_ctx {
    struct proc *p;
};

static void cancel_now(uv_timer_t *t)
{
    struct cancel_ctx *c = t->data;
    proc_cancel(c->p);
    proc_cancel(c->p); /* idempotent */
    uv_close((uv_handle_t *)t, guard_closed);
}

static void test_proc_cancel_kills_the_group(void **state)
{
    (void)state;
    uv_loop_t uv;
    uv_loop_init(&uv);
    const char *argv[] = {"/bin/sh", "-c", "sleep 60 & sleep 60", NULL};
    struct proc_options o = {.argv = argv};
    struct outcome oc = {0};
    struct cancel_ctx c;
    struct err e = {0};
    assert_int_equal(proc_spawn(&uv, &o, on_done, &oc, &c.p, &e), 0);
    uv_timer_t t;
    uv_timer_init(&uv, &t);
    t.data = &c;
    uv_timer_start(&t, cancel_now, 200, 0);
    run_until_done(&uv, &oc);
    assert_true(oc.res.canceled);
    assert_false(oc.res.timed_out);
    assert_int_equal(oc.res.term_signal, SIGTERM);
    assert_false(group_has_live_member(oc.res.pid));
    outcome_fini(&oc);
    loop_fini(&uv);
}

static void test_proc_stat_parses_names_with_parens(void **state)
{
    (void)state;
    const char line[] = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 17 5 0 0 20 0 1 0 "
                        "123456 10000000 250 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1";
    struct proc_stat st;
    assert_int_equal(proc_stat_parse(line, strlen(line), &st), 0);
    assert_string_equal(st.comm, "a) b (c)");
    assert_int_equal(st.state, 'S');
    assert_int_equal(st.ppid, 1);
    assert_int_equal(st.pgrp, 4242);
    assert_int_equal(st.utime, 17);
    assert_int_equal(st.stime, 5);
    assert_int_equal(st.starttime, 123456);
    assert_int_equal(st.rss_pages, 250);
    assert_int_equal(proc_stat_parse("12 (x S 1", 9, &st), HALE_EPARSE);
    assert_int_equal(proc_stat_parse("12 (x) S 1 2", 12, &st), HALE_EPARSE);

    assert_int_equal(proc_stat_read(getpid(), &st), 0);
    assert_int_equal(st.ppid, getppid());
    assert_int_equal(proc_stat_read(0x7ffffff0, &st), -ENOENT);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_proc_captures_output_and_exit_code),
            cmocka_unit_test(test_proc_caps_output_and_drains_the_rest),
            cmocka_unit_test(test_proc_reports_the_terminating_signal),
            cmocka_unit_test(test_proc_refuses_missing_and_unexecutable_programs),
            cmocka_unit_test(test_proc_timeout_kills_the_whole_group),
            cmocka_unit_test(test_proc_kills_after_grace_when_term_is_ignored),
            cmocka_unit_test(test_proc_grandchild_holding_stdout_does_not_hang),
            cmocka_unit_test(test_proc_environment_and_cwd_are_data),
            cmocka_unit_test(test_proc_feeds_stdin),
            cmocka_unit_test(test_proc_cancel_kills_the_group),
            cmocka_unit_test(test_proc_stat_parses_names_with_parens),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
