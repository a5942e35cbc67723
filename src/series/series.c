/* SPDX-License-Identifier: MIT */
/*
 * The points of a series: appended into chunks of a bit stream, read back
 * by a forward walk. A chunk is 64 to 256 bytes of heap; its first point
 * is written on nothing, each other on the one before, so a chunk reads
 * alone and the oldest can go. Bits are written most significant first.
 *
 * A point is its time, then its value.
 *
 * Time, in Unix ms. The first point of a chunk: '0' and 44 bits (up to
 * the year 2527), or '1' and 64. After it, the delta of delta (Gorilla's
 * scheme): d = time - previous time, dd = d - previous d (the previous d
 * clamped to 32 bits, 0 for the first), both modulo 2^64 so that times
 * going backwards or jumping years still round-trip, then dd zigzagged
 * (0, -1, 1, -2 ... as 0, 1, 2, 3 ...) into z and written as
 *     '0'            z = 0: a check on time costs one bit
 *     '10'    4 bits z < 16: scheduling jitter of a few ms
 *     '110'   8 bits
 *     '1110' 16 bits (a chunk's first delta of 10 s)
 *     '11110' 32 bits
 *     '11111' 64 bits
 *
 * Value, compared with the previous one (before a chunk's first point:
 * +0.0, decimal with 0 digits):
 *     '0'     the same bits (a status that holds, a constant)
 *     '10'    a decimal at the previous scale: the integer delta
 *     '110'   a decimal at a new scale: 4 bits of scale, the delta
 *     '111'   anything else, as the XOR of the bits (Gorilla's scheme):
 *             '0' and the bits of the previous window, or '1', 6 bits
 *             of leading zeros, 6 bits of width - 1 and the width's bits
 * A value is decimal at scale k (0 to 15) when an integer n with
 * |n| < 2^50 gives it back bit for bit as n / 10^k, which is how latency
 * in seconds from microseconds, numbers parsed from text and counters
 * come; -0.0, NaN, infinities, huge values and 0.1 + 0.2 are not. The
 * scale is the smallest k, or the previous one when staying there is
 * cheaper. The delta is n minus the previous n (rescaled to k, truncated
 * when k is smaller; 0 after a value that was not decimal), zigzagged and
 * written as '0' 5 bits, '10' 9, '110' 13, '1110' 18, '11110' 32 or
 * '11111' 64. Each value takes the cheapest of the forms it fits.
 *
 * So a status every 10 s with jitter of a few ms costs about a byte a
 * point, and a latency about 3.3 (bench/series measures it).
 *
 * A series' chunks form a ring, the newest pointing to the oldest. Its
 * first chunk is 64 bytes, each next one twice the one before up to 256,
 * and no larger than two fit the series' share of the budget (memory /
 * series): a young series, and every series of a large site, keeps small
 * chunks, and the old series of a small one waste little on headers.
 */
#include <endian.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "series/internal.h"

/* A chunk's first time in 44 bits when it fits: Unix ms until the year 2527. */
#define FIRST_TIME_BITS 44
/* The largest |n| of a decimal: far enough below 2^53 that v * 10^k rounds to n. */
#define DECIMAL_LIMIT   ((int64_t)1 << 50)
#define SCALE_MAX       15
/* Bytes of a chunk before its data: the allocator's header and ours. */
#define CHUNK_OVERHEAD  (8 + offsetof(struct series_chunk, data))

static const double pow10_double[SCALE_MAX + 1] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

static uint64_t double_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

static double bits_double(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

static uint64_t zigzag(uint64_t v)
{
    return (v << 1) ^ (0 - (v >> 63));
}

static uint64_t unzigzag(uint64_t z)
{
    return (z >> 1) ^ (0 - (z & 1));
}

static const int64_t pow10_int[SCALE_MAX + 1] = {1,
                                                 10,
                                                 100,
                                                 1000,
                                                 10000,
                                                 100000,
                                                 1000000,
                                                 10000000,
                                                 100000000,
                                                 1000000000,
                                                 10000000000,
                                                 100000000000,
                                                 1000000000000,
                                                 10000000000000,
                                                 100000000000000,
                                                 1000000000000000};

/* ---- bits ---- */

/*
 * Writes v, n bits (1 <= n <= 64, v < 2^n), at bit pos of data (size
 * bytes), whose bits there are zero: one 64-bit word at a time where it
 * fits, else a byte at a time.
 */
static void bits_put(uint8_t *data, uint32_t size, uint32_t pos, uint64_t v, unsigned n)
{
    uint32_t at = pos >> 3;
    unsigned off = pos & 7;
    if (off + n <= 64 && at + 8 <= size) {
        uint64_t w;
        memcpy(&w, data + at, 8);
        w = htobe64(be64toh(w) | v << (64 - off - n));
        memcpy(data + at, &w, 8);
        return;
    }
    while (n > 0) {
        unsigned room = 8 - (pos & 7), take = n < room ? n : room;
        uint64_t part = (v >> (n - take)) & ((1u << take) - 1);
        data[pos >> 3] |= (uint8_t)(part << (room - take));
        pos += take;
        n -= take;
    }
}

/* What a walk reads: a chunk's data, and where it is in it. */
struct bits {
    const uint8_t *data;
    uint32_t size; /* bytes */
    uint32_t pos;  /* bits read */
};

/* The next 57 bits at least, first at the top; zeros past the data. */
static uint64_t bits_peek(const struct bits *b)
{
    uint32_t at = b->pos >> 3;
    uint64_t w = 0;
    if (at + 8 <= b->size) {
        memcpy(&w, b->data + at, 8);
        w = be64toh(w);
    } else {
        for (unsigned i = 0; i < 8; i++)
            w = w << 8 | (at + i < b->size ? b->data[at + i] : 0);
    }
    return w << (b->pos & 7);
}

/* Reads n bits (1 <= n <= 64). */
static uint64_t bits_get(struct bits *b, unsigned n)
{
    if ((b->pos & 7) + n <= 64) {
        uint64_t w = bits_peek(b);
        b->pos += n;
        return w >> (64 - n);
    }
    uint64_t v = 0;
    while (n > 0) {
        unsigned room = 8 - (b->pos & 7), take = n < room ? n : room;
        unsigned byte = b->data[b->pos >> 3];
        v = (v << take) | ((byte >> (room - take)) & ((1u << take) - 1));
        b->pos += take;
        n -= take;
    }
    return v;
}

/*
 * A point's fields before they are written: its size is known first, so
 * a point that does not fit its chunk starts the next one instead.
 */
#define PLAN_FIELDS 8

struct plan {
    uint64_t v[PLAN_FIELDS];
    uint8_t n[PLAN_FIELDS];
    unsigned fields;
    unsigned bits;
};

static void plan_add(struct plan *p, uint64_t v, unsigned n)
{
    p->v[p->fields] = v;
    p->n[p->fields++] = (uint8_t)n;
    p->bits += n;
}

static void plan_write(const struct plan *p, uint8_t *data, uint32_t size, uint32_t pos)
{
    for (unsigned i = 0; i < p->fields; i++) {
        bits_put(data, size, pos, p->v[i], p->n[i]);
        pos += p->n[i];
    }
}

/*
 * A number in the first bucket it fits: bucket i is announced by i one
 * bits and a zero (the last by ones alone) and holds width[i] bits.
 */
struct buckets {
    unsigned n;
    uint8_t width[6];
};

static const struct buckets time_buckets = {6, {0, 4, 8, 16, 32, 64}};
static const struct buckets delta_buckets = {6, {5, 9, 13, 18, 32, 64}};

/* The first bucket z fits. */
static unsigned bucket_of(const struct buckets *b, uint64_t z)
{
    unsigned i = 0;
    while (i + 1 < b->n && z >> b->width[i])
        i++;
    return i;
}

/* The bits announcing bucket i. */
static unsigned bucket_prefix_bits(const struct buckets *b, unsigned i)
{
    return i + 1 < b->n ? i + 1 : i;
}

static void plan_bucketed(struct plan *p, const struct buckets *b, uint64_t z)
{
    unsigned i = bucket_of(b, z), n = bucket_prefix_bits(b, i);
    plan_add(p, (((uint64_t)1 << i) - 1) << (n - i), n);
    if (b->width[i])
        plan_add(p, z, b->width[i]);
}

static unsigned bucketed_bits(const struct buckets *b, uint64_t z)
{
    unsigned i = bucket_of(b, z);
    return bucket_prefix_bits(b, i) + b->width[i];
}

/* Reads up to max one bits and the zero after them, if fewer: how many ones. */
static unsigned bits_ones(struct bits *in, unsigned max)
{
    uint64_t w = ~bits_peek(in);
    unsigned ones = w ? (unsigned)__builtin_clzll(w) : 64;
    if (ones >= max) {
        in->pos += max;
        return max;
    }
    in->pos += ones + 1;
    return ones;
}

static uint64_t read_bucketed(struct bits *in, const struct buckets *b)
{
    unsigned i = bits_ones(in, b->n - 1);
    return b->width[i] ? bits_get(in, b->width[i]) : 0;
}

/* ---- the codec ---- */

/* The state before a chunk's first point. */
static const struct series_state state_start = {.scale = 0};

static int32_t delta_clamp(uint64_t d)
{
    int64_t s = (int64_t)d; /* modulo 2^64: a time going backwards is negative */
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}

static void plan_time(struct plan *p, const struct series_state *prev, bool first, uint64_t t,
                      struct series_state *next)
{
    next->time = t;
    if (first) {
        if (t >> FIRST_TIME_BITS) {
            plan_add(p, 1, 1);
            plan_add(p, t, 64);
        } else {
            plan_add(p, t, 1 + FIRST_TIME_BITS); /* the flag, 0, comes with it */
        }
        next->delta = 0;
        return;
    }
    uint64_t d = t - prev->time;
    plan_bucketed(p, &time_buckets, zigzag(d - (uint64_t)(int64_t)prev->delta));
    next->delta = delta_clamp(d);
}

/* The integer n of a decimal value: v * 10^scale rounds to it, as |n| < 2^50. */
static int64_t state_scaled(const struct series_state *st)
{
    return (int64_t)rint(bits_double(st->bits) * pow10_double[st->scale]);
}

/* Whether v is n / 10^k, bit for bit, for an integer |n| < DECIMAL_LIMIT: that n. */
static bool decimal_at(double v, unsigned k, int64_t *ret_n)
{
    double m = v * pow10_double[k];
    if (!(fabs(m) < (double)DECIMAL_LIMIT))
        return false; /* NaN, infinities, huge */
    int64_t n = (int64_t)rint(m);
    if (double_bits((double)n / pow10_double[k]) != double_bits(v))
        return false; /* not decimal; or -0.0, which comes back +0.0 */
    *ret_n = n;
    return true;
}

/*
 * Whether v is decimal, at the smallest scale k. A value decimal at some
 * scale is decimal at every larger one (until n passes the limit), so one
 * scale is tried: the previous value's (hint), which mostly fits, else the
 * largest the limit allows; trailing zeros of n then give the smallest.
 */
static bool decimal_of(double v, unsigned hint, unsigned *ret_k, int64_t *ret_n)
{
    unsigned k = hint;
    int64_t n;
    if (k > SCALE_MAX || !decimal_at(v, k, &n)) {
        if (!(fabs(v) < (double)DECIMAL_LIMIT))
            return false;
        for (k = SCALE_MAX; k > 0 && !(fabs(v) * pow10_double[k] < (double)DECIMAL_LIMIT);)
            k--;
        if (!decimal_at(v, k, &n))
            return false;
    }
    while (k > 0 && n % 10 == 0) {
        n /= 10;
        k--;
    }
    *ret_k = k;
    *ret_n = n;
    return true;
}

/* The previous value's integer at scale k, which a decimal's delta is taken from. */
static int64_t scaled_base(const struct series_state *prev, unsigned k)
{
    if (prev->scale == SERIES__NOT_DECIMAL)
        return 0;
    int64_t scaled = state_scaled(prev);
    if (k < prev->scale)
        return scaled / pow10_int[prev->scale - k];
    int64_t m = pow10_int[k - prev->scale];
    if (scaled >= DECIMAL_LIMIT / m || scaled <= -DECIMAL_LIMIT / m)
        return 0;
    return scaled * m;
}

/* The XOR form of bits after prev: its size and, with p, its fields. */
static unsigned plan_xor(struct plan *p, const struct series_state *prev, uint64_t bits,
                         struct series_state *next)
{
    uint64_t x = bits ^ prev->bits;
    unsigned lead = (unsigned)__builtin_clzll(x), trail = (unsigned)__builtin_ctzll(x);
    if (prev->width && lead >= prev->lead && trail >= 64u - prev->lead - prev->width) {
        if (p) {
            plan_add(p, 7u << 1, 4); /* '111' '0' */
            plan_add(p, x >> (64u - prev->lead - prev->width), prev->width);
        }
        return 4 + prev->width;
    }
    unsigned width = 64 - lead - trail;
    if (p) {
        plan_add(p, (((15u << 6) | lead) << 6) | (width - 1), 16); /* '111' '1' lead width-1 */
        plan_add(p, x >> trail, width);
        next->lead = (uint8_t)lead;
        next->width = (uint8_t)width;
    }
    return 16 + width;
}

static void plan_value(struct plan *p, const struct series_state *prev, double v,
                       struct series_state *next)
{
    uint64_t bits = double_bits(v);
    if (bits == prev->bits) {
        plan_add(p, 0, 1);
        return;
    }
    next->bits = bits;
    unsigned k, cost_xor = plan_xor(NULL, prev, bits, NULL);
    int64_t n;
    if (!decimal_of(v, prev->scale, &k, &n)) {
        plan_xor(p, prev, bits, next);
        next->scale = SERIES__NOT_DECIMAL;
        return;
    }
    /* Staying at the previous scale saves announcing a new one. */
    unsigned stay = prev->scale;
    int64_t n_stay = 0, m = stay != SERIES__NOT_DECIMAL && stay >= k ? pow10_int[stay - k] : 0;
    bool can_stay = m && n < DECIMAL_LIMIT / m && n > -DECIMAL_LIMIT / m;
    if (can_stay)
        n_stay = n * m;
    uint64_t z_stay = can_stay ? zigzag((uint64_t)n_stay - (uint64_t)state_scaled(prev)) : 0;
    uint64_t z_new = zigzag((uint64_t)n - (uint64_t)scaled_base(prev, k));
    unsigned cost_stay = can_stay ? 2 + bucketed_bits(&delta_buckets, z_stay) : UINT32_MAX;
    unsigned cost_new = 7 + bucketed_bits(&delta_buckets, z_new);
    if (cost_xor < cost_stay && cost_xor < cost_new) {
        plan_xor(p, prev, bits, next);
        next->scale = SERIES__NOT_DECIMAL;
    } else if (cost_stay <= cost_new) {
        plan_add(p, 2, 2); /* '10' */
        plan_bucketed(p, &delta_buckets, z_stay);
    } else {
        plan_add(p, (6u << 4) | k, 7); /* '110' and the scale */
        plan_bucketed(p, &delta_buckets, z_new);
        next->scale = (uint8_t)k;
    }
}

/* Reads the next point into st (the state after the point before it, or state_start). */
static void read_point(struct bits *in, bool first, struct series_state *st)
{
    if (first) {
        st->time = bits_get(in, 1) ? bits_get(in, 64) : bits_get(in, FIRST_TIME_BITS);
        st->delta = 0;
    } else {
        uint64_t d = unzigzag(read_bucketed(in, &time_buckets)) + (uint64_t)(int64_t)st->delta;
        st->time += d;
        st->delta = delta_clamp(d);
    }
    unsigned form = bits_ones(in, 3);
    if (form == 0)
        return; /* the same value */
    if (form == 3) {
        if (bits_get(in, 1)) {
            st->lead = (uint8_t)bits_get(in, 6);
            st->width = (uint8_t)(bits_get(in, 6) + 1);
        }
        unsigned shift = 64u - st->lead - st->width;
        st->bits ^= bits_get(in, st->width) << shift;
        st->scale = SERIES__NOT_DECIMAL;
        return;
    }
    unsigned k = form == 2 ? (unsigned)bits_get(in, 4) : st->scale;
    int64_t base = form == 2 ? scaled_base(st, k) : state_scaled(st);
    int64_t n = (int64_t)((uint64_t)base + unzigzag(read_bucketed(in, &delta_buckets)));
    st->scale = (uint8_t)k;
    st->bits = double_bits((double)n / pow10_double[k]);
}

/* ---- chunks ---- */

static size_t chunk_heap_of(const struct series_chunk *c)
{
    return c->size + CHUNK_OVERHEAD;
}

/*
 * The size of s's next chunk: twice its newest, the smallest for its
 * first (most series of a large site are young or sparse), and at most
 * what two of fit its share of the budget.
 */
static size_t chunk_heap(const struct series_store *st, const struct series *s)
{
    size_t share = st->limits.memory / (st->n ? st->n : 1), heap = SERIES__CHUNK_MAX;
    while (heap > SERIES__CHUNK_MIN && heap * 2 > share)
        heap /= 2;
    size_t grown = s->head ? 2 * chunk_heap_of(s->head) : SERIES__CHUNK_MIN;
    return grown < heap ? grown : heap;
}

/* Takes the oldest chunk off s (which keeps its newest) and off the store's counts. */
static struct series_chunk *chunk_drop_oldest(struct series_store *st, struct series *s)
{
    struct series_chunk *c = s->head->next;
    s->head->next = c->next;
    s->len -= c->n;
    st->points -= c->n;
    st->chunk_bytes -= chunk_heap_of(c);
    return c;
}

static size_t series_heap(const struct series *s)
{
    size_t bytes = 0;
    const struct series_chunk *c = s->head;
    do {
        bytes += chunk_heap_of(c);
        c = c->next;
    } while (c != s->head);
    return bytes;
}

/*
 * Whether the series must share: from the moment the store would pass its
 * budget until it falls to half of it (series removed). Sharing only while
 * past the budget would hand the memory a shrinking series frees to
 * whichever series next needs a chunk, past its share.
 */
static bool store_is_shared(struct series_store *st, size_t heap)
{
    if (st->chunk_bytes + heap > st->limits.memory)
        st->shared = true;
    else if (st->chunk_bytes + heap <= st->limits.memory / 2)
        st->shared = false;
    return st->shared;
}

/*
 * Makes room for a new chunk and links it in as s's newest: the oldest
 * chunks go first while the others hold the store's `points`, then while
 * the store is shared out and s past its share; one of them is used
 * again when it has the size wanted.
 */
static struct series_chunk *chunk_take(struct series_store *st, struct series *s)
{
    size_t heap = chunk_heap(st, s);
    struct series_chunk *spare = NULL, *c;
    while (s->head && s->head->next != s->head && s->len - s->head->next->n >= st->limits.points) {
        c = chunk_drop_oldest(st, s);
        free(spare);
        spare = c;
    }
    if (s->head && store_is_shared(st, heap)) {
        size_t held = series_heap(s), share = st->limits.memory / st->n;
        while (s->head->next != s->head && held + heap > share) {
            held -= chunk_heap_of(s->head->next);
            st->dropped += s->head->next->n;
            c = chunk_drop_oldest(st, s);
            free(spare);
            spare = c;
        }
    }
    size_t size = heap - CHUNK_OVERHEAD;
    if (spare && spare->size == size) {
        c = spare;
        memset(c->data, 0, size);
    } else {
        free(spare);
        c = xcalloc(1, offsetof(struct series_chunk, data) + size);
        c->size = (uint16_t)size;
    }
    c->n = c->bits = 0;
    st->chunk_bytes += heap;
    if (s->head) {
        c->next = s->head->next;
        s->head->next = c;
    } else {
        c->next = c;
    }
    s->head = c;
    return c;
}

void series__trim(struct series_store *st)
{
    bool over = st->chunk_bytes > st->limits.memory;
    size_t share = st->n ? st->limits.memory / st->n : 0;
    for (size_t i = 0; i < st->n; i++) {
        struct series *s = st->all[i];
        size_t held = s->head ? series_heap(s) : 0;
        while (s->head && s->head->next != s->head) {
            const struct series_chunk *oldest = s->head->next;
            bool past_points = s->len - oldest->n >= st->limits.points;
            if (!past_points && !(over && held > share))
                break;
            if (!past_points)
                st->dropped += oldest->n;
            held -= chunk_heap_of(oldest);
            free(chunk_drop_oldest(st, s));
        }
    }
    if (over)
        st->shared = true;
}

void series__chunks_free(struct series_store *st, struct series *s)
{
    if (!s->head)
        return;
    struct series_chunk *c = s->head->next;
    s->head->next = NULL;
    while (c) {
        struct series_chunk *next = c->next;
        st->points -= c->n;
        st->chunk_bytes -= chunk_heap_of(c);
        free(c);
        c = next;
    }
    s->head = NULL;
    s->len = 0;
}

/* ---- appending and walking ---- */

void series_append(struct series_store *st, struct series *s, uint64_t time_ms, double value)
{
    struct series_chunk *c = s->head;
    struct series_state next = s->state;
    struct plan p;
    p.fields = p.bits = 0;
    if (c) {
        plan_time(&p, &s->state, false, time_ms, &next);
        plan_value(&p, &s->state, value, &next);
    }
    if (!c || c->n == UINT16_MAX || c->bits + p.bits > c->size * 8u) {
        c = chunk_take(st, s);
        next = state_start;
        p.fields = p.bits = 0;
        plan_time(&p, &state_start, true, time_ms, &next);
        plan_value(&p, &state_start, value, &next);
    }
    plan_write(&p, c->data, c->size, c->bits);
    c->bits = (uint16_t)(c->bits + p.bits);
    c->n++;
    s->state = next;
    s->len++;
    st->points++;
}

size_t series_len(const struct series *s)
{
    return s->len;
}

bool series_last(const struct series *s, struct series_point *ret_point)
{
    if (!s->head)
        return false;
    *ret_point =
            (struct series_point){.time_ms = s->state.time, .value = bits_double(s->state.bits)};
    return true;
}

void series_iter_init(struct series_iter *it, const struct series *s)
{
    *it = (struct series_iter){.head = s->head, .chunk = s->head ? s->head->next : NULL};
}

void series_iter_skip(struct series_iter *it, size_t n)
{
    /* Whole chunks without decoding them: each reads alone, from its first point. */
    while (it->chunk && it->done == 0 && it->chunk != it->head && n >= it->chunk->n) {
        n -= it->chunk->n;
        it->chunk = it->chunk->next;
    }
    struct series_point p;
    while (n && series_next(it, &p))
        n--;
}

bool series_next(struct series_iter *it, struct series_point *ret_point)
{
    if (!it->chunk)
        return false;
    if (it->done == it->chunk->n) {
        if (it->chunk == it->head) {
            it->chunk = NULL;
            return false;
        }
        it->chunk = it->chunk->next;
        it->pos = it->done = 0;
    }
    if (it->done == 0)
        it->state = state_start;
    struct bits in = {.data = it->chunk->data, .size = it->chunk->size, .pos = it->pos};
    read_point(&in, it->done == 0, &it->state);
    it->pos = in.pos;
    it->done++;
    *ret_point =
            (struct series_point){.time_ms = it->state.time, .value = bits_double(it->state.bits)};
    return true;
}
