/* SPDX-License-Identifier: MIT */
/*
 * hale's values as JSON, one encoder each, shared by the API and the
 * reports so both show an incident the same way (docs/api.md, "Incidents").
 * Every function returns a new reference and never fails on content: text
 * that is not valid UTF-8 has those bytes replaced by U+FFFD.
 */
#ifndef HALE_CODEC_JSON_H
#define HALE_CODEC_JSON_H

#include <stdint.h>

#include <jansson.h>

#include "base/labels.h"
#include "itsm/incident.h"
#include "runbook/ledger.h"
#include "store/store.h"

/* Any bytes (a path, a command's output) as a JSON string; NULL gives null. */
json_t *codec_json_text(const char *s);
/* Unix ms as RFC 3339 UTC with milliseconds; 0 or less ("not yet") gives null. */
json_t *codec_json_time(int64_t ms);
/* A label set as an object of strings. */
json_t *codec_json_labels(const struct labels *l);

json_t *codec_json_incident(const struct incident *i);
/* A fingerprint as 16 lowercase hex digits, as Alertmanager writes it. */
json_t *codec_json_fingerprint(uint64_t fp);
/* An event received, with its verdict (GET /api/v1/events). */
json_t *codec_json_event(const struct store_event *ev);
/* Its data as JSON when it parses, else as text. */
json_t *codec_json_timeline_entry(const struct timeline_entry *t);
/* NULL gives null. */
json_t *codec_json_problem(const struct problem *p);
/* Its detail as JSON when it parses, else as text. */
json_t *codec_json_audit_entry(const struct audit_entry *a);

/* A run with its approval gate (null: it met none); steps_total 0 gives null. */
json_t *codec_json_run(const struct store_run *r, size_t steps_total);
/* One attempt of one step of a run, with its output. */
json_t *codec_json_run_step(const struct store_run_step *s);
/* A runbook's (or with a target, one target's) effectiveness. */
json_t *codec_json_runbook_stats(const struct ledger_stats *s);
/*
 * A runbook of the configuration: team, description, steps, guard,
 * relapse rules, its quarantine (q NULL: null), its total statistics and
 * those of each target (stats as ledger_stats_list() gives them for it).
 */
json_t *codec_json_runbook(const struct config_runbook *rb, const struct ledger_quarantine *q,
                           const struct ledger_stats *stats, size_t n_stats);

#endif
