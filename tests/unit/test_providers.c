/* Provider adapters: exact decimal conversion, the generic gateway,
 * Flutterwave and Stripe request building and event parsing. */
#include "tz_test.h"
#include "tz_provider.h"
#include "tz_json.h"
#include <string.h>
#include <stdlib.h>

#define PID "123e4567-e89b-42d3-a456-426614174000"

static tz_event_t ev;

START_TEST(decimals)
{
    static const struct { const char *text; int64_t minor; } ok[] = {
        {"25", 2500}, {"25.5", 2550}, {"25.50", 2550}, {"0.01", 1}, {"0", 0}};
    static const char *bad[] = {"25.505", "-1", "1e2", "", ".5", "5.", "abc", "99999999999999999999"};
    int64_t m;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ck_assert_int_eq(tz_decimal_to_minor(ok[i].text, &m), 0);
        ck_assert_int_eq(m, ok[i].minor);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tz_decimal_to_minor(bad[i], &m) == -1, "accepted %s", bad[i]);
    ck_assert_str_eq(tz_minor_to_decimal(tz_tp, 5), "0.05");
    ck_assert_str_eq(tz_minor_to_decimal(tz_tp, 100), "1.00");
    ck_assert_str_eq(tz_minor_to_decimal(tz_tp, 2550), "25.50");
}
END_TEST

START_TEST(generic_gateway)
{
    tz_checkout_req_t req = {PID, 2500, "ZMW", NULL, NULL, NULL, "http://h/api/v1/payments/webhook?a=1&b=2", NULL};
    ck_assert_str_eq(tz_generic_checkout_url(tz_tp, "https://gw.example/pay", &req),
                     "https://gw.example/pay?reference=" PID "&amount=2500&currency=ZMW&callback="
                     "http%3A%2F%2Fh%2Fapi%2Fv1%2Fpayments%2Fwebhook%3Fa%3D1%26b%3D2");
    const char *good = "{\"payment_id\":\"" PID "\",\"status\":\"success\",\"timestamp\":1,\"extra\":true}";
    ck_assert_int_eq(tz_generic_parse_event(tz_tp, good, strlen(good), &ev), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_SUCCESS);
    ck_assert_str_eq(ev.event_id, PID ":success");
    const char *tx = "{\"payment_id\":\"" PID "\",\"status\":\"failed\",\"provider_transaction_id\":\"mm-1\",\"amount\":100,\"currency\":\"ZMW\"}";
    ck_assert_int_eq(tz_generic_parse_event(tz_tp, tx, strlen(tx), &ev), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_FAILED && ev.has_amount && ev.amount == 100);
    ck_assert_str_eq(ev.event_id, "mm-1");
    static const char *bad[] = {
        "{\"status\":\"success\"}", "{\"payment_id\":\"x\",\"status\":\"success\"}",
        "{\"payment_id\":\"" PID "\",\"status\":\"weird\"}",
        "{\"payment_id\":\"" PID "\",\"status\":\"success\",\"amount\":10.5}",
        "{\"payment_id\":\"" PID "\",\"status\":\"success\",\"amount\":\"10\"}",
        "{\"payment_id\":\"" PID "\",\"status\":\"success\",\"currency\":\"zmw\"}", "[]", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(tz_generic_parse_event(tz_tp, bad[i], strlen(bad[i]), &ev) == TZ_PARSE_MALFORMED,
                      "accepted %s", bad[i]);
}
END_TEST

START_TEST(flutterwave)
{
    tz_prov_cfg_t cfg = {"https://api.flw.example/", "FLWSECK-x", "hash-123", 8, 300};
    tz_checkout_req_t req = {PID, 2550, "NGN", "Tip for Ada", "fan@example.com", "+2348000000000",
                             "https://h/api/v1/webhooks/flutterwave", NULL};
    tz_out_req_t out;
    const char *err;
    tz_flw_checkout_request(tz_tp, &cfg, &req, &out);
    ck_assert_str_eq(out.url, "https://api.flw.example/v3/payments");
    json_t *body = tz_json_parse(tz_tp, out.body, out.bodylen, &err);
    ck_assert_ptr_nonnull(body);
    char *amount = json_dumps(json_object_get(body, "amount"), JSON_ENCODE_ANY);
    ck_assert_str_eq(amount, "25.5");
    free(amount);
    ck_assert_str_eq(tz_json_str(body, "tx_ref"), PID);
    ck_assert_str_eq(tz_json_str(json_object_get(body, "customer"), "email"), "fan@example.com");
    ck_assert_str_eq(APR_ARRAY_IDX(out.headers, 0, const char *), "Authorization: Bearer FLWSECK-x");
    const char *link = "{\"status\":\"success\",\"data\":{\"link\":\"https://checkout/x\"}}";
    ck_assert_str_eq(tz_flw_checkout_link(tz_tp, link, strlen(link)), "https://checkout/x");
    ck_assert_ptr_null(tz_flw_checkout_link(tz_tp, "{\"status\":\"error\"}", 18));
    ck_assert_int_eq(tz_flw_verify_webhook(&cfg, "hash-123"), TZ_SIG_OK);
    ck_assert_int_eq(tz_flw_verify_webhook(&cfg, "hash-124"), TZ_SIG_MISMATCH);
    ck_assert_int_eq(tz_flw_verify_webhook(&cfg, NULL), TZ_SIG_MISSING);
    const char *evt = "{\"event\":\"charge.completed\",\"data\":{\"id\":285959875,\"tx_ref\":\"" PID "\","
                      "\"amount\":25.5,\"currency\":\"NGN\",\"status\":\"successful\"}}";
    ck_assert_int_eq(tz_flw_parse_event(tz_tp, evt, strlen(evt), &ev), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.amount == 2550);
    ck_assert_str_eq(ev.provider_tx_id, "285959875");
    ck_assert_str_eq(ev.event_id, "flw:285959875:successful");
    const char *other = "{\"event\":\"transfer.completed\",\"data\":{}}";
    ck_assert_int_eq(tz_flw_parse_event(tz_tp, other, strlen(other), &ev), TZ_PARSE_OK);
    ck_assert_int_eq(ev.kind, TZ_EV_IGNORED);
    const char *noref = "{\"event\":\"charge.completed\",\"data\":{\"id\":1,\"amount\":1,\"currency\":\"NGN\",\"status\":\"successful\"}}";
    ck_assert_int_eq(tz_flw_parse_event(tz_tp, noref, strlen(noref), &ev), TZ_PARSE_MALFORMED);
    const char *ver = "{\"status\":\"success\",\"data\":{\"id\":1,\"tx_ref\":\"" PID "\",\"amount\":25,\"currency\":\"NGN\",\"status\":\"successful\"}}";
    ck_assert_int_eq(tz_flw_parse_verify(tz_tp, ver, strlen(ver), &ev), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.amount == 2500);
}
END_TEST

START_TEST(stripe)
{
    tz_prov_cfg_t cfg = {"https://api.stripe.example", "sk_test_1", "whsec_1234567890abcdef", 22, 300};
    tz_checkout_req_t req = {PID, 2500, "ZMW", "Tip for Ada", NULL, NULL, "https://h/r?x=1", NULL};
    tz_out_req_t out;
    tz_stripe_checkout_request(tz_tp, &cfg, &req, &out);
    ck_assert_str_eq(out.url, "https://api.stripe.example/v1/checkout/sessions");
    ck_assert_ptr_nonnull(strstr(out.body, "client_reference_id=" PID));
    ck_assert_ptr_nonnull(strstr(out.body, "line_items[0][price_data][unit_amount]=2500"));
    ck_assert_ptr_nonnull(strstr(out.body, "line_items[0][price_data][currency]=zmw"));
    ck_assert_ptr_nonnull(strstr(out.body, "success_url=https%3A%2F%2Fh%2Fr%3Fx%3D1"));
    const char *sess = "{\"id\":\"cs_1\",\"url\":\"https://checkout.stripe.com/c/pay/cs_1\"}";
    ck_assert_str_eq(tz_stripe_checkout_url(tz_tp, sess, strlen(sess)), "https://checkout.stripe.com/c/pay/cs_1");
    const char *body = "{\"id\":\"evt_1\",\"type\":\"checkout.session.completed\",\"data\":{\"object\":"
                       "{\"client_reference_id\":\"" PID "\",\"amount_total\":2500,\"currency\":\"zmw\","
                       "\"payment_status\":\"paid\",\"payment_intent\":\"pi_1\"}}}";
    char *sig = tz_sig_sign_tv1(tz_tp, cfg.webhook_secret, cfg.webhook_secret_len, body, strlen(body), 1000);
    ck_assert_int_eq(tz_stripe_verify_webhook(&cfg, sig, body, strlen(body), 1100), TZ_SIG_OK);
    ck_assert_int_eq(tz_stripe_verify_webhook(&cfg, sig, body, strlen(body), 1400), TZ_SIG_STALE);
    ck_assert_int_eq(tz_stripe_parse_event(tz_tp, body, strlen(body), &ev), TZ_PARSE_OK);
    ck_assert(ev.kind == TZ_EV_SUCCESS && ev.amount == 2500);
    ck_assert_str_eq(ev.currency, "ZMW");
    ck_assert_str_eq(ev.event_id, "evt_1");
    static const struct { const char *type; tz_event_kind_e kind; } types[] = {
        {"payment_intent.succeeded", TZ_EV_SUCCESS}, {"payment_intent.payment_failed", TZ_EV_FAILED},
        {"charge.refunded", TZ_EV_REFUNDED}, {"customer.created", TZ_EV_IGNORED}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char *e = apr_psprintf(tz_tp, "{\"id\":\"evt_%d\",\"type\":\"%s\",\"data\":{\"object\":"
                               "{\"metadata\":{\"payment_id\":\"" PID "\"},\"amount_received\":2500}}}",
                               (int)i, types[i].type);
        ck_assert_int_eq(tz_stripe_parse_event(tz_tp, e, strlen(e), &ev), TZ_PARSE_OK);
        ck_assert_int_eq(ev.kind, types[i].kind);
    }
    ck_assert_int_eq(tz_stripe_parse_event(tz_tp, "not json", 8, &ev), TZ_PARSE_MALFORMED);
}
END_TEST

static Suite *providers_suite(void)
{
    Suite *s = suite_create("providers");
    TCase *tc = tz_tcase("adapters");
    tcase_add_test(tc, decimals);
    tcase_add_test(tc, generic_gateway);
    tcase_add_test(tc, flutterwave);
    tcase_add_test(tc, stripe);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(providers_suite)
