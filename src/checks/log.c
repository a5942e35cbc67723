/* SPDX-License-Identifier: MIT */
/*
 * The log check kind: follows one file as `tail -F` does and counts the
 * lines that match a pattern over a sliding window. Each run reads what was
 * appended since the last one, in the libuv thread pool (a slow disk or a
 * costly pattern never stalls the loop), then judges the count in the
 * window on the loop. Where it stopped reading (inode + offset) and the
 * window survive a restart in <data_dir>/state/log-<check>.state.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcre2.h>
#include <uv.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "base/units.h"
#include "checks/internal.h"

/* Bytes one run reads, old and new file together; the rest is skipped. */
#define LOG_READ_MAX    (4u << 20)
/* Bytes read from the file at a time. */
#define LOG_CHUNK       (64u << 10)
/* Bytes of a line the pattern sees; the rest of a longer line is ignored. */
#define LOG_LINE_MAX    8192u
/* (time, count) entries in the window; past it, matches join the newest. */
#define LOG_WINDOW_MAX  4096u
/* Work one pattern may do on one line (PCRE2 match limit). */
#define LOG_MATCH_LIMIT 1000000u
/* Largest state file read back. */
#define LOG_STATE_MAX   (256u << 10)

/* ---- the kind's state ---- */

struct log_entry {
    uint64_t time_ms; /* Unix ms of the run that read the lines */
    uint64_t count;
};

/* What one run found; written by the worker, read on the loop after it. */
struct log_tally {
    uint64_t budget; /* bytes the run may still read */
    uint64_t lines, matches, skipped, long_lines, match_errors;
    int err;      /* the file cannot be followed: -errno */
    bool missing; /* ... because the path names nothing */
    bool rotated, truncated, from_end;
    int save_err; /* the state file could not be written */
};

struct log_state {
    const struct clock *clock;
    char *state_path; /* NULL: no data_dir, nothing persisted */

    /* The followed file: open in fd, or known from the state file (fd -1). */
    int fd;
    bool has_file; /* dev, ino and offset describe a file */
    dev_t dev;
    ino_t ino;
    uint64_t offset; /* of the first byte not yet read */
    bool started;    /* a run (now or before a restart) has looked at the path */
    char *saved;     /* the state file's text as last written or read, or NULL */

    struct log_entry *window; /* oldest first */
    size_t n_window;

    pcre2_match_data *md;
    pcre2_match_context *mc;
    char *chunk; /* LOG_CHUNK bytes */
    char *line;  /* LOG_LINE_MAX bytes */

    /* The run in flight. */
    uv_work_t work;
    struct check_run *run;
    uint64_t now_ms;
    atomic_bool stop;
    struct log_tally t;
};

void check_log__set_clock(struct check_host *host, const struct clock *clock)
{
    struct log_state *s = host->kind_state;
    if (s && host->cfg->type == CONFIG_CHECK_LOG)
        s->clock = clock;
}

/* ---- the window ---- */

static void window_expire(struct log_state *s, uint64_t now_ms, uint64_t window_ms)
{
    size_t drop = 0;
    while (drop < s->n_window && s->window[drop].time_ms + window_ms <= now_ms)
        drop++;
    if (!drop)
        return;
    memmove(s->window, s->window + drop, (s->n_window - drop) * sizeof(*s->window));
    s->n_window -= drop;
}

static void window_add(struct log_state *s, uint64_t time_ms, uint64_t count)
{
    if (!count)
        return;
    struct log_entry *last = s->n_window ? &s->window[s->n_window - 1] : NULL;
    if (last && (last->time_ms >= time_ms || s->n_window == LOG_WINDOW_MAX)) {
        last->count += count;
        return;
    }
    s->window[s->n_window++] = (struct log_entry){time_ms, count};
}

static uint64_t window_count(const struct log_state *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n_window; i++)
        n += s->window[i].count;
    return n;
}

/* ---- the state file ---- */

#define LOG_STATE_MAGIC "hale log state 1"

static void state_load(struct log_state *s, const char *path)
{
    _cleanup_free_ char *text = NULL;
    if (!s->state_path || check__state_read(s->state_path, LOG_STATE_MAX, &text) < 0)
        return;
    size_t magic = strlen(LOG_STATE_MAGIC);
    if (strncmp(text, LOG_STATE_MAGIC "\n", magic + 1) != 0)
        return;
    bool same_path = false;
    uint64_t dev = 0, ino = 0, offset = 0;
    bool has_file = false;
    for (char *line = text + magic + 1; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            break;
        *end = '\0';
        uint64_t a, b;
        if (strncmp(line, "path ", 5) == 0)
            same_path = strcmp(line + 5, path) == 0;
        else if (sscanf(line, "file %" SCNu64 " %" SCNu64 " %" SCNu64, &dev, &ino, &offset) == 3)
            has_file = true;
        else if (sscanf(line, "match %" SCNu64 " %" SCNu64, &a, &b) == 2)
            window_add(s, a, b);
        line = end + 1;
    }
    if (!same_path) {
        /* The check now follows another file: nothing here applies to it. */
        s->n_window = 0;
        return;
    }
    s->started = true;
    s->has_file = has_file;
    s->dev = (dev_t)dev;
    s->ino = (ino_t)ino;
    s->offset = offset;
}

/* Worker thread: writes what a restart needs, if it changed. */
static int state_save(struct log_state *s, const char *path)
{
    if (!s->state_path || strchr(path, '\n'))
        return 0;
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, LOG_STATE_MAGIC "\npath %s\n", path);
    if (s->has_file)
        strbuf_addf(&b, "file %llu %llu %" PRIu64 "\n", (unsigned long long)s->dev,
                    (unsigned long long)s->ino, s->offset);
    for (size_t i = 0; i < s->n_window; i++)
        strbuf_addf(&b, "match %" PRIu64 " %" PRIu64 "\n", s->window[i].time_ms,
                    s->window[i].count);
    if (s->saved && strcmp(s->saved, b.s) == 0) {
        strbuf_fini(&b);
        return 0;
    }
    int r = check__state_write(s->state_path, b.s, b.len);
    if (r == 0) {
        free(s->saved);
        s->saved = strbuf_detach(&b, NULL);
    }
    strbuf_fini(&b);
    return r;
}

/* ---- reading (worker thread) ---- */

static void line_match(struct log_state *s, const struct config_check_log *cfg, size_t len)
{
    int rc = pcre2_match((const pcre2_code *)cfg->match->code, (PCRE2_SPTR)s->line, len, 0, 0,
                         s->md, s->mc);
    if (rc >= 0)
        s->t.matches++;
    else if (rc != PCRE2_ERROR_NOMATCH)
        s->t.match_errors++;
}

/*
 * Reads fd from s->offset to size, counting lines and matches, within the
 * run's budget. A line still being written (no newline yet) is left for
 * the next run unless the file is final (rotated away, it will not grow)
 * or the line is already longer than LOG_LINE_MAX.
 */
static int log_follow(struct log_state *s, const struct config_check_log *cfg, int fd,
                      uint64_t size, bool final)
{
    struct log_tally *t = &s->t;
    uint64_t pos = s->offset;
    if (pos > size)
        return 0;         /* shrank: the caller starts over */
    bool discard = false; /* drop the first, partial line after a skip */
    if (size - pos > t->budget) {
        uint64_t to = size - t->budget;
        t->skipped += to - pos;
        char c = '\n';
        if (pread(fd, &c, 1, (off_t)(to - 1)) == 1 && c != '\n')
            discard = true;
        pos = to;
    }
    uint64_t consumed = pos; /* just past the last line counted */
    size_t len = 0;
    bool long_line = false;
    while (pos < size && !atomic_load(&s->stop)) {
        size_t want = size - pos < LOG_CHUNK ? (size_t)(size - pos) : LOG_CHUNK;
        ssize_t n = pread(fd, s->chunk, want, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break; /* truncated under us: the next run sees it */
        t->budget -= (uint64_t)n;
        const char *p = s->chunk, *end = s->chunk + n;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *stop = nl ? nl : end;
            size_t seg = (size_t)(stop - p);
            if (discard) {
                t->skipped += seg + (nl ? 1 : 0);
            } else {
                size_t room = LOG_LINE_MAX - len;
                memcpy(s->line + len, p, seg < room ? seg : room);
                len += seg < room ? seg : room;
                long_line |= seg > room;
            }
            if (!nl)
                break;
            if (!discard) {
                if (len && s->line[len - 1] == '\r')
                    len--;
                line_match(s, cfg, len);
                t->lines++;
                t->long_lines += long_line;
            }
            discard = false;
            len = 0;
            long_line = false;
            p = nl + 1;
            consumed = pos + (uint64_t)(p - s->chunk);
        }
        pos += (uint64_t)n;
    }
    if (pos >= size && (len || long_line) && !discard && (final || long_line)) {
        line_match(s, cfg, len);
        t->lines++;
        t->long_lines += long_line;
        consumed = pos;
    } else if (discard) {
        consumed = pos;
    }
    s->offset = consumed;
    return 0;
}

static void log_close_file(struct log_state *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->has_file = false;
    s->offset = 0;
}

static void log_work(uv_work_t *w)
{
    struct log_state *s = w->data;
    const struct config_check_log *cfg = &s->run->cfg->u.log;
    struct log_tally *t = &s->t;
    memset(t, 0, sizeof(*t));
    t->budget = LOG_READ_MAX;

    struct stat st;
    int r = stat(cfg->path, &st) == 0 ? 0 : -errno;
    if (r == 0 && !S_ISREG(st.st_mode))
        r = -EINVAL;
    if (s->fd >= 0 && (r < 0 || st.st_dev != s->dev || st.st_ino != s->ino)) {
        /* Rotated (or removed): first read what was written before. */
        struct stat old;
        if (fstat(s->fd, &old) == 0 && (uint64_t)old.st_size >= s->offset)
            (void)log_follow(s, cfg, s->fd, (uint64_t)old.st_size, true);
        log_close_file(s);
        t->rotated = true;
    }
    if (r < 0) {
        t->err = r;
        t->missing = r == -ENOENT;
        s->started = true;
        goto done;
    }
    if (s->fd < 0) {
        int fd = open(cfg->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
            t->err = -errno;
            goto done;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            /* Replaced by something else (a FIFO) since the stat(): no reading it. */
            t->err = S_ISREG(st.st_mode) ? -errno : -EINVAL;
            close(fd);
            goto done;
        }
        if (!s->started) {
            /* The first run ever: what the file held before is history. */
            s->offset = (uint64_t)st.st_size;
            t->from_end = true;
        } else if (!s->has_file || st.st_dev != s->dev || st.st_ino != s->ino) {
            s->offset = 0; /* a new file (rotated while hale was down) */
        }
        s->fd = fd;
        s->has_file = true;
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->started = true;
    } else if (fstat(s->fd, &st) < 0) {
        t->err = -errno;
        goto done;
    }
    if ((uint64_t)st.st_size < s->offset) {
        t->truncated = true;
        s->offset = 0;
    }
    r = log_follow(s, cfg, s->fd, (uint64_t)st.st_size, false);
    if (r < 0)
        t->err = r;
done:
    window_add(s, s->now_ms, t->matches);
    window_expire(s, s->now_ms, cfg->window_ms);
    t->save_err = state_save(s, cfg->path);
}

/* ---- the run (loop thread) ---- */

/* A count threshold as a range: alert at n or more, as "n-1" reads. */
static struct units_range count_range(unsigned n)
{
    return (struct units_range){.start = 0, .end = (double)n - 1, .inside = false};
}

static void log_after_work(uv_work_t *w, int status)
{
    struct log_state *s = w->data;
    struct check_run *run = s->run;
    const struct config_check_log *cfg = &run->cfg->u.log;
    const struct log_tally *t = &s->t;
    s->run = NULL;
    if (status == UV_ECANCELED) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "cancelled before it read %s", cfg->path);
        return;
    }

    uint64_t count = window_count(s);
    struct units_range warn = count_range(cfg->warn), crit = count_range(cfg->crit);
    bool has_warn = cfg->warn != CONFIG_UNSET, has_crit = cfg->crit != CONFIG_UNSET;
    enum check_status st = CHECK_STATUS_OK;
    if (has_crit && units_range_alerts(&crit, (double)count))
        st = CHECK_STATUS_CRITICAL;
    else if (has_warn && units_range_alerts(&warn, (double)count))
        st = CHECK_STATUS_WARNING;

    check_run_sample(run, "matches", (double)count, "");
    struct check_sample *m = &run->obs.samples[run->obs.n_samples - 1];
    m->has_warn = has_warn;
    m->warn = warn;
    m->has_crit = has_crit;
    m->crit = crit;
    m->has_min = true;
    m->min = 0;
    check_run_sample(run, "lines", (double)t->lines, "c");

    if (t->long_lines)
        check__note(&run->obs, "%" PRIu64 " lines longer than %u bytes were matched on their start",
                    t->long_lines, LOG_LINE_MAX);
    if (t->match_errors)
        check__note(&run->obs, "%" PRIu64 " lines were too costly for the pattern and not counted",
                    t->match_errors);
    if (t->save_err)
        check__note(&run->obs, "cannot write the state file %s: %s", s->state_path,
                    hale_strerror(t->save_err));

    char window[UNITS_DURATION_MAX];
    units_duration_format(cfg->window_ms, window, sizeof(window));
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "%" PRIu64 " matching line%s in the last %s", count, count == 1 ? "" : "s",
                window);
    if (t->err == 0 || t->rotated)
        strbuf_addf(&b, "; read %" PRIu64 " new line%s", t->lines, t->lines == 1 ? "" : "s");
    if (t->skipped)
        strbuf_addf(&b, ", skipped %" PRIu64 " bytes (more than %u bytes since the last run)",
                    t->skipped, LOG_READ_MAX);
    if (t->rotated)
        strbuf_adds(&b, t->err ? ", the file was rotated"
                               : ", the file was rotated: reading "
                                 "the new one");
    if (t->truncated)
        strbuf_adds(&b, ", the file was truncated: reading from its start");
    if (t->from_end)
        strbuf_adds(&b, ", starting at its end");
    if (t->err && t->rotated && t->missing) {
        strbuf_addf(&b, "; waiting for a new %s", cfg->path);
    } else if (t->err) {
        /* Nothing was read: say why; matches seen before still count. */
        strbuf_addf(&b, "; cannot read %s: %s", cfg->path,
                    t->err == -EINVAL ? "not a regular file" : hale_strerror(t->err));
        if (st == CHECK_STATUS_OK)
            st = CHECK_STATUS_UNKNOWN;
    }
    check_run_finish(run, st, "%s", b.s);
    strbuf_fini(&b);
}

static void log_start(struct check_run *run)
{
    struct log_state *s = run->host->kind_state;
    if (!s) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "the log check was not set up");
        return;
    }
    s->run = run;
    s->now_ms = clock_real_ms(s->clock);
    atomic_store(&s->stop, false);
    s->work.data = s;
    int r = uv_queue_work(run->uv, &s->work, log_work, log_after_work);
    if (r < 0) {
        s->run = NULL;
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot read %s: %s", run->cfg->u.log.path,
                         uv_strerror(r));
    }
}

static void log_abort(struct check_run *run)
{
    struct log_state *s = run->host->kind_state;
    /* Not started yet: after_work then reports the cancellation. */
    if (uv_cancel((uv_req_t *)&s->work) < 0)
        atomic_store(&s->stop, true);
}

static void log_detach(struct check_host *host)
{
    struct log_state *s = host->kind_state;
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    pcre2_match_data_free(s->md);
    pcre2_match_context_free(s->mc);
    free(s->window);
    free(s->chunk);
    free(s->line);
    free(s->state_path);
    free(s->saved);
    free(s);
    host->kind_state = NULL;
}

static int log_attach(struct check_host *host, struct err *e)
{
    const struct config_check_log *cfg = &host->cfg->u.log;
    struct log_state *s = xcalloc(1, sizeof(*s));
    s->clock = &clock_system;
    s->fd = -1;
    s->window = xcalloc(LOG_WINDOW_MAX, sizeof(*s->window));
    s->chunk = xmalloc(LOG_CHUNK);
    s->line = xmalloc(LOG_LINE_MAX);
    s->md = pcre2_match_data_create_from_pattern((const pcre2_code *)cfg->match->code, NULL);
    s->mc = pcre2_match_context_create(NULL);
    host->kind_state = s;
    if (!s->md || !s->mc) {
        log_detach(host);
        return err_setf(e, -ENOMEM, "cannot allocate the pattern's match data");
    }
    pcre2_set_match_limit(s->mc, LOG_MATCH_LIMIT);
    s->state_path = check__state_path(host, "log");
    state_load(s, cfg->path);
    return 0;
}

const struct check_kind check_kind_log = {
        .type = CONFIG_CHECK_LOG,
        .attach = log_attach,
        .detach = log_detach,
        .start = log_start,
        .abort = log_abort,
};
