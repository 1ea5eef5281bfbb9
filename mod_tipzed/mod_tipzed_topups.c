/* POST /wallets/me/topup: money into the payer's own wallet through a
 * provider's checkout, like a tip (the same adapters, webhooks,
 * verification and idempotency); a credit package adds its bonus from the
 * promotions account when the payment is credited. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_payments.h"
#include "mod_tipzed_velocity.h"
#include "tz_velocity.h"
#include "tz_parse.h"
#include "tz_schema.h"
#include "tz_validate.h"

static int topup_refused(tz_req_t *q, json_t *res)
{
    if (strcmp(tz_json_str(res, "error"), "package_changed") == 0)
        return tz_send_problem(q->r, HTTP_CONFLICT, "package_changed",
                               "the package changed while it was being bought; read it again");
    return tz_send_invalid(q->r, "package_id", "is not an active package");
}

/* The package's amount, currency and bonus into np and *bonus; or DONE
 * with the problem sent. */
static int read_package(tz_req_t *q, const char *id, tz_new_payment_t *np, const char **bonus)
{
    const char *args[1] = {id}, *given = tz_json_str(q->body, "currency");
    json_t *k;
    if (!tz_is_uuid(id))
        return tz_send_invalid(q->r, "package_id", "must be a UUID"), DONE;
    if (tz_db_json(q->r, TZ_Q_PACKAGE_TOPUP, args, &k) != OK)
        return tz_send_db_unavailable(q->r), DONE;
    if (!k)
        return tz_send_invalid(q->r, "package_id", "is not an active package"), DONE;
    np->amount = tz_json_int(k, "amount", 0);
    np->currency = tz_json_str(k, "currency");
    *bonus = apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(k, "bonus", 0));
    if (given && strcmp(given, np->currency) != 0)
        return tz_send_invalid(q->r, "currency", apr_pstrcat(q->r->pool, "differs from the package's (",
                                                     np->currency, ")", NULL)), DONE;
    return OK;
}

/* {package_id | amount, currency?, provider?, phone_number?} */
int tz_h_wallet_topup(tz_req_t *q)
{
    request_rec *r = q->r;
    tz_new_payment_t np = {tz_uuid4(r->pool), 0, NULL, NULL, NULL, 1, NULL};
    const char *package, *bonus = "0", *args[15];
    json_t *amount;
    tz_idem_key_t key;
    if (tz_validate_or_422(q, &tz_schema_topup))
        return OK;
    package = tz_json_str(q->body, "package_id");
    amount = json_object_get(q->body, "amount");
    if (!package == !(amount && !json_is_null(amount)))
        return tz_send_invalid(r, "package_id", "give either package_id or amount, not both");
    if (package && read_package(q, package, &np, &bonus) != OK)
        return OK;
    if (!package) {
        np.amount = json_integer_value(amount);
        np.currency = tz_json_str(q->body, "currency");
        np.currency = np.currency ? np.currency : q->cfg->default_currency;
    }
    if (tz_payment_amount_ok(q, np.amount, np.currency) != OK ||
        tz_payment_provider_ok(q, &np.pv, &np.phone) != OK ||
        tz_idem_begin(q, "/wallets/me/topup", &key, NULL) != OK ||
        tz_velocity_check(q, &key, tz_vel_fan_user(r->pool, q->user.id), NULL, np.phone) != OK)
        return OK;
    args[0] = np.id;
    args[1] = q->user.id;
    args[2] = package;
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)np.amount);
    args[4] = np.currency;
    args[5] = bonus;
    args[6] = np.pv->name;
    args[7] = apr_itoa(r->pool, q->cfg->topup_fee_bps);
    args[8] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->payment_expiry);
    args[10] = key.key;
    args[11] = np.phone;
    args[12] = tz_payment_poll_in(q, np.pv);
    args[13] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->referral_bonus);
    args[14] = q->cfg->invoice_issuer;
    return tz_payment_through_provider(q, &np, TZ_Q_TOPUP_CREATE, args, 9, &key, topup_refused);
}
