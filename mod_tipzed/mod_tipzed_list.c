/* Lists: a page by limit/offset or by starting_after, and CSV exports
 * streamed page by page (mod_tipzed_list.h). */
#include "mod_tipzed_list.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "http_log.h"
#include "util_filter.h"
#include "tz_csv.h"

/* The id of a page's last item, the next page's cursor: NULL when the
 * page is the last. */
static json_t *last_id(json_t *page)
{
    json_t *data = json_object_get(page, "data");
    size_t n = json_array_size(data);
    if (!n || !json_is_true(json_object_get(page, "has_more")))
        return NULL;
    return json_object_get(json_array_get(data, n - 1), "id");
}

/* last_id as query-string text, copied to p. */
static const char *next_cursor(apr_pool_t *p, json_t *page)
{
    json_t *id = last_id(page);
    if (json_is_integer(id))
        return apr_psprintf(p, "%" APR_INT64_T_FMT, (apr_int64_t)json_integer_value(id));
    return json_is_string(id) ? apr_pstrdup(p, json_string_value(id)) : NULL;
}

/* One page into *page (memory from p); a problem sent and DONE when the
 * query refused the cursor, found no list, or failed. */
static int fetch(tz_req_t *q, const tz_list_t *l, apr_pool_t *p, const char **args, json_t **page)
{
    int rc = tz_db_json_in(q->r, p, l->query, args, page);
    const char *err;
    if (rc == OK && !*page && l->missing)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", l->missing), DONE;
    if (rc != OK || !*page)
        return tz_send_db_unavailable(q->r), DONE;
    /* a cursor the caller cannot see reads as unknown: the order of
     * another user's rows never shows */
    if ((err = tz_json_str(*page, "error")) && strcmp(err, "starting_after") == 0)
        return tz_send_invalid(q->r, "starting_after", "is not found in this list"), DONE;
    if (l->fix)
        l->fix(q, p, *page);
    return OK;
}

static const char *const *columns(apr_pool_t *p, const tz_list_t *l, json_t *page, size_t *n)
{
    json_t *first = json_array_get(json_object_get(page, "data"), 0);
    apr_array_header_t *keys;
    if (l->cols || !first)
        return *n = l->ncols, l->cols;
    /* copied: the page's memory goes before the export ends */
    keys = tz_csv_columns(p, first);
    for (int i = 0; i < keys->nelts; i++)
        APR_ARRAY_IDX(keys, i, const char *) = apr_pstrdup(p, APR_ARRAY_IDX(keys, i, const char *));
    *n = (size_t)keys->nelts;
    return (const char *const *)keys->elts;
}

static void start_export(request_rec *r, const tz_list_t *l)
{
    apr_time_exp_t t;
    apr_time_exp_gmt(&t, apr_time_now());
    r->status = HTTP_OK;
    ap_set_content_type(r, "text/csv; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "attachment; filename=\"%s-%04d%02d%02d.csv\"", l->name,
                                t.tm_year + 1900, t.tm_mon + 1, t.tm_mday));
}

/* Writes the page's rows (after the header line when cols is given) and
 * flushes them to the client; non-zero when the client has gone. */
static int write_rows(request_rec *r, apr_bucket_brigade *bb, apr_pool_t *p, json_t *page,
                      const char *const *cols, size_t n, const char *header)
{
    size_t i;
    json_t *item;
    if (header)
        apr_brigade_puts(bb, NULL, NULL, header);
    json_array_foreach(json_object_get(page, "data"), i, item)
        apr_brigade_puts(bb, NULL, NULL, tz_csv_row(p, item, cols, n));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_flush_create(bb->bucket_alloc));
    apr_status_t rv = ap_pass_brigade(r->output_filters, bb);
    apr_brigade_cleanup(bb);
    return rv != APR_SUCCESS || r->connection->aborted;
}

/* Bytes went out already, so the answer cannot become a problem: the
 * response ends without its last chunk and the connection closes, which
 * a client sees as a truncated transfer rather than a complete short
 * file (an error bucket of 502 is how httpd's chunking filter is told). */
static int abort_export(tz_req_t *q, const tz_list_t *l, apr_bucket_brigade *bb, long rows)
{
    request_rec *r = q->r;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10710)
                  "tipzed: export of %s failed after %ld rows; the transfer is cut short",
                  l->name, rows);
    r->connection->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, r->pool,
                                                       bb->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(bb->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return OK;
}

/* The whole filtered list (from starting_after when given), TZ_EXPORT_PAGE
 * rows per query, each page written and flushed before the next is read,
 * in a subpool cleared between pages: memory stays bounded whatever the
 * list's size.  limit and offset do not apply. */
static int export(tz_req_t *q, const tz_list_t *l, const char **args, int nargs)
{
    request_rec *r = q->r;
    apr_pool_t *p;
    apr_bucket_brigade *bb;
    json_t *page;
    const char *const *cols;
    size_t n;
    long rows = 0;
    apr_pool_create(&p, r->pool);
    args[nargs - 3] = apr_psprintf(r->pool, "%d", TZ_EXPORT_PAGE);
    args[nargs - 2] = "0";
    if (fetch(q, l, p, args, &page) != OK)
        return OK;
    start_export(r, l);
    if (r->header_only)
        return OK;
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    cols = columns(r->pool, l, page, &n);
    for (const char *header = tz_csv_header(r->pool, cols, n);; header = NULL) {
        const char *next = next_cursor(r->pool, page);
        rows += (long)json_array_size(json_object_get(page, "data"));
        if (write_rows(r, bb, p, page, cols, n, header) || !next)
            return OK;
        apr_pool_clear(p);
        args[nargs - 1] = next;
        if (tz_db_json_in(r, p, l->query, args, &page) != OK || !page ||
            json_object_get(page, "error"))
            return abort_export(q, l, bb, rows);
        if (l->fix)
            l->fix(q, p, page);
    }
}

int tz_list(tz_req_t *q, const tz_list_t *l, const char **args, int nargs)
{
    tz_list_args_t a;
    json_t *page;
    const char *field, *why = tz_parse_list(tz_query_arg(q->r, "limit"),
                                            tz_query_arg(q->r, "offset"),
                                            tz_query_arg(q->r, "starting_after"),
                                            tz_query_arg(q->r, "format"), l->cursor, &a, &field);
    if (why)
        return tz_send_invalid(q->r, field, why);
    args[nargs - 1] = a.after;
    if (a.csv)
        return export(q, l, args, nargs);
    args[nargs - 3] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)a.limit);
    args[nargs - 2] = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)a.offset);
    if (fetch(q, l, q->r->pool, args, &page) != OK)
        return OK;
    json_t *next = last_id(page);
    json_object_set(page, "next_starting_after", next ? next : json_null());
    return tz_send_json(q->r, HTTP_OK, page);
}
