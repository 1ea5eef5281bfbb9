/* F = round-half-up(G * bps / 10000) in integers only (no floating point in
 * money code).
 *
 * G * bps itself can exceed 64 bits at the cap (2^53 * 10000 > 2^63), so
 * the product is split on G = q * 10000 + r:
 *   (G * bps + 5000) / 10000 = q * bps + (r * bps + 5000) / 10000
 * exactly, because q * bps * 10000 is a multiple of 10000.  Every step is
 * still overflow-checked, so widening the cap later cannot silently wrap. */
#include "tz_fee.h"

#define TZ_FEE_DENOM 10000

int tz_fee_compute(int64_t gross, int32_t bps, int64_t *fee, int64_t *net)
{
    int64_t q, r, whole, part, f;
    if (!fee || !net || gross <= 0 || gross > TZ_FEE_MAX_AMOUNT || bps < 0 ||
        bps > TZ_FEE_BPS_MAX)
        return -1;
    q = gross / TZ_FEE_DENOM;
    r = gross % TZ_FEE_DENOM;
    if (__builtin_mul_overflow(q, (int64_t)bps, &whole) ||
        __builtin_mul_overflow(r, (int64_t)bps, &part) ||
        __builtin_add_overflow(part, TZ_FEE_DENOM / 2, &part) ||
        __builtin_add_overflow(whole, part / TZ_FEE_DENOM, &f) || f > gross)
        return -1;
    *fee = f;
    *net = gross - f;
    return 0;
}
