/* SPDX-License-Identifier: MIT */
/*
 * A child process run on the loop: spawned with uv_spawn() as the leader
 * of a new session (so its process group is its pid), fed stdin, drained
 * of stdout and stderr into capped buffers, killed with its whole group at
 * its timeout, and reported once it exited, its pipes are done and nothing
 * of its group is left running. One timer drives every deadline.
 */
#include "proc/proc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"

extern char **environ;

struct proc_pipe {
    uv_pipe_t h;
    struct proc *p;
    char *buf; /* NUL-terminated; grows up to max */
    size_t len, size, max;
    bool truncated;
    bool done; /* EOF, a read error, or cut */
};

struct proc {
    uv_loop_t *uv;
    uv_process_t process;
    struct proc_pipe out, err;
    uv_pipe_t in;
    uv_write_t in_req;
    char *in_data;
    bool has_in;
    uv_timer_t timer;
    proc_done_cb *done;
    void *data;

    pid_t pid;
    uint64_t started_ns, exited_ns;
    uint64_t timeout_ms, grace_ms, drain_ms;
    uint64_t kill_at_ns; /* when SIGKILL follows the SIGTERM sent */
    uint64_t drain_until_ns;
    uint64_t probe_until_ns;
    int64_t exit_status;
    int term_signal;
    bool exited, draining, term_sent, kill_sent, completing;
    bool timed_out, canceled, pipes_cut, leftovers_killed, orphans_left;
    unsigned open_handles;
    char scratch[16384]; /* every read lands here, then is copied or dropped */
};

static void proc_advance(struct proc *p);
static void proc_pipe_cut(struct proc_pipe *pp);

/* ---- /proc ---- */

int proc_stat_parse(const char *text, size_t len, struct proc_stat *ret)
{
    /* "PID (COMM) S PPID PGRP ...": the name may hold ')' and blanks, so find the last ')'. */
    const char *open = memchr(text, '(', len);
    const char *close = NULL;
    for (size_t i = len; i > 0; i--)
        if (text[i - 1] == ')') {
            close = text + i - 1;
            break;
        }
    if (!open || !close || close < open)
        return HALE_EPARSE;
    struct proc_stat st = {0};
    size_t n = (size_t)(close - open - 1);
    if (n >= sizeof(st.comm))
        n = sizeof(st.comm) - 1;
    memcpy(st.comm, open + 1, n);
    st.comm[n] = '\0';

    /* Fields after the name, numbered as in proc(5): 3 is the state. */
    char rest[1024];
    size_t rl = (size_t)(text + len - (close + 1));
    if (rl >= sizeof(rest))
        rl = sizeof(rest) - 1;
    memcpy(rest, close + 1, rl);
    rest[rl] = '\0';
    char *s = rest;
    for (int field = 3; field <= 24; field++) {
        while (*s == ' ')
            s++;
        if (!*s)
            return HALE_EPARSE;
        char *end;
        if (field == 3) {
            st.state = *s;
            end = s + 1;
        } else {
            errno = 0;
            long long v = strtoll(s, &end, 10);
            if (end == s || errno)
                return HALE_EPARSE;
            switch (field) {
            case 4:
                st.ppid = (pid_t)v;
                break;
            case 5:
                st.pgrp = (pid_t)v;
                break;
            case 14:
                st.utime = (uint64_t)v;
                break;
            case 15:
                st.stime = (uint64_t)v;
                break;
            case 22:
                st.starttime = (uint64_t)v;
                break;
            case 24:
                st.rss_pages = v > 0 ? (uint64_t)v : 0;
                break;
            default:
                break;
            }
        }
        s = end;
    }
    *ret = st;
    return 0;
}

int proc_stat_read(pid_t pid, struct proc_stat *ret)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT || errno == ESRCH ? -ENOENT : -errno;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    if (n == 0)
        return -ENOENT; /* it went away between open and read */
    buf[n] = '\0';
    return proc_stat_parse(buf, n, ret);
}

bool proc_group_is_alive(pid_t pgid)
{
    if (pgid <= 1)
        return false;
    if (kill(-pgid, 0) < 0 && errno == ESRCH)
        return false;
    /* Members exist, but zombies count too: look for one that still runs. */
    DIR *d = opendir("/proc");
    if (!d)
        return true;
    bool alive = false;
    unsigned seen = 0;
    struct dirent *de;
    while (!alive && (de = readdir(d))) {
        if (++seen > PROC_SCAN_MAX) {
            alive = true; /* cannot tell: assume the worst */
            break;
        }
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        struct proc_stat st;
        if (proc_stat_read((pid_t)pid, &st) == 0 && st.pgrp == pgid && st.state != 'Z' &&
            st.state != 'X')
            alive = true;
    }
    closedir(d);
    return alive;
}

/* ---- completion ---- */

static void proc_closed(uv_handle_t *h)
{
    struct proc *p = h->data;
    if (--p->open_handles > 0)
        return;
    if (p->completing) {
        struct proc_result res = {
                .pid = p->pid,
                .exit_status = p->exit_status,
                .term_signal = p->term_signal,
                .out = p->out.buf ? p->out.buf : "",
                .out_len = p->out.len,
                .out_truncated = p->out.truncated,
                .err = p->err.buf ? p->err.buf : "",
                .err_len = p->err.len,
                .err_truncated = p->err.truncated,
                .timed_out = p->timed_out,
                .canceled = p->canceled,
                .pipes_cut = p->pipes_cut,
                .leftovers_killed = p->leftovers_killed,
                .orphans_left = p->orphans_left,
                .duration_ms = (p->exited_ns - p->started_ns) / 1000000u,
        };
        p->done(p, &res, p->data);
    }
    free(p->out.buf);
    free(p->err.buf);
    free(p->in_data);
    free(p);
}

/* open_handles counts every handle initialized; close callbacks count them down. */
static void proc_close(struct proc *p, uv_handle_t *h)
{
    if (uv_is_closing(h))
        return;
    h->data = p;
    uv_close(h, proc_closed);
}

/*
 * Closes every handle; the last close callback reports (when completing)
 * and frees p. Close callbacks never run before this returns.
 */
static void proc_close_all(struct proc *p)
{
    proc_close(p, (uv_handle_t *)&p->process);
    proc_close(p, (uv_handle_t *)&p->out.h);
    proc_close(p, (uv_handle_t *)&p->err.h);
    if (p->has_in)
        proc_close(p, (uv_handle_t *)&p->in);
    proc_close(p, (uv_handle_t *)&p->timer);
}

static uint64_t ms_to_ns(uint64_t ms)
{
    return ms > UINT64_MAX / 1000000u ? UINT64_MAX : ms * 1000000u;
}

static void proc_timer_at(struct proc *p, uint64_t at_ns, uv_timer_cb cb)
{
    uint64_t now = clock_mono_ns();
    uint64_t ms = at_ns > now ? (at_ns - now + 999999u) / 1000000u : 0;
    uv_timer_start(&p->timer, cb, ms, 0);
}

static void proc_signal(struct proc *p, int sig)
{
    /* The child leads its own session, so its group id is its pid. */
    kill(-p->pid, sig);
}

static void proc_send_term(struct proc *p)
{
    proc_signal(p, SIGTERM);
    p->term_sent = true;
    p->kill_at_ns = clock_mono_ns() + ms_to_ns(p->grace_ms);
}

static void proc_send_kill(struct proc *p)
{
    proc_signal(p, SIGKILL);
    p->kill_sent = true;
    p->probe_until_ns = clock_mono_ns() + ms_to_ns(PROC_PROBE_MS);
}

static void proc_on_timer(uv_timer_t *t)
{
    struct proc *p = t->data;
    if (!p->exited) {
        if (!p->term_sent) {
            p->timed_out = true;
            proc_send_term(p);
            proc_timer_at(p, p->kill_at_ns, proc_on_timer);
        } else if (!p->kill_sent) {
            proc_send_kill(p);
            proc_timer_at(p, p->probe_until_ns, proc_on_timer);
        } else {
            /*
             * SIGKILL did not end it (uninterruptible sleep): report rather
             * than wait forever, and say that it is still there.
             */
            p->orphans_left = true;
            p->exited_ns = clock_mono_ns();
            p->term_signal = SIGKILL;
            proc_pipe_cut(&p->out);
            proc_pipe_cut(&p->err);
            p->completing = true;
            proc_close_all(p);
        }
        return; /* its exit moves things on */
    }
    proc_advance(p);
}

static void proc_pipe_cut(struct proc_pipe *pp)
{
    if (pp->done)
        return;
    uv_read_stop((uv_stream_t *)&pp->h);
    pp->done = true;
    pp->p->pipes_cut = true;
}

/*
 * After the child exited: wait (bounded) for both pipes, then for its group
 * to end, killing what is left of it; then close everything and report.
 */
static void proc_advance(struct proc *p)
{
    if (p->completing || !p->exited)
        return;
    uint64_t now = clock_mono_ns();
    if (!p->out.done || !p->err.done) {
        if (!p->draining) {
            p->draining = true;
            p->drain_until_ns = p->canceled ? now : now + ms_to_ns(p->drain_ms);
        }
        if (now < p->drain_until_ns) {
            proc_timer_at(p, p->drain_until_ns, proc_on_timer);
            return;
        }
        proc_pipe_cut(&p->out);
        proc_pipe_cut(&p->err);
    }
    if (proc_group_is_alive(p->pid)) {
        if (!p->term_sent) {
            p->leftovers_killed = true;
            proc_send_term(p);
        }
        if (!p->kill_sent) {
            if (now < p->kill_at_ns) {
                proc_timer_at(p, p->kill_at_ns, proc_on_timer);
                return;
            }
            p->leftovers_killed = true;
            proc_send_kill(p);
        }
        if (clock_mono_ns() < p->probe_until_ns) {
            uv_timer_start(&p->timer, proc_on_timer, 20, 0);
            return;
        }
        p->orphans_left = true;
    }
    uv_timer_stop(&p->timer);
    p->completing = true;
    proc_close_all(p);
}

/* ---- callbacks ---- */

static void proc_on_exit(uv_process_t *h, int64_t exit_status, int term_signal)
{
    struct proc *p = h->data;
    p->exited = true;
    p->exited_ns = clock_mono_ns();
    p->exit_status = exit_status;
    p->term_signal = term_signal;
    proc_advance(p);
}

static void proc_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct proc_pipe *pp = h->data;
    *buf = uv_buf_init(pp->p->scratch, sizeof(pp->p->scratch));
}

static void proc_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct proc_pipe *pp = s->data;
    if (nread < 0) {
        uv_read_stop(s);
        pp->done = true;
        proc_advance(pp->p);
        return;
    }
    size_t n = (size_t)nread, room = pp->max - pp->len;
    if (n > room) {
        pp->truncated = true;
        n = room;
    }
    if (n == 0)
        return;
    if (pp->len + n + 1 > pp->size) {
        size_t size = pp->size ? pp->size : 1024;
        while (size < pp->len + n + 1)
            size *= 2;
        if (size > pp->max + 1)
            size = pp->max + 1;
        pp->buf = xrealloc(pp->buf, size);
        pp->size = size;
    }
    memcpy(pp->buf + pp->len, buf->base, n);
    pp->len += n;
    pp->buf[pp->len] = '\0';
}

static void proc_on_written(uv_write_t *req, int status)
{
    (void)status; /* a child that does not read its input is its own business */
    struct proc *p = req->data;
    if (!uv_is_closing((uv_handle_t *)&p->in))
        proc_close(p, (uv_handle_t *)&p->in);
}

/* ---- spawning ---- */

/* hale's environment with env added, each name once; free the array and its strings. */
static char **proc_env_build(const struct proc_env_var *env, size_t n_env)
{
    size_t n = 0;
    for (char **e = environ; e && *e; e++)
        n++;
    char **v = xcalloc(n + n_env + 1, sizeof(*v));
    size_t k = 0;
    for (char **e = environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t nl = eq ? (size_t)(eq - *e) : strlen(*e);
        bool replaced = false;
        for (size_t i = 0; i < n_env && !replaced; i++)
            replaced = strlen(env[i].name) == nl && memcmp(env[i].name, *e, nl) == 0;
        if (!replaced)
            v[k++] = xstrdup(*e);
    }
    for (size_t i = 0; i < n_env; i++)
        v[k++] = xasprintf("%s=%s", env[i].name, env[i].value ? env[i].value : "");
    v[k] = NULL;
    return v;
}

static void proc_env_free(char **v)
{
    for (char **e = v; e && *e; e++)
        free(*e);
    free(v);
}

static void proc_pipe_init(struct proc *p, struct proc_pipe *pp, size_t max)
{
    uv_pipe_init(p->uv, &pp->h, 0);
    p->open_handles++;
    pp->h.data = pp;
    pp->p = p;
    pp->max = max ? max : PROC_OUTPUT_MAX_DEFAULT;
}

int proc_spawn(uv_loop_t *uv, const struct proc_options *o, proc_done_cb *done, void *data,
               struct proc **ret_proc, struct err *e)
{
    if (!o->argv || !o->argv[0] || !o->argv[0][0])
        return err_setf(e, -EINVAL, "no program to run");
    if (o->stdin_len > PROC_STDIN_MAX)
        return err_setf(e, HALE_ELIMIT, "%zu bytes of input for %s: more than %u", o->stdin_len,
                        o->argv[0], PROC_STDIN_MAX);

    struct proc *p = xcalloc(1, sizeof(*p));
    p->uv = uv;
    p->done = done;
    p->data = data;
    p->timeout_ms = o->timeout_ms;
    p->grace_ms = o->kill_grace_ms ? o->kill_grace_ms : PROC_KILL_GRACE_MS;
    p->drain_ms = o->drain_ms ? o->drain_ms : PROC_DRAIN_MS;
    proc_pipe_init(p, &p->out, o->stdout_max);
    proc_pipe_init(p, &p->err, o->stderr_max);
    uv_timer_init(uv, &p->timer);
    p->open_handles++;
    p->timer.data = p;

    uv_stdio_container_t stdio[3];
    if (o->stdin_data) {
        p->has_in = true;
        uv_pipe_init(uv, &p->in, 0);
        p->open_handles++;
        p->in.data = p;
        stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
        stdio[0].data.stream = (uv_stream_t *)&p->in;
    } else {
        stdio[0].flags = UV_IGNORE;
    }
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&p->out.h;
    stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[2].data.stream = (uv_stream_t *)&p->err.h;

    char **env = proc_env_build(o->env, o->n_env);
    size_t argc = 0;
    while (o->argv[argc])
        argc++;
    char **args = xcalloc(argc + 1, sizeof(*args));
    for (size_t i = 0; i < argc; i++)
        args[i] = xstrdup(o->argv[i]);
    uv_process_options_t uo = {
            .exit_cb = proc_on_exit,
            .file = args[0],
            .args = args,
            .env = env,
            .cwd = o->cwd,
            /* A session of its own: its group can be killed whole. */
            .flags = UV_PROCESS_DETACHED,
            .stdio_count = 3,
            .stdio = stdio,
    };
    p->started_ns = clock_mono_ns();
    int r = uv_spawn(uv, &p->process, &uo);
    p->open_handles++; /* initialized by uv_spawn() even when it fails */
    proc_env_free(env);
    proc_env_free(args);
    p->process.data = p;
    if (r < 0) {
        if (o->cwd && access(o->cwd, X_OK) < 0)
            err_setf(e, r, "cannot run %s in %s: %s", o->argv[0], o->cwd, strerror(errno));
        else
            err_setf(e, r, "cannot run %s: %s", o->argv[0], uv_strerror(r));
        proc_close_all(p); /* frees p without calling done */
        return r;
    }
    p->pid = p->process.pid;

    uv_read_start((uv_stream_t *)&p->out.h, proc_on_alloc, proc_on_read);
    uv_read_start((uv_stream_t *)&p->err.h, proc_on_alloc, proc_on_read);
    if (p->has_in) {
        if (o->stdin_len) {
            p->in_data = xmalloc(o->stdin_len);
            memcpy(p->in_data, o->stdin_data, o->stdin_len);
            uv_buf_t b = uv_buf_init(p->in_data, (unsigned)o->stdin_len);
            p->in_req.data = p;
            if (uv_write(&p->in_req, (uv_stream_t *)&p->in, &b, 1, proc_on_written) < 0)
                proc_close(p, (uv_handle_t *)&p->in);
        } else {
            proc_close(p, (uv_handle_t *)&p->in); /* EOF at once */
        }
    }
    if (p->timeout_ms)
        uv_timer_start(&p->timer, proc_on_timer, p->timeout_ms, 0);
    if (ret_proc)
        *ret_proc = p;
    return 0;
}

void proc_cancel(struct proc *p)
{
    if (p->completing || p->canceled)
        return;
    p->canceled = true;
    if (!p->exited) {
        if (!p->term_sent) {
            proc_send_term(p);
            proc_timer_at(p, p->kill_at_ns, proc_on_timer);
        }
        return;
    }
    p->drain_until_ns = clock_mono_ns(); /* stop waiting for the pipes */
    proc_advance(p);
}

pid_t proc_pid(const struct proc *p)
{
    return p->pid;
}
