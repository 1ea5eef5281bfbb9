/* Making payments: what tips, wallet payments and top-ups share
 * (mod_tipzed_payments.c, mod_tipzed_wallet_pay.c, mod_tipzed_topups.c). */
#ifndef MOD_TIPZED_PAYMENTS_H
#define MOD_TIPZED_PAYMENTS_H
#include "mod_tipzed.h"
#include "mod_tipzed_idempotency.h"
#include "tz_provider.h"
#include "tz_sql.h"

/* A payment about to be made. */
typedef struct {
    const char *id;
    int64_t amount;
    const char *currency;
    const tz_provider_t *pv;  /* NULL: paid from the wallet */
    const char *phone;        /* as the provider takes it, or NULL */
    int topup;                /* into the payer's own wallet */
    const char *splits;       /* a tip's splits as the SQL functions take them, or NULL */
} tz_new_payment_t;

/* Answers a {"error": ...} of the creating SQL function (a 4xx). */
typedef int (*tz_refused_fn)(tz_req_t *q, json_t *res);

/* What a price is paid with TipzedTax (tz_tax.h): the price itself when
 * the tax is included or off. */
int64_t tz_payment_with_tax(const tz_cfg_t *c, int64_t price);
/* OK, or DONE with a 422 sent: the amount within TipzedMinPayment ..
 * TipzedMaxPayment, the currency accepted. */
int tz_payment_amount_ok(tz_req_t *q, int64_t amount, const char *currency);
/* OK with the provider (the body's "provider", else the default) and the
 * payer's phone as it takes it; or DONE with a 422 sent. */
int tz_payment_provider_ok(tz_req_t *q, const tz_provider_t **provider, const char **phone);
/* OK with the payment's source (given, or "provider" when NULL); or DONE
 * with a 422 naming "source" sent. */
int tz_payment_source_ok(tz_req_t *q, const char *given, const char **source);
/* Seconds until the provider is first asked about a payment, or NULL. */
const char *tz_payment_poll_in(tz_req_t *q, const tz_provider_t *pv);
/* The payer's rewards of the moment, three arguments from out[0]: the
 * cashback rate (bps) and monthly cap, the referral bonus. */
void tz_payment_rewards(tz_req_t *q, const char **out);
/* The same outside requests (the billing engine's charges). */
void tz_rewards_args(apr_pool_t *p, const tz_cfg_t *c, const char **out);
/* TipzedReserve, two arguments from out[0]: the share held (bps) and for
 * how many days (0 0: no reserve). */
void tz_payment_reserve(tz_req_t *q, const char **out);

/* Creates the payment by the SQL function create (args[url_slot] receives
 * a redirect gateway's link) and its provider's checkout, and answers 201
 * with the payment; or a problem (refused for the function's errors, 502
 * when the provider fails, 503), the key released. */
int tz_payment_through_provider(tz_req_t *q, const tz_new_payment_t *np, tz_query_e create,
                                const char **args, int url_slot, tz_idem_key_t *key,
                                tz_refused_fn refused);

/* A tip from the payer's wallet (mod_tipzed_wallet_pay.c): answered, or,
 * when fallback is set and the wallet cannot cover it, DECLINED for the
 * caller to go through the provider. */
int tz_payment_from_wallet(tz_req_t *q, const tz_new_payment_t *np, tz_idem_key_t *key,
                           int fallback);

/* The columns of a CSV export of payments (/payments, /admin/transactions). */
#define TZ_PAYMENT_NCOLS 16
extern const char *const tz_payment_cols[TZ_PAYMENT_NCOLS];

#endif
