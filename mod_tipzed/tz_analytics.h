/* Ranges of the reporting endpoints: creator analytics (buckets of a UTC
 * day, ISO week or calendar month) and wallet statements (two instants).
 * Pure functions over Unix seconds, no httpd types (docs/analytics.md). */
#ifndef TZ_ANALYTICS_H
#define TZ_ANALYTICS_H
#include <stdint.h>
#include <apr_pools.h>

typedef enum { TZ_BUCKET_DAY, TZ_BUCKET_WEEK, TZ_BUCKET_MONTH } tz_bucket_e;

/* Longest ranges: a year by day, five years by week or month, a year of
 * statement. */
#define TZ_ANALYTICS_MAX_DAYS_BY_DAY 366
#define TZ_ANALYTICS_MAX_DAYS_BY_WEEK_MONTH 1827
#define TZ_STATEMENT_MAX_DAYS 366

/* "day", "week" or "month" (exactly); NULL means day.  0, or -1. */
int tz_bucket_parse(const char *s, tz_bucket_e *out);
const char *tz_bucket_name(tz_bucket_e b);

/* The start (UTC midnight) of the bucket holding secs (secs >= 0): its
 * day, the Monday of its ISO week, the first of its month.  And the start
 * of the bucket after the one starting at start. */
int64_t tz_bucket_floor(int64_t secs, tz_bucket_e b);
int64_t tz_bucket_next(int64_t start, tz_bucket_e b);

/* Unix seconds as "YYYY-MM-DD" (its UTC date). */
char *tz_format_date(apr_pool_t *p, int64_t secs);

/* An analytics range as asked: from, to (RFC 3339 or YYYY-MM-DD, both
 * required, to after from, no longer than the interval allows) widened to
 * whole buckets: *from_out the start of from's bucket, *to_out the end of
 * the bucket holding the last second before to, *buckets their number.
 * NULL when valid; else the reason, with *field naming the parameter. */
const char *tz_analytics_range(const char *from, const char *to, const char *interval,
                               int64_t *from_out, int64_t *to_out, tz_bucket_e *bucket,
                               int64_t *buckets, const char **field);

/* A statement's range: from and to (RFC 3339 or YYYY-MM-DD), to after
 * from, at most TZ_STATEMENT_MAX_DAYS apart.  NULL or the reason, *field
 * naming the parameter. */
const char *tz_statement_range(const char *from, const char *to, int64_t *from_out,
                               int64_t *to_out, const char **field);

#endif
