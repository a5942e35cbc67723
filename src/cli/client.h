/* SPDX-License-Identifier: MIT */
/*
 * The commands' HTTP client of hale's API (docs/api.md): one blocking
 * libcurl easy handle, the bearer token, a bounded time and a bounded
 * answer. Failures come back as messages for people that say what to do
 * next ("is 'hale serve' running?", "create a token with ..."), so each
 * command only prints them. The daemon never uses this: it is the CLI's.
 */
#ifndef HALE_CLI_CLIENT_H
#define HALE_CLI_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/err.h"
#include "base/strbuf.h"

/* Where the API is when neither --url nor $HALE_URL says. */
#define CLI_CLIENT_DEFAULT_URL "http://127.0.0.1:8080"
/* A request that takes longer fails: a stuck daemon must not hang a shell. */
#define CLI_CLIENT_TIMEOUT_MS  10000
/* The largest answer read; a report of a long period stays far below. */
#define CLI_CLIENT_MAX_BODY    (64u * 1024 * 1024)

struct cli_client;

/*
 * A client of the API at url (else $HALE_URL, else CLI_CLIENT_DEFAULT_URL),
 * sending token (else $HALE_TOKEN; none at all is allowed, and answered by
 * the daemon's 401). The strings are copied. Free with cli_client_free().
 */
struct cli_client *cli_client_new(const char *url, const char *token);
void cli_client_free(struct cli_client *c);

/* The base URL in use, without a trailing '/'; borrowed from c. */
const char *cli_client_url(const struct cli_client *c);

/*
 * Sends METHOD to the base URL followed by path (which starts with '/'
 * and may carry a query built with cli_url_query_add()). A non-NULL body
 * is sent as JSON. A 2xx answer's body is appended to ret_body and 0 is
 * returned. Otherwise returns, with e holding the sentence to show:
 * -ECONNREFUSED (hale cannot be reached), -ETIMEDOUT, -EINVAL (a bad
 * URL), HALE_EAUTH (401), HALE_EDENIED (403), HALE_ENOTFOUND (404),
 * HALE_ESTATE (409), HALE_EPARSE (another 4xx), HALE_ELIMIT (an answer
 * over CLI_CLIENT_MAX_BODY) or HALE_EINTERNAL (5xx, anything else).
 */
int cli_client_request(struct cli_client *c, const char *method, const char *path, const char *body,
                       struct strbuf *ret_body, struct err *e);

/*
 * cli_client_request() with JSON both ways: body (may be NULL) is
 * serialised, and the answer, which must be a JSON object, is parsed
 * into *ret (free with json_decref()). Errors as cli_client_request(),
 * plus HALE_EPARSE for an answer that is not a JSON object.
 */
int cli_client_json(struct cli_client *c, const char *method, const char *path, const json_t *body,
                    json_t **ret, struct err *e);

/* Appends to path the path of the page after cursor (NULL: the first page). */
typedef void cli_client_page_path(const char *cursor, const void *arg, struct strbuf *path);

/*
 * GETs a paged list: an answer with the array key and "next_cursor". With
 * all, follows next_cursor (at most max_pages pages; a cursor that does not
 * move ends it), gathering every page into the first answer, whose
 * next_cursor then says where it stopped (null: at the end). Returns 0,
 * or as cli_client_json(), plus HALE_EPARSE for an answer without key.
 */
int cli_client_list(struct cli_client *c, const char *key, bool all, int max_pages,
                    cli_client_page_path *path_of, const void *arg, json_t **ret_answer,
                    struct err *e);

/*
 * Receives the bytes of a stream's body as they arrive. Returns 0 to go
 * on, anything else to end the stream (cli_client_stream() then returns
 * it).
 */
typedef int cli_client_stream_fn(const char *data, size_t len, void *arg);

/* A stream that sends nothing (not even a keep-alive) for this long is taken for dead. */
#define CLI_CLIENT_STREAM_IDLE_S 45

/*
 * GETs path as a live stream (text/event-stream): the body goes to fn as
 * it arrives, for as long as the daemon sends it, with no time limit but
 * CLI_CLIENT_STREAM_IDLE_S of silence. last_event_id, when not NULL or
 * empty, is sent as Last-Event-ID. *stop is looked at about every second
 * and while waiting; when it becomes non-zero the stream ends and 0 is
 * returned. Returns 0 when the daemon ended the body, fn's non-zero
 * result, or the errors of cli_client_request() (-ETIMEDOUT also for a
 * silent stream; a 503 is HALE_EINTERNAL with the daemon's reason).
 */
int cli_client_stream(struct cli_client *c, const char *path, const char *last_event_id,
                      cli_client_stream_fn *fn, void *arg, const volatile sig_atomic_t *stop,
                      struct err *e);

/*
 * The sentence for a refused request: status and the API's error body
 * ({"status":..,"error":..,"reason":..}; any other body is tolerated).
 * Returns the code cli_client_request() returns for that status.
 */
int cli_client_answer_error(long status, const char *body, size_t len, struct err *e);

/*
 * Appends "?key=value", or "&key=value" when url has a query already, to
 * url, with value percent-encoded (everything but A-Z a-z 0-9 - . _ ~).
 */
void cli_url_query_add(struct strbuf *url, const char *key, const char *value);

/* Appends segment to url as one path segment, percent-encoded as above ('/' too). */
void cli_url_path_add(struct strbuf *url, const char *segment);

#endif
