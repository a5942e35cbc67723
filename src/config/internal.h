/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the files of src/config/. Loading runs in three
 * passes over one struct cfg_ctx: read every file (the main one and its
 * includes) and collect the items of each section; parse each item against
 * its key table into the arena; then check names and references across
 * sections. Every problem becomes a located diagnostic; none stops the load.
 */
#ifndef HALE_CONFIG_INTERNAL_H
#define HALE_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "config/config.h"

/* ---- files ---- */

struct cfg_file {
    char *path;        /* for messages: as named, or joined to the includer's directory */
    char *dir;         /* absolute directory, against which relative paths resolve */
    char *real;        /* realpath(), to recognise a file included twice */
    const char *apath; /* path, copied into the config's arena for struct config_loc */
    unsigned index;
    char *text;
    size_t len;
    yaml_document_t doc;
    bool has_doc;
};

enum cfg_section {
    CFG_TEAMS,
    CFG_NOTIFIERS,
    CFG_CHECKS,
    CFG_SERVICES,
    CFG_RUNBOOKS,
    CFG_ROUTES,
    CFG_SECTION_COUNT,
};

/* One item of a section list, waiting to be parsed. */
struct cfg_item {
    struct cfg_file *file;
    yaml_node_t *node;
    size_t index; /* 1-based position in its file's list */
};

struct cfg_items {
    struct cfg_item *v;
    size_t n, cap;
};

/* A named object, for duplicate checks and reference lookups. */
struct cfg_named {
    const char *name;
    void *obj;
    struct config_loc loc;      /* where the object is defined */
    struct config_loc name_loc; /* where its name is written */
    struct cfg_file *file;
};

struct cfg_names {
    struct cfg_named *v;
    size_t n, cap;
    bool sorted;
};

/* A reference by name, resolved once every section is parsed. */
struct cfg_ref {
    enum cfg_section section;
    const char *name;
    const void **dst;  /* receives the object */
    const char *scope; /* "in check \"web\"" */
    struct config_loc loc;
    struct cfg_file *file;
};

struct cfg_diag_entry {
    struct config_diag d;
    unsigned file_index;
    size_t seq;
};

struct cfg_ctx {
    struct config *c;
    bool from_buffer;
    struct cfg_file **files;
    size_t n_files;
    struct cfg_file **stack; /* files being read, for include cycles */
    size_t n_stack;
    struct cfg_items items[CFG_SECTION_COUNT];
    struct cfg_names names[CFG_SECTION_COUNT];
    struct cfg_ref *refs;
    size_t n_refs, cap_refs;
    struct cfg_file *server_file;
    yaml_node_t *server_node;
    struct cfg_diag_entry *diags;
    size_t n_diags, cap_diags;
    size_t budget;  /* nodes left to visit: bounds alias fan-out */
    int read_error; /* -errno when the main file could not be read */
};

/* ---- diagnostics (diag.c) ---- */

void cfg_error_at(struct cfg_ctx *x, const struct cfg_file *f, unsigned line, unsigned col,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* At the start of node (node may be NULL for "no position"). */
void cfg_error(struct cfg_ctx *x, const struct cfg_file *f, const yaml_node_t *node,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* At byte offset `offset` inside scalar node, when the source maps 1:1. */
void cfg_error_in(struct cfg_ctx *x, const struct cfg_file *f, const yaml_node_t *node,
                  size_t offset, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Moves the diagnostics, sorted, into out. */
void cfg_diags_take(struct cfg_ctx *x, struct config_diags *out);

/* The candidate closest to word, or NULL when none is close enough. */
const char *cfg_suggest(const char *word, const char *const *cands, size_t n);
/* Appends "a, b and c" to the buffer. */
void cfg_join_names(struct strbuf *b, const char *const *names, size_t n, const char *last_sep);

struct config_loc cfg_loc(struct cfg_ctx *x, const struct cfg_file *f, const yaml_node_t *node);

/* ---- YAML helpers (yaml.c) ---- */

yaml_node_t *cfg_node(const struct cfg_file *f, int id);
bool cfg_is_null(const yaml_node_t *n);
bool cfg_is_scalar(const yaml_node_t *n);
const char *cfg_scalar(const yaml_node_t *n);
/* "\"10x\"", "a list", "a mapping", "nothing" (static or arena-allocated). */
const char *cfg_describe(struct cfg_ctx *x, const yaml_node_t *n);
/* The value of key in mapping n, or NULL. */
yaml_node_t *cfg_map_get(const struct cfg_file *f, const yaml_node_t *n, const char *key);
/* Counts a visit; false (once reported) when the node budget is spent. */
bool cfg_visit(struct cfg_ctx *x, const struct cfg_file *f, const yaml_node_t *n);
size_t cfg_node_budget(void);

/* ---- reading files (load.c) ---- */

void cfg_read_main(struct cfg_ctx *x, const char *path);
void cfg_read_buffer(struct cfg_ctx *x, const char *name, const void *data, size_t len);
void cfg_files_free(struct cfg_ctx *x);
/* dir/rel (rel unchanged when absolute), with "." and ".." folded; free(). */
char *cfg_path_join(const char *dir, const char *rel);

/* ---- key tables (keys.c, values.c) ---- */

enum cfg_type {
    CFG_STRING,   /* const char * */
    CFG_NAME,     /* const char *, a name syntax */
    CFG_PATH,     /* const char *, made absolute */
    CFG_URL,      /* const char *, scheme in key->schemes */
    CFG_BOOL,     /* bool */
    CFG_UINT,     /* unsigned, min..max */
    CFG_DURATION, /* uint64_t ms, min..max */
    CFG_SIZE,     /* uint64_t bytes, min..max */
    CFG_PERCENT,  /* double */
    CFG_RANGE,    /* const struct units_range * */
    CFG_ENUM,     /* int-sized enum, from key->enums */
    CFG_STRV,     /* struct config_strv */
    CFG_ARGV,     /* struct config_strv, placeholders checked */
    CFG_HEADERS,  /* struct config_kvs */
    CFG_ENV,      /* struct config_kvs */
    CFG_LABELS,   /* struct labels */
    CFG_MATCHER,  /* const struct labels_matchers *; the text at key->aux_offset */
    CFG_REGEX,    /* const struct config_regex * */
    CFG_STATUS,   /* struct config_uintv of HTTP statuses */
    CFG_REF,      /* const char * name; the object at key->aux_offset */
    CFG_REFV,     /* struct config_strv names; the objects at key->aux_offset */
    CFG_SUB,      /* an embedded struct parsed with key->sub */
    CFG_CUSTOM,   /* key->custom does it all */
};

enum {
    CFG_REQUIRED = 1u << 0,
    CFG_EMPTY_OK = 1u << 1, /* a string may be "" */
    CFG_ONE_OK = 1u << 2,   /* a list may be written as its single element */
    CFG_KEEP = 1u << 3,     /* absent: keep what the caller put there */
    CFG_NONEMPTY = 1u << 4, /* a list must have an element */
    CFG_AUX = 1u << 5,      /* MATCHER: also store the text at aux_offset */
};

struct cfg_enum {
    const char *name;
    int value;
};

struct cfg_table;
struct cfg_key;

/* What one mapping held: the value node of each key of the tables, or NULL. */
struct cfg_seen {
    const struct cfg_key *keys[64];
    yaml_node_t *key_nodes[64];
    yaml_node_t *values[64];
    size_t n;
};

/* Everything a parser needs to know about where it is. */
struct cfg_at {
    struct cfg_ctx *x;
    struct cfg_file *f;
    const char *scope; /* "in check \"web\"", for messages */
};

typedef bool cfg_custom_fn(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                           void *obj);
/* Cross-key rules, run after every key of a mapping was parsed. */
typedef void cfg_check_fn(const struct cfg_at *at, yaml_node_t *map, const struct cfg_seen *seen,
                          void *obj);

struct cfg_key {
    const char *name;
    enum cfg_type type;
    size_t offset;
    const char *def; /* default, written as in YAML; NULL: none */
    unsigned flags;
    uint64_t min, max; /* bounds of UINT, DURATION, SIZE when max != 0 */
    const struct cfg_enum *enums;
    const struct cfg_table *sub;
    const char *schemes;      /* URL: "http https" */
    size_t aux_offset;        /* MATCHER: text; REF, REFV: resolved objects */
    enum cfg_section section; /* REF, REFV */
    cfg_custom_fn *custom;
};

struct cfg_table {
    const char *what;           /* "check", for "expected a mapping for a check" */
    const struct cfg_key *keys; /* ends with a key whose name is NULL */
    cfg_check_fn *check;
};

/*
 * Parses mapping node into obj with tables (NULL-terminated). With
 * `lenient` set, keys that belong to `others` (also NULL-terminated, may be
 * NULL) are not reported as unknown: used when a check's type is invalid.
 * Returns false when node is not a mapping.
 */
bool cfg_parse_map(const struct cfg_at *at, yaml_node_t *node,
                   const struct cfg_table *const *tables, const struct cfg_table *const *others,
                   bool lenient, void *obj, struct cfg_seen *seen);
/*
 * Reports keys that are not strings and keys given twice; returns one flag
 * per pair of map, true for a pair to skip. free() the result.
 */
bool *cfg_map_dups(const struct cfg_at *at, yaml_node_t *map);
/* Parses one value; false when it was reported as invalid. */
bool cfg_parse_value(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                     void *obj);
yaml_node_t *cfg_seen_get(const struct cfg_seen *seen, const char *name);
yaml_node_t *cfg_seen_key(const struct cfg_seen *seen, const char *name);

/* Value parsers that section code calls directly (values.c). */
bool cfg_parse_strv(const struct cfg_at *at, const struct cfg_key *key, yaml_node_t *node,
                    struct config_strv *out);
bool cfg_string(const struct cfg_at *at, yaml_node_t *node, const char *what, const char **ret);
bool cfg_check_name(const struct cfg_at *at, yaml_node_t *node, const char *name);
void cfg_ref_add(const struct cfg_at *at, enum cfg_section section, const char *name,
                 const void **dst, yaml_node_t *node);
const struct labels_matchers *cfg_matcher(const struct cfg_at *at, yaml_node_t *node);
const char *cfg_fmt_duration(struct cfg_ctx *x, uint64_t ms);

/* "in check \"web\"" or "in check #3", arena-allocated. */
const char *cfg_scope(const struct cfg_at *at, const char *what, yaml_node_t *map, size_t index);
const char *cfg_printf(struct cfg_ctx *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- sections ---- */

void cfg_parse_server(struct cfg_ctx *x);
void cfg_register(struct cfg_ctx *x, enum cfg_section s, struct cfg_file *f, const char *name,
                  void *obj, struct config_loc loc, struct config_loc name_loc);
/* Registers a parsed object under its name, if it has one. */
void cfg_register_named(const struct cfg_at *at, enum cfg_section s, const char *name, void *obj,
                        yaml_node_t *map, const struct cfg_seen *seen);
typedef void cfg_item_fn(const struct cfg_at *at, yaml_node_t *node, void *obj);
/* Parses every collected item of section s into a new arena array of n objects of size. */
void *cfg_parse_items(struct cfg_ctx *x, enum cfg_section s, size_t size, cfg_item_fn *fn,
                      size_t *ret_n);
/* The value of e named by a scalar node, or -1. */
int cfg_enum_find(const struct cfg_enum *e, const yaml_node_t *node);
void cfg_parse_teams(struct cfg_ctx *x);
void cfg_parse_notifiers(struct cfg_ctx *x);
void cfg_parse_services(struct cfg_ctx *x);
void cfg_parse_routes(struct cfg_ctx *x);
void cfg_parse_checks(struct cfg_ctx *x);
void cfg_parse_runbooks(struct cfg_ctx *x);
/* Duplicate names, references, dependency cycles (resolve.c). */
void cfg_resolve(struct cfg_ctx *x);
const char *cfg_section_noun(enum cfg_section s, bool plural);

/* Shared enum tables. */
extern const struct cfg_enum cfg_http_methods[];
extern const struct cfg_enum cfg_on_failures[];

#endif
