/* Helpers shared by the provider adapters: exact conversions between
 * minor units and decimal major units, URL and form encoding, request
 * URLs and headers.  Everything is integer arithmetic and ASCII-only
 * (locale independent): the same input gives the same bytes on every
 * server. */
#include <string.h>
#include "tz_provider.h"
#include "apr_strings.h"

#define TZ_IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

/* RFC 3986 section 2.3: the only bytes that never need escaping. */
static int tz_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || TZ_IS_DIGIT(c) ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

char *tz_url_escape(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out, *o;
    if (!s)
        return apr_pstrdup(p, "");
    out = o = apr_palloc(p, strlen(s) * 3 + 1);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (tz_unreserved(*c)) {
            *o++ = (char)*c;
        } else {
            *o++ = '%';
            *o++ = hex[*c >> 4];
            *o++ = hex[*c & 15];
        }
    }
    *o = '\0';
    return out;
}

char *tz_form_encode(apr_pool_t *p, const tz_kv_t *kv, size_t n)
{
    apr_array_header_t *parts = apr_array_make(p, (int)n * 4 + 1, sizeof(const char *));
    for (size_t i = 0; i < n; i++) {
        if (!kv[i].value)
            continue;
        if (parts->nelts)
            APR_ARRAY_PUSH(parts, const char *) = "&";
        APR_ARRAY_PUSH(parts, const char *) = tz_url_escape(p, kv[i].key);
        APR_ARRAY_PUSH(parts, const char *) = "=";
        APR_ARRAY_PUSH(parts, const char *) = tz_url_escape(p, kv[i].value);
    }
    return apr_array_pstrcat(p, parts, 0);
}

char *tz_prov_url(apr_pool_t *p, const char *base, const char *path)
{
    size_t n = base ? strlen(base) : 0;
    while (n && base[n - 1] == '/')
        n--;
    while (path && *path == '/')
        path++;
    return apr_pstrcat(p, apr_pstrndup(p, base ? base : "", n), "/", path ? path : "", NULL);
}

apr_array_header_t *tz_prov_headers(apr_pool_t *p, const char *secret,
                                    const char *content_type)
{
    apr_array_header_t *h = apr_array_make(p, 3, sizeof(const char *));
    APR_ARRAY_PUSH(h, const char *) =
        apr_pstrcat(p, "Authorization: Bearer ", secret ? secret : "", NULL);
    APR_ARRAY_PUSH(h, const char *) = "Accept: application/json";
    if (content_type)
        APR_ARRAY_PUSH(h, const char *) = apr_pstrcat(p, "Content-Type: ", content_type, NULL);
    return h;
}

static char *tz_ascii_map(apr_pool_t *p, const char *s, int upper)
{
    char *out = apr_pstrdup(p, s ? s : "");
    for (char *c = out; *c; c++) {
        if (upper && *c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
        else if (!upper && *c >= 'A' && *c <= 'Z')
            *c = (char)(*c - 'A' + 'a');
    }
    return out;
}

char *tz_ascii_upper(apr_pool_t *p, const char *s)
{
    return tz_ascii_map(p, s, 1);
}

char *tz_ascii_lower(apr_pool_t *p, const char *s)
{
    return tz_ascii_map(p, s, 0);
}

char *tz_minor_to_decimal(apr_pool_t *p, int64_t minor)
{
    /* the magnitude in unsigned arithmetic: -INT64_MIN is not an int64 */
    uint64_t mag = minor < 0 ? ~(uint64_t)minor + 1 : (uint64_t)minor;
    return apr_psprintf(p, "%s%" APR_UINT64_T_FMT ".%02u", minor < 0 ? "-" : "",
                        (apr_uint64_t)(mag / 100), (unsigned)(mag % 100));
}

/* Reads the whole-units digits: no sign, no leading zeros (the canonical
 * spelling every JSON encoder produces), at most what fits int64 cents. */
static const char *tz_decimal_whole(const char *c, int64_t *whole)
{
    int64_t w = 0;
    if (!TZ_IS_DIGIT(*c) || (c[0] == '0' && TZ_IS_DIGIT(c[1])))
        return NULL;
    for (; TZ_IS_DIGIT(*c); c++) {
        /* w * 10 + d must leave room for * 100 + 99 below */
        if (w > (INT64_MAX / 100 - 9) / 10)
            return NULL;
        w = w * 10 + (*c - '0');
    }
    *whole = w;
    return c;
}

int tz_decimal_to_minor(const char *text, int64_t *minor)
{
    int64_t whole, frac = 0;
    int digits = 0;
    const char *c;
    if (!text || !(c = tz_decimal_whole(text, &whole)))
        return -1;
    if (*c == '.') {
        for (c++; TZ_IS_DIGIT(*c); c++, digits++) {
            if (digits == 2)
                return -1; /* a third decimal is a fraction of a minor unit */
            frac = frac * 10 + (*c - '0');
        }
        if (digits == 0)
            return -1;
    }
    if (*c != '\0')
        return -1; /* exponents, signs, spaces, trailing garbage */
    *minor = whole * 100 + (digits == 1 ? frac * 10 : frac);
    return 0;
}

tz_parse_status_e tz_event_invalid(tz_event_t *ev, const char *field)
{
    ev->bad_field = field;
    return TZ_PARSE_INVALID;
}
