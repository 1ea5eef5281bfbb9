/* /payouts and the payout lifecycle shared with /admin/payouts.  Bank
 * details are sealed like the profile's and shown masked to the last 4. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_accounts.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_totp.h"
#include "mod_tipzed_operator.h"
#include "mod_tipzed_list.h"
#include "mod_tipzed_idempotency.h"
#include "mod_tipzed_payouts.h"
#include "tz_problem.h"
#include "tz_schema.h"
#include "tz_validate.h"

/* Replaces "bank_account_enc" with "****1234" (memory from p). */
static void mask_bank_in(tz_req_t *q, apr_pool_t *p, json_t *payout)
{
    const char *sealed = tz_json_str(payout, "bank_account_enc");
    char *plain = NULL;
    apr_size_t len = 0;
    const char *shown = NULL;
    tz_cfg_t *c = q->cfg;
    if (sealed && tz_aead_open(p, (const tz_aead_key_t *)c->enc_keys->elts,
                               (size_t)c->enc_keys->nelts, tz_json_str(payout, "creator_id"),
                               sealed, &plain, &len) == 0)
        shown = apr_pstrcat(p, "****", len > 4 ? plain + len - 4 : plain, NULL);
    json_object_del(payout, "bank_account_enc");
    json_object_set_new(payout, "bank_account", shown ? json_string(shown) : json_null());
}

static void mask_bank(tz_req_t *q, json_t *payout)
{
    mask_bank_in(q, q->r->pool, payout);
}

static void mask_page(tz_req_t *q, apr_pool_t *p, json_t *page)
{
    size_t i;
    json_t *o;
    json_array_foreach(json_object_get(page, "data"), i, o)
        mask_bank_in(q, p, o);
}

/* TipzedFirstPayoutDelay: 403, since no retry helps before the date the
 * problem names (opens_at); docs/risk.md. */
static int payout_delayed(tz_req_t *q, json_t *res)
{
    const char *opens = tz_json_str(res, "opens_at");
    json_t *p = tz_problem_new(q->r->pool, HTTP_FORBIDDEN, "first_payout_delayed",
                               apr_pstrcat(q->r->pool, "a creator's first payout may be requested"
                                           " from ", opens, NULL), NULL);
    json_object_set_new(p, "opens_at", json_string(opens));
    return tz_send_problem_json(q->r, HTTP_FORBIDDEN, p);
}

static int request_failed(tz_req_t *q, const char *err)
{
    if (strcmp(err, "email_unverified") == 0)
        return tz_send_email_unverified(q->r);
    if (tz_is_refusal(err))
        return tz_send_refusal(q->r, err);
    if (strcmp(err, "insufficient_funds") == 0)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "insufficient_funds",
                                     "amount", "exceeds the wallet balance");
    if (strcmp(err, "below_minimum") == 0)
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "below_minimum", "amount",
            apr_psprintf(q->r->pool, "must be at least %" APR_INT64_T_FMT, q->cfg->min_payout));
    return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                 "bank_account", "is required: none in the request or the profile");
}

int tz_h_payout_request(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *cur, *bank, *args[9], *err;
    tz_idem_key_t key;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_payout_request))
        return OK;
    cur = tz_json_str(q->body, "currency");
    bank = tz_json_str(q->body, "bank_account");
    if (cur && !tz_cfg_currency_ok(q->cfg, cur))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed", "currency",
                                     "is not an accepted currency");
    if (bank && !tz_bank_account_ok(bank))
        return tz_send_field_problem(r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     "bank_account", "may hold only letters, digits, spaces and dashes");
    if (tz_idem_begin(q, "/payouts/request", &key, mask_bank) != OK)
        return OK;
    /* after the idempotency check: a retry is answered what the first
     * request got, without spending another code */
    if (tz_totp_require(q, tz_json_str(q->body, "totp_code")) != OK) {
        tz_idem_release(q, &key);
        return OK;
    }
    args[0] = tz_uuid4(r->pool);
    args[1] = q->user.id;
    args[2] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, (apr_int64_t)tz_json_int(q->body, "amount", 0));
    args[3] = cur ? cur : q->cfg->default_currency;
    args[4] = bank ? tz_aead_seal(r->pool, (const tz_aead_key_t *)q->cfg->enc_keys->elts, q->user.id,
                                  bank, strlen(bank)) : NULL;
    args[5] = tz_json_str(q->body, "account_name");
    args[6] = apr_psprintf(r->pool, "%" APR_INT64_T_FMT, q->cfg->min_payout);
    args[7] = key.key;
    args[8] = apr_itoa(r->pool, q->cfg->first_payout_delay);
    if (tz_db_json(r, TZ_Q_PAYOUT_REQUEST, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(res, "error"))) {
        tz_idem_release(q, &key);
        if (strcmp(err, "first_payout_delayed") == 0)
            return payout_delayed(q, res);
        return request_failed(q, err);
    }
    mask_bank(q, res);
    return tz_send_json(r, HTTP_CREATED, res);
}

static const char *const payout_cols[] = {"id", "created_at", "status", "creator_id", "amount",
                                          "currency", "bank_account", "account_name", "note",
                                          "reason", "provider_reference"};

int tz_payouts_list(tz_req_t *q, const char **args)
{
    static const tz_list_t list = {TZ_Q_PAYOUTS_LIST, "payouts", TZ_CURSOR_UUID, payout_cols, 11,
                                   mask_page, NULL};
    return tz_list(q, &list, args, 5);
}

int tz_h_payouts_me(tz_req_t *q)
{
    const char *args[5] = {q->user.id, NULL, NULL, NULL, NULL};
    return tz_payouts_list(q, args);
}

int tz_payout_step(tz_req_t *q, const char *action, const char *text)
{
    request_rec *r = q->r;
    const char *args[6] = {q->id, action, q->user.id, q->user.role, text, q->request_id}, *err;
    json_t *res;
    if (tz_db_json(r, TZ_Q_PAYOUT_ACTION, args, &res) != OK || !res)
        return tz_send_db_unavailable(r);
    if ((err = tz_json_str(res, "error"))) {
        if (strcmp(err, "not_found") == 0)
            return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such payout");
        if (tz_is_refusal(err))
            return tz_send_refusal(r, err);
        return tz_send_problem(r, HTTP_CONFLICT, "invalid_transition",
                               apr_psprintf(r->pool, "cannot %s a payout that is %s", action,
                                            tz_json_str(res, "status")));
    }
    mask_bank(q, res);
    return tz_send_json(r, HTTP_OK, res);
}

int tz_h_payout_cancel(tz_req_t *q)
{
    if (q->body && json_object_size(q->body))
        return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                     json_object_iter_key(json_object_iter(q->body)),
                                     "is not a known field");
    return tz_payout_step(q, "cancel", NULL);
}
