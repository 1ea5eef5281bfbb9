/* /wallets: a user's (any role's) balances per currency and its ledger lines. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"
#include "mod_tipzed_list.h"
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

/* The export's columns: the lines as the statement shows them. */
static const char *const line_cols[] = {"id", "created_at", "type", "account", "amount",
                                        "balance_after", "status", "payment_id", "payout_id",
                                        "bill_payment_id", "gross", "fee"};

int tz_h_wallet_transactions(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_WALLET_TRANSACTIONS, "wallet-transactions",
                                   TZ_CURSOR_UUID, line_cols, 12, NULL, NULL};
    int ok;
    const char *args[5] = {q->user.id, wallet_currency(q, &ok), NULL, NULL, NULL};
    if (!ok)
        return bad_currency(q);
    return tz_list(q, &list, args, 5);
}

static const char *const wallet_cols[] = {"id", "owner_id", "email", "role", "kind", "currency",
                                          "balance", "created_at", "frozen"};

/* GET /admin/wallets?currency&role&q: every user's wallet and cashback
 * account, newest first (q: an email prefix, any case). */
int tz_h_admin_wallets(tz_req_t *q)
{
    static const tz_list_t list = {TZ_Q_ADMIN_WALLETS, "wallets", TZ_CURSOR_INT, wallet_cols, 9,
                                   NULL, NULL};
    const char *args[6] = {tz_query_arg(q->r, "currency"), tz_query_arg(q->r, "role"),
                           tz_query_arg(q->r, "q"), NULL, NULL, NULL};
    if (args[0] && !tz_cfg_currency_ok(q->cfg, args[0]))
        return bad_currency(q);
    if (args[1] && strcmp(args[1], "fan") && strcmp(args[1], "creator") && strcmp(args[1], "admin"))
        return tz_send_invalid(q->r, "role", "must be fan, creator or admin");
    if (args[2] && (!*args[2] || strlen(args[2]) > 254))
        return tz_send_invalid(q->r, "q", "must be 1 to 254 characters");
    return tz_list(q, &list, args, 6);
}
