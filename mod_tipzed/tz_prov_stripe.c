/* Stripe: Checkout Sessions (form-encoded API) and signed webhooks
 * (Stripe-Signature: t=..,v1=.. over "<t>.<raw body>", verified on the raw
 * bytes before anything is parsed). */
#include <string.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"

void tz_stripe_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                                const tz_checkout_req_t *req, tz_out_req_t *out)
{
    /* the payer comes back to the return page, never to the webhook (POST only) */
    const char *back = req->return_url;
    const tz_kv_t form[] = {
        {"mode", "payment"},
        {"success_url", back},
        {"cancel_url", back},
        {"client_reference_id", req->payment_id},
        {"customer_email", req->customer_email},
        /* on the session and on its PaymentIntent, so every event type we
         * act on (sessions, intents, charges) carries our id */
        {"metadata[payment_id]", req->payment_id},
        {"payment_intent_data[metadata][payment_id]", req->payment_id},
        {"line_items[0][price_data][currency]", tz_ascii_lower(p, req->currency)},
        {"line_items[0][price_data][unit_amount]",
         apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)req->amount)},
        {"line_items[0][price_data][product_data][name]",
         req->description ? req->description : "Tip"},
        {"line_items[0][quantity]", "1"},
    };
    out->method = "POST";
    out->url = tz_prov_url(p, cfg->base_url, "/v1/checkout/sessions");
    out->headers = tz_prov_headers(p, cfg->api_secret, "application/x-www-form-urlencoded");
    /* a retried create for the same payment returns the same session */
    APR_ARRAY_PUSH(out->headers, const char *) =
        apr_pstrcat(p, "Idempotency-Key: tipzed-", tz_url_escape(p, req->payment_id), NULL);
    out->body = tz_form_encode(p, form, sizeof form / sizeof form[0]);
    out->bodylen = strlen(out->body);
}

/* A string member without embedded NUL, else NULL. */
static const char *tz_stripe_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

const char *tz_stripe_checkout_url(apr_pool_t *p, const char *body, size_t len,
                                   const char **provider_ref)
{
    const char *err, *url, *sid;
    json_t *j = body ? tz_json_parse(p, body, len, &err) : NULL;
    url = json_is_object(j) ? tz_stripe_str(j, "url") : NULL;
    sid = json_is_object(j) ? tz_stripe_str(j, "id") : NULL;
    *provider_ref = sid ? apr_pstrdup(p, sid) : NULL; /* the session, for status calls */
    if (!url || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0))
        return NULL;
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || *c == 0x7f)
            return NULL; /* the URL goes back to clients as is */
    return apr_pstrdup(p, url);
}

tz_sig_status_e tz_stripe_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in)
{
    return tz_sig_verify_tv1(in->signature, cfg->webhook_secret, cfg->webhook_secret_len,
                             in->body, in->len, in->now, cfg->tolerance);
}

/* The event types acted on, and where each keeps the amount. */
typedef struct {
    const char *type;
    tz_event_kind_e kind;
    const char *amount_key;
} tz_stripe_type_t;

static const tz_stripe_type_t tz_stripe_types[] = {
    {"checkout.session.completed", TZ_EV_SUCCESS, "amount_total"},
    {"checkout.session.async_payment_succeeded", TZ_EV_SUCCESS, "amount_total"},
    {"checkout.session.async_payment_failed", TZ_EV_FAILED, "amount_total"},
    {"checkout.session.expired", TZ_EV_FAILED, "amount_total"},
    {"payment_intent.succeeded", TZ_EV_SUCCESS, "amount_received"},
    /* not final: Checkout lets the payer retry with another card until the
     * session completes or expires, so a failed attempt changes nothing */
    {"payment_intent.payment_failed", TZ_EV_IGNORED, "amount"},
    {"charge.refunded", TZ_EV_REFUND, "amount"},
};

static const tz_stripe_type_t *tz_stripe_type(const char *type)
{
    for (size_t i = 0; i < sizeof tz_stripe_types / sizeof tz_stripe_types[0]; i++)
        if (strcmp(type, tz_stripe_types[i].type) == 0)
            return &tz_stripe_types[i];
    return NULL;
}

/* What the object says beyond its type: a completed session may still be
 * unpaid (delayed payment methods: the async_* event follows), and
 * charge.refunded also fires for partial refunds, which are not reversed. */
static tz_event_kind_e tz_stripe_kind(const tz_stripe_type_t *t, json_t *obj)
{
    const char *paid = tz_stripe_str(obj, "payment_status");
    if (strncmp(t->type, "checkout.session.", 17) == 0 && t->kind == TZ_EV_SUCCESS)
        return paid && strcmp(paid, "paid") == 0 ? TZ_EV_SUCCESS : TZ_EV_IGNORED;
    if (t->kind == TZ_EV_REFUND)
        return json_is_true(json_object_get(obj, "refunded")) ? TZ_EV_REFUND : TZ_EV_IGNORED;
    return t->kind;
}

/* Our payment id: metadata.payment_id, else client_reference_id; NULL when
 * the object is not one of our checkouts. */
static const char *tz_stripe_payment_id(json_t *obj)
{
    const char *pid = tz_stripe_str(json_object_get(obj, "metadata"), "payment_id");
    if (!pid)
        pid = tz_stripe_str(obj, "client_reference_id");
    return pid && tz_is_uuid(pid) ? pid : NULL;
}

/* Three ASCII letters in either case (Stripe sends lower case). */
static int tz_stripe_currency_ok(const char *c)
{
    if (!c || strlen(c) != 3)
        return 0;
    for (int i = 0; i < 3; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z')))
            return 0;
    return 1;
}

/* Amount, currency and ids of an object we act on. */
static tz_parse_status_e tz_stripe_read(apr_pool_t *p, const tz_stripe_type_t *t, json_t *obj,
                                        const char *pid, tz_event_t *ev)
{
    json_t *amount = json_object_get(obj, t->amount_key), *cur = json_object_get(obj, "currency");
    const char *pi = tz_stripe_str(obj, "payment_intent"), *oid = tz_stripe_str(obj, "id");
    if (json_is_null(amount))
        amount = NULL;
    if (amount && (!json_is_integer(amount) || json_integer_value(amount) < 0))
        return tz_event_invalid(ev, apr_pstrcat(p, "data.object.", t->amount_key, NULL));
    if (cur && !json_is_null(cur) && !tz_stripe_currency_ok(tz_stripe_str(obj, "currency")))
        return tz_event_invalid(ev, "data.object.currency");
    ev->payment_id = tz_ascii_lower(p, pid);
    ev->has_amount = amount != NULL;
    ev->amount = amount ? (int64_t)json_integer_value(amount) : 0;
    ev->currency = json_is_string(cur) ? tz_ascii_upper(p, json_string_value(cur)) : NULL;
    /* the PaymentIntent id names the money movement whichever object reports it */
    ev->provider_tx_id = pi ? apr_pstrdup(p, pi) : oid ? apr_pstrdup(p, oid) : NULL;
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_stripe_parse_event(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev)
{
    const char *err, *type, *id, *pid;
    const tz_stripe_type_t *t;
    json_t *j = tz_json_parse(p, body, len, &err), *obj;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (!(type = tz_stripe_str(j, "type")))
        return tz_event_invalid(ev, "type");
    if (!(id = tz_stripe_str(j, "id")) || !*id)
        return tz_event_invalid(ev, "id");
    ev->event_id = apr_pstrdup(p, id);
    ev->kind = TZ_EV_IGNORED;
    if (!(t = tz_stripe_type(type)))
        return TZ_PARSE_OK; /* Stripe sends many types; only ours are read */
    obj = json_object_get(json_object_get(j, "data"), "object");
    if (!json_is_object(obj))
        return tz_event_invalid(ev, "data.object");
    if (!(pid = tz_stripe_payment_id(obj)) || tz_stripe_kind(t, obj) == TZ_EV_IGNORED)
        return TZ_PARSE_OK;
    if (tz_stripe_read(p, t, obj, pid, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->kind = tz_stripe_kind(t, obj);
    return TZ_PARSE_OK;
}

const tz_provider_t tz_provider_stripe = {
    .name = "stripe",
    .signature_header = "Stripe-Signature",
    .needs_api_secret = 1,
    .checkout = tz_stripe_checkout_request,
    .checkout_answer = tz_stripe_checkout_url,
    .verify_signature = tz_stripe_verify_signature,
    .parse_event = tz_stripe_parse_event,
};
