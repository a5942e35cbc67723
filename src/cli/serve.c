/* SPDX-License-Identifier: MIT */
/*
 * `hale serve`: the daemon. This file wires the modules together in one
 * place (configuration, loop, tokens, metrics, HTTP server, check runner,
 * store, incident desk, silences, engine, runbook executor, notifications,
 * live streams, web UI) and owns the daemon's life: start, reload on
 * SIGHUP, stop on SIGTERM/SIGINT and the systemd notifications around
 * each. The store's compaction is serve_store.c's, the runbook executor's
 * seams serve_runbooks.c's.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/checks.h"
#include "api/events.h"
#include "api/incidents.h"
#include "api/runs.h"
#include "api/silences.h"
#include "api/stream.h"
#include "api/write.h"
#include "auth/auth.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/sdnotify.h"
#include "checks/checks.h"
#include "cli/cli.h"
#include "cli/internal.h"
#include "config/config.h"
#include "engine/engine.h"
#include "engine/silences.h"
#include "loop/loop.h"
#include "metrics/metrics.h"
#include "notify/notify.h"
#include "runbook/runbook.h"
#include "series/series.h"
#include "store/store.h"
#include "version.h"
#include "web/web.h"

/* How long a stop (or a listener replaced by a reload) waits for requests in flight. */
#define SERVE_DRAIN_TIMEOUT_MS 10000
/* How long a stop waits for the pages in flight to be answered. */
#define SERVE_NOTIFY_QUIET_MS  3000
/* How often the tokens file is looked at when no request comes, to audit its changes. */
#define SERVE_TOKENS_LOOK_MS   1000
/* Who the audit log says changed a token: the file; `hale token` edits it, anyone may. */
#define SERVE_TOKENS_ACTOR     "tokens-file"
#define SERVE_MMAP_THRESHOLD   (256 * 1024)

struct daemon {
    const char *config_path;
    bool log_level_forced; /* --log-level beats server.log_level */
    uint64_t started_ms;   /* Unix ms */
    struct config *config;
    struct loop *loop;
    struct auth_store *tokens;
    struct metrics *metrics;
    struct metrics_daemon counters;
    struct api *api;
    struct api_server *server;
    unsigned draining;     /* replaced listeners still answering their last requests */
    struct checks *checks; /* the runner of the current config; NULL once stopping */
    struct checks_metrics *check_metrics; /* the hale_check_* families, across reloads */
    struct series_store *series;          /* sample history, across reloads */
    struct store *store;
    struct itsm *itsm;
    struct silences *silences;
    struct engine *engine;
    struct runbooks *runbooks;
    struct notify *notify;
    struct store_reader *reader; /* the API's, on the loop thread */
    struct api_incidents incidents_api;
    struct api_events events_api;
    struct api_silences silences_api;
    struct api_runs runs_api;
    struct cli__compaction compaction; /* every retention.every */
    uv_timer_t watchdog;
    bool watchdog_on;
    uv_timer_t tokens_look; /* the tokens file's changes reach the audit log without requests */
    bool tokens_look_on;
    bool stopping;
    struct checks *stopped_checks; /* stopped at SIGTERM, freed at the end */
};

static void log_diags(const struct config_diags *diags)
{
    for (size_t i = 0; i < diags->n; i++) {
        const struct config_diag *d = &diags->v[i];
        if (d->line)
            log_error("serve", NULL, "%s:%u:%u: %s", d->file, d->line, d->col, d->msg);
        else
            log_error("serve", NULL, "%s: %s", d->file, d->msg);
    }
}

static int prepare_data_dir(const struct config_server *srv, struct err *e)
{
    int r = fs_mkdir_p(srv->data_dir, 0750);
    if (r < 0)
        return err_setf(e, r, "data directory %s: %s", srv->data_dir, hale_strerror(r));
    return 0;
}

static bool same_address(const struct config_server *a, const struct config_server *b)
{
    return strcmp(a->listen_host, b->listen_host) == 0 && a->listen_port == b->listen_port;
}

static void daemon_finish_stop(struct daemon *d);

/* A listener replaced by a reload has answered its last request. */
static void free_drained(struct api_server *s, void *data)
{
    struct daemon *d = data;
    api_server_free(s);
    d->draining--;
    if (d->stopping && !d->server && d->draining == 0)
        daemon_finish_stop(d);
}

/* Settings libmicrohttpd fixes when it starts: they change with the address only. */
static void warn_fixed_settings(const struct config_server *now, const struct config_server *next)
{
    if (now->http_threads != next->http_threads)
        log_warn("serve", NULL, "server.http_threads changes at the next restart");
    if (now->request_timeout_ms != next->request_timeout_ms)
        log_warn("serve", NULL, "server.request_timeout changes at the next restart");
}

/* The seam from the checks to the engine, which takes their events as any other, and the streams.
 */
static void on_check_event(const struct config_check *check, struct detect_event *ev, void *data)
{
    struct daemon *d = data;
    api_stream_check(d->api, ev);
    if (d->engine)
        engine_check_event(d->engine, check, ev);
}

/* ---- the tokens file's changes, in the audit log ---- */

struct token_audit {
    struct daemon *d;
    struct audit_entry *v;
    size_t n;
};

static void token_audit_free(struct token_audit *t)
{
    for (size_t i = 0; i < t->n; i++)
        audit_entry_fini(&t->v[i]);
    free(t->v);
    free(t);
}

/* On the loop: the entries go to the store, unless it is closed already (hale is stopping). */
static void token_audit_write(void *data)
{
    struct token_audit *t = data;
    struct daemon *d = t->d;
    if (d->store) {
        struct store_batch *b = store_batch_new();
        for (size_t i = 0; i < t->n; i++)
            store_batch_audit(b, &t->v[i]);
        store_submit(d->store, b, NULL, NULL);
    }
    token_audit_free(t);
}

/*
 * The tokens file changed (auth.h): an audit entry per token added or
 * revoked, with its role, written on the loop. Any thread, under the token
 * store's lock: it only copies and posts. Names and roles are plain ASCII
 * ([A-Za-z0-9._-], a role's name), so the detail needs no escaping.
 */
static void on_tokens_changed(const struct auth_change *v, size_t n, const char *path, void *data)
{
    struct daemon *d = data;
    struct token_audit *t = xcalloc(1, sizeof(*t));
    t->d = d;
    t->v = xcalloc(n, sizeof(*t->v));
    t->n = n;
    int64_t now = (int64_t)clock_real_ms(&clock_system);
    for (size_t i = 0; i < n; i++)
        t->v[i] = (struct audit_entry){
                .time_ms = now,
                .actor = xstrdup(SERVE_TOKENS_ACTOR),
                .action = xstrdup(v[i].added ? "token.create" : "token.revoke"),
                .target = xasprintf("token:%s", v[i].info.name),
                .origin = xstrdup(path),
                .detail = xasprintf("{\"role\":\"%s\"}", auth_role_name(v[i].info.role)),
        };
    loop_post(d->loop, token_audit_write, t);
}

static void on_tokens_look(uv_timer_t *timer)
{
    struct daemon *d = timer->data;
    auth_store_refresh(d->tokens);
}

/* A run changed and the change is durable: the live streams show it. */
static void on_run_changed(void *data, const struct store_run *run, size_t steps_total,
                           const struct store_run_step *step)
{
    struct daemon *d = data;
    if (d->api) /* runs resumed at start-up may save before the api is there */
        api_stream_run(d->api, run, steps_total, step);
}

/*
 * An incident changed and the change is durable: the live streams show it,
 * the runbook executor starts (or cancels) its run, and once it is
 * resolved (by its events or by a person) the silences bound to it end.
 */
static void on_incident_changed(const struct incident *i, void *data)
{
    struct daemon *d = data;
    api_stream_incident(d->api, i);
    if (d->runbooks)
        runbooks_incident_changed(d->runbooks, i);
    if (d->notify)
        notify_incident_changed(d->notify, i);
    if (d->silences && d->store && (i->state == INCIDENT_RESOLVED || i->state == INCIDENT_CLOSED))
        silences_incident_resolved(d->silences, i->id, (int64_t)clock_real_ms(&clock_system));
}

/* The hard status each check last had, from the store: the runner starts from it. */
struct last_states {
    struct store_check_state *v;
    size_t n;
};

static int last_status(const char *check, void *data)
{
    const struct last_states *l = data;
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].check, check) == 0)
            return l->v[i].status;
    return -1;
}

static void last_states_fini(struct last_states *l)
{
    for (size_t i = 0; i < l->n; i++)
        store_check_state_fini(&l->v[i]);
    free(l->v);
}

/* The limits of the series store from the history section. */
static struct series_limits history_limits(const struct config *config)
{
    return (struct series_limits){.points = config->history.points,
                                  .memory = (size_t)config->history.memory};
}

/*
 * Starts a runner for config, resuming the states of prev's checks (may be
 * NULL), else the hard states in last (may be NULL).
 */
static int daemon_checks_start(struct daemon *d, struct config *config, const struct checks *prev,
                               struct last_states *last, struct checks **ret_checks, struct err *e)
{
    struct checks_options o = {
            .loop = d->loop,
            .config = config,
            .metrics = d->check_metrics,
            .series = d->series,
            .carry = prev,
            .max_children = config_server(config)->max_children,
            .on_event = on_check_event,
            .event_data = d,
            .last_status = last ? last_status : NULL,
            .last_status_data = last,
    };
    int r = checks_new(&o, ret_checks, e);
    if (r < 0)
        return err_prefixf(e, "checks");
    log_info("serve", NULL, "%zu check%s scheduled", config->n_checks,
             config->n_checks == 1 ? "" : "s");
    return 0;
}

static void free_stopped_checks(void *data)
{
    checks_free(data);
}

/*
 * Applies a validated configuration: a new listener first (when the
 * address changed), then the tokens file, then a runner for the new checks
 * (resuming the states of the checks it keeps), and only then the swap, so
 * a failure at any step leaves the running configuration untouched. The
 * old runner stops in the background: its runs in flight are aborted.
 */
static int daemon_apply(struct daemon *d, struct config *next, struct err *e)
{
    const struct config_server *now = config_server(d->config), *srv = config_server(next);
    struct api_server *server = NULL;
    int r = prepare_data_dir(srv, e);
    if (r < 0)
        return r;
    if (!same_address(now, srv) && now->listen_port == srv->listen_port)
        return err_setf(e, HALE_ESTATE,
                        "server.listen changed its host but kept port %u, which this daemon "
                        "holds: restart hale to apply it",
                        srv->listen_port);
    if (!same_address(now, srv) && (r = api_server_start(d->api, srv, &server, e)) < 0)
        return r;
    if (strcmp(now->tokens_file, srv->tokens_file) != 0 &&
        (r = auth_store_reopen(d->tokens, srv->tokens_file, e)) < 0) {
        api_server_free(server);
        return err_prefixf(e, "tokens file %s", srv->tokens_file);
    }
    struct checks *checks = NULL;
    if ((r = daemon_checks_start(d, next, d->checks, NULL, &checks, e)) < 0) {
        api_server_free(server);
        return r;
    }
    /* The new runner first: a check step whose run the old one drops asks the new one again. */
    struct checks *old = d->checks;
    d->checks = checks;
    checks_stop(old, free_stopped_checks, old);
    if (server) {
        d->draining++;
        api_server_drain(d->server, SERVE_DRAIN_TIMEOUT_MS, free_drained, d);
        d->server = server;
        log_info("serve", NULL, "now listening on http://%s", srv->listen);
    } else {
        warn_fixed_settings(now, srv);
    }
    api_server_set_max_body(d->server, srv->max_body);
    if (!d->log_level_forced)
        log_set_level(srv->log_level);
    if (strcmp(now->data_dir, srv->data_dir) != 0)
        log_warn("serve", NULL, "the store moves to server.data_dir at the next restart");
    itsm_set_config(d->itsm, next);
    silences_set_config(d->silences, next);
    engine_set_config(d->engine, next);
    runbooks_set_config(d->runbooks, next);
    notify_set_config(d->notify, next);
    store_set_output_max(d->store, next->retention.output_max);
    struct series_limits limits = history_limits(next);
    series_store_set_limits(d->series, &limits);
    cli__compaction_schedule(&d->compaction, &next->retention);
    config_unref(d->config);
    d->config = next;
    return 0;
}

/* Reloads the configuration; runs on the loop thread (SIGHUP, POST /api/v1/reload). */
static int daemon_reload(void *data, struct config_diags *diags)
{
    struct daemon *d = data;
    struct config *next = NULL;
    struct err e = {0};

    if (d->stopping) {
        log_warn("serve", NULL, "reload refused: hale is stopping");
        config_diags_add(diags, d->config_path, 0, 0, "hale is stopping");
        return HALE_ESTATE;
    }
    sdnotify_reloading();
    log_info("serve", NULL, "reloading %s", d->config_path);
    int r = config_load(d->config_path, &next, diags);
    if (r < 0) {
        log_diags(diags);
        log_error("serve", NULL, "reload failed: %zu error%s; keeping the running configuration",
                  diags->n, diags->n == 1 ? "" : "s");
    } else if ((r = daemon_apply(d, next, &e)) < 0) {
        log_error("serve", NULL, "reload failed: %s; keeping the running configuration", e.msg);
        config_diags_add(diags, d->config_path, 0, 0, e.msg);
        config_unref(next);
    } else {
        log_info("serve", NULL, "configuration reloaded");
    }
    metrics_daemon_reload_record(&d->counters, r == 0, clock_real_ms(&clock_system));
    sdnotify_send(r == 0 ? "READY=1\nSTATUS=serving"
                         : "READY=1\nSTATUS=serving (the last reload failed)");
    return r;
}

static void on_reload_signal(struct loop *l, int signum, void *data)
{
    (void)l;
    (void)signum;
    struct daemon *d = data;
    struct config_diags diags = {0};
    daemon_reload(d, &diags);
    config_diags_fini(&diags);
}

static void on_watchdog(uv_timer_t *t)
{
    (void)t;
    sdnotify_send("WATCHDOG=1");
}

/*
 * The pages in flight have ended or been waited for long enough. Their
 * timer and transfers would keep the loop: what is pending waits in the
 * store, and what the last commits still call for (the escalations of the
 * interrupted runs) is written there too, for the next start.
 */
static void on_notify_quiet(void *data)
{
    struct daemon *d = data;
    notify_stop(d->notify);
    loop_stop(d->loop);
}

static void daemon_finish_stop(struct daemon *d)
{
    if (d->watchdog_on)
        uv_close((uv_handle_t *)&d->watchdog, NULL);
    d->watchdog_on = false;
    if (d->tokens_look_on)
        uv_close((uv_handle_t *)&d->tokens_look, NULL);
    d->tokens_look_on = false;
    cli__compaction_close(&d->compaction);
    notify_quiesce(d->notify, SERVE_NOTIFY_QUIET_MS, on_notify_quiet, d);
}

/* The listener has answered its last request (or the drain timed out). */
static void on_drained(struct api_server *s, void *data)
{
    struct daemon *d = data;
    api_server_free(s);
    d->server = NULL;
    /* A listener replaced by a reload may still be draining: it posts to the loop. */
    if (d->draining == 0)
        daemon_finish_stop(d);
}

/* The runner stopped (its runs aborted, their processes gone): drain the server. */
static void on_checks_stopped(void *data)
{
    struct daemon *d = data;
    api_server_drain(d->server, SERVE_DRAIN_TIMEOUT_MS, on_drained, d);
}

/* The runs' children are gone: stop the check runner. */
static void on_runbooks_idle(void *data)
{
    struct daemon *d = data;
    /* Requests arriving meanwhile see no runner and answer 503. */
    struct checks *checks = d->checks;
    d->checks = NULL;
    d->stopped_checks = checks;
    checks_stop(checks, on_checks_stopped, d);
}

static void on_stop_signal(struct loop *l, int signum, void *data)
{
    (void)l;
    struct daemon *d = data;
    if (d->stopping)
        return;
    d->stopping = true;
    log_info("serve", NULL, "stopping on %s", sigabbrev_np(signum));
    sdnotify_send("STOPPING=1\nSTATUS=stopping");
    cli__compaction_close(&d->compaction); /* no pass starts while stopping */
    /* Runs in flight end interrupted while the desk can escalate; their children go first. */
    runbooks_stop(d->runbooks);
    runbooks_on_idle(d->runbooks, on_runbooks_idle, d);
}

static int daemon_start(struct daemon *d, struct err *e)
{
    const struct config_server *srv = config_server(d->config);
    int r;
    if ((r = prepare_data_dir(srv, e)) < 0)
        return r;
    if ((r = auth_store_new(srv->tokens_file, &d->tokens, e)) < 0)
        return err_prefixf(e, "tokens file %s", srv->tokens_file);
    if ((r = loop_new(&d->loop)) < 0)
        return err_setf(e, r, "event loop: %s", hale_strerror(r));
    d->metrics = metrics_new();
    metrics_daemon_register(d->metrics, d->loop, d->started_ms, &d->counters);
    d->check_metrics = checks_metrics_new(d->metrics);
    struct series_limits limits = history_limits(d->config);
    d->series = series_store_new(&limits);
    series_store_metrics_register(d->series, d->metrics);
    struct api_deps deps = {
            .loop = d->loop,
            .tokens = d->tokens,
            .metrics = d->metrics,
            .counters = &d->counters,
            .config_path = d->config_path,
            .started_ms = d->started_ms,
            .reload = daemon_reload,
            .reload_data = d,
    };
    struct store_options so = {.data_dir = srv->data_dir,
                               .uv = loop_uv(d->loop),
                               .output_max = d->config->retention.output_max};
    if ((r = store_open(&so, &d->store, e)) < 0)
        return r;
    cli__compaction_init(&d->compaction, loop_uv(d->loop), d->store, d->metrics);
    if ((r = itsm_new(d->store, d->config, &d->itsm, e)) < 0 ||
        (r = store_reader_open(d->store, &d->reader, e)) < 0)
        return err_prefixf(e, "incidents");
    if ((r = silences_new(d->store, d->config, &d->silences, e)) < 0)
        return err_prefixf(e, "silences");
    d->engine = engine_new(d->config, d->itsm, d->silences, d->store);
    /* Before the executor: the escalations of its start-up page people. */
    struct notify_options no = {
            .uv = loop_uv(d->loop),
            .store = d->store,
            .desk = d->itsm,
            .config = d->config,
            .metrics = d->metrics,
            .base_url = srv->public_url,
    };
    if ((r = notify_new(&no, &d->notify, e)) < 0)
        return err_prefixf(e, "notifications");
    struct runbooks_options ro = {
            .uv = loop_uv(d->loop),
            .store = d->store,
            .desk = d->itsm,
            .config = d->config,
            .checks = cli__runbooks_checks(&d->checks),
            .notify = cli__runbooks_notify,
            .notify_ctx = d->notify,
            .watch = on_run_changed,
            .watch_ctx = d,
            .metrics = d->metrics,
    };
    if ((r = runbooks_new(&ro, &d->runbooks, e)) < 0)
        return err_prefixf(e, "runbooks");
    /* From now on the store can take what the tokens file's changes say. */
    auth_store_on_change(d->tokens, on_tokens_changed, d);
    uv_timer_init(loop_uv(d->loop), &d->tokens_look);
    d->tokens_look.data = d;
    uv_timer_start(&d->tokens_look, on_tokens_look, SERVE_TOKENS_LOOK_MS, SERVE_TOKENS_LOOK_MS);
    d->tokens_look_on = true;
    d->api = api_new(&deps);
    itsm_watch(d->itsm, on_incident_changed, d);
    d->incidents_api =
            (struct api_incidents){.itsm = &d->itsm, .reader = &d->reader, .config = &d->config};
    d->events_api =
            (struct api_events){.engine = &d->engine, .reader = &d->reader, .loop = d->loop};
    d->silences_api = (struct api_silences){.silences = &d->silences, .reader = &d->reader};
    d->runs_api =
            (struct api_runs){.runbooks = &d->runbooks, .reader = &d->reader, .config = &d->config};
    if ((r = api_checks_routes_add(d->api, &d->checks, e)) < 0 ||
        (r = api_incidents_routes_add(d->api, &d->incidents_api, e)) < 0 ||
        (r = api_events_routes_add(d->api, &d->events_api, e)) < 0 ||
        (r = api_silences_routes_add(d->api, &d->silences_api, e)) < 0 ||
        (r = api_runs_routes_add(d->api, &d->runs_api, e)) < 0 ||
        (r = api_write_routes_add(d->api, d->series, e)) < 0 || (r = web_routes_add(d->api, e)) < 0)
        return r;
    /* Watch the signals first: a SIGHUP must never find its default action. */
    if ((r = loop_on_signal(d->loop, SIGTERM, on_stop_signal, d)) < 0 ||
        (r = loop_on_signal(d->loop, SIGINT, on_stop_signal, d)) < 0 ||
        (r = loop_on_signal(d->loop, SIGHUP, on_reload_signal, d)) < 0)
        return err_setf(e, r, "signal handlers: %s", hale_strerror(r));
    if ((r = api_server_start(d->api, srv, &d->server, e)) < 0)
        return r;
    /* Each check's last hard state: one that recovered while hale was down resolves. */
    struct last_states last = {0};
    if ((r = store_check_states_list(d->reader, NULL, INT64_MAX, &last.v, &last.n)) < 0)
        return err_setf(e, r, "cannot read the checks' last states");
    r = daemon_checks_start(d, d->config, NULL, &last, &d->checks, e);
    last_states_fini(&last);
    if (r < 0)
        return r;

    cli__compaction_schedule(&d->compaction, &d->config->retention);
    uint64_t wd = sdnotify_watchdog_interval_ms();
    if (wd) {
        uv_timer_init(loop_uv(d->loop), &d->watchdog);
        uv_timer_start(&d->watchdog, on_watchdog, wd, wd);
        d->watchdog_on = true;
    }
    log_info("serve", NULL, "hale %s listening on http://%s (config %s, data %s)", HALE_VERSION,
             srv->listen, d->config_path, srv->data_dir);
    if (auth_store_count(d->tokens) == 0)
        log_info("serve", NULL,
                 "no API tokens yet; create one with: hale token create -c %s NAME --role admin",
                 d->config_path);
    sdnotify_send("READY=1\nSTATUS=serving");
    return 0;
}

static void daemon_fini(struct daemon *d)
{
    api_server_free(d->server);
    if (d->checks) /* start failed after the runner started */
        checks_stop(d->checks, NULL, NULL);
    runbooks_stop(d->runbooks); /* its last escalations go through the desk */
    /* Attempts in flight are cut: they stay in the outbox for the next start. */
    notify_stop(d->notify);
    /* Commits what the checks and people changed, while the desk still hears it. */
    itsm_close_reader(d->itsm);
    store_reader_close(d->reader);
    d->reader = NULL;
    if (d->tokens)
        auth_store_on_change(d->tokens, NULL, NULL);
    /* The changes store_close() commits must not start writes of their own. */
    itsm_unwatch(d->itsm, on_incident_changed, d);
    store_close(d->store);
    d->store = NULL; /* token changes still posted are dropped */
    engine_free(d->engine);
    d->engine = NULL; /* requests still posted answer 503 */
    runbooks_free(d->runbooks);
    d->runbooks = NULL;
    notify_free(d->notify);
    d->notify = NULL;
    itsm_free(d->itsm);
    silences_free(d->silences); /* after store_close(): its last writes call back into it */
    d->silences = NULL;         /* requests still posted answer 503 */
    loop_free(d->loop);         /* runs what the servers left posted */
    checks_free(d->checks);
    checks_free(d->stopped_checks);
    api_free(d->api);
    metrics_free(d->metrics);
    checks_metrics_free(d->check_metrics);
    series_store_free(d->series);
    auth_store_free(d->tokens);
    config_unref(d->config);
}

static void print_help(void)
{
    printf("Usage: hale serve [-c FILE] [--log-level LEVEL]\n"
           "\n"
           "Runs the daemon in the foreground: loads the configuration, serves the HTTP\n"
           "API and the metrics on server.listen, and logs to stderr.\n"
           "\n"
           "Options:\n"
           "  -c, --config FILE      configuration file (default: $HALE_CONFIG, else %s)\n"
           "      --log-level LEVEL  debug, info, warn or error (overrides server.log_level)\n"
           "  -h, --help             show this help\n"
           "\n"
           "Signals: SIGHUP reloads the configuration (a bad one is reported and the\n"
           "running one kept); SIGTERM or SIGINT stop after answering requests in flight.\n"
           "Exit status: 0 after a clean stop, 1 if it cannot start, 2 for an invalid\n"
           "configuration.\n",
           CLI_DEFAULT_CONFIG);
}

static int run(int argc, char **argv)
{
    static const struct option options[] = {
            {"config", required_argument, NULL, 'c'},
            {"log-level", required_argument, NULL, 'L'},
            {"help", no_argument, NULL, 'h'},
            {0},
    };
    struct daemon d = {0};
    const char *config_opt = NULL;
    enum log_level level = LOG_LEVEL_INFO;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            config_opt = optarg;
            break;
        case 'L':
            if (log_level_parse(optarg, &level) < 0)
                return cli_usage_error(
                        "serve", "unknown log level \"%s\" (debug, info, warn, error)", optarg);
            d.log_level_forced = true;
            break;
        case 'h':
            print_help();
            return CLI_EXIT_OK;
        default:
            return cli_usage_error("serve", "unknown option");
        }
    }
    if (optind < argc)
        return cli_usage_error("serve", "unexpected argument \"%s\"", argv[optind]);

    log_init(level);
    d.started_ms = clock_real_ms(&clock_system);
    d.config_path = cli_config_path(config_opt);
    struct config_diags diags = {0};
    if (config_load(d.config_path, &d.config, &diags) < 0) {
        config_diags_print(&diags, stderr);
        config_diags_fini(&diags);
        return CLI_EXIT_INVALID;
    }
    config_diags_fini(&diags);
    if (!d.log_level_forced)
        log_set_level(config_server(d.config)->log_level);

    signal(SIGPIPE, SIG_IGN);
    /*
     * Large transient buffers (a /metrics page of a big site is megabytes)
     * must go back to the system when freed: a fixed threshold stops glibc
     * from raising it after the first such free and keeping them on the heap.
     */
    mallopt(M_MMAP_THRESHOLD, SERVE_MMAP_THRESHOLD);
    struct err e = {0};
    int status = CLI_EXIT_OK;
    if (daemon_start(&d, &e) < 0) {
        log_error("serve", NULL, "cannot start: %s", e.msg);
        status = CLI_EXIT_FAILURE;
    } else if (loop_run(d.loop) < 0) {
        status = CLI_EXIT_FAILURE;
    } else {
        log_info("serve", NULL, "stopped");
    }
    daemon_fini(&d);
    return status;
}

const struct cli_command cli_serve = {
        .name = "serve",
        .summary = "run the daemon in the foreground",
        .run = run,
};
