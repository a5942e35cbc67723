/* SPDX-License-Identifier: MIT */
/*
 * The command kind: runs a Monitoring Plugin (or any program that speaks
 * its API) through proc/, with the data directory as its working directory,
 * and reads its exit code and output into the observation with
 * check_plugin_parse(). The runner's timeout aborts the run, which kills
 * the plugin's whole process group.
 */
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "checks/internal.h"
#include "proc/proc.h"

struct command_run {
    struct proc *proc;
};

static void command_done(struct proc *p, const struct proc_result *res, void *data)
{
    (void)p;
    struct check_run *run = data;
    free(run->kind_data);
    run->kind_data = NULL;

    /* Plugins write to stdout; stderr is worth showing only when stdout is silent. */
    struct check_plugin_result pr = {
            .exit_status = res->exit_status,
            .term_signal = res->term_signal,
            .output = res->out,
            .output_len = res->out_len,
            .output_truncated = res->out_truncated,
    };
    if (res->out_len == 0 && res->err_len > 0) {
        pr.output = res->err;
        pr.output_len = res->err_len;
        pr.output_truncated = res->err_truncated;
    }
    struct check_observation o = {0};
    check_plugin_parse(&pr, CHECK_OUTPUT_MAX_DEFAULT, &o);
    if (res->orphans_left)
        check__note(&o, "processes of the plugin's group survived SIGKILL");
    else if (res->leftovers_killed && !res->timed_out && !res->canceled)
        check__note(&o, "the plugin left processes behind; they were killed");
    check_run_finish_observation(run, &o);
}

static void command_start(struct check_run *run)
{
    const struct config_strv *argv = &run->cfg->u.command.run;
    if (argv->n == 0) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "no command to run");
        return;
    }
    struct proc_options o = {
            .argv = argv->v, /* NULL-ended */
            .cwd = run->host->data_dir,
            /* A little over what the parser reads, so it can tell that it cut. */
            .stdout_max = CHECK_OUTPUT_MAX_DEFAULT + 1,
            .stderr_max = CHECK_OUTPUT_MAX_DEFAULT + 1,
    };
    struct command_run *cr = xcalloc(1, sizeof(*cr));
    run->kind_data = cr;
    struct err e = {0};
    int r = proc_spawn(run->uv, &o, command_done, run, &cr->proc, &e);
    if (r < 0) {
        free(cr);
        run->kind_data = NULL;
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "%s", e.msg);
    }
}

static void command_abort(struct check_run *run)
{
    struct command_run *cr = run->kind_data;
    if (cr)
        proc_cancel(cr->proc); /* command_done() finishes the run */
}

const struct check_kind check_kind_command = {
        .type = CONFIG_CHECK_COMMAND,
        .spawns = true,
        .start = command_start,
        .abort = command_abort,
};
