/* SPDX-License-Identifier: MIT */
/*
 * Child processes: run an argv (never through a shell) on the loop, in a
 * process group of its own, with its output captured into bounded buffers
 * and its time bounded by a timeout. Command checks, runbook steps and the
 * exec notifier all run their programs through here, so that every child
 * hale starts is killed with its whole group when its time is up and none
 * is left behind.
 */
#ifndef HALE_PROC_PROC_H
#define HALE_PROC_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "base/err.h"

#define PROC_OUTPUT_MAX_DEFAULT (64u * 1024u) /* bytes kept of stdout, and of stderr */
#define PROC_KILL_GRACE_MS      2000u         /* between SIGTERM and SIGKILL */
#define PROC_DRAIN_MS           500u /* pipes may stay open this long after the child exits */
#define PROC_STDIN_MAX          (16u * 1024u * 1024u) /* bytes of input a child may be given */
#define PROC_PROBE_MS           2000u /* after SIGKILL, how long to wait for the group to go */

struct proc;

/* One variable added to the child's environment (replacing hale's own of that name). */
struct proc_env_var {
    const char *name;
    const char *value; /* passed as data: never expanded, never parsed */
};

struct proc_options {
    /*
     * The program and its arguments, NULL-terminated; argv[0] is a path, or
     * a name looked up in PATH. Copied by proc_spawn().
     */
    const char *const *argv;
    const char *cwd; /* NULL: hale's own */
    const struct proc_env_var *env;
    size_t n_env;
    /* Written to the child's stdin, then closed; NULL: stdin is /dev/null. Copied. */
    const void *stdin_data;
    size_t stdin_len;
    size_t stdout_max, stderr_max; /* bytes kept; 0: PROC_OUTPUT_MAX_DEFAULT */
    uint64_t timeout_ms;           /* 0: none (the caller cancels) */
    uint64_t kill_grace_ms;        /* 0: PROC_KILL_GRACE_MS */
    uint64_t drain_ms;             /* 0: PROC_DRAIN_MS */
};

/* How a child ended; borrowed for the completion callback only. */
struct proc_result {
    pid_t pid;           /* also its process group */
    int64_t exit_status; /* the exit code, when term_signal is 0 */
    int term_signal;     /* the signal that ended it, or 0 */
    /* What it wrote, NUL-terminated after len bytes (it may hold NULs itself). */
    const char *out;
    size_t out_len;
    bool out_truncated; /* more was written than stdout_max; the rest was read and dropped */
    const char *err;
    size_t err_len;
    bool err_truncated;
    bool timed_out;        /* the timeout passed and the group was killed */
    bool canceled;         /* proc_cancel() was called before it ended */
    bool pipes_cut;        /* a descendant held the pipes open after the child exited */
    bool leftovers_killed; /* descendants in its group outlived it and were killed */
    bool orphans_left;     /* some of its group survived SIGKILL (unkillable, "D" state) */
    uint64_t duration_ms;  /* from spawn to its exit */
};

/*
 * Called once on the loop thread when the child exited, both pipes reached
 * EOF (or were cut) and no process of its group is left; every handle of
 * the proc is closed by then, and p is freed when the callback returns.
 */
typedef void proc_done_cb(struct proc *p, const struct proc_result *res, void *data);

/*
 * Starts o->argv on uv. On success returns 0, sets *ret_proc (may be NULL;
 * valid until done returns) and calls done later, exactly once. When the
 * program cannot be started (-ENOENT: not found, -EACCES: not executable,
 * ...) returns that error with e saying which program and why, and never
 * calls done. Loop thread; may be called from a loop callback.
 *
 * Writing stdin to a child that stopped reading raises SIGPIPE: the
 * process must ignore it (`hale serve` does).
 */
int proc_spawn(uv_loop_t *uv, const struct proc_options *o, proc_done_cb *done, void *data,
               struct proc **ret_proc, struct err *e);

/*
 * Ends the child now: SIGTERM to its group, SIGKILL after the grace
 * period. done still comes, with canceled set. Idempotent; only before done
 * was called. Loop thread.
 */
void proc_cancel(struct proc *p);

/* The child's pid, which is also its process group. Until done was called. */
pid_t proc_pid(const struct proc *p);

/*
 * Whether any process of group pgid is still running: zombies (dead and
 * waiting for a parent that may never reap them) do not count. Reads /proc
 * when kill(-pgid, 0) finds members; stops after PROC_SCAN_MAX entries and
 * then answers true. Any thread.
 */
bool proc_group_is_alive(pid_t pgid);

#define PROC_SCAN_MAX 100000u

/* What /proc/PID/stat says of a process. */
struct proc_stat {
    char comm[16]; /* its name, as the kernel keeps it (15 bytes at most) */
    char state;    /* 'R', 'S', 'D', 'Z' (zombie), ... */
    pid_t ppid, pgrp;
    uint64_t utime, stime; /* clock ticks (sysconf(_SC_CLK_TCK)) spent in user and kernel mode */
    uint64_t starttime;    /* ticks after boot it started: tells a reused pid apart */
    uint64_t rss_pages;
};

/*
 * Reads /proc/PID/stat into *ret (written only on success). Returns 0,
 * -ENOENT when there is no such process, HALE_EPARSE for a line it cannot
 * read. Any thread.
 */
int proc_stat_read(pid_t pid, struct proc_stat *ret);

/* Parses the text of a /proc/PID/stat line (len bytes) as proc_stat_read() does. */
int proc_stat_parse(const char *text, size_t len, struct proc_stat *ret);

#endif
