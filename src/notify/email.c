/* SPDX-License-Identifier: MIT */
/*
 * The email channel: a whole mail as the SMTP relay gets it (the
 * dispatcher hands it to libcurl). The template's first line is the
 * subject and the rest the plain text part; an HTML part says the same
 * with its links clickable. Mails of one incident share a References
 * header, so mail clients thread them. Parts are base64, so any text
 * travels through any relay.
 */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "notify/channels.h"

/* Bytes of input per line of base64: 76 characters, the MIME limit. */
#define B64_LINE_IN 57
/* Bytes of a subject per encoded word: 60 base64 characters, inside the 75 of RFC 2047. */
#define WORD_IN     45

static void add_base64(struct strbuf *b, const char *s, size_t len)
{
    unsigned char line[4 * ((B64_LINE_IN + 2) / 3) + 1];
    for (size_t i = 0; i < len; i += B64_LINE_IN) {
        size_t n = len - i < B64_LINE_IN ? len - i : B64_LINE_IN;
        int w = EVP_EncodeBlock(line, (const unsigned char *)s + i, (int)n);
        strbuf_add(b, line, (size_t)w);
        strbuf_adds(b, "\r\n");
    }
}

/* A header's value with the line breaks a configuration value might hide taken out. */
static void add_header_value(struct strbuf *b, const char *s)
{
    for (; *s; s++)
        if (*s != '\r' && *s != '\n')
            strbuf_addc(b, *s);
}

static bool is_plain_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x7F || (unsigned char)*s < 0x20)
            return false;
    return true;
}

/* The subject, as it is when short plain ASCII, else as RFC 2047 encoded words. */
static void add_subject(struct strbuf *b, const char *subject)
{
    size_t len = strlen(subject);
    if (is_plain_ascii(subject) && len <= 900) {
        strbuf_adds(b, subject);
        return;
    }
    unsigned char word[4 * ((WORD_IN + 2) / 3) + 1];
    for (size_t i = 0; i < len;) {
        size_t n = len - i < WORD_IN ? len - i : WORD_IN;
        while (i + n < len && n > 1 && ((unsigned char)subject[i + n] & 0xC0) == 0x80)
            n--; /* a character is never split between two words */
        int w = EVP_EncodeBlock(word, (const unsigned char *)subject + i, (int)n);
        strbuf_addf(b, "%s=?UTF-8?B?%.*s?=", i ? "\r\n " : "", w, (const char *)word);
        i += n;
    }
}

/* text as HTML: escaped, with its http(s) links made links. */
static void add_html(struct strbuf *b, const char *subject, const char *text)
{
    strbuf_adds(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>");
    strbuf_add_html(b, subject, strlen(subject));
    strbuf_adds(b, "</title></head>\n<body>\n<h3>");
    strbuf_add_html(b, subject, strlen(subject));
    strbuf_adds(b, "</h3>\n<pre style=\"white-space: pre-wrap; font-family: sans-serif\">");
    for (const char *p = text; *p;) {
        const char *link = NULL;
        for (const char *q = p; *q && !link; q++)
            if (strncmp(q, "http://", 7) == 0 || strncmp(q, "https://", 8) == 0)
                link = q;
        if (!link) {
            strbuf_add_html(b, p, strlen(p));
            break;
        }
        strbuf_add_html(b, p, (size_t)(link - p));
        size_t n = strcspn(link, " \t\r\n<>\"");
        strbuf_adds(b, "<a href=\"");
        strbuf_add_html(b, link, n);
        strbuf_adds(b, "\">");
        strbuf_add_html(b, link, n);
        strbuf_adds(b, "</a>");
        p = link + n;
    }
    strbuf_adds(b, "</pre>\n</body></html>\n");
}

static const char *domain_of(const char *address)
{
    const char *at = strrchr(address, '@');
    return at && at[1] && !strpbrk(at + 1, "<> \r\n") ? at + 1 : "hale.invalid";
}

static void add_headers(struct strbuf *b, const struct message *m, const struct config_notifier *nt,
                        const char *subject, const char *boundary)
{
    const char *from = nt->from ? nt->from : "hale@localhost";
    strbuf_adds(b, "From: ");
    add_header_value(b, from);
    strbuf_adds(b, "\r\nTo: ");
    for (size_t k = 0; k < nt->to.n; k++) {
        if (k)
            strbuf_adds(b, ", ");
        add_header_value(b, nt->to.v[k]);
    }
    strbuf_adds(b, "\r\nSubject: ");
    add_subject(b, subject);
    time_t t = (time_t)(m->now_ms / 1000);
    struct tm tm;
    char date[64] = "Thu, 01 Jan 1970 00:00:00 +0000";
    if (gmtime_r(&t, &tm))
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
    const char *domain = domain_of(from);
    int64_t id = m->incident->id;
    strbuf_addf(b,
                "\r\nDate: %s\r\n"
                "Message-ID: <hale.%" PRId64 ".%s.%" PRId64 "@%s>\r\n"
                "References: <hale.incident.%" PRId64 "@%s>\r\n"
                "X-Hale-Incident: %" PRId64 "\r\n"
                "MIME-Version: 1.0\r\n"
                "Content-Type: multipart/alternative; boundary=\"%s\"\r\n"
                "\r\n",
                date, id, notify_reason_name(m->reason), m->now_ms, domain, id, domain, id,
                boundary);
}

int message__email(const struct message *m, const struct config_notifier *nt,
                   struct message_payload *ret, struct err *e)
{
    struct strbuf text;
    int r = message__text(m, nt, message__default_email, message__default_email_users, NULL, &text,
                          e);
    if (r < 0)
        return r;
    /* the first line is the subject; the blank lines after it separate it from the body */
    size_t n = strcspn(text.s, "\n");
    char *subject = xstrndup(text.s, n);
    if (n && subject[n - 1] == '\r')
        subject[n - 1] = '\0';
    const char *body = text.s + n;
    while (*body == '\n' || *body == '\r')
        body++;
    char boundary[80];
    snprintf(boundary, sizeof(boundary), "=_hale_%" PRId64 "_%" PRId64, m->incident->id, m->now_ms);

    struct strbuf mail, html;
    strbuf_init(&mail, 0);
    add_headers(&mail, m, nt, subject, boundary);
    strbuf_addf(&mail,
                "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n",
                boundary);
    add_base64(&mail, body, strlen(body));
    strbuf_init(&html, 0);
    add_html(&html, subject, body);
    strbuf_addf(&mail,
                "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n",
                boundary);
    add_base64(&mail, html.s, html.len);
    strbuf_addf(&mail, "--%s--\r\n", boundary);
    strbuf_fini(&html);
    strbuf_fini(&text);
    ret->body = strbuf_detach(&mail, &ret->len);
    ret->subject = subject;
    ret->content_type = NULL;
    return 0;
}
