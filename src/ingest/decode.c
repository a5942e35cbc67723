/* SPDX-License-Identifier: MIT */
/*
 * The pieces both decoders are made of: label-like objects read under
 * limits, RFC 3339 times with Alertmanager's "unset", one-line summaries,
 * severities named by a label, and errors that name the field and say
 * what to do.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "ingest/internal.h"

/* Go's zero time.Time, which Alertmanager writes for "no end yet". */
#define GO_ZERO_TIME_MS (-62135596800000LL)

int ingest__fail(struct ingest_error *e, int code, int index, const char *field, const char *fmt,
                 ...)
{
    if (!e)
        return code;
    e->index = index;
    e->line = e->column = 0;
    snprintf(e->field, sizeof(e->field), "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return code;
}

/* The length of s's first n bytes or fewer that ends on a character boundary. */
static size_t char_boundary(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

char *ingest__cut(const char *s, size_t len, size_t max)
{
    if (len <= max)
        return xstrndup(s, len);
    size_t keep = char_boundary(s, max - 3);
    char *r = xmalloc(keep + 4);
    memcpy(r, s, keep);
    memcpy(r + keep, "...", 4);
    return r;
}

const char *ingest__excerpt(const char *s, char buf[INGEST__EXCERPT_MAX])
{
    size_t len = strlen(s);
    if (len < INGEST__EXCERPT_MAX)
        return s;
    size_t keep = char_boundary(s, INGEST__EXCERPT_MAX - 4);
    memcpy(buf, s, keep);
    memcpy(buf + keep, "...", 4);
    return buf;
}

json_t *ingest__json_mut(const json_t *j)
{
    union {
        const json_t *c;
        json_t *m;
    } u = {.c = j};
    return u.m;
}

/* "labels.NAME", the field of a pair's error, into buf. */
static const char *pair_field(const struct ingest__pairs_rules *rules, const char *label,
                              char buf[sizeof(((struct ingest_error *)0)->field)])
{
    snprintf(buf, sizeof(((struct ingest_error *)0)->field), "%s.%s", rules->field, label);
    return buf;
}

/*
 * The checks of a pair's value, s of len bytes: without its NULs when
 * tolerant (s and len then point to a copy in *tmp, to free).
 */
static int pair_value_check(const char **s, size_t *len, const struct ingest__pairs_rules *rules,
                            int index, const char *label, char **tmp, struct ingest_error *e)
{
    char field[sizeof(e->field)];
    bool has_nul = memchr(*s, '\0', *len) != NULL;
    if (has_nul && rules->tolerant) {
        char *without_nul = xmalloc(*len + 1);
        size_t n = 0;
        for (size_t i = 0; i < *len; i++)
            if ((*s)[i])
                without_nul[n++] = (*s)[i];
        without_nul[n] = '\0';
        *tmp = without_nul;
        *s = without_nul;
        *len = n;
    } else if (has_nul) {
        return ingest__fail(e, HALE_EPARSE, index, pair_field(rules, label, field),
                            "%s contains a NUL character (\\u0000): remove it", field);
    }
    if (*len == 0 && !rules->empty_values_ok)
        return ingest__fail(e, HALE_EPARSE, index, pair_field(rules, label, field),
                            "%s is empty: give it a value, or leave the label out (an empty "
                            "label is no label)",
                            field);
    if (*len > rules->value_max && !rules->cut_long)
        return ingest__fail(e, HALE_ELIMIT, index, pair_field(rules, label, field),
                            "%s has %zu bytes, more than the %zu allowed: shorten it", field, *len,
                            rules->value_max);
    return 0;
}

int ingest__pair_value(const char *s, size_t len, const struct ingest__pairs_rules *rules,
                       int index, const char *label, struct event_block *block, char **ret,
                       struct ingest_error *e)
{
    _cleanup_free_ char *tmp = NULL;
    int r = pair_value_check(&s, &len, rules, index, label, &tmp, e);
    if (r < 0)
        return r;
    if (block && len <= rules->value_max) {
        *ret = event_block_strndup(block, s, len);
        return 0;
    }
    char *cut = ingest__cut(s, len, rules->value_max);
    if (!block) {
        *ret = cut;
        return 0;
    }
    /* Only under rules->cut_long; rare enough to cut apart and copy in. */
    *ret = event_block_strndup(block, cut, strlen(cut));
    free(cut);
    return 0;
}

/* One pair's value, checked under rules; a new string in *ret. */
static int pair_value(const json_t *v, const struct ingest__pairs_rules *rules, int index,
                      const char *label, char **ret, struct ingest_error *e)
{
    if (!json_is_string(v))
        return ingest__pair_not_string(rules, index, label, e);
    return ingest__pair_value(json_string_value(v), json_string_length(v), rules, index, label,
                              NULL, ret, e);
}

int ingest__pair_not_string(const struct ingest__pairs_rules *rules, int index, const char *label,
                            struct ingest_error *e)
{
    char field[sizeof(e->field)];
    return ingest__fail(e, HALE_EPARSE, index, pair_field(rules, label, field),
                        "%s must be a string: put numbers and booleans in quotes", field);
}

/* name as a Prometheus name: each byte that may not be in one becomes '_'; into buf. */
static const char *escape_name(const char *name, char buf[static INGEST_NAME_MAX + 2])
{
    size_t n = 0;
    if (*name >= '0' && *name <= '9')
        buf[n++] = '_';
    for (; *name && n < INGEST_NAME_MAX + 1; name++) {
        char c = *name;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        buf[n++] = ok ? c : '_';
    }
    buf[n] = '\0';
    return buf;
}

int ingest__pair_name(const char *name, size_t len, const struct ingest__pairs_rules *rules,
                      int index, char escaped[INGEST_NAME_MAX + 2], const char **ret,
                      struct ingest_error *e)
{
    char buf[INGEST__EXCERPT_MAX];
    if (len > INGEST_NAME_MAX)
        return ingest__fail(e, HALE_ELIMIT, index, rules->field,
                            "%s: the name \"%s\" is longer than %d bytes: shorten it", rules->field,
                            ingest__excerpt(name, buf), INGEST_NAME_MAX);
    const char *label = name;
    if (!labels_name_is_valid(label) && rules->tolerant)
        label = escape_name(label, escaped);
    /* Escaping puts a '_' before a leading digit: one byte more. */
    if (label != name && strlen(label) > INGEST_NAME_MAX)
        return ingest__fail(e, HALE_ELIMIT, index, rules->field,
                            "%s: the name \"%s\" is longer than %d bytes once made a valid name: "
                            "shorten it",
                            rules->field, ingest__excerpt(label, buf), INGEST_NAME_MAX);
    if (!labels_name_is_valid(label))
        return ingest__fail(e, HALE_EPARSE, index, rules->field,
                            "%s: \"%s\" is not a valid name: use letters, digits and _, not "
                            "starting with a digit",
                            rules->field, ingest__excerpt(label, buf));
    *ret = label;
    return 0;
}

int ingest__pairs_count(size_t n, const struct ingest__pairs_rules *rules, int index,
                        struct ingest_error *e)
{
    if (n <= rules->count_max)
        return 0;
    return ingest__fail(e, HALE_ELIMIT, index, rules->field,
                        "%s has %zu names, more than the %zu allowed: keep the ones that matter",
                        rules->field, n, rules->count_max);
}

int ingest__pairs_not_object(const struct ingest__pairs_rules *rules, int index,
                             struct ingest_error *e)
{
    return ingest__fail(e, HALE_EPARSE, index, rules->field,
                        "%s must be an object of names and string values, such as "
                        "{\"service\": \"web\"}",
                        rules->field);
}

int ingest__pairs_add(const json_t *v, const struct ingest__pairs_rules *rules, int index,
                      struct labels *out, struct ingest_error *e)
{
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_object(v))
        return ingest__pairs_not_object(rules, index, e);
    int r = ingest__pairs_count(json_object_size(v), rules, index, e);
    if (r < 0)
        return r;
    const char *name;
    json_t *value;
    json_object_foreach(ingest__json_mut(v), name, value)
    {
        /* Not name itself: the loop finds the next member by it. */
        char escaped[INGEST_NAME_MAX + 2];
        const char *label;
        r = ingest__pair_name(name, strlen(name), rules, index, escaped, &label, e);
        char *s = NULL;
        if (r == 0)
            r = pair_value(value, rules, index, label, &s, e);
        if (r < 0)
            return r;
        labels_take(out, xstrdup(label), s); /* the name is valid */
    }
    return 0;
}

int ingest__time_text(const char *s, size_t len, const char *field, int index, bool early_unset,
                      int64_t *ret_ms, struct ingest_error *e)
{
    int64_t ms;
    char buf[INGEST__EXCERPT_MAX];
    if (strlen(s) != len || clock_parse_rfc3339_ms(s, &ms) < 0)
        return ingest__fail(e, HALE_EPARSE, index, field,
                            "%s must be an RFC 3339 time such as \"2026-11-21T14:59:25Z\" or "
                            "\"2026-11-21T15:59:25.123+01:00\", not \"%s\"",
                            field, ingest__excerpt(s, buf));
    if (ms == GO_ZERO_TIME_MS || (ms <= 0 && early_unset))
        ms = 0;
    else if (ms <= 0)
        return ingest__fail(e, HALE_EPARSE, index, field,
                            "%s is not after 1970: give the real time, or leave %s out", field,
                            field);
    *ret_ms = ms;
    return 0;
}

int ingest__time_not_string(const char *field, int index, struct ingest_error *e)
{
    return ingest__fail(e, HALE_EPARSE, index, field,
                        "%s must be a string holding an RFC 3339 time, such as "
                        "\"2026-11-21T14:59:25Z\"",
                        field);
}

int ingest__time(const json_t *v, const char *field, int index, bool early_unset, int64_t *ret_ms,
                 struct ingest_error *e)
{
    if (!v || json_is_null(v)) {
        *ret_ms = 0;
        return 0;
    }
    const char *s = json_string_value(v);
    if (!s)
        return ingest__time_not_string(field, index, e);
    return ingest__time_text(s, json_string_length(v), field, index, early_unset, ret_ms, e);
}

static bool is_blank(unsigned char c)
{
    return c <= ' ' || c == 0x7f;
}

char *ingest__one_line(const char *s)
{
    size_t len = strlen(s);
    _cleanup_free_ char *folded = xmalloc(len + 1);
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (!is_blank(*p))
            folded[n++] = (char)*p;
        else if (n > 0 && folded[n - 1] != ' ')
            folded[n++] = ' ';
    }
    if (n > 0 && folded[n - 1] == ' ')
        n--;
    return ingest__cut(folded, n, INGEST_SUMMARY_MAX);
}

static bool has_text(const char *s)
{
    for (; *s; s++)
        if (!is_blank((unsigned char)*s))
            return true;
    return false;
}

char *ingest__summary_of_labels(const struct labels *l)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    /* A blank alertname is written as the others are, "alertname=", so
     * that a label set is never summed up as nothing. */
    const char *alertname = labels_get(l, "alertname");
    if (alertname && !has_text(alertname))
        alertname = NULL;
    if (alertname)
        strbuf_adds(&b, alertname);
    const char *sep = alertname ? ": " : "";
    for (size_t i = 0; i < l->n && b.len <= INGEST_SUMMARY_MAX; i++) {
        if (alertname && strcmp(l->v[i].name, "alertname") == 0)
            continue;
        strbuf_addf(&b, "%s%s=%s", sep, l->v[i].name, l->v[i].value);
        sep = ", ";
    }
    char *r = ingest__one_line(b.s);
    strbuf_fini(&b);
    return r;
}

bool ingest__severity_of_label(const char *value, enum incident_severity *ret)
{
    /* The usual words of Prometheus rules, syslog and paging tools. hale has
     * three severities, so "error" and "page" (someone must act now) are
     * critical, and "none" (kube-prometheus's Watchdog) is info. */
    static const struct {
        const char *word;
        enum incident_severity severity;
    } words[] = {
            {"critical", INCIDENT_SEVERITY_CRITICAL},  {"crit", INCIDENT_SEVERITY_CRITICAL},
            {"error", INCIDENT_SEVERITY_CRITICAL},     {"err", INCIDENT_SEVERITY_CRITICAL},
            {"page", INCIDENT_SEVERITY_CRITICAL},      {"fatal", INCIDENT_SEVERITY_CRITICAL},
            {"emergency", INCIDENT_SEVERITY_CRITICAL}, {"alert", INCIDENT_SEVERITY_CRITICAL},
            {"high", INCIDENT_SEVERITY_CRITICAL},      {"major", INCIDENT_SEVERITY_CRITICAL},
            {"warning", INCIDENT_SEVERITY_WARNING},    {"warn", INCIDENT_SEVERITY_WARNING},
            {"medium", INCIDENT_SEVERITY_WARNING},     {"minor", INCIDENT_SEVERITY_WARNING},
            {"info", INCIDENT_SEVERITY_INFO},          {"informational", INCIDENT_SEVERITY_INFO},
            {"notice", INCIDENT_SEVERITY_INFO},        {"low", INCIDENT_SEVERITY_INFO},
            {"none", INCIDENT_SEVERITY_INFO},          {"debug", INCIDENT_SEVERITY_INFO},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasecmp(value, words[i].word) == 0) {
            *ret = words[i].severity;
            return true;
        }
    return false;
}

char *ingest__summary_of(const struct event *ev)
{
    static const char *const names[] = {"summary", "description"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *s = labels_get(&ev->annotations, names[i]);
        char *r = s ? ingest__one_line(s) : NULL;
        if (r && *r)
            return r;
        free(r);
    }
    return ingest__summary_of_labels(&ev->labels);
}

void ingest__summary_set(struct event *ev, char *s)
{
    if (ev->block) {
        ev->summary = event_block_strndup(ev->block, s, strlen(s));
        free(s);
        return;
    }
    free(ev->summary);
    ev->summary = s;
}

void ingest_events_free(struct event *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        event_fini(&v[i]);
    free(v);
}
