/* The generic mobile-money redirect gateway of SPEC §3 (also the wire
 * format of the sandbox): checkout URL and signed callback events. */
#include <string.h>
#include <ctype.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"

char *tz_generic_checkout_url(apr_pool_t *p, const char *base, const tz_checkout_req_t *req)
{
    return apr_psprintf(p, "%s%sreference=%s&amount=%" APR_INT64_T_FMT "&currency=%s&callback=%s",
                         base, strchr(base, '?') ? "&" : "?", tz_url_escape(p, req->payment_id),
                         (apr_int64_t)req->amount, tz_url_escape(p, req->currency),
                         tz_url_escape(p, req->callback_url));
}

tz_parse_status_e tz_generic_parse_event(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev)
{
    const char *err, *status, *tx, *cur;
    json_t *j = tz_json_parse(p, body, len, &err), *ts, *amount;
    memset(ev, 0, sizeof(*ev));
    if (!j || !json_is_object(j))
        return TZ_PARSE_MALFORMED;
    ev->payment_id = tz_json_str(j, "payment_id");
    status = tz_json_str(j, "status");
    ts = json_object_get(j, "timestamp");
    amount = json_object_get(j, "amount");
    tx = tz_json_str(j, "provider_transaction_id");
    cur = tz_json_str(j, "currency");
    if (!ev->payment_id || !tz_is_uuid(ev->payment_id) || !status ||
        (strcmp(status, "success") != 0 && strcmp(status, "failed") != 0) ||
        (ts && !json_is_integer(ts)) || (amount && !json_is_integer(amount)) ||
        (json_object_get(j, "currency") && (!cur || tz_parse_currency(cur))) ||
        (json_object_get(j, "provider_transaction_id") && (!tx || !*tx || strlen(tx) > 200)))
        return TZ_PARSE_MALFORMED;
    char *id = apr_pstrdup(p, ev->payment_id);
    for (char *c = id; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    ev->payment_id = id;
    ev->kind = strcmp(status, "success") == 0 ? TZ_EV_SUCCESS : TZ_EV_FAILED;
    ev->provider_tx_id = tx ? apr_pstrdup(p, tx) : NULL;
    ev->timestamp = ts ? json_integer_value(ts) : 0;
    ev->has_amount = amount != NULL;
    ev->amount = amount ? json_integer_value(amount) : 0;
    ev->currency = cur ? apr_pstrdup(p, cur) : NULL;
    ev->event_id = tx ? ev->provider_tx_id : apr_pstrcat(p, ev->payment_id, ":", status, NULL);
    return TZ_PARSE_OK;
}
