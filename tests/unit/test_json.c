/* Strict JSON parsing (duplicate keys, reals as amounts, unterminated
 * bodies), pool-tied lifetimes, compact
 * output, and request-body validation with field-naming errors. */
#include "tz_test.h"
#include "tz_json.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *parse(const char *s, const char **err)
{
    const char *ignored;
    return tz_json_parse(tz_tp, s, strlen(s), err ? err : &ignored);
}

static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

START_TEST(strict_parsing_rejects)
{
    static const char *bad[] = {
        "{\"a\":1,\"a\":2}",                   /* duplicate keys: last would silently win */
        "{\"o\":{\"b\":1,\"b\":1}}",           /* ... at any depth */
        "{\"a\":1} x", "{\"a\":1}{}", "[] 1",  /* trailing garbage */
        "{\"amount\":9223372036854775808}",    /* beyond 2^63 */
        "{\"amount\":-9223372036854775809}",
        "{\"amount\":99999999999999999999999}",
        "{\"s\":\"a\\u0000b\"}",               /* NUL would truncate C strings */
        "{\"s\":\"\xff\"}", "{\"s\":\"\xc0\xaf\"}", "{\"s\":\"ab\xc3\"}", "{\"\xfe\":1}",
        "{\"s\":\"\xed\xa0\x80\"}",            /* UTF-8 encoded surrogate */
        "{\"s\":\"\\ud800\"}",                 /* lone escaped surrogate */
        "1", "\"s\"", "null", "true", "1.5",   /* top level must be an object or array */
        "", " ", "{", "}", "{\"a\":}", "{\"a\" 1}", "{'a':1}", "{\"a\":1,}", "[1,]",
        "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":01}", "{\"a\":.5}", "{\"a\":\"\x01\"}",
        "\xef\xbb\xbf{}"};
    for (size_t i = 0; i < NELTS(bad); i++) {
        const char *err = NULL;
        ck_assert_msg(parse(bad[i], &err) == NULL, "parsed case %zu", i);
        ck_assert_msg(err && *err, "no error text for case %zu", i);
        /* the text goes back to the client inside a JSON problem */
        ck_assert_msg(printable_ascii(err), "case %zu error is not printable: %s", i, err);
    }
}
END_TEST

START_TEST(strict_parsing_accepts)
{
    static const char *good[] = {
        "{}", "[]", " {\"a\" : 1 } \n", "{\"amount\":9223372036854775807}",
        "{\"amount\":-9223372036854775808}", "{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}",
        "{\"s\":\"\\u00e9\\ud83d\\ude00\"}", "{\"a\":{\"b\":[1,2,{\"c\":null}]}}", "[{\"a\":1},{\"a\":1}]"};
    for (size_t i = 0; i < NELTS(good); i++)
        ck_assert_msg(parse(good[i], NULL) != NULL, "rejected %s", good[i]);
    json_t *j = parse("{\"amount\":9223372036854775807}", NULL);
    ck_assert(json_integer_value(json_object_get(j, "amount")) == INT64_MAX);
}
END_TEST

START_TEST(parse_reads_exactly_len_bytes)
{
    const char *err = NULL;
    static const char buf[] = "{\"a\":1}garbage";
    ck_assert_ptr_nonnull(tz_json_parse(tz_tp, buf, 7, &err));
    ck_assert_ptr_null(tz_json_parse(tz_tp, buf, sizeof buf - 1, &err));
    /* an embedded NUL inside the length is data, not an end */
    static const char nul[] = "{\"a\":1}\0";
    ck_assert_ptr_null(tz_json_parse(tz_tp, nul, sizeof nul - 1, &err));
    ck_assert_ptr_null(tz_json_parse(tz_tp, NULL, 0, &err));
    ck_assert_ptr_null(tz_json_parse(tz_tp, "", 0, NULL)); /* err is optional */
    ck_assert_ptr_null(parse("{\"a\":1,\"a\":2}", &err));
    ck_assert_msg(strstr(err, "duplicate") != NULL, "%s", err);
}
END_TEST

START_TEST(deep_nesting_does_not_crash)
{
    static const size_t depths[] = {10, 500, 2048, 2049, 5000, 200000};
    for (size_t d = 0; d < NELTS(depths); d++) {
        size_t n = depths[d];
        char *buf = apr_palloc(tz_tp, 2 * n);
        const char *err = NULL;
        memset(buf, '[', n);
        memset(buf + n, ']', n);
        json_t *j = tz_json_parse(tz_tp, buf, 2 * n, &err);
        /* jansson's depth limit is 2048: deeper input is an error, not a stack overflow */
        if (n <= 2048)
            ck_assert_msg(j != NULL, "depth %zu rejected: %s", n, err);
        else
            ck_assert_msg(j == NULL && err, "depth %zu accepted", n);
        /* unterminated too */
        ck_assert_ptr_null(tz_json_parse(tz_tp, buf, n, &err));
    }
}
END_TEST

START_TEST(pool_owns_values)
{
    apr_pool_t *sub;
    json_t *j = json_object();
    apr_pool_create(&sub, tz_tp);
    json_incref(j);
    ck_assert_ptr_eq(tz_json_pool(sub, j), j);
    ck_assert_int_eq(j->refcount, 2);
    apr_pool_destroy(sub);
    ck_assert_int_eq(j->refcount, 1); /* the pool's reference was dropped */
    json_decref(j);
    ck_assert_ptr_null(tz_json_pool(tz_tp, NULL));
}
END_TEST

START_TEST(dump_is_compact_pool_memory)
{
    static const struct { const char *in, *out; } t[] = {
        {"{ \"b\" : 1 , \"a\" : [ 1 , 2 ] }", "{\"b\":1,\"a\":[1,2]}"},
        {"{\"s\":\"caf\xc3\xa9\"}", "{\"s\":\"caf\xc3\xa9\"}"},
        {"{\"s\":\"a\\\"b\\\\c\\n\"}", "{\"s\":\"a\\\"b\\\\c\\n\"}"},
        {"[]", "[]"}, {"{}", "{}"}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_str_eq(tz_json_dump(tz_tp, parse(t[i].in, NULL)), t[i].out);
    json_t *n = tz_json_pool(tz_tp, json_integer(42));
    ck_assert_str_eq(tz_json_dump(tz_tp, n), "42");
    ck_assert_str_eq(tz_json_dump(tz_tp, NULL), "null");
    /* a measurement reads as written, not as its 17-digit binary value */
    ck_assert_str_eq(tz_json_dump(tz_tp, tz_json_pool(tz_tp, json_real(2837 / 1000.0))), "2.837");
    ck_assert_str_eq(tz_json_dump(tz_tp, tz_json_pool(tz_tp, json_real(0.1 + 0.2))), "0.3");
}
END_TEST

static const tz_field_t fields[] = {
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"message", TZ_F_STRING, 0, 0, 5},
    {"name", TZ_F_STRING, 1, 1, 0},
    {"count", TZ_F_INT, 0, 1, 10},
    {"flag", TZ_F_BOOL, 0, 0, 0},
    {"note", TZ_F_NULLABLE_STRING, 0, 1, 3},
    {"password", TZ_F_STRING, 0, 10, 128},
    {"list", TZ_F_ARRAY, 0, 0, 0},
};

/* The whole errors array as "field: message; ..." ("" when valid). */
static const char *errors_of(const char *body)
{
    json_t *e = tz_json_validate(tz_tp, parse(body, NULL), fields, NELTS(fields));
    const char *out = "";
    size_t i;
    json_t *x;
    if (!e)
        return "";
    json_array_foreach(e, i, x) {
        out = apr_pstrcat(tz_tp, out, i ? "; " : "", json_string_value(json_object_get(x, "field")),
                          ": ", json_string_value(json_object_get(x, "message")), NULL);
        ck_assert_int_eq(json_object_size(x), 2);
    }
    return out;
}

#define E5 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" /* five code points, ten bytes */
#define SMILEY "\xf0\x9f\x98\x80"                     /* one code point, four bytes */

START_TEST(validation_messages)
{
    static const struct { const char *body, *errors; } t[] = {
        {"{\"amount\":100,\"name\":\"a\"}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"" E5 "\"}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"" SMILEY SMILEY SMILEY SMILEY SMILEY "\"}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"" E5 "x\"}", "message: must be at most 5 characters"},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"123456\"}", "message: must be at most 5 characters"},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"\"}", ""},
        {"{\"amount\":9007199254740992,\"name\":\"a\"}", ""},
        {"{\"name\":\"a\"}", "amount: is required"},
        {"{\"amount\":10.5,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":1e2,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":100.0,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":\"100\",\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":true,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":null,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":[1],\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":0,\"name\":\"a\"}", "amount: must be positive"},
        {"{\"amount\":-5,\"name\":\"a\"}", "amount: must be positive"},
        {"{\"amount\":-9223372036854775808,\"name\":\"a\"}", "amount: must be positive"},
        {"{\"amount\":9007199254740993,\"name\":\"a\"}", "amount: is too large"},
        {"{\"amount\":9223372036854775807,\"name\":\"a\"}", "amount: is too large"},
        {"{\"amount\":1,\"name\":\"\"}", "name: must not be empty"},
        {"{\"amount\":1,\"name\":null}", "name: must be a string"},
        {"{\"amount\":1,\"name\":5}", "name: must be a string"},
        {"{\"amount\":1,\"name\":{}}", "name: must be a string"},
        {"{\"amount\":1,\"name\":\"a\",\"count\":1}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"count\":10}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"count\":0}", "count: must be between 1 and 10"},
        {"{\"amount\":1,\"name\":\"a\",\"count\":11}", "count: must be between 1 and 10"},
        {"{\"amount\":1,\"name\":\"a\",\"count\":2.5}", "count: must be an integer"},
        {"{\"amount\":1,\"name\":\"a\",\"count\":\"2\"}", "count: must be an integer"},
        {"{\"amount\":1,\"name\":\"a\",\"flag\":false}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"flag\":0}", "flag: must be a boolean"},
        {"{\"amount\":1,\"name\":\"a\",\"flag\":\"true\"}", "flag: must be a boolean"},
        {"{\"amount\":1,\"name\":\"a\",\"note\":null}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"note\":\"abc\"}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"note\":\"abcd\"}", "note: must be at most 3 characters"},
        {"{\"amount\":1,\"name\":\"a\",\"note\":\"\"}", "note: must not be empty"},
        {"{\"amount\":1,\"name\":\"a\",\"note\":7}", "note: must be a string"},
        {"{\"amount\":1,\"name\":\"a\",\"password\":\"123456789\"}", "password: must be at least 10 characters"},
        {"{\"amount\":1,\"name\":\"a\",\"password\":\"" E5 E5 "\"}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"list\":[]}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"list\":[1,\"x\",{}]}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"list\":null}", ""},
        {"{\"amount\":1,\"name\":\"a\",\"list\":{}}", "list: must be an array"},
        {"{\"amount\":1,\"name\":\"a\",\"list\":\"[]\"}", "list: must be an array"},
        {"{\"amount\":1,\"name\":\"a\",\"extra\":true}", "extra: " TZ_MSG_UNKNOWN_FIELD},
        {"{\"amount\":1,\"name\":\"a\",\"Amount\":1}", "Amount: " TZ_MSG_UNKNOWN_FIELD},
        {"{}", "amount: is required; name: is required"},
        /* table order first, then unknown keys in body order */
        {"{\"zzz\":1,\"name\":5,\"aaa\":2,\"amount\":\"x\",\"count\":99}",
         "amount: must be an integer; name: must be a string; count: must be between 1 and 10; "
         "zzz: " TZ_MSG_UNKNOWN_FIELD "; aaa: " TZ_MSG_UNKNOWN_FIELD},
        {"[]", "body: must be a JSON object"},
        {"[{\"amount\":1,\"name\":\"a\"}]", "body: must be a JSON object"},
    };
    for (size_t i = 0; i < NELTS(t); i++) {
        const char *got = errors_of(t[i].body);
        ck_assert_msg(strcmp(got, t[i].errors) == 0, "%s -> '%s', want '%s'", t[i].body, got, t[i].errors);
    }
    json_t *e = tz_json_validate(tz_tp, NULL, fields, NELTS(fields));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(e, 0), "field")), "body");
}
END_TEST

START_TEST(getters_and_utf8_length)
{
    static const struct { const char *s; size_t n; } t[] = {
        {"", 0}, {"a", 1}, {"abc", 3}, {"\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {SMILEY, 1},
        {"\xc3\xa9t\xc3\xa9", 3}, {"a" SMILEY "b\xe2\x82\xac", 4}, {E5, 5}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_utf8_len(t[i].s) == t[i].n, "case %zu: %zu", i, tz_utf8_len(t[i].s));
    ck_assert_uint_eq(tz_utf8_len(NULL), 0);
    json_t *j = parse("{\"s\":\"x\",\"n\":7,\"z\":null,\"r\":1.5}", NULL);
    ck_assert_str_eq(tz_json_str(j, "s"), "x");
    ck_assert_ptr_null(tz_json_str(j, "n"));
    ck_assert_ptr_null(tz_json_str(j, "z"));
    ck_assert_ptr_null(tz_json_str(j, "missing"));
    ck_assert_int_eq(tz_json_int(j, "n", -1), 7);
    ck_assert_int_eq(tz_json_int(j, "r", -1), -1);
    ck_assert_int_eq(tz_json_int(j, "z", -1), -1);
    ck_assert_int_eq(tz_json_int(j, "missing", -1), -1);
    ck_assert_ptr_null(tz_json_str(NULL, "s"));
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tz_tcase("json");
    tcase_add_test(tc, strict_parsing_rejects);
    tcase_add_test(tc, strict_parsing_accepts);
    tcase_add_test(tc, parse_reads_exactly_len_bytes);
    tcase_add_test(tc, deep_nesting_does_not_crash);
    tcase_add_test(tc, pool_owns_values);
    tcase_add_test(tc, dump_is_compact_pool_memory);
    tcase_add_test(tc, validation_messages);
    tcase_add_test(tc, getters_and_utf8_length);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(json_suite)
