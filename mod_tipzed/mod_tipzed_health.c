/* /health (no database) and /health/detailed (round trip and schema). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_schema.h"

int tz_h_health(tz_req_t *q)
{
    return tz_send_json_text(q->r, HTTP_OK, "{\"status\":\"ok\"}");
}

/* The database's schema as read now, against the one this module was built
 * for; 503 when it is behind, since the API then answers 503 too. */
int tz_h_health_detailed(tz_req_t *q)
{
    request_rec *r = q->r;
    apr_time_t t0 = apr_time_now();
    tz_schema_info_t s;
    int rc = tz_schema_read(r, &s), behind = s.state == TZ_SCHEMA_BEHIND;
    double ms = (double)(apr_time_now() - t0) / 1000.0;
    if (rc != OK)
        return tz_send_json(r, HTTP_SERVICE_UNAVAILABLE, tz_json_pool(r->pool, json_pack(
            "{s:s, s:{s:s}}", "status", "unavailable", "database", "status", "unreachable")));
    return tz_send_json(r, behind ? HTTP_SERVICE_UNAVAILABLE : HTTP_OK, tz_json_pool(r->pool,
        json_pack("{s:s, s:{s:s, s:f, s:I, s:I, s:s, s:b, s:s}}",
                  "status", behind ? "schema_behind" : "ok", "database", "status", "ok",
                  "round_trip_ms", ms, "schema_version", (json_int_t)s.version,
                  "schema_expected", (json_int_t)tz_schema_expected_version(),
                  "schema_state", tz_schema_state_name(s.state), "schema_behind", behind,
                  "functions_digest", s.digest)));
}
