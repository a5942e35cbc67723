/* SPDX-License-Identifier: MIT */
/* File-system helpers shared by the modules that keep state on disk. */
#ifndef HALE_BASE_FS_H
#define HALE_BASE_FS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Creates path and any missing parents with mode (like `mkdir -p`).
 * Returns 0 (also when it exists as a directory) or -errno; -ENOTDIR when
 * path or a parent exists and is not a directory.
 */
int fs_mkdir_p(const char *path, mode_t mode);

/* Writes all len bytes of data to fd, retrying short writes and EINTR; 0 or -errno. */
int fs_write_all(int fd, const void *data, size_t len);

#endif
