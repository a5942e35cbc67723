/* SPDX-License-Identifier: MIT */
/*
 * Tests of the command and systemd check kinds on a real loop: the real
 * Monitoring Plugins run unchanged (check_dummy, check_tcp against a port
 * the test opens and one it closed, check_disk, check_procs), a plugin that
 * overruns its timeout is killed with its whole group, and the parser of
 * `systemctl show` reads the upstream examples of the shared fixture
 * systemd-systemctl-health-check-examples.txt.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "base/alloc.h"
#include "checks/checks.h"
#include "checks/internal.h"
#include "config/config.h"
#include "testutil.h"

#define PLUGINS "/usr/lib/nagios/plugins/"

/* ---- helpers ---- */

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

static void guard_fired(uv_timer_t *t)
{
    (void)t;
    fail_msg("the run did not finish within the test's guard time");
}

static void nothing_closed(uv_handle_t *h)
{
    (void)h;
}

static struct config *load(const char *yaml)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    int r = config_load_buffer("test.yaml", yaml, strlen(yaml), &c, &d);
    if (r < 0) {
        config_diags_print(&d, stderr);
        fail_msg("config does not load");
    }
    config_diags_fini(&d);
    return c;
}

/* Runs the first check of yaml once on a fresh loop; returns its observation. */
static void run_yaml(const char *yaml, const char *data_dir, struct check_observation *ret)
{
    uv_loop_t uv;
    uv_loop_init(&uv);
    struct config *c = load(yaml);
    struct check_host host = {.uv = &uv, .cfg = &c->checks[0], .data_dir = data_dir};
    struct outcome oc = {0};
    uv_timer_t guard;
    uv_timer_init(&uv, &guard);
    uv_timer_start(&guard, guard_fired, 30000, 0);
    assert_int_equal(check_run_start(&host, on_run_done, &oc), 0);
    while (!oc.done)
        uv_run(&uv, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&guard, nothing_closed);
    uv_run(&uv, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&uv), 0); /* the kind closed every handle */
    config_unref(c);
    assert_non_null(oc.obs.summary);
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

/* Whether a running (not zombie) process has text in its command line. */
static bool process_with_cmdline(const char *text)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d))) {
        char path[300], buf[4096], st[512];
        snprintf(path, sizeof(path), "/proc/%s/cmdline", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (!buf[i])
                buf[i] = ' ';
        buf[n] = '\0';
        if (!strstr(buf, text))
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        n = fread(st, 1, sizeof(st) - 1, f);
        fclose(f);
        st[n] = '\0';
        char *close = strrchr(st, ')');
        if (close && close[1] == ' ' && close[2] != 'Z')
            found = true;
    }
    closedir(d);
    return found;
}

/* ---- the command kind ---- */

static void test_check_command_dummy_statuses(void **state)
{
    (void)state;
    static const char *const want[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
    for (int i = 0; i <= 3; i++) {
        char *yaml = xasprintf("checks:\n"
                               "  - name: dummy\n"
                               "    type: command\n"
                               "    run: [" PLUGINS "check_dummy, \"%d\", \"some text %d\"]\n",
                               i, i);
        struct check_observation o;
        run_yaml(yaml, NULL, &o);
        assert_int_equal(o.status, i);
        char *summary = xasprintf("%s: some text %d", want[i], i);
        assert_string_equal(o.summary, summary);
        assert_true(o.duration_us > 0);
        free(summary);
        free(yaml);
        check_observation_fini(&o);
    }
}

static void test_check_command_tcp_open_and_closed_ports(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 16), 0);
    socklen_t sl = sizeof(sa);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
    unsigned port = ntohs(sa.sin_port);

    char *yaml = xasprintf("checks:\n"
                           "  - name: tcp\n"
                           "    type: command\n"
                           "    run: [" PLUGINS "check_tcp, -H, 127.0.0.1, -p, \"%u\"]\n",
                           port);
    struct check_observation o;
    run_yaml(yaml, NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_non_null(strstr(o.summary, "TCP OK"));
    assert_string_equal(sample(&o, "time")->unit, "s");
    check_observation_fini(&o);

    close(fd); /* now nothing listens there */
    run_yaml(yaml, NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(o.summary, "refused"));
    check_observation_fini(&o);
    free(yaml);
}

static void test_check_command_disk_and_procs(void **state)
{
    (void)state;
    struct check_observation o;
    /* Critical below 100% free: always, on a disk holding this test. */
    run_yaml("checks:\n"
             "  - name: disk\n"
             "    type: command\n"
             "    run: [" PLUGINS "check_disk, -w, 99%, -c, 100%, -p, /]\n",
             NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(o.summary, "DISK CRITICAL"));
    const struct check_sample *s = sample(&o, "/");
    assert_true(s->value > 0);
    assert_true(s->has_max);
    check_observation_fini(&o);

    run_yaml("checks:\n"
             "  - name: procs\n"
             "    type: command\n"
             "    run: [" PLUGINS "check_procs]\n",
             NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_true(sample(&o, "procs")->value >= 1);
    check_observation_fini(&o);

    run_yaml("checks:\n"
             "  - name: procs\n"
             "    type: command\n"
             "    run: [" PLUGINS "check_procs, -c, \"0:0\"]\n",
             NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    check_observation_fini(&o);
}

static void test_check_command_stderr_when_stdout_is_empty(void **state)
{
    (void)state;
    struct check_observation o;
    run_yaml("checks:\n"
             "  - name: err\n"
             "    type: command\n"
             "    run: [/bin/sh, -c, \"echo broken pipe somewhere >&2; exit 2\"]\n",
             NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_string_equal(o.summary, "broken pipe somewhere");
    check_observation_fini(&o);

    run_yaml("checks:\n"
             "  - name: both\n"
             "    type: command\n"
             "    run: [/bin/sh, -c, \"echo noise >&2; echo fine; exit 0\"]\n",
             NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_string_equal(o.summary, "fine");
    check_observation_fini(&o);
}

static void test_check_command_missing_program_is_unknown(void **state)
{
    (void)state;
    struct check_observation o;
    run_yaml("checks:\n"
             "  - name: missing\n"
             "    type: command\n"
             "    run: [/nonexistent/check_nothing, -v]\n",
             NULL, &o);
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_non_null(strstr(o.summary, "/nonexistent/check_nothing"));
    check_observation_fini(&o);
}

static void test_check_command_runs_in_the_data_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/hale-test-command-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct check_observation o;
    run_yaml("checks:\n"
             "  - name: pwd\n"
             "    type: command\n"
             "    run: [/bin/pwd, -P]\n",
             dir, &o);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_string_equal(o.summary, dir);
    check_observation_fini(&o);
    testutil_rm_rf(dir);
}

static void test_check_command_timeout_kills_the_group(void **state)
{
    (void)state;
    struct check_observation o;
    /* A duration of this process's own: another test run may hang sleeps too. */
    char sleep[64];
    snprintf(sleep, sizeof(sleep), "sleep 61.%06d", (int)getpid() % 1000000);
    char *yaml = xasprintf("checks:\n"
                           "  - name: hang\n"
                           "    type: command\n"
                           "    timeout: 500ms\n"
                           "    run: [/bin/sh, -c, \"%s & %s & wait\"]\n",
                           sleep, sleep);
    run_yaml(yaml, NULL, &o);
    free(yaml);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_string_equal(o.summary, "timed out after 500ms");
    assert_false(process_with_cmdline(sleep));
    check_observation_fini(&o);
}

/* ---- the systemd kind ---- */

static char *fixture_read(const char *name, size_t *ret_len)
{
    char *path = xasprintf("%s/%s", HALE_FIXTURES_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open fixture %s", path);
    char *buf = xmalloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    free(path);
    *ret_len = n;
    return buf;
}

/* The KEY=VALUE lines of the fixture section whose "### " title starts with title. */
static char *fixture_section(const char *text, const char *title)
{
    char *head = xasprintf("### %s", title);
    const char *s = strstr(text, head);
    free(head);
    if (!s)
        fail_msg("no section \"%s\" in the fixture", title);
    s = strchr(s, '\n') + 1;
    const char *e = s;
    while (*e && e[0] != '#')
        e = strchr(e, '\n') ? strchr(e, '\n') + 1 : e + strlen(e);
    return xstrndup(s, (size_t)(e - s));
}

static enum check_status judge(const char *lines, char *summary, size_t size,
                               struct check__systemd_unit *ret_u)
{
    assert_int_equal(check__systemd_parse(lines, strlen(lines), ret_u), 0);
    return check__systemd_judge("example.service", ret_u, summary, size);
}

static void test_check_systemd_parses_the_upstream_examples(void **state)
{
    (void)state;
    size_t len;
    char *text = fixture_read("systemd-systemctl-health-check-examples.txt", &len);
    struct check__systemd_unit u;
    char summary[256];

    char *sec = fixture_section(text, "loaded active running");
    assert_int_equal(judge(sec, summary, sizeof(summary), &u), CHECK_STATUS_OK);
    assert_string_equal(u.load_state, "loaded");
    assert_string_equal(u.sub_state, "running");
    assert_true(u.has_restarts);
    assert_int_equal(u.restarts, 1);
    assert_true(u.has_main_pid);
    assert_int_equal(u.main_pid, 9999);
    assert_string_equal(summary, "example.service is active (running), restarted 1 times");
    free(sec);

    sec = fixture_section(text, "loaded active exited");
    assert_int_equal(judge(sec, summary, sizeof(summary), &u), CHECK_STATUS_OK);
    assert_string_equal(summary, "example.service is active (exited)");
    free(sec);

    sec = fixture_section(text, "loaded failed failed");
    assert_int_equal(judge(sec, summary, sizeof(summary), &u), CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(summary, "failed (failed)"));
    free(sec);

    sec = fixture_section(text, "not-found inactive dead");
    assert_int_equal(judge(sec, summary, sizeof(summary), &u), CHECK_STATUS_CRITICAL);
    assert_false(u.has_restarts); /* "[not set]" */
    assert_false(u.has_main_pid);
    assert_non_null(strstr(summary, "not found"));
    assert_non_null(strstr(summary, "LoadState=not-found"));
    free(sec);
    free(text);
}

static void test_check_systemd_judges_states(void **state)
{
    (void)state;
    struct check__systemd_unit u;
    char summary[256];
    assert_int_equal(judge("LoadState=loaded\nActiveState=activating\nSubState=start-pre\n",
                           summary, sizeof(summary), &u),
                     CHECK_STATUS_WARNING);
    assert_string_equal(summary, "example.service is activating (start-pre)");
    assert_int_equal(judge("LoadState=loaded\r\nActiveState=reloading\r\nSubState=reload\r\n",
                           summary, sizeof(summary), &u),
                     CHECK_STATUS_WARNING);
    assert_string_equal(u.active_state, "reloading");
    assert_int_equal(judge("ActiveState=inactive\nLoadState=loaded\nSubState=dead\nResult="
                           "success\nNRestarts=0\nMainPID=0\n",
                           summary, sizeof(summary), &u),
                     CHECK_STATUS_CRITICAL);
    assert_string_equal(summary, "example.service is inactive (dead)");
    assert_int_equal(judge("LoadState=loaded\nActiveState=failed\nSubState=failed\nResult="
                           "exit-code\nNRestarts=[not set]\n",
                           summary, sizeof(summary), &u),
                     CHECK_STATUS_CRITICAL);
    assert_string_equal(summary, "example.service is failed (failed), result exit-code");
    assert_int_equal(judge("LoadState=masked\nActiveState=inactive\nSubState=dead\n", summary,
                           sizeof(summary), &u),
                     CHECK_STATUS_CRITICAL);
    assert_non_null(strstr(summary, "LoadState=masked"));
    /* A state this code does not know is not taken for running. */
    assert_int_equal(
            judge("LoadState=loaded\nActiveState=sleeping-beauty\n", summary, sizeof(summary), &u),
            CHECK_STATUS_CRITICAL);

    assert_int_equal(check__systemd_parse("", 0, &u), HALE_EPARSE);
    const char *no_active = "LoadState=loaded\nSubState=running\n";
    assert_int_equal(check__systemd_parse(no_active, strlen(no_active), &u), HALE_EPARSE);
    const char *weird = "garbage line\n=\nLoadState=loaded\nActiveState=active\nNRestarts="
                        "99999999999999999999999\nMainPID=infinity";
    assert_int_equal(check__systemd_parse(weird, strlen(weird), &u), 0);
    assert_false(u.has_restarts);
    assert_false(u.has_main_pid);
}

static void test_check_systemd_without_systemd_is_unknown(void **state)
{
    (void)state;
    struct check_observation o;
    run_yaml("checks:\n"
             "  - name: unit\n"
             "    type: systemd\n"
             "    unit: hale-test-no-such.service\n",
             NULL, &o);
    if (access("/run/systemd/system", F_OK) < 0) {
        assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
        assert_non_null(strstr(o.summary, "systemd is not running"));
        assert_non_null(strstr(o.summary, "hale-test-no-such.service"));
    } else {
        /* A host run by systemd: the unit does not exist. */
        assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
        assert_non_null(strstr(o.summary, "not found"));
    }
    check_observation_fini(&o);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_check_command_dummy_statuses),
            cmocka_unit_test(test_check_command_tcp_open_and_closed_ports),
            cmocka_unit_test(test_check_command_disk_and_procs),
            cmocka_unit_test(test_check_command_stderr_when_stdout_is_empty),
            cmocka_unit_test(test_check_command_missing_program_is_unknown),
            cmocka_unit_test(test_check_command_runs_in_the_data_dir),
            cmocka_unit_test(test_check_command_timeout_kills_the_group),
            cmocka_unit_test(test_check_systemd_parses_the_upstream_examples),
            cmocka_unit_test(test_check_systemd_judges_states),
            cmocka_unit_test(test_check_systemd_without_systemd_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
