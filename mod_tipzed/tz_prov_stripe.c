/* Stripe: Checkout Sessions (form-encoded API) and signed webhooks
 * (Stripe-Signature: t=..,v1=.. over "<t>.<raw body>"). */
#include <string.h>
#include <ctype.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"

static char *lower(apr_pool_t *p, const char *s)
{
    char *out = apr_pstrdup(p, s);
    for (char *c = out; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return out;
}

void tz_stripe_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                const tz_checkout_req_t *req, tz_out_req_t *out)
{
    const char *ret = req->return_url ? req->return_url : req->callback_url;
    const char *id = tz_url_escape(p, req->payment_id);
    size_t n = strlen(cfg->base_url);
    out->method = "POST";
    out->url = apr_pstrcat(p, apr_pstrndup(p, cfg->base_url, n && cfg->base_url[n - 1] == '/' ? n - 1 : n),
                           "/v1/checkout/sessions", NULL);
    out->headers = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(out->headers, const char *) =
        apr_pstrcat(p, "Authorization: Bearer ", cfg->api_secret ? cfg->api_secret : "", NULL);
    APR_ARRAY_PUSH(out->headers, const char *) = "Content-Type: application/x-www-form-urlencoded";
    out->body = apr_pstrcat(p,
        "mode=payment&success_url=", tz_url_escape(p, ret), "&cancel_url=", tz_url_escape(p, ret),
        "&client_reference_id=", id, "&metadata[payment_id]=", id,
        "&payment_intent_data[metadata][payment_id]=", id,
        "&line_items[0][quantity]=1&line_items[0][price_data][currency]=",
        tz_url_escape(p, lower(p, req->currency)),
        "&line_items[0][price_data][unit_amount]=", apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)req->amount),
        "&line_items[0][price_data][product_data][name]=",
        tz_url_escape(p, req->description ? req->description : "Tip"), NULL);
    out->bodylen = strlen(out->body);
}

const char *tz_stripe_checkout_url(apr_pool_t *p, const char *body, size_t len)
{
    const char *err, *url;
    json_t *j = tz_json_parse(p, body, len, &err);
    url = j ? tz_json_str(j, "url") : NULL;
    return url && strncmp(url, "http", 4) == 0 ? apr_pstrdup(p, url) : NULL;
}

tz_sig_status_e tz_stripe_verify_webhook(const tz_prov_cfg_t *cfg, const char *header,
                                         const char *body, size_t len, int64_t now)
{
    return tz_sig_verify_tv1(header, cfg->webhook_secret, cfg->webhook_secret_len, body, len,
                             now, cfg->tolerance);
}

static tz_event_kind_e kind_of(const char *type, json_t *obj)
{
    const char *paid = tz_json_str(obj, "payment_status");
    if (strcmp(type, "checkout.session.completed") == 0)
        return paid && strcmp(paid, "paid") == 0 ? TZ_EV_SUCCESS : TZ_EV_IGNORED;
    if (strcmp(type, "payment_intent.succeeded") == 0)
        return TZ_EV_SUCCESS;
    if (strcmp(type, "payment_intent.payment_failed") == 0)
        return TZ_EV_FAILED;
    if (strcmp(type, "charge.refunded") == 0)
        return TZ_EV_REFUNDED;
    return TZ_EV_IGNORED;
}

/* amount_total (sessions), amount_received (intents), amount (charges). */
static json_t *amount_of(json_t *obj)
{
    json_t *a = json_object_get(obj, "amount_total");
    if (!a)
        a = json_object_get(obj, "amount_received");
    return a ? a : json_object_get(obj, "amount");
}

tz_parse_status_e tz_stripe_parse_event(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev)
{
    const char *err, *type, *id, *pid, *cur;
    json_t *j = tz_json_parse(p, body, len, &err), *obj, *amount;
    memset(ev, 0, sizeof(*ev));
    if (!j || !json_is_object(j) || !(type = tz_json_str(j, "type")) || !(id = tz_json_str(j, "id")))
        return TZ_PARSE_MALFORMED;
    obj = json_object_get(json_object_get(j, "data"), "object");
    if (!json_is_object(obj))
        return TZ_PARSE_MALFORMED;
    ev->event_id = apr_pstrdup(p, id);
    if ((ev->kind = kind_of(type, obj)) == TZ_EV_IGNORED)
        return TZ_PARSE_OK;
    pid = tz_json_str(json_object_get(obj, "metadata"), "payment_id");
    if (!pid)
        pid = tz_json_str(obj, "client_reference_id");
    amount = amount_of(obj);
    cur = tz_json_str(obj, "currency");
    if (!pid || !tz_is_uuid(pid) || (amount && !json_is_integer(amount)) ||
        (cur && strlen(cur) != 3))
        return TZ_PARSE_MALFORMED;
    ev->payment_id = lower(p, pid);
    ev->provider_tx_id = tz_json_str(obj, "payment_intent") ? apr_pstrdup(p, tz_json_str(obj, "payment_intent"))
                                                            : apr_pstrdup(p, tz_json_str(obj, "id") ? tz_json_str(obj, "id") : id);
    ev->has_amount = amount != NULL && ev->kind != TZ_EV_REFUNDED;
    ev->amount = amount ? (int64_t)json_integer_value(amount) : 0;
    if (cur) {
        char *up = apr_pstrdup(p, cur);
        for (char *c = up; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        ev->currency = up;
    }
    return TZ_PARSE_OK;
}
