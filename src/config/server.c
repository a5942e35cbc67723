/* SPDX-License-Identifier: MIT */
/*
 * The server section: where the daemon listens, where it keeps its data and
 * which store it uses. Only the main file may hold it; when it is absent
 * every key takes its default.
 */
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "config/internal.h"

#define LISTEN_EXPECTED "host:port or [IPv6]:port, such as 127.0.0.1:8080"

static bool read_port(const char *s, uint16_t *ret)
{
    if (!*s || strlen(s) > 5)
        return false;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v < 1 || v > 65535)
        return false;
    *ret = (uint16_t)v;
    return true;
}

/* Splits "host:port" or "[v6]:port"; false when s has neither form. */
static bool split_listen(const char *s, char **ret_host, uint16_t *ret_port)
{
    const char *colon;
    _cleanup_free_ char *host = NULL;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || close == s + 1)
            return false;
        host = xstrndup(s + 1, (size_t)(close - s - 1));
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || colon == s || memchr(s, ':', (size_t)(colon - s)))
            return false; /* a bare IPv6 address needs brackets */
        host = xstrndup(s, (size_t)(colon - s));
    }
    if (strpbrk(host, " \t/") || !read_port(colon + 1, ret_port))
        return false;
    *ret_host = TAKE_PTR(host);
    return true;
}

static bool parse_listen(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_server *s = obj;
    const char *text;
    if (!config__string(at, node, LISTEN_EXPECTED, &text))
        return false;
    _cleanup_free_ char *host = NULL;
    uint16_t port;
    if (!split_listen(text, &host, &port)) {
        config__error(at->x, at->f, node, "expected " LISTEN_EXPECTED ", got %s",
                      config__describe(at->x, node));
        return false;
    }
    s->listen = arena_strdup(&at->x->c->arena, text);
    s->listen_host = arena_strdup(&at->x->c->arena, host);
    s->listen_port = port;
    return true;
}

static bool parse_store(const struct config__at *at, const struct config__key *key,
                        yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_server *s = obj;
    const char *text;
    if (!config__string(at, node, "sqlite or a postgres:// URL", &text))
        return false;
    if (strcmp(text, "sqlite") == 0) {
        s->store = CONFIG_STORE_SQLITE;
        return true;
    }
    if ((strncmp(text, "postgres://", 11) == 0 || strncmp(text, "postgresql://", 13) == 0) &&
        !strpbrk(text, " \t\r\n")) {
        s->store = CONFIG_STORE_POSTGRES;
        s->store_url = arena_strdup(&at->x->c->arena, text);
        return true;
    }
    static const char *const names[] = {"sqlite", "postgres://"};
    const char *hint = config__suggest(at->x, text, names, 2);
    if (hint)
        config__error(at->x, at->f, node, "invalid store \"%s\"; did you mean \"%s\"?", text, hint);
    else
        config__error(at->x, at->f, node,
                      "expected sqlite or a postgres:// (or postgresql://) URL, got %s",
                      config__describe(at->x, node));
    return false;
}

static const struct config__enum log_levels[] = {
        {"error", LOG_LEVEL_ERROR},
        {"warn", LOG_LEVEL_WARN},
        {"info", LOG_LEVEL_INFO},
        {"debug", LOG_LEVEL_DEBUG},
        {NULL, 0},
};

/* Defaults that depend on other keys. */
static void server_check(const struct config__at *at, yaml_node_t *map,
                         const struct config__seen *seen, void *obj)
{
    (void)map;
    struct config_server *s = obj;
    struct arena *a = &at->x->c->arena;
    if (!config__seen_get(seen, "tokens_file") && s->data_dir) {
        _cleanup_free_ char *p = config__path_join(s->data_dir, "tokens");
        s->tokens_file = arena_strdup(a, p);
    }
    if (!config__seen_get(seen, "public_url") && s->listen) {
        _cleanup_free_ char *u = xasprintf("http://%s", s->listen);
        s->public_url = arena_strdup(a, u);
    }
}

#define S(field) offsetof(struct config_server, field)

static const struct config__key server_keys[] = {
        {.name = "listen",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .def = "127.0.0.1:8080",
         .custom = parse_listen},
        {.name = "data_dir", .type = CONFIG__PATH, .offset = S(data_dir), .def = "var"},
        {.name = "store",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .def = "sqlite",
         .custom = parse_store},
        {.name = "tokens_file", .type = CONFIG__PATH, .offset = S(tokens_file)},
        {.name = "public_url",
         .type = CONFIG__URL,
         .offset = S(public_url),
         .schemes = "http https"},
        {.name = "max_body",
         .type = CONFIG__SIZE,
         .offset = S(max_body),
         .def = "1MiB",
         .min = 1024,
         .max = 1ull << 30},
        {.name = "request_timeout",
         .type = CONFIG__DURATION,
         .offset = S(request_timeout_ms),
         .def = "30s",
         .min = 1000,
         .max = 3600 * 1000},
        {.name = "http_threads",
         .type = CONFIG__UINT,
         .offset = S(http_threads),
         .def = "2",
         .min = 1,
         .max = 64},
        {.name = "max_children",
         .type = CONFIG__UINT,
         .offset = S(max_children),
         .def = "64",
         .min = 1,
         .max = 4096},
        {.name = "log_level",
         .type = CONFIG__ENUM,
         .offset = S(log_level),
         .def = "info",
         .enums = log_levels},
        {.name = NULL},
};

static const struct config__table server_table = {"the server section", server_keys, server_check};

void config__parse_server(struct config__ctx *x)
{
    struct config__file *f = x->server_file ? x->server_file : x->files[0];
    yaml_node_t empty = {.type = YAML_MAPPING_NODE};
    yaml_node_t *node =
            x->server_node && !config__is_null(x->server_node) ? x->server_node : &empty;
    struct config__at at = {.x = x, .f = f, .scope = "in server"};
    const struct config__table *tables[] = {&server_table, NULL};
    struct config__seen seen;
    config__parse_map(&at, node, tables, NULL, false, &x->c->server, &seen);
}
