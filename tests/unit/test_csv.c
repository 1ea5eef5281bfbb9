/* CSV exports: quoting per RFC 4180, the formula guard on strings only,
 * every JSON type in a row, nested columns, and a round trip through a
 * minimal RFC 4180 reader. */
#include "tz_test.h"
#include "tz_csv.h"
#include <string.h>
#include <apr_strings.h>

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

/* The reader's records as "a|b;c|d" (fields by |, records by ;). */
static const char *records_text(const apr_array_header_t *recs)
{
    char *out = "";
    for (int i = 0; i < recs->nelts; i++) {
        const apr_array_header_t *r = APR_ARRAY_IDX(recs, i, apr_array_header_t *);
        for (int j = 0; j < r->nelts; j++)
            out = apr_pstrcat(tz_tp, out, j ? "|" : (i ? ";" : ""),
                              APR_ARRAY_IDX(r, j, const char *), NULL);
    }
    return out;
}

static const char *read_ok(const char *text)
{
    size_t len = strlen(text);
    apr_array_header_t *recs;
    int line = 0;
    const char *why = tz_csv_read(tz_tp, text, len, &recs, &line);
    ck_assert_msg(why == NULL, "%s at line %d", why, line);
    return records_text(recs);
}

START_TEST(reader_accepts)
{
    ck_assert_str_eq(read_ok("a,b\r\nc,d\r\n"), "a|b;c|d");
    ck_assert_str_eq(read_ok("a,b\nc,d"), "a|b;c|d");              /* LF, no last break */
    ck_assert_str_eq(read_ok("\xEF\xBB\xBF" "id,x\n1,2\n"), "id|x;1|2"); /* BOM */
    ck_assert_str_eq(read_ok("\"a,b\",\"say \"\"hi\"\"\"\n"), "a,b|say \"hi\"");
    ck_assert_str_eq(read_ok("\"two\r\nlines\",z\r\n"), "two\r\nlines|z");
    ck_assert_str_eq(read_ok("a,,\n\n\r\nb\n\n"), "a||;b");     /* empty lines skipped */
    ck_assert_str_eq(read_ok("\"\",x\n"), "|x");
    ck_assert_str_eq(read_ok(""), "");
    /* what the writer writes, the reader reads back */
    const char *vals[] = {"l1\r\nl2", "\"q\"", "=cmd", ","};
    const char *line = tz_csv_header(tz_tp, vals, 4);
    ck_assert_str_eq(read_ok(line), "l1\r\nl2|\"q\"|'=cmd|,");
}
END_TEST

static void read_bad(const char *text, size_t len, const char *want, int want_line)
{
    apr_array_header_t *recs;
    int line = 0;
    const char *why = tz_csv_read(tz_tp, text, len, &recs, &line);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(why, want);
    ck_assert_int_eq(line, want_line);
}

START_TEST(reader_refuses)
{
    read_bad("a,b\n\"open,c\n", 12, "a quoted field is never closed", 2);
    read_bad("a,b\nc\"d,e\n", 10, "a quote inside an unquoted field", 2);
    read_bad("\"a\"b,c\n", 7, "text after a closing quote", 1);
    read_bad("a,b\nc\0d\n", 8, "a NUL byte", 2);
    read_bad("\"x\ny\",1\n\"z\0\"\n", 13, "a NUL byte", 3);
}
END_TEST

START_TEST(columns)
{
    apr_array_header_t *recs;
    int line;
    ck_assert_ptr_null(tz_csv_read(tz_tp, "id,Amount\n1\n", 12, &recs, &line));
    const apr_array_header_t *h = APR_ARRAY_IDX(recs, 0, apr_array_header_t *);
    const apr_array_header_t *r = APR_ARRAY_IDX(recs, 1, apr_array_header_t *);
    ck_assert_int_eq(tz_csv_column(h, "Amount"), 1);
    ck_assert_int_eq(tz_csv_column(h, "amount"), -1);
    ck_assert_str_eq(tz_csv_at(r, 0), "1");
    ck_assert_str_eq(tz_csv_at(r, 1), "");  /* a short record */
    ck_assert_str_eq(tz_csv_at(r, -1), "");
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
    tcase_add_test(tc, reader_accepts);
    tcase_add_test(tc, reader_refuses);
    tcase_add_test(tc, columns);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(csv_suite)
