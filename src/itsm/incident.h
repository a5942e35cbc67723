/* SPDX-License-Identifier: MIT */
/*
 * The records of the ITSM model, as plain data: an incident, an entry of
 * its timeline, an entry of the audit log, a problem. The store keeps them
 * (src/store/), the lifecycle rules move them (itsm.h); this header only
 * says what they hold, and names their enumerations for JSON, the CLI and
 * the database alike.
 *
 * Times are Unix milliseconds; 0 means "not yet". Strings are owned by the
 * record (free with the record's _fini) unless a comment says otherwise.
 */
#ifndef HALE_ITSM_INCIDENT_H
#define HALE_ITSM_INCIDENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/labels.h"

enum incident_type {
    INCIDENT_TYPE_INCIDENT, /* something broke */
    INCIDENT_TYPE_REQUEST,  /* somebody asked for something */
};

enum incident_state {
    INCIDENT_NEW,
    INCIDENT_ACKNOWLEDGED,
    INCIDENT_IN_PROGRESS,
    INCIDENT_RESOLVED,
    INCIDENT_CLOSED,
};

enum incident_severity {
    INCIDENT_SEVERITY_INFO,
    INCIDENT_SEVERITY_WARNING,
    INCIDENT_SEVERITY_CRITICAL,
};

enum incident_category {
    INCIDENT_CATEGORY_NETWORK,
    INCIDENT_CATEGORY_HARDWARE,
    INCIDENT_CATEGORY_SOFTWARE,
    INCIDENT_CATEGORY_DATA,
};

struct incident {
    int64_t id; /* 1, 2, ...: what people call it ("incident 42") */
    enum incident_type type;
    char *title;
    char *fingerprint; /* the same broken thing gives the same fingerprint */
    struct labels labels;
    enum incident_severity severity;
    unsigned priority; /* 1 (P1, highest) to 5 */
    enum incident_category category;
    char *team;     /* NULL: nobody's yet */
    char *assignee; /* NULL: unassigned */
    char *check;    /* the check that opened it, or NULL */
    enum incident_state state;
    int64_t opened_ms, acknowledged_ms, resolved_ms, closed_ms;
    char *resolved_by;  /* "hale" when a runbook healed it, else the person; NULL while open */
    char *root_cause;   /* NULL until somebody says */
    unsigned reopened;  /* times a recurrence reopened it */
    int64_t problem_id; /* the problem it is linked to, or 0 */
    int64_t updated_ms;
    /*
     * What the engine knows of it (docs/engine.md). service: the service
     * it is about (the `service` label of the event that opened it, or of
     * the upstream found to be its root cause), NULL for none; symptom_of:
     * the incident whose failure explains it, 0 when it is a root cause;
     * runbook: the runbook its route names, NULL for none.
     */
    char *service;
    int64_t symptom_of;
    char *runbook;
    unsigned events;  /* events counted on it: the opening one, joins, symptoms, repeats, ends */
    unsigned repeats; /* of those, the same event again (duplicates), counted, not listed */
    /*
     * A run of its runbook is in progress and decides its end by re-running
     * the check: the events' end does not resolve it meanwhile. Held by the
     * desk, never stored; the runbook executor sets it (until it exists,
     * nothing does, and events resolve incidents at once).
     */
    bool runbook_in_charge;
};

enum timeline_kind {
    TIMELINE_EVENT,        /* what a check or a source reported */
    TIMELINE_STATE,        /* a state change: new -> acknowledged, resolved -> new (reopened) */
    TIMELINE_ASSIGNMENT,   /* team or assignee changed */
    TIMELINE_NOTE,         /* a person's words */
    TIMELINE_STEP_STARTED, /* a runbook step */
    TIMELINE_STEP_OUTPUT,
    TIMELINE_STEP_FINISHED,
    TIMELINE_APPROVAL,
    TIMELINE_NOTIFICATION,
};

/*
 * An entry of an incident's or a problem's timeline: appended, never
 * changed. Exactly one of incident_id and problem_id is set.
 */
struct timeline_entry {
    int64_t id;
    int64_t incident_id; /* 0 on a problem's timeline */
    int64_t problem_id;  /* 0 on an incident's timeline */
    int64_t time_ms;
    enum timeline_kind kind;
    char *actor; /* "hale", "user:alice", "check:web-health", "source:alertmanager" */
    char *text;  /* for people: "critical (hard): HTTP 503 ..." */
    char *data;  /* optional JSON object for machines, or NULL */
};

/* Who did what, when, from where: every human action. */
struct audit_entry {
    int64_t id;
    int64_t time_ms;
    char *actor;  /* "user:alice" (the token's name) */
    char *action; /* "incident.ack", "incident.note", "token.create", ... */
    char *target; /* "incident:42" */
    char *origin; /* the client's address, "127.0.0.1" */
    char *detail; /* optional JSON object, or NULL */
};

enum problem_state {
    PROBLEM_OPEN,
    PROBLEM_KNOWN_ERROR,
    PROBLEM_RESOLVED,
};

/* What keeps breaking: opened when one fingerprint opens incidents again and again. */
struct problem {
    int64_t id;
    char *title;
    char *fingerprint;
    enum problem_state state;
    char *root_cause; /* NULL until known */
    char *workaround; /* NULL until known */
    int64_t opened_ms, resolved_ms, updated_ms;
    unsigned incidents; /* linked so far */
};

/* Deep copies of src into dst. */
void incident_copy(struct incident *dst, const struct incident *src);
void problem_copy(struct problem *dst, const struct problem *src);
void incident_fini(struct incident *i);
void timeline_entry_fini(struct timeline_entry *t);
void audit_entry_fini(struct audit_entry *a);
void problem_fini(struct problem *p);

/*
 * Names as they appear in JSON, the CLI and the database ("new",
 * "in_progress", "critical", "network", "step_output", "known_error"), and
 * back: the _parse functions return 0, or -EINVAL for an unknown name.
 */
const char *incident_type_name(enum incident_type t);
int incident_type_parse(const char *s, enum incident_type *ret);
const char *incident_state_name(enum incident_state s);
int incident_state_parse(const char *s, enum incident_state *ret);
const char *incident_severity_name(enum incident_severity s);
int incident_severity_parse(const char *s, enum incident_severity *ret);
const char *incident_category_name(enum incident_category c);
int incident_category_parse(const char *s, enum incident_category *ret);
const char *timeline_kind_name(enum timeline_kind k);
int timeline_kind_parse(const char *s, enum timeline_kind *ret);
const char *problem_state_name(enum problem_state s);
int problem_state_parse(const char *s, enum problem_state *ret);

#endif
