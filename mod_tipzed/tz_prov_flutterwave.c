/* Flutterwave v3: Standard hosted payment (POST /v3/payments), the
 * charge.completed, refund.completed and chargeback.* webhooks
 * authenticated by verif-hash, transaction verification
 * (GET /v3/transactions/{id}/verify) before crediting, refunds
 * (POST /v3/transactions/{id}/refund) and the status of a payment by our
 * reference (GET /v3/transactions/verify_by_reference).
 *
 * Flutterwave amounts are JSON numbers in major units (25.5).
 * Outbound, the amount is written as decimal text built from the minor
 * units with integers only.  Inbound, jansson has already read the number
 * into a double; it is printed back with 15 significant digits and that
 * text is converted with integer arithmetic (tz_decimal_to_minor).  This
 * is exact for every amount below 10^13 with at most two decimals: such a
 * decimal has at most 15 significant digits, and IEEE-754 doubles
 * round-trip any decimal of up to 15 significant digits (DBL_DIG), so
 * "%.15g" reproduces the very decimal that was sent.  Larger reals, and
 * reals with more than two decimals, are refused rather than rounded. */
#include <string.h>
#include <stdlib.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"

/* Whole units below 10^13: the range where the %.15g round trip is exact. */
#define TZ_FLW_MAX_WHOLE_DIGITS 13

/* A string member without embedded NUL (which would hide a suffix from
 * the C string checks), else NULL. */
static const char *tz_flw_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    return s && strlen(s) == json_string_length(v) ? s : NULL;
}

/* The JSON body of POST /v3/payments without "amount"; NULL when a field
 * is not valid UTF-8 (jansson refuses it). */
static json_t *tz_flw_checkout_json(apr_pool_t *p, const tz_checkout_req_t *req)
{
    /* the payer comes back to the return page, never to the webhook (POST only) */
    const char *redirect = req->return_url;
    return tz_json_pool(p, json_pack("{s:s, s:s, s:s, s:{s:s*, s:s*}, s:{s:s}}",
        "tx_ref", req->payment_id, "currency", req->currency, "redirect_url", redirect,
        "customer", "email", req->customer_email, "phonenumber", req->phone_number,
        "customizations", "title", req->description ? req->description : "Tip"));
}

void tz_flw_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                             const tz_checkout_req_t *req, tz_out_req_t *out)
{
    json_t *obj = tz_flw_checkout_json(p, req);
    const char *rest;
    out->method = "POST";
    out->url = tz_prov_url(p, cfg->base_url, "/v3/payments");
    out->headers = tz_prov_headers(p, cfg->api_secret, "application/json");
    out->body = NULL;
    out->bodylen = 0;
    if (!obj) {
        out->url = NULL; /* the transport refuses a request without a URL */
        return;
    }
    /* "amount" goes first, as exact decimal text; jansson never sees it */
    rest = tz_json_dump(p, obj);
    out->body = apr_pstrcat(p, "{\"amount\":", tz_minor_to_decimal(p, req->amount), ",",
                            rest + 1, NULL);
    out->bodylen = strlen(out->body);
}

/* An http(s) URL without control characters or spaces. */
static int tz_is_link(const char *s)
{
    if (!s || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

const char *tz_flw_checkout_link(apr_pool_t *p, const char *body, size_t len,
                                 const char **provider_ref)
{
    *provider_ref = NULL; /* status calls go by tx_ref, our payment id */
    const char *err, *status, *link;
    json_t *j = body ? tz_json_parse(p, body, len, &err) : NULL;
    if (!json_is_object(j))
        return NULL;
    status = tz_flw_str(j, "status");
    link = tz_flw_str(json_object_get(j, "data"), "link");
    if (!status || strcmp(status, "success") != 0 || !tz_is_link(link))
        return NULL;
    return apr_pstrdup(p, link);
}

tz_sig_status_e tz_flw_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in)
{
    return tz_sig_verify_hash(in->signature, cfg->webhook_secret, cfg->webhook_secret_len);
}

/* A major-unit JSON number (integer or real, >= 0) as minor units. */
static int tz_flw_amount(json_t *v, int64_t *minor)
{
    char *text, *dot;
    int rc = -1;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > INT64_MAX / 100)
            return -1;
        *minor = (int64_t)n * 100;
        return 0;
    }
    if (!json_is_real(v) || !(text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))))
        return -1;
    /* digits before the point bound the magnitude without comparing doubles */
    dot = strchr(text, '.');
    if (dot && dot - text <= TZ_FLW_MAX_WHOLE_DIGITS)
        rc = tz_decimal_to_minor(text, minor);
    free(text); /* jansson's allocator, not the pool */
    return rc;
}

/* Reads data.{id, tx_ref, amount, currency} into ev; INVALID names the
 * first member at fault. */
static tz_parse_status_e tz_flw_read_data(apr_pool_t *p, json_t *data, tz_event_t *ev)
{
    json_t *id = json_object_get(data, "id");
    const char *ref = tz_flw_str(data, "tx_ref"), *cur = tz_flw_str(data, "currency");
    int64_t amount;
    if (!json_is_object(data))
        return tz_event_invalid(ev, "data");
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return tz_event_invalid(ev, "data.id");
    if (!ref || !tz_is_uuid(ref))
        return tz_event_invalid(ev, "data.tx_ref");
    if (!cur || tz_parse_currency(cur))
        return tz_event_invalid(ev, "data.currency");
    if (tz_flw_amount(json_object_get(data, "amount"), &amount) != 0)
        return tz_event_invalid(ev, "data.amount");
    ev->provider_tx_id = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(id));
    ev->payment_id = tz_ascii_lower(p, ref); /* our UUIDs are stored lower case */
    ev->currency = apr_pstrdup(p, cur);
    ev->amount = amount;
    ev->has_amount = 1;
    return TZ_PARSE_OK;
}

/* charge.completed: SUCCESS / FAILED / IGNORED by data.status. */
static tz_parse_status_e tz_flw_charge_event(apr_pool_t *p, json_t *data, tz_event_t *ev)
{
    const char *status;
    if (tz_flw_read_data(p, data, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!(status = tz_flw_str(data, "status")))
        return tz_event_invalid(ev, "data.status");
    ev->kind = strcmp(status, "successful") == 0 ? TZ_EV_SUCCESS
             : strcmp(status, "failed") == 0     ? TZ_EV_FAILED : TZ_EV_IGNORED;
    /* the status is part of the id: a failed attempt and a later success
     * of one transaction are two different facts */
    ev->event_id = apr_pstrcat(p, "flw:", ev->provider_tx_id, ":", status, NULL);
    return TZ_PARSE_OK;
}

/* A positive integer member as decimal text, else NULL. */
static const char *tz_flw_id_text(apr_pool_t *p, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0)
        return NULL;
    return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(v));
}

/* A refund's data {id, tx_id, amount_refunded, status} (the refund call's
 * answer and refund.completed) as a REFUND of the transaction tx_id. */
static tz_parse_status_e tz_flw_read_refund(apr_pool_t *p, json_t *data, tz_event_t *ev)
{
    const char *id = tz_flw_id_text(p, data, "id"), *tx = tz_flw_id_text(p, data, "tx_id");
    const char *status = tz_flw_str(data, "status");
    if (!json_is_object(data))
        return tz_event_invalid(ev, "data");
    if (!id)
        return tz_event_invalid(ev, "data.id");
    if (!tx)
        return tz_event_invalid(ev, "data.tx_id");
    if (tz_flw_amount(json_object_get(data, "amount_refunded"), &ev->amount) != 0)
        return tz_event_invalid(ev, "data.amount_refunded");
    if (!status)
        return tz_event_invalid(ev, "data.status");
    ev->kind = TZ_EV_REFUND;
    ev->has_amount = 1;
    ev->provider_refund_id = id;
    ev->provider_tx_id = tx; /* the payment is named by its transaction */
    ev->refund_status = strcmp(status, "completed") == 0 ? "succeeded"
                      : strcmp(status, "failed") == 0    ? "failed" : "pending";
    ev->event_id = apr_pstrcat(p, "flw:refund:", id, ":", status, NULL);
    return TZ_PARSE_OK;
}

/* A chargeback's state in our words. */
static const char *tz_flw_dispute_status(const char *status)
{
    if (strcmp(status, "lost") == 0 || strcmp(status, "accepted") == 0)
        return "lost";
    if (strcmp(status, "won") == 0 || strcmp(status, "reversed") == 0)
        return "won";
    return "open";
}

/* tx_ref when it is one of our payment ids (lower-cased), else NULL; the
 * dispute is matched by its transaction either way. */
static const char *tz_flw_our_ref(apr_pool_t *p, json_t *data)
{
    const char *ref = tz_flw_str(data, "tx_ref");
    return ref && tz_is_uuid(ref) ? tz_ascii_lower(p, ref) : NULL;
}

/* chargeback.created / chargeback.updated: {id, amount, currency?, status,
 * transaction_id, tx_ref?} -> DISPUTE. */
static tz_parse_status_e tz_flw_chargeback_event(apr_pool_t *p, json_t *data, tz_event_t *ev)
{
    const char *id = tz_flw_id_text(p, data, "id"), *tx = tz_flw_id_text(p, data, "transaction_id");
    const char *status = tz_flw_str(data, "status"), *cur = tz_flw_str(data, "currency");
    json_t *curv = json_object_get(data, "currency");
    if (!json_is_object(data))
        return tz_event_invalid(ev, "data");
    if (!id)
        return tz_event_invalid(ev, "data.id");
    if (!tx)
        return tz_event_invalid(ev, "data.transaction_id");
    if (tz_flw_amount(json_object_get(data, "amount"), &ev->amount) != 0)
        return tz_event_invalid(ev, "data.amount");
    if (curv && !json_is_null(curv) && (!cur || tz_parse_currency(cur)))
        return tz_event_invalid(ev, "data.currency");
    if (!status)
        return tz_event_invalid(ev, "data.status");
    ev->kind = TZ_EV_DISPUTE;
    ev->has_amount = 1;
    ev->currency = cur ? apr_pstrdup(p, cur) : NULL;
    ev->dispute_id = id;
    ev->dispute_status = tz_flw_dispute_status(status);
    ev->provider_tx_id = tx;
    ev->payment_id = tz_flw_our_ref(p, data);
    ev->event_id = apr_pstrcat(p, "flw:chargeback:", id, ":", status, NULL);
    return TZ_PARSE_OK;
}

/* The webhook events acted on. */
static const struct {
    const char *event;
    tz_parse_status_e (*read)(apr_pool_t *p, json_t *data, tz_event_t *ev);
} tz_flw_events[] = {
    {"charge.completed", tz_flw_charge_event},
    {"refund.completed", tz_flw_read_refund},
    {"chargeback.created", tz_flw_chargeback_event},
    {"chargeback.updated", tz_flw_chargeback_event},
};

tz_parse_status_e tz_flw_parse_event(apr_pool_t *p, const char *body, size_t len,
                                     tz_event_t *ev)
{
    const char *err, *event;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (!(event = tz_flw_str(j, "event")))
        return tz_event_invalid(ev, "event");
    for (size_t i = 0; i < sizeof tz_flw_events / sizeof tz_flw_events[0]; i++)
        if (strcmp(event, tz_flw_events[i].event) == 0)
            return tz_flw_events[i].read(p, json_object_get(j, "data"), ev);
    ev->kind = TZ_EV_IGNORED; /* transfers, subscriptions: not ours to act on */
    return TZ_PARSE_OK;
}

void tz_flw_verify_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_event_t *ev,
                           tz_out_req_t *out)
{
    out->method = "GET";
    out->url = tz_prov_url(p, cfg->base_url,
                           apr_pstrcat(p, "/v3/transactions/", tz_url_escape(p, ev->provider_tx_id),
                                       "/verify", NULL));
    out->headers = tz_prov_headers(p, cfg->api_secret, NULL);
    out->body = NULL;
    out->bodylen = 0;
}

/* The common reading of a verify answer: top-level status, data, and
 * data.status. */
static tz_parse_status_e tz_flw_read_answer(apr_pool_t *p, const char *body, size_t len,
                                            tz_event_t *ev, const char **status,
                                            const char **dstatus)
{
    const char *err;
    json_t *j = tz_json_parse(p, body, len, &err), *data;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    data = json_object_get(j, "data");
    if (!(*status = tz_flw_str(j, "status")))
        return tz_event_invalid(ev, "status");
    if (tz_flw_read_data(p, data, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!(*dstatus = tz_flw_str(data, "status")))
        return tz_event_invalid(ev, "data.status");
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_flw_parse_verify(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev)
{
    const char *status, *dstatus;
    tz_parse_status_e rc = tz_flw_read_answer(p, body, len, ev, &status, &dstatus);
    if (rc != TZ_PARSE_OK)
        return rc;
    if (strcmp(status, "success") == 0 && strcmp(dstatus, "successful") == 0)
        ev->kind = TZ_EV_SUCCESS;
    else
        ev->kind = strcmp(dstatus, "failed") == 0 ? TZ_EV_FAILED : TZ_EV_UNVERIFIED;
    ev->event_id = apr_pstrcat(p, "flw:", ev->provider_tx_id, ":", dstatus, NULL);
    return TZ_PARSE_OK;
}

void tz_flw_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_status_req_t *req,
                           tz_out_req_t *out)
{
    out->method = "GET";
    out->url = tz_prov_url(p, cfg->base_url,
                           apr_pstrcat(p, "/v3/transactions/verify_by_reference?tx_ref=",
                                       tz_url_escape(p, req->payment_id), NULL));
    out->headers = tz_prov_headers(p, cfg->api_secret, NULL);
    out->body = NULL;
    out->bodylen = 0;
}

tz_parse_status_e tz_flw_parse_status(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev)
{
    const char *status, *dstatus;
    tz_parse_status_e rc = tz_flw_read_answer(p, body, len, ev, &status, &dstatus);
    if (rc != TZ_PARSE_OK)
        return rc;
    if (strcmp(status, "success") == 0 && strcmp(dstatus, "successful") == 0)
        ev->kind = TZ_EV_SUCCESS;
    else
        ev->kind = strcmp(dstatus, "failed") == 0 ? TZ_EV_FAILED : TZ_EV_PENDING;
    return TZ_PARSE_OK; /* the event id is the caller's */
}

void tz_flw_refund_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_refund_req_t *req,
                           tz_out_req_t *out)
{
    json_t *obj = tz_json_pool(p, json_pack("{s:s*}", "comments", req->reason));
    const char *rest;
    out->method = "POST";
    out->url = tz_prov_url(p, cfg->base_url,
                           apr_pstrcat(p, "/v3/transactions/", tz_url_escape(p, req->provider_tx_id),
                                       "/refund", NULL));
    out->headers = tz_prov_headers(p, cfg->api_secret, "application/json");
    out->body = NULL;
    out->bodylen = 0;
    if (!obj || !req->provider_tx_id || !*req->provider_tx_id) {
        out->url = NULL; /* the transport refuses a request without a URL */
        return;
    }
    /* the amount as exact decimal text, as in the checkout request */
    rest = tz_json_dump(p, obj);
    out->body = apr_pstrcat(p, "{\"amount\":", tz_minor_to_decimal(p, req->amount),
                            json_object_size(obj) ? "," : "", rest + 1, NULL);
    out->bodylen = strlen(out->body);
}

tz_parse_status_e tz_flw_parse_refund(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev)
{
    const char *err, *status;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (!(status = tz_flw_str(j, "status")) || strcmp(status, "success") != 0)
        return tz_event_invalid(ev, "status");
    return tz_flw_read_refund(p, json_object_get(j, "data"), ev);
}

const tz_provider_t tz_provider_flutterwave = {
    .name = "flutterwave",
    .signature_header = "verif-hash",
    .needs_api_secret = 1,
    .checkout = tz_flw_checkout_request,
    .checkout_answer = tz_flw_checkout_link,
    .verify_signature = tz_flw_verify_signature,
    .parse_event = tz_flw_parse_event,
    .verify = tz_flw_verify_request,
    .verify_answer = tz_flw_parse_verify,
    .refund_retry_safe = 0, /* no idempotency key: a lost answer is not asked again */
    .refund = tz_flw_refund_request,
    .refund_answer = tz_flw_parse_refund,
    .status = tz_flw_status_request,
    .status_answer = tz_flw_parse_status,
};
