/* The tax rule (TipzedTax): what a price becomes once taxed.  The same
 * rule is tz_tax_apply() in sql/functions/10_common.sql; the cases of
 * tests/fixtures/tax_cases.json hold both to the same answers. */
#ifndef TZ_TAX_H
#define TZ_TAX_H
#include <stdint.h>

/* A price that includes the tax (inclusive) is what is paid, the tax
 * within it being round half up of price * bps / (10000 + bps); a price
 * before tax (exclusive) is paid with the tax added, round half up of
 * price * bps / 10000.  bps 0: no tax.  0, or -1 (outputs untouched) for a
 * price outside 0 .. 2^53 or bps outside 0 .. 10000. */
int tz_tax_apply(int64_t price, int bps, int inclusive, int64_t *amount, int64_t *tax);

#endif
