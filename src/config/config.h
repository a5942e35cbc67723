/* SPDX-License-Identifier: MIT */
/*
 * The configuration: one YAML file (plus the files it includes) turned into
 * typed, validated, immutable structs. Only this module reads YAML; past it
 * code sees enums, milliseconds and compiled matchers, never strings to
 * parse. Every problem found is reported with its file:line:column.
 *
 * A loaded config is reference-counted: a reload builds a new one, and work
 * in flight keeps a reference to the one it started with. Everything a
 * config points to lives in its arena and is freed with its last reference;
 * treat it all as read-only (it may be read from several threads at once).
 *
 * Conventions of the model below:
 * - durations are uint64_t milliseconds (fields end in _ms), sizes uint64_t
 *   bytes, percentages doubles from 0 to 100;
 * - an optional key that has no default and is absent reads as NULL (strings,
 *   pointers), an empty list, CONFIG_UNSET (unsigned), CONFIG_UNSET64
 *   (uint64_t) or CONFIG_PERCENT_UNSET (percentages);
 * - relative paths are resolved against the directory of the file that names
 *   them and stored absolute;
 * - a reference to another object is kept both as the name written
 *   (`runbook_name`) and resolved to the object (`runbook`);
 * - `${labels.NAME}` placeholders in argv elements and env values are kept as
 *   written: the config only guarantees each is a whole element.
 */
#ifndef HALE_CONFIG_CONFIG_H
#define HALE_CONFIG_CONFIG_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/labels.h"
#include "base/log.h"
#include "base/template.h"
#include "base/units.h"
#include "base/weekly.h"

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
/*
 * Appends a problem found outside the loader, for example while applying a
 * configuration (line 0 when it has no position). Copies file and msg.
 */
void config_diags_add(struct config_diags *d, const char *file, unsigned line, unsigned col,
                      const char *msg);

enum config_store_kind {
    CONFIG_STORE_SQLITE,
    CONFIG_STORE_POSTGRES,
};

struct config_server {
    char *listen;         /* as written, "127.0.0.1:8080" */
    char *listen_host;    /* "127.0.0.1", "::1", "0.0.0.0" */
    uint16_t listen_port; /* 8080 */
    char *data_dir;       /* absolute (resolved against the config file); default "var" */
    enum config_store_kind store;
    char *store_url;             /* postgres://... when store is postgres, else NULL */
    char *tokens_file;           /* absolute; default <data_dir>/tokens */
    char *public_url;            /* base of links to the UI; default http://<listen> */
    uint64_t max_body;           /* bytes a request body may have; default 1 MiB */
    uint64_t request_timeout_ms; /* an idle HTTP connection is closed after; default 30 s */
    unsigned http_threads;       /* HTTP server threads; default 2 */
    unsigned max_children;    /* child processes run at once (command checks, steps); default 64 */
    enum log_level log_level; /* default info */
};

/* How incidents are kept: the `incidents` section. */
enum config_impact {
    CONFIG_IMPACT_HIGH,
    CONFIG_IMPACT_MEDIUM,
    CONFIG_IMPACT_LOW,
};

struct config_incidents {
    uint64_t reopen_within_ms;  /* a recurrence this soon after resolving reopens; default 1 h */
    unsigned problem_after;     /* incidents of one fingerprint that open a problem; default 3 */
    uint64_t problem_within_ms; /* ... within this long; default 7 d */
    /* Priority 1..5 by [impact][urgency] (high, medium, low each); ITIL's by default. */
    unsigned priority[3][3];
};

/*
 * How long the store keeps what it records: the `retention` section. A
 * duration of 0 keeps that kind forever.
 */
struct config_retention {
    uint64_t closed_incidents_ms; /* after closing, with their timelines; default 400 d */
    uint64_t events_ms;           /* timeline entries of kind event; default 30 d */
    uint64_t outputs_ms;          /* timeline entries of kind step_output; default 30 d */
    uint64_t check_states_ms;     /* checks' hard state history; default 400 d */
    uint64_t audit_ms;            /* the audit log; default 0 (forever) */
    uint64_t output_max;          /* bytes of one timeline entry's text; default 64 KiB */
    uint64_t every_ms;            /* how often the store is compacted; default 1 h */
};

/*
 * How much of the recent history of series (checks' samples and status,
 * what POST /api/v1/write sends) is kept in memory: the `history` section.
 */
struct config_history {
    unsigned points; /* a series keeps its last this many; default 720 */
    uint64_t memory; /* bytes all the series' points may take; default 4 MiB */
};

struct config; /* the whole model, defined below */

/*
 * Loads and validates path. On success returns 0 and a config with one
 * reference in *ret_config. On failure returns HALE_ECONFIG (or -errno when
 * the file cannot be read) and leaves every problem in diags (which the
 * caller must config_diags_fini() whether or not the load succeeded).
 */
int config_load(const char *path, struct config **ret_config, struct config_diags *diags);

/*
 * As config_load(), from len bytes of YAML at data; name is the file name
 * used in diagnostics and relative paths resolve against the current
 * directory. `include` is refused (there is no file to be relative to).
 * Meant for tests, fuzzing and configurations received over the API.
 */
int config_load_buffer(const char *name, const void *data, size_t len, struct config **ret_config,
                       struct config_diags *diags);

struct config *config_ref(struct config *c);
/* Drops a reference; the last one frees the config. Accepts NULL. */
void config_unref(struct config *c);

const struct config_server *config_server(const struct config *c);
/* The path the config was loaded from, as given. */
const char *config_path(const struct config *c);

/* ---- the model ---------------------------------------------------------- */

#define CONFIG_UNSET         UINT_MAX
#define CONFIG_UNSET64       UINT64_MAX
#define CONFIG_PERCENT_UNSET (-1.0)

/* Where an object was defined: the start of its mapping. */
struct config_loc {
    const char *file; /* as in struct config_diag */
    unsigned line;    /* 1-based */
    unsigned col;     /* 1-based */
};

struct config_strv {
    const char *const *v; /* v[n] is NULL (an argv as exec wants it); NULL itself when unset */
    size_t n;
};

struct config_kv {
    const char *name;
    const char *value;
};

/* Name/value pairs in the order written (HTTP headers, environment). */
struct config_kvs {
    const struct config_kv *v;
    size_t n;
};

struct config_uintv {
    const unsigned *v;
    size_t n;
};

struct pcre2_real_code_8; /* pcre2_code with PCRE2_CODE_UNIT_WIDTH 8 */

/*
 * A search pattern (unanchored, UTF-8, PCRE2 syntax) compiled at load time,
 * JIT-compiled when PCRE2 supports it. Pass `code` to pcre2_match() with
 * match data of your own (one per thread).
 */
struct config_regex {
    const char *pattern;
    const struct pcre2_real_code_8 *code;
};

enum config_http_method {
    CONFIG_HTTP_GET,
    CONFIG_HTTP_HEAD,
    CONFIG_HTTP_POST,
    CONFIG_HTTP_PUT,
    CONFIG_HTTP_DELETE,
    CONFIG_HTTP_PATCH,
    CONFIG_HTTP_OPTIONS,
};

/* "GET", "POST"...: the spelling used in the file; static storage. */
const char *config_http_method_name(enum config_http_method m);

/* ---- notifiers and teams ---- */

enum config_notifier_type {
    CONFIG_NOTIFIER_WEBHOOK,
    CONFIG_NOTIFIER_SLACK,
    CONFIG_NOTIFIER_PAGERDUTY,
    CONFIG_NOTIFIER_EMAIL,
    CONFIG_NOTIFIER_EXEC,
};

/*
 * How the outbox retries a notifier that fails or cannot be reached: the
 * first retry after `backoff`, each next one twice as late up to `max`,
 * and none once the notification is `give_up_after` old.
 */
struct config_notifier_retry {
    uint64_t backoff_ms;       /* default 2 s */
    uint64_t max_ms;           /* default 5 m */
    uint64_t give_up_after_ms; /* default 24 h */
};

struct config_notifier {
    const char *name;
    enum config_notifier_type type;
    const char *description;
    uint64_t timeout_ms;     /* one delivery attempt; default 10 s */
    const char *url;         /* webhook, slack: required; pagerduty: default Events API v2 */
    const char *secret;      /* webhook: key of the HMAC-SHA256 body signature, or NULL */
    const char *routing_key; /* pagerduty: the integration's routing key */
    const char *smtp;        /* email: smtp:// or smtps:// URL of the relay */
    const char *from;        /* email: default "hale@localhost" */
    struct config_strv to;   /* email: one address or more */
    struct config_strv argv; /* exec: the program and its arguments; message on stdin */
    const char *cwd;         /* exec: working directory, server.data_dir */
    struct config_notifier_retry retry;
    /*
     * `template: FILE`: the text of the messages, parsed when the
     * configuration loads (placeholders checked); NULL for both: the
     * default of the notifier's type (notify/message.h).
     */
    const char *template_path;       /* absolute */
    const struct template *template; /* owned by the configuration */
    struct config_loc loc;
};

/* "webhook", "slack"...: the spelling used in the file; static storage. */
const char *config_notifier_type_name(enum config_notifier_type t);

/*
 * The placeholders of notifiers' templates (docs/notifications.md): what
 * name is inside the items of list (NULL: at the top level). The
 * vocabulary every template is checked against, here so that an unknown
 * placeholder is a configuration error; notify/message.c gives each its
 * value. data is unused.
 */
enum template_name config_template_known(const char *list, const char *name, void *data);

/* When a team is told of an incident (bits of config_team.notify_on and users.on). */
enum config_notify_on {
    CONFIG_NOTIFY_ON_OPENED = 1u << 0,
    CONFIG_NOTIFY_ON_ESCALATED = 1u << 1,
    CONFIG_NOTIFY_ON_RESOLVED = 1u << 2,
};

/* The next level of an escalation: these notifiers when nobody acknowledged in time. */
struct config_escalation_level {
    uint64_t after_ms;                              /* since the first page */
    struct config_strv notify;                      /* notifier names */
    const struct config_notifier *const *notifiers; /* notify.n, resolved */
    struct config_loc loc;
};

/* A weekly on-call rotation: people take turns, a week each, from a hand-over time. */
struct config_oncall {
    struct config_strv people; /* in turn; empty: no rotation */
    unsigned handover_wday;    /* 0 Sunday .. 6; default Monday */
    unsigned handover_min;     /* minutes after local midnight; default 09:00 */
};

/* Plain-language messages to end users (a status page, a support channel). */
struct config_team_users {
    struct config_strv notify; /* notifier names */
    const struct config_notifier *const *notifiers;
    unsigned on; /* CONFIG_NOTIFY_ON_* bits; default none (steps and policies ask) */
};

struct config_team {
    const char *name;
    const char *description;
    struct config_strv notify;                      /* notifier names: level 1 */
    const struct config_notifier *const *notifiers; /* notify.n, resolved */
    unsigned notify_on;                             /* CONFIG_NOTIFY_ON_*; default escalated */
    const struct config_escalation_level *levels;   /* level 2, 3, ... by after_ms */
    size_t n_levels;
    struct config_oncall oncall;
    struct config_team_users users;
    uint64_t rate_limit_ms; /* one message per notifier per this; more are grouped; 0: none */
    struct config_loc loc;
};

/*
 * Who is on call for team t at Unix time now_ms (local time zone): the
 * person whose week holds now, counting hand-overs since 1970. NULL when
 * the team has no rotation. Borrowed from the config.
 */
const char *config_oncall_person(const struct config_oncall *o, int64_t now_ms);

/* ---- checks ---- */

enum config_check_type {
    CONFIG_CHECK_PROCESS,
    CONFIG_CHECK_TCP,
    CONFIG_CHECK_HTTP,
    CONFIG_CHECK_FILE,
    CONFIG_CHECK_DISK,
    CONFIG_CHECK_COMMAND,
    CONFIG_CHECK_SYSTEMD,
    CONFIG_CHECK_LOG,
    CONFIG_CHECK_HEARTBEAT,
    CONFIG_CHECK_METRIC,
};

/* "process", "tcp"...: the spelling used in the file; static storage. */
const char *config_check_type_name(enum config_check_type t);

/* A process (or processes) found by pidfile, name or command line. */
struct config_check_process {
    const char *pidfile;              /* absolute path, or NULL */
    const char *process_name;         /* exact name (/proc/PID/comm), or NULL */
    const struct config_regex *match; /* searched in the full command line, or NULL */
    unsigned min_count;               /* default 1 */
    unsigned max_count;               /* CONFIG_UNSET: no maximum */
    uint64_t rss_warn, rss_crit;      /* bytes of resident memory, or CONFIG_UNSET64 */
    double cpu_warn, cpu_crit;        /* percent of all CPUs, or CONFIG_PERCENT_UNSET */
};

struct config_check_tcp {
    const char *host;
    unsigned port;                     /* 1..65535 */
    const char *send;                  /* written after connecting, or NULL */
    const struct config_regex *expect; /* searched in what is read back, or NULL */
};

struct config_http_expect {
    struct config_uintv status;      /* accepted statuses; empty: any 2xx or 3xx */
    const struct config_regex *body; /* searched in the body, or NULL */
};

struct config_check_http {
    const char *url;                /* http:// or https:// */
    enum config_http_method method; /* default GET */
    struct config_kvs headers;
    const char *body; /* request body, or NULL */
    struct config_http_expect expect;
    uint64_t latency_warn_ms, latency_crit_ms; /* or CONFIG_UNSET64 */
    unsigned cert_days_warn,
            cert_days_crit; /* days before the TLS certificate expires, or CONFIG_UNSET */
};

enum config_file_state {
    CONFIG_FILE_EXISTS,
    CONFIG_FILE_ABSENT,
};

struct config_check_file {
    const char *path;                   /* absolute */
    enum config_file_state state;       /* default exists */
    uint64_t max_age_ms;                /* since the last modification, or CONFIG_UNSET64 */
    uint64_t min_size, max_size;        /* bytes, or CONFIG_UNSET64 */
    unsigned mode;                      /* exact permission bits (0644), or CONFIG_UNSET */
    const char *owner;                  /* user name or numeric uid, or NULL */
    const struct config_regex *content; /* searched in the file, or NULL */
};

struct config_check_disk {
    const char *path;                /* a path on the filesystem; default "/" */
    double warn, crit;               /* percent of space used; default 80% and 90% */
    double inodes_warn, inodes_crit; /* percent of inodes used, or CONFIG_PERCENT_UNSET */
};

/* A monitoring plugin: exit 0 ok, 1 warning, 2 critical, 3 unknown. */
struct config_check_command {
    struct config_strv run;
};

struct config_check_systemd {
    const char *unit; /* "nginx.service" */
};

/* Lines of a log file that match, counted over a sliding window. */
struct config_check_log {
    const char *path; /* absolute */
    const struct config_regex *match;
    uint64_t window_ms; /* default 5 m */
    unsigned warn;      /* matches in the window, or CONFIG_UNSET */
    unsigned crit;      /* or CONFIG_UNSET (warn only); 1 when neither warn nor crit is written */
};

/*
 * Something must report in (a backup, a cron job): pings arrive through the
 * API. Without a deadline, at least min_count pings every `every`; with
 * one, by HH:MM on each listed day that is not excluded.
 */
struct config_check_heartbeat {
    unsigned deadline_min;       /* minutes after local midnight, or CONFIG_UNSET */
    unsigned days;               /* bit (1u << tm_wday) per day; default all seven */
    struct config_uintv exclude; /* dates as YYYYMMDD (20261225) */
    unsigned min_count;          /* default 1 */
    unsigned max_count;          /* CONFIG_UNSET: no maximum */
    const char *path;            /* a file whose modification counts as a report, or NULL */
    uint64_t grace_ms;           /* how long late before missing; CONFIG_UNSET64: the default */
};

/* A series ingested or scraped, compared with Monitoring-Plugins ranges. */
struct config_check_metric {
    const char *series;                    /* metric name, "node_load1" */
    const struct labels_matchers *match;   /* on the series' labels, or NULL */
    const struct units_range *warn, *crit; /* at least one of them */
    uint64_t for_ms;                       /* how long a breach must hold; default 0 */
    uint64_t stale_ms; /* a newest point older than this is no data; CONFIG_UNSET64: the default */
};

struct config_runbook;

struct config_check {
    const char *name;
    enum config_check_type type;
    const char *description;
    uint64_t every_ms;   /* default 30 s */
    uint64_t timeout_ms; /* default 10 s, or every_ms when that is shorter */
    unsigned failures;   /* consecutive bad results before the state changes; default 1 */
    unsigned recoveries; /* consecutive good results before it is ok again; default 1 */
    struct labels labels;
    const char *runbook_name;
    const struct config_runbook *runbook;
    const char *team_name;
    const struct config_team *team;
    const char *category;
    enum config_impact impact; /* of its failure on the business; default medium */
    union {
        struct config_check_process process;
        struct config_check_tcp tcp;
        struct config_check_http http;
        struct config_check_file file;
        struct config_check_disk disk;
        struct config_check_command command;
        struct config_check_systemd systemd;
        struct config_check_log log;
        struct config_check_heartbeat heartbeat;
        struct config_check_metric metric;
    } u; /* the member named by type */
    struct config_loc loc;
};

/* ---- services ---- */

enum config_depends {
    CONFIG_DEPENDS_ALL, /* depends_on: [a, b]: needs every one */
    CONFIG_DEPENDS_ANY, /* depends_on: {any_of: [a, b]}: needs at least one */
};

struct config_service {
    const char *name;
    const char *description;
    enum config_depends depends;
    struct config_strv depends_on;
    const struct config_service *const *deps; /* depends_on.n, resolved */
    struct config_loc loc;
};

/* ---- runbooks ---- */

enum config_on_failure {
    CONFIG_ON_FAILURE_ABORT,    /* stop the run; it failed */
    CONFIG_ON_FAILURE_CONTINUE, /* go on with the next step */
    CONFIG_ON_FAILURE_ESCALATE, /* stop the run and hand the incident to the team */
};

enum config_step_action {
    CONFIG_STEP_RUN,
    CONFIG_STEP_SHELL,
    CONFIG_STEP_HTTP,
    CONFIG_STEP_CHECK,
    CONFIG_STEP_VERIFY,
    CONFIG_STEP_APPROVE,
    CONFIG_STEP_NOTIFY,
    CONFIG_STEP_WAIT,
};

/* "run", "verify"...: the key that names the action; static storage. */
const char *config_step_action_name(enum config_step_action a);

/* Whom a notify step tells: its runbook team's notifiers, or the team's `users` channel. */
enum config_notify_to {
    CONFIG_NOTIFY_TO_TEAM,
    CONFIG_NOTIFY_TO_USERS,
};

/*
 * What a step is for. A remediate step changes things: a run takes charge
 * of its incident at its first one, and skips it once the incident needs
 * no repair. A verify step proves a repair and is neither (it is never
 * given a purpose: it never takes charge).
 */
enum config_step_purpose {
    CONFIG_PURPOSE_REMEDIATE,
    CONFIG_PURPOSE_DIAGNOSE,
    CONFIG_PURPOSE_VERIFY,
};

/* "remediate", "diagnose", "verify"; static storage. */
const char *config_step_purpose_name(enum config_step_purpose p);

enum config_when_kind {
    CONFIG_WHEN_ALWAYS,
    CONFIG_WHEN_FAILED,    /* the named earlier step failed */
    CONFIG_WHEN_SUCCEEDED, /* the named earlier step succeeded */
    CONFIG_WHEN_LABELS,    /* the event's labels match */
};

struct config_when {
    enum config_when_kind kind;
    const char *step_name;                /* FAILED, SUCCEEDED */
    size_t step;                          /* its index in the runbook's steps */
    const struct labels_matchers *labels; /* LABELS */
};

struct config_retry {
    unsigned times;          /* extra attempts; default 0 */
    uint64_t backoff_ms;     /* before the first retry, doubling after; default 1 s */
    uint64_t max_backoff_ms; /* default 5 m */
};

struct config_step_http {
    const char *url;
    enum config_http_method method; /* default GET */
    struct config_kvs headers;
    const char *body;                  /* or NULL */
    struct config_uintv expect_status; /* empty: any 2xx */
};

struct config_step {
    const char *name; /* default "step-N", N from 1 */
    enum config_step_action action;
    /* run, shell, http: remediate; check, approve, notify, wait: diagnose; verify: verify */
    enum config_step_purpose purpose;
    uint64_t timeout_ms; /* default 1 m; approve 1 h; verify: `within` */
    struct config_retry retry;
    struct config_when when;
    enum config_on_failure on_failure; /* default: the runbook's */
    struct config_kvs env;             /* added to the environment of run and shell steps */
    const char *cwd;                   /* run and shell: default server.data_dir */
    /* The action's own value: */
    struct config_strv run;       /* RUN: argv, no shell */
    const char *shell;            /* SHELL: a /bin/sh script */
    struct config_step_http http; /* HTTP */
    const char *check_name;       /* CHECK, VERIFY */
    const struct config_check *check;
    uint64_t within_ms;              /* VERIFY: re-run the check until ok; default 1 m */
    const char *approve;             /* APPROVE: the question put to people */
    const char *notify;              /* NOTIFY: the message sent to the team */
    enum config_notify_to notify_to; /* NOTIFY: whom (`to:`); default the team */
    uint64_t wait_ms;                /* WAIT */
    struct config_loc loc;
};

/* Stop healing after max_runs runs in `per`, counted per value of label `key`. */
struct config_guard {
    unsigned max_runs; /* 0: no guard */
    uint64_t per_ms;
    const char *key; /* a label name, or NULL: one count for the runbook */
};

/*
 * The effectiveness ledger's rules: when a healed run counts as a relapse,
 * and when relapses take the runbook out of automatic runs (quarantine).
 */
struct config_relapse {
    uint64_t within_ms;      /* its incident opens again this soon after: default 24 h */
    double quarantine_above; /* percent of healed runs relapsed; default 50% (100%: never) */
    unsigned min_healed;     /* healed runs (since re-enabled) before the rate counts; default 3 */
};

struct config_runbook {
    const char *name;
    const char *description;
    const char *team_name;
    const struct config_team *team;
    struct config_strv docs; /* links for people */
    uint64_t timeout_ms;     /* a whole run; default 15 m */
    struct config_guard guard;
    struct config_relapse relapse;
    enum config_on_failure on_failure; /* default escalate; the default of each step */
    const struct config_step *steps;
    size_t n_steps;
    struct config_loc loc;
};

/* ---- routes ---- */

struct config_route {
    const char *match_text; /* as written; default "{}" */
    const struct labels_matchers *match;
    const char *runbook_name;
    const struct config_runbook *runbook;
    const char *team_name;
    const struct config_team *team;
    unsigned priority; /* 1 (P1, highest) to 5; 0 when not written: the incidents matrix decides */
    struct config_strv notifiers;
    const struct config_notifier *const *notifier_refs; /* notifiers.n, resolved */
    bool continue_matching; /* `continue`: try later routes too; default false */
    struct config_loc loc;
};

/* ---- the engine and silences ---- */

/* How the engine tells events apart and groups them: the `engine` section. */
struct config_engine {
    /* The labels whose values identify an event (its fingerprint); empty: all of them. */
    struct config_strv fingerprint_labels;
    /* Events of one service this soon after its incident opened join it; default 5 m. */
    uint64_t group_window_ms;
};

/*
 * A silence written in the configuration: a maintenance window, once
 * (starts..ends) or every week (weekly, within starts..ends when given).
 * Matching events are recorded but open nothing and page no one.
 */
struct config_silence {
    const char *match_text; /* as written */
    const struct labels_matchers *match;
    const char *comment;         /* or NULL */
    int64_t starts_ms;           /* Unix ms; 0 when not written (in force from the start) */
    int64_t ends_ms;             /* Unix ms; 0 when not written (weekly only: no end) */
    bool weekly;                 /* recurs: active inside window each week */
    struct weekly_window window; /* when weekly */
    struct config_loc loc;
};

struct config {
    struct config_server server;
    struct config_incidents incidents;
    struct config_retention retention;
    struct config_history history;
    struct config_engine engine;
    const struct config_team *teams;
    size_t n_teams;
    const struct config_notifier *notifiers;
    size_t n_notifiers;
    const struct config_check *checks;
    size_t n_checks;
    const struct config_service *services;
    size_t n_services;
    const struct config_runbook *runbooks;
    size_t n_runbooks;
    const struct config_route *routes;
    size_t n_routes;
    const struct config_silence *silences;
    size_t n_silences;
    struct config_strv files; /* every file read, the main one first */

    /* private to src/config/ */
    char *path;
    struct arena arena;
    atomic_uint refs;
};

/* Lookups by name; NULL when there is none. Borrowed from c. */
const struct config_check *config_check_find(const struct config *c, const char *name);
const struct config_runbook *config_runbook_find(const struct config *c, const char *name);
const struct config_team *config_team_find(const struct config *c, const char *name);
const struct config_notifier *config_notifier_find(const struct config *c, const char *name);
const struct config_service *config_service_find(const struct config *c, const char *name);

#endif
