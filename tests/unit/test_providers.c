/* Provider adapters: the table, exact decimal conversion, shared encoders,
 * the generic gateway and the sandbox, Flutterwave and Stripe request
 * building, webhook verification and event parsing. */
#include "tz_test.h"
#include "tz_provider.h"
#include "tz_json.h"
#include <string.h>
#include <stdlib.h>

#define PID "123e4567-e89b-42d3-a456-426614174000"
#define PID_UPPER "123E4567-E89B-42D3-A456-426614174000"
#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static tz_event_t ev;

/* ------------------------------------------------------------ decimals */

START_TEST(decimal_to_minor_table)
{
    static const struct { const char *text; int64_t minor; } ok[] = {
        {"25", 2500}, {"25.5", 2550}, {"25.50", 2550}, {"0.01", 1}, {"0.1", 10}, {"0", 0},
        {"0.00", 0}, {"1.0", 100}, {"5000", 500000}, {"92233720368547.74", 9223372036854774}};
    int64_t m;
    for (size_t i = 0; i < LEN(ok); i++) {
        ck_assert_msg(tz_decimal_to_minor(ok[i].text, &m) == 0, "refused %s", ok[i].text);
        ck_assert_int_eq(m, ok[i].minor);
    }
}
END_TEST

START_TEST(decimal_to_minor_refusals)
{
    static const char *bad[] = {
        "25.505", "-1", "+1", "1e2", "2.5E1", "", ".5", "5.", "abc", " 1", "1 ", "1,5", "01",
        "00.5", "0x10", "1..2", "99999999999999999999", "92233720368547758.07",
        "9223372036854775807", "1.000", "inf", "nan"};
    int64_t m = 42;
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_decimal_to_minor(bad[i], &m) == -1, "accepted %s", bad[i]);
    ck_assert_int_eq(tz_decimal_to_minor(NULL, &m), -1);
    ck_assert_int_eq(m, 42); /* untouched on refusal */
}
END_TEST

START_TEST(minor_to_decimal_table)
{
    static const struct { int64_t minor; const char *text; } t[] = {
        {5, "0.05"}, {100, "1.00"}, {2550, "25.50"}, {0, "0.00"}, {1, "0.01"}, {99, "0.99"},
        {-5, "-0.05"}, {-2550, "-25.50"}, {INT64_MAX, "92233720368547758.07"},
        {INT64_MIN, "-92233720368547758.08"}};
    for (size_t i = 0; i < LEN(t); i++)
        ck_assert_str_eq(tz_minor_to_decimal(tz_tp, t[i].minor), t[i].text);
}
END_TEST

/* Every non-negative amount survives minor -> text -> minor. */
START_TEST(decimal_round_trip)
{
    uint64_t x = 88172645463325252ULL;
    int64_t m;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: spread over magnitudes */
        int64_t minor = (int64_t)(x % 1000000000000000ULL) >> (x % 50);
        ck_assert_int_eq(tz_decimal_to_minor(tz_minor_to_decimal(tz_tp, minor), &m), 0);
        ck_assert_int_eq(m, minor);
    }
}
END_TEST

/* ------------------------------------------------------------ shared encoders */

START_TEST(url_escape_and_form)
{
    ck_assert_str_eq(tz_url_escape(tz_tp, "aZ09-._~"), "aZ09-._~");
    ck_assert_str_eq(tz_url_escape(tz_tp, "a b&c=d?e/f+g%"), "a%20b%26c%3Dd%3Fe%2Ff%2Bg%25");
    ck_assert_str_eq(tz_url_escape(tz_tp, "\xc3\xa9\x01"), "%C3%A9%01");
    ck_assert_str_eq(tz_url_escape(tz_tp, NULL), "");
    tz_kv_t kv[] = {{"a[b]", "x y"}, {"skip", NULL}, {"c", "&="}, {"empty", ""}};
    ck_assert_str_eq(tz_form_encode(tz_tp, kv, LEN(kv)), "a%5Bb%5D=x%20y&c=%26%3D&empty=");
    ck_assert_str_eq(tz_form_encode(tz_tp, kv, 0), "");
    ck_assert_str_eq(tz_prov_url(tz_tp, "https://h/", "/v3/x"), "https://h/v3/x");
    ck_assert_str_eq(tz_prov_url(tz_tp, "https://h/base", "v3/x"), "https://h/base/v3/x");
    ck_assert_str_eq(tz_ascii_upper(tz_tp, "zmw"), "ZMW");
    ck_assert_str_eq(tz_ascii_lower(tz_tp, "ZmW\xc3\x89"), "zmw\xc3\x89"); /* bytes >= 0x80 kept */
}
END_TEST

/* ------------------------------------------------------------ generic gateway */

/* The generic gateway's link for a checkout base URL. */
static const char *generic_link(const char *base, const tz_checkout_req_t *req)
{
    tz_prov_cfg_t cfg = {.enabled = 1, .base_url = base, .tolerance = 300};
    return tz_generic_checkout_link(tz_tp, &cfg, req);
}

START_TEST(generic_checkout_url)
{
    tz_checkout_req_t req = {PID, 2500, "ZMW", NULL, NULL, NULL, "http://h/api/v1",
                             "http://h/api/v1/payments/webhook?a=1&b=2", NULL};
    ck_assert_str_eq(generic_link("https://gw.example/pay", &req),
                     "https://gw.example/pay?reference=" PID "&amount=2500&currency=ZMW&callback="
                     "http%3A%2F%2Fh%2Fapi%2Fv1%2Fpayments%2Fwebhook%3Fa%3D1%26b%3D2");
    /* a base with a query of its own keeps it */
    ck_assert_str_eq(generic_link("https://gw/pay?merchant=7", &req),
                     "https://gw/pay?merchant=7&reference=" PID "&amount=2500&currency=ZMW&callback="
                     "http%3A%2F%2Fh%2Fapi%2Fv1%2Fpayments%2Fwebhook%3Fa%3D1%26b%3D2");
    ck_assert_ptr_nonnull(strstr(generic_link("https://gw/pay?", &req), "/pay?reference="));
}
END_TEST

START_TEST(sandbox_checkout_link_and_secret)
{
    tz_checkout_req_t req = {PID, 2500, "ZMW", NULL, NULL, NULL, "http://h:8080/api/v1",
                             "http://h:8080/api/v1/payments/webhook", NULL};
    tz_prov_cfg_t cfg = {.enabled = 1, .tolerance = 300};
    size_t n1, n2, n3;
    ck_assert_str_eq(tz_sandbox_checkout_link(tz_tp, &cfg, &req),
                     "http://h:8080/api/v1/sandbox/checkout/" PID);
    const char *a = tz_sandbox_secret(tz_tp, "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", 32, &n1);
    const char *b = tz_sandbox_secret(tz_tp, "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1", 32, &n2);
    const char *c = tz_sandbox_secret(tz_tp, "k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2", 32, &n3);
    ck_assert_uint_eq(n1, 64);
    ck_assert_str_eq(a, b); /* every child and restart agrees */
    ck_assert_str_ne(a, c); /* and it follows the key */
}
END_TEST

/* The table: every row is named, found by its name, and has the
 * operations its kind needs. */
START_TEST(provider_table_is_consistent)
{
    for (int i = 0; i < TZ_PROV__COUNT; i++) {
        const tz_provider_t *pv = tz_providers[i];
        ck_assert_ptr_nonnull(pv);
        ck_assert_int_eq(tz_provider_id(pv->name), i);
        /* an unsigned callback is only ever a hint to ask the provider */
        ck_assert_msg(pv->signature_header || (pv->verify && pv->status), "%s", pv->name);
        ck_assert_ptr_nonnull(pv->verify_signature);
        ck_assert_ptr_nonnull(pv->parse_event);
        /* a checkout is either a local link or an API call with its answer */
        ck_assert_msg(!pv->checkout_link != !(pv->checkout && pv->checkout_answer), "%s", pv->name);
        ck_assert_msg(!pv->verify == !pv->verify_answer, "%s", pv->name);
        ck_assert_msg(!pv->refund == !pv->refund_answer, "%s", pv->name);
        ck_assert_msg(!pv->status == !pv->status_answer, "%s", pv->name);
        ck_assert_msg(!pv->token == !pv->token_answer, "%s", pv->name);
        ck_assert_msg(!(pv->refund && pv->refund_local), "%s", pv->name);
    }
    ck_assert_int_eq(tz_provider_id("paypal"), -1);
    ck_assert_int_eq(tz_provider_id(NULL), -1);
    ck_assert_str_eq(tz_provider_names(tz_tp), "mobile_money, flutterwave, stripe, momo, sandbox");
}
END_TEST

static tz_parse_status_e generic(const char *body)
{
    return tz_generic_parse_event(tz_tp, body, strlen(body), &ev);
}

START_TEST(generic_event_valid)
{
    ck_assert_int_eq(generic("{\"payment_id\":\"" PID_UPPER "\",\"status\":\"success\","
                             "\"timestamp\":1700000000,\"extra\":{\"x\":[1.5]},\"note\":null}"),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_str_eq(ev.payment_id, PID); /* one spelling of the UUID */
    ck_assert_str_eq(ev.event_id, PID "::success");
    ck_assert_int_eq(ev.timestamp, 1700000000);
    ck_assert(!ev.has_amount && !ev.currency && !ev.provider_tx_id);
    ck_assert_int_eq(generic("{\"payment_id\":\"" PID "\",\"status\":\"failed\",\"timestamp\":1,"
                             "\"provider_transaction_id\":\"mm-1\",\"amount\":100,\"currency\":\"ZMW\"}"),
                     TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_FAILED && ev.has_amount && ev.amount == 100);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_str_eq(ev.provider_tx_id, "mm-1");
    ck_assert_str_eq(ev.event_id, PID ":mm-1:failed"); /* the payment is part of the id */
    /* optional members sent as null are absent */
    ck_assert_int_eq(generic("{\"payment_id\":\"" PID "\",\"status\":\"failed\",\"timestamp\":1,"
                             "\"provider_transaction_id\":null,\"amount\":null,\"currency\":null}"),
                     TZ_PARSE_OK);
    ck_assert(!ev.has_amount && !ev.currency);
    ck_assert_str_eq(ev.event_id, PID "::failed");
}
END_TEST

/* The timestamp is RFC 3339, like every timestamp of the API, or Unix seconds. */
START_TEST(generic_event_timestamps)
{
    static const struct { const char *ts; int64_t secs; } ok[] = {
        {"\"2023-11-14T22:13:20Z\"", 1700000000}, {"\"2023-11-14T22:13:20.123Z\"", 1700000000},
        {"\"2023-11-15T00:13:20+02:00\"", 1700000000}, {"\"2023-11-14t22:13:20z\"", 1700000000},
        {"1700000000", 1700000000}, {"0", 0}};
    static const char *bad[] = {"\"2023-11-14\"", "\"2023-02-30T00:00:00Z\"", "\"1700000000\"",
                                "\"2023-11-14 22:13:20Z\"", "\"2023-11-14T22:13:20\"", "-1", "1.5",
                                "\"\"", "null", "true"};
    for (size_t i = 0; i < LEN(ok); i++) {
        char *body = apr_psprintf(tz_tp, "{\"payment_id\":\"" PID "\",\"status\":\"success\","
                                  "\"timestamp\":%s}", ok[i].ts);
        ck_assert_msg(generic(body) == TZ_PARSE_OK, "refused %s", ok[i].ts);
        ck_assert_int_eq(ev.timestamp, ok[i].secs);
    }
    for (size_t i = 0; i < LEN(bad); i++) {
        char *body = apr_psprintf(tz_tp, "{\"payment_id\":\"" PID "\",\"status\":\"success\","
                                  "\"timestamp\":%s}", bad[i]);
        ck_assert_msg(generic(body) == TZ_PARSE_INVALID, "accepted %s", bad[i]);
        ck_assert_str_eq(ev.bad_field, "timestamp");
    }
}
END_TEST

START_TEST(generic_event_malformed)
{
#define G(rest) "{\"payment_id\":\"" PID "\",\"status\":\"success\",\"timestamp\":1" rest "}"
    /* JSON objects with a known member missing or wrong: INVALID, naming it */
    static const struct { const char *body, *field; } invalid[] = {
        {"{\"status\":\"success\",\"timestamp\":1}", "payment_id"},
        {"{\"payment_id\":\"" PID "\",\"timestamp\":1}", "status"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"success\"}", "timestamp"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"weird\",\"timestamp\":1}", "status"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"SUCCESS\",\"timestamp\":1}", "status"},
        {"{\"payment_id\":\"x\",\"status\":\"success\",\"timestamp\":1}", "payment_id"},
        {"{\"payment_id\":42,\"status\":\"success\",\"timestamp\":1}", "payment_id"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"success\",\"timestamp\":1.5}", "timestamp"},
        {"{\"payment_id\":\"" PID "\",\"status\":\"success\",\"timestamp\":\"1\"}", "timestamp"},
        {G(",\"amount\":10.5"), "amount"}, {G(",\"amount\":\"10\""), "amount"},
        {G(",\"amount\":-1"), "amount"}, {G(",\"amount\":1e2"), "amount"},
        {G(",\"currency\":\"zmw\""), "currency"}, {G(",\"currency\":\"ZMWX\""), "currency"},
        {G(",\"currency\":5"), "currency"}, {G(",\"provider_transaction_id\":\"\""), "provider_transaction_id"},
        {G(",\"provider_transaction_id\":7"), "provider_transaction_id"},
        {G(",\"provider_transaction_id\":\"a b\""), "provider_transaction_id"}};
    /* not a JSON object at all: MALFORMED */
    static const char *malformed[] = {G(",\"status\":\"failed\""), /* duplicate key */
        "{\"payment_id\":\"" PID "\\u0000x\",\"status\":\"success\",\"timestamp\":1}", /* NUL */
                                      "[]", "nope", "", "null", "{\"payment_id\":\"" PID "\""};
#undef G
    for (size_t i = 0; i < LEN(invalid); i++) {
        ck_assert_msg(generic(invalid[i].body) == TZ_PARSE_INVALID, "accepted %s", invalid[i].body);
        ck_assert_str_eq(ev.bad_field, invalid[i].field);
    }
    for (size_t i = 0; i < LEN(malformed); i++)
        ck_assert_msg(generic(malformed[i]) == TZ_PARSE_MALFORMED, "accepted %s", malformed[i]);
}
END_TEST

/* ------------------------------------------------------------ Flutterwave */

static const tz_prov_cfg_t flw_cfg = {.enabled = 1, .base_url = "https://api.flw.example/",
                                      .api_secret = "FLWSECK_TEST-x", .webhook_secret = "hash-123",
                                      .webhook_secret_len = 8, .tolerance = 300};

static json_t *flw_body(int64_t amount, const char *return_url, tz_out_req_t *out)
{
    tz_checkout_req_t req = {PID, amount, "NGN", "Tip for \"Ada\"", "fan@example.com",
                             "+2348000000000", "https://h/api/v1",
                             "https://h/api/v1/webhooks/flutterwave", return_url};
    const char *err;
    tz_flw_checkout_request(tz_tp, &flw_cfg, &req, out);
    return tz_json_parse(tz_tp, out->body, out->bodylen, &err);
}

START_TEST(flw_checkout_request_shape)
{
    tz_out_req_t out;
    json_t *body = flw_body(2550, "https://h/api/v1/payments/" PID "/return", &out), *cust;
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://api.flw.example/v3/payments");
    ck_assert_ptr_nonnull(body);
    ck_assert(json_is_number(json_object_get(body, "amount")));
    ck_assert_ptr_nonnull(strstr(out.body, "\"amount\":25.50,"));
    ck_assert_str_eq(tz_json_str(body, "tx_ref"), PID);
    ck_assert_str_eq(tz_json_str(body, "currency"), "NGN");
    ck_assert_str_eq(tz_json_str(body, "redirect_url"), "https://h/api/v1/payments/" PID "/return");
    cust = json_object_get(body, "customer");
    ck_assert_str_eq(tz_json_str(cust, "email"), "fan@example.com");
    ck_assert_str_eq(tz_json_str(cust, "phonenumber"), "+2348000000000");
    ck_assert_str_eq(tz_json_str(json_object_get(body, "customizations"), "title"), "Tip for \"Ada\"");
    ck_assert_int_eq(out.headers->nelts, 3);
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 0, const char *), "Authorization: Bearer FLWSECK_TEST-x");
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 2, const char *), "Content-Type: application/json");
    body = flw_body(1, "https://app/back", &out);
    ck_assert_ptr_nonnull(strstr(out.body, "\"amount\":0.01,"));
    ck_assert_str_eq(tz_json_str(body, "redirect_url"), "https://app/back");
    body = flw_body(123456789012345, "https://app/back", &out);
    ck_assert_ptr_nonnull(strstr(out.body, "\"amount\":1234567890123.45,"));
    /* no way back for the payer, no checkout: never the webhook instead */
    flw_body(100, NULL, &out);
    ck_assert_ptr_null(out.url);
}
END_TEST

START_TEST(flw_checkout_request_optional_and_invalid)
{
    tz_checkout_req_t req = {PID, 500, "NGN", NULL, "fan@example.com", NULL, "https://h",
                             "https://h/cb", "https://h/back"};
    tz_out_req_t out;
    const char *err;
    tz_flw_checkout_request(tz_tp, &flw_cfg, &req, &out);
    json_t *body = tz_json_parse(tz_tp, out.body, out.bodylen, &err);
    ck_assert_ptr_nonnull(body);
    ck_assert_ptr_null(json_object_get(json_object_get(body, "customer"), "phonenumber"));
    ck_assert_str_eq(tz_json_str(json_object_get(body, "customizations"), "title"), "Tip");
    req.description = "bad \xff utf-8"; /* jansson refuses it: no request at all */
    tz_flw_checkout_request(tz_tp, &flw_cfg, &req, &out);
    ck_assert_ptr_null(out.url);
    ck_assert_ptr_null(out.body);
}
END_TEST

START_TEST(flw_checkout_link)
{
    static const char *bad[] = {
        "{\"status\":\"error\",\"message\":\"Invalid authorization key\",\"data\":null}",
        "{\"status\":\"success\",\"data\":{}}", "{\"status\":\"success\",\"data\":{\"link\":5}}",
        "{\"status\":\"success\",\"data\":{\"link\":\"javascript:alert(1)\"}}",
        "{\"status\":\"success\",\"data\":{\"link\":\"https://a b\"}}", "<html>", ""};
    const char *ok = "{\"status\":\"success\",\"message\":\"Hosted Link\","
                     "\"data\":{\"link\":\"https://checkout.flutterwave.com/v3/hosted/pay/abc\"}}";
    const char *ref = "x";
    ck_assert_str_eq(tz_flw_checkout_link(tz_tp, ok, strlen(ok), &ref),
                     "https://checkout.flutterwave.com/v3/hosted/pay/abc");
    ck_assert_ptr_null(ref);
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_flw_checkout_link(tz_tp, bad[i], strlen(bad[i]), &ref) == NULL, "took %s",
                      bad[i]);
}
END_TEST

static tz_sig_status_e flw_hash(const tz_prov_cfg_t *cfg, const char *header)
{
    tz_webhook_t in = {header, "{}", 2, 1000};
    return tz_flw_verify_signature(cfg, &in);
}

START_TEST(flw_webhook_hash)
{
    tz_prov_cfg_t none = flw_cfg;
    ck_assert_int_eq(flw_hash(&flw_cfg, "hash-123"), TZ_SIG_OK);
    ck_assert_int_eq(flw_hash(&flw_cfg, "hash-124"), TZ_SIG_MISMATCH);
    ck_assert_int_eq(flw_hash(&flw_cfg, "hash-1234"), TZ_SIG_MISMATCH);
    ck_assert_int_eq(flw_hash(&flw_cfg, "hash-12"), TZ_SIG_MISMATCH);
    ck_assert_int_eq(flw_hash(&flw_cfg, NULL), TZ_SIG_MISSING);
    ck_assert_int_eq(flw_hash(&flw_cfg, ""), TZ_SIG_MISSING);
    none.webhook_secret = NULL, none.webhook_secret_len = 0; /* never "equal to nothing" */
    ck_assert_int_ne(flw_hash(&none, "hash-123"), TZ_SIG_OK);
}
END_TEST

static tz_parse_status_e flw_charge(const char *amount, const char *status)
{
    char *body = apr_psprintf(tz_tp, "{\"event\":\"charge.completed\",\"data\":{\"id\":285959875,"
                              "\"tx_ref\":\"" PID "\",\"flw_ref\":\"FLW-MOCK\",\"amount\":%s,"
                              "\"currency\":\"NGN\",\"charged_amount\":%s,\"status\":\"%s\","
                              "\"customer\":{\"email\":\"a@b\"}},\"event.type\":\"CARD_TRANSACTION\"}",
                              amount, amount, status);
    return tz_flw_parse_event(tz_tp, body, strlen(body), &ev);
}

START_TEST(flw_charge_completed)
{
    ck_assert_int_eq(flw_charge("25.5", "successful"), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.has_amount && ev.amount == 2550);
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.currency, "NGN");
    ck_assert_str_eq(ev.provider_tx_id, "285959875");
    ck_assert_str_eq(ev.event_id, "flw:285959875:successful");
    ck_assert_int_eq(flw_charge("100", "successful"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.amount, 10000);
    ck_assert_int_eq(flw_charge("25.0", "successful"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.amount, 2500);
    ck_assert_int_eq(flw_charge("0.07", "failed"), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_FAILED && ev.amount == 7);
    ck_assert_str_eq(ev.event_id, "flw:285959875:failed");
    ck_assert_int_eq(flw_charge("25", "pending"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
    static const char *bad_amounts[] = {"25.505", "-25", "-0.5", "\"25\"", "null", "1e15",
                                        "12345678901234.5", "true"};
    for (size_t i = 0; i < LEN(bad_amounts); i++)
        ck_assert_msg(flw_charge(bad_amounts[i], "successful") == TZ_PARSE_INVALID,
                      "accepted amount %s", bad_amounts[i]);
}
END_TEST

/* The double round trip is exact for every two-decimal amount below 10^13. */
START_TEST(flw_amount_exactness)
{
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int64_t minor = (int64_t)(x % 1000000000000000ULL) >> (x % 50); /* < 10^15 minor */
        ck_assert_int_eq(flw_charge(tz_minor_to_decimal(tz_tp, minor), "successful"), TZ_PARSE_OK);
        ck_assert_int_eq(ev.amount, minor);
    }
    ck_assert_int_eq(flw_charge("9999999999999.99", "successful"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.amount, 999999999999999);
}
END_TEST

START_TEST(flw_event_malformed_and_ignored)
{
#define D(x) "{\"event\":\"charge.completed\",\"data\":{" x "}}"
    static const struct { const char *body, *field; } invalid[] = {
        {D("\"id\":1,\"amount\":1,\"currency\":\"NGN\",\"status\":\"successful\""), "data.tx_ref"},
        {D("\"id\":1,\"tx_ref\":\"VISIBUY_1\",\"amount\":1,\"currency\":\"NGN\",\"status\":\"successful\""),
         "data.tx_ref"},
        {D("\"id\":\"1\",\"tx_ref\":\"" PID "\",\"amount\":1,\"currency\":\"NGN\",\"status\":\"successful\""),
         "data.id"},
        {D("\"id\":0,\"tx_ref\":\"" PID "\",\"amount\":1,\"currency\":\"NGN\",\"status\":\"successful\""),
         "data.id"},
        {D("\"id\":1,\"tx_ref\":\"" PID "\",\"amount\":1,\"currency\":\"ngn\",\"status\":\"successful\""),
         "data.currency"},
        {D("\"id\":1,\"tx_ref\":\"" PID "\",\"amount\":1,\"status\":\"successful\""), "data.currency"},
        {D("\"id\":1,\"tx_ref\":\"" PID "\",\"amount\":1,\"currency\":\"NGN\""), "data.status"},
        {"{\"event\":\"charge.completed\",\"data\":[]}", "data"},
        {"{\"event\":\"charge.completed\"}", "data"}, {"{\"data\":{}}", "event"},
        {"{\"event\":5}", "event"}};
    static const char *malformed[] = {"{not json", "[]"};
#undef D
    for (size_t i = 0; i < LEN(invalid); i++) {
        const char *b = invalid[i].body;
        ck_assert_msg(tz_flw_parse_event(tz_tp, b, strlen(b), &ev) == TZ_PARSE_INVALID, "accepted %s", b);
        ck_assert_str_eq(ev.bad_field, invalid[i].field);
    }
    for (size_t i = 0; i < LEN(malformed); i++)
        ck_assert_msg(tz_flw_parse_event(tz_tp, malformed[i], strlen(malformed[i]), &ev) ==
                      TZ_PARSE_MALFORMED, "accepted %s", malformed[i]);
    const char *other = "{\"event\":\"transfer.completed\",\"data\":{\"id\":\"x\"}}";
    ck_assert_int_eq(tz_flw_parse_event(tz_tp, other, strlen(other), &ev), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
}
END_TEST

static tz_parse_status_e flw_verify(const char *status, const char *dstatus, const char *amount)
{
    char *body = apr_psprintf(tz_tp, "{\"status\":\"%s\",\"message\":\"Transaction fetched successfully\","
                              "\"data\":{\"id\":42,\"tx_ref\":\"" PID_UPPER "\",\"amount\":%s,"
                              "\"currency\":\"NGN\",\"charged_amount\":%s,\"status\":\"%s\"}}",
                              status, amount, amount, dstatus);
    return tz_flw_parse_verify(tz_tp, body, strlen(body), &ev);
}

START_TEST(flw_verify_request_and_answer)
{
    tz_out_req_t out;
    tz_event_t asked = {.provider_tx_id = "285959875"};
    tz_flw_verify_request(tz_tp, &flw_cfg, &asked, &out);
    ck_assert_str_eq(out.method, "GET");
    ck_assert_str_eq(out.url, "https://api.flw.example/v3/transactions/285959875/verify");
    ck_assert_ptr_null(out.body);
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 0, const char *), "Authorization: Bearer FLWSECK_TEST-x");
    asked.provider_tx_id = "1/../x";
    tz_flw_verify_request(tz_tp, &flw_cfg, &asked, &out);
    ck_assert_str_eq(out.url, "https://api.flw.example/v3/transactions/1%2F..%2Fx/verify");
    ck_assert_int_eq(flw_verify("success", "successful", "25.5"), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.amount == 2550 && ev.has_amount);
    ck_assert_str_eq(ev.payment_id, PID);
    ck_assert_str_eq(ev.provider_tx_id, "42");
    ck_assert_int_eq(flw_verify("success", "failed", "25.5"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_FAILED);
    ck_assert_int_eq(flw_verify("success", "pending", "25.5"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_UNVERIFIED);
    ck_assert_int_eq(flw_verify("error", "successful", "25.5"), TZ_PARSE_OK);
    ck_assert_int_ne(ev.kind, TZ_EV_SUCCESS);
    ck_assert_int_eq(flw_verify("success", "successful", "25.555"), TZ_PARSE_INVALID);
    const char *notfound = "{\"status\":\"error\",\"message\":\"No transaction was found for this id\",\"data\":null}";
    ck_assert_int_eq(tz_flw_parse_verify(tz_tp, notfound, strlen(notfound), &ev), TZ_PARSE_INVALID);
    ck_assert_int_eq(tz_flw_parse_verify(tz_tp, "<html>", 6, &ev), TZ_PARSE_MALFORMED);
}
END_TEST

/* ------------------------------------------------------------ Stripe */

static const tz_prov_cfg_t st_cfg = {.enabled = 1, .base_url = "https://api.stripe.example",
                                     .api_secret = "sk_test_1",
                                     .webhook_secret = "whsec_1234567890abcdef",
                                     .webhook_secret_len = 22, .tolerance = 300};

START_TEST(stripe_checkout_request_form)
{
    tz_checkout_req_t req = {PID, 2500, "ZMW", "Tip for Ada & Co", "fan+1@example.com", NULL,
                             "https://h/api/v1", "https://h/api/v1/webhooks/stripe",
                             "https://app/back?x=1"};
    tz_out_req_t out;
    tz_stripe_checkout_request(tz_tp, &st_cfg, &req, &out);
    ck_assert_str_eq(out.method, "POST");
    ck_assert_str_eq(out.url, "https://api.stripe.example/v1/checkout/sessions");
    ck_assert_str_eq(out.body,
        "mode=payment&success_url=https%3A%2F%2Fapp%2Fback%3Fx%3D1"
        "&cancel_url=https%3A%2F%2Fapp%2Fback%3Fx%3D1&client_reference_id=" PID
        "&customer_email=fan%2B1%40example.com&metadata%5Bpayment_id%5D=" PID
        "&payment_intent_data%5Bmetadata%5D%5Bpayment_id%5D=" PID
        "&line_items%5B0%5D%5Bprice_data%5D%5Bcurrency%5D=zmw"
        "&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=2500"
        "&line_items%5B0%5D%5Bprice_data%5D%5Bproduct_data%5D%5Bname%5D=Tip%20for%20Ada%20%26%20Co"
        "&line_items%5B0%5D%5Bquantity%5D=1");
    ck_assert_uint_eq(out.bodylen, strlen(out.body));
    ck_assert_int_eq(out.headers->nelts, 4);
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 0, const char *), "Authorization: Bearer sk_test_1");
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 2, const char *),
                     "Content-Type: application/x-www-form-urlencoded");
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 3, const char *), "Idempotency-Key: tipzed-" PID);
    req.return_url = NULL, req.customer_email = NULL;
    tz_stripe_checkout_request(tz_tp, &st_cfg, &req, &out);
    /* never the webhook as the payer's way back: it answers POST only */
    ck_assert_ptr_null(strstr(out.body, "webhooks"));
    ck_assert_ptr_null(strstr(out.body, "customer_email"));
}
END_TEST

START_TEST(stripe_session_url)
{
    const char *ok = "{\"id\":\"cs_test_a1\",\"object\":\"checkout.session\","
                     "\"url\":\"https://checkout.stripe.com/c/pay/cs_test_a1#fid\"}";
    static const char *bad[] = {
        "{\"error\":{\"type\":\"invalid_request_error\",\"message\":\"Invalid API Key provided\"}}",
        "{\"id\":\"cs_1\",\"url\":null}", "{\"url\":\"ftp://x\"}", "{\"url\":\"https://a\\nb\"}",
        "not json", ""};
    const char *ref = NULL;
    ck_assert_str_eq(tz_stripe_checkout_url(tz_tp, ok, strlen(ok), &ref),
                     "https://checkout.stripe.com/c/pay/cs_test_a1#fid");
    ck_assert_str_eq(ref, "cs_test_a1"); /* the session, asked about by status calls */
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_stripe_checkout_url(tz_tp, bad[i], strlen(bad[i]), &ref) == NULL, "took %s",
                      bad[i]);
}
END_TEST

static const char *st_body = "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\",\"data\":{}}";

static tz_sig_status_e st_verify(const char *header, const char *body, int64_t now)
{
    tz_webhook_t in = {header, body, strlen(body), now};
    return tz_stripe_verify_signature(&st_cfg, &in);
}

START_TEST(stripe_signature)
{
    size_t n = strlen(st_body);
    char *good = tz_sig_sign_tv1(tz_tp, st_cfg.webhook_secret, st_cfg.webhook_secret_len, st_body, n, 1000);
    char *other = tz_sig_sign_tv1(tz_tp, "whsec_other", 11, st_body, n, 1000);
    ck_assert_int_eq(st_verify(good, st_body, 1000), TZ_SIG_OK);
    ck_assert_int_eq(st_verify(good, st_body, 1300), TZ_SIG_OK);      /* at the tolerance */
    ck_assert_int_eq(st_verify(good, st_body, 700), TZ_SIG_OK);
    ck_assert_int_eq(st_verify(other, st_body, 1000), TZ_SIG_MISMATCH); /* wrong secret */
    ck_assert_int_eq(st_verify(good, st_body, 1301), TZ_SIG_STALE);   /* too old */
    ck_assert_int_eq(st_verify(good, st_body, 699), TZ_SIG_STALE);    /* from the future */
    char *tampered = apr_pstrdup(tz_tp, st_body);
    tampered[9] = '2';
    ck_assert_int_eq(st_verify(good, tampered, 1000), TZ_SIG_MISMATCH);
    /* secret rotation: the matching v1 may come second, v0 is ignored */
    char *rotated = apr_pstrcat(tz_tp, other, ",v0=abc,", strchr(good, ',') + 1, NULL);
    ck_assert_int_eq(st_verify(rotated, st_body, 1000), TZ_SIG_OK);
    ck_assert_int_eq(st_verify(NULL, st_body, 1000), TZ_SIG_MISSING);
    ck_assert_int_eq(st_verify("", st_body, 1000), TZ_SIG_MISSING);
    ck_assert_int_eq(st_verify("t=1000", st_body, 1000), TZ_SIG_MALFORMED);
    ck_assert_int_eq(st_verify("v1=00", st_body, 1000), TZ_SIG_MALFORMED);
}
END_TEST

static tz_parse_status_e stripe_ev(const char *type, const char *obj)
{
    char *body = apr_psprintf(tz_tp, "{\"id\":\"evt_9\",\"object\":\"event\",\"type\":\"%s\","
                              "\"livemode\":false,\"data\":{\"object\":%s}}", type, obj);
    return tz_stripe_parse_event(tz_tp, body, strlen(body), &ev);
}

START_TEST(stripe_session_events)
{
    const char *s = "{\"id\":\"cs_1\",\"object\":\"checkout.session\",\"client_reference_id\":\"" PID "\","
                    "\"amount_total\":2500,\"currency\":\"zmw\",\"payment_status\":\"%s\","
                    "\"payment_intent\":\"pi_1\",\"metadata\":{}}";
    ck_assert_int_eq(stripe_ev("checkout.session.completed", apr_psprintf(tz_tp, s, "paid")), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.has_amount && ev.amount == 2500);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_str_eq(ev.payment_id, PID); /* from client_reference_id */
    ck_assert_str_eq(ev.provider_tx_id, "pi_1");
    ck_assert_str_eq(ev.event_id, "evt_9");
    ck_assert_int_eq(stripe_ev("checkout.session.completed", apr_psprintf(tz_tp, s, "unpaid")), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED); /* delayed method: the async event decides */
    ck_assert_int_eq(stripe_ev("checkout.session.async_payment_succeeded", apr_psprintf(tz_tp, s, "paid")),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_int_eq(stripe_ev("checkout.session.async_payment_failed", apr_psprintf(tz_tp, s, "unpaid")),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_FAILED);
}
END_TEST

START_TEST(stripe_intent_and_charge_events)
{
    const char *meta = "\"metadata\":{\"payment_id\":\"" PID_UPPER "\"}";
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded", apr_pstrcat(tz_tp, "{\"id\":\"pi_2\","
                     "\"object\":\"payment_intent\",\"amount\":2600,\"amount_received\":2500,"
                     "\"currency\":\"usd\",", meta, "}", NULL)), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.amount == 2500);
    ck_assert_str_eq(ev.payment_id, PID); /* from metadata, lower-cased */
    ck_assert_str_eq(ev.currency, "USD");
    ck_assert_str_eq(ev.provider_tx_id, "pi_2");
    ck_assert_int_eq(stripe_ev("payment_intent.payment_failed", apr_pstrcat(tz_tp, "{\"id\":\"pi_3\","
                     "\"amount\":2500,\"amount_received\":0,\"currency\":\"usd\",", meta, "}", NULL)),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED); /* the payer may retry within the session */
    ck_assert_int_eq(stripe_ev("checkout.session.expired", apr_pstrcat(tz_tp, "{\"id\":\"cs_3\","
                     "\"amount_total\":2500,\"currency\":\"usd\",\"payment_status\":\"unpaid\",",
                     meta, "}", NULL)), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_FAILED && ev.amount == 2500); /* the session is over */
    ck_assert_int_eq(stripe_ev("charge.refunded", apr_pstrcat(tz_tp, "{\"id\":\"ch_1\","
                     "\"payment_intent\":\"pi_2\",\"amount\":2500,\"amount_refunded\":2500,"
                     "\"refunded\":true,\"currency\":\"usd\",", meta, "}", NULL)), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_REFUND && ev.has_refunded_total && ev.refunded_total == 2500);
    ck_assert_str_eq(ev.provider_tx_id, "pi_2");
    ck_assert_ptr_null(ev.payment_id); /* matched by the PaymentIntent, never by metadata */
    ck_assert_int_eq(stripe_ev("charge.refunded", apr_pstrcat(tz_tp, "{\"id\":\"ch_1\","
                     "\"amount\":2500,\"amount_refunded\":100,\"refunded\":false,", meta, "}", NULL)),
                     TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED); /* no PaymentIntent: not one of ours */
}
END_TEST

START_TEST(stripe_ignored_and_malformed)
{
    const char *mine = "{\"id\":\"pi_1\",\"amount_received\":%s,\"currency\":%s,"
                       "\"metadata\":{\"payment_id\":\"" PID "\"}}";
    ck_assert_int_eq(stripe_ev("customer.created", "{\"id\":\"cus_1\"}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
    ck_assert_str_eq(ev.event_id, "evt_9");
    ck_assert_int_eq(stripe_ev("invoice.paid", "[]"), TZ_PARSE_OK); /* not read at all */
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded", "{\"id\":\"pi_9\",\"amount_received\":5,"
                               "\"metadata\":{\"order\":\"77\"}}"), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED); /* another integration's payment */
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded",
                               apr_psprintf(tz_tp, mine, "25.0", "\"usd\"")), TZ_PARSE_INVALID);
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded",
                               apr_psprintf(tz_tp, mine, "\"2500\"", "\"usd\"")), TZ_PARSE_INVALID);
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded",
                               apr_psprintf(tz_tp, mine, "2500", "\"us\"")), TZ_PARSE_INVALID);
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded",
                               apr_psprintf(tz_tp, mine, "2500", "7")), TZ_PARSE_INVALID);
    ck_assert_int_eq(stripe_ev("payment_intent.succeeded", "\"x\""), TZ_PARSE_INVALID);
    static const char *bad[] = {"not json", "", "[]"};
    static const struct { const char *body, *field; } invalid[] = {
        {"{\"type\":\"charge.refunded\"}", "id"}, {"{\"id\":\"evt_1\"}", "type"},
        {"{\"id\":\"\",\"type\":\"x\"}", "id"},
        {"{\"id\":\"evt_1\",\"type\":\"charge.refunded\"}", "data.object"}};
    for (size_t i = 0; i < LEN(bad); i++)
        ck_assert_msg(tz_stripe_parse_event(tz_tp, bad[i], strlen(bad[i]), &ev) == TZ_PARSE_MALFORMED,
                      "accepted %s", bad[i]);
    for (size_t i = 0; i < LEN(invalid); i++) {
        const char *b = invalid[i].body;
        ck_assert_msg(tz_stripe_parse_event(tz_tp, b, strlen(b), &ev) == TZ_PARSE_INVALID, "accepted %s", b);
        ck_assert_str_eq(ev.bad_field, invalid[i].field);
    }
}
END_TEST

static Suite *providers_suite(void)
{
    Suite *s = suite_create("providers");
    TCase *dec = tz_tcase("decimals"), *gen = tz_tcase("generic"), *flw = tz_tcase("flutterwave"),
          *st = tz_tcase("stripe");
    tcase_add_test(dec, decimal_to_minor_table);
    tcase_add_test(dec, decimal_to_minor_refusals);
    tcase_add_test(dec, minor_to_decimal_table);
    tcase_add_test(dec, decimal_round_trip);
    tcase_add_test(dec, url_escape_and_form);
    tcase_add_test(gen, generic_checkout_url);
    tcase_add_test(gen, generic_event_valid);
    tcase_add_test(gen, generic_event_malformed);
    tcase_add_test(gen, generic_event_timestamps);
    tcase_add_test(gen, sandbox_checkout_link_and_secret);
    tcase_add_test(gen, provider_table_is_consistent);
    tcase_add_test(flw, flw_checkout_request_shape);
    tcase_add_test(flw, flw_checkout_request_optional_and_invalid);
    tcase_add_test(flw, flw_checkout_link);
    tcase_add_test(flw, flw_webhook_hash);
    tcase_add_test(flw, flw_charge_completed);
    tcase_add_test(flw, flw_amount_exactness);
    tcase_add_test(flw, flw_event_malformed_and_ignored);
    tcase_add_test(flw, flw_verify_request_and_answer);
    tcase_add_test(st, stripe_checkout_request_form);
    tcase_add_test(st, stripe_session_url);
    tcase_add_test(st, stripe_signature);
    tcase_add_test(st, stripe_session_events);
    tcase_add_test(st, stripe_intent_and_charge_events);
    tcase_add_test(st, stripe_ignored_and_malformed);
    suite_add_tcase(s, dec);
    suite_add_tcase(s, gen);
    suite_add_tcase(s, flw);
    suite_add_tcase(s, st);
    return s;
}

TZ_TEST_MAIN(providers_suite)
