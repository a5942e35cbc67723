/* SPDX-License-Identifier: MIT */
/*
 * Silences and maintenance windows: label matchers with a time span, once
 * (starts..ends) or every week ("Mon-Fri 22:00-06:00"), written in the
 * configuration or created through the API and the CLI. An event a silence
 * matches while it is active is recorded but opens nothing and pages no
 * one. A silence may be bound to an incident (`--until-resolved`): it ends
 * when that incident resolves.
 *
 * Plain data and pure functions of (silence, event, now_ms): the store
 * keeps silences, the desk ends the bound ones, the engine asks whether
 * one holds an event back. Weekly windows are in the daemon's local time
 * (base/weekly.h).
 */
#ifndef HALE_ENGINE_SILENCE_H
#define HALE_ENGINE_SILENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/labels.h"
#include "base/weekly.h"
#include "config/config.h"
#include "engine/event.h"

/* Persisted and sent over the API: append only. */
enum silence_state {
    SILENCE_PENDING, /* not yet started, or weekly and between two windows */
    SILENCE_ACTIVE,  /* holding matching events back now */
    SILENCE_EXPIRED, /* over: past its end, or its incident resolved; kept for history */
};

enum silence_source {
    SILENCE_SOURCE_CONFIG, /* the `silences` section */
    SILENCE_SOURCE_API,    /* the API, `hale silence add` */
};

struct silence {
    int64_t id; /* the store's; 0 until stored */
    enum silence_source source;
    struct labels_matchers *matchers;
    char *matchers_text; /* canonical, {service="web"} */
    int64_t starts_ms;   /* Unix ms; 0: in force from the start */
    int64_t ends_ms;     /* Unix ms; 0: no fixed end (weekly, or until its incident resolves) */
    bool weekly;         /* recurs: active inside window each week, between starts and ends */
    struct weekly_window window; /* when weekly */
    int64_t incident_id;         /* bound: ends when this incident resolves; 0: none */
    char *comment;               /* "" when none */
    char *created_by;            /* "user:alice", "config" */
    int64_t created_ms;
};

/* A zeroed silence from the API, with empty comment and created_by. Free with silence_fini(). */
void silence_init(struct silence *s);
/* Frees what s holds and zeroes it. Accepts NULL and a zeroed silence. */
void silence_fini(struct silence *s);

/*
 * Parses text as a matcher list (base/labels.h) into s, replacing what it
 * held, and keeps its canonical form in matchers_text. Returns 0, or
 * HALE_EPARSE with e saying why (s unchanged).
 */
int silence_matchers_set(struct silence *s, const char *text, struct err *e);

/*
 * Whether s is complete and sensible: matchers that need at least one
 * label to have a value (so {} or {env!="prod"} alone, which match an
 * event without labels, are refused: they would hold back everything);
 * an end, a weekly window or a bound incident; an end after the start.
 * Returns 0, or -EINVAL with e saying what to change, for a person.
 */
int silence_check(const struct silence *s, struct err *e);

/*
 * Copies the silence cs of the configuration into ret (initialised here;
 * free with silence_fini()), source config, created_by "config".
 */
void silence_from_config(const struct config_silence *cs, int64_t created_ms, struct silence *ret);

enum silence_state silence_state(const struct silence *s, int64_t now_ms);
/* Whether s holds matching events back at now_ms. */
bool silence_active(const struct silence *s, int64_t now_ms);
/* Whether s is active at now_ms and its matchers accept ev's labels. */
bool silence_matches(const struct silence *s, const struct event *ev, int64_t now_ms);

/* Ends s at now_ms (expired from then on); a silence already over is left as it is. */
void silence_end(struct silence *s, int64_t now_ms);

/* "pending", "active", "expired"; "config", "api". Static storage. */
const char *silence_state_name(enum silence_state st);
int silence_state_parse(const char *s, enum silence_state *ret);
const char *silence_source_name(enum silence_source src);

#endif
