/* Flutterwave v3: Standard hosted payment, charge.completed webhooks with
 * verif-hash, and transaction verification before crediting.
 *
 * Flutterwave amounts are JSON numbers in major units (25.5).  jansson
 * reads them as doubles; printed back with 15 significant digits they are
 * exactly the decimal that was sent for every amount under 10^13, and that
 * text is then converted to minor units with integer arithmetic only. */
#include <string.h>
#include <stdlib.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"

static apr_array_header_t *auth_headers(apr_pool_t *p, const tz_prov_cfg_t *cfg, int json)
{
    apr_array_header_t *h = apr_array_make(p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "Authorization: Bearer ",
                                                  cfg->api_secret ? cfg->api_secret : "", NULL);
    APR_ARRAY_PUSH(h, const char *) = "Accept: application/json";
    if (json)
        APR_ARRAY_PUSH(h, const char *) = "Content-Type: application/json";
    return h;
}

static const char *base(apr_pool_t *p, const tz_prov_cfg_t *cfg)
{
    size_t n = strlen(cfg->base_url);
    return n && cfg->base_url[n - 1] == '/' ? apr_pstrndup(p, cfg->base_url, n - 1) : cfg->base_url;
}

void tz_flw_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                             const tz_checkout_req_t *req, tz_out_req_t *out)
{
    json_t *body = tz_json_pool(p, json_pack("{s:s, s:s, s:s, s:{s:s, s:s?}, s:{s:s}}",
        "tx_ref", req->payment_id, "currency", req->currency,
        "redirect_url", req->return_url ? req->return_url : req->callback_url,
        "customer", "email", req->customer_email ? req->customer_email : "payer@tipzed.invalid",
        "phonenumber", req->phone_number,
        "customizations", "title", req->description ? req->description : "Tip"));
    /* The amount is written as exact decimal text, never through a double. */
    const char *text = tz_json_dump(p, body);
    out->method = "POST";
    out->url = apr_pstrcat(p, base(p, cfg), "/v3/payments", NULL);
    out->headers = auth_headers(p, cfg, 1);
    out->body = apr_psprintf(p, "{\"amount\":%s,%s", tz_minor_to_decimal(p, req->amount), text + 1);
    out->bodylen = strlen(out->body);
}

const char *tz_flw_checkout_link(apr_pool_t *p, const char *body, size_t len)
{
    const char *err, *status, *link;
    json_t *j = tz_json_parse(p, body, len, &err);
    if (!j || !json_is_object(j))
        return NULL;
    status = tz_json_str(j, "status");
    link = tz_json_str(json_object_get(j, "data"), "link");
    return status && strcmp(status, "success") == 0 && link ? apr_pstrdup(p, link) : NULL;
}

tz_sig_status_e tz_flw_verify_webhook(const tz_prov_cfg_t *cfg, const char *verif_hash)
{
    return tz_sig_verify_hash(verif_hash, cfg->webhook_secret, cfg->webhook_secret_len);
}

/* A major-unit JSON number (integer or real) as minor units. */
static int flw_amount(json_t *v, int64_t *minor)
{
    char *text;
    int rc;
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > INT64_MAX / 100)
            return -1;
        *minor = (int64_t)n * 100;
        return 0;
    }
    if (!json_is_real(v) || !(text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15))))
        return -1;
    rc = tz_decimal_to_minor(text, minor);
    free(text);
    return rc;
}

/* Reads data.{id, tx_ref, amount, currency, status} into ev. */
static tz_parse_status_e read_data(apr_pool_t *p, json_t *data, tz_event_t *ev)
{
    json_t *id = json_object_get(data, "id");
    const char *ref = tz_json_str(data, "tx_ref"), *cur = tz_json_str(data, "currency");
    if (!json_is_object(data) || !json_is_integer(id) || !ref || !tz_is_uuid(ref) || !cur ||
        tz_parse_currency(cur) || flw_amount(json_object_get(data, "amount"), &ev->amount) != 0)
        return TZ_PARSE_MALFORMED;
    ev->provider_tx_id = apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(id));
    ev->payment_id = apr_pstrdup(p, ref);
    ev->currency = apr_pstrdup(p, cur);
    ev->has_amount = 1;
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_flw_parse_event(apr_pool_t *p, const char *body, size_t len,
                                     tz_event_t *ev)
{
    const char *err, *event, *status;
    json_t *j = tz_json_parse(p, body, len, &err), *data;
    memset(ev, 0, sizeof(*ev));
    if (!j || !json_is_object(j) || !(event = tz_json_str(j, "event")))
        return TZ_PARSE_MALFORMED;
    if (strcmp(event, "charge.completed") != 0) {
        ev->kind = TZ_EV_IGNORED;
        return TZ_PARSE_OK;
    }
    data = json_object_get(j, "data");
    status = tz_json_str(data, "status");
    if (!status || read_data(p, data, ev) != TZ_PARSE_OK)
        return TZ_PARSE_MALFORMED;
    ev->kind = strcmp(status, "successful") == 0 ? TZ_EV_SUCCESS
             : strcmp(status, "failed") == 0 ? TZ_EV_FAILED : TZ_EV_IGNORED;
    ev->event_id = apr_pstrcat(p, "flw:", ev->provider_tx_id, ":", status, NULL);
    return TZ_PARSE_OK;
}

void tz_flw_verify_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const char *tx_id,
                           tz_out_req_t *out)
{
    out->method = "GET";
    out->url = apr_pstrcat(p, base(p, cfg), "/v3/transactions/", tz_url_escape(p, tx_id),
                           "/verify", NULL);
    out->headers = auth_headers(p, cfg, 0);
    out->body = NULL;
    out->bodylen = 0;
}

tz_parse_status_e tz_flw_parse_verify(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev)
{
    const char *err, *status, *dstatus;
    json_t *j = tz_json_parse(p, body, len, &err), *data;
    memset(ev, 0, sizeof(*ev));
    if (!j || !json_is_object(j))
        return TZ_PARSE_MALFORMED;
    data = json_object_get(j, "data");
    status = tz_json_str(j, "status");
    dstatus = tz_json_str(data, "status");
    if (!status || !dstatus || read_data(p, data, ev) != TZ_PARSE_OK)
        return TZ_PARSE_MALFORMED;
    ev->kind = strcmp(status, "success") == 0 && strcmp(dstatus, "successful") == 0
                   ? TZ_EV_SUCCESS : TZ_EV_FAILED;
    return TZ_PARSE_OK;
}
