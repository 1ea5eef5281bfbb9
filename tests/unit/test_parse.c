/* Directive and query-string parsers (table-driven): each directive value
 * has one accepted spelling, everything else is an error naming the rule. */
#include "tz_test.h"
#include "tz_parse.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

typedef struct { const char *in; int64_t out; } tz_good_t;

START_TEST(int64_values)
{
    static const tz_good_t good[] = {
        {"0", 0}, {"7", 7}, {"-7", -7}, {"1234567890", 1234567890},
        {"9223372036854775807", INT64_MAX}, {"-9223372036854775808", INT64_MIN}};
    static const char *bad[] = {
        NULL, "", "-", "+1", "01", "00", "-0", "-01", " 1", "1 ", "1a", "0x10", "1.0", "1e3",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999",
        "18446744073709551616", "123456789012345678901234567890"};
    int64_t v;
    for (size_t i = 0; i < NELTS(good); i++) {
        ck_assert_msg(tz_parse_int64(good[i].in, &v) == NULL, "rejected %s", good[i].in);
        ck_assert_msg(v == good[i].out, "%s -> %lld", good[i].in, (long long)v);
    }
    for (size_t i = 0; i < NELTS(bad); i++) {
        v = 42;
        ck_assert_msg(tz_parse_int64(bad[i], &v) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
        ck_assert_msg(v == 42, "%s wrote the output", bad[i] ? bad[i] : "NULL");
    }
    ck_assert_str_eq(tz_parse_int64("9223372036854775808", &v), "is out of range");
}
END_TEST

START_TEST(durations)
{
    static const tz_good_t good[] = {
        {"1", 1}, {"90", 90}, {"90s", 90}, {"15m", 900}, {"1m", 60}, {"2h", 7200},
        {"1d", 86400}, {"30d", 2592000}, {"106751991d", INT64_C(106751991) * 86400}};
    static const char *bad[] = {
        NULL, "", "0", "0s", "0m", "-5", "-5m", "10x", "10ms", "15M", "15H", "s", "m", "1.5h",
        "015m", " 15m", "15m ", "15 m", "+5", "1e3", "106751992d", "99999999999999999999",
        "999999999999999999999999999999999999"};
    int64_t v;
    for (size_t i = 0; i < NELTS(good); i++) {
        ck_assert_msg(tz_parse_duration(good[i].in, &v) == NULL, "rejected %s", good[i].in);
        ck_assert_msg(v == good[i].out, "%s -> %lld", good[i].in, (long long)v);
    }
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_duration(bad[i], &v) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
    ck_assert_str_eq(tz_parse_duration("10x", &v), "the unit must be s, m, h or d");
    ck_assert_str_eq(tz_parse_duration("99999999999999999999", &v), "is too large");
    ck_assert_str_eq(tz_parse_duration("106751992d", &v), "is too large");
}
END_TEST

START_TEST(sizes)
{
    static const tz_good_t good[] = {
        {"1", 1}, {"65536", 65536}, {"64K", 65536}, {"1K", 1024}, {"1M", 1048576},
        {"1024M", INT64_C(1) << 30}, {"1048576K", INT64_C(1) << 30}, {"1073741824", INT64_C(1) << 30}};
    static const char *bad[] = {
        NULL, "", "0", "0K", "-1", "-1K", "2G", "K", "M", "64k", "1m", "64KB", "1.5M",
        "1025M", "1048577K", "1073741825", "99999999999999999999", " 64K", "64K "};
    int64_t v;
    for (size_t i = 0; i < NELTS(good); i++) {
        ck_assert_msg(tz_parse_size(good[i].in, &v) == NULL, "rejected %s", good[i].in);
        ck_assert_msg(v == good[i].out, "%s -> %lld", good[i].in, (long long)v);
    }
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_size(bad[i], &v) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
    ck_assert_str_eq(tz_parse_size("2G", &v), "the unit must be K or M");
}
END_TEST

START_TEST(percentages)
{
    static const struct { const char *in; int32_t bps; } good[] = {
        {"0", 0}, {"0%", 0}, {"15", 1500}, {"15%", 1500}, {"2.5%", 250}, {"2.5", 250},
        {"2.55", 255}, {"2.55%", 255}, {"2.50%", 250}, {"0.01%", 1}, {"0.1", 10},
        {"99.99%", 9999}, {"100%", 10000}, {"100.00", 10000}, {"100.0%", 10000}};
    static const char *bad[] = {
        NULL, "", "%", "2.555%", "2.555", "101%", "100.01", "100.1%", "1000", "-1", "-0.5%",
        "abc", "15%%", "%15", "1.", "1.%", ".5", "1..5", " 15", "15 ", "15 %", "1e1", "1,5",
        "99999999999999999999", "0.001"};
    int32_t bps;
    for (size_t i = 0; i < NELTS(good); i++) {
        ck_assert_msg(tz_parse_percent(good[i].in, &bps) == NULL, "rejected %s", good[i].in);
        ck_assert_msg(bps == good[i].bps, "%s -> %d", good[i].in, (int)bps);
    }
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_percent(bad[i], &bps) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
    ck_assert_str_eq(tz_parse_percent("2.555%", &bps), "allows at most two decimals");
    ck_assert_str_eq(tz_parse_percent("101%", &bps), "must be between 0 and 100");
}
END_TEST

START_TEST(amounts_and_currencies)
{
    static const tz_good_t good[] = {
        {"1", 1}, {"100", 100}, {"2500", 2500}, {"10000000", 10000000},
        {"9007199254740992", INT64_C(9007199254740992)}};
    static const char *bad[] = {
        NULL, "", "0", "-1", "-100", "1.5", "10.00", "1e2", "abc", "0100", "+5",
        "9007199254740993", "9223372036854775807", "9223372036854775808"};
    static const char *cur_good[] = {"ZMW", "NGN", "USD", "EUR"};
    static const char *cur_bad[] = {NULL, "", "zmw", "Zmw", "ZM", "ZMWX", "Z1W", "ZM ", "ZMW\n"};
    int64_t v;
    for (size_t i = 0; i < NELTS(good); i++) {
        ck_assert_msg(tz_parse_amount(good[i].in, &v) == NULL, "rejected %s", good[i].in);
        ck_assert_msg(v == good[i].out, "%s -> %lld", good[i].in, (long long)v);
    }
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_amount(bad[i], &v) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
    for (size_t i = 0; i < NELTS(cur_good); i++)
        ck_assert_msg(tz_parse_currency(cur_good[i]) == NULL, "rejected %s", cur_good[i]);
    for (size_t i = 0; i < NELTS(cur_bad); i++)
        ck_assert_msg(tz_parse_currency(cur_bad[i]) != NULL, "accepted %s", cur_bad[i] ? cur_bad[i] : "NULL");
}
END_TEST

START_TEST(flags)
{
    static const struct { const char *in; int out; } good[] = {
        {"On", 1}, {"on", 1}, {"ON", 1}, {"Off", 0}, {"off", 0}, {"OFF", 0}};
    static const char *bad[] = {NULL, "", "yes", "no", "1", "0", "true", "onn", "of", " On"};
    int v;
    for (size_t i = 0; i < NELTS(good); i++) {
        v = -1;
        ck_assert_msg(tz_parse_flag(good[i].in, &v) == NULL, "rejected %s", good[i].in);
        ck_assert_int_eq(v, good[i].out);
    }
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_flag(bad[i], &v) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
}
END_TEST

START_TEST(origins)
{
    static const char *good[] = {
        "https://app.tipzed.test", "http://localhost:3000", "https://tipzed.dev",
        "http://127.0.0.1:8080", "https://[::1]:8443", "https://a-b.example.com:65535"};
    static const char *bad[] = {
        NULL, "", "*", "null", "app.tipzed.test", "ftp://x", "https://", "http://",
        "https://app.tipzed.test/", "https://app.tipzed.test/path", "https://app.tipzed.test?x=1",
        "https://app.tipzed.test#f", "https://user@app.tipzed.test", "https://App.Tipzed.test",
        "HTTPS://app.tipzed.test", "https://app.tipzed.test:", "https://a:0", "https://a:65536",
        "https://a:08080", "https://a:443", "http://a:80", "https://a b", "https://-a",
        "https://.a", "https://a:8080/", "https://[]", "https://[::1"};
    for (size_t i = 0; i < NELTS(good); i++)
        ck_assert_msg(tz_parse_origin(good[i]) == NULL, "rejected %s: %s", good[i], tz_parse_origin(good[i]));
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_msg(tz_parse_origin(bad[i]) != NULL, "accepted %s", bad[i] ? bad[i] : "NULL");
}
END_TEST

START_TEST(uuids_and_idempotency_keys)
{
    static const char *uuid_good[] = {
        "123e4567-e89b-42d3-a456-426614174000", "123E4567-E89B-42D3-A456-426614174000",
        "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"};
    static const char *uuid_bad[] = {
        NULL, "", "me", "123e4567e89b42d3a456426614174000", "123e4567-e89b-42d3-a456-42661417400g",
        "123e4567-e89b-42d3-a456-42661417400", "123e4567-e89b-42d3-a456-4266141740000",
        "{123e4567-e89b-42d3-a456-426614174000}", "123e4567-e89b-42d3-a456_426614174000",
        "123e4567-e89b-42d3a-456-426614174000", " 123e4567-e89b-42d3-a456-42661417400"};
    char key255[256], key256[257];
    memset(key255, 'k', 255), key255[255] = '\0';
    memset(key256, 'k', 256), key256[256] = '\0';
    const char *key_good[] = {"a", "abc-123", "order:42/retry#1", "~!@$%^&*()_+", key255};
    const char *key_bad[] = {NULL, "", "has space", "tab\there", "new\nline", "caf\xc3\xa9", "\x7f", key256};
    for (size_t i = 0; i < NELTS(uuid_good); i++)
        ck_assert_msg(tz_is_uuid(uuid_good[i]), "rejected %s", uuid_good[i]);
    for (size_t i = 0; i < NELTS(uuid_bad); i++)
        ck_assert_msg(!tz_is_uuid(uuid_bad[i]), "accepted %s", uuid_bad[i] ? uuid_bad[i] : "NULL");
    for (size_t i = 0; i < NELTS(key_good); i++)
        ck_assert_msg(tz_is_idempotency_key(key_good[i]), "rejected key %zu", i);
    for (size_t i = 0; i < NELTS(key_bad); i++)
        ck_assert_msg(!tz_is_idempotency_key(key_bad[i]), "accepted key %zu", i);
}
END_TEST

START_TEST(pagination)
{
    static const struct { const char *l, *o; int64_t lim, off; } good[] = {
        {NULL, NULL, 20, 0}, {"1", NULL, 1, 0}, {"100", NULL, 100, 0}, {"50", "0", 50, 0},
        {NULL, "40", 20, 40}, {"7", "1000000", 7, 1000000}};
    static const struct { const char *l, *o, *field; } bad[] = {
        {"abc", NULL, "limit"}, {"", NULL, "limit"}, {"-1", NULL, "limit"}, {"101", NULL, "limit"},
        {"0", NULL, "limit"}, {"1.5", NULL, "limit"}, {"99999999999999999999", NULL, "limit"},
        {"9223372036854775807", NULL, "limit"}, {"+5", NULL, "limit"}, {"05", NULL, "limit"},
        {" 5", NULL, "limit"}, {NULL, "abc", "offset"}, {NULL, "", "offset"}, {NULL, "-1", "offset"},
        {NULL, "1.5", "offset"}, {NULL, "99999999999999999999", "offset"},
        {NULL, "9223372036854775807", "offset"}, {"20", "x", "offset"}, {"0", "-1", "limit"}};
    for (size_t i = 0; i < NELTS(good); i++) {
        int64_t lim = -1, off = -1;
        const char *field = NULL;
        ck_assert_ptr_null(tz_parse_page(good[i].l, good[i].o, &lim, &off, &field));
        ck_assert_msg(lim == good[i].lim && off == good[i].off, "case %zu: %lld %lld", i,
                      (long long)lim, (long long)off);
    }
    for (size_t i = 0; i < NELTS(bad); i++) {
        int64_t lim, off;
        const char *field = NULL;
        ck_assert_msg(tz_parse_page(bad[i].l, bad[i].o, &lim, &off, &field) != NULL,
                      "accepted limit=%s offset=%s", bad[i].l ? bad[i].l : "-", bad[i].o ? bad[i].o : "-");
        ck_assert_msg(field && strcmp(field, bad[i].field) == 0, "case %zu named %s", i, field ? field : "nothing");
    }
}
END_TEST

START_TEST(list_args)
{
    static const char *const u = "0b6f2c55-6e0a-4d3e-9a63-2f1c7d9e0a11";
    static const struct { const char *l, *o, *a, *f; tz_cursor_e k; int csv; } good[] = {
        {NULL, NULL, NULL, NULL, TZ_CURSOR_UUID, 0}, {"5", NULL, u, NULL, TZ_CURSOR_UUID, 0},
        {NULL, "10", NULL, "json", TZ_CURSOR_UUID, 0}, {NULL, NULL, NULL, "csv", TZ_CURSOR_UUID, 1},
        {"100", NULL, "42", "csv", TZ_CURSOR_INT, 1}, {NULL, NULL, "999999999999999999", NULL,
                                                       TZ_CURSOR_INT, 0}};
    static const struct { const char *l, *o, *a, *f; tz_cursor_e k; const char *field; } bad[] = {
        {NULL, NULL, "", NULL, TZ_CURSOR_UUID, "starting_after"},
        {NULL, NULL, "42", NULL, TZ_CURSOR_UUID, "starting_after"},
        {NULL, NULL, "0b6f2c55-6e0a-4d3e-9a63-2f1c7d9e0a1", NULL, TZ_CURSOR_UUID, "starting_after"},
        {NULL, NULL, "0b6f2c55-6e0a-4d3e-9a63-2f1c7d9e0a11'", NULL, TZ_CURSOR_UUID,
         "starting_after"},
        {NULL, NULL, u, NULL, TZ_CURSOR_INT, "starting_after"},
        {NULL, NULL, "0", NULL, TZ_CURSOR_INT, "starting_after"},
        {NULL, NULL, "-5", NULL, TZ_CURSOR_INT, "starting_after"},
        {NULL, NULL, "1234567890123456789", NULL, TZ_CURSOR_INT, "starting_after"},
        {NULL, "0", u, NULL, TZ_CURSOR_UUID, "offset"},
        {NULL, "20", u, NULL, TZ_CURSOR_UUID, "offset"},
        {NULL, NULL, NULL, "xml", TZ_CURSOR_UUID, "format"},
        {NULL, NULL, NULL, "", TZ_CURSOR_UUID, "format"},
        {NULL, NULL, NULL, "CSV", TZ_CURSOR_UUID, "format"},
        {"0", NULL, u, "csv", TZ_CURSOR_UUID, "limit"},
        {NULL, "-1", NULL, NULL, TZ_CURSOR_UUID, "offset"}};
    for (size_t i = 0; i < NELTS(good); i++) {
        tz_list_args_t a;
        const char *field = NULL;
        ck_assert_msg(tz_parse_list(good[i].l, good[i].o, good[i].a, good[i].f, good[i].k, &a,
                                    &field) == NULL, "refused case %zu (%s)", i, field);
        ck_assert_int_eq(a.csv, good[i].csv);
        ck_assert(a.after == good[i].a);
    }
    for (size_t i = 0; i < NELTS(bad); i++) {
        tz_list_args_t a;
        const char *field = NULL;
        ck_assert_msg(tz_parse_list(bad[i].l, bad[i].o, bad[i].a, bad[i].f, bad[i].k, &a,
                                    &field) != NULL, "accepted case %zu", i);
        ck_assert_msg(field && strcmp(field, bad[i].field) == 0, "case %zu named %s", i,
                      field ? field : "nothing");
    }
}
END_TEST

static Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = tz_tcase("parse");
    tcase_add_test(tc, int64_values);
    tcase_add_test(tc, list_args);
    tcase_add_test(tc, durations);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, percentages);
    tcase_add_test(tc, amounts_and_currencies);
    tcase_add_test(tc, flags);
    tcase_add_test(tc, origins);
    tcase_add_test(tc, uuids_and_idempotency_keys);
    tcase_add_test(tc, pagination);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(parse_suite)
