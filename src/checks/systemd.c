/* SPDX-License-Identifier: MIT */
/*
 * The systemd kind: asks `systemctl show` for one unit's LoadState,
 * ActiveState, SubState, Result, NRestarts and MainPID, and judges the
 * states: active is ok, a unit on its way (activating, reloading) a
 * warning, a stopped, failed or missing unit critical. `show` rather than
 * `is-active`, whose exit codes cannot tell a missing unit from a stopped
 * one. The parser and the judgement are separate so tests need no systemd.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "checks/internal.h"
#include "proc/proc.h"

#define SYSTEMD_PROPERTIES "--property=LoadState,ActiveState,SubState,Result,NRestarts,MainPID"
#define SYSTEMD_OUTPUT_MAX (16u * 1024u)

struct systemd_run {
    struct proc *proc;
};

static void systemd_copy(char *dst, size_t size, const char *v, size_t len)
{
    if (len >= size)
        len = size - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

/* A number, or false for "[not set]", "infinity", "" and anything else. */
static bool systemd_number(const char *v, size_t len, uint64_t *ret)
{
    if (len == 0 || len > 20)
        return false;
    uint64_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        uint64_t d = (uint64_t)(v[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *ret = n;
    return true;
}

int check__systemd_parse(const char *text, size_t len, struct check__systemd_unit *ret)
{
    struct check__systemd_unit u = {0};
    const char *end = text + len;
    for (const char *line = text; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        const char *le = nl ? nl : end;
        const char *eq = memchr(line, '=', (size_t)(le - line));
        if (eq) {
            size_t kl = (size_t)(eq - line);
            const char *v = eq + 1;
            size_t vl = (size_t)(le - v);
            if (vl > 0 && v[vl - 1] == '\r')
                vl--;
#define KEY_IS(k) (kl == sizeof(k) - 1 && memcmp(line, k, kl) == 0)
            if (KEY_IS("LoadState"))
                systemd_copy(u.load_state, sizeof(u.load_state), v, vl);
            else if (KEY_IS("ActiveState"))
                systemd_copy(u.active_state, sizeof(u.active_state), v, vl);
            else if (KEY_IS("SubState"))
                systemd_copy(u.sub_state, sizeof(u.sub_state), v, vl);
            else if (KEY_IS("Result"))
                systemd_copy(u.result, sizeof(u.result), v, vl);
            else if (KEY_IS("NRestarts"))
                u.has_restarts = systemd_number(v, vl, &u.restarts);
            else if (KEY_IS("MainPID"))
                u.has_main_pid = systemd_number(v, vl, &u.main_pid);
#undef KEY_IS
        }
        line = nl ? nl + 1 : end;
    }
    if (!u.load_state[0] || !u.active_state[0])
        return HALE_EPARSE;
    *ret = u;
    return 0;
}

static bool systemd_is(const char *s, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(s, *set) == 0)
            return true;
    return false;
}

enum check_status check__systemd_judge(const char *unit, const struct check__systemd_unit *u,
                                       char *summary, size_t size)
{
    static const char *const on_the_way[] = {"activating", "reloading",   "deactivating",
                                             "refreshing", "maintenance", NULL};
    static const char *const broken_load[] = {"error", "bad-setting", "masked", NULL};
    char sub[80] = "";
    if (u->sub_state[0])
        snprintf(sub, sizeof(sub), " (%s)", u->sub_state);
    char restarts[48] = "";
    if (u->has_restarts && u->restarts > 0)
        snprintf(restarts, sizeof(restarts), ", restarted %llu times",
                 (unsigned long long)u->restarts);

    if (strcmp(u->load_state, "not-found") == 0) {
        snprintf(summary, size, "%s not found (LoadState=not-found, ActiveState=%s)", unit,
                 u->active_state);
        return CHECK_STATUS_CRITICAL;
    }
    bool active = strcmp(u->active_state, "active") == 0;
    if (systemd_is(u->load_state, broken_load)) {
        snprintf(summary, size, "%s is %s%s but its unit did not load (LoadState=%s)", unit,
                 u->active_state, sub, u->load_state);
        return active ? CHECK_STATUS_WARNING : CHECK_STATUS_CRITICAL;
    }
    if (active) {
        snprintf(summary, size, "%s is active%s%s", unit, sub, restarts);
        return CHECK_STATUS_OK;
    }
    if (systemd_is(u->active_state, on_the_way)) {
        snprintf(summary, size, "%s is %s%s%s", unit, u->active_state, sub, restarts);
        return CHECK_STATUS_WARNING;
    }
    /* inactive, failed, and states this code does not know: not running. */
    char result[64] = "";
    if (u->result[0] && strcmp(u->result, "success") != 0)
        snprintf(result, sizeof(result), ", result %s", u->result);
    snprintf(summary, size, "%s is %s%s%s%s", unit, u->active_state, sub, result, restarts);
    return CHECK_STATUS_CRITICAL;
}

/* The first line of text, for a summary. */
static int systemd_first_line(const char *text, size_t len)
{
    const char *nl = memchr(text, '\n', len);
    size_t n = nl ? (size_t)(nl - text) : len;
    return n > 200 ? 200 : (int)n;
}

static void systemd_done(struct proc *p, const struct proc_result *res, void *data)
{
    (void)p;
    struct check_run *run = data;
    const char *unit = run->cfg->u.systemd.unit;
    free(run->kind_data);
    run->kind_data = NULL;
    if (res->term_signal || res->exit_status != 0) {
        const char *why = res->err_len ? res->err : res->out;
        size_t wl = res->err_len ? res->err_len : res->out_len;
        if (res->term_signal)
            check_run_finish(run, CHECK_STATUS_UNKNOWN, "systemctl show %s: killed by signal %d",
                             unit, res->term_signal);
        else
            check_run_finish(run, CHECK_STATUS_UNKNOWN, "systemctl show %s: exited with %lld: %.*s",
                             unit, (long long)res->exit_status, systemd_first_line(why, wl), why);
        return;
    }
    struct check__systemd_unit u;
    if (check__systemd_parse(res->out, res->out_len, &u) < 0) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN,
                         "systemctl show %s printed no LoadState or ActiveState", unit);
        return;
    }
    char summary[512];
    enum check_status s = check__systemd_judge(unit, &u, summary, sizeof(summary));
    if (u.has_restarts)
        check_run_sample(run, "restarts", (double)u.restarts, "c");
    check_run_finish(run, s, "%s", summary);
}

static void systemd_start(struct check_run *run)
{
    const char *unit = run->cfg->u.systemd.unit;
    /* What sd_booted() tests: without it systemctl has no manager to ask. */
    if (access("/run/systemd/system", F_OK) < 0) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN,
                         "cannot check %s: systemd is not running on this host (PID 1 is not "
                         "systemd)",
                         unit);
        return;
    }
    const char *argv[] = {"systemctl", "show", SYSTEMD_PROPERTIES, "--", unit, NULL};
    struct proc_options o = {
            .argv = argv,
            .cwd = "/",
            .stdout_max = SYSTEMD_OUTPUT_MAX,
            .stderr_max = SYSTEMD_OUTPUT_MAX,
    };
    struct systemd_run *sr = xcalloc(1, sizeof(*sr));
    run->kind_data = sr;
    struct err e = {0};
    int r = proc_spawn(run->uv, &o, systemd_done, run, &sr->proc, &e);
    if (r < 0) {
        free(sr);
        run->kind_data = NULL;
        if (r == -ENOENT)
            check_run_finish(run, CHECK_STATUS_UNKNOWN,
                             "cannot check %s: systemctl is not installed (not found in PATH)",
                             unit);
        else
            check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot check %s: %s", unit, e.msg);
    }
}

static void systemd_abort(struct check_run *run)
{
    struct systemd_run *sr = run->kind_data;
    if (sr)
        proc_cancel(sr->proc);
}

const struct check_kind check_kind_systemd = {
        .type = CONFIG_CHECK_SYSTEMD,
        .spawns = true,
        .start = systemd_start,
        .abort = systemd_abort,
};
