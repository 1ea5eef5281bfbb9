/* Ranges of whole UTC days (GET /admin/overview): defaults, bounds and
 * every refusal with the parameter it names. */
#include "tz_test.h"
#include "tz_range.h"
#include <string.h>

#define DAY ((int64_t)TZ_DAY_SECS)
/* 2026-12-02T11:25:00Z and its midnight */
#define NOW ((int64_t)1796210700)
#define TODAY (NOW - NOW % DAY)

START_TEST(defaults_are_the_thirty_days_to_today)
{
    tz_day_range_t r;
    const char *f = NULL, *w = NULL;
    ck_assert_int_eq(tz_day_range(NULL, NULL, NOW, &r, &f, &w), 0);
    ck_assert_int_eq(r.last, TODAY);
    ck_assert_int_eq(r.first, TODAY - 29 * DAY);
    ck_assert_int_eq(tz_day_range_days(&r), 30);
    ck_assert_int_eq(tz_day_range(NULL, "2026-01-31", NOW, &r, &f, &w), 0);
    ck_assert_int_eq(tz_day_range_days(&r), 30);
    ck_assert_int_eq(tz_day_range("2026-12-02", NULL, NOW, &r, &f, &w), 0);
    ck_assert_int_eq(r.first, TODAY);
    ck_assert_int_eq(tz_day_range_days(&r), 1);
}
END_TEST

START_TEST(explicit_range_both_days_included)
{
    tz_day_range_t r;
    const char *f = NULL, *w = NULL;
    ck_assert_int_eq(tz_day_range("2024-01-01", "2024-12-31", NOW, &r, &f, &w), 0);
    ck_assert_int_eq(tz_day_range_days(&r), 366);
    ck_assert_int_eq(tz_day_range("2026-03-01", "2026-03-01", NOW, &r, &f, &w), 0);
    ck_assert_int_eq(tz_day_range_days(&r), 1);
}
END_TEST

START_TEST(refusals_name_the_parameter)
{
    static const struct { const char *from, *to, *field; } t[] = {
        {"2026-13-01", NULL, "from"},
        {"2026-02-30", NULL, "from"},
        {"2026-01-01T00:00:00Z", NULL, "from"},
        {"", NULL, "from"},
        {"yesterday", NULL, "from"},
        {NULL, "2026-1-1", "to"},
        {NULL, "2026-01-01 ", "to"},
        {"2026-01-02", "2026-01-01", "from"},
        {"2024-01-01", "2025-01-01", "to"},
        {"1970-01-01", "2026-01-01", "to"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        tz_day_range_t r;
        const char *f = NULL, *w = NULL;
        ck_assert_msg(tz_day_range(t[i].from, t[i].to, NOW, &r, &f, &w) == -1, "case %zu", i);
        ck_assert_msg(f && strcmp(f, t[i].field) == 0 && w && *w, "case %zu: %s", i, f ? f : "-");
    }
}
END_TEST

START_TEST(early_to_does_not_go_before_the_epoch)
{
    tz_day_range_t r;
    const char *f = NULL, *w = NULL;
    ck_assert_int_eq(tz_day_range(NULL, "1970-01-05", NOW, &r, &f, &w), 0);
    ck_assert_int_eq(r.first, 0);
    ck_assert_int_eq(tz_day_range_days(&r), 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("range");
    TCase *tc = tz_tcase("core");
    tcase_add_test(tc, defaults_are_the_thirty_days_to_today);
    tcase_add_test(tc, explicit_range_both_days_included);
    tcase_add_test(tc, refusals_name_the_parameter);
    tcase_add_test(tc, early_to_does_not_go_before_the_epoch);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(suite)
