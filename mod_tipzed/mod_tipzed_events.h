/* Provider events applied to payments: payment outcomes, refunds and
 * disputes, each one SQL call recorded under the event's id, from a
 * webhook or from the watchdog's status polling. */
#ifndef MOD_TIPZED_EVENTS_H
#define MOD_TIPZED_EVENTS_H
#include "mod_tipzed.h"

/* Applies ev (verified) for provider; *res is the SQL function's answer
 * ({outcome, status, creator_id, ...}).  r may be NULL outside requests.
 * OK, or the database's failure status. */
int tz_event_record(apr_pool_t *p, server_rec *s, request_rec *r, const char *provider,
                    const tz_event_t *ev, json_t **res);
/* The same for a webhook, and its answer sent: 200, 404 for an unknown
 * payment, 503 when the database could not record it (delivered again). */
int tz_apply_event(tz_req_t *q, const char *provider, const tz_event_t *ev);

#endif
