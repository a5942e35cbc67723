/* SPDX-License-Identifier: MIT */
/*
 * The process kind: finds the processes a check names (by pidfile, by name,
 * by a regex over the command line) in /proc, counts them against bounds
 * and sums their resident memory and CPU use against thresholds. Between
 * runs it watches each process found through a pidfd, so a death is seen
 * within milliseconds and the check runs at once instead of at its next
 * interval. CPU use needs two readings: the ticks of the last run are kept.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "checks/internal.h"
#include "proc/proc.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define PROCESS_SCAN_MAX    4096u /* /proc entries read per run */
#define PROCESS_FOUND_MAX   1024u /* processes counted per run */
#define PROCESS_WATCH_MAX   64u   /* processes watched through a pidfd */
#define PROCESS_CMDLINE_MAX 4096u /* bytes of a command line searched */

struct process_seen {
    pid_t pid;
    uint64_t starttime; /* tells a reused pid apart */
    uint64_t ticks;     /* utime + stime */
    uint64_t rss_pages;
};

struct process_watch {
    uv_poll_t poll;
    int fd;
    pid_t pid;
    bool fired;
    struct check_host *host;
    struct process_watch *next;
};

struct process_state {
    struct process_seen *prev; /* the last run's processes, for CPU use */
    size_t n_prev;
    uint64_t prev_ns;
    bool has_prev;
    struct process_watch *watches;
    pcre2_match_data *md;
};

/* What one run found. */
struct process_scan {
    struct process_seen *v;
    size_t n;
    bool cut;           /* PROCESS_SCAN_MAX or PROCESS_FOUND_MAX was reached */
    char why_none[256]; /* pidfile: why no process was found */
};

/* pidfd_open() failed with ENOSYS or EPERM once: poll at the interval only (logged once). */
static bool pidfd_missing;

/* ---- finding processes ---- */

/* The command line, NULs as spaces, at most PROCESS_CMDLINE_MAX bytes; 0 if none. */
static size_t process_cmdline(pid_t pid, char *buf, size_t size)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    while (n > 0 && buf[n - 1] == '\0')
        n--;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    return n;
}

/* Whether argv[0]'s last path component is name (for names longer than comm keeps). */
static bool process_argv0_is(pid_t pid, const char *name)
{
    char path[64], buf[PROCESS_CMDLINE_MAX];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0'; /* argv[0] ends at its NUL */
    const char *base = strrchr(buf, '/');
    base = base ? base + 1 : buf;
    return n > 0 && strcmp(base, name) == 0;
}

/* Whether pid is one the check names; fills *ret_seen when it is. */
static bool process_matches(const struct config_check_process *c, struct process_state *st,
                            pid_t pid, struct process_seen *ret_seen)
{
    struct proc_stat ps;
    if (proc_stat_read(pid, &ps) < 0 || ps.state == 'Z' || ps.state == 'X')
        return false;
    if (c->process_name && strcmp(ps.comm, c->process_name) != 0 &&
        !process_argv0_is(pid, c->process_name))
        return false;
    if (c->match) {
        char cmd[PROCESS_CMDLINE_MAX];
        size_t n = process_cmdline(pid, cmd, sizeof(cmd));
        if (n == 0)
            return false; /* kernel threads have none */
        pcre2_match_data *md = st && st->md ? st->md : NULL;
        pcre2_match_data *own = NULL;
        if (!md)
            md = own = pcre2_match_data_create(1, NULL);
        int r = pcre2_match((const pcre2_code *)c->match->code, (PCRE2_SPTR)cmd, n, 0, 0, md, NULL);
        pcre2_match_data_free(own);
        if (r < 0)
            return false;
    }
    *ret_seen = (struct process_seen){
            .pid = pid,
            .starttime = ps.starttime,
            .ticks = ps.utime + ps.stime,
            .rss_pages = ps.rss_pages,
    };
    return true;
}

/* The pid a pidfile names, or 0 with why saying what went wrong. */
static pid_t process_pidfile_read(const char *path, char *why, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(why, size, "pidfile %s: %s", path, strerror(errno));
        return 0;
    }
    char buf[32];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long pid = strtol(buf, &end, 10);
    while (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t')
        end++;
    if (end == buf || *end || errno || pid <= 0 || pid > 0x3fffffff) {
        snprintf(why, size, "pidfile %s holds no process id", path);
        return 0;
    }
    return (pid_t)pid;
}

static void process_scan(const struct config_check_process *c, struct process_state *st,
                         struct process_scan *ret)
{
    memset(ret, 0, sizeof(*ret));
    ret->v = xcalloc(PROCESS_FOUND_MAX, sizeof(*ret->v));
    pid_t self = getpid();
    if (c->pidfile) {
        pid_t pid = process_pidfile_read(c->pidfile, ret->why_none, sizeof(ret->why_none));
        if (pid == 0)
            return;
        if (pid != self && process_matches(c, st, pid, &ret->v[0]))
            ret->n = 1;
        else
            snprintf(ret->why_none, sizeof(ret->why_none),
                     "process %d of pidfile %s is not running%s", (int)pid, c->pidfile,
                     c->process_name || c->match ? " (or is not the one named)" : "");
        return;
    }
    DIR *d = opendir("/proc");
    if (!d) {
        snprintf(ret->why_none, sizeof(ret->why_none), "/proc: %s", strerror(errno));
        return;
    }
    unsigned seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (++seen > PROCESS_SCAN_MAX || ret->n == PROCESS_FOUND_MAX) {
            ret->cut = true;
            break;
        }
        char *end;
        long pid = strtol(de->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        if (process_matches(c, st, (pid_t)pid, &ret->v[ret->n]))
            ret->n++;
    }
    closedir(d);
}

/* ---- watching them ---- */

static void process_watch_closed(uv_handle_t *h)
{
    struct process_watch *w = h->data;
    close(w->fd);
    free(w);
}

static void process_watch_close(struct process_watch *w)
{
    uv_close((uv_handle_t *)&w->poll, process_watch_closed);
}

static void process_watch_fired(uv_poll_t *h, int status, int events)
{
    (void)status;
    (void)events;
    struct process_watch *w = h->data;
    /* A pidfd reads ready once its process ended; it stays ready, so stop now. */
    uv_poll_stop(h);
    w->fired = true;
    if (w->host->run_now)
        w->host->run_now(w->host);
}

static bool process_scan_has(const struct process_scan *s, pid_t pid)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].pid == pid)
            return true;
    return false;
}

/* Watches exactly the processes found (up to PROCESS_WATCH_MAX). */
static void process_watches_rearm(struct check_host *host, struct process_state *st,
                                  const struct process_scan *s)
{
    unsigned n = 0;
    for (struct process_watch **pw = &st->watches; *pw;) {
        struct process_watch *w = *pw;
        if (w->fired || !process_scan_has(s, w->pid)) {
            *pw = w->next;
            process_watch_close(w);
        } else {
            pw = &w->next;
            n++;
        }
    }
    if (pidfd_missing)
        return;
    for (size_t i = 0; i < s->n && n < PROCESS_WATCH_MAX; i++) {
        bool watched = false;
        for (struct process_watch *w = st->watches; w && !watched; w = w->next)
            watched = w->pid == s->v[i].pid;
        if (watched)
            continue;
        int fd = (int)syscall(SYS_pidfd_open, s->v[i].pid, 0);
        if (fd < 0) {
            if (errno == ENOSYS || errno == EPERM) {
                pidfd_missing = true;
                char kv[300];
                snprintf(kv, sizeof(kv), "check=%s", host->cfg->name);
                log_info("checks", kv,
                         "pidfd_open is not available (%s): process deaths are seen at the "
                         "next interval",
                         strerror(errno));
                return;
            }
            continue; /* it is gone already: the next run sees it */
        }
        struct process_watch *w = xcalloc(1, sizeof(*w));
        w->fd = fd;
        w->pid = s->v[i].pid;
        w->host = host;
        if (uv_poll_init(host->uv, &w->poll, fd) < 0) {
            close(fd);
            free(w);
            continue;
        }
        w->poll.data = w;
        uv_poll_start(&w->poll, UV_READABLE, process_watch_fired);
        w->next = st->watches;
        st->watches = w;
        n++;
    }
}

/* ---- the run ---- */

/* CPU use of the processes found in both this run and the last, percent of all CPUs. */
static bool process_cpu(struct process_state *st, const struct process_scan *s, uint64_t now_ns,
                        double *ret)
{
    if (!st || !st->has_prev || now_ns <= st->prev_ns)
        return false;
    uint64_t ticks = 0;
    for (size_t i = 0; i < s->n; i++)
        for (size_t j = 0; j < st->n_prev; j++)
            if (st->prev[j].pid == s->v[i].pid && st->prev[j].starttime == s->v[i].starttime &&
                s->v[i].ticks >= st->prev[j].ticks)
                ticks += s->v[i].ticks - st->prev[j].ticks;
    long hz = sysconf(_SC_CLK_TCK), cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (hz <= 0 || cpus <= 0)
        return false;
    double seconds = (double)(now_ns - st->prev_ns) / 1e9;
    *ret = (double)ticks / (double)hz / seconds / (double)cpus * 100.0;
    return true;
}

static void process_remember(struct process_state *st, const struct process_scan *s,
                             uint64_t now_ns)
{
    free(st->prev);
    st->prev = xcalloc(s->n ? s->n : 1, sizeof(*st->prev));
    memcpy(st->prev, s->v, s->n * sizeof(*s->v));
    st->n_prev = s->n;
    st->prev_ns = now_ns;
    st->has_prev = true;
}

/* "named nginx, matching /x/": what the check looks for. */
static void process_target(const struct config_check_process *c, struct strbuf *b)
{
    if (c->pidfile)
        strbuf_addf(b, "from %s", c->pidfile);
    if (c->process_name)
        strbuf_addf(b, "%snamed %s", b->len ? ", " : "", c->process_name);
    if (c->match)
        strbuf_addf(b, "%smatching /%s/", b->len ? ", " : "", c->match->pattern);
}

static void process_size(uint64_t bytes, char *buf, size_t size)
{
    if (bytes >= 1024u * 1024u * 1024u)
        snprintf(buf, size, "%.1f GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
    else
        snprintf(buf, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
}

/* Sets the last sample's thresholds: an alert above warn or crit. */
static void process_sample_limits(struct check_run *run, double warn, bool has_warn, double crit,
                                  bool has_crit)
{
    struct check_sample *s = &run->obs.samples[run->obs.n_samples - 1];
    if (has_warn) {
        s->has_warn = true;
        s->warn = (struct units_range){.start = 0, .end = warn};
    }
    if (has_crit) {
        s->has_crit = true;
        s->crit = (struct units_range){.start = 0, .end = crit};
    }
}

static void process_start(struct check_run *run)
{
    const struct config_check_process *c = &run->cfg->u.process;
    struct process_state *st = run->host->kind_state;
    struct process_scan s;
    process_scan(c, st, &s);
    uint64_t now_ns = clock_mono_ns();

    long page = sysconf(_SC_PAGESIZE);
    uint64_t rss = 0;
    for (size_t i = 0; i < s.n; i++)
        rss += s.v[i].rss_pages * (uint64_t)(page > 0 ? page : 4096);
    double cpu = 0;
    bool has_cpu = process_cpu(st, &s, now_ns, &cpu);
    if (st) {
        process_remember(st, &s, now_ns);
        process_watches_rearm(run->host, st, &s);
    }

    bool has_max = c->max_count != CONFIG_UNSET;
    /* The count's bounds are its critical range: min_count:max_count. */
    struct units_range count_range = {.start = c->min_count,
                                      .end = has_max ? (double)c->max_count : INFINITY};
    check_run_sample(run, "count", (double)s.n, "");
    run->obs.samples[run->obs.n_samples - 1].has_crit = true;
    run->obs.samples[run->obs.n_samples - 1].crit = count_range;
    if (s.n > 0) {
        check_run_sample(run, "rss", (double)rss, "B");
        process_sample_limits(run, (double)c->rss_warn, c->rss_warn != CONFIG_UNSET64,
                              (double)c->rss_crit, c->rss_crit != CONFIG_UNSET64);
        if (has_cpu) {
            check_run_sample(run, "cpu", cpu, "%");
            process_sample_limits(run, c->cpu_warn, c->cpu_warn >= 0, c->cpu_crit,
                                  c->cpu_crit >= 0);
        }
    }
    if (s.cut)
        check__note(&run->obs, "stopped looking after %u processes", PROCESS_SCAN_MAX);

    struct strbuf target;
    strbuf_init(&target, 1024);
    process_target(c, &target);
    char rss_text[32];
    process_size(rss, rss_text, sizeof(rss_text));
    char cpu_text[32] = "";
    if (has_cpu)
        snprintf(cpu_text, sizeof(cpu_text), ", cpu %.1f%%", cpu);
    const char *noun = s.n == 1 ? "process" : "processes";

    if (units_range_alerts(&count_range, (double)s.n)) {
        if (s.n < c->min_count)
            check_run_finish(run, CHECK_STATUS_CRITICAL, "%zu %s %s, want at least %u%s%s", s.n,
                             noun, target.s, c->min_count, s.why_none[0] ? ": " : "", s.why_none);
        else
            check_run_finish(run, CHECK_STATUS_CRITICAL, "%zu %s %s, want at most %u", s.n, noun,
                             target.s, c->max_count);
        goto out;
    }
    enum check_status status = CHECK_STATUS_OK;
    const char *what = "";
    for (size_t i = 1; i < run->obs.n_samples; i++) {
        const struct check_sample *x = &run->obs.samples[i];
        if (x->has_crit && units_range_alerts(&x->crit, x->value)) {
            status = CHECK_STATUS_CRITICAL;
            what = x->label;
            break;
        }
        if (x->has_warn && units_range_alerts(&x->warn, x->value) && status == CHECK_STATUS_OK) {
            status = CHECK_STATUS_WARNING;
            what = x->label;
        }
    }
    if (status != CHECK_STATUS_OK)
        check_run_finish(run, status, "%s too high: %zu %s %s, rss %s%s", what, s.n, noun, target.s,
                         rss_text, cpu_text);
    else if (s.n == 0)
        check_run_finish(run, CHECK_STATUS_OK, "no process %s%s%s", target.s,
                         s.why_none[0] ? ": " : "", s.why_none);
    else
        check_run_finish(run, CHECK_STATUS_OK, "%zu %s %s, rss %s%s", s.n, noun, target.s, rss_text,
                         cpu_text);
out:
    strbuf_fini(&target);
    free(s.v);
}

static int process_attach(struct check_host *host, struct err *e)
{
    (void)e;
    struct process_state *st = xcalloc(1, sizeof(*st));
    const struct config_check_process *c = &host->cfg->u.process;
    if (c->match) {
        st->md = pcre2_match_data_create_from_pattern((const pcre2_code *)c->match->code, NULL);
        if (!st->md) {
            free(st);
            return err_setf(e, -ENOMEM, "cannot allocate PCRE2 match data");
        }
    }
    host->kind_state = st;
    return 0;
}

static void process_detach(struct check_host *host)
{
    struct process_state *st = host->kind_state;
    if (!st)
        return;
    while (st->watches) {
        struct process_watch *w = st->watches;
        st->watches = w->next;
        process_watch_close(w);
    }
    pcre2_match_data_free(st->md);
    free(st->prev);
    free(st);
    host->kind_state = NULL;
}

const struct check_kind check_kind_process = {
        .type = CONFIG_CHECK_PROCESS,
        .attach = process_attach,
        .detach = process_detach,
        .start = process_start,
};
