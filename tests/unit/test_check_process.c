/* SPDX-License-Identifier: MIT */
/*
 * Tests of the process check kind against real processes on a real loop:
 * a sleep found by its command line, by its name and through a pidfile;
 * count bounds and memory thresholds; and the pidfd watch, which must ask
 * for a run as soon as a watched process is killed, so that the next
 * observation is critical without waiting for the interval.
 */
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
#include "base/clock.h"
#include "checks/checks.h"
#include "checks/internal.h"
#include "config/config.h"
#include "proc/proc.h"
#include "testutil.h"

/* ---- helpers ---- */

struct child {
    struct proc *p;
    pid_t pid;
    bool done;
};

static void child_done(struct proc *p, const struct proc_result *res, void *data)
{
    (void)p;
    (void)res;
    struct child *c = data;
    c->done = true;
    c->p = NULL;
}

/* Starts argv as a child that runs until killed. */
static void child_start(uv_loop_t *uv, struct child *c, const char *const *argv)
{
    struct err e = {0};
    memset(c, 0, sizeof(*c));
    if (proc_spawn(uv, &(struct proc_options){.argv = argv}, child_done, c, &c->p, &e) < 0)
        fail_msg("%s", e.msg);
    c->pid = proc_pid(c->p);
    /* Right after exec a process may have no resident page yet: wait for its first. */
    for (int i = 0; i < 500; i++) {
        struct proc_stat st;
        if (proc_stat_read(c->pid, &st) < 0 || st.rss_pages > 0)
            return;
        usleep(10000);
    }
}

static void guard_fired(uv_timer_t *t)
{
    (void)t;
    fail_msg("nothing happened within the test's guard time");
}

static void nothing_closed(uv_handle_t *h)
{
    (void)h;
}

struct fixture {
    uv_loop_t uv;
    uv_timer_t guard;
    struct config *config;
    struct check_host host;
    char dir[64];
    char marker[64]; /* a sleep duration no other process uses: "987.<pid>" */
};

static struct config *load(const char *yaml)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    if (config_load_buffer("test.yaml", yaml, strlen(yaml), &c, &d) < 0) {
        config_diags_print(&d, stderr);
        fail_msg("config does not load");
    }
    config_diags_fini(&d);
    return c;
}

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    uv_loop_init(&f->uv);
    uv_timer_init(&f->uv, &f->guard);
    uv_timer_start(&f->guard, guard_fired, 60000, 0);
    snprintf(f->dir, sizeof(f->dir), "/tmp/hale-test-process-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->marker, sizeof(f->marker), "987.%d", (int)getpid());
}

/* Loads yaml (its first check) and attaches the process kind to it. */
static void fixture_check(struct fixture *f, const char *yaml)
{
    f->config = load(yaml);
    f->host = (struct check_host){.uv = &f->uv, .cfg = &f->config->checks[0]};
    struct err e = {0};
    assert_int_equal(check_kind_find(CONFIG_CHECK_PROCESS)->attach(&f->host, &e), 0);
}

static void fixture_uncheck(struct fixture *f)
{
    check_kind_find(CONFIG_CHECK_PROCESS)->detach(&f->host);
    config_unref(f->config);
    f->config = NULL;
}

static void fixture_fini(struct fixture *f)
{
    uv_close((uv_handle_t *)&f->guard, nothing_closed);
    uv_run(&f->uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->uv), 0);
    testutil_rm_rf(f->dir);
}

struct outcome {
    bool done;
    struct check_observation obs;
};

static void on_run_done(struct check_run *run, void *data)
{
    struct outcome *oc = data;
    oc->obs = run->obs;
    memset(&run->obs, 0, sizeof(run->obs));
    oc->done = true;
}

static void run_once(struct fixture *f, struct check_observation *ret)
{
    struct outcome oc = {0};
    assert_int_equal(check_run_start(&f->host, on_run_done, &oc), 0);
    while (!oc.done)
        uv_run(&f->uv, UV_RUN_ONCE);
    *ret = oc.obs;
}

static const struct check_sample *sample(const struct check_observation *o, const char *label)
{
    for (size_t i = 0; i < o->n_samples; i++)
        if (strcmp(o->samples[i].label, label) == 0)
            return &o->samples[i];
    fail_msg("no sample \"%s\" in \"%s\"", label, o->summary);
    return NULL;
}

static void children_stop(struct fixture *f, struct child *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c[i].p)
            proc_cancel(c[i].p);
    for (size_t i = 0; i < n; i++)
        while (!c[i].done)
            uv_run(&f->uv, UV_RUN_ONCE);
}

/* ---- tests ---- */

struct watch_ctx {
    struct fixture *f;
    int run_now_calls;
    uint64_t run_now_ns;
    struct outcome next;
    bool started;
};

static void watch_run_now(struct check_host *host)
{
    struct watch_ctx *w = host->runner_data;
    w->run_now_calls++;
    if (w->started)
        return; /* a run is under way: the runner would not overlap them */
    w->run_now_ns = clock_mono_ns();
    w->started = true;
    assert_int_equal(check_run_start(host, on_run_done, &w->next), 0);
}

static void test_check_process_watch_sees_a_kill_at_once(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    char *yaml = xasprintf("checks:\n"
                           "  - name: sleeper\n"
                           "    type: process\n"
                           "    every: 1h\n"
                           "    match: '^/bin/sleep %s$'\n",
                           f.marker);
    fixture_check(&f, yaml);
    struct watch_ctx w = {.f = &f};
    f.host.run_now = watch_run_now;
    f.host.runner_data = &w;

    struct child c;
    const char *argv[] = {"/bin/sleep", f.marker, NULL};
    child_start(&f.uv, &c, argv);

    struct check_observation o;
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_int_equal(sample(&o, "count")->value, 1);
    assert_true(sample(&o, "rss")->value > 0);
    check_observation_fini(&o);
    assert_int_equal(w.run_now_calls, 0);

    run_once(&f, &o); /* a second reading, which brings the cpu sample */
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_true(sample(&o, "cpu")->value >= 0);
    check_observation_fini(&o);

    uint64_t killed_ns = clock_mono_ns();
    assert_int_equal(kill(c.pid, SIGKILL), 0);
    while (!w.next.done)
        uv_run(&f.uv, UV_RUN_ONCE);
    assert_true(w.run_now_calls >= 1);
    assert_int_equal(w.next.obs.status, CHECK_STATUS_CRITICAL);
    assert_int_equal(sample(&w.next.obs, "count")->value, 0);
    printf("# process death seen by the pidfd watch after %.3f ms\n",
           (double)(w.run_now_ns - killed_ns) / 1e6);
    check_observation_fini(&w.next.obs);

    children_stop(&f, &c, 1);
    fixture_uncheck(&f);
    free(yaml);
    fixture_fini(&f);
}

static void test_check_process_pidfile(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    char *pidfile = xasprintf("%s/sleeper.pid", f.dir);
    char *yaml = xasprintf("checks:\n"
                           "  - name: sleeper\n"
                           "    type: process\n"
                           "    pidfile: %s\n",
                           pidfile);
    fixture_check(&f, yaml);
    struct check_observation o;

    /* No pidfile yet. */
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(o.summary, "No such file"));
    assert_int_equal(sample(&o, "count")->value, 0);
    check_observation_fini(&o);

    struct child c;
    const char *argv[] = {"/bin/sleep", f.marker, NULL};
    child_start(&f.uv, &c, argv);
    FILE *pf = fopen(pidfile, "w");
    assert_non_null(pf);
    fprintf(pf, "%d\n", (int)c.pid);
    fclose(pf);
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_int_equal(sample(&o, "count")->value, 1);
    check_observation_fini(&o);

    /* The process is gone, its pidfile stays. */
    children_stop(&f, &c, 1);
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(o.summary, "is not running"));
    check_observation_fini(&o);

    pf = fopen(pidfile, "w");
    assert_non_null(pf);
    fputs("not a pid\n", pf);
    fclose(pf);
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(o.summary, "holds no process id"));
    check_observation_fini(&o);

    fixture_uncheck(&f);
    free(yaml);
    free(pidfile);
    fixture_fini(&f);
}

static void test_check_process_name(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    /* A copy of sleep under a name of its own, so no other process shares it. */
    char name[16];
    snprintf(name, sizeof(name), "hz%d", (int)getpid() % 1000000);
    char *path = xasprintf("%s/%s", f.dir, name);
    const char *cp[] = {"/bin/cp", "/bin/sleep", path, NULL};
    struct child c;
    child_start(&f.uv, &c, cp);
    while (!c.done)
        uv_run(&f.uv, UV_RUN_ONCE);

    char *yaml = xasprintf("checks:\n"
                           "  - name: sleeper\n"
                           "    type: process\n"
                           "    process_name: %s\n",
                           name);
    fixture_check(&f, yaml);
    struct check_observation o;
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(o.summary, "want at least 1"));
    check_observation_fini(&o);

    const char *argv[] = {path, "600", NULL};
    child_start(&f.uv, &c, argv);
    run_once(&f, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_int_equal(sample(&o, "count")->value, 1);
    assert_non_null(strstr(o.summary, name));
    check_observation_fini(&o);

    children_stop(&f, &c, 1);
    fixture_uncheck(&f);
    free(yaml);
    free(path);
    fixture_fini(&f);
}

static void test_check_process_count_bounds_and_memory(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f);
    struct child c[3];
    const char *argv[] = {"/bin/sleep", f.marker, NULL};
    for (size_t i = 0; i < 3; i++)
        child_start(&f.uv, &c[i], argv);
    struct check_observation o;
    static const struct {
        const char *bounds;
        enum check_status status;
        const char *says;
    } cases[] = {
            {"min_count: 1\n    max_count: 2", CHECK_STATUS_CRITICAL, "want at most 2"},
            {"min_count: 4", CHECK_STATUS_CRITICAL, "want at least 4"},
            {"min_count: 3\n    max_count: 3", CHECK_STATUS_OK, "3 processes"},
            {"rss_warn: 1KiB", CHECK_STATUS_WARNING, "rss too high"},
            {"rss_warn: 1KiB\n    rss_crit: 2KiB", CHECK_STATUS_CRITICAL, "rss too high"},
            {"rss_warn: 1TiB", CHECK_STATUS_OK, "3 processes"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *yaml = xasprintf("checks:\n"
                               "  - name: sleepers\n"
                               "    type: process\n"
                               "    match: '^/bin/sleep %s$'\n"
                               "    %s\n",
                               f.marker, cases[i].bounds);
        fixture_check(&f, yaml);
        run_once(&f, &o);
        if (o.status != cases[i].status || !strstr(o.summary, cases[i].says))
            fail_msg("case %zu: status %d \"%s\"", i, o.status, o.summary);
        assert_int_equal(sample(&o, "count")->value, 3);
        check_observation_fini(&o);
        fixture_uncheck(&f);
        free(yaml);
    }
    children_stop(&f, c, 3);
    fixture_fini(&f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_check_process_watch_sees_a_kill_at_once),
            cmocka_unit_test(test_check_process_pidfile),
            cmocka_unit_test(test_check_process_name),
            cmocka_unit_test(test_check_process_count_bounds_and_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
