/* The payout lifecycle, shared by /payouts (creators) and /admin/payouts. */
#ifndef MOD_TIPZED_PAYOUTS_H
#define MOD_TIPZED_PAYOUTS_H
#include "mod_tipzed.h"

/* The payouts list for args {creator or NULL, status or NULL, and three
 * slots for tz_list: limit, offset, starting_after}. */
int tz_payouts_list(tz_req_t *q, const char **args);
/* One lifecycle step for the caller; text is the note, reason or provider
 * reference that goes with it. */
int tz_payout_step(tz_req_t *q, const char *action, const char *text);

#endif
