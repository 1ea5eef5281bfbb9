/* Operator controls and privacy (mod_tipzed_operator.c): what every money
 * handler needs to answer a movement refused because of an account's
 * status or a frozen wallet (docs/accounts.md). */
#ifndef MOD_TIPZED_OPERATOR_H
#define MOD_TIPZED_OPERATOR_H
#include "mod_tipzed.h"

/* Whether err (a SQL function's "error") is one of the refusals of
 * tz_ops_refusal() in SQL: account_suspended, account_closed,
 * wallet_frozen, creator_suspended, creator_closed, recipient_suspended,
 * recipient_closed. */
int tz_is_refusal(const char *err);
/* Sends that refusal's problem (403 for the caller's own account, 409
 * otherwise); OK. */
int tz_send_refusal(request_rec *r, const char *err);

#endif
