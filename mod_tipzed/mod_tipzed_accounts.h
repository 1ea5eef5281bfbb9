/* Accounts by email (docs/accounts.md): what other handlers use of it. */
#ifndef MOD_TIPZED_ACCOUNTS_H
#define MOD_TIPZED_ACCOUNTS_H
#include "mod_tipzed.h"

/* Queues the verification mail of user id (after registration).  OK, or
 * an error logged (the user can ask for the mail again). */
int tz_accounts_send_verification(tz_req_t *q, const char *user_id);

/* 403 email_unverified: payouts and webhook endpoints need a verified
 * address. */
int tz_send_email_unverified(request_rec *r);

#endif
