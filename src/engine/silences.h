/* SPDX-License-Identifier: MIT */
/*
 * The daemon's silences: those of the configuration and those people
 * created through the API or `hale silence`, the latter kept in the store
 * so they survive a restart (expired ones too: they are history). The
 * engine reads them when it decides an event; the desk tells them when an
 * incident resolves, so the silences bound to it end. Loop thread only.
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
 * the set (add, expire, incident resolved, set_config).
 */
const struct silence *silences_view(const struct silences *s, size_t *ret_n);

/* The desk resolved incident_id: the silences bound to it end now, durably. */
void silences_incident_resolved(struct silences *s, int64_t incident_id, int64_t now_ms);

#endif
