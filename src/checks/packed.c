/* SPDX-License-Identifier: MIT */
/*
 * An observation packed into one allocation: what the runner keeps of each
 * check's last run, for as long as the check exists. A struct
 * check_observation spreads a run over an allocation per text and per label
 * and gives every sample 128 bytes, room for thresholds that few samples
 * have; packed, the last run of an http check takes about 110 bytes instead
 * of some 580. Samples come first, each a flags byte, its numbers (the
 * thresholds only when set) and its label and unit; then the texts.
 */
#include <stddef.h>
#include <string.h>

#include "base/alloc.h"
#include "checks/internal.h"

/* What a packed sample holds besides its value, label and unit. */
enum {
    SAMPLE_HAS_VALUE = 1u << 0,
    SAMPLE_HAS_WARN = 1u << 1,
    SAMPLE_HAS_CRIT = 1u << 2,
    SAMPLE_HAS_MIN = 1u << 3,
    SAMPLE_HAS_MAX = 1u << 4,
    SAMPLE_WARN_INSIDE = 1u << 5,
    SAMPLE_CRIT_INSIDE = 1u << 6,
    SAMPLE_NO_HISTORY = 1u << 7,
};

/* Which texts follow the summary. */
enum {
    PACKED_TRUNCATED = 1u << 0,
    PACKED_LONG_OUTPUT = 1u << 1,
    PACKED_NOTES = 1u << 2,
};

static size_t sample_size(const struct check_sample *s)
{
    size_t n = 1 + sizeof(double);
    n += s->has_warn ? 2 * sizeof(double) : 0;
    n += s->has_crit ? 2 * sizeof(double) : 0;
    n += s->has_min ? sizeof(double) : 0;
    n += s->has_max ? sizeof(double) : 0;
    return n + strlen(s->label ? s->label : "") + 1 + strlen(s->unit) + 1;
}

/* The numbers are written unaligned, byte by byte. */
static char *put(char *at, const void *v, size_t n)
{
    memcpy(at, v, n);
    return at + n;
}

/* The room was counted: copied in one pass, NUL and all. */
static char *put_text(char *at, const char *s)
{
    return stpcpy(at, s) + 1;
}

static char *put_double(char *at, double v)
{
    return put(at, &v, sizeof(v));
}

static const char *get_double(const char *at, double *ret)
{
    memcpy(ret, at, sizeof(*ret));
    return at + sizeof(*ret);
}

static char *put_sample(char *at, const struct check_sample *s)
{
    unsigned char flags = (s->has_value ? SAMPLE_HAS_VALUE : 0) |
                          (s->has_warn ? SAMPLE_HAS_WARN : 0) |
                          (s->has_crit ? SAMPLE_HAS_CRIT : 0) | (s->has_min ? SAMPLE_HAS_MIN : 0) |
                          (s->has_max ? SAMPLE_HAS_MAX : 0) |
                          (s->has_warn && s->warn.inside ? SAMPLE_WARN_INSIDE : 0) |
                          (s->has_crit && s->crit.inside ? SAMPLE_CRIT_INSIDE : 0) |
                          (s->no_history ? SAMPLE_NO_HISTORY : 0);
    *at++ = (char)flags;
    at = put_double(at, s->value);
    if (s->has_warn) {
        at = put_double(at, s->warn.start);
        at = put_double(at, s->warn.end);
    }
    if (s->has_crit) {
        at = put_double(at, s->crit.start);
        at = put_double(at, s->crit.end);
    }
    if (s->has_min)
        at = put_double(at, s->min);
    if (s->has_max)
        at = put_double(at, s->max);
    at = put_text(at, s->label ? s->label : "");
    return put_text(at, s->unit);
}

struct check__packed *check__pack(const struct check_observation *o, struct check__packed *p)
{
    const char *summary = o->summary ? o->summary : "";
    size_t samples = 0;
    for (size_t i = 0; i < o->n_samples; i++)
        samples += sample_size(&o->samples[i]);
    size_t size = offsetof(struct check__packed, data) + samples + strlen(summary) + 1;
    size += o->long_output ? strlen(o->long_output) + 1 : 0;
    size += o->notes ? strlen(o->notes) + 1 : 0;

    /* A check's runs pack to about the same size: mostly resized in place. */
    p = xrealloc(p, size);
    p->started_ms = o->started_ms;
    p->duration_us = o->duration_us;
    p->n_samples = (uint32_t)o->n_samples;
    p->summary_at = (uint32_t)samples;
    p->status = (uint8_t)o->status;
    p->flags = (o->truncated ? PACKED_TRUNCATED : 0) | (o->long_output ? PACKED_LONG_OUTPUT : 0) |
               (o->notes ? PACKED_NOTES : 0);
    char *at = p->data;
    for (size_t i = 0; i < o->n_samples; i++)
        at = put_sample(at, &o->samples[i]);
    at = put_text(at, summary);
    if (o->long_output)
        at = put_text(at, o->long_output);
    if (o->notes)
        put_text(at, o->notes);
    return p;
}

const char *check__packed_summary(const struct check__packed *p)
{
    return p->data + p->summary_at;
}

/* The long output and the notes, each NULL when the observation had none. */
static void packed_texts(const struct check__packed *p, const char **ret_long_output,
                         const char **ret_notes, const char **ret_end)
{
    const char *at = check__packed_summary(p);
    at += strlen(at) + 1;
    *ret_long_output = *ret_notes = NULL;
    if (p->flags & PACKED_LONG_OUTPUT) {
        *ret_long_output = at;
        at += strlen(at) + 1;
    }
    if (p->flags & PACKED_NOTES) {
        *ret_notes = at;
        at += strlen(at) + 1;
    }
    *ret_end = at;
}

const char *check__packed_sample(const char *at, struct check_sample *ret, const char **ret_label)
{
    unsigned char flags = (unsigned char)*at++;
    memset(ret, 0, sizeof(*ret));
    at = get_double(at, &ret->value);
    ret->has_value = flags & SAMPLE_HAS_VALUE;
    ret->no_history = flags & SAMPLE_NO_HISTORY;
    if ((ret->has_warn = flags & SAMPLE_HAS_WARN)) {
        at = get_double(at, &ret->warn.start);
        at = get_double(at, &ret->warn.end);
        ret->warn.inside = flags & SAMPLE_WARN_INSIDE;
    }
    if ((ret->has_crit = flags & SAMPLE_HAS_CRIT)) {
        at = get_double(at, &ret->crit.start);
        at = get_double(at, &ret->crit.end);
        ret->crit.inside = flags & SAMPLE_CRIT_INSIDE;
    }
    if ((ret->has_min = flags & SAMPLE_HAS_MIN))
        at = get_double(at, &ret->min);
    if ((ret->has_max = flags & SAMPLE_HAS_MAX))
        at = get_double(at, &ret->max);
    *ret_label = at;
    at += strlen(at) + 1;
    /* Packed from a unit that fit, so it fits again. */
    size_t len = strlen(at);
    memcpy(ret->unit, at, len + 1);
    return at + len + 1;
}

void check__unpack(const struct check__packed *p, struct check_observation *ret)
{
    const char *long_output, *notes, *end;
    packed_texts(p, &long_output, &notes, &end);
    struct check_observation o = {
            .status = (enum check_status)p->status,
            .summary = xstrdup(check__packed_summary(p)),
            .long_output = long_output ? xstrdup(long_output) : NULL,
            .samples = p->n_samples ? xcalloc(check__samples_room(p->n_samples), sizeof(*o.samples))
                                    : NULL,
            .n_samples = p->n_samples,
            .started_ms = p->started_ms,
            .duration_us = p->duration_us,
            .notes = notes ? xstrdup(notes) : NULL,
            .truncated = p->flags & PACKED_TRUNCATED,
    };
    const char *at = p->data;
    for (size_t i = 0; i < o.n_samples; i++) {
        const char *label;
        at = check__packed_sample(at, &o.samples[i], &label);
        o.samples[i].label = xstrdup(label);
    }
    *ret = o;
}

struct check__packed *check__packed_copy(const struct check__packed *p)
{
    const char *long_output, *notes, *end;
    packed_texts(p, &long_output, &notes, &end);
    size_t size = (size_t)(end - (const char *)p);
    return memcpy(xmalloc(size), p, size);
}
