/* SPDX-License-Identifier: MIT */
/*
 * The configuration: one YAML file (plus the files it includes) turned into
 * typed, validated, immutable structs. Only this module reads YAML; past it
 * code sees enums, milliseconds and compiled matchers, never strings to
 * parse. Every problem found is reported with its file:line:column.
 *
 * A loaded config is reference-counted: a reload builds a new one, and work
 * in flight keeps a reference to the one it started with.
 */
#ifndef HALE_CONFIG_CONFIG_H
#define HALE_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/log.h"

/* One problem found in a configuration, located in its file. */
struct config_diag {
    char *file;    /* as the user named it (or as an include resolved it) */
    unsigned line; /* 1-based; 0 when the problem has no position (a missing file) */
    unsigned col;  /* 1-based */
    char *msg;     /* "unknown key \"timout\" in check; did you mean \"timeout\"?" */
};

/* Every problem found by one load, sorted by file, line and column. */
struct config_diags {
    struct config_diag *v;
    size_t n;
};

void config_diags_fini(struct config_diags *d);
/* Prints each as "FILE:LINE:COL: error: MSG\n" (or "FILE: error: MSG"). */
void config_diags_print(const struct config_diags *d, FILE *out);

enum config_store_kind {
    CONFIG_STORE_SQLITE,
    CONFIG_STORE_POSTGRES,
};

struct config_server {
    char *listen;         /* as written, "127.0.0.1:8080" */
    char *listen_host;    /* "127.0.0.1", "::1", "0.0.0.0" */
    uint16_t listen_port; /* 8080 */
    char *data_dir;       /* absolute or relative to the config file; default "var" */
    enum config_store_kind store;
    char *store_url;             /* postgres://... when store is postgres, else NULL */
    char *tokens_file;           /* default <data_dir>/tokens */
    char *public_url;            /* base of links to the UI; default http://<listen> */
    uint64_t max_body;           /* bytes a request body may have; default 1 MiB */
    uint64_t request_timeout_ms; /* an idle HTTP connection is closed after; default 30 s */
    unsigned http_threads;       /* HTTP server threads; default 2 */
    enum log_level log_level;    /* default info */
};

struct config; /* the whole model, defined below */

/*
 * Loads and validates path. On success returns 0 and a config with one
 * reference in *ret_config. On failure returns HALE_ECONFIG (or -errno when
 * the file cannot be read) and leaves every problem in diags (which the
 * caller must config_diags_fini() whether or not the load succeeded).
 */
int config_load(const char *path, struct config **ret_config, struct config_diags *diags);

struct config *config_ref(struct config *c);
/* Drops a reference; the last one frees the config. Accepts NULL. */
void config_unref(struct config *c);

const struct config_server *config_server(const struct config *c);
/* The path the config was loaded from, as given. */
const char *config_path(const struct config *c);

#endif
