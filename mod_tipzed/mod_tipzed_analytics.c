/* Reports read from the ledger and its rollups (docs/analytics.md):
 * GET /creators/me/analytics, GET /wallets/me/statement (JSON or CSV,
 * streamed a page of lines at a time) and GET /wallets/me/balance?at=. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "http_protocol.h"
#include "util_filter.h"
#include "tz_analytics.h"
#include "tz_csv.h"
#include "tz_validate.h"

/* Lines read per call while a statement streams: memory stays bounded by
 * one page whatever the statement's length. */
#define STATEMENT_PAGE "500"

static const char *const csv_cols[] = {"created_at", "type", "id", "amount", "balance_after",
                                       "status", "payment_id", "payout_id", "bill_payment_id",
                                       "gross", "fee"};
#define CSV_NCOLS (sizeof(csv_cols) / sizeof(csv_cols[0]))

/* ?currency=, one of TipzedCurrencies (absent: the default); NULL after
 * answering 422. */
static const char *currency_or_422(tz_req_t *q)
{
    const char *c = tz_query_arg(q->r, "currency");
    if (c && !tz_cfg_currency_ok(q->cfg, c)) {
        tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "currency",
                              "is not an accepted currency");
        return NULL;
    }
    return c ? c : q->cfg->default_currency;
}

static int invalid(tz_req_t *q, const char *field, const char *why)
{
    return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", field, why);
}

int tz_h_creator_analytics(tz_req_t *q)
{
    request_rec *r = q->r;
    int64_t from, to, n;
    tz_bucket_e b;
    const char *field, *why, *cur;
    json_t *out;
    why = tz_analytics_range(tz_query_arg(r, "from"), tz_query_arg(r, "to"),
                             tz_query_arg(r, "interval"), &from, &to, &b, &n, &field);
    if (why)
        return invalid(q, field, why);
    if (!(cur = currency_or_422(q)))
        return OK;
    const char *args[5] = {q->user.id, cur, tz_format_date(r->pool, from),
                           tz_format_date(r->pool, to), tz_bucket_name(b)};
    if (tz_db_json(r, TZ_Q_CREATOR_ANALYTICS, args, &out) != OK || !out)
        return tz_send_db_unavailable(r);
    return tz_send_json(r, HTTP_OK, out);
}

int tz_h_wallet_balance_at(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *at = tz_query_arg(r, "at"), *cur;
    int64_t t;
    json_t *out;
    if (!at)
        return invalid(q, "at", "is required");
    if (tz_parse_timestamp(at, 1, &t) != 0)
        return invalid(q, "at", "must be an RFC 3339 date-time or a date (YYYY-MM-DD)");
    if (!(cur = currency_or_422(q)))
        return OK;
    const char *args[3] = {q->user.id, cur, tz_format_timestamp(r->pool, t)};
    if (tz_db_json(r, TZ_Q_WALLET_BALANCE_AT, args, &out) != OK || !out)
        return tz_send_db_unavailable(r);
    return tz_send_json(r, HTTP_OK, out);
}

/* One page of lines after posting *after (up to upto), read into p: the
 * text of its lines as JSON array members, separated by commas ("" for
 * none); *after moves on (in the request's pool), or becomes NULL at the
 * end.  NULL when the database failed. */
static const char *statement_page(tz_req_t *q, apr_pool_t *p, const char *cur,
                                  const char **after, const char *upto)
{
    const char *args[5] = {q->user.id, cur, *after, upto, STATEMENT_PAGE}, *text, *nl;
    if (tz_db_value_in(q->r, p, TZ_Q_WALLET_STATEMENT_LINES, args, &text) != OK || !text
        || !(nl = strchr(text, '\n')))
        return NULL;
    *after = nl > text ? apr_pstrmemdup(q->r->pool, text, (apr_size_t)(nl - text)) : NULL;
    return nl + 1;
}

/* A page's lines as JSON array members (a comma before each but the
 * statement's first) or CSV rows; 0, or -1 when the lines' text is not
 * JSON. */
static int write_lines(request_rec *r, apr_pool_t *p, const char *lines, int csv, int *first)
{
    size_t i;
    json_t *all, *l;
    const char *err;
    if (!*lines)
        return 0;
    if (!csv) {
        ap_rputs(*first ? "" : ",", r);
        ap_rputs(lines, r);
        *first = 0;
        return 0;
    }
    if (!(all = tz_json_parse(p, apr_pstrcat(p, "[", lines, "]", NULL), strlen(lines) + 2, &err)))
        return -1;
    json_array_foreach(all, i, l) {
        ap_rputs(tz_csv_row(p, l, csv_cols, CSV_NCOLS), r);
    }
    *first = 0;
    return 0;
}

/* The response has begun: a failure can only cut it, so that the client
 * sees an incomplete body, never a short statement that looks whole. */
static int statement_cut(request_rec *r)
{
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10720)
                  "tipzed: a statement's lines could not be read; the response was cut");
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_SERVICE_UNAVAILABLE, NULL, r->pool,
                                                        r->connection->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return OK;
}

/* The opening line, or the closing one, of a CSV statement. */
static void csv_balance_line(request_rec *r, const char *type, const char *at, json_t *balance)
{
    json_t *l = json_pack("{s:s, s:s, s:O}", "created_at", at, "type", type, "balance_after",
                          balance);
    ap_rputs(tz_csv_row(r->pool, l, csv_cols, CSV_NCOLS), r);
    json_decref(l);
}

static void statement_headers(tz_req_t *q, json_t *head, int csv, int64_t from, int64_t to)
{
    request_rec *r = q->r;
    r->status = HTTP_OK;
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-store");
    if (!csv) {
        ap_set_content_type(r, "application/json");
        return;
    }
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"statement-%s-%s-%s.csv\"",
                                tz_json_str(head, "currency"), tz_format_date(r->pool, from),
                                tz_format_date(r->pool, to)));
}

/* The head's fields, then "lines": [...] last (JSON); or the opening
 * line, the lines and the closing line (CSV). */
static int statement_stream(tz_req_t *q, const char *cur, json_t *head, apr_pool_t *p,
                            const char *page, const char *after, const char *upto, int csv)
{
    request_rec *r = q->r;
    int first = 1;
    if (csv) {
        ap_rputs(tz_csv_header(r->pool, csv_cols, CSV_NCOLS), r);
        csv_balance_line(r, "opening_balance", tz_json_str(head, "from"),
                         json_object_get(head, "opening_balance"));
    } else {
        char *text = tz_json_dump(r->pool, head);
        text[strlen(text) - 1] = '\0'; /* the closing brace: the lines come last */
        ap_rputs(text, r);
        ap_rputs(",\"lines\":[", r);
    }
    for (;;) {
        if (write_lines(r, p, page, csv, &first) != 0)
            return statement_cut(r);
        if (!after)
            break;
        ap_rflush(r);
        /* each page's memory goes once it is written: a statement of any
         * length holds one page */
        apr_pool_clear(p);
        if (!(page = statement_page(q, p, cur, &after, upto)))
            return statement_cut(r);
    }
    if (csv)
        csv_balance_line(r, "closing_balance", tz_json_str(head, "to"),
                         json_object_get(head, "closing_balance"));
    else
        ap_rputs("]}", r);
    return OK;
}

int tz_h_wallet_statement(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *format = tz_query_arg(r, "format"), *field, *why, *cur, *after, *upto;
    int64_t from, to;
    int csv;
    json_t *head;
    const char *page;
    apr_pool_t *p;
    if ((why = tz_statement_range(tz_query_arg(r, "from"), tz_query_arg(r, "to"), &from, &to,
                                  &field)))
        return invalid(q, field, why);
    if (format && strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
        return invalid(q, "format", "must be json or csv");
    csv = format && strcmp(format, "csv") == 0;
    if (!(cur = currency_or_422(q)))
        return OK;
    const char *args[4] = {q->user.id, cur, tz_format_timestamp(r->pool, from),
                           tz_format_timestamp(r->pool, to)};
    if (tz_db_json(r, TZ_Q_WALLET_STATEMENT, args, &head) != OK || !head)
        return tz_send_db_unavailable(r);
    after = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(head, "_after", 0));
    upto = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(head, "_upto", 0));
    json_object_del(head, "_after");
    json_object_del(head, "_upto");
    /* the first page is read before anything is sent: its failure is a 503 */
    apr_pool_create(&p, r->pool);
    apr_pool_tag(p, "tipzed_statement_page");
    if (!(page = statement_page(q, p, cur, &after, upto)))
        return tz_send_db_unavailable(r);
    statement_headers(q, head, csv, from, to);
    if (r->header_only)
        return OK;
    return statement_stream(q, cur, head, p, page, after, upto, csv);
}
