/* /wallets: a user's (any role's) balances per currency and its ledger lines. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "tz_validate.h"

/* ?currency= must be one of TipzedCurrencies; absent means the default. */
static const char *wallet_currency(tz_req_t *q, int *ok)
{
    const char *c = tz_query_arg(q->r, "currency");
    *ok = !c || tz_cfg_currency_ok(q->cfg, c);
    return c ? c : q->cfg->default_currency;
}

static int bad_currency(tz_req_t *q)
{
    return tz_send_field_problem(q->r, HTTP_UNPROCESSABLE_ENTITY, "validation_failed",
                                 "currency", "is not an accepted currency");
}

int tz_h_wallet(tz_req_t *q)
{
    int ok, rc;
    json_t *out;
    const char *args[2] = {q->user.id, wallet_currency(q, &ok)};
    if (!ok)
        return bad_currency(q);
    if ((rc = tz_db_json(q->r, TZ_Q_WALLET, args, &out)) != OK || !out)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK, out);
}

int tz_h_wallet_transactions(tz_req_t *q)
{
    int ok;
    json_t *out;
    const char *args[4] = {q->user.id, wallet_currency(q, &ok), NULL, NULL};
    if (!ok)
        return bad_currency(q);
    if (tz_page_or_422(q, &args[2], &args[3]) != OK)
        return OK;
    if (tz_db_json(q->r, TZ_Q_WALLET_TRANSACTIONS, args, &out) != OK || !out)
        return tz_send_db_unavailable(q->r);
    return tz_send_json(q->r, HTTP_OK, out);
}
