/* SPDX-License-Identifier: MIT */
/*
 * `hale token create|list|revoke`: manages the API tokens in the tokens
 * file the configuration names (server.tokens_file), or the file given
 * with --tokens-file. A running daemon notices the change within a
 * second, so no reload is needed. The secret of a new token goes to
 * stdout, alone, so scripts can capture it; everything for people goes
 * to stderr.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/err.h"
#include "cli/cli.h"
#include "config/config.h"

struct token_opts {
    const char *config;
    const char *tokens_file;
    const char *role;
    bool json;
    const char *name; /* the positional argument */
};

/* Where the tokens are, and the base URL to show in hints. */
struct token_place {
    char *path;
    char *url;
};

static const char usage_create[] = "Usage: hale token create NAME --role ROLE [-c FILE] "
                                   "[--tokens-file PATH]\n";
static const char usage_list[] = "Usage: hale token list [--json] [-c FILE] [--tokens-file PATH]\n";
static const char usage_revoke[] = "Usage: hale token revoke NAME [-c FILE] [--tokens-file PATH]\n";

static const char help_common[] =
        "\n"
        "Options:\n"
        "  -c, --config FILE       the configuration that names the tokens file\n"
        "                          (server.tokens_file); default $HALE_CONFIG, else\n"
        "                          " CLI_DEFAULT_CONFIG "\n"
        "      --tokens-file PATH  use this tokens file and do not read the configuration\n"
        "  -h, --help              show this help\n";

static const char help_roles[] = "\n"
                                 "Roles:\n"
                                 "  viewer     read everything\n"
                                 "  responder  read; ack, note, resolve, approve and run\n"
                                 "  admin      everything, including tokens and reload\n"
                                 "  reporter   push events and metrics, nothing else\n"
                                 "  requester  the self-service chat only\n";

static void help_token(FILE *out)
{
    fprintf(out,
            "Usage: hale token create NAME --role ROLE [-c FILE] [--tokens-file PATH]\n"
            "       hale token list [--json] [-c FILE] [--tokens-file PATH]\n"
            "       hale token revoke NAME [-c FILE] [--tokens-file PATH]\n"
            "\n"
            "API tokens let clients call hale's HTTP API with 'Authorization: Bearer TOKEN'.\n"
            "Only a hash of each token is stored: a token is shown once, when it is created.\n"
            "A running daemon sees changes within a second.\n%s%s",
            help_roles, help_common);
}

static void help_create(FILE *out)
{
    fprintf(out,
            "%s\n"
            "Creates token NAME (1-63 characters of A-Z a-z 0-9 . _ -) with ROLE and prints\n"
            "it on stdout. It is shown only this once: store it right away.\n"
            "\n"
            "  -r, --role ROLE         what the token may do (see Roles)\n%s%s",
            usage_create, help_roles, help_common);
}

static void help_list(FILE *out)
{
    fprintf(out,
            "%s\n"
            "Lists the tokens: name, role and creation time (never the tokens themselves).\n"
            "\n"
            "      --json              print a JSON array instead of a table\n%s",
            usage_list, help_common);
}

static void help_revoke(FILE *out)
{
    fprintf(out,
            "%s\n"
            "Removes token NAME. A running daemon refuses it within a second.\n%s",
            usage_revoke, help_common);
}

enum {
    OPT_TOKENS_FILE = 256,
    OPT_JSON,
};

/*
 * Parses argv (argv[0] is the subcommand) into o. Returns -1 to go on,
 * else the exit status (after --help or a usage error).
 */
static int opts_parse(int argc, char **argv, const char *cmd, void (*help)(FILE *),
                      struct token_opts *o)
{
    static const struct option longopts[] = {
            {"config", required_argument, NULL, 'c'},
            {"tokens-file", required_argument, NULL, OPT_TOKENS_FILE},
            {"role", required_argument, NULL, 'r'},
            {"json", no_argument, NULL, OPT_JSON},
            {"help", no_argument, NULL, 'h'},
            {NULL, 0, NULL, 0},
    };
    bool creating = strcmp(argv[0], "create") == 0, listing = strcmp(argv[0], "list") == 0;
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:r:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            help(stdout);
            return CLI_EXIT_OK;
        } else if (c == 'c') {
            o->config = optarg;
        } else if (c == OPT_TOKENS_FILE) {
            o->tokens_file = optarg;
        } else if (c == 'r' && creating) {
            o->role = optarg;
        } else if (c == OPT_JSON && listing) {
            o->json = true;
        } else if (c == ':') {
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        } else {
            return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
        }
    }
    int want = listing ? 0 : 1;
    if (argc - optind > want)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + want]);
    if (argc - optind < want)
        return cli_usage_error(cmd, "missing the token NAME");
    o->name = want ? argv[optind] : NULL;
    return -1;
}

/* Finds the tokens file: --tokens-file, else server.tokens_file of the configuration. */
static int place_find(const struct token_opts *o, const char *cmd, struct token_place *p)
{
    if (o->tokens_file) {
        p->path = xstrdup(o->tokens_file);
        p->url = xstrdup("http://HOST:PORT");
        return 0;
    }
    const char *path = cli_config_path(o->config);
    struct config *c = NULL;
    struct config_diags diags = {0};
    int r = config_load(path, &c, &diags);
    if (r < 0) {
        config_diags_print(&diags, stderr);
        config_diags_fini(&diags);
        fprintf(stderr,
                "hale %s: cannot load the configuration %s (%s): fix it, or name the tokens "
                "file with --tokens-file PATH\n",
                cmd, path, hale_strerror(r));
        return CLI_EXIT_INVALID;
    }
    const struct config_server *srv = config_server(c);
    p->path = xstrdup(srv->tokens_file);
    p->url = xstrdup(srv->public_url ? srv->public_url : "http://HOST:PORT");
    config_unref(c);
    config_diags_fini(&diags);
    return 0;
}

static void place_fini(struct token_place *p)
{
    free(p->path);
    free(p->url);
}

static int token_create(const struct token_opts *o, const struct token_place *p)
{
    enum auth_role role;
    if (!o->role)
        return cli_usage_error("token create", "missing --role ROLE; roles are: %s",
                               auth_role_names());
    if (auth_role_parse(o->role, &role) < 0)
        return cli_usage_error("token create", "unknown role '%s'; roles are: %s", o->role,
                               auth_role_names());
    char secret[AUTH_SECRET_MAX];
    struct err e = {0};
    int r = auth_token_create(p->path, o->name, role, secret, &e);
    if (r == HALE_EEXIST) {
        fprintf(stderr,
                "hale token create: a token named '%s' exists already in %s; revoke it first "
                "with 'hale token revoke %s', or choose another name\n",
                o->name, p->path, o->name);
        return CLI_EXIT_FAILURE;
    }
    if (r == HALE_EPARSE && !strstr(e.msg, p->path))
        return cli_usage_error("token create", "%s", e.msg); /* the name itself */
    if (r < 0) {
        fprintf(stderr, "hale token create: %s\n", e.msg);
        return CLI_EXIT_FAILURE;
    }
    printf("%s\n", secret);
    fflush(stdout);
    explicit_bzero(secret, sizeof(secret));
    fprintf(stderr,
            "hale: created token '%s' with role %s in %s.\n"
            "hale: the token above is shown only this once: store it now. To use it:\n"
            "  export HALE_TOKEN='<the token above>'\n"
            "  curl -H \"Authorization: Bearer $HALE_TOKEN\" %s/api/v1/whoami\n",
            o->name, auth_role_name(role), p->path, p->url);
    return CLI_EXIT_OK;
}

static void list_print(const struct auth_token_info *v, size_t n, bool json)
{
    int width = 4; /* "NAME" */
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(v[i].name) > width)
            width = (int)strlen(v[i].name);
    if (json)
        printf("[");
    else if (n > 0)
        printf("%-*s  %-9s  %s\n", width, "NAME", "ROLE", "CREATED");
    for (size_t i = 0; i < n; i++) {
        char created[CLOCK_RFC3339_MAX];
        clock_format_rfc3339(v[i].created, created);
        /* Names, roles and times hold no character JSON would need escaped. */
        if (json)
            printf("%s{\"name\":\"%s\",\"role\":\"%s\",\"created\":\"%s\"}", i ? "," : "",
                   v[i].name, auth_role_name(v[i].role), created);
        else
            printf("%-*s  %-9s  %s\n", width, v[i].name, auth_role_name(v[i].role), created);
    }
    if (json)
        printf("]\n");
}

static int token_list(const struct token_opts *o, const struct token_place *p)
{
    _cleanup_free_ struct auth_token_info *v = NULL;
    size_t n;
    struct err e = {0};
    int r = auth_token_list(p->path, &v, &n, &e);
    if (r < 0) {
        fprintf(stderr, "hale token list: %s\n", e.msg);
        return CLI_EXIT_FAILURE;
    }
    list_print(v, n, o->json);
    if (n == 0 && !o->json)
        fprintf(stderr,
                "hale: no tokens in %s; create one with 'hale token create NAME --role "
                "ROLE'\n",
                p->path);
    return CLI_EXIT_OK;
}

static int token_revoke(const struct token_opts *o, const struct token_place *p)
{
    struct err e = {0};
    int r = auth_token_revoke(p->path, o->name, &e);
    if (r == HALE_ENOTFOUND) {
        fprintf(stderr,
                "hale token revoke: no token named '%s' in %s; 'hale token list' shows "
                "the names\n",
                o->name, p->path);
        return CLI_EXIT_FAILURE;
    }
    if (r < 0) {
        fprintf(stderr, "hale token revoke: %s\n", e.msg);
        return CLI_EXIT_FAILURE;
    }
    fprintf(stderr, "hale: revoked token '%s'; a running daemon refuses it within a second\n",
            o->name);
    return CLI_EXIT_OK;
}

static const struct {
    const char *name;
    const char *cmd; /* for messages */
    void (*help)(FILE *out);
    int (*run)(const struct token_opts *o, const struct token_place *p);
} subcommands[] = {
        {"create", "token create", help_create, token_create},
        {"list", "token list", help_list, token_list},
        {"revoke", "token revoke", help_revoke, token_revoke},
};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return cli_usage_error("token", "say what to do: create, list or revoke");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        help_token(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < ARRAY_SIZE(subcommands); i++) {
        if (strcmp(argv[1], subcommands[i].name) != 0)
            continue;
        struct token_opts o = {0};
        int r = opts_parse(argc - 1, argv + 1, subcommands[i].cmd, subcommands[i].help, &o);
        if (r >= 0)
            return r;
        struct token_place p = {0};
        r = place_find(&o, subcommands[i].cmd, &p);
        if (r == 0)
            r = subcommands[i].run(&o, &p);
        place_fini(&p);
        return r;
    }
    return cli_usage_error("token", "'%s' is not a token command; use create, list or revoke",
                           argv[1]);
}

const struct cli_command cli_token = {"token", "create, list and revoke API tokens", run};
