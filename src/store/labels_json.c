/* SPDX-License-Identifier: MIT */
/*
 * An incident's labels (and an event's annotations) as a JSON object's
 * text: what the database keeps in a column (SQLite's text, PostgreSQL's
 * jsonb alike), and fingerprints as their hex text. The only file of the
 * store that includes jansson.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "base/alloc.h"
#include "store/internal.h"

int store__labels_to_json(const struct labels *l, char **ret_text)
{
    json_t *o = json_object();
    for (size_t i = 0; i < l->n; i++) {
        json_t *v = json_string(l->v[i].value);
        if (!v) { /* not UTF-8: JSON cannot carry it */
            json_decref(o);
            return HALE_EPARSE;
        }
        json_object_set_new(o, l->v[i].name, v);
    }
    /* Sorted keys: the same labels always give the same text. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!s)
        abort(); /* jansson fails here only when out of memory, as xmalloc would */
    *ret_text = xstrdup(s);
    free(s);
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
    snprintf(buf, STORE__FINGERPRINT_MAX, "%016llx", (unsigned long long)fp);
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
