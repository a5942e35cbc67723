/* SPDX-License-Identifier: MIT */
/*
 * The runbooks' ledger: every run the executor told of, kept in memory in
 * id order, and the pure decisions made over them: the circuit breaker's
 * count, relapses, effectiveness statistics and quarantines. The executor
 * feeds it and stores what it decides; times are always passed in.
 */
#include "runbook/ledger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

/*
 * At most this many runs are held; past it the oldest ended ones go (their
 * statistics with them). A guard allows at most 10,000 runs per window.
 */
#define LEDGER_RUNS_MAX 100000

/* One runbook's quarantine, and when a person last lifted one. */
struct ledger_book {
    char *runbook;
    bool quarantined;
    struct ledger_quarantine q; /* strings owned: runbook is .runbook above */
    int64_t lifted_ms;          /* 0: never */
};

struct ledger {
    struct ledger_run *runs; /* by id; strings owned */
    size_t n, cap;
    struct ledger_book *books;
    size_t n_books;
};

static const char *const outcome_names[] = {
        [RUN_RUNNING] = "running",         [RUN_WAITING] = "waiting", [RUN_HEALED] = "healed",
        [RUN_COMPLETED] = "completed",     [RUN_FAILED] = "failed",   [RUN_SUSPENDED] = "suspended",
        [RUN_REJECTED] = "rejected",       [RUN_EXPIRED] = "expired", [RUN_CANCELED] = "canceled",
        [RUN_INTERRUPTED] = "interrupted",
};

const char *run_outcome_name(enum run_outcome o)
{
    return (size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o]
                                                                        : "unknown";
}

int run_outcome_parse(const char *s, enum run_outcome *ret)
{
    for (size_t i = 0; i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++) {
        if (strcmp(s, outcome_names[i]) == 0) {
            *ret = (enum run_outcome)i;
            return 0;
        }
    }
    return -EINVAL;
}

bool run_outcome_is_final(enum run_outcome o)
{
    return o != RUN_RUNNING && o != RUN_WAITING;
}

/* ---- runs ---- */

struct ledger *ledger_new(void)
{
    return xcalloc(1, sizeof(struct ledger));
}

/* The strings of a run are the ledger's copies, const only to its readers. */
static void free_owned(const char *s)
{
    union {
        const char *c;
        char *m;
    } u = {.c = s};
    free(u.m);
}

static void run_fini(struct ledger_run *r)
{
    free_owned(r->runbook);
    free_owned(r->target);
    free_owned(r->fingerprint);
}

static void book_fini(struct ledger_book *b)
{
    free(b->runbook);
    free_owned(b->q.reason);
}

void ledger_free(struct ledger *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        run_fini(&l->runs[i]);
    free(l->runs);
    for (size_t i = 0; i < l->n_books; i++)
        book_fini(&l->books[i]);
    free(l->books);
    free(l);
}

/* The index of the first run whose id is not below id. */
static size_t run_lower_bound(const struct ledger *l, int64_t id)
{
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->runs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Drops the oldest ended runs until a quarter of the room is free again. */
static void prune(struct ledger *l)
{
    size_t keep = 0, goal = LEDGER_RUNS_MAX - LEDGER_RUNS_MAX / 4, drop = l->n - goal;
    for (size_t i = 0; i < l->n; i++) {
        if (drop && run_outcome_is_final(l->runs[i].outcome)) {
            run_fini(&l->runs[i]);
            drop--;
            continue;
        }
        l->runs[keep++] = l->runs[i];
    }
    l->n = keep;
}

void ledger_run_put(struct ledger *l, const struct ledger_run *r)
{
    struct ledger_run copy = *r;
    copy.runbook = xstrdup(r->runbook);
    copy.target = xstrdup(r->target ? r->target : "");
    copy.fingerprint = r->fingerprint ? xstrdup(r->fingerprint) : NULL;
    size_t i = run_lower_bound(l, r->id);
    if (i < l->n && l->runs[i].id == r->id) {
        run_fini(&l->runs[i]);
        l->runs[i] = copy;
        return;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->runs = xreallocarray(l->runs, l->cap, sizeof(*l->runs));
    }
    memmove(&l->runs[i + 1], &l->runs[i], (l->n - i) * sizeof(*l->runs));
    l->runs[i] = copy;
    l->n++;
    if (l->n > LEDGER_RUNS_MAX)
        prune(l);
}

/* ---- the circuit breaker ---- */

bool ledger_guard_trips(const struct ledger *l, const struct config_runbook *rb, const char *target,
                        int64_t now_ms, unsigned *ret_count)
{
    unsigned count = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct ledger_run *r = &l->runs[i];
        if (r->outcome == RUN_SUSPENDED || strcmp(r->runbook, rb->name) != 0 ||
            strcmp(r->target, target) != 0)
            continue;
        if (r->started_ms <= now_ms && (uint64_t)(now_ms - r->started_ms) < rb->guard.per_ms)
            count++;
    }
    if (ret_count)
        *ret_count = count;
    return rb->guard.max_runs > 0 && count >= rb->guard.max_runs;
}

/* ---- relapses ---- */

int64_t ledger_incident_opened(struct ledger *l, const struct config *c, const char *fingerprint,
                               int64_t opened_ms)
{
    /* The run that healed this fingerprint last, before the opening. */
    struct ledger_run *last = NULL;
    for (size_t i = 0; fingerprint && i < l->n; i++) {
        struct ledger_run *r = &l->runs[i];
        if (r->outcome != RUN_HEALED || !r->fingerprint || strcmp(r->fingerprint, fingerprint) ||
            r->ended_ms > opened_ms)
            continue;
        if (!last || r->ended_ms >= last->ended_ms)
            last = r;
    }
    if (!last || last->relapsed)
        return 0;
    const struct config_runbook *rb = config_runbook_find(c, last->runbook);
    /* A runbook gone from the configuration keeps the default window. */
    uint64_t within = rb ? rb->relapse.within_ms : 86400 * 1000;
    if ((uint64_t)(opened_ms - last->ended_ms) > within)
        return 0;
    last->relapsed = true;
    return last->id;
}

/* ---- statistics ---- */

static int run_ptr_cmp(const void *pa, const void *pb)
{
    const struct ledger_run *a = *(const struct ledger_run *const *)pa;
    const struct ledger_run *b = *(const struct ledger_run *const *)pb;
    int c = strcmp(a->runbook, b->runbook);
    return c ? c : strcmp(a->target, b->target);
}

static int u64_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

static void count_run(struct ledger_stats *s, const struct ledger_run *r, uint64_t *heal_ms)
{
    s->runs++;
    switch (r->outcome) {
    case RUN_HEALED:
        s->healed++;
        heal_ms[s->healed - 1] =
                r->ended_ms > r->started_ms ? (uint64_t)(r->ended_ms - r->started_ms) : 0;
        break;
    case RUN_COMPLETED:
        s->completed++;
        break;
    case RUN_FAILED:
        s->failed++;
        break;
    case RUN_SUSPENDED:
        s->suspended++;
        break;
    case RUN_CANCELED:
        s->canceled++;
        break;
    default:
        s->other++; /* running, waiting, rejected, expired, interrupted */
        break;
    }
    if (r->relapsed)
        s->relapsed++;
}

static uint64_t median(uint64_t *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof(*v), u64_cmp);
    return n % 2 ? v[n / 2] : v[n / 2 - 1] + (v[n / 2] - v[n / 2 - 1]) / 2;
}

/* The statistics of sorted[from..to), into s; heal_ms has room for to - from. */
static void stats_of(struct ledger_run *const *sorted, size_t from, size_t to, const char *target,
                     uint64_t *heal_ms, struct ledger_stats *s)
{
    *s = (struct ledger_stats){.runbook = sorted[from]->runbook, .target = target};
    for (size_t i = from; i < to; i++)
        count_run(s, sorted[i], heal_ms);
    s->median_heal_ms = median(heal_ms, s->healed);
}

void ledger_stats_list(const struct ledger *l, const char *runbook, struct ledger_stats **ret_v,
                       size_t *ret_n)
{
    struct ledger_run **sorted = xcalloc(l->n ? l->n : 1, sizeof(*sorted));
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!runbook || strcmp(l->runs[i].runbook, runbook) == 0)
            sorted[n++] = &l->runs[i];
    qsort(sorted, n, sizeof(*sorted), run_ptr_cmp);
    uint64_t *heal_ms = xcalloc(n ? n : 1, sizeof(*heal_ms));
    /* At most one total and one target per run. */
    struct ledger_stats *v = xcalloc(2 * n + 1, sizeof(*v));
    size_t nv = 0;
    for (size_t i = 0; i < n;) {
        size_t end = i;
        while (end < n && strcmp(sorted[end]->runbook, sorted[i]->runbook) == 0)
            end++;
        stats_of(sorted, i, end, NULL, heal_ms, &v[nv++]);
        for (size_t t = i; t < end;) {
            size_t tend = t;
            while (tend < end && strcmp(sorted[tend]->target, sorted[t]->target) == 0)
                tend++;
            stats_of(sorted, t, tend, sorted[t]->target, heal_ms, &v[nv++]);
            t = tend;
        }
        i = end;
    }
    free(heal_ms);
    free(sorted);
    *ret_v = v;
    *ret_n = nv;
}

/* ---- quarantines ---- */

static struct ledger_book *book_find(const struct ledger *l, const char *runbook)
{
    for (size_t i = 0; i < l->n_books; i++)
        if (strcmp(l->books[i].runbook, runbook) == 0)
            return &l->books[i];
    return NULL;
}

static struct ledger_book *book_get(struct ledger *l, const char *runbook)
{
    struct ledger_book *b = book_find(l, runbook);
    if (b)
        return b;
    l->books = xreallocarray(l->books, l->n_books + 1, sizeof(*l->books));
    b = &l->books[l->n_books++];
    *b = (struct ledger_book){.runbook = xstrdup(runbook)};
    return b;
}

bool ledger_quarantine_due(const struct ledger *l, const struct config_runbook *rb,
                           char **ret_reason)
{
    const struct ledger_book *b = book_find(l, rb->name);
    if (b && b->quarantined)
        return false;
    int64_t since = b ? b->lifted_ms : 0;
    unsigned healed = 0, relapsed = 0;
    for (size_t i = 0; i < l->n; i++) {
        const struct ledger_run *r = &l->runs[i];
        if (r->outcome != RUN_HEALED || r->started_ms < since || strcmp(r->runbook, rb->name))
            continue;
        healed++;
        relapsed += r->relapsed;
    }
    if (healed == 0 || healed < rb->relapse.min_healed)
        return false;
    double rate = 100.0 * relapsed / healed;
    if (rate <= rb->relapse.quarantine_above)
        return false;
    if (ret_reason)
        *ret_reason = xasprintf("relapse rate %u of %u healed runs (%.0f%%) over %g%%", relapsed,
                                healed, rate, rb->relapse.quarantine_above);
    return true;
}

void ledger_quarantine_set(struct ledger *l, const char *runbook, int64_t since_ms,
                           const char *reason)
{
    struct ledger_book *b = book_get(l, runbook);
    free_owned(b->q.reason);
    b->quarantined = true;
    b->q = (struct ledger_quarantine){
            .runbook = b->runbook, .since_ms = since_ms, .reason = xstrdup(reason ? reason : "")};
}

void ledger_quarantine_lift(struct ledger *l, const char *runbook, int64_t now_ms)
{
    struct ledger_book *b = book_get(l, runbook);
    free_owned(b->q.reason);
    b->q = (struct ledger_quarantine){0};
    b->quarantined = false;
    if (now_ms > b->lifted_ms)
        b->lifted_ms = now_ms;
}

const struct ledger_quarantine *ledger_quarantine_get(const struct ledger *l, const char *runbook)
{
    const struct ledger_book *b = book_find(l, runbook);
    return b && b->quarantined ? &b->q : NULL;
}
