/* F = round-half-up(G * bps / 10000) in integers.  Amounts are capped at
 * 2^53 (the largest the API accepts); the product is formed in 128 bits,
 * so no allowed input can overflow. */
#include "tz_fee.h"

int tz_fee_compute(int64_t gross, int32_t bps, int64_t *fee, int64_t *net)
{
    __int128 prod;
    if (gross <= 0 || gross > TZ_FEE_MAX_AMOUNT || bps < 0 || bps > TZ_FEE_BPS_MAX)
        return -1;
    prod = (__int128)gross * bps + 5000;
    *fee = (int64_t)(prod / 10000);
    *net = gross - *fee;
    return 0;
}
