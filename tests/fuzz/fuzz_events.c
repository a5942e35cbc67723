/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for hale's events body (POST /api/v1/events): any JSON text
 * either decodes into events within every limit or is refused with a
 * located error; see ingest_fuzz.h.
 */
#include <stdint.h>

#include "ingest_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ingest_fuzz_one(ingest_events_decode, EVENT_SOURCE_API, 0, data, size);
}
