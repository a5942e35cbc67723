/* SPDX-License-Identifier: MIT */
/*
 * An event's fingerprint: a stable hash of the labels that identify it, so
 * the same broken thing reported again (by a check, by the events API, by
 * Alertmanager's resends) is recognised as the same and deduplicated onto
 * its open incident. Which labels identify an event is the configuration's
 * `engine.fingerprint_labels`; annotations never count.
 */
#ifndef HALE_ENGINE_FINGERPRINT_H
#define HALE_ENGINE_FINGERPRINT_H

#include <stdint.h>

#include "base/labels.h"
#include "config/config.h"
#include "engine/event.h"

/*
 * FNV-1a 64 over the label names in byte order, each name and each value
 * followed by a 0xFF byte: Prometheus's and Alertmanager's fingerprint, so
 * a label set has here the fingerprint Alertmanager shows for it.
 *
 * identifying (NULL or empty: every label) names the labels that count;
 * the order in which they are listed does not matter, and those the event
 * lacks are left out. An event that has none of them is fingerprinted by
 * all of its labels instead, so that unrelated events never share the
 * empty set's fingerprint. Pure; any thread.
 */
uint64_t engine_fingerprint(const struct labels *l, const struct config_strv *identifying);

/*
 * engine_fingerprint() of ev's labels, taking ev->labels_fingerprint when
 * it was computed ahead and every label counts: the same value, without
 * hashing the labels again on the loop. Pure; any thread.
 */
uint64_t engine_event_fingerprint(const struct event *ev, const struct config_strv *identifying);

#define ENGINE_FINGERPRINT_MAX 17
/* The fingerprint as Alertmanager writes it: 16 lowercase hex digits. Returns buf. */
const char *engine_fingerprint_format(uint64_t fp, char buf[ENGINE_FINGERPRINT_MAX]);

#endif
