/* SPDX-License-Identifier: MIT */
/*
 * What a route handler sees: the request (method, path parameters, query,
 * parsed JSON body, the caller's token) and the replies it can give. All
 * of it runs on the loop thread. A handler answers exactly once, with one
 * api_reply_*() call, either before it returns or later (for work that
 * finishes in another loop callback); the request must not be touched
 * after that call.
 *
 * Every error the API sends has one shape:
 *   {"status": 404, "error": "not_found", "reason": "a sentence saying what to do"}
 */
#ifndef HALE_API_HANDLER_H
#define HALE_API_HANDLER_H

#include <stddef.h>

#include <jansson.h>

#include "api/api.h"
#include "auth/auth.h"

const char *api_req_method(const struct api_req *req);
/* The path as requested, without the query string. */
const char *api_req_path(const struct api_req *req);
/* The client's address ("127.0.0.1"), for the audit log. */
const char *api_req_origin(const struct api_req *req);
/* The value of path parameter name ("id" for "{id}"), or NULL. */
const char *api_req_param(const struct api_req *req, const char *name);
/*
 * A query string argument, or NULL. Valid only during the handler call
 * (copy it to keep it), since it lives in the connection.
 */
const char *api_req_query(struct api_req *req, const char *key);
/* A request header (any case), or NULL. Valid only during the handler call, as a query. */
const char *api_req_header(struct api_req *req, const char *name);
/* The parsed JSON body (borrowed), or NULL when the request had none. */
json_t *api_req_body(const struct api_req *req);
/*
 * The body of a route added with api_routes_add_raw(), as it came (NUL-terminated
 * after *ret_len bytes; may hold NULs itself), borrowed until the reply;
 * "" with length 0 when the request had none.
 */
const char *api_req_raw_body(const struct api_req *req, size_t *ret_len);
/*
 * What the decoder of a route added with api_routes_add_decoded() made of
 * the body, handed over: the caller frees it (with the decoder's free());
 * NULL when taken already. One not taken is freed with the request.
 */
void *api_req_decoded_take(struct api_req *req);
/* The caller's token, or NULL on a public route. */
const struct auth_token_info *api_req_token(const struct api_req *req);

/*
 * Turns a JSON body into what a route's handler takes, on the HTTP thread
 * that read it, so that the loop gets the work ready made.
 */
struct api_body_decoder {
    /*
     * Decodes len bytes of body (NUL-terminated after them; "" with len 0
     * when the request had none) into *ret. Returns 0, or the status of
     * the refusal (400, 413, ...) with *ret_error its error object (a new
     * reference, from api_error_new()), which is sent at once. Any thread,
     * several at once.
     */
    unsigned (*decode)(const char *body, size_t len, void **ret, json_t **ret_error);
    /* Frees what decode() made (not NULL). Any thread. */
    void (*free)(void *decoded);
};

/* Adds a response header to the coming reply (both strings copied); at most 8. */
void api_reply_header(struct api_req *req, const char *name, const char *value);
/* Replies with body serialised as JSON; takes the reference to body. */
void api_reply_json(struct api_req *req, unsigned status, json_t *body);
/* Replies with len bytes of body (malloc()ed; the api frees it) of content_type (static). */
void api_reply_raw(struct api_req *req, unsigned status, const char *content_type, char *body,
                   size_t len);
/*
 * Replies with the error object of status; error is the stable code
 * ("not_found"), the format the reason.
 */
void api_reply_error(struct api_req *req, unsigned status, const char *error, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
/* The error object alone, for handlers that add fields before api_reply_json(). */
json_t *api_error_new(unsigned status, const char *error, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
