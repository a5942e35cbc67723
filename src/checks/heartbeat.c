/* SPDX-License-Identifier: MIT */
/*
 * The heartbeat check kind: flow monitoring. A named flow (a transfer, a
 * backup, a cron job) must report every `every`, or before a daily
 * deadline, on the days its calendar expects it. Reports come through
 * check_heartbeat_report() (the API) or as a new modification time of a
 * watched file. Each run compares what arrived with what was expected, at
 * the kind's clock's time: ok, late, missing, short (volume out of bounds)
 * or failed. The recent reports survive restarts in
 * <data_dir>/state/heartbeat-<check>.state.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "base/units.h"
#include "checks/internal.h"

/* Reports kept (and persisted); the oldest go first. */
#define HB_REPORTS_MAX    256u
/* Bytes of a report's message kept for the summary. */
#define HB_MESSAGE_MAX    200u
/* How far the calendar is searched for an expected day. */
#define HB_CALENDAR_DAYS  400
/* Largest state file read back. */
#define HB_STATE_MAX      (64u << 10)
/* How long after a daily deadline a report still answers it, late. */
#define HB_DEADLINE_GRACE (60u * 60u * 1000u)
/* Longest text hb_when() writes. */
#define HB_WHEN_MAX       64

struct hb_report {
    uint64_t time_ms;
    uint64_t count;
    bool ok, has_count;
};

struct hb_state {
    const struct clock *clock;
    char *state_path; /* NULL: no data_dir, nothing persisted */
    char *path;       /* a file whose modification is a report, or NULL */
    uint64_t grace_ms;
    bool has_grace;

    uint64_t since_ms;                        /* Unix ms the check first ran; 0 until then */
    uint64_t file_mtime_ms;                   /* the watched file's mtime last counted */
    struct hb_report reports[HB_REPORTS_MAX]; /* oldest first */
    size_t n_reports;
    char message[HB_MESSAGE_MAX]; /* of the newest report */
    int save_err;                 /* the last write of the state file failed */

    uv_fs_t stat_req; /* the run's look at path */
    struct check_run *run;
};

static struct hb_state *hb_state_of(struct check_host *host)
{
    if (!host || !host->cfg || host->cfg->type != CONFIG_CHECK_HEARTBEAT)
        return NULL;
    return host->kind_state;
}

void check_heartbeat__set_clock(struct check_host *host, const struct clock *clock)
{
    struct hb_state *s = hb_state_of(host);
    if (s)
        s->clock = clock;
}

void check_heartbeat__set_path(struct check_host *host, const char *path)
{
    struct hb_state *s = hb_state_of(host);
    if (!s)
        return;
    free(s->path);
    s->path = path ? xstrdup(path) : NULL;
}

void check_heartbeat__set_grace(struct check_host *host, uint64_t grace_ms)
{
    struct hb_state *s = hb_state_of(host);
    if (!s)
        return;
    s->grace_ms = grace_ms;
    s->has_grace = true;
}

static uint64_t hb_grace(const struct hb_state *s, const struct config_check *cfg)
{
    if (s->has_grace)
        return s->grace_ms;
    return cfg->u.heartbeat.deadline_min == CONFIG_UNSET ? cfg->every_ms / 2 : HB_DEADLINE_GRACE;
}

/* ---- the calendar, in local time ---- */

static void hb_local(uint64_t ms, struct tm *ret_tm)
{
    time_t t = (time_t)(ms / 1000);
    if (!localtime_r(&t, ret_tm))
        memset(ret_tm, 0, sizeof(*ret_tm));
}

static unsigned hb_ymd(const struct tm *tm)
{
    return (unsigned)(tm->tm_year + 1900) * 10000u + (unsigned)(tm->tm_mon + 1) * 100u +
           (unsigned)tm->tm_mday;
}

static bool hb_is_excluded(const struct config_check_heartbeat *h, const struct tm *day)
{
    unsigned ymd = hb_ymd(day);
    for (size_t i = 0; i < h->exclude.n; i++)
        if (h->exclude.v[i] == ymd)
            return true;
    return false;
}

static bool hb_is_expected(const struct config_check_heartbeat *h, const struct tm *day)
{
    return (h->days & (1u << day->tm_wday)) && !hb_is_excluded(h, day);
}

/*
 * Unix ms of minute (of the day) on the day `shift` days after day's, in
 * local time (mktime() settles DST and month ends); *ret_day is that day.
 */
static uint64_t hb_day_at(const struct tm *day, int shift, unsigned minute, struct tm *ret_day)
{
    struct tm t = {
            .tm_year = day->tm_year,
            .tm_mon = day->tm_mon,
            .tm_mday = day->tm_mday + shift,
            .tm_hour = (int)(minute / 60),
            .tm_min = (int)(minute % 60),
            .tm_isdst = -1,
    };
    time_t at = mktime(&t);
    *ret_day = t;
    return at < 0 ? 0 : (uint64_t)at * 1000u;
}

/* The latest deadline at or before t_ms on an expected day. */
static bool hb_deadline_before(const struct config_check_heartbeat *h, uint64_t t_ms,
                               uint64_t *ret_ms)
{
    struct tm today, day;
    hb_local(t_ms, &today);
    for (int i = 0; i <= HB_CALENDAR_DAYS; i++) {
        uint64_t at = hb_day_at(&today, -i, h->deadline_min, &day);
        if (at && at <= t_ms && hb_is_expected(h, &day)) {
            *ret_ms = at;
            return true;
        }
    }
    return false;
}

/* The first deadline after t_ms on an expected day. */
static bool hb_deadline_after(const struct config_check_heartbeat *h, uint64_t t_ms,
                              uint64_t *ret_ms)
{
    struct tm today, day;
    hb_local(t_ms, &today);
    for (int i = 0; i <= HB_CALENDAR_DAYS; i++) {
        uint64_t at = hb_day_at(&today, i, h->deadline_min, &day);
        if (at > t_ms && hb_is_expected(h, &day)) {
            *ret_ms = at;
            return true;
        }
    }
    return false;
}

/*
 * When the next report is due after one at base_ms: `every` later, unless
 * that falls on a day without reports; then `every` after the start of the
 * next expected day (the flow resumes that morning).
 */
static uint64_t hb_interval_due(const struct config_check_heartbeat *h, uint64_t every_ms,
                                uint64_t base_ms)
{
    uint64_t due = base_ms + every_ms;
    struct tm tm, next;
    for (int i = 0; i < HB_CALENDAR_DAYS; i++) {
        hb_local(due, &tm);
        if (hb_is_expected(h, &tm))
            return due;
        due = hb_day_at(&tm, 1, 0, &next) + every_ms;
    }
    return due;
}

/* "today 06:02", "yesterday 23:50", "tomorrow 06:00" or "Mon 2026-11-16 06:00". */
static void hb_when(uint64_t t_ms, uint64_t now_ms, char buf[static HB_WHEN_MAX])
{
    struct tm t, now, day;
    hb_local(t_ms, &t);
    hb_local(now_ms, &now);
    char hm[8];
    strftime(hm, sizeof(hm), "%H:%M", &t);
    unsigned ymd = hb_ymd(&t);
    const char *rel = NULL;
    if (ymd == hb_ymd(&now))
        rel = "today";
    else if (hb_day_at(&now, -1, 0, &day) && ymd == hb_ymd(&day))
        rel = "yesterday";
    else if (hb_day_at(&now, 1, 0, &day) && ymd == hb_ymd(&day))
        rel = "tomorrow";
    if (rel) {
        snprintf(buf, HB_WHEN_MAX, "%s %s", rel, hm);
        return;
    }
    char date[32];
    strftime(date, sizeof(date), "%a %Y-%m-%d", &t);
    snprintf(buf, HB_WHEN_MAX, "%s %s", date, hm);
}

static const char *const hb_day_names[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};

/* "; no report expected today (Saturday)" when the calendar says so, else "". */
static void hb_add_today(struct strbuf *b, const struct config_check_heartbeat *h, uint64_t now_ms)
{
    struct tm now;
    hb_local(now_ms, &now);
    if (hb_is_expected(h, &now))
        return;
    if (hb_is_excluded(h, &now))
        strbuf_adds(b, "; no report expected today (an excluded date)");
    else
        strbuf_addf(b, "; no report expected today (%s)", hb_day_names[now.tm_wday % 7]);
}

/* ---- reports and the state file ---- */

#define HB_STATE_MAGIC "hale heartbeat state 1"

static void hb_set_message(struct hb_state *s, const char *msg)
{
    size_t n = 0;
    for (; msg && msg[n] && n < HB_MESSAGE_MAX - 1; n++)
        s->message[n] = (unsigned char)msg[n] < 0x20 || msg[n] == 0x7f ? ' ' : msg[n];
    /* Never end inside a UTF-8 sequence. */
    if (msg && msg[n])
        while (n > 0 && ((unsigned char)s->message[n] & 0xc0) == 0x80)
            n--;
    s->message[n] = '\0';
}

static void hb_add(struct hb_state *s, const struct hb_report *r, const char *message)
{
    if (s->n_reports == HB_REPORTS_MAX) {
        if (r->time_ms < s->reports[0].time_ms)
            return; /* older than everything kept */
        memmove(s->reports, s->reports + 1, (HB_REPORTS_MAX - 1) * sizeof(*s->reports));
        s->n_reports--;
    }
    size_t i = s->n_reports;
    while (i > 0 && s->reports[i - 1].time_ms > r->time_ms)
        i--;
    memmove(s->reports + i + 1, s->reports + i, (s->n_reports - i) * sizeof(*s->reports));
    s->reports[i] = *r;
    s->n_reports++;
    if (i == s->n_reports - 1)
        hb_set_message(s, message);
}

static void hb_load(struct hb_state *s)
{
    _cleanup_free_ char *text = NULL;
    if (!s->state_path || check__state_read(s->state_path, HB_STATE_MAX, &text) < 0)
        return;
    size_t magic = strlen(HB_STATE_MAGIC);
    if (strncmp(text, HB_STATE_MAGIC "\n", magic + 1) != 0)
        return;
    _cleanup_free_ char *message = NULL;
    for (char *line = text + magic + 1; *line;) {
        char *end = strchr(line, '\n');
        if (!end)
            break;
        *end = '\0';
        uint64_t t, count;
        unsigned ok, has_count;
        if (sscanf(line, "since %" SCNu64, &t) == 1)
            s->since_ms = t;
        else if (sscanf(line, "file_mtime %" SCNu64, &t) == 1)
            s->file_mtime_ms = t;
        else if (sscanf(line, "report %" SCNu64 " %u %u %" SCNu64, &t, &ok, &has_count, &count) ==
                 4)
            hb_add(s, &(struct hb_report){t, count, ok != 0, has_count != 0}, NULL);
        else if (strncmp(line, "message ", 8) == 0) {
            free(message);
            message = xstrdup(line + 8);
        }
        line = end + 1;
    }
    hb_set_message(s, message);
}

static void hb_save(struct hb_state *s)
{
    if (!s->state_path)
        return;
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, HB_STATE_MAGIC "\nsince %" PRIu64 "\nfile_mtime %" PRIu64 "\n", s->since_ms,
                s->file_mtime_ms);
    for (size_t i = 0; i < s->n_reports; i++) {
        const struct hb_report *r = &s->reports[i];
        strbuf_addf(&b, "report %" PRIu64 " %u %u %" PRIu64 "\n", r->time_ms, (unsigned)r->ok,
                    (unsigned)r->has_count, r->count);
    }
    strbuf_addf(&b, "message %s\n", s->message);
    s->save_err = check__state_write(s->state_path, b.s, b.len);
    strbuf_fini(&b);
}

static void hb_begin(struct hb_state *s, uint64_t now_ms)
{
    if (s->since_ms)
        return;
    s->since_ms = now_ms;
    hb_save(s);
}

int check_heartbeat_report(struct check_host *host, const struct check_heartbeat_report *r)
{
    struct hb_state *s = hb_state_of(host);
    if (!s)
        return HALE_ESTATE;
    uint64_t now = clock_real_ms(s->clock);
    hb_begin(s, now);
    struct hb_report rep = {
            .time_ms = r->time_ms ? r->time_ms : now,
            .count = r->count,
            .ok = r->ok,
            .has_count = r->has_count,
    };
    hb_add(s, &rep, r->message);
    hb_save(s);
    if (host->run_now)
        host->run_now(host);
    return 0;
}

/* ---- the verdict ---- */

/* Reports i0..i1-1 counted as one volume: a count as reported, a bare report as 1. */
static uint64_t hb_volume(const struct hb_state *s, size_t i0, size_t i1)
{
    uint64_t v = 0;
    for (size_t i = i0; i < i1; i++) {
        uint64_t add = s->reports[i].has_count ? s->reports[i].count : 1;
        v = v + add < v ? UINT64_MAX : v + add;
    }
    return v;
}

/*
 * Judges the reports i0..i1-1 that answer one expectation (named by what):
 * the newest says the flow failed, the volume is out of bounds, or all is
 * well. Writes the summary into b.
 */
static enum check_status hb_judge(struct check_run *run, const struct hb_state *s, size_t i0,
                                  size_t i1, const char *what, uint64_t now, struct strbuf *b)
{
    const struct config_check_heartbeat *h = &run->cfg->u.heartbeat;
    const struct hb_report *last = &s->reports[i1 - 1];
    char when[HB_WHEN_MAX];
    hb_when(last->time_ms, now, when);
    uint64_t volume = hb_volume(s, i0, i1);
    check_run_sample(run, "volume", (double)volume, "");

    if (!last->ok) {
        strbuf_addf(b, "%s says the flow failed (%s)", what, when);
        if (s->message[0])
            strbuf_addf(b, ": %s", s->message);
        return CHECK_STATUS_CRITICAL;
    }
    bool below = volume < h->min_count;
    bool above = h->max_count != CONFIG_UNSET && volume > h->max_count;
    if (below || above) {
        strbuf_addf(b, "%s is short: %" PRIu64 " item%s, expected ", what, volume,
                    volume == 1 ? "" : "s");
        if (below)
            strbuf_addf(b, "at least %u", h->min_count);
        else
            strbuf_addf(b, "at most %u", h->max_count);
        strbuf_addf(b, " (%s)", when);
        return volume == 0 ? CHECK_STATUS_CRITICAL : CHECK_STATUS_WARNING;
    }
    strbuf_addf(b, "%s arrived (%s", what, when);
    if (last->has_count)
        strbuf_addf(b, ", %" PRIu64 " item%s", last->count, last->count == 1 ? "" : "s");
    strbuf_adds(b, ")");
    if (s->message[0])
        strbuf_addf(b, ": %s", s->message);
    return CHECK_STATUS_OK;
}

static void hb_last_report(const struct hb_state *s, uint64_t now, struct strbuf *b)
{
    if (!s->n_reports) {
        strbuf_adds(b, " (no report yet)");
        return;
    }
    char when[HB_WHEN_MAX];
    hb_when(s->reports[s->n_reports - 1].time_ms, now, when);
    strbuf_addf(b, " (last report %s)", when);
}

/*
 * With a daily deadline: a report answers the first deadline it precedes,
 * or the one it follows by at most the grace (it is then late). No report
 * by the deadline is missing at once.
 */
static enum check_status hb_eval_deadline(struct check_run *run, const struct hb_state *s,
                                          uint64_t now, struct strbuf *b)
{
    const struct config_check_heartbeat *h = &run->cfg->u.heartbeat;
    uint64_t grace = hb_grace(s, run->cfg);
    char what[64], when[HB_WHEN_MAX];
    snprintf(what, sizeof(what), "the %02u:%02u report", h->deadline_min / 60,
             h->deadline_min % 60);

    uint64_t due, prev, next;
    if (!hb_deadline_before(h, now, &due)) {
        if (hb_deadline_after(h, now, &next)) {
            hb_when(next, now, when);
            strbuf_addf(b, "%s is due %s", what, when);
        } else {
            strbuf_addf(b, "no report is expected: the calendar excludes every day");
        }
        return CHECK_STATUS_OK;
    }
    uint64_t open = hb_deadline_before(h, due - 1, &prev) ? prev + grace : 0;
    uint64_t close = due + grace;

    /* Reports for the next deadline already (past this one's grace)? */
    size_t i0 = s->n_reports;
    while (i0 > 0 && s->reports[i0 - 1].time_ms > close)
        i0--;
    if (i0 < s->n_reports)
        return hb_judge(run, s, i0, s->n_reports, what, now, b);
    /* Reports for this deadline? */
    size_t j0 = i0;
    while (j0 > 0 && s->reports[j0 - 1].time_ms > open)
        j0--;
    enum check_status st;
    if (j0 < i0 && s->reports[j0].time_ms > due) {
        /* Only after the deadline, within the grace: late, whatever it says. */
        struct strbuf judged;
        strbuf_init(&judged, 0);
        st = hb_judge(run, s, j0, i0, what, now, &judged);
        if (st == CHECK_STATUS_OK) {
            hb_when(s->reports[j0].time_ms, now, when);
            strbuf_addf(b, "%s arrived late (%s, due %02u:%02u)", what, when, h->deadline_min / 60,
                        h->deadline_min % 60);
            st = CHECK_STATUS_WARNING;
        } else {
            strbuf_adds(b, judged.s);
        }
        strbuf_fini(&judged);
    } else if (j0 < i0) {
        st = hb_judge(run, s, j0, i0, what, now, b);
    } else if (due < s->since_ms) {
        hb_deadline_after(h, now, &next);
        hb_when(next, now, when);
        strbuf_addf(b, "waiting for %s, due %s", what, when);
        st = CHECK_STATUS_OK;
    } else {
        strbuf_addf(b, "%s has not arrived", what);
        hb_last_report(s, now, b);
        st = CHECK_STATUS_CRITICAL;
    }
    hb_add_today(b, h, now);
    return st;
}

/* Without a deadline: a report every `every`. */
static enum check_status hb_eval_interval(struct check_run *run, const struct hb_state *s,
                                          uint64_t now, struct strbuf *b)
{
    const struct config_check_heartbeat *h = &run->cfg->u.heartbeat;
    uint64_t every = run->cfg->every_ms, grace = hb_grace(s, run->cfg);
    char every_s[UNITS_DURATION_MAX], age_s[UNITS_DURATION_MAX], when[HB_WHEN_MAX];
    units_duration_format(every, every_s, sizeof(every_s));

    uint64_t last = s->n_reports ? s->reports[s->n_reports - 1].time_ms : 0;
    if (last && now < last + every) {
        size_t i0 = s->n_reports;
        while (i0 > 0 && s->reports[i0 - 1].time_ms + every > now)
            i0--;
        char what[UNITS_DURATION_MAX + 32];
        snprintf(what, sizeof(what), "the report due every %s", every_s);
        return hb_judge(run, s, i0, s->n_reports, what, now, b);
    }
    uint64_t due = hb_interval_due(h, every, last ? last : s->since_ms);
    enum check_status st;
    if (now < due) {
        hb_when(due, now, when);
        strbuf_addf(b, "the next report is due %s (every %s)", when, every_s);
        st = CHECK_STATUS_OK;
    } else {
        units_duration_format(now - (last ? last : s->since_ms), age_s, sizeof(age_s));
        bool late = now < due + grace;
        strbuf_addf(b, "%s: no report for %s, expected every %s", late ? "late" : "missing", age_s,
                    every_s);
        hb_last_report(s, now, b);
        st = late ? CHECK_STATUS_WARNING : CHECK_STATUS_CRITICAL;
    }
    hb_add_today(b, h, now);
    return st;
}

static void hb_finish(struct hb_state *s, struct check_run *run)
{
    uint64_t now = clock_real_ms(s->clock);
    hb_begin(s, now);
    if (s->save_err)
        check__note(&run->obs, "cannot write the state file %s: %s", s->state_path,
                    hale_strerror(s->save_err));
    if (s->n_reports) {
        uint64_t last = s->reports[s->n_reports - 1].time_ms;
        check_run_sample(run, "age", last < now ? (double)(now - last) / 1000.0 : 0, "s");
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    enum check_status st = run->cfg->u.heartbeat.deadline_min == CONFIG_UNSET
                                   ? hb_eval_interval(run, s, now, &b)
                                   : hb_eval_deadline(run, s, now, &b);
    check_run_finish(run, st, "%s", b.s);
    strbuf_fini(&b);
}

/* ---- the run ---- */

static void hb_stat_done(uv_fs_t *req)
{
    struct hb_state *s = req->data;
    struct check_run *run = s->run;
    s->run = NULL;
    if (req->result == 0) {
        const uv_timespec_t *m = &req->statbuf.st_mtim;
        uint64_t mtime = (uint64_t)m->tv_sec * 1000u + (uint64_t)m->tv_nsec / 1000000u;
        if (mtime > s->file_mtime_ms) {
            s->file_mtime_ms = mtime;
            hb_add(s, &(struct hb_report){.time_ms = mtime, .ok = true}, NULL);
            hb_save(s);
        }
    } else if (req->result != UV_ENOENT && req->result != UV_ECANCELED) {
        check__note(&run->obs, "cannot look at %s: %s", s->path, uv_strerror((int)req->result));
    }
    uv_fs_req_cleanup(req);
    hb_finish(s, run);
}

static void hb_start(struct check_run *run)
{
    struct hb_state *s = hb_state_of(run->host);
    if (!s) {
        check_run_finish(run, CHECK_STATUS_UNKNOWN, "the heartbeat check was not set up");
        return;
    }
    if (!s->path) {
        hb_finish(s, run);
        return;
    }
    s->run = run;
    s->stat_req.data = s;
    int r = uv_fs_stat(run->uv, &s->stat_req, s->path, hb_stat_done);
    if (r < 0) {
        s->run = NULL;
        check__note(&run->obs, "cannot look at %s: %s", s->path, uv_strerror(r));
        hb_finish(s, run);
    }
}

static void hb_abort(struct check_run *run)
{
    struct hb_state *s = hb_state_of(run->host);
    /* Whether or not it was cancelled, hb_stat_done() finishes the run. */
    if (s && s->run)
        (void)uv_cancel((uv_req_t *)&s->stat_req);
}

static void hb_detach(struct check_host *host)
{
    struct hb_state *s = host->kind_state;
    if (!s)
        return;
    free(s->state_path);
    free(s->path);
    free(s);
    host->kind_state = NULL;
}

static int hb_attach(struct check_host *host, struct err *e)
{
    (void)e;
    struct hb_state *s = xcalloc(1, sizeof(*s));
    s->clock = &clock_system;
    s->state_path = check__state_path(host, "heartbeat");
    hb_load(s);
    host->kind_state = s;
    const struct config_check_heartbeat *cfg = &host->cfg->u.heartbeat;
    if (cfg->path)
        check_heartbeat__set_path(host, cfg->path);
    if (cfg->grace_ms != CONFIG_UNSET64)
        check_heartbeat__set_grace(host, cfg->grace_ms);
    return 0;
}

const struct check_kind check_kind_heartbeat = {
        .type = CONFIG_CHECK_HEARTBEAT,
        .attach = hb_attach,
        .detach = hb_detach,
        .start = hb_start,
        .abort = hb_abort,
};
