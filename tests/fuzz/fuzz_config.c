/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target for the configuration loader: any bytes go to
 * config_load_buffer(), which must never crash, leak or hang, and must
 * either return a config or at least one diagnostic. Seeds in
 * corpus/fuzz_config/ (the demo configuration among them).
 */
#include <stdint.h>
#include <stdlib.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *c = NULL;
    struct config_diags d = {0};
    int r = config_load_buffer("fuzz.yaml", data, size, &c, &d);
    if ((r == 0) != (c != NULL) || (r < 0 && d.n == 0) || (r == 0 && d.n != 0))
        abort(); /* the contract: a config, or the reasons there is none */
    config_unref(c);
    config_diags_fini(&d);
    return 0;
}
