/* The sandbox's billing clock (TipzedSandbox On only; elsewhere these
 * routes answer 404): an admin moves the billing engine's "now" forward,
 * so that trials end and renewals fall due at once, and runs the engine's
 * pass without waiting for the watchdog's next tick.  Moving the clock
 * never moves the ledger's own timestamps. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "tz_parse.h"
#include "tz_schema.h"

/* The longest single move: ten years. */
#define TZ_CLOCK_MAX_ADVANCE (10LL * 366 * 86400)

static int clock_off(tz_req_t *q)
{
    return !q->cfg->providers[TZ_PROV_SANDBOX].enabled;
}

static int clock_answer(tz_req_t *q, const char *advance)
{
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_CLOCK, &advance, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK, res);
}

/* GET /sandbox/clock -> {now, offset_seconds} */
int tz_h_clock_get(tz_req_t *q)
{
    if (clock_off(q))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "the sandbox is off");
    return clock_answer(q, NULL);
}

/* POST /sandbox/clock {advance: a duration such as "31d"} */
int tz_h_clock_advance(tz_req_t *q)
{
    int64_t secs;
    if (clock_off(q))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "the sandbox is off");
    if (tz_validate_or_422(q, &tz_schema_clock))
        return OK;
    if (tz_parse_duration(tz_json_str(q->body, "advance"), &secs) || secs <= 0 ||
        secs > TZ_CLOCK_MAX_ADVANCE)
        return tz_send_invalid(q->r, "advance", "must be a duration from 1s to 3660d "
                               "(e.g. \"90s\", \"12h\", \"31d\")");
    return clock_answer(q, apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)secs));
}

/* POST /sandbox/billing/run: engine passes until nothing is due (at most
 * 100) -> {"acted": n}. */
int tz_h_billing_run(tz_req_t *q)
{
    int n = 0, k, passes = 0;
    if (clock_off(q))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "the sandbox is off");
    do
        n += (k = tz_billing_run(q->r->pool, q->r->server, q->cfg));
    while (k > 0 && ++passes < 100);
    return tz_send_json_text(q->r, HTTP_OK, apr_psprintf(q->r->pool, "{\"acted\":%d}", n));
}
