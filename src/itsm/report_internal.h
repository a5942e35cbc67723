/* SPDX-License-Identifier: MIT */
/*
 * What the two report files (report.c: one incident; report_summary.c: a
 * period) share: a small document writer that emits the same structure as
 * Markdown or as an HTML page, escaping every string it is given, and the
 * formatting of times, durations and JSON text. Private to src/itsm/.
 */
#ifndef HALE_ITSM_REPORT_INTERNAL_H
#define HALE_ITSM_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "codec/json.h"
#include "itsm/report.h"

/* Largest text report__duration_format() writes, with its NUL. */
#define REPORT_DURATION_MAX 48

/*
 * ms as people read a duration: the two largest units, "4 min 12 s",
 * "1 h 5 min", "2 d 3 h", "250 ms" below a second; a negative duration
 * (clocks that disagree) shows as "0 s". Returns buf.
 */
char *report__duration_format(int64_t ms, char buf[REPORT_DURATION_MAX]);
/* RFC 3339 UTC with milliseconds, or "-" for 0 ("not yet"). Returns buf. */
char *report__time_format(int64_t ms, char buf[CLOCK_RFC3339_MAX]);

/* Serialises o (taking its reference) with a final newline; a new string. */
char *report__json_dump(json_t *o);

/*
 * The document writer. Every text argument is untrusted (it may come from
 * a record) and is escaped for the format; only the writer adds markup.
 * Used for REPORT_FORMAT_MD and REPORT_FORMAT_HTML only.
 */
struct report_doc {
    struct strbuf b;
    enum report_format f;
    bool ordered;   /* the current list is numbered */
    size_t item_no; /* md: the number of the current item */
    bool in_item;   /* md: code blocks inside an item are indented */
    size_t indent;  /* md: ... by the width of the item's marker */
};

/* Starts a document; for HTML the page head, with title as its <title>. */
void report__doc_begin(struct report_doc *d, enum report_format f, const char *title);
/* Ends it and returns the text (free with free()). */
char *report__doc_end(struct report_doc *d);

void report__doc_heading(struct report_doc *d, int level, const char *text);
void report__doc_para(struct report_doc *d, const char *text);
void report__doc_paraf(struct report_doc *d, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

void report__doc_table_begin(struct report_doc *d, const char *const *headers, size_t n);
void report__doc_table_row(struct report_doc *d, const char *const *cells, size_t n);
void report__doc_table_end(struct report_doc *d);

/* A list: items, each possibly holding code blocks, then the end. */
void report__doc_list_begin(struct report_doc *d, bool ordered);
/*
 * An item "LEAD: text" where lead (time, actor, kind: what a reader scans)
 * is set apart from the text; lead may be NULL.
 */
void report__doc_item_begin(struct report_doc *d, const char *lead, const char *text);
void report__doc_item_end(struct report_doc *d);
void report__doc_list_end(struct report_doc *d);

/* A block of program output, shown verbatim (md: fenced; html: <pre>). */
void report__doc_code(struct report_doc *d, const char *text);

/* Appends s HTML-escaped to b (for the SVG the summary draws). */
void report__html_escape(struct strbuf *b, const char *s);

#endif
