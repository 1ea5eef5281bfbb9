/* The billing engine (mod_tipzed_billing.c): renewals of subscriptions
 * and the charges of schedules, made by the watchdog on every node; the
 * claims are the database's (tz_api_billing_charge), so each charge is
 * made once however many nodes run it. */
#ifndef MOD_TIPZED_BILLING_H
#define MOD_TIPZED_BILLING_H
#include "mod_tipzed.h"
#include "mod_tipzed_idempotency.h"

/* What a provider link is offered for: an item's unpaid period. */
typedef struct {
    const char *kind;     /* "subscription" or "schedule" */
    const char *id;
    int64_t amount;
    const char *currency;
    const char *provider; /* the item's, or NULL: the server's default */
    const char *phone;    /* the payer's, as the provider takes it, or NULL */
    const char *api_url;  /* the API's absolute base URL */
} tz_billing_item_t;

/* "true" when the billing clock may be moved here (TipzedSandbox On). */
const char *tz_billing_sandbox(const tz_cfg_t *c);
/* The terms of a charge of the moment, six SQL arguments from out[0]:
 * the fee (bps), the cashback rate (bps) and monthly cap, the referral
 * bonus, the rolling reserve (bps, days). */
void tz_billing_terms(apr_pool_t *p, const tz_cfg_t *c, const char **out);
/* Offers a provider payment for the item's unpaid period (none when one
 * is pending, the period is paid, or no enabled provider can take it):
 * the payment, then its checkout.  Logs what failed. */
void tz_billing_offer(apr_pool_t *p, server_rec *s, const tz_cfg_t *c,
                      const tz_billing_item_t *item);
/* The request's "source": "wallet" (the default) or "provider"; OK, or
 * DONE with a 422 naming "source" sent. */
int tz_billing_source_ok(tz_req_t *q, const char **source);
/* The provider an item's links go through and the payer's phone as it
 * takes it: required for source provider, else checked only when the body
 * names a provider or a phone number (*pv NULL: the server's default at
 * the time).  OK, or DONE with a 422 sent. */
int tz_billing_provider_ok(tz_req_t *q, const char *source, const tz_provider_t **pv,
                           const char **phone);
/* What an action's SQL function refused: 404, or 409 naming the state
 * ("a <what> that is <status> cannot be <verb>"). */
int tz_billing_action_refused(tz_req_t *q, json_t *res, const char *what, const char *verb);
/* Answers the creation of a subscription or a schedule (kind) that the
 * SQL function answered res: 201 with it; or, when res asks for the
 * first payment to be offered ("_offer"), after offering it through pv
 * (phone: the payer's, as pv takes it), 201 with the link, or 502 when
 * the provider could not make one (the item ended, the key released). */
int tz_billing_created(tz_req_t *q, const char *kind, json_t *res, const tz_provider_t *pv,
                       const char *phone, tz_idem_key_t *key);
/* One pass of the engine over the items due: how many it acted on. */
int tz_billing_run(apr_pool_t *p, server_rec *s, const tz_cfg_t *c);

#endif
