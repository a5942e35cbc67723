/* SPDX-License-Identifier: MIT */
/*
 * Inside the checks module: the interface every check kind implements, and
 * the run it works on. One file per kind (command.c, tcp.c, http.c, ...)
 * exports one `const struct check_kind check_kind_<name>`; kinds.c lists
 * them. The runner (runner.c) schedules checks and feeds what the runs
 * observe to detect/; a kind only observes: it never decides or acts.
 */
#ifndef HALE_CHECKS_INTERNAL_H
#define HALE_CHECKS_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <uv.h>

#include "base/err.h"
#include "checks/checks.h"
#include "config/config.h"

/*
 * What a check keeps across its runs: the kind's own state (a log file's
 * offset, a watched process) and the means to ask for a run at once. Lives
 * from attach to detach; loop thread only.
 */
struct check_host {
    uv_loop_t *uv;
    const struct config_check *cfg; /* borrowed from a config the runner holds */
    const char *data_dir;           /* server.data_dir: cwd of commands, kinds' state files */
    void *kind_state;               /* the kind's, set by its attach() */
    /* Asks the runner for a run now (a watched process died); may be NULL. */
    void (*run_now)(struct check_host *host);
    void *runner_data; /* the runner's */
    /* The recent history of samples, which metric checks read; NULL in `hale check`. */
    const struct series_store *series;
    struct check_run *run; /* the run in flight, or NULL; set by check_run_start(), run.c's */
};

/* One run of a check. Owned by run.c; a kind borrows it from start() to finish. */
struct check_run {
    struct check_host *host;
    const struct config_check *cfg; /* host->cfg */
    uv_loop_t *uv;                  /* host->uv */
    void *kind_data;                /* the kind's, for this run */
    struct check_observation obs;   /* filled by the kind and by check_run_finish() */

    /* run.c's own: */
    uv_timer_t timer; /* the timeout; its close callback frees the run */
    void (*done)(struct check_run *run, void *data);
    void *done_data;
    uint64_t started_ns;
    bool aborted;   /* abort() was called: the timeout passed or the runner stops */
    bool timed_out; /* ... and it was the timeout */
    bool finished;
};

struct check_kind {
    enum config_check_type type;
    /* Runs a child process: the scheduler counts it toward its limit of children. */
    bool spawns;
    /*
     * Optional. Sets up what the check keeps across runs (host->kind_state).
     * Called once before the first run; an error makes every run of the
     * check UNKNOWN with e's message.
     */
    int (*attach)(struct check_host *host, struct err *e);
    /* Optional. Releases host->kind_state; handles it opened may still be closing. */
    void (*detach)(struct check_host *host);
    /*
     * Starts the run on the loop thread. The kind fills run->obs (samples
     * with check_run_sample(), or a parsed observation with
     * check_run_take_observation()) and ends the run with exactly one
     * check_run_finish(), from start() itself or from a later loop
     * callback, and only once every handle it opened for the run is closed.
     */
    void (*start)(struct check_run *run);
    /*
     * Optional for kinds whose start() always finishes before returning.
     * The run's time is up, or the daemon stops: stop the work now (kill
     * the process group, cancel the transfer), close the handles, then
     * finish (the status given is replaced by the timeout's). Called at
     * most once, and only before the run finished.
     */
    void (*abort)(struct check_run *run);
};

/* The kind for type, or NULL if hale has none for it. */
const struct check_kind *check_kind_find(enum config_check_type type);

/*
 * Starts a run of host's check: calls the kind's start(), arms the timeout
 * (cfg->timeout_ms), and calls done(run, data) on the loop thread once the
 * run finished; the run and its observation are freed when done returns
 * (done may move run->obs out and zero it). Returns 0, or an error without
 * calling done.
 */
int check_run_start(struct check_host *host, void (*done)(struct check_run *run, void *data),
                    void *data);
/* Asks a running run to stop at once (the runner stops). Idempotent. */
void check_run_abort(struct check_run *run);

/* For kinds: ends the run with status and a summary (printf format). */
void check_run_finish(struct check_run *run, enum check_status status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* As check_run_finish(), with a summary already made: takes it (malloc()ed). */
void check_run_finish_summary(struct check_run *run, enum check_status status, char *summary);
void check_run_vfinish(struct check_run *run, enum check_status status, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
/*
 * For kinds that parsed a whole observation (command output): moves o's
 * summary, long output and samples into the run (o is zeroed), then
 * finishes with o's status.
 */
void check_run_finish_observation(struct check_run *run, struct check_observation *o);
/* Adds a sample (a latency, a count) to the run's observation; unit may be "". */
void check_run_sample(struct check_run *run, const char *label, double value, const char *unit);
/* As check_run_sample(), for a sample kept out of history (check_sample.no_history). */
void check_run_sample_no_history(struct check_run *run, const char *label, double value,
                                 const char *unit);

/*
 * Room for one more sample at the end of o->samples, zeroed; o->n_samples
 * is left for the caller to count it. The array grows by doubling from
 * four, so the count alone says how much room it has: grow it only with this.
 */
struct check_sample *check__sample_append(struct check_observation *o);
/* The room to allocate for n samples, so that check__sample_append() may add more. */
size_t check__samples_room(size_t n);

/*
 * The TCP connection of a tcp or http run (conn.c): the host resolved (an
 * address skips the resolver), each address tried in turn, the socket
 * closed with a reset. Embedded in the kind's probe, loop thread only:
 * zero it, set uv, data, host, port and the two callbacks, then
 * check_conn_start(). Whatever on_connect says, the owner ends with
 * check_conn_end() and frees nothing before on_closed.
 */
struct check_conn {
    uv_loop_t *uv;
    void *data;       /* the owner's */
    const char *host; /* a name or an address; borrowed */
    unsigned port;
    uint64_t timeout_ms; /* the run's: addresses share it; 0 for none */
    /*
     * Connected (status 0: tcp is open), or not: status is then the last
     * address' error, or the resolver's (unresolved). May come from
     * check_conn_start() itself.
     */
    void (*on_connect)(struct check_conn *c, int status);
    /* After check_conn_end(), once the socket is closed and the resolver done; may come at once. */
    void (*on_closed)(struct check_conn *c);

    uv_tcp_t *tcp; /* NULL when closed; freed by its close callback; its data is this */
    const struct addrinfo *tried; /* the address tried last; NULL before any */
    int error;                    /* the last one */
    bool unresolved;              /* the error is the resolver's */
    bool resolving;
    /* conn.c's own: */
    uv_getaddrinfo_t gai;
    struct addrinfo *addrs, *addr, literal;
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } literal_sa;
    uv_connect_t connect;
    uv_timer_t *timer; /* the address' deadline; NULL when none; freed by its close callback */
    uint64_t started_ms;
    bool closing, ending;
};
void check_conn_start(struct check_conn *c);
/* Bytes check_conn_where() writes at most. */
#define CHECK_CONN_WHERE_MAX (INET6_ADDRSTRLEN + 16)
/*
 * The address tried last the way people read it ("127.0.0.1 port 80",
 * "::1 port 80"), or the host before any; into buf, which it returns.
 * Valid until check_conn_fini().
 */
const char *check_conn_where(const struct check_conn *c, char *buf, size_t size);
/* Ends the connection, or its resolving: on_closed follows. Idempotent. */
void check_conn_end(struct check_conn *c);
/* Frees the addresses resolved; after on_closed. */
void check_conn_fini(struct check_conn *c);

/* ---- the http kind's two clients (http.c: libcurl; http_wire.c: its own) ---- */

/* Bytes of body kept for a body pattern; past them the transfer is cut. */
#define HTTP_BODY_MAX (1024 * 1024)

struct http_body {
    char *data;      /* kept only when keep; grows as it arrives */
    size_t cap, len; /* len: received, at most HTTP_BODY_MAX */
    bool keep;       /* the check has a body pattern */
    bool cut;        /* the body went past HTTP_BODY_MAX: the transfer stopped there */
};
/* Takes received body bytes; false once past HTTP_BODY_MAX (stop the transfer). */
bool http_body_add(struct http_body *b, const char *data, size_t n);

/* What a request got, whichever client made it; http.c judges it. */
struct http_answer {
    char *failure; /* no answer, and why ("http://...: connection refused"); else NULL */
    long code;
    double seconds; /* from the start of the run to the end of the answer */
    double size;    /* bytes of body */
    char status_line[128];
    struct http_body body;
    bool has_cert; /* a TLS certificate was seen: cert_days is its days left */
    double cert_days;
};

/* Reads an answer as it arrives (http_wire.c), into answer's code, status line and body. */
struct http_reader {
    http_parser parser;
    struct http_answer *answer;
    bool head;     /* the answer to a HEAD: no body */
    bool complete; /* the final answer is in */
};
void http_reader_init(struct http_reader *r, struct http_answer *answer, bool head);
/*
 * Feeds received bytes, len 0 for the end of the stream. Returns 1 once the
 * answer is whole (or its body cut at HTTP_BODY_MAX; what follows is not
 * read), 0 while more is needed, -1 when the answer is broken: why says how.
 */
int http_reader_feed(struct http_reader *r, const char *data, size_t len, char *why,
                     size_t why_size);

/*
 * A plain http:// request made without libcurl (http_wire.c), prepared once
 * per check: NULL when the URL needs libcurl (https, a proxy set in the
 * environment, credentials, bytes libcurl would encode).
 */
struct http_wire_target *http_wire_target_new(const struct config_check_http *cfg);
void http_wire_target_free(struct http_wire_target *t);

/* Called once the exchange is over and its socket closed; a is freed after. */
typedef void http_wire_cb(const struct http_answer *a, void *data);
/* A run's request, made by http_wire_start(), which may call back before it returns. */
struct http_wire *http_wire_new(uv_loop_t *uv, const struct http_wire_target *t,
                                uint64_t timeout_ms, bool keep_body, http_wire_cb *cb, void *data);
void http_wire_start(struct http_wire *w);
/* Ends the exchange now; the callback follows, once the socket is closed. */
void http_wire_abort(struct http_wire *w);
/* Where the exchange stands, for the long output of a run that timed out. */
const char *http_wire_progress(const struct http_wire *w, char *buf, size_t size);

/*
 * An observation packed into one read-only allocation (packed.c): what the
 * runner keeps of each check's last run. Free it with free().
 */
struct check__packed {
    uint64_t started_ms;  /* Unix ms */
    uint64_t duration_us; /* how long the run took */
    uint32_t n_samples;
    uint32_t summary_at; /* where in data the summary starts: after the samples */
    uint8_t status;      /* enum check_status */
    uint8_t flags;       /* packed.c's: truncated, which texts follow the summary */
    char data[];         /* the samples, then the summary, long output and notes */
};

/*
 * Packs o, which stays the caller's, into p's allocation resized (p is
 * then gone), or into a new one when p is NULL.
 */
struct check__packed *check__pack(const struct check_observation *o, struct check__packed *p);
struct check__packed *check__packed_copy(const struct check__packed *p);
/* Unpacks p into *ret, a copy the caller frees with check_observation_fini(). */
void check__unpack(const struct check__packed *p, struct check_observation *ret);
/* The summary, borrowed from p. */
const char *check__packed_summary(const struct check__packed *p);
/*
 * Reads the sample that starts at `at` (p->data for the first) into *ret,
 * with its label borrowed from p in *ret_label (ret->label stays NULL), and
 * returns where the next one starts. Call it p->n_samples times at most.
 */
const char *check__packed_sample(const char *at, struct check_sample *ret, const char **ret_label);

/*
 * Appends one line to o->notes, unless that would pass CHECK_NOTES_MAX
 * bytes; then the note is dropped and the notes end with "(more notes
 * dropped)".
 */
void check__note(struct check_observation *o, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Longest text check__number_format() writes, with its NUL. */
#define CHECK__NUMBER_MAX 400

/*
 * Writes v in plain decimal, the shortest text that reads back as exactly
 * v ("0.001229", "18328059904", "-5"), never with an exponent; NAN and
 * infinities as "nan", "inf", "-inf". buf holds CHECK__NUMBER_MAX bytes.
 */
void check__number_format(double v, char buf[static CHECK__NUMBER_MAX]);

/*
 * State files of the kinds that remember something across restarts (a log
 * file's offset, a flow's last report), in <data_dir>/state/.
 *
 * check__state_path() returns "<data_dir>/state/<kind>-<check>.state"
 * (free() it), or NULL when the host has no data_dir (nothing is kept).
 * check__state_write() replaces path with len bytes of data atomically
 * (a temporary file, fsync, rename), creating the directory; 0 or -errno.
 * check__state_read() reads at most max bytes into *ret_text (NUL-ended,
 * free() it); -errno, or HALE_ELIMIT for a larger file. Any thread.
 */
char *check__state_path(const struct check_host *host, const char *kind);
int check__state_write(const char *path, const char *data, size_t len);
int check__state_read(const char *path, size_t max, char **ret_text);

struct clock;
/* What `systemctl show` says of a unit: the properties the systemd kind asks for. */
struct check__systemd_unit {
    char load_state[32];   /* "loaded", "not-found", "masked", ... */
    char active_state[32]; /* "active", "inactive", "failed", "activating", ... */
    char sub_state[32];    /* "running", "exited", "dead", ... or "" */
    char result[32];       /* "success", "exit-code", ... or "" */
    bool has_restarts;     /* NRestarts was a number (not "[not set]") */
    uint64_t restarts;
    bool has_main_pid;
    uint64_t main_pid; /* 0: no main process */
};

/*
 * Reads `systemctl show` KEY=VALUE lines (len bytes, any order, unknown keys
 * and "[not set]" values ignored, long values cut) into *ret. Returns 0, or
 * HALE_EPARSE when LoadState or ActiveState is missing.
 */
int check__systemd_parse(const char *text, size_t len, struct check__systemd_unit *ret);

/*
 * The status of unit u: active is ok; activating, reloading, deactivating,
 * refreshing, maintenance are warnings; inactive, failed, not-found and
 * any state unknown here are critical. Writes a summary naming the states
 * into summary (size bytes, truncated).
 */
enum check_status check__systemd_judge(const char *unit, const struct check__systemd_unit *u,
                                       char *summary, size_t size);

/*
 * The head of a kind's thread-pool work (its first member): the request and
 * the run it serves, NULL once the run was aborted. A call that may hang (on
 * a dead file system) cannot be cancelled once it runs: it goes on, and its
 * result is dropped when it comes back.
 */
struct check__pool_work {
    uv_work_t req;
    struct check_run *run;
};
/* abort() for kinds whose run is one piece of pool work in run->kind_data. */
void check__pool_abort(struct check_run *run);

/* The kinds (kinds.c lists them). */
extern const struct check_kind check_kind_file;
extern const struct check_kind check_kind_disk;
extern const struct check_kind check_kind_command;
extern const struct check_kind check_kind_systemd;
extern const struct check_kind check_kind_process;

extern const struct check_kind check_kind_log;
/* Tests: host's log check reads time from clock (borrowed) from now on. After attach. */
void check_log__set_clock(struct check_host *host, const struct clock *clock);

extern const struct check_kind check_kind_heartbeat;
/*
 * Records a report from the flow that host's heartbeat check expects (the
 * API calls it for POST /api/v1/heartbeats/NAME), keeps it in the check's
 * state file, and asks for a run so the verdict follows at once. r is
 * borrowed for the call. Returns 0, or HALE_ESTATE when host's check is not
 * an attached heartbeat check. Loop thread.
 */
int check_heartbeat_report(struct check_host *host, const struct check_heartbeat_report *r);
/* Tests: host's heartbeat check reads time from clock (borrowed) from now on. After attach. */
void check_heartbeat__set_clock(struct check_host *host, const struct clock *clock);
/*
 * The heartbeat's `path` and `grace` keys, applied by attach (and by tests):
 * a file whose modification counts as a report (copied; NULL: none), and
 * the grace: without a deadline, how long past its due
 * time a report is late before it is missing (default half of `every`);
 * with one, how long after the deadline a report still answers it, late
 * (default 1 h). After attach, loop thread.
 */
void check_heartbeat__set_path(struct check_host *host, const char *path);
void check_heartbeat__set_grace(struct check_host *host, uint64_t grace_ms);
extern const struct check_kind check_kind_tcp;
extern const struct check_kind check_kind_http;

extern const struct check_kind check_kind_metric;
/* Tests: host's metric check reads time from clock (borrowed) from now on. After attach. */
void check_metric__set_clock(struct check_host *host, const struct clock *clock);

#endif
