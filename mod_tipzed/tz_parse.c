/* Strict parsers for directive values and query strings. */
#include <string.h>
#include <ctype.h>
#include "tz_parse.h"

const char *tz_parse_int64(const char *s, int64_t *out)
{
    int neg = 0;
    uint64_t v = 0, lim;
    if (!s || !*s)
        return "must be an integer";
    if (*s == '-')
        neg = 1, s++;
    if (!*s || (s[0] == '0' && s[1]))
        return "must be an integer without leading zeros";
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return "must be an integer";
        if (v > (lim - (uint64_t)(*s - '0')) / 10)
            return "is out of range";
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return NULL;
}

/* A positive number followed by at most one unit character. */
static const char *number_unit(const char *s, int64_t *n, char *unit)
{
    char buf[32];
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len >= sizeof buf)
        return "must be a number with an optional unit";
    memcpy(buf, s, len + 1);
    *unit = 0;
    if (!isdigit((unsigned char)buf[len - 1]))
        *unit = buf[len - 1], buf[len - 1] = '\0';
    if (tz_parse_int64(buf, n) || *n <= 0)
        return "must be a positive number with an optional unit";
    return NULL;
}

const char *tz_parse_duration(const char *s, int64_t *secs)
{
    int64_t n, mul;
    char u;
    const char *err = number_unit(s, &n, &u);
    if (err)
        return err;
    switch (u) {
    case 0: case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    default: return "the unit must be s, m, h or d";
    }
    if (n > INT64_MAX / mul / 1000000)
        return "is too large";
    *secs = n * mul;
    return NULL;
}

const char *tz_parse_size(const char *s, int64_t *bytes)
{
    int64_t n, mul;
    char u;
    const char *err = number_unit(s, &n, &u);
    if (err)
        return err;
    switch (u) {
    case 0: mul = 1; break;
    case 'K': case 'k': mul = 1024; break;
    case 'M': case 'm': mul = 1024 * 1024; break;
    default: return "the unit must be K or M";
    }
    if (n > (INT64_C(1) << 30) / mul)
        return "must be at most 1 GiB";
    *bytes = n * mul;
    return NULL;
}

const char *tz_parse_percent(const char *s, int32_t *bps)
{
    int64_t whole = 0, frac = 0;
    int digits = 0, fd = 0;
    const char *c = s;
    if (!s || !*s)
        return "must be a percentage such as 15% or 2.5%";
    for (; isdigit((unsigned char)*c); c++, digits++)
        if ((whole = whole * 10 + (*c - '0')) > 100)
            return "must be between 0 and 100";
    if (*c == '.') {
        for (c++; isdigit((unsigned char)*c); c++, fd++) {
            if (fd >= 2)
                return "allows at most two decimals";
            frac = frac * 10 + (*c - '0');
        }
    }
    if (fd == 1)
        frac *= 10;
    if (*c == '%')
        c++;
    if (!digits || *c || (s[digits] == '.' && fd == 0))
        return "must be a percentage such as 15% or 2.5%";
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
    if (n > (INT64_C(1) << 53))
        return "must be at most 2^53";
    *out = n;
    return NULL;
}

const char *tz_parse_currency(const char *s)
{
    if (!s || strlen(s) != 3 || !isupper((unsigned char)s[0]) ||
        !isupper((unsigned char)s[1]) || !isupper((unsigned char)s[2]))
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

const char *tz_parse_origin(const char *s)
{
    const char *host;
    if (!s)
        return "must be an origin such as https://app.example.com";
    if (strncmp(s, "https://", 8) == 0)
        host = s + 8;
    else if (strncmp(s, "http://", 7) == 0)
        host = s + 7;
    else
        return "must start with https:// or http://";
    if (!*host || strpbrk(host, "/?#@ \t"))
        return "must be scheme://host[:port] without a path";
    return NULL;
}

int tz_is_uuid(const char *s)
{
    static const int dash[] = {8, 13, 18, 23};
    if (!s || strlen(s) != 36)
        return 0;
    for (int i = 0, d = 0; i < 36; i++) {
        if (d < 4 && i == dash[d]) {
            if (s[i] != '-')
                return 0;
            d++;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

int tz_is_idempotency_key(const char *s)
{
    size_t n = 0;
    if (!s)
        return 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e)
            return 0;
    return n >= 1 && n <= 255;
}

static const char *page_value(const char *s, int64_t dflt, int64_t min, int64_t max,
                              int64_t *out)
{
    if (!s)
        return *out = dflt, NULL;
    if (tz_parse_int64(s, out) || *out < min || *out > max)
        return max == INT64_MAX ? "must be an integer >= 0" : "must be an integer between 1 and 100";
    return NULL;
}

const char *tz_parse_page(const char *limit, const char *offset, int64_t *lim,
                          int64_t *off, const char **field)
{
    const char *err = page_value(limit, 20, 1, 100, lim);
    if (err)
        return *field = "limit", err;
    err = page_value(offset, 0, 0, INT64_MAX, off);
    if (err)
        return *field = "offset", err;
    return NULL;
}
