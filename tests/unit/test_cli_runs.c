/* SPDX-License-Identifier: MIT */
/*
 * Tests of the runbook commands' client side (src/cli/render_runs.c,
 * run.c, runs.c, runbooks.c): the tables of runs and runbooks, one run
 * step by step, the line of a step, hostile text made harmless, and
 * command lines refused before anything is sent. No daemon runs here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/internal.h"

static int64_t now_ms(void)
{
    int64_t t;
    assert_int_equal(clock_parse_rfc3339_ms("2026-11-21T19:03:00Z", &t), 0);
    return t;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON at %d: %s", e.position, e.text);
    return v;
}

static const char run_json[] =
        "{\"run\":{\"id\":7,\"runbook\":\"restart-nginx\",\"incident\":42,\"target\":\"web1\","
        "\"labels\":{\"host\":\"web1\"},\"automatic\":true,\"actor\":\"hale\","
        "\"outcome\":\"healed\",\"reason\":\"verify nginx-http ok after 2 tries\",\"step\":2,"
        "\"steps_total\":3,\"started\":\"2026-11-21T19:00:00.000Z\","
        "\"ended\":\"2026-11-21T19:00:02.500Z\",\"relapsed\":false,\"approval\":null},"
        "\"steps\":["
        "{\"seq\":1,\"step\":0,\"name\":\"status\",\"action\":\"run\",\"purpose\":\"diagnose\","
        "\"attempt\":1,\"outcome\":\"failed\",\"started\":\"2026-11-21T19:00:00.000Z\","
        "\"ended\":\"2026-11-21T19:00:00.040Z\",\"exit_status\":3,\"signal\":null,"
        "\"timed_out\":false,\"output\":\"nginx is dead\\n\\u001b[31mred\\n\",\"reason\":null},"
        "{\"seq\":2,\"step\":1,\"name\":\"restart\",\"action\":\"run\",\"purpose\":\"remediate\","
        "\"attempt\":1,\"outcome\":\"failed\",\"started\":\"2026-11-21T19:00:00.100Z\","
        "\"ended\":\"2026-11-21T19:00:10.100Z\",\"exit_status\":null,\"signal\":9,"
        "\"timed_out\":true,\"output\":\"\",\"reason\":\"timed out after 10 s\"},"
        "{\"seq\":3,\"step\":1,\"name\":\"restart\",\"action\":\"run\",\"purpose\":\"remediate\","
        "\"attempt\":2,\"outcome\":\"succeeded\",\"started\":\"2026-11-21T19:00:11.000Z\","
        "\"ended\":\"2026-11-21T19:00:11.120Z\",\"exit_status\":0,\"signal\":null,"
        "\"timed_out\":false,\"output\":null,\"reason\":null}]}";

static void test_cli_runs_step_lines(void **state)
{
    (void)state;
    json_t *answer = load(run_json);
    json_t *steps = json_object_get(answer, "steps");
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__run_step_line(json_array_get(steps, 0), 3, &out);
    assert_string_equal(out.s, "step 1/3 status (run, diagnose, attempt 1) failed: exit 3 in 40 "
                               "ms\n");
    strbuf_reset(&out);
    cli__run_step_line(json_array_get(steps, 1), 3, &out);
    assert_string_equal(out.s, "step 2/3 restart (run, remediate, attempt 1) failed: timed out, "
                               "its process group killed in 10.0 s (timed out after 10 s)\n");
    strbuf_reset(&out);
    cli__run_step_line(json_array_get(steps, 2), 0, &out);
    assert_string_equal(out.s, "step 2/? restart (run, remediate, attempt 2) succeeded: exit 0 in "
                               "120 ms\n");
    strbuf_fini(&out);
    json_decref(answer);
}

static void test_cli_runs_show_step_by_step(void **state)
{
    (void)state;
    json_t *answer = load(run_json);
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__run_render(answer, now_ms(), &out);
    assert_non_null(strstr(out.s, "run 7 of restart-nginx\n"));
    assert_non_null(strstr(out.s, "outcome       healed\n"));
    assert_non_null(strstr(out.s, "reason        verify nginx-http ok after 2 tries\n"));
    assert_non_null(strstr(out.s, "incident      42\n"));
    assert_non_null(strstr(out.s, "labels        host=web1\n"));
    assert_non_null(strstr(out.s, "started       2026-11-21T19:00:00.000Z (3m ago)\n"));
    /* output under its step, an escape sequence made harmless */
    assert_non_null(strstr(out.s, "failed: exit 3 in 40 ms\n    | nginx is dead\n    | ?[31mred\n"
                                  "step 2/3"));
    assert_null(strchr(out.s, '\033'));
    assert_non_null(strstr(out.s, "attempt 2) succeeded: exit 0 in 120 ms\n"));
    strbuf_fini(&out);
    json_decref(answer);
}

static void test_cli_runs_show_waiting_gate(void **state)
{
    (void)state;
    json_t *answer =
            load("{\"run\":{\"id\":9,\"runbook\":\"db\",\"incident\":null,\"target\":\"db\","
                 "\"labels\":{},\"automatic\":false,\"actor\":\"user:alice\","
                 "\"outcome\":\"waiting\",\"reason\":null,\"steps_total\":2,"
                 "\"started\":\"2026-11-21T19:02:00.000Z\",\"ended\":null,"
                 "\"approval\":{\"step\":0,\"question\":\"restart the database?\","
                 "\"deadline\":\"2026-11-21T20:02:00.000Z\",\"decision\":null}},"
                 "\"steps\":[]}");
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__run_render(answer, now_ms(), &out);
    assert_non_null(strstr(out.s, "outcome       waiting\n"));
    assert_non_null(strstr(out.s, "incident      -\n"));
    assert_non_null(strstr(out.s, "question      restart the database?\n"));
    assert_non_null(strstr(out.s, "deadline      2026-11-21T20:02:00.000Z (in 59m)\n"));
    assert_non_null(strstr(out.s, "(no step has started)\n"));
    assert_null(strstr(out.s, "ended"));
    strbuf_fini(&out);
    json_decref(answer);
}

static void test_cli_runs_table(void **state)
{
    (void)state;
    json_t *runs = load("[{\"id\":12,\"runbook\":\"restart-nginx\",\"target\":\"web1\","
                        "\"incident\":42,\"actor\":\"hale\",\"outcome\":\"failed\","
                        "\"started\":\"2026-11-21T19:01:00.000Z\",\"reason\":\"step 2 failed\"},"
                        "{\"id\":3,\"runbook\":\"db\",\"target\":\"\",\"incident\":null,"
                        "\"actor\":\"user:alice\",\"outcome\":\"healed\","
                        "\"started\":\"2026-11-21T17:03:00.000Z\",\"reason\":null}]");
    struct cli__style st = {.now_ms = now_ms(), .colour = true};
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__runs_table(runs, &st, &out);
    assert_string_equal(
            out.s, "ID  RUNBOOK        TARGET  INCIDENT  ACTOR       OUTCOME  AGE  REASON\n"
                   "\033[31m12  restart-nginx  web1    42        hale        failed   2m   step "
                   "2 failed\033[0m\n"
                   "3   db             -       -         user:alice  healed   2h   -\n");
    strbuf_fini(&out);
    json_decref(runs);
}

static const char runbooks_json[] =
        "[{\"name\":\"restart-nginx\",\"team\":\"web\",\"description\":\"nginx down\","
        "\"steps\":[{},{},{}],\"guard\":{\"max_runs\":3,\"per\":\"1h\",\"key\":\"host\"},"
        "\"quarantine\":{\"since\":\"2026-11-21T18:00:00.000Z\",\"reason\":\"relapse rate 3 of 4 "
        "healed runs (75%) over 50%\"},"
        "\"stats\":{\"runs\":6,\"healed\":4,\"completed\":0,\"failed\":1,\"suspended\":1,"
        "\"relapsed\":3,\"median_heal_ms\":2500},"
        "\"targets\":[{\"target\":\"web1\",\"runs\":5,\"healed\":3,\"completed\":0,\"failed\":1,"
        "\"suspended\":1,\"relapsed\":2,\"median_heal_ms\":3000},"
        "{\"target\":\"web2\",\"runs\":1,\"healed\":1,\"completed\":0,\"failed\":0,"
        "\"suspended\":0,\"relapsed\":1,\"median_heal_ms\":1000}]},"
        "{\"name\":\"db\",\"team\":null,\"description\":null,\"steps\":[{}],\"guard\":null,"
        "\"quarantine\":null,\"stats\":{\"runs\":0,\"healed\":0,\"completed\":0,\"failed\":0,"
        "\"suspended\":0,\"relapsed\":0,\"median_heal_ms\":0},\"targets\":[]}]";

static void test_cli_runbooks_list_and_stats(void **state)
{
    (void)state;
    json_t *rbs = load(runbooks_json);
    struct cli__style st = {.now_ms = now_ms()};
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__runbooks_table(rbs, &st, &out);
    assert_string_equal(out.s, "NAME           TEAM  STEPS  GUARD         STATE        RUNS  "
                               "HEALED  RELAPSED  DESCRIPTION\n"
                               "restart-nginx  web   3      3/1h by host  quarantined  6     4"
                               "       3         nginx down\n"
                               "db             -     1      -             enabled      0     0"
                               "       0         -\n");
    strbuf_reset(&out);
    cli__runbook_stats_table(rbs, &out);
    assert_non_null(strstr(out.s, "RUNBOOK        TARGET  RUNS  HEALED  COMPLETED  FAILED  "
                                  "SUSPENDED  RELAPSED  MEDIAN HEAL\n"));
    assert_non_null(strstr(out.s, "restart-nginx  (all)   6     4       0          1       1"
                                  "          3         2s"));
    assert_non_null(strstr(out.s, "restart-nginx  web1    5     3"));
    assert_non_null(strstr(out.s, "db             (all)   0     0       0          0       0"
                                  "          0         -\n"));
    assert_non_null(strstr(out.s, "restart-nginx is quarantined since 2026-11-21T18:00:00.000Z: "
                                  "relapse rate 3 of 4 healed runs (75%) over 50%; 'hale runbooks "
                                  "enable restart-nginx' puts it back\n"));
    strbuf_fini(&out);
    json_decref(rbs);
}

static int run_cmd(const struct cli_command *cmd, const char *const *args)
{
    char *argv[16];
    int argc = 0;
    for (; args[argc]; argc++)
        argv[argc] = (char *)(uintptr_t)args[argc];
    argv[argc] = NULL;
    return cmd->run(argc, argv);
}

static void test_cli_runs_usage_refused_before_sending(void **state)
{
    (void)state;
    /* nothing listens on this port: a request would fail with 1, not 64 */
    setenv("HALE_URL", "http://127.0.0.1:9", 1);
    assert_int_equal(run_cmd(&cli_run, (const char *const[]){"run", NULL}), CLI_EXIT_USAGE);
    assert_int_equal(
            run_cmd(&cli_run, (const char *const[]){"run", "x", "--label", "novalue", NULL}),
            CLI_EXIT_USAGE);
    assert_int_equal(
            run_cmd(&cli_run, (const char *const[]){"run", "x", "--incident", "zero", NULL}),
            CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_run, (const char *const[]){"run", "x", "-c", "f.yaml", NULL}),
                     CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_runs, (const char *const[]){"runs", "show", NULL}),
                     CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_runs, (const char *const[]){"runs", "show", "x", NULL}),
                     CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_runs, (const char *const[]){"runs", "--limit", "0", NULL}),
                     CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_runs, (const char *const[]){"runs", "--reject", NULL}),
                     CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_approve, (const char *const[]){"approve", NULL}), CLI_EXIT_USAGE);
    assert_int_equal(
            run_cmd(&cli_approve, (const char *const[]){"approve", "3", "--runbook", "x", NULL}),
            CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_runbooks, (const char *const[]){"runbooks", "enable", NULL}),
                     CLI_EXIT_USAGE);
    assert_int_equal(run_cmd(&cli_runbooks, (const char *const[]){"runbooks", "frobnicate", NULL}),
                     CLI_EXIT_USAGE);
    /* well formed, and nobody answers: a failure, not a usage error */
    assert_int_equal(run_cmd(&cli_runs, (const char *const[]){"runs", NULL}), CLI_EXIT_FAILURE);
    assert_int_equal(run_cmd(&cli_approve, (const char *const[]){"approve", "3", NULL}),
                     CLI_EXIT_FAILURE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cli_runs_step_lines),
            cmocka_unit_test(test_cli_runs_show_step_by_step),
            cmocka_unit_test(test_cli_runs_show_waiting_gate),
            cmocka_unit_test(test_cli_runs_table),
            cmocka_unit_test(test_cli_runbooks_list_and_stats),
            cmocka_unit_test(test_cli_runs_usage_refused_before_sending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
