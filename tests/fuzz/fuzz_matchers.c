/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for label matchers: parse any text; when it parses, match it
 * against a label set, print it in canonical form, and require that the
 * canonical form parses back to a list that decides the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/labels.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool decide(const struct labels_matchers *m)
{
    struct labels l;
    labels_init(&l);
    labels_set(&l, "alertname", "DiskFull", NULL);
    labels_set(&l, "service", "web", NULL);
    labels_set(&l, "msg", "line one\nline \"two\"", NULL);
    bool r = labels_matchers_match(m, &l);
    labels_fini(&l);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        abort();
    memcpy(s, data, size);
    s[size] = '\0'; /* the parser reads C strings: an embedded NUL ends the text */
    struct labels_matchers *m = NULL;
    struct err e = {0};
    size_t off = 0;
    if (labels_matchers_parse(s, &m, &e, &off) < 0) {
        if (off > strlen(s))
            abort(); /* an offset must point into the text */
        free(s);
        return 0;
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    if (labels_matchers_format(m, &b) < 0)
        abort();
    struct labels_matchers *again = NULL;
    if (labels_matchers_parse(b.s, &again, NULL, NULL) < 0 || again->n != m->n ||
        decide(again) != decide(m))
        abort();
    labels_matchers_free(again);
    labels_matchers_free(m);
    strbuf_fini(&b);
    free(s);
    return 0;
}
