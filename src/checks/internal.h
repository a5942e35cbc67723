/* SPDX-License-Identifier: MIT */
/*
 * Declarations shared by the files of src/checks/ and nobody else: the
 * parser notes an observation carries, and the number syntax perfdata
 * uses in both directions.
 */
#ifndef HALE_CHECKS_INTERNAL_H
#define HALE_CHECKS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "checks/checks.h"

/*
 * Appends one line to o->notes, unless that would pass CHECK_NOTES_MAX
 * bytes; then the note is dropped and the notes end with "(more notes
 * dropped)".
 */
void check__note(struct check_observation *o, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Longest text check__number_format() writes, with its NUL. */
#define CHECK__NUMBER_MAX 400

/*
 * Writes v in plain decimal, the shortest text that reads back as exactly
 * v ("0.001229", "18328059904", "-5"), never with an exponent; NAN and
 * infinities as "nan", "inf", "-inf". buf holds CHECK__NUMBER_MAX bytes.
 */
void check__number_format(double v, char buf[static CHECK__NUMBER_MAX]);

#endif
