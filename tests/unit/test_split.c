/* Split payments: the largest-remainder rule on awkward amounts, on the
 * cases of tests/fixtures/split_cases.json (which the SQL rule answers
 * too, tests/integration/test_splits.py), on random shares against a
 * sorting reference; and the checks of a request's "splits". */
#include "tz_test.h"
#include "tz_json.h"
#include "tz_split.h"
#include <string.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))
#define MAX53 (INT64_C(1) << 53)

/* tz_split_amounts, asserting success and that the amounts sum to total */
static void split(int64_t total, const int *bps, size_t n, int64_t *out)
{
    int64_t sum = 0;
    ck_assert_int_eq(tz_split_amounts(total, bps, n, out), 0);
    for (size_t i = 0; i < n; i++)
        sum += out[i];
    ck_assert_msg(sum == total, "the amounts of %lld sum to %lld", (long long)total,
                  (long long)sum);
}

#define EXPECT(total, bps, ...)                                                   \
    do {                                                                          \
        static const int64_t want_[] = {__VA_ARGS__};                             \
        int64_t got_[NELTS(bps)];                                                 \
        split(total, bps, NELTS(bps), got_);                                      \
        for (size_t i_ = 0; i_ < NELTS(bps); i_++)                                \
            ck_assert_msg(got_[i_] == want_[i_], "%s of %lld: [%zu] = %lld, not %lld", \
                          #bps, (long long)(total), i_, (long long)got_[i_],      \
                          (long long)want_[i_]);                                  \
    } while (0)

START_TEST(awkward_amounts)
{
    static const int thirds[] = {3333, 3333, 3334}, thirds_big_first[] = {3334, 3333, 3333};
    static const int halves[] = {5000, 5000}, seventy[] = {7000, 3000}, thirty[] = {3000, 7000};
    static const int tenths[] = {1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000};
    static const int crumbs[] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 9991};
    static const int primes[] = {2, 3, 5, 7, 11, 13, 9959}, whole[] = {10000};
    static const int tiny[] = {1, 9999};
    EXPECT(1, thirds, 0, 0, 1);                 /* the largest remainder */
    EXPECT(1, thirds_big_first, 1, 0, 0);
    EXPECT(2, thirds, 1, 0, 1);                 /* a tie: the first listed */
    EXPECT(101, thirds, 34, 33, 34);            /* 33 each, 2 left: 6734 then 6633 (first) */
    EXPECT(101, thirds_big_first, 34, 34, 33);
    EXPECT(0, halves, 0, 0);
    EXPECT(1, halves, 1, 0);
    EXPECT(2125, seventy, 1488, 637);           /* 1487.5 and 637.5: the first */
    EXPECT(2125, thirty, 638, 1487);
    EXPECT(12345, whole, 12345);
    EXPECT(9, tenths, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0);
    EXPECT(2125, tenths, 213, 213, 213, 213, 213, 212, 212, 212, 212, 212);
    EXPECT(99999, crumbs, 10, 10, 10, 10, 10, 10, 10, 10, 10, 99909);
    EXPECT(7919, primes, 2, 2, 4, 6, 9, 10, 7886);
    /* the maximum amount, 2^53: remainders 6336, 6336, 7328, 2 left */
    EXPECT(MAX53, thirds, INT64_C(3002099511605173), INT64_C(3002099511605172),
           INT64_C(3003000231530647));
    /* no intermediate product overflows, up to the largest int64 */
    EXPECT(INT64_MAX, tiny, INT64_C(922337203685478), INT64_C(9222449699651090329));
}
END_TEST

START_TEST(outside_the_domain)
{
    static const int ok[] = {5000, 5000}, short_[] = {5000, 4999}, over[] = {5001, 5000};
    static const int zero[] = {10000, 0}, neg[] = {10001, -1};
    int64_t out[2] = {-7, -7};
    ck_assert_int_eq(tz_split_amounts(-1, ok, 2, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, short_, 2, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, over, 2, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, zero, 2, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, neg, 2, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, ok, 0, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, NULL, 2, out), -1);
    ck_assert_int_eq(tz_split_amounts(100, ok, 2, NULL), -1);
    ck_assert(out[0] == -7 && out[1] == -7);
}
END_TEST

/* Every case of the file both implementations are held to. */
START_TEST(the_shared_cases)
{
    json_error_t err;
    json_t *doc = json_load_file(TZ_FIXTURES_DIR "/split_cases.json", 0, &err), *c;
    size_t i, j, n_cases;
    ck_assert_msg(doc != NULL, "split_cases.json: %s (line %d)", err.text, err.line);
    n_cases = json_array_size(json_object_get(doc, "cases"));
    ck_assert_uint_ge(n_cases, 30);
    json_array_foreach(json_object_get(doc, "cases"), i, c) {
        json_t *bps = json_object_get(c, "bps"), *want = json_object_get(c, "amounts");
        int b[TZ_SPLIT_MAX];
        int64_t got[TZ_SPLIT_MAX], total = json_integer_value(json_object_get(c, "total"));
        size_t n = json_array_size(bps);
        ck_assert_uint_le(n, TZ_SPLIT_MAX);
        for (j = 0; j < n; j++)
            b[j] = (int)json_integer_value(json_array_get(bps, j));
        split(total, b, n, got);
        for (j = 0; j < n; j++)
            ck_assert_msg(got[j] == json_integer_value(json_array_get(want, j)),
                          "%s: [%zu] = %lld", json_string_value(json_object_get(c, "note")), j,
                          (long long)got[j]);
    }
    json_array_foreach(json_object_get(doc, "invalid"), i, c) {
        json_t *bps = json_object_get(c, "bps");
        int b[TZ_SPLIT_MAX] = {0};
        int64_t got[TZ_SPLIT_MAX];
        for (j = 0; j < json_array_size(bps); j++)
            b[j] = (int)json_integer_value(json_array_get(bps, j));
        ck_assert_msg(tz_split_amounts(json_integer_value(json_object_get(c, "total")), b,
                                       json_array_size(bps), got) == -1,
                      "%s", json_string_value(json_object_get(c, "note")));
    }
    json_decref(doc);
}
END_TEST

/* The rule by its definition: floors, then +1 for the `left` shares
 * first in (remainder descending, position ascending) order. */
static void reference(int64_t total, const int *bps, size_t n, int64_t *out)
{
    size_t order[TZ_SPLIT_MAX];
    int64_t rem[TZ_SPLIT_MAX], left = total;
    for (size_t i = 0; i < n; i++) {
        __int128 x = (__int128)total * bps[i];
        out[i] = (int64_t)(x / TZ_SPLIT_WHOLE);
        rem[i] = (int64_t)(x % TZ_SPLIT_WHOLE);
        left -= out[i];
        order[i] = i;
    }
    for (size_t i = 1; i < n; i++) /* a stable insertion sort by remainder, descending */
        for (size_t j = i; j > 0 && rem[order[j]] > rem[order[j - 1]]; j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t k = 0; k < (size_t)left; k++)
        out[order[k]]++;
}

START_TEST(random_shares_follow_the_definition)
{
    unsigned seed = 20240611;
    for (int round = 0; round < 20000; round++) {
        size_t n = 1 + (size_t)(rand_r(&seed) % TZ_SPLIT_MAX);
        int b[TZ_SPLIT_MAX], left = TZ_SPLIT_WHOLE;
        int64_t got[TZ_SPLIT_MAX], want[TZ_SPLIT_MAX], total;
        for (size_t i = 0; i + 1 < n; i++) {
            b[i] = 1 + rand_r(&seed) % (left - (int)(n - 1 - i));
            left -= b[i];
        }
        b[n - 1] = left;
        total = round % 3 == 0 ? rand_r(&seed) % 50
              : round % 3 == 1 ? rand_r(&seed) % 10000000
                               : ((int64_t)rand_r(&seed) << 22 ^ rand_r(&seed)) % (MAX53 + 1);
        split(total, b, n, got);
        reference(total, b, n, want);
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(got[i] == want[i], "round %d: %lld [%zu]", round, (long long)total, i);
    }
}
END_TEST

/* tz_split_parse on a body's "splits" (JSON text) for primary P. */
#define P "123e4567-e89b-42d3-a456-426614174000"
#define Q "223e4567-e89b-42d3-a456-426614174000"
#define R "323e4567-e89b-42d3-a456-426614174000"

static const char *parse(const char *text, tz_split_t *out, size_t *n)
{
    json_error_t err;
    json_t *v = tz_json_pool(tz_tp, json_loads(text, JSON_DECODE_ANY, &err));
    ck_assert_msg(v != NULL, "%s: %s", text, err.text);
    return tz_split_parse(tz_tp, v, P, out, n);
}

START_TEST(request_splits_accepted)
{
    tz_split_t s[TZ_SPLIT_MAX];
    size_t n = 99;
    ck_assert_ptr_null(tz_split_parse(tz_tp, NULL, P, s, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(parse("null", s, &n));
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(tz_split_json(tz_tp, s, 0));
    ck_assert_ptr_null(parse("[{\"creator_id\":\"" Q "\",\"share_bps\":3000},"
                             "{\"share_bps\":7000,\"creator_id\":\"123E4567-E89B-42D3-A456-426614174000\"}]",
                             s, &n));
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(s[1].creator_id, P); /* in lower case */
    ck_assert_int_eq(s[0].share_bps, 3000);
    ck_assert_str_eq(tz_split_json(tz_tp, s, n),
                     "[{\"creator_id\":\"" Q "\",\"share_bps\":3000},"
                     "{\"creator_id\":\"" P "\",\"share_bps\":7000}]");
    ck_assert_ptr_null(parse("[{\"creator_id\":\"" P "\",\"share_bps\":10000}]", s, &n));
    ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(request_splits_refused)
{
    static const struct { const char *body, *message; } t[] = {
        {"{}", "must be an array of {\"creator_id\", \"share_bps\"}"},
        {"\"x\"", "must be an array of {\"creator_id\", \"share_bps\"}"},
        {"[]", "must name at least one creator"},
        {"[1,2,3,4,5,6,7,8,9,10,11]", "must name at most 10 creators; it names 11"},
        {"[5]", "splits[0] must be an object {\"creator_id\", \"share_bps\"}"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":10000,\"note\":1}]",
         "splits[0].note is not a known field"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":5000},{\"share_bps\":5000}]",
         "splits[1].creator_id must be a UUID"},
        {"[{\"creator_id\":\"nope\",\"share_bps\":10000}]", "splits[0].creator_id must be a UUID"},
        {"[{\"creator_id\":7,\"share_bps\":10000}]", "splits[0].creator_id must be a UUID"},
        {"[{\"creator_id\":\"" P "\"}]",
         "splits[0].share_bps must be an integer between 1 and 10000"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":0}]",
         "splits[0].share_bps must be an integer between 1 and 10000"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":10001}]",
         "splits[0].share_bps must be an integer between 1 and 10000"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":5000.0}]",
         "splits[0].share_bps must be an integer between 1 and 10000"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":\"5000\"}]",
         "splits[0].share_bps must be an integer between 1 and 10000"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":5000},{\"creator_id\":\"" Q "\",\"share_bps\":4999}]",
         "shares must sum to 10000 basis points; they sum to 9999"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":9000},{\"creator_id\":\"" Q "\",\"share_bps\":9000}]",
         "shares must sum to 10000 basis points; they sum to 18000"},
        {"[{\"creator_id\":\"" P "\",\"share_bps\":5000},"
         "{\"creator_id\":\"" P "\",\"share_bps\":5000}]",
         "names creator " P " more than once (splits[0] and splits[1])"},
        {"[{\"creator_id\":\"" Q "\",\"share_bps\":5000},"
         "{\"creator_id\":\"223E4567-E89B-42D3-A456-426614174000\",\"share_bps\":5000}]",
         "names creator " Q " more than once (splits[0] and splits[1])"},
        {"[{\"creator_id\":\"" Q "\",\"share_bps\":5000},{\"creator_id\":\"" R "\",\"share_bps\":5000}]",
         "must include the payment's creator_id (the primary creator)"},
    };
    for (size_t i = 0; i < NELTS(t); i++) {
        tz_split_t s[TZ_SPLIT_MAX];
        size_t n = 99;
        const char *why = parse(t[i].body, s, &n);
        ck_assert_msg(why && strcmp(why, t[i].message) == 0, "%s: %s", t[i].body,
                      why ? why : "(accepted)");
        ck_assert_uint_eq(n, 0);
    }
}
END_TEST

static Suite *split_suite(void)
{
    Suite *s = suite_create("split");
    TCase *rule = tz_tcase("rule"), *request = tz_tcase("request");
    tcase_add_test(rule, awkward_amounts);
    tcase_add_test(rule, outside_the_domain);
    tcase_add_test(rule, the_shared_cases);
    tcase_add_test(rule, random_shares_follow_the_definition);
    tcase_add_test(request, request_splits_accepted);
    tcase_add_test(request, request_splits_refused);
    suite_add_tcase(s, rule);
    suite_add_tcase(s, request);
    return s;
}

TZ_TEST_MAIN(split_suite)
