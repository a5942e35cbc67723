/* SPDX-License-Identifier: MIT */
/*
 * Logging: logfmt lines on stderr, one per call:
 *   level=warn mod=sched check=db1 msg="timeout after 5000 ms"
 * When stderr is connected to journald (JOURNAL_STREAM names it), each line
 * also starts with a syslog priority prefix such as "<4>" so journald keeps
 * the level. A message logged many times a second from one call site is
 * rate-limited, and the number suppressed is reported once the burst ends.
 * Thread-safe. Never pass a secret.
 */
#ifndef HALE_BASE_LOG_H
#define HALE_BASE_LOG_H

#include <stdbool.h>

enum log_level {
    LOG_LEVEL_ERROR = 3, /* the syslog priorities, so the prefix is the level */
    LOG_LEVEL_WARN = 4,
    LOG_LEVEL_INFO = 6,
    LOG_LEVEL_DEBUG = 7,
};

/* Reads JOURNAL_STREAM and sets the threshold. Safe to call again. */
void log_init(enum log_level threshold);
/* Any thread, while others log (a reload changes the level). */
void log_set_level(enum log_level threshold);
bool log_is_enabled(enum log_level level);
/* Parses "error", "warn", "info" or "debug"; returns 0 or HALE_EPARSE. */
int log_level_parse(const char *s, enum log_level *ret_level);

/*
 * Writes one line. kv is extra logfmt fields already formatted
 * ("check=db1 try=2"; the caller quotes values that may hold spaces),
 * or NULL.
 * The message is quoted and escaped here.
 */
void log_write(enum log_level level, const char *mod, const char *kv, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

#define log_error(mod, kv, ...) log_write(LOG_LEVEL_ERROR, mod, kv, __VA_ARGS__)
#define log_warn(mod, kv, ...)  log_write(LOG_LEVEL_WARN, mod, kv, __VA_ARGS__)
#define log_info(mod, kv, ...)  log_write(LOG_LEVEL_INFO, mod, kv, __VA_ARGS__)
#define log_debug(mod, kv, ...)                               \
    do {                                                      \
        if (log_is_enabled(LOG_LEVEL_DEBUG))                  \
            log_write(LOG_LEVEL_DEBUG, mod, kv, __VA_ARGS__); \
    } while (0)

#endif
