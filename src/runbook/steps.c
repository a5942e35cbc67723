/* SPDX-License-Identifier: MIT */
/*
 * The kinds of step, each started on the loop and ended by a callback or
 * a timer: run and shell steps are children in their own process group
 * (proc.h: killed with their group at the step's timeout, their output
 * kept, bounded); http steps are transfers through net.h; check and
 * verify steps ask the checks' runner for a run now (a verify step asks
 * again until the check is ok or its `within` ends); approve steps open a
 * gate; notify steps write on the timeline and call the notifiers' seam;
 * wait steps are a timer. Each ends in runbook__attempt_done(), never from
 * within runbook__step_begin().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "net/net.h"
#include "runbook/internal.h"

void runbook__duration(uint64_t ms, char *buf, size_t size)
{
    if (ms < 1000)
        snprintf(buf, size, "%" PRIu64 " ms", ms);
    else if (ms < 120000 && ms % 1000)
        snprintf(buf, size, "%.1f s", (double)ms / 1000);
    else if (ms < 120000)
        snprintf(buf, size, "%" PRIu64 " s", ms / 1000);
    else
        snprintf(buf, size, "%" PRIu64 " min", ms / 60000);
}

static const struct config_step *step_of(const struct run *run)
{
    return &run->rb->steps[run->step];
}

static void set_str(char **field, const char *v)
{
    free(*field);
    *field = v ? xstrdup(v) : NULL;
}

static void reason_setf(struct run *run, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void reason_setf(struct run *run, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(run->cur.reason);
    run->cur.reason = xvasprintf(fmt, ap);
    va_end(ap);
}

/* The step started: its timeline entry, and the start delay of the run's first. */
static void started(struct run *run, const char *detail)
{
    const struct config_step *s = step_of(run);
    runbook__note(run, TIMELINE_STEP_STARTED, "step %zu/%zu %s (%s, attempt %u): %s", run->step + 1,
                  run->rb->n_steps, s->name, config_step_purpose_name(s->purpose), run->attempt,
                  detail);
    if (!run->first_spawned && run->first_event_ms && run->rbs->m_delay) {
        int64_t d = runbook__now_ms() - run->first_event_ms;
        metrics_histogram_observe(run->rbs->m_delay, NULL, d > 0 ? (double)d / 1000 : 0);
    }
    run->first_spawned = true;
}

/* Fails the attempt from the loop, not from within runbook__step_begin(). */
static void on_fail_timer(uv_timer_t *t)
{
    runbook__attempt_done(t->data, false);
}

static void on_ok_timer(uv_timer_t *t)
{
    runbook__attempt_done(t->data, true);
}

static void fail_soon(struct run *run)
{
    uv_timer_start(run->timer, on_fail_timer, 0, 0);
}

/* ---- run and shell: a child in its own process group ---- */

static void output_add(struct strbuf *b, const char *what, const char *text, size_t len,
                       bool truncated)
{
    if (!len)
        return;
    if (b->len && b->s[b->len - 1] != '\n')
        strbuf_addc(b, '\n');
    if (what)
        strbuf_addf(b, "--- %s ---\n", what);
    strbuf_add_utf8(b, text);
    if (strlen(text) < len)
        strbuf_addf(b, "\n[... %zu bytes after a NUL byte not shown]", len - strlen(text));
    if (truncated)
        strbuf_addf(b, "\n[... cut: more than %u bytes]", RUNBOOK_OUTPUT_MAX);
}

static void on_proc_done(struct proc *p, const struct proc_result *res, void *data)
{
    (void)p;
    struct run *run = data;
    struct runbooks *rbs = run->rbs;
    run->proc = NULL;
    if (run->phase == RUN_PHASE_OVER) {
        runbook__run_free(run); /* its end waited for the group to go */
        runbook__child_gone(rbs);
        return;
    }
    runbook__child_gone(rbs);
    struct strbuf b;
    strbuf_init(&b, 0);
    output_add(&b, NULL, res->out, res->out_len, res->out_truncated);
    output_add(&b, res->out_len ? "stderr" : NULL, res->err, res->err_len, res->err_truncated);
    free(run->cur.output);
    run->cur.output = strbuf_detach(&b, NULL);
    run->cur.exit_status = res->term_signal ? -1 : (int)res->exit_status;
    run->cur.term_signal = res->term_signal;
    run->cur.timed_out = res->timed_out;
    char took[32];
    runbook__duration(step_of(run)->timeout_ms, took, sizeof(took));
    if (res->timed_out)
        reason_setf(run, "timed out after %s, its process group killed", took);
    else if (res->term_signal)
        reason_setf(run, "killed by signal %d", res->term_signal);
    else
        reason_setf(run, "exit %" PRId64, res->exit_status);
    if (res->orphans_left)
        log_warn("runbook", NULL, "run %lld: step %s left processes that survived SIGKILL",
                 (long long)run->rec.id, step_of(run)->name);
    runbook__attempt_done(run, !res->timed_out && !res->term_signal && res->exit_status == 0);
}

static void plan_in(const struct run *run, struct plan_input *in)
{
    *in = (struct plan_input){
            .runbook = run->rb,
            .labels = &run->rec.labels,
            .run_id = run->rec.id,
            .incident_id = run->rec.incident_id,
            .check = run->check,
            .data_dir = run->config->server.data_dir,
    };
}

/* The argv for people, each element quoted when it is not plain. */
static char *argv_words(char *const *argv)
{
    struct strbuf b;
    strbuf_init(&b, 1024);
    for (size_t k = 0; argv[k]; k++) {
        if (k)
            strbuf_addc(&b, ' ');
        bool plain = *argv[k] && strcspn(argv[k], " \t\n'\"\\$`;&|<>()*?") == strlen(argv[k]);
        if (plain)
            strbuf_add_utf8(&b, argv[k]);
        else if (strbuf_add_json_string(&b, argv[k]) < 0)
            strbuf_adds(&b, "\"?\""); /* not UTF-8 */
    }
    return strbuf_detach(&b, NULL);
}

static void begin_process(struct run *run)
{
    const struct config_step *s = step_of(run);
    struct plan_input in;
    plan_in(run, &in);
    struct plan_exec x;
    struct err e = {0};
    if (plan_exec(&in, s, run->attempt, &x, &e) < 0) {
        started(run, "not started");
        reason_setf(run, "%s", e.msg);
        fail_soon(run);
        return;
    }
    char *words = s->action == CONFIG_STEP_SHELL ? xasprintf("/bin/sh -c %s", s->shell)
                                                 : argv_words(x.argv);
    struct proc_options o = {
            .argv = (const char *const *)x.argv,
            .cwd = x.cwd,
            .env = x.env,
            .n_env = x.n_env,
            .stdout_max = RUNBOOK_OUTPUT_MAX,
            .stderr_max = RUNBOOK_OUTPUT_MAX,
            .timeout_ms = s->timeout_ms,
    };
    int r = proc_spawn(run->rbs->o.uv, &o, on_proc_done, run, &run->proc, &e);
    plan_exec_fini(&x);
    started(run, words);
    free(words);
    if (r < 0) {
        run->proc = NULL;
        reason_setf(run, "not started: %s", e.msg);
        fail_soon(run);
        return;
    }
    run->rbs->children++;
    run->phase = RUN_PHASE_PROC;
    /* Stored while it runs: the start after a crash kills this group, and only it. */
    struct proc_stat st;
    run->cur.pid = proc_pid(run->proc);
    run->cur.pid_start = proc_stat_read((pid_t)run->cur.pid, &st) == 0 ? st.starttime : 0;
    runbook__save(run, true, NULL, NULL);
}

/* ---- http ---- */

static size_t on_http_body(char *ptr, size_t size, size_t n, void *data)
{
    struct run *run = data;
    size_t len = size * n, room = RUNBOOK_HTTP_BODY_MAX - run->http_len;
    size_t take = len < room ? len : room;
    if (take) {
        run->http_body = xrealloc(run->http_body, run->http_len + take + 1);
        memcpy(run->http_body + run->http_len, ptr, take);
        run->http_len += take;
        run->http_body[run->http_len] = '\0';
    }
    return len; /* the rest is read and dropped */
}

static bool status_expected(const struct config_step *s, long status)
{
    if (!s->http.expect_status.n)
        return status >= 200 && status < 300;
    for (size_t k = 0; k < s->http.expect_status.n; k++)
        if ((long)s->http.expect_status.v[k] == status)
            return true;
    return false;
}

static void on_http_done(CURL *easy, CURLcode result, void *data)
{
    struct run *run = data;
    const struct config_step *s = step_of(run);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    run->easy = NULL;
    net_easy_put(run->rbs->net, easy);
    curl_slist_free_all(run->http_headers);
    run->http_headers = NULL;
    bool ok = false;
    if (result == CURLE_OPERATION_TIMEDOUT) {
        char took[32];
        runbook__duration(s->timeout_ms, took, sizeof(took));
        run->cur.timed_out = true;
        reason_setf(run, "timed out after %s", took);
    } else if (result != CURLE_OK) {
        reason_setf(run, "%s", curl_easy_strerror(result));
    } else {
        ok = status_expected(s, status);
        run->cur.exit_status = (int)status;
        reason_setf(run, "HTTP %ld%s", status, ok ? "" : " (not the status expected)");
    }
    if (run->http_body) {
        struct strbuf b;
        strbuf_init(&b, 0);
        strbuf_add_utf8(&b, run->http_body);
        free(run->cur.output);
        run->cur.output = strbuf_detach(&b, NULL);
        free(run->http_body);
        run->http_body = NULL;
        run->http_len = 0;
    }
    runbook__attempt_done(run, ok);
}

static void begin_http(struct run *run)
{
    const struct config_step *s = step_of(run);
    char *words = xasprintf("%s %s", config_http_method_name(s->http.method), s->http.url);
    started(run, words);
    free(words);
    if (!run->rbs->net)
        run->rbs->net = net_multi_ref(run->rbs->o.uv);
    CURL *easy = net_easy_get(run->rbs->net);
    if (!easy) {
        reason_setf(run, "out of memory");
        fail_soon(run);
        return;
    }
    curl_easy_setopt(easy, CURLOPT_URL, s->http.url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, config_http_method_name(s->http.method));
    if (s->http.method == CONFIG_HTTP_HEAD)
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    if (s->http.body)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, s->http.body);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)s->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_http_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, run);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    struct curl_slist *headers = NULL;
    for (size_t k = 0; k < s->http.headers.n; k++) {
        char *h = xasprintf("%s: %s", s->http.headers.v[k].name, s->http.headers.v[k].value);
        headers = curl_slist_append(headers, h);
        free(h);
    }
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    struct err e = {0};
    run->easy = easy;
    run->http_headers = headers;
    if (net_transfer_start(run->rbs->net, easy, on_http_done, run, &e) < 0) {
        run->easy = NULL;
        net_easy_put(run->rbs->net, easy);
        curl_slist_free_all(headers);
        run->http_headers = NULL;
        reason_setf(run, "%s", e.msg);
        fail_soon(run);
        return;
    }
    run->phase = RUN_PHASE_HTTP;
}

/* ---- check and verify: the checks' runner, now ---- */

static void on_check_result(uv_timer_t *t);

/* Heard from the checks' side, maybe within run_now(): acted on from the loop. */
static void on_check_done(int status, const char *summary, void *data)
{
    struct runbook__check_wait *w = data;
    struct run *run = w->run;
    free(w);
    if (!run)
        return; /* the step ended (timed out, or the run) before the check answered */
    run->wait = NULL;
    run->check_status = status;
    set_str(&run->check_summary, summary ? summary : "");
    uv_timer_stop(run->timer);
    uv_timer_start(run->timer, on_check_result, 0, 0);
}

static const struct config_check *check_of(const struct run *run)
{
    const struct config_step *s = step_of(run);
    if (s->check)
        return s->check;
    return run->check ? config_check_find(run->config, run->check) : NULL;
}

static const char *const status_names[] = {"ok", "warning", "critical", "unknown"};

static const char *status_name(int status)
{
    return status >= 0 && status <= 3 ? status_names[status] : "unknown";
}

static void on_check_timeout(uv_timer_t *t)
{
    struct run *run = t->data;
    if (run->wait)
        run->wait->run = NULL;
    run->wait = NULL;
    char took[32];
    runbook__duration(step_of(run)->timeout_ms, took, sizeof(took));
    run->cur.timed_out = true;
    reason_setf(run, "the check did not answer within %s", took);
    runbook__attempt_done(run, false);
}

/* Asks for a run of the check now; false when the checks' side refused (reason set). */
static bool check_ask(struct run *run, const struct config_check *check)
{
    const struct runbooks_checks *c = &run->rbs->o.checks;
    if (!c->run_now) {
        reason_setf(run, "checks cannot be run now here");
        return false;
    }
    struct runbook__check_wait *w = xcalloc(1, sizeof(*w));
    w->run = run;
    run->wait = w;
    run->phase = RUN_PHASE_CHECK;
    run->tries++;
    struct err e = {0};
    if (c->run_now(c->ctx, check, on_check_done, w, &e) < 0) {
        run->wait = NULL;
        free(w);
        reason_setf(run, "check %s cannot run: %s", check->name, e.msg);
        return false;
    }
    /* A verify step's time is its `within`; a check step's, its timeout. */
    uint64_t limit = step_of(run)->timeout_ms;
    if (step_of(run)->action == CONFIG_STEP_VERIFY) {
        int64_t left = run->verify_until_ms - runbook__now_ms();
        limit = left > 0 ? (uint64_t)left + check->timeout_ms : check->timeout_ms;
    }
    if (run->phase == RUN_PHASE_CHECK && run->wait)
        uv_timer_start(run->timer, on_check_timeout, limit, 0);
    return true;
}

static void on_verify_again(uv_timer_t *t)
{
    struct run *run = t->data;
    const struct config_check *check = check_of(run);
    if (!check_ask(run, check))
        runbook__attempt_done(run, false);
}

static void on_check_result(uv_timer_t *t)
{
    struct run *run = t->data;
    const struct config_step *s = step_of(run);
    const struct config_check *check = check_of(run);
    int status = run->check_status;
    free(run->cur.output);
    run->cur.output = xasprintf("%s: %s", status_name(status), run->check_summary);
    run->cur.exit_status = status;
    if (s->action == CONFIG_STEP_CHECK) {
        reason_setf(run, "check %s %s", check->name, status_name(status));
        runbook__attempt_done(run, status == 0);
        return;
    }
    int64_t now = runbook__now_ms();
    if (status == 0) {
        reason_setf(run, "verify %s ok after %u tr%s", check->name, run->tries,
                    run->tries == 1 ? "y" : "ies");
        set_str(&run->verify_words, run->cur.reason);
        runbook__attempt_done(run, true);
        return;
    }
    /* Again at the check's interval or every second, whichever is shorter, until `within`. */
    uint64_t every =
            check->every_ms < RUNBOOK_VERIFY_EVERY_MS ? check->every_ms : RUNBOOK_VERIFY_EVERY_MS;
    if (now + (int64_t)every < run->verify_until_ms) {
        run->phase = RUN_PHASE_PAUSE;
        uv_timer_start(run->timer, on_verify_again, every, 0);
        return;
    }
    char within[32];
    runbook__duration(s->within_ms, within, sizeof(within));
    reason_setf(run, "verify %s still %s after %u tr%s within %s", check->name, status_name(status),
                run->tries, run->tries == 1 ? "y" : "ies", within);
    runbook__attempt_done(run, false);
}

static void begin_check(struct run *run)
{
    const struct config_step *s = step_of(run);
    const struct config_check *check = check_of(run);
    run->tries = 0;
    run->verify_until_ms = runbook__now_ms() + (int64_t)s->within_ms;
    if (!check) {
        started(run, "no check");
        reason_setf(run, "no check to run: the step names none and the run has no check");
        fail_soon(run);
        return;
    }
    char within[32];
    runbook__duration(s->within_ms, within, sizeof(within));
    char *words = s->action == CONFIG_STEP_VERIFY
                          ? xasprintf("run %s until ok, within %s", check->name, within)
                          : xasprintf("run %s", check->name);
    started(run, words);
    free(words);
    if (!check_ask(run, check))
        fail_soon(run);
}

/* ---- approve: a gate ---- */

static void on_gate_expired(uv_timer_t *t)
{
    struct run *run = t->data;
    char took[32], why[128];
    runbook__duration(step_of(run)->timeout_ms, took, sizeof(took));
    snprintf(why, sizeof(why), "nobody answered the approval gate within %s", took);
    set_str(&run->rec.decision, "expired");
    set_str(&run->rec.decided_by, "hale");
    run->rec.decided_ms = runbook__now_ms();
    runbook__note(run, TIMELINE_APPROVAL, "approval expired: %s", why);
    set_str(&run->cur.outcome, "failed");
    run->cur.ended_ms = runbook__now_ms();
    set_str(&run->cur.reason, why);
    runbook__save(run, true, NULL, NULL);
    run->outcomes[run->step] = PLAN_FAILED;
    runbook__run_end(run, RUN_EXPIRED, true, why);
}

void runbook__gate_open(struct run *run)
{
    const struct config_step *s = step_of(run);
    run->phase = RUN_PHASE_GATE;
    run->outcome = RUN_WAITING;
    set_str(&run->rec.outcome, run_outcome_name(RUN_WAITING));
    runbook__deadline_pause(run);
    int64_t now = runbook__now_ms();
    if (run->rec.gate_step != (int)run->step || !run->rec.deadline_ms) {
        /* A new gate; one found on start-up keeps its deadline. */
        run->rec.gate_step = (int)run->step;
        set_str(&run->rec.question, s->approve);
        run->rec.deadline_ms = now + (int64_t)s->timeout_ms;
        set_str(&run->rec.decided_by, NULL);
        set_str(&run->rec.decision, NULL);
        set_str(&run->rec.comment, NULL);
        run->rec.decided_ms = 0;
        char in[32];
        runbook__duration(s->timeout_ms, in, sizeof(in));
        runbook__save(run, false, NULL, NULL);
        runbook__note(run, TIMELINE_APPROVAL,
                      "waiting for approval: %s (expires in %s; hale approve %lld, or --reject)",
                      s->approve ? s->approve : "", in, (long long)run->rec.id);
        if (run->rbs->o.notify) {
            char *text = xasprintf("run %lld of %s waits for approval: %s", (long long)run->rec.id,
                                   run->rb->name, s->approve);
            runbook__notify(run, RUNBOOKS_NOTICE_ESCALATE, text);
            free(text);
        }
    }
    int64_t left = run->rec.deadline_ms - now;
    uv_timer_start(run->timer, on_gate_expired, left > 0 ? (uint64_t)left : 0, 0);
}

static void begin_approve(struct run *run)
{
    const struct config_step *s = step_of(run);
    started(run, s->approve ? s->approve : "approval");
    runbook__gate_open(run);
}

/* ---- notify and wait ---- */

static void begin_notify(struct run *run)
{
    const struct config_step *s = step_of(run);
    started(run, s->notify ? s->notify : "");
    const char *team = run->rb->team_name;
    bool users = s->notify_to == CONFIG_NOTIFY_TO_USERS;
    /* Whom it tells, in words: the team, or the users the team speaks to. */
    char *whom = xasprintf(users ? "%s's users" : "%s", team ? team : "nobody's team");
    runbook__note(run, TIMELINE_NOTIFICATION, "to %s: %s", whom, s->notify ? s->notify : "");
    runbook__notify(run, users ? RUNBOOKS_NOTICE_USERS : RUNBOOKS_NOTICE_STEP,
                    s->notify ? s->notify : "");
    reason_setf(run, "told %s", team ? whom : "nobody (the runbook has no team)");
    free(whom);
    uv_timer_start(run->timer, on_ok_timer, 0, 0);
}

static void begin_wait(struct run *run)
{
    const struct config_step *s = step_of(run);
    char d[32];
    runbook__duration(s->wait_ms, d, sizeof(d));
    started(run, d);
    reason_setf(run, "waited %s", d);
    run->phase = RUN_PHASE_PAUSE;
    uv_timer_start(run->timer, on_ok_timer, s->wait_ms, 0);
}

/* ---- all kinds ---- */

void runbook__step_begin(struct run *run)
{
    switch (step_of(run)->action) {
    case CONFIG_STEP_RUN:
    case CONFIG_STEP_SHELL:
        begin_process(run);
        return;
    case CONFIG_STEP_HTTP:
        begin_http(run);
        return;
    case CONFIG_STEP_CHECK:
    case CONFIG_STEP_VERIFY:
        begin_check(run);
        return;
    case CONFIG_STEP_APPROVE:
        begin_approve(run);
        return;
    case CONFIG_STEP_NOTIFY:
        begin_notify(run);
        return;
    case CONFIG_STEP_WAIT:
        begin_wait(run);
        return;
    }
    reason_setf(run, "unknown step kind");
    fail_soon(run);
}

void runbook__step_abort(struct run *run)
{
    uv_timer_stop(run->timer);
    if (run->proc)
        proc_cancel(run->proc); /* its callback frees the run if it ended meanwhile */
    if (run->easy) {
        net_transfer_cancel(run->easy);
        net_easy_put(run->rbs->net, run->easy);
        run->easy = NULL;
        curl_slist_free_all(run->http_headers);
        run->http_headers = NULL;
    }
    if (run->wait) {
        run->wait->run = NULL; /* freed when the check answers */
        run->wait = NULL;
    }
}
