/* SPDX-License-Identifier: MIT */
/*
 * Small helpers over libyaml's document model, so that the parsers speak of
 * "a null", "a scalar" and "the value of key" instead of node ids and
 * styles.
 */
#include <string.h>

#include "config/internal.h"

/* Nodes visited before a load gives up: aliases can repeat a subtree many times. */
#define CONFIG__NODE_BUDGET 2000000

yaml_node_t *config__node(const struct config__file *f, int id)
{
    /* libyaml's getter takes a non-const document but only reads it. */
    const yaml_document_t *d = &f->doc;
    if (id < 1 || d->nodes.start + id > d->nodes.top)
        return NULL;
    return d->nodes.start + id - 1;
}

bool config__is_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE;
}

bool config__is_null(const yaml_node_t *n)
{
    if (!config__is_scalar(n))
        return false;
    if (n->tag && strcmp((const char *)n->tag, YAML_NULL_TAG) == 0)
        return true;
    if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
           strcmp(v, "NULL") == 0;
}

const char *config__scalar(const yaml_node_t *n)
{
    return (const char *)n->data.scalar.value;
}

const char *config__describe(struct config__ctx *x, const yaml_node_t *n)
{
    if (config__is_null(n))
        return "nothing";
    switch (n->type) {
    case YAML_SEQUENCE_NODE:
        return "a list";
    case YAML_MAPPING_NODE:
        return "a mapping";
    case YAML_SCALAR_NODE:
        break;
    default:
        return "nothing";
    }
    const char *v = config__scalar(n);
    size_t len = strcspn(v, "\n");
    if (len > 60)
        return config__scratchf(x, "\"%.57s...\"", v);
    if (v[len])
        return config__scratchf(x, "\"%.*s...\"", (int)len, v);
    return config__scratchf(x, "\"%s\"", v);
}

yaml_node_t *config__map_get(const struct config__file *f, const yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = config__node(f, p->key);
        if (config__is_scalar(k) && strcmp(config__scalar(k), key) == 0)
            return config__node(f, p->value);
    }
    return NULL;
}

bool config__charge(struct config__ctx *x, const struct config__file *f, const yaml_node_t *n,
                    size_t count)
{
    if (x->budget == 0)
        return false;
    if (count >= x->budget) {
        x->budget = 0;
        config__error(x, f, n,
                      "the configuration is too large: more than %d values, counting each use of "
                      "an alias",
                      CONFIG__NODE_BUDGET);
        return false;
    }
    x->budget -= count;
    return true;
}

bool config__visit(struct config__ctx *x, const struct config__file *f, const yaml_node_t *n)
{
    return config__charge(x, f, n, 1);
}

size_t config__node_budget(void)
{
    return CONFIG__NODE_BUDGET;
}
