/* The transfer policy: which recipients TipzedTransfers allows, and its
 * spellings. */
#include "tz_test.h"
#include "tz_transfer.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(policy_decisions)
{
    static const struct { int policy; const char *role; int ok; } t[] = {
        {TZ_TRANSFERS_TO_CREATORS, "creator", 1}, {TZ_TRANSFERS_TO_CREATORS, "fan", 0},
        {TZ_TRANSFERS_TO_CREATORS, "admin", 0}, {TZ_TRANSFERS_ANY, "creator", 1},
        {TZ_TRANSFERS_ANY, "fan", 1}, {TZ_TRANSFERS_ANY, "admin", 1},
        {TZ_TRANSFERS_NONE, "creator", 0}, {TZ_TRANSFERS_NONE, "fan", 0},
        {TZ_TRANSFERS_NONE, "admin", 0}, {TZ_TRANSFERS_ANY, NULL, 0},
        {TZ_TRANSFERS_ANY, "", 0}, {TZ_TRANSFERS_ANY, "Creator", 0},
        {TZ_TRANSFERS_TO_CREATORS, "creator ", 0}, {TZ_TRANSFERS_ANY, "root", 0},
        {-1, "creator", 0}, {42, "creator", 0}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_transfer_policy_ok(t[i].policy, t[i].role) == t[i].ok, "%d '%s'",
                      t[i].policy, t[i].role ? t[i].role : "NULL");
}
END_TEST

START_TEST(policy_spellings)
{
    static const struct { const char *s; int rc, policy; } t[] = {
        {"none", 0, TZ_TRANSFERS_NONE}, {"to-creators", 0, TZ_TRANSFERS_TO_CREATORS},
        {"any", 0, TZ_TRANSFERS_ANY}, {"ANY", 0, TZ_TRANSFERS_ANY},
        {"To-Creators", 0, TZ_TRANSFERS_TO_CREATORS}, {"", -1, 0}, {"all", -1, 0},
        {"to_creators", -1, 0}, {"none ", -1, 0}, {NULL, -1, 0}};
    for (size_t i = 0; i < NELTS(t); i++) {
        int p = -7;
        ck_assert_int_eq(tz_transfer_policy_parse(t[i].s, &p), t[i].rc);
        if (t[i].rc == 0)
            ck_assert_int_eq(p, t[i].policy);
    }
    ck_assert_str_eq(tz_transfer_policy_name(TZ_TRANSFERS_NONE), "none");
    ck_assert_str_eq(tz_transfer_policy_name(TZ_TRANSFERS_TO_CREATORS), "to-creators");
    ck_assert_str_eq(tz_transfer_policy_name(TZ_TRANSFERS_ANY), "any");
    ck_assert_ptr_null(tz_transfer_policy_name(3));
    ck_assert_ptr_null(tz_transfer_policy_name(-1));
}
END_TEST

START_TEST(every_role_is_asked)
{
    int n = 0, allowed = 0;
    for (int i = 0; tz_user_roles[i]; i++, n++)
        allowed += tz_transfer_policy_ok(TZ_TRANSFERS_TO_CREATORS, tz_user_roles[i]);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(allowed, 1);
}
END_TEST

static Suite *transfer_suite(void)
{
    Suite *s = suite_create("transfer");
    TCase *tc = tz_tcase("policy");
    tcase_add_test(tc, policy_decisions);
    tcase_add_test(tc, policy_spellings);
    tcase_add_test(tc, every_role_is_asked);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(transfer_suite)
