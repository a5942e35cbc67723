/* SPDX-License-Identifier: MIT */
/*
 * GET /api/v1/stream: server-sent events of every incident change, of
 * every check's hard state change and of every run's change (docs/api.md,
 * "Live stream").
 *
 * The loop thread produces: api_stream_incident(), api_stream_check() and
 * api_stream_run() encode a message once, keep it in the replay ring (stream_ring.c) and
 * copy it into the queue of each stream that wants its type. The HTTP
 * threads consume: libmicrohttpd calls stream_read() for the next bytes
 * of a stream. With nothing to send the reader suspends the connection
 * (returning 0 without it would have libmicrohttpd call again at once,
 * spinning) and the next push resumes it. A suspended connection neither
 * times out nor is polled, so an idle stream costs nothing; the keep-alive
 * comment every API_STREAM_KEEPALIVE_MS is what finds a client that left.
 * The queue and the suspended flag are all both threads touch, under the
 * stream's mutex.
 *
 * A stream belongs to the hub (for the pushes) and to its response (for
 * the reader), and is freed when both let go. The response lets go when
 * libmicrohttpd is done with the connection (the client left, a write
 * failed, the stream ended); the hub drops such streams on its next pass.
 * A client that does not read has its queue grow: past
 * API_STREAM_QUEUE_MAX the queue is dropped and the stream ended, so a
 * stuck client never makes memory grow; it may reconnect with
 * Last-Event-ID and get what it missed from the ring.
 */
#include "api/stream.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"
#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/hash.h"
#include "base/log.h"
#include "codec/json.h"

/* How long a client waits before it reconnects, told in the first message. */
#define STREAM_RETRY_MS   3000
/* An emptied queue that had grown past this gives its memory back. */
#define STREAM_QUEUE_KEEP (64 * 1024)

struct stream {
    atomic_uint refs;                /* the hub's and the response's */
    atomic_bool gone;                /* the response was freed: the connection is over */
    const struct api_server *server; /* that serves it; compared, never followed */
    struct MHD_Connection *con;
    int fd;         /* the connection's socket, looked at only while suspended */
    unsigned types; /* mask of 1 << enum api__event_type */
    char origin[64];
    struct auth_token_info token;
    uint64_t quiet_since_ms; /* loop thread: when bytes were last queued (monotonic) */
    uint64_t sent_seq;       /* loop thread: the last id the client was given */
    struct stream *next;     /* in the hub (loop thread) */

    pthread_mutex_t lock; /* guards what follows, shared with the reader */
    struct strbuf queue;  /* bytes for the client: from head on, not yet taken */
    size_t head;
    size_t oversize; /* room given on top of the cap to a message larger than the cap */
    bool suspended;  /* the reader suspended the connection: a push resumes it */
    bool ending;     /* send what is queued, then end the body */
    bool aborted;    /* the client left: close the connection, send nothing */
};

struct api__streams {
    struct api *api;
    struct api__ring ring;
    struct stream *list;
    unsigned n; /* in list */
};

static const struct metrics_daemon *counters(const struct api__streams *h)
{
    return h->api->deps.counters;
}

/* ---- one stream -------------------------------------------------------- */

static void stream_unref(struct stream *st)
{
    if (atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&st->lock);
    strbuf_fini(&st->queue);
    free(st);
}

/* Empties the queue, giving back a large buffer. The caller holds st->lock. */
static void queue_clear(struct stream *st)
{
    if (st->queue.cap > STREAM_QUEUE_KEEP) {
        strbuf_fini(&st->queue);
        strbuf_init(&st->queue, 0);
    } else {
        strbuf_reset(&st->queue);
    }
    st->head = 0;
}

/* Moves what is left to the front, so the buffer does not grow with what was sent. */
static void queue_compact(struct stream *st)
{
    struct strbuf *q = &st->queue;
    memmove(q->s, q->s + st->head, q->len - st->head);
    q->len -= st->head;
    q->s[q->len] = '\0';
    st->head = 0;
}

/* Lets libmicrohttpd call the reader again. The caller holds st->lock. */
static void stream_wake(struct stream *st)
{
    if (!st->suspended)
        return;
    /* Suspended means alive: libmicrohttpd closes no suspended connection. */
    st->suspended = false;
    MHD_resume_connection(st->con);
}

/*
 * Queues len bytes for the client (loop thread). False when they do not
 * fit under API_STREAM_QUEUE_MAX: the client is too far behind, so its
 * queue is dropped and the stream ends. A message larger than the cap,
 * queued when the queue is empty, gets room of its own on top of the cap
 * until the queue is empty again, so it cuts neither every client nor
 * the clients that read on behind it.
 */
static bool stream_push(struct stream *st, const char *data, size_t len)
{
    bool fits = true;
    pthread_mutex_lock(&st->lock);
    if (!st->ending) {
        size_t queued = st->queue.len - st->head;
        if (queued == 0)
            st->oversize = len > API_STREAM_QUEUE_MAX ? len : 0;
        fits = queued + len <= API_STREAM_QUEUE_MAX + st->oversize;
        if (fits) {
            if (st->head > 0 && st->head >= st->queue.len / 2)
                queue_compact(st);
            strbuf_add(&st->queue, data, len);
        } else {
            queue_clear(st);
            st->ending = true;
        }
        stream_wake(st);
    }
    pthread_mutex_unlock(&st->lock);
    return fits;
}

/* Ends the stream after what is queued and a last comment; false if it was ending already. */
static bool stream_end(struct stream *st, const char *comment)
{
    pthread_mutex_lock(&st->lock);
    bool was = st->ending;
    if (!was) {
        strbuf_addf(&st->queue, ": %s\n\n", comment);
        st->ending = true;
        stream_wake(st);
    }
    pthread_mutex_unlock(&st->lock);
    return !was;
}

/*
 * Whether the client closed its end of an idle stream, which then ends at
 * once (loop thread). A suspended connection is not polled, so without
 * this a client that left would hold its place until the next keep-alive
 * failed to be written; one that reloads its page often could run out of
 * streams. The socket is looked at only while suspended: libmicrohttpd
 * then leaves it alone, so it is still this client's.
 */
static bool stream_client_left(struct stream *st)
{
    bool left = false;
    pthread_mutex_lock(&st->lock);
    if (st->suspended && st->fd >= 0) {
        struct pollfd p = {.fd = st->fd, .events = POLLRDHUP};
        left = poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
        if (left) {
            st->ending = st->aborted = true;
            stream_wake(st);
        }
    }
    pthread_mutex_unlock(&st->lock);
    return left;
}

/* libmicrohttpd wants the next bytes of the body (HTTP thread). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *st = cls;
    pthread_mutex_lock(&st->lock);
    size_t n = st->queue.len - st->head;
    ssize_t ret;
    if (st->aborted) {
        ret = MHD_CONTENT_READER_END_WITH_ERROR;
    } else if (n > 0) {
        n = n < max ? n : max;
        memcpy(buf, st->queue.s + st->head, n);
        st->head += n;
        if (st->head == st->queue.len)
            queue_clear(st);
        ret = (ssize_t)n;
    } else if (st->ending) {
        ret = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        st->suspended = true;
        MHD_suspend_connection(st->con);
        ret = 0;
    }
    pthread_mutex_unlock(&st->lock);
    return ret;
}

/*
 * libmicrohttpd let go of the response (any thread), or the reply was
 * dropped before it was sent. No lock: libmicrohttpd may hold its own
 * while it calls this, and the loop takes ours before calling into it.
 */
static void stream_response_gone(void *cls)
{
    struct stream *st = cls;
    atomic_store(&st->gone, true);
    stream_unref(st);
}

/* ---- the hub ----------------------------------------------------------- */

/* Drops the streams whose connection is over. Loop thread. */
static void hub_prune(struct api__streams *h)
{
    for (struct stream **pp = &h->list; *pp;) {
        struct stream *st = *pp;
        if (!atomic_load(&st->gone)) {
            pp = &st->next;
            continue;
        }
        *pp = st->next;
        h->n--;
        if (counters(h))
            metrics_gauge_add(counters(h)->streams, NULL, -1);
        log_debug("api", NULL, "stream of token %s from %s closed", st->token.name, st->origin);
        stream_unref(st);
    }
}

static void hub_cut(struct api__streams *h, struct stream *st, const char *reason, const char *why)
{
    if (counters(h))
        metrics_counter_inc(counters(h)->streams_cut, (const char *[]){reason});
    log_info("api", NULL, "stream of token %s from %s ended: %s", st->token.name, st->origin, why);
}

static unsigned hub_count_from(const struct api__streams *h, const char *origin)
{
    unsigned n = 0;
    for (const struct stream *st = h->list; st; st = st->next)
        n += strcmp(st->origin, origin) == 0;
    return n;
}

static char *hub_encode(json_t *o)
{
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    return text;
}

/* Keeps a message for replay and queues it on every stream of its type. Loop thread. */
static void hub_publish(struct api__streams *h, enum api__event_type type, json_t *o)
{
    char *json = hub_encode(o);
    if (!json) {
        log_error("api", NULL, "a %s message could not be encoded; the streams miss it",
                  api__event_type_name(type));
        return;
    }
    const struct api__event *ev = api__ring_push(&h->ring, type, json);
    free(json);
    if (counters(h))
        metrics_counter_inc(counters(h)->stream_events, NULL);
    hub_prune(h);
    uint64_t now = clock_mono_ms(&clock_system);
    for (struct stream *st = h->list; st; st = st->next) {
        if (!(st->types & (1u << type)))
            continue;
        if (!stream_push(st, ev->frame, ev->len)) {
            hub_cut(h, st, "slow",
                    "the client fell more than 1 MiB behind (it may reconnect with "
                    "Last-Event-ID)");
            continue;
        }
        st->quiet_since_ms = now;
        st->sent_seq = ev->seq;
    }
}

static void run_id(char run[API__RUN_MAX])
{
    uint32_t v;
    if (hash_random_bytes(&v, sizeof(v)) < 0)
        v = (uint32_t)clock_mono_ns() ^ (uint32_t)clock_real_ms(&clock_system);
    snprintf(run, API__RUN_MAX, "%08" PRIx32, v);
}

/* ---- GET /api/v1/stream ----------------------------------------------- */

static json_t *types_json(unsigned mask)
{
    json_t *a = json_array();
    for (unsigned t = 0; t < API__EVENT_TYPES; t++)
        if (mask & (1u << t))
            json_array_append_new(a, json_string(api__event_type_name(t)));
    return a;
}

/* Why a Last-Event-ID cannot be resumed from, for the reset message. */
static const char *reset_reason(const struct api__ring *r, const char *last_id)
{
    size_t run_len = strlen(r->run);
    if (strncmp(last_id, r->run, run_len) != 0 || last_id[run_len] != '-')
        return "the id is not from this run of hale (it restarted since): fetch what you show "
               "again";
    return "more changes happened since than are kept: fetch what you show again";
}

/*
 * The first bytes of a stream: the retry time and a hello naming the
 * current id, then what a reconnecting client missed (last_id: its
 * Last-Event-ID), or a reset when that is no longer known.
 */
static void stream_greet(struct api__streams *h, struct stream *st, const char *last_id)
{
    const struct api__ring *r = &h->ring;
    char id[API__EVENT_ID_MAX];
    api__ring_id(r, r->seq, id);
    uint64_t after = 0;
    bool asked = last_id && *last_id;
    bool resumed = asked && api__ring_resumable(r, last_id, &after);
    struct strbuf *q = &st->queue;

    char *hello = hub_encode(json_pack("{s:s, s:o, s:b}", "id", id, "types", types_json(st->types),
                                       "resumed", resumed));
    strbuf_addf(q, "retry: %d\n", STREAM_RETRY_MS);
    /* A fresh client starts from now: the id lets it resume even if nothing comes first. */
    if (!asked)
        strbuf_addf(q, "id: %s\n", id);
    strbuf_addf(q, "event: hello\ndata: %s\n\n", hello ? hello : "{}");
    free(hello);
    if (resumed) {
        api__ring_replay(r, after, st->types, q);
        /* Past messages of other types too, so the next resume starts from here. */
        if (after < r->seq)
            strbuf_addf(q, "id: %s\n\n", id);
    } else if (asked) {
        char *reset =
                hub_encode(json_pack("{s:s, s:s}", "id", id, "reason", reset_reason(r, last_id)));
        strbuf_addf(q, "id: %s\nevent: reset\ndata: %s\n\n", id, reset ? reset : "{}");
        free(reset);
    }
    /* A replay may be larger than the cap: it gets room of its own, as one large message does. */
    st->oversize = q->len > API_STREAM_QUEUE_MAX ? q->len : 0;
    st->sent_seq = r->seq;
}

static struct stream *stream_new(struct api_req *req, unsigned types)
{
    struct stream *st = xcalloc(1, sizeof(*st));
    atomic_init(&st->refs, 2); /* the hub's and the response's */
    atomic_init(&st->gone, false);
    pthread_mutex_init(&st->lock, NULL);
    strbuf_init(&st->queue, 0);
    st->server = req->server;
    st->con = req->con;
    const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(req->con, MHD_CONNECTION_INFO_CONNECTION_FD);
    st->fd = ci ? ci->connect_fd : -1;
    st->types = types;
    snprintf(st->origin, sizeof(st->origin), "%s", req->origin);
    st->token = req->token;
    st->quiet_since_ms = clock_mono_ms(&clock_system);
    return st;
}

/* Refuses a stream the server cannot take now; true when a 503 was sent. */
static bool stream_refused(struct api__streams *h, struct api_req *req)
{
    if (api__req_server_quiesced(req)) {
        api_reply_error(req, 503, "unavailable", "the server is shutting down: reconnect later");
        return true;
    }
    hub_prune(h);
    if (h->n >= API_STREAMS_MAX) {
        api_reply_error(req, 503, "unavailable",
                        "%u live streams are open, the most this server serves: close one "
                        "(another browser tab, a forgotten 'hale incidents watch') and retry",
                        API_STREAMS_MAX);
        return true;
    }
    if (hub_count_from(h, req->origin) >= API_STREAMS_PER_CLIENT) {
        api_reply_error(req, 503, "unavailable",
                        "%u live streams are open from %s, the most one client address gets: "
                        "close one and retry (one stream can carry every type of event)",
                        API_STREAMS_PER_CLIENT, req->origin);
        return true;
    }
    return false;
}

static void get_stream(struct api_req *req, void *data)
{
    struct api__streams *h = data;
    const char *types_arg = api_req_query(req, "types");
    unsigned types = API__EVENT_ALL;
    struct err e = {0};
    if (types_arg && api__event_types_parse(types_arg, &types, &e) < 0) {
        api_reply_error(req, 400, "bad_request",
                        "types: %s; use incident, check, run, or several separated by commas",
                        e.msg);
        return;
    }
    if (stream_refused(h, req))
        return;
    api_reply_header(req, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    api_reply_header(req, "X-Accel-Buffering", "no");
    if (strcmp(api_req_method(req), "HEAD") == 0) {
        api_reply_raw(req, 200, "text/event-stream", NULL, 0);
        return;
    }
    struct stream *st = stream_new(req, types);
    stream_greet(h, st, api_req_header(req, "Last-Event-ID"));
    st->next = h->list;
    h->list = st;
    h->n++;
    if (counters(h))
        metrics_gauge_add(counters(h)->streams, NULL, 1);
    log_debug("api", NULL, "stream opened for token %s from %s", st->token.name, st->origin);
    api__reply_reader(req, 200, "text/event-stream", stream_read, stream_response_gone, st);
}

static const struct api_route stream_routes[] = {
        {"GET", "/api/v1/stream", AUTH_PERM_READ, get_stream},
};

struct api__streams *api__streams_new(struct api *api)
{
    struct api__streams *h = xcalloc(1, sizeof(*h));
    h->api = api;
    char run[API__RUN_MAX];
    run_id(run);
    api__ring_init(&h->ring, run, API_STREAM_RING_EVENTS, API_STREAM_RING_BYTES);
    int r = api_routes_add(api, stream_routes, ARRAY_SIZE(stream_routes), h, NULL);
    (void)r; /* a fixed table on a fresh api cannot fail */
    return h;
}

void api__streams_free(struct api__streams *h)
{
    if (!h)
        return;
    while (h->list) {
        struct stream *st = h->list;
        h->list = st->next;
        stream_unref(st);
    }
    api__ring_fini(&h->ring);
    free(h);
}

void api__streams_end(struct api__streams *h, const struct api_server *s)
{
    if (!h)
        return;
    for (struct stream *st = h->list; st; st = st->next)
        if (st->server == s && !atomic_load(&st->gone))
            stream_end(st, "the server is going away: reconnect");
}

static bool token_listed(const struct auth_token_info *v, size_t n, const struct auth_token_info *t)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, t->name) == 0 && v[i].created == t->created)
            return auth_role_can(v[i].role, AUTH_PERM_READ);
    return false;
}

void api__streams_tick(struct api__streams *h, const struct api_server *s)
{
    if (!h)
        return;
    hub_prune(h);
    uint64_t now = clock_mono_ms(&clock_system);
    struct auth_token_info *tokens = NULL;
    size_t n_tokens = 0;
    bool listed = false, known = false;
    char id[API__EVENT_ID_MAX];
    api__ring_id(&h->ring, h->ring.seq, id);
    for (struct stream *st = h->list; st; st = st->next) {
        if (st->server != s || atomic_load(&st->gone) || stream_client_left(st))
            continue;
        if (!listed) {
            listed = true;
            known = auth_store_list(h->api->deps.tokens, &tokens, &n_tokens) == 0;
        }
        /* A revoked token stops working within a second: its streams too. */
        if (known && !token_listed(tokens, n_tokens, &st->token)) {
            if (stream_end(st, "the token was revoked"))
                hub_cut(h, st, "revoked", "its token was revoked");
            continue;
        }
        if (now - st->quiet_since_ms < API_STREAM_KEEPALIVE_MS)
            continue;
        /* A stream that skips some types moves its id on here, so it resumes from now. */
        char line[API__EVENT_ID_MAX + 32];
        if (st->sent_seq < h->ring.seq)
            snprintf(line, sizeof(line), ": keep-alive\nid: %s\n\n", id);
        else
            snprintf(line, sizeof(line), ": keep-alive\n\n");
        if (stream_push(st, line, strlen(line))) {
            st->quiet_since_ms = now;
            st->sent_seq = h->ring.seq;
        } else {
            hub_cut(h, st, "slow", "the client fell more than 1 MiB behind");
        }
    }
    free(tokens);
}

/* ---- what the daemon publishes ---------------------------------------- */

void api_stream_incident(struct api *api, const struct incident *i)
{
    hub_publish(api->streams, API__EVENT_INCIDENT, codec_json_incident(i));
}

void api_stream_check(struct api *api, const struct detect_event *ev)
{
    if (ev->kind != DETECT_EVENT_STATE_CHANGE || !ev->hard)
        return;
    json_t *o = json_pack(
            "{s:o, s:s, s:s, s:o, s:o}", "check", codec_json_text(ev->check), "status",
            check_status_name(ev->new_status), "previous", check_status_name(ev->old_status),
            "time", codec_json_time((int64_t)ev->time_ms), "summary", codec_json_text(ev->summary));
    hub_publish(api->streams, API__EVENT_CHECK, o);
}

void api_stream_run(struct api *api, const struct store_run *run, size_t steps_total,
                    const struct store_run_step *step)
{
    json_t *o = json_pack("{s:o, s:o}", "run", codec_json_run(run, steps_total), "step",
                          step ? codec_json_run_step(step) : json_null());
    hub_publish(api->streams, API__EVENT_RUN, o);
}
