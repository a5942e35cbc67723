/* SPDX-License-Identifier: MIT */
/*
 * A strict JSON pull scanner (RFC 8259): the tokens of a text one at a
 * time, strings decoded into a buffer the scanner reuses, so a decoder
 * (src/ingest/events.c) builds its own structs straight from the text
 * without a tree in between. Nothing JSON forbids gets through: no
 * trailing commas, comments, bare words or leading zeros; strings must be
 * UTF-8 with valid escapes and surrogate pairs, without raw control
 * characters; one value, then only white space; duplicate names in an
 * object are refused, as jansson's JSON_REJECT_DUPLICATES refuses them.
 * Every error names its line and column.
 */
#ifndef HALE_CODEC_JSONSCAN_H
#define HALE_CODEC_JSONSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"

/* Arrays and objects nested deeper are refused (jansson's limit too). */
#define CODEC_JSONSCAN_DEPTH_MAX 2048

enum codec_jsonscan_token {
    CODEC_JSONSCAN_END,        /* the value is complete and only white space followed */
    CODEC_JSONSCAN_OBJECT,     /* { */
    CODEC_JSONSCAN_OBJECT_END, /* } */
    CODEC_JSONSCAN_ARRAY,      /* [ */
    CODEC_JSONSCAN_ARRAY_END,  /* ] */
    CODEC_JSONSCAN_NAME,       /* a member's name, in str (never holds a NUL) */
    CODEC_JSONSCAN_STRING,     /* a string value, in str */
    CODEC_JSONSCAN_NUMBER,     /* a number, its text in str */
    CODEC_JSONSCAN_TRUE,
    CODEC_JSONSCAN_FALSE,
    CODEC_JSONSCAN_NULL,
};

/* One object's member name, kept until the object closes to find a name given twice. */
struct codec_jsonscan_name;

/* One open array or object. */
struct codec_jsonscan_frame;

struct codec_jsonscan {
    /*
     * The decoded text of the last NAME, STRING or NUMBER: NUL-terminated
     * after str.len bytes, overwritten by the next one. A string value
     * with \u0000 holds a NUL and has str_nul set, for the caller to
     * decide (a name with one is refused here).
     */
    struct strbuf str;
    bool str_nul;

    /* After an error: where (from 1; the column counts bytes) and why. */
    unsigned error_line;
    unsigned error_column;
    char error[128];

    /* Private. */
    const char *text;
    size_t len, pos;
    int state;
    struct codec_jsonscan_frame *frames;
    size_t depth, frames_cap;
    struct codec_jsonscan_name *names;
    size_t n_names, names_cap;
    struct strbuf name_text; /* the names of the open objects, one after another */
};

/* Starts scanning len bytes of text (borrowed until codec_jsonscan_fini()). */
void codec_jsonscan_init(struct codec_jsonscan *s, const char *text, size_t len);
void codec_jsonscan_fini(struct codec_jsonscan *s);

/*
 * The next token into *ret. Returns 0, or HALE_EPARSE with error,
 * error_line and error_column set; the scanner then stays failed. After
 * END, END again.
 */
int codec_jsonscan_next(struct codec_jsonscan *s, enum codec_jsonscan_token *ret);

/*
 * Skips the rest of the value whose first token was tok: through the
 * matching end of an OBJECT or ARRAY (checked as strictly as the rest),
 * nothing for a scalar. Returns 0 or HALE_EPARSE as codec_jsonscan_next().
 */
int codec_jsonscan_skip(struct codec_jsonscan *s, enum codec_jsonscan_token tok);

#endif
