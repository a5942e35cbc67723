/* SPDX-License-Identifier: MIT */
/*
 * What people read of the runbooks' side of the API: the table of runs,
 * one run step by step with its output, the line of a step as `hale run`
 * follows it, the runbooks and their effectiveness. Pure functions from
 * the API's JSON to text (shapes in docs/api.md, "Runbooks and runs");
 * everything from the API is sanitised before it reaches a terminal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/units.h"
#include "cli/internal.h"

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t time_of(const json_t *o, const char *key)
{
    int64_t t;
    return clock_parse_rfc3339_ms(str_of(o, key), &t) == 0 ? t : 0;
}

#define NUM_MAX 24

/* An integer member as text, "-" when absent or null. */
static const char *int_of(const json_t *o, const char *key, char buf[NUM_MAX])
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        return "-";
    snprintf(buf, NUM_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return buf;
}

const char *cli__run_colour(const char *outcome)
{
    if (!outcome)
        return NULL;
    if (strcmp(outcome, "healed") == 0 || strcmp(outcome, "completed") == 0)
        return NULL;
    if (strcmp(outcome, "running") == 0 || strcmp(outcome, "waiting") == 0 ||
        strcmp(outcome, "canceled") == 0)
        return CLI__YELLOW;
    return CLI__RED;
}

void cli__runs_table(const json_t *runs, const struct cli__style *st, struct strbuf *out)
{
    static const char *const header[] = {"ID",    "RUNBOOK", "TARGET", "INCIDENT",
                                         "ACTOR", "OUTCOME", "AGE",    "REASON"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *run;
    json_array_foreach(runs, i, run)
    {
        char id[NUM_MAX], inc[NUM_MAX], age[CLI__AGE_MAX] = "-";
        int64_t started = time_of(run, "started");
        if (started)
            cli__age_format(st->now_ms - started, age);
        const char *target = str_of(run, "target");
        const char *cells[] = {int_of(run, "id", id),
                               str_of(run, "runbook"),
                               target && *target ? target : "-",
                               int_of(run, "incident", inc),
                               str_of(run, "actor"),
                               str_of(run, "outcome"),
                               age,
                               str_of(run, "reason")};
        cli__table_add(&t, cli__run_colour(str_of(run, "outcome")), cells);
    }
    cli__table_render(&t, st, out);
    cli__table_fini(&t);
}

/* "in 120 ms", "in 3.2 s", "in 2m", of a step that ended; "" otherwise. */
static void took(const json_t *step, char *buf, size_t size)
{
    int64_t s = time_of(step, "started"), e = time_of(step, "ended");
    buf[0] = '\0';
    if (!s || !e || e < s)
        return;
    int64_t ms = e - s;
    if (ms < 1000) {
        snprintf(buf, size, " in %" PRId64 " ms", ms);
    } else if (ms < 60000) {
        snprintf(buf, size, " in %" PRId64 ".%" PRId64 " s", ms / 1000, ms % 1000 / 100);
    } else {
        char d[32];
        snprintf(buf, size, " in %s", units_duration_format((uint64_t)ms, d, sizeof(d)));
    }
}

void cli__run_step_line(const json_t *step, long steps_total, struct strbuf *out)
{
    char total[NUM_MAX] = "?", dur[64];
    if (steps_total > 0)
        snprintf(total, sizeof(total), "%ld", steps_total);
    json_int_t index = json_integer_value(json_object_get(step, "step"));
    const char *outcome = str_of(step, "outcome");
    char *name = cli__sanitise(str_of(step, "name"), false);
    strbuf_addf(out,
                "step %" JSON_INTEGER_FORMAT "/%s %s (%s, %s, attempt %" JSON_INTEGER_FORMAT ") %s",
                index + 1, total, name, str_of(step, "action") ? str_of(step, "action") : "?",
                str_of(step, "purpose") ? str_of(step, "purpose") : "?",
                json_integer_value(json_object_get(step, "attempt")), outcome ? outcome : "?");
    free(name);
    /* Only a process has an exit status; other steps say what they did in their reason. */
    const char *action = str_of(step, "action");
    bool process = action && (!strcmp(action, "run") || !strcmp(action, "shell"));
    const json_t *exit_status = json_object_get(step, "exit_status");
    const json_t *sig = json_object_get(step, "signal");
    char said[NUM_MAX + 8] = "";
    took(step, dur, sizeof(dur));
    if (json_is_true(json_object_get(step, "timed_out")))
        strbuf_adds(out, ": timed out, its process group killed");
    else if (process && json_is_integer(sig) && json_integer_value(sig) > 0)
        strbuf_addf(out, ": killed by signal %" JSON_INTEGER_FORMAT, json_integer_value(sig));
    else if (process && json_is_integer(exit_status)) {
        snprintf(said, sizeof(said), "exit %" JSON_INTEGER_FORMAT, json_integer_value(exit_status));
        strbuf_addf(out, ": %s", said);
    }
    strbuf_adds(out, dur);
    const char *reason = str_of(step, "reason");
    if (reason && *reason && strcmp(reason, said) != 0) {
        char *clean = cli__sanitise(reason, false);
        strbuf_addf(out, " (%s)", clean);
        free(clean);
    }
    strbuf_addc(out, '\n');
}

/* A step's output, indented, control characters made harmless; nothing when empty. */
static void output_add(const json_t *step, struct strbuf *out)
{
    const char *output = str_of(step, "output");
    if (!output || !*output)
        return;
    char *clean = cli__sanitise(output, true);
    size_t len = strlen(clean);
    if (len && clean[len - 1] == '\n')
        clean[len - 1] = '\0';
    strbuf_adds(out, "    | ");
    for (const char *p = clean; *p; p++) {
        strbuf_addc(out, *p);
        if (*p == '\n')
            strbuf_adds(out, "    | ");
    }
    strbuf_addc(out, '\n');
    free(clean);
}

static void approval_add(const json_t *gate, int64_t now_ms, struct strbuf *out)
{
    if (!json_is_object(gate))
        return;
    cli__field_add(out, "question", str_of(gate, "question"));
    const char *decision = str_of(gate, "decision");
    if (!decision) {
        cli__time_field_add(out, "deadline", gate, "deadline", now_ms);
        return;
    }
    char *both = xasprintf("%s by %s", decision,
                           str_of(gate, "decided_by") ? str_of(gate, "decided_by") : "?");
    cli__field_add(out, "decision", both);
    free(both);
    if (str_of(gate, "comment"))
        cli__field_add(out, "comment", str_of(gate, "comment"));
}

void cli__run_render(const json_t *answer, int64_t now_ms, struct strbuf *out)
{
    const json_t *run = json_object_get(answer, "run");
    char id[NUM_MAX], inc[NUM_MAX];
    char *runbook = cli__sanitise(str_of(run, "runbook"), false);
    strbuf_addf(out, "run %s of %s\n", int_of(run, "id", id), runbook);
    free(runbook);
    cli__field_add(out, "outcome", str_of(run, "outcome"));
    if (str_of(run, "reason"))
        cli__field_add(out, "reason", str_of(run, "reason"));
    cli__field_add(out, "incident", int_of(run, "incident", inc));
    cli__field_add(out, "target", str_of(run, "target"));
    cli__labels_field_add(out, json_object_get(run, "labels"));
    cli__field_add(out, "started by", str_of(run, "actor"));
    cli__field_add(out, "automatic",
                   json_is_true(json_object_get(run, "automatic")) ? "yes" : "no");
    cli__time_field_add(out, "started", run, "started", now_ms);
    if (str_of(run, "ended"))
        cli__time_field_add(out, "ended", run, "ended", now_ms);
    if (json_is_true(json_object_get(run, "relapsed")))
        cli__field_add(out, "relapsed", "yes: its incident came back after it healed");
    approval_add(json_object_get(run, "approval"), now_ms, out);
    const json_t *steps = json_object_get(answer, "steps");
    strbuf_addc(out, '\n');
    if (json_array_size(steps) == 0) {
        strbuf_adds(out, "(no step has started)\n");
        return;
    }
    long total = (long)json_integer_value(json_object_get(run, "steps_total"));
    size_t i;
    const json_t *step;
    json_array_foreach(steps, i, step)
    {
        cli__run_step_line(step, total, out);
        output_add(step, out);
    }
}

/* ---- runbooks ---- */

static void guard_text(const json_t *guard, char *buf, size_t size)
{
    if (!json_is_object(guard)) {
        snprintf(buf, size, "-");
        return;
    }
    const char *key = str_of(guard, "key");
    snprintf(buf, size, "%" JSON_INTEGER_FORMAT "/%s%s%s",
             json_integer_value(json_object_get(guard, "max_runs")),
             str_of(guard, "per") ? str_of(guard, "per") : "?", key ? " by " : "", key ? key : "");
}

void cli__runbooks_table(const json_t *runbooks, const struct cli__style *st, struct strbuf *out)
{
    static const char *const header[] = {"NAME", "TEAM",   "STEPS",    "GUARD",      "STATE",
                                         "RUNS", "HEALED", "RELAPSED", "DESCRIPTION"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *rb;
    json_array_foreach(runbooks, i, rb)
    {
        char steps[NUM_MAX], guard[160], runs[NUM_MAX], healed[NUM_MAX], relapsed[NUM_MAX];
        snprintf(steps, sizeof(steps), "%zu", json_array_size(json_object_get(rb, "steps")));
        guard_text(json_object_get(rb, "guard"), guard, sizeof(guard));
        const json_t *stats = json_object_get(rb, "stats");
        bool quarantined = json_is_object(json_object_get(rb, "quarantine"));
        const char *cells[] = {str_of(rb, "name"),
                               str_of(rb, "team"),
                               steps,
                               guard,
                               quarantined ? "quarantined" : "enabled",
                               int_of(stats, "runs", runs),
                               int_of(stats, "healed", healed),
                               int_of(stats, "relapsed", relapsed),
                               str_of(rb, "description")};
        cli__table_add(&t, quarantined ? CLI__RED : NULL, cells);
    }
    cli__table_render(&t, st, out);
    cli__table_fini(&t);
}

/* One row of the statistics: a runbook's total (target NULL) or one of its targets. */
static void stats_row(struct cli__table *t, const char *runbook, const char *target,
                      const json_t *s)
{
    char n[6][NUM_MAX], median[32] = "-";
    static const char *const keys[] = {"runs",   "healed",    "completed",
                                       "failed", "suspended", "relapsed"};
    const char *cells[9] = {runbook, target};
    for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
        cells[2 + k] = int_of(s, keys[k], n[k]);
    json_int_t ms = json_integer_value(json_object_get(s, "median_heal_ms"));
    if (ms > 0)
        units_duration_format((uint64_t)ms, median, sizeof(median));
    cells[8] = median;
    cli__table_add(t, NULL, cells);
}

void cli__runbook_stats_table(const json_t *runbooks, struct strbuf *out)
{
    static const char *const header[] = {"RUNBOOK",   "TARGET",    "RUNS",
                                         "HEALED",    "COMPLETED", "FAILED",
                                         "SUSPENDED", "RELAPSED",  "MEDIAN HEAL"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *rb;
    json_array_foreach(runbooks, i, rb)
    {
        const char *name = str_of(rb, "name");
        stats_row(&t, name, "(all)", json_object_get(rb, "stats"));
        size_t k;
        const json_t *target;
        json_array_foreach(json_object_get(rb, "targets"), k, target)
        {
            const char *tname = str_of(target, "target");
            stats_row(&t, name, tname && *tname ? tname : "\"\"", target);
        }
    }
    cli__table_render(&t, NULL, out);
    cli__table_fini(&t);
    json_array_foreach(runbooks, i, rb)
    {
        const json_t *q = json_object_get(rb, "quarantine");
        if (!json_is_object(q))
            continue;
        char *line = xasprintf("%s is quarantined since %s: %s; 'hale runbooks enable %s' puts it "
                               "back",
                               str_of(rb, "name"), str_of(q, "since"),
                               str_of(q, "reason") ? str_of(q, "reason") : "", str_of(rb, "name"));
        char *clean = cli__sanitise(line, false);
        strbuf_addf(out, "\n%s\n", clean);
        free(clean);
        free(line);
    }
}
