/* SPDX-License-Identifier: MIT */
/*
 * The incidents section: when a recurrence reopens an incident, when
 * recurring incidents make a problem, and the ITIL priority matrix
 * (impact x urgency -> P1..P5).
 */
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"

const struct config__enum config__impacts[] = {
        {"high", CONFIG_IMPACT_HIGH},
        {"medium", CONFIG_IMPACT_MEDIUM},
        {"low", CONFIG_IMPACT_LOW},
        {NULL, 0},
};

#define PRIORITY_EXPECTED "a list of three priorities (P1 to P5) for urgency high, medium, low"

/* "P1".."P5" or 1..5. */
static bool parse_priority(const char *s, unsigned *ret)
{
    if ((s[0] == 'P' || s[0] == 'p') && s[1])
        s++;
    if (s[0] < '1' || s[0] > '5' || s[1])
        return false;
    *ret = (unsigned)(s[0] - '0');
    return true;
}

static bool parse_row(const struct config__at *at, yaml_node_t *node, unsigned row[3])
{
    if (node->type != YAML_SEQUENCE_NODE ||
        node->data.sequence.items.top - node->data.sequence.items.start != 3) {
        config__error(at->x, at->f, node, "expected " PRIORITY_EXPECTED ", got %s",
                      config__describe(at->x, node));
        return false;
    }
    for (int i = 0; i < 3; i++) {
        yaml_node_t *item = yaml_document_get_node(&at->f->doc, node->data.sequence.items.start[i]);
        const char *s = item ? config__scalar(item) : NULL;
        if (!s || !parse_priority(s, &row[i])) {
            config__error(at->x, at->f, item ? item : node, "expected a priority P1 to P5, got %s",
                          config__describe(at->x, item ? item : node));
            return false;
        }
    }
    return true;
}

/* priority: {high: [P1, P2, P3], medium: [...], low: [...]}, rows by impact. */
static bool parse_matrix(const struct config__at *at, const struct config__key *key,
                         yaml_node_t *node, void *obj)
{
    (void)key;
    struct config_incidents *inc = obj;
    if (node->type != YAML_MAPPING_NODE) {
        config__error(at->x, at->f, node,
                      "expected a mapping of impact (high, medium, low) to " PRIORITY_EXPECTED
                      ", got %s",
                      config__describe(at->x, node));
        return false;
    }
    bool ok = true;
    for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&at->f->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&at->f->doc, p->value);
        const char *name = config__scalar(k);
        int impact = -1;
        for (int i = 0; name && config__impacts[i].name; i++)
            if (strcmp(config__impacts[i].name, name) == 0)
                impact = config__impacts[i].value;
        if (impact < 0) {
            config__error(at->x, at->f, k, "unknown impact %s; expected high, medium or low",
                          config__describe(at->x, k));
            ok = false;
            continue;
        }
        ok &= parse_row(at, v, inc->priority[impact]);
    }
    return ok;
}

/* ITIL's usual matrix: P1 for high impact and high urgency, P5 for low and low. */
static const unsigned itil_priority[3][3] = {{1, 2, 3}, {2, 3, 4}, {3, 4, 5}};

#define I(field) offsetof(struct config_incidents, field)

static const struct config__key incidents_keys[] = {
        {.name = "reopen_within",
         .type = CONFIG__DURATION,
         .offset = I(reopen_within_ms),
         .def = "1h",
         .max = 366ull * 24 * 3600 * 1000},
        {.name = "problem_after",
         .type = CONFIG__UINT,
         .offset = I(problem_after),
         .def = "3",
         .min = 2,
         .max = 1000},
        {.name = "problem_within",
         .type = CONFIG__DURATION,
         .offset = I(problem_within_ms),
         .def = "7d",
         .min = 60 * 1000,
         .max = 366ull * 24 * 3600 * 1000},
        {.name = "priority", .type = CONFIG__CUSTOM, .offset = 0, .custom = parse_matrix},
        {.name = NULL},
};

static const struct config__table incidents_table = {"the incidents section", incidents_keys, NULL};

void config__parse_incidents(struct config__ctx *x)
{
    struct config_incidents *inc = &x->c->incidents;
    memcpy(inc->priority, itil_priority, sizeof(inc->priority));
    config__parse_single(x, CONFIG__INCIDENTS, &incidents_table, inc);
}
