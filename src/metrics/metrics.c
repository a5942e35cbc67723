/* SPDX-License-Identifier: MIT */
/*
 * The registry of metrics.h and its text exposition. Each family has its
 * own mutex guarding its children and their values, so HTTP threads that
 * count requests contend only with each other on one family and never
 * with a render of another. The registry's own mutex guards only the list
 * of families; a render works from a sorted snapshot of that list, which
 * stays valid because families are freed only by metrics_free().
 */
#include "metrics/metrics.h"

#include <assert.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/log.h"

struct metrics_child {
    uint64_t hash;                    /* of the label values, to skip most strcmp() */
    char *values[METRICS_LABELS_MAX]; /* owned copies */
    double value;                     /* counter, gauge */
    uint64_t *buckets;                /* histogram: n_bounds + 1 counts, not cumulative */
    double sum;                       /* histogram */
    uint64_t count;                   /* histogram */
};

struct metrics_family {
    char *name;
    char *help;
    enum metrics_type type;
    char *labels[METRICS_LABELS_MAX];
    size_t n_labels;
    double *bounds; /* histogram */
    size_t n_bounds;
    metrics_value_fn *fn; /* value computed at render time, or NULL */
    void *fn_data;
    metrics_write_fn *write; /* samples written by the owner at render time, or NULL */
    void *write_data;

    pthread_mutex_t lock;            /* guards everything below */
    struct metrics_child **children; /* in creation order */
    size_t n_children, cap_children;
    struct metrics_child **index; /* open addressing by hash: O(1) updates with many children */
    size_t index_cap;             /* a power of two, at least twice n_children; 0: no index */
    size_t max_children;
    uint64_t refused;
};

struct metrics {
    pthread_mutex_t lock; /* guards the two lists */
    struct metrics_family **families;
    size_t n_families, cap_families;
};

/* ---- numbers ---------------------------------------------------------- */

/* A "C" numeric locale, so a daemon run under de_DE still writes "0.5". */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
    c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

const char *metrics_number_format(double v, char buf[METRICS_NUMBER_MAX])
{
    if (isnan(v))
        return memcpy(buf, "NaN", 4);
    if (isinf(v))
        return memcpy(buf, v > 0 ? "+Inf" : "-Inf", 5);
    if (v == 0)
        return memcpy(buf, "0", 2); /* also for -0, which would print "-0" */

    pthread_once(&c_locale_once, c_locale_init);
    locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
    if (fabs(v) < 1e15 && v == trunc(v)) {
        snprintf(buf, METRICS_NUMBER_MAX, "%.0f", v);
    } else {
        /* The shortest of 15..17 significant digits that reads back exactly. */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, METRICS_NUMBER_MAX, "%.*g", prec, v);
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    if (c_locale)
        uselocale(old);
    return buf;
}

/* ---- names ------------------------------------------------------------ */

static inline bool name_is_valid(const char *s, bool colon)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (colon && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

/* FNV-1a over the values, each followed by a 0xff byte no UTF-8 text contains. */
static uint64_t values_hash(const char *const *values, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
            h = (h ^ *p) * 1099511628211u;
        h = (h ^ 0xffu) * 1099511628211u;
    }
    return h;
}

/* ---- registry --------------------------------------------------------- */

struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void child_free(struct metrics_child *c)
{
    for (size_t i = 0; i < METRICS_LABELS_MAX; i++)
        free(c->values[i]);
    free(c->buckets);
    free(c);
}

static void family_free(struct metrics_family *f)
{
    for (size_t i = 0; i < f->n_children; i++)
        child_free(f->children[i]);
    free(f->children);
    free(f->index);
    for (size_t i = 0; i < f->n_labels; i++)
        free(f->labels[i]);
    free(f->bounds);
    free(f->name);
    free(f->help);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_families; i++)
        family_free(m->families[i]);
    free(m->families);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static struct metrics_child *child_new(const struct metrics_family *f, const char *const *values,
                                       uint64_t hash)
{
    struct metrics_child *c = xcalloc(1, sizeof(*c));
    c->hash = hash;
    for (size_t i = 0; i < f->n_labels; i++)
        c->values[i] = xstrdup(values[i]);
    if (f->type == METRICS_HISTOGRAM)
        c->buckets = xcalloc(f->n_bounds + 1, sizeof(*c->buckets));
    return c;
}

/* Appends a child; the caller holds f->lock and has checked the cap. */
static void index_put(struct metrics_child **index, size_t cap, struct metrics_child *c)
{
    size_t i = c->hash & (cap - 1);
    while (index[i])
        i = (i + 1) & (cap - 1);
    index[i] = c;
}

/* Keeps the index at most half full, so probes stay short. */
static void index_reserve(struct metrics_family *f, size_t n)
{
    if (n * 2 <= f->index_cap)
        return;
    size_t cap = f->index_cap ? f->index_cap : 16;
    while (n * 2 > cap)
        cap *= 2;
    free(f->index);
    f->index = xcalloc(cap, sizeof(*f->index));
    f->index_cap = cap;
    for (size_t i = 0; i < f->n_children; i++)
        index_put(f->index, cap, f->children[i]);
}

static struct metrics_child *family_child_append(struct metrics_family *f,
                                                 const char *const *values, uint64_t hash)
{
    if (f->n_children == f->cap_children) {
        f->cap_children = f->cap_children ? 2 * f->cap_children : 4;
        f->children = xreallocarray(f->children, f->cap_children, sizeof(*f->children));
    }
    struct metrics_child *c = child_new(f, values, hash);
    index_reserve(f, f->n_children + 1);
    f->children[f->n_children++] = c;
    index_put(f->index, f->index_cap, c);
    return c;
}

static struct metrics_family *family_new(enum metrics_type type, const char *name, const char *help,
                                         const char *const *labels)
{
    assert(name_is_valid(name, true));
    struct metrics_family *f = xcalloc(1, sizeof(*f));
    f->name = xstrdup(name);
    f->help = xstrdup(help ? help : "");
    f->type = type;
    for (; labels && labels[f->n_labels]; f->n_labels++) {
        assert(f->n_labels < METRICS_LABELS_MAX);
        assert(name_is_valid(labels[f->n_labels], false));
        assert(strncmp(labels[f->n_labels], "__", 2) != 0);
        f->labels[f->n_labels] = xstrdup(labels[f->n_labels]);
    }
    f->max_children = METRICS_CHILDREN_MAX;
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

/* Adds a finished family to the registry; names are unique (assert). */
static struct metrics_family *registry_add(struct metrics *m, struct metrics_family *f)
{
    /* A family without labels has exactly one child: create it now, so it renders from the start.
     */
    if (f->n_labels == 0)
        family_child_append(f, NULL, values_hash(NULL, 0));
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < m->n_families; i++)
        assert(strcmp(m->families[i]->name, f->name) != 0);
    if (m->n_families == m->cap_families) {
        m->cap_families = m->cap_families ? 2 * m->cap_families : 16;
        m->families = xreallocarray(m->families, m->cap_families, sizeof(*m->families));
    }
    m->families[m->n_families++] = f;
    pthread_mutex_unlock(&m->lock);
    return f;
}

struct metrics_family *metrics_counter_register(struct metrics *m, const char *name,
                                                const char *help, const char *const *labels)
{
    return registry_add(m, family_new(METRICS_COUNTER, name, help, labels));
}

struct metrics_family *metrics_gauge_register(struct metrics *m, const char *name, const char *help,
                                              const char *const *labels)
{
    return registry_add(m, family_new(METRICS_GAUGE, name, help, labels));
}

struct metrics_family *metrics_written_register(struct metrics *m, enum metrics_type type,
                                                const char *name, const char *help,
                                                const char *const *labels, metrics_write_fn *fn,
                                                void *data)
{
    assert(type == METRICS_GAUGE || type == METRICS_COUNTER);
    struct metrics_family *f = family_new(type, name, help, labels);
    f->write = fn;
    f->write_data = data;
    return registry_add(m, f);
}

struct metrics_family *metrics_histogram_register(struct metrics *m, const char *name,
                                                  const char *help, const char *const *labels,
                                                  const double *bounds, size_t n_bounds)
{
    struct metrics_family *f = family_new(METRICS_HISTOGRAM, name, help, labels);
    for (size_t i = 0; i < f->n_labels; i++)
        assert(strcmp(f->labels[i], "le") != 0);
    for (size_t i = 0; i < n_bounds; i++)
        assert(isfinite(bounds[i]) && (i == 0 || bounds[i] > bounds[i - 1]));
    f->bounds = xreallocarray(NULL, n_bounds ? n_bounds : 1, sizeof(*f->bounds));
    if (n_bounds)
        memcpy(f->bounds, bounds, n_bounds * sizeof(*bounds));
    f->n_bounds = n_bounds;
    return registry_add(m, f);
}

static struct metrics_family *fn_register(struct metrics *m, enum metrics_type type,
                                          const char *name, const char *help, metrics_value_fn *fn,
                                          void *data)
{
    struct metrics_family *f = family_new(type, name, help, NULL);
    f->fn = fn;
    f->fn_data = data;
    return registry_add(m, f);
}

struct metrics_family *metrics_gauge_fn_register(struct metrics *m, const char *name,
                                                 const char *help, metrics_value_fn *fn, void *data)
{
    return fn_register(m, METRICS_GAUGE, name, help, fn, data);
}

struct metrics_family *metrics_counter_fn_register(struct metrics *m, const char *name,
                                                   const char *help, metrics_value_fn *fn,
                                                   void *data)
{
    return fn_register(m, METRICS_COUNTER, name, help, fn, data);
}

void metrics_family_set_max(struct metrics_family *f, size_t max)
{
    pthread_mutex_lock(&f->lock);
    f->max_children = max;
    pthread_mutex_unlock(&f->lock);
}

uint64_t metrics_family_refused(struct metrics_family *f)
{
    pthread_mutex_lock(&f->lock);
    uint64_t n = f->refused;
    pthread_mutex_unlock(&f->lock);
    return n;
}

/* ---- updates ---------------------------------------------------------- */

/*
 * The child for values, created if new and the cap allows; NULL (counted
 * as refused) otherwise. The caller holds f->lock.
 */
static struct metrics_child *family_child(struct metrics_family *f, const char *const *values)
{
    uint64_t hash = values_hash(values, f->n_labels);
    for (size_t i = hash & (f->index_cap - 1); f->index_cap && f->index[i];
         i = (i + 1) & (f->index_cap - 1)) {
        struct metrics_child *c = f->index[i];
        if (c->hash != hash)
            continue;
        size_t j = 0;
        while (j < f->n_labels && strcmp(c->values[j], values[j]) == 0)
            j++;
        if (j == f->n_labels)
            return c;
    }
    if (f->n_children >= f->max_children) {
        if (f->refused++ == 0)
            log_warn("metrics", NULL,
                     "family %s reached its cap of %zu label sets; new label sets are dropped",
                     f->name, f->max_children);
        return NULL;
    }
    return family_child_append(f, values, hash);
}

enum update_op {
    UPDATE_ADD,
    UPDATE_SET,
    UPDATE_OBSERVE,
};

static void child_observe(const struct metrics_family *f, struct metrics_child *c, double v)
{
    size_t b = 0;
    while (b < f->n_bounds && v > f->bounds[b])
        b++;
    c->buckets[b]++;
    c->sum += v;
    c->count++;
}

static int family_update(struct metrics_family *f, const char *const *values, enum update_op op,
                         double v)
{
    pthread_mutex_lock(&f->lock);
    struct metrics_child *c = family_child(f, values);
    if (c) {
        if (op == UPDATE_ADD)
            c->value += v;
        else if (op == UPDATE_SET)
            c->value = v;
        else
            child_observe(f, c, v);
    }
    pthread_mutex_unlock(&f->lock);
    return c ? 0 : HALE_ELIMIT;
}

int metrics_counter_add(struct metrics_family *f, const char *const *values, double delta)
{
    assert(f->type == METRICS_COUNTER && !f->fn);
    if (!(delta >= 0))
        return 0; /* a counter only goes up; NaN and negative deltas are ignored */
    return family_update(f, values, UPDATE_ADD, delta);
}

int metrics_counter_inc(struct metrics_family *f, const char *const *values)
{
    return metrics_counter_add(f, values, 1);
}

int metrics_gauge_set(struct metrics_family *f, const char *const *values, double v)
{
    assert(f->type == METRICS_GAUGE && !f->fn);
    return family_update(f, values, UPDATE_SET, v);
}

int metrics_gauge_add(struct metrics_family *f, const char *const *values, double delta)
{
    assert(f->type == METRICS_GAUGE && !f->fn);
    return family_update(f, values, UPDATE_ADD, delta);
}

int metrics_histogram_observe(struct metrics_family *f, const char *const *values, double v)
{
    assert(f->type == METRICS_HISTOGRAM);
    if (isnan(v))
        return 0;
    return family_update(f, values, UPDATE_OBSERVE, v);
}

/* ---- exposition ------------------------------------------------------- */

/* An output that stops at the first failure, so a full capped buffer never gets half a line. */
struct out {
    struct strbuf *b;
    int r;
};

static void out_add(struct out *o, const char *s, size_t len)
{
    if (o->r == 0)
        o->r = strbuf_add(o->b, s, len);
}

static void out_adds(struct out *o, const char *s)
{
    out_add(o, s, strlen(s));
}

/* Escapes \ and newline (HELP text), and " too in label values. */
static void out_escaped(struct out *o, const char *s, bool quote)
{
    const char *run = s;
    for (; *s; s++) {
        const char *esc = *s == '\\'           ? "\\\\"
                          : *s == '\n'         ? "\\n"
                          : quote && *s == '"' ? "\\\""
                                               : NULL;
        if (!esc)
            continue;
        out_add(o, run, (size_t)(s - run));
        out_adds(o, esc);
        run = s + 1;
    }
    out_add(o, run, (size_t)(s - run));
}

static void out_number(struct out *o, double v)
{
    char buf[METRICS_NUMBER_MAX];
    out_adds(o, metrics_number_format(v, buf));
}

static void out_u64(struct out *o, uint64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
    out_add(o, buf, (size_t)n);
}

static const char *type_name(enum metrics_type t)
{
    switch (t) {
    case METRICS_COUNTER:
        return "counter";
    case METRICS_GAUGE:
        return "gauge";
    case METRICS_HISTOGRAM:
        return "histogram";
    }
    return "untyped";
}

/* Writes "NAME{a="x",b="y",le="0.5"} " with le present only when given. */
static void out_series(struct out *o, const struct metrics_family *f, const char *suffix,
                       const struct metrics_child *c, const char *le)
{
    out_adds(o, f->name);
    out_adds(o, suffix);
    if (f->n_labels || le) {
        out_adds(o, "{");
        for (size_t i = 0; i < f->n_labels; i++) {
            if (i)
                out_adds(o, ",");
            out_adds(o, f->labels[i]);
            out_adds(o, "=\"");
            out_escaped(o, c->values[i], true);
            out_adds(o, "\"");
        }
        if (le) {
            out_adds(o, f->n_labels ? ",le=\"" : "le=\"");
            out_adds(o, le);
            out_adds(o, "\"");
        }
        out_adds(o, "}");
    }
    out_adds(o, " ");
}

static void out_histogram_child(struct out *o, const struct metrics_family *f,
                                const struct metrics_child *c)
{
    char le[METRICS_NUMBER_MAX];
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= f->n_bounds; b++) {
        cumulative += c->buckets[b];
        const char *bound = b < f->n_bounds ? metrics_number_format(f->bounds[b], le) : "+Inf";
        out_series(o, f, "_bucket", c, bound);
        out_u64(o, cumulative);
        out_adds(o, "\n");
    }
    out_series(o, f, "_sum", c, NULL);
    out_number(o, c->sum);
    out_adds(o, "\n");
    out_series(o, f, "_count", c, NULL);
    out_u64(o, c->count);
    out_adds(o, "\n");
}

static int child_cmp(const void *a, const void *b, void *arg)
{
    const struct metrics_child *x = *(struct metrics_child *const *)a;
    const struct metrics_child *y = *(struct metrics_child *const *)b;
    const struct metrics_family *f = arg;
    for (size_t i = 0; i < f->n_labels; i++) {
        int d = strcmp(x->values[i], y->values[i]);
        if (d)
            return d;
    }
    return 0;
}

static void family_header(const struct metrics_family *f, struct out *o)
{
    out_adds(o, "# HELP ");
    out_adds(o, f->name);
    out_adds(o, " ");
    out_escaped(o, f->help, false);
    out_adds(o, "\n# TYPE ");
    out_adds(o, f->name);
    out_adds(o, " ");
    out_adds(o, type_name(f->type));
    out_adds(o, "\n");
}

struct metrics_writer {
    const struct metrics_family *f;
    struct out *o;
    bool header_written;
};

void metrics_write_sample(struct metrics_writer *w, const char *const *values, double v)
{
    if (!w->header_written) {
        family_header(w->f, w->o);
        w->header_written = true;
    }
    struct metrics_child c = {0};
    for (size_t i = 0; i < w->f->n_labels; i++)
        c.values[i] = (char *)(uintptr_t)values[i]; /* read only: out_series writes them out */
    out_series(w->o, w->f, "", &c, NULL);
    out_number(w->o, v);
    out_adds(w->o, "\n");
}

static void family_render(struct metrics_family *f, struct out *o)
{
    if (f->write) {
        struct metrics_writer w = {f, o, false};
        f->write(&w, f->write_data);
        return;
    }
    /* Called outside the lock: it may take locks of its own (the loop's lag). */
    double fn_value = f->fn ? f->fn(f->fn_data) : 0;

    pthread_mutex_lock(&f->lock);
    if (f->n_children == 0) {
        pthread_mutex_unlock(&f->lock);
        return;
    }
    if (f->fn)
        f->children[0]->value = fn_value;
    qsort_r(f->children, f->n_children, sizeof(*f->children), child_cmp, f);

    family_header(f, o);
    for (size_t i = 0; i < f->n_children; i++) {
        const struct metrics_child *c = f->children[i];
        if (f->type == METRICS_HISTOGRAM) {
            out_histogram_child(o, f, c);
            continue;
        }
        out_series(o, f, "", c, NULL);
        out_number(o, c->value);
        out_adds(o, "\n");
    }
    pthread_mutex_unlock(&f->lock);
}

static int family_cmp(const void *a, const void *b)
{
    const struct metrics_family *x = *(struct metrics_family *const *)a;
    const struct metrics_family *y = *(struct metrics_family *const *)b;
    return strcmp(x->name, y->name);
}

/* A copy of n elements of size bytes (n may be 0, src then NULL); free with free(). */
static void *array_copy(const void *src, size_t n, size_t size)
{
    void *p = xreallocarray(NULL, n ? n : 1, size);
    if (n)
        memcpy(p, src, n * size);
    return p;
}

int metrics_render(struct metrics *m, struct strbuf *out)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->n_families;
    struct metrics_family **snap = array_copy(m->families, n, sizeof(*snap));
    pthread_mutex_unlock(&m->lock);

    qsort(snap, n, sizeof(*snap), family_cmp);
    struct out o = {out, 0};
    for (size_t i = 0; i < n && o.r == 0; i++)
        family_render(snap[i], &o);
    free(snap);
    return o.r;
}
