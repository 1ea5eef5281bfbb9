/* Calls to billers, shared by the bill-payment handlers and the watchdog. */
#ifndef MOD_TIPZED_BILLS_H
#define MOD_TIPZED_BILLS_H
#include "mod_tipzed.h"
#include "tz_http_client.h"

/* POST <base_url>/<op> with body, signed with TipzedBillerSecretFile's
 * secret, with the provider timeouts.  0 when an HTTP answer came; -1 on
 * transport failure, timeout or when no secret is configured. */
int tz_biller_call(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const char *base_url,
                   const char *op, const char *body, tz_http_resp_t *resp);
/* Seconds before an undecided payment is first asked about again. */
apr_int64_t tz_bill_check_base(const tz_cfg_t *c);

#endif
