/* Fixed-window failure counters in caller memory: blocking, Retry-After
 * countdown, expiry, reset, independent keys, and a full table that evicts
 * instead of growing or crashing. */
#include "tz_test.h"
#include "tz_ratelimit.h"
#include <stdio.h>
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))
#define T0 1700000000 /* a realistic epoch second */

static tz_rl_table_t *table(unsigned nslots)
{
    return tz_rl_init(apr_palloc(tz_tp, tz_rl_size(nslots)), nslots);
}

START_TEST(blocks_after_limit)
{
    static const struct { unsigned limit; int64_t window; } t[] = {{1, 60}, {3, 60}, {5, 60}, {5, 1}, {10, 86400}};
    for (size_t i = 0; i < NELTS(t); i++) {
        tz_rl_table_t *rl = table(64);
        for (unsigned n = 0; n < t[i].limit; n++) {
            ck_assert_msg(tz_rl_blocked(rl, "email:a@x", T0, t[i].limit, t[i].window) == 0,
                          "limit %u blocked after %u failures", t[i].limit, n);
            tz_rl_fail(rl, "email:a@x", T0, t[i].window);
        }
        ck_assert_int_eq(tz_rl_blocked(rl, "email:a@x", T0, t[i].limit, t[i].window), t[i].window);
        /* more failures while blocked do not extend the fixed window */
        tz_rl_fail(rl, "email:a@x", T0, t[i].window);
        ck_assert_int_eq(tz_rl_blocked(rl, "email:a@x", T0, t[i].limit, t[i].window), t[i].window);
        /* a higher limit for the same counts is not reached yet */
        ck_assert_int_eq(tz_rl_blocked(rl, "email:a@x", T0, t[i].limit + 2, t[i].window), 0);
    }
}
END_TEST

START_TEST(retry_after_counts_down_then_unblocks)
{
    tz_rl_table_t *rl = table(64);
    for (int i = 0; i < 5; i++)
        tz_rl_fail(rl, "ip:10.0.0.1", T0 + i, 60); /* the window starts at the first failure */
    for (int64_t now = T0 + 5; now < T0 + 60; now++)
        ck_assert_int_eq(tz_rl_blocked(rl, "ip:10.0.0.1", now, 5, 60), T0 + 60 - now);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:10.0.0.1", T0 + 59, 5, 60), 1);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:10.0.0.1", T0 + 60, 5, 60), 0);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:10.0.0.1", T0 + 3600, 5, 60), 0);
    /* after expiry a failure starts a new window counted from one */
    tz_rl_fail(rl, "ip:10.0.0.1", T0 + 100, 60);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:10.0.0.1", T0 + 100, 5, 60), 0);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:10.0.0.1", T0 + 100, 1, 60), 60);
    /* failures spread over two windows never add up */
    tz_rl_table_t *rl2 = table(64);
    for (int i = 0; i < 8; i++)
        tz_rl_fail(rl2, "k", T0 + i * 20, 60); /* 3 in [T0, T0+60), then a new window */
    ck_assert_int_eq(tz_rl_blocked(rl2, "k", T0 + 140, 5, 60), 0);
}
END_TEST

START_TEST(reset_and_independent_keys)
{
    tz_rl_table_t *rl = table(128);
    static const char *keys[] = {
        "email:a@x", "email:b@x", "ip:10.0.0.1", "ip:10.0.0.2", "",
        "email:a-very-long-shared-prefix-that-exceeds-the-stored-bytes-1@x",
        "email:a-very-long-shared-prefix-that-exceeds-the-stored-bytes-2@x"};
    for (size_t i = 0; i < NELTS(keys); i++)
        for (size_t n = 0; n <= i; n++)
            tz_rl_fail(rl, keys[i], T0, 60); /* key i has i + 1 failures */
    for (size_t i = 0; i < NELTS(keys); i++) {
        ck_assert_msg(tz_rl_blocked(rl, keys[i], T0 + 1, (unsigned)i + 1, 60) == 59, "key %zu", i);
        ck_assert_msg(tz_rl_blocked(rl, keys[i], T0 + 1, (unsigned)i + 2, 60) == 0, "key %zu", i);
    }
    ck_assert_int_eq(tz_rl_blocked(rl, "email:c@x", T0, 1, 60), 0);
    tz_rl_reset(rl, "email:a@x");
    ck_assert_int_eq(tz_rl_blocked(rl, "email:a@x", T0 + 1, 1, 60), 0);
    ck_assert_int_eq(tz_rl_blocked(rl, "email:b@x", T0 + 1, 2, 60), 59); /* untouched */
    tz_rl_reset(rl, "email:never-seen");
    tz_rl_reset(rl, NULL);
    ck_assert_int_eq(tz_rl_blocked(rl, "", T0 + 1, 1, 60), 0); /* NULL is the empty key */
    /* after a reset the key counts afresh */
    tz_rl_fail(rl, "email:a@x", T0 + 2, 60);
    ck_assert_int_eq(tz_rl_blocked(rl, "email:a@x", T0 + 2, 2, 60), 0);
    ck_assert_int_eq(tz_rl_blocked(rl, "email:a@x", T0 + 2, 1, 60), 60);
}
END_TEST

START_TEST(full_table_evicts_soonest_window)
{
    enum { SLOTS = 8 };
    tz_rl_table_t *rl = table(SLOTS);
    char key[32];
    for (int i = 0; i < SLOTS; i++) {
        snprintf(key, sizeof key, "ip:%d", i);
        tz_rl_fail(rl, key, T0 + i, 60); /* key i's window ends at T0 + 60 + i */
    }
    tz_rl_fail(rl, "ip:new", T0 + 10, 60); /* full: evicts ip:0, the soonest end */
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:0", T0 + 10, 1, 60), 0);
    for (int i = 1; i < SLOTS; i++) {
        snprintf(key, sizeof key, "ip:%d", i);
        ck_assert_msg(tz_rl_blocked(rl, key, T0 + 10, 1, 60) == 50 + i, "ip:%d lost", i);
    }
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:new", T0 + 10, 1, 60), 60);
    /* at T0+62 ip:1 and ip:2 have expired: their slots are reused before any live one */
    tz_rl_fail(rl, "ip:later1", T0 + 62, 60);
    tz_rl_fail(rl, "ip:later2", T0 + 62, 60);
    for (int i = 3; i < SLOTS; i++) {
        snprintf(key, sizeof key, "ip:%d", i);
        ck_assert_msg(tz_rl_blocked(rl, key, T0 + 62, 1, 60) == i - 2, "ip:%d evicted", i);
    }
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:new", T0 + 62, 1, 60), 8);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:later1", T0 + 62, 1, 60), 60);
    ck_assert_int_eq(tz_rl_blocked(rl, "ip:later2", T0 + 62, 1, 60), 60);
}
END_TEST

START_TEST(flood_never_grows_or_crashes)
{
    static const unsigned sizes[] = {1, 2, 31, 64, 1024};
    char key[48];
    for (size_t s = 0; s < NELTS(sizes); s++) {
        unsigned n = sizes[s];
        size_t bytes = tz_rl_size(n);
        unsigned char *mem = apr_palloc(tz_tp, bytes + 64);
        memset(mem + bytes, 0xA5, 64); /* guard bytes past the table */
        tz_rl_table_t *rl = tz_rl_init(mem, n);
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof key, "ip:10.%d.%d.%d", i / 65536, (i / 256) % 256, i % 256);
            tz_rl_fail(rl, key, T0 + i / 100, 60);
        }
        for (int g = 0; g < 64; g++)
            ck_assert_msg(mem[bytes + g] == 0xA5, "table of %u wrote past its end", n);
        /* the newest key is always kept and counted exactly */
        tz_rl_fail(rl, "email:victim@x", T0 + 200, 60);
        tz_rl_fail(rl, "email:victim@x", T0 + 200, 60);
        ck_assert_int_eq(tz_rl_blocked(rl, "email:victim@x", T0 + 200, 2, 60), 60);
        ck_assert_int_eq(tz_rl_blocked(rl, "email:victim@x", T0 + 200, 3, 60), 0);
    }
    ck_assert_uint_eq(tz_rl_size(1024) - tz_rl_size(0), 1024 * (tz_rl_size(1) - tz_rl_size(0)));
}
END_TEST

START_TEST(position_independent_and_edge_cases)
{
    /* shared memory maps at different addresses in each process: a copy of
     * the bytes elsewhere must behave the same */
    size_t bytes = tz_rl_size(32);
    tz_rl_table_t *a = table(32);
    for (int i = 0; i < 3; i++)
        tz_rl_fail(a, "email:a@x", T0, 60);
    void *copy = apr_palloc(tz_tp, bytes);
    memcpy(copy, a, bytes);
    memset(a, 0xFF, bytes); /* the original is gone */
    ck_assert_int_eq(tz_rl_blocked(copy, "email:a@x", T0 + 30, 3, 60), 30);
    /* an empty table never blocks and never crashes */
    tz_rl_table_t *none = table(0);
    tz_rl_fail(none, "k", T0, 60);
    tz_rl_reset(none, "k");
    ck_assert_int_eq(tz_rl_blocked(none, "k", T0, 1, 60), 0);
    /* limit 0 disables blocking */
    tz_rl_table_t *rl = table(16);
    tz_rl_fail(rl, "k", T0, 60);
    ck_assert_int_eq(tz_rl_blocked(rl, "k", T0, 0, 60), 0);
    /* a clock stepped backwards never reports more than one window */
    ck_assert_int_eq(tz_rl_blocked(rl, "k", T0 - 3600, 1, 60), 60);
    /* a zero window records nothing that blocks */
    tz_rl_fail(rl, "z", T0, 0);
    ck_assert_int_eq(tz_rl_blocked(rl, "z", T0, 1, 0), 0);
}
END_TEST

/* Attempts are counted before the work: every key counts, a blocked key
 * counts nothing, and a success takes its attempt back. */
START_TEST(attempts_count_first_and_successes_are_taken_back)
{
    tz_rl_table_t *rl = table(64);
    const char *keys[] = {"ip:10.0.0.1", "email:a@x"}, *other[] = {"ip:10.0.0.1", "email:b@x"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tz_rl_attempt(rl, keys, 2, T0, 5, 60), 0);
    /* the sixth attempt, however concurrent the first five were, waits */
    ck_assert_int_eq(tz_rl_attempt(rl, keys, 2, T0 + 1, 5, 60), 59);
    /* the address is blocked for every email, and a blocked attempt counts
     * nothing for the other key */
    ck_assert_int_eq(tz_rl_attempt(rl, other, 2, T0 + 1, 5, 60), 59);
    ck_assert_int_eq(tz_rl_blocked(rl, "email:b@x", T0 + 1, 1, 60), 0);
    /* a success: the address gets one attempt back, the email starts afresh */
    tz_rl_undo(rl, "ip:10.0.0.1", T0 + 1);
    tz_rl_reset(rl, "email:a@x");
    ck_assert_int_eq(tz_rl_attempt(rl, keys, 2, T0 + 1, 5, 60), 0);
    ck_assert_int_eq(tz_rl_attempt(rl, keys, 2, T0 + 1, 5, 60), 59);
    /* undo never goes below zero nor touches an ended window */
    tz_rl_undo(rl, "email:nobody", T0);
    tz_rl_undo(rl, "ip:10.0.0.1", T0 + 60);
    ck_assert_int_eq(tz_rl_attempt(rl, keys, 2, T0 + 60, 5, 60), 0);
    for (int i = 0; i < 10; i++)
        tz_rl_undo(rl, "ip:10.0.0.1", T0 + 61);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(tz_rl_attempt(rl, &keys[0], 1, T0 + 61, 5, 60), 0);
    ck_assert_int_ne(tz_rl_attempt(rl, &keys[0], 1, T0 + 61, 5, 60), 0);
}
END_TEST

/* Each key under its own limit and window: nothing is counted while one
 * is reached, the wait and the index are the longest one's, and a short
 * window frees its key while a long one still holds. */
START_TEST(limits_per_key_count_all_or_none)
{
    tz_rl_table_t *rl = table(256);
    tz_rl_limit_t l[2] = {{"ip:1m", 2, 60}, {"ip:1h", 3, 3600}};
    size_t which = 99;
    ck_assert_int_eq(tz_rl_attempt_limits(rl, l, 2, T0, &which), 0);
    ck_assert_int_eq(tz_rl_attempt_limits(rl, l, 2, T0 + 1, &which), 0);
    ck_assert_uint_eq(which, 99); /* untouched while nothing waits */
    ck_assert_int_eq(tz_rl_attempt_limits(rl, l, 2, T0 + 2, &which), 58);
    ck_assert_uint_eq(which, 0);
    /* the refused attempt counted nowhere: the hour's counter is at 2 */
    ck_assert_int_eq(tz_rl_attempt_limits(rl, l, 2, T0 + 60, &which), 0);
    ck_assert_int_eq(tz_rl_attempt_limits(rl, l, 2, T0 + 61, &which), 3600 - 61);
    ck_assert_uint_eq(which, 1);
    ck_assert_int_eq(tz_rl_attempt_limits(rl, l, 0, T0 + 61, NULL), 0);
}
END_TEST

/* tz_rl_uniform gives every key the one limit, and stops at TZ_RL_MAXKEYS. */
START_TEST(uniform_limits)
{
    const char *keys[TZ_RL_MAXKEYS + 3];
    tz_rl_limit_t out[TZ_RL_MAXKEYS];
    for (size_t i = 0; i < NELTS(keys); i++)
        keys[i] = "k";
    ck_assert_uint_eq(tz_rl_uniform(keys, 2, 5, 60, out), 2);
    ck_assert_str_eq(out[1].key, "k");
    ck_assert_uint_eq(out[1].limit, 5);
    ck_assert_int_eq(out[1].window, 60);
    ck_assert_uint_eq(tz_rl_uniform(keys, NELTS(keys), 5, 60, out), TZ_RL_MAXKEYS);
}
END_TEST

static Suite *rl_suite(void)
{
    Suite *s = suite_create("ratelimit");
    TCase *tc = tz_tcase("window");
    tcase_add_test(tc, blocks_after_limit);
    tcase_add_test(tc, retry_after_counts_down_then_unblocks);
    tcase_add_test(tc, reset_and_independent_keys);
    tcase_add_test(tc, full_table_evicts_soonest_window);
    tcase_add_test(tc, flood_never_grows_or_crashes);
    tcase_add_test(tc, position_independent_and_edge_cases);
    tcase_add_test(tc, attempts_count_first_and_successes_are_taken_back);
    tcase_add_test(tc, limits_per_key_count_all_or_none);
    tcase_add_test(tc, uniform_limits);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(rl_suite)
