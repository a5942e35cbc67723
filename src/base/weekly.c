/* SPDX-License-Identifier: MIT */
/*
 * Weekly windows: the parser of "Mon-Fri 22:00-06:00", its canonical
 * form, and the test of a local time against it. A window that crosses
 * midnight belongs to the day it starts on, so its early hours are looked
 * up on the day before.
 */
#include "base/weekly.h"

#include <strings.h>

static const char *const day_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};

struct wparser {
    const char *s;
    size_t pos;
    struct err *e;
    size_t *ret_offset;
};

static int wfail(struct wparser *p, size_t offset, const char *what)
{
    if (p->ret_offset)
        *p->ret_offset = offset;
    return err_setf(p->e, HALE_EPARSE, "%s", what);
}

static void skip_space(struct wparser *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t')
        p->pos++;
}

static int parse_day(struct wparser *p, unsigned *ret_day)
{
    for (unsigned d = 0; d < 7; d++) {
        if (strncasecmp(p->s + p->pos, day_names[d], 3) == 0) {
            p->pos += 3;
            *ret_day = d;
            return 0;
        }
    }
    return wfail(p, p->pos, "expected a day: Mon, Tue, Wed, Thu, Fri, Sat or Sun");
}

/* "Mon" or "Fri-Mon" (wrapping past Sunday) into *days. */
static int parse_day_spec(struct wparser *p, unsigned *days)
{
    unsigned first, last;
    int r = parse_day(p, &first);
    if (r < 0)
        return r;
    last = first;
    if (p->s[p->pos] == '-') {
        p->pos++;
        r = parse_day(p, &last);
        if (r < 0)
            return r;
    }
    for (unsigned d = first;; d = (d + 1) % 7) {
        *days |= 1u << d;
        if (d == last)
            break;
    }
    return 0;
}

static bool two_digits(const char *s, unsigned *ret)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return false;
    *ret = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
    return true;
}

/* HH:MM, 00:00 to 23:59, or 24:00 when end is set. */
static int parse_time(struct wparser *p, bool end, unsigned *ret_min)
{
    const char *t = p->s + p->pos;
    unsigned h, m;
    if (!two_digits(t, &h) || t[2] != ':' || !two_digits(t + 3, &m))
        return wfail(p, p->pos, "expected a time of day such as 22:00");
    if (m > 59 || h > 24 || (h == 24 && (m != 0 || !end)))
        return wfail(p, p->pos,
                     end ? "expected a time from 00:00 to 24:00"
                         : "expected a time from 00:00 to 23:59");
    p->pos += 5;
    *ret_min = h * 60 + m;
    return 0;
}

static int parse_days(struct wparser *p, unsigned *days)
{
    for (;;) {
        int r = parse_day_spec(p, days);
        if (r < 0)
            return r;
        skip_space(p);
        if (p->s[p->pos] != ',')
            return 0;
        p->pos++;
        skip_space(p);
    }
}

int weekly_window_parse(const char *s, struct weekly_window *ret, struct err *e, size_t *ret_offset)
{
    struct wparser p = {.s = s, .e = e, .ret_offset = ret_offset};
    struct weekly_window w = {0};
    skip_space(&p);
    int r = parse_days(&p, &w.days);
    if (r < 0)
        return r;
    size_t start_pos = p.pos;
    if ((r = parse_time(&p, false, &w.start_min)) < 0)
        return r;
    skip_space(&p);
    if (s[p.pos] != '-')
        return wfail(&p, p.pos, "expected '-' and the end of the window, as in 22:00-06:00");
    p.pos++;
    skip_space(&p);
    if ((r = parse_time(&p, true, &w.end_min)) < 0)
        return r;
    skip_space(&p);
    if (s[p.pos])
        return wfail(&p, p.pos, "unexpected text after the window");
    if (w.start_min == w.end_min)
        return wfail(&p, start_pos,
                     "the window is empty: it starts and ends at the same time (write "
                     "00:00-24:00 for a whole day)");
    *ret = w;
    return 0;
}

/* Day d counted from Monday (0) to Sunday (6), as tm_wday. */
static unsigned from_monday(unsigned d)
{
    return (d + 1) % 7;
}

int weekly_window_format(const struct weekly_window *w, struct strbuf *out)
{
    int r = 0;
    const char *sep = "";
    for (unsigned i = 0; i < 7 && r == 0;) {
        if (!(w->days & (1u << from_monday(i)))) {
            i++;
            continue;
        }
        unsigned j = i; /* the run of days i..j, Monday first, as people write weeks */
        while (j + 1 < 7 && (w->days & (1u << from_monday(j + 1))))
            j++;
        if (j - i >= 2) {
            r = strbuf_addf(out, "%s%s-%s", sep, day_names[from_monday(i)],
                            day_names[from_monday(j)]);
            sep = ",";
        } else {
            for (unsigned d = i; d <= j && r == 0; d++) {
                r = strbuf_addf(out, "%s%s", sep, day_names[from_monday(d)]);
                sep = ",";
            }
        }
        i = j + 1;
    }
    if (r == 0)
        r = strbuf_addf(out, " %02u:%02u-%02u:%02u", w->start_min / 60, w->start_min % 60,
                        w->end_min / 60, w->end_min % 60);
    return r;
}

bool weekly_window_contains(const struct weekly_window *w, const struct tm *tm)
{
    unsigned day = (unsigned)tm->tm_wday % 7;
    unsigned min = (unsigned)(tm->tm_hour * 60 + tm->tm_min);
    bool today = w->days & (1u << day);
    if (w->end_min > w->start_min)
        return today && min >= w->start_min && min < w->end_min;
    /* Crosses midnight: the evening belongs to today's window, the early hours to yesterday's. */
    bool yesterday = w->days & (1u << ((day + 6) % 7));
    return (today && min >= w->start_min) || (yesterday && min < w->end_min);
}

bool weekly_window_contains_ms(const struct weekly_window *w, int64_t now_ms)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return false;
    return weekly_window_contains(w, &tm);
}
