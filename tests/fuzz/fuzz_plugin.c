/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the Monitoring Plugins parser and formatter. The first
 * byte chooses how the plugin ended (an exit code or a signal) and the
 * byte cap; the rest is its stdout. Every observation must respect the
 * bounds and hold valid UTF-8, and formatting it, parsing the line and
 * formatting again must give the same status, samples, long output and line.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/strbuf.h"
#include "checks/checks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool is_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        size_t n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        if (*u >= 0x80 && (*u < 0xC2 || *u > 0xF4))
            return false;
        for (size_t i = 1; i < n; i++)
            if ((u[i] & 0xC0) != 0x80)
                return false;
        u += n;
    }
    return true;
}

static void check_bounds(const struct check_observation *o)
{
    require(o->summary && is_utf8(o->summary));
    require(!o->long_output || is_utf8(o->long_output));
    require(!o->notes || (strlen(o->notes) < CHECK_NOTES_MAX && is_utf8(o->notes)));
    require(o->status <= CHECK_STATUS_UNKNOWN);
    require(o->n_samples <= CHECK_SAMPLES_MAX);
    for (size_t i = 0; i < o->n_samples; i++) {
        const struct check_sample *s = &o->samples[i];
        size_t n = strlen(s->label);
        require(n > 0 && n <= CHECK_LABEL_MAX && is_utf8(s->label));
        require(strlen(s->unit) <= CHECK_UNIT_MAX && is_utf8(s->unit));
        require(s->has_value ? isfinite(s->value) : isnan(s->value));
    }
}

/*
 * The range parser reads at most 127 characters, so a threshold endpoint
 * near 1e127 cannot always be written back in plain decimal.
 */
static bool has_huge_threshold(const struct check_observation *o)
{
    for (size_t i = 0; i < o->n_samples; i++) {
        const struct check_sample *s = &o->samples[i];
        if ((s->has_warn && (fabs(s->warn.start) >= 1e100 || fabs(s->warn.end) >= 1e100)) ||
            (s->has_crit && (fabs(s->crit.start) >= 1e100 || fabs(s->crit.end) >= 1e100)))
            return true;
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const int64_t codes[] = {0, 1, 2, 3, 4, 127, 255, -1};
    struct check_plugin_result res = {
            .exit_status = codes[data[0] & 7],
            .term_signal = (data[0] & 0x08) ? 9 : 0,
            .output = (const char *)data + 1,
            .output_len = size - 1,
            .output_truncated = (data[0] & 0x10) != 0,
    };
    size_t max = (data[0] & 0x20) ? 64 : 0;

    struct check_observation o;
    check_plugin_parse(&res, max, &o);
    check_bounds(&o);

    struct strbuf line;
    strbuf_init(&line, 0);
    require(check_observation_format(&o, CHECK_FORMAT_LONG_OUTPUT, &line) == 0);
    struct check_plugin_result again_res = {
            .exit_status = o.status, .output = line.s, .output_len = line.len};
    struct check_observation again;
    check_plugin_parse(&again_res, line.len + 1, &again);
    check_bounds(&again);
    require(again.status == o.status);
    require(again.n_samples == o.n_samples);
    require((again.long_output == NULL) == (o.long_output == NULL));
    require(!o.long_output || strcmp(again.long_output, o.long_output) == 0);
    if (!has_huge_threshold(&o)) {
        require(again.notes == NULL);
        for (size_t i = 0; i < o.n_samples; i++)
            require(check_sample_is_equal(&again.samples[i], &o.samples[i]));
        struct strbuf line2;
        strbuf_init(&line2, 0);
        require(check_observation_format(&again, CHECK_FORMAT_LONG_OUTPUT, &line2) == 0);
        require(strcmp(line2.s, line.s) == 0);
        strbuf_fini(&line2);
    }
    check_observation_fini(&again);
    strbuf_fini(&line);
    check_observation_fini(&o);
    return 0;
}
