/* CSV exports: quoting per RFC 4180, the formula guard on strings only,
 * every JSON type in a row, nested columns, and a round trip through a
 * minimal RFC 4180 reader. */
#include "tz_test.h"
#include "tz_csv.h"
#include <string.h>

START_TEST(fields)
{
    ck_assert_str_eq(tz_csv_field(tz_tp, "plain"), "plain");
    ck_assert_str_eq(tz_csv_field(tz_tp, ""), "");
    ck_assert_str_eq(tz_csv_field(tz_tp, NULL), "");
    ck_assert_str_eq(tz_csv_field(tz_tp, "a,b"), "\"a,b\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "say \"hi\""), "\"say \"\"hi\"\"\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "two\nlines"), "\"two\nlines\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "cr\rhere"), "\"cr\rhere\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "Zoë Mwale"), "Zoë Mwale");
}
END_TEST

START_TEST(formula_guard)
{
    ck_assert_str_eq(tz_csv_field(tz_tp, "=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "+1"), "\"'+1\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "-2"), "\"'-2\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "@SUM(A1)"), "\"'@SUM(A1)\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "\tx"), "\"'\tx\"");
    ck_assert_str_eq(tz_csv_field(tz_tp, "a=b"), "a=b");
}
END_TEST

START_TEST(rows)
{
    json_error_t e;
    json_t *o = json_loads("{\"id\":\"p1\",\"amount\":-500,\"rate\":0.5,\"ok\":true,\"no\":false,"
                           "\"gone\":null,\"meta\":{\"k\":\"v,w\"},\"tags\":[1,2],"
                           "\"fan\":{\"name\":\"=cmd\"}}", 0, &e);
    ck_assert_ptr_nonnull(o);
    const char *cols[] = {"id", "amount", "rate", "ok", "no", "gone", "missing", "meta",
                          "tags", "fan.name", "fan.none", "id.x"};
    ck_assert_str_eq(tz_csv_row(tz_tp, o, cols, 12),
                     "p1,-500,0.5,true,false,,,\"{\"\"k\"\":\"\"v,w\"\"}\",\"[1,2]\","
                     "\"'=cmd\",,\r\n");
    ck_assert_str_eq(tz_csv_header(tz_tp, cols, 3), "id,amount,rate\r\n");
    ck_assert_str_eq(tz_csv_row(tz_tp, NULL, cols, 2), ",\r\n");
    apr_array_header_t *names = tz_csv_columns(tz_tp, o);
    ck_assert_int_eq(names->nelts, 9);
    ck_assert_str_eq(APR_ARRAY_IDX(names, 0, const char *), "id");
    ck_assert_str_eq(APR_ARRAY_IDX(names, 8, const char *), "fan");
    ck_assert_int_eq(tz_csv_columns(tz_tp, NULL)->nelts, 0);
    json_decref(o);
}
END_TEST

/* Reads one RFC 4180 field from *s into out; returns 1 at the end of a line. */
static int read_field(const char **s, char *out)
{
    const char *c = *s;
    if (*c == '"') {
        for (c++;; c++) {
            if (*c == '"' && c[1] == '"')
                *out++ = *c++;
            else if (*c == '"')
                break;
            else
                *out++ = *c;
        }
        c++;
    } else
        while (*c != ',' && *c != '\r')
            *out++ = *c++;
    *out = '\0';
    *s = c + (*c == ',' ? 1 : 2);
    return *c == '\r';
}

START_TEST(round_trip)
{
    const char *values[] = {"a", "b,c", "\"q\"", "l1\r\nl2", "", "x\"\"y", ",", "\"", "end"};
    const size_t n = sizeof(values) / sizeof(values[0]);
    const char *line = tz_csv_header(tz_tp, values, n), *s = line;
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        int last = read_field(&s, buf);
        ck_assert_str_eq(buf, values[i]);
        ck_assert_int_eq(last, i == n - 1);
    }
    ck_assert_str_eq(s, "");
}
END_TEST

static Suite *csv_suite(void)
{
    Suite *s = suite_create("csv");
    TCase *tc = tz_tcase("csv");
    tcase_add_test(tc, fields);
    tcase_add_test(tc, formula_guard);
    tcase_add_test(tc, rows);
    tcase_add_test(tc, round_trip);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(csv_suite)
