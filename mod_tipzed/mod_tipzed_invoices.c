/* /invoices: every credited payment's invoice and every refund's credit
 * note, issued in the transaction that moved the money
 * (sql/functions/67_invoices.sql); their buyer, their seller and admins
 * read them, as JSON or as a PDF page (tz_pdf.c), anyone else gets 404. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_list.h"
#include "tz_parse.h"
#include "tz_pdf.h"

/* The invoice as the caller may see it, or NULL with a 404 or 503 sent. */
static json_t *invoice_of(tz_req_t *q)
{
    const char *args[3] = {q->id, q->user.id, q->user.role};
    json_t *res;
    if (!tz_is_uuid(q->id))
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such invoice"), NULL;
    if (tz_db_json(q->r, TZ_Q_INVOICE_GET, args, &res) != OK)
        return tz_send_db_unavailable(q->r), NULL;
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such invoice"), NULL;
    return res;
}

int tz_h_invoice_get(tz_req_t *q)
{
    json_t *res = invoice_of(q);
    return res ? tz_send_json(q->r, HTTP_OK, res) : OK;
}

int tz_h_invoices_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_INVOICES_LIST, "invoices", TZ_CURSOR_UUID,
                                   NULL, 0, NULL, NULL};
    const char *args[5] = {q->user.id, q->user.role, NULL, NULL, NULL};
    return tz_list(q, &list, args, 5);
}

/* GET /invoices/{id}/pdf: the same document, rendered (TipzedInvoiceFont). */
int tz_h_invoice_pdf(tz_req_t *q)
{
    request_rec *r = q->r;
    json_t *res = invoice_of(q);
    const char *pdf, *err;
    size_t len;
    if (!res)
        return OK;
    if (tz_pdf_invoice(r->pool, res, q->cfg->invoice_font, &pdf, &len, &err) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, APLOGNO(10675)
                      "tipzed: invoice %s cannot be rendered: %s", q->id, err);
        return tz_send_problem(r, HTTP_SERVICE_UNAVAILABLE, "pdf_unavailable",
                               "the invoice cannot be rendered now; its JSON is at /invoices/{id}");
    }
    ap_set_content_type(r, "application/pdf");
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-store");
    apr_table_setn(r->headers_out, "Content-Disposition",
                   apr_psprintf(r->pool, "inline; filename=\"%s.pdf\"",
                                tz_json_str(res, "number")));
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only)
        ap_rwrite(pdf, (int)len, r);
    return OK;
}
