/* RFC 9457 problem details: shape, type URL, titles, errors array, and that
 * a problem always renders whatever text it is given. */
#include "tz_test.h"
#include "tz_problem.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

START_TEST(titles)
{
    static const struct { int status; const char *title; } t[] = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {409, "Conflict"}, {413, "Content Too Large"},
        {415, "Unsupported Media Type"}, {422, "Unprocessable Content"}, {429, "Too Many Requests"},
        {500, "Internal Server Error"}, {502, "Bad Gateway"}, {503, "Service Unavailable"},
        {504, "Gateway Timeout"}, {418, "Client Error"}, {451, "Client Error"},
        {599, "Server Error"}, {501, "Server Error"}};
    for (size_t i = 0; i < NELTS(t); i++) {
        ck_assert_str_eq(tz_status_title(t[i].status), t[i].title);
        json_t *p = tz_problem_new(tz_tp, t[i].status, "x", "d", NULL);
        ck_assert_str_eq(str(p, "title"), t[i].title);
        ck_assert_int_eq(json_integer_value(json_object_get(p, "status")), t[i].status);
    }
}
END_TEST

START_TEST(shape_and_type_url)
{
    static const char *codes[] = {"not_found", "validation_failed", "invalid_json", "rate_limited"};
    for (size_t i = 0; i < NELTS(codes); i++) {
        json_t *p = tz_problem_new(tz_tp, 400, codes[i], "why", NULL);
        ck_assert_str_eq(str(p, "type"), apr_pstrcat(tz_tp, "https://tipzed.dev/problems/", codes[i], NULL));
        ck_assert_str_eq(str(p, "code"), codes[i]);
        ck_assert_str_eq(str(p, "detail"), "why");
        ck_assert_int_eq(json_object_size(p), 5);
        ck_assert_ptr_null(json_object_get(p, "errors"));
    }
    json_t *q = tz_problem_new(tz_tp, 404, "not_found", NULL, NULL);
    ck_assert_str_eq(tz_json_dump(tz_tp, q), "{\"type\":\"https://tipzed.dev/problems/not_found\","
                     "\"title\":\"Not Found\",\"status\":404,\"detail\":\"Not Found\",\"code\":\"not_found\"}");
}
END_TEST

START_TEST(errors_array)
{
    json_t *errors = tz_problem_field(tz_tp, "amount", "is required");
    ck_assert_int_eq(json_array_size(errors), 1);
    ck_assert_str_eq(tz_json_dump(tz_tp, errors), "[{\"field\":\"amount\",\"message\":\"is required\"}]");
    size_t before = errors->refcount;
    json_t *p = tz_problem_new(tz_tp, 422, "validation_failed", "amount is required", errors);
    ck_assert_ptr_eq(json_object_get(p, "errors"), errors);
    ck_assert_uint_eq(errors->refcount, before + 1); /* referenced, not stolen */
    ck_assert_str_eq(str(p, "title"), "Unprocessable Content");
    ck_assert_int_eq(json_object_size(p), 6);
    ck_assert_str_eq(tz_json_dump(tz_tp, p),
                     "{\"type\":\"https://tipzed.dev/problems/validation_failed\","
                     "\"title\":\"Unprocessable Content\",\"status\":422,\"detail\":\"amount is required\","
                     "\"code\":\"validation_failed\",\"errors\":[{\"field\":\"amount\",\"message\":\"is required\"}]}");
}
END_TEST

START_TEST(always_renders)
{
    /* invalid UTF-8 in any text still yields a complete problem */
    json_t *p = tz_problem_new(tz_tp, 400, "invalid_json", "bad byte \xff near '\xc3'", NULL);
    ck_assert_ptr_nonnull(p);
    ck_assert_str_eq(str(p, "detail"), "bad byte ? near '?'");
    ck_assert_str_eq(str(p, "code"), "invalid_json");
    p = tz_problem_new(tz_tp, 500, NULL, NULL, NULL);
    ck_assert_str_eq(str(p, "code"), "internal_error");
    ck_assert_str_eq(str(p, "type"), "https://tipzed.dev/problems/internal_error");
    ck_assert_str_eq(str(p, "detail"), "Internal Server Error");
    p = tz_problem_new(tz_tp, 400, "", "x", NULL);
    ck_assert_str_eq(str(p, "code"), "error");
    /* valid non-ASCII text is kept as is */
    p = tz_problem_new(tz_tp, 422, "validation_failed", "caf\xc3\xa9", NULL);
    ck_assert_str_eq(str(p, "detail"), "caf\xc3\xa9");
    json_t *e = tz_problem_field(tz_tp, "n\xffme", NULL);
    ck_assert_str_eq(str(json_array_get(e, 0), "field"), "n?me");
    ck_assert_str_eq(str(json_array_get(e, 0), "message"), "is invalid");
}
END_TEST

static Suite *problem_suite(void)
{
    Suite *s = suite_create("problem");
    TCase *tc = tz_tcase("problem");
    tcase_add_test(tc, titles);
    tcase_add_test(tc, shape_and_type_url);
    tcase_add_test(tc, errors_array);
    tcase_add_test(tc, always_renders);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(problem_suite)
