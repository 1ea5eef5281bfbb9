/* Query-string parser: decoding, first occurrence wins, and refusal of
 * bad escapes, encoded NULs and invalid UTF-8 anywhere in the string. */
#include "tz_test.h"
#include "tz_query.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

static const char *get(const char *args, const char *name)
{
    const char *v = "unset";
    ck_assert_ptr_null(tz_query_get(tz_tp, args, name, &v));
    return v;
}

START_TEST(decodes_values)
{
    ck_assert_str_eq(get("limit=20&offset=40", "limit"), "20");
    ck_assert_str_eq(get("limit=20&offset=40", "offset"), "40");
    ck_assert_str_eq(get("q=a+b%20c", "q"), "a b c");
    ck_assert_str_eq(get("q=%2B%26%3d", "q"), "+&=");
    ck_assert_str_eq(get("q=%c3%a9t%C3%A9", "q"), "\xc3\xa9t\xc3\xa9");
    ck_assert_str_eq(get("from=2024-01-01T00:00:00Z", "from"), "2024-01-01T00:00:00Z");
    ck_assert_str_eq(get("a=1=2", "a"), "1=2");
    ck_assert_str_eq(get("flag&x=1", "flag"), "");
    ck_assert_str_eq(get("flag=&x=1", "flag"), "");
    ck_assert_str_eq(get("my%20key=v", "my key"), "v");
    ck_assert_str_eq(get("my+key=v", "my key"), "v");
    ck_assert_str_eq(get("&&a=1&&", "a"), "1");
}
END_TEST

START_TEST(first_occurrence_wins)
{
    ck_assert_str_eq(get("status=pending&status=failed", "status"), "pending");
    ck_assert_str_eq(get("limit&limit=5", "limit"), "");
}
END_TEST

START_TEST(absent_names)
{
    ck_assert_ptr_null(get(NULL, "limit"));
    ck_assert_ptr_null(get("", "limit"));
    ck_assert_ptr_null(get("limits=1&xlimit=2&=3", "limit"));
    ck_assert_ptr_null(get("LIMIT=1", "limit"));
    ck_assert_ptr_null(get("a=limit", "limit"));
    ck_assert_ptr_null(tz_query_check(NULL));
    ck_assert_ptr_null(tz_query_check(""));
    ck_assert_ptr_null(tz_query_check("&"));
}
END_TEST

START_TEST(refuses_malformed)
{
    static const struct { const char *in, *why; } bad[] = {
        {"q=%", "has an invalid percent escape"},
        {"q=%4", "has an invalid percent escape"},
        {"q=%zz", "has an invalid percent escape"},
        {"q=%4g", "has an invalid percent escape"},
        {"q=%%41", "has an invalid percent escape"},
        {"%=1", "has an invalid percent escape"},
        {"q=%00", "contains an encoded NUL (%00)"},
        {"q=abc%00def", "contains an encoded NUL (%00)"},
        {"k%00=1", "contains an encoded NUL (%00)"},
        {"q=%ff", "is not valid UTF-8"},
        {"q=%c3", "is not valid UTF-8"},
        {"q=%c0%af", "is not valid UTF-8"},         /* overlong '/' */
        {"q=%e0%80%af", "is not valid UTF-8"},      /* overlong */
        {"q=%ed%a0%80", "is not valid UTF-8"},      /* surrogate */
        {"q=%f4%90%80%80", "is not valid UTF-8"},   /* above U+10FFFF */
        {"q=%f0%9f%98", "is not valid UTF-8"},      /* truncated */
        {"q=\xff", "is not valid UTF-8"},
        {"%ff=1", "is not valid UTF-8"},
    };
    for (size_t i = 0; i < NELTS(bad); i++) {
        const char *v = "unset", *err = tz_query_get(tz_tp, bad[i].in, "q", &v);
        ck_assert_msg(err && strcmp(err, bad[i].why) == 0, "%s: %s", bad[i].in, err ? err : "accepted");
        ck_assert_ptr_null(v);
        ck_assert_str_eq(tz_query_check(bad[i].in), bad[i].why);
    }
}
END_TEST

START_TEST(malformed_elsewhere_refuses_all)
{
    const char *v = "unset";
    /* A good "limit" does not make a bad neighbour acceptable, before or after it. */
    ck_assert_ptr_nonnull(tz_query_get(tz_tp, "limit=5&x=%00", "limit", &v));
    ck_assert_ptr_null(v);
    ck_assert_ptr_nonnull(tz_query_get(tz_tp, "x=%G0&limit=5", "limit", &v));
    ck_assert_ptr_null(v);
}
END_TEST

START_TEST(too_long)
{
    char *s = apr_palloc(tz_tp, TZ_QUERY_MAX + 2);
    memset(s, 'a', TZ_QUERY_MAX + 1);
    s[TZ_QUERY_MAX + 1] = '\0';
    ck_assert_str_eq(tz_query_check(s), "is too long");
    s[TZ_QUERY_MAX] = '\0';
    ck_assert_ptr_null(tz_query_check(s));
}
END_TEST

START_TEST(utf8_validator)
{
    ck_assert_int_eq(tz_utf8_valid("", 0), 1);
    ck_assert_int_eq(tz_utf8_valid("abc", 3), 1);
    ck_assert_int_eq(tz_utf8_valid("\xf0\x9f\x98\x80", 4), 1);
    ck_assert_int_eq(tz_utf8_valid("\xf4\x8f\xbf\xbf", 4), 1);
    ck_assert_int_eq(tz_utf8_valid("\xee\x80\x80", 3), 1);
    ck_assert_int_eq(tz_utf8_valid("\x80", 1), 0);
    ck_assert_int_eq(tz_utf8_valid("\xc1\xbf", 2), 0);
    ck_assert_int_eq(tz_utf8_valid("\xf5\x80\x80\x80", 4), 0);
    ck_assert_int_eq(tz_utf8_valid("\xe2\x82", 2), 0);
    ck_assert_int_eq(tz_utf8_valid("\xe2\x28\xa1", 3), 0);
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tz_tcase("core");
    tcase_add_test(tc, decodes_values);
    tcase_add_test(tc, first_occurrence_wins);
    tcase_add_test(tc, absent_names);
    tcase_add_test(tc, refuses_malformed);
    tcase_add_test(tc, malformed_elsewhere_refuses_all);
    tcase_add_test(tc, too_long);
    tcase_add_test(tc, utf8_validator);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(query_suite)
