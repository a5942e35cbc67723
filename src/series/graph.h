/* SPDX-License-Identifier: MIT */
/*
 * A graph of series as an SVG image: what a check measured recently and
 * the states it was in, drawn by hale itself so a notification can link to
 * a picture of the failure (GET /api/v1/checks/{name}/graph.svg). Sample
 * series are lines on one shared axis; a status series is a strip of
 * colours under them (ok green, warning amber, critical red, unknown grey).
 * Pure: the series are only read.
 */
#ifndef HALE_SERIES_GRAPH_H
#define HALE_SERIES_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/strbuf.h"
#include "series/series.h"

/* Lines drawn at most; more are left out (the legend says how many). */
#define SERIES_GRAPH_LINES_MAX 8

struct series_graph_line {
    const char *label; /* "time", "status" */
    const char *unit;  /* "s", ""; may be NULL */
    const struct series *series;
    bool status; /* the values are CHECK_STATUS_* (0 ok ... 3 unknown): drawn as the strip */
};

struct series_graph_options {
    const char *title; /* the check's name; may be NULL */
    unsigned width;    /* pixels; 0: 600 (bounded to 200..2000) */
    unsigned height;   /* pixels; 0: 240 (bounded to 120..1000) */
};

/*
 * Appends to out an SVG document (UTF-8, with an XML declaration) graphing
 * the n lines over the time their points span. With no point at all it
 * says so in the image. Returns 0 or HALE_ELIMIT when out's cap was
 * reached.
 */
int series_graph_svg(const struct series_graph_line *lines, size_t n,
                     const struct series_graph_options *o, struct strbuf *out);

#endif
