/* SPDX-License-Identifier: MIT */
/*
 * Reads what a Monitoring Plugin (a Nagios plugin) left behind, its exit
 * code and stdout, into an observation. This is where a command check's
 * run becomes something detect/ can judge: the status comes from the exit
 * code alone (the text is for people), the first line is the summary, the
 * following lines the long output, and the text right of '|' is perfdata,
 * which perfdata.c reads.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "checks/checks.h"
#include "checks/internal.h"

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/*
 * Copies s[0..len) into b as valid UTF-8 text: CR before a line break or
 * at the end is dropped, tab and newline are kept, and every other
 * control character and every byte that is not part of a valid sequence
 * becomes U+FFFD. b is unbounded; it grows to at most 3 * len bytes.
 */
static void text_sanitize(struct strbuf *b, const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c == '\r' && (i + 1 == len || u[i + 1] == '\n')) {
            i++;
            continue;
        }
        if (c == '\t' || c == '\n' || (c >= 0x20 && c != 0x7F && c < 0x80)) {
            strbuf_addc(b, (char)c);
            i++;
            continue;
        }
        size_t n = c < 0x80 ? 0 : strbuf_utf8_seq_len(u + i, len - i);
        if (n == 0) {
            strbuf_adds(b, replacement);
            i++;
        } else {
            strbuf_add(b, s + i, n);
            i += n;
        }
    }
}

static bool is_trim(char c)
{
    return c == ' ' || c == '\t';
}

/* The text s[0..len) less blanks at both ends, as a new string. */
static char *trimmed_dup(const char *s, size_t len)
{
    while (len > 0 && is_trim(s[0])) {
        s++;
        len--;
    }
    while (len > 0 && is_trim(s[len - 1]))
        len--;
    return xstrndup(s, len);
}

static bool is_blank_text(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_trim(s[i]) && s[i] != '\n')
            return false;
    return true;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGHUP:
        return "SIGHUP";
    case SIGINT:
        return "SIGINT";
    case SIGQUIT:
        return "SIGQUIT";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGKILL:
        return "SIGKILL";
    case SIGSEGV:
        return "SIGSEGV";
    case SIGPIPE:
        return "SIGPIPE";
    case SIGALRM:
        return "SIGALRM";
    case SIGTERM:
        return "SIGTERM";
    default:
        return NULL;
    }
}

/*
 * Splits the sanitized text into summary, long output and perfdata, the
 * way Nagios Core does: line 1 left of '|' is the summary and right of it
 * perfdata; later lines are long output up to the first '|' among them,
 * and everything after that '|' is perfdata.
 */
static void text_split(struct check_observation *o, const char *s, size_t len, struct strbuf *perf,
                       bool *ret_perf_at_end)
{
    /* Every long line goes in with a '\n' before it; the first one is dropped at the end. */
    struct strbuf lng;
    strbuf_init(&lng, 0);
    size_t lng_keep = 0; /* length without trailing empty lines */
    bool in_perf = false, line_has_perf = false;
    for (size_t pos = 0; pos <= len;) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) : len;
        const char *line = s + pos;
        size_t n = end - pos;
        line_has_perf = in_perf;
        if (in_perf) {
            strbuf_addc(perf, '\n');
            strbuf_add(perf, line, n);
        } else {
            const char *bar = memchr(line, '|', n);
            size_t text = bar ? (size_t)(bar - line) : n;
            if (bar) {
                strbuf_addc(perf, '\n'); /* Nagios joins the parts with a blank */
                strbuf_add(perf, bar + 1, n - text - 1);
                in_perf = pos > 0; /* line 1's '|' covers line 1 only */
                line_has_perf = true;
            }
            if (pos == 0) {
                o->summary = trimmed_dup(line, text);
            } else {
                while (text > 0 && is_trim(line[text - 1]))
                    text--;
                strbuf_addc(&lng, '\n');
                strbuf_add(&lng, line, text);
                if (text > 0)
                    lng_keep = lng.len;
            }
        }
        if (!nl)
            break;
        pos = end + 1;
    }
    if (lng_keep > 1)
        o->long_output = xstrndup(lng.s + 1, lng_keep - 1);
    strbuf_fini(&lng);
    *ret_perf_at_end = line_has_perf;
}

void check_plugin_parse(const struct check_plugin_result *res, size_t max_bytes,
                        struct check_observation *ret_obs)
{
    struct check_observation o = {0};
    if (max_bytes == 0)
        max_bytes = CHECK_OUTPUT_MAX_DEFAULT;
    size_t len = res->output ? res->output_len : 0;
    o.truncated = res->output_truncated || len > max_bytes;
    if (len > max_bytes)
        len = max_bytes;

    struct strbuf text, perf;
    strbuf_init(&text, 0);
    strbuf_init(&perf, 0);
    text_sanitize(&text, res->output, len);
    bool perf_at_end = false;
    text_split(&o, text.s, text.len, &perf, &perf_at_end);
    if (o.truncated) {
        check__note(&o, "output truncated at %zu bytes", len);
        /* The cut may have split the last perfdata item: drop what is left of it. */
        if (perf_at_end && perf.len > 0 && !strchr(" \t\n|", perf.s[perf.len - 1])) {
            while (perf.len > 0 && !strchr(" \t\n|", perf.s[perf.len - 1]))
                perf.len--;
            perf.s[perf.len] = '\0';
            check__note(&o, "the last perfdata item was cut; dropped");
        }
    }
    check_perfdata_parse(&o, perf.s, perf.len);

    bool silent = is_blank_text(text.s, text.len);
    char *what = NULL;
    if (res->term_signal != 0) {
        const char *name = signal_name(res->term_signal);
        what = name ? xasprintf("killed by signal %d (%s)", res->term_signal, name)
                    : xasprintf("killed by signal %d", res->term_signal);
    } else if (res->exit_status < 0 || res->exit_status > 3) {
        what = xasprintf("exited with status %lld", (long long)res->exit_status);
    }
    if (!what && silent) {
        /* As Nagios Core does: the exit code decides; the summary says it was silent. */
        free(o.summary);
        o.summary = xasprintf("no output (exited with status %lld)", (long long)res->exit_status);
        o.status = (enum check_status)res->exit_status;
    } else if (what) {
        o.status = CHECK_STATUS_UNKNOWN;
        char *summary = o.summary[0] ? xasprintf("%s: %s", what, o.summary) : xstrdup(what);
        free(o.summary);
        free(what);
        o.summary = summary;
    } else {
        o.status = (enum check_status)res->exit_status;
    }
    strbuf_fini(&text);
    strbuf_fini(&perf);
    *ret_obs = o;
}
