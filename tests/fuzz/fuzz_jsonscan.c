/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the strict JSON scanner (codec/jsonscan.c): it must
 * agree with jansson (duplicates refused, any value at the top, \u0000
 * allowed in values) on what is JSON, never read past the text, and name
 * a place for every error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec/jsonscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct codec_jsonscan s;
    codec_jsonscan_init(&s, (const char *)data, size);
    enum codec_jsonscan_token tok;
    int r;
    do {
        r = codec_jsonscan_next(&s, &tok);
    } while (r == 0 && tok != CODEC_JSONSCAN_END);
    if (r < 0 && (s.error_line < 1 || s.error_column < 1 || !s.error[0]))
        abort();
    json_t *j = json_loadb((const char *)data, size,
                           JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    /* jansson takes a raw NUL byte after a number for the end of the text; JSON refuses it. */
    if ((j == NULL) != (r < 0) && !memchr(data, 0, size))
        abort();
    json_decref(j);
    codec_jsonscan_fini(&s);
    return 0;
}
