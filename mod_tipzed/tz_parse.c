/* Strict parsers for directive values and query strings.  Each accepts one
 * canonical spelling so that `apachectl configtest` rejects a typo instead of
 * silently reading part of it (atoi("10x") == 10). */
#include <string.h>
#include <strings.h>
#include "tz_parse.h"

#define TZ_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define TZ_IS_HEX(c) (TZ_IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

/* 2^53: the largest integer every JSON client (doubles) represents exactly. */
#define TZ_MAX_AMOUNT (INT64_C(1) << 53)

/* One object so callers can tell overflow from a malformed number. */
static const char tz_err_range[] = "is out of range";

const char *tz_parse_int64(const char *s, int64_t *out)
{
    int neg = 0;
    uint64_t v = 0, lim;
    if (!s || !*s)
        return "must be an integer";
    if (*s == '-')
        neg = 1, s++;
    if (!TZ_IS_DIGIT(*s))
        return "must be an integer";
    if (s[0] == '0' && (s[1] || neg))
        return "must be an integer without leading zeros";
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (!TZ_IS_DIGIT(*s))
            return "must be an integer";
        /* v * 10 + d <= lim, checked without overflowing v */
        if (v > (lim - (uint64_t)(*s - '0')) / 10)
            return tz_err_range;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    /* negate in unsigned arithmetic: -INT64_MIN is not representable */
    *out = neg ? (int64_t)(~v + 1) : (int64_t)v;
    return NULL;
}

/* A positive integer followed by at most one unit character (0 if none).
 * Returns shape when the text is not of that form. */
static const char *number_unit(const char *s, int64_t *n, char *unit, const char *shape)
{
    char buf[32];
    const char *err;
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len >= sizeof buf)
        return len ? "is too large" : shape;
    memcpy(buf, s, len + 1);
    *unit = 0;
    if (!TZ_IS_DIGIT(buf[len - 1]))
        *unit = buf[len - 1], buf[len - 1] = '\0';
    if ((err = tz_parse_int64(buf, n)))
        return err == tz_err_range ? "is too large" : shape;
    return *n > 0 ? NULL : shape;
}

const char *tz_parse_duration(const char *s, int64_t *secs)
{
    int64_t n, mul;
    char u;
    const char *err = number_unit(s, &n, &u,
                                  "must be a positive duration such as 90, 90s, 15m, 2h or 30d");
    if (err)
        return err;
    switch (u) {
    case 0: case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    default: return "the unit must be s, m, h or d";
    }
    /* the server converts to microseconds (apr_time_t): keep that in range */
    if (n > INT64_MAX / mul / 1000000)
        return "is too large";
    *secs = n * mul;
    return NULL;
}

const char *tz_parse_size(const char *s, int64_t *bytes)
{
    int64_t n, mul;
    char u;
    const char *err = number_unit(s, &n, &u, "must be a positive size such as 65536, 64K or 1M");
    if (err)
        return err;
    switch (u) {
    case 0: mul = 1; break;
    case 'K': mul = 1024; break;
    case 'M': mul = 1024 * 1024; break;
    default: return "the unit must be K or M";
    }
    if (n > (INT64_C(1) << 30) / mul)
        return "must be at most 1024M";
    *bytes = n * mul;
    return NULL;
}

/* Reads up to two decimals after the point into hundredths; -1 on more
 * decimals, -2 on a point without digits. */
static int percent_fraction(const char **c, int64_t *hundredths)
{
    int fd = 0;
    *hundredths = 0;
    if (**c != '.')
        return 0;
    for ((*c)++; TZ_IS_DIGIT(**c); (*c)++, fd++) {
        if (fd == 2)
            return -1;
        *hundredths = *hundredths * 10 + (**c - '0');
    }
    if (fd == 0)
        return -2;
    if (fd == 1)
        *hundredths *= 10;
    return 0;
}

const char *tz_parse_percent(const char *s, int32_t *bps)
{
    static const char *shape = "must be a percentage such as 15, 15% or 2.5%";
    int64_t whole = 0, frac;
    const char *c = s;
    if (!s || !TZ_IS_DIGIT(*s))
        return shape;
    for (; TZ_IS_DIGIT(*c); c++)
        if ((whole = whole * 10 + (*c - '0')) > 100) /* also bounds the loop's growth */
            return "must be between 0 and 100";
    switch (percent_fraction(&c, &frac)) {
    case -1: return "allows at most two decimals";
    case -2: return shape;
    }
    if (*c == '%')
        c++;
    if (*c)
        return shape;
    if (whole * 100 + frac > 10000)
        return "must be between 0 and 100";
    *bps = (int32_t)(whole * 100 + frac);
    return NULL;
}

const char *tz_parse_amount(const char *s, int64_t *out)
{
    int64_t n;
    if (tz_parse_int64(s, &n) || n <= 0)
        return "must be a positive integer of minor units";
    if (n > TZ_MAX_AMOUNT)
        return "must be at most 2^53 (9007199254740992)";
    *out = n;
    return NULL;
}

const char *tz_parse_currency(const char *s)
{
    if (!s || strlen(s) != 3)
        return "must be an ISO 4217 code of three upper-case letters";
    for (int i = 0; i < 3; i++)
        if (s[i] < 'A' || s[i] > 'Z')
            return "must be an ISO 4217 code of three upper-case letters";
    return NULL;
}

const char *tz_parse_flag(const char *s, int *out)
{
    if (s && strcasecmp(s, "on") == 0)
        return *out = 1, NULL;
    if (s && strcasecmp(s, "off") == 0)
        return *out = 0, NULL;
    return "must be On or Off";
}

/* A host as browsers serialise it in Origin: lower-case name or IPv4, or a
 * bracketed IPv6 literal.  Returns the end of the host, or NULL. */
static const char *origin_host(const char *h)
{
    const char *c = h;
    if (*c == '[') {
        for (c++; TZ_IS_HEX(*c) || *c == ':' || *c == '.'; c++)
            ;
        return (*c == ']' && c > h + 1) ? c + 1 : NULL;
    }
    for (; (*c >= 'a' && *c <= 'z') || TZ_IS_DIGIT(*c) || *c == '-' || *c == '.'; c++)
        ;
    return (c > h && *h != '.' && *h != '-' && c[-1] != '-') ? c : NULL;
}

const char *tz_parse_origin(const char *s)
{
    const char *host, *end;
    int64_t port;
    int https;
    if (!s)
        return "must be an origin such as https://app.example.com";
    if (strncmp(s, "https://", 8) == 0)
        host = s + 8, https = 1;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7, https = 0;
    else
        return "must start with https:// or http://";
    /* Origin is compared byte for byte with what the browser sends, so a
     * spelling the browser never produces would silently match nothing. */
    if (!(end = origin_host(host)))
        return "must be scheme://host[:port] with a lower-case host";
    if (*end == '\0')
        return NULL;
    if (*end != ':' || tz_parse_int64(end + 1, &port) || port < 1 || port > 65535)
        return "must be scheme://host[:port] without a path or trailing slash";
    if (port == (https ? 443 : 80))
        return "must omit the scheme's default port (browsers do)";
    return NULL;
}

const char *tz_parse_url(const char *s, int allow_query)
{
    const char *end;
    int64_t port;
    if (!s || (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0))
        return "must be an absolute http:// or https:// URL";
    if (!(end = origin_host(s + (s[4] == 's' ? 8 : 7))))
        return "must name a lower-case host name or an IP address";
    if (*end == ':') {
        const char *digits = ++end;
        port = 0;
        while (TZ_IS_DIGIT(*end) && end - digits < 6)
            port = port * 10 + (*end++ - '0');
        if (end == digits || TZ_IS_DIGIT(*end) || port < 1 || port > 65535)
            return "has an invalid port";
    }
    if (*end && *end != '/' && !(allow_query && *end == '?'))
        return "must be scheme://host[:port][/path]";
    for (const unsigned char *c = (const unsigned char *)end; *c; c++) {
        if (*c <= ' ' || *c >= 0x7f || *c == '"' || *c == '\'' || *c == '<' || *c == '>' ||
            *c == '\\' || *c == '#' || (*c == '?' && !allow_query))
            return allow_query ? "has a character that is not allowed in a URL (or a #fragment)"
                               : "must not have a query, a fragment or unsafe characters";
    }
    return NULL;
}

int tz_is_uuid(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = (i == 8 || i == 13 || i == 18 || i == 23);
        if (dash ? s[i] != '-' : !TZ_IS_HEX(s[i]))
            return 0; /* also stops at the terminator of a short string */
    }
    return s[36] == '\0';
}

int tz_is_idempotency_key(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= 255)
            return 0;
    return n >= 1;
}

/* One pagination parameter: absent takes dflt; anything but a canonical
 * integer within [min, max] is an error. */
static const char *page_value(const char *s, int64_t dflt, int64_t min, int64_t max,
                              const char *msg, int64_t *out)
{
    int64_t v;
    if (!s) {
        *out = dflt;
        return NULL;
    }
    if (tz_parse_int64(s, &v) || v < min || v > max)
        return msg;
    *out = v;
    return NULL;
}

const char *tz_parse_page(const char *limit, const char *offset, int64_t *lim,
                          int64_t *off, const char **field)
{
    const char *err = page_value(limit, 20, 1, 100, "must be an integer between 1 and 100", lim);
    if (err)
        return *field = "limit", err;
    /* bounded so that offset + limit + 1 (the has_more probe) cannot overflow */
    err = page_value(offset, 0, 0, INT64_MAX / 2, "must be an integer >= 0", off);
    if (err)
        return *field = "offset", err;
    return NULL;
}

static int cursor_ok(const char *s, tz_cursor_e kind)
{
    size_t n = strspn(s, "0123456789");
    if (kind == TZ_CURSOR_UUID)
        return tz_is_uuid(s);
    return n == strlen(s) && n >= 1 && n <= 18 && s[0] != '0';
}

const char *tz_parse_list(const char *limit, const char *offset, const char *after,
                          const char *format, tz_cursor_e kind, tz_list_args_t *out,
                          const char **field)
{
    const char *err = tz_parse_page(limit, offset, &out->limit, &out->offset, field);
    if (err)
        return err;
    out->after = after;
    if (after && !cursor_ok(after, kind))
        return *field = "starting_after", "must be the id of an item of this list";
    if (after && offset)
        return *field = "offset", "cannot be combined with starting_after";
    out->csv = format && strcmp(format, "csv") == 0;
    if (format && !out->csv && strcmp(format, "json") != 0)
        return *field = "format", "must be json or csv";
    return NULL;
}
