/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/base/labels.c: label sets, and matcher lists with the
 * semantics of Prometheus and Alertmanager (=, !=, =~, !~, anchoring,
 * missing labels as "", escapes) and parse errors with their offsets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/labels.h"

static struct labels set_of(const char *const *kv)
{
    struct labels l;
    labels_init(&l);
    for (; kv[0]; kv += 2)
        assert_int_equal(labels_set(&l, kv[0], kv[1], NULL), 0);
    return l;
}

static struct labels_matchers *parse_ok(const char *s)
{
    struct labels_matchers *m = NULL;
    struct err e = {0};
    if (labels_matchers_parse(s, &m, &e, NULL) != 0)
        fail_msg("\"%s\": %s", s, e.msg);
    return m;
}

/* Whether the matcher text s accepts the label set kv (NULL-terminated pairs). */
static bool matches(const char *s, const char *const *kv)
{
    struct labels l = set_of(kv);
    struct labels_matchers *m = parse_ok(s);
    bool r = labels_matchers_match(m, &l);
    labels_matchers_free(m);
    labels_fini(&l);
    return r;
}

static const char *const web[] = {"service", "web", "alertname", "DiskFull", "env", "prod", NULL};
static const char *const none[] = {NULL};

static void test_labels_set_keeps_sorted_and_replaces(void **state)
{
    (void)state;
    struct labels l;
    labels_init(&l);
    assert_int_equal(labels_set(&l, "b", "2", NULL), 0);
    assert_int_equal(labels_set(&l, "a", "1", NULL), 0);
    assert_int_equal(labels_set(&l, "c", "3", NULL), 0);
    assert_int_equal(labels_set(&l, "b", "two", NULL), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.v[0].name, "a");
    assert_string_equal(l.v[1].name, "b");
    assert_string_equal(l.v[1].value, "two");
    assert_string_equal(l.v[2].name, "c");
    assert_string_equal(labels_get(&l, "c"), "3");
    assert_null(labels_get(&l, "d"));
    labels_fini(&l);
    labels_fini(&l); /* a finished set is empty, so again is harmless */
}

static void test_labels_take_keeps_sorted_and_replaces(void **state)
{
    (void)state;
    struct labels l;
    labels_init(&l);
    /* in order (appended), out of order (inserted), and a name again (replaced) */
    labels_take(&l, xstrdup("b"), xstrdup("2"));
    labels_take(&l, xstrdup("d"), xstrdup("4"));
    labels_take(&l, xstrdup("a"), xstrdup("1"));
    labels_take(&l, xstrdup("c"), xstrdup("3"));
    char *two = xstrdup("two");
    labels_take(&l, xstrdup("b"), two);
    labels_take(&l, xstrdup("d"), xstrdup("four"));
    assert_int_equal(l.n, 4);
    const char *want[][2] = {{"a", "1"}, {"b", "two"}, {"c", "3"}, {"d", "four"}};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(l.v[i].name, want[i][0]);
        assert_string_equal(l.v[i].value, want[i][1]);
    }
    assert_ptr_equal(labels_get(&l, "b"), two); /* taken, not copied */
    labels_fini(&l);                            /* ASan: every string taken is freed once */
}

/* A set that borrows its strings keeps them in order and frees none of them. */
static void test_labels_put_borrowed_keeps_sorted_and_frees_nothing(void **state)
{
    (void)state;
    /* On the stack: ASan would report a free() of any of them. */
    char a[] = "a", b[] = "b", c[] = "c", d[] = "d";
    char one[] = "1", two[] = "2", three[] = "3", four[] = "4", other[] = "two";
    struct labels l;
    labels_init(&l);
    labels_put_borrowed(&l, b, two);
    labels_put_borrowed(&l, d, four);
    labels_put_borrowed(&l, a, one);
    labels_put_borrowed(&l, c, three);
    labels_put_borrowed(&l, b, other);
    assert_int_equal(l.n, 4);
    const char *want[][2] = {{"a", "1"}, {"b", "two"}, {"c", "3"}, {"d", "4"}};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(l.v[i].name, want[i][0]);
        assert_string_equal(l.v[i].value, want[i][1]);
    }
    assert_ptr_equal(labels_get(&l, "b"), other); /* borrowed, not copied */
    free(l.v);
}

/* The label set kv has Alertmanager's fingerprint hex (16 lowercase digits). */
static void fingerprint_is(const char *const *kv, const char *hex)
{
    struct labels l = set_of(kv);
    char got[17];
    snprintf(got, sizeof(got), "%016llx", (unsigned long long)labels_fingerprint(&l));
    labels_fini(&l);
    assert_string_equal(got, hex);
}

static void test_labels_fingerprint_matches_alertmanager(void **state)
{
    (void)state;
    /* The fingerprints Alertmanager 0.25 sent for these sets (the captures in
     * the shared fixtures), given here in an order that is not sorted. */
    fingerprint_is(
            (const char *const[]){"instance", "web01:443", "alertname", "CertExpiring", NULL},
            "8df5785e55293561");
    fingerprint_is((const char *const[]){"severity", "critical", "instance", "example1", "dev",
                                         "sda1", "alertname", "DiskRunningFull", NULL},
                   "ed32a28c2fba30d5");
    fingerprint_is((const char *const[]){"alertname", "DiskRunningFull", "dev", "sda2", "instance",
                                         "example1", "severity", "critical", NULL},
                   "fdbf71dda2355fbe");
    fingerprint_is((const char *const[]){"alertname", "ServiceDown", "instance", "web01", "service",
                                         "nginx", NULL},
                   "ad111a44a080d452");
    fingerprint_is((const char *const[]){"alertname", "ServiceDown", "instance", "web02", "service",
                                         "nginx", NULL},
                   "363734e106cd4015");
    /* No labels: FNV-1a's offset basis, as in Prometheus. */
    fingerprint_is(none, "cbf29ce484222325");
    /* The separator keeps {a="bc"} and {ab="c"} apart. */
    const char *const a_bc[] = {"a", "bc", NULL}, *const ab_c[] = {"ab", "c", NULL};
    struct labels x = set_of(a_bc), y = set_of(ab_c);
    assert_true(labels_fingerprint(&x) != labels_fingerprint(&y));
    labels_fini(&x);
    labels_fini(&y);
}

static void test_labels_set_refuses_bad_names(void **state)
{
    (void)state;
    struct labels l;
    labels_init(&l);
    struct err e = {0};
    assert_int_equal(labels_set(&l, "1abc", "x", &e), HALE_EPARSE);
    assert_string_equal(e.msg, "invalid label name \"1abc\": use letters, digits and _, not "
                               "starting with a digit");
    assert_int_equal(labels_set(&l, "a-b", "x", NULL), HALE_EPARSE);
    assert_int_equal(labels_set(&l, "", "x", NULL), HALE_EPARSE);
    assert_true(labels_name_is_valid("_x9"));
    assert_true(labels_name_is_valid("__name__"));
    assert_false(labels_name_is_valid("a.b"));
    assert_int_equal(l.n, 0);
    labels_fini(&l);
}

static void test_labels_match_equality(void **state)
{
    (void)state;
    assert_true(matches("{service=\"web\"}", web));
    assert_false(matches("{service=\"db\"}", web));
    assert_true(matches("{service!=\"db\"}", web));
    assert_false(matches("{service!=\"web\"}", web));
    assert_true(matches("{service=\"web\", env=\"prod\"}", web));
    assert_false(matches("{service=\"web\", env=\"dev\"}", web));
}

static void test_labels_match_regex_is_anchored(void **state)
{
    (void)state;
    assert_true(matches("{alertname=~\"Disk.*\"}", web));
    assert_false(matches("{alertname=~\"isk\"}", web));  /* no substring match */
    assert_false(matches("{alertname=~\"Disk\"}", web)); /* anchored at the end */
    assert_false(matches("{alertname=~\"Full\"}", web)); /* anchored at the start */
    assert_true(matches("{alertname=~\"DiskFull|Other\"}", web));
    assert_true(matches("{alertname=~\"Other|DiskFull\"}", web));
    assert_false(matches("{alertname=~\"Disk|DiskF\"}", web));
    assert_true(matches("{alertname!~\"Net.*\"}", web));
    assert_false(matches("{alertname!~\"Disk.*\"}", web));
    assert_true(matches("{env!~\"dev|test\"}", web));
}

static void test_labels_match_dot_matches_newline(void **state)
{
    (void)state;
    static const char *const multi[] = {"msg", "a\nb", NULL};
    assert_true(matches("{msg=~\"a.b\"}", multi));
    assert_true(matches("{msg=\"a\\nb\"}", multi));
    /* '$' in Prometheus matches only at the very end, never before a final newline */
    static const char *const trail[] = {"msg", "ab\n", NULL};
    assert_false(matches("{msg=~\"ab\"}", trail));
}

static void test_labels_match_missing_label_is_empty(void **state)
{
    (void)state;
    assert_true(matches("{team=\"\"}", web));
    assert_false(matches("{team=\"ops\"}", web));
    assert_true(matches("{team!=\"ops\"}", web));
    assert_true(matches("{team=~\".*\"}", web));
    assert_false(matches("{team=~\".+\"}", web));
    assert_true(matches("{team!~\".+\"}", web));
    assert_true(matches("{env!=\"dev\"}", none));
}

static void test_labels_match_empty_list_matches_all(void **state)
{
    (void)state;
    assert_true(matches("{}", web));
    assert_true(matches("{}", none));
    assert_true(matches("", none));
    assert_true(matches("  { }  ", web));
}

static void test_labels_parse_forms(void **state)
{
    (void)state;
    /* without braces, bare values, spaces, a trailing comma */
    assert_true(matches("service=web, alertname=~Disk.*", web));
    assert_true(matches("{ service = web , env != dev , }", web));
    assert_true(matches("service=web,", web));
    struct labels_matchers *m = parse_ok("{a=\"x\\\"y\", b=~\"p\\\\d\", c!~z, d=}");
    assert_int_equal(m->n, 4);
    assert_string_equal(m->v[0].name, "a");
    assert_int_equal(m->v[0].op, LABELS_OP_EQ);
    assert_string_equal(m->v[0].value, "x\"y");
    assert_int_equal(m->v[0].offset, 1);
    assert_string_equal(m->v[1].value, "p\\d");
    assert_int_equal(m->v[1].op, LABELS_OP_RE);
    assert_int_equal(m->v[2].op, LABELS_OP_NRE);
    assert_string_equal(m->v[2].value, "z");
    assert_string_equal(m->v[3].value, "");
    labels_matchers_free(m);
}

static void test_labels_regex_escapes_reach_pcre(void **state)
{
    (void)state;
    static const char *const num[] = {"code", "503", NULL};
    assert_true(matches("{code=~\"5\\\\d\\\\d\"}", num));
    assert_true(matches("code=~5\\d\\d", num)); /* bare values keep backslashes */
    assert_false(matches("code=~4\\d\\d", num));
}

static void test_labels_format_is_canonical(void **state)
{
    (void)state;
    struct labels_matchers *m = parse_ok("a=b,c=~\"x\\\"y\", d!=\"l1\\nl2\"");
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(labels_matchers_format(m, &b), 0);
    assert_string_equal(b.s, "{a=\"b\", c=~\"x\\\"y\", d!=\"l1\\nl2\"}");
    /* the canonical form parses back to the same list */
    struct labels_matchers *again = parse_ok(b.s);
    assert_int_equal(again->n, 3);
    assert_string_equal(again->v[1].value, "x\"y");
    assert_string_equal(again->v[2].value, "l1\nl2");
    labels_matchers_free(again);
    labels_matchers_free(m);
    strbuf_fini(&b);
}

static void parse_bad(const char *s, const char *msg, size_t offset)
{
    struct labels_matchers *m = (struct labels_matchers *)0x1;
    struct err e = {0};
    size_t off = 999;
    assert_int_equal(labels_matchers_parse(s, &m, &e, &off), HALE_EPARSE);
    assert_string_equal(e.msg, msg);
    assert_int_equal(off, offset);
    assert_ptr_equal(m, (struct labels_matchers *)0x1);
}

static void test_labels_parse_errors_have_offsets(void **state)
{
    (void)state;
    parse_bad("{service=\"web\"", "missing closing '}'", 14);
    parse_bad("{service=\"web}", "missing closing quote", 9);
    parse_bad("{service}", "expected =, !=, =~ or !~ after label name \"service\"", 8);
    parse_bad("{service==\"x\"}", "unexpected '\"' in a value; put the value in double quotes", 10);
    parse_bad("{1x=\"a\"}",
              "expected a label name (letters, digits and _, not starting with a "
              "digit)",
              1);
    parse_bad("{a=\"b\" c=\"d\"}", "expected ',' or '}'", 7);
    parse_bad("a=\"b\" c=\"d\"", "expected ',' or the end", 6);
    parse_bad("{a=\"b\"} x", "unexpected text after '}'", 8);
    parse_bad("{a=\"\\t\"}", "invalid escape; use \\\", \\\\ or \\n", 4);
    parse_bad("{a=b,,c=d}",
              "expected a label name (letters, digits and _, not starting with a "
              "digit)",
              5);
    parse_bad("{a=x{1}}", "unexpected '{' in a value; put the value in double quotes", 4);
}

static void test_labels_parse_bad_regex_points_inside(void **state)
{
    (void)state;
    /* PCRE2 reports the missing ')' at the end of the pattern: the closing quote. */
    parse_bad("{job=~\"(web\"}", "invalid regex: missing closing parenthesis", 11);
    parse_bad("job=~a[b", "invalid regex: missing terminating ] for character class", 8);
    /* offsets survive escapes before the problem */
    parse_bad("{x=\"\\\"\", job=~\"\\\")\"}", "invalid regex: unmatched closing parenthesis", 17);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_labels_set_keeps_sorted_and_replaces),
            cmocka_unit_test(test_labels_take_keeps_sorted_and_replaces),
            cmocka_unit_test(test_labels_put_borrowed_keeps_sorted_and_frees_nothing),
            cmocka_unit_test(test_labels_set_refuses_bad_names),
            cmocka_unit_test(test_labels_fingerprint_matches_alertmanager),
            cmocka_unit_test(test_labels_match_equality),
            cmocka_unit_test(test_labels_match_regex_is_anchored),
            cmocka_unit_test(test_labels_match_dot_matches_newline),
            cmocka_unit_test(test_labels_match_missing_label_is_empty),
            cmocka_unit_test(test_labels_match_empty_list_matches_all),
            cmocka_unit_test(test_labels_parse_forms),
            cmocka_unit_test(test_labels_regex_escapes_reach_pcre),
            cmocka_unit_test(test_labels_format_is_canonical),
            cmocka_unit_test(test_labels_parse_errors_have_offsets),
            cmocka_unit_test(test_labels_parse_bad_regex_points_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
