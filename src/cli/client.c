/* SPDX-License-Identifier: MIT */
/*
 * The CLI's client of hale's HTTP API: a blocking libcurl easy handle,
 * reused for every request of one command so that `--all` pages share a
 * connection. Blocking is fine here: a command does one thing and waits
 * for it. Every failure is turned into a sentence that says what to do.
 */
#include "cli/client.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/alloc.h"
#include "version.h"

struct cli_client {
    char *url;   /* base, without a trailing '/' */
    char *token; /* NULL: none given */
    CURL *easy;  /* NULL until the first request */
};

/* What the write callback fills: the answer, bounded. */
struct answer {
    struct strbuf *body;
    bool too_large;
};

static const char hint_unreachable[] = "is 'hale serve' running? (set HALE_URL or --url)";
static const char hint_token[] = "HALE_TOKEN is missing or not valid: create one with "
                                 "'hale token create NAME --role responder'";

static char *env_or(const char *opt, const char *name, const char *fallback)
{
    if (opt && *opt)
        return xstrdup(opt);
    const char *env = getenv(name);
    if (env && *env)
        return xstrdup(env);
    return fallback ? xstrdup(fallback) : NULL;
}

struct cli_client *cli_client_new(const char *url, const char *token)
{
    struct cli_client *c = xcalloc(1, sizeof(*c));
    curl_global_init(CURL_GLOBAL_DEFAULT); /* counted: cli_client_free() undoes it */
    c->url = env_or(url, "HALE_URL", CLI_CLIENT_DEFAULT_URL);
    size_t n = strlen(c->url);
    while (n > 0 && c->url[n - 1] == '/')
        c->url[--n] = '\0';
    c->token = env_or(token, "HALE_TOKEN", NULL);
    return c;
}

void cli_client_free(struct cli_client *c)
{
    if (!c)
        return;
    if (c->easy)
        curl_easy_cleanup(c->easy);
    curl_global_cleanup();
    free(c->url);
    if (c->token)
        explicit_bzero(c->token, strlen(c->token));
    free(c->token);
    free(c);
}

const char *cli_client_url(const struct cli_client *c)
{
    return c->url;
}

static bool is_unreserved(unsigned char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.' || ch == '_' || ch == '~';
}

static void percent_encode(struct strbuf *url, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (is_unreserved(*p)) {
            strbuf_addc(url, (char)*p);
        } else {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            strbuf_add(url, esc, sizeof(esc));
        }
    }
}

void cli_url_query_add(struct strbuf *url, const char *key, const char *value)
{
    strbuf_addc(url, memchr(url->s, '?', url->len) ? '&' : '?');
    strbuf_adds(url, key);
    strbuf_addc(url, '=');
    percent_encode(url, value);
}

void cli_url_path_add(struct strbuf *url, const char *segment)
{
    percent_encode(url, segment);
}

/* A token goes into a header line: bytes that could end or split it are refused. */
static bool token_is_sendable(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct answer *a = userdata;
    size_t n = size * nmemb;
    if (strbuf_add(a->body, data, n) < 0) {
        a->too_large = true;
        return 0; /* curl stops with CURLE_WRITE_ERROR */
    }
    return n;
}

/* The field of the API's error object, or NULL. */
static const char *error_field(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && *s ? s : NULL;
}

int cli_client_answer_error(long status, const char *body, size_t len, struct err *e)
{
    json_t *o = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *reason = error_field(o, "reason");
    int r;
    if (status == 401) {
        r = err_setf(e, HALE_EAUTH, "%s", hint_token);
    } else if (status == 403) {
        r = err_setf(e, HALE_EDENIED, "this token's role cannot do that%s%s", reason ? ": " : "",
                     reason ? reason : "");
    } else {
        r = status == 404                   ? HALE_ENOTFOUND
            : status == 409                 ? HALE_ESTATE
            : status >= 400 && status < 500 ? HALE_EPARSE
                                            : HALE_EINTERNAL;
        if (reason)
            err_setf(e, r, "%s", reason);
        else
            err_setf(e, r, "hale answered HTTP %ld without a reason (is HALE_URL hale's address?)",
                     status);
    }
    json_decref(o);
    /* The reason may quote what a request or a check said: no escapes for the terminal. */
    for (char *p = e ? e->msg : NULL; p && *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = ' ';
    return r;
}

static int transfer_error(const struct cli_client *c, CURLcode rc, const struct answer *a,
                          const char *detail, struct err *e)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        return err_setf(e, -ECONNREFUSED, "cannot reach hale at %s: %s", c->url, hint_unreachable);
    case CURLE_OPERATION_TIMEDOUT:
        return err_setf(e, -ETIMEDOUT,
                        "hale at %s did not answer within %d s: it may be overloaded; try again, "
                        "and look at its log if it persists",
                        c->url, CLI_CLIENT_TIMEOUT_MS / 1000);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return err_setf(e, -EINVAL,
                        "'%s' is not an http:// or https:// URL (set HALE_URL or --url)", c->url);
    case CURLE_WRITE_ERROR:
        if (a->too_large)
            return err_setf(e, HALE_ELIMIT, "the answer of hale at %s is larger than %u MiB",
                            c->url, CLI_CLIENT_MAX_BODY >> 20);
        break;
    default:
        break;
    }
    return err_setf(e, HALE_EINTERNAL, "request to hale at %s failed: %s", c->url,
                    *detail ? detail : curl_easy_strerror(rc));
}

/* curl_slist_append() fails only when out of memory: abort, as xmalloc() does. */
static struct curl_slist *header_add(struct curl_slist *h, const char *line)
{
    struct curl_slist *n = curl_slist_append(h, line);
    if (!n)
        abort();
    return n;
}

static struct curl_slist *headers_new(const struct cli_client *c, bool with_body, bool want_json)
{
    struct curl_slist *h = NULL;
    /* Without an Accept of ours curl sends its own, which takes anything (reports). */
    if (want_json)
        h = header_add(h, "Accept: application/json");
    if (with_body) {
        h = header_add(h, "Content-Type: application/json");
        h = header_add(h, "Expect:"); /* a note of 64 KiB need not wait for a 100 */
    }
    if (c->token) {
        char *line = xasprintf("Authorization: Bearer %s", c->token);
        h = header_add(h, line);
        explicit_bzero(line, strlen(line));
        free(line);
    }
    return h;
}

/* The secret must not outlive the request in freed memory. */
static void headers_free(struct curl_slist *h)
{
    for (struct curl_slist *p = h; p; p = p->next)
        explicit_bzero(p->data, strlen(p->data));
    curl_slist_free_all(h);
}

static void easy_prepare(struct cli_client *c, const char *method, const char *url,
                         const char *body, struct curl_slist *headers, struct answer *a,
                         char *errbuf)
{
    CURL *h = c->easy;
    curl_easy_reset(h); /* keeps the connection for the next request */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)CLI_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "hale-cli/" HALE_VERSION);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    }
    if (strcmp(method, body ? "POST" : "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

static int request(struct cli_client *c, const char *method, const char *path, const char *body,
                   bool want_json, struct strbuf *ret_body, struct err *e)
{
    if (c->token && !token_is_sendable(c->token))
        return err_setf(e, HALE_EAUTH, "%s", hint_token);
    if (!c->easy && !(c->easy = curl_easy_init()))
        return err_setf(e, HALE_EINTERNAL, "cannot start libcurl");
    struct strbuf received;
    strbuf_init(&received, CLI_CLIENT_MAX_BODY);
    struct answer a = {.body = &received};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = xasprintf("%s%s", c->url, path);
    struct curl_slist *headers = headers_new(c, body != NULL, want_json);
    easy_prepare(c, method, url, body, headers, &a, errbuf);
    CURLcode rc = curl_easy_perform(c->easy);
    /* The handle outlives this frame: it must keep no pointer into it. */
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
    headers_free(headers);
    free(url);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    int r = 0;
    if (rc != CURLE_OK)
        r = transfer_error(c, rc, &a, errbuf, e);
    else if (status < 200 || status > 299)
        r = cli_client_answer_error(status, received.s, received.len, e);
    else
        strbuf_add(ret_body, received.s, received.len);
    strbuf_fini(&received);
    return r;
}

int cli_client_request(struct cli_client *c, const char *method, const char *path, const char *body,
                       struct strbuf *ret_body, struct err *e)
{
    return request(c, method, path, body, false, ret_body, e);
}

int cli_client_json(struct cli_client *c, const char *method, const char *path, const json_t *body,
                    json_t **ret, struct err *e)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text)
        return err_setf(e, HALE_EINTERNAL, "cannot encode the request as JSON");
    struct strbuf answer;
    strbuf_init(&answer, 0);
    int r = request(c, method, path, text, true, &answer, e);
    free(text);
    if (r == 0) {
        json_t *o = json_loadb(answer.s, answer.len, 0, NULL);
        if (json_is_object(o))
            *ret = o;
        else
            r = err_setf(e, HALE_EPARSE,
                         "the answer of %s%s is not a JSON object (is HALE_URL hale's address?)",
                         c->url, path);
        if (r < 0)
            json_decref(o);
    }
    strbuf_fini(&answer);
    return r;
}

/* ---- live streams ------------------------------------------------------ */

/* A refusal's body is read to say why; a stream's body goes to the caller. */
#define STREAM_ERROR_BODY_MAX (64 * 1024)

struct stream_call {
    CURL *easy;
    cli_client_stream_fn *fn;
    void *arg;
    int fn_result;
    long status; /* 0 until the head has arrived */
    struct strbuf refusal;
    const volatile sig_atomic_t *stop;
};

static size_t on_stream_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    struct stream_call *s = userdata;
    size_t n = size * nmemb;
    if (!s->status)
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status < 200 || s->status > 299) {
        strbuf_add(&s->refusal, data, n); /* past the cap the reason is cut, that is all */
        return n;
    }
    s->fn_result = s->fn(data, n, s->arg);
    return s->fn_result ? 0 : n;
}

/* Called by curl about every second and while it waits: Ctrl-C ends the stream. */
static int on_stream_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                              curl_off_t ultotal, curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const struct stream_call *s = userdata;
    return *s->stop ? 1 : 0;
}

int cli_client_stream(struct cli_client *c, const char *path, const char *last_event_id,
                      cli_client_stream_fn *fn, void *arg, const volatile sig_atomic_t *stop,
                      struct err *e)
{
    if (c->token && !token_is_sendable(c->token))
        return err_setf(e, HALE_EAUTH, "%s", hint_token);
    if (!c->easy && !(c->easy = curl_easy_init()))
        return err_setf(e, HALE_EINTERNAL, "cannot start libcurl");
    struct stream_call s = {.easy = c->easy, .fn = fn, .arg = arg, .stop = stop};
    strbuf_init(&s.refusal, STREAM_ERROR_BODY_MAX);
    struct answer unused = {0};
    char errbuf[CURL_ERROR_SIZE] = "";
    char *url = xasprintf("%s%s", c->url, path);
    struct curl_slist *headers = headers_new(c, false, false);
    headers = header_add(headers, "Accept: text/event-stream");
    if (last_event_id && *last_event_id) {
        char *line = xasprintf("Last-Event-ID: %s", last_event_id);
        headers = header_add(headers, line);
        free(line);
    }
    easy_prepare(c, "GET", url, NULL, headers, &unused, errbuf);
    /* A stream has no end to wait for: only silence says the daemon is gone. */
    curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, 0L);
    curl_easy_setopt(c->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)CLI_CLIENT_TIMEOUT_MS);
    curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c->easy, CURLOPT_LOW_SPEED_TIME, (long)CLI_CLIENT_STREAM_IDLE_S);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, on_stream_body);
    curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c->easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c->easy, CURLOPT_XFERINFOFUNCTION, on_stream_progress);
    curl_easy_setopt(c->easy, CURLOPT_XFERINFODATA, &s);
    CURLcode rc = curl_easy_perform(c->easy);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c->easy, CURLOPT_ERRORBUFFER, NULL);
    headers_free(headers);
    free(url);
    if (!s.status && rc == CURLE_OK)
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &s.status);
    int r = 0;
    if (*stop)
        r = 0;
    else if (s.status && (s.status < 200 || s.status > 299))
        r = cli_client_answer_error(s.status, s.refusal.s, s.refusal.len, e);
    else if (rc == CURLE_WRITE_ERROR && s.fn_result)
        r = err_setf(e, s.fn_result, "cannot read what hale at %s sent: %s", c->url,
                     s.fn_result == HALE_ELIMIT ? "a line too long" : hale_strerror(s.fn_result));
    else if (rc == CURLE_OPERATION_TIMEDOUT && s.status)
        r = err_setf(e, -ETIMEDOUT, "hale at %s sent nothing for %d s", c->url,
                     CLI_CLIENT_STREAM_IDLE_S);
    else if (rc != CURLE_OK)
        r = transfer_error(c, rc, &unused, errbuf, e);
    strbuf_fini(&s.refusal);
    return r;
}

static int page_get(struct cli_client *c, const char *key, cli_client_page_path *path_of,
                    const void *arg, const char *cursor, json_t **ret, struct err *e)
{
    struct strbuf path;
    strbuf_init(&path, 0);
    path_of(cursor, arg, &path);
    int r = cli_client_json(c, "GET", path.s, NULL, ret, e);
    strbuf_fini(&path);
    if (r == 0 && !json_is_array(json_object_get(*ret, key))) {
        json_decref(*ret);
        r = err_setf(e, HALE_EPARSE, "the answer has no \"%s\" array (is HALE_URL hale's address?)",
                     key);
    }
    return r;
}

int cli_client_list(struct cli_client *c, const char *key, bool all, int max_pages,
                    cli_client_page_path *path_of, const void *arg, json_t **ret_answer,
                    struct err *e)
{
    json_t *first;
    int r = page_get(c, key, path_of, arg, NULL, &first, e);
    if (r < 0)
        return r;
    char *cursor = NULL;
    for (int page = 1; all && page < max_pages; page++) {
        const char *next = json_string_value(json_object_get(first, "next_cursor"));
        if (!next || (cursor && strcmp(cursor, next) == 0))
            break;
        free(cursor);
        cursor = xstrdup(next);
        json_t *answer;
        if ((r = page_get(c, key, path_of, arg, cursor, &answer, e)) < 0) {
            json_decref(first);
            free(cursor);
            return r;
        }
        json_array_extend(json_object_get(first, key), json_object_get(answer, key));
        json_object_set(first, "next_cursor", json_object_get(answer, "next_cursor"));
        json_decref(answer);
    }
    /* Stopped by a cursor that did not move: it would only repeat that page. */
    const char *next = json_string_value(json_object_get(first, "next_cursor"));
    if (all && cursor && next && strcmp(cursor, next) == 0)
        json_object_set_new(first, "next_cursor", json_null());
    free(cursor);
    *ret_answer = first;
    return 0;
}
