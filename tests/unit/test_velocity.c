/* Velocity limits on payments: the directive's rules, the counters a
 * payment is counted against, the limit cut exactly at the count, the
 * breach recorded once per window, and how keys are shown. */
#include "tz_test.h"
#include "tz_velocity.h"
#include <string.h>

#define T0 1700000000
#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

static tz_rl_table_t *table(unsigned nslots)
{
    return tz_rl_init(apr_palloc(tz_tp, tz_rl_size(nslots)), nslots);
}

START_TEST(rules_parse)
{
    tz_vel_rule_t r;
    ck_assert_ptr_null(tz_vel_rule_parse(tz_tp, "ip", "20", "1m", &r));
    ck_assert_int_eq(r.kind, TZ_VEL_IP);
    ck_assert_uint_eq(r.count, 20);
    ck_assert_int_eq(r.window, 60);
    ck_assert_ptr_null(tz_vel_rule_parse(tz_tp, "creator", "500", "1h", &r));
    ck_assert_int_eq(r.kind, TZ_VEL_CREATOR);
    ck_assert_int_eq(r.window, 3600);
    ck_assert_ptr_null(tz_vel_rule_parse(tz_tp, "instrument", "3", "7d", &r));
    ck_assert_ptr_null(tz_vel_rule_parse(tz_tp, "fan", "1000000", "90", &r));
    ck_assert_int_eq(r.kind, TZ_VEL_FAN);
}
END_TEST

START_TEST(rules_refused)
{
    static const char *const bad[][3] = {
        {"card", "5", "1m"}, {"IP", "5", "1m"}, {"", "5", "1m"},   /* kinds */
        {"ip", "0", "1m"}, {"ip", "-1", "1m"}, {"ip", "x", "1m"}, /* counts */
        {"ip", "1000001", "1m"}, {"ip", "05", "1m"},
        {"ip", "5", "0"}, {"ip", "5", "8d"}, {"ip", "5", "1y"}, {"ip", "5", ""}}; /* windows */
    tz_vel_rule_t r;
    for (size_t i = 0; i < NELTS(bad); i++) {
        const char *why = tz_vel_rule_parse(tz_tp, bad[i][0], bad[i][1], bad[i][2], &r);
        ck_assert_msg(why != NULL, "accepted %s %s %s", bad[i][0], bad[i][1], bad[i][2]);
        /* the message names the argument at fault */
        ck_assert_ptr_nonnull(strstr(why, i < 3 ? "kind" : i < 8 ? "count" : "window"));
    }
}
END_TEST

START_TEST(kinds_and_values)
{
    ck_assert_int_eq(tz_vel_kind_id("instrument"), TZ_VEL_INSTRUMENT);
    ck_assert_int_eq(tz_vel_kind_id("nope"), -1);
    ck_assert_int_eq(tz_vel_kind_id(NULL), -1);
    ck_assert_str_eq(tz_vel_kind_name(TZ_VEL_CREATOR), "creator");
    ck_assert_str_eq(tz_vel_fan_user(tz_tp, "u-1"), "user:u-1");
    /* one mailbox is one guest fan however it is spelled */
    ck_assert_str_eq(tz_vel_fan_email(tz_tp, "Ann@Example.ORG"), "email:ann@example.org");
    ck_assert_str_eq(tz_vel_msisdn(tz_tp, "260971234567"), "msisdn:260971234567");
    ck_assert_ptr_null(tz_vel_msisdn(tz_tp, NULL));
    ck_assert_ptr_null(tz_vel_msisdn(tz_tp, ""));
    ck_assert_str_eq(tz_vel_card(tz_tp, "Xh7fP"), "card:Xh7fP");
    ck_assert_ptr_null(tz_vel_fan_user(tz_tp, NULL));
    ck_assert_ptr_nonnull(strstr(tz_vel_phrase(TZ_VEL_IP), "client address"));
}
END_TEST

/* One counter per rule whose kind has a value; two rules of one kind are
 * two counters (their windows in the key). */
START_TEST(limits_of_a_payment)
{
    tz_vel_rule_t rules[] = {{TZ_VEL_IP, 20, 60}, {TZ_VEL_IP, 200, 3600},
                             {TZ_VEL_CREATOR, 500, 3600}, {TZ_VEL_INSTRUMENT, 3, 600},
                             {TZ_VEL_FAN, 10, 60}};
    tz_vel_subject_t topup = {{"user:f1", "10.0.0.1", NULL, NULL}};
    tz_rl_limit_t l[NELTS(rules)];
    size_t of[NELTS(rules)];
    size_t n = tz_vel_limits(tz_tp, rules, NELTS(rules), &topup, l, of);
    ck_assert_uint_eq(n, 3); /* no creator, no instrument */
    ck_assert_str_eq(l[0].key, "v:ip:60:10.0.0.1");
    ck_assert_str_eq(l[1].key, "v:ip:3600:10.0.0.1");
    ck_assert_str_eq(l[2].key, "v:fan:60:user:f1");
    ck_assert_uint_eq(of[2], 4);
    ck_assert_uint_eq(l[1].limit, 200);
    ck_assert_int_eq(l[1].window, 3600);
    topup.value[TZ_VEL_CREATOR] = "c1";
    topup.value[TZ_VEL_INSTRUMENT] = "msisdn:260971234567";
    ck_assert_uint_eq(tz_vel_limits(tz_tp, rules, NELTS(rules), &topup, l, of), 5);
    ck_assert_str_eq(l[3].key, "v:instrument:600:msisdn:260971234567");
    ck_assert_uint_eq(tz_vel_limits(tz_tp, rules, 0, &topup, l, of), 0);
}
END_TEST

/* A burst from one address passes exactly the count; the creator's own
 * limit refuses another address once reached; the window's end frees. */
START_TEST(cut_at_the_limit)
{
    tz_rl_table_t *t = table(1024);
    tz_vel_rule_t rules[] = {{TZ_VEL_IP, 3, 60}, {TZ_VEL_CREATOR, 5, 3600}};
    tz_vel_subject_t a = {{"user:f1", "10.0.0.1", NULL, "c1"}};
    tz_vel_subject_t b = {{"user:f2", "10.0.0.2", NULL, "c1"}};
    tz_rl_limit_t l[2];
    size_t of[2], which = 9, n;
    int passed = 0;
    for (int i = 0; i < 10; i++) {
        n = tz_vel_limits(tz_tp, rules, 2, &a, l, of);
        passed += tz_rl_attempt_limits(t, l, n, T0, &which) == 0;
    }
    ck_assert_int_eq(passed, 3);
    ck_assert_uint_eq(of[which], 0); /* the address's rule refused */
    n = tz_vel_limits(tz_tp, rules, 2, &b, l, of);
    ck_assert_int_eq(tz_rl_attempt_limits(t, l, n, T0, &which), 0);
    ck_assert_int_eq(tz_rl_attempt_limits(t, l, n, T0, &which), 0);
    ck_assert_int_eq(tz_rl_attempt_limits(t, l, n, T0 + 1, &which), 3599);
    ck_assert_uint_eq(of[which], 1); /* the creator's: 5 in the hour */
    n = tz_vel_limits(tz_tp, rules, 2, &a, l, of);
    ck_assert_int_eq(tz_rl_attempt_limits(t, l, n, T0 + 60, &which), 3540);
    ck_assert_uint_eq(of[which], 1); /* the address is free again, the creator not */
}
END_TEST

/* The marker is counted once per window: the breach is written once
 * however many requests are refused, and again in the next window. */
START_TEST(breach_marker_once_per_window)
{
    tz_rl_table_t *t = table(256);
    tz_rl_limit_t c = {"v:ip:60:10.0.0.1", 3, 60};
    tz_rl_limit_t m = tz_vel_marker(tz_tp, &c);
    ck_assert_str_eq(m.key, "b:v:ip:60:10.0.0.1");
    ck_assert_uint_eq(m.limit, 1);
    ck_assert_int_eq(m.window, 60);
    ck_assert_int_eq(tz_rl_attempt_limits(t, &m, 1, T0, NULL), 0);
    for (int i = 0; i < 50; i++)
        ck_assert_int_ne(tz_rl_attempt_limits(t, &m, 1, T0 + 30, NULL), 0);
    ck_assert_int_eq(tz_rl_attempt_limits(t, &m, 1, T0 + 60, NULL), 0);
}
END_TEST

START_TEST(keys_shown_masked)
{
    ck_assert_str_eq(tz_vel_shown(tz_tp, TZ_VEL_INSTRUMENT, "msisdn:260971234567"),
                     "msisdn:***4567");
    ck_assert_str_eq(tz_vel_shown(tz_tp, TZ_VEL_INSTRUMENT, "card:Xh7fPq2LmN0"), "card:***LmN0");
    /* short values show nothing of themselves */
    ck_assert_str_eq(tz_vel_shown(tz_tp, TZ_VEL_INSTRUMENT, "card:abc1234"), "card:***");
    ck_assert_str_eq(tz_vel_shown(tz_tp, TZ_VEL_INSTRUMENT, "12345678"), "***5678");
    /* the others whole: an operator acts on them */
    ck_assert_str_eq(tz_vel_shown(tz_tp, TZ_VEL_IP, "10.0.0.1"), "10.0.0.1");
    ck_assert_str_eq(tz_vel_shown(tz_tp, TZ_VEL_FAN, "user:f1"), "user:f1");
    ck_assert_ptr_null(tz_vel_shown(tz_tp, TZ_VEL_INSTRUMENT, NULL));
}
END_TEST

START_TEST(list_args)
{
    int64_t from, n;
    const char *field;
    ck_assert_ptr_null(tz_vel_list_args(NULL, NULL, NULL, T0, &from, &n, &field));
    ck_assert_int_eq(from, T0 - 86400);
    ck_assert_int_eq(n, 20);
    ck_assert_ptr_null(tz_vel_list_args("2023-11-14T00:00:00Z", "ip", "100", T0, &from, &n,
                                        &field));
    ck_assert_int_eq(from, 1699920000);
    ck_assert_int_eq(n, 100);
    ck_assert_ptr_nonnull(tz_vel_list_args("yesterday", NULL, NULL, T0, &from, &n, &field));
    ck_assert_str_eq(field, "since");
    ck_assert_ptr_nonnull(tz_vel_list_args("2030-01-01", NULL, NULL, T0, &from, &n, &field));
    ck_assert_str_eq(field, "since"); /* the future */
    ck_assert_ptr_nonnull(tz_vel_list_args("2023-01-01", NULL, NULL, T0, &from, &n, &field));
    ck_assert_str_eq(field, "since"); /* beyond what is kept */
    ck_assert_ptr_nonnull(tz_vel_list_args(NULL, "card", NULL, T0, &from, &n, &field));
    ck_assert_str_eq(field, "kind");
    ck_assert_ptr_nonnull(tz_vel_list_args(NULL, NULL, "0", T0, &from, &n, &field));
    ck_assert_str_eq(field, "limit");
    ck_assert_ptr_nonnull(tz_vel_list_args(NULL, NULL, "101", T0, &from, &n, &field));
    ck_assert_ptr_nonnull(tz_vel_list_args(NULL, NULL, "ten", T0, &from, &n, &field));
}
END_TEST

static Suite *velocity_suite(void)
{
    Suite *s = suite_create("velocity");
    TCase *tc = tz_tcase("rules");
    tcase_add_test(tc, rules_parse);
    tcase_add_test(tc, rules_refused);
    tcase_add_test(tc, kinds_and_values);
    tcase_add_test(tc, limits_of_a_payment);
    tcase_add_test(tc, cut_at_the_limit);
    tcase_add_test(tc, breach_marker_once_per_window);
    tcase_add_test(tc, keys_shown_masked);
    tcase_add_test(tc, list_args);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(velocity_suite)
