/* SPDX-License-Identifier: MIT */
/*
 * Tests of src/checks/: the Monitoring Plugins result parser (exit codes,
 * summary, long output, perfdata) and the formatter that writes an
 * observation back as a plugin line. The examples come from the shared
 * fixtures nagios-perfdata-examples.txt,
 * nagios-plugin-output-captured-monitoring-plugins-2.3.3.txt (read at test
 * time) and nagios-threshold-range-examples.txt; each copied line says
 * which section it is from.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "checks/checks.h"
#include "checks/internal.h"

/* ---- helpers ---- */

static void parse_n(struct check_observation *o, int64_t exit_status, int sig, const char *out,
                    size_t len, size_t max)
{
    struct check_plugin_result res = {
            .exit_status = exit_status, .term_signal = sig, .output = out, .output_len = len};
    check_plugin_parse(&res, max, o);
    assert_non_null(o->summary);
}

static void parse(struct check_observation *o, int64_t exit_status, const char *out)
{
    parse_n(o, exit_status, 0, out, strlen(out), 0);
}

/* Parses perfdata alone, as the text right of '|'. */
static void perf(struct check_observation *o, const char *text)
{
    memset(o, 0, sizeof(*o));
    check_perfdata_parse(o, text, strlen(text));
}

static const struct check_sample *sample(const struct check_observation *o, const char *label)
{
    for (size_t i = 0; i < o->n_samples; i++)
        if (strcmp(o->samples[i].label, label) == 0)
            return &o->samples[i];
    fail_msg("no sample \"%s\"", label);
    return NULL;
}

static void assert_range(const struct units_range *r, double start, double end, bool inside)
{
    assert_true(r->start == start);
    assert_true(r->end == end);
    assert_int_equal(r->inside, inside);
}

static bool notes_say(const struct check_observation *o, const char *text)
{
    return o->notes && strstr(o->notes, text);
}

static char *format(const struct check_observation *o, unsigned flags)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(check_observation_format(o, flags, &b), 0);
    return strbuf_detach(&b, NULL);
}

static char *format_perf(const struct check_observation *o)
{
    struct strbuf b;
    strbuf_init(&b, 0);
    assert_int_equal(check_perfdata_format(o->samples, o->n_samples, &b), 0);
    return strbuf_detach(&b, NULL);
}

/*
 * The round trip: formats o (with its long output), parses the line with
 * o's status as exit code, and requires the same status, samples and long
 * output, and a summary that formats to the same line.
 */
static void assert_round_trip(const struct check_observation *o)
{
    char *line = format(o, CHECK_FORMAT_LONG_OUTPUT);
    struct check_observation again;
    parse(&again, o->status, line);
    assert_int_equal(again.status, o->status);
    assert_int_equal(again.n_samples, o->n_samples);
    for (size_t i = 0; i < o->n_samples; i++)
        if (!check_sample_is_equal(&again.samples[i], &o->samples[i]))
            fail_msg("sample %zu changed in \"%s\"", i, line);
    if (o->long_output)
        assert_string_equal(again.long_output, o->long_output);
    else
        assert_null(again.long_output);
    assert_null(again.notes);
    char *line2 = format(&again, CHECK_FORMAT_LONG_OUTPUT);
    assert_string_equal(line2, line);
    free(line2);
    free(line);
    check_observation_fini(&again);
}

/* ---- status names ---- */

static void test_checks_status_names_and_labels(void **state)
{
    (void)state;
    assert_string_equal(check_status_name(CHECK_STATUS_OK), "ok");
    assert_string_equal(check_status_name(CHECK_STATUS_WARNING), "warning");
    assert_string_equal(check_status_name(CHECK_STATUS_CRITICAL), "critical");
    assert_string_equal(check_status_name(CHECK_STATUS_UNKNOWN), "unknown");
    assert_string_equal(check_status_name((enum check_status)42), "unknown");
    assert_string_equal(check_status_label(CHECK_STATUS_OK), "OK");
    assert_string_equal(check_status_label(CHECK_STATUS_WARNING), "WARNING");
    assert_string_equal(check_status_label(CHECK_STATUS_CRITICAL), "CRITICAL");
    assert_string_equal(check_status_label(CHECK_STATUS_UNKNOWN), "UNKNOWN");
    assert_string_equal(check_status_label((enum check_status) - 1), "UNKNOWN");
}

static void test_checks_observation_fini_accepts_zeroed_and_twice(void **state)
{
    (void)state;
    struct check_observation o = {0};
    check_observation_fini(&o);
    check_observation_fini(NULL);
    parse(&o, 0, "OK | a=1");
    check_observation_fini(&o);
    assert_null(o.summary);
    assert_int_equal(o.n_samples, 0);
    check_observation_fini(&o);
}

/* ---- exit codes and signals ---- */

static void test_checks_exit_codes_map_to_status(void **state)
{
    (void)state;
    static const char *const lines[] = {"OK: all", "WARNING: degraded", "CRITICAL: broken",
                                        "UNKNOWN: cannot"}; /* check_dummy, captured fixture */
    for (int code = 0; code <= 3; code++) {
        struct check_observation o;
        parse(&o, code, lines[code]);
        assert_int_equal(o.status, code);
        assert_string_equal(o.summary, lines[code]);
        assert_null(o.long_output);
        assert_int_equal(o.n_samples, 0);
        assert_null(o.notes);
        assert_false(o.truncated);
        check_observation_fini(&o);
    }
}

static void test_checks_other_exit_codes_are_unknown(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 127, "sh: 1: check_nothere: not found\n");
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "exited with status 127: sh: 1: check_nothere: not found");
    check_observation_fini(&o);

    parse(&o, 4, "");
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "exited with status 4");
    check_observation_fini(&o);

    parse(&o, 255, "OK - looks fine | a=1");
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "exited with status 255: OK - looks fine");
    assert_int_equal(o.n_samples, 1); /* the perfdata is still worth keeping */
    check_observation_fini(&o);

    parse(&o, -1, "x");
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "exited with status -1: x");
    check_observation_fini(&o);
}

static void test_checks_signal_death_is_unknown(void **state)
{
    (void)state;
    struct check_observation o;
    parse_n(&o, 0, 9, "", 0, 0);
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "killed by signal 9 (SIGKILL)");
    check_observation_fini(&o);

    const char *partial = "OK - half way";
    parse_n(&o, 0, 15, partial, strlen(partial), 0);
    assert_string_equal(o.summary, "killed by signal 15 (SIGTERM): OK - half way");
    check_observation_fini(&o);

    parse_n(&o, 2, 40, NULL, 0, 0); /* exit status is meaningless after a signal */
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "killed by signal 40");
    check_observation_fini(&o);
}

static void test_checks_no_output_keeps_the_exit_status(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 0, ""); /* `test -w /tmp` as a check */
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_string_equal(o.summary, "no output (exited with status 0)");
    assert_null(o.long_output);
    check_observation_fini(&o);

    parse(&o, 2, "  \n\t\n\r\n");
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_string_equal(o.summary, "no output (exited with status 2)");
    check_observation_fini(&o);

    parse_n(&o, 1, 0, NULL, 0, 0);
    assert_int_equal(o.status, CHECK_STATUS_WARNING);
    assert_string_equal(o.summary, "no output (exited with status 1)");
    check_observation_fini(&o);

    /* Perfdata alone is output: the summary is empty, the status stands. */
    parse(&o, 0, "|a=1");
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_string_equal(o.summary, "");
    assert_int_equal(o.n_samples, 1);
    check_observation_fini(&o);
}

/* ---- text: summary, long output, multi-line perfdata ---- */

/* nagios-perfdata-examples.txt [A], Nagios Core pluginapi.html, cases 1 to 3. */
static void test_checks_nagios_pluginapi_cases(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 0, "DISK OK - free space: / 3326 MB (56%);");
    assert_string_equal(o.summary, "DISK OK - free space: / 3326 MB (56%);");
    assert_null(o.long_output);
    assert_int_equal(o.n_samples, 0);
    check_observation_fini(&o);

    parse(&o, 0, "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968");
    assert_string_equal(o.summary, "DISK OK - free space: / 3326 MB (56%);");
    assert_int_equal(o.n_samples, 1);
    const struct check_sample *s = sample(&o, "/");
    assert_true(s->has_value && s->value == 2643);
    assert_string_equal(s->unit, "MB");
    assert_true(s->has_warn && s->has_crit && s->has_min && s->has_max);
    assert_range(&s->warn, 0, 5948, false);
    assert_range(&s->crit, 0, 5958, false);
    assert_true(s->min == 0 && s->max == 5968);
    check_observation_fini(&o);

    parse(&o, 0,
          "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
          "/ 15272 MB (77%);\n"
          "/boot 68 MB (69%);\n"
          "/home 69357 MB (27%);\n"
          "/var/log 819 MB (84%); | /boot=68MB;88;93;0;98\n"
          "/home=69357MB;253404;253409;0;253414 \n"
          "/var/log=818MB;970;975;0;980\n");
    assert_string_equal(o.summary, "DISK OK - free space: / 3326 MB (56%);");
    /* The page's macro table leaves the /home line out (sic); Nagios keeps it. */
    assert_string_equal(o.long_output, "/ 15272 MB (77%);\n/boot 68 MB (69%);\n"
                                       "/home 69357 MB (27%);\n/var/log 819 MB (84%);");
    assert_int_equal(o.n_samples, 4);
    static const char *const labels[] = {"/", "/boot", "/home", "/var/log"};
    static const double values[] = {2643, 68, 69357, 818};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(o.samples[i].label, labels[i]);
        assert_true(o.samples[i].value == values[i]);
        assert_string_equal(o.samples[i].unit, "MB");
    }
    assert_true(sample(&o, "/var/log")->max == 980);
    assert_null(o.notes);
    char *p = format_perf(&o);
    assert_string_equal(p, "/=2643MB;5948;5958;0;5968 /boot=68MB;88;93;0;98 "
                           "/home=69357MB;253404;253409;0;253414 /var/log=818MB;970;975;0;980");
    free(p);
    assert_round_trip(&o);
    check_observation_fini(&o);
}

/* nagios-perfdata-examples.txt [B], the developer guidelines' template (prose as perfdata). */
static void test_checks_developer_guidelines_template(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 0,
          "SERVICE STATUS: First line of output | First part of performance data\n"
          "Any number of subsequent lines of output, but note that buffers\n"
          "may have a limited size | Second part of performance data, which\n"
          "may have continuation lines, too\n");
    assert_string_equal(o.summary, "SERVICE STATUS: First line of output");
    assert_string_equal(o.long_output, "Any number of subsequent lines of output, but note "
                                       "that buffers\nmay have a limited size");
    assert_int_equal(o.n_samples, 0);
    assert_true(notes_say(&o, "perfdata item \"First\": no '=' after the label; skipped"));

    check_observation_fini(&o);
    perf(&o, "'label'=value[UOM];[warn];[crit];[min];[max]");
    assert_int_equal(o.n_samples, 0);
    assert_true(notes_say(&o, "the value is not a number; skipped"));
    check_observation_fini(&o);
}

/* nagios-perfdata-examples.txt [C], monitoring-plugin-guidelines 03.Output.md. */
static void test_checks_guidelines_output_examples(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 0, "Sensor temperature exceeds thresholds ( 78°C > 70°C )");
    assert_string_equal(o.summary, "Sensor temperature exceeds thresholds ( 78°C > 70°C )");
    check_observation_fini(&o);

    perf(&o, "'label'=value[UOM][;warn[;crit[;min[;max]]]]");
    assert_int_equal(o.n_samples, 0);
    check_observation_fini(&o);

    perf(&o, "overall_power=14000000000W");
    assert_true(sample(&o, "overall_power")->value == 14e9);
    assert_string_equal(o.samples[0].unit, "W");
    check_observation_fini(&o);

    perf(&o, "overall_power=14GW"); /* kept as written: hale scales only units it knows */
    assert_true(o.samples[0].value == 14);
    assert_string_equal(o.samples[0].unit, "GW");
    assert_false(check_unit_scale("GW", NULL, NULL));
    check_observation_fini(&o);
}

static void test_checks_crlf_line_ends(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 1, "HTTP WARNING - slow \r\nfirst detail\r\nsecond detail | time=2.5s;2;5\r\n");
    assert_int_equal(o.status, CHECK_STATUS_WARNING);
    assert_string_equal(o.summary, "HTTP WARNING - slow");
    assert_string_equal(o.long_output, "first detail\nsecond detail");
    assert_int_equal(o.n_samples, 1);
    assert_string_equal(sample(&o, "time")->unit, "s");
    assert_null(o.notes);
    check_observation_fini(&o);
}

static void test_checks_nul_and_invalid_bytes_become_replacement(void **state)
{
    (void)state;
    struct check_observation o;
    static const char out[] = "OK\0fine \x1b[31mred\x7f | a=1\n42\xB0"
                              "C\n\xF0\x9F\x98\x80 ok";
    parse_n(&o, 0, 0, out, sizeof(out) - 1, 0);
    assert_int_equal(o.status, CHECK_STATUS_OK);
    assert_string_equal(o.summary, "OK\xEF\xBF\xBD"
                                   "fine \xEF\xBF\xBD[31mred\xEF\xBF\xBD");
    /* Latin-1 degree sign is replaced; a valid 4-byte sequence is kept. */
    assert_string_equal(o.long_output, "42\xEF\xBF\xBD"
                                       "C\n\xF0\x9F\x98\x80 ok");
    assert_int_equal(o.n_samples, 1);
    check_observation_fini(&o);

    /* Overlong, surrogate and out-of-range sequences are not valid UTF-8. */
    static const char bad[] = "\xC0\xAF \xED\xA0\x80 \xF4\x90\x80\x80 \xE2\x82";
    parse_n(&o, 0, 0, bad, sizeof(bad) - 1, 0);
    assert_null(strstr(o.summary, "\xC0"));
    assert_null(strstr(o.summary, "\xED\xA0"));
    assert_null(strstr(o.summary, "\xF4\x90"));
    assert_null(strstr(o.summary, "\xE2\x82"));
    check_observation_fini(&o);

    /* A NUL inside perfdata ends nothing early: it is replaced like any other. */
    static const char nul[] = "OK | a=1 b\0=2 c=3";
    parse_n(&o, 0, 0, nul, sizeof(nul) - 1, 0);
    assert_int_equal(o.n_samples, 3);
    assert_string_equal(o.samples[1].label, "b\xEF\xBF\xBD");
    assert_string_equal(o.samples[2].label, "c");
    check_observation_fini(&o);

    /* Called directly with raw bytes, the perfdata reader refuses a NUL in a label. */
    memset(&o, 0, sizeof(o));
    check_perfdata_parse(&o, nul + 5, sizeof(nul) - 6);
    assert_int_equal(o.n_samples, 2);
    assert_true(notes_say(&o, "the label holds a NUL byte; skipped"));
    check_observation_fini(&o);
}

static void test_checks_huge_output_is_truncated(void **state)
{
    (void)state;
    size_t len = 100000;
    char *out = xmalloc(len);
    memset(out, 'x', len);
    memcpy(out, "CRITICAL - lots\n", 16);
    for (size_t i = 100; i < len; i += 100)
        out[i] = '\n';
    struct check_observation o;
    parse_n(&o, 2, 0, out, len, 0);
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    assert_true(o.truncated);
    assert_string_equal(o.summary, "CRITICAL - lots");
    assert_true(strlen(o.long_output) < CHECK_OUTPUT_MAX_DEFAULT);
    assert_true(notes_say(&o, "output truncated at 4096 bytes"));
    check_observation_fini(&o);

    parse_n(&o, 2, 0, out, len, 200);
    assert_true(o.truncated);
    assert_true(strlen(o.long_output) < 200);
    assert_true(notes_say(&o, "output truncated at 200 bytes"));
    check_observation_fini(&o);
    free(out);

    /* The runner's own cap counts too. */
    struct check_plugin_result res = {
            .exit_status = 0, .output = "OK", .output_len = 2, .output_truncated = true};
    check_plugin_parse(&res, 0, &o);
    assert_true(o.truncated);
    assert_string_equal(o.summary, "OK");
    check_observation_fini(&o);
}

/* Packs o, checks that unpacking gives it back whole, and frees both. */
static void assert_packs_whole(struct check_observation *o)
{
    o->started_ms = 1790000000123u;
    o->duration_us = 4567;
    struct check__packed *p = check__pack(o, NULL);
    struct check__packed *copy = check__packed_copy(p);
    /* Packed again into the same allocation, as the runner does at each run. */
    p = check__pack(o, p);
    assert_memory_equal(p, copy, (size_t)(check__packed_summary(copy) - (const char *)copy));
    free(p);
    struct check_observation back;
    check__unpack(copy, &back);
    assert_int_equal(back.status, o->status);
    assert_string_equal(back.summary, o->summary ? o->summary : "");
    assert_string_equal(check__packed_summary(copy), back.summary);
    if (o->long_output)
        assert_string_equal(back.long_output, o->long_output);
    else
        assert_null(back.long_output);
    if (o->notes)
        assert_string_equal(back.notes, o->notes);
    else
        assert_null(back.notes);
    assert_int_equal(back.truncated, o->truncated);
    assert_int_equal(back.started_ms, o->started_ms);
    assert_int_equal(back.duration_us, o->duration_us);
    assert_int_equal(back.n_samples, o->n_samples);
    const char *at = copy->data;
    for (size_t i = 0; i < o->n_samples; i++) {
        assert_true(check_sample_is_equal(&back.samples[i], &o->samples[i]));
        assert_int_equal(back.samples[i].no_history, o->samples[i].no_history);
        /* Read in place, as the metrics are: the same sample, its label borrowed. */
        struct check_sample s;
        const char *label;
        at = check__packed_sample(at, &s, &label);
        assert_null(s.label);
        assert_true(label > copy->data && label < check__packed_summary(copy));
        s.label = xstrdup(label);
        assert_true(check_sample_is_equal(&s, &o->samples[i]));
        free(s.label);
    }
    assert_ptr_equal(at, check__packed_summary(copy));
    check_observation_fini(&back);
    check_observation_fini(o);
    free(copy);
}

static void test_checks_packed_observation_unpacks_whole(void **state)
{
    (void)state;
    struct check_observation o;
    /* Thresholds of every shape, min and max, an undetermined value, units short and long. */
    parse(&o, 1,
          "DISK WARNING - free space: / 3326 MB (56%)\n"
          "line two\n"
          "| /=2643MB;5948;5958;0;5968 'in %'=99.5%;@10:20;~:30;;100 u=U "
          "c=12c;;;3 long=1abcdefghijklmnopqrstuvwxyzabcdef bad=x");
    assert_true(o.n_samples >= 4);
    assert_non_null(o.long_output);
    assert_non_null(o.notes);
    assert_packs_whole(&o);

    /* A run's own: no texts but the summary, the samples a kind adds. */
    struct check_sample s[2] = {
            {.label = xstrdup("time"), .value = 0.000123, .unit = "s", .has_value = true},
            {.label = xstrdup("status"), .value = 200, .has_value = true, .no_history = true},
    };
    o = (struct check_observation){
            .status = CHECK_STATUS_OK,
            .summary = xstrdup("HTTP/1.1 200 OK - 615 bytes in 0.000 s"),
            .samples = memcpy(xmalloc(sizeof(s)), s, sizeof(s)),
            .n_samples = 2,
            .truncated = true,
    };
    assert_packs_whole(&o);

    /* Nothing at all. */
    o = (struct check_observation){.status = CHECK_STATUS_UNKNOWN};
    assert_packs_whole(&o);
}

static void test_checks_truncation_drops_the_cut_perfdata_item(void **state)
{
    (void)state;
    const char *out = "OK - fine | a=1;2;3 b=22222;5";
    struct check_observation o;
    parse_n(&o, 0, 0, out, strlen(out), strlen("OK - fine | a=1;2;3 b=22"));
    assert_int_equal(o.n_samples, 1);
    assert_string_equal(o.samples[0].label, "a");
    assert_true(notes_say(&o, "the last perfdata item was cut; dropped"));
    check_observation_fini(&o);

    /* Cut right after a separator: nothing is lost. */
    parse_n(&o, 0, 0, out, strlen(out), strlen("OK - fine | a=1;2;3 "));
    assert_int_equal(o.n_samples, 1);
    assert_false(notes_say(&o, "was cut"));
    check_observation_fini(&o);

    /* Cut in the text, not the perfdata: the perfdata already read stays. */
    const char *two = "OK | a=1\nlong text goes on";
    parse_n(&o, 0, 0, two, strlen(two), strlen("OK | a=1\nlong te"));
    assert_int_equal(o.n_samples, 1);
    assert_string_equal(o.long_output, "long te");
    check_observation_fini(&o);
}

/* ---- perfdata ---- */

/*
 * nagios-perfdata-examples.txt [D]: the strings of the reference Perl
 * parser's tests (monitoring-plugin-perl t/Monitoring-Plugin-Performance.t).
 */
static void test_checks_perfdata_reference_parser_strings(void **state)
{
    (void)state;
    struct check_observation o;
    const struct check_sample *s;

    perf(&o, "/=382MB;15264;15269;0;32768");
    s = sample(&o, "/");
    assert_true(s->value == 382);
    assert_string_equal(s->unit, "MB");
    assert_range(&s->warn, 0, 15264, false);
    assert_range(&s->crit, 0, 15269, false);
    assert_true(s->has_min && s->min == 0 && s->has_max && s->max == 32768);
    check_observation_fini(&o);

    perf(&o, "/var=218MB;9443;9448");
    s = sample(&o, "/var");
    assert_true(s->has_warn && s->has_crit);
    assert_false(s->has_min || s->has_max);
    check_observation_fini(&o);

    perf(&o, "/var/long@:-/filesystem/name/and/bad/chars=218MB;9443;9448");
    assert_true(sample(&o, "/var/long@:-/filesystem/name/and/bad/chars")->value == 218);
    check_observation_fini(&o);

    perf(&o, "'page file'=36%;80;90;");
    s = sample(&o, "page file");
    assert_true(s->value == 36);
    assert_string_equal(s->unit, "%");
    char *p = format_perf(&o);
    assert_string_equal(p, "'page file'=36%;80;90");
    free(p);
    check_observation_fini(&o);

    perf(&o, "'data'=5;;;;");
    s = sample(&o, "data");
    assert_true(s->value == 5);
    assert_string_equal(s->unit, "");
    assert_false(s->has_warn || s->has_crit || s->has_min || s->has_max);
    p = format_perf(&o);
    assert_string_equal(p, "data=5"); /* the Perl parser writes "data=5;;": same meaning */
    free(p);
    assert_null(o.notes);
    check_observation_fini(&o);

    perf(&o, "/=382MB;15264;15269;; /var=218MB;9443;9448");
    assert_int_equal(o.n_samples, 2);
    assert_null(o.notes);
    check_observation_fini(&o);

    perf(&o, "rubbish");
    assert_int_equal(o.n_samples, 0);
    assert_string_equal(o.notes, "perfdata item \"rubbish\": no '=' after the label; skipped");
    check_observation_fini(&o);

    perf(&o, "rta=&391ms;100,200;500,034;0;   pl=0%;20;60");
    assert_int_equal(o.n_samples, 1);
    assert_true(sample(&o, "pl")->value == 0);
    assert_true(notes_say(&o, "\"rta=&391ms;100,200;500,034;0;\": the value is not a number"));
    check_observation_fini(&o);

    perf(&o, "time=0.001229s;0.000000;0.000000;0.000000;10.000000");
    s = sample(&o, "time");
    assert_true(s->value == 0.001229);
    assert_range(&s->warn, 0, 0, false);
    assert_true(s->max == 10);
    check_observation_fini(&o);

    perf(&o, "load1=0.000;5.000;9.000;0; load5=0.000;5.000;9.000;0; "
             "load15=0.000;5.000;9.000;0;");
    assert_int_equal(o.n_samples, 3);
    assert_true(sample(&o, "load15")->has_min);
    assert_false(sample(&o, "load15")->has_max);
    check_observation_fini(&o);

    perf(&o, "users=4;20;50;0");
    assert_true(sample(&o, "users")->value == 4);
    check_observation_fini(&o);

    perf(&o, "time=0.215300s;5.000000;10.000000;0.000000 size=426B;;;0");
    s = sample(&o, "size");
    assert_false(s->has_warn || s->has_crit || s->has_max);
    assert_true(s->has_min && s->min == 0);
    assert_string_equal(s->unit, "B");
    check_observation_fini(&o);

    perf(&o, "/home/a-m=0;0;0 shared-folder:big=20 12345678901234567890=20");
    assert_int_equal(o.n_samples, 3);
    assert_true(sample(&o, "shared-folder:big")->value == 20);
    assert_true(sample(&o, "12345678901234567890")->value == 20);
    check_observation_fini(&o);

    perf(&o, "pct_used=73.7%;90;95");
    assert_true(sample(&o, "pct_used")->value == 73.7);
    check_observation_fini(&o);

    perf(&o, "availability=93.8%;90:99;");
    s = sample(&o, "availability");
    assert_range(&s->warn, 90, 99, false);
    assert_false(s->has_crit);
    check_observation_fini(&o);

    perf(&o, "offset=-0.004476s;-60.000000:-5;-120.000000:-3;");
    s = sample(&o, "offset");
    assert_true(s->value == -0.004476);
    assert_range(&s->warn, -60, -5, false);
    assert_range(&s->crit, -120, -3, false);
    check_observation_fini(&o);

    perf(&o, "salary=52GBP;~:23.5;45.2:");
    s = sample(&o, "salary");
    assert_string_equal(s->unit, "GBP");
    assert_range(&s->warn, -INFINITY, 23.5, false);
    assert_range(&s->crit, 45.2, INFINITY, false);
    check_observation_fini(&o);

    perf(&o, "offset=1.120567322e-05");
    assert_true(sample(&o, "offset")->value == 1.120567322e-05);
    check_observation_fini(&o);

    /* The range parser takes no exponents: the item stays, its thresholds go, with notes. */
    perf(&o, "offset=-1.120567322e-05unit;-1.1e-05:1.0e-03;4.3e+02:4.3e+25");
    s = sample(&o, "offset");
    assert_true(s->value == -1.120567322e-05);
    assert_string_equal(s->unit, "unit");
    assert_false(s->has_warn || s->has_crit);
    assert_true(notes_say(&o, "warn \"-1.1e-05:1.0e-03\" is not a range; ignored"));
    assert_true(notes_say(&o, "crit \"4.3e+02:4.3e+25\" is not a range; ignored"));
    check_observation_fini(&o);

    perf(&o, "rta=1,391ms;100,200;500,034;0; pl=0%;20;60;;");
    s = sample(&o, "rta");
    assert_true(s->value == 1.391);
    assert_string_equal(s->unit, "ms");
    assert_range(&s->warn, 0, 100.2, false);
    assert_range(&s->crit, 0, 500.034, false);
    assert_true(s->min == 0);
    assert_true(sample(&o, "pl")->value == 0);
    assert_null(o.notes);
    check_observation_fini(&o);

    perf(&o, "offset=-0,023545s;60,000000;120,000000;");
    s = sample(&o, "offset");
    assert_true(s->value == -0.023545);
    assert_range(&s->warn, 0, 60, false);
    assert_range(&s->crit, 0, 120, false);
    check_observation_fini(&o);

    perf(&o, "time=1800,600,300,0,3600 other=45.6");
    assert_int_equal(o.n_samples, 1);
    assert_true(sample(&o, "other")->value == 45.6);
    check_observation_fini(&o);

    perf(&o, "'C:\\ Label:  Serial Number bc22aa2e'=8015MB;16387;18435;0;20484 "
             "'D:\\ Label: Serial Number XA22aa2e'=8015MB;16388;18436;1;2048");
    assert_int_equal(o.n_samples, 2);
    assert_true(sample(&o, "C:\\ Label:  Serial Number bc22aa2e")->max == 20484);
    assert_true(sample(&o, "D:\\ Label: Serial Number XA22aa2e")->min == 1);
    check_observation_fini(&o);

    perf(&o, "  short=4 'C:\\ Label:  Serial Number bc22aa2e'=8015MB;16387;18435;0;20484 end=5 ");
    assert_int_equal(o.n_samples, 3);
    assert_true(sample(&o, "short")->value == 4);
    assert_true(sample(&o, "end")->value == 5);
    assert_null(o.notes);
    check_observation_fini(&o);
}

static void test_checks_perfdata_quoted_labels(void **state)
{
    (void)state;
    struct check_observation o;
    perf(&o, "'it''s'=1 'a=b'=2 '''quoted'''=3 'tab\there'=4");
    assert_int_equal(o.n_samples, 4);
    assert_string_equal(o.samples[0].label, "it's");
    assert_string_equal(o.samples[1].label, "a=b");
    assert_string_equal(o.samples[2].label, "'quoted'");
    assert_string_equal(o.samples[3].label, "tab\there");
    char *p = format_perf(&o);
    assert_string_equal(p, "'it''s'=1 'a=b'=2 '''quoted'''=3 'tab\there'=4");
    free(p);
    check_observation_fini(&o);

    /* No closing quote: that token is skipped, the next item read. */
    perf(&o, "'open=5 x=3");
    assert_int_equal(o.n_samples, 1);
    assert_string_equal(o.samples[0].label, "x");
    assert_true(notes_say(&o, "\"'open=5\": the quoted label has no closing quote; skipped"));
    check_observation_fini(&o);

    /* A closing quote must not be sought past the line. */
    perf(&o, "'a\nb'=1 c=2");
    assert_int_equal(o.n_samples, 1);
    assert_string_equal(o.samples[0].label, "c");
    check_observation_fini(&o);

    perf(&o, "''=1 =2 'x'y=3 z=4");
    assert_int_equal(o.n_samples, 1);
    assert_string_equal(o.samples[0].label, "z");
    assert_true(notes_say(&o, "\"''=1\": the label is empty; skipped"));
    assert_true(notes_say(&o, "\"=2\": the label is empty; skipped"));
    assert_true(notes_say(&o, "\"'x'y=3\": no '=' after the label; skipped"));
    check_observation_fini(&o);
}

static void test_checks_perfdata_undetermined_value(void **state)
{
    (void)state;
    struct check_observation o;
    perf(&o, "rta=U;100;200;0 pl=U");
    const struct check_sample *s = sample(&o, "rta");
    assert_false(s->has_value);
    assert_true(isnan(s->value));
    assert_string_equal(s->unit, "");
    assert_true(s->has_warn && s->has_crit && s->has_min);
    assert_false(sample(&o, "pl")->has_value);
    char *p = format_perf(&o);
    assert_string_equal(p, "rta=U;100;200;0 pl=U");
    free(p);
    check_observation_fini(&o);

    perf(&o, "x=Unknown y=");
    assert_int_equal(o.n_samples, 0);
    check_observation_fini(&o);
}

static void test_checks_perfdata_missing_and_extra_fields(void **state)
{
    (void)state;
    struct check_observation o;
    perf(&o, "a=1 b=1; c=1;;;; d=1;;5 e=1;;;;9 f=1;2;3;4;5; g=1;2;3;4;5;;;");
    assert_int_equal(o.n_samples, 7);
    assert_null(o.notes);
    assert_false(sample(&o, "c")->has_warn);
    assert_true(sample(&o, "d")->has_crit && !sample(&o, "d")->has_warn);
    assert_true(sample(&o, "e")->has_max && sample(&o, "e")->max == 9);
    char *p = format_perf(&o);
    assert_string_equal(p, "a=1 b=1 c=1 d=1;;5 e=1;;;;9 f=1;2;3;4;5 g=1;2;3;4;5");
    free(p);
    check_observation_fini(&o);

    perf(&o, "h=1;2;3;4;5;6 i=1;;;a;b j=1;x;@");
    assert_int_equal(o.n_samples, 3);
    assert_true(notes_say(&o, "\"h=1;2;3;4;5;6\": fields after max ignored"));
    assert_false(sample(&o, "i")->has_min || sample(&o, "i")->has_max);
    assert_true(notes_say(&o, "min \"a\" is not a number; ignored"));
    assert_true(notes_say(&o, "max \"b\" is not a number; ignored"));
    assert_false(sample(&o, "j")->has_warn || sample(&o, "j")->has_crit);
    assert_true(notes_say(&o, "warn \"x\" is not a range; ignored"));
    check_observation_fini(&o);

    perf(&o, "k= l=;1;2 m=1e999 n=5.5.5 o=5e3e3 p=1e-999e0");
    assert_int_equal(o.n_samples, 0);
    /* Found by fuzz_plugin: a unit that reads as an exponent could not be written back. */
    assert_true(notes_say(&o, "\"o=5e3e3\": the value is not a number; skipped"));
    assert_true(notes_say(&o, "\"p=1e-999e0\": the value is not a number; skipped"));
    assert_true(notes_say(&o, "\"m=1e999\": the value is out of range; skipped"));
    assert_true(notes_say(&o, "\"n=5.5.5\": the value is not a number; skipped"));
    check_observation_fini(&o);
}

/* Ranges from nagios-threshold-range-examples.txt, as the warn and crit fields. */
static void test_checks_perfdata_threshold_ranges(void **state)
{
    (void)state;
    struct check_observation o;
    perf(&o, "a=1;10;10: b=1;~:10;10:20 c=1;@10:20;-7:23 d=1;:5.75;~:-95.99 "
             "e=1;12345678901234567890:;~:0 f=1;@0:657.8210567;@1:1 g=1;1:1;2:1");
    const struct check_sample *s = sample(&o, "a");
    assert_range(&s->warn, 0, 10, false);
    assert_range(&s->crit, 10, INFINITY, false);
    s = sample(&o, "b");
    assert_range(&s->warn, -INFINITY, 10, false);
    assert_range(&s->crit, 10, 20, false);
    s = sample(&o, "c");
    assert_range(&s->warn, 10, 20, true);
    assert_true(units_range_alerts(&s->warn, 10) && !units_range_alerts(&s->warn, 9));
    assert_range(&s->crit, -7, 23, false);
    s = sample(&o, "d");
    assert_range(&s->warn, 0, 5.75, false);
    assert_range(&s->crit, -INFINITY, -95.99, false);
    s = sample(&o, "e");
    assert_range(&s->warn, 12345678901234567890.0, INFINITY, false);
    assert_range(&s->crit, -INFINITY, 0, false);
    s = sample(&o, "f");
    assert_range(&s->warn, 0, 657.8210567, true);
    assert_range(&s->crit, 1, 1, true);
    s = sample(&o, "g");
    assert_range(&s->warn, 1, 1, false);
    assert_false(s->has_crit); /* "2:1" is rejected */
    assert_true(notes_say(&o, "crit \"2:1\" is not a range; ignored"));

    /* Numbers are written with the fewest digits that read back the same double. */
    char *p = format_perf(&o);
    assert_string_equal(p, "a=1;10;10: b=1;~:10;10:20 c=1;@10:20;-7:23 d=1;5.75;~:-95.99 "
                           "e=1;12345678901234567000:;~:0 f=1;@657.8210567;@1:1 g=1;1:1");
    free(p);
    check_observation_fini(&o);

    /* The value's unit repeated on a threshold ("1:12%%" style) is accepted. */
    perf(&o, "pct=5%;1:12%;90%;0%;100%");
    s = sample(&o, "pct");
    assert_range(&s->warn, 1, 12, false);
    assert_range(&s->crit, 0, 90, false);
    assert_true(s->min == 0 && s->max == 100);
    assert_null(o.notes);
    check_observation_fini(&o);
}

static void test_checks_perfdata_negative_values(void **state)
{
    (void)state;
    struct check_observation o;
    perf(&o, "temp=-5.5C;-10:;~:-1;-40;85 delta=+3 z=-0");
    const struct check_sample *s = sample(&o, "temp");
    assert_true(s->value == -5.5);
    assert_string_equal(s->unit, "C");
    assert_range(&s->warn, -10, INFINITY, false);
    assert_range(&s->crit, -INFINITY, -1, false);
    assert_true(s->min == -40 && s->max == 85);
    assert_true(sample(&o, "delta")->value == 3);
    assert_true(sample(&o, "z")->value == 0);
    check_observation_fini(&o);
}

static void test_checks_perfdata_lenient_whitespace(void **state)
{
    (void)state;
    struct check_observation o;
    /* A blank before '=' (IBM/nagios-for-i #20), tabs, '|' between items, blank lines. */
    perf(&o, " \t a =1 \t\n\n b\t=2|c=3 || d=4\t");
    assert_int_equal(o.n_samples, 4);
    assert_true(sample(&o, "a")->value == 1);
    assert_true(sample(&o, "b")->value == 2);
    assert_true(sample(&o, "c")->value == 3);
    assert_true(sample(&o, "d")->value == 4);
    assert_null(o.notes);
    check_observation_fini(&o);

    /* Unquoted labels with blanks cannot be told from junk: the word before the blank goes. */
    perf(&o, "free space=10");
    assert_int_equal(o.n_samples, 1);
    assert_true(sample(&o, "space")->value == 10);
    assert_true(notes_say(&o, "\"free\": no '=' after the label; skipped"));
    check_observation_fini(&o);

    perf(&o, "");
    assert_int_equal(o.n_samples, 0);
    assert_null(o.notes);
    check_observation_fini(&o);
}

static void test_checks_perfdata_bounds(void **state)
{
    (void)state;
    struct check_observation o;
    struct strbuf b;
    strbuf_init(&b, 0);

    /* A label past CHECK_LABEL_MAX is skipped whole, quoted blanks and all. */
    strbuf_adds(&b, "'");
    for (int i = 0; i <= CHECK_LABEL_MAX; i++)
        strbuf_adds(&b, i % 10 == 0 ? " " : "x");
    strbuf_adds(&b, "'=1 ok=2 ");
    for (int i = 0; i <= CHECK_LABEL_MAX; i++)
        strbuf_addc(&b, 'y');
    strbuf_adds(&b, "=3 ");
    for (int i = 0; i < CHECK_LABEL_MAX; i++)
        strbuf_addc(&b, 'z'); /* exactly at the bound: kept */
    strbuf_adds(&b, "=4");
    perf(&o, b.s);
    assert_int_equal(o.n_samples, 2);
    assert_string_equal(o.samples[0].label, "ok");
    assert_int_equal(strlen(o.samples[1].label), CHECK_LABEL_MAX);
    assert_true(notes_say(&o, "the label is longer than 256 bytes; skipped"));
    assert_false(notes_say(&o, "perfdata item \"xxxx")); /* the long label went as one item */
    check_observation_fini(&o);

    strbuf_reset(&b);
    strbuf_addf(&b, "u=1%.*s", CHECK_UNIT_MAX + 1,
                "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
    perf(&o, b.s);
    assert_int_equal(o.n_samples, 0);
    assert_true(notes_say(&o, "the unit is longer than 32 bytes; skipped"));
    check_observation_fini(&o);

    /* At most CHECK_SAMPLES_MAX items. */
    strbuf_reset(&b);
    for (int i = 0; i < CHECK_SAMPLES_MAX + 50; i++)
        strbuf_addf(&b, "m%d=%d ", i, i);
    perf(&o, b.s);
    assert_int_equal(o.n_samples, CHECK_SAMPLES_MAX);
    assert_true(o.samples[CHECK_SAMPLES_MAX - 1].value == CHECK_SAMPLES_MAX - 1);
    assert_true(notes_say(&o, "more than 256 perfdata items; the rest are dropped"));
    check_observation_fini(&o);

    /* Notes stay under CHECK_NOTES_MAX and say that some were dropped. */
    strbuf_reset(&b);
    for (int i = 0; i < 1000; i++)
        strbuf_addf(&b, "junk%d ", i);
    perf(&o, b.s);
    assert_int_equal(o.n_samples, 0);
    assert_true(strlen(o.notes) < CHECK_NOTES_MAX);
    size_t n = strlen(o.notes);
    assert_string_equal(o.notes + n - strlen("(more notes dropped)"), "(more notes dropped)");
    check_observation_fini(&o);
    strbuf_fini(&b);
}

/* Found by fuzz_plugin: a note quoting a field cut a U+FFFD in half. */
static void test_checks_notes_never_split_a_character(void **state)
{
    (void)state;
    struct check_observation o;
    static const char out[] = "OK | /=1;21\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0;3 "
                              "\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0\xB0";
    parse_n(&o, 0, 0, out, sizeof(out) - 1, 0);
    assert_non_null(o.notes);
    /* Every U+FFFD in the notes is whole. */
    size_t whole = 0, lead = 0;
    for (const char *p = o.notes; (p = strstr(p, "\xEF\xBF\xBD")); p += 3)
        whole++;
    for (const char *p = o.notes; *p; p++)
        lead += (unsigned char)*p == 0xEF;
    assert_int_equal(whole, lead);
    assert_true(whole > 0);
    check_observation_fini(&o);
}

static void test_checks_unit_scale(void **state)
{
    (void)state;
    double f;
    const char *base;
    assert_true(check_unit_scale("ms", &f, &base));
    assert_true(f == 1e-3);
    assert_string_equal(base, "s");
    assert_true(check_unit_scale("us", &f, &base) && f == 1e-6);
    assert_true(check_unit_scale("s", &f, &base) && f == 1);
    assert_true(check_unit_scale("KB", &f, &base) && f == 1000);
    assert_string_equal(base, "B");
    assert_true(check_unit_scale("TB", &f, &base) && f == 1e12);
    assert_true(check_unit_scale("MiB", &f, &base) && f == 1048576);
    assert_true(check_unit_scale("B", &f, NULL) && f == 1);
    assert_false(check_unit_scale("%", &f, &base));
    assert_true(f == 1);
    assert_string_equal(base, "%");
    assert_false(check_unit_scale("c", &f, &base));
    assert_false(check_unit_scale("", &f, &base));
    assert_false(check_unit_scale("kb", NULL, NULL)); /* units are case-sensitive */
}

/* ---- captured plugin output, read from the fixture at test time ---- */

struct captured {
    const char *command; /* a prefix of the "$ " line */
    size_t n_samples;
};

/* What each block of the capture holds; every block must be listed. */
static const struct captured captured_blocks[] = {
        {"check_load -w", 3},     {"check_load -r", 6},        {"check_disk -w 20%", 1},
        {"check_disk -w 99%", 1}, {"check_procs -w 1:500", 1}, {"check_users", 1},
        {"check_swap", 1},        {"check_dummy 0", 0},        {"check_dummy 1", 0},
        {"check_dummy 2", 0},     {"check_dummy 3", 0},        {"check_file_age", 2},
        {"check_tcp", 0},         {"check_disk -w 10", 1},     {"check_procs -w 1:1", 1},
        {"check_load --help", 0},
};

static char *read_fixture(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", HALE_FIXTURES_DIR, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    struct strbuf b;
    strbuf_init(&b, 0);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        strbuf_add(&b, buf, n);
    fclose(f);
    return strbuf_detach(&b, NULL);
}

static void check_captured_block(const char *command, const char *out, size_t len, int code)
{
    const struct captured *c = NULL;
    const char *plugin = strstr(command, "check_");
    assert_non_null(plugin);
    for (size_t i = 0; i < sizeof(captured_blocks) / sizeof(captured_blocks[0]); i++)
        if (strncmp(plugin, captured_blocks[i].command, strlen(captured_blocks[i].command)) == 0)
            c = &captured_blocks[i];
    if (!c)
        fail_msg("no expectation for \"%s\"", command);

    struct check_observation o;
    parse_n(&o, code, 0, out, len, 0);
    assert_int_equal(o.status, code);
    /* The summary is the first line left of '|', blanks trimmed. */
    size_t first = strcspn(out, "|\n");
    while (first > 0 && out[first - 1] == ' ')
        first--;
    assert_int_equal(strlen(o.summary), first);
    assert_memory_equal(o.summary, out, first);
    if (o.n_samples != c->n_samples)
        fail_msg("\"%s\": %zu samples, expected %zu", command, o.n_samples, c->n_samples);
    if (o.notes)
        fail_msg("\"%s\": notes on real output: %s", command, o.notes);
    assert_round_trip(&o);
    check_observation_fini(&o);
}

static void test_checks_captured_monitoring_plugins_output(void **state)
{
    (void)state;
    char *text = read_fixture("nagios-plugin-output-captured-monitoring-plugins-2.3.3.txt");
    size_t blocks = 0;
    char *p = strstr(text, "\n$ ");
    while (p) {
        char *command = p + 3;
        char *out = strchr(command, '\n');
        assert_non_null(out);
        *out++ = '\0';
        char *exit = strstr(out, "[exit=");
        assert_non_null(exit);
        int code = (int)strtol(exit + 6, NULL, 10);
        check_captured_block(command, out, (size_t)(exit - out), code);
        blocks++;
        p = strstr(exit, "\n$ ");
    }
    assert_int_equal(blocks, sizeof(captured_blocks) / sizeof(captured_blocks[0]));
    free(text);
}

/* Spot checks of values in the same capture, copied from it. */
static void test_checks_captured_values(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 0,
          "LOAD OK - total load average: 0.38, 0.26, 0.10|load1=0.380;5.000;10.000;0; "
          "load5=0.260;4.000;8.000;0; load15=0.100;3.000;6.000;0; \n");
    assert_string_equal(o.summary, "LOAD OK - total load average: 0.38, 0.26, 0.10");
    const struct check_sample *s = sample(&o, "load5");
    assert_true(s->value == 0.26);
    assert_range(&s->warn, 0, 4, false);
    assert_true(s->has_min && !s->has_max);
    char *line = format(&o, 0);
    assert_string_equal(line, "LOAD OK - total load average: 0.38, 0.26, 0.10 | "
                              "load1=0.38;5;10;0 load5=0.26;4;8;0 load15=0.1;3;6;0");
    free(line);
    check_observation_fini(&o);

    parse(&o, 0,
          "DISK OK - free space: / 80505MiB (82% inode=97%);| "
          "/=18328059904B;216442024755;243497277849;0;270552530944\n");
    s = sample(&o, "/");
    assert_true(s->value == 18328059904.0);
    assert_true(s->max == 270552530944.0);
    check_observation_fini(&o);

    parse(&o, 2, "PROCS CRITICAL: 8 processes with command name 'bash' | procs=8;1:1;1:2;0;\n");
    s = sample(&o, "procs");
    assert_range(&s->warn, 1, 1, false);
    assert_range(&s->crit, 1, 2, false);
    assert_true(units_range_alerts(&s->crit, s->value));
    check_observation_fini(&o);

    parse(&o, 2, "connect to address 127.0.0.1 and port 1: Connection refused\n");
    assert_int_equal(o.status, CHECK_STATUS_CRITICAL);
    line = format(&o, 0);
    assert_string_equal(line, "CRITICAL - connect to address 127.0.0.1 and port 1: "
                              "Connection refused");
    free(line);
    check_observation_fini(&o);

    parse(&o, 3,
          "check_load v2.3.3 (monitoring-plugins 2.3.3)\n"
          "Copyright (c) 1999 Felipe Gustavo de Almeida <galmeida@linux.ime.usp.br>\n"
          "Copyright (c) 1999-2022 Monitoring Plugins Development Team\n"
          "\t<devel@monitoring-plugins.org>\n\n");
    assert_int_equal(o.status, CHECK_STATUS_UNKNOWN);
    assert_string_equal(o.summary, "check_load v2.3.3 (monitoring-plugins 2.3.3)");
    assert_string_equal(o.long_output,
                        "Copyright (c) 1999 Felipe Gustavo de Almeida <galmeida@linux.ime.usp.br>\n"
                        "Copyright (c) 1999-2022 Monitoring Plugins Development Team\n"
                        "\t<devel@monitoring-plugins.org>");
    check_observation_fini(&o);
}

/* Every perfdata line of nagios-perfdata-examples.txt [D], read at test time, round-trips. */
static void test_checks_perfdata_fixture_round_trips(void **state)
{
    (void)state;
    char *text = read_fixture("nagios-perfdata-examples.txt");
    char *d = strstr(text, "## [D]");
    assert_non_null(d);
    size_t lines = 0;
    for (char *line = strchr(d, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        char *start = line + 1;
        if (start[0] == '#')
            continue;
        size_t len = strcspn(start, "\n");
        char *arrow = strstr(start, "=>");
        if (arrow && (size_t)(arrow - start) < len)
            len = (size_t)(arrow - start);
        char *item = xstrndup(start, len);
        struct check_observation o = {0};
        check_perfdata_parse(&o, item, len);
        o.summary = xstrdup("perfdata");
        o.notes = (free(o.notes), NULL); /* the skipped items are gone from the line */
        assert_round_trip(&o);
        check_observation_fini(&o);
        free(item);
        lines++;
    }
    assert_true(lines >= 20);
    free(text);
}

/* The examples of docs/checks.md read as the page says. */
static void test_checks_docs_examples(void **state)
{
    (void)state;
    struct check_observation o;
    parse(&o, 0,
          "OK - 3 sensors | 'CPU temp'=42.5C;~:70;~:85;0;110 fan=U;300:;100: 'it''s'=1 "
          "load1=0.380;5.000;10.000;0;");
    assert_null(o.notes);
    assert_int_equal(o.n_samples, 4);
    const struct check_sample *s = sample(&o, "CPU temp");
    assert_string_equal(s->unit, "C");
    assert_range(&s->crit, -INFINITY, 85, false);
    assert_true(s->max == 110);
    assert_false(sample(&o, "fan")->has_value);
    assert_range(&sample(&o, "fan")->warn, 300, INFINITY, false);
    assert_true(sample(&o, "it's")->value == 1);
    check_observation_fini(&o);

    parse(&o, 0,
          "DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968\n"
          "/ 15272 MB (77%);\n/boot 68 MB (69%);\n/var/log 819 MB (84%); | "
          "/boot=68MB;88;93;0;98\n/var/log=818MB;970;975;0;980\n");
    assert_string_equal(o.long_output, "/ 15272 MB (77%);\n/boot 68 MB (69%);\n"
                                       "/var/log 819 MB (84%);");
    assert_int_equal(o.n_samples, 3);
    assert_string_equal(o.samples[2].label, "/var/log");
    check_observation_fini(&o);

    perf(&o, "time=250ms rta=&391ms users =4 pct=5%;80%;90%");
    assert_true(sample(&o, "time")->value == 250);
    assert_string_equal(o.notes,
                        "perfdata item \"rta=&391ms\": the value is not a number; skipped");
    assert_true(sample(&o, "users")->value == 4);
    assert_range(&sample(&o, "pct")->crit, 0, 90, false);
    check_observation_fini(&o);
}

/* ---- the formatter ---- */

static void test_checks_format_line(void **state)
{
    (void)state;
    struct check_sample s[3] = {
            {.label = "time",
             .unit = "s",
             .value = 0.5,
             .has_value = true,
             .has_warn = true,
             .warn = {.start = 0, .end = 1},
             .has_crit = true,
             .crit = {.start = 0, .end = 2},
             .has_min = true,
             .min = 0,
             .has_max = true,
             .max = 10},
            {.label = "page file",
             .unit = "%",
             .value = 36,
             .has_value = true,
             .has_max = true,
             .max = 100},
            {.label = "inside",
             .unit = "",
             .value = 15,
             .has_value = true,
             .has_warn = true,
             .warn = {.start = 10, .end = 20, .inside = true},
             .has_crit = true,
             .crit = {.start = 0, .end = INFINITY}},
    };
    struct check_observation o = {.status = CHECK_STATUS_WARNING,
                                  .summary = "slow | odd\nline",
                                  .samples = s,
                                  .n_samples = 3};
    char *line = format(&o, 0);
    assert_string_equal(line, "WARNING - slow / odd line | time=0.5s;1;2;0;10 "
                              "'page file'=36%;;;;100 inside=15;@10:20;0:");
    free(line);

    /* The summary names its status: no prefix. */
    o.summary = "HTTP WARNING: 1.2 second response";
    o.n_samples = 0;
    line = format(&o, 0);
    assert_string_equal(line, "HTTP WARNING: 1.2 second response");
    free(line);
    o.summary = "WARNINGS: 2"; /* not the word */
    line = format(&o, 0);
    assert_string_equal(line, "WARNING - WARNINGS: 2");
    free(line);
    o.summary = "";
    line = format(&o, 0);
    assert_string_equal(line, "WARNING");
    free(line);

    /* Samples without a label cannot be written: no empty perfdata part either. */
    struct check_sample nameless = {.label = "", .unit = "", .value = 1, .has_value = true};
    o.samples = &nameless;
    o.n_samples = 1;
    o.summary = "x";
    line = format(&o, 0);
    assert_string_equal(line, "WARNING - x");
    free(line);
    o.n_samples = 0;

    o.summary = "OK - x";
    o.status = CHECK_STATUS_OK;
    o.long_output = "line 1 | not perfdata\nline 2";
    line = format(&o, CHECK_FORMAT_LONG_OUTPUT);
    assert_string_equal(line, "OK - x\nline 1 / not perfdata\nline 2");
    free(line);
    line = format(&o, 0);
    assert_string_equal(line, "OK - x");
    free(line);

    /* A capped buffer reports the limit. */
    struct strbuf b;
    strbuf_init(&b, 4);
    assert_int_equal(check_observation_format(&o, 0, &b), HALE_ELIMIT);
    strbuf_fini(&b);
}

static void test_checks_format_numbers_plainly(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {
            {0, "0"},
            {-0.0, "0"},
            {1, "1"},
            {-5, "-5"},
            {0.001229, "0.001229"},
            {1.120567322e-05, "0.00001120567322"},
            {18328059904.0, "18328059904"},
            {4.3e25, "43000000000000000000000000"},
            {0.1 + 0.2, "0.30000000000000004"},
            {1e-7, "0.0000001"},
            {123.456, "123.456"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct check_sample s = {.label = "v", .unit = "", .value = cases[i].v, .has_value = true};
        struct check_observation o = {.samples = &s, .n_samples = 1};
        char *p = format_perf(&o);
        char *want = xasprintf("v=%s", cases[i].text);
        assert_string_equal(p, want);
        free(want);
        free(p);
        o.summary = "x";
        assert_round_trip(&o);
    }
}

static void test_checks_format_round_trips(void **state)
{
    (void)state;
    struct check_sample s[] = {
            {.label = "it's a 'label'", .unit = "ms", .value = -0.25, .has_value = true},
            {.label = "a=b;c|d",
             .unit = "GBP",
             .value = 1e-300,
             .has_value = true,
             .has_warn = true,
             .warn = {.start = -INFINITY, .end = -1e-20},
             .has_crit = true,
             .crit = {.start = 1e20, .end = INFINITY, .inside = true}},
            {.label = "u", .unit = "", .value = NAN, .has_min = true, .min = -1e300},
            {.label = "big",
             .unit = "B",
             .value = 1.7976931348623157e308,
             .has_value = true,
             .has_max = true,
             .max = 5e-324},
    };
    for (int st = 0; st <= 3; st++) {
        struct check_observation o = {.status = (enum check_status)st,
                                      .summary = "something happened",
                                      .long_output = "detail one\n\n  indented detail",
                                      .samples = s,
                                      .n_samples = sizeof(s) / sizeof(s[0])};
        assert_round_trip(&o);
        char *line = format(&o, 0);
        struct check_observation again;
        parse(&again, st, line);
        char *want = xasprintf("%s - something happened", check_status_label(o.status));
        assert_string_equal(again.summary, want);
        free(want);
        free(line);
        check_observation_fini(&again);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_checks_status_names_and_labels),
            cmocka_unit_test(test_checks_observation_fini_accepts_zeroed_and_twice),
            cmocka_unit_test(test_checks_packed_observation_unpacks_whole),
            cmocka_unit_test(test_checks_exit_codes_map_to_status),
            cmocka_unit_test(test_checks_other_exit_codes_are_unknown),
            cmocka_unit_test(test_checks_signal_death_is_unknown),
            cmocka_unit_test(test_checks_no_output_keeps_the_exit_status),
            cmocka_unit_test(test_checks_nagios_pluginapi_cases),
            cmocka_unit_test(test_checks_developer_guidelines_template),
            cmocka_unit_test(test_checks_guidelines_output_examples),
            cmocka_unit_test(test_checks_crlf_line_ends),
            cmocka_unit_test(test_checks_nul_and_invalid_bytes_become_replacement),
            cmocka_unit_test(test_checks_huge_output_is_truncated),
            cmocka_unit_test(test_checks_truncation_drops_the_cut_perfdata_item),
            cmocka_unit_test(test_checks_perfdata_reference_parser_strings),
            cmocka_unit_test(test_checks_perfdata_quoted_labels),
            cmocka_unit_test(test_checks_perfdata_undetermined_value),
            cmocka_unit_test(test_checks_perfdata_missing_and_extra_fields),
            cmocka_unit_test(test_checks_perfdata_threshold_ranges),
            cmocka_unit_test(test_checks_perfdata_negative_values),
            cmocka_unit_test(test_checks_perfdata_lenient_whitespace),
            cmocka_unit_test(test_checks_perfdata_bounds),
            cmocka_unit_test(test_checks_notes_never_split_a_character),
            cmocka_unit_test(test_checks_unit_scale),
            cmocka_unit_test(test_checks_captured_monitoring_plugins_output),
            cmocka_unit_test(test_checks_captured_values),
            cmocka_unit_test(test_checks_perfdata_fixture_round_trips),
            cmocka_unit_test(test_checks_docs_examples),
            cmocka_unit_test(test_checks_format_line),
            cmocka_unit_test(test_checks_format_numbers_plainly),
            cmocka_unit_test(test_checks_format_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
