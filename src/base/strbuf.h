/* SPDX-License-Identifier: MIT */
/*
 * A growable, always NUL-terminated byte buffer, with an optional hard cap
 * so that input from outside (request bodies, child output) can never grow
 * it without bound. Embedded: strbuf_init()/strbuf_fini().
 */
#ifndef HALE_BASE_STRBUF_H
#define HALE_BASE_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *s;    /* NUL-terminated; never NULL after strbuf_init() */
    size_t len; /* bytes used, not counting the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* largest len allowed; 0 means no cap */
};

/* max == 0: unbounded. */
void strbuf_init(struct strbuf *b, size_t max);
void strbuf_fini(struct strbuf *b);
void strbuf_reset(struct strbuf *b);

/* Append; return 0, or HALE_ELIMIT (and append nothing) past the cap. */
int strbuf_add(struct strbuf *b, const void *data, size_t len);
int strbuf_adds(struct strbuf *b, const char *s);
int strbuf_addc(struct strbuf *b, char c);
/*
 * Appends s with every byte that does not start a valid UTF-8 sequence
 * replaced by U+FFFD, so text from outside (a command's output, a file)
 * can go into JSON.
 */
int strbuf_add_utf8(struct strbuf *b, const char *s);
/*
 * The length of the valid UTF-8 sequence at p (n > 0 bytes left), 0 when
 * none starts there: no overlong forms, surrogates or code points past
 * U+10FFFF. Any thread.
 */
size_t strbuf_utf8_seq_len(const void *p, size_t n);
/*
 * Appends s as a JSON string, quoted, escaped as jansson escapes it (", \,
 * \b \f \n \r \t and \u00XX for the other control characters; the rest
 * as is), so text written here reads back the same through jansson and
 * equals what jansson writes. Returns HALE_EPARSE, with b as it was, when
 * s is not UTF-8 (JSON cannot carry it); HALE_ELIMIT past the cap.
 */
int strbuf_add_json_string(struct strbuf *b, const char *s);
/*
 * Appends len bytes of s as text of HTML or XML: & < > " ' as entities,
 * the control characters XML 1.0 forbids (all below 0x20 but tab, newline
 * and carriage return) as spaces. Reports, mails and SVG graphs share it.
 */
int strbuf_add_html(struct strbuf *b, const char *s, size_t len);
int strbuf_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *b, const char *fmt, va_list ap)
        __attribute__((format(printf, 2, 0)));

/* Hands the buffer to the caller (free with free()) and leaves b empty. */
char *strbuf_detach(struct strbuf *b, size_t *ret_len);

#endif
