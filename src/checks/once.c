/* SPDX-License-Identifier: MIT */
/*
 * Checks run once, now, for `hale check`: each named check is attached,
 * run and detached on a loop of its own, concurrently up to a bound, with
 * no scheduler and no state. Each run is bounded by its check's timeout,
 * so the whole is bounded too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "checks/internal.h"

#define ONCE_PARALLEL_MAX 64

struct once {
    uv_loop_t uv;
    const struct config *config;
    const struct config_check *const *which;
    size_t n, next, running;
    struct check_host *hosts;
    bool *attached;
    struct check_observation *obs;
};

static void once_unknown(struct check_observation *o, const char *msg)
{
    *o = (struct check_observation){
            .status = CHECK_STATUS_UNKNOWN,
            .summary = xstrdup(msg),
            .started_ms = clock_real_ms(&clock_system),
    };
}

static void once_start_more(struct once *x);

static void once_done(struct check_run *run, void *data)
{
    struct once *x = data;
    size_t i = (size_t)(run->host - x->hosts);
    x->obs[i] = run->obs;
    memset(&run->obs, 0, sizeof(run->obs));
    x->running--;
    once_start_more(x);
}

static void once_start_more(struct once *x)
{
    while (x->running < ONCE_PARALLEL_MAX && x->next < x->n) {
        size_t i = x->next++;
        struct check_host *h = &x->hosts[i];
        const struct check_kind *kind = check_kind_find(h->cfg->type);
        if (!kind) {
            char msg[128];
            snprintf(msg, sizeof(msg), "hale cannot run %s checks yet",
                     config_check_type_name(h->cfg->type));
            once_unknown(&x->obs[i], msg);
            continue;
        }
        if (kind->attach) {
            struct err e = {0};
            int r = kind->attach(h, &e);
            if (r < 0) {
                once_unknown(&x->obs[i], e.msg[0] ? e.msg : hale_strerror(r));
                continue;
            }
        }
        x->attached[i] = true;
        x->running++;
        int r = check_run_start(h, once_done, x);
        if (r < 0) {
            x->running--;
            once_unknown(&x->obs[i], hale_strerror(r));
        }
    }
}

int checks_run_once(const struct config *config, const struct config_check *const *which, size_t n,
                    struct check_observation *ret_obs, struct err *e)
{
    struct once x = {.config = config, .which = which, .n = n};
    int r = uv_loop_init(&x.uv);
    if (r < 0)
        return err_setf(e, r, "event loop: %s", uv_strerror(r));
    x.hosts = xcalloc(n ? n : 1, sizeof(*x.hosts));
    x.attached = xcalloc(n ? n : 1, sizeof(*x.attached));
    x.obs = xcalloc(n ? n : 1, sizeof(*x.obs));
    for (size_t i = 0; i < n; i++)
        x.hosts[i] = (struct check_host){
                .uv = &x.uv,
                .cfg = which[i],
                .data_dir = config_server(config)->data_dir,
        };
    once_start_more(&x);
    uv_run(&x.uv, UV_RUN_DEFAULT);
    for (size_t i = 0; i < n; i++) {
        const struct check_kind *kind = check_kind_find(which[i]->type);
        if (x.attached[i] && kind->detach)
            kind->detach(&x.hosts[i]);
    }
    uv_run(&x.uv, UV_RUN_DEFAULT); /* what detach closed */
    uv_loop_close(&x.uv);
    memcpy(ret_obs, x.obs, n * sizeof(*ret_obs));
    free(x.obs);
    free(x.attached);
    free(x.hosts);
    return 0;
}
