/* SPDX-License-Identifier: MIT */
/*
 * The first pass of a load: read the main file and every file it includes,
 * parse each as one YAML document, check its top level, and collect the
 * items of each section for the second pass. Includes are read after the
 * rest of the including file, depth first; a file reached twice is read
 * once, and a file that includes itself, directly or not, is an error.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "config/internal.h"

/*
 * The main file and its includes together: what a load reads, parses and
 * keeps in memory grows with it (a YAML document costs several times its
 * text), and no real configuration comes near it.
 */
#define CONFIG__MAX_BYTES (8u << 20)
#define CONFIG__MAX_FILES 256

static const char *const top_keys[] = {"server",    "include",  "teams",  "notifiers", "checks",
                                       "services",  "runbooks", "routes", "silences",  "incidents",
                                       "retention", "engine",   "history"};

/* The section of top_keys[i], for 2 <= i < 9; the keys after them are mappings. */
static const enum config__section top_sections[] = {
        CONFIG__TEAMS,    CONFIG__NOTIFIERS, CONFIG__CHECKS,   CONFIG__SERVICES,
        CONFIG__RUNBOOKS, CONFIG__ROUTES,    CONFIG__SILENCES,
};

const char *const config__single_names[CONFIG__SINGLE_COUNT] = {
        [CONFIG__INCIDENTS] = "incidents",
        [CONFIG__RETENTION] = "retention",
        [CONFIG__HISTORY] = "history",
        [CONFIG__ENGINE] = "engine",
};

void config__parse_single(struct config__ctx *x, enum config__single which,
                          const struct config__table *table, void *obj)
{
    static const char *const scopes[CONFIG__SINGLE_COUNT] = {
            [CONFIG__INCIDENTS] = "in incidents",
            [CONFIG__RETENTION] = "in retention",
            [CONFIG__HISTORY] = "in history",
            [CONFIG__ENGINE] = "in engine",
    };
    struct config__file *f = x->single[which].file ? x->single[which].file : x->files[0];
    yaml_node_t empty = {.type = YAML_MAPPING_NODE};
    yaml_node_t *node = x->single[which].node;
    if (!node || config__is_null(node))
        node = &empty;
    struct config__at at = {.x = x, .f = f, .scope = scopes[which]};
    const struct config__table *tables[] = {table, NULL};
    struct config__seen seen;
    config__parse_map(&at, node, tables, NULL, false, obj, &seen);
}

/* ---- paths ---- */

static void fold_component(char **parts, size_t *n, bool absolute, const char *c, size_t len)
{
    if (len == 0 || (len == 1 && c[0] == '.'))
        return;
    if (len == 2 && c[0] == '.' && c[1] == '.') {
        if (*n > 0 && strcmp(parts[*n - 1], "..") != 0) {
            free(parts[--*n]);
            return;
        }
        if (absolute)
            return; /* "/.." is "/" */
    }
    parts[(*n)++] = xstrndup(c, len);
}

char *config__path_join(const char *dir, const char *rel)
{
    _cleanup_free_ char *joined =
            rel[0] == '/' || !*dir ? xstrdup(rel) : xasprintf("%s/%s", dir, rel);
    bool absolute = joined[0] == '/';
    size_t max = strlen(joined) / 2 + 2, n = 0;
    _cleanup_free_ char **parts = xcalloc(max, sizeof(*parts));
    for (const char *p = joined; *p;) {
        size_t len = strcspn(p, "/");
        fold_component(parts, &n, absolute, p, len);
        p += len;
        p += *p == '/';
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    if (absolute)
        strbuf_addc(&b, '/');
    for (size_t i = 0; i < n; i++) {
        strbuf_addf(&b, "%s%s", i ? "/" : "", parts[i]);
        free(parts[i]);
    }
    if (b.len == 0)
        strbuf_addc(&b, '.');
    return strbuf_detach(&b, NULL);
}

/* The directory part of a path as written: "" for "demo.yaml". */
static char *path_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup("");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* ---- reading ---- */

int config__read_file(const char *path, size_t max, char **ret_text, size_t *ret_len)
{
    /* O_NONBLOCK: a FIFO must not hold the load; it is refused below. */
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    if ((uint64_t)st.st_size > max)
        return -EFBIG;
    size_t cap = (size_t)st.st_size + 1, len = 0;
    _cleanup_free_ char *text = xmalloc(cap);
    for (;;) {
        if (len + 1 == cap) {
            if (len >= max + 1) /* it grew since fstat() */
                return -EFBIG;
            cap *= 2;
            text = xrealloc(text, cap);
        }
        ssize_t n = read(fd, text + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max)
        return -EFBIG;
    text[len] = '\0';
    *ret_text = TAKE_PTR(text);
    *ret_len = len;
    return 0;
}

static const char *read_error_text(int r)
{
    switch (r) {
    case -EINVAL:
        return "not a regular file";
    case -EFBIG:
        return "the file is larger than 8 MiB, the limit for the configuration with its includes";
    default:
        return hale_strerror(r);
    }
}

static struct config__file *file_new(struct config__ctx *x, const char *display)
{
    struct config__file *f = xcalloc(1, sizeof(*f));
    f->path = xstrdup(display);
    f->apath = arena_strdup(&x->c->arena, display);
    f->index = (unsigned)x->n_files;
    x->files = xreallocarray(x->files, x->n_files + 1, sizeof(*x->files));
    x->files[x->n_files++] = f;
    return f;
}

void config__files_free(struct config__ctx *x)
{
    for (size_t i = 0; i < x->n_files; i++) {
        struct config__file *f = x->files[i];
        if (f->has_doc)
            yaml_document_delete(&f->doc);
        free(f->path);
        free(f->dir);
        free(f->real);
        free(f->text);
        free(f);
    }
    free(x->files);
    free(x->stack);
    x->files = x->stack = NULL;
    x->n_files = x->n_stack = 0;
}

/* Line and column (1-based, in characters) of a byte offset, for reader errors. */
static void offset_position(const struct config__file *f, size_t offset, unsigned *line,
                            unsigned *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < f->len; i++) {
        unsigned char c = (unsigned char)f->text[i];
        if (c == '\n') {
            (*line)++;
            *col = 1;
        } else if ((c & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static void parser_error_report(struct config__ctx *x, struct config__file *f,
                                const yaml_parser_t *p)
{
    const char *problem = p->problem ? p->problem : "unknown problem";
    if (p->error == YAML_MEMORY_ERROR) {
        config__error_at(x, f, 0, 0, "out of memory while reading YAML");
    } else if (p->error == YAML_READER_ERROR) {
        unsigned line, col;
        offset_position(f, p->problem_offset, &line, &col);
        config__error_at(x, f, line, col, "invalid YAML: %s", problem);
    } else if (p->context) {
        config__error_at(x, f, (unsigned)p->problem_mark.line + 1,
                         (unsigned)p->problem_mark.column + 1,
                         "invalid YAML: %s (%s at line %zu, column %zu)", problem, p->context,
                         p->context_mark.line + 1, p->context_mark.column + 1);
    } else {
        config__error_at(x, f, (unsigned)p->problem_mark.line + 1,
                         (unsigned)p->problem_mark.column + 1, "invalid YAML: %s", problem);
    }
}

/* A second document in the same stream is refused, so none is silently ignored. */
static void check_single_document(struct config__ctx *x, struct config__file *f, yaml_parser_t *p)
{
    yaml_document_t extra;
    if (!yaml_parser_load(p, &extra)) {
        parser_error_report(x, f, p);
        return;
    }
    yaml_node_t *root = yaml_document_get_root_node(&extra);
    if (root && !config__is_null(root))
        config__error_at(x, f, (unsigned)extra.start_mark.line + 1,
                         (unsigned)extra.start_mark.column + 1,
                         "a second YAML document; a configuration file holds exactly one (remove "
                         "the \"---\" or move the rest to an included file)");
    yaml_document_delete(&extra);
}

/* Returns the root node, or NULL when the file holds nothing usable. */
static yaml_node_t *parse_yaml(struct config__ctx *x, struct config__file *f)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        abort();
    yaml_parser_set_input_string(&p, (const unsigned char *)f->text, f->len);
    yaml_node_t *root = NULL;
    if (!yaml_parser_load(&p, &f->doc)) {
        parser_error_report(x, f, &p);
    } else {
        f->has_doc = true;
        root = yaml_document_get_root_node(&f->doc);
        if (root)
            check_single_document(x, f, &p);
    }
    yaml_parser_delete(&p);
    return root;
}

/* ---- the top level ---- */

static void read_file(struct config__ctx *x, struct config__file *f, bool main);

static void add_items(const struct config__at *at, enum config__section s, yaml_node_t *list)
{
    struct config__ctx *x = at->x;
    if (config__is_null(list))
        return;
    if (list->type != YAML_SEQUENCE_NODE) {
        config__error(x, at->f, list, "expected a list of %s, got %s",
                      config__section_noun(s, true), config__describe(x, list));
        return;
    }
    struct config__items *items = &x->items[s];
    size_t index = 0;
    for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top;
         i++) {
        yaml_node_t *n = config__node(at->f, *i);
        if (!n || !config__visit(x, at->f, n))
            return;
        if (items->n == items->cap) {
            items->cap = items->cap ? items->cap * 2 : 8;
            items->v = xreallocarray(items->v, items->cap, sizeof(*items->v));
        }
        items->v[items->n++] = (struct config__item){.file = at->f, .node = n, .index = ++index};
    }
}

static bool in_stack(struct config__ctx *x, const char *real, size_t *ret_pos)
{
    for (size_t i = 0; i < x->n_stack; i++) {
        if (strcmp(x->stack[i]->real, real) == 0) {
            *ret_pos = i;
            return true;
        }
    }
    return false;
}

static bool already_read(struct config__ctx *x, const char *real)
{
    for (size_t i = 0; i < x->n_files; i++)
        if (x->files[i]->real && strcmp(x->files[i]->real, real) == 0)
            return true;
    return false;
}

static void report_cycle(const struct config__at *at, yaml_node_t *node, size_t from,
                         const char *display)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    for (size_t i = from; i < at->x->n_stack; i++)
        strbuf_addf(&b, "%s -> ", at->x->stack[i]->path);
    strbuf_adds(&b, display);
    config__error(at->x, at->f, node, "include cycle: %s", b.s);
    strbuf_fini(&b);
}

/* Reads one included file (open is absolute, display is for messages). */
static void include_file(const struct config__at *at, yaml_node_t *node, const char *open_path,
                         const char *display)
{
    struct config__ctx *x = at->x;
    _cleanup_free_ char *real = realpath(open_path, NULL);
    if (!real) {
        config__error(x, at->f, node, "cannot read \"%s\": %s", display, strerror(errno));
        return;
    }
    size_t pos;
    if (in_stack(x, real, &pos)) {
        report_cycle(at, node, pos, display);
        return;
    }
    if (already_read(x, real))
        return; /* a pack reached twice adds its objects once */
    if (x->n_files >= CONFIG__MAX_FILES) {
        config__error(x, at->f, node, "too many included files (more than %d)", CONFIG__MAX_FILES);
        return;
    }
    char *text;
    size_t len;
    int r = config__read_file(real, CONFIG__MAX_BYTES - x->bytes, &text, &len);
    if (r == -EFBIG) {
        config__error(x, at->f, node,
                      "cannot include \"%s\": with it the configuration and its includes would "
                      "be larger than 8 MiB in all",
                      display);
        return;
    }
    if (r < 0) {
        config__error(x, at->f, node, "cannot read \"%s\": %s", display, read_error_text(r));
        return;
    }
    x->bytes += len;
    struct config__file *f = file_new(x, display);
    f->text = text;
    f->len = len;
    f->real = TAKE_PTR(real);
    f->dir = path_dirname(f->real);
    read_file(x, f, false);
}

static int pack_name_filter(const struct dirent *d)
{
    size_t len = strlen(d->d_name);
    if (d->d_name[0] == '.')
        return 0;
    return (len > 5 && strcmp(d->d_name + len - 5, ".yaml") == 0) ||
           (len > 4 && strcmp(d->d_name + len - 4, ".yml") == 0);
}

/* Name order by bytes, not by locale, so every machine reads packs alike. */
static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void include_dir(const struct config__at *at, yaml_node_t *node, const char *open_path,
                        const char *display)
{
    struct dirent **names;
    int n = scandir(open_path, &names, pack_name_filter, name_cmp);
    if (n < 0) {
        config__error(at->x, at->f, node, "cannot read \"%s\": %s", display, strerror(errno));
        return;
    }
    for (int i = 0; i < n; i++) {
        _cleanup_free_ char *o = config__path_join(open_path, names[i]->d_name);
        _cleanup_free_ char *d = config__path_join(display, names[i]->d_name);
        struct stat st;
        if (stat(o, &st) == 0 && S_ISREG(st.st_mode))
            include_file(at, node, o, d);
        free(names[i]);
    }
    free(names);
}

static void include_one(const struct config__at *at, yaml_node_t *node)
{
    struct config__ctx *x = at->x;
    if (!config__is_scalar(node) || config__is_null(node) || !*config__scalar(node)) {
        config__error(x, at->f, node, "expected a file or directory name to include, got %s",
                      config__describe(x, node));
        return;
    }
    if (x->from_buffer) {
        config__error(x, at->f, node,
                      "include is not available when the configuration is not read from a file");
        return;
    }
    const char *rel = config__scalar(node);
    _cleanup_free_ char *open_path = config__path_join(at->f->dir, rel);
    _cleanup_free_ char *dir = path_dirname(at->f->path);
    _cleanup_free_ char *display = config__path_join(dir, rel);
    struct stat st;
    if (stat(open_path, &st) < 0) {
        config__error(x, at->f, node, "cannot read \"%s\": %s", display, strerror(errno));
        return;
    }
    if (S_ISDIR(st.st_mode))
        include_dir(at, node, open_path, display);
    else
        include_file(at, node, open_path, display);
}

static void read_includes(const struct config__at *at, yaml_node_t *value)
{
    if (config__is_null(value))
        return;
    if (value->type == YAML_SCALAR_NODE) {
        include_one(at, value);
        return;
    }
    if (value->type != YAML_SEQUENCE_NODE) {
        config__error(at->x, at->f, value, "expected a list of files or directories, got %s",
                      config__describe(at->x, value));
        return;
    }
    for (yaml_node_item_t *i = value->data.sequence.items.start; i < value->data.sequence.items.top;
         i++) {
        yaml_node_t *n = config__node(at->f, *i);
        if (n && config__visit(at->x, at->f, n))
            include_one(at, n);
    }
}

static void unknown_top_key(const struct config__at *at, yaml_node_t *key)
{
    const char *name = config__scalar(key);
    const char *hint =
            config__suggest(at->x, name, top_keys, sizeof(top_keys) / sizeof(top_keys[0]));
    if (hint) {
        config__error(at->x, at->f, key,
                      "unknown key \"%s\" at the top level; did you mean \"%s\"?", name, hint);
        return;
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    config__join_names(&b, top_keys, sizeof(top_keys) / sizeof(top_keys[0]), " and ");
    config__error(at->x, at->f, key, "unknown key \"%s\" at the top level; valid keys are %s", name,
                  b.s);
    strbuf_fini(&b);
}

/* The section only the main file may hold named name, or -1. */
static int single_section(const char *name)
{
    for (int k = 0; k < CONFIG__SINGLE_COUNT; k++)
        if (strcmp(config__single_names[k], name) == 0)
            return k;
    return -1;
}

/* Handles one top-level key; returns the include list to read later, if this is it. */
static yaml_node_t *top_key(const struct config__at *at, yaml_node_t *key, yaml_node_t *value,
                            bool main)
{
    const char *name = config__scalar(key);
    int single;
    size_t i = 0;
    while (i < sizeof(top_keys) / sizeof(top_keys[0]) && strcmp(top_keys[i], name) != 0)
        i++;
    if (i == sizeof(top_keys) / sizeof(top_keys[0])) {
        /* x-anything holds YAML anchors for the rest of the file, as in Compose files */
        if (strncmp(name, "x-", 2) != 0)
            unknown_top_key(at, key);
    } else if (i == 0 && !main) {
        config__error(at->x, at->f, key,
                      "server is not allowed in an included file (a pack); it belongs in the main "
                      "configuration");
    } else if (i == 0) {
        at->x->server_file = at->f;
        at->x->server_node = value;
    } else if (i == 1) {
        return value;
    } else if ((single = single_section(name)) >= 0) {
        if (!main) {
            config__error(at->x, at->f, key,
                          "%s is not allowed in an included file (a pack); it belongs in the main "
                          "configuration",
                          name);
        } else {
            at->x->single[single].file = at->f;
            at->x->single[single].node = value;
        }
    } else {
        add_items(at, top_sections[i - 2], value);
    }
    return NULL;
}

static void read_top(const struct config__at *at, yaml_node_t *root, bool main)
{
    struct config__ctx *x = at->x;
    if (root->type != YAML_MAPPING_NODE) {
        config__error(x, at->f, root,
                      "the top level must be a mapping with keys such as server, checks and "
                      "runbooks, got %s",
                      config__describe(x, root));
        return;
    }
    _cleanup_free_ bool *skip = config__map_dups(at, root);
    yaml_node_t *include = NULL;
    size_t k = 0;
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++, k++) {
        if (skip[k])
            continue;
        yaml_node_t *v =
                top_key(at, config__node(at->f, p->key), config__node(at->f, p->value), main);
        if (v)
            include = v;
    }
    if (include)
        read_includes(at, include);
}

static void read_file(struct config__ctx *x, struct config__file *f, bool main)
{
    x->stack = xreallocarray(x->stack, x->n_stack + 1, sizeof(*x->stack));
    x->stack[x->n_stack++] = f;
    yaml_node_t *root = parse_yaml(x, f);
    struct config__at at = {.x = x, .f = f, .scope = "at the top level"};
    if (root && !config__is_null(root))
        read_top(&at, root, main);
    else if (main && f->has_doc)
        config__error_at(x, f, 1, 1,
                         "the configuration is empty; expected a mapping with keys such as server, "
                         "checks and runbooks");
    x->n_stack--;
}

void config__read_main(struct config__ctx *x, const char *path)
{
    struct config__file *f = file_new(x, path);
    int r = config__read_file(path, CONFIG__MAX_BYTES, &f->text, &f->len);
    x->bytes = f->len;
    if (r < 0) {
        config__error_at(x, f, 0, 0, "cannot read: %s", read_error_text(r));
        x->read_error = r;
        return;
    }
    f->real = realpath(path, NULL);
    if (!f->real) {
        r = -errno;
        config__error_at(x, f, 0, 0, "cannot read: %s", read_error_text(r));
        x->read_error = r;
        return;
    }
    f->dir = path_dirname(f->real);
    read_file(x, f, true);
}

void config__read_buffer(struct config__ctx *x, const char *name, const void *data, size_t len)
{
    struct config__file *f = file_new(x, name);
    if (len > CONFIG__MAX_BYTES) {
        config__error_at(x, f, 0, 0, "cannot read: %s", read_error_text(-EFBIG));
        x->read_error = -EFBIG;
        return;
    }
    x->bytes = len;
    f->text = xmalloc(len + 1);
    memcpy(f->text, data, len);
    f->text[len] = '\0';
    f->len = len;
    f->dir = getcwd(NULL, 0);
    if (!f->dir)
        f->dir = xstrdup("/");
    read_file(x, f, true);
}
