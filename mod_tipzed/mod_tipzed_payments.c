/* /payments: initiation (idempotent), reading (payer, recipient, admin),
 * and an admin's way out of review.  Refunds: mod_tipzed_refunds.c. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_cache.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_payments.h"
#include "mod_tipzed_providers.h"
#include "mod_tipzed_velocity.h"
#include "tz_velocity.h"
#include "mod_tipzed_ratelimit.h"
#include "tz_parse.h"
#include "tz_schema.h"
#include "tz_split.h"
#include "tz_tax.h"
#include "tz_validate.h"

int64_t tz_payment_with_tax(const tz_cfg_t *c, int64_t price)
{
    int64_t amount, tax;
    return tz_tax_apply(price, c->tax_bps, c->tax_inclusive, &amount, &tax) ? price : amount;
}

int tz_payment_amount_ok(tz_req_t *q, int64_t amount, const char *currency)
{
    tz_cfg_t *c = q->cfg;
    if (amount < c->min_payment || amount > c->max_payment)
        return tz_send_invalid(q->r, "amount", apr_psprintf(q->r->pool, "must be between %" APR_INT64_T_FMT
                       " and %" APR_INT64_T_FMT, c->min_payment, c->max_payment)), DONE;
    if (!tz_cfg_currency_ok(c, currency))
        return tz_send_invalid(q->r, "currency", "is not an accepted currency"), DONE;
    return OK;
}

int tz_payment_provider_ok(tz_req_t *q, const tz_provider_t **provider, const char **phone)
{
    const char *given = tz_json_str(q->body, "phone_number");
    if (given && strspn(given, "+0123456789") != strlen(given))
        return tz_send_invalid(q->r, "phone_number", "must hold only digits and a leading +"), DONE;
    if (!(*provider = tz_provider_choose(q->cfg, tz_json_str(q->body, "provider"))))
        return tz_send_invalid(q->r, "provider", "is not enabled on this server"), DONE;
    /* an MSISDN's digits for providers that push the payment to the phone */
    *phone = (*provider)->needs_msisdn ? tz_msisdn_normalize(q->r->pool, given) : given;
    if ((*provider)->needs_msisdn && !*phone)
        return tz_send_invalid(q->r, "phone_number", apr_pstrcat(q->r->pool, "is required by ",
                       (*provider)->name, ": the payer's mobile number in international form, "
                       "10 to 15 digits (e.g. 260971234567)", NULL)), DONE;
    return OK;
}

/* What the provider's checkout is created for.  pay is the stored payment
 * (with the payer's email and the recipient's name) or NULL before it is
 * stored, when only a redirect gateway's link is built. */
static tz_checkout_req_t checkout_req(tz_req_t *q, const tz_new_payment_t *np, json_t *pay)
{
    request_rec *r = q->r;
    tz_checkout_req_t cr = tz_checkout_urls(r->pool, q->cfg, np->pv, tz_api_url(r), np->id);
    cr.amount = np->topup ? np->amount : tz_payment_with_tax(q->cfg, np->amount);
    cr.currency = np->currency;
    cr.phone_number = np->phone;
    if (pay) {
        cr.description = np->topup ? "Wallet top-up"
                         : apr_pstrcat(r->pool, "Tip for ", tz_json_str(pay, "_creator_name"), NULL);
        cr.customer_email = tz_json_str(pay, "_fan_email");
    }
    return cr;
}

/* API checkouts: create the checkout now and store its URL; when the
 * provider fails the payment is marked failed and NULL is returned. */
static json_t *with_provider_checkout(tz_req_t *q, const tz_new_payment_t *np, json_t *pay,
                                      const char *key)
{
    const char *args[5], *url, *ref;
    tz_checkout_req_t cr = checkout_req(q, np, pay);
    json_t *out;
    url = tz_provider_checkout(q->r->pool, q->r->server, q->cfg, np->pv, &cr, &ref);
    args[0] = np->id;
    args[1] = url && *url ? url : NULL; /* "": confirmed on the payer's phone, no link */
    args[2] = url ? "false" : "true";
    args[3] = key;
    args[4] = ref;
    if (tz_db_json(q->r, TZ_Q_PAYMENT_CHECKOUT, args, &out) != OK || !out || !url)
        return NULL;
    return out;
}

int tz_payment_through_provider(tz_req_t *q, const tz_new_payment_t *np, tz_query_e create,
                                const char **args, int url_slot, tz_idem_key_t *key,
                                tz_refused_fn refused)
{
    request_rec *r = q->r;
    tz_checkout_req_t cr = checkout_req(q, np, NULL);
    const char *ref;
    json_t *res;
    /* a redirect gateway's link is stored with the payment, in one call */
    args[url_slot] = np->pv->checkout_link ? tz_provider_checkout(r->pool, r->server, q->cfg, np->pv,
                                                                   &cr, &ref) : NULL;
    if (tz_db_json(r, create, args, &res) != OK || !res) {
        tz_idem_release(q, key);
        return tz_send_db_unavailable(r);
    }
    if (json_object_get(res, "error")) {
        tz_idem_release(q, key);
        if (tz_is_refusal(tz_json_str(res, "error")))
            return tz_send_refusal(r, tz_json_str(res, "error"));
        return refused(q, res);
    }
    if (!np->pv->checkout_link && !(res = with_provider_checkout(q, np, res, key->key))) {
        tz_idem_release(q, key);
        return tz_send_problem(r, HTTP_BAD_GATEWAY, "provider_unavailable",
                               "the payment provider failed; the payment is marked failed");
    }
    json_object_del(res, "_fan_email");
    json_object_del(res, "_creator_name");
    return tz_send_json(r, HTTP_CREATED, res);
}

const char *tz_payment_poll_in(tz_req_t *q, const tz_provider_t *pv)
{
    /* a provider that can be asked about the payment is, if no webhook came */
    return pv->status && q->cfg->status_poll > 0
               ? apr_psprintf(q->r->pool, "%" APR_INT64_T_FMT, q->cfg->status_poll) : NULL;
}

/* What tz_api_payment_create refused: the creator, or the splits. */
static int tip_refused(tz_req_t *q, json_t *res)
{
    if (strcmp(tz_json_str(res, "error"), "invalid_splits") == 0)
        return tz_send_invalid(q->r, "splits", tz_json_str(res, "message"));
    return tz_send_invalid(q->r, "creator_id", "is not a creator");
}

/* The body's splits (tz_split.h) onto np, or DONE with a 422 sent. */
static int splits_of(tz_req_t *q, tz_new_payment_t *np)
{
    tz_split_t s[TZ_SPLIT_MAX];
    size_t n;
    const char *why = tz_split_parse(q->r->pool, json_object_get(q->body, "splits"),
                                     tz_json_str(q->body, "creator_id"), s, &n);
    if (why)
        return tz_send_invalid(q->r, "splits", why), DONE;
    np->splits = tz_split_json(q->r->pool, s, n);
    return OK;
}

/* The payment's source: provider (the default), wallet or wallet_first. */
int tz_payment_source_ok(tz_req_t *q, const char *given, const char **source)
{
    *source = given ? given : "provider";
    if (strcmp(*source, "provider") && strcmp(*source, "wallet") && strcmp(*source, "wallet_first"))
        return tz_send_invalid(q->r, "source", "must be \"provider\", \"wallet\" or \"wallet_first\""), DONE;
    return OK;
}

/* A tip through a provider's checkout. */
static int initiate_with_provider(tz_req_t *q, tz_new_payment_t *np, tz_idem_key_t *key)
{
    request_rec *r = q->r;
    const char *args[20];
    args[0] = np->id;
    args[1] = q->user.id;
    args[2] = tz_json_str(q->body, "creator_id");
    args[3] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)np->amount);
    args[4] = np->currency;
    args[5] = tz_json_str(q->body, "message");
    args[6] = np->pv->name;
    args[7] = apr_itoa(r->pool, q->cfg->fee_bps);
    args[8] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->payment_expiry);
    args[10] = key->key;
    args[11] = np->phone;
    args[12] = tz_payment_poll_in(q, np->pv);
    tz_payment_rewards(q, &args[13]);
    if (!strcmp(q->user.role, "guest"))
        args[13] = "0"; /* no cashback: a guest has no wallet of its own (docs/accounts.md) */
    args[16] = np->splits;
    args[17] = q->cfg->tax_json;
    tz_payment_reserve(q, &args[18]);
    return tz_payment_through_provider(q, np, TZ_Q_PAYMENT_CREATE, args, 9, key, tip_refused);
}

/* The payer as the fan limit keys it: the account, or a guest's email. */
static const char *velocity_fan(tz_req_t *q)
{
    return q->user.id ? tz_vel_fan_user(q->r->pool, q->user.id)
                      : tz_vel_fan_email(q->r->pool, tz_json_str(q->body, "email"));
}

/* A tip without a token (docs/accounts.md): its email and name, counted
 * per client IP (TipzedGuestRateLimit); the payer is the guest row of the
 * address, whose id also scopes the idempotency key.  OK, or DONE with
 * the answer sent. */
static int guest_payer(tz_req_t *q, const char *source)
{
    request_rec *r = q->r;
    const char *args[2] = {tz_json_str(q->body, "email"), tz_json_str(q->body, "name")};
    const char *key = apr_pstrcat(r->pool, "guest-ip:", tz_client_ip(r), NULL);
    apr_int64_t wait;
    json_t *res;
    if (!args[0])
        return tz_send_invalid(r, "email", "is required to tip without an access token"), DONE;
    if (!tz_email_ok(args[0]))
        return tz_send_invalid(r, "email", "is not a valid email address"), DONE;
    if (strcmp(source, "provider") != 0)
        return tz_send_invalid(r, "source", "must be \"provider\" for a guest: "
                                            "a guest has no wallet"), DONE;
    if ((wait = tz_rl_begin(r, &key, 1, (unsigned)q->cfg->guest_rl_count,
                            q->cfg->guest_rl_window))) {
        apr_table_setn(r->err_headers_out, "Retry-After",
                       apr_psprintf(r->pool, "%" APR_INT64_T_FMT, wait));
        return tz_send_problem(r, HTTP_TOO_MANY_REQUESTS, "too_many_requests",
                               "too many guest tips from this address; retry later"), DONE;
    }
    if (tz_db_json(r, TZ_Q_GUEST_FAN, args, &res) != OK || !res ||
        !(q->user.id = tz_json_str(res, "id")))
        return tz_send_db_unavailable(r), DONE;
    q->user.role = "guest";
    return OK;
}

/* With a token, the fan's own; email and name are a guest's only. */
static int payer_ok(tz_req_t *q, const char *source)
{
    if (!q->user.id)
        return guest_payer(q, source);
    if (json_object_get(q->body, "email") || json_object_get(q->body, "name"))
        return tz_send_invalid(q->r, json_object_get(q->body, "email") ? "email" : "name",
                               "is for tips without an access token only"), DONE;
    return OK;
}

int tz_h_payment_initiate(tz_req_t *q)
{
    tz_new_payment_t np = {tz_uuid4(q->r->pool), tz_json_int(q->body, "amount", 0),
                           tz_json_str(q->body, "currency"), NULL, NULL, 0, NULL};
    const char *source;
    tz_idem_key_t key;
    int rc;
    if (tz_validate_or_422(q, &tz_schema_initiate) ||
        tz_payment_source_ok(q, tz_json_str(q->body, "source"), &source) != OK)
        return OK;
    if (!tz_is_uuid(tz_json_str(q->body, "creator_id")))
        return tz_send_invalid(q->r, "creator_id", "must be a UUID");
    if (splits_of(q, &np) != OK || tz_payment_amount_ok(q, np.amount, np.currency) != OK ||
        payer_ok(q, source) != OK ||
        (strcmp(source, "wallet") && tz_payment_provider_ok(q, &np.pv, &np.phone) != OK) ||
        tz_idem_begin(q, "/payments/initiate", &key, NULL) != OK)
        return OK;
    /* a payment that may reach a provider is counted: one from the wallet
     * alone moves money already paid in (docs/risk.md) */
    if (strcmp(source, "wallet") != 0 &&
        tz_velocity_check(q, &key, velocity_fan(q), tz_json_str(q->body, "creator_id"),
                          np.phone) != OK)
        return OK;
    if (strcmp(source, "provider") != 0) {
        rc = tz_payment_from_wallet(q, &np, &key, strcmp(source, "wallet_first") == 0);
        if (rc != DECLINED)
            return rc;
    }
    return initiate_with_provider(q, &np, &key);
}

int tz_h_payment_get(tz_req_t *q)
{
    json_t *out;
    const char *args[3] = {q->id, q->user.id, q->user.role};
    int rc = tz_db_json(q->r, TZ_Q_PAYMENT_GET, args, &out);
    if (rc != OK)
        return tz_send_db_unavailable(q->r);
    if (!out)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such payment");
    return tz_send_json(q->r, HTTP_OK, out);
}

const char *const tz_payment_cols[TZ_PAYMENT_NCOLS] = {
    "id", "created_at", "status", "purpose", "fan_id", "creator_id", "amount", "fee", "net",
    "tax", "currency", "provider", "provider_transaction_id", "refunded_amount",
    "disputed_amount", "message"};

int tz_h_payments_list(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_PAYMENTS_LIST, "payments", TZ_CURSOR_UUID,
                                   tz_payment_cols, TZ_PAYMENT_NCOLS, NULL, NULL};
    const char *args[4] = {q->user.id, NULL, NULL, NULL};
    return tz_list(q, &list, args, 4);
}

/* 404, or 409 naming what stands in the way. */
static int payment_refused(tz_req_t *q, json_t *res, const char *verb, const char *state)
{
    const char *err = tz_json_str(res, "error");
    if (strcmp(err, "not_found") == 0)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found", "no such payment");
    return tz_send_problem(q->r, HTTP_CONFLICT, "not_in_review",
                           apr_psprintf(q->r->pool, "the payment is %s; only %s payments can be %s",
                                        tz_json_str(res, "status"), state, verb));
}

/* One admin action on a payment: the SQL function moves the money, writes
 * the audit row and stores the answer under the key, in one transaction. */
static int admin_payment_action(tz_req_t *q, tz_query_e query, const char **args,
                                tz_idem_key_t *key, const char *verb, const char *state)
{
    json_t *res;
    if (tz_db_json(q->r, query, args, &res) != OK || !res) {
        tz_idem_release(q, key);
        return tz_send_db_unavailable(q->r);
    }
    if (tz_json_str(res, "error")) {
        tz_idem_release(q, key);
        return payment_refused(q, res, verb, state);
    }
    tz_cache_forget_payment(q, res); /* earnings changed */
    return tz_send_json(q->r, HTTP_OK, res);
}

/* POST /admin/payments/{id}/resolve {action: credit|fail, reason}: the way
 * out of review, decided by an admin. */
int tz_h_payment_resolve(tz_req_t *q)
{
    request_rec *r = q->r;
    tz_idem_key_t key;
    const char *action, *args[6];
    if (tz_validate_or_422(q, &tz_schema_resolve))
        return OK;
    action = tz_json_str(q->body, "action");
    if (strcmp(action, "credit") != 0 && strcmp(action, "fail") != 0)
        return tz_send_invalid(r, "action", "must be \"credit\" or \"fail\"");
    if (tz_idem_begin(q, apr_pstrcat(r->pool, "/admin/payments/", q->id, "/resolve", NULL), &key,
                      NULL) != OK)
        return OK;
    args[0] = q->id;
    args[1] = action;
    args[2] = tz_json_str(q->body, "reason");
    args[3] = q->user.id;
    args[4] = q->request_id;
    args[5] = key.key;
    return admin_payment_action(q, TZ_Q_PAYMENT_RESOLVE, args, &key, "resolved", "in review");
}
