/* SPDX-License-Identifier: MIT */
/*
 * The checks' side of the runbook executor, for `hale serve`: a check or
 * verify step asks the daemon's current check runner for a run now (its
 * result feeds the check's state like any run, so a verify that passes
 * is also the check's recovery), and the flapping guard asks it whether
 * a check flaps. The runner changes at each reload: the seam looks it up
 * at each call, and a check step waiting on a runner a reload stopped
 * is moved to the new one. Also the executor's seam to the
 * notifications: a failed heal, a tripped guard or an approval waiting
 * escalates to the team.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "checks/checks.h"
#include "cli/internal.h"
#include "notify/notify.h"

struct run_now_wait {
    struct checks *const *checks; /* the daemon's runner now: a reload replaces it */
    struct checks *asked;         /* the runner asked */
    char *check;
    runbooks_check_done_cb *done;
    void *data;
};

static void wait_free(struct run_now_wait *w)
{
    free(w->check);
    free(w);
}

static void on_check_ran(const struct config_check *check, const struct check_observation *o,
                         void *data)
{
    (void)check;
    struct run_now_wait *w = data;
    /*
     * The runner asked was replaced by a reload while the check waited or
     * ran: its answer only says it stopped, which is no result of the
     * check. The new runner is asked instead, so a reload never fails a
     * check or verify step. When hale stops (no runner), the answer goes on.
     */
    if (*w->checks && *w->checks != w->asked) {
        w->asked = *w->checks;
        int r = checks_run_now(w->asked, w->check, on_check_ran, w);
        if (r == 0)
            return;
        char summary[300];
        snprintf(summary, sizeof(summary), "check %s %s after the reload", w->check,
                 r == HALE_ENOTFOUND ? "is gone from the configuration" : "cannot run now");
        w->done(CHECK_STATUS_UNKNOWN, summary, w->data);
        wait_free(w);
        return;
    }
    w->done((int)o->status, o->summary, w->data);
    wait_free(w);
}

static int run_now(void *ctx, const struct config_check *check, runbooks_check_done_cb *done,
                   void *data, struct err *e)
{
    struct checks *const *checks = ctx;
    if (!*checks)
        return err_setf(e, HALE_ESTATE, "hale is stopping: no check runs now");
    struct run_now_wait *w = xcalloc(1, sizeof(*w));
    *w = (struct run_now_wait){.checks = checks,
                               .asked = *checks,
                               .check = xstrdup(check->name),
                               .done = done,
                               .data = data};
    int r = checks_run_now(*checks, check->name, on_check_ran, w);
    if (r < 0) {
        wait_free(w);
        return err_setf(e, r,
                        r == HALE_ENOTFOUND ? "no check %s in the running configuration"
                                            : "check %s cannot run now: hale is stopping",
                        check->name);
    }
    return 0;
}

static bool is_flapping(void *ctx, const char *check)
{
    struct checks *const *checks = ctx;
    struct checks_state st;
    return *checks && checks_state_find(*checks, check, &st) && st.flapping;
}

struct runbooks_checks cli__runbooks_checks(struct checks *const *checks)
{
    return (struct runbooks_checks){
            .run_now = run_now,
            .is_flapping = is_flapping,
            .ctx = (void *)(uintptr_t)checks,
    };
}

void cli__runbooks_notify(void *ctx, const struct incident *i, const char *team,
                          enum runbooks_notice kind, const char *text)
{
    if (kind == RUNBOOKS_NOTICE_STEP)
        notify_step(ctx, i, team, text);
    else if (kind == RUNBOOKS_NOTICE_USERS)
        notify_users(ctx, i, team, text);
    else
        notify_escalate(ctx, i, team, text);
}
