/* SPDX-License-Identifier: MIT */
/*
 * Checks: hale's tests of a system's state. A check run produces an
 * observation (a status, a one-line summary, optional long output and
 * samples); detect/ turns the stream of observations into events. The same
 * check that finds a broken state later proves it fixed.
 *
 * This header holds the observation model and the Monitoring Plugins
 * output parser and formatter, which every check kind and detect/ share.
 * The check kinds and their runner join it as they are built.
 */
#ifndef HALE_CHECKS_CHECKS_H
#define HALE_CHECKS_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "base/units.h"

/*
 * A check's status, ordered by severity except UNKNOWN, with the
 * Monitoring Plugins exit codes as values. Persisted and sent over the
 * API: append only.
 */
enum check_status {
    CHECK_STATUS_OK = 0,
    CHECK_STATUS_WARNING = 1,
    CHECK_STATUS_CRITICAL = 2,
    CHECK_STATUS_UNKNOWN = 3,
};

/* "ok", "warning", "critical", "unknown"; "unknown" for any other value. */
const char *check_status_name(enum check_status s);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN", as plugins print them. */
const char *check_status_label(enum check_status s);

/* Bounds on what one observation may hold, whatever a plugin prints. */
#define CHECK_OUTPUT_MAX_DEFAULT 4096 /* bytes of plugin output, as Nagios Core reads */
#define CHECK_SAMPLES_MAX        256  /* perfdata items kept per observation */
#define CHECK_LABEL_MAX          256  /* bytes in a sample's label */
#define CHECK_UNIT_MAX           32   /* bytes in a sample's unit */
#define CHECK_NOTES_MAX          2048 /* bytes of parser notes */

/* One measured value: a performance-data item, or a latency a kind measured. */
struct check_sample {
    char *label; /* "time", "/var", "load1"; never empty */
    double value;
    /*
     * As written: "", "s", "ms", "us", "%", "B", "KB", "MB", "GB", "TB", "c"
     * or any other unit a plugin prints ("GBP"). Values are not converted:
     * check_unit_scale() says how to reach the base unit. Held in place,
     * not allocated: every run of every check has samples.
     */
    char unit[CHECK_UNIT_MAX + 1];
    bool has_warn, has_crit, has_min, has_max;
    struct units_range warn, crit;
    double min, max;
    /* false when the plugin printed "U" (undetermined); value is then NAN. */
    bool has_value;
    /*
     * Set by a kind for a sample not worth a graph (an HTTP status code, a
     * body's size): it stays in the observation, the output and /metrics,
     * but gets no history series, which would cost as much as the points
     * of a graph. Plugins' perfdata leaves it false.
     */
    bool no_history;
};

/*
 * Whether a and b hold the same label, unit, value and thresholds (NAN
 * values of undetermined samples compare equal).
 */
bool check_sample_is_equal(const struct check_sample *a, const struct check_sample *b);

/*
 * The factor that converts a value in unit to its base unit, and that base:
 * s, ms, us -> "s"; B, KB, MB, GB, TB (powers of 1000) and KiB, MiB, GiB,
 * TiB (powers of 1024) -> "B". Returns false for any other unit (%, c, "",
 * "GBP"), with *ret_factor 1 and *ret_base unit itself. Either out-parameter
 * may be NULL; *ret_base is static or unit, borrowed.
 */
bool check_unit_scale(const char *unit, double *ret_factor, const char **ret_base);

struct check_observation {
    enum check_status status;
    char *summary;     /* the first line, without its perfdata; never NULL */
    char *long_output; /* the following lines, without perfdata; NULL if none */
    struct check_sample *samples;
    size_t n_samples;
    uint64_t started_ms;  /* Unix ms */
    uint64_t duration_us; /* how long the run took */
    /*
     * What the parser dropped or could not read ("perfdata item \"x\":
     * value is not a number; skipped"), one note a line, for people, not
     * for matching; NULL if none. Fits in CHECK_NOTES_MAX bytes, NUL included.
     */
    char *notes;
    bool truncated; /* the output was cut at the byte cap */
};

/* Frees what o holds and zeroes it. Accepts a zeroed observation. */
void check_observation_fini(struct check_observation *o);

/*
 * How a plugin ended and what it printed on stdout, as the runner saw it.
 * output may hold any bytes, NUL included, and need not be terminated.
 */
struct check_plugin_result {
    int64_t exit_status; /* the exit code, when term_signal is 0 */
    int term_signal;     /* the signal that ended the plugin, or 0 */
    const char *output;  /* borrowed for the call; may be NULL when output_len is 0 */
    size_t output_len;
    bool output_truncated; /* the runner stopped reading at its own cap */
};

/*
 * Turns a Monitoring Plugins result into *ret_obs (which the caller then
 * owns: free with check_observation_fini(); started_ms and duration_us are
 * left 0 for the caller to fill).
 *
 * Status: exit codes 0-3 are OK, WARNING, CRITICAL, UNKNOWN; any other
 * code, death by a signal, or output that is empty or blank is UNKNOWN, with
 * a summary that says so ("exited with status 127: <plugin's line>",
 * "killed by signal 9 (SIGKILL)", "no output (exited with status 0)").
 *
 * Text: at most max_bytes of output are read (0 means
 * CHECK_OUTPUT_MAX_DEFAULT); past that, or when the runner says it cut the
 * output, ret_obs->truncated is set and a note says so. Text is made valid
 * UTF-8: NUL, other control characters but tab and newline, and invalid
 * sequences become U+FFFD. The summary is the first line left of its '|',
 * trimmed; the long output is the following lines up to the first '|'
 * among them, each right-trimmed (CR included), trailing empty lines
 * dropped. Perfdata is the rest of the first line and everything after that
 * later '|', parsed as check_perfdata_parse() does.
 *
 * Never fails; may be called from any callback.
 */
void check_plugin_parse(const struct check_plugin_result *res, size_t max_bytes,
                        struct check_observation *ret_obs);

/*
 * Parses Monitoring Plugins performance data, items separated by blanks,
 * line breaks or '|':  'label'=value[UOM];[warn];[crit];[min];[max]
 * and appends them to o->samples. Quoted labels may hold blanks and '='
 * ('' is a quote); the value is a decimal number (a sign, a fraction, an
 * exponent, or a lone ',' as decimal separator are accepted) or U; warn
 * and crit are threshold ranges (units_range_parse()); empty and trailing
 * fields may be left out. A malformed item is skipped and a bad field
 * dropped, each with a line in o->notes; the rest are kept. Stops at
 * CHECK_SAMPLES_MAX samples in o, with a note. Never fails.
 */
void check_perfdata_parse(struct check_observation *o, const char *text, size_t len);

/*
 * Appends n samples to b as perfdata items separated by one space,
 * 'label'=value[UOM];warn;crit;min;max with trailing empty fields left
 * out, quoting labels that need it and writing numbers in plain decimal
 * (never exponents), so that check_perfdata_parse() reads back the same
 * samples. Samples with an empty label are left out. Returns 0, or
 * HALE_ELIMIT when b's cap is reached (b then holds a partial line).
 */
int check_perfdata_format(const struct check_sample *samples, size_t n, struct strbuf *b);

/* Flags for check_observation_format(). */
#define CHECK_FORMAT_LONG_OUTPUT 0x1u /* add the long output, one line each, after the first */

/*
 * Appends o to b the way a plugin prints it, as `hale check` shows a result:
 *   STATUS - summary | 'label'=value;warn;crit;min;max ...
 * "STATUS - " is left out when the summary names its status already
 * ("DISK OK - free space: ..."); a '|' in the summary or long output is
 * written as '/' and a line break in the summary as a space, since the
 * format has no escapes. Feeding the text back to check_plugin_parse()
 * with o->status as the exit code gives the same status, samples and long
 * output, and a summary that formats to the same line again. Returns 0 or
 * HALE_ELIMIT as check_perfdata_format() does.
 */
int check_observation_format(const struct check_observation *o, unsigned flags, struct strbuf *b);

/* ---- the runner: every check of a configuration, scheduled on the loop ---- */

struct loop;
struct metrics;
struct config;
struct config_check;
struct checks;
struct checks_metrics;
struct err;
struct detect_event;
struct series;
struct series_store;

/* Called on the loop thread for each event detect/ reports (the engine's seam). */
typedef void checks_event_cb(const struct config_check *check, struct detect_event *ev, void *data);

/*
 * The hale_check_* metric families, registered once in a registry that
 * outlives the runners (a reload replaces the runner, not the registry):
 * hale_check_status, hale_check_soft_status, hale_check_duration_seconds,
 * hale_check_runs_total, hale_check_skipped_runs_total,
 * hale_check_lateness_seconds, hale_check_flapping and hale_check_sample.
 * The gauges are rebuilt from the current runner at each render, so a check
 * removed by a reload disappears from them. m is borrowed: free the result
 * with checks_metrics_free() after metrics_free(m) or when no render can
 * come. Loop thread.
 */
struct checks_metrics *checks_metrics_new(struct metrics *m);
/* Accepts NULL. */
void checks_metrics_free(struct checks_metrics *cm);

struct checks_options {
    struct loop *loop;
    struct config *config;          /* the runner takes a reference */
    struct checks_metrics *metrics; /* optional: the hale_check_* families to update */
    /*
     * Optional: where the recent history of every sample goes (borrowed,
     * must outlive the runner). Give the same store to the next runner
     * after a reload to keep the history; the runner then drops the series
     * of checks its config no longer has. NULL: the runner keeps its own.
     */
    struct series_store *series;
    /*
     * Optional: a runner being replaced (stopping or not, not yet freed).
     * Each check of the new config with the same name and type resumes its
     * state (soft/hard, flapping, the last observation), so a reload does
     * not reset states.
     */
    const struct checks *carry;
    /*
     * Optional, for checks carry does not cover (at start): the hard status
     * each check last had (CHECK_STATUS_*), or -1 when unknown, so a check
     * that was critical when hale stopped starts critical, and its first ok
     * result is a recovery, as it would have been without the restart.
     */
    int (*last_status)(const char *check, void *data);
    void *last_status_data;
    unsigned max_children;     /* checks running a child process at once; 0: 64 */
    checks_event_cb *on_event; /* optional */
    void *event_data;
};

/*
 * Creates the runner for every check of o->config and starts scheduling
 * them (each at its own phase of its interval). Free with checks_stop()
 * then checks_free(). Returns 0, or -errno when the loop refuses a timer
 * (with e saying so). Loop thread.
 */
int checks_new(const struct checks_options *o, struct checks **ret_checks, struct err *e);

/*
 * Stops scheduling, aborts the runs in flight (killing their processes)
 * and calls done(data) on the loop once every run finished and every
 * handle is closed. A run aborted this way feeds nothing into its check's
 * state; run-now callbacks still waiting get an UNKNOWN observation. Work
 * the file and disk kinds left on libuv's thread pool (a hung filesystem)
 * finishes in the background and is dropped. Idempotent; loop thread.
 */
void checks_stop(struct checks *c, void (*done)(void *data), void *data);
/* Accepts NULL. Only after checks_stop()'s done ran (or if never started). */
void checks_free(struct checks *c);

/* A report from a flow that a heartbeat check expects (POST /api/v1/heartbeats/NAME). */
struct check_heartbeat_report {
    uint64_t time_ms;    /* Unix ms the report arrived */
    bool ok;             /* false: the flow says it failed */
    bool has_count;      /* a volume was reported */
    uint64_t count;      /* how many items the flow moved */
    const char *message; /* optional, borrowed for the call */
};

typedef void checks_run_cb(const struct config_check *check, const struct check_observation *o,
                           void *data);
/*
 * Runs the named check now, outside its schedule (after the run in flight,
 * if any), feeds the result into its state like any run, and calls cb with
 * the observation (borrowed for the call), possibly before returning.
 * HALE_ENOTFOUND for an unknown name, HALE_ESTATE once stopping (cb is then
 * not called). Loop thread.
 */
int checks_run_now(struct checks *c, const char *name, checks_run_cb *cb, void *data);

/*
 * Hands a report to the named heartbeat check. HALE_ENOTFOUND for an
 * unknown name, HALE_ESTATE when the check is not a heartbeat. Loop thread.
 */
int checks_heartbeat_report(struct checks *c, const char *name,
                            const struct check_heartbeat_report *r);

/* What the runner knows of one check; everything is borrowed until the next loop turn. */
struct checks_state {
    const struct config_check *cfg;
    enum check_status status;      /* of the last result (soft unless hard) */
    enum check_status hard_status; /* confirmed */
    bool hard;
    bool flapping;
    unsigned attempt; /* consecutive results counted toward the next change */
    /* Of the last observation (checks_last_observation() gives it whole): */
    bool has_last;        /* false before the first run, and the three below 0 */
    const char *summary;  /* NULL before the first run */
    uint64_t last_run_ms; /* Unix ms the last run started */
    uint64_t duration_us; /* how long it took */
    uint64_t next_due_ms; /* Unix ms of the next scheduled run; 0 once stopping */
    bool running;
    uint64_t runs;    /* finished runs (this runner) */
    uint64_t skipped; /* slots skipped because a run was still in flight */
};

/* Checks in the runner, in config order. */
size_t checks_count(const struct checks *c);
/* The i-th check's state; false past the end. */
bool checks_state_at(const struct checks *c, size_t i, struct checks_state *ret_state);
/* The named check's state; false for an unknown name. */
bool checks_state_find(const struct checks *c, const char *name, struct checks_state *ret_state);
/*
 * A copy of the named check's last observation in *ret, which the caller
 * frees with check_observation_fini(). False for an unknown name or before
 * the first run (*ret untouched).
 */
bool checks_last_observation(const struct checks *c, const char *name,
                             struct check_observation *ret);

/*
 * Calls fn for each series of the named check's samples (its history:
 * values in base units, see check_unit_scale(), with the sample's label
 * and the base unit) and once for its status history (label "status",
 * unit "": 0 ok ... 3 unknown). The series are borrowed for the call.
 */
typedef void checks_series_fn(const char *label, const char *unit, const struct series *s,
                              void *data);
void checks_series_each(const struct checks *c, const char *name, checks_series_fn *fn, void *data);

/*
 * Runs each of the n checks of config once, now, concurrently (at most 64
 * at a time), on a loop of its own, and fills ret_obs[0..n-1] (free each
 * with check_observation_fini()). For `hale check`: no scheduling, no
 * state. Returns 0 or -errno when no loop can be made. Blocks until every
 * run finished (each is bounded by its check's timeout).
 */
int checks_run_once(const struct config *config, const struct config_check *const *which, size_t n,
                    struct check_observation *ret_obs, struct err *e);

#endif
