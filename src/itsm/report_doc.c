/* SPDX-License-Identifier: MIT */
/*
 * The document writer behind the reports (report_internal.h): headings,
 * paragraphs, tables, lists and code blocks, written as Markdown or as one
 * self-contained HTML page. Every string a record holds is untrusted, so
 * the writer escapes all text it is given and is the only one adding
 * markup; the report code never writes raw record text itself.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "itsm/report_internal.h"

/* Enough to print, to read on a phone and to keep its layout in a mail. */
static const char page_css[] =
        "body{font:15px/1.45 system-ui,sans-serif;color:#1d2430;max-width:60rem;"
        "margin:2rem auto;padding:0 1rem}"
        "h1{font-size:1.6rem;margin-bottom:.3rem}h2{font-size:1.2rem;margin-top:2rem;"
        "border-bottom:1px solid #d5dae1;padding-bottom:.2rem}"
        "table{border-collapse:collapse;margin:.5rem 0}"
        "th,td{border:1px solid #d5dae1;padding:.25rem .6rem;text-align:left;"
        "vertical-align:top}th{background:#f1f3f6}"
        "pre{background:#f6f8fa;border:1px solid #d5dae1;padding:.5rem;overflow-x:auto;"
        "white-space:pre-wrap;word-break:break-all}"
        "li{margin:.3rem 0}.lead{font-weight:600}.text{white-space:pre-wrap}"
        ".figures{display:flex;flex-wrap:wrap;gap:1rem;margin:1rem 0}"
        ".figure{border:1px solid #d5dae1;border-radius:6px;padding:.6rem 1rem;"
        "min-width:9rem}.figure .v{font-size:2rem;font-weight:700}"
        ".figure .k{color:#5a6473;font-size:.85rem}"
        "svg{display:block;margin:.5rem 0 1rem}svg text{font:12px system-ui,sans-serif}";

char *report__duration_format(int64_t ms, char buf[REPORT_DURATION_MAX])
{
    static const struct {
        const char *name;
        int64_t factor;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"min", 60000}, {"s", 1000}};
    if (ms < 0)
        ms = 0;
    if (ms < 1000) {
        snprintf(buf, REPORT_DURATION_MAX, ms ? "%lld ms" : "0 s", (long long)ms);
        return buf;
    }
    size_t i = 0;
    while (ms < units[i].factor)
        i++;
    long long major = (long long)(ms / units[i].factor);
    long long minor =
            i + 1 < ARRAY_SIZE(units) ? (long long)(ms % units[i].factor / units[i + 1].factor) : 0;
    if (minor)
        snprintf(buf, REPORT_DURATION_MAX, "%lld %s %lld %s", major, units[i].name, minor,
                 units[i + 1].name);
    else
        snprintf(buf, REPORT_DURATION_MAX, "%lld %s", major, units[i].name);
    return buf;
}

char *report__time_format(int64_t ms, char buf[CLOCK_RFC3339_MAX])
{
    if (ms <= 0 || clock_format_rfc3339_ms((uint64_t)ms, buf) < 0)
        snprintf(buf, CLOCK_RFC3339_MAX, "-");
    return buf;
}

char *report__json_dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
    json_decref(o);
    if (!s)
        abort(); /* only an allocation failure gets here: as xmalloc() would */
    char *out = xasprintf("%s\n", s);
    free(s);
    return out;
}

void report__html_escape(struct strbuf *b, const char *s)
{
    if (s)
        strbuf_add_html(b, s, strlen(s));
}

/*
 * Whether Markdown could read s[i] as markup where it stands: emphasis,
 * code, links, raw HTML and table cells anywhere; at the start of a line
 * also headings, quotes, list markers ("-", "+", and "1." or "1)" after
 * digits). An underscore inside a word ("step_started") is not emphasis
 * and stays as it is.
 */
static bool md_is_markup(const char *s, size_t i, bool line_start)
{
    char c = s[i];
    if (line_start && strchr("#>-+=~.)", c))
        return true;
    if (c == '_')
        return !(i > 0 && isalnum((unsigned char)s[i - 1]) && isalnum((unsigned char)s[i + 1]));
    return strchr("\\`*[]<|", c) != NULL;
}

/*
 * Backslash-escapes what Markdown would read as markup, so record text
 * shows as written and no "<script>" in a title becomes a tag in a
 * renderer. A line break becomes nl: a space in a table cell, a hard break
 * in running text.
 */
static void md_escape(struct strbuf *b, const char *s, const char *nl, bool line_start)
{
    for (size_t i = 0; s && s[i]; i++) {
        if (s[i] == '\n') {
            strbuf_adds(b, nl);
            line_start = strchr(nl, '\n') != NULL;
            continue;
        }
        if (s[i] == '\r')
            continue;
        if (md_is_markup(s, i, line_start))
            strbuf_addc(b, '\\');
        strbuf_addc(b, s[i]);
        /* Still at the start while in leading spaces or a list number. */
        line_start = line_start && (s[i] == ' ' || isdigit((unsigned char)s[i]));
    }
}

static void text(struct report_doc *d, const char *s, const char *md_nl)
{
    if (d->f == REPORT_FORMAT_HTML)
        report__html_escape(&d->b, s);
    else
        md_escape(&d->b, s, md_nl, d->b.len == 0 || d->b.s[d->b.len - 1] == '\n');
}

void report__doc_begin(struct report_doc *d, enum report_format f, const char *title)
{
    strbuf_init(&d->b, 0);
    d->f = f;
    d->in_item = false;
    if (f != REPORT_FORMAT_HTML)
        return;
    /* The policy keeps the page inert even if an escape were ever missed. */
    strbuf_adds(&d->b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                       "'none'; style-src 'unsafe-inline'\">\n"
                       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                       "<title>");
    report__html_escape(&d->b, title);
    strbuf_addf(&d->b, "</title>\n<style>%s</style>\n</head>\n<body>\n", page_css);
}

char *report__doc_end(struct report_doc *d)
{
    if (d->f == REPORT_FORMAT_HTML)
        strbuf_adds(&d->b, "</body>\n</html>\n");
    return strbuf_detach(&d->b, NULL);
}

void report__doc_heading(struct report_doc *d, int level, const char *s)
{
    if (d->f == REPORT_FORMAT_HTML) {
        strbuf_addf(&d->b, "<h%d>", level);
        text(d, s, " ");
        strbuf_addf(&d->b, "</h%d>\n", level);
    } else {
        for (int i = 0; i < level; i++)
            strbuf_addc(&d->b, '#');
        strbuf_addc(&d->b, ' ');
        text(d, s, " ");
        strbuf_adds(&d->b, "\n\n");
    }
}

void report__doc_para(struct report_doc *d, const char *s)
{
    if (d->f == REPORT_FORMAT_HTML) {
        strbuf_adds(&d->b, "<p class=\"text\">");
        text(d, s, "");
        strbuf_adds(&d->b, "</p>\n");
    } else {
        text(d, s, "\\\n");
        strbuf_adds(&d->b, "\n\n");
    }
}

void report__doc_paraf(struct report_doc *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *s = xvasprintf(fmt, ap);
    va_end(ap);
    report__doc_para(d, s);
}

static void table_row(struct report_doc *d, const char *const *cells, size_t n, const char *tag)
{
    if (d->f == REPORT_FORMAT_HTML) {
        strbuf_adds(&d->b, "<tr>");
        for (size_t i = 0; i < n; i++) {
            strbuf_addf(&d->b, "<%s>", tag);
            text(d, cells[i], "");
            strbuf_addf(&d->b, "</%s>", tag);
        }
        strbuf_adds(&d->b, "</tr>\n");
        return;
    }
    strbuf_addc(&d->b, '|');
    for (size_t i = 0; i < n; i++) {
        strbuf_addc(&d->b, ' ');
        text(d, cells[i], " ");
        strbuf_adds(&d->b, " |");
    }
    strbuf_addc(&d->b, '\n');
}

void report__doc_table_begin(struct report_doc *d, const char *const *headers, size_t n)
{
    if (d->f == REPORT_FORMAT_HTML)
        strbuf_adds(&d->b, "<table>\n");
    table_row(d, headers, n, "th");
    if (d->f == REPORT_FORMAT_HTML)
        return;
    strbuf_addc(&d->b, '|');
    for (size_t i = 0; i < n; i++)
        strbuf_adds(&d->b, "---|");
    strbuf_addc(&d->b, '\n');
}

void report__doc_table_row(struct report_doc *d, const char *const *cells, size_t n)
{
    table_row(d, cells, n, "td");
}

void report__doc_table_end(struct report_doc *d)
{
    strbuf_adds(&d->b, d->f == REPORT_FORMAT_HTML ? "</table>\n" : "\n");
}

void report__doc_list_begin(struct report_doc *d, bool ordered)
{
    if (d->f == REPORT_FORMAT_HTML)
        strbuf_adds(&d->b, ordered ? "<ol>\n" : "<ul>\n");
    d->ordered = ordered;
    d->item_no = 0;
}

void report__doc_item_begin(struct report_doc *d, const char *lead, const char *s)
{
    d->in_item = true;
    if (d->f == REPORT_FORMAT_HTML) {
        strbuf_adds(&d->b, "<li>");
        if (lead) {
            strbuf_adds(&d->b, "<span class=\"lead\">");
            text(d, lead, " ");
            strbuf_adds(&d->b, *s ? "</span>: " : "</span>");
        }
        strbuf_adds(&d->b, "<span class=\"text\">");
        text(d, s, "");
        strbuf_adds(&d->b, "</span>\n");
        return;
    }
    /* Continuation lines and code blocks are indented to the item's text. */
    int w = d->ordered ? snprintf(NULL, 0, "%zu. ", ++d->item_no) : 2;
    d->indent = (size_t)w;
    if (d->ordered)
        strbuf_addf(&d->b, "%zu. ", d->item_no);
    else
        strbuf_adds(&d->b, "- ");
    if (lead) {
        strbuf_adds(&d->b, "**");
        text(d, lead, " ");
        strbuf_adds(&d->b, *s ? "**: " : "**");
    }
    char nl[16];
    snprintf(nl, sizeof(nl), "\\\n%*s", w, "");
    text(d, s, nl);
    strbuf_addc(&d->b, '\n');
}

void report__doc_item_end(struct report_doc *d)
{
    d->in_item = false;
    if (d->f == REPORT_FORMAT_HTML)
        strbuf_adds(&d->b, "</li>\n");
}

void report__doc_list_end(struct report_doc *d)
{
    if (d->f == REPORT_FORMAT_HTML)
        strbuf_adds(&d->b, d->ordered ? "</ol>\n" : "</ul>\n");
    else
        strbuf_addc(&d->b, '\n');
}

/* The longest run of backticks in s: a fence must be longer to hold it. */
static size_t longest_backtick_run(const char *s)
{
    size_t best = 0, run = 0;
    for (; *s; s++) {
        run = *s == '`' ? run + 1 : 0;
        if (run > best)
            best = run;
    }
    return best;
}

static void md_code(struct report_doc *d, const char *s)
{
    size_t fence = longest_backtick_run(s) + 1;
    if (fence < 3)
        fence = 3;
    size_t indent = d->in_item ? d->indent : 0;
    /* In an item the block follows the item's text after a blank line. */
    if (d->in_item)
        strbuf_addc(&d->b, '\n');
    strbuf_addf(&d->b, "%*s", (int)indent, "");
    for (size_t i = 0; i < fence; i++)
        strbuf_addc(&d->b, '`');
    strbuf_addc(&d->b, '\n');
    while (*s) {
        size_t len = strcspn(s, "\n");
        strbuf_addf(&d->b, "%*s", (int)indent, "");
        strbuf_add(&d->b, s, len);
        strbuf_addc(&d->b, '\n');
        s += len + (s[len] == '\n');
    }
    strbuf_addf(&d->b, "%*s", (int)indent, "");
    for (size_t i = 0; i < fence; i++)
        strbuf_addc(&d->b, '`');
    strbuf_adds(&d->b, d->in_item ? "\n" : "\n\n");
}

void report__doc_code(struct report_doc *d, const char *s)
{
    if (!s)
        s = "";
    if (d->f != REPORT_FORMAT_HTML) {
        md_code(d, s);
        return;
    }
    strbuf_adds(&d->b, "<pre><code>");
    report__html_escape(&d->b, s);
    strbuf_adds(&d->b, "</code></pre>\n");
}
