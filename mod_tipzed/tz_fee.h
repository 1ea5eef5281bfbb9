/* Platform fee: F = round-half-up(G * bps / 10000), integers only. */
#ifndef TZ_FEE_H
#define TZ_FEE_H
#include <stdint.h>

#define TZ_FEE_BPS_MAX 10000

/* 0 on success with *fee and *net = gross - fee; -1 when gross <= 0,
 * bps outside 0..10000, or the product would overflow int64. */
int tz_fee_compute(int64_t gross, int32_t bps, int64_t *fee, int64_t *net);

#endif
