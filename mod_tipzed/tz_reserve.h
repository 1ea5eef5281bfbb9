/* Rolling reserves (TipzedReserve, TipzedFirstPayoutDelay; docs/risk.md):
 * the directives' values and the reserve's share of a credit.  Pure
 * functions, no httpd types.  The database posts the reserve with the same
 * rule (tz_reserve_share, sql/functions/63_reserves.sql). */
#ifndef TZ_RESERVE_H
#define TZ_RESERVE_H

#include <stdint.h>

#define TZ_RESERVE_MAX_DAYS 3660

/* "0".."3660" (a whole number of days, no sign, no unit) -> *days; NULL
 * or why not. */
const char *tz_parse_days(const char *s, int32_t *days);

/* TipzedReserve's arguments: "Off" alone (0, 0), or a percentage
 * (tz_parse_percent, above 0) and a number of days (1..3660). */
const char *tz_reserve_parse(const char *rate, const char *days, int32_t *bps, int32_t *ndays);

/* Of a credit (>= 0) with the reserve at bps (0..10000): *reserve, the
 * share held (rounded down, exact for every int64), and *payable, the
 * rest; *reserve + *payable == credit and *payable >= credit - credit *
 * bps / 10000.  -1 (nothing set) outside the domain. */
int tz_reserve_split(int64_t credit, int32_t bps, int64_t *reserve, int64_t *payable);

#endif
