/* Settlement reports: money text to minor units (no floating point), fee
 * terms, and each provider's export read into lines, good and bad. */
#include "tz_test.h"
#include "tz_settle.h"
#include "tz_json.h"
#include <string.h>

static int64_t money(const char *s, int exp)
{
    int64_t v = -7;
    const char *why = tz_money_parse(s, exp, &v);
    ck_assert_msg(why == NULL, "%s: %s", s, why);
    return v;
}

static void money_bad(const char *s, int exp)
{
    int64_t v = -7;
    ck_assert_msg(tz_money_parse(s, exp, &v) != NULL, "%s was accepted", s);
    ck_assert_int_eq(v, -7);
}

START_TEST(money_text)
{
    ck_assert_int_eq(money("12.34", 2), 1234);
    ck_assert_int_eq(money("-1,234.50", 2), -123450);
    ck_assert_int_eq(money("1,234,567.8", 2), 123456780);
    ck_assert_int_eq(money("7", 2), 700);
    ck_assert_int_eq(money("0.5", 2), 50);
    ck_assert_int_eq(money("-0.01", 2), -1);
    ck_assert_int_eq(money("1500", 0), 1500);
    ck_assert_int_eq(money("1.234", 3), 1234);
    ck_assert_int_eq(money("0.1", 2) + money("0.2", 2), money("0.3", 2)); /* exact */
    ck_assert_int_eq(money("90071992547409.92", 2), TZ_SETTLE_AMOUNT_MAX);
    const char *bad[] = {"", "-", "1.", ".5", "1.234", "+1", " 1", "1 ", "1e3", "12,34",
                         "1,2345", ",123", "1,,234", "1,234,", "abc", "1.2.3", "--1",
                         "90071992547409.93", "99999999999999999999", "0x10"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        money_bad(bad[i], 2);
    money_bad("1.5", 0);
    money_bad("1", 5);
}
END_TEST

START_TEST(fee_terms)
{
    tz_fee_rule_t r;
    ck_assert_ptr_null(tz_fee_rule_parse("2.9%+30", &r));
    ck_assert_int_eq(r.bps, 290);
    ck_assert_int_eq(r.fixed, 30);
    ck_assert_int_eq(tz_fee_rule_apply(&r, 2500), 103);  /* 72.5 rounds up to 73, + 30 */
    ck_assert_int_eq(tz_fee_rule_apply(&r, 0), 30);
    ck_assert_int_eq(tz_fee_rule_apply(&r, TZ_SETTLE_AMOUNT_MAX),
                     (int64_t)(((__int128)TZ_SETTLE_AMOUNT_MAX * 290 + 5000) / 10000) + 30);
    ck_assert_ptr_null(tz_fee_rule_parse("1.4%", &r));
    ck_assert_int_eq(r.bps, 140);
    ck_assert_int_eq(r.fixed, 0);
    ck_assert_int_eq(tz_fee_rule_apply(&r, 50), 1); /* 0.7 -> 1 */
    ck_assert_int_eq(tz_fee_rule_apply(&r, 25), 0); /* 0.35 -> 0 */
    ck_assert_ptr_null(tz_fee_rule_parse("30", &r));
    ck_assert_int_eq(r.bps, 0);
    ck_assert_int_eq(r.fixed, 30);
    const char *bad[] = {"", "%", "2.9%30", "2.9%+", "2.9%+-1", "101%", "2.999%", "x", "-5",
                         "2.9%+30+1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ck_assert_msg(tz_fee_rule_parse(bad[i], &r) != NULL, "%s was accepted", bad[i]);
}
END_TEST

static apr_array_header_t *read_ok(int fmt, const char *text, const tz_fee_rule_t *rule)
{
    apr_array_header_t *lines;
    const char *why = tz_settle_read(tz_tp, fmt, text, strlen(text), rule, &lines);
    ck_assert_msg(why == NULL, "%s", why);
    return lines;
}

static const tz_settle_line_t *at(apr_array_header_t *lines, int i)
{
    return &APR_ARRAY_IDX(lines, i, tz_settle_line_t);
}

#define PID "0b6c8a7e-3f2d-4c1b-9a8e-7d6c5b4a3f21"
#define RID "1c7d9b8f-4a3e-4d2c-8b9f-8e7d6c5b4a32"

START_TEST(stripe_export)
{
    tz_fee_rule_t rule = {290, 30};
    apr_array_header_t *l = read_ok(
        TZ_SETTLE_STRIPE,
        "\xEF\xBB\xBF" "id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),"
        "Description,payment_id (metadata),refund_id (metadata)\r\n"
        "txn_1,charge,ch_1,25.00,1.03,23.97,zmw,2026-12-01 10:00,2026-12-03 00:00,\"Tip, Ana\","
        PID ",\r\n"
        "txn_2,refund,re_1,-10.00,0.00,-10.00,zmw,2026-12-01 11:00:05,,,," RID "\r\n"
        "txn_3,adjustment,dp_1,\"-1,025.00\",15.00,\"-1,040.00\",zmw,2026-12-02,,,,\r\n"
        "txn_4,stripe_fee,,-2.00,0,-2.00,zmw,,,,,\r\n"
        "txn_5,payout,po_1,-12.97,0,-12.97,zmw,,,,,\r\n"
        "txn_6,charge,ch_2,5.00,0.45,4.55,zmw,,,,order-17,\r\n",
        &rule);
    ck_assert_int_eq(l->nelts, 6);
    ck_assert_str_eq(at(l, 0)->line_id, "txn_1");
    ck_assert_str_eq(at(l, 0)->kind, "payment");
    ck_assert_str_eq(at(l, 0)->ref, "ch_1");
    ck_assert_str_eq(at(l, 0)->our_id, PID);
    ck_assert_int_eq(at(l, 0)->amount, 2500);
    ck_assert_int_eq(at(l, 0)->fee, 103);
    ck_assert_str_eq(at(l, 0)->currency, "ZMW");
    ck_assert_str_eq(at(l, 0)->created, "2026-12-01 10:00");
    ck_assert_int_eq(at(l, 0)->has_expected_fee, 1);
    ck_assert_int_eq(at(l, 0)->expected_fee, 103);
    ck_assert_str_eq(at(l, 1)->kind, "refund");
    ck_assert_str_eq(at(l, 1)->our_id, RID); /* a refund line: our refund's id */
    ck_assert_int_eq(at(l, 1)->amount, -1000);
    ck_assert_int_eq(at(l, 1)->has_expected_fee, 0);
    ck_assert_str_eq(at(l, 2)->kind, "dispute");
    ck_assert_int_eq(at(l, 2)->amount, -102500);
    ck_assert_int_eq(at(l, 2)->fee, 1500);
    ck_assert_str_eq(at(l, 3)->kind, "fee");
    ck_assert_ptr_null(at(l, 3)->ref);
    ck_assert_ptr_null(at(l, 3)->created);
    ck_assert_str_eq(at(l, 4)->kind, "payout");
    ck_assert_ptr_null(at(l, 5)->our_id); /* not one of our ids: matched by Source */
    ck_assert_int_eq(at(l, 5)->expected_fee, 45);
    json_t *j = tz_settle_json(tz_tp, l);
    ck_assert_str_eq(tz_json_dump(tz_tp, json_array_get(j, 3)),
                     "{\"line_id\":\"txn_4\",\"kind\":\"fee\",\"ref\":null,\"our_id\":null,"
                     "\"amount\":-200,\"fee\":0,\"currency\":\"ZMW\",\"created\":null,"
                     "\"expected_fee\":null}");
}
END_TEST

START_TEST(flutterwave_and_generic)
{
    apr_array_header_t *l = read_ok(
        TZ_SETTLE_FLUTTERWAVE,
        "customer_email,flw_ref,tx_ref,id,charged_amount,app_fee,merchant_fee,stampduty_charge,"
        "settlement_amount,status,payment_entity,transaction_date,currency\n"
        "a@b.c,FLW-MOCK-1," PID ",984411,101.40,1.90,0,0,99.50,successful,card,2019-12-30,NGN\n",
        NULL);
    ck_assert_int_eq(l->nelts, 1);
    ck_assert_str_eq(at(l, 0)->line_id, "984411");
    ck_assert_str_eq(at(l, 0)->ref, "984411");
    ck_assert_str_eq(at(l, 0)->kind, "payment");
    ck_assert_str_eq(at(l, 0)->our_id, PID);
    ck_assert_int_eq(at(l, 0)->amount, 10140);
    ck_assert_int_eq(at(l, 0)->fee, 190);
    ck_assert_int_eq(at(l, 0)->has_expected_fee, 0);
    l = read_ok(TZ_SETTLE_GENERIC,
                "line_id,type,reference,payment_id,refund_id,amount,fee,currency,created_at\n"
                "L1,payment,mm-1," PID ",,2500,50,ZMW,2026-12-01T10:00:00Z\n"
                "L2,refund,gw-r-1," PID "," RID ",-1000,0,ZMW,2026-12-01T11:00:00+02:00\n",
                NULL);
    ck_assert_int_eq(l->nelts, 2);
    ck_assert_int_eq(at(l, 0)->amount, 2500);
    ck_assert_str_eq(at(l, 1)->our_id, RID);
    ck_assert_int_eq(at(l, 1)->amount, -1000);
}
END_TEST

static void read_bad(int fmt, const char *text, const char *want)
{
    apr_array_header_t *lines;
    const char *why = tz_settle_read(tz_tp, fmt, text, strlen(text), NULL, &lines);
    ck_assert_msg(why && strstr(why, want), "%s: got %s", want, why ? why : "(accepted)");
}

START_TEST(bad_reports)
{
    const char *h = "line_id,type,reference,payment_id,refund_id,amount,fee,currency,created_at\n";
    read_bad(TZ_SETTLE_GENERIC, "", "the file has no header");
    read_bad(TZ_SETTLE_GENERIC, "line_id,type,amount,fee\n", "no column \"currency\"");
    read_bad(TZ_SETTLE_STRIPE, "id,Amount,Fee,Currency\n", "no column \"Type\"");
    read_bad(TZ_SETTLE_GENERIC, apr_pstrcat(tz_tp, h, "L1,payment,,,,25.00,0,ZMW,\n", NULL),
             "record 2: column \"amount\"");
    read_bad(TZ_SETTLE_STRIPE,
             "id,Type,Amount,Fee,Currency\nt1,charge,1.00,0,usd\nt2,charge,1.001,0,usd\n",
             "record 3: column \"Amount\" has more decimals than the currency");
    read_bad(TZ_SETTLE_STRIPE, "id,Type,Amount,Fee,Currency\nt1,charge,1,x,usd\n",
             "column \"Fee\"");
    read_bad(TZ_SETTLE_GENERIC, apr_pstrcat(tz_tp, h, "L1,payment,,,,1,0,zm,\n", NULL),
             "column \"currency\" must be an ISO 4217 code");
    read_bad(TZ_SETTLE_GENERIC, apr_pstrcat(tz_tp, h, ",payment,,,,1,0,ZMW,\n", NULL),
             "column \"line_id\"");
    read_bad(TZ_SETTLE_GENERIC, apr_pstrcat(tz_tp, h, "L1,payment,,,,1,0,ZMW,yesterday\n", NULL),
             "column \"created_at\" must be a date");
    read_bad(TZ_SETTLE_GENERIC, apr_pstrcat(tz_tp, h, "L1,payment,,,,1,0,ZMW,2026-13-01\n", NULL),
             "column \"created_at\"");
    read_bad(TZ_SETTLE_GENERIC, apr_pstrcat(tz_tp, h, "L1,\"payment,1\n", NULL),
             "line 2: a quoted field is never closed");
    read_bad(-1, "x\n", "no settlement report format");
    ck_assert_int_eq(tz_settle_format("stripe"), TZ_SETTLE_STRIPE);
    ck_assert_int_eq(tz_settle_format("flutterwave"), TZ_SETTLE_FLUTTERWAVE);
    ck_assert_int_eq(tz_settle_format("mobile_money"), TZ_SETTLE_GENERIC);
    ck_assert_int_eq(tz_settle_format("momo"), -1);
    ck_assert_int_eq(tz_settle_format(NULL), -1);
}
END_TEST

static Suite *settle_suite(void)
{
    Suite *s = suite_create("settle");
    TCase *tc = tz_tcase("settle");
    tcase_add_test(tc, money_text);
    tcase_add_test(tc, fee_terms);
    tcase_add_test(tc, stripe_export);
    tcase_add_test(tc, flutterwave_and_generic);
    tcase_add_test(tc, bad_reports);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(settle_suite)
