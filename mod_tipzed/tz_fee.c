/* F = round-half-up(G * bps / 10000) in integers; overflow refused. */
#include "tz_fee.h"

int tz_fee_compute(int64_t gross, int32_t bps, int64_t *fee, int64_t *net)
{
    int64_t prod;
    if (gross <= 0 || bps < 0 || bps > TZ_FEE_BPS_MAX)
        return -1;
    if (__builtin_mul_overflow(gross, (int64_t)bps, &prod) ||
        __builtin_add_overflow(prod, (int64_t)5000, &prod))
        return -1;
    *fee = prod / 10000;
    *net = gross - *fee;
    return 0;
}
