/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the files of src/config/. Loading runs in three
 * passes over one struct config__ctx: read every file (the main one and its
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

struct config__file {
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

enum config__section {
    CONFIG__TEAMS,
    CONFIG__NOTIFIERS,
    CONFIG__CHECKS,
    CONFIG__SERVICES,
    CONFIG__RUNBOOKS,
    CONFIG__ROUTES,
    CONFIG__SILENCES,
    CONFIG__SECTION_COUNT,
};

/* One item of a section list, waiting to be parsed. */
struct config__item {
    struct config__file *file;
    yaml_node_t *node;
    size_t index; /* 1-based position in its file's list */
};

struct config__items {
    struct config__item *v;
    size_t n, cap;
};

/* A named object, for duplicate checks and reference lookups. */
struct config__named {
    const char *name;
    void *obj;
    struct config_loc loc;      /* where the object is defined */
    struct config_loc name_loc; /* where its name is written */
    struct config__file *file;
};

struct config__names {
    struct config__named *v;
    size_t n, cap;
    bool sorted;
};

/* A reference by name, resolved once every section is parsed. */
struct config__ref {
    enum config__section section;
    const char *name;
    const void **dst;  /* receives the object */
    const char *scope; /* "in check \"web\"" */
    struct config_loc loc;
    struct config__file *file;
};

struct config__diag_entry {
    struct config_diag d;
    unsigned file_index;
    size_t seq;
};

/* The sections only the main file may hold, each one mapping of keys. */
enum config__single {
    CONFIG__INCIDENTS,
    CONFIG__RETENTION,
    CONFIG__HISTORY,
    CONFIG__ENGINE,
    CONFIG__SINGLE_COUNT
};
/* Their names as the top-level keys, indexed by enum config__single. */
extern const char *const config__single_names[CONFIG__SINGLE_COUNT];

struct config__ctx {
    struct config *c;
    bool from_buffer;
    struct config__file **files;
    size_t n_files;
    struct config__file **stack; /* files being read, for include cycles */
    size_t n_stack;
    struct config__items items[CONFIG__SECTION_COUNT];
    struct config__names names[CONFIG__SECTION_COUNT];
    struct config__ref *refs;
    size_t n_refs, cap_refs;
    struct config__file *server_file;
    yaml_node_t *server_node;
    struct {
        struct config__file *file;
        yaml_node_t *node;
    } single[CONFIG__SINGLE_COUNT]; /* where each of them was found, if anywhere */
    struct config__diag_entry *diags;
    size_t n_diags, cap_diags;
    size_t budget;  /* nodes left to visit: bounds alias fan-out */
    size_t bytes;   /* read so far, the main file and its includes: at most CONFIG__MAX_BYTES */
    int read_error; /* -errno when the main file could not be read */
    /*
     * Text that only messages and the passes need (scopes, values as
     * shown, bounds): freed with the context, not kept with the config.
     */
    struct arena scratch;
};

/* ---- diagnostics (diag.c) ---- */

void config__error_at(struct config__ctx *x, const struct config__file *f, unsigned line,
                      unsigned col, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* At the start of node (node may be NULL for "no position"). */
void config__error(struct config__ctx *x, const struct config__file *f, const yaml_node_t *node,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* At byte offset `offset` inside scalar node, when the source maps 1:1. */
void config__error_in(struct config__ctx *x, const struct config__file *f, const yaml_node_t *node,
                      size_t offset, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Moves the diagnostics, sorted, into out. */
void config__diags_take(struct config__ctx *x, struct config_diags *out);

/*
 * True once the diagnostics are capped: further ones are only counted, so
 * callers skip the work of composing them (suggestions, lists of names).
 */
bool config__diags_full(const struct config__ctx *x);
/* The candidate closest to word, or NULL when none is close enough or x is full. */
const char *config__suggest(const struct config__ctx *x, const char *word, const char *const *cands,
                            size_t n);
/* Appends "a, b and c" to the buffer. */
void config__join_names(struct strbuf *b, const char *const *names, size_t n, const char *last_sep);

struct config_loc config__loc(struct config__ctx *x, const struct config__file *f,
                              const yaml_node_t *node);

/* ---- YAML helpers (yaml.c) ---- */

yaml_node_t *config__node(const struct config__file *f, int id);
bool config__is_null(const yaml_node_t *n);
bool config__is_scalar(const yaml_node_t *n);
const char *config__scalar(const yaml_node_t *n);
/* "\"10x\"", "a list", "a mapping", "nothing" (static or in the scratch arena). */
const char *config__describe(struct config__ctx *x, const yaml_node_t *n);
/* The value of key in mapping n, or NULL. */
yaml_node_t *config__map_get(const struct config__file *f, const yaml_node_t *n, const char *key);
/* Counts a visit; false (once reported) when the node budget is spent. */
bool config__visit(struct config__ctx *x, const struct config__file *f, const yaml_node_t *n);
/* Charges count visits at once, before allocating for count nodes. */
bool config__charge(struct config__ctx *x, const struct config__file *f, const yaml_node_t *n,
                    size_t count);
size_t config__node_budget(void);

/* ---- reading files (load.c) ---- */

void config__read_main(struct config__ctx *x, const char *path);
void config__read_buffer(struct config__ctx *x, const char *name, const void *data, size_t len);
void config__files_free(struct config__ctx *x);
/*
 * Reads the regular file path whole, NUL-terminated; -EFBIG when it holds
 * more than max bytes, -EISDIR, -EINVAL when not a regular file, or -errno.
 */
int config__read_file(const char *path, size_t max, char **ret_text, size_t *ret_len);
/* dir/rel (rel unchanged when absolute), with "." and ".." folded; free(). */
char *config__path_join(const char *dir, const char *rel);

/* ---- key tables (keys.c, values.c) ---- */

enum config__type {
    CONFIG__STRING,   /* const char * */
    CONFIG__NAME,     /* const char *, a name syntax */
    CONFIG__PATH,     /* const char *, made absolute */
    CONFIG__URL,      /* const char *, scheme in key->schemes */
    CONFIG__BOOL,     /* bool */
    CONFIG__UINT,     /* unsigned, min..max */
    CONFIG__DURATION, /* uint64_t ms, min..max */
    CONFIG__SIZE,     /* uint64_t bytes, min..max */
    CONFIG__PERCENT,  /* double */
    CONFIG__RANGE,    /* const struct units_range * */
    CONFIG__ENUM,     /* int-sized enum, from key->enums */
    CONFIG__STRV,     /* struct config_strv */
    CONFIG__ARGV,     /* struct config_strv, placeholders checked */
    CONFIG__HEADERS,  /* struct config_kvs */
    CONFIG__ENV,      /* struct config_kvs */
    CONFIG__LABELS,   /* struct labels */
    CONFIG__MATCHER,  /* const struct labels_matchers *; the text at key->aux_offset */
    CONFIG__REGEX,    /* const struct config_regex * */
    CONFIG__STATUS,   /* struct config_uintv of HTTP statuses */
    CONFIG__REF,      /* const char * name; the object at key->aux_offset */
    CONFIG__REFV,     /* struct config_strv names; the objects at key->aux_offset */
    CONFIG__SUB,      /* an embedded struct parsed with key->sub */
    CONFIG__CUSTOM,   /* key->custom does it all */
};

enum {
    CONFIG__REQUIRED = 1u << 0,
    CONFIG__EMPTY_OK = 1u << 1, /* a string may be "" */
    CONFIG__ONE_OK = 1u << 2,   /* a list may be written as its single element */
    CONFIG__KEEP = 1u << 3,     /* absent: keep what the caller put there */
    CONFIG__NONEMPTY = 1u << 4, /* a list must have an element */
    CONFIG__AUX = 1u << 5,      /* MATCHER: also store the text at aux_offset */
};

struct config__enum {
    const char *name;
    int value;
};

struct config__table;
struct config__key;

/* What one mapping held: the value node of each key of the tables, or NULL. */
struct config__seen {
    const struct config__key *keys[64];
    yaml_node_t *key_nodes[64];
    yaml_node_t *values[64];
    size_t n;
};

/* Everything a parser needs to know about where it is. */
struct config__at {
    struct config__ctx *x;
    struct config__file *f;
    const char *scope; /* "in check \"web\"", for messages */
};

typedef bool config__custom_fn(const struct config__at *at, const struct config__key *key,
                               yaml_node_t *node, void *obj);
/* Cross-key rules, run after every key of a mapping was parsed. */
typedef void config__check_fn(const struct config__at *at, yaml_node_t *map,
                              const struct config__seen *seen, void *obj);

struct config__key {
    const char *name;
    enum config__type type;
    size_t offset;
    const char *def; /* default, written as in YAML; NULL: none */
    unsigned flags;
    uint64_t min, max; /* bounds of UINT, DURATION, SIZE when max != 0 */
    const struct config__enum *enums;
    const struct config__table *sub;
    const char *schemes;          /* URL: "http https" */
    size_t aux_offset;            /* MATCHER: text; REF, REFV: resolved objects */
    enum config__section section; /* REF, REFV */
    config__custom_fn *custom;
};

struct config__table {
    const char *what;               /* "check", for "expected a mapping for a check" */
    const struct config__key *keys; /* ends with a key whose name is NULL */
    config__check_fn *check;
};

/*
 * Parses mapping node into obj with tables (NULL-terminated). With
 * `lenient` set, keys that belong to `others` (also NULL-terminated, may be
 * NULL) are not reported as unknown: used when a check's type is invalid.
 * Returns false when node is not a mapping.
 */
bool config__parse_map(const struct config__at *at, yaml_node_t *node,
                       const struct config__table *const *tables,
                       const struct config__table *const *others, bool lenient, void *obj,
                       struct config__seen *seen);
/*
 * Reports keys that are not strings and keys given twice; returns one flag
 * per pair of map, true for a pair to skip. free() the result.
 */
bool *config__map_dups(const struct config__at *at, yaml_node_t *map);
/* Parses one value; false when it was reported as invalid. */
bool config__parse_value(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj);
yaml_node_t *config__seen_get(const struct config__seen *seen, const char *name);
yaml_node_t *config__seen_key(const struct config__seen *seen, const char *name);

/* Value parsers that section code calls directly (values.c). */
bool config__parse_strv(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, struct config_strv *out);
bool config__string(const struct config__at *at, yaml_node_t *node, const char *what,
                    const char **ret);
bool config__check_name(const struct config__at *at, yaml_node_t *node, const char *name);
void config__ref_add(const struct config__at *at, enum config__section section, const char *name,
                     const void **dst, yaml_node_t *node);
const struct labels_matchers *config__matcher(const struct config__at *at, yaml_node_t *node);
/* "1h30m", "250ms", in the scratch arena: for messages. */
const char *config__fmt_duration(struct config__ctx *x, uint64_t ms);

/* "in check \"web\"" or "in check #3", in the scratch arena. */
const char *config__scope(const struct config__at *at, const char *what, yaml_node_t *map,
                          size_t index);
/* Formatted into the config's arena: for text the loaded config keeps. */
const char *config__printf(struct config__ctx *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Formatted into the context's scratch arena: for messages, gone after the load. */
const char *config__scratchf(struct config__ctx *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* ---- sections ---- */

void config__parse_server(struct config__ctx *x);
void config__parse_incidents(struct config__ctx *x);
void config__parse_retention(struct config__ctx *x);
void config__parse_history(struct config__ctx *x);
/*
 * Parses the section which (an empty mapping when absent) into obj with
 * the keys of table: what each config__parse_<section>() above does.
 */
void config__parse_single(struct config__ctx *x, enum config__single which,
                          const struct config__table *table, void *obj);
extern const struct config__enum config__impacts[];
void config__register(struct config__ctx *x, enum config__section s, struct config__file *f,
                      const char *name, void *obj, struct config_loc loc,
                      struct config_loc name_loc);
/* Registers a parsed object under its name, if it has one. */
void config__register_named(const struct config__at *at, enum config__section s, const char *name,
                            void *obj, yaml_node_t *map, const struct config__seen *seen);
typedef void config__item_fn(const struct config__at *at, yaml_node_t *node, void *obj);
/* Parses every collected item of section s into a new arena array of n objects of size. */
void *config__parse_items(struct config__ctx *x, enum config__section s, size_t size,
                          config__item_fn *fn, size_t *ret_n);
/* The value of e named by a scalar node, or -1. */
int config__enum_find(const struct config__enum *e, const yaml_node_t *node);
void config__parse_teams(struct config__ctx *x);
void config__parse_notifiers(struct config__ctx *x);
/* A notifier's `template: FILE` (template.c). */
bool config__parse_template(const struct config__at *at, const struct config__key *key,
                            yaml_node_t *node, void *obj);
void config__parse_services(struct config__ctx *x);
void config__parse_routes(struct config__ctx *x);
/* The engine section and the silences (engine.c). */
void config__parse_engine(struct config__ctx *x);
void config__parse_silences(struct config__ctx *x);
void config__parse_checks(struct config__ctx *x);
void config__parse_runbooks(struct config__ctx *x);
/* Duplicate names, references, dependency cycles (resolve.c). */
void config__resolve(struct config__ctx *x);
const char *config__section_noun(enum config__section s, bool plural);

/* Shared enum tables. */
extern const struct config__enum config__http_methods[];
extern const struct config__enum config__on_failures[];

#endif
