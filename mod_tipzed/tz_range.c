#include "tz_range.h"
#include "tz_validate.h"
#include <string.h>

/* A bare date only: a time of day would say the range is not whole days. */
static int parse_day(const char *s, int64_t *secs)
{
    return s && strlen(s) == 10 && tz_parse_timestamp(s, 1, secs) == 0 ? 0 : -1;
}

static int fail(const char **field, const char **why, const char *f, const char *w)
{
    *field = f;
    *why = w;
    return -1;
}

int tz_day_range(const char *from, const char *to, int64_t now, tz_day_range_t *out,
                 const char **field, const char **why)
{
    int64_t first, last;
    if (to) {
        if (parse_day(to, &last) != 0)
            return fail(field, why, "to", "must be a date (YYYY-MM-DD)");
    } else {
        last = now - now % TZ_DAY_SECS;
    }
    if (from) {
        if (parse_day(from, &first) != 0)
            return fail(field, why, "from", "must be a date (YYYY-MM-DD)");
    } else {
        first = last - 29 * (int64_t)TZ_DAY_SECS;
        first = first < 0 ? 0 : first;
    }
    if (first > last)
        return fail(field, why, "from", "must not be after to");
    if ((last - first) / TZ_DAY_SECS + 1 > TZ_RANGE_MAX_DAYS)
        return fail(field, why, "to", "the range may cover at most 366 days");
    out->first = first;
    out->last = last;
    return 0;
}

int64_t tz_day_range_days(const tz_day_range_t *r)
{
    return (r->last - r->first) / TZ_DAY_SECS + 1;
}
