/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/codec/jsonscan.c, the strict JSON pull scanner: every kind
 * of token, string escapes and surrogate pairs, what RFC 8259 refuses
 * (bad UTF-8, control characters, numbers off the grammar, trailing
 * commas and garbage, names given twice, nesting past the limit), and the
 * line and column an error names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/err.h"
#include "base/strbuf.h"
#include "codec/jsonscan.h"

/*
 * Scans text whole, writing each token into out as a word ("{ name:a s:b
 * }"); returns 0 or the scanner's error, with s left for its fields.
 */
static int scan_len(struct codec_jsonscan *s, const char *text, size_t len, struct strbuf *out)
{
    codec_jsonscan_init(s, text, len);
    for (;;) {
        enum codec_jsonscan_token tok;
        int r = codec_jsonscan_next(s, &tok);
        if (r < 0)
            return r;
        switch (tok) {
        case CODEC_JSONSCAN_END:
            return 0;
        case CODEC_JSONSCAN_OBJECT:
            strbuf_adds(out, "{ ");
            break;
        case CODEC_JSONSCAN_OBJECT_END:
            strbuf_adds(out, "} ");
            break;
        case CODEC_JSONSCAN_ARRAY:
            strbuf_adds(out, "[ ");
            break;
        case CODEC_JSONSCAN_ARRAY_END:
            strbuf_adds(out, "] ");
            break;
        case CODEC_JSONSCAN_NAME:
            strbuf_addf(out, "name:%s ", s->str.s);
            break;
        case CODEC_JSONSCAN_STRING:
            strbuf_addf(out, "s:%s%s ", s->str.s, s->str_nul ? "(nul)" : "");
            break;
        case CODEC_JSONSCAN_NUMBER:
            strbuf_addf(out, "n:%s ", s->str.s);
            break;
        case CODEC_JSONSCAN_TRUE:
            strbuf_adds(out, "true ");
            break;
        case CODEC_JSONSCAN_FALSE:
            strbuf_adds(out, "false ");
            break;
        case CODEC_JSONSCAN_NULL:
            strbuf_adds(out, "null ");
            break;
        }
    }
}

/* text scans into the tokens want. */
static void scans(const char *text, const char *want)
{
    struct codec_jsonscan s;
    struct strbuf out;
    strbuf_init(&out, 0);
    int r = scan_len(&s, text, strlen(text), &out);
    if (r < 0)
        fail_msg("%s: refused at %u:%u: %s", text, s.error_line, s.error_column, s.error);
    if (strcmp(out.s, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", text, out.s, want);
    codec_jsonscan_fini(&s);
    strbuf_fini(&out);
}

/* text (len bytes) is refused at line:column (0: not checked), for a reason containing want. */
static void refused_len(const char *text, size_t len, unsigned line, unsigned column,
                        const char *want)
{
    struct codec_jsonscan s;
    struct strbuf out;
    strbuf_init(&out, 0);
    int r = scan_len(&s, text, len, &out);
    if (r != HALE_EPARSE)
        fail_msg("%s: taken as \"%s\"", text, out.s);
    assert_true(s.error_line >= 1 && s.error_column >= 1);
    if (line && (s.error_line != line || s.error_column != column))
        fail_msg("%s: refused at %u:%u, want %u:%u (%s)", text, s.error_line, s.error_column, line,
                 column, s.error);
    if (want && !strstr(s.error, want))
        fail_msg("%s: reason \"%s\" lacks \"%s\"", text, s.error, want);
    /* failed for good */
    enum codec_jsonscan_token tok;
    assert_int_equal(codec_jsonscan_next(&s, &tok), HALE_EPARSE);
    codec_jsonscan_fini(&s);
    strbuf_fini(&out);
}

static void refused(const char *text, unsigned line, unsigned column, const char *want)
{
    refused_len(text, strlen(text), line, column, want);
}

static void test_codec_jsonscan_tokens(void **state)
{
    (void)state;
    scans("{}", "{ } ");
    scans("[]", "[ ] ");
    scans(" \t\r\n{ \"a\" : [1, -2.5e+3, true, false, null, \"x\"] , \"b\":{}}\n",
          "{ name:a [ n:1 n:-2.5e+3 true false null s:x ] name:b { } } ");
    scans("\"top\"", "s:top ");
    scans("0", "n:0 ");
    scans("-0.0E-0", "n:-0.0E-0 ");
    scans("[[[]],{}]", "[ [ [ ] ] { } ] ");
    scans("9223372036854775807", "n:9223372036854775807 ");
    scans("-9223372036854775808", "n:-9223372036854775808 ");
    scans("1e308", "n:1e308 ");
}

static void test_codec_jsonscan_strings(void **state)
{
    (void)state;
    scans("\"\\\" \\\\ \\/ \\b\\f\\n\\r\\t\"", "s:\" \\ / \b\f\n\r\t ");
    scans("\"\\u0041\\u00e9\\u20AC\"", "s:A\xc3\xa9\xe2\x82\xac ");
    /* a surrogate pair is one code point: U+1F600 */
    scans("\"\\ud83d\\ude00\"", "s:\xf0\x9f\x98\x80 ");
    /* UTF-8 as it comes, DEL included */
    scans("\"h\xc3\xa9 \xf0\x9f\x98\x80 \x7f\"", "s:h\xc3\xa9 \xf0\x9f\x98\x80 \x7f ");
    /* a NUL in a value is the caller's to decide; names and values are decoded alike */
    scans("[\"a\\u0000b\"]", "[ s:a(nul) ] ");
    scans("{\"\\u0061\":1}", "{ name:a n:1 } ");

    struct codec_jsonscan s;
    codec_jsonscan_init(&s, "\"a\\u0000b\"", 10);
    enum codec_jsonscan_token tok;
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_STRING);
    assert_int_equal(s.str.len, 3);
    assert_memory_equal(s.str.s, "a\0b", 3);
    assert_true(s.str_nul);
    codec_jsonscan_fini(&s);
}

static void test_codec_jsonscan_refuses_bad_strings(void **state)
{
    (void)state;
    refused("\"abc", 1, 1, "not closed");
    refused("\"a\nb\"", 1, 3, "control character 0x0a");
    refused("\"a\tb\"", 1, 3, "control character");
    refused("\"\\x\"", 1, 2, "invalid escape");
    refused("\"\\u12\"", 1, 2, "four hex digits");
    refused("\"\\u12G4\"", 1, 2, "four hex digits");
    refused("\"\\ud83d\"", 1, 2, "first half of a surrogate pair");
    refused("\"\\ud83d\\u0041\"", 1, 2, "first half");
    refused("\"\\ude00\"", 1, 2, "second half");
    refused("{\"a\\u0000\":1}", 1, 4, "not allowed in a member name");
    /* UTF-8: a lone continuation byte, an overlong form, a surrogate, a cut sequence */
    refused("\"\x80\"", 1, 2, "not valid UTF-8");
    refused("\"\xc0\xaf\"", 1, 2, "UTF-8");
    refused("\"\xed\xa0\x80\"", 1, 2, "UTF-8");
    refused("\"\xe2\x82\"", 1, 2, "UTF-8");
    refused("\"\xf4\x90\x80\x80\"", 1, 2, "UTF-8");
}

static void test_codec_jsonscan_refuses_bad_numbers(void **state)
{
    (void)state;
    refused("01", 1, 1, "cannot start with 0");
    refused("-", 1, 1, "digit must follow '-'");
    refused("1.", 1, 1, "digit must follow '.'");
    refused(".5", 1, 1, "a value is expected");
    refused("1e", 1, 1, "exponent");
    refused("1e+", 1, 1, "exponent");
    refused("+1", 1, 1, "a value is expected");
    refused("0x10", 1, 2, "must end after the value");
    refused("9223372036854775808", 1, 1, "too big");
    refused("-9223372036854775809", 1, 1, "too big");
    refused("1e400", 1, 1, "too big for a double");
    refused("[NaN]", 1, 2, "a value is expected");
    refused("[Infinity]", 1, 2, "a value is expected");
}

static void test_codec_jsonscan_refuses_bad_structure(void **state)
{
    (void)state;
    refused("", 1, 1, "the end of the text");
    refused("   ", 1, 4, "the end of the text");
    refused("[1,]", 1, 4, "a value is expected");
    refused("{\"a\":1,}", 1, 8, "member name");
    refused("{\"a\" 1}", 1, 6, "':' is expected");
    refused("{a:1}", 1, 2, "member name");
    refused("{\"a\":1 \"b\":2}", 1, 8, "',' or '}'");
    refused("[1 2]", 1, 4, "',' or ']'");
    refused("[1}", 1, 3, "',' or ']'");
    refused("{\"a\":1]", 1, 7, "',' or '}'");
    refused("[", 1, 2, "end of the text");
    refused("{\"a\":", 1, 6, "end of the text");
    refused("[tru]", 1, 2, "true, false and null");
    refused("[nul", 1, 2, "true, false and null");
    refused("{} {}", 1, 4, "must end after the value");
    refused("[1] x", 1, 5, "must end after the value");
    refused_len("[1]\0", 4, 1, 4, "0x00");
    refused("/* c */ []", 1, 1, "a value is expected");
    refused("[1] // c", 1, 5, "must end");
}

static void test_codec_jsonscan_refuses_names_given_twice(void **state)
{
    (void)state;
    refused("{\"a\":1,\"b\":2,\"a\":3}", 1, 14, "given twice");
    /* the decoded names are compared: \u0061 is a */
    refused("{\"a\":1,\"\\u0061\":2}", 1, 8, "given twice");
    refused("[{\"x\":{\"y\":1,\"y\":2}}]", 1, 14, "given twice");
    /* the same name in different objects is fine, and so are nested ones */
    scans("[{\"a\":1},{\"a\":{\"a\":2}}]", "[ { name:a n:1 } { name:a { name:a n:2 } } ] ");

    /* an object with many names is sorted to find the one given twice, reported at its place */
    struct strbuf b;
    strbuf_init(&b, 0);
    strbuf_addc(&b, '{');
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&b, "%s\"k%d\":%d", i ? "," : "", i, i);
    struct strbuf ok;
    strbuf_init(&ok, 0);
    strbuf_add(&ok, b.s, b.len);
    strbuf_addc(&ok, '}');
    struct codec_jsonscan s;
    struct strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(scan_len(&s, ok.s, ok.len, &out), 0);
    codec_jsonscan_fini(&s);
    size_t at = b.len + 2; /* the column of the name given twice */
    strbuf_adds(&b, ",\"k500\":1,\"k7\":2}");
    refused(b.s, 1, (unsigned)at, "given twice");
    strbuf_fini(&b);
    strbuf_fini(&ok);
    strbuf_fini(&out);
}

static void test_codec_jsonscan_depth_limit(void **state)
{
    (void)state;
    struct strbuf b;
    strbuf_init(&b, 0);
    for (int i = 0; i < CODEC_JSONSCAN_DEPTH_MAX; i++)
        strbuf_addc(&b, '[');
    for (int i = 0; i < CODEC_JSONSCAN_DEPTH_MAX; i++)
        strbuf_addc(&b, ']');
    struct codec_jsonscan s;
    struct strbuf out;
    strbuf_init(&out, 0);
    assert_int_equal(scan_len(&s, b.s, b.len, &out), 0);
    codec_jsonscan_fini(&s);
    strbuf_reset(&b);
    for (int i = 0; i <= CODEC_JSONSCAN_DEPTH_MAX; i++)
        strbuf_addc(&b, '[');
    refused(b.s, 0, 0, "nested deeper than 2048");
    strbuf_fini(&b);
    strbuf_fini(&out);
}

static void test_codec_jsonscan_error_line_and_column(void **state)
{
    (void)state;
    refused("{\n  \"a\": 1,\n  \"b\": tru\n}", 3, 8, "true, false and null");
    refused("[\r\n1,\r\n\r\n2,,3]", 4, 3, "a value is expected");
    /* columns count bytes */
    refused("[\"\xc3\xa9\", x]", 1, 8, "a value is expected");
}

static void test_codec_jsonscan_skip(void **state)
{
    (void)state;
    const char *text = "[{\"a\":[1,{\"b\":null}],\"c\":2},\"after\"]";
    struct codec_jsonscan s;
    enum codec_jsonscan_token tok;
    codec_jsonscan_init(&s, text, strlen(text));
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_ARRAY);
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_OBJECT);
    assert_int_equal(codec_jsonscan_skip(&s, tok), 0);
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_STRING);
    assert_string_equal(s.str.s, "after");
    assert_int_equal(codec_jsonscan_skip(&s, tok), 0); /* a scalar: nothing */
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_ARRAY_END);
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_END);
    assert_int_equal(codec_jsonscan_next(&s, &tok), 0);
    assert_int_equal(tok, CODEC_JSONSCAN_END);
    codec_jsonscan_fini(&s);

    /* what is skipped is checked as strictly */
    text = "[{\"a\":[1,{\"b\":1,\"b\":2}]}]";
    codec_jsonscan_init(&s, text, strlen(text));
    codec_jsonscan_next(&s, &tok);
    codec_jsonscan_next(&s, &tok);
    assert_int_equal(codec_jsonscan_skip(&s, tok), HALE_EPARSE);
    assert_non_null(strstr(s.error, "given twice"));
    codec_jsonscan_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_codec_jsonscan_tokens),
            cmocka_unit_test(test_codec_jsonscan_strings),
            cmocka_unit_test(test_codec_jsonscan_refuses_bad_strings),
            cmocka_unit_test(test_codec_jsonscan_refuses_bad_numbers),
            cmocka_unit_test(test_codec_jsonscan_refuses_bad_structure),
            cmocka_unit_test(test_codec_jsonscan_refuses_names_given_twice),
            cmocka_unit_test(test_codec_jsonscan_depth_limit),
            cmocka_unit_test(test_codec_jsonscan_error_line_and_column),
            cmocka_unit_test(test_codec_jsonscan_skip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
