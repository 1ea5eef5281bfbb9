/* Route matching over a realistic table. */
#include "tz_test.h"
#include "tz_router.h"
#include <string.h>

static const tz_route_t routes[] = {
    {"POST", "/auth/login", "login"},
    {"GET", "/auth/me", "me"},
    {"GET", "/creators/me", "creator_me"},
    {"PUT", "/creators/me", "creator_update"},
    {"GET", "/creators/{id}", "creator"},
    {"POST", "/creators/{id}/follow", "follow"},
    {"DELETE", "/creators/{id}/follow", "unfollow"},
    {"POST", "/payments/{id}/refund", "refund"},
};
#define N (sizeof routes / sizeof routes[0])
#define ID "123e4567-e89b-42d3-a456-426614174000"

static tz_route_result_e match(const char *path, const char *method, tz_route_match_t *m)
{
    return tz_route_match(tz_tp, routes, N, path, method, m);
}

START_TEST(found_routes)
{
    static const struct { const char *path, *method, *data, *id; } t[] = {
        {"/auth/login", "POST", "login", ""}, {"/auth/login/", "POST", "login", ""},
        {"/creators/me", "GET", "creator_me", ""}, {"/creators/me", "PUT", "creator_update", ""},
        {"/creators/" ID, "GET", "creator", ID}, {"/creators/" ID "/", "HEAD", "creator", ID},
        {"/creators/123E4567-E89B-42D3-A456-426614174000", "GET", "creator", ID},
        {"/creators/" ID "/follow", "DELETE", "unfollow", ID}, {"/payments/" ID "/refund", "POST", "refund", ID},
    };
    tz_route_match_t m;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ck_assert_msg(match(t[i].path, t[i].method, &m) == TZ_ROUTE_FOUND, "%s %s", t[i].method, t[i].path);
        ck_assert_str_eq(m.route->data, t[i].data);
        ck_assert_str_eq(m.id, t[i].id);
    }
}
END_TEST

START_TEST(not_found_and_bad_method)
{
    static const char *missing[] = {"", "/", "/auth", "/auth/login//", "//auth/login", "/auth/loginx",
                                    "/creators/not-a-uuid", "/creators/" ID "x", "/creators/" ID "/follow/x",
                                    "/payments//refund"};
    tz_route_match_t m;
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++)
        ck_assert_msg(match(missing[i], "GET", &m) == TZ_ROUTE_NOT_FOUND, "matched '%s'", missing[i]);
    ck_assert_int_eq(match("/auth/login", "GET", &m), TZ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(m.allow, "POST");
    ck_assert_int_eq(match("/creators/me", "DELETE", &m), TZ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(m.allow, "GET, PUT");
    ck_assert_int_eq(match("/creators/" ID "/follow", "GET", &m), TZ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(m.allow, "POST, DELETE");
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tz_tcase("match");
    tcase_add_test(tc, found_routes);
    tcase_add_test(tc, not_found_and_bad_method);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(router_suite)
