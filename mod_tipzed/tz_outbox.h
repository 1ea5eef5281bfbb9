/* Rules of outbound deliveries (webhooks to registered URLs, mails) fed
 * from the outbox: when to try again, which addresses a webhook may reach,
 * which endpoint URLs may be registered, and amounts as mail text.  Pure
 * functions, no httpd types. */
#ifndef TZ_OUTBOX_H
#define TZ_OUTBOX_H
#include <stdint.h>
#include <sys/socket.h>
#include <apr_pools.h>

/* Longest endpoint URL accepted. */
#define TZ_WEBHOOK_URL_MAX 2048

/* Seconds to wait before the next attempt after `failed` failed attempts (failed >= 1):
 * d = min(max_interval, 5 * 3^(failed-1)) (no overflow for large failed), with "equal jitter":
 * d/2 + (r mod (d/2 + 1)), r uniform in 0..UINT32_MAX.  Never below 1. */
long long tz_backoff_delay(int failed, long long max_interval, uint32_t r);

/* 1 when an address must not be reached by a webhook unless private targets are allowed:
 * loopback (127/8, ::1), unspecified (0.0.0.0/8, ::), private (10/8, 172.16/12, 192.168/16, fc00::/7),
 * link-local (169.254/16, fe80::/10), CGNAT 100.64/10, multicast/broadcast/reserved (224/4, 240/4),
 * and IPv4-mapped/compat IPv6 (::ffff:a.b.c.d) of any of those; also 192.0.0.0/24, 198.18/15.
 * Also IPv6 multicast (ff00::/8), the deprecated site-local fec0::/10, the NAT64 prefix
 * 64:ff9b::/96 embedding a refused IPv4 address, and any family other than AF_INET/AF_INET6. */
int tz_addr_forbidden(const struct sockaddr *sa);

/* Checks a webhook endpoint URL (parsed by apr_uri_parse): absolute http or https, a host,
 * no userinfo, no fragment, at most 2048 bytes, no control characters or spaces; https is required
 * unless allow_private; a literal IP host that tz_addr_forbidden refuses, or "localhost"/"*.localhost",
 * is refused unless allow_private.  Returns NULL when acceptable, else a short reason (static or from p)
 * fit to show a client, e.g. "must use https", "must not point to a private, loopback or link-local address".
 * Bytes outside printable ASCII are refused too (a URL is ASCII: an IDN host travels as punycode),
 * and so are a port outside 1..65535 and a host with characters no host name or address has.
 * An IPv4 literal is read the way libcurl reads it ("127.1", "0x7f000001" are 127.0.0.1). */
const char *tz_webhook_url_check(apr_pool_t *p, const char *url, int allow_private);

/* Formats minor units as "ZMW 12.50" (two decimals, minus sign for negatives) for mail text.
 * A NULL or empty currency gives the number alone. */
char *tz_money_text(apr_pool_t *p, long long minor, const char *currency);

#endif
