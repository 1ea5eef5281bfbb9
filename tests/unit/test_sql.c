/* The statement table: every entry present, labels unique and prefixed,
 * argument counts equal to the placeholders, no stray '%'. */
#include "tz_test.h"
#include "tz_sql.h"
#include <string.h>

static int placeholders(const char *sql)
{
    int n = 0;
    for (const char *s = sql; (s = strchr(s, '%')); s += 2) {
        ck_assert_msg(s[1] == 's' || s[1] == '%', "unexpected placeholder in %s", sql);
        n += s[1] == 's';
    }
    return n;
}

START_TEST(table_is_complete_and_consistent)
{
    for (int i = 0; i < TZ_Q__COUNT; i++) {
        const tz_stmt_t *st = &tz_statements[i];
        ck_assert_msg(st->label && st->sql, "statement %d missing", i);
        ck_assert_msg(strncmp(st->label, "tipzed_", 7) == 0, "label %s", st->label);
        ck_assert_int_eq(placeholders(st->sql), st->nargs);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(st->label, tz_statements[j].label);
    }
}
END_TEST

static Suite *sql_suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tz_tcase("statements");
    tcase_add_test(tc, table_is_complete_and_consistent);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(sql_suite)
