/* SPDX-License-Identifier: MIT */
/*
 * The disk kind: how full the filesystem holding a path is, in space and
 * in inodes, against warn and crit percentages. Space used is counted as
 * df counts it: used / (used + available to unprivileged users), so the
 * blocks reserved for root count as full. statvfs() may block on a hung
 * filesystem (NFS), so it runs on libuv's thread pool; on abort the run
 * finishes at once and the pool thread's result is dropped when it comes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "base/alloc.h"
#include "checks/internal.h"

struct disk_work {
    struct check__pool_work pool; /* first: check__pool_abort() reads it */
    char *path;                   /* a copy: the work may outlive the config */
    int r;
    struct statvfs st;
};

static void disk_work(uv_work_t *req)
{
    struct disk_work *w = req->data;
    w->r = statvfs(w->path, &w->st) < 0 ? -errno : 0;
}

static void sample_pct(struct check_run *run, const char *label, double v, double warn, double crit)
{
    check_run_sample(run, label, v, "%");
    struct check_sample *s = &run->obs.samples[run->obs.n_samples - 1];
    s->has_warn = warn != CONFIG_PERCENT_UNSET;
    s->warn = (struct units_range){.start = 0, .end = warn};
    s->has_crit = crit != CONFIG_PERCENT_UNSET;
    s->crit = (struct units_range){.start = 0, .end = crit};
    s->has_min = s->has_max = true;
    s->min = 0;
    s->max = 100;
}

static enum check_status level(double v, double warn, double crit)
{
    struct units_range w = {.start = 0, .end = warn}, c = {.start = 0, .end = crit};
    if (crit != CONFIG_PERCENT_UNSET && units_range_alerts(&c, v))
        return CHECK_STATUS_CRITICAL;
    if (warn != CONFIG_PERCENT_UNSET && units_range_alerts(&w, v))
        return CHECK_STATUS_WARNING;
    return CHECK_STATUS_OK;
}

/* "18.3 GB": decimal units, as people read disk sizes. */
static void size_format(double bytes, char *buf, size_t size)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
    size_t i = 0;
    while (bytes >= 1000 && i + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1000;
        i++;
    }
    snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", bytes, units[i]);
}

static void disk_judge(struct check_run *run, const struct statvfs *st)
{
    const struct config_check_disk *d = &run->cfg->u.disk;
    double frsize = (double)(st->f_frsize ? st->f_frsize : st->f_bsize);
    double used = (double)(st->f_blocks - st->f_bfree) * frsize;
    double avail = (double)st->f_bavail * frsize;
    double total = (double)st->f_blocks * frsize;
    double pct = used + avail > 0 ? used * 100.0 / (used + avail) : 0.0;
    enum check_status s = level(pct, d->warn, d->crit);

    check_run_sample(run, "used", used, "B");
    struct check_sample *u = &run->obs.samples[run->obs.n_samples - 1];
    u->has_min = u->has_max = true;
    u->min = 0;
    u->max = total;
    check_run_sample(run, "free", avail, "B");
    sample_pct(run, "used_pct", pct, d->warn, d->crit);

    char used_s[32], total_s[32], inodes[64] = "";
    size_format(used, used_s, sizeof(used_s));
    size_format(total, total_s, sizeof(total_s));
    /* Some filesystems (btrfs) report no inode counts: nothing to judge. */
    if (st->f_files > 0) {
        double ipct = (double)(st->f_files - st->f_ffree) * 100.0 / (double)st->f_files;
        enum check_status is = level(ipct, d->inodes_warn, d->inodes_crit);
        if (is > s)
            s = is;
        sample_pct(run, "inodes_used_pct", ipct, d->inodes_warn, d->inodes_crit);
        snprintf(inodes, sizeof(inodes), ", inodes %.1f%% used", ipct);
    }
    check_run_finish(run, s, "%s %.1f%% used (%s of %s)%s", d->path, pct, used_s, total_s, inodes);
}

static void disk_after_work(uv_work_t *req, int status)
{
    struct disk_work *w = req->data;
    struct check_run *run = w->pool.run;
    if (run) {
        run->kind_data = NULL;
        if (status < 0)
            check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot check %s: %s", w->path,
                             uv_strerror(status));
        else if (w->r < 0)
            check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot statvfs %s: %s", w->path,
                             strerror(-w->r));
        else
            disk_judge(run, &w->st);
    }
    free(w->path);
    free(w);
}

static void disk_start(struct check_run *run)
{
    struct disk_work *w = xcalloc(1, sizeof(*w));
    w->pool.req.data = w;
    w->pool.run = run;
    w->path = xstrdup(run->cfg->u.disk.path);
    int r = uv_queue_work(run->uv, &w->pool.req, disk_work, disk_after_work);
    if (r < 0) {
        free(w->path);
        free(w);
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "cannot check %s: %s", run->cfg->u.disk.path,
                         uv_strerror(r));
        return;
    }
    run->kind_data = w;
}

const struct check_kind check_kind_disk = {
        .type = CONFIG_CHECK_DISK,
        .start = disk_start,
        .abort = check__pool_abort,
};
