/* SPDX-License-Identifier: MIT */
/* File-system helpers. */
#include "base/fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"

static int mkdir_one(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0)
        return 0;
    int r = -errno;
    struct stat st;
    if (r == -EEXIST && stat(path, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
    return r;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
    _cleanup_free_ char *copy = xstrdup(path);
    /* Create each parent in turn: "a", "a/b", then "a/b/c". */
    for (char *p = copy + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int r = mkdir_one(copy, mode);
        *p = '/';
        if (r < 0)
            return r;
    }
    return mkdir_one(copy, mode);
}

int fs_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}
