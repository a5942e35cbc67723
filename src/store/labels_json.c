/* SPDX-License-Identifier: MIT */
/*
 * An incident's labels as a JSON object's text: what the database keeps in
 * a column (SQLite's text, PostgreSQL's jsonb alike). The only file of the
 * store that includes jansson.
 */
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
