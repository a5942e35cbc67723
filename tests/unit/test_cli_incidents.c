/* SPDX-License-Identifier: MIT */
/*
 * Tests of the incident commands' client side (src/cli/incidents.c,
 * problems.c, report.c, silence.c, render.c, client.c): tables, ages, timelines and
 * colours drawn from the API's JSON, URLs with escaped queries, the
 * sentences for refused requests, and command lines refused before
 * anything is sent. No daemon runs here: the exchange with a real one is
 * tests/integration/test_cli_incidents.py.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/clock.h"
#include "base/strbuf.h"
#include "cli/cli.h"
#include "cli/client.h"
#include "cli/internal.h"

/* 2026-11-21T19:03:00Z: the tests' "now". */
static int64_t now_ms(void)
{
    int64_t t;
    assert_int_equal(clock_parse_rfc3339_ms("2026-11-21T19:03:00Z", &t), 0);
    return t;
}

static json_t *load(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON at %d: %s", e.position, e.text);
    return v;
}

static const char incidents_json[] =
        "[{\"id\":42,\"title\":\"web-health is critical\",\"severity\":\"critical\","
        "\"priority\":\"P2\",\"team\":\"web\",\"assignee\":null,\"state\":\"new\","
        "\"opened\":\"2026-11-21T19:00:00.000Z\"},"
        "{\"id\":7,\"title\":\"disk almost full\",\"severity\":\"warning\",\"priority\":\"P3\","
        "\"team\":null,\"assignee\":\"alice\",\"state\":\"acknowledged\","
        "\"opened\":\"2026-11-21T17:00:00.000Z\"},"
        "{\"id\":1003,\"title\":\"queue stuck\",\"severity\":\"critical\",\"priority\":\"P5\","
        "\"team\":\"platform\",\"assignee\":null,\"state\":\"closed\","
        "\"opened\":\"2026-11-16T19:03:00.000Z\"}]";

static char *table_of(const char *json, int width, bool colour)
{
    json_t *v = load(json);
    struct cli__style st = {.width = width, .colour = colour, .now_ms = now_ms()};
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__incidents_table(v, &st, &out);
    json_decref(v);
    return strbuf_detach(&out, NULL);
}

static void test_cli_incidents_table_aligns_columns(void **state)
{
    (void)state;
    char *t = table_of(incidents_json, 0, false);
    assert_string_equal(
            t,
            "ID    PRI  STATE         SEVERITY  TEAM      ASSIGNEE  AGE  TITLE\n"
            "42    P2   new           critical  web       -         3m   web-health is critical\n"
            "7     P3   acknowledged  warning   -         alice     2h   disk almost full\n"
            "1003  P5   closed        critical  platform  -         5d   queue stuck\n");
    free(t);
}

static void test_cli_incidents_table_colours_only_when_asked(void **state)
{
    (void)state;
    char *plain = table_of(incidents_json, 0, false);
    assert_null(strchr(plain, '\033'));
    free(plain);

    char *t = table_of(incidents_json, 0, true);
    char *row42 = strstr(t, "\n") + 1, *row7 = strstr(row42, "\n") + 1,
         *row1003 = strstr(row7, "\n") + 1;
    assert_memory_equal(t, "ID ", 3); /* the header is never coloured */
    assert_memory_equal(row42, CLI__RED "42 ", strlen(CLI__RED) + 3);
    assert_memory_equal(row7, CLI__YELLOW "7 ", strlen(CLI__YELLOW) + 2);
    /* closed is dim, whatever its severity */
    assert_memory_equal(row1003, CLI__DIM "1003", strlen(CLI__DIM) + 4);
    assert_non_null(strstr(row42, "web-health is critical" CLI__RESET "\n"));
    free(t);
}

/* A pseudo-terminal: a real TTY whose width the test sets. */
static int pty_open(unsigned short cols, int *ret_master)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    struct winsize ws = {.ws_row = 24, .ws_col = cols};
    assert_int_equal(ioctl(slave, TIOCSWINSZ, &ws), 0);
    *ret_master = master;
    return slave;
}

static void test_cli_incidents_colour_and_width_follow_the_terminal(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    struct cli__style st;
    cli__style_for(fileno(f), &st);
    assert_false(st.colour); /* not a terminal: no colour, nothing cut */
    assert_int_equal(st.width, 0);
    fclose(f);

    int master, tty = pty_open(72, &master);
    unsetenv("NO_COLOR");
    cli__style_for(tty, &st);
    assert_true(st.colour);
    assert_int_equal(st.width, 72);
    setenv("NO_COLOR", "1", 1);
    assert_false(cli__colour_wanted(tty));
    setenv("NO_COLOR", "", 1); /* empty means unset, as no-color.org says */
    assert_true(cli__colour_wanted(tty));
    unsetenv("NO_COLOR");
    close(tty);
    close(master);
}

/* Code points of s, which is what the terminal shows. */
static size_t width_of(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

static void test_cli_incidents_title_cut_at_width(void **state)
{
    (void)state;
    /* The columns before TITLE take 60; 80 leaves it 20. */
    char *t = table_of(incidents_json, 80, false);
    for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1)
        assert_true(width_of(line, (size_t)(nl - line)) <= 80);
    assert_non_null(strstr(t, "  web-health is criti\u2026\n"));
    assert_non_null(strstr(t, "  disk almost full\n")); /* fits: left whole */
    free(t);

    /* A terminal too narrow still shows the start of each title. */
    t = table_of(incidents_json, 20, false);
    assert_non_null(strstr(t, "  web-healt\u2026\n"));
    assert_non_null(strstr(t, "  queue stu\u2026\n")); /* 11 code points: one too many */
    free(t);
}

static void test_cli_incidents_table_hides_control_characters(void **state)
{
    (void)state;
    char *t = table_of("[{\"id\":1,\"title\":\"evil\\u001b[2J\\ntitle\\u009b1m\","
                       "\"state\":\"new\"}]",
                       0, false);
    assert_null(strchr(t, '\033'));
    assert_non_null(strstr(t, "evil?[2J title??1m\n"));
    free(t);
}

static void test_cli_incidents_age_format(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
            {0, "0s"},
            {999, "0s"},
            {45000, "45s"},
            {59999, "59s"},
            {60000, "1m"},
            {180000, "3m"},
            {3599999, "59m"},
            {7200000, "2h"},
            {86399999, "23h"},
            {86400000, "1d"},
            {5 * 86400000LL, "5d"},
            {-5000, "0s"},
            {400 * 86400000LL, "400d"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[CLI__AGE_MAX];
        cli__age_format(cases[i].ms, buf);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_cli_incidents_timeline_render(void **state)
{
    (void)state;
    json_t *v = load(
            "[{\"id\":1,\"time\":\"2026-11-21T19:00:00.000Z\",\"kind\":\"event\","
            "\"actor\":\"check:web-health\",\"text\":\"critical (hard): HTTP 503\",\"data\":null},"
            "{\"id\":2,\"time\":\"2026-11-21T19:01:30.500Z\",\"kind\":\"step_output\","
            "\"actor\":\"hale\",\"text\":\"line one\\nline two\",\"data\":null},"
            "{\"id\":3,\"time\":\"2026-11-21T19:02:00.000Z\",\"kind\":\"note\","
            "\"actor\":\"user:alice\",\"text\":\"restarted it\",\"data\":null}]");
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__timeline_render(v, &out);
    assert_string_equal(out.s,
                        "TIME                  ACTOR             KIND         TEXT\n"
                        "2026-11-21T19:00:00Z  check:web-health  event        critical (hard): "
                        "HTTP 503\n"
                        "2026-11-21T19:01:30Z  hale              step_output  line one\n"
                        "                                                     line two\n"
                        "2026-11-21T19:02:00Z  user:alice        note         restarted it\n");
    strbuf_fini(&out);
    json_decref(v);
}

/* An exec notifier's error quotes its program's stderr: no escape reaches the terminal. */
static void test_cli_incidents_notifications_table(void **state)
{
    (void)state;
    json_t *v = load("[{\"created\":\"2026-11-21T19:20:00.000Z\",\"notifier\":\"pager\","
                     "\"reason\":\"level\",\"level\":2,\"state\":\"failed\",\"attempts\":3,"
                     "\"error\":\"exit 1: \\u001b[2Jno route\\n\"},"
                     "{\"created\":\"2026-11-21T19:05:00.000Z\",\"notifier\":\"web-slack\","
                     "\"reason\":\"escalated\",\"level\":1,\"state\":\"delivered\",\"attempts\":1,"
                     "\"error\":null}]");
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__notifications_table(v, &out);
    assert_string_equal(out.s, "CREATED                   NOTIFIER   REASON     LEVEL  STATE      "
                               "ATTEMPTS  ERROR\n"
                               "2026-11-21T19:20:00.000Z  pager      level      2      failed     "
                               "3         exit 1: ?[2Jno route \n"
                               "2026-11-21T19:05:00.000Z  web-slack  escalated  1      delivered  "
                               "1         -\n");
    strbuf_fini(&out);
    json_decref(v);
}

static void test_cli_incidents_watch_line(void **state)
{
    (void)state;
    json_t *v = load("{\"id\":42,\"title\":\"web\\u001b[2J is critical\",\"severity\":"
                     "\"critical\",\"priority\":\"P2\",\"team\":\"web\",\"assignee\":null,"
                     "\"state\":\"acknowledged\",\"updated\":\"2026-11-21T19:01:30.500Z\"}");
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__incident_line(v, false, &out);
    assert_string_equal(out.s, "2026-11-21T19:01:30Z  42    P2   acknowledged  critical  web  -  "
                               "web?[2J is critical\n");
    strbuf_reset(&out);
    cli__incident_line(v, true, &out);
    assert_memory_equal(out.s, CLI__RED "2026-11-21T19:01:30Z", strlen(CLI__RED) + 20);
    assert_non_null(strstr(out.s, CLI__RESET "\n"));
    strbuf_fini(&out);
    json_decref(v);
}

struct sse_seen {
    char got[4096];
    int n;
};

static void sse_record(const char *event, const char *data, void *arg)
{
    struct sse_seen *s = arg;
    size_t len = strlen(s->got);
    snprintf(s->got + len, sizeof(s->got) - len, "[%s|%s]", event, data);
    s->n++;
}

/* Feeds text one byte at a time: messages must not depend on how the bytes arrive. */
static void sse_feed_bytes(struct cli__sse *p, const char *text)
{
    for (const char *c = text; *c; c++)
        assert_int_equal(cli__sse_feed(p, c, 1), 0);
}

static void test_cli_incidents_sse_reader(void **state)
{
    (void)state;
    struct sse_seen seen = {0};
    struct cli__sse p;
    cli__sse_init(&p, sse_record, &seen);
    static const char stream[] = "retry: 3000\n"
                                 "id: ab-0\n"
                                 "event: hello\n"
                                 "data: {\"id\":\"ab-0\"}\n"
                                 "\n"
                                 ": keep-alive\n"
                                 "\n"
                                 "id: ab-1\r\n"
                                 "event: incident\r\n"
                                 "data: {\"a\":1}\r\n"
                                 "\r\n"
                                 "data:two\n"
                                 "data: lines\n"
                                 "unknown: field\n"
                                 "\n"
                                 "id: ab-2\n"
                                 "\n";
    sse_feed_bytes(&p, stream);
    assert_string_equal(seen.got,
                        "[hello|{\"id\":\"ab-0\"}][incident|{\"a\":1}][message|two\nlines]");
    assert_int_equal(p.retry_ms, 3000);
    /* An id alone moves the last id on, without a message. */
    assert_string_equal(p.id, "ab-2");

    /* A half-read message is forgotten when the connection drops, and its id with it. */
    sse_feed_bytes(&p, "id: ab-3\nevent: incident\ndata: {\"half\"");
    cli__sse_reset(&p);
    assert_string_equal(p.id, "ab-2");
    sse_feed_bytes(&p, "data: x\n\n");
    assert_string_equal(seen.got + strlen(seen.got) - 11, "[message|x]");
    assert_int_equal(seen.n, 4);
    cli__sse_fini(&p);
}

static void test_cli_incidents_fields(void **state)
{
    (void)state;
    json_t *v = load(
            "{\"id\":42,\"type\":\"incident\",\"title\":\"web-health is critical\","
            "\"fingerprint\":\"check:web-health\",\"labels\":{\"service\":\"web\",\"env\":\"prod\"}"
            ","
            "\"severity\":\"critical\",\"priority\":\"P2\",\"category\":\"software\","
            "\"team\":\"web\",\"assignee\":null,\"check\":\"web-health\",\"state\":\"resolved\","
            "\"opened\":\"2026-11-21T19:00:00.000Z\",\"acknowledged\":null,"
            "\"resolved\":\"2026-11-21T19:02:00.000Z\",\"closed\":null,\"resolved_by\":\"alice\","
            "\"root_cause\":\"disk full\",\"reopened\":0,\"problem\":null,"
            "\"updated\":\"2026-11-21T19:02:00.000Z\",\"service\":\"web\",\"symptom_of\":7,"
            "\"runbook\":\"restart-web\",\"events\":12,\"repeats\":9}");
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__incident_fields(v, now_ms(), &out);
    assert_memory_equal(out.s, "incident 42: web-health is critical\n", 36);
    assert_non_null(strstr(out.s, "\nstate         resolved\n"));
    assert_non_null(strstr(out.s, "\nassignee      -\n"));
    assert_non_null(strstr(out.s, "\nlabels        service=web, env=prod\n"));
    assert_non_null(strstr(out.s, "\nopened        2026-11-21T19:00:00.000Z (3m ago)\n"));
    assert_non_null(strstr(out.s, "\nacknowledged  -\n"));
    assert_non_null(strstr(out.s, "\nroot cause    disk full\n"));
    assert_non_null(strstr(out.s, "\nproblem       -\n"));
    assert_non_null(strstr(out.s, "\nservice       web\n"));
    assert_non_null(strstr(out.s, "\nrunbook       restart-web\n"));
    assert_non_null(strstr(out.s, "\nsymptom of    7\n"));
    assert_non_null(strstr(out.s, "\nevents        12 (9 repeats)\n"));
    strbuf_fini(&out);
    json_decref(v);
}

static void test_cli_incidents_problems_table(void **state)
{
    (void)state;
    json_t *v = load("[{\"id\":3,\"title\":\"web-health keeps failing\",\"state\":\"open\","
                     "\"opened\":\"2026-11-21T18:03:00.000Z\",\"incidents\":3},"
                     "{\"id\":12,\"title\":\"nightly backup\",\"state\":\"known_error\","
                     "\"opened\":\"2026-11-14T19:03:00.000Z\",\"incidents\":11}]");
    struct cli__style st = {.now_ms = now_ms()};
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__problems_table(v, &st, &out);
    assert_string_equal(out.s, "ID  STATE        INCIDENTS  AGE  TITLE\n"
                               "3   open         3          1h   web-health keeps failing\n"
                               "12  known_error  11         7d   nightly backup\n");
    strbuf_fini(&out);
    json_decref(v);
}

static const char silences_json[] =
        "[{\"id\":3,\"source\":\"api\",\"state\":\"pending\",\"matchers\":\"{service=\\\"x\\\"}\","
        "\"starts\":\"2026-11-22T19:03:00.000Z\",\"ends\":\"2026-11-23T03:03:00.000Z\","
        "\"weekly\":null,\"incident\":null,\"comment\":\"datacenter move\","
        "\"created_by\":\"user:alice\",\"created\":\"2026-11-21T19:00:00.000Z\","
        "\"ended\":null,\"ended_by\":null},"
        "{\"id\":2,\"source\":\"api\",\"state\":\"active\",\"matchers\":\"{service=\\\"web\\\"}\","
        "\"starts\":\"2026-11-21T19:00:00.000Z\",\"ends\":\"2026-11-21T21:00:00.000Z\","
        "\"weekly\":null,\"incident\":null,\"comment\":\"\",\"created_by\":\"user:bob\","
        "\"created\":\"2026-11-21T19:00:00.000Z\",\"ended\":null,\"ended_by\":null},"
        "{\"id\":1,\"source\":\"api\",\"state\":\"expired\",\"matchers\":\"{service=\\\"db\\\"}\","
        "\"starts\":\"2026-11-21T18:00:00.000Z\",\"ends\":\"2026-11-21T19:01:00.000Z\","
        "\"weekly\":null,\"incident\":42,\"comment\":\"failover\",\"created_by\":\"user:bob\","
        "\"created\":\"2026-11-21T18:00:00.000Z\",\"ended\":\"2026-11-21T19:01:00.000Z\","
        "\"ended_by\":\"hale\"},"
        "{\"id\":-1,\"source\":\"config\",\"state\":\"pending\","
        "\"matchers\":\"{service=\\\"db\\\"}\",\"starts\":null,\"ends\":null,"
        "\"weekly\":\"Sun 02:00-04:00\",\"incident\":null,\"comment\":\"backups\","
        "\"created_by\":\"config\",\"created\":\"2026-11-21T10:00:00.000Z\","
        "\"ended\":null,\"ended_by\":null}]";

static void test_cli_incidents_silences_table(void **state)
{
    (void)state;
    json_t *v = load(silences_json);
    struct cli__style st = {.now_ms = now_ms()};
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__silences_table(v, &st, &out);
    assert_string_equal(
            out.s,
            "ID  STATE    MATCHERS         WHEN                  COMMENT          CREATED_BY\n"
            "3   pending  {service=\"x\"}    starts in 1d, for 8h  datacenter move  user:alice\n"
            "2   active   {service=\"web\"}  ends in 1h57m         -                user:bob\n"
            "1   expired  {service=\"db\"}   ended 2m ago          failover         user:bob\n"
            "-1  pending  {service=\"db\"}   Sun 02:00-04:00       backups          config\n");
    strbuf_fini(&out);
    json_decref(v);
}

static void when_is(const char *json, const char *want)
{
    json_t *v = load(json);
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__silence_when(v, now_ms(), &out);
    assert_string_equal(out.s, want);
    strbuf_fini(&out);
    json_decref(v);
}

static void test_cli_incidents_silence_when(void **state)
{
    (void)state;
    when_is("{\"state\":\"active\",\"weekly\":\"Mon-Fri 22:00-06:00\","
            "\"ends\":\"2027-01-01T00:00:00.000Z\"}",
            "Mon-Fri 22:00-06:00, until 2027-01-01T00:00:00Z");
    when_is("{\"state\":\"active\",\"incident\":42}", "until incident 42 resolves");
    when_is("{\"state\":\"active\",\"incident\":42,\"ends\":\"2026-11-21T21:00:00.000Z\"}",
            "until incident 42 resolves, at most until 2026-11-21T21:00:00Z");
    when_is("{\"state\":\"pending\",\"weekly\":\"Sat,Sun 00:00-24:00\","
            "\"starts\":\"2026-11-24T19:03:00.000Z\"}",
            "Sat,Sun 00:00-24:00, starts in 3d");
    when_is("{\"state\":\"expired\",\"ends\":\"2026-11-21T18:03:00.000Z\"}", "ended 1h ago");
    when_is("{\"state\":\"active\"}", "-");
    /* Spans to come in two units, rounded up to the second. */
    when_is("{\"state\":\"active\",\"ends\":\"2026-11-21T21:02:59.001Z\"}", "ends in 2h");
    when_is("{\"state\":\"active\",\"ends\":\"2026-11-21T19:03:45.000Z\"}", "ends in 45s");
    when_is("{\"state\":\"active\",\"ends\":\"2026-12-24T20:03:00.000Z\"}", "ends in 33d1h");
}

static void test_cli_incidents_silence_fields(void **state)
{
    (void)state;
    json_t *v = load(silences_json);
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__silence_fields(json_array_get(v, 1), now_ms(), &out);
    assert_memory_equal(out.s, "silence 2: {service=\"web\"}\n", 27);
    assert_non_null(strstr(out.s, "\nstate         active\n"));
    assert_non_null(strstr(out.s, "\nwhen          ends in 1h57m\n"));
    assert_non_null(strstr(out.s, "\nends          2026-11-21T21:00:00.000Z (in 1h)\n"));
    assert_non_null(strstr(out.s, "\nstarts        2026-11-21T19:00:00.000Z (3m ago)\n"));
    assert_non_null(strstr(out.s, "\nincident      -\n"));
    assert_non_null(strstr(out.s, "\ncreated by    user:bob\n"));
    assert_non_null(strstr(out.s, "\nended by      -\n"));
    strbuf_fini(&out);
    json_decref(v);
}

static void test_cli_incidents_audit_table(void **state)
{
    (void)state;
    json_t *v = load("[{\"id\":1,\"time\":\"2026-11-21T19:00:00.250Z\",\"actor\":\"user:alice\","
                     "\"action\":\"incident.ack\",\"target\":\"incident:42\","
                     "\"origin\":\"127.0.0.1\",\"detail\":null},"
                     "{\"id\":2,\"time\":\"2026-11-21T19:05:00.000Z\",\"actor\":\"tokens-file\","
                     "\"action\":\"token.revoke\",\"target\":\"token:ci\","
                     "\"origin\":\"/var/lib/hale/tokens\",\"detail\":{\"role\":\"reporter\"}}]");
    struct cli__style st = {.now_ms = now_ms()};
    struct strbuf out;
    strbuf_init(&out, 0);
    cli__audit_table(v, &st, &out);
    assert_string_equal(out.s,
                        "TIME                  ACTOR        ACTION        TARGET       ORIGIN\n"
                        "2026-11-21T19:00:00Z  user:alice   incident.ack  incident:42  127.0.0.1\n"
                        "2026-11-21T19:05:00Z  tokens-file  token.revoke  token:ci     "
                        "/var/lib/hale/tokens\n");
    strbuf_fini(&out);
    json_decref(v);
}

static void test_cli_incidents_url_escapes_query(void **state)
{
    (void)state;
    struct strbuf p;
    strbuf_init(&p, 0);
    struct cli__list_query q = {
            .state = "new,acknowledged", .team = "web ops", .since = "7d", .limit = 20};
    cli__incidents_path(&q, "41", &p);
    assert_string_equal(
            p.s, "/api/v1/incidents?state=new%2Cacknowledged&team=web%20ops&since=7d&limit=20"
                 "&cursor=41");

    strbuf_reset(&p);
    cli__incidents_path(&(struct cli__list_query){0}, NULL, &p);
    assert_string_equal(p.s, "/api/v1/incidents");

    strbuf_reset(&p);
    cli__incidents_path(
            &(struct cli__list_query){.priority = "P1,2", .service = "shop", .text = "disk full"},
            NULL, &p);
    assert_string_equal(p.s, "/api/v1/incidents?priority=P1%2C2&service=shop&q=disk%20full");

    strbuf_reset(&p);
    strbuf_adds(&p, "/x");
    cli_url_query_add(&p, "team", "a&b=c/d?e#f+g%h");
    cli_url_query_add(&p, "since", "2026-11-21T19:00:00+02:00");
    cli_url_query_add(&p, "t", "caf\xc3\xa9~_.-");
    assert_string_equal(p.s, "/x?team=a%26b%3Dc%2Fd%3Fe%23f%2Bg%25h"
                             "&since=2026-11-21T19%3A00%3A00%2B02%3A00&t=caf%C3%A9~_.-");
    strbuf_fini(&p);
}

static void test_cli_incidents_base_url(void **state)
{
    (void)state;
    struct cli_client *c = cli_client_new("http://hale.example:9000//", NULL);
    assert_string_equal(cli_client_url(c), "http://hale.example:9000");
    cli_client_free(c);

    setenv("HALE_URL", "http://10.0.0.1:8080", 1);
    c = cli_client_new(NULL, NULL);
    assert_string_equal(cli_client_url(c), "http://10.0.0.1:8080");
    cli_client_free(c);
    c = cli_client_new("http://other:1", NULL); /* --url wins */
    assert_string_equal(cli_client_url(c), "http://other:1");
    cli_client_free(c);
    unsetenv("HALE_URL");

    c = cli_client_new(NULL, NULL);
    assert_string_equal(cli_client_url(c), CLI_CLIENT_DEFAULT_URL);
    cli_client_free(c);
}

static void test_cli_incidents_answer_errors_say_what_to_do(void **state)
{
    (void)state;
    struct err e = {0};
    static const char body401[] = "{\"status\":401,\"error\":\"unauthorized\",\"reason\":\"x\"}";
    assert_int_equal(cli_client_answer_error(401, body401, strlen(body401), &e), HALE_EAUTH);
    assert_string_equal(e.msg, "HALE_TOKEN is missing or not valid: create one with "
                               "'hale token create NAME --role responder'");

    static const char body403[] = "{\"status\":403,\"error\":\"forbidden\",\"reason\":\"token "
                                  "'v' has role viewer, which lacks the act permission\"}";
    assert_int_equal(cli_client_answer_error(403, body403, strlen(body403), &e), HALE_EDENIED);
    assert_string_equal(e.msg, "this token's role cannot do that: token 'v' has role viewer, "
                               "which lacks the act permission");

    static const char body409[] = "{\"status\":409,\"error\":\"conflict\",\"reason\":\"incident "
                                  "42 is new: only a resolved incident can be closed\"}";
    assert_int_equal(cli_client_answer_error(409, body409, strlen(body409), &e), HALE_ESTATE);
    assert_string_equal(e.msg, "incident 42 is new: only a resolved incident can be closed");

    static const char body400[] = "{\"status\":400,\"error\":\"bad_request\",\"reason\":\"limit: "
                                  "1 to 500\"}";
    assert_int_equal(cli_client_answer_error(400, body400, strlen(body400), &e), HALE_EPARSE);
    assert_string_equal(e.msg, "limit: 1 to 500");

    static const char html[] = "<html>Bad Gateway</html>";
    assert_int_equal(cli_client_answer_error(502, html, strlen(html), &e), HALE_EINTERNAL);
    assert_non_null(strstr(e.msg, "HTTP 502"));
    assert_int_equal(cli_client_answer_error(404, NULL, 0, &e), HALE_ENOTFOUND);
}

struct output {
    int status;
    char out[8192];
    char err[8192];
};

static void slurp(FILE *f, char *buf, size_t size)
{
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* Runs `hale CMD ARGS...` in-process with stdout and stderr captured. */
static struct output run_cmd(const struct cli_command *cmd, char *first, ...)
{
    char name[32];
    snprintf(name, sizeof(name), "%s", cmd->name);
    char *argv[16] = {name};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (char *a = first; a && argc < 15; a = va_arg(ap, char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(fileno(out), 1);
    dup2(fileno(err), 2);
    struct output o = {.status = cmd->run(argc, argv)};
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(out, o.out, sizeof(o.out));
    slurp(err, o.err, sizeof(o.err));
    return o;
}

#define assert_usage(o, text)                         \
    do {                                              \
        assert_int_equal((o).status, CLI_EXIT_USAGE); \
        assert_non_null(strstr((o).err, (text)));     \
        assert_string_equal((o).out, "");             \
    } while (0)

static unsigned short closed_port(void);

/* Every case fails before anything is sent: HALE_URL points nowhere to prove it. */
static void test_cli_incidents_args_refused_before_sending(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
    setenv("HALE_URL", url, 1);
    const struct cli_command *inc = &cli_incidents;
    assert_usage(run_cmd(inc, "show", NULL), "missing the incident number N");
    assert_usage(run_cmd(inc, "ack", "forty-two", NULL), "'forty-two' is not an incident number");
    assert_usage(run_cmd(inc, "close", "0", NULL), "'0' is not an incident number");
    assert_usage(run_cmd(inc, "resolve", "-3", NULL), "unknown option '-3'");
    assert_usage(run_cmd(inc, "resolve", "42x", NULL), "'42x' is not an incident number");
    assert_usage(run_cmd(inc, "ack", "42", "--frobnicate", NULL), "unknown option '--frobnicate'");
    assert_usage(run_cmd(inc, "ack", "42", "--cause", "x", NULL), "unknown option '--cause'");
    assert_usage(run_cmd(inc, "list", "--limit", NULL), "option '--limit' needs a value");
    assert_usage(run_cmd(inc, "list", "--limit", "501", NULL), "--limit '501'");
    assert_usage(run_cmd(inc, "list", "--state", "new,fixed", NULL), "'fixed' is not a state");
    assert_usage(run_cmd(inc, "list", "--since", "yesterday", NULL), "--since 'yesterday'");
    assert_usage(run_cmd(inc, "list", "7", NULL), "unexpected argument '7'");
    assert_usage(run_cmd(inc, "assign", "42", NULL), "missing the TEAM or USER");
    assert_usage(run_cmd(inc, "assign", "42", "web", "ops", NULL), "unexpected argument 'ops'");
    assert_usage(run_cmd(inc, "assign", "42", "web", "--team", "--user", NULL), "not both");
    assert_usage(run_cmd(inc, "note", "42", NULL), "missing the TEXT of the note");
    assert_usage(run_cmd(inc, "note", "42", "bad\xff", NULL), "not valid UTF-8");
    assert_usage(run_cmd(inc, "fix", NULL), "'fix' is not an incidents command");
    assert_usage(run_cmd(inc, NULL), "say what to do");
    assert_usage(run_cmd(&cli_problems, "show", NULL), "missing the problem number N");
    assert_usage(run_cmd(&cli_problems, "list", "-z", NULL), "unknown option '-z'");
    assert_usage(run_cmd(&cli_problems, "update", "3", NULL), "say what to change");
    assert_usage(run_cmd(&cli_problems, "update", "3", "--state", "fixed", NULL),
                 "'fixed' is not open, known_error or resolved");
    assert_usage(run_cmd(&cli_problems, "update", "3", "--note", "", NULL), "--note is empty");
    assert_usage(run_cmd(&cli_problems, "list", "--state", "open", NULL),
                 "unknown option '--state'");
    assert_usage(run_cmd(&cli_problems, "fix", NULL), "'fix' is not a problems command");
    assert_usage(run_cmd(inc, "open", NULL), "--title is required");
    assert_usage(run_cmd(inc, "open", "--title", "x", "--impact", "huge", NULL),
                 "'huge' is not high, medium or low");
    assert_usage(run_cmd(inc, "open", "--title", "x", "--severity", "major", NULL),
                 "'major' is not critical, warning or info");
    assert_usage(run_cmd(inc, "open", "--title", "x", "--category", "billing", NULL),
                 "'billing' is not network");
    assert_usage(run_cmd(inc, "open", "--title", "x", "--label", "service", NULL),
                 "--label 'service' is not NAME=VALUE");
    assert_usage(run_cmd(inc, "open", "--title", "x", "--label", "a-b=c", NULL), "--label 'a-b=c'");
    assert_usage(run_cmd(inc, "open", "--title", "bad\xff", NULL), "not valid UTF-8");
    assert_usage(run_cmd(inc, "open", "--title", "x", "42", NULL), "unexpected argument '42'");
    assert_usage(run_cmd(&cli_audit, "--since", "last week", NULL), "--since 'last week'");
    assert_usage(run_cmd(&cli_audit, "--limit", "0", NULL), "--limit '0'");
    assert_usage(run_cmd(&cli_audit, "everything", NULL), "unexpected argument 'everything'");
    assert_usage(run_cmd(&cli_report, "incident", "abc", NULL), "'abc' is not an incident number");
    assert_usage(run_cmd(&cli_report, "incident", "4", "--since", "7d", NULL),
                 "unknown option '--since'");
    assert_usage(run_cmd(&cli_report, "summary", "--format", "pdf", NULL), "--format 'pdf'");
    assert_usage(run_cmd(&cli_report, "summary", "--since", "7 days", NULL), "--since '7 days'");
    const struct cli_command *sil = &cli_silence;
    assert_usage(run_cmd(sil, NULL), "say what to do: add, list, show or expire");
    assert_usage(run_cmd(sil, "mute", NULL), "'mute' is not a silence command");
    assert_usage(run_cmd(sil, "add", NULL), "missing MATCHERS");
    assert_usage(run_cmd(sil, "add", "{service=\"web\"}", NULL), "say how long");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--for", "2h", "--until", "2027-01-01T00:00:00Z",
                         NULL),
                 "give one");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--for", "-2h", NULL), "--for '-2h'");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--for", "0s", NULL), "longer than 0");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--until", "tomorrow", NULL),
                 "--until 'tomorrow' is not an RFC 3339 time");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--for", "1h", "--from", "now", NULL),
                 "--from 'now'");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--until-resolved", "x", NULL),
                 "--until-resolved 'x' is not an incident number");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--for", "1h", "--comment", "", NULL),
                 "--comment is empty");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "x", "--for", "1h", NULL),
                 "unexpected argument 'x'");
    assert_usage(run_cmd(sil, "add", "{a=\"b\"}", "--for", "1h", "--comment", "bad\xff", NULL),
                 "--comment is not valid UTF-8");
    assert_usage(run_cmd(sil, "list", "--state", "over", NULL), "'over' is not active");
    assert_usage(run_cmd(sil, "list", "--for", "1h", NULL), "unknown option '--for'");
    assert_usage(run_cmd(sil, "list", "-1", NULL), "unknown option '-1'");
    assert_usage(run_cmd(sil, "show", NULL), "missing the silence number N");
    assert_usage(run_cmd(sil, "show", "abc", NULL), "'abc' is not a silence number");
    assert_usage(run_cmd(sil, "show", "0", NULL), "'0' is not a silence number");
    assert_usage(run_cmd(sil, "show", "-1", "-2", NULL), "unexpected argument '-2'");
    assert_usage(run_cmd(sil, "expire", "1", "2", NULL), "unexpected argument '2'");
    assert_usage(run_cmd(sil, "expire", "-1", "2", NULL), "unexpected argument '2'");
    assert_usage(run_cmd(sil, "expire", "1", "--all", NULL), "unknown option '--all'");
    struct output o = run_cmd(inc, "ack", "42", "--bogus", NULL);
    assert_non_null(strstr(o.err, "Try 'hale incidents ack --help'"));
    unsetenv("HALE_URL");
}

static void test_cli_incidents_every_subcommand_has_help(void **state)
{
    (void)state;
    static char *const subs[] = {"list", "show",    "open",  "ack",  "assign",
                                 "note", "resolve", "close", "watch"};
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        struct output o = run_cmd(&cli_incidents, subs[i], "--help", NULL);
        assert_int_equal(o.status, CLI_EXIT_OK);
        char want[64];
        snprintf(want, sizeof(want), "Usage: hale incidents %s", subs[i]);
        assert_memory_equal(o.out, want, strlen(want));
    }
    struct output o = run_cmd(&cli_incidents, "--help", NULL);
    assert_memory_equal(o.out, "Usage: hale incidents list", 26);
    o = run_cmd(&cli_problems, "--help", NULL);
    assert_memory_equal(o.out, "Usage: hale problems list", 25);
    assert_non_null(strstr(o.out, "hale problems update N"));
    o = run_cmd(&cli_problems, "update", "--help", NULL);
    assert_memory_equal(o.out, "Usage: hale problems update N", 29);
    o = run_cmd(&cli_audit, "--help", NULL);
    assert_memory_equal(o.out, "Usage: hale audit", 17);
    o = run_cmd(&cli_report, "summary", "--help", NULL);
    assert_memory_equal(o.out, "Usage: hale report summary", 26);
    static char *const silence_subs[] = {"add", "list", "show", "expire"};
    for (size_t i = 0; i < sizeof(silence_subs) / sizeof(silence_subs[0]); i++) {
        o = run_cmd(&cli_silence, silence_subs[i], "--help", NULL);
        assert_int_equal(o.status, CLI_EXIT_OK);
        char want[64];
        snprintf(want, sizeof(want), "Usage: hale silence %s", silence_subs[i]);
        assert_memory_equal(o.out, want, strlen(want));
    }
    o = run_cmd(&cli_silence, "--help", NULL);
    assert_memory_equal(o.out, "Usage: hale silence add", 23);
    assert_non_null(strstr(o.out, "hale silence expire N"));
}

/* A port nothing listens on: bound, then closed. */
static unsigned short closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_cli_incidents_unreachable_says_what_to_do(void **state)
{
    (void)state;
    char url[64], want[160];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", closed_port());
    struct output o = run_cmd(&cli_incidents, "list", "--url", url, NULL);
    assert_int_equal(o.status, CLI_EXIT_FAILURE);
    snprintf(want, sizeof(want),
             "hale incidents list: cannot reach hale at %s: is 'hale serve' running? (set "
             "HALE_URL or --url)\n",
             url);
    assert_string_equal(o.err, want);
    assert_string_equal(o.out, "");

    setenv("HALE_URL", url, 1);
    o = run_cmd(&cli_report, "summary", NULL);
    assert_int_equal(o.status, CLI_EXIT_FAILURE);
    assert_non_null(strstr(o.err, "cannot reach hale at"));
    unsetenv("HALE_URL");

    o = run_cmd(&cli_problems, "list", "--url", "gopher://127.0.0.1:1", NULL);
    assert_int_equal(o.status, CLI_EXIT_FAILURE);
    assert_non_null(strstr(o.err, "is not an http:// or https:// URL"));
}

static int setup(void **state)
{
    (void)state;
    /* The environment the tests run in must not choose for them. */
    unsetenv("HALE_URL");
    unsetenv("HALE_TOKEN");
    unsetenv("NO_COLOR");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_cli_incidents_table_aligns_columns),
            cmocka_unit_test(test_cli_incidents_table_colours_only_when_asked),
            cmocka_unit_test(test_cli_incidents_colour_and_width_follow_the_terminal),
            cmocka_unit_test(test_cli_incidents_title_cut_at_width),
            cmocka_unit_test(test_cli_incidents_table_hides_control_characters),
            cmocka_unit_test(test_cli_incidents_age_format),
            cmocka_unit_test(test_cli_incidents_timeline_render),
            cmocka_unit_test(test_cli_incidents_notifications_table),
            cmocka_unit_test(test_cli_incidents_watch_line),
            cmocka_unit_test(test_cli_incidents_sse_reader),
            cmocka_unit_test(test_cli_incidents_fields),
            cmocka_unit_test(test_cli_incidents_problems_table),
            cmocka_unit_test(test_cli_incidents_silences_table),
            cmocka_unit_test(test_cli_incidents_silence_when),
            cmocka_unit_test(test_cli_incidents_silence_fields),
            cmocka_unit_test(test_cli_incidents_audit_table),
            cmocka_unit_test(test_cli_incidents_url_escapes_query),
            cmocka_unit_test(test_cli_incidents_base_url),
            cmocka_unit_test(test_cli_incidents_answer_errors_say_what_to_do),
            cmocka_unit_test(test_cli_incidents_args_refused_before_sending),
            cmocka_unit_test(test_cli_incidents_every_subcommand_has_help),
            cmocka_unit_test(test_cli_incidents_unreachable_says_what_to_do),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
