/* SPDX-License-Identifier: MIT */
/*
 * The outbox: every notification is a row in the store before it is
 * sent, and is rewritten at each attempt, so a restart goes on with what
 * was pending. Delivery goes by notifier (a lane): one attempt in flight
 * per notifier, the oldest due notification first, and never one of an
 * incident before an earlier one of the same incident, so each incident's
 * messages arrive in order. A receiver that fails is retried with
 * exponential backoff until the notifier's give_up_after; one that refuses
 * the message (HTTP 4xx, SMTP 5xx) is not retried. Within a team's
 * rate_limit a notifier gets one message: what falls due meanwhile waits
 * for the end of the window and goes as one grouped message. Every
 * attempt and result is on the incident's timeline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/cleanup.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/strbuf.h"
#include "itsm/itsm.h"
#include "metrics/metrics.h"
#include "net/net.h"
#include "notify/internal.h"
#include "proc/proc.h"

struct notify__delivery {
    struct notify *n; /* NULL once the dispatcher stopped: the attempt only cleans up */
    const struct config_notifier *nt;
    struct config *config; /* a reference: nt lives in it */
    struct notify__item **items;
    size_t n_items;
    struct message_payload payload;
    size_t sent; /* bytes of the mail read by curl */
    CURL *easy;
    struct curl_slist *list;  /* HTTP headers */
    struct curl_slist *rcpts; /* mail recipients */
    struct proc *proc;
    char answer[NOTIFY__ANSWER_MAX];
    size_t answer_len;
};

int64_t notify__now_ms(void)
{
    return (int64_t)clock_real_ms(&clock_system);
}

/* ---- the timeline ---- */

void notify__timeline(struct notify *n, int64_t id, const char *actor, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = xvasprintf(fmt, ap);
    va_end(ap);
    struct itsm_entry entry = {.kind = TIMELINE_NOTIFICATION, .text = text};
    if (itsm_timeline_add(n->o.desk, id, actor, &entry, 1, NULL, NULL, NULL) < 0) {
        /* Resolved long ago or closed: the desk no longer holds it, the store does. */
        struct timeline_entry t = {
                .incident_id = id,
                .time_ms = notify__now_ms(),
                .kind = TIMELINE_NOTIFICATION,
                .actor = (char *)(uintptr_t)actor,
                .text = text,
        };
        struct store_batch *b = store_batch_new();
        store_batch_timeline(b, &t);
        store_submit(n->o.store, b, NULL, NULL);
    }
    free(text);
}

/* ---- the queue ---- */

static void save(struct notify *n, const struct store_notification *rec)
{
    struct store_batch *b = store_batch_new();
    store_batch_notification(b, rec);
    store_submit(n->o.store, b, NULL, NULL);
}

static void item_push(struct notify *n, struct notify__item *it)
{
    if (n->n_items == n->cap_items) {
        n->cap_items = n->cap_items ? n->cap_items * 2 : 32;
        n->items = xreallocarray(n->items, n->cap_items, sizeof(*n->items));
    }
    n->items[n->n_items++] = it;
}

static void item_free(struct notify__item *it)
{
    if (!it)
        return;
    store_notification_fini(&it->rec);
    free(it);
}

static void item_remove(struct notify *n, struct notify__item *it)
{
    for (size_t k = 0; k < n->n_items; k++)
        if (n->items[k] == it) {
            memmove(&n->items[k], &n->items[k + 1], (n->n_items - k - 1) * sizeof(*n->items));
            n->n_items--;
            return;
        }
}

int notify__outbox_load(struct notify *n, struct err *e)
{
    struct store_notification *v = NULL;
    size_t count = 0;
    if (store_notifications_list(n->reader, 0, &v, &count) < 0)
        return err_setf(e, HALE_ESTORE, "cannot read the outbox of notifications");
    for (size_t k = 0; k < count; k++) {
        struct notify__item *it = xcalloc(1, sizeof(*it));
        it->rec = v[k]; /* takes the strings */
        it->durable = true;
        item_push(n, it);
    }
    free(v);
    if (count)
        log_info("notify", NULL, "%zu notification%s pending in the outbox", count,
                 count == 1 ? "" : "s");
    return 0;
}

struct added {
    struct notify *n;
    int64_t id;
};

/*
 * Its row is durable, and so is everything written before it (batches
 * commit in order): the runs and steps the message tells of are readable.
 */
static void on_added(int result, void *data)
{
    struct added *a = data;
    struct notify *n = a->n;
    int64_t id = a->id;
    free(a);
    for (size_t k = 0; k < n->n_items; k++)
        if (n->items[k]->rec.id == id)
            n->items[k]->durable = true;
    if (result < 0)
        log_warn("notify", NULL,
                 "notification %lld not stored: it is sent, but not again after a restart",
                 (long long)id);
    notify__outbox_kick(n);
}

void notify__outbox_add(struct notify *n, const struct store_notification *rec)
{
    if (n->n_items >= NOTIFY__OUTBOX_MAX) {
        log_error("notify", NULL,
                  "outbox full (%d): notification to %s about incident %lld dropped",
                  NOTIFY__OUTBOX_MAX, rec->notifier, (long long)rec->incident_id);
        if (n->m_sent)
            metrics_counter_inc(n->m_sent, (const char *[]){rec->notifier, "dropped"});
        return;
    }
    struct notify__item *it = xcalloc(1, sizeof(*it));
    store_notification_copy(&it->rec, rec);
    int64_t now = notify__now_ms();
    it->rec.id = store_next_notification_id(n->o.store);
    free(it->rec.state);
    it->rec.state = xstrdup("pending");
    it->rec.created_ms = now;
    it->rec.updated_ms = now;
    if (!it->rec.due_ms)
        it->rec.due_ms = now;
    struct added *a = xmalloc(sizeof(*a));
    *a = (struct added){n, it->rec.id};
    struct store_batch *b = store_batch_new();
    store_batch_notification(b, &it->rec);
    item_push(n, it);
    store_submit(n->o.store, b, on_added, a);
}

/* A notification settled (delivered, failed or canceled): written, and out of memory. */
static void settle(struct notify *n, struct notify__item *it, const char *state, const char *error)
{
    free(it->rec.state);
    it->rec.state = xstrdup(state);
    free(it->rec.error);
    it->rec.error = error ? xstrdup(error) : NULL;
    it->rec.updated_ms = notify__now_ms();
    it->rec.due_ms = it->rec.updated_ms;
    save(n, &it->rec);
    item_remove(n, it);
    item_free(it);
}

size_t notify__outbox_cancel_levels(struct notify *n, int64_t id, const char *why)
{
    size_t canceled = 0;
    for (size_t k = n->n_items; k-- > 0;) {
        struct notify__item *it = n->items[k];
        if (it->rec.incident_id == id && !it->busy && strcmp(it->rec.reason, "level") == 0) {
            settle(n, it, "canceled", why);
            canceled++;
        }
    }
    return canceled;
}

/* ---- windows of the rate limit ---- */

static struct notify__window *window_of(struct notify *n, const char *team, const char *notifier)
{
    const char *tm = team ? team : "";
    for (size_t k = 0; k < n->n_windows; k++)
        if (strcmp(n->windows[k].team, tm) == 0 && strcmp(n->windows[k].notifier, notifier) == 0)
            return &n->windows[k];
    if (n->n_windows == n->cap_windows) {
        n->cap_windows = n->cap_windows ? n->cap_windows * 2 : 16;
        n->windows = xreallocarray(n->windows, n->cap_windows, sizeof(*n->windows));
    }
    struct notify__window *w = &n->windows[n->n_windows++];
    *w = (struct notify__window){.team = xstrdup(tm), .notifier = xstrdup(notifier)};
    return w;
}

static uint64_t rate_limit_of(struct notify *n, const char *team)
{
    const struct config_team *t = team ? config_team_find(n->config, team) : NULL;
    return t ? t->rate_limit_ms : 0;
}

/* ---- attempts ---- */

static void flying_add(struct notify *n, struct notify__delivery *d)
{
    if (n->n_flying == n->cap_flying) {
        n->cap_flying = n->cap_flying ? n->cap_flying * 2 : 8;
        n->flying = xreallocarray(n->flying, n->cap_flying, sizeof(*n->flying));
    }
    n->flying[n->n_flying++] = d;
}

static void flying_remove(struct notify *n, struct notify__delivery *d)
{
    for (size_t k = 0; k < n->n_flying; k++)
        if (n->flying[k] == d) {
            n->flying[k] = n->flying[--n->n_flying];
            return;
        }
}

static bool lane_busy(const struct notify *n, const char *notifier)
{
    for (size_t k = 0; k < n->n_flying; k++)
        if (strcmp(n->flying[k]->nt->name, notifier) == 0)
            return true;
    return false;
}

static void delivery_free(struct notify__delivery *d)
{
    if (!d)
        return;
    curl_slist_free_all(d->list);
    curl_slist_free_all(d->rcpts);
    message_payload_fini(&d->payload);
    config_unref(d->config);
    free(d->items);
    free(d);
}

static void format_delay(uint64_t ms, char *buf, size_t size)
{
    if (ms < 1000)
        snprintf(buf, size, "%llu ms", (unsigned long long)ms);
    else if (ms < 120 * 1000)
        snprintf(buf, size, "%llu s", (unsigned long long)(ms / 1000));
    else
        snprintf(buf, size, "%llu min", (unsigned long long)(ms / 60000));
}

static void record_result(struct notify *n, const char *notifier, const char *result)
{
    if (n->m_sent)
        metrics_counter_inc(n->m_sent, (const char *[]){notifier, result});
}

static const char *grouped_words(const struct notify__delivery *d, char *buf, size_t size)
{
    if (d->n_items < 2)
        return "";
    snprintf(buf, size, " (grouped with %zu other%s)", d->n_items - 1, d->n_items == 2 ? "" : "s");
    return buf;
}

/*
 * The attempt ended: ok, refused for good (permanent), or failed for now.
 * error says how, for people.
 */
static void attempt_done(struct notify__delivery *d, bool ok, bool permanent, const char *error)
{
    struct notify *n = d->n;
    if (!n) {
        delivery_free(d);
        return;
    }
    flying_remove(n, d);
    int64_t now = notify__now_ms();
    char actor[256];
    snprintf(actor, sizeof(actor), "notifier:%s", d->nt->name);
    char group[64];
    const char *gw = grouped_words(d, group, sizeof(group));
    if (ok)
        window_of(n, d->items[0]->rec.team, d->nt->name)->sent_ms = now;
    for (size_t k = 0; k < d->n_items; k++) {
        struct notify__item *it = d->items[k];
        it->rec.attempts++;
        const struct store_notification *r = &it->rec;
        char level[32] = "";
        if (r->level > 1)
            snprintf(level, sizeof(level), ", level %u", r->level);
        if (ok) {
            notify__timeline(n, r->incident_id, actor,
                             "notification %lld (%s%s) delivered to %s%s after %u attempt%s",
                             (long long)r->id, r->reason, level, d->nt->name, gw, r->attempts,
                             r->attempts == 1 ? "" : "s");
            record_result(n, d->nt->name, "delivered");
            settle(n, it, "delivered", NULL);
            continue;
        }
        uint64_t give_up = d->nt->retry.give_up_after_ms;
        if (permanent || now - r->created_ms >= (int64_t)give_up) {
            notify__timeline(n, r->incident_id, actor,
                             "notification %lld (%s%s) to %s failed for good after %u attempt%s: "
                             "%s%s",
                             (long long)r->id, r->reason, level, d->nt->name, r->attempts,
                             r->attempts == 1 ? "" : "s", error,
                             permanent ? " (the receiver refused it: not retried)"
                                       : " (gave up retrying)");
            log_warn("notify", NULL, "notification %lld to %s about incident %lld failed: %s",
                     (long long)r->id, d->nt->name, (long long)r->incident_id, error);
            record_result(n, d->nt->name, "failed");
            settle(n, it, "failed", error);
            continue;
        }
        /* Twice as long after each failure, up to the notifier's max. */
        uint64_t delay = d->nt->retry.backoff_ms;
        for (unsigned a = 1; a < r->attempts && delay < d->nt->retry.max_ms; a++)
            delay *= 2;
        if (delay > d->nt->retry.max_ms)
            delay = d->nt->retry.max_ms;
        char in[32];
        format_delay(delay, in, sizeof(in));
        notify__timeline(n, r->incident_id, actor,
                         "notification %lld (%s%s) to %s: attempt %u failed: %s; next in %s",
                         (long long)r->id, r->reason, level, d->nt->name, r->attempts, error, in);
        record_result(n, d->nt->name, "retried");
        it->rec.due_ms = now + (int64_t)delay;
        it->rec.updated_ms = now;
        free(it->rec.error);
        it->rec.error = xstrdup(error);
        it->busy = false;
        save(n, &it->rec);
    }
    delivery_free(d);
    notify__outbox_kick(n);
    notify__quiet_check(n);
}

/* ---- HTTP: webhook, slack, pagerduty ---- */

static size_t on_answer(char *ptr, size_t size, size_t nmemb, void *data)
{
    struct notify__delivery *d = data;
    size_t len = size * nmemb;
    size_t room = sizeof(d->answer) - 1 - d->answer_len;
    size_t take = len < room ? len : room;
    memcpy(d->answer + d->answer_len, ptr, take);
    d->answer_len += take;
    d->answer[d->answer_len] = '\0';
    return len;
}

/* 4xx means the message itself is wrong: sending it again changes nothing. */
static bool refused_for_good(long status)
{
    return status >= 400 && status < 500 && status != 408 && status != 429;
}

static void on_http_done(CURL *easy, CURLcode result, void *data)
{
    struct notify__delivery *d = data;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    d->easy = NULL;
    if (d->n)
        net_easy_put(d->n->net, easy);
    else
        curl_easy_cleanup(easy);
    char error[NOTIFY__ANSWER_MAX + 64];
    if (result != CURLE_OK) {
        snprintf(error, sizeof(error), "%s", curl_easy_strerror(result));
        attempt_done(d, false, false, error);
        return;
    }
    if (status >= 200 && status < 300) {
        attempt_done(d, true, false, NULL);
        return;
    }
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addf(&b, "HTTP %ld", status);
    if (d->answer_len) {
        strbuf_adds(&b, ": ");
        strbuf_add_utf8(&b, d->answer);
    }
    snprintf(error, sizeof(error), "%s", b.s ? b.s : "");
    strbuf_fini(&b);
    attempt_done(d, false, refused_for_good(status), error);
}

static int start_http(struct notify__delivery *d, struct err *e)
{
    CURL *easy = net_easy_get(d->n->net);
    if (!easy)
        return err_setf(e, -ENOMEM, "out of memory");
    curl_easy_setopt(easy, CURLOPT_URL, d->nt->url);
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDS, d->payload.body);
    curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, (long)d->payload.len);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)d->nt->timeout_ms);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    char *ct = xasprintf("Content-Type: %s",
                         d->payload.content_type ? d->payload.content_type : "application/json");
    d->list = curl_slist_append(d->list, ct);
    free(ct);
    d->list = curl_slist_append(d->list, "User-Agent: hale");
    for (size_t k = 0; k < 4 && d->payload.headers[k]; k++)
        d->list = curl_slist_append(d->list, d->payload.headers[k]); /* the signature */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, d->list);
    d->easy = easy;
    if (net_transfer_start(d->n->net, easy, on_http_done, d, e) < 0) {
        d->easy = NULL;
        net_easy_put(d->n->net, easy);
        return e ? e->code : HALE_EINTERNAL;
    }
    return 0;
}

/* ---- SMTP: email ---- */

static size_t on_mail_read(char *ptr, size_t size, size_t nmemb, void *data)
{
    struct notify__delivery *d = data;
    size_t room = size * nmemb;
    size_t left = d->payload.len - d->sent;
    size_t take = left < room ? left : room;
    memcpy(ptr, d->payload.body + d->sent, take);
    d->sent += take;
    return take;
}

static void on_mail_done(CURL *easy, CURLcode result, void *data)
{
    struct notify__delivery *d = data;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    d->easy = NULL;
    if (d->n)
        net_easy_put(d->n->net, easy);
    else
        curl_easy_cleanup(easy);
    if (result == CURLE_OK) {
        attempt_done(d, true, false, NULL);
        return;
    }
    char error[256];
    snprintf(error, sizeof(error), "SMTP %ld: %s", code, curl_easy_strerror(result));
    /* 5xx: the relay refused the message or a recipient for good. */
    attempt_done(d, false, code >= 500 && code < 600, error);
}

static int start_mail(struct notify__delivery *d, struct err *e)
{
    CURL *easy = net_easy_get(d->n->net);
    if (!easy)
        return err_setf(e, -ENOMEM, "out of memory");
    curl_easy_setopt(easy, CURLOPT_URL, d->nt->smtp);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    /* STARTTLS when the relay offers it; plain when it does not. */
    curl_easy_setopt(easy, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(easy, CURLOPT_MAIL_FROM, d->nt->from);
    for (size_t k = 0; k < d->nt->to.n; k++)
        d->rcpts = curl_slist_append(d->rcpts, d->nt->to.v[k]);
    curl_easy_setopt(easy, CURLOPT_MAIL_RCPT, d->rcpts);
    curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(easy, CURLOPT_READFUNCTION, on_mail_read);
    curl_easy_setopt(easy, CURLOPT_READDATA, d);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)d->nt->timeout_ms);
    d->easy = easy;
    if (net_transfer_start(d->n->net, easy, on_mail_done, d, e) < 0) {
        d->easy = NULL;
        net_easy_put(d->n->net, easy);
        return e ? e->code : HALE_EINTERNAL;
    }
    return 0;
}

/* ---- exec ---- */

static void on_exec_done(struct proc *p, const struct proc_result *res, void *data)
{
    (void)p;
    struct notify__delivery *d = data;
    d->proc = NULL;
    if (res->canceled || !d->n) {
        attempt_done(d, false, false, "canceled");
        return;
    }
    char error[NOTIFY__ANSWER_MAX + 64];
    if (res->timed_out)
        snprintf(error, sizeof(error), "timed out after %llu ms",
                 (unsigned long long)d->nt->timeout_ms);
    else if (res->term_signal)
        snprintf(error, sizeof(error), "killed by signal %d", res->term_signal);
    else
        snprintf(error, sizeof(error), "exit %lld%s%.*s", (long long)res->exit_status,
                 res->err_len ? ": " : "", (int)(res->err_len < 400 ? res->err_len : 400),
                 res->err ? res->err : "");
    bool ok = !res->timed_out && !res->term_signal && res->exit_status == 0;
    attempt_done(d, ok, false, ok ? NULL : error);
}

static int start_exec(struct notify__delivery *d, struct err *e)
{
    struct proc_options po = {
            .argv = d->nt->argv.v, /* NULL-ended */
            .cwd = d->nt->cwd,
            .stdin_data = d->payload.body,
            .stdin_len = d->payload.len,
            .stdout_max = NOTIFY__ANSWER_MAX,
            .stderr_max = NOTIFY__ANSWER_MAX,
            .timeout_ms = d->nt->timeout_ms,
    };
    return proc_spawn(d->n->o.uv, &po, on_exec_done, d, &d->proc, e);
}

/* ---- choosing what goes now ---- */

static int start(struct notify__delivery *d, struct err *e)
{
    switch (d->nt->type) {
    case CONFIG_NOTIFIER_WEBHOOK:
    case CONFIG_NOTIFIER_SLACK:
    case CONFIG_NOTIFIER_PAGERDUTY:
        return start_http(d, e);
    case CONFIG_NOTIFIER_EMAIL:
        return start_mail(d, e);
    case CONFIG_NOTIFIER_EXEC:
        return start_exec(d, e);
    }
    return err_setf(e, HALE_EINTERNAL, "unknown notifier type");
}

/* Whether an earlier notification of the same incident to the same notifier is still pending. */
static bool waits_behind(const struct notify *n, size_t upto, const struct notify__item *it)
{
    for (size_t k = 0; k < upto; k++) {
        const struct notify__item *o = n->items[k];
        if (o->rec.incident_id == it->rec.incident_id &&
            strcmp(o->rec.notifier, it->rec.notifier) == 0)
            return true;
    }
    return false;
}

static void deliver(struct notify *n, const struct config_notifier *nt, struct notify__item **v,
                    size_t count)
{
    struct notify__delivery *d = xcalloc(1, sizeof(*d));
    d->n = n;
    d->nt = nt;
    d->config = config_ref((struct config *)(uintptr_t)n->config);
    d->items = xreallocarray(NULL, count, sizeof(*v));
    memcpy(d->items, v, count * sizeof(*v));
    d->n_items = count;
    for (size_t k = 0; k < count; k++)
        d->items[k]->busy = true;
    flying_add(n, d);
    struct err e = {0};
    int r = notify__render(n, nt, d->items, count, &d->payload, &e);
    if (r < 0)
        err_prefixf(&e, "cannot make the message");
    else
        r = start(d, &e);
    /* A message that cannot be made (a template's text, its size) will not be made later. */
    if (r < 0)
        attempt_done(d, false, r != HALE_ESTORE && r != -ENOMEM, e.msg);
}

/* A notifier the configuration no longer has: its notifications cannot go. */
static void drop_unknown(struct notify *n, struct notify__item *it)
{
    notify__timeline(n, it->rec.incident_id, "hale",
                     "notification %lld: notifier %s is not in the configuration any more",
                     (long long)it->rec.id, it->rec.notifier);
    record_result(n, it->rec.notifier, "failed");
    settle(n, it, "failed", "notifier not in the configuration");
}

static void look(struct notify *n, int64_t now, int64_t *next)
{
    for (size_t k = 0; k < n->n_items; k++) {
        struct notify__item *it = n->items[k];
        if (it->busy || !it->durable || lane_busy(n, it->rec.notifier) || waits_behind(n, k, it))
            continue;
        if (it->rec.due_ms > now) {
            if (it->rec.due_ms < *next)
                *next = it->rec.due_ms;
            continue;
        }
        const struct config_notifier *nt = config_notifier_find(n->config, it->rec.notifier);
        if (!nt) {
            drop_unknown(n, it);
            k = (size_t)-1; /* the list changed: from the start */
            continue;
        }
        /* PagerDuty groups by itself (dedup_key): each incident its own event. */
        uint64_t limit = nt->type == CONFIG_NOTIFIER_PAGERDUTY ? 0 : rate_limit_of(n, it->rec.team);
        if (limit) {
            struct notify__window *w = window_of(n, it->rec.team, nt->name);
            int64_t open_at = w->sent_ms ? w->sent_ms + (int64_t)limit : 0;
            if (open_at > now) {
                if (open_at < *next)
                    *next = open_at;
                continue;
            }
        }
        /* Within a rate limit, everything due for this team's notifier goes as one. */
        struct notify__item *group[NOTIFY__GROUP_MAX];
        size_t count = 0;
        group[count++] = it;
        for (size_t j = k + 1; limit && j < n->n_items && count < NOTIFY__GROUP_MAX; j++) {
            struct notify__item *o = n->items[j];
            bool same_team =
                    (!o->rec.team && !it->rec.team) ||
                    (o->rec.team && it->rec.team && strcmp(o->rec.team, it->rec.team) == 0);
            if (!o->busy && o->durable && o->rec.due_ms <= now && same_team &&
                strcmp(o->rec.notifier, it->rec.notifier) == 0)
                group[count++] = o;
        }
        deliver(n, nt, group, count);
        k = (size_t)-1; /* an attempt that failed at once may have changed the list */
    }
}

static void on_tick(uv_timer_t *t)
{
    notify__outbox_kick(t->data);
}

void notify__outbox_kick(struct notify *n)
{
    if (n->stopping || n->quiescing || !n->timer)
        return;
    int64_t now = notify__now_ms();
    int64_t next = INT64_MAX;
    look(n, now, &next);
    if (n->stopping || !n->timer)
        return;
    uv_timer_stop(n->timer);
    if (next != INT64_MAX) {
        int64_t wait = next - now;
        if (wait < NOTIFY__TICK_MS)
            wait = NOTIFY__TICK_MS;
        uv_timer_start(n->timer, on_tick, (uint64_t)wait, 0);
    }
}

void notify__outbox_stop(struct notify *n)
{
    for (size_t k = 0; k < n->n_flying; k++) {
        struct notify__delivery *d = n->flying[k];
        d->n = NULL;
        for (size_t j = 0; j < d->n_items; j++)
            d->items[j]->busy = false;
        if (d->easy) {
            net_transfer_cancel(d->easy);
            net_easy_put(n->net, d->easy);
            d->easy = NULL;
            delivery_free(d);
        } else if (d->proc) {
            proc_cancel(d->proc); /* its end frees it */
        } else {
            delivery_free(d);
        }
    }
    n->n_flying = 0;
}

void notify__outbox_free(struct notify *n)
{
    for (size_t k = 0; k < n->n_items; k++)
        item_free(n->items[k]);
    free(n->items);
    n->items = NULL;
    n->n_items = 0;
    for (size_t k = 0; k < n->n_windows; k++) {
        free(n->windows[k].team);
        free(n->windows[k].notifier);
    }
    free(n->windows);
    free(n->flying);
}
