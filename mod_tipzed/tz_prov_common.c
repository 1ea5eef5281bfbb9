/* Helpers shared by the provider adapters: URL escaping and exact
 * conversions between minor units and decimal major units. */
#include <string.h>
#include <ctype.h>
#include "tz_provider.h"
#include "apr_strings.h"

char *tz_url_escape(apr_pool_t *p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    char *out = apr_palloc(p, strlen(s) * 3 + 1), *o = out;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (isalnum(*c) || strchr("-._~", *c)) {
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

char *tz_minor_to_decimal(apr_pool_t *p, int64_t minor)
{
    return apr_psprintf(p, "%s%" APR_INT64_T_FMT ".%02d", minor < 0 ? "-" : "",
                        (apr_int64_t)(minor < 0 ? -(minor / 100) : minor / 100),
                        (int)(minor < 0 ? -(minor % 100) : minor % 100));
}

int tz_decimal_to_minor(const char *text, int64_t *minor)
{
    int64_t whole = 0, frac = 0;
    int fd = 0;
    const char *c = text;
    if (!text || !isdigit((unsigned char)*c))
        return -1;
    for (; isdigit((unsigned char)*c); c++) {
        if (whole > (INT64_MAX / 100 - 9) / 10)
            return -1;
        whole = whole * 10 + (*c - '0');
    }
    if (*c == '.') {
        for (c++; isdigit((unsigned char)*c); c++, fd++) {
            if (fd >= 2)
                return -1;
            frac = frac * 10 + (*c - '0');
        }
        if (fd == 0)
            return -1;
    }
    if (*c)
        return -1;
    *minor = whole * 100 + (fd == 1 ? frac * 10 : frac);
    return 0;
}
