/* SPDX-License-Identifier: MIT */
/*
 * What the store's benchmark programs share: the description of the
 * machine they ran on, percentiles of waits, number options, and a
 * scratch directory on a disk. Header-only: each program is one file.
 */
#ifndef HALE_BENCH_STORE_UTIL_H
#define HALE_BENCH_STORE_UTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../bench.h"
#include "base/alloc.h"

static inline int bench_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (0 to 1) of n sorted microsecond values, in milliseconds. */
static inline double bench_percentile_ms(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1000.0;
}

/* Prints the cores, the CPU, the kernel, the file system of dir and SQLite's version. */
static inline void bench_machine_print(const char *dir)
{
    char machine[512];
    bench_machine(machine, sizeof(machine));
    struct statfs sf;
    const char *fs = "unknown";
    if (statfs(dir, &sf) == 0)
        fs = sf.f_type == 0xEF53       ? "ext4"
             : sf.f_type == 0x01021994 ? "tmpfs"
             : sf.f_type == 0x58465342 ? "xfs"
             : sf.f_type == 0x9123683E ? "btrfs"
                                       : "other";
    printf("machine: %s, database on %s, SQLite %s\n", machine, fs, sqlite3_libversion());
}

/* A new directory under dir, else $TMPDIR, else /var/tmp (a disk rather than tmpfs). */
static inline char *bench_scratch_dir(const char *prog, const char *dir)
{
    const char *tmp = dir ? dir : getenv("TMPDIR");
    char *path = xasprintf("%s/hale-%s-XXXXXX", tmp && *tmp ? tmp : "/var/tmp", prog);
    if (!mkdtemp(path)) {
        fprintf(stderr, "%s: mkdtemp %s: %s\n", prog, path, strerror(errno));
        exit(1);
    }
    return path;
}

/* Removes the database a store made in dir, then dir. */
static inline void bench_scratch_remove(char *dir)
{
    char *db = xasprintf("%s/hale.db", dir);
    char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
    unlink(db);
    unlink(wal);
    unlink(shm);
    rmdir(dir);
    free(db);
    free(wal);
    free(shm);
    free(dir);
}

#endif
