/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for Alertmanager's webhook payload (POST
 * /api/v1/alertmanager): any JSON text either decodes into events within
 * every limit (plus the five alertmanager_* annotations) or is refused
 * with a located error; see ingest_fuzz.h.
 */
#include <stdint.h>

#include "ingest_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ingest_fuzz_one(ingest_alertmanager_decode, EVENT_SOURCE_ALERTMANAGER, 5, data, size);
}
