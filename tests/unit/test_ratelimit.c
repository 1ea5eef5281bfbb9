/* Fixed-window failure counters. */
#include "tz_test.h"
#include "tz_ratelimit.h"
#include <stdlib.h>
#include <stdio.h>

START_TEST(blocks_after_limit_until_window_ends)
{
    void *mem = apr_pcalloc(tz_tp, tz_rl_size(64));
    tz_rl_table_t *t = tz_rl_init(mem, 64);
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(tz_rl_blocked(t, "email:a@x", 1000 + i, 5, 60), 0);
        tz_rl_fail(t, "email:a@x", 1000 + i, 60);
    }
    ck_assert_int_eq(tz_rl_blocked(t, "email:a@x", 1005, 5, 60), 55);
    ck_assert_int_eq(tz_rl_blocked(t, "email:a@x", 1059, 5, 60), 1);
    ck_assert_int_eq(tz_rl_blocked(t, "email:a@x", 1060, 5, 60), 0);
    ck_assert_int_eq(tz_rl_blocked(t, "email:b@x", 1005, 5, 60), 0); /* independent keys */
    tz_rl_reset(t, "email:a@x");
    ck_assert_int_eq(tz_rl_blocked(t, "email:a@x", 1006, 5, 60), 0);
}
END_TEST

START_TEST(full_table_evicts_and_never_grows)
{
    void *mem = apr_pcalloc(tz_tp, tz_rl_size(16));
    tz_rl_table_t *t = tz_rl_init(mem, 16);
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "ip:10.0.%d.%d", i / 256, i % 256);
        tz_rl_fail(t, key, 1000 + i, 60);
    }
    /* the newest keys are kept */
    tz_rl_fail(t, "ip:last", 2000, 60);
    tz_rl_fail(t, "ip:last", 2000, 60);
    ck_assert_int_eq(tz_rl_blocked(t, "ip:last", 2000, 2, 60), 60);
}
END_TEST

static Suite *rl_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tz_tcase("window");
    tcase_add_test(tc, blocks_after_limit_until_window_ends);
    tcase_add_test(tc, full_table_evicts_and_never_grows);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(rl_suite)
