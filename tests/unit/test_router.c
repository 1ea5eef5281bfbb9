/* Route matching over a realistic table: literal segments, "{id}" UUIDs,
 * "{name}" words, "{hash}" SHA-256 digests, one forgiven trailing slash,
 * HEAD as GET, and the 404/405 distinction. */
#include "tz_test.h"
#include "tz_router.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

/* {id} routes come before /creators/me on purpose: "me" must still not be
 * taken for an id, whatever the order. */
static const tz_route_t routes[] = {
    {"POST", "/auth/login", "login"},
    {"GET", "/auth/me", "me"},
    {"GET", "/creators/{id}", "creator"},
    {"GET", "/creators/me", "creator_me"},
    {"PUT", "/creators/me", "creator_update"},
    {"POST", "/creators/{id}/follow", "follow"},
    {"DELETE", "/creators/{id}/follow", "unfollow"},
    {"POST", "/payments/{id}/refund", "refund"},
    {"POST", "/webhooks/{name}", "webhook"},
    {"GET", "/receipts/{hash}", "receipt"},
};
#define ID "123e4567-e89b-42d3-a456-426614174000"
#define ID_UPPER "123E4567-E89B-42D3-A456-426614174000"
#define ID_MIXED "123e4567-E89B-42d3-A456-426614174000"
#define HASH "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define HASH_UPPER "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"

static tz_route_result_e match(const char *path, const char *method, tz_route_match_t *m)
{
    return tz_route_match(tz_tp, routes, NELTS(routes), path, method, m);
}

START_TEST(found_routes)
{
    static const struct { const char *path, *method, *data, *id; } t[] = {
        {"/auth/login", "POST", "login", ""},
        {"/auth/login/", "POST", "login", ""},
        {"/auth/me", "GET", "me", ""},
        {"/auth/me", "HEAD", "me", ""},
        {"/auth/me/", "HEAD", "me", ""},
        {"/creators/me", "GET", "creator_me", ""},
        {"/creators/me/", "GET", "creator_me", ""},
        {"/creators/me", "PUT", "creator_update", ""},
        {"/creators/" ID, "GET", "creator", ID},
        {"/creators/" ID "/", "GET", "creator", ID},
        {"/creators/" ID, "HEAD", "creator", ID},
        {"/creators/" ID_UPPER, "GET", "creator", ID},
        {"/creators/" ID_MIXED "/", "GET", "creator", ID},
        {"/creators/" ID "/follow", "POST", "follow", ID},
        {"/creators/" ID_UPPER "/follow/", "DELETE", "unfollow", ID},
        {"/payments/" ID "/refund", "POST", "refund", ID},
        {"/payments/" ID_UPPER "/refund/", "POST", "refund", ID},
        {"/webhooks/stripe", "POST", "webhook", "stripe"},
        {"/webhooks/mobile_money/", "POST", "webhook", "mobile_money"},
        {"/webhooks/a", "POST", "webhook", "a"},
        {"/webhooks/abcdefghijklmnopqrstuvwxyz012345", "POST", "webhook",
         "abcdefghijklmnopqrstuvwxyz012345"},
        {"/receipts/" HASH, "GET", "receipt", HASH},
        {"/receipts/" HASH "/", "HEAD", "receipt", HASH},
        {"/receipts/" HASH_UPPER, "GET", "receipt", HASH},
    };
    for (size_t i = 0; i < NELTS(t); i++) {
        tz_route_match_t m;
        ck_assert_msg(match(t[i].path, t[i].method, &m) == TZ_ROUTE_FOUND, "%s %s", t[i].method, t[i].path);
        ck_assert_ptr_nonnull(m.route);
        ck_assert_msg(strcmp(m.route->data, t[i].data) == 0, "%s %s -> %s", t[i].method, t[i].path,
                      (const char *)m.route->data);
        ck_assert_msg(strcmp(m.id, t[i].id) == 0, "%s %s -> id '%s'", t[i].method, t[i].path, m.id);
        ck_assert_ptr_nonnull(m.allow);
    }
}
END_TEST

START_TEST(not_found)
{
    static const char *paths[] = {
        NULL, "", "/", "//", "///", "/auth", "/auth/", "auth/login", "/auth/login//", "//auth/login",
        "/auth//login", "/auth/loginx", "/auth/logi", "/Auth/login", "/AUTH/LOGIN", "/auth/login/x",
        "/creators", "/creators/", "/creators//", "/creators/ME", "/creators/mee",
        "/creators/not-a-uuid", "/creators/" ID "x", "/creators/x" ID,
        "/creators/123e4567e89b42d3a456426614174000", "/creators/{123e4567-e89b-42d3-a456-426614174000}",
        "/creators/123e4567-e89b-42d3-a456-42661417400g", "/creators/123e4567-e89b-42d3-a456-42661417400",
        "/creators/{id}", "/creators/" ID "//", "/creators/" ID "/follow/x", "/creators/" ID "//follow",
        "/creators/me/follow", "/payments//refund", "/payments/" ID, "/payments/" ID "/refund//",
        "/api/v1/auth/login", "/webhooks", "/webhooks/", "/webhooks//", "/webhooks/Stripe",
        "/webhooks/str-ipe", "/webhooks/a.b", "/webhooks/%73", "/webhooks/stripe/x",
        "/webhooks/abcdefghijklmnopqrstuvwxyz0123456", "/webhooks/\xc3\xa9", "/receipts",
        "/receipts/", "/receipts/" HASH "0", "/receipts/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        "/receipts/" ID, "/receipts/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g",
        "/receipts/ 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",
        "/receipts/" HASH "/x", "/receipts//" HASH};
    static const char *methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"};
    for (size_t i = 0; i < NELTS(paths); i++)
        for (size_t j = 0; j < NELTS(methods); j++) {
            tz_route_match_t m;
            ck_assert_msg(match(paths[i], methods[j], &m) == TZ_ROUTE_NOT_FOUND, "%s '%s' matched",
                          methods[j], paths[i] ? paths[i] : "NULL");
            ck_assert_ptr_null(m.route);
            ck_assert_ptr_null(m.allow);
            ck_assert_str_eq(m.id, "");
        }
}
END_TEST

START_TEST(bad_method_lists_allow)
{
    static const struct { const char *path, *method, *allow; } t[] = {
        {"/auth/login", "GET", "POST"},
        {"/auth/login/", "HEAD", "POST"},
        {"/auth/login", "DELETE", "POST"},
        {"/auth/me", "POST", "GET"},
        {"/creators/me", "DELETE", "GET, PUT"},
        {"/creators/me", "POST", "GET, PUT"},
        {"/creators/" ID, "PUT", "GET"},
        {"/creators/" ID "/follow", "GET", "POST, DELETE"},
        {"/creators/" ID "/follow", "HEAD", "POST, DELETE"},
        {"/creators/" ID "/follow", "PATCH", "POST, DELETE"},
        {"/payments/" ID "/refund", "GET", "POST"},
        {"/receipts/" HASH, "POST", "GET"},
        {"/creators/me", "get", "GET, PUT"}, /* methods are case-sensitive (RFC 9110) */
    };
    for (size_t i = 0; i < NELTS(t); i++) {
        tz_route_match_t m;
        ck_assert_msg(match(t[i].path, t[i].method, &m) == TZ_ROUTE_BAD_METHOD, "%s %s", t[i].method, t[i].path);
        ck_assert_ptr_null(m.route);
        ck_assert_msg(m.allow && strcmp(m.allow, t[i].allow) == 0, "%s %s -> allow '%s'", t[i].method,
                      t[i].path, m.allow ? m.allow : "NULL");
    }
}
END_TEST

START_TEST(allow_on_found_and_no_duplicates)
{
    /* several routes of one method on one path are listed once, in table order */
    static const tz_route_t dup[] = {
        {"GET", "/things/{id}", "a"}, {"GET", "/things/{id}", "b"}, {"POST", "/things/{id}", "c"},
        {"GET", "/things/" ID, "d"}, {"PUT", "/things/{id}", "e"}, {"POS", "/things/{id}", "f"}};
    tz_route_match_t m;
    ck_assert_int_eq(tz_route_match(tz_tp, dup, NELTS(dup), "/things/" ID, "GET", &m), TZ_ROUTE_FOUND);
    ck_assert_str_eq(m.route->data, "a"); /* the first matching route wins */
    ck_assert_str_eq(m.allow, "GET, POST, PUT, POS");
    ck_assert_int_eq(tz_route_match(tz_tp, dup, NELTS(dup), "/things/" ID, "DELETE", &m),
                     TZ_ROUTE_BAD_METHOD);
    ck_assert_str_eq(m.allow, "GET, POST, PUT, POS");
    ck_assert_int_eq(match("/creators/me", "PUT", &m), TZ_ROUTE_FOUND);
    ck_assert_str_eq(m.allow, "GET, PUT");
    /* an empty table knows no path */
    ck_assert_int_eq(tz_route_match(tz_tp, routes, 0, "/auth/login", "POST", &m), TZ_ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(id_is_lowercased_copy)
{
    char path[] = "/creators/" ID_UPPER "/follow";
    tz_route_match_t m;
    ck_assert_int_eq(match(path, "POST", &m), TZ_ROUTE_FOUND);
    ck_assert_str_eq(m.id, ID);
    path[10] = '0'; /* the caller's buffer is not referenced */
    ck_assert_str_eq(m.id, ID);
    ck_assert_uint_eq(strlen(m.id), 36);
    ck_assert_int_eq(match("/receipts/" HASH_UPPER, "GET", &m), TZ_ROUTE_FOUND);
    ck_assert_str_eq(m.id, HASH);
    ck_assert_uint_eq(strlen(m.id), 64);
}
END_TEST

/* Who may use a route: its role flags, or every authenticated user. */
START_TEST(roles)
{
    static const struct { unsigned flags; const char *role; int ok; } t[] = {
        {TZ_R_USER, "fan", 1}, {TZ_R_USER, "creator", 1}, {TZ_R_USER, "admin", 1},
        {TZ_R_USER | TZ_R_JSON, "fan", 1}, {TZ_R_FAN, "fan", 1}, {TZ_R_FAN, "creator", 0},
        {TZ_R_FAN, "admin", 0}, {TZ_R_CREATOR, "creator", 1}, {TZ_R_CREATOR, "fan", 0},
        {TZ_R_ADMIN, "admin", 1}, {TZ_R_ADMIN, "creator", 0}, {TZ_R_ADMIN | TZ_R_JSON, "fan", 0},
        {TZ_R_FAN | TZ_R_CREATOR, "creator", 1}, {TZ_R_FAN | TZ_R_CREATOR, "fan", 1},
        {TZ_R_FAN | TZ_R_CREATOR, "admin", 0}, {TZ_R_ADMIN, "Admin", 0}, {TZ_R_ADMIN, "admin ", 0},
        {TZ_R_ADMIN, "", 0}, {TZ_R_ADMIN, NULL, 0}, {TZ_R_USER, NULL, 0}};
    for (size_t i = 0; i < NELTS(t); i++)
        ck_assert_msg(tz_role_allowed(t[i].flags, t[i].role) == t[i].ok, "flags %#x role %s",
                      t[i].flags, t[i].role ? t[i].role : "NULL");
}
END_TEST

static Suite *router_suite(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tz_tcase("match");
    tcase_add_test(tc, found_routes);
    tcase_add_test(tc, not_found);
    tcase_add_test(tc, bad_method_lists_allow);
    tcase_add_test(tc, allow_on_found_and_no_duplicates);
    tcase_add_test(tc, id_is_lowercased_copy);
    tcase_add_test(tc, roles);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(router_suite)
