/* The statement table: every entry present, labels unique, argument counts
 * equal to the placeholders, no stray '%', and one name stem per statement:
 * TZ_Q_<STEM>, label tipzed_<stem>, SQL function tz_api_<stem>. */
#include "tz_test.h"
#include "tz_sql.h"
#include <ctype.h>
#include <stdio.h>
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

static void lower(char *out, size_t n, const char *s)
{
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    out[i] = '\0';
}

START_TEST(table_is_complete_and_consistent)
{
    for (int i = 0; i < TZ_Q__COUNT; i++) {
        const tz_stmt_t *st = &tz_statements[i];
        ck_assert_msg(st->label && st->sql && st->stem, "statement %d missing", i);
        ck_assert_int_eq(placeholders(st->sql), st->nargs);
        for (int j = 0; j < i; j++)
            ck_assert_str_ne(st->label, tz_statements[j].label);
    }
}
END_TEST

START_TEST(one_stem_per_statement)
{
    for (int i = 0; i < TZ_Q__COUNT; i++) {
        const tz_stmt_t *st = &tz_statements[i];
        char stem[64], want[128];
        lower(stem, sizeof stem, st->stem);
        ck_assert_msg(strspn(st->stem, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") == strlen(st->stem),
                      "enum stem %s", st->stem);
        snprintf(want, sizeof want, "tipzed_%s", stem);
        ck_assert_str_eq(st->label, want);
        if (i == TZ_Q_PING) {
            ck_assert_str_eq(st->sql, "SELECT 1");
            continue;
        }
        snprintf(want, sizeof want, "SELECT tz_api_%s(", stem);
        ck_assert_msg(strncmp(st->sql, want, strlen(want)) == 0, "%s: %s", st->label, st->sql);
        ck_assert_msg(strcmp(st->sql + strlen(st->sql) - 7, ")::text") == 0, "%s", st->sql);
    }
}
END_TEST

/* The stems the other files name: their enum values must stay where the
 * table says. */
START_TEST(known_stems)
{
    ck_assert_str_eq(tz_statements[TZ_Q_REGISTER].label, "tipzed_register");
    ck_assert_str_eq(tz_statements[TZ_Q_APPLY_EVENT].sql,
                     "SELECT tz_api_apply_event(%s, %s, %s::uuid, %s, %s, %s::bigint, %s)::text");
    ck_assert_str_eq(tz_statements[TZ_Q_SCHEMA_STATE].sql, "SELECT tz_api_schema_state()::text");
}
END_TEST

static Suite *sql_suite(void)
{
    Suite *s = suite_create("sql");
    TCase *tc = tz_tcase("statements");
    tcase_add_test(tc, table_is_complete_and_consistent);
    tcase_add_test(tc, one_stem_per_statement);
    tcase_add_test(tc, known_stems);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(sql_suite)
