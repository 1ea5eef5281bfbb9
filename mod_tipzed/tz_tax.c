/* The tax rule (see tz_tax.h).  The products fit in 128 bits: price is at
 * most 2^53 and bps at most 10000. */
#include "tz_tax.h"

#define TZ_TAX_MAX_PRICE 9007199254740992LL /* 2^53, the API's largest amount */

int tz_tax_apply(int64_t price, int bps, int inclusive, int64_t *amount, int64_t *tax)
{
    unsigned __int128 num, den;
    if (price < 0 || price > TZ_TAX_MAX_PRICE || bps < 0 || bps > 10000)
        return -1;
    if (bps == 0) {
        *amount = price;
        *tax = 0;
        return 0;
    }
    if (inclusive) {
        /* round half up of price * bps / (10000 + bps) */
        den = (unsigned __int128)(10000 + bps);
        num = (unsigned __int128)price * (unsigned)bps * 2 + den;
        *tax = (int64_t)(num / (den * 2));
        *amount = price;
    } else {
        *tax = (int64_t)(((unsigned __int128)price * (unsigned)bps + 5000) / 10000);
        *amount = price + *tax;
    }
    return 0;
}
