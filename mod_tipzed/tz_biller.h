/* The generic biller protocol (docs/bills.md): request builders and answer
 * readers for a biller's /validate, /pay and /status calls.  Pure
 * functions, no httpd types; the glue is mod_tipzed_bills.c and the
 * watchdog's tz_check_bills (mod_tipzed_poller.c).
 *
 * Requests are POSTs of a JSON body signed like the generic gateway's:
 * X-Tipzed-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>. */
#ifndef TZ_BILLER_H
#define TZ_BILLER_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include "tz_provider.h"

/* What an answer about a payment decides. */
typedef enum {
    TZ_BILL_UNKNOWN = 0, /* no answer, timeout, 5xx, 408/409/425/429, unreadable 2xx */
    TZ_BILL_SUCCEEDED,
    TZ_BILL_FAILED,      /* the biller refused (its word, or a 4xx) */
    TZ_BILL_PENDING      /* the biller has not decided yet */
} tz_bill_verdict_e;

typedef struct {
    tz_bill_verdict_e verdict;
    const char *reference;   /* the biller's reference, or NULL */
    const char *reason;      /* why it failed, or NULL */
} tz_bill_answer_t;

/* What /validate said about a customer. */
typedef enum {
    TZ_BILL_CUSTOMER_OK = 0,
    TZ_BILL_CUSTOMER_UNKNOWN,   /* 404 or 422 */
    TZ_BILL_UNAVAILABLE         /* anything else: no answer, 5xx, unreadable */
} tz_bill_customer_e;

/* Longest reference and reason kept from an answer, in bytes. */
#define TZ_BILL_MAX_REF 200
#define TZ_BILL_MAX_REASON 500

/* The bodies: {"customer"}, {"payment_id","customer","amount","currency"},
 * {"payment_id"}. */
char *tz_biller_validate_body(apr_pool_t *p, const char *customer);
char *tz_biller_pay_body(apr_pool_t *p, const char *payment_id, const char *customer,
                         int64_t amount, const char *currency);
char *tz_biller_status_body(apr_pool_t *p, const char *payment_id);

/* POST <base_url>/<op> with body, Content-Type application/json and the
 * signature made at now.  A base_url with a trailing slash is joined
 * without doubling it.  out->url is NULL when base_url is not http(s). */
void tz_biller_request(apr_pool_t *p, const char *base_url, const char *op, const char *body,
                       const void *secret, size_t secretlen, long long now, tz_out_req_t *out);

/* The verdict of an answer to /pay or /status (http_status 0: no answer).
 * A 2xx decides by its body's "status" (succeeded | failed | pending;
 * anything else is unknown); a 4xx other than 408, 409, 425 and 429 is a
 * refusal; everything else is unknown. */
tz_bill_verdict_e tz_biller_answer(apr_pool_t *p, int http_status, const char *body, size_t len,
                                   tz_bill_answer_t *out);

/* The answer to /validate: {customer, name} on 2xx (name is returned in
 * *name; a missing or non-string name makes the answer unreadable). */
tz_bill_customer_e tz_biller_customer(apr_pool_t *p, int http_status, const char *body,
                                      size_t len, const char **name);

/* 1 when url is an absolute http:// or https:// URL with a host, 0 otherwise. */
int tz_biller_url_ok(const char *url);

#endif
