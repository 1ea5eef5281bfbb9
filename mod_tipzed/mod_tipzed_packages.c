/* /packages and /admin/packages: the credit-package catalogue of fan
 * wallets.  Paying a package's amount credits the wallet with credit (the
 * amount) plus the bonus.  Anyone reads the active packages; admins add
 * packages and change them (a package is never deleted, only deactivated).
 * Every change is audited in the transaction that makes it
 * (sql/functions/66_packages.sql). */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_idempotency.h"
#include "tz_schema.h"

static const char *int_arg(request_rec *r, json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return json_is_integer(v) ? apr_psprintf(r->pool, "%" APR_INT64_T_FMT,
                                             (apr_int64_t)json_integer_value(v)) : NULL;
}

static const char *bool_arg(json_t *body, const char *key)
{
    json_t *v = json_object_get(body, key);
    return json_is_boolean(v) ? (json_is_true(v) ? "true" : "false") : NULL;
}

/* The bounds beyond the field types: an amount within the payment bounds,
 * a bonus of at most the amount (when both are known here).  422 naming
 * the field and DONE, or OK. */
static int check_figures(tz_req_t *q)
{
    json_t *amount = json_object_get(q->body, "amount"), *bonus = json_object_get(q->body, "bonus");
    int64_t a = (int64_t)json_integer_value(amount);
    if (amount && (a < q->cfg->min_payment || a > q->cfg->max_payment))
        return tz_send_invalid(q->r, "amount", apr_psprintf(q->r->pool, "must be between %" APR_INT64_T_FMT
                       " and %" APR_INT64_T_FMT, q->cfg->min_payment, q->cfg->max_payment)), DONE;
    if (amount && bonus && json_integer_value(bonus) > a)
        return tz_send_invalid(q->r, "bonus", "must be at most the amount"), DONE;
    return OK;
}

static int send_exists(request_rec *r)
{
    return tz_send_problem(r, HTTP_CONFLICT, "package_exists",
                           "an active package of this name and currency exists");
}

/* The catalogue shows what can be bought here: packages in the currency
 * asked for, else in every accepted currency (TipzedCurrencies, whose
 * codes are letters: safe in a SQL array literal). */
int tz_h_packages_list(tz_req_t *q)
{
    const char *cur = tz_query_arg(q->r, "currency"), *list;
    json_t *res;
    if (cur && !tz_cfg_currency_ok(q->cfg, cur))
        return tz_send_invalid(q->r, "currency", "is not an accepted currency");
    list = cur ? cur : apr_array_pstrcat(q->r->pool, q->cfg->currencies, ',');
    list = apr_pstrcat(q->r->pool, "{", list, "}", NULL);
    if (tz_db_json(q->r, TZ_Q_PACKAGES_LIST, &list, &res) != OK || !res)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK, res);
}

int tz_h_admin_package_create(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[9], *err;
    tz_idem_key_t key;
    json_t *res;
    if (tz_validate_or_422(q, &tz_schema_package) || check_figures(q) != OK)
        return OK;
    if (!tz_cfg_currency_ok(q->cfg, tz_json_str(q->body, "currency")))
        return tz_send_invalid(r, "currency", "is not an accepted currency");
    if (tz_idem_begin(q, "/admin/packages", &key, NULL) != OK)
        return OK;
    args[0] = tz_uuid4(r->pool);
    args[1] = tz_json_str(q->body, "name");
    args[2] = int_arg(r, q->body, "amount");
    args[3] = tz_json_str(q->body, "currency");
    args[4] = int_arg(r, q->body, "bonus");
    args[4] = args[4] ? args[4] : "0";
    args[5] = bool_arg(q->body, "active");
    args[5] = args[5] ? args[5] : "true";
    args[6] = q->user.id;
    args[7] = q->request_id;
    args[8] = key.key;
    if (tz_db_json(r, TZ_Q_PACKAGE_CREATE, args, &res) != OK || !res) {
        tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(res, "error"))) {
        tz_idem_release(q, &key);
        return send_exists(r);
    }
    return tz_send_json(r, HTTP_CREATED, res);
}

/* The package's own answer to a change its bonus would exceed its amount
 * by: names the bonus when the request changes it, else the amount. */
static int send_bonus_above(tz_req_t *q, json_t *res)
{
    if (json_object_get(q->body, "bonus"))
        return tz_send_invalid(q->r, "bonus", apr_psprintf(q->r->pool, "must be at most the amount (%"
                       APR_INT64_T_FMT ")", (apr_int64_t)tz_json_int(res, "amount", 0)));
    return tz_send_invalid(q->r, "amount", apr_psprintf(q->r->pool, "must be at least the package's bonus (%"
                   APR_INT64_T_FMT ")", (apr_int64_t)tz_json_int(res, "bonus", 0)));
}

/* An Idempotency-Key is optional here (a change can be sent again as it
 * is); with one, a retry replays the first answer. */
int tz_h_admin_package_update(tz_req_t *q)
{
    request_rec *r = q->r;
    const char *args[8], *err;
    tz_idem_key_t key = {NULL};
    int keyed = apr_table_get(r->headers_in, "X-Idempotency-Key") ||
                apr_table_get(r->headers_in, "Idempotency-Key");
    json_t *res;
    q->body = q->body ? q->body : tz_json_pool(r->pool, json_object());
    if (tz_validate_or_422(q, &tz_schema_package_patch) || check_figures(q) != OK)
        return OK;
    if (json_object_size(q->body) == 0)
        return tz_send_invalid(r, "body", "must name at least one of name, amount, bonus, active");
    if (keyed && tz_idem_begin(q, apr_pstrcat(r->pool, "/admin/packages/", q->id, NULL), &key,
                               NULL) != OK)
        return OK;
    args[0] = q->id;
    args[1] = tz_json_str(q->body, "name");
    args[2] = int_arg(r, q->body, "amount");
    args[3] = int_arg(r, q->body, "bonus");
    args[4] = bool_arg(q->body, "active");
    args[5] = q->user.id;
    args[6] = q->request_id;
    args[7] = key.key;
    if (tz_db_json(r, TZ_Q_PACKAGE_UPDATE, args, &res) != OK || !res) {
        if (keyed)
            tz_idem_release(q, &key);
        return tz_send_db_unavailable(r);
    }
    if ((err = tz_json_str(res, "error"))) {
        if (keyed)
            tz_idem_release(q, &key);
        if (strcmp(err, "not_found") == 0)
            return tz_send_problem(r, HTTP_NOT_FOUND, "not_found", "no such package");
        if (strcmp(err, "bonus_above_amount") == 0)
            return send_bonus_above(q, res);
        return send_exists(r);
    }
    return tz_send_json(r, HTTP_OK, res);
}
