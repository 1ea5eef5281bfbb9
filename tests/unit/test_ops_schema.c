/* The bodies of the operator's actions and of DELETE /auth/me: a reason of
 * 1 to 500 characters (it is kept on the user and in the audit log), a
 * password of 1 to 1024, nothing else. */
#include "tz_test.h"
#include "tz_schema.h"
#include <string.h>

/* The first error's field, "" when the body is valid. */
static const char *first_error(const tz_schema_t *s, const char *body)
{
    const char *err;
    json_t *j = tz_json_parse(tz_tp, body, strlen(body), &err);
    json_t *e;
    ck_assert_ptr_nonnull(j);
    e = tz_json_validate(tz_tp, j, s->fields, s->n);
    return e ? json_string_value(json_object_get(json_array_get(e, 0), "field")) : "";
}

START_TEST(reason_is_required_and_bounded)
{
    char body[700];
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, "{\"reason\":\"fraud\"}"), "");
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, "{}"), "reason");
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, "{\"reason\":\"\"}"), "reason");
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, "{\"reason\":null}"), "reason");
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, "{\"reason\":7}"), "reason");
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, "{\"reason\":\"x\",\"note\":\"y\"}"), "note");
    snprintf(body, sizeof body, "{\"reason\":\"%0500d\"}", 0);
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, body), "");
    snprintf(body, sizeof body, "{\"reason\":\"%0501d\"}", 0);
    ck_assert_str_eq(first_error(&tz_schema_ops_reason, body), "reason");
}
END_TEST

START_TEST(deletion_needs_the_password_only)
{
    ck_assert_str_eq(first_error(&tz_schema_me_delete, "{\"password\":\"p\"}"), "");
    ck_assert_str_eq(first_error(&tz_schema_me_delete, "{}"), "password");
    ck_assert_str_eq(first_error(&tz_schema_me_delete, "{\"password\":\"\"}"), "password");
    ck_assert_str_eq(first_error(&tz_schema_me_delete, "{\"password\":[\"p\"]}"), "password");
    ck_assert_str_eq(first_error(&tz_schema_me_delete, "{\"password\":\"p\",\"email\":\"a\"}"),
                     "email");
}
END_TEST

static Suite *ops_schema_suite(void)
{
    Suite *s = suite_create("ops_schema");
    TCase *tc = tz_tcase("ops_schema");
    tcase_add_test(tc, reason_is_required_and_bounded);
    tcase_add_test(tc, deletion_needs_the_password_only);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(ops_schema_suite)
