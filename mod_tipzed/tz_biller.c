/* The generic biller protocol (see tz_biller.h and docs/bills.md). */
#include <string.h>
#include "tz_biller.h"
#include "tz_json.h"
#include "apr_strings.h"

char *tz_biller_validate_body(apr_pool_t *p, const char *customer)
{
    json_t *j = json_pack("{s:s}", "customer", customer ? customer : "");
    char *s = j ? tz_json_dump(p, j) : NULL;
    json_decref(j);
    return s;
}

char *tz_biller_pay_body(apr_pool_t *p, const char *payment_id, const char *customer,
                         int64_t amount, const char *currency)
{
    json_t *j = json_pack("{s:s, s:s, s:I, s:s}", "payment_id", payment_id ? payment_id : "",
                          "customer", customer ? customer : "", "amount", (json_int_t)amount,
                          "currency", currency ? currency : "");
    char *s = j ? tz_json_dump(p, j) : NULL;
    json_decref(j);
    return s;
}

char *tz_biller_status_body(apr_pool_t *p, const char *payment_id)
{
    json_t *j = json_pack("{s:s}", "payment_id", payment_id ? payment_id : "");
    char *s = j ? tz_json_dump(p, j) : NULL;
    json_decref(j);
    return s;
}

int tz_biller_url_ok(const char *url)
{
    const char *host;
    if (!url)
        return 0;
    if (strncmp(url, "https://", 8) == 0)
        host = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        host = url + 7;
    else
        return 0;
    if (!*host || *host == '/' || *host == '?' || *host == '#')
        return 0;
    for (const char *c = url; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return 0;
    return 1;
}

void tz_biller_request(apr_pool_t *p, const char *base_url, const char *op, const char *body,
                       const void *secret, size_t secretlen, long long now, tz_out_req_t *out)
{
    size_t n = base_url ? strlen(base_url) : 0;
    memset(out, 0, sizeof(*out));
    out->method = "POST";
    out->body = body ? body : "{}";
    out->bodylen = strlen(out->body);
    out->headers = apr_array_make(p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(out->headers, const char *) = "Content-Type: application/json";
    APR_ARRAY_PUSH(out->headers, const char *) = "Accept: application/json";
    APR_ARRAY_PUSH(out->headers, const char *) = apr_pstrcat(
        p, "X-Tipzed-Signature: ",
        tz_sig_sign_tv1(p, secret ? secret : "", secret ? secretlen : 0, out->body, out->bodylen,
                        now), NULL);
    if (!tz_biller_url_ok(base_url))
        return;
    out->url = apr_pstrcat(p, apr_pstrmemdup(p, base_url, n && base_url[n - 1] == '/' ? n - 1 : n),
                           "/", op, NULL);
}

/* A string member without embedded NUL, at most max bytes, else NULL. */
static const char *clean_str(apr_pool_t *p, json_t *obj, const char *key, size_t max)
{
    json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);
    if (!s || strlen(s) != json_string_length(v) || !*s)
        return NULL;
    return apr_pstrndup(p, s, strlen(s) > max ? max : strlen(s));
}

static json_t *parse_object(apr_pool_t *p, const char *body, size_t len)
{
    const char *err;
    json_t *j = body && len ? tz_json_parse(p, body, len, &err) : NULL;
    return json_is_object(j) ? j : NULL;
}

tz_bill_verdict_e tz_biller_answer(apr_pool_t *p, int http_status, const char *body, size_t len,
                                   tz_bill_answer_t *out)
{
    json_t *j;
    const char *st;
    memset(out, 0, sizeof(*out));
    if (http_status >= 400 && http_status <= 499 && http_status != 408 && http_status != 409 &&
        http_status != 425 && http_status != 429) {
        j = parse_object(p, body, len);
        out->reason = j ? clean_str(p, j, "reason", TZ_BILL_MAX_REASON) : NULL;
        if (!out->reason)
            out->reason = apr_psprintf(p, "the biller answered HTTP %d", http_status);
        return out->verdict = TZ_BILL_FAILED;
    }
    if (http_status < 200 || http_status > 299 || !(j = parse_object(p, body, len)))
        return out->verdict = TZ_BILL_UNKNOWN;
    st = json_string_value(json_object_get(j, "status"));
    if (!st)
        return out->verdict = TZ_BILL_UNKNOWN;
    out->reference = clean_str(p, j, "reference", TZ_BILL_MAX_REF);
    if (strcmp(st, "succeeded") == 0)
        out->verdict = TZ_BILL_SUCCEEDED;
    else if (strcmp(st, "failed") == 0) {
        out->verdict = TZ_BILL_FAILED;
        out->reason = clean_str(p, j, "reason", TZ_BILL_MAX_REASON);
        if (!out->reason)
            out->reason = "refused by the biller";
    } else if (strcmp(st, "pending") == 0)
        out->verdict = TZ_BILL_PENDING;
    else
        out->reference = NULL, out->verdict = TZ_BILL_UNKNOWN;
    return out->verdict;
}

tz_bill_customer_e tz_biller_customer(apr_pool_t *p, int http_status, const char *body,
                                      size_t len, const char **name)
{
    json_t *j;
    *name = NULL;
    if (http_status == 404 || http_status == 422)
        return TZ_BILL_CUSTOMER_UNKNOWN;
    if (http_status < 200 || http_status > 299 || !(j = parse_object(p, body, len)) ||
        !(*name = clean_str(p, j, "name", 200)))
        return TZ_BILL_UNAVAILABLE;
    return TZ_BILL_CUSTOMER_OK;
}
