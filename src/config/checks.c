/* SPDX-License-Identifier: MIT */
/*
 * The checks section. Every check has the common keys; its type adds the
 * keys of its kind, and only those: `url` on a tcp check is an unknown key.
 * Adding a kind means adding an enum value, a struct in config.h, a table
 * here and a line in check_kinds[].
 */
#include <string.h>

#include "base/alloc.h"
#include "config/internal.h"

#define C(field) offsetof(struct config_check, field)

static const struct config__enum check_types[] = {
        {"process", CONFIG_CHECK_PROCESS},
        {"tcp", CONFIG_CHECK_TCP},
        {"http", CONFIG_CHECK_HTTP},
        {"file", CONFIG_CHECK_FILE},
        {"disk", CONFIG_CHECK_DISK},
        {"command", CONFIG_CHECK_COMMAND},
        {"systemd", CONFIG_CHECK_SYSTEMD},
        {"log", CONFIG_CHECK_LOG},
        {"heartbeat", CONFIG_CHECK_HEARTBEAT},
        {"metric", CONFIG_CHECK_METRIC},
        {NULL, 0},
};

/* The default of key name when the mapping did not write it, else NULL. */
static const char *unwritten_default(const struct config__seen *seen, const char *name)
{
    for (size_t i = 0; i < seen->n; i++)
        if (strcmp(seen->keys[i]->name, name) == 0)
            return seen->values[i] ? NULL : seen->keys[i]->def;
    return NULL;
}

/*
 * Reports a pair of thresholds in the wrong order, at the second key. When
 * one of them was not written, its default is what was compared: say so,
 * or the user looks for a value they never wrote.
 */
static void order_error(const struct config__at *at, const struct config__seen *seen,
                        const char *low, const char *high)
{
    yaml_node_t *n = config__seen_get(seen, high);
    if (!n)
        n = config__seen_get(seen, low);
    const char *def_key = low, *def = unwritten_default(seen, low);
    if (!def)
        def_key = high, def = unwritten_default(seen, high);
    if (def)
        config__error(at->x, at->f, n,
                      "%s must not be greater than %s (%s is not written and defaults to %s: "
                      "set it too)",
                      low, high, def_key, def);
    else
        config__error(at->x, at->f, n, "%s must not be greater than %s", low, high);
}

/* Both set and low > high: an error. CONFIG_UNSET* values are never compared. */
static void check_order(const struct config__at *at, const struct config__seen *seen,
                        const char *low, const char *high, uint64_t a, uint64_t b, uint64_t unset)
{
    if (a != unset && b != unset && a > b)
        order_error(at, seen, low, high);
}

static void check_order_percent(const struct config__at *at, const struct config__seen *seen,
                                const char *low, const char *high, double a, double b)
{
    if (a >= 0 && b >= 0 && a > b)
        order_error(at, seen, low, high);
}

/* ---- common keys ---- */

static void common_check(const struct config__at *at, yaml_node_t *map,
                         const struct config__seen *seen, void *obj)
{
    (void)map;
    struct config_check *c = obj;
    yaml_node_t *t = config__seen_get(seen, "timeout");
    /* The default timeout obeys the rule below too: `every: 5s` alone runs with 5s. */
    if (!t && c->timeout_ms > c->every_ms)
        c->timeout_ms = c->every_ms;
    if (c->type == CONFIG_CHECK_HEARTBEAT || c->type == CONFIG_CHECK_METRIC)
        return; /* these wait for data; they do not run anything with a timeout */
    if (t && c->timeout_ms > c->every_ms)
        config__error(at->x, at->f, t, "timeout must not be longer than every (%s), got %s",
                      config__fmt_duration(at->x, c->every_ms),
                      config__fmt_duration(at->x, c->timeout_ms));
}

static const struct config__key common_keys[] = {
        {.name = "name", .type = CONFIG__NAME, .offset = C(name), .flags = CONFIG__REQUIRED},
        {.name = "type",
         .type = CONFIG__ENUM,
         .offset = C(type),
         .flags = CONFIG__REQUIRED,
         .enums = check_types},
        {.name = "description", .type = CONFIG__STRING, .offset = C(description)},
        {.name = "every",
         .type = CONFIG__DURATION,
         .offset = C(every_ms),
         .def = "30s",
         .min = 1000,
         .max = 7 * 86400 * 1000ull},
        {.name = "timeout",
         .type = CONFIG__DURATION,
         .offset = C(timeout_ms),
         .def = "10s",
         .min = 1,
         .max = 3600 * 1000},
        {.name = "failures",
         .type = CONFIG__UINT,
         .offset = C(failures),
         .def = "1",
         .min = 1,
         .max = 100},
        {.name = "recoveries",
         .type = CONFIG__UINT,
         .offset = C(recoveries),
         .def = "1",
         .min = 1,
         .max = 100},
        {.name = "labels", .type = CONFIG__LABELS, .offset = C(labels)},
        {.name = "runbook",
         .type = CONFIG__REF,
         .offset = C(runbook_name),
         .aux_offset = C(runbook),
         .section = CONFIG__RUNBOOKS},
        {.name = "team",
         .type = CONFIG__REF,
         .offset = C(team_name),
         .aux_offset = C(team),
         .section = CONFIG__TEAMS},
        {.name = "category", .type = CONFIG__STRING, .offset = C(category)},
        {.name = "impact",
         .type = CONFIG__ENUM,
         .offset = C(impact),
         .def = "medium",
         .enums = config__impacts},
        {.name = NULL},
};

/* ---- process ---- */

#define P(field) C(u.process.field)

static void process_check(const struct config__at *at, yaml_node_t *map,
                          const struct config__seen *seen, void *obj)
{
    const struct config_check_process *p = &((const struct config_check *)obj)->u.process;
    if (!config__seen_get(seen, "pidfile") && !config__seen_get(seen, "process_name") &&
        !config__seen_get(seen, "match"))
        config__error(at->x, at->f, map, "a process check needs pidfile, process_name or match %s",
                      at->scope);
    check_order(at, seen, "min_count", "max_count", p->min_count, p->max_count, CONFIG_UNSET);
    check_order(at, seen, "rss_warn", "rss_crit", p->rss_warn, p->rss_crit, CONFIG_UNSET64);
    check_order_percent(at, seen, "cpu_warn", "cpu_crit", p->cpu_warn, p->cpu_crit);
}

static const struct config__key process_keys[] = {
        {.name = "pidfile", .type = CONFIG__PATH, .offset = P(pidfile)},
        {.name = "process_name", .type = CONFIG__STRING, .offset = P(process_name)},
        {.name = "match", .type = CONFIG__REGEX, .offset = P(match)},
        {.name = "min_count",
         .type = CONFIG__UINT,
         .offset = P(min_count),
         .def = "1",
         .max = 1000000},
        {.name = "max_count", .type = CONFIG__UINT, .offset = P(max_count), .max = 1000000},
        {.name = "rss_warn", .type = CONFIG__SIZE, .offset = P(rss_warn)},
        {.name = "rss_crit", .type = CONFIG__SIZE, .offset = P(rss_crit)},
        {.name = "cpu_warn", .type = CONFIG__PERCENT, .offset = P(cpu_warn)},
        {.name = "cpu_crit", .type = CONFIG__PERCENT, .offset = P(cpu_crit)},
        {.name = NULL},
};

/* ---- tcp ---- */

static const struct config__key tcp_keys[] = {
        {.name = "host",
         .type = CONFIG__STRING,
         .offset = C(u.tcp.host),
         .flags = CONFIG__REQUIRED},
        {.name = "port",
         .type = CONFIG__UINT,
         .offset = C(u.tcp.port),
         .flags = CONFIG__REQUIRED,
         .min = 1,
         .max = 65535},
        {.name = "send", .type = CONFIG__STRING, .offset = C(u.tcp.send)},
        {.name = "expect", .type = CONFIG__REGEX, .offset = C(u.tcp.expect)},
        {.name = NULL},
};

/* ---- http ---- */

#define H(field) C(u.http.field)

static const struct config__key http_expect_keys[] = {
        {.name = "status",
         .type = CONFIG__STATUS,
         .offset = offsetof(struct config_http_expect, status)},
        {.name = "body",
         .type = CONFIG__REGEX,
         .offset = offsetof(struct config_http_expect, body)},
        {.name = NULL},
};

static const struct config__table http_expect_table = {"expect", http_expect_keys, NULL};

static void http_check(const struct config__at *at, yaml_node_t *map,
                       const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_check_http *h = &((const struct config_check *)obj)->u.http;
    check_order(at, seen, "latency_warn", "latency_crit", h->latency_warn_ms, h->latency_crit_ms,
                CONFIG_UNSET64);
    /* Fewer days left is worse, so the warning comes at the larger number. */
    check_order(at, seen, "cert_days_crit", "cert_days_warn", h->cert_days_crit, h->cert_days_warn,
                CONFIG_UNSET);
    yaml_node_t *cert = config__seen_get(seen, "cert_days_warn");
    if (!cert)
        cert = config__seen_get(seen, "cert_days_crit");
    if (cert && h->url && strncasecmp(h->url, "https://", 8) != 0)
        config__error(at->x, at->f, cert, "certificate checks need an https:// url");
}

static const struct config__key http_keys[] = {
        {.name = "url",
         .type = CONFIG__URL,
         .offset = H(url),
         .flags = CONFIG__REQUIRED,
         .schemes = "http https"},
        {.name = "method",
         .type = CONFIG__ENUM,
         .offset = H(method),
         .def = "GET",
         .enums = config__http_methods},
        {.name = "headers", .type = CONFIG__HEADERS, .offset = H(headers)},
        {.name = "body", .type = CONFIG__STRING, .offset = H(body), .flags = CONFIG__EMPTY_OK},
        {.name = "expect",
         .type = CONFIG__SUB,
         .offset = H(expect),
         .flags = CONFIG__KEEP,
         .sub = &http_expect_table},
        {.name = "latency_warn", .type = CONFIG__DURATION, .offset = H(latency_warn_ms), .min = 1},
        {.name = "latency_crit", .type = CONFIG__DURATION, .offset = H(latency_crit_ms), .min = 1},
        {.name = "cert_days_warn",
         .type = CONFIG__UINT,
         .offset = H(cert_days_warn),
         .min = 1,
         .max = 3650},
        {.name = "cert_days_crit",
         .type = CONFIG__UINT,
         .offset = H(cert_days_crit),
         .min = 1,
         .max = 3650},
        {.name = NULL},
};

/* ---- file ---- */

#define F(field) C(u.file.field)

static const struct config__enum file_states[] = {
        {"exists", CONFIG_FILE_EXISTS},
        {"absent", CONFIG_FILE_ABSENT},
        {NULL, 0},
};

/* mode: "0644" or 644, the permission bits in octal. */
static bool parse_mode(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    (void)key;
    unsigned mode = 0;
    const char *s = config__is_scalar(node) && !config__is_null(node) ? config__scalar(node) : "";
    size_t len = strlen(s);
    bool ok = len >= 3 && len <= 4;
    for (const char *p = s; ok && *p; p++) {
        ok = *p >= '0' && *p <= '7';
        mode = mode * 8 + (unsigned)(*p - '0');
    }
    if (!ok) {
        config__error(at->x, at->f, node,
                      "expected permission bits in octal such as \"0644\", got %s",
                      config__describe(at->x, node));
        return false;
    }
    ((struct config_check *)obj)->u.file.mode = mode;
    return true;
}

static void file_check(const struct config__at *at, yaml_node_t *map,
                       const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_check_file *f = &((const struct config_check *)obj)->u.file;
    check_order(at, seen, "min_size", "max_size", f->min_size, f->max_size, CONFIG_UNSET64);
    if (f->state != CONFIG_FILE_ABSENT)
        return;
    static const char *const conditions[] = {"max_age", "min_size", "max_size",
                                             "mode",    "owner",    "content"};
    for (size_t i = 0; i < sizeof(conditions) / sizeof(conditions[0]); i++)
        if (config__seen_key(seen, conditions[i]))
            config__error(at->x, at->f, config__seen_key(seen, conditions[i]),
                          "%s cannot be checked on a file that must be absent", conditions[i]);
}

static const struct config__key file_keys[] = {
        {.name = "path", .type = CONFIG__PATH, .offset = F(path), .flags = CONFIG__REQUIRED},
        {.name = "state",
         .type = CONFIG__ENUM,
         .offset = F(state),
         .def = "exists",
         .enums = file_states},
        {.name = "max_age", .type = CONFIG__DURATION, .offset = F(max_age_ms), .min = 1},
        {.name = "min_size", .type = CONFIG__SIZE, .offset = F(min_size)},
        {.name = "max_size", .type = CONFIG__SIZE, .offset = F(max_size)},
        {.name = "mode",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__KEEP,
         .custom = parse_mode},
        {.name = "owner", .type = CONFIG__STRING, .offset = F(owner)},
        {.name = "content", .type = CONFIG__REGEX, .offset = F(content)},
        {.name = NULL},
};

/* ---- disk ---- */

#define D(field) C(u.disk.field)

static void disk_check(const struct config__at *at, yaml_node_t *map,
                       const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_check_disk *d = &((const struct config_check *)obj)->u.disk;
    check_order_percent(at, seen, "warn", "crit", d->warn, d->crit);
    check_order_percent(at, seen, "inodes_warn", "inodes_crit", d->inodes_warn, d->inodes_crit);
}

static const struct config__key disk_keys[] = {
        {.name = "path", .type = CONFIG__PATH, .offset = D(path), .def = "/"},
        {.name = "warn", .type = CONFIG__PERCENT, .offset = D(warn), .def = "80%"},
        {.name = "crit", .type = CONFIG__PERCENT, .offset = D(crit), .def = "90%"},
        {.name = "inodes_warn", .type = CONFIG__PERCENT, .offset = D(inodes_warn)},
        {.name = "inodes_crit", .type = CONFIG__PERCENT, .offset = D(inodes_crit)},
        {.name = NULL},
};

/* ---- command, systemd ---- */

static const struct config__key command_keys[] = {
        {.name = "run",
         .type = CONFIG__ARGV,
         .offset = C(u.command.run),
         .flags = CONFIG__REQUIRED | CONFIG__NONEMPTY},
        {.name = NULL},
};

static const struct config__key systemd_keys[] = {
        {.name = "unit",
         .type = CONFIG__STRING,
         .offset = C(u.systemd.unit),
         .flags = CONFIG__REQUIRED},
        {.name = NULL},
};

/* ---- log ---- */

#define L(field) C(u.log.field)

static void log_check(const struct config__at *at, yaml_node_t *map,
                      const struct config__seen *seen, void *obj)
{
    (void)map;
    struct config_check_log *l = &((struct config_check *)obj)->u.log;
    /* With neither level written, one match is critical; with warn alone, nothing is. */
    if (!config__seen_get(seen, "warn") && !config__seen_get(seen, "crit"))
        l->crit = 1;
    check_order(at, seen, "warn", "crit", l->warn, l->crit, CONFIG_UNSET);
}

static const struct config__key log_keys[] = {
        {.name = "path", .type = CONFIG__PATH, .offset = L(path), .flags = CONFIG__REQUIRED},
        {.name = "match", .type = CONFIG__REGEX, .offset = L(match), .flags = CONFIG__REQUIRED},
        {.name = "window",
         .type = CONFIG__DURATION,
         .offset = L(window_ms),
         .def = "5m",
         .min = 1000},
        {.name = "warn", .type = CONFIG__UINT, .offset = L(warn), .min = 1},
        {.name = "crit", .type = CONFIG__UINT, .offset = L(crit), .min = 1}, /* see log_check */
        {.name = NULL},
};

/* ---- heartbeat ---- */

#define HB(field) C(u.heartbeat.field)

static bool parse_deadline(const struct config__at *at, const struct config__key *key,
                           yaml_node_t *node, void *obj)
{
    (void)key;
    const char *s = config__is_scalar(node) && !config__is_null(node) ? config__scalar(node) : "";
    unsigned h = 0, m = 0;
    bool ok = strlen(s) == 5 && s[2] == ':';
    for (size_t i = 0; ok && i < 5; i++)
        ok = i == 2 || (s[i] >= '0' && s[i] <= '9');
    if (ok) {
        h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
        m = (unsigned)(s[3] - '0') * 10 + (unsigned)(s[4] - '0');
        ok = h < 24 && m < 60;
    }
    if (!ok) {
        config__error(at->x, at->f, node, "expected a time of day such as \"06:30\", got %s",
                      config__describe(at->x, node));
        return false;
    }
    ((struct config_check *)obj)->u.heartbeat.deadline_min = h * 60 + m;
    return true;
}

static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static bool one_day(const struct config__at *at, yaml_node_t *node, unsigned *days)
{
    const char *s = config__is_scalar(node) && !config__is_null(node) ? config__scalar(node) : NULL;
    for (unsigned i = 0; s && i < 7; i++) {
        if (strcmp(s, day_names[i]) == 0) {
            *days |= 1u << i;
            return true;
        }
    }
    const char *hint = s ? config__suggest(at->x, s, day_names, 7) : NULL;
    if (hint)
        config__error(at->x, at->f, node, "invalid day \"%s\"; did you mean \"%s\"?", s, hint);
    else
        config__error(at->x, at->f, node,
                      "expected a day: mon, tue, wed, thu, fri, sat or sun, got %s",
                      config__describe(at->x, node));
    return false;
}

static bool parse_days(const struct config__at *at, const struct config__key *key,
                       yaml_node_t *node, void *obj)
{
    (void)key;
    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top == node->data.sequence.items.start) {
        config__error(at->x, at->f, node, "expected a list of days such as [mon, tue, wed], got %s",
                      config__describe(at->x, node));
        return false;
    }
    unsigned days = 0;
    bool ok = true;
    for (yaml_node_item_t *i = node->data.sequence.items.start; i < node->data.sequence.items.top;
         i++) {
        yaml_node_t *n = config__node(at->f, *i);
        if (!config__visit(at->x, at->f, n) || !one_day(at, n, &days))
            ok = false;
    }
    ((struct config_check *)obj)->u.heartbeat.days = days;
    return ok;
}

static bool read_date(const char *s, unsigned *ret)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    unsigned v[3] = {0, 0, 0};
    for (size_t i = 0, part = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            part++;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        v[part] = v[part] * 10 + (unsigned)(s[i] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1])
        return false;
    bool leap = (v[0] % 4 == 0 && v[0] % 100 != 0) || v[0] % 400 == 0;
    if (v[1] == 2 && v[2] == 29 && !leap)
        return false;
    *ret = v[0] * 10000 + v[1] * 100 + v[2];
    return true;
}

static bool parse_exclude(const struct config__at *at, const struct config__key *key,
                          yaml_node_t *node, void *obj)
{
    (void)key;
    if (config__is_null(node))
        return true;
    if (node->type != YAML_SEQUENCE_NODE) {
        config__error(at->x, at->f, node, "expected a list of dates such as [2026-12-25], got %s",
                      config__describe(at->x, node));
        return false;
    }
    size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
    unsigned *v = arena_array(&at->x->c->arena, n ? n : 1, sizeof(*v));
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        yaml_node_t *d = config__node(at->f, node->data.sequence.items.start[i]);
        if (!config__visit(at->x, at->f, d))
            return false;
        if (!config__is_scalar(d) || !read_date(config__scalar(d), &v[i])) {
            config__error(at->x, at->f, d, "expected a date such as 2026-12-25, got %s",
                          config__describe(at->x, d));
            ok = false;
        }
    }
    ((struct config_check *)obj)->u.heartbeat.exclude = (struct config_uintv){v, n};
    return ok;
}

static void heartbeat_check(const struct config__at *at, yaml_node_t *map,
                            const struct config__seen *seen, void *obj)
{
    (void)map;
    const struct config_check_heartbeat *h = &((const struct config_check *)obj)->u.heartbeat;
    check_order(at, seen, "min_count", "max_count", h->min_count, h->max_count, CONFIG_UNSET);
}

static const struct config__key heartbeat_keys[] = {
        {.name = "path", .type = CONFIG__PATH, .offset = HB(path)},
        {.name = "grace", .type = CONFIG__DURATION, .offset = HB(grace_ms), .min = 1000},
        {.name = "deadline",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__KEEP,
         .custom = parse_deadline},
        {.name = "days",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__KEEP,
         .custom = parse_days},
        {.name = "exclude",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__KEEP,
         .custom = parse_exclude},
        {.name = "min_count",
         .type = CONFIG__UINT,
         .offset = HB(min_count),
         .def = "1",
         .max = 1000000},
        {.name = "max_count", .type = CONFIG__UINT, .offset = HB(max_count), .max = 1000000},
        {.name = NULL},
};

/* ---- metric ---- */

#define M(field) C(u.metric.field)

static bool is_metric_char(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
           (!first && c >= '0' && c <= '9');
}

static bool parse_series(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    (void)key;
    const char *s;
    if (!config__string(at, node, "a metric name", &s))
        return false;
    bool ok = *s != '\0';
    for (const char *p = s; ok && *p; p++)
        ok = is_metric_char(*p, p == s);
    if (!ok) {
        config__error(at->x, at->f, node,
                      "invalid metric name \"%s\": use letters, digits, '_' and ':', not starting "
                      "with a digit",
                      s);
        return false;
    }
    ((struct config_check *)obj)->u.metric.series = s;
    return true;
}

static void metric_check(const struct config__at *at, yaml_node_t *map,
                         const struct config__seen *seen, void *obj)
{
    (void)obj;
    if (!config__seen_get(seen, "warn") && !config__seen_get(seen, "crit"))
        config__error(at->x, at->f, map, "a metric check needs warn, crit or both %s", at->scope);
}

static const struct config__key metric_keys[] = {
        {.name = "series",
         .type = CONFIG__CUSTOM,
         .offset = 0,
         .flags = CONFIG__REQUIRED,
         .custom = parse_series},
        {.name = "match", .type = CONFIG__MATCHER, .offset = M(match)},
        {.name = "warn", .type = CONFIG__RANGE, .offset = M(warn)},
        {.name = "crit", .type = CONFIG__RANGE, .offset = M(crit)},
        {.name = "for", .type = CONFIG__DURATION, .offset = M(for_ms), .def = "0"},
        {.name = "stale", .type = CONFIG__DURATION, .offset = M(stale_ms), .min = 1000},
        {.name = NULL},
};

/* ---- the kinds, in enum config_check_type order ---- */

static const struct config__table common_table = {"a check", common_keys, common_check};

static const struct config__table check_kinds[] = {
        {"a process check", process_keys, process_check},
        {"a tcp check", tcp_keys, NULL},
        {"an http check", http_keys, http_check},
        {"a file check", file_keys, file_check},
        {"a disk check", disk_keys, disk_check},
        {"a command check", command_keys, NULL},
        {"a systemd check", systemd_keys, NULL},
        {"a log check", log_keys, log_check},
        {"a heartbeat check", heartbeat_keys, heartbeat_check},
        {"a metric check", metric_keys, metric_check},
};

#define N_KINDS (sizeof(check_kinds) / sizeof(check_kinds[0]))

static const struct config__table *const all_kinds[] = {
        &check_kinds[0],
        &check_kinds[1],
        &check_kinds[2],
        &check_kinds[3],
        &check_kinds[4],
        &check_kinds[5],
        &check_kinds[6],
        &check_kinds[7],
        &check_kinds[8],
        &check_kinds[9],
        NULL,
};

/* Values that custom keys leave alone when absent. */
static void prefill(struct config_check *c, int kind)
{
    if (kind == CONFIG_CHECK_FILE)
        c->u.file.mode = CONFIG_UNSET;
    if (kind == CONFIG_CHECK_HEARTBEAT) {
        c->u.heartbeat.deadline_min = CONFIG_UNSET;
        c->u.heartbeat.days = 0x7f;
    }
}

static void check_item(const struct config__at *at, yaml_node_t *node, void *obj)
{
    struct config_check *c = obj;
    int kind = config__enum_find(check_types, config__map_get(at->f, node, "type"));
    prefill(c, kind);
    const struct config__table *tables[] = {&common_table, kind >= 0 ? &check_kinds[kind] : NULL,
                                            NULL};
    struct config__seen seen;
    if (!config__parse_map(at, node, tables, all_kinds, kind < 0, c, &seen))
        return;
    c->loc = config__loc(at->x, at->f, node);
    config__register_named(at, CONFIG__CHECKS, c->name, c, node, &seen);
}

void config__parse_checks(struct config__ctx *x)
{
    _Static_assert(N_KINDS == CONFIG_CHECK_METRIC + 1, "one table per check type");
    x->c->checks = config__parse_items(x, CONFIG__CHECKS, sizeof(struct config_check), check_item,
                                       &x->c->n_checks);
}

const char *config_check_type_name(enum config_check_type t)
{
    return (size_t)t < N_KINDS ? check_types[t].name : "unknown";
}
