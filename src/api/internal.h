/* SPDX-License-Identifier: MIT */
/*
 * What the api module's files share: the route table (api.c), the request
 * and reply objects, and the server (server.c) that moves requests between
 * libmicrohttpd's threads and the loop.
 *
 * A request crosses threads, so it is reference-counted: libmicrohttpd
 * holds one reference from the first callback to the "completed" callback,
 * and the hop to the loop holds another from loop_post() until the
 * handler's reply (or until the posted work sees the request was
 * cancelled by api_server_stop()). Each request holds a reference to its
 * server, so a server's memory outlives work still queued on the loop.
 */
#ifndef HALE_API_INTERNAL_H
#define HALE_API_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/api.h"
#include "api/handler.h"
#include "base/labels.h"
#include "base/strbuf.h"

#define API_REPLY_HEADERS_MAX 8
#define API_PREFIX            "/api"
/* Under /api/ but public: what the status page shows end users, read-only. */
#define API_PUBLIC_PREFIX     "/api/v1/public"

struct api_route_entry {
    char *method;
    char *pattern;
    int n_params; /* "{name}" segments: the fewest wins when several routes match */
    unsigned perm;
    api_handler_fn *handler;
    bool raw_body;                          /* added with api_routes_add_raw() */
    const struct api_body_decoder *decoder; /* added with api_routes_add_decoded() */
    void *data;
};

struct api__streams;

struct api {
    struct api_deps deps;
    char *config_path; /* our copy of deps.config_path */
    struct api_route_entry *routes;
    size_t n_routes;
    atomic_bool frozen;           /* a server started: the table is read by HTTP threads */
    struct api__streams *streams; /* the live streams and their replay ring (stream.c) */
};

/*
 * A finished answer, built on one thread and sent by libmicrohttpd's.
 * Its body is either bytes or, for a live stream, a reader that
 * libmicrohttpd calls on its thread for as long as the connection lasts.
 */
struct api_reply {
    unsigned status; /* 0: none yet */
    const char *content_type;
    char *body; /* malloc()ed */
    size_t len;
    char *headers[API_REPLY_HEADERS_MAX][2];
    size_t n_headers;
    MHD_ContentReaderCallback reader; /* NULL: the body is body */
    MHD_ContentReaderFreeCallback reader_free;
    void *reader_data; /* freed with reader_free() unless libmicrohttpd took it */
};

struct api_param {
    const char *name; /* in the route's pattern, not NUL-terminated */
    size_t name_len;
    char *value;
};

struct api_req {
    atomic_uint refs;
    struct api_server *server; /* a reference */
    struct MHD_Connection *con;
    uint64_t start_ns;
    char *method;
    char *path;
    char origin[64]; /* the client's address, "127.0.0.1" or "::1" */
    bool is_api;     /* under /api/: not cached (and a token checked unless public) */
    bool has_token;
    struct auth_token_info token;
    const struct api_route_entry *route; /* NULL when none matched */
    const char *route_label;             /* for metrics: the pattern or "other" */
    struct api_param params[API_PARAMS_MAX];
    size_t n_params;

    /* The body, read on the HTTP thread. */
    uint64_t max_body; /* the server's cap when the request began; a reload changes later ones */
    bool body_wanted;  /* buffered; parsed as JSON unless the route takes it raw or decoded */
    bool body_too_large;
    uint64_t body_seen;
    struct strbuf body;
    json_t *json;
    void *decoded; /* by the route's decoder; freed with the request unless taken */

    /* The hop to the loop. Fields below are guarded by server->lock. */
    bool dispatched;
    bool cancelled;              /* by api_server_stop(): a 503 is in reply already */
    struct api_req *prev, *next; /* in server->waiting */

    struct api_reply reply;   /* what libmicrohttpd sends */
    struct api_reply pending; /* headers a handler added (loop thread only) */
    bool replied;             /* the handler answered (loop thread only) */
    unsigned status;          /* as sent, for metrics and the log */
};

/* ---- api.c: routes ---------------------------------------------------- */

enum api_match {
    API_MATCH_NONE,   /* no route has this path */
    API_MATCH_METHOD, /* some route has the path, none the method */
    API_MATCH_OK,
};

/*
 * Finds the route for method and path. On API_MATCH_OK fills req->route
 * and the parameters; on API_MATCH_METHOD writes the allowed methods
 * ("GET, HEAD") into allow. Sets req->route_label either way.
 */
enum api_match api__route_match(const struct api *api, struct api_req *req, char *allow,
                                size_t allow_size);
bool api__path_is_api(const char *path);
/* Under /api/ and not under API_PUBLIC_PREFIX: a bearer token is checked. */
bool api__path_needs_token(const char *path);

/* ---- request.c: replies ------------------------------------------------- */

/* Fills r with the error object of status (any thread). */
void api__reply_error_set(struct api_reply *r, unsigned status, const char *error, const char *fmt,
                          ...) __attribute__((format(printf, 4, 5)));
/* Fills r with body serialised as JSON (any thread); takes the reference to body. */
void api__reply_json_set(struct api_reply *r, unsigned status, json_t *body);
/* Adds a header to r (copied; dropped past API_REPLY_HEADERS_MAX). */
void api__reply_header_add(struct api_reply *r, const char *name, const char *value);
/* Whether r has a header called name (case-insensitive). */
bool api__reply_has_header(const struct api_reply *r, const char *name);
void api__reply_fini(struct api_reply *r);
/*
 * The handler's answer whose body libmicrohttpd pulls from reader(data)
 * on its thread, for as long as it lasts; takes data, which reader_free()
 * frees (also when the request was cancelled and the reply is dropped).
 * Loop thread, like every api_reply_*().
 */
void api__reply_reader(struct api_req *req, unsigned status, const char *content_type,
                       MHD_ContentReaderCallback reader, MHD_ContentReaderFreeCallback reader_free,
                       void *data);

/* ---- server.c --------------------------------------------------------- */

/* Hands a reply built on the loop to the connection (loop thread). */
void api__req_reply_install(struct api_req *req, struct api_reply *r);
/* The listen address of the server a request came through, as configured. */
const char *api__req_listen(const struct api_req *req);
/* Whether the request's server stopped accepting connections (it drains or stops). */
bool api__req_server_quiesced(const struct api_req *req);

/* ---- core.c ----------------------------------------------------------- */

void api__core_routes_add(struct api *api);

/* ---- params.c: what the resource files parse alike ---------------------- */

/* Replies 200 with body, or 500 when it could not be encoded (NULL). */
void api__reply_ok(struct api_req *req, json_t *body);
/* A positive id from the path parameter "id", or false with a 404 sent naming what. */
bool api__path_id(struct api_req *req, const char *what, int64_t *ret);
/* since: a duration back from now ("7d") or an RFC 3339 time. */
bool api__since_parse(const char *s, int64_t *ret_ms);
/* A whole number from 1 to max. */
bool api__positive_parse(const char *s, long long max, long long *ret);

/* The query parameters every paged list takes. */
struct api__page {
    int64_t since_ms; /* since: a duration back from now or an RFC 3339 time; 0: absent */
    size_t limit;     /* limit: 1 to the list's most; its default when absent */
    int64_t cursor;   /* cursor: the next_cursor of the previous page; 0: absent */
};
/*
 * Replies 200 with {KEY: list, "next_cursor": ...}: last_id as the cursor
 * when more follow, else null. Takes the reference to list.
 */
void api__reply_page(struct api_req *req, const char *key, json_t *list, bool more,
                     int64_t last_id);
/* Reads since, limit and cursor; false with a 400 sent, naming the bad one. */
bool api__page_parse(struct api_req *req, size_t limit_default, size_t limit_max,
                     struct api__page *ret);
/*
 * The "user:NAME" of the caller's token, for timelines and the audit log,
 * into buf of size AUTH_NAME_MAX + 8.
 */
#define API_ACTOR_MAX (AUTH_NAME_MAX + 8)
void api__actor(const struct api_req *req, char buf[API_ACTOR_MAX]);

/*
 * The body as a JSON object: NULL (no body) is an empty one. False with a
 * 400 sent when it is something else, or when it has a member whose name
 * is not in known (a NULL-terminated list): a misspelt field is refused,
 * not ignored.
 */
bool api__body_object(struct api_req *req, const char *const *known, json_t **ret);
/*
 * A string member of body of 1 to max bytes, NULL when absent or null;
 * false with a 400 (413 past max) sent, naming the field, when it is not
 * a string or is empty.
 */
bool api__body_string(struct api_req *req, json_t *body, const char *key, size_t max,
                      const char **ret);
/*
 * A member of body that names one of names (a NULL-terminated list; its
 * position in *ret); *ret unchanged when absent. False with a 400 sent,
 * naming the field and the names, otherwise.
 */
bool api__body_name(struct api_req *req, json_t *body, const char *key, const char *const *names,
                    unsigned *ret);
/* A 400 for a field of the body: the reason, and "field" naming it for machines. */
void api__reply_bad_field(struct api_req *req, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* ---- the resources of the incident desk (incidents.c adds them all) ---- */

struct api_incidents;
/* The desk and the reader of d, or NULL with a 503 sent while there are none. */
struct api_incidents *api__incidents_deps(struct api_req *req, void *data);
int api__problems_routes_add(struct api *api, struct api_incidents *d, struct err *e);
int api__audit_routes_add(struct api *api, struct api_incidents *d, struct err *e);
/* GET /api/v1/public/status (public.c): the status page's data, without a token. */
int api__public_routes_add(struct api *api, struct api_incidents *d, struct err *e);
/* ---- stream.c: the live streams --------------------------------------- */

/* The hub of the live streams and GET /api/v1/stream; freed by api__streams_free(). */
struct api__streams *api__streams_new(struct api *api);
/* After every server of the api is freed; accepts NULL. */
void api__streams_free(struct api__streams *h);
/*
 * Ends every stream served by server s, after what it has queued: s is
 * going away (quiesced for a drain, or stopped), and libmicrohttpd stops
 * only once no connection is suspended. Loop thread.
 */
void api__streams_end(struct api__streams *h, const struct api_server *s);
/*
 * Once a second, from s's sweep: a keep-alive comment to each of s's
 * streams that was quiet for API_STREAM_KEEPALIVE_MS (stream.h), streams whose
 * token was revoked ended, streams that are gone dropped. Loop thread.
 */
void api__streams_tick(struct api__streams *h, const struct api_server *s);

/* ---- stream_ring.c: the stream's wire format and replay ring ---------- */

/* The kinds of message a stream carries; persisted by clients as names: append only. */
enum api__event_type {
    API__EVENT_INCIDENT = 0, /* an incident changed (durably) */
    API__EVENT_CHECK = 1,    /* a check's hard state changed */
    API__EVENT_RUN = 2,      /* a run changed (durably) */
    API__EVENT_TYPES,
};
#define API__EVENT_ALL ((1u << API__EVENT_TYPES) - 1)

/* "incident", "check", "run". */
const char *api__event_type_name(enum api__event_type t);
/*
 * Parses a comma-separated list of type names ("incident,check") into a
 * mask of 1 << type. Returns 0, or -EINVAL with e naming the first word
 * that is not a type (an empty list or an empty word is one).
 */
int api__event_types_parse(const char *s, unsigned *ret_mask, struct err *e);

/* A run id: 8 lowercase hex digits, plus the NUL. */
#define API__RUN_MAX      9
/* An event id, "RUN-SEQ", at most. */
#define API__EVENT_ID_MAX (API__RUN_MAX + 21)

/* One message as it goes on the wire, kept for replay. */
struct api__event {
    uint64_t seq;
    enum api__event_type type;
    char *frame; /* "id: RUN-SEQ\nevent: TYPE\ndata: JSON\n\n" */
    size_t len;
};

/*
 * The last messages of this daemon run, for clients that reconnect with
 * Last-Event-ID: at most max_events messages and max_bytes of frames (a
 * message larger than max_bytes is still kept, alone), the oldest
 * dropped first. Sequence numbers start at 1 and never repeat within a
 * run; run names the run, so an id from another run is recognised. Not
 * thread-safe: the loop thread owns it.
 */
struct api__ring {
    char run[API__RUN_MAX];
    uint64_t seq; /* of the newest message; 0 before the first */
    struct api__event *v;
    size_t cap, head, n; /* v[head] is the oldest of n */
    size_t bytes, max_bytes;
};

/* run: 1 to 8 characters of [0-9a-z]. */
void api__ring_init(struct api__ring *r, const char *run, size_t max_events, size_t max_bytes);
void api__ring_fini(struct api__ring *r);
/*
 * Appends a message with the next sequence number; json is one line of
 * JSON (copied). Returns the message, borrowed until the next push.
 */
const struct api__event *api__ring_push(struct api__ring *r, enum api__event_type type,
                                        const char *json);
/* "RUN-SEQ" of seq, into buf. */
void api__ring_id(const struct api__ring *r, uint64_t seq, char buf[API__EVENT_ID_MAX]);

/*
 * Whether a client that last saw the message last_id can be brought up to
 * date from the ring: true with *ret_after its sequence number when every
 * message after it is still held; false when last_id is from another run,
 * malformed, newer than the newest, or older than what the ring holds
 * (the client then refetches what it shows).
 */
bool api__ring_resumable(const struct api__ring *r, const char *last_id, uint64_t *ret_after);
/*
 * Appends the frames of the messages after sequence number after whose
 * type is in mask, oldest first, to out; returns how many.
 */
size_t api__ring_replay(const struct api__ring *r, uint64_t after, unsigned mask,
                        struct strbuf *out);

#endif
