/* SPDX-License-Identifier: MIT */
/*
 * The file kind: a path exists (or is absent), is recent enough, has a
 * size within bounds, the expected permission bits and owner, and its
 * first bytes match a pattern. stat(), the owner lookup and the read may
 * block on a hung filesystem or name service, so they run on libuv's
 * thread pool; the verdict is reached back on the loop.
 *
 * On abort (timeout, stop) the run finishes at once; work already running
 * on the pool cannot be interrupted, so it finishes in the background and
 * its result is dropped. Its memory is its own, copied from the config, so
 * it may outlive the run, the runner and the config.
 */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcre2.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "checks/internal.h"

/* Bytes of the file's head searched by `content`. */
#define FILE_CONTENT_MAX (64 * 1024)

struct file_work {
    struct check__pool_work pool; /* first: check__pool_abort() reads it */
    /* Inputs, copied: */
    char *path;
    char *owner;
    bool want_content;
    /* Results, written on the pool thread: */
    int stat_r;
    struct stat st;
    int owner_r; /* 0, -ENOENT for an unknown user, or -errno */
    uid_t owner_uid;
    int read_r;
    char *head;
    size_t head_len;
};

static void work_free(struct file_work *w)
{
    free(w->path);
    free(w->owner);
    free(w->head);
    free(w);
}

static int owner_resolve(const char *owner, uid_t *ret_uid)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(owner, &end, 10);
    if (*owner && !*end && errno == 0 && n <= UINT32_MAX) {
        *ret_uid = (uid_t)n;
        return 0;
    }
    long size = sysconf(_SC_GETPW_R_SIZE_MAX);
    size_t len = size > 0 ? (size_t)size : 16384;
    char *buf = xmalloc(len);
    struct passwd pw, *found = NULL;
    int r = getpwnam_r(owner, &pw, buf, len, &found);
    if (r == 0 && found)
        *ret_uid = found->pw_uid;
    free(buf);
    return r ? -r : found ? 0 : -ENOENT;
}

static int head_read(const char *path, char **ret_head, size_t *ret_len)
{
    /* O_NONBLOCK: a FIFO swapped in for the file must not hold the thread. */
    int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char *buf = xmalloc(FILE_CONTENT_MAX);
    size_t len = 0;
    int r = 0;
    while (len < FILE_CONTENT_MAX) {
        ssize_t n = read(fd, buf + len, FILE_CONTENT_MAX - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    if (r < 0) {
        free(buf);
        return r;
    }
    *ret_head = buf;
    *ret_len = len;
    return 0;
}

/* Pool thread: only the copies in w. */
static void file_work(uv_work_t *req)
{
    struct file_work *w = req->data;
    w->stat_r = stat(w->path, &w->st) < 0 ? -errno : 0;
    if (w->stat_r < 0)
        return;
    if (w->owner)
        w->owner_r = owner_resolve(w->owner, &w->owner_uid);
    if (w->want_content && S_ISREG(w->st.st_mode))
        w->read_r = head_read(w->path, &w->head, &w->head_len);
}

static void problem(struct strbuf *b, enum check_status *worst, enum check_status s,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Adds one finding to the summary and raises the status to at least s. */
static void problem(struct strbuf *b, enum check_status *worst, enum check_status s,
                    const char *fmt, ...)
{
    va_list ap;
    if (b->len)
        strbuf_adds(b, "; ");
    va_start(ap, fmt);
    strbuf_vaddf(b, fmt, ap);
    va_end(ap);
    /* A definite failure says more than a doubt: critical > warning > unknown > ok. */
    static const int rank[] = {0, 2, 3, 1};
    if (rank[s] > rank[*worst])
        *worst = s;
}

static bool content_matches(const struct config_regex *re, const char *text, size_t len, int *ret_r)
{
    const pcre2_code *code = (const pcre2_code *)re->code;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    int r = pcre2_match(code, (PCRE2_SPTR)text, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    *ret_r = r;
    return r >= 0;
}

static void file_judge(struct check_run *run, struct file_work *w)
{
    const struct config_check_file *f = &run->cfg->u.file;
    if (w->stat_r == -ENOENT || w->stat_r == -ENOTDIR) {
        if (f->state == CONFIG_FILE_ABSENT)
            check_run_finish(run, CHECK_STATUS_OK, "%s is absent", f->path);
        else
            check_run_finish(run, CHECK_STATUS_CRITICAL, "%s does not exist", f->path);
        return;
    }
    if (w->stat_r < 0) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot stat %s: %s", f->path,
                         strerror(-w->stat_r));
        return;
    }
    if (f->state == CONFIG_FILE_ABSENT) {
        check_run_finish(run, CHECK_STATUS_CRITICAL, "%s exists but should be absent", f->path);
        return;
    }

    uint64_t now_ms = clock_real_ms(&clock_system);
    uint64_t mtime_ms =
            (uint64_t)w->st.st_mtim.tv_sec * 1000u + (uint64_t)w->st.st_mtim.tv_nsec / 1000000u;
    uint64_t age_ms = now_ms > mtime_ms ? now_ms - mtime_ms : 0;
    uint64_t size = (uint64_t)w->st.st_size;
    enum check_status worst = CHECK_STATUS_OK;
    struct strbuf b;
    strbuf_init(&b, 0);

    if (f->max_age_ms != CONFIG_UNSET64 && age_ms > f->max_age_ms) {
        char age[UNITS_DURATION_MAX], max[UNITS_DURATION_MAX];
        units_duration_format(age_ms / 1000u * 1000u, age, sizeof(age));
        units_duration_format(f->max_age_ms, max, sizeof(max));
        problem(&b, &worst, CHECK_STATUS_CRITICAL, "modified %s ago (max %s)", age, max);
    }
    if (f->min_size != CONFIG_UNSET64 && size < f->min_size)
        problem(&b, &worst, CHECK_STATUS_CRITICAL, "%" PRIu64 " bytes (min %" PRIu64 ")", size,
                f->min_size);
    if (f->max_size != CONFIG_UNSET64 && size > f->max_size)
        problem(&b, &worst, CHECK_STATUS_CRITICAL, "%" PRIu64 " bytes (max %" PRIu64 ")", size,
                f->max_size);
    if (f->mode != CONFIG_UNSET && (w->st.st_mode & 07777) != f->mode)
        problem(&b, &worst, CHECK_STATUS_CRITICAL, "mode %04o, expected %04o",
                (unsigned)(w->st.st_mode & 07777), f->mode);
    if (f->owner) {
        if (w->owner_r == -ENOENT)
            problem(&b, &worst, CHECK_STATUS_UNKNOWN, "no user named %s", f->owner);
        else if (w->owner_r < 0)
            problem(&b, &worst, CHECK_STATUS_UNKNOWN, "cannot look up user %s: %s", f->owner,
                    strerror(-w->owner_r));
        else if (w->st.st_uid != w->owner_uid)
            problem(&b, &worst, CHECK_STATUS_CRITICAL, "owned by uid %u, expected %s",
                    (unsigned)w->st.st_uid, f->owner);
    }
    if (f->content) {
        int r = 0;
        if (!S_ISREG(w->st.st_mode))
            problem(&b, &worst, CHECK_STATUS_UNKNOWN, "not a regular file: content not read");
        else if (w->read_r < 0)
            problem(&b, &worst, CHECK_STATUS_UNKNOWN, "cannot read %s: %s", f->path,
                    strerror(-w->read_r));
        else if (!content_matches(f->content, w->head ? w->head : "", w->head_len, &r))
            problem(&b, &worst,
                    r == PCRE2_ERROR_NOMATCH ? CHECK_STATUS_CRITICAL : CHECK_STATUS_UNKNOWN,
                    "content does not match /%s/ in its first %zu bytes", f->content->pattern,
                    w->head_len);
    }

    check_run_sample(run, "size", (double)size, "B");
    check_run_sample(run, "age", (double)age_ms / 1000.0, "s");
    if (worst == CHECK_STATUS_OK) {
        char age[UNITS_DURATION_MAX + 8] = "just now";
        if (age_ms >= 1000) {
            units_duration_format(age_ms / 1000u * 1000u, age, UNITS_DURATION_MAX);
            size_t l = strlen(age);
            snprintf(age + l, sizeof(age) - l, " ago");
        }
        check_run_finish(run, CHECK_STATUS_OK, "%s: %" PRIu64 " bytes, modified %s", f->path, size,
                         age);
    } else {
        check_run_finish(run, worst, "%s: %s", f->path, b.s);
    }
    strbuf_fini(&b);
}

static void file_after_work(uv_work_t *req, int status)
{
    struct file_work *w = req->data;
    struct check_run *run = w->pool.run;
    if (run) {
        run->kind_data = NULL;
        if (status < 0)
            check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot check %s: %s", w->path,
                             uv_strerror(status));
        else
            file_judge(run, w);
    }
    work_free(w);
}

static void file_start(struct check_run *run)
{
    const struct config_check_file *f = &run->cfg->u.file;
    struct file_work *w = xcalloc(1, sizeof(*w));
    w->pool.req.data = w;
    w->pool.run = run;
    w->path = xstrdup(f->path);
    w->owner = f->owner ? xstrdup(f->owner) : NULL;
    w->want_content = f->content != NULL;
    int r = uv_queue_work(run->uv, &w->pool.req, file_work, file_after_work);
    if (r < 0) {
        work_free(w);
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot check %s: %s", f->path, uv_strerror(r));
        return;
    }
    run->kind_data = w;
}

const struct check_kind check_kind_file = {
        .type = CONFIG_CHECK_FILE,
        .start = file_start,
        .abort = check__pool_abort,
};
