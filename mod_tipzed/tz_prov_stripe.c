/* Stripe: Checkout Sessions (form-encoded API), signed webhooks
 * (Stripe-Signature: t=..,v1=.. over "<t>.<raw body>", verified on the raw
 * bytes before anything is parsed) for payments, refunds and disputes,
 * refunds (POST /v1/refunds) and the state of a session
 * (GET /v1/checkout/sessions/{id}). */
#include <string.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"

/* Longest metadata value Stripe keeps, in characters. */
#define TZ_STRIPE_MAX_METADATA 500

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

/* amount_key (absent or null: no amount; else an integer >= 0) and
 * currency (absent or null: none) of obj into ev; a member at fault is
 * named prefix + key. */
static tz_parse_status_e tz_stripe_money(apr_pool_t *p, json_t *obj, const char *amount_key,
                                         const char *prefix, tz_event_t *ev)
{
    json_t *amount = json_object_get(obj, amount_key), *cur = json_object_get(obj, "currency");
    if (json_is_null(amount))
        amount = NULL;
    if (amount && (!json_is_integer(amount) || json_integer_value(amount) < 0))
        return tz_event_invalid(ev, apr_pstrcat(p, prefix, amount_key, NULL));
    if (cur && !json_is_null(cur) && !tz_stripe_currency_ok(tz_stripe_str(obj, "currency")))
        return tz_event_invalid(ev, apr_pstrcat(p, prefix, "currency", NULL));
    ev->has_amount = amount != NULL;
    ev->amount = amount ? (int64_t)json_integer_value(amount) : 0;
    ev->currency = json_is_string(cur) ? tz_ascii_upper(p, json_string_value(cur)) : NULL;
    return TZ_PARSE_OK;
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

/* The PaymentIntent an object belongs to (refunds and disputes are
 * matched by it), or NULL. */
static const char *tz_stripe_intent(json_t *obj)
{
    const char *pi = tz_stripe_str(obj, "payment_intent");
    return pi && *pi ? pi : NULL;
}

/* A non-empty string member, or NULL. */
static const char *tz_stripe_nonempty(json_t *obj, const char *key)
{
    const char *s = tz_stripe_str(obj, key);
    return s && *s ? s : NULL;
}

/* An optional text member (absent or null: NULL) into *out; -1 when it is
 * of another type. */
static int tz_stripe_text(apr_pool_t *p, json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!tz_stripe_str(obj, key))
        return -1;
    *out = apr_pstrdup(p, json_string_value(v));
    return 0;
}

/* A Refund object (the refund call's answer and the refund events):
 * provider_refund_id, amount, currency, status, failure_reason, our
 * refund id from metadata.refund_id; members at fault named prefix + key. */
static tz_parse_status_e tz_stripe_read_refund(apr_pool_t *p, json_t *obj, const char *prefix,
                                               tz_event_t *ev)
{
    const char *id = tz_stripe_nonempty(obj, "id"), *status = tz_stripe_str(obj, "status");
    const char *pi = tz_stripe_intent(obj);
    const char *rid = tz_stripe_str(json_object_get(obj, "metadata"), "refund_id");
    if (!id)
        return tz_event_invalid(ev, apr_pstrcat(p, prefix, "id", NULL));
    if (tz_stripe_money(p, obj, "amount", prefix, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!ev->has_amount)
        return tz_event_invalid(ev, apr_pstrcat(p, prefix, "amount", NULL));
    if (!status)
        return tz_event_invalid(ev, apr_pstrcat(p, prefix, "status", NULL));
    if (tz_stripe_text(p, obj, "failure_reason", &ev->reason) != 0)
        return tz_event_invalid(ev, apr_pstrcat(p, prefix, "failure_reason", NULL));
    ev->kind = TZ_EV_REFUND;
    ev->provider_refund_id = apr_pstrdup(p, id);
    ev->provider_tx_id = pi ? apr_pstrdup(p, pi) : NULL;
    ev->refund_id = rid && tz_is_uuid(rid) ? tz_ascii_lower(p, rid) : NULL;
    ev->refund_status = strcmp(status, "succeeded") == 0 ? "succeeded"
                      : (strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0)
                          ? "failed" : "pending";
    return TZ_PARSE_OK;
}

/* The event types acted on, where each keeps the amount, and its reader. */
typedef struct tz_stripe_type tz_stripe_type_t;
typedef tz_parse_status_e (*tz_stripe_reader_fn)(apr_pool_t *p, const tz_stripe_type_t *t,
                                                  json_t *obj, tz_event_t *ev);
struct tz_stripe_type {
    const char *type;
    tz_event_kind_e kind;
    const char *amount_key;
    tz_stripe_reader_fn read;
};

/* What a payment object says beyond its type: a completed session may
 * still be unpaid (delayed payment methods: the async_* event follows). */
static tz_event_kind_e tz_stripe_kind(const tz_stripe_type_t *t, json_t *obj)
{
    const char *paid = tz_stripe_str(obj, "payment_status");
    if (strncmp(t->type, "checkout.session.", 17) == 0 && t->kind == TZ_EV_SUCCESS)
        return paid && strcmp(paid, "paid") == 0 ? TZ_EV_SUCCESS : TZ_EV_IGNORED;
    return t->kind;
}

/* Sessions and PaymentIntents: matched by our payment id; an object
 * without one is another integration's (IGNORED). */
static tz_parse_status_e tz_stripe_payment_event(apr_pool_t *p, const tz_stripe_type_t *t,
                                                 json_t *obj, tz_event_t *ev)
{
    const char *pid = tz_stripe_payment_id(obj), *pi = tz_stripe_str(obj, "payment_intent");
    const char *oid = tz_stripe_str(obj, "id");
    tz_event_kind_e kind = tz_stripe_kind(t, obj);
    if (!pid || kind == TZ_EV_IGNORED)
        return TZ_PARSE_OK;
    if (tz_stripe_money(p, obj, t->amount_key, "data.object.", ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->payment_id = tz_ascii_lower(p, pid);
    /* the PaymentIntent id names the money movement whichever object reports it */
    ev->provider_tx_id = pi ? apr_pstrdup(p, pi) : oid ? apr_pstrdup(p, oid) : NULL;
    ev->kind = kind;
    return TZ_PARSE_OK;
}

/* charge.refunded (any refund, partial or full): everything refunded of
 * the PaymentIntent so far, in refunded_total. */
static tz_parse_status_e tz_stripe_charge_refunded(apr_pool_t *p, const tz_stripe_type_t *t,
                                                   json_t *obj, tz_event_t *ev)
{
    const char *pi = tz_stripe_intent(obj);
    if (!pi)
        return TZ_PARSE_OK; /* not a PaymentIntent's charge: not ours */
    if (tz_stripe_money(p, obj, t->amount_key, "data.object.", ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!ev->has_amount)
        return tz_event_invalid(ev, "data.object.amount_refunded");
    ev->has_refunded_total = 1;
    ev->refunded_total = ev->amount;
    ev->has_amount = 0; /* which refund this was, the charge does not say */
    ev->amount = 0;
    ev->kind = TZ_EV_REFUND;
    ev->refund_status = "succeeded";
    ev->provider_tx_id = apr_pstrdup(p, pi);
    return TZ_PARSE_OK;
}

/* charge.refund.updated, refund.updated, refund.failed: a Refund object. */
static tz_parse_status_e tz_stripe_refund_event(apr_pool_t *p, const tz_stripe_type_t *t,
                                                json_t *obj, tz_event_t *ev)
{
    (void)t;
    if (!tz_stripe_intent(obj))
        return TZ_PARSE_OK;
    return tz_stripe_read_refund(p, obj, "data.object.", ev);
}

/* A dispute's state in our words. */
static const char *tz_stripe_dispute_status(const char *status)
{
    if (strcmp(status, "won") == 0 || strcmp(status, "warning_closed") == 0)
        return "won";
    return strcmp(status, "lost") == 0 ? "lost" : "open";
}

/* charge.dispute.created / .updated / .closed: a Dispute object. */
static tz_parse_status_e tz_stripe_dispute_event(apr_pool_t *p, const tz_stripe_type_t *t,
                                                 json_t *obj, tz_event_t *ev)
{
    const char *pi = tz_stripe_intent(obj), *id = tz_stripe_nonempty(obj, "id");
    const char *status = tz_stripe_str(obj, "status");
    if (!pi)
        return TZ_PARSE_OK;
    if (!id)
        return tz_event_invalid(ev, "data.object.id");
    if (tz_stripe_money(p, obj, t->amount_key, "data.object.", ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!ev->has_amount)
        return tz_event_invalid(ev, "data.object.amount");
    if (!status)
        return tz_event_invalid(ev, "data.object.status");
    if (tz_stripe_text(p, obj, "reason", &ev->reason) != 0)
        return tz_event_invalid(ev, "data.object.reason");
    ev->kind = TZ_EV_DISPUTE;
    ev->dispute_id = apr_pstrdup(p, id);
    ev->dispute_status = tz_stripe_dispute_status(status);
    ev->provider_tx_id = apr_pstrdup(p, pi);
    return TZ_PARSE_OK;
}

static const tz_stripe_type_t tz_stripe_types[] = {
    {"checkout.session.completed", TZ_EV_SUCCESS, "amount_total", tz_stripe_payment_event},
    {"checkout.session.async_payment_succeeded", TZ_EV_SUCCESS, "amount_total",
     tz_stripe_payment_event},
    {"checkout.session.async_payment_failed", TZ_EV_FAILED, "amount_total",
     tz_stripe_payment_event},
    {"checkout.session.expired", TZ_EV_FAILED, "amount_total", tz_stripe_payment_event},
    {"payment_intent.succeeded", TZ_EV_SUCCESS, "amount_received", tz_stripe_payment_event},
    /* not final: Checkout lets the payer retry with another card until the
     * session completes or expires, so a failed attempt changes nothing */
    {"payment_intent.payment_failed", TZ_EV_IGNORED, "amount", tz_stripe_payment_event},
    {"charge.refunded", TZ_EV_REFUND, "amount_refunded", tz_stripe_charge_refunded},
    {"charge.refund.updated", TZ_EV_REFUND, "amount", tz_stripe_refund_event},
    {"refund.updated", TZ_EV_REFUND, "amount", tz_stripe_refund_event},
    {"refund.failed", TZ_EV_REFUND, "amount", tz_stripe_refund_event},
    {"charge.dispute.created", TZ_EV_DISPUTE, "amount", tz_stripe_dispute_event},
    {"charge.dispute.updated", TZ_EV_DISPUTE, "amount", tz_stripe_dispute_event},
    {"charge.dispute.closed", TZ_EV_DISPUTE, "amount", tz_stripe_dispute_event},
};

static const tz_stripe_type_t *tz_stripe_type(const char *type)
{
    for (size_t i = 0; i < sizeof tz_stripe_types / sizeof tz_stripe_types[0]; i++)
        if (strcmp(type, tz_stripe_types[i].type) == 0)
            return &tz_stripe_types[i];
    return NULL;
}

tz_parse_status_e tz_stripe_parse_event(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev)
{
    const char *err, *type, *id;
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
    if (t->read(p, t, obj, ev) == TZ_PARSE_OK)
        return TZ_PARSE_OK;
    ev->kind = TZ_EV_IGNORED; /* nothing half-read is acted on */
    return TZ_PARSE_INVALID;
}

/* Stripe metadata values hold at most 500 characters: a longer reason is
 * cut at a character boundary rather than refused. */
static const char *tz_stripe_clip(apr_pool_t *p, const char *s)
{
    size_t chars = 0, i = 0;
    if (!s)
        return NULL;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++chars > TZ_STRIPE_MAX_METADATA)
            return apr_pstrndup(p, s, i);
    return s;
}

void tz_stripe_refund_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                              const tz_refund_req_t *req, tz_out_req_t *out)
{
    const tz_kv_t form[] = {
        {"payment_intent", req->provider_tx_id},
        {"amount", apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)req->amount)},
        /* Stripe's own "reason" takes fixed values only: ours is metadata */
        {"metadata[refund_id]", req->refund_id},
        {"metadata[payment_id]", req->payment_id},
        {"metadata[reason]", tz_stripe_clip(p, req->reason)},
    };
    out->method = "POST";
    out->url = tz_prov_url(p, cfg->base_url, "/v1/refunds");
    out->headers = tz_prov_headers(p, cfg->api_secret, "application/x-www-form-urlencoded");
    /* a refund asked again (its answer lost) is the same refund */
    APR_ARRAY_PUSH(out->headers, const char *) =
        apr_pstrcat(p, "Idempotency-Key: tipzed-refund-", tz_url_escape(p, req->refund_id), NULL);
    out->body = tz_form_encode(p, form, sizeof form / sizeof form[0]);
    out->bodylen = strlen(out->body);
    if (!req->provider_tx_id || !*req->provider_tx_id || !req->refund_id)
        out->url = NULL; /* nothing to refund by: the transport refuses it */
}

tz_parse_status_e tz_stripe_parse_refund(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev)
{
    const char *err, *status;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (tz_stripe_read_refund(p, j, "", ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    status = tz_stripe_str(j, "status");
    ev->event_id = apr_pstrcat(p, ev->provider_refund_id, ":", status, NULL);
    return TZ_PARSE_OK;
}

void tz_stripe_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                              const tz_status_req_t *req, tz_out_req_t *out)
{
    out->method = "GET";
    out->url = req->provider_ref && *req->provider_ref
                   ? tz_prov_url(p, cfg->base_url,
                                 apr_pstrcat(p, "/v1/checkout/sessions/",
                                             tz_url_escape(p, req->provider_ref), NULL))
                   : NULL; /* no session to ask about: the transport refuses it */
    out->headers = tz_prov_headers(p, cfg->api_secret, NULL);
    out->body = NULL;
    out->bodylen = 0;
}

/* A Checkout Session's state: paid, over, or neither yet. */
static tz_event_kind_e tz_stripe_session_kind(const char *status, const char *paid)
{
    if (strcmp(status, "complete") == 0 && paid && strcmp(paid, "paid") == 0)
        return TZ_EV_SUCCESS;
    return strcmp(status, "expired") == 0 ? TZ_EV_FAILED : TZ_EV_PENDING;
}

tz_parse_status_e tz_stripe_parse_status(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev)
{
    const char *err, *status, *pid, *pi;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (!(status = tz_stripe_str(j, "status")))
        return tz_event_invalid(ev, "status");
    ev->kind = tz_stripe_session_kind(status, tz_stripe_str(j, "payment_status"));
    if (ev->kind == TZ_EV_PENDING)
        return TZ_PARSE_OK;
    if (tz_stripe_money(p, j, "amount_total", "", ev) != TZ_PARSE_OK) {
        ev->kind = TZ_EV_PENDING;
        return TZ_PARSE_INVALID;
    }
    pid = tz_stripe_payment_id(j);
    pi = tz_stripe_intent(j);
    ev->payment_id = pid ? tz_ascii_lower(p, pid) : NULL;
    ev->provider_tx_id = pi ? apr_pstrdup(p, pi) : NULL;
    return TZ_PARSE_OK; /* the event id is the caller's */
}

const tz_provider_t tz_provider_stripe = {
    .name = "stripe",
    .signature_header = "Stripe-Signature",
    .needs_api_secret = 1,
    .checkout = tz_stripe_checkout_request,
    .checkout_answer = tz_stripe_checkout_url,
    .verify_signature = tz_stripe_verify_signature,
    .parse_event = tz_stripe_parse_event,
    .refund_retry_safe = 1, /* Idempotency-Key tipzed-refund-<refund id> */
    .refund = tz_stripe_refund_request,
    .refund_answer = tz_stripe_parse_refund,
    .status = tz_stripe_status_request,
    .status_answer = tz_stripe_parse_status,
};
