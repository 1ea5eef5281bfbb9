/* The sandbox provider's checkout page (TipzedSandbox On): its Approve /
 * Decline buttons send a correctly signed generic webhook from the
 * browser, so the whole flow runs on one machine, like a provider's test
 * mode.  The signed deliveries are embedded in the page as JSON (id
 * "tipzed-sandbox"), which scripts and tests can post as well. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "tz_sig.h"

/* {"body": <raw delivery>, "signature": <X-Tipzed-Signature>} */
static json_t *signed_delivery(tz_req_t *q, json_t *pay, const char *status)
{
    apr_pool_t *p = q->r->pool;
    long long now = apr_time_sec(apr_time_now());
    const tz_prov_cfg_t *sbx = &q->cfg->providers[TZ_PROV_SANDBOX];
    json_t *ev = tz_json_pool(p, json_pack("{s:s, s:s, s:I, s:s, s:O, s:O}",
        "payment_id", q->id, "status", status, "timestamp", (json_int_t)now,
        "provider_transaction_id", apr_pstrcat(p, "sbx_", tz_random_hex(p, 8), NULL),
        "amount", json_object_get(pay, "amount"), "currency", json_object_get(pay, "currency")));
    const char *body = tz_json_dump(p, ev);
    return json_pack("{s:s, s:s}", "body", body,
                     "signature", tz_sig_sign_tv1(p, sbx->webhook_secret, sbx->webhook_secret_len, body,
                                                strlen(body), now));
}

static const char *page(tz_req_t *q, json_t *pay, const char *data)
{
    return apr_psprintf(q->r->pool,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>Tipzed sandbox checkout</title></head>\n<body>\n"
        "<h1>Sandbox checkout</h1>\n<p>Tip of %" APR_INT64_T_FMT " %s (minor units) to %s. "
        "Status: <strong id=\"status\">%s</strong></p>\n"
        "<button id=\"approve\">Approve</button> <button id=\"decline\">Decline</button>\n"
        "<p id=\"result\"></p>\n"
        "<script type=\"application/json\" id=\"tipzed-sandbox\">%s</script>\n"
        "<script>\nconst d = JSON.parse(document.getElementById('tipzed-sandbox').textContent);\n"
        "for (const k of ['approve', 'decline']) document.getElementById(k).onclick = async () => {\n"
        "  const r = await fetch(d.webhook, {method: 'POST', body: d[k].body, headers: {\n"
        "    'Content-Type': 'application/json', 'X-Tipzed-Signature': d[k].signature}});\n"
        "  document.getElementById('result').textContent = r.status + ' ' + await r.text();\n};\n"
        "</script>\n</body></html>\n",
        (apr_int64_t)json_integer_value(json_object_get(pay, "amount")),
        ap_escape_html(q->r->pool, json_string_value(json_object_get(pay, "currency"))),
        ap_escape_html(q->r->pool, json_string_value(json_object_get(pay, "creator"))
                                       ? json_string_value(json_object_get(pay, "creator")) : ""),
        ap_escape_html(q->r->pool, json_string_value(json_object_get(pay, "status"))), data);
}

int tz_h_sandbox_checkout(tz_req_t *q)
{
    request_rec *r = q->r;
    json_t *pay, *data;
    const char *args[1] = {q->id}, *prov;
    char *text;
    if (!q->cfg->providers[TZ_PROV_SANDBOX].enabled)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "the sandbox is off");
    if (tz_db_json(r, TZ_Q_PAYMENT_PUBLIC, args, &pay) != OK)
        return tz_send_db_unavailable(r);
    prov = pay ? tz_json_str(pay, "provider") : NULL;
    if (!prov || strcmp(prov, "sandbox") != 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such sandbox payment");
    data = tz_json_pool(r->pool, json_pack("{s:s, s:o, s:o}", "webhook",
        apr_pstrcat(r->pool, tz_api_url(r), "/webhooks/sandbox", NULL),
        "approve", signed_delivery(q, pay, "success"), "decline", signed_delivery(q, pay, "failed")));
    text = json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH);
    const char *html = page(q, pay, text ? apr_pstrdup(r->pool, text) : "{}");
    free(text);
    ap_set_content_type(r, "text/html; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; connect-src 'self'");
    ap_rputs(html, r);
    return OK;
}
