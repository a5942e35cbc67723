/* SPDX-License-Identifier: MIT */
/*
 * Silences: when one is in force, whether it holds an event back, and how
 * one ends early (by hand, or because the incident it was bound to
 * resolved). Everything here is a function of the silence and the time
 * given; nothing reads a clock.
 */
#include "engine/silence.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"

void silence_init(struct silence *s)
{
    memset(s, 0, sizeof(*s));
    s->source = SILENCE_SOURCE_API;
    s->comment = xstrdup("");
    s->created_by = xstrdup("");
}

void silence_fini(struct silence *s)
{
    if (!s)
        return;
    labels_matchers_free(s->matchers);
    free(s->matchers_text);
    free(s->comment);
    free(s->created_by);
    memset(s, 0, sizeof(*s));
}

int silence_matchers_set(struct silence *s, const char *text, struct err *e)
{
    struct labels_matchers *m;
    int r = labels_matchers_parse(text, &m, e, NULL);
    if (r < 0)
        return r;
    struct strbuf b;
    strbuf_init(&b, 0);
    labels_matchers_format(m, &b);
    labels_matchers_free(s->matchers);
    free(s->matchers_text);
    s->matchers = m;
    s->matchers_text = strbuf_detach(&b, NULL);
    return 0;
}

int silence_check(const struct silence *s, struct err *e)
{
    struct labels none = {0};
    if (!s->matchers || s->matchers->n == 0)
        return err_setf(e, -EINVAL,
                        "a silence needs matchers that name what it silences, such as "
                        "{service=\"web\"}");
    if (labels_matchers_match(s->matchers, &none))
        return err_setf(e, -EINVAL,
                        "the matchers %s also match an event without labels, so the silence "
                        "would hold back every event; give at least one label a value to match, "
                        "such as service=\"web\"",
                        s->matchers_text ? s->matchers_text : "");
    if (s->weekly && (s->window.days == 0 || s->window.start_min >= 1440 ||
                      s->window.end_min > 1440 || s->window.start_min == s->window.end_min))
        return err_setf(e, -EINVAL, "the weekly window is empty or out of range");
    if (!s->weekly && s->ends_ms == 0 && s->incident_id == 0)
        return err_setf(e, -EINVAL,
                        "a silence needs an end: a duration, an end time, a weekly window or an "
                        "incident to last until it resolves");
    if (s->ends_ms && s->ends_ms <= s->starts_ms)
        return err_setf(e, -EINVAL, "a silence must end after it starts");
    return 0;
}

void silence_from_config(const struct config_silence *cs, int64_t created_ms, struct silence *ret)
{
    silence_init(ret);
    ret->source = SILENCE_SOURCE_CONFIG;
    /* The text parsed once already, at load time: it cannot fail now. */
    if (silence_matchers_set(ret, cs->match_text, NULL) < 0)
        abort();
    ret->starts_ms = cs->starts_ms;
    ret->ends_ms = cs->ends_ms;
    ret->weekly = cs->weekly;
    ret->window = cs->window;
    free(ret->comment);
    ret->comment = xstrdup(cs->comment ? cs->comment : "");
    free(ret->created_by);
    ret->created_by = xstrdup("config");
    ret->created_ms = created_ms;
}

enum silence_state silence_state(const struct silence *s, int64_t now_ms)
{
    if (s->ends_ms && now_ms >= s->ends_ms)
        return SILENCE_EXPIRED;
    if (now_ms < s->starts_ms)
        return SILENCE_PENDING;
    if (s->weekly && !weekly_window_contains_ms(&s->window, now_ms))
        return SILENCE_PENDING;
    return SILENCE_ACTIVE;
}

bool silence_active(const struct silence *s, int64_t now_ms)
{
    return silence_state(s, now_ms) == SILENCE_ACTIVE;
}

bool silence_matches(const struct silence *s, const struct event *ev, int64_t now_ms)
{
    return s->matchers && silence_active(s, now_ms) &&
           labels_matchers_match(s->matchers, &ev->labels);
}

void silence_end(struct silence *s, int64_t now_ms)
{
    if (s->ends_ms && s->ends_ms <= now_ms)
        return;
    s->ends_ms = now_ms;
    if (s->starts_ms > now_ms) /* never started: it is over before it began */
        s->starts_ms = now_ms;
}

static const char *const state_names[] = {"pending", "active", "expired"};

const char *silence_state_name(enum silence_state st)
{
    return (size_t)st < 3 ? state_names[st] : "expired";
}

int silence_state_parse(const char *s, enum silence_state *ret)
{
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(s, state_names[i]) == 0) {
            *ret = (enum silence_state)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *silence_source_name(enum silence_source src)
{
    return src == SILENCE_SOURCE_CONFIG ? "config" : "api";
}
