/* SPDX-License-Identifier: MIT */
/*
 * An incident's labels (and an event's annotations) as a JSON object's
 * text: what the database keeps in a column (SQLite's text, PostgreSQL's
 * jsonb alike), and fingerprints as their hex text. The only file of the
 * store that includes jansson.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "store/internal.h"

/*
 * Written by hand rather than through jansson: every event stored has two
 * of these, and building a jansson object to dump it cost a third of the
 * writer's time. The labels are sorted by name (strcmp), as jansson's
 * JSON_SORT_KEYS sorts keys, so the text is the one jansson would write.
 */
int store__labels_to_json(const struct labels *l, char **ret_text)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    int r = strbuf_addc(&b, '{');
    for (size_t i = 0; r == 0 && i < l->n; i++) {
        if (i > 0)
            r = strbuf_addc(&b, ',');
        if (r == 0)
            r = strbuf_add_json_string(&b, l->v[i].name);
        if (r == 0)
            r = strbuf_addc(&b, ':');
        if (r == 0)
            r = strbuf_add_json_string(&b, l->v[i].value);
    }
    if (r == 0)
        r = strbuf_addc(&b, '}');
    if (r < 0) { /* not UTF-8: JSON cannot carry it */
        strbuf_fini(&b);
        return HALE_EPARSE;
    }
    *ret_text = strbuf_detach(&b, NULL);
    return 0;
}

int store__labels_from_json(const char *text, struct labels *ret)
{
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return HALE_EPARSE;
    }
    struct labels l;
    labels_init(&l);
    const char *name;
    json_t *value;
    json_object_foreach(o, name, value)
    {
        if (!json_is_string(value) || labels_set(&l, name, json_string_value(value), NULL) < 0) {
            labels_fini(&l);
            json_decref(o);
            return HALE_EPARSE;
        }
    }
    json_decref(o);
    *ret = l;
    return 0;
}

void store__fingerprint_format(uint64_t fp, char buf[STORE__FINGERPRINT_MAX])
{
    static const char hex[] = "0123456789abcdef";
    for (int k = 15; k >= 0; k--, fp >>= 4)
        buf[k] = hex[fp & 0xf];
    buf[16] = '\0';
}

bool store__fingerprint_parse(const char *s, uint64_t *ret)
{
    uint64_t v = 0;
    size_t n = 0;
    for (; s && s[n]; n++) {
        char c = s[n];
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : 16;
        if (d == 16 || n >= 16)
            return false;
        v = v << 4 | d;
    }
    if (n != 16)
        return false;
    *ret = v;
    return true;
}
