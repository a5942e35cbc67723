/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for notification templates: parse any bytes against the
 * placeholders messages have; a refusal must point into the text; a
 * template that parses must render a message of every shape (a step, a
 * grouped incident, labels) without reading out of bounds, and render the
 * same text twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/template.h"
#include "config/config.h"
#include "itsm/incident.h"
#include "notify/channels.h"
#include "notify/message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void render_twice(struct template *t)
{
    struct incident i = {.id = 7,
                         .title = "disk <full> & \"hot\"",
                         .priority = 2,
                         .check = "disk",
                         .service = "db",
                         .opened_ms = 1700000000000};
    labels_init(&i.labels);
    labels_set(&i.labels, "host", "db-1", NULL);
    const struct incident *grouped[] = {&i, &i};
    struct message_step steps[] = {{1, "clean", "rm", "failed", "exit 1"},
                                   {1, "clean", "verify", "skipped", NULL}};
    const char *docs[] = {"https://docs.example/disk"}, *advice[] = {"look at /var/log"};
    struct message m = {.reason = NOTIFY_ESCALATED,
                        .incident = &i,
                        .text = "healing failed",
                        .steps = steps,
                        .n_steps = 2,
                        .docs = docs,
                        .n_docs = 1,
                        .advice = advice,
                        .n_advice = 1,
                        .grouped = grouped,
                        .n_grouped = 2,
                        .incident_url = "http://h/incidents/7",
                        .base_url = "http://h",
                        .now_ms = 1700000000000};
    struct config_notifier nt = {.name = "fuzz", .type = CONFIG_NOTIFIER_WEBHOOK, .template = t};
    struct strbuf a, b;
    int ra = message__text(&m, &nt, "", "", NULL, &a, NULL);
    int rb = message__text(&m, &nt, "", "", NULL, &b, NULL);
    if (ra != rb || (ra == 0 && (a.len != b.len || memcmp(a.s, b.s, a.len) != 0)))
        abort();
    if (ra == 0) {
        strbuf_fini(&a);
        strbuf_fini(&b);
    }
    labels_fini(&i.labels);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct template *t;
    struct template_pos pos;
    struct err e = {0};
    if (template_parse((const char *)data, size, config_template_known, NULL, &t, &pos, &e) < 0) {
        unsigned lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (size <= TEMPLATE_MAX_BYTES && (pos.line < 1 || pos.line > lines || pos.col < 1))
            abort(); /* a refusal points into the text */
        if (!e.msg[0])
            abort(); /* and says why */
        return 0;
    }
    render_twice(t);
    template_free(t);
    return 0;
}
