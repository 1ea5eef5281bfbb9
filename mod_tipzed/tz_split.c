/* Split payments: the rounding rule and the request's checks (see tz_split.h). */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>
#include "tz_parse.h"
#include "tz_split.h"

static int shares_ok(const int *bps, size_t n)
{
    int64_t sum = 0;
    if (!bps || n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (bps[i] < 1 || bps[i] > TZ_SPLIT_WHOLE)
            return 0;
        sum += bps[i];
    }
    return sum == TZ_SPLIT_WHOLE;
}

/* Share i's remainder outranks share j's: larger, or equal and listed first. */
static int outranks(int64_t rem_i, size_t i, int64_t rem_j, size_t j)
{
    return rem_i > rem_j || (rem_i == rem_j && i < j);
}

int tz_split_amounts(int64_t total, const int *bps, size_t n, int64_t *out)
{
    int64_t hi = total / TZ_SPLIT_WHOLE, lo = total % TZ_SPLIT_WHOLE, left = total;
    if (total < 0 || !out || !shares_ok(bps, n))
        return -1;
    /* total * b = hi * 10000 * b + lo * b, and lo * b < 10^8 */
    for (size_t i = 0; i < n; i++) {
        out[i] = hi * bps[i] + lo * bps[i] / TZ_SPLIT_WHOLE;
        left -= out[i];
    }
    /* the left units go to the shares whose rank (how many outrank them)
     * is below their number */
    for (size_t i = 0; i < n && left > 0; i++) {
        int64_t rem_i = lo * bps[i] % TZ_SPLIT_WHOLE, rank = 0;
        for (size_t j = 0; j < n; j++)
            rank += j != i && outranks(lo * bps[j] % TZ_SPLIT_WHOLE, j, rem_i, i);
        out[i] += rank < left;
    }
    return 0;
}

static char *lower(apr_pool_t *p, const char *s)
{
    char *c = apr_pstrdup(p, s);
    for (char *x = c; *x; x++)
        *x = (char)tolower((unsigned char)*x);
    return c;
}

/* Entry i of the array, or what is wrong with it. */
static const char *entry(apr_pool_t *p, json_t *e, size_t i, tz_split_t *out)
{
    json_t *id = json_object_get(e, "creator_id"), *bps = json_object_get(e, "share_bps");
    const char *at = apr_psprintf(p, "splits[%" APR_SIZE_T_FMT "]", i), *key;
    json_t *v;
    if (!json_is_object(e))
        return apr_pstrcat(p, at, " must be an object {\"creator_id\", \"share_bps\"}", NULL);
    json_object_foreach(e, key, v) {
        if (strcmp(key, "creator_id") != 0 && strcmp(key, "share_bps") != 0)
            return apr_pstrcat(p, at, ".", key, " is not a known field", NULL);
    }
    if (!json_is_string(id) || !tz_is_uuid(json_string_value(id)))
        return apr_pstrcat(p, at, ".creator_id must be a UUID", NULL);
    if (!json_is_integer(bps) || json_integer_value(bps) < 1 ||
        json_integer_value(bps) > TZ_SPLIT_WHOLE)
        return apr_pstrcat(p, at, ".share_bps must be an integer between 1 and 10000", NULL);
    out->creator_id = lower(p, json_string_value(id));
    out->share_bps = (int)json_integer_value(bps);
    return NULL;
}

/* What is wrong with the list as a whole, or NULL. */
static const char *whole(apr_pool_t *p, const tz_split_t *s, size_t n, const char *primary)
{
    int sum = 0, has_primary = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(s[i].creator_id, s[j].creator_id) == 0)
                return apr_psprintf(p, "names creator %s more than once (splits[%" APR_SIZE_T_FMT
                                    "] and splits[%" APR_SIZE_T_FMT "])", s[i].creator_id, j, i);
        sum += s[i].share_bps;
        has_primary |= primary && strcasecmp(s[i].creator_id, primary) == 0;
    }
    if (sum != TZ_SPLIT_WHOLE)
        return apr_psprintf(p, "shares must sum to 10000 basis points; they sum to %d", sum);
    if (!has_primary)
        return "must include the payment's creator_id (the primary creator)";
    return NULL;
}

const char *tz_split_parse(apr_pool_t *p, json_t *splits, const char *primary,
                           tz_split_t *out, size_t *n)
{
    const char *why;
    size_t count;
    *n = 0;
    if (!splits || json_is_null(splits))
        return NULL;
    if (!json_is_array(splits))
        return "must be an array of {\"creator_id\", \"share_bps\"}";
    count = json_array_size(splits);
    if (count == 0)
        return "must name at least one creator";
    if (count > TZ_SPLIT_MAX)
        return apr_psprintf(p, "must name at most %d creators; it names %" APR_SIZE_T_FMT,
                            TZ_SPLIT_MAX, count);
    for (size_t i = 0; i < count; i++)
        if ((why = entry(p, json_array_get(splits, i), i, &out[i])) != NULL)
            return why;
    if ((why = whole(p, out, count, primary)) != NULL)
        return why;
    *n = count;
    return NULL;
}

char *tz_split_json(apr_pool_t *p, const tz_split_t *s, size_t n)
{
    char *text = NULL;
    for (size_t i = 0; i < n; i++)
        text = apr_psprintf(p, "%s%s{\"creator_id\":\"%s\",\"share_bps\":%d}", text ? text : "[",
                            i ? "," : "", s[i].creator_id, s[i].share_bps);
    return text ? apr_pstrcat(p, text, "]", NULL) : NULL;
}
