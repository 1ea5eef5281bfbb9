/* MTN MoMo Collections (provider "momo"): the payer confirms the payment
 * on their phone.  OAuth access token (POST /collection/token/),
 * requesttopay with X-Reference-Id = our payment id, and the request's
 * status (GET /collection/v1_0/requesttopay/{id}), which is the only
 * thing trusted: a callback is a hint to ask.
 *
 * There is no refund operation: the Collections product cannot give money
 * back.  MTN's refunds belong to the Disbursements product (another API
 * user, another subscription key), so the row has neither refund nor
 * refund_local and a refund through MoMo is refused.
 *
 * Amounts travel as decimal text in major units ("25", "25.50"), written
 * and read with integer arithmetic only. */
#include <string.h>
#include "tz_provider.h"
#include "tz_json.h"
#include "tz_parse.h"
#include "apr_strings.h"
#include "apr_base64.h"

#define TZ_MSISDN_MIN 10
#define TZ_MSISDN_MAX 15
#define TZ_MOMO_MSG_MAX 160 /* bytes of payerMessage */
#define TZ_MOMO_RTP "/collection/v1_0/requesttopay"

/* ------------------------------------------------------------ helpers */

const char *tz_msisdn_normalize(apr_pool_t *p, const char *in)
{
    size_t n;
    if (!in)
        return NULL;
    if (*in == '+')
        in++;
    n = strspn(in, "0123456789");
    if (in[n] != '\0' || n < TZ_MSISDN_MIN || n > TZ_MSISDN_MAX || in[0] == '0')
        return NULL;
    return apr_pstrdup(p, in);
}

/* A non-empty header value without control characters (no header can be
 * smuggled through a configured value or an answer). */
static int tz_momo_header_ok(const char *v)
{
    if (!v || !*v)
        return 0;
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    return 1;
}

/* Appends "name: value"; 0, or -1 when the value is missing or unsafe. */
static int tz_momo_header(apr_pool_t *p, apr_array_header_t *h, const char *name,
                          const char *value)
{
    if (!tz_momo_header_ok(value))
        return -1;
    APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, name, ": ", value, NULL);
    return 0;
}

char *tz_momo_basic_auth(apr_pool_t *p, const char *api_user, const char *api_key)
{
    const char *pair = apr_pstrcat(p, api_user ? api_user : "", ":", api_key ? api_key : "",
                                   NULL);
    int n = (int)strlen(pair);
    char *enc = apr_palloc(p, (apr_size_t)apr_base64_encode_len(n));
    apr_base64_encode(enc, pair, n);
    return apr_pstrcat(p, "Basic ", enc, NULL);
}

/* Bearer token, subscription key and target environment: every call of
 * the product after the token; -1 when one is missing or unsafe. */
static int tz_momo_api_headers(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                               const char *content_type, apr_array_header_t **h)
{
    *h = tz_prov_headers(p, cfg->api_secret, content_type);
    if (!tz_momo_header_ok(cfg->api_secret))
        return -1;
    if (tz_momo_header(p, *h, "X-Target-Environment", cfg->environment) != 0)
        return -1;
    return tz_momo_header(p, *h, "Ocp-Apim-Subscription-Key", cfg->subscription_key);
}

static void tz_momo_out(tz_out_req_t *out, const char *method, const char *url,
                        apr_array_header_t *h)
{
    out->method = method;
    out->url = url;
    out->headers = h;
    out->body = NULL;
    out->bodylen = 0;
}

/* A string member, else NULL (the parser refuses "\u0000", so C text is
 * the whole string). */
static const char *tz_momo_str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* ------------------------------------------------------------ token */

void tz_momo_token_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, tz_out_req_t *out)
{
    apr_array_header_t *h = apr_array_make(p, 3, sizeof(const char *));
    int bad = !cfg->api_user || !cfg->api_key || strchr(cfg->api_user, ':') ||
              tz_momo_header(p, h, "Authorization",
                             tz_momo_basic_auth(p, cfg->api_user, cfg->api_key)) != 0 ||
              tz_momo_header(p, h, "Ocp-Apim-Subscription-Key", cfg->subscription_key) != 0;
    APR_ARRAY_PUSH(h, const char *) = "Accept: application/json";
    tz_momo_out(out, "POST", bad ? NULL : tz_prov_url(p, cfg->base_url, "/collection/token/"), h);
    out->body = "";
}

int tz_momo_token_answer(apr_pool_t *p, const char *body, size_t len, const char **token,
                         int64_t *expires_in)
{
    const char *err, *tok;
    json_t *j = body ? tz_json_parse(p, body, len, &err) : NULL, *exp;
    if (!json_is_object(j))
        return -1;
    tok = tz_momo_str(j, "access_token");
    exp = json_object_get(j, "expires_in");
    if (!tz_momo_header_ok(tok) || strchr(tok, ' ') || !json_is_integer(exp) ||
        json_integer_value(exp) <= 0)
        return -1;
    *token = apr_pstrdup(p, tok);
    *expires_in = (int64_t)json_integer_value(exp);
    return 0;
}

/* ------------------------------------------------------------ requesttopay */

/* At most TZ_MOMO_MSG_MAX bytes of valid UTF-8 s, cut before a whole
 * sequence; NULL when s is not valid UTF-8. */
static const char *tz_momo_message(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s);
    json_t *check = tz_json_pool(p, json_string(s)); /* jansson refuses invalid UTF-8 */
    if (!check)
        return NULL;
    if (n <= TZ_MOMO_MSG_MAX)
        return s;
    n = TZ_MOMO_MSG_MAX;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] continues the sequence that would be cut */
    return apr_pstrndup(p, s, n);
}

/* The JSON body of requesttopay; NULL when a field is unusable. */
static const char *tz_momo_rtp_body(apr_pool_t *p, const tz_checkout_req_t *req)
{
    const char *msisdn = tz_msisdn_normalize(p, req->phone_number);
    const char *msg = tz_momo_message(p, req->description ? req->description : "Tip");
    json_t *j;
    if (!msisdn || !msg || req->amount <= 0 || !req->currency || tz_parse_currency(req->currency) ||
        !req->payment_id || !tz_is_uuid(req->payment_id))
        return NULL;
    j = tz_json_pool(p, json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:s, s:s}",
        "amount", tz_minor_to_decimal(p, req->amount), "currency", req->currency,
        "externalId", req->payment_id, "payer", "partyIdType", "MSISDN", "partyId", msisdn,
        "payerMessage", msg, "payeeNote", "Tipzed"));
    return j ? tz_json_dump(p, j) : NULL;
}

void tz_momo_checkout_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                              const tz_checkout_req_t *req, tz_out_req_t *out)
{
    apr_array_header_t *h;
    const char *body = tz_momo_rtp_body(p, req);
    int bad = tz_momo_api_headers(p, cfg, "application/json", &h) != 0 ||
              tz_momo_header(p, h, "X-Reference-Id", req->payment_id) != 0 ||
              tz_momo_header(p, h, "X-Callback-Url", req->callback_url) != 0 || !body;
    tz_momo_out(out, "POST", bad ? NULL : tz_prov_url(p, cfg->base_url, TZ_MOMO_RTP), h);
    out->body = body;
    out->bodylen = body ? strlen(body) : 0;
}

const char *tz_momo_checkout_answer(apr_pool_t *p, const char *body, size_t len,
                                    const char **provider_ref)
{
    (void)p;
    (void)body;
    (void)len;
    *provider_ref = NULL; /* the request is named by our payment id */
    return "";            /* 202 Accepted, no link: the payer confirms on the phone */
}

tz_sig_status_e tz_momo_verify_signature(const tz_prov_cfg_t *cfg, const tz_webhook_t *in)
{
    (void)cfg;
    (void)in;
    return TZ_SIG_OK; /* nothing to check: every callback is verified by asking */
}

/* GET requesttopay/<payment id> */
static void tz_momo_get(apr_pool_t *p, const tz_prov_cfg_t *cfg, const char *payment_id,
                        tz_out_req_t *out)
{
    apr_array_header_t *h;
    int bad = tz_momo_api_headers(p, cfg, NULL, &h) != 0 || !payment_id || !*payment_id;
    const char *path = apr_pstrcat(p, TZ_MOMO_RTP "/", tz_url_escape(p, payment_id), NULL);
    tz_momo_out(out, "GET", bad ? NULL : tz_prov_url(p, cfg->base_url, path), h);
}

void tz_momo_verify_request(apr_pool_t *p, const tz_prov_cfg_t *cfg, const tz_event_t *ev,
                            tz_out_req_t *out)
{
    tz_momo_get(p, cfg, ev->payment_id, out);
}

void tz_momo_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                            const tz_status_req_t *req, tz_out_req_t *out)
{
    tz_momo_get(p, cfg, req->payment_id, out);
}

/* ------------------------------------------------------------ reading */

static tz_event_kind_e tz_momo_kind(const char *status)
{
    static const char *const failed[] = {"FAILED", "REJECTED", "TIMEOUT", "EXPIRED"};
    if (strcmp(status, "SUCCESSFUL") == 0)
        return TZ_EV_SUCCESS;
    for (size_t i = 0; i < sizeof(failed) / sizeof(failed[0]); i++)
        if (strcmp(status, failed[i]) == 0)
            return TZ_EV_FAILED;
    return TZ_EV_PENDING; /* PENDING, CREATED, ONGOING and whatever comes next */
}

/* "25", "25.50" or a JSON integer of major units, as minor units. */
static int tz_momo_amount(json_t *v, int64_t *minor)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        if (n < 0 || n > INT64_MAX / 100)
            return -1;
        *minor = (int64_t)n * 100;
        return 0;
    }
    return json_is_string(v) ? tz_decimal_to_minor(json_string_value(v), minor) : -1;
}

/* amount and currency: both or neither (null counts as absent). */
static tz_parse_status_e tz_momo_money(apr_pool_t *p, json_t *j, tz_event_t *ev)
{
    json_t *amount = json_object_get(j, "amount"), *cur = json_object_get(j, "currency");
    int has_amount = amount && !json_is_null(amount), has_cur = cur && !json_is_null(cur);
    if (!has_amount && !has_cur)
        return TZ_PARSE_OK;
    if (!has_amount || tz_momo_amount(amount, &ev->amount) != 0)
        return tz_event_invalid(ev, "amount");
    if (!json_is_string(cur) || tz_parse_currency(json_string_value(cur)))
        return tz_event_invalid(ev, "currency");
    ev->currency = apr_pstrdup(p, json_string_value(cur));
    ev->has_amount = 1;
    return TZ_PARSE_OK;
}

/* The provider's words: a string, or an object's "message" or "code". */
static const char *tz_momo_reason(apr_pool_t *p, json_t *r)
{
    const char *s = json_string_value(r);
    if (!s && json_is_object(r) && !(s = tz_momo_str(r, "message")))
        s = tz_momo_str(r, "code");
    return s && *s ? apr_pstrdup(p, s) : NULL;
}

/* The payment id: externalId, or (callbacks) referenceId when there is no
 * externalId; a UUID, lower-cased. */
static tz_parse_status_e tz_momo_payment(apr_pool_t *p, json_t *j, int callback, tz_event_t *ev)
{
    json_t *ext = json_object_get(j, "externalId");
    const char *id = json_string_value(ext);
    if (callback && (!ext || json_is_null(ext)))
        id = tz_momo_str(j, "referenceId");
    if (!id || !tz_is_uuid(id))
        return tz_event_invalid(ev, "externalId");
    ev->payment_id = tz_ascii_lower(p, id);
    return TZ_PARSE_OK;
}

/* A requesttopay object (status answer or callback) read into ev. */
static tz_parse_status_e tz_momo_read(apr_pool_t *p, const char *body, size_t len, int callback,
                                      tz_event_t *ev)
{
    const char *err, *status, *tx;
    json_t *j = body ? tz_json_parse(p, body, len, &err) : NULL;
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    if (tz_momo_payment(p, j, callback, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    if (!(status = tz_momo_str(j, "status")) || !*status)
        return tz_event_invalid(ev, "status");
    if (tz_momo_money(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    status = tz_ascii_upper(p, status);
    ev->kind = tz_momo_kind(status);
    if ((tx = tz_momo_str(j, "financialTransactionId")) && *tx)
        ev->provider_tx_id = apr_pstrdup(p, tx);
    ev->reason = tz_momo_reason(p, json_object_get(j, "reason"));
    ev->event_id = apr_pstrcat(p, "momo:", ev->payment_id, ":", status, NULL);
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_momo_status_answer(apr_pool_t *p, const char *body, size_t len,
                                        tz_event_t *ev)
{
    return tz_momo_read(p, body, len, 0, ev);
}

tz_parse_status_e tz_momo_parse_event(apr_pool_t *p, const char *body, size_t len,
                                      tz_event_t *ev)
{
    return tz_momo_read(p, body, len, 1, ev);
}

const tz_provider_t tz_provider_momo = {
    .name = "momo",
    .signature_header = NULL,
    .needs_api_secret = 0,
    .needs_msisdn = 1,
    .refund_local = 0, /* no refund in Collections (Disbursements has them): refused */
    .token = tz_momo_token_request,
    .token_answer = tz_momo_token_answer,
    .checkout = tz_momo_checkout_request,
    .checkout_answer = tz_momo_checkout_answer,
    .verify_signature = tz_momo_verify_signature,
    .parse_event = tz_momo_parse_event,
    .verify = tz_momo_verify_request,
    .verify_answer = tz_momo_status_answer,
    .status = tz_momo_status_request,
    .status_answer = tz_momo_status_answer,
};
