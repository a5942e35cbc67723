/* SPDX-License-Identifier: MIT */
/*
 * Tests of `hale validate` (src/cli/validate.c): silent success, every error
 * on stderr as FILE:LINE:COL: error: MESSAGE with exit status 2, --summary,
 * $HALE_CONFIG, and usage errors. The command runs in-process with its
 * output captured.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/cli.h"

struct output {
    int status;
    char out[8192];
    char err[8192];
};

static void slurp(FILE *f, char *buf, size_t size)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `hale validate ARGS...` with stdout and stderr captured. */
static struct output run_validate(char *first, ...)
{
    char *argv[16] = {"validate"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (char *a = first; a && argc < 15; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    struct output o = {.status = cli_validate.run(argc, argv)};
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(out, o.out, sizeof(o.out));
    slurp(err, o.err, sizeof(o.err));
    return o;
}

static char tmpdir[PATH_MAX];

static int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/hale-test-validate-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir) || chdir(tmpdir) < 0)
        return -1;
    FILE *f = fopen("good.yaml", "w");
    fputs("teams:\n  - name: ops\nchecks:\n  - { name: a, type: tcp, host: h, port: 1 }\n", f);
    fclose(f);
    f = fopen("bad.yaml", "w");
    fputs("checks:\n  - name: a\n    type: htp\n  - name: a\n    type: tcp\n    host: h\n"
          "    port: 0\n",
          f);
    fclose(f);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink("good.yaml");
    unlink("bad.yaml");
    int r = chdir("/");
    rmdir(tmpdir);
    return r;
}

static void test_validate_valid_is_silent(void **state)
{
    (void)state;
    struct output o = run_validate("-c", "good.yaml", NULL);
    assert_int_equal(o.status, CLI_EXIT_OK);
    assert_string_equal(o.out, "");
    assert_string_equal(o.err, "");
}

static void test_validate_summary(void **state)
{
    (void)state;
    struct output o = run_validate("--config", "good.yaml", "--summary", NULL);
    assert_int_equal(o.status, CLI_EXIT_OK);
    assert_string_equal(o.out, "ok: 1 check, 0 runbooks, 1 team, 0 notifiers, 0 services, "
                               "0 routes from 1 file\n");
    assert_string_equal(o.err, "");
}

static void test_validate_reports_every_error(void **state)
{
    (void)state;
    struct output o = run_validate("-c", "bad.yaml", "--summary", NULL);
    assert_int_equal(o.status, CLI_EXIT_INVALID);
    assert_string_equal(o.out, "");
    assert_string_equal(o.err, "bad.yaml:3:11: error: invalid type \"htp\"; did you mean "
                               "\"http\"?\n"
                               "bad.yaml:4:11: error: duplicate check name \"a\"; first defined "
                               "at bad.yaml:2:5\n"
                               "bad.yaml:7:11: error: port must be between 1 and 65535, got 0\n");
}

static void test_validate_missing_file(void **state)
{
    (void)state;
    struct output o = run_validate("-c", "nope.yaml", NULL);
    assert_int_equal(o.status, CLI_EXIT_INVALID);
    assert_string_equal(o.err, "nope.yaml: error: cannot read: No such file or directory\n");
}

static void test_validate_uses_hale_config(void **state)
{
    (void)state;
    setenv("HALE_CONFIG", "good.yaml", 1);
    struct output o = run_validate(NULL);
    unsetenv("HALE_CONFIG");
    assert_int_equal(o.status, CLI_EXIT_OK);
    assert_string_equal(o.err, "");
}

static void test_validate_usage_errors(void **state)
{
    (void)state;
    struct output o = run_validate("--frobnicate", NULL);
    assert_int_equal(o.status, CLI_EXIT_USAGE);
    assert_string_equal(o.err, "hale validate: invalid option '--frobnicate'\n"
                               "Try 'hale validate --help'.\n");
    o = run_validate("-c", "good.yaml", "extra", NULL);
    assert_int_equal(o.status, CLI_EXIT_USAGE);
    o = run_validate("-c", NULL);
    assert_int_equal(o.status, CLI_EXIT_USAGE);
    assert_string_equal(o.err, "hale validate: option '-c' needs an argument\n"
                               "Try 'hale validate --help'.\n");
}

static void test_validate_help(void **state)
{
    (void)state;
    struct output o = run_validate("--help", NULL);
    assert_int_equal(o.status, CLI_EXIT_OK);
    assert_non_null(strstr(o.out, "Usage: hale validate [-c FILE] [--summary]"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_validate_valid_is_silent),
            cmocka_unit_test(test_validate_summary),
            cmocka_unit_test(test_validate_reports_every_error),
            cmocka_unit_test(test_validate_missing_file),
            cmocka_unit_test(test_validate_uses_hale_config),
            cmocka_unit_test(test_validate_usage_errors),
            cmocka_unit_test(test_validate_help),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
