/* /health (no database) and /health/detailed (round trip and schema). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"

int tz_h_health(tz_req_t *q)
{
    return tz_send_json_text(q->r, HTTP_OK, "{\"status\":\"ok\"}");
}

int tz_h_health_detailed(tz_req_t *q)
{
    request_rec *r = q->r;
    apr_time_t t0 = apr_time_now();
    const char *version = NULL;
    int rc = tz_db_value(r, TZ_Q_SCHEMA_VERSION, NULL, &version);
    double ms = (double)(apr_time_now() - t0) / 1000.0;
    if (rc != OK || !version)
        return tz_send_json(r, HTTP_SERVICE_UNAVAILABLE, tz_json_pool(r->pool, json_pack(
            "{s:s, s:{s:s}}", "status", "unavailable", "database", "status", "unreachable")));
    return tz_send_json(r, HTTP_OK, tz_json_pool(r->pool, json_pack(
        "{s:s, s:{s:s, s:f, s:I}}", "status", "ok", "database", "status", "ok",
        "round_trip_ms", ms, "schema_version", (json_int_t)apr_atoi64(version))));
}
