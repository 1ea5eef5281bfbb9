/* Delivery rules of the outbox: the backoff's bounds and cap, the address
 * ranges a webhook must not reach (each both ways), endpoint URL checks,
 * and amounts as mail text. */
#include "tz_test.h"
#include "tz_outbox.h"
#include <limits.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#define NELTS(a) (sizeof(a) / sizeof((a)[0]))

/* 5 * 3^(failed-1), capped, computed in floating point as a cross-check. */
static long long step(int failed, long long cap)
{
    long double d = 5;
    for (int i = 1; i < failed && d < (long double)cap; i++)
        d *= 3;
    return d > (long double)cap ? cap : (long long)d;
}

START_TEST(backoff_bounds)
{
    const long long cap = 6 * 3600;
    long long prev_hi = 0;
    for (int f = 1; f <= 40; f++) {
        long long d = step(f, cap);
        long long lo = tz_backoff_delay(f, cap, 0), hi = tz_backoff_delay(f, cap, UINT32_MAX);
        ck_assert_msg(lo == (d / 2 < 1 ? 1 : d / 2), "failed=%d lo=%lld d=%lld", f, lo, d);
        ck_assert_msg(hi >= lo && hi <= d, "failed=%d hi=%lld d=%lld", f, hi, d);
        ck_assert_msg(hi >= prev_hi, "failed=%d: the upper bound went down", f);
        for (uint32_t r = 0; r < 50; r++) {
            long long x = tz_backoff_delay(f, cap, r * 7919u);
            ck_assert(x >= lo && x <= d && x >= 1);
        }
        prev_hi = hi;
    }
    ck_assert_int_eq(tz_backoff_delay(1, cap, 0), 2); /* d = 5: 2..4 */
    ck_assert_int_eq(tz_backoff_delay(1, cap, 2), 4);
    ck_assert_int_eq(tz_backoff_delay(1, cap, 3), 2);
    ck_assert_int_eq(tz_backoff_delay(2, cap, 0), 7); /* d = 15: 7..14 */
    ck_assert_int_eq(tz_backoff_delay(2, cap, 7), 14);
    ck_assert_int_eq(tz_backoff_delay(40, cap, 0), cap / 2); /* the cap */
    ck_assert_int_eq(tz_backoff_delay(40, cap, cap / 2), cap);
    ck_assert_int_eq(tz_backoff_delay(1000000, cap, UINT32_MAX) <= cap, 1);
}
END_TEST

START_TEST(backoff_edges)
{
    ck_assert_int_eq(tz_backoff_delay(0, 3600, 0), 2);   /* treated as the first failure */
    ck_assert_int_eq(tz_backoff_delay(-5, 3600, 0), 2);
    ck_assert_int_eq(tz_backoff_delay(3, 1, 0), 1);       /* never below 1 */
    ck_assert_int_eq(tz_backoff_delay(3, 1, UINT32_MAX), 1);
    ck_assert_int_eq(tz_backoff_delay(3, 0, 0), 1);
    ck_assert_int_eq(tz_backoff_delay(3, -7, 12345), 1);
    ck_assert_int_eq(tz_backoff_delay(3, 2, UINT32_MAX), 1 + (UINT32_MAX % 2));
    ck_assert_int_le(tz_backoff_delay(100, LLONG_MAX, UINT32_MAX), LLONG_MAX);
    ck_assert_int_ge(tz_backoff_delay(100, LLONG_MAX, 0), LLONG_MAX / 2 - 1);
    ck_assert_int_eq(tz_backoff_delay(INT32_MAX, 86400, 0), 43200);
}
END_TEST

static int v4(const char *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    ck_assert_int_eq(inet_pton(AF_INET, s, &a.sin_addr), 1);
    return tz_addr_forbidden((struct sockaddr *)&a);
}

static int v6(const char *s)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6};
    ck_assert_int_eq(inet_pton(AF_INET6, s, &a.sin6_addr), 1);
    return tz_addr_forbidden((struct sockaddr *)&a);
}

/* Each range: its first and last address refused, the neighbours outside allowed. */
START_TEST(ipv4_ranges)
{
    static const char *no[] = {
        "0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0",
        "100.127.255.255", "127.0.0.1", "127.255.255.254", "169.254.0.0", "169.254.169.254",
        "169.254.255.255", "172.16.0.0", "172.31.255.255", "192.0.0.0", "192.0.0.255",
        "192.168.0.0", "192.168.255.255", "198.18.0.0", "198.19.255.255", "224.0.0.1",
        "239.255.255.255", "240.0.0.0", "255.255.255.255"};
    static const char *yes[] = {
        "8.8.8.8", "1.1.1.1", "1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255",
        "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0",
        "172.15.255.255", "172.32.0.0", "191.255.255.255", "192.0.1.0", "192.167.255.255",
        "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255"};
    for (size_t i = 0; i < NELTS(no); i++)
        ck_assert_msg(v4(no[i]) == 1, "%s allowed", no[i]);
    for (size_t i = 0; i < NELTS(yes); i++)
        ck_assert_msg(v4(yes[i]) == 0, "%s refused", yes[i]);
}
END_TEST

START_TEST(ipv6_ranges)
{
    static const char *no[] = {
        "::1", "::", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd12:3456::1",
        "fe80::", "fe80::1", "febf:ffff::1", "fec0::1", "ff02::1", "ff0e::1",
        "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::ffff:192.168.1.1",
        "::ffff:0.0.0.0", "::ffff:100.64.0.1", "::ffff:255.255.255.255", "::10.0.0.1",
        "::127.0.0.1", "::172.16.0.1", "64:ff9b::10.0.0.1", "64:ff9b::127.0.0.1"};
    static const char *yes[] = {
        "2001:4860:4860::8888", "2001:4860::8888", "2606:4700:4700::1111", "fbff::1", "fe00::1",
        "::ffff:8.8.8.8", "::8.8.8.8", "64:ff9b::8.8.8.8", "::2:0:0:1"};
    for (size_t i = 0; i < NELTS(no); i++)
        ck_assert_msg(v6(no[i]) == 1, "%s allowed", no[i]);
    for (size_t i = 0; i < NELTS(yes); i++)
        ck_assert_msg(v6(yes[i]) == 0, "%s refused", yes[i]);
}
END_TEST

START_TEST(other_families)
{
    struct sockaddr sa = {.sa_family = AF_UNIX};
    ck_assert_int_eq(tz_addr_forbidden(&sa), 1);
    ck_assert_int_eq(tz_addr_forbidden(NULL), 1);
}
END_TEST

#define PRIV "must not point to a private, loopback or link-local address"

/* Endpoint URLs, whether private targets are allowed, and the reason (NULL: accepted). */
static const struct { const char *url; int allow; const char *why; } urls[] = {
    {"https://example.com/hooks/tipzed", 0, NULL},
    {"https://example.com:8443/a?b=c&d=%20", 0, NULL},
    {"HTTPS://Example.COM/", 0, NULL},
    {"https://8.8.8.8/hook", 0, NULL},
    {"https://[2001:4860::8888]/hook", 0, NULL},
    {"http://example.com/hook", 0, "must use https"},
    {"http://example.com/hook", 1, NULL},
    {"https://user:pw@example.com/", 0, "must not contain a user name or password"},
    {"https://user@example.com/", 1, "must not contain a user name or password"},
    {"https://@example.com/", 0, "must not contain a user name or password"},
    {"https://example.com/#frag", 0, "must not have a fragment"},
    {"https://example.com/#", 1, "must not have a fragment"},
    {"https:///path", 0, "must name a host"},
    {"https:/path", 0, "must name a host"},
    {"example.com/hook", 0, "must be an absolute http or https URL"},
    {"//example.com/hook", 0, "must be an absolute http or https URL"},
    {"ftp://example.com/", 1, "must be an absolute http or https URL"},
    {"javascript:alert(1)", 1, "must be an absolute http or https URL"},
    {"", 0, "must be an absolute http or https URL"},
    {"https://localhost/", 0, PRIV},
    {"https://LOCALHOST./", 0, PRIV},
    {"https://api.localhost/", 0, PRIV},
    {"http://localhost:8080/", 1, NULL},
    {"https://notlocalhost/", 0, NULL},
    {"https://10.0.0.1/", 0, PRIV},
    {"http://10.0.0.1/", 1, NULL},
    {"https://[::1]/", 0, PRIV},
    {"https://[::1]:8443/", 1, NULL},
    {"https://[::ffff:127.0.0.1]/", 0, PRIV},
    {"https://169.254.169.254/latest/meta-data", 0, PRIV},
    {"https://127.1/", 0, PRIV},
    {"https://0x7f000001/", 0, PRIV},
    {"https://2130706433/", 0, PRIV},
    {"https://0/", 0, PRIV},
    {"https://127.0.0.1./", 0, PRIV},
    {"https://exa mple.com/", 0, "must not contain spaces, control characters or non-ASCII bytes"},
    {"https://example.com/a b", 1, "must not contain spaces, control characters or non-ASCII bytes"},
    {"https://example.com/\r\nX: y", 0, "must not contain spaces, control characters or non-ASCII bytes"},
    {"https://example.com/\t", 0, "must not contain spaces, control characters or non-ASCII bytes"},
    {"https://ex\xc3\xa4mple.com/", 0, "must not contain spaces, control characters or non-ASCII bytes"},
    {"https://example.com:99999/", 0, "must have a port between 1 and 65535"},
    {"https://example.com:0/", 0, "must have a port between 1 and 65535"},
    {"https://example.com:/", 0, "must have a port between 1 and 65535"},
    {"https://example.com:abc/", 0, "is not a valid URL"},
    {"https://[fe80::1%25eth0]/", 1, "must name a valid host"},
    {"https://exa%6dple.com/", 0, "must name a valid host"},
};

START_TEST(webhook_urls)
{
    char *long_url = apr_pstrcat(tz_tp, "https://example.com/", NULL);
    char pad[2100];
    for (size_t i = 0; i < NELTS(urls); i++) {
        const char *why = tz_webhook_url_check(tz_tp, urls[i].url, urls[i].allow);
        if (!urls[i].why)
            ck_assert_msg(!why, "'%s' (allow %d): %s", urls[i].url, urls[i].allow, why);
        else
            ck_assert_msg(why && strcmp(why, urls[i].why) == 0, "'%s' (allow %d): %s", urls[i].url,
                          urls[i].allow, why ? why : "accepted");
    }
    ck_assert_str_eq(tz_webhook_url_check(tz_tp, NULL, 1), "must be an absolute http or https URL");
    /* 2048 bytes is the limit, one more is refused */
    memset(pad, 'a', sizeof pad);
    pad[TZ_WEBHOOK_URL_MAX - strlen(long_url)] = '\0';
    long_url = apr_pstrcat(tz_tp, long_url, pad, NULL);
    ck_assert_uint_eq(strlen(long_url), TZ_WEBHOOK_URL_MAX);
    ck_assert_ptr_null(tz_webhook_url_check(tz_tp, long_url, 0));
    ck_assert_str_eq(tz_webhook_url_check(tz_tp, apr_pstrcat(tz_tp, long_url, "a", NULL), 1),
                     "must be at most 2048 bytes");
}
END_TEST

START_TEST(money_text)
{
    ck_assert_str_eq(tz_money_text(tz_tp, 1250, "ZMW"), "ZMW 12.50");
    ck_assert_str_eq(tz_money_text(tz_tp, 5, "USD"), "USD 0.05");
    ck_assert_str_eq(tz_money_text(tz_tp, 0, "ZMW"), "ZMW 0.00");
    ck_assert_str_eq(tz_money_text(tz_tp, -1250, "ZMW"), "ZMW -12.50");
    ck_assert_str_eq(tz_money_text(tz_tp, -7, "ZMW"), "ZMW -0.07");
    ck_assert_str_eq(tz_money_text(tz_tp, 123456789, "EUR"), "EUR 1234567.89");
    ck_assert_str_eq(tz_money_text(tz_tp, LLONG_MIN, "X"), "X -92233720368547758.08");
    ck_assert_str_eq(tz_money_text(tz_tp, 100, NULL), "1.00");
    ck_assert_str_eq(tz_money_text(tz_tp, 100, ""), "1.00");
}
END_TEST

static Suite *outbox_suite(void)
{
    Suite *s = suite_create("outbox");
    TCase *tc = tz_tcase("rules");
    tcase_add_test(tc, backoff_bounds);
    tcase_add_test(tc, backoff_edges);
    tcase_add_test(tc, ipv4_ranges);
    tcase_add_test(tc, ipv6_ranges);
    tcase_add_test(tc, other_families);
    tcase_add_test(tc, webhook_urls);
    tcase_add_test(tc, money_text);
    suite_add_tcase(s, tc);
    return s;
}

TZ_TEST_MAIN(outbox_suite)
