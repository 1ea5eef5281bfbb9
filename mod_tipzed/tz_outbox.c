/* Delivery rules of the outbox (see tz_outbox.h).  The address rules are
 * the SSRF guard of webhooks: a registered URL must not make this server
 * reach into its own network, so both the URL check (at registration) and
 * the connect-time check (tz_http_batch) ask tz_addr_forbidden. */
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <apr_strings.h>
#include <apr_uri.h>
#include "tz_outbox.h"
#include "tz_provider.h"

#define TZ_BACKOFF_BASE 5

long long tz_backoff_delay(int failed, long long max_interval, uint32_t r)
{
    long long d = TZ_BACKOFF_BASE, half, out;
    if (max_interval < 1)
        max_interval = 1;
    /* multiplied step by step and stopped at the cap: 3^(failed-1) itself
     * overflows long long from failed = 41 on */
    for (int i = 1; i < failed && d < max_interval; i++)
        d = d > max_interval / 3 ? max_interval : d * 3;
    if (d > max_interval)
        d = max_interval;
    half = d / 2;
    /* "equal jitter": never sooner than half the step, so a failing endpoint
     * still backs off, while retries of many events spread out */
    out = half + (long long)(r % (uint64_t)(half + 1));
    return out < 1 ? 1 : out;
}

/* Host-order IPv4 address a in prefix/len. */
static int tz_in4(uint32_t a, uint32_t prefix, int len)
{
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    return (a & mask) == (prefix & mask);
}

static int tz_v4_forbidden(uint32_t a)
{
    static const struct { uint32_t prefix; int len; } nets[] = {
        {0x00000000u, 8},  /* 0.0.0.0/8: "this network", the unspecified address */
        {0x0a000000u, 8},  /* 10/8 */
        {0x64400000u, 10}, /* 100.64/10: carrier-grade NAT */
        {0x7f000000u, 8},  /* 127/8 */
        {0xa9fe0000u, 16}, /* 169.254/16: link-local, cloud metadata services */
        {0xac100000u, 12}, /* 172.16/12 */
        {0xc0000000u, 24}, /* 192.0.0/24: IETF protocol assignments */
        {0xc0a80000u, 16}, /* 192.168/16 */
        {0xc6120000u, 15}, /* 198.18/15: benchmarking */
        {0xe0000000u, 4},  /* 224/4: multicast */
        {0xf0000000u, 4},  /* 240/4: reserved, and the broadcast address */
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
        if (tz_in4(a, nets[i].prefix, nets[i].len))
            return 1;
    return 0;
}

/* The IPv4 address an IPv6 address carries in its last 32 bits. */
static uint32_t tz_v6_tail(const unsigned char *b)
{
    return (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
}

static int tz_v6_forbidden(const struct in6_addr *a6)
{
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    const unsigned char *b = a6->s6_addr;
    /* ::a.b.c.d (compatible, which covers :: and ::1 as 0.0.0.0 and 0.0.0.1),
     * ::ffff:a.b.c.d (mapped) and 64:ff9b::a.b.c.d (NAT64) all end up at the
     * IPv4 address, so they are judged by it */
    if (memcmp(b, zero, 12) == 0 || memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return tz_v4_forbidden(tz_v6_tail(b));
    return (b[0] & 0xfe) == 0xfc                   /* fc00::/7: unique local */
           || (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10: link-local */
           || (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10: old site-local */
           || b[0] == 0xff;                           /* ff00::/8: multicast */
}

int tz_addr_forbidden(const struct sockaddr *sa)
{
    if (!sa)
        return 1;
    if (sa->sa_family == AF_INET)
        return tz_v4_forbidden(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
    if (sa->sa_family == AF_INET6)
        return tz_v6_forbidden(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
    return 1; /* a Unix socket or anything else is never a public endpoint */
}

char *tz_money_text(apr_pool_t *p, long long minor, const char *currency)
{
    char *num = tz_minor_to_decimal(p, (int64_t)minor);
    return currency && *currency ? apr_pstrcat(p, currency, " ", num, NULL) : num;
}

/* Printable ASCII only: spaces and control characters could split a request
 * line or a log line, and a URL has no other bytes. */
static int tz_url_bytes_ok(const char *url)
{
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= ' ' || *c >= 0x7f)
            return 0;
    return 1;
}

/* An empty port or one outside 1..65535 (apr_uri_parse wraps 99999 round). */
static int tz_port_ok(const char *port)
{
    long v = 0;
    if (!port)
        return 1;
    if (!*port || strlen(port) > 5)
        return 0;
    for (const char *c = port; *c; c++) {
        if (*c < '0' || *c > '9')
            return 0;
        v = v * 10 + (*c - '0');
    }
    return v >= 1 && v <= 65535;
}

/* Letters, digits, '-', '_' and '.' for a name; an IPv6 literal (which
 * apr_uri_parse gives without its brackets) must read as one: this also
 * refuses zone ids ("fe80::1%25eth0"), whose meaning is this host's. */
static int tz_host_chars_ok(const char *host)
{
    struct in6_addr a6;
    if (strchr(host, ':'))
        return inet_pton(AF_INET6, host, &a6) == 1;
    for (const char *c = host; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '-' || *c == '_' || *c == '.'))
            return 0;
    return 1;
}

/* 1 when host (without a trailing dot) names this machine or a refused
 * address: "localhost", "*.localhost", or a literal the guard refuses.
 * IPv4 literals are read with inet_aton, which accepts the short, octal and
 * hex forms libcurl also accepts ("127.1", "0x7f.1", "2130706433"). */
static int tz_host_private(apr_pool_t *p, const char *host)
{
    char *h = apr_pstrdup(p, host);
    size_t n = strlen(h);
    struct sockaddr_in a4 = {.sin_family = AF_INET};
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
    if (n > 0 && h[n - 1] == '.')
        h[--n] = '\0';
    if (strcasecmp(h, "localhost") == 0 ||
        (n > 10 && strcasecmp(h + n - 10, ".localhost") == 0))
        return 1;
    if (strchr(h, ':'))
        return inet_pton(AF_INET6, h, &a6.sin6_addr) == 1 &&
               tz_addr_forbidden((struct sockaddr *)&a6);
    return inet_aton(h, &a4.sin_addr) != 0 && tz_addr_forbidden((struct sockaddr *)&a4);
}

/* The shape every endpoint URL must have, private targets or not. */
static const char *tz_url_shape(const apr_uri_t *u)
{
    if (!u->scheme || (strcasecmp(u->scheme, "https") != 0 && strcasecmp(u->scheme, "http") != 0))
        return "must be an absolute http or https URL";
    if (!u->hostname || !*u->hostname)
        return "must name a host";
    if (u->user || u->password)
        return "must not contain a user name or password";
    if (u->fragment)
        return "must not have a fragment";
    if (!tz_port_ok(u->port_str))
        return "must have a port between 1 and 65535";
    if (!tz_host_chars_ok(u->hostname))
        return "must name a valid host";
    return NULL;
}

const char *tz_webhook_url_check(apr_pool_t *p, const char *url, int allow_private)
{
    apr_uri_t u;
    const char *why;
    if (!url || !*url)
        return "must be an absolute http or https URL";
    if (strlen(url) > TZ_WEBHOOK_URL_MAX)
        return "must be at most 2048 bytes";
    if (!tz_url_bytes_ok(url))
        return "must not contain spaces, control characters or non-ASCII bytes";
    if (apr_uri_parse(p, url, &u) != APR_SUCCESS)
        return "is not a valid URL";
    if ((why = tz_url_shape(&u)))
        return why;
    if (allow_private)
        return NULL;
    if (strcasecmp(u.scheme, "https") != 0)
        return "must use https";
    if (tz_host_private(p, u.hostname))
        return "must not point to a private, loopback or link-local address";
    return NULL;
}
