/* Flutterwave v3: Standard hosted payment (POST /v3/payments), the
 * charge.completed webhook authenticated by verif-hash, and transaction
 * verification (GET /v3/transactions/{id}/verify) before crediting.
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

tz_parse_status_e tz_flw_parse_event(apr_pool_t *p, const char *body, size_t len,
                                     tz_event_t *ev)
{
    const char *err, *event, *status;
    json_t *j = tz_json_parse(p, body, len, &err), *data;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (!(event = tz_flw_str(j, "event")))
        return tz_event_invalid(ev, "event");
    if (strcmp(event, "charge.completed") != 0) {
        ev->kind = TZ_EV_IGNORED; /* transfers, subscriptions: not ours to act on */
        return TZ_PARSE_OK;
    }
    data = json_object_get(j, "data");
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

tz_parse_status_e tz_flw_parse_verify(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev)
{
    const char *err, *status, *dstatus;
    json_t *j = tz_json_parse(p, body, len, &err), *data;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    data = json_object_get(j, "data");
    if (!(status = tz_flw_str(j, "status")))
        return tz_event_invalid(ev, "status");
    if (tz_flw_read_data(p, data, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!(dstatus = tz_flw_str(data, "status")))
        return tz_event_invalid(ev, "data.status");
    if (strcmp(status, "success") == 0 && strcmp(dstatus, "successful") == 0)
        ev->kind = TZ_EV_SUCCESS;
    else
        ev->kind = strcmp(dstatus, "failed") == 0 ? TZ_EV_FAILED : TZ_EV_UNVERIFIED;
    ev->event_id = apr_pstrcat(p, "flw:", ev->provider_tx_id, ":", dstatus, NULL);
    return TZ_PARSE_OK;
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
};
