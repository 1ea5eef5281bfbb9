/* The generic mobile-money redirect gateway of SPEC §3 (also the wire
 * format of the sandbox): the checkout URL the payer is sent to, and the
 * signed callback events the gateway posts back.
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
#include "apr_strings.h"

/* Longest provider_transaction_id kept as an event id. */
#define TZ_GENERIC_MAX_TX 255

char *tz_generic_checkout_url(apr_pool_t *p, const char *base, const tz_checkout_req_t *req)
{
    size_t n = strlen(base);
    /* a base that already carries a query keeps it; "…?" or "…&" needs no separator */
    const char *sep = !strchr(base, '?') ? "?"
                    : (n && (base[n - 1] == '?' || base[n - 1] == '&')) ? "" : "&";
    return apr_psprintf(p, "%s%sreference=%s&amount=%" APR_INT64_T_FMT "&currency=%s&callback=%s",
                        base, sep, tz_url_escape(p, req->payment_id), (apr_int64_t)req->amount,
                        tz_url_escape(p, req->currency), tz_url_escape(p, req->callback_url));
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

/* provider_transaction_id becomes a stored event id: printable ASCII only. */
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
        return TZ_PARSE_MALFORMED;
    if (cur && (!tz_clean_str(cur) || tz_parse_currency(json_string_value(cur))))
        return TZ_PARSE_MALFORMED;
    if (tx && (!tz_clean_str(tx) || !tz_tx_id_ok(json_string_value(tx))))
        return TZ_PARSE_MALFORMED;
    ev->has_amount = amount != NULL;
    ev->amount = amount ? (int64_t)json_integer_value(amount) : 0;
    ev->currency = cur ? apr_pstrdup(p, json_string_value(cur)) : NULL;
    ev->provider_tx_id = tx ? apr_pstrdup(p, json_string_value(tx)) : NULL;
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_generic_parse_event(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev)
{
    const char *err, *id, *status;
    json_t *j = tz_json_parse(p, body, len, &err), *ts;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    id = tz_clean_str(json_object_get(j, "payment_id"));
    status = tz_clean_str(json_object_get(j, "status"));
    ts = json_object_get(j, "timestamp");
    if (!id || !tz_is_uuid(id) || !status || !json_is_integer(ts) ||
        (strcmp(status, "success") != 0 && strcmp(status, "failed") != 0))
        return TZ_PARSE_MALFORMED;
    if (tz_generic_optional(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_MALFORMED;
    /* UUIDs compare as text further on: one spelling */
    ev->payment_id = tz_ascii_lower(p, id);
    ev->kind = strcmp(status, "success") == 0 ? TZ_EV_SUCCESS : TZ_EV_FAILED;
    ev->timestamp = (int64_t)json_integer_value(ts);
    ev->event_id = ev->provider_tx_id ? ev->provider_tx_id
                                      : apr_pstrcat(p, ev->payment_id, ":", status, NULL);
    return TZ_PARSE_OK;
}
