/* SPDX-License-Identifier: MIT */
/* Helpers shared by the unit tests. Header-only: each test is its own executable. */
#ifndef HALE_TESTS_TESTUTIL_H
#define HALE_TESTS_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>

static inline int testutil_remove_entry(const char *path, const struct stat *st, int flag,
                                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything below it, like `rm -rf`. */
static inline void testutil_rm_rf(const char *dir)
{
    nftw(dir, testutil_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * SQL that takes a database of this hale back to schema version 3, for
 * tests that migrate an older database: what versions 4 to 9 added goes.
 */
#define TESTUTIL_SCHEMA_BACK_TO_3                                                              \
    "DROP INDEX incidents_by_service;"                                                         \
    "DROP TABLE run_steps; DROP TABLE runs; DROP TABLE quarantines;"                           \
    "DROP TABLE silences; DROP TABLE events; ALTER TABLE incidents DROP COLUMN service;"       \
    "ALTER TABLE incidents DROP COLUMN symptom_of; ALTER TABLE incidents DROP COLUMN runbook;" \
    "ALTER TABLE incidents DROP COLUMN events; ALTER TABLE incidents DROP COLUMN repeats;"

#endif
