/* SPDX-License-Identifier: MIT */
/*
 * What the resource files (incidents, problems, audit) parse alike: ids
 * in paths, query values, and the members of a JSON body, each refusal a
 * 4xx whose reason names what was wrong and what is expected.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/incidents.h"
#include "api/internal.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "base/units.h"
#include "codec/json.h"

void api__reply_ok(struct api_req *req, json_t *body)
{
    if (body)
        api_reply_json(req, 200, body);
    else
        api_reply_error(req, 500, "internal", "the answer cannot be encoded as JSON");
}

struct api_incidents *api__incidents_deps(struct api_req *req, void *data)
{
    struct api_incidents *d = data;
    if (!d->itsm || !*d->itsm || !d->reader || !*d->reader) {
        api_reply_error(req, 503, "unavailable", "incidents are not available now: retry later");
        return NULL;
    }
    return d;
}

bool api__path_id(struct api_req *req, const char *what, int64_t *ret)
{
    const char *s = api_req_param(req, "id");
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v <= 0) {
        api_reply_error(req, 404, "not_found", "there is no %s \"%s\": ids are whole numbers", what,
                        s);
        return false;
    }
    *ret = v;
    return true;
}

bool api__since_parse(const char *s, int64_t *ret_ms)
{
    uint64_t ms;
    if (units_duration_parse(s, &ms, NULL, NULL) == 0) {
        *ret_ms = (int64_t)clock_real_ms(&clock_system) - (int64_t)ms;
        return true;
    }
    return clock_parse_rfc3339_ms(s, ret_ms) == 0;
}

bool api__positive_parse(const char *s, long long max, long long *ret)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s || v < 1 || v > max)
        return false;
    *ret = v;
    return true;
}

void api__actor(const struct api_req *req, char buf[API_ACTOR_MAX])
{
    const struct auth_token_info *tok = api_req_token(req);
    snprintf(buf, API_ACTOR_MAX, "user:%s", tok ? tok->name : "anonymous");
}

void api__reply_bad_field(struct api_req *req, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct strbuf reason;
    strbuf_init(&reason, 0);
    strbuf_vaddf(&reason, fmt, ap);
    va_end(ap);
    json_t *o = api_error_new(400, "bad_request", "%s", reason.s);
    strbuf_fini(&reason);
    json_object_set_new(o, "field", codec_json_text(field));
    api_reply_json(req, 400, o);
}

/* "a, b or c" of a NULL-terminated list. */
static void names_list(const char *const *names, struct strbuf *out)
{
    for (size_t i = 0; names[i]; i++)
        strbuf_addf(out, "%s%s", i == 0 ? "" : names[i + 1] ? ", " : " or ", names[i]);
}

bool api__body_object(struct api_req *req, const char *const *known, json_t **ret)
{
    json_t *body = api_req_body(req);
    if (body && !json_is_object(body)) {
        api_reply_error(req, 400, "bad_request", "the body must be a JSON object");
        return false;
    }
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value)
    {
        size_t i = 0;
        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (known[i])
            continue;
        if (!known[0]) {
            api__reply_bad_field(req, key, "%s: this request takes no fields; send no body", key);
            return false;
        }
        struct strbuf names;
        strbuf_init(&names, 0);
        names_list(known, &names);
        api__reply_bad_field(req, key, "%s: not a field of this request; the fields are %s", key,
                             names.s);
        strbuf_fini(&names);
        return false;
    }
    *ret = body;
    return true;
}

bool api__body_string(struct api_req *req, json_t *body, const char *key, size_t max,
                      const char **ret)
{
    json_t *v = body ? json_object_get(body, key) : NULL;
    *ret = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v)) {
        api__reply_bad_field(req, key, "%s must be a string", key);
        return false;
    }
    if (json_string_length(v) == 0) {
        api__reply_bad_field(req, key, "%s is empty: leave it out, or say something", key);
        return false;
    }
    if (json_string_length(v) > max) {
        json_t *o =
                api_error_new(413, "payload_too_large", "%s may have at most %zu bytes", key, max);
        json_object_set_new(o, "field", codec_json_text(key));
        api_reply_json(req, 413, o);
        return false;
    }
    *ret = json_string_value(v);
    return true;
}

bool api__body_name(struct api_req *req, json_t *body, const char *key, const char *const *names,
                    unsigned *ret)
{
    json_t *v = body ? json_object_get(body, key) : NULL;
    if (!v || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    for (unsigned i = 0; s && names[i]; i++)
        if (strcmp(names[i], s) == 0) {
            *ret = i;
            return true;
        }
    struct strbuf list;
    strbuf_init(&list, 0);
    names_list(names, &list);
    if (s)
        api__reply_bad_field(req, key, "%s: expected %s, got \"%s\"", key, list.s, s);
    else
        api__reply_bad_field(req, key, "%s: expected a string, one of %s", key, list.s);
    strbuf_fini(&list);
    return false;
}

bool api__page_parse(struct api_req *req, size_t limit_default, size_t limit_max,
                     struct api__page *ret)
{
    const char *since = api_req_query(req, "since"), *limit = api_req_query(req, "limit");
    const char *cursor = api_req_query(req, "cursor");
    long long v;
    *ret = (struct api__page){.limit = limit_default};
    if (since && !api__since_parse(since, &ret->since_ms)) {
        api_reply_error(req, 400, "bad_request",
                        "since: expected a duration such as 7d or an RFC 3339 time, got \"%s\"",
                        since);
        return false;
    }
    if (limit && !api__positive_parse(limit, (long long)limit_max, &v)) {
        api_reply_error(req, 400, "bad_request",
                        "limit: expected a whole number from 1 to %zu, got \"%s\"", limit_max,
                        limit);
        return false;
    }
    if (limit)
        ret->limit = (size_t)v;
    if (cursor && !api__positive_parse(cursor, INT64_MAX, &v)) {
        api_reply_error(req, 400, "bad_request",
                        "cursor: expected the next_cursor of the previous page, got \"%s\"",
                        cursor);
        return false;
    }
    if (cursor)
        ret->cursor = v;
    return true;
}

void api__reply_page(struct api_req *req, const char *key, json_t *list, bool more, int64_t last_id)
{
    json_t *next = json_null();
    if (more) {
        char c[32];
        snprintf(c, sizeof(c), "%lld", (long long)last_id);
        next = json_string(c);
    }
    api__reply_ok(req, json_pack("{s:o, s:o}", key, list, "next_cursor", next));
}
