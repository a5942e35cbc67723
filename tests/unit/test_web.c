/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/web/: the table the build embedded (every file where it is
 * served, with its content type, its bytes and an ETag that is the hash of
 * those bytes) and the decisions a request meets: which validator makes a
 * 304, which file is cached how long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "base/hash.h"
#include "web/web.h"

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void test_web_table_serves_the_app_the_status_page_and_uplot(void **state)
{
    (void)state;
    static const char *const wanted[] = {
            "/",
            "/status",
            "/ui/js/app.js",
            "/ui/js/api.js",
            "/ui/js/ui.js",
            "/ui/js/stream.js",
            "/ui/js/charts.js",
            "/ui/css/hale.css",
            "/ui/js/pages/overview.js",
            "/ui/vendor/uPlot.iife.min.js",
            "/ui/vendor/uPlot.min.css",
    };
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        const struct web_asset *a = web_asset_find(wanted[i]);
        if (!a)
            fail_msg("%s is not embedded", wanted[i]);
        assert_true(a->len > 0);
    }
    assert_null(web_asset_find("/index.html"));
    assert_null(web_asset_find("/ui/js/"));
    assert_null(web_asset_find("/ui/package.json"));
    assert_string_equal(web_asset_find("/")->content_type, "text/html; charset=utf-8");
    assert_non_null(strstr((const char *)web_asset_find("/")->bytes, "/ui/js/app.js"));
}

static void test_web_table_types_paths_and_etags_are_right(void **state)
{
    (void)state;
    assert_true(web_assets_n >= 11);
    for (size_t i = 0; i < web_assets_n; i++) {
        const struct web_asset *a = &web_assets[i];
        assert_int_equal(a->path[0], '/');
        /* A path is served once: the first would shadow the second. */
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(a->path, web_assets[j].path);
        const char *want = ends_with(a->path, ".js")    ? "text/javascript; charset=utf-8"
                           : ends_with(a->path, ".css") ? "text/css; charset=utf-8"
                           : ends_with(a->path, ".svg") ? "image/svg+xml"
                                                        : "text/html; charset=utf-8";
        if (strcmp(a->content_type, want) != 0)
            fail_msg("%s: %s, expected %s", a->path, a->content_type, want);
        /* The bytes end with a NUL past len (the generator's guard), none counted. */
        assert_int_equal(a->bytes[a->len], 0);
        char hex[HASH_SHA256_HEX_LEN + 1], etag[32];
        hash_sha256_hex(a->bytes, a->len, hex);
        snprintf(etag, sizeof(etag), "\"%.20s\"", hex);
        if (strcmp(a->etag, etag) != 0)
            fail_msg("%s: ETag %s is not the hash of its bytes (%s)", a->path, a->etag, etag);
    }
}

static void test_web_if_none_match_decides_the_304(void **state)
{
    (void)state;
    const struct web_asset a = {.path = "/", .etag = "\"0123456789abcdef0123\""};
    assert_false(web_asset_is_fresh(&a, NULL));
    assert_false(web_asset_is_fresh(&a, ""));
    assert_true(web_asset_is_fresh(&a, "\"0123456789abcdef0123\""));
    /* Weak comparison, as RFC 9110 wants for If-None-Match. */
    assert_true(web_asset_is_fresh(&a, "W/\"0123456789abcdef0123\""));
    assert_true(web_asset_is_fresh(&a, "\"old\", \"0123456789abcdef0123\""));
    assert_true(web_asset_is_fresh(&a, " \"old\" ,W/\"0123456789abcdef0123\" "));
    assert_true(web_asset_is_fresh(&a, "*"));
    /* An older version, a prefix, the tag unquoted: the bytes are sent. */
    assert_false(web_asset_is_fresh(&a, "\"ffffffffffffffffffff\""));
    assert_false(web_asset_is_fresh(&a, "\"0123456789abcdef012"));
    assert_false(web_asset_is_fresh(&a, "0123456789abcdef0123"));
    assert_false(web_asset_is_fresh(&a, "\"0123456789abcdef0123\"x"));
    assert_false(web_asset_is_fresh(&a, ",,,"));
}

static void test_web_cache_control_revalidates_ours_and_keeps_vendor_files(void **state)
{
    (void)state;
    assert_string_equal(web_asset_cache_control(web_asset_find("/")), "no-cache");
    assert_string_equal(web_asset_cache_control(web_asset_find("/status")), "no-cache");
    assert_string_equal(web_asset_cache_control(web_asset_find("/ui/js/app.js")), "no-cache");
    assert_string_equal(web_asset_cache_control(web_asset_find("/ui/vendor/uPlot.iife.min.js")),
                        "public, max-age=604800");
    /* No inline script may run: the pages load everything from the daemon. */
    assert_non_null(strstr(web_csp, "script-src 'self'"));
    assert_null(strstr(web_csp, "unsafe-inline"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_web_table_serves_the_app_the_status_page_and_uplot),
            cmocka_unit_test(test_web_table_types_paths_and_etags_are_right),
            cmocka_unit_test(test_web_if_none_match_decides_the_304),
            cmocka_unit_test(test_web_cache_control_revalidates_ours_and_keeps_vendor_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
