/* Two-factor authentication (TOTP) in the request path: the login's second
 * step, enrolment, and the fresh code a payout needs (docs/accounts.md). */
#ifndef MOD_TIPZED_TOTP_H
#define MOD_TIPZED_TOTP_H
#include "mod_tipzed.h"

/* Answers a right password of a user with two-factor on: 200
 * {mfa_required, mfa_token, methods, expires_in}. */
int tz_totp_challenge(tz_req_t *q, const char *user_id);

/* For a money-moving request by q->user: OK when the user has no TOTP or
 * code is a fresh right code (its step is then used up); otherwise the
 * 403 problem (totp_required / totp_invalid, field totp_code) or 503 has
 * been sent and DONE is returned. */
int tz_totp_require(tz_req_t *q, const char *code);

#endif
