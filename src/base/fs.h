/* SPDX-License-Identifier: MIT */
/* File-system helpers shared by the modules that keep state on disk. */
#ifndef HALE_BASE_FS_H
#define HALE_BASE_FS_H

#include <sys/types.h>

/*
 * Creates path and any missing parents with mode (like `mkdir -p`).
 * Returns 0 (also when it exists as a directory) or -errno; -ENOTDIR when
 * path or a parent exists and is not a directory.
 */
int fs_mkdir_p(const char *path, mode_t mode);

#endif
