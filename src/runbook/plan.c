/* SPDX-License-Identifier: MIT */
/*
 * The plan of a run: a runbook's steps made concrete for one event. Pure
 * functions of the configuration and the labels; the executor spawns what
 * plan_exec() returns and `hale run --dry-run` prints plan_describe().
 * A label's value is only ever copied whole, as data: it never meets a
 * shell, a placeholder naming a label the event lacks fails the step, and
 * so does a value that a program would read as an option.
 */
#include "runbook/plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/strbuf.h"
#include "base/units.h"

#define PLACEHOLDER     "${labels."
#define HALE_LABEL_PREF "HALE_LABEL_"

const char *plan_outcome_name(enum plan_outcome o)
{
    switch (o) {
    case PLAN_PENDING:
        return "pending";
    case PLAN_SUCCEEDED:
        return "succeeded";
    case PLAN_FAILED:
        return "failed";
    case PLAN_SKIPPED:
        return "skipped";
    }
    return "unknown";
}

/* The names and values of env are the plan's own copies, const only to proc.h. */
static void free_owned(const char *s)
{
    union {
        const char *c;
        char *m;
    } u = {.c = s};
    free(u.m);
}

void plan_exec_fini(struct plan_exec *x)
{
    if (!x)
        return;
    for (size_t i = 0; x->argv && x->argv[i]; i++)
        free(x->argv[i]);
    free(x->argv);
    for (size_t i = 0; i < x->n_env; i++) {
        free_owned(x->env[i].name);
        free_owned(x->env[i].value);
    }
    free(x->env);
    *x = (struct plan_exec){0};
}

/*
 * v as the step gets it: the label's value when v is a placeholder (the
 * config allows one only as a whole string), else v itself. Borrowed.
 */
static int substitute(const struct plan_input *in, const struct config_step *s, const char *v,
                      const char **ret, struct err *e)
{
    size_t pl = strlen(PLACEHOLDER);
    size_t n = strlen(v);
    if (n <= pl + 1 || strncmp(v, PLACEHOLDER, pl) != 0 || v[n - 1] != '}') {
        *ret = v;
        return 0;
    }
    _cleanup_free_ char *name = xstrndup(v + pl, n - pl - 1);
    const char *value = in->labels ? labels_get(in->labels, name) : NULL;
    if (!value)
        return err_setf(e, -EINVAL,
                        "step \"%s\": the event has no label \"%s\" for %s; the step cannot run "
                        "without it",
                        s->name, name, v);
    *ret = value;
    return 0;
}

/* "HALE_LABEL_" and name upper-cased, every byte outside [A-Z0-9_] made '_'. */
static char *label_var_name(const char *name)
{
    char *v = xasprintf(HALE_LABEL_PREF "%s", name);
    for (char *p = v + strlen(HALE_LABEL_PREF); *p; p++) {
        char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
        *p = ok ? c : '_';
    }
    return v;
}

static void env_add(struct plan_exec *x, size_t *cap, char *name, char *value)
{
    if (x->n_env == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        x->env = xreallocarray(x->env, *cap, sizeof(*x->env));
    }
    x->env[x->n_env++] = (struct proc_env_var){name, value};
}

static int build_env(const struct plan_input *in, const struct config_step *s, unsigned attempt,
                     struct plan_exec *x, struct err *e)
{
    size_t cap = 0;
    env_add(x, &cap, xstrdup("HALE_RUN_ID"), xasprintf("%" PRId64, in->run_id));
    if (in->incident_id)
        env_add(x, &cap, xstrdup("HALE_INCIDENT_ID"), xasprintf("%" PRId64, in->incident_id));
    env_add(x, &cap, xstrdup("HALE_RUNBOOK"), xstrdup(in->runbook->name));
    env_add(x, &cap, xstrdup("HALE_STEP"), xstrdup(s->name));
    env_add(x, &cap, xstrdup("HALE_ATTEMPT"), xasprintf("%u", attempt));
    if (in->check)
        env_add(x, &cap, xstrdup("HALE_CHECK"), xstrdup(in->check));
    for (size_t i = 0; in->labels && i < in->labels->n; i++)
        env_add(x, &cap, label_var_name(in->labels->v[i].name), xstrdup(in->labels->v[i].value));
    for (size_t i = 0; i < s->env.n; i++) {
        const char *v;
        int r = substitute(in, s, s->env.v[i].value, &v, e);
        if (r < 0)
            return r;
        env_add(x, &cap, xstrdup(s->env.v[i].name), xstrdup(v));
    }
    return 0;
}

static int build_argv(const struct plan_input *in, const struct config_step *s, struct plan_exec *x,
                      struct err *e)
{
    if (s->action == CONFIG_STEP_SHELL) {
        x->argv = xcalloc(4, sizeof(*x->argv));
        x->argv[0] = xstrdup("/bin/sh");
        x->argv[1] = xstrdup("-c");
        x->argv[2] = xstrdup(s->shell);
        return 0;
    }
    x->argv = xcalloc(s->run.n + 1, sizeof(*x->argv));
    bool options_end = false; /* an earlier element is "--": what follows is no option */
    for (size_t i = 0; i < s->run.n; i++) {
        const char *v;
        int r = substitute(in, s, s->run.v[i], &v, e);
        if (r < 0)
            return r;
        /*
         * A label's value is data, but a program reads "-..." as an
         * option, whoever wrote it: an event must not choose the options.
         */
        if (v != s->run.v[i] && v[0] == '-' && !options_end) {
            size_t pl = strlen(PLACEHOLDER), n = strlen(s->run.v[i]);
            _cleanup_free_ char *name = xstrndup(s->run.v[i] + pl, n - pl - 1);
            return err_setf(e, -EINVAL,
                            "step \"%s\": label %s's value \"%s\" would be read as an option; "
                            "put \"--\" before it in the argv",
                            s->name, name, v);
        }
        if (strcmp(s->run.v[i], "--") == 0)
            options_end = true;
        x->argv[i] = xstrdup(v);
    }
    return 0;
}

int plan_exec(const struct plan_input *in, const struct config_step *s, unsigned attempt,
              struct plan_exec *ret, struct err *e)
{
    if (s->action != CONFIG_STEP_RUN && s->action != CONFIG_STEP_SHELL)
        return err_setf(e, -EINVAL, "step \"%s\" is a %s step, not a process", s->name,
                        config_step_action_name(s->action));
    struct plan_exec x = {0};
    int r = build_argv(in, s, &x, e);
    if (r == 0)
        r = build_env(in, s, attempt, &x, e);
    if (r < 0) {
        plan_exec_fini(&x);
        return r;
    }
    x.cwd = s->cwd ? s->cwd : in->data_dir;
    *ret = x;
    return 0;
}

bool plan_step_runs(const struct config_step *s, const struct labels *labels,
                    const enum plan_outcome *outcomes)
{
    const struct config_when *w = &s->when;
    switch (w->kind) {
    case CONFIG_WHEN_ALWAYS:
        return true;
    case CONFIG_WHEN_FAILED:
        return outcomes[w->step] == PLAN_FAILED;
    case CONFIG_WHEN_SUCCEEDED:
        return outcomes[w->step] == PLAN_SUCCEEDED;
    case CONFIG_WHEN_LABELS: {
        struct labels none = {0};
        return labels_matchers_match(w->labels, labels ? labels : &none);
    }
    }
    return false;
}

uint64_t plan_retry_delay_ms(const struct config_step *s, unsigned retry)
{
    if (retry == 0)
        return 0;
    uint64_t d = s->retry.backoff_ms, max = s->retry.max_backoff_ms;
    /* Doubling stops at the cap, so no shift ever overflows. */
    for (unsigned i = 1; i < retry && d < max; i++)
        d = d > max / 2 ? max : d * 2;
    return d < max ? d : max;
}

const char *plan_target(const struct plan_input *in)
{
    const char *key = in->runbook->guard.key;
    if (!key)
        return in->runbook->name;
    const char *v = in->labels ? labels_get(in->labels, key) : NULL;
    return v ? v : "";
}

/* ---- the plan in words ---- */

/* s quoted as a JSON string, so every byte of a hostile value shows. */
static void add_quoted(struct strbuf *b, const char *s)
{
    if (strbuf_add_json_string(b, s) == 0)
        return;
    strbuf_addc(b, '"');
    strbuf_add_utf8(b, s);
    strbuf_addc(b, '"');
}

static const char *on_failure_name(enum config_on_failure f)
{
    switch (f) {
    case CONFIG_ON_FAILURE_ABORT:
        return "abort";
    case CONFIG_ON_FAILURE_CONTINUE:
        return "continue";
    case CONFIG_ON_FAILURE_ESCALATE:
        return "escalate";
    }
    return "unknown";
}

static void describe_when(struct strbuf *b, const struct plan_input *in,
                          const struct config_step *s)
{
    const struct config_when *w = &s->when;
    switch (w->kind) {
    case CONFIG_WHEN_ALWAYS:
        return;
    case CONFIG_WHEN_FAILED:
    case CONFIG_WHEN_SUCCEEDED:
        strbuf_addf(b, "\n   when: only if step %zu %s %s", w->step + 1, w->step_name,
                    w->kind == CONFIG_WHEN_FAILED ? "failed" : "succeeded");
        return;
    case CONFIG_WHEN_LABELS: {
        strbuf_adds(b, "\n   when: labels match ");
        labels_matchers_format(w->labels, b);
        bool runs = plan_step_runs(s, in->labels, NULL);
        strbuf_adds(b, runs ? " (they do: it runs)" : " (they do not: it is skipped)");
        return;
    }
    }
}

/* What the action does, besides spawning a process. */
static void describe_action(struct strbuf *b, const struct config_step *s)
{
    char d[32];
    switch (s->action) {
    case CONFIG_STEP_HTTP:
        strbuf_addf(b, "\n   request: %s %s", config_http_method_name(s->http.method), s->http.url);
        break;
    case CONFIG_STEP_CHECK:
        strbuf_addf(b, "\n   check: %s", s->check_name);
        break;
    case CONFIG_STEP_VERIFY:
        strbuf_addf(b, "\n   verify: %s until ok, within %s",
                    s->check_name ? s->check_name : "the check that opened the incident",
                    units_duration_format(s->within_ms, d, sizeof(d)));
        break;
    case CONFIG_STEP_APPROVE:
        strbuf_adds(b, "\n   asks: ");
        add_quoted(b, s->approve);
        break;
    case CONFIG_STEP_NOTIFY:
        strbuf_adds(b, "\n   message: ");
        add_quoted(b, s->notify);
        break;
    case CONFIG_STEP_WAIT:
        strbuf_addf(b, "\n   waits %s", units_duration_format(s->wait_ms, d, sizeof(d)));
        break;
    case CONFIG_STEP_RUN:
    case CONFIG_STEP_SHELL:
        break;
    }
}

static void describe_exec(struct strbuf *b, const struct plan_input *in,
                          const struct config_step *s)
{
    struct plan_exec x;
    struct err e = {0};
    if (plan_exec(in, s, 1, &x, &e) < 0) {
        strbuf_addf(b, "\n   cannot run: %s", e.msg);
        return;
    }
    strbuf_adds(b, "\n   argv: [");
    for (size_t i = 0; x.argv[i]; i++) {
        if (i)
            strbuf_adds(b, ", ");
        add_quoted(b, x.argv[i]);
    }
    strbuf_addf(b, "]\n   cwd: %s\n   env:", x.cwd ? x.cwd : "(hale's own)");
    for (size_t i = 0; i < x.n_env; i++) {
        strbuf_addf(b, "\n     %s=", x.env[i].name);
        add_quoted(b, x.env[i].value);
    }
    plan_exec_fini(&x);
}

static void describe_step(struct strbuf *b, const struct plan_input *in, size_t i)
{
    const struct config_step *s = &in->runbook->steps[i];
    char d1[32], d2[32];
    strbuf_addf(b, "\n%zu/%zu %s: %s, %s, timeout %s, on_failure %s", i + 1, in->runbook->n_steps,
                s->name, config_step_action_name(s->action), config_step_purpose_name(s->purpose),
                units_duration_format(s->timeout_ms, d1, sizeof(d1)),
                on_failure_name(s->on_failure));
    if (s->retry.times)
        strbuf_addf(b, "\n   retry: %u more time%s, backoff %s doubling up to %s", s->retry.times,
                    s->retry.times == 1 ? "" : "s",
                    units_duration_format(s->retry.backoff_ms, d1, sizeof(d1)),
                    units_duration_format(s->retry.max_backoff_ms, d2, sizeof(d2)));
    describe_when(b, in, s);
    describe_action(b, s);
    if (s->action == CONFIG_STEP_RUN || s->action == CONFIG_STEP_SHELL)
        describe_exec(b, in, s);
}

char *plan_describe(const struct plan_input *in)
{
    const struct config_runbook *rb = in->runbook;
    struct strbuf b;
    strbuf_init(&b, 0);
    char d[32];
    strbuf_addf(&b, "runbook %s: %zu step%s, timeout %s, team %s", rb->name, rb->n_steps,
                rb->n_steps == 1 ? "" : "s", units_duration_format(rb->timeout_ms, d, sizeof(d)),
                rb->team_name ? rb->team_name : "(none)");
    if (rb->description)
        strbuf_addf(&b, "\n%s", rb->description);
    strbuf_adds(&b, "\ntarget: ");
    add_quoted(&b, plan_target(in));
    if (rb->guard.max_runs)
        strbuf_addf(&b, " (guard: at most %u runs per %s%s%s)", rb->guard.max_runs,
                    units_duration_format(rb->guard.per_ms, d, sizeof(d)),
                    rb->guard.key ? " by label " : "", rb->guard.key ? rb->guard.key : "");
    if (in->incident_id)
        strbuf_addf(&b, "\nincident: %" PRId64, in->incident_id);
    strbuf_adds(&b, "\nlabels: {");
    for (size_t i = 0; in->labels && i < in->labels->n; i++) {
        strbuf_addf(&b, "%s%s=", i ? ", " : "", in->labels->v[i].name);
        add_quoted(&b, in->labels->v[i].value);
    }
    strbuf_adds(&b, "}\n");
    for (size_t i = 0; i < rb->n_steps; i++)
        describe_step(&b, in, i);
    strbuf_addc(&b, '\n');
    return strbuf_detach(&b, NULL);
}
