/* Paying from the wallet: a tip debited from the payer's cashback balance,
 * then the main one, succeeded at once (POST /payments/initiate with
 * source wallet or wallet_first), and GET /payments/quote, what a tip made
 * now would post. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_payments.h"
#include "tz_parse.h"
#include "tz_validate.h"

void tz_payment_rewards(tz_req_t *q, const char **out)
{
    tz_rewards_args(q->r->pool, q->cfg, out);
}

void tz_payment_reserve(tz_req_t *q, const char **out)
{
    out[0] = apr_itoa(q->r->pool, q->cfg->reserve_bps);
    out[1] = apr_itoa(q->r->pool, q->cfg->reserve_days);
}

void tz_rewards_args(apr_pool_t *p, const tz_cfg_t *c, const char **out)
{
    out[0] = apr_itoa(p, c->cashback_bps);
    out[1] = apr_psprintf(p, "%" APR_INT64_T_FMT, c->cashback_cap);
    out[2] = apr_psprintf(p, "%" APR_INT64_T_FMT, c->referral_bonus);
}

static int wallet_refused(tz_req_t *q, json_t *res)
{
    request_rec *r = q->r;
    const char *err = tz_json_str(res, "error");
    if (tz_is_refusal(err))
        return tz_send_refusal(r, err);
    if (strcmp(err, "creator_not_found") == 0)
        return tz_send_invalid(r, "creator_id", "is not a creator");
    if (strcmp(err, "invalid_splits") == 0)
        return tz_send_invalid(r, "splits", tz_json_str(res, "message"));
    if (strcmp(err, "own_wallet") == 0)
        return tz_send_invalid(r, "creator_id", "is yourself: a wallet cannot pay itself");
    return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "insufficient_funds", "amount",
                                 apr_psprintf(r->pool, "exceeds the wallet's main and cashback "
                                              "balances together (%" APR_INT64_T_FMT ")",
                                              (apr_int64_t)tz_json_int(res, "available", 0)));
}

int tz_payment_from_wallet(tz_req_t *q, const tz_new_payment_t *np, tz_idem_key_t *key,
                           int fallback)
{
    request_rec *r = q->r;
    const char *args[15];
    json_t *res;
    args[0] = np->id;
    args[1] = q->user.id;
    args[2] = tz_json_str(q->body, "creator_id");
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)np->amount);
    args[4] = np->currency;
    args[5] = tz_json_str(q->body, "message");
    args[6] = apr_itoa(r->pool, q->cfg->fee_bps);
    tz_payment_rewards(q, &args[7]);
    args[10] = key->key;
    args[11] = np->splits;
    args[12] = q->cfg->tax_json;
    tz_payment_reserve(q, &args[13]);
    if (tz_db_json(r, TZ_Q_PAYMENT_WALLET, args, &res) != OK || !res) {
        tz_idem_release(q, key);
        return tz_send_db_unavailable(r);
    }
    if (json_object_get(res, "error")) {
        /* wallet_first: a wallet that cannot cover it leaves it to the provider */
        if (fallback && strcmp(tz_json_str(res, "error"), "insufficient_funds") == 0)
            return DECLINED;
        tz_idem_release(q, key);
        return wallet_refused(q, res);
    }
    tz_cache_forget_payment(q, res); /* the creators' earnings changed */
    return tz_send_json(r, HTTP_CREATED, res);
}

/* ?name= as an amount of minor units, or NULL with a 422 sent. */
static const char *amount_arg(tz_req_t *q, int64_t *amount)
{
    const char *v = tz_query_arg(q->r, "amount");
    if (!v || tz_parse_int64(v, amount) || *amount <= 0)
        return tz_send_invalid(q->r, "amount", "must be a positive integer of minor units"), NULL;
    return v;
}

/* GET /payments/quote?amount=&currency=&creator_id=&source= */
int tz_h_payment_quote(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[9], *source = tz_query_arg(r, "source");
    const char *currency = tz_query_arg(r, "currency");
    int64_t amount;
    json_t *out;
    if (!(args[2] = amount_arg(q, &amount)))
        return OK;
    currency = currency ? currency : q->cfg->default_currency;
    if (tz_payment_amount_ok(q, amount, currency) != OK)
        return OK;
    if (!tz_is_uuid(args[1] = tz_query_arg(r, "creator_id")))
        return tz_send_invalid(r, "creator_id", "must be a UUID");
    if (tz_payment_source_ok(q, source, &source) != OK)
        return OK;
    args[0] = q->user.id;
    args[3] = currency;
    args[4] = source;
    args[5] = apr_itoa(r->pool, q->cfg->fee_bps);
    tz_payment_rewards(q, &args[6]);
    args[8] = q->cfg->tax_json; /* (in place of the referral bonus, which a quote leaves out) */
    if (tz_db_json(r, TZ_Q_PAYMENT_QUOTE, args, &out) != OK || !out)
        return tz_send_db_unavailable(r);
    if (json_object_get(out, "error"))
        return tz_send_invalid(r, "creator_id", "is not a creator");
    return tz_send_json(r, HTTP_OK, out);
}
