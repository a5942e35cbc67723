/* SPDX-License-Identifier: MIT */
/*
 * What people read of the API's JSON: tables of incidents, problems,
 * silences and audit entries, one incident's (problem's, silence's)
 * fields, its timeline, ages and colours.
 * Pure functions from jansson values to text, so the commands stay thin
 * and the tests need no daemon. Text from the API may hold anything its
 * sources wrote; control characters are replaced here so nothing reaches
 * the terminal as an escape sequence.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "cli/internal.h"

/* Code points, which is what a terminal shows of UTF-8 (wide characters aside). */
static size_t text_width(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* The bytes of s's first `width` code points. */
static size_t text_prefix(const char *s, size_t width)
{
    size_t i = 0, n = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && n++ == width)
            break;
    }
    return i;
}

char *cli__sanitise(const char *s, bool keep_newlines)
{
    char *copy = xstrdup(s ? s : "-");
    for (char *p = copy; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '\n' && keep_newlines)
            continue;
        if (ch == '\t' || ch == '\n' || ch == '\r') {
            *p = ' ';
        } else if (ch < ' ' || ch == 0x7f) {
            *p = '?';
        } else if (ch == 0xC2 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9F) {
            p[0] = p[1] = '?'; /* U+0080..U+009F: C1 controls, 0x9B starts an escape */
            p++;
        }
    }
    return copy;
}

void cli__table_init(struct cli__table *t, size_t n_cols, bool multiline)
{
    *t = (struct cli__table){.n_cols = n_cols, .multiline = multiline};
}

void cli__table_fini(struct cli__table *t)
{
    for (size_t i = 0; i < t->n_rows; i++)
        for (size_t j = 0; j < t->n_cols; j++)
            free(t->rows[i].cell[j]);
    free(t->rows);
}

void cli__table_add(struct cli__table *t, const char *colour, const char *const *cells)
{
    if (t->n_rows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->rows = xreallocarray(t->rows, t->cap, sizeof(*t->rows));
    }
    struct cli__table_row *row = &t->rows[t->n_rows++];
    *row = (struct cli__table_row){.colour = colour};
    for (size_t j = 0; j < t->n_cols; j++)
        row->cell[j] = cli__sanitise(cells[j], t->multiline && j == t->n_cols - 1);
}

/* Appends the last cell, cut to avail code points (0: whole), continuation lines indented. */
static void last_cell_add(const char *cell, size_t indent, size_t avail, struct strbuf *out)
{
    for (const char *line = cell;;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (avail && text_width(line, len) > avail) {
            strbuf_add(out, line, text_prefix(line, avail - 1));
            strbuf_adds(out, "\u2026"); /* an ellipsis: the title goes on */
        } else {
            strbuf_add(out, line, len);
        }
        if (!nl)
            return;
        strbuf_addf(out, "\n%*s", (int)indent, "");
        line = nl + 1;
    }
}

void cli__table_render(const struct cli__table *t, const struct cli__style *st, struct strbuf *out)
{
    size_t width[CLI__TABLE_MAX_COLS] = {0}, indent = 0;
    for (size_t i = 0; i < t->n_rows; i++)
        for (size_t j = 0; j + 1 < t->n_cols; j++) {
            const char *c = t->rows[i].cell[j];
            size_t w = text_width(c, strlen(c));
            if (w > width[j])
                width[j] = w;
        }
    for (size_t j = 0; j + 1 < t->n_cols; j++)
        indent += width[j] + 2;
    size_t avail = 0;
    if (st && st->width > 0)
        avail = (size_t)st->width > indent + CLI__MIN_CUT ? (size_t)st->width - indent
                                                          : CLI__MIN_CUT;
    for (size_t i = 0; i < t->n_rows; i++) {
        const struct cli__table_row *row = &t->rows[i];
        bool colour = st && st->colour && row->colour;
        if (colour)
            strbuf_adds(out, row->colour);
        for (size_t j = 0; j + 1 < t->n_cols; j++) {
            const char *c = row->cell[j];
            strbuf_addf(out, "%s%*s  ", c, (int)(width[j] - text_width(c, strlen(c))), "");
        }
        last_cell_add(row->cell[t->n_cols - 1], indent, avail, out);
        if (colour)
            strbuf_adds(out, CLI__RESET);
        strbuf_addc(out, '\n');
    }
}

bool cli__colour_wanted(int fd)
{
    const char *no = getenv("NO_COLOR");
    return isatty(fd) && !(no && *no);
}

void cli__style_for(int fd, struct cli__style *ret)
{
    struct winsize ws;
    bool tty = isatty(fd);
    *ret = (struct cli__style){
            .width = tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0,
            .colour = cli__colour_wanted(fd),
            .now_ms = (int64_t)clock_real_ms(&clock_system),
    };
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

const char *cli__incident_colour(const json_t *incident)
{
    const char *state = str_of(incident, "state"), *severity = str_of(incident, "severity");
    if (state && (strcmp(state, "resolved") == 0 || strcmp(state, "closed") == 0))
        return CLI__DIM;
    if (severity && strcmp(severity, "critical") == 0)
        return CLI__RED;
    if (severity && strcmp(severity, "warning") == 0)
        return CLI__YELLOW;
    return NULL;
}

void cli__age_format(int64_t ms, char buf[CLI__AGE_MAX])
{
    static const struct {
        int64_t ms;
        char unit;
    } units[] = {{86400000, 'd'}, {3600000, 'h'}, {60000, 'm'}, {1000, 's'}};
    int64_t s = ms > 0 ? ms : 0;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (s >= units[i].ms || units[i].unit == 's') {
            snprintf(buf, CLI__AGE_MAX, "%lld%c", (long long)(s / units[i].ms), units[i].unit);
            return;
        }
}

static void age_of(const json_t *o, const char *key, int64_t now_ms, char buf[CLI__AGE_MAX])
{
    int64_t t;
    if (clock_parse_rfc3339_ms(str_of(o, key), &t) == 0)
        cli__age_format(now_ms - t, buf);
    else
        snprintf(buf, CLI__AGE_MAX, "-");
}

#define ID_MAX 24

static void id_of(const json_t *o, const char *key, char buf[ID_MAX])
{
    const json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        snprintf(buf, ID_MAX, "%lld", (long long)json_integer_value(v));
    else
        snprintf(buf, ID_MAX, "-");
}

void cli__incidents_table(const json_t *incidents, const struct cli__style *st, struct strbuf *out)
{
    static const char *const header[] = {"ID",   "PRI",      "STATE", "SEVERITY",
                                         "TEAM", "ASSIGNEE", "AGE",   "TITLE"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *inc;
    json_array_foreach(incidents, i, inc)
    {
        char id[ID_MAX], age[CLI__AGE_MAX];
        id_of(inc, "id", id);
        age_of(inc, "opened", st->now_ms, age);
        const char *cells[] = {id,
                               str_of(inc, "priority"),
                               str_of(inc, "state"),
                               str_of(inc, "severity"),
                               str_of(inc, "team"),
                               str_of(inc, "assignee"),
                               age,
                               str_of(inc, "title")};
        cli__table_add(&t, cli__incident_colour(inc), cells);
    }
    cli__table_render(&t, st, out);
    cli__table_fini(&t);
}

void cli__field_add(struct strbuf *out, const char *name, const char *value)
{
    char *clean = cli__sanitise(value, true);
    strbuf_addf(out, "%-14s", name);
    last_cell_add(clean, 14, 0, out);
    strbuf_addc(out, '\n');
    free(clean);
}

void cli__time_field_add(struct strbuf *out, const char *name, const json_t *o, const char *key,
                         int64_t now_ms)
{
    const char *value = str_of(o, key);
    int64_t t;
    if (clock_parse_rfc3339_ms(value, &t) < 0) {
        cli__field_add(out, name, value);
        return;
    }
    char age[CLI__AGE_MAX];
    cli__age_format(t > now_ms ? t - now_ms : now_ms - t, age);
    char *both =
            t > now_ms ? xasprintf("%s (in %s)", value, age) : xasprintf("%s (%s ago)", value, age);
    cli__field_add(out, name, both);
    free(both);
}

/* json_t * because jansson's object iteration wants one; labels is only read. */
void cli__labels_field_add(struct strbuf *out, json_t *labels)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    const char *key;
    json_t *value;
    json_object_foreach(labels, key, value)
    {
        const char *v = json_string_value(value);
        strbuf_addf(&b, "%s%s=%s", b.len ? ", " : "", key, v ? v : "");
    }
    cli__field_add(out, "labels", b.len ? b.s : NULL);
    strbuf_fini(&b);
}

void cli__incident_fields(const json_t *incident, int64_t now_ms, struct strbuf *out)
{
    char id[ID_MAX], n[ID_MAX];
    id_of(incident, "id", id);
    const char *title = str_of(incident, "title");
    char *heading = cli__sanitise(title, false);
    strbuf_addf(out, "incident %s: %s\n", id, heading);
    free(heading);
    static const char *const plain[][2] = {
            {"state", "state"},       {"severity", "severity"},       {"priority", "priority"},
            {"type", "type"},         {"category", "category"},       {"team", "team"},
            {"assignee", "assignee"}, {"service", "service"},         {"check", "check"},
            {"runbook", "runbook"},   {"fingerprint", "fingerprint"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
        cli__field_add(out, plain[i][0], str_of(incident, plain[i][1]));
    cli__labels_field_add(out, json_object_get(incident, "labels"));
    static const char *const times[][2] = {
            {"opened", "opened"}, {"acknowledged", "acknowledged"}, {"resolved", "resolved"},
            {"closed", "closed"}, {"updated", "updated"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(times); i++)
        cli__time_field_add(out, times[i][0], incident, times[i][1], now_ms);
    cli__field_add(out, "resolved by", str_of(incident, "resolved_by"));
    cli__field_add(out, "root cause", str_of(incident, "root_cause"));
    id_of(incident, "symptom_of", n);
    cli__field_add(out, "symptom of", n);
    /* Events received, and how many of them were the same again (counted, not listed). */
    char repeats[ID_MAX], events[2 * ID_MAX + 16];
    id_of(incident, "events", n);
    id_of(incident, "repeats", repeats);
    snprintf(events, sizeof(events), "%s (%s repeat%s)", n, repeats,
             strcmp(repeats, "1") == 0 ? "" : "s");
    cli__field_add(out, "events", strcmp(n, "-") == 0 ? "-" : events);
    id_of(incident, "reopened", n);
    cli__field_add(out, "reopened", n);
    id_of(incident, "problem", n);
    cli__field_add(out, "problem", n);
}

/* A time as "2026-11-21T19:00:00Z": the milliseconds are noise in a timeline. */
static void short_time(const char *s, char buf[CLOCK_RFC3339_MAX])
{
    int64_t t;
    if (clock_parse_rfc3339_ms(s, &t) < 0 || clock_format_rfc3339(t / 1000, buf) < 0)
        snprintf(buf, CLOCK_RFC3339_MAX, "%s", s ? s : "-");
}

void cli__incident_line(const json_t *incident, bool colour, struct strbuf *out)
{
    char time[CLOCK_RFC3339_MAX], id[ID_MAX];
    short_time(str_of(incident, "updated"), time);
    id_of(incident, "id", id);
    /* The widths of the longest values, so the lines of a session line up. */
    static const struct {
        const char *key;
        int width;
    } cols[] = {{"priority", 3}, {"state", 12}, {"severity", 8}, {"team", 0}, {"assignee", 0}};
    const char *hue = colour ? cli__incident_colour(incident) : NULL;
    if (hue)
        strbuf_adds(out, hue);
    strbuf_addf(out, "%s  %-4s", time, id);
    for (size_t i = 0; i < ARRAY_SIZE(cols); i++) {
        char *cell = cli__sanitise(str_of(incident, cols[i].key), false);
        strbuf_addf(out, "  %-*s", cols[i].width, cell);
        free(cell);
    }
    char *title = cli__sanitise(str_of(incident, "title"), false);
    strbuf_addf(out, "  %s", title);
    free(title);
    if (hue)
        strbuf_adds(out, CLI__RESET);
    strbuf_addc(out, '\n');
}

void cli__timeline_render(const json_t *timeline, struct strbuf *out)
{
    static const char *const header[] = {"TIME", "ACTOR", "KIND", "TEXT"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), true);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *entry;
    json_array_foreach(timeline, i, entry)
    {
        char time[CLOCK_RFC3339_MAX];
        short_time(str_of(entry, "time"), time);
        const char *cells[] = {time, str_of(entry, "actor"), str_of(entry, "kind"),
                               str_of(entry, "text")};
        cli__table_add(&t, NULL, cells);
    }
    cli__table_render(&t, NULL, out);
    cli__table_fini(&t);
}

void cli__notifications_table(const json_t *notifications, struct strbuf *out)
{
    static const char *const header[] = {"CREATED", "NOTIFIER", "REASON", "LEVEL",
                                         "STATE",   "ATTEMPTS", "ERROR"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *n;
    json_array_foreach(notifications, i, n)
    {
        char level[ID_MAX], attempts[ID_MAX];
        id_of(n, "level", level);
        id_of(n, "attempts", attempts);
        /* the error may quote what a notifier's program or server said: sanitised */
        const char *cells[] = {str_of(n, "created"), str_of(n, "notifier"),
                               str_of(n, "reason"),  level,
                               str_of(n, "state"),   attempts,
                               str_of(n, "error")};
        cli__table_add(&t, NULL, cells);
    }
    cli__table_render(&t, NULL, out);
    cli__table_fini(&t);
}

void cli__problems_table(const json_t *problems, const struct cli__style *st, struct strbuf *out)
{
    static const char *const header[] = {"ID", "STATE", "INCIDENTS", "AGE", "TITLE"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *p;
    json_array_foreach(problems, i, p)
    {
        char id[ID_MAX], n[ID_MAX], age[CLI__AGE_MAX];
        id_of(p, "id", id);
        id_of(p, "incidents", n);
        age_of(p, "opened", st->now_ms, age);
        const char *state = str_of(p, "state");
        const char *cells[] = {id, state, n, age, str_of(p, "title")};
        cli__table_add(&t, state && strcmp(state, "resolved") == 0 ? CLI__DIM : NULL, cells);
    }
    cli__table_render(&t, st, out);
    cli__table_fini(&t);
}

void cli__problem_fields(const json_t *problem, int64_t now_ms, struct strbuf *out)
{
    char id[ID_MAX], n[ID_MAX];
    id_of(problem, "id", id);
    char *title = cli__sanitise(str_of(problem, "title"), false);
    strbuf_addf(out, "problem %s: %s\n", id, title);
    free(title);
    cli__field_add(out, "state", str_of(problem, "state"));
    cli__field_add(out, "fingerprint", str_of(problem, "fingerprint"));
    id_of(problem, "incidents", n);
    cli__field_add(out, "incidents", n);
    cli__time_field_add(out, "opened", problem, "opened", now_ms);
    cli__time_field_add(out, "resolved", problem, "resolved", now_ms);
    cli__time_field_add(out, "updated", problem, "updated", now_ms);
    cli__field_add(out, "root cause", str_of(problem, "root_cause"));
    cli__field_add(out, "workaround", str_of(problem, "workaround"));
}

void cli__audit_table(const json_t *entries, const struct cli__style *st, struct strbuf *out)
{
    static const char *const header[] = {"TIME", "ACTOR", "ACTION", "TARGET", "ORIGIN"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *a;
    json_array_foreach(entries, i, a)
    {
        char time[CLOCK_RFC3339_MAX];
        short_time(str_of(a, "time"), time);
        const char *cells[] = {time, str_of(a, "actor"), str_of(a, "action"), str_of(a, "target"),
                               str_of(a, "origin")};
        cli__table_add(&t, NULL, cells);
    }
    cli__table_render(&t, st, out);
    cli__table_fini(&t);
}

/* ---- silences ---- */

static int64_t time_of(const json_t *o, const char *key)
{
    int64_t t;
    return clock_parse_rfc3339_ms(str_of(o, key), &t) == 0 ? t : 0;
}

/*
 * A span to come, in its two largest units, "1h30m", "2d", rounded up to
 * the second: a silence made for 2h a moment ago ends in 2h, not in 1h.
 */
#define SPAN_MAX 48

static void span_format(int64_t ms, char buf[SPAN_MAX])
{
    static const struct {
        int64_t s;
        char unit;
    } units[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    int64_t s = ms > 0 ? (ms + 999) / 1000 : 0;
    size_t i = 0;
    while (i + 1 < ARRAY_SIZE(units) && s < units[i].s)
        i++;
    int64_t big = s / units[i].s,
            rest = i + 1 < ARRAY_SIZE(units) ? s % units[i].s / units[i + 1].s : 0;
    if (rest)
        snprintf(buf, SPAN_MAX, "%lld%c%lld%c", (long long)big, units[i].unit, (long long)rest,
                 units[i + 1].unit);
    else
        snprintf(buf, SPAN_MAX, "%lld%c", (long long)big, units[i].unit);
}

void cli__silence_when(const json_t *silence, int64_t now_ms, struct strbuf *out)
{
    const char *state = str_of(silence, "state"), *weekly = str_of(silence, "weekly");
    int64_t starts = time_of(silence, "starts"), ends = time_of(silence, "ends");
    int64_t ended = time_of(silence, "ended");
    const json_t *incident = json_object_get(silence, "incident");
    char age[SPAN_MAX];
    if (state && strcmp(state, "expired") == 0) {
        cli__age_format(now_ms - (ended ? ended : ends), age);
        strbuf_addf(out, "ended %s ago", age);
        return;
    }
    size_t start = out->len;
    const char *sep = "";
    if (weekly) {
        strbuf_adds(out, weekly);
        sep = ", ";
    }
    if (json_is_integer(incident)) {
        strbuf_addf(out, "%suntil incident %lld resolves", sep,
                    (long long)json_integer_value(incident));
        sep = ", ";
    }
    if (starts > now_ms) {
        span_format(starts - now_ms, age);
        strbuf_addf(out, "%sstarts in %s", sep, age);
        sep = ", ";
    }
    if (ends && (weekly || json_is_integer(incident))) {
        char t[CLOCK_RFC3339_MAX];
        short_time(str_of(silence, "ends"), t);
        strbuf_addf(out, "%s%s %s", sep, json_is_integer(incident) ? "at most until" : "until", t);
    } else if (ends && starts > now_ms) {
        span_format(ends - starts, age);
        strbuf_addf(out, ", for %s", age);
    } else if (ends) {
        span_format(ends - now_ms, age);
        strbuf_addf(out, "%sends in %s", sep, age);
    }
    if (out->len == start)
        strbuf_adds(out, "-");
}

void cli__silences_table(const json_t *silences, const struct cli__style *st, struct strbuf *out)
{
    static const char *const header[] = {"ID",   "STATE",   "MATCHERS",
                                         "WHEN", "COMMENT", "CREATED_BY"};
    struct cli__table t;
    cli__table_init(&t, ARRAY_SIZE(header), false);
    cli__table_add(&t, NULL, header);
    size_t i;
    const json_t *sl;
    json_array_foreach(silences, i, sl)
    {
        char id[ID_MAX];
        id_of(sl, "id", id);
        struct strbuf when;
        strbuf_init(&when, 0);
        cli__silence_when(sl, st->now_ms, &when);
        const char *state = str_of(sl, "state"), *comment = str_of(sl, "comment");
        const char *cells[] = {id,
                               state,
                               str_of(sl, "matchers"),
                               when.s,
                               comment && *comment ? comment : "-",
                               str_of(sl, "created_by")};
        const char *colour = !state                          ? NULL
                             : strcmp(state, "expired") == 0 ? CLI__DIM
                             : strcmp(state, "active") == 0  ? CLI__YELLOW
                                                             : NULL;
        cli__table_add(&t, colour, cells);
        strbuf_fini(&when);
    }
    cli__table_render(&t, st, out);
    cli__table_fini(&t);
}

void cli__silence_fields(const json_t *silence, int64_t now_ms, struct strbuf *out)
{
    char id[ID_MAX], n[ID_MAX];
    id_of(silence, "id", id);
    char *matchers = cli__sanitise(str_of(silence, "matchers"), false);
    strbuf_addf(out, "silence %s: %s\n", id, matchers);
    free(matchers);
    struct strbuf when;
    strbuf_init(&when, 0);
    cli__silence_when(silence, now_ms, &when);
    cli__field_add(out, "state", str_of(silence, "state"));
    cli__field_add(out, "when", when.s);
    strbuf_fini(&when);
    cli__field_add(out, "source", str_of(silence, "source"));
    cli__field_add(out, "weekly", str_of(silence, "weekly"));
    cli__time_field_add(out, "starts", silence, "starts", now_ms);
    cli__time_field_add(out, "ends", silence, "ends", now_ms);
    id_of(silence, "incident", n);
    cli__field_add(out, "incident", n);
    cli__field_add(out, "comment", str_of(silence, "comment"));
    cli__field_add(out, "created by", str_of(silence, "created_by"));
    cli__time_field_add(out, "created", silence, "created", now_ms);
    cli__time_field_add(out, "ended", silence, "ended", now_ms);
    cli__field_add(out, "ended by", str_of(silence, "ended_by"));
}
