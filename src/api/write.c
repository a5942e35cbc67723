/* SPDX-License-Identifier: MIT */
/*
 * POST /api/v1/write: a batch of line protocol, stored whole or refused
 * whole, answered 204 as InfluxDB answers. The body comes raw (the route
 * takes any Content-Type, as InfluxDB does) and is parsed on the loop
 * thread, where the series store lives; a refusal names the line and
 * column at fault, in the reason and as fields for machines.
 */
#include "api/write.h"

#include "api/handler.h"
#include "base/clock.h"
#include "base/log.h"
#include "ingest/lineproto.h"
#include "series/series.h"

static void reply_refused(struct api_req *req, unsigned status, const char *error,
                          const struct ingest_lineproto_error *e)
{
    json_t *o = api_error_new(status, error,
                              "line %u, column %u: %s; nothing of the batch was "
                              "stored",
                              e->line, e->column, e->msg);
    json_object_set_new(o, "line", json_integer(e->line));
    json_object_set_new(o, "column", json_integer(e->column));
    api_reply_json(req, status, o);
}

static void post_write(struct api_req *req, void *data)
{
    struct series_store *series = data;
    enum ingest_lineproto_precision precision = INGEST_LINEPROTO_NS;
    const char *p = api_req_query(req, "precision");
    if (p && !ingest_lineproto_precision_parse(p, &precision)) {
        api_reply_error(req, 400, "bad_request",
                        "precision must be ns, us, ms or s (the unit of the timestamps; default "
                        "ns)");
        return;
    }
    size_t len;
    const char *body = api_req_raw_body(req, &len);
    struct ingest_lineproto_writer *w = ingest_lineproto_writer_new();
    struct ingest_lineproto_result res;
    struct ingest_lineproto_error e = {0};
    int r = ingest_lineproto_write(w, series, body, len, precision, clock_real_ms(&clock_system),
                                   &res, &e);
    ingest_lineproto_writer_free(w);
    if (r == HALE_ELIMIT) {
        reply_refused(req, 507, "insufficient_storage", &e);
        return;
    }
    if (r < 0) {
        reply_refused(req, 400, "invalid_line_protocol", &e);
        return;
    }
    if (res.points == 0) {
        api_reply_error(req, 400, "invalid_line_protocol",
                        "the body holds no points: send line protocol, one point a line, such as "
                        "'cpu,host=web1 usage_idle=97.5'");
        return;
    }
    log_debug("api", NULL, "write: %zu points, %zu samples (%zu new series), %zu strings left out",
              res.points, res.samples, res.created, res.strings);
    api_reply_raw(req, 204, NULL, NULL, 0);
}

static const struct api_route write_routes[] = {
        {"POST", "/api/v1/write", AUTH_PERM_REPORT, post_write},
};

int api_write_routes_add(struct api *api, struct series_store *series, struct err *e)
{
    return api_routes_add_raw(api, write_routes, sizeof(write_routes) / sizeof(write_routes[0]),
                              series, e);
}
