/* SPDX-License-Identifier: MIT */
/*
 * `hale incidents watch`: the daemon's live stream (GET /api/v1/stream,
 * docs/api.md "Live stream") read from a shell. A reader of server-sent
 * events turns the bytes client.c receives into messages; each incident
 * message becomes a line (render.c) or its JSON. When the connection
 * drops, the command waits the time the daemon asked for and reconnects
 * with the last id, so nothing is missed, or is told it missed too much.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

/* When the daemon named no retry time; and the most a reconnect waits when failures repeat. */
#define WATCH_RETRY_MS     3000
#define WATCH_RETRY_MAX_MS 30000

/* ---- server-sent events ---------------------------------------------- */

void cli__sse_init(struct cli__sse *p, cli__sse_event_fn *cb, void *arg)
{
    *p = (struct cli__sse){.cb = cb, .arg = arg};
    strbuf_init(&p->line, CLI__SSE_LINE_MAX);
    strbuf_init(&p->data, CLI__SSE_LINE_MAX);
}

void cli__sse_fini(struct cli__sse *p)
{
    strbuf_fini(&p->line);
    strbuf_fini(&p->data);
}

void cli__sse_reset(struct cli__sse *p)
{
    strbuf_reset(&p->line);
    strbuf_reset(&p->data);
    p->event[0] = '\0';
    p->has_next_id = false;
}

/* A blank line: the message is complete. */
static void sse_dispatch(struct cli__sse *p)
{
    /* The id counts once its message is whole: a reconnect must not skip a half-read one. */
    if (p->has_next_id)
        snprintf(p->id, sizeof(p->id), "%s", p->next_id);
    if (p->data.len > 0) {
        p->data.s[--p->data.len] = '\0'; /* the newline after the last data line */
        p->cb(p->event[0] ? p->event : "message", p->data.s, p->arg);
    }
    cli__sse_reset(p);
}

static void sse_field(struct cli__sse *p, const char *name, const char *value)
{
    if (strcmp(name, "data") == 0) {
        /* Within the cap: the line holding it was. */
        strbuf_adds(&p->data, value);
        strbuf_addc(&p->data, '\n');
    } else if (strcmp(name, "event") == 0) {
        snprintf(p->event, sizeof(p->event), "%s", value);
    } else if (strcmp(name, "id") == 0) {
        snprintf(p->next_id, sizeof(p->next_id), "%s", value);
        p->has_next_id = true;
    } else if (strcmp(name, "retry") == 0 && value[0] &&
               strspn(value, "0123456789") == strlen(value)) {
        unsigned long v = strtoul(value, NULL, 10);
        p->retry_ms = v > WATCH_RETRY_MAX_MS ? WATCH_RETRY_MAX_MS : (unsigned)v;
    }
}

static void sse_line(struct cli__sse *p, char *line)
{
    if (line[0] == '\0') {
        sse_dispatch(p);
        return;
    }
    if (line[0] == ':')
        return; /* a comment: the keep-alive */
    char *colon = strchr(line, ':');
    const char *value = "";
    if (colon) {
        *colon = '\0';
        value = colon[1] == ' ' ? colon + 2 : colon + 1;
    }
    sse_field(p, line, value);
}

int cli__sse_feed(struct cli__sse *p, const char *bytes, size_t n)
{
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(bytes + i, '\n', n - i);
        size_t len = nl ? (size_t)(nl - (bytes + i)) : n - i;
        if (strbuf_add(&p->line, bytes + i, len) < 0)
            return HALE_ELIMIT;
        i += len;
        if (!nl)
            break;
        i++;
        if (p->line.len > 0 && p->line.s[p->line.len - 1] == '\r')
            p->line.s[--p->line.len] = '\0';
        sse_line(p, p->line.s);
        strbuf_reset(&p->line);
    }
    return 0;
}

/* ---- the command ------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

struct watch {
    const char *cmd;
    const char *url;
    bool json;
    bool colour;
    bool connected;      /* this connection said hello */
    bool ever_connected; /* some connection did */
    bool dropped;        /* the last connection was lost: say so when back */
    struct cli__sse sse;
};

static void print_incident(const struct watch *w, const char *data)
{
    if (w->json) {
        /* The daemon sends one line of JSON: passed on as it is. */
        printf("%s\n", data);
    } else {
        json_t *o = json_loads(data, 0, NULL);
        if (!json_is_object(o)) {
            fprintf(stderr, "hale %s: skipped a message that is not an incident\n", w->cmd);
        } else {
            struct strbuf line;
            strbuf_init(&line, 0);
            cli__incident_line(o, w->colour, &line);
            fputs(line.s, stdout);
            strbuf_fini(&line);
        }
        json_decref(o);
    }
    fflush(stdout); /* a line as it happens, also into a pipe */
}

static void on_message(const char *event, const char *data, void *arg)
{
    struct watch *w = arg;
    if (strcmp(event, "hello") == 0) {
        if (!w->ever_connected && !w->connected)
            fprintf(stderr, "hale %s: watching the incidents of hale at %s (Ctrl-C stops)\n",
                    w->cmd, w->url);
        w->connected = true;
        if (w->dropped)
            fprintf(stderr, "hale %s: reconnected\n", w->cmd);
        w->dropped = false;
    } else if (strcmp(event, "incident") == 0) {
        print_incident(w, data);
    } else if (strcmp(event, "reset") == 0) {
        fprintf(stderr,
                "hale %s: changes were missed while disconnected (more than the daemon keeps, "
                "or it restarted); 'hale incidents list' shows where things stand\n",
                w->cmd);
    }
}

static int on_bytes(const char *data, size_t len, void *arg)
{
    struct watch *w = arg;
    return cli__sse_feed(&w->sse, data, len);
}

/* Sleeps ms unless interrupted first. */
static void pause_ms(unsigned ms)
{
    for (unsigned slept = 0; slept < ms && !interrupted; slept += 100) {
        struct timespec ts = {.tv_nsec = 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Refusals that waiting will not cure. */
static bool is_final(int r)
{
    return r == HALE_EAUTH || r == HALE_EDENIED || r == HALE_ENOTFOUND || r == HALE_EPARSE ||
           r == HALE_ELIMIT || r == -EINVAL;
}

static void signals_catch(void)
{
    /* No SA_RESTART: a blocked wait returns, and the flag is seen at once. */
    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli__incidents_watch(struct cli_client *c, const char *cmd, bool json)
{
    struct watch w = {.cmd = cmd,
                      .url = cli_client_url(c),
                      .json = json,
                      .colour = cli__colour_wanted(STDOUT_FILENO)};
    cli__sse_init(&w.sse, on_message, &w);
    signals_catch();
    int status = CLI_EXIT_OK;
    unsigned failures = 0;
    while (!interrupted) {
        struct err e = {0};
        w.connected = false;
        cli__sse_reset(&w.sse);
        int r = cli_client_stream(c, "/api/v1/stream?types=incident", w.sse.id, on_bytes, &w,
                                  &interrupted, &e);
        if (interrupted)
            break;
        w.ever_connected |= w.connected;
        if (r < 0 && (is_final(r) || !w.ever_connected)) {
            fprintf(stderr, "hale %s: %s\n", cmd, e.msg);
            status = CLI_EXIT_FAILURE;
            break;
        }
        if (!w.ever_connected) {
            fprintf(stderr,
                    "hale %s: %s ended the stream before it began (is HALE_URL hale's "
                    "address?)\n",
                    cmd, cli_client_url(c));
            status = CLI_EXIT_FAILURE;
            break;
        }
        if (!w.dropped)
            fprintf(stderr, "hale %s: connection lost (%s); reconnecting\n", cmd,
                    r < 0 ? e.msg : "the daemon ended the stream");
        w.dropped = true;
        failures = w.connected ? 0 : failures + 1;
        unsigned wait = w.sse.retry_ms ? w.sse.retry_ms : WATCH_RETRY_MS;
        for (unsigned i = 1; i < failures && wait < WATCH_RETRY_MAX_MS; i++)
            wait *= 2;
        pause_ms(wait < WATCH_RETRY_MAX_MS ? wait : WATCH_RETRY_MAX_MS);
    }
    cli__sse_fini(&w.sse);
    return status;
}
