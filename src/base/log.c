/* SPDX-License-Identifier: MIT */
/*
 * The logfmt writer behind log.h. Lines are built whole in a local buffer
 * and written with one write(2), so lines from several threads never
 * interleave. Rate limiting keys on the format string's address: a call
 * site that logs more than LOG_BURST lines in one second is silenced until
 * the next second, which then reports how many lines were dropped.
 */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"

#define LOG_LINE_MAX 4096
#define LOG_BURST    20
#define LOG_SLOTS    64

struct log_slot {
    const char *fmt;
    const char *mod;
    time_t second;
    unsigned count;
    unsigned dropped;
};

/*
 * Read by every thread that logs (HTTP threads included) while a reload
 * may set it: atomic, relaxed, since no other memory hangs on its value.
 */
static _Atomic int log_threshold = LOG_LEVEL_INFO;
static atomic_bool log_journal;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_slot log_slots[LOG_SLOTS];

/* journald sets JOURNAL_STREAM to "dev:ino" of the stream it gave us. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

void log_init(enum log_level threshold)
{
    atomic_store_explicit(&log_threshold, (int)threshold, memory_order_relaxed);
    atomic_store_explicit(&log_journal, stderr_is_journal(), memory_order_relaxed);
}

void log_set_level(enum log_level threshold)
{
    atomic_store_explicit(&log_threshold, (int)threshold, memory_order_relaxed);
}

bool log_is_enabled(enum log_level level)
{
    return (int)level <= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

int log_level_parse(const char *s, enum log_level *ret_level)
{
    static const struct {
        const char *name;
        enum log_level level;
    } names[] = {{"error", LOG_LEVEL_ERROR},
                 {"warn", LOG_LEVEL_WARN},
                 {"info", LOG_LEVEL_INFO},
                 {"debug", LOG_LEVEL_DEBUG}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *ret_level = names[i].level;
            return 0;
        }
    }
    return HALE_EPARSE;
}

static const char *level_name(enum log_level level)
{
    switch (level) {
    case LOG_LEVEL_ERROR:
        return "error";
    case LOG_LEVEL_WARN:
        return "warn";
    case LOG_LEVEL_INFO:
        return "info";
    default:
        return "debug";
    }
}

/* Appends s quoted and escaped for logfmt; truncates at the buffer's end. */
static size_t put_quoted(char *buf, size_t pos, size_t cap, const char *s)
{
    if (pos + 1 < cap)
        buf[pos++] = '"';
    for (; *s && pos + 3 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[pos++] = '\\';
            buf[pos++] = (char)c;
        } else if (c == '\n') {
            buf[pos++] = '\\';
            buf[pos++] = 'n';
        } else if (c < 0x20) {
            buf[pos++] = ' ';
        } else {
            buf[pos++] = (char)c;
        }
    }
    if (pos + 1 < cap)
        buf[pos++] = '"';
    return pos;
}

/* Returns the number of lines dropped before this one, or -1 to drop it. */
static long rate_limit(const char *fmt, const char *mod)
{
    struct log_slot *slot = &log_slots[((uintptr_t)fmt >> 3) % LOG_SLOTS];
    time_t now = time(NULL);
    long dropped = 0;

    pthread_mutex_lock(&log_lock);
    if (slot->fmt != fmt || slot->second != now) {
        if (slot->fmt == fmt)
            dropped = slot->dropped;
        slot->fmt = fmt;
        slot->mod = mod;
        slot->second = now;
        slot->count = 0;
        slot->dropped = 0;
    }
    if (++slot->count > LOG_BURST) {
        slot->dropped++;
        dropped = -1;
    }
    pthread_mutex_unlock(&log_lock);
    return dropped;
}

void log_write(enum log_level level, const char *mod, const char *kv, const char *fmt, ...)
{
    if (!log_is_enabled(level))
        return;
    long dropped = rate_limit(fmt, mod);
    if (dropped < 0)
        return;

    char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    size_t pos = 0, cap = sizeof(line);
    int n;
    if (atomic_load_explicit(&log_journal, memory_order_relaxed))
        n = snprintf(line, cap, "<%d>level=%s mod=%s", (int)level, level_name(level), mod);
    else
        n = snprintf(line, cap, "level=%s mod=%s", level_name(level), mod);
    pos = n > 0 ? (size_t)n : 0;
    if (kv && *kv && pos < cap) {
        n = snprintf(line + pos, cap - pos, " %s", kv);
        pos += n > 0 ? (size_t)n : 0;
    }
    if (pos + 6 < cap) {
        memcpy(line + pos, " msg=", 5);
        pos = put_quoted(line, pos + 5, cap - 32, msg);
    }
    if (dropped > 0)
        pos += (size_t)snprintf(line + pos, cap - pos, " suppressed=%ld", dropped);
    line[pos++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, pos);
    (void)w; /* nowhere left to report a failing stderr */
}
