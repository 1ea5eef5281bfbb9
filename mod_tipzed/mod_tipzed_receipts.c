/* GET /receipts/{hash}: what the ledger entry with this hash proves, for
 * anyone holding the hash (a fan keeps it as the receipt of a tip).  No
 * token: the answer names the creators credited and the amount, never the
 * payer (sql/functions/32_chain.sql, tz_api_receipt; docs/receipts.md).
 * The router admits only 64 hex digits, lower-cased, so any other {hash}
 * is a 404 like a malformed {id}; a hash no entry has is a 404 too. */
#include "mod_tipzed_handlers.h"
#include "mod_tipzed_db.h"
#include "mod_tipzed_http.h"

int tz_h_receipt(tz_req_t *q)
{
    const char *args[1] = {q->id};
    json_t *res;
    if (tz_db_json(q->r, TZ_Q_RECEIPT, args, &res) != OK)
        return tz_send_db_unavailable(q->r);
    if (!res)
        return tz_send_problem(q->r, HTTP_NOT_FOUND, "not_found",
                               "no entry of the ledger has this hash");
    return tz_send_json(q->r, HTTP_OK, res);
}
