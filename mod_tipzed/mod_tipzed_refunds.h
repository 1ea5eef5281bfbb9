/* Refunds through the provider: asking, and recording its word (from the
 * admin's request and from the watchdog's retries). */
#ifndef MOD_TIPZED_REFUNDS_H
#define MOD_TIPZED_REFUNDS_H
#include "mod_tipzed.h"

/* The provider's word on one refund call. */
typedef struct {
    const char *status;              /* succeeded | pending | failed | unknown */
    const char *provider_refund_id;  /* or NULL */
    const char *reason;              /* the provider's words on a refusal, or NULL */
} tz_refund_word_t;

/* Asks pv to make refund rq (tz_refund_verdict decides what the answer
 * means). */
void tz_refund_ask(apr_pool_t *p, server_rec *s, const tz_cfg_t *c, const tz_provider_t *pv,
                   const tz_refund_req_t *rq, tz_refund_word_t *w);

#endif
