/* Input validation rules, table-driven: email addresses, bank accounts,
 * avatar URLs, RFC 3339 timestamps, JSON media types, accepted currencies,
 * referral codes. */
#include "tz_test.h"
#include "tz_validate.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(emails)
{
    static const struct { const char *s; int ok; } t[] = {
        {"a@b.co", 1}, {"first.last+tag@example.co.zm", 1}, {"UPPER@EXAMPLE.COM", 1},
        {"x@y.z", 1}, {"a@b.c.d", 1}, {"", 0}, {"@b.co", 0}, {"a@", 0}, {"a@b", 0},
        {"a@.b", 0}, {"a@b.", 0}, {"a@@b.co", 0}, {"a@b@c.co", 0}, {"a b@c.co", 0},
        {"a@b .co", 0}, {"a\t@b.co", 0}, {"a@b.co\n", 0}, {"a\x7f@b.co", 0}, {"ab.co", 0},
        {"a.b@co", 0}, {NULL, 0}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_email_ok(t[i].s) == t[i].ok, "'%s'", t[i].s ? t[i].s : "NULL");
}
END_TEST

START_TEST(bank_accounts)
{
    static const struct { const char *s; int ok; } t[] = {
        {"0123456789", 1}, {"ZM12 3456 7890", 1}, {"GB29-NWBK-6016-1331-9268-19", 1}, {"a", 1},
        {"", 0}, {" ", 0}, {"--", 0}, {"12.34", 0}, {"12/34", 0}, {"12_34", 0}, {"12\n34", 0},
        {"1234\xc3\xa9", 0}, {"<script>", 0}, {NULL, 0}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_bank_account_ok(t[i].s) == t[i].ok, "'%s'", t[i].s ? t[i].s : "NULL");
}
END_TEST

START_TEST(avatar_urls)
{
    static const struct { const char *s; int ok; } t[] = {
        {"https://cdn.example/a.png", 1}, {"https://x", 1}, {"https://x/a?b=c&d=%20", 1},
        {"http://x/a.png", 0}, {"https://", 0}, {"https:///a", 0}, {"HTTPS://x", 0},
        {"https://x/a b", 0}, {"https://x/\"onload=", 0}, {"https://x/'", 0}, {"https://x/<", 0},
        {"https://x/>", 0}, {"https://x/\t", 0}, {"javascript:alert(1)", 0}, {"", 0}, {NULL, 0}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_avatar_url_ok(t[i].s) == t[i].ok, "'%s'", t[i].s ? t[i].s : "NULL");
}
END_TEST

START_TEST(timestamps)
{
    static const struct { const char *s; int date; int64_t secs; } ok[] = {
        {"1970-01-01T00:00:00Z", 0, 0}, {"2026-01-27T10:00:00Z", 0, 1769508000},
        {"2026-01-27t10:00:00z", 0, 1769508000}, {"2026-01-27T10:00:00.999999Z", 0, 1769508000},
        {"2026-01-27T12:30:00+02:30", 0, 1769508000}, {"2026-01-27T07:00:00-03:00", 0, 1769508000},
        {"2024-02-29T00:00:00Z", 0, 1709164800}, {"2000-02-29T23:59:60Z", 0, 951868799},
        {"2026-01-27", 1, 1769472000}, {"2026-12-31T23:59:59Z", 1, 1798761599}};
    static const struct { const char *s; int date; } bad[] = {
        {"2026-01-27", 0}, {"2026-1-27T10:00:00Z", 0}, {"2026-01-27 10:00:00Z", 0},
        {"2026-01-27T10:00:00", 0}, {"2026-01-27T10:00Z", 0}, {"2026-01-27T24:00:00Z", 0},
        {"2026-01-27T10:60:00Z", 0}, {"2026-01-27T10:00:61Z", 0}, {"2026-13-01T00:00:00Z", 0},
        {"2026-00-01T00:00:00Z", 0}, {"2026-01-00T00:00:00Z", 0}, {"2026-01-32T00:00:00Z", 0},
        {"2023-02-29T00:00:00Z", 0}, {"1900-02-29T00:00:00Z", 0}, {"2026-04-31", 1},
        {"1969-12-31T23:59:59Z", 0}, {"1970-01-01T00:00:00+00:01", 0},
        {"2026-01-27T10:00:00.Z", 0}, {"2026-01-27T10:00:00+0200", 0},
        {"2026-01-27T10:00:00+24:00", 0}, {"2026-01-27T10:00:00Zjunk", 0},
        {"+2026-01-27T10:00:00Z", 0}, {"2026-01-27x", 1}, {"", 1}, {NULL, 1}};
    int64_t secs;
    for (size_t i = 0; i < NELTS(ok); i++) {
        ck_assert_msg(tz_parse_timestamp(ok[i].s, ok[i].date, &secs) == 0, "refused %s", ok[i].s);
        ck_assert_msg(secs == ok[i].secs, "%s -> %lld", ok[i].s, (long long)secs);
    }
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_timestamp(bad[i].s, bad[i].date, &secs) == -1, "accepted %s",
                      bad[i].s ? bad[i].s : "NULL");
}
END_TEST

/* format(parse(x)) == x on the canonical spelling, over many days. */
START_TEST(timestamp_round_trip)
{
    static const char *t[] = {"1970-01-01T00:00:00Z", "2026-01-27T10:00:00Z",
                              "2024-02-29T23:59:59Z", "2100-03-01T00:00:01Z", "2399-12-31T12:34:56Z"};
    int64_t secs;
    for (size_t i = 0; i < NELTS(t); i++) {
        ck_assert_int_eq(tz_parse_timestamp(t[i], 0, &secs), 0);
        ck_assert_str_eq(tz_format_timestamp(tz_tp, secs), t[i]);
    }
    for (int64_t s = 0; s < INT64_C(20000) * 86400; s += 86400 * 7 + 3661) {
        ck_assert_int_eq(tz_parse_timestamp(tz_format_timestamp(tz_tp, s), 0, &secs), 0);
        ck_assert_int_eq(secs, s);
    }
}
END_TEST

START_TEST(json_content_types)
{
    static const struct { const char *s; int ok; } t[] = {
        {"application/json", 1}, {"Application/JSON", 1}, {"application/json; charset=utf-8", 1},
        {"application/json;charset=UTF-8", 1}, {"application/json; CHARSET=\"utf-8\"", 1},
        {"application/json ; charset=utf-8", 1}, {"application/json; boundary=x", 1},
        {"application/json; charset=latin1", 0}, {"application/jsonx", 0}, {"text/json", 0},
        {"application/x-www-form-urlencoded", 0}, {"application/problem+json", 0},
        {"", 0}, {NULL, 0}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_is_json_content_type(t[i].s) == t[i].ok, "'%s'", t[i].s ? t[i].s : "NULL");
}
END_TEST

START_TEST(currencies)
{
    static const char *const list[] = {"ZMW", "USD"};
    ck_assert(tz_currency_accepted(list, 2, "ZMW"));
    ck_assert(tz_currency_accepted(list, 2, "USD"));
    ck_assert(!tz_currency_accepted(list, 2, "NGN"));
    ck_assert(!tz_currency_accepted(list, 2, "zmw"));
    ck_assert(!tz_currency_accepted(list, 2, "ZM"));
    ck_assert(!tz_currency_accepted(list, 2, ""));
    ck_assert(!tz_currency_accepted(list, 2, NULL));
    ck_assert(!tz_currency_accepted(list, 0, "ZMW"));
}
END_TEST

START_TEST(referral_codes)
{
    static const struct { const char *s; const char *out; } t[] = {
        {"ABCD2345", "ABCD2345"}, {"abcd2345", "ABCD2345"}, {"zzZZ9999", "ZZZZ9999"},
        {"HJKLMNPQ", "HJKLMNPQ"}, {"ABCD234", NULL}, {"ABCD23456", NULL}, {"", NULL},
        {"ABCD2340", NULL}, {"ABCD2341", NULL}, {"ABCDO234", NULL}, {"ABCDI234", NULL},
        {"abcdo234", NULL}, {"abcdi234", NULL}, {"ABCD 234", NULL}, {"ABCD-234", NULL},
        {"ABC\xc3\x89" "234", NULL}, {"ABCD234\n", NULL}, {NULL, NULL}};
    for (size_t i = 0; i < NELTS(t); i++) {
        const char *got = tz_referral_code_normalize(tz_tp, t[i].s);
        if (t[i].out)
            ck_assert_msg(got && strcmp(got, t[i].out) == 0, "'%s'", t[i].s);
        else
            ck_assert_msg(got == NULL, "'%s'", t[i].s ? t[i].s : "NULL");
    }
}
END_TEST

START_TEST(billing_intervals)
{
    ck_assert(tz_interval_ok("week", 0) && tz_interval_ok("month", 0));
    ck_assert(tz_interval_ok("quarter", 0) && tz_interval_ok("year", 1));
    ck_assert(!tz_interval_ok("year", 0)); /* schedules have no yearly interval */
    ck_assert(!tz_interval_ok("Month", 1) && !tz_interval_ok("day", 1));
    ck_assert(!tz_interval_ok("", 1) && !tz_interval_ok("weekly", 1) && !tz_interval_ok(NULL, 1));
}
END_TEST

static Suite *validate_suite(void)
{
    Suite *s = suite_create("validate");
    TCase *tc = tz_tcase("rules");
    tcase_add_test(tc, emails);
    tcase_add_test(tc, bank_accounts);
    tcase_add_test(tc, avatar_urls);
    tcase_add_test(tc, timestamps);
    tcase_add_test(tc, timestamp_round_trip);
    tcase_add_test(tc, json_content_types);
    tcase_add_test(tc, currencies);
    tcase_add_test(tc, referral_codes);
    tcase_add_test(tc, billing_intervals);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(validate_suite)
