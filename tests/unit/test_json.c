/* Strict JSON parsing and field validation; problem rendering. */
#include "tz_test.h"
#include "tz_json.h"
#include "tz_problem.h"
#include <string.h>

static json_t *parse(const char *s)
{
    const char *err;
    return tz_json_parse(tz_tp, s, strlen(s), &err);
}

START_TEST(strict_parsing)
{
    static const char *bad[] = {"{\"a\":1,\"a\":2}", "{\"a\":1} x", "{\"amount\":9223372036854775808}",
                                "{\"s\":\"a\\u0000b\"}", "{\"s\":\"\xff\"}", "{", "", "1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(bad[i]) == NULL, "parsed %s", bad[i]);
    ck_assert_ptr_nonnull(parse("{\"amount\":9223372036854775807}"));
    /* deep nesting is refused by the parser's depth limit, not a crash */
    char deep[5000];
    memset(deep, '[', 2500);
    memset(deep + 2500, ']', 2500);
    const char *err;
    ck_assert_ptr_null(tz_json_parse(tz_tp, deep, sizeof deep, &err));
}
END_TEST

static const tz_field_t fields[] = {
    {"amount", TZ_F_AMOUNT, 1, 0, 0},
    {"message", TZ_F_STRING, 0, 0, 5},
    {"name", TZ_F_STRING, 1, 1, 0},
    {"count", TZ_F_INT, 0, 1, 10},
};

static const char *first_error(const char *body)
{
    json_t *e = tz_json_validate(tz_tp, parse(body), fields, 4);
    if (!e)
        return NULL;
    json_t *x = json_array_get(e, 0);
    return apr_pstrcat(tz_tp, json_string_value(json_object_get(x, "field")), ": ",
                       json_string_value(json_object_get(x, "message")), NULL);
}

START_TEST(validation)
{
    static const struct { const char *body, *error; } t[] = {
        {"{\"amount\":100,\"name\":\"a\"}", NULL},
        {"{\"amount\":100,\"name\":\"a\",\"message\":\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"}", NULL},
        {"{\"name\":\"a\"}", "amount: is required"},
        {"{\"amount\":10.5,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":1e2,\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":\"100\",\"name\":\"a\"}", "amount: must be an integer"},
        {"{\"amount\":0,\"name\":\"a\"}", "amount: must be positive"},
        {"{\"amount\":-5,\"name\":\"a\"}", "amount: must be positive"},
        {"{\"amount\":9007199254740993,\"name\":\"a\"}", "amount: is too large"},
        {"{\"amount\":1,\"name\":\"\"}", "name: must not be empty"},
        {"{\"amount\":1,\"name\":\"a\",\"message\":\"123456\"}", "message: must be at most 5 characters"},
        {"{\"amount\":1,\"name\":\"a\",\"count\":11}", "count: must be between 1 and 10"},
        {"{\"amount\":1,\"name\":\"a\",\"extra\":true}", "extra: is not a known field"},
        {"{\"amount\":1,\"name\":null}", "name: must be a string"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        const char *got = first_error(t[i].body);
        if (!t[i].error)
            ck_assert_msg(got == NULL, "%s -> %s", t[i].body, got);
        else
            ck_assert_msg(got && strcmp(got, t[i].error) == 0, "%s -> %s", t[i].body, got ? got : "ok");
    }
    ck_assert_uint_eq(tz_utf8_len("\xc3\xa9t\xc3\xa9"), 3);
}
END_TEST

START_TEST(problem_shape)
{
    json_t *p = tz_problem_new(tz_tp, 422, "validation_failed", "amount is required",
                               tz_problem_field(tz_tp, "amount", "is required"));
    ck_assert_str_eq(json_string_value(json_object_get(p, "type")),
                     "https://tipzed.dev/problems/validation_failed");
    ck_assert_str_eq(json_string_value(json_object_get(p, "title")), "Unprocessable Content");
    ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), 422);
    ck_assert_str_eq(json_string_value(json_object_get(p, "code")), "validation_failed");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(p, "errors"), 0), "field")), "amount");
    ck_assert_str_eq(tz_status_title(413), "Content Too Large");
    ck_assert_str_eq(tz_status_title(429), "Too Many Requests");
    json_t *q = tz_problem_new(tz_tp, 404, "not_found", NULL, NULL);
    ck_assert_ptr_null(json_object_get(q, "errors"));
    ck_assert_str_eq(tz_json_dump(tz_tp, q), "{\"type\":\"https://tipzed.dev/problems/not_found\","
                     "\"title\":\"Not Found\",\"status\":404,\"detail\":\"Not Found\",\"code\":\"not_found\"}");
}
END_TEST

static Suite *json_suite(void)
{
    Suite *s = suite_create("json");
    TCase *tc = tz_tcase("json");
    tcase_add_test(tc, strict_parsing);
    tcase_add_test(tc, validation);
    tcase_add_test(tc, problem_shape);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(json_suite)
