/* Shared scaffolding for the check unit tests: each test_*.c file is one
 * binary with one suite; a fixture gives every test a fresh APR pool. */
#ifndef TZ_TEST_H
#define TZ_TEST_H
#include <check.h>
#include <stdlib.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

static apr_pool_t *tz_tp; /* the current test's pool */

static void tz_pool_setup(void)
{
    apr_initialize();
    apr_pool_create(&tz_tp, NULL);
}

static void tz_pool_teardown(void)
{
    apr_pool_destroy(tz_tp);
    tz_tp = NULL;
    apr_terminate();
}

/* A tcase with the pool fixture. */
static inline TCase *tz_tcase(const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_add_checked_fixture(tc, tz_pool_setup, tz_pool_teardown);
    tcase_set_timeout(tc, 60);
    return tc;
}

#define TZ_TEST_MAIN(suite_fn)                                   \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(suite_fn());                \
        srunner_run_all(sr, CK_NORMAL);                          \
        int failed = srunner_ntests_failed(sr);                  \
        srunner_free(sr);                                        \
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;        \
    }

#endif
