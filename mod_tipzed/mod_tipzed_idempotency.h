/* X-Idempotency-Key on money-moving POSTs: claim, replay, store. */
#ifndef MOD_TIPZED_IDEMPOTENCY_H
#define MOD_TIPZED_IDEMPOTENCY_H
#include "mod_tipzed.h"

typedef struct {
    const char *key;
} tz_idem_key_t;

/* What a route does to its answer before sending it (e.g. masking a bank
 * account); applied to a replayed answer too.  NULL: nothing. */
typedef void (*tz_idem_fix_fn)(tz_req_t *q, json_t *answer);

/* OK when this request owns the key: the SQL function that moves the money
 * stores the answer under k->key in its own transaction.  DONE when the
 * request was already answered (replay through fix, 400, 409, 422). */
int tz_idem_begin(tz_req_t *q, const char *route, tz_idem_key_t *k, tz_idem_fix_fn fix);
/* Releases the key of a request that failed before moving money. */
void tz_idem_release(tz_req_t *q, tz_idem_key_t *k);

#endif
