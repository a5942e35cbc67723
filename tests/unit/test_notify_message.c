/* SPDX-License-Identifier: MIT */
/*
 * Tests of what notifications say (src/notify/message.c and its channels,
 * src/base/template.c, the `template:` key, src/series/graph.c): each
 * channel's payload, checked field by field against the shapes of the
 * upstream examples in ../shared/fixtures/ (PagerDuty Events API v2, Slack
 * incoming webhooks); the webhook's signature against a computation of
 * HMAC-SHA256 written here from its definition; the email's MIME parts,
 * decoded; templates' placeholders, known and unknown (with their line and
 * column); the check graph's SVG.
 */
#include <errno.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "base/hash.h"
#include "base/template.h"
#include "config/config.h"
#include "notify/content.h"
#include "notify/message.h"
#include "series/graph.h"
#include "series/series.h"
#include "testutil.h"

/* ---- a message of every part ---- */

struct sample {
    struct incident incident, other;
    const struct incident *grouped[2];
    struct message_step steps[2];
    const char *docs[1], *advice[1];
    struct message m;
};

static void sample_init(struct sample *s)
{
    memset(s, 0, sizeof(*s));
    s->incident = (struct incident){.id = 42,
                                    .title = (char *)"web-health failing <503> & slow",
                                    .priority = 2,
                                    .severity = INCIDENT_SEVERITY_CRITICAL,
                                    .state = INCIDENT_NEW,
                                    .team = (char *)"web",
                                    .check = (char *)"web-health",
                                    .service = (char *)"web",
                                    .runbook = (char *)"restart-web",
                                    .opened_ms = 1700000000000};
    labels_init(&s->incident.labels);
    labels_set(&s->incident.labels, "host", "web-01", NULL);
    s->other = (struct incident){.id = 43, .title = (char *)"db slow", .priority = 3};
    labels_init(&s->other.labels);
    s->steps[0] = (struct message_step){7, "restart-web", "restart", "failed", "exit 1, 120 ms"};
    s->steps[1] = (struct message_step){7, "restart-web", "verify", "skipped", NULL};
    s->docs[0] = "https://wiki.example/web";
    s->advice[0] = "check the upstream pool";
    s->m = (struct message){.reason = NOTIFY_ESCALATED,
                            .incident = &s->incident,
                            .text = "healing failed: restart exited 1",
                            .steps = s->steps,
                            .n_steps = 2,
                            .run_outcome = "failed",
                            .docs = s->docs,
                            .n_docs = 1,
                            .advice = s->advice,
                            .n_advice = 1,
                            .incident_url = "https://hale.example/incidents/42",
                            .graph_url = "https://hale.example/api/v1/checks/web-health/graph.svg",
                            .base_url = "https://hale.example",
                            .now_ms = 1700000060000};
}

static void sample_fini(struct sample *s)
{
    labels_fini(&s->incident.labels);
    labels_fini(&s->other.labels);
}

static struct config_notifier notifier(enum config_notifier_type type)
{
    static const char *to[] = {"ops@example.com", "web@example.com"};
    return (struct config_notifier){.name = "n",
                                    .type = type,
                                    .url = "http://127.0.0.1:1/hook",
                                    .routing_key = "e93facc04764012d7bfb002500d5d1a6",
                                    .from = "hale@example.com",
                                    .to = {to, 2}};
}

static json_t *render_json(const struct message *m, const struct config_notifier *nt,
                           struct message_payload *p)
{
    struct err e = {0};
    assert_int_equal(message_render(m, nt, p, &e), 0);
    assert_int_equal(strlen(p->body), p->len);
    json_error_t je;
    json_t *j = json_loadb(p->body, p->len, 0, &je);
    if (!j)
        fail_msg("not JSON: %s: %s", je.text, p->body);
    return j;
}

/* A fixture as JSON; .jsonc files lose their leading comment first. */
static json_t *fixture(const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", HALE_FIXTURES_DIR, name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[64 * 1024];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *text = buf;
    char *end = strstr(buf, "*/");
    if (strncmp(buf, "/*", 2) == 0 && end)
        text = end + 2;
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j)
        fail_msg("fixture %s: %s", name, je.text);
    return j;
}

/* Every key of got is a key of want, with a value of the same JSON type. */
static void assert_keys_within(json_t *got, json_t *want, const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach(got, key, v)
    {
        json_t *w = json_object_get(want, key);
        if (!w)
            fail_msg("%s: key \"%s\" is not in the upstream example", where, key);
        if (json_typeof(w) != json_typeof(v) && !(json_is_number(w) && json_is_number(v)))
            fail_msg("%s: \"%s\" has another JSON type than upstream's", where, key);
    }
}

/* ---- templates ---- */

static enum template_name vocabulary(const char *list, const char *name, void *data)
{
    (void)data;
    if (!list)
        return strcmp(name, "items") == 0                             ? TEMPLATE_LIST
               : strcmp(name, "a") == 0 || strcmp(name, "empty") == 0 ? TEMPLATE_SCALAR
                                                                      : TEMPLATE_UNKNOWN;
    return strcmp(list, "items") == 0 && strcmp(name, "x") == 0 ? TEMPLATE_SCALAR
                                                                : TEMPLATE_UNKNOWN;
}

static enum template_name values(const struct template_scope *scope, const char *name,
                                 struct strbuf *v, size_t *ret_count, void *data)
{
    (void)data;
    if (!scope->list && strcmp(name, "items") == 0) {
        *ret_count = 3;
        return TEMPLATE_LIST;
    }
    if (!scope->list && strcmp(name, "a") == 0)
        return strbuf_adds(v, "<A&>"), TEMPLATE_SCALAR;
    if (!scope->list && strcmp(name, "empty") == 0)
        return TEMPLATE_SCALAR;
    if (scope->list && strcmp(name, "x") == 0)
        return strbuf_addf(v, "%zu", scope->index), TEMPLATE_SCALAR;
    return TEMPLATE_UNKNOWN;
}

static int escape_lt(struct strbuf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        strbuf_adds(out, s[i] == '<' ? "&lt;" : (char[2]){s[i], 0});
    return 0;
}

static char *render_text(const char *text, template_escape_fn *escape)
{
    struct template *t;
    struct err e = {0};
    if (template_parse(text, strlen(text), vocabulary, NULL, &t, NULL, &e) < 0)
        fail_msg("%s: %s", text, e.msg);
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(template_render(t, values, escape, NULL, &b), 0);
    template_free(t);
    return strbuf_detach(&b, NULL);
}

static void test_template_renders_values_sections_and_lists(void **state)
{
    (void)state;
    char *s = render_text("a={{a}}, {{ a }}; {{#items}}[{{x}}{{a}}]{{/items}}"
                          "{{#empty}}never{{/empty}}{{^empty}}shown{{/empty}}"
                          "{{^items}}never{{/items}}{{! a comment }}.",
                          escape_lt);
    assert_string_equal(s, "a=&lt;A&>, &lt;A&>; [0&lt;A&>][1&lt;A&>][2&lt;A&>]shown.");
    free(s);
}

static void test_template_standalone_tags_take_their_line(void **state)
{
    (void)state;
    char *s = render_text("head\n  {{#items}}  \n- {{x}}\n{{/items}}\r\n{{! note }}\ntail\n", NULL);
    assert_string_equal(s, "head\n- 0\n- 1\n- 2\ntail\n");
    free(s);
    /* a tag sharing its line with text keeps the line */
    s = render_text("x {{#empty}}y{{/empty}} z\n", NULL);
    assert_string_equal(s, "x  z\n");
    free(s);
}

static void assert_parse_error(const char *text, unsigned line, unsigned col, const char *msg)
{
    struct template *t = NULL;
    struct template_pos pos = {0, 0};
    struct err e = {0};
    assert_true(template_parse(text, strlen(text), vocabulary, NULL, &t, &pos, &e) < 0);
    assert_null(t);
    if (!strstr(e.msg, msg))
        fail_msg("\"%s\": got \"%s\", want \"%s\"", text, e.msg, msg);
    assert_int_equal(pos.line, line);
    assert_int_equal(pos.col, col);
}

static void test_template_errors_say_what_and_where(void **state)
{
    (void)state;
    assert_parse_error("ok {{a}}\nthen {{nope}}", 2, 6, "unknown placeholder {{nope}}");
    assert_parse_error("é {{x}}", 1, 3, "unknown placeholder {{x}}"); /* x only in items */
    assert_parse_error("{{items}}", 1, 1, "{{items}} is a list");
    assert_parse_error("\n {{#items}}\n", 2, 2, "{{#items}} is never closed");
    assert_parse_error("{{#items}}{{/a}}", 1, 11, "{{/a}} closes {{#items}} opened at 1:1");
    assert_parse_error("{{/a}}", 1, 1, "closes no section");
    assert_parse_error("a {{ a", 1, 3, "not closed by }}");
    assert_parse_error("{{a b}}", 1, 1, "expected a placeholder name");
    assert_parse_error("{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}{{#a}}", 1, 49,
                       "nest deeper");
}

static void test_message_template_check_uses_the_placeholders(void **state)
{
    (void)state;
    struct err e = {0};
    assert_int_equal(message_template_check("{{title}} {{labels.host}} {{#steps}}{{step}} "
                                            "{{outcome}}{{/steps}}{{#grouped}}{{incident_url}}"
                                            "{{/grouped}}",
                                            &e),
                     0);
    assert_int_equal(message_template_check("{{title}}\n{{#docs}}{{url}}{{/docs}} {{outcome}}", &e),
                     -EINVAL);
    assert_string_equal(e.msg, "line 2, column 27: unknown placeholder {{outcome}}");
    assert_int_equal(message_template_check("{{labels.bad-name}}", &e), -EINVAL);
    /* every default is valid, and every name the vocabulary knows has a value */
    enum config_notifier_type types[] = {CONFIG_NOTIFIER_WEBHOOK, CONFIG_NOTIFIER_SLACK,
                                         CONFIG_NOTIFIER_PAGERDUTY, CONFIG_NOTIFIER_EMAIL,
                                         CONFIG_NOTIFIER_EXEC};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        assert_int_equal(message_template_check(message_template_default(types[i]), &e), 0);
}

/* ---- the template key ---- */

static char tmpdir[256];

static void write_file(const char *name, const char *text)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static struct config *load(const char *yaml, struct config_diags *d)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/hale.yaml", tmpdir);
    write_file("hale.yaml", yaml);
    struct config *c = NULL;
    config_load(path, &c, d);
    return c;
}

static void test_config_template_key(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/wt-channels-tmp/cfg.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    write_file("good.txt", "{{title}} {{#steps}}{{step}}{{/steps}}\n");
    write_file("bad.txt", "{{title}}\n  {{#steps}}{{titel}}{{/steps}}\n");
    struct config_diags d = {0};
    struct config *c = load("notifiers:\n"
                            "  - {name: hook, type: webhook, url: 'http://127.0.0.1:9/x',"
                            " template: good.txt}\n",
                            &d);
    assert_int_equal(d.n, 0);
    assert_non_null(c);
    const struct config_notifier *n = config_notifier_find(c, "hook");
    assert_non_null(n->template);
    assert_non_null(strstr(n->template_path, "/good.txt"));
    config_unref(c);
    config_diags_fini(&d);

    c = load("notifiers:\n"
             "  - {name: hook, type: webhook, url: 'http://127.0.0.1:9/x', template: bad.txt}\n"
             "  - {name: gone, type: webhook, url: 'http://127.0.0.1:9/x', template: none.txt}\n",
             &d);
    assert_null(c);
    assert_int_equal(d.n, 2);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof(want), "%s/bad.txt", tmpdir);
    assert_string_equal(d.v[0].file, want);
    assert_int_equal(d.v[0].line, 2);
    assert_int_equal(d.v[0].col, 13);
    assert_string_equal(d.v[0].msg, "unknown placeholder {{titel}} (in notifier \"hook\")");
    assert_int_equal(d.v[1].line, 3);
    assert_non_null(strstr(d.v[1].msg, "cannot read template"));
    config_diags_fini(&d);
    testutil_rm_rf(tmpdir);
}

/* ---- webhook and exec ---- */

/* HMAC-SHA256 from RFC 2104's definition, over OpenSSL's bare SHA-256. */
static void hmac_by_hand(const char *key, const void *data, size_t len, char out[65])
{
    unsigned char k[64] = {0}, ipad[64], opad[64], inner[32], outer[32];
    size_t klen = strlen(key);
    if (klen > 64)
        SHA256((const unsigned char *)key, klen, k);
    else
        memcpy(k, key, klen);
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    unsigned char *in = malloc(64 + len);
    memcpy(in, ipad, 64);
    memcpy(in + 64, data, len);
    SHA256(in, 64 + len, inner);
    free(in);
    unsigned char o[64 + 32];
    memcpy(o, opad, 64);
    memcpy(o + 64, inner, 32);
    SHA256(o, sizeof(o), outer);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", outer[i]);
}

static void test_hmac_matches_rfc4231(void **state)
{
    (void)state;
    char out[65];
    /* RFC 4231, test case 2 */
    hash_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
    assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    char key[200];
    memset(key, 'k', sizeof(key) - 1);
    key[sizeof(key) - 1] = '\0';
    char mine[65];
    hash_hmac_sha256_hex(key, strlen(key), "body", 4, out);
    hmac_by_hand(key, "body", 4, mine);
    assert_string_equal(out, mine);
}

static void test_webhook_payload_and_signature(void **state)
{
    (void)state;
    struct sample s;
    sample_init(&s);
    const struct incident *grouped[] = {&s.incident, &s.other};
    s.m.grouped = grouped;
    s.m.n_grouped = 2;
    struct config_notifier nt = notifier(CONFIG_NOTIFIER_WEBHOOK);
    struct message_payload p;
    json_t *j = render_json(&s.m, &nt, &p);
    assert_null(p.headers[0]); /* no secret: not signed */
    assert_string_equal(p.content_type, "application/json");
    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "escalated");
    assert_string_equal(json_string_value(json_object_get(j, "summary")), s.m.text);
    json_t *inc = json_object_get(j, "incident");
    assert_int_equal(json_integer_value(json_object_get(inc, "id")), 42);
    assert_int_equal(json_integer_value(json_object_get(inc, "priority")), 2);
    assert_string_equal(json_string_value(json_object_get(inc, "state")), "new");
    assert_string_equal(json_string_value(json_object_get(inc, "service")), "web");
    assert_string_equal(json_string_value(json_object_get(inc, "url")), s.m.incident_url);
    assert_string_equal(json_string_value(json_object_get(json_object_get(inc, "labels"), "host")),
                        "web-01");
    json_t *steps = json_object_get(j, "steps");
    assert_int_equal(json_array_size(steps), 2);
    json_t *st = json_array_get(steps, 0);
    assert_string_equal(json_string_value(json_object_get(st, "step")), "restart");
    assert_string_equal(json_string_value(json_object_get(st, "outcome")), "failed");
    assert_string_equal(json_string_value(json_object_get(st, "detail")), "exit 1, 120 ms");
    assert_true(json_is_null(json_object_get(json_array_get(steps, 1), "detail")));
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "docs"), 0)),
                        "https://wiki.example/web");
    assert_string_equal(json_string_value(json_array_get(json_object_get(j, "advice"), 0)),
                        "check the upstream pool");
    assert_string_equal(json_string_value(json_object_get(j, "graph_url")), s.m.graph_url);
    json_t *g = json_object_get(j, "grouped");
    assert_int_equal(json_array_size(g), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(g, 1), "url")),
                        "https://hale.example/#/incidents/43");
    assert_string_equal(json_string_value(json_object_get(j, "sent")), "2023-11-14T22:14:20.000Z");
    /* the default text tells the story */
    const char *text = json_string_value(json_object_get(j, "text"));
    assert_non_null(strstr(text, "[P2] web-health failing <503> & slow\n"));
    assert_non_null(strstr(text, "- restart-web / restart: failed (exit 1, 120 ms)\n"));
    assert_non_null(strstr(text, "- restart-web / verify: skipped\n"));
    assert_non_null(strstr(text, "Advice: check the upstream pool\n"));
    assert_non_null(strstr(text, "Docs: https://wiki.example/web\n"));
    assert_non_null(strstr(text, "2 incidents within a minute:\n- #42 P2"));
    assert_non_null(strstr(text, "- #43 P3 db slow (new) https://hale.example/#/incidents/43\n"));
    assert_non_null(strstr(text, "Incident: https://hale.example/incidents/42\n"));
    assert_non_null(strstr(text, "Graph of check web-health: https://hale.example/api/v1/"));
    json_decref(j);
    message_payload_fini(&p);

    /* signed: the header is the HMAC of the exact body */
    nt.secret = "s3cret";
    j = render_json(&s.m, &nt, &p);
    char want[65], header[128];
    hmac_by_hand("s3cret", p.body, p.len, want);
    snprintf(header, sizeof(header), "X-Hale-Signature: sha256=%s", want);
    assert_string_equal(p.headers[0], header);
    assert_null(p.headers[1]);
    json_decref(j);
    message_payload_fini(&p);
    sample_fini(&s);
}

static void test_exec_payload_is_one_json_line(void **state)
{
    (void)state;
    struct sample s;
    sample_init(&s);
    s.m.reason = NOTIFY_USERS;
    s.m.text = "The web shop is slow; we are on it.";
    struct config_notifier nt = notifier(CONFIG_NOTIFIER_EXEC);
    struct message_payload p;
    struct err e = {0};
    assert_int_equal(message_render(&s.m, &nt, &p, &e), 0);
    assert_null(p.content_type);
    assert_int_equal(p.body[p.len - 1], '\n');
    assert_null(memchr(p.body, '\n', p.len - 1));
    json_t *j = json_loadb(p.body, p.len, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "reason")), "users");
    /* to end users, the default says the words, not the internals */
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "The web shop is slow; we are on it.\n");
    json_decref(j);
    message_payload_fini(&p);
    sample_fini(&s);
}

/* ---- slack ---- */

static void assert_slack_text_object(json_t *o, json_t *want, const char *where)
{
    assert_keys_within(o, want, where);
    assert_string_equal(json_string_value(json_object_get(o, "type")), "mrkdwn");
    assert_true(json_is_string(json_object_get(o, "text")));
}

static void test_slack_payload_has_the_upstream_shape(void **state)
{
    (void)state;
    struct sample s;
    sample_init(&s);
    struct config_notifier nt = notifier(CONFIG_NOTIFIER_SLACK);
    struct message_payload p;
    json_t *j = render_json(&s.m, &nt, &p);
    json_t *up = fixture("slack-webhook-blocks.json"),
           *mm = fixture("mattermost-webhook-full.json");
    assert_keys_within(j, up, "slack body");
    /* Mattermost's compatible webhook reads text */
    assert_true(json_is_string(json_object_get(mm, "text")));
    const char *text = json_string_value(json_object_get(j, "text"));
    assert_non_null(text);
    /* values escaped as Slack asks; the template's own link syntax kept */
    assert_non_null(strstr(text,
                           "<https://hale.example/incidents/42|web-health failing &lt;503&gt; "
                           "&amp; slow>"));
    assert_non_null(strstr(text, "• restart-web / restart: *failed* (exit 1, 120 ms)"));
    assert_non_null(strstr(text, "<https://wiki.example/web|Docs>"));
    json_t *blocks = json_object_get(j, "blocks");
    json_t *up_blocks = json_object_get(up, "blocks");
    json_t *up_text_section = json_array_get(up_blocks, 0);
    json_t *up_fields_section = json_array_get(up_blocks, 2);
    assert_int_equal(json_array_size(blocks), 2);
    json_t *b0 = json_array_get(blocks, 0), *b1 = json_array_get(blocks, 1);
    assert_keys_within(b0, json_array_get(up_blocks, 1), "section");
    assert_string_equal(json_string_value(json_object_get(b0, "type")), "section");
    assert_slack_text_object(json_object_get(b0, "text"), json_object_get(up_text_section, "text"),
                             "section text");
    assert_keys_within(b1, up_fields_section, "fields section");
    json_t *fields = json_object_get(b1, "fields");
    assert_true(json_array_size(fields) >= 4 && json_array_size(fields) <= 10);
    for (size_t i = 0; i < json_array_size(fields); i++)
        assert_slack_text_object(json_array_get(fields, i),
                                 json_array_get(json_object_get(up_fields_section, "fields"), 0),
                                 "field");
    assert_string_equal(json_string_value(json_object_get(json_array_get(fields, 0), "text")),
                        "*Priority*\nP2");
    json_decref(up);
    json_decref(mm);
    json_decref(j);
    message_payload_fini(&p);
    sample_fini(&s);
}

/* ---- pagerduty ---- */

static void test_pagerduty_trigger_has_the_upstream_shape(void **state)
{
    (void)state;
    struct sample s;
    sample_init(&s);
    struct config_notifier nt = notifier(CONFIG_NOTIFIER_PAGERDUTY);
    struct message_payload p;
    json_t *j = render_json(&s.m, &nt, &p);
    json_t *up = fixture("pagerduty-events-v2-trigger-openapi-example.json");
    json_t *docs = fixture("pagerduty-events-v2-trigger-docs.jsonc");
    assert_keys_within(j, up, "trigger");
    assert_keys_within(j, docs, "trigger (docs)");
    json_t *payload = json_object_get(j, "payload");
    assert_keys_within(payload, json_object_get(up, "payload"), "payload");
    /* every key upstream's example has, ours has too */
    const char *key;
    json_t *v;
    json_object_foreach(up, key, v)
    {
        if (!json_object_get(j, key))
            fail_msg("trigger lacks \"%s\"", key);
    }
    json_object_foreach(json_object_get(up, "payload"), key, v)
    {
        if (!json_object_get(payload, key))
            fail_msg("payload lacks \"%s\"", key);
    }
    assert_string_equal(json_string_value(json_object_get(j, "event_action")), "trigger");
    assert_string_equal(json_string_value(json_object_get(j, "dedup_key")), "42");
    assert_string_equal(json_string_value(json_object_get(j, "routing_key")), nt.routing_key);
    assert_string_equal(json_string_value(json_object_get(payload, "summary")),
                        "[P2] web-health failing <503> & slow (web): healing failed: restart "
                        "exited 1");
    assert_string_equal(json_string_value(json_object_get(payload, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(payload, "source")), "web");
    assert_string_equal(json_string_value(json_object_get(payload, "component")), "web-health");
    assert_string_equal(json_string_value(json_object_get(payload, "timestamp")),
                        "2023-11-14T22:13:20.000Z");
    json_t *details = json_object_get(payload, "custom_details");
    assert_string_equal(json_string_value(json_array_get(json_object_get(details, "tried"), 0)),
                        "restart-web / restart: failed (exit 1, 120 ms)");
    json_t *links = json_object_get(j, "links");
    assert_int_equal(json_array_size(links), 2);
    for (size_t i = 0; i < json_array_size(links); i++)
        assert_keys_within(json_array_get(links, i),
                           json_array_get(json_object_get(up, "links"), 0), "link");
    assert_string_equal(json_string_value(json_object_get(json_array_get(links, 0), "href")),
                        s.m.incident_url);
    json_t *img = json_array_get(json_object_get(j, "images"), 0);
    assert_keys_within(img, json_array_get(json_object_get(up, "images"), 0), "image");
    assert_string_equal(json_string_value(json_object_get(img, "src")), s.m.graph_url);
    json_decref(up);
    json_decref(docs);
    json_decref(j);
    message_payload_fini(&p);

    /* a summary is one line of at most 1024 bytes */
    char title[3000];
    memset(title, 'x', sizeof(title) - 1);
    title[sizeof(title) - 1] = '\0';
    s.incident.title = title;
    j = render_json(&s.m, &nt, &p);
    const char *summary =
            json_string_value(json_object_get(json_object_get(j, "payload"), "summary"));
    assert_true(strlen(summary) <= 1024);
    assert_null(strchr(summary, '\n'));
    json_decref(j);
    message_payload_fini(&p);
    sample_fini(&s);
}

static void assert_same_keys_and_values(json_t *got, json_t *want)
{
    assert_int_equal(json_object_size(got), json_object_size(want));
    const char *key;
    json_t *v;
    json_object_foreach(want, key, v)
    {
        assert_non_null(json_object_get(got, key));
    }
    assert_string_equal(json_string_value(json_object_get(got, "event_action")),
                        json_string_value(json_object_get(want, "event_action")));
}

static void test_pagerduty_acknowledge_and_resolve_follow_the_incident(void **state)
{
    (void)state;
    struct sample s;
    sample_init(&s);
    struct config_notifier nt = notifier(CONFIG_NOTIFIER_PAGERDUTY);
    struct message_payload p;
    s.incident.state = INCIDENT_ACKNOWLEDGED;
    json_t *j = render_json(&s.m, &nt, &p);
    json_t *up = fixture("pagerduty-events-v2-acknowledge.json");
    assert_same_keys_and_values(j, up);
    assert_string_equal(json_string_value(json_object_get(j, "dedup_key")), "42");
    json_decref(up);
    json_decref(j);
    message_payload_fini(&p);

    s.m.reason = NOTIFY_RESOLVED;
    j = render_json(&s.m, &nt, &p);
    up = fixture("pagerduty-events-v2-resolve.json");
    assert_same_keys_and_values(j, up);
    assert_string_equal(json_string_value(json_object_get(j, "dedup_key")), "42");
    json_decref(up);
    json_decref(j);
    message_payload_fini(&p);
    sample_fini(&s);
}

/* ---- email ---- */

/* The decoded body of the MIME part of content type ct, or fails. */
static char *mime_part(const char *mail, const char *boundary, const char *ct)
{
    char delim[128], want[128];
    snprintf(delim, sizeof(delim), "--%s\r\n", boundary);
    snprintf(want, sizeof(want), "Content-Type: %s; charset=utf-8\r\n", ct);
    for (const char *p = strstr(mail, delim); p; p = strstr(p + 1, delim)) {
        const char *head = p + strlen(delim);
        const char *body = strstr(head, "\r\n\r\n");
        assert_non_null(body);
        if (strncmp(head, want, strlen(want)) != 0)
            continue;
        assert_non_null(strstr(head, "Content-Transfer-Encoding: base64\r\n"));
        body += 4;
        const char *end = strstr(body, "\r\n--");
        assert_non_null(end);
        struct strbuf b64;
        strbuf_init(&b64, 0);
        for (const char *q = body; q < end; q++) {
            if (*q != '\r' && *q != '\n')
                strbuf_addc(&b64, *q);
            else
                assert_true(q == body || q[-1] != '\n'); /* lines, none empty */
        }
        char *out = calloc(1, b64.len + 1);
        int n = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)b64.s, (int)b64.len);
        assert_true(n >= 0);
        while (b64.len && b64.s[--b64.len] == '=') /* padding decodes to NULs */
            ;
        strbuf_fini(&b64);
        return out;
    }
    fail_msg("no %s part", ct);
    return NULL;
}

static void test_email_has_headers_and_both_parts(void **state)
{
    (void)state;
    struct sample s;
    sample_init(&s);
    struct config_notifier nt = notifier(CONFIG_NOTIFIER_EMAIL);
    struct message_payload p;
    struct err e = {0};
    assert_int_equal(message_render(&s.m, &nt, &p, &e), 0);
    assert_null(p.content_type);
    assert_string_equal(p.subject,
                        "[hale] P2 escalated: web-health failing <503> & slow (incident #42)");
    const char *mail = p.body;
    assert_non_null(strstr(mail, "From: hale@example.com\r\n"));
    assert_non_null(strstr(mail, "To: ops@example.com, web@example.com\r\n"));
    assert_non_null(strstr(mail, "Subject: [hale] P2 escalated: web-health failing <503> & slow "
                                 "(incident #42)\r\n"));
    assert_non_null(strstr(mail, "Date: Tue, 14 Nov 2023 22:14:20 +0000\r\n"));
    assert_non_null(strstr(mail, "References: <hale.incident.42@example.com>\r\n"));
    assert_non_null(strstr(mail, "MIME-Version: 1.0\r\n"));
    const char *b = strstr(mail, "boundary=\"");
    assert_non_null(b);
    b += strlen("boundary=\"");
    char boundary[80];
    snprintf(boundary, sizeof(boundary), "%.*s", (int)strcspn(b, "\""), b);
    /* the headers end before the first part, and the last boundary closes the mail */
    assert_true(strstr(mail, "\r\n\r\n") < strstr(mail, "\r\n--"));
    char closing[100];
    snprintf(closing, sizeof(closing), "--%s--\r\n", boundary);
    assert_non_null(strstr(mail, closing));
    char *text = mime_part(mail, boundary, "text/plain");
    assert_int_equal(strncmp(text, "healing failed: restart exited 1\n", 33), 0);
    assert_non_null(strstr(text, "- restart-web / restart: failed (exit 1, 120 ms)\n"));
    char *html = mime_part(mail, boundary, "text/html");
    assert_non_null(strstr(html, "<h3>[hale] P2 escalated: web-health failing &lt;503&gt; &amp; "
                                 "slow (incident #42)</h3>"));
    assert_non_null(strstr(html, "<a href=\"https://hale.example/incidents/42\">"));
    assert_null(strstr(html, "<503>"));
    free(text);
    free(html);
    message_payload_fini(&p);

    /* a subject that is not plain ASCII is encoded, never split inside a character */
    s.incident.title = (char *)"disque plein à 99 % sur le serveur de base de données principal";
    assert_int_equal(message_render(&s.m, &nt, &p, &e), 0);
    assert_non_null(strstr(p.body, "Subject: =?UTF-8?B?"));
    assert_non_null(strstr(p.body, "?=\r\n =?UTF-8?B?"));
    message_payload_fini(&p);
    sample_fini(&s);
}

/* ---- message_build and links ---- */

static void test_links(void **state)
{
    (void)state;
    char *u = message_graph_url("http://h:8080/", "web health/é");
    assert_string_equal(u, "http://h:8080/api/v1/checks/web%20health%2F%C3%A9/graph.svg");
    free(u);
    u = message_incident_url("https://hale.example//", 7);
    assert_string_equal(u, "https://hale.example/#/incidents/7");
    free(u);
}

/* ---- the graph ---- */

/* How many times needle occurs in s. */
static size_t count(const char *s, const char *needle)
{
    size_t n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Tags open and close in order, and every '&' starts an entity. */
static void assert_well_formed(const char *svg)
{
    const char *stack[64];
    size_t depth = 0;
    assert_int_equal(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), 0);
    for (const char *p = strchr(svg + 1, '<'); p; p = strchr(p + 1, '<')) {
        const char *end = strchr(p, '>');
        assert_non_null(end);
        if (p[1] == '/') {
            assert_true(depth > 0);
            size_t n = strcspn(stack[depth - 1], " />");
            assert_int_equal(strncmp(stack[--depth], p + 2, n), 0);
        } else if (end[-1] != '/') {
            assert_true(depth < 64);
            stack[depth++] = p + 1;
        }
    }
    assert_int_equal(depth, 0);
    for (const char *a = strchr(svg, '&'); a; a = strchr(a + 1, '&'))
        assert_true(strncmp(a, "&amp;", 5) == 0 || strncmp(a, "&lt;", 4) == 0 ||
                    strncmp(a, "&gt;", 4) == 0 || strncmp(a, "&quot;", 6) == 0);
}

static void test_graph_is_well_formed_and_scaled(void **state)
{
    (void)state;
    struct series_store *st =
            series_store_new(&(struct series_limits){.points = 16, .max_series = 8});
    struct series *time, *status;
    assert_int_equal(series_store_get(st, "sample", NULL, &time), 0);
    struct labels l;
    labels_init(&l);
    labels_set(&l, "x", "1", NULL);
    assert_int_equal(series_store_get(st, "status", &l, &status), 0);
    labels_fini(&l);
    for (uint64_t k = 0; k <= 10; k++) {
        series_append(st, time, 1000000 + k * 1000, (double)k * 10); /* 0 .. 100 */
        series_append(st, status, 1000000 + k * 1000, k < 8 ? 0 : 2);
    }
    struct series_graph_line lines[] = {{"status", "", status, true},
                                        {"time<&>", "s", time, false}};
    struct series_graph_options o = {.title = "web & <health>", .width = 600, .height = 240};
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(series_graph_svg(lines, 2, &o, &b), 0);
    assert_well_formed(b.s);
    assert_non_null(strstr(b.s, "<title>web &amp; &lt;health&gt;</title>"));
    assert_non_null(strstr(b.s, "width=\"600\" height=\"240\""));
    assert_non_null(strstr(b.s, ">time&lt;&amp;&gt; (s)</text>"));
    /* the line spans the plot: the first point at the left edge and the bottom (0), the last at
     * the right edge and near the top (100, the axis going 5% higher) */
    const char *pts = strstr(b.s, "points=\"");
    assert_non_null(pts);
    double x0, y0;
    assert_int_equal(sscanf(pts + 8, "%lf,%lf", &x0, &y0), 2);
    assert_true(x0 == 64.0);
    assert_true(y0 == 240.0 - 44.0 - 8.0);
    const char *end = strchr(pts + 8, '"');
    const char *last = memrchr(pts, ' ', (size_t)(end - pts));
    double x1, y1;
    assert_int_equal(sscanf(last + 1, "%lf,%lf", &x1, &y1), 2);
    assert_true(x1 == 600.0 - 16.0);
    assert_true(y1 > 28.0 && y1 < 28.0 + 12.0);
    /* the strip: a band a point, green, then red from the 8th point */
    assert_int_equal(count(b.s, "fill=\"#2ca02c\""), 8);
    assert_int_equal(count(b.s, "fill=\"#d62728\""), 3);
    strbuf_fini(&b);

    /* no points at all: said in the image */
    struct series *empty;
    assert_int_equal(series_store_get(st, "empty", NULL, &empty), 0);
    struct series_graph_line none[] = {{"time", "s", empty, false}};
    strbuf_init(&b, 0);
    assert_int_equal(series_graph_svg(none, 1, NULL, &b), 0);
    assert_well_formed(b.s);
    assert_non_null(strstr(b.s, "no data yet"));
    assert_null(strstr(b.s, "<polyline"));
    strbuf_fini(&b);
    strbuf_init(&b, 0);
    assert_int_equal(series_graph_svg(NULL, 0, NULL, &b), 0);
    assert_well_formed(b.s);
    strbuf_fini(&b);

    /* one point, a flat line, and a gap (NaN) still draw inside the plot */
    struct series *flat;
    assert_int_equal(series_store_get(st, "flat", NULL, &flat), 0);
    series_append(st, flat, 5000, 3);
    series_append(st, flat, 6000, 0.0 / 0.0);
    series_append(st, flat, 7000, 3);
    struct series_graph_line one[] = {{"flat", NULL, flat, false}};
    strbuf_init(&b, 0);
    assert_int_equal(series_graph_svg(one, 1, NULL, &b), 0);
    assert_well_formed(b.s);
    assert_null(strstr(b.s, "nan"));
    assert_int_equal(strstr(strstr(b.s, "<polyline") + 1, "<polyline") != NULL, 1);
    strbuf_fini(&b);
    series_store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_template_renders_values_sections_and_lists),
            cmocka_unit_test(test_template_standalone_tags_take_their_line),
            cmocka_unit_test(test_template_errors_say_what_and_where),
            cmocka_unit_test(test_message_template_check_uses_the_placeholders),
            cmocka_unit_test(test_config_template_key),
            cmocka_unit_test(test_hmac_matches_rfc4231),
            cmocka_unit_test(test_webhook_payload_and_signature),
            cmocka_unit_test(test_exec_payload_is_one_json_line),
            cmocka_unit_test(test_slack_payload_has_the_upstream_shape),
            cmocka_unit_test(test_pagerduty_trigger_has_the_upstream_shape),
            cmocka_unit_test(test_pagerduty_acknowledge_and_resolve_follow_the_incident),
            cmocka_unit_test(test_email_has_headers_and_both_parts),
            cmocka_unit_test(test_links),
            cmocka_unit_test(test_graph_is_well_formed_and_scaled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
