/* SPDX-License-Identifier: MIT */
/*
 * The handler's side of a request (api/handler.h): reading what was
 * asked and building the reply. Replies are serialised here, on the
 * thread that builds them, so no JSON object is ever shared between the
 * loop and libmicrohttpd's threads; only the finished bytes cross.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/internal.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "codec/json.h"

const char *api_req_method(const struct api_req *req)
{
    return req->method;
}

const char *api_req_path(const struct api_req *req)
{
    return req->path;
}

const char *api_req_origin(const struct api_req *req)
{
    return req->origin;
}

const char *api_req_param(const struct api_req *req, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < req->n_params; i++)
        if (req->params[i].name_len == len && memcmp(req->params[i].name, name, len) == 0)
            return req->params[i].value;
    return NULL;
}

const char *api_req_query(struct api_req *req, const char *key)
{
    /* The connection is suspended while the handler runs: nobody else reads it. */
    return MHD_lookup_connection_value(req->con, MHD_GET_ARGUMENT_KIND, key);
}

const char *api_req_header(struct api_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->con, MHD_HEADER_KIND, name);
}

json_t *api_req_body(const struct api_req *req)
{
    return req->json;
}

const char *api_req_raw_body(const struct api_req *req, size_t *ret_len)
{
    *ret_len = req->body.s ? req->body.len : 0;
    return req->body.s ? req->body.s : "";
}

void *api_req_decoded_take(struct api_req *req)
{
    void *d = req->decoded;
    req->decoded = NULL;
    return d;
}

const struct auth_token_info *api_req_token(const struct api_req *req)
{
    return req->has_token ? &req->token : NULL;
}

/* ---- building replies ------------------------------------------------- */

void api__reply_header_add(struct api_reply *r, const char *name, const char *value)
{
    if (r->n_headers == API_REPLY_HEADERS_MAX)
        return;
    r->headers[r->n_headers][0] = xstrdup(name);
    r->headers[r->n_headers][1] = xstrdup(value);
    r->n_headers++;
}

bool api__reply_has_header(const struct api_reply *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i][0], name) == 0)
            return true;
    return false;
}

void api__reply_fini(struct api_reply *r)
{
    if (r->reader_free && r->reader_data)
        r->reader_free(r->reader_data);
    free(r->body);
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i][0]);
        free(r->headers[i][1]);
    }
    *r = (struct api_reply){0};
}

static json_t *error_vnew(unsigned status, const char *error, const char *fmt, va_list ap)
{
    char reason[1024];
    vsnprintf(reason, sizeof(reason), fmt, ap);
    /* The reason may quote the client's bytes, or be cut inside a character. */
    return json_pack("{s:i, s:s, s:o}", "status", (int)status, "error", error, "reason",
                     codec_json_text(reason));
}

json_t *api_error_new(unsigned status, const char *error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *o = error_vnew(status, error, fmt, ap);
    va_end(ap);
    return o;
}

/*
 * Serialises body (taking its reference) with a final newline, for people
 * using curl. A body that could not be built (NULL: a json_pack() that
 * failed) or encoded is answered 500, whatever status was meant: a 200
 * with an error in it would be believed.
 */
void api__reply_json_set(struct api_reply *r, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(body);
    if (!text) {
        log_error("api", NULL, "a %u reply could not be encoded as JSON; answered 500", status);
        status = 500;
        text = xstrdup("{\"status\":500,\"error\":\"internal\","
                       "\"reason\":\"the reply could not be encoded; this is a bug in hale\"}");
    }
    size_t len = strlen(text);
    text = xrealloc(text, len + 2);
    text[len++] = '\n';
    text[len] = '\0';
    r->status = status;
    r->content_type = "application/json";
    r->body = text;
    r->len = len;
}

void api__reply_error_set(struct api_reply *r, unsigned status, const char *error, const char *fmt,
                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *o = error_vnew(status, error, fmt, ap);
    va_end(ap);
    api__reply_json_set(r, status, o);
}

/* ---- the handler's replies -------------------------------------------- */

static void reply_finish(struct api_req *req, struct api_reply *r)
{
    assert(!req->replied);
    req->replied = true;
    api__req_reply_install(req, r);
}

void api_reply_header(struct api_req *req, const char *name, const char *value)
{
    assert(!req->replied);
    api__reply_header_add(&req->pending, name, value);
}

void api_reply_json(struct api_req *req, unsigned status, json_t *body)
{
    struct api_reply r = req->pending;
    req->pending = (struct api_reply){0};
    api__reply_json_set(&r, status, body);
    reply_finish(req, &r);
}

void api_reply_raw(struct api_req *req, unsigned status, const char *content_type, char *body,
                   size_t len)
{
    struct api_reply r = req->pending;
    req->pending = (struct api_reply){0};
    r.status = status;
    r.content_type = content_type;
    r.body = body;
    r.len = len;
    reply_finish(req, &r);
}

void api__reply_reader(struct api_req *req, unsigned status, const char *content_type,
                       MHD_ContentReaderCallback reader, MHD_ContentReaderFreeCallback reader_free,
                       void *data)
{
    struct api_reply r = req->pending;
    req->pending = (struct api_reply){0};
    r.status = status;
    r.content_type = content_type;
    r.reader = reader;
    r.reader_free = reader_free;
    r.reader_data = data;
    reply_finish(req, &r);
}

void api_reply_error(struct api_req *req, unsigned status, const char *error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    json_t *o = error_vnew(status, error, fmt, ap);
    va_end(ap);
    api_reply_json(req, status, o);
}
