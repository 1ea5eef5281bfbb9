/* Settlement reports: a provider's CSV export read into lines of one shape
 * (docs/settlement.md), money in decimal text read into minor units, and
 * the expected provider fee.  No floating point anywhere: amounts are
 * int64 minor units. */
#ifndef TZ_SETTLE_H
#define TZ_SETTLE_H
#include <stdint.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>

/* The largest amount a settlement line may carry, in minor units (as
 * every amount of the API: exact in a JSON number). */
#define TZ_SETTLE_AMOUNT_MAX ((int64_t)1 << 53)

/* "12.34", "-1,234.50", "7", "0.5" in major units with at most exponent
 * decimals (the currency's minor-unit exponent, 0..4) -> minor units.
 * Thousands separators are commas between groups of exactly three digits;
 * no '+', no spaces, no exponent notation; |value| <= TZ_SETTLE_AMOUNT_MAX.
 * NULL or a static message. */
const char *tz_money_parse(const char *s, int exponent, int64_t *out);

/* A provider's fee terms: bps of the gross plus a fixed part. */
typedef struct {
    int32_t bps;   /* 0..10000 */
    int64_t fixed; /* minor units, >= 0 */
} tz_fee_rule_t;

/* "2.9%+30", "1.4%", "30" (fixed only) -> rule; NULL or a message. */
const char *tz_fee_rule_parse(const char *s, tz_fee_rule_t *rule);

/* The fee the rule charges on a gross amount (>= 0): the percentage
 * rounded half up to a minor unit, plus the fixed part; exact for every
 * amount up to TZ_SETTLE_AMOUNT_MAX. */
int64_t tz_fee_rule_apply(const tz_fee_rule_t *rule, int64_t gross);

typedef enum { TZ_SETTLE_STRIPE, TZ_SETTLE_FLUTTERWAVE, TZ_SETTLE_GENERIC } tz_settle_format_e;

/* The report format of a provider name as configured ("stripe",
 * "flutterwave", "mobile_money"); -1 for a provider without one. */
int tz_settle_format(const char *provider);

/* One line of a report. */
typedef struct {
    const char *line_id;  /* the provider's id of the line, unique per provider */
    const char *kind;     /* payment, refund, dispute, fee, payout, other */
    const char *ref;      /* the provider's id of the object, or NULL */
    const char *our_id;   /* our payment (refund: refund) id when the line names it, or NULL */
    int64_t amount, fee;  /* signed minor units, as the provider reports them */
    const char *currency; /* ISO 4217, upper case */
    const char *created;  /* as written, or NULL */
    int has_expected_fee; /* payment lines when a fee rule was given */
    int64_t expected_fee;
} tz_settle_line_t;

/* Reads a report of format fmt: its header, then each record as a line.
 * rule (or NULL) gives each payment line its expected fee.  *lines gets
 * tz_settle_line_t.  Returns NULL, or a message naming the record (the
 * header is record 1; for a CSV error, the physical line) and the column
 * at fault; nothing of a wrong file is to be used. */
const char *tz_settle_read(apr_pool_t *p, int fmt, const char *buf, size_t len,
                           const tz_fee_rule_t *rule, apr_array_header_t **lines);

/* The lines as a JSON array of objects (the keys of tz_settle_line_t;
 * absent values as null), tied to the pool. */
json_t *tz_settle_json(apr_pool_t *p, const apr_array_header_t *lines);

#endif
