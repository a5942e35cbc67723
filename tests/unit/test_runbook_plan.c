/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/runbook/plan.c: placeholders replaced as whole elements, a
 * missing label refused by name, HALE_* variables and their names, hostile
 * label values carried as inert bytes, when: conditions, retry delays and
 * the dry-run text. The runbooks are built by hand, as the config would.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/labels.h"
#include "runbook/plan.h"

#define HOSTILE "$(touch /tmp/x); rm -rf x \"quoted\" 'single' `tick` \\ back\nnext line"

static struct labels set_of(const char *const *kv)
{
    struct labels l;
    labels_init(&l);
    for (; kv[0]; kv += 2)
        assert_int_equal(labels_set(&l, kv[0], kv[1], NULL), 0);
    return l;
}

static const char *env_get(const struct plan_exec *x, const char *name)
{
    for (size_t i = 0; i < x->n_env; i++)
        if (strcmp(x->env[i].name, name) == 0)
            return x->env[i].value;
    return NULL;
}

static size_t argc_of(const struct plan_exec *x)
{
    size_t n = 0;
    while (x->argv[n])
        n++;
    return n;
}

static const char *const restart_argv[] = {"/usr/sbin/svc", "restart", "${labels.unit}",
                                           "--host=${labels.host}", "${labels.host}"};
static const struct config_kv restart_env[] = {{"TARGET", "${labels.host}"}, {"MODE", "fast"}};

static struct config_step restart_step(void)
{
    return (struct config_step){
            .name = "restart",
            .action = CONFIG_STEP_RUN,
            .timeout_ms = 30000,
            .run = {restart_argv, 5},
            .env = {restart_env, 2},
            .cwd = "/var/lib/hale",
            .retry = {.times = 2, .backoff_ms = 5000, .max_backoff_ms = 300000},
            .on_failure = CONFIG_ON_FAILURE_ESCALATE,
    };
}

static void test_plan_substitutes_whole_elements(void **state)
{
    (void)state;
    struct config_step s = restart_step();
    struct config_runbook rb = {.name = "fix-web", .steps = &s, .n_steps = 1};
    struct labels l = set_of((const char *const[]){"host", "web1", "unit", "nginx", NULL});
    struct plan_input in = {.runbook = &rb,
                            .labels = &l,
                            .run_id = 7,
                            .incident_id = 42,
                            .check = "web-http",
                            .data_dir = "/data"};
    struct plan_exec x;
    struct err e = {0};
    assert_int_equal(plan_exec(&in, &s, 2, &x, &e), 0);
    assert_int_equal(argc_of(&x), 5);
    assert_string_equal(x.argv[0], "/usr/sbin/svc");
    assert_string_equal(x.argv[2], "nginx");
    /* not a whole element (the config refuses it): left as written, never spliced */
    assert_string_equal(x.argv[3], "--host=${labels.host}");
    assert_string_equal(x.argv[4], "web1");
    assert_string_equal(x.cwd, "/var/lib/hale");
    assert_string_equal(env_get(&x, "HALE_RUN_ID"), "7");
    assert_string_equal(env_get(&x, "HALE_INCIDENT_ID"), "42");
    assert_string_equal(env_get(&x, "HALE_RUNBOOK"), "fix-web");
    assert_string_equal(env_get(&x, "HALE_STEP"), "restart");
    assert_string_equal(env_get(&x, "HALE_ATTEMPT"), "2");
    assert_string_equal(env_get(&x, "HALE_CHECK"), "web-http");
    assert_string_equal(env_get(&x, "HALE_LABEL_HOST"), "web1");
    assert_string_equal(env_get(&x, "TARGET"), "web1");
    assert_string_equal(env_get(&x, "MODE"), "fast");
    /* HALE_* first, the step's own env: last, so it may override */
    assert_string_equal(x.env[0].name, "HALE_RUN_ID");
    assert_string_equal(x.env[x.n_env - 1].name, "MODE");
    plan_exec_fini(&x);
    labels_fini(&l);
}

static void test_plan_no_incident_no_check_and_default_cwd(void **state)
{
    (void)state;
    struct config_step s = restart_step();
    s.cwd = NULL;
    s.run.n = 2;
    s.env.n = 0;
    struct config_runbook rb = {.name = "fix-web", .steps = &s, .n_steps = 1};
    struct plan_input in = {.runbook = &rb, .data_dir = "/data"};
    struct plan_exec x;
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_null(env_get(&x, "HALE_INCIDENT_ID"));
    assert_null(env_get(&x, "HALE_CHECK"));
    assert_string_equal(env_get(&x, "HALE_RUN_ID"), "0");
    assert_string_equal(x.cwd, "/data");
    plan_exec_fini(&x);
}

static void test_plan_missing_label_names_step_and_label(void **state)
{
    (void)state;
    struct config_step s = restart_step();
    struct config_runbook rb = {.name = "fix-web", .steps = &s, .n_steps = 1};
    struct labels l = set_of((const char *const[]){"host", "web1", NULL});
    struct plan_input in = {.runbook = &rb, .labels = &l};
    struct plan_exec x = {0};
    struct err e = {0};
    assert_int_equal(plan_exec(&in, &s, 1, &x, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "step \"restart\""));
    assert_non_null(strstr(e.msg, "label \"unit\""));
    assert_null(x.argv); /* out-parameter untouched */

    /* in env: too */
    static const struct config_kv env[] = {{"ZONE", "${labels.zone}"}};
    s.run.n = 2;
    s.env = (struct config_kvs){env, 1};
    memset(&e, 0, sizeof(e));
    assert_int_equal(plan_exec(&in, &s, 1, &x, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "label \"zone\""));
    labels_fini(&l);
}

static void test_plan_label_names_mangled(void **state)
{
    (void)state;
    struct config_step s = restart_step();
    s.run.n = 1;
    s.env.n = 0;
    struct config_runbook rb = {.name = "r", .steps = &s, .n_steps = 1};
    struct labels l = set_of((const char *const[]){"Pod_name9", "a", "alertname", "b", NULL});
    struct plan_input in = {.runbook = &rb, .labels = &l};
    struct plan_exec x;
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_string_equal(env_get(&x, "HALE_LABEL_POD_NAME9"), "a");
    assert_string_equal(env_get(&x, "HALE_LABEL_ALERTNAME"), "b");
    plan_exec_fini(&x);

    /* bytes a label set never holds today are made '_' all the same */
    struct label odd = {.name = "k8s.io/app-name", .value = "v"};
    struct labels raw = {.v = &odd, .n = 1, .cap = 1};
    in.labels = &raw;
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_string_equal(env_get(&x, "HALE_LABEL_K8S_IO_APP_NAME"), "v");
    plan_exec_fini(&x);
    labels_fini(&l);
}

static void test_plan_hostile_value_is_inert_data(void **state)
{
    (void)state;
    static const char *const argv[] = {"/bin/echo", "${labels.host}"};
    static const struct config_kv env[] = {{"HOST", "${labels.host}"}};
    struct config_step s = {.name = "echo", .action = CONFIG_STEP_RUN, .run = {argv, 2}};
    struct config_step sh = {.name = "sh",
                             .action = CONFIG_STEP_SHELL,
                             .shell = "printf '%s' \"$HOST\"",
                             .env = {env, 1}};
    struct config_runbook rb = {.name = "r", .steps = &s, .n_steps = 1};
    struct labels l = set_of((const char *const[]){"host", HOSTILE, NULL});
    struct plan_input in = {.runbook = &rb, .labels = &l};
    struct plan_exec x;
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_int_equal(argc_of(&x), 2);
    assert_memory_equal(x.argv[1], HOSTILE, sizeof(HOSTILE));
    assert_string_equal(env_get(&x, "HALE_LABEL_HOST"), HOSTILE);
    plan_exec_fini(&x);

    /* a shell step: the script exactly as written, the value only in the environment */
    assert_int_equal(plan_exec(&in, &sh, 1, &x, NULL), 0);
    assert_int_equal(argc_of(&x), 3);
    assert_string_equal(x.argv[0], "/bin/sh");
    assert_string_equal(x.argv[1], "-c");
    assert_string_equal(x.argv[2], "printf '%s' \"$HOST\"");
    assert_string_equal(env_get(&x, "HOST"), HOSTILE);
    plan_exec_fini(&x);
    labels_fini(&l);
}

/* A value that a program would read as an option fails the step, unless "--" came before it. */
static void test_plan_option_value_refused_before_double_dash(void **state)
{
    (void)state;
    static const char *const argv[] = {"/usr/bin/systemctl", "restart", "${labels.unit}"};
    static const char *const ended[] = {"/usr/bin/systemctl", "restart", "--", "${labels.unit}"};
    static const char *const env_argv[] = {"/bin/true"};
    static const struct config_kv env[] = {{"UNIT", "${labels.unit}"}};
    struct config_step s = {.name = "restart", .action = CONFIG_STEP_RUN, .run = {argv, 3}};
    struct config_runbook rb = {.name = "r", .steps = &s, .n_steps = 1};
    struct labels l = set_of((const char *const[]){"unit", "--root=/x", NULL});
    struct plan_input in = {.runbook = &rb, .labels = &l};
    struct plan_exec x = {0};
    struct err e = {0};
    assert_int_equal(plan_exec(&in, &s, 1, &x, &e), -EINVAL);
    assert_string_equal(e.msg, "step \"restart\": label unit's value \"--root=/x\" would be read "
                               "as an option; put \"--\" before it in the argv");
    assert_null(x.argv);

    /* after "--" it is an operand: it goes through as written */
    s.run = (struct config_strv){ended, 4};
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_string_equal(x.argv[3], "--root=/x");
    plan_exec_fini(&x);

    /* in the environment it is only data */
    s.run = (struct config_strv){env_argv, 1};
    s.env = (struct config_kvs){env, 1};
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_string_equal(env_get(&x, "UNIT"), "--root=/x");
    plan_exec_fini(&x);

    /* a "-" written in the configuration is the author's, not the event's */
    static const char *const own[] = {"/bin/ls", "-l", "${labels.dir}"};
    struct labels ok = set_of((const char *const[]){"dir", "/tmp", NULL});
    s.run = (struct config_strv){own, 3};
    s.env.n = 0;
    in.labels = &ok;
    assert_int_equal(plan_exec(&in, &s, 1, &x, NULL), 0);
    assert_string_equal(x.argv[1], "-l");
    plan_exec_fini(&x);
    labels_fini(&ok);
    labels_fini(&l);
}

static void test_plan_refuses_non_process_steps(void **state)
{
    (void)state;
    struct config_step s = {.name = "pause", .action = CONFIG_STEP_WAIT, .wait_ms = 1000};
    struct config_runbook rb = {.name = "r", .steps = &s, .n_steps = 1};
    struct plan_input in = {.runbook = &rb};
    struct plan_exec x;
    struct err e = {0};
    assert_int_equal(plan_exec(&in, &s, 1, &x, &e), -EINVAL);
    assert_non_null(strstr(e.msg, "wait step"));
}

static void test_plan_when_conditions(void **state)
{
    (void)state;
    struct labels_matchers *m = NULL;
    assert_int_equal(labels_matchers_parse("{env=\"prod\"}", &m, NULL, NULL), 0);
    struct config_step always = {.name = "a"};
    struct config_step on_fail = {.name = "b",
                                  .when = {.kind = CONFIG_WHEN_FAILED, .step_name = "a"}};
    struct config_step on_ok = {.name = "c",
                                .when = {.kind = CONFIG_WHEN_SUCCEEDED, .step_name = "a"}};
    struct config_step on_labels = {.name = "d", .when = {.kind = CONFIG_WHEN_LABELS, .labels = m}};
    struct labels prod = set_of((const char *const[]){"env", "prod", NULL});
    struct labels dev = set_of((const char *const[]){"env", "dev", NULL});

    enum plan_outcome failed[] = {PLAN_FAILED, PLAN_PENDING};
    enum plan_outcome succeeded[] = {PLAN_SUCCEEDED, PLAN_PENDING};
    enum plan_outcome skipped[] = {PLAN_SKIPPED, PLAN_PENDING};
    assert_true(plan_step_runs(&always, &dev, failed));
    assert_true(plan_step_runs(&on_fail, &dev, failed));
    assert_false(plan_step_runs(&on_fail, &dev, succeeded));
    assert_false(plan_step_runs(&on_fail, &dev, skipped)); /* skipped is not failed */
    assert_true(plan_step_runs(&on_ok, &dev, succeeded));
    assert_false(plan_step_runs(&on_ok, &dev, failed));
    assert_false(plan_step_runs(&on_ok, &dev, skipped));
    assert_true(plan_step_runs(&on_labels, &prod, failed));
    assert_false(plan_step_runs(&on_labels, &dev, failed));
    assert_false(plan_step_runs(&on_labels, NULL, failed)); /* no labels: env is "" */
    assert_string_equal(plan_outcome_name(PLAN_SKIPPED), "skipped");
    labels_fini(&prod);
    labels_fini(&dev);
    labels_matchers_free(m);
}

static void test_plan_retry_delays_double_and_cap(void **state)
{
    (void)state;
    struct config_step s = {.retry = {.times = 10, .backoff_ms = 1000, .max_backoff_ms = 5000}};
    assert_int_equal(plan_retry_delay_ms(&s, 0), 0);
    assert_int_equal(plan_retry_delay_ms(&s, 1), 1000);
    assert_int_equal(plan_retry_delay_ms(&s, 2), 2000);
    assert_int_equal(plan_retry_delay_ms(&s, 3), 4000);
    assert_int_equal(plan_retry_delay_ms(&s, 4), 5000);
    assert_int_equal(plan_retry_delay_ms(&s, 100), 5000);
    /* a huge cap: doubling many times never overflows */
    s.retry = (struct config_retry){.backoff_ms = 3, .max_backoff_ms = UINT64_MAX - 1};
    assert_int_equal(plan_retry_delay_ms(&s, 200), UINT64_MAX - 1);
    s.retry = (struct config_retry){.backoff_ms = 7000, .max_backoff_ms = 7000};
    assert_int_equal(plan_retry_delay_ms(&s, 3), 7000);
}

static void test_plan_target_by_guard_key(void **state)
{
    (void)state;
    struct config_runbook rb = {.name = "fix-web"};
    struct labels l = set_of((const char *const[]){"host", "web1", NULL});
    struct plan_input in = {.runbook = &rb, .labels = &l};
    assert_string_equal(plan_target(&in), "fix-web");
    rb.guard = (struct config_guard){.max_runs = 3, .per_ms = 3600000, .key = "host"};
    assert_string_equal(plan_target(&in), "web1");
    rb.guard.key = "zone";
    assert_string_equal(plan_target(&in), "");
    in.labels = NULL;
    assert_string_equal(plan_target(&in), "");
    labels_fini(&l);
}

static void test_plan_describe_says_everything(void **state)
{
    (void)state;
    struct labels_matchers *m = NULL;
    assert_int_equal(labels_matchers_parse("{env=\"prod\"}", &m, NULL, NULL), 0);
    static const char *const fb_argv[] = {"/usr/bin/scp", "${labels.missing}"};
    struct config_step steps[] = {
            restart_step(),
            {.name = "fallback",
             .action = CONFIG_STEP_RUN,
             .purpose = CONFIG_PURPOSE_REMEDIATE,
             .timeout_ms = 60000,
             .run = {fb_argv, 2},
             .when = {.kind = CONFIG_WHEN_FAILED, .step_name = "restart", .step = 0},
             .on_failure = CONFIG_ON_FAILURE_ABORT},
            {.name = "ask",
             .action = CONFIG_STEP_APPROVE,
             .timeout_ms = 3600000,
             .approve = "go on?",
             .when = {.kind = CONFIG_WHEN_LABELS, .labels = m}},
            {.name = "prove",
             .action = CONFIG_STEP_VERIFY,
             .timeout_ms = 30000,
             .within_ms = 30000,
             .check_name = "web-http"},
    };
    struct config_runbook rb = {.name = "fix-web",
                                .team_name = "ops",
                                .timeout_ms = 900000,
                                .guard = {.max_runs = 3, .per_ms = 3600000, .key = "host"},
                                .steps = steps,
                                .n_steps = 4};
    struct labels l =
            set_of((const char *const[]){"host", HOSTILE, "unit", "nginx", "env", "dev", NULL});
    struct plan_input in = {.runbook = &rb, .labels = &l, .incident_id = 42, .data_dir = "/d"};
    char *text = plan_describe(&in);
    print_message("%s", text);
    assert_non_null(strstr(text, "runbook fix-web: 4 steps"));
    assert_non_null(strstr(text, "incident: 42"));
    assert_non_null(strstr(text, "guard: at most 3 runs per 1h by label host"));
    assert_non_null(strstr(text, "1/4 restart: run, remediate, timeout 30s, on_failure escalate"));
    assert_non_null(strstr(text, "retry: 2 more times, backoff 5s doubling up to 5m"));
    assert_non_null(strstr(text, "argv: [\"/usr/sbin/svc\", \"restart\", \"nginx\""));
    /* the hostile value, escaped for reading, every byte visible */
    assert_non_null(strstr(text, "HALE_LABEL_HOST=\"$(touch /tmp/x); rm -rf x \\\"quoted\\\" "
                                 "'single' `tick` \\\\ back\\nnext line\""));
    assert_non_null(strstr(text, "TARGET=\"$(touch"));
    assert_non_null(strstr(text, "when: only if step 1 restart failed"));
    assert_non_null(strstr(text, "cannot run: step \"fallback\": the event has no label "
                                 "\"missing\""));
    assert_non_null(strstr(text, "when: labels match {env=\"prod\"} (they do not: it is "
                                 "skipped)"));
    assert_non_null(strstr(text, "asks: \"go on?\""));
    assert_non_null(strstr(text, "verify: web-http until ok, within 30s"));
    free(text);
    labels_fini(&l);
    labels_matchers_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plan_substitutes_whole_elements),
            cmocka_unit_test(test_plan_no_incident_no_check_and_default_cwd),
            cmocka_unit_test(test_plan_missing_label_names_step_and_label),
            cmocka_unit_test(test_plan_label_names_mangled),
            cmocka_unit_test(test_plan_hostile_value_is_inert_data),
            cmocka_unit_test(test_plan_option_value_refused_before_double_dash),
            cmocka_unit_test(test_plan_refuses_non_process_steps),
            cmocka_unit_test(test_plan_when_conditions),
            cmocka_unit_test(test_plan_retry_delays_double_and_cap),
            cmocka_unit_test(test_plan_target_by_guard_key),
            cmocka_unit_test(test_plan_describe_says_everything),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
