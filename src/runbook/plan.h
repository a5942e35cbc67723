/* SPDX-License-Identifier: MIT */
/*
 * The plan of a run: a runbook's steps made concrete for one event, as
 * pure functions of the configuration and the event's labels. The
 * executor starts what the plan says; `hale run --dry-run` prints it and
 * starts nothing. A label value is only ever data: it replaces a whole
 * argv element or a whole environment value (`${labels.NAME}`), or
 * reaches a step as a HALE_LABEL_<NAME> variable, never a piece of a
 * shell string.
 */
#ifndef HALE_RUNBOOK_PLAN_H
#define HALE_RUNBOOK_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/labels.h"
#include "config/config.h"
#include "proc/proc.h"

/* What a run is about; every field borrowed. */
struct plan_input {
    const struct config_runbook *runbook;
    const struct labels *labels; /* the incident's (or those given to `hale run`) */
    int64_t run_id;              /* 0 in a dry run */
    int64_t incident_id;         /* 0: a run by hand with no incident */
    const char *check;           /* the check that opened the incident, or NULL */
    const char *data_dir;        /* the default working directory of run and shell steps */
};

/* How a step ended, as the run's later `when:` conditions see it. */
enum plan_outcome {
    PLAN_PENDING,   /* not reached yet */
    PLAN_SUCCEEDED, /* run/shell exit 0, http status expected, check/verify ok, approved, ... */
    PLAN_FAILED,    /* after its retries */
    PLAN_SKIPPED,   /* its when: said no */
};

/* "pending", "succeeded", "failed", "skipped"; static storage. */
const char *plan_outcome_name(enum plan_outcome o);

/* A run or shell step ready for proc_spawn(); free with plan_exec_fini(). */
struct plan_exec {
    char **argv; /* NULL-terminated; shell: /bin/sh -c SCRIPT (the script as written) */
    struct proc_env_var *env; /* HALE_* first, then the step's env:, substituted */
    size_t n_env;
    const char *cwd; /* borrowed from the config or the input */
};

void plan_exec_fini(struct plan_exec *x);

/*
 * The argv, environment and working directory of step s (a run or a shell
 * step) of in->runbook, into ret. The environment holds HALE_RUN_ID,
 * HALE_INCIDENT_ID (when there is one), HALE_RUNBOOK, HALE_STEP,
 * HALE_ATTEMPT (attempt, from 1), HALE_CHECK (when there is one) and
 * HALE_LABEL_<NAME> for every label
 * (NAME upper-cased, every byte outside [A-Z0-9_] made '_'), then the
 * step's env:. Returns 0, or -EINVAL with e naming the step and the label
 * when a `${labels.NAME}` names a label the event does not have (the step
 * fails without running: a missing argument must never become ""), or
 * when a label's value that replaces an argv element starts with '-' and
 * no earlier element is exactly "--" (it would be read as an option).
 */
int plan_exec(const struct plan_input *in, const struct config_step *s, unsigned attempt,
              struct plan_exec *ret, struct err *e);

/*
 * Whether step s runs, by its when: (always; the named earlier step
 * failed or succeeded, by outcomes[], one per step of the runbook; the
 * labels match).
 */
bool plan_step_runs(const struct config_step *s, const struct labels *labels,
                    const enum plan_outcome *outcomes);

/*
 * The wait before retry number `retry` (1 for the first retry) of s:
 * backoff doubled each time, at most max_backoff.
 */
uint64_t plan_retry_delay_ms(const struct config_step *s, unsigned retry);

/*
 * The guard's key of a run: the value of the guard's key label ("" when
 * the event lacks it), or the runbook's name when the guard has no key.
 * Borrowed from in.
 */
const char *plan_target(const struct plan_input *in);

/*
 * The plan in words for people (`hale run --dry-run`), into a new string:
 * every step with its action, purpose, timeout, retry, when and
 * on_failure, and for run and shell steps the substituted argv and the
 * environment it would get. A step whose substitution fails says so on
 * its line. Nothing is started.
 */
char *plan_describe(const struct plan_input *in);

#endif
