/* SPDX-License-Identifier: MIT */
/*
 * The backend-independent store: batches of copied records, the writer
 * thread and its group commit, the hand-back of finished batches to the
 * loop, and the dispatch of reads to the backend (internal.h's vtable).
 *
 * The loop thread queues batches under a mutex. The writer sleeps until the
 * first one arrives and applies every batch queued (up to a cap of batches
 * and records) in one transaction: one fsync for the lot. The batches that
 * arrive while it commits form the next group, so the group grows with the
 * load and a lone batch never waits for company. A commit_window_ms makes
 * the writer also wait until the first batch is that old, which saves
 * fsyncs only where a sync costs more than the callers' waiting. Finished
 * batches go to a second list, and a uv_async_t wakes the loop, which calls
 * their callbacks in submission order.
 *
 * A compaction pass (retention.c) runs on the same thread, a step after
 * each group (back to back while no batch waits): SQLite has one writer at
 * a time, and taking turns bounds what a batch waits to one step.
 */
#include "store/store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "store/internal.h"

/* A group larger than this commits at once, window or not: bounds a transaction's size. */
#define STORE_GROUP_MAX_BATCHES 4096
#define STORE_GROUP_MAX_RECORDS 16384
/*
 * Records queued beyond this make store_submit() wait for the writer: a
 * disk that cannot keep up slows the loop rather than filling memory.
 */
#define STORE_QUEUE_MAX_RECORDS (16 * STORE_GROUP_MAX_RECORDS)

struct store_batch {
    struct store_batch *next;
    struct store_record *v;
    size_t n, cap;
    store_done_cb *cb;
    void *data;
    int result;
    uint64_t submit_ns; /* CLOCK_MONOTONIC: the group's window starts at its first batch */
};

struct batch_list {
    struct store_batch *head, *tail;
    size_t batches, records;
};

struct store {
    const struct store_backend *backend;
    struct store_db *db;
    uv_loop_t *uv;
    /* On the heap: its close callback may run after the store is freed. */
    uv_async_t *done_async;
    uint64_t window_ns;
    int64_t last_incident_id, last_problem_id, last_silence_id, last_run_id; /* loop thread */
    int64_t last_notification_id, last_event_id;                             /* loop thread */
    size_t in_flight;  /* submitted batches and the pass, callback not yet run; loop thread */
    bool closing;      /* store_close() runs: submitting now is a bug */
    size_t output_max; /* loop thread */
    unsigned chunk;    /* rows a compaction step deletes */
    struct store__compact_job *job; /* from store_compact() to its callback; loop thread */

    pthread_t writer;
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* for the writer: a batch arrived, a cap was reached, or stop */
    pthread_cond_t room;     /* for the loop: the queue has room again */
    struct batch_list queue; /* submitted, not yet taken by the writer; under lock */
    struct batch_list done;  /* written, callbacks not yet run; under lock */
    bool stopping;           /* under lock */
    bool job_running;        /* the writer has job to do; under lock */
    bool job_over;           /* its callback is due; under lock */

    atomic_uint_fast64_t commits;
    atomic_int readers;
};

/* ---- batches ---------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void timeline_copy(struct timeline_entry *dst, const struct timeline_entry *src)
{
    *dst = *src;
    dst->actor = dup_or_null(src->actor);
    dst->text = dup_or_null(src->text);
    dst->data = dup_or_null(src->data);
}

static void audit_copy(struct audit_entry *dst, const struct audit_entry *src)
{
    *dst = *src;
    dst->actor = dup_or_null(src->actor);
    dst->action = dup_or_null(src->action);
    dst->target = dup_or_null(src->target);
    dst->origin = dup_or_null(src->origin);
    dst->detail = dup_or_null(src->detail);
}

static void record_fini(struct store_record *rec)
{
    switch (rec->kind) {
    case STORE_RECORD_INCIDENT:
        incident_fini(&rec->u.incident);
        break;
    case STORE_RECORD_TIMELINE:
        timeline_entry_fini(&rec->u.timeline);
        break;
    case STORE_RECORD_AUDIT:
        audit_entry_fini(&rec->u.audit);
        break;
    case STORE_RECORD_PROBLEM:
        problem_fini(&rec->u.problem);
        break;
    case STORE_RECORD_CHECK_STATE:
        store_check_state_fini(&rec->u.check_state);
        break;
    case STORE_RECORD_EVENT:
        store_event_fini(&rec->u.event);
        break;
    case STORE_RECORD_SILENCE:
        store_silence_fini(&rec->u.silence);
        break;
    case STORE_RECORD_RUN:
        store_run_fini(&rec->u.run);
        break;
    case STORE_RECORD_RUN_STEP:
        store_run_step_fini(&rec->u.run_step);
        break;
    case STORE_RECORD_QUARANTINE:
        store_quarantine_fini(&rec->u.quarantine);
        break;
    case STORE_RECORD_NOTIFICATION:
        store_notification_fini(&rec->u.notification);
        break;
    case STORE_RECORD_EVENT_REPEATS:
        break;
    }
}

struct store_batch *store_batch_new(void)
{
    return xcalloc(1, sizeof(struct store_batch));
}

void store_batch_free(struct store_batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        record_fini(&b->v[i]);
    free(b->v);
    free(b);
}

struct store_record *store__batch_add(struct store_batch *b, enum store_record_kind kind)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 4;
        b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
    }
    struct store_record *rec = &b->v[b->n++];
    memset(rec, 0, sizeof(*rec));
    rec->kind = kind;
    return rec;
}

void store_batch_incident(struct store_batch *b, const struct incident *i)
{
    incident_copy(&store__batch_add(b, STORE_RECORD_INCIDENT)->u.incident, i);
}

void store_batch_timeline(struct store_batch *b, const struct timeline_entry *t)
{
    timeline_copy(&store__batch_add(b, STORE_RECORD_TIMELINE)->u.timeline, t);
}

void store_batch_audit(struct store_batch *b, const struct audit_entry *a)
{
    audit_copy(&store__batch_add(b, STORE_RECORD_AUDIT)->u.audit, a);
}

void store_batch_problem(struct store_batch *b, const struct problem *p)
{
    problem_copy(&store__batch_add(b, STORE_RECORD_PROBLEM)->u.problem, p);
}

void store_batch_check_state(struct store_batch *b, const char *check, int status, int64_t time_ms)
{
    struct store_check_state *s = &store__batch_add(b, STORE_RECORD_CHECK_STATE)->u.check_state;
    s->check = dup_or_null(check);
    s->status = status;
    s->time_ms = time_ms;
}

static void labels_copy(struct labels *dst, const struct labels *src)
{
    labels_init(dst);
    for (size_t k = 0; k < src->n; k++)
        labels_set(dst, src->v[k].name, src->v[k].value, NULL);
}

void store_batch_event(struct store_batch *b, const struct store_event *ev)
{
    struct store_event *d = &store__batch_add(b, STORE_RECORD_EVENT)->u.event;
    *d = *ev;
    d->source = dup_or_null(ev->source);
    d->status = dup_or_null(ev->status);
    d->severity = dup_or_null(ev->severity);
    labels_copy(&d->labels, &ev->labels);
    labels_copy(&d->annotations, &ev->annotations);
    d->summary = dup_or_null(ev->summary);
    d->verdict = dup_or_null(ev->verdict);
    d->sender = dup_or_null(ev->sender);
    d->reason = dup_or_null(ev->reason);
}

void store_batch_event_repeats(struct store_batch *b, int64_t id, int64_t n, int64_t last_ms)
{
    store__batch_add(b, STORE_RECORD_EVENT_REPEATS)->u.event_repeats =
            (struct store__event_repeats){.id = id, .n = n, .last_ms = last_ms};
}

void store_event_fini(struct store_event *ev)
{
    if (!ev)
        return;
    free(ev->source);
    free(ev->status);
    free(ev->severity);
    labels_fini(&ev->labels);
    labels_fini(&ev->annotations);
    free(ev->summary);
    free(ev->verdict);
    free(ev->sender);
    free(ev->reason);
    memset(ev, 0, sizeof(*ev));
}

void store_batch_silence(struct store_batch *b, const struct store_silence *s)
{
    store_silence_copy(&store__batch_add(b, STORE_RECORD_SILENCE)->u.silence, s);
}

void store_silence_copy(struct store_silence *dst, const struct store_silence *src)
{
    *dst = *src;
    dst->source = dup_or_null(src->source);
    dst->matchers = dup_or_null(src->matchers);
    dst->weekly = dup_or_null(src->weekly);
    dst->comment = dup_or_null(src->comment);
    dst->created_by = dup_or_null(src->created_by);
    dst->ended_by = dup_or_null(src->ended_by);
}

void store_silence_fini(struct store_silence *s)
{
    if (!s)
        return;
    free(s->source);
    free(s->matchers);
    free(s->weekly);
    free(s->comment);
    free(s->created_by);
    free(s->ended_by);
    memset(s, 0, sizeof(*s));
}

/* An empty batch still costs a transaction slot, so it counts as one record. */
static size_t batch_weight(const struct store_batch *b)
{
    return b->n ? b->n : 1;
}

static void list_push(struct batch_list *l, struct store_batch *b)
{
    b->next = NULL;
    if (l->tail)
        l->tail->next = b;
    else
        l->head = b;
    l->tail = b;
    l->batches++;
    l->records += batch_weight(b);
}

static struct store_batch *list_pop(struct batch_list *l)
{
    struct store_batch *b = l->head;
    l->head = b->next;
    if (!l->head)
        l->tail = NULL;
    b->next = NULL;
    l->batches--;
    l->records -= batch_weight(b);
    return b;
}

/* Moves all of src to the end of dst. */
static void list_splice(struct batch_list *dst, struct batch_list *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->batches += src->batches;
    dst->records += src->records;
    *src = (struct batch_list){0};
}

/* ---- the writer thread ------------------------------------------------ */

static bool group_is_full(const struct batch_list *l)
{
    return l->batches >= STORE_GROUP_MAX_BATCHES || l->records >= STORE_GROUP_MAX_RECORDS;
}

/* Applies the batches from first up to end (excluded) in one transaction. */
static int transaction_run(struct store *st, struct store_batch *first,
                           const struct store_batch *end, struct err *e)
{
    const struct store_backend *be = st->backend;
    int r = be->begin(st->db, e);
    if (r < 0)
        return r;
    for (struct store_batch *b = first; b != end; b = b->next)
        for (size_t i = 0; i < b->n; i++)
            if ((r = be->apply(st->db, &b->v[i], e)) < 0) {
                be->rollback(st->db);
                return r;
            }
    r = be->commit(st->db, e);
    if (r < 0) {
        be->rollback(st->db);
        return r;
    }
    atomic_fetch_add(&st->commits, 1);
    return 0;
}

/*
 * Writes a group in one transaction. When that fails, each batch is tried
 * alone, in order, so one bad batch cannot take its neighbours with it.
 */
static void group_write(struct store *st, struct batch_list *g)
{
    struct err e = {0};
    int r = transaction_run(st, g->head, NULL, &e);
    if (r == 0 || g->batches == 1) {
        for (struct store_batch *b = g->head; b; b = b->next)
            b->result = r == 0 ? 0 : HALE_ESTORE;
        if (r < 0)
            log_warn("store", NULL, "batch of %zu records not written: %s", g->head->n, e.msg);
        return;
    }
    log_debug("store", NULL, "group of %zu batches failed, retrying each alone: %s", g->batches,
              e.msg);
    for (struct store_batch *b = g->head; b; b = b->next) {
        struct err be = {0};
        b->result = transaction_run(st, b, b->next, &be) == 0 ? 0 : HALE_ESTORE;
        if (b->result < 0)
            log_warn("store", NULL, "batch of %zu records not written: %s", b->n, be.msg);
    }
}

static struct timespec mono_timespec(uint64_t ns)
{
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000u),
                             .tv_nsec = (long)(ns % 1000000000u)};
}

/* With the lock held and a batch queued: lets neighbours join the first batch. */
static void group_gather(struct store *st)
{
    if (st->window_ns == 0)
        return;
    struct timespec deadline = mono_timespec(st->queue.head->submit_ns + st->window_ns);
    while (!st->stopping && !group_is_full(&st->queue))
        if (pthread_cond_timedwait(&st->wake, &st->lock, &deadline) == ETIMEDOUT)
            break;
}

/* With the lock held: the oldest queued batches, within the caps of a group. */
static struct batch_list group_take(struct store *st)
{
    struct batch_list g = {0};
    do
        list_push(&g, list_pop(&st->queue));
    while (st->queue.head && !group_is_full(&g) &&
           g.records + batch_weight(st->queue.head) <= STORE_GROUP_MAX_RECORDS);
    return g;
}

/* With the lock held and a batch queued: writes the next group, the lock released meanwhile. */
static void group_run(struct store *st)
{
    group_gather(st);
    struct batch_list g = group_take(st);
    pthread_cond_broadcast(&st->room);
    pthread_mutex_unlock(&st->lock);

    group_write(st, &g);

    pthread_mutex_lock(&st->lock);
    list_splice(&st->done, &g);
    uv_async_send(st->done_async);
}

/* With the lock held and the pass running: its next step, the lock released meanwhile. */
static void job_run(struct store *st)
{
    bool stopping = st->stopping;
    pthread_mutex_unlock(&st->lock);

    bool over = store__compact_step(st->job, st->backend, st->db, stopping);

    pthread_mutex_lock(&st->lock);
    if (over) {
        st->job_running = false;
        st->job_over = true;
        uv_async_send(st->done_async);
    }
}

static void *writer_main(void *data)
{
    struct store *st = data;
    pthread_mutex_lock(&st->lock);
    for (;;) {
        while (!st->queue.head && !st->stopping && !st->job_running)
            pthread_cond_wait(&st->wake, &st->lock);
        if (st->queue.head)
            group_run(st);
        /* Batches and the pass take turns: neither waits for the other to finish. */
        if (st->job_running)
            job_run(st);
        else if (!st->queue.head && st->stopping)
            break; /* everything submitted is written */
    }
    pthread_mutex_unlock(&st->lock);
    return NULL;
}

/* ---- back on the loop ------------------------------------------------- */

/* Runs the callbacks of the written batches, in submission order. */
static void done_run(struct store *st)
{
    pthread_mutex_lock(&st->lock);
    struct batch_list done = st->done;
    st->done = (struct batch_list){0};
    struct store__compact_job *job = st->job_over ? st->job : NULL;
    st->job_over = false;
    pthread_mutex_unlock(&st->lock);

    while (done.head) {
        struct store_batch *b = list_pop(&done);
        st->in_flight--;
        if (b->cb)
            b->cb(b->result, b->data);
        store_batch_free(b);
    }
    if (job) {
        st->job = NULL; /* first: the callback may start the next pass */
        st->in_flight--;
        if (job->cb)
            job->cb(job->result, &job->done, job->data);
        free(job);
    }
    /* Nothing in flight: the store no longer keeps the loop running. */
    if (st->in_flight == 0 && !st->closing)
        uv_unref((uv_handle_t *)st->done_async);
}

static void on_done_async(uv_async_t *h)
{
    done_run(h->data);
}

static void on_async_closed(uv_handle_t *h)
{
    free(h);
}

/* Only texts are cut: the data of an entry is JSON for machines, and short. */
static void batch_cap(const struct store *st, struct store_batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->v[i].kind == STORE_RECORD_TIMELINE && b->v[i].u.timeline.text)
            store_text_cap(&b->v[i].u.timeline.text, st->output_max);
        else if (b->v[i].kind == STORE_RECORD_RUN_STEP && b->v[i].u.run_step.output)
            store_text_cap(&b->v[i].u.run_step.output, st->output_max);
}

void store_submit(struct store *st, struct store_batch *b, store_done_cb *cb, void *data)
{
    assert(!st->closing);
    batch_cap(st, b);
    b->cb = cb;
    b->data = data;
    b->result = 0;
    b->submit_ns = clock_mono_ns();
    if (st->in_flight++ == 0)
        uv_ref((uv_handle_t *)st->done_async);

    pthread_mutex_lock(&st->lock);
    while (st->queue.records >= STORE_QUEUE_MAX_RECORDS)
        pthread_cond_wait(&st->room, &st->lock);
    bool was_empty = st->queue.head == NULL;
    list_push(&st->queue, b);
    /* The writer sleeps until the first batch, then until the window ends or a cap is hit. */
    if (was_empty || group_is_full(&st->queue))
        pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
}

/* ---- open and close --------------------------------------------------- */

static int writer_start(struct store *st, struct err *e)
{
    /* Signals are the loop's business; the writer never takes one. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int r = pthread_create(&st->writer, NULL, writer_main, st);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (r != 0)
        return err_setf(e, HALE_ESTORE, "cannot start the store's writer thread: %s", strerror(r));
    return 0;
}

static void sync_init(struct store *st)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* the window ignores clock steps */
    pthread_cond_init(&st->wake, &ca);
    pthread_cond_init(&st->room, NULL);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&st->lock, NULL);
}

static void sync_destroy(struct store *st)
{
    pthread_cond_destroy(&st->wake);
    pthread_cond_destroy(&st->room);
    pthread_mutex_destroy(&st->lock);
}

/* Frees what store_open() set up, the writer aside; the async handle closes later. */
static void store_free(struct store *st)
{
    uv_close((uv_handle_t *)st->done_async, on_async_closed);
    st->backend->close(st->db);
    sync_destroy(st);
    free(st);
}

static int db_open(const struct store_options *o, const struct store_backend *backend,
                   struct store_db **ret_db, struct store__last_ids *ret_last, struct err *e)
{
    struct store_db *db;
    int r = backend->open(o, &db, e);
    if (r < 0)
        return r;
    r = backend->migrate(db, e);
    if (r == 0)
        r = backend->last_ids(db, ret_last, e);
    if (r < 0) {
        backend->close(db);
        return r;
    }
    *ret_db = db;
    return 0;
}

int store__open_backend(const struct store_options *o, const struct store_backend *backend,
                        struct store **ret_store, struct err *e)
{
    assert(o->data_dir && o->uv);
    struct store_db *db;
    struct store__last_ids last;
    int r = db_open(o, backend, &db, &last, e);
    if (r < 0)
        return r;

    struct store *st = xcalloc(1, sizeof(*st));
    st->backend = backend;
    st->db = db;
    st->uv = o->uv;
    st->window_ns = (uint64_t)o->commit_window_ms * 1000000u;
    st->last_incident_id = last.incident;
    st->last_problem_id = last.problem;
    st->last_silence_id = last.silence;
    st->last_run_id = last.run;
    st->last_notification_id = last.notification;
    st->last_event_id = last.event;
    store_set_output_max(st, o->output_max);
    st->chunk = o->compact_chunk ? o->compact_chunk : STORE_COMPACT_CHUNK_DEFAULT;
    atomic_init(&st->commits, 0);
    atomic_init(&st->readers, 0);
    sync_init(st);

    st->done_async = xcalloc(1, sizeof(*st->done_async));
    r = uv_async_init(o->uv, st->done_async, on_done_async);
    if (r < 0) {
        free(st->done_async);
        backend->close(db);
        sync_destroy(st);
        free(st);
        return err_setf(e, HALE_ESTORE, "store: %s", uv_strerror(r));
    }
    st->done_async->data = st;
    uv_unref((uv_handle_t *)st->done_async); /* referenced only while writes are in flight */

    r = writer_start(st, e);
    if (r < 0) {
        store_free(st);
        return r;
    }
    *ret_store = st;
    return 0;
}

int store_open(const struct store_options *o, struct store **ret_store, struct err *e)
{
    return store__open_backend(o, &store__sqlite, ret_store, e);
}

void store_close(struct store *st)
{
    if (!st)
        return;
    assert(atomic_load(&st->readers) == 0);
    pthread_mutex_lock(&st->lock);
    st->stopping = true;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    pthread_join(st->writer, NULL);

    /* The writer has written everything queued; the loop may not run again before we free. */
    st->closing = true;
    done_run(st);
    store_free(st);
}

const char *store_path(const struct store *st)
{
    return st->backend->path(st->db);
}

int64_t store_next_incident_id(struct store *st)
{
    return ++st->last_incident_id;
}

int64_t store_next_problem_id(struct store *st)
{
    return ++st->last_problem_id;
}

int64_t store_next_silence_id(struct store *st)
{
    return ++st->last_silence_id;
}

int64_t store_next_run_id(struct store *st)
{
    return ++st->last_run_id;
}

int64_t store_next_notification_id(struct store *st)
{
    return ++st->last_notification_id;
}

int64_t store_next_event_id(struct store *st)
{
    return ++st->last_event_id;
}

uint64_t store__commits(const struct store *st)
{
    return atomic_load(&st->commits);
}

void store_set_output_max(struct store *st, size_t max)
{
    st->output_max = max == 0                     ? STORE_OUTPUT_MAX_DEFAULT
                     : max < STORE_OUTPUT_MAX_MIN ? STORE_OUTPUT_MAX_MIN
                                                  : max;
}

/* ---- retention -------------------------------------------------------- */

int store_compact(struct store *st, const struct store_retention *r, int64_t now_ms,
                  store_compact_cb *cb, void *data)
{
    assert(!st->closing);
    if (st->job)
        return HALE_ESTATE;
    st->job = store__compact_job_new(r, now_ms, st->chunk, cb, data);
    if (st->in_flight++ == 0)
        uv_ref((uv_handle_t *)st->done_async);
    pthread_mutex_lock(&st->lock);
    st->job_running = true;
    pthread_cond_signal(&st->wake);
    pthread_mutex_unlock(&st->lock);
    return 0;
}

uint64_t store_size(const struct store *st)
{
    return st->backend->size(st->db);
}

/* ---- reads ------------------------------------------------------------ */

int store_reader_open(struct store *st, struct store_reader **ret_reader, struct err *e)
{
    struct store_reader *r;
    int rc = st->backend->reader_open(st->db, &r, e);
    if (rc < 0)
        return rc;
    r->backend = st->backend;
    r->store = st;
    atomic_fetch_add(&st->readers, 1);
    *ret_reader = r;
    return 0;
}

void store_reader_close(struct store_reader *r)
{
    if (!r)
        return;
    struct store *st = r->store;
    r->backend->reader_close(r);
    atomic_fetch_sub(&st->readers, 1);
}

int store_incident_get(struct store_reader *r, int64_t id, struct incident *ret)
{
    return r->backend->incident_get(r, id, ret);
}

int store_incidents_list(struct store_reader *r, const struct store_incident_query *q,
                         struct incident **ret_v, size_t *ret_n)
{
    return r->backend->incidents_list(r, q, ret_v, ret_n);
}

int store_timeline_list(struct store_reader *r, int64_t incident_id, struct timeline_entry **ret_v,
                        size_t *ret_n)
{
    return r->backend->timeline_list(r, incident_id, ret_v, ret_n);
}

int store_problem_timeline_list(struct store_reader *r, int64_t problem_id,
                                struct timeline_entry **ret_v, size_t *ret_n)
{
    return r->backend->problem_timeline_list(r, problem_id, ret_v, ret_n);
}

int store_audit_list(struct store_reader *r, const struct store_audit_query *q,
                     struct audit_entry **ret_v, size_t *ret_n)
{
    return r->backend->audit_list(r, q, ret_v, ret_n);
}

int store_problem_get(struct store_reader *r, int64_t id, struct problem *ret)
{
    return r->backend->problem_get(r, id, ret);
}

int store_problems_list(struct store_reader *r, struct problem **ret_v, size_t *ret_n)
{
    return r->backend->problems_list(r, ret_v, ret_n);
}

int store_check_states_list(struct store_reader *r, const char *check, int64_t since_ms,
                            struct store_check_state **ret_v, size_t *ret_n)
{
    return r->backend->check_states_list(r, check, since_ms, ret_v, ret_n);
}

int store_events_list(struct store_reader *r, const struct store_event_query *q,
                      struct store_event **ret_v, size_t *ret_n)
{
    return r->backend->events_list(r, q, ret_v, ret_n);
}

int store_events_held(struct store_reader *r, int64_t incident_id, struct store_held_event **ret_v,
                      size_t *ret_n)
{
    return r->backend->events_held(r, incident_id, ret_v, ret_n);
}

int store_silence_get(struct store_reader *r, int64_t id, struct store_silence *ret)
{
    return r->backend->silence_get(r, id, ret);
}

int store_silences_list(struct store_reader *r, const struct store_silence_query *q,
                        struct store_silence **ret_v, size_t *ret_n)
{
    return r->backend->silences_list(r, q, ret_v, ret_n);
}

int store_run_get(struct store_reader *r, int64_t id, struct store_run *ret)
{
    return r->backend->run_get(r, id, ret);
}

int store_runs_list(struct store_reader *r, const struct store_run_query *q,
                    struct store_run **ret_v, size_t *ret_n)
{
    return r->backend->runs_list(r, q, ret_v, ret_n);
}

int store_run_steps_list(struct store_reader *r, int64_t run_id, struct store_run_step **ret_v,
                         size_t *ret_n)
{
    return r->backend->run_steps_list(r, run_id, ret_v, ret_n);
}

int store_runs_since(struct store_reader *r, int64_t since_ms, struct store_run **ret_v,
                     size_t *ret_n)
{
    return r->backend->runs_since(r, since_ms, ret_v, ret_n);
}

int store_quarantines_list(struct store_reader *r, struct store_quarantine **ret_v, size_t *ret_n)
{
    return r->backend->quarantines_list(r, ret_v, ret_n);
}

int store_notifications_list(struct store_reader *r, int64_t incident_id,
                             struct store_notification **ret_v, size_t *ret_n)
{
    return r->backend->notifications_list(r, incident_id, ret_v, ret_n);
}

void store_check_state_fini(struct store_check_state *s)
{
    if (!s)
        return;
    free(s->check);
    memset(s, 0, sizeof(*s));
}
