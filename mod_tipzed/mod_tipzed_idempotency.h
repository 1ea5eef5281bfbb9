/* X-Idempotency-Key on money-moving POSTs: claim, replay, store. */
#ifndef MOD_TIPZED_IDEMPOTENCY_H
#define MOD_TIPZED_IDEMPOTENCY_H
#include "mod_tipzed.h"

typedef struct {
    const char *key;
} tz_idem_key_t;

/* OK when this request owns the key; DONE when it was already answered
 * (replay, 400, 409, 422). */
int tz_idem_begin(tz_req_t *q, const char *route, tz_idem_key_t *k);
/* Stores the response under the key and sends it. */
int tz_idem_respond(tz_req_t *q, tz_idem_key_t *k, int status, json_t *body);
/* Releases the key of a request that failed before moving money. */
void tz_idem_release(tz_req_t *q, tz_idem_key_t *k);

#endif
