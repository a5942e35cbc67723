/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the http kind's answer reader (http_wire.c). The first
 * byte says whether the request was a HEAD and whether the body is kept,
 * the next two where the answer is split; the rest is what the server
 * sent. The answer read whole and the answer read in two pieces must be
 * the same, and within bounds: a status line of printable ASCII, a body of
 * at most HTTP_BODY_MAX bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
    if (!ok)
        abort();
}

/* Feeds the pieces, then the end of the stream while the reader wants more. */
static int read_answer(const char *const *piece, const size_t *len, size_t n, bool head, bool keep,
                       struct http_answer *a)
{
    struct http_reader r;
    char why[160];
    int rc = 0;
    *a = (struct http_answer){.body.keep = keep};
    http_reader_init(&r, a, head);
    for (size_t i = 0; i < n && rc == 0; i++)
        if (len[i])
            rc = http_reader_feed(&r, piece[i], len[i], why, sizeof(why));
    if (rc == 0)
        rc = http_reader_feed(&r, NULL, 0, why, sizeof(why));
    require(rc == 1 || rc == -1);
    require(rc == 1 || strlen(why) > 0);
    return rc;
}

static void check_bounds(const struct http_answer *a, int rc, bool keep)
{
    size_t n = strlen(a->status_line);
    require(n < sizeof(a->status_line));
    for (size_t i = 0; i < n; i++)
        require(a->status_line[i] >= 0x20 && a->status_line[i] < 0x7f);
    require(a->body.len <= HTTP_BODY_MAX);
    require(keep || a->body.data == NULL);
    if (rc == 1)
        require(a->code >= 0 && a->code <= 999 && (a->code / 100 != 1 || a->code == 101) &&
                strncmp(a->status_line, "HTTP/", 5) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    bool head = data[0] & 1, keep = data[0] & 2;
    const char *answer = (const char *)data + 3;
    size_t len = size - 3, at = ((size_t)data[1] << 8 | data[2]) % (len + 1);

    struct http_answer whole, split;
    const char *one[] = {answer};
    int rc = read_answer(one, &len, 1, head, keep, &whole);
    const char *two[] = {answer, answer + at};
    size_t lens[] = {at, len - at};
    int rc2 = read_answer(two, lens, 2, head, keep, &split);

    check_bounds(&whole, rc, keep);
    check_bounds(&split, rc2, keep);
    require(rc == rc2);
    if (rc == 1) {
        require(whole.code == split.code);
        require(strcmp(whole.status_line, split.status_line) == 0);
        require(whole.body.len == split.body.len && whole.body.cut == split.body.cut);
        require(!keep || whole.body.len == 0 ||
                memcmp(whole.body.data, split.body.data, whole.body.len) == 0);
    }
    free(whole.body.data);
    free(split.body.data);
    return 0;
}
