/* SPDX-License-Identifier: MIT */
/*
 * Retention, the backend-independent half: the cap of a stored text, and
 * the compaction pass the writer thread runs a step at a time between
 * groups of batches (store.c). A pass deletes each kind of expired record
 * in chunks through the backend (internal.h), then gives the free space
 * back in chunks, then folds the write-ahead log; each step is one short
 * transaction, so a batch submitted meanwhile waits for one step at most.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "store/internal.h"

/* Free space a vacuum step gives back: a short transaction, a few megabytes written. */
#define STORE_VACUUM_CHUNK_BYTES (2u << 20)

/* ---- the cap of a text ------------------------------------------------ */

#define CUT_OPEN     "\n[... "
#define CUT_CLOSE    " bytes cut]\n"
/* The note with the longest count a size_t can hold. */
#define CUT_NOTE_MAX (sizeof(CUT_OPEN) - 1 + 20 + sizeof(CUT_CLOSE) - 1)

static bool is_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

size_t store_text_cap(char **text, size_t max)
{
    char *s = *text;
    size_t len = strlen(s);
    if (max < STORE_OUTPUT_MAX_MIN)
        max = STORE_OUTPUT_MAX_MIN; /* first: the cut below needs this much room */
    if (len <= max)
        return 0;
    size_t keep = max - CUT_NOTE_MAX;
    /*
     * Half each: what a command printed first says what it was doing, what
     * it printed last is usually why it failed. A character is never split:
     * the head ends before one that would not fit, the tail starts after it
     * (three steps at most, as a UTF-8 character has at most three bytes
     * after its first; bytes that are not UTF-8 are cut anywhere).
     */
    size_t head = keep / 2, tail_start = len - (keep - keep / 2);
    for (int k = 0; k < 3 && head > 0 && is_continuation(s[head]); k++)
        head--;
    for (int k = 0; k < 3 && tail_start < len && is_continuation(s[tail_start]); k++)
        tail_start++;
    size_t cut = tail_start - head;
    char note[CUT_NOTE_MAX + 1];
    int n = snprintf(note, sizeof(note), CUT_OPEN "%zu" CUT_CLOSE, cut);
    size_t tail = len - tail_start;
    /* The result is shorter than the text: build it in place, the tail moving left. */
    memmove(s + head + (size_t)n, s + tail_start, tail + 1);
    memcpy(s + head, note, (size_t)n);
    *text = xrealloc(s, head + (size_t)n + tail + 1);
    return cut;
}

/* ---- compaction ------------------------------------------------------- */

struct store__compact_job *store__compact_job_new(const struct store_retention *r, int64_t now_ms,
                                                  size_t chunk, store_compact_cb *cb, void *data)
{
    struct store__compact_job *j = xcalloc(1, sizeof(*j));
    j->retention = *r;
    j->now_ms = now_ms;
    j->chunk = chunk;
    j->cb = cb;
    j->data = data;
    j->start_ns = clock_mono_ns();
    j->stage = STORE_COMPACT_INCIDENTS;
    j->cursor = (struct store_compact_cursor){INT64_MIN, INT64_MIN};
    return j;
}

/* How long the stage's records are kept; 0: forever. */
static uint64_t stage_keep_ms(const struct store__compact_job *j, enum store_compact_stage stage)
{
    const struct store_retention *r = &j->retention;
    switch (stage) {
    case STORE_COMPACT_INCIDENTS:
        return r->closed_incidents_ms;
    case STORE_COMPACT_EVENTS:
    case STORE_COMPACT_EVENT_ROWS:
        return r->events_ms;
    case STORE_COMPACT_OUTPUTS:
        return r->outputs_ms;
    case STORE_COMPACT_CHECK_STATES:
        return r->check_states_ms;
    case STORE_COMPACT_AUDIT:
        return r->audit_ms;
    default:
        return 0;
    }
}

/* The cut-off of a deleting stage: false when nothing of it can have expired. */
static bool stage_cutoff(const struct store__compact_job *j, enum store_compact_stage stage,
                         int64_t *ret_cutoff)
{
    uint64_t keep = stage_keep_ms(j, stage);
    if (keep == 0 || j->now_ms < 0 || keep > (uint64_t)j->now_ms)
        return false;
    *ret_cutoff = j->now_ms - (int64_t)keep;
    return true;
}

static void stage_next(struct store__compact_job *j)
{
    j->stage++;
    j->cursor = (struct store_compact_cursor){INT64_MIN, INT64_MIN};
}

static uint64_t deleted(const struct store_compaction *c)
{
    return c->incidents + c->timeline + c->events + c->outputs + c->check_states + c->audit +
           c->runs + c->notifications;
}

static bool job_end(struct store__compact_job *j, const struct store_backend *be,
                    struct store_db *db, int result)
{
    j->result = result;
    j->stage = STORE_COMPACT_DONE;
    j->done.size_after = be->size(db);
    j->done.duration_ms = (clock_mono_ns() - j->start_ns) / 1000000;
    return true;
}

/* One chunk of the first deleting stage left with something to do. */
static int delete_step(struct store__compact_job *j, const struct store_backend *be,
                       struct store_db *db, struct err *e)
{
    int64_t cutoff;
    while (j->stage < STORE_COMPACT_VACUUM && !stage_cutoff(j, j->stage, &cutoff))
        stage_next(j);
    if (j->stage == STORE_COMPACT_VACUUM)
        return 0;
    uint64_t before = deleted(&j->done);
    bool more = false;
    int r = be->compact_chunk(db, j->stage, cutoff, j->chunk, &j->cursor, &j->done, &more, e);
    if (r < 0)
        return r;
    if (deleted(&j->done) != before)
        j->done.chunks++;
    if (!more)
        stage_next(j);
    return 0;
}

bool store__compact_step(struct store__compact_job *j, const struct store_backend *be,
                         struct store_db *db, bool stopping)
{
    if (stopping)
        return job_end(j, be, db, -ECANCELED);
    if (!j->sized) {
        j->done.size_before = be->size(db);
        j->sized = true;
    }
    struct err e = {0};
    int r = 0;
    if (j->stage < STORE_COMPACT_VACUUM) {
        r = delete_step(j, be, db, &e);
    } else if (j->stage == STORE_COMPACT_VACUUM) {
        uint64_t freed = 0;
        bool more = false;
        r = be->vacuum_chunk(db, STORE_VACUUM_CHUNK_BYTES, &freed, &more, &e);
        j->done.freed_bytes += freed;
        if (r == 0 && !more)
            stage_next(j);
    } else {
        r = be->checkpoint(db, &e);
        if (r == HALE_ESTATE) {
            log_debug("store", NULL, "write-ahead log not emptied: %s", e.msg);
            r = 0;
        }
        if (r == 0)
            return job_end(j, be, db, 0);
    }
    if (r < 0) {
        j->done.error = e;
        return job_end(j, be, db, HALE_ESTORE);
    }
    return false;
}
