/* Split payments: a tip's net shared among several creators by shares in
 * basis points.  The rounding rule and the request's "splits" checks; no
 * httpd types.  The same rule is tz_split_amounts() in
 * sql/functions/53_splits.sql, which posts the credit: the cases of
 * tests/fixtures/split_cases.json hold both to the same answers. */
#ifndef TZ_SPLIT_H
#define TZ_SPLIT_H
#include <stddef.h>
#include <stdint.h>
#include <apr_pools.h>
#include <jansson.h>

#define TZ_SPLIT_MAX 10       /* creators of one tip */
#define TZ_SPLIT_WHOLE 10000  /* the shares' sum, in basis points */

/* The rule (largest remainder).  total divided by n shares bps[0..n-1]
 * (each 1..10000, summing to 10000) in the request's order: out[i] =
 * floor(total * bps[i] / 10000), then the units left over (total less the
 * sum of those, fewer than n) go one each to the shares with the largest
 * remainders (total * bps[i] mod 10000), a tie going to the one listed
 * first.  The out[i] sum to total exactly.  Exact for every total >= 0 up
 * to INT64_MAX (no intermediate product overflows).  Returns 0, or -1
 * (out untouched) when the input is outside that domain. */
int tz_split_amounts(int64_t total, const int *bps, size_t n, int64_t *out);

/* One creator's share, as the request gave it. */
typedef struct {
    const char *creator_id; /* a UUID, in lower case */
    int share_bps;
} tz_split_t;

/* Reads the request's "splits" (NULL or JSON null: none, *n = 0) for a
 * tip whose creator_id is primary: 1..TZ_SPLIT_MAX objects
 * {"creator_id": UUID, "share_bps": 1..10000} with no other keys, no
 * creator twice, shares summing to 10000, primary among them.  Fills
 * out[0..*n-1] (strings from p) and returns NULL, or returns what is wrong
 * (a message for the field "splits", from p). */
const char *tz_split_parse(apr_pool_t *p, json_t *splits, const char *primary,
                           tz_split_t *out, size_t *n);

/* The splits as the SQL functions take them: a JSON array of
 * {"creator_id", "share_bps"} in order (from p), or NULL when n is 0. */
char *tz_split_json(apr_pool_t *p, const tz_split_t *s, size_t n);

#endif
