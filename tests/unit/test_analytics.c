/* Reporting ranges: interval names, bucket alignment in UTC (day, ISO
 * week from Monday, calendar month), the analytics and statement ranges'
 * checks. */
#include "tz_test.h"
#include "tz_analytics.h"
#include "tz_validate.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

static int64_t ts(const char *s)
{
    int64_t t = -1;
    ck_assert_msg(tz_parse_timestamp(s, 1, &t) == 0, "%s", s);
    return t;
}

START_TEST(interval_names)
{
    tz_bucket_e b = TZ_BUCKET_MONTH;
    ck_assert_int_eq(tz_bucket_parse(NULL, &b), 0);
    ck_assert_int_eq(b, TZ_BUCKET_DAY);
    ck_assert_int_eq(tz_bucket_parse("week", &b), 0);
    ck_assert_int_eq(b, TZ_BUCKET_WEEK);
    ck_assert_int_eq(tz_bucket_parse("month", &b), 0);
    ck_assert_int_eq(b, TZ_BUCKET_MONTH);
    ck_assert_int_eq(tz_bucket_parse("day", &b), 0);
    ck_assert_int_eq(b, TZ_BUCKET_DAY);
    static const char *bad[] = {"", "Day", "days", "year", "quarter", "hour", "day ", "1 day"};
    for (size_t i = 0; i < NELTS(bad); i++)
        ck_assert_int_eq(tz_bucket_parse(bad[i], &b), -1);
    ck_assert_str_eq(tz_bucket_name(TZ_BUCKET_WEEK), "week");
    ck_assert_ptr_null(tz_bucket_name((tz_bucket_e)7));
}
END_TEST

START_TEST(bucket_floor_and_next)
{
    static const struct { const char *at; tz_bucket_e b; const char *start, *next; } t[] = {
        {"2026-12-02T13:45:00Z", TZ_BUCKET_DAY, "2026-12-02", "2026-12-03"},
        {"2026-12-02T00:00:00Z", TZ_BUCKET_DAY, "2026-12-02", "2026-12-03"},
        {"2026-12-02T23:59:59Z", TZ_BUCKET_DAY, "2026-12-02", "2026-12-03"},
        /* an offset is converted to UTC first: this is Dec 1st 23:30 UTC */
        {"2026-12-02T01:30:00+02:00", TZ_BUCKET_DAY, "2026-12-01", "2026-12-02"},
        {"2026-12-02T10:00:00Z", TZ_BUCKET_WEEK, "2026-11-30", "2026-12-07"}, /* a Wednesday */
        {"2026-11-30T00:00:00Z", TZ_BUCKET_WEEK, "2026-11-30", "2026-12-07"}, /* a Monday */
        {"2026-12-06T23:59:59Z", TZ_BUCKET_WEEK, "2026-11-30", "2026-12-07"}, /* a Sunday */
        {"2025-01-01T00:00:00Z", TZ_BUCKET_WEEK, "2024-12-30", "2025-01-06"}, /* across a year */
        {"1970-01-01T00:00:00Z", TZ_BUCKET_DAY, "1970-01-01", "1970-01-02"},
        {"2024-02-29T12:00:00Z", TZ_BUCKET_MONTH, "2024-02-01", "2024-03-01"}, /* leap year */
        {"2025-02-28T12:00:00Z", TZ_BUCKET_MONTH, "2025-02-01", "2025-03-01"},
        {"2026-12-31T23:59:59Z", TZ_BUCKET_MONTH, "2026-12-01", "2027-01-01"}, /* December */
        {"2026-01-01T00:00:00Z", TZ_BUCKET_MONTH, "2026-01-01", "2026-02-01"},
    };
    for (size_t i = 0; i < NELTS(t); i++) {
        int64_t s = tz_bucket_floor(ts(t[i].at), t[i].b);
        ck_assert_msg(strcmp(tz_format_date(tz_tp, s), t[i].start) == 0, "%s: %s", t[i].at,
                      tz_format_date(tz_tp, s));
        ck_assert_int_eq(s % 86400, 0);
        ck_assert_str_eq(tz_format_date(tz_tp, tz_bucket_next(s, t[i].b)), t[i].next);
    }
}
END_TEST

START_TEST(analytics_ranges_widen_to_buckets)
{
    int64_t f, t, n;
    tz_bucket_e b;
    const char *field = NULL;
    ck_assert_ptr_null(tz_analytics_range("2026-01-01", "2027-01-01", "day", &f, &t, &b, &n, &field));
    ck_assert_int_eq(n, 365);
    ck_assert_str_eq(tz_format_date(tz_tp, f), "2026-01-01");
    ck_assert_str_eq(tz_format_date(tz_tp, t), "2027-01-01");
    /* instants inside days: the first and last days are whole */
    ck_assert_ptr_null(tz_analytics_range("2026-03-01T10:00:00Z", "2026-03-03T00:00:01Z", NULL, &f,
                                          &t, &b, &n, &field));
    ck_assert_int_eq(b, TZ_BUCKET_DAY);
    ck_assert_int_eq(n, 3);
    ck_assert_str_eq(tz_format_date(tz_tp, f), "2026-03-01");
    ck_assert_str_eq(tz_format_date(tz_tp, t), "2026-03-04");
    ck_assert_ptr_null(tz_analytics_range("2026-12-02", "2026-12-09", "week", &f, &t, &b, &n, &field));
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(tz_format_date(tz_tp, f), "2026-11-30");
    ck_assert_str_eq(tz_format_date(tz_tp, t), "2026-12-14");
    ck_assert_ptr_null(tz_analytics_range("2026-01-15", "2026-12-02", "month", &f, &t, &b, &n, &field));
    ck_assert_int_eq(n, 12);
    ck_assert_str_eq(tz_format_date(tz_tp, f), "2026-01-01");
    ck_assert_str_eq(tz_format_date(tz_tp, t), "2027-01-01");
    /* the longest ranges */
    ck_assert_ptr_null(tz_analytics_range("2024-01-01", "2025-01-01", "day", &f, &t, &b, &n, &field));
    ck_assert_int_eq(n, 366);
    ck_assert_ptr_null(tz_analytics_range("2021-01-01", "2026-01-01", "month", &f, &t, &b, &n, &field));
    ck_assert_int_eq(n, 60);
}
END_TEST

START_TEST(analytics_ranges_refused)
{
    static const struct { const char *from, *to, *interval, *field; } t[] = {
        {NULL, "2026-01-02", "day", "from"},
        {"2026-01-01", NULL, "day", "to"},
        {"yesterday", "2026-01-02", "day", "from"},
        {"2026-01-01", "2026-13-01", "day", "to"},
        {"2026-01-01T25:00:00Z", "2026-01-02", "day", "from"},
        {"2026-01-02", "2026-01-02", "day", "to"},
        {"2026-01-03", "2026-01-02", "day", "to"},
        {"2026-01-01", "2027-01-02T00:00:01Z", "day", "to"},
        {"2020-01-01", "2025-01-03", "week", "to"},
        {"2020-01-01", "2025-01-03", "month", "to"},
        {"2026-01-01", "2026-02-01", "hour", "interval"},
        {"2026-01-01", "2026-02-01", "", "interval"},
        {"1969-12-31", "2026-02-01", "day", "from"},
    };
    for (size_t i = 0; i < NELTS(t); i++) {
        int64_t f, to, n;
        tz_bucket_e b;
        const char *field = NULL;
        const char *why = tz_analytics_range(t[i].from, t[i].to, t[i].interval, &f, &to, &b, &n, &field);
        ck_assert_msg(why != NULL, "case %zu accepted", i);
        ck_assert_msg(field && strcmp(field, t[i].field) == 0, "case %zu: %s", i, field);
    }
}
END_TEST

START_TEST(statement_ranges)
{
    int64_t f, t;
    const char *field = NULL;
    ck_assert_ptr_null(tz_statement_range("2026-01-01", "2027-01-01", &f, &t, &field));
    ck_assert_int_eq(t - f, 365 * 86400);
    ck_assert_ptr_null(tz_statement_range("2026-01-01T10:00:00Z", "2026-01-01T10:00:01Z", &f, &t,
                                          &field));
    ck_assert_int_eq(t - f, 1);
    ck_assert_ptr_nonnull(tz_statement_range("2026-01-01", "2027-01-02T00:00:01Z", &f, &t, &field));
    ck_assert_str_eq(field, "to");
    ck_assert_ptr_nonnull(tz_statement_range("2026-01-01", "2026-01-01", &f, &t, &field));
    ck_assert_str_eq(field, "to");
    ck_assert_ptr_nonnull(tz_statement_range("01/01/2026", "2026-01-02", &f, &t, &field));
    ck_assert_str_eq(field, "from");
    ck_assert_ptr_nonnull(tz_statement_range(NULL, "2026-01-02", &f, &t, &field));
    ck_assert_str_eq(field, "from");
}
END_TEST

static Suite *analytics_suite(void)
{
    Suite *s = suite_create("analytics");
    TCase *tc = tz_tcase("ranges");
    tcase_add_test(tc, interval_names);
    tcase_add_test(tc, bucket_floor_and_next);
    tcase_add_test(tc, analytics_ranges_widen_to_buckets);
    tcase_add_test(tc, analytics_ranges_refused);
    tcase_add_test(tc, statement_ranges);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(analytics_suite)
