/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for weekly windows ("Mon-Fri 22:00-06:00"): parse any text;
 * a refusal must point into the text; a window must be in range, print in
 * canonical form that parses back to the same window, and cover as many
 * minutes of the week as its days and its length say.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/weekly.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The minutes of the week w covers, counted one by one: each window is
 * shorter than a day, so windows never overlap and the count is the
 * number of days times the window's length.
 */
static bool covers_its_length(const struct weekly_window *w)
{
    unsigned len = w->end_min > w->start_min ? w->end_min - w->start_min
                                             : 1440 - w->start_min + w->end_min;
    unsigned want = (unsigned)__builtin_popcount(w->days) * len, got = 0;
    for (int min = 0; min < 7 * 1440; min++) {
        struct tm tm = {.tm_wday = min / 1440, .tm_hour = min % 1440 / 60, .tm_min = min % 60};
        got += weekly_window_contains(w, &tm);
    }
    return got == want;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0'; /* the parser reads C strings: an embedded NUL ends the text */
    struct weekly_window w;
    size_t off = 0;
    if (weekly_window_parse(s, &w, NULL, &off) < 0) {
        if (off > strlen(s))
            abort(); /* an offset must point into the text */
        free(s);
        return 0;
    }
    if (w.days == 0 || w.days > 0x7f || w.start_min >= 1440 || w.end_min > 1440 ||
        w.start_min == w.end_min)
        abort();
    struct strbuf b;
    strbuf_init(&b, 0);
    if (weekly_window_format(&w, &b) < 0)
        abort();
    struct weekly_window again;
    if (weekly_window_parse(b.s, &again, NULL, NULL) < 0 || memcmp(&w, &again, sizeof(w)) != 0 ||
        !covers_its_length(&w))
        abort();
    strbuf_fini(&b);
    free(s);
    return 0;
}
