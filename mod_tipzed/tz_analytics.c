#include "tz_analytics.h"
#include "tz_validate.h"
#include <apr_strings.h>
#include <string.h>

#define DAY 86400

static const char *const bucket_names[] = {"day", "week", "month"};

int tz_bucket_parse(const char *s, tz_bucket_e *out)
{
    if (!s) {
        *out = TZ_BUCKET_DAY;
        return 0;
    }
    for (int i = 0; i < 3; i++)
        if (strcmp(s, bucket_names[i]) == 0) {
            *out = (tz_bucket_e)i;
            return 0;
        }
    return -1;
}

const char *tz_bucket_name(tz_bucket_e b)
{
    return (unsigned)b < 3 ? bucket_names[b] : NULL;
}

/* Days since 1970-01-01 to a civil date and back (Howard Hinnant's
 * algorithms, proleptic Gregorian calendar). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

int64_t tz_bucket_floor(int64_t secs, tz_bucket_e b)
{
    int64_t days = secs / DAY, y;
    int m, d;
    switch (b) {
    case TZ_BUCKET_WEEK: /* 1970-01-01 was a Thursday: Monday is 3 days before */
        return (days - (days + 3) % 7) * DAY;
    case TZ_BUCKET_MONTH:
        civil_from_days(days, &y, &m, &d);
        return days_from_civil(y, m, 1) * DAY;
    default:
        return days * DAY;
    }
}

int64_t tz_bucket_next(int64_t start, tz_bucket_e b)
{
    int64_t y;
    int m, d;
    switch (b) {
    case TZ_BUCKET_WEEK:
        return start + 7 * DAY;
    case TZ_BUCKET_MONTH:
        civil_from_days(start / DAY, &y, &m, &d);
        return days_from_civil(m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1) * DAY;
    default:
        return start + DAY;
    }
}

char *tz_format_date(apr_pool_t *p, int64_t secs)
{
    int64_t y;
    int m, d;
    civil_from_days(secs / DAY, &y, &m, &d);
    return apr_psprintf(p, "%04d-%02d-%02d", (int)y, m, d);
}

/* from and to parsed, present, in order and at most max_days apart. */
static const char *two_instants(const char *from, const char *to, int64_t max_days,
                                int64_t *f, int64_t *t, const char **field)
{
    *field = "from";
    if (!from)
        return "is required";
    if (tz_parse_timestamp(from, 1, f) != 0)
        return "must be an RFC 3339 date-time or a date (YYYY-MM-DD)";
    *field = "to";
    if (!to)
        return "is required";
    if (tz_parse_timestamp(to, 1, t) != 0)
        return "must be an RFC 3339 date-time or a date (YYYY-MM-DD)";
    if (*t <= *f)
        return "must be after from";
    if (*t - *f > max_days * DAY)
        return max_days == TZ_ANALYTICS_MAX_DAYS_BY_WEEK_MONTH
                   ? "must be at most 5 years after from"
                   : "must be at most 366 days after from";
    return NULL;
}

const char *tz_analytics_range(const char *from, const char *to, const char *interval,
                               int64_t *from_out, int64_t *to_out, tz_bucket_e *bucket,
                               int64_t *buckets, const char **field)
{
    int64_t f, t, n = 0;
    const char *why;
    if (tz_bucket_parse(interval, bucket) != 0) {
        *field = "interval";
        return "must be day, week or month";
    }
    why = two_instants(from, to, *bucket == TZ_BUCKET_DAY ? TZ_ANALYTICS_MAX_DAYS_BY_DAY
                                                          : TZ_ANALYTICS_MAX_DAYS_BY_WEEK_MONTH,
                       &f, &t, field);
    if (why)
        return why;
    *from_out = tz_bucket_floor(f, *bucket);
    for (*to_out = *from_out; *to_out < t; n++)
        *to_out = tz_bucket_next(*to_out, *bucket);
    *buckets = n;
    return NULL;
}

const char *tz_statement_range(const char *from, const char *to, int64_t *from_out,
                               int64_t *to_out, const char **field)
{
    return two_instants(from, to, TZ_STATEMENT_MAX_DAYS, from_out, to_out, field);
}
