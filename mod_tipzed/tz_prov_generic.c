/* The generic mobile-money redirect gateway (also the wire format of the
 * sandbox): the checkout URL the payer is sent to, the signed callback
 * events the gateway posts back to /payments/webhook (payments, refunds,
 * disputes), and the signed refund and status calls made to the gateway.
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
/* Longest dispute_id, in characters. */
#define TZ_GENERIC_MAX_DISPUTE 100

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

/* The statuses a callback may carry, and what each reports. */
typedef struct {
    const char *status;
    tz_event_kind_e kind;
    const char *word;            /* refund_status / dispute_status */
} tz_generic_status_t;

static const tz_generic_status_t tz_generic_statuses[] = {
    {"success", TZ_EV_SUCCESS, NULL},
    {"failed", TZ_EV_FAILED, NULL},
    {"refunded", TZ_EV_REFUND, "succeeded"},
    {"refund_failed", TZ_EV_REFUND, "failed"},
    {"dispute_opened", TZ_EV_DISPUTE, "open"},
    {"dispute_won", TZ_EV_DISPUTE, "won"},
    {"dispute_lost", TZ_EV_DISPUTE, "lost"},
};

static const tz_generic_status_t *tz_generic_status(const char *status)
{
    for (size_t i = 0; status && i < sizeof tz_generic_statuses / sizeof tz_generic_statuses[0]; i++)
        if (strcmp(status, tz_generic_statuses[i].status) == 0)
            return &tz_generic_statuses[i];
    return NULL;
}

/* A dispute id: 1..TZ_GENERIC_MAX_DISPUTE characters, no control characters. */
static int tz_dispute_id_ok(const char *id)
{
    size_t n = id ? tz_utf8_len(id) : 0;
    if (n == 0 || n > TZ_GENERIC_MAX_DISPUTE)
        return 0;
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return 0;
    return 1;
}

/* "reason" of a refund or dispute callback: optional text. */
static tz_parse_status_e tz_generic_reason(apr_pool_t *p, json_t *j, tz_event_t *ev)
{
    json_t *reason = tz_optional(j, "reason");
    if (reason && !tz_clean_str(reason))
        return tz_event_invalid(ev, "reason");
    ev->reason = reason ? apr_pstrdup(p, json_string_value(reason)) : NULL;
    return TZ_PARSE_OK;
}

/* refunded / refund_failed: refund_id (a UUID) and amount are required. */
static tz_parse_status_e tz_generic_refund_event(apr_pool_t *p, json_t *j,
                                                 const tz_generic_status_t *st, tz_event_t *ev)
{
    const char *rid = tz_clean_str(json_object_get(j, "refund_id"));
    if (!rid || !tz_is_uuid(rid))
        return tz_event_invalid(ev, "refund_id");
    if (!ev->has_amount)
        return tz_event_invalid(ev, "amount");
    if (tz_generic_reason(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->refund_id = tz_ascii_lower(p, rid);
    ev->refund_status = st->word;
    ev->event_id = apr_pstrcat(p, ev->payment_id, ":", ev->refund_id, ":", st->status, NULL);
    return TZ_PARSE_OK;
}

/* dispute_opened / _won / _lost: dispute_id and amount are required. */
static tz_parse_status_e tz_generic_dispute_event(apr_pool_t *p, json_t *j,
                                                  const tz_generic_status_t *st, tz_event_t *ev)
{
    const char *did = tz_clean_str(json_object_get(j, "dispute_id"));
    if (!tz_dispute_id_ok(did))
        return tz_event_invalid(ev, "dispute_id");
    if (!ev->has_amount)
        return tz_event_invalid(ev, "amount");
    if (tz_generic_reason(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->dispute_id = apr_pstrdup(p, did);
    ev->dispute_status = st->word;
    ev->event_id = apr_pstrcat(p, ev->payment_id, ":", ev->dispute_id, ":", st->status, NULL);
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_generic_parse_event(apr_pool_t *p, const char *body, size_t len,
                                         tz_event_t *ev)
{
    const char *err, *id;
    const tz_generic_status_t *st;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    id = tz_clean_str(json_object_get(j, "payment_id"));
    if (!id || !tz_is_uuid(id))
        return tz_event_invalid(ev, "payment_id");
    if (!(st = tz_generic_status(tz_clean_str(json_object_get(j, "status")))))
        return tz_event_invalid(ev, "status");
    if (tz_generic_timestamp(json_object_get(j, "timestamp"), &ev->timestamp) != 0)
        return tz_event_invalid(ev, "timestamp");
    if (tz_generic_optional(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    /* UUIDs compare as text further on: one spelling */
    ev->payment_id = tz_ascii_lower(p, id);
    ev->kind = st->kind;
    if (st->kind == TZ_EV_REFUND)
        return tz_generic_refund_event(p, j, st, ev);
    if (st->kind == TZ_EV_DISPUTE)
        return tz_generic_dispute_event(p, j, st, ev);
    /* a failure and a later success of one payment are two facts, and two
     * payments can never share an event through one transaction id */
    ev->event_id = apr_pstrcat(p, ev->payment_id, ":",
                               ev->provider_tx_id ? ev->provider_tx_id : "", ":", st->status, NULL);
    return TZ_PARSE_OK;
}

/* ---- calls to the gateway: refunds and status, signed like its callbacks ---- */

/* POST <base><path> with obj as the JSON body, signed with the shared
 * secret; no URL when the body or the signature cannot be made. */
static void tz_generic_signed_post(apr_pool_t *p, const tz_prov_cfg_t *cfg, const char *path,
                                   json_t *obj, int64_t now, tz_out_req_t *out)
{
    const char *sig = NULL;
    out->method = "POST";
    out->url = tz_prov_url(p, cfg->base_url, path);
    out->headers = apr_array_make(p, 3, sizeof(const char *));
    out->body = obj ? tz_json_dump(p, obj) : NULL;
    out->bodylen = out->body ? strlen(out->body) : 0;
    if (out->body)
        sig = tz_sig_sign_tv1(p, cfg->webhook_secret, cfg->webhook_secret_len, out->body,
                              out->bodylen, now);
    if (!sig) {
        out->url = NULL; /* the transport refuses a request without a URL */
        return;
    }
    APR_ARRAY_PUSH(out->headers, const char *) = "Content-Type: application/json";
    APR_ARRAY_PUSH(out->headers, const char *) = "Accept: application/json";
    APR_ARRAY_PUSH(out->headers, const char *) = apr_pstrcat(p, "X-Tipzed-Signature: ", sig, NULL);
}

void tz_generic_refund_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                               const tz_refund_req_t *req, tz_out_req_t *out)
{
    json_t *obj = tz_json_pool(p, json_pack("{s:s, s:s, s:s*, s:I, s:s, s:s*}",
        "refund_id", req->refund_id, "payment_id", req->payment_id,
        "provider_transaction_id", req->provider_tx_id, "amount", (json_int_t)req->amount,
        "currency", req->currency, "reason", req->reason));
    tz_generic_signed_post(p, cfg, "/refunds", obj, req->now, out);
}

void tz_generic_status_request(apr_pool_t *p, const tz_prov_cfg_t *cfg,
                               const tz_status_req_t *req, tz_out_req_t *out)
{
    json_t *obj = tz_json_pool(p, json_pack("{s:s}", "payment_id", req->payment_id));
    tz_generic_signed_post(p, cfg, "/status", obj, req->now, out);
}

/* The refund answer's optional members: provider_refund_id, amount, reason. */
static tz_parse_status_e tz_generic_refund_optional(apr_pool_t *p, json_t *j, tz_event_t *ev)
{
    json_t *prid = tz_optional(j, "provider_refund_id"), *amount = tz_optional(j, "amount");
    if (prid && (!tz_clean_str(prid) || !tz_tx_id_ok(json_string_value(prid))))
        return tz_event_invalid(ev, "provider_refund_id");
    if (amount && (!json_is_integer(amount) || json_integer_value(amount) < 0))
        return tz_event_invalid(ev, "amount");
    if (tz_generic_reason(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->provider_refund_id = prid ? apr_pstrdup(p, json_string_value(prid)) : NULL;
    ev->has_amount = amount != NULL;
    ev->amount = amount ? (int64_t)json_integer_value(amount) : 0;
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_generic_parse_refund(apr_pool_t *p, const char *body, size_t len,
                                          tz_event_t *ev)
{
    static const char *const words[] = {"succeeded", "pending", "failed"};
    const char *err, *rid, *status;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    rid = tz_clean_str(json_object_get(j, "refund_id"));
    if (!rid || !tz_is_uuid(rid))
        return tz_event_invalid(ev, "refund_id");
    status = tz_clean_str(json_object_get(j, "status"));
    for (size_t i = 0; status && i < sizeof words / sizeof words[0]; i++)
        if (strcmp(status, words[i]) == 0)
            ev->refund_status = words[i];
    if (!ev->refund_status)
        return tz_event_invalid(ev, "status");
    if (tz_generic_refund_optional(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->kind = TZ_EV_REFUND;
    ev->refund_id = tz_ascii_lower(p, rid);
    ev->event_id = apr_pstrcat(p, ev->refund_id, ":", ev->refund_status, NULL);
    return TZ_PARSE_OK;
}

tz_parse_status_e tz_generic_parse_status(apr_pool_t *p, const char *body, size_t len,
                                          tz_event_t *ev)
{
    const char *err, *id, *status;
    json_t *j = tz_json_parse(p, body, len, &err);
    memset(ev, 0, sizeof(*ev));
    if (!json_is_object(j))
        return TZ_PARSE_MALFORMED;
    id = tz_clean_str(json_object_get(j, "payment_id"));
    if (!id || !tz_is_uuid(id))
        return tz_event_invalid(ev, "payment_id");
    status = tz_clean_str(json_object_get(j, "status"));
    if (!status || (strcmp(status, "success") != 0 && strcmp(status, "failed") != 0 &&
                    strcmp(status, "pending") != 0))
        return tz_event_invalid(ev, "status");
    if (tz_generic_optional(p, j, ev) != TZ_PARSE_OK)
        return TZ_PARSE_INVALID;
    ev->payment_id = tz_ascii_lower(p, id);
    ev->kind = strcmp(status, "success") == 0  ? TZ_EV_SUCCESS
             : strcmp(status, "failed") == 0   ? TZ_EV_FAILED : TZ_EV_PENDING;
    return TZ_PARSE_OK; /* the event id is the caller's */
}

const tz_provider_t tz_provider_generic = {
    .name = "mobile_money",
    .signature_header = "X-Tipzed-Signature",
    .generic = 1,
    .checkout_link = tz_generic_checkout_link,
    .verify_signature = tz_generic_verify_signature,
    .parse_event = tz_generic_parse_event,
    .refund_retry_safe = 1, /* the gateway keys refunds by refund_id */
    .refund = tz_generic_refund_request,
    .refund_answer = tz_generic_parse_refund,
    .status = tz_generic_status_request,
    .status_answer = tz_generic_parse_status,
};
