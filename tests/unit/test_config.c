/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/config/: each bad configuration is written to a file in a
 * fresh temporary directory and loaded, and the test asserts the exact
 * text, line and column of every diagnostic; the good configurations assert
 * the typed values (milliseconds, defaults, resolved paths, compiled
 * matchers and regexes, resolved references). examples/demo.yaml must load.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcre2.h>

#include "base/err.h"
#include "config/config.h"
#include "testutil.h"

/* ---- fixture: each test runs in its own temporary directory ---- */

struct fixture {
    char dir[PATH_MAX];
    char real[PATH_MAX];
    char old_cwd[PATH_MAX];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    const char *tmp = getenv("TMPDIR");
    snprintf(fx->dir, sizeof(fx->dir), "%s/hale-test-config-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!fx->old_cwd[0] && !getcwd(fx->old_cwd, sizeof(fx->old_cwd)))
        return -1;
    if (!mkdtemp(fx->dir) || !realpath(fx->dir, fx->real) || chdir(fx->dir) < 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    int r = chdir(fx->old_cwd);
    testutil_rm_rf(fx->dir);
    free(fx);
    return r;
}

static void write_file(const char *path, const char *text)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        mkdir(dir, 0755); /* one level is all the tests need */
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- assertions on diagnostics ---- */

static char *format_diag(const struct config_diag *d)
{
    char *s = NULL;
    int n = d->line ? asprintf(&s, "%s:%u:%u: %s", d->file, d->line, d->col, d->msg)
                    : asprintf(&s, "%s: %s", d->file, d->msg);
    assert_true(n > 0);
    return s;
}

/* Loads path, expects result want_r and exactly the diagnostics in want (NULL-terminated). */
static void expect_diags(const char *path, int want_r, const char *const *want)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    int r = config_load(path, &c, &d);
    size_t n = 0;
    while (want[n])
        n++;
    bool same = d.n == n;
    for (size_t i = 0; same && i < n; i++) {
        char *got = format_diag(&d.v[i]);
        same = strcmp(got, want[i]) == 0;
        free(got);
    }
    if (!same) {
        for (size_t i = 0; i < d.n; i++) {
            char *got = format_diag(&d.v[i]);
            print_message("got:  %s\n", got);
            free(got);
        }
        for (size_t i = 0; i < n; i++)
            print_message("want: %s\n", want[i]);
    }
    config_diags_fini(&d);
    assert_null(c);
    assert_int_equal(r, want_r);
    assert_true(same);
}

#define EXPECT_ERRORS(yaml, ...)                                                           \
    do {                                                                                   \
        write_file("hale.yaml", yaml);                                                     \
        expect_diags("hale.yaml", HALE_ECONFIG, (const char *const[]){__VA_ARGS__, NULL}); \
    } while (0)

static struct config *load_ok(const char *path)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    int r = config_load(path, &c, &d);
    if (r != 0) {
        for (size_t i = 0; i < d.n; i++) {
            char *got = format_diag(&d.v[i]);
            print_message("unexpected: %s\n", got);
            free(got);
        }
    }
    assert_int_equal(d.n, 0);
    config_diags_fini(&d);
    assert_int_equal(r, 0);
    assert_non_null(c);
    return c;
}

static struct config *load_text_ok(const char *yaml)
{
    write_file("hale.yaml", yaml);
    return load_ok("hale.yaml");
}

/* ---- unknown keys ---- */

static void test_config_unknown_key_suggests_closest(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: http\n"
                  "    url: http://127.0.0.1:8081/health\n"
                  "    timout: 2s\n",
                  "hale.yaml:5:5: unknown key \"timout\" in check \"web\"; did you mean "
                  "\"timeout\"?");
}

static void test_config_unknown_key_lists_valid_keys(void **state)
{
    (void)state;
    EXPECT_ERRORS("teams:\n"
                  "  - name: ops\n"
                  "    pager: yes\n",
                  "hale.yaml:3:5: unknown key \"pager\" in team \"ops\"; valid keys are name, "
                  "description, notify, notify_on, escalation, oncall, users and rate_limit");
}

static void test_config_unknown_top_level_key(void **state)
{
    (void)state;
    EXPECT_ERRORS("chekcs: []\n",
                  "hale.yaml:1:1: unknown key \"chekcs\" at the top level; did you mean "
                  "\"checks\"?");
}

static void test_config_key_of_another_kind_is_unknown(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: db\n"
                  "    type: tcp\n"
                  "    host: 127.0.0.1\n"
                  "    port: 5432\n"
                  "    url: http://127.0.0.1/\n",
                  "hale.yaml:6:5: unknown key \"url\" in check \"db\"; valid keys are name, type, "
                  "description, every, timeout, failures, recoveries, labels, runbook, team, "
                  "category, impact, host, port, send and expect");
}

/* ---- wrong types and values ---- */

static void test_config_bad_duration_points_at_unit(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - { name: web, type: tcp, host: h, port: 80, every: 10x }\n",
                  "hale.yaml:2:57: expected a duration such as 250ms, 10s, 5m or 1h30m, got "
                  "\"10x\"");
}

static void test_config_duration_below_minimum(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 80\n"
                  "    every: 500ms\n",
                  "hale.yaml:6:12: every must be between 1s and 1w, got 500ms");
}

static void test_config_expected_mapping_got_list(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 80\n"
                  "    labels: [service, web]\n",
                  "hale.yaml:6:13: expected a mapping of label names to values, got a list");
}

static void test_config_expected_list_got_mapping(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  name: web\n",
                  "hale.yaml:2:3: expected a list of checks, got a mapping");
}

static void test_config_item_must_be_mapping(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - restart-web\n",
                  "hale.yaml:2:5: expected a runbook as a mapping, got \"restart-web\"");
}

static void test_config_expected_integer(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 80\n"
                  "    failures: many\n",
                  "hale.yaml:6:15: expected an integer, got \"many\"");
}

static void test_config_integer_out_of_range(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 70000\n",
                  "hale.yaml:5:11: port must be between 1 and 65535, got 70000");
}

static void test_config_expected_boolean(void **state)
{
    (void)state;
    EXPECT_ERRORS("routes:\n"
                  "  - match: '{service=\"web\"}'\n"
                  "    continue: yes\n",
                  "hale.yaml:3:15: expected true or false, got \"yes\"");
}

static void test_config_bad_enum_suggests(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: htp\n"
                  "    url: http://127.0.0.1/\n",
                  "hale.yaml:3:11: invalid type \"htp\"; did you mean \"http\"?");
}

static void test_config_bad_enum_lists_values(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    on_failure: explode\n"
                  "    steps:\n"
                  "      - wait: 1s\n",
                  "hale.yaml:3:17: invalid on_failure \"explode\"; expected abort, continue or "
                  "escalate");
}

static void test_config_bad_percentage(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: root\n"
                  "    type: disk\n"
                  "    warn: 80\n",
                  "hale.yaml:4:13: expected a percentage such as 80%, got \"80\"");
}

static void test_config_bad_range(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: load\n"
                  "    type: metric\n"
                  "    series: node_load1\n"
                  "    crit: '20:10'\n",
                  "hale.yaml:5:12: expected a threshold range such as 10, 10:20 or @10:20, got "
                  "\"20:10\": the start of the range is greater than its end");
}

static void test_config_bad_url_scheme(void **state)
{
    (void)state;
    EXPECT_ERRORS("notifiers:\n"
                  "  - name: hook\n"
                  "    type: webhook\n"
                  "    url: ftp://example.com/hook\n",
                  "hale.yaml:4:10: expected a URL starting with http:// or https://, got "
                  "\"ftp://example.com/hook\"");
}

static void test_config_missing_required_key(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: http\n",
                  "hale.yaml:2:5: missing required key \"url\" in check \"web\"");
}

static void test_config_invalid_name(void **state)
{
    (void)state;
    EXPECT_ERRORS("teams:\n"
                  "  - name: web team\n",
                  "hale.yaml:2:11: invalid name \"web team\": use letters, digits, '-', '_' and "
                  "'.', starting with a letter or digit");
}

static void test_config_thresholds_out_of_order(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: root\n"
                  "    type: disk\n"
                  "    warn: 95%\n"
                  "    crit: 90%\n",
                  "hale.yaml:5:11: warn must not be greater than crit");
}

static void test_config_default_timeout_not_longer_than_every(void **state)
{
    (void)state;
    struct config *c = load_text_ok("checks:\n"
                                    "  - { name: fast, type: tcp, host: h, port: 80, every: 5s }\n"
                                    "  - { name: slow, type: tcp, host: h, port: 80, every: 1m }\n"
                                    "  - { name: set, type: tcp, host: h, port: 80, every: 5s, "
                                    "timeout: 2s }\n");
    assert_int_equal(config_check_find(c, "fast")->timeout_ms, 5000);
    assert_int_equal(config_check_find(c, "slow")->timeout_ms, 10000);
    assert_int_equal(config_check_find(c, "set")->timeout_ms, 2000);
    config_unref(c);
}

static void test_config_log_warn_alone_has_no_crit(void **state)
{
    (void)state;
    struct config *c =
            load_text_ok("checks:\n"
                         "  - { name: w, type: log, path: /var/log/x, match: err, warn: 5 }\n"
                         "  - { name: d, type: log, path: /var/log/x, match: err }\n"
                         "  - { name: b, type: log, path: /var/log/x, match: err, warn: 2, "
                         "crit: 4 }\n");
    assert_int_equal(config_check_find(c, "w")->u.log.warn, 5);
    assert_int_equal(config_check_find(c, "w")->u.log.crit, CONFIG_UNSET);
    assert_int_equal(config_check_find(c, "d")->u.log.warn, CONFIG_UNSET);
    assert_int_equal(config_check_find(c, "d")->u.log.crit, 1);
    assert_int_equal(config_check_find(c, "b")->u.log.crit, 4);
    config_unref(c);
}

static void test_config_order_error_names_default(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: root\n"
                  "    type: disk\n"
                  "    path: /\n"
                  "    crit: 70%\n",
                  "hale.yaml:5:11: warn must not be greater than crit (warn is not written and "
                  "defaults to 80%: set it too)");
}

static void test_config_timeout_longer_than_every(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 80\n"
                  "    every: 5s\n"
                  "    timeout: 1m\n",
                  "hale.yaml:7:14: timeout must not be longer than every (5s), got 1m");
}

static void test_config_bad_listen_and_store(void **state)
{
    (void)state;
    EXPECT_ERRORS("server:\n"
                  "  listen: ::1:8080\n"
                  "  store: sqllite\n",
                  "hale.yaml:2:11: expected host:port or [IPv6]:port, such as 127.0.0.1:8080, "
                  "got \"::1:8080\"",
                  "hale.yaml:3:10: invalid store \"sqllite\"; did you mean \"sqlite\"?");
}

/* ---- duplicates ---- */

static void test_config_duplicate_check_name(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - { name: web, type: tcp, host: a, port: 80 }\n"
                  "  - name: db\n"
                  "    type: tcp\n"
                  "    host: b\n"
                  "    port: 5432\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: c\n"
                  "    port: 80\n",
                  "hale.yaml:7:11: duplicate check name \"web\"; first defined at hale.yaml:2:5");
}

static void test_config_duplicate_key_in_mapping(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    every: 10s\n"
                  "    port: 80\n"
                  "    every: 20s\n",
                  "hale.yaml:7:5: duplicate key \"every\" in check \"web\"; first given on line 5");
}

static void test_config_duplicate_name_across_include(void **state)
{
    (void)state;
    write_file("packs/web.yaml", "runbooks:\n"
                                 "  - name: restart-web\n"
                                 "    steps:\n"
                                 "      - run: [systemctl, restart, web]\n");
    EXPECT_ERRORS("include: [packs]\n"
                  "runbooks:\n"
                  "  - name: restart-web\n"
                  "    steps:\n"
                  "      - wait: 1s\n",
                  "packs/web.yaml:2:11: duplicate runbook name \"restart-web\"; first defined at "
                  "hale.yaml:3:5");
}

static void test_config_duplicate_step_name(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - { name: a, wait: 1s }\n"
                  "      - { name: a, wait: 2s }\n",
                  "hale.yaml:5:17: duplicate step name \"a\" in runbook \"fix\"; first defined at "
                  "hale.yaml:4:9");
}

/* ---- references ---- */

static void test_config_undefined_runbook_suggests(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 80\n"
                  "    runbook: restart-wbe\n"
                  "runbooks:\n"
                  "  - name: restart-web\n"
                  "    steps: [{wait: 1s}]\n",
                  "hale.yaml:6:14: undefined runbook \"restart-wbe\" in check \"web\"; did you "
                  "mean \"restart-web\"?");
}

static void test_config_undefined_team_lists_teams(void **state)
{
    (void)state;
    EXPECT_ERRORS("teams:\n"
                  "  - name: ops\n"
                  "  - name: dba\n"
                  "runbooks:\n"
                  "  - name: fix\n"
                  "    team: network\n"
                  "    steps: [{wait: 1s}]\n",
                  "hale.yaml:6:11: undefined team \"network\" in runbook \"fix\"; the teams "
                  "defined are dba and ops");
}

static void test_config_undefined_check_in_verify_step(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - name: prove\n"
                  "        verify: web-health\n",
                  "hale.yaml:5:17: undefined check \"web-health\" in step \"prove\" of runbook "
                  "\"fix\"; no checks are defined");
}

static void test_config_undefined_notifier_in_team(void **state)
{
    (void)state;
    EXPECT_ERRORS("notifiers:\n"
                  "  - { name: web-slack, type: slack, url: \"https://hooks.example/x\" }\n"
                  "teams:\n"
                  "  - name: web\n"
                  "    notify: [web-slack, web-mail]\n",
                  "hale.yaml:5:25: undefined notifier \"web-mail\" in team \"web\"; the "
                  "notifiers defined are web-slack");
}

static void test_config_undefined_service_dependency(void **state)
{
    (void)state;
    EXPECT_ERRORS("services:\n"
                  "  - name: web\n"
                  "    depends_on: { any_of: [db, cache] }\n"
                  "  - name: db\n",
                  "hale.yaml:3:32: undefined service \"cache\" in service \"web\"; the services "
                  "defined are db and web");
}

static void test_config_service_dependency_cycle(void **state)
{
    (void)state;
    EXPECT_ERRORS("services:\n"
                  "  - { name: web, depends_on: [api] }\n"
                  "  - { name: api, depends_on: [db] }\n"
                  "  - { name: db, depends_on: [web] }\n",
                  "hale.yaml:4:5: dependency cycle between services: web -> api -> db -> web");
}

static void test_config_when_must_name_earlier_step(void **state)
{
    (void)state;
    EXPECT_ERRORS(
            "runbooks:\n"
            "  - name: fix\n"
            "    steps:\n"
            "      - { name: notify-ops, notify: restart failed, when: { failed: restart } }\n"
            "      - { name: restart, run: [systemctl, restart, web] }\n",
            "hale.yaml:4:69: when refers to step \"restart\", which is not an earlier step "
            "of this runbook");
}

/* ---- labels, matchers, regexes ---- */

static void test_config_bad_label_name(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 80\n"
                  "    labels: { service: web, 9lives: x }\n",
                  "hale.yaml:6:29: invalid label name \"9lives\": use letters, digits and _, not "
                  "starting with a digit");
}

static void test_config_bad_matcher_points_inside(void **state)
{
    (void)state;
    /* col 12 is the quote; the problem is alertname, at offset 15 of the matcher */
    EXPECT_ERRORS("routes:\n"
                  "  - match: '{service=\"web\" alertname=\"X\"}'\n",
                  "hale.yaml:2:28: invalid matcher: expected ',' or '}'");
}

static void test_config_bad_regex_in_matcher(void **state)
{
    (void)state;
    EXPECT_ERRORS("routes:\n"
                  "  - match: '{alertname=~\"Disk[\"}'\n",
                  "hale.yaml:2:31: invalid regex: missing terminating ] for character class");
}

static void test_config_bad_regex_in_check(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: http\n"
                  "    url: http://127.0.0.1/\n"
                  "    expect: { status: [200, 204], body: \"ok)\" }\n",
                  "hale.yaml:5:44: invalid regex: unmatched closing parenthesis");
}

static void test_config_bad_http_status(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: http\n"
                  "    url: http://127.0.0.1/\n"
                  "    expect: { status: [200, 999] }\n",
                  "hale.yaml:5:29: expected an HTTP status from 100 to 599, got \"999\"");
}

/* Found by fuzz_config: a list element that is not a string left a NULL behind. */
static void test_config_bad_list_element(void **state)
{
    (void)state;
    EXPECT_ERRORS("notifiers:\n"
                  "  - { name: mail, type: email, smtp: \"smtp://h\", to: [ops@ex: ple.com] }\n",
                  "hale.yaml:2:55: expected a string, got a mapping");
}

/* Found by fuzz_config: a when condition without a step name. */
static void test_config_when_without_step_name(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - { name: a, wait: 1s }\n"
                  "      - { notify: failed, when: { failed: ! } }\n",
                  "hale.yaml:5:43: expected a string, got nothing");
}

/* Aliases can repeat a subtree without bound: the load gives up, with a message. */
static void test_config_alias_bomb_is_bounded(void **state)
{
    (void)state;
    FILE *f = fopen("hale.yaml", "w");
    fputs("x-steps: &s [", f);
    for (int i = 0; i < 200; i++)
        fputs(i ? ", {wait: 1s}" : "{wait: 1s}", f);
    fputs("]\nx-runbook: &r {name: r, steps: *s}\nrunbooks: [", f);
    for (int i = 0; i < 20000; i++)
        fputs(i ? ", *r" : "*r", f);
    fputs("]\n", f);
    fclose(f);
    struct config *c = NULL;
    struct config_diags d = {0};
    assert_int_equal(config_load("hale.yaml", &c, &d), HALE_ECONFIG);
    bool found = false;
    for (size_t i = 0; i < d.n; i++)
        found = found || strstr(d.v[i].msg, "the configuration is too large") != NULL;
    assert_true(found);
    assert_non_null(strstr(d.v[d.n - 1].msg, "more errors not shown"));
    config_diags_fini(&d);
    assert_null(c);
}

/* A file of YAML comments of size bytes. */
static void write_comments(const char *path, size_t size)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    char line[1024];
    memset(line, 'x', sizeof(line));
    line[0] = '#';
    line[sizeof(line) - 1] = '\n';
    for (size_t left = size; left > 0;) {
        size_t n = left < sizeof(line) ? left : sizeof(line);
        if (n < sizeof(line))
            line[n - 1] = '\n';
        assert_int_equal(fwrite(line, 1, n, f), n);
        left -= n;
    }
    fclose(f);
}

/* The main file and its includes are read up to 8 MiB in all. */
static void test_config_total_size_is_bounded(void **state)
{
    (void)state;
    write_comments("a.yaml", 5u << 20);
    write_comments("b.yaml", 3u << 20);
    write_file("hale.yaml", "include:\n"
                            "  - a.yaml\n"
                            "  - b.yaml\n");
    expect_diags("hale.yaml", HALE_ECONFIG,
                 (const char *const[]){"hale.yaml:3:5: cannot include \"b.yaml\": with it the "
                                       "configuration and its includes would be larger than 8 "
                                       "MiB in all",
                                       NULL});
    write_comments("b.yaml", (3u << 20) - 4096);
    config_unref(load_ok("hale.yaml"));

    write_comments("hale.yaml", (8u << 20) + 1);
    expect_diags("hale.yaml", -EFBIG,
                 (const char *const[]){"hale.yaml: cannot read: the file is larger than 8 MiB, "
                                       "the limit for the configuration with its includes",
                                       NULL});
}

/* ---- steps and placeholders ---- */

static void test_config_step_with_two_actions(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - name: both\n"
                  "        run: [systemctl, restart, web]\n"
                  "        shell: systemctl restart web\n",
                  "hale.yaml:6:9: a step does one thing, but this one has both run and shell; "
                  "split it into two steps");
}

static void test_config_runbook_relapse_typed(void **state)
{
    (void)state;
    struct config *c = load_text_ok("runbooks:\n"
                                    "  - name: full\n"
                                    "    relapse: { within: 2h, quarantine_above: 75%, "
                                    "min_healed: 5 }\n"
                                    "    steps: [{ wait: 1s }]\n"
                                    "  - name: partial\n"
                                    "    relapse: { within: 1h }\n"
                                    "    steps: [{ wait: 1s }]\n");
    const struct config_relapse *full = &config_runbook_find(c, "full")->relapse;
    assert_int_equal(full->within_ms, 7200000);
    assert_true(full->quarantine_above == 75.0);
    assert_int_equal(full->min_healed, 5);
    const struct config_relapse *partial = &config_runbook_find(c, "partial")->relapse;
    assert_int_equal(partial->within_ms, 3600000);
    assert_true(partial->quarantine_above == 50.0);
    assert_int_equal(partial->min_healed, 3);
    config_unref(c);
}

static void test_config_runbook_relapse_errors(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    relapse:\n"
                  "      within: 10s\n"
                  "      quarantine_above: 150%\n"
                  "      min_healed: 0\n"
                  "      quarantine: 50%\n"
                  "    steps: [{ wait: 1s }]\n",
                  "hale.yaml:4:15: within must be between 1m and 52w2d, got 10s",
                  "hale.yaml:5:25: expected a percentage such as 80%, got \"150%\"",
                  "hale.yaml:6:19: min_healed must be between 1 and 10000, got 0",
                  "hale.yaml:7:7: unknown key \"quarantine\" in relapse of runbook \"fix\"; valid "
                  "keys are within, quarantine_above and min_healed");
}

static void test_config_step_without_action(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - name: nothing\n"
                  "        timeout: 5s\n",
                  "hale.yaml:4:9: a step needs one action: run, shell, http, check, verify, "
                  "approve, notify or wait");
}

static void test_config_within_only_for_verify(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - { run: [systemctl, restart, web], within: 30s }\n",
                  "hale.yaml:4:43: within applies only to verify steps");
}

static void test_config_notify_step_to_users(void **state)
{
    (void)state;
    struct config *c = load_text_ok("runbooks:\n"
                                    "  - name: fix\n"
                                    "    steps:\n"
                                    "      - { notify: \"the site is slow\", to: users }\n"
                                    "      - { notify: \"repairing\" }\n");
    assert_int_equal(c->runbooks[0].steps[0].notify_to, CONFIG_NOTIFY_TO_USERS);
    assert_int_equal(c->runbooks[0].steps[1].notify_to, CONFIG_NOTIFY_TO_TEAM);
    config_unref(c);
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - { notify: \"slow\", to: everyone }\n"
                  "      - { shell: \"true\", to: users }\n",
                  "hale.yaml:4:31: invalid to \"everyone\"; expected team or users",
                  "hale.yaml:5:26: to applies only to notify steps");
}

static void test_config_no_purpose_for_verify(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - { name: web, type: tcp, host: h, port: 80 }\n"
                  "runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - { verify: web, purpose: remediate }\n",
                  "hale.yaml:6:24: purpose applies only to run, shell, http, check, approve, "
                  "notify and wait steps");
}

static void test_config_placeholder_inside_argument(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - run: [rm, \"--file=${labels.file}\"]\n",
                  "hale.yaml:4:27: a ${labels.NAME} placeholder must be a whole argument, not "
                  "part of \"--file=${labels.file}\"");
}

static void test_config_placeholder_as_program(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - run: [\"${labels.cmd}\", x]\n",
                  "hale.yaml:4:16: the program to run cannot be a ${labels.NAME} placeholder");
}

static void test_config_placeholder_in_shell(void **state)
{
    (void)state;
    EXPECT_ERRORS("runbooks:\n"
                  "  - name: fix\n"
                  "    steps:\n"
                  "      - shell: 'rm -f /tmp/${labels.file}'\n",
                  "hale.yaml:4:28: placeholders are not allowed in shell scripts; pass labels as "
                  "environment variables, as in env: {HOST: \"${labels.host}\"}");
}

/* ---- files ---- */

static void test_config_empty_file(void **state)
{
    (void)state;
    EXPECT_ERRORS("", "hale.yaml:1:1: the configuration is empty; expected a mapping with keys "
                      "such as server, checks and runbooks");
    EXPECT_ERRORS("# nothing but a comment\n",
                  "hale.yaml:1:1: the configuration is empty; expected a mapping with keys "
                  "such as server, checks and runbooks");
}

static void test_config_top_level_not_mapping(void **state)
{
    (void)state;
    EXPECT_ERRORS("- name: web\n",
                  "hale.yaml:1:1: the top level must be a mapping with keys such as server, "
                  "checks and runbooks, got a list");
}

static void test_config_yaml_syntax_error(void **state)
{
    (void)state;
    EXPECT_ERRORS("checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "   host: h\n",
                  "hale.yaml:4:4: invalid YAML: did not find expected '-' indicator (while "
                  "parsing a block collection at line 2, column 3)");
}

static void test_config_several_documents(void **state)
{
    (void)state;
    EXPECT_ERRORS("teams: []\n"
                  "---\n"
                  "checks: []\n",
                  "hale.yaml:2:1: a second YAML document; a configuration file holds exactly one "
                  "(remove the \"---\" or move the rest to an included file)");
}

static void test_config_nonexistent_file(void **state)
{
    (void)state;
    expect_diags(
            "missing.yaml", -ENOENT,
            (const char *const[]){"missing.yaml: cannot read: No such file or directory", NULL});
}

static void test_config_directory_instead_of_file(void **state)
{
    (void)state;
    mkdir("conf.d", 0755);
    expect_diags("conf.d", -EISDIR,
                 (const char *const[]){"conf.d: cannot read: Is a directory", NULL});
}

static void test_config_include_cycle(void **state)
{
    (void)state;
    write_file("packs/a.yaml", "include: [b.yaml]\n");
    write_file("packs/b.yaml", "include:\n"
                               "  - ../hale.yaml\n");
    EXPECT_ERRORS("include: [packs/a.yaml]\n",
                  "packs/b.yaml:2:5: include cycle: hale.yaml -> packs/a.yaml -> packs/b.yaml -> "
                  "hale.yaml");
}

static void test_config_server_in_pack(void **state)
{
    (void)state;
    write_file("packs/web.yaml", "server:\n"
                                 "  listen: 0.0.0.0:80\n");
    EXPECT_ERRORS("include: [packs]\n",
                  "packs/web.yaml:1:1: server is not allowed in an included file (a pack); it "
                  "belongs in the main configuration");
}

static void test_config_include_missing(void **state)
{
    (void)state;
    EXPECT_ERRORS("include: [packs, extra.yaml]\n",
                  "hale.yaml:1:11: cannot read \"packs\": No such file or directory",
                  "hale.yaml:1:18: cannot read \"extra.yaml\": No such file or directory");
}

static void test_config_include_refused_from_buffer(void **state)
{
    (void)state;
    static const char yaml[] = "include: [packs]\n";
    struct config *c = NULL;
    struct config_diags d = {0};
    assert_int_equal(config_load_buffer("api.yaml", yaml, sizeof(yaml) - 1, &c, &d), HALE_ECONFIG);
    assert_int_equal(d.n, 1);
    char *got = format_diag(&d.v[0]);
    assert_string_equal(got, "api.yaml:1:11: include is not available when the configuration "
                             "is not read from a file");
    free(got);
    config_diags_fini(&d);
    assert_null(c);
}

/* Errors from every section come back together, sorted by file, line and column. */
static void test_config_multiple_errors_in_order(void **state)
{
    (void)state;
    write_file("packs/extra.yaml", "checks:\n"
                                   "  - { name: disk, type: disk, warn: 80 }\n");
    EXPECT_ERRORS("server:\n"
                  "  listen: localhost\n"
                  "include: [packs]\n"
                  "runbooks:\n"
                  "  - name: fix\n"
                  "    team: ops\n"
                  "    steps: [{wait: forever}]\n"
                  "checks:\n"
                  "  - name: web\n"
                  "    type: tcp\n"
                  "    host: h\n"
                  "    port: 0\n"
                  "    runbook: fix\n",
                  "hale.yaml:2:11: expected host:port or [IPv6]:port, such as 127.0.0.1:8080, "
                  "got \"localhost\"",
                  "hale.yaml:6:11: undefined team \"ops\" in runbook \"fix\"; no teams are defined",
                  "hale.yaml:7:20: expected a duration such as 250ms, 10s, 5m or 1h30m, got "
                  "\"forever\"",
                  "hale.yaml:12:11: port must be between 1 and 65535, got 0",
                  "packs/extra.yaml:2:39: expected a percentage such as 80%, got \"80\"");
}

/* ---- good configurations ---- */

static void test_config_defaults_applied(void **state)
{
    struct fixture *fx = *state;
    struct config *c = load_text_ok("checks:\n"
                                    "  - { name: web, type: tcp, host: 127.0.0.1, port: 80 }\n");
    const struct config_server *s = config_server(c);
    assert_string_equal(s->listen, "127.0.0.1:8080");
    assert_string_equal(s->listen_host, "127.0.0.1");
    assert_int_equal(s->listen_port, 8080);
    char want[PATH_MAX + 16];
    snprintf(want, sizeof(want), "%s/var", fx->real);
    assert_string_equal(s->data_dir, want);
    snprintf(want, sizeof(want), "%s/var/tokens", fx->real);
    assert_string_equal(s->tokens_file, want);
    assert_string_equal(s->public_url, "http://127.0.0.1:8080");
    assert_int_equal(s->store, CONFIG_STORE_SQLITE);
    assert_null(s->store_url);
    assert_int_equal(s->max_body, 1 << 20);
    assert_int_equal(s->request_timeout_ms, 30000);
    assert_int_equal(s->http_threads, 2);
    assert_int_equal(s->log_level, LOG_LEVEL_INFO);

    assert_int_equal(c->n_checks, 1);
    const struct config_check *k = &c->checks[0];
    assert_string_equal(k->name, "web");
    assert_int_equal(k->type, CONFIG_CHECK_TCP);
    assert_int_equal(k->every_ms, 30000);
    assert_int_equal(k->timeout_ms, 10000);
    assert_int_equal(k->failures, 1);
    assert_int_equal(k->recoveries, 1);
    assert_int_equal(k->labels.n, 0);
    assert_null(k->runbook);
    assert_null(k->u.tcp.expect);
    assert_string_equal(k->loc.file, "hale.yaml");
    assert_int_equal(k->loc.line, 2);
    assert_int_equal(k->loc.col, 5);
    assert_string_equal(config_path(c), "hale.yaml");
    config_unref(c);
}

static void test_config_server_values(void **state)
{
    (void)state;
    struct config *c = load_text_ok("server:\n"
                                    "  listen: \"[::1]:9090\"\n"
                                    "  data_dir: /srv/hale/./data/../state\n"
                                    "  tokens_file: secrets/tokens\n"
                                    "  store: postgresql://hale@db/hale\n"
                                    "  public_url: https://hale.example.com\n"
                                    "  max_body: 64KiB\n"
                                    "  request_timeout: 1m30s\n"
                                    "  http_threads: 4\n"
                                    "  log_level: debug\n");
    const struct config_server *s = config_server(c);
    assert_string_equal(s->listen_host, "::1");
    assert_int_equal(s->listen_port, 9090);
    assert_string_equal(s->data_dir, "/srv/hale/state");
    assert_int_equal(s->store, CONFIG_STORE_POSTGRES);
    assert_string_equal(s->store_url, "postgresql://hale@db/hale");
    assert_string_equal(s->public_url, "https://hale.example.com");
    assert_int_equal(s->max_body, 65536);
    assert_int_equal(s->request_timeout_ms, 90000);
    assert_int_equal(s->http_threads, 4);
    assert_int_equal(s->log_level, LOG_LEVEL_DEBUG);
    /* relative to the config file, not to data_dir */
    struct fixture *fx = *state;
    char want[PATH_MAX + 32];
    snprintf(want, sizeof(want), "%s/secrets/tokens", fx->real);
    assert_string_equal(s->tokens_file, want);
    config_unref(c);
}

static bool regex_finds(const struct config_regex *re, const char *subject)
{
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = pcre2_match((const pcre2_code *)re->code, (PCRE2_SPTR)subject, strlen(subject), 0, 0,
                         md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

static void test_config_heartbeat_path_and_grace(void **state)
{
    struct fixture *fx = *state;
    struct config *c =
            load_text_ok("checks:\n"
                         "  - {name: a, type: heartbeat, every: 1h, path: flag, grace: 5m}\n"
                         "  - {name: b, type: heartbeat, every: 1h}\n");
    char want[PATH_MAX + 16];
    snprintf(want, sizeof(want), "%s/flag", fx->real);
    assert_string_equal(c->checks[0].u.heartbeat.path, want);
    assert_int_equal(c->checks[0].u.heartbeat.grace_ms, 5 * 60 * 1000);
    assert_null(c->checks[1].u.heartbeat.path);
    assert_true(c->checks[1].u.heartbeat.grace_ms == CONFIG_UNSET64);
    config_unref(c);
}

static void test_config_check_kinds_typed(void **state)
{
    struct fixture *fx = *state;
    struct config *c = load_text_ok(
            "checks:\n"
            "  - name: web\n"
            "    type: http\n"
            "    url: https://example.com/health\n"
            "    method: POST\n"
            "    headers: { Accept: application/json }\n"
            "    expect: { status: [200, 204], body: '\"ok\"' }\n"
            "    latency_warn: 250ms\n"
            "    latency_crit: 1s\n"
            "    cert_days_warn: 30\n"
            "    cert_days_crit: 7\n"
            "    every: 1h30m\n"
            "    timeout: 2s\n"
            "    failures: 3\n"
            "    labels: { service: web, ci: web-01 }\n"
            "  - { name: proc, type: process, pidfile: run/web.pid, match: 'web --serve',\n"
            "      max_count: 4, rss_crit: 1GiB, cpu_warn: 50% }\n"
            "  - { name: flag, type: file, path: flag, mode: '0644', max_size: 10MB }\n"
            "  - { name: root, type: disk }\n"
            "  - { name: errors, type: log, path: /var/log/syslog, match: 'ERROR|FATAL', warn: 1,\n"
            "      crit: 5 }\n"
            "  - { name: backup, type: heartbeat, every: 1d, deadline: '06:30', days: [mon, fri],\n"
            "      exclude: [2026-12-25] }\n"
            "  - { name: load, type: metric, series: node_load1, match: '{instance=\"a\"}',\n"
            "      warn: '4', crit: '@10:20', for: 5m }\n"
            "  - { name: nginx, type: systemd, unit: nginx.service }\n"
            "  - { name: smtp, type: command, run: [/usr/lib/nagios/plugins/check_smtp, -H, mail] "
            "}\n");
    assert_int_equal(c->n_checks, 9);
    const struct config_check *k = config_check_find(c, "web");
    assert_int_equal(k->every_ms, 5400000);
    assert_int_equal(k->timeout_ms, 2000);
    assert_int_equal(k->failures, 3);
    assert_string_equal(labels_get(&k->labels, "ci"), "web-01");
    assert_int_equal(k->u.http.method, CONFIG_HTTP_POST);
    assert_string_equal(k->u.http.headers.v[0].name, "Accept");
    assert_int_equal(k->u.http.expect.status.n, 2);
    assert_int_equal(k->u.http.expect.status.v[1], 204);
    assert_true(regex_finds(k->u.http.expect.body, "{\"status\": \"ok\"}"));
    assert_int_equal(k->u.http.latency_warn_ms, 250);
    assert_int_equal(k->u.http.cert_days_crit, 7);
    assert_null(k->u.http.body);

    k = config_check_find(c, "proc");
    char want[PATH_MAX + 32];
    snprintf(want, sizeof(want), "%s/run/web.pid", fx->real);
    assert_string_equal(k->u.process.pidfile, want);
    assert_true(regex_finds(k->u.process.match, "/usr/bin/web --serve --port 80"));
    assert_int_equal(k->u.process.min_count, 1);
    assert_int_equal(k->u.process.max_count, 4);
    assert_int_equal(k->u.process.rss_warn, CONFIG_UNSET64);
    assert_int_equal(k->u.process.rss_crit, 1ull << 30);
    assert_true(k->u.process.cpu_warn == 50.0);
    assert_true(k->u.process.cpu_crit == CONFIG_PERCENT_UNSET);

    k = config_check_find(c, "flag");
    assert_int_equal(k->u.file.state, CONFIG_FILE_EXISTS);
    assert_int_equal(k->u.file.mode, 0644);
    assert_int_equal(k->u.file.max_size, 10000000);
    assert_int_equal(k->u.file.min_size, CONFIG_UNSET64);
    assert_int_equal(k->u.file.max_age_ms, CONFIG_UNSET64);

    k = config_check_find(c, "root");
    assert_string_equal(k->u.disk.path, "/");
    assert_true(k->u.disk.warn == 80.0 && k->u.disk.crit == 90.0);
    assert_true(k->u.disk.inodes_warn == CONFIG_PERCENT_UNSET);

    k = config_check_find(c, "errors");
    assert_int_equal(k->u.log.window_ms, 300000);
    assert_int_equal(k->u.log.warn, 1);
    assert_int_equal(k->u.log.crit, 5);
    assert_true(regex_finds(k->u.log.match, "kernel: FATAL oops"));

    k = config_check_find(c, "backup");
    assert_int_equal(k->u.heartbeat.deadline_min, 6 * 60 + 30);
    assert_int_equal(k->u.heartbeat.days, (1u << 1) | (1u << 5));
    assert_int_equal(k->u.heartbeat.exclude.n, 1);
    assert_int_equal(k->u.heartbeat.exclude.v[0], 20261225);
    assert_int_equal(k->u.heartbeat.max_count, CONFIG_UNSET);

    k = config_check_find(c, "load");
    assert_string_equal(k->u.metric.series, "node_load1");
    assert_true(units_range_alerts(k->u.metric.warn, 4.5));
    assert_false(units_range_alerts(k->u.metric.warn, 3));
    assert_true(k->u.metric.crit->inside);
    assert_int_equal(k->u.metric.for_ms, 300000);
    struct labels l;
    labels_init(&l);
    labels_set(&l, "instance", "a", NULL);
    assert_true(labels_matchers_match(k->u.metric.match, &l));
    labels_fini(&l);

    assert_string_equal(config_check_find(c, "nginx")->u.systemd.unit, "nginx.service");
    k = config_check_find(c, "smtp");
    assert_int_equal(k->u.command.run.n, 3);
    assert_string_equal(k->u.command.run.v[2], "mail");
    assert_null(k->u.command.run.v[3]); /* an argv exec takes as it is */
    assert_null(config_check_find(c, "nope"));
    config_unref(c);
}

static void test_config_runbook_steps_typed(void **state)
{
    (void)state;
    struct config *c = load_text_ok(
            "notifiers:\n"
            "  - { name: ops-mail, type: email, smtp: 'smtp://127.0.0.1:25', to: ops@example.com "
            "}\n"
            "teams:\n"
            "  - { name: ops, notify: ops-mail }\n"
            "checks:\n"
            "  - { name: web, type: tcp, host: h, port: 80, runbook: restart-web, team: ops }\n"
            "runbooks:\n"
            "  - name: restart-web\n"
            "    team: ops\n"
            "    guard: { max_runs: 3, per: 1h, key: host }\n"
            "    on_failure: continue\n"
            "    steps:\n"
            "      - { name: status, run: [systemctl, status, web], purpose: diagnose }\n"
            "      - name: restart\n"
            "        run: [systemctl, restart, '${labels.unit}']\n"
            "        env: { HOST: '${labels.host}', MODE: fast }\n"
            "        timeout: 30s\n"
            "        retry: { times: 2, backoff: 5s }\n"
            "        on_failure: escalate\n"
            "      - { verify: web, within: 30s }\n"
            "      - { notify: restart failed, when: { failed: restart } }\n"
            "      - { approve: 'restart the database?', when: { labels: '{env=\"prod\"}' } }\n"
            "      - { http: { url: 'http://127.0.0.1/reload', method: POST, expect_status: 204 } "
            "}\n"
            "      - { check: web }\n"
            "      - { wait: 10s }\n"
            "      - { shell: 'systemctl restart \"$HOST\"', env: { HOST: '${labels.host}' } }\n"
            "routes:\n"
            "  - { match: '{alertname=\"DiskFull\"}', runbook: restart-web, priority: P2,\n"
            "      notifiers: [ops-mail], continue: true }\n"
            "  - { team: ops }\n");
    const struct config_runbook *rb = config_runbook_find(c, "restart-web");
    const struct config_team *ops = config_team_find(c, "ops");
    const struct config_check *web = config_check_find(c, "web");
    assert_ptr_equal(web->runbook, rb);
    assert_ptr_equal(web->team, ops);
    assert_ptr_equal(rb->team, ops);
    assert_ptr_equal(ops->notifiers[0], config_notifier_find(c, "ops-mail"));
    assert_string_equal(config_notifier_find(c, "ops-mail")->from, "hale@localhost");
    assert_int_equal(rb->guard.max_runs, 3);
    assert_int_equal(rb->guard.per_ms, 3600000);
    assert_string_equal(rb->guard.key, "host");
    assert_int_equal(rb->timeout_ms, 15 * 60000);
    assert_int_equal(rb->relapse.within_ms, 86400000); /* no relapse: written: the defaults */
    assert_true(rb->relapse.quarantine_above == 50.0);
    assert_int_equal(rb->relapse.min_healed, 3);
    assert_int_equal(rb->n_steps, 9);

    const struct config_step *s = rb->steps;
    assert_int_equal(s[0].action, CONFIG_STEP_RUN);
    assert_int_equal(s[0].purpose, CONFIG_PURPOSE_DIAGNOSE);
    assert_int_equal(s[0].timeout_ms, 60000);
    assert_int_equal(s[0].on_failure, CONFIG_ON_FAILURE_CONTINUE); /* the runbook's */
    assert_int_equal(s[0].retry.times, 0);
    assert_string_equal(s[0].cwd, config_server(c)->data_dir);
    assert_string_equal(s[1].run.v[2], "${labels.unit}");
    assert_string_equal(s[1].env.v[0].value, "${labels.host}");
    assert_int_equal(s[1].timeout_ms, 30000);
    assert_int_equal(s[1].retry.times, 2);
    assert_int_equal(s[1].retry.backoff_ms, 5000);
    assert_int_equal(s[1].retry.max_backoff_ms, 300000);
    assert_int_equal(s[1].on_failure, CONFIG_ON_FAILURE_ESCALATE);
    assert_int_equal(s[2].action, CONFIG_STEP_VERIFY);
    assert_string_equal(s[2].name, "step-3");
    assert_ptr_equal(s[2].check, web);
    assert_int_equal(s[2].within_ms, 30000);
    assert_int_equal(s[2].timeout_ms, 30000);
    /* Only what changes things remediates by default; a verify step is neither. */
    assert_int_equal(s[1].purpose, CONFIG_PURPOSE_REMEDIATE);
    assert_int_equal(s[2].purpose, CONFIG_PURPOSE_VERIFY);
    assert_int_equal(s[3].purpose, CONFIG_PURPOSE_DIAGNOSE);
    assert_int_equal(s[4].purpose, CONFIG_PURPOSE_DIAGNOSE);
    assert_int_equal(s[5].purpose, CONFIG_PURPOSE_REMEDIATE);
    assert_int_equal(s[7].purpose, CONFIG_PURPOSE_DIAGNOSE);
    assert_int_equal(s[8].purpose, CONFIG_PURPOSE_REMEDIATE);
    assert_string_equal(config_step_purpose_name(s[2].purpose), "verify");
    assert_int_equal(s[3].when.kind, CONFIG_WHEN_FAILED);
    assert_int_equal(s[3].when.step, 1);
    assert_string_equal(s[3].notify, "restart failed");
    assert_int_equal(s[4].action, CONFIG_STEP_APPROVE);
    assert_int_equal(s[4].timeout_ms, 3600000);
    assert_int_equal(s[4].when.kind, CONFIG_WHEN_LABELS);
    assert_int_equal(s[4].when.labels->n, 1);
    assert_int_equal(s[5].http.method, CONFIG_HTTP_POST);
    assert_int_equal(s[5].http.expect_status.v[0], 204);
    assert_int_equal(s[6].action, CONFIG_STEP_CHECK);
    assert_int_equal(s[6].purpose, CONFIG_PURPOSE_DIAGNOSE);
    assert_int_equal(s[7].wait_ms, 10000);
    assert_int_equal(s[8].action, CONFIG_STEP_SHELL);
    assert_int_equal(s[0].when.kind, CONFIG_WHEN_ALWAYS);

    assert_int_equal(c->n_routes, 2);
    assert_string_equal(c->routes[0].match_text, "{alertname=\"DiskFull\"}");
    assert_ptr_equal(c->routes[0].runbook, rb);
    assert_int_equal(c->routes[0].priority, 2);
    assert_true(c->routes[0].continue_matching);
    assert_string_equal(c->routes[1].match_text, "{}");
    assert_int_equal(c->routes[1].match->n, 0);
    assert_int_equal(c->routes[1].priority, 0); /* not written: the incidents matrix decides */
    assert_ptr_equal(c->routes[1].team, ops);
    config_unref(c);
}

static void test_config_includes_read_in_name_order(void **state)
{
    struct fixture *fx = *state;
    write_file("packs/b.yaml", "checks:\n"
                               "  - { name: b, type: file, path: ../flag }\n");
    write_file("packs/a.yml", "services:\n"
                              "  - { name: db }\n"
                              "checks:\n"
                              "  - { name: a, type: tcp, host: h, port: 1 }\n");
    write_file("packs/notes.txt", "not yaml: [\n");
    write_file("packs/.hidden.yaml", "not yaml: [\n");
    struct config *c = load_text_ok("include: packs\n"
                                    "services:\n"
                                    "  - { name: web, depends_on: [db] }\n"
                                    "checks:\n"
                                    "  - { name: main, type: tcp, host: h, port: 1 }\n");
    assert_int_equal(c->files.n, 3);
    assert_string_equal(c->files.v[0], "hale.yaml");
    assert_string_equal(c->files.v[1], "packs/a.yml");
    assert_string_equal(c->files.v[2], "packs/b.yaml");
    assert_int_equal(c->n_checks, 3);
    assert_string_equal(c->checks[0].name, "main");
    assert_string_equal(c->checks[1].name, "a");
    assert_string_equal(c->checks[2].name, "b");
    assert_string_equal(c->checks[2].loc.file, "packs/b.yaml");
    /* a relative path resolves against the file that names it */
    char want[PATH_MAX + 16];
    snprintf(want, sizeof(want), "%s/flag", fx->real);
    assert_string_equal(c->checks[2].u.file.path, want);
    const struct config_service *web = config_service_find(c, "web");
    assert_int_equal(web->depends, CONFIG_DEPENDS_ALL);
    assert_ptr_equal(web->deps[0], config_service_find(c, "db"));
    config_unref(c);
}

static void test_config_pack_included_twice_is_read_once(void **state)
{
    (void)state;
    write_file("packs/common.yaml", "teams:\n"
                                    "  - name: ops\n");
    write_file("packs/web.yaml", "include: [common.yaml]\n");
    struct config *c = load_text_ok("include: [packs/common.yaml, packs/web.yaml]\n");
    assert_int_equal(c->n_teams, 1);
    assert_int_equal(c->files.n, 3);
    config_unref(c);
}

static void test_config_reference_outlives_unref(void **state)
{
    (void)state;
    struct config *c = load_text_ok("teams: [{name: ops}]\n");
    struct config *held = config_ref(c);
    config_unref(c);
    assert_string_equal(held->teams[0].name, "ops");
    config_unref(held);
    config_unref(NULL);
}

static void test_config_load_buffer(void **state)
{
    (void)state;
    static const char yaml[] = "teams: [{name: ops}]\n";
    struct config *c = NULL;
    struct config_diags d = {0};
    assert_int_equal(config_load_buffer("api.yaml", yaml, sizeof(yaml) - 1, &c, &d), 0);
    assert_int_equal(d.n, 0);
    assert_string_equal(c->teams[0].loc.file, "api.yaml");
    config_unref(c);
    config_diags_fini(&d);
}

static void test_config_diags_print_format(void **state)
{
    (void)state;
    write_file("hale.yaml", "chekcs: []\n");
    struct config *c = NULL;
    struct config_diags d = {0};
    config_load("hale.yaml", &c, &d);
    config_load("nothere.yaml", &c, &d); /* diagnostics accumulate */
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    config_diags_print(&d, out);
    fclose(out);
    assert_string_equal(buf, "hale.yaml:1:1: error: unknown key \"chekcs\" at the top level; did "
                             "you mean \"checks\"?\n"
                             "nothere.yaml: error: cannot read: No such file or directory\n");
    free(buf);
    config_diags_fini(&d);
}

static void test_config_demo_loads(void **state)
{
    (void)state;
    struct config *c = load_ok(HALE_SOURCE_DIR "/examples/demo.yaml");
    assert_string_equal(config_server(c)->listen, "127.0.0.1:8080");
    char want[PATH_MAX];
    assert_non_null(realpath(HALE_SOURCE_DIR, want));
    strncat(want, "/var", sizeof(want) - strlen(want) - 1);
    assert_string_equal(config_server(c)->data_dir, want);
    const struct config_check *flag = config_check_find(c, "demo-flag");
    assert_non_null(flag);
    assert_ptr_equal(flag->runbook, config_runbook_find(c, "recreate-demo-flag"));
    assert_true(c->files.n >= 2);
    assert_non_null(config_check_find(c, "tmp-space")); /* from the pack */
    config_unref(c);
}

/* The full example of docs/configuration.md is valid, so the reference cannot drift. */
static void test_config_docs_example_loads(void **state)
{
    (void)state;
    FILE *f = fopen(HALE_SOURCE_DIR "/docs/configuration.md", "r");
    assert_non_null(f);
    static char doc[65536];
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    fclose(f);
    doc[n] = '\0';
    char *mark = strstr(doc, "<!-- full-example");
    assert_non_null(mark);
    char *start = strstr(mark, "```yaml\n");
    assert_non_null(start);
    start += strlen("```yaml\n");
    char *end = strstr(start, "\n```");
    assert_non_null(end);
    end[1] = '\0';
    struct config *c = load_text_ok(start);
    assert_int_equal(c->n_checks, 7);
    assert_int_equal(c->n_runbooks, 2);
    assert_int_equal(c->n_routes, 2);
    assert_int_equal(c->n_silences, 1);
    assert_int_equal(c->engine.fingerprint_labels.n, 3);
    config_unref(c);
}

/* The engine section: which labels identify an event, the group window. */
static void test_config_engine_section(void **state)
{
    (void)state;
    struct config *c = load_text_ok("checks: []\n");
    assert_int_equal(c->engine.fingerprint_labels.n, 0); /* every label */
    assert_int_equal(c->engine.group_window_ms, 5 * 60 * 1000);
    config_unref(c);

    c = load_text_ok("engine: { fingerprint_labels: [alertname, instance], group_window: 90s }\n");
    assert_int_equal(c->engine.fingerprint_labels.n, 2);
    assert_string_equal(c->engine.fingerprint_labels.v[1], "instance");
    assert_int_equal(c->engine.group_window_ms, 90 * 1000);
    config_unref(c);

    EXPECT_ERRORS("engine:\n"
                  "  fingerprint_labels: [alertname, 9lives, \"a-b\"]\n"
                  "  group_window: 2d\n"
                  "  group_windw: 1m\n",
                  "hale.yaml:2:35: invalid label name \"9lives\": use letters, digits and '_', "
                  "not starting with a digit",
                  "hale.yaml:2:43: invalid label name \"a-b\": use letters, digits and '_', not "
                  "starting with a digit",
                  "hale.yaml:3:17: group_window must be between 0 and 1d, got 2d",
                  "hale.yaml:4:3: unknown key \"group_windw\" in engine; did you mean "
                  "\"group_window\"?");
}

static void test_config_engine_in_pack(void **state)
{
    (void)state;
    write_file("packs/web.yaml", "engine: { group_window: 1m }\n");
    EXPECT_ERRORS("include: [packs]\n",
                  "packs/web.yaml:1:1: engine is not allowed in an included file (a pack); it "
                  "belongs in the main configuration");
}

/* Silences: maintenance windows, once or weekly, from the main file or a pack. */
static void test_config_silences_section(void **state)
{
    (void)state;
    write_file("packs/backup.yaml",
               "silences:\n"
               "  - { match: 'job=\"backup\"', weekly: \"Sun 01:00-03:00\" }\n");
    struct config *c = load_text_ok("include: [packs]\n"
                                    "silences:\n"
                                    "  - match: '{service=\"web\", env=~\"prod|stage\"}'\n"
                                    "    weekly: Mon-Fri 22:00-06:00\n"
                                    "    comment: nightly deploys\n"
                                    "  - match: service=db\n"
                                    "    starts: 2027-01-15T08:00:00Z\n"
                                    "    ends: \"2027-01-15T12:00:00+02:00\"\n");
    assert_int_equal(c->n_silences, 3);
    const struct config_silence *s = &c->silences[0];
    assert_string_equal(s->match_text, "{service=\"web\", env=~\"prod|stage\"}");
    assert_int_equal(s->match->n, 2);
    assert_true(s->weekly);
    assert_int_equal(s->window.days, 0x3e); /* Monday to Friday */
    assert_int_equal(s->window.start_min, 22 * 60);
    assert_int_equal(s->window.end_min, 6 * 60);
    assert_string_equal(s->comment, "nightly deploys");
    assert_int_equal(s->starts_ms, 0);
    assert_int_equal(s->ends_ms, 0);
    s = &c->silences[1];
    assert_false(s->weekly);
    assert_null(s->comment);
    assert_int_equal(s->starts_ms, 1800000000000LL);
    assert_int_equal(s->ends_ms, 1800000000000LL + 2 * 3600 * 1000);
    assert_true(c->silences[2].weekly);
    assert_string_equal(c->silences[2].loc.file, "packs/backup.yaml");
    config_unref(c);

    EXPECT_ERRORS("silences:\n"
                  "  - { match: 'service=web', weekly: \"Mon-Fir 22:00-06:00\" }\n"
                  "  - { match: 'service=web', weekly: [Mon] }\n"
                  "  - { match: 'service=web' }\n"
                  "  - { match: 'service=web', starts: 2027-01-15T08:00:00Z, ends: "
                  "2027-01-15T07:00:00Z }\n"
                  "  - { match: 'service=web', ends: tomorrow }\n"
                  "  - { match: '{env!=\"prod\"}', ends: 2027-01-15T07:00:00Z }\n"
                  "  - { weekly: \"Sat 00:00-24:00\", commnet: x }\n",
                  "hale.yaml:2:42: invalid weekly window: expected a day: Mon, Tue, Wed, Thu, "
                  "Fri, Sat or Sun",
                  "hale.yaml:3:37: expected a weekly window such as \"Mon-Fri 22:00-06:00\", got a "
                  "list",
                  "hale.yaml:4:5: a silence needs \"ends\" (a time) or \"weekly\" (a window such "
                  "as \"Sat-Sun 00:00-24:00\") in silence #3",
                  "hale.yaml:5:65: ends must be later than starts in silence #4",
                  "hale.yaml:6:35: expected an RFC 3339 time such as 2026-12-24T22:00:00Z, got "
                  "\"tomorrow\"",
                  "hale.yaml:7:14: the matcher {env!=\"prod\"} also matches an event without "
                  "labels, so the silence would hold back every event; give at least one label "
                  "a value to match, such as service=\"web\"",
                  "hale.yaml:8:5: missing required key \"match\" in silence #7",
                  "hale.yaml:8:34: unknown key \"commnet\" in silence #7; did you mean "
                  "\"comment\"?");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* The incidents section: ITIL's matrix and the defaults, or what the file says. */
static void test_config_incidents_section(void **state)
{
    (void)state;
    struct config *c = load_text_ok("checks:\n  - {name: a, type: tcp, host: h, port: 1}\n");
    assert_int_equal(c->incidents.reopen_within_ms, 3600 * 1000);
    assert_int_equal(c->incidents.problem_after, 3);
    assert_int_equal(c->incidents.problem_within_ms, 7ull * 24 * 3600 * 1000);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_HIGH][0], 1);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_MEDIUM][1], 3);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_LOW][2], 5);
    assert_int_equal(c->checks[0].impact, CONFIG_IMPACT_MEDIUM);
    config_unref(c);

    c = load_text_ok("incidents:\n  reopen_within: 2h\n  problem_after: 5\n"
                     "  priority: {low: [P2, 3, p4]}\n"
                     "checks:\n  - {name: a, type: tcp, host: h, port: 1, impact: high}\n");
    assert_int_equal(c->incidents.reopen_within_ms, 2 * 3600 * 1000);
    assert_int_equal(c->incidents.problem_after, 5);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_LOW][0], 2);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_LOW][1], 3);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_LOW][2], 4);
    assert_int_equal(c->incidents.priority[CONFIG_IMPACT_HIGH][0], 1); /* the rest stays ITIL's */
    assert_int_equal(c->checks[0].impact, CONFIG_IMPACT_HIGH);
    config_unref(c);

    EXPECT_ERRORS("incidents:\n  priority:\n    high: [P1, P2]\n    lowe: [P3, P4, P5]\n"
                  "    low: [P3, P4, P9]\n  problem_after: 1\n",
                  "hale.yaml:3:11: expected a list of three priorities (P1 to P5) for urgency "
                  "high, medium, low, got a list",
                  "hale.yaml:4:5: unknown impact \"lowe\"; expected high, medium or low",
                  "hale.yaml:5:19: expected a priority P1 to P5, got \"P9\"",
                  "hale.yaml:6:18: problem_after must be between 2 and 1000, got 1");
}

#define DAY_MS (24ull * 3600 * 1000)

/* The retention section: defaults that keep a year, what the file says, located errors. */
static void test_config_retention_section(void **state)
{
    (void)state;
    struct config *c = load_text_ok("checks:\n  - {name: a, type: tcp, host: h, port: 1}\n");
    assert_int_equal(c->retention.closed_incidents_ms, 400 * DAY_MS);
    assert_int_equal(c->retention.events_ms, 30 * DAY_MS);
    assert_int_equal(c->retention.outputs_ms, 30 * DAY_MS);
    assert_int_equal(c->retention.check_states_ms, 400 * DAY_MS);
    assert_int_equal(c->retention.audit_ms, 0); /* the audit log is kept */
    assert_int_equal(c->retention.output_max, 64 * 1024);
    assert_int_equal(c->retention.every_ms, 3600 * 1000);
    config_unref(c);

    c = load_text_ok("retention:\n  closed_incidents: 90d\n  events: 0\n  outputs: 1w\n"
                     "  check_states: forever\n  audit: 730d\n  output_max: 1MiB\n"
                     "  every: 10m\n");
    assert_int_equal(c->retention.closed_incidents_ms, 90 * DAY_MS);
    assert_int_equal(c->retention.events_ms, 0);
    assert_int_equal(c->retention.outputs_ms, 7 * DAY_MS);
    assert_int_equal(c->retention.check_states_ms, 0);
    assert_int_equal(c->retention.audit_ms, 730 * DAY_MS);
    assert_int_equal(c->retention.output_max, 1024 * 1024);
    assert_int_equal(c->retention.every_ms, 600 * 1000);
    config_unref(c);

    EXPECT_ERRORS("retention:\n  closed_incidents: -1d\n  events: 30 days\n  outputs: never\n"
                  "  audit: 6000w\n  output_max: 512B\n  every: 0\n  evry: 1h\n",
                  "hale.yaml:2:21: expected a duration such as 30d or 400d, or forever (or 0) to "
                  "keep it for good, got \"-1d\"",
                  "hale.yaml:3:13: expected a duration such as 30d or 400d, or forever (or 0) to "
                  "keep it for good, got \"30 days\"",
                  "hale.yaml:4:12: expected a duration such as 30d or 400d, or forever (or 0) to "
                  "keep it for good, got \"never\"",
                  "hale.yaml:5:10: audit must be at most 5200w (about a century), got 6000w",
                  "hale.yaml:6:15: output_max must be between 1KiB and 16MiB, got 512B",
                  "hale.yaml:7:10: every must be between 1s and 1w, got 0",
                  "hale.yaml:8:3: unknown key \"evry\" in retention; did you mean \"every\"?");
    /* Like incidents, it belongs to the main file: a pack may not change what is kept. */
    write_file("pack.yaml", "retention: {events: 1d}\n");
    EXPECT_ERRORS("include: pack.yaml\n",
                  "pack.yaml:1:1: retention is not allowed in an included file (a pack); it "
                  "belongs in the main configuration");
}

/* The history section: defaults for a small site, what the file says, located errors. */
static void test_config_history_section(void **state)
{
    (void)state;
    struct config *c = load_text_ok("checks:\n  - {name: a, type: tcp, host: h, port: 1}\n");
    assert_int_equal(c->history.points, 720);
    assert_int_equal(c->history.memory, 4 << 20);
    config_unref(c);

    c = load_text_ok("history:\n  points: 8640\n  memory: 32MiB\n");
    assert_int_equal(c->history.points, 8640);
    assert_int_equal(c->history.memory, 32 << 20);
    config_unref(c);

    EXPECT_ERRORS("history:\n  points: 0\n  memory: 1KiB\n  memroy: 1MiB\n",
                  "hale.yaml:2:11: points must be between 1 and 1000000, got 0",
                  "hale.yaml:3:11: memory must be between 64KiB and 16GiB, got 1KiB",
                  "hale.yaml:4:3: unknown key \"memroy\" in history; did you mean \"memory\"?");
    EXPECT_ERRORS("history:\n  memory: lots\n",
                  "hale.yaml:2:11: expected a size such as 512B, 64KiB or 10MB, got \"lots\"");
    /* What the daemon keeps in memory is the main file's to say. */
    write_file("pack.yaml", "history: {points: 10}\n");
    EXPECT_ERRORS("include: pack.yaml\n",
                  "pack.yaml:1:1: history is not allowed in an included file (a pack); it "
                  "belongs in the main configuration");
}

/* Teams: when they are told, escalation levels, the on-call rotation, users, the rate limit. */
static void test_config_teams_policy(void **state)
{
    (void)state;
    struct config *c =
            load_text_ok("notifiers:\n"
                         "  - {name: chat, type: slack, url: 'http://127.0.0.1:9/x'}\n"
                         "  - {name: pager, type: webhook, url: 'http://127.0.0.1:9/p',\n"
                         "     retry: {backoff: 500ms, max: 1m, give_up_after: 2h}}\n"
                         "  - {name: status, type: exec, argv: [/bin/true]}\n"
                         "teams:\n"
                         "  - name: web\n"
                         "    notify: chat\n"
                         "    notify_on: [opened, resolved]\n"
                         "    escalation:\n"
                         "      - {after: 15m, notify: pager}\n"
                         "      - {after: 1h, notify: [pager, chat]}\n"
                         "    oncall: {people: [alice, bob], handover: 'Wed 18:30'}\n"
                         "    users: {notify: status, on: escalated}\n"
                         "    rate_limit: 0s\n"
                         "  - {name: ops}\n");
    const struct config_team *web = config_team_find(c, "web");
    assert_int_equal(web->notify_on, CONFIG_NOTIFY_ON_OPENED | CONFIG_NOTIFY_ON_RESOLVED);
    assert_int_equal(web->n_levels, 2);
    assert_int_equal(web->levels[0].after_ms, 15 * 60 * 1000);
    assert_ptr_equal(web->levels[0].notifiers[0], config_notifier_find(c, "pager"));
    assert_ptr_equal(web->levels[1].notifiers[1], config_notifier_find(c, "chat"));
    assert_int_equal(web->oncall.people.n, 2);
    assert_int_equal(web->oncall.handover_wday, 3);
    assert_int_equal(web->oncall.handover_min, 18 * 60 + 30);
    assert_ptr_equal(web->users.notifiers[0], config_notifier_find(c, "status"));
    assert_int_equal(web->users.on, CONFIG_NOTIFY_ON_ESCALATED);
    assert_int_equal(web->rate_limit_ms, 0);
    const struct config_notifier *pager = config_notifier_find(c, "pager");
    assert_int_equal(pager->retry.backoff_ms, 500);
    assert_int_equal(pager->retry.max_ms, 60 * 1000);
    assert_int_equal(pager->retry.give_up_after_ms, 2 * 3600 * 1000);

    /* The defaults: told when escalated, a minute's rate limit, no rotation. */
    const struct config_team *ops = config_team_find(c, "ops");
    assert_int_equal(ops->notify_on, CONFIG_NOTIFY_ON_ESCALATED);
    assert_int_equal(ops->n_levels, 0);
    assert_int_equal(ops->rate_limit_ms, 60 * 1000);
    assert_null(config_oncall_person(&ops->oncall, 0));
    const struct config_notifier *chat = config_notifier_find(c, "chat");
    assert_int_equal(chat->retry.backoff_ms, 2000);
    assert_int_equal(chat->retry.max_ms, 300 * 1000);
    assert_int_equal(chat->retry.give_up_after_ms, 86400 * 1000);
    config_unref(c);
}

static void test_config_teams_policy_errors(void **state)
{
    (void)state;
    EXPECT_ERRORS("notifiers: [{name: p, type: exec, argv: [/bin/true]}]\n"
                  "teams:\n"
                  "  - name: web\n"
                  "    notify_on: [escalated, paged]\n"
                  "    escalation: [{after: 1h, notify: p}, {after: 30m, notify: p}]\n"
                  "    oncall: {people: [alice], handover: 'Mon 9'}\n"
                  "    users: {notify: nobody}\n",
                  "hale.yaml:4:28: expected opened, escalated or resolved in team \"web\", got "
                  "\"paged\"",
                  "hale.yaml:5:50: each escalation level's \"after\" must be later than the one "
                  "before it in escalation of team \"web\"",
                  "hale.yaml:6:41: expected a day and a time such as \"Mon 09:00\" in oncall of "
                  "team \"web\", got \"Mon 9\"",
                  "hale.yaml:7:21: undefined notifier \"nobody\" in users of team \"web\"; the "
                  "notifiers defined are p");
}

/* A week each, turning at the hand-over in local time. */
static void test_config_oncall_rotates_weekly(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    const char *people[] = {"alice", "bob", "carol"};
    struct config_oncall o = {
            .people = {.v = people, .n = 3}, .handover_wday = 1, .handover_min = 9 * 60};
    /* Monday 2026-11-16 08:59 and 09:00 UTC: the turn changes at the hand-over. */
    int64_t monday_9 = 1794819600000;
    const char *before = config_oncall_person(&o, monday_9 - 60 * 1000);
    const char *after = config_oncall_person(&o, monday_9);
    assert_string_not_equal(before, after);
    /* All week long, until the next Monday 09:00. */
    assert_string_equal(config_oncall_person(&o, monday_9 + 6 * 86400000LL), after);
    assert_string_equal(config_oncall_person(&o, monday_9 + 7 * 86400000LL - 60000), after);
    const char *next = config_oncall_person(&o, monday_9 + 7 * 86400000LL);
    assert_string_not_equal(next, after);
    /* Three people: back to the same one three weeks later. */
    assert_string_equal(config_oncall_person(&o, monday_9 + 21 * 86400000LL), after);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            T(test_config_unknown_key_suggests_closest),
            T(test_config_unknown_key_lists_valid_keys),
            T(test_config_teams_policy),
            T(test_config_teams_policy_errors),
            T(test_config_oncall_rotates_weekly),
            T(test_config_unknown_top_level_key),
            T(test_config_key_of_another_kind_is_unknown),
            T(test_config_bad_duration_points_at_unit),
            T(test_config_duration_below_minimum),
            T(test_config_expected_mapping_got_list),
            T(test_config_expected_list_got_mapping),
            T(test_config_item_must_be_mapping),
            T(test_config_expected_integer),
            T(test_config_integer_out_of_range),
            T(test_config_expected_boolean),
            T(test_config_bad_enum_suggests),
            T(test_config_bad_enum_lists_values),
            T(test_config_bad_percentage),
            T(test_config_bad_range),
            T(test_config_bad_url_scheme),
            T(test_config_missing_required_key),
            T(test_config_invalid_name),
            T(test_config_thresholds_out_of_order),
            T(test_config_timeout_longer_than_every),
            T(test_config_default_timeout_not_longer_than_every),
            T(test_config_log_warn_alone_has_no_crit),
            T(test_config_order_error_names_default),
            T(test_config_bad_listen_and_store),
            T(test_config_duplicate_check_name),
            T(test_config_duplicate_key_in_mapping),
            T(test_config_duplicate_name_across_include),
            T(test_config_duplicate_step_name),
            T(test_config_undefined_runbook_suggests),
            T(test_config_undefined_team_lists_teams),
            T(test_config_undefined_check_in_verify_step),
            T(test_config_undefined_notifier_in_team),
            T(test_config_undefined_service_dependency),
            T(test_config_service_dependency_cycle),
            T(test_config_when_must_name_earlier_step),
            T(test_config_bad_label_name),
            T(test_config_bad_matcher_points_inside),
            T(test_config_bad_regex_in_matcher),
            T(test_config_bad_regex_in_check),
            T(test_config_bad_http_status),
            T(test_config_bad_list_element),
            T(test_config_when_without_step_name),
            T(test_config_alias_bomb_is_bounded),
            T(test_config_total_size_is_bounded),
            T(test_config_step_with_two_actions),
            T(test_config_step_without_action),
            T(test_config_within_only_for_verify),
            T(test_config_notify_step_to_users),
            T(test_config_no_purpose_for_verify),
            T(test_config_placeholder_inside_argument),
            T(test_config_placeholder_as_program),
            T(test_config_placeholder_in_shell),
            T(test_config_empty_file),
            T(test_config_top_level_not_mapping),
            T(test_config_yaml_syntax_error),
            T(test_config_several_documents),
            T(test_config_nonexistent_file),
            T(test_config_directory_instead_of_file),
            T(test_config_include_cycle),
            T(test_config_server_in_pack),
            T(test_config_include_missing),
            T(test_config_include_refused_from_buffer),
            T(test_config_multiple_errors_in_order),
            T(test_config_defaults_applied),
            T(test_config_server_values),
            T(test_config_heartbeat_path_and_grace),
            T(test_config_check_kinds_typed),
            T(test_config_runbook_steps_typed),
            T(test_config_runbook_relapse_typed),
            T(test_config_runbook_relapse_errors),
            T(test_config_includes_read_in_name_order),
            T(test_config_pack_included_twice_is_read_once),
            T(test_config_reference_outlives_unref),
            T(test_config_load_buffer),
            T(test_config_diags_print_format),
            T(test_config_demo_loads),
            T(test_config_docs_example_loads),
            T(test_config_incidents_section),
            T(test_config_retention_section),
            T(test_config_history_section),
            T(test_config_engine_section),
            T(test_config_engine_in_pack),
            T(test_config_silences_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
