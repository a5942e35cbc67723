/* SPDX-License-Identifier: MIT */
/*
 * Labels and label matchers. A label set is the name=value pairs that
 * describe a check, an observation or an event ({service="web", ci="web-01"});
 * a matcher list selects label sets the way Prometheus and Alertmanager do:
 * {service="web", alertname=~"Disk.*", env!="dev"}. Routes, silences and
 * runbook step conditions all use these, from the configuration and from the
 * API alike, so everything here is x-allocated and owned by its caller.
 */
#ifndef HALE_BASE_LABELS_H
#define HALE_BASE_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/strbuf.h"

struct label {
    char *name;
    char *value;
};

/* Sorted by name, names unique. Embedded: labels_init()/labels_fini(). */
struct labels {
    struct label *v;
    size_t n;
    size_t cap;
};

void labels_init(struct labels *l);
/* Frees every name and value. Accepts NULL and a zeroed struct. */
void labels_fini(struct labels *l);

/* Whether name matches [a-zA-Z_][a-zA-Z0-9_]*. */
bool labels_name_is_valid(const char *name);

/*
 * Sets name to value, copying both; replaces an existing value. Returns 0,
 * or HALE_EPARSE (with e filled) when name is not a valid label name.
 */
int labels_set(struct labels *l, const char *name, const char *value, struct err *e);

/*
 * Sets name to value as labels_set() does, taking ownership of both
 * (x-allocated) instead of copying them: a decoder that made them hands
 * them over. name must be a valid label name (the caller checked it).
 */
void labels_take(struct labels *l, char *name, char *value);

/*
 * Sets name to value as labels_take() does, but l holds both without
 * owning them: a value replaced is not freed. For a set whose strings
 * live in memory freed all at once (the block of a decoded batch's
 * events, engine/event.h); such a set is never finished with
 * labels_fini(), which would free them: free its array alone.
 */
void labels_put_borrowed(struct labels *l, char *name, char *value);

/* The value of name, or NULL when l has no such label. Borrowed from l. */
const char *labels_get(const struct labels *l, const char *name);

/*
 * The label set's fingerprint as Prometheus and Alertmanager compute it:
 * FNV-1a 64 over the names in byte order, each name and each value
 * followed by a 0xFF byte. So an alert's "fingerprint" in Alertmanager's
 * webhook (16 hex digits) is this value, and an empty set gives FNV's
 * offset basis. Pure; any thread.
 */
uint64_t labels_fingerprint(const struct labels *l);
/*
 * The same over the labels named in names (n of them; NULL or 0: all),
 * with how many took part in *ret_used (may be NULL).
 */
uint64_t labels_fingerprint_of(const struct labels *l, const char *const *names, size_t n,
                               size_t *ret_used);

enum labels_op {
    LABELS_OP_EQ,  /* =  */
    LABELS_OP_NE,  /* != */
    LABELS_OP_RE,  /* =~ */
    LABELS_OP_NRE, /* !~ */
};

/* "=", "!=", "=~" or "!~". */
const char *labels_op_name(enum labels_op op);

struct labels_regex; /* a compiled PCRE2 pattern, private to labels.c */

struct labels_matcher {
    char *name;
    enum labels_op op;
    char *value;             /* unescaped; the pattern for =~ and !~ */
    struct labels_regex *re; /* compiled, for =~ and !~ only */
    size_t offset;           /* byte offset of the matcher in the parsed text */
};

struct labels_matchers {
    struct labels_matcher *v;
    size_t n;
};

/*
 * Parses a matcher list: {name OP value, ...} where the braces are optional,
 * OP is =, !=, =~ or !~, and a value is double-quoted (escapes \" \\ \n) or
 * a bare word without spaces, commas, braces or quotes (as Alertmanager
 * accepts). Regexes are anchored at both ends, as in Prometheus, and
 * compiled with PCRE2 (JIT when available). An empty list ("" or "{}")
 * matches every label set.
 *
 * Returns 0 and a new list in *ret_m (free with labels_matchers_free()), or
 * HALE_EPARSE with e describing the problem and *ret_offset (may be NULL)
 * set to its byte offset in s.
 */
int labels_matchers_parse(const char *s, struct labels_matchers **ret_m, struct err *e,
                          size_t *ret_offset);

/*
 * Whether every matcher of m accepts l. A label missing from l matches as
 * the empty string, so {env!="dev"} accepts a set without env. Thread-safe:
 * one list may be matched from several threads at once.
 */
bool labels_matchers_match(const struct labels_matchers *m, const struct labels *l);

/* Appends m in canonical form, {a="b", c=~"d.*"}, to out. Returns 0 or HALE_ELIMIT. */
int labels_matchers_format(const struct labels_matchers *m, struct strbuf *out);

/* Frees m and everything in it. Accepts NULL. */
void labels_matchers_free(struct labels_matchers *m);

#endif
