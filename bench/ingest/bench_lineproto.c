/* SPDX-License-Identifier: MIT */
/*
 * bench/ingest: how many line protocol samples per second hale takes, on
 * one thread (the loop's, in the daemon). One batch of --lines lines is
 * made as Telegraf's cpu input writes them (--hosts hosts of --cpus cpus,
 * four float fields a line, tags sorted, nanosecond timestamps), then
 * timed two ways for --seconds each: the parser alone (a callback that
 * only counts fields), and the parser and the series store together, the
 * way POST /api/v1/write runs (a writer per batch, every sample appended
 * to its series). Prints the command, the machine and the figures.
 *
 *   build/release/bench_lineproto [--seconds 5] [--lines 5000] [--hosts 250] [--cpus 4]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "ingest/lineproto.h"
#include "series/series.h"

#define FIELDS_PER_LINE 4

struct options {
    unsigned seconds, lines, hosts, cpus;
};

static void options_parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.seconds = 5, .lines = 5000, .hosts = 250, .cpus = 4};
    const struct bench_option opts[] = {{.name = "--seconds", .u = &o->seconds, .max = 10000000},
                                        {.name = "--lines", .u = &o->lines, .max = 10000000},
                                        {.name = "--hosts", .u = &o->hosts, .max = 10000000},
                                        {.name = "--cpus", .u = &o->cpus, .max = 10000000},
                                        {.name = NULL}};
    bench_options("bench_lineproto", argc, argv, 1, opts);
}

/* The batch: line i is cpu k of host h, with values that vary as real ones do. */
static char *batch_make(const struct options *o, size_t *ret_len)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    uint64_t t = 1763740800000000000u;
    for (unsigned i = 0; i < o->lines; i++) {
        unsigned h = (i / o->cpus) % o->hosts, k = i % o->cpus;
        double idle = 50.0 + (double)((i * 7919u) % 5000u) / 100.0;
        strbuf_addf(&b,
                    "cpu,cpu=cpu%u,host=web%04u usage_user=%.4f,usage_system=%.4f,"
                    "usage_idle=%.4f,usage_iowait=%.4f %" PRIu64 "\n",
                    k, h, (100.0 - idle) * 0.7, (100.0 - idle) * 0.25, idle, (100.0 - idle) * 0.05,
                    t + (uint64_t)(i / (o->hosts * o->cpus)) * 10000000000u);
    }
    return strbuf_detach(&b, ret_len);
}

static int count_fields(const struct ingest_lineproto_point *p, void *data,
                        struct ingest_lineproto_error *e)
{
    (void)e;
    *(uint64_t *)data += p->n_fields;
    return 0;
}

static void report(const char *what, uint64_t samples, uint64_t batches, size_t len, double secs)
{
    printf("%s: %" PRIu64 " samples in %.2f s = %.0f samples/s, %.0f MB/s, %.3f ms a batch\n", what,
           samples, secs, (double)samples / secs, (double)(batches * len) / secs / 1e6,
           secs * 1000.0 / (double)batches);
}

int main(int argc, char **argv)
{
    struct options o;
    options_parse(argc, argv, &o);
    bench_print_command(argc, argv, true);
    size_t len;
    char *text = batch_make(&o, &len);
    size_t series = (size_t)o.hosts * o.cpus * FIELDS_PER_LINE;
    printf("batch: %u lines, %u samples, %zu bytes (%.1f bytes a sample); %zu series\n", o.lines,
           o.lines * FIELDS_PER_LINE, len, (double)len / (o.lines * FIELDS_PER_LINE), series);

    /* The parser alone. */
    struct ingest_lineproto_parser *p = ingest_lineproto_parser_new();
    uint64_t samples = 0, batches = 0, deadline = clock_mono_ns() + o.seconds * 1000000000ull;
    uint64_t start = clock_mono_ns();
    while (clock_mono_ns() < deadline) {
        if (ingest_lineproto_parse(p, text, len, INGEST_LINEPROTO_NS, count_fields, &samples,
                                   NULL) < 0) {
            fprintf(stderr, "bench_lineproto: the batch does not parse\n");
            return 1;
        }
        batches++;
    }
    report("parse", samples, batches, len, (double)(clock_mono_ns() - start) / 1e9);
    ingest_lineproto_parser_free(p);

    /* Parser and store, as the write route runs: a writer per batch. */
    struct series_store *st = series_store_new(&(struct series_limits){.max_series = series});
    samples = batches = 0;
    deadline = clock_mono_ns() + o.seconds * 1000000000ull;
    start = clock_mono_ns();
    while (clock_mono_ns() < deadline) {
        struct ingest_lineproto_writer *w = ingest_lineproto_writer_new();
        struct ingest_lineproto_result res;
        struct ingest_lineproto_error e;
        if (ingest_lineproto_write(w, st, text, len, INGEST_LINEPROTO_NS, 0, &res, &e) < 0) {
            fprintf(stderr, "bench_lineproto: line %u, column %u: %s\n", e.line, e.column, e.msg);
            return 1;
        }
        ingest_lineproto_writer_free(w);
        samples += res.samples;
        batches++;
    }
    report("parse + store", samples, batches, len, (double)(clock_mono_ns() - start) / 1e9);
    printf("store: %zu series, each holding %zu points\n", series_store_count(st),
           series_len(series_store_at(st, 0)));
    series_store_free(st);
    free(text);
    return 0;
}
