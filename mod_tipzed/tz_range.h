/* Ranges of whole UTC days, for the reports that answer one row per day
 * (GET /admin/overview). */
#ifndef TZ_RANGE_H
#define TZ_RANGE_H

#include <stdint.h>

#define TZ_DAY_SECS 86400

/* The longest range a per-day report answers, in days: a year, leap day
 * included, keeps one answer small enough to chart. */
#define TZ_RANGE_MAX_DAYS 366

/* The days a report covers: both midnights (UTC, Unix seconds) included. */
typedef struct {
    int64_t first;
    int64_t last;
} tz_day_range_t;

/* Reads ?from and ?to (each NULL when absent): bare dates "YYYY-MM-DD",
 * both included.  Without to, the day of now; without from, the 30 days
 * ending with to.  0 on success; -1 with *field and *why naming the
 * offending parameter: not a date, from after to, or longer than
 * TZ_RANGE_MAX_DAYS. */
int tz_day_range(const char *from, const char *to, int64_t now, tz_day_range_t *out,
                 const char **field, const char **why);

/* The number of days in a valid range. */
int64_t tz_day_range_days(const tz_day_range_t *r);

#endif
