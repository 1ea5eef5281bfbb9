/* Velocity limits on payments (docs/risk.md): the check before a payment
 * is made, and the operators' list of offenders. */
#ifndef MOD_TIPZED_VELOCITY_H
#define MOD_TIPZED_VELOCITY_H
#include "mod_tipzed.h"
#include "mod_tipzed_idempotency.h"

/* Counts one payment against every TipzedPaymentVelocity rule that has a
 * value for it: fan (tz_vel_fan_user/tz_vel_fan_email), the client
 * address, creator (NULL for a top-up) and msisdn (the payer's digits, or
 * NULL; any phone number given, normalised here).  Called once the
 * idempotency key is claimed, so a replayed answer is not counted again.
 * OK when counted (or no rule applies); DONE when a limit is reached: the
 * key released, 429 sent with Retry-After, counted in the metrics,
 * recorded for the offenders' list once per key and window. */
int tz_velocity_check(tz_req_t *q, tz_idem_key_t *key, const char *fan, const char *creator,
                      const char *phone);

#endif
