/* SPDX-License-Identifier: MIT */
/*
 * The daemon's silences: those of the configuration and those people
 * created through the API or `hale silence`, the latter kept in the store
 * so they survive a restart (expired ones too: they are history). The
 * engine reads them when it decides an event; the desk tells them when an
 * incident resolves, so the silences bound to it end; the API adds and
 * expires them. Loop thread only.
 *
 * Ids: a stored silence has the store's id (1, 2, ...); the silences of
 * the configuration are numbered -1, -2, ... in the order the
 * configuration lists them, so the two never clash. A reload renumbers
 * them when that order changes; they are never stored.
 *
 * In memory: the configuration's silences and the stored ones that are
 * not over. A stored silence that is over leaves memory at the next change
 * of the set (once no write of it is in flight) and lives on in the store
 * (history: store_silences_list()).
 * Adding writes first and holds the silence once durable; ending (by hand,
 * or its incident resolved) holds it ended at once and takes the state
 * before back if the write fails, so memory is always what the store has
 * or is about to have.
 */
#ifndef HALE_ENGINE_SILENCES_H
#define HALE_ENGINE_SILENCES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "config/config.h"
#include "engine/silence.h"
#include "store/store.h"

struct silences;

/*
 * Loads the stored silences through a reader of st and adds those of
 * config (borrowed until the next silences_set_config()). Returns 0, or
 * HALE_ESTORE with e set.
 */
int silences_new(struct store *st, const struct config *config, struct silences **ret,
                 struct err *e);
/* Accepts NULL. */
void silences_free(struct silences *s);
/* After a reload: the configuration's silences are replaced by config's. */
void silences_set_config(struct silences *s, const struct config *config);

/*
 * Every silence, configured and stored, active or not, for
 * engine_view.silences. Borrowed: valid until the next call that changes
 * the set (add, expire, incident resolved, set_config) or the next store
 * callback of the loop (an add becoming durable).
 */
const struct silence *silences_view(const struct silences *s, size_t *ret_n);

/* The desk resolved incident_id: the silences bound to it end now, durably. */
void silences_incident_resolved(struct silences *s, int64_t incident_id, int64_t now_ms);

/*
 * The silence with id among those held (the configuration's, and stored
 * ones not over), or NULL. Borrowed as silences_view().
 */
const struct silence *silences_get(const struct silences *s, int64_t id);

/*
 * Hears that an add or an expiry is durable (result 0; sl is the silence
 * as stored, borrowed for the call) or failed (HALE_ESTORE; sl is the
 * silence that was not written, and the registry is as before).
 */
typedef void silences_done_cb(int result, const struct silence *sl, void *data);

/*
 * Adds a silence people made (the API, `hale silence add`): takes what
 * taken holds (zeroed, whatever the result). It must be source api; a
 * start of 0 becomes now. Refused at once with -EINVAL, e saying what to
 * change, when silence_check() refuses it or it would be over already.
 * Else assigns its id, writes it and an audit entry ("silence.create",
 * target "silence:ID", by actor from origin) in one batch, returns 0 and
 * calls cb (may be NULL) once durable; from then on it is held.
 */
int silences_add(struct silences *s, struct silence *taken, const char *actor, const char *origin,
                 silences_done_cb *cb, void *data, struct err *e);

/*
 * Ends silence id now, by hand: writes it ended (ended_by actor) and an
 * audit entry ("silence.expire") in one batch, returns 0 and calls cb
 * (may be NULL) once durable. Refused at once, cb never called:
 * HALE_ENOTFOUND when no silence id is held (unknown, or expired a while
 * ago: the store has it), HALE_ESTATE for a silence of the configuration
 * (e says to edit the configuration) or one that is expired already.
 */
int silences_expire(struct silences *s, int64_t id, const char *actor, const char *origin,
                    silences_done_cb *cb, void *data, struct err *e);

/*
 * A stored row as a silence (initialised here; free with silence_fini()).
 * Returns 0, or HALE_EPARSE with e saying which field does not parse.
 */
int silences_from_row(const struct store_silence *row, struct silence *ret, struct err *e);
/*
 * A silence as the store keeps it (copied into ret; free with
 * store_silence_fini()); ended_ms and ended_by are left unset.
 */
void silences_to_row(const struct silence *sl, struct store_silence *ret);

#endif
