/* MTN MoMo Collections: the token, requesttopay and status requests as
 * sent, the MSISDN rule, and the token, status and callback bodies read. */
#include "tz_test.h"
#include "tz_provider.h"
#include <string.h>

#define PID "123e4567-e89b-42d3-a456-426614174000"
#define PID_UPPER "123E4567-E89B-42D3-A456-426614174000"
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static tz_event_t ev;
static tz_out_req_t out;

static const tz_prov_cfg_t cfg = {
    .enabled = 1, .base_url = "https://sandbox.momodeveloper.mtn.com/",
    .api_secret = "eyJ0eXAi.token", .api_user = "c72025f5-5cd1-4630-99e4-8ba4722fad56",
    .api_key = "2ab7e0b1c2d34", .subscription_key = "0123456789abcdef",
    .environment = "sandbox"};

/* The value of header name in out (exactly one such header), or NULL. */
static const char *header(const char *name)
{
    const char *found = NULL;
    size_t n = strlen(name);
    for (int i = 0; i < out.headers->nelts; i++) {
        const char *h = APR_ARRAY_IDX(out.headers, i, const char *);
        if (strncmp(h, name, n) == 0 && strncmp(h + n, ": ", 2) == 0) {
            ck_assert_msg(!found, "%s twice", name);
            found = h + n + 2;
        }
    }
    return found;
}

static tz_checkout_req_t checkout_req(void)
{
    tz_checkout_req_t r = {PID, 2550, "ZMW", "Tip for Ana", "fan@example.com", "+260971234567",
                           "https://api.example/api/v1",
                           "https://api.example/api/v1/webhooks/momo", NULL};
    return r;
}

static tz_parse_status_e status_body(const char *body)
{
    return tz_momo_status_answer(tz_tp, body, strlen(body), &ev);
}

/* ------------------------------------------------------------ requests */

START_TEST(momo_basic_auth_value)
{
    /* base64("user:key") as any HTTP client would send it */
    ck_assert_str_eq(tz_momo_basic_auth(tz_tp, "user", "key"), "Basic dXNlcjprZXk=");
    ck_assert_str_eq(tz_momo_basic_auth(tz_tp, cfg.api_user, cfg.api_key),
                     "Basic YzcyMDI1ZjUtNWNkMS00NjMwLTk5ZTQtOGJhNDcyMmZhZDU2OjJhYjdlMGIxYzJkMzQ=");
}
END_TEST

START_TEST(momo_token_request_shape)
{
    tz_momo_token_request(tz_tp, &cfg, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://sandbox.momodeveloper.mtn.com/collection/token/");
    ck_assert_str_eq(header("Authorization"),
                     "Basic YzcyMDI1ZjUtNWNkMS00NjMwLTk5ZTQtOGJhNDcyMmZhZDU2OjJhYjdlMGIxYzJkMzQ=");
    ck_assert_str_eq(header("Ocp-Apim-Subscription-Key"), "0123456789abcdef");
    ck_assert_str_eq(header("Accept"), "application/json");
    ck_assert_ptr_null(header("X-Target-Environment"));
    ck_assert_int_eq(out.headers->nelts, 3);
    ck_assert_str_eq(out.body, "");
    ck_assert_uint_eq(out.bodylen, 0);
    /* missing or unsafe credentials: no request */
    tz_prov_cfg_t c = cfg;
    c.api_key = NULL;
    tz_momo_token_request(tz_tp, &c, &out);
    ck_assert_ptr_null(out.url);
    c = cfg;
    c.subscription_key = "k\r\nX-Evil: 1";
    tz_momo_token_request(tz_tp, &c, &out);
    ck_assert_ptr_null(out.url);
    c = cfg;
    c.api_user = "a:b";
    tz_momo_token_request(tz_tp, &c, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

START_TEST(momo_checkout_request_shape)
{
    tz_checkout_req_t r = checkout_req();
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://sandbox.momodeveloper.mtn.com/collection/v1_0/requesttopay");
    ck_assert_str_eq(header("Authorization"), "Bearer eyJ0eXAi.token");
    ck_assert_str_eq(header("X-Reference-Id"), PID);
    ck_assert_str_eq(header("X-Target-Environment"), "sandbox");
    ck_assert_str_eq(header("X-Callback-Url"), "https://api.example/api/v1/webhooks/momo");
    ck_assert_str_eq(header("Ocp-Apim-Subscription-Key"), "0123456789abcdef");
    ck_assert_str_eq(header("Content-Type"), "application/json");
    ck_assert_str_eq(out.body,
                     "{\"amount\":\"25.50\",\"currency\":\"ZMW\",\"externalId\":\"" PID "\","
                     "\"payer\":{\"partyIdType\":\"MSISDN\",\"partyId\":\"260971234567\"},"
                     "\"payerMessage\":\"Tip for Ana\",\"payeeNote\":\"Tipzed\"}");
    ck_assert_uint_eq(out.bodylen, strlen(out.body));
}
END_TEST

START_TEST(momo_checkout_message_clipped)
{
    tz_checkout_req_t r = checkout_req();
    /* 159 ASCII bytes then "é" (2 bytes): byte 160 would cut it */
    char desc[200];
    memset(desc, 'a', 159);
    strcpy(desc + 159, "\xc3\xa9zz");
    r.description = desc;
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_nonnull(out.url);
    ck_assert_ptr_nonnull(strstr(out.body, "aaaa\",\"payeeNote\""));
    ck_assert_ptr_null(strstr(out.body, "\xc3"));
    desc[158] = '\0'; /* 158 + "é" = 160 bytes: kept whole */
    strcat(desc, "\xc3\xa9zz");
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_nonnull(strstr(out.body, "a\xc3\xa9\",\"payeeNote\""));
    r.description = NULL;
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_nonnull(strstr(out.body, "\"payerMessage\":\"Tip\""));
}
END_TEST

START_TEST(momo_checkout_refusals)
{
    tz_checkout_req_t r = checkout_req();
    r.phone_number = NULL;
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_null(out.url);
    r = checkout_req();
    r.phone_number = "0971234567";
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_null(out.url);
    r = checkout_req();
    r.description = "bad \xff utf-8";
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_null(out.url);
    r = checkout_req();
    r.callback_url = NULL;
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_null(out.url);
    r = checkout_req();
    r.amount = 0;
    tz_momo_checkout_request(tz_tp, &cfg, &r, &out);
    ck_assert_ptr_null(out.url);
    tz_prov_cfg_t c = cfg;
    c.environment = NULL;
    r = checkout_req();
    tz_momo_checkout_request(tz_tp, &c, &r, &out);
    ck_assert_ptr_null(out.url);
    c = cfg;
    c.api_secret = NULL;
    tz_momo_checkout_request(tz_tp, &c, &r, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

START_TEST(momo_checkout_answer_has_no_link)
{
    const char *ref = "x";
    ck_assert_str_eq(tz_momo_checkout_answer(tz_tp, "", 0, &ref), "");
    ck_assert_ptr_null(ref);
    ref = "x";
    ck_assert_str_eq(tz_momo_checkout_answer(tz_tp, "{\"a\":1}", 7, &ref), "");
    ck_assert_ptr_null(ref);
    ck_assert_str_eq(tz_momo_checkout_answer(tz_tp, NULL, 0, &ref), "");
}
END_TEST

START_TEST(momo_status_and_verify_requests)
{
    tz_status_req_t sr = {PID, NULL, NULL, 1700000000};
    tz_event_t e = {.payment_id = PID};
    for (int i = 0; i < 2; i++) {
        if (i == 0)
            tz_momo_status_request(tz_tp, &cfg, &sr, &out);
        else
            tz_momo_verify_request(tz_tp, &cfg, &e, &out);
        ck_assert_str_eq(out.method, "GET");
        ck_assert_str_eq(out.url, "https://sandbox.momodeveloper.mtn.com/collection/v1_0/"
                                  "requesttopay/" PID);
        ck_assert_str_eq(header("Authorization"), "Bearer eyJ0eXAi.token");
        ck_assert_str_eq(header("X-Target-Environment"), "sandbox");
        ck_assert_str_eq(header("Ocp-Apim-Subscription-Key"), "0123456789abcdef");
        ck_assert_ptr_null(header("Content-Type"));
        ck_assert_ptr_null(out.body);
        ck_assert_uint_eq(out.bodylen, 0);
    }
    sr.payment_id = NULL;
    tz_momo_status_request(tz_tp, &cfg, &sr, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

START_TEST(momo_signature_always_ok)
{
    tz_webhook_t in = {NULL, "{}", 2, 0};
    ck_assert_int_eq(tz_momo_verify_signature(&cfg, &in), TZ_SIG_OK);
    ck_assert_int_eq(tz_provider_momo.verify_signature(&cfg, &in), TZ_SIG_OK);
}
END_TEST

START_TEST(momo_row)
{
    const tz_provider_t *pv = tz_providers[TZ_PROV_MOMO];
    ck_assert_str_eq(pv->name, "momo");
    ck_assert_ptr_null(pv->signature_header);
    ck_assert(!pv->needs_api_secret && !pv->refund && !pv->refund_local && !pv->checkout_link);
    ck_assert(pv->token == tz_momo_token_request && pv->token_answer == tz_momo_token_answer);
    ck_assert(pv->checkout == tz_momo_checkout_request);
    ck_assert(pv->status == tz_momo_status_request && pv->verify == tz_momo_verify_request);
    ck_assert(pv->status_answer && pv->verify_answer && pv->parse_event == tz_momo_parse_event);
}
END_TEST

/* ------------------------------------------------------------ MSISDN */

START_TEST(msisdn_table)
{
    static const struct { const char *in, *want; } ok[] = {
        {"260971234567", "260971234567"}, {"+260971234567", "260971234567"},
        {"2609712345", "2609712345"}, {"123456789012345", "123456789012345"}};
    static const char *bad[] = {
        "0971234567", "+0971234567", "260 971 234 567", "260-971234567", "26097123", "260971234",
        "1234567890123456", "++260971234567", "", "+", "26097123456a", "260971234567 ",
        " 260971234567", "+-260971234567", "260971234567\n", "２６０９７１２３４５６７"};
    for (size_t i = 0; i < LEN(ok); i++) {
        const char *got = tz_msisdn_normalize(tz_tp, ok[i].in);
        ck_assert_msg(got && strcmp(got, ok[i].want) == 0, "%s", ok[i].in);
    }
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(!tz_msisdn_normalize(tz_tp, bad[i]), "accepted %s", bad[i]);
    ck_assert_ptr_null(tz_msisdn_normalize(tz_tp, NULL));
}
END_TEST

/* ------------------------------------------------------------ token answer */

START_TEST(momo_token_answers)
{
    static const char *bad[] = {
        "", "[]", "not json", "{\"access_token\":\"\",\"expires_in\":3600}",
        "{\"expires_in\":3600}", "{\"access_token\":5,\"expires_in\":3600}",
        "{\"access_token\":\"t\",\"expires_in\":0}", "{\"access_token\":\"t\",\"expires_in\":-5}",
        "{\"access_token\":\"t\",\"expires_in\":\"3600\"}",
        "{\"access_token\":\"t\",\"expires_in\":3600.5}", "{\"access_token\":\"t\"}",
        "{\"access_token\":\"a\\r\\nX: y\",\"expires_in\":3600}",
        "{\"access_token\":\"a b\",\"expires_in\":3600}"};
    const char *body = "{\"access_token\":\"eyJ0.abc\",\"token_type\":\"access_token\","
                       "\"expires_in\":3600}";
    const char *tok = NULL;
    int64_t exp = 0;
    ck_assert_int_eq(tz_momo_token_answer(tz_tp, body, strlen(body), &tok, &exp), 0);
    ck_assert_str_eq(tok, "eyJ0.abc");
    ck_assert_int_eq(exp, 3600);
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_momo_token_answer(tz_tp, bad[i], strlen(bad[i]), &tok, &exp) == -1,
                      "accepted %s", bad[i]);
    ck_assert_int_eq(tz_momo_token_answer(tz_tp, NULL, 0, &tok, &exp), -1);
}
END_TEST

/* ------------------------------------------------------------ status answers */

static const char *rtp(const char *status, const char *extra)
{
    return apr_psprintf(tz_tp,
        "{\"amount\":\"25\",\"currency\":\"ZMW\",\"financialTransactionId\":\"363440463\","
        "\"externalId\":\"" PID_UPPER "\",\"payer\":{\"partyIdType\":\"MSISDN\","
        "\"partyId\":\"260971234567\"},\"payerMessage\":\"Tip\",\"payeeNote\":\"Tipzed\","
        "\"status\":\"%s\"%s}", status, extra);
}

START_TEST(momo_status_kinds)
{
    static const struct { const char *status; tz_event_kind_e kind; const char *id; } t[] = {
        {"SUCCESSFUL", TZ_EV_SUCCESS, "SUCCESSFUL"}, {"FAILED", TZ_EV_FAILED, "FAILED"},
        {"REJECTED", TZ_EV_FAILED, "REJECTED"}, {"TIMEOUT", TZ_EV_FAILED, "TIMEOUT"},
        {"EXPIRED", TZ_EV_FAILED, "EXPIRED"}, {"PENDING", TZ_EV_PENDING, "PENDING"},
        {"CREATED", TZ_EV_PENDING, "CREATED"}, {"ONGOING", TZ_EV_PENDING, "ONGOING"},
        {"successful", TZ_EV_SUCCESS, "SUCCESSFUL"}};
    for (size_t i = 0; i < LEN(t); i++) {
        ck_assert_int_eq(status_body(rtp(t[i].status, "")), TZ_PARSE_OK);
        ck_assert_msg(ev.kind == t[i].kind, "%s", t[i].status);
        ck_assert_str_eq(ev.event_id, apr_pstrcat(tz_tp, "momo:" PID ":", t[i].id, NULL));
    }
    ck_assert_str_eq(ev.payment_id, PID); /* one spelling of the UUID */
    ck_assert_str_eq(ev.provider_tx_id, "363440463");
    ck_assert(ev.has_amount && ev.amount == 2500);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_ptr_null(ev.reason);
    /* the verify answer is the same reading */
    const char *b = rtp("SUCCESSFUL", "");
    ck_assert_int_eq(tz_provider_momo.verify_answer(tz_tp, b, strlen(b), &ev), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
}
END_TEST

START_TEST(momo_status_reasons)
{
    ck_assert_int_eq(status_body(rtp("FAILED", ",\"reason\":\"APPROVAL_REJECTED\"")), TZ_PARSE_OK);
    ck_assert_str_eq(ev.reason, "APPROVAL_REJECTED");
    ck_assert_int_eq(status_body(rtp("FAILED", ",\"reason\":{\"code\":\"PAYER_NOT_FOUND\","
                                               "\"message\":\"Payer not found\"}")), TZ_PARSE_OK);
    ck_assert_str_eq(ev.reason, "Payer not found");
    ck_assert_int_eq(status_body(rtp("FAILED", ",\"reason\":{\"code\":\"NOT_ENOUGH_FUNDS\"}")),
                     TZ_PARSE_OK);
    ck_assert_str_eq(ev.reason, "NOT_ENOUGH_FUNDS");
    ck_assert_int_eq(status_body(rtp("FAILED", ",\"reason\":null")), TZ_PARSE_OK);
    ck_assert_ptr_null(ev.reason);
    /* no transaction id before the money moved */
    const char *b = "{\"amount\":\"5\",\"currency\":\"ZMW\",\"externalId\":\"" PID "\","
                    "\"financialTransactionId\":\"\",\"status\":\"PENDING\"}";
    ck_assert_int_eq(status_body(b), TZ_PARSE_OK);
    ck_assert_ptr_null(ev.provider_tx_id);
}
END_TEST

static const char *with_amount(const char *amount)
{
    return apr_psprintf(tz_tp, "{\"amount\":%s,\"currency\":\"ZMW\",\"externalId\":\"" PID "\","
                               "\"status\":\"SUCCESSFUL\"}", amount);
}

START_TEST(momo_amounts_exact)
{
    static const struct { const char *json; int64_t minor; } ok[] = {
        {"\"25\"", 2500}, {"\"25.5\"", 2550}, {"\"25.50\"", 2550}, {"25", 2500},
        {"\"0.01\"", 1}, {"0", 0}};
    static const char *bad[] = {"\"25.505\"", "\"-1\"", "\"abc\"", "-1", "25.5", "\"\"",
                                "\"1e2\"", "true", "{}", "92233720368547759"};
    for (size_t i = 0; i < LEN(ok); i++) {
        ck_assert_msg(status_body(with_amount(ok[i].json)) == TZ_PARSE_OK, "%s", ok[i].json);
        ck_assert(ev.has_amount);
        ck_assert_int_eq(ev.amount, ok[i].minor);
    }
    for (size_t i = 0; i < LEN(bad); i++) {
        ck_assert_msg(status_body(with_amount(bad[i])) == TZ_PARSE_INVALID, "%s", bad[i]);
        ck_assert_str_eq(ev.bad_field, "amount");
    }
}
END_TEST

START_TEST(momo_status_invalid_fields)
{
    static const struct { const char *body, *field; } t[] = {
        {"{\"externalId\":\"order-1\",\"status\":\"SUCCESSFUL\"}", "externalId"},
        {"{\"externalId\":5,\"status\":\"SUCCESSFUL\"}", "externalId"},
        {"{\"status\":\"SUCCESSFUL\"}", "externalId"},
        /* a status answer names the payment by externalId only */
        {"{\"referenceId\":\"" PID "\",\"status\":\"SUCCESSFUL\"}", "externalId"},
        {"{\"externalId\":\"" PID "\"}", "status"},
        {"{\"externalId\":\"" PID "\",\"status\":\"\"}", "status"},
        {"{\"externalId\":\"" PID "\",\"status\":7}", "status"},
        {"{\"externalId\":\"" PID "\",\"status\":\"PENDING\",\"currency\":\"ZMW\"}", "amount"},
        {"{\"externalId\":\"" PID "\",\"status\":\"PENDING\",\"amount\":\"5\"}", "currency"},
        {"{\"externalId\":\"" PID "\",\"status\":\"PENDING\",\"amount\":\"5\",\"currency\":\"zmw\"}",
         "currency"},
    };
    for (size_t i = 0; i < LEN(t); i++) {
        ck_assert_msg(status_body(t[i].body) == TZ_PARSE_INVALID, "%s", t[i].body);
        ck_assert_str_eq(ev.bad_field, t[i].field);
    }
    /* neither amount nor currency: no amount */
    ck_assert_int_eq(status_body("{\"externalId\":\"" PID "\",\"status\":\"PENDING\"}"), TZ_PARSE_OK);
    ck_assert(!ev.has_amount && !ev.currency);
    ck_assert_int_eq(status_body("not json"), TZ_PARSE_MALFORMED);
    ck_assert_int_eq(status_body("[1]"), TZ_PARSE_MALFORMED);
    ck_assert_int_eq(status_body(""), TZ_PARSE_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------ callbacks */

static tz_parse_status_e callback(const char *body)
{
    return tz_momo_parse_event(tz_tp, body, strlen(body), &ev);
}

START_TEST(momo_callback_parse)
{
    ck_assert_int_eq(callback(rtp("SUCCESSFUL", ",\"referenceId\":\"" PID "\"")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.event_id, "momo:" PID ":SUCCESSFUL");
    ck_assert_str_eq(ev.provider_tx_id, "363440463");
    ck_assert(ev.has_amount && ev.amount == 2500);
    ck_assert_int_eq(callback(rtp("FAILED", ",\"reason\":\"APPROVAL_REJECTED\"")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_FAILED);
    ck_assert_str_eq(ev.reason, "APPROVAL_REJECTED");
    ck_assert_str_eq(ev.event_id, "momo:" PID ":FAILED");
    ck_assert_int_eq(callback(rtp("PENDING", "")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_PENDING);
    /* without externalId, the referenceId (our X-Reference-Id) */
    ck_assert_int_eq(callback("{\"referenceId\":\"" PID_UPPER "\",\"status\":\"SUCCESSFUL\","
                              "\"amount\":\"10\",\"currency\":\"ZMW\"}"), TZ_PARSE_OK);
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.event_id, "momo:" PID ":SUCCESSFUL");
    ck_assert_int_eq(callback("{\"externalId\":null,\"referenceId\":\"" PID "\",\"status\":\"FAILED\"}"),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_FAILED);
    /* an externalId that is not ours is not replaced by the referenceId */
    ck_assert_int_eq(callback("{\"externalId\":\"x\",\"referenceId\":\"" PID "\",\"status\":\"FAILED\"}"),
                     TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "externalId");
    ck_assert_int_eq(callback("{\"referenceId\":\"nope\",\"status\":\"FAILED\"}"), TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "externalId");
    ck_assert_int_eq(callback("{\"status\":\"SUCCESSFUL\"}"), TZ_PARSE_INVALID);
    ck_assert_str_eq(ev.bad_field, "externalId");
    ck_assert_int_eq(callback("<xml/>"), TZ_PARSE_MALFORMED);
    ck_assert_int_eq(callback("\"SUCCESSFUL\""), TZ_PARSE_MALFORMED);
    ck_assert_int_eq(callback("[]"), TZ_PARSE_MALFORMED);
}
END_TEST

static Suite *momo_suite(void)
{
    Suite *s = suite_create("prov_momo");
    TCase *req = tz_tcase("requests"), *rd = tz_tcase("answers");
    tcase_add_test(req, momo_basic_auth_value);
    tcase_add_test(req, momo_token_request_shape);
    tcase_add_test(req, momo_checkout_request_shape);
    tcase_add_test(req, momo_checkout_message_clipped);
    tcase_add_test(req, momo_checkout_refusals);
    tcase_add_test(req, momo_checkout_answer_has_no_link);
    tcase_add_test(req, momo_status_and_verify_requests);
    tcase_add_test(req, momo_signature_always_ok);
    tcase_add_test(req, momo_row);
    tcase_add_test(req, msisdn_table);
    tcase_add_test(rd, momo_token_answers);
    tcase_add_test(rd, momo_status_kinds);
    tcase_add_test(rd, momo_status_reasons);
    tcase_add_test(rd, momo_amounts_exact);
    tcase_add_test(rd, momo_status_invalid_fields);
    tcase_add_test(rd, momo_callback_parse);
    suite_add_tcase(s, req);
    suite_add_tcase(s, rd);
    return s;
}

TZ_TEST_MAIN(momo_suite)
