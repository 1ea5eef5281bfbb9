/* Platform fee: F = round-half-up(G * bps / 10000), integers only. */
#ifndef TZ_FEE_H
#define TZ_FEE_H
#include <stdint.h>

#define TZ_FEE_BPS_MAX 10000
#define TZ_FEE_MAX_AMOUNT (INT64_C(1) << 53)

/* 0 on success with *fee and *net = gross - fee; -1 when gross is not in
 * 1..TZ_FEE_MAX_AMOUNT,
 * or bps is outside 0..10000. */
int tz_fee_compute(int64_t gross, int32_t bps, int64_t *fee, int64_t *net);

#endif
