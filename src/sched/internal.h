/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the scheduler's files (and its unit tests): the
 * entry and scheduler structs, and the four-ary min-heap of entries keyed by
 * (due_ms, id) that sched.c keeps and driver.c reads.
 */
#ifndef HALE_SCHED_INTERNAL_H
#define HALE_SCHED_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sched/sched.h"

enum sched__state {
    SCHED__IDLE,
    SCHED__QUEUED,
    SCHED__RUNNING,
};

/* One per check for as long as it runs, so kept small: no name (its phase was all it needed). */
struct sched_entry {
    uint64_t every_ms;
    void *data;
    uint64_t id; /* order of adding: breaks ties between equal due times */

    uint64_t due_ms; /* the next slot: the heap key */

    /* While queued (a zombie's links too): */
    struct sched_entry *q_prev, *q_next;
    uint64_t q_due_ms; /* the slot (or request time) the waiting run is for */
    uint64_t q_enq_ms; /* when it started waiting */

    struct sched_entry_stats stats;

    enum sched_entry_kind kind;
    enum sched__state state;
    bool removed; /* removed while running: freed at sched_run_done() */
    bool rerun;   /* run-now asked while running */
    bool q_now;   /* queued for a run-now */
};

/* A heap slot keeps its entry's key beside it: comparisons stay in the array. */
struct sched__heap_node {
    uint64_t due_ms;
    uint64_t id;
    struct sched_entry *e;
};

struct sched__heap {
    struct sched__heap_node *v;
    size_t n, cap;
};

void sched__heap_fini(struct sched__heap *h);
/* Room for n nodes in all; never shrinks. */
void sched__heap_reserve(struct sched__heap *h, size_t n);
/* Inserts e by e->due_ms; O(log n). */
void sched__heap_push(struct sched__heap *h, struct sched_entry *e);
/* Removes e, which must be in h; O(n) to find it, O(log n) for the top. */
void sched__heap_remove(struct sched__heap *h, struct sched_entry *e);
/* Restores order after e->due_ms changed; O(n) to find e, O(log n) for the top. */
void sched__heap_fix(struct sched__heap *h, struct sched_entry *e);
/* The entry with the smallest (due_ms, id), or NULL when empty. */
struct sched_entry *sched__heap_top(const struct sched__heap *h);
/* Checks the heap property and that every key is its entry's; for tests. */
bool sched__heap_is_valid(const struct sched__heap *h);

struct sched {
    const struct clock *clock;
    sched_run_cb *cb;
    unsigned max_children;
    unsigned children;
    uint64_t next_id;
    /* real - mono at creation, so slots line up with the wall clock. */
    uint64_t real_offset_ms;

    struct sched__heap heap;
    struct sched_entry *q_head, *q_tail;
    size_t n_queued;
    struct sched_entry *zombies; /* removed while running */

    bool busy; /* inside sched_tick() or a queue drain: callbacks must not recurse */

    /* Set by the driver: called after any change that may move the next slot. */
    void (*on_change)(void *data);
    void *on_change_data;
};

#endif
