/* SPDX-License-Identifier: MIT */
/*
 * State files of the check kinds that remember something across restarts
 * (a log file's offset, a flow's last report): small files under
 * <data_dir>/state/, replaced atomically so a crash leaves the old or the
 * new version, never half of one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/err.h"
#include "base/fs.h"
#include "checks/internal.h"

char *check__state_path(const struct check_host *host, const char *kind)
{
    if (!host->data_dir || !host->cfg->name)
        return NULL;
    return xasprintf("%s/state/%s-%s.state", host->data_dir, kind, host->cfg->name);
}

int check__state_write(const char *path, const char *data, size_t len)
{
    _cleanup_free_ char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        int r = fs_mkdir_p(dir, 0700);
        if (r < 0)
            return r;
    }
    _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int r = fs_write_all(fd, data, len);
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r == 0 && rename(tmp, path) < 0)
        r = -errno;
    if (r < 0)
        unlink(tmp);
    return r;
}

int check__state_read(const char *path, size_t max, char **ret_text)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct strbuf b;
    strbuf_init(&b, max);
    char buf[4096];
    int r = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0)
            break;
        r = strbuf_add(&b, buf, (size_t)n);
        if (r < 0)
            break;
    }
    close(fd);
    if (r < 0) {
        strbuf_fini(&b);
        return r;
    }
    *ret_text = strbuf_detach(&b, NULL);
    return 0;
}
