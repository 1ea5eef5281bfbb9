/* Settlement reports: tz_settle_read (tz_csv_read under it) over the three
 * formats, and tz_money_parse.  Every line read has a line id of 1..255
 * bytes, one of the six kinds, an upper-case 3-letter currency, amounts
 * within the bound, our id only as a UUID, an expected fee only on payment
 * lines; a parsed amount written back with its decimals parses to itself. */
#include "fuzz_common.h"
#include "tz_csv.h"
#include "tz_parse.h"
#include "tz_settle.h"

static void check_line(const tz_settle_line_t *l)
{
    static const char *const kinds[] = {"payment", "refund", "dispute", "fee", "payout", "other"};
    int known = 0;
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        known |= strcmp(l->kind, kinds[i]) == 0;
    TZ_FUZZ_ASSERT(known);
    TZ_FUZZ_ASSERT(l->line_id && *l->line_id && strlen(l->line_id) <= 255);
    TZ_FUZZ_ASSERT(tz_parse_currency(l->currency) == NULL);
    TZ_FUZZ_ASSERT(l->amount <= TZ_SETTLE_AMOUNT_MAX && l->amount >= -TZ_SETTLE_AMOUNT_MAX);
    TZ_FUZZ_ASSERT(l->fee <= TZ_SETTLE_AMOUNT_MAX && l->fee >= -TZ_SETTLE_AMOUNT_MAX);
    TZ_FUZZ_ASSERT(!l->our_id || tz_is_uuid(l->our_id));
    TZ_FUZZ_ASSERT(!l->has_expected_fee || (strcmp(l->kind, "payment") == 0 && l->amount >= 0));
}

static void money(apr_pool_t *p, const char *s, int exp)
{
    int64_t v = 0, back = 0;
    if (tz_money_parse(s, exp, &v))
        return;
    TZ_FUZZ_ASSERT(v <= TZ_SETTLE_AMOUNT_MAX && v >= -TZ_SETTLE_AMOUNT_MAX);
    int64_t scale = 1, a = v < 0 ? -v : v;
    for (int i = 0; i < exp; i++)
        scale *= 10;
    const char *text = exp ? apr_psprintf(p, "%s%" APR_INT64_T_FMT ".%0*" APR_INT64_T_FMT,
                                          v < 0 ? "-" : "", (apr_int64_t)(a / scale), exp,
                                          (apr_int64_t)(a % scale))
                           : apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)v);
    TZ_FUZZ_ASSERT(tz_money_parse(text, exp, &back) == NULL && back == v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    apr_pool_t *p = tz_fuzz_pool();
    int mode = data[0] % 4;
    const char *text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if (mode == 3) {
        for (int exp = 0; exp <= 3; exp++)
            money(p, text, exp);
    } else {
        tz_fee_rule_t rule = {290, 30};
        apr_array_header_t *lines;
        if (!tz_settle_read(p, mode, text, size - 1, &rule, &lines))
            for (int i = 0; i < lines->nelts; i++)
                check_line(&APR_ARRAY_IDX(lines, i, tz_settle_line_t));
    }
    apr_pool_destroy(p);
    return 0;
}
