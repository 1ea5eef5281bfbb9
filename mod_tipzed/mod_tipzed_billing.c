/* The billing engine: each watchdog tick asks the database which
 * subscriptions and schedules are due (tz_api_billing_due) and moves each
 * one step (tz_api_billing_charge: a renewal or a charge from the payer's
 * wallet, past due, retried, ended), one transaction per item.  The item
 * is locked in that transaction and skipped by every other runner, and a
 * period is paid by one payment at most (sql/functions/55_billing.sql),
 * so several children or nodes sharing the database never charge twice.
 * When the wallet cannot cover a charge, a provider payment is offered to
 * the payer: a pending payment and its checkout, as for a tip. */
#include "mod_tipzed_billing.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_payments.h"
#include "mod_tipzed_providers.h"
#include "tz_crypto.h"

/* Items of each kind handled per pass. */
#define TZ_BILLING_BATCH "50"

const char *tz_billing_sandbox(const tz_cfg_t *c)
{
    return c->providers[TZ_PROV_SANDBOX].enabled ? "true" : "false";
}

void tz_billing_terms(apr_pool_t *p, const tz_cfg_t *c, const char **out)
{
    out[0] = apr_itoa(p, c->fee_bps);
    tz_rewards_args(p, c, &out[1]);
    /* the reserve in force when the charge is made, as the fee: an item
     * does not keep the terms it was created on (docs/risk.md) */
    out[4] = apr_itoa(p, c->reserve_bps);
    out[5] = apr_itoa(p, c->reserve_days);
}

/* The provider the item's links go through, and the payer's phone as it
 * takes it; NULL when none can (a provider that pushes the payment to a
 * phone needs one). */
static const tz_provider_t *offer_provider(apr_pool_t *p, server_rec *s, const tz_cfg_t *c,
                                           const tz_billing_item_t *item, const char **phone)
{
    const tz_provider_t *pv = tz_provider_choose(c, item->provider);
    if (!pv && item->provider)
        pv = tz_provider_choose(c, NULL);
    *phone = pv && pv->needs_msisdn ? tz_msisdn_normalize(p, item->phone) : item->phone;
    if (pv && (!pv->needs_msisdn || *phone) && item->api_url)
        return pv;
    ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10670)
                 "tipzed: %s %s is past due and no provider can take its payment link%s",
                 item->kind, item->id, pv && pv->needs_msisdn ? " (no phone number)" : "");
    return NULL;
}

void tz_billing_offer(apr_pool_t *p, server_rec *s, const tz_cfg_t *c,
                      const tz_billing_item_t *item)
{
    const char *phone, *ref, *args[14], *url, *done[5];
    const tz_provider_t *pv = offer_provider(p, s, c, item, &phone);
    tz_checkout_req_t cr;
    json_t *res;
    if (!pv)
        return;
    cr = tz_checkout_urls(p, c, pv, item->api_url, tz_uuid4(p));
    cr.amount = tz_payment_with_tax(c, item->amount);
    cr.currency = item->currency;
    cr.phone_number = phone;
    args[0] = item->kind, args[1] = item->id, args[2] = cr.payment_id, args[3] = pv->name;
    tz_billing_terms(p, c, &args[4]);
    args[10] = apr_psprintf(p, "%" APR_INT64_T_FMT, c->payment_expiry);
    args[11] = pv->status && c->status_poll > 0
                   ? apr_psprintf(p, "%" APR_INT64_T_FMT, c->status_poll) : NULL;
    args[12] = pv->checkout_link ? tz_provider_checkout(p, s, c, pv, &cr, &ref) : NULL;
    args[13] = c->tax_json;
    if (tz_db_server_json(p, s, TZ_Q_BILLING_OFFER, args, &res) != OK || !res ||
        !json_is_true(json_object_get(res, "offered")) || pv->checkout_link)
        return;
    cr.description = apr_pstrcat(p, strcmp(item->kind, "subscription") ? "Scheduled payment to "
                                 : "Membership of ", tz_json_str(res, "_creator_name"), NULL);
    cr.customer_email = tz_json_str(res, "_fan_email");
    url = tz_provider_checkout(p, s, c, pv, &cr, &ref);
    done[0] = cr.payment_id;
    done[1] = url && *url ? url : NULL;
    done[2] = url ? "false" : "true";
    done[3] = NULL;
    done[4] = ref;
    if (!url)
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s, APLOGNO(10671)
                     "tipzed: %s could not make the payment link of %s %s; offered again at "
                     "the next retry", pv->name, item->kind, item->id);
    tz_db_server_json(p, s, TZ_Q_PAYMENT_CHECKOUT, done, &res);
}

int tz_billing_created(tz_req_t *q, const char *kind, json_t *res, const tz_provider_t *pv,
                       const char *phone, tz_idem_key_t *key)
{
    request_rec *r = q->r;
    const char *args[4] = {kind, tz_json_str(res, "id"), q->user.id, key->key};
    tz_billing_item_t item = {kind, args[1], tz_json_int(res, "amount", 0),
                              tz_json_str(res, "currency"), pv ? pv->name : NULL, phone,
                              tz_api_url(r)};
    if (!json_object_get(res, "_offer"))
        return tz_send_json(r, HTTP_CREATED, res);
    tz_billing_offer(r->pool, r->server, q->cfg, &item);
    if (tz_db_json(r, TZ_Q_BILLING_ANSWER, args, &res) != OK || !res) {
        tz_idem_release(q, key);
        return tz_send_db_unavailable(r);
    }
    if (tz_json_str(res, "error")) {
        tz_idem_release(q, key);
        return tz_send_problem(r, HTTP_BAD_GATEWAY, "provider_unavailable",
                               apr_pstrcat(r->pool, "the payment provider failed; the ", kind,
                                           " ended unpaid and may be made again", NULL));
    }
    return tz_send_json(r, HTTP_CREATED, res);
}

/* "wallet" (the default) or "provider": 422 naming "source" otherwise. */
int tz_billing_source_ok(tz_req_t *q, const char **source)
{
    *source = tz_json_str(q->body, "source");
    *source = *source ? *source : "wallet";
    if (strcmp(*source, "wallet") && strcmp(*source, "provider"))
        return tz_send_invalid(q->r, "source", "must be \"wallet\" or \"provider\""), DONE;
    return OK;
}

/* The provider later links go through: required for source provider,
 * else checked only when the body names one or a phone number. */
int tz_billing_provider_ok(tz_req_t *q, const char *source, const tz_provider_t **pv,
                           const char **phone)
{
    *pv = NULL;
    *phone = NULL;
    if (strcmp(source, "provider") && !tz_json_str(q->body, "provider") &&
        !tz_json_str(q->body, "phone_number"))
        return OK;
    return tz_payment_provider_ok(q, pv, phone);
}

/* 404, or 409 naming the state that forbids the action. */
int tz_billing_action_refused(tz_req_t *q, json_t *res, const char *what, const char *verb)
{
    request_rec *r = q->r;
    if (strcmp(tz_json_str(res, "error"), "not_found") == 0)
        return tz_send_problem(r, HTTP_NOT_FOUND, "not_found",
                               apr_pstrcat(r->pool, "no such ", what, " of yours", NULL));
    return tz_send_problem(r, HTTP_CONFLICT, "invalid_state",
                           apr_psprintf(r->pool, "a %s that is %s cannot be %s", what,
                                        tz_json_str(res, "status"), verb));
}

/* The creators whose cached profiles a charge changed. */
static void forget_creators(apr_pool_t *p, server_rec *s, json_t *res)
{
    json_t *v;
    size_t i;
    json_array_foreach(json_object_get(res, "creator_ids"), i, v)
        tz_cache_forget_server(p, s, json_string_value(v));
}

/* One due item moved one step. */
static int charge_one(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, json_t *due)
{
    const char *args[11], *outcome;
    json_t *res, *o;
    args[0] = tz_json_str(due, "kind");
    args[1] = tz_json_str(due, "id");
    args[2] = tz_billing_sandbox(c);
    args[3] = apr_psprintf(p, "%" APR_INT64_T_FMT, c->billing_grace);
    tz_billing_terms(p, c, &args[4]);
    args[10] = c->tax_json;
    if (tz_db_server_json(p, s, TZ_Q_BILLING_CHARGE, args, &res) != OK || !res)
        return 0;
    outcome = tz_json_str(res, "outcome");
    if (strcmp(outcome, "charged") == 0)
        forget_creators(p, s, res);
    if ((o = json_object_get(res, "offer"))) {
        tz_billing_item_t item = {args[0], args[1], tz_json_int(o, "amount", 0),
                                  tz_json_str(o, "currency"), tz_json_str(o, "provider"),
                                  tz_json_str(o, "phone_number"), tz_json_str(o, "api_url")};
        tz_billing_offer(p, s, c, &item);
    }
    if (strcmp(outcome, "busy") == 0 || strcmp(outcome, "not_due") == 0)
        return 0; /* another runner's */
    ap_log_error(APLOG_MARK, strcmp(outcome, "charged") && strcmp(outcome, "past_due") &&
                 strcmp(outcome, "ended") ? APLOG_DEBUG : APLOG_INFO, 0, s, APLOGNO(10672)
                 "tipzed: %s %s: %s", args[0], args[1], outcome);
    return 1;
}

int tz_billing_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c)
{
    const char *args[2] = {tz_billing_sandbox(c), TZ_BILLING_BATCH};
    json_t *due;
    size_t i;
    int n = 0;
    if (tz_db_server_json(p, s, TZ_Q_BILLING_DUE, args, &due) != OK || !json_is_array(due))
        return 0;
    for (i = 0; i < json_array_size(due); i++)
        n += charge_one(p, s, c, json_array_get(due, i));
    return n;
}
