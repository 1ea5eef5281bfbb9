/* The generic mobile-money redirect gateway (also the wire format of the
 * sandbox): the checkout URL the payer is sent to, and the signed callback
 * events the gateway posts back to /payments/webhook.
 *
 * Events are read strictly: each known field must have its documented
 * type, because a real amount (10.5) or a string amount ("10") means the
 * sender does not speak this protocol and must not be guessed at.
 * Unknown fields are ignored (gateways add fields), and an optional field
 * sent as JSON null counts as absent. */
#include <string.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "tz_validate.h"
#include "apr_strings.h"

/* Longest provider_transaction_id kept as an event id. */
#define TZ_GENERIC_MAX_TX 255

const char *tz_generic_checkout_link(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                     const tz_checkout_req_t *req)
{
    const char *base = cfg->base_url ? cfg->base_url : "";
    size_t n = strlen(base);
    /* a base that already carries a query keeps it; "…?" or "…&" needs no separator */
    const char *sep = !strchr(base, '?') ? "?"
                    : (n && (base[n - 1] == '?' || base[n - 1] == '&')) ? "" : "&";
    return apr_psprintf(p, "%s%sreference=%s&amount=%" APR_INT64_T_FMT "&currency=%s&callback=%s",
                        base, sep, tz_url_escape(p, req->payment_id), (apr_int64_t)req->amount,
                        tz_url_escape(p, req->currency), tz_url_escape(p, req->callback_url));
}

tz_sig_status_e tz_generic_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in)
{
    if (!cfg->webhook_secret || !cfg->webhook_secret_len)
        return TZ_SIG_MISMATCH; /* nothing can be verified without a secret */
    return tz_sig_verify_tv1(in->signature, cfg->webhook_secret, cfg->webhook_secret_len,
                             in->body, in->len, in->now, cfg->tolerance);
}

/* A member that is absent or JSON null is "not sent". */
static json_t *tz_optional(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

/* A JSON string without embedded NUL (which would hide a suffix from the
 * C string checks), else NULL. */
static const char *tz_clean_str(json_t *v)
{
    const char *s = json_string_value(v);
    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* provider_transaction_id becomes part of a stored event id: printable
 * ASCII only, bounded. */
static int tz_tx_id_ok(const char *tx)
{
    size_t n = tx ? strlen(tx) : 0;
    if (n == 0 || n > TZ_GENERIC_MAX_TX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (tx[i] < 0x21 || tx[i] > 0x7e)
            return 0;
    return 1;
}

/* The optional members: amount (integer >= 0), currency, transaction id. */
static tz_parse_status_e tz_generic_optional(apr_pool_t *p, json_t *j, tz_event_t *ev)
{
    json_t *amount = tz_optional(j, "amount"), *cur = tz_optional(j, "currency");
    json_t *tx = tz_optional(j, "provider_transaction_id");
    if (amount && (!json_is_integer(amount) || json_integer_value(amount) < 0))
        return tz_event_invalid(ev, "amount");
    if (cur && (!tz_clean_str(cur) || tz_parse_currency(json_string_value(cur))))
        return tz_event_invalid(ev, "currency");
    if (tx && (!tz_clean_str(tx) || !tz_tx_id_ok(json_string_value(tx))))
        return tz_event_invalid(ev, "provider_transaction_id");
    ev->has_amount = amount != NULL;
    ev->amount = amount ? (int64_t)json_integer_value(amount) : 0;
    ev->currency = cur ? apr_pstrdup(p, json_string_value(cur)) : NULL;
    ev->provider_tx_id = tx ? apr_pstrdup(p, json_string_value(tx)) : NULL;
    return TZ_PARSE_OK;
}

/* "timestamp": RFC 3339 text, like every timestamp of the API, or the
 * Unix seconds the first gateways sent. */
static int tz_generic_timestamp(json_t *ts, int64_t *secs)
{
    const char *text = tz_clean_str(ts);
    if (json_is_integer(ts) && json_integer_value(ts) >= 0) {
        *secs = (int64_t)json_integer_value(ts);
        return 0;
    }
    return text ? tz_parse_timestamp(text, 0, secs) : -1;
}

tz_parse_status_e tz_generic_parse_event(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev)
{
    const char *err, *id, *status;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    id = tz_clean_str(json_object_get(j, "payment_id"));
    status = tz_clean_str(json_object_get(j, "status"));
    if (!id || !tz_is_uuid(id))
        return tz_event_invalid(ev, "payment_id");
    if (!status || (strcmp(status, "success") != 0 && strcmp(status, "failed") != 0))
        return tz_event_invalid(ev, "status");
    if (tz_generic_timestamp(json_object_get(j, "timestamp"), &ev->timestamp) != 0)
        return tz_event_invalid(ev, "timestamp");
    if (tz_generic_optional(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    /* UUIDs compare as text further on: one spelling */
    ev->payment_id = tz_ascii_lower(p, id);
    ev->kind = strcmp(status, "success") == 0 ? TZ_EV_SUCCESS : TZ_EV_FAILED;
    /* a failure and a later success of one payment are two facts, and two
     * payments can never share an event through one transaction id */
    ev->event_id = apr_pstrcat(p, ev->payment_id, ":",
                               ev->provider_tx_id ? ev->provider_tx_id : "", ":", status, NULL);
    return TZ_PARSE_OK;
}

const tz_provider_t tz_provider_generic = {
    .name = "mobile_money",
    .signature_header = "X-Tipzed-Signature",
    .generic = 1,
    .checkout_link = tz_generic_checkout_link,
    .verify_signature = tz_generic_verify_signature,
    .parse_event = tz_generic_parse_event,
};
