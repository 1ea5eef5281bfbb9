/* Rolling reserves: the directives' values and the split of a credit. */
#include "tz_reserve.h"
#include "tz_parse.h"
#include <string.h>
#include <strings.h>

const char *tz_parse_days(const char *s, int32_t *days)
{
    int64_t n;
    if (!s || !*s || strspn(s, "0123456789") != strlen(s) || tz_parse_int64(s, &n))
        return "must be a whole number of days, such as 90";
    if (n > TZ_RESERVE_MAX_DAYS)
        return "must be at most 3660 days";
    *days = (int32_t)n;
    return NULL;
}

const char *tz_reserve_parse(const char *rate, const char *days, int32_t *bps, int32_t *ndays)
{
    int32_t b, d;
    const char *why;
    if (!days) {
        if (rate && strcasecmp(rate, "off") == 0) {
            *bps = *ndays = 0;
            return NULL;
        }
        return "needs the number of days after the percentage (e.g. 10% 90), or Off";
    }
    if ((why = tz_parse_percent(rate, &b)))
        return why;
    if (b == 0)
        return "the percentage must be above 0 (or say Off)";
    if ((why = tz_parse_days(days, &d)))
        return why;
    if (d == 0)
        return "the days must be at least 1 (or say Off)";
    *bps = b;
    *ndays = d;
    return NULL;
}

int tz_reserve_split(int64_t credit, int32_t bps, int64_t *reserve, int64_t *payable)
{
    int64_t r;
    if (credit < 0 || bps < 0 || bps > 10000)
        return -1;
    /* credit * bps / 10000 without overflow: the same arithmetic as SQL */
    r = (credit / 10000) * bps + (credit % 10000) * bps / 10000;
    *reserve = r;
    *payable = credit - r;
    return 0;
}
