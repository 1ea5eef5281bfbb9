/* Directive and query-string parsers (table-driven). */
#include "tz_test.h"
#include "tz_parse.h"

START_TEST(durations_sizes_percents)
{
    static const struct { const char *in; int64_t out; } dur[] = {
        {"90", 90}, {"90s", 90}, {"15m", 900}, {"2h", 7200}, {"30d", 2592000}};
    static const char *bad_dur[] = {"", "0", "-5", "10x", "m", "1.5h", "015m", "99999999999999999999"};
    static const struct { const char *in; int64_t out; } size[] = {{"65536", 65536}, {"64K", 65536}, {"1M", 1048576}};
    static const char *bad_size[] = {"", "0", "-1", "2G", "K", "1025M"};
    static const struct { const char *in; int32_t bps; } pct[] = {
        {"15", 1500}, {"15%", 1500}, {"2.5%", 250}, {"2.55", 255}, {"0", 0}, {"100%", 10000}, {"0.01%", 1}};
    static const char *bad_pct[] = {"", "%", "2.555%", "101%", "100.01", "-1", "abc", "15%%", "1.", ".5"};
    int64_t v;
    int32_t bps;
    for (size_t i = 0; i < sizeof dur / sizeof dur[0]; i++) {
        ck_assert_ptr_null(tz_parse_duration(dur[i].in, &v));
        ck_assert_int_eq(v, dur[i].out);
    }
    for (size_t i = 0; i < sizeof bad_dur / sizeof bad_dur[0]; i++)
        ck_assert_msg(tz_parse_duration(bad_dur[i], &v) != NULL, "accepted %s", bad_dur[i]);
    for (size_t i = 0; i < sizeof size / sizeof size[0]; i++) {
        ck_assert_ptr_null(tz_parse_size(size[i].in, &v));
        ck_assert_int_eq(v, size[i].out);
    }
    for (size_t i = 0; i < sizeof bad_size / sizeof bad_size[0]; i++)
        ck_assert_msg(tz_parse_size(bad_size[i], &v) != NULL, "accepted %s", bad_size[i]);
    for (size_t i = 0; i < sizeof pct / sizeof pct[0]; i++) {
        ck_assert_ptr_null(tz_parse_percent(pct[i].in, &bps));
        ck_assert_int_eq(bps, pct[i].bps);
    }
    for (size_t i = 0; i < sizeof bad_pct / sizeof bad_pct[0]; i++)
        ck_assert_msg(tz_parse_percent(bad_pct[i], &bps) != NULL, "accepted %s", bad_pct[i]);
}
END_TEST

START_TEST(integers_amounts_and_codes)
{
    int64_t v;
    int flag;
    ck_assert_ptr_null(tz_parse_int64("9223372036854775807", &v));
    ck_assert_int_eq(v, INT64_MAX);
    ck_assert_ptr_null(tz_parse_int64("-9223372036854775808", &v));
    ck_assert_ptr_nonnull(tz_parse_int64("9223372036854775808", &v));
    ck_assert_ptr_nonnull(tz_parse_int64("+1", &v));
    ck_assert_ptr_nonnull(tz_parse_int64("01", &v));
    ck_assert_ptr_null(tz_parse_amount("9007199254740992", &v));
    ck_assert_ptr_nonnull(tz_parse_amount("9007199254740993", &v));
    ck_assert_ptr_nonnull(tz_parse_amount("0", &v));
    ck_assert_ptr_null(tz_parse_currency("ZMW"));
    ck_assert_ptr_nonnull(tz_parse_currency("zmw"));
    ck_assert_ptr_nonnull(tz_parse_currency("ZMWX"));
    ck_assert_ptr_null(tz_parse_flag("on", &flag));
    ck_assert_int_eq(flag, 1);
    ck_assert_ptr_nonnull(tz_parse_flag("yes", &flag));
    ck_assert_ptr_null(tz_parse_origin("https://app.tipzed.test"));
    ck_assert_ptr_null(tz_parse_origin("http://localhost:3000"));
    ck_assert_ptr_nonnull(tz_parse_origin("https://app.tipzed.test/path"));
    ck_assert_ptr_nonnull(tz_parse_origin("ftp://x"));
}
END_TEST

START_TEST(uuid_key_page)
{
    int64_t lim, off;
    const char *field = NULL;
    ck_assert(tz_is_uuid("123e4567-e89b-42d3-a456-426614174000"));
    ck_assert(tz_is_uuid("123E4567-E89B-42D3-A456-426614174000"));
    ck_assert(!tz_is_uuid("123e4567e89b42d3a456426614174000"));
    ck_assert(!tz_is_uuid("123e4567-e89b-42d3-a456-42661417400g"));
    ck_assert(!tz_is_uuid("me"));
    ck_assert(tz_is_idempotency_key("abc-123"));
    ck_assert(!tz_is_idempotency_key(""));
    ck_assert(!tz_is_idempotency_key("has space"));
    ck_assert(!tz_is_idempotency_key("tab\there"));
    ck_assert_ptr_null(tz_parse_page(NULL, NULL, &lim, &off, &field));
    ck_assert(lim == 20 && off == 0);
    static const struct { const char *l, *o, *field; } bad[] = {
        {"0", NULL, "limit"}, {"101", NULL, "limit"}, {"abc", NULL, "limit"}, {"", NULL, "limit"},
        {"1.5", NULL, "limit"}, {NULL, "-1", "offset"}, {NULL, "x", "offset"},
        {NULL, "99999999999999999999", "offset"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_ptr_nonnull(tz_parse_page(bad[i].l, bad[i].o, &lim, &off, &field));
        ck_assert_str_eq(field, bad[i].field);
    }
}
END_TEST

static Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tz_tcase("parse");
    tcase_add_test(tc, durations_sizes_percents);
    tcase_add_test(tc, integers_amounts_and_codes);
    tcase_add_test(tc, uuid_key_page);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(parse_suite)
