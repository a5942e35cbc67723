/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for hale's events body (POST /api/v1/events): any text
 * either decodes into events within every limit or is refused with a
 * located error; see ingest_fuzz.h. The decoder reads the text itself, so
 * it must also agree with jansson on what is JSON: a text jansson refuses
 * is refused as invalid JSON, and one it takes is not.
 */
#include <stdint.h>
#include <string.h>

#include "ingest_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event *v = NULL;
    size_t n = 0;
    struct ingest_error e = {.index = -2};
    int r = ingest_events_decode((const char *)data, size, INGEST_FUZZ_NOW, &v, &n, &e);
    ingest_fuzz_check_result(r, v, n, &e, EVENT_SOURCE_API, 0);
    /* \u0000 is left to the decoder in values (jansson needs JSON_ALLOW_NUL for it) */
    json_t *j = json_loadb((const char *)data, size,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    /* jansson takes a raw NUL byte after a number for the end of the text; JSON refuses it. */
    if (size > 0 && !memchr(data, 0, size))
        ingest_fuzz_require((j == NULL) == (r < 0 && e.line != 0));
    json_decref(j);
    return 0;
}
