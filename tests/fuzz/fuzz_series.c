/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the series codec (src/series/series.c): the input is a
 * program of points appended to a few series of a store (raw bits, small
 * time steps, decimals of any scale, repeats), and every series must then
 * give back, bit for bit and in order, the newest of what was appended to
 * it (the points bound and the budget drop whole chunks, the oldest), its
 * newest point first of all.
 *
 * Input: a byte of limits (bits 0-1: points 3, 50, 720 or a million; bit
 * 2: a budget of 1 KiB, else 1 GiB), then records: an op byte (bits 0-1
 * the kind, bits 2-3 the series) and its operand.
 *   kind 0: 8 bytes of time, 8 of value (little-endian)
 *   kind 1: 2 bytes of signed time step, 8 of value
 *   kind 2: 2 bytes of signed time step, 4 of a signed integer, 1 of scale:
 *           the integer / 10^scale
 *   kind 3: 2 bytes of signed time step, the value before repeated
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "series/series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SERIES 4

struct appended {
    uint64_t *times, *values;
    size_t n, cap;
};

static uint64_t le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

static void add(struct appended *a, uint64_t t, uint64_t v)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->times = realloc(a->times, a->cap * sizeof(*a->times));
        a->values = realloc(a->values, a->cap * sizeof(*a->values));
        if (!a->times || !a->values)
            abort();
    }
    a->times[a->n] = t;
    a->values[a->n++] = v;
}

static uint64_t bits_of(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

/* s holds the newest series_len() points of a, in order, and nothing else. */
static void check(const struct series *s, const struct appended *a)
{
    size_t len = series_len(s);
    if (len > a->n || (a->n && !len))
        abort();
    struct series_point p;
    if (a->n && (!series_last(s, &p) || p.time_ms != a->times[a->n - 1] ||
                 bits_of(p.value) != a->values[a->n - 1]))
        abort();
    struct series_iter it;
    size_t i = a->n - len;
    for (series_iter_init(&it, s); series_next(&it, &p); i++)
        if (i >= a->n || p.time_ms != a->times[i] || bits_of(p.value) != a->values[i])
            abort();
    if (i != a->n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const size_t points[] = {3, 50, 720, 1000000};
    struct series_limits limits = {.points = points[data[0] & 3],
                                   .memory = data[0] & 4 ? 1u << 10 : 1u << 30};
    struct series_store *st = series_store_new(&limits);
    struct series *s[SERIES];
    struct appended a[SERIES] = {0};
    const char *names[SERIES] = {"a", "b", "c", "d"};
    for (int k = 0; k < SERIES; k++)
        if (series_store_get(st, names[k], NULL, &s[k]) < 0)
            abort();
    uint64_t time = 1795280139417;
    static const size_t operand[] = {16, 10, 7, 2};
    for (size_t i = 1; i < size;) {
        unsigned kind = data[i] & 3, k = data[i] >> 2 & 3;
        if (size - i - 1 < operand[kind])
            break;
        const uint8_t *p = data + i + 1;
        i += 1 + operand[kind];
        uint64_t value = a[k].n ? a[k].values[a[k].n - 1] : 0;
        if (kind == 0)
            time = le(p, 8);
        else
            time += (uint64_t)(int64_t)(int16_t)le(p, 2);
        if (kind == 0 || kind == 1) {
            value = le(p + (kind == 0 ? 8 : 2), 8);
        } else if (kind == 2) {
            static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                           1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
            value = bits_of((double)(int32_t)le(p + 2, 4) / pow10[p[6] % 16]);
        }
        double v;
        memcpy(&v, &value, sizeof(v));
        series_append(st, s[k], time, v);
        add(&a[k], time, value);
    }
    for (int k = 0; k < SERIES; k++) {
        check(s[k], &a[k]);
        free(a[k].times);
        free(a[k].values);
    }
    series_store_free(st);
    return 0;
}
