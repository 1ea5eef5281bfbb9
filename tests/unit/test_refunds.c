/* Provider adapters, refunds and disputes: the refund and status calls of
 * the generic gateway, Flutterwave and Stripe (method, URL, headers, exact
 * body), their answers, and the refund and dispute webhook events. */
#include "tz_test.h"
#include "tz_provider.h"
#include "tz_json.h"
#include <string.h>
#include <stdlib.h>

#define PID "123e4567-e89b-42d3-a456-426614174000"
#define PID_UPPER "123E4567-E89B-42D3-A456-426614174000"
#define RID "9b2f6c1e-5d4a-4e3b-8c2d-1a0f9e8d7c6b"
#define RID_UPPER "9B2F6C1E-5D4A-4E3B-8C2D-1A0F9E8D7C6B"
#define LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HDR(out, i) APR_ARRAY_IDX((out).headers, i, const char *)

static tz_event_t ev;

typedef tz_parse_status_e (*parser_fn)(apr_pool_t *, const char *, size_t, tz_event_t *);

static tz_parse_status_e run(parser_fn fn, const char *body)
{
    return fn(tz_tp, body, strlen(body), &ev);
}

/* Every body of bad[] is INVALID naming its member. */
typedef struct { const char *body, *field; } bad_t;

static void expect_invalid(parser_fn fn, const bad_t *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(run(fn, bad[i].body) == TZ_PARSE_INVALID, "accepted %s", bad[i].body);
        ck_assert_msg(ev.bad_field && strcmp(ev.bad_field, bad[i].field) == 0,
                      "%s: named %s, not %s", bad[i].body, ev.bad_field ? ev.bad_field : "(null)",
                      bad[i].field);
    }
}

static void expect_malformed(parser_fn fn)
{
    static const char *bad[] = {"not json", "", "[]", "[1]", "{\"a\":1,\"a\":2}"};
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(run(fn, bad[i]) == TZ_PARSE_MALFORMED, "accepted %s", bad[i]);
}

/* ------------------------------------------------------------ generic gateway */

static const tz_prov_cfg_t gen_cfg = {.enabled = 1, .base_url = "https://gw.example/api/",
                                      .webhook_secret = "gw-secret-0123456789",
                                      .webhook_secret_len = 20, .tolerance = 300};

/* The signature header is the tv1 signature of the exact body at now. */
static void expect_signed(const tz_out_req_t *out, int64_t now)
{
    const char *sig = HDR(*out, 2);
    ck_assert_int_eq(out->headers->nelts, 3);
    ck_assert_str_eq(HDR(*out, 0), "Content-Type: application/json");
    ck_assert_str_eq(HDR(*out, 1), "Accept: application/json");
    ck_assert_int_eq(strncmp(sig, "X-Tipzed-Signature: ", 20), 0);
    ck_assert_str_eq(sig + 20, tz_sig_sign_tv1(tz_tp, gen_cfg.webhook_secret,
                                               gen_cfg.webhook_secret_len, out->body,
                                               out->bodylen, now));
    ck_assert_int_eq(tz_sig_verify_tv1(sig + 20, gen_cfg.webhook_secret, gen_cfg.webhook_secret_len,
                                       out->body, out->bodylen, now, 0), TZ_SIG_OK);
    ck_assert_int_eq(strncmp(sig + 20, "t=1700000000,v1=", 16), 0);
}

START_TEST(generic_refund_request)
{
    tz_refund_req_t req = {RID, PID, "mm-77", 1250, "ZMW", "Duplicate \"tip\"", 1700000000};
    tz_out_req_t out;
    tz_prov_cfg_t none = gen_cfg;
    tz_generic_refund_request(tz_tp, &gen_cfg, &req, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://gw.example/api/refunds");
    ck_assert_str_eq(out.body, "{\"refund_id\":\"" RID "\",\"payment_id\":\"" PID "\","
                     "\"provider_transaction_id\":\"mm-77\",\"amount\":1250,\"currency\":\"ZMW\","
                     "\"reason\":\"Duplicate \\\"tip\\\"\"}");
    ck_assert_uint_eq(out.bodylen, strlen(out.body));
    expect_signed(&out, 1700000000);
    req.provider_tx_id = NULL, req.reason = NULL;
    tz_generic_refund_request(tz_tp, &gen_cfg, &req, &out);
    ck_assert_str_eq(out.body, "{\"refund_id\":\"" RID "\",\"payment_id\":\"" PID "\","
                     "\"amount\":1250,\"currency\":\"ZMW\"}");
    expect_signed(&out, 1700000000);
    /* nothing to sign with, or a body that cannot be made: no request */
    none.webhook_secret = NULL, none.webhook_secret_len = 0;
    tz_generic_refund_request(tz_tp, &none, &req, &out);
    ck_assert_ptr_null(out.url);
    req.reason = "bad \xff utf-8";
    tz_generic_refund_request(tz_tp, &gen_cfg, &req, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

START_TEST(generic_status_request)
{
    tz_status_req_t req = {PID, NULL, NULL, 1700000000};
    tz_out_req_t out;
    tz_generic_status_request(tz_tp, &gen_cfg, &req, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://gw.example/api/status");
    ck_assert_str_eq(out.body, "{\"payment_id\":\"" PID "\"}");
    expect_signed(&out, 1700000000);
}
END_TEST

START_TEST(generic_refund_answer)
{
    static const char *words[] = {"succeeded", "pending", "failed"};
    ck_assert_int_eq(run(tz_generic_parse_refund, "{\"refund_id\":\"" RID_UPPER "\",\"status\":"
                         "\"succeeded\",\"provider_refund_id\":\"gw-r-1\",\"amount\":1250,"
                         "\"reason\":\"ok\",\"extra\":[1]}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_REFUND);
    ck_assert_str_eq(ev.refund_id, RID);
    ck_assert_str_eq(ev.refund_status, "succeeded");
    ck_assert_str_eq(ev.provider_refund_id, "gw-r-1");
    ck_assert(ev.has_amount && ev.amount == 1250);
    ck_assert_str_eq(ev.reason, "ok");
    ck_assert_str_eq(ev.event_id, RID ":succeeded");
    for (size_t i = 0; i < LEN(words); i++) {
        char *b = apr_psprintf(tz_tp, "{\"refund_id\":\"" RID "\",\"status\":\"%s\","
                               "\"provider_refund_id\":null,\"amount\":null}", words[i]);
        ck_assert_int_eq(run(tz_generic_parse_refund, b), TZ_PARSE_OK);
        ck_assert_str_eq(ev.refund_status, words[i]);
        ck_assert(!ev.has_amount && !ev.provider_refund_id && !ev.reason);
    }
#define R(rest) "{\"refund_id\":\"" RID "\",\"status\":\"pending\"" rest "}"
    static const bad_t bad[] = {
        {"{\"status\":\"succeeded\"}", "refund_id"},
        {"{\"refund_id\":\"x\",\"status\":\"succeeded\"}", "refund_id"},
        {"{\"refund_id\":7,\"status\":\"succeeded\"}", "refund_id"},
        {"{\"refund_id\":\"" RID "\"}", "status"},
        {"{\"refund_id\":\"" RID "\",\"status\":\"success\"}", "status"},
        {"{\"refund_id\":\"" RID "\",\"status\":\"SUCCEEDED\"}", "status"},
        {"{\"refund_id\":\"" RID "\",\"status\":1}", "status"},
        {R(",\"amount\":12.5"), "amount"}, {R(",\"amount\":-1"), "amount"},
        {R(",\"amount\":\"5\""), "amount"}, {R(",\"provider_refund_id\":5"), "provider_refund_id"},
        {R(",\"provider_refund_id\":\"\""), "provider_refund_id"},
        {R(",\"provider_refund_id\":\"a b\""), "provider_refund_id"}, {R(",\"reason\":5"), "reason"}};
#undef R
    expect_invalid(tz_generic_parse_refund, bad, LEN(bad));
    expect_malformed(tz_generic_parse_refund);
}
END_TEST

START_TEST(generic_status_answer)
{
    ck_assert_int_eq(run(tz_generic_parse_status, "{\"payment_id\":\"" PID_UPPER "\",\"status\":"
                         "\"success\",\"provider_transaction_id\":\"mm-9\",\"amount\":2500,"
                         "\"currency\":\"ZMW\"}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.provider_tx_id, "mm-9");
    ck_assert(ev.has_amount && ev.amount == 2500);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_ptr_null(ev.event_id); /* the caller names the fact */
    ck_assert_int_eq(run(tz_generic_parse_status, "{\"payment_id\":\"" PID "\",\"status\":\"failed\"}"),
                     TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_FAILED && !ev.has_amount && !ev.currency && !ev.provider_tx_id);
    ck_assert_int_eq(run(tz_generic_parse_status, "{\"payment_id\":\"" PID "\",\"status\":\"pending\","
                         "\"amount\":null}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_PENDING);
#define S(rest) "{\"payment_id\":\"" PID "\",\"status\":\"success\"" rest "}"
    static const bad_t bad[] = {
        {"{\"status\":\"success\"}", "payment_id"}, {"{\"payment_id\":\"x\",\"status\":\"success\"}", "payment_id"},
        {"{\"payment_id\":\"" PID "\"}", "status"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"refunded\"}", "status"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"unknown\"}", "status"},
        {S(",\"amount\":1.5"), "amount"}, {S(",\"amount\":-3"), "amount"},
        {S(",\"currency\":\"zmw\""), "currency"}, {S(",\"provider_transaction_id\":\"a b\""),
                                                    "provider_transaction_id"}};
#undef S
    expect_invalid(tz_generic_parse_status, bad, LEN(bad));
    expect_malformed(tz_generic_parse_status);
}
END_TEST

START_TEST(generic_refund_events)
{
#define E(status, rest) "{\"payment_id\":\"" PID_UPPER "\",\"status\":\"" status "\"," \
                        "\"timestamp\":1700000000" rest "}"
    ck_assert_int_eq(run(tz_generic_parse_event, E("refunded", ",\"refund_id\":\"" RID_UPPER "\","
                         "\"amount\":1250,\"currency\":\"ZMW\",\"provider_transaction_id\":\"mm-1\"")),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_REFUND);
    ck_assert_str_eq(ev.refund_status, "succeeded");
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.refund_id, RID);
    ck_assert(ev.has_amount && ev.amount == 1250);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_str_eq(ev.provider_tx_id, "mm-1");
    ck_assert_str_eq(ev.event_id, PID ":" RID ":refunded");
    ck_assert_int_eq(ev.timestamp, 1700000000);
    ck_assert_int_eq(run(tz_generic_parse_event, E("refund_failed", ",\"refund_id\":\"" RID "\","
                         "\"amount\":0,\"reason\":\"wallet closed\"")), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_REFUND && ev.amount == 0 && ev.has_amount);
    ck_assert_str_eq(ev.refund_status, "failed");
    ck_assert_str_eq(ev.reason, "wallet closed");
    ck_assert_str_eq(ev.event_id, PID ":" RID ":refund_failed");
    static const bad_t bad[] = {
        {E("refunded", ",\"amount\":100"), "refund_id"},
        {E("refunded", ",\"refund_id\":\"r-1\",\"amount\":100"), "refund_id"},
        {E("refunded", ",\"refund_id\":null,\"amount\":100"), "refund_id"},
        {E("refunded", ",\"refund_id\":\"" RID "\""), "amount"},
        {E("refunded", ",\"refund_id\":\"" RID "\",\"amount\":null"), "amount"},
        {E("refund_failed", ",\"refund_id\":\"" RID "\",\"amount\":1.5"), "amount"},
        {E("refunded", ",\"refund_id\":\"" RID "\",\"amount\":5,\"reason\":[]"), "reason"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"refunded\",\"refund_id\":\"" RID "\","
         "\"amount\":5}", "timestamp"},
        {E("refund_pending", ",\"refund_id\":\"" RID "\",\"amount\":5"), "status"}};
    expect_invalid(tz_generic_parse_event, bad, LEN(bad));
    /* success and failure read as before: a stray reason or refund id changes nothing */
    ck_assert_int_eq(run(tz_generic_parse_event, E("success", ",\"reason\":5,\"refund_id\":1")),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_str_eq(ev.event_id, PID "::success");
    ck_assert_ptr_null(ev.refund_status);
}
END_TEST

START_TEST(generic_dispute_events)
{
    static const struct { const char *status, *word; } t[] = {
        {"dispute_opened", "open"}, {"dispute_won", "won"}, {"dispute_lost", "lost"}};
    char id100[101];
    memset(id100, 'd', 100);
    id100[100] = '\0';
    for (size_t i = 0; i < LEN(t); i++) {
        char *b = apr_psprintf(tz_tp, "{\"payment_id\":\"" PID "\",\"status\":\"%s\",\"timestamp\":1,"
                               "\"dispute_id\":\"DSP 42\",\"amount\":2500,\"currency\":\"ZMW\"}",
                               t[i].status);
        ck_assert_int_eq(run(tz_generic_parse_event, b), TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, TZ_EV_DISPUTE);
        ck_assert_str_eq(ev.dispute_status, t[i].word);
        ck_assert_str_eq(ev.dispute_id, "DSP 42");
        ck_assert(ev.has_amount && ev.amount == 2500);
        ck_assert_str_eq(ev.event_id, apr_pstrcat(tz_tp, PID ":DSP 42:", t[i].status, NULL));
    }
    ck_assert_int_eq(run(tz_generic_parse_event, apr_pstrcat(tz_tp, "{\"payment_id\":\"" PID "\","
                         "\"status\":\"dispute_lost\",\"timestamp\":1,\"amount\":5,\"dispute_id\":\"",
                         id100, "\",\"reason\":\"fraudulent\"}", NULL)), TZ_PARSE_OK);
    ck_assert_str_eq(ev.dispute_id, id100);
    ck_assert_str_eq(ev.reason, "fraudulent");
    /* 100 characters, not bytes */
    ck_assert_int_eq(run(tz_generic_parse_event, E("dispute_opened", ",\"amount\":5,\"dispute_id\":"
                         "\"\xc3\xa9\xc3\xa9\"")), TZ_PARSE_OK);
    static const bad_t bad[] = {
        {E("dispute_opened", ",\"amount\":5"), "dispute_id"},
        {E("dispute_opened", ",\"amount\":5,\"dispute_id\":\"\""), "dispute_id"},
        {E("dispute_opened", ",\"amount\":5,\"dispute_id\":42"), "dispute_id"},
        {E("dispute_opened", ",\"amount\":5,\"dispute_id\":\"a\\nb\""), "dispute_id"},
        {E("dispute_won", ",\"dispute_id\":\"d1\""), "amount"},
        {E("dispute_won", ",\"dispute_id\":\"d1\",\"amount\":\"5\""), "amount"},
        {E("dispute_lost", ",\"dispute_id\":\"d1\",\"amount\":5,\"currency\":\"usd\""), "currency"},
        {E("dispute_closed", ",\"dispute_id\":\"d1\",\"amount\":5"), "status"}};
    expect_invalid(tz_generic_parse_event, bad, LEN(bad));
    char *long_id = apr_pstrcat(tz_tp, id100, "d", NULL);
    ck_assert_int_eq(run(tz_generic_parse_event, apr_pstrcat(tz_tp, "{\"payment_id\":\"" PID "\","
                         "\"status\":\"dispute_lost\",\"timestamp\":1,\"amount\":5,\"dispute_id\":\"",
                         long_id, "\"}", NULL)), TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "dispute_id");
#undef E
}
END_TEST

/* The rows: who refunds how. */
START_TEST(refund_rows)
{
    ck_assert(tz_provider_sandbox.refund_local && !tz_provider_sandbox.refund &&
              !tz_provider_sandbox.status);
    ck_assert(tz_provider_generic.refund == tz_generic_refund_request &&
              tz_provider_generic.refund_answer == tz_generic_parse_refund &&
              tz_provider_generic.status == tz_generic_status_request &&
              tz_provider_generic.status_answer == tz_generic_parse_status);
    ck_assert(tz_provider_generic.refund_retry_safe && !tz_provider_generic.refund_local);
    ck_assert(tz_provider_flutterwave.refund == tz_flw_refund_request &&
              tz_provider_flutterwave.refund_answer == tz_flw_parse_refund &&
              tz_provider_flutterwave.status == tz_flw_status_request &&
              tz_provider_flutterwave.status_answer == tz_flw_parse_status);
    ck_assert(!tz_provider_flutterwave.refund_retry_safe); /* no idempotency key */
    ck_assert(tz_provider_stripe.refund == tz_stripe_refund_request &&
              tz_provider_stripe.refund_answer == tz_stripe_parse_refund &&
              tz_provider_stripe.status == tz_stripe_status_request &&
              tz_provider_stripe.status_answer == tz_stripe_parse_status);
    ck_assert(tz_provider_stripe.refund_retry_safe);
}
END_TEST

/* ------------------------------------------------------------ Flutterwave */

static const tz_prov_cfg_t flw_cfg = {.enabled = 1, .base_url = "https://api.flw.example/",
                                      .api_secret = "FLWSECK_TEST-x", .webhook_secret = "hash-123",
                                      .webhook_secret_len = 8, .tolerance = 300};

START_TEST(flw_refund_request)
{
    tz_refund_req_t req = {RID, PID, "285959875", 2550, "NGN", "Refund: \"dup\"", 1700000000};
    tz_out_req_t out;
    tz_flw_refund_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://api.flw.example/v3/transactions/285959875/refund");
    ck_assert_str_eq(out.body, "{\"amount\":25.50,\"comments\":\"Refund: \\\"dup\\\"\"}");
    ck_assert_uint_eq(out.bodylen, strlen(out.body));
    ck_assert_int_eq(out.headers->nelts, 3);
    ck_assert_str_eq(HDR(out, 0), "Authorization: Bearer FLWSECK_TEST-x");
    ck_assert_str_eq(HDR(out, 1), "Accept: application/json");
    ck_assert_str_eq(HDR(out, 2), "Content-Type: application/json");
    req.amount = 1, req.reason = NULL, req.provider_tx_id = "1/../x";
    tz_flw_refund_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_str_eq(out.body, "{\"amount\":0.01}");
    ck_assert_str_eq(out.url, "https://api.flw.example/v3/transactions/1%2F..%2Fx/refund");
    req.amount = 123456789012345;
    tz_flw_refund_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_str_eq(out.body, "{\"amount\":1234567890123.45}");
    req.provider_tx_id = NULL; /* no transaction to refund */
    tz_flw_refund_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_ptr_null(out.url);
    req.provider_tx_id = "42", req.reason = "\xff";
    tz_flw_refund_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

static char *flw_refund_body(const char *top, const char *data)
{
    return apr_psprintf(tz_tp, "{\"status\":\"%s\",\"message\":\"Transaction refund initiated\","
                        "\"data\":%s}", top, data);
}

static const char *flw_refund_data(const char *amount, const char *status)
{
    return apr_psprintf(tz_tp, "{\"id\":75923,\"account_id\":73362,\"tx_id\":908790,"
                        "\"flw_ref\":\"URF_1\",\"amount_refunded\":%s,\"status\":\"%s\","
                        "\"destination\":\"payment_source\"}", amount, status);
}

START_TEST(flw_refund_answer)
{
    static const struct { const char *status, *word; } t[] = {
        {"completed", "succeeded"}, {"failed", "failed"}, {"pending", "pending"},
        {"processing", "pending"}, {"COMPLETED", "pending"}};
    for (size_t i = 0; i < LEN(t); i++) {
        ck_assert_int_eq(run(tz_flw_parse_refund, flw_refund_body("success",
                             flw_refund_data("25.5", t[i].status))), TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, TZ_EV_REFUND);
        ck_assert_str_eq(ev.refund_status, t[i].word);
        ck_assert_str_eq(ev.provider_refund_id, "75923");
        ck_assert_str_eq(ev.provider_tx_id, "908790");
        ck_assert(ev.has_amount && ev.amount == 2550);
        ck_assert_ptr_null(ev.payment_id);
        ck_assert_ptr_null(ev.refund_id);
        ck_assert_str_eq(ev.event_id, apr_pstrcat(tz_tp, "flw:refund:75923:", t[i].status, NULL));
    }
    ck_assert_int_eq(run(tz_flw_parse_refund, flw_refund_body("success", flw_refund_data("6500",
                         "completed"))), TZ_PARSE_OK);
    ck_assert_int_eq(ev.amount, 650000);
    ck_assert_int_eq(run(tz_flw_parse_refund, flw_refund_body("success", flw_refund_data(
                         "9999999999999.99", "completed"))), TZ_PARSE_OK);
    ck_assert_int_eq(ev.amount, 999999999999999);
    static const bad_t bad[] = {
        {"{\"status\":\"error\",\"message\":\"Insufficient balance\",\"data\":null}", "status"},
        {"{\"message\":\"x\"}", "status"},
        {"{\"status\":\"success\",\"data\":null}", "data"},
        {"{\"status\":\"success\"}", "data"},
        {"{\"status\":\"success\",\"data\":{\"id\":\"1\",\"tx_id\":2,\"amount_refunded\":1,"
         "\"status\":\"completed\"}}", "data.id"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"amount_refunded\":1,\"status\":\"completed\"}}",
         "data.tx_id"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"tx_id\":0,\"amount_refunded\":1,"
         "\"status\":\"completed\"}}", "data.tx_id"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"tx_id\":2,\"status\":\"completed\"}}",
         "data.amount_refunded"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"tx_id\":2,\"amount_refunded\":1.555,"
         "\"status\":\"completed\"}}", "data.amount_refunded"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"tx_id\":2,\"amount_refunded\":-1,"
         "\"status\":\"completed\"}}", "data.amount_refunded"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"tx_id\":2,\"amount_refunded\":\"1\","
         "\"status\":\"completed\"}}", "data.amount_refunded"},
        {"{\"status\":\"success\",\"data\":{\"id\":1,\"tx_id\":2,\"amount_refunded\":1}}", "data.status"}};
    expect_invalid(tz_flw_parse_refund, bad, LEN(bad));
    expect_malformed(tz_flw_parse_refund);
}
END_TEST

static char *flw_status_body(const char *top, const char *dstatus)
{
    return apr_psprintf(tz_tp, "{\"status\":\"%s\",\"message\":\"Transaction fetched successfully\","
                        "\"data\":{\"id\":42,\"tx_ref\":\"" PID_UPPER "\",\"amount\":25.5,"
                        "\"currency\":\"NGN\",\"status\":\"%s\"}}", top, dstatus);
}

START_TEST(flw_status_request_and_answer)
{
    tz_status_req_t req = {PID, NULL, NULL, 1700000000};
    tz_out_req_t out;
    tz_flw_status_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_str_eq(out.method, "GET");
    ck_assert_str_eq(out.url,
                     "https://api.flw.example/v3/transactions/verify_by_reference?tx_ref=" PID);
    ck_assert_ptr_null(out.body);
    ck_assert_int_eq(out.headers->nelts, 2);
    ck_assert_str_eq(HDR(out, 0), "Authorization: Bearer FLWSECK_TEST-x");
    req.payment_id = "a&b=c";
    tz_flw_status_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_str_eq(out.url,
                     "https://api.flw.example/v3/transactions/verify_by_reference?tx_ref=a%26b%3Dc");
    ck_assert_int_eq(run(tz_flw_parse_status, flw_status_body("success", "successful")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.provider_tx_id, "42");
    ck_assert(ev.has_amount && ev.amount == 2550);
    ck_assert_str_eq(ev.currency, "NGN");
    ck_assert_ptr_null(ev.event_id);
    ck_assert_int_eq(run(tz_flw_parse_status, flw_status_body("success", "failed")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_FAILED);
    ck_assert_int_eq(run(tz_flw_parse_status, flw_status_body("success", "pending")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_PENDING);
    ck_assert_int_eq(run(tz_flw_parse_status, flw_status_body("error", "successful")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_PENDING);
    static const bad_t bad[] = {
        {"{\"status\":\"error\",\"message\":\"No transaction was found\",\"data\":null}", "data"},
        {"{\"data\":{}}", "status"},
        {"{\"status\":\"success\",\"data\":{\"id\":42,\"tx_ref\":\"x\",\"amount\":1,"
         "\"currency\":\"NGN\",\"status\":\"successful\"}}", "data.tx_ref"},
        {"{\"status\":\"success\",\"data\":{\"id\":42,\"tx_ref\":\"" PID "\",\"amount\":1.234,"
         "\"currency\":\"NGN\",\"status\":\"successful\"}}", "data.amount"},
        {"{\"status\":\"success\",\"data\":{\"id\":42,\"tx_ref\":\"" PID "\",\"amount\":1,"
         "\"currency\":\"NGN\"}}", "data.status"}};
    expect_invalid(tz_flw_parse_status, bad, LEN(bad));
    expect_malformed(tz_flw_parse_status);
}
END_TEST

START_TEST(flw_refund_webhook)
{
    ck_assert_int_eq(run(tz_flw_parse_event, apr_pstrcat(tz_tp, "{\"event\":\"refund.completed\","
                         "\"data\":", flw_refund_data("10.05", "completed"), "}", NULL)), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_REFUND);
    ck_assert_str_eq(ev.refund_status, "succeeded");
    ck_assert_ptr_null(ev.payment_id);
    ck_assert_str_eq(ev.provider_tx_id, "908790");
    ck_assert_str_eq(ev.provider_refund_id, "75923");
    ck_assert(ev.has_amount && ev.amount == 1005);
    ck_assert_str_eq(ev.event_id, "flw:refund:75923:completed");
    ck_assert_int_eq(run(tz_flw_parse_event, apr_pstrcat(tz_tp, "{\"event\":\"refund.completed\","
                         "\"data\":", flw_refund_data("10", "failed"), "}", NULL)), TZ_PARSE_OK);
    ck_assert_str_eq(ev.refund_status, "failed");
    ck_assert_str_eq(ev.event_id, "flw:refund:75923:failed");
    static const bad_t bad[] = {
        {"{\"event\":\"refund.completed\"}", "data"},
        {"{\"event\":\"refund.completed\",\"data\":{\"id\":1,\"tx_id\":\"2\",\"amount_refunded\":1,"
         "\"status\":\"completed\"}}", "data.tx_id"},
        {"{\"event\":\"refund.completed\",\"data\":{\"id\":1,\"tx_id\":2,\"amount_refunded\":1e20,"
         "\"status\":\"completed\"}}", "data.amount_refunded"}};
    expect_invalid(tz_flw_parse_event, bad, LEN(bad));
}
END_TEST

static tz_parse_status_e flw_chargeback(const char *event, const char *rest)
{
    return run(tz_flw_parse_event, apr_psprintf(tz_tp, "{\"event\":\"%s\",\"data\":{\"id\":1273,"
                                                "\"account_id\":3,\"flw_ref\":\"FLW-1\",\"stage\":"
                                                "\"new\",\"transaction_id\":285959875%s}}", event,
                                                rest));
}

START_TEST(flw_chargeback_webhook)
{
    static const struct { const char *status, *word; } t[] = {
        {"initiated", "open"}, {"pending", "open"}, {"lost", "lost"}, {"accepted", "lost"},
        {"won", "won"}, {"reversed", "won"}, {"declined", "open"}};
    for (size_t i = 0; i < LEN(t); i++) {
        ck_assert_int_eq(flw_chargeback("chargeback.updated", apr_psprintf(tz_tp,
                         ",\"amount\":25.5,\"currency\":\"NGN\",\"status\":\"%s\","
                         "\"tx_ref\":\"" PID_UPPER "\"", t[i].status)), TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, TZ_EV_DISPUTE);
        ck_assert_str_eq(ev.dispute_status, t[i].word);
        ck_assert_str_eq(ev.dispute_id, "1273");
        ck_assert_str_eq(ev.provider_tx_id, "285959875");
        ck_assert_str_eq(ev.payment_id, PID);
        ck_assert(ev.has_amount && ev.amount == 2550);
        ck_assert_str_eq(ev.currency, "NGN");
        ck_assert_str_eq(ev.event_id, apr_pstrcat(tz_tp, "flw:chargeback:1273:", t[i].status, NULL));
    }
    /* no currency, a tx_ref that is not ours: matched by the transaction */
    ck_assert_int_eq(flw_chargeback("chargeback.created", ",\"amount\":100,\"status\":\"initiated\","
                                    "\"tx_ref\":\"VISIBUY_1\""), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_DISPUTE && ev.amount == 10000);
    ck_assert_ptr_null(ev.currency);
    ck_assert_ptr_null(ev.payment_id);
    ck_assert_int_eq(flw_chargeback("chargeback.created", ",\"amount\":1,\"status\":\"x\","
                                    "\"currency\":null"), TZ_PARSE_OK);
    ck_assert_ptr_null(ev.currency);
    static const struct { const char *rest, *field; } bad[] = {
        {",\"status\":\"lost\"", "data.amount"}, {",\"amount\":1.001,\"status\":\"lost\"", "data.amount"},
        {",\"amount\":\"1\",\"status\":\"lost\"", "data.amount"},
        {",\"amount\":1,\"status\":\"lost\",\"currency\":\"ngn\"", "data.currency"},
        {",\"amount\":1,\"status\":\"lost\",\"currency\":5", "data.currency"},
        {",\"amount\":1", "data.status"}, {",\"amount\":1,\"status\":7", "data.status"}};
    for (size_t i = 0; i < LEN(bad); i++) {
        ck_assert_msg(flw_chargeback("chargeback.created", bad[i].rest) == TZ_PARSE_INVALID,
                      "accepted %s", bad[i].rest);
        ck_assert_str_eq(ev.bad_field, bad[i].field);
    }
    const char *no_tx = "{\"event\":\"chargeback.created\",\"data\":{\"id\":1,\"amount\":1,"
                        "\"status\":\"lost\"}}";
    ck_assert_int_eq(run(tz_flw_parse_event, no_tx), TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "data.transaction_id");
    const char *no_id = "{\"event\":\"chargeback.created\",\"data\":{\"id\":\"c1\",\"amount\":1,"
                        "\"status\":\"lost\",\"transaction_id\":5}}";
    ck_assert_int_eq(run(tz_flw_parse_event, no_id), TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "data.id");
}
END_TEST

/* ------------------------------------------------------------ Stripe */

static const tz_prov_cfg_t st_cfg = {.enabled = 1, .base_url = "https://api.stripe.example",
                                     .api_secret = "sk_test_1",
                                     .webhook_secret = "whsec_1234567890abcdef",
                                     .webhook_secret_len = 22, .tolerance = 300};

START_TEST(stripe_refund_request)
{
    tz_refund_req_t req = {RID, PID, "pi_3Mt", 1250, "USD", "Fan asked & agreed", 1700000000};
    tz_out_req_t out;
    tz_stripe_refund_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://api.stripe.example/v1/refunds");
    ck_assert_str_eq(out.body, "payment_intent=pi_3Mt&amount=1250"
                     "&metadata%5Brefund_id%5D=" RID "&metadata%5Bpayment_id%5D=" PID
                     "&metadata%5Breason%5D=Fan%20asked%20%26%20agreed");
    ck_assert_uint_eq(out.bodylen, strlen(out.body));
    ck_assert_int_eq(out.headers->nelts, 4);
    ck_assert_str_eq(HDR(out, 0), "Authorization: Bearer sk_test_1");
    ck_assert_str_eq(HDR(out, 2), "Content-Type: application/x-www-form-urlencoded");
    ck_assert_str_eq(HDR(out, 3), "Idempotency-Key: tipzed-refund-" RID);
    req.reason = NULL;
    tz_stripe_refund_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_ptr_null(strstr(out.body, "reason"));
    /* a reason longer than Stripe's metadata keeps its first 500 characters */
    char *lng = apr_palloc(tz_tp, 600 * 2 + 1);
    for (int i = 0; i < 600; i++)
        memcpy(lng + 2 * i, "\xc3\xa9", 2);
    lng[1200] = '\0';
    req.reason = lng;
    tz_stripe_refund_request(tz_tp, &st_cfg, &req, &out);
    const char *r = strstr(out.body, "metadata%5Breason%5D=");
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(strlen(r + 21), 500 * 6); /* each "%C3%A9" */
    req.provider_tx_id = NULL;
    tz_stripe_refund_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

static char *st_refund(const char *status, const char *rest)
{
    return apr_psprintf(tz_tp, "{\"id\":\"re_1\",\"object\":\"refund\",\"amount\":1250,"
                        "\"currency\":\"usd\",\"payment_intent\":\"pi_3Mt\",\"status\":\"%s\","
                        "\"metadata\":{\"refund_id\":\"" RID_UPPER "\",\"payment_id\":\"" PID "\"}%s}",
                        status, rest);
}

START_TEST(stripe_refund_answer)
{
    static const struct { const char *status, *word; } t[] = {
        {"succeeded", "succeeded"}, {"pending", "pending"}, {"requires_action", "pending"},
        {"failed", "failed"}, {"canceled", "failed"}, {"something_new", "pending"}};
    for (size_t i = 0; i < LEN(t); i++) {
        ck_assert_int_eq(run(tz_stripe_parse_refund, st_refund(t[i].status, "")), TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, TZ_EV_REFUND);
        ck_assert_str_eq(ev.refund_status, t[i].word);
        ck_assert_str_eq(ev.provider_refund_id, "re_1");
        ck_assert_str_eq(ev.refund_id, RID);
        ck_assert_str_eq(ev.provider_tx_id, "pi_3Mt");
        ck_assert(ev.has_amount && ev.amount == 1250);
        ck_assert_str_eq(ev.currency, "USD");
        ck_assert_ptr_null(ev.payment_id);
        ck_assert_ptr_null(ev.reason);
        ck_assert_str_eq(ev.event_id, apr_pstrcat(tz_tp, "re_1:", t[i].status, NULL));
    }
    ck_assert_int_eq(run(tz_stripe_parse_refund, st_refund("failed",
                         ",\"failure_reason\":\"expired_or_canceled_card\"")), TZ_PARSE_OK);
    ck_assert_str_eq(ev.reason, "expired_or_canceled_card");
    ck_assert_int_eq(run(tz_stripe_parse_refund, "{\"id\":\"re_2\",\"amount\":5,\"status\":"
                         "\"succeeded\",\"metadata\":{\"refund_id\":\"nope\"},\"failure_reason\":null}"),
                     TZ_PARSE_OK);
    ck_assert(!ev.refund_id && !ev.provider_tx_id && !ev.currency && !ev.reason);
    static const bad_t bad[] = {
        {"{\"amount\":5,\"status\":\"succeeded\"}", "id"},
        {"{\"id\":\"\",\"amount\":5,\"status\":\"succeeded\"}", "id"},
        {"{\"id\":\"re_1\",\"status\":\"succeeded\"}", "amount"},
        {"{\"id\":\"re_1\",\"amount\":5.5,\"status\":\"succeeded\"}", "amount"},
        {"{\"id\":\"re_1\",\"amount\":-5,\"status\":\"succeeded\"}", "amount"},
        {"{\"id\":\"re_1\",\"amount\":5,\"currency\":\"us\",\"status\":\"succeeded\"}", "currency"},
        {"{\"id\":\"re_1\",\"amount\":5}", "status"},
        {"{\"id\":\"re_1\",\"amount\":5,\"status\":null}", "status"},
        {"{\"id\":\"re_1\",\"amount\":5,\"status\":\"failed\",\"failure_reason\":3}", "failure_reason"},
        {"{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"No such payment_intent\"}}", "id"}};
    expect_invalid(tz_stripe_parse_refund, bad, LEN(bad));
    expect_malformed(tz_stripe_parse_refund);
}
END_TEST

static char *st_session(const char *status, const char *paid, const char *pi)
{
    return apr_psprintf(tz_tp, "{\"id\":\"cs_1\",\"object\":\"checkout.session\",\"status\":\"%s\","
                        "\"payment_status\":\"%s\",\"amount_total\":2500,\"currency\":\"zmw\","
                        "\"payment_intent\":%s,\"client_reference_id\":\"" PID_UPPER "\","
                        "\"metadata\":{}}", status, paid, pi);
}

START_TEST(stripe_status_request_and_answer)
{
    tz_status_req_t req = {PID, "cs_test_a1", NULL, 1700000000};
    tz_out_req_t out;
    tz_stripe_status_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_str_eq(out.method, "GET");
    ck_assert_str_eq(out.url, "https://api.stripe.example/v1/checkout/sessions/cs_test_a1");
    ck_assert_ptr_null(out.body);
    ck_assert_str_eq(HDR(out, 0), "Authorization: Bearer sk_test_1");
    req.provider_ref = "cs/../x?y";
    tz_stripe_status_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_str_eq(out.url, "https://api.stripe.example/v1/checkout/sessions/cs%2F..%2Fx%3Fy");
    req.provider_ref = NULL;
    tz_stripe_status_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_ptr_null(out.url);
    ck_assert_int_eq(run(tz_stripe_parse_status, st_session("complete", "paid", "\"pi_9\"")),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert(ev.has_amount && ev.amount == 2500);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_str_eq(ev.provider_tx_id, "pi_9");
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_ptr_null(ev.event_id);
    ck_assert_int_eq(run(tz_stripe_parse_status, st_session("complete", "unpaid", "\"pi_9\"")),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_PENDING); /* a delayed method: not yet */
    ck_assert_int_eq(run(tz_stripe_parse_status, st_session("open", "unpaid", "null")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_PENDING);
    ck_assert_int_eq(run(tz_stripe_parse_status, st_session("expired", "unpaid", "null")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_FAILED);
    ck_assert_ptr_null(ev.provider_tx_id); /* never the session id in its place */
    ck_assert_str_eq(ev.payment_id, PID);
    static const bad_t bad[] = {
        {"{\"id\":\"cs_1\",\"payment_status\":\"paid\"}", "status"},
        {"{\"status\":5}", "status"},
        {"{\"status\":\"complete\",\"payment_status\":\"paid\",\"amount_total\":\"25\"}", "amount_total"},
        {"{\"status\":\"expired\",\"amount_total\":-1}", "amount_total"},
        {"{\"status\":\"complete\",\"payment_status\":\"paid\",\"amount_total\":1,\"currency\":\"x\"}",
         "currency"}};
    expect_invalid(tz_stripe_parse_status, bad, LEN(bad));
    expect_malformed(tz_stripe_parse_status);
}
END_TEST

static tz_parse_status_e stripe_ev(const char *type, const char *obj)
{
    return run(tz_stripe_parse_event, apr_psprintf(tz_tp, "{\"id\":\"evt_7\",\"object\":\"event\","
                                                   "\"type\":\"%s\",\"data\":{\"object\":%s}}",
                                                   type, obj));
}

START_TEST(stripe_refund_events)
{
    static const char *types[] = {"charge.refund.updated", "refund.updated", "refund.failed"};
    ck_assert_int_eq(stripe_ev("charge.refunded", "{\"id\":\"ch_1\",\"object\":\"charge\","
                               "\"payment_intent\":\"pi_3Mt\",\"amount\":2500,\"amount_refunded\":700,"
                               "\"refunded\":false,\"currency\":\"usd\",\"metadata\":{\"payment_id\":\""
                               PID "\"}}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_REFUND); /* a partial refund is news too */
    ck_assert_str_eq(ev.refund_status, "succeeded");
    ck_assert(ev.has_refunded_total && ev.refunded_total == 700 && !ev.has_amount);
    ck_assert_str_eq(ev.provider_tx_id, "pi_3Mt");
    ck_assert_ptr_null(ev.payment_id);
    ck_assert_str_eq(ev.currency, "USD");
    ck_assert_str_eq(ev.event_id, "evt_7");
    ck_assert_int_eq(stripe_ev("charge.refunded", "{\"id\":\"ch_1\",\"payment_intent\":\"pi_1\"}"),
                     TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "data.object.amount_refunded");
    ck_assert_int_eq(stripe_ev("charge.refunded", "{\"id\":\"ch_1\",\"payment_intent\":\"pi_1\","
                               "\"amount_refunded\":1.5}"), TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "data.object.amount_refunded");
    for (size_t i = 0; i < LEN(types); i++) {
        ck_assert_int_eq(stripe_ev(types[i], st_refund("failed", ",\"failure_reason\":\"lost_or_stolen_card\"")),
                         TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, TZ_EV_REFUND);
        ck_assert_str_eq(ev.refund_status, "failed");
        ck_assert_str_eq(ev.refund_id, RID);
        ck_assert_str_eq(ev.provider_refund_id, "re_1");
        ck_assert_str_eq(ev.provider_tx_id, "pi_3Mt");
        ck_assert_ptr_null(ev.payment_id); /* by the PaymentIntent, never by metadata */
        ck_assert_str_eq(ev.reason, "lost_or_stolen_card");
        ck_assert_int_eq(ev.amount, 1250);
        ck_assert_str_eq(ev.event_id, "evt_7");
    }
    /* another integration's refund or charge (no PaymentIntent): ignored */
    ck_assert_int_eq(stripe_ev("refund.updated", "{\"id\":\"re_5\",\"amount\":1,\"status\":\"succeeded\","
                               "\"payment_intent\":null}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
    ck_assert_int_eq(stripe_ev("charge.refunded", "{\"id\":\"ch_5\",\"amount_refunded\":1}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
    ck_assert_int_eq(stripe_ev("refund.updated", "{\"id\":\"re_5\",\"amount\":1,\"payment_intent\":\"pi_1\"}"),
                     TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "data.object.status");
    ck_assert_int_eq(stripe_ev("refund.failed", "{\"amount\":1,\"status\":\"failed\",\"payment_intent\":\"pi_1\"}"),
                     TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "data.object.id");
    ck_assert_int_ne(ev.kind, TZ_EV_REFUND);
}
END_TEST

static tz_parse_status_e stripe_dispute(const char *type, const char *status, const char *pi)
{
    return stripe_ev(type, apr_psprintf(tz_tp, "{\"id\":\"dp_1\",\"object\":\"dispute\","
                                        "\"amount\":2500,\"currency\":\"usd\",\"charge\":\"ch_1\","
                                        "\"payment_intent\":%s,\"status\":\"%s\",\"reason\":"
                                        "\"fraudulent\"}", pi, status));
}

START_TEST(stripe_dispute_events)
{
    static const struct { const char *type, *status, *word; } t[] = {
        {"charge.dispute.created", "needs_response", "open"},
        {"charge.dispute.created", "warning_needs_response", "open"},
        {"charge.dispute.updated", "under_review", "open"},
        {"charge.dispute.closed", "won", "won"},
        {"charge.dispute.closed", "warning_closed", "won"},
        {"charge.dispute.closed", "lost", "lost"}};
    for (size_t i = 0; i < LEN(t); i++) {
        ck_assert_int_eq(stripe_dispute(t[i].type, t[i].status, "\"pi_3Mt\""), TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, TZ_EV_DISPUTE);
        ck_assert_str_eq(ev.dispute_status, t[i].word);
        ck_assert_str_eq(ev.dispute_id, "dp_1");
        ck_assert(ev.has_amount && ev.amount == 2500);
        ck_assert_str_eq(ev.currency, "USD");
        ck_assert_str_eq(ev.provider_tx_id, "pi_3Mt");
        ck_assert_ptr_null(ev.payment_id);
        ck_assert_str_eq(ev.reason, "fraudulent");
        ck_assert_str_eq(ev.event_id, "evt_7");
    }
    ck_assert_int_eq(stripe_dispute("charge.dispute.created", "needs_response", "null"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
    static const struct { const char *obj, *field; } bad[] = {
        {"{\"payment_intent\":\"pi_1\",\"amount\":1,\"status\":\"lost\"}", "data.object.id"},
        {"{\"id\":\"dp_1\",\"payment_intent\":\"pi_1\",\"status\":\"lost\"}", "data.object.amount"},
        {"{\"id\":\"dp_1\",\"payment_intent\":\"pi_1\",\"amount\":\"1\",\"status\":\"lost\"}",
         "data.object.amount"},
        {"{\"id\":\"dp_1\",\"payment_intent\":\"pi_1\",\"amount\":1}", "data.object.status"},
        {"{\"id\":\"dp_1\",\"payment_intent\":\"pi_1\",\"amount\":1,\"status\":\"lost\","
         "\"currency\":\"dollars\"}", "data.object.currency"},
        {"{\"id\":\"dp_1\",\"payment_intent\":\"pi_1\",\"amount\":1,\"status\":\"lost\",\"reason\":{}}",
         "data.object.reason"}};
    for (size_t i = 0; i < LEN(bad); i++) {
        ck_assert_msg(stripe_ev("charge.dispute.updated", bad[i].obj) == TZ_PARSE_INVALID, "accepted %s",
                      bad[i].obj);
        ck_assert_str_eq(ev.bad_field, bad[i].field);
    }
}
END_TEST

/* One rule for every provider's answer to a refund call: only a parsed 2xx
 * is a verdict, a 4xx (but 408, 409, 425, 429) a refusal, the rest unknown. */
START_TEST(refund_verdict_rule)
{
    tz_event_t v;
    memset(&v, 0, sizeof v);
    v.kind = TZ_EV_REFUND;
    v.refund_status = "succeeded";
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_OK, &v), "succeeded");
    ck_assert_str_eq(tz_refund_verdict(1, 201, TZ_PARSE_OK, &v), "succeeded");
    v.refund_status = "failed";
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_OK, &v), "failed");
    v.refund_status = "pending";
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_OK, &v), "pending");
    /* a 2xx that does not parse, or is not a refund, says nothing */
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_INVALID, &v), "unknown");
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_MALFORMED, &v), "unknown");
    v.kind = TZ_EV_IGNORED;
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_OK, &v), "unknown");
    v.kind = TZ_EV_REFUND;
    v.refund_status = NULL;
    ck_assert_str_eq(tz_refund_verdict(1, 200, TZ_PARSE_OK, &v), "unknown");
    /* refusals */
    for (int st = 400; st <= 499; st++) {
        const char *want = st == 408 || st == 409 || st == 425 || st == 429 ? "unknown" : "failed";
        ck_assert_msg(strcmp(tz_refund_verdict(1, st, TZ_PARSE_MALFORMED, &v), want) == 0, "%d", st);
    }
    /* no answer, redirects and server errors: the refund may have been made */
    ck_assert_str_eq(tz_refund_verdict(0, 0, TZ_PARSE_MALFORMED, &v), "unknown");
    ck_assert_str_eq(tz_refund_verdict(1, 302, TZ_PARSE_MALFORMED, &v), "unknown");
    ck_assert_str_eq(tz_refund_verdict(1, 500, TZ_PARSE_MALFORMED, &v), "unknown");
    ck_assert_str_eq(tz_refund_verdict(1, 503, TZ_PARSE_MALFORMED, &v), "unknown");
}
END_TEST

START_TEST(provider_message_is_short_and_whole)
{
    char big[400];
    const char *long_body, *m;
    m = "{\"message\":\"Transaction already refunded\"}";
    ck_assert_str_eq(tz_provider_message(tz_tp, m, strlen(m)), "Transaction already refunded");
    m = "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Charge ch_1 has been refunded\"}}";
    ck_assert_str_eq(tz_provider_message(tz_tp, m, strlen(m)), "Charge ch_1 has been refunded");
    m = "{\"error\":\"refund_refused\"}";
    ck_assert_str_eq(tz_provider_message(tz_tp, m, strlen(m)), "refund_refused");
    ck_assert_ptr_null(tz_provider_message(tz_tp, "not json", 8));
    m = "{\"message\":\"\"}";
    ck_assert_ptr_null(tz_provider_message(tz_tp, m, strlen(m)));
    m = "{\"message\":\"a\\u0000b\"}";
    ck_assert_ptr_null(tz_provider_message(tz_tp, m, strlen(m)));
    ck_assert_ptr_null(tz_provider_message(tz_tp, NULL, 0));
    /* at most 200 bytes, never half a UTF-8 character ("é" is 2 bytes) */
    strcpy(big, "{\"message\":\"a");
    for (int i = 0; i < 150; i++)
        strcat(big, "\xc3\xa9");
    strcat(big, "\"}");
    long_body = big;
    m = tz_provider_message(tz_tp, long_body, strlen(long_body));
    ck_assert_uint_eq(strlen(m), 199);
    ck_assert_uint_eq((unsigned char)m[198], 0xa9);
}
END_TEST

static Suite *refunds_suite(void)
{
    Suite *s = suite_create("refunds");
    TCase *gen = tz_tcase("generic"), *flw = tz_tcase("flutterwave"), *st = tz_tcase("stripe");
    tcase_add_test(gen, generic_refund_request);
    tcase_add_test(gen, generic_status_request);
    tcase_add_test(gen, generic_refund_answer);
    tcase_add_test(gen, generic_status_answer);
    tcase_add_test(gen, generic_refund_events);
    tcase_add_test(gen, generic_dispute_events);
    tcase_add_test(gen, refund_rows);
    tcase_add_test(gen, refund_verdict_rule);
    tcase_add_test(gen, provider_message_is_short_and_whole);
    tcase_add_test(flw, flw_refund_request);
    tcase_add_test(flw, flw_refund_answer);
    tcase_add_test(flw, flw_status_request_and_answer);
    tcase_add_test(flw, flw_refund_webhook);
    tcase_add_test(flw, flw_chargeback_webhook);
    tcase_add_test(st, stripe_refund_request);
    tcase_add_test(st, stripe_refund_answer);
    tcase_add_test(st, stripe_status_request_and_answer);
    tcase_add_test(st, stripe_refund_events);
    tcase_add_test(st, stripe_dispute_events);
    suite_add_tcase(s, gen);
    suite_add_tcase(s, flw);
    suite_add_tcase(s, st);
    return s;
}

TZ_TEST_MAIN(refunds_suite)
