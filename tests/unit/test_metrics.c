/* Metrics: bounded labels (statuses, methods), latency buckets at their
 * edges, label escaping, the text format of counters, gauges and
 * histograms, and TipzedMetricsAccess's networks and matching. */
#include "tz_test.h"
#include "tz_metrics.h"
#include <math.h>
#include <string.h>

START_TEST(statuses_and_methods)
{
    ck_assert_str_eq(tz_metrics_status_label(tz_metrics_status_index(200)), "200");
    ck_assert_str_eq(tz_metrics_status_label(tz_metrics_status_index(422)), "422");
    ck_assert_str_eq(tz_metrics_status_label(tz_metrics_status_index(504)), "504");
    ck_assert_str_eq(tz_metrics_status_label(tz_metrics_status_index(418)), "other");
    ck_assert_str_eq(tz_metrics_status_label(tz_metrics_status_index(0)), "other");
    ck_assert_str_eq(tz_metrics_status_label(tz_metrics_status_index(99999)), "other");
    ck_assert_uint_eq(tz_metrics_status_index(418), TZ_METRICS_NSTATUS - 1);
    /* every label but "other" names its own index */
    for (size_t i = 0; i + 1 < TZ_METRICS_NSTATUS; i++)
        ck_assert_uint_eq(tz_metrics_status_index(atoi(tz_metrics_status_label(i))), i);
    ck_assert_str_eq(tz_metrics_method_label(tz_metrics_method_index("GET")), "GET");
    ck_assert_str_eq(tz_metrics_method_label(tz_metrics_method_index("OPTIONS")), "OPTIONS");
    ck_assert_str_eq(tz_metrics_method_label(tz_metrics_method_index("get")), "other");
    ck_assert_str_eq(tz_metrics_method_label(tz_metrics_method_index("BREW")), "other");
    ck_assert_str_eq(tz_metrics_method_label(tz_metrics_method_index(NULL)), "other");
    ck_assert_str_eq(tz_metrics_outcome_label(tz_metrics_outcome_index("credited")), "credited");
    ck_assert_str_eq(tz_metrics_outcome_label(tz_metrics_outcome_index("refund_failed")),
                     "refund_failed");
    ck_assert_str_eq(tz_metrics_outcome_label(tz_metrics_outcome_index("dispute_opened+")),
                     "other");
    ck_assert_str_eq(tz_metrics_outcome_label(tz_metrics_outcome_index("")), "other");
    ck_assert_str_eq(tz_metrics_outcome_label(tz_metrics_outcome_index(NULL)), "other");
    ck_assert_uint_eq(tz_metrics_outcome_index("Credited"), TZ_METRICS_NOUTCOME - 1);
}
END_TEST

START_TEST(buckets)
{
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(0)), "0.001");
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(1000)), "0.001"); /* le: inclusive */
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(1001)), "0.0025");
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(99999)), "0.1");
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(1000000)), "1");
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(5000000)), "5");
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(5000001)), "+Inf");
    ck_assert_str_eq(tz_metrics_bucket_label(tz_metrics_bucket(UINT64_MAX)), "+Inf");
    ck_assert_uint_eq(tz_metrics_bucket(UINT64_MAX), TZ_METRICS_NBUCKET - 1);
}
END_TEST

START_TEST(escaping)
{
    const char *kv[] = {"route", "/payments/{id}", "provider", "a\"b\\c\nd"};
    ck_assert_str_eq(tz_metrics_escape(tz_tp, "plain"), "plain");
    ck_assert_str_eq(tz_metrics_escape(tz_tp, "q\"b\\n\n"), "q\\\"b\\\\n\\n");
    ck_assert_str_eq(tz_metrics_escape(tz_tp, NULL), "");
    ck_assert_str_eq(tz_metrics_labels(tz_tp, kv, 0), "");
    ck_assert_str_eq(tz_metrics_labels(tz_tp, kv, 2),
                     "{route=\"/payments/{id}\",provider=\"a\\\"b\\\\c\\nd\"}");
}
END_TEST

START_TEST(text_format)
{
    tz_mtext_t t;
    size_t len;
    const char *kv[] = {"status", "pending"};
    tz_mtext_init(&t, tz_tp);
    tz_mtext_family(&t, "tipzed_x_total", "counter", "Things with a \\ and\na newline \"q\".");
    tz_mtext_u64(&t, "tipzed_x_total", "", 18446744073709551615u);
    tz_mtext_family(&t, "tipzed_g", "gauge", "A gauge.");
    tz_mtext_i64(&t, "tipzed_g", tz_metrics_labels(tz_tp, kv, 1), -5);
    tz_mtext_f(&t, "tipzed_g", "{status=\"a\"}", 2.5);
    tz_mtext_f(&t, "tipzed_g", "{status=\"b\"}", NAN);
    tz_mtext_f(&t, "tipzed_g", "{status=\"c\"}", -INFINITY);
    const char *s = tz_mtext_done(&t, &len);
    ck_assert_uint_eq(len, strlen(s));
    ck_assert_str_eq(s,
        "# HELP tipzed_x_total Things with a \\\\ and\\na newline \"q\".\n"
        "# TYPE tipzed_x_total counter\n"
        "tipzed_x_total 18446744073709551615\n"
        "# HELP tipzed_g A gauge.\n"
        "# TYPE tipzed_g gauge\n"
        "tipzed_g{status=\"pending\"} -5\n"
        "tipzed_g{status=\"a\"} 2.5\n"
        "tipzed_g{status=\"b\"} NaN\n"
        "tipzed_g{status=\"c\"} -Inf\n");
}
END_TEST

START_TEST(histogram)
{
    tz_mtext_t t;
    uint64_t b[TZ_METRICS_NBUCKET] = {0};
    const char *kv[] = {"route", "/health", "method", "GET"};
    b[tz_metrics_bucket(500)] += 2;     /* 0.001 */
    b[tz_metrics_bucket(30000)] += 1;   /* 0.05 */
    b[tz_metrics_bucket(9000000)] += 1; /* +Inf */
    tz_mtext_init(&t, tz_tp);
    tz_mtext_histogram(&t, "tipzed_d_seconds", kv, 2, b, 9031000);
    const char *s = tz_mtext_done(&t, NULL);
    ck_assert_ptr_nonnull(strstr(s, "tipzed_d_seconds_bucket{route=\"/health\",method=\"GET\","
                                    "le=\"0.001\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "le=\"0.025\"} 2\n"));
    ck_assert_ptr_nonnull(strstr(s, "le=\"0.05\"} 3\n"));   /* cumulative */
    ck_assert_ptr_nonnull(strstr(s, "le=\"5\"} 3\n"));
    ck_assert_ptr_nonnull(strstr(s, "le=\"+Inf\"} 4\n"));
    ck_assert_ptr_nonnull(strstr(s, "tipzed_d_seconds_sum{route=\"/health\",method=\"GET\"}"
                                    " 9.031000\n"));
    ck_assert_ptr_nonnull(strstr(s, "tipzed_d_seconds_count{route=\"/health\",method=\"GET\"}"
                                    " 4\n"));
    /* one line per bucket, then _sum and _count */
    size_t lines = 0;
    for (const char *c = s; *c; c++)
        lines += *c == '\n';
    ck_assert_uint_eq(lines, TZ_METRICS_NBUCKET + 2);
}
END_TEST

START_TEST(cidr_parse)
{
    tz_cidr_t c;
    ck_assert_ptr_null(tz_cidr_parse("10.0.0.0/8", &c));
    ck_assert_int_eq(c.family, 4);
    ck_assert_int_eq(c.bits, 8);
    ck_assert_ptr_null(tz_cidr_parse("192.168.1.7", &c));
    ck_assert_int_eq(c.bits, 32);
    ck_assert_ptr_null(tz_cidr_parse("0.0.0.0/0", &c));
    ck_assert_ptr_null(tz_cidr_parse("::1", &c));
    ck_assert_int_eq(c.family, 6);
    ck_assert_int_eq(c.bits, 128);
    ck_assert_ptr_null(tz_cidr_parse("fd00::/8", &c));
    ck_assert_ptr_null(tz_cidr_parse("10.1.2.128/25", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0.1/8", &c));   /* host bits */
    ck_assert_ptr_nonnull(tz_cidr_parse("10.1.2.129/25", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0.0/33", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("::/129", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0.0/", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0.0/8x", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0.0/-1", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0.0/0008", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("10.0.0/8", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("localhost", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("", &c));
    ck_assert_ptr_nonnull(tz_cidr_parse("/8", &c));
}
END_TEST

START_TEST(acl)
{
    tz_metrics_acl_t a;
    char *const all[] = {"all"}, *const all_and[] = {"all", "10.0.0.0/8"};
    char *const nets[] = {"10.0.0.0/8", "2001:db8::/32", "192.168.5.5"};
    char *const later_all[] = {"10.0.0.0/8", "all"}, *const bad[] = {"10.0.0.0/8", "10.0.0.1/8"};
    const char *err;
    ck_assert_ptr_null(tz_metrics_acl_parse(tz_tp, 1, all, &a));
    ck_assert(tz_metrics_acl_allows(&a, "203.0.113.9"));
    ck_assert_ptr_nonnull(tz_metrics_acl_parse(tz_tp, 2, all_and, &a));
    ck_assert_ptr_nonnull(tz_metrics_acl_parse(tz_tp, 2, later_all, &a));
    ck_assert_ptr_nonnull(tz_metrics_acl_parse(tz_tp, 0, nets, &a));
    err = tz_metrics_acl_parse(tz_tp, 2, bad, &a);
    ck_assert_ptr_nonnull(err);
    ck_assert_ptr_nonnull(strstr(err, "'10.0.0.1/8'"));
    ck_assert_ptr_null(tz_metrics_acl_parse(tz_tp, 3, nets, &a));
    ck_assert(tz_metrics_acl_allows(&a, "10.200.3.4"));
    ck_assert(tz_metrics_acl_allows(&a, "::ffff:10.1.1.1")); /* v4-mapped */
    ck_assert(tz_metrics_acl_allows(&a, "2001:db8:1::5"));
    ck_assert(tz_metrics_acl_allows(&a, "192.168.5.5"));
    ck_assert(!tz_metrics_acl_allows(&a, "192.168.5.6"));
    ck_assert(!tz_metrics_acl_allows(&a, "11.0.0.1"));
    ck_assert(!tz_metrics_acl_allows(&a, "127.0.0.1"));
    ck_assert(!tz_metrics_acl_allows(&a, "2001:db9::1"));
    ck_assert(!tz_metrics_acl_allows(&a, "not an address"));
    ck_assert(!tz_metrics_acl_allows(&a, NULL));
    tz_metrics_acl_default(tz_tp, &a);
    ck_assert(tz_metrics_acl_allows(&a, "127.0.0.1"));
    ck_assert(tz_metrics_acl_allows(&a, "127.3.4.5"));
    ck_assert(tz_metrics_acl_allows(&a, "::1"));
    ck_assert(tz_metrics_acl_allows(&a, "::ffff:127.0.0.1"));
    ck_assert(!tz_metrics_acl_allows(&a, "10.0.0.1"));
    ck_assert(!tz_metrics_acl_allows(&a, "::2"));
    ck_assert(!tz_metrics_acl_allows(&a, "128.0.0.1"));
}
END_TEST

START_TEST(acl_edges)
{
    tz_metrics_acl_t a;
    char *const odd[] = {"10.1.2.128/25", "0.0.0.0/0"}, *const v6[] = {"::/0"};
    ck_assert_ptr_null(tz_metrics_acl_parse(tz_tp, 1, odd, &a));
    ck_assert(tz_metrics_acl_allows(&a, "10.1.2.200"));
    ck_assert(!tz_metrics_acl_allows(&a, "10.1.2.127"));
    ck_assert_ptr_null(tz_metrics_acl_parse(tz_tp, 2, odd, &a));
    ck_assert(tz_metrics_acl_allows(&a, "8.8.8.8"));      /* /0: every IPv4 address */
    ck_assert(!tz_metrics_acl_allows(&a, "2001:db8::1")); /* ... and no IPv6 one */
    ck_assert_ptr_null(tz_metrics_acl_parse(tz_tp, 1, v6, &a));
    ck_assert(tz_metrics_acl_allows(&a, "2001:db8::1"));
    ck_assert(!tz_metrics_acl_allows(&a, "8.8.8.8"));
    ck_assert(tz_metrics_acl_allows(&a, "::ffff:8.8.8.8")); /* an IPv6 address as well */
    char *const mapped[] = {"::ffff:10.0.0.0/104"};
    ck_assert_ptr_null(tz_metrics_acl_parse(tz_tp, 1, mapped, &a));
    ck_assert(tz_metrics_acl_allows(&a, "::ffff:10.1.2.3"));
    ck_assert(!tz_metrics_acl_allows(&a, "10.1.2.3")); /* a plain IPv4 client is not IPv6 */
    ck_assert(!tz_metrics_acl_allows(&a, "::ffff:11.1.2.3"));
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tz_tcase("metrics");
    tcase_add_test(tc, statuses_and_methods);
    tcase_add_test(tc, buckets);
    tcase_add_test(tc, escaping);
    tcase_add_test(tc, text_format);
    tcase_add_test(tc, histogram);
    tcase_add_test(tc, cidr_parse);
    tcase_add_test(tc, acl);
    tcase_add_test(tc, acl_edges);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(metrics_suite)
