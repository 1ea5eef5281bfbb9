/* GET /payments/{id}/return: where a payer lands after a provider's
 * checkout, unless TipzedCheckoutReturnURL names the operator's own page.
 * It shows the payment's state and, while the webhook has not come, reloads
 * itself every few seconds until the state is final.  It needs no token:
 * the payer's browser has none, and the page shows only what the checkout
 * link already told the payer (amount, currency, creator, state). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"

#define TZ_RETURN_REFRESH "3" /* seconds between reloads while pending */

static const char *state_text(const char *status)
{
    static const struct { const char *status, *text; } t[] = {
        {"pending", "Waiting for the payment provider to confirm your payment."},
        {"succeeded", "Thank you: your payment was received."},
        {"failed", "The payment did not go through. Nothing was taken."},
        {"expired", "The payment was not completed in time."},
        {"refunded", "The payment was refunded."},
        {"review", "The payment is being checked. No action is needed from you."}};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(status, t[i].status) == 0)
            return t[i].text;
    return "";
}

int tz_h_payment_return(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[1] = {q->id}, *status, *creator;
    json_t *pay;
    if (tz_db_json(r, TZ_Q_PAYMENT_PUBLIC, args, &pay) != OK)
        return tz_send_db_unavailable(r);
    if (!pay)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such payment");
    status = tz_json_str(pay, "status");
    creator = tz_json_str(pay, "creator");
    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Content-Security-Policy", "default-src 'none'");
    apr_table_setn(r->headers_out, "Referrer-Policy", "no-referrer");
    ap_rprintf(r, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<title>Tipzed payment</title>%s</head>\n<body>\n<h1>Tip of %s %s to %s</h1>\n<p>Status: <strong id=\"status\">%s</strong></p>\n"
               "<p id=\"message\">%s</p>\n</body></html>\n",
               strcmp(status, "pending") == 0
                   ? "<meta http-equiv=\"refresh\" content=\"" TZ_RETURN_REFRESH "\">" : "",
               tz_minor_to_decimal(r->pool, tz_json_int(pay, "amount", 0)),
               ap_escape_html(r->pool, tz_json_str(pay, "currency")),
               ap_escape_html(r->pool, creator ? creator : ""), ap_escape_html(r->pool, status),
               state_text(status));
    return OK;
}
