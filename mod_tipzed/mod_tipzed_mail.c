/* Mail from the outbox (docs/mail.md), on a watchdog of its own: a claimed
 * mail's template, read
 * from TipzedMailTemplates when that directory holds a file of its name,
 * else the one shipped in conf/mail/ and embedded at build time; filled
 * from the event's data; a receipt carries its invoice as a PDF; sent
 * through TipzedSMTP. */
#include "mod_tipzed_outbox.h"
#include "mod_tipzed_billing.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_watchdog.h"
#include "tz_http_client.h"
#include "tz_mailtmpl.h"
#include "tz_outbox.h"
#include "tz_pdf.h"
#include "tz_token.h"
#include "apr_file_io.h"

#define TZ_TEMPLATE(name)                                                            \
    __asm__(".section .rodata\n"                                                     \
            ".type tz_mail_" #name ", @object\n"                                     \
            "tz_mail_" #name ":\n"                                                   \
            ".incbin \"mail/" #name ".txt\"\n"                                       \
            ".byte 0\n"                                                              \
            ".previous\n");                                                          \
    extern const char tz_mail_##name[] __asm__("tz_mail_" #name)

TZ_TEMPLATE(payment_succeeded);
TZ_TEMPLATE(payout_approved);
TZ_TEMPLATE(payout_completed);
TZ_TEMPLATE(payout_rejected);
TZ_TEMPLATE(payout_failed);
TZ_TEMPLATE(subscription_past_due);
TZ_TEMPLATE(subscription_canceled);
TZ_TEMPLATE(schedule_charge_failed);
TZ_TEMPLATE(webhook_endpoint_disabled);
TZ_TEMPLATE(email_verification);
TZ_TEMPLATE(password_reset);

#define T(name) {#name, tz_mail_##name}
static const struct {
    const char *name, *text;
} shipped[] = {
    T(payment_succeeded), T(payout_approved), T(payout_completed), T(payout_rejected),
    T(payout_failed), T(subscription_past_due), T(subscription_canceled),
    T(schedule_charge_failed), T(webhook_endpoint_disabled), T(email_verification),
    T(password_reset),
};

/* The operator's file of that name, read at each mail so that a changed
 * template needs no restart; else the shipped text; NULL when neither. */
static const char *template_text(apr_pool_t *p, const tz_cfg_t *c, const char *name)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n;
    if (c->mail_dir &&
        apr_file_open(&f, apr_pstrcat(p, c->mail_dir, "/", name, ".txt", NULL),
                      APR_FOPEN_READ, 0, p) == APR_SUCCESS) {
        if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) == APR_SUCCESS && fi.size < 65536) {
            n = (apr_size_t)fi.size;
            buf = apr_palloc(p, n + 1);
            if (apr_file_read_full(f, buf, n, &n) == APR_SUCCESS) {
                buf[n] = '\0';
                apr_file_close(f);
                return buf;
            }
        }
        apr_file_close(f);
    }
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++)
        if (strcmp(shipped[i].name, name) == 0)
            return shipped[i].text;
    return NULL;
}

/* The invoice of a receipt as a PDF attachment (none when it cannot be
 * rendered: the receipt still goes, its invoice stays at /invoices/{id}). */
static void attach_invoice(apr_pool_t *p, const tz_cfg_t *c, json_t *invoice, tz_mail_t *m)
{
    const char *pdf, *err;
    size_t len;
    if (!json_is_object(invoice) ||
        tz_pdf_invoice(p, invoice, c->invoice_font, &pdf, &len, &err) != 0)
        return;
    m->attach_name = apr_pstrcat(p, tz_json_str(invoice, "number"), ".pdf", NULL);
    m->attach_type = "application/pdf";
    m->attach = pdf;
    m->attach_len = len;
}

/* A receipt's invoice, as the template's fields: its number, its seller
 * (the creator, or the platform for a top-up) and its line. */
static void receipt_fields(json_t *data)
{
    json_t *inv = json_object_get(data, "invoice");
    if (!json_is_object(inv))
        return;
    json_object_set(data, "invoice_number", json_object_get(inv, "number"));
    json_object_set(data, "seller_name",
                    json_object_get(json_object_get(inv, "seller"), "name"));
    json_object_set(data, "description",
                    json_object_get(json_array_get(json_object_get(inv, "lines"), 0),
                                    "description"));
}

/* A mail of no event carries a token sealed to the mail's id
 * (mod_tipzed_accounts.c): opened here only, into the template's token and
 * link fields, never logged.  -1 when it does not open. */
static int token_fields(apr_pool_t *p, const tz_cfg_t *c, json_t *mail, json_t *data)
{
    const char *sealed = tz_json_str(mail, "secret");
    char *token;
    size_t len;
    if (!sealed)
        return 0;
    if (!json_is_object(data) ||
        tz_aead_open(p, (const tz_aead_key_t *)c->enc_keys->elts, (size_t)c->enc_keys->nelts,
                     apr_pstrcat(p, "mail:", tz_json_str(mail, "id"), NULL), sealed, &token,
                     &len) != 0)
        return -1;
    json_object_set_new(data, "token", json_string(token));
    json_object_set_new(data, "link", json_string(tz_token_link(
        p, c->account_url ? c->account_url : c->public_url, tz_json_str(data, "link_path"),
        token)));
    return 0;
}

static int mail_send(apr_pool_t *p, const tz_cfg_t *c, json_t *mail, const char **error)
{
    json_t *data = json_object_get(mail, "data");
    const char *tmpl = template_text(p, c, tz_json_str(mail, "template"));
    tz_smtp_cfg_t cfg = {c->smtp_url, c->smtp_from, (long)c->webhook_timeout * 1000};
    tz_mail_t m = {tz_json_str(mail, "to"), NULL, NULL, NULL, NULL, NULL, 0};
    if (!tmpl) {
        *error = "no template of that name";
        return -1;
    }
    if (json_is_object(data) && json_is_integer(json_object_get(data, "amount")))
        json_object_set_new(data, "amount_text",
                            json_string(tz_money_text(p, tz_json_int(data, "amount", 0),
                                                      tz_json_str(data, "currency"))));
    receipt_fields(data);
    if (token_fields(p, c, mail, data) != 0) {
        *error = "its token cannot be opened with the configured keys";
        return -1;
    }
    if (tz_mailtmpl_render(p, tmpl, data, &m.subject, &m.text, error) != 0)
        return -1;
    attach_invoice(p, c, json_object_get(data, "invoice"), &m);
    return tz_smtp_send(p, &cfg, &m, error);
}

#define TZ_MAIL_BATCH "20"
#define TZ_MAIL_LEASE "300"
/* A server that refused this many mails in a row is down, or refuses us:
 * the rest of the round waits for the retry instead of failing one by one. */
#define TZ_MAIL_GIVE_UP 3

/* One mail's outcome as tz_api_mail_report takes it. */
static json_t *mail_outcome(const tz_cfg_t *c, json_t *m, int sent, int tried, const char *err)
{
    return json_pack("{s:s, s:b, s:b, s:s?, s:I}", "id", tz_json_str(m, "id"), "sent", sent,
                     "skipped", !tried, "error", err, "delay", tz_outbox_retry_delay(c, m));
}

/* One round: claim, send, report.  The number of mails claimed. */
static int mail_round(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    const char *args[4] = {tz_random_hex(p, 16), TZ_MAIL_BATCH, TZ_MAIL_LEASE,
                           tz_billing_sandbox(c)}, *err = NULL, *first = NULL;
    json_t *claim, *m, *results = tz_json_pool(p, json_array());
    int in_a_row = 0, failures = 0;
    size_t i;
    if (!args[0] || tz_db_server_json(p, s, TZ_Q_MAIL_CLAIM, args, &claim) != OK || !claim ||
        json_array_size(claim) == 0)
        return 0;
    json_array_foreach(claim, i, m) {
        int tried = in_a_row < TZ_MAIL_GIVE_UP, sent = tried && mail_send(p, c, m, &err) == 0;
        in_a_row = sent ? 0 : in_a_row + tried;
        failures += tried && !sent;
        if (tried && !sent && !first)
            first = apr_psprintf(p, "%s (%s): %s", tz_json_str(m, "id"),
                                 tz_json_str(m, "template"), err);
        json_array_append_new(results, mail_outcome(c, m, sent, tried, sent ? NULL : err));
    }
    if (failures)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10682)
                     "tipzed: %d of %d mail(s) not sent, retried later; the first, %s", failures,
                     (int)json_array_size(claim), first);
    tz_outbox_report(p, s, c, TZ_Q_MAIL_REPORT, args[0], results);
    return in_a_row >= TZ_MAIL_GIVE_UP ? 0 : (int)json_array_size(claim);
}

void tz_mail_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    if (c->smtp_url)
        tz_outbox_rounds(p, s, c, mail_round);
}
