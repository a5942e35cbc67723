/* SPDX-License-Identifier: MIT */
/*
 * The SVG graph of series (series/graph.h): scales, axes, lines and the
 * status strip, written as plain SVG 1.1 that browsers, mail clients and
 * image proxies all show.
 */
#include "series/graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MARGIN_LEFT   64.0
#define MARGIN_RIGHT  16.0
#define MARGIN_TOP    28.0
#define MARGIN_BOTTOM 44.0
#define STRIP_HEIGHT  8.0

static const char *const line_colours[] = {"#1f77b4", "#9467bd", "#17becf", "#8c564b",
                                           "#e377c2", "#7f7f7f", "#bcbd22", "#ff7f0e"};
static const char *const status_colours[] = {"#2ca02c", "#f0ad00", "#d62728", "#999999"};

struct frame {
    double x0, x1, y0, y1; /* the plot area, pixels */
    uint64_t t0, t1;       /* the time it spans */
    double v0, v1;         /* the values it spans */
};

static double x_of(const struct frame *f, uint64_t t)
{
    if (f->t1 == f->t0)
        return (f->x0 + f->x1) / 2;
    return f->x0 + (f->x1 - f->x0) * (double)(t - f->t0) / (double)(f->t1 - f->t0);
}

static double y_of(const struct frame *f, double v)
{
    return f->y1 - (f->y1 - f->y0) * (v - f->v0) / (f->v1 - f->v0);
}

/* The time and value ranges of the points; false when there is none. */
static bool ranges(const struct series_graph_line *lines, size_t n, struct frame *f,
                   bool *ret_values)
{
    bool any = false, values = false;
    f->t0 = UINT64_MAX, f->t1 = 0, f->v0 = INFINITY, f->v1 = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        struct series_iter it;
        struct series_point p;
        for (series_iter_init(&it, lines[i].series); series_next(&it, &p);) {
            any = true;
            f->t0 = p.time_ms < f->t0 ? p.time_ms : f->t0;
            f->t1 = p.time_ms > f->t1 ? p.time_ms : f->t1;
            if (lines[i].status || !isfinite(p.value))
                continue;
            values = true;
            f->v0 = fmin(f->v0, p.value);
            f->v1 = fmax(f->v1, p.value);
        }
    }
    if (!values) {
        f->v0 = 0, f->v1 = 1;
    } else {
        /* the axis starts at zero for positive values, so a change looks its size */
        if (f->v0 > 0)
            f->v0 = 0;
        if (f->v1 == f->v0)
            f->v1 = f->v0 + (f->v0 == 0 ? 1 : fabs(f->v0));
        else
            f->v1 += (f->v1 - f->v0) * 0.05;
    }
    *ret_values = values;
    return any;
}

static void add_time_label(struct strbuf *b, double x, double y, uint64_t ms, const char *anchor)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char buf[32] = "";
    if (gmtime_r(&t, &tm))
        strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
    strbuf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>\n", x, y, anchor, buf);
}

static void add_axes(struct strbuf *b, const struct frame *f, bool values)
{
    strbuf_addf(b,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\" "
                "stroke=\"#cccccc\"/>\n",
                f->x0, f->y0, f->x1 - f->x0, f->y1 - f->y0);
    if (values) {
        for (int k = 0; k <= 2; k++) {
            double v = f->v0 + (f->v1 - f->v0) * k / 2.0, y = y_of(f, v);
            strbuf_addf(
                    b,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n",
                    f->x0, y, f->x1, y, f->x0 - 4, y + 4, v);
        }
    }
    add_time_label(b, f->x0, f->y1 + STRIP_HEIGHT + 16, f->t0, "start");
    add_time_label(b, f->x1, f->y1 + STRIP_HEIGHT + 16, f->t1, "end");
}

static void add_line(struct strbuf *b, const struct frame *f, const struct series *s,
                     const char *colour)
{
    struct series_iter it;
    struct series_point p;
    bool open = false;
    for (series_iter_init(&it, s); series_next(&it, &p);) {
        if (!isfinite(p.value)) { /* a gap: the line resumes after it */
            if (open)
                strbuf_adds(b, "\"/>\n");
            open = false;
            continue;
        }
        if (!open)
            strbuf_addf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"",
                        colour);
        strbuf_addf(b, "%s%.1f,%.1f", open ? " " : "", x_of(f, p.time_ms), y_of(f, p.value));
        open = true;
    }
    if (open)
        strbuf_adds(b, "\"/>\n");
}

static void add_band(struct strbuf *b, const struct frame *f, const struct series_point *p,
                     double end)
{
    double x = x_of(f, p->time_ms);
    int st = isfinite(p->value) && p->value >= 0 && p->value <= 3 ? (int)p->value : 3;
    strbuf_addf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n", x,
                f->y1 + 2, fmax(end - x, 1.0), STRIP_HEIGHT, status_colours[st]);
}

/* Each status held from its point to the next: a band of its colour under the plot. */
static void add_strip(struct strbuf *b, const struct frame *f, const struct series *s)
{
    struct series_iter it;
    struct series_point p, prev = {0};
    bool any = false;
    for (series_iter_init(&it, s); series_next(&it, &p);) {
        if (any)
            add_band(b, f, &prev, x_of(f, p.time_ms));
        prev = p;
        any = true;
    }
    if (any)
        add_band(b, f, &prev, f->x1);
}

static void add_legend(struct strbuf *b, const struct series_graph_line *lines, size_t n, double x,
                       double y)
{
    size_t drawn = 0;
    for (size_t i = 0; i < n; i++) {
        if (lines[i].status)
            continue;
        if (drawn == SERIES_GRAPH_LINES_MAX) {
            strbuf_addf(b, "<text x=\"%.1f\" y=\"%.1f\">(+%zu more)</text>\n", x, y, n - i);
            return;
        }
        strbuf_addf(b, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">", x, y,
                    line_colours[drawn % SERIES_GRAPH_LINES_MAX]);
        strbuf_add_html(b, lines[i].label, strlen(lines[i].label));
        if (lines[i].unit && *lines[i].unit) {
            strbuf_adds(b, " (");
            strbuf_add_html(b, lines[i].unit, strlen(lines[i].unit));
            strbuf_adds(b, ")");
        }
        strbuf_adds(b, "</text>\n");
        x += 7.0 *
             (double)(strlen(lines[i].label) + (lines[i].unit ? strlen(lines[i].unit) : 0) + 6);
        drawn++;
    }
}

int series_graph_svg(const struct series_graph_line *lines, size_t n,
                     const struct series_graph_options *o, struct strbuf *out)
{
    unsigned w = o && o->width ? o->width : 600, h = o && o->height ? o->height : 240;
    w = w < 200 ? 200 : w > 2000 ? 2000 : w;
    h = h < 120 ? 120 : h > 1000 ? 1000 : h;
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
                "height=\"%u\" viewBox=\"0 0 %u %u\" font-family=\"sans-serif\" "
                "font-size=\"11\">\n<title>",
                w, h, w, h);
    const char *title = o && o->title ? o->title : "";
    const char *named = o && o->title ? o->title : "graph";
    strbuf_add_html(&b, named, strlen(named));
    strbuf_addf(&b, "</title>\n<rect width=\"%u\" height=\"%u\" fill=\"#fafafa\"/>\n", w, h);
    strbuf_addf(&b, "<text x=\"%.1f\" y=\"18\" font-size=\"13\" font-weight=\"bold\">",
                MARGIN_LEFT);
    strbuf_add_html(&b, title, strlen(title));
    strbuf_adds(&b, "</text>\n");
    struct frame f = {.x0 = MARGIN_LEFT,
                      .x1 = w - MARGIN_RIGHT,
                      .y0 = MARGIN_TOP,
                      .y1 = h - MARGIN_BOTTOM - STRIP_HEIGHT};
    bool values;
    if (!ranges(lines, n, &f, &values)) {
        strbuf_addf(&b,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#666666\">no "
                    "data yet</text>\n",
                    w / 2.0, h / 2.0);
    } else {
        add_axes(&b, &f, values);
        size_t drawn = 0;
        for (size_t i = 0; i < n; i++) {
            if (lines[i].status)
                add_strip(&b, &f, lines[i].series);
            else if (drawn < SERIES_GRAPH_LINES_MAX)
                add_line(&b, &f, lines[i].series, line_colours[drawn++]);
        }
        add_legend(&b, lines, n, f.x0, h - 6.0);
    }
    strbuf_adds(&b, "</svg>\n");
    int r = strbuf_add(out, b.s, b.len);
    strbuf_fini(&b);
    return r;
}
