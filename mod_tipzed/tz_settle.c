/* Settlement reports read into lines of one shape; money without floating
 * point. */
#include "tz_settle.h"
#include "tz_csv.h"
#include "tz_json.h"
#include "tz_parse.h"
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <apr_strings.h>

/* Adds one decimal digit to *v (|*v| grows); -1 past the bound. */
static int push_digit(int64_t *v, char c)
{
    if (*v > (TZ_SETTLE_AMOUNT_MAX - (c - '0')) / 10)
        return -1;
    *v = *v * 10 + (c - '0');
    return 0;
}

/* The integer part: digits, or groups of three after commas. */
static const char *money_whole(const char **s, int64_t *v)
{
    const char *c = *s;
    int run = 0, grouped = 0;
    for (; isdigit((unsigned char)*c) || *c == ','; c++) {
        if (*c == ',') {
            if (run == 0 || (grouped && run != 3) || (!grouped && run > 3))
                return "has a misplaced thousands separator";
            grouped = 1;
            run = 0;
            continue;
        }
        run++;
        if (push_digit(v, *c) != 0)
            return "is too large";
    }
    if (c == *s)
        return "must start with a digit";
    if (run == 0 || (grouped && run != 3))
        return "has a misplaced thousands separator";
    *s = c;
    return NULL;
}

const char *tz_money_parse(const char *s, int exponent, int64_t *out)
{
    int64_t v = 0;
    int neg = 0, decimals = 0;
    const char *why;
    if (!s || !*s)
        return "must be an amount";
    if (exponent < 0 || exponent > 4)
        return "has a currency exponent out of range";
    if (*s == '-')
        neg = 1, s++;
    if ((why = money_whole(&s, &v)))
        return why;
    if (*s == '.') {
        if (!isdigit((unsigned char)*++s))
            return "must have digits after the decimal point";
        for (; isdigit((unsigned char)*s); s++, decimals++)
            if (decimals >= exponent || push_digit(&v, *s) != 0)
                return decimals >= exponent ? "has more decimals than the currency"
                                            : "is too large";
    }
    if (*s)
        return "must be a decimal amount";
    for (; decimals < exponent; decimals++)
        if (push_digit(&v, '0') != 0)
            return "is too large";
    *out = neg ? -v : v;
    return NULL;
}

const char *tz_fee_rule_parse(const char *s, tz_fee_rule_t *rule)
{
    const char *pct = s ? strchr(s, '%') : NULL;
    rule->bps = 0;
    rule->fixed = 0;
    if (!s || !*s)
        return "must be PERCENT%[+FIXED] or FIXED";
    if (pct) {
        const char *why;
        char buf[16];
        if ((size_t)(pct - s) >= sizeof(buf))
            return "has a percentage that is too long";
        memcpy(buf, s, (size_t)(pct - s));
        buf[pct - s] = '\0';
        if ((why = tz_parse_percent(buf, &rule->bps)))
            return why;
        s = pct + 1;
        if (!*s)
            return NULL;
        if (*s++ != '+')
            return "must be PERCENT%[+FIXED] or FIXED";
    }
    if (tz_parse_int64(s, &rule->fixed) || rule->fixed < 0 || rule->fixed > TZ_SETTLE_AMOUNT_MAX)
        return "must have a fixed part of minor units >= 0";
    return NULL;
}

int64_t tz_fee_rule_apply(const tz_fee_rule_t *rule, int64_t gross)
{
    /* gross = hi * 10000 + lo: hi * bps is exact, only lo's part rounds */
    int64_t hi = gross / 10000, lo = gross % 10000;
    return hi * rule->bps + (lo * rule->bps + 5000) / 10000 + rule->fixed;
}

int tz_settle_format(const char *provider)
{
    if (!provider)
        return -1;
    if (strcmp(provider, "stripe") == 0)
        return TZ_SETTLE_STRIPE;
    if (strcmp(provider, "flutterwave") == 0)
        return TZ_SETTLE_FLUTTERWAVE;
    if (strcmp(provider, "mobile_money") == 0)
        return TZ_SETTLE_GENERIC;
    return -1;
}

/* The columns of a format: header names (NULL: the format has none). */
typedef struct {
    const char *line_id, *type, *ref, *our_payment, *our_refund, *amount, *fee, *currency,
        *created;
    int major_units; /* amounts in major units ("25.00"), else integer minor units */
} tz_settle_cols_t;

/* Stripe: the Dashboard's balance (balance transactions) export; metadata
 * chosen for export comes as "<key> (metadata)".  Flutterwave: the
 * transactions of a settlement.  The generic gateway: docs/settlement.md. */
static const tz_settle_cols_t tz_settle_cols[] = {
    [TZ_SETTLE_STRIPE] = {"id", "Type", "Source", "payment_id (metadata)",
                          "refund_id (metadata)", "Amount", "Fee", "Currency", "Created (UTC)",
                          1},
    [TZ_SETTLE_FLUTTERWAVE] = {"id", NULL, "id", "tx_ref", NULL, "charged_amount", "app_fee",
                               "currency", "transaction_date", 1},
    [TZ_SETTLE_GENERIC] = {"line_id", "type", "reference", "payment_id", "refund_id", "amount",
                           "fee", "currency", "created_at", 0},
};

/* Minor-unit exponents other than 2 (ISO 4217). */
static int currency_exponent(const char *cur)
{
    static const char *const zero[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
                                       "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"};
    static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
    for (size_t i = 0; i < sizeof(zero) / sizeof(*zero); i++)
        if (strcmp(cur, zero[i]) == 0)
            return 0;
    for (size_t i = 0; i < sizeof(three) / sizeof(*three); i++)
        if (strcmp(cur, three[i]) == 0)
            return 3;
    return 2;
}

/* A line's kind from the provider's type (and, for Stripe adjustments,
 * whether the source is a dispute). */
static const char *kind_of(const char *type, const char *ref)
{
    static const char *const map[][2] = {
        {"charge", "payment"}, {"payment", "payment"}, {"refund", "refund"},
        {"payment_refund", "refund"}, {"dispute", "dispute"}, {"chargeback", "dispute"},
        {"stripe_fee", "fee"}, {"fee", "fee"}, {"application_fee", "fee"},
        {"stripe_fx_fee", "fee"}, {"tax", "fee"}, {"payout", "payout"}, {"transfer", "payout"}};
    if (!type)
        return "payment";
    if (strcasecmp(type, "adjustment") == 0)
        return ref && (strncmp(ref, "dp_", 3) == 0 || strncmp(ref, "du_", 3) == 0) ? "dispute"
                                                                                   : "other";
    for (size_t i = 0; i < sizeof(map) / sizeof(*map); i++)
        if (strcasecmp(type, map[i][0]) == 0)
            return map[i][1];
    return "other";
}

/* "2026-12-02", "2026-12-02 14:33", "2026-12-02T14:33:07.5Z", "...+02:00". */
static int is_timestamp(const char *s)
{
    int y, mo, d, h = 0, mi = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || mo < 1 || mo > 12 ||
        d < 1 || d > 31)
        return 0;
    s += n;
    if (!*s)
        return 1;
    if ((*s != ' ' && *s != 'T') || sscanf(s + 1, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5 ||
        h > 23 || mi > 59)
        return 0;
    for (s += 6; *s; s++)
        if (!strchr("0123456789:.Z+-", *s))
            return 0;
    return 1;
}

/* Column indexes of a format in a header, in the order of tz_settle_cols_t. */
enum { C_LINE, C_TYPE, C_REF, C_PAY, C_REFUND, C_AMOUNT, C_FEE, C_CUR, C_CREATED, C_N };

static const char *find_columns(apr_pool_t *p, const tz_settle_cols_t *c,
                                const apr_array_header_t *header, int *at)
{
    const char *names[C_N] = {c->line_id, c->type, c->ref, c->our_payment, c->our_refund,
                              c->amount, c->fee, c->currency, c->created};
    for (int i = 0; i < C_N; i++) {
        at[i] = tz_csv_column(header, names[i] ? names[i] : "");
        int required = i == C_LINE || i == C_AMOUNT || i == C_FEE || i == C_CUR ||
                       (i == C_TYPE && names[i]);
        if (names[i] && required && at[i] < 0)
            return apr_psprintf(p, "line 1: the header has no column \"%s\"", names[i]);
    }
    return NULL;
}

/* An amount column of a record; NULL or what is wrong. */
static const char *amount_at(apr_pool_t *p, const char *col, const char *text, int major,
                             const char *cur, int64_t *out)
{
    const char *why = major ? tz_money_parse(text, currency_exponent(cur), out)
                            : tz_parse_int64(text, out);
    if (!why && (*out > TZ_SETTLE_AMOUNT_MAX || *out < -TZ_SETTLE_AMOUNT_MAX))
        why = "is too large";
    return why ? apr_psprintf(p, "column \"%s\" %s", col, why) : NULL;
}

/* A field, or NULL when empty. */
static const char *opt(const apr_array_header_t *rec, int i)
{
    const char *v = tz_csv_at(rec, i);
    return *v ? v : NULL;
}

static const char *one_line(apr_pool_t *p, const tz_settle_cols_t *c, const int *at,
                            const apr_array_header_t *rec, const tz_fee_rule_t *rule,
                            tz_settle_line_t *l)
{
    const char *cur = apr_pstrdup(p, tz_csv_at(rec, at[C_CUR])), *why;
    memset(l, 0, sizeof(*l));
    for (char *u = (char *)cur; *u; u++)
        *u = (char)toupper((unsigned char)*u);
    if (tz_parse_currency(cur))
        return apr_psprintf(p, "column \"%s\" must be an ISO 4217 code", c->currency);
    if (!(l->line_id = opt(rec, at[C_LINE])) || strlen(l->line_id) > 255)
        return apr_psprintf(p, "column \"%s\" must be 1 to 255 characters", c->line_id);
    l->ref = opt(rec, at[C_REF]);
    l->kind = kind_of(c->type ? tz_csv_at(rec, at[C_TYPE]) : NULL, l->ref);
    l->our_id = opt(rec, at[strcmp(l->kind, "refund") == 0 ? C_REFUND : C_PAY]);
    if (l->our_id && !tz_is_uuid(l->our_id))
        l->our_id = NULL; /* another integration's reference: matched by ref */
    l->currency = cur;
    if ((why = amount_at(p, c->amount, tz_csv_at(rec, at[C_AMOUNT]), c->major_units, cur,
                         &l->amount)) ||
        (why = amount_at(p, c->fee, *tz_csv_at(rec, at[C_FEE]) ? tz_csv_at(rec, at[C_FEE]) : "0",
                         c->major_units, cur, &l->fee)))
        return why;
    if ((l->created = opt(rec, at[C_CREATED])) && !is_timestamp(l->created))
        return apr_psprintf(p, "column \"%s\" must be a date or a timestamp", c->created);
    if (rule && strcmp(l->kind, "payment") == 0 && l->amount >= 0) {
        l->has_expected_fee = 1;
        l->expected_fee = tz_fee_rule_apply(rule, l->amount);
    }
    return NULL;
}

const char *tz_settle_read(apr_pool_t *p, int fmt, const char *buf, size_t len,
                           const tz_fee_rule_t *rule, apr_array_header_t **lines)
{
    apr_array_header_t *recs;
    int line, at[C_N];
    const char *why;
    *lines = apr_array_make(p, 64, sizeof(tz_settle_line_t));
    if (fmt < 0 || fmt > TZ_SETTLE_GENERIC)
        return "no settlement report format for this provider";
    if ((why = tz_csv_read(p, buf, len, &recs, &line)))
        return apr_psprintf(p, "line %d: %s", line, why);
    if (recs->nelts == 0)
        return "line 1: the file has no header";
    if ((why = find_columns(p, &tz_settle_cols[fmt], APR_ARRAY_IDX(recs, 0, apr_array_header_t *),
                            at)))
        return why;
    for (int i = 1; i < recs->nelts; i++)
        if ((why = one_line(p, &tz_settle_cols[fmt], at,
                            APR_ARRAY_IDX(recs, i, apr_array_header_t *), rule,
                            apr_array_push(*lines))))
            return apr_psprintf(p, "record %d: %s", i + 1, why);
    return NULL;
}

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *tz_settle_json(apr_pool_t *p, const apr_array_header_t *lines)
{
    json_t *arr = tz_json_pool(p, json_array());
    for (int i = 0; i < lines->nelts; i++) {
        const tz_settle_line_t *l = &APR_ARRAY_IDX(lines, i, tz_settle_line_t);
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:o, s:o, s:I, s:I, s:s, s:o, s:o}", "line_id", l->line_id,
                           "kind", l->kind, "ref", text_or_null(l->ref), "our_id",
                           text_or_null(l->our_id), "amount", (json_int_t)l->amount, "fee",
                           (json_int_t)l->fee, "currency", l->currency, "created",
                           text_or_null(l->created), "expected_fee",
                           l->has_expected_fee ? json_integer(l->expected_fee) : json_null()));
    }
    return arr;
}
